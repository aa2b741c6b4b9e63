/* Squeeze and excitation (Hu et al. 2018, as EfficientNet's MBConv has it): each
 * channel's mean over the map, a dense layer down to q channels and SiLU, a dense layer
 * back up and a sigmoid, and every channel of the map times its gate. One image at a
 * time; the two dense layers are a few thousand weights, the map's multiply the cost.
 * The plain-loop twins are in reference.c. */
#include "engine-private.h"

#include <cblas.h>

/* The sum of a plane, or of its products with another (b not NULL), in 16 float lanes
 * added in order at the end: vectorised, and the same bits on every vector width. */
static float
plane_sum (const float *restrict a, const float *restrict b, size_t n)
{
  float lane[16] = { 0 };
  size_t i = 0;
  if (b == NULL)
    for (; i + 16 <= n; i += 16)
      for (int l = 0; l < 16; l++)
        lane[l] += a[i + l];
  else
    for (; i + 16 <= n; i += 16)
      for (int l = 0; l < 16; l++)
        lane[l] += a[i + l] * b[i + l];
  for (; i < n; i++)
    lane[0] += b != NULL ? a[i] * b[i] : a[i];
  float sum = 0.0f;
  for (int l = 0; l < 16; l++)
    sum += lane[l];
  return sum;
}

size_t
ss_se_params (int c, int q)
{
  return 2 * (size_t) c * q + (size_t) q + (size_t) c;
}

/* x (c, hw), y (c, hw); state: mean (c), pre (q), silu (q), gate (c) */
void
ss_se_forward (int c, int q, size_t hw, const float *params, const float *x, float *y,
               float *state)
{
  const float *w1 = params, *b1 = w1 + (size_t) q * c;
  const float *w2 = b1 + q, *b2 = w2 + (size_t) c * q;
  float *mean = state, *pre = state + c, *silu = pre + q, *gate = silu + q;
  for (int ch = 0; ch < c; ch++)
    mean[ch] = plane_sum (x + (size_t) ch * hw, NULL, hw) / (float) hw;
  memcpy (pre, b1, sizeof (float) * q);
  cblas_sgemv (CblasRowMajor, CblasNoTrans, q, c, 1.0f, w1, c, mean, 1, 1.0f, pre, 1);
  for (int i = 0; i < q; i++)
    silu[i] = ss_silu (pre[i]);
  memcpy (gate, b2, sizeof (float) * c);
  cblas_sgemv (CblasRowMajor, CblasNoTrans, c, q, 1.0f, w2, q, silu, 1, 1.0f, gate, 1);
  for (int ch = 0; ch < c; ch++)
    {
      const float g = gate[ch] = ss_sigmoid (gate[ch]);
      const float *in = x + (size_t) ch * hw;
      float *out = y + (size_t) ch * hw;
      for (size_t i = 0; i < hw; i++)
        out[i] = in[i] * g;
    }
}

/* y = x gate(x): dx = dy gate + (the gate's gradient through both dense layers) / hw,
 * spread evenly over the map as the mean gathered it */
void
ss_se_backward (int c, int q, size_t hw, const float *params, const float *x,
                const float *y_grad, const float *state, float *param_grad, float *in_grad,
                float *scratch)
{
  const float *w1 = params, *w2 = w1 + (size_t) q * c + q;
  float *dw1 = param_grad, *db1 = dw1 + (size_t) q * c;
  float *dw2 = db1 + q, *db2 = dw2 + (size_t) c * q;
  const float *mean = state, *pre = state + c, *silu = pre + q, *gate = silu + q;
  float *dgate = scratch, *dpre = scratch + c, *dmean = scratch + c + q;

  for (int ch = 0; ch < c; ch++)
    {
      const float sum = plane_sum (x + (size_t) ch * hw, y_grad + (size_t) ch * hw, hw);
      /* through the sigmoid */
      dgate[ch] = sum * gate[ch] * (1.0f - gate[ch]);
    }
  if (param_grad != NULL)
    {
      cblas_sger (CblasRowMajor, c, q, 1.0f, dgate, 1, silu, 1, dw2, q);
      for (int ch = 0; ch < c; ch++)
        db2[ch] += dgate[ch];
    }
  /* back through the second dense layer and the SiLU */
  cblas_sgemv (CblasRowMajor, CblasTrans, c, q, 1.0f, w2, q, dgate, 1, 0.0f, dpre, 1);
  for (int i = 0; i < q; i++)
    dpre[i] *= ss_silu_grad (pre[i]);
  if (param_grad != NULL)
    {
      cblas_sger (CblasRowMajor, q, c, 1.0f, dpre, 1, mean, 1, dw1, c);
      for (int i = 0; i < q; i++)
        db1[i] += dpre[i];
    }
  if (in_grad == NULL)
    return;
  cblas_sgemv (CblasRowMajor, CblasTrans, q, c, 1.0f, w1, c, dpre, 1, 0.0f, dmean, 1);
  for (int ch = 0; ch < c; ch++)
    {
      const float g = gate[ch], spread = dmean[ch] / (float) hw;
      const float *dy = y_grad + (size_t) ch * hw;
      float *dx = in_grad + (size_t) ch * hw;
      for (size_t i = 0; i < hw; i++)
        dx[i] += dy[i] * g + spread;
    }
}
