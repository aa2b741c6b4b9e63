/* Differential counts and the blast flag with its Wilson 95% interval. Pure functions:
 * the store, the field analysis and the workstation all call them. */
#include "ss-counts.h"

#include <math.h>
#include <string.h>

/* Two-sided 95% normal quantile. */
#define Z95 1.959963984540054

/* Wilson rather than the normal approximation: it stays inside [0, 1] and keeps its
 * coverage for the small counts (100-200 cells) of a manual differential. */
static void
wilson_at (double proportion, double total, double *low, double *high)
{
  double z2 = Z95 * Z95;
  double denominator = 1.0 + z2 / total;
  double centre = (proportion + z2 / (2.0 * total)) / denominator;
  double half = Z95 * sqrt (proportion * (1.0 - proportion) / total + z2 / (4.0 * total * total))
                / denominator;
  *low = MAX (0.0, centre - half);
  *high = MIN (1.0, centre + half);
}

void
ss_counts_wilson95 (int successes, int total, double *low, double *high)
{
  g_return_if_fail (successes >= 0 && successes <= total);
  if (total == 0)
    {
      *low = 0.0;
      *high = 1.0;
      return;
    }
  wilson_at ((double) successes / total, total, low, high);
}

static gboolean
clears_threshold (double proportion, double total, double threshold)
{
  double low, high;
  wilson_at (proportion, total, &low, &high);
  return low > threshold || high < threshold;
}

/* Beyond ten million cells no smear can help; say "cannot decide" instead. */
#define CELLS_NEEDED_LIMIT 10000000

static int
cells_needed (int blasts, int total, double threshold)
{
  double proportion = (double) blasts / total;
  if (clears_threshold (proportion, total, threshold))
    return 0;
  if (fabs (proportion - threshold) < 1e-12)
    return -1;
  /* The interval narrows as the count grows at a fixed proportion: double until it
   * clears, then bisect for the smallest count that does. */
  gint64 good = total, bad = total;
  do
    {
      bad = good;
      good *= 2;
      if (good > CELLS_NEEDED_LIMIT)
        return -1;
    }
  while (!clears_threshold (proportion, good, threshold));
  while (good - bad > 1)
    {
      gint64 middle = bad + (good - bad) / 2;
      if (clears_threshold (proportion, middle, threshold))
        good = middle;
      else
        bad = middle;
    }
  return (int) (good - total);
}

void
ss_counts_compute (const int counts[SS_N_CLASSES], double threshold, SsCounts *out)
{
  g_return_if_fail (counts != NULL && out != NULL);
  memset (out, 0, sizeof *out);
  memcpy (out->counts, counts, sizeof out->counts);
  for (int c = 0; c < SS_N_CLASSES; c++)
    if (ss_class_is_counted (c))
      out->total_counted += MAX (counts[c], 0);
  out->blasts = MAX (counts[SS_CLASS_LYMPHOBLAST], 0);
  out->threshold = threshold;
  if (out->total_counted == 0)
    {
      out->ci95_high = 100.0;
      out->cells_needed = -1;
      return;
    }
  double low, high;
  ss_counts_wilson95 (out->blasts, out->total_counted, &low, &high);
  out->blast_pct = 100.0 * out->blasts / out->total_counted;
  out->ci95_low = 100.0 * low;
  out->ci95_high = 100.0 * high;
  out->flag = out->blast_pct > threshold;
  out->cells_needed = cells_needed (out->blasts, out->total_counted, threshold / 100.0);
  out->decided = out->cells_needed == 0;
}
