/* The workstation's application: one case store, the default models, the settings,
 * and the command line (`smearscope [--db FILE] [--case ACCESSION] [IMAGE...]`). */
#pragma once

#include <adwaita.h>

#include "ss-classifier.h"
#include "ss-models.h"
#include "ss-store.h"

G_BEGIN_DECLS

#define SS_TYPE_APPLICATION (ss_application_get_type ())
G_DECLARE_FINAL_TYPE (SsApplication, ss_application, SS, APPLICATION, AdwApplication)

SsApplication *ss_application_new               (void);
/* Bind the message catalogue (the build tree's or the installed one). */
/* Run from a build tree: use the schema compiled there unless one is given. */
void           ss_application_find_schemas      (void);

GSettings     *ss_application_get_settings      (SsApplication *self);
/* The case store, or NULL with *error saying why it could not be opened (the window
 * shows that and keeps working). */
SsStore       *ss_application_get_store         (SsApplication *self,
                                                 GError       **error);
/* TRUE while the store is not open because its case server does not answer: it is
 * tried again every few seconds, and "store-changed" is emitted when it answers (or
 * answers with another reason not to open). */
gboolean       ss_application_get_store_away    (SsApplication *self);
/* The cell-type classifier new analyses use: the case store's model in use, else the
 * shipped default (NULL when none is installed or it is unusable:
 * ss_application_get_model_problem says which) and what the store records of it. */
SsClassifier  *ss_application_get_classifier    (SsApplication *self);
/* Load it again: another model was put in use. Emits "classifier-changed" when it
 * changed; when the new one cannot be read the one working so far stays (and
 * ss_application_get_model_problem says why). */
void           ss_application_reload_models     (SsApplication *self);
const SsModelIdentity *ss_application_get_model (SsApplication *self);
const char    *ss_application_get_model_problem (SsApplication *self);
/* Who makes corrections: the preference, else the login name. */
char          *ss_application_dup_user          (SsApplication *self);
/* The analysis settings from the preferences. */
void           ss_application_get_analysis_settings (SsApplication      *self,
                                                     SsAnalysisSettings *settings);

G_END_DECLS
