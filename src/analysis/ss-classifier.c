/* Classifiers: an engine model plus the mapping of its classes to cell classes. */
#include "ss-classifier-private.h"

#include "ss-camera-check.h"
#include "ss-models.h"

#include <math.h>
#include <string.h>

struct _SsClassifier {
  gatomicrefcount ref_count;
  GMutex          lock;   /* guards batch and the model's run state */
  SsModel        *model;
  int             cell_class[SS_MAX_CLASSES];
  float          *batch;  /* (chunk, 3, h, w) */
  int             chunk;
  SsCameraCheck  *camera; /* the cameras the model learned (MODEL-cameras.csv), or NULL */
};

#define SS_CLASSIFIER_CHUNK 32

SsClassifier *
ss_classifier_load (const char *path, GError **error)
{
  SsError engine_error;
  SsModel *model = ss_model_load (path, &engine_error);
  if (model == NULL)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL, "%s", engine_error.message);
      return NULL;
    }
  SsClassifier *c = g_new0 (SsClassifier, 1);
  const SsModelSpec *spec = ss_model_spec (model);
  g_atomic_ref_count_init (&c->ref_count);
  g_mutex_init (&c->lock);
  c->model = model;
  c->chunk = SS_CLASSIFIER_CHUNK;
  c->batch = g_new (float, (gsize) c->chunk * 3 * spec->in_h * spec->in_w);
  const char *names[SS_N_CLASSES];
  for (int i = 0; i < SS_N_CLASSES; i++)
    names[i] = ss_class_name (i);
  /* a model class the label table gives no cell class counts as "other" */
  for (int i = 0; i < spec->n_classes; i++)
    {
      int cls = ss_label_map (spec->class_names[i], names, SS_N_CLASSES);
      c->cell_class[i] = cls == SS_CLASS_NONE ? SS_CLASS_OTHER : cls;
    }
  /* the camera check beside the model, when there is one */
  if (!ss_classifier_use_camera_check_of (c, path, error))
    {
      ss_classifier_unref (c);
      return NULL;
    }
  return c;
}

gboolean
ss_classifier_use_camera_check_of (SsClassifier *c, const char *model_path, GError **error)
{
  g_autofree char *cameras_path = ss_models_beside (model_path, "cameras.csv");
  g_autoptr (GError) camera_error = NULL;
  SsCameraCheck *camera = ss_camera_check_load (cameras_path, &camera_error);
  if (camera == NULL && !g_error_matches (camera_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL, "%s (the camera check "
                   "beside the model; restore it, or remove it to analyse without)",
                   camera_error->message);
      return FALSE;
    }
  if (camera != NULL)
    {
      ss_camera_check_free (c->camera);
      c->camera = camera;
    }
  return TRUE;
}

SsClassifier *
ss_classifier_ref (SsClassifier *classifier)
{
  g_return_val_if_fail (classifier != NULL, NULL);
  g_atomic_ref_count_inc (&classifier->ref_count);
  return classifier;
}

void
ss_classifier_unref (SsClassifier *classifier)
{
  if (classifier == NULL || !g_atomic_ref_count_dec (&classifier->ref_count))
    return;
  ss_model_free (classifier->model);
  ss_camera_check_free (classifier->camera);
  g_free (classifier->batch);
  g_mutex_clear (&classifier->lock);
  g_free (classifier);
}

void
ss_classifier_free (SsClassifier *classifier)
{
  ss_classifier_unref (classifier);
}

void
ss_classifier_lock (SsClassifier *classifier)
{
  g_mutex_lock (&classifier->lock);
}

void
ss_classifier_unlock (SsClassifier *classifier)
{
  g_mutex_unlock (&classifier->lock);
}

SsModel *
ss_classifier_model (SsClassifier *classifier)
{
  return classifier->model;
}

int
ss_classifier_n_classes (SsClassifier *classifier)
{
  return ss_model_spec (classifier->model)->n_classes;
}

const char *
ss_classifier_class_name (SsClassifier *classifier, int i)
{
  return ss_model_spec (classifier->model)->class_names[i];
}

int
ss_classifier_cell_class (SsClassifier *classifier, int i)
{
  return classifier->cell_class[i];
}

void
ss_classifier_cell_probs (SsClassifier *classifier, const float *probs, float *cell_probs)
{
  memset (cell_probs, 0, sizeof (float) * SS_N_CLASSES);
  for (int k = 0; k < ss_classifier_n_classes (classifier); k++)
    cell_probs[classifier->cell_class[k]] += probs[k];
}

/* Called with the lock held: the batch buffer holds the chunk's n inputs. camera (may be
 * NULL) gets each input's camera check distance, or -1 without a check; an input the
 * model's lab head answers for (its camera taught by the lab) gets 0. */
static gboolean
run_chunk (SsClassifier *c, int n, float *probs, float *camera, GError **error)
{
  SsError engine_error;
  if (ss_model_predict (c->model, c->batch, n, probs, &engine_error) != SS_OK)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL, "%s", engine_error.message);
      return FALSE;
    }
  const SsModelSpec *spec = ss_model_spec (c->model);
  const gsize plane = (gsize) spec->in_c * spec->in_h * spec->in_w;
  for (int i = 0; camera != NULL && i < n; i++)
    {
      if (c->camera == NULL)
        {
          camera[i] = -1;
          continue;
        }
      /* one reading of the crop's camera serves the lab head's gate and the check */
      float stats[SS_CAMERA_STATS];
      ss_camera_stats (c->batch + i * plane, spec->in_c, spec->in_h, spec->in_w, stats);
      camera[i] = ss_model_lab_gate_stats (c->model, stats) > 0.5f
                    ? 0.0f : (float) ss_camera_check_distance (c->camera, stats);
    }
  return TRUE;
}

const SsCameraCheck *
ss_classifier_camera_check (SsClassifier *classifier)
{
  return classifier->camera;
}

void
ss_cell_view_crop (const SsImage *field, const SsBox *box, int size, guint8 *rgb)
{
  double x, y, side;
  ss_box_frame (box, SS_CLASSIFIER_MARGIN, &x, &y, &side);
  ss_image_crop_to_rgb (field, x, y, side, side, size, size, SS_RESAMPLE_AREA, rgb);
  for (int v = 0; v < size; v++)
    for (int u = 0; u < size; u++)
      {
        double sx = x + (u + 0.5) * side / size, sy = y + (v + 0.5) * side / size;
        if (sx < 0 || sy < 0 || sx >= field->width || sy >= field->height)
          memset (rgb + 3 * ((gsize) v * size + u), 0xbc, 3);
      }
}

void
ss_classifier_frame_box (SsClassifier *c, const SsImage *image, const SsBox *box,
                         double margin, float *x)
{
  const SsModelSpec *spec = ss_model_spec (c->model);
  double x0, y0, side;
  ss_box_frame (box, margin, &x0, &y0, &side);
  ss_image_crop_to_tensor (image, x0, y0, side, side, spec->in_w, spec->in_h, spec->resample,
                           x);
}

static gboolean
run_boxes (SsClassifier *c, const SsImage *image, const SsBox *boxes, int n, double margin,
           float *probs, float *camera, GError **error)
{
  const SsModelSpec *spec = ss_model_spec (c->model);
  const gsize plane = (gsize) 3 * spec->in_h * spec->in_w;
  for (int b = 0; b < n; b += c->chunk)
    {
      int nb = MIN (c->chunk, n - b);
      g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->lock);
      for (int i = 0; i < nb; i++)
        ss_classifier_frame_box (c, image, &boxes[b + i], margin, c->batch + i * plane);
      if (!run_chunk (c, nb, probs + (gsize) b * spec->n_classes,
                      camera != NULL ? camera + b : NULL, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
ss_classifier_run_boxes (SsClassifier *c, const SsImage *image, const SsBox *boxes, int n,
                         double margin, float *probs, GError **error)
{
  return run_boxes (c, image, boxes, n, margin, probs, NULL, error);
}

struct _SsColourPool
{
  double   sum[3], squares[3];
  gint64   n;                /* pixels per channel */
  gboolean has_target;
  double   target_mean[3], target_sd[3];
  gboolean by_camera;        /* map only while the crops' camera lies beyond the check */
  GArray  *distances;        /* by_camera: each crop's camera check distance, as taken */
  gboolean mapped;           /* whether the last crops were mapped */
};

SsColourPool *
ss_colour_pool_new (const double *target)
{
  SsColourPool *pool = g_new0 (SsColourPool, 1);
  if (target != NULL)
    {
      pool->has_target = TRUE;
      for (int ch = 0; ch < 3; ch++)
        {
          pool->target_mean[ch] = target[ch];
          pool->target_sd[ch] = target[3 + ch];
        }
    }
  return pool;
}

SsColourPool *
ss_colour_pool_new_for_camera (const double *target)
{
  SsColourPool *pool = ss_colour_pool_new (target);
  pool->by_camera = TRUE;
  pool->distances = g_array_new (FALSE, FALSE, sizeof (double));
  return pool;
}

void
ss_colour_pool_free (SsColourPool *pool)
{
  if (pool == NULL)
    return;
  if (pool->distances != NULL)
    g_array_unref (pool->distances);
  g_free (pool);
}

gboolean
ss_colour_pool_by_camera (const SsColourPool *pool)
{
  return pool != NULL && pool->by_camera;
}

gboolean
ss_colour_pool_mapped (const SsColourPool *pool)
{
  return pool != NULL && pool->mapped;
}

void
ss_colour_pool_target (const SsColourPool *pool, const SsModelSpec *spec, double target[6])
{
  const gboolean camera = ss_model_has_camera_colour (spec);
  for (int ch = 0; ch < 3; ch++)
    {
      target[ch] = pool != NULL && pool->has_target ? pool->target_mean[ch]
                   : camera ? spec->camera_colour[ch] : spec->mean[ch];
      target[3 + ch] = pool != NULL && pool->has_target ? pool->target_sd[ch]
                       : camera ? spec->camera_colour[3 + ch] : spec->std[ch];
    }
}

/* One framed crop as the camera took it: whether the model's lab head answers for it (a
 * camera the lab taught), and the camera check's distance (-1 without a check, 0 for a
 * crop of the lab's camera). */
static float
crop_camera (SsClassifier *c, const float *crop, gboolean *lab)
{
  *lab = FALSE;
  /* nothing to read them for: no check, no lab head */
  if (c->camera == NULL && ss_model_lab_head (c->model) == NULL)
    return -1;
  const SsModelSpec *spec = ss_model_spec (c->model);
  float stats[SS_CAMERA_STATS];
  ss_camera_stats (crop, spec->in_c, spec->in_h, spec->in_w, stats);
  *lab = ss_model_lab_gate_stats (c->model, stats) > 0.5f;
  if (c->camera == NULL)
    return -1;
  return *lab ? 0.0f : (float) ss_camera_check_distance (c->camera, stats);
}

gboolean
ss_classifier_run_boxes_pooled (SsClassifier *c, const SsImage *image, const SsBox *boxes, int n,
                                double margin, SsColourPool *pool, float *probs, float *camera,
                                GError **error)
{
  if (pool == NULL)
    return run_boxes (c, image, boxes, n, margin, probs, camera, error);

  const SsModelSpec *spec = ss_model_spec (c->model);
  const gsize area = (gsize) spec->in_h * spec->in_w, plane = 3 * area;
  float gain[3], offset[3];
  double target[6];
  /* each crop framed once: the pool takes in this field's crops, then they are mapped */
  g_autofree float *crops = g_new (float, (gsize) MAX (n, 1) * plane);
  g_autofree float *taken = g_new (float, MAX (n, 1));
  g_autofree gboolean *lab = g_new (gboolean, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      const float *crop = crops + (gsize) i * plane;
      ss_classifier_frame_box (c, image, &boxes[i], margin, crops + (gsize) i * plane);
      for (int ch = 0; ch < 3; ch++)
        for (gsize k = 0; k < area; k++)
          {
            double v = crop[ch * area + k];
            pool->sum[ch] += v;
            pool->squares[ch] += v * v;
          }
      pool->n += (gint64) area;
      /* the check reads the crop as the camera took it, mapped or not */
      taken[i] = crop_camera (c, crop, &lab[i]);
      if (pool->by_camera)
        {
          double d = taken[i];
          g_array_append_val (pool->distances, d);
        }
    }
  /* by camera: mapped while the median of the crops pooled so far (every crop the run
   * showed the classifier, those that end as not_a_cell and the lab's own included, where
   * a field's reported distance is over its counted cells) lies beyond the check's
   * threshold: a camera is judged on all its cells, not on one field's */
  pool->mapped = !pool->by_camera;
  if (pool->by_camera && c->camera != NULL && pool->distances->len > 0)
    {
      g_autofree double *d = g_memdup2 (pool->distances->data,
                                        sizeof (double) * pool->distances->len);
      pool->mapped = ss_camera_check_judge (c->camera, d, pool->distances->len, NULL);
    }
  /* x -> (x - pool mean) / pool sd * the target's sd + the target's mean */
  ss_colour_pool_target (pool, spec, target);
  for (int ch = 0; ch < 3; ch++)
    {
      double mean = pool->n > 0 ? pool->sum[ch] / pool->n : spec->mean[ch];
      double var = pool->n > 0 ? pool->squares[ch] / pool->n - mean * mean : 0;
      double sd = var > 1e-6 ? sqrt (var) : spec->std[ch];
      gain[ch] = pool->mapped ? (float) (target[3 + ch] / sd) : 1.0f;
      offset[ch] = pool->mapped ? (float) (target[ch] - mean * gain[ch]) : 0.0f;
    }
  /* a camera mapped because the check finds it new is new to the model's types, not to
   * its white cells: the camera check knows only the cameras that taught types, and the
   * model may have learned from others what is and is not a white cell (BCCD's). So
   * whether a crop is a cell is read as the camera took it, its type with the colours
   * mapped: the raw not_a_cell probability, the rest shared as the mapped crop's types. */
  const int k_classes = spec->n_classes;
  gboolean any_not_a_cell = FALSE;
  for (int k = 0; k < k_classes; k++)
    any_not_a_cell |= c->cell_class[k] == SS_CLASS_NOT_A_CELL;
  g_autofree float *raw = pool->by_camera && pool->mapped && any_not_a_cell
                          ? g_new (float, (gsize) c->chunk * k_classes) : NULL;
  for (int b = 0; b < n; b += c->chunk)
    {
      int nb = MIN (c->chunk, n - b);
      float *p = probs + (gsize) b * k_classes;
      g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->lock);
      if (raw != NULL)
        {
          memcpy (c->batch, crops + (gsize) b * plane, sizeof (float) * nb * plane);
          if (!run_chunk (c, nb, raw, NULL, error))
            return FALSE;
        }
      for (int i = 0; i < nb; i++)
        {
          const float *crop = crops + (gsize) (b + i) * plane;
          float *x = c->batch + i * plane;
          /* a crop the lab's head answers for is the lab's camera: never mapped */
          for (int ch = 0; ch < 3; ch++)
            for (gsize k = 0; k < area; k++)
              x[ch * area + k] = lab[b + i] ? crop[ch * area + k]
                                            : crop[ch * area + k] * gain[ch] + offset[ch];
        }
      if (!run_chunk (c, nb, p, NULL, error))
        return FALSE;
      for (int i = 0; raw != NULL && i < nb; i++)
        {
          float *row = p + (gsize) i * k_classes;
          const float *r = raw + (gsize) i * k_classes;
          double raw_not = 0, mapped_not = 0;
          for (int k = 0; k < k_classes; k++)
            if (c->cell_class[k] == SS_CLASS_NOT_A_CELL)
              raw_not += r[k], mapped_not += row[k];
          /* the not_a_cell classes as taken; the others share the rest as mapped, or,
           * when the mapped crop is surely no cell, as taken */
          const gboolean types = 1.0 - mapped_not > 1e-6;
          for (int k = 0; k < k_classes; k++)
            row[k] = c->cell_class[k] == SS_CLASS_NOT_A_CELL || !types
                       ? r[k] : (float) ((1.0 - raw_not) * row[k] / (1.0 - mapped_not));
        }
    }
  if (camera != NULL)
    memcpy (camera, taken, sizeof (float) * n);
  return TRUE;
}

gboolean
ss_classifier_run_images (SsClassifier *c, SsImage *const *images, int n, float *probs,
                          GError **error)
{
  const SsModelSpec *spec = ss_model_spec (c->model);
  const gsize plane = (gsize) 3 * spec->in_h * spec->in_w;
  for (int b = 0; b < n; b += c->chunk)
    {
      int nb = MIN (c->chunk, n - b);
      g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&c->lock);
      for (int i = 0; i < nb; i++)
        ss_image_crop_to_tensor (images[b + i], 0, 0, images[b + i]->width,
                                 images[b + i]->height, spec->in_w, spec->in_h,
                                 spec->resample, c->batch + i * plane);
      if (!run_chunk (c, nb, probs + (gsize) b * spec->n_classes, NULL, error))
        return FALSE;
    }
  return TRUE;
}

GPtrArray *
ss_classifier_field_cells (const SsImage *image, const SsDetectSettings *detect,
                           SsFieldCells pick)
{
  GPtrArray *cells = ss_detect_cells (image, detect, NULL);
  if (pick == SS_FIELD_CELLS_CENTRE)
    ss_cells_sort_by_centre (cells, image->width, image->height);
  return cells;
}

static gboolean
run_field (SsClassifier *c, const SsImage *image, const SsDetectSettings *detect,
           int max_cells, SsFieldCells pick, double margin, SsColourPool *colour_pool,
           float *probs, int *n_cells, GError **error)
{
  const int k = ss_classifier_n_classes (c);
  SsDetectSettings defaults;
  if (detect == NULL)
    {
      ss_detect_settings_init (&defaults);
      detect = &defaults;
    }
  g_autoptr (GPtrArray) cells = ss_classifier_field_cells (image, detect, pick);
  const int n = MIN ((int) cells->len, max_cells);
  if (n_cells != NULL)
    *n_cells = n;
  if (n == 0)
    return ss_classifier_run_images (c, (SsImage *const *) &image, 1, probs, error);
  g_autofree SsBox *boxes = g_new (SsBox, n);
  for (int i = 0; i < n; i++)
    boxes[i] = ((const SsCell *) cells->pdata[i])->box;
  g_autofree float *each = g_new (float, (gsize) n * k);
  if (!ss_classifier_run_boxes_pooled (c, image, boxes, n, margin, colour_pool, each, NULL,
                                       error))
    return FALSE;
  for (int j = 0; j < k; j++)
    {
      double sum = 0;
      for (int i = 0; i < n; i++)
        sum += each[i * k + j];
      probs[j] = (float) (sum / n);
    }
  return TRUE;
}

gboolean
ss_classifier_run_field (SsClassifier *c, const SsImage *image,
                         const SsDetectSettings *detect, int max_cells, SsFieldCells pick,
                         double margin, float *probs, int *n_cells, GError **error)
{
  return run_field (c, image, detect, max_cells, pick, margin, NULL, probs, n_cells, error);
}

float *
ss_classifier_run_fields (SsClassifier *c, char *const *paths, int n,
                          const SsDetectSettings *detect, int max_cells, SsFieldCells pick,
                          double margin, SsScalePool *scale_pool,
                          SsColourPool *colour_pool, GError **error)
{
  const int k = ss_classifier_n_classes (c);
  g_autofree float *probs = g_new (float, (gsize) MAX (n, 1) * k);
  if (scale_pool != NULL)
    ss_scale_pool_prime (scale_pool, (const char *const *) paths, n, SS_DEFAULT_MAX_PIXELS);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (SsImage) image = ss_image_load (paths[i], SS_DEFAULT_MAX_PIXELS, error);
      SsDetectSettings field = *detect;
      if (image != NULL && scale_pool != NULL)
        {
          /* the pictures are one microscope's: each at the pooled scale of those so far */
          SsScaleEstimate estimate;
          ss_scale_estimate (image, &estimate);
          double diameter = ss_scale_pool_add (scale_pool, &estimate);
          if (diameter > 0)
            ss_detect_settings_for_diameter (&field, diameter);
        }
      if (image == NULL
          || !run_field (c, image, &field, max_cells, pick, margin, colour_pool,
                                       probs + (gsize) i * k, NULL, error))
        return NULL;
    }
  return g_steal_pointer (&probs);
}
