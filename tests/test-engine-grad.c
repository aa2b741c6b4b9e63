/* Gradient check: every model kind's backward pass (conv with fused bias/ReLU/pool,
 * batch norm in training mode with residual adds, ReLU or SiLU and stochastic depth,
 * depthwise conv, squeeze and excitation, max-pool, global average pool, concat, dense
 * with and without ReLU, softmax cross-entropy) against central finite differences of
 * the loss, on tiny instances of the real architectures. */
#include "engine-test-util.h"

static float
batch_loss (SsModel *m, const float *x, const int *labels, int n)
{
  float probs[64];
  ss_run_forward (m, x, n, true);
  return ss_softmax_cross_entropy (ss_run_output (m), labels, n, m->spec.n_classes, 0.0f, probs,
                                   NULL, NULL);
}

/* step scales the finite differences' step (1: the loss moves by about 3e-4); part is
 * the part of the network trained (ss_trainer_set_part): the nodes before it normalise
 * with their running statistics and get no gradient */
static void
grad_check_part (SsArch arch, int size, int width, int threads, bool partial, double step,
                 SsTrainPart part)
{
  const int n = 8, k = 3;
  SsModelSpec spec = tiny_spec (arch, size, width, k);
  SsError error;
  SsRng rng;
  ss_engine_set_threads (threads);
  ss_rng_seed (&rng, 99 + arch);
  SsModel *m = ss_model_new (&spec, 5, &error);
  CHECK (m != NULL, "%s: %s", ss_arch_name (arch), error.message);
  if (m == NULL)
    return;
  /* batch-norm gammas start at 0 in residual branches; make them nonzero so that the
   * whole graph carries gradient */
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == SS_OP_BN)
      for (size_t j = 0; j < m->nodes[i].w_len; j++)
        m->params[m->nodes[i].w_off + j] = 0.5f + ss_rng_uniform (&rng);
  size_t image = (size_t) 3 * size * size;
  float *x = malloc (sizeof (float) * image * n);
  for (size_t i = 0; i < image * n; i++)
    x[i] = ss_rng_uniform (&rng);
  int labels[64];
  for (int i = 0; i < n; i++)
    labels[i] = partial && i % 2 ? -1 - i % k : i % k;  /* -1 - c: "not class c" */
  float probs[192], dlogits[192];

  ss_run_ensure (m, n, true, &error);
  SsTrainer *trainer = NULL;
  if (part != SS_TRAIN_ALL)
    {
      /* running statistics unlike the batch's, so that a norm in the wrong mode shows */
      for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].kind == SS_OP_BN)
          for (int c = 0; c < m->nodes[i].c; c++)
            {
              m->buffers[m->nodes[i].buf_off + c] = 0.3f * ss_rng_uniform (&rng);
              m->buffers[m->nodes[i].buf_off + m->nodes[i].c + c] = 0.5f + ss_rng_uniform (&rng);
            }
      SsOptimConfig optim;
      ss_optim_config_default (&optim, SS_OPTIM_ADAM, 1e-3f);
      trainer = ss_trainer_new (m, &optim, n, &error);
      CHECK (trainer != NULL && ss_trainer_set_part (trainer, part, &error) == SS_OK,
             "%s: part %d: %s", ss_arch_name (arch), part, error.message);
      CHECK (m->train_from > 0, "%s: part %d trains from node %d", ss_arch_name (arch), part,
             m->train_from);
    }
  ss_run_forward (m, x, n, true);
  ss_softmax_cross_entropy (ss_run_output (m), labels, n, k, 0.0f, probs, dlogits, NULL);
  ss_run_backward (m, dlogits, n, true, m->train_from - 1);
  float *analytic = malloc (sizeof (float) * m->n_params);
  memcpy (analytic, ss_run_param_grad (m), sizeof (float) * m->n_params);
  /* the part left out gets no gradient at all */
  int nonzero_before = 0;
  for (int node = 0; node < m->train_from; node++)
    for (size_t j = 0; j < m->nodes[node].w_len + m->nodes[node].b_len; j++)
      nonzero_before += analytic[m->nodes[node].w_off + j] != 0.0f;
  CHECK (nonzero_before == 0, "%s: %d gradients before node %d", ss_arch_name (arch),
         nonzero_before, m->train_from);

  /* Per node: the derivative of the loss along that node's own gradient must equal the
   * gradient's squared norm. A whole layer moves at once, so a ReLU or max-pool kink
   * crossed by the step changes the difference little, unlike single-weight checks. */
  int bad = 0, loose = 0, checked = 0;
  for (int node = m->train_from; node < m->n_nodes; node++)
    {
      const SsNode *nd = &m->nodes[node];
      size_t len = nd->w_len + nd->b_len;
      if (len == 0)
        continue;
      const float *g = analytic + nd->w_off;
      double norm2 = 0.0;
      for (size_t j = 0; j < len; j++)
        norm2 += (double) g[j] * g[j];
      if (norm2 < 1e-12)
        continue;
      float *saved = malloc (sizeof (float) * len);
      memcpy (saved, m->params + nd->w_off, sizeof (float) * len);
      /* step so that the loss moves by about 3e-4: big against float rounding, small
       * against curvature */
      const double eps = 1e-3 / sqrt (norm2) / sqrt (norm2) * 0.3 * step;
      for (size_t j = 0; j < len; j++)
        m->params[nd->w_off + j] = saved[j] + (float) (eps * g[j]);
      float lp = batch_loss (m, x, labels, n);
      for (size_t j = 0; j < len; j++)
        m->params[nd->w_off + j] = saved[j] - (float) (eps * g[j]);
      float lm = batch_loss (m, x, labels, n);
      memcpy (m->params + nd->w_off, saved, sizeof (float) * len);
      free (saved);
      double numeric = (lp - lm) / (2.0 * eps);
      double rel = fabs (numeric - norm2) / norm2;
      checked++;
      loose += rel > 0.05;
      if (rel > 0.15)
        {
          bad++;
          fprintf (stderr, "  %s node %d (kind %d): |g|^2 %g, along g %g (rel err %.3f)\n",
                   ss_arch_name (arch), node, nd->kind, norm2, numeric, rel);
        }
    }
  /* batch norm over 8 images is strongly curved, so a few layers' central differences
   * drift a little past 5%; a wrong backward pass is off by far more than 15% */
  CHECK (bad == 0 && loose <= checked / 20 + 1,
         "%s (%d threads): %d of %d layers past 15%%, %d past 5%%", ss_arch_name (arch), threads,
         bad, checked, loose);
  CHECK (checked > 0, "%s: no layer checked", ss_arch_name (arch));
  printf ("%s (%d threads%s): %d of %d layers' gradients within 5%%, all within 15%%: %s\n",
          ss_arch_name (arch), threads,
          part == SS_TRAIN_LAST_STAGE ? ", last stage" : part == SS_TRAIN_HEAD ? ", head" : "",
          checked - loose, checked, bad == 0 ? "yes" : "no");
  ss_trainer_free (trainer);
  free (analytic);
  free (x);
  ss_model_free (m);
}

static void
grad_check (SsArch arch, int size, int width, int threads, bool partial, double step)
{
  grad_check_part (arch, size, width, threads, partial, step, SS_TRAIN_ALL);
}

/* Training a part (ss_trainer_set_part): a few steps leave every parameter and running
 * statistic before it bit for bit as they were, with or without a moving average, and
 * move the part's; the model forgets the part once the trainer is gone. */
static void
part_check (SsArch arch, int size, int width, SsTrainPart part, float ema)
{
  const int n = 6, k = 3;
  SsModelSpec spec = tiny_spec (arch, size, width, k);
  SsError error;
  SsRng rng;
  ss_engine_set_threads (2);
  ss_rng_seed (&rng, 7 + arch);
  SsModel *m = ss_model_new (&spec, 3, &error);
  CHECK (m != NULL, "%s: %s", ss_arch_name (arch), error.message);
  if (m == NULL)
    return;
  float *params = malloc (sizeof (float) * m->n_params);
  float *buffers = malloc (sizeof (float) * m->n_buffers);
  memcpy (params, m->params, sizeof (float) * m->n_params);
  memcpy (buffers, m->buffers, sizeof (float) * m->n_buffers);
  size_t image = (size_t) 3 * size * size;
  float *x = malloc (sizeof (float) * image * n);
  fill_random (x, image * n, &rng, 1.0f);
  int labels[8] = { 0, 1, 2, 0, 1, 2, 0, 1 };
  SsOptimConfig optim;
  ss_optim_config_default (&optim, SS_OPTIM_ADAM, 1e-2f);
  optim.weight_decay = 1e-3f;  /* decay would move a frozen weight the optimiser reached */
  SsTrainer *t = ss_trainer_new (m, &optim, n, &error);
  CHECK (t != NULL && ss_trainer_set_part (t, part, &error) == SS_OK, "%s: %s",
         ss_arch_name (arch), error.message);
  if (ema > 0.0f)
    ss_trainer_set_ema (t, ema, &error);
  const int first = m->train_from;
  float loss0 = 0.0f, loss = 0.0f;
  for (int step = 0; step < 4; step++)
    {
      loss = ss_trainer_step (t, x, labels, n, NULL);
      if (step == 0)
        loss0 = loss;
    }
  ss_trainer_swap_ema (t);
  size_t kept = 0, moved = 0, total_before = 0, total_after = 0;
  for (int i = 0; i < m->n_nodes; i++)
    {
      const SsNode *node = &m->nodes[i];
      size_t len = node->w_len + node->b_len;
      size_t same = 0;
      for (size_t j = 0; j < len; j++)
        same += memcmp (&params[node->w_off + j], &m->params[node->w_off + j], sizeof (float)) == 0;
      if (node->kind == SS_OP_BN)
        for (int c = 0; c < 2 * node->c; c++)
          {
            same += memcmp (&buffers[node->buf_off + c], &m->buffers[node->buf_off + c],
                            sizeof (float)) == 0;
            len++;
          }
      if (i < first)
        {
          kept += same;
          total_before += len;
        }
      else
        {
          moved += len - same;
          total_after += len;
        }
    }
  CHECK (kept == total_before, "%s part %d: %zu of %zu values before node %d changed",
         ss_arch_name (arch), part, total_before - kept, total_before, first);
  CHECK (moved > total_after / 2, "%s part %d: only %zu of %zu values of the part moved",
         ss_arch_name (arch), part, moved, total_after);
  CHECK (loss < loss0, "%s part %d: loss %g -> %g", ss_arch_name (arch), part, (double) loss0,
         (double) loss);
  ss_trainer_free (t);
  CHECK (m->train_from == 0, "the model still trains from node %d", m->train_from);
  printf ("%s, part %d%s: %zu values before node %d of %d kept, %zu of %zu after moved, loss "
          "%.4f -> %.4f\n", ss_arch_name (arch), part, ema > 0.0f ? " (averaged)" : "",
          total_before, first, m->n_nodes, moved, total_after, (double) loss0, (double) loss);
  free (x);
  free (params);
  free (buffers);
  ss_model_free (m);
}

/* The distillation loss's gradient against central differences in the logits, with
 * hard labels of both kinds (a class, and "not class e"), with and without label
 * smoothing. */
static void
distill_grad_check (float smoothing)
{
  enum { N = 3, K = 4 };
  SsRng rng;
  ss_rng_seed (&rng, 99);
  float z[N * K], soft[N * K], probs[N * K], g[N * K], gp[N * K];
  const int labels[N] = { 2, -1 - 3, 0 };
  fill_random (z, N * K, &rng, 2.0f);
  for (int b = 0; b < N; b++)
    {
      float sum = 0.0f;
      for (int j = 0; j < K; j++)
        sum += soft[b * K + j] = 0.05f + ss_rng_uniform (&rng);
      for (int j = 0; j < K; j++)
        soft[b * K + j] /= sum;
    }
  const float alpha = 0.7f, temperature = 2.5f;
  ss_distill_cross_entropy (z, labels, soft, alpha, temperature, N, K, smoothing, probs, g, NULL);
  double max_err = 0.0;
  for (int i = 0; i < N * K; i++)
    {
      const float eps = 1e-2f, keep = z[i];
      z[i] = keep + eps;
      double up = ss_distill_cross_entropy (z, labels, soft, alpha, temperature, N, K, smoothing,
                                            probs, gp, NULL);
      z[i] = keep - eps;
      double down = ss_distill_cross_entropy (z, labels, soft, alpha, temperature, N, K,
                                              smoothing, probs, gp, NULL);
      z[i] = keep;
      double num = (up - down) / (2.0 * eps);
      double e = fabs (num - g[i]) / (1e-3 + fabs (num));
      if (e > max_err)
        max_err = e;
    }
  CHECK (max_err < 2e-2, "distillation loss gradient (smoothing %g): max relative error %g",
         smoothing, max_err);
  /* alpha 0 is the plain loss */
  float plain[N * K];
  float l0 = ss_distill_cross_entropy (z, labels, soft, 0.0f, temperature, N, K, smoothing, probs,
                                       g, NULL);
  float l1 = ss_softmax_cross_entropy (z, labels, N, K, smoothing, probs, plain, NULL);
  CHECK (l0 == l1 && memcmp (g, plain, sizeof g) == 0, "alpha 0 is not the plain loss");
  /* label smoothing s: the gradient of a class label's row is p - ((1 - s) onehot + s / k),
   * so its entries sum to 0 and the label's entry is p_y - 1 + s - s / k */
  if (smoothing > 0.0f)
    {
      float gs[N * K];
      ss_softmax_cross_entropy (z, labels, N, K, smoothing, probs, gs, NULL);
      double sum = 0.0;
      for (int j = 0; j < K; j++)
        sum += gs[j];
      float want = (probs[2] - 1.0f + smoothing - smoothing / K) / N;
      CHECK (fabs (sum) < 1e-6 && fabsf (gs[2] - want) < 1e-6f,
             "smoothed gradient: row sum %g, label entry %g (want %g)", sum, gs[2], want);
    }
}

/* The mixup loss: the blend of the two labels' losses, its gradient against central
 * differences (labels of both kinds on either side), lambda 1 the plain loss. */
static void
mixed_grad_check (float smoothing)
{
  enum { N = 3, K = 4 };
  SsRng rng;
  ss_rng_seed (&rng, 7);
  float z[N * K], probs[N * K], g[N * K], gp[N * K], scratch[N * K], plain[N * K];
  const int labels[N] = { 2, -1 - 3, 0 }, labels2[N] = { 1, 2, -1 - 0 };
  fill_random (z, N * K, &rng, 2.0f);
  const float lambda = 0.7f;
  float l = ss_mixed_cross_entropy (z, labels, labels2, lambda, N, K, smoothing, probs, g,
                                    scratch, NULL);
  float la = ss_softmax_cross_entropy (z, labels, N, K, smoothing, probs, gp, NULL);
  float lb = ss_softmax_cross_entropy (z, labels2, N, K, smoothing, probs, gp, NULL);
  CHECK (fabsf (l - (lambda * la + (1.0f - lambda) * lb)) < 1e-6f,
         "mixed loss %g is not 0.7 * %g + 0.3 * %g", l, la, lb);
  double max_err = 0.0;
  for (int i = 0; i < N * K; i++)
    {
      const float eps = 1e-2f, keep = z[i];
      z[i] = keep + eps;
      double up = ss_mixed_cross_entropy (z, labels, labels2, lambda, N, K, smoothing, probs, gp,
                                          scratch, NULL);
      z[i] = keep - eps;
      double down = ss_mixed_cross_entropy (z, labels, labels2, lambda, N, K, smoothing, probs,
                                            gp, scratch, NULL);
      z[i] = keep;
      double num = (up - down) / (2.0 * eps);
      double e = fabs (num - g[i]) / (1e-3 + fabs (num));
      if (e > max_err)
        max_err = e;
    }
  CHECK (max_err < 2e-2, "mixed loss gradient (smoothing %g): max relative error %g", smoothing,
         max_err);
  float l1 = ss_mixed_cross_entropy (z, labels, labels2, 1.0f, N, K, smoothing, probs, g,
                                     scratch, NULL);
  float l2 = ss_softmax_cross_entropy (z, labels, N, K, smoothing, probs, plain, NULL);
  CHECK (l1 == l2 && memcmp (g, plain, sizeof g) == 0, "lambda 1 is not the plain loss");
}

/* Beta(a, a) draws: in (0, 1), mean 1/2, variance 1 / (4 (2a + 1)) */
static void
beta_check (float a)
{
  SsRng rng;
  ss_rng_seed (&rng, 5);
  const int n = 40000;
  double sum = 0.0, sq = 0.0;
  int out = 0;
  for (int i = 0; i < n; i++)
    {
      double v = ss_rng_beta (&rng, a);
      out += !(v >= 0.0 && v <= 1.0);
      sum += v;
      sq += v * v;
    }
  double mean = sum / n, var = sq / n - mean * mean, want = 1.0 / (4.0 * (2.0 * a + 1.0));
  CHECK (out == 0 && fabs (mean - 0.5) < 0.01 && fabs (var - want) < 0.01,
         "Beta(%g, %g): %d outside [0, 1], mean %g, variance %g (want %g)", a, a, out, mean, var,
         want);
}

/* The weights' moving average: after every step avg = d avg + (1 - d) w with d = min
 * (decay, (1 + step) / (10 + step)), for parameters and batch-norm statistics alike;
 * swapping twice changes nothing; the optimiser state carries the average, and a
 * trainer without one refuses it. */
static void
ema_check (void)
{
  const int n = 4, k = 3;
  SsModelSpec spec = tiny_spec (SS_ARCH_RESNET18, 32, 4, k);
  SsError e;
  SsModel *m = ss_model_new (&spec, 3, &e);
  SsOptimConfig config;
  ss_optim_config_default (&config, SS_OPTIM_ADAM, 1e-2f);
  SsTrainer *t = ss_trainer_new (m, &config, n, &e);
  CHECK (m != NULL && t != NULL, "tiny model or trainer");
  const float decay = 0.6f;
  CHECK (ss_trainer_set_ema (t, 1.0f, &e) != SS_OK, "a decay of 1 is accepted");
  CHECK (ss_trainer_set_ema (t, decay, &e) == SS_OK, "set_ema: %s", e.message);
  size_t np = m->n_params, nb = m->n_buffers;
  CHECK (nb > 0, "the tiny ResNet has no batch-norm statistics");
  float *avg = malloc (sizeof (float) * np), *avg_b = malloc (sizeof (float) * nb);
  float *keep = malloc (sizeof (float) * np);
  memcpy (avg, m->params, sizeof (float) * np);
  memcpy (avg_b, m->buffers, sizeof (float) * nb);
  SsRng rng;
  ss_rng_seed (&rng, 9);
  float x[4 * 3 * 32 * 32];
  int labels[4] = { 0, 1, 2, 1 };
  for (int step = 1; step <= 6; step++)
    {
      fill_random (x, sizeof x / sizeof x[0], &rng, 1.0f);
      ss_trainer_step (t, x, labels, n, NULL);
      float d = fminf (decay, (1.0f + step) / (10.0f + step));
      for (size_t i = 0; i < np; i++)
        avg[i] = d * avg[i] + (1.0f - d) * m->params[i];
      for (size_t i = 0; i < nb; i++)
        avg_b[i] = d * avg_b[i] + (1.0f - d) * m->buffers[i];
    }
  memcpy (keep, m->params, sizeof (float) * np);
  ss_trainer_swap_ema (t);
  double worst = 0.0, moved = 0.0;
  for (size_t i = 0; i < np; i++)
    {
      worst = fmax (worst, fabs (m->params[i] - avg[i]));
      moved = fmax (moved, fabs (m->params[i] - keep[i]));
    }
  for (size_t i = 0; i < nb; i++)
    worst = fmax (worst, fabs (m->buffers[i] - avg_b[i]));
  CHECK (worst < 1e-6, "the average is off by %g", worst);
  CHECK (moved > 1e-4, "the average is the trained weights (differ by %g)", moved);
  ss_trainer_swap_ema (t);
  CHECK (memcmp (m->params, keep, sizeof (float) * np) == 0, "swapping back changed the weights");

  /* the state file keeps the average; a trainer without one refuses it */
  const char *path = "test-engine-grad-ema.opt";
  CHECK (ss_trainer_save_state (t, path, &e) == SS_OK, "save state: %s", e.message);
  SsTrainer *t2 = ss_trainer_new (m, &config, n, &e);
  CHECK (ss_trainer_load_state (t2, path, &e) != SS_OK, "state with an average loaded without one");
  CHECK (ss_trainer_set_ema (t2, decay, &e) == SS_OK
         && ss_trainer_load_state (t2, path, &e) == SS_OK, "load state: %s", e.message);
  ss_trainer_swap_ema (t2);
  worst = 0.0;
  for (size_t i = 0; i < np; i++)
    worst = fmax (worst, fabs (m->params[i] - avg[i]));
  CHECK (worst < 1e-6, "the loaded average is off by %g", worst);
  ss_trainer_swap_ema (t2);
  remove (path);
  free (avg);
  free (avg_b);
  free (keep);
  ss_trainer_free (t2);
  ss_trainer_free (t);
  ss_model_free (m);
}

/* The optimisers' first step against the update rule written out here in double: Adam
 * and SGD with decoupled decay (AdamW's shrink by lr * decay * param before the step on
 * the gradient alone), L2 decay in the gradient, and neither. */
static void
optim_check (SsOptimKind kind, float l2, float decoupled)
{
  enum { N = 6 };
  const float start[N] = { 0.5f, -1.25f, 2.0f, 0.0f, -0.03f, 3.5f };
  const float grad[N] = { 0.1f, -0.4f, 0.0f, 1.5f, 0.02f, -2.0f };
  float params[N], m[N] = { 0 }, v[N] = { 0 };
  memcpy (params, start, sizeof params);
  SsOptimConfig c;
  ss_optim_config_default (&c, kind, 0.01f);
  c.weight_decay = l2;
  c.decoupled_decay = decoupled;
  const float lr_scale = 0.5f;  /* as the cosine schedule hands it */
  ss_optim_step (&c, lr_scale, params, grad, m, v, N, 1);
  double worst = 0;
  for (int i = 0; i < N; i++)
    {
      double lr = 0.01 * lr_scale, p = start[i];
      p -= lr * decoupled * p;
      double g = grad[i] + (double) l2 * p, want;
      if (kind == SS_OPTIM_ADAM)
        {
          double mm = 0.1 * g, vv = 0.001 * g * g;  /* (1 - beta) g, bias-corrected below */
          want = p - lr * (mm / 0.1) / (sqrt (vv / 0.001) + 1e-8);
        }
      else
        want = p - lr * g;
      worst = fmax (worst, fabs (want - params[i]) / (fabs (want) + 1e-3));
    }
  CHECK (worst < 1e-5, "%s (L2 %g, decoupled %g): first step off the rule by %g",
         kind == SS_OPTIM_ADAM ? "adam" : "sgd", (double) l2, (double) decoupled, worst);
}

int
main (void)
{
  grad_check (SS_ARCH_MSCNN, 16, 2, 1, false, 1.0);
  grad_check (SS_ARCH_MSCNN, 16, 2, 2, false, 1.0);
  grad_check (SS_ARCH_MSCNN, 16, 2, 2, true, 1.0);
  grad_check (SS_ARCH_RESNET18, 64, 4, 2, false, 1.0);
  /* wide enough for the tap kernels' tiles: the forward and the input gradients of the
   * stride-1 convolutions through tapconv.c */
  grad_check (SS_ARCH_RESNET18, 64, 16, 1, false, 1.0);
  grad_check (SS_ARCH_RESNET18, 64, 16, 2, false, 1.0);
  grad_check (SS_ARCH_RESNET50, 64, 4, 2, false, 1.0);
  /* depthwise convolutions, squeeze and excitation, SiLU and stochastic depth (with the
   * default draw some branches dropped: the same ones in every pass) */
  grad_check (SS_ARCH_EFFICIENTNET_B0, 32, 8, 2, false, 1.0);
  grad_check (SS_ARCH_EFFICIENTNET_B0, 32, 8, 1, true, 1.0);
  /* dense layers with ReLU, the max-pool after the last block's convolution */
  grad_check (SS_ARCH_VGG16, 32, 4, 2, false, 0.3);  /* no norm: the loss bends sharply */
  grad_check (SS_ARCH_VGG16_BN, 32, 4, 2, false, 1.0);
  /* a part trained alone: the last stage, or the dense layer */
  grad_check_part (SS_ARCH_RESNET18, 64, 4, 2, false, 1.0, SS_TRAIN_LAST_STAGE);
  grad_check_part (SS_ARCH_RESNET18, 64, 4, 1, true, 1.0, SS_TRAIN_HEAD);
  grad_check_part (SS_ARCH_EFFICIENTNET_B0, 32, 8, 2, false, 1.0, SS_TRAIN_LAST_STAGE);
  part_check (SS_ARCH_RESNET18, 64, 4, SS_TRAIN_LAST_STAGE, 0.0f);
  part_check (SS_ARCH_RESNET18, 64, 4, SS_TRAIN_LAST_STAGE, 0.9f);
  part_check (SS_ARCH_RESNET18, 64, 4, SS_TRAIN_HEAD, 0.0f);
  part_check (SS_ARCH_EFFICIENTNET_B0, 32, 8, SS_TRAIN_LAST_STAGE, 0.0f);
  distill_grad_check (0.0f);
  distill_grad_check (0.1f);
  mixed_grad_check (0.0f);
  mixed_grad_check (0.1f);
  beta_check (0.2f);
  beta_check (1.0f);
  ema_check ();
  optim_check (SS_OPTIM_ADAM, 0.0f, 0.0f);
  optim_check (SS_OPTIM_ADAM, 0.0f, 0.05f);
  optim_check (SS_OPTIM_ADAM, 0.01f, 0.0f);
  optim_check (SS_OPTIM_SGD, 0.0f, 0.05f);
  optim_check (SS_OPTIM_SGD, 0.01f, 0.0f);
  return test_summary ("test-engine-grad");
}
