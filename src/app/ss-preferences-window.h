/* The preferences: the reviewer's name, when cells count as unsure and a case is
 * flagged, the analysis settings, and where the case store lives. Every control is
 * bound to a key of org.smearscope.Smearscope, so a change applies at once. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define SS_TYPE_PREFERENCES_WINDOW (ss_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (SsPreferencesWindow, ss_preferences_window, SS, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

/* A modal window over parent (may be NULL), bound to settings (a GSettings of the
 * org.smearscope.Smearscope schema). */
GtkWidget *ss_preferences_window_new (GtkWindow *parent,
                                      GSettings *settings);

G_END_DECLS
