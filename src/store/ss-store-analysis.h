/* An analysis result into a case: the image's hash and size, the model that made the
 * calls and every cell, as smearscope-cli analyze --case and the workstation store them. */
#pragma once

#include "ss-analysis.h"
#include "ss-models.h"
#include "ss-store.h"

G_BEGIN_DECLS

/* Store result (its path must be set: the file is read again for its SHA-256) in the
 * case `accession`, with the identity of the model that made it (ss_model_identity_init,
 * path NULL for none), in one transaction: the image is stored whole or not at all.
 * Sets each cell's id; returns the image id, or 0 with an error "PATH: not stored: why". */
gint64 ss_store_add_analysis (SsStore *store, const char *accession,
                              const SsAnalysisResult *result, const SsModelIdentity *model,
                              GError **error);

G_END_DECLS
