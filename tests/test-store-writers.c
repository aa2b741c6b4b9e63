/* Two writers: two processes relabel the same cells of one case at once. Neither may
 * see "database is locked" (the busy timeout and retry absorb the contention), and no
 * update may be lost: every correction's old class must be the class the one before it
 * left (db check replays them), and every correction either process got back is there. */
#include "store-test-util.h"

#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#define N_CELLS    60
#define N_RELABELS 150

G_GNUC_NORETURN static void
writer (const char *path, const char *log_path, int start_fd, guint32 seed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  char go;
  if (read (start_fd, &go, 1) < 0)
    _exit (2);
  g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    {
      g_printerr ("writer: %s\n", error->message);
      _exit (3);
    }
  g_autoptr (GPtrArray) images = ss_store_list_images (store, "W-1", TRUE, &error);
  GPtrArray *cells = ((SsImageRecord *) g_ptr_array_index (images, 0))->cells;
  GString *log = g_string_new (NULL);
  for (int i = 0; i < N_RELABELS; i++)
    {
      SsCell *cell = g_ptr_array_index (cells, g_rand_int_range (rand, 0, cells->len));
      gint64 id = ss_store_relabel_cell (store, "W-1", cell->id, g_rand_int_range (rand, 0, SS_N_CLASSES),
                                         seed % 2 ? "odd" : "even", &error);
      if (id < 0)
        {
          g_printerr ("writer: %s\n", error->message);
          _exit (4);
        }
      if (id > 0)
        g_string_append_printf (log, "%" G_GINT64_FORMAT "\n", id);
    }
  if (!g_file_set_contents (log_path, log->str, -1, NULL))
    _exit (5);
  _exit (0);
}

static void
test_two_writers (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autoptr (SsStore) setup = store_test_populated (dir, "two.db", "W-1", N_CELLS, NULL);
  g_autofree char *path = g_strdup (ss_store_get_path (setup));
  g_clear_object (&setup);
  int start[2];
  g_assert_cmpint (pipe (start), ==, 0);
  pid_t pids[2];
  char *logs[2];
  for (int w = 0; w < 2; w++)
    {
      logs[w] = g_strdup_printf ("%s/writer-%d.log", dir, w);
      pids[w] = fork ();
      if (pids[w] == 0)
        {
          close (start[1]);
          writer (path, logs[w], start[0], 7 + w);
        }
    }
  close (start[0]);
  close (start[1]);  /* both read EOF at once: the start signal */
  for (int w = 0; w < 2; w++)
    {
      int status = 0;
      waitpid (pids[w], &status, 0);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  gint64 n_corrections = 0;
  gboolean ok = ss_store_check (store, NULL, &n_corrections, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  int per_writer[2] = { 0, 0 };
  for (int w = 0; w < 2; w++)
    {
      g_autofree char *text = NULL;
      g_assert_true (g_file_get_contents (logs[w], &text, NULL, NULL));
      g_auto (GStrv) lines = g_strsplit (g_strstrip (text), "\n", -1);
      for (int i = 0; lines[i] != NULL && *lines[i] != '\0'; i++)
        {
          gint64 *id = g_new (gint64, 1);
          *id = g_ascii_strtoll (lines[i], NULL, 10);
          g_assert_false (g_hash_table_contains (seen, id));
          g_hash_table_add (seen, id);
          per_writer[w]++;
        }
      g_free (logs[w]);
    }
  /* Every returned id is a distinct row, and there are no others. */
  g_assert_cmpint (n_corrections, ==, g_hash_table_size (seen));
  g_autoptr (GPtrArray) history = ss_store_list_corrections (store, "W-1", &error);
  for (guint i = 0; i < history->len; i++)
    g_assert_true (g_hash_table_contains (seen, &((SsCorrection *) g_ptr_array_index (history, i))->id));
  g_print ("# two writers: %d + %d corrections committed concurrently, none lost, no busy error\n",
           per_writer[0], per_writer[1]);
  store_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/two-writers", test_two_writers);
  return g_test_run ();
}
