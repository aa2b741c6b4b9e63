/* Grad-CAM must point at what decides the class: a tiny msCNN learns "a bright square
 * somewhere" (class 1) against "noise only" (class 0); for new images, the class-1 map
 * must peak in the cell of the map that holds the square. */
#include "engine-test-util.h"

#define SIZE 64

static void
draw (SsRng *rng, float *x, int cls, int *sq_x, int *sq_y)
{
  for (int i = 0; i < 3 * SIZE * SIZE; i++)
    x[i] = 0.3f + 0.2f * ss_rng_uniform (rng);
  *sq_x = (int) ss_rng_below (rng, SIZE - 6);
  *sq_y = (int) ss_rng_below (rng, SIZE - 6);
  if (cls == 1)
    for (int c = 0; c < 3; c++)
      for (int y = *sq_y; y < *sq_y + 6; y++)
        for (int xx = *sq_x; xx < *sq_x + 6; xx++)
          x[c * SIZE * SIZE + y * SIZE + xx] = c == 1 ? 0.1f : 0.95f;
}

int
main (void)
{
  SsModelSpec spec = tiny_spec (SS_ARCH_MSCNN, SIZE, 8, 2);
  SsError error;
  SsRng rng;
  ss_rng_seed (&rng, 4);
  SsModel *m = ss_model_new (&spec, 11, &error);
  SsOptimConfig optim;
  ss_optim_config_default (&optim, SS_OPTIM_ADAM, 2e-3f);
  const int batch = 16;
  SsTrainer *t = ss_trainer_new (m, &optim, batch, &error);
  float *x = malloc (sizeof (float) * 3 * SIZE * SIZE * batch);
  int labels[16], sx, sy;
  for (int step = 0; step < 150; step++)
    {
      for (int b = 0; b < batch; b++)
        {
          labels[b] = b % 2;
          draw (&rng, x + b * 3 * SIZE * SIZE, labels[b], &sx, &sy);
        }
      ss_trainer_step (t, x, labels, batch, NULL);
    }

  int hits = 0, trials = 20, right = 0;
  for (int i = 0; i < trials; i++)
    {
      draw (&rng, x, 1, &sx, &sy);
      float probs[2];
      ss_model_predict (m, x, 1, probs, &error);
      right += probs[1] > 0.5f;
      float *map = NULL, p;
      int mh, mw;
      CHECK (ss_model_gradcam (m, x, 1, &map, &mh, &mw, &p, &error) == SS_OK, "gradcam: %s",
             error.message);
      int best = 0;
      for (int j = 1; j < mh * mw; j++)
        if (map[j] > map[best])
          best = j;
      /* the square's centre, in map cells */
      int cx = (sx + 3) * mw / SIZE, cy = (sy + 3) * mh / SIZE;
      int bx = best % mw, by = best / mw;
      hits += abs (bx - cx) <= 1 && abs (by - cy) <= 1;
      free (map);
    }
  printf ("classified %d of %d squares; Grad-CAM peak within one cell of the square in %d\n",
          right, trials, hits);
  CHECK (right >= trials * 9 / 10, "the tiny model did not learn the square (%d/%d)", right, trials);
  CHECK (hits >= trials * 8 / 10, "Grad-CAM peaked on the square in only %d of %d", hits, trials);
  free (x);
  ss_trainer_free (t);
  ss_model_free (m);
  return test_summary ("test-gradcam");
}
