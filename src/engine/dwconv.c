/* Depthwise convolution: one k x k filter per channel, one channel plane at a time. It
 * does k^2 multiply-adds per output against a 1x1 convolution's hundreds, so it is bound
 * by memory, not arithmetic: no im2col, no GEMM. The plane is copied once into a
 * zero-padded source (tapconv.c's, a stride-2 plane split into its four phases), in
 * which tap (ky, kx) of output pixel (y, x) lies at off[tap] + y ws + x: every output
 * row, padding columns included, is then one run of ws floats, and the whole plane one
 * run of out_h ws. The kernel walks that run a block of 64 outputs at a time, the block
 * in vector registers, one fused multiply-add per tap, in (ky, kx) order from zero; the
 * columns past out_w are thrown away. So the AVX-512, AVX2 and plain kernels and
 * ss_ref_dwconv (reference.c) agree to the bit.
 *
 * Training runs the same walk backwards: the weights' gradient as dot products of the
 * output gradient (laid out like the output run, zeros in the thrown-away columns) with
 * the source, and the input's as the output gradient spread back over the taps into a
 * padded plane, then added to the input's plane. */
#include "engine-private.h"

#include <math.h>

#define DW_BLOCK 64  /* outputs a kernel call keeps in registers: 4 AVX-512 vectors */

/* One channel's shape of the node's (in_c = out_c = 1). */
static void
plane_shape (const SsConvShape *s, SsConvShape *p)
{
  ss_conv_shape_init (p, 1, s->in_h, s->in_w, 1, s->k, s->stride, s->pad);
}

/* Floats of the padded source (tapconv.c's layout) and of the output run, each with
 * room for the kernel to read and write whole blocks past the end. */
static void
dw_sizes (const SsConvShape *s, size_t *src, size_t *run, int *ws)
{
  SsConvShape p;
  plane_shape (s, &p);
  const int reach = (s->k - 1) / s->stride;
  *ws = s->out_w + reach;
  *run = ((size_t) s->out_h * *ws + DW_BLOCK - 1) / DW_BLOCK * DW_BLOCK;
  /* the farthest tap lies within the source's last phase plane; a block past the
   * output run's end reads at most DW_BLOCK + k floats past the source */
  *src = ss_tapconv_src_floats (&p) + DW_BLOCK + (size_t) s->k;
}

size_t
ss_dwconv_scratch_floats (const SsConvShape *s)
{
  size_t src, run;
  int ws;
  dw_sizes (s, &src, &run, &ws);
  return 2 * src + 2 * run;  /* source, run; backward: its gradient, the source's */
}

bool
ss_dwconv_fits (const SsConvShape *s)
{
  return s->in_c == s->out_c && s->k % 2 == 1 && s->k >= 3 && s->k * s->k <= SS_DW_MAX_TAPS
         && s->pad == s->k / 2 && (s->stride == 1 || s->stride == 2);
}

/* ---- the kernels ---------------------------------------------------------------------- */

typedef void (*DwTapsFn) (const float *src, const int *off, int taps, const float *w,
                          float *out, size_t n);

/* out[j] = sum over taps t of w[t] src[off[t] + j], j in [0, n), n a multiple of the
 * block: the block's accumulators stay in registers while the taps go by. */
static void
dw_taps_plain (const float *src, const int *off, int taps, const float *w, float *out,
               size_t n)
{
  for (size_t j = 0; j < n; j += DW_BLOCK)
    {
      float acc[DW_BLOCK] = { 0 };
      for (int t = 0; t < taps; t++)
        for (int l = 0; l < DW_BLOCK; l++)
          acc[l] = fmaf (w[t], src[off[t] + j + l], acc[l]);
      memcpy (out + j, acc, sizeof acc);
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define SS_DW_X86 1
/* The same with NV vectors of VL floats (NV VL = DW_BLOCK), written out: left to itself
 * the compiler interleaves scalar and vector code. */
#define SS_DW_TAPS(NAME, TARGET, VEC, VL, ZERO, LOADU, SET1, FMA, STOREU)                    \
  __attribute__ ((target (TARGET))) static void NAME (const float *src, const int *off,     \
                                                      int taps, const float *w, float *out, \
                                                      size_t n)                             \
  {                                                                                         \
    enum { NV = DW_BLOCK / VL };                                                            \
    for (size_t j = 0; j < n; j += DW_BLOCK)                                                \
      {                                                                                     \
        VEC acc[NV];                                                                        \
        for (int v = 0; v < NV; v++)                                                        \
          acc[v] = ZERO ();                                                                 \
        for (int t = 0; t < taps; t++)                                                      \
          {                                                                                 \
            const float *p = src + off[t] + j;                                              \
            const VEC wt = SET1 (w[t]);                                                     \
            for (int v = 0; v < NV; v++)                                                    \
              acc[v] = FMA (wt, LOADU (p + v * VL), acc[v]);                                \
          }                                                                                 \
        for (int v = 0; v < NV; v++)                                                        \
          STOREU (out + j + v * VL, acc[v]);                                                \
      }                                                                                     \
  }

SS_DW_TAPS (dw_taps_avx512, "avx512f", __m512, 16, _mm512_setzero_ps, _mm512_loadu_ps,
            _mm512_set1_ps, _mm512_fmadd_ps, _mm512_storeu_ps)
SS_DW_TAPS (dw_taps_avx2, "avx2,fma", __m256, 8, _mm256_setzero_ps, _mm256_loadu_ps,
            _mm256_set1_ps, _mm256_fmadd_ps, _mm256_storeu_ps)
#endif

/* The backward's two loops, plain C that the compiler vectorises for each instruction
 * set, contraction off: the same bits on every one. weight_grad[t] += the sum over j of
 * g[j] src[off[t] + j] in 16 lanes added in order (n a multiple of 16); the spread adds
 * w[t] g[j] to dsrc[off[t] + j]. */
typedef void (*DwWeightGradFn) (const float *src, const float *g, const int *off, int taps,
                                size_t n, float *weight_grad);
typedef void (*DwSpreadFn) (float *dsrc, const float *g, const int *off, int taps,
                            const float *w, size_t n);

#define SS_DW_BACKWARD(WEIGHT_GRAD, SPREAD, ATTRIBUTES)                                     \
  ATTRIBUTES static void WEIGHT_GRAD (const float *restrict src, const float *restrict g,   \
                                      const int *off, int taps, size_t n,                  \
                                      float *weight_grad)                                  \
  {                                                                                         \
    for (int t = 0; t < taps; t++)                                                          \
      {                                                                                     \
        float part[16] = { 0 };                                                             \
        const float *restrict x = src + off[t];                                             \
        for (size_t j = 0; j < n; j += 16)                                                  \
          for (int l = 0; l < 16; l++)                                                      \
            part[l] += g[j + l] * x[j + l];                                                 \
        float sum = 0.0f;                                                                   \
        for (int l = 0; l < 16; l++)                                                        \
          sum += part[l];                                                                   \
        weight_grad[t] += sum;                                                              \
      }                                                                                     \
  }                                                                                         \
  ATTRIBUTES static void SPREAD (float *restrict dsrc, const float *restrict g,             \
                                 const int *off, int taps, const float *w, size_t n)        \
  {                                                                                         \
    for (int t = 0; t < taps; t++)                                                          \
      {                                                                                     \
        float *restrict d = dsrc + off[t];                                                  \
        const float wt = w[t];                                                              \
        for (size_t j = 0; j < n; j++)                                                      \
          d[j] += wt * g[j];                                                                \
      }                                                                                     \
  }

SS_DW_BACKWARD (dw_weight_grad_plain, dw_spread_plain,
                __attribute__ ((optimize ("fp-contract=off"))))
#ifdef SS_DW_X86
SS_DW_BACKWARD (dw_weight_grad_avx512, dw_spread_avx512,
                __attribute__ ((target ("avx512f"), optimize ("fp-contract=off"))))
SS_DW_BACKWARD (dw_weight_grad_avx2, dw_spread_avx2,
                __attribute__ ((target ("avx2"), optimize ("fp-contract=off"))))
#endif

typedef struct {
  DwTapsFn       taps;
  DwWeightGradFn weight_grad;
  DwSpreadFn     spread;
} DwKernel;

static const DwKernel kernel_plain = { dw_taps_plain, dw_weight_grad_plain, dw_spread_plain };
#ifdef SS_DW_X86
static const DwKernel kernel_avx512 = { dw_taps_avx512, dw_weight_grad_avx512,
                                        dw_spread_avx512 };
static const DwKernel kernel_avx2 = { dw_taps_avx2, dw_weight_grad_avx2, dw_spread_avx2 };
#endif

static const DwKernel *dw_kernel;

static const DwKernel *
dw_named (const char *name)
{
  const bool best = strcmp (name, "best") == 0;
#ifdef SS_DW_X86
  const bool avx2 = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma");
  const bool avx512 = avx2 && __builtin_cpu_supports ("avx512f");
  if ((best || strcmp (name, "avx512") == 0) && avx512)
    return &kernel_avx512;
  if ((best || strcmp (name, "avx2") == 0) && avx2)
    return &kernel_avx2;
#endif
  return best || strcmp (name, "plain") == 0 ? &kernel_plain : NULL;
}

bool
ss_dwconv_select (const char *name)
{
  const DwKernel *k = dw_named (name);
  if (k != NULL)
    __atomic_store_n (&dw_kernel, k, __ATOMIC_RELEASE);
  return k != NULL;
}

static const DwKernel *
dw_chosen (void)
{
  const DwKernel *k = __atomic_load_n (&dw_kernel, __ATOMIC_ACQUIRE);
  if (k == NULL)
    {
      ss_dwconv_select ("best");
      k = __atomic_load_n (&dw_kernel, __ATOMIC_ACQUIRE);
    }
  return k;
}

/* ---- forward and backward of one plane ------------------------------------------------ */

void
ss_dwconv_offsets (const SsConvShape *s, int *off)
{
  SsConvShape p;
  plane_shape (s, &p);
  ss_tapconv_offsets (&p, s->out_h, off);
}

const float *
ss_dwconv_plane (const SsConvShape *s, const float *in, const float *weight, const int *off,
                 float *scratch, int *ld)
{
  SsConvShape p;
  plane_shape (s, &p);
  size_t src_n, run_n;
  int ws;
  dw_sizes (s, &src_n, &run_n, &ws);
  float *src = scratch, *out = scratch + src_n;
  ss_tapconv_source (&p, in, 0, s->out_h, src);
  dw_chosen ()->taps (src, off, s->k * s->k, weight, out, run_n);
  *ld = ws;
  return out;
}

void
ss_dwconv_plane_backward (const SsConvShape *s, const float *in, const float *weight,
                          const float *out_grad, const int *off, float *scratch,
                          float *weight_grad, float *in_grad)
{
  SsConvShape p;
  plane_shape (s, &p);
  size_t src_n, run_n;
  int ws;
  dw_sizes (s, &src_n, &run_n, &ws);
  float *restrict src = scratch;
  float *restrict g = scratch + src_n + run_n;
  float *restrict dsrc = g + run_n;
  const int taps = s->k * s->k;

  /* the output gradient as an output run: zeros in the columns past out_w */
  memset (g, 0, sizeof (float) * run_n);
  for (int y = 0; y < s->out_h; y++)
    memcpy (g + (size_t) y * ws, out_grad + (size_t) y * s->out_w, sizeof (float) * s->out_w);

  if (weight_grad != NULL)
    {
      /* past the source, where the thrown-away columns' taps read: zeros, so that 0 times
       * whatever lay there adds nothing */
      const size_t used = ss_tapconv_src_floats (&p);
      memset (src + used, 0, sizeof (float) * (src_n - used));
      ss_tapconv_source (&p, in, 0, s->out_h, src);
      dw_chosen ()->weight_grad (src, g, off, taps, run_n, weight_grad);
    }
  if (in_grad == NULL)
    return;
  memset (dsrc, 0, sizeof (float) * src_n);
  dw_chosen ()->spread (dsrc, g, off, taps, weight, run_n);
  /* back from the padded source to the input plane: the inverse of ss_tapconv_source */
  const int st = s->stride, side = st == 2 ? 2 : 1, reach = (s->k - 1) / st;
  const int hs = s->out_h + reach;
  for (int py = 0; py < side; py++)
    for (int px = 0; px < side; px++)
      {
        const float *d = dsrc + (size_t) (py * side + px) * hs * ws;
        for (int r = 0; r < hs; r++, d += ws)
          {
            int y = r * st + py - s->pad;
            if (y < 0 || y >= s->in_h)
              continue;
            float *row = in_grad + (size_t) y * s->in_w;
            for (int j = 0; j < ws; j++)
              {
                int x = j * st + px - s->pad;
                if (x >= 0 && x < s->in_w)
                  row[x] += d[j];
              }
          }
      }
}
