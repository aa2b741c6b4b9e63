/* Cell morphometrics from the RLE masks. */
#include "ss-morphometrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int
compare_points (const void *a, const void *b)
{
  const double *p = a, *q = b;
  return p[0] != q[0] ? (p[0] < q[0] ? -1 : 1) : (p[1] < q[1] ? -1 : p[1] > q[1]);
}

static inline int
at (const guint8 *mask, int width, int height, int x, int y)
{
  return x >= 0 && y >= 0 && x < width && y < height && mask[(gsize) y * width + x] != 0;
}

double
ss_mask_perimeter (const guint8 *mask, int width, int height)
{
  /* Each 2x2 neighbourhood (with a 1-pixel empty border around the mask) contributes
   * the segment(s) joining the midpoints of its mixed edges. */
  static const double diagonal = 0.70710678118654752;  /* corner cut: sqrt(0.5^2 + 0.5^2) */
  double length = 0;
  for (int y = -1; y < height; y++)
    for (int x = -1; x < width; x++)
      {
        int a = at (mask, width, height, x, y), b = at (mask, width, height, x + 1, y);
        int c = at (mask, width, height, x, y + 1), d = at (mask, width, height, x + 1, y + 1);
        int set = a + b + c + d;
        if (set == 1 || set == 3)
          length += diagonal;
        else if (set == 2)
          length += (a == d) ? 2 * diagonal : 1.0;  /* a == d: the two diagonal cases */
      }
  return length;
}

#define SOLIDITY_SIDE 64
#define SOLIDITY_GRID (SOLIDITY_SIDE + 2) /* with a one-pixel empty border */

/* Marks with `label` the 4-connected region of grid cells equal to `value` around
 * start (grid is SOLIDITY_GRID square); returns its size. */
static int
flood (guint8 *grid, int *stack, int start, guint8 value, guint8 label)
{
  int n = 0, top = 0;
  grid[start] = label;
  stack[top++] = start;
  while (top > 0)
    {
      int here = stack[--top];
      int x = here % SOLIDITY_GRID, y = here / SOLIDITY_GRID;
      n++;
      const int next[4] = { x > 0 ? here - 1 : -1, x < SOLIDITY_GRID - 1 ? here + 1 : -1,
                            y > 0 ? here - SOLIDITY_GRID : -1,
                            y < SOLIDITY_GRID - 1 ? here + SOLIDITY_GRID : -1 };
      for (int i = 0; i < 4; i++)
        if (next[i] >= 0 && grid[next[i]] == value)
          {
            grid[next[i]] = label;
            stack[top++] = next[i];
          }
    }
  return n;
}

static double
cross (const double *o, const double *a, const double *b)
{
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

double
ss_mask_solidity (const guint8 *mask, int width, int height)
{
  enum { EMPTY = 0, SET = 1, OUTSIDE = 2, KEPT = 3, SPECK = 4 };
  if (mask == NULL || width <= 0 || height <= 0)
    return 0;
  guint8 grid[SOLIDITY_GRID * SOLIDITY_GRID] = { 0 };
  int stack[SOLIDITY_GRID * SOLIDITY_GRID];
  for (int y = 0; y < SOLIDITY_SIDE; y++)
    {
      int sy = MIN ((int) ((y + 0.5) * height / SOLIDITY_SIDE), height - 1);
      for (int x = 0; x < SOLIDITY_SIDE; x++)
        {
          int sx = MIN ((int) ((x + 0.5) * width / SOLIDITY_SIDE), width - 1);
          grid[(y + 1) * SOLIDITY_GRID + x + 1] = mask[(gsize) sy * width + sx] != 0 ? SET : EMPTY;
        }
    }
  /* what the border's empty region does not reach is a hole: fill it */
  flood (grid, stack, 0, EMPTY, OUTSIDE);
  int total = 0;
  for (int i = 0; i < SOLIDITY_GRID * SOLIDITY_GRID; i++)
    {
      if (grid[i] == EMPTY)
        grid[i] = SET;
      total += grid[i] == SET;
    }
  if (total == 0)
    return 0;
  /* drop specks: regions under 8% of the whole */
  int kept = 0;
  for (int i = 0; i < SOLIDITY_GRID * SOLIDITY_GRID; i++)
    if (grid[i] == SET)
      {
        int n = flood (grid, stack, i, SET, KEPT);
        if (n * 100 < total * 8)
          flood (grid, stack, i, KEPT, SPECK);
        else
          kept += n;
      }
  /* hull round the corners of each row's leftmost and rightmost kept pixel */
  double points[4 * SOLIDITY_GRID][2];
  int n_points = 0;
  for (int y = 0; y < SOLIDITY_GRID; y++)
    {
      int left = -1, right = -1;
      for (int x = 0; x < SOLIDITY_GRID; x++)
        if (grid[y * SOLIDITY_GRID + x] == KEPT)
          {
            if (left < 0)
              left = x;
            right = x;
          }
      if (left < 0)
        continue;
      const double corners[4][2] = { { left, y }, { left, y + 1 }, { right + 1, y }, { right + 1, y + 1 } };
      memcpy (points[n_points], corners, sizeof corners);
      n_points += 4;
    }
  /* the points come row by row; sort them by x then y for the monotone chain */
  qsort (points, n_points, sizeof points[0], compare_points);
  double hull[4 * SOLIDITY_GRID + 1][2];
  int h = 0;
  for (int i = 0; i < n_points; i++)  /* lower chain */
    {
      while (h >= 2 && cross (hull[h - 2], hull[h - 1], points[i]) <= 0)
        h--;
      memcpy (hull[h++], points[i], sizeof hull[0]);
    }
  for (int i = n_points - 2, lower = h + 1; i >= 0; i--)  /* upper chain */
    {
      while (h >= lower && cross (hull[h - 2], hull[h - 1], points[i]) <= 0)
        h--;
      memcpy (hull[h++], points[i], sizeof hull[0]);
    }
  double area2 = 0;
  for (int i = 0; i + 1 < h; i++)
    area2 += hull[i][0] * hull[i + 1][1] - hull[i + 1][0] * hull[i][1];
  double hull_area = fabs (area2) / 2;
  return hull_area > 0 ? MIN (1.0, kept / hull_area) : 0;
}

void
ss_morphometrics_compute (const SsRle *cell_mask, const SsRle *nucleus_mask, SsMorphometrics *out)
{
  const int w = cell_mask->width, h = cell_mask->height;
  g_autofree guint8 *mask = g_new (guint8, MAX ((gsize) w * h, 1));
  ss_rle_decode (cell_mask, mask);
  out->area = (double) ss_rle_area (cell_mask);
  out->perimeter = ss_mask_perimeter (mask, w, h);
  out->circularity = out->perimeter > 0
                       ? MIN (1.0, 4 * G_PI * out->area / (out->perimeter * out->perimeter)) : 0;
  out->nucleus_area = nucleus_mask->n_runs > 0 ? (double) ss_rle_area (nucleus_mask) : 0;
  out->nucleus_solidity = 0;
  if (out->nucleus_area > 0)
    {
      const int nw = nucleus_mask->width, nh = nucleus_mask->height;
      g_autofree guint8 *nucleus = g_new (guint8, MAX ((gsize) nw * nh, 1));
      ss_rle_decode (nucleus_mask, nucleus);
      out->nucleus_solidity = ss_mask_solidity (nucleus, nw, nh);
    }
  double cytoplasm = out->area - out->nucleus_area;
  out->nc_ratio = cytoplasm > 0 ? out->nucleus_area / cytoplasm : 0;
}
