/* Cameras brought to one (issue 27): ss_dataset_normalise_cameras gives each camera's
 * white cells the target's per-channel mean and deviation (the mean of the cameras'
 * own, each counted once, when no target is given), leaves not_a_cell out of the
 * statistics, names an image no prefix claims, and lets the longest prefix win; a model
 * trained so records the target (model file version 3), and the analysis then maps a
 * new camera's colours by default (SS_COLOUR_MAP_AUTO), not for a model without one. A
 * crop's channels stretched (SsModelSpec.crop_stretch) put its extreme percentiles at
 * fixed values, in floats and in bytes alike. */
#include "ss-analysis.h"
#include "ss-dataset.h"
#include "ss-image.h"
#include "ss-training.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* Folder cls of dir gets n images named prefix-NN.png: a disc on plain ground, the
 * camera's look set by its ground and disc colours and a gradient of strength `spread`. */
static void
write_images (const char *dir, const char *cls, const char *prefix, int n, const guint8 ground[3],
              const guint8 disc[3], int spread)
{
  g_autofree char *sub = g_build_filename (dir, cls, NULL);
  g_mkdir_with_parents (sub, 0755);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (SsImage) image = ss_image_new (20, 20);
      for (int y = 0; y < 20; y++)
        for (int x = 0; x < 20; x++)
          {
            gboolean in = (x - 10) * (x - 10) + (y - 10) * (y - 10) < 16 + 4 * i;
            guint8 *p = image->rgb + (y * 20 + x) * 3;
            for (int ch = 0; ch < 3; ch++)
              p[ch] = (guint8) CLAMP ((in ? disc[ch] : ground[ch]) + spread * (x - 10) / 10, 0, 255);
          }
      g_autofree char *name = g_strdup_printf ("%s%02d.png", prefix, i);
      g_autofree char *path = g_build_filename (sub, name, NULL);
      g_assert_true (ss_image_save_png (image, path, NULL));
    }
}

/* mean and deviation per channel of the images of ds whose names start with prefix and
 * whose label is (or is not, with not TRUE) label */
static void
stats_of (const SsDataset *ds, const char *prefix, int label, double out[6])
{
  double sum[3] = { 0 }, squares[3] = { 0 };
  gint64 n = 0;
  const gsize area = (gsize) ds->width * ds->height;
  for (int i = 0; i < ds->n; i++)
    {
      g_autofree char *name = g_path_get_basename (ds->paths[i]);
      if (!g_str_has_prefix (name, prefix) || ds->labels[i] != label)
        continue;
      for (gsize k = 0; k < area; k++)
        for (int ch = 0; ch < 3; ch++)
          {
            double v = ds->pixels[((gsize) i * area + k) * 3 + ch] / 255.0;
            sum[ch] += v;
            squares[ch] += v * v;
          }
      n += (gint64) area;
    }
  g_assert_cmpint (n, >, 0);
  for (int ch = 0; ch < 3; ch++)
    {
      out[ch] = sum[ch] / n;
      out[3 + ch] = sqrt (squares[ch] / n - out[ch] * out[ch]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autofree char *dir = g_dir_make_tmp ("ss-cameras-XXXXXX", NULL);
  g_assert_nonnull (dir);
  const guint8 pale_ground[3] = { 200, 190, 210 }, pale_disc[3] = { 150, 120, 190 };
  const guint8 deep_ground[3] = { 230, 200, 180 }, deep_disc[3] = { 60, 20, 120 };
  const guint8 red[3] = { 250, 40, 40 };
  write_images (dir, "lymphocyte", "pale-", 6, pale_ground, pale_disc, 10);
  write_images (dir, "lymphocyte", "deep-", 6, deep_ground, deep_disc, 30);
  write_images (dir, "lymphocyte", "deep-x-", 6, pale_ground, deep_disc, 0);
  /* background crops of a colour of their own: they must not move the statistics */
  write_images (dir, "not_a_cell", "pale-bg-", 6, red, red, 0);

  const char *classes[] = { "lymphocyte", "not_a_cell" };
  g_autoptr (GError) error = NULL;
  g_autoptr (SsDataset) ds = ss_dataset_load (dir, NULL, classes, 2, 20, 20,
                                              SS_RESAMPLE_BILINEAR, &error);
  g_assert_no_error (error);
  double before[3][6];
  stats_of (ds, "pale-", 0, before[0]);
  stats_of (ds, "deep-0", 0, before[1]);   /* deep- alone, not deep-x- */
  stats_of (ds, "deep-x-", 0, before[2]);

  /* an image no prefix claims is named */
  g_autoptr (SsDataset) copy = ss_dataset_load (dir, NULL, classes, 2, 20, 20,
                                                SS_RESAMPLE_BILINEAR, NULL);
  const char *only_deep[] = { "deep-", NULL };
  double target[6] = { 0 };
  g_assert_false (ss_dataset_normalise_cameras (copy, only_deep, target, NULL, &error));
  g_assert_nonnull (strstr (error->message, "pale-"));
  g_clear_error (&error);

  /* the empty prefix names every image: the whole set one camera (evaluate's crops) */
  const char *one[] = { "", NULL };
  double whole[6] = { 0 };
  g_assert_true (ss_dataset_normalise_cameras (copy, one, whole, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (whole[3], >, 0);

  /* pale-, deep- and deep-x- (the longest prefix wins): the target is their mean */
  const char *cameras[] = { "pale-", "deep-", "deep-x-", NULL };
  double stats[18];
  g_assert_true (ss_dataset_normalise_cameras (ds, cameras, target, stats, &error));
  g_assert_no_error (error);
  for (int j = 0; j < 6; j++)
    {
      g_assert_cmpfloat (fabs (stats[j] - before[0][j]), <, 1e-9);
      g_assert_cmpfloat (fabs (stats[12 + j] - before[2][j]), <, 1e-9);
      g_assert_cmpfloat (fabs (target[j] - (stats[j] + stats[6 + j] + stats[12 + j]) / 3), <, 1e-9);
    }
  for (int k = 0; k < 3; k++)
    {
      double after[6];
      stats_of (ds, k == 0 ? "pale-" : k == 1 ? "deep-0" : "deep-x-", 0, after);
      for (int j = 0; j < 6; j++)
        {
          g_test_message ("camera %d value %d: %.3f -> %.3f (target %.3f)", k, j, before[k][j],
                          after[j], target[j]);
          /* rounding to 8 bits and clipping: within 2% of the range */
          g_assert_cmpfloat (fabs (after[j] - target[j]), <, 0.02);
        }
    }

  /* a model trained with the target records it; the analysis maps by default for it */
  g_autofree char *out = g_build_filename (dir, "m.ssm", NULL);
  SsTrainConfig c;
  ss_train_config_init (&c);
  c.arch = SS_ARCH_MSCNN;
  c.width = 4;
  c.input_size = 16;
  c.epochs = 1;
  c.batch = 8;
  c.out = out;
  c.info = "{}";
  g_autoptr (SsDataset) small = ss_dataset_load (dir, NULL, classes, 2, 16, 16,
                                                 SS_RESAMPLE_BILINEAR, &error);
  g_assert_true (ss_dataset_normalise_cameras (small, cameras, target, NULL, &error));
  c.camera_colour = target;
  g_assert_true (ss_train (&c, small, NULL, NULL, NULL, NULL, &error));
  g_autoptr (SsClassifier) mapped = ss_classifier_load (out, &error);
  g_assert_no_error (error);
  const SsModelSpec *spec = ss_model_spec (ss_classifier_model (mapped));
  g_assert_true (ss_model_has_camera_colour (spec));
  for (int j = 0; j < 6; j++)
    g_assert_cmpfloat (fabs (spec->camera_colour[j] - target[j]), <, 1e-6);

  SsAnalysisSettings settings;
  ss_analysis_settings_init (&settings);
  g_assert_cmpint (settings.colour_map, ==, SS_COLOUR_MAP_AUTO);
  SsColourPool *pool = ss_analysis_colour_pool_new (&settings, mapped);
  g_assert_nonnull (pool);
  ss_colour_pool_free (pool);
  settings.colour_map = SS_COLOUR_MAP_OFF;
  g_assert_null (ss_analysis_colour_pool_new (&settings, mapped));
  g_assert_null (ss_analysis_colour_pool_new (&settings, NULL));

  g_autofree char *plain_out = g_build_filename (dir, "plain.ssm", NULL);
  c.out = plain_out;
  c.camera_colour = NULL;
  g_assert_true (ss_train (&c, small, NULL, NULL, NULL, NULL, &error));
  g_autoptr (SsClassifier) plain = ss_classifier_load (plain_out, &error);
  g_assert_no_error (error);
  settings.colour_map = SS_COLOUR_MAP_AUTO;
  g_assert_false (ss_model_has_camera_colour (ss_model_spec (ss_classifier_model (plain))));
  g_assert_null (ss_analysis_colour_pool_new (&settings, plain));
  settings.colour_map = SS_COLOUR_MAP_ON;
  pool = ss_analysis_colour_pool_new (&settings, plain);
  g_assert_nonnull (pool);
  ss_colour_pool_free (pool);
  g_assert_cmpint (ss_colour_map_from_string ("off"), ==, SS_COLOUR_MAP_OFF);
  g_assert_cmpint (ss_colour_map_from_string ("sometimes"), ==, -1);

  /* a crop stretched: its 1% darkest values at 0.05, 1% lightest at 0.95, per channel; a
   * flat channel stays as it was; a model with a crop stretch does it to its inputs
   * itself, so a crop and the same crop stretched beforehand get the same call */
  {
    const gsize area = 16 * 16;
    g_autofree float *chw = g_new (float, 3 * area);
    g_autofree float *raw = g_new (float, 3 * area);
    GRand *rand = g_rand_new_with_seed (3);
    for (gsize k = 0; k < area; k++)
      for (int ch = 0; ch < 3; ch++)
        /* a pale, low-contrast crop; the blue channel flat */
        chw[ch * area + k] = (ch == 2 ? 180 : 150 + g_rand_int_range (rand, 0, 60)) / 255.0f;
    g_rand_free (rand);
    memcpy (raw, chw, sizeof (float) * 3 * area);
    ss_input_stretch (chw, 3, area, 0.01f);
    for (int ch = 0; ch < 3; ch++)
      {
        int below = 0, above = 0;
        for (gsize k = 0; k < area; k++)
          {
            below += chw[ch * area + k] < 0.06f;
            above += chw[ch * area + k] > 0.94f;
          }
        if (ch == 2)
          {
            g_assert_cmpfloat (fabsf (chw[ch * area] - 180 / 255.0f), <, 1e-6);
            continue;
          }
        g_test_message ("channel %d: %d of %zu values at the dark end, %d at the light", ch,
                        below, area, above);
        /* about 1% at each end (a level of 1/60 of the values holds the quantile) */
        g_assert_cmpint (below, >=, 2);
        g_assert_cmpint (below, <=, (int) (area / 20));
        g_assert_cmpint (above, >=, 2);
        g_assert_cmpint (above, <=, (int) (area / 20));
      }

    SsTrainConfig sc = c;
    g_autofree char *stretched_out = g_build_filename (dir, "stretched.ssm", NULL);
    sc.out = stretched_out;
    sc.crop_stretch = 0.01f;
    sc.camera_colour = NULL;
    g_assert_true (ss_train (&sc, small, NULL, NULL, NULL, NULL, &error));
    SsError e;
    SsModel *model = ss_model_load (stretched_out, &e);
    g_assert_nonnull (model);
    g_assert_cmpfloat (ss_model_spec (model)->crop_stretch, ==, 0.01f);
    float p_raw[2], p_pre[2];
    g_assert_cmpint (ss_model_predict (model, raw, 1, p_raw, &e), ==, SS_OK);
    g_assert_cmpint (ss_model_predict (model, chw, 1, p_pre, &e), ==, SS_OK);
    g_test_message ("stretched model: %.4f from the raw crop, %.4f stretched beforehand",
                    p_raw[0], p_pre[0]);
    g_assert_cmpfloat (fabsf (p_raw[0] - p_pre[0]), <, 0.02f);
    ss_model_free (model);
  }

  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", dir);
  g_assert_cmpint (system (cmd), ==, 0);
  return 0;
}
