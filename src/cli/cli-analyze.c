/* smearscope-cli analyze, evaluate --task detect|segment and bench --analyze: the field
 * analysis of src/analysis on files, with JSON, CSV and overlay output, and its
 * measurement against BCCD and wbc-seg. */
#include "cli.h"

#include "ss-analysis.h"
#include "ss-dataset.h"
#include "ss-gradcam.h"
#include "ss-metrics.h"
#include "ss-lab-model.h"
#include "ss-models.h"
#include "ss-morphometrics.h"
#include "ss-overlay.h"
#include "ss-report-analysis.h"
#include "ss-scale.h"
#include "ss-store-analysis.h"
#include "ss-voc.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Options shared by the three commands: the analysis settings. */
static char    *opt_model;
static double   opt_nms = -1, opt_min_confidence = -1, opt_scale = -1, opt_diameter = -1;
static double   opt_unsure_below = -1;
static gint64   opt_max_pixels = -1;
static gboolean opt_no_classifier, opt_no_shape_check;
static char    *opt_colour_target, *opt_colour_map;
static int      opt_views;
static double   opt_views_below = SS_CLI_VIEWS_BELOW_KEEP;

static const GOptionEntry analysis_entries[] = {
  { "model", 0, 0, G_OPTION_ARG_FILENAME, &opt_model,
    "Cell-type classifier (path or name; default: celltype if installed)", "MODEL" },
  { "no-classifier", 0, 0, G_OPTION_ARG_NONE, &opt_no_classifier,
    "Use the stain proposals alone, even if a classifier is installed", NULL },
  { "colour-map", 0, 0, G_OPTION_ARG_STRING, &opt_colour_map,
    "Map the run's pooled cell colours (one camera's) onto the model's before classifying: auto (the default: when the model was trained with its cameras brought to one), on or off", "WHEN" },
  { "colour-target", 0, 0, G_OPTION_ARG_STRING, &opt_colour_target,
    "Map the colours onto these R, G, B means and deviations in [0, 1] instead of the model's (implies --colour-map on)", "M,M,M,S,S,S" },
  { "views", 0, 0, G_OPTION_ARG_INT, &opt_views,
    "Classify each cell as the mean over 1, 2, 4 or 8 mirrored and turned views (the model's own; 8 is 8 times the work)", "N" },
  { "views-below", 0, 0, G_OPTION_ARG_DOUBLE, &opt_views_below, SS_CLI_VIEWS_BELOW_HELP, "X" },
  { "nms", 0, 0, G_OPTION_ARG_DOUBLE, &opt_nms, "Non-maximum suppression IoU (0.3)", "X" },
  { "min-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &opt_min_confidence,
    "Minimum confidence of a counted cell (0.7)", "X" },
  { "unsure-below", 0, 0, G_OPTION_ARG_DOUBLE, &opt_unsure_below,
    "Mark a cell unsure (review it first) under this class confidence (0.9)", "X" },
  { "no-shape-check", 0, 0, G_OPTION_ARG_NONE, &opt_no_shape_check,
    "Do not mark unsure the calls a cell's shape or size contradicts (a lymphocyte whose "
    "nucleus is not round, or larger than a lymphocyte) or whose field looks unlike every "
    "camera the model learned. Something far smaller than a white cell is still called "
    "not a cell wherever the red cells give the scale; with --cell-diameter no size is "
    "judged", NULL },
  { "max-pixels", 0, 0, G_OPTION_ARG_INT64, &opt_max_pixels,
    "Refuse images larger than this (100000000)", "N" },
  { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &opt_scale, "Working scale of the proposals (0.25)", "X" },
  { "cell-diameter", 0, 0, G_OPTION_ARG_DOUBLE, &opt_diameter,
    "Typical white cell across, in pixels (default: measured on each field's red cells; "
    "200 where they do not tell)", "PX" },
  { NULL }
};

static void
add_analysis_options (GOptionContext *context)
{
  GOptionGroup *group = g_option_group_new ("analysis", "Analysis settings:",
                                            "Show the analysis settings", NULL, NULL);
  ss_cli_add_group_entries (group, analysis_entries);
  g_option_context_add_group (context, group);
}

/* Settings from the options; FALSE (with a message) if one is out of range. */
static gboolean
settings_from_options (SsAnalysisSettings *settings)
{
  ss_analysis_settings_init (settings);
  if (opt_nms >= 0)
    settings->nms_iou = opt_nms;
  if (opt_min_confidence >= 0)
    settings->min_confidence = opt_min_confidence;
  if (opt_unsure_below >= 0)
    settings->unsure_below = opt_unsure_below;
  settings->check_doubts = !opt_no_shape_check;
  int colour_map = ss_colour_map_from_string (opt_colour_map != NULL ? opt_colour_map : "auto");
  if (colour_map < 0 || (colour_map == SS_COLOUR_MAP_OFF && opt_colour_target != NULL))
    {
      ss_cli_error ("--colour-map is auto, on or off (not '%s'), and not off with --colour-target",
                    opt_colour_map);
      return FALSE;
    }
  settings->colour_map = opt_colour_target != NULL ? SS_COLOUR_MAP_ON : (SsColourMap) colour_map;
  if (opt_colour_target != NULL)
    {
      if (!ss_cli_parse_colour_target (opt_colour_target, settings->colour_target))
        return FALSE;
      settings->has_colour_target = TRUE;
    }
  if (opt_max_pixels > 0)
    settings->max_pixels = opt_max_pixels;
  /* the diameter rescales every size of the detector; an explicit scale then wins */
  if (opt_diameter > 0)
    {
      ss_detect_settings_for_diameter (&settings->detect, opt_diameter);
      settings->scale_from_image = FALSE;
    }
  if (opt_scale > 0)
    settings->detect.scale = opt_scale;
  /* the shared check names the settings; here the user knows them as options */
  if (!ss_analysis_settings_validate (settings, NULL))
    {
      ss_cli_error ("--nms must be in (0, 1], --min-confidence and --unsure-below in [0, 1], and "
                    "--scale in [0.05, 1]");
      return FALSE;
    }
  return TRUE;
}

/* The classifier named by --model, else the store's model in use when the results go
 * to a case of store (may be NULL), else the default one if it is installed. *ok is
 * FALSE only when a model was asked for (or is in use) and cannot be used. */
static SsClassifier *
load_classifier (SsStore *store, gboolean *ok, char **model_path)
{
  *ok = TRUE;
  if (opt_no_classifier)
    return NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (SsClassifier) classifier =
    opt_model != NULL
      ? ss_models_load_classifier (ss_cli_models_override (), opt_model, &path, &error)
      : ss_lab_model_load_in_use (store, ss_cli_models_override (), &path, NULL, &error);
  if (classifier == NULL && error == NULL)
    {
      g_autofree char *looked = ss_models_default_classifier_path (ss_cli_models_override ());
      g_printerr ("smearscope-cli: no cell-type classifier installed (%s); cells are found "
                  "and outlined but left as \"other\"\n", looked);
      return NULL;
    }
  if (classifier == NULL)
    {
      ss_cli_error ("cannot use the classifier: %s", error->message);
      *ok = FALSE;
      return NULL;
    }
  if (!ss_cli_set_views (ss_classifier_model (classifier), opt_views, opt_views_below))
    {
      *ok = FALSE;
      return NULL;
    }
  if (model_path != NULL)
    *model_path = g_steal_pointer (&path);
  return g_steal_pointer (&classifier);
}

/* JSON of the evaluations and the benchmark */

static char *
builder_to_text (JsonBuilder *b)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  return ss_report_json_text (root);
}

/* "FIELD: 3 white cells, 3 counted (neutrophil 2, lymphocyte 1), 1 unsure; blast 0.0%;
 * white cells 171 px (red cells)"; what was found but called not a cell is said apart:
 * "FIELD: 2 white cells and 1 not a cell, 2 counted (...)" */
static void
print_summary (FILE *out, const char *path, const SsAnalysisResult *result, double unsure_below)
{
  g_autoptr (GString) line = g_string_new (NULL);
  guint unsure = 0;
  for (guint c = 0; c < result->cells->len; c++)
    unsure += ss_cell_is_unsure (result->cells->pdata[c], unsure_below);
  /* the kept cells are the counted ones and those called not a cell */
  const int white = result->counts.total_counted;
  const int not_a_cell = (int) result->cells->len - white;
  g_string_append_printf (line, "%s: %d white cell%s", path, white, white == 1 ? "" : "s");
  if (not_a_cell > 0)
    g_string_append_printf (line, " and %d not a cell", not_a_cell);
  g_string_append_printf (line, ", %d counted", white);
  const char *sep = " (";
  for (int k = 0; k < SS_N_CLASSES; k++)
    if (k != SS_CLASS_NOT_A_CELL && result->counts.counts[k] > 0)
      {
        g_string_append_printf (line, "%s%s %d", sep, ss_class_name (k), result->counts.counts[k]);
        sep = ", ";
      }
  if (*sep == ',')
    g_string_append (line, ")");
  if (unsure > 0)
    g_string_append_printf (line, ", %u unsure (review first)", unsure);
  g_string_append_printf (line, "; blast %.1f%%%s; white cells %.0f px (%s)",
                          result->counts.blast_pct, result->counts.flag ? ", FLAGGED" : "",
                          result->cell_diameter,
                          result->scale_source == SS_SCALE_SOURCE_RED_CELLS ? "measured on red cells"
                          : result->scale_source == SS_SCALE_SOURCE_FALLBACK
                            ? "red cells did not tell: the setting" : "the setting");
  fprintf (out, "%s\n", line->str);
}

/* Said once a run ends: how many fields looked unlike every camera that taught the
 * cell-type model its types (their calls doubted), and how many had their colours
 * brought to the model's. */
static void
say_new_camera (GPtrArray *results)
{
  guint unlike = 0, mapped = 0, checked = 0;
  for (guint i = 0; i < results->len; i++)
    {
      const SsAnalysisResult *r = results->pdata[i];
      if (r->error != NULL || r->camera_distance < 0)
        continue;
      checked++;
      unlike += r->camera_unlike;
      mapped += r->camera_unlike && r->colours_mapped;
    }
  if (unlike > 0)
    g_printerr ("smearscope-cli: %u of %u fields look unlike every camera that taught the "
                "cell-type model its types: their calls are marked unsure (%u with their "
                "colours brought to the model's first). Review them, or teach the model "
                "this camera (smearscope-cli learn).\n", unlike, checked, mapped);
}

int
ss_cli_analyze (int argc, char **argv)
{
  g_autofree char *json_path = NULL, *csv_path = NULL, *overlay_dir = NULL, *accession = NULL;
  g_autofree char *gradcam_dir = NULL;
  const GOptionEntry entries[] = {
    { "gradcam", 0, 0, G_OPTION_ARG_FILENAME, &gradcam_dir, "Write each cell's Grad-CAM picture into this folder", "DIR" },
    { "case", 0, 0, G_OPTION_ARG_STRING, &accession, "Store the results in this case (see --db)", "ACCESSION" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write cells and counts as JSON (- for stdout)", "FILE" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &csv_path, "Write one row of counts per image", "FILE" },
    { "overlay", 0, 0, G_OPTION_ARG_FILENAME, &overlay_dir, "Write overlay PNGs into this folder", "DIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("IMAGE... - find, outline, classify and count white cells");
  ss_cli_add_entries (context, entries);
  add_analysis_options (context);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (argc < 2)
    {
      ss_cli_error ("give at least one image (try --help)");
      return 2;
    }
  SsAnalysisSettings settings;
  if (!settings_from_options (&settings))
    return 2;
  /* the images of one run are taken as one case's: they share its scale */
  g_autoptr (SsScalePool) scale_pool = ss_scale_pool_new ();
  settings.scale_pool = scale_pool;
  g_autoptr (SsStore) store = NULL;
  if (accession != NULL)
    {
      g_autoptr (GError) error = NULL;
      store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_DEFAULT, &error);
      g_autoptr (SsCase) found = store != NULL ? ss_store_get_case (store, accession, &error) : NULL;
      if (found == NULL)
        {
          /* the hint only when the case is missing, not when the store failed */
          if (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND)
              || g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_NO_STORE))
            ss_cli_error ("%s (create the case first: smearscope-cli case new %s)",
                          error->message, accession);
          else
            ss_cli_error ("%s", error->message);
          return 1;
        }
    }
  gboolean ok;
  g_autofree char *model_path = NULL;
  g_autoptr (SsClassifier) classifier = load_classifier (store, &ok, &model_path);
  if (!ok)
    return 1;
  /* the images of one run are taken as one camera's: their colours are pooled */
  g_autoptr (SsColourPool) colour_pool = ss_analysis_colour_pool_new (&settings, classifier);
  settings.colour_pool = colour_pool;
  g_auto (SsModelIdentity) model = { 0 };
  if (store != NULL)
    {
      g_autoptr (GError) error = NULL;
      if (!ss_model_identity_init (&model, model_path, &error))
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
    }
  if (gradcam_dir != NULL && classifier == NULL)
    {
      ss_cli_error ("--gradcam needs a cell-type classifier (--model MODEL)");
      return 2;
    }
  /* before the analysis, not after it: an image taken as the output's name is refused */
  {
    g_autoptr (GError) error = NULL;
    if (!ss_cli_output_ok ("--json", json_path, &error)
        || !ss_cli_output_ok ("--csv", csv_path, &error))
      {
        ss_cli_error ("%s", error->message);
        return 1;
      }
  }
  if (gradcam_dir != NULL && g_mkdir_with_parents (gradcam_dir, 0755) != 0)
    {
      ss_cli_error ("cannot create the Grad-CAM folder %s", gradcam_dir);
      return 1;
    }
  if (overlay_dir != NULL && g_mkdir_with_parents (overlay_dir, 0755) != 0)
    {
      ss_cli_error ("cannot create the overlay folder %s", overlay_dir);
      return 1;
    }

  /* one line per image for the person at the terminal, on stdout unless the JSON or the
   * CSV goes there */
  FILE *summary = g_strcmp0 (json_path, "-") == 0 || g_strcmp0 (csv_path, "-") == 0 ? stderr
                                                                                     : stdout;
  /* every image's result, in order; one that failed (or was not stored) carries why */
  g_autoptr (GPtrArray) results =
    g_ptr_array_new_with_free_func ((GDestroyNotify) ss_analysis_result_free);
  int failed = 0;
  /* the case's scale before its first field: the case's stored fields measured on their
   * red cells, then a first look at this run's */
  if (settings.scale_from_image)
    {
      if (store != NULL)
        {
          g_autoptr (GPtrArray) stored = ss_store_list_images (store, accession, FALSE, NULL);
          for (guint k = 0; stored != NULL && k < stored->len; k++)
            {
              const SsImageRecord *record = stored->pdata[k];
              ss_scale_pool_add_stored (scale_pool, record->cell_diameter, record->scale_source);
            }
        }
      ss_scale_pool_prime (scale_pool, (const char *const *) argv + 1, argc - 1,
                           settings.max_pixels);
    }
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SsImage) image = ss_image_load (argv[i], settings.max_pixels, &error);
      SsAnalysisResult *result = NULL;
      if (image != NULL)
        result = ss_analysis_run (image, &settings, classifier, &error);
      if (result == NULL)
        {
          ss_cli_error ("%s", error->message);
          g_ptr_array_add (results,
                           ss_analysis_result_new_failed (argv[i], g_steal_pointer (&error)));
          failed++;
          continue;
        }
      result->path = g_strdup (argv[i]);
      g_ptr_array_add (results, result);
      if (store != NULL && ss_store_add_analysis (store, accession, result, &model, &error) == 0)
        {
          ss_cli_error ("%s", error->message);
          result->error = g_steal_pointer (&error);
          failed++;
          continue;
        }
      print_summary (summary, argv[i], result, settings.unsure_below);
      if (gradcam_dir != NULL)
        {
          g_autofree char *base = g_path_get_basename (argv[i]);
          char *dot = strrchr (base, '.');
          if (dot != NULL)
            *dot = '\0';
          for (guint c = 0; c < result->cells->len; c++)
            {
              const SsCell *cell = result->cells->pdata[c];
              int cls = -1;
              float prob = 0;
              g_autoptr (SsImage) picture =
                ss_gradcam_picture (classifier, image, &cell->box, settings.classifier_margin, -1,
                                    2, 0.45, &cls, &prob, &error);
              g_autofree char *file = g_strdup_printf (
                "%s-cell%u-%s.png", base, c, ss_classifier_class_name (classifier, cls));
              g_autofree char *out = g_build_filename (gradcam_dir, file, NULL);
              if (picture == NULL || !ss_image_save_png (picture, out, &error))
                {
                  ss_cli_error ("%s", error->message);
                  g_clear_error (&error);
                  failed++;
                }
            }
        }
      if (overlay_dir != NULL)
        {
          g_autofree char *base = g_path_get_basename (argv[i]);
          char *dot = strrchr (base, '.');
          if (dot != NULL)
            *dot = '\0';
          g_autofree char *file = g_strconcat (base, "-overlay.png", NULL);
          g_autofree char *out = g_build_filename (overlay_dir, file, NULL);
          if (!ss_overlay_write_png (image, result->cells, result->set_aside, out, &error))
            {
              ss_cli_error ("%s", error->message);
              failed++;
            }
        }
    }

  say_new_camera (results);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) json = ss_report_analysis_json (results, &settings, classifier != NULL);
  g_autofree char *json_text = ss_report_json_text (json);
  g_autofree char *csv = ss_report_counts_csv (results);
  if (json_path != NULL && !ss_cli_write_text (json_path, json_text, &error))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  if (csv_path != NULL && !ss_cli_write_text (csv_path, csv, &error))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  if (failed > 0)
    ss_cli_error ("%d of %d images could not be analysed, stored or written out (each said "
                  "why above)", failed, argc - 1);
  return failed > 0 ? 1 : 0;
}

/* evaluate --task detect */

static char **
read_split (const char *data, const char *split, GError **error)
{
  g_autofree char *path = g_file_test (split, G_FILE_TEST_EXISTS) && strchr (split, '/') != NULL
                            ? g_strdup (split) : g_build_filename (data, split, NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *ids = g_ptr_array_new ();
  for (char **l = lines; *l != NULL; l++)
    {
      char *id = g_strstrip (*l);
      if (*id != '\0')
        g_ptr_array_add (ids, g_strdup (id));
    }
  g_ptr_array_add (ids, NULL);
  return (char **) g_ptr_array_free (ids, FALSE);
}

static char *
find_image (const char *data, const char *id)
{
  static const char *const ext[] = { ".jpg", ".jpeg", ".png", ".tif", ".bmp", ".JPG", ".PNG" };
  for (gsize e = 0; e < G_N_ELEMENTS (ext); e++)
    {
      g_autofree char *file = g_strconcat (id, ext[e], NULL);
      char *path = g_build_filename (data, "images", file, NULL);
      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return path;
      g_free (path);
    }
  return NULL;
}

static void
add_score (JsonBuilder *b, const SsDetectionScore *s)
{
  ss_report_json_add_rounded (b, "ap50", s->ap50, 1e4);
  ss_report_json_add_rounded (b, "precision", s->precision, 1e4);
  ss_report_json_add_rounded (b, "recall", s->recall, 1e4);
  ss_report_json_add_rounded (b, "f1", s->f1, 1e4);
  ss_report_json_add_rounded (b, "count_mae", s->count_mae, 1e4);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, s->n_images);
  json_builder_set_member_name (b, "true_cells");
  json_builder_add_int_value (b, s->n_truth);
  json_builder_set_member_name (b, "detected_cells");
  json_builder_add_int_value (b, s->n_detections);
  json_builder_set_member_name (b, "true_positives");
  json_builder_add_int_value (b, s->true_positives);
}

int
ss_cli_evaluate_detect (int argc, char **argv)
{
  g_autofree char *data = NULL, *split = NULL, *json_path = NULL, *task = NULL, *label = NULL;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "task", 0, 0, G_OPTION_ARG_STRING, &task, "detect", "TASK" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Pascal VOC folder (images/, annotations/)", "DIR" },
    { "split", 0, 0, G_OPTION_ARG_FILENAME, &split, "Image ids to use: a file in DIR or a path (val.txt)", "FILE" },
    { "label", 0, 0, G_OPTION_ARG_STRING, &label, "The object name of white cells (WBC)", "NAME" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write the figures as JSON (- for stdout)", "FILE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "One line per image", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- WBC detection and counting against Pascal VOC boxes");
  ss_cli_add_entries (context, entries);
  add_analysis_options (context);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (data == NULL)
    {
      ss_cli_error ("--data DIR is required (a folder with images/ and annotations/)");
      return 2;
    }
  SsAnalysisSettings settings;
  if (!settings_from_options (&settings))
    return 2;
  /* the images of one run are taken as one case's: they share its scale */
  g_autoptr (SsScalePool) scale_pool = ss_scale_pool_new ();
  settings.scale_pool = scale_pool;
  gboolean ok;
  g_autoptr (SsClassifier) classifier = load_classifier (NULL, &ok, NULL);
  if (!ok)
    return 1;
  /* the images of one run are taken as one camera's: their colours are pooled */
  g_autoptr (SsColourPool) colour_pool = ss_analysis_colour_pool_new (&settings, classifier);
  settings.colour_pool = colour_pool;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) ids = read_split (data, split != NULL ? split : "val.txt", &error);
  if (ids == NULL)
    {
      ss_cli_error ("cannot read the split: %s", error->message);
      return 1;
    }
  g_autoptr (SsDetectionEval) eval = ss_detection_eval_new (0.5);
  int failed = 0;
  double total_ms = 0;
  if (settings.scale_from_image)
    {
      /* the split's scale before its first field, as a batch of a case has it */
      g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
      for (char **id = ids; *id != NULL; id++)
        {
          char *path = find_image (data, *id);
          if (path != NULL)
            g_ptr_array_add (paths, path);
        }
      ss_scale_pool_prime (scale_pool, (const char *const *) paths->pdata, (int) paths->len,
                           settings.max_pixels);
    }
  for (char **id = ids; *id != NULL; id++)
    {
      g_autofree char *image_path = find_image (data, *id);
      g_autofree char *xml_file = g_strconcat (*id, ".xml", NULL);
      g_autofree char *xml_path = g_build_filename (data, "annotations", xml_file, NULL);
      g_autoptr (SsVocAnnotation) voc = ss_voc_load (xml_path, &error);
      g_autoptr (SsAnalysisResult) result = NULL;
      if (voc != NULL && image_path == NULL)
        g_set_error (&error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA, "%s: no image", *id);
      else if (voc != NULL)
        result = ss_analysis_run_file (image_path, &settings, classifier, &error);
      if (result == NULL)
        {
          ss_cli_error ("%s", error->message);
          g_clear_error (&error);
          failed++;
          continue;
        }
      total_ms += result->timings.total_ms;
      g_autofree SsBox *truth = NULL;
      int n_truth = ss_voc_boxes (voc, label != NULL ? label : "WBC", &truth);
      /* every cell that survived NMS is ranked for the AP by how sure it is a white
       * cell; only the counted ones (a white-cell class, sure enough) for the rest */
      int n = 0, n_all = (int) (result->cells->len + result->set_aside->len);
      g_autofree SsBox *boxes = g_new (SsBox, MAX (n_all, 1));
      g_autofree float *confidence = g_new (float, MAX (n_all, 1));
      GPtrArray *lists[2] = { result->cells, result->set_aside };
      for (int l = 0; l < 2; l++)
        for (guint i = 0; i < lists[l]->len; i++)
          {
            const SsCell *cell = lists[l]->pdata[i];
            if (!ss_class_is_counted (cell->current_class))
              continue;
            boxes[n] = cell->box;
            confidence[n] = ss_cell_detection_score (cell);
            n++;
          }
      ss_detection_eval_add (eval, truth, n_truth, boxes, confidence, n, settings.min_confidence);
      if (verbose)
        {
          int counted = 0;
          double best = 0;
          for (int k = 0; k < n; k++)
            {
              counted += confidence[k] >= settings.min_confidence;
              for (int t = 0; t < n_truth; t++)
                best = MAX (best, ss_box_iou (&boxes[k], &truth[t]));
            }
          printf ("%s truth %d found %d best_iou %.2f%s\n", *id, n_truth, counted, best,
                  counted != n_truth || (n_truth > 0 && best < 0.5) ? "  <--" : "");
          for (int l = 0; l < 2; l++)
            for (guint i = 0; i < lists[l]->len; i++)
              {
                const SsCell *cell = lists[l]->pdata[i];
                double iou = 0;
                SsBox matched = { 0 };
                for (int t = 0; t < n_truth; t++)
                  if (ss_box_iou (&cell->box, &truth[t]) > iou)
                    iou = ss_box_iou (&cell->box, &truth[t]), matched = truth[t];
                printf ("  cell confidence %.3f nucleus_area %zu cell_area %zu box %d %d %d %d "
                        "truth %d %d %d %d iou %.2f\n",
                        cell->confidence, ss_rle_area (&cell->nucleus_mask),
                        ss_rle_area (&cell->mask), cell->box.x, cell->box.y, cell->box.width,
                        cell->box.height, matched.x, matched.y, matched.width, matched.height, iou);
              }
        }
    }
  SsDetectionScore score;
  ss_detection_eval_score (eval, &score);
  printf ("detect: %d images (%d unreadable), %d true cells, %d found, %d matched at IoU 0.5\n"
          "ap50 %.4f  precision %.4f  recall %.4f  f1 %.4f  count_mae %.4f  (%.1f ms/image)\n",
          score.n_images, failed, score.n_truth, score.n_detections, score.true_positives,
          score.ap50, score.precision, score.recall, score.f1, score.count_mae,
          score.n_images > 0 ? total_ms / score.n_images : 0);
  if (json_path != NULL)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      add_score (b, &score);
      json_builder_set_member_name (b, "unreadable");
      json_builder_add_int_value (b, failed);
      json_builder_end_object (b);
      g_autofree char *text = builder_to_text (b);
      if (!ss_cli_write_text (json_path, text, &error))
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
    }
  return failed > 0 ? 1 : 0;
}

/* evaluate --task segment */

typedef struct {
  double dice_cell, dice_nucleus, iou_cell, iou_nucleus;
  int    n, missed;
} SegmentScore;

/* Does id (a decimal file stem) belong to the --ids selection? */
static gboolean
id_selected (const char *stem, const char *ids)
{
  if (ids == NULL || strcmp (ids, "all") == 0)
    return TRUE;
  long number = strtol (stem, NULL, 10);
  if (strcmp (ids, "odd") == 0)
    return number % 2 == 1;
  if (strcmp (ids, "even") == 0)
    return number % 2 == 0;
  g_auto (GStrv) list = g_strsplit (ids, ",", -1);
  for (char **l = list; *l != NULL; l++)
    if (strtol (*l, NULL, 10) == number)
      return TRUE;
  return FALSE;
}

static gboolean
evaluate_segment_folder (const char *folder, const char *ids, const SsAnalysisSettings *settings,
                         gboolean verbose, SegmentScore *score, GError **error)
{
  g_autofree char *images_dir = g_build_filename (folder, "images", NULL);
  g_autoptr (GDir) dir = g_dir_open (images_dir, 0, error);
  if (dir == NULL)
    return FALSE;
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  for (const char *name; (name = g_dir_read_name (dir)) != NULL;)
    if (g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".bmp")
        || g_str_has_suffix (name, ".jpg"))
      g_ptr_array_add (names, g_strdup (name));
  ss_sort_strings (names);
  memset (score, 0, sizeof *score);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = ((char **) names->pdata)[i];
      g_autofree char *stem = g_strndup (name, strrchr (name, '.') - name);
      if (!id_selected (stem, ids))
        continue;
      g_autofree char *image_path = g_build_filename (images_dir, name, NULL);
      g_autofree char *mask_file = g_strconcat (stem, ".png", NULL);
      g_autofree char *mask_path = g_build_filename (folder, "masks", mask_file, NULL);
      g_autofree guint8 *true_cell = NULL, *true_nucleus = NULL;
      g_autoptr (SsImage) image = ss_segmentation_truth_load (image_path, mask_path,
                                                              settings->max_pixels, &true_cell,
                                                              &true_nucleus, error);
      if (image == NULL)
        return FALSE;
      const gsize n = (gsize) image->width * image->height;
      g_autofree guint8 *cell_mask = g_new0 (guint8, n);
      g_autofree guint8 *nucleus = g_new0 (guint8, n);
      g_autoptr (SsCell) cell = ss_detect_centre_cell (image, &settings->detect);
      if (cell != NULL)
        {
          ss_rle_decode (&cell->mask, cell_mask);
          ss_rle_decode (&cell->nucleus_mask, nucleus);
        }
      else
        score->missed++;
      double dc = ss_mask_dice (cell_mask, true_cell, n), dn = ss_mask_dice (nucleus, true_nucleus, n);
      score->dice_cell += dc;
      score->dice_nucleus += dn;
      score->iou_cell += ss_mask_iou (cell_mask, true_cell, n);
      score->iou_nucleus += ss_mask_iou (nucleus, true_nucleus, n);
      score->n++;
      if (verbose)
        printf ("%s/%s dice_cell %.3f dice_nucleus %.3f\n", folder, stem, dc, dn);
    }
  if (score->n > 0)
    {
      score->dice_cell /= score->n;
      score->dice_nucleus /= score->n;
      score->iou_cell /= score->n;
      score->iou_nucleus /= score->n;
    }
  return TRUE;
}

static void
add_segment_score (JsonBuilder *b, const SegmentScore *s)
{
  ss_report_json_add_rounded (b, "dice_cell", s->dice_cell, 1e4);
  ss_report_json_add_rounded (b, "dice_nucleus", s->dice_nucleus, 1e4);
  ss_report_json_add_rounded (b, "iou_cell", s->iou_cell, 1e4);
  ss_report_json_add_rounded (b, "iou_nucleus", s->iou_nucleus, 1e4);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, s->n);
  json_builder_set_member_name (b, "no_cell_found");
  json_builder_add_int_value (b, s->missed);
}

int
ss_cli_evaluate_segment (int argc, char **argv)
{
  g_autofree char *data = NULL, *ids = NULL, *json_path = NULL, *task = NULL;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "task", 0, 0, G_OPTION_ARG_STRING, &task, "segment", "TASK" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "wbc-seg folder (dataset*/ or images/ + masks/)", "DIR" },
    { "ids", 0, 0, G_OPTION_ARG_STRING, &ids, "Which ids: all (default), odd, even or a list 1,5,9", "IDS" },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write the figures as JSON (- for stdout)", "FILE" },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "One line per image", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- cell and nucleus segmentation against wbc-seg masks");
  ss_cli_add_entries (context, entries);
  add_analysis_options (context);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (data == NULL)
    {
      ss_cli_error ("--data DIR is required (wbc-seg layout)");
      return 2;
    }
  SsAnalysisSettings settings;
  if (!settings_from_options (&settings))
    return 2;
  /* DIR itself, or each datasetN folder in it */
  g_autoptr (GPtrArray) folders = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *direct = g_build_filename (data, "images", NULL);
  if (g_file_test (direct, G_FILE_TEST_IS_DIR))
    g_ptr_array_add (folders, g_strdup (data));
  else
    {
      g_autoptr (GDir) dir = g_dir_open (data, 0, NULL);
      for (const char *name; dir != NULL && (name = g_dir_read_name (dir)) != NULL;)
        {
          g_autofree char *sub = g_build_filename (data, name, "images", NULL);
          if (g_file_test (sub, G_FILE_TEST_IS_DIR))
            g_ptr_array_add (folders, g_build_filename (data, name, NULL));
        }
      ss_sort_strings (folders);
    }
  if (folders->len == 0)
    {
      ss_cli_error ("%s has no images/ folder and no dataset folders with one", data);
      return 1;
    }
  g_autoptr (JsonBuilder) b = json_builder_new ();
  SegmentScore all = { 0 };
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "datasets");
  json_builder_begin_object (b);
  for (guint i = 0; i < folders->len; i++)
    {
      const char *folder = folders->pdata[i];
      g_autoptr (GError) error = NULL;
      SegmentScore s;
      if (!evaluate_segment_folder (folder, ids, &settings, verbose, &s, &error))
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
      g_autofree char *name = g_path_get_basename (folder);
      printf ("segment %s (%s ids): %d images  dice_cell %.4f  dice_nucleus %.4f  iou_cell %.4f  "
              "iou_nucleus %.4f  (no cell found: %d)\n", name, ids != NULL ? ids : "all", s.n,
              s.dice_cell, s.dice_nucleus, s.iou_cell, s.iou_nucleus, s.missed);
      json_builder_set_member_name (b, name);
      json_builder_begin_object (b);
      add_segment_score (b, &s);
      json_builder_end_object (b);
      all.dice_cell += s.dice_cell * s.n;
      all.dice_nucleus += s.dice_nucleus * s.n;
      all.iou_cell += s.iou_cell * s.n;
      all.iou_nucleus += s.iou_nucleus * s.n;
      all.n += s.n;
      all.missed += s.missed;
    }
  json_builder_end_object (b);
  if (all.n > 0)
    {
      all.dice_cell /= all.n;
      all.dice_nucleus /= all.n;
      all.iou_cell /= all.n;
      all.iou_nucleus /= all.n;
    }
  add_segment_score (b, &all);
  json_builder_set_member_name (b, "ids");
  json_builder_add_string_value (b, ids != NULL ? ids : "all");
  json_builder_end_object (b);
  if (json_path != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *text = builder_to_text (b);
      if (!ss_cli_write_text (json_path, text, &error))
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
    }
  return 0;
}

/* bench --analyze */

/* Tile the given fields, in turn, into one width x height image. */
static SsImage *
tile_fields (SsImage **fields, int n, int width, int height)
{
  SsImage *out = ss_image_new (width, height);
  int k = 0;
  for (int y0 = 0; y0 < height; y0 += fields[0]->height)
    for (int x0 = 0; x0 < width; x0 += fields[0]->width, k++)
      {
        const SsImage *f = fields[k % n];
        for (int y = 0; y < f->height && y0 + y < height; y++)
          {
            int cols = MIN (f->width, width - x0);
            memcpy (out->rgb + ((gsize) (y0 + y) * width + x0) * 3,
                    f->rgb + (gsize) y * f->width * 3, (gsize) cols * 3);
          }
      }
  return out;
}

int
ss_cli_bench_analyze (int argc, char **argv)
{
  g_auto (GStrv) images = NULL;
  g_autofree char *tile = NULL;
  int iterations = 10;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "analyze", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &images, "Image to analyse (repeat to tile several)", "IMAGE" },
    { "tile", 0, 0, G_OPTION_ARG_STRING, &tile, "Tile the images into one WxH field, e.g. 2592x1944", "WxH" },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &iterations, "Timed runs (10)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("--analyze IMAGE - time the field analysis per stage");
  ss_cli_add_entries (context, entries);
  add_analysis_options (context);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (images == NULL || images[0] == NULL || iterations < 1)
    {
      ss_cli_error ("--analyze IMAGE is required, --iterations at least 1");
      return 2;
    }
  SsAnalysisSettings settings;
  if (!settings_from_options (&settings))
    return 2;
  gboolean ok;
  g_autoptr (SsClassifier) classifier = load_classifier (NULL, &ok, NULL);
  if (!ok)
    return 1;
  const int n_images = (int) g_strv_length (images);
  g_autoptr (GPtrArray) fields = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_image_free);
  double load_ms = 0;
  for (int i = 0; i < n_images; i++)
    {
      g_autoptr (GError) error = NULL;
      double t = g_get_monotonic_time () / 1000.0;
      SsImage *field = ss_image_load (images[i], settings.max_pixels, &error);
      load_ms = g_get_monotonic_time () / 1000.0 - t;
      if (field == NULL)
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
      g_ptr_array_add (fields, field);
    }
  g_autoptr (SsImage) tiled = NULL;
  const SsImage *image = fields->pdata[0];
  if (tile != NULL)
    {
      int tw = 0, th = 0;
      if (sscanf (tile, "%dx%d", &tw, &th) != 2 || tw < 1 || th < 1 || (gint64) tw * th > settings.max_pixels)
        {
          ss_cli_error ("--tile takes WIDTHxHEIGHT within the pixel limit, e.g. 2592x1944");
          return 2;
        }
      tiled = tile_fields ((SsImage **) fields->pdata, n_images, tw, th);
      image = tiled;
    }
  enum { PRE, PROP, REF, CLS, SEL, MOR, CNT, TOT, N_STAGES };
  static const char *const names[N_STAGES] = { "preprocess", "propose", "refine", "classify",
                                               "select", "morphometrics", "counts", "total" };
  g_autofree double *times = g_new (double, (gsize) N_STAGES * iterations);
  guint n_cells = 0;
  for (int it = -1; it < iterations; it++)  /* -1: warm-up, not timed */
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SsAnalysisResult) r = ss_analysis_run (image, &settings, classifier, &error);
      if (r == NULL)
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
      n_cells = r->cells->len;
      if (it < 0)
        continue;
      const SsAnalysisTimings *t = &r->timings;
      const double v[N_STAGES] = { t->preprocess_ms, t->propose_ms, t->refine_ms, t->classify_ms,
                                   t->select_ms, t->morphometrics_ms, t->counts_ms, t->total_ms };
      for (int s = 0; s < N_STAGES; s++)
        times[(gsize) s * iterations + it] = v[s];
    }
  double med[N_STAGES];
  for (int s = 0; s < N_STAGES; s++)
    med[s] = ss_cli_median (times + (gsize) s * iterations, iterations);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, image->width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, image->height);
      json_builder_set_member_name (b, "cells");
      json_builder_add_int_value (b, n_cells);
      json_builder_set_member_name (b, "iterations");
      json_builder_add_int_value (b, iterations);
      ss_report_json_add_rounded (b, "decode_ms", load_ms, 100);
      json_builder_set_member_name (b, "median_ms");
      json_builder_begin_object (b);
      for (int s = 0; s < N_STAGES; s++)
        ss_report_json_add_rounded (b, names[s], med[s], 100);
      json_builder_end_object (b);
      json_builder_end_object (b);
      g_autofree char *text = builder_to_text (b);
      fputs (text, stdout);
    }
  else
    {
      printf ("analyze %dx%d (%u cells, classifier %s), median of %d runs after 1 warm-up:\n",
              image->width, image->height, n_cells, classifier != NULL ? "on" : "off", iterations);
      printf ("  %-14s %8.2f ms (once, not in total)\n", "decode", load_ms);
      for (int s = 0; s < N_STAGES; s++)
        printf ("  %-14s %8.2f ms\n", names[s], med[s]);
    }
  return 0;
}
