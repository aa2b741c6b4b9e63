/* The case dialog, in two modes: "New Case" asks for the accession number and the
 * descriptive fields of a case and creates it; "Case Details" shows an open case's
 * accession and changes its descriptive fields. The store decides; the dialog says why
 * when it refuses and stays open. */
#pragma once

#include <adwaita.h>

#include "ss-case-document.h"
#include "ss-store.h"

G_BEGIN_DECLS

#define SS_TYPE_CASE_DIALOG (ss_case_dialog_get_type ())
G_DECLARE_FINAL_TYPE (SsCaseDialog, ss_case_dialog, SS, CASE_DIALOG, AdwWindow)

/* Both are modal dialogs over parent (may be NULL). Present them with
 * gtk_window_present(); they destroy themselves when cancelled or done.
 *
 * New Case: suggested_accession (may be NULL) fills the accession row, selected so that
 * typing replaces it. Signal "created" (const char *accession): the case is in the
 * store; emitted just before the dialog closes. */
SsCaseDialog *ss_case_dialog_new_case    (GtkWindow      *parent,
                                          SsStore        *store,
                                          const char     *suggested_accession);
/* Case Details of the document's case, prefilled from it. Save goes through
 * ss_case_document_update_details. A signed case's details are shown read-only, with
 * no Save, and a word on reopening the case first. */
SsCaseDialog *ss_case_dialog_new_details (GtkWindow      *parent,
                                          SsCaseDocument *document);

G_END_DECLS
