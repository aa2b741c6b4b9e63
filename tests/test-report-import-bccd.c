/* BCCD's Pascal VOC annotations imported as ground truth (smearscope-cli import's
 * reader and store): every WBC box, as ss_voc_load gives it, becomes an untyped truth
 * cell of its image; RBC and platelets are left out and counted; nothing is counted.
 * Skips (exit 77) when ../shared/datasets is absent. */
#include "ss-config.h"
#include "ss-report-import.h"
#include "ss-voc.h"
#include "store-test-util.h"

#include <stdio.h>

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (void)
{
  g_autofree char *data = g_build_filename (SS_SHARED_DIR, "datasets", "bccd", NULL);
  g_autofree char *annotations = g_build_filename (data, "annotations", NULL);
  g_autoptr (GDir) dir = g_dir_open (annotations, 0, NULL);
  if (dir == NULL)
    {
      printf ("SKIP: %s is absent\n", annotations);
      return 77;
    }
  g_autoptr (GPtrArray) xmls = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".xml"))
      g_ptr_array_add (xmls, g_build_filename (annotations, name, NULL));
  g_ptr_array_sort (xmls, compare_paths);
  g_assert_cmpuint (xmls->len, >, 0);

  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = store_test_dir ();
  g_autofree char *path = g_build_filename (tmp, "bccd.db", NULL);
  g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_CREATE, &error);
  g_assert_no_error (error);
  g_autoptr (SsCase) c = ss_store_create_case (store, "BCCD", NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);

  /* each annotated image stored without analysis (no cells), then every file read */
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_report_truth_file_free);
  g_autoptr (GArray) truth = g_array_new (FALSE, FALSE, sizeof (SsTruthImage));
  g_autoptr (GArray) image_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint expected_wbc = 0, expected_skipped = 0, n_cells = 0;
  for (guint i = 0; i < xmls->len; i++)
    {
      const char *xml = g_ptr_array_index (xmls, i);
      g_autoptr (SsVocAnnotation) voc = ss_voc_load (xml, &error);
      g_assert_no_error (error);
      g_autofree char *image_path = g_build_filename (data, "images", voc->filename, NULL);
      g_autofree char *bytes = NULL;
      gsize length = 0;
      g_assert_true (g_file_get_contents (image_path, &bytes, &length, &error));
      g_autofree char *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                             (const guchar *) bytes, length);
      SsImageInfo info = { image_path, sha256, voc->width, voc->height };
      g_autoptr (GPtrArray) no_cells = g_ptr_array_new ();
      gint64 image_id = ss_store_add_image (store, "BCCD", &info, no_cells, &error);
      g_assert_no_error (error);
      g_array_append_val (image_ids, image_id);
      g_autofree SsBox *boxes = NULL;
      int n_wbc = ss_voc_boxes (voc, "WBC", &boxes);
      expected_wbc += n_wbc;
      expected_skipped += voc->objects->len - n_wbc;

      SsTruthFile *file = ss_report_truth_file_load (xml, "voc", &error);
      g_assert_no_error (error);
      g_assert_cmpuint (file->images->len, ==, 1);
      g_ptr_array_add (files, file);
      g_array_append_vals (truth, file->images->data, 1);
      guint skipped = 0;
      GHashTableIter iter;
      gpointer count;
      g_hash_table_iter_init (&iter, file->skipped);
      while (g_hash_table_iter_next (&iter, NULL, &count))
        skipped += GPOINTER_TO_UINT (count);
      g_assert_cmpuint (file->n_cells + skipped, ==, voc->objects->len);
      n_cells += file->n_cells;
    }
  /* the data set's README: 214 WBC boxes in train, 87 in val */
  g_assert_cmpuint (expected_wbc, ==, 301);
  g_assert_cmpuint (n_cells, ==, expected_wbc);
  g_assert_true (ss_store_add_truth (store, "BCCD", (const SsTruthImage *) truth->data, truth->len,
                                     "test", &error));
  g_assert_no_error (error);

  /* the same boxes ss_voc_load gives, in the file's order, untyped */
  guint n_stored = 0;
  for (guint i = 0; i < xmls->len; i++)
    {
      g_autoptr (SsVocAnnotation) voc = ss_voc_load (g_ptr_array_index (xmls, i), &error);
      g_autofree SsBox *boxes = NULL;
      int n = ss_voc_boxes (voc, "WBC", &boxes);
      g_autoptr (GPtrArray) stored = ss_store_list_truth (store, g_array_index (image_ids, gint64, i),
                                                          &error);
      g_assert_no_error (error);
      g_assert_cmpint (stored->len, ==, n);
      for (int j = 0; j < n; j++)
        {
          const SsTruthCell *cell = g_ptr_array_index (stored, j);
          g_assert_cmpmem (&cell->box, sizeof (SsBox), &boxes[j], sizeof (SsBox));
          g_assert_cmpint (cell->cls, ==, SS_CLASS_NONE);
          g_assert_cmpint (cell->mask.n_runs, ==, 0);
          g_assert_cmpstr (cell->source_format, ==, "voc");
          g_autofree char *base = g_path_get_basename (g_ptr_array_index (xmls, i));
          g_assert_cmpstr (cell->source_file, ==, base);
        }
      n_stored += stored->len;
    }
  g_assert_cmpuint (n_stored, ==, 301);
  printf ("%u annotation files: %u WBC boxes imported, %u RBC and platelet boxes left out\n",
          xmls->len, n_stored, expected_skipped);

  /* truth is never counted */
  int counts[SS_N_CLASSES];
  g_assert_true (ss_store_case_counts (store, "BCCD", counts, &error));
  for (int k = 0; k < SS_N_CLASSES; k++)
    g_assert_cmpint (counts[k], ==, 0);
  g_assert_true (ss_store_check (store, NULL, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&store);
  store_test_remove_dir (tmp);
  return 0;
}
