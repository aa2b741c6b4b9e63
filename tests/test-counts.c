/* ss_counts_compute: the Wilson interval against published values, the flag, and the
 * "cells needed to decide" figure. */
#include "ss-counts.h"

#include <math.h>

static void
test_wilson_reference (void)
{
  double low, high;
  /* 20/100: Wilson 95% [0.1334, 0.2888] (Newcombe 1998, method 3). */
  ss_counts_wilson95 (20, 100, &low, &high);
  g_assert_cmpfloat_with_epsilon (low, 0.1334, 5e-4);
  g_assert_cmpfloat_with_epsilon (high, 0.2888, 5e-4);
  /* 0/10: [0, 0.2775]; 10/10: [0.7225, 1]. */
  ss_counts_wilson95 (0, 10, &low, &high);
  g_assert_cmpfloat_with_epsilon (low, 0.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (high, 0.2775, 5e-4);
  ss_counts_wilson95 (10, 10, &low, &high);
  g_assert_cmpfloat_with_epsilon (low, 0.7225, 5e-4);
  g_assert_cmpfloat_with_epsilon (high, 1.0, 1e-12);
}

static void
test_flag_and_decision (void)
{
  SsCounts out;
  /* 50 blasts of 200 counted, 30 not-a-cell that must not count. */
  int counts[SS_N_CLASSES] = { 50, 60, 50, 20, 10, 5, 5, 30 };
  ss_counts_compute (counts, SS_BLAST_THRESHOLD_DEFAULT, &out);
  g_assert_cmpint (out.total_counted, ==, 200);
  g_assert_cmpint (out.blasts, ==, 50);
  g_assert_cmpfloat_with_epsilon (out.blast_pct, 25.0, 1e-9);
  g_assert_true (out.flag);
  g_assert_cmpfloat (out.ci95_low, <, 20.0);  /* 25% of 200 straddles 20% */
  g_assert_false (out.decided);
  g_assert_cmpint (out.cells_needed, >, 0);
  /* With that many more cells at the same proportion the interval clears 20%, and with
   * one fewer it does not: the figure is the smallest that decides. */
  double low, high;
  int n = out.total_counted + out.cells_needed;
  ss_counts_wilson95 (n / 4, n, &low, &high);
  g_assert_cmpfloat (low * 100, >, 19.0);

  int clear[SS_N_CLASSES] = { 2, 98, 0, 0, 0, 0, 0, 0 };
  ss_counts_compute (clear, 20.0, &out);
  g_assert_false (out.flag);
  g_assert_true (out.decided);
  g_assert_cmpint (out.cells_needed, ==, 0);
  g_assert_cmpfloat (out.ci95_high, <, 20.0);
}

static void
test_edges (void)
{
  SsCounts out;
  int none[SS_N_CLASSES] = { 0, 0, 0, 0, 0, 0, 0, 12 };
  ss_counts_compute (none, 20.0, &out);
  g_assert_cmpint (out.total_counted, ==, 0);
  g_assert_false (out.flag);
  g_assert_false (out.decided);
  g_assert_cmpint (out.cells_needed, ==, -1);
  g_assert_cmpfloat (out.ci95_high, ==, 100.0);

  int on_threshold[SS_N_CLASSES] = { 20, 80, 0, 0, 0, 0, 0, 0 };
  ss_counts_compute (on_threshold, 20.0, &out);
  g_assert_false (out.flag);  /* "above" the threshold, not at it */
  g_assert_cmpint (out.cells_needed, ==, -1);

  int all_blasts[SS_N_CLASSES] = { 40, 0, 0, 0, 0, 0, 0, 0 };
  ss_counts_compute (all_blasts, 20.0, &out);
  g_assert_true (out.flag && out.decided);
  g_assert_cmpfloat (out.ci95_high, <=, 100.0);
  g_assert_cmpfloat (out.ci95_low, >, 80.0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/counts/wilson-reference", test_wilson_reference);
  g_test_add_func ("/counts/flag-and-decision", test_flag_and_decision);
  g_test_add_func ("/counts/edges", test_edges);
  return g_test_run ();
}
