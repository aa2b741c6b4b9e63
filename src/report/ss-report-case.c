/* A stored case as CSV. The JSON member order and the CSV columns are
 * part of the formats (docs/exchange.md, docs/case-store.md): add, never rename. */
#include "ss-report-case.h"

#include "ss-report-analysis.h"


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
                               "origin,area,perimeter,circularity,nucleus_area,nc_ratio\n");
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      for (guint j = 0; j < image->cells->len; j++)
        {
          const SsCell *cell = g_ptr_array_index (image->cells, j);
          const SsMorphometrics *m = &cell->morphometrics;
          ss_report_csv_append_quoted (csv, image->path);
          g_string_append_printf (csv, ",%" G_GINT64_FORMAT ",%" G_GINT64_FORMAT ",%d,%d,%d,%d,"
                                  "%s,%s,%.4f,%s,%s,%s,%s,%s,%.0f,%.1f,%.3f,%.0f,%.3f\n",
                                  image->id, cell->id, cell->box.x, cell->box.y,
                                  cell->box.width, cell->box.height,
                                  ss_class_name (cell->current_class),
                                  ss_class_name (cell->predicted_class), cell->confidence,
                                  csv_boolean (cell->current_class != cell->predicted_class),
                                  csv_boolean (cell->reviewed), csv_boolean (cell->deleted),
                                  csv_boolean (ss_cell_is_unsure (cell, report->unsure_below)),
                                  cell->user_drawn ? "user" : "model", m->area, m->perimeter,
                                  m->circularity, m->nucleus_area, m->nc_ratio);
        }
    }
  return g_string_free (csv, FALSE);
}
