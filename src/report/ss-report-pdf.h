/* The case report as PDF (Cairo + Pango): what a hematologist reads and signs, made
 * from the store alone: header, differential and blast %, sign-off, morphometrics, the
 * fields with their overlays, a gallery of the cells by class, the corrections and the
 * models. Shared by smearscope-cli report and the workstation. */
#pragma once

#include <gio/gio.h>

#include "ss-store.h"

G_BEGIN_DECLS

typedef enum {
  SS_REPORT_PAPER_A4,      /* 210 x 297 mm */
  SS_REPORT_PAPER_LETTER,  /* US Letter, 8.5 x 11 in */
} SsReportPaper;

/* "a4" or "letter" (any case); FALSE for any other word. */
gboolean ss_report_paper_from_name (const char *name, SsReportPaper *paper);

typedef struct {
  SsReportPaper paper;
  const char   *lab_name;         /* printed at the top; NULL or "" prints none */
  double        threshold;        /* blast flag threshold, percent (SS_BLAST_THRESHOLD_DEFAULT) */
  double        unsure_below;     /* a model's call less sure than this is unsure, as the
                                   * window's setting (SS_UNSURE_BELOW_DEFAULT) */
  int           gallery_per_class; /* at most this many crops per class, the least certain
                                    * first; 0: SS_REPORT_PDF_GALLERY_PER_CLASS */
} SsReportPdfOptions;

/* Enough crops for a reviewer to see what a class looks like in this case, without
 * turning a 10,000-cell case into a thousand pages. */
#define SS_REPORT_PDF_GALLERY_PER_CLASS 60

/* Fill options with the defaults: A4, no lab name, the default threshold. */
void     ss_report_pdf_options_init (SsReportPdfOptions *options);

/* The report of case accession as PDF bytes. An image file that cannot be read (moved
 * since the analysis) is named in the report in place of its picture; it does not stop
 * the report. An unsigned case's report says DRAFT on every page. NULL with an error
 * if the case does not exist or the store fails. It reads every field again, so a
 * program with a window calls it in a worker thread, with that thread's own SsStore. */
GBytes  *ss_report_pdf_render (SsStore *store, const char *accession,
                               const SsReportPdfOptions *options, GError **error);

/* ss_report_pdf_render written to path through a temporary file renamed over it: a
 * reader sees the old file or the whole new one, never a part. */
gboolean ss_report_pdf_write (SsStore *store, const char *accession,
                              const SsReportPdfOptions *options, const char *path,
                              GError **error);

G_END_DECLS
