/* The case store API: cases, images and cells, corrections and their audit chain,
 * counts, sign-off, backup, and the files it must refuse with a clear message. */
#include "store-test-util.h"
#include "ss-store-private.h"

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
  f->store = store_test_populated (f->dir, "cases.db", "A-1", 40, &f->cells);
  f->path = g_strdup (ss_store_get_path (f->store));
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

/* Run sql on the store at location behind the API's back, as a person with the sqlite3
 * shell or psql would: TRUE when the engine accepted it. */
static gboolean
store_sql (const char *location, const char *sql)
{
  if (store_test_pg () != NULL)
    return store_test_pg_exec (location, sql, NULL);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (location, &db), ==, SQLITE_OK);
  gboolean ok = sqlite3_exec (db, sql, NULL, NULL, NULL) == SQLITE_OK;
  sqlite3_close (db);
  return ok;
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
  if (store_test_pg () == NULL)
    {
      GStatBuf st;
      g_assert_cmpint (g_stat (f->path, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
      g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
      g_assert_cmpint (g_stat (wal, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    }

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
  g_assert_cmpfloat (image->cell_diameter, ==, 191.8);
  g_assert_cmpstr (image->scale_source, ==, "red-cells");
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
      g_assert_cmpfloat (stored->morphometrics.nucleus_solidity, ==,
                         given->morphometrics.nucleus_solidity);
      g_assert_cmpuint (stored->doubt, ==, given->doubt);
      /* a doubted call is unsure whatever its confidence */
      g_assert_true (ss_cell_is_unsure (stored, 0.0) == (given->doubt != SS_DOUBT_NONE));
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
  /* the same picture analysed into the case again: refused, its cells not counted twice
   * (the case already has TEST_SHA256 as field 1; the check ignores case and name) */
  info.once_per_case = TRUE;
  info.path = "elsewhere/renamed.png";
  g_autofree char *upper = g_ascii_strup (TEST_SHA256, -1);
  info.sha256 = upper;
  g_assert_cmpint (ss_store_add_image (f->store, "A-1", &info, cells, &error), ==, 0);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "already field 1 of case A-1 (f1.png)"));
  g_clear_error (&error);
  g_assert_cmpint (((SsCell *) g_ptr_array_index (cells, 0))->id, ==, 0);
  g_autoptr (SsCase) c = ss_store_get_case (f->store, "A-1", &error);
  g_assert_cmpint (c->n_images, ==, 1);
  g_assert_cmpint (c->n_cells, ==, 40);
  /* another case may hold it (a second look at the same slide is a case of its own) */
  g_autoptr (SsCase) other = ss_store_create_case (f->store, "A-2", NULL, NULL, NULL, NULL,
                                                   &error);
  g_assert_no_error (error);
  g_assert_cmpint (ss_store_add_image (f->store, "A-2", &info, cells, &error), >, 0);
  g_assert_no_error (error);
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

/* Cells 3, 4 and 5 relabelled as lymphoblasts: the rows the tamper tests edit. */
static void
relabel_three (Fixture *f, gint64 *first, gint64 *second)
{
  g_autoptr (GError) error = NULL;
  *first = ss_store_relabel_cell (f->store, "A-1", cell_id (f, 3), 0, "ann", &error);
  *second = ss_store_relabel_cell (f->store, "A-1", cell_id (f, 4), 0, "ann", &error);
  ss_store_relabel_cell (f->store, "A-1", cell_id (f, 5), 0, "ann", &error);
  g_assert_no_error (error);
}

/* The triggers refuse; with them dropped, db check still sees the edit. */
static void
test_tamper (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 k1 = 0, k2 = 0;
  relabel_three (f, &k1, &k2);
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

/* Review: confirm, the reviewed flag, reopening ----------------------------------------- */

static gboolean
stored_reviewed (Fixture *f, gint64 id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsCell) cell = ss_store_get_cell (f->store, id, &error);
  g_assert_no_error (error);
  return cell->reviewed;
}

/* Every cell of the case's one image, as list_images sees it, must carry the same flag
 * as get_cell gives it, and as expected (NULL: none reviewed). */
static void
assert_reviewed_cells (SsStore *store, const char *accession, GHashTable *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) images = ss_store_list_images (store, accession, TRUE, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < images->len; i++)
    {
      GPtrArray *cells = ((SsImageRecord *) g_ptr_array_index (images, i))->cells;
      for (guint j = 0; j < cells->len; j++)
        {
          SsCell *cell = g_ptr_array_index (cells, j);
          g_autoptr (SsCell) alone = ss_store_get_cell (store, cell->id, &error);
          g_assert_no_error (error);
          gboolean want = expected != NULL && g_hash_table_contains (expected, &cell->id);
          if (cell->reviewed != want || alone->reviewed != want)
            g_error ("cell %" G_GINT64_FORMAT ": listed reviewed=%d, alone %d, expected %d",
                     cell->id, cell->reviewed, alone->reviewed, want);
        }
    }
}

static void
test_confirm (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 monocyte = cell_id (f, 3);
  g_assert_false (stored_reviewed (f, monocyte));
  int before[SS_N_CLASSES], after[SS_N_CLASSES];
  ss_store_case_counts (f->store, "A-1", before, &error);

  gint64 k1 = ss_store_confirm_cell (f->store, "A-1", monocyte, "ann", &error);
  g_assert_no_error (error);
  g_assert_cmpint (k1, >, 0);
  g_autoptr (SsCell) cell = ss_store_get_cell (f->store, monocyte, &error);
  g_assert_cmpint (cell->current_class, ==, SS_CLASS_MONOCYTE);
  g_assert_true (cell->reviewed);
  g_autoptr (SsCell) copy = ss_cell_copy (cell);
  g_assert_true (copy->reviewed);
  ss_store_case_counts (f->store, "A-1", after, &error);
  g_assert_cmpmem (before, sizeof before, after, sizeof after);

  /* A second confirm is a second row: another person's agreement is kept. */
  gint64 k2 = ss_store_confirm_cell (f->store, "A-1", monocyte, "bob", &error);
  g_assert_cmpint (k2, >, k1);
  /* Undoing it leaves the first standing; the first can no longer be undone. */
  gint64 k3 = ss_store_undo (f->store, "A-1", k2, "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpint (k3, >, k2);
  g_assert_true (stored_reviewed (f, monocyte));
  g_assert_cmpint (ss_store_undo (f->store, "A-1", k1, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);

  /* Confirm, undo: as the model called it again; undo the undo: confirmed again. */
  gint64 eosinophil = cell_id (f, 4);
  gint64 k4 = ss_store_confirm_cell (f->store, "A-1", eosinophil, "ann", &error);
  g_assert_true (stored_reviewed (f, eosinophil));
  gint64 k5 = ss_store_undo (f->store, "A-1", k4, "ann", &error);
  g_assert_no_error (error);
  g_assert_false (stored_reviewed (f, eosinophil));
  gint64 k6 = ss_store_undo (f->store, "A-1", k5, "ann", &error);
  g_assert_no_error (error);
  g_assert_true (stored_reviewed (f, eosinophil));

  g_autoptr (GPtrArray) history = ss_store_list_corrections (f->store, "A-1", &error);
  g_assert_cmpuint (history->len, ==, 6);
  for (guint i = 0; i < history->len; i++)
    {
      SsCorrection *k = g_ptr_array_index (history, i);
      g_assert_cmpint (k->kind, ==, SS_CORRECTION_CONFIRM);
      g_assert_cmpint (k->old_class, ==, k->new_class);
    }
  g_assert_cmpstr (ss_correction_kind_name (SS_CORRECTION_CONFIRM), ==, "confirm");
  g_assert_cmpint (((SsCorrection *) g_ptr_array_index (history, 2))->undoes, ==, k2);
  g_assert_cmpint (((SsCorrection *) g_ptr_array_index (history, 5))->id, ==, k6);
  g_assert_cmpint (((SsCorrection *) g_ptr_array_index (history, 5))->undoes, ==, k5);

  /* Refusals: a deleted cell, no such cell, nobody, a signed case. */
  gint64 gone = cell_id (f, 5);
  ss_store_delete_cell (f->store, "A-1", gone, "ann", &error);
  g_assert_cmpint (ss_store_confirm_cell (f->store, "A-1", gone, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "is deleted; restore it"));
  g_clear_error (&error);
  g_assert_cmpint (ss_store_confirm_cell (f->store, "A-1", 999999, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (ss_store_confirm_cell (f->store, "A-1", monocyte, "", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  assert_check_ok (f->store);
  g_assert_true (ss_store_sign_case (f->store, "A-1", "dr. hem", &error));
  g_assert_cmpint (ss_store_confirm_cell (f->store, "A-1", monocyte, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  /* Read in a window as well as on a terminal: words, not a command line. */
  g_assert_nonnull (strstr (error->message, "reopen it first"));
  g_assert_null (strstr (error->message, "smearscope-cli"));
  g_assert_null (strstr (error->message, "--"));
  g_clear_error (&error);
  g_autoptr (GPtrArray) refused = ss_store_list_corrections (f->store, "A-1", &error);
  g_assert_cmpuint (refused->len, ==, 7);
  assert_check_ok (f->store);
}

static gint64 *
int64_key (gint64 value)
{
  return g_memdup2 (&value, sizeof value);
}

static void
test_reviewed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  assert_reviewed_cells (f->store, "A-1", NULL);
  g_autoptr (GHashTable) none = ss_store_taught_per_case (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (none), ==, 0);

  /* relabel: reviewed; its undo: as the model called it. */
  gint64 a = cell_id (f, 1);
  gint64 k = ss_store_relabel_cell (f->store, "A-1", a, SS_CLASS_LYMPHOBLAST, "ann", &error);
  g_assert_true (stored_reviewed (f, a));
  ss_store_undo (f->store, "A-1", k, "ann", &error);
  g_assert_no_error (error);
  g_assert_false (stored_reviewed (f, a));

  /* Two relabels, the second undone: the first stands. */
  gint64 b = cell_id (f, 2);
  ss_store_relabel_cell (f->store, "A-1", b, SS_CLASS_MONOCYTE, "ann", &error);
  k = ss_store_relabel_cell (f->store, "A-1", b, SS_CLASS_OTHER, "bob", &error);
  ss_store_undo (f->store, "A-1", k, "bob", &error);
  g_assert_no_error (error);
  g_hash_table_add (expected, int64_key (b));

  /* delete: a person's call too; its undo: back to the model's. */
  gint64 c = cell_id (f, 7);
  k = ss_store_delete_cell (f->store, "A-1", c, "ann", &error);
  g_assert_true (stored_reviewed (f, c));
  ss_store_undo (f->store, "A-1", k, "ann", &error);
  g_assert_false (stored_reviewed (f, c));

  /* delete, then restore (not an undo): reviewed. */
  gint64 d = cell_id (f, 15);
  ss_store_delete_cell (f->store, "A-1", d, "ann", &error);
  ss_store_restore_cell (f->store, "A-1", d, "cy", &error);
  g_assert_no_error (error);
  g_hash_table_add (expected, int64_key (d));

  /* An undone undo puts the relabel back, and the review with it. */
  gint64 e = cell_id (f, 9);
  k = ss_store_relabel_cell (f->store, "A-1", e, SS_CLASS_LYMPHOBLAST, "ann", &error);
  k = ss_store_undo (f->store, "A-1", k, "ann", &error);
  ss_store_undo (f->store, "A-1", k, "ann", &error);
  g_assert_no_error (error);
  g_hash_table_add (expected, int64_key (e));

  /* A drawn cell is reviewed from the start; undoing its add takes that back. */
  g_autoptr (GPtrArray) images = ss_store_list_images (f->store, "A-1", FALSE, &error);
  gint64 image_id = ((SsImageRecord *) g_ptr_array_index (images, 0))->id;
  g_autoptr (GPtrArray) extra = store_test_cells (2);
  SsCell *drawn = g_ptr_array_index (extra, 0), *drawn_undone = g_ptr_array_index (extra, 1);
  drawn->current_class = SS_CLASS_BASOPHIL;
  ss_store_add_cell (f->store, "A-1", image_id, drawn, "dee", &error);
  g_assert_no_error (error);
  g_assert_true (drawn->reviewed);
  g_hash_table_add (expected, int64_key (drawn->id));
  k = ss_store_add_cell (f->store, "A-1", image_id, drawn_undone, "dee", &error);
  ss_store_undo (f->store, "A-1", k, "dee", &error);
  g_assert_no_error (error);
  g_assert_false (stored_reviewed (f, drawn_undone->id));

  /* A confirm over a relabel, undone: the relabel still stands. */
  gint64 g = cell_id (f, 20);
  ss_store_relabel_cell (f->store, "A-1", g, SS_CLASS_NEUTROPHIL, "ann", &error);
  k = ss_store_confirm_cell (f->store, "A-1", g, "bob", &error);
  ss_store_undo (f->store, "A-1", k, "bob", &error);
  g_assert_no_error (error);
  g_hash_table_add (expected, int64_key (g));

  assert_reviewed_cells (f->store, "A-1", expected);
  /* the cells the case teaches, as the Improve dialog shows them: here the reviewed ones
   * (none stands deleted) */
  g_autoptr (GHashTable) per_case = ss_store_taught_per_case (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (per_case), ==, 1);
  g_assert_cmpint (GPOINTER_TO_INT (g_hash_table_lookup (per_case, "A-1")), ==,
                   g_hash_table_size (expected));
  assert_check_ok (f->store);
}

/* A case of n cells added to the store, the last of them with the doubt flags given; its
 * image's id. */
static gint64
add_case_of_doubted (Fixture *f, const char *accession, int n, guint last_doubt,
                     GPtrArray **cells)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsCase) c = ss_store_create_case (f->store, accession, NULL, NULL, NULL, NULL,
                                               &error);
  g_assert_no_error (error);
  *cells = store_test_cells (n);
  ((SsCell *) g_ptr_array_index (*cells, n - 1))->doubt = last_doubt;
  SsImageInfo info = store_test_image_info ();
  gint64 image_id = ss_store_add_image (f->store, accession, &info, *cells, &error);
  g_assert_no_error (error);
  return image_id;
}

static gint64
add_case_of (Fixture *f, const char *accession, int n, GPtrArray **cells)
{
  return add_case_of_doubted (f, accession, n, SS_DOUBT_NONE, cells);
}

/* The cells each case teaches (ss_store_taught_per_case, one query) against the rule
 * ss_learn_cells_gather applies cell by cell: a kept cell when reviewed or in a signed
 * case, a deleted one when reviewed and found by the model. */
static void
test_taught_per_case (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  /* a relabel, a confirm, a model cell deleted (teaches "no white cell"), a drawn
   * cell deleted (teaches nothing), a relabel undone (nothing) */
  ss_store_relabel_cell (f->store, "A-1", cell_id (f, 1), SS_CLASS_MONOCYTE, "ann", &error);
  ss_store_confirm_cell (f->store, "A-1", cell_id (f, 2), "ann", &error);
  ss_store_delete_cell (f->store, "A-1", cell_id (f, 3), "ann", &error);
  gint64 k = ss_store_relabel_cell (f->store, "A-1", cell_id (f, 4), SS_CLASS_BASOPHIL, "ann",
                                    &error);
  ss_store_undo (f->store, "A-1", k, "ann", &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) images = ss_store_list_images (f->store, "A-1", FALSE, &error);
  gint64 image_id = ((SsImageRecord *) g_ptr_array_index (images, 0))->id;
  g_autoptr (GPtrArray) extra = store_test_cells (1);
  SsCell *drawn = g_ptr_array_index (extra, 0);
  ss_store_add_cell (f->store, "A-1", image_id, drawn, "dee", &error);
  ss_store_delete_cell (f->store, "A-1", drawn->id, "dee", &error);
  g_assert_no_error (error);
  /* B-1: one model cell deleted, then signed: its kept cells and the deleted one, but not
   * a kept cell the analysis called not a cell by its size alone (6 cells, 5 taught) */
  g_autoptr (GPtrArray) b = NULL;
  add_case_of_doubted (f, "B-1", 6, SS_DOUBT_TOO_SMALL, &b);
  ss_store_delete_cell (f->store, "B-1", ((SsCell *) g_ptr_array_index (b, 0))->id, "ann",
                        &error);
  g_assert_true (ss_store_sign_case (f->store, "B-1", "dr. hem", &error));
  /* C-1: nothing reviewed; D-1: both cells deleted, then signed */
  g_autoptr (GPtrArray) c = NULL, d = NULL;
  add_case_of (f, "C-1", 3, &c);
  add_case_of (f, "D-1", 2, &d);
  for (guint i = 0; i < d->len; i++)
    ss_store_delete_cell (f->store, "D-1", ((SsCell *) g_ptr_array_index (d, i))->id, "ann",
                          &error);
  g_assert_true (ss_store_sign_case (f->store, "D-1", "dr. hem", &error));
  g_assert_no_error (error);

  g_autoptr (GHashTable) taught = ss_store_taught_per_case (f->store, &error);
  g_assert_no_error (error);
  const char *accessions[] = { "A-1", "B-1", "C-1", "D-1" };
  const int expected[] = { 3, 5, 0, 2 };  /* B-1: 4 kept, 1 deleted, 1 by its size */
  for (guint i = 0; i < G_N_ELEMENTS (accessions); i++)
    {
      g_autoptr (SsCase) info = ss_store_get_case (f->store, accessions[i], &error);
      g_autoptr (GPtrArray) listed = ss_store_list_images (f->store, accessions[i], TRUE,
                                                           &error);
      g_assert_no_error (error);
      int by_rule = 0;
      for (guint j = 0; j < listed->len; j++)
        {
          GPtrArray *cells = ((SsImageRecord *) g_ptr_array_index (listed, j))->cells;
          for (guint n = 0; n < cells->len; n++)
            {
              const SsCell *cell = g_ptr_array_index (cells, n);
              by_rule += cell->deleted ? cell->reviewed && !cell->user_drawn
                                       : cell->reviewed || (info->status == SS_CASE_SIGNED
                                                            && !(cell->doubt & SS_DOUBT_TOO_SMALL));
            }
        }
      int counted = GPOINTER_TO_INT (g_hash_table_lookup (taught, accessions[i]));
      if (counted != by_rule || counted != expected[i])
        g_error ("%s: counted %d, the rule %d, expected %d", accessions[i], counted, by_rule,
                 expected[i]);
      g_assert_true (g_hash_table_contains (taught, accessions[i]) == (expected[i] > 0));
    }
  g_assert_cmpuint (g_hash_table_size (taught), ==, 3);
}

static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (ss_store_reopen_case (f->store, "A-1", "dr. hem", "typo", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "not signed"));
  g_clear_error (&error);
  g_assert_false (ss_store_reopen_case (f->store, "Z-9", "dr. hem", "typo", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (ss_store_sign_case (f->store, "A-1", "dr. hem", &error));
  g_autoptr (SsCase) signed_case = ss_store_get_case (f->store, "A-1", &error);
  g_autoptr (GPtrArray) events = ss_store_list_case_events (f->store, "A-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 1);
  SsCaseEvent *event = g_ptr_array_index (events, 0);
  g_assert_cmpint (event->kind, ==, SS_CASE_EVENT_SIGNED);
  g_assert_cmpstr (event->user, ==, "dr. hem");
  g_assert_cmpstr (event->at, ==, signed_case->signed_at);
  g_assert_null (event->reason);

  g_assert_false (ss_store_reopen_case (f->store, "A-1", "dr. hem", "  ", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (ss_store_reopen_case (f->store, "A-1", "", "typo", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_autoptr (SsCase) still = ss_store_get_case (f->store, "A-1", &error);
  g_assert_cmpint (still->status, ==, SS_CASE_SIGNED);

  g_assert_true (ss_store_reopen_case (f->store, "A-1", "dr. hem", "blast count disputed", &error));
  g_assert_no_error (error);
  g_autoptr (SsCase) reopened = ss_store_get_case (f->store, "A-1", &error);
  g_assert_cmpint (reopened->status, ==, SS_CASE_OPEN);
  g_assert_null (reopened->signed_by);
  g_assert_null (reopened->signed_at);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", cell_id (f, 1), 0, "ann", &error), >, 0);
  g_assert_true (ss_store_sign_case (f->store, "A-1", "dr. two", &error));

  g_clear_pointer (&events, g_ptr_array_unref);
  events = ss_store_list_case_events (f->store, "A-1", &error);
  g_assert_cmpuint (events->len, ==, 3);
  event = g_ptr_array_index (events, 1);
  g_assert_cmpint (event->kind, ==, SS_CASE_EVENT_REOPENED);
  g_assert_cmpstr (ss_case_event_kind_name (event->kind), ==, "reopened");
  g_assert_cmpstr (event->user, ==, "dr. hem");
  g_assert_cmpstr (event->reason, ==, "blast count disputed");
  g_assert_nonnull (event->at);
  g_assert_cmpstr (((SsCaseEvent *) g_ptr_array_index (events, 2))->user, ==, "dr. two");
  g_assert_null (ss_store_list_case_events (f->store, "Z-9", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  assert_check_ok (f->store);

  /* Events are append-only, and a signature taken off by hand is found. */
  g_assert_false (store_sql (f->path, "DELETE FROM case_events"));
  g_assert_false (store_sql (f->path, "UPDATE case_events SET \"user\" = 'x'"));
  g_assert_true (store_sql (f->path, "UPDATE cases SET status = 'open', signed_by = NULL, "
                                     "signed_at = NULL"));
  g_assert_false (ss_store_check (f->store, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
  g_assert_nonnull (strstr (error->message, "case 'A-1' is open but its sign-off history"));
}

/* A confirm row that reverses something other than the cell's confirm just before it,
 * correctly hashed: only the replay can tell. */
static void
test_tamper_confirm (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 cell = cell_id (f, 3);
  gint64 relabel = ss_store_relabel_cell (f->store, "A-1", cell, SS_CLASS_OTHER, "ann", &error);
  gint64 confirm = ss_store_confirm_cell (f->store, "A-1", cell, "ann", &error);
  g_autoptr (GPtrArray) history = ss_store_list_corrections (f->store, "A-1", &error);
  const char *head = ((SsCorrection *) g_ptr_array_index (history, history->len - 1))->hash;
  const char *at = "2026-01-01T00:00:00.000000Z";
  g_autofree char *hash = ss_store_correction_hash (head, confirm + 1, cell, "confirm",
                                                    SS_CLASS_OTHER, SS_CLASS_OTHER, "mallory",
                                                    at, relabel);
  g_autofree char *sql = g_strdup_printf (
    "INSERT INTO corrections VALUES (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", 'confirm', 6, 6, "
    "'mallory', '%s', %" G_GINT64_FORMAT ", '%s', '%s')", confirm + 1, cell, at, relabel, head, hash);
  g_clear_object (&f->store);
  g_assert_true (store_sql (f->path, sql));
  f->store = ss_store_open (f->path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_false (ss_store_check (f->store, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
  g_autofree char *expected = g_strdup_printf ("corrections row %" G_GINT64_FORMAT " reverses row %"
                                               G_GINT64_FORMAT ",", confirm + 1, relabel);
  if (strstr (error->message, expected) == NULL)
    g_error ("expected '%s' in: %s", expected, error->message);
}

/* 10,000 cells, one in ten corrected (some undone): the workstation lists them all when
 * it opens a case, so the reviewed flags must cost next to nothing. */
static void
test_list_speed (void)
{
  g_autofree char *dir = store_test_dir ();
  GPtrArray *cells = NULL;
  g_autoptr (SsStore) store = store_test_populated (dir, "big.db", "B-1", 10000, &cells);
  g_autoptr (GError) error = NULL;
  int n_reviewed = 0;
  for (guint i = 0; i < cells->len; i += 10)
    {
      gint64 id = ((SsCell *) g_ptr_array_index (cells, i))->id;
      gint64 k = i % 20 == 0 ? ss_store_confirm_cell (store, "B-1", id, "ann", &error)
                             : ss_store_relabel_cell (store, "B-1", id, (i + 1) % 8, "ann", &error);
      g_assert_cmpint (k, >, 0);
      if (i % 30 == 0)
        ss_store_undo (store, "B-1", k, "ann", &error);
      else
        n_reviewed++;
      g_assert_no_error (error);
    }
  gint64 start = g_get_monotonic_time ();
  g_autoptr (GPtrArray) images = ss_store_list_images (store, "B-1", TRUE, &error);
  double seconds = (g_get_monotonic_time () - start) / 1e6;
  g_assert_no_error (error);
  GPtrArray *listed = ((SsImageRecord *) g_ptr_array_index (images, 0))->cells;
  g_assert_cmpuint (listed->len, ==, 10000);
  int n_listed_reviewed = 0;
  for (guint i = 0; i < listed->len; i++)
    n_listed_reviewed += ((SsCell *) g_ptr_array_index (listed, i))->reviewed;
  g_assert_cmpint (n_listed_reviewed, ==, n_reviewed);
  g_test_message ("listing 10,000 cells with their reviewed flags (%d reviewed) took %.3f s",
                  n_reviewed, seconds);
  /* a server adds its round trips and its own cache; SQLite reads its file in-process */
  g_assert_cmpfloat (seconds, <, (store_test_pg () != NULL ? 1.0 : 0.3) * store_test_time_factor ());
  g_ptr_array_unref (cells);
  g_clear_object (&store);
  store_test_remove_dir (dir);
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
  {
    /* The workstation shows these messages too: no command line in them. */
    g_autoptr (GError) error = NULL;
    g_assert_null (ss_store_open (missing, SS_STORE_OPEN_DEFAULT, &error));
    g_assert_nonnull (strstr (error->message, "creating a case starts one"));
    g_assert_null (strstr (error->message, "smearscope-cli"));
    g_assert_null (strstr (error->message, "--"));
  }

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

/* Schema version 1 -> 2 ------------------------------------------------------------------ */

typedef struct {
  sqlite3 *db;
  char    *head;
  gint64   n;
} V1File;

static void
v1_exec (V1File *v1, const char *sql)
{
  char *message = NULL;
  if (sqlite3_exec (v1->db, sql, NULL, NULL, &message) != SQLITE_OK)
    g_error ("%s: %s", sql, message);
}

/* One corrections row as version 1 wrote it, chained, with the change to its cell. */
static gint64
v1_correction (V1File *v1, gint64 cell, const char *kind, int old_class, int new_class,
               gboolean deleted_after, gint64 undoes)
{
  gint64 id = ++v1->n;
  g_autofree char *at = g_strdup_printf ("2025-03-01T10:00:%02d.000000Z", (int) id);
  char *hash = ss_store_correction_hash (v1->head, id, cell, kind, old_class, new_class, "ann",
                                         at, undoes);
  g_autofree char *undoes_sql = undoes > 0 ? g_strdup_printf ("%" G_GINT64_FORMAT, undoes)
                                           : g_strdup ("NULL");
  g_autofree char *sql = g_strdup_printf (
    "INSERT INTO corrections VALUES (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ", '%s', %d, %d, "
    "'ann', '%s', %s, '%s', '%s');"
    "UPDATE cells SET current_class = %d, deleted = %d WHERE id = %" G_GINT64_FORMAT,
    id, cell, kind, old_class, new_class, at, undoes_sql, v1->head, hash, new_class,
    deleted_after, cell);
  v1_exec (v1, sql);
  g_free (v1->head);
  v1->head = hash;
  return id;
}

/* A store as version 1 left it: its schema is the first migration alone, its rows are
 * what version 1 inserted. Cells 1-20 (class id % 8), a drawn cell 21. */
static char *
v1_store (const char *dir)
{
  char *path = g_build_filename (dir, "v1.db", NULL);
  V1File v1 = { NULL, g_strdup (SS_STORE_GENESIS_HASH), 0 };
  g_assert_cmpint (sqlite3_open (path, &v1.db), ==, SQLITE_OK);
  v1_exec (&v1, "PRAGMA journal_mode = WAL; BEGIN");
  v1_exec (&v1, ss_store_migrations[0]);
  g_autofree char *pragmas = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = 1",
                                              SS_STORE_APPLICATION_ID);
  v1_exec (&v1, pragmas);
  v1_exec (&v1,
           "INSERT INTO models VALUES (1, 'mscnn-wbc', '1.0', 'abc123');"
           "INSERT INTO cases VALUES (1, 'V-1', 'P-1', NULL, 'Wright', NULL, 'open', NULL, NULL,"
           "  '2025-03-01T09:00:00.000000Z', '2025-03-01T10:00:00.000000Z');"
           "INSERT INTO cases VALUES (2, 'V-2', NULL, NULL, NULL, NULL, 'signed', 'dr. old',"
           "  '2025-03-02T09:00:00.000000Z', '2025-03-01T09:00:00.000000Z',"
           "  '2025-03-02T09:00:00.000000Z');"
           "INSERT INTO images VALUES (1, 1, 'f1.png', '" TEST_SHA256 "', 640, 480,"
           "  '2025-03-01T09:30:00.000000Z', 1);"
           "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)"
           "  INSERT INTO cells SELECT i, 1, i * 30, 0, 24, 24, NULL, NULL, i % 8, 0.9, NULL, 452,"
           "  75.4, 1.0, 154, 0.52, i % 8, i % 8, 'model', 0 FROM n;"
           "INSERT INTO cells VALUES (21, 1, 0, 100, 24, 24, NULL, NULL, -1, 1.0, NULL, 0, 0, 0,"
           "  0, 0, 5, 5, 'user', 0);");
  v1_correction (&v1, 1, "relabel", 1, 0, FALSE, 0);
  gint64 k = v1_correction (&v1, 2, "relabel", 2, 3, FALSE, 0);
  v1_correction (&v1, 2, "relabel", 3, 2, FALSE, k);
  v1_correction (&v1, 3, "delete", 3, 3, TRUE, 0);
  v1_correction (&v1, 3, "restore", 3, 3, FALSE, 0);
  v1_correction (&v1, 21, "add", -1, 5, FALSE, 0);
  k = v1_correction (&v1, 4, "delete", 4, 4, TRUE, 0);
  v1_correction (&v1, 4, "restore", 4, 4, FALSE, k);
  v1_correction (&v1, 5, "delete", 5, 5, TRUE, 0);
  v1_exec (&v1, "COMMIT");
  sqlite3_close (v1.db);
  g_free (v1.head);
  return path;
}

static char *
query_text (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  char *text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return text;
}

static void
test_migrate_v1 (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autofree char *path = v1_store (dir);
  static const char *const snapshot_sql[] = {
    "SELECT group_concat (id || ',' || cell_id || ',' || kind || ',' || old_class || ',' || "
    "new_class || ',' || user || ',' || at || ',' || coalesce (undoes, '') || ',' || prev_hash "
    "|| ',' || hash, ';') FROM (SELECT * FROM corrections ORDER BY id)",
    "SELECT group_concat (id || ',' || current_class || ',' || deleted || ',' || origin, ';') "
    "FROM (SELECT * FROM cells ORDER BY id)",
    "SELECT group_concat (accession || ',' || status || ',' || coalesce (signed_by, '') || ',' "
    "|| coalesce (signed_at, ''), ';') FROM (SELECT * FROM cases ORDER BY id)",
  };
  char *before[G_N_ELEMENTS (snapshot_sql)];
  for (guint i = 0; i < G_N_ELEMENTS (snapshot_sql); i++)
    before[i] = query_text (path, snapshot_sql[i]);

  /* Only a writer upgrades; a reader is told so. */
  assert_open_fails (path, SS_STORE_OPEN_READ_ONLY, SS_STORE_ERROR_READ_ONLY, "older schema");
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_clear_object (&store);
  g_autofree char *version = query_text (path, "PRAGMA user_version");
  g_autofree char *expected_version = g_strdup_printf ("%d", SS_STORE_SCHEMA_VERSION);
  g_assert_cmpstr (version, ==, expected_version);
  /* images stored before schema 3 have no recorded scale */
  g_autofree char *scales = query_text (path, "SELECT count (*) || ',' || count (cell_diameter) "
                                              "|| ',' || count (scale_source) FROM images");
  g_assert_true (g_str_has_suffix (scales, ",0,0") && !g_str_has_prefix (scales, "0,"));
  for (guint i = 0; i < G_N_ELEMENTS (snapshot_sql); i++)
    {
      g_autofree char *after = query_text (path, snapshot_sql[i]);
      g_assert_cmpstr (after, ==, before[i]);
      g_free (before[i]);
    }
  /* The rebuilt table kept its index, its triggers and its foreign keys. */
  g_autofree char *schema = query_text (path, "SELECT group_concat (name, ',') FROM (SELECT name "
                                              "FROM sqlite_schema WHERE tbl_name = 'corrections' "
                                              "ORDER BY name)");
  /* (and schema 8's trigger that keeps a signed case's corrections as they are) */
  g_assert_cmpstr (schema, ==, "corrections,corrections_by_cell,corrections_no_delete,"
                               "corrections_no_update,corrections_signed_insert,"
                               "sqlite_autoindex_corrections_1");
  g_autofree char *keys = query_text (path, "SELECT group_concat (\"table\" || '.' || \"from\", ',') "
                                            "FROM (SELECT * FROM pragma_foreign_key_list "
                                            "('corrections') ORDER BY \"from\")");
  g_assert_cmpstr (keys, ==, "cells.cell_id,corrections.undoes");

  store = ss_store_open (path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_autofree char *head = NULL;
  gint64 n = 0;
  g_assert_true (ss_store_check (store, &head, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 9);
  g_autoptr (GPtrArray) history = ss_store_list_corrections (store, "V-1", &error);
  g_assert_cmpstr (head, ==, ((SsCorrection *) g_ptr_array_index (history, 8))->hash);

  /* Reviewed, from the version 1 history: relabelled 1, relabel undone 2, deleted and
   * restored 3, delete undone 4, deleted 5, drawn 21. */
  g_autoptr (GHashTable) expected = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_hash_table_add (expected, int64_key (1));
  g_hash_table_add (expected, int64_key (3));
  g_hash_table_add (expected, int64_key (5));
  g_hash_table_add (expected, int64_key (21));
  assert_reviewed_cells (store, "V-1", expected);

  /* The case signed under version 1 has the event of its signature. */
  g_autoptr (GPtrArray) events = ss_store_list_case_events (store, "V-2", &error);
  g_assert_cmpuint (events->len, ==, 1);
  SsCaseEvent *event = g_ptr_array_index (events, 0);
  g_assert_cmpint (event->kind, ==, SS_CASE_EVENT_SIGNED);
  g_assert_cmpstr (event->user, ==, "dr. old");
  g_assert_cmpstr (event->at, ==, "2025-03-02T09:00:00.000000Z");
  g_clear_pointer (&events, g_ptr_array_unref);
  events = ss_store_list_case_events (store, "V-1", &error);
  g_assert_cmpuint (events->len, ==, 0);
  g_clear_object (&store);

  /* The migrated store takes the new kinds and events, and reopens once migrated. */
  store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ss_store_confirm_cell (store, "V-1", 6, "ann", &error), ==, 10);
  g_assert_no_error (error);
  g_assert_true (ss_store_reopen_case (store, "V-2", "dr. old", "wrong patient", &error));
  g_assert_true (ss_store_sign_case (store, "V-1", "dr. old", &error));
  assert_check_ok (store);
  g_clear_object (&store);

  /* A row edited behind the migrated chain's back is still found. */
  if (store_test_sqlite3 (path, "DROP TRIGGER corrections_no_update;"
                                "UPDATE corrections SET user = 'mallory' WHERE id = 3;"
                                "CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections"
                                "  BEGIN SELECT RAISE (ABORT, 'append-only'); END;"))
    {
      store = ss_store_open (path, SS_STORE_OPEN_READ_ONLY, &error);
      g_assert_false (ss_store_check (store, NULL, NULL, &error));
      g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
      if (strstr (error->message, "corrections row 3 ") == NULL)
        g_error ("expected corrections row 3 in: %s", error->message);
      g_clear_error (&error);
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

/* Ground truth: a layer beside the cells, never counted; one transaction for all the
 * images given; refused whole for a signed case, an unknown image, a box outside its
 * image or a file imported before. */
static SsTruthCell *
truth_cell (int x, int y, int width, int height, int cls, gboolean with_mask)
{
  SsTruthCell *cell = ss_truth_cell_new ();
  cell->box = (SsBox) { x, y, width, height };
  cell->cls = cls;
  if (with_mask)
    {
      g_autofree guint8 *pixels = g_malloc0 ((gsize) width * height);
      for (int i = 0; i < width * height; i += 3)
        pixels[i] = 1;
      ss_rle_encode (&cell->mask, pixels, width, height);
    }
  return cell;
}

#define TRUTH_SHA256_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define TRUTH_SHA256_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void
test_truth (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  int before[SS_N_CLASSES], after[SS_N_CLASSES];
  g_assert_true (ss_store_case_counts (f->store, "A-1", before, &error));
  g_autoptr (GPtrArray) images = ss_store_list_images (f->store, "A-1", FALSE, &error);
  const SsImageRecord *image = g_ptr_array_index (images, 0);

  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free);
  g_ptr_array_add (cells, truth_cell (10, 20, 30, 40, SS_CLASS_NONE, FALSE));
  g_ptr_array_add (cells, truth_cell (600, 440, 40, 40, SS_CLASS_MONOCYTE, TRUE));
  /* matched by basename: the case stored "fields/f1.png" */
  SsTruthImage truth = { "elsewhere/f1.png", "voc", "/tmp/f1.xml", TRUTH_SHA256_A, 640, 480, cells };
  g_assert_true (ss_store_add_truth (f->store, "A-1", &truth, 1, "ann", &error));
  g_assert_no_error (error);
  g_assert_cmpint (((SsTruthCell *) g_ptr_array_index (cells, 0))->id, >, 0);

  g_autoptr (GPtrArray) stored = ss_store_list_truth (f->store, image->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (stored->len, ==, 2);
  SsTruthCell *untyped = g_ptr_array_index (stored, 0), *typed = g_ptr_array_index (stored, 1);
  g_assert_cmpint (untyped->cls, ==, SS_CLASS_NONE);
  g_assert_cmpint (untyped->mask.n_runs, ==, 0);
  g_assert_cmpint (untyped->box.height, ==, 40);
  g_assert_cmpstr (untyped->source_file, ==, "f1.xml");
  g_assert_cmpstr (untyped->source_format, ==, "voc");
  g_assert_cmpstr (untyped->source_sha256, ==, TRUTH_SHA256_A);
  g_assert_cmpstr (untyped->user, ==, "ann");
  g_assert_nonnull (untyped->imported_at);
  g_assert_cmpint (typed->cls, ==, SS_CLASS_MONOCYTE);
  g_assert_cmpuint (ss_rle_area (&typed->mask), ==,
                    ss_rle_area (&((SsTruthCell *) g_ptr_array_index (cells, 1))->mask));

  /* never counted, never a cell */
  g_assert_true (ss_store_case_counts (f->store, "A-1", after, &error));
  g_assert_cmpmem (before, sizeof before, after, sizeof after);
  g_autoptr (SsCase) c = ss_store_get_case (f->store, "A-1", &error);
  g_assert_cmpint (c->n_cells, ==, 40);

  /* the same file again, an unknown image, a box outside: refused, nothing stored */
  g_assert_false (ss_store_add_truth (f->store, "A-1", &truth, 1, "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS);
  g_clear_error (&error);
  g_autoptr (GPtrArray) more = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free);
  g_ptr_array_add (more, truth_cell (0, 0, 5, 5, SS_CLASS_LYMPHOBLAST, FALSE));
  SsTruthImage two[2] = {
    { "f1.png", "coco", "b.json", TRUTH_SHA256_B, 0, 0, more },
    { "f2.png", "coco", "b.json", TRUTH_SHA256_B, 0, 0, more },
  };
  g_assert_false (ss_store_add_truth (f->store, "A-1", two, 2, "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "f2.png"));
  g_assert_nonnull (strstr (error->message, "b.json"));
  g_clear_error (&error);
  g_assert_cmpint (((SsTruthCell *) g_ptr_array_index (more, 0))->id, ==, 0);
  g_ptr_array_add (more, truth_cell (630, 0, 20, 5, SS_CLASS_LYMPHOBLAST, FALSE));
  g_assert_false (ss_store_add_truth (f->store, "A-1", two, 1, "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "outside the image"));
  g_clear_error (&error);
  two[0].width = 1280;
  two[0].height = 960;
  g_assert_false (ss_store_add_truth (f->store, "A-1", two, 1, "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "1280 x 960"));
  g_clear_error (&error);
  two[0].width = two[0].height = 0;
  g_clear_pointer (&stored, g_ptr_array_unref);
  stored = ss_store_list_truth (f->store, image->id, &error);
  g_assert_cmpuint (stored->len, ==, 2);

  /* an image the case lacks, added without analysis, with its truth; and taken back
   * with it when a later image of the same call fails */
  SsImageInfo f2 = { "more/f2.png", TEST_SHA256, 640, 480 };
  two[1].add_image = &f2;
  two[0].image = "f9.png";
  g_ptr_array_remove_index (more, 1);
  const SsTruthImage added_then_failed[2] = { two[1], two[0] };
  g_assert_false (ss_store_add_truth (f->store, "A-1", added_then_failed, 2, "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "f9.png"));
  g_clear_error (&error);
  g_clear_pointer (&images, g_ptr_array_unref);
  images = ss_store_list_images (f->store, "A-1", FALSE, &error);
  g_assert_cmpuint (images->len, ==, 1);
  image = g_ptr_array_index (images, 0);
  g_assert_true (ss_store_add_truth (f->store, "A-1", &two[1], 1, "ann", &error));
  g_assert_no_error (error);
  g_clear_pointer (&images, g_ptr_array_unref);
  images = ss_store_list_images (f->store, "A-1", TRUE, &error);
  g_assert_cmpuint (images->len, ==, 2);
  const SsImageRecord *added = g_ptr_array_index (images, 1);
  g_assert_cmpstr (added->path, ==, "more/f2.png");
  g_assert_cmpuint (added->cells->len, ==, 0);
  g_assert_null (added->model_name);
  g_clear_pointer (&stored, g_ptr_array_unref);
  stored = ss_store_list_truth (f->store, added->id, &error);
  g_assert_cmpuint (stored->len, ==, 1);
  image = g_ptr_array_index (images, 0);
  g_assert_true (ss_store_case_counts (f->store, "A-1", after, &error));
  g_assert_cmpmem (before, sizeof before, after, sizeof after);
  two[1].add_image = NULL;

  /* a signed case takes no truth */
  g_assert_true (ss_store_sign_case (f->store, "A-1", "dr. x", &error));
  g_assert_false (ss_store_add_truth (f->store, "A-1", two, 1, "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_clear_error (&error);
  g_clear_pointer (&stored, g_ptr_array_unref);
  stored = ss_store_list_truth (f->store, image->id, &error);
  g_assert_cmpuint (stored->len, ==, 2);
  assert_check_ok (f->store);
}

/* A store as version 3 left it (version 1's rows, migrated twice), upgraded to the
 * current version: its rows unchanged, the truth table there and empty, truth taken
 * afterwards, and its cells with no solidity measured and no doubt raised (5). */
static void
test_migrate_v3 (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autofree char *path = v1_store (dir);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  for (int v = 1; v < 3; v++)
    g_assert_cmpint (sqlite3_exec (db, ss_store_migrations[v], NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 3", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
  static const char *const snapshot_sql[] = {
    "SELECT group_concat (id || ',' || hash, ';') FROM (SELECT * FROM corrections ORDER BY id)",
    "SELECT group_concat (id || ',' || current_class || ',' || deleted, ';') "
    "FROM (SELECT * FROM cells ORDER BY id)",
    "SELECT group_concat (accession || ',' || status, ';') FROM (SELECT * FROM cases ORDER BY id)",
    "SELECT group_concat (id || ',' || kind, ';') FROM (SELECT * FROM case_events ORDER BY id)",
  };
  char *before[G_N_ELEMENTS (snapshot_sql)];
  for (guint i = 0; i < G_N_ELEMENTS (snapshot_sql); i++)
    before[i] = query_text (path, snapshot_sql[i]);

  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_autofree char *version = query_text (path, "PRAGMA user_version");
  g_autofree char *expected_version = g_strdup_printf ("%d", SS_STORE_SCHEMA_VERSION);
  g_assert_cmpstr (version, ==, expected_version);
  g_autofree char *n_truth = query_text (path, "SELECT count (*) FROM truth_cells");
  g_assert_cmpstr (n_truth, ==, "0");
  g_autofree char *n_measured = query_text (path, "SELECT count (*) FROM cells "
                                                  "WHERE nucleus_solidity != 0 OR doubt != 0");
  g_assert_cmpstr (n_measured, ==, "0");
  for (guint i = 0; i < G_N_ELEMENTS (snapshot_sql); i++)
    {
      g_autofree char *after = query_text (path, snapshot_sql[i]);
      g_assert_cmpstr (after, ==, before[i]);
      g_free (before[i]);
    }
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free);
  g_ptr_array_add (cells, truth_cell (1, 2, 30, 30, SS_CLASS_NEUTROPHIL, TRUE));
  SsTruthImage truth = { TEST_SHA256, "coco", "old.json", TRUTH_SHA256_A, 640, 480, cells };
  g_assert_true (ss_store_add_truth (store, "V-1", &truth, 1, "ann", &error));
  g_assert_no_error (error);
  /* V-2 is signed under version 1 */
  g_assert_false (ss_store_add_truth (store, "V-2", &truth, 1, "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_clear_error (&error);
  g_autoptr (GPtrArray) stored = ss_store_list_truth (store, 1, &error);
  g_assert_cmpuint (stored->len, ==, 1);
  assert_check_ok (store);
  g_clear_object (&store);
  store_test_remove_dir (dir);
}


/* PostgreSQL: the same refusals, by the server ----------------------------------------- */

static void
assert_pg_refused (const char *uri, const char *sql, const char *words)
{
  g_autofree char *message = NULL;
  g_assert_false (store_test_pg_exec (uri, sql, &message));
  if (strstr (message, words) == NULL)
    g_error ("expected '%s' in the server's refusal of %s: %s", words, sql, message);
}

static void
assert_pg_check_fails (Fixture *f, const char *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (f->path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_false (ss_store_check (store, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
  if (strstr (error->message, words) == NULL)
    g_error ("expected '%s' in: %s", words, error->message);
}

static void
pg_exec_ok (Fixture *f, const char *sql)
{
  g_autofree char *message = NULL;
  if (!store_test_pg_exec (f->path, sql, &message))
    g_error ("%s: %s", sql, message);
}

/* The triggers refuse UPDATE, DELETE and TRUNCATE; disabled, db check says so, and sees
 * an edited row, a cell changed behind the trail's back and a removed row. */
static void
test_pg_tamper (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 k1 = 0, k2 = 0;
  relabel_three (f, &k1, &k2);
  ss_store_sign_case (f->store, "A-1", "dr. hem", &error);
  g_assert_no_error (error);
  assert_check_ok (f->store);
  g_clear_object (&f->store);

  assert_pg_refused (f->path, "UPDATE corrections SET \"user\" = 'mallory'", "append-only");
  assert_pg_refused (f->path, "DELETE FROM corrections", "append-only");
  assert_pg_refused (f->path, "TRUNCATE corrections CASCADE", "append-only");
  assert_pg_refused (f->path, "UPDATE case_events SET \"user\" = 'mallory'", "append-only");
  assert_pg_refused (f->path, "TRUNCATE case_events", "append-only");

  pg_exec_ok (f, "ALTER TABLE corrections DISABLE TRIGGER corrections_no_update");
  assert_pg_check_fails (f, "corrections_no_update");

  g_autofree char *edit = g_strdup_printf ("UPDATE corrections SET new_class = 1 WHERE id = %"
                                           G_GINT64_FORMAT "; ALTER TABLE corrections ENABLE "
                                           "TRIGGER corrections_no_update", k2);
  pg_exec_ok (f, edit);
  g_autofree char *row = g_strdup_printf ("corrections row %" G_GINT64_FORMAT " ", k2);
  assert_pg_check_fails (f, row);

  g_autofree char *behind = g_strdup_printf (
    "ALTER TABLE corrections DISABLE TRIGGER corrections_no_update;"
    "UPDATE corrections SET new_class = 0 WHERE id = %" G_GINT64_FORMAT ";"
    "ALTER TABLE corrections ENABLE TRIGGER corrections_no_update;"
    /* the case is signed: its cells are changed past schema 8's trigger, as a tamperer
     * who owns the store could */
    "ALTER TABLE cells DISABLE TRIGGER cells_signed_case;"
    "UPDATE cells SET current_class = 6 WHERE id = %" G_GINT64_FORMAT ";"
    "ALTER TABLE cells ENABLE TRIGGER cells_signed_case", k2, cell_id (f, 7));
  pg_exec_ok (f, behind);
  g_autofree char *cell_row = g_strdup_printf ("cells row %" G_GINT64_FORMAT " ", cell_id (f, 7));
  assert_pg_check_fails (f, cell_row);

  g_autofree char *removal = g_strdup_printf (
    "ALTER TABLE cells DISABLE TRIGGER cells_signed_case;"
    "UPDATE cells SET current_class = 7 WHERE id = %" G_GINT64_FORMAT ";"
    "ALTER TABLE cells ENABLE TRIGGER cells_signed_case;"
    "ALTER TABLE corrections DISABLE TRIGGER corrections_no_delete;"
    "DELETE FROM corrections WHERE id = %" G_GINT64_FORMAT ";"
    "ALTER TABLE corrections ENABLE TRIGGER corrections_no_delete", cell_id (f, 7), k1);
  pg_exec_ok (f, removal);
  assert_pg_check_fails (f, "hash chain");
}

/* What a station is told when the address or the server is wrong. */
static void
test_pg_open (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = store_test_dir ();
  g_autofree char *empty = store_test_location (dir, "empty");

  /* an empty database: no store yet, unless asked to create one; read-only, never */
  assert_open_fails (empty, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_NO_STORE, "no case store in");
  assert_open_fails (empty, SS_STORE_OPEN_READ_ONLY, SS_STORE_ERROR_NO_STORE, "no case store in");

  /* a password in the address is refused before any connection */
  g_autofree char *with_password = g_strdup_printf ("postgresql://ann:secret@%s", empty + 13);
  assert_open_fails (with_password, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_INVALID, "~/.pgpass");
  g_autofree char *password_option = g_strconcat (empty, "&password=secret", NULL);
  assert_open_fails (password_option, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_INVALID, "PGPASSWORD");
  assert_open_fails ("postgresql://[::1", SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_INVALID,
                     "postgresql://HOST:PORT/DATABASE");

  /* a server that is not there (not waited for: it is not coming back), and a
   * database that is not */
  g_setenv ("SMEARSCOPE_RECONNECT_WAIT", "0", TRUE);
  g_autofree char *no_server = g_strdup_printf ("postgresql:///x?host=%s&port=1", dir);
  assert_open_fails (no_server, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_IO,
                     "cannot reach the case server at");
  g_unsetenv ("SMEARSCOPE_RECONNECT_WAIT");
  g_autofree char *no_database = store_test_pg_uri ("no_such_database");
  assert_open_fails (no_database, SS_STORE_OPEN_CREATE, SS_STORE_ERROR_IO, "no_such_database");

  /* another program's database */
  g_autofree char *foreign = store_test_location (dir, "foreign");
  g_assert_true (store_test_pg_exec (foreign, "CREATE TABLE patients (id INTEGER)", NULL));
  assert_open_fails (foreign, SS_STORE_OPEN_CREATE, SS_STORE_ERROR_NOT_A_STORE,
                     "not a Smearscope case store");

  /* a store from a newer Smearscope */
  g_autoptr (SsStore) store = ss_store_open (empty, SS_STORE_OPEN_CREATE, &error);
  g_assert_no_error (error);
  g_assert_false (ss_store_backup (store, "/tmp/x.db", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "pg_dump"));
  g_clear_error (&error);
  g_clear_object (&store);
  g_assert_true (store_test_pg_exec (empty, "UPDATE smearscope_store SET schema_version = 99", NULL));
  assert_open_fails (empty, SS_STORE_OPEN_DEFAULT, SS_STORE_ERROR_NEWER_SCHEMA, "schema version 99");
  store_test_remove_dir (dir);
}

/* A writer waits for another station's write at most its busy timeout, then says so;
 * a read-only connection is refused writes by the server too. */
static void
test_pg_locked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  PGconn *other = PQconnectdb (f->path);
  g_assert_cmpint (PQstatus (other), ==, CONNECTION_OK);
  g_autofree char *lock = g_strdup_printf ("BEGIN; SELECT pg_advisory_xact_lock (%d)",
                                           0x53534353);
  PQclear (PQexec (other, lock));
  ss_store_set_busy_timeout (f->store, 300);
  gint64 start = g_get_monotonic_time ();
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", cell_id (f, 0), 3, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_BUSY);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250000);
  g_clear_error (&error);
  PQclear (PQexec (other, "COMMIT"));
  PQfinish (other);
  g_assert_cmpint (ss_store_relabel_cell (f->store, "A-1", cell_id (f, 0), 3, "ann", &error), >, 0);
  g_assert_no_error (error);

  g_autoptr (SsStore) reader = ss_store_open (f->path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ss_store_relabel_cell (reader, "A-1", cell_id (f, 0), 4, "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY);
  assert_check_ok (f->store);
}

/* A version 1 store on the server is brought to this version when opened for writing,
 * its signed case given the sign-off event version 2 introduced. */
static void
test_pg_migrate_v1 (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = store_test_dir ();
  g_autofree char *uri = store_test_location (dir, "v1");
  g_autofree char *v1 = g_strconcat (
    ss_store_pg_migrations[0],
    "CREATE TABLE smearscope_store (application_id BIGINT NOT NULL, schema_version INTEGER NOT NULL);"
    "INSERT INTO smearscope_store VALUES (1397965651, 1);"
    "INSERT INTO cases (accession, status, signed_by, signed_at, created_at, updated_at) VALUES"
    "  ('V-1', 'open', NULL, NULL, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z'),"
    "  ('V-2', 'signed', 'dr. hem', '2026-01-02T00:00:00.000000Z',"
    "   '2026-01-01T00:00:00.000000Z', '2026-01-02T00:00:00.000000Z');", NULL);
  g_autofree char *message = NULL;
  if (!store_test_pg_exec (uri, v1, &message))
    g_error ("%s", message);
  assert_open_fails (uri, SS_STORE_OPEN_READ_ONLY, SS_STORE_ERROR_READ_ONLY, "older schema");
  g_autoptr (SsStore) store = ss_store_open (uri, SS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) events = ss_store_list_case_events (store, "V-2", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 1);
  g_assert_cmpstr (((SsCaseEvent *) g_ptr_array_index (events, 0))->user, ==, "dr. hem");
  g_autoptr (GPtrArray) cells = store_test_cells (3);
  SsImageInfo info = store_test_image_info ();
  gint64 image_id = ss_store_add_image (store, "V-1", &info, cells, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ss_store_confirm_cell (store, "V-1", ((SsCell *) g_ptr_array_index (cells, 0))->id,
                                          "ann", &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (image_id, >, 0);
  assert_check_ok (store);
  store_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(name, fn) g_test_add ("/store/" name, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  /* the API's behaviour, on either backend (SMEARSCOPE_TEST_DB, tests/pg-cluster.sh) */
  ADD ("round-trip", test_round_trip);
  ADD ("bad-image-stores-nothing", test_bad_image_stores_nothing);
  ADD ("corrections", test_corrections);
  ADD ("signoff", test_signoff);
  ADD ("case-edit-delete", test_case_edit_delete);
  ADD ("confirm", test_confirm);
  ADD ("reviewed", test_reviewed);
  ADD ("taught-per-case", test_taught_per_case);
  ADD ("reopen", test_reopen);
  ADD ("truth", test_truth);
  ADD ("tamper-confirm", test_tamper_confirm);
  g_test_add_func ("/store/list-speed", test_list_speed);
  if (store_test_pg () != NULL)
    {
      /* what the server does where SQLite's file and shell did */
      ADD ("pg-tamper", test_pg_tamper);
      ADD ("pg-locked", test_pg_locked);
      g_test_add_func ("/store/pg-open", test_pg_open);
      g_test_add_func ("/store/pg-migrate-v1", test_pg_migrate_v1);
      return g_test_run ();
    }
  /* the file: SQLite's own faults, its shell, its backup */
  ADD ("tamper", test_tamper);
  ADD ("backup", test_backup);
  g_test_add_func ("/store/migrate-v1", test_migrate_v1);
  g_test_add_func ("/store/migrate-v3", test_migrate_v3);
  g_test_add_func ("/store/bad-files", test_bad_files);
  g_test_add_func ("/store/read-only", test_read_only);
  g_test_add_func ("/store/locked", test_locked);
  g_test_add_func ("/store/full-disk", test_full_disk);
  g_test_add_func ("/store/full-disk-rlimit", test_full_disk_rlimit);
  return g_test_run ();
}
