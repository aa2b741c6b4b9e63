/* The lab's own cell-type models in the case store (issue 30): their bytes and what the
 * guard measured (lab_models), and which one is in use (model_uses, a history chained
 * by hash like the corrections). The one in use is the last one put in use and not
 * rolled back since: the history is replayed as a stack, "use" pushing and "rollback"
 * popping, the shipped model at its bottom. */
#include "ss-store-private.h"

#include <string.h>

void
ss_lab_model_free (SsLabModel *model)
{
  if (model == NULL)
    return;
  g_free (model->name);
  g_free (model->sha256);
  g_free (model->parent_sha256);
  g_free (model->taught);
  g_free (model->cases);
  g_free (model->earlier_cases);
  g_free (model->offered_by);
  g_free (model->offered_at);
  g_free (model->adopted_by);
  g_free (model->adopted_at);
  g_free (model);
}

void
ss_model_use_free (SsModelUse *use)
{
  if (use == NULL)
    return;
  g_free (use->kind);
  g_free (use->user);
  g_free (use->at);
  g_free (use->hash);
  g_free (use);
}

#define LAB_MODEL_COLUMNS \
  "id, name, sha256, length (bytes), coalesce (parent_id, 0), parent_sha256, n_cells, " \
  "taught, cases, n_back, back_before, back_after, n_reference, reference_before, "     \
  "reference_after, margin, offered_by, offered_at, n_earlier, earlier_before, "          \
  "earlier_after, earlier_cases"
#define LAB_MODEL_N_COLUMNS 22  /* a column after them is column LAB_MODEL_N_COLUMNS */

/* TRUE when a stored model's bytes are those its recorded SHA-256 names */
static gboolean
lab_model_bytes_match (const guint8 *data, gsize size, const char *sha256)
{
  g_autofree char *actual = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                         data != NULL ? data : (const guint8 *) "",
                                                         size);
  return g_strcmp0 (actual, sha256) == 0;
}

static SsLabModel *
lab_model_from_row (SsStoreStmt *stmt)
{
  SsLabModel *m = g_new0 (SsLabModel, 1);
  m->id = ss_stmt_column_int64 (stmt, 0);
  m->name = ss_stmt_column_dup (stmt, 1);
  m->sha256 = ss_stmt_column_dup (stmt, 2);
  m->size = ss_stmt_column_int64 (stmt, 3);
  m->parent_id = ss_stmt_column_int64 (stmt, 4);
  m->parent_sha256 = ss_stmt_column_is_null (stmt, 5) ? NULL : ss_stmt_column_dup (stmt, 5);
  m->n_cells = ss_stmt_column_int (stmt, 6);
  m->taught = ss_stmt_column_dup (stmt, 7);
  m->cases = ss_stmt_column_dup (stmt, 8);
  m->n_back = ss_stmt_column_int (stmt, 9);
  m->back_before = ss_stmt_column_double (stmt, 10);
  m->back_after = ss_stmt_column_double (stmt, 11);
  m->n_reference = ss_stmt_column_int (stmt, 12);
  m->reference_before = ss_stmt_column_double (stmt, 13);
  m->reference_after = ss_stmt_column_double (stmt, 14);
  m->margin = ss_stmt_column_double (stmt, 15);
  m->offered_by = ss_stmt_column_dup (stmt, 16);
  m->offered_at = ss_stmt_column_dup (stmt, 17);
  m->n_earlier = ss_stmt_column_is_null (stmt, 18) ? -1 : ss_stmt_column_int (stmt, 18);
  m->earlier_before = ss_stmt_column_double (stmt, 19);
  m->earlier_after = ss_stmt_column_double (stmt, 20);
  m->earlier_cases = ss_stmt_column_dup (stmt, 21);
  return m;
}

static char *
model_use_hash (const char *prev_hash, gint64 id, const char *kind, gint64 model_id,
                const char *user, const char *at)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  ss_store_hash_field (checksum, prev_hash);
  ss_store_hash_integer (checksum, id);
  ss_store_hash_field (checksum, kind);
  ss_store_hash_integer (checksum, model_id);
  ss_store_hash_field (checksum, user);
  ss_store_hash_field (checksum, at);
  return g_strdup (g_checksum_get_string (checksum));
}

/* The history of model uses, oldest first (inside the caller's transaction). */
static GPtrArray *
read_uses (SsStore *self, const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_prepare_once (self,
                                             "SELECT id, kind, coalesce (model_id, 0), \"user\", "
                                             "at, prev_hash, hash FROM model_uses ORDER BY id",
                                             operation, error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) uses = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_model_use_free);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      SsModelUse *use = g_new0 (SsModelUse, 1);
      use->id = ss_stmt_column_int64 (stmt, 0);
      use->kind = ss_stmt_column_dup (stmt, 1);
      use->model_id = ss_stmt_column_int64 (stmt, 2);
      use->user = ss_stmt_column_dup (stmt, 3);
      use->at = ss_stmt_column_dup (stmt, 4);
      use->hash = ss_stmt_column_dup (stmt, 6);
      g_ptr_array_add (uses, use);
    }
  ss_stmt_finalize (stmt);
  return rc == SS_STEP_DONE ? g_steal_pointer (&uses) : NULL;
}

/* Replay the history as a stack of model ids (the shipped model, 0, at the bottom is
 * not on it). FALSE, naming the row, when a rollback does not land where the stack
 * says or pops an empty stack: the history was edited. */
static gboolean
replay_uses (GPtrArray *uses, GArray *stack, GError **error)
{
  g_array_set_size (stack, 0);
  for (guint i = 0; i < uses->len; i++)
    {
      const SsModelUse *use = uses->pdata[i];
      if (g_strcmp0 (use->kind, "use") == 0)
        {
          g_array_append_val (stack, use->model_id);
          continue;
        }
      gint64 expected = stack->len >= 2 ? g_array_index (stack, gint64, stack->len - 2) : 0;
      if (stack->len == 0 || use->model_id != expected)
        return ss_store_check_failed (error, "model_uses row %" G_GINT64_FORMAT " rolls back "
                                      "to model %" G_GINT64_FORMAT " where the history before "
                                      "it leads to %" G_GINT64_FORMAT ": the history was "
                                      "edited outside Smearscope", use->id, use->model_id,
                                      expected);
      g_array_set_size (stack, stack->len - 1);
    }
  return TRUE;
}

static gint64
stack_top (GArray *stack)
{
  return stack->len > 0 ? g_array_index (stack, gint64, stack->len - 1) : 0;
}

gint64
ss_store_add_lab_model (SsStore *self, const SsLabModel *info, GBytes *bytes, const char *user,
                        gboolean *existed, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), 0);
  g_return_val_if_fail (info != NULL && bytes != NULL, 0);
  const char *operation = "recording the offered model";
  if (existed != NULL)
    *existed = FALSE;
  if (!ss_store_validate_user (user, error))
    return 0;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  if (info->name == NULL || info->name[0] == '\0' || strlen (info->name) > 128)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: a model needs a name of 1 to 128 bytes", operation);
      return 0;
    }
  if (size == 0 || size > SS_STORE_MAX_MODEL_BYTES)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: a model file of %" G_GSIZE_FORMAT " bytes; the store keeps model "
                   "files of 1 byte to %d MiB", operation, size,
                   SS_STORE_MAX_MODEL_BYTES / (1024 * 1024));
      return 0;
    }
  const double figures[] = { info->back_before, info->back_after, info->reference_before,
                             info->reference_after, info->earlier_before, info->earlier_after };
  for (guint i = 0; i < G_N_ELEMENTS (figures); i++)
    if (!(figures[i] >= 0 && figures[i] <= 1))
      {
        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                     "%s: the guard's figures are fractions in [0, 1]", operation);
        return 0;
      }
  if (!(info->margin >= 0 && info->margin <= 1))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: the guard's margin is a fraction in [0, 1]", operation);
      return 0;
    }
  g_autofree char *sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
  g_autofree char *now = ss_store_now ();
  g_autofree char *numbered = NULL;  /* (before the first goto: freed on every path) */
  if (!ss_store_begin_write (self, operation, error))
    return 0;
  if (!ss_store_check_role_to (self, user, SS_ROLE_TECHNICIAN,
                               "users of this case store can offer a model", operation, error))
    goto fail;
  /* the same bytes offered again: the model the store has */
  SsStoreStmt *find = ss_store_prepare_once (self, "SELECT id, sha256 FROM lab_models "
                                             "WHERE sha256 = ?1 OR sha256 = ?2 ORDER BY id",
                                             operation, error);
  if (find == NULL)
    goto fail;
  ss_stmt_bind_text (find, 1, sha256);
  ss_stmt_bind_text (find, 2, info->parent_sha256 != NULL ? info->parent_sha256 : "");
  gint64 same = 0, parent = 0;
  SsStepResult rc;
  while ((rc = ss_stmt_step (find, operation, error)) == SS_STEP_ROW)
    {
      gint64 id = ss_stmt_column_int64 (find, 0);
      if (g_strcmp0 (ss_stmt_column_text (find, 1), sha256) == 0)
        same = id;
      else
        parent = id;
    }
  ss_stmt_finalize (find);
  if (rc != SS_STEP_DONE)
    goto fail;
  if (same != 0)
    {
      ss_store_rollback (self);
      if (existed != NULL)
        *existed = TRUE;
      return same;
    }
  if (g_str_has_suffix (info->name, "-lab-"))
    {
      SsStoreStmt *count = ss_store_prepare_once (self, "SELECT count(*) FROM lab_models",
                                                  operation, error);
      if (count == NULL)
        goto fail;
      rc = ss_stmt_step (count, operation, error);
      if (rc == SS_STEP_ROW)
        numbered = g_strdup_printf ("%s%" G_GINT64_FORMAT, info->name,
                                    ss_stmt_column_int64 (count, 0) + 1);
      ss_stmt_finalize (count);
      if (rc != SS_STEP_ROW)
        goto fail;
    }
  SsStoreStmt *insert = ss_store_prepare_once (self,
    "INSERT INTO lab_models (name, bytes, sha256, parent_id, parent_sha256, n_cells, taught, "
    "cases, n_back, back_before, back_after, n_reference, reference_before, reference_after, "
    "margin, offered_by, offered_at, n_earlier, earlier_before, earlier_after, earlier_cases) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
    "?19, ?20, ?21) RETURNING id", operation, error);
  if (insert == NULL)
    goto fail;
  ss_stmt_bind_text (insert, 1, numbered != NULL ? numbered : info->name);
  ss_stmt_bind_blob (insert, 2, data, size);
  ss_stmt_bind_text (insert, 3, sha256);
  if (parent != 0)
    ss_stmt_bind_int64 (insert, 4, parent);
  ss_stmt_bind_text (insert, 5, info->parent_sha256);
  ss_stmt_bind_int64 (insert, 6, MAX (info->n_cells, 0));
  ss_stmt_bind_text (insert, 7, info->taught != NULL ? info->taught : "");
  ss_stmt_bind_text (insert, 8, info->cases != NULL ? info->cases : "");
  ss_stmt_bind_int64 (insert, 9, MAX (info->n_back, 0));
  ss_stmt_bind_double (insert, 10, info->back_before);
  ss_stmt_bind_double (insert, 11, info->back_after);
  ss_stmt_bind_int64 (insert, 12, MAX (info->n_reference, 0));
  ss_stmt_bind_double (insert, 13, info->reference_before);
  ss_stmt_bind_double (insert, 14, info->reference_after);
  ss_stmt_bind_double (insert, 15, MAX (info->margin, 0));
  ss_stmt_bind_text (insert, 16, user);
  ss_stmt_bind_text (insert, 17, now);
  ss_stmt_bind_int64 (insert, 18, MAX (info->n_earlier, 0));
  ss_stmt_bind_double (insert, 19, info->n_earlier > 0 ? info->earlier_before : 0);
  ss_stmt_bind_double (insert, 20, info->n_earlier > 0 ? info->earlier_after : 0);
  ss_stmt_bind_text (insert, 21, info->n_earlier > 0 && info->earlier_cases != NULL
                                   ? info->earlier_cases : "");
  rc = ss_stmt_step (insert, operation, error);
  gint64 id = rc == SS_STEP_ROW ? ss_stmt_column_int64 (insert, 0) : 0;
  ss_stmt_finalize (insert);
  if (id == 0)
    {
      if (rc == SS_STEP_DONE)
        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FAILED, "%s: no id came back",
                     operation);
      goto fail;
    }
  if (!ss_store_commit (self, operation, error))
    return 0;
  return id;
fail:
  ss_store_rollback (self);
  return 0;
}

GPtrArray *
ss_store_list_lab_models (SsStore *self, gint64 *in_use, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "listing the lab's models";
  if (!ss_store_begin_read (self, operation, error))
    return NULL;
  g_autoptr (GPtrArray) models = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_lab_model_free);
  g_autoptr (GPtrArray) uses = NULL;
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (gint64));
  SsStoreStmt *stmt = ss_store_prepare_once (self, "SELECT " LAB_MODEL_COLUMNS
                                             " FROM lab_models ORDER BY id", operation, error);
  SsStepResult rc = SS_STEP_ERROR;
  while (stmt != NULL && (rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    g_ptr_array_add (models, lab_model_from_row (stmt));
  ss_stmt_finalize (stmt);
  if (rc == SS_STEP_DONE)
    uses = read_uses (self, operation, error);
  ss_store_rollback (self);
  if (uses == NULL || !replay_uses (uses, stack, error))
    return NULL;
  gint64 current = stack_top (stack);
  for (guint i = 0; i < models->len; i++)
    {
      SsLabModel *m = models->pdata[i];
      m->in_use = m->id == current;
      for (guint u = 0; u < uses->len; u++)
        {
          const SsModelUse *use = uses->pdata[u];
          if (use->model_id == m->id && g_strcmp0 (use->kind, "use") == 0)
            {
              g_free (m->adopted_by);
              g_free (m->adopted_at);
              m->adopted_by = g_strdup (use->user);
              m->adopted_at = g_strdup (use->at);
            }
        }
    }
  if (in_use != NULL)
    *in_use = current;
  return g_steal_pointer (&models);
}

SsLabModel *
ss_store_get_lab_model (SsStore *self, gint64 id, GBytes **bytes, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the lab's model";
  SsStoreStmt *stmt = ss_store_prepare_once (self, "SELECT " LAB_MODEL_COLUMNS ", bytes"
                                             " FROM lab_models WHERE id = ?1", operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_int64 (stmt, 1, id);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  if (rc != SS_STEP_ROW)
    {
      if (rc == SS_STEP_DONE)
        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                     "there is no model %" G_GINT64_FORMAT " in the case store %s (smearscope-cli "
                     "model list shows them)", id, self->conn->location);
      ss_stmt_finalize (stmt);
      return NULL;
    }
  g_autoptr (SsLabModel) model = lab_model_from_row (stmt);
  gsize size = 0;
  const guint8 *data = ss_stmt_column_blob (stmt, LAB_MODEL_N_COLUMNS, &size);
  if (!lab_model_bytes_match (data, size, model->sha256))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT,
                   "model %" G_GINT64_FORMAT " (%s) in the case store %s is damaged: its bytes "
                   "no longer match the SHA-256 recorded when it was offered, so it is not "
                   "used; restore the store from a backup, or roll back to another model",
                   id, model->name, self->conn->location);
      ss_stmt_finalize (stmt);
      return NULL;
    }
  if (bytes != NULL)
    *bytes = g_bytes_new (data, size);
  ss_stmt_finalize (stmt);
  return g_steal_pointer (&model);
}

gint64
ss_store_lab_model_in_use (SsStore *self, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  const char *operation = "finding the lab's model in use";
  if (!ss_store_begin_read (self, operation, error))
    return -1;
  g_autoptr (GPtrArray) uses = read_uses (self, operation, error);
  ss_store_rollback (self);
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (uses == NULL || !replay_uses (uses, stack, error))
    return -1;
  return stack_top (stack);
}

GPtrArray *
ss_store_list_model_uses (SsStore *self, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "listing the history of the model in use";
  if (!ss_store_begin_read (self, operation, error))
    return NULL;
  GPtrArray *uses = read_uses (self, operation, error);
  ss_store_rollback (self);
  return uses;
}

/* On a server, whose grants refuse a technician's row with a message that names only the
 * table: say who the login is and who may, before trying. */
static gboolean
check_login_admin (SsStore *self, const char *operation, GError **error)
{
  if (!self->conn->backend->roles_on_server)
    return TRUE;
  SsStoreStmt *stmt = ss_store_prepare_once (self,
                                             "SELECT smearscope_login_says (), CASE WHEN "
                                             "coalesce (smearscope_login_role (), '') IN "
                                             "('owner', 'admin') THEN 1 ELSE 0 END",
                                             operation, error);
  if (stmt == NULL)
    return FALSE;
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  gboolean ok = rc == SS_STEP_ROW && ss_stmt_column_int64 (stmt, 1) != 0;
  if (rc == SS_STEP_ROW && !ok)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN,
                 "%s: %s; only an admin can adopt a model or roll back", operation,
                 ss_stmt_column_text (stmt, 0));
  ss_stmt_finalize (stmt);
  return ok;
}

/* Append a use (model_id > 0) or a rollback, as admin user, inside the write
 * transaction. Returns the model now in use, -1 on error. */
static gint64
append_use_locked (SsStore *self, gboolean rollback, gint64 model_id, const char *user,
                   const char *now, const char *operation, GError **error)
{
  if (!ss_store_check_role_to (self, user, SS_ROLE_ADMIN,
                               "an admin can adopt a model or roll back", operation, error)
      || !check_login_admin (self, operation, error))
    return -1;
  g_autoptr (GPtrArray) uses = read_uses (self, operation, error);
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (uses == NULL || !replay_uses (uses, stack, error))
    return -1;
  gint64 current = stack_top (stack);
  if (rollback)
    {
      if (stack->len == 0)
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "%s: the shipped model is in use already; there is nothing to roll "
                       "back to", operation);
          return -1;
        }
      model_id = stack->len >= 2 ? g_array_index (stack, gint64, stack->len - 2) : 0;
    }
  else
    {
      g_autoptr (SsLabModel) model = ss_store_get_lab_model (self, model_id, NULL, error);
      if (model == NULL)
        return -1;
      if (model_id == current)
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "%s: model %" G_GINT64_FORMAT " (%s) is in use already", operation,
                       model_id, model->name);
          return -1;
        }
    }
  const char *kind = rollback ? "rollback" : "use";
  const SsModelUse *last = uses->len > 0 ? uses->pdata[uses->len - 1] : NULL;
  const char *prev_hash = last != NULL ? last->hash : SS_STORE_GENESIS_HASH;
  gint64 id = (last != NULL ? last->id : 0) + 1;
  g_autofree char *hash = model_use_hash (prev_hash, id, kind, model_id, user, now);
  SsStoreStmt *insert = ss_store_prepare_once (self,
                                               "INSERT INTO model_uses (id, kind, model_id, "
                                               "\"user\", at, prev_hash, hash) VALUES (?1, ?2, "
                                               "?3, ?4, ?5, ?6, ?7)", operation, error);
  if (insert == NULL)
    return -1;
  ss_stmt_bind_int64 (insert, 1, id);
  ss_stmt_bind_text (insert, 2, kind);
  if (model_id != 0)
    ss_stmt_bind_int64 (insert, 3, model_id);
  ss_stmt_bind_text (insert, 4, user);
  ss_stmt_bind_text (insert, 5, now);
  ss_stmt_bind_text (insert, 6, prev_hash);
  ss_stmt_bind_text (insert, 7, hash);
  gboolean ok = ss_store_run (self, insert, operation, error);
  ss_stmt_finalize (insert);
  return ok ? model_id : -1;
}

static gint64
append_use (SsStore *self, gboolean rollback, gint64 model_id, const char *user,
            const char *operation, GError **error)
{
  if (!ss_store_validate_user (user, error))
    return -1;
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return -1;
  gint64 now_in_use = append_use_locked (self, rollback, model_id, user, now, operation, error);
  if (now_in_use < 0)
    {
      ss_store_rollback (self);
      return -1;
    }
  if (!ss_store_commit (self, operation, error))
    return -1;
  return now_in_use;
}

gboolean
ss_store_use_lab_model (SsStore *self, gint64 id, const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  if (id <= 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                   "there is no model %" G_GINT64_FORMAT " in the case store (smearscope-cli "
                   "model list shows them)", id);
      return FALSE;
    }
  return append_use (self, FALSE, id, user, "adopting the model", error) >= 0;
}

gint64
ss_store_rollback_lab_model (SsStore *self, const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return append_use (self, TRUE, 0, user, "rolling back the model", error);
}

/* db check: every stored model's bytes against its SHA-256, the model uses' hash chain,
 * and every rollback against the history before it. */
gboolean
ss_store_check_lab_models (SsStore *self, GError **error)
{
  const char *operation = "verifying the lab's models";
  SsStoreStmt *stmt = ss_store_prepare_once (self, "SELECT id, sha256, bytes FROM lab_models "
                                             "ORDER BY id", operation, error);
  if (stmt == NULL)
    return FALSE;
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      gsize size = 0;
      const guint8 *data = ss_stmt_column_blob (stmt, 2, &size);
      if (!lab_model_bytes_match (data, size, ss_stmt_column_text (stmt, 1)))
        {
          gint64 id = ss_stmt_column_int64 (stmt, 0);
          ss_stmt_finalize (stmt);
          return ss_store_check_failed (error, "lab_models row %" G_GINT64_FORMAT " does not "
                                        "match its SHA-256: its bytes were changed outside "
                                        "Smearscope", id);
        }
    }
  ss_stmt_finalize (stmt);
  if (rc != SS_STEP_DONE)
    return FALSE;
  g_autoptr (GPtrArray) uses = read_uses (self, operation, error);
  if (uses == NULL)
    return FALSE;
  const char *previous = SS_STORE_GENESIS_HASH;
  gint64 previous_id = 0;
  for (guint i = 0; i < uses->len; i++)
    {
      const SsModelUse *use = uses->pdata[i];
      g_autofree char *expected = model_use_hash (previous, use->id, use->kind, use->model_id,
                                                  use->user, use->at);
      if (g_strcmp0 (expected, use->hash) != 0)
        return ss_store_check_failed (error, "model_uses row %" G_GINT64_FORMAT " does not "
                                      "follow row %" G_GINT64_FORMAT " or match its hash: "
                                      "the history of the model in use was edited outside "
                                      "Smearscope", use->id, previous_id);
      previous = use->hash;
      previous_id = use->id;
    }
  g_autoptr (GArray) stack = g_array_new (FALSE, FALSE, sizeof (gint64));
  return replay_uses (uses, stack, error);
}
