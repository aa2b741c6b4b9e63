/* smearscope-cli learn: a cell-type model taught a lab's own cells (issue 30). The lab's
 * taught cells (from its case store: every reviewed cell, and every cell of a signed
 * case; or a folder of labelled crops) are split by image; a new head is learned on the
 * features the network computes (ss_learn_head) from one part, against a replay of cells
 * it was trained on, and the candidate is offered only when the guard passes: better than
 * the model on the lab's held-back cells, and not worse than a margin on reference cells
 * of what it knew. */
#include "cli.h"

#include "ss-classifier.h"
#include "ss-dataset.h"
#include "ss-lab-model.h"
#include "ss-learn-cells.h"
#include "ss-learn-guard.h"
#include "ss-models.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <stdio.h>

#define LEARN_REFUSED 3  /* exit status: the guard did not pass, nothing written */

/* The reference sheet (sheet.png, sheet.csv) copied into dest, unless dest is where it
 * is. Returns FALSE with error set on failure; *copied says whether there was a sheet
 * (class folders are not copied: they may be a whole data set). */
static gboolean
copy_reference_sheet (const char *from, const char *dest, gboolean *copied, GError **error)
{
  static const char *const files[] = { "sheet.png", "sheet.csv" };
  g_autofree char *csv = g_build_filename (from, "sheet.csv", NULL);
  g_autoptr (GFile) a = g_file_new_for_path (from), b = g_file_new_for_path (dest);
  *copied = g_file_test (csv, G_FILE_TEST_IS_REGULAR);
  if (!*copied || g_file_equal (a, b))
    return TRUE;
  if (g_mkdir_with_parents (dest, 0755) != 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "cannot create %s: %s", dest, g_strerror (errno));
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *src = g_build_filename (from, files[i], NULL);
      g_autofree char *dst = g_build_filename (dest, files[i], NULL);
      g_autoptr (GFile) s = g_file_new_for_path (src), d = g_file_new_for_path (dst);
      if (!g_file_copy (s, d, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error))
        return FALSE;
    }
  return TRUE;
}

int
ss_cli_learn (int argc, char **argv)
{
  g_autofree char *model_name = NULL, *out = NULL, *data_dir = NULL, *replay_dir = NULL;
  g_autofree char *map_spec = NULL, *reference_dir = NULL, *user = NULL, *name = NULL;
  g_auto (GStrv) accessions = NULL;
  gboolean half = FALSE, no_replay = FALSE, one_head = FALSE;
  gint64 seed = 1;
  SsLearnGuardConfig config;
  ss_learn_guard_config_init (&config);
  const GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_STRING, &model_name, "The cell-type model to teach (path or name; default with the store: its model in use, else the shipped one)", "MODEL" },
    { "case", 0, 0, G_OPTION_ARG_STRING_ARRAY, &accessions, "Learn from this case of the store (again for more; default: every case)", "ACCESSION" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_dir, "Or learn from labelled crops: class folders", "DIR" },
    { "replay", 0, 0, G_OPTION_ARG_FILENAME, &replay_dir, "Cells the model was trained on, replayed so that it keeps them (class folders or a sheet; default: the sheet shipped beside the model, MODEL-replay, when there is one)", "DIR" },
    { "no-replay", 0, 0, G_OPTION_ARG_NONE, &no_replay, "Replay nothing", NULL },
    { "reference", 0, 0, G_OPTION_ARG_FILENAME, &reference_dir, "Cells of what the model knew, never learned from: the guard's second check (class folders or a sheet; default: the sheet shipped beside the model, MODEL-reference)", "DIR" },
    { "margin", 0, 0, G_OPTION_ARG_DOUBLE, &config.margin, "How much worse on --reference the candidate may be (0.01)", "X" },
    { "hold-back", 0, 0, G_OPTION_ARG_DOUBLE, &config.hold_back, "Fraction of the lab's images held back for the guard (0.25)", "X" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Which images are held back (1)", "N" },
    { "map", 0, 0, G_OPTION_ARG_STRING, &map_spec, "Override the label table (for the folders)", "FROM=TO,..." },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Write the candidate here when the guard passes", "FILE" },
    { "lab-weight", 0, 0, G_OPTION_ARG_DOUBLE, &config.head.lab_weight, "Each lab cell counts as this many replayed ones (4)", "X" },
    { "halvings", 0, 0, G_OPTION_ARG_INT, &config.halvings, "When the reference refuses the candidate, learn again at half the lab weight, up to N times (4; 0: once)", "N" },
    { "anchor", 0, 0, G_OPTION_ARG_DOUBLE, &config.head.anchor, "Pull towards the model's own head (0.001)", "X" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &config.head.steps, "Full-batch steps (300)", "N" },
    { "one-head", 0, 0, G_OPTION_ARG_NONE, &one_head, "Replace the model's own head, as --no-replay does too (default: keep it and learn the lab's beside it, for the cells that look like the lab's camera)", NULL },
    { "half", 0, 0, G_OPTION_ARG_NONE, &half, "Store the weights as float16", NULL },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Who offers the candidate, recorded in the store (default: your login name)", "NAME" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "The candidate's name in the store (default: MODEL-lab-N)", "NAME" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("- teach a cell-type model a lab's own cells, behind a guard");
  g_autoptr (GError) error = NULL;
  ss_cli_add_entries (context, entries);
  g_option_context_set_description (context,
    "The lab's cells: from the case store (--db), every reviewed cell (relabelled,\n"
    "confirmed, drawn; a deleted one as no white cell) and every cell of a signed case,\n"
    "each cut from its image as the analysis frames it (an image that moved or changed\n"
    "since it was analysed is left out, and said so); or --data, crops in class folders.\n"
    "About --hold-back of their images are held back; a new head is learned from the rest\n"
    "(and --replay). The candidate is written to --out only if it calls the held-back\n"
    "cells better than the model does and --reference at most --margin worse; both\n"
    "figures are printed either way. Learned from the store, an offered candidate is also\n"
    "recorded in it as offered, with its figures (smearscope-cli model list; an admin\n"
    "adopts it with model use ID). Exit status 3: the guard did not pass.");
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if ((model_name == NULL && data_dir != NULL) || out == NULL || argc > 1
      || (data_dir != NULL && accessions != NULL) || !(config.head.lab_weight > 0)
      || !(config.head.anchor >= 0) || config.head.steps < 1 || config.halvings < 0
      || !(config.hold_back > 0 && config.hold_back < 1)
      || !(config.margin >= 0 && config.margin < 1))
    {
      ss_cli_error ("learn needs --out FILE, and the lab's cells from the store (--db, "
                    "--case) or --data DIR with --model MODEL, not both (--hold-back "
                    "in (0, 1), --margin in [0, 1), a positive --lab-weight, --anchor at least "
                    "0, --steps at least 1, --halvings at least 0)");
      return 2;
    }
  /* the store, when the cells come from it: it also names the model taught (the one in
   * use unless --model says) and records the candidate offered */
  g_autoptr (SsStore) store = NULL;
  gboolean store_writable = TRUE;
  if (data_dir == NULL)
    {
      store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_DEFAULT, &error);
      if (store == NULL && g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY))
        {
          /* a store on a read-only share still teaches; the candidate goes to --out only */
          g_printerr ("learn: %s; an offered candidate is written to --out but not recorded "
                      "in the store\n", error->message);
          g_clear_error (&error);
          store_writable = FALSE;
          store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_READ_ONLY, &error);
        }
      if (store == NULL)
        return ss_cli_store_failed (error);
    }
  /* who offers the candidate: on a server the login, checked before any learning */
  const char *who = store != NULL ? ss_cli_store_user (store, user, NULL) : NULL;
  if (store != NULL && who == NULL)
    return EXIT_USAGE;
  g_autofree char *model_path = NULL, *beside_reference = NULL, *beside_replay = NULL;
  if (!ss_lab_model_to_teach (store, ss_cli_models_override (), model_name, &model_path,
                              &beside_reference, &beside_replay, &error))
    return ss_cli_store_failed (error);
  if (model_name == NULL)
    model_name = g_strdup (model_path);
  g_autoptr (SsClassifier) classifier = ss_cli_load_classifier (model_path);
  if (classifier == NULL)
    return 1;
  /* the guard's reference: given, or the sheet shipped beside the model */
  if (reference_dir == NULL)
    {
      reference_dir = g_steal_pointer (&beside_reference);
      if (!g_file_test (reference_dir, G_FILE_TEST_IS_DIR))
        {
          ss_cli_error ("no reference cells beside %s (%s): the guard needs cells the model "
                        "knew; give them with --reference DIR", model_path, reference_dir);
          return 1;
        }
    }
  /* replayed cells: given, else the sheet shipped beside the model when there is one
   * (--no-replay: none) */
  if (replay_dir == NULL && !no_replay)
    replay_dir = g_steal_pointer (&beside_replay);
  else if (no_replay && replay_dir != NULL)
    {
      ss_cli_error ("--replay and --no-replay: give one");
      return 2;
    }
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  if (ss_model_feature_dim (model) == 0)
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

  /* the lab's cells, split by image */
  g_autoptr (SsLearnCells) taught = NULL;
  g_autoptr (SsLearnCells) earlier = NULL;
  if (data_dir != NULL)
    {
      SsDataset *crops = ss_cli_load_dataset (data_dir, map, spec);
      if (crops == NULL)
        return 1;
      taught = ss_learn_cells_from_dataset (crops);
    }
  else
    {
      taught = ss_learn_cells_gather (store, (const char *const *) accessions, spec,
                                      SS_DEFAULT_MAX_PIXELS, NULL, NULL, NULL, &error);
      if (taught == NULL)
        return ss_cli_store_failed (error);
      for (guint i = 0; i < taught->skipped->len; i++)
        g_printerr ("learn: %s\n", (const char *) g_ptr_array_index (taught->skipped, i));
      /* a lab model taught other cases before: the candidate must not forget them */
      earlier = ss_lab_model_earlier_cells (store, model_path, (const char *const *) accessions,
                                            spec, NULL, &error);
      if (earlier == NULL && error != NULL)
        return ss_cli_store_failed (error);
      for (guint i = 0; earlier != NULL && i < earlier->skipped->len; i++)
        g_printerr ("learn: %s (a case taught before)\n",
                    (const char *) g_ptr_array_index (earlier->skipped, i));
    }
  g_autoptr (SsDataset) replay = replay_dir != NULL ? ss_cli_load_dataset (replay_dir, map, spec)
                                                    : NULL;
  g_autoptr (SsDataset) reference = ss_cli_load_dataset (reference_dir, map, spec);
  if ((replay_dir != NULL && replay == NULL) || reference == NULL)
    return 1;

  config.seed = (guint64) seed;
  config.camera_head = !one_head;
  SsLearnVerdict v;
  if (!ss_learn_guarded (model, taught, replay, reference, earlier != NULL ? earlier->cells : NULL,
                         &config, &v, &error))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  if (data_dir != NULL)
    printf ("learned from %d of the lab's cells (%s; %d replayed); held back %d cells\n",
            v.n_learn, data_dir, v.n_replay, v.n_back);
  else
    printf ("learned from %d of the lab's cells (%d images of %d cases; %d replayed); held "
            "back %d cells\n", v.n_learn, taught->n_images, taught->n_cases, v.n_replay,
            v.n_back);
  printf ("%s\n", v.camera_head ? "a head for the lab's camera, beside the model's own"
                                 : "the model's own head replaced");
  printf ("each lab cell weighed as %g replayed ones%s\n", v.lab_weight,
          v.tries > 1 ? " (halved until the reference allowed it, or as far as --halvings goes)"
                      : "");
  printf ("the lab's held-back cells: model %.4f, candidate %.4f (%d cells)\n", v.back_before,
          v.back_after, v.n_back);
  printf ("reference cells (%s): model %.4f, candidate %.4f (%d cells; margin %.4f)\n",
          reference_dir, v.reference_before, v.reference_after, v.n_reference, config.margin);
  g_autofree char *earlier_cases = earlier != NULL ? ss_lab_model_cases_text (earlier) : NULL;
  if (v.n_earlier > 0)
    printf ("cells taught before (%s): model %.4f, candidate %.4f (%d cells; margin %.4f)\n",
            earlier_cases, v.earlier_before, v.earlier_after, v.n_earlier, config.margin);
  if (v.camera_head)
    printf ("the lab's head weighs most in %d of the %d held-back cells and in %d of the "
            "%d reference cells\n", v.gate_back, v.n_back, v.gate_reference, v.n_reference);
  if (!v.better_on_lab)
    {
      printf ("not offered: the candidate is not better on the lab's held-back cells\n");
      return LEARN_REFUSED;
    }
  if (!v.within_margin)
    {
      printf ("not offered: the candidate is worse on the reference cells than the margin allows\n");
      return LEARN_REFUSED;
    }
  if (!v.keeps_earlier)
    {
      printf ("not offered: the candidate forgets what the lab taught the model before (the "
              "cells of %s); teach those cases too (--case for each)\n", earlier_cases);
      return LEARN_REFUSED;
    }
  SsError engine_error;
  if (ss_model_save (model, out, half ? SS_STORE_F16 : SS_STORE_F32, &engine_error) != SS_OK)
    {
      ss_cli_error ("%s", engine_error.message);
      return 1;
    }
  /* the candidate keeps the reference it was checked against, so that it can be taught
   * again behind the same guard */
  g_autofree char *out_reference = ss_models_beside (out, "reference");
  g_autofree char *out_replay = ss_models_beside (out, "replay");
  gboolean copied = FALSE, replay_copied = FALSE;
  if (!copy_reference_sheet (reference_dir, out_reference, &copied, &error)
      || (replay_dir != NULL
          && !copy_reference_sheet (replay_dir, out_replay, &replay_copied, &error)))
    {
      ss_cli_error ("%s (the candidate %s is written; give --reference %s when teaching it)",
                    error->message, out, reference_dir);
      return 1;
    }
  /* and the camera check of the model it was taught from, as a stored lab model uses it */
  g_autofree char *cameras = ss_models_beside (model_path, "cameras.csv");
  g_autofree char *out_cameras = ss_models_beside (out, "cameras.csv");
  g_autoptr (GFile) cameras_file = g_file_new_for_path (cameras);
  g_autoptr (GFile) out_cameras_file = g_file_new_for_path (out_cameras);
  if (g_file_test (cameras, G_FILE_TEST_IS_REGULAR)
      && !g_file_equal (cameras_file, out_cameras_file)
      && !g_file_copy (cameras_file, out_cameras_file, G_FILE_COPY_OVERWRITE, NULL, NULL,
                       NULL, &error))
    {
      ss_cli_error ("%s (the candidate %s is written without the camera check beside it)",
                    error->message, out);
      return 1;
    }
  /* none there: none beside the candidate either (an earlier candidate's would be stale) */
  if (!g_file_test (cameras, G_FILE_TEST_IS_REGULAR)
      && g_file_test (out_cameras, G_FILE_TEST_EXISTS) && g_unlink (out_cameras) != 0)
    {
      ss_cli_error ("cannot remove %s, a camera check of an earlier candidate: %s",
                    out_cameras, g_strerror (errno));
      return 1;
    }
  if (copied)
    printf ("offered: %s (its reference cells beside it: %s)\n", out, out_reference);
  else
    printf ("offered: %s (teach it again with --reference %s)\n", out, reference_dir);
  if (store != NULL && store_writable)
    {
      gboolean existed = FALSE;
      gint64 id = ss_lab_model_offer (store, out, name, model_path, taught, earlier_cases, &v,
                                      config.margin, who, &existed, &error);
      if (id == 0)
        return ss_cli_store_failed (error);
      printf ("%s in the case store as model %" G_GINT64_FORMAT " (an admin puts it in use: "
              "smearscope-cli model use %" G_GINT64_FORMAT ")\n",
              existed ? "already" : "recorded", id, id);
    }
  return 0;
}
