/* ResNet-18 (basic blocks) and ResNet-50 (bottleneck blocks), He et al. 2016, with the
 * stem sized for cell crops: 7x7 (or, by SsModelSpec.stem_k, 5x5 or 3x3) stride-2 conv,
 * batch norm, ReLU, 2x2 max-pool; four
 * stages of width w, 2w, 4w, 8w (x4 for bottlenecks); global average pool; dense. */
#include "engine-private.h"

/* conv (no bias: the norm after it has one) + batch norm (+ residual) (+ ReLU) */
static int
conv_bn (SsModel *m, int in, int out_c, int k, int stride, int residual, bool relu)
{
  int c = ss_graph_conv (m, in, out_c, k, stride, false, false, false);
  return c < 0 ? -1 : ss_graph_bn (m, c, residual, relu ? SS_ACT_RELU : SS_ACT_NONE);
}

static int
shortcut (SsModel *m, int in, int out_c, int stride)
{
  if (stride == 1 && m->nodes[in].c == out_c)
    return in;
  return conv_bn (m, in, out_c, 1, stride, -1, false);
}

static int
basic_block (SsModel *m, int in, int width, int stride)
{
  int a = conv_bn (m, in, width, 3, stride, -1, true);
  int skip = shortcut (m, in, width, stride);
  if (a < 0 || skip < 0)
    return -1;
  return conv_bn (m, a, width, 3, 1, skip, true);
}

static int
bottleneck_block (SsModel *m, int in, int width, int stride)
{
  int a = conv_bn (m, in, width, 1, 1, -1, true);
  int b = a < 0 ? -1 : conv_bn (m, a, width, 3, stride, -1, true);
  int skip = shortcut (m, in, 4 * width, stride);
  if (b < 0 || skip < 0)
    return -1;
  return conv_bn (m, b, 4 * width, 1, 1, skip, true);
}

SsStatus
ss_build_resnet (SsModel *m, SsError *error)
{
  static const int blocks18[4] = { 2, 2, 2, 2 };
  static const int blocks50[4] = { 3, 4, 6, 3 };
  const bool bottleneck = m->spec.arch == SS_ARCH_RESNET50;
  const int *blocks = bottleneck ? blocks50 : blocks18;
  const int w = m->spec.width;

  if (m->spec.in_h % 32 != 0 || m->spec.in_w % 32 != 0)
    return ss_error_set (error, SS_ERR_ARG, "ResNet needs an input size divisible by 32, not %dx%d",
                         m->spec.in_w, m->spec.in_h);
  int x = ss_graph_input (m);
  x = conv_bn (m, x, w, ss_model_stem_kernel (&m->spec), 2, -1, true);
  x = x < 0 ? -1 : ss_graph_maxpool (m, x);
  int stage3 = -1;
  for (int stage = 0; stage < 4 && x >= 0; stage++)
    {
      for (int i = 0; i < blocks[stage] && x >= 0; i++)
        {
          int stride = (stage > 0 && i == 0) ? 2 : 1;
          x = bottleneck ? bottleneck_block (m, x, w << stage, stride)
                         : basic_block (m, x, w << stage, stride);
        }
      if (stage == 2)
        stage3 = x;
    }
  /* Grad-CAM reads the last stage (input / 32); below 128 px that map is under 4 x 4
   * and cannot point at anything inside a cell, so small inputs use the stage before
   * (input / 16), whose maps still feed the call through the last stage. */
  const bool small = m->spec.in_h < 128 || m->spec.in_w < 128;
  m->cam_node = small && stage3 >= 0 ? stage3 : x;
  int pooled = x < 0 ? -1 : ss_graph_gap (m, x);
  int logits = pooled < 0 ? -1 : ss_graph_dense (m, pooled, m->spec.n_classes, SS_ACT_NONE);
  if (logits < 0)
    return ss_error_set (error, SS_ERR_ARG, "could not build the ResNet graph (too many layers?)");
  m->train_taps = true;
  m->feature_node = pooled;
  return SS_OK;
}
