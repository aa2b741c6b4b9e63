/* The "New Case" dialog. The store decides whether a case can be made (a taken
 * accession number, a read-only file); the dialog shows its answer and stays open. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-new-case-dialog.h"

struct _SsNewCaseDialog
{
  AdwWindow    parent_instance;

  SsStore     *store;

  AdwEntryRow *accession_row;
  AdwEntryRow *patient_row;
  AdwEntryRow *specimen_row;
  AdwEntryRow *stain_row;
  GtkLabel    *error_label;
};

G_DEFINE_FINAL_TYPE (SsNewCaseDialog, ss_new_case_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_STORE,
  N_PROPS
};

enum {
  CREATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* The row's text without surrounding blanks; NULL when nothing is left, which the store
 * records as "not given". */
static char *
ss_new_case_dialog_dup_field (AdwEntryRow *row)
{
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (row))));

  if (text[0] == '\0')
    return NULL;
  return g_steal_pointer (&text);
}

static void
ss_new_case_dialog_focus_accession (SsNewCaseDialog *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->accession_row));
  gtk_editable_select_region (GTK_EDITABLE (self->accession_row), 0, -1);
}

static void
ss_new_case_dialog_clear_error (SsNewCaseDialog *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->accession_row), "error");
}

static void
ss_new_case_dialog_show_error (SsNewCaseDialog *self,
                               const GError    *error)
{
  g_autofree char *message = NULL;

  /* Translators: %s is the case store's own explanation */
  message = g_strdup_printf (_("The case was not created: %s"), error->message);
  if (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS))
    {
      g_autofree char *with_hint = g_strconcat (message, "\n",
                                                _("Choose another accession number, or open the existing case."),
                                                NULL);
      g_free (message);
      message = g_steal_pointer (&with_hint);
    }

  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->accession_row), "error");
  ss_new_case_dialog_focus_accession (self);
}

static void
ss_new_case_dialog_create (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  SsNewCaseDialog *self = SS_NEW_CASE_DIALOG (widget);
  g_autofree char *accession = ss_new_case_dialog_dup_field (self->accession_row);
  g_autofree char *patient_ref = ss_new_case_dialog_dup_field (self->patient_row);
  g_autofree char *specimen = ss_new_case_dialog_dup_field (self->specimen_row);
  g_autofree char *stain = ss_new_case_dialog_dup_field (self->stain_row);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsCase) created = NULL;

  if (accession == NULL)
    return;

  created = ss_store_create_case (self->store, accession, patient_ref, specimen, stain,
                                  NULL, &error);
  if (created == NULL)
    {
      ss_new_case_dialog_show_error (self, error);
      return;
    }

  g_object_ref (self);
  g_signal_emit (self, signals[CREATED], 0, created->accession);
  gtk_window_destroy (GTK_WINDOW (self));
  g_object_unref (self);
}

static void
ss_new_case_dialog_accession_changed (SsNewCaseDialog *self)
{
  g_autofree char *accession = ss_new_case_dialog_dup_field (self->accession_row);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "new-case.create", accession != NULL);
  ss_new_case_dialog_clear_error (self);
}

static void
ss_new_case_dialog_row_activated (SsNewCaseDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "new-case.create", NULL);
}

static void
ss_new_case_dialog_dispose (GObject *object)
{
  SsNewCaseDialog *self = SS_NEW_CASE_DIALOG (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_NEW_CASE_DIALOG);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (ss_new_case_dialog_parent_class)->dispose (object);
}

static void
ss_new_case_dialog_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  SsNewCaseDialog *self = SS_NEW_CASE_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_new_case_dialog_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  SsNewCaseDialog *self = SS_NEW_CASE_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_new_case_dialog_class_init (SsNewCaseDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ss_new_case_dialog_dispose;
  object_class->get_property = ss_new_case_dialog_get_property;
  object_class->set_property = ss_new_case_dialog_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL, SS_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CREATED] =
    g_signal_new ("created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/smearscope/Smearscope/ss-new-case-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SsNewCaseDialog, accession_row);
  gtk_widget_class_bind_template_child (widget_class, SsNewCaseDialog, patient_row);
  gtk_widget_class_bind_template_child (widget_class, SsNewCaseDialog, specimen_row);
  gtk_widget_class_bind_template_child (widget_class, SsNewCaseDialog, stain_row);
  gtk_widget_class_bind_template_child (widget_class, SsNewCaseDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, ss_new_case_dialog_accession_changed);
  gtk_widget_class_bind_template_callback (widget_class, ss_new_case_dialog_row_activated);

  gtk_widget_class_install_action (widget_class, "new-case.create", NULL,
                                   ss_new_case_dialog_create);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ss_new_case_dialog_init (SsNewCaseDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "new-case.create", FALSE);
  /* A screen reader reads the store's answer with the row it concerns. */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->accession_row),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->error_label, NULL,
                                  -1);
}

SsNewCaseDialog *
ss_new_case_dialog_new (GtkWindow  *parent,
                        SsStore    *store,
                        const char *suggested_accession)
{
  SsNewCaseDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (SS_IS_STORE (store), NULL);

  self = g_object_new (SS_TYPE_NEW_CASE_DIALOG,
                       "store", store,
                       "transient-for", parent,
                       NULL);
  if (suggested_accession != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->accession_row), suggested_accession);
  ss_new_case_dialog_focus_accession (self);

  return self;
}
