/* How unlike the cameras a cell-type model learned a cell's picture looks (issue 27):
 * the crop's camera statistics (ss_camera_stats: the light, the stain's strength, the
 * plasma's colour) against those of cells from the model's own training sources, as the
 * distance to the K-th nearest of them, each statistic in units of its spread over them.
 * A camera the model never saw lies far from all of them whatever the cell's type. */
#pragma once

#include <glib.h>

#include "ss-engine.h"

G_BEGIN_DECLS

#define SS_CAMERA_CHECK_K 5

/* The mean and spread of each of n cells' camera statistics (n x SS_CAMERA_STATS); the
 * spread is at least 0.001, so that a statistic every cell shares counts a difference in
 * it as large, not infinite. The camera check and the lab head's gate measure in these
 * units. */
void ss_camera_stats_spread (const float *stats, int n, double *mean, double *sd);

typedef struct _SsCameraCheck SsCameraCheck;

/* From n known cells' statistics (n x SS_CAMERA_STATS, copied); NULL when n is under
 * SS_CAMERA_CHECK_K. threshold: the distance beyond which a cell looks unlike them. */
SsCameraCheck *ss_camera_check_new (const float *stats, int n, double threshold);
void           ss_camera_check_free (SsCameraCheck *check);
/* The squared distance of a cell's statistics to its K-th nearest known cell. */
double         ss_camera_check_distance (const SsCameraCheck *check, const float *stats);
double         ss_camera_check_threshold (const SsCameraCheck *check);
/* How a camera is judged on its cells: TRUE when the median of n (> 0) distances from
 * check (sorted in place) lies beyond its threshold; *median (may be NULL) gets it. */
gboolean       ss_camera_check_judge (const SsCameraCheck *check, double *distances, gsize n,
                                      double *median);

/* The colours a camera beyond the threshold is brought to before the model sees its cells
 * (SsColourPool): the R, G, B means then deviations, in [0, 1], of the cells of the
 * camera that taught the model most of its types. target NULL: none. */
void           ss_camera_check_set_target (SsCameraCheck *check, const double *target);
/* FALSE when the check has no target; else TRUE, and target (may be NULL) gets it. */
gboolean       ss_camera_check_target (const SsCameraCheck *check, double target[6]);
/* The pooled R, G, B means then deviations of n crops of one size, from their camera
 * statistics (n x SS_CAMERA_STATS). */
void           ss_camera_stats_colour (const float *stats, int n, double target[6]);

/* The file beside a cell-type model (MODEL-cameras.csv, ss_models_beside): a comment
 * line, "threshold,X", optionally "target,M,M,M,S,S,S", a header, then one line of
 * SS_CAMERA_STATS numbers per known cell. Loading: NULL with G_FILE_ERROR_NOENT when
 * there is no file, or with what is wrong in it (at most SS_CAMERA_CHECK_MAX_CELLS lines,
 * every statistic in [0, 1]). */
#define SS_CAMERA_CHECK_MAX_CELLS 100000
/* Saving refuses a target that loading would refuse. */
gboolean       ss_camera_check_save (const float *stats, int n, double threshold,
                                     const double *target, const char *path,
                                     GError **error);
SsCameraCheck *ss_camera_check_load (const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsCameraCheck, ss_camera_check_free)

G_END_DECLS
