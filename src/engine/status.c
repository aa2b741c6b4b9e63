/* Errors, aligned memory and tensors: the small things every engine file uses. */
#include "engine-private.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

SsStatus
ss_error_set (SsError *error, SsStatus status, const char *format, ...)
{
  if (error != NULL)
    {
      va_list args;
      error->status = status;
      va_start (args, format);
      vsnprintf (error->message, sizeof error->message, format, args);
      va_end (args);
    }
  return status;
}

const char *
ss_status_name (SsStatus status)
{
  switch (status)
    {
    case SS_OK: return "ok";
    case SS_ERR_NOMEM: return "out of memory";
    case SS_ERR_IO: return "input/output error";
    case SS_ERR_FORMAT: return "bad format";
    case SS_ERR_CHECKSUM: return "checksum mismatch";
    case SS_ERR_VERSION: return "unsupported version";
    case SS_ERR_ARG: return "invalid argument";
    case SS_ERR_INTERRUPTED: return "interrupted";
    }
  return "unknown status";
}

int
ss_argmax (const float *v, int n)
{
  int best = 0;
  for (int i = 1; i < n; i++)
    if (v[i] > v[best])
      best = i;
  return best;
}

void *
ss_aligned_alloc (size_t bytes)
{
  /* 64 bytes: one cache line, and what AVX-512 loads like best */
  size_t rounded = (bytes + 63) & ~(size_t) 63;
  void *p;
  if (rounded == 0)
    rounded = 64;
  p = aligned_alloc (64, rounded);
  if (p != NULL)
    memset (p, 0, rounded);
  return p;
}

void
ss_aligned_free (void *p)
{
  free (p);
}

SsStatus
ss_tensor_init (SsTensor *t, int n, int c, int h, int w)
{
  t->n = n;
  t->c = c;
  t->h = h;
  t->w = w;
  t->owned = 1;
  t->data = ss_aligned_alloc (ss_tensor_numel (t) * sizeof (float));
  return t->data != NULL ? SS_OK : SS_ERR_NOMEM;
}

void
ss_tensor_clear (SsTensor *t)
{
  if (t->owned)
    ss_aligned_free (t->data);
  memset (t, 0, sizeof *t);
}

size_t
ss_tensor_numel (const SsTensor *t)
{
  return (size_t) t->n * t->c * t->h * t->w;
}
