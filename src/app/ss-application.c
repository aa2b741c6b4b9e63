/* The workstation's application: store, models, settings, command line. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "ss-application.h"
#include "ss-bench.h"
#include "ss-lab-model.h"
#include "ss-resources.h"
#include "ss-window.h"

struct _SsApplication
{
  AdwApplication   parent_instance;

  GSettings       *settings;
  char            *db_path;        /* --db, else the preference, else the default */
  SsStore         *store;
  GError          *store_error;
  gboolean         store_away;     /* the case server did not answer: tried again */
  guint            store_retry;    /* the next try, a few seconds after the last */
  gboolean         store_trying;   /* a try runs on a worker thread (its task holds a
                                    * reference on the application) */
  SsClassifier    *classifier;
  SsModelIdentity  model;
  char            *model_problem;
  gboolean         models_loaded;
};

G_DEFINE_FINAL_TYPE (SsApplication, ss_application, ADW_TYPE_APPLICATION)

enum {
  CLASSIFIER_CHANGED,
  STORE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
ss_application_find_schemas (void)
{
  if (g_getenv ("GSETTINGS_SCHEMA_DIR") == NULL && ss_running_from_build_tree ())
    g_setenv ("GSETTINGS_SCHEMA_DIR", SS_BUILD_ROOT "/data", TRUE);
}

static void
ss_application_finalize (GObject *object)
{
  SsApplication *self = SS_APPLICATION (object);

  g_clear_handle_id (&self->store_retry, g_source_remove);
  g_clear_object (&self->settings);
  g_clear_object (&self->store);
  g_clear_error (&self->store_error);
  g_clear_pointer (&self->classifier, ss_classifier_unref);
  ss_model_identity_clear (&self->model);
  g_clear_pointer (&self->model_problem, g_free);
  g_clear_pointer (&self->db_path, g_free);

  G_OBJECT_CLASS (ss_application_parent_class)->finalize (object);
}

/* The model the store has in use (issue 30), else the shipped one, with its identity;
 * NULL and *problem (what the window says) when there is none to use */
static SsClassifier *
ss_application_read_models (SsApplication   *self,
                            SsModelIdentity *identity,
                            char           **problem)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  /* a store that cannot be opened is said elsewhere, and the shipped model analyses
   * meanwhile */
  SsStore *store = ss_application_get_store (self, NULL);
  g_autoptr (SsClassifier) classifier = ss_lab_model_load_in_use (store, NULL, &path, NULL,
                                                                  &error);
  if (classifier == NULL)
    {
      g_autofree char *dir = ss_models_dir (NULL);
      if (error != NULL)
        *problem = g_strdup_printf (_("The cell-type model cannot be used: %s. Cells are found "
                                      "and outlined but left as “Other”."), error->message);
      else
        *problem = g_strdup_printf (_("No cell-type model is installed in %s. Cells are found "
                                      "and outlined but left as “Other”."), dir);
      ss_model_identity_init (identity, NULL, NULL);
      return NULL;
    }
  g_clear_error (&error);
  if (!ss_model_identity_init (identity, path, &error))
    {
      *problem = g_strdup (error->message);
      ss_model_identity_init (identity, NULL, NULL);
      return NULL;
    }
  return g_steal_pointer (&classifier);
}

static void
ss_application_load_models (SsApplication *self)
{
  if (self->models_loaded)
    return;
  self->models_loaded = TRUE;
  self->classifier = ss_application_read_models (self, &self->model, &self->model_problem);
}

static void
ss_application_startup (GApplication *app)
{
  SsApplication *self = SS_APPLICATION (app);

  /* a reference keeps the resources' object (and its registering constructor) in the
   * link: the app is a static library, and the linker drops what nothing calls */
  g_assert (ss_get_resource () != NULL);

  G_APPLICATION_CLASS (ss_application_parent_class)->startup (app);

  g_set_application_name (_("Smearscope"));
  gtk_window_set_default_icon_name (SS_APP_ID);
  self->settings = g_settings_new (SS_APP_ID);

  /* style.css is loaded by AdwApplication from the resource base path */

  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
    { "win.new-case", { "<Control>n", NULL } },
    { "win.case-details", { "<Control>i", "<Alt>Return", NULL } },
    { "win.open-images", { "<Control>o", NULL } },
    { "win.undo", { "<Control>z", NULL } },
    { "win.redo", { "<Control><Shift>z", "<Control>y", NULL } },
    { "win.sign-off", { "<Control>Return", NULL } },
    { "win.export-report", { "<Control>e", NULL } },
    { "win.zoom-in", { "<Control>plus", "<Control>equal", NULL } },
    { "win.zoom-out", { "<Control>minus", NULL } },
    { "win.zoom-fit", { "<Control>0", NULL } },
    { "win.zoom-100", { "<Control>1", NULL } },
    { "win.show-sidebar", { "F9", NULL } },
    { "win.preferences", { "<Control>comma", NULL } },
    { "win.show-help-overlay", { "<Control>question", NULL } },
    { "app.quit", { "<Control>q", NULL } },
  };
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action,
                                           accels[i].accels);
}

static SsWindow *
ss_application_ensure_window (SsApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    window = GTK_WINDOW (ss_window_new (self));
  return SS_WINDOW (window);
}

static void
ss_application_activate (GApplication *app)
{
  SsWindow *window = ss_application_ensure_window (SS_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (window));
}

static int
ss_application_command_line (GApplication            *app,
                             GApplicationCommandLine *command_line)
{
  SsApplication *self = SS_APPLICATION (app);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  const char *accession = NULL;
  g_autofree const char **files = NULL;

  g_variant_dict_lookup (options, "case", "&s", &accession);
  g_variant_dict_lookup (options, G_OPTION_REMAINING, "^a&ay", &files);

  SsWindow *window = ss_application_ensure_window (self);
  gtk_window_present (GTK_WINDOW (window));

  g_autoptr (GPtrArray) gfiles = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; files != NULL && files[i] != NULL; i++)
    g_ptr_array_add (gfiles, g_application_command_line_create_file_for_arg (command_line, files[i]));
  ss_window_open_from_command_line (window, accession, (GFile **) gfiles->pdata, gfiles->len);
  if (g_variant_dict_contains (options, "bench"))
    ss_bench_run (window);
  return 0;
}

static int
ss_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  SsApplication *self = SS_APPLICATION (app);
  const char *db = NULL;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("smearscope %s\n", SS_VERSION);
      return 0;
    }
  /* a file is named from the folder the app was started in; a server's URI as given */
  if (g_variant_dict_lookup (options, "db", "^&ay", &db))
    self->db_path = ss_store_is_server_location (db) ? g_strdup (db)
                                                     : g_canonicalize_filename (db, NULL);
  return -1;
}

static void
ss_application_class_init (SsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = ss_application_finalize;

  /* another cell-type model is in use (ss_application_reload_models) */
  signals[CLASSIFIER_CHANGED] =
    g_signal_new ("classifier-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* the store, not open because its case server was away, was tried again and opened,
   * or failed for another reason (ss_application_get_store_away) */
  signals[STORE_CHANGED] =
    g_signal_new ("store-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  app_class->startup = ss_application_startup;
  app_class->activate = ss_application_activate;
  app_class->command_line = ss_application_command_line;
  app_class->handle_local_options = ss_application_handle_local_options;
}

static void
ss_application_quit (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  GApplication *app = user_data;
  GList *windows;
  /* every change is already stored: closing loses nothing. Destroying a window takes
   * it (and the dialogs it owns) out of the application's list, freeing their links:
   * the list is asked for again each time, never walked while it changes (walking it
   * read a freed link, a crash at quit seen now and then in CI) */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (app))) != NULL)
    gtk_window_destroy (windows->data);
  g_application_quit (app);
}

static void
ss_application_init (SsApplication *self)
{
  static const GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("Case store (SQLite file or postgresql:// URI)"), N_("FILE") },
    { "case", 0, 0, G_OPTION_ARG_STRING, NULL,
      N_("Open this case (created if it does not exist); images given are added to it"),
      N_("ACCESSION") },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Print the version and exit"), NULL },
    { "bench", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Measure the window's speed on the open case and print the figures"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL, N_("[IMAGE…]") },
    { NULL }
  };
  static const GActionEntry actions[] = {
    { "quit", ss_application_quit },
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[IMAGE…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Review, correct and sign off blood smear cases. "
                                              "Images given are analysed into a new case (or the "
                                              "one named by --case)."));
  g_action_map_add_action_entries (G_ACTION_MAP (self), actions, G_N_ELEMENTS (actions), self);
}

SsApplication *
ss_application_new (void)
{
  /* non-unique: each run is its own process with its own store (tests run several) */
  return g_object_new (SS_TYPE_APPLICATION,
                       "application-id", SS_APP_ID,
                       "flags", G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_NON_UNIQUE,
                       NULL);
}

GSettings *
ss_application_get_settings (SsApplication *self)
{
  g_return_val_if_fail (SS_IS_APPLICATION (self), NULL);
  return self->settings;
}

/* --db, else $SMEARSCOPE_DB, else the preference, else the default file */
static char *
ss_application_dup_store_location (SsApplication *self)
{
  if (self->db_path != NULL)
    return g_strdup (self->db_path);
  if (g_getenv ("SMEARSCOPE_DB") != NULL)
    return g_strdup (g_getenv ("SMEARSCOPE_DB"));
  g_autofree char *preference = g_settings_get_string (self->settings, "store-path");
  if (preference[0] != '\0')
    return g_steal_pointer (&preference);
  return g_build_filename (g_get_user_data_dir (), "smearscope", "cases.db", NULL);
}

static SsStore *
ss_application_open_store (const char *location,
                           GError    **error)
{
  /* a server that does not answer fails the open at once: the window never waits for
   * it on its own thread */
  SsStore *store = ss_store_open (location, SS_STORE_OPEN_CREATE | SS_STORE_OPEN_NO_WAIT, error);
  /* nor for one that goes away later: its actions fail at once and the window
   * reconnects in the background (ss-window-server.c) */
  if (store != NULL)
    ss_store_set_reconnect_wait (store, 0);
  return store;
}

static void ss_application_retry_store_later (SsApplication *self);

/* What one open of the store gave: the store, or why not; a server that did not
 * answer is tried again a few seconds later, and again, until it does. */
static void
ss_application_take_store (SsApplication *self,
                           const char    *location,
                           SsStore       *store,
                           GError        *error)
{
  g_clear_error (&self->store_error);
  if (store != NULL)
    {
      gboolean was_away = self->store_away;
      self->store = store;
      self->store_away = FALSE;
      if (was_away)
        {
          g_message ("the case server at %s answers: the case base is open",
                     ss_store_get_server (store));
          /* the lab's model in use lives in the store */
          if (self->models_loaded)
            ss_application_reload_models (self);
          g_signal_emit (self, signals[STORE_CHANGED], 0);
        }
      return;
    }
  gboolean was_away = self->store_away;
  self->store_away = ss_store_is_server_location (location)
                     && g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_IO);
  /* the store's own message names the file or the server */
  self->store_error = error;
  g_prefix_error (&self->store_error, _("The case store cannot be opened: "));
  if (self->store_away)
    ss_application_retry_store_later (self);
  else if (was_away)
    /* the server answered, but the store cannot be used (a password, a database) */
    g_signal_emit (self, signals[STORE_CHANGED], 0);
}

static void
open_store_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  GError *error = NULL;
  SsStore *store = ss_application_open_store (task_data, &error);
  if (store == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, store, g_object_unref);
}

static void
on_store_retried (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  SsApplication *self = SS_APPLICATION (source);
  GTask *task = G_TASK (result);
  GError *error = NULL;
  SsStore *store = g_task_propagate_pointer (task, &error);
  self->store_trying = FALSE;
  ss_application_take_store (self, g_task_get_task_data (task), store, error);
}

static gboolean
on_store_retry (gpointer data)
{
  SsApplication *self = data;
  self->store_retry = 0;
  self->store_trying = TRUE;
  g_autoptr (GTask) task = g_task_new (self, NULL, on_store_retried, NULL);
  g_task_set_source_tag (task, on_store_retry);
  g_task_set_task_data (task, ss_application_dup_store_location (self), g_free);
  g_task_run_in_thread (task, open_store_thread);
  return G_SOURCE_REMOVE;
}

static void
ss_application_retry_store_later (SsApplication *self)
{
  if (self->store_retry == 0 && !self->store_trying)
    self->store_retry = g_timeout_add_seconds (2, on_store_retry, self);
}

SsStore *
ss_application_get_store (SsApplication *self,
                          GError       **error)
{
  g_return_val_if_fail (SS_IS_APPLICATION (self), NULL);

  if (self->store == NULL && self->store_error == NULL)
    {
      g_autofree char *location = ss_application_dup_store_location (self);
      GError *open_error = NULL;
      SsStore *store = ss_application_open_store (location, &open_error);
      ss_application_take_store (self, location, store, open_error);
    }
  if (self->store == NULL)
    {
      g_propagate_error (error, g_error_copy (self->store_error));
      return NULL;
    }
  return self->store;
}

gboolean
ss_application_get_store_away (SsApplication *self)
{
  g_return_val_if_fail (SS_IS_APPLICATION (self), FALSE);
  return self->store == NULL && self->store_away;
}

void
ss_application_reload_models (SsApplication *self)
{
  g_return_if_fail (SS_IS_APPLICATION (self));
  SsModelIdentity identity = { 0 };
  g_autofree char *problem = NULL;
  SsClassifier *classifier = ss_application_read_models (self, &identity, &problem);

  g_clear_pointer (&self->model_problem, g_free);
  if (classifier == NULL && self->classifier != NULL)
    {
      /* the model now in use cannot be read (a server away, a damaged model, a cache
       * that cannot be written): the one working so far goes on, and each cell records
       * which model called it; the next change of model tries again */
      ss_model_identity_clear (&identity);
      self->model_problem = g_strdup_printf (_("%s Analyses go on with the model used until "
                                               "now."), problem);
      return;
    }
  g_clear_pointer (&self->classifier, ss_classifier_unref);
  ss_model_identity_clear (&self->model);
  self->classifier = classifier;
  self->model = identity;
  self->model_problem = g_steal_pointer (&problem);
  self->models_loaded = TRUE;
  /* every window's open case draws its new cells with it */
  g_signal_emit (self, signals[CLASSIFIER_CHANGED], 0);
}

SsClassifier *
ss_application_get_classifier (SsApplication *self)
{
  g_return_val_if_fail (SS_IS_APPLICATION (self), NULL);
  ss_application_load_models (self);
  return self->classifier;
}

const SsModelIdentity *
ss_application_get_model (SsApplication *self)
{
  g_return_val_if_fail (SS_IS_APPLICATION (self), NULL);
  ss_application_load_models (self);
  return &self->model;
}

const char *
ss_application_get_model_problem (SsApplication *self)
{
  g_return_val_if_fail (SS_IS_APPLICATION (self), NULL);
  ss_application_load_models (self);
  return self->model_problem;
}

char *
ss_application_dup_user (SsApplication *self)
{
  g_return_val_if_fail (SS_IS_APPLICATION (self), NULL);

  /* on a server every change is recorded under the login (docs/case-store.md "Roles") */
  if (self->store != NULL && ss_store_get_login (self->store) != NULL)
    return g_strdup (ss_store_get_login (self->store));
  g_autofree char *user = g_settings_get_string (self->settings, "user-name");
  g_strstrip (user);
  if (user[0] != '\0')
    return g_steal_pointer (&user);
  return g_strdup (g_get_user_name ());
}

void
ss_application_get_analysis_settings (SsApplication      *self,
                                      SsAnalysisSettings *settings)
{
  g_return_if_fail (SS_IS_APPLICATION (self));

  ss_analysis_settings_init (settings);
  double diameter = g_settings_get_double (self->settings, "cell-diameter");
  if (diameter > 0)
    {
      /* a diameter set by hand holds for every field; 0 measures each (ss-scale.h) */
      ss_detect_settings_for_diameter (&settings->detect, diameter);
      settings->scale_from_image = FALSE;
    }
  settings->min_confidence = g_settings_get_double (self->settings, "min-confidence");
  settings->nms_iou = g_settings_get_double (self->settings, "nms-iou");
  settings->blast_threshold = g_settings_get_double (self->settings, "blast-threshold");
  settings->unsure_below = g_settings_get_double (self->settings, "unsure-below");
}
