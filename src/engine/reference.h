/* Plain-loop reference kernels, for the tests only. */
#pragma once

#include "engine-private.h"

void ss_ref_conv_forward (const SsConvShape *s, const float *in, const float *weight,
                          const float *bias, float *out);
void ss_ref_im2col (const SsConvShape *s, const float *in, int y0, int y1, float *col, size_t ld);
void ss_ref_relu (float *x, size_t n);
void ss_ref_maxpool2 (const float *in, int c, int h, int w, float *out, uint8_t *arg);
void ss_ref_dense (const float *x, const float *weight, const float *bias, int n, int in,
                   int out, float *y);
void ss_ref_tapconv (const SsConvShape *s, const float *in, const float *weight, float *out);
void ss_ref_conv_input_grad (const SsConvShape *s, const float *out_grad, const float *weight,
                             float *in_grad);
void ss_ref_conv_weight_grad (const SsConvShape *s, int n, const float *in,
                              const float *out_grad, float *weight_grad);
void ss_ref_dwconv (const SsConvShape *s, const float *in, const float *weight, float *out);
void ss_ref_dwconv_backward (const SsConvShape *s, const float *in, const float *weight,
                             const float *dout, float *din, float *dweight);
double ss_ref_silu (double x);
void ss_ref_bn_train (const float *x, int n, int c, size_t hw, const float *gamma,
                      const float *beta, const float *res, const float *keep, SsAct act,
                      float *y);
void ss_ref_se_forward (int c, int q, size_t hw, const float *params, const float *x, float *y);
void ss_ref_se_backward (int c, int q, size_t hw, const float *params, const float *x,
                         const float *dy, float *param_grad, float *in_grad);
