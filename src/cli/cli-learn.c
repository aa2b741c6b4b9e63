/* smearscope-cli learn: a cell-type model taught a lab's own labelled cells (issue 30),
 * a new head on the features it computes (ss_learn_head), the lab's cells weighed against
 * a replay of cells it was trained on. */
#include "cli.h"

#include "ss-classifier.h"
#include "ss-dataset.h"
#include "ss-learn.h"
#include "ss-training.h"

#include <stdio.h>

static SsDataset *
load_cells (const char *dir, GHashTable *map, const SsModelSpec *spec)
{
  g_autoptr (GError) error = NULL;
  SsDataset *data = ss_dataset_load_for_model (dir, map, spec, &error);
  if (data == NULL)
    ss_cli_error ("%s", error->message);
  return data;
}

int
ss_cli_learn (int argc, char **argv)
{
  g_autofree char *model_name = NULL, *out = NULL, *data_dir = NULL, *replay_dir = NULL;
  g_autofree char *map_spec = NULL;
  gboolean half = FALSE;
  SsLearnHeadConfig config;
  ss_learn_head_config_init (&config);
  const GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &model_name, "The cell-type model to teach (path or name)", "MODEL" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "The lab's labelled cells: class folders of crops", "DIR" },
    { "replay", 0, 0, G_OPTION_ARG_FILENAME, &replay_dir, "Cells the model was trained on, replayed so that it keeps them", "DIR" },
    { "map", 0, 0, G_OPTION_ARG_STRING, &map_spec, "Override the label table", "FROM=TO,..." },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Write the taught model here", "FILE" },
    { "lab-weight", 0, 0, G_OPTION_ARG_DOUBLE, &config.lab_weight, "Each lab cell counts as this many replayed ones (4)", "X" },
    { "anchor", 0, 0, G_OPTION_ARG_DOUBLE, &config.anchor, "Pull towards the model's own head (0.001)", "X" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &config.steps, "Full-batch steps (300)", "N" },
    { "half", 0, 0, G_OPTION_ARG_NONE, &half, "Store the weights as float16", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("- teach a cell-type model a lab's own labelled cells");
  g_autoptr (GError) error = NULL;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (model_name == NULL || data_dir == NULL || out == NULL || argc > 1
      || !(config.lab_weight > 0) || !(config.anchor >= 0) || config.steps < 1)
    {
      ss_cli_error ("learn needs --model MODEL, --data DIR and --out FILE (a positive "
                    "--lab-weight, --anchor at least 0, --steps at least 1)");
      return 2;
    }
  g_autoptr (SsClassifier) classifier = ss_cli_load_classifier (model_name);
  if (classifier == NULL)
    return 1;
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  const int d = (int) ss_model_feature_dim (model);
  if (d == 0)
    {
      ss_cli_error ("%s holds several networks: teach one network", model_name);
      return 1;
    }
  g_autoptr (GHashTable) map = ss_label_map_parse (map_spec, &error);
  if (map == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 2;
    }
  g_autoptr (SsDataset) lab = load_cells (data_dir, map, spec);
  g_autoptr (SsDataset) replay = replay_dir != NULL ? load_cells (replay_dir, map, spec) : NULL;
  if (lab == NULL || (replay_dir != NULL && replay == NULL))
    return 1;
  g_autofree float *lab_features = ss_features_dataset (model, lab, &error);
  g_autofree float *replay_features = lab_features != NULL && replay != NULL
                                      ? ss_features_dataset (model, replay, &error) : NULL;
  if (lab_features == NULL || (replay != NULL && replay_features == NULL))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  const int n_replay = replay != NULL ? replay->n : 0, n = lab->n + n_replay;
  g_autofree float *features = g_new (float, (gsize) n * d);
  g_autofree int *labels = g_new (int, n);
  g_autofree gboolean *is_lab = g_new (gboolean, n);
  memcpy (features, lab_features, sizeof (float) * lab->n * d);
  if (n_replay > 0)
    memcpy (features + (gsize) lab->n * d, replay_features, sizeof (float) * n_replay * d);
  for (int i = 0; i < n; i++)
    {
      labels[i] = i < lab->n ? lab->labels[i] : replay->labels[i - lab->n];
      is_lab[i] = i < lab->n;
    }
  double loss = ss_learn_head (model, features, labels, is_lab, n, &config, &error);
  if (loss < 0)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  SsError engine_error;
  if (ss_model_save (model, out, half ? SS_STORE_F16 : SS_STORE_F32, &engine_error) != SS_OK)
    {
      ss_cli_error ("%s", engine_error.message);
      return 1;
    }
  printf ("taught %s %d lab cells (%d replayed), loss %.4f: %s\n", model_name, lab->n,
          n_replay, loss, out);
  return 0;
}
