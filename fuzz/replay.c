/* The replay driver: every file of the corpora named on the command line (folders, read
 * in name order, or single files) through the harness it is linked with, once, without
 * libFuzzer. A harness that crashes or whose FUZZ_CHECK fails stops it; no file at all
 * is an error too, so that a lost corpus cannot pass. */
#include "fuzz-util.h"

#include <string.h>

__attribute__ ((weak)) int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  return 0;
}

static void
replay_file (const char *path, guint *n_files)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      exit (1);
    }
  /* a copy of exactly its size, so that a sanitizer sees any read past the end */
  uint8_t *data = g_memdup2 (contents, MAX (length, 1));
  LLVMFuzzerTestOneInput (data, length);
  g_free (data);
  (*n_files)++;
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

int
main (int argc, char **argv)
{
  if (argc < 2)
    {
      fprintf (stderr, "usage: %s CORPUS-FOLDER-OR-FILE...\n", argv[0]);
      return 2;
    }
  LLVMFuzzerInitialize (&argc, &argv);
  guint n_files = 0;
  for (int i = 1; i < argc; i++)
    {
      if (!g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          replay_file (argv[i], &n_files);
          continue;
        }
      g_autoptr (GError) error = NULL;
      g_autoptr (GDir) dir = g_dir_open (argv[i], 0, &error);
      if (dir == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
      g_ptr_array_sort (names, compare_names);
      for (guint k = 0; k < names->len; k++)
        if (g_file_test (names->pdata[k], G_FILE_TEST_IS_REGULAR))
          replay_file (names->pdata[k], &n_files);
    }
  if (n_files == 0)
    {
      fprintf (stderr, "no corpus file found\n");
      return 1;
    }
  printf ("%u files replayed\n", n_files);
  return 0;
}
