/* A picture of an analysis for people: the field with each cell's mask, nucleus, box,
 * class and confidence drawn over it (Cairo), written as PNG. */
#pragma once

#include "ss-cell.h"
#include "ss-image.h"

G_BEGIN_DECLS

/* set_aside (may be NULL) is drawn dashed and grey: cells under the minimum confidence. */
gboolean ss_overlay_write_png (const SsImage *image, GPtrArray *cells, GPtrArray *set_aside,
                               const char *path, GError **error);

G_END_DECLS
