/* Batch-norm statistics brought to new images (ss_model_adapt_norms): a network adapted
 * wholly to a batch predicts it, in inference, as a training-mode pass (which divides out
 * the batch's own statistics) does; a network adapted relative to a reference set that
 * is the new set itself is unchanged; adapting only the first norm leaves the others. */
#include "engine-test-util.h"

static void
logits_of (SsModel *m, const float *x, int n, bool train, float *out)
{
  SsError error;
  CHECK (ss_run_ensure (m, n, false, &error) == SS_OK, "%s", error.message);
  ss_run_forward (m, x, n, train);
  memcpy (out, ss_run_output (m), sizeof (float) * n * m->spec.n_classes);
}

static float
max_diff (const float *a, const float *b, size_t n)
{
  float d = 0;
  for (size_t i = 0; i < n; i++)
    d = fmaxf (d, fabsf (a[i] - b[i]));
  return d;
}

static void
check_arch (SsArch arch, int size)
{
  const int n = 24, k = 4;
  SsModelSpec spec = tiny_spec (arch, size, 8, k);
  SsError error;
  SsRng rng;
  ss_rng_seed (&rng, 7);
  SsModel *m = ss_model_new (&spec, 3, &error);
  CHECK (m != NULL, "%s", error.message);
  if (m == NULL)
    return;
  /* trained-looking norms: running statistics far from the new images' */
  for (size_t i = 0; i < m->n_buffers; i++)
    m->buffers[i] = 0.5f + ss_rng_uniform (&rng);
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == SS_OP_BN)
      for (size_t j = 0; j < m->nodes[i].w_len; j++)
        m->params[m->nodes[i].w_off + j] = 0.5f + ss_rng_uniform (&rng);
  ss_run_params_changed (m);
  const size_t image = (size_t) 3 * size * size;
  float *x = malloc (sizeof (float) * image * n);
  for (size_t i = 0; i < image * n; i++)
    x[i] = 0.3f * ss_rng_uniform (&rng) + 0.6f;  /* a pale, low-contrast camera */
  float *before = malloc (sizeof (float) * n * k), *after = malloc (sizeof (float) * n * k);
  float *train = malloc (sizeof (float) * n * k);
  float *saved = malloc (sizeof (float) * m->n_buffers);
  memcpy (saved, m->buffers, sizeof (float) * m->n_buffers);
  logits_of (m, x, n, false, before);
  /* the training-mode pass with every branch kept (as adapting measures) */
  float drops[SS_MAX_NODES];
  for (int i = 0; i < m->n_nodes; i++)
    {
      drops[i] = m->nodes[i].drop;
      m->nodes[i].drop = 0.0f;
    }
  ss_run_free (m->run);
  m->run = NULL;
  logits_of (m, x, n, true, train);
  for (int i = 0; i < m->n_nodes; i++)
    m->nodes[i].drop = drops[i];
  ss_run_free (m->run);
  m->run = NULL;
  memcpy (m->buffers, saved, sizeof (float) * m->n_buffers);
  ss_run_params_changed (m);

  /* relative to itself: nothing moves */
  CHECK (ss_model_adapt_norms (m, x, n, x, n, 0, &error) == SS_OK, "%s", error.message);
  CHECK (max_diff (m->buffers, saved, m->n_buffers) < 1e-5f, "%s: adapted to itself moved",
         ss_arch_name (arch));

  /* wholly: inference now as the training-mode pass (biased against unbiased variance
   * aside, which eps and the batch's size keep small) */
  CHECK (ss_model_adapt_norms (m, NULL, 0, x, n, 0, &error) == SS_OK, "%s", error.message);
  logits_of (m, x, n, false, after);
  float scale = 0;
  for (int i = 0; i < n * k; i++)
    scale = fmaxf (scale, fabsf (train[i]));
  float d_train = max_diff (after, train, (size_t) n * k), d_before = max_diff (before, train, (size_t) n * k);
  CHECK (d_train < 1e-2f * fmaxf (scale, 1.0f), "%s: adapted inference differs from the "
         "training-mode pass by %g (scale %g)", ss_arch_name (arch), d_train, scale);
  CHECK (d_before > 10 * d_train, "%s: the test cannot tell (before %g, after %g)",
         ss_arch_name (arch), d_before, d_train);

  /* the first norm only: the later ones keep their statistics */
  memcpy (m->buffers, saved, sizeof (float) * m->n_buffers);
  CHECK (ss_model_adapt_norms (m, NULL, 0, x, n, 1, &error) == SS_OK, "%s", error.message);
  int first = -1, changed_later = 0, changed_first = 0;
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == SS_OP_BN)
      {
        const SsNode *node = &m->nodes[i];
        float d = max_diff (m->buffers + node->buf_off, saved + node->buf_off, 2 * (size_t) node->c);
        if (first < 0)
          {
            first = i;
            changed_first = d > 1e-3f;
          }
        else
          changed_later += d > 0;
      }
  CHECK (changed_first && changed_later == 0, "%s: --layers 1 changed the first norm %d, "
         "%d later ones", ss_arch_name (arch), changed_first, changed_later);

  CHECK (ss_model_adapt_norms (m, NULL, 0, x, 1, 0, &error) == SS_ERR_ARG,
         "one image was taken for statistics");
  free (x);
  free (before);
  free (after);
  free (train);
  free (saved);
  ss_model_free (m);
}

int
main (void)
{
  ss_engine_set_threads (2);
  check_arch (SS_ARCH_RESNET18, 32);
  check_arch (SS_ARCH_RESNET50, 32);
  check_arch (SS_ARCH_EFFICIENTNET_B0, 32);  /* stochastic depth: every branch measured */
  check_arch (SS_ARCH_VGG16_BN, 32);
  if (test_failures)
    fprintf (stderr, "%d failure(s)\n", test_failures);
  return test_failures ? 1 : 0;
}
