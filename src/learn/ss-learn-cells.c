/* Gathering a lab's taught cells from its case store (issue 30). */
#include "ss-learn-cells.h"

#include "ss-classifier.h"
#include "ss-image.h"
#include "ss-models.h"

#include <string.h>

/* The class a person gave a cell, or SS_CLASS_NONE when it teaches nothing: a reviewed
 * cell's class (a deleted one the model had found: no white cell), and in a signed case
 * every kept cell's (the sign-off confirms it) but one called by its size alone. The
 * store's ss_store_taught_per_case counts by the same rule. */
static int
taught_class (const SsCell *cell, gboolean signed_case)
{
  if (cell->deleted)
    return cell->reviewed && !cell->user_drawn ? SS_CLASS_NOT_A_CELL : SS_CLASS_NONE;
  /* a sign-off confirms the calls it kept, but not one the analysis made by size alone:
   * its crop, resampled to the model's input, no longer shows the size that decided it */
  if (cell->reviewed || (signed_case && !ss_cell_called_by_size (cell)))
    return cell->current_class;
  return SS_CLASS_NONE;
}

static int
model_class (const SsModelSpec *spec, int cls)
{
  if (cls < 0 || cls >= SS_N_CLASSES)
    return -1;
  for (int c = 0; c < spec->n_classes; c++)
    if (g_strcmp0 (spec->class_names[c], ss_class_name (cls)) == 0)
      return c;
  return -1;
}

typedef struct {
  GByteArray *pixels;
  GArray     *labels, *image_ids;
  GPtrArray  *paths, *sources;
} Builder;

static void
add_image (SsLearnCells *out, Builder *b, const SsModelSpec *spec, const SsImageRecord *record,
           gboolean signed_case, gint64 max_pixels)
{
  /* which cells teach, before reading the file */
  g_autoptr (GArray) picked = g_array_new (FALSE, FALSE, sizeof (guint));
  for (guint j = 0; record->cells != NULL && j < record->cells->len; j++)
    if (model_class (spec, taught_class (g_ptr_array_index (record->cells, j), signed_case)) >= 0)
      g_array_append_val (picked, j);
  if (picked->len == 0)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *sha256 = ss_file_sha256 (record->path, &error);
  if (sha256 == NULL)
    {
      g_ptr_array_add (out->skipped, g_strdup_printf ("%s: cannot be read (%s); its %u taught "
                                                      "cells are left out", record->path,
                                                      error->message, picked->len));
      return;
    }
  if (g_ascii_strcasecmp (sha256, record->sha256) != 0)
    {
      g_ptr_array_add (out->skipped, g_strdup_printf ("%s: the file changed since it was "
                                                      "analysed (its SHA-256 differs); its %u "
                                                      "taught cells are left out",
                                                      record->path, picked->len));
      return;
    }
  g_autoptr (SsImage) image = ss_image_load (record->path, max_pixels, &error);
  if (image == NULL)
    {
      g_ptr_array_add (out->skipped, g_strdup_printf ("%s: %s; its %u taught cells are left out",
                                                      record->path, error->message, picked->len));
      return;
    }
  const gsize crop = (gsize) spec->in_w * spec->in_h * 3;
  for (guint p = 0; p < picked->len; p++)
    {
      const SsCell *cell = g_ptr_array_index (record->cells, g_array_index (picked, guint, p));
      int cls = taught_class (cell, signed_case);
      int label = model_class (spec, cls);
      double x, y, side;
      ss_box_frame (&cell->box, SS_CLASSIFIER_MARGIN, &x, &y, &side);
      guint at = b->pixels->len;
      g_byte_array_set_size (b->pixels, at + (guint) crop);
      ss_image_crop_to_rgb (image, x, y, side, side, spec->in_w, spec->in_h, spec->resample,
                            b->pixels->data + at);
      g_array_append_val (b->labels, label);
      g_array_append_val (b->image_ids, record->id);
      g_ptr_array_add (b->paths, g_strdup_printf ("%s#cell%" G_GINT64_FORMAT, record->path,
                                                  cell->id));
      g_ptr_array_add (b->sources, g_strdup (ss_class_name (cls)));
    }
  out->n_images++;
}

SsLearnCells *
ss_learn_cells_gather (SsStore *store, const char *const *accessions, const SsModelSpec *spec,
                       gint64 max_pixels, GCancellable *cancellable,
                       SsLearnCellsProgress progress, gpointer user_data, GError **error)
{
  g_autoptr (GPtrArray) cases = ss_store_list_cases (store, error);
  if (cases == NULL)
    return NULL;
  guint n_fields = 0, fields_read = 0;
  for (guint i = 0; i < cases->len; i++)
    {
      const SsCase *c = g_ptr_array_index (cases, i);
      if (accessions == NULL || g_strv_contains (accessions, c->accession))
        n_fields += (guint) MAX (c->n_images, 0);
    }
  SsLearnCells *out = g_new0 (SsLearnCells, 1);
  out->skipped = g_ptr_array_new_with_free_func (g_free);
  out->cases = g_ptr_array_new_with_free_func (g_free);
  Builder b = { g_byte_array_new (), g_array_new (FALSE, FALSE, sizeof (int)),
                g_array_new (FALSE, FALSE, sizeof (gint64)), g_ptr_array_new (),
                g_ptr_array_new () };
  for (guint i = 0; i < cases->len; i++)
    {
      const SsCase *c = g_ptr_array_index (cases, i);
      if (accessions != NULL && !g_strv_contains (accessions, c->accession))
        continue;
      g_autoptr (GPtrArray) images = ss_store_list_images (store, c->accession, TRUE, error);
      if (images == NULL)
        {
          ss_learn_cells_free (out);
          out = NULL;
          break;
        }
      out->n_cases++;
      guint before = b.labels->len;
      for (guint j = 0; j < images->len; j++)
        {
          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            {
              ss_learn_cells_free (out);
              out = NULL;
              break;
            }
          add_image (out, &b, spec, g_ptr_array_index (images, j), c->status == SS_CASE_SIGNED,
                     max_pixels);
          fields_read++;
          if (progress != NULL)
            progress (fields_read, MAX (n_fields, fields_read), user_data);
        }
      if (out == NULL)
        break;
      if (b.labels->len > before)
        g_ptr_array_add (out->cases, g_strdup (c->accession));
    }
  if (out == NULL)
    {
      g_byte_array_free (b.pixels, TRUE);
      g_array_free (b.labels, TRUE);
      g_array_free (b.image_ids, TRUE);
      /* the strings too: on success the data set takes them over */
      g_ptr_array_set_free_func (b.paths, g_free);
      g_ptr_array_set_free_func (b.sources, g_free);
      g_ptr_array_free (b.paths, TRUE);
      g_ptr_array_free (b.sources, TRUE);
      return NULL;
    }
  SsDataset *ds = g_new0 (SsDataset, 1);
  ds->n = (int) b.labels->len;
  ds->width = spec->in_w;
  ds->height = spec->in_h;
  ds->pixels = g_byte_array_free (b.pixels, FALSE);
  ds->labels = (int *) g_array_free (b.labels, FALSE);
  ds->paths = (char **) g_ptr_array_free (b.paths, FALSE);
  ds->source_labels = (char **) g_ptr_array_free (b.sources, FALSE);
  ds->n_classes = spec->n_classes;
  for (int c = 0; c < spec->n_classes; c++)
    ds->class_names[c] = g_strdup (spec->class_names[c]);
  ds->description = g_strdup_printf ("the lab's taught cells (%d)", ds->n);
  out->cells = ds;
  out->image_ids = (gint64 *) g_array_free (b.image_ids, FALSE);
  return out;
}

SsLearnCells *
ss_learn_cells_from_dataset (SsDataset *cells)
{
  SsLearnCells *out = g_new0 (SsLearnCells, 1);
  out->skipped = g_ptr_array_new_with_free_func (g_free);
  out->cases = g_ptr_array_new_with_free_func (g_free);
  out->cells = cells;
  out->image_ids = g_new (gint64, MAX (cells->n, 1));
  for (int i = 0; i < cells->n; i++)
    out->image_ids[i] = i + 1;
  out->n_images = cells->n;
  return out;
}

void
ss_learn_cells_free (SsLearnCells *cells)
{
  if (cells == NULL)
    return;
  ss_dataset_free (cells->cells);
  g_free (cells->image_ids);
  g_ptr_array_unref (cells->skipped);
  g_ptr_array_unref (cells->cases);
  g_free (cells);
}

/* The images in a fixed, seeded order: splitmix64 of (id, seed). */
typedef struct {
  gint64  id;
  guint64 key;
} Ranked;

static int
compare_ranked (const void *a, const void *b)
{
  const Ranked *p = a, *q = b;
  return p->key != q->key ? (p->key < q->key ? -1 : 1) : (p->id > q->id) - (p->id < q->id);
}

void
ss_learn_cells_split (const SsLearnCells *cells, double fraction, guint64 seed, GArray *learn,
                      GArray *held_back)
{
  /* the crops of one image are consecutive: its distinct images, in order */
  const int n = cells->cells != NULL ? cells->cells->n : 0;
  g_autoptr (GArray) images = g_array_new (FALSE, FALSE, sizeof (Ranked));
  for (int i = 0; i < n; i++)
    if (i == 0 || cells->image_ids[i] != cells->image_ids[i - 1])
      {
        guint64 z = (guint64) cells->image_ids[i] + seed * 0x9E3779B97F4A7C15ull;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        Ranked r = { cells->image_ids[i], z ^ (z >> 31) };
        g_array_append_val (images, r);
      }
  g_array_sort (images, compare_ranked);
  /* the first of that order are held back: at least one, and one left to learn from */
  const guint n_images = images->len;
  guint n_back = n_images >= 2 ? CLAMP ((guint) (fraction * n_images + 0.5), 1, n_images - 1) : 0;
  g_autoptr (GHashTable) back = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < n_back; i++)
    g_hash_table_add (back, &g_array_index (images, Ranked, i).id);
  for (int i = 0; i < n; i++)
    g_array_append_val (g_hash_table_contains (back, &cells->image_ids[i]) ? held_back : learn, i);
}
