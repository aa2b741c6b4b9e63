/* The case store API: cases, images and cells, corrections and their audit chain,
 * counts, sign-off, backup, and the files it must refuse with a clear message. */
#include "store-test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct {
  char      *dir;
  char      *path;
  SsStore   *store;
  GPtrArray *cells;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = store_test_dir ();
  f->path = g_build_filename (f->dir, "cases.db", NULL);
  f->store = store_test_populated (f->dir, "cases.db", "A-1", 40, &f->cells);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->store);
  g_clear_pointer (&f->cells, g_ptr_array_unref);
  store_test_remove_dir (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

static gint64
cell_id (Fixture *f, guint i)
{
  return ((SsCell *) g_ptr_array_index (f->cells, i))->id;
}

static void
assert_check_ok (SsStore *store)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = ss_store_check (store, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GStatBuf st;
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_assert_cmpint (g_stat (wal, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  g_autoptr (SsCase) c = ss_store_get_case (f->store, "A-1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->patient_ref, ==, "P-1");
  g_assert_cmpint (c->status, ==, SS_CASE_OPEN);
  g_assert_cmpint (c->n_images, ==, 1);
  g_assert_cmpint (c->n_cells, ==, 40);

  g_autoptr (SsCase) again = ss_store_create_case (f->store, "A-1", NULL, NULL, NULL, NULL, &error);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS);
  g_assert_null (again);
  g_clear_error (&error);
  g_assert_null (ss_store_create_case (f->store, "has space", NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);

  g_autoptr (GPtrArray) images = ss_store_list_images (f->store, "A-1", TRUE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 1);
  SsImageRecord *image = g_ptr_array_index (images, 0);
  g_assert_cmpstr (image->sha256, ==, TEST_SHA256);
  g_assert_cmpstr (image->model_name, ==, "mscnn-wbc");
  g_assert_cmpuint (image->cells->len, ==, 40);
  for (guint i = 0; i < 40; i++)
    {
      SsCell *stored = g_ptr_array_index (image->cells, i), *given = g_ptr_array_index (f->cells, i);
      g_assert_cmpint (stored->id, ==, given->id);
      g_assert_cmpint (stored->box.x, ==, given->box.x);
      g_assert_cmpint (stored->current_class, ==, given->predicted_class);
      g_assert_cmpfloat (stored->confidence, ==, given->confidence);
      g_assert_cmpmem (stored->probabilities, sizeof stored->probabilities, given->probabilities,
                       sizeof given->probabilities);
      g_assert_cmpint (stored->mask.n_runs, ==, given->mask.n_runs);
      g_assert_cmpmem (stored->mask.runs, stored->mask.n_runs * 4, given->mask.runs, given->mask.n_runs * 4);
      g_assert_cmpuint (ss_rle_area (&stored->nucleus_mask), ==, ss_rle_area (&given->nucleus_mask));
      g_assert_false (stored->user_drawn || stored->deleted);
    }

  int counts[SS_N_CLASSES];
  g_assert_true (ss_store_case_counts (f->store, "A-1", counts, &error));
  for (int c2 = 0; c2 < SS_N_CLASSES; c2++)
    g_assert_cmpint (counts[c2], ==, 5);
  g_assert_true (ss_store_image_counts (f->store, image->id, counts, &error));
  g_assert_cmpint (counts[0], ==, 5);
  g_assert_false (ss_store_case_counts (f->store, "nope", counts, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  assert_check_ok (f->store);
}

static void
test_bad_image_stores_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cells = store_test_cells (10);
  ((SsCell *) g_ptr_array_index (cells, 7))->predicted_class = 42;
  SsImageInfo info = store_test_image_info ();
  g_assert_cmpint (ss_store_add_image (f->store, "A-1", &info, cells, &error), ==, 0);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "cell 8"));
  g_clear_error (&error);
  g_assert_cmpint (((SsCell *) g_ptr_array_index (cells, 0))->id, ==, 0);
  info.sha256 = "xyz";
  ((SsCell *) g_ptr_array_index (cells, 7))->predicted_class = 1;
  g_assert_cmpint (ss_store_add_image (f->store, "A-1", &info, cells, &error), ==, 0);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  info = store_test_image_info ();
  g_assert_cmpint (ss_store_add_image (f->store, "no-such-case", &info, cells, &error), ==, 0);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autoptr (SsCase) c = ss_store_get_case (f->store, "A-1", &error);
  g_assert_cmpint (c->n_images, ==, 1);
  g_assert_cmpint (c->n_cells, ==, 40);
}

static void
test_corrections (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 blast_cell = cell_id (f, 1);  /* predicted lymphocyte */
  gint64 k1 = ss_store_relabel_cell (f->store, "A-1", blast_cell, SS_CLASS_LYMPHOBLAST, "ann", &error);
  g_assert_no_error (error);
  g_assert_cmpint (k1, >, 0);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", blast_cell, SS_CLASS_LYMPHOBLAST, "ann",
                                          &error), ==, 0);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", blast_cell, 9, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", blast_cell, 2, "  ", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", 999999, 2, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  int counts[SS_N_CLASSES];
  ss_store_case_counts (f->store, "A-1", counts, &error);
  g_assert_cmpint (counts[SS_CLASS_LYMPHOBLAST], ==, 6);
  g_assert_cmpint (counts[SS_CLASS_LYMPHOCYTE], ==, 4);

  gint64 debris = cell_id (f, 2);
  gint64 k2 = ss_store_delete_cell (f->store, "A-1", debris, "bob", &error);
  g_assert_cmpint (k2, >, k1);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", debris, 3, "bob", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  ss_store_case_counts (f->store, "A-1", counts, &error);
  g_assert_cmpint (counts[SS_CLASS_NEUTROPHIL], ==, 4);
  gint64 k3 = ss_store_undo (f->store, "A-1", k2, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpint (k3, >, k2);
  ss_store_case_counts (f->store, "A-1", counts, &error);
  g_assert_cmpint (counts[SS_CLASS_NEUTROPHIL], ==, 5);

  /* Undo of a relabel that a later correction has overtaken is refused. */
  gint64 k4 = ss_store_relabel_cell (f->store, "A-1", blast_cell, SS_CLASS_MONOCYTE, "cy", &error);
  g_assert_cmpint (ss_store_undo (f->store, "A-1", k1, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  gint64 k5 = ss_store_undo (f->store, "A-1", k4, "cy", &error);
  g_assert_no_error (error);
  g_autoptr (SsCell) cell = ss_store_get_cell (f->store, blast_cell, &error);
  g_assert_cmpint (cell->current_class, ==, SS_CLASS_LYMPHOBLAST);

  /* A cell a person drew, then its undo (a delete). */
  g_autoptr (GPtrArray) images = ss_store_list_images (f->store, "A-1", FALSE, &error);
  gint64 image_id = ((SsImageRecord *) g_ptr_array_index (images, 0))->id;
  g_autoptr (GPtrArray) extra = store_test_cells (1);
  SsCell *drawn = g_ptr_array_index (extra, 0);
  drawn->current_class = SS_CLASS_BASOPHIL;
  gint64 k6 = ss_store_add_cell (f->store, "A-1", image_id, drawn, "dee", &error);
  g_assert_no_error (error);
  g_assert_cmpint (drawn->id, >, 0);
  g_assert_true (drawn->user_drawn);
  ss_store_case_counts (f->store, "A-1", counts, &error);
  g_assert_cmpint (counts[SS_CLASS_BASOPHIL], ==, 6);
  g_assert_cmpint (ss_store_undo (f->store, "A-1", k6, "dee", &error), >, k6);
  ss_store_case_counts (f->store, "A-1", counts, &error);
  g_assert_cmpint (counts[SS_CLASS_BASOPHIL], ==, 5);

  /* Another case's cell is not this case's. */
  g_autoptr (SsCase) other = ss_store_create_case (f->store, "B-2", NULL, NULL, NULL, NULL, &error);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "B-2", blast_cell, 2, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autoptr (GPtrArray) history = ss_store_list_corrections (f->store, "A-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->len, ==, 7);
  SsCorrection *last = g_ptr_array_index (history, 6);
  g_assert_cmpint (last->kind, ==, SS_CORRECTION_DELETE);
  g_assert_cmpint (last->undoes, ==, k6);
  g_assert_cmpint (((SsCorrection *) g_ptr_array_index (history, 4))->id, ==, k5);
  g_assert_cmpstr (((SsCorrection *) g_ptr_array_index (history, 0))->user, ==, "ann");

  g_autofree char *head = NULL;
  gint64 n = 0;
  g_assert_true (ss_store_check (f->store, &head, &n, &error));
  g_assert_cmpint (n, ==, 7);
  g_assert_cmpstr (head, ==, last->hash);
}

static void
test_signoff (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_store_mark_reviewed (f->store, "A-1", &error));
  g_assert_false (ss_store_sign_case (f->store, "A-1", "", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (ss_store_sign_case (f->store, "A-1", "dr. hem", &error));
  g_autoptr (SsCase) c = ss_store_get_case (f->store, "A-1", &error);
  g_assert_cmpint (c->status, ==, SS_CASE_SIGNED);
  g_assert_cmpstr (c->signed_by, ==, "dr. hem");
  g_assert_nonnull (c->signed_at);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", cell_id (f, 0), 3, "x", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_assert_nonnull (strstr (error->message, "dr. hem"));
  g_clear_error (&error);
  g_autoptr (GPtrArray) cells = store_test_cells (2);
  SsImageInfo info = store_test_image_info ();
  g_assert_cmpint (ss_store_add_image (f->store, "A-1", &info, cells, &error), ==, 0);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_clear_error (&error);
  g_assert_false (ss_store_sign_case (f->store, "A-1", "other", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_clear_error (&error);
  g_assert_false (ss_store_delete_case (f->store, "A-1", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
}

static void
test_case_edit_delete (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (ss_store_update_case (f->store, "A-1", NULL, NULL, "MGG", "re-stained", &error));
  g_autoptr (SsCase) c = ss_store_get_case (f->store, "A-1", &error);
  g_assert_cmpstr (c->stain, ==, "MGG");
  g_assert_cmpstr (c->patient_ref, ==, "P-1");
  g_assert_false (ss_store_delete_case (f->store, "A-1", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_autoptr (SsCase) empty = ss_store_create_case (f->store, "EMPTY", NULL, NULL, NULL, NULL, &error);
  g_assert_true (ss_store_delete_case (f->store, "EMPTY", &error));
  g_autoptr (GPtrArray) cases = ss_store_list_cases (f->store, &error);
  g_assert_cmpuint (cases->len, ==, 1);
}

/* The triggers refuse; with them dropped, db check still sees the edit. */
static void
test_tamper (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 k1 = ss_store_relabel_cell (f->store, "A-1", cell_id (f, 3), 0, "ann", &error);
  gint64 k2 = ss_store_relabel_cell (f->store, "A-1", cell_id (f, 4), 0, "ann", &error);
  ss_store_relabel_cell (f->store, "A-1", cell_id (f, 5), 0, "ann", &error);
  g_assert_no_error (error);
  g_clear_object (&f->store);

  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE corrections SET user = 'mallory'", NULL, NULL, NULL),
                   ==, SQLITE_CONSTRAINT);
  g_assert_cmpint (sqlite3_exec (db, "DELETE FROM corrections", NULL, NULL, NULL), ==, SQLITE_CONSTRAINT);
  sqlite3_close (db);

  /* Dropping a trigger alone is reported. */
  if (!store_test_sqlite3 (f->path, "DROP TRIGGER corrections_no_update;"))
    return;
  f->store = ss_store_open (f->path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_false (ss_store_check (f->store, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
  g_assert_nonnull (strstr (error->message, "corrections_no_update"));
  g_clear_error (&error);
  g_clear_object (&f->store);

  /* An edited row, trigger put back: the chain names the row. */
  g_autofree char *sql = g_strdup_printf (
    "UPDATE corrections SET new_class = 1 WHERE id = %" G_GINT64_FORMAT ";"
    "CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections"
    "  BEGIN SELECT RAISE (ABORT, 'corrections are append-only: rows cannot be changed'); END;", k2);
  store_test_sqlite3 (f->path, sql);
  f->store = ss_store_open (f->path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_false (ss_store_check (f->store, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
  g_autofree char *expected = g_strdup_printf ("corrections row %" G_GINT64_FORMAT " ", k2);
  g_assert_nonnull (strstr (error->message, expected));
  g_clear_error (&error);
  g_clear_object (&f->store);

  /* A cell changed behind the audit trail's back. */
  store_test_sqlite3 (f->path, "DROP TRIGGER corrections_no_update;");
  g_autofree char *restore = g_strdup_printf (
    "UPDATE corrections SET new_class = 0 WHERE id = %" G_GINT64_FORMAT ";"
    "UPDATE cells SET current_class = 6 WHERE id = %" G_GINT64_FORMAT ";"
    "CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections"
    "  BEGIN SELECT RAISE (ABORT, 'corrections are append-only: rows cannot be changed'); END;",
    k2, cell_id (f, 7));
  store_test_sqlite3 (f->path, restore);
  f->store = ss_store_open (f->path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_false (ss_store_check (f->store, NULL, NULL, &error));
  g_autofree char *cell_row = g_strdup_printf ("cells row %" G_GINT64_FORMAT " ", cell_id (f, 7));
  g_assert_nonnull (strstr (error->message, cell_row));
  g_clear_error (&error);
  g_clear_object (&f->store);

  /* A row removed from the middle of the chain. */
  g_autofree char *removal = g_strdup_printf (
    "UPDATE cells SET current_class = 7 WHERE id = %" G_GINT64_FORMAT ";"
    "DROP TRIGGER corrections_no_delete;"
    "DELETE FROM corrections WHERE id = %" G_GINT64_FORMAT ";", cell_id (f, 7), k1);
  store_test_sqlite3 (f->path, removal);
  f->store = ss_store_open (f->path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_false (ss_store_check (f->store, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
}

static void
test_backup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  ss_store_relabel_cell (f->store, "A-1", cell_id (f, 1), 0, "ann", &error);
  g_autofree char *copy = g_build_filename (f->dir, "copy.db", NULL);
  g_assert_true (ss_store_backup (f->store, copy, &error));
  g_assert_no_error (error);
  GStatBuf st;
  g_assert_cmpint (g_stat (copy, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_false (ss_store_backup (f->store, f->path, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (ss_store_backup (f->store, "/nonexistent-folder/x.db", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_autoptr (SsStore) restored = ss_store_open (copy, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  assert_check_ok (restored);
  int counts[SS_N_CLASSES];
  g_assert_true (ss_store_case_counts (restored, "A-1", counts, &error));
  g_assert_cmpint (counts[0], ==, 6);
}

/* Files that are not what they should be ---------------------------------------------- */

static void
assert_open_fails (const char *path, SsStoreOpenFlags flags, int code, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (path, flags, &error);
  g_assert_null (store);
  g_assert_error (error, SS_STORE_ERROR, code);
  if (g_test_verbose ())
    g_printerr ("%s\n", error->message);
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_bad_files (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autofree char *missing = g_build_filename (dir, "missing.db", NULL);
  assert_open_fails (missing, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_NO_STORE, "no case store");
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));

  g_autofree char *text = g_build_filename (dir, "notes.txt", NULL);
  g_file_set_contents (text, "Patient list, not a database\n", -1, NULL);
  assert_open_fails (text, SS_STORE_OPEN_CREATE, SS_STORE_ERROR_NOT_A_STORE, "not a SQLite database");
  g_autofree char *content = NULL;
  g_file_get_contents (text, &content, NULL, NULL);
  g_assert_cmpstr (content, ==, "Patient list, not a database\n");

  g_autofree char *empty = g_build_filename (dir, "empty.db", NULL);
  g_file_set_contents (empty, "", 0, NULL);
  assert_open_fails (empty, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_NOT_A_STORE, "empty");

  g_autofree char *foreign = g_build_filename (dir, "foreign.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_open (foreign, &db);
  sqlite3_exec (db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)", NULL, NULL, NULL);
  sqlite3_close (db);
  assert_open_fails (foreign, SS_STORE_OPEN_CREATE, SS_STORE_ERROR_NOT_A_STORE, "not a Smearscope case store");

  /* A store from a newer Smearscope. */
  g_autoptr (SsStore) store = store_test_populated (dir, "newer.db", "N-1", 5, NULL);
  g_clear_object (&store);
  g_autofree char *newer = g_build_filename (dir, "newer.db", NULL);
  sqlite3_open (newer, &db);
  sqlite3_exec (db, "PRAGMA user_version = 99", NULL, NULL, NULL);
  sqlite3_close (db);
  assert_open_fails (newer, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_NEWER_SCHEMA, "newer Smearscope");
  assert_open_fails (newer, SS_STORE_OPEN_READ_ONLY, SS_STORE_ERROR_NEWER_SCHEMA, "schema version 99");

  /* A truncated store: a copy cut short, as a failed transfer leaves it. */
  store = store_test_populated (dir, "whole.db", "T-1", 3000, NULL);
  g_clear_object (&store);
  g_autofree char *whole = g_build_filename (dir, "whole.db", NULL);
  g_autofree char *bytes = NULL;
  gsize size = 0;
  g_assert_true (g_file_get_contents (whole, &bytes, &size, NULL));
  g_assert_cmpuint (size, >, 64 * 1024);
  g_autofree char *cut = g_build_filename (dir, "cut.db", NULL);
  g_file_set_contents (cut, bytes, size / 2 + 100, NULL);
  assert_open_fails (cut, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_CORRUPT, "truncated");
  g_file_set_contents (cut, bytes, 60, NULL);
  assert_open_fails (cut, SS_STORE_OPEN_READ_ONLY, SS_STORE_ERROR_CORRUPT, "truncated");

  /* Damage inside a page of the right size: the check finds it. */
  memset (bytes + size / 2, 0x5a, 4096);
  g_autofree char *scribbled = g_build_filename (dir, "scribbled.db", NULL);
  g_file_set_contents (scribbled, bytes, size, NULL);
  g_autoptr (GError) error = NULL;
  store = ss_store_open (scribbled, SS_STORE_OPEN_READ_ONLY, &error);
  if (store != NULL)
    {
      g_assert_false (ss_store_check (store, NULL, NULL, &error));
      g_assert_nonnull (error);
      g_clear_object (&store);
    }
  store_test_remove_dir (dir);
}

/* Run fn in a child process (as nobody when run as root, so permissions bite), and
 * assert it exits 0. */
static void
run_as_user (void (*fn) (const char *), const char *arg)
{
  pid_t pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      if (geteuid () == 0 && (setgid (65534) != 0 || setuid (65534) != 0))
        _exit (3);
      fn (arg);
      _exit (0);
    }
  int status = 0;
  waitpid (pid, &status, 0);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

static void
child_read_only (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
  if (store != NULL || !g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY))
    _exit (10);
  if (strstr (error->message, "cannot be written") == NULL)
    _exit (11);
  g_clear_error (&error);
  store = ss_store_open (path, SS_STORE_OPEN_READ_ONLY, &error);
  if (store == NULL)
    {
      g_printerr ("read-only open: %s\n", error->message);
      _exit (12);
    }
  int counts[SS_N_CLASSES];
  if (!ss_store_case_counts (store, "R-1", counts, &error) || counts[0] != 2)
    _exit (13);
  if (ss_store_relabel_cell (store, "R-1", 1, 3, "x", &error) != -1
      || !g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY))
    _exit (14);
}

static void
test_read_only (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autoptr (SsStore) store = store_test_populated (dir, "ro.db", "R-1", 16, NULL);
  g_clear_object (&store);
  g_autofree char *path = g_build_filename (dir, "ro.db", NULL);
  g_chmod (dir, 0555);
  g_chmod (path, 0444);
  run_as_user (child_read_only, path);
  g_chmod (dir, 0700);
  store_test_remove_dir (dir);
}

static void
test_locked (void)
{
  g_autofree char *dir = store_test_dir ();
  GPtrArray *cells = NULL;
  g_autoptr (SsStore) store = store_test_populated (dir, "locked.db", "L-1", 8, &cells);
  g_autofree char *path = g_build_filename (dir, "locked.db", NULL);
  sqlite3 *other = NULL;
  g_assert_cmpint (sqlite3_open (path, &other), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (other, "BEGIN EXCLUSIVE", NULL, NULL, NULL), ==, SQLITE_OK);

  g_autoptr (GError) error = NULL;
  gint64 id = ((SsCell *) g_ptr_array_index (cells, 1))->id;
  ss_store_set_busy_timeout (store, 300);
  gint64 start = g_get_monotonic_time ();
  g_assert_cmpint (ss_store_relabel_cell (store, "L-1", id, 0, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "locked"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250000);
  g_clear_error (&error);
  /* Reading goes on meanwhile (WAL). */
  int counts[SS_N_CLASSES];
  g_assert_true (ss_store_case_counts (store, "L-1", counts, &error));

  sqlite3_exec (other, "COMMIT", NULL, NULL, NULL);
  sqlite3_close (other);
  g_assert_cmpint (ss_store_relabel_cell (store, "L-1", id, 0, "ann", &error), >, 0);
  g_assert_no_error (error);
  g_ptr_array_unref (cells);
  g_clear_object (&store);
  store_test_remove_dir (dir);
}

/* Full disk --------------------------------------------------------------------------- */

static void
fill_and_insert (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = store_test_populated (dir, "full.db", "F-1", 10, NULL);
  /* 30,000 cells need a few MB: more than the disk has left. */
  g_autoptr (GPtrArray) cells = store_test_cells (30000);
  SsImageInfo info = store_test_image_info ();
  info.path = "fields/f2.png";
  if (ss_store_add_image (store, "F-1", &info, cells, &error) != 0)
    _exit (20);
  if (!g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_FULL)
      && !g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_IO))
    _exit (21);
  if (g_test_verbose ())
    g_printerr ("full disk: %s\n", error->message);
  g_clear_error (&error);
  /* No partial image: the case has its first image only, and all checks pass. */
  g_autoptr (SsCase) c = ss_store_get_case (store, "F-1", &error);
  if (c == NULL || c->n_images != 1 || c->n_cells != 10)
    _exit (22);
  if (!ss_store_check (store, NULL, NULL, &error))
    _exit (23);
}

static void
child_full_rlimit (const char *dir)
{
  /* A write past the limit fails (EFBIG) instead of killing the process. */
  struct rlimit limit = { 1 << 20, 1 << 20 };
  signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &limit);
  fill_and_insert (dir);
}

static void
test_full_disk (void)
{
  g_autofree char *dir = store_test_dir ();
  /* A real full disk when this runs as root and may mount: a 1 MB tmpfs. */
  if (geteuid () == 0 && mount ("smearscope-test", dir, "tmpfs", 0, "size=1m,mode=0700") == 0)
    {
      pid_t pid = fork ();
      if (pid == 0)
        {
          fill_and_insert (dir);
          _exit (0);
        }
      int status = 0;
      waitpid (pid, &status, 0);
      /* Once space is back, the store works on. */
      g_autofree char *path = g_build_filename (dir, "full.db", NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_READ_ONLY, &error);
      g_assert_no_error (error);
      assert_check_ok (store);
      g_clear_object (&store);

      /* Fill the disk to the last byte: a new store is refused and leaves no file. */
      g_autofree char *filler = g_build_filename (dir, "filler", NULL);
      int fd = open (filler, O_WRONLY | O_CREAT, 0600);
      static const char block[4096];
      while (write (fd, block, sizeof block) > 0)
        ;
      while (write (fd, block, 1) > 0)
        ;
      close (fd);
      g_autofree char *fresh = g_build_filename (dir, "fresh.db", NULL);
      store = ss_store_open (fresh, SS_STORE_OPEN_CREATE, &error);
      g_assert_null (store);
      g_assert_nonnull (error);
      if (g_test_verbose ())
        g_printerr ("new store on a full disk: %s\n", error->message);
      g_assert_true (g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_FULL)
                     || g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_IO));
      g_clear_error (&error);
      g_assert_false (g_file_test (fresh, G_FILE_TEST_EXISTS));
      /* The old store still reads on a disk with no byte left. */
      store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
      g_assert_no_error (error);
      assert_check_ok (store);
      g_unlink (filler);
      g_clear_object (&store);
      umount (dir);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
  else
    {
      g_test_message ("cannot mount a tmpfs here: simulating the full disk with RLIMIT_FSIZE");
      pid_t pid = fork ();
      if (pid == 0)
        {
          child_full_rlimit (dir);
          _exit (0);
        }
      int status = 0;
      waitpid (pid, &status, 0);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }
  store_test_remove_dir (dir);
}

static void
test_full_disk_rlimit (void)
{
  g_autofree char *dir = store_test_dir ();
  pid_t pid = fork ();
  if (pid == 0)
    {
      child_full_rlimit (dir);
      _exit (0);
    }
  int status = 0;
  waitpid (pid, &status, 0);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  store_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/store/" name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("round-trip", test_round_trip);
  ADD ("bad-image-stores-nothing", test_bad_image_stores_nothing);
  ADD ("corrections", test_corrections);
  ADD ("signoff", test_signoff);
  ADD ("case-edit-delete", test_case_edit_delete);
  ADD ("tamper", test_tamper);
  ADD ("backup", test_backup);
  g_test_add_func ("/store/bad-files", test_bad_files);
  g_test_add_func ("/store/read-only", test_read_only);
  g_test_add_func ("/store/locked", test_locked);
  g_test_add_func ("/store/full-disk", test_full_disk);
  g_test_add_func ("/store/full-disk-rlimit", test_full_disk_rlimit);
  return g_test_run ();
}
