/* The lab's models between the case store and the analysis (issue 30): the store keeps
 * each model's bytes (ss_store_add_lab_model); the analysis loads a model from a file.
 * A stored model is written once to the user's cache, named by its SHA-256, and checked
 * against it each time it is used. The same rules for smearscope-cli and the
 * workstation: which model the analysis uses, which one a lab's cells are taught to,
 * and what is recorded when a candidate is offered. */
#pragma once

#include "ss-classifier.h"
#include "ss-learn-guard.h"
#include "ss-store.h"

G_BEGIN_DECLS

/* The file of stored model id, its bytes verified against the SHA-256 recorded when it
 * was offered (a damaged model is refused, SS_STORE_ERROR_CORRUPT): CACHE/smearscope/
 * lab-models/SHA256/NAME.ssm, written when missing or different. */
char         *ss_lab_model_file (SsStore *store, gint64 id, GError **error);

/* The cell-type model the analysis uses with store (may be NULL): the store's model in
 * use when it has one, else the default of models_dir (NULL: ss_models_dir (NULL)).
 * *path_out gets the file, *lab_id (may be NULL) the stored model's id (0: none). NULL
 * with *error NULL when no model is installed at all (as
 * ss_models_load_default_classifier), NULL with *error set when it cannot be used. */
SsClassifier *ss_lab_model_load_in_use (SsStore *store, const char *models_dir,
                                        char **path_out, gint64 *lab_id, GError **error);

/* What a lab's cells are taught to and checked against: the model named (a path or a
 * name in models_dir), or when model is NULL the store's model in use, or the shipped
 * default. Its reference and replay sheets: beside it, or, for a model without them (a
 * stored one), beside the shipped default. *replay_dir is NULL when there is none;
 * *reference_dir is set whether or not it exists. */
gboolean      ss_lab_model_to_teach (SsStore *store, const char *models_dir, const char *model,
                                     char **path, char **reference_dir, char **replay_dir,
                                     GError **error);

/* "neutrophil 12, basophil 2": the taught cells per class of the model's classes. */
char         *ss_lab_model_taught_text (const SsLearnCells *taught);
/* "LAB-1, LAB-2": the cases they came from. */
char         *ss_lab_model_cases_text (const SsLearnCells *taught);

/* The cells the lab taught the model at model_path before, for the guard: when it is one
 * of store's lab models, the reviewed cells of the cases it was taught from that are not
 * among accessions (what is taught now; NULL: every case, and then there are none). A
 * candidate's lab head replaces the model's, so it must not forget them. NULL with error
 * unset when there are none (or store is NULL). */
SsLearnCells *ss_lab_model_earlier_cells (SsStore *store, const char *model_path,
                                          const char *const *accessions,
                                          const SsModelSpec *spec, GCancellable *cancellable,
                                          GError **error);

/* Record the candidate written at path, taught from parent_path, as offered by user,
 * with the guard's verdict (its third figure with earlier_cases, the cases of the cells
 * taught before, ss_lab_model_cases_text; NULL: none): its name is NAME-lab-N (NAME the
 * parent's base name) unless name is given. Returns its id (that of the same bytes
 * stored before, with *existed TRUE), 0 with error. */
gint64        ss_lab_model_offer (SsStore *store, const char *path, const char *name,
                                  const char *parent_path, const SsLearnCells *taught,
                                  const char *earlier_cases, const SsLearnVerdict *verdict,
                                  double margin, const char *user, gboolean *existed,
                                  GError **error);

G_END_DECLS

G_BEGIN_DECLS

/* A lab's learning from its store, as the workstation runs it: the reviewed cells of the
 * cases named in accessions (NULL-terminated; NULL: every case) taught to the model in
 * use (ss_lab_model_to_teach), behind the guard with its default settings, and an
 * offered candidate recorded in the store. */
typedef struct {
  SsLearnVerdict verdict;
  double         margin;
  gint64         model_id;   /* the candidate in the store; 0 when the guard refused it */
  gboolean       existed;    /* the store held these very bytes already */
  char          *taught;     /* ss_lab_model_taught_text */
  char          *cases;      /* ss_lab_model_cases_text */
  char          *earlier_cases;  /* the cases taught before and not now (their cells are
                                  * the verdict's earlier ones); NULL: none */
  int            n_images;
  GPtrArray     *skipped;    /* char *: the images left out, and why */
} SsLabLearnResult;

void ss_lab_learn_result_free (SsLabLearnResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsLabLearnResult, ss_lab_learn_result_free)

/* Where a run is: called from the thread that runs it. */
typedef void (*SsLabLearnProgress) (double fraction, const char *message, gpointer user_data);

/* Run it on a connection of its own to the store at location (so from any thread),
 * offering under user's name. Cancelled (G_IO_ERROR_CANCELLED) between its steps, and
 * then nothing is recorded. NULL with error when it cannot be done (too few reviewed
 * cells among them); a refused candidate is a result, with model_id 0. */
SsLabLearnResult *ss_lab_learn (const char *location, const char *models_dir, const char *user,
                                const char *const *accessions, GCancellable *cancellable,
                                SsLabLearnProgress progress, gpointer user_data,
                                GError **error);

G_END_DECLS
