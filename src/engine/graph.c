/* Building a model's graph: nodes appended in execution order, each output shape
 * derived from its inputs, then the parameter blob laid out and initialised. */
#include "engine-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Output rows per convolution work item: col and pre of one band should stay within
 * about 1 MiB so that the epilogue reads the GEMM output from L2. */
static int
band_rows_for (const SsConvShape *s, bool pool)
{
  size_t budget = 256 * 1024;
  const char *env = getenv ("SMEARSCOPE_BAND_FLOATS");
  if (env != NULL && atol (env) > 0)
    budget = (size_t) atol (env);
  size_t per_row = (size_t) (ss_conv_k (s) + s->out_c) * s->out_w;
  int rows = (int) (budget / per_row);
  if (rows < 1)
    rows = 1;
  if (pool && rows % 2 == 1)
    rows = rows > 1 ? rows - 1 : 2;
  if (rows > s->out_h)
    rows = s->out_h;
  return rows;
}

#define SS_GROUP_COLUMNS 1024

int
ss_graph_add (SsModel *m, const SsNode *proto)
{
  if (m->n_nodes >= SS_MAX_NODES)
    return -1;
  SsNode *n = &m->nodes[m->n_nodes];
  *n = *proto;
  n->concat_into = -1;
  return m->n_nodes++;
}

int
ss_graph_input (SsModel *m)
{
  SsNode n = { .kind = SS_OP_INPUT, .residual = -1 };
  n.c = m->spec.in_c;
  n.h = m->spec.in_h;
  n.w = m->spec.in_w;
  return ss_graph_add (m, &n);
}

int
ss_graph_conv (SsModel *m, int in, int out_c, int k, int stride, bool bias, bool relu,
               bool pool)
{
  if (in < 0)
    return -1;
  const SsNode *src = &m->nodes[in];
  SsNode n = { .kind = SS_OP_CONV, .inputs = { in }, .n_inputs = 1, .residual = -1 };
  ss_conv_shape_init (&n.conv, src->c, src->h, src->w, out_c, k, stride, k / 2);
  n.bias = bias;
  n.act = relu ? SS_ACT_RELU : SS_ACT_NONE;
  n.pool = pool;
  if (pool && (n.conv.out_h % 2 != 0 || n.conv.out_w % 2 != 0))
    return -1;
  n.c = out_c;
  n.h = pool ? n.conv.out_h / 2 : n.conv.out_h;
  n.w = pool ? n.conv.out_w / 2 : n.conv.out_w;
  n.band_rows = band_rows_for (&n.conv, pool);
  return ss_graph_add (m, &n);
}

int
ss_graph_dwconv (SsModel *m, int in, int k, int stride)
{
  if (in < 0)
    return -1;
  const SsNode *src = &m->nodes[in];
  SsNode n = { .kind = SS_OP_DWCONV, .inputs = { in }, .n_inputs = 1, .residual = -1 };
  ss_conv_shape_init (&n.conv, src->c, src->h, src->w, src->c, k, stride, k / 2);
  if (!ss_dwconv_fits (&n.conv))
    return -1;
  n.c = src->c;
  n.h = n.conv.out_h;
  n.w = n.conv.out_w;
  return ss_graph_add (m, &n);
}

int
ss_graph_se (SsModel *m, int in, int squeeze)
{
  if (in < 0 || squeeze < 1)
    return -1;
  const SsNode *src = &m->nodes[in];
  SsNode n = { .kind = SS_OP_SE, .inputs = { in }, .n_inputs = 1, .residual = -1 };
  n.squeeze = squeeze;
  n.c = src->c;
  n.h = src->h;
  n.w = src->w;
  return ss_graph_add (m, &n);
}

int
ss_graph_bn (SsModel *m, int in, int residual, SsAct act)
{
  if (in < 0)
    return -1;
  const SsNode *src = &m->nodes[in];
  SsNode n = { .kind = SS_OP_BN, .inputs = { in }, .n_inputs = 1 };
  n.residual = residual;
  n.act = act;
  n.c = src->c;
  n.h = src->h;
  n.w = src->w;
  if (residual >= 0)
    {
      const SsNode *r = &m->nodes[residual];
      if (r->c != n.c || r->h != n.h || r->w != n.w)
        return -1;
    }
  return ss_graph_add (m, &n);
}

int
ss_graph_maxpool (SsModel *m, int in)
{
  if (in < 0 || m->nodes[in].h % 2 != 0 || m->nodes[in].w % 2 != 0)
    return -1;
  const SsNode *src = &m->nodes[in];
  SsNode n = { .kind = SS_OP_MAXPOOL, .inputs = { in }, .n_inputs = 1, .residual = -1 };
  n.c = src->c;
  n.h = src->h / 2;
  n.w = src->w / 2;
  return ss_graph_add (m, &n);
}

int
ss_graph_gap (SsModel *m, int in)
{
  if (in < 0)
    return -1;
  SsNode n = { .kind = SS_OP_GAP, .inputs = { in }, .n_inputs = 1, .residual = -1 };
  n.c = m->nodes[in].c;
  n.h = 1;
  n.w = 1;
  return ss_graph_add (m, &n);
}

int
ss_graph_concat (SsModel *m, const int *ins, int n_ins)
{
  SsNode n = { .kind = SS_OP_CONCAT, .residual = -1 };
  size_t total = 0;
  if (n_ins < 1 || n_ins > SS_MAX_INPUTS)
    return -1;
  for (int i = 0; i < n_ins; i++)
    {
      if (ins[i] < 0 || m->nodes[ins[i]].concat_into >= 0)
        return -1;
      n.inputs[i] = ins[i];
      total += (size_t) m->nodes[ins[i]].c * m->nodes[ins[i]].h * m->nodes[ins[i]].w;
    }
  n.n_inputs = n_ins;
  n.c = (int) total;
  n.h = 1;
  n.w = 1;
  int id = ss_graph_add (m, &n);
  if (id < 0)
    return -1;
  size_t off = 0;
  for (int i = 0; i < n_ins; i++)
    {
      SsNode *src = &m->nodes[ins[i]];
      src->concat_into = id;
      src->concat_off = off;
      off += (size_t) src->c * src->h * src->w;
    }
  return id;
}

int
ss_graph_dense (SsModel *m, int in, int out, SsAct act)
{
  if (in < 0 || act == SS_ACT_SILU)
    return -1;
  SsNode n = { .kind = SS_OP_DENSE, .inputs = { in }, .n_inputs = 1, .residual = -1 };
  n.c = out;
  n.h = 1;
  n.w = 1;
  n.act = act;
  return ss_graph_add (m, &n);
}

SsStatus
ss_graph_finish (SsModel *m, SsError *error)
{
  size_t p = 0, b = 0;
  for (int i = 0; i < m->n_nodes; i++)
    {
      SsNode *n = &m->nodes[i];
      const SsNode *src = n->n_inputs > 0 ? &m->nodes[n->inputs[0]] : NULL;
      switch (n->kind)
        {
        case SS_OP_CONV:
          {
            /* maps of a few hundred pixels make thin GEMMs (ResNet's last stages: 4 x 4
             * at 128 px); several images side by side in one col matrix give OpenBLAS
             * enough columns */
            const int hw = n->conv.out_h * n->conv.out_w;
            n->group = 1;
            if (!n->pool && n->band_rows >= n->conv.out_h && hw < SS_GROUP_COLUMNS / 2)
              n->group = SS_GROUP_COLUMNS / hw;
          }
          n->w_off = p;
          n->w_len = (size_t) n->conv.out_c * ss_conv_k (&n->conv);
          p += n->w_len;
          n->b_off = p;
          n->b_len = n->bias ? (size_t) n->conv.out_c : 0;
          p += n->b_len;
          break;
        case SS_OP_BN:
          n->w_off = p;
          n->w_len = (size_t) n->c;
          p += n->w_len;
          n->b_off = p;
          n->b_len = (size_t) n->c;
          p += n->b_len;
          n->buf_off = b;
          b += 2 * (size_t) n->c;
          break;
        case SS_OP_DENSE:
          n->w_off = p;
          n->w_len = (size_t) n->c * src->c * src->h * src->w;
          p += n->w_len;
          n->b_off = p;
          n->b_len = (size_t) n->c;
          p += n->b_len;
          /* more than 4 MiB of weights (VGG's first dense layers) is read from memory for
           * every image when each image is a GEMV: one GEMM over the batch reads it once */
          n->wide = n->w_len > ((size_t) 1 << 20);
          break;
        case SS_OP_DWCONV:
          n->w_off = p;
          n->w_len = (size_t) n->c * n->conv.k * n->conv.k;
          p += n->w_len;
          n->b_off = p;
          n->b_len = 0;
          break;
        case SS_OP_SE:
          /* both dense layers in one run: w1, b1, w2, b2 (ss_se_forward) */
          n->w_off = p;
          n->w_len = ss_se_params (n->c, n->squeeze);
          p += n->w_len;
          n->b_off = p;
          n->b_len = 0;
          break;
        default:
          break;
        }
    }
  /* a convolution read only by the batch norm right after it can carry that norm in
   * its epilogue when nothing needs its own output (inference, net.c) */
  for (int i = 0; i + 1 < m->n_nodes; i++)
    {
      SsNode *n = &m->nodes[i];
      const SsNode *next = &m->nodes[i + 1];
      n->fuse_bn = false;
      const bool plain_conv = n->kind == SS_OP_CONV && !n->bias && n->act == SS_ACT_NONE && !n->pool;
      if (!(plain_conv || n->kind == SS_OP_DWCONV) || n->concat_into >= 0
          || next->kind != SS_OP_BN || next->inputs[0] != i || next->concat_into >= 0)
        continue;
      bool read_elsewhere = false;
      for (int j = 0; j < m->n_nodes && !read_elsewhere; j++)
        {
          if (j == i + 1)
            continue;
          for (int k = 0; k < m->nodes[j].n_inputs; k++)
            read_elsewhere |= m->nodes[j].inputs[k] == i;
          read_elsewhere |= m->nodes[j].kind == SS_OP_BN && m->nodes[j].residual == i;
        }
      n->fuse_bn = !read_elsewhere;
    }
  const SsNode *last = &m->nodes[m->n_nodes - 1];
  if (last->kind != SS_OP_DENSE || last->c != m->spec.n_classes)
    return ss_error_set (error, SS_ERR_ARG, "model graph does not end in a %d-way dense layer",
                         m->spec.n_classes);
  m->n_params = p;
  m->n_buffers = b;
  return SS_OK;
}

SsStatus
ss_graph_allocate (SsModel *m, SsError *error)
{
  const size_t p = m->n_params, b = m->n_buffers;
  m->params = ss_aligned_alloc (sizeof (float) * (p > 0 ? p : 1));
  m->buffers = ss_aligned_alloc (sizeof (float) * (b > 0 ? b : 1));
  if (m->params == NULL || m->buffers == NULL)
    return ss_error_set (error, SS_ERR_NOMEM, "out of memory for %zu parameters", p);
  return SS_OK;
}

void
ss_graph_init_params (SsModel *m, uint64_t seed)
{
  SsRng rng;
  ss_rng_seed (&rng, seed);
  for (int i = 0; i < m->n_nodes; i++)
    {
      SsNode *n = &m->nodes[i];
      float *w = m->params + n->w_off;
      float *b = m->params + n->b_off;
      switch (n->kind)
        {
        case SS_OP_CONV:
          {
            /* He normal for ReLU networks: std sqrt(2 / fan_in) */
            float sd = sqrtf (2.0f / (float) ss_conv_k (&n->conv));
            for (size_t j = 0; j < n->w_len; j++)
              w[j] = sd * ss_rng_normal (&rng);
            for (size_t j = 0; j < n->b_len; j++)
              b[j] = 0.0f;
            break;
          }
        case SS_OP_DWCONV:
          {
            /* He normal over each filter's own k x k inputs */
            float sd = sqrtf (2.0f / (float) (n->conv.k * n->conv.k));
            for (size_t j = 0; j < n->w_len; j++)
              w[j] = sd * ss_rng_normal (&rng);
            break;
          }
        case SS_OP_SE:
          {
            /* each of the two dense layers as PyTorch's default for Linear (below) */
            const int c = n->c, q = n->squeeze;
            const float bound1 = 1.0f / sqrtf ((float) c), bound2 = 1.0f / sqrtf ((float) q);
            for (size_t j = 0; j < (size_t) q * c + q; j++)
              w[j] = bound1 * (2.0f * ss_rng_uniform (&rng) - 1.0f);
            for (size_t j = (size_t) q * c + q; j < n->w_len; j++)
              w[j] = bound2 * (2.0f * ss_rng_uniform (&rng) - 1.0f);
            break;
          }
        case SS_OP_BN:
          {
            /* the last norm of a residual branch starts at zero, so that every block
             * starts as the identity (Goyal et al. 2017): trains better from scratch */
            float gamma = n->residual >= 0 ? 0.0f : 1.0f;
            for (size_t j = 0; j < n->w_len; j++)
              w[j] = gamma;
            for (size_t j = 0; j < n->b_len; j++)
              b[j] = 0.0f;
            float *running = m->buffers + n->buf_off;
            for (int c = 0; c < n->c; c++)
              {
                running[c] = 0.0f;
                running[n->c + c] = 1.0f;
              }
            break;
          }
        case SS_OP_DENSE:
          {
            /* PyTorch's default for Linear: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
            float bound = 1.0f / sqrtf ((float) (n->w_len / n->b_len));
            for (size_t j = 0; j < n->w_len; j++)
              w[j] = bound * (2.0f * ss_rng_uniform (&rng) - 1.0f);
            for (size_t j = 0; j < n->b_len; j++)
              b[j] = bound * (2.0f * ss_rng_uniform (&rng) - 1.0f);
            break;
          }
        default:
          break;
        }
    }
}
