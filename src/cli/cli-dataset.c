/* smearscope-cli cells: turn a folder of labelled fields into a folder of labelled
 * white-cell crops. Every field is searched with the stain detector and each cell found
 * is written as DIR/OUT/CLASS/FIELD-N.png, under the field's own class folder. This is
 * how field-labelled sets (aria-all) become single-cell sets, like ALL-IDB2 for the
 * msCNN, and how a lab's own fields become training material. */
#include "cli.h"

#include "ss-detect.h"
#include "ss-image.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>

static gboolean
is_image (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  return g_str_has_suffix (lower, ".jpg") || g_str_has_suffix (lower, ".jpeg")
         || g_str_has_suffix (lower, ".png") || g_str_has_suffix (lower, ".tif")
         || g_str_has_suffix (lower, ".tiff") || g_str_has_suffix (lower, ".bmp");
}

int
ss_cli_cells (int argc, char **argv)
{
  g_autofree char *data = NULL, *out = NULL;
  double diameter = 0, margin = 0.15, scale = 0;
  int size = 0, max_cells = 8;
  const GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Fields, one folder per class", "DIR" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Where to write the crops", "DIR" },
    { "cell-diameter", 0, 0, G_OPTION_ARG_DOUBLE, &diameter, "Typical white cell across, pixels", "PX" },
    { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "Detection scale (default from the diameter)", "X" },
    { "margin", 0, 0, G_OPTION_ARG_DOUBLE, &margin, "Widen each box by this fraction per side (0.15)", "X" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Resample crops to SIZE x SIZE (default: as found)", "PX" },
    { "max-cells", 0, 0, G_OPTION_ARG_INT, &max_cells, "At most this many cells per field, most certain first (8)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- crops of the white cells of labelled fields");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (data == NULL || out == NULL)
    {
      ss_cli_error ("cells needs --data DIR and --out DIR");
      return 2;
    }
  SsDetectSettings settings;
  ss_detect_settings_init (&settings);
  if (diameter > 0)
    {
      /* keep the detector's proportions: areas scale with the square of the diameter */
      double k = diameter / settings.cell_diameter;
      settings.min_nucleus_area *= k * k;
      settings.cell_diameter = diameter;
      settings.scale = MIN (1.0, settings.scale / k);
    }
  if (scale > 0)
    settings.scale = scale;

  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) top = g_dir_open (data, 0, &error);
  if (top == NULL)
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  int fields = 0, empty = 0, crops = 0, failures = 0;
  const char *cls;
  while ((cls = g_dir_read_name (top)) != NULL)
    {
      g_autofree char *in_dir = g_build_filename (data, cls, NULL);
      g_autofree char *out_dir = g_build_filename (out, cls, NULL);
      if (!g_file_test (in_dir, G_FILE_TEST_IS_DIR))
        continue;
      if (g_mkdir_with_parents (out_dir, 0755) != 0)
        {
          ss_cli_error ("cannot create %s: %s", out_dir, g_strerror (errno));
          return 1;
        }
      g_autoptr (GDir) d = g_dir_open (in_dir, 0, NULL);
      const char *name;
      while (d != NULL && (name = g_dir_read_name (d)) != NULL)
        {
          if (!is_image (name))
            continue;
          g_autofree char *path = g_build_filename (in_dir, name, NULL);
          g_autoptr (GError) local = NULL;
          g_autoptr (SsImage) image = ss_image_load (path, SS_DEFAULT_MAX_PIXELS, &local);
          if (image == NULL)
            {
              ss_cli_error ("%s", local->message);
              failures++;
              continue;
            }
          fields++;
          g_autoptr (GPtrArray) cells = ss_detect_cells (image, &settings, NULL);
          if (cells->len == 0)
            empty++;
          g_autofree char *stem = g_strndup (name, strrchr (name, '.') - name);
          for (guint i = 0; i < cells->len && (int) i < max_cells; i++)
            {
              const SsCell *cell = cells->pdata[i];
              /* a square around the box, so that crops keep the cell's shape */
              double side = MAX (cell->box.width, cell->box.height) * (1 + 2 * margin);
              double cx = cell->box.x + cell->box.width / 2.0, cy = cell->box.y + cell->box.height / 2.0;
              int px = size > 0 ? size : (int) side;
              g_autoptr (SsImage) crop = ss_image_new (px, px);
              ss_image_crop_to_rgb (image, cx - side / 2, cy - side / 2, side, side, px, px, crop->rgb);
              g_autofree char *file = g_strdup_printf ("%s-%u.png", stem, i);
              g_autofree char *dest = g_build_filename (out_dir, file, NULL);
              if (!ss_image_save_png (crop, dest, &local))
                {
                  ss_cli_error ("%s", local->message);
                  return 1;
                }
              crops++;
            }
        }
    }
  printf ("%d fields, %d crops, %d fields with no cell found, %d unreadable\n", fields, crops,
          empty, failures);
  return failures > 0 ? 1 : 0;
}
