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

static void
adam_range (void *ctx, int begin, int end, int thread)
{
  OptimJob *job = ctx;
  const SsOptimConfig *c = job->config;
  const float step = job->lr / job->bias1;
  const float inv_sqrt_bias2 = 1.0f / sqrtf (job->bias2);
  (void) thread;
  const float shrink = job->lr * c->decoupled_decay;
  for (int i = begin; i < end; i++)
    {
      if (shrink > 0.0f)
        job->params[i] -= shrink * job->params[i];
      float g = job->grad[i] + c->weight_decay * job->params[i];
      job->m[i] = c->beta1 * job->m[i] + (1.0f - c->beta1) * g;
      job->v[i] = c->beta2 * job->v[i] + (1.0f - c->beta2) * g * g;
      job->params[i] -= step * job->m[i] / (sqrtf (job->v[i]) * inv_sqrt_bias2 + c->eps);
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
