/* Training is reproducible: the same data, seed and thread count give the same model
 * file byte for byte, and a run stopped after an epoch and resumed from its checkpoint
 * ends exactly where an uninterrupted run ends, with or without a moving average of the
 * weights or area resampling (which the model records); so do distillation from a
 * teacher and decoupled weight decay, EfficientNet with its stochastic depth, and
 * ResNet-18 on the tap kernels. The shift-and-zoom augmentation moves and scales what it
 * is given by no more than it was asked to. */
#include "engine-private.h"
#include "ss-dataset.h"
#include "ss-image.h"
#include "ss-training.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

static char *tmp_dir;

/* Two classes of 16 little images: a dark disc on the left or on the right. */
static void
write_dataset (const char *dir)
{
  for (int cls = 0; cls < 2; cls++)
    {
      g_autofree char *sub = g_build_filename (dir, cls == 0 ? "left" : "right", NULL);
      g_mkdir_with_parents (sub, 0755);
      for (int i = 0; i < 16; i++)
        {
          g_autoptr (SsImage) image = ss_image_new (24, 24);
          for (int y = 0; y < 24; y++)
            for (int x = 0; x < 24; x++)
              {
                int cx = cls == 0 ? 7 : 16, cy = 8 + i % 8;
                gboolean in = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 20;
                guint8 *p = image->rgb + (y * 24 + x) * 3;
                p[0] = in ? 90 : 230 - i;
                p[1] = in ? 40 : 200;
                p[2] = in ? 150 : 210;
              }
          g_autofree char *name = g_strdup_printf ("%02d.png", i);
          g_autofree char *path = g_build_filename (sub, name, NULL);
          g_assert_true (ss_image_save_png (image, path, NULL));
        }
    }
}

static GBytes *
read_file (const char *path)
{
  char *data = NULL;
  gsize len = 0;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_bytes_new_take (data, len);
}

/* train with config c, which must succeed, and return the model file's bytes */
static GBytes *
trained (const SsTrainConfig *c, const SsDataset *ds)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_train (c, ds, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return read_file (c->out);
}

static SsTrainConfig
tiny_config (const char *out)
{
  SsTrainConfig c;
  ss_train_config_init (&c);
  c.arch = SS_ARCH_MSCNN;
  c.width = 4;
  c.input_size = 16;
  c.epochs = 4;
  c.batch = 8;
  c.lr = 1e-3f;
  c.seed = 7;
  c.out = out;
  c.info = "{\"test\": true}";
  return c;
}

static void
stop_after_two (const SsTrainProgress *p, gpointer user_data)
{
  if (p->epoch_done && p->epoch == 2)
    g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* c trained, stopped after epoch 2 and resumed from its checkpoint, gives want */
static void
assert_resumes_to (SsTrainConfig *c, const SsDataset *ds, GBytes *want)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_assert_false (ss_train (c, ds, NULL, stop_after_two, cancellable, cancellable, &error));
  g_clear_error (&error);
  c->resume = TRUE;
  g_assert_true (ss_train (c, ds, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) resumed = read_file (c->out);
  g_assert_true (g_bytes_equal (want, resumed));
}

/* A network of arch trained twice from the same seed gives the same file, and so does
 * a run stopped after epoch 2 and resumed from its checkpoint; files named tag1 to 3. */
static void
check_arch_repro (const char *data, SsArch arch, int width, int size, const char *tag)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsDataset) ds = ss_dataset_load (data, NULL, NULL, 0, size, size,
                                              SS_RESAMPLE_BILINEAR, &error);
  g_assert_no_error (error);
  g_autofree char *n1 = g_strdup_printf ("%s/%s1.ssm", tmp_dir, tag);
  g_autofree char *n2 = g_strdup_printf ("%s/%s2.ssm", tmp_dir, tag);
  g_autofree char *n3 = g_strdup_printf ("%s/%s3.ssm", tmp_dir, tag);
  SsTrainConfig c1 = tiny_config (n1), c2 = tiny_config (n2), c3 = tiny_config (n3);
  c1.arch = c2.arch = c3.arch = arch;
  c1.width = c2.width = c3.width = width;
  c1.input_size = c2.input_size = c3.input_size = size;
  g_autoptr (GBytes) bytes1 = trained (&c1, ds);
  g_autoptr (GBytes) bytes2 = trained (&c2, ds);
  g_assert_true (g_bytes_equal (bytes1, bytes2));
  assert_resumes_to (&c3, ds, bytes1);
}

/* A fine-tune of part of check_arch_repro's ResNet-18 (n1.ssm): the same file twice and
 * after a stop and resume, not a fine-tune of the whole; in the file, what lies before
 * the part as it was and the part moved; a checkpoint resumed as another part refused.
 * Files named tag0 to 4. A part needs a model to start from. */
static void
check_part_repro (const char *data, SsTrainPart part, const char *tag)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsDataset) ds = ss_dataset_load (data, NULL, NULL, 0, 64, 64, SS_RESAMPLE_BILINEAR,
                                              &error);
  g_assert_no_error (error);
  g_autofree char *from = g_strdup_printf ("%s/n1.ssm", tmp_dir);
  g_autofree char *whole = g_strdup_printf ("%s/%s0.ssm", tmp_dir, tag);
  g_autofree char *n1 = g_strdup_printf ("%s/%s1.ssm", tmp_dir, tag);
  g_autofree char *n2 = g_strdup_printf ("%s/%s2.ssm", tmp_dir, tag);
  g_autofree char *n3 = g_strdup_printf ("%s/%s3.ssm", tmp_dir, tag);
  SsTrainConfig c0 = tiny_config (whole), c1 = tiny_config (n1), c2 = tiny_config (n2);
  SsTrainConfig c3 = tiny_config (n3);
  SsTrainConfig *all[] = { &c0, &c1, &c2, &c3 };
  for (int i = 0; i < 4; i++)
    {
      all[i]->arch = SS_ARCH_RESNET18;
      all[i]->width = 16;
      all[i]->input_size = 64;
      all[i]->init_from = from;
      all[i]->part = i == 0 ? SS_TRAIN_ALL : part;
    }
  g_autoptr (GBytes) bytes0 = trained (&c0, ds);
  g_autoptr (GBytes) bytes1 = trained (&c1, ds);
  g_autoptr (GBytes) bytes2 = trained (&c2, ds);
  g_assert_true (g_bytes_equal (bytes1, bytes2));
  g_assert_false (g_bytes_equal (bytes1, bytes0));
  assert_resumes_to (&c3, ds, bytes1);

  /* in the file: every weight and statistic before the part as in the model it started
   * from, bit for bit, and the part's weights moved */
  SsError e;
  SsModel *before = ss_model_load (from, &e), *after = ss_model_load (n1, &e);
  g_assert_nonnull (before);
  g_assert_nonnull (after);
  SsOptimConfig optim;
  ss_optim_config_default (&optim, SS_OPTIM_ADAM, 1e-3f);
  SsTrainer *trainer = ss_trainer_new (before, &optim, 2, &e);
  g_assert_nonnull (trainer);
  g_assert_cmpint (ss_trainer_set_part (trainer, part, &e), ==, SS_OK);
  const int first = before->train_from;
  ss_trainer_free (trainer);
  g_assert_cmpint (first, >, 0);
  size_t first_param = before->n_params;
  for (int i = first; i < before->n_nodes; i++)
    if (before->nodes[i].w_len > 0 && before->nodes[i].w_off < first_param)
      first_param = before->nodes[i].w_off;
  g_assert_cmpuint (first_param, <, before->n_params);
  g_assert_cmpint (memcmp (before->params, after->params, sizeof (float) * first_param), ==, 0);
  g_assert_cmpint (memcmp (before->params + first_param, after->params + first_param,
                           sizeof (float) * (before->n_params - first_param)), !=, 0);
  for (int i = 0; i < first; i++)
    if (before->nodes[i].kind == SS_OP_BN)
      g_assert_cmpint (memcmp (before->buffers + before->nodes[i].buf_off,
                               after->buffers + before->nodes[i].buf_off,
                               sizeof (float) * 2 * before->nodes[i].c), ==, 0);
  ss_model_free (before);
  ss_model_free (after);

  /* resumed as another part: refused, naming both */
  g_autofree char *n4 = g_strdup_printf ("%s/%s4.ssm", tmp_dir, tag);
  SsTrainConfig c4 = tiny_config (n4);
  c4.arch = SS_ARCH_RESNET18;
  c4.width = 16;
  c4.input_size = 64;
  c4.init_from = from;
  c4.part = part;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_assert_false (ss_train (&c4, ds, NULL, stop_after_two, cancellable, cancellable, &error));
  g_clear_error (&error);
  c4.resume = TRUE;
  c4.part = SS_TRAIN_ALL;
  g_assert_false (ss_train (&c4, ds, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL);
  g_assert_nonnull (strstr (error->message, part == SS_TRAIN_HEAD ? "trained head" : "trained last-stage"));
  g_clear_error (&error);
}

static void
test_repro (void)
{
  g_autofree char *data = g_build_filename (tmp_dir, "data", NULL);
  write_dataset (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsDataset) ds = ss_dataset_load (data, NULL, NULL, 0, 16, 16, SS_RESAMPLE_BILINEAR,
                                              &error);
  g_assert_no_error (error);
  g_assert_cmpint (ds->n, ==, 32);

  g_autofree char *a = g_build_filename (tmp_dir, "a.ssm", NULL);
  g_autofree char *b = g_build_filename (tmp_dir, "b.ssm", NULL);
  g_autofree char *c = g_build_filename (tmp_dir, "c.ssm", NULL);
  SsTrainConfig ca = tiny_config (a), cb = tiny_config (b), cc = tiny_config (c);
  g_autoptr (GBytes) bytes_a = trained (&ca, ds);
  g_autoptr (GBytes) bytes_b = trained (&cb, ds);
  g_assert_true (g_bytes_equal (bytes_a, bytes_b));

  /* the same seed trained differently must differ, or the comparison proves nothing */
  cc.seed = 8;
  g_autoptr (GBytes) bytes_c = trained (&cc, ds);
  g_assert_false (g_bytes_equal (bytes_a, bytes_c));

  /* stop after epoch 2, then resume from the checkpoint */
  g_autofree char *r = g_build_filename (tmp_dir, "r.ssm", NULL);
  SsTrainConfig cr = tiny_config (r);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_assert_false (ss_train (&cr, ds, NULL, stop_after_two, cancellable, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_autofree char *ckpt = g_strconcat (r, ".ckpt", NULL);
  g_assert_true (g_file_test (ckpt, G_FILE_TEST_EXISTS));
  cr.resume = TRUE;
  g_assert_true (ss_train (&cr, ds, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (ckpt, G_FILE_TEST_EXISTS));
  g_autoptr (GBytes) bytes_r = read_file (r);
  g_assert_true (g_bytes_equal (bytes_a, bytes_r));

  /* distillation from model a: softened targets that sum to 1, a reproducible student
   * that differs from one trained without a teacher */
  float *soft = ss_teacher_targets (a, data, NULL, ds, 2.0f, &error);
  g_assert_no_error (error);
  for (int i = 0; i < ds->n; i++)
    g_assert_cmpfloat (fabs (soft[2 * i] + soft[2 * i + 1] - 1.0), <, 1e-5);
  g_autofree char *d1 = g_build_filename (tmp_dir, "d1.ssm", NULL);
  g_autofree char *d2 = g_build_filename (tmp_dir, "d2.ssm", NULL);
  SsTrainConfig cd1 = tiny_config (d1), cd2 = tiny_config (d2);
  cd1.soft_targets = cd2.soft_targets = soft;
  cd1.distill_alpha = cd2.distill_alpha = 0.7f;
  cd1.temperature = cd2.temperature = 2.0f;
  g_autoptr (GBytes) bytes_d1 = trained (&cd1, ds);
  g_autoptr (GBytes) bytes_d2 = trained (&cd2, ds);
  g_assert_true (g_bytes_equal (bytes_d1, bytes_d2));
  g_assert_false (g_bytes_equal (bytes_a, bytes_d1));

  /* mixup and the new augmentations: reproducible, and not the plain model; mixup
   * with a teacher is refused */
  g_autofree char *m1 = g_build_filename (tmp_dir, "m1.ssm", NULL);
  g_autofree char *m2 = g_build_filename (tmp_dir, "m2.ssm", NULL);
  SsTrainConfig cm1 = tiny_config (m1), cm2 = tiny_config (m2);
  cm1.mixup = cm2.mixup = 0.2f;
  cm1.extra.rotate = cm2.extra.rotate = TRUE;
  cm1.extra.stain = cm2.extra.stain = 0.2f;
  g_autoptr (GBytes) bytes_m1 = trained (&cm1, ds);
  g_autoptr (GBytes) bytes_m2 = trained (&cm2, ds);
  g_assert_true (g_bytes_equal (bytes_m1, bytes_m2));
  g_assert_false (g_bytes_equal (bytes_a, bytes_m1));
  cm1.soft_targets = soft;
  g_assert_false (ss_train (&cm1, ds, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA);
  g_clear_error (&error);
  g_free (soft);

  /* the weights' average: not the plain model; stopped after epoch 2 and resumed, the
   * same file as uninterrupted; a checkpoint with an average cannot resume without one */
  g_autofree char *e1 = g_build_filename (tmp_dir, "e1.ssm", NULL);
  g_autofree char *e2 = g_build_filename (tmp_dir, "e2.ssm", NULL);
  SsTrainConfig ce1 = tiny_config (e1), ce2 = tiny_config (e2);
  ce1.ema = ce2.ema = 0.9f;
  g_autoptr (GBytes) bytes_e1 = trained (&ce1, ds);
  g_assert_false (g_bytes_equal (bytes_a, bytes_e1));
  g_cancellable_reset (cancellable);
  g_assert_false (ss_train (&ce2, ds, NULL, stop_after_two, cancellable, cancellable, &error));
  g_clear_error (&error);
  ce2.resume = TRUE;
  ce2.ema = 0.0f;
  g_assert_false (ss_train (&ce2, ds, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL);
  g_clear_error (&error);
  ce2.ema = 0.9f;
  g_assert_true (ss_train (&ce2, ds, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes_e2 = read_file (e2);
  g_assert_true (g_bytes_equal (bytes_e1, bytes_e2));

  /* a teacher whose classes are in another order is refused */
  const char *swapped[] = { "right", "left" };
  g_autoptr (SsDataset) ds_swapped = ss_dataset_load (data, NULL, swapped, 2, 16, 16,
                                                      SS_RESAMPLE_BILINEAR, &error);
  g_assert_no_error (error);
  g_assert_null (ss_teacher_targets (a, data, NULL, ds_swapped, 2.0f, &error));
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA);
  g_clear_error (&error);

  /* area resampling (24 px pictures shrink 1.5x to 16): other pixels than one tap, a
   * reproducible model that records it, and a checkpoint that cannot resume as bilinear */
  g_autoptr (SsDataset) ds_area = ss_dataset_load (data, NULL, NULL, 0, 16, 16, SS_RESAMPLE_AREA,
                                                   &error);
  g_assert_no_error (error);
  g_assert_cmpint (ds_area->n, ==, ds->n);
  g_assert_true (memcmp (ds_area->pixels, ds->pixels, (gsize) ds->n * 16 * 16 * 3) != 0);
  g_autofree char *ar1 = g_build_filename (tmp_dir, "ar1.ssm", NULL);
  g_autofree char *ar2 = g_build_filename (tmp_dir, "ar2.ssm", NULL);
  SsTrainConfig car1 = tiny_config (ar1), car2 = tiny_config (ar2);
  car1.resample = car2.resample = SS_RESAMPLE_AREA;
  g_autoptr (GBytes) bytes_ar1 = trained (&car1, ds_area);
  SsError e;
  SsModel *area_model = ss_model_load (ar1, &e);
  g_assert_nonnull (area_model);
  g_assert_cmpint (ss_model_spec (area_model)->resample, ==, SS_RESAMPLE_AREA);
  ss_model_free (area_model);
  g_assert_false (g_bytes_equal (bytes_a, bytes_ar1));
  g_cancellable_reset (cancellable);
  g_assert_false (ss_train (&car2, ds_area, NULL, stop_after_two, cancellable, cancellable,
                            &error));
  g_clear_error (&error);
  car2.resume = TRUE;
  car2.resample = SS_RESAMPLE_BILINEAR;
  g_assert_false (ss_train (&car2, ds_area, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL);
  g_clear_error (&error);
  car2.resample = SS_RESAMPLE_AREA;
  g_assert_true (ss_train (&car2, ds_area, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_autoptr (GBytes) bytes_ar2 = read_file (ar2);
  g_assert_true (g_bytes_equal (bytes_ar1, bytes_ar2));

  /* decoupled weight decay: reproducible, and not the plain model */
  g_autofree char *w1 = g_build_filename (tmp_dir, "w1.ssm", NULL);
  g_autofree char *w2 = g_build_filename (tmp_dir, "w2.ssm", NULL);
  SsTrainConfig cw1 = tiny_config (w1), cw2 = tiny_config (w2);
  cw1.decoupled_decay = cw2.decoupled_decay = 0.05f;
  g_autoptr (GBytes) bytes_w1 = trained (&cw1, ds);
  g_autoptr (GBytes) bytes_w2 = trained (&cw2, ds);
  g_assert_true (g_bytes_equal (bytes_w1, bytes_w2));
  g_assert_false (g_bytes_equal (bytes_a, bytes_w1));

  /* EfficientNet, whose training drops branches at random (stochastic depth): the same
   * seed gives the same file, and so does a run stopped after epoch 2 and resumed (the
   * draws of a step come from the seed and the step's number) */
  check_arch_repro (data, SS_ARCH_EFFICIENTNET_B0, 8, 32, "f");
  /* ResNet-18 wide enough for the tap kernels (its forward, input and weight gradients
   * on tapconv.c, the small maps in groups of half the batch) */
  check_arch_repro (data, SS_ARCH_RESNET18, 16, 64, "n");
  /* fine-tunes of a part of that ResNet (the layers before it as they were: the engine's
   * test-engine-grad) */
  check_part_repro (data, SS_TRAIN_LAST_STAGE, "p");
  check_part_repro (data, SS_TRAIN_HEAD, "q");
}

/* Centre of mass and area of the dark pixels of a CHW image (red channel < 0.5), within
 * radius of the middle (0: everywhere). */
static void
dark_blob (const float *chw, int w, int h, double radius, double *cx, double *cy, double *area)
{
  double sx = 0, sy = 0, n = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if (chw[y * w + x] < 0.5f
          && (radius <= 0 || hypot (x - 0.5 * (w - 1), y - 0.5 * (h - 1)) < radius))
        {
          sx += x;
          sy += y;
          n++;
        }
  *cx = n > 0 ? sx / n : -1;
  *cy = n > 0 ? sy / n : -1;
  *area = n;
}

/* a 32 x 32 bright field with a dark disc of radius r at (x0, y0) */
static SsDataset *
disc_dataset (double x0, double y0, double r, guint8 dark, guint8 bright)
{
  const int side = 32;
  SsDataset *ds = g_new0 (SsDataset, 1);
  ds->n = 1;
  ds->width = ds->height = side;
  ds->pixels = g_new (guint8, side * side * 3);
  ds->labels = g_new0 (int, 1);
  ds->paths = g_new0 (char *, 1);
  ds->source_labels = g_new0 (char *, 1);
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      {
        double dx = x - x0, dy = y - y0;
        memset (ds->pixels + (y * side + x) * 3, dx * dx + dy * dy < r * r ? dark : bright, 3);
      }
  return ds;
}

static void
test_shift_zoom (void)
{
  /* one 32 x 32 image: a dark disc of radius 6 in the middle of a bright field */
  const int side = 32;
  SsDataset *ds = disc_dataset (15.5, 15.5, 6, 40, 220);
  g_autofree float *chw = g_new (float, 3 * side * side);
  double cx, cy, area0;
  SsRng rng;
  ss_rng_seed (&rng, 3);
  ss_dataset_get (ds, 0, &rng, NULL, chw);
  dark_blob (chw, side, side, 0, &cx, &cy, &area0);
  /* flips and quarter turns leave a centred disc where it was */
  g_assert_cmpfloat (fabs (cx - 15.5), <, 0.01);
  g_assert_cmpfloat (fabs (cy - 15.5), <, 0.01);

  const float a = 0.1f;
  double max_shift = 0, min_area = 1e9, max_area = 0;
  for (int i = 0; i < 200; i++)
    {
      double area;
      ss_dataset_get (ds, 0, &rng, &(SsAugment) { .shift_zoom = a }, chw);
      dark_blob (chw, side, side, 0, &cx, &cy, &area);
      double shift = MAX (fabs (cx - 15.5), fabs (cy - 15.5));
      /* the centre moves by at most a * side (a zoom about the centre does not move it);
       * one pixel of slack for the bilinear edge of the disc */
      g_assert_cmpfloat (shift, <=, a * side + 1.0);
      max_shift = MAX (max_shift, shift);
      min_area = MIN (min_area, area);
      max_area = MAX (max_area, area);
    }
  /* and it does move and scale: the area goes with zoom squared, 0.81..1.21 of it */
  g_assert_cmpfloat (max_shift, >, 0.5 * a * side);
  g_assert_cmpfloat (min_area, <, 0.92 * area0);
  g_assert_cmpfloat (max_area, >, 1.08 * area0);
  g_assert_cmpfloat (min_area, >, 0.70 * area0);
  g_assert_cmpfloat (max_area, <, 1.35 * area0);
  ss_dataset_free (ds);
}

static void
test_rotate (void)
{
  /* a disc 7 pixels right of the middle: any turn keeps its distance and size, and the
   * angles are not only the quarter turns */
  const int side = 32;
  SsDataset *ds = disc_dataset (22.5, 15.5, 4, 40, 220);
  g_autofree float *chw = g_new (float, 3 * side * side);
  double cx, cy, area0, area;
  ss_dataset_get (ds, 0, NULL, NULL, chw);
  dark_blob (chw, side, side, 0, &cx, &cy, &area0);
  SsRng rng;
  ss_rng_seed (&rng, 7);
  const SsAugment turn = { .rotate = TRUE };
  double off_axis = 0;
  for (int i = 0; i < 200; i++)
    {
      ss_dataset_get (ds, 0, &rng, &turn, chw);
      /* within radius 14: a turn by other than a quarter brings mirrored image into the
       * corners */
      dark_blob (chw, side, side, 14, &cx, &cy, &area);
      double dx = cx - 15.5, dy = cy - 15.5;
      g_assert_cmpfloat (fabs (hypot (dx, dy) - 7.0), <, 0.6);
      g_assert_cmpfloat (fabs (area - area0), <, 0.2 * area0);
      double deg = fmod (atan2 (dy, dx) * 180.0 / G_PI + 360.0, 90.0);
      off_axis = MAX (off_axis, MIN (deg, 90.0 - deg));
    }
  g_assert_cmpfloat (off_axis, >, 30.0);
  ss_dataset_free (ds);
}

static void
test_stain (void)
{
  /* a dark nucleus on a bright background: stain jitter moves the dark part further than
   * the plain colour jitter does, and the channels apart */
  const int side = 32;
  SsDataset *ds = disc_dataset (15.5, 15.5, 8, 60, 240);
  g_autofree float *chw = g_new (float, 3 * side * side);
  const gsize centre = 16 * side + 16, plane = side * side;
  const SsAugment plain = { 0 }, stained = { .stain = 0.2f };
  double lo[2] = { 1, 1 }, hi[2] = { 0, 0 }, spread = 0;
  for (int k = 0; k < 2; k++)
    {
      SsRng rng;
      ss_rng_seed (&rng, 11);
      for (int i = 0; i < 300; i++)
        {
          ss_dataset_get (ds, 0, &rng, k == 0 ? &plain : &stained, chw);
          for (int c = 0; c < 3; c++)
            {
              double v = chw[c * plane + centre];
              g_assert_cmpfloat (v, >=, 0.0);
              g_assert_cmpfloat (v, <=, 1.0);
              lo[k] = MIN (lo[k], v);
              hi[k] = MAX (hi[k], v);
            }
          if (k == 1)
            spread = MAX (spread, fabs (chw[centre] - chw[2 * plane + centre]));
        }
    }
  /* plain: 60/255 x (0.9 .. 1.1)(0.95 .. 1.05) +- 0.03, about 0.17 .. 0.30 */
  g_assert_cmpfloat (lo[0], >, 0.16);
  g_assert_cmpfloat (hi[0], <, 0.31);
  /* stained: density x 0.72 .. 1.32 and light x 0.8 .. 1.2 reach well past that */
  g_assert_cmpfloat (lo[1], <, 0.14);
  g_assert_cmpfloat (hi[1], >, 0.36);
  /* the same grey in every channel comes out tinted */
  g_assert_cmpfloat (spread, >, 0.05);
  ss_dataset_free (ds);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("ss-train-XXXXXX", NULL);
  g_test_add_func ("/training/reproducible", test_repro);
  g_test_add_func ("/training/shift-zoom", test_shift_zoom);
  g_test_add_func ("/training/rotate", test_rotate);
  g_test_add_func ("/training/stain", test_stain);
  int status = g_test_run ();
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", tmp_dir);
  if (system (cmd) != 0)
    g_printerr ("could not remove %s\n", tmp_dir);
  return status;
}
