/* The case store's opening of a damaged database file (src/store, SQLite): the input is
 * the file. Opening fails with an SS_STORE_ERROR that says why, or succeeds; then every
 * case reads and exports without fault, and the full check (db check) either passes or
 * says what is wrong. Opened read-only first, as db check does, then read-write, which
 * may migrate the file. */
#include "fuzz-util.h"

#include "ss-report-export.h"
#include "ss-store.h"

#include <glib/gstdio.h>
#include <string.h>

static void
remove_sidecars (const char *path)
{
  const char *suffixes[] = { "-wal", "-shm", "-journal" };
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *sidecar = g_strconcat (path, suffixes[i], NULL);
      g_unlink (sidecar);
    }
}

static void
check_refusal (const GError *error, const char *what)
{
  FUZZ_CHECK (error != NULL && error->domain == SS_STORE_ERROR && error->message[0] != '\0',
              "%s failed without a store error (%s: %s)", what,
              error != NULL ? g_quark_to_string (error->domain) : "no error",
              error != NULL ? error->message : "");
}

static void
read_everything (SsStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) cases = ss_store_list_cases (store, &error);
  if (cases == NULL)
    {
      check_refusal (error, "listing the cases");
      return;
    }
  for (guint i = 0; i < cases->len && i < 4; i++)
    {
      const SsCase *c = g_ptr_array_index (cases, i);
      g_autoptr (GError) case_error = NULL;
      g_autoptr (SsReportCase) report = ss_report_case_load (store, c->accession,
                                                             SS_BLAST_THRESHOLD_DEFAULT,
                                                             &case_error);
      if (report == NULL)
        {
          check_refusal (case_error, "reading a case");
          continue;
        }
      for (int format = 0; format < SS_REPORT_N_FORMATS; format++)
        {
          g_autoptr (GError) export_error = NULL;
          g_autofree char *text = ss_report_case_export (report, format, &export_error);
          FUZZ_CHECK (text != NULL || export_error != NULL, "an export fails silently");
          if (text != NULL && (format == SS_REPORT_FORMAT_JSON || format == SS_REPORT_FORMAT_COCO))
            {
              g_autoptr (JsonParser) parser = json_parser_new ();
              g_autoptr (GError) parse_error = NULL;
              FUZZ_CHECK (json_parser_load_from_data (parser, text, -1, &parse_error),
                          "the %s export of a stored case is no JSON: %s",
                          ss_report_format_name (format), parse_error->message);
            }
        }
    }
  g_autofree char *head = NULL;
  gint64 n_corrections = 0;
  g_autoptr (GError) check_error = NULL;
  if (!ss_store_check (store, &head, &n_corrections, &check_error))
    check_refusal (check_error, "db check");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file (".db", data, size);
  remove_sidecars (path);
  g_autoptr (GError) error = NULL;
  SsStore *store = ss_store_open (path, SS_STORE_OPEN_READ_ONLY, &error);
  if (store == NULL)
    check_refusal (error, "opening read-only");
  else
    {
      read_everything (store);
      g_object_unref (store);
    }
  g_clear_error (&error);
  store = ss_store_open (path, SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    check_refusal (error, "opening");
  else
    {
      g_autoptr (GPtrArray) cases = ss_store_list_cases (store, &error);
      if (cases == NULL)
        check_refusal (error, "listing the cases after opening read-write");
      g_object_unref (store);
    }
  remove_sidecars (path);
  return 0;
}
