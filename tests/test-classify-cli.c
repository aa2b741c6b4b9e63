/* `smearscope-cli classify --cell-diameter`: a picture of one cell (as PBC's) is
 * classified through the white cell found nearest its centre, framed as the analysis
 * frames it, not as a whole picture the model never learned from. Checks the message
 * and exit for a bad diameter, a picture with no cell (classified whole, said so), and
 * (when ../shared/datasets is there) that PBC val pictures are called as their folders
 * say more often through their cell than whole.
 * Usage: test-classify-cli MODELS_DIR DATASETS_DIR, with SMEARSCOPE_CLI set. */
#include "engine-test-util.h"
#include "ss-image.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

/* smearscope-cli classify ARGS...; its exit status, stdout and stderr */
static int
classify (char **out, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_ptr_array_add (argv, (char *) g_getenv ("SMEARSCOPE_CLI"));
  g_ptr_array_add (argv, "classify");
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_autoptr (GError) error = NULL;
  int status = 0;
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                     &status, &error))
    {
      fprintf (stderr, "FAIL: %s\n", error->message);
      exit (1);
    }
  return WIFEXITED (status) ? WEXITSTATUS (status) : 128;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The JSON array's objects from classify --json */
static JsonArray *
results (JsonParser *parser, const char *text)
{
  g_autoptr (GError) error = NULL;
  if (!json_parser_load_from_data (parser, text, -1, &error))
    {
      fprintf (stderr, "FAIL: classify's JSON: %s\n", error->message);
      exit (1);
    }
  return json_node_get_array (json_parser_get_root (parser));
}

int
main (int argc, char **argv)
{
  if (argc != 3 || g_getenv ("SMEARSCOPE_CLI") == NULL)
    {
      fprintf (stderr, "usage: SMEARSCOPE_CLI=... test-classify-cli MODELS_DIR DATASETS_DIR\n");
      return 2;
    }
  g_autofree char *model = g_build_filename (argv[1], "celltype.ssm", NULL);
  if (!g_file_test (model, G_FILE_TEST_EXISTS))
    {
      printf ("SKIP: %s is not shipped\n", model);
      return 77;
    }

  {
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = { "--cell-diameter", "-3", model, "x.png", NULL };
    int status = classify (&out, &err, args);
    CHECK (status == 2 && strstr (err, "--cell-diameter") != NULL,
           "a negative diameter: exit %d, said '%s'", status, err);
  }

  /* a plain picture: no cell to find, so it is classified whole, and the user is told */
  g_autofree char *dir = g_dir_make_tmp ("ss-classify-XXXXXX", NULL);
  g_autofree char *plain = g_build_filename (dir, "plain.png", NULL);
  {
    g_autoptr (SsImage) image = ss_image_new (160, 160);
    for (int i = 0; i < 160 * 160; i++)
      {
        image->rgb[3 * i] = 214;
        image->rgb[3 * i + 1] = 196;
        image->rgb[3 * i + 2] = 204;
      }
    g_autoptr (GError) error = NULL;
    if (!ss_image_save_png (image, plain, &error))
      {
        fprintf (stderr, "FAIL: %s\n", error->message);
        return 1;
      }
    g_autofree char *out = NULL, *err = NULL;
    const char *args[] = { "--json", "--cell-diameter", "100", model, plain, NULL };
    int status = classify (&out, &err, args);
    CHECK (status == 0, "a plain picture: exit %d (%s)", status, err);
    CHECK (strstr (err, "no white cell found") != NULL, "a plain picture: said '%s'", err);
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonArray *a = results (parser, out);
    CHECK (json_array_get_length (a) == 1
             && !json_object_get_boolean_member (json_array_get_object_element (a, 0),
                                                 "cell_found"),
           "a plain picture: cell_found should be false: %s", out);
  }
  g_unlink (plain);
  g_rmdir (dir);

  /* PBC val: the first 4 pictures of each of four folders, through their cell and whole */
  g_autofree char *pbc = g_build_filename (argv[2], "pbc", "val", NULL);
  if (!g_file_test (pbc, G_FILE_TEST_IS_DIR))
    {
      printf ("SKIP (PBC part): %s is absent\n", pbc);
      return test_summary ("test-classify-cli");
    }
  static const char *const folders[][2] = {
    { "monocyte", "monocyte" }, { "neutrophil", "neutrophil" },
    { "eosinophil", "eosinophil" }, { "lymphocyte", "lymphocyte" },
  };
  g_autoptr (GPtrArray) pictures = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) truth = g_ptr_array_new ();
  for (int f = 0; f < 4; f++)
    {
      g_autofree char *folder = g_build_filename (pbc, folders[f][0], NULL);
      g_autoptr (GDir) d = g_dir_open (folder, 0, NULL);
      g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      for (const char *name; d != NULL && (name = g_dir_read_name (d)) != NULL;)
        g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_names);
      for (guint i = 0; i < names->len && i < 4; i++)
        {
          g_ptr_array_add (pictures, g_build_filename (folder, names->pdata[i], NULL));
          g_ptr_array_add (truth, (char *) folders[f][1]);
        }
    }
  int right[2] = { 0, 0 };
  for (int through_cell = 0; through_cell < 2; through_cell++)
    {
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      g_ptr_array_add (args, "--json");
      if (through_cell)
        {
          g_ptr_array_add (args, "--cell-diameter");
          g_ptr_array_add (args, "100");
        }
      g_ptr_array_add (args, model);
      for (guint i = 0; i < pictures->len; i++)
        g_ptr_array_add (args, pictures->pdata[i]);
      g_ptr_array_add (args, NULL);
      g_autofree char *out = NULL, *err = NULL;
      int status = classify (&out, &err, (const char *const *) args->pdata);
      CHECK (status == 0, "classify PBC pictures: exit %d (%s)", status, err);
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonArray *a = results (parser, out);
      CHECK (json_array_get_length (a) == pictures->len, "%u results for %u pictures",
             json_array_get_length (a), pictures->len);
      for (guint i = 0; i < json_array_get_length (a) && i < pictures->len; i++)
        {
          JsonObject *o = json_array_get_object_element (a, i);
          right[through_cell] +=
            strcmp (json_object_get_string_member (o, "class"), truth->pdata[i]) == 0;
          if (through_cell)
            CHECK (json_object_get_boolean_member (o, "cell_found"), "no cell found in %s",
                   (char *) pictures->pdata[i]);
        }
    }
  printf ("PBC val, 16 pictures: %d right whole, %d through their cell\n", right[0], right[1]);
  CHECK (right[1] >= 14, "only %d of 16 right through their cell", right[1]);
  CHECK (right[1] > right[0], "through the cell (%d) is no better than whole (%d)", right[1],
         right[0]);
  return test_summary ("test-classify-cli");
}
