/* The main window's exports: the case report as PDF and the exchange files (CSV, JSON,
 * COCO, HL7), written by src/report as smearscope-cli writes them, in a worker thread
 * with its own read-only connection to the store. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-background.h"
#include "ss-report-analysis.h"
#include "ss-report-export.h"
#include "ss-report-hl7.h"
#include "ss-report-pdf.h"
#include "ss-window-private.h"

/* The PDF report takes the index after the exchange formats in the tables below. */
#define EXPORT_PDF SS_REPORT_N_FORMATS

typedef struct
{
  const char *title;        /* the save dialog's */
  const char *name_suffix;  /* the file suggested: ACCESSION-name_suffix */
  const char *filter_name;
  const char *extension;
  const char *saved;        /* the toast once written; %s is the file's name */
} ExportKind;

static const ExportKind export_kinds[SS_REPORT_N_FORMATS + 1] = {
  [SS_REPORT_FORMAT_COUNTS_CSV] = { N_("Export Counts per Field"), "counts.csv",
                                    N_("CSV files"), "csv", N_("Counts saved to %s") },
  [SS_REPORT_FORMAT_CELLS_CSV]  = { N_("Export Cells"), "cells.csv",
                                    N_("CSV files"), "csv", N_("Cells saved to %s") },
  [SS_REPORT_FORMAT_JSON]       = { N_("Export Case as JSON"), "case.json",
                                    N_("JSON files"), "json", N_("Case saved to %s") },
  [SS_REPORT_FORMAT_COCO]       = { N_("Export Annotations as COCO"), "coco.json",
                                    N_("COCO annotation files (JSON)"), "json",
                                    N_("Annotations saved to %s") },
  [SS_REPORT_FORMAT_HL7]        = { N_("Export Result Message (HL7)"), "result.hl7",
                                    N_("HL7 messages"), "hl7", N_("Result message saved to %s") },
  [EXPORT_PDF]                  = { N_("Export Report"), "report.pdf",
                                    N_("PDF documents"), "pdf", N_("Report saved to %s") },
};

/* What a worker needs to write one file; it owns copies of everything. */
typedef struct
{
  guint          kind;        /* an SsReportFormat, or EXPORT_PDF */
  char          *store_path;
  char          *accession;
  char          *path;        /* the file chosen */
  double         threshold;   /* blast flag threshold, percent */
  double         unsure_below; /* the review queue's setting: the report counts as unsure
                                * what the window does */
  SsReportPaper  paper;
  char          *lab_name;
} ExportJob;

static void
export_job_free (gpointer data)
{
  ExportJob *job = data;

  g_free (job->store_path);
  g_free (job->accession);
  g_free (job->path);
  g_free (job->lab_name);
  g_free (job);
}

/* ACCESSION-suffix, with what a file name cannot hold (a slash, a control character)
 * replaced by '-'. */
static char *
ss_window_export_suggested_name (const char *accession,
                                 guint       kind)
{
  g_autofree char *name = g_strdup_printf ("%s-%s", accession, export_kinds[kind].name_suffix);

  for (char *p = name; *p != '\0'; p++)
    if (*p == '/' || *p == '\\' || g_ascii_iscntrl (*p))
      *p = '-';
  return g_steal_pointer (&name);
}

static gboolean
ss_window_export_write (const ExportJob  *job,
                        SsStore          *store,
                        GError          **error)
{
  if (job->kind == EXPORT_PDF)
    {
      SsReportPdfOptions options;

      ss_report_pdf_options_init (&options);
      options.paper = job->paper;
      options.lab_name = job->lab_name;
      options.threshold = job->threshold;
      options.unsure_below = job->unsure_below;
      return ss_report_pdf_write (store, job->accession, &options, job->path, error);
    }

  g_autoptr (SsReportCase) report = ss_report_case_load (store, job->accession, job->threshold, error);
  if (report == NULL)
    return FALSE;
  g_autofree char *text = ss_report_case_export (report, job->kind, error);
  return text != NULL && ss_report_write_text_atomic (job->path, text, error);
}

/* In a worker thread: an SsStore is used by one thread only, so this one opens its own. */
static void
ss_window_export_thread (GTask        *task,
                         gpointer      source_object,
                         gpointer      task_data,
                         GCancellable *cancellable)
{
  const ExportJob *job = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (job->store_path, SS_STORE_OPEN_READ_ONLY, &error);

  if (store != NULL && ss_window_export_write (job, store, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, g_steal_pointer (&error));
}

/* What went wrong and what to do about it, for the toast: libadwaita 1.2 shows a toast
 * on one line, cut at the window's width, so it names the file without its folder and
 * stays short. */
static char *
ss_window_export_explain (const ExportJob *job,
                          const GError    *error)
{
  if (error->domain == G_FILE_ERROR)
    {
      g_autofree char *name = g_path_get_basename (job->path);
      g_autofree char *shown = g_filename_display_name (name);
      const char *reason = error->message;
      const char *advice = _("Choose another folder.");

      switch (error->code)
        {
        case G_FILE_ERROR_ACCES:
        case G_FILE_ERROR_PERM:
          reason = _("permission denied");
          break;
        case G_FILE_ERROR_ROFS:
          reason = _("the disk is read-only");
          break;
        case G_FILE_ERROR_NOENT:
          reason = _("the folder does not exist");
          break;
        case G_FILE_ERROR_NOTDIR:
          reason = _("part of the path is not a folder");
          break;
        case G_FILE_ERROR_ISDIR:
          reason = _("a folder has that name");
          advice = _("Choose another name.");
          break;
        case G_FILE_ERROR_NAMETOOLONG:
          reason = _("the name is too long");
          advice = _("Choose a shorter name.");
          break;
        case G_FILE_ERROR_NOSPC:
          reason = _("the disk is full");
          advice = _("Free some space, or choose another disk.");
          break;
        default:
          break;
        }
      /* TRANSLATORS: "Could not write S-1-report.pdf: permission denied. Choose another
       * folder." */
      return g_strdup_printf (_("Could not write %s: %s. %s"), shown, reason, advice);
    }
  if (g_error_matches (error, SS_REPORT_HL7_ERROR, SS_REPORT_HL7_ERROR_NO_PATIENT))
    /* TRANSLATORS: "Case Details" is the dialog the toast's button opens (Case Details…) */
    return g_strdup_printf (_("HL7 needs a patient reference; case %s has none. Add it in "
                              "Case Details."), job->accession);
  if (g_error_matches (error, SS_REPORT_HL7_ERROR, SS_REPORT_HL7_ERROR_NOTHING_COUNTED))
    return g_strdup_printf (_("Case %s has no counted white cell: an HL7 message would hold "
                              "no percentages."), job->accession);
  /* TRANSLATORS: %s is the accession, then the case store's explanation */
  return g_strdup_printf (_("Could not export case %s: %s"), job->accession, error->message);
}

static void
ss_window_export_done (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  SsWindow *self = SS_WINDOW (source);
  GTask *task = G_TASK (result);
  const ExportJob *job = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  g_application_release (G_APPLICATION (self->app));
  if (!g_task_propagate_boolean (task, &error))
    {
      /* the window has gone: the file is written or not, but nobody is there to tell */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      g_autofree char *message = ss_window_export_explain (job, error);
      AdwToast *toast = adw_toast_new (message);

      /* longer than a note: it asks for something to be done */
      adw_toast_set_timeout (toast, 15);
      /* a file that could not be written: the same export again, in another folder */
      if (error->domain == G_FILE_ERROR)
        {
          adw_toast_set_button_label (toast, _("Choose Folder…"));
          if (job->kind == EXPORT_PDF)
            adw_toast_set_action_name (toast, "win.export-report");
          else
            {
              adw_toast_set_action_name (toast, "win.export-data");
              adw_toast_set_action_target_value (toast,
                                                 g_variant_new_string (ss_report_format_name (job->kind)));
            }
        }
      else if (g_error_matches (error, SS_REPORT_HL7_ERROR, SS_REPORT_HL7_ERROR_NO_PATIENT))
        {
          adw_toast_set_button_label (toast, _("Case Details…"));
          adw_toast_set_action_name (toast, "win.case-details");
        }
      adw_toast_overlay_add_toast (self->toast_overlay, toast);
      g_message ("%s (%s: %s)", message, job->path, error->message);
      return;
    }

  g_autoptr (GFile) file = g_file_new_for_path (job->path);
  g_autofree char *uri = g_file_get_uri (file);
  g_autofree char *name = g_path_get_basename (job->path);
  g_autofree char *shown = g_filename_display_name (name);
  g_autofree char *message = g_strdup_printf (_(export_kinds[job->kind].saved), shown);
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 10);
  /* TRANSLATORS: the button of the toast "Report saved to …": open the file */
  adw_toast_set_button_label (toast, C_("toast button", "Open"));
  adw_toast_set_action_name (toast, "win.open-export");
  adw_toast_set_action_target_value (toast, g_variant_new_string (uri));
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
  g_message ("%s (%s)", message, job->path);
}

static void
ss_window_export_start (SsWindow   *self,
                        guint       kind,
                        const char *path)
{
  SsStore *store = ss_case_document_get_store (self->document);
  ExportJob *job = g_new0 (ExportJob, 1);
  g_autofree char *paper = g_settings_get_string (self->settings, "report-paper");

  job->kind = kind;
  job->store_path = g_strdup (ss_store_get_path (store));
  job->accession = g_strdup (ss_case_document_get_accession (self->document));
  job->path = g_strdup (path);
  job->threshold = g_settings_get_double (self->settings, "blast-threshold");
  job->unsure_below = g_settings_get_double (self->settings, "unsure-below");
  job->lab_name = g_settings_get_string (self->settings, "report-lab-name");
  if (!ss_report_paper_from_name (paper, &job->paper))
    job->paper = SS_REPORT_PAPER_A4;

  g_autoptr (GTask) task = g_task_new (self, self->exports, ss_window_export_done, NULL);
  g_task_set_source_tag (task, ss_window_export_start);
  g_task_set_task_data (task, job, export_job_free);
  /* a window closed right after Export still gets its file written */
  g_application_hold (G_APPLICATION (self->app));
  /* the user waits for it, but the field on screen is decoded first */
  ss_background_run (task, SS_BACKGROUND_SOON, ss_window_export_thread);
}

static void
ss_window_export_response (GtkNativeDialog *chooser,
                           int              response,
                           gpointer         user_data)
{
  SsWindow *self = user_data;
  guint kind = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (chooser), "export-kind"));

  if (response == GTK_RESPONSE_ACCEPT && self->document != NULL)
    {
      g_autoptr (GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path == NULL)
        ss_window_show_message (self, _("Choose a folder on this computer: the export is "
                                        "written as a local file."));
      else
        {
          g_clear_object (&self->export_folder);
          self->export_folder = g_file_get_parent (file);
          ss_window_export_start (self, kind, path);
        }
    }
  g_object_unref (chooser);
  /* opened from a submenu, the dialog leaves the keyboard in the closed menu (GTK 4.8:
   * no shortcut of the window worked after it): back to the review */
  ss_window_focus_review (self);
}

/* The save dialog for an export of the open case, in the folder of the last export (at
 * first the documents folder), with the case's accession in the suggested name. */
static void
ss_window_export_choose (SsWindow *self,
                         guint     kind)
{
  const ExportKind *what = &export_kinds[kind];

  if (self->document == NULL)
    return;

  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_(what->title), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);

  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();
  g_autofree char *pattern = g_strdup_printf ("*.%s", what->extension);
  /* TRANSLATORS: a file filter, e.g. "CSV files (*.csv)" */
  g_autofree char *filter_name = g_strdup_printf (_("%s (%s)"), _(what->filter_name), pattern);
  gtk_file_filter_set_name (filter, filter_name);
  gtk_file_filter_add_suffix (filter, what->extension);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (chooser), filter);

  g_autoptr (GFile) folder = NULL;
  if (self->export_folder != NULL)
    folder = g_object_ref (self->export_folder);
  else
    {
      const char *documents = g_get_user_special_dir (G_USER_DIRECTORY_DOCUMENTS);
      folder = g_file_new_for_path (documents != NULL && g_file_test (documents, G_FILE_TEST_IS_DIR)
                                    ? documents : g_get_home_dir ());
    }
  gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (chooser), folder, NULL);
  g_autofree char *name = ss_window_export_suggested_name (ss_case_document_get_accession (self->document),
                                                           kind);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);

  g_object_set_data (G_OBJECT (chooser), "export-kind", GUINT_TO_POINTER (kind));
  g_signal_connect (chooser, "response", G_CALLBACK (ss_window_export_response), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
action_export_report (GtkWidget  *widget,
                      const char *name,
                      GVariant   *param)
{
  ss_window_export_choose (SS_WINDOW (widget), EXPORT_PDF);
}

static void
action_export_data (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  SsReportFormat format;

  if (ss_report_format_from_name (g_variant_get_string (param, NULL), &format))
    ss_window_export_choose (SS_WINDOW (widget), format);
  else
    g_warning ("win.export-data: no format '%s'", g_variant_get_string (param, NULL));
}

static void
ss_window_export_opened (GObject      *source,
                         GAsyncResult *result,
                         gpointer      user_data)
{
  g_autoptr (SsWindow) self = user_data;
  g_autoptr (GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    {
      g_autofree char *message = g_strdup_printf (_("The file cannot be opened here: %s"),
                                                  error->message);
      ss_window_show_message (self, message);
    }
}

/* The toast's Open button: the file in the application the desktop opens it with. */
static void
action_open_export (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  g_autoptr (GdkAppLaunchContext) context =
    gdk_display_get_app_launch_context (gtk_widget_get_display (widget));

  g_app_info_launch_default_for_uri_async (g_variant_get_string (param, NULL),
                                           G_APP_LAUNCH_CONTEXT (context), NULL,
                                           ss_window_export_opened, g_object_ref (widget));
}

void
ss_window_install_export_actions (SsWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_install_action (widget_class, "win.export-report", NULL, action_export_report);
  /* the parameter: a format name of ss-report-export.h ("cells-csv", "hl7", ...) */
  gtk_widget_class_install_action (widget_class, "win.export-data", "s", action_export_data);
  /* the parameter: the URI of the file written */
  gtk_widget_class_install_action (widget_class, "win.open-export", "s", action_open_export);
}
