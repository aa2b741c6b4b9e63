/* The model file and ensemble loaders (src/engine/modelfile.c, ensemble.c).
 *
 * The first byte picks what the rest is: with bit 0 clear, the bytes as they are (the
 * checksum refuses nearly every mutation); with it set, a mutated file whose total size
 * and CRC-32 fields, and those of each ensemble member that fits, are made right again,
 * so that the fields behind the envelope are reached. A model that loads must save,
 * load again to the same bytes, and (when small) predict without fault; one that does
 * not must say why. */
#include "fuzz-util.h"

#include "engine-private.h"

#include <string.h>

static void
fix_envelope (uint8_t *buf, size_t n)
{
  if (n < 20)
    return;
  ss_put_u64 (buf + 8, n);
  ss_put_u32 (buf + n - 4, ss_crc32 (0, buf, n - 4));
}

static void
fix_file (uint8_t *buf, size_t n)
{
  if (n >= 36 && memcmp (buf, "SSE1", 4) == 0)
    {
      uint32_t n_nets = ss_get_u32 (buf + 16), info_len = ss_get_u32 (buf + 24);
      if (n_nets >= 1 && n_nets <= SS_MAX_MEMBERS)
        {
          size_t at = 32 + 8 * (size_t) n_nets + info_len;
          for (uint32_t i = 0; i < n_nets && 32 + 8 * (i + 1) <= n; i++)
            {
              uint64_t size = ss_get_u64 (buf + 32 + 8 * i);
              if (at > n || size > n - at)
                break;
              if (size >= 20 && memcmp (buf + at, "SSM1", 4) == 0)
                fix_envelope (buf + at, size);
              at += size;
            }
        }
    }
  fix_envelope (buf, n);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  ss_engine_set_threads (1);
  const size_t n = size - 1;
  uint8_t *buf = malloc (n > 0 ? n : 1);
  memcpy (buf, data + 1, n);
  if (data[0] & 1)
    fix_file (buf, n);

  SsError error = { 0 };
  SsModel *model = ss_model_load_from_memory (buf, n, &error);
  free (buf);
  if (model == NULL)
    {
      FUZZ_CHECK (error.status != SS_OK && error.message[0] != '\0',
                  "a refused model says nothing (status %d)", error.status);
      return 0;
    }

  /* saved and loaded again: the same model, byte for byte */
  uint8_t *saved = NULL, *again = NULL;
  size_t n_saved = 0, n_again = 0;
  const int several = ss_model_n_members (model) > 0 || ss_model_views (model) > 1;
  SsStatus st = several ? ss_ensemble_to_bytes (model, SS_STORE_F32, &saved, &n_saved, &error)
                        : ss_net_to_bytes (model, SS_STORE_F32, &saved, &n_saved, &error);
  FUZZ_CHECK (st == SS_OK, "a loaded model does not save: %s", error.message);
  SsModel *reloaded = ss_model_load_from_memory (saved, n_saved, &error);
  FUZZ_CHECK (reloaded != NULL, "a saved model does not load: %s", error.message);
  st = several ? ss_ensemble_to_bytes (reloaded, SS_STORE_F32, &again, &n_again, &error)
               : ss_net_to_bytes (reloaded, SS_STORE_F32, &again, &n_again, &error);
  FUZZ_CHECK (st == SS_OK && n_again == n_saved && memcmp (saved, again, n_saved) == 0,
              "a model saved, loaded and saved again changes (%zu, then %zu bytes)", n_saved,
              n_again);
  free (saved);
  free (again);
  ss_model_free (reloaded);

  /* one grey image through a small model: what loads must also run */
  const SsModelSpec *spec = ss_model_spec (model);
  if (ss_model_flops (model) < 2e7)
    {
      const size_t image = (size_t) spec->in_c * spec->in_h * spec->in_w;
      float *x = malloc (sizeof (float) * image);
      float *probs = malloc (sizeof (float) * (size_t) spec->n_classes);
      for (size_t i = 0; i < image; i++)
        x[i] = 0.5f;
      st = ss_model_predict (model, x, 1, probs, &error);
      FUZZ_CHECK (st == SS_OK, "a loaded model does not predict: %s", error.message);
      free (x);
      free (probs);
    }
  ss_model_free (model);
  return 0;
}
