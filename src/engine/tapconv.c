/* Inference convolution without im2col ("tap" convolution). An output tile of RR rows of
 * VL pixels by NC channels stays in vector registers while the kernel walks the taps
 * (ci, ky, kx): for each tap it loads the RR input vectors the tap sees and adds them,
 * times each channel's weight, with a fused multiply-add. The input is copied once per
 * band into a zero-padded source (a stride-2 convolution's split into its phase planes,
 * so that every tap reads consecutive pixels) instead of once per tap into a col
 * matrix that the BLAS then packs again: for a narrow ResNet's thin layers (16 or 32
 * channels, 144 to 288 taps) those copies cost as much as the multiplications. Maps
 * narrower than a vector (8 x 8, 4 x 4) turn the tile round: a few pixels of one row by
 * 32 or 64 channels, the vectors running across channels, each input pixel broadcast.
 *
 * Every output is the sum over taps in the order (ci, ky, kx), one fused multiply-add at
 * a time from zero. So the AVX-512 and AVX2 kernels and ss_ref_tapconv (reference.c, fmaf)
 * agree to the bit, whatever the thread count, batch or band. The im2col + sgemm path
 * rounds differently; inference takes this one where it fits, and so does the training
 * of the networks that ask for it (SsModel.train_taps): their forward, and the input
 * gradient of a stride-1 convolution, which is the convolution of the output gradient
 * with the filters turned round (ss_tapconv_input_grad_shape). */
#include "engine-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define SS_TAP_X86 1
#endif

/* Source layout: (in_c, phases, hs, ws), where phases is 4 for stride 2 with k > 1
 * (plane (py, px) holds padded input pixel (s r + py, s j + px)) and 1 otherwise. */
static int
tap_phases (const SsConvShape *s)
{
  return s->stride == 2 && s->k > 1 ? 4 : 1;
}

static int
tap_reach (const SsConvShape *s)
{
  return (s->k - 1) / s->stride;
}

static void
tap_geometry (const SsConvShape *s, int rows, int *hs, int *ws)
{
  *hs = rows + tap_reach (s);
  *ws = s->out_w + tap_reach (s);
}

size_t
ss_tapconv_src_floats (const SsConvShape *s)
{
  int hs, ws;
  tap_geometry (s, s->out_h, &hs, &ws);
  return (size_t) s->in_c * tap_phases (s) * hs * ws;
}

void
ss_tapconv_offsets (const SsConvShape *s, int rows, int *off)
{
  int hs, ws;
  tap_geometry (s, rows, &hs, &ws);
  const int st = s->stride, ph = tap_phases (s);
  int t = 0;
  for (int ci = 0; ci < s->in_c; ci++)
    for (int ky = 0; ky < s->k; ky++)
      for (int kx = 0; kx < s->k; kx++)
        {
          int plane = ci * ph + (ph == 4 ? (ky % 2) * 2 + kx % 2 : 0);
          off[t++] = (plane * hs + ky / st) * ws + kx / st;
        }
}

void
ss_tapconv_source (const SsConvShape *s, const float *in, int y0, int y1, float *src)
{
  int hs, ws;
  tap_geometry (s, y1 - y0, &hs, &ws);
  const int st = s->stride, ph = tap_phases (s), side = ph == 4 ? 2 : 1;
  for (int ci = 0; ci < s->in_c; ci++)
    for (int py = 0; py < side; py++)
      for (int px = 0; px < side; px++)
        {
          const float *plane = in + (size_t) ci * s->in_h * s->in_w;
          float *d = src + (size_t) (ci * ph + py * side + px) * hs * ws;
          /* columns j with input column st j + px - pad inside [0, in_w) */
          int j0 = 0, j1 = ws;
          while (j0 < ws && st * j0 + px - s->pad < 0)
            j0++;
          while (j1 > j0 && st * (j1 - 1) + px - s->pad >= s->in_w)
            j1--;
          for (int r = 0; r < hs; r++, d += ws)
            {
              int y = (y0 + r) * st + py - s->pad;
              if (y < 0 || y >= s->in_h || j1 <= j0)
                {
                  memset (d, 0, sizeof (float) * (size_t) ws);
                  continue;
                }
              /* column j reads input column st j + px - pad of row y */
              const float *row = plane + (size_t) y * s->in_w;
              const int x0 = st * j0 + px - s->pad;
              for (int j = 0; j < j0; j++)
                d[j] = 0.0f;
              if (st == 1)
                memcpy (d + j0, row + x0, sizeof (float) * (size_t) (j1 - j0));
              else
                for (int j = j0; j < j1; j++)
                  d[j] = row[x0 + 2 * (j - j0)];
              for (int j = j1; j < ws; j++)
                d[j] = 0.0f;
            }
        }
}

/* ---- the kernels ---------------------------------------------------------------------- */

typedef void (*TapTileFn) (const float *src, int ws, const int *off, int K, const float *w,
                           float *out, size_t plane, int out_w);

/* One way of tiling: a tile is rr rows of px pixels by nc channels */
typedef struct {
  int       px, nc, rr;
  TapTileFn tile, tile1;  /* rr rows; one row (a band's last rows, rr > 1) */
} TapTiling;

/* The weight gradient's tile: taps t0 .. t0 + T of channels co0 .. co0 + NCV VL, summed
 * over every pixel of n_img images (the sources src_stride floats apart; the output
 * gradients of those channels NCV VL floats per pixel, one image's pixels after the
 * other's), then stored at sums (co0, t0), rows ld apart */
typedef void (*TapWeightGradFn) (const float *src, size_t src_stride, int n_img, int ws,
                                 int out_h, int out_w, const int *off, const float *dout_t,
                                 float *sums, int ld);

/* A weight-gradient tile of nc channels by taps taps */
typedef struct {
  int             nc, taps;
  TapWeightGradFn tile, tap;  /* taps taps; one (the last of a chunk that taps do not fill) */
} TapWeightGrad;

typedef struct {
  const char   *name;
  int           vl;       /* floats per vector */
  TapTiling     pixels;   /* vectors along a row: maps at least a vector wide */
  TapTiling     chan[2];  /* vectors across channels: narrower maps (px 8, then 4) */
  TapWeightGrad wg[3];    /* the weight gradient, the widest tile whose nc divides out_c */
} TapKernel;

#ifdef SS_TAP_X86
/* acc[r][c] += w[k][c] * src[off[k] + r ws .. + VL) for every tap k; then stored to
 * out + c plane + r out_w. Loops over RR and NC are constant: the compiler unrolls them
 * and keeps the tile in registers. */
#define SS_TAP_TILE(NAME, TARGET, VEC, ZERO, LOADU, SET1, FMA, STOREU, NC, RR)              \
  __attribute__ ((target (TARGET))) static void NAME (                                    \
    const float *src, int ws, const int *off, int K, const float *w, float *out,           \
    size_t plane, int out_w)                                                               \
  {                                                                                        \
    VEC acc[RR][NC];                                                                       \
    for (int r = 0; r < RR; r++)                                                           \
      for (int c = 0; c < NC; c++)                                                         \
        acc[r][c] = ZERO ();                                                               \
    for (int k = 0; k < K; k++, w += NC)                                                   \
      {                                                                                    \
        const float *p = src + off[k];                                                     \
        VEC x[RR];                                                                         \
        for (int r = 0; r < RR; r++)                                                       \
          x[r] = LOADU (p + (size_t) r * ws);                                              \
        for (int c = 0; c < NC; c++)                                                       \
          {                                                                                \
            VEC wc = SET1 (w[c]);                                                          \
            for (int r = 0; r < RR; r++)                                                   \
              acc[r][c] = FMA (wc, x[r], acc[r][c]);                                       \
          }                                                                                \
      }                                                                                    \
    for (int c = 0; c < NC; c++)                                                           \
      for (int r = 0; r < RR; r++)                                                         \
        STOREU (out + c * plane + (size_t) r * out_w, acc[r][c]);                          \
  }

/* Maps narrower than a vector (ResNet's 8 x 8 and 4 x 4): acc[j][v] holds channels
 * v VL .. of pixel j of one row, the tap's input pixels broadcast, the weights of NCV
 * vectors of channels loaded; the tile is turned round through the stack on the way out. */
#define SS_TAP_CTILE(NAME, TARGET, VEC, VL, ZERO, LOADU, SET1, FMA, STOREU, NCV, PC)         \
  __attribute__ ((target (TARGET))) static void NAME (                                    \
    const float *src, int ws, const int *off, int K, const float *w, float *out,           \
    size_t plane, int out_w)                                                               \
  {                                                                                        \
    (void) ws;                                                                             \
    (void) out_w;                                                                          \
    VEC acc[PC][NCV];                                                                      \
    for (int j = 0; j < PC; j++)                                                           \
      for (int v = 0; v < NCV; v++)                                                        \
        acc[j][v] = ZERO ();                                                               \
    for (int k = 0; k < K; k++, w += NCV * VL)                                             \
      {                                                                                    \
        const float *p = src + off[k];                                                     \
        VEC wv[NCV];                                                                       \
        for (int v = 0; v < NCV; v++)                                                      \
          wv[v] = LOADU (w + v * VL);                                                      \
        for (int j = 0; j < PC; j++)                                                       \
          {                                                                                \
            VEC x = SET1 (p[j]);                                                           \
            for (int v = 0; v < NCV; v++)                                                  \
              acc[j][v] = FMA (wv[v], x, acc[j][v]);                                       \
          }                                                                                \
      }                                                                                    \
    float t[PC][NCV * VL];                                                                 \
    for (int j = 0; j < PC; j++)                                                           \
      for (int v = 0; v < NCV; v++)                                                        \
        STOREU (&t[j][v * VL], acc[j][v]);                                                 \
    for (int c = 0; c < NCV * VL; c++)                                                     \
      for (int j = 0; j < PC; j++)                                                         \
        out[c * plane + j] = t[j][c];                                                      \
  }

SS_TAP_CTILE (ctile_avx512_8, "avx512f", __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps,
              _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 2, 8)
SS_TAP_CTILE (ctile_avx512_4, "avx512f", __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps,
              _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 4, 4)
SS_TAP_CTILE (ctile_avx2_4, "avx2,fma", __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps,
              _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, 2, 4)

SS_TAP_TILE (tile_avx512_2, "avx512f", __m512, _mm512_setzero_ps, _mm512_loadu_ps,
             _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 8, 2)
SS_TAP_TILE (tile_avx512_1, "avx512f", __m512, _mm512_setzero_ps, _mm512_loadu_ps,
             _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, 8, 1)
SS_TAP_TILE (tile_avx2_2, "avx2,fma", __m256, _mm256_setzero_ps, _mm256_loadu_ps,
             _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, 4, 2)
SS_TAP_TILE (tile_avx2_1, "avx2,fma", __m256, _mm256_setzero_ps, _mm256_loadu_ps,
             _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, 4, 1)

/* The weight gradient: acc[t][v] holds channels v VL .. of tap t; for each pixel the
 * output gradient's NCV vectors are loaded once and the T taps' input pixels broadcast.
 * Each weight's sum runs over the pixels in order, one fused multiply-add at a time
 * from zero, and no lane is summed with another: every vector width gives the bits of
 * ss_ref_conv_weight_grad. */
#define SS_TAP_WGRAD(NAME, TARGET, VEC, VL, ZERO, LOADU, SET1, FMA, STOREU, NCV, T)           \
  __attribute__ ((target (TARGET))) static void NAME (                                    \
    const float *src, size_t src_stride, int n_img, int ws, int out_h, int out_w,          \
    const int *off, const float *dout_t, float *sums, int ld)                              \
  {                                                                                        \
    VEC acc[T][NCV];                                                                       \
    for (int t = 0; t < T; t++)                                                            \
      for (int v = 0; v < NCV; v++)                                                        \
        acc[t][v] = ZERO ();                                                               \
    for (int b = 0; b < n_img; b++)                                                        \
      for (int y = 0; y < out_h; y++)                                                      \
        for (int x = 0; x < out_w; x++, dout_t += NCV * VL)                                \
          {                                                                                \
            const float *p = src + b * src_stride + (size_t) y * ws + x;                   \
            VEC d[NCV];                                                                    \
            for (int v = 0; v < NCV; v++)                                                  \
              d[v] = LOADU (dout_t + v * VL);                                              \
            for (int t = 0; t < T; t++)                                                    \
              {                                                                            \
                VEC x_t = SET1 (p[off[t]]);                                                \
                for (int v = 0; v < NCV; v++)                                              \
                  acc[t][v] = FMA (d[v], x_t, acc[t][v]);                                  \
              }                                                                            \
          }                                                                                \
    for (int t = 0; t < T; t++)                                                            \
      for (int v = 0; v < NCV; v++)                                                        \
        {                                                                                  \
          float sum[VL];                                                                   \
          STOREU (sum, acc[t][v]);                                                         \
          for (int l = 0; l < VL; l++)                                                     \
            sums[(size_t) (v * VL + l) * ld + t] = sum[l];                                 \
        }                                                                                  \
  }

/* 24 accumulators in every tile: channel vectors by taps 4 x 6, 2 x 12, 1 x 24 */
#define SS_TAP_WGRAD_512(NCV, T)                                                           \
  SS_TAP_WGRAD (wgrad_avx512_##NCV##_##T, "avx512f", __m512, 16, _mm512_setzero_ps,         \
                _mm512_loadu_ps, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps, NCV, T)
#define SS_TAP_WGRAD_256(NCV, T)                                                           \
  SS_TAP_WGRAD (wgrad_avx2_##NCV##_##T, "avx2,fma", __m256, 8, _mm256_setzero_ps,           \
                _mm256_loadu_ps, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps, NCV, T)
SS_TAP_WGRAD_512 (4, 6)
SS_TAP_WGRAD_512 (4, 1)
SS_TAP_WGRAD_512 (2, 12)
SS_TAP_WGRAD_512 (2, 1)
SS_TAP_WGRAD_512 (1, 24)
SS_TAP_WGRAD_512 (1, 1)
SS_TAP_WGRAD_256 (2, 6)
SS_TAP_WGRAD_256 (2, 1)
SS_TAP_WGRAD_256 (1, 12)
SS_TAP_WGRAD_256 (1, 1)

static const TapKernel kernel_avx512 = {
  "avx512", 16, { 16, 8, 2, tile_avx512_2, tile_avx512_1 },
  { { 8, 32, 1, ctile_avx512_8, ctile_avx512_8 }, { 4, 64, 1, ctile_avx512_4, ctile_avx512_4 } },
  { { 64, 6, wgrad_avx512_4_6, wgrad_avx512_4_1 },
    { 32, 12, wgrad_avx512_2_12, wgrad_avx512_2_1 },
    { 16, 24, wgrad_avx512_1_24, wgrad_avx512_1_1 } }
};
static const TapKernel kernel_avx2 = {
  "avx2", 8, { 8, 4, 2, tile_avx2_2, tile_avx2_1 },
  { { 4, 16, 1, ctile_avx2_4, ctile_avx2_4 }, { 0, 0, 0, NULL, NULL } },
  { { 16, 6, wgrad_avx2_2_6, wgrad_avx2_2_1 }, { 8, 12, wgrad_avx2_1_12, wgrad_avx2_1_1 },
    { 0, 0, NULL, NULL } }
};
#endif

#define SS_TAP_WG_MAX_NC 64  /* the widest weight-gradient tile's channels */

static const TapKernel *chosen;
static int decided;

/* The named kernel if this CPU runs it: "avx512", "avx2"; NULL for "gemm" or unknown.
 * *ok says whether the name was one this CPU can honour. */
static const TapKernel *
tap_kernel_named (const char *name, bool *ok)
{
  *ok = true;
#ifdef SS_TAP_X86
  bool avx2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  bool avx512 = avx2 && __builtin_cpu_supports ("avx512f");
  if (strcmp (name, "avx512") == 0 && avx512)
    return &kernel_avx512;
  if (strcmp (name, "avx2") == 0 && avx2)
    return &kernel_avx2;
  if (strcmp (name, "best") == 0)
    return avx512 ? &kernel_avx512 : avx2 ? &kernel_avx2 : NULL;
#endif
  *ok = strcmp (name, "gemm") == 0 || strcmp (name, "best") == 0;
  return NULL;
}

/* The kernel this CPU runs, NULL for none (no FMA vectors here). SMEARSCOPE_CONV=gemm
 * keeps every convolution on im2col + sgemm; =avx2 takes the narrower kernel on an
 * AVX-512 machine (to measure it). Decided once, at the first convolution. */
static const TapKernel *
tap_kernel (void)
{
  if (__atomic_load_n (&decided, __ATOMIC_ACQUIRE))
    return chosen;
  const char *env = getenv ("SMEARSCOPE_CONV");
  bool ok;
  const TapKernel *k = tap_kernel_named (env != NULL ? env : "best", &ok);
  if (!ok)
    {
      k = tap_kernel_named ("best", &ok);
      fprintf (stderr,
               "smearscope: SMEARSCOPE_CONV=%s is not a kernel this CPU has (gemm, avx2, "
               "avx512); using %s\n",
               env, k != NULL ? k->name : "gemm");
    }
  chosen = k;
  __atomic_store_n (&decided, 1, __ATOMIC_RELEASE);
  return chosen;
}

const char *
ss_engine_conv_kernel (void)
{
  const TapKernel *k = tap_kernel ();
  return k != NULL ? k->name : "gemm";
}

bool
ss_tapconv_select (const char *name)
{
  bool ok;
  const TapKernel *k = tap_kernel_named (name, &ok);
  if (!ok)
    return false;
  chosen = k;
  __atomic_store_n (&decided, 1, __ATOMIC_RELEASE);
  return true;
}

/* The tiling for this shape, NULL if none fits (every tile whole along a row and across
 * the channels; stride 1 or 2) */
static const TapTiling *
tap_tiling (const SsConvShape *s)
{
  const TapKernel *k = tap_kernel ();
  if (k == NULL || (s->stride != 1 && s->stride != 2))
    return NULL;
  const TapTiling *all[3] = { &k->pixels, &k->chan[0], &k->chan[1] };
  for (int i = 0; i < 3; i++)
    if (all[i]->px > 0 && s->out_w % all[i]->px == 0 && s->out_c % all[i]->nc == 0)
      return all[i];
  return NULL;
}

int
ss_tapconv_vector (int *channels)
{
  const TapKernel *k = tap_kernel ();
  if (channels != NULL)
    *channels = k != NULL ? k->pixels.nc : 0;
  return k != NULL ? k->vl : 0;
}

bool
ss_tapconv_fits (const SsConvShape *s)
{
  return tap_tiling (s) != NULL;
}

size_t
ss_tapconv_packed_floats (const SsConvShape *s)
{
  return (size_t) s->out_c * ss_conv_k (s);
}

int
ss_tapconv_pack_blocks (const SsConvShape *s)
{
  return s->out_c / tap_tiling (s)->nc;
}

/* (out_c, K) weights to (out_c / nc, K, nc): a tile reads its channels' weights for one
 * tap side by side */
void
ss_tapconv_pack_range (const SsConvShape *s, const float *weight, float *packed, int begin,
                       int end)
{
  const int K = ss_conv_k (s), nc = tap_tiling (s)->nc;
  for (int cb = begin; cb < end; cb++)
    for (int k = 0; k < K; k++)
      for (int c = 0; c < nc; c++)
        packed[((size_t) cb * K + k) * nc + c] = weight[(size_t) (cb * nc + c) * K + k];
}

void
ss_tapconv_pack (const SsConvShape *s, const float *weight, float *packed)
{
  ss_tapconv_pack_range (s, weight, packed, 0, ss_tapconv_pack_blocks (s));
}

bool
ss_tapconv_input_grad_shape (const SsConvShape *s, SsConvShape *t)
{
  /* (a 1 x 1 one needs no im2col on the GEMM path either) */
  if (s->stride != 1 || s->k < 2 || s->pad > s->k - 1)
    return false;
  ss_conv_shape_init (t, s->out_c, s->out_h, s->out_w, s->in_c, s->k, 1, s->k - 1 - s->pad);
  return true;
}

/* As ss_tapconv_pack for t, from s's weights: t's filter ci over tap (co, ky, kx) is s's
 * weight (co, ci, k - 1 - ky, k - 1 - kx) */
void
ss_tapconv_pack_input_grad (const SsConvShape *s, const SsConvShape *t, const float *weight,
                            float *packed, int begin, int end)
{
  const int k = s->k, taps = k * k, K = ss_conv_k (t), nc = tap_tiling (t)->nc;
  for (int cb = begin; cb < end; cb++)
    for (int co = 0; co < s->out_c; co++)
      for (int tap = 0; tap < taps; tap++)
        {
          float *dst = packed + ((size_t) cb * K + (size_t) co * taps + tap) * nc;
          const float *src = weight + ((size_t) co * s->in_c + (size_t) cb * nc) * taps
                             + (taps - 1 - tap);
          for (int c = 0; c < nc; c++)
            dst[c] = src[(size_t) c * taps];
        }
}

/* The weight-gradient tile for this shape, NULL if none fits */
static const TapWeightGrad *
wg_tiling (const SsConvShape *s)
{
  const TapKernel *k = tap_kernel ();
  if (k == NULL || (s->stride != 1 && s->stride != 2))
    return NULL;
  for (int i = 0; i < 3; i++)
    if (k->wg[i].nc > 0 && s->out_c % k->wg[i].nc == 0)
      return &k->wg[i];
  return NULL;
}

bool
ss_tapconv_weight_grad_fits (const SsConvShape *s)
{
  return wg_tiling (s) != NULL;
}

void
ss_tapconv_weight_grad_turn (const SsConvShape *s, int n_img, const float *dout, size_t ld,
                             float *turned)
{
  const int nc = wg_tiling (s)->nc;
  const size_t pixels = (size_t) n_img * s->out_h * s->out_w;
  for (int cb = 0; cb < s->out_c / nc; cb++, turned += pixels * nc)
    for (size_t p = 0; p < pixels; p++)
      for (int c = 0; c < nc; c++)
        turned[p * nc + c] = dout[(size_t) (cb * nc + c) * ld + p];
}

void
ss_tapconv_weight_grad (const SsConvShape *s, const float *src, size_t src_stride, int n_img,
                        const int *off, const float *turned, float *weight_grad)
{
  const TapWeightGrad *wg = wg_tiling (s);
  int hs, ws;
  tap_geometry (s, s->out_h, &hs, &ws);
  const int K = ss_conv_k (s);
  const size_t pixels = (size_t) n_img * s->out_h * s->out_w;
  /* a chunk of taps' sums first in a small block, then added to the gradient's rows a
   * chunk at a time: a tile's own rows lie K floats apart, which for wide layers puts
   * them in the same few cache sets */
  enum { CHUNK = 48 };
  float sums[SS_TAP_WG_MAX_NC * CHUNK];
  for (int co = 0; co < s->out_c; co += wg->nc)
    for (int t0 = 0; t0 < K; t0 += CHUNK)
      {
        const int t1 = K - t0 < CHUNK ? K : t0 + CHUNK;
        for (int t = t0; t < t1;)
          {
            const bool whole = t1 - t >= wg->taps;
            (whole ? wg->tile : wg->tap) (src, src_stride, n_img, ws, s->out_h, s->out_w,
                                          off + t, turned + (size_t) co * pixels,
                                          sums + (t - t0), CHUNK);
            t += whole ? wg->taps : 1;
          }
        for (int c = 0; c < wg->nc; c++)
          {
            float *restrict row = weight_grad + (size_t) (co + c) * K;
            const float *restrict sum = sums + c * CHUNK;
            for (int t = t0; t < t1; t++)
              row[t] += sum[t - t0];
          }
      }
}

void
ss_tapconv_rows (const SsConvShape *s, const float *packed, const float *src, const int *off,
                 int y0, int y1, float *out, size_t plane)
{
  const TapTiling *t = tap_tiling (s);
  int hs, ws;
  tap_geometry (s, y1 - y0, &hs, &ws);
  const int K = ss_conv_k (s);
  for (int y = y0, rows; y < y1; y += rows)
    {
      rows = y1 - y >= t->rr ? t->rr : 1;  /* the band's last rows, one at a time */
      const TapTileFn fn = rows == t->rr ? t->tile : t->tile1;
      for (int x = 0; x < s->out_w; x += t->px)
        {
          const float *sp = src + (size_t) (y - y0) * ws + x;
          float *op = out + (size_t) (y - y0) * s->out_w + x;
          for (int cb = 0; cb < s->out_c / t->nc; cb++)
            fn (sp, ws, off, K, packed + (size_t) cb * K * t->nc, op + (size_t) cb * t->nc * plane,
                plane, s->out_w);
        }
    }
}
