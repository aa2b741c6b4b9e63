/* Training a classifier on a data set: seeded shuffles and augmentation, a checkpoint at
 * every epoch that a later run resumes, progress for the caller, a clean stop. */
#pragma once

#include <gio/gio.h>

#include "ss-dataset.h"
#include "ss-engine.h"

G_BEGIN_DECLS

typedef struct {
  SsArch      arch;
  int         width;        /* msCNN first-conv filters, ResNet stem width */
  int         stem_k;       /* ResNet stem kernel: 0 (7 x 7), 5 or 3 (SsModelSpec) */
  int         input_size;   /* square input, e.g. 128 */
  SsResample  resample;     /* how the data set was brought to input_size (recorded) */
  int         epochs;
  int         batch;
  float       lr;
  float       weight_decay;
  float       decoupled_decay; /* AdamW's decay (see SsOptimConfig); 0 = off */
  gboolean    cosine;       /* cosine decay of lr to 0 over the epochs; else constant */
  SsOptimKind optim;
  float       dense_fan_in_ref; /* see SsOptimConfig; 0 = every layer at lr */
  guint64     seed;
  gboolean    augment;
  SsAugment   extra;        /* with augment: what ss_dataset_get adds (all 0: nothing) */
  float       label_smoothing; /* 0 = off; see ss_trainer_set_label_smoothing */
  float       mixup;        /* Beta(a, a) of mixup's blend, 0 < a <= 1; 0 = off; not with
                             * soft_targets */
  float       ema;          /* decay of the weights' moving average, 0 < d < 1; 0 = off.
                             * With it, validation and the saved model use the average
                             * (see ss_trainer_set_ema); the checkpoint keeps both */
  gboolean    balance;      /* every class drawn equally often in each epoch */
  gboolean    half;         /* store weights as float16 */
  const char *init_from;    /* start from these weights (same architecture), or NULL */
  SsTrainPart part;         /* what it changes (ss_trainer_set_part); SS_TRAIN_ALL by
                             * default, a part only with init_from */
  const char *out;          /* model path; OUT.ckpt and OUT.ckpt.opt hold the checkpoint */
  gboolean    resume;
  const char *info;         /* training description recorded in the model (JSON) */
  float       crop_stretch; /* SsModelSpec.crop_stretch: the model stretches its inputs
                             * (ss_input_stretch); 0: none */
  const double *camera_colour; /* the colours train's cameras were brought to
                             * (ss_dataset_normalise_cameras), recorded in the model as
                             * SsModelSpec.camera_colour; NULL: colours as taken */
  /* distillation: a teacher's softened probabilities of every training image (train->n
   * rows of n_classes, see ss_trainer_step_distill), or NULL */
  const float *soft_targets;
  float       distill_alpha;
  float       temperature;
} SsTrainConfig;

typedef struct {
  int    epoch, epochs;
  int    batch_index, batches;
  double loss, accuracy;    /* running means over the epoch so far */
  double images_per_s;
  double seconds_left;
  double val_accuracy;      /* after an epoch with a validation set, else -1 */
  gboolean epoch_done;
} SsTrainProgress;

typedef void (*SsTrainProgressFn) (const SsTrainProgress *progress, gpointer user_data);

void     ss_train_config_init (SsTrainConfig *config);
/* A part's name ("all", "last-stage", "head") in the command line and a model's training
 * record, and back: FALSE for a name that is none of them. */
const char *ss_train_part_name   (SsTrainPart part);
gboolean    ss_train_part_from_name (const char *name, SsTrainPart *part);
/* Trains and writes config->out after every epoch (atomically), so a stop keeps the
 * last complete epoch. Returns FALSE with G_IO_ERROR_CANCELLED if cancelled. */
gboolean ss_train (const SsTrainConfig *config, const SsDataset *train, const SsDataset *val,
                   SsTrainProgressFn progress, gpointer user_data, GCancellable *cancellable,
                   GError **error);

/* Probabilities of every image of a data set (n x n_classes), no augmentation. */
float   *ss_predict_dataset (SsModel *model, const SsDataset *data, GError **error);
/* The features each image gives the model's dense layer (ss_model_features), n x dim. */
float   *ss_features_dataset (SsModel *model, const SsDataset *data, GError **error);
/* What each image's camera looks like (ss_camera_stats), n x SS_CAMERA_STATS. */
float   *ss_camera_stats_dataset (SsModel *model, const SsDataset *data, GError **error);

/* Distillation targets for train (loaded from data_dir with map): the teacher model's
 * probabilities of every image (at the teacher's input size, with its own test-time
 * views), softened by temperature: q = p^(1/T), renormalised. The teacher must have
 * train's classes in train's order. */
float   *ss_teacher_targets (const char *teacher_path, const char *data_dir, GHashTable *map,
                             const SsDataset *train, float temperature, GError **error);

G_END_DECLS
