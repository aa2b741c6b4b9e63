/* Binary-image tools for the cell finder. The distance transform is the exact
 * two-pass lower-envelope method of Felzenszwalb and Huttenlocher, so discs used for
 * morphology are true discs at any radius and cost the same at any radius. */
#include "ss-morphology.h"

#include <math.h>
#include <string.h>

#define EDT_INF 1e20f

float
ss_otsu_threshold (const float *values, gsize n, float lo, float hi)
{
  double hist[256] = { 0 };
  const double scale = 255.0 / MAX (hi - lo, 1e-6f);
  for (gsize i = 0; i < n; i++)
    {
      int bin = (int) ((CLAMP (values[i], lo, hi) - lo) * scale);
      hist[CLAMP (bin, 0, 255)] += 1;
    }
  double total = 0, sum_all = 0;
  for (int b = 0; b < 256; b++)
    {
      total += hist[b];
      sum_all += b * hist[b];
    }
  double w0 = 0, sum0 = 0, best = -1;
  int best_bin = 127;
  for (int b = 0; b < 255; b++)
    {
      w0 += hist[b];
      sum0 += b * hist[b];
      double w1 = total - w0;
      if (w0 <= 0 || w1 <= 0)
        continue;
      double m0 = sum0 / w0, m1 = (sum_all - sum0) / w1;
      double between = w0 * w1 * (m0 - m1) * (m0 - m1);
      if (between > best)
        {
          best = between;
          best_bin = b;
        }
    }
  return lo + (best_bin + 1) / (float) scale;
}

void
ss_otsu_two_thresholds (const float *values, gsize n, float lo, float hi, float *low, float *high)
{
  double hist[256] = { 0 }, count[257] = { 0 }, moment[257] = { 0 };
  const double scale = 255.0 / MAX (hi - lo, 1e-6f);
  for (gsize i = 0; i < n; i++)
    {
      int bin = (int) ((CLAMP (values[i], lo, hi) - lo) * scale);
      hist[CLAMP (bin, 0, 255)] += 1;
    }
  /* prefix sums: a class [a, b) has count[b] - count[a] values */
  for (int b = 0; b < 256; b++)
    {
      count[b + 1] = count[b] + hist[b];
      moment[b + 1] = moment[b] + b * hist[b];
    }
  double best = -1;
  int best_a = 85, best_b = 170;
  for (int a = 1; a < 255; a++)
    for (int b = a + 1; b < 256; b++)
      {
        double between = 0;
        const int edges[4] = { 0, a, b, 256 };
        gboolean empty = FALSE;
        for (int k = 0; k < 3; k++)
          {
            double w = count[edges[k + 1]] - count[edges[k]];
            double m = moment[edges[k + 1]] - moment[edges[k]];
            if (w <= 0)
              {
                empty = TRUE;
                break;
              }
            between += m * m / w;  /* sum of w * mean^2; the total mean term is constant */
          }
        if (!empty && between > best)
          best = between, best_a = a, best_b = b;
      }
  if (best < 0)
    {
      /* fewer than three distinct levels: the two-class split serves as both */
      *low = *high = ss_otsu_threshold (values, n, lo, hi);
      return;
    }
  *low = lo + best_a / (float) scale;
  *high = lo + best_b / (float) scale;
}

/* One dimension of the squared distance transform: f (n samples) in, d out. v and z
 * are scratch of n and n + 1. */
static void
edt_1d (const float *f, int n, float *d, int *v, float *z)
{
  int k = 0;
  v[0] = 0;
  z[0] = -EDT_INF;
  z[1] = EDT_INF;
  for (int q = 1; q < n; q++)
    {
      float s = ((f[q] + (float) q * q) - (f[v[k]] + (float) v[k] * v[k])) / (2.0f * (q - v[k]));
      while (s <= z[k])
        {
          k--;
          s = ((f[q] + (float) q * q) - (f[v[k]] + (float) v[k] * v[k])) / (2.0f * (q - v[k]));
        }
      k++;
      v[k] = q;
      z[k] = s;
      z[k + 1] = EDT_INF;
    }
  k = 0;
  for (int q = 0; q < n; q++)
    {
      while (z[k + 1] < q)
        k++;
      float dq = (float) (q - v[k]);
      d[q] = dq * dq + f[v[k]];
    }
}

void
ss_distance_transform (const guint8 *mask, int width, int height, gboolean target, float *dist)
{
  const int n = MAX (width, height);
  g_autofree float *f = g_new (float, n);
  g_autofree float *d = g_new (float, n);
  g_autofree float *z = g_new (float, n + 1);
  g_autofree int *v = g_new (int, n);
  const gsize area = (gsize) width * height;

  for (gsize i = 0; i < area; i++)
    dist[i] = ((mask[i] != 0) == (target != 0)) ? 0.0f : EDT_INF;
  for (int x = 0; x < width; x++)
    {
      for (int y = 0; y < height; y++)
        f[y] = dist[(gsize) y * width + x];
      edt_1d (f, height, d, v, z);
      for (int y = 0; y < height; y++)
        dist[(gsize) y * width + x] = d[y];
    }
  for (int y = 0; y < height; y++)
    {
      float *row = dist + (gsize) y * width;
      memcpy (f, row, sizeof (float) * width);
      edt_1d (f, width, row, v, z);
    }
  for (gsize i = 0; i < area; i++)
    dist[i] = sqrtf (dist[i]);
}

void
ss_mask_dilate (const guint8 *mask, int width, int height, double radius, guint8 *out)
{
  const gsize area = (gsize) width * height;
  g_autofree float *dist = g_new (float, area);
  ss_distance_transform (mask, width, height, TRUE, dist);
  for (gsize i = 0; i < area; i++)
    out[i] = dist[i] <= radius;
}

void
ss_mask_erode (const guint8 *mask, int width, int height, double radius, guint8 *out)
{
  const gsize area = (gsize) width * height;
  g_autofree float *dist = g_new (float, area);
  ss_distance_transform (mask, width, height, FALSE, dist);
  for (gsize i = 0; i < area; i++)
    out[i] = dist[i] > radius;
}

void
ss_mask_open (guint8 *mask, int width, int height, double radius)
{
  ss_mask_erode (mask, width, height, radius, mask);
  ss_mask_dilate (mask, width, height, radius, mask);
}

void
ss_mask_close (guint8 *mask, int width, int height, double radius)
{
  ss_mask_dilate (mask, width, height, radius, mask);
  ss_mask_erode (mask, width, height, radius, mask);
}

int
ss_mask_label (const guint8 *mask, int width, int height, int *labels, int **areas)
{
  const gsize area = (gsize) width * height;
  g_autofree int *stack = g_new (int, area);
  GArray *sizes = g_array_new (FALSE, TRUE, sizeof (int));
  int n = 0;
  g_array_set_size (sizes, 1);
  memset (labels, 0, sizeof (int) * area);
  for (gsize start = 0; start < area; start++)
    {
      if (mask[start] == 0 || labels[start] != 0)
        continue;
      int top = 0, count = 0;
      n++;
      labels[start] = n;
      stack[top++] = (int) start;
      while (top > 0)
        {
          int i = stack[--top], x = i % width, y = i / width;
          count++;
          for (int dy = -1; dy <= 1; dy++)
            for (int dx = -1; dx <= 1; dx++)
              {
                int nx = x + dx, ny = y + dy;
                if (nx < 0 || ny < 0 || nx >= width || ny >= height)
                  continue;
                int j = ny * width + nx;
                if (mask[j] != 0 && labels[j] == 0)
                  {
                    labels[j] = n;
                    stack[top++] = j;
                  }
              }
        }
      g_array_append_val (sizes, count);
    }
  if (areas != NULL)
    *areas = (int *) g_array_free (sizes, FALSE);
  else
    g_array_free (sizes, TRUE);
  return n;
}

void
ss_mask_fill_holes (guint8 *mask, int width, int height)
{
  const gsize area = (gsize) width * height;
  g_autofree guint8 *outside = g_new0 (guint8, area);
  g_autofree int *stack = g_new (int, area);
  int top = 0;
  for (int x = 0; x < width; x++)
    for (int k = 0; k < 2; k++)
      {
        int i = (k == 0 ? 0 : height - 1) * width + x;
        if (mask[i] == 0 && !outside[i])
          outside[i] = 1, stack[top++] = i;
      }
  for (int y = 0; y < height; y++)
    for (int k = 0; k < 2; k++)
      {
        int i = y * width + (k == 0 ? 0 : width - 1);
        if (mask[i] == 0 && !outside[i])
          outside[i] = 1, stack[top++] = i;
      }
  while (top > 0)
    {
      int i = stack[--top], x = i % width, y = i / width;
      const int nx[4] = { x - 1, x + 1, x, x }, ny[4] = { y, y, y - 1, y + 1 };
      for (int k = 0; k < 4; k++)
        {
          if (nx[k] < 0 || ny[k] < 0 || nx[k] >= width || ny[k] >= height)
            continue;
          int j = ny[k] * width + nx[k];
          if (mask[j] == 0 && !outside[j])
            {
              outside[j] = 1;
              stack[top++] = j;
            }
        }
    }
  for (gsize i = 0; i < area; i++)
    if (!outside[i])
      mask[i] = 1;
}

void
ss_mask_remove_small (guint8 *mask, int width, int height, int min_area)
{
  const gsize area = (gsize) width * height;
  g_autofree int *labels = g_new (int, area);
  g_autofree int *sizes = NULL;
  ss_mask_label (mask, width, height, labels, &sizes);
  for (gsize i = 0; i < area; i++)
    if (labels[i] != 0 && sizes[labels[i]] < min_area)
      mask[i] = 0;
}

/* A binary min-heap of (cost, pixel), ordered by cost then by insertion so that equal
 * plateaus flood breadth-first. */
typedef struct {
  float   cost;
  guint32 order;
  int     pixel;
} HeapItem;

typedef struct {
  HeapItem *items;
  gsize     len, cap;
  guint32   counter;
} Heap;

static gboolean
heap_less (const HeapItem *a, const HeapItem *b)
{
  return a->cost < b->cost || (a->cost == b->cost && a->order < b->order);
}

static void
heap_push (Heap *heap, float cost, int pixel)
{
  if (heap->len == heap->cap)
    {
      heap->cap = MAX (64, heap->cap * 2);
      heap->items = g_renew (HeapItem, heap->items, heap->cap);
    }
  gsize i = heap->len++;
  HeapItem item = { cost, heap->counter++, pixel };
  while (i > 0)
    {
      gsize parent = (i - 1) / 2;
      if (!heap_less (&item, &heap->items[parent]))
        break;
      heap->items[i] = heap->items[parent];
      i = parent;
    }
  heap->items[i] = item;
}

static HeapItem
heap_pop (Heap *heap)
{
  HeapItem top = heap->items[0];
  HeapItem last = heap->items[--heap->len];
  gsize i = 0;
  for (;;)
    {
      gsize child = 2 * i + 1;
      if (child >= heap->len)
        break;
      if (child + 1 < heap->len && heap_less (&heap->items[child + 1], &heap->items[child]))
        child++;
      if (!heap_less (&heap->items[child], &last))
        break;
      heap->items[i] = heap->items[child];
      i = child;
    }
  if (heap->len > 0)
    heap->items[i] = last;
  return top;
}

void
ss_watershed (const float *cost, const guint8 *mask, int width, int height, int *labels)
{
  const gsize area = (gsize) width * height;
  g_autofree guint8 *queued = g_new0 (guint8, area);
  Heap heap = { 0 };
  for (gsize i = 0; i < area; i++)
    if (labels[i] > 0)
      {
        queued[i] = 1;
        heap_push (&heap, cost[i], (int) i);
      }
    else if (mask[i] == 0)
      labels[i] = 0;
  while (heap.len > 0)
    {
      HeapItem item = heap_pop (&heap);
      int i = item.pixel, x = i % width, y = i / width;
      const int nx[4] = { x - 1, x + 1, x, x }, ny[4] = { y, y, y - 1, y + 1 };
      for (int k = 0; k < 4; k++)
        {
          if (nx[k] < 0 || ny[k] < 0 || nx[k] >= width || ny[k] >= height)
            continue;
          int j = ny[k] * width + nx[k];
          if (queued[j] || mask[j] == 0)
            continue;
          queued[j] = 1;
          labels[j] = labels[i];
          heap_push (&heap, MAX (cost[j], item.cost), j);
        }
    }
  g_free (heap.items);
}
