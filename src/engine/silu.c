/* SiLU after a norm: out = silu(in * scale + shift (+ res)) over a run of values, the
 * loop most of EfficientNet's norms spend their time in. ss_exp (engine-private.h) is
 * plain arithmetic, so the compiler vectorises it for each instruction set; contraction
 * into fused multiply-adds is off, so that vector lanes, the scalar tail and every
 * instruction set give the same bits, and a norm carried in a convolution's epilogue
 * (a row at a time) gives what the norm on its own (a plane at a time) gives. */
#include "engine-private.h"

typedef void (*SiluRowFn) (const float *in, float *out, size_t n, float scale, float shift,
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

SS_SILU_ROW (silu_row_plain, __attribute__ ((optimize ("fp-contract=off"))))
#if defined(__GNUC__) && defined(__x86_64__)
SS_SILU_ROW (silu_row_avx512, __attribute__ ((target ("avx512f"), optimize ("fp-contract=off"))))
SS_SILU_ROW (silu_row_avx2, __attribute__ ((target ("avx2"), optimize ("fp-contract=off"))))
#endif

static SiluRowFn
silu_row_choose (void)
{
#if defined(__GNUC__) && defined(__x86_64__)
  if (__builtin_cpu_supports ("avx512f"))
    return silu_row_avx512;
  if (__builtin_cpu_supports ("avx2"))
    return silu_row_avx2;
#endif
  return silu_row_plain;
}

void
ss_silu_row (const float *in, float *out, size_t n, float scale, float shift, const float *res)
{
  static SiluRowFn row;
  SiluRowFn fn = __atomic_load_n (&row, __ATOMIC_ACQUIRE);
  if (fn == NULL)
    {
      fn = silu_row_choose ();
      __atomic_store_n (&row, fn, __ATOMIC_RELEASE);
    }
  fn (in, out, n, scale, shift, res);
}
