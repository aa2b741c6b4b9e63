/* The graphs of VGG16 and EfficientNet-B0 (vgg.c, efficientnet.c): EfficientNet's size
 * against torchvision's for three widths, VGG16's against its layers written out here;
 * where Grad-CAM and the features read, and that they run; what each refuses. */
#include "engine-test-util.h"

/* torchvision 0.14.1's efficientnet_b0 with 8 classes at width_mult 0.5, 1 and 2 (its
 * parameters counted with Debian's python3-torchvision; 1's also in
 * ../shared/bench/README.md with its 251,990,016 forward FLOP at 128 px) */
static void
check_efficientnet_size (void)
{
  static const struct { int width; size_t params; } torchvision[] = {
    { 16, 1076650 }, { 32, 4017796 }, { 64, 15582208 },
  };
  for (size_t i = 0; i < 3; i++)
    {
      SsModelSpec spec = tiny_spec (SS_ARCH_EFFICIENTNET_B0, 128, torchvision[i].width, 8);
      SsError error;
      SsModel *m = ss_model_new (&spec, 1, &error);
      CHECK (m != NULL, "EfficientNet width %d: %s", torchvision[i].width, error.message);
      if (m == NULL)
        continue;
      CHECK (m->n_params == torchvision[i].params, "EfficientNet width %d: %zu parameters, "
             "torchvision's has %zu", torchvision[i].width, m->n_params, torchvision[i].params);
      if (torchvision[i].width == 32)
        CHECK (ss_model_flops (m) == 251990016.0, "EfficientNet: %.0f forward FLOP, "
               "torchvision's 251990016", ss_model_flops (m));
      /* 16 blocks; the 9 whose input and output shapes agree add their input back and drop
       * their branch with probability 0.2 i / 16, block i counted from 0 (torchvision's) */
      static const int residual_blocks[9] = { 2, 4, 6, 7, 9, 10, 12, 13, 14 };
      int dropping = 0, wrong = 0;
      for (int n = 0; n < m->n_nodes; n++)
        if (m->nodes[n].drop > 0.0f)
          {
            const float want = 0.2f * (float) residual_blocks[dropping < 9 ? dropping : 8] / 16.0f;
            wrong += m->nodes[n].residual < 0 || m->nodes[n].drop != want;
            dropping++;
          }
      CHECK (dropping == 9 && wrong == 0, "%d branches drop, %d at the wrong rate", dropping,
             wrong);
      /* Grad-CAM on the head's map (input / 32), the features its pooled channels */
      const SsNode *cam = &m->nodes[m->cam_node];
      CHECK (cam->kind == SS_OP_BN && cam->act == SS_ACT_SILU && cam->h == 4 && cam->w == 4
               && cam->c == 40 * torchvision[i].width,
             "EfficientNet's Grad-CAM map: kind %d, %d x %d x %d", cam->kind, cam->c, cam->h,
             cam->w);
      CHECK (ss_model_feature_dim (m) == (size_t) 40 * torchvision[i].width,
             "EfficientNet's features: %zu", ss_model_feature_dim (m));
      ss_model_free (m);
    }
  /* below 128 px the map at input / 16 (112 channels at width 32) */
  SsModelSpec small = tiny_spec (SS_ARCH_EFFICIENTNET_B0, 64, 32, 8);
  SsError error;
  SsModel *m = ss_model_new (&small, 1, &error);
  CHECK (m != NULL && m->nodes[m->cam_node].h == 4 && m->nodes[m->cam_node].c == 112,
         "EfficientNet at 64 px: Grad-CAM on %d x %d x %d", m->nodes[m->cam_node].c,
         m->nodes[m->cam_node].h, m->nodes[m->cam_node].w);
  ss_model_free (m);
}

/* VGG16 configuration D: its parameters and forward FLOP from the layer list */
static void
check_vgg_size (SsArch arch, int width, int size)
{
  static const int blocks[5][2] = { { 2, 1 }, { 2, 2 }, { 3, 4 }, { 3, 8 }, { 3, 8 } };
  const bool norm = arch == SS_ARCH_VGG16_BN;
  double params = 0.0, flops = 0.0, buffers = 0.0;
  int in_c = 3, side = size;
  for (int b = 0; b < 5; b++)
    {
      for (int i = 0; i < blocks[b][0]; i++)
        {
          const int out_c = width * blocks[b][1];
          params += 9.0 * in_c * out_c + out_c + (norm ? out_c : 0);  /* bias, or beta + gamma */
          buffers += norm ? 2.0 * out_c : 0.0;
          flops += 2.0 * 9.0 * in_c * out_c * side * side;
          in_c = out_c;
        }
      side /= 2;
    }
  const double features = (double) in_c * side * side, hidden = 64.0 * width;
  params += features * hidden + hidden + hidden * hidden + hidden + hidden * 8 + 8;
  flops += 2.0 * (features * hidden + hidden * hidden + hidden * 8);
  SsModelSpec spec = tiny_spec (arch, size, width, 8);
  SsError error;
  SsModel *m = ss_model_new (&spec, 1, &error);
  CHECK (m != NULL, "%s: %s", ss_arch_name (arch), error.message);
  if (m == NULL)
    return;
  CHECK ((double) m->n_params == params && (double) m->n_buffers == buffers
           && ss_model_flops (m) == flops,
         "%s width %d at %d px: %zu parameters (want %.0f), %zu buffers (%.0f), %.0f FLOP (%.0f)",
         ss_arch_name (arch), width, size, m->n_params, params, m->n_buffers, buffers,
         ss_model_flops (m), flops);
  /* Grad-CAM on the last convolution's map before its pool (input / 16), the features the
   * second hidden layer */
  const SsNode *cam = &m->nodes[m->cam_node];
  CHECK (cam->h == size / 16 && cam->c == 8 * width && cam->act == SS_ACT_RELU && !cam->pool,
         "%s's Grad-CAM map: %d x %d x %d", ss_arch_name (arch), cam->c, cam->h, cam->w);
  CHECK (ss_model_feature_dim (m) == (size_t) hidden, "%s's features: %zu", ss_arch_name (arch),
         ss_model_feature_dim (m));
  ss_model_free (m);
}

/* Grad-CAM and the features run through the new layers' backward and forward: a map of
 * the Grad-CAM node's size in [0, 1] with its maximum 1 for some class, and features of
 * the feature node's size that differ between two images */
static void
check_gradcam_features (SsArch arch, int width)
{
  const int size = 64, k = 3;
  SsModelSpec spec = tiny_spec (arch, size, width, k);
  SsError error;
  SsModel *m = ss_model_new (&spec, 3, &error);
  CHECK (m != NULL, "%s: %s", ss_arch_name (arch), error.message);
  if (m == NULL)
    return;
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == SS_OP_BN)
      for (size_t j = 0; j < m->nodes[i].w_len; j++)
        m->params[m->nodes[i].w_off + j] = 1.0f;  /* residual branches start at 0 */
  const size_t image = (size_t) 3 * size * size;
  float *x = malloc (sizeof (float) * 2 * image);
  SsRng rng;
  ss_rng_seed (&rng, 21);
  for (size_t i = 0; i < 2 * image; i++)
    x[i] = ss_rng_uniform (&rng);
  int lit = 0, bad = 0;
  for (int cls = 0; cls < k; cls++)
    {
      float *map = NULL, prob = 0.0f;
      int h = 0, w = 0;
      CHECK (ss_model_gradcam (m, x, cls, &map, &h, &w, &prob, &error) == SS_OK, "%s Grad-CAM: %s",
             ss_arch_name (arch), error.message);
      if (map == NULL)
        continue;
      CHECK (h == m->nodes[m->cam_node].h && w == m->nodes[m->cam_node].w,
             "%s Grad-CAM map %d x %d", ss_arch_name (arch), h, w);
      float most = 0.0f;
      for (int i = 0; i < h * w; i++)
        {
          bad += !(map[i] >= 0.0f && map[i] <= 1.0f);
          most = fmaxf (most, map[i]);
        }
      lit += most == 1.0f;
      free (map);
    }
  CHECK (bad == 0 && lit > 0, "%s Grad-CAM: %d values outside [0, 1], %d of %d classes lit",
         ss_arch_name (arch), bad, lit, k);
  const size_t dim = ss_model_feature_dim (m);
  float *f = malloc (sizeof (float) * 2 * dim);
  CHECK (ss_model_features (m, x, 2, f, &error) == SS_OK
           && memcmp (f, f + dim, sizeof (float) * dim) != 0,
         "%s features: %s", ss_arch_name (arch), error.message);
  free (f);
  free (x);
  ss_model_free (m);
}

/* sizes the graphs cannot take, stems they have not got, names */
static void
check_refusals (void)
{
  static const SsArch archs[3] = { SS_ARCH_VGG16, SS_ARCH_VGG16_BN, SS_ARCH_EFFICIENTNET_B0 };
  for (int a = 0; a < 3; a++)
    {
      SsError error;
      SsModelSpec spec = tiny_spec (archs[a], 48, 8, 3);
      SsModel *m = ss_model_new (&spec, 1, &error);
      CHECK (m == NULL && strstr (error.message, "divisible by 32") != NULL,
             "%s at 48 px: %s", ss_arch_name (archs[a]), m == NULL ? error.message : "built");
      ss_model_free (m);
      spec = tiny_spec (archs[a], 64, 8, 3);
      spec.stem_k = 3;
      m = ss_model_new (&spec, 1, &error);
      CHECK (m == NULL && strstr (error.message, "stem kernel 3") != NULL, "%s with a stem: %s",
             ss_arch_name (archs[a]), m == NULL ? error.message : "built");
      ss_model_free (m);
      CHECK (ss_arch_from_name (ss_arch_name (archs[a])) == archs[a], "%s: name and id disagree",
             ss_arch_name (archs[a]));
    }
  /* the ids are for ever: a model file records them */
  CHECK (SS_ARCH_VGG16 == 5 && SS_ARCH_EFFICIENTNET_B0 == 6 && SS_ARCH_VGG16_BN == 7,
         "the new ids moved");
}

int
main (void)
{
  check_efficientnet_size ();
  check_vgg_size (SS_ARCH_VGG16, 64, 128);
  check_vgg_size (SS_ARCH_VGG16, 16, 96);
  check_vgg_size (SS_ARCH_VGG16_BN, 32, 128);
  check_gradcam_features (SS_ARCH_EFFICIENTNET_B0, 8);
  check_gradcam_features (SS_ARCH_VGG16, 4);
  check_gradcam_features (SS_ARCH_VGG16_BN, 4);
  check_refusals ();
  return test_summary ("test-engine-nets");
}
