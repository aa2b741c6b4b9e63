/* The workstation's main window: case list, slide view, gallery, counts. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-window-private.h"

G_DEFINE_FINAL_TYPE (SsWindow, ss_window, ADW_TYPE_APPLICATION_WINDOW)

void
ss_window_show_message (SsWindow   *self,
                        const char *message)
{
  g_return_if_fail (SS_IS_WINDOW (self));

  AdwToast *toast = adw_toast_new (message);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  g_message ("%s", message);
}

/* A server away goes to the bar (with "your last change was not saved" when a change
 * was being made), anything else to a toast */
static void
ss_window_show_store_error (SsWindow     *self,
                            const GError *error,
                            gboolean      change_lost)
{
  if (!ss_window_store_away (self, error, change_lost))
    ss_window_show_message (self, error->message);
}

void
ss_window_show_error (SsWindow     *self,
                      const GError *error)
{
  /* the window's errors from the store are of what the person just did */
  ss_window_show_store_error (self, error, TRUE);
}

void
ss_window_show_read_error (SsWindow     *self,
                           const GError *error)
{
  /* nothing was being changed */
  ss_window_show_store_error (self, error, FALSE);
}

static void
on_document_store_failed (SsWindow     *self,
                          const GError *error)
{
  ss_window_store_away (self, error, FALSE);
}

void
ss_window_focus_review (SsWindow *self)
{
  if (self->document != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (self->cell_gallery));
}

static void
ss_window_update_title (SsWindow *self)
{
  if (self->document == NULL)
    {
      adw_window_title_set_title (self->window_title, _("Smearscope"));
      adw_window_title_set_subtitle (self->window_title, NULL);
      return;
    }
  const SsCase *info = ss_case_document_get_case (self->document);
  guint n = ss_case_document_get_n_cells (self->document);
  guint left = ss_case_document_get_n_unreviewed (self->document);
  g_autofree char *title = g_strdup_printf (_("Case %s"), info->accession);
  g_autofree char *subtitle = NULL;
  if (ss_case_document_get_read_only (self->document))
    subtitle = g_strdup_printf (_("Signed by %s · read-only"), info->signed_by);
  else if (n == 0)
    subtitle = g_strdup (_("No cells yet: add images"));
  else if (left == 0)
    subtitle = g_strdup_printf (ngettext ("All %u cell reviewed", "All %u cells reviewed", n), n);
  else
    /* TRANSLATORS: e.g. "12 of 340 cells left to review" */
    subtitle = g_strdup_printf (ngettext ("%u of %u cell left to review",
                                          "%u of %u cells left to review", n), left, n);
  adw_window_title_set_title (self->window_title, title);
  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_window_set_title (GTK_WINDOW (self), title);
}

static void
ss_window_update_signed (SsWindow *self)
{
  gboolean signed_case = self->document != NULL && ss_case_document_get_read_only (self->document);
  if (signed_case)
    {
      const SsCase *info = ss_case_document_get_case (self->document);
      g_autoptr (GDateTime) at = g_date_time_new_from_iso8601 (info->signed_at, NULL);
      g_autoptr (GDateTime) local = at != NULL ? g_date_time_to_local (at) : NULL;
      /* TRANSLATORS: when a case was signed, as strftime: "6 Dec 2026, 14:05" */
      g_autofree char *when = local != NULL ? g_date_time_format (local, _("%-d %b %Y, %H:%M"))
                                            : g_strdup (info->signed_at);
      g_autofree char *text = g_strdup_printf (_("Signed off by %s on %s. The case is read-only; "
                                                 "reopen it to make corrections (the reopening "
                                                 "is recorded)."),
                                               info->signed_by, when);
      gtk_label_set_text (self->signed_label, text);
    }
  gtk_revealer_set_reveal_child (self->signed_revealer, signed_case);
  ss_window_update_title (self);
  ss_window_update_actions (self);
}

static void
on_document_notify (SsWindow *self)
{
  ss_window_update_title (self);
  ss_window_update_actions (self);
}

static void
on_document_read_only (SsWindow *self)
{
  ss_window_update_signed (self);
  ss_window_reload_cases (self);
}

static void
on_gallery_error (SsWindow   *self,
                  const char *message)
{
  ss_window_show_message (self, message);
}

static void
on_gallery_show_in_field (SsWindow *self)
{
  SsCellItem *current = ss_viewer_state_get_current (self->state);
  if (current != NULL)
    ss_slide_view_center_on (self->slide_view, current);
}

/* The case list shows the cases opened lately first. */
#define SS_RECENT_CASES 10

static void
ss_window_remember_case (SsWindow   *self,
                         const char *accession)
{
  g_auto (GStrv) old = g_settings_get_strv (self->settings, "recent-cases");
  g_autoptr (GStrvBuilder) recent = g_strv_builder_new ();
  guint n = 1;

  g_strv_builder_add (recent, accession);
  for (guint i = 0; old[i] != NULL && n < SS_RECENT_CASES; i++)
    if (g_strcmp0 (old[i], accession) != 0)
      {
        g_strv_builder_add (recent, old[i]);
        n++;
      }
  g_auto (GStrv) list = g_strv_builder_end (recent);
  g_settings_set_strv (self->settings, "recent-cases", (const char *const *) list);
  g_settings_set_string (self->settings, "last-case", accession);
}

static gboolean
ss_window_drop_document (gpointer document)
{
  g_object_unref (document);
  return G_SOURCE_REMOVE;
}

static void
ss_window_set_document (SsWindow       *self,
                        SsCaseDocument *document)
{
  if (self->document != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->document, self);
      /* a case of 10,000 cells takes tens of milliseconds to free: after the new case
       * is painted, not before */
      g_idle_add_full (G_PRIORITY_LOW, ss_window_drop_document, g_object_ref (self->document),
                       NULL);
    }
  g_set_object (&self->document, document);

  /* review starts at the first cell of the queue: show its field from the start, not
   * field 1 first (each field shown is a decode) */
  SsCellItem *first = document != NULL ? ss_case_document_next_unreviewed (document, NULL) : NULL;
  ss_viewer_state_clear_selection (self->state);
  ss_viewer_state_set_image_index (self->state, first != NULL ? ss_cell_item_get_image_index (first) : 0);
  ss_viewer_state_set_fit (self->state, TRUE);
  ss_slide_view_set_document (self->slide_view, document);
  ss_cell_gallery_set_document (self->cell_gallery, document);
  ss_count_panel_set_document (self->count_panel, document);
  ss_field_strip_set_document (self->field_strip, document);

  if (document != NULL)
    {
      g_signal_connect_swapped (document, "notify::n-unreviewed", G_CALLBACK (on_document_notify), self);
      g_signal_connect_swapped (document, "notify::n-cells", G_CALLBACK (on_document_notify), self);
      g_signal_connect_swapped (document, "notify::can-undo", G_CALLBACK (on_document_notify), self);
      g_signal_connect_swapped (document, "notify::can-redo", G_CALLBACK (on_document_notify), self);
      g_signal_connect_swapped (document, "notify::read-only", G_CALLBACK (on_document_read_only), self);
      g_signal_connect_swapped (document, "store-failed", G_CALLBACK (on_document_store_failed), self);
      if (first != NULL)
        ss_viewer_state_set_current (self->state, first, FALSE);
      gtk_stack_set_visible_child_name (self->main_stack, "case");
      ss_window_remember_case (self, ss_case_document_get_accession (document));
      ss_window_reload_cases (self);
    }
  else
    gtk_stack_set_visible_child_name (self->main_stack, "empty");
  ss_window_update_signed (self);
}

gboolean
ss_window_open_case (SsWindow   *self,
                     const char *accession)
{
  g_return_val_if_fail (SS_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (accession != NULL, FALSE);

  g_autoptr (GError) error = NULL;
  SsStore *store = ss_application_get_store (self->app, &error);
  if (store == NULL)
    {
      ss_window_show_error (self, error);
      return FALSE;
    }
  if (self->job != NULL && ss_analysis_job_get_running (self->job))
    {
      ss_window_show_message (self, _("Wait for the analysis to finish, or cancel it, before "
                                      "opening another case."));
      return FALSE;
    }
  g_autofree char *user = ss_application_dup_user (self->app);
  g_autoptr (SsCaseDocument) document = ss_case_document_open (store, accession, user, &error);
  if (document == NULL)
    {
      ss_window_show_read_error (self, error);
      return FALSE;
    }
  ss_case_document_set_blast_threshold (document, g_settings_get_double (self->settings, "blast-threshold"));
  ss_case_document_set_unsure_below (document, g_settings_get_double (self->settings, "unsure-below"));
  ss_case_document_set_classifier (document, ss_application_get_classifier (self->app));
  ss_window_set_document (self, document);
  ss_window_focus_review (self);
  return TRUE;
}

static void
on_analysis_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr (SsWindow) self = user_data;
  SsAnalysisJob *job = SS_ANALYSIS_JOB (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) problems = ss_analysis_job_run_finish (job, result, &error);

  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);
  if (self->job == job)
    g_clear_object (&self->job);
  ss_window_update_actions (self);
  ss_window_reload_cases (self);

  if (problems == NULL)
    {
      ss_window_show_error (self, error);
      return;
    }
  for (guint i = 0; i < problems->len; i++)
    ss_window_show_message (self, problems->pdata[i]);
  if (self->document != NULL)
    {
      guint n_cells = ss_case_document_get_n_cells (self->document);
      /* the gallery appends cells as their fields come in, so that no tile moves under a
       * reviewer at work; in the case analysed, when nobody has reviewed a cell of it
       * yet, the review queue takes its order once, now that every cell is in */
      if (ss_analysis_job_get_document (job) == self->document
          && ss_case_document_get_n_unreviewed (self->document) == n_cells)
        ss_cell_gallery_refresh (self->cell_gallery);
      if (ss_viewer_state_get_current (self->state) == NULL)
        {
          SsCellItem *first = ss_case_document_next_unreviewed (self->document, NULL);
          if (first != NULL)
            ss_viewer_state_set_current (self->state, first, FALSE);
        }
      guint n_fields = ss_case_document_get_n_images (self->document);
      /* TRANSLATORS: the first half of "Analysis finished: 12 cells in 3 fields" */
      g_autofree char *cells = g_strdup_printf (ngettext ("%u cell", "%u cells", n_cells), n_cells);
      /* TRANSLATORS: the second half of "Analysis finished: 12 cells in 3 fields" */
      g_autofree char *fields = g_strdup_printf (ngettext ("%u field", "%u fields", n_fields), n_fields);
      /* TRANSLATORS: "Analysis finished: 12 cells in 3 fields" */
      g_autofree char *done = g_strdup_printf (_("Analysis finished: %s in %s"), cells, fields);
      ss_window_show_message (self, done);
      ss_window_focus_review (self);
    }
}

static void
on_job_progress (SsWindow *self)
{
  if (self->job == NULL)
    return;
  gtk_progress_bar_set_fraction (self->progress_bar, ss_analysis_job_get_fraction (self->job));
  gtk_label_set_text (self->progress_label, ss_analysis_job_get_message (self->job));
}

void
ss_window_add_images (SsWindow *self,
                      GFile   **files,
                      guint     n_files)
{
  g_return_if_fail (SS_IS_WINDOW (self));

  if (n_files == 0)
    return;
  if (self->document == NULL)
    {
      ss_window_show_message (self, _("Open or create a case first, then add its images."));
      return;
    }
  if (ss_case_document_get_read_only (self->document))
    {
      ss_window_show_message (self, _("This case is signed; reopen it before adding images."));
      return;
    }
  if (self->job != NULL && ss_analysis_job_get_running (self->job))
    {
      ss_window_show_message (self, _("An analysis is already running; add the images when it "
                                      "has finished."));
      return;
    }

  g_autoptr (GStrvBuilder) paths = g_strv_builder_new ();
  guint n_paths = 0;
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      if (path == NULL)
        {
          g_autofree char *uri = g_file_get_uri (files[i]);
          g_autofree char *message = g_strdup_printf (_("%s is not a local file; copy it to this "
                                                        "computer first."), uri);
          ss_window_show_message (self, message);
          continue;
        }
      g_strv_builder_add (paths, path);
      n_paths++;
    }
  if (n_paths == 0)
    return;
  g_auto (GStrv) list = g_strv_builder_end (paths);

  const char *problem = ss_application_get_model_problem (self->app);
  if (problem != NULL)
    ss_window_show_message (self, problem);

  SsAnalysisSettings settings;
  ss_application_get_analysis_settings (self->app, &settings);
  g_autoptr (GError) error = NULL;
  if (!ss_analysis_settings_validate (&settings, &error))
    {
      g_prefix_error (&error, _("Check the analysis preferences: "));
      ss_window_show_error (self, error);
      return;
    }
  g_clear_object (&self->job);
  self->job = ss_analysis_job_new (self->document, (const char *const *) list, &settings,
                                   ss_application_get_classifier (self->app),
                                   ss_application_get_model (self->app));
  g_signal_connect_swapped (self->job, "notify::fraction", G_CALLBACK (on_job_progress), self);
  gtk_progress_bar_set_fraction (self->progress_bar, 0);
  gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
  ss_analysis_job_run_async (self->job, on_analysis_done, g_object_ref (self));
  on_job_progress (self);
  ss_window_update_actions (self);
}

void
ss_window_open_from_command_line (SsWindow   *self,
                                  const char *accession,
                                  GFile     **files,
                                  guint       n_files)
{
  g_return_if_fail (SS_IS_WINDOW (self));

  g_autoptr (GError) error = NULL;
  SsStore *store = ss_application_get_store (self->app, &error);
  if (store == NULL && ss_application_get_store_away (self->app))
    {
      /* the empty page says the server is not answering; this is done when it does */
      g_clear_pointer (&self->pending_accession, g_free);
      g_clear_pointer (&self->pending_files, g_ptr_array_unref);
      self->pending_accession = g_strdup (accession);
      self->pending_files = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < n_files; i++)
        g_ptr_array_add (self->pending_files, g_object_ref (files[i]));
      return;
    }
  if (store == NULL)
    {
      ss_window_show_error (self, error);
      return;
    }

  g_autofree char *generated = NULL;
  if (accession == NULL && n_files > 0)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_local ();
      accession = generated = g_date_time_format (now, "S-%Y%m%d-%H%M%S");
    }
  if (accession == NULL)
    {
      g_autofree char *last = g_settings_get_string (self->settings, "last-case");
      g_autoptr (SsCase) found = last[0] != '\0' ? ss_store_get_case (store, last, NULL) : NULL;
      if (found != NULL)
        ss_window_open_case (self, last);
      return;
    }

  g_autoptr (SsCase) found = ss_store_get_case (store, accession, NULL);
  if (found == NULL)
    {
      g_autoptr (SsCase) created = ss_store_create_case (store, accession, NULL, NULL, NULL, NULL, &error);
      if (created == NULL)
        {
          ss_window_show_error (self, error);
          return;
        }
    }
  ss_window_reload_cases (self);
  if (!ss_window_open_case (self, accession))
    return;

  /* images already in the case are not analysed twice */
  g_autoptr (GPtrArray) new_files = g_ptr_array_new ();
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_file_get_path (files[i]);
      gboolean known = FALSE;
      for (guint k = 0; path != NULL && k < ss_case_document_get_n_images (self->document); k++)
        known |= g_strcmp0 (ss_case_document_get_image (self->document, k)->path, path) == 0;
      if (!known)
        g_ptr_array_add (new_files, files[i]);
    }
  ss_window_add_images (self, (GFile **) new_files->pdata, new_files->len);
}

/* The case list */

static gboolean
case_filter_func (gpointer item,
                  gpointer user_data)
{
  SsWindow *self = user_data;
  const char *accession = gtk_string_object_get_string (item);
  const SsCase *info = g_hash_table_lookup (self->cases, accession);
  const char *search = gtk_editable_get_text (GTK_EDITABLE (self->case_search));
  guint status = gtk_drop_down_get_selected (self->status_filter);

  if (info == NULL)
    return FALSE;
  if (search[0] != '\0')
    {
      g_autofree char *a = g_utf8_casefold (accession, -1);
      g_autofree char *s = g_utf8_casefold (search, -1);
      if (strstr (a, s) == NULL)
        return FALSE;
    }
  switch (status)
    {
    case 1: return info->status == SS_CASE_OPEN;
    case 2: return info->status == SS_CASE_REVIEWED;
    case 3: return info->status == SS_CASE_SIGNED;
    default: return TRUE;
    }
}

void
ss_window_reload_cases (SsWindow *self)
{
  g_autoptr (GError) error = NULL;
  SsStore *store = ss_application_get_store (self->app, &error);
  if (store == NULL)
    return;
  g_autoptr (GPtrArray) cases = ss_store_list_cases (store, &error);
  if (cases == NULL)
    {
      ss_window_show_read_error (self, error);
      return;
    }
  g_hash_table_remove_all (self->cases);
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  g_ptr_array_set_free_func (cases, NULL);
  for (guint i = 0; i < cases->len; i++)
    {
      SsCase *info = cases->pdata[i];
      g_hash_table_insert (self->cases, info->accession, info);
    }
  /* the cases opened lately first, most recent at the top; then the others, newest first */
  g_auto (GStrv) recent = g_settings_get_strv (self->settings, "recent-cases");
  for (guint i = 0; recent[i] != NULL; i++)
    if (g_hash_table_contains (self->cases, recent[i]))
      g_strv_builder_add (names, recent[i]);
  for (guint i = 0; i < cases->len; i++)
    {
      SsCase *info = cases->pdata[i];
      if (!g_strv_contains ((const char *const *) recent, info->accession))
        g_strv_builder_add (names, info->accession);
    }
  g_auto (GStrv) list = g_strv_builder_end (names);
  gtk_string_list_splice (self->case_names, 0,
                          g_list_model_get_n_items (G_LIST_MODEL (self->case_names)),
                          (const char *const *) list);
}

static void
case_row_setup (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                gpointer                  user_data)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *subtitle = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (title, "heading");
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_label_set_ellipsize (GTK_LABEL (subtitle), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), subtitle);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_list_item_set_child (list_item, box);
}

const char *
ss_window_case_status_display (SsCaseStatus status)
{
  switch (status)
    {
    case SS_CASE_OPEN: return _("Open");
    case SS_CASE_REVIEWED: return _("Reviewed");
    case SS_CASE_SIGNED: return _("Signed");
    default: return "";
    }
}

static void
case_row_bind (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               gpointer                  user_data)
{
  SsWindow *self = user_data;
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *title = gtk_widget_get_first_child (box);
  GtkWidget *subtitle = gtk_widget_get_next_sibling (title);
  const char *accession = gtk_string_object_get_string (gtk_list_item_get_item (list_item));
  const SsCase *info = g_hash_table_lookup (self->cases, accession);

  gtk_label_set_text (GTK_LABEL (title), accession);
  if (info != NULL)
    {
      /* TRANSLATORS: case list subtitle, the number of fields: "2 fields" */
      g_autofree char *fields = g_strdup_printf (ngettext ("%d field", "%d fields", info->n_images),
                                                 info->n_images);
      unsigned long n_cells = (unsigned long) MAX (info->n_cells, 0);
      /* TRANSLATORS: case list subtitle, the number of cells: "14 cells" */
      g_autofree char *cells = g_strdup_printf (ngettext ("%lu cell", "%lu cells", n_cells), n_cells);
      /* TRANSLATORS: case list subtitle: status, fields, cells, e.g. "Open · 2 fields · 14 cells" */
      g_autofree char *text = g_strdup_printf (_("%s · %s · %s"),
                                               ss_window_case_status_display (info->status),
                                               fields, cells);
      gtk_label_set_text (GTK_LABEL (subtitle), text);
      g_autofree char *accessible = g_strdup_printf ("%s, %s", accession, text);
      gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      accessible, -1);
    }
}

static void
on_case_activate (SsWindow *self,
                  guint     position)
{
  GListModel *model = G_LIST_MODEL (gtk_list_view_get_model (self->case_list));
  g_autoptr (GtkStringObject) item = g_list_model_get_item (model, position);
  if (item != NULL)
    ss_window_open_case (self, gtk_string_object_get_string (item));
}

/* An empty case list says why: no case yet, or none the search and the filter let
 * through. */
static void
ss_window_update_case_list_empty (SsWindow *self)
{
  GListModel *shown = G_LIST_MODEL (gtk_list_view_get_model (self->case_list));
  if (shown != NULL && g_list_model_get_n_items (shown) > 0)
    {
      gtk_stack_set_visible_child_name (self->case_list_stack, "list");
      return;
    }
  if (g_list_model_get_n_items (G_LIST_MODEL (self->case_names)) == 0)
    /* TRANSLATORS: in the case list of a store that holds no case */
    gtk_label_set_label (self->case_list_empty, _("No cases yet. New Case… makes one."));
  else
    /* TRANSLATORS: in the case list when the search and the status filter hide every case */
    gtk_label_set_label (self->case_list_empty, _("No case matches the search and the filter."));
  gtk_stack_set_visible_child_name (self->case_list_stack, "empty");
}

static void
on_case_filter_changed (SsWindow *self)
{
  gtk_filter_changed (self->case_filter, GTK_FILTER_CHANGE_DIFFERENT);
}

/* Dropping image files onto the window adds them to the open case. */
static gboolean
on_drop (GtkDropTarget *target,
         const GValue  *value,
         double         x,
         double         y,
         gpointer       user_data)
{
  SsWindow *self = user_data;
  GSList *list = g_value_get_boxed (value);
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  for (GSList *l = list; l != NULL; l = l->next)
    g_ptr_array_add (files, l->data);
  ss_window_add_images (self, (GFile **) files->pdata, files->len);
  return files->len > 0;
}

/* The bare keys of the review pane: local to it, so that typing in the case search
 * (or any entry) never relabels a cell (on GTK 4.8 application accelerators fire even
 * while an entry has the focus). */
static void
ss_window_add_review_keys (SsWindow *self)
{
  GtkEventController *controller = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_set_scope (GTK_SHORTCUT_CONTROLLER (controller), GTK_SHORTCUT_SCOPE_LOCAL);
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  gtk_event_controller_set_name (controller, "review-keys");

  for (int cls = 0; cls < SS_N_CLASSES; cls++)
    {
      guint keys[] = { GDK_KEY_1 + cls, GDK_KEY_KP_1 + cls };
      for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          GtkShortcut *shortcut = gtk_shortcut_new (gtk_keyval_trigger_new (keys[k], 0),
                                                    gtk_named_action_new ("win.relabel"));
          gtk_shortcut_set_arguments (shortcut, g_variant_new_int32 (cls));
          gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller), shortcut);
        }
    }
  static const struct {
    guint       key;
    const char *action;
  } plain[] = {
    { GDK_KEY_space, "win.confirm" },
    { GDK_KEY_Delete, "win.delete-cells" },
    { GDK_KEY_KP_Delete, "win.delete-cells" },
    { GDK_KEY_n, "win.next-cell" },
    { GDK_KEY_Page_Down, "win.next-field" },
    { GDK_KEY_Page_Up, "win.prev-field" },
    { GDK_KEY_b, "win.show-boxes" },
    { GDK_KEY_o, "win.show-outlines" },
    { GDK_KEY_l, "win.show-labels" },
    { GDK_KEY_t, "win.show-truth" },
    { GDK_KEY_d, "win.draw-mode" },
    { GDK_KEY_g, "win.gradcam" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (plain); i++)
    gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (controller),
                                          gtk_shortcut_new (gtk_keyval_trigger_new (plain[i].key, 0),
                                                            gtk_named_action_new (plain[i].action)));
  gtk_widget_add_controller (self->review_pane, controller);
}

/* Below this width the case list folds away, so that the field keeps some room beside
 * the counts and the review queue, which never shrink (the window is 1280 wide at
 * first; half of a 1366 px laptop screen is 683). */
#define SS_WINDOW_FOLD_WIDTH 1100

static gboolean
ss_window_fold (gpointer user_data)
{
  SsWindow *self = user_data;
  int width = gtk_widget_get_width (GTK_WIDGET (self));
  gboolean narrow = width > 0 && width < SS_WINDOW_FOLD_WIDTH;

  self->fold_source = 0;
  if (narrow == self->folded)
    return G_SOURCE_REMOVE;
  self->folded = narrow;
  self->folding = TRUE;
  if (narrow)
    {
      self->sidebar_before_fold = gtk_widget_get_visible (self->sidebar);
      gtk_widget_set_visible (self->sidebar, FALSE);
    }
  else
    gtk_widget_set_visible (self->sidebar, self->sidebar_before_fold);
  self->folding = FALSE;
  return G_SOURCE_REMOVE;
}

/* A person who shows or hides the case list while it is folded (F9, the button) chooses
 * how it is when the window widens again */
static void
on_sidebar_visible (SsWindow *self)
{
  if (self->folded && !self->folding)
    self->sidebar_before_fold = gtk_widget_get_visible (self->sidebar);
}

static void
ss_window_size_allocate (GtkWidget *widget,
                         int        width,
                         int        height,
                         int        baseline)
{
  SsWindow *self = SS_WINDOW (widget);

  GTK_WIDGET_CLASS (ss_window_parent_class)->size_allocate (widget, width, height, baseline);
  /* not while allocating: showing or hiding a child asks for a new layout */
  if ((width < SS_WINDOW_FOLD_WIDTH) != self->folded && self->fold_source == 0)
    self->fold_source = g_idle_add (ss_window_fold, self);
}

static void
ss_window_dispose (GObject *object)
{
  SsWindow *self = SS_WINDOW (object);

  g_clear_handle_id (&self->fold_source, g_source_remove);
  if (self->job != NULL)
    ss_analysis_job_cancel (self->job);
  g_cancellable_cancel (self->exports);
  ss_window_server_dispose (self);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_WINDOW);
  g_clear_object (&self->document);
  g_clear_object (&self->job);

  G_OBJECT_CLASS (ss_window_parent_class)->dispose (object);
}

static void
ss_window_finalize (GObject *object)
{
  SsWindow *self = SS_WINDOW (object);

  g_clear_object (&self->state);
  g_clear_object (&self->settings);
  g_clear_object (&self->case_names);
  g_clear_object (&self->export_folder);
  g_clear_object (&self->exports);
  g_clear_pointer (&self->cases, g_hash_table_unref);
  g_clear_pointer (&self->pending_accession, g_free);
  g_clear_pointer (&self->pending_files, g_ptr_array_unref);

  G_OBJECT_CLASS (ss_window_parent_class)->finalize (object);
}

static void
ss_window_class_init (SsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ss_window_dispose;
  object_class->finalize = ss_window_finalize;
  widget_class->size_allocate = ss_window_size_allocate;

  g_type_ensure (SS_TYPE_SLIDE_VIEW);
  g_type_ensure (SS_TYPE_CELL_GALLERY);
  g_type_ensure (SS_TYPE_COUNT_PANEL);
  g_type_ensure (SS_TYPE_FIELD_STRIP);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/smearscope/Smearscope/ss-window.ui");
  gtk_widget_class_bind_template_child (widget_class, SsWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, title_button);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, truth_button);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, dim_label);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, sidebar_button);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, outer_paned);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, case_search);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, status_filter);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, case_list);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, case_list_stack);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, case_list_empty);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, empty_page);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, server_revealer);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, server_label);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, signed_revealer);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, signed_label);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, review_pane);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, dim_adjustment);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, slide_view);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, field_strip);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, count_panel);
  gtk_widget_class_bind_template_child (widget_class, SsWindow, cell_gallery);

  ss_window_install_actions (klass);
}

static void
ss_window_init (SsWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* the button shows whether the case list does, whoever showed or hid it (the button,
   * F9, or a window narrowed past SS_WINDOW_FOLD_WIDTH) */
  g_object_bind_property (self->sidebar, "visible", self->sidebar_button, "active",
                          G_BINDING_SYNC_CREATE | G_BINDING_BIDIRECTIONAL);
  g_signal_connect_swapped (self->sidebar, "notify::visible", G_CALLBACK (on_sidebar_visible),
                            self);

  self->state = ss_viewer_state_new ();
  self->cases = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) ss_case_free);
  self->case_names = gtk_string_list_new (NULL);
  self->exports = g_cancellable_new ();

  ss_slide_view_set_state (self->slide_view, self->state);
  ss_cell_gallery_set_state (self->cell_gallery, self->state);
  ss_field_strip_set_state (self->field_strip, self->state);
  g_signal_connect_swapped (self->cell_gallery, "error", G_CALLBACK (on_gallery_error), self);
  g_signal_connect_swapped (self->cell_gallery, "show-in-field", G_CALLBACK (on_gallery_show_in_field), self);
  g_signal_connect_swapped (self->slide_view, "error", G_CALLBACK (on_gallery_error), self);
  g_signal_connect_swapped (self->slide_view, "notify::draw-mode",
                            G_CALLBACK (ss_window_update_draw_hint), self);
  g_object_bind_property (self->dim_adjustment, "value", self->state, "dim-below", G_BINDING_SYNC_CREATE);

  self->case_filter = GTK_FILTER (gtk_custom_filter_new (case_filter_func, self, NULL));
  GtkFilterListModel *filtered = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->case_names)),
                                                            self->case_filter);
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (case_row_setup), self);
  g_signal_connect (factory, "bind", G_CALLBACK (case_row_bind), self);
  gtk_list_view_set_factory (self->case_list, factory);
  g_object_unref (factory);
  gtk_list_view_set_model (self->case_list, GTK_SELECTION_MODEL (gtk_single_selection_new (G_LIST_MODEL (filtered))));
  g_signal_connect_object (filtered, "items-changed",
                           G_CALLBACK (ss_window_update_case_list_empty), self, G_CONNECT_SWAPPED);
  ss_window_update_case_list_empty (self);
  g_signal_connect_swapped (self->case_list, "activate", G_CALLBACK (on_case_activate), self);
  g_signal_connect_swapped (self->case_search, "search-changed", G_CALLBACK (on_case_filter_changed), self);
  g_signal_connect_swapped (self->status_filter, "notify::selected", G_CALLBACK (on_case_filter_changed), self);

  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (GTK_WIDGET (self->main_stack), GTK_EVENT_CONTROLLER (drop));

  ss_window_add_review_keys (self);
}

static void
on_classifier_changed (SsWindow *self)
{
  if (self->document != NULL)
    ss_case_document_set_classifier (self->document, ss_application_get_classifier (self->app));
}

/* The page shown with no case open says whether the case store could be opened, and
 * while its server does not answer, that the application keeps trying */
static void
ss_window_update_empty_page (SsWindow *self)
{
  g_autoptr (GError) error = NULL;
  gboolean open = ss_application_get_store (self->app, &error) != NULL;
  /* "New Case…" only where a case can be made */
  gtk_widget_set_visible (adw_status_page_get_child (self->empty_page), open);
  if (open)
    {
      adw_status_page_set_title (self->empty_page, _("No Case Open"));
      adw_status_page_set_description (self->empty_page,
                                       _("Choose a case on the left, or make a new one and add "
                                         "the smear images from your microscope camera."));
      adw_status_page_set_icon_name (self->empty_page, SS_APP_ID);
      return;
    }
  /* the page's description is markup; a server's URI has its & */
  g_autofree char *message = g_markup_escape_text (error->message, -1);
  if (ss_application_get_store_away (self->app))
    {
      g_autofree char *text =
        g_strdup_printf (_("%s\n\nSmearscope tries again every few seconds: the cases appear "
                           "here as soon as the server answers. If it stays away, ask whoever "
                           "runs the lab's case server."), message);
      adw_status_page_set_title (self->empty_page, _("Waiting for the Case Base"));
      adw_status_page_set_description (self->empty_page, text);
      adw_status_page_set_icon_name (self->empty_page, "network-offline-symbolic");
    }
  else
    {
      adw_status_page_set_title (self->empty_page, _("The Case Store Cannot Be Opened"));
      adw_status_page_set_description (self->empty_page, message);
      adw_status_page_set_icon_name (self->empty_page, "dialog-warning-symbolic");
    }
}

/* The case server answered at last (or answered that the store cannot be used) */
static void
on_store_changed (SsWindow *self)
{
  ss_window_update_empty_page (self);
  ss_window_reload_cases (self);
  ss_window_update_signed (self);
  ss_window_update_actions (self);
  if (self->pending_files != NULL && !ss_application_get_store_away (self->app))
    {
      g_autofree char *accession = g_steal_pointer (&self->pending_accession);
      g_autoptr (GPtrArray) files = g_steal_pointer (&self->pending_files);
      ss_window_open_from_command_line (self, accession, (GFile **) files->pdata, files->len);
    }
}

SsWindow *
ss_window_new (SsApplication *app)
{
  g_return_val_if_fail (SS_IS_APPLICATION (app), NULL);

  SsWindow *self = g_object_new (SS_TYPE_WINDOW, "application", app, NULL);
  self->app = app;
  self->settings = g_object_ref (ss_application_get_settings (app));
  /* another model put in use, from this window or another: the open case's drawn cells
   * are called by it */
  g_signal_connect_object (app, "classifier-changed", G_CALLBACK (on_classifier_changed), self,
                           G_CONNECT_SWAPPED);

  g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "show-boxes", self->state, "show-boxes", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "show-outlines", self->state, "show-outlines", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "show-labels", self->state, "show-labels", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "show-truth", self->state, "show-truth", G_SETTINGS_BIND_DEFAULT);

  g_signal_connect_object (app, "store-changed", G_CALLBACK (on_store_changed), self,
                           G_CONNECT_SWAPPED);
  ss_window_update_empty_page (self);
  ss_window_reload_cases (self);
  ss_window_update_signed (self);
  return self;
}
