/* How well a classifier does on labelled images: the confusion matrix and, per class
 * (one against the rest), sensitivity, specificity, PPV, NPV, F1 and ROC AUC, with
 * their macro averages, as the ResNet-50 leukaemia paper reports them. */
#pragma once

#include <glib.h>

#include "ss-engine.h"

G_BEGIN_DECLS

typedef struct {
  int    k, n;
  int    confusion[SS_MAX_CLASSES][SS_MAX_CLASSES];  /* [truth][predicted] */
  double accuracy;
  double sensitivity[SS_MAX_CLASSES], specificity[SS_MAX_CLASSES];
  double ppv[SS_MAX_CLASSES], npv[SS_MAX_CLASSES], f1[SS_MAX_CLASSES];
  double auc[SS_MAX_CLASSES];
  double macro_sensitivity, macro_specificity, macro_ppv, macro_npv, macro_f1, macro_auc;
} SsClassifyScore;

/* probs (n, k), labels (n) in 0..k-1. Classes absent from the labels get NaN figures
 * where a figure needs them and are left out of the macro averages. */
void ss_classify_score (const float *probs, const int *labels, int n, int k,
                        SsClassifyScore *score);

/* The ROC curve of class c against the rest: *n_points pairs (fpr, tpr), from (0,0) to
 * (1,1); free with g_free. */
double *ss_roc_curve (const float *probs, const int *labels, int n, int k, int c, int *n_points);

/* PNGs (Cairo): every class's ROC curve; the confusion matrix with counts. */
gboolean ss_plot_roc (const float *probs, const int *labels, int n, int k,
                      const char *const *names, const char *title, const char *path,
                      GError **error);
gboolean ss_plot_confusion (const SsClassifyScore *score, const char *const *names,
                            const char *title, const char *path, GError **error);

G_END_DECLS
