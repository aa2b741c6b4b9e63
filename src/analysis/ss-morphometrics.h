/* Measurements of a cell from its masks: area, perimeter, circularity, nucleus area,
 * the nucleus:cytoplasm ratio and the nucleus's solidity. */
#pragma once

#include "ss-cell.h"

G_BEGIN_DECLS

/* Length of the outline of a width*height mask, traced between pixel centres at the
 * 0.5 level (marching squares), so a digitised disc measures close to 2 pi r. */
double ss_mask_perimeter (const guint8 *mask, int width, int height);
/* Area over convex-hull area of a width*height mask's shape, measured the same way at
 * every scale and camera: the mask brought to 64 x 64 over its box, its holes filled,
 * specks under 8% of its area dropped, the hull taken round the pixels' corners. About
 * 0.95 for a disc, lower for lobed or indented shapes; 0 for an empty mask. */
double ss_mask_solidity (const guint8 *mask, int width, int height);
void   ss_morphometrics_compute (const SsRle *cell_mask, const SsRle *nucleus_mask,
                                 SsMorphometrics *out);

G_END_DECLS
