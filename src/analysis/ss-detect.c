/* White-cell proposals and their masks. */
#include "ss-detect.h"

#include "ss-cytoplasm-model.h"
#include "ss-detect-private.h"
#include "ss-morphology.h"
#include "ss-preprocess.h"

#include <math.h>
#include <string.h>

void
ss_detect_settings_init (SsDetectSettings *settings)
{
  settings->scale = 0.25;            /* the paper used 0.2; 0.25 keeps lobes apart */
  settings->cell_diameter = 200;     /* BCCD's median white-cell box is 204 px wide */
  settings->min_nucleus_area = 2500; /* BCCD train: platelets and fragments < 3300 px, nuclei > 4500 */
  settings->min_stain = 25;
  settings->split_touching = TRUE;
}

void
ss_detect_settings_for_diameter (SsDetectSettings *settings, double diameter)
{
  double k = diameter / settings->cell_diameter;
  settings->min_nucleus_area *= k * k;
  settings->cell_diameter = diameter;
  settings->scale = MIN (1.0, settings->scale / k);
}

static double
now_ms (void)
{
  return g_get_monotonic_time () / 1000.0;
}

typedef struct {
  int x, y, width, height;
} Roi;

/* A diagonal Gaussian colour model. */
typedef struct {
  float mean[3], var[3];
  float log_var_sum;
} ColourModel;

static void
colour_model_fit (ColourModel *model, const float *rgb, gsize n)
{
  double sum[3] = { 0 }, sum2[3] = { 0 };
  for (gsize i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      {
        sum[c] += rgb[i * 3 + c];
        sum2[c] += (double) rgb[i * 3 + c] * rgb[i * 3 + c];
      }
  model->log_var_sum = 0;
  for (int c = 0; c < 3; c++)
    {
      double mean = n > 0 ? sum[c] / n : 0;
      double var = n > 0 ? sum2[c] / n - mean * mean : 0;
      model->mean[c] = (float) mean;
      model->var[c] = (float) MAX (var, 16.0);  /* floor: 4 levels of noise at least */
      model->log_var_sum += logf (model->var[c]);
    }
}

static inline float
colour_model_cost (const ColourModel *model, const guint8 *rgb)
{
  float cost = model->log_var_sum;
  for (int c = 0; c < 3; c++)
    {
      float d = rgb[c] - model->mean[c];
      cost += d * d / model->var[c];
    }
  return cost;
}

/* Two-means seeded at the darkest and the brightest sample: the surroundings of a white
 * cell are of two kinds, plasma (light) and red cells (pink), and one Gaussian fits
 * neither. */
static void
colour_model_fit_two (ColourModel models[2], const float *rgb, gsize n)
{
  float centre[2][3] = { { 0 } };
  gsize lo = 0, hi = 0;
  for (gsize i = 0; i < n; i++)
    {
      float b = rgb[i * 3] + rgb[i * 3 + 1] + rgb[i * 3 + 2];
      if (b < rgb[lo * 3] + rgb[lo * 3 + 1] + rgb[lo * 3 + 2])
        lo = i;
      if (b > rgb[hi * 3] + rgb[hi * 3 + 1] + rgb[hi * 3 + 2])
        hi = i;
    }
  if (n > 0)
    {
      memcpy (centre[0], rgb + lo * 3, sizeof centre[0]);
      memcpy (centre[1], rgb + hi * 3, sizeof centre[1]);
    }
  g_autofree guint8 *assign = g_new0 (guint8, MAX (n, 1));
  for (int iter = 0; iter < 8; iter++)
    {
      double sum[2][3] = { { 0 } };
      gsize count[2] = { 0, 0 };
      for (gsize i = 0; i < n; i++)
        {
          float d[2] = { 0, 0 };
          for (int k = 0; k < 2; k++)
            for (int c = 0; c < 3; c++)
              d[k] += (rgb[i * 3 + c] - centre[k][c]) * (rgb[i * 3 + c] - centre[k][c]);
          assign[i] = d[1] < d[0];
          count[assign[i]]++;
          for (int c = 0; c < 3; c++)
            sum[assign[i]][c] += rgb[i * 3 + c];
        }
      for (int k = 0; k < 2; k++)
        if (count[k] > 0)
          for (int c = 0; c < 3; c++)
            centre[k][c] = (float) (sum[k][c] / count[k]);
    }
  g_autofree float *part = g_new (float, MAX (n, 1) * 3);
  for (int k = 0; k < 2; k++)
    {
      gsize m = 0;
      for (gsize i = 0; i < n; i++)
        if (assign[i] == k)
          memcpy (part + 3 * m++, rgb + i * 3, sizeof (float) * 3);
      if (m < 8)
        {
          m = MIN (n, 8);
          memcpy (part, rgb, sizeof (float) * 3 * m);
        }
      colour_model_fit (&models[k], part, m);
    }
}

/* Keep the components of mask that overlap `keep` (any pixel); returns how many. */
static int
keep_overlapping (guint8 *mask, const guint8 *keep, int width, int height)
{
  const gsize n = (gsize) width * height;
  g_autofree int *labels = g_new (int, n);
  int count = ss_mask_label (mask, width, height, labels, NULL);
  g_autofree guint8 *hit = g_new0 (guint8, count + 1);
  int kept = 0;
  for (gsize i = 0; i < n; i++)
    if (labels[i] != 0 && keep[i] && !hit[labels[i]])
      {
        hit[labels[i]] = 1;
        kept++;
      }
  for (gsize i = 0; i < n; i++)
    mask[i] = labels[i] != 0 && hit[labels[i]];
  return kept;
}

/* Keep only the component of mask with the most pixels in `prefer`. */
static void
keep_best_overlap (guint8 *mask, const guint8 *prefer, int width, int height)
{
  const gsize n = (gsize) width * height;
  g_autofree int *labels = g_new (int, n);
  int count = ss_mask_label (mask, width, height, labels, NULL);
  g_autofree int *overlap = g_new0 (int, count + 1);
  int best = 0;
  for (gsize i = 0; i < n; i++)
    if (labels[i] != 0 && prefer[i])
      overlap[labels[i]]++;
  for (int l = 1; l <= count; l++)
    if (overlap[l] > overlap[best])
      best = l;
  for (gsize i = 0; i < n; i++)
    mask[i] = best != 0 && labels[i] == best;
}

/* Nucleus and cell masks of the cell seeded by `seed` inside roi (all masks roi-sized).
 * allowed (may be NULL) limits the pixels this cell may claim. Returns FALSE when no
 * stained nucleus overlaps the seed. */
static gboolean
segment_in_roi (const SsImage *image, Roi roi, const guint8 *seed, const guint8 *allowed,
                double diameter, double min_stain, guint8 *nucleus, guint8 *cell)
{
  const int w = roi.width, h = roi.height;
  const gsize n = (gsize) w * h;
  g_autofree float *score = g_new (float, n);
  g_autofree float *dist = g_new (float, n);

  for (int y = 0; y < h; y++)
    {
      const guint8 *p = image->rgb + ((gsize) (roi.y + y) * image->width + roi.x) * 3;
      for (int x = 0; x < w; x++, p += 3)
        score[(gsize) y * w + x] = ss_nucleus_score (p);
    }
  /* three classes in a cell's surroundings: plasma, cytoplasm or red cells, nucleus */
  float low, high;
  ss_otsu_two_thresholds (score, n, 0, 510, &low, &high);
  for (int y = 0; y < h; y++)
    {
      const guint8 *p = image->rgb + ((gsize) (roi.y + y) * image->width + roi.x) * 3;
      for (int x = 0; x < w; x++, p += 3)
        {
          gsize i = (gsize) y * w + x;
          nucleus[i] = score[i] > high && ss_stain_score (p) > 0
                       && (allowed == NULL || allowed[i]);
        }
    }
  ss_mask_open (nucleus, w, h, MAX (1.0, diameter * 0.008));
  ss_mask_fill_holes (nucleus, w, h);
  if (keep_overlapping (nucleus, seed, w, h) == 0)
    return FALSE;

  /* The cytoplasm: a pixel near the nucleus is taken when its colour is closer to the
   * ring just outside the nucleus than to the two kinds of background further out.
   * (Taking also what is stained above the plasma level, the lower three-class
   * threshold, helps on pale yellow backgrounds but swallows red cells on BCCD.) */
  const double ring_width = MAX (2.0, diameter * 0.03);
  const double reach = diameter * 0.5;
  ss_distance_transform (nucleus, w, h, TRUE, dist);
  GArray *cyto = g_array_new (FALSE, FALSE, sizeof (float));
  GArray *back = g_array_new (FALSE, FALSE, sizeof (float));
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gsize i = (gsize) y * w + x;
        const guint8 *p = image->rgb + ((gsize) (roi.y + y) * image->width + roi.x + x) * 3;
        float v[3] = { p[0], p[1], p[2] };
        if (allowed != NULL && !allowed[i])
          continue;
        if (dist[i] > 0 && dist[i] <= ring_width)
          g_array_append_vals (cyto, v, 3);
        else if (dist[i] > reach)
          g_array_append_vals (back, v, 3);
      }
  if (back->len < 3 * 64)
    {
      /* a tight crop: fall back to its outermost band */
      g_array_set_size (back, 0);
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          if ((x < 3 || y < 3 || x >= w - 3 || y >= h - 3) && dist[(gsize) y * w + x] > ring_width)
            {
              const guint8 *p = image->rgb + ((gsize) (roi.y + y) * image->width + roi.x + x) * 3;
              float v[3] = { p[0], p[1], p[2] };
              g_array_append_vals (back, v, 3);
            }
    }
  ColourModel cyto_model, back_model[2];
  colour_model_fit (&cyto_model, (float *) cyto->data, cyto->len / 3);
  colour_model_fit_two (back_model, (float *) back->data, back->len / 3);
  g_array_free (cyto, TRUE);
  g_array_free (back, TRUE);
  for (int y = 0; y < h; y++)
    {
      const guint8 *p = image->rgb + ((gsize) (roi.y + y) * image->width + roi.x) * 3;
      for (int x = 0; x < w; x++, p += 3)
        {
          gsize i = (gsize) y * w + x;
          if (nucleus[i])
            {
              cell[i] = 1;
              continue;
            }
          if ((allowed != NULL && !allowed[i]) || dist[i] > reach)
            {
              cell[i] = 0;
              continue;
            }
          float c = colour_model_cost (&cyto_model, p);
          cell[i] = c < colour_model_cost (&back_model[0], p)
                    && c < colour_model_cost (&back_model[1], p);
        }
    }
  const double smooth = MAX (1.5, diameter * 0.04);
  ss_mask_open (cell, w, h, smooth);
  keep_best_overlap (cell, nucleus, w, h);
  for (gsize i = 0; i < n; i++)
    cell[i] |= nucleus[i];
  ss_mask_fill_holes (cell, w, h);
  ss_mask_close (cell, w, h, smooth);
  ss_mask_fill_holes (cell, w, h);
  return TRUE;
}

/* Crop a roi-sized mask to its bounding box and store it as RLE over box (full-image
 * coordinates). */
static void
mask_to_rle (const guint8 *mask, Roi roi, const SsBox *box, SsRle *rle)
{
  g_autofree guint8 *sub = g_new (guint8, (gsize) box->width * box->height);
  for (int y = 0; y < box->height; y++)
    memcpy (sub + (gsize) y * box->width,
            mask + (gsize) (box->y - roi.y + y) * roi.width + (box->x - roi.x), box->width);
  ss_rle_encode (rle, sub, box->width, box->height);
}

static gboolean
mask_bounds (const guint8 *mask, int width, int height, Roi *bounds)
{
  int x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (mask[(gsize) y * width + x])
        {
          x0 = MIN (x0, x), x1 = MAX (x1, x);
          y0 = MIN (y0, y), y1 = MAX (y1, y);
        }
  if (x1 < 0)
    return FALSE;
  *bounds = (Roi) { x0, y0, x1 - x0 + 1, y1 - y0 + 1 };
  return TRUE;
}

static SsCell *
cell_from_masks (const guint8 *nucleus, const guint8 *cell_mask, Roi roi, float confidence)
{
  Roi bounds;
  if (!mask_bounds (cell_mask, roi.width, roi.height, &bounds))
    return NULL;
  SsCell *cell = ss_cell_new ();
  cell->box = (SsBox) { roi.x + bounds.x, roi.y + bounds.y, bounds.width, bounds.height };
  mask_to_rle (cell_mask, roi, &cell->box, &cell->mask);
  mask_to_rle (nucleus, roi, &cell->box, &cell->nucleus_mask);
  cell->predicted_class = cell->current_class = SS_CLASS_OTHER;
  cell->confidence = confidence;
  cell->probabilities[SS_CLASS_OTHER] = confidence;
  cell->probabilities[SS_CLASS_NOT_A_CELL] = 1.0f - confidence;
  return cell;
}

typedef struct {
  int    label;
  int    area;        /* nucleus pixels at work scale */
  double cx, cy;      /* nucleus centroid, full resolution */
  int    x0, y0, x1, y1;  /* nucleus bounds, work scale, inclusive */
  double stain;       /* mean stain score over the nucleus */
} Seed;

/* Distance-transform peaks, one per cell: a peak closer than `merge` to a higher one of
 * the same component is a lobe or a bump, not another cell. */
static int
find_markers (const float *dist, const int *components, int width, int height, double merge,
              int *markers)
{
  GArray *peaks = g_array_new (FALSE, FALSE, sizeof (int));
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        int i = y * width + x;
        if (components[i] == 0)
          continue;
        gboolean is_max = TRUE;
        for (int dy = -1; dy <= 1 && is_max; dy++)
          for (int dx = -1; dx <= 1; dx++)
            {
              int nx = x + dx, ny = y + dy;
              if (nx >= 0 && ny >= 0 && nx < width && ny < height
                  && dist[ny * width + nx] > dist[i])
                {
                  is_max = FALSE;
                  break;
                }
            }
        if (is_max)
          g_array_append_val (peaks, i);
      }
  /* highest first */
  int *p = (int *) peaks->data;
  for (guint a = 1; a < peaks->len; a++)
    {
      int v = p[a];
      guint b = a;
      while (b > 0 && dist[p[b - 1]] < dist[v])
        {
          p[b] = p[b - 1];
          b--;
        }
      p[b] = v;
    }
  GArray *kept = g_array_new (FALSE, FALSE, sizeof (int));
  memset (markers, 0, sizeof (int) * width * height);
  for (guint a = 0; a < peaks->len; a++)
    {
      int i = p[a];
      gboolean near = FALSE;
      for (guint k = 0; k < kept->len && !near; k++)
        {
          int j = g_array_index (kept, int, k);
          double dx = i % width - j % width, dy = i / width - j / width;
          near = components[i] == components[j] && dx * dx + dy * dy < merge * merge;
        }
      if (!near)
        {
          g_array_append_val (kept, i);
          markers[i] = (int) kept->len;
        }
    }
  int n = (int) kept->len;
  g_array_free (kept, TRUE);
  g_array_free (peaks, TRUE);
  return n;
}

/* Join seeds that are lobes of one nucleus: a segmented neutrophil's lobes can lie
 * apart, but close together and, joined, no larger than one cell. Relabels the work
 * label image so a joined seed owns all its lobes. */
static void
merge_lobes (GArray *seeds, int *labels, gsize n, double max_gap, double max_extent, double s)
{
  gboolean merged = TRUE;
  while (merged)
    {
      merged = FALSE;
      for (guint a = 0; a < seeds->len && !merged; a++)
        for (guint b = a + 1; b < seeds->len && !merged; b++)
          {
            Seed *p = &g_array_index (seeds, Seed, a), *q = &g_array_index (seeds, Seed, b);
            int gap_x = MAX (p->x0, q->x0) - MIN (p->x1, q->x1);
            int gap_y = MAX (p->y0, q->y0) - MIN (p->y1, q->y1);
            int x0 = MIN (p->x0, q->x0), x1 = MAX (p->x1, q->x1);
            int y0 = MIN (p->y0, q->y0), y1 = MAX (p->y1, q->y1);
            if (MAX (gap_x, gap_y) > max_gap || MAX (x1 - x0, y1 - y0) + 1 > max_extent)
              continue;
            double total = p->area + q->area;
            p->cx = (p->cx * p->area + q->cx * q->area) / total;
            p->cy = (p->cy * p->area + q->cy * q->area) / total;
            p->stain = (p->stain * p->area + q->stain * q->area) / total;
            p->area += q->area;
            p->x0 = x0, p->x1 = x1, p->y0 = y0, p->y1 = y1;
            for (gsize i = 0; i < n; i++)
              if (labels[i] == q->label)
                labels[i] = p->label;
            g_array_remove_index (seeds, b);
            merged = TRUE;
          }
    }
}

GPtrArray *
ss_detect_cells (const SsImage *image, const SsDetectSettings *settings, SsDetectTimings *timings)
{
  GPtrArray *cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  const double t0 = now_ms ();
  const double s = settings->scale, diameter = settings->cell_diameter;

  g_autoptr (SsImage) small = ss_preprocess_scale (image, s);
  ss_preprocess_bilateral (small, 2, 20);
  const int w = small->width, h = small->height;
  const gsize n = (gsize) w * h;
  g_autofree guint8 *green = g_new (guint8, n);
  ss_preprocess_green_mask (small, green);
  const double t1 = now_ms ();

  g_autofree float *score = g_new (float, n);
  g_autofree guint8 *nuclei = g_new (guint8, n);
  g_autofree guint8 *groups = g_new (guint8, n);
  g_autofree float *dist = g_new (float, n);
  g_autofree int *components = g_new (int, n);
  g_autofree int *labels = g_new (int, n);
  for (gsize i = 0; i < n; i++)
    score[i] = ss_stain_score (small->rgb + i * 3);
  float threshold = MAX (ss_otsu_threshold (score, n, -40, 160), (float) settings->min_stain);
  for (gsize i = 0; i < n; i++)
    nuclei[i] = score[i] > threshold && green[i];
  ss_mask_open (nuclei, w, h, 1.0);
  ss_mask_remove_small (nuclei, w, h, MAX (2, (int) (settings->min_nucleus_area * s * s * 0.25)));
  /* lobes of one nucleus lie within ~8% of a cell diameter of each other */
  ss_mask_dilate (nuclei, w, h, MAX (1.0, 0.08 * diameter * s), groups);
  ss_mask_fill_holes (groups, w, h);
  int n_labels;
  if (settings->split_touching)
    {
      ss_mask_label (groups, w, h, components, NULL);
      ss_distance_transform (groups, w, h, FALSE, dist);
      n_labels = find_markers (dist, components, w, h, 0.5 * diameter * s, labels);
      for (gsize i = 0; i < n; i++)
        dist[i] = -dist[i];
      ss_watershed (dist, groups, w, h, labels);
    }
  else
    n_labels = ss_mask_label (groups, w, h, labels, NULL);

  g_autofree Seed *seeds = g_new0 (Seed, n_labels + 1);
  for (int l = 0; l <= n_labels; l++)
    seeds[l] = (Seed) { l, 0, 0, 0, w, h, -1, -1, 0 };
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gsize i = (gsize) y * w + x;
        Seed *seed = &seeds[labels[i]];
        if (labels[i] == 0 || !nuclei[i])
          continue;
        seed->area++;
        seed->cx += x, seed->cy += y;
        seed->stain += score[i];
        seed->x0 = MIN (seed->x0, x), seed->x1 = MAX (seed->x1, x);
        seed->y0 = MIN (seed->y0, y), seed->y1 = MAX (seed->y1, y);
      }
  GArray *kept = g_array_new (FALSE, FALSE, sizeof (Seed));
  for (int l = 1; l <= n_labels; l++)
    {
      Seed *seed = &seeds[l];
      if (seed->area == 0)
        continue;
      seed->cx = (seed->cx / seed->area + 0.5) / s;
      seed->cy = (seed->cy / seed->area + 0.5) / s;
      seed->stain = seed->stain / seed->area - threshold;
      g_array_append_val (kept, *seed);
    }
  merge_lobes (kept, labels, n, 0.25 * diameter * s, 1.25 * diameter * s, s);
  for (guint k = kept->len; k-- > 0;)
    if (g_array_index (kept, Seed, k).area / (s * s) < settings->min_nucleus_area * 0.5)
      g_array_remove_index (kept, k);
  const double t2 = now_ms ();

  for (guint k = 0; k < kept->len; k++)
    {
      const Seed *seed = &g_array_index (kept, Seed, k);
      const double reach = 0.8 * diameter;
      int x0 = (int) MIN (seed->cx - reach, seed->x0 / s - 0.1 * diameter);
      int y0 = (int) MIN (seed->cy - reach, seed->y0 / s - 0.1 * diameter);
      int x1 = (int) MAX (seed->cx + reach, (seed->x1 + 1) / s + 0.1 * diameter);
      int y1 = (int) MAX (seed->cy + reach, (seed->y1 + 1) / s + 0.1 * diameter);
      x0 = MAX (x0, 0), y0 = MAX (y0, 0);
      x1 = MIN (x1, image->width), y1 = MIN (y1, image->height);
      Roi roi = { x0, y0, x1 - x0, y1 - y0 };
      const gsize rn = (gsize) roi.width * roi.height;
      g_autofree guint8 *seed_mask = g_new (guint8, rn);
      g_autofree guint8 *allowed = g_new (guint8, rn);
      g_autofree guint8 *nucleus = g_new (guint8, rn);
      g_autofree guint8 *cell_mask = g_new (guint8, rn);
      for (int y = 0; y < roi.height; y++)
        for (int x = 0; x < roi.width; x++)
          {
            gsize i = (gsize) y * roi.width + x;
            int fx = roi.x + x, fy = roi.y + y;
            int wx = MIN (w - 1, (int) (fx * s)), wy = MIN (h - 1, (int) (fy * s));
            gsize wi = (gsize) wy * w + wx;
            seed_mask[i] = nuclei[wi] && labels[wi] == seed->label;
            /* a pixel belongs to the nearest nucleus (a Voronoi split between cells) */
            double own = (fx - seed->cx) * (fx - seed->cx) + (fy - seed->cy) * (fy - seed->cy);
            allowed[i] = 1;
            for (guint o = 0; o < kept->len; o++)
              {
                const Seed *other = &g_array_index (kept, Seed, o);
                if (o == k)
                  continue;
                double d = (fx - other->cx) * (fx - other->cx) + (fy - other->cy) * (fy - other->cy);
                if (d < own)
                  {
                    allowed[i] = 0;
                    break;
                  }
              }
          }
      if (!segment_in_roi (image, roi, seed_mask, allowed, diameter, settings->min_stain,
                           nucleus, cell_mask))
        continue;
      /* proposal score from the stain alone: nucleus size against the smallest white
       * cell nucleus, and how far its stain rises above the threshold */
      double area_full = 0;
      for (gsize i = 0; i < (gsize) roi.width * roi.height; i++)
        area_full += nucleus[i];
      double size_term = CLAMP ((area_full - settings->min_nucleus_area)
                                / settings->min_nucleus_area, 0.0, 1.0);
      double stain_term = CLAMP (seed->stain / 20.0, 0.0, 1.0);
      float confidence = (float) (0.4 + 0.6 * size_term * stain_term);
      SsCell *cell = cell_from_masks (nucleus, cell_mask, roi, confidence);
      if (cell != NULL)
        g_ptr_array_add (cells, cell);
    }
  g_array_free (kept, TRUE);
  const double t3 = now_ms ();
  if (timings != NULL)
    {
      timings->preprocess_ms = t1 - t0;
      timings->propose_ms = t2 - t1;
      timings->refine_ms = t3 - t2;
    }
  return cells;
}

/* Convex hull of a mask, filled in place: white cells are round or oval, and a hull
 * bridges the notches pale cytoplasm leaves in a colour mask. */
static void
mask_fill_convex_hull (guint8 *mask, int width, int height)
{
  /* the row ends are enough: every other pixel lies between them */
  g_autofree int *px = g_new (int, 2 * height + 1);
  g_autofree int *py = g_new (int, 2 * height + 1);
  int np = 0;
  for (int y = 0; y < height; y++)
    {
      int x0 = -1, x1 = -1;
      for (int x = 0; x < width; x++)
        if (mask[(gsize) y * width + x])
          {
            if (x0 < 0)
              x0 = x;
            x1 = x;
          }
      if (x0 < 0)
        continue;
      px[np] = x0, py[np++] = y;
      if (x1 != x0)
        px[np] = x1, py[np++] = y;
    }
  if (np < 3)
    return;
  /* monotone chain over points sorted by (y, x): they already are */
  g_autofree int *hull = g_new (int, 2 * np + 1);
  int k = 0;
#define CROSS(o, a, b) ((long) (px[a] - px[o]) * (py[b] - py[o]) - (long) (py[a] - py[o]) * (px[b] - px[o]))
  for (int i = 0; i < np; i++)
    {
      while (k >= 2 && CROSS (hull[k - 2], hull[k - 1], i) <= 0)
        k--;
      hull[k++] = i;
    }
  for (int i = np - 2, lower = k + 1; i >= 0; i--)
    {
      while (k >= lower && CROSS (hull[k - 2], hull[k - 1], i) <= 0)
        k--;
      hull[k++] = i;
    }
#undef CROSS
  k--;
  if (k < 3)
    return;
  /* fill: per row, intersect the horizontal line with every hull edge */
  for (int y = 0; y < height; y++)
    {
      double lo = G_MAXDOUBLE, hi = -G_MAXDOUBLE;
      for (int e = 0; e < k; e++)
        {
          int a = hull[e], b = hull[e + 1];
          double ya = py[a], yb = py[b];
          if ((y < ya && y < yb) || (y > ya && y > yb))
            continue;
          if (ya == yb)
            {
              lo = MIN (lo, MIN (px[a], px[b]));
              hi = MAX (hi, MAX (px[a], px[b]));
              continue;
            }
          double x = px[a] + (px[b] - px[a]) * (y - ya) / (yb - ya);
          lo = MIN (lo, x), hi = MAX (hi, x);
        }
      for (int x = (int) ceil (lo - 1e-6); x <= (int) floor (hi + 1e-6); x++)
        if (x >= 0 && x < width)
          mask[(gsize) y * width + x] = 1;
    }
}

/* The nucleus of a centred cell: the three-class Otsu top class, its component nearest
 * the centre and the lobes lying within one nucleus radius of it (a neutrophil's lobes
 * may be paler or apart; taking the central lobe alone also starves the cytoplasm
 * search of reach). Returns its area. */
static double
centre_nucleus (const SsImage *crop, guint8 *nucleus)
{
  const int w = crop->width, h = crop->height;
  const gsize n = (gsize) w * h;
  g_autofree float *score = g_new (float, n);
  g_autofree int *labels = g_new (int, n);
  g_autofree int *areas = NULL;
  g_autofree float *dist = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    score[i] = ss_nucleus_score (crop->rgb + i * 3);
  float low, high;
  ss_otsu_two_thresholds (score, n, 0, 510, &low, &high);
  for (gsize i = 0; i < n; i++)
    nucleus[i] = score[i] > high && ss_stain_score (crop->rgb + i * 3) > 0;
  ss_mask_open (nucleus, w, h, 1.0);
  ss_mask_fill_holes (nucleus, w, h);
  int count = ss_mask_label (nucleus, w, h, labels, &areas);
  if (count == 0)
    return 0;
  g_autofree double *near = g_new0 (double, count + 1);
  for (gsize i = 0; i < n; i++)
    if (labels[i] != 0)
      {
        double dx = ((double) (i % w) - w / 2.0) / w, dy = ((double) (i / w) - h / 2.0) / h;
        near[labels[i]] += 1.0 / (1.0 + 8.0 * (dx * dx + dy * dy));
      }
  int best = 1;
  for (int l = 2; l <= count; l++)
    if (near[l] > near[best])
      best = l;
  g_autofree guint8 *primary = g_new (guint8, n);
  for (gsize i = 0; i < n; i++)
    primary[i] = labels[i] == best;
  ss_distance_transform (primary, w, h, TRUE, dist);
  const double radius = sqrt (areas[best] / G_PI);
  /* wbc-seg even ids: Dice nucleus 0.93 at 0.3 radius, 0.95 from 0.6 to 1.5 */
  const double gap = 1.0 * radius;
  const double min_lobe = 0.05 * areas[best];
  g_autofree guint8 *take = g_new0 (guint8, count + 1);
  take[best] = 1;
  for (gsize i = 0; i < n; i++)
    if (labels[i] != 0 && dist[i] <= gap && areas[labels[i]] >= min_lobe)
      take[labels[i]] = 1;
  double area = 0;
  for (gsize i = 0; i < n; i++)
    {
      nucleus[i] = take[labels[i]] && labels[i] != 0;
      area += nucleus[i];
    }
  return area;
}

/* The colour models of a crop around its centred nucleus: the cytoplasm, fitted on the
 * ring just outside the nucleus, and two for the background (plasma, red cells), fitted
 * on the crop's border band. */
typedef struct {
  ColourModel cytoplasm;
  ColourModel back[2];  /* back[0] the darker (red cells), back[1] the lighter (plasma) */
} CentreColours;

/* tuned on wbc-seg even ids; Dice cell moved by < 0.01 over 0.15-0.4, 1.6-3, 1-3 */
#define CENTRE_RING_WIDTH(radius) MAX (2.0, 0.25 * (radius))
#define CENTRE_REACH 2.0        /* nucleus radii */
#define CENTRE_CYTOPLASM_BONUS 2.0f  /* log-likelihood units: a prior odds of e */

static void
centre_colours_fit (const SsImage *crop, const float *dist, double radius, CentreColours *colours)
{
  const int w = crop->width, h = crop->height;
  const gsize n = (gsize) w * h;
  const double ring_width = CENTRE_RING_WIDTH (radius);
  const int band = MAX (2, (int) (0.04 * MIN (w, h)));
  g_autofree float *samples = g_new (float, n * 3);
  gsize m = 0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      if ((x < band || y < band || x >= w - band || y >= h - band)
          && dist[(gsize) y * w + x] > ring_width)
        {
          for (int c = 0; c < 3; c++)
            samples[m * 3 + c] = crop->rgb[((gsize) y * w + x) * 3 + c];
          m++;
        }
  colour_model_fit_two (colours->back, samples, m);
  m = 0;
  for (gsize i = 0; i < n; i++)
    if (dist[i] > 1.0 && dist[i] <= ring_width)  /* > 1: skip the blurred nucleus edge */
      {
        for (int c = 0; c < 3; c++)
          samples[m * 3 + c] = crop->rgb[i * 3 + c];
        m++;
      }
  colour_model_fit (&colours->cytoplasm, samples, m);
}

/* How much more a pixel looks like the cytoplasm than like either background model
 * (log-likelihood units, bonus included); > 0 means cytoplasm. */
static inline float
centre_colour_margin (const CentreColours *colours, const guint8 *rgb)
{
  float cytoplasm = colour_model_cost (&colours->cytoplasm, rgb) - CENTRE_CYTOPLASM_BONUS;
  float back = MIN (colour_model_cost (&colours->back[0], rgb),
                    colour_model_cost (&colours->back[1], rgb));
  return back - cytoplasm;
}

/* Tidy a raw cell mask around its nucleus: opening, the component on the nucleus, holes
 * filled, closing, necks to leaked neighbours cut, and optionally the convex hull, since
 * a white cell is round or oval and pale cytoplasm leaves notches in a colour mask (the
 * learned model leaves few, and there the hull only widened leaks: dataset2 ids 2 mod 4,
 * trained on 0 mod 4, Dice cell 0.963 with it, 0.972 without). */
static void
centre_cell_tidy (guint8 *cell, const guint8 *nucleus, int w, int h, double radius, gboolean hull)
{
  const gsize n = (gsize) w * h;
  ss_mask_open (cell, w, h, MAX (1.0, 0.08 * radius));
  keep_best_overlap (cell, nucleus, w, h);
  for (gsize i = 0; i < n; i++)
    cell[i] |= nucleus[i];
  ss_mask_fill_holes (cell, w, h);
  ss_mask_close (cell, w, h, MAX (1.0, 0.15 * radius));
  ss_mask_fill_holes (cell, w, h);

  /* a neighbour joined by a neck: what a wide opening cuts off, grown back by as much
   * and kept only where it touches the nucleus's part */
  const double neck = 0.2 * radius;
  g_autofree guint8 *core = g_memdup2 (cell, n);
  ss_mask_open (core, w, h, neck);
  keep_best_overlap (core, nucleus, w, h);
  ss_mask_dilate (core, w, h, neck, core);
  for (gsize i = 0; i < n; i++)
    cell[i] = (cell[i] && core[i]) || nucleus[i];
  keep_best_overlap (cell, nucleus, w, h);
  if (hull)
    mask_fill_convex_hull (cell, w, h);
}

/* The cell around a centred nucleus from the colour models alone: each pixel within two
 * nucleus radii goes to the cheapest model, the cytoplasm's cost lowered by a fixed
 * bonus because its pale rim is the least like the ring it was fitted on; then tidied.
 * (Refitting the cytoplasm on the cell found, EM style, walked into red cells; a
 * star-shaped radius filter about the nucleus failed on eccentric nuclei; both measured
 * worse on even ids.) */
static void
centre_cytoplasm (const SsImage *crop, const guint8 *nucleus, const float *dist, double radius,
                  const CentreColours *colours, guint8 *cell)
{
  const gsize n = (gsize) crop->width * crop->height;
  for (gsize i = 0; i < n; i++)
    {
      if (nucleus[i] || dist[i] > CENTRE_REACH * radius)
        cell[i] = nucleus[i];
      else
        cell[i] = centre_colour_margin (colours, crop->rgb + i * 3) > 0;
    }
  centre_cell_tidy (cell, nucleus, crop->width, crop->height, radius, TRUE);
}

/* Box mean of `values` (w x h) over a (2r+1)^2 window clipped to the image, by an
 * integral image (table is (w+1)*(h+1) doubles of scratch). */
static void
box_mean (const float *values, int w, int h, int r, double *table, float *out)
{
  for (int x = 0; x <= w; x++)
    table[x] = 0;
  for (int y = 0; y < h; y++)
    {
      double row = 0;
      table[(gsize) (y + 1) * (w + 1)] = 0;
      for (int x = 0; x < w; x++)
        {
          row += values[(gsize) y * w + x];
          table[(gsize) (y + 1) * (w + 1) + x + 1] = table[(gsize) y * (w + 1) + x + 1] + row;
        }
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int x0 = MAX (0, x - r), x1 = MIN (w, x + r + 1), y0 = MAX (0, y - r), y1 = MIN (h, y + r + 1);
        double sum = table[(gsize) y1 * (w + 1) + x1] - table[(gsize) y0 * (w + 1) + x1]
                     - table[(gsize) y1 * (w + 1) + x0] + table[(gsize) y0 * (w + 1) + x0];
        out[(gsize) y * w + x] = (float) (sum / ((double) (x1 - x0) * (y1 - y0)));
      }
}

double
ss_detect_centre_features (const SsImage *crop, guint8 *nucleus, guint8 *classic,
                           guint8 *candidate, float *features)
{
  const int w = crop->width, h = crop->height;
  const gsize n = (gsize) w * h;
  const int nf = SS_CENTRE_FEATURES;
  double area = centre_nucleus (crop, nucleus);
  if (area <= 0)
    return 0;
  const double radius = sqrt (area / G_PI);
  g_autofree float *dist = g_new (float, n);
  g_autofree float *inside = g_new (float, n);
  g_autofree float *outside = g_new (float, n);
  ss_distance_transform (nucleus, w, h, TRUE, dist);
  CentreColours colours;
  centre_colours_fit (crop, dist, radius, &colours);
  centre_cytoplasm (crop, nucleus, dist, radius, &colours, classic);
  ss_distance_transform (classic, w, h, FALSE, inside);
  ss_distance_transform (classic, w, h, TRUE, outside);

  /* local context: colour and texture over about a tenth of a nucleus radius (granules,
   * a red cell's pale centre), and the share of colour votes over a third */
  const int near = MAX (1, (int) (0.1 * radius)), wide = MAX (2, (int) (0.35 * radius));
  g_autofree double *table = g_new (double, (gsize) (w + 1) * (h + 1));
  g_autofree float *plane = g_new (float, n);
  g_autofree float *local = g_new (float, n * 6);
  for (int c = 0; c < 3; c++)
    {
      for (gsize i = 0; i < n; i++)
        plane[i] = crop->rgb[i * 3 + c];
      box_mean (plane, w, h, near, table, local + c * n);
    }
  for (gsize i = 0; i < n; i++)
    plane[i] = (float) crop->rgb[i * 3 + 1] * crop->rgb[i * 3 + 1];
  box_mean (plane, w, h, near, table, local + 3 * n);
  for (gsize i = 0; i < n; i++)
    plane[i] = !nucleus[i] && dist[i] <= CENTRE_REACH * radius
               && centre_colour_margin (&colours, crop->rgb + i * 3) > 0;
  box_mean (plane, w, h, wide, table, local + 4 * n);
  for (gsize i = 0; i < n; i++)
    plane[i] = ss_stain_score (crop->rgb + i * 3);
  box_mean (plane, w, h, near, table, local + 5 * n);

  const float *plasma = colours.back[1].mean, *ring = colours.cytoplasm.mean;
  const double half = 0.5 * MIN (w, h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        const gsize i = (gsize) y * w + x;
        candidate[i] = !nucleus[i] && dist[i] <= SS_CENTRE_REACH * radius;
        if (!candidate[i])
          continue;
        const guint8 *p = crop->rgb + i * 3;
        float *f = features + i * nf;
        for (int c = 0; c < 3; c++)
          {
            f[c] = p[c] / 255.0f;
            f[3 + c] = (p[c] - plasma[c]) / 64.0f;
            f[6 + c] = (p[c] - ring[c]) / 64.0f;
            f[9 + c] = (local[c * n + i] - plasma[c]) / 64.0f;
          }
        float mean_green = local[1 * n + i];
        f[12] = sqrtf (MAX (0.0f, local[3 * n + i] - mean_green * mean_green)) / 32.0f;
        f[13] = CLAMP (centre_colour_margin (&colours, p) / 20.0f, -3.0f, 3.0f);
        f[14] = CLAMP ((colour_model_cost (&colours.back[1], p)
                        - colour_model_cost (&colours.back[0], p)) / 20.0f, -3.0f, 3.0f);
        f[15] = (float) (dist[i] / radius);
        f[16] = (float) CLAMP ((classic[i] ? inside[i] : -outside[i]) / radius, -2.0, 2.0);
        f[17] = local[4 * n + i];
        f[18] = local[5 * n + i] / 64.0f;
        f[19] = (float) (hypot (x - w / 2.0, y - h / 2.0) / half);
      }
  return area;
}

SsCell *
ss_detect_centre_cell (const SsImage *crop, const SsDetectSettings *settings)
{
  g_return_val_if_fail (crop != NULL && settings != NULL, NULL);
  const int w = crop->width, h = crop->height;
  const gsize n = (gsize) w * h;
  g_autofree guint8 *nucleus = g_new (guint8, n);
  g_autofree guint8 *cell_mask = g_new (guint8, n);
  g_autofree guint8 *candidate = g_new (guint8, n);
  g_autofree float *features = g_new (float, n * SS_CENTRE_FEATURES);

  double area = ss_detect_centre_features (crop, nucleus, cell_mask, candidate, features);
  if (area <= 0)
    return NULL;
  /* the learned model re-decides every pixel in reach, the colour models' mask among its
   * inputs (it lets red cells and granular cytoplasm apart where they could not) */
  for (gsize i = 0; i < n; i++)
    cell_mask[i] = nucleus[i]
                   || (candidate[i]
                       && ss_cytoplasm_model_probability (&ss_cytoplasm_model,
                                                          features + i * SS_CENTRE_FEATURES) > 0.5f);
  centre_cell_tidy (cell_mask, nucleus, w, h, sqrt (area / G_PI), FALSE);
  SsCell *cell = ss_cell_new ();
  cell->box = (SsBox) { 0, 0, w, h };
  ss_rle_encode (&cell->mask, cell_mask, w, h);
  ss_rle_encode (&cell->nucleus_mask, nucleus, w, h);
  cell->predicted_class = cell->current_class = SS_CLASS_OTHER;
  cell->confidence = 1.0f;
  return cell;
}
