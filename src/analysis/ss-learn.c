/* A new head on fixed features: softmax regression by full-batch Adam. The backbone
 * keeps every weight and statistic, so what it computes for any cell is unchanged; only
 * how its features are read into classes moves, and the anchor keeps that near the
 * original. */
#include "ss-learn.h"

#include "ss-camera-check.h"

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

gboolean
ss_learn_gate (const float *stats, const gboolean *lab, int n, float *gate, GError **error)
{
  enum { S = SS_CAMERA_STATS };
  int n_lab = 0;
  for (int i = 0; i < n; i++)
    n_lab += lab[i] != FALSE;
  if (n_lab == 0 || n_lab == n)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "a camera gate needs the lab's "
                   "cells and cells the model knew (%d and %d)", n_lab, n - n_lab);
      return FALSE;
    }
  double mean[S], sd[S];
  ss_camera_stats_spread (stats, n, mean, sd);
  /* full-batch Adam on the mean log loss, each side half of it, plus l2 / 2 |w|^2 */
  const double l2 = 0.001, lr = 0.05, b1 = 0.9, b2 = 0.999, eps = 1e-8;
  double p[S + 1] = { 0 }, m1[S + 1] = { 0 }, m2[S + 1] = { 0 }, grad[S + 1];
  for (int step = 1; step <= 500; step++)
    {
      memset (grad, 0, sizeof grad);
      for (int i = 0; i < n; i++)
        {
          double z = p[S], t[S];
          for (int j = 0; j < S; j++)
            {
              t[j] = (stats[(gsize) i * S + j] - mean[j]) / sd[j];
              z += p[j] * t[j];
            }
          const double y = lab[i] ? 1.0 : 0.0;
          const double w = lab[i] ? 0.5 / n_lab : 0.5 / (n - n_lab);
          const double g = w * (1.0 / (1.0 + exp (-z)) - y);
          for (int j = 0; j < S; j++)
            grad[j] += g * t[j];
          grad[S] += g;
        }
      for (int j = 0; j <= S; j++)
        {
          if (j < S)
            grad[j] += l2 * p[j];
          m1[j] = b1 * m1[j] + (1 - b1) * grad[j];
          m2[j] = b2 * m2[j] + (1 - b2) * grad[j] * grad[j];
          double mh = m1[j] / (1 - pow (b1, step)), vh = m2[j] / (1 - pow (b2, step));
          p[j] -= lr * mh / (sqrt (vh) + eps);
        }
    }
  /* back to the raw statistics */
  double bias = p[S];
  for (int j = 0; j < S; j++)
    {
      gate[j] = (float) (p[j] / sd[j]);
      bias -= p[j] * mean[j] / sd[j];
    }
  gate[S] = (float) bias;
  return TRUE;
}
