/* Improve the Model from This Lab's Corrections; see ss-learn-dialog.h. It opens on the
 * cases to learn from (read on a worker thread; those with reviewed cells, all chosen at
 * first). The learning runs in a GTask thread on a store connection of its own; Cancel is
 * heard between its steps and between two fields read, and a run cancelled before its
 * last step records nothing. The threads have their own copies of what they read: the
 * dialog may be destroyed under them (with its parent, or at quit), which cancels them. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-lab-model.h"
#include "ss-learn-dialog.h"
#include "ss-window-private.h"

struct _SsLearnDialog
{
  AdwWindow         parent_instance;

  SsStore          *store;
  char             *user;
  GCancellable     *cancellable;
  SsLabLearnResult *result;
  gboolean          running;
  gboolean          disposed;

  GtkStack         *stack;
  GtkLabel         *choose_label;
  GtkListBox       *case_list;
  GtkLabel         *chosen_label;
  GtkButton        *choose_cancel_button;
  GtkButton        *learn_button;
  GPtrArray        *case_checks;   /* GtkCheckButton *, each with its "accession" and
                                    * "cells" (what its case teaches) */
  GtkLabel         *progress_label;
  GtkProgressBar   *progress_bar;
  GtkButton        *cancel_button;
  GtkLabel         *verdict_label;
  AdwActionRow     *held_back_row;
  AdwActionRow     *reference_row;
  AdwActionRow     *taught_row;
  AdwActionRow     *earlier_row;
  GtkLabel         *error_label;
  GtkButton        *keep_button;
  GtkButton        *use_button;
};

G_DEFINE_FINAL_TYPE (SsLearnDialog, ss_learn_dialog, ADW_TYPE_WINDOW)

enum {
  MODEL_CHANGED,
  OFFERED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Progress from the worker thread, shown in the main loop. */
typedef struct {
  SsLearnDialog *dialog;
  double         fraction;
  char          *message;
} SsLearnProgress;

static gboolean
ss_learn_dialog_show_progress (gpointer data)
{
  SsLearnProgress *progress = data;
  SsLearnDialog *self = progress->dialog;

  if (!self->disposed && self->running && !g_cancellable_is_cancelled (self->cancellable))
    {
      gtk_progress_bar_set_fraction (self->progress_bar, progress->fraction);
      gtk_label_set_text (self->progress_label, progress->message);
    }
  g_object_unref (progress->dialog);
  g_free (progress->message);
  g_free (progress);
  return G_SOURCE_REMOVE;
}

static void
ss_learn_dialog_progress (double      fraction,
                          const char *message,
                          gpointer    user_data)
{
  SsLearnProgress *progress = g_new0 (SsLearnProgress, 1);

  progress->dialog = g_object_ref (user_data);
  progress->fraction = fraction;
  progress->message = g_strdup_printf ("%s…", message);
  g_idle_add (ss_learn_dialog_show_progress, progress);
}

/* What the thread reads, its own copies */
typedef struct {
  char  *location;
  char  *user;
  char **accessions;   /* the cases chosen */
} SsLearnJob;

static void
ss_learn_job_free (SsLearnJob *job)
{
  g_free (job->location);
  g_free (job->user);
  g_strfreev (job->accessions);
  g_free (job);
}

static void
ss_learn_dialog_thread (GTask        *task,
                        gpointer      source_object,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  const SsLearnJob *job = task_data;
  g_autoptr (GError) error = NULL;
  /* the progress callback refs the dialog (the task holds it alive meanwhile) */
  SsLabLearnResult *result = ss_lab_learn (job->location, NULL, job->user,
                                           (const char *const *) job->accessions, cancellable,
                                           ss_learn_dialog_progress, source_object, &error);

  if (result == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, result, (GDestroyNotify) ss_lab_learn_result_free);
}

/* The button that leaves the model in use as it is: Keep the Current One beside Use
 * This Model, else Close. */
static void
ss_learn_dialog_set_keep_label (SsLearnDialog *self,
                                gboolean       offered)
{
  gtk_button_set_label (self->keep_button, offered ? _("_Keep the Current One") : _("_Close"));
}

/* "0.55 → 0.80 (20 cells)" */
static char *
ss_learn_dialog_figures (double before,
                         double after,
                         int    n)
{
  /* Translators: the model's figure, then the candidate's, then how many cells */
  return g_strdup_printf (ngettext ("model %.2f → candidate %.2f (%d cell)",
                                    "model %.2f → candidate %.2f (%d cells)", n),
                          before, after, n);
}

static void
ss_learn_dialog_show_result (SsLearnDialog *self)
{
  const SsLabLearnResult *r = self->result;
  const SsLearnVerdict *v = &r->verdict;
  g_autofree char *held = ss_learn_dialog_figures (v->back_before, v->back_after, v->n_back);
  g_autofree char *reference = ss_learn_dialog_figures (v->reference_before, v->reference_after,
                                                        v->n_reference);
  g_autofree char *with_margin = g_strdup_printf (_("%s; it may be at most %.2f worse"),
                                                  reference, r->margin);
  /* Translators: how many cells, of which classes ("neutrophil 12, basophil 2"), from
   * which cases */
  g_autofree char *taught = g_strdup_printf (ngettext ("%d reviewed cell (%s) from %s; %d of "
                                                       "them held back for the check",
                                                       "%d reviewed cells (%s) from %s; %d of "
                                                       "them held back for the check",
                                                       v->n_learn + v->n_back),
                                             v->n_learn + v->n_back, r->taught, r->cases,
                                             v->n_back);
  adw_action_row_set_subtitle (self->held_back_row, held);
  adw_action_row_set_subtitle (self->reference_row, with_margin);
  /* pictures left out (moved, or changed since they were analysed): how many, and the
   * first one's reason in full in the tooltip */
  g_autofree char *taught_skipped = NULL;
  if (r->skipped != NULL && r->skipped->len > 0)
    {
      /* Translators: what was taught, then how many pictures could not be read */
      taught_skipped = g_strdup_printf (ngettext ("%s; %u picture left out: it moved or changed "
                                                  "since it was analysed",
                                                  "%s; %u pictures left out: they moved or "
                                                  "changed since they were analysed",
                                                  r->skipped->len),
                                        taught, r->skipped->len);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->taught_row),
                                   g_ptr_array_index (r->skipped, 0));
    }
  adw_action_row_set_subtitle (self->taught_row, taught_skipped != NULL ? taught_skipped : taught);
  /* the cells the lab taught the model in use before, from cases not chosen now */
  gtk_widget_set_visible (GTK_WIDGET (self->earlier_row), v->n_earlier > 0);
  if (v->n_earlier > 0)
    {
      g_autofree char *figures = ss_learn_dialog_figures (v->earlier_before, v->earlier_after,
                                                          v->n_earlier);
      /* Translators: the figures ("model 0.95 → candidate 0.90 (12 cells)"), cases, margin */
      g_autofree char *earlier = g_strdup_printf (_("%s, of %s; it may be at most %.2f worse"),
                                                  figures, r->earlier_cases, r->margin);
      adw_action_row_set_subtitle (self->earlier_row, earlier);
    }

  const char *verdict;
  g_autofree char *verdict_text = NULL;
  if (v->offered && v->camera_head)
    /* Translators: the held-back cells, all of them, the reference cells, all of them */
    verdict = verdict_text = g_strdup_printf (
      _("The candidate is better on this lab’s held-back cells and keeps what the model "
        "knew: what it learned here answers only for cells that look like this lab’s "
        "camera (%d of %d held-back cells, %d of %d reference cells). It is saved in the "
        "case store as offered. Use it for new analyses?"),
      v->gate_back, v->n_back, v->gate_reference, v->n_reference);
  else if (v->offered)
    verdict = _("The candidate is better on this lab’s held-back cells and keeps what the "
                "model knew. It is saved in the case store as offered. Use it for new "
                "analyses?");
  else if (!v->better_on_lab)
    verdict = _("Not offered: the candidate does not call this lab’s held-back cells better "
                "than the model in use. Review more cells, then try again. The model in use "
                "stays.");
  else if (!v->within_margin)
    verdict = _("Not offered: the candidate forgets too much of what the model knew (it "
                "calls the reference cells worse than the margin allows). The model in use "
                "stays.");
  else
    verdict = verdict_text = g_strdup_printf (
      /* Translators: %s lists the cases */
      _("Not offered: the candidate forgets what this lab taught the model in use before, "
        "from %s. Choose those cases too, so that it learns from both. The model in use "
        "stays."), r->earlier_cases);
  gtk_label_set_text (self->verdict_label, verdict);
  gtk_widget_set_visible (GTK_WIDGET (self->use_button), v->offered);
  ss_learn_dialog_set_keep_label (self, v->offered);
  gtk_stack_set_visible_child_name (self->stack, "result");
  gtk_widget_grab_focus (GTK_WIDGET (v->offered ? self->use_button : self->keep_button));
}

static void
ss_learn_dialog_show_failure (SsLearnDialog *self,
                              const GError  *error)
{
  /* Translators: %s says why */
  g_autofree char *message = g_strdup_printf (_("The model could not be improved: %s"),
                                              error->message);
  /* a case server away: the main window's bar says so and it tries again by itself */
  ss_window_store_away_from (GTK_WINDOW (self), error, FALSE);
  gtk_label_set_text (self->verdict_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->held_back_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->reference_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->taught_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->earlier_row), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->use_button), FALSE);
  ss_learn_dialog_set_keep_label (self, FALSE);
  gtk_stack_set_visible_child_name (self->stack, "result");
  gtk_widget_grab_focus (GTK_WIDGET (self->keep_button));
}

static void
ss_learn_dialog_done (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsLabLearnResult) learned = g_task_propagate_pointer (G_TASK (result), &error);

  self->running = FALSE;
  if (self->disposed)
    return;  /* destroyed meanwhile: nobody to tell (a candidate recorded stays offered) */
  /* a Cancel that came during the last step (recording the candidate) is too late: the
   * candidate is in the store, and the dialog says so */
  if (learned == NULL
      && (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
          || g_cancellable_is_cancelled (self->cancellable)))
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  if (learned == NULL)
    {
      ss_learn_dialog_show_failure (self, error);
      return;
    }
  self->result = g_steal_pointer (&learned);
  if (self->result->model_id > 0)
    g_signal_emit (self, signals[OFFERED], 0);
  ss_learn_dialog_show_result (self);
}

/* The accessions of the cases chosen (NULL-terminated), and in *n_cells how many cells
 * they teach */
static GStrv
ss_learn_dialog_chosen (SsLearnDialog *self,
                        int           *n_cells)
{
  g_autoptr (GStrvBuilder) chosen = g_strv_builder_new ();

  *n_cells = 0;
  for (guint i = 0; i < self->case_checks->len; i++)
    {
      GtkCheckButton *check = g_ptr_array_index (self->case_checks, i);
      if (gtk_check_button_get_active (check))
        {
          g_strv_builder_add (chosen, g_object_get_data (G_OBJECT (check), "accession"));
          *n_cells += GPOINTER_TO_INT (g_object_get_data (G_OBJECT (check), "cells"));
        }
    }
  return g_strv_builder_end (chosen);
}

/* How many cases are chosen and how many cells they teach; Learn only with one chosen. */
static void
ss_learn_dialog_update_chosen (SsLearnDialog *self)
{
  int n_cells;
  g_auto (GStrv) chosen = ss_learn_dialog_chosen (self, &n_cells);
  const int n_cases = (int) g_strv_length (chosen);

  /* Translators: "2 cases chosen", followed by ", 45 reviewed cells" */
  g_autofree char *cases = g_strdup_printf (ngettext ("%d case chosen", "%d cases chosen",
                                                      n_cases), n_cases);
  /* Translators: "2 cases chosen, 45 reviewed cells" */
  g_autofree char *text = g_strdup_printf (ngettext ("%s, %d reviewed cell", "%s, %d reviewed cells",
                                                     n_cells), cases, n_cells);
  gtk_label_set_text (self->chosen_label, text);
  gtk_widget_set_sensitive (GTK_WIDGET (self->learn_button), n_cases > 0);
}

/* One row of the chooser: the case, what it teaches, a check box (chosen when it
 * teaches anything; a case that teaches nothing cannot be chosen). */
static void
ss_learn_dialog_add_case (SsLearnDialog *self,
                          const SsCase  *c,
                          int            teaches)
{
  const char *status = ss_window_case_status_display (c->status);
  g_autofree char *subtitle = NULL;

  if (c->status == SS_CASE_SIGNED && teaches > 0)
    /* Translators: the case's status ("Signed"), then how many of its cells teach */
    subtitle = g_strdup_printf (ngettext ("%s · %d cell, confirmed by the sign-off",
                                          "%s · %d cells, confirmed by the sign-off", teaches),
                                status, teaches);
  else if (teaches > 0)
    /* Translators: the case's status ("Open"), then how many of its cells were reviewed */
    subtitle = g_strdup_printf (ngettext ("%s · %d cell reviewed", "%s · %d cells reviewed",
                                          teaches),
                                status, teaches);
  else
    /* Translators: the case's status ("Open") */
    subtitle = g_strdup_printf (_("%s · no cell reviewed yet"), status);

  GtkWidget *check = gtk_check_button_new ();
  gtk_widget_set_valign (check, GTK_ALIGN_CENTER);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (check), teaches > 0);
  g_object_set_data_full (G_OBJECT (check), "accession", g_strdup (c->accession), g_free);
  g_object_set_data (G_OBJECT (check), "cells", GINT_TO_POINTER (teaches));
  g_signal_connect_swapped (check, "toggled", G_CALLBACK (ss_learn_dialog_update_chosen), self);

  GtkWidget *row = adw_action_row_new ();
  /* plain text: an accession number may hold & or < */
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), c->accession);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);
  /* which also names the check box after the row's title, for assistive tools */
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), check);
  gtk_widget_set_sensitive (row, teaches > 0);
  gtk_widget_set_sensitive (check, teaches > 0);  /* said to assistive tools as well */
  gtk_list_box_append (self->case_list, row);
  g_ptr_array_add (self->case_checks, check);
}

/* The store's cases and what each teaches, read on a worker thread: counting them reads
 * every cell of the store, which a lab's store of a year holds by the hundred thousand. */
typedef struct {
  GPtrArray  *cases;    /* SsCase * */
  GHashTable *taught;   /* accession -> cells it teaches */
} SsLearnCases;

static void
ss_learn_cases_free (SsLearnCases *read)
{
  g_clear_pointer (&read->cases, g_ptr_array_unref);
  g_clear_pointer (&read->taught, g_hash_table_unref);
  g_free (read);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsLearnCases, ss_learn_cases_free)

static void
ss_learn_dialog_read_cases (GTask        *task,
                            gpointer      source_object,
                            gpointer      task_data,
                            GCancellable *cancellable)
{
  g_autoptr (GError) error = NULL;
  /* a connection of its own: the window's is the main thread's */
  g_autoptr (SsStore) store = ss_store_open (task_data, SS_STORE_OPEN_READ_ONLY, &error);
  g_autoptr (SsLearnCases) read = g_new0 (SsLearnCases, 1);

  /* the dialog closed meanwhile: the count, the long step, is not started */
  if (store != NULL && (read->cases = ss_store_list_cases (store, &error)) != NULL
      && !g_cancellable_set_error_if_cancelled (cancellable, &error))
    read->taught = ss_store_taught_per_case (store, &error);
  if (read->taught == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_steal_pointer (&read), (GDestroyNotify) ss_learn_cases_free);
}

/* The chooser's rows, once read; the failure shown when the store could not be read. */
static void
ss_learn_dialog_fill_cases (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (source);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsLearnCases) read = g_task_propagate_pointer (G_TASK (result), &error);

  if (self->disposed)
    return;  /* closed before the cases were read */
  if (read == NULL)
    {
      ss_learn_dialog_show_failure (self, error);
      return;
    }
  GPtrArray *cases = read->cases;
  int n_teaching = 0;
  for (guint i = 0; i < cases->len; i++)
    {
      const SsCase *c = g_ptr_array_index (cases, i);
      int n = GPOINTER_TO_INT (g_hash_table_lookup (read->taught, c->accession));
      ss_learn_dialog_add_case (self, c, n);
      n_teaching += n > 0;
    }
  if (n_teaching == 0)
    gtk_label_set_text (self->choose_label,
                        _("No case has reviewed cells yet. Relabel or confirm cells as you "
                          "review them (or sign a case off), then come back: the model learns "
                          "from what people have checked."));
  gtk_widget_set_visible (GTK_WIDGET (self->case_list), cases->len > 0);
  ss_learn_dialog_update_chosen (self);
  gtk_widget_grab_focus (GTK_WIDGET (gtk_widget_get_sensitive (GTK_WIDGET (self->learn_button))
                                     ? self->learn_button : self->choose_cancel_button));
}

/* Learn: the run starts on the cases chosen */
static void
ss_learn_dialog_start (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (widget);
  int n_cells;

  if (self->running || self->result != NULL)
    return;
  g_auto (GStrv) chosen = ss_learn_dialog_chosen (self, &n_cells);
  if (chosen[0] == NULL)
    return;

  self->running = TRUE;
  gtk_label_set_text (self->progress_label, _("Starting…"));
  gtk_stack_set_visible_child_name (self->stack, "running");
  gtk_widget_grab_focus (GTK_WIDGET (self->cancel_button));

  SsLearnJob *job = g_new0 (SsLearnJob, 1);
  job->location = g_strdup (ss_store_get_path (self->store));
  job->user = g_strdup (self->user);
  job->accessions = g_steal_pointer (&chosen);
  GTask *task = g_task_new (self, self->cancellable, ss_learn_dialog_done, NULL);
  g_task_set_source_tag (task, ss_learn_dialog_start);
  /* a result that came despite a Cancel (the candidate was being recorded) is shown */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, job, (GDestroyNotify) ss_learn_job_free);
  g_task_run_in_thread (task, ss_learn_dialog_thread);
  g_object_unref (task);
}

static void
ss_learn_dialog_cancel (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (widget);

  if (!self->running)
    {
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  g_cancellable_cancel (self->cancellable);
  gtk_label_set_text (self->progress_label,
                      _("Stopping; nothing will be recorded unless the candidate is already "
                        "being recorded…"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->cancel_button), FALSE);
}

static void
ss_learn_dialog_use (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (widget);
  g_autoptr (GError) error = NULL;

  if (self->result == NULL || self->result->model_id == 0)
    return;
  if (!ss_store_use_lab_model (self->store, self->result->model_id, self->user, &error))
    {
      /* Translators: %s is the case store's own explanation */
      g_autofree char *message = g_strdup_printf (_("The model was not put in use: %s"),
                                                  error->message);
      ss_window_store_away_from (GTK_WINDOW (self), error, TRUE);
      gtk_label_set_text (self->error_label, message);
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return;
    }
  g_signal_emit (self, signals[MODEL_CHANGED], 0);
  gtk_window_destroy (GTK_WINDOW (self));
}

static gboolean
ss_learn_dialog_close_request (GtkWindow *window)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (window);

  /* Escape while it runs is Cancel: the dialog goes once the run has stopped */
  if (self->running)
    {
      ss_learn_dialog_cancel (GTK_WIDGET (self), NULL, NULL);
      return TRUE;
    }
  return FALSE;
}

static void
ss_learn_dialog_dispose (GObject *object)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (object);

  /* destroyed while it runs (its parent closed, or quit): the run stops at its next
   * step, and what it reports later goes nowhere */
  self->disposed = TRUE;
  g_cancellable_cancel (self->cancellable);
  /* the check boxes go with the template: none is looked at again */
  if (self->case_checks != NULL)
    g_ptr_array_set_size (self->case_checks, 0);
  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_LEARN_DIALOG);
  g_clear_object (&self->store);
  g_clear_pointer (&self->result, ss_lab_learn_result_free);

  G_OBJECT_CLASS (ss_learn_dialog_parent_class)->dispose (object);
}

static void
ss_learn_dialog_finalize (GObject *object)
{
  SsLearnDialog *self = SS_LEARN_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->case_checks, g_ptr_array_unref);
  g_free (self->user);

  G_OBJECT_CLASS (ss_learn_dialog_parent_class)->finalize (object);
}

static void
ss_learn_dialog_class_init (SsLearnDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->dispose = ss_learn_dialog_dispose;
  object_class->finalize = ss_learn_dialog_finalize;
  window_class->close_request = ss_learn_dialog_close_request;

  signals[MODEL_CHANGED] =
    g_signal_new ("model-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[OFFERED] =
    g_signal_new ("offered", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/smearscope/Smearscope/ss-learn-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, choose_label);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, case_list);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, chosen_label);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, choose_cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, learn_button);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, progress_label);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, verdict_label);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, held_back_row);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, reference_row);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, taught_row);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, earlier_row);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, keep_button);
  gtk_widget_class_bind_template_child (widget_class, SsLearnDialog, use_button);
  gtk_widget_class_install_action (widget_class, "learn.start", NULL, ss_learn_dialog_start);
  gtk_widget_class_install_action (widget_class, "learn.cancel", NULL, ss_learn_dialog_cancel);
  gtk_widget_class_install_action (widget_class, "learn.use", NULL, ss_learn_dialog_use);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ss_learn_dialog_init (SsLearnDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->case_checks = g_ptr_array_new ();
}

SsLearnDialog *
ss_learn_dialog_new (GtkWindow  *parent,
                     SsStore    *store,
                     const char *user)
{
  g_return_val_if_fail (SS_IS_STORE (store), NULL);

  SsLearnDialog *self = g_object_new (SS_TYPE_LEARN_DIALOG,
                                      "transient-for", parent,
                                      NULL);
  self->store = g_object_ref (store);
  self->user = g_strdup (user);
  gtk_label_set_text (self->chosen_label, _("Reading the cases…"));
  /* the rows come when the cases are read; until then nothing can be learned */
  gtk_widget_set_sensitive (GTK_WIDGET (self->learn_button), FALSE);
  gtk_widget_grab_focus (GTK_WIDGET (self->choose_cancel_button));
  GTask *task = g_task_new (self, self->cancellable, ss_learn_dialog_fill_cases, NULL);
  g_task_set_source_tag (task, ss_learn_dialog_new);
  g_task_set_task_data (task, g_strdup (ss_store_get_path (store)), g_free);
  g_task_run_in_thread (task, ss_learn_dialog_read_cases);
  g_object_unref (task);
  return self;
}
