/* The multi-scale CNN of Akbar et al.: three conv 3x3 + ReLU + 2x2 max-pool stages
 * (width, 2 width, 4 width filters), the three pooled maps flattened and concatenated,
 * one dense layer. At 3x128x128 and width 32: 229,376 features, 552,002 parameters. */
#include "engine-private.h"

SsStatus
ss_build_mscnn (SsModel *m, SsError *error)
{
  const int w = m->spec.width;
  if (m->spec.in_h % 8 != 0 || m->spec.in_w % 8 != 0)
    return ss_error_set (error, SS_ERR_ARG, "msCNN needs an input size divisible by 8, not %dx%d",
                         m->spec.in_w, m->spec.in_h);
  int x = ss_graph_input (m);
  int s1 = ss_graph_conv (m, x, w, 3, 1, true, true, true);
  int s2 = ss_graph_conv (m, s1, 2 * w, 3, 1, true, true, true);
  int s3 = ss_graph_conv (m, s2, 4 * w, 3, 1, true, true, true);
  int stages[3] = { s1, s2, s3 };
  int features = ss_graph_concat (m, stages, 3);
  int logits = ss_graph_dense (m, features, m->spec.n_classes, SS_ACT_NONE);
  if (logits < 0)
    return ss_error_set (error, SS_ERR_ARG, "could not build the msCNN graph");
  m->cam_node = s3;
  m->feature_node = features;
  return SS_OK;
}
