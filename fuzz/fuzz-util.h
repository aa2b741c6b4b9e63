/* What every harness of fuzz/ shares. Each harness is one LLVMFuzzerTestOneInput, linked
 * either with libFuzzer (clang, -Dfuzzing=enabled) or with replay.c, which feeds it the
 * files of a corpus (every build: meson test --suite fuzz-smoke). */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* A property the parser must keep, whatever its input: broken, it stops the run, as a
 * crash would, so that libFuzzer keeps the input and the replay fails. */
#define FUZZ_CHECK(condition, ...)                                                   \
  do                                                                                 \
    {                                                                                \
      if (!(condition))                                                              \
        {                                                                            \
          fprintf (stderr, "%s:%d: %s does not hold: ", __FILE__, __LINE__, #condition); \
          fprintf (stderr, __VA_ARGS__);                                             \
          fputc ('\n', stderr);                                                      \
          abort ();                                                                  \
        }                                                                            \
    }                                                                                \
  while (0)

/* A file of this process's own holding data, for the parsers that read paths: the same
 * path on every call, rewritten each time; removed at exit. suffix may be "". */
const char *fuzz_write_file (const char *suffix, const uint8_t *data, size_t size);
