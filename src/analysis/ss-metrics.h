/* How well the analysis does against ground truth: detection (AP at IoU 0.5, all-point
 * interpolated as VOC 2010+, precision, recall, F1, per-image count error) and
 * segmentation (Dice, IoU). */
#pragma once

#include "ss-cell.h"
#include "ss-image.h"

G_BEGIN_DECLS

double ss_box_iou (const SsBox *a, const SsBox *b);

/* n values sorted in place, least first; the median of n sorted values (the mean of the
 * middle two when n is even; 0 when n is 0). The scale pool's, the camera check's and
 * the threshold's order statistics. */
void   ss_sort_doubles (double *values, gsize n);
double ss_median_sorted (const double *values, gsize n);

typedef struct _SsDetectionEval SsDetectionEval;

typedef struct {
  double ap50;
  double precision, recall, f1;   /* at the operating threshold */
  double count_mae;               /* mean |detected - true| per image, operating threshold */
  int    n_images, n_truth, n_detections, true_positives;
} SsDetectionScore;

SsDetectionEval *ss_detection_eval_new (double iou_threshold);
void             ss_detection_eval_free (SsDetectionEval *eval);
/* One image: its true boxes, and the detections with their confidences. The AP ranks
 * every detection given; precision, recall, F1 and the count use only those with
 * confidence >= operating_threshold. */
void             ss_detection_eval_add (SsDetectionEval *eval, const SsBox *truth, int n_truth,
                                        const SsBox *detections, const float *confidence,
                                        int n_detections, double operating_threshold);
void             ss_detection_eval_score (SsDetectionEval *eval, SsDetectionScore *score);

/* Dice 2|A∩B|/(|A|+|B|) and IoU |A∩B|/|A∪B| of two n-byte masks; 1 when both are empty. */
double ss_mask_dice (const guint8 *a, const guint8 *b, gsize n);
double ss_mask_iou (const guint8 *a, const guint8 *b, gsize n);

/* An image and its wbc-seg style truth (grey mask: < 64 background, 64-191 cytoplasm,
 * >= 192 nucleus): returns the image, and width*height bytes of cell (cytoplasm or
 * nucleus) and nucleus truth, or NULL if either file is unreadable or their sizes differ. */
SsImage *ss_segmentation_truth_load (const char *image_path, const char *mask_path,
                                     gint64 max_pixels, guint8 **cell, guint8 **nucleus,
                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsDetectionEval, ss_detection_eval_free)

G_END_DECLS
