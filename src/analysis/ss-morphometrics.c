/* Cell morphometrics from the RLE masks. */
#include "ss-morphometrics.h"

#include <math.h>

static inline int
at (const guint8 *mask, int width, int height, int x, int y)
{
  return x >= 0 && y >= 0 && x < width && y < height && mask[(gsize) y * width + x] != 0;
}

double
ss_mask_perimeter (const guint8 *mask, int width, int height)
{
  /* Each 2x2 neighbourhood (with a 1-pixel empty border around the mask) contributes
   * the segment(s) joining the midpoints of its mixed edges. */
  static const double diagonal = 0.70710678118654752;  /* corner cut: sqrt(0.5^2 + 0.5^2) */
  double length = 0;
  for (int y = -1; y < height; y++)
    for (int x = -1; x < width; x++)
      {
        int a = at (mask, width, height, x, y), b = at (mask, width, height, x + 1, y);
        int c = at (mask, width, height, x, y + 1), d = at (mask, width, height, x + 1, y + 1);
        int set = a + b + c + d;
        if (set == 1 || set == 3)
          length += diagonal;
        else if (set == 2)
          length += (a == d) ? 2 * diagonal : 1.0;  /* a == d: the two diagonal cases */
      }
  return length;
}

void
ss_morphometrics_compute (const SsRle *cell_mask, const SsRle *nucleus_mask, SsMorphometrics *out)
{
  const int w = cell_mask->width, h = cell_mask->height;
  g_autofree guint8 *mask = g_new (guint8, MAX ((gsize) w * h, 1));
  ss_rle_decode (cell_mask, mask);
  out->area = (double) ss_rle_area (cell_mask);
  out->perimeter = ss_mask_perimeter (mask, w, h);
  out->circularity = out->perimeter > 0
                       ? MIN (1.0, 4 * G_PI * out->area / (out->perimeter * out->perimeter)) : 0;
  out->nucleus_area = nucleus_mask->n_runs > 0 ? (double) ss_rle_area (nucleus_mask) : 0;
  double cytoplasm = out->area - out->nucleus_area;
  out->nc_ratio = cytoplasm > 0 ? out->nucleus_area / cytoplasm : 0;
}
