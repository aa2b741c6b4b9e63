/* 2x2 stride-2 max-pooling, fused with bias and ReLU into the pass that reads a
 * convolution's GEMM output (max(x + b) = max(x) + b, relu(max(x)) = max(relu(x))),
 * and its backward. The plain-loop twins are in reference.c. */
#include "engine-private.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Four pooled outputs from two rows of eight inputs: SSE2 is in every x86-64, and this
 * pass is bound by memory, so wider vectors would gain little. */
#if defined(__SSE2__)
static inline int
pool4 (const float *r0, const float *r1, __m128 bias, bool relu, float *dst, uint8_t *arg)
{
  __m128 a0 = _mm_loadu_ps (r0), a1 = _mm_loadu_ps (r0 + 4);
  __m128 b0 = _mm_loadu_ps (r1), b1 = _mm_loadu_ps (r1 + 4);
  __m128 v0 = _mm_shuffle_ps (a0, a1, _MM_SHUFFLE (2, 0, 2, 0));
  __m128 v1 = _mm_shuffle_ps (a0, a1, _MM_SHUFFLE (3, 1, 3, 1));
  __m128 v2 = _mm_shuffle_ps (b0, b1, _MM_SHUFFLE (2, 0, 2, 0));
  __m128 v3 = _mm_shuffle_ps (b0, b1, _MM_SHUFFLE (3, 1, 3, 1));
  __m128 m01 = _mm_max_ps (v0, v1), m23 = _mm_max_ps (v2, v3);
  __m128 v = _mm_add_ps (_mm_max_ps (m01, m23), bias);
  if (relu)
    v = _mm_max_ps (v, _mm_setzero_ps ());
  _mm_storeu_ps (dst, v);
  if (arg != NULL)
    {
      /* same choice as the scalar code: a later element wins only if strictly greater */
      const __m128i one = _mm_set1_epi32 (1), two = _mm_set1_epi32 (2);
      __m128i i01 = _mm_and_si128 (_mm_castps_si128 (_mm_cmpgt_ps (v1, v0)), one);
      __m128i i23 = _mm_add_epi32 (two, _mm_and_si128 (_mm_castps_si128 (_mm_cmpgt_ps (v3, v2)), one));
      __m128i upper = _mm_castps_si128 (_mm_cmpgt_ps (m23, m01));
      __m128i idx = _mm_or_si128 (_mm_and_si128 (upper, i23), _mm_andnot_si128 (upper, i01));
      __m128i packed = _mm_packus_epi16 (_mm_packs_epi32 (idx, idx), _mm_setzero_si128 ());
      int32_t bytes = _mm_cvtsi128_si32 (packed);
      memcpy (arg, &bytes, 4);
    }
  return 4;
}
#endif

void
ss_pool2_bias_relu (const float *pre, int out_c, int y0, int y1, int out_h, int out_w,
                    const float *bias, bool relu, float *out, uint8_t *arg)
{
  const int rows = y1 - y0;
  const int ph = out_h / 2, pw = out_w / 2;
  for (int c = 0; c < out_c; c++)
    {
      const float b = bias != NULL ? bias[c] : 0.0f;
      const float *src = pre + (size_t) c * rows * out_w;
      float *dst = out + (size_t) c * ph * pw + (size_t) (y0 / 2) * pw;
      uint8_t *a = arg != NULL ? arg + (size_t) c * ph * pw + (size_t) (y0 / 2) * pw : NULL;
      for (int py = 0; py < rows / 2; py++)
        {
          const float *r0 = src + (size_t) (2 * py) * out_w;
          const float *r1 = r0 + out_w;
          int px = 0;
#if defined(__SSE2__)
          const __m128 bias4 = _mm_set1_ps (b);
          for (; px + 4 <= pw; px += 4)
            pool4 (r0 + 2 * px, r1 + 2 * px, bias4, relu, dst + px, a != NULL ? a + px : NULL);
#endif
          for (; px < pw; px++)
            {
              float v0 = r0[2 * px], v1 = r0[2 * px + 1];
              float v2 = r1[2 * px], v3 = r1[2 * px + 1];
              /* ties go to the first in reading order, as PyTorch does */
              float m01 = v1 > v0 ? v1 : v0;
              int i01 = v1 > v0 ? 1 : 0;
              float m23 = v3 > v2 ? v3 : v2;
              int i23 = v3 > v2 ? 3 : 2;
              float m = m23 > m01 ? m23 : m01;
              float v = m + b;
              if (relu && v < 0.0f)
                v = 0.0f;
              dst[px] = v;
              if (a != NULL)
                a[px] = (uint8_t) (m23 > m01 ? i23 : i01);
            }
          dst += pw;
          if (a != NULL)
            a += pw;
        }
    }
}

void
ss_pool2_backward (const float *out, const float *out_grad, const uint8_t *arg,
                   int out_c, int out_h, int out_w, bool relu, float *pre_grad)
{
  const int ph = out_h / 2, pw = out_w / 2;
  memset (pre_grad, 0, sizeof (float) * (size_t) out_c * out_h * out_w);
  for (int c = 0; c < out_c; c++)
    {
      const size_t base = (size_t) c * ph * pw;
      float *plane = pre_grad + (size_t) c * out_h * out_w;
      for (int py = 0; py < ph; py++)
        for (int px = 0; px < pw; px++)
          {
            size_t i = base + (size_t) py * pw + px;
            if (relu && out[i] <= 0.0f)
              continue;
            int a = arg[i];
            plane[(size_t) (2 * py + (a >> 1)) * out_w + 2 * px + (a & 1)] = out_grad[i];
          }
    }
}
