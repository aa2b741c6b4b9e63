/* The analysis of a smear field, start to end: proposals from the stain, the optional
 * cell-type classifier, non-maximum suppression and the minimum confidence,
 * morphometrics, and the differential count. One image at a time (any thread), or a
 * batch off the main thread with progress and cancellation for the workstation. */
#pragma once

#include <gio/gio.h>

#include "ss-cell.h"
#include "ss-classifier.h"
#include "ss-counts.h"
#include "ss-detect.h"
#include "ss-image.h"

G_BEGIN_DECLS

/* Whether an analysis maps each camera's cell colours before classifying them
 * (SsColourPool, docs/models.md "It is the camera's colour"). */
typedef enum {
  SS_COLOUR_MAP_AUTO, /* the default: always when the model was trained with its cameras'
                       * colours brought to one (ss_model_has_camera_colour); else when the
                       * camera check beside the model has a target and the run's camera
                       * is unlike every camera it learned */
  SS_COLOUR_MAP_ON,
  SS_COLOUR_MAP_OFF,
} SsColourMap;

/* "auto", "on", "off"; -1 if text is none of them */
int               ss_colour_map_from_string (const char *text);

/* The least size of a white cell (ss_cell_size): a counted cell under it is called
 * not_a_cell, doubted (SS_DOUBT_TOO_SMALL), when the field's scale was measured on its
 * red cells. The smallest white cell, a small lymphocyte, is about as wide as a red cell
 * (half the typical one); on BCCD's train fields the smallest found cell that matches an
 * annotated one measures 0.45, and platelet clumps and slivers at the edge 0.27 and
 * below. 0.3 is about 0.6 red cells (docs/analysis.md, "Too small to be a white cell"). */
#define SS_WHITE_CELL_LEAST_SIZE 0.3

typedef struct {
  SsDetectSettings detect;
  double           nms_iou;           /* boxes overlapping more than this: keep the surer */
  double           min_confidence;    /* cells below are set aside, not counted */
  double           blast_threshold;   /* percent */
  double           classifier_margin; /* crop widening, fraction of the box per side */
  gint64           max_pixels;        /* decoding limit */
  gboolean         scale_from_image;  /* measure each field's scale by its red cells
                                       * (ss-scale.h); detect.cell_diameter is then the
                                       * fallback for a field whose estimate is unsure */
  double           unsure_below;      /* a cell under this confidence is marked unsure
                                       * (ss_cell_is_unsure): reviewed first, in the JSON */
  gboolean         check_doubts;      /* mark unsure the calls the cell's shape contradicts
                                       * (ss_cell_check_doubt) and those of a field unlike
                                       * the model's cameras (SsCameraCheck): on by
                                       * default */
  struct _SsScalePool *scale_pool;    /* not owned; if set, the fields analysed with it are
                                       * of one case and share its median scale */
  SsColourMap      colour_map;        /* whether batches and runs map their crops' pooled
                                       * colours (a colour_pool of their own) onto
                                       * colour_target or the model's camera colour */
  gboolean         has_colour_target;
  double           colour_target[6];  /* R, G, B means then deviations; else the model's */
  struct _SsColourPool *colour_pool;  /* not owned; if set, the cell crops of the fields
                                       * analysed with it are one camera's, and their
                                       * pooled colours are mapped onto the model's
                                       * (ss_classifier_run_boxes_pooled) */
} SsAnalysisSettings;

/* Where the white-cell diameter an analysis used came from. */
typedef enum {
  SS_SCALE_SOURCE_SETTING,       /* given: --cell-diameter, or scale_from_image off */
  SS_SCALE_SOURCE_RED_CELLS,     /* measured on the field's red cells */
  SS_SCALE_SOURCE_FALLBACK,      /* the red cells did not tell (too few, or none): the setting */
} SsScaleSource;

/* "setting", "red-cells", "fallback": the words the JSON and CSV use */
const char *ss_scale_source_to_string (SsScaleSource source);

typedef struct {
  double load_ms;           /* decode (files only) */
  double scale_ms;          /* the red-cell scale estimate */
  double preprocess_ms;
  double propose_ms;
  double refine_ms;
  double classify_ms;
  double select_ms;         /* NMS and minimum confidence */
  double morphometrics_ms;
  double counts_ms;
  double total_ms;
} SsAnalysisTimings;

typedef struct {
  char             *path;          /* NULL for an image given in memory */
  int               width, height;
  GPtrArray        *cells;         /* SsCell: kept and counted (or not_a_cell) */
  GPtrArray        *set_aside;     /* SsCell: survived NMS, under min_confidence */
  SsCounts          counts;
  double            cell_diameter;      /* the typical white cell the analysis assumed, px */
  SsScaleSource     scale_source;
  double            red_cell_diameter;  /* what the red cells measured (0: not measured) */
  int               red_cell_circles;   /* how many red-cell circles confirmed it */
  double            camera_distance;    /* the median camera check distance of the
                                         * field's counted cells (-1: no check, or no
                                         * cell); beyond camera_threshold the field's
                                         * calls are doubted (SS_DOUBT_CAMERA_UNLIKE) */
  double            camera_threshold;
  gboolean          colours_mapped;     /* the cells were classified with their colours
                                         * mapped (SsColourPool) */
  gboolean          camera_unlike;      /* beyond the threshold, or mapped because its
                                         * run's camera is unlike (not because a map was
                                         * asked for): the field's calls are doubted */
  SsAnalysisTimings timings;
  GError           *error;         /* batches: why this image has no result */
} SsAnalysisResult;

typedef void (*SsAnalysisProgress) (guint done, guint total, const char *path, gpointer user_data);

void              ss_analysis_settings_init (SsAnalysisSettings *settings);

/* classifier may be NULL: then the proposal score from the stain is the confidence and
 * every cell is "other" until a classifier is given. */
SsAnalysisResult *ss_analysis_run (const SsImage *image, const SsAnalysisSettings *settings,
                                   SsClassifier *classifier, GError **error);
SsAnalysisResult *ss_analysis_run_file (const char *path, const SsAnalysisSettings *settings,
                                        SsClassifier *classifier, GError **error);
void              ss_analysis_result_free (SsAnalysisResult *result);
/* The result of an image that has none: its path and why (takes error). */
SsAnalysisResult *ss_analysis_result_new_failed (const char *path, GError *error);

/* The colour pool a run of settings with classifier uses (NULL: none, colours as taken):
 * with colour_map on, or auto and a model trained with its cameras brought to one (the
 * pool maps onto settings' colour_target if it has one, else onto the model's camera
 * colour, or for a model without, its normalisation); with auto and a camera check that
 * has a target, a pool that maps onto it only while the run's camera is unlike every
 * camera the model learned (ss_colour_pool_new_for_camera). */
struct _SsColourPool *ss_analysis_colour_pool_new (const SsAnalysisSettings *settings,
                                                   SsClassifier *classifier);

/* The classifier step alone: sets class, confidence and probabilities of each cell. */
gboolean          ss_analysis_classify (SsClassifier *classifier, const SsImage *image,
                                        GPtrArray *cells, double margin,
                                        struct _SsColourPool *colour_pool, GError **error);
/* Greedy non-maximum suppression by confidence; returns the kept cells in confidence
 * order and frees the rest. Takes ownership of cells' elements. */
GPtrArray        *ss_analysis_nms (GPtrArray *cells, double iou);

/* A batch in a worker thread. The task holds a reference on the classifier (may be
 * NULL) until it is done, so the caller may drop its own at once or go on using it (its
 * run functions take turns between threads). progress runs in the caller's
 * thread-default main context after each image. The result is a GPtrArray of
 * SsAnalysisResult, one per path in order (failed images carry their error); cancelling
 * stops between images and the task returns SS_ANALYSIS_ERROR_CANCELLED. */
void              ss_analysis_batch_async (const char *const *paths,
                                           const SsAnalysisSettings *settings,
                                           SsClassifier *classifier, GCancellable *cancellable,
                                           SsAnalysisProgress progress, gpointer progress_data,
                                           GAsyncReadyCallback callback, gpointer user_data);
GPtrArray        *ss_analysis_batch_finish (GAsyncResult *result, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsAnalysisResult, ss_analysis_result_free)

G_END_DECLS
