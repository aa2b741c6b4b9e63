/* Several stations on one case base (issue 31, stage 2): a correction based on a stale
 * view is refused and loses nothing; the roles, checked by the program on a file and
 * enforced by the server on PostgreSQL, also against hand-written SQL. Runs on SQLite
 * files, and on the throwaway cluster as test-store-stations-pg. */
#include "store-test-util.h"

#include <sqlite3.h>
#include <sys/wait.h>

static char *cli;

static gint64
n_corrections (SsStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;
  gint64 n = 0;
  g_assert_true (ss_store_check (store, &head, &n, &error));
  g_assert_no_error (error);
  return n;
}

/* Two stations load the same cell; the first relabels it, the second's relabel, based
 * on what it loaded, is refused; after a reload it goes through. */
static void
test_stale (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cells = NULL;
  g_autoptr (SsStore) first = store_test_populated (dir, "stations.db", "S-1", 4, &cells);
  g_autoptr (SsStore) second = ss_store_open (ss_store_get_path (first), SS_STORE_OPEN_DEFAULT,
                                              &error);
  g_assert_no_error (error);
  gint64 cell_id = ((SsCell *) cells->pdata[1])->id;

  g_autoptr (SsCell) seen_first = ss_store_get_cell (first, cell_id, &error);
  g_assert_no_error (error);
  g_autoptr (SsCell) seen_second = ss_store_get_cell (second, cell_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (seen_first->version, ==, seen_second->version);

  gint64 id = ss_store_correct_cell (first, "S-1", cell_id, SS_CORRECTION_RELABEL, 0,
                                     seen_first->version, "ann", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  gint64 refused = ss_store_correct_cell (second, "S-1", cell_id, SS_CORRECTION_RELABEL, 3,
                                          seen_second->version, "bob", &error);
  g_assert_cmpint (refused, ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_STALE);
  g_assert_nonnull (strstr (error->message, "was changed by ann"));
  g_assert_nonnull (strstr (error->message, "reload the case"));
  g_clear_error (&error);

  /* nothing lost, nothing half-stored: ann's relabel stands, bob's left no row */
  g_autoptr (SsCell) now = ss_store_get_cell (second, cell_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (now->current_class, ==, 0);
  g_assert_cmpint (now->version, ==, seen_second->version + 1);
  g_assert_cmpint (n_corrections (second), ==, 1);

  /* a confirm on the stale view is refused too; on the fresh one it goes through */
  g_assert_cmpint (ss_store_correct_cell (second, "S-1", cell_id, SS_CORRECTION_CONFIRM, 0,
                                          seen_second->version, "bob", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_STALE);
  g_clear_error (&error);
  id = ss_store_correct_cell (second, "S-1", cell_id, SS_CORRECTION_RELABEL, 3, now->version,
                              "bob", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpint (n_corrections (first), ==, 2);

  /* the corrections without a version take the cell as it is */
  g_assert_cmpint (ss_store_relabel_cell (first, "S-1", cell_id, 4, "ann", &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (n_corrections (first), ==, 3);
  store_test_remove_dir (dir);
}

/* On a file: no users recorded, anyone signs (the file's owner does everything); once
 * users are recorded, the program checks their roles. */
static void
test_roles_file (void)
{
  if (store_test_pg () != NULL)
    {
      g_test_skip ("the roles of a file; the server's are /store/roles-server");
      return;
    }
  g_autofree char *dir = store_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cells = NULL;
  g_autoptr (SsStore) store = store_test_populated (dir, "roles.db", "S-1", 4, &cells);
  gint64 cell_id = ((SsCell *) cells->pdata[0])->id;
  g_assert_true (ss_store_init_roles (store, &error));
  g_assert_no_error (error);
  g_assert_true (ss_store_add_user (store, "ann", SS_ROLE_TECHNICIAN, &error));
  g_assert_true (ss_store_add_user (store, "dr hem", SS_ROLE_HEMATOLOGIST, &error));
  g_assert_no_error (error);

  g_assert_false (ss_store_sign_case (store, "S-1", "ann", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN);
  g_assert_nonnull (strstr (error->message, "ann is a technician; only a hematologist can sign off"));
  g_clear_error (&error);
  g_assert_cmpint (ss_store_relabel_cell (store, "S-1", cell_id, 2, "mallory", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN);
  g_assert_nonnull (strstr (error->message, "mallory is not a user of this case store"));
  g_clear_error (&error);

  g_assert_cmpint (ss_store_relabel_cell (store, "S-1", cell_id, 2, "ann", &error), >, 0);
  g_assert_no_error (error);
  g_assert_true (ss_store_sign_case (store, "S-1", "dr hem", &error));
  g_assert_no_error (error);
  g_assert_false (ss_store_reopen_case (store, "S-1", "ann", "recount", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN);
  g_clear_error (&error);
  g_assert_true (ss_store_reopen_case (store, "S-1", "dr hem", "recount", &error));
  g_assert_no_error (error);

  /* a role changes in place; the hematologist may now correct too */
  g_assert_true (ss_store_add_user (store, "ann", SS_ROLE_HEMATOLOGIST, &error));
  g_assert_true (ss_store_sign_case (store, "S-1", "ann", &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_corrections (store), ==, 1);
  store_test_remove_dir (dir);
}

/* uri as another login */
static char *
uri_as (const char *uri, const char *login)
{
  g_autofree char *owner = g_strdup ("user=smearscope");
  g_assert_nonnull (strstr (uri, owner));
  g_auto (GStrv) parts = g_strsplit (uri, owner, 2);
  return g_strdup_printf ("%suser=%s%s", parts[0], login, parts[1]);
}

/* Run sql as the login in uri, expecting the server to refuse it; the message. */
static char *
refused (const char *uri, const char *sql)
{
  g_autofree char *message = NULL;
  if (store_test_pg_exec (uri, sql, &message))
    g_error ("the server accepted from a technician: %s", sql);
  return g_steal_pointer (&message);
}

static void
expect_refused (const char *uri, const char *sql, const char *why)
{
  g_autofree char *message = refused (uri, sql);
  if (strstr (message, why) == NULL)
    g_error ("%s was refused with \"%s\", not \"%s\"", sql, message, why);
}

/* On a server: the roles are the server's, whatever SQL a technician writes. */
static void
test_roles_server (void)
{
  if (store_test_pg () == NULL)
    {
      g_test_skip ("needs the PostgreSQL test cluster (test-store-stations-pg)");
      return;
    }
  g_autofree char *dir = store_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cells = NULL;
  g_autoptr (SsStore) owner = store_test_populated (dir, "lab", "S-1", 4, &cells);
  gint64 cell_id = ((SsCell *) cells->pdata[0])->id;
  const char *lab = ss_store_get_path (owner);

  /* before the roles, a user cannot be added */
  g_assert_false (ss_store_add_user (owner, "tech1", SS_ROLE_TECHNICIAN, &error));
  g_assert_nonnull (strstr (error->message, "db roles --init first"));
  g_clear_error (&error);
  g_assert_true (ss_store_init_roles (owner, &error));
  g_assert_no_error (error);
  g_assert_true (ss_store_init_roles (owner, &error));  /* again: nothing changes */
  g_assert_no_error (error);
  g_assert_true (ss_store_add_user (owner, "tech1", SS_ROLE_TECHNICIAN, &error));
  g_assert_true (ss_store_add_user (owner, "hem1", SS_ROLE_HEMATOLOGIST, &error));
  g_assert_no_error (error);

  g_autofree char *as_tech = uri_as (lab, "tech1");
  g_autofree char *as_hem = uri_as (lab, "hem1");
  g_autoptr (SsStore) tech = ss_store_open (as_tech, SS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);

  /* a technician corrects, under the login's own name only */
  gint64 first = ss_store_relabel_cell (tech, "S-1", cell_id, 2, "tech1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (first, >, 0);
  g_assert_cmpint (ss_store_relabel_cell (tech, "S-1", cell_id, 3, "hem1", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN);
  g_assert_nonnull (strstr (error->message, "records corrections under its own name"));
  g_clear_error (&error);

  /* and cannot sign, through the API or the CLI */
  g_assert_false (ss_store_sign_case (tech, "S-1", "tech1", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN);
  g_assert_nonnull (strstr (error->message,
                            "your login tech1 is a technician; only a hematologist can sign off"));
  g_clear_error (&error);
  const char *argv[] = { cli, "signoff", "--db", as_tech, "--case", "S-1", "--user", "tech1", NULL };
  g_autofree char *err = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  if (g_test_verbose ())
    g_printerr ("%s", err);
  g_assert_nonnull (strstr (err, "your login tech1 is a technician; only a hematologist can sign off"));

  /* hand-written SQL on the technician's own connection */
  expect_refused (as_tech, "UPDATE cases SET status = 'signed', signed_by = 'tech1', "
                  "signed_at = '2024-01-01T00:00:00.000000Z'",
                  "your login tech1 is a technician; only a hematologist can sign off");
  expect_refused (as_tech, "INSERT INTO case_events (case_id, kind, \"user\", at) "
                  "VALUES (1, 'signed', 'tech1', 'now')", "permission denied");
  expect_refused (as_tech, "INSERT INTO corrections (id, cell_id, kind, old_class, new_class, "
                  "\"user\", at, prev_hash, hash) SELECT max (id) + 1, 1, 'relabel', 2, 5, "
                  "'tech1', 'now', 'x', 'y' FROM corrections", "permission denied");
  expect_refused (as_tech, "UPDATE corrections SET new_class = 5", "permission denied");
  expect_refused (as_tech, "DELETE FROM corrections", "permission denied");
  expect_refused (as_tech, "TRUNCATE corrections", "permission denied");
  expect_refused (as_tech, "UPDATE cells SET current_class = 5", "permission denied");
  expect_refused (as_tech, "ALTER TABLE corrections DISABLE TRIGGER ALL", "must be owner");
  expect_refused (as_tech, "SELECT smearscope_append_correction (2, 1, 'relabel', 2, 5, 'tech1', "
                  "to_char (now (), 'YYYY-MM-DD\"T\"HH24:MI:SS'), NULL, "
                  "(SELECT hash FROM corrections ORDER BY id DESC LIMIT 1), 'forged')",
                  "does not match its hash");
  expect_refused (as_tech, "INSERT INTO cells (image_id, x, y, width, height, predicted_class, "
                  "confidence, stored_class, current_class, origin) "
                  "VALUES (1, 0, 0, 5, 5, 0, 0.5, 0, 4, 'model')", "corrections come after");
  g_autofree char *read_only = refused (as_tech, "CREATE TABLE mine (x INTEGER)");
  g_assert_nonnull (strstr (read_only, "permission denied"));

  /* nor reach another lab's store on the same server */
  g_autoptr (SsStore) other = store_test_populated (dir, "other", "O-1", 2, NULL);
  g_assert_true (ss_store_init_roles (other, &error));
  g_assert_no_error (error);
  g_autofree char *other_as_tech = uri_as (ss_store_get_path (other), "tech1");
  g_autoptr (SsStore) trespass = ss_store_open (other_as_tech, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_null (trespass);
  g_assert_nonnull (strstr (error->message, "permission denied for database"));
  g_clear_error (&error);

  /* the hematologist signs and reopens; the technician cannot reopen */
  g_autoptr (SsStore) hem = ss_store_open (as_hem, SS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (ss_store_sign_case (hem, "S-1", "hem1", &error));
  g_assert_no_error (error);
  g_assert_false (ss_store_reopen_case (tech, "S-1", "tech1", "recount", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN);
  g_assert_nonnull (strstr (error->message, "only a hematologist can reopen"));
  g_clear_error (&error);
  g_assert_true (ss_store_reopen_case (hem, "S-1", "hem1", "recount", &error));
  g_assert_no_error (error);

  /* everything refused left no trace: one correction, chain and replay intact */
  g_assert_cmpint (n_corrections (owner), ==, 1);
  g_autoptr (GPtrArray) events = ss_store_list_case_events (owner, "S-1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (events->len, ==, 2);
  store_test_remove_dir (dir);
}

/* Run sql on the store at location as its owner: the sqlite3 shell's way on a file, a
 * hand-written statement on the server; FALSE with the engine's message when refused. */
static gboolean
raw_exec (const char *location, const char *sql, char **message)
{
  if (store_test_pg () != NULL)
    return store_test_pg_exec (location, sql, message);
  sqlite3 *db = NULL;
  g_assert_cmpint (sqlite3_open (location, &db), ==, SQLITE_OK);
  char *text = NULL;
  gboolean ok = sqlite3_exec (db, sql, NULL, NULL, &text) == SQLITE_OK;
  *message = g_strdup (text);
  sqlite3_free (text);
  sqlite3_close (db);
  return ok;
}

/* A signed case's images, cells, truth cells and corrections cannot change, whoever
 * writes the SQL: the owner's login (or the file's owner with the sqlite3 shell), and on
 * a server a technician's login; the program says SIGNED before it gets that far. */
static void
test_signed_raw (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cells = NULL;
  g_autoptr (SsStore) store = store_test_populated (dir, "signed.db", "S-1", 4, &cells);
  const char *location = ss_store_get_path (store);
  gint64 cell_id = ((SsCell *) cells->pdata[0])->id;
  g_autoptr (GPtrArray) images = ss_store_list_images (store, "S-1", FALSE, &error);
  g_assert_no_error (error);
  gint64 image_id = ((SsImageRecord *) images->pdata[0])->id;
  g_assert_cmpint (ss_store_relabel_cell (store, "S-1", cell_id, 2, "ann", &error), >, 0);
  g_assert_no_error (error);
  g_assert_true (ss_store_sign_case (store, "S-1", "drhem", &error));
  g_assert_no_error (error);

  /* the program refuses first, in its own words */
  g_autoptr (GPtrArray) drawn = store_test_cells (1);
  g_assert_cmpint (ss_store_add_cell (store, "S-1", image_id, drawn->pdata[0], "ann", &error), ==, -1);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_clear_error (&error);
  SsImageInfo info = store_test_image_info ();
  g_autoptr (GPtrArray) more = store_test_cells (2);
  g_assert_cmpint (ss_store_add_image (store, "S-1", &info, more, &error), ==, 0);
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
  g_clear_error (&error);

  /* hand-written SQL by the store's owner */
  char *sql[] = {
    g_strdup_printf ("INSERT INTO images (case_id, path, sha256, width, height, analysed_at) "
                     "SELECT id, 'x.png', '%s', 10, 10, 'now' FROM cases WHERE accession = 'S-1'",
                     TEST_SHA256),
    g_strdup_printf ("UPDATE images SET path = 'y.png' WHERE id = %" G_GINT64_FORMAT, image_id),
    g_strdup_printf ("DELETE FROM images WHERE id = %" G_GINT64_FORMAT, image_id),
    g_strdup_printf ("INSERT INTO cells (image_id, x, y, width, height, predicted_class, "
                     "confidence, stored_class, current_class, origin) VALUES (%" G_GINT64_FORMAT
                     ", 0, 0, 5, 5, 0, 0.5, 0, 0, 'model')", image_id),
    g_strdup_printf ("UPDATE cells SET current_class = 5 WHERE id = %" G_GINT64_FORMAT, cell_id),
    g_strdup_printf ("DELETE FROM cells WHERE id = %" G_GINT64_FORMAT, cell_id),
    g_strdup_printf ("INSERT INTO truth_cells (image_id, x, y, width, height, source_format, "
                     "source_file, source_sha256, imported_at, \"user\") VALUES (%" G_GINT64_FORMAT
                     ", 0, 0, 5, 5, 'voc', 'a.xml', '%s', 'now', 'ann')", image_id, TEST_SHA256),
    g_strdup_printf ("INSERT INTO corrections (id, cell_id, kind, old_class, new_class, \"user\", "
                     "at, prev_hash, hash) SELECT max (id) + 1, %" G_GINT64_FORMAT ", 'relabel', "
                     "2, 5, 'ann', 'now', 'x', 'y' FROM corrections", cell_id),
  };
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      g_autofree char *message = NULL;
      if (raw_exec (location, sql[i], &message))
        g_error ("a signed case's rows changed: %s", sql[i]);
      if (strstr (message, "is signed") == NULL)
        g_error ("%s was refused with \"%s\", not because the case is signed", sql[i], message);
    }

  /* and on a server, by a technician's login (who may insert images and cells) */
  if (store_test_pg () != NULL)
    {
      g_assert_true (ss_store_init_roles (store, &error));
      g_assert_true (ss_store_add_user (store, "tech1", SS_ROLE_TECHNICIAN, &error));
      g_assert_no_error (error);
      g_autofree char *as_tech = uri_as (location, "tech1");
      expect_refused (as_tech, sql[0], "is signed by drhem and cannot change");
      expect_refused (as_tech, sql[3], "is signed by drhem and cannot change");
      expect_refused (as_tech, sql[6], "is signed by drhem and cannot change");
      g_autoptr (SsStore) tech = ss_store_open (as_tech, SS_STORE_OPEN_DEFAULT, &error);
      g_assert_no_error (error);
      g_assert_cmpint (ss_store_add_image (tech, "S-1", &info, more, &error), ==, 0);
      g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED);
      g_clear_error (&error);
    }

  /* nothing changed; once reopened, the case takes a drawn cell again */
  g_assert_cmpint (n_corrections (store), ==, 1);
  g_autoptr (SsCase) signed_case = ss_store_get_case (store, "S-1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (signed_case->n_images, ==, 1);
  g_assert_cmpint (signed_case->n_cells, ==, 4);
  g_assert_true (ss_store_reopen_case (store, "S-1", "drhem", "one more cell", &error));
  g_assert_no_error (error);
  g_assert_cmpint (ss_store_add_cell (store, "S-1", image_id, drawn->pdata[0], "ann", &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (n_corrections (store), ==, 2);
  for (guint i = 0; i < G_N_ELEMENTS (sql); i++)
    g_free (sql[i]);

  /* db check names a guard taken away */
  g_autofree char *message = NULL;
  g_assert_true (raw_exec (location, store_test_pg () != NULL
                                     ? "ALTER TABLE cells DISABLE TRIGGER cells_signed_case"
                                     : "DROP TRIGGER cells_signed_update", &message));
  g_assert_false (ss_store_check (store, NULL, NULL, &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED);
  g_assert_nonnull (strstr (error->message, "keeps a signed case as it was signed"));
  g_clear_error (&error);
  store_test_remove_dir (dir);
}

static gboolean
count_call (gpointer data)
{
  (*(int *) data)++;
  return G_SOURCE_CONTINUE;
}

/* Run context until *calls grows or limit_us passes; how long it took, or -1. */
static gint64
wait_for_call (GMainContext *context, int *calls, gint64 limit_us)
{
  int before = *calls;
  gint64 start = g_get_monotonic_time ();
  while (*calls == before && g_get_monotonic_time () - start < limit_us)
    {
      g_main_context_iteration (context, FALSE);
      g_usleep (2000);
    }
  return *calls > before ? g_get_monotonic_time () - start : -1;
}

/* On a server the watch makes its connection in the main loop, never in
 * ss_store_watch_case (the window opening a case does not wait for it), and calls back
 * once it listens: what changed between the caller's reading and then is read again.
 * Wait for that first call (a file's watch has none). */
static void
wait_listening (GMainContext *context, int *calls)
{
  if (store_test_pg () == NULL)
    return;
  gint64 waited = wait_for_call (context, calls, 10 * G_USEC_PER_SEC);
  g_test_message ("the watch listened after %.3f s", waited / 1e6);
  g_assert_cmpint (waited, >=, 0);
}

/* A station watching a case hears another station's correction within a second. */
static void
test_watch (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cells = NULL;
  g_autoptr (SsStore) watcher = store_test_populated (dir, "watch.db", "S-1", 4, &cells);
  g_autoptr (SsCase) other_case = ss_store_create_case (watcher, "S-2", NULL, NULL, NULL, NULL,
                                                        &error);
  g_assert_no_error (error);
  g_autoptr (SsStore) other = ss_store_open (ss_store_get_path (watcher), SS_STORE_OPEN_DEFAULT,
                                             &error);
  g_assert_no_error (error);
  g_autoptr (GMainContext) context = g_main_context_new ();
  GSource *source = ss_store_watch_case (watcher, "S-1", &error);
  g_assert_no_error (error);
  int calls = 0;
  g_source_set_callback (source, count_call, &calls, NULL);
  g_source_attach (source, context);
  wait_listening (context, &calls);

  /* quiet while nothing changes */
  g_assert_cmpint (wait_for_call (context, &calls, G_USEC_PER_SEC), ==, -1);

  gint64 cell_id = ((SsCell *) cells->pdata[2])->id;
  g_assert_cmpint (ss_store_relabel_cell (other, "S-1", cell_id, 0, "bob", &error), >, 0);
  g_assert_no_error (error);
  gint64 waited = wait_for_call (context, &calls, G_USEC_PER_SEC);
  g_test_message ("the correction was heard after %.3f s", waited / 1e6);
  g_assert_cmpint (waited, >=, 0);

  g_assert_true (ss_store_sign_case (other, "S-1", "dr hem", &error));
  g_assert_no_error (error);
  g_assert_cmpint (wait_for_call (context, &calls, G_USEC_PER_SEC), >=, 0);

  /* another case's change is not this case's, on a server (a file has one version) */
  if (store_test_pg () != NULL)
    {
      g_assert_true (ss_store_sign_case (other, "S-2", "dr hem", &error));
      g_assert_no_error (error);
      g_assert_cmpint (wait_for_call (context, &calls, G_USEC_PER_SEC), ==, -1);
    }
  g_source_destroy (source);
  g_source_unref (source);

  g_assert_null (ss_store_watch_case (watcher, "NO-SUCH", &error));
  g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND);
  store_test_remove_dir (dir);
}

static void
control_server (const char *action)
{
  const char *argv[] = { g_getenv ("SMEARSCOPE_TEST_PG_CONTROL"), action, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
}

/* The server stops and comes back: a station's next correction waits for it, saying so,
 * and goes through; every correction whose commit returned is there. */
static void
test_reconnect (void)
{
  if (store_test_pg () == NULL || g_getenv ("SMEARSCOPE_TEST_PG_CONTROL") == NULL)
    {
      g_test_skip ("needs the PostgreSQL test cluster (test-store-stations-pg)");
      return;
    }
  g_autofree char *dir = store_test_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cells = NULL;
  g_autoptr (SsStore) store = store_test_populated (dir, "lab", "S-1", 4, &cells);
  gint64 cell_id = ((SsCell *) cells->pdata[0])->id;
  g_assert_cmpint (ss_store_relabel_cell (store, "S-1", cell_id, 2, "ann", &error), >, 0);
  g_assert_no_error (error);

  /* killed and back at once: the next correction finds the connection dead, makes a
   * new one and prepares its statements again */
  control_server ("stop");
  control_server ("start");
  gint64 after_restart = ss_store_relabel_cell (store, "S-1", cell_id, 3, "ann", &error);
  g_assert_no_error (error);
  g_assert_cmpint (after_restart, >, 0);

  /* down for two seconds: the CLI waits, says so, and stores the correction */
  control_server ("stop");
  const char *restart[] = { "/bin/sh", "-c", "sleep 2; exec \"$0\" start",
                            g_getenv ("SMEARSCOPE_TEST_PG_CONTROL"), NULL };
  GPid restarter = 0;
  g_spawn_async (NULL, (char **) restart, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                 &restarter, &error);
  g_assert_no_error (error);
  g_autofree char *cell = g_strdup_printf ("%" G_GINT64_FORMAT, cell_id);
  /* (on a server the CLI records the change under its login) */
  const char *argv[] = { cli, "relabel", "--db", ss_store_get_path (store), "--case", "S-1",
                         "--cell", cell, "--class", "eosinophil", NULL };
  g_autofree char *err = NULL;
  int status = 0;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  int restarted = 0;
  waitpid (restarter, &restarted, 0);
  g_spawn_close_pid (restarter);
  g_assert_true (g_spawn_check_wait_status (restarted, NULL));
  g_test_message ("the CLI said: %s", err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "is not answering; retrying"));

  /* the live view's own connection: lost with the server (a call back), made again
   * without ever holding up its main loop while the server is away, then a call back
   * (changes may have gone unheard) and the next correction heard */
  g_autoptr (GMainContext) context = g_main_context_new ();
  GSource *watch = ss_store_watch_case (store, "S-1", &error);
  g_assert_no_error (error);
  int calls = 0;
  g_source_set_callback (watch, count_call, &calls, NULL);
  g_source_attach (watch, context);
  wait_listening (context, &calls);
  /* a second watch whose first connection is not made yet when the server goes (the
   * window opened the case a moment before): it tells its watcher too */
  GSource *early = ss_store_watch_case (store, "S-1", &error);
  g_assert_no_error (error);
  int early_calls = 0;
  g_source_set_callback (early, count_call, &early_calls, NULL);
  g_source_attach (early, context);
  control_server ("stop");
  g_assert_cmpint (wait_for_call (context, &calls, 5 * G_USEC_PER_SEC), >=, 0);
  if (early_calls == 0)
    g_assert_cmpint (wait_for_call (context, &early_calls, 5 * G_USEC_PER_SEC), >=, 0);
  g_source_destroy (early);
  g_source_unref (early);
  gint64 slowest = 0, until = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    {
      gint64 start = g_get_monotonic_time ();
      g_main_context_iteration (context, FALSE);
      slowest = MAX (slowest, g_get_monotonic_time () - start);
      g_usleep (10000);
    }
  g_test_message ("the slowest main loop iteration while the server was away: %.3f s",
                  slowest / 1e6);
  g_assert_cmpint (slowest, <, G_USEC_PER_SEC / 2);
  control_server ("start");
  g_assert_cmpint (wait_for_call (context, &calls, 10 * G_USEC_PER_SEC), >=, 0);
  g_autoptr (SsStore) other = ss_store_open (ss_store_get_path (store), SS_STORE_OPEN_DEFAULT,
                                             &error);
  g_assert_no_error (error);
  g_assert_cmpint (ss_store_relabel_cell (other, "S-1", cell_id, 1, "bob", &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (wait_for_call (context, &calls, G_USEC_PER_SEC), >=, 0);
  g_source_destroy (watch);
  g_source_unref (watch);

  /* and the station's own handle carries on too */
  g_assert_cmpint (ss_store_relabel_cell (store, "S-1", cell_id, 5, "ann", &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (n_corrections (store), ==, 5);
  g_autoptr (SsCell) now = ss_store_get_cell (store, cell_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (now->current_class, ==, 5);
  store_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cli = store_test_cli ();
  g_test_add_func ("/store/stale", test_stale);
  g_test_add_func ("/store/roles-file", test_roles_file);
  g_test_add_func ("/store/roles-server", test_roles_server);
  g_test_add_func ("/store/signed-raw", test_signed_raw);
  g_test_add_func ("/store/watch", test_watch);
  g_test_add_func ("/store/reconnect", test_reconnect);
  return g_test_run ();
}
