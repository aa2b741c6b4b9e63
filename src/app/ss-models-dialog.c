/* Cell-Type Models…; see ss-models-dialog.h. The list is read again from the store after
 * every change, so that it shows what the store holds, not what the dialog thinks. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-learn-dialog.h"
#include "ss-models-dialog.h"
#include "ss-window-private.h"

struct _SsModelsDialog
{
  AdwWindow            parent_instance;

  SsStore             *store;
  char                *user;
  char                *shipped_name;
  GPtrArray           *rows;       /* GtkWidget*: the rows in models_group */

  GtkButton           *rollback_button;
  GtkButton           *improve_button;
  GtkLabel            *error_label;
  AdwPreferencesGroup *models_group;
};

G_DEFINE_FINAL_TYPE (SsModelsDialog, ss_models_dialog, ADW_TYPE_WINDOW)

enum {
  MODEL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
ss_models_dialog_show_error (SsModelsDialog *self,
                             const char     *what,
                             const GError   *error,
                             gboolean        change_lost)
{
  g_autofree char *message = g_strdup_printf ("%s: %s", what, error->message);

  /* a case server away: the window behind says so in its bar and tries again by
   * itself, as for its own errors */
  ss_window_store_away_from (GTK_WINDOW (self), error, change_lost);

  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
}

/* "In use" beside the row of the model in use, a Use button beside the others. */
static void
ss_models_dialog_add_suffix (SsModelsDialog *self,
                             AdwActionRow   *row,
                             gboolean        in_use,
                             gint64          id,
                             const char     *name)
{
  if (in_use)
    {
      GtkWidget *label = gtk_label_new (_("In use"));
      gtk_widget_add_css_class (label, "success");
      gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
      adw_action_row_add_suffix (row, label);
      return;
    }
  if (id == 0)
    return;  /* the shipped model comes back by Roll Back */
  GtkWidget *button = gtk_button_new_with_mnemonic (_("_Use"));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "models.use");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "x", id);
  /* Translators: %s is a model's name */
  g_autofree char *label = g_strdup_printf (_("Use %s"), name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  adw_action_row_add_suffix (row, button);
}

static char *
ss_models_dialog_describe (const SsLabModel *m)
{
  g_autoptr (GString) text = g_string_new (NULL);
  /* Translators: the guard's figures: the lab's held-back cells called right by the
   * model it was taught from and by this one, then the reference cells */
  g_string_append_printf (text, _("Held-back cells %.2f → %.2f (%d); reference %.2f → %.2f "
                                  "(%d, margin %.2f)"),
                          m->back_before, m->back_after, m->n_back, m->reference_before,
                          m->reference_after, m->n_reference, m->margin);
  if (m->n_earlier > 0)
    {
      g_string_append (text, "; ");
      /* Translators: the guard's third figure: the cells the lab taught before, in cases
       * it was not taught this time, called right before and after; %s: those cases */
      g_string_append_printf (text, _("taught before (%s) %.2f → %.2f (%d)"), m->earlier_cases,
                              m->earlier_before, m->earlier_after, m->n_earlier);
    }
  g_string_append_c (text, '\n');
  /* Translators: how many reviewed cells, of which classes, from which cases */
  g_string_append_printf (text, ngettext ("Taught %d cell (%s) from %s", "Taught %d cells (%s) from %s",
                                          m->n_cells),
                          m->n_cells, m->taught, m->cases);
  g_string_append_c (text, '\n');
  g_string_append_printf (text, _("Offered by %s on %.10s"), m->offered_by, m->offered_at);
  if (m->adopted_by != NULL)
    {
      g_string_append (text, "; ");
      g_string_append_printf (text, _("adopted by %s on %.10s"), m->adopted_by, m->adopted_at);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static void
ss_models_dialog_reload (SsModelsDialog *self)
{
  g_autoptr (GError) error = NULL;
  gint64 in_use = 0;
  g_autoptr (GPtrArray) models = ss_store_list_lab_models (self->store, &in_use, &error);

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->models_group, self->rows->pdata[i]);
  g_ptr_array_set_size (self->rows, 0);
  if (models == NULL)
    {
      ss_models_dialog_show_error (self, _("The models cannot be listed"), error, FALSE);
      return;
    }

  AdwActionRow *shipped = ADW_ACTION_ROW (adw_action_row_new ());
  /* Translators: %s is the model file's name */
  g_autofree char *shipped_title = g_strdup_printf (_("Shipped model (%s)"), self->shipped_name);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (shipped), shipped_title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (shipped), FALSE);
  adw_action_row_set_subtitle (shipped, _("Installed with Smearscope; in use while no model of "
                                          "this lab is"));
  ss_models_dialog_add_suffix (self, shipped, in_use == 0, 0, self->shipped_name);
  adw_preferences_group_add (self->models_group, GTK_WIDGET (shipped));
  g_ptr_array_add (self->rows, shipped);

  /* newest first: the one just offered at the top */
  for (guint i = models->len; i-- > 0;)
    {
      const SsLabModel *m = models->pdata[i];
      AdwActionRow *row = ADW_ACTION_ROW (adw_action_row_new ());
      g_autofree char *title = g_strdup_printf ("%" G_GINT64_FORMAT ". %s", m->id, m->name);
      g_autofree char *subtitle = ss_models_dialog_describe (m);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (row, subtitle);
      adw_action_row_set_subtitle_lines (row, 0);
      ss_models_dialog_add_suffix (self, row, m->in_use, m->id, m->name);
      adw_preferences_group_add (self->models_group, GTK_WIDGET (row));
      g_ptr_array_add (self->rows, row);
    }
  gtk_widget_set_sensitive (GTK_WIDGET (self->rollback_button), in_use != 0);
}

static void
ss_models_dialog_use (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  SsModelsDialog *self = SS_MODELS_DIALOG (widget);
  g_autoptr (GError) error = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  if (!ss_store_use_lab_model (self->store, g_variant_get_int64 (param), self->user, &error))
    {
      ss_models_dialog_show_error (self, _("The model was not put in use"), error, TRUE);
      return;
    }
  ss_models_dialog_reload (self);
  g_signal_emit (self, signals[MODEL_CHANGED], 0);
}

static void
ss_models_dialog_rollback (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  SsModelsDialog *self = SS_MODELS_DIALOG (widget);
  g_autoptr (GError) error = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  if (ss_store_rollback_lab_model (self->store, self->user, &error) < 0)
    {
      ss_models_dialog_show_error (self, _("The model was not rolled back"), error, TRUE);
      return;
    }
  ss_models_dialog_reload (self);
  g_signal_emit (self, signals[MODEL_CHANGED], 0);
}

static void
ss_models_dialog_learned (SsModelsDialog *self)
{
  ss_models_dialog_reload (self);
}

static void
ss_models_dialog_learned_in_use (SsModelsDialog *self)
{
  ss_models_dialog_reload (self);
  g_signal_emit (self, signals[MODEL_CHANGED], 0);
}

static void
ss_models_dialog_improve (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  SsModelsDialog *self = SS_MODELS_DIALOG (widget);
  SsLearnDialog *dialog = ss_learn_dialog_new (GTK_WINDOW (self), self->store, self->user);

  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  g_signal_connect_object (dialog, "offered", G_CALLBACK (ss_models_dialog_learned), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (dialog, "model-changed", G_CALLBACK (ss_models_dialog_learned_in_use),
                           self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
ss_models_dialog_dispose (GObject *object)
{
  SsModelsDialog *self = SS_MODELS_DIALOG (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_MODELS_DIALOG);
  g_clear_object (&self->store);
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->shipped_name, g_free);
  g_clear_pointer (&self->rows, g_ptr_array_unref);

  G_OBJECT_CLASS (ss_models_dialog_parent_class)->dispose (object);
}

static void
ss_models_dialog_class_init (SsModelsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ss_models_dialog_dispose;

  signals[MODEL_CHANGED] =
    g_signal_new ("model-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/org/smearscope/Smearscope/ss-models-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, SsModelsDialog, rollback_button);
  gtk_widget_class_bind_template_child (widget_class, SsModelsDialog, improve_button);
  gtk_widget_class_bind_template_child (widget_class, SsModelsDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, SsModelsDialog, models_group);
  gtk_widget_class_install_action (widget_class, "models.use", "x", ss_models_dialog_use);
  gtk_widget_class_install_action (widget_class, "models.rollback", NULL, ss_models_dialog_rollback);
  gtk_widget_class_install_action (widget_class, "models.improve", NULL, ss_models_dialog_improve);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
ss_models_dialog_init (SsModelsDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_ptr_array_new ();
}

SsModelsDialog *
ss_models_dialog_new (GtkWindow  *parent,
                      SsStore    *store,
                      const char *user,
                      const char *shipped_name)
{
  g_return_val_if_fail (SS_IS_STORE (store), NULL);

  SsModelsDialog *self = g_object_new (SS_TYPE_MODELS_DIALOG,
                                       "transient-for", parent,
                                       NULL);
  self->store = g_object_ref (store);
  self->user = g_strdup (user);
  self->shipped_name = g_strdup (shipped_name);
  ss_models_dialog_reload (self);
  return self;
}
