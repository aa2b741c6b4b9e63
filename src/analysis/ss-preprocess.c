/* Preprocessing of the reduced field. */
#include "ss-preprocess.h"

#include "ss-morphology.h"

#include <math.h>
#include <string.h>

SsImage *
ss_preprocess_scale (const SsImage *image, double scale)
{
  const int out_w = MAX (1, (int) lround (image->width * scale));
  const int out_h = MAX (1, (int) lround (image->height * scale));
  SsImage *out = ss_image_new (out_w, out_h);
  if (scale > 1.0)
    {
      ss_image_crop_to_rgb (image, 0, 0, image->width, image->height, out_w, out_h,
                            SS_RESAMPLE_BILINEAR, out->rgb);
      return out;
    }
  /* Box average over the source footprint of each output pixel: antialiasing that the
   * bilinear sampler alone would not give at 4-5x reduction. */
  const double step_x = (double) image->width / out_w, step_y = (double) image->height / out_h;
  g_autofree int *x0 = g_new (int, out_w + 1);
  for (int ox = 0; ox <= out_w; ox++)
    x0[ox] = MIN (image->width, (int) lround (ox * step_x));
  for (int oy = 0; oy < out_h; oy++)
    {
      int y_begin = (int) lround (oy * step_y);
      int y_end = MAX (y_begin + 1, MIN (image->height, (int) lround ((oy + 1) * step_y)));
      for (int ox = 0; ox < out_w; ox++)
        {
          int x_begin = x0[ox], x_end = MAX (x_begin + 1, x0[ox + 1]);
          guint32 sum[3] = { 0, 0, 0 };
          for (int y = y_begin; y < y_end; y++)
            {
              const guint8 *p = image->rgb + ((gsize) y * image->width + x_begin) * 3;
              for (int x = x_begin; x < x_end; x++, p += 3)
                sum[0] += p[0], sum[1] += p[1], sum[2] += p[2];
            }
          guint32 count = (guint32) ((y_end - y_begin) * (x_end - x_begin));
          guint8 *o = out->rgb + ((gsize) oy * out_w + ox) * 3;
          for (int c = 0; c < 3; c++)
            o[c] = (guint8) ((sum[c] + count / 2) / count);
        }
    }
  return out;
}

void
ss_preprocess_bilateral (SsImage *image, int radius, double sigma_range)
{
  const int w = image->width, h = image->height, side = 2 * radius + 1;
  const double sigma_space = radius / 2.0 + 0.5;
  g_autofree guint8 *src = g_memdup2 (image->rgb, (gsize) w * h * 3);
  g_autofree float *spatial = g_new (float, side * side);
  float range[3 * 255 + 1];
  for (int dy = -radius; dy <= radius; dy++)
    for (int dx = -radius; dx <= radius; dx++)
      spatial[(dy + radius) * side + dx + radius] =
        (float) exp (-(dx * dx + dy * dy) / (2 * sigma_space * sigma_space));
  /* range weight on the summed absolute difference of the three channels */
  for (int d = 0; d <= 3 * 255; d++)
    range[d] = (float) exp (-(d / 3.0) * (d / 3.0) / (2 * sigma_range * sigma_range));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const guint8 *c = src + ((gsize) y * w + x) * 3;
        float acc[3] = { 0, 0, 0 }, norm = 0;
        for (int dy = -radius; dy <= radius; dy++)
          {
            int yy = CLAMP (y + dy, 0, h - 1);
            for (int dx = -radius; dx <= radius; dx++)
              {
                int xx = CLAMP (x + dx, 0, w - 1);
                const guint8 *p = src + ((gsize) yy * w + xx) * 3;
                int diff = abs (p[0] - c[0]) + abs (p[1] - c[1]) + abs (p[2] - c[2]);
                float wgt = spatial[(dy + radius) * side + dx + radius] * range[diff];
                acc[0] += wgt * p[0], acc[1] += wgt * p[1], acc[2] += wgt * p[2];
                norm += wgt;
              }
          }
        guint8 *o = image->rgb + ((gsize) y * w + x) * 3;
        for (int k = 0; k < 3; k++)
          o[k] = (guint8) CLAMP ((int) lrintf (acc[k] / norm), 0, 255);
      }
}

void
ss_preprocess_equalise (guint8 *values, gsize n)
{
  gsize hist[256] = { 0 }, cdf = 0, cdf_min = 0;
  guint8 map[256];
  for (gsize i = 0; i < n; i++)
    hist[values[i]]++;
  for (int v = 0; v < 256; v++)
    if (hist[v] > 0)
      {
        cdf_min = hist[v];
        break;
      }
  for (int v = 0; v < 256; v++)
    {
      cdf += hist[v];
      map[v] = n > cdf_min ? (guint8) lround (255.0 * (cdf - MIN (cdf, cdf_min)) / (n - cdf_min))
                           : (guint8) v;
    }
  for (gsize i = 0; i < n; i++)
    values[i] = map[values[i]];
}

int
ss_preprocess_green_mask (const SsImage *image, guint8 *mask)
{
  const gsize n = (gsize) image->width * image->height;
  g_autofree guint8 *green = g_new (guint8, n);
  g_autofree float *values = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    green[i] = image->rgb[i * 3 + 1];
  ss_preprocess_equalise (green, n);
  for (gsize i = 0; i < n; i++)
    values[i] = green[i];
  int threshold = (int) ss_otsu_threshold (values, n, 0, 255);
  for (gsize i = 0; i < n; i++)
    mask[i] = green[i] < threshold;
  return threshold;
}
