/* The SQLite backend of the case store: one file, written in WAL mode, every write
 * transaction begun IMMEDIATE (so two programs writing the same file queue instead of
 * deadlocking) and committed with synchronous=FULL (so a correction whose commit returned
 * survives a crash). ss-store-backend.h says what a backend provides. */
#include "ss-store-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  SsStoreConn  conn;
  sqlite3     *db;
} SqliteConn;

typedef struct {
  SsStoreStmt   base;
  sqlite3_stmt *stmt;
} SqliteStmt;

/* Long enough for the other station to finish a 100,000-cell insert on a slow disk. */
#define DEFAULT_BUSY_TIMEOUT_MS 30000

#define SQLITE_CONN(conn) ((SqliteConn *) (conn))
#define SQLITE_STMT(stmt) (((SqliteStmt *) (stmt))->stmt)

/* Errors ----------------------------------------------------------------------------- */

/* Turn an SQLite result into a GError that says what failed, why in words a lab can
 * act on, and SQLite's own message for whoever debugs it. */
static void
sqlite_set_error (SqliteConn *self, GError **error, int rc, const char *operation)
{
  const char *sqlite_message = self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc);
  const char *path = self->conn.location;
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
                   operation, path, self->conn.busy_timeout_ms / 1000, sqlite_message);
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

/* Statements ------------------------------------------------------------------------- */

static SsStoreStmt *
sqlite_prepare (SsStoreConn *conn, const char *sql, gboolean persistent, const char *operation,
                GError **error)
{
  SqliteConn *self = SQLITE_CONN (conn);
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v3 (self->db, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                               &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite_set_error (self, error, rc, operation);
      return NULL;
    }
  SqliteStmt *wrapper = g_new0 (SqliteStmt, 1);
  wrapper->base.conn = conn;
  wrapper->stmt = stmt;
  return &wrapper->base;
}

static void
sqlite_finalize (SsStoreStmt *stmt)
{
  sqlite3_finalize (SQLITE_STMT (stmt));
  g_free (stmt);
}

static void
sqlite_reset (SsStoreStmt *stmt)
{
  sqlite3_reset (SQLITE_STMT (stmt));
  sqlite3_clear_bindings (SQLITE_STMT (stmt));
}

static void
sqlite_bind_int64 (SsStoreStmt *stmt, int index, gint64 value)
{
  sqlite3_bind_int64 (SQLITE_STMT (stmt), index, value);
}

static void
sqlite_bind_double (SsStoreStmt *stmt, int index, double value)
{
  sqlite3_bind_double (SQLITE_STMT (stmt), index, value);
}

static void
sqlite_bind_text (SsStoreStmt *stmt, int index, const char *text)
{
  if (text != NULL)
    sqlite3_bind_text (SQLITE_STMT (stmt), index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (SQLITE_STMT (stmt), index);
}

static void
sqlite_bind_blob (SsStoreStmt *stmt, int index, const void *data, gsize size)
{
  if (data != NULL)
    sqlite3_bind_blob64 (SQLITE_STMT (stmt), index, data, size, SQLITE_STATIC);
  else
    sqlite3_bind_null (SQLITE_STMT (stmt), index);
}

static SsStepResult
sqlite_step (SsStoreStmt *stmt, const char *operation, GError **error)
{
  int rc = sqlite3_step (SQLITE_STMT (stmt));
  if (rc == SQLITE_ROW)
    return SS_STEP_ROW;
  if (rc == SQLITE_DONE)
    return SS_STEP_DONE;
  sqlite_set_error (SQLITE_CONN (stmt->conn), error, rc, operation);
  return rc == SQLITE_CONSTRAINT_UNIQUE ? SS_STEP_UNIQUE
         : rc == SQLITE_CONSTRAINT_FOREIGNKEY ? SS_STEP_FOREIGN_KEY
         : SS_STEP_ERROR;
}

static gboolean
sqlite_column_is_null (SsStoreStmt *stmt, int column)
{
  return sqlite3_column_type (SQLITE_STMT (stmt), column) == SQLITE_NULL;
}

static gint64
sqlite_column_int64 (SsStoreStmt *stmt, int column)
{
  return sqlite3_column_int64 (SQLITE_STMT (stmt), column);
}

static double
sqlite_column_double (SsStoreStmt *stmt, int column)
{
  return sqlite3_column_double (SQLITE_STMT (stmt), column);
}

static const char *
sqlite_column_text (SsStoreStmt *stmt, int column)
{
  return (const char *) sqlite3_column_text (SQLITE_STMT (stmt), column);
}

static const guint8 *
sqlite_column_blob (SsStoreStmt *stmt, int column, gsize *size)
{
  const guint8 *data = sqlite3_column_blob (SQLITE_STMT (stmt), column);
  *size = (gsize) sqlite3_column_bytes (SQLITE_STMT (stmt), column);
  return data;
}

/* Transactions ----------------------------------------------------------------------- */

static gboolean
sqlite_exec (SsStoreConn *conn, const char *sql, const char *operation, GError **error)
{
  int rc = sqlite3_exec (SQLITE_CONN (conn)->db, sql, NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite_set_error (SQLITE_CONN (conn), error, rc, operation);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_begin_read (SsStoreConn *conn, const char *operation, GError **error)
{
  return sqlite_exec (conn, "BEGIN", operation, error);
}

/* BEGIN IMMEDIATE takes the write lock up front: a deferred transaction that reads
 * first and then writes can fail with SQLITE_BUSY without the busy handler ever being
 * called. The busy handler waits; the loop also covers the BUSY results that bypass it
 * (WAL recovery by another connection). */
static gboolean
sqlite_begin_write (SsStoreConn *conn, const char *operation, GError **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) conn->busy_timeout_ms * 1000;
  for (;;)
    {
      int rc = sqlite3_exec (SQLITE_CONN (conn)->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
      if (rc == SQLITE_OK)
        return TRUE;
      if ((rc & 0xff) != SQLITE_BUSY || g_get_monotonic_time () >= deadline)
        {
          sqlite_set_error (SQLITE_CONN (conn), error, rc, operation);
          return FALSE;
        }
      g_usleep (2000);
    }
}

static void
sqlite_rollback (SsStoreConn *conn)
{
  /* A failed statement (SQLITE_FULL, IOERR) may have rolled back already. */
  if (!sqlite3_get_autocommit (SQLITE_CONN (conn)->db))
    sqlite3_exec (SQLITE_CONN (conn)->db, "ROLLBACK", NULL, NULL, NULL);
}

static gboolean
sqlite_commit (SsStoreConn *conn, const char *operation, GError **error)
{
  if (!sqlite_exec (conn, "COMMIT", operation, error))
    {
      sqlite_rollback (conn);
      return FALSE;
    }
  return TRUE;
}

/* Opening ---------------------------------------------------------------------------- */

/* The first bytes of the file, read through SQLite's own file layer rather than with
 * open () and close (): closing any descriptor of a file drops every POSIX lock this
 * process holds on it, so another connection of this process to the same store (the
 * workstation's, while its watch or an export opens one) would lose the shared lock it
 * holds in WAL mode. Another program closing its connection then takes itself for the
 * last one, checkpoints and removes the WAL under it, and that connection reads garbage
 * ("database disk image is malformed"). SQLite's layer knows the file's locks and keeps
 * the descriptor open until they go. FALSE with errno set when it cannot be read. */
static gboolean
sqlite_read_header (const char *path, guint8 *header, size_t size, size_t *got)
{
  sqlite3_vfs *vfs = sqlite3_vfs_find (NULL);
  /* the name as SQLite passes it to its file layer: with its (empty) parameter list */
  sqlite3_filename name = sqlite3_create_filename (path, "", "", 0, NULL);
  sqlite3_file *file = g_malloc0 (vfs->szOsFile);
  int out_flags = 0;
  *got = 0;
  memset (header, 0, size);
  errno = 0;  /* so that a stale errno is not taken for the reason */
  gboolean ok = name != NULL
                && vfs->xOpen (vfs, name, file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB,
                               &out_flags) == SQLITE_OK;
  if (!ok && errno == 0)
    errno = EIO;
  if (ok)
    {
      sqlite3_int64 file_size = 0;
      ok = file->pMethods->xFileSize (file, &file_size) == SQLITE_OK;
      size_t wanted = ok ? (size_t) MIN ((sqlite3_int64) size, file_size) : 0;
      /* a short read fills the rest with zeros and says so; wanted is never past the end */
      if (ok && wanted > 0)
        ok = file->pMethods->xRead (file, header, (int) wanted, 0) == SQLITE_OK;
      if (ok)
        *got = wanted;
      else
        errno = EIO;
      file->pMethods->xClose (file);
    }
  g_free (file);
  sqlite3_free_filename (name);
  return ok;
}

/* Look at the file before SQLite does, to name the common faults plainly: SQLite
 * reports a truncated file only when a query reaches the missing pages. */
static gboolean
sqlite_inspect_file (const char *path, gboolean *empty, GError **error)
{
  GStatBuf st;
  *empty = FALSE;
  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_autofree char *target = saved == ENOENT ? g_file_read_link (path, NULL) : NULL;
      if (target != NULL)
        {
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NO_STORE,
                       "the case store %s is a symbolic link to %s, which does not exist; "
                       "remove the link or choose the store file that holds the cases",
                       path, target);
          return FALSE;
        }
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
  size_t got = 0;
  /* SQLite's file layer refuses a symbolic link (ELOOP); the link was followed above to a
   * regular file, so its header is read through the file's own name */
  g_autofree char *real = realpath (path, NULL);
  if (!sqlite_read_header (real != NULL ? real : path, header, sizeof header, &got))
    {
      int saved = errno;
      g_set_error (error, SS_STORE_ERROR,
                   saved == EACCES ? SS_STORE_ERROR_READ_ONLY : SS_STORE_ERROR_IO,
                   "cannot read the case store %s: %s", path, g_strerror (saved));
      return FALSE;
    }
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
 * gives its -wal and -shm files the mode of the database file. made: whether this call
 * made the file (never when anything, a file or a link, was there already). */
static gboolean
sqlite_create_file (const char *path, gboolean *made, GError **error)
{
  *made = FALSE;
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
    {
      *made = TRUE;
      close (fd);
    }
  return TRUE;
}

static gboolean
sqlite_needs_immutable (const char *path)
{
  g_autofree char *folder = g_path_get_dirname (path);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  return g_access (folder, W_OK) != 0 && !g_file_test (wal, G_FILE_TEST_EXISTS)
         && !g_file_test (shm, G_FILE_TEST_EXISTS);
}


static void
sqlite_close (SsStoreConn *conn)
{
  sqlite3_close_v2 (SQLITE_CONN (conn)->db);
  g_free (conn->location);
  g_free (conn);
}

static void
sqlite_discard (const char *path)
{
  static const char *const suffixes[] = { "", "-wal", "-shm" };
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
      g_unlink (file);
    }
}

static void
sqlite_set_busy_timeout (SsStoreConn *conn, int milliseconds)
{
  sqlite3_busy_timeout (SQLITE_CONN (conn)->db, milliseconds);
}

static SqliteConn *
sqlite_open_existing (const char *path, SsStoreOpenFlags flags, GError **error)
{
  gboolean empty = FALSE;
  gboolean read_only = (flags & SS_STORE_OPEN_READ_ONLY) != 0;

  if (!sqlite_inspect_file (path, &empty, error))
    return NULL;
  if (empty && !(flags & SS_STORE_OPEN_CREATE))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is an empty file, not a case store", path);
      return NULL;
    }
  if (!read_only)
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

  SqliteConn *self = g_new0 (SqliteConn, 1);
  self->conn.backend = &ss_store_backend_sqlite;
  self->conn.location = g_strdup (path);
  self->conn.read_only = read_only;
  self->conn.busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
  int open_flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE)
                   | SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI;
  g_autofree char *escaped = g_uri_escape_string (path, "/", FALSE);
  g_autofree char *uri = g_strconcat ("file:", escaped, NULL);
  if (read_only && sqlite_needs_immutable (path))
    {
      g_free (uri);
      uri = g_strconcat ("file:", escaped, "?immutable=1", NULL);
    }
  int rc = sqlite3_open_v2 (uri, &self->db, open_flags, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite_set_error (self, error, rc, "opening the case store");
      sqlite_close (&self->conn);
      return NULL;
    }
  sqlite3_busy_timeout (self->db, self->conn.busy_timeout_ms);
  if (!read_only && sqlite3_db_readonly (self->db, "main") == 1)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY,
                   "the case store %s can only be opened read-only; check the permissions of "
                   "the file and its folder", path);
      sqlite_close (&self->conn);
      return NULL;
    }
  /* Foreign keys are off by default in SQLite; synchronous=FULL syncs the WAL at every
   * commit, which is what makes a returned relabel durable; a 32 MB page cache holds a
   * 100,000-cell insert without spilling to the WAL mid-transaction. */
  if (!sqlite_exec (&self->conn, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL; "
                    "PRAGMA cache_size = -32768", "opening the case store", error))
    {
      sqlite_close (&self->conn);
      return NULL;
    }
  return self;
}

static SsStoreConn *
sqlite_open (const char *path, SsStoreOpenFlags flags, gboolean *created, GError **error)
{
  /* created only by the O_EXCL open itself: a file another process made meanwhile, or a
   * dangling symbolic link, is never removed below */
  *created = FALSE;
  if ((flags & SS_STORE_OPEN_CREATE) && !g_file_test (path, G_FILE_TEST_EXISTS)
      && !sqlite_create_file (path, created, error))
    return NULL;
  SqliteConn *self = sqlite_open_existing (path, flags, error);
  /* A store this call created but could not open is removed, so that no half-made
   * file is left to be mistaken for a store. */
  if (self == NULL && *created)
    sqlite_discard (path);
  return self != NULL ? &self->conn : NULL;
}

/* Schema ----------------------------------------------------------------------------- */

static gboolean
sqlite_query_int (SsStoreConn *conn, const char *sql, gint64 *value, const char *operation,
                  GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (SQLITE_CONN (conn)->db, sql, -1, &stmt, NULL);
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
    sqlite_set_error (SQLITE_CONN (conn), error, rc, operation);
  sqlite3_finalize (stmt);
  return rc == SQLITE_OK;
}

static gboolean
sqlite_read_schema (SsStoreConn *conn, gint64 *application_id, gint64 *version,
                    gint64 *n_objects, GError **error)
{
  const char *operation = "reading the case store";
  return sqlite_query_int (conn, "PRAGMA application_id", application_id, operation, error)
         && sqlite_query_int (conn, "PRAGMA user_version", version, operation, error)
         && sqlite_query_int (conn, "SELECT count (*) FROM sqlite_schema", n_objects,
                              operation, error);
}

/* WAL lets the workstation read while the CLI writes; the mode is kept in the file,
 * and cannot change inside a transaction. */
static gboolean
sqlite_before_migrate (SsStoreConn *conn, GError **error)
{
  return sqlite_exec (conn, "PRAGMA journal_mode = WAL", "upgrading the case store's schema",
                      error);
}

static gboolean
sqlite_write_schema (SsStoreConn *conn, GError **error)
{
  g_autofree char *pragmas = g_strdup_printf ("PRAGMA application_id = %d; PRAGMA user_version = %d",
                                              SS_STORE_APPLICATION_ID, SS_STORE_SCHEMA_VERSION);
  return sqlite_exec (conn, pragmas, "upgrading the case store's schema", error);
}

/* Check ------------------------------------------------------------------------------ */

static gboolean
sqlite_check_engine (SsStoreConn *conn, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (SQLITE_CONN (conn)->db, "PRAGMA integrity_check (1)", -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *result = (const char *) sqlite3_column_text (stmt, 0);
      if (g_strcmp0 (result, "ok") != 0)
        {
          ss_store_check_failed (error, "SQLite's integrity check failed: %s", result);
          sqlite3_finalize (stmt);
          return FALSE;
        }
      rc = SQLITE_OK;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    {
      sqlite_set_error (SQLITE_CONN (conn), error, rc, "checking the file's integrity");
      return FALSE;
    }
  rc = sqlite3_prepare_v2 (SQLITE_CONN (conn)->db, "PRAGMA foreign_key_check", -1, &stmt, NULL);
  if (rc == SQLITE_OK && (rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      ss_store_check_failed (error, "%s row %" G_GINT64_FORMAT " refers to a missing row of %s",
                    sqlite3_column_text (stmt, 0), (gint64) sqlite3_column_int64 (stmt, 1),
                    sqlite3_column_text (stmt, 2));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      sqlite_set_error (SQLITE_CONN (conn), error, rc, "checking foreign keys");
      return FALSE;
    }
  static const char *const triggers[] = { "corrections_no_update", "corrections_no_delete",
                                          "case_events_no_update", "case_events_no_delete" };
  for (guint i = 0; i < G_N_ELEMENTS (triggers); i++)
    {
      gint64 present = 0;
      g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM sqlite_schema WHERE type = "
                                              "'trigger' AND name = '%s'", triggers[i]);
      if (!sqlite_query_int (conn, sql, &present, "checking the schema", error))
        return FALSE;
      if (!present)
        return ss_store_check_failed (error, "the trigger %s that keeps %s append-only is missing "
                             "(the schema was changed outside Smearscope)", triggers[i],
                             i < 2 ? "corrections" : "case events");
    }
  /* schema 8: a signed case stands still */
  static const char *const tables[] = { "images", "cells", "truth_cells" };
  static const char *const events[] = { "insert", "update", "delete" };
  for (guint i = 0; i <= G_N_ELEMENTS (tables) * G_N_ELEMENTS (events); i++)
    {
      gint64 present = 0;
      /* the names are ours; the last is the one trigger of corrections */
      g_autofree char *name = i < G_N_ELEMENTS (tables) * G_N_ELEMENTS (events)
        ? g_strdup_printf ("%s_signed_%s", tables[i / 3], events[i % 3])
        : g_strdup ("corrections_signed_insert");
      g_autofree char *sql = g_strdup_printf ("SELECT count (*) FROM sqlite_schema WHERE type = "
                                              "'trigger' AND name = '%s'", name);
      if (!sqlite_query_int (conn, sql, &present, "checking the schema", error))
        return FALSE;
      if (!present)
        return ss_store_check_failed (error, "the trigger %s that keeps a signed case as it was "
                                      "signed is missing (the schema was changed outside "
                                      "Smearscope)", name);
    }
  return TRUE;
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

static gboolean
sqlite_backup (SsStoreConn *conn, const char *path, GError **error)
{
  g_autofree char *source_real = realpath (conn->location, NULL);
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
      sqlite3_backup *backup = sqlite3_backup_init (dest, "main", SQLITE_CONN (conn)->db, "main");
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


/* Watching ---------------------------------------------------------------------------- */

/* A file has no notifications: the source reads PRAGMA data_version on a connection of
 * its own twice a second; it changes with every commit of another connection. */
typedef struct {
  GSource      source;
  SsStoreConn *conn;
  gint64       data_version;
} SqliteWatch;

#define SQLITE_WATCH_USEC (G_USEC_PER_SEC / 2)

static gint64
sqlite_data_version (SsStoreConn *conn)
{
  sqlite3_stmt *stmt = NULL;
  gint64 version = -1;
  if (sqlite3_prepare_v2 (SQLITE_CONN (conn)->db, "PRAGMA data_version", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

static gboolean
sqlite_watch_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  SqliteWatch *watch = (SqliteWatch *) source;
  g_source_set_ready_time (source, g_get_monotonic_time () + SQLITE_WATCH_USEC);
  gint64 version = sqlite_data_version (watch->conn);
  if (version == watch->data_version)
    return G_SOURCE_CONTINUE;
  watch->data_version = version;
  return callback != NULL ? callback (user_data) : G_SOURCE_CONTINUE;
}

static void
sqlite_watch_finalize (GSource *source)
{
  SqliteWatch *watch = (SqliteWatch *) source;
  g_clear_pointer (&watch->conn, sqlite_close);
}

static GSourceFuncs sqlite_watch_funcs = {
  .dispatch = sqlite_watch_dispatch,
  .finalize = sqlite_watch_finalize,
};

static GSource *
sqlite_watch (SsStoreConn *conn, gint64 case_id, GError **error)
{
  SqliteConn *opened = sqlite_open_existing (conn->location, SS_STORE_OPEN_READ_ONLY, error);
  if (opened == NULL)
    return NULL;
  SsStoreConn *own = &opened->conn;
  GSource *source = g_source_new (&sqlite_watch_funcs, sizeof (SqliteWatch));
  g_source_set_static_name (source, "smearscope case watch (SQLite)");
  SqliteWatch *watch = (SqliteWatch *) source;
  watch->conn = own;
  watch->data_version = sqlite_data_version (own);
  g_source_set_ready_time (source, g_get_monotonic_time () + SQLITE_WATCH_USEC);
  return source;
}

const SsStoreBackend ss_store_backend_sqlite = {
  .name = "SQLite",
  .migrations = ss_store_migrations,
  .open = sqlite_open,
  .close = sqlite_close,
  .discard = sqlite_discard,
  .set_busy_timeout = sqlite_set_busy_timeout,
  .read_schema = sqlite_read_schema,
  .before_migrate = sqlite_before_migrate,
  .write_schema = sqlite_write_schema,
  .exec = sqlite_exec,
  .begin_read = sqlite_begin_read,
  .begin_write = sqlite_begin_write,
  .commit = sqlite_commit,
  .rollback = sqlite_rollback,
  .prepare = sqlite_prepare,
  .finalize = sqlite_finalize,
  .reset = sqlite_reset,
  .bind_int64 = sqlite_bind_int64,
  .bind_double = sqlite_bind_double,
  .bind_text = sqlite_bind_text,
  .bind_blob = sqlite_bind_blob,
  .step = sqlite_step,
  .column_is_null = sqlite_column_is_null,
  .column_int64 = sqlite_column_int64,
  .column_double = sqlite_column_double,
  .column_text = sqlite_column_text,
  .column_blob = sqlite_column_blob,
  .check_engine = sqlite_check_engine,
  .backup = sqlite_backup,
  .watch = sqlite_watch,
};
