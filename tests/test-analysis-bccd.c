/* The field analysis on the first BCCD validation fields: each white cell found at
 * IoU >= 0.5 and counted. Skips (exit 77) when ../shared/datasets is absent. */
#include "ss-analysis.h"
#include "ss-config.h"
#include "ss-metrics.h"
#include "ss-voc.h"

#include <stdio.h>

#define N_FIELDS 20

int
main (void)
{
  g_autofree char *data = g_build_filename (SS_SHARED_DIR, "datasets", "bccd", NULL);
  g_autofree char *split = g_build_filename (data, "val.txt", NULL);
  g_autofree char *text = NULL;
  if (!g_file_get_contents (split, &text, NULL, NULL))
    {
      printf ("SKIP: %s is absent\n", split);
      return 77;
    }
  g_auto (GStrv) ids = g_strsplit (text, "\n", -1);
  SsAnalysisSettings settings;
  ss_analysis_settings_init (&settings);
  g_autoptr (SsDetectionEval) eval = ss_detection_eval_new (0.5);
  for (int i = 0; i < N_FIELDS && ids[i] != NULL && *ids[i] != '\0'; i++)
    {
      g_autofree char *image = g_strdup_printf ("%s/images/%s.jpg", data, g_strstrip (ids[i]));
      g_autofree char *xml = g_strdup_printf ("%s/annotations/%s.xml", data, ids[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (SsVocAnnotation) voc = ss_voc_load (xml, &error);
      g_assert_no_error (error);
      g_autoptr (SsAnalysisResult) r = ss_analysis_run_file (image, &settings, NULL, &error);
      g_assert_no_error (error);
      g_autofree SsBox *truth = NULL;
      int n_truth = ss_voc_boxes (voc, "WBC", &truth);
      g_autofree SsBox *boxes = g_new (SsBox, MAX (r->cells->len, 1));
      g_autofree float *confidence = g_new (float, MAX (r->cells->len, 1));
      for (guint k = 0; k < r->cells->len; k++)
        {
          boxes[k] = ((SsCell *) r->cells->pdata[k])->box;
          confidence[k] = ((SsCell *) r->cells->pdata[k])->confidence;
        }
      ss_detection_eval_add (eval, truth, n_truth, boxes, confidence, (int) r->cells->len,
                             settings.min_confidence);
    }
  SsDetectionScore score;
  ss_detection_eval_score (eval, &score);
  printf ("first %d BCCD val fields: ap50 %.3f recall %.3f precision %.3f count_mae %.3f\n",
          score.n_images, score.ap50, score.recall, score.precision, score.count_mae);
  /* whole val split measures 0.99 (docs/analysis.md); this is a guard, not the figure */
  g_assert_cmpfloat (score.recall, >=, 0.9);
  g_assert_cmpfloat (score.count_mae, <=, 0.15);
  return 0;
}
