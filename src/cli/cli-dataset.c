/* smearscope-cli cells: turn labelled fields into a folder of labelled crops.
 * - Fields in class folders (--data): every field is searched with the stain detector
 *   and each cell found is written as OUT/CLASS/FIELD-N.png under the field's own class.
 *   This is how field-labelled sets (aria-all) become single-cell sets, like ALL-IDB2
 *   for the msCNN, and how a lab's own fields become training material.
 * - Pascal VOC fields (--voc, with --split): each annotated object is written under its
 *   own name (OUT/rbc, OUT/wbc, ...), and --background N adds N crops per field that
 *   touch no annotated white cell, as OUT/background. */
#include "cli.h"

#include "ss-classifier.h"
#include "ss-detect.h"
#include "ss-engine.h"
#include "ss-image.h"
#include "ss-metrics.h"
#include "ss-voc.h"

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

/* A square of side `side` from (x, y), resampled to size (0: as found). */
static gboolean
write_crop (const SsImage *image, double x, double y, double side, int size,
            const char *out_dir, const char *stem, int index, GError **error)
{
  int px = size > 0 ? size : (int) side;
  g_autoptr (SsImage) crop = ss_image_new (px, px);
  /* plain bilinear, as the cell sets the shipped models learned from were cut */
  ss_image_crop_to_rgb (image, x, y, side, side, px, px, SS_RESAMPLE_BILINEAR, crop->rgb);
  g_autofree char *file = g_strdup_printf ("%s-%d.png", stem, index);
  g_autofree char *dest = g_build_filename (out_dir, file, NULL);
  return ss_image_save_png (crop, dest, error);
}

/* A cell framed exactly as the analysis frames it for the classifier (ss_box_frame).
 * Returns the side, or -1 on error. */
static double
write_cell_crop (const SsImage *image, const SsBox *box, double margin, int size,
                 const char *out_dir, const char *stem, int index, GError **error)
{
  double x, y, side;
  ss_box_frame (box, margin, &x, &y, &side);
  return write_crop (image, x, y, side, size, out_dir, stem, index, error) ? side : -1;
}

/* n crops of side `side` that overlap none of the avoid boxes (IoU < 0.02): plasma,
 * red cells, platelets and debris, as not_a_cell material. */
static int
background_crops (const SsImage *image, const SsBox *avoid, int n_avoid, double side, int n,
                  int size, SsRng *rng, const char *dir, const char *stem, GError **error)
{
  int written = 0;
  if (n > 0)
    g_mkdir_with_parents (dir, 0755);
  for (int tries = 0; written < n && tries < 50 * n; tries++)
    {
      SsBox box = { (int) (ss_rng_uniform (rng) * MAX (1, image->width - side)),
                    (int) (ss_rng_uniform (rng) * MAX (1, image->height - side)),
                    (int) side, (int) side };
      gboolean clear = TRUE;
      for (int w = 0; w < n_avoid; w++)
        clear &= ss_box_iou (&box, &avoid[w]) < 0.02;
      if (!clear)
        continue;
      if (!write_crop (image, box.x, box.y, side, size, dir, stem,
                       1000 + written, error))
        return -1;
      written++;
    }
  return written;
}

static int
voc_crops (const char *voc, const char *split, const char *out, double margin, int size,
           int background, guint64 seed)
{
  g_autofree char *split_path = strchr (split, '/') != NULL ? g_strdup (split)
                                                            : g_build_filename (voc, split, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (split_path, &text, NULL, &error))
    {
      ss_cli_error ("%s", error->message);
      return 1;
    }
  g_auto (GStrv) ids = g_strsplit (text, "\n", -1);
  SsRng rng;
  ss_rng_seed (&rng, seed);
  int fields = 0, crops = 0, failures = 0;
  for (char **id = ids; *id != NULL; id++)
    {
      g_strstrip (*id);
      if (**id == '\0')
        continue;
      if (strchr (*id, '/') != NULL || strstr (*id, "..") != NULL)
        {
          ss_cli_error ("%s: id '%s' is not a plain file name", split_path, *id);
          failures++;
          continue;
        }
      g_autofree char *xml_name = g_strconcat (*id, ".xml", NULL);
      g_autofree char *jpg_name = g_strconcat (*id, ".jpg", NULL);
      g_autofree char *xml = g_build_filename (voc, "annotations", xml_name, NULL);
      g_autofree char *jpg = g_build_filename (voc, "images", jpg_name, NULL);
      g_autoptr (GError) local = NULL;
      g_autoptr (SsVocAnnotation) ann = ss_voc_load (xml, &local);
      g_autoptr (SsImage) image = ann != NULL ? ss_image_load (jpg, SS_DEFAULT_MAX_PIXELS, &local) : NULL;
      if (image == NULL)
        {
          ss_cli_error ("%s", local->message);
          failures++;
          continue;
        }
      fields++;
      double side_sum = 0;
      int side_n = 0;
      for (guint i = 0; i < ann->objects->len; i++)
        {
          const SsVocObject *o = &g_array_index (ann->objects, SsVocObject, i);
          if (o->box.width <= 0 || o->box.height <= 0)
            continue;
          /* an object name becomes a folder name: keep it to letters, digits, - and _ */
          g_autofree char *cls = g_ascii_strdown (o->name, -1);
          g_strcanon (cls, "abcdefghijklmnopqrstuvwxyz0123456789-_", '_');
          g_autofree char *dir = g_build_filename (out, cls, NULL);
          g_mkdir_with_parents (dir, 0755);
          double side = write_cell_crop (image, &o->box, margin, size, dir, *id, (int) i, &local);
          if (side < 0)
            {
              ss_cli_error ("%s", local->message);
              return 1;
            }
          side_sum += side;
          side_n++;
          crops++;
        }
      /* plasma, red cells and debris: anywhere that no white cell overlaps */
      g_autofree SsBox *wbc = NULL;
      int n_wbc = ss_voc_boxes (ann, "WBC", &wbc);
      g_autofree char *bg_dir = g_build_filename (out, "background", NULL);
      int made = background_crops (image, wbc, n_wbc, side_n > 0 ? side_sum / side_n : 100,
                                   background, size, &rng, bg_dir, *id, &local);
      if (made < 0)
        {
          ss_cli_error ("%s", local->message);
          return 1;
        }
      crops += made;
    }
  printf ("%d fields, %d crops, %d unreadable\n", fields, crops, failures);
  return failures > 0 ? 1 : 0;
}

int
ss_cli_cells (int argc, char **argv)
{
  g_autofree char *data = NULL, *out = NULL, *voc = NULL, *split = NULL, *pick_name = NULL;
  double diameter = 0, margin = SS_CLASSIFIER_MARGIN, scale = 0;
  int size = 0, max_cells = 8, background = 0;
  gint64 seed = 1;
  const GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data, "Fields, one folder per class", "DIR" },
    { "voc", 0, 0, G_OPTION_ARG_FILENAME, &voc, "Or Pascal VOC fields (images/, annotations/)", "DIR" },
    { "split", 0, 0, G_OPTION_ARG_FILENAME, &split, "With --voc: the ids to use (train.txt)", "FILE" },
    { "background", 0, 0, G_OPTION_ARG_INT, &background, "Crops per field clear of the white cells (OUT/background)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Where the background crops fall (1)", "N" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Where to write the crops", "DIR" },
    { "cell-diameter", 0, 0, G_OPTION_ARG_DOUBLE, &diameter, "Typical white cell across, pixels", "PX" },
    { "scale", 0, 0, G_OPTION_ARG_DOUBLE, &scale, "Detection scale (default from the diameter)", "X" },
    { "margin", 0, 0, G_OPTION_ARG_DOUBLE, &margin, "Widen each box by this fraction per side (0.15, as the analysis frames cells)", "X" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Resample crops to SIZE x SIZE (default: as found)", "PX" },
    { "max-cells", 0, 0, G_OPTION_ARG_INT, &max_cells, "At most this many cells per field (8)", "N" },
    { "pick", 0, 0, G_OPTION_ARG_STRING, &pick_name, "Which cells first: those the detector is surest of (certain, the default) or those nearest the picture's centre (centre: pictures of one cell, as PBC's)", "HOW" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- crops of the white cells of labelled fields");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (margin < 0 || margin > 2 || size < 0 || size > 4096 || max_cells < 1 || background < 0)
    {
      ss_cli_error ("--margin must be 0..2, --size 0..4096, --max-cells >= 1, --background >= 0");
      return 2;
    }
  if ((data == NULL && voc == NULL) || out == NULL || (voc != NULL && split == NULL))
    {
      ss_cli_error ("cells needs --data DIR (or --voc DIR --split FILE) and --out DIR");
      return 2;
    }
  SsFieldCells pick = SS_FIELD_CELLS_CERTAIN;
  if (pick_name != NULL && !ss_cli_parse_field_pick (pick_name, &pick))
    return 2;
  if (voc != NULL)
    return voc_crops (voc, split, out, margin, size, background, (guint64) seed);
  SsDetectSettings settings;
  ss_detect_settings_init (&settings);
  if (diameter > 0)
    ss_detect_settings_for_diameter (&settings, diameter);
  if (scale > 0)
    settings.scale = scale;

  g_autoptr (GError) error = NULL;
  SsRng rng;
  ss_rng_seed (&rng, (guint64) seed);
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
          g_autoptr (GPtrArray) cells = ss_classifier_field_cells (image, &settings, pick);
          if (cells->len == 0)
            empty++;
          g_autofree char *stem = g_strndup (name, strrchr (name, '.') - name);
          if (background > 0)
            {
              /* clear of every proposal, not only the kept ones: a white cell the
               * detector ranked low must not become not_a_cell material */
              g_autofree SsBox *avoid = g_new (SsBox, MAX (cells->len, 1));
              for (guint i = 0; i < cells->len; i++)
                avoid[i] = ((const SsCell *) cells->pdata[i])->box;
              g_autofree char *bg_dir = g_build_filename (out, "background", NULL);
              int made = background_crops (image, avoid, (int) cells->len,
                                           settings.cell_diameter * (1 + 2 * margin), background,
                                           size, &rng, bg_dir, stem, &local);
              if (made < 0)
                {
                  ss_cli_error ("%s", local->message);
                  return 1;
                }
              crops += made;
            }
          for (guint i = 0; i < cells->len && (int) i < max_cells; i++)
            {
              const SsCell *cell = cells->pdata[i];
              if (write_cell_crop (image, &cell->box, margin, size, out_dir, stem, (int) i,
                                   &local) < 0)
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
  if (fields == 0)
    {
      ss_cli_error ("%s holds no class folders with images (DIR/CLASS/IMAGE)", data);
      return 1;
    }
  return failures > 0 ? 1 : 0;
}
