/* A lab's own head beside the model's (issue 30): the camera statistics of known images;
 * the lab's head speaking for the images its gate takes and for no other (there the
 * model's probabilities are its own, bit for bit); the head and gate kept by the model
 * file (format version 4) and gone again when removed (the file as before, byte for
 * byte); non-finite values, a model of several networks and a lab section of the wrong
 * size refused. */
#include "engine-test-util.h"

#include <unistd.h>

#define SIZE  32
#define WIDTH 4
#define K     3

/* An image whose red channel is `red` everywhere and whose green and blue are noise. */
static void
draw (SsRng *rng, float *x, float red)
{
  for (int i = 0; i < SIZE * SIZE; i++)
    {
      x[i] = red;
      x[SIZE * SIZE + i] = 0.2f + 0.6f * ss_rng_uniform (rng);
      x[2 * SIZE * SIZE + i] = 0.5f;
    }
}

static unsigned char *
saved (const SsModel *m, const char *path, size_t *n)
{
  SsError error;
  CHECK (ss_model_save (m, path, SS_STORE_F32, &error) == SS_OK, "save: %s", error.message);
  return read_all (path, n);
}

int
main (void)
{
  SsError error;
  SsRng rng;
  ss_rng_seed (&rng, 30);
  const int image = 3 * SIZE * SIZE;
  float *x = malloc (sizeof (float) * image * 4);

  /* the statistics: a flat channel has its value as mean and 90th percentile, no spread;
   * a channel half 0.2 and half 0.8 has mean 0.5, deviation 0.3, 90th percentile 0.8 */
  draw (&rng, x, 0.5f);
  for (int i = 0; i < SIZE * SIZE; i++)
    x[2 * SIZE * SIZE + i] = i < SIZE * SIZE / 2 ? 0.2f : 0.8f;
  float stats[SS_CAMERA_STATS];
  ss_camera_stats (x, 3, SIZE, SIZE, stats);
  CHECK (fabsf (stats[0] - 0.5f) < 1e-5f && stats[1] < 1e-3f
           && fabsf (stats[2] - 0.5f) <= 1.0f / 255,
         "flat red channel: mean %g, deviation %g, 90th percentile %g", stats[0], stats[1],
         stats[2]);
  CHECK (fabsf (stats[6] - 0.5f) < 1e-5f && fabsf (stats[7] - 0.3f) < 1e-4f
           && fabsf (stats[8] - 0.8f) <= 1.0f / 255,
         "two-valued blue channel: mean %g, deviation %g, 90th percentile %g", stats[6],
         stats[7], stats[8]);
  CHECK (stats[4] > 0.1f && stats[4] < 0.25f, "noisy green channel: deviation %g", stats[4]);

  SsModelSpec spec = tiny_spec (SS_ARCH_RESNET18, SIZE, WIDTH, K);
  SsModel *m = ss_model_new (&spec, 5, &error);
  CHECK (m != NULL, "model: %s", error.message);
  CHECK (ss_model_lab_head (m) == NULL, "a new model has no lab head");
  const size_t dim = ss_model_feature_dim (m), len = ss_model_lab_head_len (m);
  CHECK (len == K * dim + K + SS_CAMERA_STATS + 1, "lab head length %zu", len);

  /* two images of the known camera (red 0.3), two of the lab's (red 0.9) */
  draw (&rng, x, 0.3f);
  draw (&rng, x + image, 0.3f);
  draw (&rng, x + 2 * image, 0.9f);
  draw (&rng, x + 3 * image, 0.9f);
  float before[4 * K], after[4 * K], gate[4];
  CHECK (ss_model_predict (m, x, 4, before, &error) == SS_OK, "predict: %s", error.message);
  char path[] = "/tmp/smearscope-lab-head-XXXXXX";
  int fd = mkstemp (path);
  CHECK (fd >= 0, "temporary file");
  close (fd);
  size_t n_plain;
  unsigned char *plain = saved (m, path, &n_plain);

  /* the lab's head: no weight on the features, a bias that makes class 2 certain; the
   * gate: red mean above 0.6 */
  float *lab = calloc (len, sizeof (float));
  lab[K * dim + 2] = 12.0f;
  lab[len - SS_CAMERA_STATS - 1] = 40.0f;
  lab[len - 1] = -24.0f;
  CHECK (ss_model_set_lab_head (m, lab, &error) == SS_OK, "set: %s", error.message);
  CHECK (ss_model_lab_gate (m, x, 4, gate, &error) == SS_OK, "gate: %s", error.message);
  CHECK (gate[0] < 1e-4f && gate[1] < 1e-4f && gate[2] > 0.9999f && gate[3] > 0.9999f,
         "gates %g %g %g %g", gate[0], gate[1], gate[2], gate[3]);
  CHECK (ss_model_predict (m, x, 4, after, &error) == SS_OK, "predict: %s", error.message);
  CHECK (memcmp (before, after, sizeof (float) * 2 * K) == 0,
         "the known camera's images must keep the model's own probabilities");
  for (int i = 2; i < 4; i++)
    CHECK (after[i * K + 2] > 0.9999f && fabsf (after[i * K] - after[i * K + 1]) < 1e-6f,
           "image %d of the lab's camera: %g %g %g, not the lab head's", i, after[i * K],
           after[i * K + 1], after[i * K + 2]);

  /* the file keeps it, as version 4 (with version 3's header, 40 bytes longer than the
   * first version's this model had), and gives the same answers */
  size_t n_lab;
  unsigned char *with_lab = saved (m, path, &n_lab);
  CHECK (n_lab == n_plain + 40 + 4 * len, "with a lab head the file is %zu bytes, not %zu",
         n_lab, n_plain + 40 + 4 * len);
  CHECK (with_lab[4] == 4, "a model with a lab head is written as version %d", with_lab[4]);
  SsModel *back = ss_model_load_from_memory (with_lab, n_lab, &error);
  CHECK (back != NULL, "load: %s", error.message);
  if (back != NULL)
    {
      float again[4 * K];
      CHECK (ss_model_lab_head (back) != NULL
               && memcmp (ss_model_lab_head (back), lab, sizeof (float) * len) == 0,
             "the lab head read back differs");
      CHECK (ss_model_predict (back, x, 4, again, &error) == SS_OK
               && memcmp (again, after, sizeof again) == 0,
             "the model read back answers differently");
      ss_model_free (back);
    }

  /* a lab section one value short (its checksum mended) is refused */
  unsigned char *cut = malloc (n_lab - 4);
  memcpy (cut, with_lab, n_lab - 8);
  for (int b = 0; b < 8; b++)
    cut[8 + b] = (unsigned char) ((uint64_t) (n_lab - 4) >> (8 * b));
  ss_put_u32 (cut + n_lab - 8, ss_crc32 (0, cut, n_lab - 8));
  back = ss_model_load_from_memory (cut, n_lab - 4, &error);
  CHECK (back == NULL && strstr (error.message, "lab's head") != NULL,
         "a lab section one value short: %s", back != NULL ? "loaded" : error.message);
  ss_model_free (back);
  free (cut);

  /* removed, the model is as it was, file and answers */
  CHECK (ss_model_set_lab_head (m, NULL, &error) == SS_OK, "remove: %s", error.message);
  CHECK (ss_model_predict (m, x, 4, after, &error) == SS_OK
           && memcmp (before, after, sizeof before) == 0,
         "without its lab head the model must answer as before");
  size_t n_again;
  unsigned char *again_plain = saved (m, path, &n_again);
  CHECK (n_again == n_plain && memcmp (again_plain, plain, n_plain) == 0,
         "without its lab head the file must be as before, byte for byte");

  /* refused: a value that is not finite (the head stays as it was), a model of several
   * networks */
  lab[7] = NAN;
  CHECK (ss_model_set_lab_head (m, lab, &error) == SS_ERR_ARG && ss_model_lab_head (m) == NULL,
         "a NaN in the lab head must be refused");
  SsModel *members[2] = { ss_model_new (&spec, 6, &error), ss_model_new (&spec, 7, &error) };
  SsModel *pair = ss_ensemble_new (members, 2, &error);
  CHECK (pair != NULL, "ensemble: %s", error.message);
  lab[7] = 0.0f;
  CHECK (pair == NULL || (ss_model_set_lab_head (pair, lab, &error) == SS_ERR_ARG
                          && ss_model_lab_head_len (pair) == 0),
         "a model of several networks has no one head to set a lab's beside");

  ss_model_free (pair);
  ss_model_free (m);
  unlink (path);
  free (plain);
  free (with_lab);
  free (again_plain);
  free (lab);
  free (x);
  return test_summary ("test-engine-lab-head");
}
