/* smearscope-cli bench --store: the store's budgets of DESIGN.md measured on this
 * machine: insert one case of 100,000 cells (< 1 s), a durable relabel commit
 * (< 10 ms median), the counts of that case (< 50 ms). */
#include "cli.h"

#include "ss-counts.h"
#include "ss-store.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return (x > y) - (x < y);
}

static double
quantile (GArray *times, double q)
{
  g_array_sort (times, compare_doubles);
  guint i = (guint) floor (q * (times->len - 1) + 0.5);
  return g_array_index (times, double, MIN (i, times->len - 1));
}

GPtrArray *
ss_cli_bench_cells (int n, GRand *rand, int width, int height)
{
  GPtrArray *cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  guint8 *mask = g_malloc (64 * 64), *nucleus = g_malloc (64 * 64);
  for (int i = 0; i < n; i++)
    {
      SsCell *cell = ss_cell_new ();
      int side = g_rand_int_range (rand, 36, 61);
      cell->box = (SsBox) { g_rand_int_range (rand, 0, width - side),
                            g_rand_int_range (rand, 0, height - side), side, side };
      double r = side / 2.0, rn = r * 0.6;
      for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++)
          {
            double d2 = (x - r + 0.5) * (x - r + 0.5) + (y - r + 0.5) * (y - r + 0.5);
            mask[y * side + x] = d2 <= r * r;
            nucleus[y * side + x] = d2 <= rn * rn;
          }
      ss_rle_encode (&cell->mask, mask, side, side);
      ss_rle_encode (&cell->nucleus_mask, nucleus, side, side);
      cell->predicted_class = g_rand_int_range (rand, 0, SS_N_CLASSES);
      float rest = 1.0f;
      for (int c = 0; c < SS_N_CLASSES; c++)
        {
          cell->probabilities[c] = c == cell->predicted_class ? 0.0f : rest * 0.1f;
          rest -= cell->probabilities[c];
        }
      cell->probabilities[cell->predicted_class] = rest;
      cell->confidence = rest;
      cell->morphometrics = (SsMorphometrics) { M_PI * r * r, 2 * M_PI * r, 1.0, M_PI * rn * rn, 0.56 };
      g_ptr_array_add (cells, cell);
    }
  g_free (mask);
  g_free (nucleus);
  return cells;
}

int
ss_cli_bench_store (int argc, char **argv)
{
  gboolean json = FALSE;
  int n_cells = 100000, repeats = 5, n_relabels = 200;
  int n_writers = 0, n_corrections = 10000, restarts = 0;
  g_autofree char *dir = NULL, *control = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "cells", 0, 0, G_OPTION_ARG_INT, &n_cells, "Cells in the case (default 100000)", "N" },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &repeats, "Inserts to time (default 5)", "N" },
    { "relabels", 0, 0, G_OPTION_ARG_INT, &n_relabels, "Relabels to time (default 200)", "N" },
    { "bench-dir", 0, 0, G_OPTION_ARG_FILENAME, &dir,
      "Where the scratch stores go: the disk being measured (default: the temp dir)", "DIR" },
    { "writers", 0, 0, G_OPTION_ARG_INT, &n_writers,
      "Instead: N writer processes correcting one case of the store --db names", "N" },
    { "corrections", 0, 0, G_OPTION_ARG_INT, &n_corrections,
      "Corrections each writer stores (default 10000)", "N" },
    { "restarts", 0, 0, G_OPTION_ARG_INT, &restarts,
      "Kill the server (SIGKILL) and start it again N times during the writers' run", "N" },
    { "server-control", 0, 0, G_OPTION_ARG_FILENAME, &control,
      "With --restarts: a script taking kill or start", "SCRIPT" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- time the case store");
  ss_cli_add_entries (context, entries);
  /* bench passes its whole command line on; what is not ours is the caller's. */
  g_option_context_set_ignore_unknown_options (context, TRUE);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (n_writers != 0)
    {
      if (n_writers < 1 || n_writers > 64 || n_corrections < 1 || n_corrections > 10000000
          || restarts < 0 || (restarts > 0 && control == NULL))
        {
          ss_cli_error ("--writers 1..64, --corrections 1..10000000, and --restarts N needs "
                        "--server-control SCRIPT");
          return 2;
        }
      return ss_cli_bench_store_load (ss_cli_db_path (), n_writers, n_corrections, restarts,
                                      control);
    }
  if (n_cells < 1 || n_cells > 10000000 || repeats < 1 || repeats > 100 || n_relabels < 1
      || n_relabels > 100000)
    {
      ss_cli_error ("--cells 1..10000000, --repeat 1..100, --relabels 1..100000");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *scratch = NULL;
  if (dir != NULL)
    {
      g_autofree char *template = g_build_filename (dir, "smearscope-bench-XXXXXX", NULL);
      scratch = g_mkdtemp (g_steal_pointer (&template));
    }
  else
    scratch = g_dir_make_tmp ("smearscope-bench-XXXXXX", &error);
  if (scratch == NULL)
    {
      ss_cli_error ("cannot make a scratch folder for the bench%s%s", error != NULL ? ": " : "",
                    error != NULL ? error->message : "");
      return 1;
    }

  g_autoptr (GRand) rand = g_rand_new_with_seed (20240601);
  g_autoptr (GPtrArray) cells = ss_cli_bench_cells (n_cells, rand, 2592, 1944);
  g_autoptr (GArray) insert_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) relabel_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) counts_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (SsStore) store = NULL;
  g_autofree char *path = NULL;
  gint64 db_bytes = 0;
  int status = 1;
  SsImageInfo info = { "bench/field.png",
                       "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
                       2592, 1944, "bench-model", "1", "none" };

  for (int r = 0; r < repeats; r++)
    {
      g_clear_object (&store);
      if (path != NULL)
        {
          g_autofree char *wal = g_strconcat (path, "-wal", NULL);
          g_autofree char *shm = g_strconcat (path, "-shm", NULL);
          g_unlink (path);
          g_unlink (wal);
          g_unlink (shm);
          g_free (path);
        }
      g_autofree char *name = g_strdup_printf ("bench-%d.db", r);
      path = g_build_filename (scratch, name, NULL);
      store = ss_store_open (path, SS_STORE_OPEN_CREATE, &error);
      g_autoptr (SsCase) c = store != NULL ? ss_store_create_case (store, "BENCH-1", NULL, NULL,
                                                                   NULL, NULL, &error)
                                           : NULL;
      if (c == NULL)
        goto out;
      gint64 start = g_get_monotonic_time ();
      if (ss_store_add_image (store, "BENCH-1", &info, cells, &error) == 0)
        goto out;
      double ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (insert_ms, ms);
    }
  for (int i = 0; i < n_relabels; i++)
    {
      SsCell *cell = g_ptr_array_index (cells, g_rand_int_range (rand, 0, cells->len));
      int new_class = (cell->current_class + 1 + g_rand_int_range (rand, 0, SS_N_CLASSES - 1)) % SS_N_CLASSES;
      gint64 start = g_get_monotonic_time ();
      if (ss_store_relabel_cell (store, "BENCH-1", cell->id, new_class, "bench", &error) <= 0)
        goto out;
      double ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (relabel_ms, ms);
      cell->current_class = new_class;
    }
  SsCounts counts = { 0 };
  for (int i = 0; i < 21; i++)
    {
      int class_counts[SS_N_CLASSES];
      gint64 start = g_get_monotonic_time ();
      if (!ss_store_case_counts (store, "BENCH-1", class_counts, &error))
        goto out;
      ss_counts_compute (class_counts, SS_BLAST_THRESHOLD_DEFAULT, &counts);
      double ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (counts_ms, ms);
    }
  /* Closing checkpoints the WAL into the file, whose size is then the whole store. */
  g_clear_object (&store);
  GStatBuf st;
  if (g_stat (path, &st) == 0)
    db_bytes = st.st_size;

  double insert_median = quantile (insert_ms, 0.5), relabel_median = quantile (relabel_ms, 0.5);
  double relabel_p95 = quantile (relabel_ms, 0.95), counts_median = quantile (counts_ms, 0.5);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      struct { const char *key; gint64 value; } counts_of[] = {
        { "cells", n_cells }, { "insert_repeats", repeats }, { "relabels", n_relabels },
        { "counted", counts.total_counted }, { "db_bytes", db_bytes },
      };
      struct { const char *key; double value; } times[] = {
        { "insert_ms_median", insert_median }, { "relabel_ms_median", relabel_median },
        { "relabel_ms_p95", relabel_p95 }, { "counts_ms_median", counts_median },
      };
      for (guint i = 0; i < G_N_ELEMENTS (counts_of); i++)
        {
          json_builder_set_member_name (builder, counts_of[i].key);
          json_builder_add_int_value (builder, counts_of[i].value);
        }
      for (guint i = 0; i < G_N_ELEMENTS (times); i++)
        {
          json_builder_set_member_name (builder, times[i].key);
          json_builder_add_double_value (builder, round (times[i].value * 1000) / 1000);
        }
      json_builder_set_member_name (builder, "dir");
      json_builder_add_string_value (builder, scratch);
      json_builder_end_object (builder);
      g_autoptr (JsonNode) root = json_builder_get_root (builder);
      g_autofree char *text = json_to_string (root, TRUE);
      printf ("%s\n", text);
    }
  else
    {
      printf ("Case store bench in %s (synchronous=FULL, WAL)\n", scratch);
      printf ("  insert one case of %d cells: median %.1f ms over %d  (budget 1000 ms)\n", n_cells,
              insert_median, repeats);
      printf ("  durable relabel commit:       median %.2f ms, p95 %.2f ms over %d  (budget 10 ms)\n",
              relabel_median, relabel_p95, n_relabels);
      printf ("  counts of the case:           median %.2f ms over 21  (budget 50 ms)\n", counts_median);
      printf ("  store size: %.1f MB\n", db_bytes / 1e6);
    }
  status = 0;
out:
  if (error != NULL)
    ss_cli_error ("%s", error->message);
  g_clear_object (&store);
  if (path != NULL)
    {
      g_autofree char *wal = g_strconcat (path, "-wal", NULL);
      g_autofree char *shm = g_strconcat (path, "-shm", NULL);
      g_unlink (path);
      g_unlink (wal);
      g_unlink (shm);
    }
  g_rmdir (scratch);
  return status;
}
