/* SsStore: the SQLite case store. Every user action is one write transaction begun
 * IMMEDIATE (so two programs writing the same file queue instead of deadlocking) and
 * committed with synchronous=FULL (so a correction whose commit returned survives a
 * crash). Statements are prepared once per store and reused. */
#include "ss-store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (ss-store-error-quark, ss_store_error)

typedef enum {
  STMT_CASE_INSERT,
  STMT_CASE_GET,
  STMT_CASE_LIST,
  STMT_CASE_ID,
  STMT_CASE_UPDATE,
  STMT_CASE_DELETE,
  STMT_CASE_SET_STATUS,
  STMT_CASE_TOUCH,
  STMT_MODEL_INSERT,
  STMT_MODEL_ID,
  STMT_IMAGE_INSERT,
  STMT_IMAGE_LIST,
  STMT_IMAGE_CASE,
  STMT_CELL_INSERT,
  STMT_CELL_LIST,
  STMT_CELL_GET,
  STMT_CELL_STATE,
  STMT_CELL_SET_STATE,
  STMT_CHAIN_HEAD,
  STMT_CORRECTION_INSERT,
  STMT_CORRECTION_GET,
  STMT_CORRECTION_LATER,
  STMT_CORRECTION_LIST,
  STMT_COUNTS_CASE,
  STMT_COUNTS_IMAGE,
  STMT_EVENT_INSERT,
  STMT_EVENT_LIST,
  STMT_TRUTH_INSERT,
  STMT_TRUTH_LIST,
  STMT_TRUTH_SEEN,
  N_STMTS
} StmtId;

#define CASE_COLUMNS \
  "c.id, c.accession, c.patient_ref, c.specimen, c.stain, c.notes, c.status, c.signed_by, " \
  "c.signed_at, c.created_at, c.updated_at, " \
  "(SELECT count (*) FROM images i WHERE i.case_id = c.id), " \
  "(SELECT count (*) FROM cells JOIN images i ON i.id = cells.image_id " \
  "  WHERE i.case_id = c.id AND cells.deleted = 0)"

#define CELL_COLUMNS \
  "id, x, y, width, height, mask, nucleus_mask, predicted_class, confidence, probabilities, " \
  "area, perimeter, circularity, nucleus_area, nc_ratio, current_class, origin, deleted, " \
  "nucleus_solidity, doubt"

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
  "k.id, k.cell_id, cells.image_id, k.kind, k.old_class, k.new_class, k.user, k.at, " \
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
  [STMT_MODEL_INSERT] = "INSERT OR IGNORE INTO models (name, version, checksum) VALUES (?1, ?2, ?3)",
  [STMT_MODEL_ID] = "SELECT id FROM models WHERE name = ?1 AND version = ?2 AND checksum = ?3",
  [STMT_IMAGE_INSERT] =
    "INSERT INTO images (case_id, path, sha256, width, height, analysed_at, model_id, "
    "cell_diameter, scale_source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  [STMT_IMAGE_LIST] =
    "SELECT i.id, i.case_id, i.path, i.sha256, i.width, i.height, i.analysed_at, m.name, "
    "m.version, m.checksum, i.cell_diameter, i.scale_source "
    "FROM images i LEFT JOIN models m ON m.id = i.model_id "
    "WHERE i.case_id = ?1 ORDER BY i.id",
  [STMT_IMAGE_CASE] = "SELECT case_id FROM images WHERE id = ?1",
  [STMT_CELL_INSERT] =
    "INSERT INTO cells (image_id, x, y, width, height, mask, nucleus_mask, predicted_class, "
    "confidence, probabilities, area, perimeter, circularity, nucleus_area, nc_ratio, "
    "stored_class, current_class, origin, deleted, nucleus_solidity, doubt) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?16, ?17, 0, "
    "?18, ?19)",
  [STMT_CELL_LIST] =
    REVIEWED_CTE ("SELECT id FROM cells WHERE image_id = ?1")
    "SELECT " CELL_COLUMNS ", id IN (SELECT cell_id FROM reviewed) FROM cells "
    "WHERE image_id = ?1 ORDER BY id",
  [STMT_CELL_GET] =
    REVIEWED_CTE ("?1")
    "SELECT " CELL_COLUMNS ", id IN (SELECT cell_id FROM reviewed) FROM cells WHERE id = ?1",
  [STMT_CELL_STATE] =
    "SELECT cells.current_class, cells.deleted, images.case_id FROM cells "
    "JOIN images ON images.id = cells.image_id WHERE cells.id = ?1",
  [STMT_CELL_SET_STATE] = "UPDATE cells SET current_class = ?2, deleted = ?3 WHERE id = ?1",
  [STMT_CHAIN_HEAD] = "SELECT id, hash FROM corrections ORDER BY id DESC LIMIT 1",
  [STMT_CORRECTION_INSERT] =
    "INSERT INTO corrections (id, cell_id, kind, old_class, new_class, user, at, undoes, "
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
    "WHERE images.case_id = ?1 ORDER BY k.id",
  /* One index range per class rather than a GROUP BY: across several images GROUP BY
   * sorts every cell in a temporary b-tree, four times slower on 100,000 cells. */
  [STMT_COUNTS_CASE] =
    "WITH classes (class) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7)) "
    "SELECT class, (SELECT count (*) FROM images JOIN cells ON cells.image_id = images.id "
    "  AND cells.deleted = 0 AND cells.current_class = classes.class WHERE images.case_id = ?1) "
    "FROM classes",
  [STMT_COUNTS_IMAGE] =
    "WITH classes (class) AS (VALUES (0), (1), (2), (3), (4), (5), (6), (7)) "
    "SELECT class, (SELECT count (*) FROM cells WHERE cells.image_id = ?1 AND cells.deleted = 0 "
    "  AND cells.current_class = classes.class) FROM classes",
  [STMT_EVENT_INSERT] =
    "INSERT INTO case_events (case_id, kind, user, at, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
  [STMT_EVENT_LIST] =
    "SELECT id, case_id, kind, user, at, reason FROM case_events WHERE case_id = ?1 ORDER BY id",
  [STMT_TRUTH_INSERT] =
    "INSERT INTO truth_cells (image_id, x, y, width, height, class, mask, source_format, "
    "source_file, source_sha256, imported_at, user) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
  [STMT_TRUTH_LIST] =
    "SELECT id, image_id, x, y, width, height, class, mask, source_format, source_file, "
    "source_sha256, imported_at, user FROM truth_cells WHERE image_id = ?1 ORDER BY id",
  [STMT_TRUTH_SEEN] =
    "SELECT 1 FROM truth_cells WHERE image_id = ?1 AND source_sha256 = ?2 LIMIT 1",
};

struct _SsStore
{
  GObject       parent_instance;

  sqlite3      *db;
  char         *path;
  gboolean      read_only;
  int           busy_timeout_ms;
  sqlite3_stmt *stmts[N_STMTS];
  GByteArray   *mask_blob;     /* scratch for encoding masks, reused cell after cell */
  GByteArray   *nucleus_blob;
};

G_DEFINE_FINAL_TYPE (SsStore, ss_store, G_TYPE_OBJECT)

/* Long enough for the other station to finish a 100,000-cell insert on a slow disk. */
#define DEFAULT_BUSY_TIMEOUT_MS 30000

static void
ss_store_finalize (GObject *object)
{
  SsStore *self = SS_STORE (object);
  for (int i = 0; i < N_STMTS; i++)
    sqlite3_finalize (self->stmts[i]);
  sqlite3_close_v2 (self->db);
  g_byte_array_unref (self->mask_blob);
  g_byte_array_unref (self->nucleus_blob);
  g_free (self->path);
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
  self->busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
  self->mask_blob = g_byte_array_new ();
  self->nucleus_blob = g_byte_array_new ();
}

/* Errors ----------------------------------------------------------------------------- */

/* Turn an SQLite result into a GError that says what failed, why in words a lab can
 * act on, and SQLite's own message for whoever debugs it. */
static void
ss_store_set_sqlite_error (SsStore *self, GError **error, int rc, const char *operation)
{
  const char *sqlite_message = self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc);
  const char *path = self->path;
  /* A write refused for want of space can come back as an I/O error (EFBIG past a file
   * size limit, EDQUOT past a quota): name it as the full disk it is. */
  if ((rc & 0xff) == SQLITE_IOERR && self->db != NULL)
    {
      int system_errno = sqlite3_system_errno (self->db);
      if (system_errno == ENOSPC || system_errno == EFBIG || system_errno == EDQUOT)
        rc = SQLITE_FULL;
    }
  switch (rc & 0xff)
    {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_BUSY,
                   "%s: another program kept the case store %s locked for more than %d s; "
                   "try again when it has finished (%s)",
                   operation, path, self->busy_timeout_ms / 1000, sqlite_message);
      break;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY,
                   "%s: the case store %s cannot be written (read-only file, folder or disk); "
                   "check its permissions (%s)", operation, path, sqlite_message);
      break;
    case SQLITE_CORRUPT:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT,
                   "%s: the case store %s is damaged; check the store to see where, and "
                   "restore it from a backup (%s)", operation, path, sqlite_message);
      break;
    case SQLITE_NOTADB:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s: %s is not a SQLite database, so not a case store (%s)",
                   operation, path, sqlite_message);
      break;
    case SQLITE_FULL:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FULL,
                   "%s: the disk holding %s is full; nothing was stored. Free some space and "
                   "try again (%s)", operation, path, sqlite_message);
      break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                   "%s: the system could not read or write %s or the journal files beside it; "
                   "nothing was stored (%s)", operation, path, sqlite_message);
      break;
    case SQLITE_CONSTRAINT:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: refused by the case store's rules (%s)", operation, sqlite_message);
      break;
    default:
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FAILED,
                   "%s: %s (SQLite error %d)", operation, sqlite_message, rc);
      break;
    }
}

static char *
ss_store_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

/* Statements and transactions -------------------------------------------------------- */

static sqlite3_stmt *
ss_store_stmt (SsStore *self, StmtId id, const char *operation, GError **error)
{
  sqlite3_stmt *stmt = self->stmts[id];
  if (stmt == NULL)
    {
      int rc = sqlite3_prepare_v3 (self->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                   &self->stmts[id], NULL);
      if (rc != SQLITE_OK)
        {
          ss_store_set_sqlite_error (self, error, rc, operation);
          return NULL;
        }
      return self->stmts[id];
    }
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return stmt;
}

/* Step a statement that returns no rows, and leave it reset so it holds no lock. */
static gboolean
ss_store_run (SsStore *self, sqlite3_stmt *stmt, const char *operation, GError **error)
{
  int rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

static gboolean
ss_store_exec (SsStore *self, const char *sql, const char *operation, GError **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return FALSE;
    }
  return TRUE;
}

/* BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads
 * first and then writes can fail with SQLITE_BUSY without the busy handler ever being
 * called. The busy handler waits; the loop also covers the BUSY results that bypass it
 * (WAL recovery by another connection). */
static gboolean
ss_store_begin_write (SsStore *self, const char *operation, GError **error)
{
  if (self->read_only)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY,
                   "%s: the case store %s was opened read-only", operation, self->path);
      return FALSE;
    }
  gint64 deadline = g_get_monotonic_time () + (gint64) self->busy_timeout_ms * 1000;
  for (;;)
    {
      int rc = sqlite3_exec (self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
      if (rc == SQLITE_OK)
        return TRUE;
      if ((rc & 0xff) != SQLITE_BUSY || g_get_monotonic_time () >= deadline)
        {
          ss_store_set_sqlite_error (self, error, rc, operation);
          return FALSE;
        }
      g_usleep (2000);
    }
}

static void
ss_store_rollback (SsStore *self)
{
  /* A failed statement (SQLITE_FULL, IOERR) may have rolled back already. */
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

static gboolean
ss_store_commit (SsStore *self, const char *operation, GError **error)
{
  int rc = sqlite3_exec (self->db, "COMMIT", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      ss_store_rollback (self);
      return FALSE;
    }
  return TRUE;
}

static void
bind_text_or_null (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

static char *
column_text (sqlite3_stmt *stmt, int column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);
  return text != NULL ? g_strdup ((const char *) text) : NULL;
}

/* Opening ---------------------------------------------------------------------------- */

/* Look at the file before SQLite does, to name the common faults plainly: SQLite
 * reports a truncated file only when a query reaches the missing pages. */
static gboolean
ss_store_inspect_file (const char *path, gboolean *empty, GError **error)
{
  GStatBuf st;
  *empty = FALSE;
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, SS_STORE_ERROR,
                   saved == ENOENT ? SS_STORE_ERROR_NO_STORE : SS_STORE_ERROR_IO,
                   saved == ENOENT ? "no case store at %s; creating a case starts one there, or "
                                     "choose the store file that holds the cases"
                                   : "cannot open the case store %s: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is not a regular file, so not a case store", path);
      return FALSE;
    }
  if (st.st_size == 0)
    {
      *empty = TRUE;
      return TRUE;
    }
  guint8 header[100];
  FILE *file = fopen (path, "rb");
  if (file == NULL)
    {
      int saved = errno;
      g_set_error (error, SS_STORE_ERROR,
                   saved == EACCES ? SS_STORE_ERROR_READ_ONLY : SS_STORE_ERROR_IO,
                   "cannot read the case store %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  size_t got = fread (header, 1, sizeof header, file);
  fclose (file);
  if (got < 16 || memcmp (header, "SQLite format 3", 16) != 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is not a SQLite database (its first bytes are not SQLite's header), "
                   "so not a case store", path);
      return FALSE;
    }
  guint32 page_size = ((guint32) header[16] << 8) | header[17];
  if (page_size == 1)
    page_size = 65536;
  /* The header's page count is valid only when its "version-valid-for" number matches
   * the change counter (SQLite file format, offsets 24, 28 and 92). */
  gboolean count_valid = got == sizeof header && memcmp (header + 24, header + 92, 4) == 0;
  guint32 n_pages = count_valid ? GUINT32_FROM_BE (*(guint32 *) (header + 28)) : 0;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  GStatBuf wal_st;
  gboolean has_wal = g_stat (wal, &wal_st) == 0 && wal_st.st_size > 0;
  /* The header's page count is exact whenever no WAL holds newer pages. */
  if (got < sizeof header || page_size < 512 || (page_size & (page_size - 1)) != 0
      || (!has_wal && (st.st_size % page_size != 0
                       || (guint64) st.st_size < (guint64) n_pages * page_size)))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT,
                   "the case store %s is truncated or damaged: it has %" G_GINT64_FORMAT
                   " bytes where its header announces %" G_GUINT64_FORMAT "; restore it from a "
                   "backup of the store",
                   path, (gint64) st.st_size, (guint64) n_pages * page_size);
      return FALSE;
    }
  return TRUE;
}

/* New stores are readable by their owner only: they hold patient references. SQLite
 * gives its -wal and -shm files the mode of the database file. */
static gboolean
ss_store_create_file (const char *path, GError **error)
{
  g_autofree char *folder = g_path_get_dirname (path);
  if (g_mkdir_with_parents (folder, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, SS_STORE_ERROR,
                   saved == EACCES || saved == EROFS ? SS_STORE_ERROR_READ_ONLY : SS_STORE_ERROR_IO,
                   "cannot create the folder %s for the case store: %s", folder, g_strerror (saved));
      return FALSE;
    }
  int fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 && errno != EEXIST)
    {
      int saved = errno;
      g_set_error (error, SS_STORE_ERROR,
                   saved == EACCES || saved == EROFS ? SS_STORE_ERROR_READ_ONLY
                   : saved == ENOSPC ? SS_STORE_ERROR_FULL : SS_STORE_ERROR_IO,
                   "cannot create the case store %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (fd >= 0)
    close (fd);
  return TRUE;
}

static gboolean
ss_store_query_int (SsStore *self, const char *sql, gint64 *value, const char *operation,
                    GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *value = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  if (rc != SQLITE_OK)
    ss_store_set_sqlite_error (self, error, rc, operation);
  sqlite3_finalize (stmt);
  return rc == SQLITE_OK;
}

static gboolean
ss_store_migrate (SsStore *self, GError **error)
{
  const char *operation = "upgrading the case store's schema";
  gint64 version = 0;
  g_autofree char *pragmas = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = %d",
                                              SS_STORE_APPLICATION_ID, SS_STORE_SCHEMA_VERSION);
  /* WAL lets the workstation read while the CLI writes; the mode is kept in the file. */
  if (!ss_store_exec (self, "PRAGMA journal_mode = WAL", operation, error))
    return FALSE;
  if (!ss_store_begin_write (self, operation, error))
    return FALSE;
  /* Read again under the write lock: another program may have migrated meanwhile. */
  if (!ss_store_query_int (self, "PRAGMA user_version", &version, operation, error))
    goto fail;
  for (gint64 v = version; v < SS_STORE_SCHEMA_VERSION; v++)
    if (!ss_store_exec (self, ss_store_migrations[v], operation, error))
      goto fail;
  if (!ss_store_exec (self, pragmas, operation, error))
    goto fail;
  return ss_store_commit (self, operation, error);
fail:
  ss_store_rollback (self);
  return FALSE;
}

static gboolean
ss_store_check_schema (SsStore *self, GError **error)
{
  const char *operation = "reading the case store";
  gint64 application_id = 0, version = 0, n_objects = 0;
  if (!ss_store_query_int (self, "PRAGMA application_id", &application_id, operation, error)
      || !ss_store_query_int (self, "PRAGMA user_version", &version, operation, error)
      || !ss_store_query_int (self, "SELECT count (*) FROM sqlite_schema", &n_objects,
                              operation, error))
    return FALSE;
  if (application_id != 0 && application_id != SS_STORE_APPLICATION_ID)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is another program's SQLite database (application id 0x%08" G_GINT64_MODIFIER
                   "x), not a case store", self->path, application_id);
      return FALSE;
    }
  if (application_id == 0 && (version != 0 || n_objects != 0))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is a SQLite database but not a Smearscope case store", self->path);
      return FALSE;
    }
  if (version > SS_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NEWER_SCHEMA,
                   "the case store %s was written by a newer Smearscope (schema version %"
                   G_GINT64_FORMAT "; this one knows up to %d); update Smearscope to open it",
                   self->path, version, SS_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (version == SS_STORE_SCHEMA_VERSION)
    return TRUE;
  if (self->read_only)
    {
      g_set_error (error, SS_STORE_ERROR,
                   version == 0 ? SS_STORE_ERROR_NOT_A_STORE : SS_STORE_ERROR_READ_ONLY,
                   version == 0 ? "%s is empty: not a case store yet"
                                : "the case store %s has an older schema and was opened read-only; "
                                  "open it once for writing to upgrade it",
                   self->path);
      return FALSE;
    }
  return ss_store_migrate (self, error);
}

/* A reader of a WAL store needs its -shm file, which it cannot create in a folder it
 * may not write (a store on read-only media, an archive). When neither -wal nor -shm
 * exists nobody is writing the store, so reading it as immutable is safe. */
static gboolean
ss_store_needs_immutable (const char *path)
{
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  return g_access (folder, W_OK) != 0 && !g_file_test (wal, G_FILE_TEST_EXISTS)
         && !g_file_test (shm, G_FILE_TEST_EXISTS);
}

static SsStore *
ss_store_open_existing (const char *path, SsStoreOpenFlags flags, GError **error)
{
  g_autoptr (SsStore) self = g_object_new (SS_TYPE_STORE, NULL);
  gboolean empty = FALSE;
  self->path = g_strdup (path);
  self->read_only = (flags & SS_STORE_OPEN_READ_ONLY) != 0;

  if (!ss_store_inspect_file (path, &empty, error))
    return NULL;
  if (empty && !(flags & SS_STORE_OPEN_CREATE))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is an empty file, not a case store", path);
      return NULL;
    }
  if (!self->read_only)
    {
      g_autofree char *folder = g_path_get_dirname (path);
      /* SQLite would open a read-only file read-only without a word and fail at the
       * first write; say it now, and name the folder too since the WAL lives there. */
      if (g_access (path, W_OK) != 0 || g_access (folder, W_OK) != 0)
        {
          int saved = errno;
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY,
                       "the case store %s cannot be written (%s%s); check the permissions of "
                       "the file and its folder", path, g_strerror (saved),
                       g_access (path, W_OK) == 0 ? " in its folder" : "");
          return NULL;
        }
    }

  int open_flags = (self->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
                   | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  g_autofree char *escaped = g_uri_escape_string (path, "/", FALSE);
  g_autofree char *uri = g_strconcat ("file:", escaped, NULL);
  if (self->read_only && ss_store_needs_immutable (path))
    {
      g_free (uri);
      uri = g_strconcat ("file:", escaped, "?immutable=1", NULL);
    }
  int rc = sqlite3_open_v2 (uri, &self->db, open_flags, NULL);
  if (rc != SQLITE_OK)
    {
      ss_store_set_sqlite_error (self, error, rc, "opening the case store");
      return NULL;
    }
  sqlite3_busy_timeout (self->db, self->busy_timeout_ms);
  if (!self->read_only && sqlite3_db_readonly (self->db, "main") == 1)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY,
                   "the case store %s can only be opened read-only; check the permissions of "
                   "the file and its folder", path);
      return NULL;
    }
  /* Foreign keys are off by default in SQLite; synchronous=FULL syncs the WAL at every
   * commit, which is what makes a returned relabel durable; a 32 MB page cache holds a
   * 100,000-cell insert without spilling to the WAL mid-transaction. */
  if (!ss_store_exec (self, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
                      "PRAGMA cache_size = -32768", "opening the case store", error))
    return NULL;
  if (!ss_store_check_schema (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

SsStore *
ss_store_open (const char *path, SsStoreOpenFlags flags, GError **error)
{
  g_return_val_if_fail (path != NULL && *path != '\0', NULL);
  g_return_val_if_fail (!((flags & SS_STORE_OPEN_CREATE) && (flags & SS_STORE_OPEN_READ_ONLY)), NULL);

  gboolean created = (flags & SS_STORE_OPEN_CREATE) && !g_file_test (path, G_FILE_TEST_EXISTS);
  if (created && !ss_store_create_file (path, error))
    return NULL;
  SsStore *self = ss_store_open_existing (path, flags, error);
  /* A store this call created but could not set up (a full disk, say) is removed, so
   * that no half-made file is left to be mistaken for a store. */
  if (self == NULL && created)
    {
      static const char *const suffixes[] = { "", "-wal", "-shm" };
      for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
        {
          g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
          g_unlink (file);
        }
    }
  return self;
}

const char *
ss_store_get_path (SsStore *self)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  return self->path;
}

void
ss_store_set_busy_timeout (SsStore *self, int milliseconds)
{
  g_return_if_fail (SS_IS_STORE (self));
  self->busy_timeout_ms = MAX (milliseconds, 0);
  sqlite3_busy_timeout (self->db, self->busy_timeout_ms);
}

/* Records ---------------------------------------------------------------------------- */

static const char *const status_names[] = { "open", "reviewed", "signed" };
static const char *const kind_names[] = { "relabel", "add", "delete", "restore", "confirm" };
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

static SsCase *
case_from_row (sqlite3_stmt *stmt)
{
  SsCase *c = g_new0 (SsCase, 1);
  c->id = sqlite3_column_int64 (stmt, 0);
  c->accession = column_text (stmt, 1);
  c->patient_ref = column_text (stmt, 2);
  c->specimen = column_text (stmt, 3);
  c->stain = column_text (stmt, 4);
  c->notes = column_text (stmt, 5);
  c->status = case_status_from_name ((const char *) sqlite3_column_text (stmt, 6));
  c->signed_by = column_text (stmt, 7);
  c->signed_at = column_text (stmt, 8);
  c->created_at = column_text (stmt, 9);
  c->updated_at = column_text (stmt, 10);
  c->n_images = sqlite3_column_int (stmt, 11);
  c->n_cells = sqlite3_column_int64 (stmt, 12);
  return c;
}

static SsCell *
cell_from_row (sqlite3_stmt *stmt)
{
  SsCell *cell = ss_cell_new ();
  cell->id = sqlite3_column_int64 (stmt, 0);
  cell->box.x = sqlite3_column_int (stmt, 1);
  cell->box.y = sqlite3_column_int (stmt, 2);
  cell->box.width = sqlite3_column_int (stmt, 3);
  cell->box.height = sqlite3_column_int (stmt, 4);
  /* A mask that does not decode is dropped rather than failing the whole case: the
   * box and the class still stand, and db check's integrity pass reports damage. */
  if (!ss_store_rle_from_blob (&cell->mask, sqlite3_column_blob (stmt, 5),
                               sqlite3_column_bytes (stmt, 5)))
    ss_rle_clear (&cell->mask);
  if (!ss_store_rle_from_blob (&cell->nucleus_mask, sqlite3_column_blob (stmt, 6),
                               sqlite3_column_bytes (stmt, 6)))
    ss_rle_clear (&cell->nucleus_mask);
  cell->predicted_class = sqlite3_column_int (stmt, 7);
  cell->confidence = (float) sqlite3_column_double (stmt, 8);
  ss_store_probabilities_from_blob (cell->probabilities, sqlite3_column_blob (stmt, 9),
                                    sqlite3_column_bytes (stmt, 9));
  cell->morphometrics.area = sqlite3_column_double (stmt, 10);
  cell->morphometrics.perimeter = sqlite3_column_double (stmt, 11);
  cell->morphometrics.circularity = sqlite3_column_double (stmt, 12);
  cell->morphometrics.nucleus_area = sqlite3_column_double (stmt, 13);
  cell->morphometrics.nc_ratio = sqlite3_column_double (stmt, 14);
  cell->current_class = sqlite3_column_int (stmt, 15);
  cell->user_drawn = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 16), "user") == 0;
  cell->deleted = sqlite3_column_int (stmt, 17) != 0;
  cell->morphometrics.nucleus_solidity = sqlite3_column_double (stmt, 18);
  cell->doubt = (guint) MAX (sqlite3_column_int (stmt, 19), 0);
  cell->reviewed = sqlite3_column_int (stmt, 20) != 0;
  return cell;
}

static SsCorrection *
correction_from_row (sqlite3_stmt *stmt)
{
  SsCorrection *k = g_new0 (SsCorrection, 1);
  k->id = sqlite3_column_int64 (stmt, 0);
  k->cell_id = sqlite3_column_int64 (stmt, 1);
  k->image_id = sqlite3_column_int64 (stmt, 2);
  k->kind = correction_kind_from_name ((const char *) sqlite3_column_text (stmt, 3));
  k->old_class = sqlite3_column_int (stmt, 4);
  k->new_class = sqlite3_column_int (stmt, 5);
  k->user = column_text (stmt, 6);
  k->at = column_text (stmt, 7);
  k->undoes = sqlite3_column_int64 (stmt, 8);
  k->hash = column_text (stmt, 9);
  return k;
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
  for (const char *p = accession; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p) || g_ascii_isspace (*p))
      {
        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                     "the accession number '%s' contains spaces or control characters", accession);
        return FALSE;
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

static gboolean
validate_user (const char *user, GError **error)
{
  g_autofree char *trimmed = user != NULL ? g_strstrip (g_strdup (user)) : NULL;
  if (trimmed == NULL || *trimmed == '\0')
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "every change needs the name of the person who makes it");
      return FALSE;
    }
  return validate_text ("user name", user, 128, error);
}

/* The id alone: reading a whole SsCase would count its cells, as long as the counts. */
static gint64
ss_store_case_id (SsStore *self, const char *accession, const char *operation, GError **error)
{
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_ID, operation, error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, accession, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  gint64 id = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  if (rc == SQLITE_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "%s: there is no case '%s' in %s", operation, accession, self->path);
  else if (rc != SQLITE_ROW)
    ss_store_set_sqlite_error (self, error, rc, operation);
  sqlite3_reset (stmt);
  return id;
}

/* The case id for a change, refused if the case is missing or signed. Call inside the
 * write transaction so that a sign-off cannot slip in between. */
static gint64
ss_store_case_for_change (SsStore *self, const char *accession, const char *operation,
                          GError **error)
{
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_ID, operation, error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_text (stmt, 1, accession, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                   "%s: there is no case '%s' in %s", operation, accession, self->path);
      sqlite3_reset (stmt);
      return 0;
    }
  if (rc != SQLITE_ROW)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      sqlite3_reset (stmt);
      return 0;
    }
  gint64 id = sqlite3_column_int64 (stmt, 0);
  if (g_strcmp0 ((const char *) sqlite3_column_text (stmt, 1), "signed") == 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED,
                   "%s: case '%s' is signed by %s and cannot change; reopen it first if it "
                   "must", operation, accession, (const char *) sqlite3_column_text (stmt, 2));
      id = 0;
    }
  sqlite3_reset (stmt);
  return id;
}

static gboolean
ss_store_touch_case (SsStore *self, gint64 case_id, const char *now, const char *operation,
                     GError **error)
{
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_TOUCH, operation, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, case_id);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_TRANSIENT);
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_INSERT, operation, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, accession, -1, SQLITE_TRANSIENT);
  bind_text_or_null (stmt, 2, patient_ref);
  bind_text_or_null (stmt, 3, specimen);
  bind_text_or_null (stmt, 4, stain);
  bind_text_or_null (stmt, 5, notes);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS,
                   "%s: there is already a case '%s' in %s", operation, accession, self->path);
      goto fail;
    }
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      goto fail;
    }
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_GET, operation, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, accession, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  SsCase *c = NULL;
  if (rc == SQLITE_ROW)
    c = case_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "there is no case '%s' in %s", accession, self->path);
  else
    ss_store_set_sqlite_error (self, error, rc, operation);
  sqlite3_reset (stmt);
  return c;
}

GPtrArray *
ss_store_list_cases (SsStore *self, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "listing the cases";
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_case_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (cases, case_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return NULL;
    }
  return g_steal_pointer (&cases);
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_UPDATE, operation, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, case_id);
  bind_text_or_null (stmt, 2, patient_ref);
  bind_text_or_null (stmt, 3, specimen);
  bind_text_or_null (stmt, 4, stain);
  bind_text_or_null (stmt, 5, notes);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_TRANSIENT);
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_DELETE, operation, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, case_id);
  int rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "%s: case '%s' has analysed images or was signed before; a case with a "
                   "history is kept", operation, accession);
      goto fail;
    }
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      goto fail;
    }
  return ss_store_commit (self, operation, error);
fail:
  ss_store_rollback (self);
  return FALSE;
}

static gboolean
ss_store_append_event (SsStore *self, gint64 case_id, SsCaseEventKind kind, const char *user,
                       const char *at, const char *reason, const char *operation, GError **error)
{
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_EVENT_INSERT, operation, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, case_id);
  sqlite3_bind_text (stmt, 2, ss_case_event_kind_name (kind), -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, at, -1, SQLITE_TRANSIENT);
  bind_text_or_null (stmt, 5, reason);
  return ss_store_run (self, stmt, operation, error);
}

/* Status, signature and the sign-off event change together, in the caller's transaction. */
static gboolean
ss_store_write_status (SsStore *self, gint64 case_id, SsCaseStatus status, const char *user,
                       const char *now, const char *operation, GError **error)
{
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_SET_STATUS, operation, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, case_id);
  sqlite3_bind_text (stmt, 2, ss_case_status_name (status), -1, SQLITE_STATIC);
  bind_text_or_null (stmt, 3, status == SS_CASE_SIGNED ? user : NULL);
  bind_text_or_null (stmt, 4, status == SS_CASE_SIGNED ? now : NULL);
  sqlite3_bind_text (stmt, 5, now, -1, SQLITE_TRANSIENT);
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
  if (!validate_user (user, error))
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
  if (!validate_user (user, error))
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
  /* Read under the write lock: two people reopening at once leave one event. */
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CASE_ID, operation, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_text (stmt, 1, accession, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  gint64 case_id = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  status = rc == SQLITE_ROW ? column_text (stmt, 1) : NULL;
  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                   "%s: there is no case '%s' in %s", operation, accession, self->path);
      goto fail;
    }
  if (rc != SQLITE_ROW)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      goto fail;
    }
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_EVENT_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, case_id);
  g_autoptr (GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_case_event_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SsCaseEvent *event = g_new0 (SsCaseEvent, 1);
      event->id = sqlite3_column_int64 (stmt, 0);
      event->case_id = sqlite3_column_int64 (stmt, 1);
      event->kind = case_event_kind_from_name ((const char *) sqlite3_column_text (stmt, 2));
      event->user = column_text (stmt, 3);
      event->at = column_text (stmt, 4);
      event->reason = column_text (stmt, 5);
      g_ptr_array_add (events, event);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return NULL;
    }
  return g_steal_pointer (&events);
}

/* Images and cells ------------------------------------------------------------------- */

static gboolean
validate_cell (const SsCell *cell, guint index, const SsImageInfo *info, GError **error)
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

/* The scratch buffers outlive the step, so SQLite need not copy them. */
static void
bind_mask (sqlite3_stmt *stmt, int index, const SsRle *rle, GByteArray *scratch)
{
  if (ss_store_rle_to_blob (rle, scratch))
    sqlite3_bind_blob (stmt, index, scratch->data, (int) scratch->len, SQLITE_STATIC);
  else
    sqlite3_bind_null (stmt, index);
}

static gint64
ss_store_insert_cell (SsStore *self, sqlite3_stmt *stmt, gint64 image_id, const SsCell *cell,
                      gboolean user_drawn, const char *operation, GError **error)
{
  guint8 probabilities[SS_N_CLASSES * 4];
  int stored_class = cell->current_class != SS_CLASS_NONE ? cell->current_class
                                                          : cell->predicted_class;
  ss_store_probabilities_to_blob (cell->probabilities, probabilities);
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_int (stmt, 2, cell->box.x);
  sqlite3_bind_int (stmt, 3, cell->box.y);
  sqlite3_bind_int (stmt, 4, cell->box.width);
  sqlite3_bind_int (stmt, 5, cell->box.height);
  bind_mask (stmt, 6, &cell->mask, self->mask_blob);
  bind_mask (stmt, 7, &cell->nucleus_mask, self->nucleus_blob);
  sqlite3_bind_int (stmt, 8, cell->predicted_class);
  sqlite3_bind_double (stmt, 9, cell->confidence);
  sqlite3_bind_blob (stmt, 10, probabilities, sizeof probabilities, SQLITE_STATIC);
  sqlite3_bind_double (stmt, 11, cell->morphometrics.area);
  sqlite3_bind_double (stmt, 12, cell->morphometrics.perimeter);
  sqlite3_bind_double (stmt, 13, cell->morphometrics.circularity);
  sqlite3_bind_double (stmt, 14, cell->morphometrics.nucleus_area);
  sqlite3_bind_double (stmt, 15, cell->morphometrics.nc_ratio);
  sqlite3_bind_int (stmt, 16, stored_class);
  sqlite3_bind_text (stmt, 17, user_drawn ? "user" : "model", -1, SQLITE_STATIC);
  double solidity = cell->morphometrics.nucleus_solidity;
  sqlite3_bind_double (stmt, 18, solidity >= 0 && solidity <= 1 ? solidity : 0);
  sqlite3_bind_int (stmt, 19, (int) (user_drawn ? SS_DOUBT_NONE : cell->doubt));
  int rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return 0;
    }
  return sqlite3_last_insert_rowid (self->db);
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
      sqlite3_stmt *stmt = ss_store_stmt (self, id, operation, error);
      if (stmt == NULL)
        return -1;
      sqlite3_bind_text (stmt, 1, info->model_name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, version, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 3, checksum, -1, SQLITE_TRANSIENT);
      int rc = sqlite3_step (stmt);
      gint64 model_id = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
      sqlite3_reset (stmt);
      if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        {
          ss_store_set_sqlite_error (self, error, rc, operation);
          return -1;
        }
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_IMAGE_INSERT, operation, error);
  if (stmt == NULL)
    return 0;
  sqlite3_bind_int64 (stmt, 1, case_id);
  sqlite3_bind_text (stmt, 2, info->path, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 4, info->width);
  sqlite3_bind_int (stmt, 5, info->height);
  sqlite3_bind_text (stmt, 6, now, -1, SQLITE_TRANSIENT);
  if (model_id > 0)
    sqlite3_bind_int64 (stmt, 7, model_id);
  if (info->cell_diameter > 0)
    sqlite3_bind_double (stmt, 8, info->cell_diameter);
  if (info->scale_source != NULL)
    sqlite3_bind_text (stmt, 9, info->scale_source, -1, SQLITE_TRANSIENT);
  if (!ss_store_run (self, stmt, operation, error))
    return 0;
  return sqlite3_last_insert_rowid (self->db);
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
    if (!validate_cell (g_ptr_array_index (cells, i), i, info, error))
      return 0;

  g_autofree char *now = ss_store_now ();
  g_autofree char *sha256 = g_ascii_strdown (info->sha256, -1);
  if (!ss_store_begin_write (self, operation, error))
    return 0;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  gint64 model_id = ss_store_model_id (self, info, operation, error);
  if (model_id < 0)
    goto fail;
  gint64 image_id = ss_store_insert_image_row (self, case_id, info, sha256, now, model_id,
                                               operation, error);
  if (image_id == 0)
    goto fail;
  sqlite3_stmt *insert_cell = ss_store_stmt (self, STMT_CELL_INSERT, operation, error);
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CELL_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (cells, cell_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return NULL;
    }
  return g_steal_pointer (&cells);
}

/* Append the images of a case (SsImageRecord*, without cells) to images, oldest first. */
static gboolean
ss_store_images_of_case (SsStore *self, gint64 case_id, GPtrArray *images, const char *operation,
                         GError **error)
{
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_IMAGE_LIST, operation, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, case_id);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SsImageRecord *image = g_new0 (SsImageRecord, 1);
      image->id = sqlite3_column_int64 (stmt, 0);
      image->case_id = sqlite3_column_int64 (stmt, 1);
      image->path = column_text (stmt, 2);
      image->sha256 = column_text (stmt, 3);
      image->width = sqlite3_column_int (stmt, 4);
      image->height = sqlite3_column_int (stmt, 5);
      image->analysed_at = column_text (stmt, 6);
      image->model_name = column_text (stmt, 7);
      image->model_version = column_text (stmt, 8);
      image->model_checksum = column_text (stmt, 9);
      image->cell_diameter = sqlite3_column_double (stmt, 10);
      image->scale_source = column_text (stmt, 11);
      g_ptr_array_add (images, image);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return FALSE;
    }
  return TRUE;
}

GPtrArray *
ss_store_list_images (SsStore *self, const char *accession, gboolean with_cells, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the case's images";
  /* One read transaction, so that the images and their cells are one snapshot even
   * while another program writes. */
  if (!ss_store_exec (self, "BEGIN", operation, error))
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
  if (!ss_store_exec (self, "BEGIN", operation, error))
    return NULL;
  GPtrArray *cells = ss_store_cells_of_image (self, image_id, operation, error);
  ss_store_rollback (self);
  return cells;
}

SsCell *
ss_store_get_cell (SsStore *self, gint64 cell_id, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CELL_GET, "reading the cell", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, cell_id);
  int rc = sqlite3_step (stmt);
  SsCell *cell = NULL;
  if (rc == SQLITE_ROW)
    cell = cell_from_row (stmt);
  else if (rc == SQLITE_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "there is no cell %" G_GINT64_FORMAT " in %s", cell_id, self->path);
  else
    ss_store_set_sqlite_error (self, error, rc, "reading the cell");
  sqlite3_reset (stmt);
  return cell;
}

/* Corrections ------------------------------------------------------------------------ */

typedef struct {
  int      current_class;
  gboolean deleted;
} CellState;

static gboolean
ss_store_cell_state (SsStore *self, gint64 case_id, const char *accession, gint64 cell_id,
                     CellState *state, const char *operation, GError **error)
{
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CELL_STATE, operation, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, cell_id);
  int rc = sqlite3_step (stmt);
  gboolean ok = FALSE;
  if (rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 2) == case_id)
    {
      state->current_class = sqlite3_column_int (stmt, 0);
      state->deleted = sqlite3_column_int (stmt, 1) != 0;
      ok = TRUE;
    }
  else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                 "%s: there is no cell %" G_GINT64_FORMAT " in case '%s'", operation, cell_id,
                 accession);
  else
    ss_store_set_sqlite_error (self, error, rc, operation);
  sqlite3_reset (stmt);
  return ok;
}

/* Append one row to the audit trail and apply it to the cell. The caller holds the
 * write transaction, so the chain head read here is still the head at commit. */
static gint64
ss_store_append_correction (SsStore *self, gint64 cell_id, SsCorrectionKind kind, int old_class,
                            int new_class, gboolean deleted_after, const char *user,
                            gint64 undoes, const char *operation, GError **error)
{
  sqlite3_stmt *head = ss_store_stmt (self, STMT_CHAIN_HEAD, operation, error);
  if (head == NULL)
    return -1;
  int rc = sqlite3_step (head);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      sqlite3_reset (head);
      return -1;
    }
  gint64 id = rc == SQLITE_ROW ? sqlite3_column_int64 (head, 0) + 1 : 1;
  g_autofree char *prev_hash = g_strdup (rc == SQLITE_ROW ? (const char *) sqlite3_column_text (head, 1)
                                                          : SS_STORE_GENESIS_HASH);
  sqlite3_reset (head);

  g_autofree char *at = ss_store_now ();
  const char *kind_name = ss_correction_kind_name (kind);
  g_autofree char *hash = ss_store_correction_hash (prev_hash, id, cell_id, kind_name, old_class,
                                                    new_class, user, at, undoes);
  sqlite3_stmt *insert = ss_store_stmt (self, STMT_CORRECTION_INSERT, operation, error);
  if (insert == NULL)
    return -1;
  sqlite3_bind_int64 (insert, 1, id);
  sqlite3_bind_int64 (insert, 2, cell_id);
  sqlite3_bind_text (insert, 3, kind_name, -1, SQLITE_STATIC);
  sqlite3_bind_int (insert, 4, old_class);
  sqlite3_bind_int (insert, 5, new_class);
  sqlite3_bind_text (insert, 6, user, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 7, at, -1, SQLITE_TRANSIENT);
  if (undoes > 0)
    sqlite3_bind_int64 (insert, 8, undoes);
  sqlite3_bind_text (insert, 9, prev_hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (insert, 10, hash, -1, SQLITE_TRANSIENT);
  if (!ss_store_run (self, insert, operation, error))
    return -1;

  sqlite3_stmt *update = ss_store_stmt (self, STMT_CELL_SET_STATE, operation, error);
  if (update == NULL)
    return -1;
  sqlite3_bind_int64 (update, 1, cell_id);
  sqlite3_bind_int (update, 2, new_class);
  sqlite3_bind_int (update, 3, deleted_after ? 1 : 0);
  if (!ss_store_run (self, update, operation, error))
    return -1;
  return id;
}

/* One correction of an existing cell, inside the caller's transaction: returns the new
 * correction id, 0 when the cell already is as asked, -1 on error. */
static gint64
ss_store_correct_locked (SsStore *self, gint64 case_id, const char *accession, gint64 cell_id,
                         SsCorrectionKind kind, int new_class, const char *user, gint64 undoes,
                         const char *operation, GError **error)
{
  CellState state;
  if (!ss_store_cell_state (self, case_id, accession, cell_id, &state, operation, error))
    return -1;
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
                  int new_class, const char *user, const char *operation, GError **error)
{
  if (!validate_user (user, error))
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
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  gint64 id = ss_store_correct_locked (self, case_id, accession, cell_id, kind, new_class, user, 0,
                                       operation, error);
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
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_RELABEL, new_class, user,
                           "relabelling the cell", error);
}

gint64
ss_store_delete_cell (SsStore *self, const char *accession, gint64 cell_id, const char *user,
                      GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_DELETE, 0, user,
                           "deleting the cell", error);
}

gint64
ss_store_restore_cell (SsStore *self, const char *accession, gint64 cell_id, const char *user,
                       GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_RESTORE, 0, user,
                           "restoring the cell", error);
}

gint64
ss_store_confirm_cell (SsStore *self, const char *accession, gint64 cell_id, const char *user,
                       GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  return ss_store_correct (self, accession, cell_id, SS_CORRECTION_CONFIRM, 0, user,
                           "confirming the cell's class", error);
}

gint64
ss_store_add_cell (SsStore *self, const char *accession, gint64 image_id, SsCell *cell,
                   const char *user, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  g_return_val_if_fail (cell != NULL, -1);
  const char *operation = "adding the cell";
  if (!validate_user (user, error) || !validate_cell (cell, 0, NULL, error))
    return -1;
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return -1;
  gint64 case_id = ss_store_case_for_change (self, accession, operation, error);
  if (case_id == 0)
    goto fail;
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_IMAGE_CASE, operation, error);
  if (stmt == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, image_id);
  int rc = sqlite3_step (stmt);
  gboolean in_case = rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 0) == case_id;
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      goto fail;
    }
  if (!in_case)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
                   "%s: there is no image %" G_GINT64_FORMAT " in case '%s'", operation, image_id,
                   accession);
      goto fail;
    }
  sqlite3_stmt *insert = ss_store_stmt (self, STMT_CELL_INSERT, operation, error);
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CORRECTION_GET, operation, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, correction_id);
  int rc = sqlite3_step (stmt);
  SsCorrection *k = NULL;
  if (rc == SQLITE_ROW)
    {
      k = correction_from_row (stmt);
      *case_id = sqlite3_column_int64 (stmt, 10);
    }
  else if (rc != SQLITE_DONE)
    ss_store_set_sqlite_error (self, error, rc, operation);
  sqlite3_reset (stmt);
  return k;
}

gint64
ss_store_undo (SsStore *self, const char *accession, gint64 correction_id, const char *user,
               GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), -1);
  const char *operation = "undoing the correction";
  if (!validate_user (user, error))
    return -1;
  g_autofree char *now = ss_store_now ();
  if (!ss_store_begin_write (self, operation, error))
    return -1;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SsCorrection) k = NULL;
  gint64 correction_case = 0;
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
  sqlite3_stmt *later = ss_store_stmt (self, STMT_CORRECTION_LATER, operation, error);
  if (later == NULL)
    goto fail;
  sqlite3_bind_int64 (later, 1, k->cell_id);
  sqlite3_bind_int64 (later, 2, k->id);
  int rc = sqlite3_step (later);
  gint64 later_id = rc == SQLITE_ROW ? sqlite3_column_int64 (later, 0) : 0;
  sqlite3_reset (later);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      goto fail;
    }
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
                                       user, k->id, operation, error);
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
  g_return_val_if_fail (SS_IS_STORE (self), NULL);
  const char *operation = "reading the case's corrections";
  gint64 case_id = ss_store_case_id (self, accession, operation, error);
  if (case_id == 0)
    return NULL;
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_CORRECTION_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, case_id);
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_correction_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, correction_from_row (stmt));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return NULL;
    }
  return g_steal_pointer (&list);
}

/* Counts ----------------------------------------------------------------------------- */

static gboolean
ss_store_counts (SsStore *self, StmtId id, gint64 key, int counts[SS_N_CLASSES],
                 const char *operation, GError **error)
{
  memset (counts, 0, sizeof (int) * SS_N_CLASSES);
  sqlite3_stmt *stmt = ss_store_stmt (self, id, operation, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, key);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int cls = sqlite3_column_int (stmt, 0);
      if (cls >= 0 && cls < SS_N_CLASSES)
        counts[cls] = sqlite3_column_int (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return FALSE;
    }
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_TRUTH_SEEN, operation, error);
  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_text (stmt, 2, sha256, -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return -1;
    }
  return rc == SQLITE_ROW;
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
  if (!validate_user (user, error))
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
      sqlite3_stmt *insert = ss_store_stmt (self, STMT_TRUTH_INSERT, operation, error);
      if (insert == NULL)
        goto fail;
      for (guint j = 0; j < truth->cells->len; j++)
        {
          SsTruthCell *cell = g_ptr_array_index (truth->cells, j);
          sqlite3_reset (insert);
          sqlite3_clear_bindings (insert);
          sqlite3_bind_int64 (insert, 1, image->id);
          sqlite3_bind_int (insert, 2, cell->box.x);
          sqlite3_bind_int (insert, 3, cell->box.y);
          sqlite3_bind_int (insert, 4, cell->box.width);
          sqlite3_bind_int (insert, 5, cell->box.height);
          if (cell->cls != SS_CLASS_NONE)
            sqlite3_bind_int (insert, 6, cell->cls);
          bind_mask (insert, 7, &cell->mask, mask_blob);
          sqlite3_bind_text (insert, 8, truth->source_format, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (insert, 9, source_file, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (insert, 10, source_sha256, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (insert, 11, now, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (insert, 12, user, -1, SQLITE_TRANSIENT);
          if (!ss_store_run (self, insert, operation, error))
            goto fail;
          cell->id = sqlite3_last_insert_rowid (self->db);
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
  sqlite3_stmt *stmt = ss_store_stmt (self, STMT_TRUTH_LIST, operation, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free);
  int rc;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SsTruthCell *cell = ss_truth_cell_new ();
      cell->id = sqlite3_column_int64 (stmt, 0);
      cell->image_id = sqlite3_column_int64 (stmt, 1);
      cell->box = (SsBox) { sqlite3_column_int (stmt, 2), sqlite3_column_int (stmt, 3),
                            sqlite3_column_int (stmt, 4), sqlite3_column_int (stmt, 5) };
      cell->cls = sqlite3_column_type (stmt, 6) == SQLITE_NULL ? SS_CLASS_NONE
                                                                : sqlite3_column_int (stmt, 6);
      /* a mask that does not decode is dropped, as for the model's cells */
      if (!ss_store_rle_from_blob (&cell->mask, sqlite3_column_blob (stmt, 7),
                                   sqlite3_column_bytes (stmt, 7)))
        ss_rle_clear (&cell->mask);
      cell->source_format = column_text (stmt, 8);
      cell->source_file = column_text (stmt, 9);
      cell->source_sha256 = column_text (stmt, 10);
      cell->imported_at = column_text (stmt, 11);
      cell->user = column_text (stmt, 12);
      g_ptr_array_add (cells, cell);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, operation);
      return NULL;
    }
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

static gboolean
check_failed (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
check_failed (GError **error, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, SS_STORE_ERROR, SS_STORE_ERROR_CHECK_FAILED, message);
  return FALSE;
}

static gboolean
ss_store_check_sqlite (SsStore *self, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db, "PRAGMA integrity_check (1)", -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *result = (const char *) sqlite3_column_text (stmt, 0);
      if (g_strcmp0 (result, "ok") != 0)
        {
          check_failed (error, "SQLite's integrity check failed: %s", result);
          sqlite3_finalize (stmt);
          return FALSE;
        }
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    {
      ss_store_set_sqlite_error (self, error, rc, "checking the file's integrity");
      return FALSE;
    }
  rc = sqlite3_prepare_v2 (self->db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      check_failed (error, "%s row %" G_GINT64_FORMAT " refers to a missing row of %s",
                    sqlite3_column_text (stmt, 0), (gint64) sqlite3_column_int64 (stmt, 1),
                    sqlite3_column_text (stmt, 2));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, "checking foreign keys");
      return FALSE;
    }
  static const char *const triggers[] = { "corrections_no_update", "corrections_no_delete",
                                          "case_events_no_update", "case_events_no_delete" };
  for (guint i = 0; i < G_N_ELEMENTS (triggers); i++)
    {
      gint64 present = 0;
      g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM sqlite_schema WHERE type = "
                                              "'trigger' AND name = '%s'", triggers[i]);
      if (!ss_store_query_int (self, sql, &present, "checking the schema", error))
        return FALSE;
      if (!present)
        return check_failed (error, "the trigger %s that keeps %s append-only is missing "
                             "(the schema was changed outside Smearscope)", triggers[i],
                             i < 2 ? "corrections" : "case events");
    }
  return TRUE;
}

/* Walk the corrections in id order and recompute every hash. */
static gboolean
ss_store_check_chain (SsStore *self, char **head_hash, gint64 *n_corrections, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db,
                               "SELECT id, cell_id, kind, old_class, new_class, user, at, "
                               "coalesce (undoes, 0), prev_hash, hash FROM corrections ORDER BY id",
                               -1, &stmt, NULL);
  g_autofree char *previous = g_strdup (SS_STORE_GENESIS_HASH);
  gint64 previous_id = 0, n = 0;
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  for (; rc == SQLITE_ROW; rc = sqlite3_step (stmt))
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      const char *kind = (const char *) sqlite3_column_text (stmt, 2);
      const char *user = (const char *) sqlite3_column_text (stmt, 5);
      const char *at = (const char *) sqlite3_column_text (stmt, 6);
      const char *prev_hash = (const char *) sqlite3_column_text (stmt, 8);
      const char *hash = (const char *) sqlite3_column_text (stmt, 9);
      if (g_strcmp0 (prev_hash, previous) != 0)
        {
          sqlite3_finalize (stmt);
          return check_failed (error, "corrections row %" G_GINT64_FORMAT " does not follow row %"
                               G_GINT64_FORMAT " in the hash chain: a row was removed, inserted or "
                               "edited outside Smearscope", id, previous_id);
        }
      g_autofree char *expected = ss_store_correction_hash (
        prev_hash, id, sqlite3_column_int64 (stmt, 1), kind != NULL ? kind : "",
        sqlite3_column_int (stmt, 3), sqlite3_column_int (stmt, 4), user != NULL ? user : "",
        at != NULL ? at : "", sqlite3_column_int64 (stmt, 7));
      if (g_strcmp0 (hash, expected) != 0)
        {
          sqlite3_finalize (stmt);
          return check_failed (error, "corrections row %" G_GINT64_FORMAT " does not match its hash: "
                               "it was edited outside Smearscope", id);
        }
      g_free (previous);
      previous = g_strdup (hash);
      previous_id = id;
      n++;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, "verifying the corrections' hash chain");
      return FALSE;
    }
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
static gboolean
ss_store_check_replay (SsStore *self, GError **error)
{
  sqlite3_stmt *cells = NULL, *corrections = NULL;
  int rc = sqlite3_prepare_v2 (self->db,
                               "SELECT id, stored_class, current_class, deleted, origin FROM cells "
                               "ORDER BY id", -1, &cells, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (self->db,
                             "SELECT cell_id, id, kind, old_class, new_class, coalesce (undoes, 0) "
                             "FROM corrections ORDER BY cell_id, id", -1, &corrections, NULL);
  gboolean ok = TRUE;
  int crc = rc == SQLITE_OK ? sqlite3_step (corrections) : rc;
  if (rc == SQLITE_OK)
    rc = sqlite3_step (cells);
  for (; ok && rc == SQLITE_ROW; rc = ok ? sqlite3_step (cells) : rc)
    {
      gint64 cell_id = sqlite3_column_int64 (cells, 0);
      int cls = sqlite3_column_int (cells, 1);
      gboolean deleted = FALSE;
      gboolean user_drawn = g_strcmp0 ((const char *) sqlite3_column_text (cells, 4), "user") == 0;
      gboolean first = TRUE;
      gint64 previous_id = 0;
      gboolean previous_confirm = FALSE;
      while (crc == SQLITE_ROW && sqlite3_column_int64 (corrections, 0) < cell_id)
        crc = sqlite3_step (corrections);
      for (; ok && crc == SQLITE_ROW && sqlite3_column_int64 (corrections, 0) == cell_id;
           crc = sqlite3_step (corrections), first = FALSE)
        {
          gint64 id = sqlite3_column_int64 (corrections, 1);
          const char *kind = (const char *) sqlite3_column_text (corrections, 2);
          int old_class = sqlite3_column_int (corrections, 3);
          int new_class = sqlite3_column_int (corrections, 4);
          gint64 undoes = sqlite3_column_int64 (corrections, 5);
          gboolean is_add = g_strcmp0 (kind, "add") == 0;
          gboolean is_confirm = g_strcmp0 (kind, "confirm") == 0;
          /* Undo is refused once a cell has changed since, and whether a cell is
           * reviewed is read back on that rule. */
          if (undoes != 0 && undoes != previous_id)
            ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " reverses row %"
                               G_GINT64_FORMAT ", which is not the correction of cell %"
                               G_GINT64_FORMAT " just before it", id, undoes, cell_id);
          else if (undoes != 0 && is_confirm != previous_confirm)
            ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " reverses row %"
                               G_GINT64_FORMAT " with a %s; only a confirm reverses a confirm",
                               id, undoes, kind);
          else if (is_add != (first && user_drawn))
            ok = check_failed (error, "corrections row %" G_GINT64_FORMAT ": an 'add' must be the "
                               "first correction of a cell a person drew, and only of such a cell", id);
          else if (is_add)
            {
              if (new_class != cls)
                ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " adds cell %"
                                   G_GINT64_FORMAT " as a class other than the one it was stored "
                                   "with", id, cell_id);
            }
          else if (old_class != cls)
            ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " changes cell %"
                               G_GINT64_FORMAT " from %s, but it was %s then (a lost update or an "
                               "edit outside Smearscope)", id, cell_id, ss_class_name (old_class),
                               ss_class_name (cls));
          else if (g_strcmp0 (kind, "relabel") == 0)
            {
              if (deleted)
                ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " relabels cell %"
                                   G_GINT64_FORMAT " while it is deleted", id, cell_id);
              cls = new_class;
            }
          else if (g_strcmp0 (kind, "delete") == 0 || g_strcmp0 (kind, "restore") == 0)
            {
              gboolean deleting = kind[0] == 'd';
              if (deleted == deleting || new_class != old_class)
                ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " %ss cell %"
                                   G_GINT64_FORMAT " that was %s then", id, kind, cell_id,
                                   deleted ? "deleted" : "not deleted");
              deleted = deleting;
            }
          else if (is_confirm)
            {
              if (deleted || new_class != old_class)
                ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " confirms cell %"
                                   G_GINT64_FORMAT " %s", id, cell_id,
                                   deleted ? "while it is deleted" : "but changes its class");
            }
          previous_id = id;
          previous_confirm = is_confirm;
        }
      if (ok && first && user_drawn)
        ok = check_failed (error, "cells row %" G_GINT64_FORMAT " was drawn by a person but has no "
                           "'add' correction", cell_id);
      if (ok && (sqlite3_column_int (cells, 2) != cls
                 || (sqlite3_column_int (cells, 3) != 0) != deleted))
        ok = check_failed (error, "cells row %" G_GINT64_FORMAT " is %s%s but its corrections say %s%s: "
                           "it was edited outside Smearscope", cell_id,
                           ss_class_name (sqlite3_column_int (cells, 2)) ? ss_class_name (sqlite3_column_int (cells, 2)) : "?",
                           sqlite3_column_int (cells, 3) ? " (deleted)" : "",
                           ss_class_name (cls) ? ss_class_name (cls) : "?", deleted ? " (deleted)" : "");
    }
  if (ok && rc == SQLITE_DONE && crc == SQLITE_ROW)
    ok = check_failed (error, "corrections row %" G_GINT64_FORMAT " refers to a missing cell",
                       (gint64) sqlite3_column_int64 (corrections, 1));
  if (ok && rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, "replaying the corrections");
      ok = FALSE;
    }
  if (ok && crc != SQLITE_ROW && crc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, crc, "replaying the corrections");
      ok = FALSE;
    }
  sqlite3_finalize (cells);
  sqlite3_finalize (corrections);
  return ok;
}

/* A case is signed exactly when its last event is a sign-off, and its signature is that
 * event's: a status set back by hand, outside Smearscope, leaves no reopening behind. */
static gboolean
ss_store_check_case_events (SsStore *self, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (self->db,
                               "SELECT c.accession, c.status, e.kind FROM cases c "
                               "LEFT JOIN case_events e ON e.id = "
                               "  (SELECT max (id) FROM case_events WHERE case_id = c.id) "
                               "WHERE (c.status = 'signed') IS NOT (e.kind IS 'signed') "
                               "   OR (c.status = 'signed' AND (c.signed_by IS NOT e.user "
                               "                                OR c.signed_at IS NOT e.at)) "
                               "ORDER BY c.id LIMIT 1", -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *kind = (const char *) sqlite3_column_text (stmt, 2);
      check_failed (error, "case '%s' is %s but its sign-off history %s: the case was edited "
                    "outside Smearscope", sqlite3_column_text (stmt, 0),
                    sqlite3_column_text (stmt, 1),
                    kind == NULL ? "is empty" : g_strcmp0 (kind, "signed") == 0
                                                ? "ends with another signature"
                                                : "ends with a reopening");
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      ss_store_set_sqlite_error (self, error, rc, "checking the cases' sign-off history");
      return FALSE;
    }
  return TRUE;
}

gboolean
ss_store_check (SsStore *self, char **head_hash, gint64 *n_corrections, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  /* One read transaction: the chain and the cells are checked as one snapshot. */
  if (!ss_store_exec (self, "BEGIN", "checking the case store", error))
    return FALSE;
  gboolean ok = ss_store_check_sqlite (self, error)
                && ss_store_check_chain (self, head_hash, n_corrections, error)
                && ss_store_check_replay (self, error)
                && ss_store_check_case_events (self, error);
  ss_store_rollback (self);
  return ok;
}

/* Backup ----------------------------------------------------------------------------- */

static gboolean
fsync_path (const char *path, gboolean directory)
{
  int fd = g_open (path, (directory ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC, 0);
  if (fd < 0)
    return FALSE;
  gboolean ok = fsync (fd) == 0;
  close (fd);
  return ok;
}

gboolean
ss_store_backup (SsStore *self, const char *path, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_autofree char *source_real = realpath (self->path, NULL);
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *folder_real = realpath (folder, NULL);
  g_autofree char *base = g_path_get_basename (path);
  if (folder_real == NULL)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                   "backing up the case store: the folder %s does not exist", folder);
      return FALSE;
    }
  g_autofree char *target_real = g_build_filename (folder_real, base, NULL);
  if (g_strcmp0 (source_real, target_real) == 0)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "backing up the case store: %s is the store itself", path);
      return FALSE;
    }
  /* Write beside the target and rename when complete, so a crash or a full disk never
   * leaves a half backup under the name a restore would use. */
  g_autofree char *partial = g_strconcat (path, ".partial-XXXXXX", NULL);
  int fd = g_mkstemp_full (partial, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, SS_STORE_ERROR,
                   saved == EACCES || saved == EROFS ? SS_STORE_ERROR_READ_ONLY : SS_STORE_ERROR_IO,
                   "backing up the case store: cannot create a file beside %s: %s", path,
                   g_strerror (saved));
      return FALSE;
    }
  close (fd);

  sqlite3 *dest = NULL;
  int rc = sqlite3_open_v2 (partial, &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_EXRESCODE, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_backup *backup = sqlite3_backup_init (dest, "main", self->db, "main");
      if (backup == NULL)
        rc = sqlite3_errcode (dest);
      else
        {
          /* All pages in one step: it holds only a read transaction on the source,
           * which in WAL mode does not stop writers. */
          while ((rc = sqlite3_backup_step (backup, -1)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
            g_usleep (5000);
          if (rc == SQLITE_DONE)
            rc = SQLITE_OK;
          int finish = sqlite3_backup_finish (backup);
          if (rc == SQLITE_OK)
            rc = finish;
        }
    }
  /* A backup is one self-contained file: leave WAL mode, and prove it reads. */
  if (rc == SQLITE_OK)
    rc = sqlite3_exec (dest, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
  gboolean quick_ok = TRUE;
  if (rc == SQLITE_OK)
    {
      sqlite3_stmt *stmt = NULL;
      rc = sqlite3_prepare_v2 (dest, "PRAGMA quick_check", -1, &stmt, NULL);
      if (rc == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
        quick_ok = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "ok") == 0;
      sqlite3_finalize (stmt);
    }
  if (rc != SQLITE_OK || !quick_ok)
    {
      g_autofree char *message = g_strdup (rc != SQLITE_OK ? sqlite3_errmsg (dest) : "the copy does not read back");
      sqlite3_close_v2 (dest);
      g_unlink (partial);
      g_set_error (error, SS_STORE_ERROR,
                   (rc & 0xff) == SQLITE_FULL ? SS_STORE_ERROR_FULL : SS_STORE_ERROR_IO,
                   "backing up the case store to %s failed%s; no backup was written (%s)", path,
                   (rc & 0xff) == SQLITE_FULL ? ": the disk is full" : "", message);
      return FALSE;
    }
  sqlite3_close_v2 (dest);
  if (!fsync_path (partial, FALSE) || g_rename (partial, path) != 0)
    {
      int saved = errno;
      g_unlink (partial);
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                   "backing up the case store: cannot write %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  fsync_path (folder_real, TRUE);
  return TRUE;
}

