/* The command line's contract with scripts (issue 6): --db on every subcommand,
 * case new|list|show|reopen, relabel, counts, signoff, db check|backup, their JSON keys,
 * and a clear message with a non-zero exit for every kind of bad input. */
#include "store-test-util.h"

#include <json-glib/json-glib.h>

typedef struct {
  int   status;
  char *out;
  char *err;
} Run;

static char *cli;
static char *db;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Run smearscope-cli ARGS... --db db (NULL-terminated). */
static void
run_cli (Run *run, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;
  g_ptr_array_add (argv, cli);
  va_start (args, run);
  for (const char *arg; (arg = va_arg (args, const char *)) != NULL;)
    g_ptr_array_add (argv, (char *) arg);
  va_end (args);
  g_ptr_array_add (argv, "--db");
  g_ptr_array_add (argv, db);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  int wait_status = 0;
  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &run->out,
                &run->err, &wait_status, &error);
  g_assert_no_error (error);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128;
  if (g_test_verbose ())
    g_printerr ("[%d] %s%s", run->status, run->out, run->err);
}

static JsonObject *
parse_object (JsonParser *parser, const char *text)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
assert_fails (Run *run, const char *words)
{
  g_assert_cmpint (run->status, !=, 0);
  if (strstr (run->err, words) == NULL)
    g_error ("expected '%s' in: %s", words, run->err);
}

/* The file's own ends: a backup, the sqlite3 shell, files that are no store. */
static void
test_contract_sqlite (const char *dir)
{
  g_autofree char *backup = g_build_filename (dir, "backup.db", NULL);
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "backup", backup, NULL);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_true (g_file_test (backup, G_FILE_TEST_IS_REGULAR));
  }
  /* Tampering with the sqlite3 shell: db check exits 1 and names the row. */
  if (store_test_sqlite3 (db, "DROP TRIGGER corrections_no_update; UPDATE corrections SET user = 'mallory' "
                              "WHERE id = 2; CREATE TRIGGER corrections_no_update BEFORE UPDATE ON "
                              "corrections BEGIN SELECT RAISE (ABORT, 'append-only'); END;"))
    {
      g_auto (Run) run = { 0 };
      run_cli (&run, "db", "check", NULL);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_nonnull (strstr (run.err, "corrections row 2 "));
      /* a copy of it fails its check, and leaves no store behind to be taken for one */
      g_autofree char *copy = g_build_filename (dir, "copy.db", NULL);
      g_autofree char *copy_wal = g_strconcat (copy, "-wal", NULL);
      run_clear (&run);
      run_cli (&run, "db", "migrate", "--from", db, "--to", copy, NULL);
      g_assert_cmpint (run.status, ==, 1);
      g_assert_nonnull (strstr (run.err, "corrections row 2 "));
      g_assert_nonnull (strstr (run.err, "nothing was left at"));
      g_assert_false (g_file_test (copy, G_FILE_TEST_EXISTS));
      g_assert_false (g_file_test (copy_wal, G_FILE_TEST_EXISTS));
    }
  /* The backup taken before is still good. */
  g_free (db);
  db = g_strdup (backup);
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "check", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  /* Files that are no store. */
  g_free (db);
  db = g_build_filename (dir, "notes.txt", NULL);
  g_file_set_contents (db, "not a database", -1, NULL);
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "list", NULL);
    assert_fails (&run, "not a SQLite database");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "check", NULL);
    g_assert_cmpint (run.status, ==, 1);
  }
  g_free (db);
  db = g_build_filename (dir, "missing.db", NULL);
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "counts", "--case", "A", NULL);
    assert_fails (&run, "no case store");
    assert_fails (&run, "smearscope-cli case new");
    g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
  }
}

/* What the CLI prints of every case of the store at location: case show --json (deleted
 * cells too) and the full JSON export, case after case. */
static char *
describe_store (const char *location, JsonParser *parser)
{
  g_autofree char *saved = g_steal_pointer (&db);
  db = g_strdup (location);
  GString *all = g_string_new (NULL);
  g_auto (Run) list = { 0 };
  run_cli (&list, "case", "list", "--json", NULL);
  g_assert_cmpint (list.status, ==, 0);
  JsonArray *cases = json_object_get_array_member (parse_object (parser, list.out), "cases");
  g_assert_cmpuint (json_array_get_length (cases), >, 0);
  g_string_append (all, list.out);
  /* the users and their roles travel with the cases */
  g_auto (Run) users = { 0 };
  run_cli (&users, "db", "user", "list", "--json", NULL);
  g_assert_cmpint (users.status, ==, 0);
  g_string_append (all, users.out);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      const char *accession = json_object_get_string_member (json_array_get_object_element (cases, i),
                                                             "accession");
      g_auto (Run) show = { 0 };
      run_cli (&show, "case", "show", accession, "--json", "--deleted", NULL);
      g_assert_cmpint (show.status, ==, 0);
      g_auto (Run) export = { 0 };
      run_cli (&export, "export", "--case", accession, "--format", "json", "--out", "-", NULL);
      g_assert_cmpint (export.status, ==, 0);
      g_string_append_printf (all, "%s\n%s\n", show.out, export.out);
    }
  g_free (db);
  db = g_steal_pointer (&saved);
  return g_string_free (all, FALSE);
}

static void
assert_migrates (const char *from, const char *to, JsonParser *parser)
{
  g_auto (Run) run = { 0 };
  run_cli (&run, "db", "migrate", "--from", from, "--to", to, NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Chain head (both): "));
  g_autofree char *before = describe_store (from, parser);
  g_autofree char *after = describe_store (to, parser);
  g_assert_cmpstr (after, ==, before);
}

/* The server's ends: its backups are the server's, a copy to a file and back shows every
 * case as it was, psql's edits are seen, and a wrong address or an empty database is
 * told plainly. */
static void
test_contract_pg (const char *dir)
{
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "backup", "backup.db", NULL);
    assert_fails (&run, "pg_dump");
  }
  /* db migrate: the server's store to a new file, that file to a new database */
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *file = g_build_filename (dir, "migrated.db", NULL);
  g_autofree char *again = store_test_location (dir, "again");
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SsStore) store = ss_store_open (db, SS_STORE_OPEN_DEFAULT, &error);
    g_assert_no_error (error);
    g_assert_true (ss_store_init_roles (store, &error));
    g_assert_true (ss_store_add_user (store, "tech1", SS_ROLE_TECHNICIAN, &error));
    g_assert_true (ss_store_add_user (store, "hem1", SS_ROLE_HEMATOLOGIST, &error));
    g_assert_no_error (error);
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "user", "list", "--json", NULL);
    g_assert_cmpint (run.status, ==, 0);
    JsonArray *users = json_object_get_array_member (parse_object (parser, run.out), "users");
    g_assert_cmpuint (json_array_get_length (users), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (users, 0),
                                                    "name"), ==, "hem1");
  }
  {
    /* to the file: the users say what the admin of a server must do, on the way back */
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "migrate", "--from", db, "--to", file, NULL);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_nonnull (strstr (run.out, "Copied 2 users with their roles"));
    g_unlink (file);
  }
  assert_migrates (db, file, parser);
  assert_migrates (file, again, parser);
  {
    g_auto (Run) run = { 0 };
    g_autofree char *other = store_test_location (dir, "other");
    run_cli (&run, "db", "migrate", "--from", file, "--to", other, NULL);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_nonnull (strstr (run.out, "'smearscope-cli db user add NAME --role ROLE' for each"));
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "migrate", "--from", file, "--to", again, NULL);
    assert_fails (&run, "already holds cases");
    run_clear (&run);
    run_cli (&run, "db", "migrate", "--from", file, NULL);
    g_assert_cmpint (run.status, ==, 2);
  }
  /* the copy goes on: new ids follow the copied ones */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SsStore) store = ss_store_open (again, SS_STORE_OPEN_DEFAULT, &error);
    g_autoptr (SsCase) c = ss_store_create_case (store, "S-200", NULL, NULL, NULL, NULL, &error);
    g_assert_no_error (error);
    g_autoptr (GPtrArray) cells = store_test_cells (2);
    SsImageInfo info = store_test_image_info ();
    g_assert_cmpint (ss_store_add_image (store, "S-200", &info, cells, &error), >, 1);
    g_assert_no_error (error);
    g_assert_cmpint (ss_store_confirm_cell (store, "S-200", ((SsCell *) g_ptr_array_index (cells, 0))->id,
                                            "ann", &error), >, 1);
    g_assert_no_error (error);
    g_assert_true (ss_store_check (store, NULL, NULL, &error));
  }
  g_assert_true (store_test_pg_exec (db, "ALTER TABLE corrections DISABLE TRIGGER corrections_no_update;"
                                         "UPDATE corrections SET \"user\" = 'mallory' WHERE id = 2;"
                                         "ALTER TABLE corrections ENABLE TRIGGER corrections_no_update",
                                     NULL));
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "check", NULL);
    g_assert_cmpint (run.status, ==, 1);
    g_assert_nonnull (strstr (run.err, "corrections row 2 "));
  }
  g_autofree char *store = g_steal_pointer (&db);
  db = g_strdup_printf ("postgresql://ann:secret@%s", store + strlen ("postgresql://"));
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "list", NULL);
    assert_fails (&run, "~/.pgpass");
    g_assert_null (strstr (run.err, "secret"));
  }
  g_free (db);
  db = g_strdup_printf ("postgresql:///x?host=%s&port=1", dir);
  {
    /* not waited for: no server is coming back there */
    g_setenv ("SMEARSCOPE_RECONNECT_WAIT", "0", TRUE);
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "list", NULL);
    assert_fails (&run, "cannot reach the case server at");
    g_unsetenv ("SMEARSCOPE_RECONNECT_WAIT");
  }
  g_free (db);
  db = store_test_location (dir, "empty");
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "counts", "--case", "A", NULL);
    assert_fails (&run, "no case store");
    assert_fails (&run, "smearscope-cli case new");
    g_autoptr (GError) error = NULL;
    g_assert_null (ss_store_open (db, SS_STORE_OPEN_READ_ONLY, &error));
    g_assert_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NO_STORE);
  }
}

static void
test_contract (void)
{
  g_autofree char *dir = store_test_dir ();
  const gboolean on_pg = store_test_pg () != NULL;
  /* a file whose folder does not exist yet, or an empty database on the test cluster */
  db = on_pg ? store_test_location (dir, "cases") : g_build_filename (dir, "sub", "cases.db", NULL);
  /* on a server every change is recorded under the login: the test cluster's is smearscope */
  const char *ann = on_pg ? "smearscope" : "ann";
  const char *hem = on_pg ? "smearscope" : "dr. hem";
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "new", "S-100", "--patient", "MRN-7", "--stain", "Wright", NULL);
    g_assert_cmpint (run.status, ==, 0);
    GStatBuf st;
    if (!on_pg)
      {
        g_assert_cmpint (g_stat (db, &st), ==, 0);
        g_assert_cmpint (st.st_mode & 0777, ==, 0600);
      }
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "new", "S-100", NULL);
    assert_fails (&run, "already a case 'S-100'");
  }
  /* The analysis engineer's `analyze --case` goes through the same API. */
  GPtrArray *cells = store_test_cells (24);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (SsStore) store = ss_store_open (db, SS_STORE_OPEN_DEFAULT, &error);
    SsImageInfo info = store_test_image_info ();
    g_assert_cmpint (ss_store_add_image (store, "S-100", &info, cells, &error), >, 0);
    g_assert_no_error (error);
  }
  g_autoptr (JsonParser) parser = json_parser_new ();
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "list", "--json", NULL);
    g_assert_cmpint (run.status, ==, 0);
    JsonObject *root = parse_object (parser, run.out);
    JsonArray *cases = json_object_get_array_member (root, "cases");
    g_assert_cmpuint (json_array_get_length (cases), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (cases, 0), "accession"),
                     ==, "S-100");
  }
  gint64 first_cell = ((SsCell *) g_ptr_array_index (cells, 1))->id;  /* a lymphocyte */
  g_autofree char *cell_arg = g_strdup_printf ("%" G_GINT64_FORMAT, first_cell);
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "show", "S-100", "--json", NULL);
    g_assert_cmpint (run.status, ==, 0);
    JsonObject *root = parse_object (parser, run.out);
    g_assert_cmpstr (json_object_get_string_member (root, "accession"), ==, "S-100");
    g_assert_cmpstr (json_object_get_string_member (root, "status"), ==, "open");
    JsonArray *images = json_object_get_array_member (root, "images");
    g_assert_cmpuint (json_array_get_length (images), ==, 1);
    JsonObject *image = json_array_get_object_element (images, 0);
    g_assert_true (json_object_has_member (image, "id"));
    g_assert_cmpstr (json_object_get_string_member (image, "path"), ==, "fields/f1.png");
    JsonArray *shown = json_object_get_array_member (image, "cells");
    g_assert_cmpuint (json_array_get_length (shown), ==, 24);
    JsonObject *cell = json_array_get_object_element (shown, 1);
    g_assert_cmpint (json_object_get_int_member (cell, "id"), ==, first_cell);
    g_assert_cmpstr (json_object_get_string_member (cell, "class"), ==, "lymphocyte");
    g_assert_true (json_object_has_member (cell, "confidence"));
    JsonObject *box = json_object_get_object_member (cell, "box");
    g_assert_cmpint (json_object_get_int_member (box, "width"), ==, 24);
    JsonObject *counts = json_object_get_object_member (root, "counts");
    g_assert_cmpint (json_object_get_int_member (counts, "lymphoblast"), ==, 3);
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-100", "--cell", cell_arg, "--class", "lymphoblast",
             "--user", ann, NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-100", "--cell", cell_arg, "--class", "3", "--user", ann, NULL);
    g_assert_cmpint (run.status, ==, 0);  /* a key stands for its class: 3 is neutrophil */
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-100", "--cell", cell_arg, "--undo", "2", "--user", ann, NULL);
    g_assert_cmpint (run.status, !=, 0);  /* --undo is an action of its own */
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-100", "--undo", "2", "--user", ann, NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "counts", "--case", "S-100", "--json", NULL);
    g_assert_cmpint (run.status, ==, 0);
    JsonObject *root = parse_object (parser, run.out);
    JsonObject *counts = json_object_get_object_member (root, "counts");
    g_assert_cmpint (json_object_get_int_member (counts, "lymphoblast"), ==, 4);
    g_assert_cmpint (json_object_get_int_member (counts, "lymphocyte"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (counts, "not_a_cell"), ==, 3);
    /* 4 blasts of 21 counted WBCs */
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (root, "blast_pct"), 100.0 * 4 / 21, 1e-6);
    JsonArray *ci = json_object_get_array_member (root, "blast_ci95");
    g_assert_cmpuint (json_array_get_length (ci), ==, 2);
    g_assert_cmpfloat (json_array_get_double_element (ci, 0), <, 19.05);
    g_assert_cmpfloat (json_array_get_double_element (ci, 1), >, 19.05);
    g_assert_false (json_object_get_boolean_member (root, "flag"));
    g_assert_false (json_object_get_boolean_member (root, "decided"));
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "history", "S-100", "--json", NULL);
    g_assert_cmpint (run.status, ==, 0);
    JsonObject *root = parse_object (parser, run.out);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "corrections")), ==, 3);
  }

  /* Bad input: a message and a non-zero exit, nothing stored. */
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-100", "--cell", cell_arg, "--class", "blastoid", "--user", ann, NULL);
    assert_fails (&run, "unknown class 'blastoid'");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-999", "--cell", cell_arg, "--class", "1", "--user", ann, NULL);
    assert_fails (&run, "no case 'S-999'");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-100", "--cell", "99999", "--class", "1", "--user", ann, NULL);
    assert_fails (&run, "no cell 99999");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "counts", NULL);
    assert_fails (&run, "--case");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "signoff", "--case", "S-100", "--user", hem, NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "S-100", "--cell", cell_arg, "--class", "1", "--user", ann, NULL);
    g_autofree char *signed_by = g_strdup_printf ("signed by %s", hem);
    assert_fails (&run, signed_by);
    /* The store says what to do in words; the CLI adds the command that does it. */
    assert_fails (&run, "reopen it first");
    assert_fails (&run, "smearscope-cli case reopen");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "show", "S-100", NULL);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_nonnull (strstr (run.out, "signed"));
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "reopen", "S-100", "--user", hem, NULL);
    g_assert_cmpint (run.status, ==, 2);  /* the reason is required */
    assert_fails (&run, "--reason");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "reopen", "S-100", "--user", hem, "--reason", "recount the blasts", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "reopen", "S-100", "--user", hem, "--reason", "again", NULL);
    assert_fails (&run, "not signed");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "show", "S-100", "--json", NULL);
    g_assert_cmpint (run.status, ==, 0);
    JsonObject *root = parse_object (parser, run.out);
    g_assert_cmpstr (json_object_get_string_member (root, "status"), ==, "open");
    g_assert_true (json_object_get_null_member (root, "signed_by"));
    JsonArray *events = json_object_get_array_member (root, "events");
    g_assert_cmpuint (json_array_get_length (events), ==, 2);
    JsonObject *signed_event = json_array_get_object_element (events, 0);
    g_assert_cmpstr (json_object_get_string_member (signed_event, "kind"), ==, "signed");
    g_assert_true (json_object_get_null_member (signed_event, "reason"));
    JsonObject *reopened = json_array_get_object_element (events, 1);
    g_assert_cmpstr (json_object_get_string_member (reopened, "kind"), ==, "reopened");
    g_assert_cmpstr (json_object_get_string_member (reopened, "user"), ==, hem);
    g_assert_cmpstr (json_object_get_string_member (reopened, "reason"), ==, "recount the blasts");
    /* Relabelled, relabelled again, the second undone: the first stands, so reviewed. */
    JsonArray *shown = json_object_get_array_member (
      json_array_get_object_element (json_object_get_array_member (root, "images"), 0), "cells");
    for (guint i = 0; i < json_array_get_length (shown); i++)
      {
        JsonObject *cell = json_array_get_object_element (shown, i);
        g_assert_cmpint (json_object_get_boolean_member (cell, "reviewed"), ==,
                         json_object_get_int_member (cell, "id") == first_cell);
      }
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "case", "show", "S-100", NULL);
    g_assert_cmpint (run.status, ==, 0);
    g_autofree char *reopened = g_strdup_printf ("reopened by %s: recount the blasts", hem);
    g_assert_nonnull (strstr (run.out, reopened));
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "db", "check", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  if (on_pg)
    test_contract_pg (dir);
  else
    test_contract_sqlite (dir);
  g_ptr_array_unref (cells);
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  store_test_remove_dir (sub);
  store_test_remove_dir (dir);
}

/* Who a change is recorded as: on a file --user (required to sign); on a server the
 * login, and a --user that differs from it is refused before anything is stored. */
static void
test_user_is_login (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autoptr (GPtrArray) cells = NULL;
  g_autoptr (SsStore) store = store_test_populated (dir, "login.db", "L-1", 4, &cells);
  g_free (db);
  db = g_strdup (ss_store_get_path (store));
  g_autofree char *cell_arg = g_strdup_printf ("%" G_GINT64_FORMAT,
                                               ((SsCell *) cells->pdata[0])->id);
  g_autoptr (JsonParser) parser = json_parser_new ();
  if (store_test_pg () == NULL)
    {
      g_auto (Run) run = { 0 };
      run_cli (&run, "signoff", "--case", "L-1", NULL);
      g_assert_cmpint (run.status, ==, 2);
      assert_fails (&run, "signoff needs --user NAME");
      store_test_remove_dir (dir);
      return;
    }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "L-1", "--cell", cell_arg, "--class", "monocyte",
             "--user", "ann", NULL);
    g_assert_cmpint (run.status, ==, 2);
    assert_fails (&run, "--user ann is not your login smearscope; leave --user out");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "signoff", "--case", "L-1", "--user", "ann", NULL);
    g_assert_cmpint (run.status, ==, 2);
    assert_fails (&run, "is not your login smearscope");
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "relabel", "--case", "L-1", "--cell", cell_arg, "--class", "monocyte", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  {
    g_auto (Run) run = { 0 };
    run_cli (&run, "signoff", "--case", "L-1", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  g_auto (Run) run = { 0 };
  run_cli (&run, "case", "history", "L-1", "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  JsonObject *root = parse_object (parser, run.out);
  JsonArray *corrections = json_object_get_array_member (root, "corrections");
  g_assert_cmpuint (json_array_get_length (corrections), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (corrections, 0),
                                                  "user"), ==, "smearscope");
  g_autoptr (SsCase) signed_case = ss_store_get_case (store, "L-1", NULL);
  g_assert_cmpstr (signed_case->signed_by, ==, "smearscope");
  store_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  cli = store_test_cli ();
  g_test_add_func ("/store/cli-contract", test_contract);
  g_test_add_func ("/store/cli-user-is-login", test_user_is_login);
  return g_test_run ();
}
