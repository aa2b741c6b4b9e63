/* The scale estimate (issue 27): synthetic smears of red cells drawn at known sizes, in
 * a grid with jitter, pale centres and noise, must come back within 12% of the drawn
 * diameter at several magnifications and field sizes (drawn discs read 5-10% large: the
 * area weighting favours the larger radii within a sharp rim's catch); a field with no red cells (plain
 * plasma, or one large stained cell) must come back unsure; a pool of fields gives the
 * median of the sure ones, and a batch primed with its fields gives its first field their
 * median too. With ../shared/datasets present, BCCD's val fields pooled
 * must give a white-cell diameter within 15% of its annotated white cells (195.7 px,
 * the median of the uncut boxes). */
#include "ss-config.h"
#include "ss-scale.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* A field of red cells of diameter d on a light plasma: each cell a dark pink disc with a
 * paler centre (a third of its width), placed on a jittered grid some 1.15 d apart. */
static SsImage *
draw_smear (int width, int height, double d, guint32 seed)
{
  SsImage *image = ss_image_new (width, height);
  GRand *rand = g_rand_new_with_seed (seed);
  const double spacing = 1.15 * d;

  for (gsize i = 0; i < (gsize) width * height; i++)
    {
      image->rgb[i * 3 + 0] = 232;
      image->rgb[i * 3 + 1] = 224;
      image->rgb[i * 3 + 2] = 212;
    }
  for (double cy = d / 2; cy < height + d / 2; cy += spacing)
    for (double cx = d / 2; cx < width + d / 2; cx += spacing)
      {
        double x0 = cx + g_rand_double_range (rand, -0.1, 0.1) * d;
        double y0 = cy + g_rand_double_range (rand, -0.1, 0.1) * d;
        double r = 0.5 * d * g_rand_double_range (rand, 0.93, 1.07);
        if (g_rand_double (rand) < 0.15)
          continue;                   /* a gap in the smear */
        for (int y = MAX (0, (int) (y0 - r - 1)); y < MIN (height, (int) (y0 + r + 2)); y++)
          for (int x = MAX (0, (int) (x0 - r - 1)); x < MIN (width, (int) (x0 + r + 2)); x++)
            {
              double distance = hypot (x - x0, y - y0);
              guint8 *p = image->rgb + ((gsize) y * width + x) * 3;
              if (distance > r)
                continue;
              gboolean pale = distance < r / 3;
              p[0] = pale ? 215 : 196;
              p[1] = pale ? 170 : 128;
              p[2] = pale ? 170 : 138;
            }
      }
  for (gsize i = 0; i < (gsize) width * height * 3; i++)
    image->rgb[i] = (guint8) CLAMP (image->rgb[i] + g_rand_int_range (rand, -6, 7), 0, 255);
  g_rand_free (rand);
  return image;
}

static void
test_drawn_sizes (void)
{
  const struct { int width, height; double d; } fields[] = {
    { 224, 224, 16 },     /* aria-all's magnification */
    { 640, 480, 100 },    /* BCCD's */
    { 360, 363, 80 },     /* PBC's */
    { 1296, 972, 60 },    /* a large camera at a low power */
    { 2592, 1944, 110 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autoptr (SsImage) image = draw_smear (fields[i].width, fields[i].height, fields[i].d, 27 + i);
      SsScaleEstimate estimate;

      ss_scale_estimate (image, &estimate);
      g_test_message ("%d x %d, red cells %.0f px: found %.1f px (%d circles, support %.2f, %s)",
                      fields[i].width, fields[i].height, fields[i].d, estimate.red_cell_diameter,
                      estimate.n_circles, estimate.support, estimate.sure ? "sure" : "unsure");
      g_assert_true (estimate.sure);
      g_assert_cmpfloat (fabs (estimate.red_cell_diameter / fields[i].d - 1), <, 0.12);
      g_assert_cmpfloat (estimate.cell_diameter, ==,
                         SS_WHITE_TO_RED_DIAMETER * estimate.red_cell_diameter);
    }
}

static void
test_no_red_cells (void)
{
  g_autoptr (SsImage) plasma = ss_image_new (300, 300);
  g_autoptr (SsImage) one_cell = ss_image_new (100, 100);
  g_autoptr (SsImage) tiny = ss_image_new (12, 9);
  SsScaleEstimate estimate;
  GRand *rand = g_rand_new_with_seed (1);

  for (gsize i = 0; i < 300 * 300 * 3; i++)
    plasma->rgb[i] = (guint8) (225 + g_rand_int_range (rand, -8, 9));
  ss_scale_estimate (plasma, &estimate);
  g_assert_false (estimate.sure);

  /* one stained white cell filling a crop, as in wbc-seg's first set */
  for (int y = 0; y < 100; y++)
    for (int x = 0; x < 100; x++)
      {
        guint8 *p = one_cell->rgb + ((gsize) y * 100 + x) * 3;
        double distance = hypot (x - 50, y - 50);
        p[0] = distance < 25 ? 90 : distance < 45 ? 200 : 230;
        p[1] = distance < 25 ? 60 : distance < 45 ? 170 : 222;
        p[2] = distance < 25 ? 150 : distance < 45 ? 200 : 210;
      }
  ss_scale_estimate (one_cell, &estimate);
  g_assert_false (estimate.sure);

  memset (tiny->rgb, 200, 12 * 9 * 3);
  ss_scale_estimate (tiny, &estimate);
  g_assert_false (estimate.sure);
  g_assert_cmpfloat (estimate.red_cell_diameter, ==, 0);
  g_rand_free (rand);
}

static void
test_pool (void)
{
  g_autoptr (SsScalePool) pool = ss_scale_pool_new ();
  SsScaleEstimate unsure = { .cell_diameter = 500, .sure = FALSE };
  SsScaleEstimate a = { .cell_diameter = 180, .sure = TRUE };
  SsScaleEstimate b = { .cell_diameter = 220, .sure = TRUE };
  SsScaleEstimate c = { .cell_diameter = 190, .sure = TRUE };

  g_assert_cmpfloat (ss_scale_pool_add (pool, &unsure), ==, 0);
  g_assert_cmpfloat (ss_scale_pool_add (pool, &a), ==, 180);
  g_assert_cmpfloat (ss_scale_pool_add (pool, &b), ==, 200);
  g_assert_cmpfloat (ss_scale_pool_add (pool, &unsure), ==, 200);
  g_assert_cmpfloat (ss_scale_pool_add (pool, &c), ==, 190);

  /* pictures of one cell each: while fewer than one field in SS_SCALE_POOL_SURE_SHARE
   * was sure, the few that seemed so give no scale */
  g_autoptr (SsScalePool) cells = ss_scale_pool_new ();
  for (int i = 0; i < SS_SCALE_POOL_SURE_SHARE; i++)
    g_assert_cmpfloat (ss_scale_pool_add (cells, &unsure), ==, 0);
  g_assert_cmpfloat (ss_scale_pool_add (cells, &a), ==, 0);   /* 1 of 6 */
  g_assert_cmpfloat (ss_scale_pool_add (cells, &b), ==, 200); /* 2 of 7 */
  /* a case's stored fields count alike: fallbacks against, settings not at all */
  g_autoptr (SsScalePool) later = ss_scale_pool_new ();
  for (int i = 0; i < SS_SCALE_POOL_SURE_SHARE; i++)
    ss_scale_pool_add_stored (later, 200, "fallback");
  ss_scale_pool_add_stored (later, 120, "setting");
  g_assert_cmpfloat (ss_scale_pool_add (later, &a), ==, 0);   /* 1 of 6 */
  g_autoptr (SsScalePool) set = ss_scale_pool_new ();
  for (int i = 0; i < SS_SCALE_POOL_SURE_SHARE; i++)
    ss_scale_pool_add_stored (set, 120, "setting");
  g_assert_cmpfloat (ss_scale_pool_add (set, &a), ==, 180);   /* 1 of 1 */
}

/* A batch's scale before its first field: priming with every field makes the first one
 * get the median of all of them, not its own estimate, and the pool then takes no more;
 * an unreadable path is passed over; a case's stored diameters count as sure fields. */
static void
test_prime (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-scale-XXXXXX", NULL);
  const double sizes[] = { 90, 100, 110 };
  char *paths[4] = { NULL };
  SsScaleEstimate first = { 0 };
  double own[3];
  g_assert_nonnull (dir);
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (SsImage) image = draw_smear (640, 480, sizes[i], 50 + i);
      g_autoptr (GError) error = NULL;
      paths[i] = g_strdup_printf ("%s/field-%d.png", dir, i);
      g_assert_true (ss_image_save_png (image, paths[i], &error));
      SsScaleEstimate estimate;
      ss_scale_estimate (image, &estimate);
      g_assert_true (estimate.sure);
      own[i] = estimate.cell_diameter;
      if (i == 0)
        first = estimate;
    }
  paths[3] = g_strdup_printf ("%s/missing.png", dir);

  g_autoptr (SsScalePool) pool = ss_scale_pool_new ();
  ss_scale_pool_prime (pool, (const char *const *) paths, 4, 100000000);
  SsScaleEstimate probe = { .sure = TRUE, .cell_diameter = 1000 };
  double pooled = ss_scale_pool_add (pool, &first);
  g_test_message ("first field alone %.1f px, primed batch %.1f px", first.cell_diameter, pooled);
  /* the median of the three, drawn at growing sizes: the middle one's */
  g_assert_cmpfloat (own[0], <, own[1]);
  g_assert_cmpfloat (own[1], <, own[2]);
  g_assert_cmpfloat (pooled, ==, own[1]);
  /* complete: the fields analysed later do not count twice */
  g_assert_cmpfloat (ss_scale_pool_add (pool, &probe), ==, pooled);
  g_assert_cmpfloat (ss_scale_pool_add (pool, &probe), ==, pooled);

  /* more fields than are primed: the pool goes on taking them */
  g_autoptr (SsScalePool) open = ss_scale_pool_new ();
  const char *many[SS_SCALE_PRIME_FIELDS + 1];
  for (int i = 0; i <= SS_SCALE_PRIME_FIELDS; i++)
    many[i] = paths[i % 3];
  ss_scale_pool_prime (open, many, SS_SCALE_PRIME_FIELDS + 1, 100000000);
  ss_scale_pool_add (open, &first);   /* 8 primed and the first again: 9 */
  double now = 0;
  for (int i = 0; i < 10; i++)
    now = ss_scale_pool_add (open, &probe);
  g_assert_cmpfloat (now, ==, 1000);  /* 10 of 19 */

  /* stored diameters */
  g_autoptr (SsScalePool) stored = ss_scale_pool_new ();
  ss_scale_pool_add_stored (stored, 150, "red-cells");
  ss_scale_pool_add_stored (stored, 0, "red-cells");    /* not known: ignored */
  ss_scale_pool_add_stored (stored, 170, "red-cells");
  SsScaleEstimate unsure = { .sure = FALSE };
  g_assert_cmpfloat (ss_scale_pool_add (stored, &unsure), ==, 160);

  for (int i = 0; i < 4; i++)
    {
      g_unlink (paths[i]);
      g_free (paths[i]);
    }
  g_rmdir (dir);
}

static void
test_bccd (void)
{
  g_autofree char *data = g_build_filename (SS_SHARED_DIR, "datasets", "bccd", NULL);
  g_autofree char *split = g_build_filename (data, "val.txt", NULL);
  g_autofree char *text = NULL;
  g_autoptr (SsScalePool) pool = ss_scale_pool_new ();
  g_auto (GStrv) ids = NULL;
  double pooled = 0;
  guint n = 0;

  if (!g_file_get_contents (split, &text, NULL, NULL))
    {
      g_test_skip ("../shared/datasets/bccd is absent");
      return;
    }
  ids = g_strsplit (text, "\n", -1);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *path = NULL;
      g_autoptr (SsImage) image = NULL;
      SsScaleEstimate estimate;

      if (*g_strstrip (ids[i]) == '\0')
        continue;
      name = g_strconcat (ids[i], ".jpg", NULL);
      path = g_build_filename (data, "images", name, NULL);
      image = ss_image_load (path, SS_DEFAULT_MAX_PIXELS, NULL);
      g_assert_nonnull (image);
      ss_scale_estimate (image, &estimate);
      pooled = ss_scale_pool_add (pool, &estimate);
      n++;
    }
  g_test_message ("BCCD val, %u fields pooled: white cells %.1f px (annotated 195.7)", n, pooled);
  g_assert_cmpuint (n, ==, 87);
  g_assert_cmpfloat (fabs (pooled / 195.7 - 1), <, 0.15);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scale/drawn-sizes", test_drawn_sizes);
  g_test_add_func ("/scale/no-red-cells", test_no_red_cells);
  g_test_add_func ("/scale/pool", test_pool);
  g_test_add_func ("/scale/prime", test_prime);
  g_test_add_func ("/scale/bccd", test_bccd);
  return g_test_run ();
}
