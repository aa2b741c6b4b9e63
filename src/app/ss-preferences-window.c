/* The preferences window. The rows are bound to GSettings keys, so nothing here
 * applies a value: the window, the document and the analysis watch the keys. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-preferences-window.h"
#include "ss-store.h"

struct _SsPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  GtkFileChooserNative *chooser;

  AdwPreferencesGroup  *reviewer_group;
  AdwEntryRow          *user_name_row;
  AdwEntryRow          *lab_name_row;
  AdwComboRow          *paper_row;
  GtkSpinButton        *unsure_spin;
  GtkSpinButton        *blast_spin;
  GtkSpinButton        *confidence_spin;
  GtkSpinButton        *overlap_spin;
  GtkSpinButton        *diameter_spin;
  AdwActionRow         *store_row;
  GtkWidget            *reset_store_button;
  GtkLabel             *store_error_label;
};

G_DEFINE_FINAL_TYPE (SsPreferencesWindow, ss_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

enum {
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The file the application opens when store-path is empty (see ss-application.c). */
static char *
ss_preferences_window_dup_default_store_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "smearscope", "cases.db", NULL);
}

/* unsure-below is a fraction; people think of confidence in percent. */
static gboolean
ss_preferences_window_fraction_to_percent (GValue   *value,
                                           GVariant *variant,
                                           gpointer  user_data)
{
  g_value_set_double (value, g_variant_get_double (variant) * 100.0);
  return TRUE;
}

static GVariant *
ss_preferences_window_percent_to_fraction (const GValue       *value,
                                           const GVariantType *expected_type,
                                           gpointer            user_data)
{
  return g_variant_new_double (CLAMP (g_value_get_double (value) / 100.0, 0.0, 1.0));
}

/* report-paper is a name; the combo row shows them in this order. */
static const char *const paper_names[] = { "a4", "letter" };

static gboolean
ss_preferences_window_paper_to_row (GValue   *value,
                                    GVariant *variant,
                                    gpointer  user_data)
{
  const char *name = g_variant_get_string (variant, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (paper_names); i++)
    if (g_str_equal (name, paper_names[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
ss_preferences_window_row_to_paper (const GValue       *value,
                                    const GVariantType *expected_type,
                                    gpointer            user_data)
{
  guint selected = g_value_get_uint (value);

  if (selected >= G_N_ELEMENTS (paper_names))
    return NULL;
  return g_variant_new_string (paper_names[selected]);
}

static void
ss_preferences_window_update_store_row (SsPreferencesWindow *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "store-path");
  g_autofree char *shown = NULL;
  g_autofree char *subtitle = NULL;
  gboolean is_default = path[0] == '\0';

  if (is_default)
    {
      g_autofree char *default_path = ss_preferences_window_dup_default_store_path ();
      /* Translators: %s is the path of the case store file */
      shown = g_strdup_printf (_("%s (the default)"), default_path);
    }
  else
    shown = g_strdup (path);

  subtitle = g_strdup_printf ("%s\n%s", shown,
                              _("A change takes effect when Smearscope is restarted."));
  adw_action_row_set_subtitle (self->store_row, subtitle);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->store_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, subtitle,
                                  -1);
  gtk_widget_set_visible (self->reset_store_button, !is_default);
}

static void
ss_preferences_window_show_store_error (SsPreferencesWindow *self,
                                        const char          *message)
{
  gtk_label_set_text (self->store_error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->store_error_label), message != NULL);
}

/* A file chosen as the store must be one Smearscope can open at the next start: an
 * existing file is tried read-only (nothing is written), a new name is accepted. */
static gboolean
ss_preferences_window_check_store (SsPreferencesWindow *self,
                                   const char          *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = NULL;
  g_autofree char *message = NULL;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;

  store = ss_store_open (path, SS_STORE_OPEN_READ_ONLY, &error);
  if (store != NULL ||
      !(g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE) ||
        g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT) ||
        g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_NEWER_SCHEMA)))
    return TRUE;

  /* Translators: %s is the case store's explanation of why it cannot open the file */
  message = g_strdup_printf (_("The store file was not changed: %s"), error->message);
  ss_preferences_window_show_store_error (self, message);
  return FALSE;
}

static void
ss_preferences_window_chooser_response (SsPreferencesWindow  *self,
                                        int                   response,
                                        GtkFileChooserNative *chooser)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path == NULL)
        ss_preferences_window_show_store_error (self, _("The store file was not changed: the case "
                                                        "store must be a file on this computer."));
      else if (ss_preferences_window_check_store (self, path))
        {
          ss_preferences_window_show_store_error (self, NULL);
          g_settings_set_string (self->settings, "store-path", path);
        }
    }

  g_clear_object (&self->chooser);
}

static void
ss_preferences_window_choose_store (GtkWidget  *widget,
                                    const char *action_name,
                                    GVariant   *parameter)
{
  SsPreferencesWindow *self = SS_PREFERENCES_WINDOW (widget);
  gboolean new_file = g_variant_get_boolean (parameter);
  g_autofree char *path = g_settings_get_string (self->settings, "store-path");
  g_autoptr (GFile) current = NULL;
  g_autoptr (GFile) folder = NULL;
  g_autoptr (GtkFileFilter) stores = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) everything = gtk_file_filter_new ();

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
      return;
    }

  if (path[0] == '\0')
    {
      g_free (path);
      path = ss_preferences_window_dup_default_store_path ();
    }
  current = g_file_new_for_path (path);
  folder = g_file_get_parent (current);

  self->chooser =
    gtk_file_chooser_native_new (new_file ? _("New Case Store") : _("Choose a Case Store"),
                                 GTK_WINDOW (self),
                                 new_file ? GTK_FILE_CHOOSER_ACTION_SAVE
                                          : GTK_FILE_CHOOSER_ACTION_OPEN,
                                 new_file ? _("_Use") : _("_Choose"),
                                 _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);

  gtk_file_filter_set_name (stores, _("Case stores"));
  gtk_file_filter_add_suffix (stores, "db");
  gtk_file_filter_add_suffix (stores, "sqlite");
  gtk_file_filter_add_suffix (stores, "sqlite3");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), stores);
  gtk_file_filter_set_name (everything, _("All files"));
  gtk_file_filter_add_pattern (everything, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), everything);

  if (folder != NULL && g_file_query_exists (folder, NULL))
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser), folder, NULL);
  if (new_file)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), "cases.db");

  g_signal_connect_object (self->chooser, "response",
                           G_CALLBACK (ss_preferences_window_chooser_response), self,
                           G_CONNECT_SWAPPED);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
ss_preferences_window_reset_store (GtkWidget  *widget,
                                   const char *action_name,
                                   GVariant   *parameter)
{
  SsPreferencesWindow *self = SS_PREFERENCES_WINDOW (widget);

  ss_preferences_window_show_store_error (self, NULL);
  g_settings_reset (self->settings, "store-path");
}

static void
ss_preferences_window_constructed (GObject *object)
{
  SsPreferencesWindow *self = SS_PREFERENCES_WINDOW (object);
  g_autofree char *reviewer_description = NULL;

  G_OBJECT_CLASS (ss_preferences_window_parent_class)->constructed (object);

  g_assert (G_IS_SETTINGS (self->settings));

  /* Translators: %s is the login name of the person using the computer */
  reviewer_description =
    g_strdup_printf (_("Recorded in the audit trail with every correction and sign-off. "
                       "Left empty, your login name is used: %s."),
                     g_get_user_name ());
  adw_preferences_group_set_description (self->reviewer_group, reviewer_description);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->user_name_row),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, reviewer_description,
                                  -1);

  g_settings_bind (self->settings, "user-name", self->user_name_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "report-lab-name", self->lab_name_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (self->settings, "report-paper", self->paper_row, "selected",
                                G_SETTINGS_BIND_DEFAULT,
                                ss_preferences_window_paper_to_row,
                                ss_preferences_window_row_to_paper, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "unsure-below", self->unsure_spin, "value",
                                G_SETTINGS_BIND_DEFAULT,
                                ss_preferences_window_fraction_to_percent,
                                ss_preferences_window_percent_to_fraction, NULL, NULL);
  g_settings_bind (self->settings, "blast-threshold", self->blast_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "min-confidence", self->confidence_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "nms-iou", self->overlap_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "cell-diameter", self->diameter_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);

  g_signal_connect_object (self->settings, "changed::store-path",
                           G_CALLBACK (ss_preferences_window_update_store_row), self,
                           G_CONNECT_SWAPPED);
  ss_preferences_window_update_store_row (self);
}

static void
ss_preferences_window_dispose (GObject *object)
{
  SsPreferencesWindow *self = SS_PREFERENCES_WINDOW (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_PREFERENCES_WINDOW);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (ss_preferences_window_parent_class)->dispose (object);
}

static void
ss_preferences_window_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  SsPreferencesWindow *self = SS_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_preferences_window_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  SsPreferencesWindow *self = SS_PREFERENCES_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_preferences_window_class_init (SsPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ss_preferences_window_constructed;
  object_class->dispose = ss_preferences_window_dispose;
  object_class->get_property = ss_preferences_window_get_property;
  object_class->set_property = ss_preferences_window_set_property;

  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/smearscope/Smearscope/ss-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, reviewer_group);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, user_name_row);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, lab_name_row);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, paper_row);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, unsure_spin);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, blast_spin);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, confidence_spin);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, overlap_spin);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, diameter_spin);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, store_row);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, reset_store_button);
  gtk_widget_class_bind_template_child (widget_class, SsPreferencesWindow, store_error_label);

  /* The parameter: TRUE to name a new file, FALSE to pick an existing store. */
  gtk_widget_class_install_action (widget_class, "preferences.choose-store", "b",
                                   ss_preferences_window_choose_store);
  gtk_widget_class_install_action (widget_class, "preferences.reset-store", NULL,
                                   ss_preferences_window_reset_store);
}

static void
ss_preferences_window_init (SsPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ss_preferences_window_new (GtkWindow *parent,
                           GSettings *settings)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  return g_object_new (SS_TYPE_PREFERENCES_WINDOW,
                       "settings", settings,
                       "transient-for", parent,
                       NULL);
}
