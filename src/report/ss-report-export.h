/* The exports of a stored case by name, one entry point for the CLI's export command
 * and the workstation's Export menu: each format is written the same from both. */
#pragma once

#include "ss-report-case.h"

G_BEGIN_DECLS

typedef enum {
  SS_REPORT_FORMAT_COUNTS_CSV,
  SS_REPORT_FORMAT_CELLS_CSV,
  SS_REPORT_FORMAT_JSON,
  SS_REPORT_FORMAT_COCO,
  SS_REPORT_FORMAT_HL7,
  SS_REPORT_N_FORMATS
} SsReportFormat;

/* "counts-csv", "cells-csv", "json", "coco", "hl7" */
const char *ss_report_format_name (SsReportFormat format);
/* One line saying what the format holds, for --help and menus. */
const char *ss_report_format_summary (SsReportFormat format);
/* The format called name; FALSE if there is none. */
gboolean    ss_report_format_from_name (const char *name, SsReportFormat *format);
/* The names of every format, ", " between them, for messages. */
char       *ss_report_format_list (void);

/* The whole file of report in format, as docs/exchange.md describes it: the CSVs and
 * the indented case JSON end in a newline, COCO is one line of JSON, HL7 segments end
 * in CR. NULL with an error when the case cannot be said in the format (HL7 without a
 * patient reference or a count). */
char       *ss_report_case_export (const SsReportCase *report, SsReportFormat format,
                                   GError **error);

G_END_DECLS
