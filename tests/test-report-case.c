/* The exports of a case built through the store's API (src/report/ss-report-case.c,
 * ss-report-hl7.c, ss-report-export.c): what the CLI cannot make, a cell a person drew
 * without a mask, and the HL7 message with a fixed time and control id. */
#include "ss-report-case.h"
#include "ss-report-export.h"
#include "ss-report-hl7.h"
#include "store-test-util.h"

#define ACCESSION "R-1"
#define N_CELLS   20

typedef struct {
  char         *dir;
  SsStore      *store;
  GPtrArray    *cells;      /* as stored, with their ids */
  gint64        drawn_id;   /* the cell a person drew, without a mask */
  SsReportCase *report;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = store_test_dir ();
  f->store = store_test_populated (f->dir, "cases.db", ACCESSION, N_CELLS, &f->cells);
  g_autoptr (GPtrArray) images = ss_store_list_images (f->store, ACCESSION, FALSE, &error);
  g_assert_no_error (error);
  gint64 image_id = ((SsImageRecord *) g_ptr_array_index (images, 0))->id;
  g_autoptr (SsCell) drawn = ss_cell_new ();
  drawn->box = (SsBox) { 100, 200, 30, 20 };
  drawn->predicted_class = SS_CLASS_NONE;
  drawn->current_class = SS_CLASS_NEUTROPHIL;
  drawn->confidence = 1.0f;
  g_assert_cmpint (ss_store_add_cell (f->store, ACCESSION, image_id, drawn, "tech", &error), >, 0);
  g_assert_no_error (error);
  f->drawn_id = drawn->id;
  SsCell *deleted = g_ptr_array_index (f->cells, 3);
  g_assert_cmpint (ss_store_delete_cell (f->store, ACCESSION, deleted->id, "tech", &error), >, 0);
  g_assert_no_error (error);
  f->report = ss_report_case_load (f->store, ACCESSION, SS_BLAST_THRESHOLD_DEFAULT, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  ss_report_case_free (f->report);
  g_ptr_array_unref (f->cells);
  g_object_unref (f->store);
  store_test_remove_dir (f->dir);
  g_free (f->dir);
}

static void
test_load_unknown_case (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsReportCase) report = ss_report_case_load (f->store, "NO-SUCH", 20, &error);
  g_assert_null (report);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
}

/* Every annotation's RLE covers the image and sets as many pixels as its area says; the
 * cell without a mask is its box as a polygon; the deleted cell is left out. */
static void
test_coco (Fixture *f, gconstpointer data)
{
  g_autoptr (JsonNode) root = ss_report_case_coco (f->report);
  JsonObject *coco = json_node_get_object (root);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (coco, "categories")), ==,
                    SS_N_CLASSES);
  JsonArray *annotations = json_object_get_array_member (coco, "annotations");
  g_assert_cmpuint (json_array_get_length (annotations), ==, N_CELLS);  /* one deleted, one drawn */
  gboolean saw_drawn = FALSE;
  for (guint i = 0; i < json_array_get_length (annotations); i++)
    {
      JsonObject *a = json_array_get_object_element (annotations, i);
      gint64 id = json_object_get_int_member (a, "id");
      gint64 area = json_object_get_int_member (a, "area");
      g_assert_cmpint (id, !=, ((SsCell *) g_ptr_array_index (f->cells, 3))->id);
      JsonNode *segmentation = json_object_get_member (a, "segmentation");
      if (id == f->drawn_id)
        {
          saw_drawn = TRUE;
          JsonArray *polygons = json_node_get_array (segmentation);
          JsonArray *polygon = json_array_get_array_element (polygons, 0);
          g_assert_cmpuint (json_array_get_length (polygon), ==, 8);
          g_assert_cmpint (area, ==, 30 * 20);
          g_assert_cmpint (json_object_get_int_member (a, "category_id"), ==, SS_CLASS_NEUTROPHIL + 1);
          continue;
        }
      JsonObject *rle = json_node_get_object (segmentation);
      JsonArray *size = json_object_get_array_member (rle, "size");
      g_assert_cmpint (json_array_get_int_element (size, 0), ==, 480);
      g_assert_cmpint (json_array_get_int_element (size, 1), ==, 640);
      JsonArray *counts = json_object_get_array_member (rle, "counts");
      gint64 total = 0, set = 0;
      for (guint k = 0; k < json_array_get_length (counts); k++)
        {
          gint64 run = json_array_get_int_element (counts, k);
          total += run;
          if (k % 2 == 1)
            set += run;
        }
      g_assert_cmpint (total, ==, 640 * 480);
      g_assert_cmpint (set, ==, area);
      const SsCell *cell = NULL;
      for (guint k = 0; k < f->cells->len; k++)
        if (((SsCell *) g_ptr_array_index (f->cells, k))->id == id)
          cell = g_ptr_array_index (f->cells, k);
      g_assert_nonnull (cell);
      g_assert_cmpint (area, ==, (gint64) ss_rle_area (&cell->mask));
    }
  g_assert_true (saw_drawn);
}

/* The cells CSV lists every cell, deleted and drawn ones too, each row as wide as the
 * header (the path here holds no comma: test-export.py checks the quoting). */
static void
test_csv (Fixture *f, gconstpointer data)
{
  g_autofree char *cells = ss_report_case_cells_csv (f->report);
  g_auto (GStrv) lines = g_strsplit (cells, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + N_CELLS + 1 + 1);  /* header, cells, "" */
  g_assert_cmpstr (lines[N_CELLS + 2], ==, "");
  g_auto (GStrv) header = g_strsplit (lines[0], ",", -1);
  for (guint i = 1; i <= N_CELLS + 1; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], ",", -1);
      g_assert_cmpuint (g_strv_length (fields), ==, g_strv_length (header));
    }
  /* the drawn cell: no class of the model's, a person's decision */
  g_autofree char *drawn = g_strdup_printf (",%" G_GINT64_FORMAT ",100,200,30,20,neutrophil,,",
                                            f->drawn_id);
  g_assert_nonnull (strstr (lines[N_CELLS + 1], drawn));
  g_assert_nonnull (strstr (lines[N_CELLS + 1], ",true,true,false,false,user,"));
  g_autofree char *counts = ss_report_case_counts_csv (f->report);
  g_assert_true (g_str_has_prefix (counts, "image,lymphoblast,"));
  g_assert_true (g_str_has_suffix (counts, "\n"));
}

static void
test_every_format (Fixture *f, gconstpointer data)
{
  for (int i = 0; i < SS_REPORT_N_FORMATS; i++)
    {
      g_autoptr (GError) error = NULL;
      SsReportFormat format;
      g_assert_true (ss_report_format_from_name (ss_report_format_name (i), &format));
      g_assert_cmpint (format, ==, i);
      g_autofree char *text = ss_report_case_export (f->report, format, &error);
      g_assert_no_error (error);
      g_assert_nonnull (text);
      g_assert_cmpuint (strlen (text), >, 0);
    }
  SsReportFormat format;
  g_assert_false (ss_report_format_from_name ("pdf", &format));
}

static void
test_hl7_escape (void)
{
  g_autofree char *escaped = ss_report_hl7_escape ("a|b^c&d~e\\f\rg\th\x7fi Ä");
  g_assert_cmpstr (escaped, ==, "a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X0D\\g\\X09\\h\\X7F\\i Ä");
}

/* With a fixed time and control id the MSH is known to the byte; a control id longer
 * than MSH-10's 20 characters is cut. */
static void
test_hl7_options (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_utc (2026, 1, 2, 3, 4, 5);
  SsReportHl7Options options = { "ABCDEFGHIJKLMNOPQRSTUVWXYZ", now };
  g_autofree char *message = ss_report_case_hl7 (f->report, &options, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (message, "MSH|^~\\&|Smearscope||||20260102030405+0000||"
                                            "ORU^R01^ORU_R01|ABCDEFGHIJKLMNOPQRST|P|2.5.1||||||"
                                            "UNICODE UTF-8\rPID|1||P-1^^^^PI||^^^^^^U\rOBR|1||"
                                            ACCESSION "^Smearscope|69738-3^"));
  g_assert_true (g_str_has_suffix (message, "\r"));
  g_assert_null (strchr (message, '\n'));
  /* open case: preliminary, no interpreter; one OBX per counted class */
  g_assert_nonnull (strstr (message, "||HM|P\r"));
  g_auto (GStrv) segments = g_strsplit (message, "\r", -1);
  int n_obx = 0;
  for (char **s = segments; *s != NULL; s++)
    n_obx += g_str_has_prefix (*s, "OBX|");
  g_assert_cmpint (n_obx, ==, SS_N_CLASSES - 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/report/case/load-unknown", Fixture, NULL, fixture_set_up, test_load_unknown_case,
              fixture_tear_down);
  g_test_add ("/report/case/coco", Fixture, NULL, fixture_set_up, test_coco, fixture_tear_down);
  g_test_add ("/report/case/csv", Fixture, NULL, fixture_set_up, test_csv, fixture_tear_down);
  g_test_add ("/report/case/every-format", Fixture, NULL, fixture_set_up, test_every_format,
              fixture_tear_down);
  g_test_add ("/report/hl7/options", Fixture, NULL, fixture_set_up, test_hl7_options,
              fixture_tear_down);
  g_test_add_func ("/report/hl7/escape", test_hl7_escape);
  return g_test_run ();
}
