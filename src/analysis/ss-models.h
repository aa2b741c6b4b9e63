/* The default models and the analysis settings, as both smearscope-cli and the
 * workstation find, load and check them: one copy of the rules for both. */
#pragma once

#include <gio/gio.h>

#include "ss-analysis.h"
#include "ss-classifier.h"

G_BEGIN_DECLS

/* Whether this program runs from the build tree it was built in (then the source
 * tree's models, the build's schema and translations are used). */
gboolean      ss_running_from_build_tree (void);
/* Translations for the rest of the run: the build tree's compiled catalogues when run
 * from it, else the installed ones; UTF-8. The workstation and smearscope-cli (whose PDF
 * report speaks the user's language) both call it once at start. */
void          ss_init_i18n (void);

/* Where default models live: override if not NULL, else $SMEARSCOPE_MODELS, else
 * data/models of the source tree when run from a build tree, else the installed data
 * dir. */
char         *ss_models_dir (const char *override);
/* A model argument: a path as given, or a name ("celltype") looked up in models_dir
 * (NULL: ss_models_dir (NULL)) with the .ssm extension. */
char         *ss_models_find (const char *models_dir, const char *name_or_path);
/* The cells shipped beside a model file: MODEL.ssm -> MODEL-WHAT, a sheet of cells (see
 * ss-dataset.h): "reference", what `learn`'s guard checks a candidate against, and
 * "replay", what it replays so that the candidate keeps what the model knew. The path
 * whether or not it exists. */
char         *ss_models_beside (const char *model_path, const char *what);
/* Where the default cell-type classifier of models_dir (NULL: ss_models_dir (NULL)) is
 * or would be: ss_models_find of "celltype". */
char         *ss_models_default_classifier_path (const char *models_dir);

/* Hex SHA-256 of a file's bytes: how the store names an image and a model file. NULL
 * with a G_FILE_ERROR ("cannot read PATH: why") if it cannot be read. */
char         *ss_file_sha256 (const char *path, GError **error);

/* What the store records of the model that made the calls. */
typedef struct {
  char *path;      /* NULL when no model was used (stain proposals only) */
  char *name;      /* the file's base name, or "none (stain proposals only)" */
  char *format;    /* the file's magic: "SSM1" (one network), "SSE1" (ensemble), "none" */
  char *sha256;    /* hex SHA-256 of the file, NULL without a model */
} SsModelIdentity;

void          ss_model_identity_clear (SsModelIdentity *identity);
/* Fill identity from a model file (path NULL: no model). FALSE with an error if the
 * file cannot be read. */
gboolean      ss_model_identity_init (SsModelIdentity *identity, const char *path,
                                      GError **error);

/* The classifier of a model argument (ss_models_find in models_dir), loaded; *path_out
 * (may be NULL) gets the file used. NULL with an error if it cannot be used. */
SsClassifier *ss_models_load_classifier (const char *models_dir, const char *name_or_path,
                                         char **path_out, GError **error);

/* The default cell-type classifier of models_dir (NULL: ss_models_dir (NULL)).
 * Returns NULL with *error NULL when none is installed (the analysis then finds and
 * outlines cells, all "other"), NULL with *error set when one is installed and cannot
 * be used; *path_out (may be NULL) gets the file used. */
SsClassifier *ss_models_load_default_classifier (const char *models_dir, char **path_out,
                                                 GError **error);

/* FALSE with an error naming the setting and its range if one is out of range:
 * nms_iou in (0, 1], min_confidence in [0, 1], detect.scale in [0.05, 1],
 * detect.cell_diameter > 0, blast_threshold in [0, 100]. */
gboolean      ss_analysis_settings_validate (const SsAnalysisSettings *settings,
                                             GError **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SsModelIdentity, ss_model_identity_clear)

#define SS_MODELS_ERROR (ss_models_error_quark ())
GQuark ss_models_error_quark (void);
typedef enum {
  SS_MODELS_ERROR_INVALID_SETTING,
  SS_MODELS_ERROR_UNREADABLE,
} SsModelsError;

G_END_DECLS
