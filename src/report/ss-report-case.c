/* A stored case as CSV, JSON and COCO. The JSON member order and the CSV columns are
 * part of the formats (docs/exchange.md, docs/case-store.md): add, never rename. */
#include "ss-report-case.h"

#include "ss-config.h"
#include "ss-report-analysis.h"

#include <math.h>

void
ss_report_case_free (SsReportCase *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->case_info, ss_case_free);
  g_clear_pointer (&report->images, g_ptr_array_unref);
  g_clear_pointer (&report->image_counts, g_array_unref);
  g_clear_pointer (&report->corrections, g_ptr_array_unref);
  g_clear_pointer (&report->events, g_ptr_array_unref);
  g_clear_pointer (&report->truth, g_ptr_array_unref);
  g_free (report);
}

SsReportCase *
ss_report_case_load (SsStore *store, const char *accession, double threshold,
                     GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (store), NULL);
  g_return_val_if_fail (accession != NULL, NULL);
  g_autoptr (SsReportCase) report = g_new0 (SsReportCase, 1);
  report->unsure_below = SS_UNSURE_BELOW_DEFAULT;
  report->case_info = ss_store_get_case (store, accession, error);
  if (report->case_info == NULL)
    return NULL;
  report->images = ss_store_list_images (store, accession, TRUE, error);
  if (report->images == NULL)
    return NULL;
  report->corrections = ss_store_list_corrections (store, accession, error);
  if (report->corrections == NULL)
    return NULL;
  report->events = ss_store_list_case_events (store, accession, error);
  if (report->events == NULL)
    return NULL;
  report->truth = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      GPtrArray *truth = ss_store_list_truth (store, image->id, error);
      if (truth == NULL)
        return NULL;
      g_ptr_array_add (report->truth, truth);
    }
  /* counts are the store's query, as counts and case show give them */
  int class_counts[SS_N_CLASSES];
  report->image_counts = g_array_sized_new (FALSE, TRUE, sizeof (SsCounts), report->images->len);
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      SsCounts counts;
      if (!ss_store_image_counts (store, image->id, class_counts, error))
        return NULL;
      ss_counts_compute (class_counts, threshold, &counts);
      g_array_append_val (report->image_counts, counts);
    }
  if (!ss_store_case_counts (store, accession, class_counts, error))
    return NULL;
  ss_counts_compute (class_counts, threshold, &report->counts);
  return g_steal_pointer (&report);
}

/* JSON --------------------------------------------------------------------------------- */

void
ss_report_json_add_case_members (JsonBuilder *builder, const SsCase *c)
{
  g_return_if_fail (builder != NULL && c != NULL);
  json_builder_set_member_name (builder, "accession");
  json_builder_add_string_value (builder, c->accession);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, ss_case_status_name (c->status));
  ss_report_json_add_string_or_null (builder, "patient", c->patient_ref);
  ss_report_json_add_string_or_null (builder, "specimen", c->specimen);
  ss_report_json_add_string_or_null (builder, "stain", c->stain);
  ss_report_json_add_string_or_null (builder, "notes", c->notes);
  ss_report_json_add_string_or_null (builder, "signed_by", c->signed_by);
  ss_report_json_add_string_or_null (builder, "signed_at", c->signed_at);
  ss_report_json_add_string_or_null (builder, "created_at", c->created_at);
  ss_report_json_add_string_or_null (builder, "updated_at", c->updated_at);
  json_builder_set_member_name (builder, "n_images");
  json_builder_add_int_value (builder, c->n_images);
  json_builder_set_member_name (builder, "n_cells");
  json_builder_add_int_value (builder, c->n_cells);
}

void
ss_report_json_add_counts_members (JsonBuilder *builder, const SsCounts *counts)
{
  g_return_if_fail (builder != NULL && counts != NULL);
  json_builder_set_member_name (builder, "counts");
  json_builder_begin_object (builder);
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      json_builder_set_member_name (builder, ss_class_name (c));
      json_builder_add_int_value (builder, counts->counts[c]);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "counted");
  json_builder_add_int_value (builder, counts->total_counted);
  json_builder_set_member_name (builder, "blast_pct");
  if (counts->total_counted > 0)
    json_builder_add_double_value (builder, counts->blast_pct);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "blast_ci95");
  json_builder_begin_array (builder);
  json_builder_add_double_value (builder, counts->ci95_low);
  json_builder_add_double_value (builder, counts->ci95_high);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "threshold");
  json_builder_add_double_value (builder, counts->threshold);
  json_builder_set_member_name (builder, "flag");
  json_builder_add_boolean_value (builder, counts->flag);
  json_builder_set_member_name (builder, "decided");
  json_builder_add_boolean_value (builder, counts->decided);
  json_builder_set_member_name (builder, "cells_needed");
  json_builder_add_int_value (builder, counts->cells_needed);
}

void
ss_report_json_add_correction (JsonBuilder *builder, const SsCorrection *k)
{
  g_return_if_fail (builder != NULL && k != NULL);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, k->id);
  json_builder_set_member_name (builder, "cell");
  json_builder_add_int_value (builder, k->cell_id);
  json_builder_set_member_name (builder, "image");
  json_builder_add_int_value (builder, k->image_id);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, ss_correction_kind_name (k->kind));
  ss_report_json_add_string_or_null (builder, "old_class", ss_class_name (k->old_class));
  ss_report_json_add_string_or_null (builder, "new_class", ss_class_name (k->new_class));
  json_builder_set_member_name (builder, "user");
  json_builder_add_string_value (builder, k->user);
  json_builder_set_member_name (builder, "at");
  json_builder_add_string_value (builder, k->at);
  json_builder_set_member_name (builder, "undoes");
  if (k->undoes > 0)
    json_builder_add_int_value (builder, k->undoes);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "hash");
  json_builder_add_string_value (builder, k->hash);
  json_builder_end_object (builder);
}

/* What FULL adds to a cell: what the analysis measured and where the cell lies. */
static void
add_cell_details (JsonBuilder *builder, const SsCell *cell)
{
  ss_report_json_add_cell_measures (builder, cell);
  ss_report_json_add_mask (builder, "mask", &cell->mask);
  ss_report_json_add_mask (builder, "nucleus_mask", &cell->nucleus_mask);
}

static void
add_box (JsonBuilder *builder, const SsBox *box)
{
  json_builder_set_member_name (builder, "box");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "x");
  json_builder_add_int_value (builder, box->x);
  json_builder_set_member_name (builder, "y");
  json_builder_add_int_value (builder, box->y);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, box->width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, box->height);
  json_builder_end_object (builder);
}

static void
add_cell (JsonBuilder *builder, const SsCell *cell, SsReportCaseJsonFlags flags,
          double unsure_below)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, cell->id);
  json_builder_set_member_name (builder, "class");
  json_builder_add_string_value (builder, ss_class_name (cell->current_class));
  ss_report_json_add_string_or_null (builder, "predicted_class",
                                     ss_class_name (cell->predicted_class));
  ss_report_json_add_rounded (builder, "confidence", cell->confidence, 1e4);
  add_box (builder, &cell->box);
  json_builder_set_member_name (builder, "origin");
  json_builder_add_string_value (builder, cell->user_drawn ? "user" : "model");
  json_builder_set_member_name (builder, "deleted");
  json_builder_add_boolean_value (builder, cell->deleted);
  json_builder_set_member_name (builder, "reviewed");
  json_builder_add_boolean_value (builder, cell->reviewed);
  ss_report_json_add_cell_unsure (builder, cell, unsure_below);
  if (flags & SS_REPORT_CASE_JSON_FULL)
    add_cell_details (builder, cell);
  json_builder_end_object (builder);
}

/* A truth cell: its class (null when the annotation had none), box and source; with
 * FULL its mask too. */
static void
add_truth_cell (JsonBuilder *builder, const SsTruthCell *cell, SsReportCaseJsonFlags flags)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, cell->id);
  ss_report_json_add_string_or_null (builder, "class", cell->cls != SS_CLASS_NONE
                                                       ? ss_class_name (cell->cls) : NULL);
  add_box (builder, &cell->box);
  json_builder_set_member_name (builder, "source");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, cell->source_format);
  json_builder_set_member_name (builder, "file");
  json_builder_add_string_value (builder, cell->source_file);
  json_builder_set_member_name (builder, "sha256");
  json_builder_add_string_value (builder, cell->source_sha256);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "imported_at");
  json_builder_add_string_value (builder, cell->imported_at);
  json_builder_set_member_name (builder, "user");
  json_builder_add_string_value (builder, cell->user);
  if (flags & SS_REPORT_CASE_JSON_FULL)
    ss_report_json_add_mask (builder, "mask", &cell->mask);
  json_builder_end_object (builder);
}

static void
add_image (JsonBuilder *builder, const SsImageRecord *image, const SsCounts *counts,
           GPtrArray *truth, SsReportCaseJsonFlags flags, double unsure_below)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, image->id);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, image->path);
  json_builder_set_member_name (builder, "sha256");
  json_builder_add_string_value (builder, image->sha256);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, image->width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, image->height);
  ss_report_json_add_string_or_null (builder, "analysed_at", image->analysed_at);
  ss_report_json_add_string_or_null (builder, "model", image->model_name);
  ss_report_json_add_string_or_null (builder, "model_version", image->model_version);
  ss_report_json_add_string_or_null (builder, "model_checksum", image->model_checksum);
  /* the white cell the analysis assumed and where it came from (null before schema 3) */
  if (image->cell_diameter > 0)
    ss_report_json_add_rounded (builder, "cell_diameter", image->cell_diameter, 10);
  else
    {
      json_builder_set_member_name (builder, "cell_diameter");
      json_builder_add_null_value (builder);
    }
  ss_report_json_add_string_or_null (builder, "scale_source", image->scale_source);
  json_builder_set_member_name (builder, "cells");
  json_builder_begin_array (builder);
  for (guint j = 0; j < image->cells->len; j++)
    {
      const SsCell *cell = g_ptr_array_index (image->cells, j);
      if (!cell->deleted || (flags & SS_REPORT_CASE_JSON_DELETED))
        add_cell (builder, cell, flags, unsure_below);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "truth");
  json_builder_begin_array (builder);
  for (guint j = 0; truth != NULL && j < truth->len; j++)
    add_truth_cell (builder, g_ptr_array_index (truth, j), flags);
  json_builder_end_array (builder);
  if (flags & SS_REPORT_CASE_JSON_FULL)
    {
      json_builder_set_member_name (builder, "image_counts");
      json_builder_begin_object (builder);
      ss_report_json_add_counts_members (builder, counts);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
}

static void
add_event (JsonBuilder *builder, const SsCaseEvent *event)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, event->id);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, ss_case_event_kind_name (event->kind));
  json_builder_set_member_name (builder, "user");
  json_builder_add_string_value (builder, event->user);
  json_builder_set_member_name (builder, "at");
  json_builder_add_string_value (builder, event->at);
  ss_report_json_add_string_or_null (builder, "reason", event->reason);
  json_builder_end_object (builder);
}

/* Each model that made the calls of some image, once, in the order first used. */
static void
add_models (JsonBuilder *builder, GPtrArray *images)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  json_builder_set_member_name (builder, "models");
  json_builder_begin_array (builder);
  for (guint i = 0; i < images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (images, i);
      if (image->model_name == NULL)
        continue;
      char *key = g_strjoin ("\n", image->model_name, image->model_version ? image->model_version : "",
                             image->model_checksum ? image->model_checksum : "", NULL);
      if (!g_hash_table_add (seen, key))
        continue;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, image->model_name);
      ss_report_json_add_string_or_null (builder, "version", image->model_version);
      ss_report_json_add_string_or_null (builder, "checksum", image->model_checksum);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

JsonNode *
ss_report_case_json (const SsReportCase *report, SsReportCaseJsonFlags flags)
{
  g_return_val_if_fail (report != NULL, NULL);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  ss_report_json_add_case_members (builder, report->case_info);
  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->images->len; i++)
    add_image (builder, g_ptr_array_index (report->images, i),
               &g_array_index (report->image_counts, SsCounts, i),
               report->truth != NULL ? g_ptr_array_index (report->truth, i) : NULL, flags,
               report->unsure_below);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "events");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->events->len; i++)
    add_event (builder, g_ptr_array_index (report->events, i));
  json_builder_end_array (builder);
  ss_report_json_add_counts_members (builder, &report->counts);
  if (flags & SS_REPORT_CASE_JSON_FULL)
    {
      json_builder_set_member_name (builder, "corrections");
      json_builder_begin_array (builder);
      for (guint i = 0; i < report->corrections->len; i++)
        ss_report_json_add_correction (builder, g_ptr_array_index (report->corrections, i));
      json_builder_end_array (builder);
      add_models (builder, report->images);
      ss_report_json_add_rounded (builder, "unsure_below", report->unsure_below, 1e4);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* CSV ---------------------------------------------------------------------------------- */

char *
ss_report_case_counts_csv (const SsReportCase *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  GString *csv = g_string_new (NULL);
  ss_report_counts_csv_header (csv);
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      ss_report_counts_csv_row (csv, image->path,
                                &g_array_index (report->image_counts, SsCounts, i),
                                image->cell_diameter, image->scale_source);
    }
  return g_string_free (csv, FALSE);
}

static const char *
csv_boolean (gboolean value)
{
  return value ? "true" : "false";
}

char *
ss_report_case_cells_csv (const SsReportCase *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  GString *csv = g_string_new ("image,image_id,cell_id,x,y,width,height,class,"
                               "predicted_class,confidence,corrected,reviewed,deleted,unsure,"
                               "origin,area,perimeter,circularity,nucleus_area,nc_ratio,"
                               "nucleus_solidity,doubt\n");
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      for (guint j = 0; j < image->cells->len; j++)
        {
          const SsCell *cell = g_ptr_array_index (image->cells, j);
          const SsMorphometrics *m = &cell->morphometrics;
          ss_report_csv_append_quoted (csv, image->path);
          g_string_append_printf (csv, ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%d,%d,%d,%d,"
                                  "%s,%s,", image->id, cell->id, cell->box.x, cell->box.y,
                                  cell->box.width, cell->box.height,
                                  ss_class_name (cell->current_class),
                                  cell->predicted_class >= 0
                                    ? ss_class_name (cell->predicted_class) : "");
          ss_report_csv_append_number (csv, "%.4f", cell->confidence);
          g_string_append_printf (csv, ",%s,%s,%s,%s,%s,",
                                  csv_boolean (cell->current_class != cell->predicted_class),
                                  csv_boolean (cell->reviewed), csv_boolean (cell->deleted),
                                  csv_boolean (ss_cell_is_unsure (cell, report->unsure_below)),
                                  cell->user_drawn ? "user" : "model");
          ss_report_csv_append_number (csv, "%.0f", m->area);
          g_string_append_c (csv, ',');
          ss_report_csv_append_number (csv, "%.1f", m->perimeter);
          g_string_append_c (csv, ',');
          ss_report_csv_append_number (csv, "%.3f", m->circularity);
          g_string_append_c (csv, ',');
          ss_report_csv_append_number (csv, "%.0f", m->nucleus_area);
          g_string_append_c (csv, ',');
          ss_report_csv_append_number (csv, "%.3f", m->nc_ratio);
          g_string_append_c (csv, ',');
          ss_report_csv_append_number (csv, "%.3f", m->nucleus_solidity);
          g_string_append_printf (csv, ",%s\n",
                                  ss_doubt_to_string (cell->doubt) != NULL
                                    ? ss_doubt_to_string (cell->doubt) : "");
        }
    }
  return g_string_free (csv, FALSE);
}

/* COCO --------------------------------------------------------------------------------- */

gint64
ss_report_coco_rle (const SsRle *mask, int x, int y, int width, int height, GArray *runs)
{
  g_return_val_if_fail (mask != NULL && runs != NULL && width > 0 && height > 0, 0);
  const gint64 n_pixels = (gint64) width * height;
  /* column-major: the pixel (px, py) is number px * height + py */
  gint64 run_start = 0, next = 0, set = 0;
  gboolean in_foreground = FALSE;
  if (mask->n_runs > 0 && mask->width > 0 && mask->height > 0)
    {
      g_autofree guint8 *pixels = g_malloc ((gsize) mask->width * mask->height);
      ss_rle_decode (mask, pixels);
      int x0 = MAX (x, 0), x1 = MIN (x + mask->width, width);
      int y0 = MAX (y, 0), y1 = MIN (y + mask->height, height);
      for (int px = x0; px < x1; px++)
        for (int py = y0; py < y1; py++)
          {
            if (!pixels[(gsize) (py - y) * mask->width + (px - x)])
              continue;
            gint64 at = (gint64) px * height + py;
            set++;
            if (in_foreground && at == next)
              {
                next++;
                continue;
              }
            /* close the foreground run, then the background run up to this pixel */
            if (in_foreground)
              {
                gint64 length = next - run_start;
                g_array_append_val (runs, length);
                run_start = next;
              }
            gint64 gap = at - run_start;
            g_array_append_val (runs, gap);
            run_start = at;
            next = at + 1;
            in_foreground = TRUE;
          }
    }
  if (in_foreground)
    {
      gint64 length = next - run_start;
      g_array_append_val (runs, length);
      run_start = next;
    }
  gint64 rest = n_pixels - run_start;
  if (rest > 0 || runs->len == 0)
    g_array_append_val (runs, rest);
  return set;
}

gboolean
ss_report_coco_rle_decode (const gint64 *runs, guint n_runs, int width, int height,
                           const SsBox *box, SsRle *mask, gint64 *n_outside)
{
  g_return_val_if_fail (runs != NULL || n_runs == 0, FALSE);
  g_return_val_if_fail (width > 0 && height > 0 && box != NULL && mask != NULL, FALSE);
  g_return_val_if_fail (box->x >= 0 && box->y >= 0 && box->width > 0 && box->height > 0
                        && (gint64) box->x + box->width <= width
                        && (gint64) box->y + box->height <= height, FALSE);
  const gint64 n_pixels = (gint64) width * height;
  gint64 at = 0, outside = 0;
  for (guint i = 0; i < n_runs; i++)
    {
      if (runs[i] < 0 || runs[i] > n_pixels - at)
        return FALSE;
      at += runs[i];
    }
  if (at != n_pixels)
    return FALSE;
  g_autofree guint8 *pixels = g_malloc0 ((gsize) box->width * box->height);
  at = 0;
  for (guint i = 0; i < n_runs; at += runs[i], i++)
    {
      if (i % 2 == 0 || runs[i] == 0)
        continue;
      /* a foreground run [at, end) crosses the columns at / height .. (end - 1) / height;
       * only those within the box are walked, and in each only the box's rows */
      const gint64 end = at + runs[i];
      gint64 inside = 0;
      gint64 first_column = MAX (at / height, (gint64) box->x);
      gint64 last_column = MIN ((end - 1) / height, (gint64) box->x + box->width - 1);
      for (gint64 column = first_column; column <= last_column; column++)
        {
          gint64 from = MAX (at, column * height + box->y);
          gint64 to = MIN (end, column * height + box->y + box->height);
          for (gint64 p = from; p < to; p++)
            pixels[(gsize) (p - column * height - box->y) * box->width + (column - box->x)] = 1;
          inside += MAX (to - from, 0);
        }
      outside += runs[i] - inside;
    }
  ss_rle_clear (mask);
  ss_rle_encode (mask, pixels, box->width, box->height);
  if (n_outside != NULL)
    *n_outside = outside;
  return TRUE;
}

static void
add_int_array (JsonBuilder *builder, const char *name, const gint64 *values, guint n)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    json_builder_add_int_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
add_annotation (JsonBuilder *builder, const SsImageRecord *image, const SsCell *cell,
                GArray *runs)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, cell->id);
  json_builder_set_member_name (builder, "image_id");
  json_builder_add_int_value (builder, image->id);
  json_builder_set_member_name (builder, "category_id");
  json_builder_add_int_value (builder, cell->current_class + 1);
  const gint64 box[4] = { cell->box.x, cell->box.y, cell->box.width, cell->box.height };
  add_int_array (builder, "bbox", box, 4);
  g_array_set_size (runs, 0);
  gint64 area;
  json_builder_set_member_name (builder, "segmentation");
  if (cell->mask.n_runs > 0)
    {
      area = ss_report_coco_rle (&cell->mask, cell->box.x, cell->box.y, image->width,
                                 image->height, runs);
      json_builder_begin_object (builder);
      const gint64 size[2] = { image->height, image->width };
      add_int_array (builder, "size", size, 2);
      add_int_array (builder, "counts", (const gint64 *) runs->data, runs->len);
      json_builder_end_object (builder);
    }
  else
    {
      /* a cell stored without a mask: its box as the one polygon */
      const gint64 polygon[8] = { box[0], box[1], box[0] + box[2], box[1],
                                  box[0] + box[2], box[1] + box[3], box[0], box[1] + box[3] };
      area = box[2] * box[3];
      json_builder_begin_array (builder);
      json_builder_begin_array (builder);
      for (int i = 0; i < 8; i++)
        json_builder_add_int_value (builder, polygon[i]);
      json_builder_end_array (builder);
      json_builder_end_array (builder);
    }
  json_builder_set_member_name (builder, "area");
  json_builder_add_int_value (builder, area);
  json_builder_set_member_name (builder, "iscrowd");
  json_builder_add_int_value (builder, 0);
  ss_report_json_add_rounded (builder, "score", cell->confidence, 1e4);
  /* beyond COCO, ignored by its readers: what the analysis said (the model, or the size
   * for a too-small cell) and whether a person looked */
  json_builder_set_member_name (builder, "predicted_category_id");
  json_builder_add_int_value (builder, cell->predicted_class >= 0 ? cell->predicted_class + 1 : 0);
  json_builder_set_member_name (builder, "reviewed");
  json_builder_add_boolean_value (builder, cell->reviewed);
  json_builder_end_object (builder);
}

JsonNode *
ss_report_case_coco (const SsReportCase *report)
{
  g_return_val_if_fail (report != NULL, NULL);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "info");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "description");
  g_autofree char *description = g_strdup_printf ("Smearscope case %s",
                                                  report->case_info->accession);
  json_builder_add_string_value (builder, description);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, SS_VERSION);
  json_builder_set_member_name (builder, "contributor");
  json_builder_add_string_value (builder, "Smearscope");
  ss_report_json_add_string_or_null (builder, "date_created", report->case_info->updated_at);
  json_builder_set_member_name (builder, "case_status");
  json_builder_add_string_value (builder, ss_case_status_name (report->case_info->status));
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, image->id);
      json_builder_set_member_name (builder, "file_name");
      json_builder_add_string_value (builder, image->path);
      json_builder_set_member_name (builder, "width");
      json_builder_add_int_value (builder, image->width);
      json_builder_set_member_name (builder, "height");
      json_builder_add_int_value (builder, image->height);
      json_builder_set_member_name (builder, "sha256");
      json_builder_add_string_value (builder, image->sha256);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "categories");
  json_builder_begin_array (builder);
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, c + 1);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, ss_class_name (c));
      json_builder_set_member_name (builder, "supercategory");
      json_builder_add_string_value (builder, ss_class_is_counted (c) ? "white_cell" : "other");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  g_autoptr (GArray) runs = g_array_new (FALSE, FALSE, sizeof (gint64));
  json_builder_set_member_name (builder, "annotations");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      for (guint j = 0; j < image->cells->len; j++)
        {
          const SsCell *cell = g_ptr_array_index (image->cells, j);
          if (!cell->deleted && cell->current_class >= 0 && cell->current_class < SS_N_CLASSES)
            add_annotation (builder, image, cell, runs);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}
