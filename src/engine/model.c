/* Models as a whole: creation from a spec, inference, Grad-CAM and the trainer. */
#include "engine-private.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SS_PREDICT_CHUNK 32  /* images per forward pass in ss_model_predict */

static const struct { SsArch arch; const char *name; } arch_names[] = {
  { SS_ARCH_MSCNN, "mscnn" },
  { SS_ARCH_RESNET18, "resnet18" },
  { SS_ARCH_RESNET50, "resnet50" },
  { SS_ARCH_VGG16, "vgg16" },
  { SS_ARCH_VGG16_BN, "vgg16_bn" },
  { SS_ARCH_EFFICIENTNET_B0, "efficientnet_b0" },
};

SsArch
ss_arch_from_name (const char *name)
{
  for (size_t i = 0; i < sizeof arch_names / sizeof arch_names[0]; i++)
    if (strcmp (arch_names[i].name, name) == 0)
      return arch_names[i].arch;
  return 0;
}

int
ss_model_stem_kernel (const SsModelSpec *spec)
{
  if (spec->arch != SS_ARCH_RESNET18 && spec->arch != SS_ARCH_RESNET50)
    return 0;
  return spec->stem_k != 0 ? spec->stem_k : 7;
}

int
ss_stem_kernel_valid (SsArch arch, int stem_k)
{
  const bool resnet = arch == SS_ARCH_RESNET18 || arch == SS_ARCH_RESNET50;
  return stem_k == 0 || (resnet && (stem_k == 3 || stem_k == 5));
}

const char *
ss_arch_name (SsArch arch)
{
  if (arch == SS_ARCH_ENSEMBLE)
    return "ensemble";  /* not a name `train` accepts: ensembles are assembled */
  for (size_t i = 0; i < sizeof arch_names / sizeof arch_names[0]; i++)
    if (arch_names[i].arch == arch)
      return arch_names[i].name;
  return "unknown";
}

int
ss_resample_from_name (const char *name)
{
  if (strcmp (name, "bilinear") == 0)
    return SS_RESAMPLE_BILINEAR;
  if (strcmp (name, "area") == 0)
    return SS_RESAMPLE_AREA;
  return -1;
}

const char *
ss_resample_name (SsResample resample)
{
  return resample == SS_RESAMPLE_AREA ? "area" : resample == SS_RESAMPLE_BILINEAR ? "bilinear"
                                                                                   : "unknown";
}

static SsStatus
check_spec (const SsModelSpec *spec, SsError *error)
{
  if (ss_arch_name (spec->arch)[0] == 'u' || spec->arch == SS_ARCH_ENSEMBLE)
    return ss_error_set (error, SS_ERR_ARG, "unknown architecture id %d", (int) spec->arch);
  if (spec->in_c != 3)
    return ss_error_set (error, SS_ERR_ARG, "input must have 3 channels, not %d", spec->in_c);
  if (spec->in_h < 8 || spec->in_w < 8 || spec->in_h > 1024 || spec->in_w > 1024)
    return ss_error_set (error, SS_ERR_ARG, "input size %dx%d is outside 8..1024", spec->in_w,
                         spec->in_h);
  if (spec->resample != SS_RESAMPLE_BILINEAR && spec->resample != SS_RESAMPLE_AREA)
    return ss_error_set (error, SS_ERR_ARG, "unknown resampling %d", (int) spec->resample);
  if (spec->width < 1 || spec->width > 512)
    return ss_error_set (error, SS_ERR_ARG, "width %d is outside 1..512", spec->width);
  if (!ss_stem_kernel_valid (spec->arch, spec->stem_k))
    return ss_error_set (error, SS_ERR_ARG, "stem kernel %d: a ResNet's stem is 7 (written 0), "
                         "5 or 3; the other networks have no choice", spec->stem_k);
  if (spec->n_classes < 2 || spec->n_classes > SS_MAX_CLASSES)
    return ss_error_set (error, SS_ERR_ARG, "a model needs 2 to %d classes, not %d",
                         SS_MAX_CLASSES, spec->n_classes);
  for (int c = 0; c < spec->n_classes; c++)
    if (spec->class_names[c][0] == '\0'
        || memchr (spec->class_names[c], '\0', SS_NAME_LEN) == NULL)
      return ss_error_set (error, SS_ERR_ARG, "class %d has no valid name", c);
  for (int c = 0; c < 3; c++)
    if (!(spec->std[c] > 0.0f) || !isfinite (spec->std[c]) || !isfinite (spec->mean[c]))
      return ss_error_set (error, SS_ERR_ARG, "normalisation of channel %d is invalid", c);
  return SS_OK;
}

/* The graph of spec with its blobs laid out but not allocated. */
static SsModel *
model_layout (const SsModelSpec *spec, SsError *error)
{
  if (check_spec (spec, error) != SS_OK)
    return NULL;
  SsModel *m = calloc (1, sizeof *m);
  if (m == NULL)
    {
      ss_error_set (error, SS_ERR_NOMEM, "out of memory");
      return NULL;
    }
  m->spec = *spec;
  SsStatus st;
  switch (spec->arch)
    {
    case SS_ARCH_MSCNN:
      st = ss_build_mscnn (m, error);
      break;
    case SS_ARCH_VGG16:
    case SS_ARCH_VGG16_BN:
      st = ss_build_vgg (m, error);
      break;
    case SS_ARCH_EFFICIENTNET_B0:
      st = ss_build_efficientnet (m, error);
      break;
    default:
      st = ss_build_resnet (m, error);
      break;
    }
  if (st == SS_OK)
    st = ss_graph_finish (m, error);
  if (st != SS_OK)
    {
      ss_model_free (m);
      return NULL;
    }
  return m;
}

SsModel *
ss_model_new (const SsModelSpec *spec, uint64_t seed, SsError *error)
{
  SsModel *m = model_layout (spec, error);
  if (m == NULL)
    return NULL;
  if (ss_graph_allocate (m, error) != SS_OK)
    {
      ss_model_free (m);
      return NULL;
    }
  ss_graph_init_params (m, seed);
  return m;
}

SsStatus
ss_model_count_params (const SsModelSpec *spec, size_t *n_params, size_t *n_buffers,
                       SsError *error)
{
  SsModel *m = model_layout (spec, error);
  if (m == NULL)
    return error != NULL ? error->status : SS_ERR_ARG;
  *n_params = m->n_params;
  *n_buffers = m->n_buffers;
  ss_model_free (m);
  return SS_OK;
}

void
ss_model_free (SsModel *model)
{
  if (model == NULL)
    return;
  for (int i = 0; i < model->n_members; i++)
    ss_model_free (model->members[i]);
  free (model->members);
  ss_run_free (model->run);
  ss_aligned_free (model->params);
  ss_aligned_free (model->buffers);
  free (model->training_info);
  free (model->lab_head);
  free (model);
}

const SsModelSpec *
ss_model_spec (const SsModel *model)
{
  return &model->spec;
}

size_t
ss_model_n_params (const SsModel *model)
{
  size_t n = model->n_params;
  for (int i = 0; i < model->n_members; i++)
    n += ss_model_n_params (model->members[i]);
  return n;
}

double
ss_model_flops (const SsModel *model)
{
  double flops = 0.0;
  for (int i = 0; i < model->n_members; i++)
    flops += ss_model_flops (model->members[i]);
  for (int i = 0; i < model->n_nodes; i++)
    {
      const SsNode *n = &model->nodes[i];
      if (n->kind == SS_OP_CONV || n->kind == SS_OP_DWCONV)
        flops += 2.0 * n->w_len * n->conv.out_h * n->conv.out_w;
      else if (n->kind == SS_OP_DENSE)
        flops += 2.0 * n->w_len;
      else if (n->kind == SS_OP_SE)
        flops += 4.0 * n->c * n->squeeze;  /* its two dense layers */
    }
  return flops * ss_model_views (model);  /* an ensemble's members have one view each */
}

double
ss_model_first_conv_flops (const SsModel *model)
{
  for (int i = 0; i < model->n_nodes; i++)
    if (model->nodes[i].kind == SS_OP_CONV)
      return 2.0 * model->nodes[i].w_len * model->nodes[i].conv.out_h * model->nodes[i].conv.out_w;
  return 0.0;
}

void
ss_model_set_training_info (SsModel *model, const char *info)
{
  free (model->training_info);
  model->training_info = info != NULL ? strdup (info) : NULL;
}

const char *
ss_model_training_info (const SsModel *model)
{
  return model->training_info != NULL ? model->training_info : "";
}

SsStatus
ss_model_copy_backbone (SsModel *to, const SsModel *from, int head)
{
  if (to->n_members > 0 || from->n_members > 0)
    return SS_ERR_ARG;
  const SsNode *head_to = &to->nodes[to->n_nodes - 1];
  const SsNode *head_from = &from->nodes[from->n_nodes - 1];
  if (to->n_nodes != from->n_nodes || head_to->w_off != head_from->w_off
      || to->n_buffers != from->n_buffers)
    return SS_ERR_ARG;
  if (head && to->n_params != from->n_params)
    return SS_ERR_ARG;  /* another number of classes */
  /* the head is last in the blob: everything before its weights is the backbone */
  memcpy (to->params, from->params,
          sizeof (float) * (head ? to->n_params : head_to->w_off));
  memcpy (to->buffers, from->buffers, sizeof (float) * to->n_buffers);
  ss_run_params_changed (to);
  return SS_OK;
}

SsStatus
ss_model_predict (SsModel *model, const float *x, int n, float *probs, SsError *error)
{
  if (model->n_members > 0 || ss_model_views (model) > 1)
    return ss_ensemble_predict (model, x, n, probs, error);
  return ss_net_predict (model, x, n, probs, error);
}

SsStatus
ss_model_gradcam (SsModel *model, const float *x, int cls, float **map, int *map_h, int *map_w,
                  float *prob, SsError *error)
{
  if (model->n_members > 0)
    return ss_ensemble_gradcam (model, x, cls, map, map_h, map_w, prob, error);
  return ss_net_gradcam (model, x, cls, map, map_h, map_w, prob, error);
}

size_t
ss_model_feature_dim (const SsModel *model)
{
  if (model->n_members > 0)
    return 0;
  const SsNode *node = &model->nodes[model->feature_node];
  return (size_t) node->c * node->h * node->w;
}

/* Forward n images through one network in chunks; after each chunk, take() reads what
 * it needs of the run (images first .. first + nb - 1). */
typedef void (*ChunkTake) (SsModel *model, int first, int nb, void *data);

static SsStatus
forward_chunks (SsModel *model, const float *x, int n, ChunkTake take, void *data,
                SsError *error)
{
  const SsModelSpec *sp = &model->spec;
  const size_t image = (size_t) sp->in_c * sp->in_h * sp->in_w;
  int chunk = n < SS_PREDICT_CHUNK ? n : SS_PREDICT_CHUNK;
  if (n <= 0)
    return SS_OK;
  SsStatus st = ss_run_ensure (model, chunk, false, error);
  if (st != SS_OK)
    return st;
  for (int b = 0; b < n; b += chunk)
    {
      int nb = n - b < chunk ? n - b : chunk;
      ss_run_forward (model, x + (size_t) b * image, nb, false);
      take (model, b, nb, data);
    }
  return SS_OK;
}

static void
take_features (SsModel *model, int first, int nb, void *data)
{
  float *features = data;
  const size_t dim = ss_model_feature_dim (model);
  size_t stride;
  const float *out = ss_run_node_out (model, model->feature_node, &stride);
  for (int i = 0; i < nb; i++)
    memcpy (features + (size_t) (first + i) * dim, out + (size_t) i * stride, dim * sizeof (float));
}

float *
ss_model_head (SsModel *model, float **bias)
{
  if (model == NULL || model->n_members > 0)
    return NULL;
  for (int i = model->n_nodes - 1; i >= 0; i--)
    {
      const SsNode *node = &model->nodes[i];
      if (node->kind == SS_OP_DENSE && node->inputs[0] == model->feature_node)
        {
          if (bias != NULL)
            *bias = model->params + node->b_off;
          return model->params + node->w_off;
        }
    }
  return NULL;
}

void
ss_model_params_changed (SsModel *model)
{
  if (model == NULL)
    return;
  for (int i = 0; i < model->n_members; i++)
    ss_run_params_changed (model->members[i]);
  if (model->n_members == 0)
    ss_run_params_changed (model);
}

SsStatus
ss_model_features (SsModel *model, const float *x, int n, float *features, SsError *error)
{
  if (model->n_members > 0)
    return ss_error_set (error, SS_ERR_ARG, "the features of a model of %d networks are not "
                         "one network's; give one network", model->n_members);
  return forward_chunks (model, x, n, take_features, features, error);
}

void
ss_camera_stats (const float *x, int c, int h, int w, float *stats)
{
  const size_t hw = (size_t) h * w;
  for (int ch = 0; ch < 3; ch++)
    {
      /* a grey input has one channel: it stands for all three */
      const float *v = x + (size_t) (ch < c ? ch : c - 1) * hw;
      unsigned hist[256] = { 0 };
      double sum = 0, sum2 = 0;
      for (size_t i = 0; i < hw; i++)
        {
          const float t = v[i] < 0.0f ? 0.0f : (v[i] > 1.0f ? 1.0f : v[i]);
          sum += t;
          sum2 += (double) t * t;
          hist[(int) (t * 255.0f + 0.5f)]++;
        }
      const double mean = sum / (double) hw;
      const double var = sum2 / (double) hw - mean * mean;
      size_t seen = 0, bin = 0;
      while (bin < 255 && (seen += hist[bin]) < (hw * 9 + 9) / 10)
        bin++;
      stats[3 * ch] = (float) mean;
      stats[3 * ch + 1] = (float) sqrt (var > 0 ? var : 0);
      stats[3 * ch + 2] = (float) bin / 255.0f;
    }
}

size_t
ss_model_lab_head_len (const SsModel *model)
{
  if (model->n_members > 0)
    return 0;
  const size_t k = (size_t) model->spec.n_classes;
  return k * ss_model_feature_dim (model) + k + SS_CAMERA_STATS + 1;
}

SsStatus
ss_model_set_lab_head (SsModel *model, const float *values, SsError *error)
{
  if (model->n_members > 0)
    return ss_error_set (error, SS_ERR_ARG, "a model of %d networks has no one head to give "
                         "a lab's head beside", model->n_members);
  const size_t len = ss_model_lab_head_len (model);
  float *copy = NULL;
  if (values != NULL)
    {
      for (size_t i = 0; i < len; i++)
        if (!isfinite (values[i]))
          return ss_error_set (error, SS_ERR_ARG, "lab head value %zu is not a finite number", i);
      copy = malloc (sizeof (float) * len);
      if (copy == NULL)
        return ss_error_set (error, SS_ERR_NOMEM, "out of memory");
      memcpy (copy, values, sizeof (float) * len);
    }
  free (model->lab_head);
  model->lab_head = copy;
  return SS_OK;
}

const float *
ss_model_lab_head (const SsModel *model)
{
  return model->n_members > 0 ? NULL : model->lab_head;
}

float
ss_model_lab_gate_stats (const SsModel *model, const float *stats)
{
  if (ss_model_lab_head (model) == NULL)
    return 0.0f;
  const float *gate = model->lab_head + ss_model_lab_head_len (model) - SS_CAMERA_STATS - 1;
  double z = gate[SS_CAMERA_STATS];
  for (int j = 0; j < SS_CAMERA_STATS; j++)
    z += (double) gate[j] * stats[j];
  return (float) (1.0 / (1.0 + exp (-z)));
}

/* The gate of one image of the model's input size. */
static float
lab_gate (const SsModel *model, const float *x)
{
  const SsModelSpec *sp = &model->spec;
  float stats[SS_CAMERA_STATS];
  ss_camera_stats (x, sp->in_c, sp->in_h, sp->in_w, stats);
  return ss_model_lab_gate_stats (model, stats);
}

SsStatus
ss_model_lab_gate (SsModel *model, const float *x, int n, float *gate, SsError *error)
{
  (void) error;
  const SsModelSpec *sp = &model->spec;
  const size_t image = (size_t) sp->in_c * sp->in_h * sp->in_w;
  for (int i = 0; i < n; i++)
    gate[i] = lab_gate (model, x + (size_t) i * image);
  return SS_OK;
}

typedef struct {
  const float *x;
  float       *probs;
} TakeProbs;

static void
take_probs (SsModel *model, int first, int nb, void *data)
{
  TakeProbs *t = data;
  const int k = model->spec.n_classes;
  float *probs = t->probs + (size_t) first * k;
  ss_softmax_rows (ss_run_output (model), nb, k, probs);
  if (model->lab_head == NULL)
    return;
  /* the lab's head on the same features, for the images that look like the lab's
   * camera */
  const SsModelSpec *sp = &model->spec;
  const size_t image = (size_t) sp->in_c * sp->in_h * sp->in_w;
  const size_t dim = ss_model_feature_dim (model);
  const float *weight = model->lab_head, *bias = model->lab_head + (size_t) k * dim;
  size_t stride;
  const float *features = ss_run_node_out (model, model->feature_node, &stride);
  float logits[SS_MAX_CLASSES];
  for (int i = 0; i < nb; i++)
    {
      if (lab_gate (model, t->x + (size_t) (first + i) * image) <= 0.5f)
        continue;
      const float *f = features + (size_t) i * stride;
      for (int c = 0; c < k; c++)
        {
          double s = bias[c];
          for (size_t j = 0; j < dim; j++)
            s += (double) weight[(size_t) c * dim + j] * f[j];
          logits[c] = (float) s;
        }
      ss_softmax_rows (logits, 1, k, probs + (size_t) i * k);
    }
}

SsStatus
ss_net_predict (SsModel *model, const float *x, int n, float *probs, SsError *error)
{
  TakeProbs t = { x, probs };
  return forward_chunks (model, x, n, take_probs, &t, error);
}

SsStatus
ss_net_gradcam (SsModel *model, const float *x, int cls, float **map, int *map_h, int *map_w,
                float *prob, SsError *error)
{
  const int k = model->spec.n_classes;
  if (cls < 0 || cls >= k)
    return ss_error_set (error, SS_ERR_ARG, "class %d is not one of the model's %d", cls, k);
  SsStatus st = ss_run_ensure (model, 1, true, error);
  if (st != SS_OK)
    return st;
  ss_run_forward (model, x, 1, false);

  float dlogits[SS_MAX_CLASSES] = { 0 }, p[SS_MAX_CLASSES];
  ss_softmax_rows (ss_run_output (model), 1, k, p);
  if (prob != NULL)
    *prob = p[cls];
  dlogits[cls] = 1.0f;  /* gradient of the class score before softmax, as Selvaraju et al. */
  ss_run_backward (model, dlogits, 1, false, model->cam_node);

  const SsNode *node = &model->nodes[model->cam_node];
  size_t stride;
  const float *A = ss_run_node_out (model, model->cam_node, &stride);
  const float *dA = ss_run_node_grad (model, model->cam_node, &stride);
  const size_t hw = (size_t) node->h * node->w;
  float *cam = calloc (hw, sizeof (float));
  if (cam == NULL)
    return ss_error_set (error, SS_ERR_NOMEM, "out of memory");
  for (int c = 0; c < node->c; c++)
    {
      double alpha = 0.0;
      for (size_t i = 0; i < hw; i++)
        alpha += dA[c * hw + i];
      alpha /= (double) hw;
      for (size_t i = 0; i < hw; i++)
        cam[i] += (float) alpha * A[c * hw + i];
    }
  float max = 0.0f;
  for (size_t i = 0; i < hw; i++)
    {
      if (cam[i] < 0.0f)
        cam[i] = 0.0f;
      if (cam[i] > max)
        max = cam[i];
    }
  if (max > 0.0f)
    for (size_t i = 0; i < hw; i++)
      cam[i] /= max;
  *map = cam;
  *map_h = node->h;
  *map_w = node->w;
  return SS_OK;
}

/* ---- trainer ------------------------------------------------------------------------ */

struct SsTrainer {
  SsModel      *model;
  SsOptimConfig config;
  int           max_batch;
  long          step;
  float         smoothing;    /* label smoothing of the loss (0: none) */
  float        *m, *v;        /* optimiser moments, one per parameter */
  float        *probs, *dlogits, *dlogits2;
  float         ema_decay;    /* 0: no moving average */
  float        *ema_params, *ema_buffers;
  uint64_t      seed;         /* of the network's random choices (ss_trainer_set_seed) */
  /* the part it trains (ss_trainer_set_part): nodes from model->train_from on, whose
   * parameters and statistics are those from these offsets on */
  size_t        first_param, first_buffer;
};

SsTrainer *
ss_trainer_new (SsModel *model, const SsOptimConfig *config, int max_batch, SsError *error)
{
  if (model->n_members > 0)
    {
      ss_error_set (error, SS_ERR_ARG, "an ensemble is not trained as a whole: train its "
                    "members and assemble them");
      return NULL;
    }
  SsTrainer *t = calloc (1, sizeof *t);
  if (t == NULL)
    goto nomem;
  t->model = model;
  t->config = *config;
  t->max_batch = max_batch;
  t->m = ss_aligned_alloc (sizeof (float) * model->n_params);
  t->v = ss_aligned_alloc (sizeof (float) * model->n_params);
  t->probs = calloc ((size_t) max_batch * model->spec.n_classes, sizeof (float));
  t->dlogits = calloc ((size_t) max_batch * model->spec.n_classes, sizeof (float));
  t->dlogits2 = calloc ((size_t) max_batch * model->spec.n_classes, sizeof (float));
  if (t->m == NULL || t->v == NULL || t->probs == NULL || t->dlogits == NULL
      || t->dlogits2 == NULL)
    goto nomem;
  if (ss_run_ensure (model, max_batch, true, error) != SS_OK)
    {
      ss_trainer_free (t);
      return NULL;
    }
  return t;

nomem:
  ss_trainer_free (t);
  ss_error_set (error, SS_ERR_NOMEM, "out of memory for the trainer");
  return NULL;
}

void
ss_trainer_free (SsTrainer *trainer)
{
  if (trainer == NULL)
    return;
  trainer->model->train_from = 0;
  ss_aligned_free (trainer->m);
  ss_aligned_free (trainer->v);
  free (trainer->probs);
  free (trainer->dlogits);
  free (trainer->dlogits2);
  ss_aligned_free (trainer->ema_params);
  free (trainer->ema_buffers);
  free (trainer);
}

SsStatus
ss_trainer_set_ema (SsTrainer *trainer, float decay, SsError *error)
{
  if (!(decay >= 0.0f && decay < 1.0f))
    return ss_error_set (error, SS_ERR_ARG, "the average's decay must be in [0, 1), not %g",
                         (double) decay);
  SsModel *m = trainer->model;
  ss_aligned_free (trainer->ema_params);
  free (trainer->ema_buffers);
  trainer->ema_params = NULL;
  trainer->ema_buffers = NULL;
  trainer->ema_decay = decay;
  if (decay == 0.0f)
    return SS_OK;
  trainer->ema_params = ss_aligned_alloc (sizeof (float) * m->n_params);
  trainer->ema_buffers = malloc (sizeof (float) * (m->n_buffers > 0 ? m->n_buffers : 1));
  if (trainer->ema_params == NULL || trainer->ema_buffers == NULL)
    {
      ss_aligned_free (trainer->ema_params);
      free (trainer->ema_buffers);
      trainer->ema_params = NULL;
      trainer->ema_buffers = NULL;
      trainer->ema_decay = 0.0f;
      return ss_error_set (error, SS_ERR_NOMEM, "out of memory for the weights' average");
    }
  memcpy (trainer->ema_params, m->params, sizeof (float) * m->n_params);
  memcpy (trainer->ema_buffers, m->buffers, sizeof (float) * m->n_buffers);
  return SS_OK;
}

static void
ema_update (float *avg, const float *x, size_t n, float d)
{
  for (size_t i = 0; i < n; i++)
    avg[i] = d * avg[i] + (1.0f - d) * x[i];
}

static void
swap_floats (float *a, float *b, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float t = a[i];
      a[i] = b[i];
      b[i] = t;
    }
}

void
ss_trainer_swap_ema (SsTrainer *trainer)
{
  if (trainer->ema_params == NULL)
    return;
  SsModel *m = trainer->model;
  swap_floats (m->params, trainer->ema_params, m->n_params);
  swap_floats (m->buffers, trainer->ema_buffers, m->n_buffers);
  ss_run_params_changed (m);
}

/* The first node of part, or -1 when the network has no such part. */
static int
part_first_node (const SsModel *m, SsTrainPart part)
{
  if (part == SS_TRAIN_ALL)
    return 0;
  const int last = m->n_nodes - 1;
  if (last < 1 || m->nodes[last].kind != SS_OP_DENSE)
    return -1;
  if (part == SS_TRAIN_HEAD)
    return last;
  /* the last resolution: that of the map the global pooling reads */
  const SsNode *pool = &m->nodes[m->feature_node];
  if (m->feature_node <= 0 || pool->kind != SS_OP_GAP)
    return -1;
  const int h = m->nodes[pool->inputs[0]].h, w = m->nodes[pool->inputs[0]].w;
  if (h >= m->spec.in_h && w >= m->spec.in_w)
    return -1;  /* nothing at a lower resolution than the input's */
  for (int i = 1; i < m->feature_node; i++)
    if (m->nodes[i].h == h && m->nodes[i].w == w)
      return i;
  return -1;
}

SsStatus
ss_trainer_set_part (SsTrainer *trainer, SsTrainPart part, SsError *error)
{
  SsModel *m = trainer->model;
  const int first = part_first_node (m, part);
  if (first < 0)
    return ss_error_set (error, SS_ERR_ARG, "this network has no %s to train alone",
                         part == SS_TRAIN_HEAD ? "final dense layer" : "last stage");
  /* the nodes left out must hold the parameters and statistics before the part's (the
   * graph lays them out in node order) */
  size_t first_param = m->n_params, first_buffer = m->n_buffers;
  for (int i = first; i < m->n_nodes; i++)
    {
      const SsNode *node = &m->nodes[i];
      if (node->w_len > 0 && node->w_off < first_param)
        first_param = node->w_off;
      if (node->b_len > 0 && node->b_off < first_param)
        first_param = node->b_off;
      if (node->kind == SS_OP_BN && node->buf_off < first_buffer)
        first_buffer = node->buf_off;
    }
  for (int i = 0; i < first; i++)
    {
      const SsNode *node = &m->nodes[i];
      if ((node->w_len > 0 && node->w_off + node->w_len > first_param)
          || (node->b_len > 0 && node->b_off + node->b_len > first_param)
          || (node->kind == SS_OP_BN && node->buf_off + 2 * (size_t) node->c > first_buffer))
        return ss_error_set (error, SS_ERR_ARG, "this network's parameters are not laid out "
                             "in the order of its layers: it cannot be trained in part");
    }
  m->train_from = first;
  trainer->first_param = first_param;
  trainer->first_buffer = first_buffer;
  return SS_OK;
}

void
ss_trainer_set_lr (SsTrainer *trainer, float lr)
{
  trainer->config.lr = lr;
}

void
ss_trainer_set_seed (SsTrainer *trainer, uint64_t seed)
{
  trainer->seed = seed;
}

void
ss_trainer_set_label_smoothing (SsTrainer *trainer, float smoothing)
{
  trainer->smoothing = smoothing;
}

/* forward, the loss of one of the step kinds, backward and update */
static float
trainer_step (SsTrainer *trainer, const float *x, const int *labels, const int *labels2,
              float lambda, const float *soft, float alpha, float temperature, int n,
              int *n_correct)
{
  SsModel *m = trainer->model;
  const int k = m->spec.n_classes;
  if (n > trainer->max_batch)
    n = trainer->max_batch;
  /* the thread count may have changed since the trainer was made: per-thread buffers
   * follow it (nothing is allocated when it has not) */
  if (ss_run_ensure (m, trainer->max_batch, true, NULL) != SS_OK)
    return NAN;
  /* the step about to be taken, so that a resumed run draws as the first run did */
  m->draw_seed = (trainer->seed << 32) ^ (uint64_t) (trainer->step + 1);
  ss_run_forward (m, x, n, true);
  const float *z = ss_run_output (m);
  float loss;
  if (soft != NULL)
    loss = ss_distill_cross_entropy (z, labels, soft, alpha, temperature, n, k,
                                     trainer->smoothing, trainer->probs, trainer->dlogits,
                                     n_correct);
  else if (labels2 != NULL)
    loss = ss_mixed_cross_entropy (z, labels, labels2, lambda, n, k, trainer->smoothing,
                                   trainer->probs, trainer->dlogits, trainer->dlogits2,
                                   n_correct);
  else
    loss = ss_softmax_cross_entropy (z, labels, n, k, trainer->smoothing, trainer->probs,
                                     trainer->dlogits, n_correct);
  /* back to the part trained, no further */
  ss_run_backward (m, trainer->dlogits, n, true, m->train_from - 1);
  trainer->step++;
  /* the blob in runs of equal learning rate: dense layers may learn slower (see
   * SsOptimConfig.dense_fan_in_ref); the part left out is not touched */
  const float *grad = ss_run_param_grad (m);
  size_t done = trainer->first_param;
  for (int i = m->train_from; i <= m->n_nodes; i++)
    {
      const SsNode *node = i < m->n_nodes ? &m->nodes[i] : NULL;
      if (node != NULL && (node->kind != SS_OP_DENSE || trainer->config.dense_fan_in_ref <= 0.0f))
        continue;
      size_t until = node != NULL ? node->w_off : m->n_params;
      if (until > done)
        ss_optim_step (&trainer->config, 1.0f, m->params + done, grad + done, trainer->m + done,
                       trainer->v + done, until - done, trainer->step);
      if (node == NULL)
        break;
      float fan_in = (float) (node->w_len / node->b_len);
      float scale = fminf (1.0f, trainer->config.dense_fan_in_ref / fan_in);
      size_t len = node->w_len + node->b_len;
      ss_optim_step (&trainer->config, scale, m->params + node->w_off, grad + node->w_off,
                     trainer->m + node->w_off, trainer->v + node->w_off, len, trainer->step);
      done = node->w_off + len;
    }
  ss_run_params_changed (m);
  if (trainer->ema_params != NULL)
    {
      float d = fminf (trainer->ema_decay, (1.0f + trainer->step) / (10.0f + trainer->step));
      ema_update (trainer->ema_params + trainer->first_param, m->params + trainer->first_param,
                  m->n_params - trainer->first_param, d);
      ema_update (trainer->ema_buffers + trainer->first_buffer,
                  m->buffers + trainer->first_buffer, m->n_buffers - trainer->first_buffer, d);
    }
  return loss;
}

float
ss_trainer_step (SsTrainer *trainer, const float *x, const int *labels, int n, int *n_correct)
{
  return trainer_step (trainer, x, labels, NULL, 1.0f, NULL, 0.0f, 1.0f, n, n_correct);
}

float
ss_trainer_step_distill (SsTrainer *trainer, const float *x, const int *labels,
                         const float *soft, float alpha, float temperature, int n,
                         int *n_correct)
{
  return trainer_step (trainer, x, labels, NULL, 1.0f, soft, alpha, temperature, n, n_correct);
}

float
ss_trainer_step_mixed (SsTrainer *trainer, const float *x, const int *labels, const int *labels2,
                       float lambda, int n, int *n_correct)
{
  return trainer_step (trainer, x, labels, labels2, lambda, NULL, 0.0f, 1.0f, n, n_correct);
}

/* Optimiser state file: "SSO1", step, n_params, then m and v as float32. With a moving
 * average of the weights: "SSO2", step, n_params, n_buffers, m, v, then the averaged
 * parameters and statistics. */
SsStatus
ss_trainer_save_state (const SsTrainer *trainer, const char *path, SsError *error)
{
  char tmp[4096];
  snprintf (tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen (tmp, "wb");
  if (f == NULL)
    return ss_error_set (error, SS_ERR_IO, "cannot write %s", tmp);
  const SsModel *model = trainer->model;
  const bool ema = trainer->ema_params != NULL;
  uint64_t header[3] = { (uint64_t) trainer->step, model->n_params, model->n_buffers };
  size_t n = model->n_params, nb = model->n_buffers;
  int ok = fwrite (ema ? "SSO2" : "SSO1", 1, 4, f) == 4
           && fwrite (header, sizeof (uint64_t), ema ? 3 : 2, f) == (ema ? 3u : 2u)
           && fwrite (trainer->m, sizeof (float), n, f) == n
           && fwrite (trainer->v, sizeof (float), n, f) == n
           && (!ema || (fwrite (trainer->ema_params, sizeof (float), n, f) == n
                        && fwrite (trainer->ema_buffers, sizeof (float), nb, f) == nb))
           && fflush (f) == 0 && fsync (fileno (f)) == 0;
  ok = (fclose (f) == 0) && ok;
  if (!ok || rename (tmp, path) != 0)
    {
      remove (tmp);
      return ss_error_set (error, SS_ERR_IO, "cannot write optimiser state to %s", path);
    }
  return SS_OK;
}

SsStatus
ss_trainer_load_state (SsTrainer *trainer, const char *path, SsError *error)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return ss_error_set (error, SS_ERR_IO, "cannot open %s", path);
  char magic[4];
  uint64_t header[3] = { 0, 0, 0 };
  const SsModel *model = trainer->model;
  const bool ema = trainer->ema_params != NULL;
  size_t n = model->n_params, nb = model->n_buffers;
  if (fread (magic, 1, 4, f) != 4
      || (memcmp (magic, "SSO1", 4) != 0 && memcmp (magic, "SSO2", 4) != 0))
    {
      fclose (f);
      return ss_error_set (error, SS_ERR_FORMAT, "%s is not optimiser state", path);
    }
  if ((memcmp (magic, "SSO2", 4) == 0) != ema)
    {
      fclose (f);
      return ss_error_set (error, SS_ERR_ARG, "%s was saved %s a moving average of the weights; "
                           "resume it as it was trained (--ema)", path, ema ? "without" : "with");
    }
  /* read into fresh buffers: a short file must leave the trainer as it was */
  float *m = ss_aligned_alloc (sizeof (float) * n), *v = ss_aligned_alloc (sizeof (float) * n);
  float *ep = ema ? ss_aligned_alloc (sizeof (float) * n) : NULL;
  float *eb = ema ? malloc (sizeof (float) * (nb > 0 ? nb : 1)) : NULL;
  int ok = m != NULL && v != NULL && (!ema || (ep != NULL && eb != NULL))
           && fread (header, sizeof (uint64_t), ema ? 3 : 2, f) == (ema ? 3u : 2u)
           && header[1] == n && (!ema || header[2] == nb)
           && fread (m, sizeof (float), n, f) == n && fread (v, sizeof (float), n, f) == n
           && (!ema || (fread (ep, sizeof (float), n, f) == n
                        && fread (eb, sizeof (float), nb, f) == nb));
  fclose (f);
  if (!ok)
    {
      ss_aligned_free (m);
      ss_aligned_free (v);
      ss_aligned_free (ep);
      free (eb);
      return ss_error_set (error, SS_ERR_FORMAT, "%s is not optimiser state for this model", path);
    }
  ss_aligned_free (trainer->m);
  ss_aligned_free (trainer->v);
  trainer->m = m;
  trainer->v = v;
  if (ema)
    {
      ss_aligned_free (trainer->ema_params);
      free (trainer->ema_buffers);
      trainer->ema_params = ep;
      trainer->ema_buffers = eb;
    }
  trainer->step = (long) header[0];
  return SS_OK;
}
