/* Test-time views and ensembles: their probabilities are the mean over the turned and
 * mirrored images and over the members (checked against the networks run one image at a
 * time on views made here), and with views only below a confidence, the unsure images
 * get every view and the sure ones keep their first; the SSE1 file keeps members, views,
 * that confidence and description; bad combinations and damaged files are refused with a
 * message naming the fault. */
#include "engine-test-util.h"

#include <unistd.h>

#define SIZE 32
#define K    3

/* The image turned a quarter turn clockwise `turns` times, then mirrored if asked:
 * written here independently of ensemble.c (the mean over the whole set of 8, 4 or 2
 * views does not depend on the order they are taken in). */
static void
make_view (const float *src, float *dst, int turns, int mirror)
{
  float a[3 * SIZE * SIZE], b[3 * SIZE * SIZE];
  memcpy (a, src, sizeof a);
  for (int t = 0; t < turns; t++)
    {
      for (int c = 0; c < 3; c++)
        for (int y = 0; y < SIZE; y++)
          for (int x = 0; x < SIZE; x++)  /* clockwise: new (y, x) = old (SIZE-1-x, y) */
            b[(c * SIZE + y) * SIZE + x] = a[(c * SIZE + (SIZE - 1 - x)) * SIZE + y];
      memcpy (a, b, sizeof a);
    }
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < SIZE; y++)
      for (int x = 0; x < SIZE; x++)
        dst[(c * SIZE + y) * SIZE + x] = a[(c * SIZE + y) * SIZE + (mirror ? SIZE - 1 - x : x)];
}

/* Mean probabilities of `net` (views 1) over the views of image x. */
static void
expected_views (SsModel *net, const float *x, int views, float *out)
{
  float view[3 * SIZE * SIZE], p[K];
  int n = 0;
  memset (out, 0, sizeof (float) * K);
  for (int mirror = 0; mirror < 2; mirror++)
    for (int turns = 0; turns < 4; turns++)
      {
        int use = views == 8 || (views == 4 && !mirror) || (views == 2 && turns == 0)
                  || (views == 1 && turns == 0 && !mirror);
        if (!use)
          continue;
        make_view (x, view, turns, mirror);
        SsError e;
        if (ss_model_predict (net, view, 1, p, &e) != SS_OK)
          abort ();
        for (int c = 0; c < K; c++)
          out[c] += p[c];
        n++;
      }
  for (int c = 0; c < K; c++)
    out[c] /= (float) n;
}

/* The little-endian u32 at byte `at` of a file (0 if unreadable). */
static uint32_t
read_u32_at (const char *path, size_t at)
{
  size_t n = 0;
  unsigned char *b = read_all (path, &n);
  uint32_t v = b != NULL && n >= at + 4
                 ? (uint32_t) b[at] | (uint32_t) b[at + 1] << 8 | (uint32_t) b[at + 2] << 16
                     | (uint32_t) b[at + 3] << 24
                 : 0;
  free (b);
  return v;
}

static float
max_diff (const float *a, const float *b, int n)
{
  float d = 0.0f;
  for (int i = 0; i < n; i++)
    d = fmaxf (d, fabsf (a[i] - b[i]));
  return d;
}


int
main (void)
{
  SsError e;
  SsRng rng;
  ss_rng_seed (&rng, 7);
  enum { N = 5 };
  static float x[N * 3 * SIZE * SIZE];
  for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
    x[i] = ss_rng_uniform (&rng);

  SsModelSpec s18 = tiny_spec (SS_ARCH_RESNET18, SIZE, 4, K);
  SsModelSpec sms = tiny_spec (SS_ARCH_MSCNN, SIZE, 4, K);
  sms.mean[0] = 0.3f;  /* members keep their own normalisation */

  /* ---- views of one network ---- */
  SsModel *net = ss_model_new (&s18, 11, &e);
  /* make the weights asymmetric enough that the views differ */
  for (size_t i = 0; i < net->n_params; i++)
    net->params[i] += 0.05f * (2.0f * ss_rng_uniform (&rng) - 1.0f);
  const int views_list[] = { 1, 2, 4, 8 };
  float got[N * K], want[K], plain[K];
  for (int v = 0; v < 4; v++)
    {
      const int views = views_list[v];
      CHECK (ss_model_set_views (net, views, &e) == SS_OK, "views %d: %s", views, e.message);
      CHECK (ss_model_predict (net, x, N, got, &e) == SS_OK, "predict: %s", e.message);
      ss_model_set_views (net, 1, NULL);
      for (int i = 0; i < N; i++)
        {
          expected_views (net, x + (size_t) i * 3 * SIZE * SIZE, views, want);
          CHECK (max_diff (got + i * K, want, K) < 1e-5f, "views %d, image %d: %g off", views,
                 i, (double) max_diff (got + i * K, want, K));
        }
    }
  /* the views must matter, or the check above proves nothing */
  expected_views (net, x, 8, want);
  expected_views (net, x, 1, plain);
  CHECK (max_diff (want, plain, K) > 1e-4f, "8 views gave the plain probabilities");
  CHECK (ss_model_set_views (net, 3, &e) == SS_ERR_ARG && strstr (e.message, "1, 2, 4 or 8"),
         "3 views accepted");

  /* views only below a confidence: an image whose first view is that sure keeps it, the
   * others get every view; the threshold sits between the images' first-view tops */
  float tops[N];
  for (int i = 0; i < N; i++)
    {
      expected_views (net, x + (size_t) i * 3 * SIZE * SIZE, 1, plain);
      tops[i] = fmaxf (plain[0], fmaxf (plain[1], plain[2]));
    }
  float sorted[N];
  memcpy (sorted, tops, sizeof sorted);
  for (int i = 0; i < N; i++)
    for (int j = i + 1; j < N; j++)
      if (sorted[j] < sorted[i])
        {
          float t = sorted[i];
          sorted[i] = sorted[j];
          sorted[j] = t;
        }
  const float below = 0.5f * (sorted[N / 2] + sorted[N / 2 + 1]);
  CHECK (sorted[N / 2] < sorted[N / 2 + 1], "first-view tops tie; pick other weights");
  CHECK (ss_model_set_views (net, 8, &e) == SS_OK
           && ss_model_set_views_below (net, below, &e) == SS_OK,
         "views below: %s", e.message);
  CHECK (ss_model_predict (net, x, N, got, &e) == SS_OK, "predict: %s", e.message);
  ss_model_set_views (net, 1, NULL);
  int looked = 0;
  for (int i = 0; i < N; i++)
    {
      const float *xi = x + (size_t) i * 3 * SIZE * SIZE;
      expected_views (net, xi, tops[i] < below ? 8 : 1, want);
      looked += tops[i] < below;
      CHECK (max_diff (got + i * K, want, K) < 1e-5f, "views below %g, image %d (top %g): %g off",
             (double) below, i, (double) tops[i], (double) max_diff (got + i * K, want, K));
    }
  CHECK (looked > 0 && looked < N, "%d of %d images below the threshold", looked, N);
  CHECK (ss_model_set_views_below (net, 1.5f, &e) == SS_ERR_ARG
           && ss_model_set_views_below (net, -0.1f, &e) == SS_ERR_ARG,
         "a confidence outside 0..1 accepted");
  ss_model_set_views_below (net, 0, NULL);

  /* a non-square input takes mirrors but not quarter turns */
  SsModelSpec wide = tiny_spec (SS_ARCH_RESNET18, SIZE, 4, K);
  wide.in_w = SIZE + 32;
  SsModel *wide_net = ss_model_new (&wide, 3, &e);
  CHECK (ss_model_set_views (wide_net, 2, &e) == SS_OK, "2 views refused on a wide input");
  CHECK (ss_model_set_views (wide_net, 8, &e) == SS_ERR_ARG && strstr (e.message, "square"),
         "8 views accepted on a wide input");

  /* ---- an ensemble ---- */
  SsModel *a = ss_model_new (&s18, 21, &e), *b = ss_model_new (&sms, 22, &e);
  ss_model_set_training_info (a, "member a");
  float pa[N * K], pb[N * K];
  ss_model_predict (a, x, N, pa, &e);
  ss_model_predict (b, x, N, pb, &e);
  SsModel *members[2] = { a, b };
  SsModel *ens = ss_ensemble_new (members, 2, &e);
  CHECK (ens != NULL, "ensemble: %s", e.message);
  CHECK (ss_model_spec (ens)->arch == SS_ARCH_ENSEMBLE && ss_model_n_members (ens) == 2,
         "ensemble spec");
  CHECK (ss_model_n_params (ens) == a->n_params + b->n_params, "parameter count");
  ss_model_predict (ens, x, N, got, &e);
  float worst = 0.0f;
  for (int i = 0; i < N * K; i++)
    worst = fmaxf (worst, fabsf (got[i] - 0.5f * (pa[i] + pb[i])));
  CHECK (worst < 1e-6f, "ensemble is not the mean of its members (%g off)", (double) worst);

  /* Grad-CAM: one map at input resolution, peak 1 */
  float *map = NULL, prob = 0.0f;
  int mh = 0, mw = 0;
  CHECK (ss_model_gradcam (ens, x, 1, &map, &mh, &mw, &prob, &e) == SS_OK, "gradcam: %s",
         e.message);
  if (map != NULL)
    {
      float top = 0.0f;
      for (int i = 0; i < mh * mw; i++)
        top = fmaxf (top, map[i]);
      CHECK (mh == SIZE && mw == SIZE && (top == 1.0f || top == 0.0f) && prob > 0.0f,
             "ensemble Grad-CAM %dx%d, peak %g, prob %g", mw, mh, (double) top, (double) prob);
      free (map);
    }
  SsOptimConfig oc;
  ss_optim_config_default (&oc, SS_OPTIM_ADAM, 1e-3f);
  CHECK (ss_trainer_new (ens, &oc, 4, &e) == NULL && strstr (e.message, "ensemble"),
         "an ensemble was given a trainer");

  /* members that do not fit together */
  SsModelSpec other_classes = s18;
  snprintf (other_classes.class_names[1], SS_NAME_LEN, "neutrophil");
  SsModel *c1 = ss_model_new (&other_classes, 1, &e), *c2 = ss_model_new (&s18, 2, &e);
  SsModel *pair[2] = { c2, c1 };
  CHECK (ss_ensemble_new (pair, 2, &e) == NULL && strstr (e.message, "neutrophil"),
         "members with different classes accepted");
  pair[1] = wide_net;
  CHECK (ss_ensemble_new (pair, 2, &e) == NULL && strstr (e.message, "takes"),
         "members with different input sizes accepted");
  pair[1] = ens;
  CHECK (ss_ensemble_new (pair, 2, &e) == NULL && strstr (e.message, "itself an ensemble"),
         "an ensemble accepted as a member");
  SsModelSpec area = s18;
  area.resample = SS_RESAMPLE_AREA;
  SsModel *c3 = ss_model_new (&area, 3, &e);
  pair[1] = c3;
  CHECK (ss_ensemble_new (pair, 2, &e) == NULL && strstr (e.message, "resamples"),
         "members trained on differently resampled images accepted");
  ss_model_free (c3);
  /* another camera colour target: refused; another crop stretch: each member's own */
  SsModelSpec camera = s18;
  camera.camera_colour[0] = camera.camera_colour[1] = camera.camera_colour[2] = 0.7f;
  camera.camera_colour[3] = camera.camera_colour[4] = camera.camera_colour[5] = 0.2f;
  SsModel *c4 = ss_model_new (&camera, 3, &e);
  pair[1] = c4;
  CHECK (ss_ensemble_new (pair, 2, &e) == NULL && strstr (e.message, "colours"),
         "members with different camera colour targets accepted");
  ss_model_free (c4);
  SsModelSpec stretched = s18;
  stretched.crop_stretch = 0.01f;
  SsModel *mixed_pair[2] = { ss_model_new (&s18, 2, &e), ss_model_new (&stretched, 3, &e) };
  SsModel *mixed = ss_ensemble_new (mixed_pair, 2, &e);  /* owns both */
  CHECK (mixed != NULL, "members with different crop stretches refused: %s", e.message);
  ss_model_free (mixed);
  ss_model_free (c1);
  ss_model_free (c2);

  /* ---- the file ---- */
  char dir[] = "/tmp/ss-ensemble-XXXXXX";
  if (mkdtemp (dir) == NULL)
    return 1;
  char path[300], single[300];
  snprintf (path, sizeof path, "%s/e.ssm", dir);
  snprintf (single, sizeof single, "%s/s.ssm", dir);
  ss_model_set_views (ens, 4, NULL);
  ss_model_set_training_info (ens, "{\"members\": 2}");
  float ens_probs[N * K], back_probs[N * K];
  ss_model_predict (ens, x, N, ens_probs, &e);
  CHECK (ss_model_save (ens, path, SS_STORE_F32, &e) == SS_OK, "save: %s", e.message);
  SsModel *back = ss_model_load (path, &e);
  CHECK (back != NULL, "load: %s", e.message);
  if (back != NULL)
    {
      CHECK (ss_model_n_members (back) == 2 && ss_model_views (back) == 4, "members %d, views %d",
             ss_model_n_members (back), ss_model_views (back));
      CHECK (strcmp (ss_model_training_info (back), "{\"members\": 2}") == 0,
             "ensemble description lost");
      CHECK (strcmp (ss_model_training_info (ss_model_member (back, 0)), "member a") == 0,
             "member description lost");
      CHECK (ss_model_spec (ss_model_member (back, 1))->mean[0] == 0.3f,
             "member normalisation lost");
      ss_model_predict (back, x, N, back_probs, &e);
      CHECK (memcmp (back_probs, ens_probs, sizeof back_probs) == 0,
             "the loaded ensemble predicts differently");
      ss_model_free (back);
    }
  /* one network with views: saved as SSE1, loads as that network with its views */
  ss_model_set_views (net, 8, NULL);
  ss_model_set_training_info (net, "single");
  CHECK (ss_model_save (net, single, SS_STORE_F16, &e) == SS_OK, "save single: %s", e.message);
  back = ss_model_load (single, &e);
  CHECK (back != NULL && ss_model_n_members (back) == 0 && ss_model_views (back) == 8
           && strcmp (ss_model_training_info (back), "single") == 0,
         "a network with views did not come back as itself");
  ss_model_free (back);
  /* with views only below a confidence: format version 2, the threshold kept; without it
   * the file stays version 1, as files written before it */
  CHECK (read_u32_at (single, 4) == 1, "a file without views-below is not version 1");
  ss_model_set_views_below (net, 0.9f, NULL);
  CHECK (ss_model_save (net, single, SS_STORE_F32, &e) == SS_OK, "save: %s", e.message);
  CHECK (read_u32_at (single, 4) == 2 && read_u32_at (single, 28) == 900000,
         "views-below not written as version 2, 900000 millionths");
  back = ss_model_load (single, &e);
  CHECK (back != NULL && ss_model_views (back) == 8 && ss_model_views_below (back) == 0.9f,
         "views-below did not come back: %s", back ? "wrong value" : e.message);
  if (back != NULL)
    {
      float before[N * K], after[N * K];
      ss_model_predict (net, x, N, before, &e);
      ss_model_predict (back, x, N, after, &e);
      CHECK (max_diff (before, after, N * K) == 0.0f, "the loaded model looks again elsewhere");
    }
  ss_model_free (back);
  ss_model_set_views_below (net, 0, NULL);

  /* damage: truncation, flipped bits, trailing bytes, a bad member behind a good CRC */
  size_t n = 0;
  unsigned char *bytes = read_all (path, &n);
  const size_t cuts[] = { 3, 20, 31, 40, n / 2, n - 1 };
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
    {
      back = ss_model_load_from_memory (bytes, cuts[i], &e);
      CHECK (back == NULL && (strstr (e.message, "truncated") || strstr (e.message, "not a")),
             "cut at %zu: %s", cuts[i], back ? "loaded" : e.message);
      ss_model_free (back);
    }
  for (int i = 0; i < 200; i++)
    {
      size_t at = 4 + ss_rng_below (&rng, (uint32_t) (n - 4));
      bytes[at] ^= (unsigned char) (1u << ss_rng_below (&rng, 8));
      back = ss_model_load_from_memory (bytes, n, &e);
      CHECK (back == NULL, "flipped byte %zu loaded", at);
      ss_model_free (back);
      free (bytes);  /* back to the file as saved */
      bytes = read_all (path, &n);
    }
  unsigned char *longer = malloc (n + 3);
  memcpy (longer, bytes, n);
  memset (longer + n, 0, 3);
  back = ss_model_load_from_memory (longer, n + 3, &e);
  CHECK (back == NULL && strstr (e.message, "trailing"), "trailing bytes: %s",
         back ? "loaded" : e.message);
  free (longer);
  /* member 2's magic broken, the outer checksum recomputed: the message names member 2 */
  size_t size1 = (size_t) ss_get_u64 (bytes + 32);
  size_t info = ss_get_u32 (bytes + 24);
  size_t member2 = 32 + 2 * 8 + info + size1;
  bytes[member2 + 3] = 'X';
  ss_put_u32 (bytes + n - 4, ss_crc32 (0, bytes, n - 4));
  back = ss_model_load_from_memory (bytes, n, &e);
  CHECK (back == NULL && strstr (e.message, "member 2"), "bad member: %s",
         back ? "loaded" : e.message);
  /* a version from the future */
  free (bytes);
  bytes = read_all (path, &n);
  ss_put_u32 (bytes + 4, 3);
  ss_put_u32 (bytes + n - 4, ss_crc32 (0, bytes, n - 4));
  back = ss_model_load_from_memory (bytes, n, &e);
  CHECK (back == NULL && e.status == SS_ERR_VERSION, "version 3: %s", back ? "loaded" : e.message);
  /* version 1 has no views-below: a value there is refused; version 2's is at most 1 */
  free (bytes);
  bytes = read_all (path, &n);
  ss_put_u32 (bytes + 28, 500000);
  ss_put_u32 (bytes + n - 4, ss_crc32 (0, bytes, n - 4));
  back = ss_model_load_from_memory (bytes, n, &e);
  CHECK (back == NULL && strstr (e.message, "inconsistent"), "version 1 with views-below: %s",
         back ? "loaded" : e.message);
  ss_put_u32 (bytes + 4, 2);
  ss_put_u32 (bytes + 28, 1000001);
  ss_put_u32 (bytes + n - 4, ss_crc32 (0, bytes, n - 4));
  back = ss_model_load_from_memory (bytes, n, &e);
  CHECK (back == NULL && strstr (e.message, "inconsistent"), "views-below above 1: %s",
         back ? "loaded" : e.message);
  free (bytes);

  unlink (path);
  unlink (single);
  rmdir (dir);
  ss_model_free (ens);
  ss_model_free (net);
  ss_model_free (wide_net);
  return test_summary ("test-ensemble");
}
