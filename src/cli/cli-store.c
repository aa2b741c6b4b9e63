/* smearscope-cli case | relabel | counts | signoff | db, and bench --store: the case
 * store from the command line. The JSON keys are a contract with scripts
 * (docs/case-store.md); add keys freely, never rename or remove one. */
#include "cli.h"

#include "ss-counts.h"
#include "ss-report-analysis.h"
#include "ss-report-case.h"
#include "ss-store.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Exit codes: 0 done, 1 the store refused or failed, 2 the command line was wrong. */
#define EXIT_FAILED 1

static int
fail (GError *error)
{
  return ss_cli_store_failed (error);
}

static SsStore *
open_store (SsStoreOpenFlags flags, GError **error)
{
  return ss_store_open (ss_cli_db_path (), flags, error);
}

/* Stores are read read-only when nothing is to change, so that a store on a read-only
 * share, or one being investigated after damage, is never written by a look at it. */
#define OPEN_FOR_READING SS_STORE_OPEN_READ_ONLY

static gboolean
print_json_node (JsonNode *root)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = ss_report_json_text (root);
  if (!ss_cli_write_text ("-", text, &error))
    {
      ss_cli_error ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
print_json (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  return print_json_node (root);
}

static int
parse_class (const char *text)
{
  if (text == NULL)
    return SS_CLASS_NONE;
  if (strlen (text) == 1 && g_ascii_isdigit (text[0]))
    return ss_class_from_key (text[0]);
  return ss_class_from_name (text);
}

static char *
class_list (void)
{
  GString *names = g_string_new (NULL);
  for (int c = 0; c < SS_N_CLASSES; c++)
    g_string_append_printf (names, "%s%s (%c)", c > 0 ? ", " : "", ss_class_name (c),
                            ss_class_key (c));
  return g_string_free (names, FALSE);
}

static void
print_counts_text (const SsCounts *counts)
{
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      if (ss_class_is_counted (c) && counts->total_counted > 0)
        printf ("  %-12s %7d  %5.1f%%\n", ss_class_name (c), counts->counts[c],
                100.0 * counts->counts[c] / counts->total_counted);
      else
        printf ("  %-12s %7d\n", ss_class_name (c), counts->counts[c]);
    }
  printf ("  %-12s %7d\n", "counted WBCs", counts->total_counted);
  if (counts->total_counted == 0)
    {
      printf ("Blast %%: no white cells counted yet\n");
      return;
    }
  printf ("Blast %%: %.1f%% (95%% CI %.1f-%.1f%%), threshold %.0f%%: %s\n", counts->blast_pct,
          counts->ci95_low, counts->ci95_high, counts->threshold,
          counts->flag ? "ABOVE - blast flag raised" : "below - no flag");
  if (!counts->decided)
    {
      if (counts->cells_needed > 0)
        printf ("Not decided: the interval straddles the threshold; count about %d more cells\n",
                counts->cells_needed);
      else
        printf ("Not decided: the proportion sits on the threshold\n");
    }
  printf ("For research use. Verify before clinical decisions.\n");
}

/* case ------------------------------------------------------------------------------- */

static int
case_new (int argc, char **argv)
{
  g_autofree char *patient = NULL, *specimen = NULL, *stain = NULL, *notes = NULL;
  const GOptionEntry entries[] = {
    { "patient", 0, 0, G_OPTION_ARG_STRING, &patient, "Patient reference (the lab's, not a name)", "REF" },
    { "specimen", 0, 0, G_OPTION_ARG_STRING, &specimen, "Specimen (peripheral blood, bone marrow...)", "TEXT" },
    { "stain", 0, 0, G_OPTION_ARG_STRING, &stain, "Stain (Wright-Giemsa, May-Grunwald-Giemsa...)", "TEXT" },
    { "notes", 0, 0, G_OPTION_ARG_STRING, &notes, "Free notes", "TEXT" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("ACCESSION - create a case");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "case new takes one ACCESSION number"))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_CREATE, &error);
  if (store == NULL)
    return fail (error);
  g_autoptr (SsCase) c = ss_store_create_case (store, argv[1], patient, specimen, stain, notes, &error);
  if (c == NULL)
    return fail (error);
  printf ("Created case %s in %s\n", c->accession, ss_store_get_path (store));
  return 0;
}

static int
case_list (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- list the cases, newest first");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (OPEN_FOR_READING, &error);
  if (store == NULL)
    return fail (error);
  g_autoptr (GPtrArray) cases = ss_store_list_cases (store, &error);
  if (cases == NULL)
    return fail (error);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "cases");
      json_builder_begin_array (builder);
      for (guint i = 0; i < cases->len; i++)
        {
          json_builder_begin_object (builder);
          ss_report_json_add_case_members (builder, g_ptr_array_index (cases, i));
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      return print_json (builder) ? 0 : EXIT_FAILED;
    }
  if (cases->len == 0)
    printf ("No cases in %s\n", ss_store_get_path (store));
  else
    printf ("%-20s %-9s %7s %8s  %s\n", "ACCESSION", "STATUS", "IMAGES", "CELLS", "UPDATED");
  for (guint i = 0; i < cases->len; i++)
    {
      SsCase *c = g_ptr_array_index (cases, i);
      printf ("%-20s %-9s %7d %8" G_GINT64_FORMAT "  %s\n", c->accession,
              ss_case_status_name (c->status), c->n_images, c->n_cells, c->updated_at);
    }
  return 0;
}

static int
case_show (int argc, char **argv)
{
  gboolean json = FALSE, with_deleted = FALSE;
  double threshold = SS_BLAST_THRESHOLD_DEFAULT;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON with every cell", NULL },
    { "deleted", 0, 0, G_OPTION_ARG_NONE, &with_deleted, "Also list deleted cells (flagged)", NULL },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, "Blast flag threshold in percent (default 20)", "PCT" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("ACCESSION - show a case");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "case show takes one ACCESSION number"))
    return EXIT_USAGE;
  if (!(threshold >= 0 && threshold <= 100))
    {
      ss_cli_error ("--threshold must be a percentage between 0 and 100");
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (OPEN_FOR_READING, &error);
  if (store == NULL)
    return fail (error);
  if (json)
    {
      SsReportCaseJsonFlags flags = with_deleted ? SS_REPORT_CASE_JSON_DELETED
                                                 : SS_REPORT_CASE_JSON_DEFAULT;
      g_autoptr (SsReportCase) report = ss_report_case_load (store, argv[1], threshold, &error);
      if (report == NULL)
        return fail (error);
      g_autoptr (JsonNode) root = ss_report_case_json (report, flags);
      return print_json_node (root) ? 0 : EXIT_FAILED;
    }

  g_autoptr (SsCase) c = ss_store_get_case (store, argv[1], &error);
  if (c == NULL)
    return fail (error);
  g_autoptr (GPtrArray) images = ss_store_list_images (store, argv[1], FALSE, &error);
  if (images == NULL)
    return fail (error);
  g_autoptr (GPtrArray) events = ss_store_list_case_events (store, argv[1], &error);
  if (events == NULL)
    return fail (error);
  int class_counts[SS_N_CLASSES];
  if (!ss_store_case_counts (store, argv[1], class_counts, &error))
    return fail (error);
  SsCounts counts;
  ss_counts_compute (class_counts, threshold, &counts);

  printf ("Case %s (%s)\n", c->accession, ss_case_status_name (c->status));
  if (c->patient_ref != NULL)
    printf ("  Patient:  %s\n", c->patient_ref);
  if (c->specimen != NULL)
    printf ("  Specimen: %s\n", c->specimen);
  if (c->stain != NULL)
    printf ("  Stain:    %s\n", c->stain);
  if (c->notes != NULL)
    printf ("  Notes:    %s\n", c->notes);
  printf ("  Created:  %s\n  Updated:  %s\n", c->created_at, c->updated_at);
  if (c->signed_by != NULL)
    printf ("  Signed:   by %s at %s\n", c->signed_by, c->signed_at);
  if (events->len > 0)
    printf ("Sign-off history:\n");
  for (guint i = 0; i < events->len; i++)
    {
      SsCaseEvent *event = g_ptr_array_index (events, i);
      printf ("  %s  %s by %s%s%s\n", event->at,
              event->kind == SS_CASE_EVENT_SIGNED ? "signed" : "reopened", event->user,
              event->reason != NULL ? ": " : "", event->reason != NULL ? event->reason : "");
    }
  printf ("Images: %u\n", images->len);
  for (guint i = 0; i < images->len; i++)
    {
      SsImageRecord *image = g_ptr_array_index (images, i);
      int image_counts[SS_N_CLASSES], n = 0;
      if (!ss_store_image_counts (store, image->id, image_counts, &error))
        return fail (error);
      for (int k = 0; k < SS_N_CLASSES; k++)
        n += image_counts[k];
      printf ("  %" G_GINT64_FORMAT "  %s  %dx%d  %d %s  %s%s%s\n", image->id, image->path,
              image->width, image->height, n, n == 1 ? "cell" : "cells",
              image->model_name != NULL ? image->model_name : "",
              image->model_version != NULL ? " " : "",
              image->model_version != NULL ? image->model_version : "");
    }
  printf ("Counts:\n");
  print_counts_text (&counts);
  return 0;
}

static int
case_edit (int argc, char **argv)
{
  g_autofree char *patient = NULL, *specimen = NULL, *stain = NULL, *notes = NULL;
  gboolean reviewed = FALSE;
  const GOptionEntry entries[] = {
    { "patient", 0, 0, G_OPTION_ARG_STRING, &patient, "Patient reference", "REF" },
    { "specimen", 0, 0, G_OPTION_ARG_STRING, &specimen, "Specimen", "TEXT" },
    { "stain", 0, 0, G_OPTION_ARG_STRING, &stain, "Stain", "TEXT" },
    { "notes", 0, 0, G_OPTION_ARG_STRING, &notes, "Free notes", "TEXT" },
    { "reviewed", 0, 0, G_OPTION_ARG_NONE, &reviewed, "Mark the case reviewed", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("ACCESSION - change an unsigned case");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "case edit takes one ACCESSION number"))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    return fail (error);
  if ((patient != NULL || specimen != NULL || stain != NULL || notes != NULL)
      && !ss_store_update_case (store, argv[1], patient, specimen, stain, notes, &error))
    return fail (error);
  if (reviewed && !ss_store_mark_reviewed (store, argv[1], &error))
    return fail (error);
  printf ("Changed case %s\n", argv[1]);
  return 0;
}

static int
case_delete (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("ACCESSION - delete a case that has no images");
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "case delete takes one ACCESSION number"))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    return fail (error);
  if (!ss_store_delete_case (store, argv[1], &error))
    return fail (error);
  printf ("Deleted case %s\n", argv[1]);
  return 0;
}

static int
case_reopen (int argc, char **argv)
{
  g_autofree char *user = NULL, *reason = NULL;
  const GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Who reopens the case (required on a file; on a server the login)", "NAME" },
    { "reason", 0, 0, G_OPTION_ARG_STRING, &reason, "Why it is reopened (required; kept with it)", "TEXT" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("ACCESSION - reopen a signed case");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "case reopen takes one ACCESSION number"))
    return EXIT_USAGE;
  if (reason == NULL)
    {
      ss_cli_error ("case reopen needs --user NAME and --reason TEXT (try --help)");
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    return fail (error);
  const char *who = ss_cli_store_user (store, user, "case reopen");
  if (who == NULL)
    return EXIT_USAGE;
  if (!ss_store_reopen_case (store, argv[1], who, reason, &error))
    return fail (error);
  printf ("Case %s reopened by %s\n", argv[1], who);
  return 0;
}

static int
case_history (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("ACCESSION - the audit trail of a case");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "case history takes one ACCESSION number"))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (OPEN_FOR_READING, &error);
  if (store == NULL)
    return fail (error);
  g_autoptr (GPtrArray) corrections = ss_store_list_corrections (store, argv[1], &error);
  if (corrections == NULL)
    return fail (error);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "accession");
      json_builder_add_string_value (builder, argv[1]);
      json_builder_set_member_name (builder, "corrections");
      json_builder_begin_array (builder);
      for (guint i = 0; i < corrections->len; i++)
        ss_report_json_add_correction (builder, g_ptr_array_index (corrections, i));
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      return print_json (builder) ? 0 : EXIT_FAILED;
    }
  if (corrections->len == 0)
    printf ("No corrections in case %s\n", argv[1]);
  for (guint i = 0; i < corrections->len; i++)
    {
      SsCorrection *k = g_ptr_array_index (corrections, i);
      const char *old_name = ss_class_name (k->old_class);
      printf ("%6" G_GINT64_FORMAT "  %s  %-10s cell %-8" G_GINT64_FORMAT " %-8s %s -> %s",
              k->id, k->at, k->user, k->cell_id, ss_correction_kind_name (k->kind),
              old_name != NULL ? old_name : "-", ss_class_name (k->new_class));
      if (k->undoes > 0)
        printf ("  (undoes %" G_GINT64_FORMAT ")", k->undoes);
      printf ("\n");
    }
  return 0;
}

int
ss_cli_case (int argc, char **argv)
{
  static const SsCliAction actions[] = {
    { "new", case_new, "ACCESSION [--patient --specimen --stain --notes]: create a case" },
    { "list", case_list, "[--json]: the cases, newest first" },
    { "show", case_show, "ACCESSION [--json]: a case, its images, cells and counts" },
    { "edit", case_edit, "ACCESSION [--patient ... --reviewed]: change an unsigned case" },
    { "delete", case_delete, "ACCESSION: delete a case that has no images" },
    { "history", case_history, "ACCESSION [--json]: who changed which cell, and when" },
    { "reopen", case_reopen, "ACCESSION --user NAME --reason TEXT: reopen a signed case" },
  };
  return ss_cli_run_action ("case", actions, G_N_ELEMENTS (actions), argc, argv);
}

/* relabel ---------------------------------------------------------------------------- */

int
ss_cli_relabel (int argc, char **argv)
{
  g_autofree char *accession = NULL, *class_name = NULL, *user = NULL;
  gint64 cell_id = 0, undo_id = 0;
  gboolean delete = FALSE, restore = FALSE, confirm = FALSE;
  const GOptionEntry entries[] = {
    { "case", 0, 0, G_OPTION_ARG_STRING, &accession, "Accession number of the case", "A" },
    { "cell", 0, 0, G_OPTION_ARG_INT64, &cell_id, "Cell id (case show --json lists them)", "ID" },
    { "confirm", 0, 0, G_OPTION_ARG_NONE, &confirm, "Confirm the cell's class as it stands (it is reviewed; nothing changes)", NULL },
    { "class", 0, 0, G_OPTION_ARG_STRING, &class_name, "New class: a name or its key 1-8", "NAME" },
    { "delete", 0, 0, G_OPTION_ARG_NONE, &delete, "Delete the cell instead (not a cell at all)", NULL },
    { "restore", 0, 0, G_OPTION_ARG_NONE, &restore, "Restore a deleted cell", NULL },
    { "undo", 0, 0, G_OPTION_ARG_INT64, &undo_id, "Reverse correction ID (case history lists them)", "ID" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Who makes the correction (default: your login name; on a server the login)", "NAME" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- correct a cell; every correction is kept");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  int n_actions = (class_name != NULL) + delete + restore + confirm + (undo_id != 0);
  if (accession == NULL || n_actions != 1 || (undo_id == 0) == (cell_id <= 0) || argc != 1)
    {
      ss_cli_error ("relabel needs --case A and one of: --cell ID --class NAME, --cell ID --confirm, "
                    "--cell ID --delete, --cell ID --restore, or --undo ID without --cell (try --help)");
      return EXIT_USAGE;
    }
  int new_class = parse_class (class_name);
  if (class_name != NULL && new_class == SS_CLASS_NONE)
    {
      g_autofree char *names = class_list ();
      ss_cli_error ("unknown class '%s'; the classes are %s", class_name, names);
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    return fail (error);
  const char *who = ss_cli_store_user (store, user, NULL);
  if (who == NULL)
    return EXIT_USAGE;
  gint64 id;
  if (undo_id != 0)
    id = ss_store_undo (store, accession, undo_id, who, &error);
  else if (delete)
    id = ss_store_delete_cell (store, accession, cell_id, who, &error);
  else if (restore)
    id = ss_store_restore_cell (store, accession, cell_id, who, &error);
  else if (confirm)
    id = ss_store_confirm_cell (store, accession, cell_id, who, &error);
  else
    id = ss_store_relabel_cell (store, accession, cell_id, new_class, who, &error);
  if (id < 0)
    return fail (error);
  if (id == 0)
    printf ("Cell %" G_GINT64_FORMAT " already is as asked; nothing changed\n", cell_id);
  else if (undo_id != 0)
    printf ("Correction %" G_GINT64_FORMAT " undone by correction %" G_GINT64_FORMAT "\n", undo_id, id);
  else if (confirm)
    printf ("Cell %" G_GINT64_FORMAT " confirmed by %s (correction %" G_GINT64_FORMAT ")\n",
            cell_id, who, id);
  else
    printf ("Cell %" G_GINT64_FORMAT " %s%s by %s (correction %" G_GINT64_FORMAT ")\n", cell_id,
            delete ? "deleted" : restore ? "restored" : "relabelled ",
            delete || restore ? "" : ss_class_name (new_class), who, id);
  return 0;
}

/* counts ----------------------------------------------------------------------------- */

int
ss_cli_counts (int argc, char **argv)
{
  g_autofree char *accession = NULL;
  gboolean json = FALSE;
  gint64 image_id = 0;
  double threshold = SS_BLAST_THRESHOLD_DEFAULT;
  const GOptionEntry entries[] = {
    { "case", 0, 0, G_OPTION_ARG_STRING, &accession, "Accession number of the case", "A" },
    { "image", 0, 0, G_OPTION_ARG_INT64, &image_id, "Count one image of the case only", "ID" },
    { "threshold", 0, 0, G_OPTION_ARG_DOUBLE, &threshold, "Blast flag threshold in percent (default 20)", "PCT" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- the differential count and blast % of a case");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  if (accession == NULL || argc != 1)
    {
      ss_cli_error ("counts needs --case A (try --help)");
      return EXIT_USAGE;
    }
  if (!(threshold >= 0 && threshold <= 100))
    {
      ss_cli_error ("--threshold must be a percentage between 0 and 100");
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (OPEN_FOR_READING, &error);
  if (store == NULL)
    return fail (error);
  int class_counts[SS_N_CLASSES];
  if (image_id != 0)
    {
      g_autoptr (GPtrArray) images = ss_store_list_images (store, accession, FALSE, &error);
      gboolean found = FALSE;
      if (images == NULL)
        return fail (error);
      for (guint i = 0; i < images->len; i++)
        found |= ((SsImageRecord *) g_ptr_array_index (images, i))->id == image_id;
      if (!found)
        {
          ss_cli_error ("there is no image %" G_GINT64_FORMAT " in case '%s'", image_id, accession);
          return EXIT_FAILED;
        }
      if (!ss_store_image_counts (store, image_id, class_counts, &error))
        return fail (error);
    }
  else if (!ss_store_case_counts (store, accession, class_counts, &error))
    return fail (error);
  SsCounts counts;
  ss_counts_compute (class_counts, threshold, &counts);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "accession");
      json_builder_add_string_value (builder, accession);
      if (image_id != 0)
        {
          json_builder_set_member_name (builder, "image");
          json_builder_add_int_value (builder, image_id);
        }
      ss_report_json_add_counts_members (builder, &counts);
      json_builder_end_object (builder);
      return print_json (builder) ? 0 : EXIT_FAILED;
    }
  printf ("Case %s%s\n", accession, image_id != 0 ? ", one image" : "");
  print_counts_text (&counts);
  return 0;
}

/* signoff ---------------------------------------------------------------------------- */

int
ss_cli_signoff (int argc, char **argv)
{
  g_autofree char *accession = NULL, *user = NULL;
  const GOptionEntry entries[] = {
    { "case", 0, 0, G_OPTION_ARG_STRING, &accession, "Accession number of the case", "A" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Who signs (required on a file; on a server the login)", "NAME" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- sign a case; its cells can no longer change");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  if (accession == NULL || argc != 1)
    {
      ss_cli_error ("signoff needs --case A and --user NAME (try --help)");
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    return fail (error);
  const char *who = ss_cli_store_user (store, user, "signoff");
  if (who == NULL)
    return EXIT_USAGE;
  if (!ss_store_sign_case (store, accession, who, &error))
    return fail (error);
  printf ("Case %s signed by %s\n", accession, who);
  return 0;
}

/* db --------------------------------------------------------------------------------- */

static int
db_check (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- check the file, the audit chain and every cell");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autofree char *head = NULL;
  gint64 n_corrections = 0;
  g_autoptr (SsStore) store = open_store (OPEN_FOR_READING, &error);
  gboolean ok = store != NULL && ss_store_check (store, &head, &n_corrections, &error);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "ok");
      json_builder_add_boolean_value (builder, ok);
      ss_report_json_add_string_or_null (builder, "problem", ok ? NULL : error->message);
      json_builder_set_member_name (builder, "corrections");
      json_builder_add_int_value (builder, n_corrections);
      ss_report_json_add_string_or_null (builder, "chain_head", head);
      json_builder_end_object (builder);
      print_json (builder);
    }
  if (!ok)
    {
      ss_cli_error ("%s", error->message);
      return EXIT_FAILED;  /* the contract: 1 for any problem, usage errors included above */
    }
  if (!json)
    printf ("%s: OK (integrity, foreign keys, %" G_GINT64_FORMAT " corrections chained, every cell "
            "agrees with its corrections)\nChain head: %s\n", ss_store_get_path (store),
            n_corrections, head);
  return 0;
}

static int
db_backup (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE - copy the live case store to FILE");
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "db backup takes one FILE"))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (OPEN_FOR_READING, &error);
  if (store == NULL)
    return fail (error);
  if (!ss_store_backup (store, argv[1], &error))
    return fail (error);
  printf ("Backed up %s to %s\n", ss_store_get_path (store), argv[1]);
  return 0;
}

/* Copy a whole store into a new one, file to server or back (docs/case-store.md). */
static int
db_migrate (int argc, char **argv)
{
  g_autofree char *from = NULL, *to = NULL;
  const GOptionEntry entries[] = {
    { "from", 0, 0, G_OPTION_ARG_STRING, &from, "The store to copy (a file or a postgresql:// URI)", "STORE" },
    { "to", 0, 0, G_OPTION_ARG_STRING, &to, "The new store, empty (a file or a postgresql:// URI)", "STORE" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- copy every case into a new store");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  if (from == NULL || to == NULL || argc > 1)
    {
      ss_cli_error ("db migrate takes --from STORE and --to STORE, and nothing else");
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) source = ss_store_open (from, SS_STORE_OPEN_READ_ONLY, &error);
  if (source == NULL)
    return fail (error);
  /* A file this command makes is removed again when the copy fails, so that a retry
   * finds nothing in its way; a server's database is the lab's and stays. */
  gboolean to_file = !g_str_has_prefix (to, "postgresql://") && !g_str_has_prefix (to, "postgres://");
  gboolean made_file = to_file && !g_file_test (to, G_FILE_TEST_EXISTS);
  g_autoptr (SsStore) target = ss_store_open (to, SS_STORE_OPEN_CREATE, &error);
  if (target == NULL)
    return fail (error);
  gint64 n_cases = 0, n_source = 0, n_target = 0;
  g_autofree char *source_head = NULL, *target_head = NULL;
  gboolean copied = ss_store_copy (source, target, &n_cases, &error)
                    && ss_store_check (source, &source_head, &n_source, &error)
                    && ss_store_check (target, &target_head, &n_target, &error);
  if (copied && (n_source != n_target || g_strcmp0 (source_head, target_head) != 0))
    {
      g_set_error (&error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED,
                   "the copy's audit chain (%" G_GINT64_FORMAT " corrections, head %s) is not "
                   "the original's (%" G_GINT64_FORMAT ", head %s)", n_target, target_head,
                   n_source, source_head);
      copied = FALSE;
    }
  if (!copied)
    {
      g_clear_object (&target);
      ss_cli_store_failed (error);
      if (made_file)
        {
          static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
          for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
            {
              g_autofree char *path = g_strconcat (to, suffixes[i], NULL);
              g_unlink (path);
            }
          fprintf (stderr, "  nothing was left at %s; run db migrate again once the problem is "
                           "fixed\n", to);
        }
      else
        fprintf (stderr, "  %s may now hold the empty tables of a case store, no case: do not "
                         "use it as the copy; db migrate accepts it again as the target once the "
                         "problem is fixed\n", to);
      return EXIT_FAILED;
    }
  printf ("Copied %" G_GINT64_FORMAT " cases and %" G_GINT64_FORMAT " corrections from %s to %s\n"
          "Chain head (both): %s\n", n_cases, n_target, ss_store_get_path (source),
          ss_store_get_path (target), target_head);
  g_autoptr (GPtrArray) users = ss_store_list_users (target, &error);
  if (users == NULL)
    return fail (error);
  if (users->len > 0 && ss_store_get_login (target) != NULL)
    printf ("Copied %u users with their roles, not passwords: on the server each needs a login "
            "in its role. As the store's owner run 'smearscope-cli db roles --init' once and "
            "'smearscope-cli db user add NAME --role ROLE' for each user (it makes a missing "
            "login, without a password), then set each password on the server (ALTER ROLE NAME "
            "PASSWORD ..., or \\password NAME in psql)\n", users->len);
  else if (users->len > 0)
    printf ("Copied %u users with their roles: the program checks them on this file (no "
            "passwords; the file's owner can do anything)\n", users->len);
  return 0;
}

/* Roles (docs/case-store.md, "Roles"): set up by the store's owner, users added by an
 * admin. */
static int
db_roles (int argc, char **argv)
{
  gboolean init = FALSE;
  const GOptionEntry entries[] = {
    { "init", 0, 0, G_OPTION_ARG_NONE, &init, "Make the roles of this store and their rights", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("--init - set up the roles");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  if (!init || argc > 1)
    {
      ss_cli_error ("db roles takes --init, and nothing else");
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_CREATE, &error);
  if (store == NULL || !ss_store_init_roles (store, &error))
    return fail (error);
  printf ("The roles technician, hematologist and admin are set up in %s\n"
          "Add users with: smearscope-cli db user add NAME --role ROLE\n",
          ss_store_get_path (store));
  return 0;
}

/* The users recorded, with their roles. */
static int
db_user_list (gboolean json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (OPEN_FOR_READING, &error);
  if (store == NULL)
    return fail (error);
  g_autoptr (GPtrArray) users = ss_store_list_users (store, &error);
  if (users == NULL)
    return fail (error);
  if (json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "users");
      json_builder_begin_array (builder);
      for (guint i = 0; i < users->len; i++)
        {
          const SsStoreUser *user = users->pdata[i];
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, user->name);
          json_builder_set_member_name (builder, "role");
          json_builder_add_string_value (builder, ss_role_name (user->role));
          ss_report_json_add_string_or_null (builder, "added_at", user->added_at);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      return print_json (builder) ? 0 : EXIT_FAILED;
    }
  if (users->len == 0)
    printf ("No users recorded in %s: whoever can write it does anything\n",
            ss_store_get_path (store));
  for (guint i = 0; i < users->len; i++)
    {
      const SsStoreUser *user = users->pdata[i];
      printf ("%-24s %-13s %s\n", user->name, ss_role_name (user->role),
              user->added_at != NULL ? user->added_at : "");
    }
  return 0;
}

static int
db_user (int argc, char **argv)
{
  g_autofree char *role_name = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "role", 0, 0, G_OPTION_ARG_STRING, &role_name, "technician, hematologist or admin", "ROLE" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "list: print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("add NAME --role ROLE | list [--json] - "
                                                             "add a user, or list them");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse (context, &argc, &argv))
    return EXIT_USAGE;
  SsRole role = SS_ROLE_TECHNICIAN;
  if (argc == 2 && strcmp (argv[1], "list") == 0 && role_name == NULL)
    return db_user_list (json);
  if (argc != 3 || strcmp (argv[1], "add") != 0 || role_name == NULL)
    {
      ss_cli_error ("db user takes add NAME --role technician|hematologist|admin, or list");
      return EXIT_USAGE;
    }
  if (!ss_role_from_name (role_name, &role))
    {
      ss_cli_error ("'%s' is not a role: technician, hematologist or admin", role_name);
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = open_store (SS_STORE_OPEN_CREATE, &error);
  if (store == NULL || !ss_store_add_user (store, argv[2], role, &error))
    return fail (error);
  printf ("%s is a %s of %s\n", argv[2], ss_role_name (role), ss_store_get_path (store));
  return 0;
}

int
ss_cli_db (int argc, char **argv)
{
  if (argc >= 2 && strcmp (argv[1], "check") == 0)
    {
      int status = db_check (argc - 1, argv + 1);
      return status == 0 ? 0 : EXIT_FAILED;
    }
  if (argc >= 2 && strcmp (argv[1], "backup") == 0)
    return db_backup (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "migrate") == 0)
    return db_migrate (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "roles") == 0)
    return db_roles (argc - 1, argv + 1);
  if (argc >= 2 && strcmp (argv[1], "user") == 0)
    return db_user (argc - 1, argv + 1);
  gboolean help = argc >= 2 && (strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0);
  if (!help)
    ss_cli_error (argc < 2 ? "db needs an action: check, backup, migrate, roles or user"
                           : "unknown db action '%s'", argc < 2 ? "" : argv[1]);
  fprintf (help ? stdout : stderr,
           "Usage: smearscope-cli db ACTION [--db FILE|URI]\n\nActions:\n"
           "  check        integrity, foreign keys, the audit hash chain and every cell against\n"
           "               its corrections; exit 0 when all is well, 1 naming the first bad row\n"
           "  backup FILE  copy the live store with SQLite's online backup\n"
           "  migrate --from STORE --to STORE\n"
           "               copy every case, ids and audit chain included, into a new store:\n"
           "               a file to a postgresql:// URI, or back\n"
           "  roles --init set up the roles technician, hematologist and admin (on a server,\n"
           "               by the login that owns the store; docs/case-store.md \"Roles\")\n"
           "  user add NAME --role technician|hematologist|admin\n"
           "               record a user's role (on a server: make the login, by an admin)\n"
           "  user list [--json]\n"
           "               the users recorded, with their roles\n");
  return help ? 0 : EXIT_USAGE;
}
