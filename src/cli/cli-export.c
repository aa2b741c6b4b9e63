/* smearscope-cli export: a stored case as a file other programs read (docs/exchange.md).
 * The formats themselves are src/report's; this only picks one and writes it. */
#include "cli.h"

#include "ss-report-analysis.h"
#include "ss-report-case.h"
#include "ss-report-hl7.h"

#include <stdio.h>
#include <string.h>

/* Exit codes, as the other store commands: 1 the store or the file failed, 2 usage. */
#define EXIT_FAILED 1
#define EXIT_USAGE  2

static char *
export_counts_csv (const SsReportCase *report, GError **error)
{
  return ss_report_case_counts_csv (report);
}

static char *
export_cells_csv (const SsReportCase *report, GError **error)
{
  return ss_report_case_cells_csv (report);
}

static char *
export_json (const SsReportCase *report, GError **error)
{
  g_autoptr (JsonNode) root = ss_report_case_json (report, SS_REPORT_CASE_JSON_FULL
                                                           | SS_REPORT_CASE_JSON_DELETED);
  return ss_report_json_text (root);
}

static char *
export_coco (const SsReportCase *report, GError **error)
{
  g_autoptr (JsonNode) root = ss_report_case_coco (report);
  return ss_report_json_text_compact (root);
}

/* A signed case goes as final results, any other as preliminary ones. */
static char *
export_hl7 (const SsReportCase *report, GError **error)
{
  return ss_report_case_hl7 (report, NULL, error);
}

static const struct {
  const char *name;
  char     *(*text) (const SsReportCase *report, GError **error);
  const char *summary;
} formats[] = {
  { "counts-csv", export_counts_csv, "one row of counts per image (CSV)" },
  { "cells-csv", export_cells_csv, "one row per cell: box, classes, review, morphometrics (CSV)" },
  { "json", export_json, "the whole case: images, cells with masks, corrections, events, models" },
  { "coco", export_coco, "COCO object detection: images, categories, annotations with RLE masks" },
  { "hl7", export_hl7, "HL7 v2.5.1 ORU^R01: the differential as results for a laboratory system" },
};

static char *
format_list (void)
{
  GString *names = g_string_new (NULL);
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    g_string_append_printf (names, "%s%s", i > 0 ? ", " : "", formats[i].name);
  return g_string_free (names, FALSE);
}

int
ss_cli_export (int argc, char **argv)
{
  g_autofree char *accession = NULL, *format = NULL, *out = NULL;
  double threshold = SS_BLAST_THRESHOLD_DEFAULT;
  const GOptionEntry entries[] = {
    { "case", 0, 0, G_OPTION_ARG_STRING, &accession, "Accession number of the case", "A" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "counts-csv, cells-csv, json, coco or hl7", "FORMAT" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "The file to write (- for stdout)", "FILE" },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, "Blast flag threshold in percent (default 20)", "PCT" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- write a case as CSV, JSON, COCO or HL7");
  g_option_context_add_main_entries (context, entries, NULL);
  g_autofree char *names = format_list ();
  g_autofree char *description = g_strdup_printf ("Formats (docs/exchange.md): %s", names);
  g_option_context_set_description (context, description);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  if (accession == NULL || format == NULL || out == NULL || argc != 1)
    {
      ss_cli_error ("export needs --case A, --format FORMAT and --out FILE (try --help)");
      return EXIT_USAGE;
    }
  if (!(threshold >= 0 && threshold <= 100))
    {
      ss_cli_error ("--threshold must be a percentage between 0 and 100");
      return EXIT_USAGE;
    }
  guint chosen = G_N_ELEMENTS (formats);
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (strcmp (format, formats[i].name) == 0)
      chosen = i;
  if (chosen == G_N_ELEMENTS (formats))
    {
      ss_cli_error ("unknown format '%s'; the formats are %s", format, names);
      return EXIT_USAGE;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_READ_ONLY, &error);
  if (store == NULL)
    return ss_cli_store_failed (error);
  g_autoptr (SsReportCase) report = ss_report_case_load (store, accession, threshold, &error);
  if (report == NULL)
    return ss_cli_store_failed (error);
  g_autofree char *text = formats[chosen].text (report, &error);
  if (text == NULL)
    {
      ss_cli_error ("%s", error->message);
      return EXIT_FAILED;
    }
  if (!ss_cli_write_text (out, text, &error))
    {
      ss_cli_error ("cannot write %s: %s", out, error->message);
      return EXIT_FAILED;
    }
  if (strcmp (out, "-") != 0)
    printf ("Wrote the %s of case %s to %s\n", format, accession, out);
  return 0;
}
