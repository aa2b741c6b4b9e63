/* Cell-Type Models…: the shipped model and the lab's own models in the case store, with
 * the guard's figures, who offered and who adopted each, and which one is in use; an
 * admin puts one in use or rolls back; Improve… runs the learning (SsLearnDialog). The
 * store decides who may; the dialog shows its answer and keeps working. */
#pragma once

#include <adwaita.h>

#include "ss-store.h"

G_BEGIN_DECLS

#define SS_TYPE_MODELS_DIALOG (ss_models_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SsModelsDialog, ss_models_dialog, SS, MODELS_DIALOG, AdwWindow)

/* A modal dialog over parent on store, acting under user's name; shipped_name is the
 * shipped model's file name, shown for it. Signal "model-changed": another model is in
 * use (the caller loads it for new analyses). */
SsModelsDialog *ss_models_dialog_new (GtkWindow  *parent,
                                      SsStore    *store,
                                      const char *user,
                                      const char *shipped_name);

G_END_DECLS
