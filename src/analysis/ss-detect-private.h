/* What the single-cell-crop path shares with the training of its cytoplasm model
 * (ss-cytoplasm-model.c): both must see exactly the same per-pixel features. */
#pragma once

#include "ss-image.h"

G_BEGIN_DECLS

#define SS_CENTRE_FEATURES 20
#define SS_CENTRE_REACH    3.0  /* nucleus radii: a monocyte's cytoplasm reaches past 2 */

/* The centred cell's nucleus (n bytes), the colour models' cell mask (`classic`, n
 * bytes), the pixels the learned model decides (`candidate`: outside the nucleus, within
 * SS_CENTRE_REACH nucleus radii) and their features (n * SS_CENTRE_FEATURES floats,
 * filled at candidate pixels only). Returns the nucleus area, 0 when none was found. */
double ss_detect_centre_features (const SsImage *crop, guint8 *nucleus, guint8 *classic,
                                  guint8 *candidate, float *features);

G_END_DECLS
