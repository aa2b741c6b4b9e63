/* The "New Case" dialog: asks for the accession number and the descriptive fields of a
 * case, creates it in the store, and says why when the store refuses. */
#pragma once

#include <adwaita.h>

#include "ss-store.h"

G_BEGIN_DECLS

#define SS_TYPE_NEW_CASE_DIALOG (ss_new_case_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SsNewCaseDialog, ss_new_case_dialog, SS, NEW_CASE_DIALOG, AdwWindow)

/* A modal dialog over parent (may be NULL). suggested_accession (may be NULL) fills the
 * accession row, selected so that typing replaces it. Present it with
 * gtk_window_present(); it destroys itself when cancelled or done.
 *
 * Signal "created" (const char *accession): the case is in the store; emitted just
 * before the dialog closes. */
SsNewCaseDialog *ss_new_case_dialog_new (GtkWindow  *parent,
                                         SsStore    *store,
                                         const char *suggested_accession);

G_END_DECLS
