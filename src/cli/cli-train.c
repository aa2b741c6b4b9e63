/* smearscope-cli train: fit a classifier on a folder of class folders. */
#include "cli.h"

#include "ss-config.h"
#include "ss-training.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void
on_sigint (int signum)
{
  (void) signum;
  interrupted = 1;
}

typedef struct {
  GCancellable *cancellable;
  gboolean      tty;
} ProgressState;

static void
show_progress (const SsTrainProgress *p, gpointer user_data)
{
  ProgressState *state = user_data;
  if (interrupted && !g_cancellable_is_cancelled (state->cancellable))
    {
      fprintf (stderr, "\nstopping: the model of the last complete epoch is kept\n");
      g_cancellable_cancel (state->cancellable);
    }
  int left = (int) p->seconds_left;
  if (p->epoch_done)
    {
      fprintf (stderr, "%sepoch %d/%d  loss %.4f  accuracy %.4f", state->tty ? "\r" : "",
               p->epoch, p->epochs, p->loss, p->accuracy);
      if (p->val_accuracy >= 0)
        fprintf (stderr, "  val accuracy %.4f", p->val_accuracy);
      fprintf (stderr, "  %.0f img/s  %d:%02d left\n", p->images_per_s, left / 60, left % 60);
    }
  else if (state->tty)
    fprintf (stderr, "\repoch %d/%d  batch %d/%d  loss %.4f  accuracy %.4f  %.0f img/s  %d:%02d left ",
             p->epoch, p->epochs, p->batch_index, p->batches, p->loss, p->accuracy,
             p->images_per_s, left / 60, left % 60);
}

/* name: value in the model's training record, when value is above 0 */
static void
add_double_if_set (JsonBuilder *b, const char *name, double value)
{
  if (value <= 0)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

int
ss_cli_train (int argc, char **argv)
{
  g_autofree char *arch = NULL, *data = NULL, *out = NULL, *val = NULL, *map_spec = NULL;
  g_autofree char *classes = NULL, *optim = NULL, *init = NULL, *teacher = NULL;
  g_autofree char *resample = NULL, *cameras = NULL, *part = NULL;
  int epochs = 20, batch = 32, width = 0, input = 128, stem = 7;
  double decoupled = 0.0;
  double lr = 2e-4, weight_decay = 0.0, dense_ref = 0.0, shift_zoom = 0.0, smoothing = 0.0;
  double stain = 0.0, mixup = 0.0, ema = 0.0, camera = 0.0;
  double alpha = 0.5, temperature = 2.0, crop_stretch = 0.0;
  gint64 seed = 1;
  gboolean no_augment = FALSE, cosine = FALSE, half = FALSE, resume = FALSE, balance = FALSE;
  gboolean rotate = FALSE;
  const GOptionEntry entries[] = {
    { "arch", 0, 0, G_OPTION_ARG_STRING, &arch, "mscnn, resnet18, resnet50, vgg16, vgg16_bn (with batch norm) or efficientnet_b0", "ARCH" },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Training images, one folder per class", "DIR" },
    { "val", 0, 0, G_OPTION_ARG_FILENAME, &val, "Validation images (reported, never trained on)", "DIR" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Model file to write", "MODEL" },
    { "map", 0, 0, G_OPTION_ARG_STRING, &map_spec, "Rename or merge folder classes", "FROM=TO,..." },
    { "classes", 0, 0, G_OPTION_ARG_STRING, &classes, "Class order (first = positive class)", "A,B,..." },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs (20)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Learning rate (0.0002)", "X" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Batch size (32)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (1)", "N" },
    { "width", 0, 0, G_OPTION_ARG_INT, &width, "msCNN first-conv filters (32), ResNet stem width (64), VGG16 first block's filters (64), EfficientNet stem width (32; every stage scales with it)", "N" },
    { "stem", 0, 0, G_OPTION_ARG_INT, &stem, "ResNet stem kernel: 7 (He et al., the default), 5 or 3 (the same stride and width, cheaper: the stem is a quarter of a narrow ResNet-18's time); recorded in the model", "K" },
    { "input", 0, 0, G_OPTION_ARG_INT, &input, "Input size in pixels (128)", "N" },
    { "resample", 0, 0, G_OPTION_ARG_STRING, &resample, "How images are brought to the input size: bilinear (one tap per pixel, the default) or area (the mean over each pixel's footprint when shrinking); recorded in the model", "HOW" },
    { "optim", 0, 0, G_OPTION_ARG_STRING, &optim, "adam (default) or sgd", "NAME" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &weight_decay, "L2 weight decay (0)", "X" },
    { "decoupled-decay", 0, 0, G_OPTION_ARG_DOUBLE, &decoupled, "Decoupled weight decay (AdamW): each step shrinks every weight by lr * X before the step (0: off; e.g. 0.05)", "X" },
    { "dense-lr-fan-in", 0, 0, G_OPTION_ARG_DOUBLE, &dense_ref, "Dense layers learn at lr * min(1, X / fan-in) (0: off)", "X" },
    { "cosine", 0, 0, G_OPTION_ARG_NONE, &cosine, "Cosine learning-rate decay", NULL },
    { "balance", 0, 0, G_OPTION_ARG_NONE, &balance, "Draw every class equally often", NULL },
    { "no-augment", 0, 0, G_OPTION_ARG_NONE, &no_augment, "No flips, rotations or colour jitter", NULL },
    { "label-smoothing", 0, 0, G_OPTION_ARG_DOUBLE, &smoothing, "Target 1 - X on the label and X / classes on every class (0: off; e.g. 0.1)", "X" },
    { "shift-zoom", 0, 0, G_OPTION_ARG_DOUBLE, &shift_zoom, "Also shift by up to X of the side and zoom by 1 +- X (0: off; e.g. 0.1)", "X" },
    { "camera-jitter", 0, 0, G_OPTION_ARG_DOUBLE, &camera, "Also vary what another microscope changes: resolution (down by up to 1 + 3X and back), defocus, sensor noise (0: off; e.g. 1)", "X" },
    { "stain-jitter", 0, 0, G_OPTION_ARG_DOUBLE, &stain, "Also vary stain density and light colour by up to X per channel (0: off; e.g. 0.2)", "X" },
    { "rotate", 0, 0, G_OPTION_ARG_NONE, &rotate, "Also turn by any angle, not only quarter turns (edges mirrored)", NULL },
    { "mixup", 0, 0, G_OPTION_ARG_DOUBLE, &mixup, "Train on blends of two images with their labels blended alike, the share drawn from Beta(X, X) (0: off; e.g. 0.2)", "X" },
    { "ema", 0, 0, G_OPTION_ARG_DOUBLE, &ema, "Validate and save a moving average of the weights, each step moving it by 1 - D (0: off; e.g. 0.999)", "D" },
    { "teacher", 0, 0, G_OPTION_ARG_FILENAME, &teacher, "Also learn this model's softened probabilities (distillation)", "MODEL" },
    { "distill-alpha", 0, 0, G_OPTION_ARG_DOUBLE, &alpha, "Weight of the teacher's targets (0.5)", "X" },
    { "temperature", 0, 0, G_OPTION_ARG_DOUBLE, &temperature, "Distillation temperature (2)", "T" },
    { "cameras", 0, 0, G_OPTION_ARG_STRING, &cameras, "Bring the colours of each camera the data mixes to one: an image's camera is the longest of these file-name prefixes its name starts with; each camera's white cells are mapped, channel by channel, onto the mean of the cameras' colours, which the model records and the analysis maps every new camera onto (docs/models.md)", "PREFIX,..." },
    { "crop-stretch", 0, 0, G_OPTION_ARG_DOUBLE, &crop_stretch, "Stretch each crop's channels so that this fraction of it is darkest and as much lightest (e.g. 0.01), in training and wherever the model is used: the nucleus as dark whatever the stain's strength (0: off)", "X" },
    { "half", 0, 0, G_OPTION_ARG_NONE, &half, "Store weights as float16 (half the size)", NULL },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &init, "Start from this model's weights (fine-tune); its classifier head too when --classes are the model's own, in its order, else a new head", "MODEL" },
    { "train-part", 0, 0, G_OPTION_ARG_STRING, &part, "With --init: what the training changes: all (the default), last-stage (the layers at the network's last resolution and the dense layer; the earlier ones, their batch norms' statistics included, stay as they are) or head (the final dense layer alone)", "PART" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &resume, "Continue from MODEL.ckpt if present", NULL },
    { NULL }
  };
  g_autofree char *command = g_strjoinv (" ", argv);
  g_autoptr (GOptionContext) context = g_option_context_new ("- train a classifier");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (data == NULL || out == NULL)
    {
      ss_cli_error ("train needs --data DIR and --out MODEL");
      return 2;
    }
  SsTrainConfig config;
  ss_train_config_init (&config);
  config.arch = ss_arch_from_name (arch != NULL ? arch : "mscnn");
  if (config.arch == 0)
    {
      ss_cli_error ("unknown --arch '%s' (mscnn, resnet18, resnet50, vgg16, vgg16_bn, "
                    "efficientnet_b0)", arch);
      return 2;
    }
  if (epochs < 1 || epochs > 10000)
    {
      ss_cli_error ("--epochs must be 1..10000, not %d", epochs);
      return 2;
    }
  if (batch < 2 || batch > 1024)
    {
      ss_cli_error ("--batch must be 2..1024, not %d", batch);
      return 2;
    }
  if (!(lr > 0 && lr < 10))
    {
      ss_cli_error ("--lr must be above 0 and below 10, not %g", lr);
      return 2;
    }
  if (input < 16 || input > 1024)
    {
      ss_cli_error ("--input must be 16..1024 pixels, not %d", input);
      return 2;
    }
  int resample_mode = ss_resample_from_name (resample != NULL ? resample : "bilinear");
  if (resample_mode < 0)
    {
      ss_cli_error ("unknown --resample '%s' (bilinear, area)", resample);
      return 2;
    }
  if (!(shift_zoom >= 0 && shift_zoom <= 0.5) || (shift_zoom > 0 && no_augment))
    {
      ss_cli_error ("--shift-zoom must be 0..0.5 and needs augmentation, not %g%s", shift_zoom,
                    no_augment ? " with --no-augment" : "");
      return 2;
    }
  if (!(stain >= 0 && stain <= 0.5))
    {
      ss_cli_error ("--stain-jitter must be 0..0.5, not %g", stain);
      return 2;
    }
  if (!(camera >= 0 && camera <= 1) || (camera > 0 && no_augment))
    {
      ss_cli_error ("--camera-jitter must be 0..1 and needs augmentation, not %g%s", camera,
                    no_augment ? " with --no-augment" : "");
      return 2;
    }
  if ((stain > 0 || rotate) && no_augment)
    {
      ss_cli_error ("--%s adds to augmentation and cannot go with --no-augment",
                    rotate ? "rotate" : "stain-jitter");
      return 2;
    }
  if (!(mixup >= 0 && mixup <= 1) || (mixup > 0 && teacher != NULL))
    {
      ss_cli_error ("--mixup must be 0..1 (not %g) and cannot go with --teacher", mixup);
      return 2;
    }
  if (!(decoupled >= 0 && decoupled <= 1))
    {
      ss_cli_error ("--decoupled-decay must be 0..1, not %g", decoupled);
      return 2;
    }
  if (!(ema >= 0 && ema < 1))
    {
      ss_cli_error ("--ema must be at least 0 and below 1, not %g", ema);
      return 2;
    }
  if (!(smoothing >= 0 && smoothing < 1))
    {
      ss_cli_error ("--label-smoothing must be at least 0 and below 1, not %g", smoothing);
      return 2;
    }
  if (teacher != NULL && !(alpha > 0 && alpha <= 1 && temperature >= 1 && temperature <= 20))
    {
      ss_cli_error ("--distill-alpha must be above 0 and at most 1 (not %g) and --temperature "
                    "1..20 (not %g)", alpha, temperature);
      return 2;
    }
  config.stem_k = stem == 7 ? 0 : stem;
  if (!ss_stem_kernel_valid (config.arch, config.stem_k))
    {
      ss_cli_error ("--stem is 7, 5 or 3, for a ResNet (not %d%s)", stem,
                    config.arch == SS_ARCH_RESNET18 || config.arch == SS_ARCH_RESNET50
                      ? "" : " for this network");
      return 2;
    }
  config.width = width > 0 ? width
                 : config.arch == SS_ARCH_MSCNN || config.arch == SS_ARCH_EFFICIENTNET_B0 ? 32 : 64;
  config.input_size = input;
  config.resample = (SsResample) resample_mode;
  config.epochs = epochs;
  config.batch = batch;
  config.lr = (float) lr;
  config.weight_decay = (float) weight_decay;
  config.decoupled_decay = (float) decoupled;
  config.dense_fan_in_ref = (float) dense_ref;
  config.cosine = cosine;
  config.seed = (guint64) seed;
  config.augment = !no_augment;
  config.extra.shift_zoom = (float) shift_zoom;
  config.extra.stain = (float) stain;
  config.extra.rotate = rotate;
  config.extra.camera = (float) camera;
  config.mixup = (float) mixup;
  config.label_smoothing = (float) smoothing;
  config.ema = (float) ema;
  config.balance = balance;
  config.half = half;
  config.init_from = init;
  if (part != NULL && !ss_train_part_from_name (part, &config.part))
    {
      ss_cli_error ("unknown --train-part '%s' (all, last-stage, head)", part);
      return 2;
    }
  if (config.part != SS_TRAIN_ALL && init == NULL)
    {
      ss_cli_error ("--train-part %s needs --init MODEL: the rest of the network comes "
                    "from it", part);
      return 2;
    }
  config.resume = resume;
  config.out = out;
  if (optim != NULL && strcmp (optim, "sgd") == 0)
    config.optim = SS_OPTIM_SGD;
  else if (optim != NULL && strcmp (optim, "adam") != 0)
    {
      ss_cli_error ("unknown --optim '%s' (adam, sgd)", optim);
      return 2;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) map = ss_label_map_parse (map_spec, &error);
  if (map == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 2;
    }
  g_auto (GStrv) class_list = classes != NULL ? g_strsplit (classes, ",", -1) : NULL;
  int n_classes = class_list != NULL ? (int) g_strv_length (class_list) : 0;
  if (class_list != NULL && (n_classes < 2 || n_classes > SS_MAX_CLASSES))
    {
      ss_cli_error ("--classes needs 2 to %d names", SS_MAX_CLASSES);
      return 2;
    }
  fprintf (stderr, "loading %s\n", data);
  g_autoptr (SsDataset) train = ss_dataset_load (data, map, (const char *const *) class_list,
                                                 n_classes, input, input,
                                                 config.resample, &error);
  if (train == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  g_autoptr (SsDataset) valset = NULL;
  if (val != NULL)
    {
      valset = ss_dataset_load (val, map, (const char *const *) train->class_names,
                                train->n_classes, input, input,
                                config.resample, &error);
      if (valset == NULL)
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
    }
  if (!(crop_stretch >= 0 && crop_stretch <= 0.2))
    {
      ss_cli_error ("--crop-stretch must be 0..0.2, not %g", crop_stretch);
      return 2;
    }
  config.crop_stretch = (float) crop_stretch;
  double camera_colour[6] = { 0 };
  g_auto (GStrv) camera_list = cameras != NULL ? g_strsplit (cameras, ",", -1) : NULL;
  if (camera_list != NULL)
    {
      const int n_cameras = (int) g_strv_length (camera_list);
      g_autofree double *stats = g_new (double, (gsize) 6 * n_cameras);
      if (!ss_dataset_normalise_cameras (train, (const char *const *) camera_list,
                                         camera_colour, stats, &error))
        {
          ss_cli_error ("--cameras: %s", error->message);
          return 1;
        }
      for (int k = 0; k < n_cameras; k++)
        if (stats[k * 6 + 3] == 0)
          fprintf (stderr, "camera %-18s no images\n", camera_list[k]);
        else
          fprintf (stderr, "camera %-18s mean %.3f %.3f %.3f  sd %.3f %.3f %.3f\n", camera_list[k],
                 stats[k * 6], stats[k * 6 + 1], stats[k * 6 + 2], stats[k * 6 + 3],
                 stats[k * 6 + 4], stats[k * 6 + 5]);
      fprintf (stderr, "cameras brought to mean %.3f %.3f %.3f  sd %.3f %.3f %.3f\n",
               camera_colour[0], camera_colour[1], camera_colour[2], camera_colour[3],
               camera_colour[4], camera_colour[5]);
      if (valset != NULL
          && !ss_dataset_normalise_cameras (valset, (const char *const *) camera_list,
                                            camera_colour, NULL, &error))
        {
          ss_cli_error ("--cameras (validation set): %s", error->message);
          return 1;
        }
      config.camera_colour = camera_colour;
    }
  g_autofree float *soft = NULL;
  g_autofree char *teacher_sum = NULL;
  if (teacher != NULL)
    {
      fprintf (stderr, "teacher %s: predicting the training images\n", teacher);
      soft = ss_teacher_targets (teacher, data, map, train, (float) temperature, &error);
      g_autofree char *bytes = NULL;
      gsize len = 0;
      if (soft == NULL || !g_file_get_contents (teacher, &bytes, &len, &error))
        {
          ss_cli_error ("%s", error->message);
          return 1;
        }
      teacher_sum = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) bytes, len);
      config.soft_targets = soft;
      config.distill_alpha = (float) alpha;
      config.temperature = (float) temperature;
    }
  fprintf (stderr, "train: %s\n", train->description);
  if (valset != NULL)
    fprintf (stderr, "val: %s\n", valset->description);

  /* the recipe, recorded in the model so that it can be reproduced */
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "command");
  json_builder_add_string_value (b, command);
  json_builder_set_member_name (b, "data");
  json_builder_add_string_value (b, train->description);
  json_builder_set_member_name (b, "val");
  json_builder_add_string_value (b, valset != NULL ? valset->description : "");
  json_builder_set_member_name (b, "map");
  json_builder_add_string_value (b, map_spec != NULL ? map_spec : "");
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, seed);
  json_builder_set_member_name (b, "threads");
  json_builder_add_int_value (b, ss_engine_get_threads ());
  json_builder_set_member_name (b, "epochs");
  json_builder_add_int_value (b, epochs);
  json_builder_set_member_name (b, "batch");
  json_builder_add_int_value (b, batch);
  json_builder_set_member_name (b, "lr");
  json_builder_add_double_value (b, lr);
  json_builder_set_member_name (b, "dense_lr_fan_in");
  json_builder_add_double_value (b, dense_ref);
  json_builder_set_member_name (b, "balance");
  json_builder_add_boolean_value (b, balance);
  json_builder_set_member_name (b, "arch");
  json_builder_add_string_value (b, ss_arch_name (config.arch));
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, config.width);
  json_builder_set_member_name (b, "input");
  json_builder_add_int_value (b, input);
  json_builder_set_member_name (b, "augment");
  json_builder_add_boolean_value (b, !no_augment);
  if (teacher != NULL)
    {
      json_builder_set_member_name (b, "teacher");
      json_builder_add_string_value (b, teacher);
      json_builder_set_member_name (b, "teacher_sha256");
      json_builder_add_string_value (b, teacher_sum);
      json_builder_set_member_name (b, "distill_alpha");
      json_builder_add_double_value (b, alpha);
      json_builder_set_member_name (b, "temperature");
      json_builder_add_double_value (b, temperature);
    }
  /* the options below are recorded only when used: models trained before an option
   * existed keep their bytes */
  add_double_if_set (b, "shift_zoom", shift_zoom);
  add_double_if_set (b, "stain_jitter", stain);
  add_double_if_set (b, "camera_jitter", camera);
  add_double_if_set (b, "mixup", mixup);
  if (rotate)
    {
      json_builder_set_member_name (b, "rotate");
      json_builder_add_boolean_value (b, TRUE);
    }
  add_double_if_set (b, "label_smoothing", smoothing);
  add_double_if_set (b, "ema", ema);
  add_double_if_set (b, "decoupled_decay", decoupled);
  add_double_if_set (b, "crop_stretch", crop_stretch);
  if (config.part != SS_TRAIN_ALL)
    {
      json_builder_set_member_name (b, "train_part");
      json_builder_add_string_value (b, part);
    }
  if (cameras != NULL)
    {
      json_builder_set_member_name (b, "cameras");
      json_builder_add_string_value (b, cameras);
    }
  if (config.stem_k != 0)
    {
      json_builder_set_member_name (b, "stem");
      json_builder_add_int_value (b, config.stem_k);
    }
  if (config.resample != SS_RESAMPLE_BILINEAR)
    {
      json_builder_set_member_name (b, "resample");
      json_builder_add_string_value (b, ss_resample_name (config.resample));
    }
  json_builder_set_member_name (b, "smearscope");
  json_builder_add_string_value (b, SS_VERSION);
  json_builder_end_object (b);
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *info = json_to_string (root, FALSE);
  config.info = info;

  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  ProgressState state = { cancellable, isatty (STDERR_FILENO) };
  struct sigaction sa = { .sa_handler = on_sigint };
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  gint64 t0 = g_get_monotonic_time ();
  if (!ss_train (&config, train, valset, show_progress, &state, cancellable, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          fprintf (stderr, "stopped; %s holds the last complete epoch (continue with --resume)\n",
                   out);
          return 130;
        }
      ss_cli_error ("%s", error->message);
      return 1;
    }
  fprintf (stderr, "wrote %s in %.1f s\n", out, (g_get_monotonic_time () - t0) / 1e6);
  return 0;
}
