/* The case dialog: "New Case" and an existing case's "Case Details", one set of rows.
 * The store decides whether a case can be made or changed (a taken accession number, a
 * signed case, a read-only file); the dialog shows its answer and stays open. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-case-dialog.h"

struct _SsCaseDialog
{
  AdwWindow       parent_instance;

  SsStore        *store;     /* New Case */
  SsCaseDocument *document;  /* Case Details; NULL for New Case */

  AdwWindowTitle *header_title;
  GtkButton      *cancel_button;
  GtkButton      *save_button;
  GtkLabel       *signed_label;
  AdwPreferencesGroup *fields_group;
  AdwActionRow   *accession_info_row;
  GtkLabel       *accession_label;
  AdwEntryRow    *accession_row;
  AdwEntryRow    *patient_row;
  AdwEntryRow    *specimen_row;
  AdwEntryRow    *stain_row;
  GtkTextView    *notes_view;
  GtkLabel       *error_label;
};

G_DEFINE_FINAL_TYPE (SsCaseDialog, ss_case_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_STORE,
  PROP_DOCUMENT,
  N_PROPS
};

enum {
  CREATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* Text without surrounding blanks; NULL when nothing is left, which the store records
 * as "not given". */
static char *
ss_case_dialog_strip (const char *text)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text));

  if (stripped[0] == '\0')
    return NULL;
  return g_steal_pointer (&stripped);
}

static char *
ss_case_dialog_dup_field (AdwEntryRow *row)
{
  return ss_case_dialog_strip (gtk_editable_get_text (GTK_EDITABLE (row)));
}

static char *
ss_case_dialog_dup_notes (SsCaseDialog *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->notes_view);
  GtkTextIter start, end;
  g_autofree char *text = NULL;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  return ss_case_dialog_strip (text);
}

/* What to hand ss_store_update_case for one field: NULL (keep) when the dialog shows
 * what the store has, "" when a stored value was emptied, else the new text. */
static const char *
ss_case_dialog_change (const char *shown,
                       const char *stored)
{
  if (g_strcmp0 (shown != NULL ? shown : "", stored != NULL ? stored : "") == 0)
    return NULL;
  return shown != NULL ? shown : "";
}

static void
ss_case_dialog_focus_accession (SsCaseDialog *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self->accession_row));
  gtk_editable_select_region (GTK_EDITABLE (self->accession_row), 0, -1);
}

static void
ss_case_dialog_clear_error (SsCaseDialog *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_remove_css_class (GTK_WIDGET (self->accession_row), "error");
}

static void
ss_case_dialog_show_error (SsCaseDialog *self,
                           const GError *error)
{
  g_autofree char *message = NULL;

  if (self->document != NULL)
    {
      /* Translators: %s is the case store's own explanation */
      message = g_strdup_printf (_("The details were not saved: %s"), error->message);
      gtk_label_set_text (self->error_label, message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }

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
  ss_case_dialog_focus_accession (self);
}

/* Case Details: only what the dialog changed goes to the store. */
static gboolean
ss_case_dialog_save_details (SsCaseDialog  *self,
                             GError       **error)
{
  const SsCase *info = ss_case_document_get_case (self->document);
  g_autofree char *patient_ref = ss_case_dialog_dup_field (self->patient_row);
  g_autofree char *specimen = ss_case_dialog_dup_field (self->specimen_row);
  g_autofree char *stain = ss_case_dialog_dup_field (self->stain_row);
  g_autofree char *notes = ss_case_dialog_dup_notes (self);
  const char *patient_change = ss_case_dialog_change (patient_ref, info->patient_ref);
  const char *specimen_change = ss_case_dialog_change (specimen, info->specimen);
  const char *stain_change = ss_case_dialog_change (stain, info->stain);
  const char *notes_change = ss_case_dialog_change (notes, info->notes);

  if (patient_change == NULL && specimen_change == NULL && stain_change == NULL
      && notes_change == NULL)
    return TRUE;
  return ss_case_document_update_details (self->document, patient_change, specimen_change,
                                          stain_change, notes_change, error);
}

static gboolean
ss_case_dialog_create (SsCaseDialog  *self,
                       GError       **error)
{
  g_autofree char *accession = ss_case_dialog_dup_field (self->accession_row);
  g_autofree char *patient_ref = ss_case_dialog_dup_field (self->patient_row);
  g_autofree char *specimen = ss_case_dialog_dup_field (self->specimen_row);
  g_autofree char *stain = ss_case_dialog_dup_field (self->stain_row);
  g_autofree char *notes = ss_case_dialog_dup_notes (self);
  g_autoptr (SsCase) created = NULL;

  g_assert (accession != NULL);
  created = ss_store_create_case (self->store, accession, patient_ref, specimen, stain, notes,
                                  error);
  if (created == NULL)
    return FALSE;
  g_signal_emit (self, signals[CREATED], 0, created->accession);
  return TRUE;
}

static void
ss_case_dialog_save (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  SsCaseDialog *self = SS_CASE_DIALOG (widget);
  g_autoptr (GError) error = NULL;
  gboolean saved;

  if (self->document == NULL)
    {
      g_autofree char *accession = ss_case_dialog_dup_field (self->accession_row);

      /* Enter in another row before an accession number was typed */
      if (accession == NULL)
        return;
    }

  g_object_ref (self);
  if (self->document != NULL)
    saved = ss_case_dialog_save_details (self, &error);
  else
    saved = ss_case_dialog_create (self, &error);
  if (saved)
    gtk_window_destroy (GTK_WINDOW (self));
  else
    ss_case_dialog_show_error (self, error);
  g_object_unref (self);
}

static void
ss_case_dialog_accession_changed (SsCaseDialog *self)
{
  g_autofree char *accession = ss_case_dialog_dup_field (self->accession_row);

  if (self->document == NULL)
    gtk_widget_action_set_enabled (GTK_WIDGET (self), "case-dialog.save", accession != NULL);
  ss_case_dialog_clear_error (self);
}

static void
ss_case_dialog_row_activated (SsCaseDialog *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "case-dialog.save", NULL);
}

/* The titles and buttons of the mode, and a signed case's fields made read-only. */
static void
ss_case_dialog_set_mode (SsCaseDialog *self)
{
  const char *title = self->document != NULL ? _("Case Details") : _("New Case");

  gtk_window_set_title (GTK_WINDOW (self), title);
  adw_window_title_set_title (self->header_title, title);

  if (self->document == NULL)
    {
      gtk_button_set_label (self->save_button, _("C_reate"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->save_button),
                                   _("Create the case in the case store (Enter)"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->save_button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Create case"), -1);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->cancel_button),
                                   _("Close without creating a case (Escape)"));
      adw_preferences_group_set_description (self->fields_group,
                                             _("Only the accession number is required; the other fields can be filled in later."));
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "case-dialog.save", FALSE);
      ss_case_dialog_focus_accession (self);
      return;
    }

  const SsCase *info = ss_case_document_get_case (self->document);
  /* TRANSLATORS: the Case Details dialog's subtitle, e.g. "Case S-20261206-0615" */
  g_autofree char *subtitle = g_strdup_printf (_("Case %s"), info->accession);

  adw_window_title_set_subtitle (self->header_title, subtitle);
  gtk_widget_set_visible (GTK_WIDGET (self->accession_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->accession_info_row), TRUE);
  gtk_label_set_text (self->accession_label, info->accession);
  gtk_editable_set_text (GTK_EDITABLE (self->patient_row), info->patient_ref != NULL ? info->patient_ref : "");
  gtk_editable_set_text (GTK_EDITABLE (self->specimen_row), info->specimen != NULL ? info->specimen : "");
  gtk_editable_set_text (GTK_EDITABLE (self->stain_row), info->stain != NULL ? info->stain : "");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->notes_view),
                            info->notes != NULL ? info->notes : "", -1);

  if (ss_case_document_get_read_only (self->document))
    {
      /* TRANSLATORS: shown over a signed case's details, which cannot be saved */
      g_autofree char *text = g_strdup_printf (_("Case %s is signed by %s: its details cannot "
                                                 "change. Reopen the case first (Reopen Case… "
                                                 "in the main menu); the reopening is recorded."),
                                               info->accession, info->signed_by);
      gtk_label_set_text (self->signed_label, text);
      gtk_widget_set_visible (GTK_WIDGET (self->signed_label), TRUE);
      gtk_editable_set_editable (GTK_EDITABLE (self->patient_row), FALSE);
      gtk_editable_set_editable (GTK_EDITABLE (self->specimen_row), FALSE);
      gtk_editable_set_editable (GTK_EDITABLE (self->stain_row), FALSE);
      gtk_text_view_set_editable (self->notes_view, FALSE);
      gtk_text_view_set_cursor_visible (self->notes_view, FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->save_button), FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "case-dialog.save", FALSE);
      gtk_button_set_label (self->cancel_button, _("_Close"));
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->cancel_button), _("Close (Escape)"));
      gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));
      return;
    }

  gtk_button_set_label (self->save_button, _("_Save"));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->save_button),
                               _("Save the details in the case store (Enter)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->save_button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Save details"), -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->cancel_button), _("Close without saving (Escape)"));
  gtk_widget_grab_focus (GTK_WIDGET (self->patient_row));
}

static void
ss_case_dialog_dispose (GObject *object)
{
  SsCaseDialog *self = SS_CASE_DIALOG (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_CASE_DIALOG);
  g_clear_object (&self->store);
  g_clear_object (&self->document);

  G_OBJECT_CLASS (ss_case_dialog_parent_class)->dispose (object);
}

static void
ss_case_dialog_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SsCaseDialog *self = SS_CASE_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_case_dialog_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  SsCaseDialog *self = SS_CASE_DIALOG (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;
    case PROP_DOCUMENT:
      self->document = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_case_dialog_constructed (GObject *object)
{
  SsCaseDialog *self = SS_CASE_DIALOG (object);

  G_OBJECT_CLASS (ss_case_dialog_parent_class)->constructed (object);

  g_assert ((self->store != NULL) != (self->document != NULL));
  ss_case_dialog_set_mode (self);
}

static void
ss_case_dialog_class_init (SsCaseDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = ss_case_dialog_constructed;
  object_class->dispose = ss_case_dialog_dispose;
  object_class->get_property = ss_case_dialog_get_property;
  object_class->set_property = ss_case_dialog_set_property;

  /* the store a new case goes to (New Case) */
  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL, SS_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* the case whose details are shown (Case Details) */
  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, SS_TYPE_CASE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY |
                         G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CREATED] =
    g_signal_new ("created", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/smearscope/Smearscope/ss-case-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, header_title);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, save_button);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, signed_label);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, fields_group);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, accession_info_row);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, accession_label);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, accession_row);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, patient_row);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, specimen_row);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, stain_row);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, notes_view);
  gtk_widget_class_bind_template_child (widget_class, SsCaseDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, ss_case_dialog_accession_changed);
  gtk_widget_class_bind_template_callback (widget_class, ss_case_dialog_row_activated);

  gtk_widget_class_install_action (widget_class, "case-dialog.save", NULL, ss_case_dialog_save);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ss_case_dialog_init (SsCaseDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  /* A screen reader reads the store's answer with the row it concerns. */
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->accession_row),
                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY, self->error_label, NULL,
                                  -1);
}

SsCaseDialog *
ss_case_dialog_new_case (GtkWindow  *parent,
                         SsStore    *store,
                         const char *suggested_accession)
{
  SsCaseDialog *self;

  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (SS_IS_STORE (store), NULL);

  self = g_object_new (SS_TYPE_CASE_DIALOG,
                       "store", store,
                       "transient-for", parent,
                       NULL);
  if (suggested_accession != NULL)
    {
      gtk_editable_set_text (GTK_EDITABLE (self->accession_row), suggested_accession);
      ss_case_dialog_focus_accession (self);
    }

  return self;
}

SsCaseDialog *
ss_case_dialog_new_details (GtkWindow      *parent,
                            SsCaseDocument *document)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (document), NULL);

  return g_object_new (SS_TYPE_CASE_DIALOG,
                       "document", document,
                       "transient-for", parent,
                       NULL);
}
