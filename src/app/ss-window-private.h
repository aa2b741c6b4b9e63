/* What ss-window.c and ss-window-actions.c share. */
#pragma once

#include "ss-analysis-job.h"
#include "ss-case-document.h"
#include "ss-cell-gallery.h"
#include "ss-count-panel.h"
#include "ss-field-strip.h"
#include "ss-slide-view.h"
#include "ss-viewer-state.h"
#include "ss-window.h"

G_BEGIN_DECLS

struct _SsWindow
{
  AdwApplicationWindow  parent_instance;

  SsApplication        *app;
  GSettings            *settings;
  SsViewerState        *state;
  SsCaseDocument       *document;
  SsAnalysisJob        *job;
  GtkStringList        *case_names;
  GHashTable           *cases;          /* accession -> SsCase */
  GtkFilter            *case_filter;
  AdwToast             *draw_hint;      /* shown while drawing a cell; not owned */
  GFile                *export_folder;  /* where the last export went: the next starts there */
  GCancellable         *exports;        /* cancelled when the window goes: no toast then */
  GCancellable         *reconnecting;   /* while a try to reach the case server runs */
  guint                 retry_source;   /* the next try, a second after the last failed */
  guint                 server_hide_source;  /* hides "Reconnected" */
  gboolean              change_lost;    /* a change failed while the server was away */
  /* the command line, while it waits for the case server: its accession (may be NULL)
   * and its files (GFile); pending_files NULL when nothing waits */
  char                 *pending_accession;
  GPtrArray            *pending_files;
  /* a window narrower than SS_WINDOW_FOLD_WIDTH folds the case list away (the idle that
   * does it after an allocation); it comes back as it was when the window widens */
  guint                 fold_source;
  gboolean              folded;
  gboolean              folding;         /* while the fold itself shows or hides it */
  gboolean              sidebar_before_fold;

  /* template children */
  AdwToastOverlay      *toast_overlay;
  GtkWidget            *title_button;
  AdwWindowTitle       *window_title;
  GtkWidget            *sidebar;
  GtkWidget            *sidebar_button;  /* pressed while the case list shows */
  GtkPaned             *outer_paned;
  GtkSearchEntry       *case_search;
  GtkDropDown          *status_filter;
  GtkListView          *case_list;
  GtkStack             *case_list_stack;  /* the list, or case_list_empty when it is empty */
  GtkLabel             *case_list_empty;
  GtkStack             *main_stack;
  AdwStatusPage        *empty_page;
  GtkRevealer          *server_revealer;
  GtkLabel             *server_label;
  GtkRevealer          *signed_revealer;
  GtkLabel             *signed_label;
  GtkRevealer          *progress_revealer;
  GtkLabel             *progress_label;
  GtkProgressBar       *progress_bar;
  GtkWidget            *review_pane;
  GtkAdjustment        *dim_adjustment;
  GtkWidget            *truth_button;   /* shown only for a case with imported truth */
  GtkWidget            *dim_label;      /* hidden while truth_button is shown: the
                                         * toolbar keeps its width (the scale has a
                                         * tooltip) */
  SsSlideView          *slide_view;
  SsFieldStrip         *field_strip;
  SsCountPanel         *count_panel;
  SsCellGallery        *cell_gallery;
};

void ss_window_install_actions  (SsWindowClass *klass);
/* The export actions (ss-window-export.c): win.export-report writes the case report as
 * PDF, win.export-data (a format name of ss-report-export.h) one of the exchange files. */
void ss_window_install_export_actions (SsWindowClass *klass);
void ss_window_update_actions   (SsWindow      *self);
void ss_window_reload_cases     (SsWindow      *self);
/* An error of what the person just did (a server away: "your last change was not
 * saved"), or of a reading the window made by itself */
void ss_window_show_error       (SsWindow      *self,
                                 const GError  *error);
void ss_window_show_read_error  (SsWindow      *self,
                                 const GError  *error);
/* The case server away (ss-window-server.c): when error says so, the bar across the top
 * says it (and, change_lost, that the last change was not saved), the window tries
 * again by itself, and TRUE; FALSE for any other error. */
gboolean ss_window_store_away   (SsWindow      *self,
                                 const GError  *error,
                                 gboolean       change_lost);
/* The same from a dialog: the main window it stands over (through other dialogs) */
gboolean ss_window_store_away_from (GtkWindow    *dialog,
                                    const GError *error,
                                    gboolean      change_lost);
void ss_window_server_dispose   (SsWindow      *self);
/* Put the keyboard in the review pane (gallery) so that the digits act. */
void ss_window_focus_review     (SsWindow      *self);
void ss_window_update_draw_hint (SsWindow      *self);
/* A case's status as the window shows it: "Open", "Reviewed", "Signed". */
const char *ss_window_case_status_display (SsCaseStatus status);

G_END_DECLS
