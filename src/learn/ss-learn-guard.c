/* The guard of a lab's learning (issue 30); see ss-learn-guard.h. */
#include "ss-learn-guard.h"

#include "ss-training.h"

#include <string.h>

G_DEFINE_QUARK (ss-learn-error-quark, ss_learn_error)

void
ss_learn_guard_config_init (SsLearnGuardConfig *config)
{
  config->hold_back = 0.25;
  config->seed = 1;
  config->margin = 0.01;
  config->halvings = 4;
  config->camera_head = TRUE;
  ss_learn_head_config_init (&config->head);
}

/* How many of the cells whose camera statistics are stats (those at idx, or all n) the
 * model's lab head answers for. */
static int
lab_gated (const SsModel *model, const float *stats, int n, const GArray *idx)
{
  int count = 0;
  for (int j = 0; j < (idx != NULL ? (int) idx->len : n); j++)
    count += ss_model_lab_gate_stats (model, stats + (gsize) (idx != NULL
                                                                ? g_array_index (idx, int, j)
                                                                : j) * SS_CAMERA_STATS)
             > 0.5f;
  return count;
}

/* Fraction of the images of data (those at idx, or all when idx is NULL) the model
 * calls right; *n gets how many were counted (cells known only not to be a class are
 * not). -1 with error when the engine fails. */
static double
accuracy (SsModel *model, const SsDataset *data, const GArray *idx, int *n, GError **error)
{
  g_autofree float *probs = ss_predict_dataset (model, data, error);
  if (probs == NULL)
    return -1;
  const int k = ss_model_spec (model)->n_classes;
  int right = 0, total = 0;
  for (int j = 0; j < (idx != NULL ? (int) idx->len : data->n); j++)
    {
      int i = idx != NULL ? g_array_index (idx, int, j) : j;
      if (data->labels[i] < 0)
        continue;
      total++;
      right += ss_argmax (probs + (gsize) i * k, k) == data->labels[i];
    }
  *n = total;
  return total > 0 ? (double) right / total : 0;
}

gboolean
ss_learn_guarded (SsModel *model, const SsLearnCells *taught, const SsDataset *replay,
                  const SsDataset *reference, const SsDataset *earlier,
                  const SsLearnGuardConfig *config, SsLearnVerdict *v, GError **error)
{
  memset (v, 0, sizeof *v);
  const int d = (int) ss_model_feature_dim (model);
  if (d == 0)
    {
      g_set_error (error, SS_LEARN_ERROR, SS_LEARN_ERROR_MODEL,
                   "the model holds several networks: teach one network");
      return FALSE;
    }
  g_autoptr (GArray) learn_idx = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) back_idx = g_array_new (FALSE, FALSE, sizeof (int));
  ss_learn_cells_split (taught, config->hold_back, config->seed, learn_idx, back_idx);
  if (learn_idx->len == 0 || back_idx->len == 0)
    {
      g_set_error (error, SS_LEARN_ERROR, SS_LEARN_ERROR_TOO_FEW,
                   "%d taught cells from %d images: too few to learn from some and hold "
                   "others back for the guard; review more cells first", taught->cells->n,
                   taught->n_images);
      return FALSE;
    }

  /* the model as it is, on both checks */
  v->back_before = accuracy (model, taught->cells, back_idx, &v->n_back, error);
  if (v->back_before < 0)
    return FALSE;
  v->reference_before = accuracy (model, reference, NULL, &v->n_reference, error);
  if (v->reference_before < 0)
    return FALSE;
  if (earlier != NULL && earlier->n > 0
      && (v->earlier_before = accuracy (model, earlier, NULL, &v->n_earlier, error)) < 0)
    return FALSE;
  g_autofree float *lab_features = ss_features_dataset (model, taught->cells, error);
  if (lab_features == NULL)
    return FALSE;
  g_autofree float *replay_features = NULL;
  if (replay != NULL && (replay_features = ss_features_dataset (model, replay, error)) == NULL)
    return FALSE;

  /* the lab's learning part, then the replay, as one set of features */
  v->n_learn = (int) learn_idx->len;
  v->n_replay = replay != NULL ? replay->n : 0;
  const int n = v->n_learn + v->n_replay;
  g_autofree float *features = g_new (float, (gsize) n * d);
  g_autofree int *labels = g_new (int, n);
  g_autofree gboolean *is_lab = g_new (gboolean, n);
  for (int j = 0; j < v->n_learn; j++)
    {
      int i = g_array_index (learn_idx, int, j);
      memcpy (features + (gsize) j * d, lab_features + (gsize) i * d, sizeof (float) * d);
      labels[j] = taught->cells->labels[i];
      is_lab[j] = TRUE;
    }
  for (int j = 0; j < v->n_replay; j++)
    {
      memcpy (features + (gsize) (v->n_learn + j) * d, replay_features + (gsize) j * d,
              sizeof (float) * d);
      labels[v->n_learn + j] = replay->labels[j];
      is_lab[v->n_learn + j] = FALSE;
    }
  /* the head as the model has it, to start every try from */
  const int k = ss_model_spec (model)->n_classes;
  float *bias = NULL;
  float *weight = ss_model_head (model, &bias);
  g_autofree float *weight0 = g_memdup2 (weight, sizeof (float) * k * d);
  g_autofree float *bias0 = g_memdup2 (bias, sizeof (float) * k);
  /* a camera head: the gate, from the lab's learning cells against the replay */
  const gsize lab_len = ss_model_lab_head_len (model);
  v->camera_head = config->camera_head && replay != NULL;
  g_autofree float *lab_head = v->camera_head ? g_new (float, lab_len) : NULL;
  g_autofree float *lab_stats = NULL;
  if (v->camera_head)
    {
      lab_stats = ss_camera_stats_dataset (model, taught->cells, error);
      g_autofree float *replay_stats = lab_stats != NULL
                                         ? ss_camera_stats_dataset (model, replay, error) : NULL;
      if (replay_stats == NULL)
        return FALSE;
      g_autofree float *stats = g_new (float, (gsize) n * SS_CAMERA_STATS);
      for (int j = 0; j < v->n_learn; j++)
        memcpy (stats + (gsize) j * SS_CAMERA_STATS,
                lab_stats + (gsize) g_array_index (learn_idx, int, j) * SS_CAMERA_STATS,
                sizeof (float) * SS_CAMERA_STATS);
      memcpy (stats + (gsize) v->n_learn * SS_CAMERA_STATS, replay_stats,
              sizeof (float) * SS_CAMERA_STATS * v->n_replay);
      if (!ss_learn_gate (stats, is_lab, n, lab_head + lab_len - SS_CAMERA_STATS - 1, error))
        return FALSE;
    }
  SsLearnHeadConfig head = config->head;
  int n_ref = 0;
  for (int attempt = 0; attempt <= MAX (config->halvings, 0); attempt++)
    {
      if (attempt > 0)
        {
          memcpy (weight, weight0, sizeof (float) * k * d);
          memcpy (bias, bias0, sizeof (float) * k);
          ss_model_params_changed (model);
          head.lab_weight /= 2;
        }
      if (ss_learn_head (model, features, labels, is_lab, n, &head, error) < 0)
        return FALSE;
      if (v->camera_head)
        {
          /* the learned head goes beside the model's own, which is put back */
          memcpy (lab_head, weight, sizeof (float) * k * d);
          memcpy (lab_head + (gsize) k * d, bias, sizeof (float) * k);
          memcpy (weight, weight0, sizeof (float) * k * d);
          memcpy (bias, bias0, sizeof (float) * k);
          ss_model_params_changed (model);
          SsError engine_error;
          if (ss_model_set_lab_head (model, lab_head, &engine_error) != SS_OK)
            {
              g_set_error (error, SS_LEARN_ERROR, SS_LEARN_ERROR_FAILED, "%s",
                           engine_error.message);
              return FALSE;
            }
        }
      v->tries = attempt + 1;
      v->lab_weight = head.lab_weight;
      v->reference_after = accuracy (model, reference, NULL, &n_ref, error);
      if (v->reference_after < 0)
        return FALSE;
      if (v->reference_after >= v->reference_before - config->margin)
        break;
    }

  /* the candidate on the lab's held-back cells, looked at once */
  int n_back = 0;
  v->back_after = accuracy (model, taught->cells, back_idx, &n_back, error);
  if (v->back_after < 0)
    return FALSE;
  if (v->camera_head)
    {
      g_autofree float *reference_stats = ss_camera_stats_dataset (model, reference, error);
      if (reference_stats == NULL)
        return FALSE;
      v->gate_back = lab_gated (model, lab_stats, taught->cells->n, back_idx);
      v->gate_reference = lab_gated (model, reference_stats, reference->n, NULL);
    }
  if (v->n_earlier > 0)
    {
      int n_earlier = 0;
      v->earlier_after = accuracy (model, earlier, NULL, &n_earlier, error);
      if (v->earlier_after < 0)
        return FALSE;
    }
  v->better_on_lab = v->back_after > v->back_before;
  v->within_margin = v->reference_after >= v->reference_before - config->margin;
  v->keeps_earlier = v->n_earlier == 0 || v->earlier_after >= v->earlier_before - config->margin;
  v->offered = v->better_on_lab && v->within_margin && v->keeps_earlier;
  return TRUE;
}
