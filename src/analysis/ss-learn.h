/* Learning from a lab's own labelled cells (issue 30): a new head for a cell-type
 * model on the features it already computes, the lab's cells weighed against a replay
 * of cells the model was trained on, and held near the head it had. */
#pragma once

#include <gio/gio.h>

#include "ss-engine.h"

G_BEGIN_DECLS

typedef struct {
  double lab_weight;  /* each lab cell counts as this many replayed ones (4) */
  double anchor;      /* pull of each weight towards the original head, per unit of loss
                       * (1e-3): how much of what the model knew it keeps */
  int    steps;       /* full-batch Adam steps (300) */
  double lr;          /* (0.01) */
} SsLearnHeadConfig;

void     ss_learn_head_config_init (SsLearnHeadConfig *config);

/* Fit model's final dense layer (ss_model_head) to features (n rows of
 * ss_model_feature_dim) and labels (class indices; a negative label, "not class c", is
 * left out), lab[i] TRUE for the lab's cells (weighed lab_weight), FALSE for replayed
 * ones, starting from the head it has and anchored to it. Prints nothing. Returns the
 * final mean loss, or a negative value with error set. */
double   ss_learn_head (SsModel *model, const float *features, const int *labels,
                        const gboolean *lab, int n, const SsLearnHeadConfig *config,
                        GError **error);

/* Fit the gate of a lab's own head (ss_model_set_lab_head): a logistic regression on
 * what each cell's camera looks like (stats: n rows of SS_CAMERA_STATS, ss_camera_stats),
 * the lab's cells (lab[i] TRUE) against cells of the cameras the model knew, each side
 * weighed as a whole, the statistics standardised and the weights held small. gate gets
 * SS_CAMERA_STATS weights then the bias, on the raw statistics. FALSE with error when
 * one side has no cell. */
gboolean ss_learn_gate (const float *stats, const gboolean *lab, int n, float *gate,
                        GError **error);

G_END_DECLS
