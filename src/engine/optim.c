/* Optimisers over the flat parameter blob: Adam and SGD with momentum, with PyTorch's
 * update rules so that its recipes carry over. */
#include "engine-private.h"

#include <math.h>

void
ss_optim_config_default (SsOptimConfig *config, SsOptimKind kind, float lr)
{
  config->kind = kind;
  config->lr = lr;
  config->beta1 = 0.9f;
  config->beta2 = 0.999f;
  config->eps = 1e-8f;
  config->momentum = 0.9f;
  config->weight_decay = 0.0f;
  config->decoupled_decay = 0.0f;
  config->dense_fan_in_ref = 0.0f;
}

typedef struct {
  const SsOptimConfig *config;
  float        lr;
  float       *params;
  const float *grad;
  float       *m, *v;
  float        bias1, bias2;  /* 1 - beta^t */
} OptimJob;

/* Local copies of everything the loop reads, its arrays restrict: the compiler then
 * vectorises it (with no errno to set, sqrtf is one instruction; each lane gives the
 * bits of the scalar code) */
static void
adam_range (void *ctx, int begin, int end, int thread)
{
  OptimJob *job = ctx;
  const SsOptimConfig *c = job->config;
  const float step = job->lr / job->bias1;
  const float inv_sqrt_bias2 = 1.0f / sqrtf (job->bias2);
  const float beta1 = c->beta1, beta2 = c->beta2, eps = c->eps, decay = c->weight_decay;
  float *restrict params = job->params, *restrict m = job->m, *restrict v = job->v;
  const float *restrict grad = job->grad;
  (void) thread;
  const float shrink = job->lr * c->decoupled_decay;
  if (shrink > 0.0f)
    for (int i = begin; i < end; i++)
      params[i] -= shrink * params[i];
  for (int i = begin; i < end; i++)
    {
      float g = grad[i] + decay * params[i];
      m[i] = beta1 * m[i] + (1.0f - beta1) * g;
      v[i] = beta2 * v[i] + (1.0f - beta2) * g * g;
      params[i] -= step * m[i] / (sqrtf (v[i]) * inv_sqrt_bias2 + eps);
    }
}

static void
sgd_range (void *ctx, int begin, int end, int thread)
{
  OptimJob *job = ctx;
  const SsOptimConfig *c = job->config;
  (void) thread;
  const float shrink = job->lr * c->decoupled_decay;
  for (int i = begin; i < end; i++)
    {
      if (shrink > 0.0f)
        job->params[i] -= shrink * job->params[i];
      float g = job->grad[i] + c->weight_decay * job->params[i];
      job->m[i] = c->momentum * job->m[i] + g;
      job->params[i] -= job->lr * job->m[i];
    }
}

/* One update of params[0, n) at learning rate config->lr * lr_scale. */
void
ss_optim_step (const SsOptimConfig *config, float lr_scale, float *params, const float *grad,
               float *m, float *v, size_t n, long step)
{
  OptimJob job = { .config = config, .params = params, .grad = grad, .m = m, .v = v };
  job.lr = config->lr * lr_scale;
  job.bias1 = 1.0f - powf (config->beta1, (float) step);
  job.bias2 = 1.0f - powf (config->beta2, (float) step);
  ss_parallel_for ((int) n, config->kind == SS_OPTIM_ADAM ? adam_range : sgd_range, &job);
}
