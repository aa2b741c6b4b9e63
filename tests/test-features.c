/* ss_model_features: what the final dense layer reads. A tiny ResNet-18 learns "a bright
 * square somewhere" (class 1) against "noise only" (class 0); its pooled features must
 * have width x 8 values, be the same for the same image, and carry what it learned: new
 * images lie nearer their own class's mean feature than the other's. */
#include "engine-test-util.h"

#define SIZE  32
#define WIDTH 4

static void
draw (SsRng *rng, float *x, int cls)
{
  for (int i = 0; i < 3 * SIZE * SIZE; i++)
    x[i] = 0.3f + 0.2f * ss_rng_uniform (rng);
  int sx = (int) ss_rng_below (rng, SIZE - 8), sy = (int) ss_rng_below (rng, SIZE - 8);
  if (cls == 1)
    for (int c = 0; c < 3; c++)
      for (int y = sy; y < sy + 8; y++)
        for (int xx = sx; xx < sx + 8; xx++)
          x[c * SIZE * SIZE + y * SIZE + xx] = c == 1 ? 0.1f : 0.95f;
}

int
main (void)
{
  SsModelSpec spec = tiny_spec (SS_ARCH_RESNET18, SIZE, WIDTH, 2);
  SsError error;
  SsRng rng;
  ss_rng_seed (&rng, 27);
  SsModel *m = ss_model_new (&spec, 5, &error);
  SsOptimConfig optim;
  ss_optim_config_default (&optim, SS_OPTIM_ADAM, 2e-3f);
  const int batch = 16, image = 3 * SIZE * SIZE, n_test = 40;
  SsTrainer *t = ss_trainer_new (m, &optim, batch, &error);
  float *x = malloc (sizeof (float) * image * batch);
  int labels[16];
  for (int step = 0; step < 120; step++)
    {
      for (int b = 0; b < batch; b++)
        {
          labels[b] = b % 2;
          draw (&rng, x + b * image, labels[b]);
        }
      ss_trainer_step (t, x, labels, batch, NULL);
    }

  const size_t dim = ss_model_feature_dim (m);
  CHECK (dim == 8 * WIDTH, "a ResNet-18 of width %d reads %zu features, not %d", WIDTH, dim,
         8 * WIDTH);
  float *f = malloc (sizeof (float) * dim * 2 * n_test);
  float again[8 * WIDTH];
  double means[2][8 * WIDTH] = { { 0 } };
  int near = 0, right = 0;
  for (int i = 0; i < 2 * n_test; i++)
    {
      float probs[2];
      draw (&rng, x, i % 2);
      CHECK (ss_model_features (m, x, 1, f + i * dim, &error) == SS_OK, "features: %s",
             error.message);
      CHECK (ss_model_features (m, x, 1, again, &error) == SS_OK, "features: %s", error.message);
      CHECK (memcmp (again, f + i * dim, dim * sizeof (float)) == 0, "features differ for one image");
      ss_model_predict (m, x, 1, probs, &error);
      right += (probs[1] > 0.5f) == (i % 2 == 1);
    }
  for (int i = 0; i < n_test; i++)  /* the first half fits the means, the second is tested */
    for (size_t j = 0; j < dim; j++)
      means[i % 2][j] += f[i * dim + j] / (n_test / 2);
  for (int i = n_test; i < 2 * n_test; i++)
    {
      double d[2] = { 0, 0 };
      for (int c = 0; c < 2; c++)
        for (size_t j = 0; j < dim; j++)
          d[c] += (f[i * dim + j] - means[c][j]) * (f[i * dim + j] - means[c][j]);
      near += d[i % 2] < d[1 - i % 2];
    }
  printf ("classified %d of %d; features: %d of %d new images nearer their own class's mean\n",
          right, 2 * n_test, near, n_test);
  CHECK (right >= 2 * n_test * 9 / 10, "the tiny model did not learn the square (%d/%d)", right,
         2 * n_test);
  CHECK (near >= n_test * 9 / 10, "the features separate only %d of %d", near, n_test);
  free (f);
  free (x);
  ss_trainer_free (t);
  ss_model_free (m);
  return test_summary ("test-features");
}
