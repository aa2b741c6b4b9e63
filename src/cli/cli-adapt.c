/* smearscope-cli adapt: a classifier's batch-norm statistics brought to a new camera's
 * images, no label used (AdaBN; ss_model_adapt_norms). A measuring tool for issue 27:
 * how much of a camera the model has not learned lives in those statistics. */
#include "cli.h"

#include "ss-classifier.h"
#include "ss-dataset.h"

#include <stdio.h>

/* Append every image of dir (class folders mapped to the model's classes) to x, as the
 * model takes it. */
static gboolean
read_images (const char *dir, GHashTable *map, const SsModelSpec *spec, GArray *x, int *n)
{
  g_autoptr (SsDataset) data = ss_cli_load_dataset (dir, map, spec);
  if (data == NULL)
    return FALSE;
  const gsize image = (gsize) spec->in_c * spec->in_h * spec->in_w;
  g_array_set_size (x, (guint) ((*n + data->n) * image));
  for (int i = 0; i < data->n; i++)
    ss_dataset_get (data, i, NULL, NULL, &g_array_index (x, float, (*n + i) * image));
  *n += data->n;
  return TRUE;
}

int
ss_cli_adapt (int argc, char **argv)
{
  g_autofree char *model_name = NULL, *out = NULL, *map_spec = NULL, *reference = NULL;
  int layers = 0;
  gboolean half = FALSE;
  const GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &model_name, "The classifier (path or name)", "MODEL" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Write the adapted model here", "FILE" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &layers,
      "Adapt only the first N batch norms (default: every one)", "N" },
    { "map", 0, 0, G_OPTION_ARG_STRING, &map_spec,
      "Which folders to read, as train's --map (e.g. wbc=!not_a_cell)", "FROM=TO,..." },
    { "reference", 0, 0, G_OPTION_ARG_FILENAME, &reference,
      "Images of the known cameras, taken as the DIRs are: move the norms by what separates "
      "the DIRs from these, rather than taking the DIRs' own", "DIR" },
    { "half", 0, 0, G_OPTION_ARG_NONE, &half, "Store the weights as float16", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("DIR... - bring a classifier's batch norms to a camera's images");
  g_autoptr (GError) error = NULL;
  ss_cli_add_entries (context, entries);
  g_option_context_set_description (context,
    "Reads every image of each DIR (class folders, mapped to the model's classes through\n"
    "--map and the label table; their classes are not used), and writes the model with\n"
    "the mean and variance of each batch norm's inputs over those images in place of the\n"
    "training set's. The weights are not changed. Give the camera's white cells and the\n"
    "red cells and background around them, as the model's training set mixed them.");
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (model_name == NULL || out == NULL || argc < 2 || layers < 0)
    {
      ss_cli_error ("adapt needs --model MODEL, --out FILE and at least one DIR of images "
                    "(and --layers N at least 1 when given)");
      return 2;
    }
  g_autoptr (SsClassifier) classifier = ss_cli_load_classifier (model_name);
  if (classifier == NULL)
    return 1;
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  g_autoptr (GHashTable) map = ss_label_map_parse (map_spec, &error);
  if (map == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 2;
    }
  g_autoptr (GArray) x = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr (GArray) ref = g_array_new (FALSE, FALSE, sizeof (float));
  int n = 0, n_ref = 0;
  for (int a = 1; a < argc; a++)
    if (!read_images (argv[a], map, spec, x, &n))
      return 1;
  if (reference != NULL && !read_images (reference, map, spec, ref, &n_ref))
    return 1;
  SsError engine_error;
  if (ss_model_adapt_norms (model, reference != NULL ? (const float *) ref->data : NULL, n_ref,
                            (const float *) x->data, n, layers, &engine_error) != SS_OK
      || ss_model_save (model, out, half ? SS_STORE_F16 : SS_STORE_F32, &engine_error) != SS_OK)
    {
      ss_cli_error ("%s", engine_error.message);
      return 1;
    }
  printf ("adapted %s to %d images (%s batch norms): %s\n", model_name, n,
          layers > 0 ? "the first few" : "all", out);
  return 0;
}
