/* Crash test: a child relabels cells (and now and then stores a whole image) in a loop
 * and is killed with SIGKILL at a random moment. After each kill the store must pass
 * db check, every correction whose commit had returned (the child logs its id, fsynced,
 * after the commit returns) must be there, and every image must be whole.
 * Usage: test-store-crash [--iterations N] (default 10; the 'slow' suite runs 100). */
#include "store-test-util.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define INITIAL_CELLS 200
#define IMAGE_CELLS   300

static int iterations = 10;

G_GNUC_NORETURN static void
child_run (const char *path, const char *log_path, guint32 seed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  int log_fd = open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  SsStore *store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL || log_fd < 0)
    _exit (2);
  g_autoptr (GPtrArray) images = ss_store_list_images (store, "C-1", TRUE, &error);
  if (images == NULL)
    _exit (3);
  SsImageRecord *first = g_ptr_array_index (images, 0);
  g_autoptr (GPtrArray) extra = store_test_cells (IMAGE_CELLS);
  SsImageInfo info = store_test_image_info ();
  for (;;)
    {
      if (g_rand_int_range (rand, 0, 40) == 0)
        {
          if (ss_store_add_image (store, "C-1", &info, extra, &error) == 0)
            _exit (4);
          continue;
        }
      SsCell *cell = g_ptr_array_index (first->cells, g_rand_int_range (rand, 0, first->cells->len));
      gint64 id = ss_store_relabel_cell (store, "C-1", cell->id, g_rand_int_range (rand, 0, SS_N_CLASSES),
                                         "crash-child", &error);
      if (id < 0)
        {
          g_printerr ("child: %s\n", error->message);
          _exit (5);
        }
      if (id == 0)
        continue;
      char line[32];
      int n = g_snprintf (line, sizeof line, "%" G_GINT64_FORMAT "\n", id);
      if (write (log_fd, line, n) != n || fsync (log_fd) != 0)
        _exit (6);
    }
}

static void
test_crash (void)
{
  g_autofree char *dir = store_test_dir ();
  g_autoptr (SsStore) setup = store_test_populated (dir, "crash.db", "C-1", INITIAL_CELLS, NULL);
  g_autofree char *path = g_strdup (ss_store_get_path (setup));
  g_clear_object (&setup);
  g_autofree char *log_path = g_build_filename (dir, "committed.log", NULL);
  gint64 total_logged = 0, min_run = G_MAXINT64, max_run = 0;
  int killed_while_running = 0;

  for (int i = 0; i < iterations; i++)
    {
      g_unlink (log_path);
      pid_t pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        child_run (path, log_path, 1000 + i);
      /* from mid-open to mid-loop; a server's connection takes longer to open */
      g_usleep (g_random_int_range (2000, store_test_pg () != NULL ? 400000 : 150000));
      kill (pid, SIGKILL);
      int status = 0;
      waitpid (pid, &status, 0);
      if (WIFEXITED (status))
        g_error ("the child stopped by itself with status %d before it was killed", WEXITSTATUS (status));
      killed_while_running += WIFSIGNALED (status);

      g_autoptr (GError) error = NULL;
      g_autoptr (SsStore) store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
      g_assert_no_error (error);
      gint64 n_corrections = 0;
      gboolean ok = ss_store_check (store, NULL, &n_corrections, &error);
      g_assert_no_error (error);
      g_assert_true (ok);

      g_autoptr (GPtrArray) history = ss_store_list_corrections (store, "C-1", &error);
      g_assert_no_error (error);
      g_autoptr (GHashTable) present = g_hash_table_new (g_int64_hash, g_int64_equal);
      for (guint k = 0; k < history->len; k++)
        g_hash_table_add (present, &((SsCorrection *) g_ptr_array_index (history, k))->id);
      g_autofree char *log = NULL;
      g_file_get_contents (log_path, &log, NULL, NULL);
      gint64 logged = 0;
      /* A line cut short by the kill was never logged as committed: only whole lines. */
      for (char *line = log, *end; line != NULL && (end = strchr (line, '\n')) != NULL; line = end + 1)
        {
          gint64 id = g_ascii_strtoll (line, NULL, 10);
          if (!g_hash_table_contains (present, &id))
            g_error ("iteration %d: correction %" G_GINT64_FORMAT " was committed but is gone", i, id);
          logged++;
        }
      total_logged += logged;
      min_run = MIN (min_run, logged);
      max_run = MAX (max_run, logged);

      g_autoptr (GPtrArray) images = ss_store_list_images (store, "C-1", FALSE, &error);
      for (guint k = 0; k < images->len; k++)
        {
          int counts[SS_N_CLASSES], n = 0;
          ss_store_image_counts (store, ((SsImageRecord *) g_ptr_array_index (images, k))->id, counts, &error);
          for (int c = 0; c < SS_N_CLASSES; c++)
            n += counts[c];
          g_assert_cmpint (n, ==, k == 0 ? INITIAL_CELLS : IMAGE_CELLS);
        }
    }
  g_print ("# crash test: %d kills (SIGKILL) at random moments, db check passed after every one; "
           "%" G_GINT64_FORMAT " committed corrections logged, all present (per run %" G_GINT64_FORMAT
           "-%" G_GINT64_FORMAT ")\n", killed_while_running, total_logged, min_run, max_run);
  store_test_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  for (int i = 1; i + 1 < argc; i++)
    if (strcmp (argv[i], "--iterations") == 0)
      {
        iterations = atoi (argv[i + 1]);
        memmove (argv + i, argv + i + 2, sizeof (char *) * (argc - i - 1));
        argc -= 2;
        break;
      }
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/crash", test_crash);
  return g_test_run ();
}
