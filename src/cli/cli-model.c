/* smearscope-cli model: the lab's own cell-type models in the case store (issue 30):
 * list them with what the guard measured, put one in use or roll back (an admin), and
 * export one's exact bytes. `learn` offers them; `analyze --case` uses the one in use. */
#include "cli.h"

#include "ss-lab-model.h"
#include "ss-report-analysis.h"
#include "ss-store.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_FAILED 1

/* "ID" as a model id, or 0 after saying why. */
static gint64
parse_id (const char *text)
{
  char *end = NULL;
  errno = 0;
  gint64 id = g_ascii_strtoll (text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || id <= 0)
    {
      ss_cli_error ("'%s' is not a model id; smearscope-cli model list shows them", text);
      return 0;
    }
  return id;
}

static void
json_member_int (JsonBuilder *b, const char *name, gint64 value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

static void
json_add_model (JsonBuilder *b, const SsLabModel *m)
{
  json_builder_begin_object (b);
  json_member_int (b, "id", m->id);
  ss_report_json_add_string_or_null (b, "name", m->name);
  ss_report_json_add_string_or_null (b, "sha256", m->sha256);
  json_member_int (b, "size", m->size);
  json_builder_set_member_name (b, "parent_id");
  if (m->parent_id > 0)
    json_builder_add_int_value (b, m->parent_id);
  else
    json_builder_add_null_value (b);
  ss_report_json_add_string_or_null (b, "parent_sha256", m->parent_sha256);
  json_member_int (b, "cells", m->n_cells);
  ss_report_json_add_string_or_null (b, "taught", m->taught);
  ss_report_json_add_string_or_null (b, "cases", m->cases);
  json_builder_set_member_name (b, "guard");
  json_builder_begin_object (b);
  json_member_int (b, "held_back_cells", m->n_back);
  ss_report_json_add_figure (b, "held_back_before", m->back_before);
  ss_report_json_add_figure (b, "held_back_after", m->back_after);
  json_member_int (b, "reference_cells", m->n_reference);
  ss_report_json_add_figure (b, "reference_before", m->reference_before);
  ss_report_json_add_figure (b, "reference_after", m->reference_after);
  ss_report_json_add_figure (b, "margin", m->margin);
  /* the third check: what the lab taught before, in cases not taught this time (null:
   * not recorded, a model stored before the store kept it) */
  json_builder_set_member_name (b, "earlier_cells");
  if (m->n_earlier >= 0)
    json_builder_add_int_value (b, m->n_earlier);
  else
    json_builder_add_null_value (b);
  if (m->n_earlier > 0)
    {
      ss_report_json_add_figure (b, "earlier_before", m->earlier_before);
      ss_report_json_add_figure (b, "earlier_after", m->earlier_after);
      ss_report_json_add_string_or_null (b, "earlier_cases", m->earlier_cases);
    }
  json_builder_end_object (b);
  ss_report_json_add_string_or_null (b, "offered_by", m->offered_by);
  ss_report_json_add_string_or_null (b, "offered_at", m->offered_at);
  ss_report_json_add_string_or_null (b, "adopted_by", m->adopted_by);
  ss_report_json_add_string_or_null (b, "adopted_at", m->adopted_at);
  json_builder_set_member_name (b, "in_use");
  json_builder_add_boolean_value (b, m->in_use);
  json_builder_end_object (b);
}

static int
model_list (int argc, char **argv)
{
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- the lab's models, oldest first");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 0, "model list takes no operand"))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_READ_ONLY, &error);
  gint64 in_use = 0;
  g_autoptr (GPtrArray) models = store != NULL ? ss_store_list_lab_models (store, &in_use, &error)
                                               : NULL;
  if (models == NULL)
    return ss_cli_store_failed (error);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "in_use");
      if (in_use > 0)
        json_builder_add_int_value (b, in_use);
      else
        json_builder_add_string_value (b, "shipped");
      json_builder_set_member_name (b, "models");
      json_builder_begin_array (b);
      for (guint i = 0; i < models->len; i++)
        json_add_model (b, models->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      g_autofree char *text = ss_report_json_text (root);
      if (!ss_cli_write_text ("-", text, &error))
        {
          ss_cli_error ("%s", error->message);
          return EXIT_FAILED;
        }
      return 0;
    }
  if (models->len == 0)
    printf ("No lab models in this store; the shipped model is in use (smearscope-cli learn "
            "offers one).\n");
  for (guint i = 0; i < models->len; i++)
    {
      const SsLabModel *m = models->pdata[i];
      g_autofree char *parent = m->parent_id > 0
                                  ? g_strdup_printf ("model %" G_GINT64_FORMAT, m->parent_id)
                                  : g_strdup_printf ("%.12s", m->parent_sha256 != NULL
                                                                ? m->parent_sha256 : "?");
      printf ("%s%" G_GINT64_FORMAT "  %s  sha256 %.12s  taught from %s\n",
              m->in_use ? "* " : "  ", m->id, m->name, m->sha256, parent);
      printf ("    %d lab cells (%s) from %s\n", m->n_cells, m->taught, m->cases);
      printf ("    held-back cells %.4f -> %.4f (%d); reference %.4f -> %.4f (%d, margin %.4f)\n",
              m->back_before, m->back_after, m->n_back, m->reference_before,
              m->reference_after, m->n_reference, m->margin);
      if (m->n_earlier > 0)
        printf ("    cells taught before (%s) %.4f -> %.4f (%d)\n", m->earlier_cases,
                m->earlier_before, m->earlier_after, m->n_earlier);
      if (m->adopted_by != NULL)
        printf ("    offered by %s at %s; last adopted by %s at %s\n", m->offered_by,
                m->offered_at, m->adopted_by, m->adopted_at);
      else
        printf ("    offered by %s at %s; never adopted\n", m->offered_by, m->offered_at);
    }
  if (models->len > 0 && in_use == 0)
    printf ("In use: the shipped model.\n");
  return 0;
}

/* The store, and who makes the change (on a server its login, ss_cli_store_user);
 * NULL with *status the command's exit status when either cannot be had. */
static SsStore *
open_for_change (const char *user, const char **who, int *status)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    {
      *status = ss_cli_store_failed (error);
      return NULL;
    }
  if ((*who = ss_cli_store_user (store, user, NULL)) == NULL)
    {
      *status = EXIT_USAGE;
      return NULL;
    }
  return g_steal_pointer (&store);
}

static int
model_use (int argc, char **argv)
{
  g_autofree char *user = NULL;
  const GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Who puts it in use, an admin (default: your login name)", "NAME" },
    { NULL }
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("ID - put the lab's model ID in use");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "model use takes one model id"))
    return EXIT_USAGE;
  gint64 id = parse_id (argv[1]);
  if (id == 0)
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  const char *who = NULL;
  int status = 0;
  g_autoptr (SsStore) store = open_for_change (user, &who, &status);
  if (store == NULL)
    return status;
  if (!ss_store_use_lab_model (store, id, who, &error))
    return ss_cli_store_failed (error);
  printf ("Model %" G_GINT64_FORMAT " is in use, put there by %s. New analyses use it; cases "
          "analysed before keep their calls.\n", id, who);
  return 0;
}

static int
model_rollback (int argc, char **argv)
{
  g_autofree char *user = NULL;
  const GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "Who rolls back, an admin (default: your login name)", "NAME" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("- back to the model in use before this one");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 0, "model rollback takes no operand"))
    return EXIT_USAGE;
  g_autoptr (GError) error = NULL;
  const char *who = NULL;
  int status = 0;
  g_autoptr (SsStore) store = open_for_change (user, &who, &status);
  if (store == NULL)
    return status;
  gint64 now = ss_store_rollback_lab_model (store, who, &error);
  if (now < 0)
    return ss_cli_store_failed (error);
  if (now == 0)
    printf ("Rolled back by %s: the shipped model is in use.\n", who);
  else
    printf ("Rolled back by %s: model %" G_GINT64_FORMAT " is in use.\n", who, now);
  return 0;
}

static int
model_export (int argc, char **argv)
{
  g_autofree char *out = NULL;
  const GOptionEntry entries[] = {
    { "out", 0, 0, G_OPTION_ARG_FILENAME, &out, "Write the model file here (required)", "FILE" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("ID --out FILE - the lab's model ID, its exact bytes");
  ss_cli_add_entries (context, entries);
  if (!ss_cli_parse_operands (context, &argc, &argv, 1, "model export takes one model id"))
    return EXIT_USAGE;
  gint64 id = parse_id (argv[1]);
  if (id == 0)
    return EXIT_USAGE;
  if (out == NULL)
    {
      ss_cli_error ("model export needs --out FILE");
      return EXIT_USAGE;
    }
  g_autoptr (GError) error = NULL;
  g_autoptr (SsStore) store = ss_store_open (ss_cli_db_path (), SS_STORE_OPEN_READ_ONLY, &error);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (SsLabModel) model = store != NULL ? ss_store_get_lab_model (store, id, &bytes, &error)
                                               : NULL;
  if (model == NULL)
    return ss_cli_store_failed (error);
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  if (!g_file_set_contents (out, data, (gssize) size, &error))
    {
      ss_cli_error ("%s", error->message);
      return EXIT_FAILED;
    }
  printf ("Model %" G_GINT64_FORMAT " (%s, %" G_GSIZE_FORMAT " bytes, sha256 %s) written to %s\n",
          id, model->name, size, model->sha256, out);
  return 0;
}

int
ss_cli_model (int argc, char **argv)
{
  static const SsCliAction actions[] = {
    { "list", model_list, "[--json]: the lab's models, their figures, which one is in use" },
    { "use", model_use, "ID [--user NAME]: put a model in use (an admin)" },
    { "rollback", model_rollback, "[--user NAME]: back to the model in use before (an admin)" },
    { "export", model_export, "ID --out FILE: write a model's exact bytes" },
  };
  return ss_cli_run_action ("model", actions, G_N_ELEMENTS (actions), argc, argv);
}
