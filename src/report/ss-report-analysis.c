/* The JSON and CSV of an analysis. Figures are rounded to the digits they carry; the
 * member order is part of the format (scripts and tests read it). */
#include "ss-report-analysis.h"

#include <math.h>
#include <string.h>

void
ss_report_json_add_figure (JsonBuilder *builder, const char *name, double value)
{
  json_builder_set_member_name (builder, name);
  /* JSON has no NaN or infinity (json-glib would write "nan" or "inf"): a damaged
   * store's figure is null */
  if (isfinite (value))
    json_builder_add_double_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
ss_report_json_add_rounded (JsonBuilder *builder, const char *name, double value,
                            double precision)
{
  /* one too large to round (1e308 * 1e3) is written unrounded */
  const double rounded = round (value * precision) / precision;
  ss_report_json_add_figure (builder, name, isfinite (rounded) ? rounded : value);
}

void
ss_report_json_add_string_or_null (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
ss_report_json_add_mask (JsonBuilder *builder, const char *name, const SsRle *rle)
{
  json_builder_set_member_name (builder, name);
  if (rle->n_runs <= 0)
    {
      json_builder_add_null_value (builder);
      return;
    }
  g_autoptr (GString) runs = g_string_sized_new (8 * rle->n_runs);
  for (int i = 0; i < rle->n_runs; i++)
    g_string_append_printf (runs, "%s%u", i > 0 ? " " : "", rle->runs[i]);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, rle->width);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, rle->height);
  json_builder_set_member_name (builder, "order");
  json_builder_add_string_value (builder, "row-major");
  json_builder_set_member_name (builder, "runs");
  json_builder_add_string_value (builder, runs->str);
  json_builder_end_object (builder);
}

static void
add_cell (JsonBuilder *b, const SsCell *cell, double unsure_below)
{
  json_builder_begin_object (b);
  if (cell->id > 0)
    {
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, cell->id);
    }
  json_builder_set_member_name (b, "box");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, cell->box.x);
  json_builder_add_int_value (b, cell->box.y);
  json_builder_add_int_value (b, cell->box.width);
  json_builder_add_int_value (b, cell->box.height);
  json_builder_end_array (b);
  ss_report_json_add_mask (b, "mask", &cell->mask);
  ss_report_json_add_mask (b, "nucleus_mask", &cell->nucleus_mask);
  json_builder_set_member_name (b, "class");
  json_builder_add_string_value (b, ss_class_name (cell->current_class));
  ss_report_json_add_rounded (b, "confidence", cell->confidence, 1e4);
  ss_report_json_add_cell_unsure (b, cell, unsure_below);
  ss_report_json_add_cell_measures (b, cell);
  json_builder_end_object (b);
}

void
ss_report_json_add_cell_unsure (JsonBuilder *b, const SsCell *cell, double unsure_below)
{
  json_builder_set_member_name (b, "unsure");
  json_builder_add_boolean_value (b, ss_cell_is_unsure (cell, unsure_below));
  /* why, beyond the confidence: only when the analysis doubted the call */
  if (ss_doubt_to_string (cell->doubt) != NULL)
    {
      json_builder_set_member_name (b, "doubt");
      json_builder_add_string_value (b, ss_doubt_to_string (cell->doubt));
    }
}

void
ss_report_json_add_cell_measures (JsonBuilder *b, const SsCell *cell)
{
  json_builder_set_member_name (b, "probabilities");
  json_builder_begin_object (b);
  for (int c = 0; c < SS_N_CLASSES; c++)
    ss_report_json_add_rounded (b, ss_class_name (c), cell->probabilities[c], 1e4);
  json_builder_end_object (b);
  const SsMorphometrics *m = &cell->morphometrics;
  json_builder_set_member_name (b, "morphometrics");
  json_builder_begin_object (b);
  ss_report_json_add_rounded (b, "area", m->area, 1);
  ss_report_json_add_rounded (b, "perimeter", m->perimeter, 10);
  ss_report_json_add_rounded (b, "circularity", m->circularity, 1e3);
  ss_report_json_add_rounded (b, "nucleus_area", m->nucleus_area, 1);
  ss_report_json_add_rounded (b, "nc_ratio", m->nc_ratio, 1e3);
  ss_report_json_add_rounded (b, "nucleus_solidity", m->nucleus_solidity, 1e3);
  json_builder_end_object (b);
}

static void
add_timings (JsonBuilder *b, const SsAnalysisTimings *t)
{
  json_builder_set_member_name (b, "timings_ms");
  json_builder_begin_object (b);
  ss_report_json_add_rounded (b, "load", t->load_ms, 100);
  ss_report_json_add_rounded (b, "scale", t->scale_ms, 100);
  ss_report_json_add_rounded (b, "preprocess", t->preprocess_ms, 100);
  ss_report_json_add_rounded (b, "propose", t->propose_ms, 100);
  ss_report_json_add_rounded (b, "refine", t->refine_ms, 100);
  ss_report_json_add_rounded (b, "classify", t->classify_ms, 100);
  ss_report_json_add_rounded (b, "select", t->select_ms, 100);
  ss_report_json_add_rounded (b, "morphometrics", t->morphometrics_ms, 100);
  ss_report_json_add_rounded (b, "counts", t->counts_ms, 100);
  ss_report_json_add_rounded (b, "total", t->total_ms, 100);
  json_builder_end_object (b);
}

static void
add_result (JsonBuilder *b, const SsAnalysisResult *r, double unsure_below)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, r->path);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, r->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, r->height);
  /* the white-cell size the analysis assumed, and where it came from */
  json_builder_set_member_name (b, "scale");
  json_builder_begin_object (b);
  ss_report_json_add_rounded (b, "cell_diameter", r->cell_diameter, 10);
  json_builder_set_member_name (b, "source");
  json_builder_add_string_value (b, ss_scale_source_to_string (r->scale_source));
  if (r->scale_source != SS_SCALE_SOURCE_SETTING)
    {
      ss_report_json_add_rounded (b, "red_cell_diameter", r->red_cell_diameter, 10);
      json_builder_set_member_name (b, "red_cell_circles");
      json_builder_add_int_value (b, r->red_cell_circles);
    }
  json_builder_end_object (b);
  /* how unlike the cameras the model learned the field's cells look, when checked */
  if (r->camera_distance >= 0)
    {
      json_builder_set_member_name (b, "camera");
      json_builder_begin_object (b);
      ss_report_json_add_rounded (b, "distance", r->camera_distance, 1000);
      ss_report_json_add_rounded (b, "threshold", r->camera_threshold, 1000);
      json_builder_set_member_name (b, "unlike_training");
      json_builder_add_boolean_value (b, r->camera_unlike);
      json_builder_set_member_name (b, "colours_mapped");
      json_builder_add_boolean_value (b, r->colours_mapped);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "cells");
  json_builder_begin_array (b);
  for (guint i = 0; i < r->cells->len; i++)
    add_cell (b, r->cells->pdata[i], unsure_below);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "counts");
  json_builder_begin_object (b);
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      json_builder_set_member_name (b, ss_class_name (c));
      json_builder_add_int_value (b, r->counts.counts[c]);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "total_counted");
  json_builder_add_int_value (b, r->counts.total_counted);
  ss_report_json_add_rounded (b, "blast_pct", r->counts.blast_pct, 100);
  json_builder_set_member_name (b, "blast_ci95");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, round (r->counts.ci95_low * 100) / 100);
  json_builder_add_double_value (b, round (r->counts.ci95_high * 100) / 100);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "flag");
  json_builder_add_boolean_value (b, r->counts.flag);
  ss_report_json_add_rounded (b, "blast_threshold", r->counts.threshold, 100);
  json_builder_set_member_name (b, "decided");
  json_builder_add_boolean_value (b, r->counts.decided);
  json_builder_set_member_name (b, "cells_needed");
  json_builder_add_int_value (b, r->counts.cells_needed);
  json_builder_set_member_name (b, "set_aside");
  json_builder_add_int_value (b, r->set_aside->len);
  add_timings (b, &r->timings);
  json_builder_end_object (b);
}

JsonNode *
ss_report_analysis_json (GPtrArray *results, const SsAnalysisSettings *settings,
                         gboolean classified)
{
  g_return_val_if_fail (results != NULL && settings != NULL, NULL);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "images");
  json_builder_begin_array (b);
  for (guint i = 0; i < results->len; i++)
    {
      const SsAnalysisResult *r = results->pdata[i];
      if (r->error == NULL)
        add_result (b, r, settings->unsure_below);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "errors");
  json_builder_begin_array (b);
  for (guint i = 0; i < results->len; i++)
    {
      const SsAnalysisResult *r = results->pdata[i];
      if (r->error != NULL)
        json_builder_add_string_value (b, r->error->message);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "settings");
  json_builder_begin_object (b);
  ss_report_json_add_rounded (b, "nms", settings->nms_iou, 1e4);
  ss_report_json_add_rounded (b, "min_confidence", settings->min_confidence, 1e4);
  ss_report_json_add_rounded (b, "scale", settings->detect.scale, 1e4);
  ss_report_json_add_rounded (b, "cell_diameter", settings->detect.cell_diameter, 1e2);
  json_builder_set_member_name (b, "scale_from_image");
  json_builder_add_boolean_value (b, settings->scale_from_image);
  ss_report_json_add_rounded (b, "unsure_below", settings->unsure_below, 1e4);
  json_builder_set_member_name (b, "colour_map");
  json_builder_add_boolean_value (b, settings->colour_pool != NULL);
  json_builder_set_member_name (b, "classifier");
  json_builder_add_boolean_value (b, classified);
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

void
ss_report_csv_append_quoted (GString *csv, const char *text)
{
  g_string_append_c (csv, '"');
  for (const char *at = text; *at != '\0'; at++)
    {
      if (*at == '"')
        g_string_append_c (csv, '"');
      g_string_append_c (csv, *at);
    }
  g_string_append_c (csv, '"');
}

void
ss_report_csv_append_number (GString *csv, const char *format, double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  if (isfinite (value))  /* NaN or infinity: an empty field, as for no value */
    g_string_append (csv, g_ascii_formatd (buffer, sizeof buffer, format, value));
}

void
ss_report_counts_csv_header (GString *csv)
{
  g_string_append (csv, "image");
  for (int c = 0; c < SS_N_CLASSES; c++)
    g_string_append_printf (csv, ",%s", ss_class_name (c));
  g_string_append (csv, ",total_counted,blast_pct,blast_ci95_low,blast_ci95_high,flag,"
                   "cell_diameter,scale_source\n");
}

void
ss_report_counts_csv_row (GString *csv, const char *path, const SsCounts *counts,
                          double cell_diameter, const char *scale_source)
{
  g_return_if_fail (csv != NULL && path != NULL && counts != NULL);
  /* always quoted: file names may hold commas, quotes and line breaks */
  ss_report_csv_append_quoted (csv, path);
  for (int c = 0; c < SS_N_CLASSES; c++)
    g_string_append_printf (csv, ",%d", counts->counts[c]);
  g_string_append_printf (csv, ",%d,", counts->total_counted);
  ss_report_csv_append_number (csv, "%.2f", counts->blast_pct);
  g_string_append_c (csv, ',');
  ss_report_csv_append_number (csv, "%.2f", counts->ci95_low);
  g_string_append_c (csv, ',');
  ss_report_csv_append_number (csv, "%.2f", counts->ci95_high);
  g_string_append_printf (csv, ",%s,", counts->flag ? "true" : "false");
  if (cell_diameter > 0)
    ss_report_csv_append_number (csv, "%.1f", cell_diameter);
  g_string_append_c (csv, ',');
  /* a store's own text: quoted when it could end the field or the row (only a damaged
   * or hostile store holds such a scale source) */
  if (scale_source != NULL && strpbrk (scale_source, ",\"\r\n") != NULL)
    ss_report_csv_append_quoted (csv, scale_source);
  else if (scale_source != NULL)
    g_string_append (csv, scale_source);
  g_string_append_c (csv, '\n');
}

char *
ss_report_counts_csv (GPtrArray *results)
{
  g_return_val_if_fail (results != NULL, NULL);
  GString *csv = g_string_new (NULL);
  ss_report_counts_csv_header (csv);
  for (guint i = 0; i < results->len; i++)
    {
      const SsAnalysisResult *r = results->pdata[i];
      if (r->error == NULL)
        ss_report_counts_csv_row (csv, r->path, &r->counts, r->cell_diameter,
                                  ss_scale_source_to_string (r->scale_source));
    }
  return g_string_free (csv, FALSE);
}

char *
ss_report_json_text (JsonNode *root)
{
  g_return_val_if_fail (root != NULL, NULL);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_root (generator, root);
  g_autofree char *text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

char *
ss_report_json_text_compact (JsonNode *root)
{
  g_return_val_if_fail (root != NULL, NULL);
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  json_generator_set_root (generator, root);
  g_autofree char *text = json_generator_to_data (generator, NULL);
  return g_strconcat (text, "\n", NULL);
}

gboolean
ss_report_write_text_atomic (const char *path, const char *text, GError **error)
{
  g_return_val_if_fail (path != NULL && text != NULL, FALSE);
  return g_file_set_contents (path, text, -1, error);
}
