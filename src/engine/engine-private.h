/* What the engine's files share among themselves: the graph, the layer kernels and the
 * thread pool. Nothing outside src/engine (but the tests) includes this. */
#pragma once

#include "ss-engine.h"

#include <stdbool.h>
#include <string.h>

/* ---- thread pool -------------------------------------------------------------------- */

/* fn handles items [begin, end) on worker `thread`; items are split in contiguous,
 * equal ranges so that the split depends only on n_items and the thread count. */
typedef void (*SsParallelFn) (void *ctx, int begin, int end, int thread);
void ss_parallel_for (int n_items, SsParallelFn fn, void *ctx);
/* Run fn(ctx, t, t+1, t) once on each thread t (for per-thread reductions). */
void ss_parallel_each_thread (SsParallelFn fn, void *ctx);
void ss_blas_single_threaded (void);  /* our threads call sgemm; OpenBLAS's must not */
void ss_blas_all_threads (void);      /* OpenBLAS's own threads (bench's sgemm yardstick) */

/* ---- element-wise functions ------------------------------------------------------- */

/* e^x from +, *, / and the float's bits alone, so that the compiler vectorises the loops
 * that call it and a vector lane gives the same bits as the scalar code: x = n ln 2 + r
 * with |r| <= ln 2 / 2, e^r by its Taylor series to r^7 (the rest is below 6e-10 of
 * it), times 2^n through the exponent field. x is held to [-87, 88], where 2^n and the
 * result are normal floats; the reference (reference.c) checks it against expf. */
static inline float
ss_exp (float x)
{
  x = x < -87.0f ? -87.0f : x > 88.0f ? 88.0f : x;
  const float round = 12582912.0f;  /* 1.5 x 2^23: adding it rounds to an integer */
  float t = x * 1.44269504f + round;
  float n = t - round;
  int32_t bits;
  memcpy (&bits, &t, sizeof bits);
  const int32_t exponent = bits - 0x4b400000;  /* the integer n, from t's low bits */
  /* ln 2 in two parts: n times the first is exact for |n| < 256 */
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.0f / 5040.0f;
  p = p * r + 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  memcpy (&bits, &p, sizeof bits);
  /* in unsigned arithmetic, as a vector lane does it: NaN (whose exponent's low bits are
   * 0) stays NaN instead of overflowing an int */
  bits = (int32_t) ((uint32_t) bits + ((uint32_t) exponent << 23));
  memcpy (&p, &bits, sizeof p);
  return p;
}

static inline float
ss_sigmoid (float x)
{
  return 1.0f / (1.0f + ss_exp (-x));
}

static inline float
ss_silu (float x)
{
  return x / (1.0f + ss_exp (-x));
}

/* d silu / dx = s (1 + x (1 - s)), s = sigmoid(x) */
static inline float
ss_silu_grad (float x)
{
  const float s = ss_sigmoid (x);
  return s * (1.0f + x * (1.0f - s));
}

/* out = silu(in * scale + shift + res) over n values (res may be NULL; in may be out):
 * vectorised, the same bits on every instruction set (silu.c) */
void ss_silu_row (const float *in, float *out, size_t n, float scale, float shift,
                  const float *res);
/* grad *= silu'(in * scale + shift + res): back through the above */
void ss_silu_row_backward (const float *in, float *grad, size_t n, float scale, float shift,
                           const float *res);

/* ---- layer kernels (one file per kind; plain-loop twins in reference.c) ------------ */

/* Convolution geometry of one image. */
typedef struct {
  int in_c, in_h, in_w;
  int out_c, out_h, out_w;
  int k, stride, pad;
} SsConvShape;

void ss_conv_shape_init (SsConvShape *s, int in_c, int in_h, int in_w, int out_c, int k,
                         int stride, int pad);
static inline int ss_conv_k (const SsConvShape *s) { return s->in_c * s->k * s->k; }

/* col is (in_c*k*k, (y1-y0)*out_w), rows ld floats apart: the input patches of output
 * rows [y0, y1). scratch, of ss_im2col_scratch (s) floats, lets stride-2 convolutions
 * gather their input once instead of once per kernel tap; NULL (or a size of 0) takes
 * the plain path. Both write the same col. */
void ss_im2col (const SsConvShape *s, const float *in, int y0, int y1, float *col, size_t ld,
                float *scratch);
size_t ss_im2col_scratch (const SsConvShape *s);
/* Adds col (same layout) back into in_grad (in_c, in_h, in_w). */
void ss_col2im_add (const SsConvShape *s, const float *col, size_t ld, int y0, int y1,
                    float *in_grad);

/* Inference convolution without im2col (tapconv.c), where ss_tapconv_fits: the band of
 * output rows [y0, y1) of one image, raw (no bias), into out (out_c planes `plane`
 * floats apart, each from output row y0 on: the image's own planes, or a band's).
 * src (ss_tapconv_src_floats) is filled by ss_tapconv_source, off (ss_conv_k ints) by
 * ss_tapconv_offsets for the same number of rows, packed by ss_tapconv_pack. */
bool ss_tapconv_fits (const SsConvShape *s);
/* Take the named kernel ("avx512", "avx2", "gemm" for none, "best"); false if this CPU
 * has not got it. For tests and bench: models made before keep their run's buffers. */
bool ss_tapconv_select (const char *name);
int ss_tapconv_vector (int *channels);  /* pixels per vector (0: none), channels per tile */
size_t ss_tapconv_src_floats (const SsConvShape *s);
size_t ss_tapconv_packed_floats (const SsConvShape *s);
void ss_tapconv_pack (const SsConvShape *s, const float *weight, float *packed);
/* The same for the blocks of channels [begin, end) of ss_tapconv_pack_blocks (s) alone,
 * so that threads can share it */
int  ss_tapconv_pack_blocks (const SsConvShape *s);
void ss_tapconv_pack_range (const SsConvShape *s, const float *weight, float *packed,
                            int begin, int end);
void ss_tapconv_source (const SsConvShape *s, const float *in, int y0, int y1, float *src);
void ss_tapconv_offsets (const SsConvShape *s, int rows, int *off);
void ss_tapconv_rows (const SsConvShape *s, const float *packed, const float *src,
                      const int *off, int y0, int y1, float *out, size_t plane);
/* The input gradient of a stride-1 convolution s whose output is as large as its input
 * would be with its padding: a convolution t of the output gradient (s's out_c planes)
 * with the filters transposed and turned half round, padding k - 1 - pad (false for
 * other strides and for 1 x 1). ss_tapconv_pack_input_grad packs s's (out_c, in_c, k, k)
 * weights for t where ss_tapconv_fits (t) (ss_tapconv_packed_floats (t) floats), blocks
 * [begin, end) of ss_tapconv_pack_blocks (t). */
bool ss_tapconv_input_grad_shape (const SsConvShape *s, SsConvShape *t);
/* The weight gradient of n_img images: weight_grad (out_c, K) gets, added, each
 * weight's sum over the images' pixels in order. src holds each image's source
 * (ss_tapconv_source over all out_h rows), src_stride floats apart, off the offsets of
 * ss_tapconv_offsets (s, out_h); turned the output gradients as ..._turn lays them out
 * (out_c n_img out_h out_w floats) from dout: out_c planes ld floats apart, each image's
 * out_h out_w pixels after the previous one's. Where ss_tapconv_weight_grad_fits. */
bool ss_tapconv_weight_grad_fits (const SsConvShape *s);
void ss_tapconv_weight_grad_turn (const SsConvShape *s, int n_img, const float *dout,
                                  size_t ld, float *turned);
void ss_tapconv_weight_grad (const SsConvShape *s, const float *src, size_t src_stride,
                             int n_img, const int *off, const float *turned,
                             float *weight_grad);
void ss_tapconv_pack_input_grad (const SsConvShape *s, const SsConvShape *t,
                                 const float *weight, float *packed, int begin, int end);

/* Epilogue read straight after the GEMM of a band of output rows:
 * pre is (out_c, rows, out_w) with rows even; out gets relu?(max2x2(pre) + bias) at
 * pooled rows [y0/2, y1/2) of an (out_c, out_h/2, out_w/2) map, argmax in arg (0..3). */
void ss_pool2_bias_relu (const float *pre, int out_c, int y0, int y1, int out_h, int out_w,
                         const float *bias, bool relu, float *out, uint8_t *arg);
/* Backward of the above for one whole image: pre_grad (out_c, out_h, out_w) is written
 * whole (zeros where no gradient goes). */
void ss_pool2_backward (const float *out, const float *out_grad, const uint8_t *arg,
                        int out_c, int out_h, int out_w, bool relu, float *pre_grad);

/* Depthwise convolution (dwconv.c), one channel plane at a time. s is the node's shape
 * (in_c == out_c; k odd, 3 to 7; stride 1 or 2; padding k / 2: ss_dwconv_fits), in one
 * (in_h, in_w) input plane, weight its (k, k) filter, off the k^2 tap offsets of
 * ss_dwconv_offsets (s). The forward returns the plane's raw (out_h, out_w) output in
 * scratch, rows *ld floats apart; the backward adds the filter's gradient to weight_grad
 * and the input's to in_grad (either may be NULL). scratch holds
 * ss_dwconv_scratch_floats (s) floats. Every kernel gives the bits of ss_ref_dwconv;
 * ss_dwconv_select takes one ("avx512", "avx2", "plain", "best"; false if this CPU has
 * not got it), for tests. */
#define SS_DW_MAX_TAPS 49
bool         ss_dwconv_fits (const SsConvShape *s);
size_t       ss_dwconv_scratch_floats (const SsConvShape *s);
void         ss_dwconv_offsets (const SsConvShape *s, int *off);
const float *ss_dwconv_plane (const SsConvShape *s, const float *in, const float *weight,
                              const int *off, float *scratch, int *ld);
void         ss_dwconv_plane_backward (const SsConvShape *s, const float *in,
                                       const float *weight, const float *out_grad,
                                       const int *off, float *scratch, float *weight_grad,
                                       float *in_grad);
bool         ss_dwconv_select (const char *name);

/* Squeeze and excitation (se.c) of one image: x is (c, hw); params hold w1 (q, c), b1
 * (q), w2 (c, q), b2 (c) in that order. The forward writes y = x * gate, gate =
 * sigmoid(w2 silu(w1 mean_hw(x) + b1) + b2), and keeps the channel means (c), the
 * squeezed sums before and after their SiLU (q, q) and the gate (c) in state (2 c + 2 q
 * floats) for the backward, which adds to param_grad (laid out as params) and in_grad
 * (either may be NULL); scratch holds 2 c + q floats. */
size_t ss_se_params (int c, int q);
void   ss_se_forward (int c, int q, size_t hw, const float *params, const float *x, float *y,
                      float *state);
void   ss_se_backward (int c, int q, size_t hw, const float *params, const float *x,
                       const float *y_grad, const float *state, float *param_grad,
                       float *in_grad, float *scratch);

/* ---- the graph ---------------------------------------------------------------------- */

/* What follows a layer's sum, element by element. */
typedef enum {
  SS_ACT_NONE = 0,
  SS_ACT_RELU,
  SS_ACT_SILU,  /* x sigmoid(x) (Ramachandran et al.'s swish; EfficientNet's) */
} SsAct;

typedef enum {
  SS_OP_INPUT = 0, /* normalises raw [0,1] input */
  SS_OP_CONV,      /* conv + optional bias, then optional fused ReLU or 2x2 max-pool+ReLU */
  SS_OP_BN,        /* batch norm, then optional residual add, then optional ReLU */
  SS_OP_MAXPOOL,   /* 2x2 stride 2 max-pool */
  SS_OP_GAP,       /* global average pool to (c, 1, 1) */
  SS_OP_CONCAT,    /* flatten + concatenate: its inputs write straight into its buffer */
  SS_OP_DENSE,     /* fully connected, with bias, then optional fused ReLU */
  SS_OP_DWCONV,    /* depthwise convolution: one k x k filter per channel, no bias */
  SS_OP_SE,        /* squeeze and excitation: each channel times a gate from all of them */
} SsOpKind;

#define SS_MAX_INPUTS 4

typedef struct {
  SsOpKind kind;
  int      inputs[SS_MAX_INPUTS];
  int      n_inputs;
  int      c, h, w;  /* output shape of one image */
  /* conv */
  SsConvShape conv;
  bool     bias, pool;
  SsAct    act;        /* conv and dense: none or ReLU; bn: any, after the residual add */
  int      band_rows;  /* output rows per work item (even when pooling) */
  int      group;      /* images per work item: small maps share one GEMM (1 = alone) */
  bool     fuse_bn;    /* the next node is a BN whose only input this is, and nothing else
                        * reads this output: inference applies the norm in the epilogue */
  /* bn */
  int      residual;  /* node whose output is added after the norm, or -1 */
  float    drop;      /* stochastic depth (Huang et al. 2016): in training, the norm's
                       * output is dropped for an image with this probability before the
                       * residual add, and scaled by 1 / (1 - drop) where kept */
  /* se */
  int      squeeze;   /* channels between the two dense layers */
  /* dense */
  bool     wide;      /* weights too big for the caches: read once per batch */
  /* parameters: offsets into the model's parameter blob (weights, then bias or beta) */
  size_t   w_off, w_len, b_off, b_len;
  size_t   buf_off;  /* bn running mean (c) then running var (c), in the buffer blob */
  /* where this node's output lives: a node concatenated into another writes into
   * that node's buffer at concat_off within each image */
  int      concat_into;  /* -1 if none */
  size_t   concat_off;
} SsNode;

#define SS_MAX_NODES 128

struct SsModel {
  SsModelSpec spec;
  SsNode      nodes[SS_MAX_NODES];
  int         n_nodes;
  int         cam_node;  /* last convolutional stage, for Grad-CAM */
  int         feature_node;  /* what the final dense layer reads (ss_model_features) */
  uint64_t    draw_seed;  /* a training forward's random choices (stochastic depth) come
                           * from this alone: the trainer sets it for every step */
  int         train_from; /* a training forward normalises nodes before this one with
                           * their running statistics, left as they are (the trainer's
                           * part, ss_trainer_set_part); 0: every node learns */
  bool        train_taps; /* training's forward convolutions, and the input gradients of
                           * the stride-1 ones, run on tapconv.c where it fits, as
                           * inference's do (the networks added with issue 29 and, since
                           * issue 30, the ResNets; the msCNN keeps im2col + sgemm, as
                           * its recorded models were trained) */
  float      *params;    /* trained values */
  size_t      n_params;
  float      *buffers;   /* running statistics */
  size_t      n_buffers;
  char       *training_info;
  float      *lab_head;  /* a lab's own head and its camera gate (ss_model_set_lab_head):
                          * n_classes x feature dim weights, n_classes biases, then the
                          * gate's SS_CAMERA_STATS weights and its bias; NULL: none */
  int         views;       /* test-time views (1, 2, 4, 8); 0 means 1 */
  float       views_below; /* > 0: the other views only for images less sure than this */
  struct SsModel **members; /* an ensemble's networks (n_members > 0: no graph here) */
  int         n_members;
  /* run-time state, sized for `batch` images */
  struct SsRun *run;
};

typedef struct SsRun SsRun;

/* Graph building (mscnn.c, resnet.c, vgg.c, efficientnet.c) */
int  ss_graph_add (SsModel *m, const SsNode *proto);
int  ss_graph_input (SsModel *m);
int  ss_graph_conv (SsModel *m, int in, int out_c, int k, int stride, bool bias, bool relu,
                    bool pool);
int  ss_graph_bn (SsModel *m, int in, int residual, SsAct act);
int  ss_graph_maxpool (SsModel *m, int in);
int  ss_graph_gap (SsModel *m, int in);
int  ss_graph_concat (SsModel *m, const int *ins, int n_ins);
int  ss_graph_dense (SsModel *m, int in, int out, SsAct act);
/* k x k depthwise convolution, "same" padding (k / 2) */
int  ss_graph_dwconv (SsModel *m, int in, int k, int stride);
int  ss_graph_se (SsModel *m, int in, int squeeze);
/* Lay out the parameter and buffer blobs once the graph is complete (no allocation:
 * n_params and n_buffers are then known), then allocate them. */
SsStatus ss_graph_finish (SsModel *m, SsError *error);
SsStatus ss_graph_allocate (SsModel *m, SsError *error);
void ss_graph_init_params (SsModel *m, uint64_t seed);

/* How many parameters and buffers spec's graph has, without allocating them. */
SsStatus ss_model_count_params (const SsModelSpec *spec, size_t *n_params, size_t *n_buffers,
                                SsError *error);
SsStatus ss_build_mscnn (SsModel *m, SsError *error);
SsStatus ss_build_resnet (SsModel *m, SsError *error);
SsStatus ss_build_vgg (SsModel *m, SsError *error);
SsStatus ss_build_efficientnet (SsModel *m, SsError *error);

/* One network, no views (model.c); ensemble.c builds views and ensembles on them. */
SsStatus ss_net_predict (SsModel *m, const float *x, int n, float *probs, SsError *error);
SsStatus ss_net_gradcam (SsModel *m, const float *x, int cls, float **map, int *map_h,
                         int *map_w, float *prob, SsError *error);
SsStatus ss_ensemble_predict (SsModel *m, const float *x, int n, float *probs, SsError *error);
SsStatus ss_ensemble_gradcam (SsModel *m, const float *x, int cls, float **map, int *map_h,
                              int *map_w, float *prob, SsError *error);

/* Model files (modelfile.c, ensemble.c). */
SsStatus ss_net_to_bytes (const SsModel *m, SsStorage storage, uint8_t **bytes, size_t *n,
                          SsError *error);
SsModel *ss_net_from_bytes (const uint8_t *bytes, size_t n, SsError *error);
SsStatus ss_ensemble_to_bytes (const SsModel *m, SsStorage storage, uint8_t **bytes, size_t *n,
                               SsError *error);
SsModel *ss_ensemble_from_bytes (const uint8_t *bytes, size_t n, SsError *error);
/* The frame both formats share: magic (checked by the caller), u32 version (1 to
 * `version` are read), u64 total size, ..., u32 CRC-32 at the end. `what` names the file
 * in the messages. */
SsStatus ss_check_envelope (const uint8_t *buf, size_t n, size_t header, uint32_t version,
                            const char *what, SsError *error);
/* Replace m's training description with the len bytes at bytes (not NUL-terminated). */
SsStatus ss_model_read_info (SsModel *m, const uint8_t *bytes, size_t len, SsError *error);
void     ss_put_u32 (uint8_t *p, uint32_t v);
void     ss_put_u64 (uint8_t *p, uint64_t v);
uint32_t ss_get_u32 (const uint8_t *p);
uint64_t ss_get_u64 (const uint8_t *p);

/* Execution (net.c). train selects batch statistics for BN. */
SsStatus ss_run_ensure (SsModel *m, int batch, bool with_grads, SsError *error);
void     ss_run_forward (SsModel *m, const float *x, int n, bool train);
/* Say so after writing m->params other than through a training forward and step
 * (loading, copying a backbone, swapping in averaged weights): inference keeps its own
 * packed copy of the convolution weights and repacks it at its next pass. */
void     ss_run_params_changed (SsModel *m);
float   *ss_run_output (SsModel *m);           /* logits (n, n_classes) */
float   *ss_run_node_out (SsModel *m, int node, size_t *image_stride);
float   *ss_run_node_grad (SsModel *m, int node, size_t *image_stride);
/* Backward from logits_grad (n, n_classes); parameter gradients (summed over the
 * batch) land in ss_run_param_grad. With stop_node >= 0 the pass ends once that node's
 * output gradient is whole (the nodes after it done): a convolution's gradient shares
 * its norm's buffer, which the norm's backward overwrites (net.c). -1: the whole graph. */
void     ss_run_backward (SsModel *m, const float *logits_grad, int n, bool param_grads,
                          int stop_node);
float   *ss_run_param_grad (SsModel *m);
/* The last forward's stochastic depth of norm `node`, per image (0: dropped, else the
 * kept branch's scale); NULL when the node has none. For tests. */
const float *ss_run_drop_scale (SsModel *m, int node);
void     ss_run_free (SsRun *run);
/* After a forward in training mode: a batch-norm node's batch mean and (biased) variance
 * per channel, the statistics it normalised with, into mean and var (c floats each);
 * false if the last forward was not in training mode or node is not a batch norm. */
bool     ss_run_bn_batch_stats (SsModel *m, int node, float *mean, float *var);

void ss_softmax_rows (const float *logits, int n, int k, float *probs);

/* fp16 (IEEE binary16) conversion for model storage */
uint16_t ss_f32_to_f16 (float f);
float    ss_f16_to_f32 (uint16_t h);
uint32_t ss_crc32 (uint32_t crc, const void *data, size_t n);

/* loss.c, optim.c */
float ss_softmax_cross_entropy (const float *logits, const int *labels, int n, int k,
                                float smoothing, float *probs, float *dlogits, int *n_correct);
/* lambda * the loss of labels + (1 - lambda) * that of labels2 (mixup); scratch holds
 * n * k floats (needed, with dlogits) */
float ss_mixed_cross_entropy (const float *logits, const int *labels, const int *labels2,
                              float lambda, int n, int k, float smoothing, float *probs,
                              float *dlogits, float *scratch, int *n_correct);
float ss_distill_cross_entropy (const float *logits, const int *labels, const float *soft,
                                float alpha, float temperature, int n, int k, float smoothing,
                                float *probs, float *dlogits, int *n_correct);
void  ss_optim_step (const SsOptimConfig *config, float lr_scale, float *params,
                     const float *grad, float *m, float *v, size_t n, long step);
