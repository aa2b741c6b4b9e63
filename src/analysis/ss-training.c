/* The training loop. Each epoch draws its shuffle and augmentation from an RNG seeded
 * by (seed, epoch), so a run resumed from a checkpoint continues exactly as an
 * uninterrupted one would, given the same thread count. */
#include "ss-training.h"

#include "ss-image.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const part_names[] = { "all", "last-stage", "head" };
G_STATIC_ASSERT (G_N_ELEMENTS (part_names) == SS_TRAIN_HEAD + 1);

const char *
ss_train_part_name (SsTrainPart part)
{
  return part >= SS_TRAIN_ALL && part <= SS_TRAIN_HEAD ? part_names[part] : part_names[0];
}

gboolean
ss_train_part_from_name (const char *name, SsTrainPart *part)
{
  for (guint p = 0; name != NULL && p < G_N_ELEMENTS (part_names); p++)
    if (strcmp (name, part_names[p]) == 0)
      {
        *part = (SsTrainPart) p;
        return TRUE;
      }
  return FALSE;
}

/* The same classes, in the same order */
static gboolean
same_classes (const SsModelSpec *a, const SsModelSpec *b)
{
  gboolean same = a->n_classes == b->n_classes;
  for (int c = 0; same && c < a->n_classes; c++)
    same = strcmp (a->class_names[c], b->class_names[c]) == 0;
  return same;
}

void
ss_train_config_init (SsTrainConfig *config)
{
  memset (config, 0, sizeof *config);
  config->arch = SS_ARCH_MSCNN;
  config->width = 32;
  config->input_size = 128;
  config->epochs = 20;
  config->batch = 32;
  config->lr = 2e-4f;  /* the msCNN paper's Adam learning rate */
  config->optim = SS_OPTIM_ADAM;
  config->seed = 1;
  config->augment = TRUE;
}

/* Run every image of a data set through the model in chunks: run(model, x, n, out + b *
 * per_image) for each chunk. A n x per_image array, or NULL with the engine's message. */
typedef SsStatus (*DatasetRun) (SsModel *model, const float *x, int n, float *out,
                                SsError *error);

static float *
run_dataset (SsModel *model, const SsDataset *data, gsize per_image, DatasetRun run,
             GError **error)
{
  const int chunk = 32;
  const gsize image = (gsize) 3 * data->width * data->height;
  g_autofree float *x = g_new (float, chunk * image);
  float *out = g_new (float, (gsize) data->n * per_image);
  for (int b = 0; b < data->n; b += chunk)
    {
      int nb = MIN (chunk, data->n - b);
      for (int i = 0; i < nb; i++)
        ss_dataset_get (data, b + i, NULL, NULL, x + i * image);
      SsError engine_error;
      if (run (model, x, nb, out + (gsize) b * per_image, &engine_error) != SS_OK)
        {
          g_free (out);
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL, "%s",
                       engine_error.message);
          return NULL;
        }
    }
  return out;
}

float *
ss_predict_dataset (SsModel *model, const SsDataset *data, GError **error)
{
  return run_dataset (model, data, ss_model_spec (model)->n_classes, ss_model_predict, error);
}

float *
ss_features_dataset (SsModel *model, const SsDataset *data, GError **error)
{
  return run_dataset (model, data, ss_model_feature_dim (model), ss_model_features, error);
}

static SsStatus
camera_stats_run (SsModel *model, const float *x, int n, float *stats, SsError *error)
{
  (void) error;
  const SsModelSpec *sp = ss_model_spec (model);
  const gsize image = (gsize) sp->in_c * sp->in_h * sp->in_w;
  for (int i = 0; i < n; i++)
    ss_camera_stats (x + i * image, sp->in_c, sp->in_h, sp->in_w, stats + i * SS_CAMERA_STATS);
  return SS_OK;
}

float *
ss_camera_stats_dataset (SsModel *model, const SsDataset *data, GError **error)
{
  return run_dataset (model, data, SS_CAMERA_STATS, camera_stats_run, error);
}

float *
ss_teacher_targets (const char *teacher_path, const char *data_dir, GHashTable *map,
                    const SsDataset *train, float temperature, GError **error)
{
  SsError e;
  SsModel *teacher = ss_model_load (teacher_path, &e);
  if (teacher == NULL)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL, "teacher: %s", e.message);
      return NULL;
    }
  const SsModelSpec *spec = ss_model_spec (teacher);
  gboolean same = spec->n_classes == train->n_classes;
  for (int c = 0; same && c < spec->n_classes; c++)
    same = strcmp (spec->class_names[c], train->class_names[c]) == 0;
  if (!same)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "teacher %s does not have the classes being trained, in their order",
                   teacher_path);
      ss_model_free (teacher);
      return NULL;
    }
  g_autoptr (SsDataset) seen = ss_dataset_load (data_dir, map,
                                                (const char *const *) train->class_names,
                                                train->n_classes, spec->in_w, spec->in_h,
                                                spec->resample, error);
  same = seen != NULL && seen->n == train->n;
  for (int i = 0; same && i < train->n; i++)
    same = strcmp (seen->paths[i], train->paths[i]) == 0;
  if (seen != NULL && !same)
    g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                 "%s changed while it was read for the teacher", data_dir);
  float *q = same ? ss_predict_dataset (teacher, seen, error) : NULL;
  ss_model_free (teacher);
  if (q == NULL)
    return NULL;
  const int k = train->n_classes;
  for (int i = 0; i < train->n; i++)
    {
      float *row = q + (gsize) i * k;
      double sum = 0.0;
      for (int j = 0; j < k; j++)
        sum += row[j] = powf (row[j], 1.0f / temperature);
      for (int j = 0; j < k; j++)
        row[j] = (float) (row[j] / sum);
    }
  return q;
}

static double
accuracy_of (SsModel *model, const SsDataset *data)
{
  g_autofree float *probs = ss_predict_dataset (model, data, NULL);
  const int k = ss_model_spec (model)->n_classes;
  int right = 0;
  if (probs == NULL)
    return -1.0;
  int counted = 0;
  for (int i = 0; i < data->n; i++)
    {
      int best = ss_argmax (probs + (gsize) i * k, k);
      if (data->labels[i] >= 0)
        {
          right += best == data->labels[i];
          counted++;
        }
    }
  return counted > 0 ? (double) right / counted : -1.0;
}

/* An epoch's worth of indices in which every class appears n/k times: each class's
 * images shuffled and repeated (small classes) or cut short (large ones); images known
 * only not to be some class count as one more group. The caller shuffles the whole
 * afterwards. */
static void
balanced_order (const SsDataset *data, SsRng *rng, int *order)
{
  gboolean partial = FALSE;
  for (int i = 0; i < data->n && !partial; i++)
    partial = data->labels[i] < 0;
  const int k = data->n_classes + (partial ? 1 : 0), per_class = data->n / k;
  int filled = 0;
  for (int c = 0; c < k; c++)
    {
      g_autoptr (GArray) members = g_array_new (FALSE, FALSE, sizeof (int));
      for (int i = 0; i < data->n; i++)
        if (c < data->n_classes ? data->labels[i] == c : data->labels[i] < 0)
          g_array_append_val (members, i);
      if (members->len == 0)
        continue;
      int *m = (int *) members->data;
      for (int i = (int) members->len - 1; i > 0; i--)
        {
          int j = (int) ss_rng_below (rng, (uint32_t) i + 1);
          int t = m[i];
          m[i] = m[j];
          m[j] = t;
        }
      int quota = c == k - 1 ? data->n - filled : per_class;
      for (int i = 0; i < quota && filled < data->n; i++)
        order[filled++] = m[i % members->len];
    }
  /* classes without images leave the tail to whole-set draws */
  while (filled < data->n)
    order[filled++] = (int) ss_rng_below (rng, (uint32_t) data->n);
}

static gboolean
engine_fail (GError **error, const SsError *e)
{
  g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL, "%s", e->message);
  return FALSE;
}

gboolean
ss_train (const SsTrainConfig *config, const SsDataset *train, const SsDataset *val,
          SsTrainProgressFn progress, gpointer user_data, GCancellable *cancellable,
          GError **error)
{
  if (config->mixup > 0.0f && config->soft_targets != NULL)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "mixup and distillation cannot be combined");
      return FALSE;
    }
  SsError e;
  SsModelSpec spec;
  memset (&spec, 0, sizeof spec);
  spec.arch = config->arch;
  spec.in_c = 3;
  spec.in_h = spec.in_w = config->input_size;
  spec.resample = config->resample;
  spec.width = config->width;
  spec.stem_k = config->stem_k;
  spec.n_classes = train->n_classes;
  for (int c = 0; c < train->n_classes; c++)
    g_strlcpy (spec.class_names[c], train->class_names[c], SS_NAME_LEN);
  /* the statistics of what the network's first layer sees: stretched, if it stretches */
  ss_dataset_channel_stats (train, config->crop_stretch, spec.mean, spec.std);
  if (config->camera_colour != NULL)
    for (int j = 0; j < 6; j++)
      spec.camera_colour[j] = (float) config->camera_colour[j];
  spec.crop_stretch = config->crop_stretch;

  g_autofree char *ckpt = g_strconcat (config->out, ".ckpt", NULL);
  g_autofree char *ckpt_opt = g_strconcat (config->out, ".ckpt.opt", NULL);
  SsModel *model = NULL;
  int first_epoch = 0;

  if (config->resume && g_file_test (ckpt, G_FILE_TEST_EXISTS))
    {
      model = ss_model_load (ckpt, &e);
      if (model == NULL)
        return engine_fail (error, &e);
      const SsModelSpec *had = ss_model_spec (model);
      gboolean same = had->arch == spec.arch && had->width == spec.width
                      && had->stem_k == spec.stem_k
                      && had->in_h == spec.in_h && had->in_w == spec.in_w
                      && had->resample == spec.resample && same_classes (had, &spec);
      if (!same)
        {
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL,
                       "%s is a checkpoint of another run (%s width %d at %d px, %d classes); "
                       "remove it or drop --resume", ckpt, ss_arch_name (had->arch), had->width,
                       had->in_h, had->n_classes);
          ss_model_free (model);
          return FALSE;
        }
      /* a run resumes the part it was training, not another (the checkpoint names it
       * when it is not the whole network) */
      const char *key = "\"train_part\": \"";
      const char *part_at = strstr (ss_model_training_info (model), key);
      const char *part_end = part_at != NULL ? strchr (part_at + strlen (key), '"') : NULL;
      g_autofree char *had_name = part_end != NULL
        ? g_strndup (part_at + strlen (key), part_end - part_at - strlen (key)) : NULL;
      SsTrainPart had_part = SS_TRAIN_ALL;
      if ((had_name != NULL && !ss_train_part_from_name (had_name, &had_part))
          || had_part != config->part)
        {
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL,
                       "%s is a checkpoint of a run that trained %s, not %s; give the same "
                       "part, or remove it and drop --resume", ckpt,
                       had_name != NULL ? had_name : "all", ss_train_part_name (config->part));
          ss_model_free (model);
          return FALSE;
        }
      /* the checkpoint records how many epochs it holds */
      const char *done = strstr (ss_model_training_info (model), "\"epochs_done\": ");
      first_epoch = done != NULL ? atoi (done + strlen ("\"epochs_done\": ")) : 0;
    }
  else if (config->init_from != NULL)
    {
      model = ss_model_load (config->init_from, &e);
      if (model == NULL)
        return engine_fail (error, &e);
      const SsModelSpec *from = ss_model_spec (model);
      if (from->arch != spec.arch || from->width != spec.width || from->in_h != spec.in_h
          || from->stem_k != spec.stem_k)
        {
          ss_model_free (model);
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL,
                       "%s is a %s of width %d (stem %d) at %d px; it cannot start a %s of "
                       "width %d (stem %d) at %d px",
                       config->init_from, ss_arch_name (from->arch), from->width,
                       ss_model_stem_kernel (from), from->in_h, ss_arch_name (spec.arch),
                       spec.width, ss_model_stem_kernel (&spec), spec.in_h);
          return FALSE;
        }
      if (from->resample != spec.resample)
        {
          ss_model_free (model);
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL,
                       "%s was trained with --resample %s; fine-tune it with the same",
                       config->init_from, ss_resample_name (from->resample));
          return FALSE;
        }
      /* fine-tuning: keep every layer but the classifier head, which is new unless the
       * classes are the model's own, in its order (the run then starts from the model
       * as it was); the backbone learned on its own normalisation, so that is kept too */
      memcpy (spec.mean, from->mean, sizeof spec.mean);
      memcpy (spec.std, from->std, sizeof spec.std);
      SsModel *fresh = ss_model_new (&spec, config->seed, &e);
      if (fresh == NULL)
        {
          ss_model_free (model);
          return engine_fail (error, &e);
        }
      if (ss_model_copy_backbone (fresh, model, same_classes (from, &spec)) != SS_OK)
        {
          ss_model_free (fresh);
          ss_model_free (model);
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL,
                       "%s has another graph than the model asked for", config->init_from);
          return FALSE;
        }
      ss_model_free (model);
      model = fresh;
    }
  else
    {
      model = ss_model_new (&spec, config->seed, &e);
      if (model == NULL)
        return engine_fail (error, &e);
    }

  SsOptimConfig optim;
  ss_optim_config_default (&optim, config->optim, config->lr);
  optim.weight_decay = config->weight_decay;
  optim.decoupled_decay = config->decoupled_decay;
  optim.dense_fan_in_ref = config->dense_fan_in_ref;
  SsTrainer *trainer = ss_trainer_new (model, &optim, config->batch, &e);
  if (trainer == NULL)
    {
      ss_model_free (model);
      return engine_fail (error, &e);
    }
  ss_trainer_set_label_smoothing (trainer, config->label_smoothing);
  ss_trainer_set_seed (trainer, config->seed);
  if ((config->part != SS_TRAIN_ALL && ss_trainer_set_part (trainer, config->part, &e) != SS_OK)
      || ss_trainer_set_ema (trainer, config->ema, &e) != SS_OK
      || (first_epoch > 0 && ss_trainer_load_state (trainer, ckpt_opt, &e) != SS_OK))
    {
      ss_trainer_free (trainer);
      ss_model_free (model);
      return engine_fail (error, &e);
    }
  if (first_epoch >= config->epochs)
    {
      /* the checkpoint already holds every epoch asked for: it is the model (or its
       * average) */
      ss_trainer_swap_ema (trainer);
      SsStatus st = ss_model_save (model, config->out, config->half ? SS_STORE_F16 : SS_STORE_F32, &e);
      ss_trainer_free (trainer);
      ss_model_free (model);
      if (st != SS_OK)
        return engine_fail (error, &e);
      g_remove (ckpt);
      g_remove (ckpt_opt);
      return TRUE;
    }

  const gsize image = (gsize) 3 * train->width * train->height;
  g_autofree float *x = g_new (float, (gsize) config->batch * image);
  g_autofree int *labels = g_new (int, config->batch);
  /* mixup's blended images and second labels */
  g_autofree float *mixed = config->mixup > 0.0f ? g_new (float, (gsize) config->batch * image)
                                                 : NULL;
  g_autofree int *labels2 = mixed != NULL ? g_new (int, config->batch) : NULL;
  const int k = train->n_classes;
  g_autofree float *soft = config->soft_targets != NULL ? g_new (float, (gsize) config->batch * k)
                                                        : NULL;
  g_autofree int *order = g_new (int, train->n);
  const int batches = (train->n + config->batch - 1) / config->batch;
  gboolean ok = TRUE;
  gint64 start = g_get_monotonic_time ();
  long images_done = 0;

  for (int epoch = first_epoch; epoch < config->epochs && ok; epoch++)
    {
      SsRng rng;
      ss_rng_seed (&rng, config->seed * 1000003u + (guint64) epoch);
      if (config->balance)
        balanced_order (train, &rng, order);
      else
        for (int i = 0; i < train->n; i++)
          order[i] = i;
      for (int i = train->n - 1; i > 0; i--)
        {
          int j = (int) ss_rng_below (&rng, (uint32_t) i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      if (config->cosine)
        ss_trainer_set_lr (trainer, config->lr * 0.5f
                                      * (1.0f + cosf ((float) G_PI * epoch / config->epochs)));
      double loss_sum = 0.0;
      long right = 0, seen = 0;
      for (int b = 0; b < batches; b++)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              ok = FALSE;
              break;
            }
          int nb = MIN (config->batch, train->n - b * config->batch);
          if (nb < 2 && b > 0)
            break;  /* batch norm needs two images for its statistics (PyTorch refuses one) */
          for (int i = 0; i < nb; i++)
            {
              int idx = order[b * config->batch + i];
              ss_dataset_get (train, idx, config->augment ? &rng : NULL, &config->extra,
                              x + i * image);
              labels[i] = train->labels[idx];
              if (soft != NULL)
                memcpy (soft + (gsize) i * k, config->soft_targets + (gsize) idx * k,
                        sizeof (float) * k);
            }
          int correct = 0;
          float loss;
          if (mixed != NULL)
            {
              /* mixup: each image blended with its mirror place in the (shuffled) batch,
               * lambda >= 0.5 so that the first label stays the larger part */
              float lambda = ss_rng_beta (&rng, config->mixup);
              lambda = MAX (lambda, 1.0f - lambda);
              for (int i = 0; i < nb; i++)
                {
                  const float *a = x + i * image, *o = x + (gsize) (nb - 1 - i) * image;
                  float *d = mixed + i * image;
                  for (gsize j = 0; j < image; j++)
                    d[j] = lambda * a[j] + (1.0f - lambda) * o[j];
                  labels2[i] = labels[nb - 1 - i];
                }
              loss = ss_trainer_step_mixed (trainer, mixed, labels, labels2, lambda, nb, &correct);
            }
          else
            loss = ss_trainer_step_distill (trainer, x, labels, soft, config->distill_alpha,
                                            config->temperature, nb, &correct);
          if (!isfinite (loss))
            {
              g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL,
                           "training diverged (loss %g) in epoch %d; the model of the last "
                           "complete epoch is kept; try a lower --lr", loss, epoch + 1);
              ok = FALSE;
              break;
            }
          loss_sum += loss * nb;
          right += correct;
          seen += nb;
          images_done += nb;
          if (progress != NULL)
            {
              double elapsed = (g_get_monotonic_time () - start) / 1e6;
              long remaining = (long) (config->epochs - epoch) * train->n - seen;
              SsTrainProgress p = {
                .epoch = epoch + 1, .epochs = config->epochs, .batch_index = b + 1,
                .batches = batches, .loss = loss_sum / seen, .accuracy = (double) right / seen,
                .images_per_s = images_done / elapsed,
                .seconds_left = remaining / (images_done / elapsed), .val_accuracy = -1.0,
              };
              progress (&p, user_data);
            }
        }
      if (!ok)
        break;

      /* validation and the model file see the weights' average when there is one; the
       * checkpoint holds the weights being trained (and the average, in its state) */
      ss_trainer_swap_ema (trainer);
      double val_accuracy = val != NULL ? accuracy_of (model, val) : -1.0;
      /* the part trained, when not the whole network (a resumed run checks it; files
       * trained whole keep the bytes they had before parts existed) */
      g_autofree char *part = config->part == SS_TRAIN_ALL
        ? g_strdup ("")
        : g_strdup_printf ("\"train_part\": \"%s\", ", ss_train_part_name (config->part));
      g_autofree char *info = g_strdup_printf (
        "{\"epochs_done\": %d, %s\"train_loss\": %.5f, \"train_accuracy\": %.5f, "
        "\"val_accuracy\": %.5f, \"training\": %s}",
        epoch + 1, part, loss_sum / seen, (double) right / seen, val_accuracy,
        config->info != NULL ? config->info : "null");
      ss_model_set_training_info (model, info);
      SsStatus saved = ss_model_save (model, config->out,
                                      config->half ? SS_STORE_F16 : SS_STORE_F32, &e);
      ss_trainer_swap_ema (trainer);
      if (saved != SS_OK || ss_model_save (model, ckpt, SS_STORE_F32, &e) != SS_OK
          || ss_trainer_save_state (trainer, ckpt_opt, &e) != SS_OK)
        {
          ok = engine_fail (error, &e);
          break;
        }
      if (progress != NULL)
        {
          double elapsed = (g_get_monotonic_time () - start) / 1e6;
          SsTrainProgress p = {
            .epoch = epoch + 1, .epochs = config->epochs, .batch_index = batches,
            .batches = batches, .loss = loss_sum / seen, .accuracy = (double) right / seen,
            .images_per_s = images_done / elapsed,
            .seconds_left = (double) (config->epochs - epoch - 1) * train->n / (images_done / elapsed),
            .val_accuracy = val_accuracy, .epoch_done = TRUE,
          };
          progress (&p, user_data);
        }
    }
  ss_trainer_free (trainer);
  ss_model_free (model);
  if (ok)
    {
      /* a finished run needs no checkpoint */
      g_remove (ckpt);
      g_remove (ckpt_opt);
    }
  return ok;
}
