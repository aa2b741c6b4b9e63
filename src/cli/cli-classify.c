/* smearscope-cli classify: a model's call and probabilities for each image; and
 * smearscope-cli explain: its Grad-CAM map for one class, blended over the image. */
#include "cli.h"

#include "ss-classifier.h"
#include "ss-gradcam.h"
#include "ss-image.h"
#include "ss-models.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define CELL_DIAMETER_HELP                                                                 \
  "Each image is a picture of one cell (as PBC's): take the white cell found nearest its "  \
  "centre, cells about PX across, framed as the analysis frames them (default: the image "  \
  "is the cell crop)"

/* With a cell diameter (> 0): the stain detector's settings for it, or FALSE with a
 * message for a diameter no cell has. */
static gboolean
cell_detect_settings (double cell_diameter, SsDetectSettings *detect)
{
  if (cell_diameter != 0 && !(cell_diameter >= 1 && cell_diameter <= 10000))
    {
      ss_cli_error ("--cell-diameter must be a cell's width in pixels, 1 to 10000");
      return FALSE;
    }
  ss_detect_settings_init (detect);
  if (cell_diameter > 0)
    ss_detect_settings_for_diameter (detect, cell_diameter);
  return TRUE;
}

static SsClassifier *
load_classifier (const char *name)
{
  g_autoptr (GError) error = NULL;
  SsClassifier *c = ss_models_load_classifier (ss_cli_models_override (), name, NULL, &error);
  if (c == NULL)
    ss_cli_error ("%s", error->message);
  return c;
}

int
ss_cli_classify (int argc, char **argv)
{
  gboolean json = FALSE;
  gint64 max_pixels = SS_DEFAULT_MAX_PIXELS;
  int views = 0;
  double views_below = SS_CLI_VIEWS_BELOW_KEEP, cell_diameter = 0;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "cell-diameter", 0, 0, G_OPTION_ARG_DOUBLE, &cell_diameter, CELL_DIAMETER_HELP, "PX" },
    { "views", 0, 0, G_OPTION_ARG_INT, &views, SS_CLI_VIEWS_HELP, "N" },
    { "views-below", 0, 0, G_OPTION_ARG_DOUBLE, &views_below, SS_CLI_VIEWS_BELOW_HELP, "X" },
    { "max-pixels", 0, 0, G_OPTION_ARG_INT64, &max_pixels, "Refuse larger images (100 MP)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL IMAGE... - classify images");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (argc < 3)
    {
      ss_cli_error ("classify needs a model and at least one image");
      return 2;
    }
  SsDetectSettings detect;
  if (!cell_detect_settings (cell_diameter, &detect))
    return 2;
  g_autoptr (SsClassifier) classifier = load_classifier (argv[1]);
  if (classifier == NULL)
    return 1;
  if (!ss_cli_set_views (ss_classifier_model (classifier), views, views_below))
    return 1;
  const int k = ss_classifier_n_classes (classifier);
  int failures = 0;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (int i = 2; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SsImage) image = ss_image_load (argv[i], max_pixels, &error);
      float probs[SS_MAX_CLASSES];
      int n_cells = 1;
      gboolean ok = image != NULL
                    && (cell_diameter > 0
                          ? ss_classifier_run_field (classifier, image, &detect, 1,
                                                     SS_FIELD_CELLS_CENTRE, SS_CLASSIFIER_MARGIN,
                                                     probs, &n_cells, &error)
                          : ss_classifier_run_images (classifier, &image, 1, probs, &error));
      if (!ok)
        {
          ss_cli_error ("%s", error->message);
          failures++;
          continue;
        }
      if (n_cells == 0)
        g_printerr ("%s: no white cell found; the whole picture was classified\n", argv[i]);
      int best = ss_argmax (probs, k);
      if (json)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "image");
          json_builder_add_string_value (b, argv[i]);
          json_builder_set_member_name (b, "class");
          json_builder_add_string_value (b, ss_classifier_class_name (classifier, best));
          json_builder_set_member_name (b, "confidence");
          json_builder_add_double_value (b, probs[best]);
          if (cell_diameter > 0)
            {
              json_builder_set_member_name (b, "cell_found");
              json_builder_add_boolean_value (b, n_cells > 0);
            }
          json_builder_set_member_name (b, "probabilities");
          json_builder_begin_object (b);
          for (int c = 0; c < k; c++)
            {
              json_builder_set_member_name (b, ss_classifier_class_name (classifier, c));
              json_builder_add_double_value (b, probs[c]);
            }
          json_builder_end_object (b);
          json_builder_end_object (b);
        }
      else
        {
          printf ("%s\t%s\t%.4f\t", argv[i], ss_classifier_class_name (classifier, best), probs[best]);
          for (int c = 0; c < k; c++)
            printf ("%s%s=%.4f", c ? " " : "", ss_classifier_class_name (classifier, c), probs[c]);
          printf ("\n");
        }
    }
  json_builder_end_array (b);
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
    }
  return failures > 0 ? 1 : 0;
}

int
ss_cli_explain (int argc, char **argv)
{
  g_autofree char *class_name = NULL, *out = NULL;
  double alpha = 0.45, cell_diameter = 0;
  const GOptionEntry entries[] = {
    { "class", 0, 0, G_OPTION_ARG_STRING, &class_name, "Class to explain (default: the model's call)", "NAME" },
    { "cell-diameter", 0, 0, G_OPTION_ARG_DOUBLE, &cell_diameter, CELL_DIAMETER_HELP, "PX" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "PNG to write", "FILE" },
    { "alpha", 0, 0, G_OPTION_ARG_DOUBLE, &alpha, "Opacity of the heat map (0.45)", "X" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("MODEL IMAGE - Grad-CAM: which pixels drove the call");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (argc != 3 || out == NULL)
    {
      ss_cli_error ("explain needs MODEL IMAGE --out FILE.png");
      return 2;
    }
  SsDetectSettings detect;
  if (!cell_detect_settings (cell_diameter, &detect))
    return 2;
  g_autoptr (SsClassifier) classifier = load_classifier (argv[1]);
  if (classifier == NULL)
    return 1;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsImage) image = ss_image_load (argv[2], SS_DEFAULT_MAX_PIXELS, &error);
  if (image == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  const SsModelSpec *spec = ss_model_spec (ss_classifier_model (classifier));
  int cls = -1;
  if (class_name != NULL)
    {
      for (int c = 0; c < spec->n_classes; c++)
        if (strcmp (spec->class_names[c], class_name) == 0)
          cls = c;
      if (cls < 0)
        {
          ss_cli_error ("the model has no class '%s'", class_name);
          return 2;
        }
    }
  /* with a cell diameter, the cell nearest the centre, framed as the classifier frames it */
  g_autoptr (GPtrArray) cells = NULL;
  const SsBox *box = NULL;
  if (cell_diameter > 0)
    {
      cells = ss_classifier_field_cells (image, &detect, SS_FIELD_CELLS_CENTRE);
      if (cells->len > 0)
        box = &((const SsCell *) cells->pdata[0])->box;
      else
        g_printerr ("%s: no white cell found; the whole picture is explained\n", argv[2]);
    }
  float probs[SS_MAX_CLASSES], prob = 0;
  if (!(box != NULL ? ss_classifier_run_boxes (classifier, image, box, 1, SS_CLASSIFIER_MARGIN,
                                               probs, &error)
                    : ss_classifier_run_images (classifier, &image, 1, probs, &error)))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  int best = ss_argmax (probs, spec->n_classes);
  if (cls < 0)
    cls = best;  /* the model's own call: no second forward pass to find it */
  /* shown at least as large as the region itself */
  int width = image->width, height = image->height;
  if (box != NULL)
    {
      double x, y, side;
      ss_box_frame (box, SS_CLASSIFIER_MARGIN, &x, &y, &side);
      width = height = (int) ceil (side);
    }
  int scale = MAX (1, MAX ((width + spec->in_w - 1) / spec->in_w,
                           (height + spec->in_h - 1) / spec->in_h));
  g_autoptr (SsImage) picture = ss_gradcam_picture (classifier, image, box, SS_CLASSIFIER_MARGIN,
                                                    cls, scale, alpha, &cls, &prob, &error);
  if (picture == NULL || !ss_image_save_png (picture, out, &error))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  printf ("%s: Grad-CAM of '%s' (p = %.4f; the model calls it '%s' at %.4f) -> %s\n", argv[2],
          spec->class_names[cls], prob, spec->class_names[best], probs[best], out);
  return 0;
}

/* smearscope-cli ensemble: several trained networks (and/or test-time views) in one
 * model file, whose probabilities are the mean of theirs. */
int
ss_cli_ensemble (int argc, char **argv)
{
  g_autofree char *out = NULL;
  int views = 1;
  double views_below = 0;
  gboolean half = FALSE;
  const GOptionEntry entries[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Model file to write", "MODEL" },
    { "views", 0, 0, G_OPTION_ARG_INT, &views, "Test-time views: 1, 2 (mirror), 4 (quarter turns) or 8 (both)", "N" },
    { "views-below", 0, 0, G_OPTION_ARG_DOUBLE, &views_below, "The views after the first only for cells less sure than X (0: every cell, the default)", "X" },
    { "half", 0, 0, G_OPTION_ARG_NONE, &half, "Store weights as float16", NULL },
    { NULL }
  };
  g_autofree char *command = g_strjoinv (" ", argv);
  g_autoptr (GOptionContext) context =
    g_option_context_new ("MODEL... - one model file that averages several models");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  const int n = argc - 1;
  if (out == NULL || n < 1 || n > SS_MAX_MEMBERS)
    {
      ss_cli_error ("ensemble needs --out MODEL and 1 to %d models", SS_MAX_MEMBERS);
      return 2;
    }
  SsModel *members[SS_MAX_MEMBERS] = { NULL };
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "views");
  json_builder_add_int_value (b, views);
  json_builder_set_member_name (b, "views_below");
  json_builder_add_double_value (b, views_below);
  json_builder_set_member_name (b, "members");
  json_builder_begin_array (b);
  int status = 0;
  for (int i = 0; i < n && status == 0; i++)
    {
      g_autofree char *path = ss_cli_find_model (argv[i + 1]);
      SsError e;
      members[i] = ss_model_load (path, &e);
      if (members[i] == NULL)
        {
          ss_cli_error ("%s", e.message);
          status = 1;
          break;
        }
      if (ss_model_n_members (members[i]) > 0)
        {
          ss_cli_error ("%s is already an ensemble: list its members' files instead", path);
          status = 1;
          break;
        }
      const SsModelSpec *sp = ss_model_spec (members[i]);
      g_autofree char *base = g_path_get_basename (path);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "file");
      json_builder_add_string_value (b, base);
      json_builder_set_member_name (b, "arch");
      json_builder_add_string_value (b, ss_arch_name (sp->arch));
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, sp->width);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  SsModel *model = NULL;
  SsError e;
  if (status == 0)
    {
      model = n == 1 ? members[0] : ss_ensemble_new (members, n, &e);
      if (model == NULL || ss_model_set_views (model, views, &e) != SS_OK
          || ss_model_set_views_below (model, (float) views_below, &e) != SS_OK)
        {
          ss_cli_error ("%s", e.message);
          status = 1;
        }
    }
  if (model == NULL)
    for (int i = 0; i < n; i++)
      ss_model_free (members[i]);
  if (status != 0)
    {
      ss_model_free (model);
      return status;
    }
  if (n > 1)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *info = json_to_string (root, FALSE);
      ss_model_set_training_info (model, info);
    }
  if (ss_model_save (model, out, half ? SS_STORE_F16 : SS_STORE_F32, &e) != SS_OK)
    {
      ss_cli_error ("%s", e.message);
      ss_model_free (model);
      return 1;
    }
  fprintf (stderr, "wrote %s: %d member%s, %d view%s%s\n", out, n, n == 1 ? "" : "s", views,
           views == 1 ? "" : "s",
           views > 1 && views_below > 0 ? " (the others only for cells less sure than the "
                                          "views-below confidence)" : "");
  ss_model_free (model);
  return 0;
}
