/* The lab's models between the case store and the analysis; see ss-lab-model.h. */
#include "ss-lab-model.h"

#include "ss-config.h"

#include "ss-models.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

char *
ss_lab_model_file (SsStore *store, gint64 id, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (SsLabModel) model = ss_store_get_lab_model (store, id, &bytes, error);
  if (model == NULL)
    return NULL;
  /* the name as a file name: no folder in it */
  g_autofree char *safe = g_strdup (model->name);
  g_strdelimit (safe, "/\\", '_');
  if (safe[0] == '.')
    safe[0] = '_';
  g_autofree char *base = g_str_has_suffix (safe, ".ssm") ? g_strdup (safe)
                                                          : g_strconcat (safe, ".ssm", NULL);
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "smearscope", "lab-models",
                                           model->sha256, NULL);
  g_autofree char *path = g_build_filename (dir, base, NULL);
  /* a file already there is used only if it holds these very bytes */
  g_autofree char *there = g_file_test (path, G_FILE_TEST_IS_REGULAR)
                             ? ss_file_sha256 (path, NULL) : NULL;
  if (g_strcmp0 (there, model->sha256) == 0)
    return g_steal_pointer (&path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot create %s for the lab's model %" G_GINT64_FORMAT ": %s", dir, id,
                   g_strerror (saved));
      return NULL;
    }
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  if (!g_file_set_contents (path, data, (gssize) size, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* The file of the store's model in use (written to the cache from the store), or the
 * shipped default's when none of the lab's is (store NULL: no store); *id its id, 0 for
 * the shipped one. NULL with error when the store cannot say or give it. */
static char *
lab_model_in_use_path (SsStore *store, const char *models_dir, gint64 *id, GError **error)
{
  *id = store != NULL ? ss_store_lab_model_in_use (store, error) : 0;
  if (*id < 0)
    return NULL;
  return *id > 0 ? ss_lab_model_file (store, *id, error)
                 : ss_models_default_classifier_path (models_dir);
}

SsClassifier *
ss_lab_model_load_in_use (SsStore *store, const char *models_dir, char **path_out,
                          gint64 *lab_id, GError **error)
{
  gint64 id = 0;
  if (lab_id != NULL)
    *lab_id = 0;
  g_autofree char *path = lab_model_in_use_path (store, models_dir, &id, error);
  if (path == NULL)
    return NULL;
  if (id == 0)
    return ss_models_load_default_classifier (models_dir, path_out, error);
  SsClassifier *classifier = ss_classifier_load (path, error);
  if (classifier == NULL)
    return NULL;
  /* stored without a camera check: the shipped model's, which it was taught from */
  if (ss_classifier_camera_check (classifier) == NULL)
    {
      g_autofree char *shipped = ss_models_default_classifier_path (models_dir);
      if (shipped != NULL && !ss_classifier_use_camera_check_of (classifier, shipped, error))
        {
          ss_classifier_unref (classifier);
          return NULL;
        }
    }
  if (lab_id != NULL)
    *lab_id = id;
  if (path_out != NULL)
    *path_out = g_steal_pointer (&path);
  return classifier;
}

gboolean
ss_lab_model_to_teach (SsStore *store, const char *models_dir, const char *model, char **path,
                       char **reference_dir, char **replay_dir, GError **error)
{
  g_autofree char *found = NULL;
  if (model != NULL)
    found = ss_models_find (models_dir, model);
  else
    {
      gint64 id = 0;
      if ((found = lab_model_in_use_path (store, models_dir, &id, error)) == NULL)
        return FALSE;
    }
  g_autofree char *reference = ss_models_beside (found, "reference");
  g_autofree char *replay = ss_models_beside (found, "replay");
  if (!g_file_test (reference, G_FILE_TEST_IS_DIR) && model == NULL)
    {
      /* a stored model: the sheets shipped beside the default model */
      g_autofree char *shipped = ss_models_default_classifier_path (models_dir);
      g_free (reference);
      g_free (replay);
      reference = ss_models_beside (shipped, "reference");
      replay = ss_models_beside (shipped, "replay");
    }
  if (!g_file_test (replay, G_FILE_TEST_IS_DIR))
    g_clear_pointer (&replay, g_free);
  *path = g_steal_pointer (&found);
  *reference_dir = g_steal_pointer (&reference);
  *replay_dir = g_steal_pointer (&replay);
  return TRUE;
}

char *
ss_lab_model_taught_text (const SsLearnCells *taught)
{
  const SsDataset *cells = taught->cells;
  g_autoptr (GString) text = g_string_new (NULL);
  for (int c = 0; c < cells->n_classes; c++)
    {
      int n = 0;
      for (int i = 0; i < cells->n; i++)
        n += cells->labels[i] == c;
      if (n > 0)
        g_string_append_printf (text, "%s%s %d", text->len > 0 ? ", " : "",
                                cells->class_names[c], n);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

char *
ss_lab_model_cases_text (const SsLearnCells *taught)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (guint i = 0; i < taught->cases->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? ", " : "",
                            (const char *) g_ptr_array_index (taught->cases, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

SsLearnCells *
ss_lab_model_earlier_cells (SsStore *store, const char *model_path,
                            const char *const *accessions, const SsModelSpec *spec,
                            GCancellable *cancellable, GError **error)
{
  if (store == NULL || accessions == NULL)
    return NULL;
  g_autofree char *sha256 = ss_file_sha256 (model_path, error);
  if (sha256 == NULL)
    return NULL;
  g_autoptr (GPtrArray) models = ss_store_list_lab_models (store, NULL, error);
  if (models == NULL)
    return NULL;
  /* the model and the lab models it descends from: each was taught its own cases, and
   * each head learned from its parent's (a stored model's parent, by its SHA-256; at most
   * as many steps as there are models, whatever a damaged row says) */
  g_autoptr (GHashTable) by_sha = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < models->len; i++)
    {
      const SsLabModel *m = g_ptr_array_index (models, i);
      if (m->sha256 != NULL)
        g_hash_table_insert (by_sha, m->sha256, (gpointer) m);
    }
  g_autoptr (GStrvBuilder) others = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const SsLabModel *m = g_hash_table_lookup (by_sha, sha256);
  for (guint step = 0; m != NULL && step < models->len; step++)
    {
      /* ss_lab_model_cases_text's list (an accession holds no space) less those taught now */
      g_auto (GStrv) cases = g_strsplit (m->cases != NULL ? m->cases : "", ", ", -1);
      for (int i = 0; cases[i] != NULL; i++)
        if (*cases[i] != '\0' && !g_strv_contains (accessions, cases[i])
            && !g_hash_table_contains (seen, cases[i]))
          {
            g_strv_builder_add (others, cases[i]);
            g_hash_table_add (seen, g_strdup (cases[i]));
          }
      m = m->parent_sha256 != NULL ? g_hash_table_lookup (by_sha, m->parent_sha256) : NULL;
    }
  if (g_hash_table_size (seen) == 0)
    return NULL;
  g_auto (GStrv) earlier = g_strv_builder_end (others);
  g_autoptr (SsLearnCells) cells = ss_learn_cells_gather (store, (const char *const *) earlier,
                                                          spec, SS_DEFAULT_MAX_PIXELS,
                                                          cancellable, NULL, NULL, error);
  if (cells == NULL)
    return NULL;
  if (cells->cells->n == 0 && cells->skipped->len > 0)
    {
      /* taught before, but none of it can be read now: the guard could not tell whether
       * the candidate forgets it */
      g_autofree char *listed = g_strjoinv (", ", earlier);
      g_set_error (error, SS_LEARN_ERROR, SS_LEARN_ERROR_TOO_FEW,
                   "the model was taught cases %s before, and their cells cannot be read now "
                   "(%s); a candidate must be checked against them: teach those cases too, "
                   "bring their pictures back, or teach the shipped model instead", listed,
                   (const char *) g_ptr_array_index (cells->skipped, 0));
      return NULL;
    }
  if (cells->cells->n == 0)
    return NULL;  /* no reviewed cell is left in them: nothing to forget */
  return g_steal_pointer (&cells);
}

gint64
ss_lab_model_offer (SsStore *store, const char *path, const char *name, const char *parent_path,
                    const SsLearnCells *taught, const char *earlier_cases,
                    const SsLearnVerdict *verdict, double margin, const char *user,
                    gboolean *existed, GError **error)
{
  g_autoptr (GMappedFile) file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return 0;
  g_autoptr (GBytes) bytes = g_mapped_file_get_bytes (file);
  g_autofree char *parent_sha256 = ss_file_sha256 (parent_path, error);
  if (parent_sha256 == NULL)
    return 0;
  g_autofree char *auto_name = NULL;
  if (name == NULL)
    {
      g_autofree char *base = g_path_get_basename (parent_path);
      if (g_str_has_suffix (base, ".ssm"))
        base[strlen (base) - 4] = '\0';
      /* a stored model's file is named after it: NAME-lab-2 teaches NAME-lab-3 */
      char *lab = strstr (base, "-lab-");
      if (lab != NULL)
        *lab = '\0';
      /* the store numbers it (ss_store_add_lab_model), inside its write */
      auto_name = g_strdup_printf ("%s-lab-", base);
      name = auto_name;
    }
  g_autofree char *taught_text = ss_lab_model_taught_text (taught);
  g_autofree char *cases_text = ss_lab_model_cases_text (taught);
  SsLabModel info = {
    .name = (char *) name,
    .parent_sha256 = parent_sha256,
    .n_cells = verdict->n_learn + verdict->n_back,
    .taught = taught_text,
    .cases = cases_text,
    .n_back = verdict->n_back,
    .back_before = verdict->back_before,
    .back_after = verdict->back_after,
    .n_reference = verdict->n_reference,
    .reference_before = verdict->reference_before,
    .reference_after = verdict->reference_after,
    .margin = margin,
    .n_earlier = earlier_cases != NULL ? verdict->n_earlier : 0,
    .earlier_before = verdict->earlier_before,
    .earlier_after = verdict->earlier_after,
    .earlier_cases = (char *) earlier_cases,
  };
  return ss_store_add_lab_model (store, &info, bytes, user, existed, error);
}

void
ss_lab_learn_result_free (SsLabLearnResult *result)
{
  if (result == NULL)
    return;
  g_free (result->taught);
  g_free (result->cases);
  g_free (result->earlier_cases);
  g_clear_pointer (&result->skipped, g_ptr_array_unref);
  g_free (result);
}

static void
lab_learn_progress (SsLabLearnProgress progress, gpointer user_data, double fraction,
                    const char *message)
{
  if (progress != NULL)
    progress (fraction, message, user_data);
}

/* Reading the fields is the long step (every image of every reviewed case): it moves
 * the progress from 0.15 to 0.35 field by field */
typedef struct {
  SsLabLearnProgress progress;
  gpointer           user_data;
} LabLearnFields;

static void
lab_learn_field (guint fields_read, guint n_fields, gpointer data)
{
  const LabLearnFields *fields = data;
  /* a few hundred messages at most: every field of a small store, every 1% of a big one */
  if (fields->progress == NULL
      || (fields_read != n_fields && fields_read % MAX (n_fields / 100, 1) != 0))
    return;
  g_autofree char *message = g_strdup_printf (_("Reading the reviewed cells: field %u of %u"),
                                              fields_read, n_fields);
  fields->progress (0.15 + 0.2 * fields_read / MAX (n_fields, 1), message, fields->user_data);
}

SsLabLearnResult *
ss_lab_learn (const char *location, const char *models_dir, const char *user,
              const char *const *accessions, GCancellable *cancellable,
              SsLabLearnProgress progress, gpointer user_data, GError **error)
{
  g_autoptr (SsStore) store = ss_store_open (location, SS_STORE_OPEN_DEFAULT, error);
  if (store == NULL)
    return NULL;
  lab_learn_progress (progress, user_data, 0.05, _("Finding the model in use"));
  g_autofree char *model_path = NULL, *reference_dir = NULL, *replay_dir = NULL;
  if (!ss_lab_model_to_teach (store, models_dir, NULL, &model_path, &reference_dir, &replay_dir,
                              error))
    return NULL;
  g_autoptr (SsClassifier) classifier = ss_classifier_load (model_path, error);
  if (classifier == NULL)
    return NULL;
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  lab_learn_progress (progress, user_data, 0.15, _("Reading the reviewed cells"));
  LabLearnFields fields = { progress, user_data };
  g_autoptr (SsLearnCells) taught = ss_learn_cells_gather (store, accessions, spec,
                                                           SS_DEFAULT_MAX_PIXELS, cancellable,
                                                           lab_learn_field, &fields, error);
  if (taught == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  lab_learn_progress (progress, user_data, 0.35, _("Reading the cells taught before"));
  g_autoptr (GError) earlier_error = NULL;
  g_autoptr (SsLearnCells) earlier = ss_lab_model_earlier_cells (store, model_path, accessions,
                                                                 spec, cancellable,
                                                                 &earlier_error);
  if (earlier_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&earlier_error));
      return NULL;
    }
  lab_learn_progress (progress, user_data, 0.35, _("Reading the reference cells"));
  g_autoptr (SsDataset) reference = ss_dataset_load_for_model (reference_dir, NULL, spec, error);
  if (reference == NULL)
    return NULL;
  g_autoptr (SsDataset) replay = NULL;
  if (replay_dir != NULL
      && (replay = ss_dataset_load_for_model (replay_dir, NULL, spec, error)) == NULL)
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  lab_learn_progress (progress, user_data, 0.5, _("Learning from the lab’s cells and checking "
                                                  "the candidate"));
  SsLearnGuardConfig config;
  ss_learn_guard_config_init (&config);
  g_autoptr (SsLabLearnResult) result = g_new0 (SsLabLearnResult, 1);
  result->margin = config.margin;
  if (!ss_learn_guarded (model, taught, replay, reference, earlier != NULL ? earlier->cells : NULL,
                         &config, &result->verdict, error))
    return NULL;
  result->taught = ss_lab_model_taught_text (taught);
  result->cases = ss_lab_model_cases_text (taught);
  result->earlier_cases = earlier != NULL ? ss_lab_model_cases_text (earlier) : NULL;
  result->n_images = taught->n_images;
  result->skipped = g_ptr_array_ref (taught->skipped);
  /* the pictures of the cases taught before that could not be read: said with the rest */
  for (guint i = 0; earlier != NULL && i < earlier->skipped->len; i++)
    g_ptr_array_add (result->skipped, g_strdup (g_ptr_array_index (earlier->skipped, i)));
  /* the last moment a Cancel is heard: after it the candidate is in the store */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (!result->verdict.offered)
    return g_steal_pointer (&result);
  lab_learn_progress (progress, user_data, 0.9, _("Recording the candidate"));
  g_autofree char *dir = g_dir_make_tmp ("smearscope-learn-XXXXXX", error);
  if (dir == NULL)
    return NULL;
  g_autofree char *path = g_build_filename (dir, "candidate.ssm", NULL);
  SsError engine_error;
  gboolean saved = ss_model_save (model, path, SS_STORE_F32, &engine_error) == SS_OK;
  if (!saved)
    g_set_error (error, SS_LEARN_ERROR, SS_LEARN_ERROR_FAILED, "%s", engine_error.message);
  else
    result->model_id = ss_lab_model_offer (store, path, NULL, model_path, taught,
                                           result->earlier_cases, &result->verdict, config.margin, user,
                                           &result->existed, error);
  g_unlink (path);
  g_rmdir (dir);
  if (!saved || result->model_id == 0)
    return NULL;
  lab_learn_progress (progress, user_data, 1.0, _("Done"));
  return g_steal_pointer (&result);
}
