/* Grad-CAM pictures. The engine computes the map at the last convolutional stage; here
 * it is upsampled bilinearly, coloured blue (nothing) to red (most) and blended over the
 * pixels the model saw. */
#include "ss-gradcam.h"

#include "ss-classifier-private.h"

#include <math.h>
#include <stdlib.h>

static void
heat_colour (float v, float rgb[3])
{
  rgb[0] = CLAMP (1.5f - fabsf (4.0f * v - 3.0f), 0.0f, 1.0f);
  rgb[1] = CLAMP (1.5f - fabsf (4.0f * v - 2.0f), 0.0f, 1.0f);
  rgb[2] = CLAMP (1.5f - fabsf (4.0f * v - 1.0f), 0.0f, 1.0f);
}

SsImage *
ss_gradcam_picture (SsClassifier *classifier, const SsImage *image, const SsBox *box,
                    double margin, int cls, int scale, double alpha, int *cls_out, float *prob,
                    GError **error)
{
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  double x = 0, y = 0, w = image->width, h = image->height;
  if (box != NULL)
    {
      ss_box_frame (box, margin, &x, &y, &w);  /* the pixels the classifier sees */
      h = w;
    }
  g_autofree float *input = g_new (float, 3 * spec->in_h * spec->in_w);
  ss_image_crop_to_tensor (image, x, y, w, h, spec->in_w, spec->in_h,
                           spec->resample, input);
  SsError e;
  SsStatus status = SS_OK;
  float probs[SS_MAX_CLASSES], *map = NULL;
  int mh, mw;
  ss_classifier_lock (classifier);
  if (cls < 0 && (status = ss_model_predict (model, input, 1, probs, &e)) == SS_OK)
    cls = ss_argmax (probs, spec->n_classes);
  if (status == SS_OK)
    status = ss_model_gradcam (model, input, cls, &map, &mh, &mw, prob, &e);
  ss_classifier_unlock (classifier);
  if (status != SS_OK)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_MODEL, "%s", e.message);
      return NULL;
    }
  if (cls_out != NULL)
    *cls_out = cls;

  /* the region the model saw, at scale x its input size */
  const int ow = spec->in_w * MAX (scale, 1), oh = spec->in_h * MAX (scale, 1);
  SsImage *picture = ss_image_new (ow, oh);
  ss_image_crop_to_rgb (image, x, y, w, h, ow, oh, SS_RESAMPLE_AREA, picture->rgb);
  for (int py = 0; py < oh; py++)
    for (int px = 0; px < ow; px++)
      {
        double my = (py + 0.5) * mh / oh - 0.5, mx = (px + 0.5) * mw / ow - 0.5;
        int y0 = CLAMP ((int) floor (my), 0, mh - 1), x0 = CLAMP ((int) floor (mx), 0, mw - 1);
        int y1 = MIN (y0 + 1, mh - 1), x1 = MIN (x0 + 1, mw - 1);
        float fy = CLAMP ((float) (my - y0), 0.0f, 1.0f), fx = CLAMP ((float) (mx - x0), 0.0f, 1.0f);
        float v = (1 - fy) * ((1 - fx) * map[y0 * mw + x0] + fx * map[y0 * mw + x1])
                  + fy * ((1 - fx) * map[y1 * mw + x0] + fx * map[y1 * mw + x1]);
        float rgb[3];
        heat_colour (v, rgb);
        guint8 *p = picture->rgb + ((gsize) py * ow + px) * 3;
        /* weak evidence stays mostly see-through so the cell remains visible */
        float a = (float) alpha * (0.3f + 0.7f * v);
        for (int c = 0; c < 3; c++)
          p[c] = (guint8) CLAMP ((1 - a) * p[c] + a * 255.0f * rgb[c], 0.0f, 255.0f);
      }
  free (map);
  return picture;
}
