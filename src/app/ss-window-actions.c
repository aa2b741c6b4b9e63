/* The main window's actions: correcting cells, undo, sign-off, images, view. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-case-dialog.h"
#include "ss-gradcam.h"
#include "ss-learn-dialog.h"
#include "ss-models-dialog.h"
#include "ss-preferences-window.h"
#include "ss-window-private.h"

static gboolean
ss_window_can_edit (SsWindow *self)
{
  return self->document != NULL && !ss_case_document_get_read_only (self->document);
}

void
ss_window_update_actions (SsWindow *self)
{
  gboolean editable = ss_window_can_edit (self);
  gboolean running = self->job != NULL && ss_analysis_job_get_running (self->job);
  gboolean has_cells = self->document != NULL && ss_case_document_get_n_cells (self->document) > 0;

  /* no case can be made without a store (the empty page says why, and while a case
   * server is away, that the window waits for it) */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.new-case",
                                 self->app != NULL
                                 && ss_application_get_store (self->app, NULL) != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.relabel", editable && has_cells);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.confirm", editable && has_cells);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.delete-cells", editable && has_cells);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.undo",
                                 self->document != NULL && ss_case_document_get_can_undo (self->document));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.redo",
                                 self->document != NULL && ss_case_document_get_can_redo (self->document));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.sign-off", editable && !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.reopen",
                                 self->document != NULL && !editable);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.open-images", editable && !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.analyse-again",
                                 self->document != NULL && !running
                                 && ss_case_document_get_n_images (self->document) > 0);
  /* a signed case's details are shown too, read-only */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.case-details", self->document != NULL);
  /* without a case the title is only "Smearscope": no hover, no tooltip */
  gtk_widget_set_can_target (self->title_button, self->document != NULL);
  /* an unsigned case is exported too (the report says DRAFT, HL7 is preliminary), but
   * not half analysed: the files would miss the fields still to come */
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-report", self->document != NULL && !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.export-data", self->document != NULL && !running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.cancel-analysis", running);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.draw-mode", editable);
  /* truth is a layer of its own, there only when annotations were imported; its button
   * takes the place of the "Dim below" words, so the review panel keeps its room */
  const gboolean has_truth = self->document != NULL
                             && ss_case_document_get_n_truth_cells (self->document) > 0;
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.show-truth", has_truth);
  gtk_widget_set_visible (self->truth_button, has_truth);
  gtk_widget_set_visible (self->dim_label, !has_truth);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.gradcam",
                                 has_cells && ss_application_get_classifier (self->app) != NULL);
}

/* After a key has set a single cell's class, review moves on to the next cell of the
 * queue; a group stays selected. */
static void
ss_window_advance (SsWindow   *self,
                   SsCellItem *done,
                   guint       n_done)
{
  if (n_done != 1)
    return;
  SsCellItem *next = ss_case_document_next_unreviewed (self->document, done);
  if (next == NULL)
    return;
  ss_viewer_state_set_current (self->state, next, FALSE);
  /* the cell after it is likely next: have its field decoded by the time it is */
  SsCellItem *after = ss_case_document_next_unreviewed (self->document, next);
  if (after != NULL)
    ss_case_document_prefetch_field (self->document, ss_cell_item_get_image_index (after));
}

static gboolean
ss_window_take_selection (SsWindow   *self,
                          GPtrArray **selection)
{
  if (self->document == NULL)
    return FALSE;
  *selection = ss_viewer_state_get_selection (self->state);
  if ((*selection)->len == 0)
    {
      g_clear_pointer (selection, g_ptr_array_unref);
      ss_window_show_message (self, _("Select a cell first: click it, or use the arrow keys in "
                                      "the gallery."));
      return FALSE;
    }
  return TRUE;
}

/* Relabel, confirm or delete the selected cells (one undo step); after a single cell,
 * review moves on to the next cell of the queue. */
typedef enum {
  CHANGE_RELABEL,
  CHANGE_CONFIRM,
  CHANGE_DELETE,
} Change;

static void
ss_window_change_selection (SsWindow *self,
                            Change    change,
                            int       new_class)
{
  g_autoptr (GPtrArray) selection = NULL;
  g_autoptr (GError) error = NULL;

  if (!ss_window_take_selection (self, &selection))
    return;
  g_autoptr (SsCellItem) first = g_object_ref (selection->pdata[0]);
  SsCellItem **items = (SsCellItem **) selection->pdata;
  gboolean ok = change == CHANGE_RELABEL
                  ? ss_case_document_relabel (self->document, items, selection->len, new_class, &error)
                : change == CHANGE_CONFIRM
                  ? ss_case_document_confirm (self->document, items, selection->len, &error)
                  : ss_case_document_delete (self->document, items, selection->len, &error);
  if (!ok)
    {
      ss_window_show_error (self, error);
      return;
    }
  /* a deleted cell has left the lists: the selection moves on whatever its size */
  if (change == CHANGE_DELETE)
    ss_viewer_state_set_current (self->state,
                                 ss_case_document_next_unreviewed (self->document, first), FALSE);
  else
    ss_window_advance (self, first, selection->len);
}

static void
action_relabel (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  int cls = g_variant_get_int32 (param);

  if (cls >= 0 && cls < SS_N_CLASSES)
    ss_window_change_selection (SS_WINDOW (widget), CHANGE_RELABEL, cls);
}

static void
action_confirm (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  ss_window_change_selection (SS_WINDOW (widget), CHANGE_CONFIRM, -1);
}

static void
action_delete_cells (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  ss_window_change_selection (SS_WINDOW (widget), CHANGE_DELETE, -1);
}

static void
action_undo (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  g_autoptr (GError) error = NULL;

  if (self->document != NULL && !ss_case_document_undo (self->document, &error))
    ss_window_show_error (self, error);
}

static void
action_redo (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  g_autoptr (GError) error = NULL;

  if (self->document != NULL && !ss_case_document_redo (self->document, &error))
    ss_window_show_error (self, error);
}

static void
action_next_cell (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  if (self->document == NULL)
    return;
  SsCellItem *next = ss_case_document_next_unreviewed (self->document,
                                                       ss_viewer_state_get_current (self->state));
  if (next != NULL)
    ss_viewer_state_set_current (self->state, next, FALSE);
  else
    ss_window_show_message (self, _("Every cell is reviewed."));
}

static void
ss_window_step_field (SsWindow *self,
                      int       delta)
{
  if (self->document == NULL || ss_case_document_get_n_images (self->document) == 0)
    return;
  int n = (int) ss_case_document_get_n_images (self->document);
  int index = (int) ss_viewer_state_get_image_index (self->state) + delta;
  ss_viewer_state_set_image_index (self->state, (guint) CLAMP (index, 0, n - 1));
}

static void
action_next_field (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  ss_window_step_field (SS_WINDOW (widget), 1);
}

static void
action_prev_field (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  ss_window_step_field (SS_WINDOW (widget), -1);
}

static void
on_sign_response (AdwMessageDialog *dialog,
                  const char       *response,
                  gpointer          user_data)
{
  SsWindow *self = user_data;
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "sign") != 0 || self->document == NULL)
    return;
  if (!ss_case_document_sign (self->document, &error))
    {
      ss_window_show_error (self, error);
      return;
    }
  g_autofree char *message = g_strdup_printf (_("Case %s signed off by %s"),
                                              ss_case_document_get_accession (self->document),
                                              ss_case_document_get_user (self->document));
  ss_window_show_message (self, message);
}

static void
action_sign_off (GtkWidget  *widget,
                 const char *name,
                 GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  if (!ss_window_can_edit (self))
    return;
  guint left = ss_case_document_get_n_unreviewed (self->document);
  guint unsure = ss_case_document_get_n_unsure (self->document);
  g_autofree char *heading = g_strdup_printf (_("Sign Off Case %s?"),
                                              ss_case_document_get_accession (self->document));
  g_autofree char *body = NULL;
  g_autofree char *who = g_strdup_printf (_("You sign as %s. The case is then locked: its cells "
                                            "can no longer change unless it is reopened, which "
                                            "is recorded."),
                                          ss_case_document_get_user (self->document));
  if (left > 0 && unsure > 0)
    body = g_strdup_printf (ngettext ("%u cell is not reviewed yet (%u of them unsure). Review "
                                      "it first, or sign anyway.\n\n%s",
                                      "%u cells are not reviewed yet (%u of them unsure). Review "
                                      "them first, or sign anyway.\n\n%s", left),
                            left, unsure, who);
  else if (left > 0)
    body = g_strdup_printf (ngettext ("%u cell is not reviewed yet. Review it first, or sign "
                                      "anyway.\n\n%s",
                                      "%u cells are not reviewed yet. Review them first, or sign "
                                      "anyway.\n\n%s", left),
                            left, who);
  else
    body = g_strdup (who);

  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "sign", left > 0 ? _("Sign _Anyway") : _("_Sign Off"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "sign",
                                              left > 0 ? ADW_RESPONSE_DESTRUCTIVE
                                                       : ADW_RESPONSE_SUGGESTED);
  /* with cells left, Enter must not sign by accident */
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), left > 0 ? "cancel" : "sign");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_sign_response), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* The line of a dialog of ss_entry_dialog_new, stripped, when its response was the one
 * it asks for; NULL for Cancel */
static char *
ss_entry_dialog_dup_answer (AdwMessageDialog *dialog,
                            const char       *response)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  if (g_strcmp0 (response, g_object_get_data (G_OBJECT (entry), "ss-required-for")) != 0)
    return NULL;
  return g_strstrip (g_strdup (gtk_editable_get_text (entry)));
}

static void
on_reopen_response (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  SsWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = ss_entry_dialog_dup_answer (dialog, response);

  if (reason == NULL || self->document == NULL)
    return;
  if (reason[0] == '\0')
    {
      ss_window_show_message (self, _("Say why the case is reopened; the reason is recorded with it."));
      return;
    }
  if (!ss_case_document_reopen (self->document, reason, &error))
    ss_window_show_error (self, error);
}

/* A response that stays disabled while the dialog's entry is blank */
static void
on_required_entry_changed (GtkEditable      *entry,
                           AdwMessageDialog *dialog)
{
  const char *response = g_object_get_data (G_OBJECT (entry), "ss-required-for");
  g_autofree char *text = g_strstrip (g_strdup (gtk_editable_get_text (entry)));
  adw_message_dialog_set_response_enabled (dialog, response, text[0] != '\0');
}

/* A question with one line to fill in (placeholder and accessible label given, text
 * put in it): Cancel, or `response` (`label`, in `appearance`), which stays disabled
 * while the line is blank; on_response gets the answer, user_data the window. */
static GtkWidget *
ss_entry_dialog_new (SsWindow               *self,
                     const char             *heading,
                     const char             *body,
                     const char             *entry_label,
                     const char             *placeholder,
                     const char             *text,
                     const char             *response,
                     const char             *label,
                     AdwResponseAppearance   appearance,
                     GCallback               on_response)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);
  GtkWidget *entry = gtk_entry_new ();
  if (placeholder != NULL)
    gtk_entry_set_placeholder_text (GTK_ENTRY (entry), placeholder);
  gtk_editable_set_text (GTK_EDITABLE (entry), text != NULL ? text : "");
  gtk_entry_set_activates_default (GTK_ENTRY (entry), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  entry_label, -1);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    response, label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), response, appearance);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), response);
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (entry), "ss-required-for", g_strdup (response), g_free);
  g_signal_connect (entry, "changed", G_CALLBACK (on_required_entry_changed), dialog);
  on_required_entry_changed (GTK_EDITABLE (entry), ADW_MESSAGE_DIALOG (dialog));
  g_signal_connect (dialog, "response", on_response, self);
  return dialog;
}

static void
action_reopen (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  if (self->document == NULL || !ss_case_document_get_read_only (self->document))
    return;
  g_autofree char *heading = g_strdup_printf (_("Reopen Case %s?"),
                                              ss_case_document_get_accession (self->document));
  GtkWidget *dialog = ss_entry_dialog_new (self, heading,
                                           _("Reopening removes the lock of the sign-off so "
                                             "that cells can be corrected again. Who reopened "
                                             "it, when and why is recorded."),
                                           _("Reason for reopening"), _("Reason (required)"),
                                           NULL, "reopen", _("_Reopen"),
                                           ADW_RESPONSE_DESTRUCTIVE,
                                           G_CALLBACK (on_reopen_response));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_open_images_response (GtkNativeDialog *chooser,
                         int              response,
                         gpointer         user_data)
{
  SsWindow *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (chooser));
      g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        g_ptr_array_add (list, g_list_model_get_item (files, i));
      ss_window_add_images (self, (GFile **) list->pdata, list->len);
    }
  g_object_unref (chooser);
}

/* Analyse again with the model in use: a new case of the same fields. The case keeps
 * its calls and its corrections (a case takes each picture once, so that no cell is
 * counted twice, and the audit trail of its calls stays whole); the new one records
 * where it came from in its notes. */
static void
on_analyse_again_response (AdwMessageDialog *dialog,
                           const char       *response,
                           gpointer          user_data)
{
  SsWindow *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *accession = ss_entry_dialog_dup_answer (dialog, response);

  if (accession == NULL || self->document == NULL)
    return;
  SsStore *store = ss_case_document_get_store (self->document);
  const SsCase *from = ss_case_document_get_case (self->document);
  const SsModelIdentity *model = ss_application_get_model (self->app);
  /* TRANSLATORS: appended to a case's notes; the first %s is a case, the second a model */
  g_autofree char *origin = g_strdup_printf (_("Analysed again from case %s with the model %s."),
                                             from->accession, model->name);
  g_autofree char *notes = from->notes != NULL && from->notes[0] != '\0'
                           ? g_strdup_printf ("%s\n%s", from->notes, origin) : g_strdup (origin);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < ss_case_document_get_n_images (self->document); i++)
    g_ptr_array_add (files, g_file_new_for_path (ss_case_document_get_image (self->document, i)->path));

  g_autoptr (SsCase) made = ss_store_create_case (store, accession, from->patient_ref,
                                                  from->specimen, from->stain, notes, &error);
  if (made == NULL)
    {
      ss_window_show_error (self, error);
      return;
    }
  ss_window_reload_cases (self);
  if (ss_window_open_case (self, accession))
    ss_window_add_images (self, (GFile **) files->pdata, files->len);
}

static void
action_analyse_again (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  if (self->document == NULL || ss_case_document_get_n_images (self->document) == 0)
    return;
  SsStore *store = ss_case_document_get_store (self->document);
  const char *accession = ss_case_document_get_accession (self->document);
  guint n_fields = ss_case_document_get_n_images (self->document);
  /* the first of ACCESSION-2, -3, ... that is free */
  g_autofree char *proposed = NULL;
  for (int k = 2; proposed == NULL && k < 1000; k++)
    {
      g_autofree char *candidate = g_strdup_printf ("%s-%d", accession, k);
      g_autoptr (SsCase) taken = ss_store_get_case (store, candidate, NULL);
      if (taken == NULL)
        proposed = g_steal_pointer (&candidate);
    }
  const SsModelIdentity *model = ss_application_get_model (self->app);
  g_autofree char *body = g_strdup_printf (
    ngettext ("A new case is made with the %u field of case %s, analysed by the model now in "
              "use, %s. Case %s keeps its calls and its corrections as they are.",
              "A new case is made with the %u fields of case %s, analysed by the model now in "
              "use, %s. Case %s keeps its calls and its corrections as they are.", n_fields),
    n_fields, accession, model->name, accession);
  GtkWidget *dialog = ss_entry_dialog_new (self, _("Analyse Again with the Model in Use?"), body,
                                           _("Accession number of the new case"), NULL,
                                           proposed, "analyse", _("_Analyse Again"),
                                           ADW_RESPONSE_SUGGESTED,
                                           G_CALLBACK (on_analyse_again_response));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
action_open_images (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Add Smear Images"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_OPEN, _("_Add"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  GtkFileFilter *filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("Images (JPEG, PNG, TIFF, BMP)"));
  const char *const types[] = { "image/jpeg", "image/png", "image/tiff", "image/bmp" };
  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    gtk_file_filter_add_mime_type (filter, types[i]);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);
  g_object_unref (filter);
  g_signal_connect (chooser, "response", G_CALLBACK (on_open_images_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
action_cancel_analysis (GtkWidget  *widget,
                        const char *name,
                        GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  if (self->job != NULL)
    ss_analysis_job_cancel (self->job);
}

/* The case store, or NULL after the window said why it cannot be opened. */
static SsStore *
ss_window_store_or_say (SsWindow *self)
{
  g_autoptr (GError) error = NULL;
  SsStore *store = ss_application_get_store (self->app, &error);

  if (store == NULL)
    ss_window_show_error (self, error);
  return store;
}

static void
on_case_created (SsWindow   *self,
                 const char *accession)
{
  ss_window_reload_cases (self);
  if (ss_window_open_case (self, accession))
    gtk_widget_activate_action (GTK_WIDGET (self), "win.open-images", NULL);
}

static void
action_new_case (GtkWidget  *widget,
                 const char *name,
                 GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  SsStore *store = ss_window_store_or_say (self);

  if (store == NULL)
    return;
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *suggested = g_date_time_format (now, "S-%Y%m%d-%H%M");
  SsCaseDialog *dialog = ss_case_dialog_new_case (GTK_WINDOW (self), store, suggested);
  g_signal_connect_object (dialog, "created", G_CALLBACK (on_case_created), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Another cell-type model is in use (issue 30): new analyses, and the class a drawn cell
 * is given, use it; what the open case's cells were called stays. */
static void
on_model_changed (SsWindow *self)
{
  ss_application_reload_models (self->app);
  const char *problem = ss_application_get_model_problem (self->app);
  ss_window_show_message (self, problem != NULL ? problem
                                                : _("New analyses use the model now in use; "
                                                    "cases analysed before keep their calls."));
}

static void
action_models (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  SsStore *store = ss_window_store_or_say (self);

  if (store == NULL)
    return;
  g_autofree char *user = ss_application_dup_user (self->app);
  g_autofree char *shipped = ss_models_default_classifier_path (NULL);
  g_autofree char *shipped_name = g_path_get_basename (shipped);
  GtkWindow *dialog = NULL;
  if (g_str_equal (name, "win.improve-model"))
    dialog = GTK_WINDOW (ss_learn_dialog_new (GTK_WINDOW (self), store, user));
  else
    dialog = GTK_WINDOW (ss_models_dialog_new (GTK_WINDOW (self), store, user, shipped_name));
  g_signal_connect_object (dialog, "model-changed", G_CALLBACK (on_model_changed), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (dialog);
}

/* The open case's patient reference, specimen, stain and notes; saved through the
 * document, which reads the case back and so updates the window. */
static void
action_case_details (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  if (self->document == NULL)
    return;
  gtk_window_present (GTK_WINDOW (ss_case_dialog_new_details (GTK_WINDOW (self), self->document)));
}

static void
action_zoom (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);

  if (g_str_equal (name, "win.zoom-in"))
    ss_viewer_state_zoom (self->state, 1.25);
  else if (g_str_equal (name, "win.zoom-out"))
    ss_viewer_state_zoom (self->state, 0.8);
  else if (g_str_equal (name, "win.zoom-fit"))
    ss_viewer_state_set_fit (self->state, TRUE);
  else
    {
      ss_viewer_state_set_fit (self->state, FALSE);
      ss_viewer_state_set_scale (self->state, 1.0);
    }
}

static void
action_preferences (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  GtkWidget *preferences = ss_preferences_window_new (GTK_WINDOW (self), self->settings);
  gtk_window_present (GTK_WINDOW (preferences));
}

static void
action_about (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  static const char *developers[] = { "Smearscope developers", NULL };
  const SsModelIdentity *model = ss_application_get_model (SS_WINDOW (widget)->app);
  g_autofree char *debug = g_strdup_printf ("Cell-type model: %s (%s, SHA-256 %s)\nGTK %u.%u.%u, libadwaita %u.%u.%u",
                                            model->name, model->format,
                                            model->sha256 != NULL ? model->sha256 : "-",
                                            gtk_get_major_version (), gtk_get_minor_version (),
                                            gtk_get_micro_version (), adw_get_major_version (),
                                            adw_get_minor_version (), adw_get_micro_version ());
  GtkWidget *about = adw_about_window_new ();
  g_object_set (about,
                "transient-for", widget,
                "application-name", _("Smearscope"),
                "application-icon", SS_APP_ID,
                "version", SS_VERSION,
                "developer-name", _("Smearscope developers"),
                "developers", developers,
                "license-type", GTK_LICENSE_GPL_3_0,
                "comments", _("Finds, outlines and classifies the white cells of blood smears, "
                              "counts the differential and the lymphoblast percentage, and keeps "
                              "every correction with an audit trail.\n\n"
                              "For research use. Verify before clinical decisions."),
                "debug-info", debug,
                "translator-credits", _("translator-credits"),
                NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
action_show_sidebar (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  gtk_widget_set_visible (self->sidebar, !gtk_widget_get_visible (self->sidebar));
}

static void
action_toggle_layer (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  const char *key = name + strlen ("win.");
  g_settings_set_boolean (self->settings, key, !g_settings_get_boolean (self->settings, key));
}

static void
action_draw_mode (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  gboolean drawing = FALSE;
  g_object_get (self->slide_view, "draw-mode", &drawing, NULL);
  g_object_set (self->slide_view, "draw-mode", !drawing, NULL);
}

/* The hint stays while drawing and goes when the cell is drawn or drawing is left. */
void
ss_window_update_draw_hint (SsWindow *self)
{
  gboolean drawing = FALSE;
  g_object_get (self->slide_view, "draw-mode", &drawing, NULL);
  if (drawing && self->draw_hint == NULL)
    {
      self->draw_hint = adw_toast_new (_("Drag a box around the missed cell in the field "
                                         "(press D again to stop drawing)"));
      adw_toast_set_timeout (self->draw_hint, 0);
      g_object_add_weak_pointer (G_OBJECT (self->draw_hint), (gpointer *) &self->draw_hint);
      adw_toast_overlay_add_toast (self->toast_overlay, self->draw_hint);
    }
  else if (!drawing && self->draw_hint != NULL)
    adw_toast_dismiss (self->draw_hint);
}

static void
action_gradcam (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  SsWindow *self = SS_WINDOW (widget);
  SsCellItem *item = ss_viewer_state_get_current (self->state);
  SsClassifier *classifier = ss_application_get_classifier (self->app);
  g_autoptr (GError) error = NULL;

  if (item == NULL || classifier == NULL || self->document == NULL)
    return;
  const SsImage *field = ss_case_document_get_field_image (self->document,
                                                           ss_cell_item_get_image_index (item), &error);
  int cls = -1;
  float prob = 0;
  g_autoptr (SsImage) picture = field == NULL ? NULL
    : ss_gradcam_picture (classifier, field, ss_cell_item_get_box (item), SS_CLASSIFIER_MARGIN, -1, 3,
                          0.45, &cls, &prob, &error);
  if (picture == NULL)
    {
      ss_window_show_error (self, error);
      return;
    }
  g_autoptr (GBytes) bytes = g_bytes_new (picture->rgb, (gsize) picture->width * picture->height * 3);
  g_autoptr (GdkTexture) texture = gdk_memory_texture_new (picture->width, picture->height,
                                                           GDK_MEMORY_R8G8B8, bytes, picture->width * 3);
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  g_autofree char *title = g_strdup_printf (_("What the model looked at: %s %.0f%%"),
                                            ss_cell_class_display_name (ss_classifier_cell_class (classifier, cls)),
                                            100.0 * prob);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), adw_window_title_new (title, _("Grad-CAM of the selected cell: warm colours drove the call")));
  GtkWidget *image = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
  gtk_widget_set_size_request (image, picture->width, picture->height);
  gtk_accessible_update_property (GTK_ACCESSIBLE (image), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), image);
  adw_window_set_content (ADW_WINDOW (window), box);
  gtk_window_set_transient_for (GTK_WINDOW (window), GTK_WINDOW (self));
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_present (GTK_WINDOW (window));
}

void
ss_window_install_actions (SsWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_install_action (widget_class, "win.relabel", "i", action_relabel);
  gtk_widget_class_install_action (widget_class, "win.confirm", NULL, action_confirm);
  gtk_widget_class_install_action (widget_class, "win.delete-cells", NULL, action_delete_cells);
  gtk_widget_class_install_action (widget_class, "win.undo", NULL, action_undo);
  gtk_widget_class_install_action (widget_class, "win.redo", NULL, action_redo);
  gtk_widget_class_install_action (widget_class, "win.next-cell", NULL, action_next_cell);
  gtk_widget_class_install_action (widget_class, "win.next-field", NULL, action_next_field);
  gtk_widget_class_install_action (widget_class, "win.prev-field", NULL, action_prev_field);
  gtk_widget_class_install_action (widget_class, "win.sign-off", NULL, action_sign_off);
  gtk_widget_class_install_action (widget_class, "win.reopen", NULL, action_reopen);
  gtk_widget_class_install_action (widget_class, "win.open-images", NULL, action_open_images);
  gtk_widget_class_install_action (widget_class, "win.analyse-again", NULL, action_analyse_again);
  gtk_widget_class_install_action (widget_class, "win.cancel-analysis", NULL, action_cancel_analysis);
  gtk_widget_class_install_action (widget_class, "win.new-case", NULL, action_new_case);
  gtk_widget_class_install_action (widget_class, "win.case-details", NULL, action_case_details);
  gtk_widget_class_install_action (widget_class, "win.models", NULL, action_models);
  gtk_widget_class_install_action (widget_class, "win.improve-model", NULL, action_models);
  gtk_widget_class_install_action (widget_class, "win.zoom-in", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.zoom-out", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.zoom-fit", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.zoom-100", NULL, action_zoom);
  gtk_widget_class_install_action (widget_class, "win.preferences", NULL, action_preferences);
  gtk_widget_class_install_action (widget_class, "win.about", NULL, action_about);
  gtk_widget_class_install_action (widget_class, "win.show-sidebar", NULL, action_show_sidebar);
  gtk_widget_class_install_action (widget_class, "win.show-boxes", NULL, action_toggle_layer);
  gtk_widget_class_install_action (widget_class, "win.show-outlines", NULL, action_toggle_layer);
  gtk_widget_class_install_action (widget_class, "win.show-labels", NULL, action_toggle_layer);
  gtk_widget_class_install_action (widget_class, "win.show-truth", NULL, action_toggle_layer);
  gtk_widget_class_install_action (widget_class, "win.draw-mode", NULL, action_draw_mode);
  gtk_widget_class_install_action (widget_class, "win.gradcam", NULL, action_gradcam);
  ss_window_install_export_actions (klass);
}
