/* Cells and their run-length masks. */
#include "ss-cell.h"

#include <math.h>
#include <string.h>

void
ss_rle_clear (SsRle *rle)
{
  g_clear_pointer (&rle->runs, g_free);
  rle->n_runs = 0;
  rle->width = rle->height = 0;
}

void
ss_rle_copy (SsRle *dst, const SsRle *src)
{
  dst->width = src->width;
  dst->height = src->height;
  dst->n_runs = src->n_runs;
  dst->runs = src->n_runs > 0 ? g_memdup2 (src->runs, sizeof (guint32) * src->n_runs) : NULL;
}

void
ss_rle_encode (SsRle *rle, const guint8 *mask, int width, int height)
{
  gsize n = (gsize) width * height;
  GArray *runs = g_array_new (FALSE, FALSE, sizeof (guint32));
  gboolean on = FALSE;
  guint32 run = 0;
  for (gsize i = 0; i < n; i++)
    {
      gboolean v = mask[i] != 0;
      if (v != on)
        {
          g_array_append_val (runs, run);
          run = 0;
          on = v;
        }
      run++;
    }
  g_array_append_val (runs, run);
  rle->width = width;
  rle->height = height;
  rle->n_runs = (int) runs->len;
  rle->runs = (guint32 *) g_array_free (runs, FALSE);
}

void
ss_rle_decode (const SsRle *rle, guint8 *mask)
{
  gsize n = (gsize) rle->width * rle->height, at = 0;
  for (int i = 0; i < rle->n_runs && at < n; i++)
    {
      gsize len = MIN ((gsize) rle->runs[i], n - at);
      memset (mask + at, i % 2, len);
      at += len;
    }
  if (at < n)
    memset (mask + at, 0, n - at);
}

gsize
ss_rle_area (const SsRle *rle)
{
  gsize area = 0;
  for (int i = 1; i < rle->n_runs; i += 2)
    area += rle->runs[i];
  return area;
}

float
ss_cell_detection_score (const SsCell *cell)
{
  float sum = 0.0f;
  for (int c = 0; c < SS_N_CLASSES; c++)
    sum += cell->probabilities[c];
  return sum > 0.0f ? 1.0f - cell->probabilities[SS_CLASS_NOT_A_CELL] : cell->confidence;
}

SsBox
ss_box_square (const SsBox *b)
{
  int side = MAX (b->width, b->height);
  return (SsBox) { b->x + b->width / 2 - side / 2, b->y + b->height / 2 - side / 2, side, side };
}

void
ss_box_frame (const SsBox *box, double margin, double *x, double *y, double *side)
{
  SsBox sq = ss_box_square (box);
  double m = margin * sq.width;
  *x = sq.x - m;
  *y = sq.y - m;
  *side = sq.width + 2 * m;
}

static double
centre_distance2 (const SsCell *cell, const double *centre)
{
  double dx = cell->box.x + cell->box.width / 2.0 - centre[0];
  double dy = cell->box.y + cell->box.height / 2.0 - centre[1];
  return dx * dx + dy * dy;
}

static int
compare_centre_distance (gconstpointer a, gconstpointer b, gpointer centre)
{
  double da = centre_distance2 (*(SsCell *const *) a, centre);
  double db = centre_distance2 (*(SsCell *const *) b, centre);
  return (da > db) - (da < db);
}

void
ss_cells_sort_by_centre (GPtrArray *cells, int width, int height)
{
  double centre[2] = { width / 2.0, height / 2.0 };
  /* g_ptr_array_sort_with_data is stable (GLib >= 2.32) */
  g_ptr_array_sort_with_data (cells, compare_centre_distance, centre);
}

SsCell *
ss_cell_new (void)
{
  SsCell *cell = g_new0 (SsCell, 1);
  cell->predicted_class = SS_CLASS_NONE;
  cell->current_class = SS_CLASS_NONE;
  cell->camera_distance = -1;
  return cell;
}

SsCell *
ss_cell_copy (const SsCell *cell)
{
  SsCell *copy = g_memdup2 (cell, sizeof *cell);
  ss_rle_copy (&copy->mask, &cell->mask);
  ss_rle_copy (&copy->nucleus_mask, &cell->nucleus_mask);
  return copy;
}

void
ss_cell_free (SsCell *cell)
{
  if (cell == NULL)
    return;
  ss_rle_clear (&cell->mask);
  ss_rle_clear (&cell->nucleus_mask);
  g_free (cell);
}

gboolean
ss_cell_is_unsure (const SsCell *cell, double unsure_below)
{
  g_return_val_if_fail (cell != NULL, FALSE);
  return !cell->reviewed && !cell->user_drawn
         && (cell->confidence < unsure_below || cell->doubt != SS_DOUBT_NONE);
}

void
ss_cell_check_doubt (SsCell *cell, double cell_diameter)
{
  g_return_if_fail (cell != NULL);
  cell->doubt &= ~(guint) (SS_DOUBT_NUCLEUS_NOT_ROUND | SS_DOUBT_LARGE_FOR_LYMPHOCYTE);
  if (cell->user_drawn || !ss_cell_is_typed (cell))
    return;
  /* The model's own call, not a person's: a relabelled cell is reviewed anyway. */
  if (cell->predicted_class != SS_CLASS_LYMPHOCYTE)
    return;
  if (cell->morphometrics.nucleus_area > 0
      && cell->morphometrics.nucleus_solidity < SS_LYMPHOCYTE_MIN_SOLIDITY)
    cell->doubt |= SS_DOUBT_NUCLEUS_NOT_ROUND;
  if (cell_diameter > 0 && ss_cell_size (cell, cell_diameter) > SS_LYMPHOCYTE_MAX_SIZE)
    cell->doubt |= SS_DOUBT_LARGE_FOR_LYMPHOCYTE;
}

double
ss_cell_size (const SsCell *cell, double cell_diameter)
{
  g_return_val_if_fail (cell != NULL && cell_diameter > 0, 0);
  return 2 * sqrt (cell->morphometrics.area / G_PI) / cell_diameter;
}

gboolean
ss_cell_called_by_size (const SsCell *cell)
{
  g_return_val_if_fail (cell != NULL, FALSE);
  return !cell->user_drawn && (cell->doubt & SS_DOUBT_TOO_SMALL);
}

SsDoubt
ss_cell_first_doubt (const SsCell *cell)
{
  g_return_val_if_fail (cell != NULL, SS_DOUBT_NONE);
  /* what to look at in this cell first; a camera new to the model is every cell's doubt
   * in its field, so it comes last */
  static const SsDoubt order[] = { SS_DOUBT_TOO_SMALL, SS_DOUBT_NUCLEUS_NOT_ROUND,
                                   SS_DOUBT_LARGE_FOR_LYMPHOCYTE, SS_DOUBT_CAMERA_UNLIKE };
  for (guint k = 0; k < G_N_ELEMENTS (order); k++)
    if (cell->doubt & order[k])
      return order[k];
  return SS_DOUBT_NONE;
}

/* Each doubt's word, in the order the JSON and CSV join them (the order they were added
 * in, kept so that files written before read the same) */
static const struct {
  SsDoubt     flag;
  const char *word;
} doubt_words[] = {
  { SS_DOUBT_CAMERA_UNLIKE, "camera-unlike-training" },
  { SS_DOUBT_NUCLEUS_NOT_ROUND, "nucleus-not-round" },
  { SS_DOUBT_LARGE_FOR_LYMPHOCYTE, "large-for-lymphocyte" },
  { SS_DOUBT_TOO_SMALL, "too-small" },
};

#define N_DOUBT_SETS (1u << G_N_ELEMENTS (doubt_words))
G_STATIC_ASSERT ((SS_DOUBT_CAMERA_UNLIKE | SS_DOUBT_NUCLEUS_NOT_ROUND
                  | SS_DOUBT_LARGE_FOR_LYMPHOCYTE | SS_DOUBT_TOO_SMALL) == N_DOUBT_SETS - 1);

static gpointer
doubt_strings_new (gpointer data)
{
  /* every set of flags joined once, kept for the program's life */
  char **strings = g_new0 (char *, N_DOUBT_SETS);
  for (guint set = 1; set < N_DOUBT_SETS; set++)
    {
      GString *text = g_string_new (NULL);
      for (guint k = 0; k < G_N_ELEMENTS (doubt_words); k++)
        if (set & doubt_words[k].flag)
          g_string_append_printf (text, "%s%s", text->len > 0 ? ";" : "", doubt_words[k].word);
      strings[set] = g_string_free (text, FALSE);
    }
  return strings;
}

const char *
ss_doubt_to_string (guint doubt)
{
  static GOnce once = G_ONCE_INIT;
  char **strings = g_once (&once, doubt_strings_new, NULL);
  return strings[doubt & (N_DOUBT_SETS - 1)];
}

gboolean
ss_cell_is_typed (const SsCell *cell)
{
  g_return_val_if_fail (cell != NULL, FALSE);
  for (int c = 0; c < SS_N_CLASSES; c++)
    if (c != SS_CLASS_OTHER && c != SS_CLASS_NOT_A_CELL && cell->probabilities[c] > 0.0f)
      return TRUE;
  return FALSE;
}
