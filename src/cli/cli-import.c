/* smearscope-cli import: other tools' annotations (Pascal VOC, COCO) as the ground truth
 * of a stored case's images (docs/exchange.md, "In"). Reading is src/report's, storing
 * the store's; this reads every file first and stores them all in one transaction, so a
 * file that fails imports nothing. */
#include "cli.h"

#include "ss-image.h"
#include "ss-models.h"
#include "ss-report-import.h"
#include "ss-store.h"

#include <stdio.h>
#include <string.h>

/* Exit codes, as the other store commands: 1 a file or the store refused, 2 usage. */
#define EXIT_FAILED 1

int
ss_cli_import (int argc, char **argv)
{
  g_autofree char *accession = NULL, *format = NULL, *user = NULL, *add_images = NULL;
  const GOptionEntry entries[] = {
    { "case", 0, 0, G_OPTION_ARG_STRING, &accession, "Accession number of the case", "A" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "voc or coco", "FORMAT" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Who imports (default: your login name)", "NAME" },
    { "add-images", 0, 0, G_OPTION_ARG_FILENAME, &add_images,
      "Images the case lacks are taken from DIR (by file name) and added without analysis", "DIR" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE... - import annotations as ground truth");
  ss_cli_add_entries (context, entries);
  g_option_context_set_description (context,
    "Each annotated image is matched to the case's image of the same file name. Boxes named\n"
    "WBC become truth cells without a class, class names (and the label table's) cells of\n"
    "that class; RBC and platelets are left out. Truth is never counted or corrected.\n"
    "Any fault in any file imports nothing (docs/exchange.md, \"In\").\n");
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  if (accession == NULL || format == NULL || argc < 2)
    {
      ss_cli_error ("import needs --case A, --format voc|coco and one or more files (try --help)");
      return EXIT_USAGE;
    }
  if (strcmp (format, "voc") != 0 && strcmp (format, "coco") != 0)
    {
      ss_cli_error ("unknown format '%s'; the formats are voc and coco", format);
      return EXIT_USAGE;
    }

  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_report_truth_file_free);
  g_autoptr (GArray) images = g_array_new (FALSE, FALSE, sizeof (SsTruthImage));
  guint n_cells = 0;
  for (int i = 1; i < argc; i++)
    {
      SsTruthFile *file = ss_report_truth_file_load (argv[i], format, &error);
      if (file == NULL)
        {
          ss_cli_error ("%s", error->message);
          ss_cli_error ("nothing was imported");
          return EXIT_FAILED;
        }
      g_ptr_array_add (files, file);
      g_array_append_vals (images, file->images->data, file->images->len);
      n_cells += file->n_cells;
    }

  /* each annotated image found in DIR is offered to the store, which adds it only when
   * the case has no image of that name */
  g_autoptr (GPtrArray) infos = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; add_images != NULL && i < images->len; i++)
    {
      SsTruthImage *truth = &g_array_index (images, SsTruthImage, i);
      g_autofree char *name = g_path_get_basename (truth->image);
      char *path = g_build_filename (add_images, name, NULL);
      g_ptr_array_add (strings, path);
      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      g_autoptr (SsImage) image = ss_image_load (path, SS_DEFAULT_MAX_PIXELS, &error);
      char *sha256 = image != NULL ? ss_file_sha256 (path, &error) : NULL;
      if (sha256 == NULL)
        {
          ss_cli_error ("%s (for --add-images)", error->message);
          ss_cli_error ("nothing was imported");
          return EXIT_FAILED;
        }
      g_ptr_array_add (strings, sha256);
      SsImageInfo *info = g_new0 (SsImageInfo, 1);
      *info = (SsImageInfo) { path, sha256, image->width, image->height };
      g_ptr_array_add (infos, info);
      truth->add_image = info;
    }

  g_autoptr (SsStore) store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    return ss_cli_store_failed (error);
  g_autoptr (SsCase) before = ss_store_get_case (store, accession, &error);
  if (before == NULL)
    return ss_cli_store_failed (error);
  const char *who = ss_cli_store_user (store, user, NULL);
  if (who == NULL)
    return 2;
  if (!ss_store_add_truth (store, accession, (const SsTruthImage *) images->data, images->len,
                           who, &error))
    {
      ss_cli_store_failed (error);
      if (add_images == NULL && g_error_matches (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND))
        fprintf (stderr, "  --add-images DIR adds the images the case lacks, without analysis\n");
      ss_cli_error ("nothing was imported");
      return EXIT_FAILED;
    }
  g_autoptr (SsCase) after = ss_store_get_case (store, accession, &error);
  if (after != NULL && after->n_images > before->n_images)
    printf ("Added %d image%s without analysis (no cells) from %s\n",
            after->n_images - before->n_images,
            after->n_images - before->n_images == 1 ? "" : "s", add_images);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *summary = ss_report_truth_file_summary (g_ptr_array_index (files, i));
      printf ("%s\n", summary);
    }
  printf ("Imported %u truth cell%s of %u image%s from %u file%s into case %s\n", n_cells,
          n_cells == 1 ? "" : "s", images->len, images->len == 1 ? "" : "s", files->len,
          files->len == 1 ? "" : "s", accession);
  return 0;
}
