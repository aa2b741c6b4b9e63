/* A new head on fixed features: softmax regression by full-batch Adam. The backbone
 * keeps every weight and statistic, so what it computes for any cell is unchanged; only
 * how its features are read into classes moves, and the anchor keeps that near the
 * original. */
#include "ss-learn.h"

#include <math.h>
#include <string.h>

void
ss_learn_head_config_init (SsLearnHeadConfig *config)
{
  config->lab_weight = 4.0;
  config->anchor = 1e-3;
  config->steps = 300;
  config->lr = 0.01;
}

double
ss_learn_head (SsModel *model, const float *features, const int *labels, const gboolean *lab,
               int n, const SsLearnHeadConfig *config, GError **error)
{
  float *bias = NULL;
  float *weight = ss_model_head (model, &bias);
  const int d = (int) ss_model_feature_dim (model);
  const int k = ss_model_spec (model)->n_classes;
  if (weight == NULL || d == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "the model holds several networks: learn a head for one network");
      return -1;
    }
  const int np = k * d + k;  /* weights, then biases */
  g_autofree double *p = g_new (double, np), *p0 = g_new (double, np);
  g_autofree double *grad = g_new (double, np), *m1 = g_new0 (double, np);
  g_autofree double *m2 = g_new0 (double, np), *z = g_new (double, k);
  for (int i = 0; i < k * d; i++)
    p[i] = weight[i];
  for (int c = 0; c < k; c++)
    p[k * d + c] = bias[c];
  memcpy (p0, p, sizeof (double) * np);
  double total_weight = 0;
  for (int i = 0; i < n; i++)
    if (labels[i] >= 0 && labels[i] < k)
      total_weight += lab[i] ? config->lab_weight : 1.0;
  if (total_weight <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no labelled cells to learn from");
      return -1;
    }
  double loss = 0;
  const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
  for (int step = 1; step <= config->steps; step++)
    {
      memset (grad, 0, sizeof (double) * np);
      loss = 0;
      for (int i = 0; i < n; i++)
        {
          const int y = labels[i];
          if (y < 0 || y >= k)
            continue;
          const double w = (lab[i] ? config->lab_weight : 1.0) / total_weight;
          const float *f = features + (gsize) i * d;
          double zmax = -INFINITY, sum = 0;
          for (int c = 0; c < k; c++)
            {
              double s = p[k * d + c];
              for (int j = 0; j < d; j++)
                s += p[c * d + j] * f[j];
              z[c] = s;
              zmax = fmax (zmax, s);
            }
          for (int c = 0; c < k; c++)
            sum += exp (z[c] - zmax);
          loss -= w * (z[y] - zmax - log (sum));
          for (int c = 0; c < k; c++)
            {
              double g = w * (exp (z[c] - zmax) / sum - (c == y));
              for (int j = 0; j < d; j++)
                grad[c * d + j] += g * f[j];
              grad[k * d + c] += g;
            }
        }
      for (int i = 0; i < np; i++)
        {
          double delta = p[i] - p0[i];
          loss += 0.5 * config->anchor * delta * delta;
          grad[i] += config->anchor * delta;
          m1[i] = b1 * m1[i] + (1 - b1) * grad[i];
          m2[i] = b2 * m2[i] + (1 - b2) * grad[i] * grad[i];
          double mh = m1[i] / (1 - pow (b1, step)), vh = m2[i] / (1 - pow (b2, step));
          p[i] -= config->lr * mh / (sqrt (vh) + eps);
        }
    }
  for (int i = 0; i < k * d; i++)
    weight[i] = (float) p[i];
  for (int c = 0; c < k; c++)
    bias[c] = (float) p[k * d + c];
  ss_model_params_changed (model);
  return loss;
}
