/* Preprocessing as the counting paper (Wisesa et al.) does it, on a reduced copy of the
 * field: scale, bilateral filter, histogram equalisation and an inverse threshold of the
 * green channel (nuclei absorb green, so they are the dark side of it). */
#pragma once

#include "ss-image.h"

G_BEGIN_DECLS

/* Area-averaged reduction (scale <= 1) or bilinear enlargement. */
SsImage *ss_preprocess_scale (const SsImage *image, double scale);
/* Edge-preserving smoothing in place: a (2 radius + 1)^2 window, spatial sigma
 * radius / 2 + 0.5, range sigma in 8-bit levels. */
void     ss_preprocess_bilateral (SsImage *image, int radius, double sigma_range);
/* Histogram-equalise n 8-bit values in place. */
void     ss_preprocess_equalise (guint8 *values, gsize n);
/* The paper's mask: the green channel, equalised, thresholded (Otsu) and inverted, so
 * dark-in-green pixels (stained nuclei, and red cells more weakly) are set. Returns the
 * threshold in equalised levels. */
int      ss_preprocess_green_mask (const SsImage *image, guint8 *mask);

G_END_DECLS
