/* EfficientNet-B0 (Tan and Le 2019), as torchvision builds it: a 3x3 stride-2 stem, 16
 * MBConv blocks in 7 stages, a 1x1 head to 1280 channels, global average pool, dense.
 * Every convolution is followed by batch norm and, but for each block's projection, by
 * SiLU. SsModelSpec.width is the stem's channels (32 in the paper); every stage's
 * channels scale by width / 32 as the paper's round_filters rounds them. At 3x128x128
 * and width 32 (8 classes): 4,017,796 parameters and 251,990,016 forward FLOP, the
 * figures torchvision's efficientnet_b0 gives (../shared/bench/README.md). */
#include "engine-private.h"

#define SS_EFFNET_DROP 0.2f  /* stochastic depth of the last block (torchvision's) */

/* One stage of B0: expansion, kernel, first block's stride, output channels, blocks. */
static const struct {
  int expand, k, stride, channels, blocks;
} b0_stages[7] = {
  { 1, 3, 1, 16, 1 },  { 6, 3, 2, 24, 2 },  { 6, 5, 2, 40, 2 },  { 6, 3, 2, 80, 3 },
  { 6, 5, 1, 112, 3 }, { 6, 5, 2, 192, 4 }, { 6, 3, 1, 320, 1 },
};

/* The paper's round_filters: channels times width / 32, to the nearest multiple of 8 (at
 * least 8), and 8 more where rounding lost over a tenth. */
static int
round_filters (int channels, int width)
{
  const double scaled = (double) channels * width / 32.0;
  int rounded = (int) (scaled + 4.0) / 8 * 8;
  if (rounded < 8)
    rounded = 8;
  if (rounded < 0.9 * scaled)
    rounded += 8;
  return rounded;
}

/* conv (no bias: the norm after it has one) + batch norm + activation */
static int
conv_bn (SsModel *m, int in, int out_c, int k, int stride, SsAct act)
{
  int c = ss_graph_conv (m, in, out_c, k, stride, false, false, false);
  return c < 0 ? -1 : ss_graph_bn (m, c, -1, act);
}

/* MBConv: 1x1 expansion (none at expansion 1), k x k depthwise, squeeze and excitation to
 * a quarter of the block's input channels, 1x1 projection without activation, and the
 * input added back where the shape allows, the branch dropped in training with
 * probability drop. */
static int
mbconv (SsModel *m, int in, int expand, int k, int stride, int out_c, float drop)
{
  if (in < 0)
    return -1;
  const int in_c = m->nodes[in].c;
  int x = in;
  if (expand != 1)
    x = conv_bn (m, x, in_c * expand, 1, 1, SS_ACT_SILU);
  x = x < 0 ? -1 : ss_graph_dwconv (m, x, k, stride);
  x = x < 0 ? -1 : ss_graph_bn (m, x, -1, SS_ACT_SILU);
  x = ss_graph_se (m, x, in_c / 4 > 1 ? in_c / 4 : 1);
  x = x < 0 ? -1 : ss_graph_conv (m, x, out_c, 1, 1, false, false, false);
  const bool residual = stride == 1 && in_c == out_c;
  x = x < 0 ? -1 : ss_graph_bn (m, x, residual ? in : -1, SS_ACT_NONE);
  if (x >= 0 && residual)
    m->nodes[x].drop = drop;
  return x;
}

SsStatus
ss_build_efficientnet (SsModel *m, SsError *error)
{
  const int w = m->spec.width;
  if (m->spec.in_h % 32 != 0 || m->spec.in_w % 32 != 0)
    return ss_error_set (error, SS_ERR_ARG, "EfficientNet needs an input size divisible by 32, "
                         "not %dx%d", m->spec.in_w, m->spec.in_h);
  int n_blocks = 0;
  for (int s = 0; s < 7; s++)
    n_blocks += b0_stages[s].blocks;

  int x = ss_graph_input (m);
  x = conv_bn (m, x, round_filters (32, w), 3, 2, SS_ACT_SILU);
  int block = 0, at16 = -1;
  for (int s = 0; s < 7 && x >= 0; s++)
    {
      for (int i = 0; i < b0_stages[s].blocks && x >= 0; i++, block++)
        /* stochastic depth rises linearly from 0 at the first block */
        x = mbconv (m, x, b0_stages[s].expand, b0_stages[s].k, i == 0 ? b0_stages[s].stride : 1,
                    round_filters (b0_stages[s].channels, w),
                    SS_EFFNET_DROP * (float) block / (float) n_blocks);
      if (s == 4)
        at16 = x;  /* the last map at input / 16 */
    }
  x = x < 0 ? -1 : conv_bn (m, x, round_filters (1280, w), 1, 1, SS_ACT_SILU);
  /* Grad-CAM reads the head's map (input / 32); below 128 px that is under 4 x 4, and the
   * last map at input / 16 says more (as the ResNets do) */
  const bool small = m->spec.in_h < 128 || m->spec.in_w < 128;
  m->cam_node = small && at16 >= 0 ? at16 : x;
  int pooled = x < 0 ? -1 : ss_graph_gap (m, x);
  int logits = pooled < 0 ? -1 : ss_graph_dense (m, pooled, m->spec.n_classes, SS_ACT_NONE);
  if (logits < 0)
    return ss_error_set (error, SS_ERR_ARG, "could not build the EfficientNet graph (too many "
                         "layers?)");
  m->train_taps = true;
  m->feature_node = pooled;
  return SS_OK;
}
