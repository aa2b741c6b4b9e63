/* The scale estimate (issue 27): synthetic smears of red cells drawn at known sizes, in
 * a grid with jitter, pale centres and noise, must come back within 12% of the drawn
 * diameter at several magnifications and field sizes (drawn discs read 5-10% large: the
 * area weighting favours the larger radii within a sharp rim's catch); a field with no red cells (plain
 * plasma, or one large stained cell) must come back unsure; a pool of fields gives the
 * median of the sure ones, and a batch primed with its fields gives its first field their
 * median too. With ../shared/datasets present, BCCD's val fields pooled
 * must give a white-cell diameter within 15% of its annotated white cells (195.7 px,
 * the median of the uncut boxes). A field's scale also judges its cells: on a field whose
 * red cells gave the scale, a stained blob far smaller than a white cell (a platelet
 * clump's size) is called not a cell, doubted as too small, and a white cell is counted;
 * with the scale given, both are counted. */
#include "ss-config.h"
#include "ss-analysis.h"
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

/* A white cell (a lavender disc of radius r around a purple nucleus of 0.6 r) or, with
 * cytoplasm FALSE, a purple blob of radius r, drawn over the smear at (x0, y0). */
static void
draw_stained (SsImage *image, double x0, double y0, double r, gboolean cytoplasm)
{
  for (int y = MAX (0, (int) (y0 - r - 1)); y < MIN (image->height, (int) (y0 + r + 2)); y++)
    for (int x = MAX (0, (int) (x0 - r - 1)); x < MIN (image->width, (int) (x0 + r + 2)); x++)
      {
        double distance = hypot (x - x0, y - y0);
        guint8 *p = image->rgb + ((gsize) y * image->width + x) * 3;
        if (distance <= (cytoplasm ? 0.6 * r : r))
          p[0] = 110, p[1] = 50, p[2] = 170;
        else if (cytoplasm && distance <= r)
          p[0] = 205, p[1] = 185, p[2] = 220;
      }
}

static void
test_too_small (void)
{
  g_autoptr (SsImage) image = draw_smear (640, 480, 50, 11);
  draw_stained (image, 200, 240, 50, TRUE);    /* a white cell, 2 red cells across */
  draw_stained (image, 470, 240, 13, FALSE);   /* a platelet clump, half a red cell */
  for (int given = 0; given <= 1; given++)
    {
      SsAnalysisSettings settings;
      ss_analysis_settings_init (&settings);
      settings.min_confidence = 0;  /* only the size sets a cell aside here */
      if (given)
        {
          settings.scale_from_image = FALSE;
          ss_detect_settings_for_diameter (&settings.detect, 105);
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (SsAnalysisResult) r = ss_analysis_run (image, &settings, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("scale %s, %.0f px: %d of %u cells counted",
                      ss_scale_source_to_string (r->scale_source), r->cell_diameter,
                      r->counts.total_counted, r->cells->len);
      g_assert_cmpint (r->scale_source, ==, given ? SS_SCALE_SOURCE_SETTING
                                                  : SS_SCALE_SOURCE_RED_CELLS);
      g_assert_cmpfloat (fabs (r->cell_diameter / 105 - 1), <, 0.15);
      /* both found; the blob counted only where the scale was not measured */
      g_assert_cmpuint (r->cells->len, ==, 2);
      g_assert_cmpint (r->counts.total_counted, ==, given ? 2 : 1);
      for (guint i = 0; i < r->cells->len; i++)
        {
          const SsCell *cell = r->cells->pdata[i];
          gboolean blob = cell->box.x > 320;
          gboolean too_small = blob && !given;
          g_assert_cmpint (cell->current_class, ==, too_small ? SS_CLASS_NOT_A_CELL
                                                              : SS_CLASS_OTHER);
          g_assert_cmpint (cell->predicted_class, ==, cell->current_class);
          g_assert_cmpuint (cell->doubt, ==, too_small ? SS_DOUBT_TOO_SMALL : SS_DOUBT_NONE);
          g_assert_true (ss_cell_is_unsure (cell, 0) == too_small);
          g_assert_cmpstr (ss_doubt_to_string (cell->doubt), ==, too_small ? "too-small" : NULL);
        }
    }
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
  g_test_add_func ("/scale/too-small", test_too_small);
  return g_test_run ();
}
