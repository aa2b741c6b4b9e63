/* smearscope-cli bench --report IMAGE: the report budgets of issue 28 measured on this
 * machine: a case of 2,000 cells to the PDF report (< 3 s) and to COCO (< 0.5 s), the
 * store read each time as the commands read it. The fields are copies of IMAGE, so the
 * report decodes and draws real pictures. */
#include "cli.h"

#include "ss-image.h"
#include "ss-models.h"
#include "ss-report-export.h"
#include "ss-report-pdf.h"

#include <glib/gstdio.h>
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
median (GArray *times)
{
  g_array_sort (times, compare_doubles);
  return times->len == 0 ? 0
         : times->len % 2 ? g_array_index (times, double, times->len / 2)
         : 0.5 * (g_array_index (times, double, times->len / 2 - 1)
                  + g_array_index (times, double, times->len / 2));
}

/* Make the case: n_fields copies of image under scratch, n_cells cells spread over them. */
static gboolean
make_case (SsStore *store, const char *image, const char *scratch, int n_fields, int n_cells,
           GError **error)
{
  g_autoptr (SsImage) picture = ss_image_load (image, SS_DEFAULT_MAX_PIXELS, error);
  if (picture == NULL)
    return FALSE;
  if (picture->width <= 60 || picture->height <= 60)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is %d x %d; the bench needs a field over 60 pixels on each side", image,
                   picture->width, picture->height);
      return FALSE;
    }
  g_autofree char *bytes = NULL;
  gsize len = 0;
  if (!g_file_get_contents (image, &bytes, &len, error))
    return FALSE;
  g_autoptr (SsCase) c = ss_store_create_case (store, "BENCH-REPORT", "BENCH", NULL, NULL, NULL,
                                               error);
  if (c == NULL)
    return FALSE;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261206);
  const char *dot = strrchr (image, '.');
  for (int f = 0; f < n_fields; f++)
    {
      g_autofree char *name = g_strdup_printf ("field-%03d%s", f, dot != NULL ? dot : "");
      g_autofree char *path = g_build_filename (scratch, name, NULL);
      if (!g_file_set_contents (path, bytes, len, error))
        return FALSE;
      g_autofree char *sha = ss_file_sha256 (path, error);
      if (sha == NULL)
        return FALSE;
      const int n = n_cells / n_fields + (f < n_cells % n_fields);
      g_autoptr (GPtrArray) cells = ss_cli_bench_cells (n, rand, picture->width, picture->height);
      SsImageInfo info = { path, sha, picture->width, picture->height, "bench-model", "1", "none",
                           0, NULL };
      if (ss_store_add_image (store, "BENCH-REPORT", &info, cells, error) == 0)
        return FALSE;
    }
  return TRUE;
}

int
ss_cli_bench_report (int argc, char **argv)
{
  g_autofree char *image = NULL;
  gboolean json = FALSE;
  int n_cells = 2000, n_fields = 20, repeats = 5;
  const GOptionEntry entries[] = {
    { "report", 0, 0, G_OPTION_ARG_FILENAME, &image, "Field picture the case's fields copy", "IMAGE" },
    { "cells", 0, 0, G_OPTION_ARG_INT, &n_cells, "Cells in the case (2000)", "N" },
    { "fields", 0, 0, G_OPTION_ARG_INT, &n_fields, "Fields in the case (20)", "N" },
    { "repeat", 0, 0, G_OPTION_ARG_INT, &repeats, "Timed runs of each (5)", "N" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("--report IMAGE - time the case report and exports");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (image == NULL || n_cells < 1 || n_cells > 1000000 || n_fields < 1 || n_fields > 1000
      || repeats < 1 || repeats > 100)
    {
      ss_cli_error ("bench --report IMAGE; --cells 1..1000000, --fields 1..1000, --repeat 1..100");
      return 2;
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *scratch = g_dir_make_tmp ("smearscope-report-bench-XXXXXX", &error);
  if (scratch == NULL)
    {
      ss_cli_error ("cannot make a scratch folder: %s", error->message);
      return 1;
    }
  g_autofree char *db = g_build_filename (scratch, "cases.db", NULL);
  g_autoptr (GArray) pdf_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) coco_ms = g_array_new (FALSE, FALSE, sizeof (double));
  gsize pdf_bytes = 0, coco_bytes = 0;
  int status = 1;
  {
    g_autoptr (SsStore) store = ss_store_open (db, SS_STORE_OPEN_CREATE, &error);
    if (store == NULL || !make_case (store, image, scratch, n_fields, n_cells, &error))
      goto out;
  }
  for (int r = 0; r < repeats; r++)
    {
      /* as `report` and `export` do: open the store, read the case, write the bytes */
      SsReportPdfOptions options;
      ss_report_pdf_options_init (&options);
      gint64 start = g_get_monotonic_time ();
      g_autoptr (SsStore) store = ss_store_open (db, SS_STORE_OPEN_READ_ONLY, &error);
      g_autoptr (GBytes) pdf = store != NULL ? ss_report_pdf_render (store, "BENCH-REPORT",
                                                                     &options, &error)
                                             : NULL;
      if (pdf == NULL)
        goto out;
      double ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (pdf_ms, ms);
      pdf_bytes = g_bytes_get_size (pdf);

      start = g_get_monotonic_time ();
      g_autoptr (SsReportCase) report = ss_report_case_load (store, "BENCH-REPORT",
                                                             SS_BLAST_THRESHOLD_DEFAULT, &error);
      g_autofree char *coco = report != NULL ? ss_report_case_export (report, SS_REPORT_FORMAT_COCO,
                                                                      &error)
                                             : NULL;
      if (coco == NULL)
        goto out;
      ms = (g_get_monotonic_time () - start) / 1000.0;
      g_array_append_val (coco_ms, ms);
      coco_bytes = strlen (coco);
    }
  if (json)
    printf ("{\"cells\": %d, \"fields\": %d, \"repeats\": %d, \"pdf_ms_median\": %.1f, "
            "\"pdf_bytes\": %" G_GSIZE_FORMAT ", \"coco_ms_median\": %.1f, \"coco_bytes\": %"
            G_GSIZE_FORMAT "}\n", n_cells, n_fields, repeats, median (pdf_ms), pdf_bytes,
            median (coco_ms), coco_bytes);
  else
    {
      printf ("Case report bench: %d cells over %d copies of %s\n", n_cells, n_fields, image);
      printf ("  to PDF:  median %.0f ms over %d, %.1f MB  (budget 3000 ms)\n", median (pdf_ms),
              repeats, pdf_bytes / 1e6);
      printf ("  to COCO: median %.0f ms over %d, %.1f MB  (budget 500 ms)\n", median (coco_ms),
              repeats, coco_bytes / 1e6);
    }
  status = 0;
out:
  if (error != NULL)
    ss_cli_error ("%s", error->message);
  g_autoptr (GDir) dir = g_dir_open (scratch, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (scratch, name, NULL);
      g_unlink (path);
    }
  g_rmdir (scratch);
  return status;
}
