/* A small seeded generator with the same sequence on every platform: splitmix64 to
 * seed, xorshift128+ to run. Training's shuffles, augmentation and init come from it. */
#include "ss-engine.h"

#include <math.h>

static uint64_t
splitmix64 (uint64_t *x)
{
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void
ss_rng_seed (SsRng *rng, uint64_t seed)
{
  uint64_t x = seed;
  rng->s[0] = splitmix64 (&x);
  rng->s[1] = splitmix64 (&x);
  if (rng->s[0] == 0 && rng->s[1] == 0)
    rng->s[1] = 1;
}

uint64_t
ss_rng_next (SsRng *rng)
{
  uint64_t s1 = rng->s[0];
  const uint64_t s0 = rng->s[1];
  const uint64_t result = s0 + s1;
  rng->s[0] = s0;
  s1 ^= s1 << 23;
  rng->s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
  return result;
}

float
ss_rng_uniform (SsRng *rng)
{
  /* 24 high bits: every float in [0,1) this yields is exact */
  return (float) (ss_rng_next (rng) >> 40) * (1.0f / 16777216.0f);
}

/* uniform in (0, 1): never 0, so that its log stays finite */
static float
rng_open_unit (SsRng *rng)
{
  return ((float) (ss_rng_next (rng) >> 40) + 1.0f) * (1.0f / 16777217.0f);
}

float
ss_rng_normal (SsRng *rng)
{
  /* Box-Muller */
  float u1 = rng_open_unit (rng);
  float u2 = ss_rng_uniform (rng);
  return sqrtf (-2.0f * logf (u1)) * cosf (6.28318530718f * u2);
}

uint32_t
ss_rng_below (SsRng *rng, uint32_t bound)
{
  /* Lemire's multiply-shift; the tiny bias is irrelevant for shuffles of datasets */
  return (uint32_t) (((ss_rng_next (rng) >> 32) * (uint64_t) bound) >> 32);
}

float
ss_rng_beta (SsRng *rng, float a)
{
  /* Johnk (1964): with u, v uniform, x = u^(1/a) and y = v^(1/a), x / (x + y) given
   * x + y <= 1 is Beta(a, a); in logs, so that small a does not underflow */
  for (;;)
    {
      float u = rng_open_unit (rng);
      float v = rng_open_unit (rng);
      float lx = logf (u) / a, ly = logf (v) / a;
      float hi = lx > ly ? lx : ly, lo = lx > ly ? ly : lx;
      if (hi + log1pf (expf (lo - hi)) <= 0.0f)
        return 1.0f / (1.0f + expf (ly - lx));
    }
}
