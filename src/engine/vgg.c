/* VGG16 (Simonyan and Zisserman 2015, configuration D): 13 3x3 convolutions with ReLU in
 * five blocks of width w, 2w, 4w, 8w, 8w channels (w = SsModelSpec.width, 64 in the
 * paper), a 2x2 max-pool after each block, then dense layers of 64w, 64w (4096 each at
 * w 64) and the classes, ReLU between. The first dense layer reads the last pooled map
 * as it is (512 x 4 x 4 at 128 px) where torchvision first pools it to 7 x 7 whatever the
 * input. Dropout is left out.
 *
 * SS_ARCH_VGG16_BN puts batch norm between each convolution and its ReLU (torchvision's
 * vgg16_bn): trained from scratch, the plain network's 13 layers without a norm learn
 * slowly if at all. */
#include "engine-private.h"

SsStatus
ss_build_vgg (SsModel *m, SsError *error)
{
  static const int convs_per_block[5] = { 2, 2, 3, 3, 3 };
  static const int width_times[5] = { 1, 2, 4, 8, 8 };
  const bool norm = m->spec.arch == SS_ARCH_VGG16_BN;
  const int w = m->spec.width;
  if (m->spec.in_h % 32 != 0 || m->spec.in_w % 32 != 0)
    return ss_error_set (error, SS_ERR_ARG, "VGG16 needs an input size divisible by 32, not %dx%d",
                         m->spec.in_w, m->spec.in_h);
  int x = ss_graph_input (m), last_conv = -1;
  for (int b = 0; b < 5 && x >= 0; b++)
    for (int i = 0; i < convs_per_block[b] && x >= 0; i++)
      {
        const bool block_end = i + 1 == convs_per_block[b];
        const int out_c = w * width_times[b];
        if (norm)
          {
            /* no bias: the norm has one */
            x = ss_graph_conv (m, x, out_c, 3, 1, false, false, false);
            x = x < 0 ? -1 : ss_graph_bn (m, x, -1, SS_ACT_RELU);
            last_conv = x;
            if (block_end)
              x = x < 0 ? -1 : ss_graph_maxpool (m, x);
          }
        else if (block_end && b == 4)
          {
            /* the last convolution's map unpooled, for Grad-CAM */
            x = last_conv = ss_graph_conv (m, x, out_c, 3, 1, true, true, false);
            x = x < 0 ? -1 : ss_graph_maxpool (m, x);
          }
        else
          /* bias, ReLU and the block's pool in the convolution's epilogue */
          x = ss_graph_conv (m, x, out_c, 3, 1, true, true, block_end);
      }
  x = x < 0 ? -1 : ss_graph_dense (m, x, 64 * w, SS_ACT_RELU);
  int features = x < 0 ? -1 : ss_graph_dense (m, x, 64 * w, SS_ACT_RELU);
  int logits = features < 0 ? -1 : ss_graph_dense (m, features, m->spec.n_classes, SS_ACT_NONE);
  if (logits < 0)
    return ss_error_set (error, SS_ERR_ARG, "could not build the VGG16 graph");
  m->train_taps = true;
  /* Grad-CAM on the last convolution's map (input / 16), as Selvaraju et al. did */
  m->cam_node = last_conv;
  m->feature_node = features;
  return SS_OK;
}
