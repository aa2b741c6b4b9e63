/* ss_classify_score: every figure of small cases worked out by hand, ties in the AUC,
 * and the cases where a figure is undefined (one class only; a class never called). */
#include "ss-classify-metrics.h"

#include <math.h>

#define EPS 1e-9

static void
test_binary_by_hand (void)
{
  /* truth 0 0 0 1 1 1; p(class 0) 0.9 0.8 0.3 | 0.3 0.2 0.1: calls 0 0 1 | 1 1 1 */
  const float probs[] = { 0.9f, 0.1f, 0.8f, 0.2f, 0.3f, 0.7f,
                          0.3f, 0.7f, 0.2f, 0.8f, 0.1f, 0.9f };
  const int labels[] = { 0, 0, 0, 1, 1, 1 };
  SsClassifyScore s;
  ss_classify_score (probs, labels, 6, 2, &s);
  g_assert_cmpint (s.n, ==, 6);
  g_assert_cmpint (s.confusion[0][0], ==, 2);
  g_assert_cmpint (s.confusion[0][1], ==, 1);
  g_assert_cmpint (s.confusion[1][0], ==, 0);
  g_assert_cmpint (s.confusion[1][1], ==, 3);
  g_assert_cmpfloat_with_epsilon (s.accuracy, 5.0 / 6, EPS);
  /* class 0: tp 2, fn 1, fp 0, tn 3 */
  g_assert_cmpfloat_with_epsilon (s.sensitivity[0], 2.0 / 3, EPS);
  g_assert_cmpfloat_with_epsilon (s.specificity[0], 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (s.ppv[0], 1.0, EPS);
  g_assert_cmpfloat_with_epsilon (s.npv[0], 3.0 / 4, EPS);
  g_assert_cmpfloat_with_epsilon (s.f1[0], 4.0 / 5, EPS);
  /* 9 positive-negative pairs: 0.9 and 0.8 beat all three, 0.3 beats two and ties one */
  g_assert_cmpfloat_with_epsilon (s.auc[0], 8.5 / 9, EPS);
  /* class 1: tp 3, fn 0, fp 1, tn 2 */
  g_assert_cmpfloat_with_epsilon (s.specificity[1], 2.0 / 3, EPS);
  g_assert_cmpfloat_with_epsilon (s.ppv[1], 3.0 / 4, EPS);
  g_assert_cmpfloat_with_epsilon (s.f1[1], 6.0 / 7, EPS);
  g_assert_cmpfloat_with_epsilon (s.auc[1], 8.5 / 9, EPS);
  g_assert_cmpfloat_with_epsilon (s.macro_sensitivity, 5.0 / 6, EPS);
  g_assert_cmpfloat_with_epsilon (s.macro_npv, 7.0 / 8, EPS);
}

static void
test_one_class_only (void)
{
  /* every image is class 2; one is called 0. Classes 0 and 1 have no images: out of the
   * averages. With no image outside class 2, its specificity and AUC mean nothing. */
  const float probs[] = { 0.1f, 0.1f, 0.8f, 0.2f, 0.2f, 0.6f, 0.6f, 0.1f, 0.3f };
  const int labels[] = { 2, 2, 2 };
  SsClassifyScore s;
  ss_classify_score (probs, labels, 3, 3, &s);
  g_assert_cmpfloat_with_epsilon (s.accuracy, 2.0 / 3, EPS);
  g_assert_cmpfloat_with_epsilon (s.macro_sensitivity, 2.0 / 3, EPS);
  g_assert_true (isnan (s.macro_specificity));
  g_assert_true (isnan (s.macro_auc));
  g_assert_cmpfloat_with_epsilon (s.macro_ppv, 1.0, EPS);
  /* tn 0, fn 1 */
  g_assert_cmpfloat_with_epsilon (s.macro_npv, 0.0, EPS);
  g_assert_cmpfloat_with_epsilon (s.macro_f1, 4.0 / 5, EPS);
}

static void
test_class_never_called (void)
{
  /* one image per class, all called 0: classes 1 and 2 have no PPV, which counts as 0 */
  const float probs[] = { 0.8f, 0.1f, 0.1f, 0.5f, 0.3f, 0.2f, 0.6f, 0.1f, 0.3f };
  const int labels[] = { 0, 1, 2 };
  SsClassifyScore s;
  ss_classify_score (probs, labels, 3, 3, &s);
  g_assert_true (isnan (s.ppv[1]));
  g_assert_cmpfloat_with_epsilon (s.ppv[0], 1.0 / 3, EPS);
  g_assert_cmpfloat_with_epsilon (s.macro_ppv, 1.0 / 9, EPS);
  g_assert_cmpfloat_with_epsilon (s.macro_sensitivity, 1.0 / 3, EPS);
  /* partial labels ("not class e") are for training and are not scored */
  const int partial[] = { 0, -1 - 0, 2 };
  ss_classify_score (probs, partial, 3, 3, &s);
  g_assert_cmpint (s.n, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/binary-by-hand", test_binary_by_hand);
  g_test_add_func ("/metrics/one-class-only", test_one_class_only);
  g_test_add_func ("/metrics/class-never-called", test_class_never_called);
  return g_test_run ();
}
