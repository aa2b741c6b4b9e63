/* COCO's RLE of a cell mask (ss_report_coco_rle): random masks at random places, some
 * hanging over the image's edges, against the whole image painted and encoded
 * column-major pixel by pixel, the way the COCO API defines it. */
#include "ss-report-case.h"

/* The reference: paint the mask into a width x height image, read it column by column. */
static GArray *
reference_runs (const guint8 *pixels, int mask_width, int mask_height, int x, int y,
                int width, int height, gint64 *set)
{
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 run = 0;
  guint8 value = 0;
  *set = 0;
  for (int px = 0; px < width; px++)
    for (int py = 0; py < height; py++)
      {
        int mx = px - x, my = py - y;
        guint8 pixel = mx >= 0 && mx < mask_width && my >= 0 && my < mask_height
                       && pixels[my * mask_width + mx];
        *set += pixel;
        if (pixel != value)
          {
            g_array_append_val (runs, run);
            run = 0;
            value = pixel;
          }
        run++;
      }
  g_array_append_val (runs, run);
  return runs;
}

static void
test_random_masks (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (28);
  for (int trial = 0; trial < 500; trial++)
    {
      int width = g_rand_int_range (rand, 1, 40), height = g_rand_int_range (rand, 1, 40);
      int mask_width = g_rand_int_range (rand, 1, 30), mask_height = g_rand_int_range (rand, 1, 30);
      int x = g_rand_int_range (rand, -mask_width, width + 2);
      int y = g_rand_int_range (rand, -mask_height, height + 2);
      /* sparse, dense, empty and full masks all occur */
      double density = trial % 10 == 0 ? 0 : trial % 10 == 1 ? 1 : g_rand_double (rand);
      g_autofree guint8 *pixels = g_malloc (mask_width * mask_height);
      for (int i = 0; i < mask_width * mask_height; i++)
        pixels[i] = g_rand_double (rand) < density;
      SsRle mask = { 0 };
      ss_rle_encode (&mask, pixels, mask_width, mask_height);

      gint64 expected_set;
      g_autoptr (GArray) expected = reference_runs (pixels, mask_width, mask_height, x, y,
                                                    width, height, &expected_set);
      g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (gint64));
      gint64 set = ss_report_coco_rle (&mask, x, y, width, height, runs);
      g_assert_cmpint (set, ==, expected_set);
      g_assert_cmpuint (runs->len, ==, expected->len);
      for (guint i = 0; i < runs->len; i++)
        g_assert_cmpint (g_array_index (runs, gint64, i), ==, g_array_index (expected, gint64, i));
      ss_rle_clear (&mask);
    }
}

/* A mask with no runs (a cell stored without one) covers nothing: one background run. */
static void
test_empty_mask (void)
{
  SsRle mask = { 0 };
  g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_assert_cmpint (ss_report_coco_rle (&mask, 3, 4, 10, 20, runs), ==, 0);
  g_assert_cmpuint (runs->len, ==, 1);
  g_assert_cmpint (g_array_index (runs, gint64, 0), ==, 200);
}

/* ss_report_coco_rle_decode undoes the encoder: random masks encoded over the image,
 * decoded over a random box inside it, against the painted image; the set pixels
 * outside the box counted; and runs that do not cover the image refused. */
static void
test_decode (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (29);
  for (int trial = 0; trial < 500; trial++)
    {
      int width = g_rand_int_range (rand, 1, 40), height = g_rand_int_range (rand, 1, 40);
      int mask_width = g_rand_int_range (rand, 1, 30), mask_height = g_rand_int_range (rand, 1, 30);
      int x = g_rand_int_range (rand, -mask_width, width + 2);
      int y = g_rand_int_range (rand, -mask_height, height + 2);
      double density = trial % 10 == 0 ? 0 : trial % 10 == 1 ? 1 : g_rand_double (rand);
      g_autofree guint8 *pixels = g_malloc (mask_width * mask_height);
      for (int i = 0; i < mask_width * mask_height; i++)
        pixels[i] = g_rand_double (rand) < density;
      SsRle mask = { 0 };
      ss_rle_encode (&mask, pixels, mask_width, mask_height);
      g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (gint64));
      gint64 set = ss_report_coco_rle (&mask, x, y, width, height, runs);

      SsBox box;
      box.x = g_rand_int_range (rand, 0, width);
      box.y = g_rand_int_range (rand, 0, height);
      box.width = g_rand_int_range (rand, 1, width - box.x + 1);
      box.height = g_rand_int_range (rand, 1, height - box.y + 1);
      SsRle decoded = { 0 };
      gint64 outside = -1;
      g_assert_true (ss_report_coco_rle_decode ((const gint64 *) runs->data, runs->len, width,
                                                height, &box, &decoded, &outside));
      g_assert_cmpint (decoded.width, ==, box.width);
      g_autofree guint8 *got = g_malloc (box.width * box.height);
      ss_rle_decode (&decoded, got);
      gint64 inside = 0;
      for (int by = 0; by < box.height; by++)
        for (int bx = 0; bx < box.width; bx++)
          {
            int mx = box.x + bx - x, my = box.y + by - y;
            guint8 expected = mx >= 0 && mx < mask_width && my >= 0 && my < mask_height
                              && pixels[my * mask_width + mx];
            g_assert_cmpint (got[by * box.width + bx], ==, expected);
            inside += expected;
          }
      g_assert_cmpint (outside, ==, set - inside);
      ss_rle_clear (&mask);
      ss_rle_clear (&decoded);
    }
  const SsBox box = { 0, 0, 2, 2 };
  SsRle decoded = { 0 };
  const gint64 short_runs[] = { 3, 4 }, negative[] = { 30, -10 }, long_runs[] = { 10, 2, 400 };
  g_assert_false (ss_report_coco_rle_decode (short_runs, 2, 5, 4, &box, &decoded, NULL));
  g_assert_false (ss_report_coco_rle_decode (negative, 2, 5, 4, &box, &decoded, NULL));
  g_assert_false (ss_report_coco_rle_decode (long_runs, 3, 5, 4, &box, &decoded, NULL));
  g_assert_cmpint (decoded.n_runs, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/report/coco-rle/random", test_random_masks);
  g_test_add_func ("/report/coco-rle/empty", test_empty_mask);
  g_test_add_func ("/report/coco-rle/decode", test_decode);
  return g_test_run ();
}
