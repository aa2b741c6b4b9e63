/* smearscope-cli bench: the engine's msCNN figures under the names the PyTorch peer
 * (../shared/bench/peer_mscnn.py) prints, the machine's own sgemm rate measured in the
 * same run, and with --compare the peer itself, run in the same sitting. Figures are
 * printed, never asserted: machines here are shared and noisy. */
#include "cli.h"

#include "ss-config.h"
#include "ss-engine.h"
#include "ss-classifier.h"
#include "ss-dataset.h"
#include "ss-detect.h"
#include "ss-image.h"
#include "ss-report-analysis.h"

#include <cblas.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

extern char *openblas_get_corename (void);
extern char *openblas_get_config (void);

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* Which kernels ran the inference convolutions (training: always im2col + sgemm). */
static const char *
conv_kernel_label (void)
{
  const char *k = ss_engine_conv_kernel ();
  if (strcmp (k, "avx512") == 0)
    return "on the engine's AVX-512 kernels where they fit";
  if (strcmp (k, "avx2") == 0)
    return "on the engine's AVX2 kernels where they fit";
  return "as im2col + sgemm";
}

/* cblas_sgemm 2048^3 with all of OpenBLAS's threads: best of 5 after a warm-up. */
static double
sgemm_gflops (void)
{
  const int n = 2048;
  float *a = malloc (sizeof (float) * n * n), *b = malloc (sizeof (float) * n * n);
  float *c = malloc (sizeof (float) * n * n);
  SsRng rng;
  ss_rng_seed (&rng, 3);
  for (int i = 0; i < n * n; i++)
    {
      a[i] = ss_rng_uniform (&rng) - 0.5f;
      b[i] = ss_rng_uniform (&rng) - 0.5f;
    }
  openblas_set_num_threads (ss_engine_get_threads ());
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
  double best = 1e30;
  for (int r = 0; r < 5; r++)
    {
      double t = now_s ();
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c,
                   n);
      t = now_s () - t;
      if (t < best)
        best = t;
    }
  openblas_set_num_threads (1);  /* the engine's own threads call sgemm */
  free (a);
  free (b);
  free (c);
  return 2.0 * n * n * (double) n / best / 1e9;
}

typedef struct {
  double latency_b1_ms, infer_img_per_s, train_img_per_s, max_rss_mib;
  double flops_forward, flops_train, sgemm;
} BenchFigures;

/* The peer's networks: msCNN (2 classes); ResNet-18, VGG16 (width 64) and
 * EfficientNet-B0 (width 32), 8 classes, as torchvision builds them. */
static void
bench_model (SsArch arch, int iters, int iters_b1, int warmup, BenchFigures *f)
{
  SsModelSpec spec;
  memset (&spec, 0, sizeof spec);
  spec.arch = arch;
  spec.in_c = 3;
  spec.in_h = spec.in_w = 128;
  spec.width = arch == SS_ARCH_MSCNN || arch == SS_ARCH_EFFICIENTNET_B0 ? 32 : 64;
  spec.n_classes = arch == SS_ARCH_MSCNN ? 2 : 8;
  for (int c = 0; c < spec.n_classes; c++)
    snprintf (spec.class_names[c], SS_NAME_LEN, "class%d", c);
  for (int c = 0; c < 3; c++)
    {
      spec.mean[c] = 0.5f;
      spec.std[c] = 0.25f;
    }
  SsError error;
  SsModel *model = ss_model_new (&spec, 0, &error);
  if (model == NULL)
    {
      ss_cli_error ("%s", error.message);
      exit (1);
    }
  const int batch = 32;
  const size_t image = 3 * 128 * 128;
  float *x = malloc (sizeof (float) * image * batch);
  float probs[8 * 32];
  int labels[32];
  SsRng rng;
  ss_rng_seed (&rng, 0);
  for (size_t i = 0; i < image * batch; i++)
    x[i] = ss_rng_uniform (&rng);
  for (int i = 0; i < batch; i++)
    labels[i] = (int) ss_rng_below (&rng, 2);

  double *t = malloc (sizeof (double) * (iters_b1 > iters ? iters_b1 : iters));
  for (int i = 0; i < 3 * warmup; i++)
    ss_model_predict (model, x, 1, probs, &error);
  for (int i = 0; i < iters_b1; i++)
    {
      double t0 = now_s ();
      ss_model_predict (model, x, 1, probs, &error);
      t[i] = now_s () - t0;
    }
  f->latency_b1_ms = 1e3 * ss_cli_median (t, iters_b1);

  for (int i = 0; i < warmup; i++)
    ss_model_predict (model, x, batch, probs, &error);
  for (int i = 0; i < iters; i++)
    {
      double t0 = now_s ();
      ss_model_predict (model, x, batch, probs, &error);
      t[i] = now_s () - t0;
    }
  f->infer_img_per_s = batch / ss_cli_median (t, iters);

  SsOptimConfig optim;
  ss_optim_config_default (&optim, SS_OPTIM_ADAM, 2e-4f);
  SsTrainer *trainer = ss_trainer_new (model, &optim, batch, &error);
  if (trainer == NULL)
    {
      ss_cli_error ("%s", error.message);
      exit (1);
    }
  for (int i = 0; i < warmup; i++)
    ss_trainer_step (trainer, x, labels, batch, NULL);
  for (int i = 0; i < iters; i++)
    {
      double t0 = now_s ();
      ss_trainer_step (trainer, x, labels, batch, NULL);
      t[i] = now_s () - t0;
    }
  f->train_img_per_s = batch / ss_cli_median (t, iters);
  f->flops_forward = ss_model_flops (model);
  /* forward + weight gradients + input gradients of every layer but the first conv */
  f->flops_train = 3.0 * f->flops_forward - ss_model_first_conv_flops (model);

  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  f->max_rss_mib = ru.ru_maxrss / 1024.0;
  ss_trainer_free (trainer);
  ss_model_free (model);
  free (x);
  free (t);
}


/* Run the peer in the same sitting; its last output line is its JSON. */
static JsonObject *
run_peer (JsonParser *parser, SsArch arch)
{
  g_autofree char *script = g_build_filename (SS_SHARED_DIR, "bench", "peer_mscnn.py", NULL);
  g_autofree char *threads = g_strdup_printf ("%d", ss_engine_get_threads ());
  const char *peer_argv[] = { "/usr/bin/python3", script, "--threads", threads, "--arch",
                              ss_arch_name (arch), NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_autoptr (GError) error = NULL;
  if (!g_file_test (script, G_FILE_TEST_EXISTS))
    {
      ss_cli_error ("the peer %s is absent: cannot compare", script);
      return NULL;
    }
  if (!g_spawn_sync (NULL, (char **) peer_argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      ss_cli_error ("the PyTorch peer did not run (%s); it needs Debian's python3-torch: "
                    "apt-get install python3-torch", error->message);
      return NULL;
    }
  g_strstrip (out);
  const char *last = strrchr (out, '\n');
  last = last != NULL ? last + 1 : out;
  if (!json_parser_load_from_data (parser, last, -1, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      ss_cli_error ("cannot read the peer's output: %s", out);
      return NULL;
    }
  return json_node_get_object (json_parser_get_root (parser));
}

/* Up to `want` real cells into x: PBC val's pictures (../shared/datasets), spread evenly
 * over its folders, each one's centre cell framed as the analysis frames it. Returns how
 * many (0 when the data set is not there). */
static int
real_cells (SsClassifier *classifier, int want, float *x)
{
  g_autofree char *root = g_build_filename (SS_SHARED_DIR, "datasets", "pbc", "val", NULL);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) top = g_dir_open (root, 0, NULL);
  const char *name;
  while (top != NULL && (name = g_dir_read_name (top)) != NULL)
    {
      g_autofree char *dir = g_build_filename (root, name, NULL);
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *file;
      while (d != NULL && (file = g_dir_read_name (d)) != NULL)
        g_ptr_array_add (paths, g_build_filename (dir, file, NULL));
    }
  ss_sort_strings (paths);
  const SsModelSpec *spec = ss_model_spec (ss_classifier_model (classifier));
  const size_t image = (size_t) 3 * spec->in_h * spec->in_w;
  SsDetectSettings detect;
  ss_detect_settings_init (&detect);
  ss_detect_settings_for_diameter (&detect, 100);
  int got = 0;
  for (guint i = 0; i < paths->len && got < want; i++)
    {
      /* want of them, evenly spaced */
      if (paths->len > (guint) want
          && (i * (guint) want) / paths->len == ((i + 1) * (guint) want) / paths->len)
        continue;
      g_autoptr (SsImage) picture = ss_image_load (paths->pdata[i], SS_DEFAULT_MAX_PIXELS, NULL);
      if (picture == NULL)
        continue;
      g_autoptr (GPtrArray) cells =
        ss_classifier_field_cells (picture, &detect, SS_FIELD_CELLS_CENTRE);
      if (cells->len == 0)
        continue;
      ss_classifier_frame_box (classifier, picture, &((const SsCell *) cells->pdata[0])->box,
                               SS_CLASSIFIER_MARGIN, x + image * got++);
    }
  return got;
}

/* How many of n inputs the model's first view leaves under its views-below confidence,
 * i.e. take every view (all n when it has views and no such confidence; 0 with 1 view). */
static int
second_looks (SsModel *model, const float *x, int n, float *probs)
{
  const int views = ss_model_views (model);
  const float below = ss_model_views_below (model);
  if (views == 1 || below <= 0)
    return views == 1 ? 0 : n;
  SsError e;
  ss_model_set_views (model, 1, &e);
  ss_model_predict (model, x, n, probs, &e);
  ss_model_set_views (model, views, &e);
  const int k = ss_model_spec (model)->n_classes;
  int under = 0;
  for (int i = 0; i < n; i++)
    {
      float top = 0;
      for (int c = 0; c < k; c++)
        top = MAX (top, probs[i * k + c]);
      under += top < below;
    }
  return under;
}

/* Median ms of `iters` predictions of n inputs. */
static double
time_predict (SsModel *model, const float *x, int n, int iters, float *probs, double *t)
{
  SsError e;
  ss_model_predict (model, x, n, probs, &e);
  for (int i = 0; i < iters; i++)
    {
      double t0 = now_s ();
      ss_model_predict (model, x, n, probs, &e);
      t[i] = now_s () - t0;
    }
  return 1e3 * ss_cli_median (t, iters);
}

/* A trained model on one cell and on a batch of 100 (the cell-type budget), with its own
 * views; with views only below a confidence, also on 100 real cells and with every view
 * for every cell (the most it can cost); and the time to bring 100 pictures of a PBC
 * cell's size (360 x 363) to its input the way it was trained (its resampling), which
 * the analysis spends before the model. */
static int
bench_classifier (const char *name, int iters, gboolean json)
{
  g_autofree char *path = ss_cli_find_model (name);
  g_autoptr (SsClassifier) classifier = ss_cli_load_classifier (path);
  if (classifier == NULL)
    return 1;
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  const int batch = 100, views = ss_model_views (model);
  const float below = ss_model_views_below (model);
  const gboolean adaptive = views > 1 && below > 0;
  const size_t image = (size_t) 3 * spec->in_h * spec->in_w;
  float *x = malloc (sizeof (float) * image * batch);
  float *probs = malloc (sizeof (float) * SS_MAX_CLASSES * batch);
  SsRng rng;
  ss_rng_seed (&rng, 0);
  for (size_t i = 0; i < image * batch; i++)
    x[i] = ss_rng_uniform (&rng);
  int n1 = iters < 30 ? 30 : iters;
  double *t = malloc (sizeof (double) * n1);
  SsError e;
  for (int i = 0; i < 5; i++)
    ss_model_predict (model, x, 1, probs, &e);
  double one_ms = time_predict (model, x, 1, n1, probs, t);
  double hundred_ms = time_predict (model, x, batch, iters, probs, t);
  int noise_looks = second_looks (model, x, batch, probs);
  double every_ms = 0, every_one_ms = 0, real_ms = 0;
  int real_n = 0, real_looks = 0;
  if (adaptive)
    {
      ss_model_set_views_below (model, 0, &e);
      every_one_ms = time_predict (model, x, 1, n1, probs, t);
      every_ms = time_predict (model, x, batch, iters, probs, t);
      ss_model_set_views_below (model, below, &e);
      float *cells = malloc (sizeof (float) * image * batch);
      real_n = real_cells (classifier, batch, cells);
      if (real_n > 0)
        {
          real_ms = time_predict (model, cells, real_n, iters, probs, t);
          real_looks = second_looks (model, cells, real_n, probs);
        }
      free (cells);
    }
  g_autoptr (SsImage) picture = ss_image_new (360, 363);
  for (size_t i = 0; i < (size_t) 360 * 363 * 3; i++)
    picture->rgb[i] = (guint8) (ss_rng_uniform (&rng) * 255.0f);
  for (int i = 0; i < iters; i++)
    {
      double t0 = now_s ();
      for (int k = 0; k < batch; k++)
        ss_image_crop_to_tensor (picture, 0, 0, picture->width, picture->height, spec->in_w,
                                 spec->in_h, spec->resample, x + image * k);
      t[i] = now_s () - t0;
    }
  double resample_ms = 1e3 * ss_cli_median (t, iters);
  /* the machine's own yardstick in the same run: this shared VM's sgemm drifted by a
   * sixth within an afternoon, and a figure against sgemm moves far less. The every-view batch is the one whose
   * work ss_model_flops counts (every image, every view). */
  const double sgemm = sgemm_gflops ();
  const double every_view_ms = adaptive ? every_ms : hundred_ms;
  const double rate = ss_model_flops (model) * batch / (every_view_ms / 1e3) / 1e9;
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, path);
      json_builder_set_member_name (b, "arch");
      json_builder_add_string_value (b, ss_arch_name (spec->arch));
      json_builder_set_member_name (b, "input");
      json_builder_add_int_value (b, spec->in_w);
      json_builder_set_member_name (b, "stem");
      json_builder_add_int_value (b, ss_model_stem_kernel (spec));
      json_builder_set_member_name (b, "views");
      json_builder_add_int_value (b, views);
      ss_report_json_add_figure (b, "views_below", below);
      ss_report_json_add_figure (b, "cell_ms", one_ms);
      ss_report_json_add_figure (b, "batch100_ms", hundred_ms);
      json_builder_set_member_name (b, "batch100_every_view");
      json_builder_add_int_value (b, noise_looks);
      if (adaptive)
        {
          ss_report_json_add_figure (b, "cell_all_views_ms", every_one_ms);
          ss_report_json_add_figure (b, "batch100_all_views_ms", every_ms);
          json_builder_set_member_name (b, "real_cells");
          json_builder_add_int_value (b, real_n);
          if (real_n > 0)
            {
              ss_report_json_add_figure (b, "real_cells_ms", real_ms);
              json_builder_set_member_name (b, "real_cells_every_view");
              json_builder_add_int_value (b, real_looks);
            }
        }
      json_builder_set_member_name (b, "resample");
      json_builder_add_string_value (b, ss_resample_name (spec->resample));
      ss_report_json_add_figure (b, "resample100_ms", resample_ms);
      json_builder_set_member_name (b, "params");
      json_builder_add_int_value (b, (gint64) ss_model_n_params (model));
      ss_report_json_add_figure (b, "flop_every_view", ss_model_flops (model));
      ss_report_json_add_figure (b, "gflops_every_view", rate);
      ss_report_json_add_figure (b, "sgemm_gflops", sgemm);
      json_builder_set_member_name (b, "threads");
      json_builder_add_int_value (b, ss_engine_get_threads ());
      json_builder_set_member_name (b, "openblas_corename");
      json_builder_add_string_value (b, openblas_get_corename ());
      json_builder_set_member_name (b, "conv_kernel");
      json_builder_add_string_value (b, ss_engine_conv_kernel ());
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
    }
  else
    {
      printf ("%s (%s width %d", path, ss_arch_name (spec->arch), spec->width);
      if (spec->stem_k != 0)
        printf (", %dx%d stem", spec->stem_k, spec->stem_k);
      printf (", %dx%d input, %d view%s", spec->in_w, spec->in_h, views, views == 1 ? "" : "s");
      if (adaptive)
        printf (", the others only for cells under %.2f", below);
      printf ("), %d threads, OpenBLAS %s, convolutions %s:\n"
              "  one cell           %8.2f ms (median of %d)\n"
              "  batch of 100 cells %8.2f ms (median of %d; random pixels, %d of them took "
              "every view)\n",
              ss_engine_get_threads (), openblas_get_corename (), conv_kernel_label (), one_ms, n1,
              hundred_ms, iters,
              noise_looks);
      if (adaptive)
        {
          printf ("  every view for every cell (the most it can cost): one cell %.2f ms, 100 "
                  "cells %.2f ms\n", every_one_ms, every_ms);
          if (real_n > 0)
            printf ("  %d real cells (PBC val, spread over its folders, framed as the analysis "
                    "does) %8.2f ms; %d took every view\n", real_n, real_ms, real_looks);
          else
            printf ("  real cells: ../shared/datasets/pbc/val is not there; not measured\n");
        }
      printf ("  before the model: 100 pictures of 360 x 363 to %dx%d (%s resampling, one "
              "thread) %.2f ms\n",
              spec->in_w, spec->in_h, ss_resample_name (spec->resample), resample_ms);
      printf ("  100 cells, every view: %.1f GFLOP/s = %.3f of sgemm 2048^3 (%.1f GFLOP/s, "
              "same run)\n", rate, rate / sgemm, sgemm);
    }
  free (x);
  free (probs);
  free (t);
  return 0;
}

int
ss_cli_bench (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--analyze") == 0 || g_str_has_prefix (argv[i], "--analyze="))
        return ss_cli_bench_analyze (argc, argv);
      if (strcmp (argv[i], "--store") == 0)
        return ss_cli_bench_store (argc, argv);
      if (strcmp (argv[i], "--report") == 0 || g_str_has_prefix (argv[i], "--report="))
        return ss_cli_bench_report (argc, argv);
    }
  gboolean json = FALSE, compare = FALSE;
  g_autofree char *arch_name = NULL, *model_name = NULL;
  int iters = 10, iters_b1 = 50, warmup = 3;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object", NULL },
    { "arch", 0, 0, G_OPTION_ARG_STRING, &arch_name, "mscnn (default), resnet18, vgg16 or efficientnet_b0, as the peer", "ARCH" },
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_name, "Time a trained model: one cell and 100 cells", "MODEL" },
    { "compare", 0, 0, G_OPTION_ARG_NONE, &compare, "Also run the PyTorch peer and print ratios", NULL },
    { "iters", 0, 0, G_OPTION_ARG_INT, &iters, "Timed batch-32 passes and training steps (10)", "N" },
    { "iters-b1", 0, 0, G_OPTION_ARG_INT, &iters_b1, "Timed batch-1 forwards (50, at least 30)", "N" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Untimed iterations first (3)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("- time the msCNN (or --analyze IMAGE, --store, --report IMAGE)");
  ss_cli_add_entries (context, entries);
  g_option_context_set_description (
    context, "Inference convolutions run on the engine's own AVX-512 or AVX2 kernels where the "
             "CPU has them.\nSMEARSCOPE_CONV=gemm (im2col + OpenBLAS sgemm, as training) or "
             "=avx2 chooses, to compare;\nthe kernels used are printed. OPENBLAS_* variables "
             "are left as they are and reported.");
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (iters < 1 || iters_b1 < 30 || warmup < 0)
    {
      ss_cli_error ("--iters must be >= 1, --iters-b1 >= 30");
      return 2;
    }

  if (model_name != NULL)
    return bench_classifier (model_name, iters, json);
  SsArch arch = ss_arch_from_name (arch_name != NULL ? arch_name : "mscnn");
  if (arch != SS_ARCH_MSCNN && arch != SS_ARCH_RESNET18 && arch != SS_ARCH_VGG16
      && arch != SS_ARCH_EFFICIENTNET_B0)
    {
      ss_cli_error ("--arch must be mscnn, resnet18, vgg16 or efficientnet_b0 (the peer's "
                    "networks)");
      return 2;
    }
  BenchFigures f = { 0 };
  /* the model first: its peak memory must not include the yardstick's 48 MB matrices */
  bench_model (arch, iters, iters_b1, warmup, &f);
  f.sgemm = sgemm_gflops ();
  double rate_b1 = f.flops_forward / (f.latency_b1_ms / 1e3) / 1e9;
  double rate_b32 = f.flops_forward * f.infer_img_per_s / 1e9;
  double rate_train = f.flops_train * f.train_img_per_s / 1e9;

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "engine");
  json_builder_add_string_value (b, "smearscope " SS_VERSION);
  json_builder_set_member_name (b, "arch");
  json_builder_add_string_value (b, ss_arch_name (arch));
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, ss_engine_get_threads ());
  ss_report_json_add_figure (b, "latency_b1_ms", f.latency_b1_ms);
  ss_report_json_add_figure (b, "infer_img_per_s", f.infer_img_per_s);
  ss_report_json_add_figure (b, "train_img_per_s", f.train_img_per_s);
  ss_report_json_add_figure (b, "max_rss_mib", f.max_rss_mib);
  ss_report_json_add_figure (b, "flop_forward", f.flops_forward);
  ss_report_json_add_figure (b, "flop_train", f.flops_train);
  ss_report_json_add_figure (b, "gflops_b1", rate_b1);
  ss_report_json_add_figure (b, "gflops_infer", rate_b32);
  ss_report_json_add_figure (b, "gflops_train", rate_train);
  ss_report_json_add_figure (b, "sgemm_gflops", f.sgemm);
  ss_report_json_add_figure (b, "sgemm_fraction_b1", rate_b1 / f.sgemm);
  ss_report_json_add_figure (b, "sgemm_fraction_infer", rate_b32 / f.sgemm);
  ss_report_json_add_figure (b, "sgemm_fraction_train", rate_train / f.sgemm);
  json_builder_set_member_name (b, "openblas_corename");
  json_builder_add_string_value (b, openblas_get_corename ());
  json_builder_set_member_name (b, "openblas_coretype_chosen_by");
  json_builder_add_string_value (b, ss_engine_blas_selected_by ());
  json_builder_set_member_name (b, "conv_kernel");
  json_builder_add_string_value (b, ss_engine_conv_kernel ());
  json_builder_set_member_name (b, "openblas_config");
  json_builder_add_string_value (b, openblas_get_config ());
  json_builder_set_member_name (b, "env");
  json_builder_begin_object (b);
  /* the environment as the user gave it: a coretype Smearscope chose itself (blas.c) is
   * reported apart */
  const gboolean chose = g_strcmp0 (ss_engine_blas_selected_by (), "smearscope") == 0;
  g_auto (GStrv) environment = g_get_environ ();
  for (char **p = environment; p != NULL && *p != NULL; p++)
    if ((g_str_has_prefix (*p, "OPENBLAS_") || g_str_has_prefix (*p, "GOTO_")
         || g_str_has_prefix (*p, "OMP_NUM_THREADS") || g_str_has_prefix (*p, "SMEARSCOPE_"))
        && !(chose && g_str_has_prefix (*p, "OPENBLAS_CORETYPE=")))
      {
        char *eq = strchr (*p, '=');
        *eq = '\0';
        json_builder_set_member_name (b, *p);
        json_builder_add_string_value (b, eq + 1);
      }
  json_builder_end_object (b);

  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *peer = NULL;
  if (compare)
    {
      peer = run_peer (parser, arch);
      if (peer == NULL)
        return 1;
      json_builder_set_member_name (b, "peer");
      json_builder_add_value (b, json_node_copy (json_parser_get_root (parser)));
      json_builder_set_member_name (b, "speedup");
      json_builder_begin_object (b);
      ss_report_json_add_figure (b, "latency_b1", json_object_get_double_member (peer, "latency_b1_ms")
                                     / f.latency_b1_ms);
      ss_report_json_add_figure (b, "infer", f.infer_img_per_s
                                / json_object_get_double_member (peer, "infer_img_per_s"));
      ss_report_json_add_figure (b, "train", f.train_img_per_s
                                / json_object_get_double_member (peer, "train_img_per_s"));
      ss_report_json_add_figure (b, "rss_ratio", f.max_rss_mib
                                    / json_object_get_double_member (peer, "max_rss_mib"));
      json_builder_end_object (b);
    }
  json_builder_end_object (b);

  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
      return 0;
    }
  printf ("%s, 3x128x128, %d threads, OpenBLAS %s kernels (chosen by %s), convolutions %s\n",
          ss_arch_name (arch), ss_engine_get_threads (), openblas_get_corename (),
          ss_engine_blas_selected_by (), conv_kernel_label ());
  printf ("  batch-1 latency    %8.2f ms      %6.1f GFLOP/s = %.3f of sgemm\n", f.latency_b1_ms,
          rate_b1, rate_b1 / f.sgemm);
  printf ("  batch-32 inference %8.1f img/s  %6.1f GFLOP/s = %.3f of sgemm\n", f.infer_img_per_s,
          rate_b32, rate_b32 / f.sgemm);
  printf ("  batch-32 training  %8.1f img/s  %6.1f GFLOP/s = %.3f of sgemm\n", f.train_img_per_s,
          rate_train, rate_train / f.sgemm);
  printf ("  max RSS            %8.1f MiB\n", f.max_rss_mib);
  printf ("  sgemm 2048^3       %8.1f GFLOP/s\n", f.sgemm);
  if (peer != NULL)
    {
      double pl = json_object_get_double_member (peer, "latency_b1_ms");
      double pi = json_object_get_double_member (peer, "infer_img_per_s");
      double pt = json_object_get_double_member (peer, "train_img_per_s");
      double pr = json_object_get_double_member (peer, "max_rss_mib");
      printf ("PyTorch peer, same run:\n");
      printf ("  batch-1 latency    %8.2f ms      Smearscope %.2fx faster\n", pl, pl / f.latency_b1_ms);
      printf ("  batch-32 inference %8.1f img/s  Smearscope %.2fx faster\n", pi, f.infer_img_per_s / pi);
      printf ("  batch-32 training  %8.1f img/s  Smearscope %.2fx faster\n", pt, f.train_img_per_s / pt);
      printf ("  max RSS            %8.1f MiB    Smearscope uses %.2fx\n", pr, f.max_rss_mib / pr);
    }
  return 0;
}
