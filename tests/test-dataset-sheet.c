/* A sheet of cells (issue 30: the reference cells shipped beside the cell-type model):
 * DIR/sheet.png holding many cells and DIR/sheet.csv giving each one's rectangle, class
 * and source. Loaded, it must give every cell the very bytes and label the same cells
 * give as files of their own in class folders (cells of several sizes, so that the
 * resampling and the neighbours in the sheet are exercised), and a bad line, a cell
 * outside the sheet or a missing sheet must be refused with where and why. */
#include "ss-dataset.h"
#include "ss-image.h"

#include <glib/gstdio.h>
#include <string.h>

#define N_CELLS 7

static const int sizes[N_CELLS][2] = { { 20, 17 }, { 31, 31 }, { 9, 40 }, { 64, 64 },
                                       { 33, 12 }, { 16, 16 }, { 45, 29 } };
static const char *const classes[N_CELLS] = { "alpha", "beta", "alpha", "gamma", "beta",
                                              "gamma", "alpha" };

static void
write_text (const char *path, const char *text)
{
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* the folder form and the sheet form of the same cells; returns the sheet's folder */
static char *
make_both (const char *top)
{
  g_autofree char *folders = g_build_filename (top, "folders", NULL);
  char *sheet_dir = g_build_filename (top, "sheet", NULL);
  g_mkdir_with_parents (sheet_dir, 0755);

  /* the sheet: cells side by side on a noisy ground, so that a cell read one pixel too
   * far would show it */
  g_autoptr (SsImage) sheet = ss_image_new (300, 80);
  guint32 seed = 12345;
  for (gsize i = 0; i < (gsize) sheet->width * sheet->height * 3; i++)
    {
      seed = seed * 1664525u + 1013904223u;
      sheet->rgb[i] = (guint8) (seed >> 24);
    }
  GString *csv = g_string_new ("x,y,width,height,class,source\n");
  int x = 1;
  for (int c = 0; c < N_CELLS; c++)
    {
      int w = sizes[c][0], h = sizes[c][1], y = c % 2 ? 80 - h : 0;
      g_autoptr (SsImage) cell = ss_image_new (w, h);
      for (int row = 0; row < h; row++)
        for (int col = 0; col < w; col++)
          for (int ch = 0; ch < 3; ch++)
            {
              guint8 v = (guint8) ((row * 7 + col * 13 + ch * 50 + c * 31) % 256);
              cell->rgb[(row * w + col) * 3 + ch] = v;
              sheet->rgb[((y + row) * sheet->width + x + col) * 3 + ch] = v;
            }
      g_autofree char *sub = g_build_filename (folders, classes[c], NULL);
      g_mkdir_with_parents (sub, 0755);
      g_autofree char *name = g_strdup_printf ("cell-%d.png", c);
      g_autofree char *path = g_build_filename (sub, name, NULL);
      g_assert_true (ss_image_save_png (cell, path, NULL));
      g_string_append_printf (csv, "%d,%d,%d,%d,%s,%s\n", x, y, w, h, classes[c], name);
      x += w;  /* touching: the next cell is the neighbour a stray tap would read */
    }
  g_assert_cmpint (x, <=, 300);
  g_autofree char *png = g_build_filename (sheet_dir, "sheet.png", NULL);
  g_autofree char *csv_path = g_build_filename (sheet_dir, "sheet.csv", NULL);
  g_assert_true (ss_image_save_png (sheet, png, NULL));
  write_text (csv_path, csv->str);
  g_string_free (csv, TRUE);
  return sheet_dir;
}

static void
test_same_as_files (void)
{
  /* a '#' in a folder's name is a name, not the mark of a sheet's cell */
  g_autofree char *top = g_dir_make_tmp ("ss#sheet-XXXXXX", NULL);
  g_autofree char *sheet_dir = make_both (top);
  g_autofree char *folders = g_build_filename (top, "folders", NULL);

  for (int resample = 0; resample < 2; resample++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SsDataset) a = ss_dataset_load (folders, NULL, NULL, 0, 24, 24, resample, &error);
      g_assert_no_error (error);
      g_autoptr (SsDataset) b = ss_dataset_load (sheet_dir, NULL, NULL, 0, 24, 24, resample,
                                                 &error);
      g_assert_no_error (error);
      g_assert_cmpint (a->n, ==, N_CELLS);
      g_assert_cmpint (b->n, ==, N_CELLS);
      g_assert_cmpint (a->n_classes, ==, 3);
      g_assert_cmpint (b->n_classes, ==, 3);
      for (int c = 0; c < 3; c++)
        g_assert_cmpstr (a->class_names[c], ==, b->class_names[c]);
      /* both list their cells by class, then by name */
      for (int i = 0; i < N_CELLS; i++)
        {
          g_assert_cmpint (a->labels[i], ==, b->labels[i]);
          g_assert_cmpstr (strrchr (a->paths[i], '/') + 1, ==, strrchr (b->paths[i], '#') + 1);
          g_assert_true (memcmp (a->pixels + (gsize) i * 24 * 24 * 3,
                                 b->pixels + (gsize) i * 24 * 24 * 3, 24 * 24 * 3) == 0);
        }
    }
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", top);
  g_assert_cmpint (system (cmd), ==, 0);
}

static void
expect_refused (const char *dir, const char *csv, const char *said)
{
  g_autofree char *path = g_build_filename (dir, "sheet.csv", NULL);
  write_text (path, csv);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsDataset) ds = ss_dataset_load (dir, NULL, NULL, 0, 24, 24, 0, &error);
  g_assert_null (ds);
  g_assert_nonnull (error);
  if (strstr (error->message, said) == NULL)
    g_error ("expected '%s' in: %s", said, error->message);
}

static void
test_bad_sheets (void)
{
  g_autofree char *top = g_dir_make_tmp ("ss-sheet-XXXXXX", NULL);
  g_autofree char *sheet_dir = make_both (top);
  const char *head = "x,y,width,height,class,source\n";
  g_autofree char *bad_number = g_strconcat (head, "0,0,10,10,alpha,a.png\n1,x,10,10,beta,b\n", NULL);
  expect_refused (sheet_dir, bad_number, "line 3");
  g_autofree char *no_class = g_strconcat (head, "0,0,10,10,,a.png\n", NULL);
  expect_refused (sheet_dir, no_class, "line 2");
  g_autofree char *negative = g_strconcat (head, "0,0,-4,10,alpha,a.png\n", NULL);
  expect_refused (sheet_dir, negative, "line 2");
  g_autofree char *outside = g_strconcat (head, "0,0,10,10,alpha,a.png\n290,0,20,10,beta,b.png\n",
                                          NULL);
  expect_refused (sheet_dir, outside, "outside the 300 x 80 sheet");
  g_autofree char *png = g_build_filename (sheet_dir, "sheet.png", NULL);
  g_assert_cmpint (g_remove (png), ==, 0);
  g_autofree char *fine = g_strconcat (head, "0,0,10,10,alpha,a.png\n0,20,10,10,beta,b.png\n", NULL);
  expect_refused (sheet_dir, fine, "sheet.png");
  g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", top);
  g_assert_cmpint (system (cmd), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dataset/sheet/same-as-files", test_same_as_files);
  g_test_add_func ("/dataset/sheet/refused", test_bad_sheets);
  return g_test_run ();
}
