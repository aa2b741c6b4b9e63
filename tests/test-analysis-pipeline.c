/* The field analysis on images whose truth is known: purple discs drawn on a pink
 * field, touching pairs the watershed must split, RLE masks, VOC files, the AP, and
 * files that are not images; a single-cell crop with a pale rim and a touching red
 * cell; and the resampling that brings images to a model's input. */
#include "ss-analysis.h"
#include "ss-classifier.h"
#include "ss-learn.h"
#include "ss-metrics.h"
#include "ss-morphology.h"
#include "ss-morphometrics.h"
#include "ss-voc.h"

#include <glib/gstdio.h>
#include <math.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

/* A field of plasma with a few pink red cells, and white cells drawn as a lavender
 * cytoplasm disc (x, y, radius) around a purple nucleus of 0.6 its radius. */
static SsImage *
draw_field (int width, int height, const double (*cells)[3], int n)
{
  static const double red_cells[3][3] = { { 40, 420, 35 }, { 600, 440, 35 }, { 600, 30, 30 } };
  SsImage *image = ss_image_new (width, height);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = image->rgb + ((gsize) y * width + x) * 3;
        p[0] = 235, p[1] = 228, p[2] = 218;
        for (int k = 0; k < 3; k++)
          if (hypot (x - red_cells[k][0], y - red_cells[k][1]) <= red_cells[k][2])
            p[0] = 215, p[1] = 160, p[2] = 170;
        for (int k = 0; k < n; k++)
          {
            double d = hypot (x - cells[k][0], y - cells[k][1]);
            if (d <= cells[k][2])
              p[0] = 205, p[1] = 185, p[2] = 220;
          }
        for (int k = 0; k < n; k++)
          if (hypot (x - cells[k][0], y - cells[k][1]) <= 0.6 * cells[k][2])
            p[0] = 110, p[1] = 50, p[2] = 170;
      }
  return image;
}

static void
test_separate_discs (void)
{
  const double discs[3][3] = { { 150, 150, 80 }, { 420, 300, 95 }, { 520, 80, 14 } };
  g_autoptr (SsImage) image = draw_field (640, 480, discs, 3);
  SsAnalysisSettings settings;
  ss_analysis_settings_init (&settings);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsAnalysisResult) r = ss_analysis_run (image, &settings, NULL, &error);
  g_assert_no_error (error);
  /* the two large discs are cells; the small one (a platelet's size) is not */
  g_assert_cmpuint (r->cells->len, ==, 2);
  for (guint i = 0; i < r->cells->len; i++)
    {
      const SsCell *cell = r->cells->pdata[i];
      int k = cell->box.x < 300 ? 0 : 1;
      SsBox truth = { (int) (discs[k][0] - discs[k][2]), (int) (discs[k][1] - discs[k][2]),
                      (int) (2 * discs[k][2] + 1), (int) (2 * discs[k][2] + 1) };
      g_assert_cmpfloat (ss_box_iou (&cell->box, &truth), >, 0.8);
      double area = G_PI * 0.36 * discs[k][2] * discs[k][2];
      g_assert_cmpfloat (fabs (cell->morphometrics.nucleus_area - area) / area, <, 0.05);
      g_assert_cmpfloat (cell->morphometrics.circularity, >, 0.85);
      g_assert_cmpint (cell->current_class, ==, SS_CLASS_OTHER);
    }
  g_assert_cmpint (r->counts.total_counted, ==, 2);
}

static void
test_touching_pair (void)
{
  /* two cells whose cytoplasm and nuclei touch: one blob the watershed must cut in two */
  const double discs[2][3] = { { 250, 240, 100 }, { 368, 240, 100 } };
  g_autoptr (SsImage) image = draw_field (640, 480, discs, 2);
  SsAnalysisSettings settings;
  ss_analysis_settings_init (&settings);
  /* cells of 160 px: two nuclei spanning 238 px together are too large to be one
   * cell's lobes, so the watershed's cut stands */
  settings.detect.cell_diameter = 160;
  g_autoptr (SsAnalysisResult) r = ss_analysis_run (image, &settings, NULL, NULL);
  g_assert_nonnull (r);
  g_assert_cmpuint (r->cells->len, ==, 2);
  const SsCell *a = r->cells->pdata[0], *b = r->cells->pdata[1];
  int left = MIN (a->box.x, b->box.x);
  g_assert_cmpint (abs (left - 150), <=, 12);
  g_assert_cmpfloat (ss_box_iou (&a->box, &b->box), <, 0.2);

  settings.detect.split_touching = FALSE;
  g_autoptr (SsAnalysisResult) joined = ss_analysis_run (image, &settings, NULL, NULL);
  g_assert_cmpuint (joined->cells->len, ==, 1);
}

static void
test_rle_round_trip (void)
{
  const int w = 37, h = 23;
  guint8 mask[37 * 23], back[37 * 23];
  for (int i = 0; i < w * h; i++)
    mask[i] = (i * 7 + i / 5) % 3 == 0;
  mask[0] = 1;  /* starts with foreground: a first run of 0 */
  SsRle rle = { 0 };
  ss_rle_encode (&rle, mask, w, h);
  g_assert_cmpint (rle.runs[0], ==, 0);
  ss_rle_decode (&rle, back);
  g_assert_cmpmem (mask, sizeof mask, back, sizeof back);
  gsize area = 0;
  for (int i = 0; i < w * h; i++)
    area += mask[i];
  g_assert_cmpuint (ss_rle_area (&rle), ==, area);
  ss_rle_clear (&rle);
}

static void
test_perimeter_of_disc (void)
{
  const int n = 101;
  g_autofree guint8 *disc = g_new0 (guint8, n * n);
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++)
      disc[y * n + x] = (x - 50) * (x - 50) + (y - 50) * (y - 50) <= 40 * 40;
  double p = ss_mask_perimeter (disc, n, n);
  g_assert_cmpfloat (fabs (p - 2 * G_PI * 40) / (2 * G_PI * 40), <, 0.07);
}

/* Solidity: a disc is over 0.9 at any size and aspect of its box, holes and specks do
 * not change it, two lobes joined by a thin bridge and a band (a deeply bitten disc) are under the
 * lymphocyte's SS_LYMPHOCYTE_MIN_SOLIDITY, an empty mask is 0. */
static void
test_solidity (void)
{
  const int n = 90;
  g_autofree guint8 *m = g_new0 (guint8, n * n);
  g_assert_cmpfloat (ss_mask_solidity (m, n, n), ==, 0);
  for (int r = 12; r <= 40; r += 14)
    {
      memset (m, 0, n * n);
      for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++)
          m[y * n + x] = (x - 45) * (x - 45) + (y - 45) * (y - 45) <= r * r;
      double disc = ss_mask_solidity (m, n, n);
      g_assert_cmpfloat (disc, >, 0.9);
      /* a hole in the middle (a pale centre) and a far speck */
      for (int y = 40; y < 50; y++)
        memset (m + y * n + 40, 0, 10);
      m[2 * n + 2] = 1;
      g_assert_cmpfloat (fabs (ss_mask_solidity (m, n, n) - disc), <, 1e-9);
    }
  /* two lobes and a bridge: a bilobed nucleus */
  memset (m, 0, n * n);
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++)
      m[y * n + x] = (x - 22) * (x - 22) + (y - 45) * (y - 45) <= 15 * 15
                     || (x - 68) * (x - 68) + (y - 45) * (y - 45) <= 15 * 15
                     || (x >= 22 && x <= 68 && y >= 43 && y <= 47);
  g_assert_cmpfloat (ss_mask_solidity (m, n, n), <, 0.75);
  /* a band: a disc with a deep disc bitten from its side */
  memset (m, 0, n * n);
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++)
      m[y * n + x] = (x - 45) * (x - 45) + (y - 45) * (y - 45) <= 35 * 35
                     && (x - 78) * (x - 78) + (y - 45) * (y - 45) > 28 * 28;
  g_assert_cmpfloat (ss_mask_solidity (m, n, n), <, SS_LYMPHOCYTE_MIN_SOLIDITY);
}

/* The shape check: a model's lymphocyte with a lobed nucleus is doubted, and so unsure at
 * any confidence; a round nucleus, another class, a person's cell and an untyped cell
 * are not. The size check: a model's lymphocyte larger than SS_LYMPHOCYTE_MAX_SIZE of
 * the field's measured white-cell diameter is doubted; with no measured scale (0), or
 * small enough, it is not. The cell drawn here is a disc 57 px across. */
static void
test_doubt (void)
{
  const int n = 60;
  guint8 cell_mask[60 * 60], round[60 * 60], lobed[60 * 60];
  for (int y = 0; y < n; y++)
    for (int x = 0; x < n; x++)
      {
        cell_mask[y * n + x] = (x - 30) * (x - 30) + (y - 30) * (y - 30) <= 28 * 28;
        round[y * n + x] = (x - 30) * (x - 30) + (y - 30) * (y - 30) <= 20 * 20;
        lobed[y * n + x] = (x - 16) * (x - 16) + (y - 30) * (y - 30) <= 9 * 9
                           || (x - 44) * (x - 44) + (y - 30) * (y - 30) <= 9 * 9
                           || (x >= 16 && x <= 44 && y >= 29 && y <= 31);
      }
  const guint8 *nuclei[2] = { round, lobed };
  const double diameters[] = { 0, 100, 70 };  /* 57 px: 0.57 of 100, 0.81 of 70 */
  for (guint d = 0; d < G_N_ELEMENTS (diameters); d++)
    {
      for (int shape = 0; shape < 2; shape++)
        for (int cls = 0; cls < SS_N_CLASSES; cls++)
          for (int drawn = 0; drawn < 2; drawn++)
            {
              SsCell *cell = ss_cell_new ();
              cell->box = (SsBox) { 0, 0, n, n };
              ss_rle_encode (&cell->mask, cell_mask, n, n);
              ss_rle_encode (&cell->nucleus_mask, nuclei[shape], n, n);
              cell->predicted_class = cell->current_class = cls;
              cell->confidence = 0.99f;
              cell->probabilities[cls] = 0.99f;
              cell->probabilities[(cls + 1) % SS_N_CLASSES] = 0.01f;
              cell->user_drawn = drawn;
              ss_morphometrics_compute (&cell->mask, &cell->nucleus_mask, &cell->morphometrics);
              ss_cell_check_doubt (cell, diameters[d]);
              gboolean lymphocyte = cls == SS_CLASS_LYMPHOCYTE && !drawn;
              gboolean lobes = lymphocyte && shape == 1, large = lymphocyte && d == 2;
              guint expected = (lobes ? SS_DOUBT_NUCLEUS_NOT_ROUND : 0)
                               | (large ? SS_DOUBT_LARGE_FOR_LYMPHOCYTE : 0);
              g_assert_cmpuint (cell->doubt, ==, expected);
              g_assert_true (ss_cell_is_unsure (cell, 0.9) == (expected != 0));
              g_assert_cmpstr (ss_doubt_to_string (cell->doubt), ==,
                               lobes && large ? "nucleus-not-round;large-for-lymphocyte"
                               : lobes        ? "nucleus-not-round"
                               : large        ? "large-for-lymphocyte" : NULL);
              /* a person's review settles it */
              cell->reviewed = TRUE;
              g_assert_false (ss_cell_is_unsure (cell, 0.9));
              ss_cell_free (cell);
            }
    }
  /* every doubt's word, joined in one order */
  g_assert_cmpstr (ss_doubt_to_string (SS_DOUBT_CAMERA_UNLIKE | SS_DOUBT_NUCLEUS_NOT_ROUND
                                       | SS_DOUBT_LARGE_FOR_LYMPHOCYTE | SS_DOUBT_TOO_SMALL),
                   ==, "camera-unlike-training;nucleus-not-round;large-for-lymphocyte;too-small");
  g_assert_cmpstr (ss_doubt_to_string (SS_DOUBT_CAMERA_UNLIKE | SS_DOUBT_NUCLEUS_NOT_ROUND), ==,
                   "camera-unlike-training;nucleus-not-round");
}

/* A new head on fixed features (issue 30): images the network calls otherwise are called
 * as the lab labelled them afterwards, through the whole network (the inference pass
 * sees the new head); held by a strong anchor, the head does not move. */
static void
test_learn_head (void)
{
  SsModelSpec spec = { 0 };
  spec.arch = SS_ARCH_RESNET18;
  spec.in_c = 3;
  spec.in_h = spec.in_w = 32;
  spec.width = 8;
  spec.n_classes = 3;
  for (int c = 0; c < 3; c++)
    {
      g_snprintf (spec.class_names[c], SS_NAME_LEN, "c%d", c);
      spec.mean[c] = 0.5f;
      spec.std[c] = 0.25f;
    }
  SsError engine_error;
  SsModel *model = ss_model_new (&spec, 11, &engine_error);
  g_assert_nonnull (model);
  const int n = 12, d = (int) ss_model_feature_dim (model);
  const gsize image = 3 * 32 * 32;
  g_autofree float *x = g_new (float, n * image), *features = g_new (float, (gsize) n * d);
  GRand *rand = g_rand_new_with_seed (5);
  for (gsize i = 0; i < n * image; i++)
    x[i] = (float) g_rand_double (rand);
  g_rand_free (rand);
  g_assert_cmpint (ss_model_features (model, x, n, features, &engine_error), ==, SS_OK);
  g_autofree float *probs = g_new (float, n * 3);
  g_assert_cmpint (ss_model_predict (model, x, n, probs, &engine_error), ==, SS_OK);
  /* the lab's labels: each image a class the network does not call it */
  int labels[12];
  gboolean lab[12];
  for (int i = 0; i < n; i++)
    {
      labels[i] = (ss_argmax (probs + i * 3, 3) + 1 + i % 2) % 3;
      lab[i] = TRUE;
    }
  float *bias = NULL;
  float *weight = ss_model_head (model, &bias);
  g_assert_nonnull (weight);
  g_autofree float *before = g_memdup2 (weight, sizeof (float) * 3 * d);
  SsLearnHeadConfig config;
  ss_learn_head_config_init (&config);
  config.anchor = 1e6;
  g_autoptr (GError) error = NULL;
  g_assert_cmpfloat (ss_learn_head (model, features, labels, lab, n, &config, &error), >=, 0);
  g_assert_no_error (error);
  double moved = 0;
  for (int i = 0; i < 3 * d; i++)
    moved = fmax (moved, fabs (weight[i] - before[i]));
  g_assert_cmpfloat (moved, <, 1e-3);
  config.anchor = 0;
  config.steps = 2000;
  g_assert_cmpfloat (ss_learn_head (model, features, labels, lab, n, &config, &error), >=, 0);
  g_assert_cmpint (ss_model_predict (model, x, n, probs, &engine_error), ==, SS_OK);
  for (int i = 0; i < n; i++)
    g_assert_cmpint (ss_argmax (probs + i * 3, 3), ==, labels[i]);
  /* nothing to learn from: refused */
  for (int i = 0; i < n; i++)
    labels[i] = -1;
  g_assert_cmpfloat (ss_learn_head (model, features, labels, lab, n, &config, &error), <, 0);
  g_assert_nonnull (error);
  ss_model_free (model);
}

static void
test_voc (void)
{
  const char *xml =
    "<annotation><filename>a.jpg</filename><size><width>640</width><height>480</height>"
    "<depth>3</depth></size>"
    "<object><name>WBC</name><difficult>0</difficult><bndbox><xmin>10</xmin><ymin>20</ymin>"
    "<xmax>110</xmax><ymax>220</ymax></bndbox></object>"
    "<object><name>RBC</name><bndbox><xmin>1</xmin><ymin>2</ymin><xmax>3</xmax><ymax>4</ymax>"
    "</bndbox></object>"
    "<object><name>WBC</name><bndbox><xmin>5</xmin><ymin>5</ymin><xmax>5</xmax><ymax>5</ymax>"
    "</bndbox></object></annotation>";
  g_autoptr (GError) error = NULL;
  g_autoptr (SsVocAnnotation) voc = ss_voc_parse (xml, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (voc->filename, ==, "a.jpg");
  g_assert_cmpint (voc->width, ==, 640);
  g_assert_cmpuint (voc->objects->len, ==, 3);
  g_autofree SsBox *boxes = NULL;
  /* the zero-area box (as BCCD has) is skipped */
  g_assert_cmpint (ss_voc_boxes (voc, "wbc", &boxes), ==, 1);
  g_assert_cmpint (boxes[0].x, ==, 10);
  g_assert_cmpint (boxes[0].height, ==, 200);

  g_autoptr (SsVocAnnotation) broken = ss_voc_parse ("<annotation><object><name>WBC</name>"
                                                     "<bndbox><xmin>x</xmin></bndbox></object>"
                                                     "</annotation>", -1, &error);
  g_assert_null (broken);
  g_assert_nonnull (error);
}

static void
test_average_precision (void)
{
  const SsBox truth[2] = { { 0, 0, 100, 100 }, { 200, 0, 100, 100 } };
  /* perfect: both found, ranked above a false alarm */
  {
    const SsBox det[3] = { { 2, 0, 100, 100 }, { 200, 3, 100, 100 }, { 400, 400, 50, 50 } };
    const float conf[3] = { 0.9f, 0.8f, 0.3f };
    g_autoptr (SsDetectionEval) eval = ss_detection_eval_new (0.5);
    ss_detection_eval_add (eval, truth, 2, det, conf, 3, 0.5);
    SsDetectionScore s;
    ss_detection_eval_score (eval, &s);
    g_assert_cmpfloat (fabs (s.ap50 - 1.0), <, 1e-9);
    g_assert_cmpfloat (fabs (s.precision - 1.0), <, 1e-9);
    g_assert_cmpfloat (fabs (s.count_mae), <, 1e-9);
  }
  /* a false alarm ranked first: P/R points (0,0) (1/2,1/2) (2/3,1); all-point AP =
   * 0.5 * 2/3 + 0.5 * 2/3 = 2/3 */
  {
    const SsBox det[3] = { { 400, 400, 50, 50 }, { 0, 0, 100, 100 }, { 200, 0, 100, 100 } };
    const float conf[3] = { 0.9f, 0.8f, 0.7f };
    g_autoptr (SsDetectionEval) eval = ss_detection_eval_new (0.5);
    ss_detection_eval_add (eval, truth, 2, det, conf, 3, 0.5);
    SsDetectionScore s;
    ss_detection_eval_score (eval, &s);
    g_assert_cmpfloat (fabs (s.ap50 - 2.0 / 3.0), <, 1e-9);
    g_assert_cmpfloat (fabs (s.recall - 1.0), <, 1e-9);
    g_assert_cmpfloat (fabs (s.count_mae - 1.0), <, 1e-9);
  }
  /* a duplicate of one cell counts once; the other cell is missed: AP 0.5 */
  {
    const SsBox det[2] = { { 0, 0, 100, 100 }, { 5, 5, 100, 100 } };
    const float conf[2] = { 0.9f, 0.8f };
    g_autoptr (SsDetectionEval) eval = ss_detection_eval_new (0.5);
    ss_detection_eval_add (eval, truth, 2, det, conf, 2, 0.5);
    SsDetectionScore s;
    ss_detection_eval_score (eval, &s);
    g_assert_cmpfloat (fabs (s.ap50 - 0.5), <, 1e-9);
    g_assert_cmpfloat (fabs (s.precision - 0.5), <, 1e-9);
  }
  guint8 a[4] = { 1, 1, 0, 0 }, b[4] = { 1, 0, 1, 0 };
  g_assert_cmpfloat (fabs (ss_mask_dice (a, b, 4) - 0.5), <, 1e-9);
  g_assert_cmpfloat (fabs (ss_mask_iou (a, b, 4) - 1.0 / 3.0), <, 1e-9);
}

static void
test_bad_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-analysis-XXXXXX", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.png", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.jpg", NULL);
  g_autofree char *truncated = g_build_filename (dir, "truncated.png", NULL);
  g_autofree char *good = g_build_filename (dir, "good.png", NULL);
  const double discs[1][3] = { { 80, 60, 40 } };
  g_autoptr (SsImage) image = draw_field (160, 120, discs, 1);
  g_assert_true (ss_image_save_png (image, good, NULL));
  g_autofree char *bytes = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (good, &bytes, &length, NULL));
  g_assert_true (g_file_set_contents (truncated, bytes, length / 3, NULL));
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (text, "not a picture", -1, NULL));
  /* a JPEG cut short: GdkPixbuf would decode it, greying the rest */
  g_autofree char *cut_jpeg = g_build_filename (dir, "cut.jpg", NULL);
  {
    g_autoptr (GdkPixbuf) pixbuf =
      gdk_pixbuf_new_from_data (image->rgb, GDK_COLORSPACE_RGB, FALSE, 8, image->width,
                                image->height, image->width * 3, NULL, NULL);
    g_autofree char *jpeg = NULL;
    gsize jpeg_length = 0;
    g_assert_true (gdk_pixbuf_save_to_buffer (pixbuf, &jpeg, &jpeg_length, "jpeg", NULL, NULL));
    g_assert_true (g_file_set_contents (cut_jpeg, jpeg, jpeg_length / 2, NULL));
  }

  SsAnalysisSettings settings;
  ss_analysis_settings_init (&settings);
  const char *bad[] = { empty, text, truncated, cut_jpeg, "/nonexistent/field.png" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SsAnalysisResult) r = ss_analysis_run_file (bad[i], &settings, NULL, &error);
      g_assert_null (r);
      g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE);
      g_assert_nonnull (strstr (error->message, bad[i]));
    }
  settings.max_pixels = 1000;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsAnalysisResult) huge = ss_analysis_run_file (good, &settings, NULL, &error);
  g_assert_null (huge);
  g_assert_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_TOO_LARGE);
  for (const char *const *p = (const char *const[]) { empty, text, truncated, cut_jpeg, good, NULL }; *p; p++)
    g_unlink (*p);
  g_rmdir (dir);
}

/* The batch task: a bad file among good ones keeps its error, the rest are analysed,
 * and progress arrives in the caller's context. */
typedef struct {
  GMainLoop *loop;
  GPtrArray *results;
  guint      progress_calls;
} BatchState;

static void
on_progress (guint done, guint total, const char *path, gpointer data)
{
  BatchState *state = data;
  state->progress_calls++;
  g_assert_cmpuint (done, <=, total);
}

static void
on_batch_done (GObject *source, GAsyncResult *result, gpointer data)
{
  BatchState *state = data;
  g_autoptr (GError) error = NULL;
  state->results = ss_analysis_batch_finish (result, &error);
  g_assert_no_error (error);
  g_main_loop_quit (state->loop);
}

static void
test_batch (void)
{
  g_autofree char *dir = g_dir_make_tmp ("ss-batch-XXXXXX", NULL);
  g_autofree char *good = g_build_filename (dir, "good.png", NULL);
  g_autofree char *bad = g_build_filename (dir, "bad.png", NULL);
  const double discs[1][3] = { { 160, 120, 80 } };
  g_autoptr (SsImage) image = draw_field (320, 240, discs, 1);
  g_assert_true (ss_image_save_png (image, good, NULL));
  g_assert_true (g_file_set_contents (bad, "garbage", -1, NULL));
  const char *paths[] = { good, bad, good, NULL };
  SsAnalysisSettings settings;
  ss_analysis_settings_init (&settings);
  BatchState state = { g_main_loop_new (NULL, FALSE), NULL, 0 };
  ss_analysis_batch_async (paths, &settings, NULL, NULL, on_progress, &state, on_batch_done, &state);
  g_main_loop_run (state.loop);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (state.results->len, ==, 3);
  const SsAnalysisResult *first = state.results->pdata[0], *second = state.results->pdata[1];
  g_assert_null (first->error);
  g_assert_cmpuint (first->cells->len, ==, 1);
  g_assert_nonnull (second->error);
  g_assert_cmpuint (state.progress_calls, ==, 3);
  g_ptr_array_unref (state.results);
  g_main_loop_unref (state.loop);
  g_unlink (good);
  g_unlink (bad);
  g_rmdir (dir);
}

/* A model whose classes split or miss the cell classes: its probabilities are summed
 * into the cell classes through the label table (ig and erythroblast are "other",
 * platelet is "not_a_cell", a name the table does not know counts as "other"). */
static void
test_cell_probs (void)
{
  SsModelSpec spec;
  memset (&spec, 0, sizeof spec);
  spec.arch = SS_ARCH_MSCNN;
  spec.in_c = 3;
  spec.in_h = spec.in_w = 16;
  spec.width = 2;
  const char *names[] = { "lymphocyte", "ig", "erythroblast", "platelet", "frobnicate" };
  spec.n_classes = G_N_ELEMENTS (names);
  for (int c = 0; c < spec.n_classes; c++)
    g_strlcpy (spec.class_names[c], names[c], SS_NAME_LEN);
  for (int c = 0; c < 3; c++)
    spec.std[c] = 1;
  SsError e;
  SsModel *model = ss_model_new (&spec, 1, &e);
  g_assert_nonnull (model);
  g_autofree char *dir = g_dir_make_tmp ("ss-cellprobs-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "split.ssm", NULL);
  g_assert_cmpint (ss_model_save (model, path, SS_STORE_F32, &e), ==, SS_OK);
  ss_model_free (model);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsClassifier) classifier = ss_classifier_load (path, &error);
  g_assert_no_error (error);
  const float probs[] = { 0.1f, 0.2f, 0.3f, 0.15f, 0.25f };
  float cell[SS_N_CLASSES];
  ss_classifier_cell_probs (classifier, probs, cell);
  g_assert_cmpfloat_with_epsilon (cell[SS_CLASS_LYMPHOCYTE], 0.1f, 1e-6);
  g_assert_cmpfloat_with_epsilon (cell[SS_CLASS_OTHER], 0.75f, 1e-6);
  g_assert_cmpfloat_with_epsilon (cell[SS_CLASS_NOT_A_CELL], 0.15f, 1e-6);
  g_assert_cmpfloat_with_epsilon (cell[SS_CLASS_NEUTROPHIL], 0.0f, 1e-6);
  g_unlink (path);
  g_rmdir (dir);
}

/* A wbc-seg-like crop: a two-lobed nucleus, cytoplasm that pales towards its rim (the
 * part a colour model of the ring around the nucleus alone misses), on yellow plasma,
 * with a red cell touching the white cell. */
static void
test_centre_cell (void)
{
  const int size = 120;
  const double cx = 60, cy = 60, cell_radius = 38;
  g_autoptr (SsImage) crop = ss_image_new (size, size);
  g_autofree guint8 *true_cell = g_new0 (guint8, size * size);
  g_autofree guint8 *true_nucleus = g_new0 (guint8, size * size);
  g_autofree guint8 *red_cell = g_new0 (guint8, size * size);
  for (int y = 0; y < size; y++)
    for (int x = 0; x < size; x++)
      {
        gsize i = (gsize) y * size + x;
        guint8 *p = crop->rgb + i * 3;
        double d = hypot (x - cx, y - cy);
        p[0] = 240, p[1] = 230, p[2] = 190;
        if (hypot (x - 112, y - 60) <= 16)
          {
            p[0] = 215, p[1] = 150, p[2] = 150;
            red_cell[i] = 1;
          }
        if (d <= cell_radius)
          {
            double pale = d / cell_radius;  /* 0 at the centre, 1 at the rim */
            p[0] = (guint8) (200 + 30 * pale), p[1] = (guint8) (170 + 50 * pale);
            p[2] = (guint8) (200 - 5 * pale);
            true_cell[i] = 1;
            red_cell[i] = 0;
          }
        if (hypot (x - 48, y - 56) <= 14 || hypot (x - 74, y - 64) <= 11)
          {
            p[0] = 110, p[1] = 50, p[2] = 160;
            true_nucleus[i] = 1;
          }
      }
  SsDetectSettings settings;
  ss_detect_settings_init (&settings);
  g_autoptr (SsCell) cell = ss_detect_centre_cell (crop, &settings);
  g_assert_nonnull (cell);
  g_autofree guint8 *cell_mask = g_new0 (guint8, size * size);
  g_autofree guint8 *nucleus = g_new0 (guint8, size * size);
  ss_rle_decode (&cell->mask, cell_mask);
  ss_rle_decode (&cell->nucleus_mask, nucleus);
  g_assert_cmpfloat (ss_mask_dice (cell_mask, true_cell, size * size), >, 0.95);
  g_assert_cmpfloat (ss_mask_dice (nucleus, true_nucleus, size * size), >, 0.95);
  int red_taken = 0;
  for (int i = 0; i < size * size; i++)
    red_taken += cell_mask[i] && red_cell[i];
  g_assert_cmpint (red_taken, <, 40);
}

/* Resampling to a model's input. Shrinking 3x exactly, one bilinear tap lands on each
 * block's centre pixel and the area mean is the mean of the 3 x 3 block, both computed
 * here from the pixels; a one-pixel checkerboard (granules at the finest scale) aliases
 * to full black and white with one tap and stays near grey with the mean, also at a
 * fractional scale; enlarging, the two are the same to the bit. */
static void
test_resample (void)
{
  const int w = 30, h = 24, ow = 10, oh = 8;
  g_autoptr (SsImage) noise = ss_image_new (w, h);
  guint32 state = 12345;
  for (int i = 0; i < w * h * 3; i++)
    {
      state = state * 1664525u + 1013904223u;
      noise->rgb[i] = (guint8) (state >> 24);
    }
  g_autofree float *one = g_new (float, 3 * ow * oh);
  g_autofree float *mean = g_new (float, 3 * ow * oh);
  ss_image_crop_to_tensor (noise, 0, 0, w, h, ow, oh, SS_RESAMPLE_BILINEAR, one);
  ss_image_crop_to_tensor (noise, 0, 0, w, h, ow, oh, SS_RESAMPLE_AREA, mean);
  double worst_one = 0, worst_mean = 0;
  for (int c = 0; c < 3; c++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        {
          double sum = 0;
          for (int dy = 0; dy < 3; dy++)
            for (int dx = 0; dx < 3; dx++)
              sum += noise->rgb[((3 * oy + dy) * w + 3 * ox + dx) * 3 + c];
          double centre = noise->rgb[((3 * oy + 1) * w + 3 * ox + 1) * 3 + c];
          gsize at = (gsize) c * ow * oh + (gsize) oy * ow + ox;
          worst_one = MAX (worst_one, fabs (one[at] * 255.0 - centre));
          worst_mean = MAX (worst_mean, fabs (mean[at] * 255.0 - sum / 9));
        }
  g_assert_cmpfloat (worst_one, <, 1e-3);
  g_assert_cmpfloat (worst_mean, <, 1e-3);

  /* a one-pixel checkerboard shrunk 3x and 2.7x: the spread around grey */
  const int side = 81;
  g_autoptr (SsImage) board = ss_image_new (side, side);
  for (int y = 0; y < side; y++)
    for (int x = 0; x < side; x++)
      memset (board->rgb + ((gsize) y * side + x) * 3, (x + y) % 2 ? 255 : 0, 3);
  const int outs[2] = { 27, 30 };
  for (int k = 0; k < 2; k++)
    {
      const int o = outs[k];
      g_autofree guint8 *a = g_new (guint8, o * o * 3);
      g_autofree guint8 *b = g_new (guint8, o * o * 3);
      ss_image_crop_to_rgb (board, 0, 0, side, side, o, o, SS_RESAMPLE_BILINEAR, a);
      ss_image_crop_to_rgb (board, 0, 0, side, side, o, o, SS_RESAMPLE_AREA, b);
      int spread_one = 0, spread_mean = 0;
      for (int i = 0; i < o * o * 3; i++)
        {
          spread_one = MAX (spread_one, abs (a[i] - 128));
          spread_mean = MAX (spread_mean, abs (b[i] - 128));
        }
      if (k == 0)
        g_assert_cmpint (spread_one, >=, 127);  /* the aliasing the mean removes */
      g_assert_cmpint (spread_mean, <=, k == 0 ? 15 : 40);
    }

  /* enlarging: no footprint to average, the same bytes */
  g_autofree guint8 *up_one = g_new (guint8, 75 * 60 * 3);
  g_autofree guint8 *up_mean = g_new (guint8, 75 * 60 * 3);
  ss_image_crop_to_rgb (noise, 0, 0, w, h, 75, 60, SS_RESAMPLE_BILINEAR, up_one);
  ss_image_crop_to_rgb (noise, 0, 0, w, h, 75, 60, SS_RESAMPLE_AREA, up_mean);
  g_assert_cmpmem (up_one, 75 * 60 * 3, up_mean, 75 * 60 * 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/analysis/separate-discs", test_separate_discs);
  g_test_add_func ("/analysis/touching-pair", test_touching_pair);
  g_test_add_func ("/analysis/rle-round-trip", test_rle_round_trip);
  g_test_add_func ("/analysis/perimeter", test_perimeter_of_disc);
  g_test_add_func ("/analysis/solidity", test_solidity);
  g_test_add_func ("/analysis/doubt", test_doubt);
  g_test_add_func ("/analysis/learn-head", test_learn_head);
  g_test_add_func ("/analysis/voc", test_voc);
  g_test_add_func ("/analysis/average-precision", test_average_precision);
  g_test_add_func ("/analysis/bad-files", test_bad_files);
  g_test_add_func ("/analysis/batch", test_batch);
  g_test_add_func ("/analysis/centre-cell", test_centre_cell);
  g_test_add_func ("/analysis/cell-probs", test_cell_probs);
  g_test_add_func ("/analysis/resample", test_resample);
  return g_test_run ();
}
