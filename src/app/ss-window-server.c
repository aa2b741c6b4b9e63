/* The case server away and back: the bar across the top of the window. The window's
 * store makes no attempt to reach a server that went away on the window's thread
 * (ss_store_set_reconnect_wait 0, ss-application.c): an action that finds it away fails
 * at once, nothing of it stored, and the window tries again on a worker thread every
 * second (ss_store_reconnect_async) until the server answers, then reads again what
 * other stations changed meanwhile. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-window-private.h"

/* How long "Reconnected" stays before the bar goes. */
#define SS_RECONNECTED_SHOWN_S 5

static void ss_window_try_reconnect (SsWindow *self);

static gboolean
on_retry (gpointer data)
{
  SsWindow *self = data;
  self->retry_source = 0;
  ss_window_try_reconnect (self);
  return G_SOURCE_REMOVE;
}

static gboolean
on_reconnected_shown (gpointer data)
{
  SsWindow *self = data;
  self->server_hide_source = 0;
  gtk_revealer_set_reveal_child (self->server_revealer, FALSE);
  return G_SOURCE_REMOVE;
}

static void
ss_window_show_server_state (SsWindow   *self,
                             SsStore    *store,
                             gboolean    reconnected)
{
  const char *server = ss_store_get_server (store);
  g_autofree char *text = NULL;
  if (reconnected && self->change_lost)
    /* TRANSLATORS: %s is the case server, "host:port" */
    text = g_strdup_printf (_("Reconnected to the case base at %s. Your last change was not "
                              "saved: make it again."), server);
  else if (reconnected)
    text = g_strdup_printf (_("Reconnected to the case base at %s."), server);
  else if (self->change_lost)
    text = g_strdup_printf (_("The case base at %s is not reachable. Retrying… Your last "
                              "change was not saved."), server);
  else
    text = g_strdup_printf (_("The case base at %s is not reachable. Retrying…"), server);
  gtk_label_set_text (self->server_label, text);
  if (reconnected)
    gtk_widget_add_css_class (GTK_WIDGET (self->server_revealer), "reconnected");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->server_revealer), "reconnected");
  g_clear_handle_id (&self->server_hide_source, g_source_remove);
  if (reconnected)
    self->server_hide_source = g_timeout_add_seconds (SS_RECONNECTED_SHOWN_S,
                                                      on_reconnected_shown, self);
  gtk_revealer_set_reveal_child (self->server_revealer, TRUE);
}

static void
on_reconnect_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr (SsWindow) self = user_data;
  SsStore *store = SS_STORE (source);
  g_autoptr (GError) error = NULL;
  gboolean back = ss_store_reconnect_finish (store, result, &error);
  g_clear_object (&self->reconnecting);
  if (gtk_widget_in_destruction (GTK_WIDGET (self)) || g_cancellable_is_cancelled (self->exports))
    return;
  if (!back)
    {
      g_debug ("%s", error->message);
      self->retry_source = g_timeout_add_seconds (1, on_retry, self);
      return;
    }
  ss_window_show_server_state (self, store, TRUE);
  self->change_lost = FALSE;
  g_message ("reconnected to the case server at %s", ss_store_get_server (store));
  /* what other stations did meanwhile was not heard */
  if (self->document != NULL && !ss_case_document_reload (self->document, &error))
    ss_window_show_read_error (self, error);
  ss_window_reload_cases (self);
}

static void
ss_window_try_reconnect (SsWindow *self)
{
  SsStore *store = ss_application_get_store (self->app, NULL);
  if (store == NULL || self->reconnecting != NULL || self->retry_source != 0)
    return;
  self->reconnecting = g_cancellable_new ();
  ss_store_reconnect_async (store, self->reconnecting, on_reconnect_done, g_object_ref (self));
}

gboolean
ss_window_store_away (SsWindow     *self,
                      const GError *error,
                      gboolean      change_lost)
{
  g_return_val_if_fail (SS_IS_WINDOW (self), FALSE);
  SsStore *store = ss_application_get_store (self->app, NULL);
  if (store == NULL || !g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_IO)
      || ss_store_get_server (store) == NULL || ss_store_get_connected (store))
    return FALSE;
  g_message ("%s", error->message);
  self->change_lost |= change_lost;
  ss_window_show_server_state (self, store, FALSE);
  ss_window_try_reconnect (self);
  return TRUE;
}

gboolean
ss_window_store_away_from (GtkWindow    *dialog,
                           const GError *error,
                           gboolean      change_lost)
{
  for (GtkWindow *w = dialog; w != NULL; w = gtk_window_get_transient_for (w))
    if (SS_IS_WINDOW (w))
      return ss_window_store_away (SS_WINDOW (w), error, change_lost);
  return FALSE;
}

void
ss_window_server_dispose (SsWindow *self)
{
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_clear_handle_id (&self->server_hide_source, g_source_remove);
  if (self->reconnecting != NULL)
    g_cancellable_cancel (self->reconnecting);
}
