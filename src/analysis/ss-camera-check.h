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

typedef struct _SsCameraCheck SsCameraCheck;

/* From n known cells' statistics (n x SS_CAMERA_STATS, copied); NULL when n is under
 * SS_CAMERA_CHECK_K. */
SsCameraCheck *ss_camera_check_new (const float *stats, int n);
void           ss_camera_check_free (SsCameraCheck *check);
/* The squared distance of a cell's statistics to its K-th nearest known cell. */
double         ss_camera_check_distance (const SsCameraCheck *check, const float *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsCameraCheck, ss_camera_check_free)

G_END_DECLS
