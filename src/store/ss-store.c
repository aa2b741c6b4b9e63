/* SsStore: the case store's API. Cases, images, cells, ground truth and counts are here;
 * the corrections and their hash chain are in ss-store-audit.c, the schema in
 * ss-store-schema.c, and the engines behind the statements in ss-store-sqlite.c and
 * ss-store-pg.c (ss-store-backend.h). Every user action is one write transaction,
 * holding the store's one write lock (so two stations writing queue instead of
 * deadlocking), whose commit returns only once it is durable. Statements are prepared
 * once per store and reused. */
#include "ss-store-private.h"

#include <gio/gio.h>
#include <string.h>

G_DEFINE_QUARK (ss-store-error-quark, ss_store_error)

/* The statements are written in the SQL both engines read: numbered parameters,
 * RETURNING for a new row's id, ON CONFLICT DO NOTHING, and "user" quoted (a reserved
 * word in PostgreSQL). */
#define CASE_COLUMNS \
  "c.id, c.accession, c.patient_ref, c.specimen, c.stain, c.notes, c.status, c.signed_by, " \
  "c.signed_at, c.created_at, c.updated_at, " \
  "(SELECT count (*) FROM images i WHERE i.case_id = c.id), " \
  "(SELECT count (*) FROM cells JOIN images i ON i.id = cells.image_id " \
  "  WHERE i.case_id = c.id AND cells.deleted = 0)"

#define CELL_COLUMNS \
  "id, x, y, width, height, mask, nucleus_mask, predicted_class, confidence, probabilities, " \
  "area, perimeter, circularity, nucleus_area, nc_ratio, current_class, origin, deleted, " \
  "nucleus_solidity, doubt, version"

/* Which of the cells that the subquery cells_of names are reviewed (docs/case-store.md,
 * "Reviewed cells"). From a cell's last correction, while it is an undo, the walk steps
 * to the correction before the one it reverses (an undo always reverses the cell's
 * correction just before it, so what stands is what stood then); the cell is reviewed
 * when the walk ends on a correction, not before the first. A cell without corrections
 * costs one probe of corrections_by_cell; `undoes < id` keeps a row damaged outside
 * Smearscope from sending the walk round in a loop. */
#define REVIEWED_CTE(cells_of) \
  "WITH RECURSIVE walk (cell_id, id) AS (" \
  "  SELECT cell_id, max (id) FROM corrections WHERE cell_id IN (" cells_of ") GROUP BY cell_id" \
  "  UNION ALL" \
  "  SELECT walk.cell_id, (SELECT max (p.id) FROM corrections p" \
  "                        WHERE p.cell_id = walk.cell_id AND p.id < k.undoes)" \
  "  FROM walk JOIN corrections k ON k.id = walk.id" \
  "  WHERE k.undoes IS NOT NULL AND k.undoes < k.id), " \
  "reviewed (cell_id) AS (" \
  "  SELECT walk.cell_id FROM walk JOIN corrections k ON k.id = walk.id WHERE k.undoes IS NULL) "

#define CORRECTION_COLUMNS \
  "k.id, k.cell_id, cells.image_id, k.kind, k.old_class, k.new_class, k.\"user\", k.at, " \
  "k.undoes, k.hash"

static const char *const stmt_sql[N_STMTS] = {
  [STMT_CASE_INSERT] =
    "INSERT INTO cases (accession, patient_ref, specimen, stain, notes, status, created_at, "
    "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 'open', ?6, ?6)",
  [STMT_CASE_GET] = "SELECT " CASE_COLUMNS " FROM cases c WHERE c.accession = ?1",
  [STMT_CASE_LIST] = "SELECT " CASE_COLUMNS " FROM cases c ORDER BY c.created_at DESC, c.id DESC",
  [STMT_CASE_ID] = "SELECT id, status, signed_by FROM cases WHERE accession = ?1",
  [STMT_CASE_UPDATE] =
    "UPDATE cases SET patient_ref = coalesce (?2, patient_ref), specimen = coalesce (?3, specimen), "
    "stain = coalesce (?4, stain), notes = coalesce (?5, notes), updated_at = ?6 WHERE id = ?1",
  [STMT_CASE_DELETE] = "DELETE FROM cases WHERE id = ?1",
  [STMT_CASE_SET_STATUS] =
    "UPDATE cases SET status = ?2, signed_by = ?3, signed_at = ?4, updated_at = ?5 WHERE id = ?1",
  [STMT_CASE_TOUCH] = "UPDATE cases SET updated_at = ?2 WHERE id = ?1",
  [STMT_MODEL_INSERT] = "INSERT INTO models (name, version, checksum) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
  [STMT_MODEL_ID] = "SELECT id FROM models WHERE name = ?1 AND version = ?2 AND checksum = ?3",
  [STMT_IMAGE_INSERT] =
    "INSERT INTO images (case_id, path, sha256, width, height, analysed_at, model_id, "
    "cell_diameter, scale_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
  [STMT_IMAGE_LIST] =
    "SELECT i.id, i.case_id, i.path, i.sha256, i.width, i.height, i.analysed_at, m.name, "
    "m.version, m.checksum, i.cell_diameter, i.scale_source "
    "FROM images i LEFT JOIN models m ON m.id = i.model_id "
    "WHERE i.case_id = ?1 ORDER BY i.id",
  [STMT_IMAGE_CASE] = "SELECT case_id FROM images WHERE id = ?1",
  /* the case's field of that picture, and its number in the case (fields count from 1
   * in the order they were added) */
  [STMT_IMAGE_SAME_PICTURE] =
    "SELECT i.path, (SELECT count(*) FROM images o WHERE o.case_id = ?1 AND o.id <= i.id) "
    "FROM images i WHERE i.case_id = ?1 AND i.sha256 = ?2 ORDER BY i.id LIMIT 1",
  [STMT_CELL_INSERT] =
    "INSERT INTO cells (image_id, x, y, width, height, mask, nucleus_mask, predicted_class, "
    "confidence, probabilities, area, perimeter, circularity, nucleus_area, nc_ratio, "
    "stored_class, current_class, origin, deleted, nucleus_solidity, doubt) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?17, 0, "
    "?18, ?19) RETURNING id",
  [STMT_CELL_LIST] =
    REVIEWED_CTE ("SELECT id FROM cells WHERE image_id = ?1")
    "SELECT " CELL_COLUMNS ", CASE WHEN id IN (SELECT cell_id FROM reviewed) THEN 1 ELSE 0 END "
    "FROM cells "
    "WHERE image_id = ?1 ORDER BY id",
  [STMT_CELL_GET] =
    REVIEWED_CTE ("?1")
    "SELECT " CELL_COLUMNS ", CASE WHEN id IN (SELECT cell_id FROM reviewed) THEN 1 ELSE 0 END "
    "FROM cells WHERE id = ?1",
  [STMT_CELL_STATE] =
    "SELECT cells.current_class, cells.deleted, images.case_id, cells.version FROM cells "
    "JOIN images ON images.id = cells.image_id WHERE cells.id = ?1",
  [STMT_CELL_SET_STATE] = "UPDATE cells SET current_class = ?2, deleted = ?3, version = version + 1 WHERE id = ?1",
  [STMT_CELL_LAST_CHANGE] =
    "SELECT \"user\", at FROM corrections WHERE cell_id = ?1 ORDER BY id DESC LIMIT 1",
  [STMT_USER_ROLE] = "SELECT role FROM users WHERE name = ?1",
  [STMT_USER_ANY] = "SELECT 1 FROM users LIMIT 1",
  [STMT_USER_PUT] =
    "INSERT INTO users (name, role, added_at) VALUES (?1, ?2, ?3) "
    "ON CONFLICT (name) DO UPDATE SET role = excluded.role",
  [STMT_USER_LIST] = "SELECT name, role, added_at FROM users ORDER BY name",
  [STMT_CHAIN_HEAD] = "SELECT id, hash FROM corrections ORDER BY id DESC LIMIT 1",
  [STMT_CORRECTION_INSERT] =
    "INSERT INTO corrections (id, cell_id, kind, old_class, new_class, \"user\", at, undoes, "
    "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
  [STMT_CORRECTION_GET] =
    "SELECT " CORRECTION_COLUMNS ", images.case_id FROM corrections k "
    "JOIN cells ON cells.id = k.cell_id JOIN images ON images.id = cells.image_id "
    "WHERE k.id = ?1",
  [STMT_CORRECTION_LATER] =
    "SELECT id FROM corrections WHERE cell_id = ?1 AND id > ?2 ORDER BY id LIMIT 1",
  [STMT_CORRECTION_LIST] =
    "SELECT " CORRECTION_COLUMNS " FROM corrections k "
    "JOIN cells ON cells.id = k.cell_id JOIN images ON images.id = cells.image_id "
    "WHERE images.case_id = ?1 AND k.id > ?2 ORDER BY k.id",
  /* One index range per class rather than a GROUP BY: across several images GROUP BY
   * sorts every cell in a temporary b-tree, four times slower on 100,000 cells. */
  [STMT_COUNTS_CASE] =
    "WITH classes (class) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7)) "
    "SELECT class, (SELECT count (*) FROM images JOIN cells ON cells.image_id = images.id "
    "  AND cells.deleted = 0 AND cells.current_class = classes.class WHERE images.case_id = ?1) "
    "FROM classes",
  /* the cells each case teaches the lab's learning (src/learn/ss-learn-cells.c reads
   * them one by one by the same rule): a kept cell that is reviewed, or in a signed case
   * unless the analysis called it by its size alone (doubt SS_DOUBT_TOO_SMALL, 4); a
   * deleted one only when reviewed and found by the model ("no white cell"); a case that
   * teaches nothing has no row */
  [STMT_TAUGHT_PER_CASE] =
    REVIEWED_CTE ("SELECT id FROM cells")
    "SELECT cases.accession, count (*) FROM cells "
    "JOIN images ON images.id = cells.image_id JOIN cases ON cases.id = images.case_id "
    "LEFT JOIN reviewed ON reviewed.cell_id = cells.id "
    "WHERE CASE WHEN cells.deleted <> 0 "
    "           THEN reviewed.cell_id IS NOT NULL AND cells.origin = 'model' "
    "           ELSE reviewed.cell_id IS NOT NULL "
    "                OR (cases.status = 'signed' AND (cells.doubt & 4) = 0) END "
    "GROUP BY cases.accession",
  [STMT_COUNTS_IMAGE] =
    "WITH classes (class) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7)) "
    "SELECT class, (SELECT count (*) FROM cells WHERE cells.image_id = ?1 AND cells.deleted = 0 "
    "  AND cells.current_class = classes.class) FROM classes",
  [STMT_EVENT_INSERT] =
    "INSERT INTO case_events (case_id, kind, \"user\", at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
  [STMT_EVENT_LIST] =
    "SELECT id, case_id, kind, \"user\", at, reason FROM case_events WHERE case_id = ?1 ORDER BY id",
  [STMT_TRUTH_INSERT] =
    "INSERT INTO truth_cells (image_id, x, y, width, height, class, mask, source_format, "
    "source_file, source_sha256, imported_at, \"user\") "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) RETURNING id",
  [STMT_TRUTH_LIST] =
    "SELECT id, image_id, x, y, width, height, class, mask, source_format, source_file, "
    "source_sha256, imported_at, \"user\" FROM truth_cells WHERE image_id = ?1 ORDER BY id",
  [STMT_TRUTH_SEEN] =
    "SELECT 1 FROM truth_cells WHERE image_id = ?1 AND source_sha256 = ?2 LIMIT 1",
};
G_STATIC_ASSERT (SS_DOUBT_TOO_SMALL == 4);  /* as STMT_TAUGHT_PER_CASE writes it */

G_DEFINE_FINAL_TYPE (SsStore, ss_store, G_TYPE_OBJECT)

static void
ss_store_finalize (GObject *object)
{
  SsStore *self = SS_STORE (object);
  for (int i = 0; i < N_STMTS; i++)
    ss_stmt_finalize (self->stmts[i]);
  if (self->conn != NULL)
    self->conn->backend->close (self->conn);
  g_byte_array_unref (self->mask_blob);
  g_byte_array_unref (self->nucleus_blob);
  G_OBJECT_CLASS (ss_store_parent_class)->finalize (object);
}

static void
ss_store_class_init (SsStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ss_store_finalize;
}

static void
ss_store_init (SsStore *self)
{
  self->mask_blob = g_byte_array_new ();
  self->nucleus_blob = g_byte_array_new ();
}

char *
ss_store_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

/* Statements and transactions -------------------------------------------------------- */

SsStoreStmt *
ss_store_stmt (SsStore *self, StmtId id, const char *operation, GError **error)
{
  if (self->stmts[id] == NULL)
    {
      const char *sql = id == STMT_CORRECTION_INSERT && self->conn->backend->append_correction != NULL
                          ? self->conn->backend->append_correction
                          : stmt_sql[id];
      self->stmts[id] = self->conn->backend->prepare (self->conn, sql, TRUE, operation,
                                                      error);
      return self->stmts[id];
    }
  ss_stmt_reset (self->stmts[id]);
  return self->stmts[id];
}

SsStoreStmt *
ss_store_prepare_once (SsStore *self, const char *sql, const char *operation, GError **error)
{
  return self->conn->backend->prepare (self->conn, sql, FALSE, operation, error);
}

gboolean
ss_store_run (SsStore *self, SsStoreStmt *stmt, const char *operation, GError **error)
{
  SsStepResult result = ss_stmt_step (stmt, operation, error);
  ss_stmt_reset (stmt);
  return !SS_STEP_FAILED (result);
}

gboolean
ss_store_begin_read (SsStore *self, const char *operation, GError **error)
{
  return self->conn->backend->begin_read (self->conn, operation, error);
}

gboolean
ss_store_begin_write (SsStore *self, const char *operation, GError **error)
{
  if (self->conn->read_only)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY,
                   "%s: the case store %s was opened read-only", operation, self->conn->location);
      return FALSE;
    }
  return self->conn->backend->begin_write (self->conn, operation, error);
}

gboolean
ss_store_commit (SsStore *self, const char *operation, GError **error)
{
  return self->conn->backend->commit (self->conn, operation, error);
}

void
ss_store_rollback (SsStore *self)
{
  self->conn->backend->rollback (self->conn);
}

/* Opening ---------------------------------------------------------------------------- */

gboolean
ss_store_is_server_location (const char *location)
{
  g_return_val_if_fail (location != NULL, FALSE);
  return g_str_has_prefix (location, "postgresql://") || g_str_has_prefix (location, "postgres://");
}

const SsStoreBackend *
ss_store_backend_for (const char *location)
{
  return ss_store_is_server_location (location) ? &ss_store_backend_pg : &ss_store_backend_sqlite;
}

SsStore *
ss_store_open (const char *path, SsStoreOpenFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (!((flags & SS_STORE_OPEN_CREATE) && (flags & SS_STORE_OPEN_READ_ONLY)), NULL);

  const SsStoreBackend *backend = ss_store_backend_for (path);
  gboolean created = FALSE;
  SsStoreConn *conn = backend->open (path, flags, &created, error);
  if (conn == NULL)
    return NULL;
  g_autoptr (SsStore) self = g_object_new (SS_TYPE_STORE, NULL);
  self->conn = conn;
  if (!ss_store_schema_open (conn, error))
    {
      g_clear_object (&self);
      /* A store this call created but could not set up (a full disk, say) is removed,
       * so that no half-made store is left to be mistaken for one. */
      if (created && backend->discard != NULL)
        backend->discard (path);
      return NULL;
    }
  return g_steal_pointer (&self);
}

const char *
ss_store_get_path (SsStore *self)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  return self->conn->location;
}

void
ss_store_set_busy_timeout (SsStore *self, int milliseconds)
{
  g_return_if_fail (SS_IS_STORE (self));
  self->conn->busy_timeout_ms = MAX (milliseconds, 0);
  self->conn->backend->set_busy_timeout (self->conn, self->conn->busy_timeout_ms);
}

/* The server's connection ---------------------------------------------------------- */

void
ss_store_set_reconnect_wait (SsStore *self, int milliseconds)
{
  g_return_if_fail (SS_IS_STORE (self));
  if (self->conn->backend->set_reconnect_wait != NULL)
    self->conn->backend->set_reconnect_wait (self->conn, milliseconds);
}

gboolean
ss_store_get_connected (SsStore *self)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  return self->conn->backend->connected == NULL || self->conn->backend->connected (self->conn);
}

const char *
ss_store_get_server (SsStore *self)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  return self->conn->backend->server != NULL ? self->conn->backend->server (self->conn) : NULL;
}

/* What the worker thread needs, copied (it touches nothing of the store's), and the
 * session it made until the store's thread takes it in. */
typedef struct {
  const SsStoreBackend *backend;
  char                 *location;
  gboolean              read_only;
  int                   busy_timeout_ms;
  gpointer              session;
} Reconnect;

static void
reconnect_free (Reconnect *reconnect)
{
  /* a session made but never taken in: the caller went away */
  if (reconnect->session != NULL)
    reconnect->backend->drop_session (reconnect->session);
  g_free (reconnect->location);
  g_free (reconnect);
}

static void
reconnect_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  Reconnect *reconnect = data;
  GError *error = NULL;
  reconnect->session = reconnect->backend->connect_session (reconnect->location,
                                                           reconnect->read_only,
                                                           reconnect->busy_timeout_ms, &error);
  if (reconnect->session == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
ss_store_reconnect_async (SsStore *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (SS_IS_STORE (self));
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ss_store_reconnect_async);
  const SsStoreBackend *backend = self->conn->backend;
  if (backend->connect_session == NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  Reconnect *reconnect = g_new0 (Reconnect, 1);
  reconnect->backend = backend;
  reconnect->location = g_strdup (self->conn->location);
  reconnect->read_only = self->conn->read_only;
  reconnect->busy_timeout_ms = self->conn->busy_timeout_ms;
  g_task_set_task_data (task, reconnect, (GDestroyNotify) reconnect_free);
  g_task_run_in_thread (task, reconnect_thread);
}

gboolean
ss_store_reconnect_finish (SsStore *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  Reconnect *reconnect = g_task_get_task_data (G_TASK (result));
  if (reconnect != NULL && reconnect->session != NULL)
    self->conn->backend->adopt_session (self->conn, g_steal_pointer (&reconnect->session));
  return TRUE;
}

/* Records ---------------------------------------------------------------------------- */

static const char *const status_names[] = { "open", "reviewed", "signed" };
static const char *const event_kind_names[] = { "signed", "reopened" };

const char *
ss_case_status_name (SsCaseStatus status)
{
  g_return_val_if_fail (status <= SS_CASE_SIGNED, NULL);
  return status_names[status];
}

static SsCaseStatus
case_status_from_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_strcmp0 (name, status_names[i]) == 0)
      return i;
  return SS_CASE_OPEN;
}

const char *
ss_case_event_kind_name (SsCaseEventKind kind)
{
  g_return_val_if_fail (kind <= SS_CASE_EVENT_REOPENED, NULL);
  return event_kind_names[kind];
}

void
ss_case_event_free (SsCaseEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->user);
  g_free (event->at);
  g_free (event->reason);
  g_free (event);
}

void
ss_case_free (SsCase *c)
{
  if (c == NULL)
    return;
  g_free (c->accession);
  g_free (c->patient_ref);
  g_free (c->specimen);
  g_free (c->stain);
  g_free (c->notes);
  g_free (c->signed_by);
  g_free (c->signed_at);
  g_free (c->created_at);
  g_free (c->updated_at);
  g_free (c);
}

void
ss_image_record_free (SsImageRecord *image)
{
  if (image == NULL)
    return;
  g_free (image->path);
  g_free (image->sha256);
  g_free (image->analysed_at);
  g_free (image->model_name);
  g_free (image->model_version);
  g_free (image->model_checksum);
  g_free (image->scale_source);
  g_clear_pointer (&image->cells, g_ptr_array_unref);
  g_free (image);
}

static SsCase *
case_from_row (SsStoreStmt *stmt)
{
  SsCase *c = g_new0 (SsCase, 1);
  c->id = ss_stmt_column_int64 (stmt, 0);
  c->accession = ss_stmt_column_dup (stmt, 1);
  c->patient_ref = ss_stmt_column_dup (stmt, 2);
  c->specimen = ss_stmt_column_dup (stmt, 3);
  c->stain = ss_stmt_column_dup (stmt, 4);
  c->notes = ss_stmt_column_dup (stmt, 5);
  c->status = case_status_from_name (ss_stmt_column_text (stmt, 6));
  c->signed_by = ss_stmt_column_dup (stmt, 7);
  c->signed_at = ss_stmt_column_dup (stmt, 8);
  c->created_at = ss_stmt_column_dup (stmt, 9);
  c->updated_at = ss_stmt_column_dup (stmt, 10);
  c->n_images = ss_stmt_column_int (stmt, 11);
  c->n_cells = ss_stmt_column_int64 (stmt, 12);
  return c;
}

static SsCell *
cell_from_row (SsStoreStmt *stmt)
{
  SsCell *cell = ss_cell_new ();
  cell->id = ss_stmt_column_int64 (stmt, 0);
  cell->box.x = ss_stmt_column_int (stmt, 1);
  cell->box.y = ss_stmt_column_int (stmt, 2);
  cell->box.width = ss_stmt_column_int (stmt, 3);
  cell->box.height = ss_stmt_column_int (stmt, 4);
  /* A mask that does not decode is dropped rather than failing the whole case: the
   * box and the class still stand, and db check's integrity pass reports damage. */
  gsize size = 0;
  const guint8 *blob = ss_stmt_column_blob (stmt, 5, &size);
  if (!ss_store_rle_from_blob (&cell->mask, blob, size))
    ss_rle_clear (&cell->mask);
  blob = ss_stmt_column_blob (stmt, 6, &size);
  if (!ss_store_rle_from_blob (&cell->nucleus_mask, blob, size))
    ss_rle_clear (&cell->nucleus_mask);
  cell->predicted_class = ss_stmt_column_int (stmt, 7);
  cell->confidence = (float) ss_stmt_column_double (stmt, 8);
  blob = ss_stmt_column_blob (stmt, 9, &size);
  ss_store_probabilities_from_blob (cell->probabilities, blob, size);
  cell->morphometrics.area = ss_stmt_column_double (stmt, 10);
  cell->morphometrics.perimeter = ss_stmt_column_double (stmt, 11);
  cell->morphometrics.circularity = ss_stmt_column_double (stmt, 12);
  cell->morphometrics.nucleus_area = ss_stmt_column_double (stmt, 13);
  cell->morphometrics.nc_ratio = ss_stmt_column_double (stmt, 14);
  cell->current_class = ss_stmt_column_int (stmt, 15);
  cell->user_drawn = g_strcmp0 (ss_stmt_column_text (stmt, 16), "user") == 0;
  cell->deleted = ss_stmt_column_int (stmt, 17) != 0;
  cell->morphometrics.nucleus_solidity = ss_stmt_column_double (stmt, 18);
  cell->doubt = (guint) MAX (ss_stmt_column_int (stmt, 19), 0);
  cell->version = ss_stmt_column_int64 (stmt, 20);
  cell->reviewed = ss_stmt_column_int (stmt, 21) != 0;
  return cell;
}

/* Cases ------------------------------------------------------------------------------ */

static gboolean
validate_accession (const char *accession, GError **error)
{
  if (accession == NULL || *accession == '\0' || strlen (accession) > 64
      || !g_utf8_validate (accession, -1, NULL))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "an accession number must be 1 to 64 characters of UTF-8");
      return FALSE;
    }
  for (const char *p = accession; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || g_unichar_isspace (c))
        {
          /* escaped: the name must not drive the terminal it is printed on */
          g_autofree char *shown = g_strescape (accession, NULL);

          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "the accession number '%s' contains spaces or control characters", shown);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
validate_text (const char *what, const char *text, gsize max_length, GError **error)
{
  if (text != NULL && (!g_utf8_validate (text, -1, NULL) || strlen (text) > max_length))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "the %s must be UTF-8 text of at most %" G_GSIZE_FORMAT " bytes", what, max_length);
      return FALSE;
    }
  return TRUE;
}

gboolean
ss_store_validate_user (const char *user, GError **error)
{
  g_autofree char *trimmed = user != NULL ? g_strstrip (g_strdup (user)) : NULL;
  if (trimmed == NULL || *trimmed == '\0')
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "every change needs the name of the person who makes it");
      return FALSE;
    }
  if (!validate_text ("user name", user, 128, error))
    return FALSE;
  /* a name is shown in the audit trail, reports and HL7 messages: no line breaks, tabs,
   * escape sequences or other control characters */
  for (const char *p = user; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      {
        g_autofree char *shown = g_strescape (user, NULL);

        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                     "the user name '%s' contains control characters (line breaks, tabs, "
                     "escapes): give the name as plain text", shown);
        return FALSE;
      }
  return TRUE;
}

/* The id of the case, and its status and signature when asked (may be NULL), or 0 with
 * NOT_FOUND. The id alone: reading a whole SsCase would count its cells, as long as the
 * counts. */
/* Roles ------------------------------------------------------------------------------ */

static const char *const role_names[] = { "technician", "hematologist", "admin" };

const char *
ss_role_name (SsRole role)
{
  g_return_val_if_fail (role <= SS_ROLE_ADMIN, NULL);
  return role_names[role];
}

gboolean
ss_role_from_name (const char *name, SsRole *role)
{
  for (guint i = 0; i < G_N_ELEMENTS (role_names); i++)
    if (g_strcmp0 (name, role_names[i]) == 0)
      {
        *role = i;
        return TRUE;
      }
  return FALSE;
}

static const char *
role_action (SsRole needed)
{
  return needed == SS_ROLE_ADMIN ? "an admin can add users"
         : needed == SS_ROLE_HEMATOLOGIST ? "a hematologist can sign off or reopen a case"
         : "users of this case store can change it";
}

gboolean
ss_store_check_role (SsStore *self, const char *user, SsRole needed, const char *operation,
                     GError **error)
{
  return ss_store_check_role_to (self, user, needed, role_action (needed), operation, error);
}

gboolean
ss_store_check_role_to (SsStore *self, const char *user, SsRole needed, const char *action,
                        const char *operation, GError **error)
{
  if (self->conn->backend->roles_on_server)
    return TRUE;
  SsStoreStmt *any = ss_store_stmt (self, STMT_USER_ANY, operation, error);
  if (any == NULL)
    return FALSE;
  SsStepResult rc = ss_stmt_step (any, operation, error);
  ss_stmt_reset (any);
  if (rc == SS_STEP_DONE)
    return TRUE;  /* no roles recorded: the file's owner does everything */
  if (rc != SS_STEP_ROW)
    return FALSE;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_USER_ROLE, operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_text (stmt, 1, user);
  rc = ss_stmt_step (stmt, operation, error);
  SsRole role = SS_ROLE_TECHNICIAN;
  gboolean known = rc == SS_STEP_ROW && ss_role_from_name (ss_stmt_column_text (stmt, 0), &role);
  ss_stmt_reset (stmt);
  if (SS_STEP_FAILED (rc))
    return FALSE;
  if (known && role >= needed)
    return TRUE;
  if (known)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN,
                 "%s: %s is a %s; only %s", operation, user, role_names[role], action);
  else
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN,
                 "%s: %s is not a user of this case store; only %s (an admin adds users "
                 "with their role)", operation, user, action);
  return FALSE;
}

GSource *
ss_store_watch_case (SsStore *self, const char *accession, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  gint64 case_id = ss_store_case_id (self, accession, "watching the case", error);
  if (case_id == 0)
    return NULL;
  return self->conn->backend->watch (self->conn, case_id, error);
}

void
ss_store_user_free (SsStoreUser *user)
{
  if (user == NULL)
    return;
  g_free (user->name);
  g_free (user->added_at);
  g_free (user);
}

static int
compare_users (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(SsStoreUser *const *) a)->name, (*(SsStoreUser *const *) b)->name);
}

GPtrArray *
ss_store_list_users (SsStore *self, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "listing the users";
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_USER_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) users = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_store_user_free);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      SsStoreUser *user = g_new0 (SsStoreUser, 1);
      user->name = ss_stmt_column_dup (stmt, 0);
      user->added_at = ss_stmt_column_dup (stmt, 2);
      g_ptr_array_add (users, user);
      if (!ss_role_from_name (ss_stmt_column_text (stmt, 1), &user->role))
        {
          /* the schema allows three roles: only a damaged store has another, and it is
           * not listed as a technician's */
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT, "%s: the user %s has a "
                       "role Smearscope does not know: the store is damaged (smearscope-cli "
                       "db check says more)", ss_store_get_path (self),
                       user->name != NULL ? user->name : "(no name)");
          ss_stmt_reset (stmt);
          return NULL;
        }
    }
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return NULL;
  /* by bytes, as on either engine whatever the server's collation */
  g_ptr_array_sort (users, compare_users);
  return g_steal_pointer (&users);
}

const char *
ss_store_get_login (SsStore *self)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  return self->conn->backend->login != NULL ? self->conn->backend->login (self->conn) : NULL;
}

gboolean
ss_store_init_roles (SsStore *self, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  const char *operation = "setting up the roles";
  if (self->conn->backend->init_roles == NULL)
    return TRUE;
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  SsStoreStmt *stmt = ss_store_prepare_once (self, self->conn->backend->init_roles, operation,
                                             error);
  gboolean ok = stmt != NULL && ss_store_run (self, stmt, operation, error);
  ss_stmt_finalize (stmt);
  if (ok)
    return ss_store_commit (self, operation, error);
  ss_store_rollback (self);
  return FALSE;
}

gboolean
ss_store_add_user (SsStore *self, const char *name, SsRole role, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  g_return_val_if_fail (role <= SS_ROLE_ADMIN, FALSE);
  const char *operation = "adding the user";
  if (!ss_store_validate_user (name, error))
    return FALSE;
  if (strlen (name) > 63)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: a user name has at most 63 bytes", operation);
      return FALSE;
    }
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  SsStoreStmt *stmt = NULL;
  gboolean ok;
  if (self->conn->backend->add_user != NULL)
    {
      stmt = ss_store_prepare_once (self, self->conn->backend->add_user, operation, error);
      if (stmt != NULL)
        {
          ss_stmt_bind_text (stmt, 1, name);
          ss_stmt_bind_text (stmt, 2, role_names[role]);
        }
      ok = stmt != NULL && ss_store_run (self, stmt, operation, error);
      ss_stmt_finalize (stmt);
    }
  else
    {
      stmt = ss_store_stmt (self, STMT_USER_PUT, operation, error);
      if (stmt != NULL)
        {
          ss_stmt_bind_text (stmt, 1, name);
          ss_stmt_bind_text (stmt, 2, role_names[role]);
          ss_stmt_bind_text (stmt, 3, now);
        }
      ok = stmt != NULL && ss_store_run (self, stmt, operation, error);
    }
  if (ok)
    return ss_store_commit (self, operation, error);
  ss_store_rollback (self);
  return FALSE;
}

static gint64
ss_store_find_case (SsStore *self, const char *accession, char **status, char **signed_by,
                    const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_ID, operation, error);
  if (stmt == NULL)
    return 0;
  ss_stmt_bind_text (stmt, 1, accession);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  gint64 id = rc == SS_STEP_ROW ? ss_stmt_column_int64 (stmt, 0) : 0;
  if (rc == SS_STEP_ROW && status != NULL)
    *status = ss_stmt_column_dup (stmt, 1);
  if (rc == SS_STEP_ROW && signed_by != NULL)
    *signed_by = ss_stmt_column_dup (stmt, 2);
  if (rc == SS_STEP_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "%s: there is no case '%s' in %s", operation, accession, self->conn->location);
  ss_stmt_reset (stmt);
  return id;
}

gint64
ss_store_case_id (SsStore *self, const char *accession, const char *operation, GError **error)
{
  return ss_store_find_case (self, accession, NULL, NULL, operation, error);
}

/* The case id for a change, refused if the case is missing or signed. Call inside the
 * write transaction so that a sign-off cannot slip in between. */
gint64
ss_store_case_for_change (SsStore *self, const char *accession, const char *operation,
                          GError **error)
{
  g_autofree char *status = NULL, *signed_by = NULL;
  gint64 id = ss_store_find_case (self, accession, &status, &signed_by, operation, error);
  if (id != 0 && g_strcmp0 (status, ss_case_status_name (SS_CASE_SIGNED)) == 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED,
                   "%s: case '%s' is signed by %s and cannot change; reopen it first if it "
                   "must", operation, accession, signed_by);
      return 0;
    }
  return id;
}

gboolean
ss_store_touch_case (SsStore *self, gint64 case_id, const char *now, const char *operation,
                     GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_TOUCH, operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  ss_stmt_bind_text (stmt, 2, now);
  return ss_store_run (self, stmt, operation, error);
}

SsCase *
ss_store_create_case (SsStore *self, const char *accession, const char *patient_ref,
                      const char *specimen, const char *stain, const char *notes, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "creating the case";
  if (!validate_accession (accession, error)
      || !validate_text ("patient reference", patient_ref, 256, error)
      || !validate_text ("specimen", specimen, 256, error)
      || !validate_text ("stain", stain, 256, error)
      || !validate_text ("notes", notes, 64 * 1024, error))
    return NULL;
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return NULL;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_INSERT, operation, error);
  if (stmt == NULL)
    goto fail;
  ss_stmt_bind_text (stmt, 1, accession);
  ss_stmt_bind_text (stmt, 2, patient_ref);
  ss_stmt_bind_text (stmt, 3, specimen);
  ss_stmt_bind_text (stmt, 4, stain);
  ss_stmt_bind_text (stmt, 5, notes);
  ss_stmt_bind_text (stmt, 6, now);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  ss_stmt_reset (stmt);
  if (rc == SS_STEP_UNIQUE)
    {
      g_clear_error (error);
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS,
                   "%s: there is already a case '%s' in %s", operation, accession, self->conn->location);
      goto fail;
    }
  if (rc != SS_STEP_DONE)
    goto fail;
  if (!ss_store_commit (self, operation, error))
    return NULL;
  return ss_store_get_case (self, accession, error);
fail:
  ss_store_rollback (self);
  return NULL;
}

SsCase *
ss_store_get_case (SsStore *self, const char *accession, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  g_return_val_if_fail (accession != NULL, NULL);
  const char *operation = "reading the case";
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_GET, operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_text (stmt, 1, accession);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  SsCase *c = NULL;
  if (rc == SS_STEP_ROW)
    c = case_from_row (stmt);
  else if (rc == SS_STEP_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "there is no case '%s' in %s", accession, self->conn->location);
  ss_stmt_reset (stmt);
  return c;
}

GPtrArray *
ss_store_list_cases (SsStore *self, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "listing the cases";
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_case_free);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      SsCase *c = case_from_row (stmt);
      if (c->accession == NULL)  /* the schema forbids it: only a damaged file has it */
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT, "%s: case %" G_GINT64_FORMAT
                       " has no accession number: the store is damaged (smearscope-cli db "
                       "check says more)", ss_store_get_path (self), c->id);
          ss_case_free (c);
          ss_stmt_reset (stmt);
          return NULL;
        }
      g_ptr_array_add (cases, c);
    }
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return NULL;
  return g_steal_pointer (&cases);
}

GHashTable *
ss_store_taught_per_case (SsStore *self, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "counting the cells each case teaches";
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_TAUGHT_PER_CASE, operation, error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GHashTable) counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      char *accession = ss_stmt_column_dup (stmt, 0);
      if (accession != NULL)
        g_hash_table_insert (counts, accession,
                             GINT_TO_POINTER ((int) MIN (ss_stmt_column_int64 (stmt, 1), G_MAXINT)));
    }
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return NULL;
  return g_steal_pointer (&counts);
}

gboolean
ss_store_update_case (SsStore *self, const char *accession, const char *patient_ref,
                      const char *specimen, const char *stain, const char *notes, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  const char *operation = "changing the case";
  if (!validate_text ("patient reference", patient_ref, 256, error)
      || !validate_text ("specimen", specimen, 256, error)
      || !validate_text ("stain", stain, 256, error)
      || !validate_text ("notes", notes, 64 * 1024, error))
    return FALSE;
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_UPDATE, operation, error);
  if (stmt == NULL)
    goto fail;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  ss_stmt_bind_text (stmt, 2, patient_ref);
  ss_stmt_bind_text (stmt, 3, specimen);
  ss_stmt_bind_text (stmt, 4, stain);
  ss_stmt_bind_text (stmt, 5, notes);
  ss_stmt_bind_text (stmt, 6, now);
  if (!ss_store_run (self, stmt, operation, error))
    goto fail;
  return ss_store_commit (self, operation, error);
fail:
  ss_store_rollback (self);
  return FALSE;
}

gboolean
ss_store_delete_case (SsStore *self, const char *accession, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  const char *operation = "deleting the case";
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_DELETE, operation, error);
  if (stmt == NULL)
    goto fail;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  ss_stmt_reset (stmt);
  if (rc == SS_STEP_FOREIGN_KEY)
    {
      g_clear_error (error);
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: case '%s' has analysed images or was signed before; a case with a "
                   "history is kept", operation, accession);
      goto fail;
    }
  if (rc != SS_STEP_DONE)
    goto fail;
  return ss_store_commit (self, operation, error);
fail:
  ss_store_rollback (self);
  return FALSE;
}

static gboolean
ss_store_append_event (SsStore *self, gint64 case_id, SsCaseEventKind kind, const char *user,
                       const char *at, const char *reason, const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_EVENT_INSERT, operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  ss_stmt_bind_text (stmt, 2, ss_case_event_kind_name (kind));
  ss_stmt_bind_text (stmt, 3, user);
  ss_stmt_bind_text (stmt, 4, at);
  ss_stmt_bind_text (stmt, 5, reason);
  return ss_store_run (self, stmt, operation, error);
}

/* Status, signature and the sign-off event change together, in the caller's transaction. */
static gboolean
ss_store_write_status (SsStore *self, gint64 case_id, SsCaseStatus status, const char *user,
                       const char *now, const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CASE_SET_STATUS, operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  ss_stmt_bind_text (stmt, 2, ss_case_status_name (status));
  ss_stmt_bind_text (stmt, 3, status == SS_CASE_SIGNED ? user : NULL);
  ss_stmt_bind_text (stmt, 4, status == SS_CASE_SIGNED ? now : NULL);
  ss_stmt_bind_text (stmt, 5, now);
  if (!ss_store_run (self, stmt, operation, error))
    return FALSE;
  return status != SS_CASE_SIGNED
         || ss_store_append_event (self, case_id, SS_CASE_EVENT_SIGNED, user, now, NULL, operation,
                                   error);
}

static gboolean
ss_store_set_status (SsStore *self, const char *accession, SsCaseStatus status,
                     const char *user, const char *operation, GError **error)
{
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  if (status == SS_CASE_SIGNED
      && !ss_store_check_role (self, user, SS_ROLE_HEMATOLOGIST, operation, error))
    goto fail;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0
      || !ss_store_write_status (self, case_id, status, user, now, operation, error))
    goto fail;
  return ss_store_commit (self, operation, error);
fail:
  ss_store_rollback (self);
  return FALSE;
}

gboolean
ss_store_mark_reviewed (SsStore *self, const char *accession, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  return ss_store_set_status (self, accession, SS_CASE_REVIEWED, NULL, "marking the case reviewed",
                              error);
}

gboolean
ss_store_sign_case (SsStore *self, const char *accession, const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  if (!ss_store_validate_user (user, error))
    return FALSE;
  return ss_store_set_status (self, accession, SS_CASE_SIGNED, user, "signing the case", error);
}

gboolean
ss_store_reopen_case (SsStore *self, const char *accession, const char *user, const char *reason,
                      GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  const char *operation = "reopening the case";
  g_autofree char *trimmed = reason != NULL ? g_strstrip (g_strdup (reason)) : NULL;
  if (!ss_store_validate_user (user, error))
    return FALSE;
  if (trimmed == NULL || *trimmed == '\0')
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: say why the signed case is reopened; the reason is kept with it",
                   operation);
      return FALSE;
    }
  if (!validate_text ("reason", reason, 64 * 1024, error))
    return FALSE;
  g_autofree char *now = ss_store_now ();
  g_autofree char *status = NULL;
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  if (!ss_store_check_role (self, user, SS_ROLE_HEMATOLOGIST, operation, error))
    goto fail;
  /* Read under the write lock: two people reopening at once leave one event. */
  gint64 case_id = ss_store_find_case (self, accession, &status, NULL, operation, error);
  if (case_id == 0)
    goto fail;
  if (g_strcmp0 (status, ss_case_status_name (SS_CASE_SIGNED)) != 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: case '%s' is not signed (it is %s), so there is nothing to reopen",
                   operation, accession, status);
      goto fail;
    }
  if (!ss_store_write_status (self, case_id, SS_CASE_OPEN, NULL, now, operation, error)
      || !ss_store_append_event (self, case_id, SS_CASE_EVENT_REOPENED, user, now, reason,
                                 operation, error))
    goto fail;
  return ss_store_commit (self, operation, error);
fail:
  ss_store_rollback (self);
  return FALSE;
}

static SsCaseEventKind
case_event_kind_from_name (const char *name)
{
  return g_strcmp0 (name, event_kind_names[SS_CASE_EVENT_REOPENED]) == 0 ? SS_CASE_EVENT_REOPENED
                                                                          : SS_CASE_EVENT_SIGNED;
}

GPtrArray *
ss_store_list_case_events (SsStore *self, const char *accession, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the case's sign-off history";
  gint64 case_id = ss_store_case_id (self, accession, operation, error);
  if (case_id == 0)
    return NULL;
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_EVENT_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_case_event_free);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      SsCaseEvent *event = g_new0 (SsCaseEvent, 1);
      event->id = ss_stmt_column_int64 (stmt, 0);
      event->case_id = ss_stmt_column_int64 (stmt, 1);
      event->kind = case_event_kind_from_name (ss_stmt_column_text (stmt, 2));
      event->user = ss_stmt_column_dup (stmt, 3);
      event->at = ss_stmt_column_dup (stmt, 4);
      event->reason = ss_stmt_column_dup (stmt, 5);
      g_ptr_array_add (events, event);
    }
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return NULL;
  return g_steal_pointer (&events);
}

/* Images and cells ------------------------------------------------------------------- */

gboolean
ss_store_validate_cell (const SsCell *cell, guint index, const SsImageInfo *info, GError **error)
{
  const char *fault = NULL;
  int stored_class = cell->current_class != SS_CLASS_NONE ? cell->current_class
                                                          : cell->predicted_class;
  if (cell->box.width <= 0 || cell->box.height <= 0)
    fault = "its box is empty";
  else if (cell->box.x < 0 || cell->box.y < 0
           || (info != NULL && ((gint64) cell->box.x + cell->box.width > info->width
                                || (gint64) cell->box.y + cell->box.height > info->height)))
    fault = "its box lies outside the image";
  else if (cell->predicted_class < SS_CLASS_NONE || cell->predicted_class >= SS_N_CLASSES)
    fault = "its predicted class is not one of the 8 classes";
  else if (stored_class < 0 || stored_class >= SS_N_CLASSES)
    fault = "it has no class";
  else if (!(cell->confidence >= 0.0f && cell->confidence <= 1.0f))
    fault = "its confidence is not between 0 and 1";
  else if ((cell->mask.n_runs > 0 && (cell->mask.width != cell->box.width
                                      || cell->mask.height != cell->box.height))
           || (cell->nucleus_mask.n_runs > 0 && (cell->nucleus_mask.width != cell->box.width
                                                 || cell->nucleus_mask.height != cell->box.height)))
    fault = "a mask does not have the size of its box";
  if (fault == NULL)
    return TRUE;
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
               "cell %u of the image cannot be stored: %s", index + 1, fault);
  return FALSE;
}

static gboolean
is_hex_sha256 (const char *text)
{
  if (text == NULL || strlen (text) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (text[i]))
      return FALSE;
  return TRUE;
}

/* The scratch buffers outlive the step, so the engine need not copy them. */
static void
bind_mask (SsStoreStmt *stmt, int index, const SsRle *rle, GByteArray *scratch)
{
  if (ss_store_rle_to_blob (rle, scratch))
    ss_stmt_bind_blob (stmt, index, scratch->data, scratch->len);
  else
    ss_stmt_bind_blob (stmt, index, NULL, 0);
}

/* Step an INSERT ... RETURNING id: the new row's id, or 0 with an error. */
static gint64
ss_store_insert_returning_id (SsStoreStmt *stmt, const char *operation, GError **error)
{
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  gint64 id = rc == SS_STEP_ROW ? ss_stmt_column_int64 (stmt, 0) : 0;
  ss_stmt_reset (stmt);
  if (rc == SS_STEP_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FAILED,
                 "%s: the case store gave no id for the new row", operation);
  return id;
}

gint64
ss_store_insert_cell (SsStore *self, SsStoreStmt *stmt, gint64 image_id, const SsCell *cell,
                      gboolean user_drawn, const char *operation, GError **error)
{
  guint8 probabilities[SS_N_CLASSES * 4];
  int stored_class = cell->current_class != SS_CLASS_NONE ? cell->current_class
                                                          : cell->predicted_class;
  ss_store_probabilities_to_blob (cell->probabilities, probabilities);
  ss_stmt_bind_int64 (stmt, 1, image_id);
  ss_stmt_bind_int64 (stmt, 2, cell->box.x);
  ss_stmt_bind_int64 (stmt, 3, cell->box.y);
  ss_stmt_bind_int64 (stmt, 4, cell->box.width);
  ss_stmt_bind_int64 (stmt, 5, cell->box.height);
  bind_mask (stmt, 6, &cell->mask, self->mask_blob);
  bind_mask (stmt, 7, &cell->nucleus_mask, self->nucleus_blob);
  ss_stmt_bind_int64 (stmt, 8, cell->predicted_class);
  ss_stmt_bind_double (stmt, 9, cell->confidence);
  ss_stmt_bind_blob (stmt, 10, probabilities, sizeof probabilities);
  ss_stmt_bind_double (stmt, 11, cell->morphometrics.area);
  ss_stmt_bind_double (stmt, 12, cell->morphometrics.perimeter);
  ss_stmt_bind_double (stmt, 13, cell->morphometrics.circularity);
  ss_stmt_bind_double (stmt, 14, cell->morphometrics.nucleus_area);
  ss_stmt_bind_double (stmt, 15, cell->morphometrics.nc_ratio);
  ss_stmt_bind_int64 (stmt, 16, stored_class);
  ss_stmt_bind_text (stmt, 17, user_drawn ? "user" : "model");
  double solidity = cell->morphometrics.nucleus_solidity;
  ss_stmt_bind_double (stmt, 18, solidity >= 0 && solidity <= 1 ? solidity : 0);
  ss_stmt_bind_int64 (stmt, 19, (int) (user_drawn ? SS_DOUBT_NONE : cell->doubt));
  return ss_store_insert_returning_id (stmt, operation, error);
}

static gint64
ss_store_model_id (SsStore *self, const SsImageInfo *info, const char *operation, GError **error)
{
  if (info->model_name == NULL)
    return 0;
  const char *version = info->model_version != NULL ? info->model_version : "";
  const char *checksum = info->model_checksum != NULL ? info->model_checksum : "";
  for (StmtId id = STMT_MODEL_INSERT; id <= STMT_MODEL_ID; id++)
    {
      SsStoreStmt *stmt = ss_store_stmt (self, id, operation, error);
      if (stmt == NULL)
        return -1;
      ss_stmt_bind_text (stmt, 1, info->model_name);
      ss_stmt_bind_text (stmt, 2, version);
      ss_stmt_bind_text (stmt, 3, checksum);
      SsStepResult rc = ss_stmt_step (stmt, operation, error);
      gint64 model_id = rc == SS_STEP_ROW ? ss_stmt_column_int64 (stmt, 0) : 0;
      ss_stmt_reset (stmt);
      if (rc != SS_STEP_ROW && rc != SS_STEP_DONE)
        return -1;
      if (id == STMT_MODEL_ID)
        return model_id;
    }
  g_assert_not_reached ();
}

/* The images row of info in case case_id (model_id 0: none; sha256 already lower case):
 * its id, or 0 with an error. */
static gint64
ss_store_insert_image_row (SsStore *self, gint64 case_id, const SsImageInfo *info,
                           const char *sha256, const char *now, gint64 model_id,
                           const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_IMAGE_INSERT, operation, error);
  if (stmt == NULL)
    return 0;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  ss_stmt_bind_text (stmt, 2, info->path);
  ss_stmt_bind_text (stmt, 3, sha256);
  ss_stmt_bind_int64 (stmt, 4, info->width);
  ss_stmt_bind_int64 (stmt, 5, info->height);
  ss_stmt_bind_text (stmt, 6, now);
  if (model_id > 0)
    ss_stmt_bind_int64 (stmt, 7, model_id);
  if (info->cell_diameter > 0)
    ss_stmt_bind_double (stmt, 8, info->cell_diameter);
  if (info->scale_source != NULL)
    ss_stmt_bind_text (stmt, 9, info->scale_source);
  return ss_store_insert_returning_id (stmt, operation, error);
}

/* Other stations with the case open show the new image (their watch hears it) */
static gboolean
ss_store_notify_image (SsStore *self, gint64 case_id, const char *operation, GError **error)
{
  if (self->conn->backend->notify_image == NULL)
    return TRUE;
  SsStoreStmt *stmt = ss_store_prepare_once (self, self->conn->backend->notify_image,
                                             operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  ss_stmt_finalize (stmt);
  return rc == SS_STEP_ROW || rc == SS_STEP_DONE;
}

gint64
ss_store_add_image (SsStore *self, const char *accession, const SsImageInfo *info,
                    GPtrArray *cells, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), 0);
  g_return_val_if_fail (info != NULL && cells != NULL, 0);
  const char *operation = "storing the analysed image";
  if (info->path == NULL || *info->path == '\0' || !g_utf8_validate (info->path, -1, NULL))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: the image needs a path in UTF-8", operation);
      return 0;
    }
  if (!is_hex_sha256 (info->sha256) || info->width <= 0 || info->height <= 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: %s needs its SHA-256 (64 hex digits) and a positive width and height",
                   operation, info->path);
      return 0;
    }
  for (guint i = 0; i < cells->len; i++)
    if (!ss_store_validate_cell (g_ptr_array_index (cells, i), i, info, error))
      return 0;

  g_autofree char *now = ss_store_now ();
  g_autofree char *sha256 = g_ascii_strdown (info->sha256, -1);
  if (!ss_store_begin_write (self, operation, error))
    return 0;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  if (info->once_per_case)
    {
      SsStoreStmt *same = ss_store_stmt (self, STMT_IMAGE_SAME_PICTURE, operation, error);
      if (same == NULL)
        goto fail;
      ss_stmt_bind_int64 (same, 1, case_id);
      ss_stmt_bind_text (same, 2, sha256);
      SsStepResult rc = ss_stmt_step (same, operation, error);
      if (rc == SS_STEP_ROW)
        {
          g_autofree char *there = ss_stmt_column_dup (same, 0);
          g_autofree char *base = g_path_get_basename (there != NULL ? there : "?");
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS,
                       "the same picture (the same SHA-256) is already field %" G_GINT64_FORMAT
                       " of case %s (%s): it is not added again, so that its cells are not "
                       "counted twice", ss_stmt_column_int64 (same, 1), accession, base);
        }
      ss_stmt_reset (same);
      if (rc != SS_STEP_DONE)
        goto fail;
    }
  gint64 model_id = ss_store_model_id (self, info, operation, error);
  if (model_id < 0)
    goto fail;
  gint64 image_id = ss_store_insert_image_row (self, case_id, info, sha256, now, model_id,
                                               operation, error);
  if (image_id == 0)
    goto fail;
  SsStoreStmt *insert_cell = ss_store_stmt (self, STMT_CELL_INSERT, operation, error);
  if (insert_cell == NULL)
    goto fail;
  for (guint i = 0; i < cells->len; i++)
    {
      SsCell *cell = g_ptr_array_index (cells, i);
      cell->id = ss_store_insert_cell (self, insert_cell, image_id, cell, FALSE, operation, error);
      if (cell->id == 0)
        goto fail;
    }
  if (!ss_store_touch_case (self, case_id, now, operation, error)
      || !ss_store_notify_image (self, case_id, operation, error)
      || !ss_store_commit (self, operation, error))
    goto fail;
  for (guint i = 0; i < cells->len; i++)
    {
      SsCell *cell = g_ptr_array_index (cells, i);
      cell->current_class = cell->current_class != SS_CLASS_NONE ? cell->current_class
                                                                 : cell->predicted_class;
      cell->user_drawn = FALSE;
      cell->deleted = FALSE;
      cell->reviewed = FALSE;
    }
  return image_id;
fail:
  ss_store_rollback (self);
  /* Nothing was stored, so no cell may keep an id that points at nothing. */
  for (guint i = 0; i < cells->len; i++)
    ((SsCell *) g_ptr_array_index (cells, i))->id = 0;
  return 0;
}

static GPtrArray *
ss_store_cells_of_image (SsStore *self, gint64 image_id, const char *operation, GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CELL_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_int64 (stmt, 1, image_id);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    g_ptr_array_add (cells, cell_from_row (stmt));
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return NULL;
  return g_steal_pointer (&cells);
}

/* Append the images of a case (SsImageRecord*, without cells) to images, oldest first. */
static gboolean
ss_store_images_of_case (SsStore *self, gint64 case_id, GPtrArray *images, const char *operation,
                         GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_IMAGE_LIST, operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_int64 (stmt, 1, case_id);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      SsImageRecord *image = g_new0 (SsImageRecord, 1);
      image->id = ss_stmt_column_int64 (stmt, 0);
      image->case_id = ss_stmt_column_int64 (stmt, 1);
      image->path = ss_stmt_column_dup (stmt, 2);
      image->sha256 = ss_stmt_column_dup (stmt, 3);
      image->width = ss_stmt_column_int (stmt, 4);
      image->height = ss_stmt_column_int (stmt, 5);
      image->analysed_at = ss_stmt_column_dup (stmt, 6);
      image->model_name = ss_stmt_column_dup (stmt, 7);
      image->model_version = ss_stmt_column_dup (stmt, 8);
      image->model_checksum = ss_stmt_column_dup (stmt, 9);
      image->cell_diameter = ss_stmt_column_double (stmt, 10);
      image->scale_source = ss_stmt_column_dup (stmt, 11);
      g_ptr_array_add (images, image);
    }
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return FALSE;
  return TRUE;
}

GPtrArray *
ss_store_list_images (SsStore *self, const char *accession, gboolean with_cells, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the case's images";
  /* One read transaction, so that the images and their cells are one snapshot even
   * while another program writes. */
  if (!ss_store_begin_read (self, operation, error))
    return NULL;
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_image_record_free);
  gint64 case_id = ss_store_case_id (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  if (!ss_store_images_of_case (self, case_id, images, operation, error))
    goto fail;
  for (guint i = 0; with_cells && i < images->len; i++)
    {
      SsImageRecord *image = g_ptr_array_index (images, i);
      image->cells = ss_store_cells_of_image (self, image->id, operation, error);
      if (image->cells == NULL)
        goto fail;
    }
  ss_store_rollback (self);
  return g_steal_pointer (&images);
fail:
  ss_store_rollback (self);
  return NULL;
}

GPtrArray *
ss_store_list_image_cells (SsStore *self, gint64 image_id, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the image's cells";
  /* one snapshot, as ss_store_list_images */
  if (!ss_store_begin_read (self, operation, error))
    return NULL;
  GPtrArray *cells = ss_store_cells_of_image (self, image_id, operation, error);
  ss_store_rollback (self);
  return cells;
}

SsCell *
ss_store_get_cell (SsStore *self, gint64 cell_id, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the cell";
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_CELL_GET, operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_int64 (stmt, 1, cell_id);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  SsCell *cell = NULL;
  if (rc == SS_STEP_ROW)
    cell = cell_from_row (stmt);
  else if (rc == SS_STEP_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "there is no cell %" G_GINT64_FORMAT " in %s", cell_id, self->conn->location);
  ss_stmt_reset (stmt);
  return cell;
}

/* Counts ----------------------------------------------------------------------------- */

static gboolean
ss_store_counts (SsStore *self, StmtId id, gint64 key, int counts[SS_N_CLASSES],
                 const char *operation, GError **error)
{
  memset (counts, 0, sizeof (int) * SS_N_CLASSES);
  SsStoreStmt *stmt = ss_store_stmt (self, id, operation, error);
  if (stmt == NULL)
    return FALSE;
  ss_stmt_bind_int64 (stmt, 1, key);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      int cls = ss_stmt_column_int (stmt, 0);
      if (cls >= 0 && cls < SS_N_CLASSES)
        counts[cls] = ss_stmt_column_int (stmt, 1);
    }
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return FALSE;
  return TRUE;
}

/* Ground truth ----------------------------------------------------------------------- */

SsTruthCell *
ss_truth_cell_new (void)
{
  SsTruthCell *cell = g_new0 (SsTruthCell, 1);
  cell->cls = SS_CLASS_NONE;
  return cell;
}

void
ss_truth_cell_free (SsTruthCell *cell)
{
  if (cell == NULL)
    return;
  ss_rle_clear (&cell->mask);
  g_free (cell->source_format);
  g_free (cell->source_file);
  g_free (cell->source_sha256);
  g_free (cell->imported_at);
  g_free (cell->user);
  g_free (cell);
}

/* The image of the case that truth->image names: by SHA-256 when it is 64 hex digits,
 * else by the basename of its path. NULL with an error naming the annotation file when
 * the case has no such image or has two of that name. */
static const SsImageRecord *
ss_store_match_truth_image (GPtrArray *images, const char *accession, const SsTruthImage *truth,
                            GError **error)
{
  g_autofree char *wanted = g_path_get_basename (truth->image);
  const SsImageRecord *found = NULL;
  const gboolean by_sha256 = is_hex_sha256 (truth->image);
  for (guint i = 0; i < images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (images, i);
      g_autofree char *name = g_path_get_basename (image->path);
      gboolean same = by_sha256 ? g_ascii_strcasecmp (image->sha256, truth->image) == 0
                                : strcmp (name, wanted) == 0;
      if (!same)
        continue;
      if (found != NULL && !by_sha256)
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "%s: case '%s' has two images named %s (%s and %s); the annotation "
                       "cannot tell which it belongs to", truth->source_file, accession, wanted,
                       found->path, image->path);
          return NULL;
        }
      if (found == NULL)
        found = image;
    }
  if (found == NULL)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "%s: case '%s' has no image %s%s; analyse the image into the case first",
                 truth->source_file, accession, by_sha256 ? "with SHA-256 " : "named ",
                 by_sha256 ? truth->image : wanted);
  return found;
}

static gboolean
validate_truth_cell (const SsTruthCell *cell, guint index, const SsTruthImage *truth,
                     const SsImageRecord *image, GError **error)
{
  const char *fault = NULL;
  if (cell->box.width <= 0 || cell->box.height <= 0)
    fault = "its box is empty";
  else if (cell->box.x < 0 || cell->box.y < 0
           || (gint64) cell->box.x + cell->box.width > image->width
           || (gint64) cell->box.y + cell->box.height > image->height)
    fault = "its box lies outside the image";
  else if (cell->cls < SS_CLASS_NONE || cell->cls >= SS_N_CLASSES)
    fault = "its class is not one of the 8 classes";
  else if (cell->mask.n_runs > 0 && (cell->mask.width != cell->box.width
                                     || cell->mask.height != cell->box.height))
    fault = "its mask does not have the size of its box";
  if (fault == NULL)
    return TRUE;
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
               "%s: truth cell %u of image %s cannot be stored: %s", truth->source_file,
               index + 1, image->path, fault);
  return FALSE;
}

/* Whether this annotation file was imported for this image before. */
static int
ss_store_truth_seen (SsStore *self, gint64 image_id, const char *sha256, const char *operation,
                     GError **error)
{
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_TRUTH_SEEN, operation, error);
  if (stmt == NULL)
    return -1;
  ss_stmt_bind_int64 (stmt, 1, image_id);
  ss_stmt_bind_text (stmt, 2, sha256);
  SsStepResult rc = ss_stmt_step (stmt, operation, error);
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_ROW && rc != SS_STEP_DONE)
    return -1;
  return rc == SS_STEP_ROW;
}

/* Store truth->add_image, the image truth names, without analysis (the import's
 * --add-images), and list it among case_images so that later files find it. */
static const SsImageRecord *
ss_store_add_truth_image (SsStore *self, gint64 case_id, const SsTruthImage *truth,
                          const char *now, GPtrArray *case_images, const char *operation,
                          GError **error)
{
  const SsImageInfo *info = truth->add_image;
  g_autofree char *wanted = g_path_get_basename (truth->image);
  g_autofree char *name = info->path != NULL ? g_path_get_basename (info->path) : NULL;
  if (name == NULL || !g_utf8_validate (info->path, -1, NULL) || strcmp (name, wanted) != 0
      || !is_hex_sha256 (info->sha256) || info->width <= 0 || info->height <= 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: the image to add for %s needs a path in UTF-8 of that file name, its "
                   "SHA-256 and a positive width and height", truth->source_file, wanted);
      return NULL;
    }
  g_autofree char *sha256 = g_ascii_strdown (info->sha256, -1);
  /* not analysed: no model and no scale, whatever info says of them */
  const SsImageInfo bare = { info->path, sha256, info->width, info->height };
  gint64 id = ss_store_insert_image_row (self, case_id, &bare, sha256, now, 0, operation, error);
  if (id == 0)
    return NULL;
  SsImageRecord *image = g_new0 (SsImageRecord, 1);
  image->id = id;
  image->path = g_strdup (info->path);
  image->sha256 = g_steal_pointer (&sha256);
  image->width = info->width;
  image->height = info->height;
  g_ptr_array_add (case_images, image);
  return image;
}

gboolean
ss_store_add_truth (SsStore *self, const char *accession, const SsTruthImage *images,
                    guint n_images, const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  g_return_val_if_fail (accession != NULL && (images != NULL || n_images == 0), FALSE);
  const char *operation = "importing ground truth";
  if (!ss_store_validate_user (user, error))
    return FALSE;
  for (guint i = 0; i < n_images; i++)
    {
      const SsTruthImage *truth = &images[i];
      if (truth->image == NULL || truth->cells == NULL || truth->source_file == NULL
          || *truth->source_file == '\0' || !g_utf8_validate (truth->source_file, -1, NULL)
          || (g_strcmp0 (truth->source_format, "voc") != 0
              && g_strcmp0 (truth->source_format, "coco") != 0)
          || !is_hex_sha256 (truth->source_sha256))
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "%s: truth needs its image, cells and source (format voc or coco, a "
                       "file name in UTF-8 and the file's SHA-256)", operation);
          return FALSE;
        }
    }

  g_autofree char *now = ss_store_now ();
  g_autoptr (GByteArray) mask_blob = g_byte_array_new ();
  g_autoptr (GPtrArray) case_images = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_image_record_free);
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  /* Under the write lock, so that a sign-off cannot slip in between. */
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  /* ss_store_list_images reads in a transaction of its own: the images are listed
   * here, inside this one. */
  if (!ss_store_images_of_case (self, case_id, case_images, operation, error))
    goto fail;

  for (guint i = 0; i < n_images; i++)
    {
      const SsTruthImage *truth = &images[i];
      g_autoptr (GError) unmatched = NULL;
      const SsImageRecord *image = ss_store_match_truth_image (case_images, accession, truth,
                                                               &unmatched);
      if (image == NULL && truth->add_image != NULL
          && g_error_matches (unmatched, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND))
        image = ss_store_add_truth_image (self, case_id, truth, now, case_images, operation, error);
      else if (image == NULL)
        g_propagate_error (error, g_steal_pointer (&unmatched));
      if (image == NULL)
        goto fail;
      if ((truth->width > 0 || truth->height > 0)
          && (truth->width != image->width || truth->height != image->height))
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                       "%s: the annotation's image %s is %d x %d pixels, the case's %s is "
                       "%d x %d: not the same picture", truth->source_file, truth->image,
                       truth->width, truth->height, image->path, image->width, image->height);
          goto fail;
        }
      for (guint j = 0; j < truth->cells->len; j++)
        if (!validate_truth_cell (g_ptr_array_index (truth->cells, j), j, truth, image, error))
          goto fail;
      g_autofree char *source_sha256 = g_ascii_strdown (truth->source_sha256, -1);
      int seen = ss_store_truth_seen (self, image->id, source_sha256, operation, error);
      if (seen < 0)
        goto fail;
      if (seen)
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS,
                       "%s: this annotation file (SHA-256 %.12s...) was imported for image %s "
                       "of case '%s' before; its truth cells are there already",
                       truth->source_file, source_sha256, image->path, accession);
          goto fail;
        }
      g_autofree char *source_file = g_path_get_basename (truth->source_file);
      SsStoreStmt *insert = ss_store_stmt (self, STMT_TRUTH_INSERT, operation, error);
      if (insert == NULL)
        goto fail;
      for (guint j = 0; j < truth->cells->len; j++)
        {
          SsTruthCell *cell = g_ptr_array_index (truth->cells, j);
          ss_stmt_reset (insert);
          ss_stmt_bind_int64 (insert, 1, image->id);
          ss_stmt_bind_int64 (insert, 2, cell->box.x);
          ss_stmt_bind_int64 (insert, 3, cell->box.y);
          ss_stmt_bind_int64 (insert, 4, cell->box.width);
          ss_stmt_bind_int64 (insert, 5, cell->box.height);
          if (cell->cls != SS_CLASS_NONE)
            ss_stmt_bind_int64 (insert, 6, cell->cls);
          bind_mask (insert, 7, &cell->mask, mask_blob);
          ss_stmt_bind_text (insert, 8, truth->source_format);
          ss_stmt_bind_text (insert, 9, source_file);
          ss_stmt_bind_text (insert, 10, source_sha256);
          ss_stmt_bind_text (insert, 11, now);
          ss_stmt_bind_text (insert, 12, user);
          cell->id = ss_store_insert_returning_id (insert, operation, error);
          if (cell->id == 0)
            goto fail;
        }
    }
  if (!ss_store_touch_case (self, case_id, now, operation, error)
      || !ss_store_commit (self, operation, error))
    goto fail;
  return TRUE;
fail:
  ss_store_rollback (self);
  /* Nothing was stored, so no cell may keep an id that points at nothing. */
  for (guint i = 0; i < n_images; i++)
    for (guint j = 0; images[i].cells != NULL && j < images[i].cells->len; j++)
      ((SsTruthCell *) g_ptr_array_index (images[i].cells, j))->id = 0;
  return FALSE;
}

GPtrArray *
ss_store_list_truth (SsStore *self, gint64 image_id, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the image's truth cells";
  SsStoreStmt *stmt = ss_store_stmt (self, STMT_TRUTH_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  ss_stmt_bind_int64 (stmt, 1, image_id);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free);
  SsStepResult rc;
  while ((rc = ss_stmt_step (stmt, operation, error)) == SS_STEP_ROW)
    {
      SsTruthCell *cell = ss_truth_cell_new ();
      cell->id = ss_stmt_column_int64 (stmt, 0);
      cell->image_id = ss_stmt_column_int64 (stmt, 1);
      cell->box = (SsBox) { ss_stmt_column_int (stmt, 2), ss_stmt_column_int (stmt, 3),
                            ss_stmt_column_int (stmt, 4), ss_stmt_column_int (stmt, 5) };
      cell->cls = ss_stmt_column_is_null (stmt, 6) ? SS_CLASS_NONE : ss_stmt_column_int (stmt, 6);
      /* a mask that does not decode is dropped, as for the model's cells */
      gsize size = 0;
      const guint8 *blob = ss_stmt_column_blob (stmt, 7, &size);
      if (!ss_store_rle_from_blob (&cell->mask, blob, size))
        ss_rle_clear (&cell->mask);
      cell->source_format = ss_stmt_column_dup (stmt, 8);
      cell->source_file = ss_stmt_column_dup (stmt, 9);
      cell->source_sha256 = ss_stmt_column_dup (stmt, 10);
      cell->imported_at = ss_stmt_column_dup (stmt, 11);
      cell->user = ss_stmt_column_dup (stmt, 12);
      g_ptr_array_add (cells, cell);
    }
  ss_stmt_reset (stmt);
  if (rc != SS_STEP_DONE)
    return NULL;
  return g_steal_pointer (&cells);
}

gboolean
ss_store_case_counts (SsStore *self, const char *accession, int counts[SS_N_CLASSES],
                      GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  const char *operation = "counting the case's cells";
  gint64 case_id = ss_store_case_id (self, accession, operation, error);
  return case_id != 0 && ss_store_counts (self, STMT_COUNTS_CASE, case_id, counts, operation, error);
}

gboolean
ss_store_image_counts (SsStore *self, gint64 image_id, int counts[SS_N_CLASSES], GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  return ss_store_counts (self, STMT_COUNTS_IMAGE, image_id, counts, "counting the image's cells",
                          error);
}

/* Check ------------------------------------------------------------------------------ */

gboolean
ss_store_check_failed (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED, message);
  return FALSE;
}

gboolean
ss_store_check (SsStore *self, char **head_hash, gint64 *n_corrections, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  /* One read transaction: the chain and the cells are checked as one snapshot. */
  if (!ss_store_begin_read (self, "checking the case store", error))
    return FALSE;
  gboolean ok = self->conn->backend->check_engine (self->conn, error)
                && ss_store_check_chain (self, head_hash, n_corrections, error)
                && ss_store_check_replay (self, error)
                && ss_store_check_case_events (self, error)
                && ss_store_check_lab_models (self, error);
  ss_store_rollback (self);
  return ok;
}

gboolean
ss_store_backup (SsStore *self, const char *path, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  return self->conn->backend->backup (self->conn, path, error);
}
