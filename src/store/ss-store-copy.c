/* Copying a whole store into an empty one, across backends (smearscope-cli db migrate):
 * every row of every table with its id, so that the hash chain of corrections, which
 * hashes the ids, stays whole and db check of the copy gives the same chain head. */
#include "ss-store-private.h"

#include <string.h>

/* One table's columns and how each is read and bound: i integer, r real, t text, b blob.
 * Listed parents first, so that every row's references exist when it is inserted. */
typedef struct {
  const char *name;
  const char *columns;
  const char *kinds;
  const char *key;       /* orders the rows (the ids, so that they go in as they were made) */
  const char *conflict;  /* how a row the target has already is taken: the target holds no
                          * case, but may hold the users its administrator recorded */
} CopiedTable;

static const CopiedTable copied_tables[] = {
  { "models", "id, name, version, checksum", "ittt", "id", "" },
  { "cases", "id, accession, patient_ref, specimen, stain, notes, status, signed_by, signed_at, "
             "created_at, updated_at", "itttttttttt", "id", "" },
  { "images", "id, case_id, path, sha256, width, height, analysed_at, model_id, cell_diameter, "
              "scale_source", "iittiitirt", "id", "" },
  { "cells", "id, image_id, x, y, width, height, mask, nucleus_mask, predicted_class, confidence, "
             "probabilities, area, perimeter, circularity, nucleus_area, nc_ratio, stored_class, "
             "current_class, origin, deleted, nucleus_solidity, doubt, version",
    "iiiiiibbirbrrrrriitirii", "id", "" },
  { "corrections", "id, cell_id, kind, old_class, new_class, \"user\", at, undoes, prev_hash, hash",
    "iitiittitt", "id", "" },
  { "case_events", "id, case_id, kind, \"user\", at, reason", "iitttt", "id", "" },
  { "truth_cells", "id, image_id, x, y, width, height, class, mask, source_format, source_file, "
                   "source_sha256, imported_at, \"user\"", "iiiiiiibttttt", "id", "" },
  { "lab_models", "id, name, bytes, sha256, parent_id, parent_sha256, n_cells, taught, cases, "
                  "n_back, back_before, back_after, n_reference, reference_before, "
                  "reference_after, margin, offered_by, offered_at, n_earlier, earlier_before, "
                  "earlier_after, earlier_cases",
    "itbtitittirrirrrttirrt", "id", "" },
  { "model_uses", "id, kind, model_id, \"user\", at, prev_hash, hash", "ititttt", "id", "" },
  /* the users and their roles, not their passwords: a server's logins are its own */
  { "users", "name, role, added_at", "ttt", "name",
    " ON CONFLICT (name) DO UPDATE SET role = excluded.role, added_at = excluded.added_at" },
};

/* Copy the current row of from into the parameters of to, column by column. */
static void
copy_row (SsStoreStmt *from, SsStoreStmt *to, const char *kinds)
{
  for (int c = 0; kinds[c] != '\0'; c++)
    {
      gsize size = 0;
      const guint8 *blob = NULL;
      if (ss_stmt_column_is_null (from, c))
        {
          ss_stmt_bind_text (to, c + 1, NULL);
          continue;
        }
      switch (kinds[c])
        {
        case 'i':
          ss_stmt_bind_int64 (to, c + 1, ss_stmt_column_int64 (from, c));
          break;
        case 'r':
          ss_stmt_bind_double (to, c + 1, ss_stmt_column_double (from, c));
          break;
        case 't':
          ss_stmt_bind_text (to, c + 1, ss_stmt_column_text (from, c));
          break;
        case 'b':
          /* lives until from steps again, after to's step */
          blob = ss_stmt_column_blob (from, c, &size);
          ss_stmt_bind_blob (to, c + 1, blob, size);
          break;
        default:
          g_assert_not_reached ();
        }
    }
}

static gint64
copy_table (SsStore *source, SsStore *target, const CopiedTable *table, GError **error)
{
  g_autofree char *operation = g_strdup_printf ("copying the table %s", table->name);
  g_autofree char *select = g_strdup_printf ("SELECT %s FROM %s ORDER BY %s", table->columns,
                                             table->name, table->key);
  g_autoptr (GString) insert = g_string_new (NULL);
  g_string_printf (insert, "INSERT INTO %s (%s) VALUES (", table->name, table->columns);
  for (int c = 0; table->kinds[c] != '\0'; c++)
    g_string_append_printf (insert, "%s?%d", c > 0 ? ", " : "", c + 1);
  g_string_append_c (insert, ')');
  g_string_append (insert, table->conflict);

  SsStoreStmt *from = ss_store_prepare_once (source, select, operation, error);
  if (from == NULL)
    return -1;
  SsStoreStmt *to = target->conn->backend->prepare (target->conn, insert->str, TRUE, operation,
                                                    error);
  if (to == NULL)
    {
      ss_stmt_finalize (from);
      return -1;
    }
  gint64 n = 0;
  SsStepResult rc;
  gboolean cases = strcmp (table->name, "cases") == 0;
  while ((rc = ss_stmt_step (from, operation, error)) == SS_STEP_ROW)
    {
      ss_stmt_reset (to);
      copy_row (from, to, table->kinds);
      /* a signed case takes no images nor cells (schema 8): it comes in open and is
       * signed once its rows are in (copy_signatures) */
      if (cases && g_strcmp0 (ss_stmt_column_text (from, 6), "signed") == 0)
        {
          ss_stmt_bind_text (to, 7, "open");
          ss_stmt_bind_text (to, 8, NULL);
          ss_stmt_bind_text (to, 9, NULL);
        }
      if (SS_STEP_FAILED (ss_stmt_step (to, operation, error)))
        {
          rc = SS_STEP_ERROR;
          break;
        }
      n++;
    }
  ss_stmt_finalize (to);
  ss_stmt_finalize (from);
  return rc == SS_STEP_DONE ? n : -1;
}

/* Sign the copied cases that are signed in source, as they are there. */
static gboolean
copy_signatures (SsStore *source, SsStore *target, GError **error)
{
  const char *operation = "copying the sign-offs";
  SsStoreStmt *from = ss_store_prepare_once (source, "SELECT id, status, signed_by, signed_at "
                                             "FROM cases WHERE status = 'signed' ORDER BY id",
                                             operation, error);
  if (from == NULL)
    return FALSE;
  SsStoreStmt *to = ss_store_prepare_once (target, "UPDATE cases SET status = ?2, signed_by = ?3, "
                                           "signed_at = ?4 WHERE id = ?1", operation, error);
  SsStepResult rc = SS_STEP_ERROR;
  while (to != NULL && (rc = ss_stmt_step (from, operation, error)) == SS_STEP_ROW)
    {
      ss_stmt_reset (to);
      copy_row (from, to, "ittt");
      if (SS_STEP_FAILED (ss_stmt_step (to, operation, error)))
        {
          rc = SS_STEP_ERROR;
          break;
        }
    }
  ss_stmt_finalize (to);
  ss_stmt_finalize (from);
  return rc == SS_STEP_DONE;
}

gboolean
ss_store_copy (SsStore *source, SsStore *target, gint64 *n_cases, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (source) && SS_IS_STORE (target), FALSE);
  const char *operation = "copying the case store";
  if (!ss_store_begin_read (source, operation, error))
    return FALSE;
  if (!ss_store_begin_write (target, operation, error))
    {
      ss_store_rollback (source);
      return FALSE;
    }
  /* Under the target's write lock: nobody adds a case meanwhile. */
  SsStoreStmt *count = ss_store_prepare_once (target, "SELECT count (*) FROM cases", operation,
                                              error);
  gboolean ok = count != NULL && ss_stmt_step (count, operation, error) == SS_STEP_ROW;
  if (ok && ss_stmt_column_int64 (count, 0) != 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS,
                   "%s: %s already holds cases; a store is copied into an empty one only, so "
                   "that every id, and the audit chain that hashes them, stays as it was",
                   operation, target->conn->location);
      ok = FALSE;
    }
  ss_stmt_finalize (count);
  gint64 copied_cases = 0;
  for (guint i = 0; ok && i < G_N_ELEMENTS (copied_tables); i++)
    {
      gint64 n = copy_table (source, target, &copied_tables[i], error);
      ok = n >= 0;
      if (i == 1)
        copied_cases = n;
    }
  if (ok)
    ok = copy_signatures (source, target, error);
  if (ok && target->conn->backend->after_copy != NULL)
    ok = target->conn->backend->after_copy (target->conn, error);
  ss_store_rollback (source);
  if (!ok)
    {
      ss_store_rollback (target);
      return FALSE;
    }
  if (!ss_store_commit (target, operation, error))
    return FALSE;
  if (n_cases != NULL)
    *n_cases = copied_cases;
  return TRUE;
}
