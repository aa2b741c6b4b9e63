/* smearscope-cli evaluate --task classify: a model's figures on a labelled folder, with
 * the folder names mapped onto the model's classes through --map and the label table.
 * --task detect and --task segment belong to the field analysis (cli-analyze.c). */
#include "cli.h"

#include "ss-camera-check.h"

#include "ss-scale.h"

#include "ss-analysis.h"
#include "ss-classifier.h"
#include "ss-classify-metrics.h"
#include "ss-dataset.h"
#include "ss-training.h"
#include "ss-report-analysis.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int
evaluate_classify (int argc, char **argv)
{
  g_autofree char *task = NULL, *model_name = NULL, *data = NULL, *map_spec = NULL;
  g_autofree char *colour_target = NULL, *colour_map = NULL;
  g_autofree char *json_path = NULL, *plots = NULL, *pick_name = NULL;
  double cell_diameter = 0, margin = SS_CLASSIFIER_MARGIN;
  double views_below = SS_CLI_VIEWS_BELOW_KEEP;
  int field_cells = 0, views = 0;
  gboolean cell_classes = FALSE;
  const GOptionEntry entries[] = {
    { "task", 0, 0, G_OPTION_ARG_STRING, &task, "classify, detect or segment", "TASK" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_name, "Model file or default model name", "MODEL" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Labelled images, one folder per class", "DIR" },
    { "map", 0, 0, G_OPTION_ARG_STRING, &map_spec, "Override the label table", "FROM=TO,..." },
    { "json", 0, 0, G_OPTION_ARG_FILENAME, &json_path, "Write the figures as JSON ('-': stdout)", "FILE" },
    { "plots", 0, 0, G_OPTION_ARG_FILENAME, &plots, "Write roc.png and confusion.png here", "DIR" },
    { "field-cells", 0, 0, G_OPTION_ARG_INT, &field_cells, "Images are fields: classify N of their white cells and average", "N" },
    { "pick", 0, 0, G_OPTION_ARG_STRING, &pick_name, "With --field-cells: the cells the detector is surest of (certain, the default) or those nearest the picture's centre (centre: pictures of one cell, as PBC's)", "HOW" },
    { "cell-diameter", 0, 0, G_OPTION_ARG_DOUBLE, &cell_diameter, "With --field-cells: typical white cell across, pixels", "PX" },
    { "colour-map", 0, 0, G_OPTION_ARG_STRING, &colour_map, "Map the set's pooled white-cell colours (the set taken as one camera's) onto the model's before classifying: auto (the default: when the model was trained with its cameras brought to one), on or off", "WHEN" },
    { "colour-target", 0, 0, G_OPTION_ARG_STRING, &colour_target, "Map the colours onto these R, G, B means and deviations instead (implies --colour-map on)", "M,M,M,S,S,S" },
    { "margin", 0, 0, G_OPTION_ARG_DOUBLE, &margin, "With --field-cells: crop margin per side (0.15)", "X" },
    { "views", 0, 0, G_OPTION_ARG_INT, &views, SS_CLI_VIEWS_HELP, "N" },
    { "views-below", 0, 0, G_OPTION_ARG_DOUBLE, &views_below, SS_CLI_VIEWS_BELOW_HELP, "X" },
    { "cell-classes", 0, 0, G_OPTION_ARG_NONE, &cell_classes, "Score in the 8 cell classes: the model's classes summed through the label table, as the analysis does", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- measure a model or the analysis");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (model_name == NULL || data == NULL)
    {
      ss_cli_error ("evaluate --task classify needs --model MODEL and --data DIR");
      return 2;
    }
  SsFieldCells pick = SS_FIELD_CELLS_CERTAIN;
  if (pick_name != NULL && !ss_cli_parse_field_pick (pick_name, &pick))
    return 2;
  g_autofree char *model_path = ss_cli_find_model (model_name);
  g_autoptr (GError) error = NULL;
  /* loaded once, as a classifier: it serves whole images and the cells of fields alike */
  g_autoptr (SsClassifier) classifier = ss_classifier_load (model_path, &error);
  if (classifier == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  SsModel *model = ss_classifier_model (classifier);
  if (!ss_cli_set_views (model, views, views_below))
    return 1;
  const SsModelSpec *spec = ss_model_spec (model);
  /* the colour map, decided as the analysis decides it */
  SsAnalysisSettings colours;
  ss_analysis_settings_init (&colours);
  int when = ss_colour_map_from_string (colour_map != NULL ? colour_map : "auto");
  if (when < 0 || (when == SS_COLOUR_MAP_OFF && colour_target != NULL))
    {
      ss_cli_error ("--colour-map is auto, on or off (not '%s'), and not off with --colour-target",
                    colour_map);
      return 2;
    }
  colours.colour_map = colour_target != NULL ? SS_COLOUR_MAP_ON : (SsColourMap) when;
  if (colour_target != NULL)
    {
      if (!ss_cli_parse_colour_target (colour_target, colours.colour_target))
        return 2;
      colours.has_colour_target = TRUE;
    }
  g_autoptr (SsColourPool) colour_pool = ss_analysis_colour_pool_new (&colours, classifier);
  const char *names[SS_MAX_CLASSES];
  for (int c = 0; c < spec->n_classes; c++)
    names[c] = spec->class_names[c];

  g_autoptr (GHashTable) map = ss_label_map_parse (map_spec, &error);
  g_autoptr (SsDataset) ds = map == NULL ? NULL
                                         : ss_dataset_load_for_model (data, map, spec, &error);
  if (ds == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  g_autofree float *probs = NULL;
  if (field_cells > 0)
    {
      /* the model sees the cells of each field, as it was trained on cell crops */
      SsDetectSettings detect;
      ss_detect_settings_init (&detect);
      /* without --cell-diameter, the scale is measured on the pictures' red cells, the
       * data set taken as one microscope's (ss-scale.h) */
      g_autoptr (SsScalePool) scale_pool = cell_diameter > 0 ? NULL : ss_scale_pool_new ();
      if (cell_diameter > 0)
        ss_detect_settings_for_diameter (&detect, cell_diameter);
      probs = ss_classifier_run_fields (classifier, ds->paths, ds->n, &detect, field_cells,
                                        pick, margin, scale_pool, colour_pool, &error);
    }
  else
    {
      /* crops: the set's white cells pooled as one camera's, mapped onto the target */
      const char *const one_camera[] = { "", NULL };
      double target[6];
      ss_colour_pool_target (colour_pool, spec, target);
      gboolean mapped = colour_pool != NULL, ok = TRUE;
      if (ss_colour_pool_by_camera (colour_pool))
        {
          /* the set is one camera: mapped when its crops' median lies beyond the check
           * (all of them, a lab head's camera included, and not_a_cell read mapped too:
           * a measuring path; the analysis's is ss_classifier_run_boxes_pooled) */
          const SsCameraCheck *check = ss_classifier_camera_check (classifier);
          g_autofree float *stats = ss_camera_stats_dataset (model, ds, &error);
          g_autofree double *d = g_new (double, MAX (ds->n, 1));
          ok = stats != NULL;
          for (int i = 0; ok && i < ds->n; i++)
            d[i] = ss_camera_check_distance (check, stats + (gsize) i * SS_CAMERA_STATS);
          mapped = ok && ds->n > 0 && ss_camera_check_judge (check, d, ds->n, NULL);
          if (ok)
            g_printerr ("evaluate: camera %s the model learned: colours %s\n",
                        mapped ? "unlike every camera" : "like one of those",
                        mapped ? "mapped" : "as taken");
        }
      if (ok && (!mapped || ss_dataset_normalise_cameras (ds, one_camera, target, NULL, &error)))
        probs = ss_predict_dataset (model, ds, &error);
    }
  if (probs == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  int k = spec->n_classes;
  const int *labels = ds->labels;
  g_autofree int *cell_labels = NULL;
  if (cell_classes)
    {
      /* the model's classes and the folders' labels, both in the cell classes */
      float *merged = g_new (float, (gsize) ds->n * SS_N_CLASSES);
      cell_labels = g_new (int, ds->n);
      for (int i = 0; i < ds->n; i++)
        {
          ss_classifier_cell_probs (classifier, probs + (gsize) i * k,
                                    merged + (gsize) i * SS_N_CLASSES);
          int l = ds->labels[i], c = ss_classifier_cell_class (classifier, l >= 0 ? l : -1 - l);
          cell_labels[i] = l >= 0 ? c : -1 - c;
        }
      g_free (probs);
      probs = merged;
      labels = cell_labels;
      k = SS_N_CLASSES;
      for (int c = 0; c < k; c++)
        names[c] = ss_class_name (c);
    }
  SsClassifyScore s;
  ss_classify_score (probs, labels, ds->n, k, &s);
  /* two classes: the figures of the positive (first) class; more: macro averages */
  const gboolean binary = k == 2;
  const char *figure_names[] = { "accuracy", "sensitivity", "specificity", "ppv", "npv", "f1",
                                 "auc" };
  const double figures[G_N_ELEMENTS (figure_names)] = {
    s.accuracy, binary ? s.sensitivity[0] : s.macro_sensitivity,
    binary ? s.specificity[0] : s.macro_specificity, binary ? s.ppv[0] : s.macro_ppv,
    binary ? s.npv[0] : s.macro_npv, binary ? s.f1[0] : s.macro_f1,
    binary ? s.auc[0] : s.macro_auc,
  };

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model_path);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, ds->description);
  json_builder_set_member_name (b, "n");
  json_builder_add_int_value (b, ds->n);
  for (guint f = 0; f < G_N_ELEMENTS (figures); f++)
    ss_report_json_add_figure (b, figure_names[f], figures[f]);
  json_builder_set_member_name (b, "averaging");
  json_builder_add_string_value (b, binary ? "positive class (the model's first)" : "macro");
  json_builder_set_member_name (b, "classes");
  json_builder_begin_array (b);
  for (int c = 0; c < k; c++)
    json_builder_add_string_value (b, names[c]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "confusion");
  json_builder_begin_array (b);
  for (int t = 0; t < k; t++)
    {
      json_builder_begin_array (b);
      for (int p = 0; p < k; p++)
        json_builder_add_int_value (b, s.confusion[t][p]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "per_class");
  json_builder_begin_object (b);
  for (int c = 0; c < k; c++)
    {
      json_builder_set_member_name (b, names[c]);
      json_builder_begin_object (b);
      ss_report_json_add_figure (b, "sensitivity", s.sensitivity[c]);
      ss_report_json_add_figure (b, "specificity", s.specificity[c]);
      ss_report_json_add_figure (b, "ppv", s.ppv[c]);
      ss_report_json_add_figure (b, "npv", s.npv[c]);
      ss_report_json_add_figure (b, "f1", s.f1[c]);
      ss_report_json_add_figure (b, "auc", s.auc[c]);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  /* the images the model got wrong, to look at */
  json_builder_set_member_name (b, "wrong");
  json_builder_begin_array (b);
  for (int i = 0; i < ds->n; i++)
    {
      const float *p = probs + (gsize) i * k;
      const int call = ss_argmax (p, k), truth = labels[i];
      if (truth < 0 || call == truth)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "file");
      json_builder_add_string_value (b, ds->paths[i]);
      json_builder_set_member_name (b, "truth");
      json_builder_add_string_value (b, names[truth]);
      json_builder_set_member_name (b, "call");
      json_builder_add_string_value (b, names[call]);
      ss_report_json_add_figure (b, "confidence", p[call]);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *text = json_to_string (root, TRUE);

  printf ("%s\n", ds->description);
  for (guint f = 0; f < G_N_ELEMENTS (figures); f++)
    {
      /* a figure the set cannot define (say, specificity with one class) is "n/a" */
      if (isnan (figures[f]))
        printf ("%s n/a  ", figure_names[f]);
      else
        printf ("%s %.4f  ", figure_names[f], figures[f]);
    }
  printf ("(%s)\n", binary ? names[0] : "macro");
  printf ("confusion (rows truth, columns predicted):\n%14s", "");
  for (int p = 0; p < k; p++)
    printf (" %11.11s", names[p]);
  printf ("\n");
  for (int t = 0; t < k; t++)
    {
      printf ("%14.14s", names[t]);
      for (int p = 0; p < k; p++)
        printf (" %11d", s.confusion[t][p]);
      printf ("\n");
    }
  int status = 0;
  if (json_path != NULL && !ss_cli_write_text (json_path, text, &error))
    {
      ss_cli_error ("%s", error->message);
      status = 1;
    }
  if (plots != NULL)
    {
      g_autofree char *roc = g_build_filename (plots, "roc.png", NULL);
      g_autofree char *conf = g_build_filename (plots, "confusion.png", NULL);
      g_autofree char *model_base = g_path_get_basename (model_path);
      g_autofree char *title = g_strdup_printf ("%s on %s", model_base, data);
      g_mkdir_with_parents (plots, 0755);
      if (!ss_plot_roc (probs, labels, ds->n, k, names, title, roc, &error)
          || !ss_plot_confusion (&s, names, title, conf, &error))
        {
          ss_cli_error ("%s", error->message);
          status = 1;
        }
    }
  return status;
}

int
ss_cli_evaluate (int argc, char **argv)
{
  const char *task = "classify";
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--task") == 0 && i + 1 < argc)
        task = argv[i + 1];
      else if (g_str_has_prefix (argv[i], "--task="))
        task = argv[i] + strlen ("--task=");
    }
  if (strcmp (task, "classify") == 0)
    return evaluate_classify (argc, argv);
  if (strcmp (task, "detect") == 0)
    return ss_cli_evaluate_detect (argc, argv);
  if (strcmp (task, "segment") == 0)
    return ss_cli_evaluate_segment (argc, argv);
  ss_cli_error ("unknown --task '%s' (classify, detect, segment)", task);
  return 2;
}
