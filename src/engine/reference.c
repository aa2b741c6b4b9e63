/* Plain-loop twins of the engine's fast paths. Only the tests link this file: each fast
 * kernel is compared with its twin on random shapes. */
#include "reference.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

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

/* The input gradient of a stride-1 convolution s, the plain way: in_grad (C, H, W) gets,
 * added, for each input pixel the sum over (oc, ky, kx) in that order, one fmaf at a
 * time from zero, of out_grad (OC, OH, OW) at output pixel (y + pad - (k - 1 - ky),
 * x + pad - (k - 1 - kx)), 0 outside the map, times weight (oc, c, k - 1 - ky, k - 1 - kx)
 * (the output pixels that read the input pixel through each weight). The tap kernels
 * must give these bits. */
void
ss_ref_conv_input_grad (const SsConvShape *s, const float *out_grad, const float *weight,
                        float *in_grad)
{
  const int k = s->k;
  for (int ci = 0; ci < s->in_c; ci++)
    for (int iy = 0; iy < s->in_h; iy++)
      for (int ix = 0; ix < s->in_w; ix++)
        {
          float acc = 0.0f;
          for (int oc = 0; oc < s->out_c; oc++)
            for (int ky = 0; ky < k; ky++)
              for (int kx = 0; kx < k; kx++)
                {
                  int oy = iy + s->pad - (k - 1 - ky), ox = ix + s->pad - (k - 1 - kx);
                  float g = oy < 0 || oy >= s->out_h || ox < 0 || ox >= s->out_w
                              ? 0.0f
                              : out_grad[((size_t) oc * s->out_h + oy) * s->out_w + ox];
                  acc = fmaf (weight[(((size_t) oc * s->in_c + ci) * k + (k - 1 - ky)) * k
                                     + (k - 1 - kx)],
                              g, acc);
                }
          in_grad[((size_t) ci * s->in_h + iy) * s->in_w + ix] += acc;
        }
}

/* The weight gradient of n images, the plain way: weight_grad (OC, C, k, k) gets, added,
 * for each weight the sum over the images' output pixels in order (image, y, x), one
 * fmaf at a time from zero, of out_grad (n, OC, OH, OW) times the input pixel (n, C, H,
 * W) the weight reads there, 0 outside the image. The tap kernels must give these bits. */
void
ss_ref_conv_weight_grad (const SsConvShape *s, int n, const float *in, const float *out_grad,
                         float *weight_grad)
{
  const int k = s->k;
  const size_t in_n = (size_t) s->in_c * s->in_h * s->in_w;
  const size_t out_n = (size_t) s->out_c * s->out_h * s->out_w;
  for (int oc = 0; oc < s->out_c; oc++)
    for (int ci = 0; ci < s->in_c; ci++)
      for (int ky = 0; ky < k; ky++)
        for (int kx = 0; kx < k; kx++)
          {
            float acc = 0.0f;
            for (int b = 0; b < n; b++)
              for (int oy = 0; oy < s->out_h; oy++)
                for (int ox = 0; ox < s->out_w; ox++)
                  {
                    int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                    float v = iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w
                                ? 0.0f
                                : in[b * in_n + ((size_t) ci * s->in_h + iy) * s->in_w + ix];
                    acc = fmaf (out_grad[b * out_n + ((size_t) oc * s->out_h + oy) * s->out_w + ox],
                                v, acc);
                  }
            weight_grad[(((size_t) oc * s->in_c + ci) * k + ky) * k + kx] += acc;
          }
}

/* Depthwise convolution, dwconv.c's sum the plain way: in (C, H, W), weight (C, k, k),
 * out (C, OH, OW); over taps (ky, kx) in that order, one fmaf at a time from zero, a tap
 * outside the image reading 0. The kernels must give these bits. */
void
ss_ref_dwconv (const SsConvShape *s, const float *in, const float *weight, float *out)
{
  for (int c = 0; c < s->out_c; c++)
    for (int oy = 0; oy < s->out_h; oy++)
      for (int ox = 0; ox < s->out_w; ox++)
        {
          float acc = 0.0f;
          for (int ky = 0; ky < s->k; ky++)
            for (int kx = 0; kx < s->k; kx++)
              {
                int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                float v = iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w
                            ? 0.0f
                            : in[((size_t) c * s->in_h + iy) * s->in_w + ix];
                acc = fmaf (weight[((size_t) c * s->k + ky) * s->k + kx], v, acc);
              }
          out[((size_t) c * s->out_h + oy) * s->out_w + ox] = acc;
        }
}

/* Its gradients, in double: dweight (C, k, k) and din (C, H, W) are overwritten. */
void
ss_ref_dwconv_backward (const SsConvShape *s, const float *in, const float *weight,
                        const float *dout, float *din, float *dweight)
{
  const size_t in_n = (size_t) s->in_c * s->in_h * s->in_w;
  double *dx = calloc (in_n, sizeof (double));
  for (int c = 0; c < s->out_c; c++)
    for (int ky = 0; ky < s->k; ky++)
      for (int kx = 0; kx < s->k; kx++)
        {
          const size_t t = ((size_t) c * s->k + ky) * s->k + kx;
          double dw = 0.0;
          for (int oy = 0; oy < s->out_h; oy++)
            for (int ox = 0; ox < s->out_w; ox++)
              {
                int iy = oy * s->stride - s->pad + ky, ix = ox * s->stride - s->pad + kx;
                if (iy < 0 || iy >= s->in_h || ix < 0 || ix >= s->in_w)
                  continue;
                const size_t at = ((size_t) c * s->in_h + iy) * s->in_w + ix;
                const double g = dout[((size_t) c * s->out_h + oy) * s->out_w + ox];
                dw += g * in[at];
                dx[at] += g * weight[t];
              }
          dweight[t] = (float) dw;
        }
  for (size_t i = 0; i < in_n; i++)
    din[i] = (float) dx[i];
  free (dx);
}

/* SiLU through libm's exp (the engine's ss_exp is checked against it) */
double
ss_ref_silu (double x)
{
  return x / (1.0 + exp (-x));
}

/* Batch norm over a batch in training: x and y are (n, c, hw); each channel normalised
 * by its batch mean and (biased) variance, eps 1e-5, times gamma plus beta; then, where
 * res is not NULL, each image's result times keep[b] (stochastic depth; NULL: 1) plus
 * res; then the activation. In double. */
void
ss_ref_bn_train (const float *x, int n, int c, size_t hw, const float *gamma,
                 const float *beta, const float *res, const float *keep, SsAct act, float *y)
{
  for (int ch = 0; ch < c; ch++)
    {
      double sum = 0.0, sumsq = 0.0;
      for (int b = 0; b < n; b++)
        for (size_t i = 0; i < hw; i++)
          sum += x[((size_t) b * c + ch) * hw + i];
      const double mean = sum / ((double) n * hw);
      for (int b = 0; b < n; b++)
        for (size_t i = 0; i < hw; i++)
          {
            double d = x[((size_t) b * c + ch) * hw + i] - mean;
            sumsq += d * d;
          }
      const double invstd = 1.0 / sqrt (sumsq / ((double) n * hw) + 1e-5);
      for (int b = 0; b < n; b++)
        for (size_t i = 0; i < hw; i++)
          {
            const size_t at = ((size_t) b * c + ch) * hw + i;
            double v = (x[at] - mean) * invstd * gamma[ch] + beta[ch];
            if (res != NULL)
              v = v * (keep != NULL ? keep[b] : 1.0) + res[at];
            if (act == SS_ACT_RELU && v < 0.0)
              v = 0.0;
            else if (act == SS_ACT_SILU)
              v = ss_ref_silu (v);
            y[at] = (float) v;
          }
    }
}

/* Squeeze and excitation of one image (se.c's layout of params: w1 (q, c), b1 (q),
 * w2 (c, q), b2 (c)), in double: y (c, hw) = x * sigmoid(w2 silu(w1 mean(x) + b1) + b2). */
void
ss_ref_se_forward (int c, int q, size_t hw, const float *params, const float *x, float *y)
{
  const float *w1 = params, *b1 = w1 + (size_t) q * c, *w2 = b1 + q, *b2 = w2 + (size_t) c * q;
  double *mean = calloc ((size_t) c, sizeof (double)), *h = calloc ((size_t) q, sizeof (double));
  for (int ch = 0; ch < c; ch++)
    {
      for (size_t i = 0; i < hw; i++)
        mean[ch] += x[(size_t) ch * hw + i];
      mean[ch] /= (double) hw;
    }
  for (int j = 0; j < q; j++)
    {
      double v = b1[j];
      for (int ch = 0; ch < c; ch++)
        v += (double) w1[(size_t) j * c + ch] * mean[ch];
      h[j] = ss_ref_silu (v);
    }
  for (int ch = 0; ch < c; ch++)
    {
      double v = b2[ch];
      for (int j = 0; j < q; j++)
        v += (double) w2[(size_t) ch * q + j] * h[j];
      const double gate = 1.0 / (1.0 + exp (-v));
      for (size_t i = 0; i < hw; i++)
        y[(size_t) ch * hw + i] = (float) (x[(size_t) ch * hw + i] * gate);
    }
  free (mean);
  free (h);
}

/* Its gradients by the chain rule written out, in double: param_grad (as params) and
 * in_grad (c, hw) are overwritten. */
void
ss_ref_se_backward (int c, int q, size_t hw, const float *params, const float *x,
                    const float *dy, float *param_grad, float *in_grad)
{
  const float *w1 = params, *b1 = w1 + (size_t) q * c, *w2 = b1 + q, *b2 = w2 + (size_t) c * q;
  float *dw1 = param_grad, *db1 = dw1 + (size_t) q * c, *dw2 = db1 + q, *db2 = dw2 + (size_t) c * q;
  double *mean = calloc ((size_t) c, sizeof (double)), *pre = calloc ((size_t) q, sizeof (double));
  double *gate = calloc ((size_t) c, sizeof (double)), *dg = calloc ((size_t) c, sizeof (double));
  double *dpre = calloc ((size_t) q, sizeof (double));
  for (int ch = 0; ch < c; ch++)
    {
      for (size_t i = 0; i < hw; i++)
        mean[ch] += x[(size_t) ch * hw + i];
      mean[ch] /= (double) hw;
    }
  for (int j = 0; j < q; j++)
    {
      pre[j] = b1[j];
      for (int ch = 0; ch < c; ch++)
        pre[j] += (double) w1[(size_t) j * c + ch] * mean[ch];
    }
  for (int ch = 0; ch < c; ch++)
    {
      double v = b2[ch];
      for (int j = 0; j < q; j++)
        v += (double) w2[(size_t) ch * q + j] * ss_ref_silu (pre[j]);
      gate[ch] = 1.0 / (1.0 + exp (-v));
      double s = 0.0;
      for (size_t i = 0; i < hw; i++)
        s += (double) dy[(size_t) ch * hw + i] * x[(size_t) ch * hw + i];
      dg[ch] = s * gate[ch] * (1.0 - gate[ch]);
      db2[ch] = (float) dg[ch];
      for (int j = 0; j < q; j++)
        dw2[(size_t) ch * q + j] = (float) (dg[ch] * ss_ref_silu (pre[j]));
    }
  for (int j = 0; j < q; j++)
    {
      double da = 0.0;
      for (int ch = 0; ch < c; ch++)
        da += (double) w2[(size_t) ch * q + j] * dg[ch];
      const double sg = 1.0 / (1.0 + exp (-pre[j]));
      dpre[j] = da * sg * (1.0 + pre[j] * (1.0 - sg));
      db1[j] = (float) dpre[j];
      for (int ch = 0; ch < c; ch++)
        dw1[(size_t) j * c + ch] = (float) (dpre[j] * mean[ch]);
    }
  for (int ch = 0; ch < c; ch++)
    {
      double dmean = 0.0;
      for (int j = 0; j < q; j++)
        dmean += (double) w1[(size_t) j * c + ch] * dpre[j];
      for (size_t i = 0; i < hw; i++)
        in_grad[(size_t) ch * hw + i]
          = (float) (dy[(size_t) ch * hw + i] * gate[ch] + dmean / (double) hw);
    }
  free (mean);
  free (pre);
  free (gate);
  free (dg);
  free (dpre);
}
