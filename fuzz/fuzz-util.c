/* The scratch file of the harnesses that read paths. */
#include "fuzz-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static char *scratch_dir;

static void
remove_scratch (void)
{
  g_autoptr (GDir) dir = g_dir_open (scratch_dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (scratch_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (scratch_dir);
}

const char *
fuzz_write_file (const char *suffix, const uint8_t *data, size_t size)
{
  static char *path;
  static char *path_suffix;
  if (scratch_dir == NULL)
    {
      g_autoptr (GError) error = NULL;
      scratch_dir = g_dir_make_tmp ("smearscope-fuzz-XXXXXX", &error);
      FUZZ_CHECK (scratch_dir != NULL, "no scratch folder: %s", error->message);
      atexit (remove_scratch);
    }
  if (path == NULL || g_strcmp0 (path_suffix, suffix) != 0)
    {
      if (path != NULL)
        g_unlink (path);
      g_free (path);
      g_free (path_suffix);
      g_autofree char *name = g_strconcat ("input", suffix, NULL);
      path = g_build_filename (scratch_dir, name, NULL);
      path_suffix = g_strdup (suffix);
    }
  FILE *f = fopen (path, "wb");
  FUZZ_CHECK (f != NULL, "cannot write %s", path);
  FUZZ_CHECK (size == 0 || fwrite (data, 1, size, f) == size, "cannot write %s", path);
  FUZZ_CHECK (fclose (f) == 0, "cannot write %s", path);
  return path;
}
