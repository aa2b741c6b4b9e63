/* The fast convolution (im2col + sgemm + fused bias/ReLU/pool epilogue, in bands) against
 * the plain-loop reference, on random shapes, strides, kernels and band sizes; the dense
 * layer likewise; the thread count must not change a forward pass, nor must carrying
 * batch norm in the convolution's epilogue. */
#include "engine-test-util.h"
#include "reference.h"

/* A model whose graph is input -> 1x1 conv to c channels -> conv under test -> gap ->
 * dense: node 2 is the conv under test, node 1's output its input. */
static SsModel *
conv_model (int c, int h, int w, int out_c, int k, int stride, bool bias, bool relu, bool pool,
            int band_rows, SsRng *rng)
{
  SsModel *m = calloc (1, sizeof *m);
  m->spec = tiny_spec (SS_ARCH_MSCNN, h, 2, 2);
  m->spec.in_w = w;
  int x = ss_graph_input (m);
  int adapter = ss_graph_conv (m, x, c, 1, 1, true, false, false);
  int conv = ss_graph_conv (m, adapter, out_c, k, stride, bias, relu, pool);
  if (conv < 0)
    {
      free (m);
      return NULL;
    }
  if (band_rows > 0)
    m->nodes[conv].band_rows = band_rows;
  int g = ss_graph_gap (m, conv);
  ss_graph_dense (m, g, 2);
  SsError error;
  if (ss_graph_finish (m, &error) != SS_OK || ss_graph_allocate (m, &error) != SS_OK)
    abort ();
  fill_random (m->params, m->n_params, rng, 0.5f);
  return m;
}

static void
check_conv_case (SsRng *rng, int n, int c, int h, int w, int out_c, int k, int stride, bool bias,
                 bool relu, bool pool, int band_rows)
{
  SsModel *m = conv_model (c, h, w, out_c, k, stride, bias, relu, pool, band_rows, rng);
  if (m == NULL)
    return;  /* odd output size with pooling: not a valid case */
  const SsNode *node = &m->nodes[2];
  const SsConvShape *s = &node->conv;
  size_t image = (size_t) 3 * h * w;
  float *raw = malloc (sizeof (float) * image * n);
  fill_random (raw, image * n, rng, 1.0f);
  SsError error;
  if (ss_run_ensure (m, n, false, &error) != SS_OK)
    abort ();
  ss_run_forward (m, raw, n, false);
  size_t stride_out, stride_in;
  const float *fast = ss_run_node_out (m, 2, &stride_out);
  const float *x = ss_run_node_out (m, 1, &stride_in);

  size_t full = (size_t) s->out_c * s->out_h * s->out_w;
  float *ref = malloc (sizeof (float) * full);
  float *pooled = malloc (sizeof (float) * full);
  double max_err = 0.0;
  for (int b = 0; b < n; b++)
    {
      ss_ref_conv_forward (s, x + b * stride_in, m->params + node->w_off,
                           bias ? m->params + node->b_off : NULL, ref);
      const float *want = ref;
      size_t count = full;
      if (pool)
        {
          ss_ref_maxpool2 (ref, s->out_c, s->out_h, s->out_w, pooled, NULL);
          want = pooled;
          count = full / 4;
        }
      float *tmp = malloc (sizeof (float) * count);
      memcpy (tmp, want, sizeof (float) * count);
      if (relu)
        ss_ref_relu (tmp, count);
      for (size_t i = 0; i < count; i++)
        {
          double e = fabs ((double) tmp[i] - fast[b * stride_out + i]) / (1.0 + fabs (tmp[i]));
          if (e > max_err)
            max_err = e;
        }
      free (tmp);
    }
  CHECK (max_err < 1e-4, "conv n%d c%d %dx%d oc%d k%d s%d bias%d relu%d pool%d band%d: max err %g",
         n, c, h, w, out_c, k, stride, bias, relu, pool, node->band_rows, max_err);
  free (raw);
  free (ref);
  free (pooled);
  ss_model_free (m);
}

static void
check_dense (SsRng *rng)
{
  SsModelSpec spec = tiny_spec (SS_ARCH_MSCNN, 16, 2, 3);
  SsError error;
  SsModel *m = ss_model_new (&spec, 7, &error);
  CHECK (m != NULL, "tiny msCNN: %s", error.message);
  const int n = 5;
  float *x = malloc (sizeof (float) * 3 * 16 * 16 * n);
  fill_random (x, 3 * 16 * 16 * n, rng, 1.0f);
  ss_run_ensure (m, n, false, &error);
  ss_run_forward (m, x, n, false);
  int dense = m->n_nodes - 1, concat = dense - 1;
  size_t sf, sl;
  const float *features = ss_run_node_out (m, concat, &sf);
  const float *logits = ss_run_node_out (m, dense, &sl);
  int in = m->nodes[concat].c;
  float *want = malloc (sizeof (float) * n * 3);
  ss_ref_dense (features, m->params + m->nodes[dense].w_off, m->params + m->nodes[dense].b_off,
                n, in, 3, want);
  for (int i = 0; i < n * 3; i++)
    CHECK (fabsf (want[i] - logits[(i / 3) * sl + i % 3]) < 1e-4f, "dense %d: %g vs %g", i,
           want[i], logits[(i / 3) * sl + i % 3]);
  free (want);
  free (x);
  ss_model_free (m);
}

/* Predictions must not depend on how many threads computed them. */
static void
check_thread_invariance (SsRng *rng)
{
  SsModelSpec spec = tiny_spec (SS_ARCH_RESNET18, 32, 4, 4);
  SsError error;
  SsModel *m = ss_model_new (&spec, 3, &error);
  const int n = 6;
  float *x = malloc (sizeof (float) * 3 * 32 * 32 * n);
  float p1[6 * 4], p2[6 * 4];
  fill_random (x, 3 * 32 * 32 * n, rng, 1.0f);
  ss_engine_set_threads (1);
  ss_model_predict (m, x, n, p1, &error);
  ss_engine_set_threads (2);
  ss_model_predict (m, x, n, p2, &error);
  CHECK (memcmp (p1, p2, sizeof p1) == 0, "1 and 2 threads give different predictions");
  ss_engine_set_threads (0);
  free (x);
  ss_model_free (m);
}

/* Inference without gradients applies each norm in the epilogue of the convolution
 * before it; with gradients (Grad-CAM) the two run apart. Both must give the same bits,
 * with norms that do something (random gammas, betas and running statistics). */
static void
check_fused_norm (SsRng *rng, SsArch arch, int size)
{
  SsModelSpec spec = tiny_spec (arch, size, 8, 3);
  SsError error;
  SsModel *m = ss_model_new (&spec, 5, &error);
  CHECK (m != NULL, "tiny ResNet: %s", error.message);
  int fused = 0;
  for (int i = 0; i < m->n_nodes; i++)
    {
      const SsNode *nd = &m->nodes[i];
      fused += nd->fuse_bn;
      if (nd->kind != SS_OP_BN)
        continue;
      fill_random (m->params + nd->w_off, nd->w_len, rng, 1.0f);
      fill_random (m->params + nd->b_off, nd->b_len, rng, 0.5f);
      float *running = m->buffers + nd->buf_off;
      for (int c = 0; c < nd->c; c++)
        {
          running[c] = 0.3f * (2.0f * ss_rng_uniform (rng) - 1.0f);
          running[nd->c + c] = 0.2f + 2.0f * ss_rng_uniform (rng);
        }
    }
  CHECK (fused >= 10, "%s: only %d convolutions carry their norm", ss_arch_name (arch), fused);
  const int n = 5, k = 3;
  const size_t image = (size_t) 3 * size * size;
  float *x = malloc (sizeof (float) * image * n);
  float p_fused[5 * 3], p_apart[5 * 3];
  fill_random (x, image * n, rng, 1.0f);
  ss_model_predict (m, x, n, p_fused, &error);  /* a new model: a run without gradients */
  ss_run_ensure (m, n, true, &error);  /* from now on every norm runs on its own */
  ss_model_predict (m, x, n, p_apart, &error);
  CHECK (memcmp (p_fused, p_apart, sizeof p_fused) == 0,
         "%s: the fused norm changes predictions (%g vs %g)", ss_arch_name (arch), p_fused[0],
         p_apart[0]);
  double spread = 0.0;
  for (int i = 0; i < n * k; i++)
    spread += fabs (p_fused[i] - 1.0 / k);
  CHECK (spread > 1e-3, "%s: the predictions are all uniform; the check proves nothing",
         ss_arch_name (arch));
  free (x);
  ss_model_free (m);
}

/* The fused pool's winners, including ties (values drawn from a few levels), against
 * the reference; odd widths exercise the scalar tail after the vector loop. */
static void
check_pool_argmax (SsRng *rng)
{
  for (int trial = 0; trial < 20; trial++)
    {
      int c = 1 + (int) ss_rng_below (rng, 4);
      int h = 2 * (1 + (int) ss_rng_below (rng, 8)), w = 2 * (1 + (int) ss_rng_below (rng, 13));
      size_t n = (size_t) c * h * w, np = n / 4;
      float *in = malloc (sizeof (float) * n), *out = malloc (sizeof (float) * np);
      float *want = malloc (sizeof (float) * np);
      uint8_t *arg = malloc (np), *want_arg = malloc (np);
      for (size_t i = 0; i < n; i++)
        in[i] = (float) ss_rng_below (rng, 3) - 1.0f;
      /* pre is laid out per channel for rows [0, h): one band covering the image */
      ss_pool2_bias_relu (in, c, 0, h, h, w, NULL, false, out, arg);
      ss_ref_maxpool2 (in, c, h, w, want, want_arg);
      CHECK (memcmp (out, want, sizeof (float) * np) == 0, "pool values %dx%dx%d", c, h, w);
      CHECK (memcmp (arg, want_arg, np) == 0, "pool winners %dx%dx%d", c, h, w);
      free (in);
      free (out);
      free (want);
      free (arg);
      free (want_arg);
    }
}

/* im2col's fast paths (shifted planes for stride 1, phase planes for stride 2) against
 * the plain per-tap gather, bit for bit: every shape, band and padding, with scratch
 * poisoned with NaN so that a float read from it and not overwritten shows. */
static void
check_im2col_paths (SsRng *rng)
{
  for (int trial = 0; trial < 300; trial++)
    {
      static const int ks[4] = { 1, 3, 5, 7 };
      SsConvShape s;
      int k = ks[ss_rng_below (rng, 4)], stride = 1 + (int) ss_rng_below (rng, 2);
      int h = 1 + (int) ss_rng_below (rng, 20), w = 1 + (int) ss_rng_below (rng, 20);
      if (ss_rng_below (rng, 2))
        {
          h += h % 2;  /* even sizes: where the stride-2 path applies */
          w += w % 2;
        }
      int pad = ss_rng_below (rng, 4) == 0 ? 0 : k / 2;
      ss_conv_shape_init (&s, 1 + (int) ss_rng_below (rng, 3), h, w, 4, k, stride, pad);
      if (s.out_h < 1 || s.out_w < 1)
        continue;
      int y0 = (int) ss_rng_below (rng, (uint32_t) s.out_h);
      int y1 = y0 + 1 + (int) ss_rng_below (rng, (uint32_t) (s.out_h - y0));
      size_t ld = (size_t) (y1 - y0) * s.out_w + ss_rng_below (rng, 3);
      size_t n = ld * ss_conv_k (&s), in_n = (size_t) s.in_c * h * w;
      size_t scratch_n = ss_im2col_scratch (&s);
      float *in = malloc (sizeof (float) * in_n), *scratch = malloc (sizeof (float) * (scratch_n + 1));
      float *fast = malloc (sizeof (float) * n), *plain = malloc (sizeof (float) * n);
      fill_random (in, in_n, rng, 1.0f);
      for (size_t i = 0; i <= scratch_n; i++)
        scratch[i] = NAN;
      for (size_t i = 0; i < n; i++)
        fast[i] = plain[i] = -1.0f;
      ss_im2col (&s, in, y0, y1, fast, ld, scratch);
      ss_ref_im2col (&s, in, y0, y1, plain, ld);
      CHECK (memcmp (fast, plain, sizeof (float) * n) == 0,
             "im2col c %d %dx%d k %d stride %d pad %d rows %d-%d", s.in_c, h, w, k, stride, pad, y0,
             y1);
      free (in);
      free (scratch);
      free (fast);
      free (plain);
    }
}

/* tapconv.c's kernels against ss_ref_tapconv, bit for bit: every kernel this CPU has,
 * random shapes it fits (1x1 to 7x7, stride 1 and 2, with and without padding), random
 * bands. The source is poisoned with NaN first, so a float it reads but the copy did not
 * write shows; rows outside the band must stay untouched. */
static void
check_tapconv (SsRng *rng)
{
  static const char *const kernels[] = { "avx512", "avx2" };
  for (int kn = 0; kn < 2; kn++)
    {
      if (!ss_tapconv_select (kernels[kn]))
        {
          printf ("# tapconv %s: this CPU has not got it, not checked\n", kernels[kn]);
          continue;
        }
      int nc, vl = ss_tapconv_vector (&nc), checked = 0, narrow = 0;
      for (int trial = 0; trial < 400 && checked < 200; trial++)
        {
          static const int ks[4] = { 1, 3, 5, 7 };
          int k = ks[ss_rng_below (rng, 4)], stride = 1 + (int) ss_rng_below (rng, 2);
          int pad = ss_rng_below (rng, 4) == 0 ? 0 : k / 2;
          /* a vector or more wide (pixel tiles), or 4 and 8 (channel tiles) */
          int out_w = ss_rng_below (rng, 2) ? vl * (1 + (int) ss_rng_below (rng, 3))
                                            : 4 * (1 + (int) ss_rng_below (rng, 2));
          static const int out_cs[6] = { 4, 8, 16, 32, 64, 128 };
          int in_w = (out_w - 1) * stride + k - 2 * pad + (int) ss_rng_below (rng, (uint32_t) stride);
          int in_h = 1 + (int) ss_rng_below (rng, 20);
          SsConvShape s;
          ss_conv_shape_init (&s, 1 + (int) ss_rng_below (rng, 5), in_h, in_w,
                              out_cs[ss_rng_below (rng, 6)], k, stride, pad);
          if (in_w < 1 || s.out_h < 1 || s.out_w != out_w)
            continue;
          if (s.out_w % vl == 0 && s.out_c % nc == 0)
            CHECK (ss_tapconv_fits (&s), "tapconv %s does not fit out_w %d out_c %d",
                   kernels[kn], s.out_w, s.out_c);
          if (!ss_tapconv_fits (&s))
            continue;
          narrow += s.out_w % vl != 0;
          int y0 = (int) ss_rng_below (rng, (uint32_t) s.out_h);
          int y1 = y0 + 1 + (int) ss_rng_below (rng, (uint32_t) (s.out_h - y0));
          size_t in_n = (size_t) s.in_c * in_h * in_w, K = (size_t) ss_conv_k (&s);
          size_t out_n = (size_t) s.out_c * s.out_h * s.out_w, src_n = ss_tapconv_src_floats (&s);
          float *in = malloc (sizeof (float) * in_n), *w = malloc (sizeof (float) * s.out_c * K);
          float *packed = malloc (sizeof (float) * ss_tapconv_packed_floats (&s));
          float *src = malloc (sizeof (float) * src_n), *fast = malloc (sizeof (float) * out_n);
          float *want = malloc (sizeof (float) * out_n);
          int *off = malloc (sizeof (int) * K);
          fill_random (in, in_n, rng, 1.0f);
          fill_random (w, s.out_c * K, rng, 0.5f);
          for (size_t i = 0; i < src_n; i++)
            src[i] = NAN;
          for (size_t i = 0; i < out_n; i++)
            fast[i] = -7.0f;
          ss_tapconv_pack (&s, w, packed);
          ss_tapconv_source (&s, in, y0, y1, src);
          ss_tapconv_offsets (&s, y1 - y0, off);
          ss_tapconv_rows (&s, packed, src, off, y0, y1, fast + (size_t) y0 * s.out_w,
                           (size_t) s.out_h * s.out_w);
          ss_ref_tapconv (&s, in, w, want);
          int bad = 0;
          for (int c = 0; c < s.out_c; c++)
            for (int y = 0; y < s.out_h; y++)
              {
                size_t at = ((size_t) c * s.out_h + y) * s.out_w;
                if (y >= y0 && y < y1)
                  bad += memcmp (fast + at, want + at, sizeof (float) * s.out_w) != 0;
                else
                  for (int x = 0; x < s.out_w; x++)
                    bad += fast[at + x] != -7.0f;
              }
          CHECK (bad == 0, "tapconv %s c %d %dx%d oc %d k %d stride %d pad %d rows %d-%d: %d rows differ",
                 kernels[kn], s.in_c, in_h, in_w, s.out_c, k, stride, pad, y0, y1, bad);
          checked++;
          free (in);
          free (w);
          free (packed);
          free (src);
          free (fast);
          free (want);
          free (off);
        }
      CHECK (checked >= 100 && narrow >= 20, "tapconv %s: only %d shapes checked, %d narrower than a vector",
             kernels[kn], checked, narrow);
      printf ("# tapconv %s: %d shapes, %d narrower than a vector\n", kernels[kn], checked, narrow);
    }
  ss_tapconv_select ("best");
}

/* Inference keeps a packed copy of the convolution weights (tapconv.c) between passes.
 * It must follow the weights: after training steps, and after swapping averaged weights
 * in and out, a model's predictions must be those of a fresh model given the same
 * weights. */
static void
check_packed_weights_follow (SsRng *rng)
{
  SsModelSpec spec = tiny_spec (SS_ARCH_RESNET18, 32, 16, 3);
  SsError error;
  SsModel *m = ss_model_new (&spec, 9, &error);
  const int n = 4;
  float x[4 * 3 * 32 * 32], before[4 * 3], after[4 * 3], fresh[4 * 3];
  int labels[4] = { 0, 1, 2, 1 };
  fill_random (x, sizeof x / sizeof x[0], rng, 1.0f);
  SsOptimConfig config;
  ss_optim_config_default (&config, SS_OPTIM_ADAM, 1e-2f);
  SsTrainer *trainer = ss_trainer_new (m, &config, n, &error);
  CHECK (trainer != NULL && ss_trainer_set_ema (trainer, 0.5f, &error) == SS_OK,
         "trainer: %s", error.message);
  for (int round = 0; round < 3; round++)
    {
      ss_model_predict (m, x, n, before, &error);
      if (round < 2)
        ss_trainer_step (trainer, x, labels, n, NULL);
      else
        ss_trainer_swap_ema (trainer);
      ss_model_predict (m, x, n, after, &error);
      SsModel *copy = ss_model_new (&spec, 9, &error);
      memcpy (copy->params, m->params, sizeof (float) * m->n_params);
      memcpy (copy->buffers, m->buffers, sizeof (float) * m->n_buffers);
      ss_model_predict (copy, x, n, fresh, &error);
      CHECK (memcmp (after, fresh, sizeof after) == 0,
             "round %d: predictions after the weights moved are not a fresh model's", round);
      CHECK (memcmp (before, after, sizeof after) != 0,
             "round %d: the weights did not move; the check proves nothing", round);
      ss_model_free (copy);
    }
  ss_trainer_free (trainer);
  ss_model_free (m);
}

int
main (void)
{
  SsRng rng;
  ss_rng_seed (&rng, 12345);
  /* fixed corner cases first: the msCNN's own layers, and 1x1, 7x7, stride 2 */
  check_conv_case (&rng, 2, 3, 128, 128, 32, 3, 1, true, true, true, 0);
  check_conv_case (&rng, 1, 32, 64, 64, 64, 3, 1, true, true, true, 0);
  check_conv_case (&rng, 3, 8, 9, 11, 5, 3, 1, true, true, false, 0);
  check_conv_case (&rng, 2, 8, 16, 16, 12, 1, 1, false, false, false, 3);
  check_conv_case (&rng, 2, 8, 16, 16, 12, 1, 2, false, false, false, 0);
  check_conv_case (&rng, 2, 3, 32, 32, 8, 7, 2, false, false, false, 5);
  check_conv_case (&rng, 2, 4, 15, 15, 6, 3, 2, true, false, false, 2);
  for (int i = 0; i < 60; i++)
    {
      static const int ks[3] = { 1, 3, 7 };
      int k = ks[ss_rng_below (&rng, 3)];
      int stride = 1 + (int) ss_rng_below (&rng, 2);
      int h = k + (int) ss_rng_below (&rng, 24), w = k + (int) ss_rng_below (&rng, 24);
      bool pool = stride == 1 && ss_rng_below (&rng, 2);
      if (pool)
        {
          h += h % 2;
          w += w % 2;
        }
      int band = (int) ss_rng_below (&rng, 6);
      if (pool && band % 2 == 1)
        band++;
      check_conv_case (&rng, 1 + (int) ss_rng_below (&rng, 3), 1 + (int) ss_rng_below (&rng, 6),
                       h, w, 1 + (int) ss_rng_below (&rng, 9), k, stride, ss_rng_below (&rng, 2),
                       ss_rng_below (&rng, 2), pool, band);
    }
  check_im2col_paths (&rng);
  check_tapconv (&rng);
  /* through the network (band split, epilogue) on shapes the tap kernels fit */
  check_conv_case (&rng, 3, 3, 64, 64, 16, 7, 2, false, false, false, 5);
  check_conv_case (&rng, 2, 16, 32, 32, 32, 3, 1, true, true, false, 7);
  check_conv_case (&rng, 2, 16, 32, 32, 32, 3, 2, true, false, false, 0);
  check_conv_case (&rng, 2, 8, 16, 32, 16, 1, 2, false, true, false, 3);
  check_conv_case (&rng, 5, 32, 16, 16, 64, 3, 2, false, true, false, 0);
  check_conv_case (&rng, 5, 64, 8, 8, 128, 3, 2, true, false, false, 0);
  check_conv_case (&rng, 5, 64, 4, 4, 128, 3, 1, false, true, false, 0);
  check_pool_argmax (&rng);
  check_dense (&rng);
  check_thread_invariance (&rng);
  check_packed_weights_follow (&rng);
  check_fused_norm (&rng, SS_ARCH_RESNET18, 64);
  check_fused_norm (&rng, SS_ARCH_RESNET50, 32);
  return test_summary ("test-engine-kernels");
}
