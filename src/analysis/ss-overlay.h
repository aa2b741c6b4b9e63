/* A picture of an analysis for people: the field with each cell's outline, nucleus
 * outline, box, class and confidence drawn over it (Cairo), written as PNG. Outlines,
 * not fills, as the workstation draws them: the cell shows through. A cell under the
 * default unsure confidence (SS_UNSURE_BELOW_DEFAULT) is labelled "CLASS? 0.62 unsure", a
 * cell a person reviewed "CLASS, reviewed". */
#pragma once

#include <cairo.h>

#include "ss-cell.h"
#include "ss-image.h"

G_BEGIN_DECLS

/* Packed RGB8 pixels (width x height) as a new Cairo RGB24 surface. */
cairo_surface_t *ss_overlay_rgb_surface (const guint8 *rgb, int width, int height);
/* The colour of a class in every overlay, as r, g, b in [0, 1]. */
void     ss_overlay_class_colour (int cls, double rgb[3]);
/* Paint image and, over it, each cell's outline, nucleus, box, class and confidence onto cr,
 * in the image's pixel coordinates: the caller's transformation places and scales it
 * (a report's thumbnail, a PNG at full size). Lines and labels grow with the field so
 * they stay legible on camera-size images. set_aside (may be NULL) as below. */
void     ss_overlay_draw (cairo_t *cr, const SsImage *image, GPtrArray *cells,
                          GPtrArray *set_aside);
/* A PNG of a field smaller than SS_OVERLAY_MIN_SIDE on its long side is written that many
 * times larger (an integer factor, at most SS_OVERLAY_MAX_FACTOR), its lines and labels at
 * the size a camera's field gets, so that on a 224 px field the labels do not hide the
 * cells; the factor for an image (1 for most). */
#define SS_OVERLAY_MIN_SIDE 640
#define SS_OVERLAY_MAX_FACTOR 4
int      ss_overlay_png_factor (const SsImage *image);
/* set_aside (may be NULL) is drawn dashed and grey: cells under the minimum confidence. */
gboolean ss_overlay_write_png (const SsImage *image, GPtrArray *cells, GPtrArray *set_aside,
                               const char *path, GError **error);

G_END_DECLS
