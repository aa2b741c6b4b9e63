/* A network's batch-norm statistics brought to a new camera's images (AdaBN, Li et al.
 * 2016): the weights stay, the mean and variance each norm divides out follow the new
 * images, wholly, or by how they differ from reference images of the known cameras. */
#include "engine-private.h"

#include <stdlib.h>
#include <string.h>

/* Every batch norm's batch statistics over x (n images as one batch), into stats: per
 * norm in graph order, c means then c variances. The running statistics are left as
 * they were. */
static SsStatus
batch_stats (SsModel *m, const float *x, int n, float *stats, SsError *error)
{
  float *saved = malloc (sizeof (float) * (m->n_buffers > 0 ? m->n_buffers : 1));
  if (saved == NULL)
    return ss_error_set (error, SS_ERR_NOMEM, "out of memory adapting the batch norms");
  memcpy (saved, m->buffers, sizeof (float) * m->n_buffers);
  /* every branch counts: stochastic depth is for learning, not for measuring */
  float drops[SS_MAX_NODES];
  for (int i = 0; i < m->n_nodes; i++)
    {
      drops[i] = m->nodes[i].drop;
      m->nodes[i].drop = 0.0f;
    }
  ss_run_free (m->run);
  m->run = NULL;
  SsStatus status = ss_run_ensure (m, n, false, error);
  if (status == SS_OK)
    {
      ss_run_forward (m, x, n, true);
      size_t at = 0;
      for (int i = 0; i < m->n_nodes; i++)
        if (m->nodes[i].kind == SS_OP_BN)
          {
            ss_run_bn_batch_stats (m, i, stats + at, stats + at + m->nodes[i].c);
            at += 2 * (size_t) m->nodes[i].c;
          }
    }
  /* the forward moved every running statistic a step */
  memcpy (m->buffers, saved, sizeof (float) * m->n_buffers);
  free (saved);
  for (int i = 0; i < m->n_nodes; i++)
    m->nodes[i].drop = drops[i];
  /* the run was sized for the whole set: let the next use size its own */
  ss_run_free (m->run);
  m->run = NULL;
  return status;
}

static SsStatus
adapt_net (SsModel *m, const float *ref, int n_ref, const float *x, int n, int n_layers,
           SsError *error)
{
  size_t total = 0;
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == SS_OP_BN)
      total += 2 * (size_t) m->nodes[i].c;
  float *stats = malloc (sizeof (float) * (total > 0 ? 2 * total : 1));
  if (stats == NULL)
    return ss_error_set (error, SS_ERR_NOMEM, "out of memory adapting the batch norms");
  float *ref_stats = stats + total;
  SsStatus status = batch_stats (m, x, n, stats, error);
  if (status == SS_OK && ref != NULL)
    status = batch_stats (m, ref, n_ref, ref_stats, error);
  if (status != SS_OK)
    {
      free (stats);
      return status;
    }
  size_t at = 0;
  int layer = 0;
  for (int i = 0; i < m->n_nodes && (n_layers <= 0 || layer < n_layers); i++)
    {
      const SsNode *node = &m->nodes[i];
      if (node->kind != SS_OP_BN)
        continue;
      float *mean = m->buffers + node->buf_off, *var = mean + node->c;
      const float *new_mean = stats + at, *new_var = new_mean + node->c;
      const float *ref_mean = ref_stats + at, *ref_var = ref_mean + node->c;
      for (int c = 0; c < node->c; c++)
        if (ref == NULL)
          {
            mean[c] = new_mean[c];
            var[c] = new_var[c];
          }
        else
          {
            /* move the training statistics by what separates the new images from the
             * reference ones */
            mean[c] += new_mean[c] - ref_mean[c];
            if (ref_var[c] > 0 && new_var[c] > 0)
              var[c] *= new_var[c] / ref_var[c];
          }
      at += 2 * (size_t) node->c;
      layer++;
    }
  free (stats);
  /* inference folds the norms into its packed weights: have it fold the new ones */
  ss_run_params_changed (m);
  return SS_OK;
}

SsStatus
ss_model_adapt_norms (SsModel *model, const float *ref, int n_ref, const float *x, int n,
                      int n_layers, SsError *error)
{
  if (model == NULL || x == NULL || n < 2 || (ref != NULL && n_ref < 2))
    return ss_error_set (error, SS_ERR_ARG, "adapting the batch norms needs a model and at "
                         "least 2 images of each set");
  if (model->n_members > 0)
    {
      for (int i = 0; i < model->n_members; i++)
        {
          SsStatus status = adapt_net (model->members[i], ref, n_ref, x, n, n_layers, error);
          if (status != SS_OK)
            return status;
        }
      return SS_OK;
    }
  return adapt_net (model, ref, n_ref, x, n, n_layers, error);
}
