/* The scale of a field from its red cells: a Hough transform for dark discs over a range
 * of radii. Every edge pixel votes for the point one radius behind it, against its
 * gradient (a red cell is darker than the plasma around it, in green above all, so the
 * gradient at its rim points outward); at a red cell's own radius the votes of its whole
 * rim meet at its centre, at any other radius they spread over a ring. The pale centre
 * of a red cell votes outward and meets nothing. The radius at which the most circles
 * are confirmed, weighted by how much of each rim the edges confirm, is the red cells'. */
#include "ss-scale.h"

#include "ss-metrics.h"
#include "ss-preprocess.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define WORK_LONG_SIDE   256     /* the copy the transform runs on, long side */
#define MIN_RADIUS       3.5     /* working pixels */
#define RADIUS_STEP      1.04    /* radii grow by 4% a step: half the 15% the scale may miss by */
#define REACH            0.08    /* how far off a vote may land and still count, x r */
#define MIN_SUPPORT      0.30    /* a circle's votes over its circumference, to count */
#define SURE_SUPPORT     0.40    /* the mean support of a believed scale's circles */

typedef struct {
  int   width, height;
  int   n_edges;
  int  *edge_at;     /* pixel index of each edge pixel */
  float *ux, *uy;    /* its unit gradient (towards the lighter side) */
} Edges;

static void
box_blur3 (float *values, float *scratch, int width, int height)
{
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const float *row = values + (gsize) y * width;
        float sum = row[x] + row[MAX (0, x - 1)] + row[MIN (width - 1, x + 1)];
        scratch[(gsize) y * width + x] = sum / 3.0f;
      }
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        float sum = scratch[(gsize) y * width + x] + scratch[(gsize) MAX (0, y - 1) * width + x]
                    + scratch[(gsize) MIN (height - 1, y + 1) * width + x];
        values[(gsize) y * width + x] = sum / 3.0f;
      }
}

static int
compare_floats (const void *a,
                const void *b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* The edges of the green channel: Sobel on a twice box-blurred copy, kept where the
 * gradient is among the strongest fifth of the field's and clearly above flat noise. */
static void
edges_find (const SsImage *work,
            Edges         *edges)
{
  const int w = work->width, h = work->height;
  const gsize n = (gsize) w * h;
  g_autofree float *grey = g_new (float, n);
  g_autofree float *scratch = g_new (float, n);
  g_autofree float *gx = g_new0 (float, n);
  g_autofree float *gy = g_new0 (float, n);
  g_autofree float *magnitude = g_new0 (float, n);
  g_autofree float *sorted = NULL;
  gsize n_inner = 0;
  float threshold;

  for (gsize i = 0; i < n; i++)
    grey[i] = work->rgb[i * 3 + 1];
  box_blur3 (grey, scratch, w, h);
  box_blur3 (grey, scratch, w, h);

  for (int y = 1; y < h - 1; y++)
    for (int x = 1; x < w - 1; x++)
      {
        const float *r0 = grey + (gsize) (y - 1) * w, *r1 = grey + (gsize) y * w,
                    *r2 = grey + (gsize) (y + 1) * w;
        gsize i = (gsize) y * w + x;
        gx[i] = (r0[x + 1] + 2 * r1[x + 1] + r2[x + 1]) - (r0[x - 1] + 2 * r1[x - 1] + r2[x - 1]);
        gy[i] = (r2[x - 1] + 2 * r2[x] + r2[x + 1]) - (r0[x - 1] + 2 * r0[x] + r0[x + 1]);
        magnitude[i] = sqrtf (gx[i] * gx[i] + gy[i] * gy[i]);
      }

  sorted = g_new (float, n);
  for (int y = 1; y < h - 1; y++)
    for (int x = 1; x < w - 1; x++)
      sorted[n_inner++] = magnitude[(gsize) y * w + x];
  edges->width = w;
  edges->height = h;
  edges->n_edges = 0;
  edges->edge_at = g_new (int, MAX (n_inner, 1));
  edges->ux = g_new (float, MAX (n_inner, 1));
  edges->uy = g_new (float, MAX (n_inner, 1));
  if (n_inner == 0)
    return;
  qsort (sorted, n_inner, sizeof (float), compare_floats);
  /* a Sobel step of 8 grey levels over the 4-weighted kernel: a faint rim still counts */
  threshold = MAX (32.0f, sorted[(gsize) (0.8 * (n_inner - 1))]);

  for (int y = 1; y < h - 1; y++)
    for (int x = 1; x < w - 1; x++)
      {
        gsize i = (gsize) y * w + x;
        if (magnitude[i] < threshold)
          continue;
        edges->edge_at[edges->n_edges] = (int) i;
        edges->ux[edges->n_edges] = gx[i] / magnitude[i];
        edges->uy[edges->n_edges] = gy[i] / magnitude[i];
        edges->n_edges++;
      }
}

static void
edges_clear (Edges *edges)
{
  g_free (edges->edge_at);
  g_free (edges->ux);
  g_free (edges->uy);
}

typedef struct {
  float value;
  int   at;
} Candidate;

static int
compare_candidates (const void *a,
                    const void *b)
{
  const Candidate *x = a, *y = b;
  return (x->value < y->value) - (x->value > y->value);
}

/* The circles of radius r (working pixels) the edges confirm: count and summed support
 * (votes near the centre over the circumference, each above MIN_SUPPORT). */
/* values becomes the sum over the square of side 2 half + 1 around each point (clipped) */
static void
box_sum (float *values,
         float *scratch,
         int    w,
         int    h,
         int    half)
{
  for (int y = 0; y < h; y++)
    {
      float sum = 0;
      const float *row = values + (gsize) y * w;
      for (int x = 0; x < MIN (half, w); x++)
        sum += row[x];
      for (int x = 0; x < w; x++)
        {
          if (x + half < w)
            sum += row[x + half];
          if (x - half - 1 >= 0)
            sum -= row[x - half - 1];
          scratch[(gsize) y * w + x] = sum;
        }
    }
  /* down the columns, a row at a time (memory order): a running sum per column */
  {
    g_autofree float *column = g_new0 (float, w);
    for (int y = 0; y < MIN (half, h); y++)
      for (int x = 0; x < w; x++)
        column[x] += scratch[(gsize) y * w + x];
    for (int y = 0; y < h; y++)
      {
        if (y + half < h)
          {
            const float *add = scratch + (gsize) (y + half) * w;
            for (int x = 0; x < w; x++)
              column[x] += add[x];
          }
        if (y - half - 1 >= 0)
          {
            const float *drop = scratch + (gsize) (y - half - 1) * w;
            for (int x = 0; x < w; x++)
              column[x] -= drop[x];
          }
        memcpy (values + (gsize) y * w, column, w * sizeof (float));
      }
  }
}

static void
circles_at_radius (const Edges *edges,
                   double       r,
                   float       *votes,
                   float       *spread,
                   float       *wider,
                   float       *scratch,
                   guint8      *taken,
                   int         *n_circles,
                   double      *support)
{
  const int w = edges->width, h = edges->height;
  const gsize n = (gsize) w * h;
  const double circumference = 2.0 * G_PI * r;
  const double min_votes = MIN_SUPPORT * circumference;
  const double spacing2 = (1.2 * r) * (1.2 * r);   /* two red cells' centres are apart by ~2r */
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));

  memset (votes, 0, n * sizeof (float));
  for (int e = 0; e < edges->n_edges; e++)
    {
      int at = edges->edge_at[e];
      int cx = (int) lround (at % w - r * edges->ux[e]);
      int cy = (int) lround (at / w - r * edges->uy[e]);
      if (cx >= 0 && cx < w && cy >= 0 && cy < h)
        votes[(gsize) cy * w + cx] += 1.0f;
    }

  /* the votes within `reach` of each point (a rim a little off round still meets), less
   * what the same square would gather from the votes spread around it within r: edges
   * dense enough vote everywhere, and only a centre stands above its surroundings. The
   * reach grows with r without steps (a blend of the two whole squares around it), so
   * that no radius gains votes from a sudden wider catch. */
  {
    const double reach = MAX (1.0, REACH * r);
    const int inner = (int) reach;
    const float f = (float) (reach - inner);
    const int big = MAX (inner + 2, (int) lround (r));
    const double area = (1 - f) * (2 * inner + 1) * (2 * inner + 1) + f * (2 * inner + 3) * (2 * inner + 3);
    const float ratio = (float) (area / ((2 * big + 1) * (2 * big + 1)));

    memcpy (spread, votes, n * sizeof (float));
    box_sum (spread, scratch, w, h, big);
    memcpy (wider, votes, n * sizeof (float));
    box_sum (wider, scratch, w, h, inner + 1);
    box_sum (votes, scratch, w, h, inner);
    for (gsize i = 0; i < n; i++)
      votes[i] = (1 - f) * votes[i] + f * wider[i] - ratio * spread[i];
  }

  /* a circle's centre must leave most of it inside the field */
  for (int y = (int) (0.5 * r); y < h - (int) (0.5 * r); y++)
    for (int x = (int) (0.5 * r); x < w - (int) (0.5 * r); x++)
      {
        float v = votes[(gsize) y * w + x];
        if (v >= min_votes)
          {
            Candidate c = { v, y * w + x };
            g_array_append_val (candidates, c);
          }
      }
  if (candidates->len > 1)  /* no candidates: no array to sort (qsort of NULL) */
    qsort (candidates->data, candidates->len, sizeof (Candidate), compare_candidates);

  /* the strongest first; a centre closer than 1.2 r to one kept is the same cell's, or
   * a neighbour's rim crossing it */
  *n_circles = 0;
  *support = 0;
  memset (taken, 0, n);
  for (guint i = 0; i < candidates->len; i++)
    {
      const Candidate *c = &g_array_index (candidates, Candidate, i);
      int x = c->at % w, y = c->at / w;
      int reach = (int) ceil (1.2 * r);

      if (taken[c->at])
        continue;
      for (int dy = -reach; dy <= reach; dy++)
        for (int dx = -reach; dx <= reach; dx++)
          if (dx * dx + dy * dy < spacing2 && x + dx >= 0 && x + dx < w && y + dy >= 0 && y + dy < h)
            taken[(gsize) (y + dy) * w + x + dx] = 1;
      (*n_circles)++;
      *support += MIN (1.0, c->value / circumference);
    }
}

void
ss_scale_estimate (const SsImage   *image,
                   SsScaleEstimate *estimate)
{
  const double s = MIN (1.0, (double) WORK_LONG_SIDE / MAX (image->width, image->height));
  g_autoptr (SsImage) work = NULL;
  Edges edges = { 0 };
  g_autofree float *votes = NULL;
  g_autofree float *scratch = NULL;
  g_autofree float *spread = NULL;
  g_autofree float *wider = NULL;
  g_autofree guint8 *taken = NULL;
  g_autoptr (GArray) radii = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) scores = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) counts = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GArray) supports = g_array_new (FALSE, FALSE, sizeof (double));
  guint best = 0;
  double r_max;

  memset (estimate, 0, sizeof *estimate);
  work = s < 1.0 ? ss_preprocess_scale (image, s) : ss_preprocess_scale (image, 1.0);
  r_max = MIN (work->width, work->height) / 4.0;
  if (r_max < MIN_RADIUS)
    return;

  edges_find (work, &edges);
  votes = g_new (float, (gsize) work->width * work->height);
  scratch = g_new (float, (gsize) work->width * work->height);
  spread = g_new (float, (gsize) work->width * work->height);
  wider = g_new (float, (gsize) work->width * work->height);
  taken = g_new (guint8, (gsize) work->width * work->height);
  for (double r = MIN_RADIUS; r <= r_max; r *= RADIUS_STEP)
    {
      int n_circles;
      double support, score;

      circles_at_radius (&edges, r, votes, spread, wider, scratch, taken, &n_circles, &support);
      /* each circle counts by how far its support clears the bar, times its area: at the
       * red cells' radius their circles cover much of the field, while the many small
       * circles that texture and specks make at small radii cover little of it */
      score = (support - MIN_SUPPORT * n_circles) * r * r;
      g_array_append_val (radii, r);
      g_array_append_val (scores, score);
      g_array_append_val (counts, n_circles);
      g_array_append_val (supports, support);
      if (g_getenv ("SS_SCALE_DEBUG"))
        g_printerr ("r %.1f (full %.1f): circles %d support %.2f score %.2f\n", r, r / s, n_circles, n_circles ? support / n_circles : 0, score);
    }
  edges_clear (&edges);

  for (guint k = 1; k < scores->len; k++)
    if (g_array_index (scores, double, k) > g_array_index (scores, double, best))
      best = k;
  if (scores->len == 0 || g_array_index (counts, int, best) == 0)
    return;

  /* between the radii either side of the best, where a parabola through the three peaks */
  double r = g_array_index (radii, double, best);
  if (best > 0 && best + 1 < scores->len)
    {
      double a = g_array_index (scores, double, best - 1);
      double b = g_array_index (scores, double, best);
      double c = g_array_index (scores, double, best + 1);
      double denominator = a - 2 * b + c;
      if (denominator < 0)
        r *= pow (RADIUS_STEP, CLAMP (0.5 * (a - c) / denominator, -0.5, 0.5));
    }

  estimate->n_circles = g_array_index (counts, int, best);
  estimate->support = g_array_index (supports, double, best) / estimate->n_circles;
  estimate->red_cell_diameter = 2.0 * r / s;
  estimate->cell_diameter = SS_WHITE_TO_RED_DIAMETER * estimate->red_cell_diameter;
  estimate->sure = estimate->n_circles >= SS_SCALE_MIN_CIRCLES && estimate->support >= SURE_SUPPORT;
}

struct _SsScalePool
{
  GArray  *diameters;  /* double, the sure fields' white-cell diameters */
  guint    seen;       /* fields offered, sure or not */
  gboolean complete;   /* primed with every field it will be asked about: takes no more */
};

SsScalePool *
ss_scale_pool_new (void)
{
  SsScalePool *pool = g_new0 (SsScalePool, 1);
  pool->diameters = g_array_new (FALSE, FALSE, sizeof (double));
  return pool;
}

void
ss_scale_pool_free (SsScalePool *pool)
{
  if (pool == NULL)
    return;
  g_array_unref (pool->diameters);
  g_free (pool);
}

void
ss_scale_pool_add_stored (SsScalePool *pool,
                          double       cell_diameter,
                          const char  *scale_source)
{
  g_return_if_fail (pool != NULL);
  if (g_strcmp0 (scale_source, "red-cells") == 0 && cell_diameter > 0 && isfinite (cell_diameter))
    {
      g_array_append_val (pool->diameters, cell_diameter);
      pool->seen++;
    }
  /* a field whose red cells did not tell counts against the few that seemed to */
  else if (g_strcmp0 (scale_source, "fallback") == 0)
    pool->seen++;
}

void
ss_scale_pool_prime (SsScalePool        *pool,
                     const char *const  *paths,
                     int                 n,
                     gint64              max_pixels)
{
  g_return_if_fail (pool != NULL);
  const int take = MIN (n, SS_SCALE_PRIME_FIELDS);
  for (int k = 0; k < take; k++)
    {
      /* evenly spread: the first, the last, and between */
      const int i = take == 1 ? 0 : (int) ((gint64) k * (n - 1) / (take - 1));
      g_autoptr (SsImage) image = ss_image_load (paths[i], max_pixels, NULL);
      if (image == NULL)
        continue;
      SsScaleEstimate estimate;
      ss_scale_estimate (image, &estimate);
      ss_scale_pool_add (pool, &estimate);
    }
  pool->complete = take == n;
}

double
ss_scale_pool_add (SsScalePool           *pool,
                   const SsScaleEstimate *estimate)
{
  guint n;
  g_autofree double *sorted = NULL;

  g_return_val_if_fail (pool != NULL && estimate != NULL, 0);

  if (!pool->complete)
    {
      pool->seen++;
      if (estimate->sure)
        g_array_append_val (pool->diameters, estimate->cell_diameter);
    }
  n = pool->diameters->len;
  /* a case whose fields mostly show no red cells to measure (pictures of one cell each)
   * does not take its scale from the few that seem to: what they measured is most
   * likely the cell's own texture */
  if (n == 0 || n * SS_SCALE_POOL_SURE_SHARE < pool->seen)
    return 0;
  sorted = g_memdup2 (pool->diameters->data, n * sizeof (double));
  ss_sort_doubles (sorted, n);
  return ss_median_sorted (sorted, n);
}
