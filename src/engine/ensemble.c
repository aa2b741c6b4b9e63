/* Test-time views and ensembles, and the file that keeps them ("SSE1").
 *
 * A view is the input turned by quarter turns and/or mirrored; an ensemble is several
 * trained networks. Either way the model's probabilities are the plain mean over every
 * (network, view) pair: no weights to tune, nothing learnt from the data it is then
 * measured on.
 *
 * The file, little-endian throughout:
 *
 *   0  "SSE1"                       magic
 *   4  u32 format version           (1)
 *   8  u64 total size in bytes      (the whole file, checksum included)
 *  16  u32 n_members                (1..SS_MAX_MEMBERS)
 *  20  u32 views                    (1, 2, 4 or 8)
 *  24  u32 training info length     (the ensemble's own description)
 *  28  u32 views only below         (version 2: millionths of the confidence under which
 *                                    the other views are taken, 0 = always; version 1: 0)
 *  32  u64 byte size of each member, n_members of them
 *      training info (UTF-8 text: how the ensemble was assembled)
 *      each member's complete SSM1 file (modelfile.c), one after another
 *  end u32 CRC-32 (IEEE) of every byte before it
 *
 * A file with one member is a single network with views; it loads as that network. */
#include "engine-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SS_ENSEMBLE_MAGIC   "SSE1"
#define SS_ENSEMBLE_VERSION 2u  /* 2: the views-below field; files without it say 1 */
#define SS_ENSEMBLE_HEADER  32u
#define SS_ENSEMBLE_MAX_INFO (1u << 20)

static bool
views_valid (int views)
{
  return views == 1 || views == 2 || views == 4 || views == 8;
}

int
ss_model_views (const SsModel *model)
{
  return model->views > 1 ? model->views : 1;
}

SsStatus
ss_model_set_views (SsModel *model, int views, SsError *error)
{
  if (!views_valid (views))
    return ss_error_set (error, SS_ERR_ARG, "views must be 1, 2, 4 or 8, not %d", views);
  if (views > 2 && model->spec.in_h != model->spec.in_w)
    return ss_error_set (error, SS_ERR_ARG, "%d views turn the image by quarter turns: the "
                         "input must be square, not %dx%d", views, model->spec.in_w,
                         model->spec.in_h);
  model->views = views;
  return SS_OK;
}

SsStatus
ss_model_set_views_below (SsModel *model, float below, SsError *error)
{
  if (!(below >= 0.0f && below <= 1.0f))
    return ss_error_set (error, SS_ERR_ARG, "the confidence under which the other views are "
                         "taken must be 0 (always) to 1, not %g", (double) below);
  model->views_below = below;
  return SS_OK;
}

float
ss_model_views_below (const SsModel *model)
{
  return model->views_below;
}

int
ss_model_n_members (const SsModel *model)
{
  return model->n_members;
}

const SsModel *
ss_model_member (const SsModel *model, int i)
{
  return i >= 0 && i < model->n_members ? model->members[i] : NULL;
}

SsModel *
ss_ensemble_new (SsModel **members, int n_members, SsError *error)
{
  if (n_members < 1 || n_members > SS_MAX_MEMBERS)
    {
      ss_error_set (error, SS_ERR_ARG, "an ensemble has 1 to %d members, not %d",
                    SS_MAX_MEMBERS, n_members);
      return NULL;
    }
  const SsModelSpec *first = &members[0]->spec;
  for (int i = 0; i < n_members; i++)
    {
      const SsModelSpec *sp = &members[i]->spec;
      if (members[i]->n_members > 0)
        {
          ss_error_set (error, SS_ERR_ARG, "member %d is itself an ensemble", i + 1);
          return NULL;
        }
      if (sp->in_c != first->in_c || sp->in_h != first->in_h || sp->in_w != first->in_w)
        {
          ss_error_set (error, SS_ERR_ARG, "member %d takes %dx%d images, member 1 %dx%d",
                        i + 1, sp->in_w, sp->in_h, first->in_w, first->in_h);
          return NULL;
        }
      if (sp->n_classes != first->n_classes)
        {
          ss_error_set (error, SS_ERR_ARG, "member %d has %d classes, member 1 has %d", i + 1,
                        sp->n_classes, first->n_classes);
          return NULL;
        }
      if (sp->resample != first->resample)
        {
          ss_error_set (error, SS_ERR_ARG, "member %d resamples its input otherwise than member "
                        "1 (it was trained on differently prepared images)", i + 1);
          return NULL;
        }
      /* the caller maps a camera's colours once, onto member 1's target; each member's
       * crop stretch is its own (the engine does it) */
      if (memcmp (sp->camera_colour, first->camera_colour, sizeof sp->camera_colour) != 0)
        {
          ss_error_set (error, SS_ERR_ARG, "member %d was trained with its cameras' colours "
                        "brought to another target than member 1's", i + 1);
          return NULL;
        }
      for (int c = 0; c < sp->n_classes; c++)
        if (strcmp (sp->class_names[c], first->class_names[c]) != 0)
          {
            ss_error_set (error, SS_ERR_ARG, "member %d's class %d is '%s', member 1's is '%s' "
                          "(same classes in the same order needed)", i + 1, c + 1,
                          sp->class_names[c], first->class_names[c]);
            return NULL;
          }
    }
  SsModel *e = calloc (1, sizeof *e);
  SsModel **owned = calloc ((size_t) n_members, sizeof *owned);
  if (e == NULL || owned == NULL)
    {
      free (e);
      free (owned);
      ss_error_set (error, SS_ERR_NOMEM, "out of memory");
      return NULL;
    }
  e->spec = *first;
  e->spec.arch = SS_ARCH_ENSEMBLE;
  e->spec.width = 0;
  for (int i = 0; i < n_members; i++)
    {
      owned[i] = members[i];
      owned[i]->views = 1;  /* views are the ensemble's */
    }
  e->members = owned;
  e->n_members = n_members;
  e->views = 1;
  return e;
}

void
ss_view_source (int view, int w, int h, int x, int y, int *sx, int *sy)
{
  int px = x, py = y;
  for (int r = 0; r < (view & 3); r++)
    {
      int t = px;
      px = w - 1 - py;
      py = t;
    }
  if (view & 4)
    px = w - 1 - px;
  *sx = px;
  *sy = py;
}

/* View v of one (c, h, w) image. */
static void
view_image (const float *src, float *dst, int c, int h, int w, int v)
{
  const size_t plane = (size_t) h * w;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int sx, sy;
        ss_view_source (v, w, h, x, y, &sx, &sy);
        for (int ch = 0; ch < c; ch++)
          dst[ch * plane + (size_t) y * w + x] = src[ch * plane + (size_t) sy * w + sx];
      }
}

static int
view_code (int views, int i)
{
  return views == 2 ? 4 * i : i;  /* 2 views: as given and mirrored */
}

/* Adds the networks' probabilities for view v of the nb images at x + index[j] * image
 * (index NULL: the first nb in order; only for view 0) to acc's rows index[j] (or j). */
static SsStatus
predict_view (SsModel *m, const float *x, const int *index, int nb, int v, float *view,
              float *p, float *acc, SsError *error)
{
  const SsModelSpec *sp = &m->spec;
  const int k = sp->n_classes, n_nets = m->n_members > 0 ? m->n_members : 1;
  const size_t image = (size_t) sp->in_c * sp->in_h * sp->in_w;
  const float *in = x;
  if (v != 0)
    {
      for (int j = 0; j < nb; j++)
        view_image (x + (size_t) (index != NULL ? index[j] : j) * image, view + j * image,
                    sp->in_c, sp->in_h, sp->in_w, v);
      in = view;
    }
  SsStatus st = SS_OK;
  for (int net = 0; net < n_nets && st == SS_OK; net++)
    {
      SsModel *model = m->n_members > 0 ? m->members[net] : m;
      st = ss_net_predict (model, in, nb, p, error);
      for (int j = 0; st == SS_OK && j < nb; j++)
        {
          float *row = acc + (size_t) (index != NULL ? index[j] : j) * k;
          for (int c = 0; c < k; c++)
            row[c] += p[(size_t) j * k + c];
        }
    }
  return st;
}

SsStatus
ss_ensemble_predict (SsModel *m, const float *x, int n, float *probs, SsError *error)
{
  const SsModelSpec *sp = &m->spec;
  const int k = sp->n_classes, views = ss_model_views (m);
  const int n_nets = m->n_members > 0 ? m->n_members : 1;
  const size_t image = (size_t) sp->in_c * sp->in_h * sp->in_w;
  const float below = views > 1 ? m->views_below : 0.0f;
  if (n <= 0)
    return SS_OK;
  const int chunk = n < 32 ? n : 32;
  float *view = views > 1 ? malloc (sizeof (float) * image * chunk) : NULL;
  float *p = malloc (sizeof (float) * (size_t) chunk * k);
  int *index = malloc (sizeof (int) * (size_t) n);
  if ((views > 1 && view == NULL) || p == NULL || index == NULL)
    {
      free (view);
      free (p);
      free (index);
      return ss_error_set (error, SS_ERR_NOMEM, "out of memory");
    }
  memset (probs, 0, sizeof (float) * (size_t) n * k);
  /* the image as given, for every image */
  SsStatus st = SS_OK;
  for (int b = 0; b < n && st == SS_OK; b += chunk)
    st = predict_view (m, x + (size_t) b * image, NULL, n - b < chunk ? n - b : chunk, 0, view,
                       p, probs + (size_t) b * k, error);
  /* the other views: for every image, or (below > 0) for those whose most probable class
   * is under `below` after the first, gathered into full batches */
  int n_more = 0;
  for (int j = 0; st == SS_OK && j < n && views > 1; j++)
    {
      float top = 0.0f;
      for (int c = 0; c < k; c++)
        top = probs[(size_t) j * k + c] > top ? probs[(size_t) j * k + c] : top;
      if (below <= 0.0f || top < below * (float) n_nets)
        index[n_more++] = j;
    }
  for (int i = 1; i < views && st == SS_OK; i++)
    for (int b = 0; b < n_more && st == SS_OK; b += chunk)
      st = predict_view (m, x, index + b, n_more - b < chunk ? n_more - b : chunk,
                         view_code (views, i), view, p, probs, error);
  for (int j = 0, more = 0; j < n; j++)
    {
      const bool all = more < n_more && index[more] == j;
      more += all;
      const float scale = 1.0f / (float) (n_nets * (all ? views : 1));
      for (int c = 0; c < k; c++)
        probs[(size_t) j * k + c] *= scale;
    }
  free (view);
  free (p);
  free (index);
  return st;
}

/* Bilinear resampling of a (mh, mw) map onto (h, w), pixel centres aligned. */
static void
add_resampled (const float *map, int mh, int mw, float *out, int h, int w)
{
  for (int y = 0; y < h; y++)
    {
      float fy = ((float) y + 0.5f) * (float) mh / (float) h - 0.5f;
      fy = fy < 0.0f ? 0.0f : (fy > (float) (mh - 1) ? (float) (mh - 1) : fy);
      const int y0 = (int) fy, y1 = y0 + 1 < mh ? y0 + 1 : y0;
      const float ty = fy - (float) y0;
      for (int x = 0; x < w; x++)
        {
          float fx = ((float) x + 0.5f) * (float) mw / (float) w - 0.5f;
          fx = fx < 0.0f ? 0.0f : (fx > (float) (mw - 1) ? (float) (mw - 1) : fx);
          const int x0 = (int) fx, x1 = x0 + 1 < mw ? x0 + 1 : x0;
          const float tx = fx - (float) x0;
          const float top = map[y0 * mw + x0] * (1 - tx) + map[y0 * mw + x1] * tx;
          const float bottom = map[y1 * mw + x0] * (1 - tx) + map[y1 * mw + x1] * tx;
          out[(size_t) y * w + x] += top * (1 - ty) + bottom * ty;
        }
    }
}

SsStatus
ss_ensemble_gradcam (SsModel *m, const float *x, int cls, float **map, int *map_h, int *map_w,
                     float *prob, SsError *error)
{
  const int h = m->spec.in_h, w = m->spec.in_w;
  float *sum = calloc ((size_t) h * w, sizeof (float));
  if (sum == NULL)
    return ss_error_set (error, SS_ERR_NOMEM, "out of memory");
  float prob_sum = 0.0f;
  for (int i = 0; i < m->n_members; i++)
    {
      float *member_map = NULL, member_prob = 0.0f;
      int mh = 0, mw = 0;
      SsStatus st = ss_net_gradcam (m->members[i], x, cls, &member_map, &mh, &mw, &member_prob,
                                    error);
      if (st != SS_OK)
        {
          free (sum);
          return st;
        }
      add_resampled (member_map, mh, mw, sum, h, w);
      prob_sum += member_prob;
      free (member_map);
    }
  float max = 0.0f;
  for (size_t i = 0; i < (size_t) h * w; i++)
    max = sum[i] > max ? sum[i] : max;
  if (max > 0.0f)
    for (size_t i = 0; i < (size_t) h * w; i++)
      sum[i] /= max;
  if (prob != NULL)
    *prob = prob_sum / (float) m->n_members;
  *map = sum;
  *map_h = h;
  *map_w = w;
  return SS_OK;
}

/* ---- the file ------------------------------------------------------------------------ */

SsStatus
ss_ensemble_to_bytes (const SsModel *m, SsStorage storage, uint8_t **bytes, size_t *n_bytes,
                      SsError *error)
{
  const int n_nets = m->n_members > 0 ? m->n_members : 1;
  /* a single network keeps its own description; an ensemble has one of its own */
  const char *info = m->n_members > 0 ? ss_model_training_info (m) : "";
  const size_t info_len = strlen (info);
  if (info_len > SS_ENSEMBLE_MAX_INFO)
    return ss_error_set (error, SS_ERR_ARG, "ensemble description too long (%zu bytes)",
                         info_len);
  uint8_t *parts[SS_MAX_MEMBERS] = { 0 };
  size_t sizes[SS_MAX_MEMBERS] = { 0 };
  size_t total = SS_ENSEMBLE_HEADER + 8 * (size_t) n_nets + info_len + 4;
  SsStatus st = SS_OK;
  for (int i = 0; i < n_nets && st == SS_OK; i++)
    {
      st = ss_net_to_bytes (m->n_members > 0 ? m->members[i] : m, storage, &parts[i],
                            &sizes[i], error);
      total += sizes[i];
    }
  uint8_t *buf = st == SS_OK ? calloc (1, total) : NULL;
  if (st == SS_OK && buf == NULL)
    st = ss_error_set (error, SS_ERR_NOMEM, "out of memory");
  if (st == SS_OK)
    {
      memcpy (buf, SS_ENSEMBLE_MAGIC, 4);
      const uint32_t below = (uint32_t) (m->views_below * 1e6f + 0.5f);
      ss_put_u32 (buf + 4, below > 0 ? SS_ENSEMBLE_VERSION : 1u);
      ss_put_u64 (buf + 8, total);
      ss_put_u32 (buf + 16, (uint32_t) n_nets);
      ss_put_u32 (buf + 20, (uint32_t) ss_model_views (m));
      ss_put_u32 (buf + 24, (uint32_t) info_len);
      ss_put_u32 (buf + 28, below);
      uint8_t *p = buf + SS_ENSEMBLE_HEADER;
      for (int i = 0; i < n_nets; i++, p += 8)
        ss_put_u64 (p, sizes[i]);
      memcpy (p, info, info_len);
      p += info_len;
      for (int i = 0; i < n_nets; i++)
        {
          memcpy (p, parts[i], sizes[i]);
          p += sizes[i];
        }
      ss_put_u32 (p, ss_crc32 (0, buf, total - 4));
      *bytes = buf;
      *n_bytes = total;
    }
  for (int i = 0; i < n_nets; i++)
    free (parts[i]);
  return st;
}

SsModel *
ss_ensemble_from_bytes (const uint8_t *buf, size_t n, SsError *error)
{
  if (ss_check_envelope (buf, n, SS_ENSEMBLE_HEADER, SS_ENSEMBLE_VERSION, "ensemble", error)
      != SS_OK)
    return NULL;
  uint32_t n_nets = ss_get_u32 (buf + 16), views = ss_get_u32 (buf + 20);
  uint32_t info_len = ss_get_u32 (buf + 24), below = ss_get_u32 (buf + 28);
  const uint32_t version = ss_get_u32 (buf + 4);
  if (n_nets < 1 || n_nets > SS_MAX_MEMBERS || !views_valid ((int) views)
      || info_len > SS_ENSEMBLE_MAX_INFO || below > (version >= 2 ? 1000000u : 0u))
    {
      ss_error_set (error, SS_ERR_FORMAT, "ensemble header is inconsistent (%u members, %u "
                    "views, %u bytes of description)", n_nets, views, info_len);
      return NULL;
    }
  size_t offset = SS_ENSEMBLE_HEADER + 8 * (size_t) n_nets;
  if (offset + info_len + 4 > n)
    {
      ss_error_set (error, SS_ERR_FORMAT, "ensemble sections do not add up to the file size");
      return NULL;
    }
  uint64_t sizes[SS_MAX_MEMBERS], sum = 0;
  bool too_big = false;
  for (uint32_t i = 0; i < n_nets; i++)
    {
      sizes[i] = ss_get_u64 (buf + SS_ENSEMBLE_HEADER + 8 * i);
      too_big |= sizes[i] > n;
      sum += too_big ? 0 : sizes[i];
    }
  if (too_big || sum != n - offset - info_len - 4)
    {
      ss_error_set (error, SS_ERR_FORMAT, "ensemble sections do not add up to the file size");
      return NULL;
    }
  const uint8_t *info = buf + offset;
  const uint8_t *p = info + info_len;
  SsModel *members[SS_MAX_MEMBERS] = { 0 };
  int loaded = 0;
  for (; loaded < (int) n_nets; loaded++)
    {
      members[loaded] = ss_net_from_bytes (p, sizes[loaded], error);
      if (members[loaded] == NULL)
        break;
      p += sizes[loaded];
    }
  SsModel *m = NULL;
  if (loaded == (int) n_nets)
    m = n_nets == 1 ? members[0] : ss_ensemble_new (members, (int) n_nets, error);
  if (m == NULL)
    {
      if (loaded < (int) n_nets && error != NULL)
        {
          char msg[sizeof error->message];
          memcpy (msg, error->message, sizeof msg);
          snprintf (error->message, sizeof error->message, "member %d: %.400s", loaded + 1, msg);
        }
      for (int i = 0; i < loaded; i++)
        ss_model_free (members[i]);
      return NULL;
    }
  if (ss_model_set_views (m, (int) views, error) != SS_OK
      || ss_model_set_views_below (m, (float) below / 1e6f, error) != SS_OK)
    {
      ss_model_free (m);
      return NULL;
    }
  if (info_len > 0 && ss_model_read_info (m, info, info_len, error) != SS_OK)
    {
      ss_model_free (m);
      return NULL;
    }
  return m;
}
