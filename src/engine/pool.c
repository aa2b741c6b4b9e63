/* 2x2 stride-2 max-pooling, fused with bias and ReLU into the pass that reads a
 * convolution's GEMM output (max(x + b) = max(x) + b, relu(max(x)) = max(relu(x))),
 * and its backward. The plain-loop twins are in reference.c. */
#include "engine-private.h"

#include <string.h>

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
          for (int px = 0; px < pw; px++)
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
