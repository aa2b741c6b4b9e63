/* The workstation's model layer without a display: the open case (SsCaseDocument),
 * its review queue, counts, corrections with undo and redo, sign-off and reopening,
 * and the viewer state. Every change must be in the store, not only on screen. */
#include "ss-case-document.h"
#include "ss-image.h"
#include "ss-learn-cells.h"
#include "ss-viewer-state.h"
#include "store-test-util.h"

typedef struct {
  char          *dir;
  char          *image_path;
  SsStore       *store;
  SsCaseDocument *doc;
} Fixture;

/* A 640 x 480 field on disk (the document reads it for crops and drawn cells). */
static char *
write_field (const char *dir)
{
  g_autoptr (SsImage) image = ss_image_new (640, 480);
  for (int i = 0; i < 640 * 480; i++)
    {
      image->rgb[3 * i] = 230;
      image->rgb[3 * i + 1] = 190;
      image->rgb[3 * i + 2] = 200;
    }
  char *path = g_build_filename (dir, "field.png", NULL);
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_image_save_png (image, path, &error));
  return path;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  f->dir = store_test_dir ();
  f->image_path = write_field (f->dir);
  g_autofree char *db = store_test_location (f->dir, "cases.db");
  f->store = ss_store_open (db, SS_STORE_OPEN_CREATE, &error);
  g_assert_no_error (error);
  g_autoptr (SsCase) c = ss_store_create_case (f->store, "A1", NULL, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) cells = store_test_cells (16);
  g_autofree char *sha = ss_file_sha256 (f->image_path, &error);
  g_assert_no_error (error);
  SsImageInfo info = { .path = f->image_path, .sha256 = sha, .width = 640, .height = 480,
                       .model_name = "test", .model_version = "SSM1", .model_checksum = TEST_SHA256 };
  g_assert_cmpint (ss_store_add_image (f->store, "A1", &info, cells, &error), >, 0);
  g_assert_no_error (error);
  f->doc = ss_case_document_open (f->store, "A1", "tester", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->doc);
  g_clear_object (&f->store);
  g_free (f->image_path);
  store_test_remove_dir (f->dir);
  g_free (f->dir);
}

static SsCellItem *
item_at (Fixture *f, guint i)
{
  SsCellItem *item = g_list_model_get_item (ss_case_document_get_cells (f->doc), i);
  g_object_unref (item);
  return item;
}

/* What the store says, read afresh (a new connection, as another program would). */
static SsCell *
stored_cell (Fixture *f, gint64 id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) again = ss_store_open (ss_store_get_path (f->store), SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  SsCell *cell = ss_store_get_cell (again, id, &error);
  g_assert_no_error (error);
  return cell;
}

static void
test_open (Fixture *f, gconstpointer data)
{
  g_assert_cmpuint (ss_case_document_get_n_images (f->doc), ==, 1);
  g_assert_cmpuint (ss_case_document_get_n_cells (f->doc), ==, 16);
  g_assert_cmpuint (ss_case_document_get_n_unreviewed (f->doc), ==, 16);
  /* confidences 0.5 + 0.05 * (i % 10) as floats; unsure below the default 0.9 */
  guint unsure = 0;
  for (int i = 0; i < 16; i++)
    unsure += 0.5f + 0.05f * (i % 10) < 0.9;
  g_assert_cmpuint (unsure, >=, 14);
  g_assert_cmpuint (ss_case_document_get_n_unsure (f->doc), ==, unsure);
  ss_case_document_set_unsure_below (f->doc, 0.6);
  g_assert_cmpuint (ss_case_document_get_n_unsure (f->doc), ==, 4);  /* 0.5 and 0.55, twice */
  ss_case_document_set_unsure_below (f->doc, 0.9);
  SsCounts counts;
  ss_case_document_get_counts (f->doc, &counts);
  for (int c = 0; c < SS_N_CLASSES; c++)
    g_assert_cmpint (counts.counts[c], ==, 2);
  g_assert_cmpint (counts.total_counted, ==, 14);
  g_assert_false (ss_case_document_get_read_only (f->doc));
  g_assert_false (ss_case_document_get_can_undo (f->doc));
  g_assert_cmpuint (ss_case_document_get_n_truth_cells (f->doc), ==, 0);
  g_assert_cmpuint (ss_case_document_get_image_truth (f->doc, 0)->len, ==, 0);

  /* the label on the field marks an unsure call ("Lymphocyte? 60%") until a person
   * reviews the cell; a sure call's is the plain label */
  guint marked = 0;
  SsCellItem *unsure_item = NULL;
  for (guint i = 0; i < 16; i++)
    {
      SsCellItem *item = item_at (f, i);
      g_autofree char *label = ss_cell_item_dup_label (item);
      g_autofree char *on_field = ss_cell_item_dup_field_label (item);
      g_assert_null (strchr (label, '?'));
      if (ss_cell_item_get_unsure (item))
        {
          g_autofree char *expected = g_strdup_printf ("%s? %d%%",
            ss_cell_class_display_name (ss_cell_item_get_cell_class (item)),
            (int) (100.0 * ss_cell_item_get_confidence (item) + 0.5));
          g_assert_cmpstr (on_field, ==, expected);
          marked++;
          unsure_item = item;
        }
      else
        g_assert_cmpstr (on_field, ==, label);
    }
  g_assert_cmpuint (marked, ==, unsure);
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_case_document_confirm (f->doc, &unsure_item, 1, &error));
  g_assert_no_error (error);
  g_autofree char *confirmed = ss_cell_item_dup_field_label (unsure_item);
  g_assert_null (strchr (confirmed, '?'));
}

/* Imported ground truth opens with the case, beside the cells: never one of them, never
 * counted, never in the review queue. */
static void
test_truth (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) truth = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free);
  SsTruthCell *untyped = ss_truth_cell_new ();
  untyped->box = (SsBox) { 10, 20, 40, 30 };
  untyped->cls = SS_CLASS_NONE;
  g_ptr_array_add (truth, untyped);
  SsTruthCell *typed = ss_truth_cell_new ();
  typed->box = (SsBox) { 100, 120, 50, 60 };
  typed->cls = SS_CLASS_NEUTROPHIL;
  g_ptr_array_add (truth, typed);
  SsTruthCell *found = ss_truth_cell_new ();
  found->box = (SsBox) { 31, 1, 24, 24 };  /* the second cell's, one pixel off */
  found->cls = SS_CLASS_LYMPHOCYTE;
  g_ptr_array_add (truth, found);
  SsTruthImage image = { .image = f->image_path, .source_format = "voc",
                         .source_file = "field.xml", .source_sha256 = TEST_SHA256,
                         .width = 640, .height = 480, .cells = truth };
  g_assert_true (ss_store_add_truth (f->store, "A1", &image, 1, "importer", &error));
  g_assert_no_error (error);

  g_autoptr (SsCaseDocument) doc = ss_case_document_open (f->store, "A1", "tester", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ss_case_document_get_n_truth_cells (doc), ==, 3);
  GPtrArray *opened = ss_case_document_get_image_truth (doc, 0);
  g_assert_cmpuint (opened->len, ==, 3);
  const SsTruthCell *first = g_ptr_array_index (opened, 0);
  const SsTruthCell *second = g_ptr_array_index (opened, 1);
  g_assert_cmpint (first->cls, ==, SS_CLASS_NONE);
  g_assert_cmpint (first->box.width, ==, 40);
  g_assert_cmpint (second->cls, ==, SS_CLASS_NEUTROPHIL);
  g_assert_cmpstr (second->source_file, ==, "field.xml");
  g_assert_cmpuint (ss_case_document_get_n_cells (doc), ==, 16);
  g_assert_cmpuint (ss_case_document_get_n_unreviewed (doc), ==, 16);
  g_autoptr (GPtrArray) queue = ss_case_document_review_queue (doc);
  g_assert_cmpuint (queue->len, ==, 16);
  SsCounts counts;
  ss_case_document_get_counts (doc, &counts);
  g_assert_cmpint (counts.counts[SS_CLASS_NEUTROPHIL], ==, 2);
  /* (31, 1) against (30, 0), 24 x 24: IoU 529 / 623 = 0.85 */
  g_assert_cmpuint (ss_case_document_count_truth_matched (doc, 0, 0.5), ==, 1);
  g_assert_cmpuint (ss_case_document_count_truth_matched (doc, 0, 0.9), ==, 0);
}

static void
test_queue (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) queue = ss_case_document_review_queue (f->doc);
  g_assert_cmpuint (queue->len, ==, 16);
  /* unsure first, least certain first among them; the sure ones last */
  for (guint i = 1; i < queue->len; i++)
    {
      SsCellItem *a = queue->pdata[i - 1], *b = queue->pdata[i];
      if (ss_cell_item_get_unsure (a) == ss_cell_item_get_unsure (b))
        g_assert_cmpfloat (ss_cell_item_get_confidence (a), <=, ss_cell_item_get_confidence (b));
      else
        g_assert_true (ss_cell_item_get_unsure (a));
    }
  SsCellItem *first = ss_case_document_next_unreviewed (f->doc, NULL);
  g_assert_true (first == queue->pdata[0]);
  g_assert_true (ss_case_document_next_unreviewed (f->doc, first) == queue->pdata[1]);
}

static void
test_relabel_undo_redo (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SsCellItem *item = item_at (f, 2);           /* a neutrophil (class 2) */
  gint64 id = ss_cell_item_get_id (item);
  g_assert_cmpint (ss_cell_item_get_cell_class (item), ==, SS_CLASS_NEUTROPHIL);

  g_assert_true (ss_case_document_relabel (f->doc, &item, 1, SS_CLASS_EOSINOPHIL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ss_cell_item_get_cell_class (item), ==, SS_CLASS_EOSINOPHIL);
  g_assert_true (ss_cell_item_get_reviewed (item));
  g_assert_cmpuint (ss_case_document_get_n_unreviewed (f->doc), ==, 15);
  g_autoptr (SsCell) after = stored_cell (f, id);
  g_assert_cmpint (after->current_class, ==, SS_CLASS_EOSINOPHIL);
  g_assert_true (after->reviewed);
  SsCounts counts;
  ss_case_document_get_counts (f->doc, &counts);
  g_assert_cmpint (counts.counts[SS_CLASS_NEUTROPHIL], ==, 1);
  g_assert_cmpint (counts.counts[SS_CLASS_EOSINOPHIL], ==, 3);

  g_assert_true (ss_case_document_get_can_undo (f->doc));
  g_assert_true (ss_case_document_undo (f->doc, &error));
  g_assert_no_error (error);
  g_assert_cmpint (ss_cell_item_get_cell_class (item), ==, SS_CLASS_NEUTROPHIL);
  g_assert_false (ss_cell_item_get_reviewed (item));
  g_assert_cmpuint (ss_case_document_get_n_unreviewed (f->doc), ==, 16);
  g_autoptr (SsCell) undone = stored_cell (f, id);
  g_assert_cmpint (undone->current_class, ==, SS_CLASS_NEUTROPHIL);
  g_assert_false (undone->reviewed);

  g_assert_true (ss_case_document_get_can_redo (f->doc));
  g_assert_true (ss_case_document_redo (f->doc, &error));
  g_assert_no_error (error);
  g_autoptr (SsCell) redone = stored_cell (f, id);
  g_assert_cmpint (redone->current_class, ==, SS_CLASS_EOSINOPHIL);
  g_assert_cmpint (ss_cell_item_get_cell_class (item), ==, SS_CLASS_EOSINOPHIL);

  /* the audit trail has all three, by the document's user */
  g_autoptr (GPtrArray) trail = ss_store_list_corrections (f->store, "A1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (trail->len, ==, 3);
  for (guint i = 0; i < trail->len; i++)
    g_assert_cmpstr (((SsCorrection *) trail->pdata[i])->user, ==, "tester");
  g_assert_true (ss_store_check (f->store, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
test_confirm_and_group (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SsCellItem *items[3] = { item_at (f, 0), item_at (f, 1), item_at (f, 3) };

  /* relabelling to the class a cell has confirms it */
  g_assert_true (ss_case_document_relabel (f->doc, &items[0], 1, SS_CLASS_LYMPHOBLAST, &error));
  g_assert_true (ss_cell_item_get_reviewed (items[0]));
  g_assert_cmpint (ss_cell_item_get_cell_class (items[0]), ==, SS_CLASS_LYMPHOBLAST);

  /* a group: one undo step */
  g_assert_true (ss_case_document_relabel (f->doc, items, 3, SS_CLASS_LYMPHOCYTE, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (ss_cell_item_get_cell_class (items[i]), ==, SS_CLASS_LYMPHOCYTE);
  g_assert_true (ss_case_document_undo (f->doc, &error));
  g_assert_cmpint (ss_cell_item_get_cell_class (items[0]), ==, SS_CLASS_LYMPHOBLAST);
  g_assert_cmpint (ss_cell_item_get_cell_class (items[1]), ==, SS_CLASS_LYMPHOCYTE);
  g_assert_cmpint (ss_cell_item_get_cell_class (items[2]), ==, SS_CLASS_MONOCYTE);
  g_assert_true (ss_cell_item_get_reviewed (items[0]));  /* the confirmation before stands */
  g_assert_false (ss_cell_item_get_reviewed (items[2]));

  g_assert_true (ss_case_document_confirm (f->doc, &items[2], 1, &error));
  g_assert_true (ss_cell_item_get_reviewed (items[2]));
  g_autoptr (SsCell) stored = stored_cell (f, ss_cell_item_get_id (items[2]));
  g_assert_true (stored->reviewed);
  g_assert_cmpint (stored->current_class, ==, SS_CLASS_MONOCYTE);
}

static void
test_delete_and_add (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SsCellItem *item = item_at (f, 5);
  g_object_ref (item);
  gint64 id = ss_cell_item_get_id (item);
  GListModel *field = ss_case_document_get_image_cells (f->doc, 0);

  g_assert_true (ss_case_document_delete (f->doc, &item, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (ss_case_document_get_n_cells (f->doc), ==, 15);
  g_assert_cmpuint (g_list_model_get_n_items (field), ==, 15);
  g_autoptr (SsCell) gone = stored_cell (f, id);
  g_assert_true (gone->deleted);
  g_assert_true (ss_case_document_undo (f->doc, &error));
  g_assert_cmpuint (ss_case_document_get_n_cells (f->doc), ==, 16);
  g_assert_true (item_at (f, 5) == item);  /* back in its place */
  g_object_unref (item);

  SsBox box = { 300, 200, 40, 36 };
  SsCellItem *drawn = ss_case_document_add_cell (f->doc, 0, &box, SS_CLASS_BASOPHIL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (drawn);
  g_assert_cmpuint (ss_case_document_get_n_cells (f->doc), ==, 17);
  g_assert_true (ss_cell_item_get_reviewed (drawn));
  g_autoptr (SsCell) added = stored_cell (f, ss_cell_item_get_id (drawn));
  g_assert_true (added->user_drawn);
  g_assert_cmpint (added->current_class, ==, SS_CLASS_BASOPHIL);
  g_assert_cmpint (added->box.width, ==, 40);
  g_assert_true (ss_case_document_undo (f->doc, &error));
  g_assert_cmpuint (ss_case_document_get_n_cells (f->doc), ==, 16);
  g_assert_true (ss_case_document_redo (f->doc, &error));
  g_assert_cmpuint (ss_case_document_get_n_cells (f->doc), ==, 17);

  SsBox outside = { 700, 500, 30, 30 };
  g_assert_null (ss_case_document_add_cell (f->doc, 0, &outside, SS_CLASS_OTHER, &error));
  g_assert_nonnull (error);

  /* a crop for the gallery, from the field on disk */
  GdkTexture *crop = ss_case_document_ensure_crop (f->doc, drawn, 64);
  g_assert_nonnull (crop);
  g_assert_cmpint (gdk_texture_get_width (crop), ==, 64);
}

static void
on_field_loaded (SsCaseDocument *doc, guint index, gpointer user_data)
{
  *(int *) user_data = (int) index + 1;
}

static void
test_crop_in_background (Fixture *f, gconstpointer data)
{
  SsCellItem *item = item_at (f, 3);
  gboolean loading = FALSE;
  int loaded = 0;
  g_signal_connect (f->doc, "field-loaded", G_CALLBACK (on_field_loaded), &loaded);

  /* the field is not decoded yet: no crop now, one after "field-loaded" */
  g_assert_null (ss_case_document_try_crop (f->doc, item, 48, &loading));
  g_assert_true (loading);
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (loaded == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (loaded, ==, 1);
  GdkTexture *crop = ss_case_document_try_crop (f->doc, item, 48, &loading);
  g_assert_false (loading);
  g_assert_nonnull (crop);
  g_assert_cmpint (gdk_texture_get_height (crop), ==, 48);

  /* a field whose file is gone: no crop, and no endless waiting */
  g_autoptr (GError) error = NULL;
  g_assert_cmpint (g_unlink (f->image_path), ==, 0);
  g_autoptr (SsCaseDocument) again = ss_case_document_open (f->store, "A1", "tester", &error);
  g_assert_no_error (error);
  SsCellItem *other = g_list_model_get_item (ss_case_document_get_cells (again), 0);
  g_object_unref (other);
  loaded = 0;
  g_signal_connect (again, "field-loaded", G_CALLBACK (on_field_loaded), &loaded);
  g_assert_null (ss_case_document_try_crop (again, other, 48, &loading));
  while (loaded == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (ss_case_document_try_crop (again, other, 48, &loading));
  g_assert_false (loading);
  g_assert_null (ss_case_document_get_field_pixbuf (again, 0, &error));
  g_assert_nonnull (error);
}

static void
test_sign_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  SsCellItem *item = item_at (f, 0);
  g_assert_true (ss_case_document_relabel (f->doc, &item, 1, SS_CLASS_OTHER, &error));
  g_assert_true (ss_case_document_sign (f->doc, &error));
  g_assert_no_error (error);
  g_assert_true (ss_case_document_get_read_only (f->doc));
  g_assert_false (ss_case_document_get_can_undo (f->doc));
  g_assert_false (ss_case_document_relabel (f->doc, &item, 1, SS_CLASS_LYMPHOBLAST, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_clear_error (&error);
  g_assert_cmpint (ss_cell_item_get_cell_class (item), ==, SS_CLASS_OTHER);

  g_assert_true (ss_case_document_reopen (f->doc, "second opinion", &error));
  g_assert_no_error (error);
  g_assert_false (ss_case_document_get_read_only (f->doc));
  g_assert_true (ss_case_document_relabel (f->doc, &item, 1, SS_CLASS_LYMPHOBLAST, &error));
  g_autoptr (GPtrArray) events = ss_store_list_case_events (f->store, "A1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 2);
}

static void
test_reopen_from_store (Fixture *f, gconstpointer data)
{
  /* the document shows what the store holds: reopening the case shows the corrections */
  g_autoptr (GError) error = NULL;
  SsCellItem *item = item_at (f, 4);
  gint64 id = ss_cell_item_get_id (item);
  g_assert_true (ss_case_document_relabel (f->doc, &item, 1, SS_CLASS_NOT_A_CELL, &error));
  g_autoptr (SsCaseDocument) again = ss_case_document_open (f->store, "A1", "someone", &error);
  g_assert_no_error (error);
  SsCellItem *same = ss_case_document_find_cell (again, id);
  g_assert_nonnull (same);
  g_assert_cmpint (ss_cell_item_get_cell_class (same), ==, SS_CLASS_NOT_A_CELL);
  g_assert_true (ss_cell_item_get_reviewed (same));
  g_assert_cmpuint (ss_case_document_get_n_unreviewed (again), ==, 15);
}

static void
test_update_details (Fixture *f, gconstpointer data)
{
  /* NULL keeps a field, "" empties it; the document reads the case back; a signed case
   * is refused by the store and keeps its details */
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_case_document_update_details (f->doc, "P-\u0141\u00f3d\u017a", "blood",
                                                  NULL, "first line\nsecond line", &error));
  g_assert_no_error (error);
  const SsCase *info = ss_case_document_get_case (f->doc);
  g_assert_cmpstr (info->patient_ref, ==, "P-\u0141\u00f3d\u017a");
  g_assert_cmpstr (info->specimen, ==, "blood");
  g_assert_cmpstr (info->notes, ==, "first line\nsecond line");
  g_assert_true (ss_case_document_update_details (f->doc, NULL, "", NULL, NULL, &error));
  info = ss_case_document_get_case (f->doc);
  g_assert_cmpstr (info->patient_ref, ==, "P-\u0141\u00f3d\u017a");
  g_assert_cmpstr (info->specimen, ==, "");
  g_autoptr (SsCase) stored = ss_store_get_case (f->store, "A1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored->patient_ref, ==, info->patient_ref);

  g_assert_true (ss_case_document_sign (f->doc, &error));
  g_assert_false (ss_case_document_update_details (f->doc, "other", NULL, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_assert_cmpstr (ss_case_document_get_case (f->doc)->patient_ref, ==, "P-\u0141\u00f3d\u017a");
}

static void
test_viewer_state (void)
{
  g_autoptr (SsViewerState) state = ss_viewer_state_new ();
  g_autoptr (SsCellItem) a = ss_cell_item_new (ss_cell_new (), 2, 7);
  g_autoptr (SsCellItem) b = ss_cell_item_new (ss_cell_new (), 0, 5);

  g_assert_true (ss_viewer_state_get_fit (state));
  ss_viewer_state_zoom (state, 2.0);
  g_assert_false (ss_viewer_state_get_fit (state));
  g_assert_cmpfloat (ss_viewer_state_get_scale (state), ==, 2.0);
  ss_viewer_state_zoom (state, 1000.0);
  g_assert_cmpfloat (ss_viewer_state_get_scale (state), ==, SS_VIEWER_MAX_SCALE);

  ss_viewer_state_set_current (state, a, FALSE);
  g_assert_cmpuint (ss_viewer_state_get_image_index (state), ==, 2);
  g_assert_cmpuint (ss_viewer_state_get_n_selected (state), ==, 1);
  ss_viewer_state_set_current (state, b, TRUE);
  g_assert_cmpuint (ss_viewer_state_get_n_selected (state), ==, 2);
  g_assert_true (ss_viewer_state_get_current (state) == b);
  g_autoptr (GPtrArray) sel = ss_viewer_state_get_selection (state);
  g_assert_true (sel->pdata[0] == b);
  ss_viewer_state_select (state, b, FALSE);
  g_assert_true (ss_viewer_state_get_current (state) == a);
  ss_viewer_state_clear_selection (state);
  g_assert_null (ss_viewer_state_get_current (state));
  g_assert_cmpuint (ss_viewer_state_get_n_selected (state), ==, 0);
}

/* Two stations on one case: the second's relabel of a cell the first changed is refused
 * and its view reloaded; the first's later changes show at the second by themselves. */
static void
test_two_stations (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) other_store = ss_store_open (ss_store_get_path (f->store),
                                                   SS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_autoptr (SsCaseDocument) other = ss_case_document_open (other_store, "A1", "second", &error);
  g_assert_no_error (error);
  SsCellItem *mine = item_at (f, 2);
  g_autoptr (SsCellItem) theirs = g_list_model_get_item (ss_case_document_get_cells (other), 2);
  g_assert_cmpint (ss_cell_item_get_id (mine), ==, ss_cell_item_get_id (theirs));
  int before = ss_cell_item_get_cell_class (theirs);

  g_assert_true (ss_case_document_relabel (f->doc, &mine, 1, SS_CLASS_EOSINOPHIL, &error));
  g_assert_no_error (error);
  g_assert_false (ss_case_document_relabel (other, (SsCellItem **) &theirs, 1, SS_CLASS_BASOPHIL,
                                            &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_STALE);
  g_assert_nonnull (strstr (error->message, "reloaded"));
  g_clear_error (&error);
  g_assert_cmpint (before, !=, SS_CLASS_EOSINOPHIL);
  g_assert_cmpint (ss_cell_item_get_cell_class (theirs), ==, SS_CLASS_EOSINOPHIL);
  g_assert_false (ss_case_document_get_can_undo (other));
  g_autoptr (SsCell) stored = stored_cell (f, ss_cell_item_get_id (mine));
  g_assert_cmpint (stored->current_class, ==, SS_CLASS_EOSINOPHIL);

  /* now based on what it shows, the second station's relabel goes through */
  g_assert_true (ss_case_document_relabel (other, (SsCellItem **) &theirs, 1, SS_CLASS_BASOPHIL,
                                           &error));
  g_assert_no_error (error);

  /* live: the first station's view follows without being asked, within a second */
  gint64 start = g_get_monotonic_time ();
  while (ss_cell_item_get_cell_class (mine) != SS_CLASS_BASOPHIL
         && g_get_monotonic_time () - start < G_USEC_PER_SEC)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_cmpint (ss_cell_item_get_cell_class (mine), ==, SS_CLASS_BASOPHIL);
  g_assert_true (ss_case_document_relabel (f->doc, &mine, 1, SS_CLASS_MONOCYTE, &error));
  g_assert_no_error (error);
}

/* Run the main context until done (data) says so, at most a second; how long it took. */
static gint64
wait_heard (gboolean (*done) (Fixture *f, gconstpointer data), Fixture *f, gconstpointer data)
{
  gint64 start = g_get_monotonic_time ();
  while (!done (f, data) && g_get_monotonic_time () - start < G_USEC_PER_SEC)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  g_assert_true (done (f, data));
  return g_get_monotonic_time () - start;
}

static gboolean
has_n_cells (Fixture *f, gconstpointer n)
{
  return ss_case_document_get_n_cells (f->doc) == GPOINTER_TO_UINT (n);
}

static gboolean
is_read_only (Fixture *f, gconstpointer read_only)
{
  return ss_case_document_get_read_only (f->doc) == GPOINTER_TO_INT (read_only);
}

/* Run smearscope-cli (the other station) on the fixture's store as user (on a server,
 * as the login: every change is recorded under it); it must succeed. */
static void
other_station (Fixture *f, const char *user, const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *cli = store_test_cli ();
  g_ptr_array_add (argv, cli);
  va_list args;
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  if (store_test_pg () == NULL)
    {
      g_ptr_array_add (argv, "--user");
      g_ptr_array_add (argv, (char *) user);
    }
  g_ptr_array_add (argv, "--db");
  g_ptr_array_add (argv, (char *) ss_store_get_path (f->store));
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("smearscope-cli %s failed: %s", first, err);
}

/* Another station draws a cell, deletes one, signs the case and reopens it: each shows
 * in this station's document within a second, without a reload asked for, and the cell
 * the person had selected stays selected. */
static void
test_other_station (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsViewerState) state = ss_viewer_state_new ();
  SsCellItem *selected = item_at (f, 3);
  ss_viewer_state_set_current (state, selected, FALSE);
  int counts_before[SS_N_CLASSES] = { 0 };
  SsCounts counts = { 0 };
  ss_case_document_get_counts (f->doc, &counts);
  memcpy (counts_before, counts.counts, sizeof counts_before);

  /* a cell drawn at the other station (its own connection) */
  g_autoptr (SsStore) other = ss_store_open (ss_store_get_path (f->store), SS_STORE_OPEN_DEFAULT,
                                             &error);
  g_assert_no_error (error);
  const SsImageRecord *record = ss_case_document_get_image (f->doc, 0);
  g_autoptr (GPtrArray) drawn = store_test_cells (1);
  SsCell *cell = drawn->pdata[0];
  cell->box = (SsBox) { 500, 400, 24, 24 };
  cell->current_class = cell->predicted_class = SS_CLASS_MONOCYTE;
  cell->user_drawn = TRUE;
  g_assert_cmpint (ss_store_add_cell (other, "A1", record->id, cell, "second", &error), >, 0);
  g_assert_no_error (error);
  gint64 waited = wait_heard (has_n_cells, f, GUINT_TO_POINTER (17));
  g_test_message ("the drawn cell arrived after %.3f s", waited / 1e6);
  SsCellItem *arrived = ss_case_document_find_cell (f->doc, cell->id);
  g_assert_nonnull (arrived);
  g_assert_cmpint (ss_cell_item_get_cell_class (arrived), ==, SS_CLASS_MONOCYTE);
  g_assert_true (ss_cell_item_get_reviewed (arrived));
  GListModel *field = ss_case_document_get_image_cells (f->doc, 0);
  g_assert_cmpuint (g_list_model_get_n_items (field), ==, 17);
  ss_case_document_get_counts (f->doc, &counts);
  g_assert_cmpint (counts.counts[SS_CLASS_MONOCYTE], ==, counts_before[SS_CLASS_MONOCYTE] + 1);
  /* this station can correct it at once, from the version it was told */
  g_assert_true (ss_case_document_relabel (f->doc, &arrived, 1, SS_CLASS_LYMPHOCYTE, &error));
  g_assert_no_error (error);

  /* a cell deleted there, with the command line */
  SsCellItem *victim = item_at (f, 5);
  g_autofree char *victim_id = g_strdup_printf ("%" G_GINT64_FORMAT, ss_cell_item_get_id (victim));
  other_station (f, "second", "relabel", "--case", "A1", "--cell", victim_id, "--delete", NULL);
  waited = wait_heard (has_n_cells, f, GUINT_TO_POINTER (16));
  g_test_message ("the deletion arrived after %.3f s", waited / 1e6);
  g_assert_true (ss_cell_item_get_deleted (victim));
  g_assert_cmpuint (g_list_model_get_n_items (field), ==, 16);

  /* signed there, then reopened there */
  other_station (f, "dr hem", "signoff", "--case", "A1", NULL);

  waited = wait_heard (is_read_only, f, GINT_TO_POINTER (TRUE));
  g_test_message ("the sign-off arrived after %.3f s", waited / 1e6);
  g_assert_cmpstr (ss_case_document_get_case (f->doc)->signed_by, ==,
                   store_test_pg () != NULL ? "smearscope" : "dr hem");
  other_station (f, "dr hem", "case", "reopen", "A1", "--reason", "recount", NULL);
  wait_heard (is_read_only, f, GINT_TO_POINTER (FALSE));

  /* a field analysed into the case there: it appears here with its cells */
  g_autoptr (GPtrArray) analysed = store_test_cells (3);
  g_autofree char *sha = ss_file_sha256 (f->image_path, &error);
  g_assert_no_error (error);
  SsImageInfo info = { .path = f->image_path, .sha256 = sha, .width = 640, .height = 480,
                       .model_name = "test", .model_version = "SSM1",
                       .model_checksum = TEST_SHA256 };
  g_assert_cmpint (ss_store_add_image (other, "A1", &info, analysed, &error), >, 0);
  g_assert_no_error (error);
  waited = wait_heard (has_n_cells, f, GUINT_TO_POINTER (19));
  g_test_message ("the field analysed there arrived after %.3f s", waited / 1e6);
  g_assert_cmpuint (ss_case_document_get_n_images (f->doc), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (ss_case_document_get_image_cells (f->doc, 1)), ==, 3);
  g_assert_nonnull (ss_case_document_find_cell (f->doc, ((SsCell *) analysed->pdata[2])->id));
  g_assert_cmpuint (g_list_model_get_n_items (field), ==, 16);

  /* the person's selection is where it was */
  g_assert_true (ss_viewer_state_get_current (state) == selected);
  g_assert_true (item_at (f, 3) == selected);
}

/* Learning's gathering of the reviewed cells (issue 30) tells its progress field by
 * field and hears Cancel between two fields: a store of many fields is read for a long
 * while, and the window's dialog shows how far it is and stops when asked. */
typedef struct {
  GArray       *read;        /* guint: fields_read of each call */
  guint         n_fields;
  GCancellable *cancel_at_first;
} GatherCalls;

static void
on_field_read (guint fields_read, guint n_fields, gpointer data)
{
  GatherCalls *calls = data;
  g_array_append_val (calls->read, fields_read);
  calls->n_fields = n_fields;
  if (calls->cancel_at_first != NULL)
    g_cancellable_cancel (calls->cancel_at_first);
}

static void
test_learn_gather_progress (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* two more fields, the same picture (a case may take it again through this call) */
  for (int k = 0; k < 2; k++)
    {
      g_autoptr (GPtrArray) cells = store_test_cells (2);
      g_autofree char *sha = ss_file_sha256 (f->image_path, &error);
      g_assert_no_error (error);
      SsImageInfo info = { .path = f->image_path, .sha256 = sha, .width = 640, .height = 480,
                           .model_name = "test", .model_version = "SSM1",
                           .model_checksum = TEST_SHA256 };
      g_assert_cmpint (ss_store_add_image (f->store, "A1", &info, cells, &error), >, 0);
      g_assert_no_error (error);
    }
  /* two cells of the first field confirmed: what teaches */
  SsCellItem *items[2] = { item_at (f, 0), item_at (f, 1) };
  g_assert_true (ss_case_document_confirm (f->doc, items, 2, &error));
  g_assert_no_error (error);

  SsModelSpec spec = { .arch = SS_ARCH_RESNET18, .in_c = 3, .in_h = 32, .in_w = 32,
                       .width = 16, .n_classes = SS_N_CLASSES };
  for (int c = 0; c < SS_N_CLASSES; c++)
    g_strlcpy (spec.class_names[c], ss_class_name (c), SS_NAME_LEN);

  GatherCalls calls = { g_array_new (FALSE, FALSE, sizeof (guint)) };
  g_autoptr (SsLearnCells) taught = ss_learn_cells_gather (f->store, NULL, &spec,
                                                           SS_DEFAULT_MAX_PIXELS, NULL,
                                                           on_field_read, &calls, &error);
  g_assert_no_error (error);
  g_assert_nonnull (taught);
  g_assert_cmpint (taught->cells->n, ==, 2);
  g_assert_cmpuint (calls.read->len, ==, 3);
  g_assert_cmpuint (calls.n_fields, ==, 3);
  for (guint i = 0; i < calls.read->len; i++)
    g_assert_cmpuint (g_array_index (calls.read, guint, i), ==, i + 1);

  /* cancelled after the first field: nothing more is read, and it says why */
  g_array_set_size (calls.read, 0);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  calls.cancel_at_first = cancellable;
  SsLearnCells *cancelled = ss_learn_cells_gather (f->store, NULL, &spec, SS_DEFAULT_MAX_PIXELS,
                                                   cancellable, on_field_read, &calls, &error);
  g_assert_null (cancelled);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (calls.read->len, ==, 1);
  g_array_free (calls.read, TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add (name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/document/open", test_open);
  ADD ("/document/truth", test_truth);
  ADD ("/document/queue", test_queue);
  ADD ("/document/relabel-undo-redo", test_relabel_undo_redo);
  ADD ("/document/confirm-and-group", test_confirm_and_group);
  ADD ("/document/delete-and-add", test_delete_and_add);
  ADD ("/document/crop-in-background", test_crop_in_background);
  ADD ("/document/sign-reopen", test_sign_reopen);
  ADD ("/document/reopen-from-store", test_reopen_from_store);
  ADD ("/document/update-details", test_update_details);
  ADD ("/document/two-stations", test_two_stations);
  ADD ("/document/other-station", test_other_station);
  ADD ("/learn/gather-progress", test_learn_gather_progress);
  g_test_add_func ("/viewer-state/zoom-and-selection", test_viewer_state);
  return g_test_run ();
}
