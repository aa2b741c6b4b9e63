/* The default models and the analysis settings: where models are found, what identifies
 * the one that made the calls, and which settings an analysis accepts. */
#include "ss-models.h"

#include "ss-config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (ss-models-error-quark, ss_models_error)

#define DEFAULT_CLASSIFIER "celltype"
#define NO_MODEL_NAME      "none (stain proposals only)"

gboolean
ss_running_from_build_tree (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  return exe != NULL && g_str_has_prefix (exe, SS_BUILD_ROOT "/");
}

char *
ss_models_dir (const char *override)
{
  if (override != NULL)
    return g_strdup (override);
  if (g_getenv ("SMEARSCOPE_MODELS") != NULL)
    return g_strdup (g_getenv ("SMEARSCOPE_MODELS"));
  if (ss_running_from_build_tree ())
    return g_strdup (SS_SOURCE_MODELS_DIR);
  return g_strdup (SS_INSTALLED_MODELS_DIR);
}

char *
ss_models_find (const char *models_dir, const char *name_or_path)
{
  g_return_val_if_fail (name_or_path != NULL, NULL);
  if (strchr (name_or_path, '/') != NULL || g_file_test (name_or_path, G_FILE_TEST_EXISTS))
    return g_strdup (name_or_path);
  g_autofree char *dir = ss_models_dir (models_dir);
  g_autofree char *file = g_str_has_suffix (name_or_path, ".ssm")
                            ? g_strdup (name_or_path) : g_strconcat (name_or_path, ".ssm", NULL);
  return g_build_filename (dir, file, NULL);
}

char *
ss_models_beside (const char *model_path, const char *what)
{
  g_autofree char *stem = g_str_has_suffix (model_path, ".ssm")
                            ? g_strndup (model_path, strlen (model_path) - 4)
                            : g_strdup (model_path);
  return g_strconcat (stem, "-", what, NULL);
}

char *
ss_models_default_classifier_path (const char *models_dir)
{
  return ss_models_find (models_dir, DEFAULT_CLASSIFIER);
}

SsClassifier *
ss_models_load_classifier (const char *models_dir, const char *name_or_path, char **path_out,
                           GError **error)
{
  g_autofree char *path = ss_models_find (models_dir, name_or_path);
  SsClassifier *classifier = ss_classifier_load (path, error);
  if (classifier != NULL && path_out != NULL)
    *path_out = g_steal_pointer (&path);
  return classifier;
}

SsClassifier *
ss_models_load_default_classifier (const char *models_dir, char **path_out, GError **error)
{
  g_autofree char *path = ss_models_default_classifier_path (models_dir);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  return ss_models_load_classifier (models_dir, path, path_out, error);
}

/* The file's hash, and its first four bytes into magic (may be NULL; "????" for a file
 * shorter than that), in one read. */
static char *
hash_file (const char *path, char magic[5], GError **error)
{
  FILE *file = fopen (path, "rb");
  if (file == NULL)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   "cannot read %s: %s", path, g_strerror (saved));
      return NULL;
    }
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guchar buffer[65536];
  gsize n, total = 0;
  if (magic != NULL)
    memcpy (magic, "????", 5);
  while ((n = fread (buffer, 1, sizeof buffer, file)) > 0)
    {
      if (magic != NULL && total == 0 && n >= 4)
        memcpy (magic, buffer, 4);
      g_checksum_update (checksum, buffer, n);
      total += n;
    }
  gboolean failed = ferror (file);
  fclose (file);
  if (failed)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "cannot read %s", path);
      return NULL;
    }
  return g_strdup (g_checksum_get_string (checksum));
}

char *
ss_file_sha256 (const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  return hash_file (path, NULL, error);
}

void
ss_model_identity_clear (SsModelIdentity *identity)
{
  g_clear_pointer (&identity->path, g_free);
  g_clear_pointer (&identity->name, g_free);
  g_clear_pointer (&identity->format, g_free);
  g_clear_pointer (&identity->sha256, g_free);
}

gboolean
ss_model_identity_init (SsModelIdentity *identity, const char *path, GError **error)
{
  g_return_val_if_fail (identity != NULL, FALSE);
  memset (identity, 0, sizeof *identity);
  if (path == NULL)
    {
      identity->name = g_strdup (NO_MODEL_NAME);
      identity->format = g_strdup ("none");
      return TRUE;
    }
  /* the file format the model was read from: SSM1 (one network) or SSE1 (ensemble) */
  char magic[5];
  g_autoptr (GError) file_error = NULL;
  identity->sha256 = hash_file (path, magic, &file_error);
  if (identity->sha256 == NULL)
    {
      g_set_error_literal (error, SS_MODELS_ERROR, SS_MODELS_ERROR_UNREADABLE,
                           file_error->message);
      return FALSE;
    }
  identity->path = g_strdup (path);
  identity->name = g_path_get_basename (path);
  identity->format = g_strdup (magic);
  return TRUE;
}

static gboolean
refuse_setting (const char *name, double value, const char *range, GError **error)
{
  g_set_error (error, SS_MODELS_ERROR, SS_MODELS_ERROR_INVALID_SETTING,
               "the analysis setting %s is %g; it must be %s", name, value, range);
  return FALSE;
}

gboolean
ss_analysis_settings_validate (const SsAnalysisSettings *settings, GError **error)
{
  g_return_val_if_fail (settings != NULL, FALSE);
  /* written so that NaN fails every test */
  if (!(settings->nms_iou > 0 && settings->nms_iou <= 1))
    return refuse_setting ("nms_iou", settings->nms_iou, "in (0, 1]", error);
  if (!(settings->min_confidence >= 0 && settings->min_confidence <= 1))
    return refuse_setting ("min_confidence", settings->min_confidence, "in [0, 1]", error);
  if (!(settings->unsure_below >= 0 && settings->unsure_below <= 1))
    return refuse_setting ("unsure_below", settings->unsure_below, "in [0, 1]", error);
  if (!(settings->detect.scale >= 0.05 && settings->detect.scale <= 1))
    return refuse_setting ("detect.scale", settings->detect.scale, "in [0.05, 1]", error);
  if (!(settings->detect.cell_diameter > 0))
    return refuse_setting ("detect.cell_diameter", settings->detect.cell_diameter,
                           "above 0 (pixels)", error);
  if (!(settings->blast_threshold >= 0 && settings->blast_threshold <= 100))
    return refuse_setting ("blast_threshold", settings->blast_threshold, "in [0, 100] (percent)",
                           error);
  return TRUE;
}

void
ss_init_i18n (void)
{
  g_autofree char *build_locale = g_build_filename (SS_BUILD_ROOT, "po", NULL);
  if (ss_running_from_build_tree () && g_file_test (build_locale, G_FILE_TEST_IS_DIR))
    bindtextdomain (GETTEXT_PACKAGE, build_locale);
  else
    bindtextdomain (GETTEXT_PACKAGE, SS_LOCALE_DIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}
