/* Measurements of a cell from its masks: area, perimeter, circularity, nucleus area
 * and the nucleus:cytoplasm ratio. */
#pragma once

#include "ss-cell.h"

G_BEGIN_DECLS

/* Length of the outline of a width*height mask, traced between pixel centres at the
 * 0.5 level (marching squares), so a digitised disc measures close to 2 pi r. */
double ss_mask_perimeter (const guint8 *mask, int width, int height);
void   ss_morphometrics_compute (const SsRle *cell_mask, const SsRle *nucleus_mask,
                                 SsMorphometrics *out);

G_END_DECLS
