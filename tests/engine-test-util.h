/* Small helpers shared by the engine tests: a tiny assertion macro and model plumbing. */
#pragma once

#include "engine-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int test_failures;

#define CHECK(cond, ...)                                                                    \
  do                                                                                        \
    {                                                                                       \
      if (!(cond))                                                                          \
        {                                                                                   \
          fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                             \
          fprintf (stderr, __VA_ARGS__);                                                    \
          fprintf (stderr, "\n");                                                           \
          test_failures++;                                                                  \
        }                                                                                   \
    }                                                                                       \
  while (0)

static inline void
fill_random (float *x, size_t n, SsRng *rng, float scale)
{
  for (size_t i = 0; i < n; i++)
    x[i] = scale * (2.0f * ss_rng_uniform (rng) - 1.0f);
}

static inline SsModelSpec
tiny_spec (SsArch arch, int size, int width, int n_classes)
{
  SsModelSpec spec;
  memset (&spec, 0, sizeof spec);
  spec.arch = arch;
  spec.in_c = 3;
  spec.in_h = size;
  spec.in_w = size;
  spec.width = width;
  spec.n_classes = n_classes;
  for (int c = 0; c < n_classes; c++)
    snprintf (spec.class_names[c], SS_NAME_LEN, "class%d", c);
  for (int c = 0; c < 3; c++)
    {
      spec.mean[c] = 0.5f;
      spec.std[c] = 0.25f;
    }
  return spec;
}

/* The whole file at path, malloc'd; aborts if it cannot be read. */
static inline unsigned char *
read_all (const char *path, size_t *n)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    abort ();
  fseek (f, 0, SEEK_END);
  *n = (size_t) ftell (f);
  fseek (f, 0, SEEK_SET);
  unsigned char *buf = malloc (*n);
  if (buf == NULL || fread (buf, 1, *n, f) != *n)
    abort ();
  fclose (f);
  return buf;
}

static inline int
test_summary (const char *name)
{
  if (test_failures == 0)
    printf ("%s: all checks passed\n", name);
  else
    printf ("%s: %d checks failed\n", name, test_failures);
  return test_failures == 0 ? 0 : 1;
}
