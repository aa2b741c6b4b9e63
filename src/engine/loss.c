/* Softmax and softmax cross-entropy: probs (n, k) from logits (n, k). The loss is the
 * batch mean, so its gradient is (p - t) / n for the target t.
 *
 * With label smoothing s (Szegedy et al. 2016) the target of a class label y is not
 * one-hot but (1 - s) on y plus s / k on every class: the loss is
 * -(1 - s) log p_y - (s / k) sum_j log p_j, which keeps the logits from running off to
 * make a training image certain.
 *
 * Mixup (Zhang et al. 2018) trains on lambda * image_i + (1 - lambda) * image_j with the
 * loss lambda * L(y_i) + (1 - lambda) * L(y_j); its gradient is the same blend of the
 * two gradients.
 *
 * A label below zero, -1 - e, says only "not class e" (a white cell of unknown type is
 * not not_a_cell): its loss is -log(1 - p_e), whose gradient is p_e for logit e and
 * -p_j p_e / (1 - p_e) for every other j. */
#include "engine-private.h"

#include <math.h>

void
ss_softmax_rows (const float *logits, int n, int k, float *probs)
{
  for (int b = 0; b < n; b++)
    {
      const float *z = logits + (size_t) b * k;
      float *p = probs + (size_t) b * k;
      float max = z[0];
      for (int j = 1; j < k; j++)
        if (z[j] > max)
          max = z[j];
      double sum = 0.0;
      for (int j = 0; j < k; j++)
        {
          p[j] = expf (z[j] - max);
          sum += p[j];
        }
      for (int j = 0; j < k; j++)
        p[j] = (float) (p[j] / sum);
    }
}

float
ss_softmax_cross_entropy (const float *logits, const int *labels, int n, int k, float smoothing,
                          float *probs, float *dlogits, int *n_correct)
{
  double loss = 0.0;
  int correct = 0;
  ss_softmax_rows (logits, n, k, probs);
  for (int b = 0; b < n; b++)
    {
      const float *p = probs + (size_t) b * k;
      int best = ss_argmax (p, k);
      if (labels[b] < 0)
        {
          const int e = -1 - labels[b];
          const float rest = 1.0f - p[e] > 1e-30f ? 1.0f - p[e] : 1e-30f;
          correct += best != e;
          loss -= log (rest);
          if (dlogits != NULL)
            for (int j = 0; j < k; j++)
              dlogits[(size_t) b * k + j] = (j == e ? p[e] : -p[j] * p[e] / rest) / (float) n;
          continue;
        }
      correct += best == labels[b];
      const float spread = smoothing / (float) k;
      for (int j = 0; j < k; j++)
        {
          const float t = (j == labels[b] ? 1.0f - smoothing : 0.0f) + spread;
          /* clamp: a probability that underflowed to 0 must not give an infinite loss */
          if (t > 0.0f)
            loss -= t * log (p[j] > 1e-30f ? p[j] : 1e-30f);
          if (dlogits != NULL)
            dlogits[(size_t) b * k + j] = (p[j] - t) / (float) n;
        }
    }
  if (n_correct != NULL)
    *n_correct = correct;
  return (float) (loss / n);
}

float
ss_mixed_cross_entropy (const float *logits, const int *labels, const int *labels2, float lambda,
                        int n, int k, float smoothing, float *probs, float *dlogits,
                        float *scratch, int *n_correct)
{
  float first = ss_softmax_cross_entropy (logits, labels, n, k, smoothing, probs, dlogits,
                                          n_correct);
  float second = ss_softmax_cross_entropy (logits, labels2, n, k, smoothing, probs, scratch,
                                           NULL);
  if (dlogits != NULL)
    for (size_t i = 0; i < (size_t) n * k; i++)
      dlogits[i] = lambda * dlogits[i] + (1.0f - lambda) * scratch[i];
  return lambda * first + (1.0f - lambda) * second;
}

/* Distillation (Hinton et al. 2015): (1 - alpha) times the loss above plus alpha * T^2
 * times the KL divergence of the student's softmax(z / T) from the teacher's soft
 * targets q (rows of k, each summing to 1, already softened by T); 0 when the student
 * matches the teacher. That term's gradient for logit j is
 * alpha * T * (softmax(z / T)_j - q_j) / n. */
float
ss_distill_cross_entropy (const float *logits, const int *labels, const float *soft, float alpha,
                          float temperature, int n, int k, float smoothing, float *probs,
                          float *dlogits, int *n_correct)
{
  float hard = ss_softmax_cross_entropy (logits, labels, n, k, smoothing, probs, dlogits,
                                         n_correct);
  double soft_loss = 0.0;
  float z[SS_MAX_CLASSES], pt[SS_MAX_CLASSES];
  for (int b = 0; b < n; b++)
    {
      const float *q = soft + (size_t) b * k;
      for (int j = 0; j < k; j++)
        z[j] = logits[(size_t) b * k + j] / temperature;
      ss_softmax_rows (z, 1, k, pt);
      for (int j = 0; j < k; j++)
        {
          if (q[j] > 0.0f)
            soft_loss += q[j] * (log (q[j]) - log (pt[j] > 1e-30f ? pt[j] : 1e-30f));
          if (dlogits != NULL)
            dlogits[(size_t) b * k + j] = (1.0f - alpha) * dlogits[(size_t) b * k + j]
                                          + alpha * temperature * (pt[j] - q[j]) / (float) n;
        }
    }
  return (1.0f - alpha) * hard
         + alpha * temperature * temperature * (float) (soft_loss / n);
}
