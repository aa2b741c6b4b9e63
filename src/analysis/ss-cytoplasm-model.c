/* The learned cytoplasm model of the single-cell-crop path: its forward pass, its
 * training on wbc-seg even ids, and the writer of its generated C table. */
#include "ss-cytoplasm-model.h"
#include "ss-metrics.h"

#include "ss-detect-private.h"
#include "ss-image.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_WEIGHTS (SS_CYTOPLASM_HIDDEN * SS_CENTRE_FEATURES + 2 * SS_CYTOPLASM_HIDDEN + 1)

/* training sees the weights as one vector: w1, b1, w2, b2 follow each other */
G_STATIC_ASSERT (offsetof (SsCytoplasmModel, b2) - offsetof (SsCytoplasmModel, w1)
                 == (N_WEIGHTS - 1) * sizeof (float));

/* x is (F), standardised into z (F); hidden is (H); returns the logit */
static float
cytoplasm_model_forward (const SsCytoplasmModel *model, const float *x, float *z, float *hidden)
{
  for (int k = 0; k < SS_CENTRE_FEATURES; k++)
    z[k] = (x[k] - model->mean[k]) * model->inv_std[k];
  float logit = model->b2;
  for (int j = 0; j < SS_CYTOPLASM_HIDDEN; j++)
    {
      float a = model->b1[j];
      for (int k = 0; k < SS_CENTRE_FEATURES; k++)
        a += model->w1[j][k] * z[k];
      hidden[j] = tanhf (a);
      logit += model->w2[j] * hidden[j];
    }
  return logit;
}

float
ss_cytoplasm_model_probability (const SsCytoplasmModel *model, const float *features)
{
  float z[SS_CENTRE_FEATURES], hidden[SS_CYTOPLASM_HIDDEN];
  return 1.0f / (1.0f + expf (-cytoplasm_model_forward (model, features, z, hidden)));
}

/* Gradient of the cross-entropy of one sample: d_logit = p - label, back through w2 and
 * tanh. grad is (N_WEIGHTS), laid out as the model's weights. */
static void
cytoplasm_model_backward (const SsCytoplasmModel *model, const float *z, const float *hidden,
                          float d_logit, float *grad)
{
  float *g_w1 = grad, *g_b1 = grad + SS_CYTOPLASM_HIDDEN * SS_CENTRE_FEATURES;
  float *g_w2 = g_b1 + SS_CYTOPLASM_HIDDEN, *g_b2 = g_w2 + SS_CYTOPLASM_HIDDEN;
  *g_b2 += d_logit;
  for (int j = 0; j < SS_CYTOPLASM_HIDDEN; j++)
    {
      g_w2[j] += d_logit * hidden[j];
      float d_a = d_logit * model->w2[j] * (1.0f - hidden[j] * hidden[j]);
      g_b1[j] += d_a;
      for (int k = 0; k < SS_CENTRE_FEATURES; k++)
        g_w1[j * SS_CENTRE_FEATURES + k] += d_a * z[k];
    }
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Sorted entries of a folder, so that the samples and thus the weights do not depend on
 * the order the file system lists them in. */
static GPtrArray *
sorted_names (const char *folder, const char *prefix, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (folder, 0, error);
  if (dir == NULL)
    return NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  return names;
}

/* Up to per_image candidate pixels of one crop, drawn at random without replacement,
 * appended to samples (F floats each) and labels. */
static gboolean
collect_samples (const char *image_path, const char *mask_path, GRand *rand, guint per_image,
                 GArray *samples, GArray *labels, GError **error)
{
  g_autofree guint8 *true_cell = NULL, *true_nucleus = NULL;
  g_autoptr (SsImage) image = ss_segmentation_truth_load (image_path, mask_path,
                                                          SS_DEFAULT_MAX_PIXELS, &true_cell,
                                                          &true_nucleus, error);
  if (image == NULL)
    return FALSE;
  const gsize n = (gsize) image->width * image->height;
  g_autofree guint8 *nucleus = g_new (guint8, n);
  g_autofree guint8 *classic = g_new (guint8, n);
  g_autofree guint8 *candidate = g_new (guint8, n);
  g_autofree float *features = g_new (float, n * SS_CENTRE_FEATURES);
  if (ss_detect_centre_features (image, nucleus, classic, candidate, features) <= 0)
    return TRUE;  /* no nucleus: nothing the model would be asked about */
  g_autoptr (GArray) pool = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint i = 0; i < n; i++)
    if (candidate[i])
      g_array_append_val (pool, i);
  guint *index = (guint *) pool->data;
  guint take = MIN (per_image, pool->len);
  for (guint t = 0; t < take; t++)
    {
      guint pick = t + (guint) g_rand_int_range (rand, 0, (gint32) (pool->len - t));
      guint i = index[pick];
      index[pick] = index[t];
      index[t] = i;
      g_array_append_vals (samples, features + (gsize) i * SS_CENTRE_FEATURES, SS_CENTRE_FEATURES);
      float label = true_cell[i];
      g_array_append_val (labels, label);
    }
  return TRUE;
}

gboolean
ss_cytoplasm_model_train (const char *data_dir, guint id_modulus, guint id_remainder, guint32 seed,
                          SsCytoplasmModel *model, GError **error)
{
  g_return_val_if_fail (data_dir != NULL && model != NULL && id_modulus > 0, FALSE);
  /* 3000 pixels a crop: all of a dataset1 crop's candidates, a third of dataset2's */
  const guint per_image = 3000;
  const int epochs = 12, batch = 64;
  const float learning_rate = 3e-3f, beta1 = 0.9f, beta2 = 0.999f, adam_eps = 1e-8f;
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr (GArray) labels = g_array_new (FALSE, FALSE, sizeof (float));

  g_autoptr (GPtrArray) datasets = sorted_names (data_dir, "dataset", error);
  if (datasets == NULL)
    return FALSE;
  for (guint d = 0; d < datasets->len; d++)
    {
      g_autofree char *folder = g_build_filename (data_dir, datasets->pdata[d], NULL);
      g_autofree char *images_dir = g_build_filename (folder, "images", NULL);
      g_autoptr (GPtrArray) names = sorted_names (images_dir, "", error);
      if (names == NULL)
        return FALSE;
      for (guint i = 0; i < names->len; i++)
        {
          const char *name = names->pdata[i];
          if (!g_str_has_suffix (name, ".png") || strtol (name, NULL, 10) % id_modulus != id_remainder)
            continue;
          g_autofree char *image_path = g_build_filename (images_dir, name, NULL);
          g_autofree char *mask_path = g_build_filename (folder, "masks", name, NULL);
          if (!collect_samples (image_path, mask_path, rand, per_image, samples, labels, error))
            return FALSE;
        }
    }
  const gsize count = labels->len;
  if (count == 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "%s: no datasetN/images with ids %u mod %u to train on", data_dir,
                   id_remainder, id_modulus);
      return FALSE;
    }
  const float *x = (const float *) samples->data, *y = (const float *) labels->data;

  memset (model, 0, sizeof *model);
  for (int k = 0; k < SS_CENTRE_FEATURES; k++)
    {
      double sum = 0, sum2 = 0;
      for (gsize s = 0; s < count; s++)
        {
          sum += x[s * SS_CENTRE_FEATURES + k];
          sum2 += (double) x[s * SS_CENTRE_FEATURES + k] * x[s * SS_CENTRE_FEATURES + k];
        }
      double mean = sum / count, var = sum2 / count - mean * mean;
      model->mean[k] = (float) mean;
      model->inv_std[k] = (float) (1.0 / sqrt (MAX (var, 1e-6)));
    }
  float *weights = &model->w1[0][0];
  const float init = 1.0f / sqrtf (SS_CENTRE_FEATURES);  /* keeps tanh off saturation */
  for (int j = 0; j < SS_CYTOPLASM_HIDDEN; j++)
    for (int k = 0; k < SS_CENTRE_FEATURES; k++)
      model->w1[j][k] = (float) g_rand_double_range (rand, -init, init);
  for (int j = 0; j < SS_CYTOPLASM_HIDDEN; j++)
    model->w2[j] = (float) g_rand_double_range (rand, -0.5, 0.5);

  g_autofree float *grad = g_new (float, N_WEIGHTS);
  g_autofree float *moment1 = g_new0 (float, N_WEIGHTS);
  g_autofree float *moment2 = g_new0 (float, N_WEIGHTS);
  g_autofree guint *order = g_new (guint, count);
  for (gsize s = 0; s < count; s++)
    order[s] = (guint) s;
  float z[SS_CENTRE_FEATURES], hidden[SS_CYTOPLASM_HIDDEN];
  int step = 0;
  for (int epoch = 0; epoch < epochs; epoch++)
    {
      for (gsize s = count - 1; s > 0; s--)
        {
          gsize pick = (gsize) g_rand_int_range (rand, 0, (gint32) (s + 1));
          guint t = order[s];
          order[s] = order[pick];
          order[pick] = t;
        }
      /* the last epochs at a tenth of the rate settle the weights */
      const float rate = epoch >= epochs - 3 ? 0.1f * learning_rate : learning_rate;
      for (gsize start = 0; start < count; start += batch)
        {
          const gsize end = MIN (count, start + batch);
          memset (grad, 0, sizeof (float) * N_WEIGHTS);
          for (gsize b = start; b < end; b++)
            {
              const float *xs = x + (gsize) order[b] * SS_CENTRE_FEATURES;
              float logit = cytoplasm_model_forward (model, xs, z, hidden);
              float p = 1.0f / (1.0f + expf (-logit));
              cytoplasm_model_backward (model, z, hidden, (p - y[order[b]]) / (end - start), grad);
            }
          step++;
          const float correct1 = 1.0f - powf (beta1, step), correct2 = 1.0f - powf (beta2, step);
          for (int i = 0; i < N_WEIGHTS; i++)
            {
              moment1[i] = beta1 * moment1[i] + (1 - beta1) * grad[i];
              moment2[i] = beta2 * moment2[i] + (1 - beta2) * grad[i] * grad[i];
              weights[i] -= rate * (moment1[i] / correct1) / (sqrtf (moment2[i] / correct2) + adam_eps);
            }
        }
    }
  return TRUE;
}

static void
write_floats (GString *out, const char *field, const float *values, int n)
{
  g_string_append_printf (out, "  .%s = {", field);
  for (int i = 0; i < n; i++)
    g_string_append_printf (out, "%s%.9g,", i % 6 == 0 ? "\n    " : " ", values[i]);
  g_string_append (out, " },\n");
}

gboolean
ss_cytoplasm_model_write_c (const SsCytoplasmModel *model, const char *path, const char *command,
                            GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out,
                          "/* Weights of the crop path's cytoplasm model (ss-cytoplasm-model.h).\n"
                          " * Generated, do not edit: from the source tree, after a build,\n"
                          " *   %s */\n"
                          "#include \"ss-cytoplasm-model.h\"\n\n"
                          "const SsCytoplasmModel ss_cytoplasm_model = {\n", command);
  write_floats (out, "mean", model->mean, SS_CENTRE_FEATURES);
  write_floats (out, "inv_std", model->inv_std, SS_CENTRE_FEATURES);
  g_string_append (out, "  .w1 = {\n");
  for (int j = 0; j < SS_CYTOPLASM_HIDDEN; j++)
    {
      g_string_append (out, "    {");
      for (int k = 0; k < SS_CENTRE_FEATURES; k++)
        g_string_append_printf (out, "%s%.9g,", k == 0 ? " " : k % 6 == 0 ? "\n      " : " ",
                                model->w1[j][k]);
      g_string_append (out, " },\n");
    }
  g_string_append (out, "  },\n");
  write_floats (out, "b1", model->b1, SS_CYTOPLASM_HIDDEN);
  write_floats (out, "w2", model->w2, SS_CYTOPLASM_HIDDEN);
  g_string_append_printf (out, "  .b2 = %.9g,\n};\n", model->b2);
  return g_file_set_contents (path, out->str, (gssize) out->len, error);
}
