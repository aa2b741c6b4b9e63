/* smearscope-cli distance: how far each image lies from what a classifier learned, in
 * the space its final dense layer reads (ss_model_features). The training set's features
 * give one mean per class and one covariance shared by all (shrunk towards its diagonal
 * mean, so that it inverts); an image's distance is the least Mahalanobis distance to a
 * class mean (Lee et al. 2018). With --camera, how unlike the training images' cameras
 * an image looks instead (SsCameraCheck). A measuring tool for issue 27: which cells from
 * another microscope the model has not learned to see. */
#include "cli.h"

#include "ss-camera-check.h"
#include "ss-classifier.h"
#include "ss-dataset.h"
#include "ss-metrics.h"
#include "ss-training.h"

#include <math.h>
#include <stdio.h>

#define SHRINK 0.05   /* covariance = (1 - s) S + s (trace S / d) I */

/* In place: the lower Cholesky factor of the d x d symmetric positive definite a. */
static gboolean
cholesky (double *a, int d)
{
  for (int j = 0; j < d; j++)
    {
      double s = a[j * d + j];
      for (int k = 0; k < j; k++)
        s -= a[j * d + k] * a[j * d + k];
      if (!(s > 0))
        return FALSE;
      a[j * d + j] = sqrt (s);
      for (int i = j + 1; i < d; i++)
        {
          double t = a[i * d + j];
          for (int k = 0; k < j; k++)
            t -= a[i * d + k] * a[j * d + k];
          a[i * d + j] = t / a[j * d + j];
        }
    }
  return TRUE;
}

/* |L^-1 v|^2 by forward substitution; v is overwritten. */
static double
mahalanobis2 (const double *l, int d, double *v)
{
  double sum = 0;
  for (int i = 0; i < d; i++)
    {
      double t = v[i];
      for (int k = 0; k < i; k++)
        t -= l[i * d + k] * v[k];
      v[i] = t / l[i * d + i];
      sum += v[i] * v[i];
    }
  return sum;
}

/* The camera statistics of every image of dir (n x SS_CAMERA_STATS; *n gets n), or NULL
 * with the reason printed. */
static float *
dir_camera_stats (SsModel *model, const char *dir, GHashTable *map, int *n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsDataset) data = ss_dataset_load_for_model (dir, map, ss_model_spec (model),
                                                          &error);
  float *stats = data != NULL ? ss_camera_stats_dataset (model, data, &error) : NULL;
  if (stats == NULL)
    ss_cli_error ("%s", error->message);
  else
    *n = data->n;
  return stats;
}

/* --camera: each image's camera check distance from the fit images (all of them) */
static int
camera_distance (SsModel *model, const SsDataset *train, const char *calibrate_dir,
                 const char *save, const char *target_dir, char **dirs, int n_dirs,
                 GHashTable *map, const char *const *names)
{
  g_autoptr (GError) error = NULL;
  const int k = ss_model_spec (model)->n_classes;
  g_autofree float *ts = ss_camera_stats_dataset (model, train, &error);
  g_autoptr (SsCameraCheck) check = ts != NULL ? ss_camera_check_new (ts, train->n, 1.0) : NULL;
  if (check == NULL)
    {
      ss_cli_error ("%s", error != NULL ? error->message : "too few images to fit on");
      return 1;
    }
  g_printerr ("distance: camera statistics of %d images\n", train->n);
  if (calibrate_dir != NULL)
    {
      /* the threshold: the 95th percentile of cells of the same cameras not among them */
      int n_cal = 0;
      g_autofree float *cs = dir_camera_stats (model, calibrate_dir, map, &n_cal);
      if (cs == NULL)
        return 1;
      g_autofree double *d = g_new (double, n_cal);
      for (int i = 0; i < n_cal; i++)
        d[i] = ss_camera_check_distance (check, cs + (gsize) i * SS_CAMERA_STATS);
      ss_sort_doubles (d, n_cal);
      const double threshold = d[MIN (n_cal - 1, (int) (0.95 * n_cal))];
      g_printerr ("distance: threshold %.3f, the 95th percentile of %d images of %s\n",
                  threshold, n_cal, calibrate_dir);
      if (save != NULL && !(threshold > 0))
        {
          ss_cli_error ("every --calibrate image lies on the --fit images: no threshold to "
                        "save; calibrate on other images of the same cameras");
          return 1;
        }
      /* the colours a camera beyond the threshold is brought to */
      double target[6];
      if (target_dir != NULL)
        {
          int n_target = 0;
          g_autofree float *tgs = dir_camera_stats (model, target_dir, map, &n_target);
          if (tgs == NULL)
            return 1;
          ss_camera_stats_colour (tgs, n_target, target);
          g_printerr ("distance: target colours of %d images of %s: R, G, B mean %.3f %.3f "
                      "%.3f, deviation %.3f %.3f %.3f\n", n_target, target_dir, target[0],
                      target[1], target[2], target[3], target[4], target[5]);
        }
      if (save != NULL && !ss_camera_check_save (ts, train->n, threshold,
                                                 target_dir != NULL ? target : NULL, save,
                                                 &error))
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
    }
  g_print ("path\tfolder\tcalled\tconfidence\tcamera_distance2\n");
  for (int a = 0; a < n_dirs; a++)
    {
      g_autoptr (SsDataset) data = ss_dataset_load_for_model (dirs[a], map, ss_model_spec (model),
                                                              &error);
      g_autofree float *s = data != NULL ? ss_camera_stats_dataset (model, data, &error) : NULL;
      g_autofree float *probs = s != NULL ? ss_predict_dataset (model, data, &error) : NULL;
      if (probs == NULL)
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
      for (int i = 0; i < data->n; i++)
        {
          int called = ss_argmax (probs + (gsize) i * k, k);
          g_print ("%s\t%s\t%s\t%.4f\t%.3f\n", data->paths[i], data->source_labels[i],
                   names[called], probs[(gsize) i * k + called],
                   ss_camera_check_distance (check, s + (gsize) i * SS_CAMERA_STATS));
        }
    }
  return 0;
}

int
ss_cli_distance (int argc, char **argv)
{
  g_autofree char *model_name = NULL, *fit_dir = NULL, *map_spec = NULL;
  gboolean camera = FALSE;
  g_autofree char *calibrate_dir = NULL, *save = NULL, *target_dir = NULL;
  const GOptionEntry entries[] = {
    { "calibrate", 0, 0, G_OPTION_ARG_FILENAME, &calibrate_dir, "With --camera: images of the same cameras, not among --fit's; the 95th percentile of their distances is the threshold", "DIR" },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save, "With --calibrate: write the camera check (the --fit images' statistics and the threshold) here, to lie beside the model as MODEL-cameras.csv", "FILE" },
    { "target", 0, 0, G_OPTION_ARG_FILENAME, &target_dir, "With --save: the pooled colours of these images (the cells of the camera that taught the model most of its types) are saved as those a camera beyond the threshold is brought to", "DIR" },
    { "camera", 0, 0, G_OPTION_ARG_NONE, &camera, "Measure how unlike the --fit images' cameras each image looks instead (ss_camera_stats, the squared distance to the 5th nearest)", NULL },
    { "model", 0, 0, G_OPTION_ARG_STRING, &model_name, "The classifier (path or name)", "MODEL" },
    { "fit", 0, 0, G_OPTION_ARG_FILENAME, &fit_dir, "Its training set: class folders", "DIR" },
    { "map", 0, 0, G_OPTION_ARG_STRING, &map_spec, "Override the label table", "FROM=TO,..." },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("DIR... - each image's distance from what a classifier learned");
  g_autoptr (GError) error = NULL;

  ss_cli_add_entries (context, entries);
  g_option_context_set_description (context,
    "Prints one line per image of each DIR (class folders): its path, its folder, the\n"
    "class the model calls it and the confidence, the nearest class mean and the least\n"
    "squared Mahalanobis distance to a class mean in the model's feature space, fitted on\n"
    "the images of --fit under their folders' classes. With --camera: its path, its\n"
    "folder, the call and confidence, and the squared distance of its camera statistics\n"
    "to the 5th nearest of the --fit images', each statistic in units of its spread there.");
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (model_name == NULL || fit_dir == NULL || (argc < 2 && save == NULL)
      || ((calibrate_dir != NULL || save != NULL) && !camera)
      || (save != NULL && calibrate_dir == NULL) || (target_dir != NULL && save == NULL))
    {
      ss_cli_error ("distance needs --model MODEL, --fit DIR and at least one DIR to measure "
                    "(--calibrate and --save only with --camera, --save with --calibrate, "
                    "--target with --save)");
      return 2;
    }
  g_autoptr (SsClassifier) classifier = ss_cli_load_classifier (model_name);
  if (classifier == NULL)
    return 1;
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  const int d = (int) ss_model_feature_dim (model);
  const int k = spec->n_classes;
  const char *names[SS_MAX_CLASSES];
  if (d == 0)
    {
      ss_cli_error ("%s holds several networks; give one of them", model_name);
      return 1;
    }
  for (int c = 0; c < k; c++)
    names[c] = spec->class_names[c];
  g_autoptr (GHashTable) map = ss_label_map_parse (map_spec, &error);
  if (map == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 2;
    }

  g_autoptr (SsDataset) train = ss_dataset_load_for_model (fit_dir, map, spec, &error);
  if (train == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  if (camera)
    return camera_distance (model, train, calibrate_dir, save, target_dir, argv + 1, argc - 1,
                            map, names);
  /* the fit: class means and the shared covariance of the training features */
  g_autofree float *tf = ss_features_dataset (model, train, &error);
  if (tf == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  g_autofree double *mean = g_new0 (double, (gsize) k * d);
  g_autofree double *cov = g_new0 (double, (gsize) d * d);
  g_autofree int *count = g_new0 (int, k);
  g_autofree double *v = g_new (double, d);
  int n_fit = 0;
  for (int i = 0; i < train->n; i++)
    {
      int y = train->labels[i];
      if (y < 0)
        continue;
      count[y]++;
      for (int j = 0; j < d; j++)
        mean[(gsize) y * d + j] += tf[(gsize) i * d + j];
    }
  for (int c = 0; c < k; c++)
    for (int j = 0; j < d; j++)
      mean[(gsize) c * d + j] /= MAX (count[c], 1);
  for (int i = 0; i < train->n; i++)
    {
      int y = train->labels[i];
      if (y < 0)
        continue;
      n_fit++;
      for (int j = 0; j < d; j++)
        v[j] = tf[(gsize) i * d + j] - mean[(gsize) y * d + j];
      for (int a = 0; a < d; a++)
        for (int b = 0; b <= a; b++)
          cov[(gsize) a * d + b] += v[a] * v[b];
    }
  double trace = 0;
  for (int a = 0; a < d; a++)
    for (int b = 0; b <= a; b++)
      {
        cov[(gsize) a * d + b] /= MAX (n_fit, 1);
        cov[(gsize) b * d + a] = cov[(gsize) a * d + b];
      }
  for (int a = 0; a < d; a++)
    trace += cov[(gsize) a * d + a];
  for (int a = 0; a < d; a++)
    for (int b = 0; b < d; b++)
      cov[(gsize) a * d + b] = (1 - SHRINK) * cov[(gsize) a * d + b] + (a == b ? SHRINK * trace / d : 0);
  if (!cholesky (cov, d))
    {
      ss_cli_error ("the training features' covariance does not invert");
      return 1;
    }
  g_printerr ("distance: fitted on %d images of %s, %d features\n", n_fit, fit_dir, d);

  g_print ("path\tfolder\tcalled\tconfidence\tnearest\tdistance2\n");
  for (int a = 1; a < argc; a++)
    {
      g_autoptr (SsDataset) data = ss_dataset_load_for_model (argv[a], map, spec, &error);
      g_autofree float *f = data != NULL ? ss_features_dataset (model, data, &error) : NULL;
      g_autofree float *probs = f != NULL ? ss_predict_dataset (model, data, &error) : NULL;
      if (probs == NULL)
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
      for (int i = 0; i < data->n; i++)
        {
          int called = 0, nearest = 0;
          double best = INFINITY;
          for (int c = 1; c < k; c++)
            if (probs[(gsize) i * k + c] > probs[(gsize) i * k + called])
              called = c;
          for (int c = 0; c < k; c++)
            {
              if (count[c] == 0)
                continue;
              for (int j = 0; j < d; j++)
                v[j] = f[(gsize) i * d + j] - mean[(gsize) c * d + j];
              double m = mahalanobis2 (cov, d, v);
              if (m < best)
                best = m, nearest = c;
            }
          g_print ("%s\t%s\t%s\t%.4f\t%s\t%.2f\n", data->paths[i], data->source_labels[i],
                   names[called], probs[(gsize) i * k + called], names[nearest], best);
        }
    }
  return 0;
}
