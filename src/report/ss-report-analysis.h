/* An analysis as files: every image's cells and counts as JSON, one row of counts per
 * image as CSV, each file written whole or not at all. What smearscope-cli analyze
 * writes and the workstation exports, byte for byte the same. */
#pragma once

#include <json-glib/json-glib.h>

#include "ss-analysis.h"

G_BEGIN_DECLS

/* {"images": [...], "errors": [...], "settings": {...}}: each SsAnalysisResult of
 * results in order, under "images", or its error's message under "errors" if it has one;
 * then the settings it was made with and whether a classifier made the calls. */
JsonNode *ss_report_analysis_json (GPtrArray *results, const SsAnalysisSettings *settings,
                                   gboolean classified);
/* A header, then one row of counts per result of results that has no error
 * (ss_report_counts_csv_row). */
char     *ss_report_counts_csv (GPtrArray *results);
/* The header line of the counts CSV: image, the 8 classes, total_counted, blast_pct,
 * blast_ci95_low, blast_ci95_high, flag, cell_diameter, scale_source. */
void      ss_report_counts_csv_header (GString *csv);
/* One line of the counts CSV for the image at path: its counts, the white-cell diameter
 * the analysis assumed (0: not known, left empty) and where it came from (NULL: empty). */
void      ss_report_counts_csv_row (GString *csv, const char *path, const SsCounts *counts,
                                    double cell_diameter, const char *scale_source);
/* Append text as one CSV field in double quotes, its quotes doubled (RFC 4180): safe for
 * any text, commas, quotes and line breaks included. */
void      ss_report_csv_append_quoted (GString *csv, const char *text);
/* Append value printed with format ("%.2f") and a decimal point whatever the locale:
 * the workstation runs in the user's locale, whose decimal comma would split a field. */
void      ss_report_csv_append_number (GString *csv, const char *format, double value);

/* Add the member name with value, or null when value is NULL. */
void      ss_report_json_add_string_or_null (JsonBuilder *builder, const char *name,
                                             const char *value);
/* root as indented JSON text, ending in a newline. */
char     *ss_report_json_text (JsonNode *root);
/* root as JSON text on one line, ending in a newline: for files read by programs only,
 * whose long arrays would take a line per number indented (COCO). */
char     *ss_report_json_text_compact (JsonNode *root);
/* Add the member name with value, or null when it is not finite (JSON has no NaN or
 * infinity) */
void      ss_report_json_add_figure (JsonBuilder *builder, const char *name, double value);
/* Add the member name with value rounded to 1 / precision (100: two decimals), so the
 * files carry no more digits than the figure has. */
void      ss_report_json_add_rounded (JsonBuilder *builder, const char *name, double value,
                                      double precision);

/* The member name: a mask as {width, height, order: "row-major", runs: "N N N ..."}, the
 * runs (background first, over the mask's box) as one string of numbers so that a mask
 * is one line of the file; null for an empty mask. The analysis JSON and the case
 * export both write masks so (docs/exchange.md). */
void      ss_report_json_add_mask (JsonBuilder *builder, const char *name, const SsRle *rle);

/* A cell's "unsure" member, and its "doubt" when the analysis raised one (the words of
 * ss_doubt_to_string), as the analysis JSON and every case JSON write them. */
void      ss_report_json_add_cell_unsure (JsonBuilder *builder, const SsCell *cell,
                                          double unsure_below);
/* A cell's "probabilities" and "morphometrics" members, as the analysis JSON and the
 * case export both write them. */
void      ss_report_json_add_cell_measures (JsonBuilder *builder, const SsCell *cell);

/* Write text to path through a temporary file renamed over it: a reader sees the old
 * file or the new one, never a part. */
gboolean  ss_report_write_text_atomic (const char *path, const char *text, GError **error);

G_END_DECLS
