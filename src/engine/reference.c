/* Plain-loop twins of the engine's fast paths. Only the tests link this file: each fast
 * kernel is compared with its twin on random shapes. */
#include "reference.h"

#include <float.h>
#include <math.h>

/* in (C, H, W), weight (OC, C, k, k), bias (OC) or NULL; out (OC, OH, OW) */
void
ss_ref_conv_forward (const SsConvShape *s, const float *in, const float *weight,
                     const float *bias, float *out)
{
  for (int oc = 0; oc < s->out_c; oc++)
    for (int oy = 0; oy < s->out_h; oy++)
      for (int ox = 0; ox < s->out_w; ox++)
        {
          double acc = bias != NULL ? bias[oc] : 0.0;
          for (int ci = 0; ci < s->in_c; ci++)
            for (int ky = 0; ky < s->k; ky++)
              for (int kx = 0; kx < s->k; kx++)
                {
                  int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                  if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w)
                    continue;
                  acc += (double) in[((size_t) ci * s->in_h + iy) * s->in_w + ix]
                         * weight[(((size_t) oc * s->in_c + ci) * s->k + ky) * s->k + kx];
                }
          out[((size_t) oc * s->out_h + oy) * s->out_w + ox] = (float) acc;
        }
}

/* col (in_c k k, rows ld apart): output pixel (oy, ox) of rows [y0, y1) at column
 * (oy - y0) out_w + ox, zero where the tap falls outside the image; columns past the
 * band's pixels are left alone */
void
ss_ref_im2col (const SsConvShape *s, const float *in, int y0, int y1, float *col, size_t ld)
{
  for (int ci = 0; ci < s->in_c; ci++)
    for (int ky = 0; ky < s->k; ky++)
      for (int kx = 0; kx < s->k; kx++)
        for (int oy = y0; oy < y1; oy++)
          for (int ox = 0; ox < s->out_w; ox++)
            {
              int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
              bool inside = iy >= 0 && iy < s->in_h && ix >= 0 && ix < s->in_w;
              col[((size_t) (ci * s->k + ky) * s->k + kx) * ld + (size_t) (oy - y0) * s->out_w + ox]
                = inside ? in[((size_t) ci * s->in_h + iy) * s->in_w + ix] : 0.0f;
            }
}

void
ss_ref_relu (float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (x[i] < 0.0f)
      x[i] = 0.0f;
}

/* in (C, H, W) -> out (C, H/2, W/2); arg (or NULL) gets the winner 0..3 in reading
 * order, the first of equal values */
void
ss_ref_maxpool2 (const float *in, int c, int h, int w, float *out, uint8_t *arg)
{
  for (int ch = 0; ch < c; ch++)
    for (int y = 0; y < h / 2; y++)
      for (int x = 0; x < w / 2; x++)
        {
          float m = -FLT_MAX;
          int best = 0;
          for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++)
              {
                float v = in[((size_t) ch * h + 2 * y + dy) * w + 2 * x + dx];
                if (v > m)
                  {
                    m = v;
                    best = 2 * dy + dx;
                  }
              }
          out[((size_t) ch * (h / 2) + y) * (w / 2) + x] = m;
          if (arg != NULL)
            arg[((size_t) ch * (h / 2) + y) * (w / 2) + x] = (uint8_t) best;
        }
}

/* x (n, in) weight (out, in) bias (out) -> y (n, out) */
void
ss_ref_dense (const float *x, const float *weight, const float *bias, int n, int in, int out,
              float *y)
{
  for (int b = 0; b < n; b++)
    for (int o = 0; o < out; o++)
      {
        double acc = bias[o];
        for (int i = 0; i < in; i++)
          acc += (double) x[(size_t) b * in + i] * weight[(size_t) o * in + i];
        y[(size_t) b * out + o] = (float) acc;
      }
}

/* tapconv.c's sum, the plain way: over taps (ci, ky, kx) in that order, one fmaf at a
 * time from zero, a tap outside the image reading 0 (as the kernel reads its zero
 * padding). The kernels must give these bits. */
void
ss_ref_tapconv (const SsConvShape *s, const float *in, const float *weight, float *out)
{
  for (int oc = 0; oc < s->out_c; oc++)
    for (int oy = 0; oy < s->out_h; oy++)
      for (int ox = 0; ox < s->out_w; ox++)
        {
          float acc = 0.0f;
          for (int ci = 0; ci < s->in_c; ci++)
            for (int ky = 0; ky < s->k; ky++)
              for (int kx = 0; kx < s->k; kx++)
                {
                  int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                  float v = iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w
                              ? 0.0f
                              : in[((size_t) ci * s->in_h + iy) * s->in_w + ix];
                  acc = fmaf (weight[(((size_t) oc * s->in_c + ci) * s->k + ky) * s->k + kx], v,
                              acc);
                }
          out[((size_t) oc * s->out_h + oy) * s->out_w + ox] = acc;
        }
}
