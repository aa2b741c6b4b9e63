/* The field-analysis pipeline and its batch task. */
#include "ss-analysis.h"

#include "ss-camera-check.h"

#include "ss-metrics.h"
#include "ss-morphometrics.h"
#include "ss-scale.h"

#include <string.h>

void
ss_analysis_settings_init (SsAnalysisSettings *settings)
{
  ss_detect_settings_init (&settings->detect);
  settings->nms_iou = 0.3;            /* the counting paper: NMS 0.2-0.3 */
  settings->min_confidence = 0.7;     /* the counting paper: 0.7-0.85 */
  settings->blast_threshold = SS_BLAST_THRESHOLD_DEFAULT;
  settings->classifier_margin = SS_CLASSIFIER_MARGIN;
  settings->max_pixels = SS_DEFAULT_MAX_PIXELS;
  settings->scale_from_image = TRUE;
  settings->scale_pool = NULL;
  settings->colour_pool = NULL;
  settings->colour_map = SS_COLOUR_MAP_AUTO;
  settings->has_colour_target = FALSE;
  settings->unsure_below = SS_UNSURE_BELOW_DEFAULT;
  settings->check_doubts = TRUE;
}

int
ss_colour_map_from_string (const char *text)
{
  static const char *const names[] = { "auto", "on", "off" };
  for (int i = 0; i < (int) G_N_ELEMENTS (names); i++)
    if (g_strcmp0 (text, names[i]) == 0)
      return i;
  return -1;
}

SsColourPool *
ss_analysis_colour_pool_new (const SsAnalysisSettings *settings, SsClassifier *classifier)
{
  if (classifier == NULL || settings->colour_map == SS_COLOUR_MAP_OFF)
    return NULL;
  if (settings->colour_map == SS_COLOUR_MAP_ON)
    return ss_colour_pool_new (settings->has_colour_target ? settings->colour_target : NULL);
  /* auto: a model trained with its cameras brought to one always; else a camera unlike
   * all the model learned, when its camera check says what to bring it to */
  if (ss_model_has_camera_colour (ss_model_spec (ss_classifier_model (classifier))))
    return ss_colour_pool_new (NULL);
  const SsCameraCheck *check = ss_classifier_camera_check (classifier);
  double target[6];
  if (check != NULL && ss_camera_check_target (check, target))
    return ss_colour_pool_new_for_camera (target);
  return NULL;
}

const char *
ss_scale_source_to_string (SsScaleSource source)
{
  switch (source)
    {
    case SS_SCALE_SOURCE_RED_CELLS: return "red-cells";
    case SS_SCALE_SOURCE_FALLBACK:  return "fallback";
    case SS_SCALE_SOURCE_SETTING:
    default:                        return "setting";
    }
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

void
ss_analysis_result_free (SsAnalysisResult *result)
{
  if (result == NULL)
    return;
  g_free (result->path);
  g_clear_pointer (&result->cells, g_ptr_array_unref);
  g_clear_pointer (&result->set_aside, g_ptr_array_unref);
  g_clear_error (&result->error);
  g_free (result);
}

SsAnalysisResult *
ss_analysis_result_new_failed (const char *path, GError *error)
{
  SsAnalysisResult *result = g_new0 (SsAnalysisResult, 1);
  result->camera_distance = -1;
  result->path = g_strdup (path);
  result->error = error;
  return result;
}

/* The field's cameras against those the model learned: the median of its counted cells'
 * camera check distances; beyond the check's threshold every typed cell of the field is
 * doubted (a camera is one per field, so its cells are judged together), and so is every
 * typed cell of a field whose colours were mapped because its run's camera is unlike
 * them (the run judged the camera; the map makes calls likelier right, not sure). */
static void
check_camera (SsAnalysisResult *result, SsClassifier *classifier, gboolean mapped_for_camera,
              gboolean doubt)
{
  result->camera_distance = -1;
  result->camera_unlike = mapped_for_camera;
  const SsCameraCheck *check = classifier != NULL ? ss_classifier_camera_check (classifier)
                                                  : NULL;
  if (check == NULL)
    return;
  result->camera_threshold = ss_camera_check_threshold (check);
  g_autofree double *d = g_new (double, MAX (result->cells->len, 1));
  gsize n = 0;
  for (guint i = 0; i < result->cells->len; i++)
    {
      const SsCell *cell = result->cells->pdata[i];
      if (ss_class_is_counted (cell->current_class) && cell->camera_distance >= 0)
        d[n++] = cell->camera_distance;
    }
  if (n == 0)
    return;
  result->camera_unlike = ss_camera_check_judge (check, d, n, &result->camera_distance)
                          || mapped_for_camera;
  if (!doubt || !result->camera_unlike)
    return;
  for (guint i = 0; i < result->cells->len; i++)
    {
      SsCell *cell = result->cells->pdata[i];
      /* (a cell too small to be a white one is called so by its size, not by the model) */
      if (!cell->user_drawn && ss_cell_is_typed (cell) && !ss_cell_called_by_size (cell))
        cell->doubt |= SS_DOUBT_CAMERA_UNLIKE;
    }
}

gboolean
ss_analysis_classify (SsClassifier *classifier, const SsImage *image, GPtrArray *cells,
                      double margin, SsColourPool *colour_pool, GError **error)
{
  const int n = (int) cells->len, n_classes = ss_classifier_n_classes (classifier);
  if (n == 0)
    return TRUE;
  g_autofree SsBox *boxes = g_new (SsBox, n);
  g_autofree float *probs = g_new (float, (gsize) n * n_classes);
  g_autofree float *camera = g_new (float, n);
  for (int i = 0; i < n; i++)
    boxes[i] = ((SsCell *) cells->pdata[i])->box;
  if (!ss_classifier_run_boxes_pooled (classifier, image, boxes, n, margin, colour_pool, probs,
                                       camera, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      SsCell *cell = cells->pdata[i];
      cell->camera_distance = camera[i];
      ss_classifier_cell_probs (classifier, probs + (gsize) i * n_classes, cell->probabilities);
      int best = ss_argmax (cell->probabilities, SS_N_CLASSES);
      cell->predicted_class = cell->current_class = best;
      cell->confidence = cell->probabilities[best];
    }
  return TRUE;
}

static int
compare_confidence (gconstpointer a, gconstpointer b)
{
  const SsCell *ca = *(SsCell *const *) a, *cb = *(SsCell *const *) b;
  return (ca->confidence < cb->confidence) - (ca->confidence > cb->confidence);
}

GPtrArray *
ss_analysis_nms (GPtrArray *cells, double iou)
{
  GPtrArray *kept = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  g_ptr_array_set_free_func (cells, NULL);
  g_ptr_array_sort (cells, compare_confidence);
  for (guint i = 0; i < cells->len; i++)
    {
      SsCell *cell = cells->pdata[i];
      gboolean suppressed = FALSE;
      for (guint k = 0; k < kept->len && !suppressed; k++)
        suppressed = ss_box_iou (&cell->box, &((SsCell *) kept->pdata[k])->box) > iou;
      if (suppressed)
        ss_cell_free (cell);
      else
        g_ptr_array_add (kept, cell);
    }
  g_ptr_array_set_size (cells, 0);
  g_ptr_array_set_free_func (cells, (GDestroyNotify) ss_cell_free);
  return kept;
}

SsAnalysisResult *
ss_analysis_run (const SsImage *image, const SsAnalysisSettings *settings,
                 SsClassifier *classifier, GError **error)
{
  g_return_val_if_fail (image != NULL && settings != NULL, NULL);
  SsAnalysisResult *result = g_new0 (SsAnalysisResult, 1);
  SsDetectTimings detect_timings;
  SsAnalysisTimings *t = &result->timings;
  result->width = image->width;
  result->height = image->height;

  double start = now_ms ();
  /* the field's own scale, where its red cells tell it; the setting where they do not */
  SsDetectSettings detect = settings->detect;
  result->scale_source = SS_SCALE_SOURCE_SETTING;
  if (settings->scale_from_image)
    {
      SsScaleEstimate estimate;
      double diameter;
      ss_scale_estimate (image, &estimate);
      result->red_cell_diameter = estimate.red_cell_diameter;
      result->red_cell_circles = estimate.n_circles;
      diameter = settings->scale_pool != NULL ? ss_scale_pool_add (settings->scale_pool, &estimate)
                 : estimate.sure ? estimate.cell_diameter : 0;
      if (diameter > 0)
        {
          ss_detect_settings_for_diameter (&detect, diameter);
          result->scale_source = SS_SCALE_SOURCE_RED_CELLS;
        }
      else
        result->scale_source = SS_SCALE_SOURCE_FALLBACK;
    }
  result->cell_diameter = detect.cell_diameter;
  t->scale_ms = now_ms () - start;

  g_autoptr (GPtrArray) proposals = ss_detect_cells (image, &detect, &detect_timings);
  t->preprocess_ms = detect_timings.preprocess_ms;
  t->propose_ms = detect_timings.propose_ms;
  t->refine_ms = detect_timings.refine_ms;

  double mark = now_ms ();
  /* a field analysed alone that should have its colours mapped is its own camera */
  g_autoptr (SsColourPool) own_colours = settings->colour_pool == NULL
                                         ? ss_analysis_colour_pool_new (settings, classifier)
                                         : NULL;
  SsColourPool *colours = own_colours != NULL ? own_colours : settings->colour_pool;
  if (classifier != NULL
      && !ss_analysis_classify (classifier, image, proposals, settings->classifier_margin,
                                colours, error))
    {
      ss_analysis_result_free (result);
      return NULL;
    }
  result->colours_mapped = classifier != NULL && proposals->len > 0
                           && ss_colour_pool_mapped (colours);
  t->classify_ms = now_ms () - mark;

  mark = now_ms ();
  g_autoptr (GPtrArray) kept = ss_analysis_nms (proposals, settings->nms_iou);
  result->cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  result->set_aside = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  g_ptr_array_set_free_func (kept, NULL);
  for (guint i = 0; i < kept->len; i++)
    {
      SsCell *cell = kept->pdata[i];
      /* the minimum confidence asks "is this a white cell?" (or, for not_a_cell, "is it
       * surely not?"): a white cell of uncertain type is still counted, and shown to the
       * reviewer least certain first */
      float sure = ss_class_is_counted (cell->current_class) ? ss_cell_detection_score (cell)
                                                             : cell->confidence;
      g_ptr_array_add (sure >= settings->min_confidence ? result->cells : result->set_aside,
                       cell);
    }
  t->select_ms = now_ms () - mark;

  mark = now_ms ();
  /* a white cell is never much smaller than the field's typical one: what is (a platelet
   * clump, a fragment, a sliver cut by the field's edge) is not a white cell, whatever
   * the model called it, where the field's red cells gave the scale to judge it by. It
   * stays in the field, doubted, for the reviewer to see and overrule. */
  const double measured = result->scale_source == SS_SCALE_SOURCE_RED_CELLS
                          ? detect.cell_diameter : 0;
  for (guint i = 0; i < result->cells->len; i++)
    {
      SsCell *cell = result->cells->pdata[i];
      ss_morphometrics_compute (&cell->mask, &cell->nucleus_mask, &cell->morphometrics);
      if (measured > 0 && ss_class_is_counted (cell->current_class)
          && ss_cell_size (cell, measured) < SS_WHITE_CELL_LEAST_SIZE)
        {
          cell->predicted_class = cell->current_class = SS_CLASS_NOT_A_CELL;
          cell->confidence = cell->probabilities[SS_CLASS_NOT_A_CELL];
          cell->doubt |= SS_DOUBT_TOO_SMALL;
          continue;
        }
      if (settings->check_doubts)
        ss_cell_check_doubt (cell, measured);
    }
  check_camera (result, classifier, result->colours_mapped && ss_colour_pool_by_camera (colours),
                settings->check_doubts);
  t->morphometrics_ms = now_ms () - mark;

  mark = now_ms ();
  int counts[SS_N_CLASSES] = { 0 };
  for (guint i = 0; i < result->cells->len; i++)
    {
      const SsCell *cell = result->cells->pdata[i];
      if (cell->current_class >= 0 && cell->current_class < SS_N_CLASSES)
        counts[cell->current_class]++;
    }
  ss_counts_compute (counts, settings->blast_threshold, &result->counts);
  t->counts_ms = now_ms () - mark;
  t->total_ms = now_ms () - start;
  return result;
}

SsAnalysisResult *
ss_analysis_run_file (const char *path, const SsAnalysisSettings *settings,
                      SsClassifier *classifier, GError **error)
{
  double start = now_ms ();
  g_autoptr (SsImage) image = ss_image_load (path, settings->max_pixels, error);
  if (image == NULL)
    return NULL;
  double loaded = now_ms ();
  SsAnalysisResult *result = ss_analysis_run (image, settings, classifier, error);
  if (result == NULL)
    return NULL;
  result->path = g_strdup (path);
  result->timings.load_ms = loaded - start;
  result->timings.total_ms += loaded - start;
  return result;
}

/* The batch task. */

typedef struct {
  char              **paths;
  SsAnalysisSettings  settings;
  SsClassifier       *classifier;
  SsAnalysisProgress  progress;
  gpointer            progress_data;
  GMainContext       *context;
} Batch;

typedef struct {
  SsAnalysisProgress progress;
  gpointer           progress_data;
  guint              done, total;
  char              *path;
} ProgressReport;

static void
batch_free (Batch *batch)
{
  g_strfreev (batch->paths);
  g_clear_pointer (&batch->classifier, ss_classifier_unref);
  g_clear_pointer (&batch->context, g_main_context_unref);
  g_free (batch);
}

static gboolean
report_progress (gpointer data)
{
  ProgressReport *report = data;
  report->progress (report->done, report->total, report->path, report->progress_data);
  return G_SOURCE_REMOVE;
}

static void
progress_report_free (gpointer data)
{
  ProgressReport *report = data;
  g_free (report->path);
  g_free (report);
}

static void
batch_run (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Batch *batch = data;
  const guint total = g_strv_length (batch->paths);
  GPtrArray *results = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_analysis_result_free);
  /* the images of one batch are one case's: they share its scale */
  g_autoptr (SsScalePool) pool = batch->settings.scale_pool == NULL ? ss_scale_pool_new () : NULL;
  g_autoptr (SsColourPool) colours = batch->settings.colour_pool == NULL
                                     ? ss_analysis_colour_pool_new (&batch->settings,
                                                                    batch->classifier)
                                     : NULL;
  if (pool != NULL)
    batch->settings.scale_pool = pool;
  if (colours != NULL)
    batch->settings.colour_pool = colours;
  /* the case's scale before its first field is analysed */
  if (batch->settings.scale_from_image)
    ss_scale_pool_prime (batch->settings.scale_pool, (const char *const *) batch->paths,
                         (int) total, batch->settings.max_pixels);
  for (guint i = 0; i < total; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_ptr_array_unref (results);
          g_task_return_new_error (task, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_CANCELLED,
                                   "the analysis was cancelled after %u of %u images", i, total);
          return;
        }
      GError *error = NULL;
      SsAnalysisResult *result = ss_analysis_run_file (batch->paths[i], &batch->settings,
                                                       batch->classifier, &error);
      if (result == NULL)
        result = ss_analysis_result_new_failed (batch->paths[i], error);
      g_ptr_array_add (results, result);
      if (batch->progress != NULL)
        {
          ProgressReport *report = g_new0 (ProgressReport, 1);
          *report = (ProgressReport) { batch->progress, batch->progress_data, i + 1, total,
                                       g_strdup (batch->paths[i]) };
          g_main_context_invoke_full (batch->context, G_PRIORITY_DEFAULT, report_progress,
                                      report, progress_report_free);
        }
    }
  g_task_return_pointer (task, results, (GDestroyNotify) g_ptr_array_unref);
}

void
ss_analysis_batch_async (const char *const *paths, const SsAnalysisSettings *settings,
                         SsClassifier *classifier, GCancellable *cancellable,
                         SsAnalysisProgress progress, gpointer progress_data,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (paths != NULL && settings != NULL);
  Batch *batch = g_new0 (Batch, 1);
  batch->paths = g_strdupv ((char **) paths);
  batch->settings = *settings;
  batch->classifier = classifier != NULL ? ss_classifier_ref (classifier) : NULL;
  batch->progress = progress;
  batch->progress_data = progress_data;
  batch->context = g_main_context_ref_thread_default ();
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, ss_analysis_batch_async);
  g_task_set_task_data (task, batch, (GDestroyNotify) batch_free);
  g_task_run_in_thread (task, batch_run);
}

GPtrArray *
ss_analysis_batch_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
