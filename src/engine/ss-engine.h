/* Smearscope's numeric engine: float32 NCHW tensors in, float32 tensors out.
 * C11, libc and OpenBLAS only; knows nothing of files of images, GLib or cells. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  SS_OK = 0,
  SS_ERR_NOMEM,
  SS_ERR_IO,
  SS_ERR_FORMAT,      /* not a model file, or a damaged one */
  SS_ERR_CHECKSUM,    /* the bytes do not match the recorded checksum */
  SS_ERR_VERSION,     /* written by a newer Smearscope */
  SS_ERR_ARG,         /* a caller passed something impossible */
  SS_ERR_INTERRUPTED, /* stopped on request (Ctrl-C) */
} SsStatus;

/* Every fallible engine call fills one of these: a status and a sentence for a person. */
typedef struct {
  SsStatus status;
  char     message[512];
} SsError;

SsStatus    ss_error_set (SsError *error, SsStatus status, const char *format, ...)
  __attribute__ ((format (printf, 3, 4)));
const char *ss_status_name (SsStatus status);

/* Index of the largest of v[0, n); the first on ties (a model's call from its
 * probabilities). */
int ss_argmax (const float *v, int n);

/* ---- threads ---------------------------------------------------------------------- */

/* Number of worker threads the engine uses (default: online cores, at most 64).
 * Results are deterministic for a given seed and thread count. */
void ss_engine_set_threads (int n_threads);
int  ss_engine_get_threads (void);

/* Call first thing in main(): if OpenBLAS did not recognise this CPU and fell back to
 * slow kernels while OPENBLAS_CORETYPE is unset, re-executes the program with the
 * matching OPENBLAS_CORETYPE (see blas.c). Never changes a value that is set. */
void        ss_engine_select_blas (char **argv);
/* "openblas" (its own choice or the environment's) or "smearscope" (set by the above). */
const char *ss_engine_blas_selected_by (void);
/* The kernels inference convolutions run on where they fit: "avx512" or "avx2" (the
 * engine's own, without im2col), or "gemm" (im2col + OpenBLAS's sgemm, as training does
 * always). SMEARSCOPE_CONV=gemm or =avx2 chooses, for measuring. */
const char *ss_engine_conv_kernel (void);

/* ---- tensors ---------------------------------------------------------------------- */

typedef struct {
  int    n, c, h, w;
  float *data;  /* 64-byte aligned when owned */
  int    owned;
} SsTensor;

SsStatus ss_tensor_init (SsTensor *t, int n, int c, int h, int w);  /* zeroed, owned */
void     ss_tensor_clear (SsTensor *t);
size_t   ss_tensor_numel (const SsTensor *t);
void    *ss_aligned_alloc (size_t bytes);  /* 64-byte aligned, zeroed; free with ss_aligned_free */
void     ss_aligned_free (void *p);

/* ---- seeded random numbers (splitmix64 + xoshiro128+ style, portable) ------------- */

typedef struct { uint64_t s[2]; } SsRng;
void     ss_rng_seed (SsRng *rng, uint64_t seed);
uint64_t ss_rng_next (SsRng *rng);
float    ss_rng_uniform (SsRng *rng);  /* [0, 1) */
float    ss_rng_normal (SsRng *rng);   /* mean 0, sd 1 */
float    ss_rng_beta (SsRng *rng, float a); /* symmetric Beta(a, a), 0 < a <= 1 */
uint32_t ss_rng_below (SsRng *rng, uint32_t bound);

/* ---- models ----------------------------------------------------------------------- */

#define SS_MAX_CLASSES 32
#define SS_NAME_LEN    48

typedef enum {
  SS_ARCH_MSCNN = 1,  /* Akbar et al.: 3 conv+ReLU+pool stages, concat of all three, dense */
  SS_ARCH_RESNET18,   /* basic blocks [2,2,2,2] */
  SS_ARCH_RESNET50,   /* bottleneck blocks [3,4,6,3] */
  SS_ARCH_ENSEMBLE,   /* several trained networks whose probabilities are averaged */
  SS_ARCH_VGG16,      /* 13 3x3 conv+ReLU in 5 blocks, each pooled; 3 dense layers */
  SS_ARCH_EFFICIENTNET_B0, /* MBConv blocks (depthwise conv, squeeze and excitation, SiLU) */
  SS_ARCH_VGG16_BN,   /* VGG16 with batch norm after every convolution */
} SsArch;

/* How a caller brings an image to the model's input size. The engine never resamples;
 * the model records the way it was trained so that every caller does the same. */
typedef enum {
  SS_RESAMPLE_BILINEAR = 0,  /* one bilinear tap per input pixel (models before the field) */
  SS_RESAMPLE_AREA,          /* shrinking: the mean over each input pixel's footprint */
} SsResample;

typedef struct {
  SsArch arch;
  int    in_c, in_h, in_w;  /* e.g. 3 x 128 x 128 */
  int    width;             /* msCNN: first conv's filters (32); ResNet: stem width (64);
                             * VGG16: first block's (64); EfficientNet: the stem's (32),
                             * every stage scaled by width / 32 */
  int    n_classes;
  char   class_names[SS_MAX_CLASSES][SS_NAME_LEN];
  float  mean[3], std[3];   /* per-channel normalisation of [0,1] input */
  SsResample resample;      /* how images were brought to in_h x in_w in training */
  int    stem_k;            /* ResNet stem kernel: 0 for He et al.'s 7 x 7 (every model
                             * before the option), or 3 or 5: the same stride and width at
                             * a fraction of the stem's cost; msCNN: 0 */
  float  camera_colour[6];  /* R, G, B means then deviations, in [0, 1], that each camera's
                             * white cells were mapped onto in training (the cameras
                             * brought to one); a caller maps a new camera's cells the same
                             * way before classifying. All 0: none (trained on colours as
                             * taken) */
  float  crop_stretch;      /* each input's channels stretched so that this fraction of
                             * it is darkest and as much lightest (ss_input_stretch), by
                             * the model itself, in training and use; 0: none */
} SsModelSpec;

/* Each of the c planes of area values in [0, 1] stretched on its own so that the
 * `fraction` darkest of its values become 0.05 and the `fraction` lightest 0.95
 * (linearly between, clipped; quantiles to 1/255): a cell crop's nucleus is then as dark,
 * and its background as light, whatever the stain's strength and the camera's contrast.
 * A plane spanning less than 2% of the range is left as it is. A model with
 * SsModelSpec.crop_stretch does this to every input itself, before its normalisation. */
void        ss_input_stretch (float *planes, int c, size_t area, float fraction);

/* 1 if spec carries a camera colour target (SsModelSpec.camera_colour) */
int         ss_model_has_camera_colour (const SsModelSpec *spec);

typedef struct SsModel SsModel;

SsArch      ss_arch_from_name (const char *name);  /* 0 if unknown */
int         ss_model_stem_kernel (const SsModelSpec *spec);  /* ResNet: 7, 5 or 3; others: 0 */
int         ss_stem_kernel_valid (SsArch arch, int stem_k);  /* 1 if stem_k (SsModelSpec) fits arch */
const char *ss_arch_name (SsArch arch);
int         ss_resample_from_name (const char *name);  /* "bilinear", "area"; -1 if unknown */
const char *ss_resample_name (SsResample resample);

/* A new model with freshly initialised weights (He init from the seed). */
SsModel *ss_model_new (const SsModelSpec *spec, uint64_t seed, SsError *error);
void     ss_model_free (SsModel *model);
const SsModelSpec *ss_model_spec (const SsModel *model);
size_t   ss_model_n_params (const SsModel *model);
/* Forward FLOP per image (2 x multiply-accumulates of conv and dense layers), times the
 * views (with views only below a confidence: the most, every image taking every view). */
double   ss_model_flops (const SsModel *model);
/* The first convolution's forward FLOP: a training step needs no input gradient there. */
double   ss_model_first_conv_flops (const SsModel *model);

/* Free-text description of the training kept in the model file (data, command, seed,
 * metrics as JSON or plain text). The model keeps a copy. */
void        ss_model_set_training_info (SsModel *model, const char *info);
const char *ss_model_training_info (const SsModel *model);

/* Copy every parameter and buffer of `from` into `to` except the final dense layer's,
 * where both have the same graph up to it (fine-tuning with a new classifier head); with
 * head, that layer's too (`from`'s classes are `to`'s, in the same order). */
SsStatus ss_model_copy_backbone (SsModel *to, const SsModel *from, int head);

/* Inference. x is (n, in_c, in_h, in_w) of raw [0,1] values; the model applies its own
 * normalisation. probs is (n, n_classes). Not thread-safe on one model. */
SsStatus ss_model_predict (SsModel *model, const float *x, int n, float *probs, SsError *error);

/* What the final dense layer reads, for each image (one view, the network alone): a
 * ResNet's globally pooled last stage, the msCNN's concatenated maps. features is
 * (n, ss_model_feature_dim). A model of several networks is refused (SS_ERR_ARG). For
 * measuring how far an image lies from what the model learned (issue 27). */
size_t   ss_model_feature_dim (const SsModel *model);
SsStatus ss_model_features (SsModel *model, const float *x, int n, float *features,
                            SsError *error);

/* Bring the batch-norm statistics to a new camera's images (AdaBN): the first n_layers
 * batch norms in graph order (every one when n_layers <= 0) take the mean and variance
 * of their inputs over the n images x (raw [0, 1] CHW at the model's input size, taken as
 * one batch), or, with reference images of the known cameras (ref, n_ref; else NULL),
 * keep theirs moved by what separates x from ref (mean + (mean_x - mean_ref), variance *
 * var_x / var_ref). The later norms and every weight stay. A model of several networks
 * adapts each. For a camera the model did not learn (issue 27); needs memory for one
 * batch of the larger set. */
SsStatus ss_model_adapt_norms (SsModel *model, const float *ref, int n_ref, const float *x,
                               int n, int n_layers, SsError *error);

/* The final dense layer of a single network, writable: its weight (n_classes rows of
 * ss_model_feature_dim, the features ss_model_features gives) and, in *bias, its
 * n_classes biases; NULL for a model of several networks. Say ss_model_params_changed
 * after writing. For learning a new head on fixed features (issue 30). */
float   *ss_model_head (SsModel *model, float **bias);
void     ss_model_params_changed (SsModel *model);

/* A lab's own head (issue 30): a second final dense layer, learned from one lab's
 * camera, that speaks only for the cells that look as if they came from that camera.
 * What an image's camera looks like is read from SS_CAMERA_STATS numbers of its raw
 * input (ss_camera_stats: per channel the mean, the deviation and the 90th percentile:
 * the light, the stain's strength, the plasma's colour), and a logistic gate on them
 * gives the probability g that an image is the lab's: where g > 0.5 the lab's head
 * gives the probabilities, elsewhere the model's own (a blend of the two would blur
 * both heads' confidence). The lab head's values are
 * n_classes x ss_model_feature_dim weights, n_classes biases, then the gate's
 * SS_CAMERA_STATS weights and its bias: ss_model_lab_head_len of them. Set NULL to
 * remove it; non-finite values are refused. Model files keep it (format version 4).
 * Not for a model of several networks (SS_ERR_ARG). Grad-CAM explains the model's own
 * head. */
#define SS_CAMERA_STATS 9
void         ss_camera_stats (const float *x, int c, int h, int w, float *stats);
size_t       ss_model_lab_head_len (const SsModel *model);
SsStatus     ss_model_set_lab_head (SsModel *model, const float *values, SsError *error);
const float *ss_model_lab_head (const SsModel *model);
/* The gate g of each of n images (0 for every image without a lab head); and of one
 * image whose camera statistics are already known. */
SsStatus     ss_model_lab_gate (SsModel *model, const float *x, int n, float *gate,
                                SsError *error);
float        ss_model_lab_gate_stats (const SsModel *model, const float *stats);

/* Grad-CAM of class cls for one image: map is (map_h, map_w) of the last convolutional
 * stage, non-negative, scaled so its maximum is 1 (all zero if nothing supports the
 * class). The caller frees *map with free(). */
SsStatus ss_model_gradcam (SsModel *model, const float *x, int cls, float **map,
                           int *map_h, int *map_w, float *prob, SsError *error);

/* Test-time views: the probabilities become the mean over the image as given and some of
 * its mirror images and quarter turns (cells and smears have no up or left):
 *   1 the image as given, 2 and its left-right mirror, 4 its four quarter turns,
 *   8 the quarter turns of it and of its mirror.
 * 4 and 8 need a square input. Costs `views` forward passes (see below for fewer).
 * Grad-CAM always explains the image as given. Saved with the model (see ss_model_save). */
SsStatus ss_model_set_views (SsModel *model, int views, SsError *error);
/* Where pixel (x, y) of view `view` (bits 0-1: quarter turns, bit 2: then a left-right
 * mirror) of a w x h image comes from. Quarter turns need w == h. */
void     ss_view_source (int view, int w, int h, int x, int y, int *sx, int *sy);
int      ss_model_views (const SsModel *model);
/* A second look only where it is needed: with below in (0, 1], the views other than the
 * image as given are computed only for images whose most probable class, from the image
 * as given, is under `below`; the others keep that one pass's probabilities. 0 (the
 * default) = every view for every image. Saved with the model. */
SsStatus ss_model_set_views_below (SsModel *model, float below, SsError *error);
float    ss_model_views_below (const SsModel *model);

/* An ensemble: the mean of its members' probabilities (each with its own normalisation).
 * Members must share the class list (in order) and the input size, and be single
 * networks. On success the ensemble owns them (free it, not them); on failure the caller
 * still does. Its spec has arch SS_ARCH_ENSEMBLE, width 0 and member 0's normalisation.
 * An ensemble predicts and explains (Grad-CAM: the mean of its members' maps at input
 * resolution) but cannot be trained. */
#define SS_MAX_MEMBERS 8
SsModel       *ss_ensemble_new (SsModel **members, int n_members, SsError *error);
int            ss_model_n_members (const SsModel *model);  /* 0 for a single network */
const SsModel *ss_model_member (const SsModel *model, int i);

/* Model file ("SSM1"): see modelfile.c for the layout. Save is atomic (temp + rename).
 * Weights are stored as float32 or, halving the file, as float16. An ensemble, or a
 * network with more than one view, is saved as an "SSE1" file that holds its members'
 * SSM1 images (ensemble.c); ss_model_load reads either. */
typedef enum { SS_STORE_F32 = 0, SS_STORE_F16 = 1 } SsStorage;
SsStatus ss_model_save (const SsModel *model, const char *path, SsStorage storage,
                        SsError *error);
SsModel *ss_model_load (const char *path, SsError *error);
SsModel *ss_model_load_from_memory (const void *bytes, size_t n_bytes, SsError *error);

/* ---- training --------------------------------------------------------------------- */

typedef enum { SS_OPTIM_ADAM = 0, SS_OPTIM_SGD } SsOptimKind;

typedef struct {
  SsOptimKind kind;
  float       lr;
  float       beta1, beta2, eps;  /* Adam; PyTorch's defaults 0.9, 0.999, 1e-8 */
  float       momentum;           /* SGD */
  float       weight_decay;       /* L2: weight_decay * param added to the gradient */
  /* Decoupled weight decay (AdamW, Loshchilov and Hutter; PyTorch's AdamW): each step
   * first shrinks every parameter by lr_t * decoupled_decay * param, then takes the
   * optimiser's step on the gradient alone. 0 = off (the update is then bit for bit the
   * one before the field existed). */
  float       decoupled_decay;
  /* Dense layers learn at lr * min(1, dense_fan_in_ref / fan_in) when this is > 0. With
   * Adam every weight moves by about lr per step whatever its gradient's size, so a dense
   * layer over 229,376 non-negative features (the msCNN's) moves its outputs by tens at
   * once; scaling by 1/fan-in (as maximal-update parametrisation does) keeps that step
   * the same size for any fan-in. 0 turns the scaling off. */
  float       dense_fan_in_ref;
} SsOptimConfig;

void ss_optim_config_default (SsOptimConfig *config, SsOptimKind kind, float lr);

typedef struct SsTrainer SsTrainer;

SsTrainer *ss_trainer_new (SsModel *model, const SsOptimConfig *config, int max_batch,
                           SsError *error);
/* The model must outlive its trainer (freeing one resets what it set on the model). */
void       ss_trainer_free (SsTrainer *trainer);
/* One step: forward, softmax cross-entropy, backward, optimiser update. A label -1 - e
 * means "any class but e" (see loss.c).
 * Returns the mean loss; *n_correct gets the number of right top-1 calls. */
float      ss_trainer_step (SsTrainer *trainer, const float *x, const int *labels, int n,
                            int *n_correct);
/* The same step learning also from a teacher: soft (n, k) holds the teacher's
 * probabilities softened by temperature (q = p^(1/T), renormalised); the loss is
 * (1 - alpha) * the step's loss + alpha * T^2 * KL(q || softmax(logits / T)). */
float      ss_trainer_step_distill (SsTrainer *trainer, const float *x, const int *labels,
                                    const float *soft, float alpha, float temperature, int n,
                                    int *n_correct);
/* The same step on mixed images (mixup): x holds lambda * image_i + (1 - lambda) *
 * image_j, mixed by the caller, labels image_i's labels and labels2 image_j's; the loss
 * is lambda * the step's loss for labels + (1 - lambda) * that for labels2. *n_correct
 * counts right calls of labels. */
float      ss_trainer_step_mixed (SsTrainer *trainer, const float *x, const int *labels,
                                  const int *labels2, float lambda, int n, int *n_correct);
void       ss_trainer_set_lr (SsTrainer *trainer, float lr);
/* Which part of the network a training step changes. SS_TRAIN_ALL (the default): every
 * weight. SS_TRAIN_LAST_STAGE: the layers from the first whose output is at the
 * network's last resolution (a ResNet's fourth stage; in an EfficientNet, from the
 * depthwise convolution of the block that reaches it, its expansion before it left out)
 * and the dense layer after them. SS_TRAIN_HEAD: the final dense layer alone. The layers left out keep
 * their weights bit for bit, and their batch norms normalise with the running statistics,
 * which stay as they are: the features they hand on are the model's own, however few the
 * images. Their gradients are not computed. Call before the first step; an error for a
 * network without such a part (no global pooling before its dense layers). */
typedef enum { SS_TRAIN_ALL = 0, SS_TRAIN_LAST_STAGE, SS_TRAIN_HEAD } SsTrainPart;
SsStatus   ss_trainer_set_part (SsTrainer *trainer, SsTrainPart part, SsError *error);
/* Seeds the random choices a training step makes inside the network (EfficientNet's
 * stochastic depth): step t's come from (seed, t) alone, so that a run is repeated by
 * its seed and thread count, and resumed from saved state, exactly. 0 by default. */
void       ss_trainer_set_seed (SsTrainer *trainer, uint64_t seed);
/* Label smoothing s in [0, 1): a class label's target is 1 - s on it plus s / k on
 * every class (loss.c); labels "not class e" are not smoothed. 0 (the default) is off. */
void       ss_trainer_set_label_smoothing (SsTrainer *trainer, float smoothing);
/* A moving average of the weights (Polyak averaging, as "EMA" in much training code):
 * after every step each parameter's and batch-norm statistic's average moves to it by
 * 1 - d, d = min (decay, (1 + step) / (10 + step)) so that the first steps do not
 * weigh the random start. decay 0 turns it off (the default); otherwise 0 < decay < 1.
 * Call before the first step (or before loading state that holds an average). */
SsStatus   ss_trainer_set_ema (SsTrainer *trainer, float decay, SsError *error);
/* Exchange the model's weights and statistics with the averaged ones (nothing without
 * an average): swap, evaluate or save, swap back. */
void       ss_trainer_swap_ema (SsTrainer *trainer);
/* Optimiser state, for checkpoints that resume (and the average, when there is one). */
SsStatus   ss_trainer_save_state (const SsTrainer *trainer, const char *path, SsError *error);
SsStatus   ss_trainer_load_state (SsTrainer *trainer, const char *path, SsError *error);

#ifdef __cplusplus
}
#endif
