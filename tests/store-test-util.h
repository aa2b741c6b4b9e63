/* Shared by the store tests: scratch folders, synthetic cells, a populated case, and the
 * location of a store on either backend. */
#pragma once

#include "ss-store.h"

#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEST_SHA256 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static inline char *
store_test_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("ss-store-test-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static inline void
store_test_remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* The smearscope-cli the tests run ($SMEARSCOPE_CLI, meson sets it); without it the
 * test is skipped (77) with a message. */
static inline char *
store_test_cli (void)
{
  const char *cli = g_getenv ("SMEARSCOPE_CLI");
  if (cli == NULL)
    {
      g_printerr ("set SMEARSCOPE_CLI to the smearscope-cli to test\n");
      exit (77);
    }
  return g_strdup (cli);
}

/* How much longer than usual a timed check may take: SMEARSCOPE_TEST_TIME_FACTOR, set
 * by the sanitizer and valgrind runs (docs/security.md), or 1. */
static inline double
store_test_time_factor (void)
{
  const char *factor = g_getenv ("SMEARSCOPE_TEST_TIME_FACTOR");
  double value = factor != NULL ? g_ascii_strtod (factor, NULL) : 1.0;
  return value >= 1.0 && value <= 1000.0 ? value : 1.0;
}

/* The maintenance database of the throwaway cluster tests/pg-cluster.sh started, or NULL
 * when the tests run on SQLite files. */
static inline const char *
store_test_pg (void)
{
  const char *uri = g_getenv ("SMEARSCOPE_TEST_DB");
  return uri != NULL && g_str_has_prefix (uri, "postgresql://") ? uri : NULL;
}

/* Run sql (no parameters: the tests' own text) on the database at uri; FALSE with the
 * server's message in message (may be NULL) when it refused. */
static inline gboolean
store_test_pg_exec (const char *uri, const char *sql, char **message)
{
  PGconn *pg = PQconnectdb (uri);
  if (PQstatus (pg) != CONNECTION_OK)
    g_error ("cannot reach the test cluster at %s: %s", uri, PQerrorMessage (pg));
  PGresult *result = PQexec (pg, sql);
  gboolean ok = PQresultStatus (result) == PGRES_COMMAND_OK
                || PQresultStatus (result) == PGRES_TUPLES_OK;
  if (message != NULL)
    *message = ok ? NULL : g_strdup (PQresultErrorMessage (result));
  PQclear (result);
  PQfinish (pg);
  return ok;
}

/* The URI of database name on the test cluster. */
static inline char *
store_test_pg_uri (const char *name)
{
  g_auto (GStrv) parts = g_strsplit (store_test_pg (), "?", 2);
  return g_strdup_printf ("postgresql:///%s?%s", name, parts[1]);
}

/* Where a test keeps the store it calls name: the file dir/name, or on PostgreSQL a new
 * empty database of the test cluster (each store its own, as each file is). */
static inline char *
store_test_location (const char *dir, const char *name)
{
  if (store_test_pg () == NULL)
    return g_build_filename (dir, name, NULL);
  static guint n_databases;
  g_autofree char *database = g_strdup_printf ("ss_%d_%u", (int) getpid (), n_databases++);
  g_autofree char *sql = g_strdup_printf ("CREATE DATABASE %s", database);
  g_autofree char *message = NULL;
  if (!store_test_pg_exec (store_test_pg (), sql, &message))
    g_error ("cannot create the test database %s: %s", database, message);
  return store_test_pg_uri (database);
}

/* n cells with disc masks, classes cycling through the 8 (so counts are known). */
static inline GPtrArray *
store_test_cells (int n)
{
  GPtrArray *cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  guint8 mask[24 * 24], nucleus[24 * 24];
  for (int y = 0; y < 24; y++)
    for (int x = 0; x < 24; x++)
      {
        int d2 = (x - 12) * (x - 12) + (y - 12) * (y - 12);
        mask[y * 24 + x] = d2 < 144;
        nucleus[y * 24 + x] = d2 < 49;
      }
  for (int i = 0; i < n; i++)
    {
      SsCell *cell = ss_cell_new ();
      cell->box = (SsBox) { (i * 30) % 600, ((i * 30) / 600) * 30 % 450, 24, 24 };
      ss_rle_encode (&cell->mask, mask, 24, 24);
      ss_rle_encode (&cell->nucleus_mask, nucleus, 24, 24);
      cell->predicted_class = i % SS_N_CLASSES;
      cell->confidence = 0.5f + 0.05f * (i % 10);
      for (int c = 0; c < SS_N_CLASSES; c++)
        cell->probabilities[c] = c == cell->predicted_class ? cell->confidence
                                                            : (1.0f - cell->confidence) / 7;
      cell->morphometrics = (SsMorphometrics) { 452, 75.4, 1.0, 154, 0.52, 0.9 + 0.01 * (i % 7) };
      /* doubted where already unsure under 0.6, so the tallies of other tests stand */
      cell->doubt = i % 10 == 1 ? SS_DOUBT_NUCLEUS_NOT_ROUND : SS_DOUBT_NONE;
      g_ptr_array_add (cells, cell);
    }
  return cells;
}

static inline SsImageInfo
store_test_image_info (void)
{
  return (SsImageInfo) { "fields/f1.png", TEST_SHA256, 640, 480, "mscnn-wbc", "1.0", "abc123",
                         191.8, "red-cells" };
}

/* A store at dir/name with case accession holding one image of n_cells cells. */
static inline SsStore *
store_test_populated (const char *dir, const char *name, const char *accession, int n_cells,
                      GPtrArray **cells_out)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = store_test_location (dir, name);
  SsStore *store = ss_store_open (path, SS_STORE_OPEN_CREATE, &error);
  g_assert_no_error (error);
  g_autoptr (SsCase) c = ss_store_create_case (store, accession, "P-1", "peripheral blood",
                                               "Wright-Giemsa", NULL, &error);
  g_assert_no_error (error);
  GPtrArray *cells = store_test_cells (n_cells);
  SsImageInfo info = store_test_image_info ();
  gint64 image_id = ss_store_add_image (store, accession, &info, cells, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image_id, >, 0);
  if (cells_out != NULL)
    *cells_out = cells;
  else
    g_ptr_array_unref (cells);
  return store;
}

/* Run the sqlite3 shell on a file; FALSE (and the test skipped) if it is not there. */
static inline gboolean
store_test_sqlite3 (const char *path, const char *sql)
{
  g_autofree char *shell = g_find_program_in_path ("sqlite3");
  if (shell == NULL)
    {
      g_test_skip ("the sqlite3 shell is not installed (deps/debian-packages.txt lists it)");
      return FALSE;
    }
  const char *argv[] = { shell, "-bail", path, sql, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;
  g_autofree char *err = NULL;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, &err,
                &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("sqlite3 %s failed: %s", sql, err);
  return TRUE;
}
