/* Which OpenBLAS kernels the engine runs on. OpenBLAS 0.3.21 picks its kernels from the
 * CPU's model number; on CPUs newer than its table (e.g. family 6 model 207 Xeons, which
 * have AVX-512) it falls back to the SSE3 "Prescott" kernels at a fifth of the speed.
 * When OPENBLAS_CORETYPE is not set, Smearscope checks the CPU's features itself and, if
 * OpenBLAS fell back although better kernels would run, starts itself again with
 * OPENBLAS_CORETYPE naming them. A value already set is never changed. */
#include "engine-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char *openblas_get_corename (void);

static const char *selected_by = "openblas";

static const char *
best_coretype (void)
{
#if defined(__x86_64__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return "Haswell";
#endif
  return NULL;
}

void
ss_engine_select_blas (char **argv)
{
  if (getenv ("SMEARSCOPE_BLAS_SELECTED") != NULL)
    {
      selected_by = "smearscope";
      unsetenv ("SMEARSCOPE_BLAS_SELECTED");
      return;
    }
  if (getenv ("OPENBLAS_CORETYPE") != NULL || getenv ("SMEARSCOPE_KEEP_BLAS") != NULL)
    return;
  const char *core = openblas_get_corename ();
  const char *best = best_coretype ();
  if (best == NULL || core == NULL
      || (strcmp (core, "Prescott") != 0 && strcmp (core, "Core2") != 0
          && strcmp (core, "Nehalem") != 0 && strcmp (core, "Sandybridge") != 0))
    return;
  setenv ("OPENBLAS_CORETYPE", best, 1);
  setenv ("SMEARSCOPE_BLAS_SELECTED", best, 1);
  execv ("/proc/self/exe", argv);
  /* exec failed: carry on with what OpenBLAS chose */
  unsetenv ("OPENBLAS_CORETYPE");
  unsetenv ("SMEARSCOPE_BLAS_SELECTED");
}

const char *
ss_engine_blas_selected_by (void)
{
  return selected_by;
}
