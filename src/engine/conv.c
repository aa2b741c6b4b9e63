/* Convolution lowered to GEMM: im2col of a band of output rows, one sgemm, and an
 * epilogue that reads the GEMM output while it is still in cache (pool.c).
 * Weights are (out_c, in_c, k, k), PyTorch's layout, so one weight row is one filter.
 * The plain-loop twin is ss_ref_conv_forward in reference.c. */
#include "engine-private.h"

#include <string.h>

void
ss_conv_shape_init (SsConvShape *s, int in_c, int in_h, int in_w, int out_c, int k,
                    int stride, int pad)
{
  s->in_c = in_c;
  s->in_h = in_h;
  s->in_w = in_w;
  s->out_c = out_c;
  s->k = k;
  s->stride = stride;
  s->pad = pad;
  s->out_h = (in_h + 2 * pad - k) / stride + 1;
  s->out_w = (in_w + 2 * pad - k) / stride + 1;
}

/* in is (in_c, in_h, in_w); col is (in_c*k*k, (y1-y0)*out_w) with rows ld floats apart
 * (ld > (y1-y0)*out_w when several images share one col matrix). */
void
ss_im2col (const SsConvShape *s, const float *in, int y0, int y1, float *col, size_t ld)
{
  const int k = s->k, stride = s->stride, pad = s->pad;
  const int in_h = s->in_h, in_w = s->in_w, out_w = s->out_w;
  const size_t row_len = ld;

  for (int ci = 0; ci < s->in_c; ci++)
    {
      const float *plane = in + (size_t) ci * in_h * in_w;
      for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++)
          {
            float *dst = col + ((size_t) (ci * k + ky) * k + kx) * row_len;
            /* output columns whose input column lies inside the image */
            int ox_lo = 0, ox_hi = out_w;
            while (ox_lo < out_w && ox_lo * stride - pad + kx < 0)
              ox_lo++;
            while (ox_hi > ox_lo && (ox_hi - 1) * stride - pad + kx >= in_w)
              ox_hi--;
            for (int oy = y0; oy < y1; oy++, dst += out_w)
              {
                int iy = oy * stride - pad + ky;
                if (iy < 0 || iy >= in_h)
                  {
                    memset (dst, 0, sizeof (float) * out_w);
                    continue;
                  }
                const float *src = plane + (size_t) iy * in_w - pad + kx;
                for (int ox = 0; ox < ox_lo; ox++)
                  dst[ox] = 0.0f;
                if (stride == 1)
                  memcpy (dst + ox_lo, src + ox_lo, sizeof (float) * (ox_hi - ox_lo));
                else
                  for (int ox = ox_lo; ox < ox_hi; ox++)
                    dst[ox] = src[ox * stride];
                for (int ox = ox_hi; ox < out_w; ox++)
                  dst[ox] = 0.0f;
              }
          }
    }
}

void
ss_col2im_add (const SsConvShape *s, const float *col, size_t ld, int y0, int y1,
               float *in_grad)
{
  const int k = s->k, stride = s->stride, pad = s->pad;
  const int in_h = s->in_h, in_w = s->in_w, out_w = s->out_w;
  const size_t row_len = ld;

  for (int ci = 0; ci < s->in_c; ci++)
    {
      float *plane = in_grad + (size_t) ci * in_h * in_w;
      for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++)
          {
            const float *src = col + ((size_t) (ci * k + ky) * k + kx) * row_len;
            int ox_lo = 0, ox_hi = out_w;
            while (ox_lo < out_w && ox_lo * stride - pad + kx < 0)
              ox_lo++;
            while (ox_hi > ox_lo && (ox_hi - 1) * stride - pad + kx >= in_w)
              ox_hi--;
            for (int oy = y0; oy < y1; oy++, src += out_w)
              {
                int iy = oy * stride - pad + ky;
                if (iy < 0 || iy >= in_h)
                  continue;
                float *dst = plane + (size_t) iy * in_w - pad + kx;
                if (stride == 1)
                  for (int ox = ox_lo; ox < ox_hi; ox++)
                    dst[ox] += src[ox];
                else
                  for (int ox = ox_lo; ox < ox_hi; ox++)
                    dst[ox * stride] += src[ox];
              }
          }
    }
}
