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
  GPtrArray *truth;         /* per image, in the order of images: a GPtrArray of its
                             * SsTruthCell* (ground truth imported, never counted) */
  double     unsure_below;  /* class confidence under which an unreviewed cell is unsure */
} SsReportCase;

/* Read the case `accession` with its images, cells, corrections, sign-off events and
 * counts (deleted cells not counted; the blast flag above threshold percent). NULL with
 * the store's error (SS_STORE_ERROR_NOT_FOUND for an unknown accession). */
SsReportCase *ss_report_case_load (SsStore *store, const char *accession, double threshold,
                                   GError **error);
void          ss_report_case_free (SsReportCase *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsReportCase, ss_report_case_free)

typedef enum {
  SS_REPORT_CASE_JSON_DEFAULT = 0,       /* what case show --json prints */
  SS_REPORT_CASE_JSON_DELETED = 1 << 0,  /* list deleted cells too (they say so) */
  SS_REPORT_CASE_JSON_FULL    = 1 << 1,  /* also each cell's masks, probabilities,
                                          * morphometrics and unsure mark, the audit
                                          * trail and the models: the export */
} SsReportCaseJsonFlags;

/* The case as one JSON object: its fields, images with their cells and truth cells,
 * sign-off events and counts, and with FULL everything the store keeps of it. Masks are
 * written as RLE strings, one line each. */
JsonNode     *ss_report_case_json (const SsReportCase *report, SsReportCaseJsonFlags flags);

/* Members of the object being built, as case show, case list and counts --json write
 * them: the case's fields (accession ... n_cells); the counts (counts, counted,
 * blast_pct, blast_ci95, threshold, flag, decided, cells_needed); and one correction of
 * the audit trail as an object (id, cell, image, kind, old_class, new_class, user, at,
 * undoes, hash). */
void          ss_report_json_add_case_members (JsonBuilder *builder, const SsCase *c);
void          ss_report_json_add_counts_members (JsonBuilder *builder, const SsCounts *counts);
void          ss_report_json_add_correction (JsonBuilder *builder, const SsCorrection *correction);

/* One row per image, as analyze --csv writes them (ss_report_counts_csv): the image
 * path, the cells of each class as corrected (deleted ones not counted), the counted
 * WBCs, blast % with its interval, the flag, and the image's scale. */
char         *ss_report_case_counts_csv (const SsReportCase *report);
/* One row per cell, deleted ones included and flagged: image, ids, box, class as
 * corrected and as the model called it, confidence, whether a person corrected,
 * reviewed or deleted it, whether it is unsure, and its morphometrics. */
char         *ss_report_case_cells_csv (const SsReportCase *report);

/* The case's cells as a COCO object detection file: images, the 8 classes as
 * categories (id = class id + 1), and one annotation per cell that is not deleted, its
 * mask as COCO's uncompressed RLE over the whole image (column-major). */
JsonNode     *ss_report_case_coco (const SsReportCase *report);

/* Append the runs of mask, whose top-left corner sits at (x, y), as COCO's uncompressed
 * RLE over a width x height image: column-major, starting with a background run (0 if
 * the first pixel is set), the runs summing to width * height. Pixels outside the image
 * are left out. Returns how many pixels are set. */
gint64        ss_report_coco_rle (const SsRle *mask, int x, int y, int width, int height,
                                  GArray *runs);
/* The inverse of ss_report_coco_rle: the n_runs runs of COCO's uncompressed RLE over a
 * width x height image (column-major, background first) as a mask over box, which lies
 * inside the image. FALSE, and mask left empty, when a run is negative or the runs do
 * not sum to width * height. *n_outside (may be NULL) receives how many set pixels lie
 * outside box: they are left out. Costs the runs plus the box's pixels, never the
 * image's. */
gboolean      ss_report_coco_rle_decode (const gint64 *runs, guint n_runs, int width, int height,
                                         const SsBox *box, SsRle *mask, gint64 *n_outside);

G_END_DECLS
