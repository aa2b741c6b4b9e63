/* What every subcommand shares: common options, locating models and the case store,
 * and error output. */
#include "cli.h"

#include <string.h>

#include "ss-engine.h"
#include "ss-image.h"
#include "ss-models.h"
#include "ss-report-analysis.h"
#include "ss-store.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *opt_db;
static char *opt_models;
static int   opt_threads;

static const GOptionEntry common_entries[] = {
  { "db", 0, 0, G_OPTION_ARG_FILENAME, &opt_db, "Case store (SQLite file)", "FILE" },
  { "models", 0, 0, G_OPTION_ARG_FILENAME, &opt_models, "Folder of default models", "DIR" },
  { "threads", 0, 0, G_OPTION_ARG_INT, &opt_threads, "Worker threads (default: all cores)", "N" },
  { NULL }
};

void
ss_cli_add_common_options (GOptionContext *context)
{
  GOptionGroup *group = g_option_group_new ("common", "Options of every subcommand:",
                                            "Show the options every subcommand takes", NULL, NULL);
  g_option_group_add_entries (group, common_entries);
  g_option_context_add_group (context, group);
}

/* The option tables of the command being run (one command a process) */
static const GOptionEntry *number_tables[8];
static guint n_number_tables;

static void
remember_entries (const GOptionEntry *entries)
{
  g_return_if_fail (n_number_tables < G_N_ELEMENTS (number_tables));
  number_tables[n_number_tables++] = entries;
}

void
ss_cli_add_entries (GOptionContext *context, const GOptionEntry *entries)
{
  g_option_context_add_main_entries (context, entries, NULL);
  remember_entries (entries);
}

void
ss_cli_add_group_entries (GOptionGroup *group, const GOptionEntry *entries)
{
  g_option_group_add_entries (group, entries);
  remember_entries (entries);
}

/* GOption reads a double with g_ascii_strtod, which takes "nan", "inf" and "infinity":
 * a number option the command line set to one of those is refused (a default may be
 * anything: only values that changed in the parse are looked at). */
static gboolean
numbers_finite (const double *before)
{
  guint k = 0;

  for (guint t = 0; t < n_number_tables; t++)
    for (const GOptionEntry *e = number_tables[t]; e->long_name != NULL; e++)
      if (e->arg == G_OPTION_ARG_DOUBLE && k < 64)
        {
          double value = *(const double *) e->arg_data;

          if (memcmp (&value, &before[k++], sizeof value) != 0 && !isfinite (value))
            {
              ss_cli_error ("--%s must be a finite number, not %g", e->long_name, value);
              return FALSE;
            }
        }
  return TRUE;
}

gboolean
ss_cli_parse (GOptionContext *context, int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  double before[64];
  guint k = 0;

  for (guint t = 0; t < n_number_tables; t++)
    for (const GOptionEntry *e = number_tables[t]; e->long_name != NULL; e++)
      if (e->arg == G_OPTION_ARG_DOUBLE && k < G_N_ELEMENTS (before))
        before[k++] = *(const double *) e->arg_data;
  ss_cli_add_common_options (context);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      ss_cli_error ("%s (try --help)", error->message);
      return FALSE;
    }
  if (!numbers_finite (before))
    return FALSE;
  if (opt_threads < 0 || opt_threads > 64)
    {
      ss_cli_error ("--threads must be between 1 and 64 (0 or absent: all cores)");
      return FALSE;
    }
  if (opt_threads > 0)
    ss_engine_set_threads (opt_threads);
  return TRUE;
}

gboolean
ss_cli_parse_operands (GOptionContext *context, int *argc, char ***argv, int n_operands,
                       const char *wrong_count)
{
  if (!ss_cli_parse (context, argc, argv))
    return FALSE;
  if (*argc != n_operands + 1)
    {
      ss_cli_error ("%s (try --help)", wrong_count);
      return FALSE;
    }
  return TRUE;
}

gboolean
ss_cli_set_views (SsModel *model, int views, double below)
{
  SsError e;
  if ((views != 0 && ss_model_set_views (model, views, &e) != SS_OK)
      || (below != SS_CLI_VIEWS_BELOW_KEEP
          && ss_model_set_views_below (model, (float) below, &e) != SS_OK))
    {
      ss_cli_error ("%s", e.message);
      return FALSE;
    }
  return TRUE;
}

gboolean
ss_cli_parse_field_pick (const char *word, SsFieldCells *pick)
{
  if (g_strcmp0 (word, "certain") == 0)
    *pick = SS_FIELD_CELLS_CERTAIN;
  else if (g_strcmp0 (word, "centre") == 0)
    *pick = SS_FIELD_CELLS_CENTRE;
  else
    {
      ss_cli_error ("--pick must be certain or centre, not '%s'", word);
      return FALSE;
    }
  return TRUE;
}

const char *
ss_cli_db_path (void)
{
  static char *default_path;
  if (opt_db != NULL)
    return opt_db;
  if (g_getenv ("SMEARSCOPE_DB") != NULL)
    return g_getenv ("SMEARSCOPE_DB");
  if (default_path == NULL)
    default_path = g_build_filename (g_get_user_data_dir (), "smearscope", "cases.db", NULL);
  return default_path;
}

const char *
ss_cli_models_override (void)
{
  return opt_models;
}

char *
ss_cli_find_model (const char *name_or_path)
{
  return ss_models_find (opt_models, name_or_path);
}

void
ss_cli_error (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;
  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  fprintf (stderr, "smearscope-cli: %s\n", message);
}

int
ss_cli_store_failed (const GError *error)
{
  ss_cli_error ("%s", error->message);
  if (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_NO_STORE))
    fprintf (stderr, "  'smearscope-cli case new ACCESSION' creates a store there; --db FILE or "
                     "$SMEARSCOPE_DB names another\n");
  else if (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED))
    fprintf (stderr, "  'smearscope-cli case reopen ACCESSION --user NAME --reason TEXT' "
                     "reopens it\n");
  else if (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_STALE))
    fprintf (stderr, "  'smearscope-cli case show ACCESSION' shows the cell as it is now\n");
  else if (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN))
    fprintf (stderr, "  'smearscope-cli db user add NAME --role ROLE', run by an admin, sets "
                     "who may do what\n");
  else if (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT))
    fprintf (stderr, "  'smearscope-cli db check' names the damage; 'smearscope-cli db backup' "
                     "makes backups\n");
  return 1;
}

const char *
ss_cli_store_user (SsStore *store, const char *user, const char *required)
{
  const char *login = ss_store_get_login (store);
  if (login != NULL && user != NULL && strcmp (user, login) != 0)
    {
      ss_cli_error ("on the case server at %s every change is recorded under the login it is "
                    "made with: --user %s is not your login %s; leave --user out, or connect "
                    "as %s (user=%s in the URI)", ss_store_get_server (store), user, login, user,
                    user);
      return NULL;
    }
  if (login != NULL)
    return login;
  if (user == NULL && required != NULL)
    {
      ss_cli_error ("%s needs --user NAME (try --help)", required);
      return NULL;
    }
  return user != NULL ? user : g_get_user_name ();
}

/* A text output never replaces a picture: "analyze --json IMAGE IMAGE..." takes the first
 * image as the JSON's file, and writing there would destroy it. */
gboolean
ss_cli_output_ok (const char *option, const char *path, GError **error)
{
  if (path == NULL || g_strcmp0 (path, "-") == 0 || !ss_image_file_is_image (path))
    return TRUE;
  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
               "%s %s: that file is an image; not writing over it (give the output a file "
               "name of its own, or - for the screen)", option, path);
  return FALSE;
}

gboolean
ss_cli_write_text (const char *path, const char *text, GError **error)
{
  if (g_strcmp0 (path, "-") == 0)
    {
      fputs (text, stdout);
      fflush (stdout);
      return TRUE;
    }
  if (!ss_cli_output_ok ("output", path, error))
    return FALSE;
  return ss_report_write_text_atomic (path, text, error);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

double
ss_cli_median (double *v, int n)
{
  qsort (v, n, sizeof *v, compare_doubles);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

gboolean
ss_cli_parse_colour_target (const char *text, double target[6])
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  gboolean ok = g_strv_length (parts) == 6;
  for (int i = 0; ok && i < 6; i++)
    {
      char *end = NULL;
      target[i] = g_ascii_strtod (parts[i], &end);
      ok = end != parts[i] && *end == '\0' && target[i] >= (i < 3 ? 0 : 1e-3) && target[i] <= 1;
    }
  if (!ok)
    ss_cli_error ("--colour-target takes six numbers in [0, 1], the R, G, B means then their "
                  "deviations (above 0), not '%s'", text);
  return ok;
}

SsClassifier *
ss_cli_load_classifier (const char *name_or_path)
{
  g_autofree char *path = ss_cli_find_model (name_or_path);
  g_autoptr (GError) error = NULL;
  SsClassifier *classifier = ss_classifier_load (path, &error);
  if (classifier == NULL)
    ss_cli_error ("%s", error->message);
  return classifier;
}

SsDataset *
ss_cli_load_dataset (const char *dir, GHashTable *map, const SsModelSpec *spec)
{
  g_autoptr (GError) error = NULL;
  SsDataset *data = ss_dataset_load_for_model (dir, map, spec, &error);
  if (data == NULL)
    ss_cli_error ("%s", error->message);
  return data;
}


int
ss_cli_run_action (const char *command, const SsCliAction *actions, guint n_actions, int argc,
                   char **argv)
{
  if (argc >= 2)
    for (guint i = 0; i < n_actions; i++)
      if (strcmp (argv[1], actions[i].name) == 0)
        return actions[i].run (argc - 1, argv + 1);
  FILE *out = argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
                ? stdout : stderr;
  if (out == stderr && argc < 2)
    ss_cli_error ("%s needs an action", command);
  else if (out == stderr)
    ss_cli_error ("unknown %s action '%s'", command, argv[1]);
  fprintf (out, "Usage: smearscope-cli %s ACTION [--db FILE] ...\n\nActions:\n", command);
  for (guint i = 0; i < n_actions; i++)
    fprintf (out, "  %-9s %s\n", actions[i].name, actions[i].summary);
  return out == stdout ? 0 : 2;
}
