/* smearscope-cli report: a case's report as PDF (ss-report-pdf.h does the work). */
#include "cli.h"

#include "ss-counts.h"
#include "ss-report-pdf.h"
#include "ss-store.h"

#include <stdio.h>

/* Exit codes as the other store commands: 1 the store or the file failed, 2 the
 * command line was wrong. */
#define EXIT_FAILED 1

int
ss_cli_report (int argc, char **argv)
{
  g_autofree char *accession = NULL, *out = NULL, *paper_name = NULL, *lab = NULL;
  double threshold = SS_BLAST_THRESHOLD_DEFAULT, unsure_below = SS_UNSURE_BELOW_DEFAULT;
  const GOptionEntry entries[] = {
    { "case", 0, 0, G_OPTION_ARG_STRING, &accession, "Accession number of the case", "A" },
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "The PDF file to write", "FILE.pdf" },
    { "paper", 0, 0, G_OPTION_ARG_STRING, &paper_name, "Paper size: a4 (default) or letter", "SIZE" },
    { "lab", 0, 0, G_OPTION_ARG_STRING, &lab, "Laboratory name printed at the top (default: none)", "NAME" },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, "Blast flag threshold in percent (default 20)", "PCT" },
    { "unsure-below", 0, 0, G_OPTION_ARG_DOUBLE, &unsure_below, "A model's call less sure than this is unsure, as the workstation's Preferences say (default 0.9)", "X" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- write a case's report as PDF");
  ss_cli_add_entries (context, entries);
  g_option_context_set_description (context,
    "The report holds the case's header, the differential count and blast % with its 95% "
    "interval, the sign-off, every field with its overlay, a gallery of the cells by "
    "class, a morphometrics summary, the corrections and the models used. An unsigned "
    "case's report says DRAFT on every page. docs/reports.md has the details.");
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  if (accession == NULL || out == NULL || argc != 1)
    {
      ss_cli_error ("report needs --case A and --out FILE.pdf (try --help)");
      return EXIT_USAGE;
    }
  SsReportPdfOptions options;
  ss_report_pdf_options_init (&options);
  if (paper_name != NULL && !ss_report_paper_from_name (paper_name, &options.paper))
    {
      ss_cli_error ("--paper must be a4 or letter, not '%s'", paper_name);
      return EXIT_USAGE;
    }
  if (!(threshold >= 0 && threshold <= 100))
    {
      ss_cli_error ("--threshold must be a percentage between 0 and 100");
      return EXIT_USAGE;
    }
  if (!(unsure_below >= 0 && unsure_below <= 1))
    {
      ss_cli_error ("--unsure-below must be between 0 and 1, not %g", unsure_below);
      return EXIT_USAGE;
    }
  options.lab_name = lab;
  options.threshold = threshold;
  options.unsure_below = unsure_below;

  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_READ_ONLY, &error);
  if (store == NULL)
    return ss_cli_store_failed (error);
  if (!ss_report_pdf_write (store, accession, &options, out, &error))
    {
      if (error->domain != G_FILE_ERROR)
        return ss_cli_store_failed (error);
      ss_cli_error ("cannot write the report to %s: %s", out, error->message);
      return EXIT_FAILED;
    }
  printf ("Wrote the report of case %s to %s\n", accession, out);
  return 0;
}
