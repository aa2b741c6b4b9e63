/* The shipped models still do their job: each is loaded from data/models/, its classes
 * checked, and (when ../shared/datasets is there) its accuracy on a validation folder
 * must not fall below a floor set a little under the figure measured when it was
 * trained (docs/models.md). Usage: test-models MODEL DATA_DIR FLOOR [MAP [CELL_DIAMETER]]
 * With a cell diameter the images are single-cell pictures classified as the analysis
 * would: the white cell nearest the centre is found and cropped (evaluate --field-cells 1
 * --pick centre). */
#include "ss-classifier.h"
#include "ss-dataset.h"
#include "ss-training.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc < 4)
    {
      fprintf (stderr, "usage: test-models MODEL DATA_DIR FLOOR [MAP [CELL_DIAMETER]]\n");
      return 2;
    }
  const char *model_path = argv[1], *data = argv[2];
  double floor = atof (argv[3]);
  if (!g_file_test (model_path, G_FILE_TEST_EXISTS))
    {
      printf ("SKIP: %s is not shipped yet\n", model_path);
      return 77;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsClassifier) classifier = ss_classifier_load (model_path, &error);
  if (classifier == NULL)
    {
      fprintf (stderr, "FAIL: %s\n", error->message);
      return 1;
    }
  if (!g_file_test (data, G_FILE_TEST_IS_DIR))
    {
      printf ("SKIP: %s is absent\n", data);
      return 77;
    }
  SsModel *model = ss_classifier_model (classifier);
  const SsModelSpec *spec = ss_model_spec (model);
  const char *names[SS_MAX_CLASSES];
  for (int c = 0; c < spec->n_classes; c++)
    names[c] = spec->class_names[c];
  g_autoptr (GHashTable) map = ss_label_map_parse (argc > 4 && argv[4][0] ? argv[4] : NULL,
                                                   &error);
  g_autoptr (SsDataset) ds = map == NULL ? NULL
                                         : ss_dataset_load (data, map, names, spec->n_classes,
                                                            spec->in_w, spec->in_h,
                                                            spec->resample,
                                                            &error);
  if (ds == NULL)
    {
      fprintf (stderr, "FAIL: %s\n", error->message);
      return 1;
    }
  g_autofree float *probs = NULL;
  if (argc > 5)
    {
      SsDetectSettings detect;
      ss_detect_settings_init (&detect);
      ss_detect_settings_for_diameter (&detect, atof (argv[5]));
      probs = ss_classifier_run_fields (classifier, ds->paths, ds->n, &detect, 1,
                                        SS_FIELD_CELLS_CENTRE, SS_CLASSIFIER_MARGIN, NULL, NULL,
                                        &error);
    }
  else
    probs = ss_predict_dataset (model, ds, &error);
  if (probs == NULL)
    {
      fprintf (stderr, "FAIL: %s\n", error->message);
      return 1;
    }
  int right = 0;
  for (int i = 0; i < ds->n; i++)
    {
      int best = ss_argmax (probs + (gsize) i * spec->n_classes, spec->n_classes);
      right += best == ds->labels[i];
    }
  double accuracy = (double) right / ds->n;
  printf ("%s on %s: accuracy %.4f (floor %.4f)\n", model_path, ds->description, accuracy, floor);
  return accuracy >= floor ? 0 : 1;
}
