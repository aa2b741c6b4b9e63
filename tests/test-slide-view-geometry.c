/* The slide view's pure geometry (issue 26): image <-> widget mapping, zoom about a
 * point, centring, fitting, and the mask outlines traced from RLEs. No display. */
#define G_LOG_DOMAIN "smearscope-test"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "ss-slide-view.h"

static void
test_mapping (void)
{
  SsSlideGeometry g = {
    .image_width = 1000, .image_height = 800,
    .view_width = 500, .view_height = 400,
    .scale = 1.0, .scroll_x = 100, .scroll_y = 50,
  };
  double x, y, ix, iy;

  ss_slide_geometry_get_origin (&g, &x, &y);
  g_assert_cmpfloat (x, ==, -100);
  g_assert_cmpfloat (y, ==, -50);
  ss_slide_geometry_widget_to_image (&g, 0, 0, &ix, &iy);
  g_assert_cmpfloat (ix, ==, 100);
  g_assert_cmpfloat (iy, ==, 50);

  g.scale = 2.5;
  g.scroll_x = 740;
  g.scroll_y = 310;
  ss_slide_geometry_widget_to_image (&g, 123, 77, &ix, &iy);
  ss_slide_geometry_image_to_widget (&g, ix, iy, &x, &y);
  g_assert_cmpfloat_with_epsilon (x, 123, 1e-9);
  g_assert_cmpfloat_with_epsilon (y, 77, 1e-9);
  g_assert_cmpfloat_with_epsilon (ix, (123 + 740) / 2.5, 1e-9);

  /* smaller than the view: centred, whatever the scroll says */
  g.scale = 0.25;
  g.scroll_x = 999;
  g.scroll_y = 999;
  ss_slide_geometry_get_origin (&g, &x, &y);
  g_assert_cmpfloat (x, ==, (500 - 250) / 2);
  g_assert_cmpfloat (y, ==, (400 - 200) / 2);
  ss_slide_geometry_get_max_scroll (&g, &x, &y);
  g_assert_cmpfloat (x, ==, 0);
  g_assert_cmpfloat (y, ==, 0);

  /* one axis fits, the other scrolls */
  g.scale = 0.6;   /* content 600 x 480 in 500 x 400 */
  g.image_width = 700;   /* 420 wide: fits */
  g.scroll_x = 0;
  g.scroll_y = 30;
  ss_slide_geometry_get_origin (&g, &x, &y);
  g_assert_cmpfloat (x, ==, 40);
  g_assert_cmpfloat (y, ==, -30);
  ss_slide_geometry_get_max_scroll (&g, &x, &y);
  g_assert_cmpfloat (x, ==, 0);
  g_assert_cmpfloat_with_epsilon (y, 80, 1e-9);
}

/* The image point under the anchor stays under it (to the pixel: origins are whole). */
static void
check_zoom_keeps (SsSlideGeometry *g,
                  double           new_scale,
                  double           wx,
                  double           wy)
{
  SsSlideGeometry after = *g;
  double ix, iy, x, y;

  ss_slide_geometry_widget_to_image (g, wx, wy, &ix, &iy);
  ss_slide_geometry_zoom_about (g, new_scale, wx, wy, &after.scroll_x, &after.scroll_y);
  after.scale = new_scale;
  ss_slide_geometry_image_to_widget (&after, ix, iy, &x, &y);
  g_assert_cmpfloat (fabs (x - wx), <=, 1.0);
  g_assert_cmpfloat (fabs (y - wy), <=, 1.0);
  *g = after;
}

static void
test_zoom_about (void)
{
  SsSlideGeometry g = {
    .image_width = 2592, .image_height = 1944,
    .view_width = 1200, .view_height = 800,
    .scale = 1.0, .scroll_x = 100, .scroll_y = 50,
  };
  double sx, sy, max_x, max_y;

  /* in: the point (300, 150) of the image stays at (200, 100) of the widget */
  ss_slide_geometry_zoom_about (&g, 2.0, 200, 100, &sx, &sy);
  g_assert_cmpfloat_with_epsilon (sx, 300 * 2.0 - 200, 1e-9);
  g_assert_cmpfloat_with_epsilon (sy, 150 * 2.0 - 100, 1e-9);

  check_zoom_keeps (&g, 2.0, 200, 100);
  check_zoom_keeps (&g, 3.7, 1111, 799);
  check_zoom_keeps (&g, 8.0, 600, 400);
  check_zoom_keeps (&g, 1.3, 13, 17);

  /* about the top-left corner of the field at the view's top-left: stays at 0 */
  g.scroll_x = g.scroll_y = 0;
  g.scale = 1.0;
  ss_slide_geometry_zoom_about (&g, 0.8, 0, 0, &sx, &sy);
  g_assert_cmpfloat (sx, ==, 0);
  g_assert_cmpfloat (sy, ==, 0);

  /* near the far edge the scroll is clamped to the content, never past it */
  g.scroll_x = 2592 - 1200;
  g.scroll_y = 1944 - 800;
  ss_slide_geometry_zoom_about (&g, 0.9, 1200, 800, &sx, &sy);
  g.scale = 0.9;
  ss_slide_geometry_get_max_scroll (&g, &max_x, &max_y);
  g_assert_cmpfloat_with_epsilon (sx, max_x, 1e-9);
  g_assert_cmpfloat_with_epsilon (sy, max_y, 1e-9);

  /* out until it fits: no scroll at all */
  g.scale = 1.0;
  ss_slide_geometry_zoom_about (&g, 0.2, 700, 300, &sx, &sy);
  g_assert_cmpfloat (sx, ==, 0);
  g_assert_cmpfloat (sy, ==, 0);
}

static void
test_center_and_fit (void)
{
  SsSlideGeometry g = {
    .image_width = 2592, .image_height = 1944,
    .view_width = 1200, .view_height = 800,
    .scale = 2.0,
  };
  double sx, sy, x, y;

  ss_slide_geometry_center_on (&g, 1000, 900, &sx, &sy);
  g.scroll_x = sx;
  g.scroll_y = sy;
  ss_slide_geometry_image_to_widget (&g, 1000, 900, &x, &y);
  g_assert_cmpfloat_with_epsilon (x, 600, 1.0);
  g_assert_cmpfloat_with_epsilon (y, 400, 1.0);

  /* a cell in the corner: as near the middle as the content allows */
  ss_slide_geometry_center_on (&g, 5, 5, &sx, &sy);
  g_assert_cmpfloat (sx, ==, 0);
  g_assert_cmpfloat (sy, ==, 0);

  g_assert_cmpfloat_with_epsilon (ss_slide_geometry_fit_scale (2592, 1944, 1296, 900),
                                  900.0 / 1944, 1e-12);
  g_assert_cmpfloat_with_epsilon (ss_slide_geometry_fit_scale (100, 50, 1000, 1000),
                                  SS_VIEWER_MAX_SCALE, 1e-12);
  g_assert_cmpfloat_with_epsilon (ss_slide_geometry_fit_scale (100000, 100000, 10, 10),
                                  SS_VIEWER_MIN_SCALE, 1e-12);
  g_assert_cmpfloat (ss_slide_geometry_fit_scale (2592, 1944, 0, 0), ==, 1.0);
}

/* The field's picture is drawn in tiles: the edges between them lie on the device pixel
 * grid and follow the image-to-widget mapping within half a device pixel, while the
 * image's own edges stay exact; neighbours share an edge, so no seam opens. */
static void
test_tile_edges (void)
{
  static const double scales[] = { 1.0, 2.0, 0.4629629, 0.7, 1.15 * 1.15 * 1.15, 3.3, 4.0 };
  static const double origins[] = { 0, -731, 37, -12345 };

  for (guint s = 0; s < G_N_ELEMENTS (scales); s++)
    for (guint o = 0; o < G_N_ELEMENTS (origins); o++)
      for (int scale_factor = 1; scale_factor <= 2; scale_factor++)
        {
          double k = scales[s], origin = origins[o];
          int size = 2592;
          double previous = -G_MAXDOUBLE;

          g_assert_cmpfloat (ss_slide_geometry_tile_edge (origin, k, 0, size, scale_factor), ==,
                             origin);
          g_assert_cmpfloat (ss_slide_geometry_tile_edge (origin, k, size, size, scale_factor), ==,
                             origin + size * k);
          for (int position = 0; position <= size; position += 256)
            {
              double edge = ss_slide_geometry_tile_edge (origin, k, position, size, scale_factor);

              g_assert_cmpfloat (edge, >=, previous);
              g_assert_cmpfloat (fabs (edge - (origin + position * k)), <=, 0.5 / scale_factor + 1e-9);
              if (position > 0)
                g_assert_cmpfloat (edge * scale_factor, ==, round (edge * scale_factor));
              previous = edge;
            }
        }

  /* at 100% on a whole-pixel origin, the edges are where the pixels are */
  g_assert_cmpfloat (ss_slide_geometry_tile_edge (-700, 1.0, 512, 2592, 1), ==, -188);
}

/* Outlines ---------------------------------------------------------------------------- */

static SsSlideOutline *
outline_from_rows (const char *const *rows,
                   int                x,
                   int                y,
                   SsRle             *rle)
{
  int height = g_strv_length ((char **) rows), width = strlen (rows[0]);
  g_autofree guint8 *mask = g_malloc0 (width * height);

  for (int r = 0; r < height; r++)
    for (int c = 0; c < width; c++)
      mask[r * width + c] = rows[r][c] == '#';
  ss_rle_encode (rle, mask, width, height);
  return ss_slide_outline_new_from_rle (rle, x, y);
}

/* Twice the signed area of every loop, summed: outer loops count, holes subtract. */
static double
outline_area (const SsSlideOutline *outline)
{
  double twice = 0;
  guint start = 0;

  for (guint l = 0; l < outline->n_loops; l++)
    {
      guint end = outline->loop_ends[l];

      for (guint i = start; i < end; i++)
        {
          guint j = i + 1 < end ? i + 1 : start;

          twice += outline->points[2 * i] * outline->points[2 * j + 1]
                   - outline->points[2 * j] * outline->points[2 * i + 1];
        }
      start = end;
    }
  return twice / 2;
}

/* Every segment is horizontal or vertical and turns at every point. */
static void
check_axis_aligned (const SsSlideOutline *outline)
{
  guint start = 0;

  for (guint l = 0; l < outline->n_loops; l++)
    {
      guint end = outline->loop_ends[l];

      g_assert_cmpuint (end - start, >=, 4);
      g_assert_cmpuint ((end - start) % 2, ==, 0);
      for (guint i = start; i < end; i++)
        {
          guint j = i + 1 < end ? i + 1 : start;
          guint k = j + 1 < end ? j + 1 : start;
          gboolean horizontal = outline->points[2 * i + 1] == outline->points[2 * j + 1];
          gboolean vertical = outline->points[2 * i] == outline->points[2 * j];
          gboolean next_horizontal = outline->points[2 * j + 1] == outline->points[2 * k + 1];

          g_assert_true (horizontal != vertical);
          g_assert_true (horizontal != next_horizontal);
        }
      start = end;
    }
}

static void
test_outline_shapes (void)
{
  static const char *const rectangle[] = { ".......", ".#####.", ".#####.", ".#####.", NULL };
  static const char *const full[] = { "###", "###", NULL };
  static const char *const ell[] = { "#..", "#..", "###", NULL };
  static const char *const ring[] = { "###", "#.#", "###", NULL };
  static const char *const diagonal[] = { "#.", ".#", NULL };
  static const char *const plus[] = { ".#.", "###", ".#.", NULL };
  static const char *const empty[] = { "...", "...", NULL };
  SsRle rle = { 0 };
  SsSlideOutline *o;

  o = outline_from_rows (rectangle, 100, 200, &rle);
  g_assert_cmpuint (o->n_loops, ==, 1);
  g_assert_cmpuint (o->n_points, ==, 4);
  /* the top-left corner first, clockwise, in image pixels */
  g_assert_cmpfloat (o->points[0], ==, 101);
  g_assert_cmpfloat (o->points[1], ==, 201);
  g_assert_cmpfloat (o->points[2], ==, 106);
  g_assert_cmpfloat (o->points[3], ==, 201);
  g_assert_cmpfloat (o->points[4], ==, 106);
  g_assert_cmpfloat (o->points[5], ==, 204);
  g_assert_cmpfloat (outline_area (o), ==, 15);
  ss_slide_outline_free (o);
  ss_rle_clear (&rle);

  /* touching the box's border on every side */
  o = outline_from_rows (full, 0, 0, &rle);
  g_assert_cmpuint (o->n_loops, ==, 1);
  g_assert_cmpuint (o->n_points, ==, 4);
  g_assert_cmpfloat (outline_area (o), ==, 6);
  ss_slide_outline_free (o);
  ss_rle_clear (&rle);

  o = outline_from_rows (ell, 0, 0, &rle);
  g_assert_cmpuint (o->n_loops, ==, 1);
  g_assert_cmpuint (o->n_points, ==, 6);
  g_assert_cmpfloat (outline_area (o), ==, 5);
  ss_slide_outline_free (o);
  ss_rle_clear (&rle);

  /* a hole: its own loop, counter-clockwise */
  o = outline_from_rows (ring, 0, 0, &rle);
  g_assert_cmpuint (o->n_loops, ==, 2);
  g_assert_cmpuint (o->n_points, ==, 8);
  g_assert_cmpfloat (outline_area (o), ==, 8);
  ss_slide_outline_free (o);
  ss_rle_clear (&rle);

  /* pixels touching at a corner: two squares, not a figure eight */
  o = outline_from_rows (diagonal, 0, 0, &rle);
  g_assert_cmpuint (o->n_loops, ==, 2);
  g_assert_cmpuint (o->n_points, ==, 8);
  g_assert_cmpuint (o->loop_ends[0], ==, 4);
  g_assert_cmpfloat (outline_area (o), ==, 2);
  ss_slide_outline_free (o);
  ss_rle_clear (&rle);

  o = outline_from_rows (plus, 0, 0, &rle);
  g_assert_cmpuint (o->n_loops, ==, 1);
  g_assert_cmpuint (o->n_points, ==, 12);
  g_assert_cmpfloat (outline_area (o), ==, 5);
  ss_slide_outline_free (o);
  ss_rle_clear (&rle);

  o = outline_from_rows (empty, 0, 0, &rle);
  g_assert_cmpuint (o->n_loops, ==, 0);
  g_assert_cmpuint (o->n_points, ==, 0);
  ss_slide_outline_free (o);
  ss_rle_clear (&rle);

  /* an RLE with no runs at all */
  o = ss_slide_outline_new_from_rle (&rle, 0, 0);
  g_assert_cmpuint (o->n_points, ==, 0);
  ss_slide_outline_free (o);
}

/* Random masks against counts made another way: the corners of the boundary are the
 * pixel corners whose 2x2 neighbourhood holds 1 or 3 foreground pixels (one corner) or
 * two diagonal ones (two corners); the enclosed area is the mask's. */
static void
test_outline_random (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (26);

  for (int round = 0; round < 300; round++)
    {
      int width = g_rand_int_range (rand, 1, 40), height = g_rand_int_range (rand, 1, 40);
      double density = g_rand_double_range (rand, 0.1, 0.9);
      g_autofree guint8 *mask = g_malloc0 (width * height);
      g_autoptr(SsSlideOutline) outline = NULL;
      SsRle rle = { 0 };
      guint corners = 0;

      for (int i = 0; i < width * height; i++)
        mask[i] = g_rand_double (rand) < density;
      ss_rle_encode (&rle, mask, width, height);
      outline = ss_slide_outline_new_from_rle (&rle, 7, 11);

#define AT(px, py) ((px) >= 0 && (py) >= 0 && (px) < width && (py) < height \
                    && mask[(py) * width + (px)])
      for (int vy = 0; vy <= height; vy++)
        for (int vx = 0; vx <= width; vx++)
          {
            int a = AT (vx - 1, vy - 1), b = AT (vx, vy - 1);
            int c = AT (vx - 1, vy), d = AT (vx, vy);
            int n = a + b + c + d;

            if (n == 1 || n == 3)
              corners += 1;
            else if (n == 2 && a == d)
              corners += 2;
          }
#undef AT

      g_assert_cmpuint (outline->n_points, ==, corners);
      g_assert_cmpfloat (outline_area (outline), ==, (double) ss_rle_area (&rle));
      check_axis_aligned (outline);
      for (guint i = 0; i < outline->n_points; i++)
        {
          g_assert_cmpfloat (outline->points[2 * i], >=, 7);
          g_assert_cmpfloat (outline->points[2 * i], <=, 7 + width);
          g_assert_cmpfloat (outline->points[2 * i + 1], >=, 11);
          g_assert_cmpfloat (outline->points[2 * i + 1], <=, 11 + height);
        }
      ss_rle_clear (&rle);
    }
}

/* Simplified outlines: a rectangle stays itself; a disc loses most of its staircase
 * corners and keeps its area; loops and the hole stay loops. */
static void
test_outline_simplify (void)
{
  static const char *const ring[] = { "#####", "#####", "##.##", "#####", "#####", NULL };
  int side = 60;
  g_autofree guint8 *mask = g_malloc0 (side * side);
  g_autoptr(SsSlideOutline) exact = NULL;
  g_autoptr(SsSlideOutline) simple = NULL;
  g_autoptr(SsSlideOutline) ring_outline = NULL;
  g_autoptr(SsSlideOutline) ring_simple = NULL;
  SsRle rle = { 0 };
  double exact_area, simple_area;

  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      mask[y * side + x] = hypot (x - side / 2 + 0.5, y - side / 2 + 0.5) < side / 2 - 2;
  ss_rle_encode (&rle, mask, side, side);
  exact = ss_slide_outline_new_from_rle (&rle, 0, 0);
  simple = ss_slide_outline_simplify (exact, 0.75);
  exact_area = outline_area (exact);
  simple_area = outline_area (simple);
  g_test_message ("disc: %u corners, %u after simplifying", exact->n_points, simple->n_points);
  g_assert_cmpuint (simple->n_loops, ==, 1);
  g_assert_cmpuint (simple->n_points, <, exact->n_points / 2);
  g_assert_cmpuint (simple->n_points, >=, 8);
  g_assert_cmpfloat (fabs (simple_area - exact_area) / exact_area, <, 0.03);
  /* every kept point is one of the exact outline's corners */
  for (guint i = 0; i < simple->n_points; i++)
    {
      gboolean found = FALSE;

      for (guint j = 0; j < exact->n_points && !found; j++)
        found = simple->points[2 * i] == exact->points[2 * j]
                && simple->points[2 * i + 1] == exact->points[2 * j + 1];
      g_assert_true (found);
    }
  ss_rle_clear (&rle);

  ring_outline = outline_from_rows (ring, 3, 4, &rle);
  ring_simple = ss_slide_outline_simplify (ring_outline, 0.75);
  g_assert_cmpuint (ring_simple->n_loops, ==, 2);
  g_assert_cmpuint (ring_simple->n_points, ==, 8);
  g_assert_cmpfloat (outline_area (ring_simple), ==, 24);
  ss_rle_clear (&rle);
}

/* A round cell of the size the analysis finds: traced fast enough to do for a whole
 * field's thousand cells on the first frame. */
static void
test_outline_disc_speed (void)
{
  int side = 80;
  g_autofree guint8 *mask = g_malloc0 (side * side);
  g_autoptr(GTimer) timer = g_timer_new ();
  SsRle rle = { 0 };
  double seconds;
  const char *factor;

  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      mask[y * side + x] = hypot (x - side / 2 + 0.5, y - side / 2 + 0.5) < side / 2 - 1;
  ss_rle_encode (&rle, mask, side, side);

  g_timer_start (timer);
  for (int i = 0; i < 2000; i++)
    {
      g_autoptr(SsSlideOutline) outline = ss_slide_outline_new_from_rle (&rle, 0, 0);

      g_assert_cmpuint (outline->n_loops, ==, 1);
    }
  seconds = g_timer_elapsed (timer, NULL);
  g_test_message ("2000 outlines of an %d px disc: %.1f ms", side, seconds * 1000);
  /* SMEARSCOPE_TEST_TIME_FACTOR: the sanitizer and valgrind runs are slower */
  factor = g_getenv ("SMEARSCOPE_TEST_TIME_FACTOR");
  g_assert_cmpfloat (seconds, <, 2.0 * (factor != NULL ? CLAMP (g_ascii_strtod (factor, NULL),
                                                                 1.0, 1000.0) : 1.0));
  ss_rle_clear (&rle);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/slide-view/geometry/mapping", test_mapping);
  g_test_add_func ("/slide-view/geometry/zoom-about", test_zoom_about);
  g_test_add_func ("/slide-view/geometry/center-and-fit", test_center_and_fit);
  g_test_add_func ("/slide-view/geometry/tile-edges", test_tile_edges);
  g_test_add_func ("/slide-view/outline/shapes", test_outline_shapes);
  g_test_add_func ("/slide-view/outline/random", test_outline_random);
  g_test_add_func ("/slide-view/outline/simplify", test_outline_simplify);
  g_test_add_func ("/slide-view/outline/disc-speed", test_outline_disc_speed);

  return g_test_run ();
}
