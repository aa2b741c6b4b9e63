/* The exports of a stored case (src/report/ss-report-export.c, ss-report-case.c): a case
 * made from the input, with every text, number (NaN and infinity too), class id, box and
 * mask a damaged store could hand over, written in every format and read back.
 *   - the case JSON parses, and its texts and mask runs are the case's;
 *   - COCO parses, has one annotation per cell kept, each mask's runs over its image;
 *   - the CSVs have one record per image and per cell, texts read back;
 *   - HL7 (when the case can be said in it) reads back with hl7-parse.c. */
#include "fuzz-util.h"

#include "hl7-parse.h"
#include "ss-report-export.h"

#include <math.h>
#include <string.h>

typedef struct {
  const uint8_t *at, *end;
} Reader;

static guint
take_byte (Reader *r)
{
  return r->at < r->end ? *r->at++ : 0;
}

static guint32
take_u32 (Reader *r)
{
  guint32 v = 0;
  for (int i = 0; i < 4; i++)
    v = v << 8 | take_byte (r);
  return v;
}

/* A float: small whole numbers mostly, any bit pattern (NaN, infinity) when asked. */
static double
take_number (Reader *r)
{
  guint kind = take_byte (r);
  if (kind < 0xf0)
    return kind / 8.0;
  guint32 bits = take_u32 (r);
  float f;
  memcpy (&f, &bits, 4);
  return f;
}

/* A text of up to 15 bytes made valid UTF-8 (the store keeps UTF-8); NULL when asked. */
static char *
take_text (Reader *r, gboolean nullable)
{
  guint n = take_byte (r);
  if (nullable && n == 0xff)
    return NULL;
  n %= 16;
  n = MIN (n, (guint) (r->end - r->at));
  g_autofree char *raw = g_strndup ((const char *) r->at, n);
  r->at += n;
  return g_utf8_make_valid (raw, -1);
}

static void
take_mask (Reader *r, SsRle *mask)
{
  guint shape = take_byte (r);
  if (shape == 0)
    return;  /* no mask */
  mask->width = (int) (shape & 15) - 1;  /* -1 .. 14: a damaged row may say anything */
  mask->height = (int) (shape >> 4) - 1;
  mask->n_runs = 1 + (int) (take_byte (r) % 8);
  mask->runs = g_new (guint32, mask->n_runs);
  for (int i = 0; i < mask->n_runs; i++)
    mask->runs[i] = take_byte (r) % 64;
}

static SsCell *
take_cell (Reader *r)
{
  SsCell *cell = ss_cell_new ();
  cell->id = take_byte (r);
  cell->box = (SsBox) { (int) take_byte (r) - 64, (int) take_byte (r) - 64,
                        (int) take_byte (r) % 40 - 4, (int) take_byte (r) % 40 - 4 };
  take_mask (r, &cell->mask);
  take_mask (r, &cell->nucleus_mask);
  cell->predicted_class = (int) take_byte (r) % 11 - 2;
  cell->current_class = (int) take_byte (r) % 11 - 2;
  cell->confidence = (float) take_number (r);
  for (int c = 0; c < SS_N_CLASSES; c++)
    cell->probabilities[c] = (float) take_number (r);
  double *measures[] = { &cell->morphometrics.area, &cell->morphometrics.perimeter,
                         &cell->morphometrics.circularity, &cell->morphometrics.nucleus_area,
                         &cell->morphometrics.nc_ratio, &cell->morphometrics.nucleus_solidity };
  for (guint i = 0; i < G_N_ELEMENTS (measures); i++)
    *measures[i] = take_number (r);
  guint flags = take_byte (r);
  cell->user_drawn = flags & 1;
  cell->deleted = (flags >> 1) & 1;
  cell->reviewed = (flags >> 2) & 1;
  cell->doubt = (flags >> 3) & 3;
  return cell;
}

static SsReportCase *
take_case (Reader *r)
{
  SsReportCase *report = g_new0 (SsReportCase, 1);
  SsCase *c = report->case_info = g_new0 (SsCase, 1);
  c->accession = take_text (r, FALSE);
  c->patient_ref = take_text (r, TRUE);
  c->specimen = take_text (r, TRUE);
  c->notes = take_text (r, TRUE);
  c->status = take_byte (r) % 3;
  c->signed_by = take_text (r, TRUE);
  c->signed_at = take_text (r, TRUE);
  c->created_at = g_strdup ("2026-12-06T09:00:00.000000Z");
  c->updated_at = take_text (r, TRUE);
  report->unsure_below = take_number (r);
  report->images = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_image_record_free);
  report->truth = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  report->image_counts = g_array_new (FALSE, TRUE, sizeof (SsCounts));
  int case_counts[SS_N_CLASSES] = { 0 };
  guint n_images = take_byte (r) % 4;
  for (guint i = 0; i < n_images; i++)
    {
      SsImageRecord *image = g_new0 (SsImageRecord, 1);
      image->id = i + 1;
      image->path = take_text (r, FALSE);
      image->sha256 = take_text (r, FALSE);
      image->width = 1 + (int) take_byte (r) % 48;
      image->height = 1 + (int) take_byte (r) % 48;
      image->analysed_at = take_text (r, TRUE);
      image->model_name = take_text (r, TRUE);
      image->cell_diameter = take_number (r);
      image->scale_source = take_text (r, TRUE);
      image->cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
      int counts[SS_N_CLASSES] = { 0 };
      guint n_cells = take_byte (r) % 6;
      for (guint k = 0; k < n_cells; k++)
        {
          SsCell *cell = take_cell (r);
          if (!cell->deleted && cell->current_class >= 0 && cell->current_class < SS_N_CLASSES)
            counts[cell->current_class]++, case_counts[cell->current_class]++;
          g_ptr_array_add (image->cells, cell);
        }
      SsCounts image_counts;
      ss_counts_compute (counts, SS_BLAST_THRESHOLD_DEFAULT, &image_counts);
      g_array_append_val (report->image_counts, image_counts);
      g_ptr_array_add (report->images, image);
      GPtrArray *truth = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free);
      guint n_truth = take_byte (r) % 3;
      for (guint k = 0; k < n_truth; k++)
        {
          SsTruthCell *cell = ss_truth_cell_new ();
          cell->box = (SsBox) { (int) take_byte (r) % 48, (int) take_byte (r) % 48,
                                1 + (int) take_byte (r) % 16, 1 + (int) take_byte (r) % 16 };
          cell->cls = (int) take_byte (r) % 9 - 1;
          take_mask (r, &cell->mask);
          cell->source_format = g_strdup ("coco");
          cell->source_file = take_text (r, FALSE);
          cell->source_sha256 = g_strdup ("00");
          cell->imported_at = g_strdup ("2026-12-06T09:00:00.000000Z");
          cell->user = take_text (r, FALSE);
          g_ptr_array_add (truth, cell);
        }
      g_ptr_array_add (report->truth, truth);
    }
  ss_counts_compute (case_counts, SS_BLAST_THRESHOLD_DEFAULT, &report->counts);
  report->corrections = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_correction_free);
  guint n_corrections = take_byte (r) % 3;
  for (guint i = 0; i < n_corrections; i++)
    {
      SsCorrection *k = g_new0 (SsCorrection, 1);
      k->id = i + 1;
      k->kind = take_byte (r) % 5;
      k->old_class = (int) take_byte (r) % 11 - 2;
      k->new_class = (int) take_byte (r) % 11 - 2;
      k->user = take_text (r, FALSE);
      k->at = take_text (r, FALSE);
      k->hash = g_strdup ("ab");
      g_ptr_array_add (report->corrections, k);
    }
  report->events = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_case_event_free);
  guint n_events = take_byte (r) % 3;
  for (guint i = 0; i < n_events; i++)
    {
      SsCaseEvent *e = g_new0 (SsCaseEvent, 1);
      e->id = i + 1;
      e->kind = take_byte (r) % 2;
      e->user = take_text (r, FALSE);
      e->at = take_text (r, FALSE);
      e->reason = take_text (r, TRUE);
      g_ptr_array_add (report->events, e);
    }
  return report;
}

static JsonNode *
parse_json (const char *text, const char *what)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  FUZZ_CHECK (json_parser_load_from_data (parser, text, -1, &error),
              "the %s export is no JSON: %s\n%s", what, error->message, text);
  return json_node_copy (json_parser_get_root (parser));
}

static void
check_text (JsonObject *object, const char *member, const char *expected)
{
  JsonNode *node = json_object_get_member (object, member);
  FUZZ_CHECK (node != NULL, "no member %s", member);
  if (expected == NULL)
    FUZZ_CHECK (JSON_NODE_HOLDS_NULL (node), "%s is not null", member);
  else
    FUZZ_CHECK (JSON_NODE_HOLDS_VALUE (node)
                  && g_strcmp0 (json_node_get_string (node), expected) == 0,
                "%s reads back as '%s', not '%s'", member, json_node_get_string (node),
                expected);
}

static void
check_mask (JsonObject *cell, const char *member, const SsRle *mask)
{
  JsonNode *node = json_object_get_member (cell, member);
  FUZZ_CHECK (node != NULL, "no %s", member);
  if (mask->n_runs <= 0)
    {
      FUZZ_CHECK (JSON_NODE_HOLDS_NULL (node), "an empty %s is not null", member);
      return;
    }
  JsonObject *object = json_node_get_object (node);
  FUZZ_CHECK (json_object_get_int_member (object, "width") == mask->width
                && json_object_get_int_member (object, "height") == mask->height,
              "%s's size changes", member);
  g_auto (GStrv) runs = g_strsplit (json_object_get_string_member (object, "runs"), " ", -1);
  FUZZ_CHECK (g_strv_length (runs) == (guint) mask->n_runs, "%s: %u runs, not %d", member,
              g_strv_length (runs), mask->n_runs);
  for (int i = 0; i < mask->n_runs; i++)
    FUZZ_CHECK (g_ascii_strtoull (runs[i], NULL, 10) == mask->runs[i], "%s run %d changes",
                member, i);
}

/* The export in a JSON format, parsed: its top-level object lives as long as *root. */
static JsonObject *
export_json (const SsReportCase *report, SsReportFormat format, JsonNode **root)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = ss_report_case_export (report, format, &error);
  FUZZ_CHECK (text != NULL, "no %s export: %s", ss_report_format_name (format),
              error->message);
  *root = parse_json (text, ss_report_format_name (format));
  FUZZ_CHECK (JSON_NODE_HOLDS_OBJECT (*root), "the %s export is no object",
              ss_report_format_name (format));
  return json_node_get_object (*root);
}

static void
check_case_json (const SsReportCase *report)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *top = export_json (report, SS_REPORT_FORMAT_JSON, &root);
  const SsCase *c = report->case_info;
  const char *members[] = { "accession", "patient", "specimen", "notes", "signed_by" };
  const char *texts[] = { c->accession, c->patient_ref, c->specimen, c->notes, c->signed_by };
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    check_text (top, members[i], texts[i]);
  JsonArray *images = json_object_get_array_member (top, "images");
  FUZZ_CHECK (json_array_get_length (images) == report->images->len, "images lost");
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      JsonObject *object = json_array_get_object_element (images, i);
      check_text (object, "path", image->path);
      check_text (object, "model", image->model_name);
      JsonArray *cells = json_object_get_array_member (object, "cells");
      FUZZ_CHECK (json_array_get_length (cells) == image->cells->len, "cells lost");
      for (guint k = 0; k < image->cells->len; k++)
        {
          const SsCell *cell = g_ptr_array_index (image->cells, k);
          JsonObject *o = json_array_get_object_element (cells, k);
          check_mask (o, "mask", &cell->mask);
          check_mask (o, "nucleus_mask", &cell->nucleus_mask);
        }
    }
}

static void
check_coco (const SsReportCase *report)
{
  g_autoptr (JsonNode) root = NULL;
  JsonObject *top = export_json (report, SS_REPORT_FORMAT_COCO, &root);
  JsonArray *annotations = json_object_get_array_member (top, "annotations");
  FUZZ_CHECK (annotations != NULL, "COCO without annotations");
  for (guint i = 0; i < json_array_get_length (annotations); i++)
    {
      JsonObject *a = json_array_get_object_element (annotations, i);
      JsonNode *segmentation = json_object_get_member (a, "segmentation");
      if (segmentation == NULL || !JSON_NODE_HOLDS_OBJECT (segmentation))
        continue;
      JsonObject *rle = json_node_get_object (segmentation);
      JsonArray *size = json_object_get_array_member (rle, "size");
      JsonArray *counts = json_object_get_array_member (rle, "counts");
      gint64 pixels = json_array_get_int_element (size, 0) * json_array_get_int_element (size, 1);
      gint64 sum = 0;
      for (guint k = 0; k < json_array_get_length (counts); k++)
        {
          gint64 run = json_array_get_int_element (counts, k);
          FUZZ_CHECK (run >= 0, "annotation %u: a negative run", i);
          sum += run;
        }
      FUZZ_CHECK (sum == pixels, "annotation %u: runs add up to %" G_GINT64_FORMAT " of %"
                  G_GINT64_FORMAT " pixels", i, sum, pixels);
    }
}

/* The records of a CSV text (quoted fields may hold commas, quotes and newlines). */
static GPtrArray *
csv_records (const char *text)
{
  GPtrArray *records = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  GPtrArray *record = NULL;
  GString *field = g_string_new (NULL);
  gboolean quoted = FALSE, started = FALSE;
  for (const char *at = text; *at != '\0'; at++)
    {
      if (record == NULL)
        record = g_ptr_array_new_with_free_func (g_free);
      if (quoted)
        {
          if (*at == '"' && at[1] == '"')
            g_string_append_c (field, '"'), at++;
          else if (*at == '"')
            quoted = FALSE;
          else
            g_string_append_c (field, *at);
        }
      else if (*at == '"' && !started)
        quoted = started = TRUE;
      else if (*at == ',' || *at == '\n')
        {
          g_ptr_array_add (record, g_string_free (field, FALSE));
          field = g_string_new (NULL);
          started = FALSE;
          if (*at == '\n')
            {
              g_ptr_array_add (records, record);
              record = NULL;
            }
        }
      else
        g_string_append_c (field, *at), started = TRUE;
    }
  FUZZ_CHECK (!quoted && record == NULL, "the CSV does not end with a whole record");
  g_string_free (field, TRUE);
  return records;
}

static void
check_csv (const SsReportCase *report)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *counts = ss_report_case_export (report, SS_REPORT_FORMAT_COUNTS_CSV, &error);
  g_autoptr (GPtrArray) rows = csv_records (counts);
  FUZZ_CHECK (rows->len == 1 + report->images->len, "counts CSV: %u records for %u images",
              rows->len, report->images->len);
  guint n_cells = 0;
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      GPtrArray *row = rows->pdata[i + 1];
      FUZZ_CHECK (row->len == ((GPtrArray *) rows->pdata[0])->len, "counts CSV: row %u has %u "
                  "fields", i + 1, row->len);
      FUZZ_CHECK (strcmp (row->pdata[0], image->path) == 0, "counts CSV: path '%s' reads back "
                  "as '%s'", image->path, (char *) row->pdata[0]);
      n_cells += image->cells->len;
    }
  g_autofree char *cells = ss_report_case_export (report, SS_REPORT_FORMAT_CELLS_CSV, &error);
  g_autoptr (GPtrArray) cell_rows = csv_records (cells);
  FUZZ_CHECK (cell_rows->len == 1 + n_cells, "cells CSV: %u records for %u cells",
              cell_rows->len, n_cells);
  for (guint i = 1; i < cell_rows->len; i++)
    FUZZ_CHECK (((GPtrArray *) cell_rows->pdata[i])->len
                  == ((GPtrArray *) cell_rows->pdata[0])->len,
                "cells CSV: row %u has %u fields", i, ((GPtrArray *) cell_rows->pdata[i])->len);
}

static void
check_hl7 (const SsReportCase *report)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *message = ss_report_case_export (report, SS_REPORT_FORMAT_HL7, &error);
  const SsCase *c = report->case_info;
  if (message == NULL)
    {
      FUZZ_CHECK (c->patient_ref == NULL || *c->patient_ref == '\0'
                    || report->counts.total_counted == 0,
                  "HL7 refused: %s", error->message);
      return;
    }
  g_autoptr (GPtrArray) segments = hl7_parse (message);
  FUZZ_CHECK (segments->len >= 5, "%u HL7 segments", segments->len);
  g_autofree char *patient = hl7_component (hl7_field (segments->pdata[1], 3), 1);
  g_autofree char *back = hl7_unescape (patient);
  FUZZ_CHECK (back != NULL && strcmp (back, c->patient_ref) == 0, "PID-3 reads back as '%s'",
              patient);
  g_autofree char *accession = hl7_component (hl7_field (segments->pdata[2], 3), 1);
  g_autofree char *accession_back = hl7_unescape (accession);
  FUZZ_CHECK (accession_back != NULL && strcmp (accession_back, c->accession) == 0,
              "OBR-3 reads back as '%s'", accession);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  Reader r = { data, data + size };
  g_autoptr (SsReportCase) report = take_case (&r);
  check_case_json (report);
  check_coco (report);
  check_csv (report);
  check_hl7 (report);
  return 0;
}
