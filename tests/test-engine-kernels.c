/* The fast convolution (im2col + sgemm + fused bias/ReLU/pool epilogue, in bands) against
 * the plain-loop reference, on random shapes, strides, kernels and band sizes; the dense
 * layer likewise; the thread count must not change a forward pass, nor must carrying
 * batch norm in the convolution's epilogue. EfficientNet's layers (depthwise conv, SiLU,
 * squeeze and excitation, stochastic depth) and VGG's wide dense layers against their
 * plain-loop twins. */
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
  ss_graph_dense (m, g, 2, SS_ACT_NONE);
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
check_thread_invariance (SsRng *rng, SsArch arch)
{
  SsModelSpec spec = tiny_spec (arch, 32, arch == SS_ARCH_EFFICIENTNET_B0 ? 8 : 4, 4);
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
  CHECK (memcmp (p1, p2, sizeof p1) == 0, "%s: 1 and 2 threads give different predictions",
         ss_arch_name (arch));
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
  CHECK (m != NULL, "tiny %s: %s", ss_arch_name (arch), error.message);
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

/* One random shape's check of a tap kernel against its twin; false when the shape drawn
 * did not suit the kernel (nothing checked). */
typedef bool (*TapShapeCheck) (SsRng *rng, const char *kernel);

/* check on up to 100 random shapes with every tap kernel this CPU has */
static void
check_each_tap_kernel (SsRng *rng, const char *what, TapShapeCheck check)
{
  static const char *const kernels[] = { "avx512", "avx2" };
  for (int kn = 0; kn < 2; kn++)
    {
      if (!ss_tapconv_select (kernels[kn]))
        continue;
      int checked = 0;
      for (int trial = 0; trial < 400 && checked < 100; trial++)
        checked += check (rng, kernels[kn]);
      CHECK (checked >= 50, "tapconv %s %s: only %d shapes checked", kernels[kn], what, checked);
      printf ("# tapconv %s %s: %d shapes\n", kernels[kn], what, checked);
    }
  ss_tapconv_select ("best");
}

/* A stride-1 convolution's input gradient through the tap kernels (the filters turned
 * round and packed by ss_tapconv_pack_input_grad) against ss_ref_conv_input_grad, bit for
 * bit, on a random shape whose turned convolution the kernel fits. */
static bool
input_grad_shape_ok (SsRng *rng, const char *kernel)
{
  int nc, vl = ss_tapconv_vector (&nc);
  static const int ks[3] = { 3, 5, 7 };
  static const int in_cs[5] = { 4, 8, 16, 32, 64 };
  int k = ks[ss_rng_below (rng, 3)];
  int pad = ss_rng_below (rng, 4) == 0 ? 0 : k / 2;
  int in_w = ss_rng_below (rng, 2) ? vl * (1 + (int) ss_rng_below (rng, 3))
                                   : 4 * (1 + (int) ss_rng_below (rng, 2));
  SsConvShape s, t;
  ss_conv_shape_init (&s, in_cs[ss_rng_below (rng, 5)], k + (int) ss_rng_below (rng, 12), in_w,
                      1 + (int) ss_rng_below (rng, 20), k, 1, pad);
  if (s.out_w < 1 || s.out_h < 1)
    return false;
  CHECK (ss_tapconv_input_grad_shape (&s, &t) && t.in_c == s.out_c && t.out_c == s.in_c
           && t.out_h == s.in_h && t.out_w == s.in_w,
         "input gradient shape of c %d %dx%d oc %d k %d pad %d", s.in_c, s.in_h, s.in_w, s.out_c,
         k, pad);
  if (!ss_tapconv_fits (&t))
    return false;
  size_t in_n = (size_t) s.in_c * s.in_h * s.in_w, K = (size_t) ss_conv_k (&s);
  size_t out_n = (size_t) s.out_c * s.out_h * s.out_w;
  float *dout = malloc (sizeof (float) * out_n), *w = malloc (sizeof (float) * s.out_c * K);
  float *packed = malloc (sizeof (float) * ss_tapconv_packed_floats (&t));
  float *src = malloc (sizeof (float) * ss_tapconv_src_floats (&t));
  float *fast = malloc (sizeof (float) * in_n), *want = calloc (in_n, sizeof (float));
  int *off = malloc (sizeof (int) * ss_conv_k (&t));
  fill_random (dout, out_n, rng, 1.0f);
  fill_random (w, s.out_c * K, rng, 0.5f);
  ss_tapconv_pack_input_grad (&s, &t, w, packed, 0, ss_tapconv_pack_blocks (&t));
  ss_tapconv_source (&t, dout, 0, t.out_h, src);
  ss_tapconv_offsets (&t, t.out_h, off);
  ss_tapconv_rows (&t, packed, src, off, 0, t.out_h, fast, (size_t) t.out_h * t.out_w);
  ss_ref_conv_input_grad (&s, dout, w, want);
  CHECK (memcmp (fast, want, sizeof (float) * in_n) == 0,
         "tapconv %s input gradient c %d %dx%d oc %d k %d pad %d differs", kernel, s.in_c, s.in_h,
         s.in_w, s.out_c, k, pad);
  free (dout);
  free (w);
  free (packed);
  free (src);
  free (fast);
  free (want);
  free (off);
  return true;
}

/* The weight gradient through the tap kernels (ss_tapconv_weight_grad) against
 * ss_ref_conv_weight_grad, bit for bit, on a random shape (1x1 to 7x7, stride 1 or 2, 1
 * to 3 images), added to what the gradient held. */
static bool
weight_grad_shape_ok (SsRng *rng, const char *kernel)
{
  static const int ks[4] = { 1, 3, 5, 7 };
  static const int out_cs[4] = { 16, 32, 64, 128 };
  int k = ks[ss_rng_below (rng, 4)], stride = 1 + (int) ss_rng_below (rng, 2);
  int pad = ss_rng_below (rng, 4) == 0 ? 0 : k / 2;
  int n = 1 + (int) ss_rng_below (rng, 3);
  SsConvShape s;
  ss_conv_shape_init (&s, 1 + (int) ss_rng_below (rng, 9), k + (int) ss_rng_below (rng, 17),
                      k + (int) ss_rng_below (rng, 17), out_cs[ss_rng_below (rng, 4)], k, stride,
                      pad);
  if (s.out_w < 1 || s.out_h < 1 || !ss_tapconv_weight_grad_fits (&s))
    return false;
  const size_t in_n = (size_t) s.in_c * s.in_h * s.in_w, K = (size_t) ss_conv_k (&s);
  const size_t hw = (size_t) s.out_h * s.out_w, src_n = ss_tapconv_src_floats (&s);
  float *in = malloc (sizeof (float) * in_n * n);
  float *dout = malloc (sizeof (float) * s.out_c * hw * n);
  float *gathered = malloc (sizeof (float) * s.out_c * hw * n);
  float *turned = malloc (sizeof (float) * s.out_c * hw * n);
  float *src = malloc (sizeof (float) * src_n * n);
  float *fast = malloc (sizeof (float) * s.out_c * K), *want = malloc (sizeof (float) * s.out_c * K);
  int *off = malloc (sizeof (int) * K);
  fill_random (in, in_n * n, rng, 1.0f);
  fill_random (dout, s.out_c * hw * n, rng, 1.0f);
  fill_random (fast, s.out_c * K, rng, 0.1f);
  memcpy (want, fast, sizeof (float) * s.out_c * K);
  /* the images' gradients as the group backward gathers them: (out_c, n hw) */
  for (int b = 0; b < n; b++)
    {
      ss_tapconv_source (&s, in + b * in_n, 0, s.out_h, src + b * src_n);
      for (int c = 0; c < s.out_c; c++)
        memcpy (gathered + (size_t) c * n * hw + b * hw, dout + (b * (size_t) s.out_c + c) * hw,
                sizeof (float) * hw);
    }
  ss_tapconv_weight_grad_turn (&s, n, gathered, (size_t) n * hw, turned);
  ss_tapconv_offsets (&s, s.out_h, off);
  ss_tapconv_weight_grad (&s, src, src_n, n, off, turned, fast);
  ss_ref_conv_weight_grad (&s, n, in, dout, want);
  CHECK (memcmp (fast, want, sizeof (float) * s.out_c * K) == 0,
         "tapconv %s weight gradient c %d %dx%d oc %d k %d stride %d pad %d n %d differs", kernel,
         s.in_c, s.in_h, s.in_w, s.out_c, k, stride, pad, n);
  free (in);
  free (dout);
  free (gathered);
  free (turned);
  free (src);
  free (fast);
  free (want);
  free (off);
  return true;
}

/* The same through a training step of a network that trains on the tap kernels: the
 * input and weight gradients of the convolution under test (node 2 of conv_model)
 * against the references from its output gradient, at 1 and 2 threads, per image and
 * for grouped small maps; with ReLU, through its mask. */
static void
check_conv_input_grad_case (SsRng *rng, int n, int c, int hw, int out_c, bool relu)
{
  SsModel *m = conv_model (c, hw, hw, out_c, 3, 1, false, relu, false, 0, rng);
  m->train_taps = true;
  const SsNode *node = &m->nodes[2];
  SsConvShape t;
  if (!ss_tapconv_input_grad_shape (&node->conv, &t) || !ss_tapconv_fits (&t))
    {
      printf ("# input gradient %dx%d c %d oc %d: the kernels do not fit, not checked\n", hw, hw,
              c, out_c);
      ss_model_free (m);
      return;
    }
  size_t image = (size_t) 3 * hw * hw, in_n = (size_t) c * hw * hw;
  size_t out_n = (size_t) out_c * hw * hw;
  float *x = malloc (sizeof (float) * image * n), *dlogits = malloc (sizeof (float) * 2 * n);
  float *want = malloc (sizeof (float) * in_n), *dpre = malloc (sizeof (float) * out_n);
  const size_t w_len = node->w_len;
  float *want_w = malloc (sizeof (float) * w_len);
  fill_random (x, image * n, rng, 1.0f);
  fill_random (dlogits, 2 * (size_t) n, rng, 1.0f);
  for (int threads = 1; threads <= 2; threads++)
    {
      ss_engine_set_threads (threads);
      SsError error;
      if (ss_run_ensure (m, n, true, &error) != SS_OK)
        abort ();
      ss_run_forward (m, x, n, true);
      ss_run_backward (m, dlogits, n, true, -1);
      size_t s_in, s_out;
      const float *din = ss_run_node_grad (m, 1, &s_in);
      const float *dout = ss_run_node_grad (m, 2, &s_out);
      const float *out = ss_run_node_out (m, 2, &s_out);
      int bad = 0;
      memset (want_w, 0, sizeof (float) * w_len);
      for (int b = 0; b < n; b++)
        {
          for (size_t i = 0; i < out_n; i++)
            dpre[i] = relu && out[b * s_out + i] <= 0.0f ? 0.0f : dout[b * s_out + i];
          memset (want, 0, sizeof (float) * in_n);
          ss_ref_conv_input_grad (&node->conv, dpre, m->params + node->w_off, want);
          bad += memcmp (want, din + b * s_in, sizeof (float) * in_n) != 0;
          ss_ref_conv_weight_grad (&node->conv, 1, ss_run_node_out (m, 1, &s_in) + b * s_in, dpre,
                                   want_w);
        }
      CHECK (bad == 0, "input gradient %dx%d c %d oc %d relu %d group %d, %d threads: %d of %d images differ",
             hw, hw, c, out_c, relu, node->group, threads, bad, n);
      /* the weight gradient: summed per thread (and per group of small maps) before
       * the threads' sums are added, so within rounding of the reference */
      const float *dw = ss_run_param_grad (m) + node->w_off;
      double max_err = 0.0;
      for (size_t i = 0; i < w_len; i++)
        max_err = fmax (max_err, fabs ((double) dw[i] - want_w[i]) / (1.0 + fabs (want_w[i])));
      CHECK (max_err < 1e-5, "weight gradient %dx%d c %d oc %d relu %d, %d threads: max err %g", hw,
             hw, c, out_c, relu, threads, max_err);
    }
  ss_engine_set_threads (0);
  free (x);
  free (dlogits);
  free (want);
  free (want_w);
  free (dpre);
  ss_model_free (m);
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


/* ---- EfficientNet's layers ------------------------------------------------------------ */

/* dwconv.c's kernels against ss_ref_dwconv, bit for bit: every kernel this CPU has,
 * random planes (1 to 70 pixels a side, odd and even), 3x3 to 7x7, stride 1 and 2, the
 * scratch poisoned with NaN so that a float the kernel reads but nothing wrote shows in a
 * kept output. The backward against ss_ref_dwconv_backward (double) within 1e-4 of each
 * gradient's size. */
static void
check_dwconv_kernels (SsRng *rng)
{
  static const char *const kernels[] = { "avx512", "avx2", "plain" };
  for (int kn = 0; kn < 3; kn++)
    {
      if (!ss_dwconv_select (kernels[kn]))
        {
          printf ("# depthwise %s: this CPU has not got it, not checked\n", kernels[kn]);
          continue;
        }
      int checked = 0, strided = 0;
      double worst_back = 0.0;
      for (int trial = 0; trial < 120; trial++)
        {
          static const int ks[3] = { 3, 5, 7 };
          const int k = ks[ss_rng_below (rng, 3)], stride = 1 + (int) ss_rng_below (rng, 2);
          const int c = 1 + (int) ss_rng_below (rng, 3);
          const int h = 1 + (int) ss_rng_below (rng, 70), w = 1 + (int) ss_rng_below (rng, 70);
          SsConvShape s;
          ss_conv_shape_init (&s, c, h, w, c, k, stride, k / 2);
          if (s.out_h < 1 || s.out_w < 1)
            continue;
          const size_t in_n = (size_t) c * h * w, out_n = (size_t) c * s.out_h * s.out_w;
          const size_t scratch_n = ss_dwconv_scratch_floats (&s), taps = (size_t) k * k;
          float *in = malloc (sizeof (float) * in_n), *wt = malloc (sizeof (float) * c * taps);
          float *fast = malloc (sizeof (float) * out_n), *want = malloc (sizeof (float) * out_n);
          float *scratch = malloc (sizeof (float) * scratch_n);
          float *dout = malloc (sizeof (float) * out_n);
          float *din = calloc (in_n, sizeof (float)), *dw = calloc ((size_t) c * taps, sizeof (float));
          float *din_ref = malloc (sizeof (float) * in_n), *dw_ref = malloc (sizeof (float) * c * taps);
          fill_random (in, in_n, rng, 1.0f);
          fill_random (wt, (size_t) c * taps, rng, 0.5f);
          fill_random (dout, out_n, rng, 1.0f);
          int off[SS_DW_MAX_TAPS];
          ss_dwconv_offsets (&s, off);
          for (size_t i = 0; i < scratch_n; i++)
            scratch[i] = NAN;
          for (int ch = 0; ch < c; ch++)
            {
              int ld;
              const float *rows = ss_dwconv_plane (&s, in + (size_t) ch * h * w, wt + ch * taps,
                                                   off, scratch, &ld);
              for (int y = 0; y < s.out_h; y++)
                memcpy (fast + ((size_t) ch * s.out_h + y) * s.out_w, rows + (size_t) y * ld,
                        sizeof (float) * s.out_w);
            }
          ss_ref_dwconv (&s, in, wt, want);
          CHECK (memcmp (fast, want, sizeof (float) * out_n) == 0,
                 "depthwise %s c %d %dx%d k %d stride %d: not the reference's bits", kernels[kn],
                 c, h, w, k, stride);
          for (size_t i = 0; i < scratch_n; i++)
            scratch[i] = NAN;
          for (int ch = 0; ch < c; ch++)
            ss_dwconv_plane_backward (&s, in + (size_t) ch * h * w, wt + ch * taps,
                                      dout + (size_t) ch * s.out_h * s.out_w, off, scratch,
                                      dw + ch * taps, din + (size_t) ch * h * w);
          ss_ref_dwconv_backward (&s, in, wt, dout, din_ref, dw_ref);
          double scale_x = 1e-6, scale_w = 1e-6, err_x = 0.0, err_w = 0.0;
          for (size_t i = 0; i < in_n; i++)
            {
              scale_x = fmax (scale_x, fabs (din_ref[i]));
              err_x = fmax (err_x, fabs ((double) din[i] - din_ref[i]));
            }
          for (size_t i = 0; i < (size_t) c * taps; i++)
            {
              scale_w = fmax (scale_w, fabs (dw_ref[i]));
              err_w = fmax (err_w, fabs ((double) dw[i] - dw_ref[i]));
            }
          worst_back = fmax (worst_back, fmax (err_x / scale_x, err_w / scale_w));
          CHECK (err_x <= 1e-4 * scale_x && err_w <= 1e-4 * scale_w,
                 "depthwise backward c %d %dx%d k %d stride %d: input off by %g of %g, weights "
                 "by %g of %g", c, h, w, k, stride, err_x, scale_x, err_w, scale_w);
          checked++;
          strided += stride == 2;
          free (in);
          free (wt);
          free (fast);
          free (want);
          free (scratch);
          free (dout);
          free (din);
          free (dw);
          free (din_ref);
          free (dw_ref);
        }
      CHECK (checked >= 100 && strided >= 30, "depthwise %s: only %d shapes, %d strided",
             kernels[kn], checked, strided);
      printf ("# depthwise %s: %d shapes (%d with stride 2) the reference's bits; backward "
              "within %.1e of the gradients' size\n", kernels[kn], checked, strided, worst_back);
    }
  ss_dwconv_select ("best");
}

/* The depthwise backward gives the same bits on every kernel this CPU has (its loops'
 * contraction is off): random planes, each kernel against the plain one. */
static void
check_dwconv_backward_bits (SsRng *rng)
{
  static const char *const kernels[] = { "avx512", "avx2" };
  int compared = 0;
  for (int trial = 0; trial < 30; trial++)
    {
      const int k = 3 + 2 * (int) ss_rng_below (rng, 2), stride = 1 + (int) ss_rng_below (rng, 2);
      const int h = 1 + (int) ss_rng_below (rng, 40), w = 1 + (int) ss_rng_below (rng, 40);
      SsConvShape s;
      ss_conv_shape_init (&s, 1, h, w, 1, k, stride, k / 2);
      const size_t in_n = (size_t) h * w, out_n = (size_t) s.out_h * s.out_w;
      float *in = malloc (sizeof (float) * in_n), *dout = malloc (sizeof (float) * out_n);
      float *scratch = malloc (sizeof (float) * ss_dwconv_scratch_floats (&s));
      float wt[25], dw_plain[25], dw_k[25];
      float *din_plain = malloc (sizeof (float) * in_n), *din_k = malloc (sizeof (float) * in_n);
      int off[SS_DW_MAX_TAPS];
      fill_random (in, in_n, rng, 1.0f);
      fill_random (dout, out_n, rng, 1.0f);
      fill_random (wt, (size_t) k * k, rng, 0.5f);
      ss_dwconv_offsets (&s, off);
      ss_dwconv_select ("plain");
      memset (dw_plain, 0, sizeof dw_plain);
      memset (din_plain, 0, sizeof (float) * in_n);
      ss_dwconv_plane_backward (&s, in, wt, dout, off, scratch, dw_plain, din_plain);
      for (int kn = 0; kn < 2; kn++)
        {
          if (!ss_dwconv_select (kernels[kn]))
            continue;
          memset (dw_k, 0, sizeof dw_k);
          memset (din_k, 0, sizeof (float) * in_n);
          ss_dwconv_plane_backward (&s, in, wt, dout, off, scratch, dw_k, din_k);
          CHECK (memcmp (dw_k, dw_plain, sizeof (float) * k * k) == 0
                   && memcmp (din_k, din_plain, sizeof (float) * in_n) == 0,
                 "depthwise backward %s %dx%d k %d stride %d: not the plain kernel's bits",
                 kernels[kn], h, w, k, stride);
          compared++;
        }
      free (in);
      free (dout);
      free (scratch);
      free (din_plain);
      free (din_k);
    }
  ss_dwconv_select ("best");
  printf ("# depthwise backward: %d planes the plain kernel's bits\n", compared);
}

/* ss_exp and SiLU against libm's exp over the range the clamp keeps (relative error), and
 * past it (SiLU of -87 and below is within 1e-30 of 0); the SiLU's derivative against the
 * derivative written out in double. */
static void
check_silu (void)
{
  double worst_exp = 0.0, worst_silu = 0.0, worst_grad = 0.0;
  int far = 0;
  for (double x = -100.0; x <= 100.0; x += 0.0037)
    {
      const float xf = (float) x;
      if (xf >= -87.0f && xf <= 88.0f)
        worst_exp = fmax (worst_exp, fabs (ss_exp (xf) - exp (xf)) / exp (xf));
      const double want = ss_ref_silu (xf);
      if (xf >= -87.0f)
        worst_silu = fmax (worst_silu, fabs (ss_silu (xf) - want) / fabs (want));
      else
        far += fabs (ss_silu (xf)) > 1e-30;
      const double s = 1.0 / (1.0 + exp (-(double) xf));
      worst_grad = fmax (worst_grad, fabs (ss_silu_grad (xf) - s * (1.0 + xf * (1.0 - s))));
    }
  /* float has 6e-8 per ulp: a few ulp */
  CHECK (worst_exp < 4e-7 && worst_silu < 4e-7 && worst_grad < 2e-6 && far == 0,
         "exp off by %g, SiLU by %g (relative), its derivative by %g; %d far out", worst_exp,
         worst_silu, worst_grad, far);
  CHECK (ss_silu (200.0f) == 200.0f && ss_sigmoid (-200.0f) >= 0.0f && ss_sigmoid (200.0f) == 1.0f,
         "SiLU far out: %g, sigmoid %g, %g", ss_silu (200.0f), ss_sigmoid (-200.0f),
         ss_sigmoid (200.0f));
  printf ("# exp within %.1e, SiLU within %.1e of libm; its derivative within %.1e\n", worst_exp,
          worst_silu, worst_grad);
}

/* se.c against the plain loops in double: forward within 1e-5 and both gradients within
 * 1e-4 of their size, on random sizes. */
static void
check_se (SsRng *rng)
{
  double worst_f = 0.0, worst_b = 0.0;
  for (int trial = 0; trial < 40; trial++)
    {
      const int c = 1 + (int) ss_rng_below (rng, 40), q = 1 + (int) ss_rng_below (rng, 10);
      const size_t hw = 1 + ss_rng_below (rng, 70), np = ss_se_params (c, q);
      const size_t n = (size_t) c * hw;
      float *params = malloc (sizeof (float) * np), *x = malloc (sizeof (float) * n);
      float *y = malloc (sizeof (float) * n), *y_ref = malloc (sizeof (float) * n);
      float *dy = malloc (sizeof (float) * n), *dx = calloc (n, sizeof (float));
      float *dx_ref = malloc (sizeof (float) * n), *dp = calloc (np, sizeof (float));
      float *dp_ref = malloc (sizeof (float) * np);
      float *state = malloc (sizeof (float) * (2 * c + 2 * q));
      float *scratch = malloc (sizeof (float) * (2 * c + q));
      fill_random (params, np, rng, 1.0f);
      fill_random (x, n, rng, 2.0f);
      fill_random (dy, n, rng, 1.0f);
      ss_se_forward (c, q, hw, params, x, y, state);
      ss_ref_se_forward (c, q, hw, params, x, y_ref);
      double err = 0.0, size = 1e-6;
      for (size_t i = 0; i < n; i++)
        {
          err = fmax (err, fabs ((double) y[i] - y_ref[i]));
          size = fmax (size, fabs (y_ref[i]));
        }
      worst_f = fmax (worst_f, err / size);
      CHECK (err <= 1e-5 * size, "SE c %d q %d hw %zu: forward off by %g of %g", c, q, hw, err,
             size);
      ss_se_backward (c, q, hw, params, x, dy, state, dp, dx, scratch);
      ss_ref_se_backward (c, q, hw, params, x, dy, dp_ref, dx_ref);
      double err_x = 0.0, size_x = 1e-6, err_p = 0.0, size_p = 1e-6;
      for (size_t i = 0; i < n; i++)
        {
          err_x = fmax (err_x, fabs ((double) dx[i] - dx_ref[i]));
          size_x = fmax (size_x, fabs (dx_ref[i]));
        }
      for (size_t i = 0; i < np; i++)
        {
          err_p = fmax (err_p, fabs ((double) dp[i] - dp_ref[i]));
          size_p = fmax (size_p, fabs (dp_ref[i]));
        }
      worst_b = fmax (worst_b, fmax (err_x / size_x, err_p / size_p));
      CHECK (err_x <= 1e-4 * size_x && err_p <= 1e-4 * size_p,
             "SE c %d q %d hw %zu: input gradient off by %g of %g, parameters' by %g of %g", c, q,
             hw, err_x, size_x, err_p, size_p);
      free (params);
      free (x);
      free (y);
      free (y_ref);
      free (dy);
      free (dx);
      free (dx_ref);
      free (dp);
      free (dp_ref);
      free (state);
      free (scratch);
    }
  printf ("# squeeze and excitation within %.1e (forward), %.1e (backward)\n", worst_f, worst_b);
}

/* A tiny EfficientNet in training: every norm against ss_ref_bn_train (batch statistics,
 * SiLU, residual and the branch's stochastic depth) within 1e-4; a dropped branch leaves
 * exactly the residual; the draws are 0 or 1 / (1 - p), about p of them 0 over many
 * seeds, the same for a seed, other for another; the training pass is the same on 1 and
 * 2 threads; inference ignores the drops. */
static void
check_stochastic_depth (SsRng *rng)
{
  const int n = 16, size = 32, k = 3;
  SsModelSpec spec = tiny_spec (SS_ARCH_EFFICIENTNET_B0, size, 8, k);
  SsError error;
  SsModel *m = ss_model_new (&spec, 5, &error);
  CHECK (m != NULL, "tiny EfficientNet: %s", error.message);
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == SS_OP_BN)
      {
        fill_random (m->params + m->nodes[i].w_off, m->nodes[i].w_len, rng, 1.0f);
        fill_random (m->params + m->nodes[i].b_off, m->nodes[i].b_len, rng, 0.3f);
      }
  const size_t image = (size_t) 3 * size * size;
  float *x = malloc (sizeof (float) * image * n);
  fill_random (x, image * n, rng, 1.0f);
  ss_run_ensure (m, n, true, &error);

  double expected = 0.0, worst = 0.0;
  int dropped = 0, draws = 0, norms = 0, odd = 0, not_residual = 0;
  float first[16 * 3], again[16 * 3], other[16 * 3], one_thread[16 * 3];
  for (int seed = 0; seed < 20; seed++)
    {
      m->draw_seed = (uint64_t) seed;
      ss_run_forward (m, x, n, true);
      if (seed == 0)
        memcpy (first, ss_run_output (m), sizeof first);
      if (seed == 1)
        memcpy (other, ss_run_output (m), sizeof other);
      for (int i = 0; i < m->n_nodes; i++)
        {
          const SsNode *nd = &m->nodes[i];
          if (nd->kind != SS_OP_BN)
            continue;
          const float *keep = ss_run_drop_scale (m, i);
          CHECK ((keep != NULL) == (nd->drop > 0.0f), "node %d: drop %g but %s draws", i,
                 nd->drop, keep != NULL ? "has" : "no");
          size_t sx, sy, sr = 0;
          const float *in = ss_run_node_out (m, nd->inputs[0], &sx);
          const float *out = ss_run_node_out (m, i, &sy);
          const float *res = nd->residual >= 0 ? ss_run_node_out (m, nd->residual, &sr) : NULL;
          const size_t hw = (size_t) nd->h * nd->w, plane = (size_t) nd->c * hw;
          for (int b = 0; keep != NULL && b < n; b++)
            {
              draws++;
              expected += nd->drop;
              dropped += keep[b] == 0.0f;
              odd += keep[b] != 0.0f && keep[b] != 1.0f / (1.0f - nd->drop);
              if (keep[b] == 0.0f)
                not_residual += memcmp (out + b * sy, res + b * sr, sizeof (float) * plane) != 0;
            }
          if (seed > 2)
            continue;
          /* the reference reads images packed one after another */
          float *xs = malloc (sizeof (float) * plane * n), *rs = malloc (sizeof (float) * plane * n);
          float *want = malloc (sizeof (float) * plane * n);
          for (int b = 0; b < n; b++)
            {
              memcpy (xs + b * plane, in + b * sx, sizeof (float) * plane);
              if (res != NULL)
                memcpy (rs + b * plane, res + b * sr, sizeof (float) * plane);
            }
          ss_ref_bn_train (xs, n, nd->c, hw, m->params + nd->w_off, m->params + nd->b_off,
                           res != NULL ? rs : NULL, keep, nd->act, want);
          double err = 0.0, scale = 1e-6;
          for (int b = 0; b < n; b++)
            for (size_t j = 0; j < plane; j++)
              {
                err = fmax (err, fabs ((double) out[b * sy + j] - want[b * plane + j]));
                scale = fmax (scale, fabs (want[b * plane + j]));
              }
          worst = fmax (worst, err / scale);
          CHECK (err <= 1e-4 * scale, "norm %d (act %d, residual %d, drop %g): off by %g of %g",
                 i, nd->act, nd->residual, nd->drop, err, scale);
          norms++;
          free (xs);
          free (rs);
          free (want);
        }
    }
  CHECK (odd == 0 && not_residual == 0, "%d draws neither 0 nor 1 / (1 - p); %d dropped "
         "branches not the residual", odd, not_residual);
  /* binomial: the count within 4 standard deviations of its mean */
  CHECK (fabs (dropped - expected) < 4.0 * sqrt (expected) && dropped > 0,
         "%d of %d branches dropped, %.1f expected", dropped, draws, expected);
  m->draw_seed = 0;
  ss_run_forward (m, x, n, true);
  memcpy (again, ss_run_output (m), sizeof again);
  ss_engine_set_threads (1);
  ss_run_forward (m, x, n, true);
  memcpy (one_thread, ss_run_output (m), sizeof one_thread);
  ss_engine_set_threads (0);
  CHECK (memcmp (first, again, sizeof first) == 0, "one seed, two draws");
  CHECK (memcmp (first, other, sizeof first) != 0, "two seeds, one draw");
  CHECK (memcmp (first, one_thread, sizeof first) == 0, "a training pass differs on 1 thread");

  /* inference: no branch dropped, whatever the seed or the rates */
  float p_drop[16 * 3], p_none[16 * 3];
  m->draw_seed = 77;
  ss_model_predict (m, x, n, p_drop, &error);
  for (int i = 0; i < m->n_nodes; i++)
    m->nodes[i].drop = 0.0f;
  ss_model_predict (m, x, n, p_none, &error);
  CHECK (memcmp (p_drop, p_none, sizeof p_drop) == 0, "inference drops branches");
  printf ("# stochastic depth: %d of %d branches dropped (%.1f expected); %d norms within %.1e "
          "of the reference\n", dropped, draws, expected, norms, worst);
  free (x);
  ss_model_free (m);
}

/* Wide dense layers (one GEMM per block of outputs over the batch) give what the
 * per-image GEMV gives within 1e-5, the same bits on 1 and 2 threads, and ReLU where
 * asked; checked on VGG16's dense layers with every one made wide. */
static void
check_dense_wide (SsRng *rng)
{
  SsModelSpec spec = tiny_spec (SS_ARCH_VGG16, 32, 8, 3);
  SsError error;
  SsModel *m = ss_model_new (&spec, 4, &error);
  const int n = 5;
  float *x = malloc (sizeof (float) * 3 * 32 * 32 * n);
  float p_narrow[5 * 3], p_wide[5 * 3], p_wide1[5 * 3];
  fill_random (x, 3 * 32 * 32 * n, rng, 1.0f);
  int dense = 0;
  ss_model_predict (m, x, n, p_narrow, &error);
  for (int i = 0; i < m->n_nodes; i++)
    if (m->nodes[i].kind == SS_OP_DENSE)
      {
        CHECK (!m->nodes[i].wide, "a tiny dense layer is wide");
        m->nodes[i].wide = true;
        dense++;
      }
  ss_model_predict (m, x, n, p_wide, &error);
  ss_engine_set_threads (1);
  ss_model_predict (m, x, n, p_wide1, &error);
  ss_engine_set_threads (0);
  double worst = 0.0;
  for (int i = 0; i < n * 3; i++)
    worst = fmax (worst, fabs (p_narrow[i] - p_wide[i]));
  CHECK (dense == 3 && worst < 1e-5, "wide dense layers: %d, off by %g", dense, worst);
  CHECK (memcmp (p_wide, p_wide1, sizeof p_wide) == 0, "wide dense layers differ on 1 thread");
  /* the first hidden layer against the plain loops, ReLU applied */
  const int d1 = m->n_nodes - 3;
  const SsNode *nd = &m->nodes[d1];
  size_t sx, sy;
  const float *in = ss_run_node_out (m, nd->inputs[0], &sx);
  const float *out = ss_run_node_out (m, d1, &sy);
  const int n_in = (int) (nd->w_len / nd->b_len);
  float *want = malloc (sizeof (float) * nd->c), *xs = malloc (sizeof (float) * n_in);
  int positive = 0;
  worst = 0.0;
  for (int b = 0; b < n; b++)
    {
      memcpy (xs, in + b * sx, sizeof (float) * n_in);
      ss_ref_dense (xs, m->params + nd->w_off, m->params + nd->b_off, 1, n_in, nd->c, want);
      ss_ref_relu (want, nd->c);
      for (int o = 0; o < nd->c; o++)
        {
          worst = fmax (worst, fabs (want[o] - out[b * sy + o]));
          positive += want[o] > 0.0f;
        }
    }
  CHECK (worst < 1e-4 && positive > 0 && positive < n * nd->c,
         "wide dense + ReLU off the reference by %g (%d outputs above 0)", worst, positive);
  free (want);
  free (xs);
  free (x);
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
  check_each_tap_kernel (&rng, "input gradient", input_grad_shape_ok);
  check_each_tap_kernel (&rng, "weight gradient", weight_grad_shape_ok);
  check_conv_input_grad_case (&rng, 3, 16, 32, 32, false);
  check_conv_input_grad_case (&rng, 2, 32, 16, 16, true);
  check_conv_input_grad_case (&rng, 5, 64, 8, 32, false);
  check_conv_input_grad_case (&rng, 5, 64, 4, 64, true);
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
  check_thread_invariance (&rng, SS_ARCH_RESNET18);
  check_thread_invariance (&rng, SS_ARCH_EFFICIENTNET_B0);
  check_thread_invariance (&rng, SS_ARCH_VGG16);
  check_packed_weights_follow (&rng);
  check_fused_norm (&rng, SS_ARCH_RESNET18, 64);
  check_fused_norm (&rng, SS_ARCH_RESNET50, 32);
  check_fused_norm (&rng, SS_ARCH_EFFICIENTNET_B0, 64);
  check_fused_norm (&rng, SS_ARCH_VGG16_BN, 32);
  check_dwconv_kernels (&rng);
  check_dwconv_backward_bits (&rng);
  check_silu ();
  check_se (&rng);
  check_stochastic_depth (&rng);
  check_dense_wide (&rng);
  return test_summary ("test-engine-kernels");
}
