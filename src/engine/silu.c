/* SiLU after a norm: out = silu(in * scale + shift (+ res)) over a run of values, the
 * loop most of EfficientNet's norms spend their time in. ss_exp (engine-private.h) is
 * plain arithmetic, so the compiler vectorises it for each instruction set; contraction
 * into fused multiply-adds is off, so that vector lanes, the scalar tail and every
 * instruction set give the same bits, and a norm carried in a convolution's epilogue
 * (a row at a time) gives what the norm on its own (a plane at a time) gives. */
#include "engine-private.h"

typedef void (*SiluRowFn) (const float *in, float *out, size_t n, float scale, float shift,
                           const float *res);
typedef void (*SiluGradFn) (const float *in, float *grad, size_t n, float scale, float shift,
                            const float *res);

#define SS_SILU_ROW(NAME, ATTRIBUTES)                                                       \
  ATTRIBUTES static void NAME (const float *restrict in, float *restrict out, size_t n,   \
                               float scale, float shift, const float *restrict res)       \
  {                                                                                       \
    if (res != NULL)                                                                      \
      for (size_t i = 0; i < n; i++)                                                      \
        out[i] = ss_silu (in[i] * scale + shift + res[i]);                                \
    else                                                                                  \
      for (size_t i = 0; i < n; i++)                                                      \
        out[i] = ss_silu (in[i] * scale + shift);                                         \
  }

/* grad *= silu'(in * scale + shift + res), the backward of the above */
#define SS_SILU_GRAD(NAME, ATTRIBUTES)                                                      \
  ATTRIBUTES static void NAME (const float *restrict in, float *restrict grad, size_t n,  \
                               float scale, float shift, const float *restrict res)       \
  {                                                                                       \
    if (res != NULL)                                                                      \
      for (size_t i = 0; i < n; i++)                                                      \
        grad[i] *= ss_silu_grad (in[i] * scale + shift + res[i]);                         \
    else                                                                                  \
      for (size_t i = 0; i < n; i++)                                                      \
        grad[i] *= ss_silu_grad (in[i] * scale + shift);                                  \
  }

#define SS_PLAIN __attribute__ ((optimize ("fp-contract=off")))
SS_SILU_ROW (silu_row_plain, SS_PLAIN)
SS_SILU_GRAD (silu_grad_plain, SS_PLAIN)
#if defined(__GNUC__) && defined(__x86_64__)
#define SS_AVX512 __attribute__ ((target ("avx512f"), optimize ("fp-contract=off")))
#define SS_AVX2 __attribute__ ((target ("avx2"), optimize ("fp-contract=off")))
SS_SILU_ROW (silu_row_avx512, SS_AVX512)
SS_SILU_ROW (silu_row_avx2, SS_AVX2)
SS_SILU_GRAD (silu_grad_avx512, SS_AVX512)
SS_SILU_GRAD (silu_grad_avx2, SS_AVX2)
#endif

static SiluRowFn row_fn;
static SiluGradFn grad_fn;

static void
silu_choose (void)
{
  SiluRowFn row = silu_row_plain;
  SiluGradFn grad = silu_grad_plain;
#if defined(__GNUC__) && defined(__x86_64__)
  if (__builtin_cpu_supports ("avx512f"))
    {
      row = silu_row_avx512;
      grad = silu_grad_avx512;
    }
  else if (__builtin_cpu_supports ("avx2"))
    {
      row = silu_row_avx2;
      grad = silu_grad_avx2;
    }
#endif
  __atomic_store_n (&grad_fn, grad, __ATOMIC_RELEASE);
  __atomic_store_n (&row_fn, row, __ATOMIC_RELEASE);
}

void
ss_silu_row (const float *in, float *out, size_t n, float scale, float shift, const float *res)
{
  if (__atomic_load_n (&row_fn, __ATOMIC_ACQUIRE) == NULL)
    silu_choose ();
  row_fn (in, out, n, scale, shift, res);
}

void
ss_silu_row_backward (const float *in, float *grad, size_t n, float scale, float shift,
                      const float *res)
{
  if (__atomic_load_n (&row_fn, __ATOMIC_ACQUIRE) == NULL)
    silu_choose ();
  grad_fn (in, grad, n, scale, shift, res);
}
