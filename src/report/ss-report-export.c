/* Which function writes which format, and how its JSON is laid out. */
#include "ss-report-export.h"

#include "ss-report-analysis.h"
#include "ss-report-hl7.h"

#include <string.h>

static const struct {
  const char *name;
  const char *summary;
} formats[SS_REPORT_N_FORMATS] = {
  [SS_REPORT_FORMAT_COUNTS_CSV] = { "counts-csv", "one row of counts per image (CSV)" },
  [SS_REPORT_FORMAT_CELLS_CSV] = { "cells-csv", "one row per cell: box, classes, review, morphometrics (CSV)" },
  [SS_REPORT_FORMAT_JSON] = { "json", "the whole case: images, cells with masks, corrections, events, models" },
  [SS_REPORT_FORMAT_COCO] = { "coco", "COCO object detection: images, categories, annotations with RLE masks" },
  [SS_REPORT_FORMAT_HL7] = { "hl7", "HL7 v2.5.1 ORU^R01: the differential as results for a laboratory system" },
};

const char *
ss_report_format_name (SsReportFormat format)
{
  g_return_val_if_fail (format < SS_REPORT_N_FORMATS, NULL);
  return formats[format].name;
}

const char *
ss_report_format_summary (SsReportFormat format)
{
  g_return_val_if_fail (format < SS_REPORT_N_FORMATS, NULL);
  return formats[format].summary;
}

gboolean
ss_report_format_from_name (const char *name, SsReportFormat *format)
{
  g_return_val_if_fail (name != NULL && format != NULL, FALSE);
  for (int i = 0; i < SS_REPORT_N_FORMATS; i++)
    if (strcmp (name, formats[i].name) == 0)
      {
        *format = i;
        return TRUE;
      }
  return FALSE;
}

char *
ss_report_format_list (void)
{
  GString *names = g_string_new (NULL);
  for (int i = 0; i < SS_REPORT_N_FORMATS; i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", formats[i].name);
  return g_string_free (names, FALSE);
}

char *
ss_report_case_export (const SsReportCase *report, SsReportFormat format, GError **error)
{
  g_return_val_if_fail (report != NULL && format < SS_REPORT_N_FORMATS, NULL);
  g_autoptr (JsonNode) root = NULL;
  switch (format)
    {
    case SS_REPORT_FORMAT_COUNTS_CSV:
      return ss_report_case_counts_csv (report);
    case SS_REPORT_FORMAT_CELLS_CSV:
      return ss_report_case_cells_csv (report);
    case SS_REPORT_FORMAT_JSON:
      root = ss_report_case_json (report, SS_REPORT_CASE_JSON_FULL | SS_REPORT_CASE_JSON_DELETED);
      return ss_report_json_text (root);
    case SS_REPORT_FORMAT_COCO:
      /* one line: its RLE arrays indented would take a line per number */
      root = ss_report_case_coco (report);
      return ss_report_json_text_compact (root);
    case SS_REPORT_FORMAT_HL7:
      return ss_report_case_hl7 (report, NULL, error);
    case SS_REPORT_N_FORMATS:
    default:
      g_assert_not_reached ();
    }
}
