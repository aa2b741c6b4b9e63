/* What smearscope-cli and the workstation share of models and settings (ss-models.h):
 * where models are found, what identifies a model file, which settings an analysis
 * accepts; and a classifier shared between threads and with a batch task. */
#include "ss-analysis.h"
#include "ss-config.h"
#include "ss-gradcam.h"
#include "ss-models.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

/* sha256 ("test") */
#define TEST_SHA256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static char *
write_temp_file (const char *dir, const char *name, const char *contents)
{
  char *path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

/* A small untrained msCNN saved as dir/tiny.ssm: fast to load and run, and its file is
 * a single network (SSM1). */
static char *
write_tiny_model (const char *dir)
{
  SsModelSpec spec;
  memset (&spec, 0, sizeof spec);
  spec.arch = SS_ARCH_MSCNN;
  spec.in_c = 3;
  spec.in_h = spec.in_w = 16;
  spec.width = 2;
  const char *names[] = { "neutrophil", "lymphocyte", "lymphoblast" };
  spec.n_classes = G_N_ELEMENTS (names);
  for (int c = 0; c < spec.n_classes; c++)
    g_strlcpy (spec.class_names[c], names[c], SS_NAME_LEN);
  for (int c = 0; c < 3; c++)
    spec.std[c] = 1;
  SsError e;
  SsModel *model = ss_model_new (&spec, 1, &e);
  g_assert_nonnull (model);
  char *path = g_build_filename (dir, "tiny.ssm", NULL);
  g_assert_cmpint (ss_model_save (model, path, SS_STORE_F32, &e), ==, SS_OK);
  ss_model_free (model);
  return path;
}

static void
remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  for (const char *name; d != NULL && (name = g_dir_read_name (d)) != NULL;)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
test_models_dir (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("SMEARSCOPE_MODELS"));
  g_unsetenv ("SMEARSCOPE_MODELS");
  g_autofree char *from_build = ss_models_dir (NULL);
  g_assert_cmpstr (from_build, ==, SS_SOURCE_MODELS_DIR);  /* this test runs from the build tree */
  g_setenv ("SMEARSCOPE_MODELS", "/env/models", TRUE);
  g_autofree char *from_env = ss_models_dir (NULL);
  g_assert_cmpstr (from_env, ==, "/env/models");
  g_autofree char *overridden = ss_models_dir ("/given/models");
  g_assert_cmpstr (overridden, ==, "/given/models");
  if (saved != NULL)
    g_setenv ("SMEARSCOPE_MODELS", saved, TRUE);
  else
    g_unsetenv ("SMEARSCOPE_MODELS");
}

static void
test_models_find (void)
{
  g_autofree char *by_name = ss_models_find ("/m", "celltype");
  g_assert_cmpstr (by_name, ==, "/m/celltype.ssm");
  g_autofree char *with_extension = ss_models_find ("/m", "blast.ssm");
  g_assert_cmpstr (with_extension, ==, "/m/blast.ssm");
  g_autofree char *by_path = ss_models_find ("/m", "elsewhere/blast.ssm");
  g_assert_cmpstr (by_path, ==, "elsewhere/blast.ssm");
  g_autofree char *default_path = ss_models_default_classifier_path ("/m");
  g_assert_cmpstr (default_path, ==, "/m/celltype.ssm");

  /* NULL: the folder ss_models_dir decides */
  g_autofree char *saved = g_strdup (g_getenv ("SMEARSCOPE_MODELS"));
  g_setenv ("SMEARSCOPE_MODELS", "/env/models", TRUE);
  g_autofree char *from_env = ss_models_find (NULL, "celltype");
  g_assert_cmpstr (from_env, ==, "/env/models/celltype.ssm");
  if (saved != NULL)
    g_setenv ("SMEARSCOPE_MODELS", saved, TRUE);
  else
    g_unsetenv ("SMEARSCOPE_MODELS");

  /* a file of that name in the working folder is taken as given */
  g_autofree char *dir = g_dir_make_tmp ("ss-models-find-XXXXXX", NULL);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *local = write_temp_file (dir, "local.ssm", "x");
  g_assert_cmpint (chdir (dir), ==, 0);
  g_autofree char *found = ss_models_find ("/m", "local.ssm");
  g_assert_cmpint (chdir (cwd), ==, 0);
  g_assert_cmpstr (found, ==, "local.ssm");
  remove_dir (dir);
}

static void
test_file_sha256 (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-models-sha-XXXXXX", NULL);
  g_autofree char *path = write_temp_file (dir, "test.txt", "test");
  g_autoptr (GError) error = NULL;
  g_autofree char *sha256 = ss_file_sha256 (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sha256, ==, TEST_SHA256);

  g_autofree char *missing = g_build_filename (dir, "missing.jpg", NULL);
  g_autofree char *none = ss_file_sha256 (missing, &error);
  g_assert_null (none);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_assert_nonnull (strstr (error->message, missing));
  remove_dir (dir);
}

static void
assert_hex_sha256 (const char *text)
{
  g_assert_nonnull (text);
  g_assert_cmpuint (strlen (text), ==, 64);
  for (int i = 0; i < 64; i++)
    g_assert_true (g_ascii_isxdigit (text[i]) && !g_ascii_isupper (text[i]));
}

static void
test_identity_shipped_model (void)
{
  g_autofree char *path = g_build_filename (SS_SOURCE_MODELS_DIR, "celltype.ssm", NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("data/models/celltype.ssm is not there");
      return;
    }
  g_auto (SsModelIdentity) identity = { 0 };
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_model_identity_init (&identity, path, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (identity.path, ==, path);
  g_assert_cmpstr (identity.name, ==, "celltype.ssm");
  g_assert_true (g_strcmp0 (identity.format, "SSM1") == 0
                 || g_strcmp0 (identity.format, "SSE1") == 0);
  assert_hex_sha256 (identity.sha256);
  g_autofree char *contents = NULL;
  gsize length;
  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_autofree char *expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                           (const guchar *) contents, length);
  g_assert_cmpstr (identity.sha256, ==, expected);
}

static void
test_identity (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-models-identity-XXXXXX", NULL);
  g_autofree char *tiny = write_tiny_model (dir);
  g_autoptr (GError) error = NULL;
  {
    g_auto (SsModelIdentity) identity = { 0 };
    g_assert_true (ss_model_identity_init (&identity, tiny, &error));
    g_assert_cmpstr (identity.name, ==, "tiny.ssm");
    g_assert_cmpstr (identity.format, ==, "SSM1");
    assert_hex_sha256 (identity.sha256);
  }
  {
    g_auto (SsModelIdentity) none = { 0 };
    g_assert_true (ss_model_identity_init (&none, NULL, &error));
    g_assert_null (none.path);
    g_assert_cmpstr (none.name, ==, "none (stain proposals only)");
    g_assert_cmpstr (none.format, ==, "none");
    g_assert_null (none.sha256);
  }
  {
    /* too short to carry a format */
    g_autofree char *stub = write_temp_file (dir, "stub.ssm", "SS");
    g_auto (SsModelIdentity) identity = { 0 };
    g_assert_true (ss_model_identity_init (&identity, stub, &error));
    g_assert_cmpstr (identity.format, ==, "????");
  }
  {
    g_autofree char *missing = g_build_filename (dir, "missing.ssm", NULL);
    g_auto (SsModelIdentity) identity = { 0 };
    g_assert_false (ss_model_identity_init (&identity, missing, &error));
    g_assert_error (error, SS_MODELS_ERROR, SS_MODELS_ERROR_UNREADABLE);
    g_assert_nonnull (strstr (error->message, missing));
    g_assert_null (identity.path);
    g_assert_null (identity.sha256);
  }
  remove_dir (dir);
}

static void
assert_refused (const SsAnalysisSettings *settings, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (ss_analysis_settings_validate (settings, &error));
  g_assert_error (error, SS_MODELS_ERROR, SS_MODELS_ERROR_INVALID_SETTING);
  if (strstr (error->message, name) == NULL)
    g_error ("'%s' does not name %s", error->message, name);
}

static void
test_settings_validate (void)
{
  SsAnalysisSettings defaults, s;
  ss_analysis_settings_init (&defaults);
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_analysis_settings_validate (&defaults, &error));
  g_assert_no_error (error);

  /* the ends of each range are accepted */
  s = defaults;
  s.nms_iou = 1, s.min_confidence = 0, s.detect.scale = 0.05, s.blast_threshold = 0;
  g_assert_true (ss_analysis_settings_validate (&s, NULL));
  s.min_confidence = 1, s.detect.scale = 1, s.blast_threshold = 100;
  g_assert_true (ss_analysis_settings_validate (&s, NULL));

  const double nms[] = { 0, -0.1, 1.01, NAN };
  for (gsize i = 0; i < G_N_ELEMENTS (nms); i++)
    {
      s = defaults, s.nms_iou = nms[i];
      assert_refused (&s, "nms_iou");
    }
  const double confidence[] = { -0.01, 1.5, NAN };
  for (gsize i = 0; i < G_N_ELEMENTS (confidence); i++)
    {
      s = defaults, s.min_confidence = confidence[i];
      assert_refused (&s, "min_confidence");
    }
  const double scale[] = { 0.04, 0, 1.2 };
  for (gsize i = 0; i < G_N_ELEMENTS (scale); i++)
    {
      s = defaults, s.detect.scale = scale[i];
      assert_refused (&s, "detect.scale");
    }
  const double diameter[] = { 0, -200 };
  for (gsize i = 0; i < G_N_ELEMENTS (diameter); i++)
    {
      s = defaults, s.detect.cell_diameter = diameter[i];
      assert_refused (&s, "detect.cell_diameter");
    }
  const double threshold[] = { -1, 100.5 };
  for (gsize i = 0; i < G_N_ELEMENTS (threshold); i++)
    {
      s = defaults, s.blast_threshold = threshold[i];
      assert_refused (&s, "blast_threshold");
    }
}

static void
test_default_classifier (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-models-default-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;

  /* none installed: no classifier and no error */
  g_autoptr (SsClassifier) none = ss_models_load_default_classifier (dir, &path, &error);
  g_assert_null (none);
  g_assert_no_error (error);
  g_assert_null (path);

  /* installed and unusable: an error */
  g_autofree char *bad = write_temp_file (dir, "celltype.ssm", "not a model");
  g_autoptr (SsClassifier) unusable = ss_models_load_default_classifier (dir, &path, &error);
  g_assert_null (unusable);
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL);
  g_clear_error (&error);
  g_unlink (bad);

  /* installed: loaded, and the file named */
  g_autofree char *tiny = write_tiny_model (dir);
  g_assert_cmpint (g_rename (tiny, bad), ==, 0);
  g_autoptr (SsClassifier) loaded = ss_models_load_default_classifier (dir, &path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_cmpstr (path, ==, bad);

  /* by name, and by a name that is not there */
  g_clear_pointer (&path, g_free);
  g_autoptr (SsClassifier) by_name = ss_models_load_classifier (dir, "celltype", &path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (by_name);
  g_assert_cmpstr (path, ==, bad);
  g_autoptr (SsClassifier) missing = ss_models_load_classifier (dir, "nosuch", NULL, &error);
  g_assert_null (missing);
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL);
  remove_dir (dir);
}

/* A pink field with a few purple discs (white cells as the stain detector sees them). */
static SsImage *
draw_field (void)
{
  static const double discs[][3] = { { 120, 120, 60 }, { 400, 300, 70 }, { 480, 100, 50 } };
  SsImage *image = ss_image_new (640, 480);
  for (int y = 0; y < image->height; y++)
    for (int x = 0; x < image->width; x++)
      {
        guint8 *p = image->rgb + ((gsize) y * image->width + x) * 3;
        p[0] = 235, p[1] = 228, p[2] = 218;
        for (gsize k = 0; k < G_N_ELEMENTS (discs); k++)
          {
            double d = hypot (x - discs[k][0], y - discs[k][1]);
            if (d <= discs[k][2])
              p[0] = 205, p[1] = 185, p[2] = 220;
            if (d <= 0.6 * discs[k][2])
              p[0] = 110, p[1] = 50, p[2] = 170;
          }
      }
  return image;
}

#define N_BOXES 45  /* more than one chunk of the classifier's batch */
#define ROUNDS  20

typedef struct {
  SsClassifier *classifier;
  const SsImage *image;
  const SsBox   *boxes;
  const float   *expected;
  gboolean       gradcam;  /* Grad-CAM pictures between the runs */
} Worker;

static gpointer
run_worker (gpointer data)
{
  const Worker *w = data;
  const int k = ss_classifier_n_classes (w->classifier);
  g_autofree float *probs = g_new (float, N_BOXES * k);
  for (int round = 0; round < ROUNDS; round++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (ss_classifier_run_boxes (w->classifier, w->image, w->boxes, N_BOXES,
                                              SS_CLASSIFIER_MARGIN, probs, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (probs, sizeof (float) * N_BOXES * k, w->expected,
                       sizeof (float) * N_BOXES * k);
      if (w->gradcam)
        {
          int cls;
          float prob;
          g_autoptr (SsImage) picture = ss_gradcam_picture (w->classifier, w->image, &w->boxes[0],
                                                            SS_CLASSIFIER_MARGIN, -1, 1, 0.45,
                                                            &cls, &prob, &error);
          g_assert_no_error (error);
          g_assert_nonnull (picture);
        }
    }
  return NULL;
}

/* The tiny model of dir, loaded as a classifier. */
static SsClassifier *
load_tiny_classifier (const char *dir)
{
  g_autofree char *path = write_tiny_model (dir);
  g_autoptr (GError) error = NULL;
  SsClassifier *classifier = ss_classifier_load (path, &error);
  g_assert_no_error (error);
  return classifier;
}

/* N_BOXES boxes of draw_field's, some over its cells, some between. */
static void
make_boxes (SsBox *boxes)
{
  for (int i = 0; i < N_BOXES; i++)
    boxes[i] = (SsBox) { 10 * i, 7 * i, 40 + i, 50 + 2 * i };
}

/* Two threads classify the same cells with one classifier, while one also draws Grad-CAM
 * pictures: each gets what it would alone, bit for bit. */
static void
test_classifier_threads (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-models-threads-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsClassifier) classifier = load_tiny_classifier (dir);
  g_autoptr (SsImage) image = draw_field ();
  SsBox boxes[N_BOXES];
  make_boxes (boxes);
  const int k = ss_classifier_n_classes (classifier);
  g_autofree float *expected = g_new (float, N_BOXES * k);
  g_assert_true (ss_classifier_run_boxes (classifier, image, boxes, N_BOXES,
                                          SS_CLASSIFIER_MARGIN, expected, &error));
  Worker workers[2] = {
    { classifier, image, boxes, expected, FALSE },
    { classifier, image, boxes, expected, TRUE },
  };
  GThread *threads[2];
  for (int t = 0; t < 2; t++)
    threads[t] = g_thread_new ("classify", run_worker, &workers[t]);
  for (int t = 0; t < 2; t++)
    g_thread_join (threads[t]);
  remove_dir (dir);
}

/* A camera's colours (issue 27): with a colour pool, the calls do not change when every
 * pixel of the field goes through one affine map per channel (another lamp and camera);
 * without one, they do. */
static void
test_colour_pool (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-models-colour-XXXXXX", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsClassifier) classifier = load_tiny_classifier (dir);
  g_autoptr (SsImage) image = draw_field ();
  g_autoptr (SsImage) other = ss_image_new (image->width, image->height);
  static const double gain[3] = { 0.5, 0.7, 0.4 }, offset[3] = { 100, 60, 140 };
  for (gsize i = 0; i < (gsize) image->width * image->height * 3; i++)
    other->rgb[i] = (guint8) (image->rgb[i] * gain[i % 3] + offset[i % 3] + 0.5);
  SsBox boxes[N_BOXES];
  make_boxes (boxes);
  const int k = ss_classifier_n_classes (classifier);
  g_autofree float *a = g_new (float, N_BOXES * k);
  g_autofree float *b = g_new (float, N_BOXES * k);
  double mapped = 0, unmapped = 0;
  static const double target[6] = { 0.74, 0.60, 0.68, 0.26, 0.29, 0.10 };

  for (int round = 0; round < 2; round++)
    {
      g_autoptr (SsColourPool) pool_a = round ? ss_colour_pool_new (target) : NULL;
      g_autoptr (SsColourPool) pool_b = round ? ss_colour_pool_new (target) : NULL;
      g_assert_true (ss_classifier_run_boxes_pooled (classifier, image, boxes, N_BOXES,
                                                     SS_CLASSIFIER_MARGIN, pool_a, a, NULL,
                                                     &error));
      g_assert_true (ss_classifier_run_boxes_pooled (classifier, other, boxes, N_BOXES,
                                                     SS_CLASSIFIER_MARGIN, pool_b, b, NULL,
                                                     &error));
      double most = 0;
      for (int i = 0; i < N_BOXES * k; i++)
        most = MAX (most, fabs (a[i] - b[i]));
      if (round)
        mapped = most;
      else
        unmapped = most;
    }
  g_test_message ("largest change of a probability under the colour change: %.4f without the "
                  "pool, %.4f with it", unmapped, mapped);
  g_assert_cmpfloat (unmapped, >, 0.01);
  g_assert_cmpfloat (mapped, <, 0.1 * unmapped);
  remove_dir (dir);
}

typedef struct {
  GMainLoop *loop;
  GPtrArray *results;
  GError    *error;
} BatchState;

static void
batch_done (GObject *source, GAsyncResult *result, gpointer data)
{
  BatchState *state = data;
  state->results = ss_analysis_batch_finish (result, &state->error);
  g_main_loop_quit (state->loop);
}

/* The classifier is counted: a second reference keeps it, and a batch task keeps its own
 * after the caller has dropped every other. */
static void
test_classifier_ref (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-models-ref-XXXXXX", NULL);
  g_autofree char *path = write_tiny_model (dir);
  g_autoptr (GError) error = NULL;
  SsClassifier *classifier = ss_classifier_load (path, &error);
  g_assert_no_error (error);
  g_assert_true (ss_classifier_ref (classifier) == classifier);
  ss_classifier_unref (classifier);
  g_assert_cmpint (ss_classifier_n_classes (classifier), ==, 3);

  g_autoptr (SsImage) field = draw_field ();
  g_autofree char *image_path = g_build_filename (dir, "field.png", NULL);
  g_assert_true (ss_image_save_png (field, image_path, &error));
  SsAnalysisSettings settings;
  ss_analysis_settings_init (&settings);
  settings.min_confidence = 0;  /* an untrained model is sure of nothing */
  const char *paths[] = { image_path, NULL };
  BatchState state = { g_main_loop_new (NULL, FALSE) };
  ss_analysis_batch_async (paths, &settings, classifier, NULL, NULL, NULL, batch_done, &state);
  ss_classifier_unref (classifier);  /* the task's reference is the last */
  g_main_loop_run (state.loop);
  g_assert_no_error (state.error);
  g_assert_cmpuint (state.results->len, ==, 1);
  const SsAnalysisResult *result = state.results->pdata[0];
  g_assert_null (result->error);
  g_assert_cmpuint (result->cells->len, >, 0);
  g_ptr_array_unref (state.results);
  g_main_loop_unref (state.loop);
  remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/models/dir", test_models_dir);
  g_test_add_func ("/models/find", test_models_find);
  g_test_add_func ("/models/file-sha256", test_file_sha256);
  g_test_add_func ("/models/identity", test_identity);
  g_test_add_func ("/models/identity-shipped", test_identity_shipped_model);
  g_test_add_func ("/models/settings-validate", test_settings_validate);
  g_test_add_func ("/models/default-classifier", test_default_classifier);
  g_test_add_func ("/models/classifier-threads", test_classifier_threads);
  g_test_add_func ("/models/colour-pool", test_colour_pool);
  g_test_add_func ("/models/classifier-ref", test_classifier_ref);
  return g_test_run ();
}
