/* Running a model's graph over a batch: forward, and backward for training and
 * Grad-CAM. Every buffer is allocated once in ss_run_ensure for the largest batch seen;
 * the loops below allocate nothing. Work is split over images (and, for convolutions,
 * over bands of output rows), each worker with its own scratch and gradient blob. */
#include "engine-private.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SS_BN_EPS      1e-5f  /* PyTorch's default */
#define SS_BN_MOMENTUM 0.1f   /* PyTorch's default */

struct SsRun {
  int      batch;       /* capacity in images */
  int      n_threads;
  bool     with_grads;
  bool     last_train;  /* was the last forward in training mode */
  float   *out[SS_MAX_NODES];
  float   *grad[SS_MAX_NODES];
  size_t   stride[SS_MAX_NODES];  /* floats from one image to the next */
  uint8_t *arg[SS_MAX_NODES];     /* max-pool winners */
  float   *bn_mean[SS_MAX_NODES];
  float   *bn_invstd[SS_MAX_NODES];
  float   *bn_scale[SS_MAX_NODES];   /* the norm as y = x * scale + shift */
  float   *bn_shift[SS_MAX_NODES];
  float   *drop_scale[SS_MAX_NODES];  /* stochastic depth of a norm's branch, per image:
                                       * 0 or 1 / (1 - p) in training, 1 otherwise */
  float   *col[64];       /* per thread: im2col of one band */
  float   *pre[64];       /* per thread: GEMM output of one band / one image's pre-grad */
  float   *phase[64];     /* per thread: ss_im2col's scratch (stride-2 phase planes) */
  float   *tap_src[64];   /* per thread: tapconv's padded source of one band */
  int     *tap_off[64];   /* per thread: tapconv's tap offsets */
  float   *tap_w[SS_MAX_NODES];  /* tapconv's packed weights, for the convs it fits */
  float   *dw[64];        /* per thread: a depthwise plane's scratch (dwconv.c) */
  float   *dx[64];        /* per thread: one image's input gradient from tapconv.c */
  float   *se_state[SS_MAX_NODES];  /* squeeze and excitation: what the backward reads */
  float   *se[64];        /* per thread: its backward's scratch */
  const char *tap_packed;  /* the kernel tap_w was packed for while params stood still,
                            * NULL when params may have moved since (ss_run_params_changed) */
  float   *pgrad[64];     /* per thread: parameter gradients */
  float   *param_grad;    /* reduced over threads: thread 0's, in place */
  void    *owned[10 * SS_MAX_NODES + 9 * 64 + 1];
  int      n_owned;
};

static void *
run_alloc (SsRun *run, size_t floats)
{
  void *p = ss_aligned_alloc (floats * sizeof (float));
  if (p != NULL)
    run->owned[run->n_owned++] = p;
  return p;
}

void
ss_run_free (SsRun *run)
{
  if (run == NULL)
    return;
  for (int i = 0; i < run->n_owned; i++)
    ss_aligned_free (run->owned[i]);
  free (run);
}

static size_t
node_numel (const SsNode *n)
{
  return (size_t) n->c * n->h * n->w;
}

/* A convolution read by the norm after it alone (SsNode.fuse_bn) gets its gradient from
 * that norm alone: the norm's backward turns its own output gradient into it in place,
 * so the two share one buffer (a ResNet's training batch needs a sixth less memory, and
 * nothing zeroes or reads the convolution's separately). */
static bool
grad_in_norm (const SsModel *m, int i)
{
  return m->nodes[i].fuse_bn;
}

SsStatus
ss_run_ensure (SsModel *m, int batch, bool with_grads, SsError *error)
{
  int n_threads = ss_engine_get_threads ();
  SsRun *old = m->run;
  if (old != NULL && old->batch >= batch && old->n_threads == n_threads
      && (old->with_grads || !with_grads))
    return SS_OK;
  if (old != NULL && old->batch > batch)
    batch = old->batch;
  if (old != NULL && old->with_grads)
    with_grads = true;
  ss_run_free (old);
  m->run = NULL;

  SsRun *run = calloc (1, sizeof *run);
  if (run == NULL)
    goto nomem;
  run->batch = batch;
  run->n_threads = n_threads;
  run->with_grads = with_grads;

  size_t col_max = 0, pre_max = 0, phase_max = 1, tap_src_max = 1, tap_k_max = 1;
  size_t dw_max = 1, se_max = 1, dx_max = 1;
  for (int i = 0; i < m->n_nodes; i++)
    {
      const SsNode *n = &m->nodes[i];
      if (n->concat_into >= 0)
        continue;  /* lives in its concat's buffer, laid out below */
      run->stride[i] = node_numel (n);
      if (!(run->out[i] = run_alloc (run, run->stride[i] * batch)))
        goto nomem;
      if (with_grads && !grad_in_norm (m, i)
          && !(run->grad[i] = run_alloc (run, run->stride[i] * batch)))
        goto nomem;
    }
  for (int i = 0; i < m->n_nodes; i++)
    if (with_grads && grad_in_norm (m, i))
      run->grad[i] = run->grad[i + 1];
  for (int i = 0; i < m->n_nodes; i++)
    {
      const SsNode *n = &m->nodes[i];
      if (n->concat_into >= 0)
        {
          run->out[i] = run->out[n->concat_into] + n->concat_off;
          run->grad[i] = with_grads ? run->grad[n->concat_into] + n->concat_off : NULL;
          run->stride[i] = run->stride[n->concat_into];
        }
      if (n->kind == SS_OP_CONV || n->kind == SS_OP_MAXPOOL)
        {
          bool pooled = n->kind == SS_OP_MAXPOOL || n->pool;
          if (pooled && !(run->arg[i] = run_alloc (run, (node_numel (n) * batch + 3) / 4)))
            goto nomem;
        }
      if (n->kind == SS_OP_CONV)
        {
          const SsConvShape *s = &n->conv;
          size_t band = (size_t) n->band_rows * s->out_w * n->group;
          size_t k = (size_t) ss_conv_k (s);
          if (k * band > col_max)
            col_max = k * band;
          if (ss_im2col_scratch (s) > phase_max)
            phase_max = ss_im2col_scratch (s);
          if (ss_tapconv_fits (s))
            {
              if (!(run->tap_w[i] = run_alloc (run, ss_tapconv_packed_floats (s))))
                goto nomem;
              if (ss_tapconv_src_floats (s) > tap_src_max)
                tap_src_max = ss_tapconv_src_floats (s);
              if (k > tap_k_max)
                tap_k_max = k;
            }
          if (with_grads && m->train_taps && run->tap_w[i] != NULL)
            {
              /* the weight gradient through tapconv.c (conv_weight_grad_tap): the
               * sources of a backward group's images, their output gradients turned */
              size_t g = n->group > 1 && n->group < (batch + 1) / 2 ? (size_t) n->group
                         : n->group > 1                           ? (size_t) (batch + 1) / 2
                                                                  : 1;
              if (g * ss_tapconv_src_floats (s) > tap_src_max)
                tap_src_max = g * ss_tapconv_src_floats (s);
              if (g * s->out_c * s->out_h * s->out_w > col_max)
                col_max = g * s->out_c * s->out_h * s->out_w;
            }
          SsConvShape t;
          if (with_grads && m->train_taps && run->tap_w[i] != NULL
              && ss_tapconv_input_grad_shape (s, &t))
            {
              /* the input gradient through tapconv.c (conv_input_grad_tap) */
              if (ss_tapconv_src_floats (&t) > tap_src_max)
                tap_src_max = ss_tapconv_src_floats (&t);
              if ((size_t) ss_conv_k (&t) > tap_k_max)
                tap_k_max = (size_t) ss_conv_k (&t);
              if ((size_t) t.out_c * t.out_h * t.out_w > dx_max)
                dx_max = (size_t) t.out_c * t.out_h * t.out_w;
              if (k * s->out_h * s->out_w > col_max)
                col_max = k * s->out_h * s->out_w;
            }
          size_t full = (size_t) s->out_c * s->out_h * s->out_w * n->group;
          size_t pre = with_grads ? full : (size_t) s->out_c * band;
          if (pre > pre_max)
            pre_max = pre;
        }
      if (n->kind == SS_OP_MAXPOOL)
        {
          const SsNode *src = &m->nodes[n->inputs[0]];
          if (with_grads && node_numel (src) > pre_max)
            pre_max = node_numel (src);
        }
      if (n->kind == SS_OP_BN)
        {
          if (!(run->bn_mean[i] = run_alloc (run, n->c))
              || !(run->bn_invstd[i] = run_alloc (run, n->c))
              || !(run->bn_scale[i] = run_alloc (run, n->c))
              || !(run->bn_shift[i] = run_alloc (run, n->c)))
            goto nomem;
          if (n->drop > 0.0f && !(run->drop_scale[i] = run_alloc (run, batch)))
            goto nomem;
        }
      if (n->kind == SS_OP_DWCONV && ss_dwconv_scratch_floats (&n->conv) > dw_max)
        dw_max = ss_dwconv_scratch_floats (&n->conv);
      if (n->kind == SS_OP_SE)
        {
          size_t state = 2 * (size_t) n->c + 2 * (size_t) n->squeeze;
          if (!(run->se_state[i] = run_alloc (run, state * batch)))
            goto nomem;
          if (state > se_max)
            se_max = state;
        }
    }
  for (int t = 0; t < n_threads; t++)
    {
      if (!(run->col[t] = run_alloc (run, col_max)) || !(run->pre[t] = run_alloc (run, pre_max))
          || !(run->phase[t] = run_alloc (run, phase_max))
          || !(run->tap_src[t] = run_alloc (run, tap_src_max))
          || !(run->tap_off[t] = run_alloc (run, tap_k_max))
          || !(run->dw[t] = run_alloc (run, dw_max)) || !(run->se[t] = run_alloc (run, se_max))
          || !(run->dx[t] = run_alloc (run, dx_max)))
        goto nomem;
      if (with_grads && !(run->pgrad[t] = run_alloc (run, m->n_params)))
        goto nomem;
    }
  run->param_grad = run->pgrad[0];
  m->run = run;
  return SS_OK;

nomem:
  ss_run_free (run);
  return ss_error_set (error, SS_ERR_NOMEM, "out of memory for a batch of %d images", batch);
}

float *
ss_run_output (SsModel *m)
{
  return m->run->out[m->n_nodes - 1];
}

float *
ss_run_node_out (SsModel *m, int node, size_t *image_stride)
{
  *image_stride = m->run->stride[node];
  return m->run->out[node];
}

float *
ss_run_node_grad (SsModel *m, int node, size_t *image_stride)
{
  *image_stride = m->run->stride[node];
  return m->run->grad[node];
}

float *
ss_run_param_grad (SsModel *m)
{
  return m->run->param_grad;
}

const float *
ss_run_drop_scale (SsModel *m, int node)
{
  return m->run->drop_scale[node];
}

/* ---- forward ------------------------------------------------------------------------ */

typedef struct {
  SsModel     *m;
  const SsNode *node;
  int          id;
  const float *x;
  int          n;
  bool         train;
  const float *dlogits;
  bool         param_grads;
  /* a convolution carrying the batch norm after it (SsNode.fuse_bn): its output goes
   * to that norm's buffer, normalised, plus the norm's residual, through its ReLU */
  const SsNode *bn;
  int          bn_id;
  int          group;  /* images per item of a grouped convolution */
  bool         tap;    /* forward: convolution through tapconv.c; backward: the input
                       * gradient through it, for the shape tap_dx */
  SsConvShape  tap_dx;
  bool         tap_dw; /* backward: the weight gradient through tapconv.c */
} Job;

static void
input_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  const SsModelSpec *sp = &m->spec;
  const size_t plane = (size_t) sp->in_h * sp->in_w;
  (void) thread;
  for (int b = begin; b < end; b++)
    {
      float *image = m->run->out[job->id] + (size_t) b * m->run->stride[job->id];
      const float *x = job->x + (size_t) b * sp->in_c * plane;
      if (sp->crop_stretch > 0.0f)
        {
          memcpy (image, x, sizeof (float) * sp->in_c * plane);
          ss_input_stretch (image, sp->in_c, plane, sp->crop_stretch);
          x = image;
        }
      for (int c = 0; c < sp->in_c; c++)
        {
          const float *src = x + c * plane;
          float *dst = image + c * plane;
          const float mean = sp->mean[c], scale = 1.0f / sp->std[c];
          for (size_t i = 0; i < plane; i++)
            dst[i] = (src[i] - mean) * scale;
        }
    }
}

void
ss_input_stretch (float *planes, int c, size_t area, float fraction)
{
  if (area == 0 || !(fraction > 0.0f))
    return;
  for (int ch = 0; ch < c; ch++)
    {
      float *p = planes + (size_t) ch * area;
      uint32_t bins[256] = { 0 };
      for (size_t i = 0; i < area; i++)
        {
          int k = (int) (p[i] * 255.0f + 0.5f);
          bins[k < 0 ? 0 : k > 255 ? 255 : k]++;
        }
      /* the values below which `fraction` and 1 - `fraction` of the plane lie */
      const double low_share = fraction * (double) area, high_share = (1.0 - fraction) * area;
      double seen = 0;
      float lo = -1.0f, hi = 1.0f;
      for (int k = 0; k < 256; k++)
        {
          seen += bins[k];
          if (lo < 0.0f && seen > low_share)
            lo = (float) k / 255.0f;
          if (seen > high_share)
            {
              hi = (float) k / 255.0f;
              break;
            }
        }
      if (hi - lo < 0.02f)
        continue;
      const float gain = 0.9f / (hi - lo), offset = 0.05f - lo * gain;
      for (size_t i = 0; i < area; i++)
        {
          float v = p[i] * gain + offset;
          p[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    }
}

/* Bias and ReLU over one channel's run of n outputs. */
static inline void
bias_relu_row (float *row, int n, float bias, bool relu)
{
  if (relu)
    for (int i = 0; i < n; i++)
      row[i] = row[i] + bias > 0.0f ? row[i] + bias : 0.0f;
  else if (bias != 0.0f)
    for (int i = 0; i < n; i++)
      row[i] += bias;
}

/* The inference form of batch norm for channel c: y = x * scale + shift, from the
 * running statistics. */
static void
bn_eval_coeffs (const SsModel *m, const SsNode *node, int c, float *scale, float *shift)
{
  const float *running_mean = m->buffers + node->buf_off;
  const float *running_var = running_mean + node->c;
  const float invstd = 1.0f / sqrtf (running_var[c] + SS_BN_EPS);
  *scale = m->params[node->w_off + c] * invstd;
  *shift = m->params[node->b_off + c] - running_mean[c] * *scale;
}

/* Norm, residual and activation over one channel's run of n values; in and out may be
 * one. The only place the arithmetic is written, so fused and separate norms agree to
 * the bit. */
static inline void
bn_row (const float *in, float *out, size_t n, float scale, float shift, const float *res,
        SsAct act)
{
  /* one plain loop per case, which the compiler vectorises */
  if (act == SS_ACT_SILU)
    ss_silu_row (in, out, n, scale, shift, res);
  else if (res != NULL && act == SS_ACT_RELU)
    for (size_t i = 0; i < n; i++)
      {
        const float v = in[i] * scale + shift + res[i];
        out[i] = v < 0.0f ? 0.0f : v;
      }
  else if (res != NULL)
    for (size_t i = 0; i < n; i++)
      out[i] = in[i] * scale + shift + res[i];
  else if (act == SS_ACT_RELU)
    for (size_t i = 0; i < n; i++)
      {
        const float v = in[i] * scale + shift;
        out[i] = v < 0.0f ? 0.0f : v;
      }
  else
    for (size_t i = 0; i < n; i++)
      out[i] = in[i] * scale + shift;
}

/* Channel c's residual input for image b at offset off within the channel, or NULL. */
static const float *
bn_residual (const Job *job, const SsNode *bn, int b, int c, size_t off)
{
  if (bn->residual < 0)
    return NULL;
  const SsRun *run = job->m->run;
  return run->out[bn->residual] + (size_t) b * run->stride[bn->residual]
         + (size_t) c * bn->h * bn->w + off;
}

/* Small maps: `count` whole images side by side in one col matrix and one GEMM, the
 * result copied out to each image. */
static void
conv_forward_group (Job *job, int b0, int count, int thread)
{
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0];
  const int K = ss_conv_k (s), HW = s->out_h * s->out_w, N = count * HW;
  const float *bias = n->bias ? m->params + n->b_off : NULL;
  float *col = run->col[thread], *pre = run->pre[thread];

  for (int g = 0; g < count; g++)
    ss_im2col (s, run->out[in_id] + (size_t) (b0 + g) * run->stride[in_id], 0, s->out_h,
               col + (size_t) g * HW, N, run->phase[thread]);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->out_c, N, K, 1.0f,
               m->params + n->w_off, K, col, N, 0.0f, pre, N);
  const int out_id = job->bn != NULL ? job->bn_id : job->id;
  for (int g = 0; g < count; g++)
    {
      float *out = run->out[out_id] + (size_t) (b0 + g) * run->stride[out_id];
      for (int c = 0; c < s->out_c; c++)
        {
          float *row = out + (size_t) c * HW;
          const float *src = pre + (size_t) c * N + (size_t) g * HW;
          if (job->bn != NULL)
            bn_row (src, row, HW, run->bn_scale[job->bn_id][c], run->bn_shift[job->bn_id][c],
                    bn_residual (job, job->bn, b0 + g, c, 0), job->bn->act);
          else
            {
              memcpy (row, src, sizeof (float) * HW);
              bias_relu_row (row, HW, bias != NULL ? bias[c] : 0.0f, n->act == SS_ACT_RELU);
            }
        }
    }
}

/* Bias or norm, residual and ReLU over output rows from y0 on (N pixels) of image b,
 * whose raw convolution is at C, channel planes out_h out_w apart. */
static void
conv_epilogue (const Job *job, int b, int y0, int N, float *C)
{
  const SsModel *m = job->m;
  const SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const size_t out_plane = (size_t) s->out_h * s->out_w;
  const float *bias = n->bias ? m->params + n->b_off : NULL;
  if (job->bn != NULL)
    for (int c = 0; c < s->out_c; c++)
      {
        float *row = C + (size_t) c * out_plane;
        bn_row (row, row, (size_t) N, run->bn_scale[job->bn_id][c], run->bn_shift[job->bn_id][c],
                bn_residual (job, job->bn, b, c, (size_t) y0 * s->out_w), job->bn->act);
      }
  else if (bias != NULL || n->act == SS_ACT_RELU)
    for (int c = 0; c < s->out_c; c++)
      bias_relu_row (C + (size_t) c * out_plane, N, bias != NULL ? bias[c] : 0.0f,
                     n->act == SS_ACT_RELU);
}

/* Bias, 2 x 2 max and ReLU of output rows [y0, y1) of image b (even), from pre (out_c,
 * y1 - y0, out_w), into the node's pooled map; the winners kept when they are wanted. */
static void
pool_epilogue (const Job *job, int b, int y0, int y1, const float *pre)
{
  const SsModel *m = job->m;
  const SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  uint8_t *arg = run->arg[job->id] != NULL ? run->arg[job->id] + (size_t) b * node_numel (n)
                                           : NULL;
  ss_pool2_bias_relu (pre, s->out_c, y0, y1, s->out_h, s->out_w,
                      n->bias ? m->params + n->b_off : NULL, n->act == SS_ACT_RELU,
                      run->out[job->id] + (size_t) b * run->stride[job->id], arg);
}

/* A 1x1 stride-1 convolution's padded source would be a copy of its input: the kernel
 * reads the input itself, each plane's rows at the offsets of whole planes
 * (ss_tapconv_offsets for out_h rows), the same floats in the same order. */
static bool
tap_reads_input (const SsConvShape *s)
{
  return s->k == 1 && s->stride == 1 && s->pad == 0;
}

/* Output rows [y0, y1) of image b through tapconv.c, then the epilogue (a pooling one
 * reads the band from the thread's pre buffer, as after the GEMM). */
static void
conv_forward_tap (Job *job, int b, int y0, int y1, int thread)
{
  SsRun *run = job->m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0], out_id = job->bn != NULL ? job->bn_id : job->id;
  float *out = run->out[out_id] + (size_t) b * run->stride[out_id];
  const float *in = run->out[in_id] + (size_t) b * run->stride[in_id];
  const float *src = run->tap_src[thread];
  if (tap_reads_input (s))
    {
      /* the input's own rows, at the offsets of its planes (conv_forward set them) */
      src = in + (size_t) y0 * s->in_w;
    }
  else
    {
      ss_tapconv_source (s, in, y0, y1, run->tap_src[thread]);
      ss_tapconv_offsets (s, y1 - y0, run->tap_off[thread]);
    }
  const int N = (y1 - y0) * s->out_w;
  if (n->pool)
    {
      float *pre = run->pre[thread];
      ss_tapconv_rows (s, run->tap_w[job->id], src, run->tap_off[thread], y0, y1, pre,
                       (size_t) N);
      pool_epilogue (job, b, y0, y1, pre);
      return;
    }
  ss_tapconv_rows (s, run->tap_w[job->id], src, run->tap_off[thread], y0, y1,
                   out + (size_t) y0 * s->out_w, (size_t) s->out_h * s->out_w);
  conv_epilogue (job, b, y0, N, out + (size_t) y0 * s->out_w);
}

/* One work item = one band of output rows of one image, or a group of whole images. */
static void
conv_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0];
  const int n_bands = (s->out_h + n->band_rows - 1) / n->band_rows;
  const int K = ss_conv_k (s);
  const size_t out_plane = (size_t) s->out_h * s->out_w;
  const float *W = m->params + n->w_off;
  const bool direct = s->k == 1 && s->stride == 1 && s->pad == 0;
  if (job->tap && tap_reads_input (s))
    ss_tapconv_offsets (s, s->out_h, run->tap_off[thread]);

  for (int item = begin; item < end; item++)
    {
      if (job->tap && n->group > 1)
        {
          for (int b = item * job->group; b < job->n && b < (item + 1) * job->group; b++)
            conv_forward_tap (job, b, 0, s->out_h, thread);
          continue;
        }
      if (n->group > 1)
        {
          int b0 = item * job->group;
          conv_forward_group (job, b0, job->n - b0 < job->group ? job->n - b0 : job->group,
                              thread);
          continue;
        }
      const int b = item / n_bands, band = item % n_bands;
      const int y0 = band * n->band_rows;
      const int y1 = y0 + n->band_rows < s->out_h ? y0 + n->band_rows : s->out_h;
      const int N = (y1 - y0) * s->out_w;
      if (job->tap)
        {
          conv_forward_tap (job, b, y0, y1, thread);
          continue;
        }
      const float *in = run->out[in_id] + (size_t) b * run->stride[in_id];
      const int out_id = job->bn != NULL ? job->bn_id : job->id;
      float *out = run->out[out_id] + (size_t) b * run->stride[out_id];
      const float *B;
      int ldb;

      if (direct)
        {
          B = in + (size_t) y0 * s->out_w;
          ldb = (int) out_plane;
        }
      else
        {
          ss_im2col (s, in, y0, y1, run->col[thread], (size_t) N, run->phase[thread]);
          B = run->col[thread];
          ldb = N;
        }
      if (n->pool)
        {
          float *pre = run->pre[thread];
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->out_c, N, K, 1.0f, W, K,
                       B, ldb, 0.0f, pre, N);
          pool_epilogue (job, b, y0, y1, pre);
        }
      else
        {
          float *C = out + (size_t) y0 * s->out_w;
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, s->out_c, N, K, 1.0f, W, K,
                       B, ldb, 0.0f, C, (int) out_plane);
          conv_epilogue (job, b, y0, N, C);
        }
    }
}

/* Adds the sum and the sum of squares of x's n values to sum and sumsq, in 8 lanes of
 * double (the same bits whatever the vector width), the lanes then summed in order. */
static void
bn_plane_sums (const float *restrict x, size_t n, double *sum, double *sumsq)
{
  double lane_s[8] = { 0 }, lane_q[8] = { 0 };
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int l = 0; l < 8; l++)
      {
        const double v = x[i + l];
        lane_s[l] += v;
        lane_q[l] += v * v;
      }
  for (; i < n; i++)
    {
      lane_s[0] += x[i];
      lane_q[0] += (double) x[i] * x[i];
    }
  for (int l = 0; l < 8; l++)
    {
      *sum += lane_s[l];
      *sumsq += lane_q[l];
    }
}

/* Batch norm, parallel over channels. */
static void
bn_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *node = job->node;
  const int id = job->id, in_id = node->inputs[0];
  const size_t hw = (size_t) node->h * node->w;
  const float *gamma = m->params + node->w_off;
  const float *beta = m->params + node->b_off;
  float *running_mean = m->buffers + node->buf_off;
  float *running_var = running_mean + node->c;
  (void) thread;

  for (int c = begin; c < end; c++)
    {
      float mean, invstd;
      if (job->train)
        {
          double sum = 0.0, sumsq = 0.0;
          for (int b = 0; b < job->n; b++)
            bn_plane_sums (run->out[in_id] + (size_t) b * run->stride[in_id] + c * hw, hw, &sum,
                           &sumsq);
          double count = (double) job->n * hw;
          double mu = sum / count;
          double var = sumsq / count - mu * mu;
          if (var < 0.0)
            var = 0.0;
          mean = (float) mu;
          invstd = (float) (1.0 / sqrt (var + SS_BN_EPS));
          /* running variance is unbiased, as PyTorch keeps it */
          double unbiased = count > 1.0 ? var * count / (count - 1.0) : var;
          running_mean[c] = (1.0f - SS_BN_MOMENTUM) * running_mean[c] + SS_BN_MOMENTUM * mean;
          running_var[c] = (1.0f - SS_BN_MOMENTUM) * running_var[c]
                           + SS_BN_MOMENTUM * (float) unbiased;
        }
      else
        {
          mean = running_mean[c];
          invstd = 1.0f / sqrtf (running_var[c] + SS_BN_EPS);
        }
      run->bn_mean[id][c] = mean;
      run->bn_invstd[id][c] = invstd;
      float scale = gamma[c] * invstd, shift = beta[c] - mean * scale;
      if (!job->train)
        bn_eval_coeffs (m, node, c, &scale, &shift);
      run->bn_scale[id][c] = scale;  /* for the activation's gradient */
      run->bn_shift[id][c] = shift;
      const float *keep = job->train ? run->drop_scale[id] : NULL;
      for (int b = 0; b < job->n; b++)
        {
          /* stochastic depth: 0 drops the branch, 1 / (1 - p) keeps it (1 exactly
           * outside training), so a dropped image's output is its residual input */
          const float d = keep != NULL ? keep[b] : 1.0f;
          bn_row (run->out[in_id] + (size_t) b * run->stride[in_id] + c * hw,
                  run->out[id] + (size_t) b * run->stride[id] + c * hw, hw, scale * d, shift * d,
                  bn_residual (job, node, b, c, 0), node->act);
        }
    }
}

static void
maxpool_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsRun *run = job->m->run;
  const SsNode *n = job->node;
  const SsNode *src = &job->m->nodes[n->inputs[0]];
  (void) thread;
  for (int b = begin; b < end; b++)
    ss_pool2_bias_relu (run->out[n->inputs[0]] + (size_t) b * run->stride[n->inputs[0]], src->c,
                        0, src->h, src->h, src->w, NULL, false,
                        run->out[job->id] + (size_t) b * run->stride[job->id],
                        run->arg[job->id] + (size_t) b * node_numel (n));
}

static void
gap_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsRun *run = job->m->run;
  const SsNode *src = &job->m->nodes[job->node->inputs[0]];
  const size_t hw = (size_t) src->h * src->w;
  (void) thread;
  for (int b = begin; b < end; b++)
    {
      const float *x = run->out[job->node->inputs[0]] + (size_t) b * run->stride[job->node->inputs[0]];
      float *y = run->out[job->id] + (size_t) b * run->stride[job->id];
      for (int c = 0; c < src->c; c++)
        {
          float sum = 0.0f;
          for (size_t i = 0; i < hw; i++)
            sum += x[c * hw + i];
          y[c] = sum / (float) hw;
        }
    }
}

/* One image at a time (a GEMV): a row's result must not depend on how many images a
 * worker was given, or predictions would change with the thread count. */
static void
dense_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const int in_id = n->inputs[0];
  const int n_in = (int) (n->w_len / n->b_len), n_out = n->c;
  const float *W = m->params + n->w_off, *bias = m->params + n->b_off;
  (void) thread;
  for (int b = begin; b < end; b++)
    {
      float *y = run->out[job->id] + (size_t) b * run->stride[job->id];
      memcpy (y, bias, sizeof (float) * n_out);
      cblas_sgemv (CblasRowMajor, CblasNoTrans, n_out, n_in, 1.0f, W, n_in,
                   run->out[in_id] + (size_t) b * run->stride[in_id], 1, 1.0f, y, 1);
      if (n->act == SS_ACT_RELU)
        bias_relu_row (y, n_out, 0.0f, true);
    }
}

#define SS_DENSE_BLOCK 256  /* outputs per work item of a wide dense layer */

/* A wide layer (SsNode.wide): one work item = a block of outputs for the whole batch, one
 * GEMM, the block's weights read once. The blocks are fixed by the layer alone, so no
 * result depends on the thread count. */
static void
dense_forward_wide (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const int in_id = n->inputs[0];
  const int n_in = (int) (n->w_len / n->b_len), n_out = n->c;
  const float *W = m->params + n->w_off, *bias = m->params + n->b_off;
  float *y = run->out[job->id];
  const int ldy = (int) run->stride[job->id];
  (void) thread;
  for (int item = begin; item < end; item++)
    {
      const int o0 = item * SS_DENSE_BLOCK;
      const int rows = n_out - o0 < SS_DENSE_BLOCK ? n_out - o0 : SS_DENSE_BLOCK;
      for (int b = 0; b < job->n; b++)
        memcpy (y + (size_t) b * ldy + o0, bias + o0, sizeof (float) * rows);
      /* y (n, rows) += x (n, n_in) W[o0 .. o0 + rows)^T */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, job->n, rows, n_in, 1.0f,
                   run->out[in_id], (int) run->stride[in_id], W + (size_t) o0 * n_in, n_in,
                   1.0f, y + o0, ldy);
      if (n->act == SS_ACT_RELU)
        for (int b = 0; b < job->n; b++)
          bias_relu_row (y + (size_t) b * ldy + o0, rows, 0.0f, true);
    }
}

/* One work item = one channel plane of one image: the plane's convolution, then its
 * norm when the convolution carries it (inference, SsNode.fuse_bn). */
static void
dwconv_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0], out_id = job->bn != NULL ? job->bn_id : job->id;
  const size_t in_plane = (size_t) s->in_h * s->in_w, out_plane = (size_t) s->out_h * s->out_w;
  const size_t taps = (size_t) s->k * s->k;
  int off[SS_DW_MAX_TAPS];
  ss_dwconv_offsets (s, off);
  for (int item = begin; item < end; item++)
    {
      const int b = item / n->c, c = item % n->c;
      int ld;
      const float *raw = ss_dwconv_plane (s, run->out[in_id] + (size_t) b * run->stride[in_id]
                                                + c * in_plane,
                                          m->params + n->w_off + c * taps, off, run->dw[thread],
                                          &ld);
      float *out = run->out[out_id] + (size_t) b * run->stride[out_id] + c * out_plane;
      for (int y = 0; y < s->out_h; y++)
        memcpy (out + (size_t) y * s->out_w, raw + (size_t) y * ld, sizeof (float) * s->out_w);
      /* the norm over the whole plane, in cache: rows of 4 to 64 are too short for
       * vectors */
      if (job->bn != NULL)
        bn_row (out, out, out_plane, run->bn_scale[job->bn_id][c], run->bn_shift[job->bn_id][c],
                bn_residual (job, job->bn, b, c, 0), job->bn->act);
    }
}

static void
se_forward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const int in_id = n->inputs[0];
  const size_t state = 2 * (size_t) n->c + 2 * (size_t) n->squeeze;
  (void) thread;
  for (int b = begin; b < end; b++)
    ss_se_forward (n->c, n->squeeze, (size_t) n->h * n->w, m->params + n->w_off,
                   run->out[in_id] + (size_t) b * run->stride[in_id],
                   run->out[job->id] + (size_t) b * run->stride[job->id],
                   run->se_state[job->id] + (size_t) b * state);
}

/* The node's weights packed for tapconv.c, blocks of channels [begin, end). */
static void
pack_weights (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  (void) thread;
  ss_tapconv_pack_range (&job->node->conv, job->m->params + job->node->w_off,
                         job->m->run->tap_w[job->id], begin, end);
}

/* The branches stochastic depth drops in this training pass, from m->draw_seed alone. */
static void
draw_drops (SsModel *m, int n)
{
  SsRng rng;
  ss_rng_seed (&rng, m->draw_seed);
  for (int i = 0; i < m->n_nodes; i++)
    {
      const float p = m->nodes[i].drop;
      float *keep = m->run->drop_scale[i];
      if (keep == NULL)
        continue;
      for (int b = 0; b < n; b++)
        keep[b] = ss_rng_uniform (&rng) < p ? 0.0f : 1.0f / (1.0f - p);
    }
}

void
ss_run_params_changed (SsModel *m)
{
  if (m->run != NULL)
    m->run->tap_packed = NULL;
}

void
ss_run_forward (SsModel *m, const float *x, int n, bool train)
{
  SsRun *run = m->run;
  run->last_train = train;
  if (train)
    {
      run->tap_packed = NULL;  /* the optimizer's step comes next */
      draw_drops (m, n);
    }
  for (int i = 0; i < m->n_nodes; i++)
    {
      const SsNode *node = &m->nodes[i];
      /* a node the trainer leaves as it is normalises as in inference */
      Job job = { .m = m, .node = node, .id = i, .x = x, .n = n,
                  .train = train && i >= m->train_from };
      switch (node->kind)
        {
        case SS_OP_INPUT:
          ss_parallel_for (n, input_forward, &job);
          break;
        case SS_OP_CONV:
          {
            int n_bands = (node->conv.out_h + node->band_rows - 1) / node->band_rows;
            /* inference splits a group of small maps in two so that two threads have
             * images to work on (a batch of 32 at 4 x 4 would be one item). Always in two,
             * whatever the thread count: the GEMM's width changes its rounding with some
             * OpenBLAS kernels (Haswell), and predictions must not depend on the threads.
             * Training keeps the grouping its recorded models were made with. */
            job.group = node->group;
            if (!train && node->group > 1)
              {
                int half = (n + 1) / 2;
                if (half < job.group)
                  job.group = half;
              }
            /* inference without gradients: nothing reads the raw convolution, so the norm
             * after it is applied while the GEMM's output is still in cache */
            if (!train && !run->with_grads && node->fuse_bn)
              {
                job.bn = &m->nodes[i + 1];
                job.bn_id = i + 1;
                for (int c = 0; c < job.bn->c; c++)
                  bn_eval_coeffs (m, job.bn, c, &run->bn_scale[i + 1][c],
                                  &run->bn_shift[i + 1][c]);
              }
            /* inference: the convolutions tapconv.c fits skip im2col (the networks
             * trained before it keep the GEMM path in training, as their recorded models
             * were made; the later ones take it in training too, weights packed anew
             * for every step) */
            if ((!train || m->train_taps) && run->tap_w[i] != NULL
                && ss_tapconv_fits (&node->conv))
              {
                job.tap = true;
                if (run->tap_packed != ss_engine_conv_kernel ())
                  ss_parallel_for (ss_tapconv_pack_blocks (&node->conv), pack_weights, &job);
                /* the tap kernels convolve image by image, whatever the grouping: one
                 * image per item keeps both threads busy on the small maps (a training
                 * batch of 32 at 4 x 4 is a single group) */
                job.group = 1;
              }
            int items = node->group > 1 ? (n + job.group - 1) / job.group : n * n_bands;
            ss_parallel_for (items, conv_forward, &job);
            if (job.bn != NULL)
              i++;  /* the norm is done */
            break;
          }
        case SS_OP_BN:
          ss_parallel_for (node->c, bn_forward, &job);
          break;
        case SS_OP_MAXPOOL:
          ss_parallel_for (n, maxpool_forward, &job);
          break;
        case SS_OP_GAP:
          ss_parallel_for (n, gap_forward, &job);
          break;
        case SS_OP_CONCAT:
          break;  /* its inputs already wrote into its buffer */
        case SS_OP_DENSE:
          if (node->wide)
            ss_parallel_for ((node->c + SS_DENSE_BLOCK - 1) / SS_DENSE_BLOCK, dense_forward_wide,
                             &job);
          else
            ss_parallel_for (n, dense_forward, &job);
          break;
        case SS_OP_DWCONV:
          if (!train && !run->with_grads && node->fuse_bn)
            {
              job.bn = &m->nodes[i + 1];
              job.bn_id = i + 1;
              for (int c = 0; c < job.bn->c; c++)
                bn_eval_coeffs (m, job.bn, c, &run->bn_scale[i + 1][c], &run->bn_shift[i + 1][c]);
            }
          ss_parallel_for (n * node->c, dwconv_forward, &job);
          if (job.bn != NULL)
            i++;  /* the norm is done */
          break;
        case SS_OP_SE:
          ss_parallel_for (n, se_forward, &job);
          break;
        }
    }
  if (!train)
    run->tap_packed = ss_engine_conv_kernel ();  /* every node it fits was packed above */
}

/* ---- backward ----------------------------------------------------------------------- */

static bool
needs_input_grad (const SsModel *m, int id)
{
  return m->nodes[id].kind != SS_OP_INPUT;
}

/* The gradient before the epilogue of one image, (out_c, out_h, out_w): through the
 * pool's winners, the ReLU's mask, or the output gradient itself. */
static const float *
conv_pre_grad (Job *job, int b, float *scratch)
{
  SsRun *run = job->m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int HW = s->out_h * s->out_w;
  const float *out = run->out[job->id] + (size_t) b * run->stride[job->id];
  const float *dout = run->grad[job->id] + (size_t) b * run->stride[job->id];
  if (n->pool)
    {
      ss_pool2_backward (out, dout, run->arg[job->id] + (size_t) b * node_numel (n), s->out_c,
                         s->out_h, s->out_w, n->act == SS_ACT_RELU, scratch);
      return scratch;
    }
  if (n->act == SS_ACT_RELU)
    {
      for (int i = 0; i < s->out_c * HW; i++)
        scratch[i] = out[i] > 0.0f ? dout[i] : 0.0f;
      return scratch;
    }
  return dout;
}

/* Adds image b's input gradient, from its gradient before the epilogue dpre (out_c,
 * out_h, out_w), through tapconv.c: the convolution job->tap_dx of dpre with the
 * turned filters the backward packed into the node's tap_w. */
static void
conv_input_grad_tap (Job *job, int b, const float *dpre, int thread)
{
  SsRun *run = job->m->run;
  const SsConvShape *t = &job->tap_dx;
  const int in_id = job->node->inputs[0];
  const size_t numel = (size_t) t->out_c * t->out_h * t->out_w;
  float *restrict dx = run->dx[thread];
  float *restrict din = run->grad[in_id] + (size_t) b * run->stride[in_id];
  ss_tapconv_source (t, dpre, 0, t->out_h, run->tap_src[thread]);
  ss_tapconv_offsets (t, t->out_h, run->tap_off[thread]);
  ss_tapconv_rows (t, run->tap_w[job->id], run->tap_src[thread], run->tap_off[thread], 0,
                   t->out_h, dx, (size_t) t->out_h * t->out_w);
  for (size_t i = 0; i < numel; i++)
    din[i] += dx[i];
}

/* Adds the weight gradient of images b0 .. b0 + count, whose gradients before the
 * epilogue are in dpre (out_c planes ld floats apart, each image's out_h out_w pixels
 * after the previous image's), through tapconv.c: the images' sources side by side in
 * tap_src, the gradients turned for the kernel in col. */
static void
conv_weight_grad_tap (Job *job, int b0, int count, const float *dpre, size_t ld, int thread)
{
  SsRun *run = job->m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0];
  const size_t src_n = ss_tapconv_src_floats (s);
  for (int g = 0; g < count; g++)
    ss_tapconv_source (s, run->out[in_id] + (size_t) (b0 + g) * run->stride[in_id], 0, s->out_h,
                       run->tap_src[thread] + g * src_n);
  ss_tapconv_offsets (s, s->out_h, run->tap_off[thread]);
  ss_tapconv_weight_grad_turn (s, count, dpre, ld, run->col[thread]);
  ss_tapconv_weight_grad (s, run->tap_src[thread], src_n, count, run->tap_off[thread],
                          run->col[thread], run->pgrad[thread] + n->w_off);
}

/* The node's weights packed for its input gradient (job->tap_dx), blocks [begin, end). */
static void
pack_input_grad_weights (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  (void) thread;
  ss_tapconv_pack_input_grad (&job->node->conv, &job->tap_dx, job->m->params + job->node->w_off,
                              job->m->run->tap_w[job->id], begin, end);
}

/* Small maps: a group of whole images through one GEMM per gradient. */
static void
conv_backward_group (Job *job, int b0, int count, int thread)
{
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0];
  const int K = ss_conv_k (s), HW = s->out_h * s->out_w, N = count * HW;
  float *col = run->col[thread], *dpre = run->pre[thread];
  float *dW = run->pgrad[thread] + n->w_off;
  float *db = run->pgrad[thread] + n->b_off;

  /* gather (out_c, count * HW): the ReLU mask, if any, applied on the way */
  for (int g = 0; g < count; g++)
    {
      const size_t at = (size_t) (b0 + g);
      const float *out = run->out[job->id] + at * run->stride[job->id];
      const float *dout = run->grad[job->id] + at * run->stride[job->id];
      for (int c = 0; c < s->out_c; c++)
        {
          float *dst = dpre + (size_t) c * N + (size_t) g * HW;
          const float *o = out + (size_t) c * HW, *d = dout + (size_t) c * HW;
          for (int i = 0; i < HW; i++)
            dst[i] = n->act != SS_ACT_RELU || o[i] > 0.0f ? d[i] : 0.0f;
        }
    }
  if (job->param_grads)
    {
      if (n->bias)
        for (int c = 0; c < s->out_c; c++)
          {
            float sum = 0.0f;
            for (int i = 0; i < N; i++)
              sum += dpre[(size_t) c * N + i];
            db[c] += sum;
          }
      if (job->tap_dw)
        conv_weight_grad_tap (job, b0, count, dpre, (size_t) N, thread);
      else
        {
          for (int g = 0; g < count; g++)
            ss_im2col (s, run->out[in_id] + (size_t) (b0 + g) * run->stride[in_id], 0, s->out_h,
                       col + (size_t) g * HW, N, run->phase[thread]);
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, s->out_c, K, N, 1.0f, dpre, N,
                       col, N, 1.0f, dW, K);
        }
    }
  if (needs_input_grad (m, in_id) && job->tap)
    for (int g = 0; g < count; g++)
      conv_input_grad_tap (job, b0 + g, conv_pre_grad (job, b0 + g, col), thread);
  else if (needs_input_grad (m, in_id))
    {
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, N, s->out_c, 1.0f,
                   m->params + n->w_off, K, dpre, N, 0.0f, col, N);
      for (int g = 0; g < count; g++)
        ss_col2im_add (s, col + (size_t) g * HW, N, 0, s->out_h,
                       run->grad[in_id] + (size_t) (b0 + g) * run->stride[in_id]);
    }
}

/* One work item = one image, or one group of images for small maps. */
static void
conv_backward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0];
  const int K = ss_conv_k (s);
  const int HW = s->out_h * s->out_w;
  const float *W = m->params + n->w_off;
  float *dW = run->pgrad[thread] + n->w_off;
  float *db = run->pgrad[thread] + n->b_off;
  const bool direct = s->k == 1 && s->stride == 1 && s->pad == 0;
  const bool want_dx = needs_input_grad (m, in_id);

  for (int item = begin; item < end; item++)
    {
      if (n->group > 1)
        {
          int b0 = item * job->group;
          conv_backward_group (job, b0, job->n - b0 < job->group ? job->n - b0 : job->group,
                               thread);
          continue;
        }
      const int b = item;
      const float *in = run->out[in_id] + (size_t) b * run->stride[in_id];
      float *din = run->grad[in_id] + (size_t) b * run->stride[in_id];
      const float *dpre = conv_pre_grad (job, b, run->pre[thread]);

      if (job->param_grads && n->bias)
        for (int c = 0; c < s->out_c; c++)
          {
            float sum = 0.0f;
            for (int i = 0; i < HW; i++)
              sum += dpre[(size_t) c * HW + i];
            db[c] += sum;
          }

      if (want_dx && job->tap)
        conv_input_grad_tap (job, b, dpre, thread);
      if (job->param_grads && job->tap_dw)
        conv_weight_grad_tap (job, b, 1, dpre, (size_t) HW, thread);
      const bool gemm_dw = job->param_grads && !job->tap_dw;
      if (!gemm_dw && (!want_dx || job->tap))
        continue;
      if (direct)
        {
          if (gemm_dw)
            cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, s->out_c, K, HW, 1.0f, dpre, HW,
                         in, HW, 1.0f, dW, K);
          if (want_dx)
            cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, HW, s->out_c, 1.0f, W, K, dpre,
                         HW, 1.0f, din, HW);
          continue;
        }
      /* with the input gradient on the tap kernels col serves the weight gradient alone:
       * the whole image in one GEMM */
      const int rows = job->tap ? s->out_h : n->band_rows;
      for (int y0 = 0; y0 < s->out_h; y0 += rows)
        {
          int y1 = y0 + rows < s->out_h ? y0 + rows : s->out_h;
          int N = (y1 - y0) * s->out_w;
          const float *dpre_band = dpre + (size_t) y0 * s->out_w;
          if (gemm_dw)
            {
              ss_im2col (s, in, y0, y1, run->col[thread], (size_t) N, run->phase[thread]);
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, s->out_c, K, N, 1.0f, dpre_band,
                           HW, run->col[thread], N, 1.0f, dW, K);
            }
          if (want_dx && !job->tap)
            {
              cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, N, s->out_c, 1.0f, W, K,
                           dpre_band, HW, 0.0f, run->col[thread], N);
              ss_col2im_add (s, run->col[thread], (size_t) N, y0, y1, din);
            }
        }
    }
}

/* One image's plane of a norm's backward: through a ReLU whose output is y (NULL: the
 * activation's gradient is in dy already), then the residual gets dy, the branch dy
 * times its stochastic depth d, which is what the norm's gradient sums read; in 16 lanes
 * of float (the same bits on every vector width), each plane's sum then added in
 * double. */
static void
bn_branch_sums (const float *restrict x, const float *restrict y, float *restrict dy,
                float *restrict dr, size_t hw, float d, float mean, float invstd,
                double *sum_dy, double *sum_dy_xhat)
{
  float lane_g[16] = { 0 }, lane_gx[16] = { 0 };
  size_t i = 0;
  if (y != NULL)
    for (size_t j = 0; j < hw; j++)
      dy[j] = y[j] > 0.0f ? dy[j] : 0.0f;
  if (dr != NULL)
    for (size_t j = 0; j < hw; j++)
      dr[j] += dy[j];
  for (; i + 16 <= hw; i += 16)
    for (int l = 0; l < 16; l++)
      {
        const float g = dy[i + l] * d;
        dy[i + l] = g;
        lane_g[l] += g;
        lane_gx[l] += g * (x[i + l] - mean);
      }
  for (; i < hw; i++)
    {
      const float g = dy[i] * d;
      dy[i] = g;
      lane_g[0] += g;
      lane_gx[0] += g * (x[i] - mean);
    }
  float g = 0.0f, gx = 0.0f;
  for (int l = 0; l < 16; l++)
    {
      g += lane_g[l];
      gx += lane_gx[l];
    }
  *sum_dy += g;
  *sum_dy_xhat += (double) gx * invstd;
}

static void
bn_backward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *node = job->node;
  const int id = job->id, in_id = node->inputs[0];
  const size_t hw = (size_t) node->h * node->w;
  const float *gamma = m->params + node->w_off;
  float *dgamma = run->pgrad[thread] + node->w_off;
  float *dbeta = run->pgrad[thread] + node->b_off;
  const bool want_dx = needs_input_grad (m, in_id);

  for (int c = begin; c < end; c++)
    {
      const float mean = run->bn_mean[id][c], invstd = run->bn_invstd[id][c];
      double sum_dy = 0.0, sum_dy_xhat = 0.0;
      const float scale = run->bn_scale[id][c], shift = run->bn_shift[id][c];
      /* pass 1: through the activation, hand the residual its gradient, through the
       * branch's stochastic depth, and reduce */
      for (int b = 0; b < job->n; b++)
        {
          const float *x = run->out[in_id] + (size_t) b * run->stride[in_id] + c * hw;
          const float *y = run->out[id] + (size_t) b * run->stride[id] + c * hw;
          float *dy = run->grad[id] + (size_t) b * run->stride[id] + c * hw;
          float *dr = node->residual >= 0
                        ? run->grad[node->residual] + (size_t) b * run->stride[node->residual]
                            + c * hw
                        : NULL;
          const float d = run->last_train && run->drop_scale[id] != NULL ? run->drop_scale[id][b]
                                                                         : 1.0f;
          if (node->act == SS_ACT_SILU)
            ss_silu_row_backward (x, dy, hw, scale * d, shift * d,
                                  bn_residual (job, node, b, c, 0));
          bn_branch_sums (x, node->act == SS_ACT_RELU ? y : NULL, dy, dr, hw, d, mean, invstd,
                          &sum_dy, &sum_dy_xhat);
        }
      if (job->param_grads)
        {
          dgamma[c] += (float) sum_dy_xhat;
          dbeta[c] += (float) sum_dy;
        }
      if (!want_dx)
        continue;
      /* pass 2: dx = gamma * invstd * (dy - mean(dy) - xhat * mean(dy * xhat)) in training;
       * with fixed statistics only the first term remains */
      const double count = (double) job->n * hw;
      const float mean_dy = run->last_train ? (float) (sum_dy / count) : 0.0f;
      const float mean_dy_xhat = run->last_train ? (float) (sum_dy_xhat / count) : 0.0f;
      const float k = gamma[c] * invstd;
      for (int b = 0; b < job->n; b++)
        {
          const float *x = run->out[in_id] + (size_t) b * run->stride[in_id] + c * hw;
          const float *dy = run->grad[id] + (size_t) b * run->stride[id] + c * hw;
          float *dx = run->grad[in_id] + (size_t) b * run->stride[in_id] + c * hw;
          /* the input's gradient over the output's (grad_in_norm), or added to it */
          if (dx == dy)
            for (size_t i = 0; i < hw; i++)
              {
                float xhat = (x[i] - mean) * invstd;
                dx[i] = k * (dy[i] - mean_dy - xhat * mean_dy_xhat);
              }
          else
            for (size_t i = 0; i < hw; i++)
              {
                float xhat = (x[i] - mean) * invstd;
                dx[i] += k * (dy[i] - mean_dy - xhat * mean_dy_xhat);
              }
        }
    }
}

static void
maxpool_backward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsRun *run = job->m->run;
  const SsNode *n = job->node;
  const int in_id = n->inputs[0];
  const SsNode *src = &job->m->nodes[in_id];
  const size_t numel = node_numel (src);
  for (int b = begin; b < end; b++)
    {
      float *g = run->pre[thread];
      ss_pool2_backward (run->out[job->id] + (size_t) b * run->stride[job->id],
                         run->grad[job->id] + (size_t) b * run->stride[job->id],
                         run->arg[job->id] + (size_t) b * node_numel (n), src->c, src->h, src->w,
                         false, g);
      float *din = run->grad[in_id] + (size_t) b * run->stride[in_id];
      for (size_t i = 0; i < numel; i++)
        din[i] += g[i];
    }
}

static void
gap_backward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsRun *run = job->m->run;
  const int in_id = job->node->inputs[0];
  const SsNode *src = &job->m->nodes[in_id];
  const size_t hw = (size_t) src->h * src->w;
  (void) thread;
  for (int b = begin; b < end; b++)
    {
      const float *dy = run->grad[job->id] + (size_t) b * run->stride[job->id];
      float *dx = run->grad[in_id] + (size_t) b * run->stride[in_id];
      for (int c = 0; c < src->c; c++)
        {
          float g = dy[c] / (float) hw;
          for (size_t i = 0; i < hw; i++)
            dx[c * hw + i] += g;
        }
    }
}

static void
dense_backward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const int in_id = n->inputs[0];
  const int n_in = (int) (n->w_len / n->b_len), n_out = n->c;
  const int nb = end - begin;
  const float *W = m->params + n->w_off;
  const float *dy = run->grad[job->id] + (size_t) begin * run->stride[job->id];
  const int ldy = (int) run->stride[job->id];
  const float *x = run->out[in_id] + (size_t) begin * run->stride[in_id];
  float *dx = run->grad[in_id] + (size_t) begin * run->stride[in_id];
  const int ldx = (int) run->stride[in_id];

  if (n->act == SS_ACT_RELU)
    for (int b = begin; b < end; b++)
      {
        const float *y = run->out[job->id] + (size_t) b * run->stride[job->id];
        float *g = run->grad[job->id] + (size_t) b * run->stride[job->id];
        for (int o = 0; o < n_out; o++)
          if (y[o] <= 0.0f)
            g[o] = 0.0f;
      }

  if (job->param_grads)
    {
      float *dW = run->pgrad[thread] + n->w_off;
      float *db = run->pgrad[thread] + n->b_off;
      /* dW (n_out, n_in) += dy^T (n_out, nb) x (nb, n_in) */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, nb, 1.0f, dy, ldy, x, ldx, 1.0f,
                   dW, n_in);
      for (int b = 0; b < nb; b++)
        for (int o = 0; o < n_out; o++)
          db[o] += dy[(size_t) b * ldy + o];
    }
  if (needs_input_grad (m, in_id))
    cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, n_in, n_out, 1.0f, dy, ldy, W, n_in, 1.0f,
                 dx, ldx);
}

/* One work item = one channel plane of one image. */
static void
dwconv_backward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const SsConvShape *s = &n->conv;
  const int in_id = n->inputs[0];
  const size_t in_plane = (size_t) s->in_h * s->in_w, out_plane = (size_t) s->out_h * s->out_w;
  const size_t taps = (size_t) s->k * s->k;
  const bool want_dx = needs_input_grad (m, in_id);
  int off[SS_DW_MAX_TAPS];
  ss_dwconv_offsets (s, off);
  for (int item = begin; item < end; item++)
    {
      const int b = item / n->c, c = item % n->c;
      const size_t at_in = (size_t) b * run->stride[in_id] + c * in_plane;
      ss_dwconv_plane_backward (s, run->out[in_id] + at_in, m->params + n->w_off + c * taps,
                                run->grad[job->id] + (size_t) b * run->stride[job->id]
                                  + c * out_plane,
                                off, run->dw[thread],
                                job->param_grads ? run->pgrad[thread] + n->w_off + c * taps : NULL,
                                want_dx ? run->grad[in_id] + at_in : NULL);
    }
}

static void
se_backward (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  SsRun *run = m->run;
  const SsNode *n = job->node;
  const int in_id = n->inputs[0];
  const size_t state = 2 * (size_t) n->c + 2 * (size_t) n->squeeze;
  const bool want_dx = needs_input_grad (m, in_id);
  for (int b = begin; b < end; b++)
    ss_se_backward (n->c, n->squeeze, (size_t) n->h * n->w, m->params + n->w_off,
                    run->out[in_id] + (size_t) b * run->stride[in_id],
                    run->grad[job->id] + (size_t) b * run->stride[job->id],
                    run->se_state[job->id] + (size_t) b * state,
                    job->param_grads ? run->pgrad[thread] + n->w_off : NULL,
                    want_dx ? run->grad[in_id] + (size_t) b * run->stride[in_id] : NULL,
                    run->se[thread]);
}

static void
zero_thread_grads (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  (void) begin;
  (void) end;
  memset (job->m->run->pgrad[thread], 0, sizeof (float) * job->m->n_params);
}

/* Images [begin, end) of every gradient buffer (by image: the first nodes' maps are
 * the largest, so a split by node would leave one thread most of the work) */
static void
zero_node_grads (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsModel *m = job->m;
  (void) thread;
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].concat_into < 0 && !grad_in_norm (m, i))
      memset (m->run->grad[i] + (size_t) begin * m->run->stride[i], 0,
              sizeof (float) * m->run->stride[i] * (end - begin));
}

static void
reduce_grads (void *ctx, int begin, int end, int thread)
{
  Job *job = ctx;
  SsRun *run = job->m->run;
  (void) thread;
  for (int i = begin; i < end; i++)
    {
      float sum = run->pgrad[0][i];
      for (int t = 1; t < run->n_threads; t++)
        sum += run->pgrad[t][i];
      run->param_grad[i] = sum;
    }
}

void
ss_run_backward (SsModel *m, const float *logits_grad, int n, bool param_grads, int stop_node)
{
  SsRun *run = m->run;
  Job job = { .m = m, .n = n, .param_grads = param_grads };

  ss_parallel_for (n, zero_node_grads, &job);
  if (param_grads)
    ss_parallel_each_thread (zero_thread_grads, &job);
  const int last = m->n_nodes - 1;
  for (int b = 0; b < n; b++)
    memcpy (run->grad[last] + (size_t) b * run->stride[last],
            logits_grad + (size_t) b * m->spec.n_classes, sizeof (float) * m->spec.n_classes);

  for (int i = last; i > stop_node; i--)
    {
      const SsNode *node = &m->nodes[i];
      job.node = node;
      job.id = i;
      switch (node->kind)
        {
        case SS_OP_CONV:
          /* a group of small maps at most half the batch, so that two threads have work
           * (always in two whatever the thread count, as inference splits them) */
          job.group = node->group < (n + 1) / 2 ? node->group : (n + 1) / 2;
          /* a training step's input gradients of stride-1 convolutions through tapconv.c
           * (the networks that train their forward on it); the weights packed for it,
           * the forward's packing is gone */
          job.tap = run->last_train && m->train_taps && run->tap_w[i] != NULL
                    && needs_input_grad (m, node->inputs[0])
                    && ss_tapconv_input_grad_shape (&node->conv, &job.tap_dx)
                    && ss_tapconv_fits (&job.tap_dx);
          if (job.tap)
            {
              ss_parallel_for (ss_tapconv_pack_blocks (&job.tap_dx), pack_input_grad_weights,
                               &job);
              run->tap_packed = NULL;
            }
          /* and its weight gradients, the buffers sized for it (ss_run_ensure) */
          job.tap_dw = param_grads && run->last_train && m->train_taps && run->tap_w[i] != NULL
                       && ss_tapconv_weight_grad_fits (&node->conv);
          ss_parallel_for (node->group > 1 ? (n + job.group - 1) / job.group : n, conv_backward,
                           &job);
          break;
        case SS_OP_BN:
          ss_parallel_for (node->c, bn_backward, &job);
          break;
        case SS_OP_MAXPOOL:
          ss_parallel_for (n, maxpool_backward, &job);
          break;
        case SS_OP_GAP:
          ss_parallel_for (n, gap_backward, &job);
          break;
        case SS_OP_DENSE:
          ss_parallel_for (n, dense_backward, &job);
          break;
        case SS_OP_DWCONV:
          ss_parallel_for (n * node->c, dwconv_backward, &job);
          break;
        case SS_OP_SE:
          ss_parallel_for (n, se_backward, &job);
          break;
        case SS_OP_INPUT:
        case SS_OP_CONCAT:
          break;
        }
    }
  if (param_grads && run->n_threads > 1)
    ss_parallel_for ((int) m->n_params, reduce_grads, &job);
}

bool
ss_run_bn_batch_stats (SsModel *m, int node, float *mean, float *var)
{
  SsRun *run = m->run;
  if (run == NULL || !run->last_train || node < 0 || node >= m->n_nodes
      || m->nodes[node].kind != SS_OP_BN)
    return false;
  for (int c = 0; c < m->nodes[node].c; c++)
    {
      const double invstd = run->bn_invstd[node][c];
      mean[c] = run->bn_mean[node][c];
      var[c] = (float) fmax (1.0 / (invstd * invstd) - SS_BN_EPS, 0.0);
    }
  return true;
}
