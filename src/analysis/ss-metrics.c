/* Detection and segmentation metrics. */
#include "ss-metrics.h"

#include <math.h>
#include <stdlib.h>

double
ss_box_iou (const SsBox *a, const SsBox *b)
{
  double ix = MIN (a->x + a->width, b->x + b->width) - MAX (a->x, b->x);
  double iy = MIN (a->y + a->height, b->y + b->height) - MAX (a->y, b->y);
  if (ix <= 0 || iy <= 0)
    return 0;
  double inter = ix * iy;
  double uni = (double) a->width * a->height + (double) b->width * b->height - inter;
  return uni > 0 ? inter / uni : 0;
}

typedef struct {
  float    confidence;
  gboolean true_positive;
} Ranked;

struct _SsDetectionEval {
  double  iou_threshold;
  GArray *ranked;   /* Ranked, every detection of every image */
  int     n_images, n_truth, n_operating, tp_operating;
  double  count_error;
};

static int
compare_doubles (const void *a, const void *b)
{
  const double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

void
ss_sort_doubles (double *values, gsize n)
{
  if (n > 1)
    qsort (values, n, sizeof (double), compare_doubles);
}

double
ss_median_sorted (const double *values, gsize n)
{
  if (n == 0)
    return 0;
  return n % 2 == 1 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

SsDetectionEval *
ss_detection_eval_new (double iou_threshold)
{
  SsDetectionEval *eval = g_new0 (SsDetectionEval, 1);
  eval->iou_threshold = iou_threshold;
  eval->ranked = g_array_new (FALSE, FALSE, sizeof (Ranked));
  return eval;
}

void
ss_detection_eval_free (SsDetectionEval *eval)
{
  if (eval == NULL)
    return;
  g_array_unref (eval->ranked);
  g_free (eval);
}

static int
compare_desc (const void *a, const void *b, void *data)
{
  const float *confidence = data;
  float ca = confidence[*(const int *) a], cb = confidence[*(const int *) b];
  return (ca < cb) - (ca > cb);
}

void
ss_detection_eval_add (SsDetectionEval *eval, const SsBox *truth, int n_truth,
                       const SsBox *detections, const float *confidence, int n_detections,
                       double operating_threshold)
{
  g_autofree int *order = g_new (int, MAX (n_detections, 1));
  g_autofree gboolean *taken = g_new0 (gboolean, MAX (n_truth, 1));
  int n_operating = 0, tp_operating = 0;
  for (int i = 0; i < n_detections; i++)
    order[i] = i;
  g_qsort_with_data (order, n_detections, sizeof (int), compare_desc, (gpointer) confidence);
  /* greedy matching in confidence order, as the VOC devkit does */
  for (int k = 0; k < n_detections; k++)
    {
      int d = order[k], best = -1;
      double best_iou = eval->iou_threshold;
      for (int t = 0; t < n_truth; t++)
        {
          double iou = ss_box_iou (&detections[d], &truth[t]);
          if (!taken[t] && iou >= best_iou)
            best_iou = iou, best = t;
        }
      if (best >= 0)
        taken[best] = TRUE;
      Ranked r = { confidence[d], best >= 0 };
      g_array_append_val (eval->ranked, r);
      if (confidence[d] >= operating_threshold)
        {
          n_operating++;
          tp_operating += best >= 0;
        }
    }
  eval->n_images++;
  eval->n_truth += n_truth;
  eval->n_operating += n_operating;
  eval->tp_operating += tp_operating;
  eval->count_error += abs (n_operating - n_truth);
}

static int
compare_ranked (const void *a, const void *b)
{
  float ca = ((const Ranked *) a)->confidence, cb = ((const Ranked *) b)->confidence;
  return (ca < cb) - (ca > cb);
}

void
ss_detection_eval_score (SsDetectionEval *eval, SsDetectionScore *score)
{
  const guint n = eval->ranked->len;
  g_array_sort (eval->ranked, compare_ranked);
  g_autofree double *precision = g_new (double, n + 2);
  g_autofree double *recall = g_new (double, n + 2);
  int tp = 0;
  /* all-point interpolation: area under the precision envelope over recall */
  precision[0] = 0, recall[0] = 0;
  for (guint i = 0; i < n; i++)
    {
      tp += g_array_index (eval->ranked, Ranked, i).true_positive;
      recall[i + 1] = eval->n_truth > 0 ? (double) tp / eval->n_truth : 0;
      precision[i + 1] = (double) tp / (i + 1);
    }
  recall[n + 1] = 1, precision[n + 1] = 0;
  for (int i = (int) n; i >= 0; i--)
    precision[i] = MAX (precision[i], precision[i + 1]);
  double ap = 0;
  for (guint i = 1; i <= n + 1; i++)
    ap += (recall[i] - recall[i - 1]) * precision[i];
  score->ap50 = ap;
  score->n_images = eval->n_images;
  score->n_truth = eval->n_truth;
  score->n_detections = eval->n_operating;
  score->true_positives = eval->tp_operating;
  score->precision = eval->n_operating > 0 ? (double) eval->tp_operating / eval->n_operating : 0;
  score->recall = eval->n_truth > 0 ? (double) eval->tp_operating / eval->n_truth : 0;
  score->f1 = score->precision + score->recall > 0
                ? 2 * score->precision * score->recall / (score->precision + score->recall) : 0;
  score->count_mae = eval->n_images > 0 ? eval->count_error / eval->n_images : 0;
}

double
ss_mask_dice (const guint8 *a, const guint8 *b, gsize n)
{
  gsize inter = 0, sum = 0;
  for (gsize i = 0; i < n; i++)
    {
      gboolean x = a[i] != 0, y = b[i] != 0;
      inter += x && y;
      sum += x + y;
    }
  return sum > 0 ? 2.0 * inter / sum : 1.0;
}

double
ss_mask_iou (const guint8 *a, const guint8 *b, gsize n)
{
  gsize inter = 0, uni = 0;
  for (gsize i = 0; i < n; i++)
    {
      gboolean x = a[i] != 0, y = b[i] != 0;
      inter += x && y;
      uni += x || y;
    }
  return uni > 0 ? (double) inter / uni : 1.0;
}

SsImage *
ss_segmentation_truth_load (const char *image_path, const char *mask_path, gint64 max_pixels,
                            guint8 **cell, guint8 **nucleus, GError **error)
{
  g_autoptr (SsImage) image = ss_image_load (image_path, max_pixels, error);
  if (image == NULL)
    return NULL;
  g_autoptr (SsImage) truth = ss_image_load (mask_path, max_pixels, error);
  if (truth == NULL)
    return NULL;
  if (truth->width != image->width || truth->height != image->height)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "%s: the mask is not the size of the image", mask_path);
      return NULL;
    }
  const gsize n = (gsize) image->width * image->height;
  *cell = g_new (guint8, n);
  *nucleus = g_new (guint8, n);
  for (gsize p = 0; p < n; p++)
    {
      (*cell)[p] = truth->rgb[p * 3] >= 64;
      (*nucleus)[p] = truth->rgb[p * 3] >= 192;
    }
  return g_steal_pointer (&image);
}
