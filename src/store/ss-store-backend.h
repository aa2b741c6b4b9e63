/* What a backend of the case store provides: a connection, prepared statements with
 * numbered parameters (?1, ?2 ...), transactions, and the few things only the engine
 * can do (its own integrity check, a backup, the schema version's home). The store's
 * logic (ss-store.c, ss-store-audit.c, ss-store-schema.c) speaks only through this, so
 * SQLite (ss-store-sqlite.c) and PostgreSQL (ss-store-pg.c) run the same code. */
#pragma once

#include "ss-store.h"

G_BEGIN_DECLS

typedef struct _SsStoreBackend SsStoreBackend;

/* Every backend's connection begins with this header. */
typedef struct {
  const SsStoreBackend *backend;
  char                 *location;         /* the file or URI as given (never a password) */
  gboolean              read_only;
  int                   busy_timeout_ms;  /* how long a writer waits for another */
} SsStoreConn;

/* Every backend's statement begins with this header. */
typedef struct {
  SsStoreConn *conn;
} SsStoreStmt;

/* What a step gave. Each failure has set the GError already; UNIQUE and FOREIGN_KEY are
 * told apart for the callers that turn them into a message of their own. */
typedef enum {
  SS_STEP_ROW,
  SS_STEP_DONE,
  SS_STEP_UNIQUE,       /* a UNIQUE constraint refused the row */
  SS_STEP_FOREIGN_KEY,  /* a row still refers to the one deleted, or refers to nothing */
  SS_STEP_ERROR,
} SsStepResult;

#define SS_STEP_FAILED(result) ((result) > SS_STEP_DONE)

struct _SsStoreBackend {
  const char        *name;        /* "SQLite", "PostgreSQL": the engine, in messages */
  const char *const *migrations;  /* SS_STORE_SCHEMA_VERSION scripts in its dialect */
  /* NULL: a correction is an INSERT into corrections, then an UPDATE of its cell. Else
   * one statement with the INSERT's ten parameters that appends the row and applies it
   * to the cell (PostgreSQL's smearscope_append_correction, which checks it first). */
  const char        *append_correction;
  /* TRUE: the server enforces the roles (ss_store_check_role has nothing to do), and
   * these set them up (NULL on a file). */
  gboolean           roles_on_server;
  const char        *init_roles;     /* no parameters */
  const char        *add_user;       /* ?1 login name, ?2 role name */

  /* Connect to location (open the file, reach the server). CREATE makes what the
   * location needs to exist, and says so in created; a failed open leaves nothing it
   * made behind. The schema is left to ss_store_schema_open. */
  SsStoreConn *(*open)           (const char *location, SsStoreOpenFlags flags,
                                  gboolean *created, GError **error);
  void         (*close)          (SsStoreConn *conn);
  /* After a failed schema set-up of a store open created: remove what it made. NULL
   * when a failed migration leaves nothing behind anyway. */
  void         (*discard)        (const char *location);
  void         (*set_busy_timeout) (SsStoreConn *conn, int milliseconds);

  /* The schema's identity: application id (0 when none), version, and how many tables
   * or other objects the store holds at all. */
  gboolean     (*read_schema)    (SsStoreConn *conn, gint64 *application_id, gint64 *version,
                                  gint64 *n_objects, GError **error);
  /* Before the migration's write transaction (SQLite switches to WAL there); may be NULL. */
  gboolean     (*before_migrate) (SsStoreConn *conn, GError **error);
  /* Inside it, after the scripts: record SS_STORE_APPLICATION_ID and the version. */
  gboolean     (*write_schema)   (SsStoreConn *conn, GError **error);

  /* A script of statements without parameters (the migrations), in one round. */
  gboolean     (*exec)           (SsStoreConn *conn, const char *sql, const char *operation,
                                  GError **error);
  /* A snapshot for reading, ended by rollback. */
  gboolean     (*begin_read)     (SsStoreConn *conn, const char *operation, GError **error);
  /* The store's one write lock: writers queue for up to the busy timeout. */
  gboolean     (*begin_write)    (SsStoreConn *conn, const char *operation, GError **error);
  /* Returns only once the transaction is durable. */
  gboolean     (*commit)         (SsStoreConn *conn, const char *operation, GError **error);
  void         (*rollback)       (SsStoreConn *conn);

  /* persistent: kept for the connection's life and reused (reset between uses). */
  SsStoreStmt *(*prepare)        (SsStoreConn *conn, const char *sql, gboolean persistent,
                                  const char *operation, GError **error);
  void         (*finalize)       (SsStoreStmt *stmt);
  /* Forget the bindings and the result: parameters not bound again are NULL. */
  void         (*reset)          (SsStoreStmt *stmt);
  void         (*bind_int64)     (SsStoreStmt *stmt, int index, gint64 value);
  void         (*bind_double)    (SsStoreStmt *stmt, int index, double value);
  /* Copied; NULL binds NULL. */
  void         (*bind_text)      (SsStoreStmt *stmt, int index, const char *text);
  /* Not copied: data must live until the step. NULL binds NULL. */
  void         (*bind_blob)      (SsStoreStmt *stmt, int index, const void *data, gsize size);
  SsStepResult (*step)           (SsStoreStmt *stmt, const char *operation, GError **error);
  /* Columns of the current row; what they point at lives until the next step or reset. */
  gboolean     (*column_is_null) (SsStoreStmt *stmt, int column);
  gint64       (*column_int64)   (SsStoreStmt *stmt, int column);
  double       (*column_double)  (SsStoreStmt *stmt, int column);
  const char  *(*column_text)    (SsStoreStmt *stmt, int column);
  const guint8 *(*column_blob)   (SsStoreStmt *stmt, int column, gsize *size);

  /* db check's first step: the engine's own integrity checks, and the triggers that
   * keep the audit tables append-only. */
  gboolean     (*check_engine)   (SsStoreConn *conn, GError **error);
  gboolean     (*backup)         (SsStoreConn *conn, const char *path, GError **error);
  /* After rows were copied in with their ids (ss_store_copy), inside its transaction:
   * the next id of each table follows them. NULL when the engine does that itself. */
  gboolean     (*after_copy)     (SsStoreConn *conn, GError **error);
  /* A source, on a connection of its own to conn's store, dispatched (callback with no
   * argument but its data) within about a second of a commit that changed case case_id
   * (ss_store_watch_case). */
  GSource     *(*watch)          (SsStoreConn *conn, gint64 case_id, GError **error);
  /* A statement that tells the case's watchers on other connections that an image was
   * added to case ?1, run in that change's transaction; NULL when every watcher sees
   * every commit anyway (a file's data version). */
  const char   *notify_image;

  /* A server's connection (all NULL for a file, which is always there): whether it is
   * up as far as is known, where the server is (for messages), how long an action
   * waits for a server that went away (-1: the default, 0: no attempt on the caller's
   * thread at all), and a new session made on a worker thread (connect_session reads
   * only its arguments), which the connection's own thread then takes in. */
  gboolean     (*connected)      (SsStoreConn *conn);
  const char  *(*server)         (SsStoreConn *conn);
  const char  *(*login)          (SsStoreConn *conn);
  void         (*set_reconnect_wait) (SsStoreConn *conn, int milliseconds);
  gpointer     (*connect_session) (const char *location, gboolean read_only,
                                   int busy_timeout_ms, GError **error);
  void         (*adopt_session)  (SsStoreConn *conn, gpointer session);
  void         (*drop_session)   (gpointer session);
};

extern const SsStoreBackend ss_store_backend_sqlite;
extern const SsStoreBackend ss_store_backend_pg;

/* The backend of a location: a postgresql:// (or postgres://) URI is a PostgreSQL
 * server's, anything else a SQLite file. */
const SsStoreBackend *ss_store_backend_for (const char *location);

static inline void
ss_stmt_reset (SsStoreStmt *stmt)
{
  stmt->conn->backend->reset (stmt);
}

static inline void
ss_stmt_finalize (SsStoreStmt *stmt)
{
  if (stmt != NULL)
    stmt->conn->backend->finalize (stmt);
}

static inline void
ss_stmt_bind_int64 (SsStoreStmt *stmt, int index, gint64 value)
{
  stmt->conn->backend->bind_int64 (stmt, index, value);
}

static inline void
ss_stmt_bind_double (SsStoreStmt *stmt, int index, double value)
{
  stmt->conn->backend->bind_double (stmt, index, value);
}

static inline void
ss_stmt_bind_text (SsStoreStmt *stmt, int index, const char *text)
{
  stmt->conn->backend->bind_text (stmt, index, text);
}

static inline void
ss_stmt_bind_blob (SsStoreStmt *stmt, int index, const void *data, gsize size)
{
  stmt->conn->backend->bind_blob (stmt, index, data, size);
}

static inline SsStepResult
ss_stmt_step (SsStoreStmt *stmt, const char *operation, GError **error)
{
  return stmt->conn->backend->step (stmt, operation, error);
}

static inline gboolean
ss_stmt_column_is_null (SsStoreStmt *stmt, int column)
{
  return stmt->conn->backend->column_is_null (stmt, column);
}

static inline gint64
ss_stmt_column_int64 (SsStoreStmt *stmt, int column)
{
  return stmt->conn->backend->column_int64 (stmt, column);
}

static inline int
ss_stmt_column_int (SsStoreStmt *stmt, int column)
{
  return (int) stmt->conn->backend->column_int64 (stmt, column);
}

static inline double
ss_stmt_column_double (SsStoreStmt *stmt, int column)
{
  return stmt->conn->backend->column_double (stmt, column);
}

static inline const char *
ss_stmt_column_text (SsStoreStmt *stmt, int column)
{
  return stmt->conn->backend->column_text (stmt, column);
}

/* The text as a string of its own, always UTF-8: the store writes nothing else, and a
 * damaged file's bytes are handed on with U+FFFD in their place, never as they are
 * (every export, label and report expects UTF-8). */
static inline char *
ss_stmt_column_dup (SsStoreStmt *stmt, int column)
{
  const char *text = stmt->conn->backend->column_text (stmt, column);
  if (text == NULL || g_utf8_validate (text, -1, NULL))
    return g_strdup (text);
  return g_utf8_make_valid (text, -1);
}

static inline const guint8 *
ss_stmt_column_blob (SsStoreStmt *stmt, int column, gsize *size)
{
  return stmt->conn->backend->column_blob (stmt, column, size);
}

G_END_DECLS
