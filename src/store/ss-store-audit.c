/* The audit trail: every correction of a cell is a row appended to corrections, chained
 * to the row before by a SHA-256 hash, and never changed or removed (undo appends the
 * reverse). Here are the corrections themselves, the chain's hash, and the checks that
 * db check runs over the chain, the cells' replay and the cases' sign-off history.
 * docs/case-store.md, "corrections", spells out the rules. */
#include "ss-store-private.h"

#include <string.h>

/* Records ---------------------------------------------------------------------------- */

static const char *const kind_names[] = { "relabel", "add", "delete", "restore", "confirm" };

const char *
ss_correction_kind_name (SsCorrectionKind kind)
{
  g_return_val_if_fail (kind <= SS_CORRECTION_CONFIRM, NULL);
  return kind_names[kind];
}

static SsCorrectionKind
correction_kind_from_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (name, kind_names[i]) == 0)
      return i;
  return SS_CORRECTION_RELABEL;
}

void
ss_correction_free (SsCorrection *correction)
{
  if (correction == NULL)
    return;
  g_free (correction->user);
  g_free (correction->at);
  g_free (correction->hash);
  g_free (correction);
}

static SsCorrection *
correction_from_row (SsStoreStmt *stmt)
{
  SsCorrection *k = g_new0 (SsCorrection, 1);
  k->id = ss_stmt_column_int64 (stmt, 0);
  k->cell_id = ss_stmt_column_int64 (stmt, 1);
  k->image_id = ss_stmt_column_int64 (stmt, 2);
  k->kind = correction_kind_from_name (ss_stmt_column_text (stmt, 3));
  k->old_class = ss_stmt_column_int (stmt, 4);
  k->new_class = ss_stmt_column_int (stmt, 5);
  k->user = ss_stmt_column_dup (stmt, 6);
  k->at = ss_stmt_column_dup (stmt, 7);
  k->undoes = ss_stmt_column_int64 (stmt, 8);
  k->hash = ss_stmt_column_dup (stmt, 9);
  return k;
}

/* The hash chain ---------------------------------------------------------------------- */

/* Each field goes in as "<byte length>:<bytes>;" so that no choice of user name can
 * make two different rows hash the same bytes. */
void
ss_store_hash_field (GChecksum *checksum, const char *value)
{
  char length[24];
  gsize n = strlen (value);
  g_snprintf (length, sizeof length, "%" G_GSIZE_FORMAT ":", n);
  g_checksum_update (checksum, (const guchar *) length, -1);
  g_checksum_update (checksum, (const guchar *) value, n);
  g_checksum_update (checksum, (const guchar *) ";", 1);
}

void
ss_store_hash_integer (GChecksum *checksum, gint64 value)
{
  char text[24];
  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  ss_store_hash_field (checksum, text);
}

char *
ss_store_correction_hash (const char *prev_hash, gint64 id, gint64 cell_id, const char *kind,
                          int old_class, int new_class, const char *user, const char *at,
                          gint64 undoes)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  ss_store_hash_field (checksum, prev_hash);
  ss_store_hash_integer (checksum, id);
  ss_store_hash_integer (checksum, cell_id);
  ss_store_hash_field (checksum, kind);
  ss_store_hash_integer (checksum, old_class);
  ss_store_hash_integer (checksum, new_class);
  ss_store_hash_field (checksum, user);
  ss_store_hash_field (checksum, at);
  ss_store_hash_integer (checksum, undoes);
  return g_strdup (g_checksum_get_string (checksum));
}

/* Corrections ------------------------------------------------------------------------ */

typedef struct {
  int      current_class;
  gboolean deleted;
  gint64   version;
} CellState;

static gboolean
ss_store_cell_state (SsStore *self, gint64 case_id, const char *accession, gint64 cell_id,
                     CellState *state, const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CELL_STATE, operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_int64 (stmt, 1, cell_id);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  gboolean ok = FALSE;
  if (rc == SS_STEP_ROW && ss_stmt_column_int64 (stmt, 2) == case_id)
    {
      state->current_class = ss_stmt_column_int (stmt, 0);
      state->deleted = ss_stmt_column_int (stmt, 1) != 0;
      state->version = ss_stmt_column_int64 (stmt, 3);
      ok = TRUE;
    }
  else if (rc == SS_STEP_ROW || rc == SS_STEP_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "%s: there is no cell %" G_GINT64_FORMAT " in case '%s'", operation, cell_id,
                 accession);
  ss_stmt_reset (stmt);
  return ok;
}

/* Append one row to the audit trail and apply it to the cell. The caller holds the
 * write transaction, so the chain head read here is still the head at commit. */
static gint64
ss_store_append_correction (SsStore *self, gint64 cell_id, SsCorrectionKind kind, int old_class,
                            int new_class, gboolean deleted_after, const char *user,
                            gint64 undoes, const char *operation, GError **error)
{
  SsStoreStmt *head = ss_store_stmt (self, STMT_CHAIN_HEAD, operation, error);
  if (head == NULL)
    return -1;
  SsStepResult rc = ss_stmt_step (head, operation, error);
  if (SS_STEP_FAILED (rc))
    {
      ss_stmt_reset (head);
      return -1;
    }
  gint64 id = rc == SS_STEP_ROW ? ss_stmt_column_int64 (head, 0) + 1 : 1;
  g_autofree char *prev_hash = g_strdup (rc == SS_STEP_ROW ? ss_stmt_column_text (head, 1)
                                                          : SS_STORE_GENESIS_HASH);
  ss_stmt_reset (head);

  g_autofree char *at = ss_store_now ();
  const char *kind_name = ss_correction_kind_name (kind);
  g_autofree char *hash = ss_store_correction_hash (prev_hash, id, cell_id, kind_name, old_class,
                                                    new_class, user, at, undoes);
  SsStoreStmt *insert = ss_store_stmt (self, STMT_CORRECTION_INSERT, operation, error);
  if (insert == NULL)
    return -1;
  ss_stmt_bind_int64 (insert, 1, id);
  ss_stmt_bind_int64 (insert, 2, cell_id);
  ss_stmt_bind_text (insert, 3, kind_name);
  ss_stmt_bind_int64 (insert, 4, old_class);
  ss_stmt_bind_int64 (insert, 5, new_class);
  ss_stmt_bind_text (insert, 6, user);
  ss_stmt_bind_text (insert, 7, at);
  if (undoes > 0)
    ss_stmt_bind_int64 (insert, 8, undoes);
  ss_stmt_bind_text (insert, 9, prev_hash);
  ss_stmt_bind_text (insert, 10, hash);
  if (!ss_store_run (self, insert, operation, error))
    return -1;
  if (self->conn->backend->append_correction != NULL)
    return id;

  SsStoreStmt *update = ss_store_stmt (self, STMT_CELL_SET_STATE, operation, error);
  if (update == NULL)
    return -1;
  ss_stmt_bind_int64 (update, 1, cell_id);
  ss_stmt_bind_int64 (update, 2, new_class);
  ss_stmt_bind_int64 (update, 3, deleted_after ? 1 : 0);
  if (!ss_store_run (self, update, operation, error))
    return -1;
  return id;
}

/* Another station changed the cell since the caller loaded it: say who and when. */
static void
ss_store_set_stale (SsStore *self, gint64 cell_id, const char *accession,
                    gint64 expected_version, gint64 version, const char *operation,
                    GError **error)
{
  g_autofree char *who = NULL, *when = NULL;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CELL_LAST_CHANGE, operation, NULL);
  if (stmt != NULL)
    {
      ss_stmt_bind_int64 (stmt, 1, cell_id);
      if (ss_stmt_step (stmt, operation, NULL) == SS_STEP_ROW)
        {
          who = ss_stmt_column_dup (stmt, 0);
          when = ss_stmt_column_dup (stmt, 1);
        }
      ss_stmt_reset (stmt);
    }
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_STALE,
               "%s: cell %" G_GINT64_FORMAT " of case '%s' was changed by %s at %s since it "
               "was loaded (version %" G_GINT64_FORMAT ", now %" G_GINT64_FORMAT "); nothing "
               "was stored: reload the case to see the change, then correct it again",
               operation, cell_id, accession, who != NULL ? who : "another station",
               when != NULL ? when : "an unknown time", expected_version, version);
}

/* One correction of an existing cell, inside the caller's transaction: returns the new
 * correction id, 0 when the cell already is as asked, -1 on error. expected_version
 * below 0 takes the cell as it is now. */
static gint64
ss_store_correct_locked (SsStore *self, gint64 case_id, const char *accession, gint64 cell_id,
                         SsCorrectionKind kind, int new_class, const char *user, gint64 undoes,
                         gint64 expected_version, const char *operation, GError **error)
{
  CellState state;
  if (!ss_store_cell_state (self, case_id, accession, cell_id, &state, operation, error))
    return -1;
  if (expected_version >= 0 && expected_version != state.version)
    {
      ss_store_set_stale (self, cell_id, accession, expected_version, state.version, operation,
                          error);
      return -1;
    }
  switch (kind)
    {
    case SS_CORRECTION_RELABEL:
      if (state.deleted)
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "%s: cell %" G_GINT64_FORMAT " is deleted; restore it before relabelling it",
                       operation, cell_id);
          return -1;
        }
      if (state.current_class == new_class)
        return 0;
      return ss_store_append_correction (self, cell_id, kind, state.current_class, new_class,
                                         FALSE, user, undoes, operation, error);
    case SS_CORRECTION_DELETE:
    case SS_CORRECTION_RESTORE:
      if (state.deleted == (kind == SS_CORRECTION_DELETE))
        return 0;
      return ss_store_append_correction (self, cell_id, kind, state.current_class,
                                         state.current_class, kind == SS_CORRECTION_DELETE, user,
                                         undoes, operation, error);
    case SS_CORRECTION_CONFIRM:
      if (state.deleted)
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "%s: cell %" G_GINT64_FORMAT " is deleted; restore it before confirming "
                       "its class", operation, cell_id);
          return -1;
        }
      return ss_store_append_correction (self, cell_id, kind, state.current_class,
                                         state.current_class, FALSE, user, undoes, operation,
                                         error);
    case SS_CORRECTION_ADD:
    default:
      g_assert_not_reached ();
    }
}

static gint64
ss_store_correct (SsStore *self, const char *accession, gint64 cell_id, SsCorrectionKind kind,
                  int new_class, gint64 expected_version, const char *user,
                  const char *operation, GError **error)
{
  if (!ss_store_validate_user (user, error))
    return -1;
  if (kind == SS_CORRECTION_RELABEL && (new_class < 0 || new_class >= SS_N_CLASSES))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: %d is not one of the 8 cell classes", operation, new_class);
      return -1;
    }
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return -1;
  if (!ss_store_check_role (self, user, SS_ROLE_TECHNICIAN, operation, error))
    goto fail;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  gint64 id = ss_store_correct_locked (self, case_id, accession, cell_id, kind, new_class, user, 0,
                                       expected_version, operation, error);
  if (id < 0)
    goto fail;
  if (id == 0)
    {
      ss_store_rollback (self);
      return 0;
    }
  if (!ss_store_touch_case (self, case_id, now, operation, error)
      || !ss_store_commit (self, operation, error))
    goto fail;
  return id;
fail:
  ss_store_rollback (self);
  return -1;
}

gint64
ss_store_relabel_cell (SsStore *self, const char *accession, gint64 cell_id, int new_class,
                       const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_RELABEL, new_class, -1, user,
                           "relabelling the cell", error);
}

gint64
ss_store_delete_cell (SsStore *self, const char *accession, gint64 cell_id, const char *user,
                      GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_DELETE, 0, -1, user,
                           "deleting the cell", error);
}

gint64
ss_store_restore_cell (SsStore *self, const char *accession, gint64 cell_id, const char *user,
                       GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_RESTORE, 0, -1, user,
                           "restoring the cell", error);
}

gint64
ss_store_confirm_cell (SsStore *self, const char *accession, gint64 cell_id, const char *user,
                       GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_CONFIRM, 0, -1, user,
                           "confirming the cell's class", error);
}

gint64
ss_store_correct_cell (SsStore *self, const char *accession, gint64 cell_id,
                       SsCorrectionKind kind, int new_class, gint64 expected_version,
                       const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  g_return_val_if_fail (kind != SS_CORRECTION_ADD, -1);
  static const char *const operations[] = {
    [SS_CORRECTION_RELABEL] = "relabelling the cell",
    [SS_CORRECTION_DELETE] = "deleting the cell",
    [SS_CORRECTION_RESTORE] = "restoring the cell",
    [SS_CORRECTION_CONFIRM] = "confirming the cell's class",
  };
  return ss_store_correct (self, accession, cell_id, kind, new_class, expected_version, user,
                           operations[kind], error);
}

gint64
ss_store_add_cell (SsStore *self, const char *accession, gint64 image_id, SsCell *cell,
                   const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  g_return_val_if_fail (cell != NULL, -1);
  const char *operation = "adding the cell";
  if (!ss_store_validate_user (user, error) || !ss_store_validate_cell (cell, 0, NULL, error))
    return -1;
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return -1;
  if (!ss_store_check_role (self, user, SS_ROLE_TECHNICIAN, operation, error))
    goto fail;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_IMAGE_CASE, operation, error);
  if (stmt == NULL)
    goto fail;
  ss_stmt_bind_int64 (stmt, 1, image_id);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  gboolean in_case = rc == SS_STEP_ROW && ss_stmt_column_int64 (stmt, 0) == case_id;
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_ROW && rc != SS_STEP_DONE)
    goto fail;
  if (!in_case)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                   "%s: there is no image %" G_GINT64_FORMAT " in case '%s'", operation, image_id,
                   accession);
      goto fail;
    }
  SsStoreStmt *insert = ss_store_stmt (self, STMT_CELL_INSERT, operation, error);
  if (insert == NULL)
    goto fail;
  int cls = cell->current_class != SS_CLASS_NONE ? cell->current_class : cell->predicted_class;
  gint64 cell_id = ss_store_insert_cell (self, insert, image_id, cell, TRUE, operation, error);
  if (cell_id == 0)
    goto fail;
  gint64 id = ss_store_append_correction (self, cell_id, SS_CORRECTION_ADD, SS_CLASS_NONE, cls,
                                          FALSE, user, 0, operation, error);
  if (id < 0 || !ss_store_touch_case (self, case_id, now, operation, error)
      || !ss_store_commit (self, operation, error))
    goto fail;
  cell->id = cell_id;
  cell->current_class = cls;
  cell->user_drawn = TRUE;
  cell->deleted = FALSE;
  cell->reviewed = TRUE;
  return id;
fail:
  ss_store_rollback (self);
  return -1;
}

static SsCorrection *
ss_store_get_correction_locked (SsStore *self, gint64 correction_id, gint64 *case_id,
                                const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CORRECTION_GET, operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_int64 (stmt, 1, correction_id);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  SsCorrection *k = NULL;
  if (rc == SS_STEP_ROW)
    {
      k = correction_from_row (stmt);
      *case_id = ss_stmt_column_int64 (stmt, 10);
    }
  ss_stmt_reset (stmt);
  return k;
}

gint64
ss_store_undo (SsStore *self, const char *accession, gint64 correction_id, const char *user,
               GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  const char *operation = "undoing the correction";
  if (!ss_store_validate_user (user, error))
    return -1;
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return -1;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SsCorrection) k = NULL;
  gint64 correction_case = 0;
  if (!ss_store_check_role (self, user, SS_ROLE_TECHNICIAN, operation, error))
    goto fail;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  k = ss_store_get_correction_locked (self, correction_id, &correction_case, operation, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      goto fail;
    }
  if (k == NULL || correction_case != case_id)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                   "%s: there is no correction %" G_GINT64_FORMAT " in case '%s'", operation,
                   correction_id, accession);
      goto fail;
    }
  SsStoreStmt *later = ss_store_stmt (self, STMT_CORRECTION_LATER, operation, error);
  if (later == NULL)
    goto fail;
  ss_stmt_bind_int64 (later, 1, k->cell_id);
  ss_stmt_bind_int64 (later, 2, k->id);
  SsStepResult rc = ss_stmt_step (later, operation, error);
  gint64 later_id = rc == SS_STEP_ROW ? ss_stmt_column_int64 (later, 0) : 0;
  ss_stmt_reset (later);
  if (rc != SS_STEP_ROW && rc != SS_STEP_DONE)
    goto fail;
  if (later_id != 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: cell %" G_GINT64_FORMAT " has changed since correction %" G_GINT64_FORMAT
                   " (correction %" G_GINT64_FORMAT " came after it); undo that one first",
                   operation, k->cell_id, k->id, later_id);
      goto fail;
    }
  /* A confirm changed no class, so its reverse is another confirm, with undoes set:
   * the cell is then reviewed only if it was before the confirm. */
  SsCorrectionKind reverse = k->kind == SS_CORRECTION_RELABEL ? SS_CORRECTION_RELABEL
                             : k->kind == SS_CORRECTION_DELETE ? SS_CORRECTION_RESTORE
                             : k->kind == SS_CORRECTION_CONFIRM ? SS_CORRECTION_CONFIRM
                             : SS_CORRECTION_DELETE;
  gint64 id = ss_store_correct_locked (self, case_id, accession, k->cell_id, reverse, k->old_class,
                                       user, k->id, -1, operation, error);
  if (id <= 0)
    {
      if (id == 0)
        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                     "%s: correction %" G_GINT64_FORMAT " changed nothing that can be reversed",
                     operation, correction_id);
      goto fail;
    }
  if (!ss_store_touch_case (self, case_id, now, operation, error)
      || !ss_store_commit (self, operation, error))
    goto fail;
  return id;
fail:
  ss_store_rollback (self);
  return -1;
}

GPtrArray *
ss_store_list_corrections (SsStore *self, const char *accession, GError **error)
{
  return ss_store_list_corrections_since (self, accession, 0, error);
}

GPtrArray *
ss_store_list_corrections_since (SsStore *self, const char *accession, gint64 after_id,
                                 GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the case's corrections";
  gint64 case_id = ss_store_case_id (self, accession, operation, error);
  if (case_id == 0)
    return NULL;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CORRECTION_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  ss_stmt_bind_int64 (stmt, 2, after_id);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_correction_free);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    g_ptr_array_add (list, correction_from_row (stmt));
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return NULL;
  return g_steal_pointer (&list);
}

/* Check ------------------------------------------------------------------------------ */

/* Walk the corrections in id order and recompute every hash. */
gboolean
ss_store_check_chain (SsStore *self, char **head_hash, gint64 *n_corrections, GError **error)
{
  const char *operation = "verifying the corrections' hash chain";
  SsStoreStmt *stmt = ss_store_prepare_once (self,
                                             "SELECT id, cell_id, kind, old_class, new_class, "
                                             "\"user\", at, coalesce (undoes, 0), prev_hash, hash "
                                             "FROM corrections ORDER BY id", operation, error);
  if (stmt == NULL)
    return FALSE;
  g_autofree char *previous = g_strdup (SS_STORE_GENESIS_HASH);
  gint64 previous_id = 0, n = 0;
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      gint64 id = ss_stmt_column_int64 (stmt, 0);
      const char *kind = ss_stmt_column_text (stmt, 2);
      const char *user = ss_stmt_column_text (stmt, 5);
      const char *at = ss_stmt_column_text (stmt, 6);
      const char *prev_hash = ss_stmt_column_text (stmt, 8);
      const char *hash = ss_stmt_column_text (stmt, 9);
      if (g_strcmp0 (prev_hash, previous) != 0)
        {
          ss_stmt_finalize (stmt);
          return ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " does not follow row %"
                               G_GINT64_FORMAT " in the hash chain: a row was removed, inserted or "
                               "edited outside Smearscope", id, previous_id);
        }
      g_autofree char *expected = ss_store_correction_hash (
        prev_hash, id, ss_stmt_column_int64 (stmt, 1), kind != NULL ? kind : "",
        ss_stmt_column_int (stmt, 3), ss_stmt_column_int (stmt, 4), user != NULL ? user : "",
        at != NULL ? at : "", ss_stmt_column_int64 (stmt, 7));
      if (g_strcmp0 (hash, expected) != 0)
        {
          ss_stmt_finalize (stmt);
          return ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " does not match its hash: "
                               "it was edited outside Smearscope", id);
        }
      g_free (previous);
      previous = g_strdup (hash);
      previous_id = id;
      n++;
    }
  ss_stmt_finalize (stmt);
  if (rc != SS_STEP_DONE)
    return FALSE;
  if (head_hash != NULL)
    *head_hash = g_steal_pointer (&previous);
  if (n_corrections != NULL)
    *n_corrections = n;
  return TRUE;
}

/* Replay every cell's corrections from the class it was stored with; the result must
 * be the class and deleted flag the cell has now. This catches a cells row edited by
 * hand, and a correction whose old class does not follow from the one before it
 * (a lost update). Cells and corrections are both walked in cell order, merged. */
gboolean
ss_store_check_replay (SsStore *self, GError **error)
{
  const char *operation = "replaying the corrections";
  SsStoreStmt *cells = ss_store_prepare_once (self,
                                              "SELECT id, stored_class, current_class, deleted, "
                                              "origin FROM cells ORDER BY id", operation, error);
  SsStoreStmt *corrections = cells == NULL ? NULL : ss_store_prepare_once (
    self, "SELECT cell_id, id, kind, old_class, new_class, coalesce (undoes, 0) "
          "FROM corrections ORDER BY cell_id, id", operation, error);
  if (corrections == NULL)
    {
      ss_stmt_finalize (cells);
      return FALSE;
    }
  gboolean ok = TRUE;
  SsStepResult crc = ss_stmt_step (corrections, operation, error);
  SsStepResult rc = SS_STEP_FAILED (crc) ? crc : ss_stmt_step (cells, operation, error);
  for (; ok && rc == SS_STEP_ROW; rc = ok ? ss_stmt_step (cells, operation, error) : rc)
    {
      gint64 cell_id = ss_stmt_column_int64 (cells, 0);
      int cls = ss_stmt_column_int (cells, 1);
      gboolean deleted = FALSE;
      gboolean user_drawn = g_strcmp0 (ss_stmt_column_text (cells, 4), "user") == 0;
      gboolean first = TRUE;
      gint64 previous_id = 0;
      gboolean previous_confirm = FALSE;
      while (crc == SS_STEP_ROW && ss_stmt_column_int64 (corrections, 0) < cell_id)
        crc = ss_stmt_step (corrections, operation, error);
      for (; ok && crc == SS_STEP_ROW && ss_stmt_column_int64 (corrections, 0) == cell_id;
           crc = ss_stmt_step (corrections, operation, error), first = FALSE)
        {
          gint64 id = ss_stmt_column_int64 (corrections, 1);
          const char *kind = ss_stmt_column_text (corrections, 2);
          int old_class = ss_stmt_column_int (corrections, 3);
          int new_class = ss_stmt_column_int (corrections, 4);
          gint64 undoes = ss_stmt_column_int64 (corrections, 5);
          gboolean is_add = g_strcmp0 (kind, "add") == 0;
          gboolean is_confirm = g_strcmp0 (kind, "confirm") == 0;
          /* Undo is refused once a cell has changed since, and whether a cell is
           * reviewed is read back on that rule. */
          if (undoes != 0 && undoes != previous_id)
            ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " reverses row %"
                               G_GINT64_FORMAT ", which is not the correction of cell %"
                               G_GINT64_FORMAT " just before it", id, undoes, cell_id);
          else if (undoes != 0 && is_confirm != previous_confirm)
            ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " reverses row %"
                               G_GINT64_FORMAT " with a %s; only a confirm reverses a confirm",
                               id, undoes, kind);
          else if (is_add != (first && user_drawn))
            ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT ": an 'add' must be the "
                               "first correction of a cell a person drew, and only of such a cell", id);
          else if (is_add)
            {
              if (new_class != cls)
                ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " adds cell %"
                                   G_GINT64_FORMAT " as a class other than the one it was stored "
                                   "with", id, cell_id);
            }
          else if (old_class != cls)
            ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " changes cell %"
                               G_GINT64_FORMAT " from %s, but it was %s then (a lost update or an "
                               "edit outside Smearscope)", id, cell_id, ss_class_name (old_class),
                               ss_class_name (cls));
          else if (g_strcmp0 (kind, "relabel") == 0)
            {
              if (deleted)
                ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " relabels cell %"
                                   G_GINT64_FORMAT " while it is deleted", id, cell_id);
              cls = new_class;
            }
          else if (g_strcmp0 (kind, "delete") == 0 || g_strcmp0 (kind, "restore") == 0)
            {
              gboolean deleting = kind[0] == 'd';
              if (deleted == deleting || new_class != old_class)
                ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " %ss cell %"
                                   G_GINT64_FORMAT " that was %s then", id, kind, cell_id,
                                   deleted ? "deleted" : "not deleted");
              deleted = deleting;
            }
          else if (is_confirm)
            {
              if (deleted || new_class != old_class)
                ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " confirms cell %"
                                   G_GINT64_FORMAT " %s", id, cell_id,
                                   deleted ? "while it is deleted" : "but changes its class");
            }
          previous_id = id;
          previous_confirm = is_confirm;
        }
      if (ok && first && user_drawn)
        ok = ss_store_check_failed (error, "cells row %" G_GINT64_FORMAT " was drawn by a person but has no "
                           "'add' correction", cell_id);
      if (ok && (ss_stmt_column_int (cells, 2) != cls
                 || (ss_stmt_column_int (cells, 3) != 0) != deleted))
        ok = ss_store_check_failed (error, "cells row %" G_GINT64_FORMAT " is %s%s but its corrections say %s%s: "
                           "it was edited outside Smearscope", cell_id,
                           ss_class_name (ss_stmt_column_int (cells, 2)) ? ss_class_name (ss_stmt_column_int (cells, 2)) : "?",
                           ss_stmt_column_int (cells, 3) ? " (deleted)" : "",
                           ss_class_name (cls) ? ss_class_name (cls) : "?", deleted ? " (deleted)" : "");
    }
  if (ok && rc == SS_STEP_DONE && crc == SS_STEP_ROW)
    ok = ss_store_check_failed (error, "corrections row %" G_GINT64_FORMAT " refers to a missing cell",
                       (gint64) ss_stmt_column_int64 (corrections, 1));
  /* a failed step has set the error already */
  if (SS_STEP_FAILED (rc) || SS_STEP_FAILED (crc))
    ok = FALSE;
  ss_stmt_finalize (cells);
  ss_stmt_finalize (corrections);
  return ok;
}

/* A case is signed exactly when its last event is a sign-off, and its signature is that
 * event's: a status set back by hand, outside Smearscope, leaves no reopening behind. */
gboolean
ss_store_check_case_events (SsStore *self, GError **error)
{
  const char *operation = "checking the cases' sign-off history";
  SsStoreStmt *stmt = ss_store_prepare_once (
    self, "SELECT c.accession, c.status, e.kind FROM cases c "
          "LEFT JOIN case_events e ON e.id = "
          "  (SELECT max (id) FROM case_events WHERE case_id = c.id) "
          "WHERE (c.status = 'signed') IS DISTINCT FROM (e.kind IS NOT DISTINCT FROM 'signed') "
          "   OR (c.status = 'signed' AND (c.signed_by IS DISTINCT FROM e.\"user\" "
          "                                OR c.signed_at IS DISTINCT FROM e.at)) "
          "ORDER BY c.id LIMIT 1", operation, error);
  if (stmt == NULL)
    return FALSE;
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  if (rc == SS_STEP_ROW)
    {
      const char *kind = ss_stmt_column_text (stmt, 2);
      ss_store_check_failed (error, "case '%s' is %s but its sign-off history %s: the case was edited "
                    "outside Smearscope", ss_stmt_column_text (stmt, 0),
                    ss_stmt_column_text (stmt, 1),
                    kind == NULL ? "is empty" : g_strcmp0 (kind, "signed") == 0
                                                ? "ends with another signature"
                                                : "ends with a reopening");
      ss_stmt_finalize (stmt);
      return FALSE;
    }
  ss_stmt_finalize (stmt);
  return rc == SS_STEP_DONE;
}
