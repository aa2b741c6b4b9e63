/* Makes the workstation benchmark's case (issue 26): a store with case BENCH-10K of 10
 * synthetic 2592 x 1944 smear fields, 1,000 white cells each, written next to the store.
 * Seeded, so every run makes the same pictures and cells.
 *
 *   gen-bench-case [--fields N] [--cells N] [--seed S] [--accession A] STORE.db */
#include "ss-store.h"
#include "ss-image.h"
#include "ss-models.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* A camera field of the microscopes the workstation is used with. */
#define FIELD_WIDTH  2592
#define FIELD_HEIGHT 1944

typedef struct {
  guint8 r, g, b;
} Rgb;

/* How often each class is called, roughly a leukaemic differential with some debris. */
static const double class_share[SS_N_CLASSES] = {
  [SS_CLASS_LYMPHOBLAST] = 0.12,
  [SS_CLASS_LYMPHOCYTE] = 0.25,
  [SS_CLASS_NEUTROPHIL] = 0.35,
  [SS_CLASS_MONOCYTE] = 0.08,
  [SS_CLASS_EOSINOPHIL] = 0.05,
  [SS_CLASS_BASOPHIL] = 0.02,
  [SS_CLASS_OTHER] = 0.06,
  [SS_CLASS_NOT_A_CELL] = 0.07,
};

static const Rgb background = { 234, 198, 206 };   /* pink, eosin-stained plasma */
static const Rgb cytoplasm = { 206, 180, 222 };    /* pale lavender */
static const Rgb eosin_granules = { 232, 164, 150 };
static const Rgb nucleus_dark = { 104, 52, 146 };  /* haematoxylin purple */
static const Rgb nucleus_blast = { 134, 86, 176 }; /* open chromatin, lighter */

static int
pick_class (GRand *rand)
{
  double u = g_rand_double (rand);

  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      u -= class_share[c];
      if (u < 0)
        return c;
    }
  return SS_CLASS_OTHER;
}

static gboolean
in_ellipse (double x,
            double y,
            double cx,
            double cy,
            double rx,
            double ry)
{
  double dx = (x - cx) / rx, dy = (y - cy) / ry;

  return dx * dx + dy * dy <= 1.0;
}

/* The nucleus of a cell of class cls over a box of side w x h whose cell is the ellipse
 * (cx, cy, rx, ry): one disc, a kidney, or 2-4 lobes, so the outlines differ as real
 * ones do. nucleus is w*h bytes, cleared by the caller. */
static void
draw_nucleus (guint8 *nucleus,
              int     w,
              int     h,
              int     cls,
              double  cx,
              double  cy,
              double  rx,
              double  ry,
              GRand  *rand)
{
  double angle = g_rand_double_range (rand, 0, 2 * G_PI);
  double lobe_x[4], lobe_y[4], lobe_r = 0;
  int n_lobes = 0;

  switch (cls)
    {
    case SS_CLASS_NEUTROPHIL:
    case SS_CLASS_EOSINOPHIL:
      n_lobes = cls == SS_CLASS_EOSINOPHIL ? 2 : g_rand_int_range (rand, 2, 5);
      lobe_r = 0.28 * MIN (rx, ry);
      for (int i = 0; i < n_lobes; i++)
        {
          double a = angle + i * 2 * G_PI / n_lobes;
          lobe_x[i] = cx + 0.42 * rx * cos (a);
          lobe_y[i] = cy + 0.42 * ry * sin (a);
        }
      break;
    default:
      break;
    }

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gboolean inside = FALSE;

        switch (cls)
          {
          case SS_CLASS_NEUTROPHIL:
          case SS_CLASS_EOSINOPHIL:
            for (int i = 0; i < n_lobes && !inside; i++)
              inside = in_ellipse (x, y, lobe_x[i], lobe_y[i], lobe_r, lobe_r);
            break;
          case SS_CLASS_MONOCYTE:
            /* a kidney: an ellipse with a bite out of one side */
            inside = in_ellipse (x, y, cx, cy, 0.7 * rx, 0.55 * ry)
                     && !in_ellipse (x, y, cx + 0.55 * rx * cos (angle), cy + 0.55 * ry * sin (angle),
                                     0.3 * rx, 0.3 * ry);
            break;
          case SS_CLASS_LYMPHOBLAST:
          case SS_CLASS_BASOPHIL:
            inside = in_ellipse (x, y, cx, cy, 0.82 * rx, 0.8 * ry);
            break;
          case SS_CLASS_LYMPHOCYTE:
            inside = in_ellipse (x, y, cx + 0.08 * rx * cos (angle), cy + 0.08 * ry * sin (angle),
                                 0.72 * rx, 0.7 * ry);
            break;
          default:
            /* debris and the rest: an off-centre blob */
            inside = in_ellipse (x, y, cx + 0.2 * rx * cos (angle), cy + 0.2 * ry * sin (angle),
                                 0.45 * rx, 0.6 * ry);
            break;
          }
        if (inside && in_ellipse (x, y, cx, cy, rx, ry))
          nucleus[(gsize) y * w + x] = 1;
      }
}

static void
paint (SsImage   *image,
       int        x,
       int        y,
       const Rgb *color)
{
  guint8 *p = image->rgb + ((gsize) y * image->width + x) * 3;

  p[0] = color->r;
  p[1] = color->g;
  p[2] = color->b;
}

/* One white cell centred near (cx, cy) with radius about radius: its box, masks, class,
 * confidence and probabilities, painted into image. */
static SsCell *
make_cell (SsImage *image,
           double   cx,
           double   cy,
           double   radius,
           GRand   *rand)
{
  SsCell *cell = ss_cell_new ();
  double rx = radius * g_rand_double_range (rand, 0.88, 1.12);
  double ry = radius * g_rand_double_range (rand, 0.88, 1.12);
  int x0 = MAX (0, (int) floor (cx - rx) - 1);
  int y0 = MAX (0, (int) floor (cy - ry) - 1);
  int x1 = MIN (image->width, (int) ceil (cx + rx) + 2);
  int y1 = MIN (image->height, (int) ceil (cy + ry) + 2);
  int w = x1 - x0, h = y1 - y0;
  int cls = pick_class (rand);
  g_autofree guint8 *mask = g_malloc0 ((gsize) w * h);
  g_autofree guint8 *nucleus = g_malloc0 ((gsize) w * h);
  const Rgb *plasma = cls == SS_CLASS_EOSINOPHIL ? &eosin_granules : &cytoplasm;
  const Rgb *chromatin = cls == SS_CLASS_LYMPHOBLAST ? &nucleus_blast : &nucleus_dark;
  double area = 0, nucleus_area = 0;
  float rest;
  int runner_up;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      mask[(gsize) y * w + x] = in_ellipse (x, y, cx - x0, cy - y0, rx, ry);
  draw_nucleus (nucleus, w, h, cls, cx - x0, cy - y0, rx, ry, rand);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gsize i = (gsize) y * w + x;

        if (nucleus[i])
          paint (image, x0 + x, y0 + y, chromatin);
        else if (mask[i])
          paint (image, x0 + x, y0 + y, plasma);
        area += mask[i];
        nucleus_area += nucleus[i];
      }

  cell->box = (SsBox) { x0, y0, w, h };
  ss_rle_encode (&cell->mask, mask, w, h);
  ss_rle_encode (&cell->nucleus_mask, nucleus, w, h);
  cell->predicted_class = cls;
  cell->current_class = cls;
  /* most calls sure, a tail of unsure ones for the review queue to put first */
  cell->confidence = (float) (0.3 + 0.69 * sqrt (g_rand_double (rand)));
  runner_up = (cls + g_rand_int_range (rand, 1, SS_N_CLASSES)) % SS_N_CLASSES;
  rest = 1.0f - cell->confidence;
  for (int c = 0; c < SS_N_CLASSES; c++)
    cell->probabilities[c] = c == cls ? cell->confidence
                             : c == runner_up ? 0.7f * rest
                             : 0.3f * rest / (SS_N_CLASSES - 2);
  cell->morphometrics.area = area;
  cell->morphometrics.perimeter = G_PI * (3 * (rx + ry) - sqrt ((3 * rx + ry) * (rx + 3 * ry)));
  cell->morphometrics.circularity = 4 * G_PI * area
                                    / (cell->morphometrics.perimeter * cell->morphometrics.perimeter);
  cell->morphometrics.nucleus_area = nucleus_area;
  cell->morphometrics.nc_ratio = area > nucleus_area ? nucleus_area / (area - nucleus_area) : 0;
  return cell;
}

/* A field: plasma with stain grain, then n_cells cells on a jittered grid so that they
 * rarely overlap (1,000 cells fill a 2592 x 1944 field, as a worst case does). */
static SsImage *
make_field (int        n_cells,
            GRand     *rand,
            GPtrArray *cells)
{
  SsImage *image = ss_image_new (FIELD_WIDTH, FIELD_HEIGHT);
  int columns = MAX (1, (int) round (sqrt (n_cells * (double) FIELD_WIDTH / FIELD_HEIGHT)));
  int rows = (n_cells + columns - 1) / columns;
  double pitch_x = (double) FIELD_WIDTH / columns, pitch_y = (double) FIELD_HEIGHT / rows;
  guint32 grain = g_rand_int (rand) | 1;

  for (gsize i = 0; i < (gsize) FIELD_WIDTH * FIELD_HEIGHT; i++)
    {
      /* xorshift32: a per-pixel g_rand call would make this the slow part */
      int noise;

      grain ^= grain << 13;
      grain ^= grain >> 17;
      grain ^= grain << 5;
      noise = (int) (grain % 11) - 5;
      image->rgb[3 * i] = CLAMP (background.r + noise, 0, 255);
      image->rgb[3 * i + 1] = CLAMP (background.g + noise, 0, 255);
      image->rgb[3 * i + 2] = CLAMP (background.b + noise, 0, 255);
    }

  for (int k = 0; k < n_cells; k++)
    {
      int column = k % columns, row = k / columns;
      double max_radius = 0.5 * MIN (pitch_x, pitch_y) - 3;
      double radius = g_rand_double_range (rand, 0.6, 0.95) * max_radius;
      double slack_x = MAX (0.0, 0.5 * pitch_x - radius - 3);
      double slack_y = MAX (0.0, 0.5 * pitch_y - radius - 3);
      double cx = (column + 0.5) * pitch_x + g_rand_double_range (rand, -slack_x, slack_x + 1e-9);
      double cy = (row + 0.5) * pitch_y + g_rand_double_range (rand, -slack_y, slack_y + 1e-9);

      g_ptr_array_add (cells, make_cell (image, cx, cy, radius, rand));
    }
  return image;
}

int
main (int    argc,
      char **argv)
{
  int n_fields = 10, n_cells = 1000, seed = 26;
  g_autofree char *accession = NULL;
  g_autoptr (GError) error = NULL;
  GOptionEntry entries[] = {
    { "fields", 0, 0, G_OPTION_ARG_INT, &n_fields, "Fields (default 10)", "N" },
    { "cells", 0, 0, G_OPTION_ARG_INT, &n_cells, "Cells per field (default 1000)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "Random seed (default 26)", "S" },
    { "accession", 0, 0, G_OPTION_ARG_STRING, &accession, "Case (default BENCH-10K)", "A" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("STORE.db");

  g_option_context_set_summary (context, "Make the workstation benchmark's case: synthetic "
                                "smear fields (PNG, next to the store) and their cells.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2
      || n_fields < 1 || n_cells < 1)
    {
      g_printerr ("gen-bench-case: %s\n", error != NULL ? error->message
                  : "give one store path, and at least one field and one cell");
      return 2;
    }
  if (accession == NULL)
    accession = g_strdup ("BENCH-10K");

  /* the fields are stored by absolute path, as the analysis stores them */
  g_autofree char *db_path = g_canonicalize_filename (argv[1], NULL);
  g_autofree char *dir = g_path_get_dirname (db_path);
  g_autoptr (SsStore) store = ss_store_open (db_path, SS_STORE_OPEN_CREATE, &error);
  g_autoptr (SsCase) created = store == NULL ? NULL
    : ss_store_create_case (store, accession, "BENCH", "peripheral blood", "Wright-Giemsa",
                            "synthetic benchmark case (tests/gen-bench-case.c)", &error);
  if (created == NULL)
    {
      g_printerr ("gen-bench-case: %s\n", error->message);
      return 1;
    }

  g_autoptr (GRand) rand = g_rand_new_with_seed ((guint32) seed);
  for (int f = 0; f < n_fields; f++)
    {
      g_autofree char *name = g_strdup_printf ("bench-field-%02d.png", f + 1);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
      g_autoptr (SsImage) image = make_field (n_cells, rand, cells);
      g_autofree char *sha256 = NULL;

      if (!ss_image_save_png (image, path, &error)
          || (sha256 = ss_file_sha256 (path, &error)) == NULL)
        {
          g_printerr ("gen-bench-case: %s: %s\n", path, error->message);
          return 1;
        }
      SsImageInfo info = { path, sha256, image->width, image->height,
                           "bench-synthetic", "1", "none" };
      if (ss_store_add_image (store, accession, &info, cells, &error) <= 0)
        {
          g_printerr ("gen-bench-case: storing %s: %s\n", path, error->message);
          return 1;
        }
    }
  g_print ("gen-bench-case: %s: case %s, %d fields of %d x %d, %d cells each (seed %d)\n",
           db_path, accession, n_fields, FIELD_WIDTH, FIELD_HEIGHT, n_cells, seed);
  return 0;
}
