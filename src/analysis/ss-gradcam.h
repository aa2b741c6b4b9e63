/* Grad-CAM pictures: which pixels drove a classifier's call, as a heat map blended over
 * the image (or over one cell's crop). */
#pragma once

#include "ss-classifier.h"

G_BEGIN_DECLS

/* The Grad-CAM map of model class `cls` (-1: the model's own call) for the cell in box of
 * image framed as the classifier frames it (ss_box_frame with margin), or for the whole
 * image (box NULL), upsampled and blended over that region at the model's input size
 * times `scale`. *cls_out and *prob get the
 * explained class and its probability. */
SsImage *ss_gradcam_picture (SsClassifier *classifier, const SsImage *image, const SsBox *box,
                             double margin, int cls, int scale, double alpha, int *cls_out,
                             float *prob, GError **error);

G_END_DECLS
