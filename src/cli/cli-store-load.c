/* smearscope-cli bench --store --writers N: several stations correcting one case at
 * once (issue 31). N writer processes relabel cells of one case until each has stored
 * its share; afterwards every correction a writer saw return is looked up in the
 * store, the audit chain is checked, and the rate and the latency of one durable relabel
 * are printed. With --restarts, a server-control script kills the server (SIGKILL) and
 * starts it again that many times during the run: the writers carry on by themselves. */
#include "cli.h"
#include "ss-store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOAD_CELLS 2000

/* What a writer keeps of each correction whose call returned. */
typedef struct {
  gint64 correction_id;
  gint64 cell_id;
  gint32 new_class;
  float  ms;
} LoadRecord;

static int
compare_floats (gconstpointer a, gconstpointer b)
{
  float x = *(const float *) a, y = *(const float *) b;
  return (x > y) - (x < y);
}

/* One writer process: open its own store, relabel random cells until n are stored,
 * append a record per correction to its file. Exits 0, or 1 on an error it cannot ride
 * out (anything but the server being away). */
static int
load_writer (const char *location, const char *accession, const gint64 *cell_ids, int n_cells,
             int index, int n, const char *records_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7919 * (index + 1));
  g_autofree char *user = g_strdup_printf ("writer-%d", index);
  FILE *out = fopen (records_path, "wb");
  if (out == NULL)
    return 1;
  int stored = 0, away = 0;
  while (stored < n)
    {
      if (store == NULL)
        {
          store = ss_store_open (location, SS_STORE_OPEN_DEFAULT, &error);
          if (store == NULL)
            goto failed;
        }
      gint64 cell_id = cell_ids[g_rand_int_range (rand, 0, n_cells)];
      int new_class = g_rand_int_range (rand, 0, SS_N_CLASSES);
      gint64 start = g_get_monotonic_time ();
      gint64 id = ss_store_relabel_cell (store, accession, cell_id, new_class, user, &error);
      float ms = (g_get_monotonic_time () - start) / 1000.0f;
      if (id > 0)
        {
          LoadRecord record = { id, cell_id, new_class, ms };
          if (fwrite (&record, sizeof record, 1, out) != 1)
            goto failed;
          stored++;
        }
      else if (id < 0 && g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_IO))
        {
          /* the server went away under this correction: its outcome is unknown, and the
           * next one reconnects */
          away++;
          g_clear_error (&error);
        }
      else if (id < 0)
        goto failed;
    }
  fclose (out);
  if (away > 0)
    g_printerr ("writer %d: %d corrections met the server away and were retried\n", index,
                away);
  return 0;
failed:
  fclose (out);
  g_printerr ("writer %d: %s\n", index, error != NULL ? error->message : g_strerror (errno));
  return 1;
}

static gboolean
run_control (const char *script, const char *action)
{
  const char *argv[] = { script, action, NULL };
  int status = 0;
  g_autoptr (GError) error = NULL;
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                     &status, &error))
    {
      ss_cli_error ("cannot run %s %s: %s", script, action, error->message);
      return FALSE;
    }
  return g_spawn_check_wait_status (status, NULL);
}

int
ss_cli_bench_store_load (const char *location, int n_writers, int n_corrections, int restarts,
                         const char *control)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *scratch = g_dir_make_tmp ("smearscope-load-XXXXXX", &error);
  if (scratch == NULL)
    {
      ss_cli_error ("cannot make a scratch folder: %s", error->message);
      return 1;
    }
  g_autofree char *accession = g_strdup_printf ("LOAD-%d-%" G_GINT64_FORMAT, (int) getpid (),
                                                g_get_real_time () / G_USEC_PER_SEC);
  g_autofree gint64 *cell_ids = g_new0 (gint64, LOAD_CELLS);
  gint64 before = 0;
  {
    g_autoptr (SsStore) store = ss_store_open (location, SS_STORE_OPEN_CREATE, &error);
    g_autoptr (SsCase) c = store != NULL ? ss_store_create_case (store, accession, NULL, NULL,
                                                                 NULL, NULL, &error)
                                         : NULL;
    g_autoptr (GRand) rand = g_rand_new_with_seed (31);
    g_autoptr (GPtrArray) cells = c != NULL ? ss_cli_bench_cells (LOAD_CELLS, rand, 2592, 1944)
                                            : NULL;
    SsImageInfo info = { "load/field.png",
                         "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
                         2592, 1944, "bench-model", "1", "none" };
    if (c == NULL || ss_store_add_image (store, accession, &info, cells, &error) == 0
        || !ss_store_check (store, NULL, &before, &error))
      return ss_cli_store_failed (error);
    for (guint i = 0; i < cells->len; i++)
      cell_ids[i] = ((SsCell *) cells->pdata[i])->id;
  }

  printf ("%d writers x %d corrections on case %s of %s%s\n", n_writers, n_corrections,
          accession, location, restarts > 0 ? ", the server killed and restarted" : "");
  fflush (stdout);
  g_autoptr (GArray) pids = g_array_new (FALSE, FALSE, sizeof (GPid));
  gint64 start = g_get_monotonic_time ();
  for (int w = 0; w < n_writers; w++)
    {
      g_autofree char *name = g_strdup_printf ("writer-%d.bin", w);
      g_autofree char *path = g_build_filename (scratch, name, NULL);
      pid_t pid = fork ();
      if (pid == 0)
        _exit (load_writer (location, accession, cell_ids, LOAD_CELLS, w, n_corrections, path));
      if (pid < 0)
        {
          ss_cli_error ("cannot start writer %d: %s", w, g_strerror (errno));
          return 1;
        }
      g_array_append_val (pids, pid);
    }

  /* the faults: kill and restart the server at even intervals while the writers run */
  int done_restarts = 0;
  for (; done_restarts < restarts; done_restarts++)
    {
      g_usleep (G_USEC_PER_SEC * 3 / 2);
      if (!run_control (control, "kill") || !run_control (control, "start"))
        {
          ss_cli_error ("%s could not kill and restart the server", control);
          break;
        }
    }

  int failed = 0;
  for (guint w = 0; w < pids->len; w++)
    {
      int status = 0;
      waitpid (g_array_index (pids, GPid, w), &status, 0);
      if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
        failed++;
    }
  double seconds = (g_get_monotonic_time () - start) / 1e6;

  /* every correction a writer saw return must be in the store, as it returned */
  g_autoptr (SsStore) store = ss_store_open (location, SS_STORE_OPEN_READ_ONLY, &error);
  g_autoptr (GPtrArray) corrections = store != NULL ? ss_store_list_corrections (store, accession,
                                                                                 &error)
                                                    : NULL;
  if (corrections == NULL)
    return ss_cli_store_failed (error);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  for (guint i = 0; i < corrections->len; i++)
    {
      SsCorrection *k = corrections->pdata[i];
      g_hash_table_insert (by_id, &k->id, k);
    }
  g_autoptr (GArray) latencies = g_array_new (FALSE, FALSE, sizeof (float));
  gint64 returned = 0, missing = 0;
  for (int w = 0; w < n_writers; w++)
    {
      g_autofree char *name = g_strdup_printf ("writer-%d.bin", w);
      g_autofree char *path = g_build_filename (scratch, name, NULL);
      g_autofree char *user = g_strdup_printf ("writer-%d", w);
      g_autofree char *bytes = NULL;
      gsize size = 0;
      if (g_file_get_contents (path, &bytes, &size, NULL))
        for (gsize at = 0; at + sizeof (LoadRecord) <= size; at += sizeof (LoadRecord))
          {
            LoadRecord record;
            memcpy (&record, bytes + at, sizeof record);
            SsCorrection *k = g_hash_table_lookup (by_id, &record.correction_id);
            if (k == NULL || k->cell_id != record.cell_id || k->new_class != record.new_class
                || g_strcmp0 (k->user, user) != 0)
              missing++;
            returned++;
            g_array_append_val (latencies, record.ms);
          }
      g_unlink (path);
    }
  g_rmdir (scratch);
  g_autofree char *head = NULL;
  gint64 after = 0;
  gboolean chain_ok = ss_store_check (store, &head, &after, &error);
  g_array_sort (latencies, compare_floats);
  float p50 = latencies->len > 0 ? g_array_index (latencies, float, latencies->len / 2) : 0;
  float p95 = latencies->len > 0 ? g_array_index (latencies, float, latencies->len * 95 / 100) : 0;
  float p99 = latencies->len > 0 ? g_array_index (latencies, float, latencies->len * 99 / 100) : 0;
  float longest = latencies->len > 0 ? g_array_index (latencies, float, latencies->len - 1) : 0;

  printf ("  corrections returned: %" G_GINT64_FORMAT " of %d; missing or changed in the store "
          "afterwards: %" G_GINT64_FORMAT "\n", returned, n_writers * n_corrections, missing);
  printf ("  corrections in the case: %u (the chain grew by %" G_GINT64_FORMAT ")\n",
          corrections->len, after - before);
  printf ("  writers that failed: %d; server restarts: %d\n", failed, done_restarts);
  printf ("  db check: %s%s\n", chain_ok ? "passed, chain head " : "FAILED: ",
          chain_ok ? head : error->message);
  printf ("  %.0f corrections/s over %.1f s; one durable relabel: p50 %.2f ms, p95 %.2f ms, "
          "p99 %.2f ms, longest %.0f ms\n", returned / seconds, seconds, p50, p95, p99, longest);
  /* without faults every returned correction is the chain's growth; with them a
   * correction whose reply was lost may be stored too */
  gboolean complete = restarts > 0 ? after - before >= returned : after - before == returned;
  return failed == 0 && missing == 0 && chain_ok && complete
         && returned == (gint64) n_writers * n_corrections ? 0 : 1;
}
