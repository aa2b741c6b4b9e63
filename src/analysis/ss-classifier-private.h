/* What only the analysis layer may do with a classifier: run its engine model directly
 * (Grad-CAM) under the lock its own run functions take. */
#pragma once

#include "ss-classifier.h"

G_BEGIN_DECLS

/* Hold around any ss_model_predict or ss_model_gradcam on ss_classifier_model (): the
 * engine model keeps its activations between calls and cannot run twice at a time. */
void ss_classifier_lock (SsClassifier *classifier);
void ss_classifier_unlock (SsClassifier *classifier);

G_END_DECLS
