/* Binary-image tools the cell finder is built from: Otsu's threshold, exact Euclidean
 * distance transform, morphology with disc elements, connected components, hole filling
 * and marker-controlled watershed. Masks are width*height bytes, nonzero = foreground. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Otsu's threshold of n values in [lo, hi] (values outside are clamped), 256 bins. */
float ss_otsu_threshold (const float *values, gsize n, float lo, float hi);

/* Two thresholds splitting n values in [lo, hi] into three classes (multi-level Otsu:
 * the most between-class variance), low <= high. */
void  ss_otsu_two_thresholds (const float *values, gsize n, float lo, float hi, float *low,
                              float *high);

/* dist[i] = Euclidean distance from pixel i to the nearest pixel whose mask value is
 * `target` (nonzero or zero); G_MAXFLOAT-ish when there is none. */
void  ss_distance_transform (const guint8 *mask, int width, int height, gboolean target,
                             float *dist);

/* Morphology with a disc of the given radius (pixels); out may equal mask. */
void  ss_mask_dilate (const guint8 *mask, int width, int height, double radius, guint8 *out);
void  ss_mask_erode (const guint8 *mask, int width, int height, double radius, guint8 *out);
void  ss_mask_open (guint8 *mask, int width, int height, double radius);
void  ss_mask_close (guint8 *mask, int width, int height, double radius);

/* 8-connected components: labels 1..n (0 = background); returns n. areas, if not NULL,
 * receives a newly allocated array of n+1 areas (index 0 unused). */
int   ss_mask_label (const guint8 *mask, int width, int height, int *labels, int **areas);
/* Set every background pixel not connected to the image border. */
void  ss_mask_fill_holes (guint8 *mask, int width, int height);
/* Keep only components of at least min_area pixels. */
void  ss_mask_remove_small (guint8 *mask, int width, int height, int min_area);

/* Marker-controlled watershed by priority flooding: labels holds markers (> 0) and 0
 * elsewhere; every pixel with mask set is given the label of the basin that reaches it
 * first, flooding in increasing `cost`. Pixels outside mask stay 0. */
void  ss_watershed (const float *cost, const guint8 *mask, int width, int height, int *labels);

G_END_DECLS
