/* smearscope-cli classify: a model's call and probabilities for each image; and
 * smearscope-cli explain: its Grad-CAM map for one class, blended over the image. */
#include "cli.h"

#include "ss-classifier.h"
#include "ss-image.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static SsClassifier *
load_classifier (const char *name)
{
  g_autofree char *path = ss_cli_find_model (name);
  g_autoptr (GError) error = NULL;
  SsClassifier *c = ss_classifier_load (path, &error);
  if (c == NULL)
    ss_cli_error ("%s", error->message);
  return c;
}

int
ss_cli_classify (int argc, char **argv)
{
  gboolean json = FALSE;
  gint64 max_pixels = SS_DEFAULT_MAX_PIXELS;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "max-pixels", 0, 0, G_OPTION_ARG_INT64, &max_pixels, "Refuse larger images (100 MP)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL IMAGE... - classify images");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (argc < 3)
    {
      ss_cli_error ("classify needs a model and at least one image");
      return 2;
    }
  g_autoptr (SsClassifier) classifier = load_classifier (argv[1]);
  if (classifier == NULL)
    return 1;
  const int k = ss_classifier_n_classes (classifier);
  int failures = 0;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_array (b);
  for (int i = 2; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SsImage) image = ss_image_load (argv[i], max_pixels, &error);
      float probs[SS_MAX_CLASSES];
      if (image == NULL || !ss_classifier_run_images (classifier, &image, 1, probs, &error))
        {
          ss_cli_error ("%s", error->message);
          failures++;
          continue;
        }
      int best = 0;
      for (int c = 1; c < k; c++)
        if (probs[c] > probs[best])
          best = c;
      if (json)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "image");
          json_builder_add_string_value (b, argv[i]);
          json_builder_set_member_name (b, "class");
          json_builder_add_string_value (b, ss_classifier_class_name (classifier, best));
          json_builder_set_member_name (b, "confidence");
          json_builder_add_double_value (b, probs[best]);
          json_builder_set_member_name (b, "probabilities");
          json_builder_begin_object (b);
          for (int c = 0; c < k; c++)
            {
              json_builder_set_member_name (b, ss_classifier_class_name (classifier, c));
              json_builder_add_double_value (b, probs[c]);
            }
          json_builder_end_object (b);
          json_builder_end_object (b);
        }
      else
        {
          printf ("%s\t%s\t%.4f\t", argv[i], ss_classifier_class_name (classifier, best), probs[best]);
          for (int c = 0; c < k; c++)
            printf ("%s%s=%.4f", c ? " " : "", ss_classifier_class_name (classifier, c), probs[c]);
          printf ("\n");
        }
    }
  json_builder_end_array (b);
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
    }
  return failures > 0 ? 1 : 0;
}

/* Jet-like ramp from blue (0) through green to red (1). */
static void
heat_colour (float v, float rgb[3])
{
  rgb[0] = CLAMP (1.5f - fabsf (4.0f * v - 3.0f), 0.0f, 1.0f);
  rgb[1] = CLAMP (1.5f - fabsf (4.0f * v - 2.0f), 0.0f, 1.0f);
  rgb[2] = CLAMP (1.5f - fabsf (4.0f * v - 1.0f), 0.0f, 1.0f);
}

int
ss_cli_explain (int argc, char **argv)
{
  g_autofree char *class_name = NULL, *out = NULL;
  double alpha = 0.45;
  const GOptionEntry entries[] = {
    { "class", 0, 0, G_OPTION_ARG_STRING, &class_name, "Class to explain (default: the model's call)", "NAME" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "PNG to write", "FILE" },
    { "alpha", 0, 0, G_OPTION_ARG_DOUBLE, &alpha, "Opacity of the heat map (0.45)", "X" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("MODEL IMAGE - Grad-CAM: which pixels drove the call");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (argc != 3 || out == NULL)
    {
      ss_cli_error ("explain needs MODEL IMAGE --out FILE.png");
      return 2;
    }
  g_autoptr (SsClassifier) classifier = load_classifier (argv[1]);
  if (classifier == NULL)
    return 1;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsImage) image = ss_image_load (argv[2], SS_DEFAULT_MAX_PIXELS, &error);
  if (image == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  g_autofree float *x = g_new (float, 3 * spec->in_h * spec->in_w);
  ss_image_crop_to_tensor (image, 0, 0, image->width, image->height, spec->in_w, spec->in_h, x);
  float probs[SS_MAX_CLASSES];
  SsError e;
  ss_model_predict (model, x, 1, probs, &e);
  int best = 0;
  for (int c = 1; c < spec->n_classes; c++)
    if (probs[c] > probs[best])
      best = c;
  int cls = best;
  if (class_name != NULL)
    {
      cls = -1;
      for (int c = 0; c < spec->n_classes; c++)
        if (strcmp (spec->class_names[c], class_name) == 0)
          cls = c;
      if (cls < 0)
        {
          ss_cli_error ("the model has no class '%s'", class_name);
          return 2;
        }
    }
  float *map = NULL, prob = 0;
  int mh, mw;
  if (ss_model_gradcam (model, x, cls, &map, &mh, &mw, &prob, &e) != SS_OK)
    {
      ss_cli_error ("%s", e.message);
      return 1;
    }
  /* upsample the map bilinearly over the image and blend */
  g_autoptr (SsImage) blended = ss_image_new (image->width, image->height);
  for (int y = 0; y < image->height; y++)
    for (int xx = 0; xx < image->width; xx++)
      {
        double my = (y + 0.5) * mh / image->height - 0.5, mx = (xx + 0.5) * mw / image->width - 0.5;
        int y0 = CLAMP ((int) floor (my), 0, mh - 1), x0 = CLAMP ((int) floor (mx), 0, mw - 1);
        int y1 = MIN (y0 + 1, mh - 1), x1 = MIN (x0 + 1, mw - 1);
        float fy = CLAMP ((float) (my - y0), 0.0f, 1.0f), fx = CLAMP ((float) (mx - x0), 0.0f, 1.0f);
        float v = (1 - fy) * ((1 - fx) * map[y0 * mw + x0] + fx * map[y0 * mw + x1])
                  + fy * ((1 - fx) * map[y1 * mw + x0] + fx * map[y1 * mw + x1]);
        float rgb[3];
        heat_colour (v, rgb);
        const guint8 *src = image->rgb + ((gsize) y * image->width + xx) * 3;
        guint8 *dst = blended->rgb + ((gsize) y * image->width + xx) * 3;
        float a = (float) alpha * (0.3f + 0.7f * v);
        for (int c = 0; c < 3; c++)
          dst[c] = (guint8) CLAMP ((1 - a) * src[c] + a * 255.0f * rgb[c], 0.0f, 255.0f);
      }
  free (map);
  if (!ss_image_save_png (blended, out, &error))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  printf ("%s: Grad-CAM of '%s' (p = %.4f; the model calls it '%s' at %.4f) -> %s\n", argv[2],
          spec->class_names[cls], prob, spec->class_names[best], probs[best], out);
  return 0;
}
