/* A case from the store as files other tools read: counts and cells as CSV, the whole
 * case as JSON, its cells as COCO. smearscope-cli export and case show --json write
 * these, and the workstation will too. docs/exchange.md describes every format. */
#pragma once

#include <json-glib/json-glib.h>

#include "ss-counts.h"
#include "ss-store.h"

G_BEGIN_DECLS

/* Everything the exports say of one case, read from the store once. */
typedef struct {
  SsCase    *case_info;
  GPtrArray *images;        /* SsImageRecord*, oldest first, with their cells (deleted
                             * ones too, flagged) */
  GArray    *image_counts;  /* SsCounts, one per image, in the order of images */
  SsCounts   counts;        /* the whole case's */
  GPtrArray *corrections;   /* SsCorrection*, the audit trail, oldest first */
  GPtrArray *events;        /* SsCaseEvent*, the sign-off history, oldest first */
  double     unsure_below;  /* class confidence under which an unreviewed cell is unsure */
} SsReportCase;

/* Read the case `accession` with its images, cells, corrections, sign-off events and
 * counts (deleted cells not counted; the blast flag above threshold percent). NULL with
 * the store's error (SS_STORE_ERROR_NOT_FOUND for an unknown accession). */
SsReportCase *ss_report_case_load (SsStore *store, const char *accession, double threshold,
                                   GError **error);
void          ss_report_case_free (SsReportCase *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsReportCase, ss_report_case_free)

/* One row per image, as analyze --csv writes them (ss_report_counts_csv): the image
 * path, the cells of each class as corrected (deleted ones not counted), the counted
 * WBCs, blast % with its interval, the flag, and the image's scale. */
char         *ss_report_case_counts_csv (const SsReportCase *report);
/* One row per cell, deleted ones included and flagged: image, ids, box, class as
 * corrected and as the model called it, confidence, whether a person corrected,
 * reviewed or deleted it, whether it is unsure, and its morphometrics. */
char         *ss_report_case_cells_csv (const SsReportCase *report);

G_END_DECLS
