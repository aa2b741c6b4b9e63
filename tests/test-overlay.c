/* The overlay for people (ss-overlay.c): a cell's outline is drawn in its class's
 * colour and its inside is left as the field shows it, so the cell is seen through the
 * overlay; a cell under the unsure confidence is labelled unsure, one above is not. */
#include "ss-classifier.h"
#include "ss-counts.h"
#include "ss-overlay.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* the RGB at (x, y) of an RGB24 surface */
static void
pixel (cairo_surface_t *s, int x, int y, int rgb[3])
{
  const guint8 *data = cairo_image_surface_get_data (s);
  guint32 v = *(const guint32 *) (data + (gsize) y * cairo_image_surface_get_stride (s) + 4 * x);
  rgb[0] = (v >> 16) & 255;
  rgb[1] = (v >> 8) & 255;
  rgb[2] = v & 255;
}

/* a cell whose mask is the disc of radius r in its box, nucleus of radius r / 2 */
static SsCell *
disc_cell (int x, int y, int side, double confidence)
{
  SsCell *cell = ss_cell_new ();
  cell->box = (SsBox) { x, y, side, side };
  g_autofree guint8 *mask = g_new0 (guint8, (gsize) side * side);
  g_autofree guint8 *nucleus = g_new0 (guint8, (gsize) side * side);
  const double c = (side - 1) / 2.0;
  for (int v = 0; v < side; v++)
    for (int u = 0; u < side; u++)
      {
        double d = hypot (u - c, v - c);
        mask[v * side + u] = d <= side / 2.0 - 1;
        nucleus[v * side + u] = d <= side / 4.0;
      }
  ss_rle_encode (&cell->mask, mask, side, side);
  ss_rle_encode (&cell->nucleus_mask, nucleus, side, side);
  cell->current_class = cell->predicted_class = SS_CLASS_NEUTROPHIL;
  cell->confidence = (float) confidence;
  cell->probabilities[SS_CLASS_NEUTROPHIL] = (float) confidence;
  cell->probabilities[SS_CLASS_LYMPHOCYTE] = (float) (1 - confidence);
  return cell;
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_autoptr (SsImage) field = ss_image_new (200, 120);
  memset (field->rgb, 200, (gsize) 200 * 120 * 3);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  g_ptr_array_add (cells, disc_cell (20, 30, 60, 0.99));
  g_ptr_array_add (cells, disc_cell (120, 30, 60, 0.55));
  g_assert_false (ss_cell_is_unsure (cells->pdata[0], SS_UNSURE_BELOW_DEFAULT));
  g_assert_true (ss_cell_is_unsure (cells->pdata[1], SS_UNSURE_BELOW_DEFAULT));

  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 200, 120);
  cairo_t *cr = cairo_create (s);
  ss_overlay_draw (cr, field, cells, NULL);
  cairo_destroy (cr);
  cairo_surface_flush (s);

  double colour[3];
  ss_overlay_class_colour (SS_CLASS_NEUTROPHIL, colour);
  int rgb[3];
  /* inside the cell, between its outline and its nucleus's: the field as it is */
  pixel (s, 20 + 30 + 20, 30 + 30, rgb);
  g_assert_cmpint (rgb[0], ==, 200);
  g_assert_cmpint (rgb[1], ==, 200);
  g_assert_cmpint (rgb[2], ==, 200);
  /* the centre of the nucleus too */
  pixel (s, 20 + 30, 30 + 30, rgb);
  g_assert_cmpint (rgb[0], ==, 200);
  /* on the cell's edge (left, at mid-height): the class's colour */
  pixel (s, 20 + 1, 30 + 30, rgb);
  for (int c = 0; c < 3; c++)
    g_assert_cmpint (abs (rgb[c] - (int) (colour[c] * 255 + 0.5)), <=, 2);
  cairo_surface_destroy (s);

  /* a small field's PNG is written larger (200 px -> 4 x), the cells where they were */
  g_assert_cmpint (ss_overlay_png_factor (field), ==, 4);
  g_autofree char *dir = g_dir_make_tmp ("ss-overlay-XXXXXX", NULL);
  g_assert_nonnull (dir);
  g_autofree char *path = g_build_filename (dir, "field.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_overlay_write_png (field, cells, NULL, path, &error));
  g_assert_no_error (error);
  cairo_surface_t *png = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (png), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==, 800);
  g_assert_cmpint (cairo_image_surface_get_height (png), ==, 480);
  pixel (png, 4 * (20 + 30 + 20), 4 * (30 + 30), rgb);
  g_assert_cmpint (rgb[0], ==, 200);
  /* the outline, enlarged and smoothed: nearer the class's colour than the field's */
  pixel (png, 4 * (20 + 1) + 2, 4 * (30 + 30), rgb);
  double to_class = 0, to_field = 0;
  for (int c = 0; c < 3; c++)
    {
      to_class += fabs (rgb[c] - colour[c] * 255);
      to_field += fabs (rgb[c] - 200.0);
    }
  g_assert_cmpfloat (to_class, <, to_field);
  cairo_surface_destroy (png);
  g_unlink (path);
  g_rmdir (dir);
  /* a camera's field is written as it is */
  g_autoptr (SsImage) large = ss_image_new (640, 480);
  g_assert_cmpint (ss_overlay_png_factor (large), ==, 1);

  /* a cell at the field's corner as a person is shown it (ss_cell_view_crop): inside
   * the field its pixels, past the edge plain grey, not the edge pixels in stripes */
  for (int y = 0; y < 120; y++)
    for (int x = 0; x < 200; x++)
      {
        guint8 *p = field->rgb + 3 * (y * 200 + x);
        p[0] = 40;
        p[1] = (guint8) (x < 100 ? 90 : 150);
        p[2] = 60;
      }
  const SsBox corner = { 0, 0, 40, 40 };  /* framed: 40 + 2 x 6 px, from (-6, -6) */
  guint8 crop[52 * 52 * 3];
  ss_cell_view_crop (field, &corner, 52, crop);
  const guint8 *outside = crop + 3 * (2 * 52 + 30), *edge = crop + 3 * (30 * 52 + 2);
  const guint8 *inside = crop + 3 * (30 * 52 + 30);
  g_assert_cmpint (outside[0], ==, 0xbc);  /* above the field */
  g_assert_cmpint (outside[2], ==, 0xbc);
  g_assert_cmpint (edge[1], ==, 0xbc);     /* left of it */
  g_assert_cmpint (inside[0], ==, 40);
  g_assert_cmpint (inside[1], ==, 90);
  g_assert_cmpint (inside[2], ==, 60);
  return 0;
}
