/* Loading class-folder data sets into memory, and serving (augmented) samples. */
#include "ss-dataset.h"

#include "ss-classes.h"
#include "ss-image.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

GHashTable *
ss_label_map_parse (const char *spec, GError **error)
{
  g_autoptr (GHashTable) map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (spec == NULL || *spec == '\0')
    return g_steal_pointer (&map);
  g_auto (GStrv) pairs = g_strsplit (spec, ",", -1);
  for (int i = 0; pairs[i] != NULL; i++)
    {
      const char *eq = strchr (pairs[i], '=');
      if (eq == NULL || eq == pairs[i] || eq[1] == '\0')
        {
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                       "--map: '%s' is not FROM=TO", pairs[i]);
          return NULL;
        }
      g_hash_table_insert (map, g_strndup (pairs[i], eq - pairs[i]), g_strdup (eq + 1));
    }
  return g_steal_pointer (&map);
}

static gboolean
is_image_name (const char *name)
{
  static const char *const exts[] = { ".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp" };
  g_autofree char *lower = g_ascii_strdown (name, -1);
  for (gsize i = 0; i < G_N_ELEMENTS (exts); i++)
    if (g_str_has_suffix (lower, exts[i]))
      return TRUE;
  return FALSE;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

void
ss_sort_strings (GPtrArray *strings)
{
  g_ptr_array_sort (strings, compare_strings);
}

/* item (taken) appended to the list of label in items (label -> GPtrArray of char *) */
static void
add_item (GHashTable *items, const char *label, char *item)
{
  GPtrArray *list = g_hash_table_lookup (items, label);
  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (items, g_strdup (label), list);
    }
  g_ptr_array_add (list, item);
}

/* folder (or labels.csv label) -> list of image paths, sorted for repeatability */
static GHashTable *
collect_items (const char *dir, char **sheet_out, GError **error)
{
  g_autoptr (GHashTable) items =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  g_autofree char *csv = g_build_filename (dir, "labels.csv", NULL);
  g_autofree char *images_dir = g_build_filename (dir, "images", NULL);

  g_autofree char *sheet_csv = g_build_filename (dir, "sheet.csv", NULL);
  g_autofree char *sheet_png = g_build_filename (dir, "sheet.png", NULL);

  if (g_file_test (sheet_csv, G_FILE_TEST_IS_REGULAR))
    {
      /* a sheet: many cells in one picture, sheet.csv giving each one's rectangle and class
       * (x,y,width,height,class,source); an item is "DIR/sheet.png#x,y,w,h#source", and
       * *sheet_out names the sheet, so that a '#' in a folder's name is never read as one */
      g_autofree char *text = NULL;
      if (!g_file_get_contents (sheet_csv, &text, NULL, error))
        return NULL;
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      for (int i = 1; lines[0] != NULL && lines[i] != NULL; i++)
        {
          g_strstrip (lines[i]);
          if (lines[i][0] == '\0')
            continue;
          g_auto (GStrv) f = g_strsplit (lines[i], ",", 6);
          int x, y, w, h;
          char end;
          if (g_strv_length (f) != 6 || sscanf (f[0], "%d%c", &x, &end) != 1
              || sscanf (f[1], "%d%c", &y, &end) != 1 || sscanf (f[2], "%d%c", &w, &end) != 1
              || sscanf (f[3], "%d%c", &h, &end) != 1 || x < 0 || y < 0 || w < 1 || h < 1
              || w > 4096 || h > 4096 || f[4][0] == '\0')
            {
              g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                           "%s, line %d: expected x,y,width,height,class,source", sheet_csv,
                           i + 1);
              return NULL;
            }
          add_item (items, f[4], g_strdup_printf ("%s#%d,%d,%d,%d#%s", sheet_png, x, y, w, h,
                                                  f[5]));
        }
      *sheet_out = g_steal_pointer (&sheet_png);
      return g_steal_pointer (&items);
    }

  if (g_file_test (csv, G_FILE_TEST_IS_REGULAR) && g_file_test (images_dir, G_FILE_TEST_IS_DIR))
    {
      /* wbc-seg layout: labels.csv with id,class; images/ID.png */
      g_autofree char *text = NULL;
      if (!g_file_get_contents (csv, &text, NULL, error))
        return NULL;
      g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
      for (int i = 1; lines[0] != NULL && lines[i] != NULL; i++)
        {
          g_strstrip (lines[i]);
          g_auto (GStrv) f = g_strsplit (lines[i], ",", 2);
          if (f[0] == NULL || f[1] == NULL)
            continue;
          g_autofree char *name = g_strconcat (f[0], ".png", NULL);
          add_item (items, f[1], g_build_filename (images_dir, name, NULL));
        }
      return g_steal_pointer (&items);
    }

  g_autoptr (GDir) top = g_dir_open (dir, 0, error);
  if (top == NULL)
    return NULL;
  const char *sub;
  while ((sub = g_dir_read_name (top)) != NULL)
    {
      g_autofree char *subdir = g_build_filename (dir, sub, NULL);
      if (sub[0] == '.' || !g_file_test (subdir, G_FILE_TEST_IS_DIR))
        continue;
      g_autoptr (GDir) d = g_dir_open (subdir, 0, NULL);
      if (d == NULL)
        continue;
      GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
      const char *name;
      while ((name = g_dir_read_name (d)) != NULL)
        if (is_image_name (name))
          g_ptr_array_add (list, g_build_filename (subdir, name, NULL));
      ss_sort_strings (list);
      if (list->len == 0)
        {
          fprintf (stderr, "note: %s has no images; it is not a class\n", subdir);
          g_ptr_array_unref (list);
          continue;
        }
      g_hash_table_insert (items, g_strdup (sub), list);
    }
  return g_steal_pointer (&items);
}

/* One item of collect_items: an image file, or (sheet_path not NULL) a cell of that sheet,
 * the sheet decoded once and kept in *sheet. The cell is copied out whole, so it is
 * resampled exactly as the same cell saved as a file of its own would be. */
static SsImage *
load_item (const char *item, const char *sheet_path, SsImage **sheet, GError **error)
{
  if (sheet_path == NULL)
    return ss_image_load (item, SS_DEFAULT_MAX_PIXELS, error);
  int x, y, w, h;
  if (sscanf (item + strlen (sheet_path), "#%d,%d,%d,%d", &x, &y, &w, &h) != 4)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA, "%s: not a sheet cell", item);
      return NULL;
    }
  if (*sheet == NULL && (*sheet = ss_image_load (sheet_path, SS_DEFAULT_MAX_PIXELS, error)) == NULL)
    return NULL;
  const SsImage *whole = *sheet;
  if ((gint64) x + w > whole->width || (gint64) y + h > whole->height)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "%s: the cell at %d,%d (%d x %d) lies outside the %d x %d sheet", sheet_path,
                   x, y, w, h, whole->width, whole->height);
      return NULL;
    }
  SsImage *cell = ss_image_new (w, h);
  for (int row = 0; row < h; row++)
    memcpy (cell->rgb + (gsize) row * w * 3, whole->rgb + ((gsize) (y + row) * whole->width + x) * 3,
            (gsize) w * 3);
  return cell;
}

SsDataset *
ss_dataset_load_for_model (const char *dir, GHashTable *map, const SsModelSpec *spec,
                           GError **error)
{
  const char *names[SS_MAX_CLASSES];
  for (int c = 0; c < spec->n_classes; c++)
    names[c] = spec->class_names[c];
  return ss_dataset_load (dir, map, names, spec->n_classes, spec->in_w, spec->in_h,
                          spec->resample, error);
}

void
ss_dataset_free (SsDataset *dataset)
{
  if (dataset == NULL)
    return;
  for (int i = 0; i < dataset->n; i++)
    {
      g_free (dataset->paths[i]);
      g_free (dataset->source_labels[i]);
    }
  for (int c = 0; c < dataset->n_classes; c++)
    g_free (dataset->class_names[c]);
  g_free (dataset->paths);
  g_free (dataset->source_labels);
  g_free (dataset->labels);
  g_free (dataset->pixels);
  g_free (dataset->description);
  g_free (dataset);
}

SsDataset *
ss_dataset_load (const char *dir, GHashTable *map, const char *const *classes, int n_classes,
                 int width, int height, SsResample resample, GError **error)
{
  g_autofree char *sheet_path = NULL;  /* set when dir is a sheet */
  g_autoptr (GHashTable) items = collect_items (dir, &sheet_path, error);
  if (items == NULL)
    return NULL;
  g_autoptr (GPtrArray) folders = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;
  g_hash_table_iter_init (&iter, items);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (folders, key);
  ss_sort_strings (folders);
  if (folders->len == 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "%s holds no class folders (expected DIR/CLASS/IMAGE files)", dir);
      return NULL;
    }

  g_autoptr (SsDataset) ds = g_new0 (SsDataset, 1);
  ds->width = width;
  ds->height = height;

  /* decide the class list and each folder's target */
  g_autofree int *target = g_new (int, folders->len);
  if (classes == NULL)
    {
      g_autoptr (GPtrArray) names = g_ptr_array_new ();
      for (guint f = 0; f < folders->len; f++)
        {
          const char *folder = folders->pdata[f];
          const char *mapped = map != NULL && g_hash_table_lookup (map, folder)
                                 ? g_hash_table_lookup (map, folder) : folder;
          if (mapped[0] == '!')
            continue;  /* partial labels name a class, they are not one */
          gboolean seen = FALSE;
          for (guint k = 0; k < names->len; k++)
            seen |= strcmp (names->pdata[k], mapped) == 0;
          if (!seen)
            g_ptr_array_add (names, (gpointer) mapped);
        }
      ss_sort_strings (names);
      if (names->len < 2 || names->len > SS_MAX_CLASSES)
        {
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                       "%s: %u classes after mapping; a classifier needs 2 to %d", dir,
                       names->len, SS_MAX_CLASSES);
          return NULL;
        }
      ds->n_classes = (int) names->len;
      for (guint k = 0; k < names->len; k++)
        ds->class_names[k] = g_strdup (names->pdata[k]);
    }
  else
    {
      ds->n_classes = n_classes;
      for (int k = 0; k < n_classes; k++)
        ds->class_names[k] = g_strdup (classes[k]);
    }
  for (guint f = 0; f < folders->len; f++)
    {
      const char *folder = folders->pdata[f];
      const char *mapped = map != NULL ? g_hash_table_lookup (map, folder) : NULL;
      /* "!CLASS": only known not to be CLASS (label -1 - CLASS, see ss_trainer_step) */
      if (mapped != NULL && mapped[0] == '!')
        {
          int excluded = ss_label_map (mapped + 1, (const char *const *) ds->class_names,
                                       ds->n_classes);
          if (excluded < 0)
            {
              g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                           "--map %s=%s: %s is not one of the classes", folder, mapped, mapped + 1);
              return NULL;
            }
          target[f] = -2 - excluded;  /* stored shifted: -1 stays "no class" */
          continue;
        }
      target[f] = ss_label_map (mapped != NULL ? mapped : folder,
                                (const char *const *) ds->class_names, ds->n_classes);
      if (target[f] < 0 && classes == NULL)
        {
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                       "folder '%s' maps to none of the classes", folder);
          return NULL;
        }
      if (target[f] < 0)
        fprintf (stderr, "note: skipping folder '%s' of %s: it maps to none of the model's "
                 "classes (use --map %s=CLASS)\n", folder, dir, folder);
    }

  int total = 0;
  for (guint f = 0; f < folders->len; f++)
    if (target[f] != -1)
      total += ((GPtrArray *) g_hash_table_lookup (items, folders->pdata[f]))->len;
  if (total == 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA, "%s: no images to use", dir);
      return NULL;
    }
  const gsize image_bytes = (gsize) width * height * 3;
  ds->pixels = g_malloc ((gsize) total * image_bytes);
  ds->labels = g_new (int, total);
  ds->paths = g_new0 (char *, total);
  ds->source_labels = g_new0 (char *, total);
  int per_class[SS_MAX_CLASSES] = { 0 };
  int partial = 0;
  g_autoptr (SsImage) sheet = NULL;
  for (guint f = 0; f < folders->len; f++)
    {
      if (target[f] == -1)
        continue;
      GPtrArray *list = g_hash_table_lookup (items, folders->pdata[f]);
      for (guint i = 0; i < list->len; i++)
        {
          g_autoptr (GError) local = NULL;
          g_autoptr (SsImage) image = load_item (list->pdata[i], sheet_path, &sheet, &local);
          if (image == NULL && sheet_path != NULL)
            {
              /* a sheet is one file made as a whole: a cell it cannot give is a broken
               * sheet, not a picture to pass over */
              g_propagate_error (error, g_steal_pointer (&local));
              return NULL;
            }
          if (image == NULL)
            {
              fprintf (stderr, "note: skipping %s\n", local->message);
              continue;
            }
          ss_image_crop_to_rgb (image, 0, 0, image->width, image->height, width, height, resample,
                                ds->pixels + (gsize) ds->n * image_bytes);
          ds->labels[ds->n] = target[f] >= 0 ? target[f] : target[f] + 1;
          ds->paths[ds->n] = g_strdup (list->pdata[i]);
          ds->source_labels[ds->n] = g_strdup (folders->pdata[f]);
          if (target[f] >= 0)
            per_class[target[f]]++;
          else
            partial++;
          ds->n++;
        }
    }
  if (ds->n == 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "%s: none of its %d images could be read", dir, total);
      return NULL;
    }
  GString *desc = g_string_new (dir);
  g_string_append_printf (desc, " (%d images:", ds->n);
  for (int c = 0; c < ds->n_classes; c++)
    g_string_append_printf (desc, "%s %s %d", c ? "," : "", ds->class_names[c], per_class[c]);
  if (partial > 0)
    g_string_append_printf (desc, ", %d only known not to be some class", partial);
  g_string_append (desc, ")");
  ds->description = g_string_free (desc, FALSE);
  return g_steal_pointer (&ds);
}

void
ss_dataset_channel_stats (const SsDataset *ds, float stretch, float mean[3], float std[3])
{
  double sum[3] = { 0 }, sumsq[3] = { 0 };
  const gsize area = (gsize) ds->width * ds->height;
  const gsize pixels = (gsize) ds->n * area;
  g_autofree float *chw = g_new (float, 3 * area);
  for (int i = 0; i < ds->n; i++)
    {
      const guint8 *px = ds->pixels + (gsize) i * area * 3;
      for (gsize k = 0; k < area; k++)
        for (int c = 0; c < 3; c++)
          chw[c * area + k] = px[k * 3 + c] / 255.0f;
      ss_input_stretch (chw, 3, area, stretch);
      for (int c = 0; c < 3; c++)
        for (gsize k = 0; k < area; k++)
          {
            double v = chw[c * area + k];
            sum[c] += v;
            sumsq[c] += v * v;
          }
    }
  for (int c = 0; c < 3; c++)
    {
      double m = sum[c] / (double) pixels;
      double var = sumsq[c] / (double) pixels - m * m;
      mean[c] = (float) m;
      std[c] = (float) (var > 1e-6 ? sqrt (var) : 1.0);
    }
}

/* index into cameras of the longest prefix of path's file name, or -1 */
static int
camera_of (const char *path, const char *const *cameras)
{
  g_autofree char *name = g_path_get_basename (path);
  int best = -1;
  gsize best_len = 0;
  for (int k = 0; cameras[k] != NULL; k++)
    if (g_str_has_prefix (name, cameras[k]) && (best < 0 || strlen (cameras[k]) > best_len))
      {
        best = k;
        best_len = strlen (cameras[k]);
      }
  return best;
}

gboolean
ss_dataset_normalise_cameras (SsDataset *ds, const char *const *cameras, double target[6],
                              double *stats_out, GError **error)
{
  const int n_cameras = (int) g_strv_length ((char **) cameras);
  if (n_cameras < 1)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA, "no camera prefixes given");
      return FALSE;
    }
  int background = -1;
  for (int c = 0; c < ds->n_classes; c++)
    if (strcmp (ds->class_names[c], ss_class_name (SS_CLASS_NOT_A_CELL)) == 0)
      background = c;
  g_autofree int *camera = g_new (int, ds->n);
  /* per camera: [white cells, all images] x (sum, sum of squares) x 3 channels, counts */
  g_autofree double *sums = g_new0 (double, (gsize) n_cameras * 12);
  g_autofree gint64 *counts = g_new0 (gint64, (gsize) n_cameras * 2);
  const gsize area = (gsize) ds->width * ds->height;
  for (int i = 0; i < ds->n; i++)
    {
      camera[i] = camera_of (ds->paths[i], cameras);
      if (camera[i] < 0)
        {
          g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                       "%s: its file name starts with none of the camera prefixes given",
                       ds->paths[i]);
          return FALSE;
        }
      /* a white cell: any class but not_a_cell, or known to be "not not_a_cell" */
      const int label = ds->labels[i];
      const gboolean white = label >= 0 ? label != background : -1 - label == background;
      const guint8 *px = ds->pixels + (gsize) i * area * 3;
      for (int part = 0; part < 2; part++)
        {
          if (part == 0 && !white)
            continue;
          double *s = sums + ((gsize) camera[i] * 2 + part) * 6;
          for (gsize k = 0; k < area; k++)
            for (int ch = 0; ch < 3; ch++)
              {
                double v = px[k * 3 + ch] / 255.0;
                s[ch] += v;
                s[3 + ch] += v * v;
              }
          counts[camera[i] * 2 + part] += (gint64) area;
        }
    }
  g_autofree double *stats = g_new (double, (gsize) n_cameras * 6);
  double mean_of[6] = { 0 };
  int used = 0;
  for (int k = 0; k < n_cameras; k++)
    {
      const int part = counts[k * 2] > 0 ? 0 : 1;
      const double *s = sums + ((gsize) k * 2 + part) * 6;
      const gint64 n = counts[k * 2 + part];
      for (int ch = 0; ch < 3; ch++)
        {
          double m = n > 0 ? s[ch] / n : 0, var = n > 0 ? s[3 + ch] / n - m * m : 0;
          stats[k * 6 + ch] = m;
          stats[k * 6 + 3 + ch] = n == 0 ? 0 : var > 1e-6 ? sqrt (var) : 1e-3;
        }
      if (n > 0)
        {
          for (int j = 0; j < 6; j++)
            mean_of[j] += stats[k * 6 + j];
          used++;
        }
    }
  if (used == 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA, "the data set has no images");
      return FALSE;
    }
  for (int j = 0; j < 6; j++)
    mean_of[j] /= used;
  const double *t = target;
  if (t == NULL || t[3] <= 0)
    {
      memcpy (target, mean_of, sizeof mean_of);
      t = target;
    }
  for (int i = 0; i < ds->n; i++)
    {
      const double *st = stats + camera[i] * 6;
      float gain[3], offset[3];
      for (int ch = 0; ch < 3; ch++)
        {
          gain[ch] = (float) (t[3 + ch] / st[3 + ch]);
          offset[ch] = (float) (t[ch] - st[ch] * gain[ch]);
        }
      guint8 *px = ds->pixels + (gsize) i * area * 3;
      for (gsize k = 0; k < area; k++)
        for (int ch = 0; ch < 3; ch++)
          {
            float v = (px[k * 3 + ch] / 255.0f * gain[ch] + offset[ch]) * 255.0f + 0.5f;
            px[k * 3 + ch] = (guint8) CLAMP (v, 0.0f, 255.0f);
          }
    }
  if (stats_out != NULL)
    memcpy (stats_out, stats, sizeof (double) * 6 * n_cameras);
  return TRUE;
}

/* Folds a coordinate back into [0, n - 1] as a mirror would. */
static float
mirror_coord (float f, int n)
{
  const float last = (float) (n - 1);
  if (last <= 0.0f)
    return 0.0f;
  const float period = 2.0f * last;
  f = fmodf (f, period);
  if (f < 0.0f)
    f += period;
  return f > last ? period - f : f;
}

/* Bilinear sample at (fx, fy) of an RGB8 image seen through tone (one table of 256 values
 * per channel); coordinates outside are clamped to the edge, or mirrored. */
static void
sample_bilinear (const guint8 *src, int w, int h, const float tone[3][256], float fx,
                 float fy, gboolean mirror, float out[3])
{
  if (mirror)
    {
      fx = mirror_coord (fx, w);
      fy = mirror_coord (fy, h);
    }
  fx = fx < 0.0f ? 0.0f : (fx > (float) (w - 1) ? (float) (w - 1) : fx);
  fy = fy < 0.0f ? 0.0f : (fy > (float) (h - 1) ? (float) (h - 1) : fy);
  int x0 = (int) fx, y0 = (int) fy;
  int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
  float ax = fx - (float) x0, ay = fy - (float) y0;
  const guint8 *p00 = src + ((gsize) y0 * w + x0) * 3, *p01 = src + ((gsize) y0 * w + x1) * 3;
  const guint8 *p10 = src + ((gsize) y1 * w + x0) * 3, *p11 = src + ((gsize) y1 * w + x1) * 3;
  for (int c = 0; c < 3; c++)
    out[c] = (1.0f - ay) * ((1.0f - ax) * tone[c][p00[c]] + ax * tone[c][p01[c]])
             + ay * ((1.0f - ax) * tone[c][p10[c]] + ax * tone[c][p11[c]]);
}

static float
rng_signed (SsRng *rng)
{
  return 2.0f * ss_rng_uniform (rng) - 1.0f;
}


/* One plane of w x h, reduced by factor f (box average over each small pixel's footprint)
 * and brought back to w x h bilinearly: the detail a camera of 1/f the resolution loses. */
static void
plane_down_up (float *plane, int w, int h, float f, float *scratch)
{
  const int sw = MAX (2, (int) lroundf ((float) w / f)), sh = MAX (2, (int) lroundf ((float) h / f));
  const float fx = (float) w / sw, fy = (float) h / sh;
  for (int y = 0; y < sh; y++)
    for (int x = 0; x < sw; x++)
      {
        int x0 = (int) (x * fx), x1 = MAX (x0 + 1, MIN (w, (int) ((x + 1) * fx)));
        int y0 = (int) (y * fy), y1 = MAX (y0 + 1, MIN (h, (int) ((y + 1) * fy)));
        float sum = 0;
        for (int yy = y0; yy < y1; yy++)
          for (int xx = x0; xx < x1; xx++)
            sum += plane[(gsize) yy * w + xx];
        scratch[(gsize) y * sw + x] = sum / (float) ((x1 - x0) * (y1 - y0));
      }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        float u = CLAMP (((float) x + 0.5f) / fx - 0.5f, 0.0f, (float) (sw - 1));
        float v = CLAMP (((float) y + 0.5f) / fy - 0.5f, 0.0f, (float) (sh - 1));
        int u0 = MIN ((int) u, sw - 2), v0 = MIN ((int) v, sh - 2);
        float a = u - u0, b = v - v0;
        const float *r0 = scratch + (gsize) v0 * sw, *r1 = r0 + sw;
        plane[(gsize) y * w + x] = (1 - b) * ((1 - a) * r0[u0] + a * r0[u0 + 1])
                                   + b * ((1 - a) * r1[u0] + a * r1[u0 + 1]);
      }
}

/* A Gaussian blur of sd sigma, approximated by three box passes each way. */
static void
plane_blur (float *plane, int w, int h, float sigma, float *scratch)
{
  /* three boxes of width 2r + 1 have variance 3 ((2r + 1)^2 - 1) / 12 = r (r + 1) */
  int r = MAX (0, (int) lroundf ((-1.0f + sqrtf (1.0f + 4.0f * sigma * sigma)) / 2.0f));
  if (r == 0)
    return;
  for (int pass = 0; pass < 3; pass++)
    {
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            float sum = 0;
            for (int k = -r; k <= r; k++)
              sum += plane[(gsize) y * w + CLAMP (x + k, 0, w - 1)];
            scratch[(gsize) y * w + x] = sum / (2 * r + 1);
          }
      for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
          {
            float sum = 0;
            for (int k = -r; k <= r; k++)
              sum += scratch[(gsize) CLAMP (y + k, 0, h - 1) * w + x];
            plane[(gsize) y * w + x] = sum / (2 * r + 1);
          }
    }
}

void
ss_dataset_get (const SsDataset *ds, int i, SsRng *rng, const SsAugment *augment, float *chw)
{
  static const SsAugment none = { 0 };
  if (augment == NULL)
    augment = &none;
  const int w = ds->width, h = ds->height;
  const gsize plane = (gsize) w * h;
  const guint8 *src = ds->pixels + (gsize) i * plane * 3;
  gboolean flip_x = FALSE, flip_y = FALSE, affine = FALSE, turn = FALSE;
  int rot = 0;
  float gain[3] = { 1, 1, 1 }, offset[3] = { 0, 0, 0 };
  float inv_zoom = 1.0f, dx = 0.0f, dy = 0.0f, cos_t = 1.0f, sin_t = 0.0f;
  /* the value each 8-bit level stands for, per channel: itself unless stained */
  float tone[3][256];
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++)
      tone[c][v] = (float) v;
  if (rng != NULL)
    {
      flip_x = ss_rng_below (rng, 2);
      flip_y = ss_rng_below (rng, 2);
      rot = w == h ? (int) ss_rng_below (rng, 4) : 0;
      /* small stain and exposure differences between slides and cameras */
      float brightness = 1.0f + 0.1f * rng_signed (rng);
      for (int c = 0; c < 3; c++)
        {
          gain[c] = brightness * (1.0f + 0.05f * rng_signed (rng));
          offset[c] = 0.03f * rng_signed (rng);
        }
      if (augment->shift_zoom > 0.0f)
        {
          /* where the cell sits in its crop and how large it is vary with the detector */
          const float a = augment->shift_zoom;
          affine = TRUE;
          inv_zoom = 1.0f / (1.0f + a * rng_signed (rng));
          dx = a * (float) w * rng_signed (rng);
          dy = a * (float) h * rng_signed (rng);
        }
      if (augment->stain > 0.0f)
        {
          /* a darker or paler stain scales each channel's optical density -ln v; another
           * lamp or camera white balance scales each channel's light */
          const float s = augment->stain;
          float amount = 1.0f + s * rng_signed (rng);
          for (int c = 0; c < 3; c++)
            {
              float density = amount * (1.0f + 0.5f * s * rng_signed (rng));
              float light = 1.0f + s * rng_signed (rng);
              for (int v = 0; v < 256; v++)
                tone[c][v] = 255.0f * light * powf ((float) v / 255.0f, density);
            }
        }
      if (augment->rotate && w == h)
        {
          /* a smear has no up: any angle, on top of the quarter turns */
          float theta = (float) G_PI * 0.5f * ss_rng_uniform (rng);
          affine = turn = TRUE;
          cos_t = cosf (theta);
          sin_t = sinf (theta);
        }
    }
  const float cx = 0.5f * (float) (w - 1), cy = 0.5f * (float) (h - 1);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        int sx, sy;
        ss_view_source (rot | (flip_x ? 4 : 0), w, h, x, y, &sx, &sy);
        if (flip_y)
          sy = h - 1 - sy;
        float rgb[3];
        if (affine)
          {
            float ux = ((float) sx - cx) * inv_zoom, uy = ((float) sy - cy) * inv_zoom;
            sample_bilinear (src, w, h, tone, cx + cos_t * ux - sin_t * uy + dx,
                             cy + sin_t * ux + cos_t * uy + dy, turn, rgb);
          }
        else
          {
            const guint8 *p = src + ((gsize) sy * w + sx) * 3;
            for (int c = 0; c < 3; c++)
              rgb[c] = tone[c][p[c]];
          }
        for (int c = 0; c < 3; c++)
          {
            float v = rgb[c] * (1.0f / 255.0f) * gain[c] + offset[c];
            chw[c * plane + (gsize) y * w + x] = v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
          }
      }

  if (rng != NULL && augment->camera > 0.0f)
    {
      /* another microscope: its resolution, its focus, its sensor */
      const float a = augment->camera;
      float down = ss_rng_below (rng, 2) ? 1.0f + 3.0f * a * ss_rng_uniform (rng) : 1.0f;
      float sigma = ss_rng_below (rng, 2) ? 1.5f * a * ss_rng_uniform (rng) : 0.0f;
      float noise = ss_rng_below (rng, 2) ? 0.03f * a * ss_rng_uniform (rng) : 0.0f;
      g_autofree float *scratch = g_new (float, plane);
      for (int c = 0; c < 3; c++)
        {
          float *p = chw + c * plane;
          if (down > 1.05f)
            plane_down_up (p, w, h, down, scratch);
          if (sigma > 0.3f)
            plane_blur (p, w, h, sigma, scratch);
        }
      if (noise > 0.0f)
        for (gsize k = 0; k < 3 * plane; k++)
          chw[k] = CLAMP (chw[k] + noise * ss_rng_normal (rng), 0.0f, 1.0f);
    }
}
