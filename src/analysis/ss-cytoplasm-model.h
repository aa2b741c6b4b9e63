/* A small learned per-pixel model of the centred cell's extent in a single-cell crop:
 * one hidden layer over colour, local texture, distance to the nucleus and the colour
 * models' own verdict. Trained in C on wbc-seg even ids (ss-train-cytoplasm); its
 * weights are the generated table ss-cytoplasm-weights.c. */
#pragma once

#include "ss-detect-private.h"

#include <glib.h>

G_BEGIN_DECLS

#define SS_CYTOPLASM_HIDDEN 16

typedef struct {
  float mean[SS_CENTRE_FEATURES];      /* features are standardised first */
  float inv_std[SS_CENTRE_FEATURES];
  float w1[SS_CYTOPLASM_HIDDEN][SS_CENTRE_FEATURES];  /* hidden = tanh (w1 x + b1) */
  float b1[SS_CYTOPLASM_HIDDEN];
  float w2[SS_CYTOPLASM_HIDDEN];  /* p = sigmoid (w2 . hidden + b2) */
  float b2;
} SsCytoplasmModel;

/* The committed weights (ss-cytoplasm-weights.c, generated). */
extern const SsCytoplasmModel ss_cytoplasm_model;

/* Probability that a candidate pixel belongs to the cell; features is one pixel's
 * SS_CENTRE_FEATURES values from ss_detect_centre_features. */
float    ss_cytoplasm_model_probability (const SsCytoplasmModel *model, const float *features);

/* Train on every datasetN/ folder of a wbc-seg directory, on the ids equal to
 * id_remainder modulo id_modulus (2, 0: the even ids, leaving the odd ones to measure on;
 * 4, 0: half of them, to judge a change on the other even half), with a fixed seed; the
 * result depends on nothing else. */
gboolean ss_cytoplasm_model_train (const char *data_dir, guint id_modulus, guint id_remainder,
                                   guint32 seed, SsCytoplasmModel *model, GError **error);

/* Write model as a C table defining ss_cytoplasm_model; `command` is recorded in its
 * header comment so the table can be regenerated. */
gboolean ss_cytoplasm_model_write_c (const SsCytoplasmModel *model, const char *path,
                                     const char *command, GError **error);

G_END_DECLS
