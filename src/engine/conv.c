/* Convolution lowered to GEMM: im2col of a band of output rows, one sgemm, and an
 * epilogue that reads the GEMM output while it is still in cache (pool.c).
 * Weights are (out_c, in_c, k, k), PyTorch's layout, so one weight row is one filter.
 * The plain-loop twin is ss_ref_conv_forward in reference.c. */
#include "engine-private.h"

#include <stddef.h>
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

/* dst[i] = src[2 i]: a constant stride the compiler turns into vector shuffles (stride 2
 * where the phase split below does not apply: odd sizes, or no scratch) */
static void
copy_stride2 (float *restrict dst, const float *restrict src, int n)
{
  for (int i = 0; i < n; i++)
    dst[i] = src[2 * i];
}

/* n zeros where n is a kernel's reach (1 to 3 for 3x3 to 7x7): plain stores, not the
 * library call a compiler makes of a zeroing loop, once per row */
static inline void
zero_few (float *d, int n)
{
  switch (n)
    {
    case 3:
      d[2] = 0.0f;
      /* fallthrough */
    case 2:
      d[1] = 0.0f;
      /* fallthrough */
    case 1:
      d[0] = 0.0f;
      /* fallthrough */
    case 0:
      break;
    default:
      memset (d, 0, sizeof (float) * (size_t) n);
    }
}

/* Stride 1 with "same" padding (out_w == in_w): for one kernel offset (dy, dx) the col
 * row of output rows [y0, y1) is the input plane shifted by dy rows and dx columns, so
 * it is one copy of the rows that exist, zeros for those that do not, and zeros over
 * the dx columns that the shift wrapped round from the neighbouring row. Small maps
 * (ResNet's 8 x 8 and 4 x 4) would otherwise cost a library call per 4-float row. */
static void
im2col_shift (const float *plane, int in_h, int w, int dy, int dx, int y0, int y1,
              float *dst)
{
  int a = y0 > -dy ? y0 : -dy;              /* first output row with an input row */
  int b = y1 < in_h - dy ? y1 : in_h - dy;  /* one past the last */
  if (b < a || dx <= -w || dx >= w)
    b = a = y1;  /* no output pixel of these rows sees the image */
  if (a > y0)
    memset (dst, 0, sizeof (float) * (size_t) (a - y0) * w);
  if (b < y1)
    memset (dst + (size_t) (b - y0) * w, 0, sizeof (float) * (size_t) (y1 - b) * w);
  if (b == a)
    return;
  float *d = dst + (size_t) (a - y0) * w;
  const size_t n = (size_t) (b - a) * w;
  /* the first and last copied float may lie just outside the plane (dx = -1 at its
   * first pixel, +1 at its last); they land in wrapped columns and are zeroed below */
  ptrdiff_t s0 = (ptrdiff_t) (a + dy) * w + dx;
  size_t lo = s0 < 0 ? (size_t) -s0 : 0;
  size_t hi = n;
  const ptrdiff_t plane_len = (ptrdiff_t) in_h * w;
  if (s0 + (ptrdiff_t) n > plane_len)
    hi = (size_t) (plane_len - s0);
  if (lo > hi)
    lo = hi;
  memcpy (d + lo, plane + s0 + (ptrdiff_t) lo, sizeof (float) * (hi - lo));
  for (size_t i = 0; i < lo; i++)
    d[i] = 0.0f;
  for (size_t i = hi; i < n; i++)
    d[i] = 0.0f;
  if (dx < 0)
    for (int y = a; y < b; y++, d += w)
      zero_few (d, -dx);
  else if (dx > 0)
    for (int y = a; y < b; y++, d += w)
      zero_few (d + w - dx, dx);
}

/* Stride 2 over an even-sized input whose output is half its size (odd k, pad k/2, or
 * k = 1, pad 0): input pixel (2 y + py, 2 x + px) is pixel (y, x) of phase plane
 * (py, px), and a kernel offset t = kx - pad = 2 q + px reads phase px shifted by q.
 * So each col row is a shifted phase plane (im2col_shift) and the strided gather runs
 * once per input pixel instead of once per kernel tap (49 times for ResNet's 7 x 7 stem). */
static bool
phase_split_applies (const SsConvShape *s)
{
  return s->stride == 2 && s->in_h % 2 == 0 && s->in_w % 2 == 0 && 2 * s->out_h == s->in_h
         && 2 * s->out_w == s->in_w;
}

size_t
ss_im2col_scratch (const SsConvShape *s)
{
  return phase_split_applies (s) ? (size_t) s->in_c * s->in_h * s->in_w : 0;
}

static inline int
floor_div2 (int t)
{
  return t >= 0 ? t / 2 : -((1 - t) / 2);
}

/* even[i] = src[2 i], odd[i] = src[2 i + 1] */
static void
split_row (const float *restrict src, float *restrict even, float *restrict odd, int n)
{
  for (int i = 0; i < n; i++)
    {
      even[i] = src[2 * i];
      odd[i] = src[2 * i + 1];
    }
}

static void
im2col_phases (const SsConvShape *s, const float *in, int y0, int y1, float *col, size_t ld,
               float *scratch)
{
  const int k = s->k, pad = s->pad;
  const int h2 = s->in_h / 2, w2 = s->in_w / 2;
  const size_t phase_len = (size_t) h2 * w2;
  /* phase rows the band reads: y + q for q in [floor((0 - pad) / 2), floor((k - 1 - pad) / 2)] */
  int r0 = y0 + floor_div2 (-pad), r1 = y1 + floor_div2 (k - 1 - pad);
  if (r0 < 0)
    r0 = 0;
  if (r1 > h2)
    r1 = h2;

  for (int ci = 0; ci < s->in_c; ci++)
    {
      const float *plane = in + (size_t) ci * s->in_h * s->in_w;
      float *phase = scratch + (size_t) ci * 4 * phase_len;  /* (py, px) at (2 py + px) */
      for (int r = r0; r < r1; r++)
        for (int py = 0; py < 2; py++)
          split_row (plane + (size_t) (2 * r + py) * s->in_w,
                     phase + (size_t) (2 * py) * phase_len + (size_t) r * w2,
                     phase + (size_t) (2 * py + 1) * phase_len + (size_t) r * w2, w2);
      for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++)
          {
            const int qy = floor_div2 (ky - pad), qx = floor_div2 (kx - pad);
            const int py = ky - pad - 2 * qy, px = kx - pad - 2 * qx;
            im2col_shift (phase + (size_t) (2 * py + px) * phase_len, h2, w2, qy, qx, y0, y1,
                          col + ((size_t) (ci * k + ky) * k + kx) * ld);
          }
    }
}

/* in is (in_c, in_h, in_w); col is (in_c*k*k, (y1-y0)*out_w) with rows ld floats apart
 * (ld > (y1-y0)*out_w when several images share one col matrix). */
void
ss_im2col (const SsConvShape *s, const float *in, int y0, int y1, float *col, size_t ld,
           float *scratch)
{
  const int k = s->k, stride = s->stride, pad = s->pad;
  const int in_h = s->in_h, in_w = s->in_w, out_w = s->out_w;
  const size_t row_len = ld;
  const bool shift = stride == 1 && out_w == in_w;

  if (scratch != NULL && phase_split_applies (s))
    {
      im2col_phases (s, in, y0, y1, col, ld, scratch);
      return;
    }
  for (int ci = 0; ci < s->in_c; ci++)
    {
      const float *plane = in + (size_t) ci * in_h * in_w;
      for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++)
          {
            float *dst = col + ((size_t) (ci * k + ky) * k + kx) * row_len;
            if (shift)
              {
                im2col_shift (plane, in_h, in_w, ky - pad, kx - pad, y0, y1, dst);
                continue;
              }
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
                else if (stride == 2)
                  copy_stride2 (dst + ox_lo, src + 2 * ox_lo, ox_hi - ox_lo);
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
