/* The differential count of a case or a field and its blast percentage, with the
 * Wilson 95% interval that says whether the count is large enough to trust the flag. */
#pragma once

#include <glib.h>

#include "ss-classes.h"

G_BEGIN_DECLS

/* DESIGN.md and the Mask R-CNN counting paper: ALL is flagged above 20% lymphoblasts. */
#define SS_BLAST_THRESHOLD_DEFAULT 20.0
/* the confidence under which a cell is marked unsure (ss_cell_is_unsure) */
#define SS_UNSURE_BELOW_DEFAULT 0.9

typedef struct {
  int      counts[SS_N_CLASSES];  /* cells per class, not_a_cell included */
  int      total_counted;         /* WBCs: classes 0-6 */
  int      blasts;                /* lymphoblasts */
  double   blast_pct;             /* 100 * blasts / total_counted; 0 when nothing is counted */
  double   ci95_low, ci95_high;   /* Wilson 95% interval of blast_pct, in percent */
  double   threshold;             /* percent */
  gboolean flag;                  /* blast_pct > threshold */
  gboolean decided;               /* the interval lies entirely on one side of threshold */
  int      cells_needed;          /* more counted cells needed, at the present proportion,
                                   * for the interval to clear the threshold: 0 when decided,
                                   * -1 when no count can decide (nothing counted yet, or the
                                   * proportion sits on the threshold) */
} SsCounts;

/* threshold is a percentage (SS_BLAST_THRESHOLD_DEFAULT). */
void ss_counts_compute (const int counts[SS_N_CLASSES], double threshold, SsCounts *out);

/* The Wilson score interval of successes/total at 95%, as fractions in [0, 1]. */
void ss_counts_wilson95 (int successes, int total, double *low, double *high);

G_END_DECLS
