/* Improve the Model from This Lab's Corrections: the cases to learn from chosen (each
 * with how many of its cells were reviewed), their reviewed cells taught to the model in
 * use behind the guard (ss_lab_learn), in the background with progress and Cancel; then both guard figures and what was taught, and Use This Model or Keep the
 * Current One; or why the guard refused the candidate, in plain words. */
#pragma once

#include <adwaita.h>

#include "ss-store.h"

G_BEGIN_DECLS

#define SS_TYPE_LEARN_DIALOG (ss_learn_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SsLearnDialog, ss_learn_dialog, SS, LEARN_DIALOG, AdwWindow)

/* A modal dialog over parent that lists the store's cases to learn from; Learn starts on
 * the cases chosen (on a connection of its own to the store), offering and adopting under user's name. Signal
 * "model-changed": the candidate was put in use (emitted before the dialog closes).
 * Signal "offered": a candidate is in the store (adopted or not). */
SsLearnDialog *ss_learn_dialog_new (GtkWindow  *parent,
                                    SsStore    *store,
                                    const char *user);

G_END_DECLS
