/* The scratch file of the harnesses that read paths. */
#include "fuzz-util.h"

#include <glib/gstdio.h>
#include <unistd.h>

static char *scratch_path;

static void
remove_scratch (void)
{
  if (scratch_path != NULL)
    g_unlink (scratch_path);
}

const char *
fuzz_write_file (const char *suffix, const uint8_t *data, size_t size)
{
  static char *path_suffix;
  if (scratch_path == NULL || g_strcmp0 (path_suffix, suffix) != 0)
    {
      remove_scratch ();
      g_free (scratch_path);
      g_free (path_suffix);
      g_autoptr (GError) error = NULL;
      g_autofree char *name = g_strconcat ("smearscope-fuzz-XXXXXX", suffix, NULL);
      int fd = g_file_open_tmp (name, &scratch_path, &error);
      FUZZ_CHECK (fd >= 0, "no scratch file: %s", error->message);
      close (fd);
      path_suffix = g_strdup (suffix);
      static gboolean registered;
      if (!registered)
        atexit (remove_scratch);
      registered = TRUE;
    }
  FILE *f = fopen (scratch_path, "wb");
  FUZZ_CHECK (f != NULL, "cannot write %s", scratch_path);
  FUZZ_CHECK (size == 0 || fwrite (data, 1, size, f) == size, "cannot write %s", scratch_path);
  FUZZ_CHECK (fclose (f) == 0, "cannot write %s", scratch_path);
  return scratch_path;
}
