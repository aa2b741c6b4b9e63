/* smearscope-cli export: a stored case as a file other programs read (docs/exchange.md).
 * The formats themselves are src/report's; this only picks one and writes it. */
#include "cli.h"

#include "ss-report-export.h"
#include "ss-report-hl7.h"

#include <stdio.h>
#include <string.h>

/* Exit codes, as the other store commands: 1 the store or the file failed, 2 usage. */
#define EXIT_FAILED 1

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
  ss_cli_add_entries (context, entries);
  g_autofree char *names = ss_report_format_list ();
  g_autoptr (GString) description = g_string_new ("Formats (docs/exchange.md):\n");
  for (int i = 0; i < SS_REPORT_N_FORMATS; i++)
    g_string_append_printf (description, "  %-11s %s\n", ss_report_format_name (i),
                            ss_report_format_summary (i));
  g_option_context_set_description (context, description->str);
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
  SsReportFormat chosen;
  if (!ss_report_format_from_name (format, &chosen))
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
  g_autofree char *text = ss_report_case_export (report, chosen, &error);
  if (text == NULL)
    {
      ss_cli_error ("%s", error->message);
      if (g_error_matches (error, SS_REPORT_HL7_ERROR, SS_REPORT_HL7_ERROR_NO_PATIENT))
        fprintf (stderr, "  'smearscope-cli case edit %s --patient REF' gives it one\n",
                 accession);
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
