/* The PostgreSQL backend of the case store, through libpq: the stations of a lab point
 * at one server with a postgresql:// URI. Statements are the API's own, their ?N
 * parameters renamed $N, prepared once per connection and always sent as parameters
 * (never spliced into the SQL). Writers queue on one transaction-scoped advisory lock,
 * as SQLite's writers queue on its file lock, so the hash chain of corrections grows one
 * row at a time; every session runs with synchronous_commit on, so a correction whose
 * COMMIT returned is on the server's disk. ss-store-backend.h says what a backend
 * provides. */
#include "ss-store-private.h"

#include <libpq-fe.h>
#include <string.h>

typedef struct {
  SsStoreConn  conn;
  PGconn      *pg;
  char        *server;       /* "host:port" or the socket folder, for messages */
  guint        n_prepared;   /* names the next prepared statement */
  guint        session;      /* counts reconnections: a new session has no prepared
                              * statements, so each is prepared again on its next use */
  gint64       wait_usec;    /* how long an action waits for the server; -1: the default */
  gboolean     lost;         /* a statement failed for want of the server: the session is
                              * gone even where libpq has not noticed yet */
  gboolean     in_transaction;  /* begun and not yet committed or rolled back: a statement
                                 * then never moves to a new session (its transaction is
                                 * lost whole), one outside any does */
} PgConn;

typedef struct {
  SsStoreStmt  base;
  char        *sql;          /* with $N parameters */
  char        *name;         /* of the prepared statement; NULL: sent with its SQL */
  guint        session;      /* of the connection's sessions, the one it was prepared in */
  int          n_params;
  char       **values;       /* text parameters are owned copies, blobs the caller's */
  int         *lengths;
  int         *formats;      /* 1 for a blob, sent as binary bytea */
  gboolean    *owned;
  PGresult    *result;       /* of the last execution, NULL before the first step */
  int          row;
  guint8     **blobs;        /* the current row's bytea columns, decoded on demand */
  int          n_blobs;
} PgStmt;

/* Long enough for the other station to finish a 100,000-cell insert on a slow disk. */
#define DEFAULT_BUSY_TIMEOUT_MS 30000

#define PG_CONN(conn) ((PgConn *) (conn))
#define PG_STMT(stmt) ((PgStmt *) (stmt))

/* Errors ----------------------------------------------------------------------------- */

/* The first two characters of an SQLSTATE name its class. */
static gboolean
sqlstate_is (const char *sqlstate, const char *prefix)
{
  return sqlstate != NULL && g_str_has_prefix (sqlstate, prefix);
}

/* Whether a failure is the session gone: an error of libpq's own has no SQLSTATE (the
 * server closed the connection, or a write to it failed before libpq read its end),
 * class 08 is the connection's, 57P the server shutting down. */
static gboolean
pg_result_lost (PgConn *self, const PGresult *result)
{
  const char *sqlstate = result != NULL ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;
  return PQstatus (self->pg) == CONNECTION_BAD || sqlstate == NULL || sqlstate_is (sqlstate, "08")
         || sqlstate_is (sqlstate, "57P");
}

/* Turn a server's refusal (result may be NULL when the connection failed) into a GError
 * that says what failed, why in words a lab can act on, and the server's own message. */
static SsStepResult
pg_set_error (PgConn *self, const PGresult *result, GError **error, const char *operation)
{
  const char *sqlstate = result != NULL ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;
  g_autofree char *message = g_strdup (result != NULL && PQresultErrorMessage (result)[0] != '\0'
                                         ? PQresultErrorMessage (result)
                                         : PQerrorMessage (self->pg));
  g_strstrip (message);
  const char *location = self->conn.location;
  if (pg_result_lost (self, result))
    self->lost = TRUE;
  if (self->lost)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                 "%s: lost the connection to the case server at %s; is it running? Nothing "
                 "of this change is stored unless a reload shows it (%s)", operation,
                 self->server, message);
  else if (g_strcmp0 (sqlstate, "SS001") == 0)
    /* the signed-case triggers of schema 8: a change the program did not check first */
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED, "%s: %s", operation,
                 PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY));
  else if (sqlstate_is (sqlstate, "23"))
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                 "%s: refused by the case store's rules (%s)", operation, message);
  else if (g_strcmp0 (sqlstate, "55P03") == 0 || g_strcmp0 (sqlstate, "40001") == 0
           || g_strcmp0 (sqlstate, "40P01") == 0 || g_strcmp0 (sqlstate, "57014") == 0)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_BUSY,
                 "%s: another station kept the case store %s locked for more than %d s; "
                 "try again when it has finished (%s)", operation, location,
                 self->conn.busy_timeout_ms / 1000, message);
  else if (g_strcmp0 (sqlstate, "42501") == 0 && !self->conn.read_only)
    /* the roles' own refusals say who and why ("your login ann is a technician; only
     * a hematologist can sign off"); the server's plain ones name the table */
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FORBIDDEN, "%s: %s (roles are set on "
                 "the case server at %s, docs/case-store.md \"Roles\")", operation,
                 PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY), self->server);
  else if (g_strcmp0 (sqlstate, "25006") == 0 || g_strcmp0 (sqlstate, "42501") == 0)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_READ_ONLY,
                 "%s: the case store %s cannot be written by this login (%s)", operation,
                 location, message);
  else if (g_strcmp0 (sqlstate, "53100") == 0)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FULL,
                 "%s: the disk of the case server at %s is full; nothing was stored. Ask "
                 "whoever runs the server to free some space (%s)", operation, self->server,
                 message);
  else if (sqlstate_is (sqlstate, "XX0"))
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT,
                 "%s: the case server reports damage in %s; restore it from a backup (%s)",
                 operation, location, message);
  else
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FAILED, "%s: %s (PostgreSQL error %s)",
                 operation, message, sqlstate != NULL ? sqlstate : "without a code");
  if (g_strcmp0 (sqlstate, "23505") == 0)
    return SS_STEP_UNIQUE;
  if (g_strcmp0 (sqlstate, "23503") == 0)
    return SS_STEP_FOREIGN_KEY;
  return SS_STEP_ERROR;
}

/* Run SQL without parameters (set-up, transactions, migrations): TRUE when the server
 * accepted all of it. */
static gboolean
pg_exec (SsStoreConn *conn, const char *sql, const char *operation, GError **error)
{
  PgConn *self = PG_CONN (conn);
  PGresult *result = PQexec (self->pg, sql);
  ExecStatusType status = PQresultStatus (result);
  gboolean ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok)
    pg_set_error (self, result, error, operation);
  PQclear (result);
  return ok;
}

/* Statements ------------------------------------------------------------------------- */

static gboolean pg_reconnect (PgConn *self, const char *operation, GError **error);
static gboolean pg_result_lost (PgConn *self, const PGresult *result);

/* pg_execute's "again, in the new session" (never returned by pg_step) */
#define SS_STEP_AGAIN ((SsStepResult) (SS_STEP_ERROR + 1))
static SsStepResult pg_execute (PgConn *self, PgStmt *stmt, const char *operation,
                                gboolean retried, GError **error);

/* A statement of its own (outside a transaction) on a session known to be gone goes to a
 * new one, as a transaction's BEGIN does (pg_begin). */
static gboolean
pg_ensure_session (PgConn *self, const char *operation, GError **error)
{
  if (self->in_transaction || (!self->lost && PQstatus (self->pg) == CONNECTION_OK))
    return TRUE;
  return pg_reconnect (self, operation, error);
}

/* The API's statements number their parameters ?1, ?2 ...; libpq's are $1, $2 ....
 * Quoted text and identifiers are copied as they are. */
static char *
pg_translate_sql (const char *sql, int *n_params)
{
  GString *out = g_string_sized_new (strlen (sql) + 16);
  char quote = 0;
  *n_params = 0;
  for (const char *p = sql; *p != '\0'; p++)
    {
      if (quote != 0)
        {
          if (*p == quote)
            quote = 0;
        }
      else if (*p == '\'' || *p == '"')
        quote = *p;
      else if (*p == '?' && g_ascii_isdigit (p[1]))
        {
          int index = (int) g_ascii_strtoll (p + 1, NULL, 10);
          *n_params = MAX (*n_params, index);
          g_string_append_c (out, '$');
          continue;
        }
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static void
pg_clear_blobs (PgStmt *stmt)
{
  for (int i = 0; i < stmt->n_blobs; i++)
    g_clear_pointer (&stmt->blobs[i], PQfreemem);
}

static void
pg_reset (SsStoreStmt *base)
{
  PgStmt *stmt = PG_STMT (base);
  pg_clear_blobs (stmt);
  g_clear_pointer (&stmt->result, PQclear);
  stmt->row = 0;
  for (int i = 0; i < stmt->n_params; i++)
    {
      if (stmt->owned[i])
        g_free (stmt->values[i]);
      stmt->values[i] = NULL;
      stmt->lengths[i] = 0;
      stmt->formats[i] = 0;
      stmt->owned[i] = FALSE;
    }
}

static void
pg_finalize (SsStoreStmt *base)
{
  PgStmt *stmt = PG_STMT (base);
  pg_reset (base);
  g_free (stmt->blobs);
  g_free (stmt->values);
  g_free (stmt->lengths);
  g_free (stmt->formats);
  g_free (stmt->owned);
  g_free (stmt->sql);
  g_free (stmt->name);
  g_free (stmt);
}

/* A persistent statement is prepared on the server now, so that a mistake in it shows
 * at once; a statement used once goes with its SQL at the step. */
static SsStoreStmt *
pg_prepare (SsStoreConn *conn, const char *sql, gboolean persistent, const char *operation,
            GError **error)
{
  PgConn *self = PG_CONN (conn);
  PgStmt *stmt = g_new0 (PgStmt, 1);
  stmt->base.conn = conn;
  stmt->sql = pg_translate_sql (sql, &stmt->n_params);
  stmt->values = g_new0 (char *, MAX (stmt->n_params, 1));
  stmt->lengths = g_new0 (int, MAX (stmt->n_params, 1));
  stmt->formats = g_new0 (int, MAX (stmt->n_params, 1));
  stmt->owned = g_new0 (gboolean, MAX (stmt->n_params, 1));
  if (persistent && !pg_ensure_session (self, operation, error))
    {
      pg_finalize (&stmt->base);
      return NULL;
    }
  if (persistent)
    {
      stmt->name = g_strdup_printf ("smearscope_%u", self->n_prepared++);
      stmt->session = self->session;
      PGresult *result = PQprepare (self->pg, stmt->name, stmt->sql, 0, NULL);
      gboolean ok = PQresultStatus (result) == PGRES_COMMAND_OK;
      if (!ok)
        pg_set_error (self, result, error, operation);
      PQclear (result);
      if (!ok)
        {
          pg_finalize (&stmt->base);
          return NULL;
        }
    }
  return &stmt->base;
}

static void
pg_bind_owned (SsStoreStmt *base, int index, char *text)
{
  PgStmt *stmt = PG_STMT (base);
  g_assert (index >= 1 && index <= stmt->n_params);
  int i = index - 1;
  if (stmt->owned[i])
    g_free (stmt->values[i]);
  stmt->values[i] = text;
  stmt->lengths[i] = 0;
  stmt->formats[i] = 0;
  stmt->owned[i] = text != NULL;
}

static void
pg_bind_int64 (SsStoreStmt *stmt, int index, gint64 value)
{
  pg_bind_owned (stmt, index, g_strdup_printf ("%" G_GINT64_FORMAT, value));
}

static void
pg_bind_double (SsStoreStmt *stmt, int index, double value)
{
  char text[G_ASCII_DTOSTR_BUF_SIZE];
  /* g_ascii_dtostr writes the shortest text that reads back to the same double */
  pg_bind_owned (stmt, index, g_strdup (g_ascii_dtostr (text, sizeof text, value)));
}

static void
pg_bind_text (SsStoreStmt *stmt, int index, const char *text)
{
  pg_bind_owned (stmt, index, g_strdup (text));
}

static void
pg_bind_blob (SsStoreStmt *base, int index, const void *data, gsize size)
{
  PgStmt *stmt = PG_STMT (base);
  pg_bind_owned (base, index, NULL);
  if (data == NULL)
    return;
  g_assert (size <= G_MAXINT);
  stmt->values[index - 1] = (char *) data;
  stmt->lengths[index - 1] = (int) size;
  stmt->formats[index - 1] = 1;
}

static SsStepResult
pg_step (SsStoreStmt *base, const char *operation, GError **error)
{
  PgStmt *stmt = PG_STMT (base);
  PgConn *self = PG_CONN (base->conn);
  pg_clear_blobs (stmt);
  if (stmt->result != NULL)
    {
      stmt->row++;
      return stmt->row < PQntuples (stmt->result) ? SS_STEP_ROW : SS_STEP_DONE;
    }
  if (!pg_ensure_session (self, operation, error))
    return SS_STEP_ERROR;
  for (gboolean retried = FALSE;; retried = TRUE)
    {
      SsStepResult result = pg_execute (self, stmt, operation, retried, error);
      if (result != SS_STEP_AGAIN)
        return result;
    }
}

/* One execution of stmt; on a session found gone by this very statement, outside any
 * transaction and not retried yet: SS_STEP_AGAIN after moving to a new session (the
 * statement is then sent again: outside a transaction the store only reads). */
static SsStepResult
pg_execute (PgConn *self, PgStmt *stmt, const char *operation, gboolean retried, GError **error)
{
  if (stmt->name != NULL && stmt->session != self->session)
    {
      PGresult *prepared = PQprepare (self->pg, stmt->name, stmt->sql, 0, NULL);
      gboolean ok = PQresultStatus (prepared) == PGRES_COMMAND_OK;
      SsStepResult failure = ok ? SS_STEP_DONE : pg_set_error (self, prepared, error, operation);
      PQclear (prepared);
      if (!ok)
        return failure;
      stmt->session = self->session;
    }
  const char *const *values = (const char *const *) stmt->values;
  stmt->result = stmt->name != NULL
                 ? PQexecPrepared (self->pg, stmt->name, stmt->n_params, values, stmt->lengths,
                                   stmt->formats, 0)
                 : PQexecParams (self->pg, stmt->sql, stmt->n_params, NULL, values,
                                 stmt->lengths, stmt->formats, 0);
  ExecStatusType status = PQresultStatus (stmt->result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !self->in_transaction
      && !retried && pg_result_lost (self, stmt->result))
    {
      g_clear_pointer (&stmt->result, PQclear);
      self->lost = TRUE;
      return pg_reconnect (self, operation, error) ? SS_STEP_AGAIN : SS_STEP_ERROR;
    }
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    {
      SsStepResult failure = pg_set_error (self, stmt->result, error, operation);
      g_clear_pointer (&stmt->result, PQclear);
      return failure;
    }
  stmt->row = 0;
  if (PQnfields (stmt->result) > stmt->n_blobs)
    {
      stmt->n_blobs = PQnfields (stmt->result);
      stmt->blobs = g_renew (guint8 *, stmt->blobs, stmt->n_blobs);
      memset (stmt->blobs, 0, sizeof (guint8 *) * stmt->n_blobs);
    }
  return PQntuples (stmt->result) > 0 ? SS_STEP_ROW : SS_STEP_DONE;
}

static gboolean
pg_column_is_null (SsStoreStmt *base, int column)
{
  PgStmt *stmt = PG_STMT (base);
  return PQgetisnull (stmt->result, stmt->row, column);
}

static const char *
pg_column_text (SsStoreStmt *base, int column)
{
  PgStmt *stmt = PG_STMT (base);
  if (PQgetisnull (stmt->result, stmt->row, column))
    return NULL;
  return PQgetvalue (stmt->result, stmt->row, column);
}

/* NULL reads as 0, as in SQLite. */
static gint64
pg_column_int64 (SsStoreStmt *stmt, int column)
{
  const char *text = pg_column_text (stmt, column);
  return text != NULL ? g_ascii_strtoll (text, NULL, 10) : 0;
}

static double
pg_column_double (SsStoreStmt *stmt, int column)
{
  const char *text = pg_column_text (stmt, column);
  return text != NULL ? g_ascii_strtod (text, NULL) : 0.0;
}

/* Results come as text, where bytea is written in hex; decoded once per row. */
static const guint8 *
pg_column_blob (SsStoreStmt *base, int column, gsize *size)
{
  PgStmt *stmt = PG_STMT (base);
  const char *text = pg_column_text (base, column);
  *size = 0;
  if (text == NULL)
    return NULL;
  g_clear_pointer (&stmt->blobs[column], PQfreemem);
  size_t length = 0;
  stmt->blobs[column] = PQunescapeBytea ((const unsigned char *) text, &length);
  *size = stmt->blobs[column] != NULL ? length : 0;
  return stmt->blobs[column];
}

/* Reconnecting ----------------------------------------------------------------------- */

/* How long a station waits for a server that is away: $SMEARSCOPE_RECONNECT_WAIT
 * seconds, by default 30 (a restart of the server takes a few). */
static gint64
pg_default_wait_usec (void)
{
  const char *text = g_getenv ("SMEARSCOPE_RECONNECT_WAIT");
  gint64 seconds = text != NULL ? g_ascii_strtoll (text, NULL, 10) : 30;
  return CLAMP (seconds, 0, 24 * 3600) * G_USEC_PER_SEC;
}

/* Connect to the server at uri, blocking. The parameters before dbname are defaults
 * that the URI may override: a station whose server is down says so within seconds
 * instead of hanging on a TCP connect, and a server whose host vanished mid-statement
 * (cable, crash) is noticed in about ten seconds (keepalives, tcp_user_timeout) rather
 * than after the system's TCP timeout of many minutes. start: begin the connection
 * without waiting (PQconnectStartParams), for a main loop to poll. */
static void
pg_ignore_notice (void *data, const char *message)
{
  /* the server's notices ("terminating connection due to immediate shutdown") are
   * followed by an error the store reports in its own words */
}

static PGconn *
pg_connect (const char *uri, const char *application, gboolean start)
{
  const char *const keywords[] = { "connect_timeout", "fallback_application_name",
                                   "client_encoding", "keepalives_idle",
                                   "keepalives_interval", "keepalives_count",
                                   "tcp_user_timeout", "dbname", NULL };
  const char *const values[] = { "10", application, "UTF8", "5", "2", "2", "10000", uri, NULL };
  PGconn *pg = start ? PQconnectStartParams (keywords, values, TRUE)
                     : PQconnectdbParams (keywords, values, TRUE);
  if (pg != NULL)
    PQsetNoticeProcessor (pg, pg_ignore_notice, NULL);
  return pg;
}

/* libpq's last error on one line, for a message of the store's own */
static char *
pg_message (const PGconn *pg)
{
  return g_strstrip (g_strdelimit (g_strdup (PQerrorMessage (pg)), "\n\t", ' '));
}

static gboolean pg_set_session (PgConn *self, GError **error);
static gboolean pg_session_settings (PGconn *pg, int busy_timeout_ms, gboolean read_only,
                                     GError **error);

static gint64
pg_wait_usec (PgConn *self)
{
  return self->wait_usec >= 0 ? self->wait_usec : pg_default_wait_usec ();
}

static void
pg_set_away_error (PgConn *self, const char *operation, GError **error)
{
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
               "%s: the case server at %s is not reachable; nothing was stored. It is tried "
               "again in the background: make the change again once it answers", operation,
               self->server);
}

/* The server went away (restarted, or the network dropped): a transaction that had
 * begun is lost whole, and said so by the statement that failed. The next one waits
 * for the server, up to the busy timeout, saying once on stderr (and to the station's
 * log) that it is waiting, then carries on in a new session. */
static gboolean
pg_reconnect (PgConn *self, const char *operation, GError **error)
{
  if (self->wait_usec == 0)
    {
      /* the workstation: nothing that could block its window; it reconnects on a
       * worker thread (pg_connect_session) */
      pg_set_away_error (self, operation, error);
      return FALSE;
    }
  gint64 deadline = g_get_monotonic_time () + pg_wait_usec (self);
  gboolean said = FALSE;
  for (;;)
    {
      PQreset (self->pg);  /* (the same connection object: its notice processor stays) */
      if (PQstatus (self->pg) == CONNECTION_OK && pg_set_session (self, NULL))
        {
          self->session++;
          self->lost = FALSE;
          if (said)
            g_printerr ("smearscope: the case server at %s answers again\n", self->server);
          return TRUE;
        }
      if (g_get_monotonic_time () >= deadline)
        break;
      if (!said)
        {
          g_printerr ("smearscope: the case server at %s is not answering; retrying...\n",
                      self->server);
          said = TRUE;
        }
      g_usleep (G_USEC_PER_SEC / 2);
    }
  g_autofree char *message = pg_message (self->pg);
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
               "%s: the case server at %s is not answering (waited %d s); nothing was stored. "
               "Is it running? Try again when it is back (%s)", operation, self->server,
               (int) (pg_wait_usec (self) / G_USEC_PER_SEC), message);
  return FALSE;
}

/* The workstation's way back (ss_store_reconnect_async): a new session made on a
 * worker thread, which touches nothing of the connection's; the window's thread then
 * takes it in between two actions. */
static gpointer
pg_connect_session (const char *location, gboolean read_only, int busy_timeout_ms,
                    GError **error)
{
  PGconn *pg = pg_connect (location, "smearscope", FALSE);
  if (PQstatus (pg) != CONNECTION_OK)
    {
      g_autofree char *message = pg_message (pg);
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                   "the case server is not reachable yet (%s)", message);
      PQfinish (pg);
      return NULL;
    }
  if (!pg_session_settings (pg, busy_timeout_ms, read_only, error))
    {
      PQfinish (pg);
      return NULL;
    }
  return pg;
}

static void
pg_drop_session (gpointer session)
{
  PQfinish (session);
}

static void
pg_adopt_session (SsStoreConn *conn, gpointer session)
{
  PgConn *self = PG_CONN (conn);
  PQfinish (self->pg);
  self->pg = session;
  self->lost = FALSE;
  /* every statement is prepared again in the new session on its next use */
  self->session++;
}

static gboolean
pg_connected (SsStoreConn *conn)
{
  return PQstatus (PG_CONN (conn)->pg) == CONNECTION_OK && !PG_CONN (conn)->lost;
}

static const char *
pg_server (SsStoreConn *conn)
{
  return PG_CONN (conn)->server;
}

static const char *
pg_login (SsStoreConn *conn)
{
  return PQuser (PG_CONN (conn)->pg);
}

static void
pg_set_reconnect_wait (SsStoreConn *conn, int milliseconds)
{
  PG_CONN (conn)->wait_usec = milliseconds < 0 ? -1 : (gint64) milliseconds * 1000;
}

/* Begin a transaction with sql; when the connection turns out dead before anything of
 * it reached the server, reconnect and begin again. */
static gboolean
pg_begin (PgConn *self, const char *sql, const char *operation, GError **error)
{
  if ((PQstatus (self->pg) != CONNECTION_OK || self->lost) && !pg_reconnect (self, operation, error))
    return FALSE;
  PGresult *result = PQexec (self->pg, sql);
  ExecStatusType status = PQresultStatus (result);
  /* a dead connection fails without a SQLSTATE of the server's, or with class 08 (or
   * 57P: the server shutting down) */
  gboolean ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  gboolean dead = !ok && pg_result_lost (self, result);
  if (!ok && !dead)
    pg_set_error (self, result, error, operation);
  PQclear (result);
  if (!dead)
    {
      self->in_transaction = ok;
      return ok;
    }
  self->lost = TRUE;
  self->in_transaction = pg_reconnect (self, operation, error)
                         && pg_exec (&self->conn, sql, operation, error);
  return self->in_transaction;
}

/* Transactions ----------------------------------------------------------------------- */

static gboolean
pg_begin_read (SsStoreConn *conn, const char *operation, GError **error)
{
  return pg_begin (PG_CONN (conn), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", operation,
                   error);
}

static void
pg_rollback (SsStoreConn *conn)
{
  PG_CONN (conn)->in_transaction = FALSE;
  PGTransactionStatusType status = PQtransactionStatus (PG_CONN (conn)->pg);
  if (status == PQTRANS_INTRANS || status == PQTRANS_INERROR)
    PQclear (PQexec (PG_CONN (conn)->pg, "ROLLBACK"));
}

/* The store's one write lock, held until the transaction ends: writers wait for it up to
 * lock_timeout (the busy timeout), then fail with 55P03, told as BUSY. Its key is the
 * application id, so no other program's advisory locks collide with it. */
static gboolean
pg_begin_write (SsStoreConn *conn, const char *operation, GError **error)
{
  g_autofree char *lock = g_strdup_printf ("BEGIN ISOLATION LEVEL READ COMMITTED; "
                                           "SELECT pg_advisory_xact_lock (%d)",
                                           SS_STORE_APPLICATION_ID);
  if (!pg_begin (PG_CONN (conn), lock, operation, error))
    {
      pg_rollback (conn);
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_commit (SsStoreConn *conn, const char *operation, GError **error)
{
  PgConn *self = PG_CONN (conn);
  self->in_transaction = FALSE;
  PGresult *result = PQexec (self->pg, "COMMIT");
  gboolean ok = PQresultStatus (result) == PGRES_COMMAND_OK
                && g_strcmp0 (PQcmdStatus (result), "COMMIT") == 0;
  if (!ok && PQresultStatus (result) == PGRES_COMMAND_OK)
    /* COMMIT of a transaction that had failed answers ROLLBACK */
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FAILED,
                 "%s: the case server rolled the change back; nothing was stored", operation);
  else if (!ok)
    pg_set_error (self, result, error, operation);
  PQclear (result);
  if (!ok)
    pg_rollback (conn);
  return ok;
}

/* Opening ---------------------------------------------------------------------------- */

static void
pg_close (SsStoreConn *conn)
{
  PgConn *self = PG_CONN (conn);
  PQfinish (self->pg);
  g_free (self->server);
  g_free (conn->location);
  g_free (conn);
}

static void
pg_set_busy_timeout (SsStoreConn *conn, int milliseconds)
{
  /* lock_timeout 0 would wait for ever, where a busy timeout of 0 means do not wait */
  g_autofree char *sql = g_strdup_printf ("SET lock_timeout = %d", MAX (milliseconds, 1));
  pg_exec (conn, sql, "setting how long to wait for other stations", NULL);
}

/* A password in the URI would stand in the process list and the shell's history for
 * any user of the station to read: libpq takes it from ~/.pgpass or PGPASSWORD. */
static gboolean
pg_check_uri (const char *uri, GError **error)
{
  char *parse_error = NULL;
  PQconninfoOption *options = PQconninfoParse (uri, &parse_error);
  if (options == NULL)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "the case store's address is not a PostgreSQL URI libpq understands (%s); "
                   "write it as postgresql://HOST:PORT/DATABASE?user=NAME",
                   parse_error != NULL ? g_strstrip (parse_error) : "out of memory");
      PQfreemem (parse_error);
      return FALSE;
    }
  gboolean has_password = FALSE;
  for (PQconninfoOption *option = options; option->keyword != NULL; option++)
    if (g_strcmp0 (option->keyword, "password") == 0 && option->val != NULL)
      has_password = TRUE;
  PQconninfoFree (options);
  if (has_password)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   "the case store's address holds a password, which other users of this "
                   "computer could read; remove it from the URI and put it in ~/.pgpass "
                   "(one line host:port:database:user:password, mode 0600) or in PGPASSWORD");
      return FALSE;
    }
  return TRUE;
}

static gboolean
pg_query_int (PgConn *self, const char *sql, gint64 *value, const char *operation,
              GError **error)
{
  PGresult *result = PQexec (self->pg, sql);
  gboolean ok = PQresultStatus (result) == PGRES_TUPLES_OK && PQntuples (result) == 1;
  if (ok)
    *value = g_ascii_strtoll (PQgetvalue (result, 0, 0), NULL, 10);
  else if (PQresultStatus (result) == PGRES_TUPLES_OK)
    g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_CORRUPT,
                 "%s: the table smearscope_store of %s should hold one row; restore the "
                 "store from a backup", operation, self->conn.location);
  else
    pg_set_error (self, result, error, operation);
  PQclear (result);
  return ok;
}

/* The schema's identity lives in the table smearscope_store (application id and
 * version, one row); a database without it holds no case store. */
static gboolean
pg_read_schema (SsStoreConn *conn, gint64 *application_id, gint64 *version, gint64 *n_objects,
                GError **error)
{
  PgConn *self = PG_CONN (conn);
  const char *operation = "reading the case store";
  gint64 has_table = 0;
  *application_id = 0;
  *version = 0;
  if (!pg_query_int (self, "SELECT count (*) FROM pg_catalog.pg_class c "
                     "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                     "WHERE n.nspname = current_schema () AND c.relkind IN ('r', 'v', 'p')",
                     n_objects, operation, error)
      || !pg_query_int (self, "SELECT count (*) FROM pg_catalog.pg_class c "
                        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = current_schema () AND c.relname = 'smearscope_store'",
                        &has_table, operation, error))
    return FALSE;
  if (!has_table)
    return TRUE;
  return pg_query_int (self, "SELECT application_id FROM smearscope_store", application_id,
                       operation, error)
         && pg_query_int (self, "SELECT schema_version FROM smearscope_store", version,
                          operation, error);
}

static gboolean
pg_write_schema (SsStoreConn *conn, GError **error)
{
  g_autofree char *sql = g_strdup_printf (
    "CREATE TABLE IF NOT EXISTS smearscope_store ("
    "  application_id BIGINT NOT NULL, schema_version INTEGER NOT NULL);"
    "DELETE FROM smearscope_store;"
    "INSERT INTO smearscope_store (application_id, schema_version) VALUES (%d, %d)",
    SS_STORE_APPLICATION_ID, SS_STORE_SCHEMA_VERSION);
  return pg_exec (conn, sql, "upgrading the case store's schema", error);
}

/* Where the server is, for messages: its host (or socket folder) and port. */
static char *
pg_server_name (PGconn *pg)
{
  const char *host = PQhost (pg);
  const char *port = PQport (pg);
  return g_strdup_printf ("%s%s%s", host != NULL && *host != '\0' ? host : "localhost",
                          port != NULL && *port != '\0' ? ":" : "", port != NULL ? port : "");
}

/* Durable commits whatever the server's default; floats written exactly; a writer waits
 * for another at most the busy timeout. Again after each reconnection. */
static gboolean
pg_session_settings (PGconn *pg, int busy_timeout_ms, gboolean read_only, GError **error)
{
  g_autofree char *settings = g_strdup_printf (
    "SET synchronous_commit = on; SET extra_float_digits = 3; SET lock_timeout = %d;%s",
    MAX (busy_timeout_ms, 1), read_only ? " SET default_transaction_read_only = on;" : "");
  PGresult *result = PQexec (pg, settings);
  gboolean ok = PQresultStatus (result) == PGRES_COMMAND_OK;
  if (!ok)
    {
      g_autofree char *message = g_strstrip (g_strdup (PQerrorMessage (pg)));
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                   "opening the case store: the case server refused the session's settings "
                   "(%s)", message);
    }
  PQclear (result);
  return ok;
}

static gboolean
pg_set_session (PgConn *self, GError **error)
{
  return pg_session_settings (self->pg, self->conn.busy_timeout_ms, self->conn.read_only, error);
}

/* Whether a failed connection is the server being away (down, restarting, unreachable)
 * rather than refusing this login or database. libpq gives no SQLSTATE for a failed
 * connection, so its message tells. */
static gboolean
pg_server_away (PGconn *pg)
{
  static const char *const away[] = { "Connection refused", "No such file or directory",
                                      "starting up", "shutting down", "in recovery",
                                      "not yet accepting connections",
                                      "timeout expired", "timed out",
                                      "server closed the connection", "No route to host" };
  const char *message = PQerrorMessage (pg);
  if (PQconnectionNeedsPassword (pg))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (away); i++)
    if (strstr (message, away[i]) != NULL)
      return TRUE;
  return FALSE;
}

static SsStoreConn *
pg_open (const char *uri, SsStoreOpenFlags flags, gboolean *created, GError **error)
{
  *created = FALSE;
  if (!pg_check_uri (uri, error))
    return NULL;
  PgConn *self = g_new0 (PgConn, 1);
  self->conn.backend = &ss_store_backend_pg;
  self->conn.location = g_strdup (uri);
  self->conn.read_only = (flags & SS_STORE_OPEN_READ_ONLY) != 0;
  self->conn.busy_timeout_ms = DEFAULT_BUSY_TIMEOUT_MS;
  self->wait_usec = -1;
  self->pg = pg_connect (uri, "smearscope", FALSE);
  self->server = pg_server_name (self->pg);
  /* A server restarting (or not up yet) is waited for, as a writer waits for the lock;
   * a wrong name, password or database is said at once. */
  gint64 deadline = g_get_monotonic_time ()
                    + ((flags & SS_STORE_OPEN_NO_WAIT) ? 0 : pg_default_wait_usec ());
  gboolean said = FALSE;
  while (PQstatus (self->pg) != CONNECTION_OK && pg_server_away (self->pg)
         && g_get_monotonic_time () < deadline)
    {
      if (!said)
        g_printerr ("smearscope: the case server at %s is not answering; retrying...\n",
                    self->server);
      said = TRUE;
      g_usleep (G_USEC_PER_SEC / 2);
      PQfinish (self->pg);
      self->pg = pg_connect (uri, "smearscope", FALSE);
    }
  if (said && PQstatus (self->pg) == CONNECTION_OK)
    g_printerr ("smearscope: the case server at %s answers again\n", self->server);
  if (PQstatus (self->pg) != CONNECTION_OK)
    {
      /* libpq's message runs over lines; a station shows one */
      g_autofree char *message = pg_message (self->pg);
      if (PQconnectionNeedsPassword (self->pg))
        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_FAILED,
                     "the case server at %s asks for a password; put it in ~/.pgpass or "
                     "PGPASSWORD, never in the URI (%s)", self->server, message);
      else
        g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                     "cannot reach the case server at %s: %s; is it running, and are the "
                     "database and user in %s right?", self->server, message, uri);
      pg_close (&self->conn);
      return NULL;
    }
  gint64 application_id = 0, version = 0, n_objects = 0;
  if (!pg_set_session (self, error)
      || !pg_read_schema (&self->conn, &application_id, &version, &n_objects, error))
    {
      pg_close (&self->conn);
      return NULL;
    }
  /* As a missing file: the database is the lab's, made by whoever runs the server,
   * and the first case created in it makes the store. */
  if (application_id == 0 && n_objects == 0 && !(flags & SS_STORE_OPEN_CREATE))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NO_STORE,
                   "no case store in %s yet; creating a case starts one there, or choose the "
                   "database that holds the cases", uri);
      pg_close (&self->conn);
      return NULL;
    }
  return &self->conn;
}

/* Check ------------------------------------------------------------------------------ */

/* The server keeps its pages itself; what db check can see from here is a row that
 * refers to nothing (foreign keys switched off by hand) and the triggers that keep the
 * audit tables append-only, missing or disabled. */
static gboolean
pg_check_engine (SsStoreConn *conn, GError **error)
{
  PgConn *self = PG_CONN (conn);
  static const char *const orphans =
    "SELECT 'cells', c.id, 'images' FROM cells c LEFT JOIN images i ON i.id = c.image_id "
    "  WHERE i.id IS NULL "
    "UNION ALL SELECT 'images', i.id, 'cases' FROM images i "
    "  LEFT JOIN cases c ON c.id = i.case_id WHERE c.id IS NULL "
    "UNION ALL SELECT 'images', i.id, 'models' FROM images i "
    "  LEFT JOIN models m ON m.id = i.model_id WHERE i.model_id IS NOT NULL AND m.id IS NULL "
    "UNION ALL SELECT 'corrections', k.id, 'cells' FROM corrections k "
    "  LEFT JOIN cells c ON c.id = k.cell_id WHERE c.id IS NULL "
    "UNION ALL SELECT 'corrections', k.id, 'corrections' FROM corrections k "
    "  LEFT JOIN corrections u ON u.id = k.undoes WHERE k.undoes IS NOT NULL AND u.id IS NULL "
    "UNION ALL SELECT 'case_events', e.id, 'cases' FROM case_events e "
    "  LEFT JOIN cases c ON c.id = e.case_id WHERE c.id IS NULL "
    "UNION ALL SELECT 'truth_cells', t.id, 'images' FROM truth_cells t "
    "  LEFT JOIN images i ON i.id = t.image_id WHERE i.id IS NULL "
    "LIMIT 1";
  PGresult *result = PQexec (self->pg, orphans);
  if (PQresultStatus (result) != PGRES_TUPLES_OK)
    {
      pg_set_error (self, result, error, "checking foreign keys");
      PQclear (result);
      return FALSE;
    }
  if (PQntuples (result) > 0)
    {
      ss_store_check_failed (error, "%s row %s refers to a missing row of %s",
                             PQgetvalue (result, 0, 0), PQgetvalue (result, 0, 1),
                             PQgetvalue (result, 0, 2));
      PQclear (result);
      return FALSE;
    }
  PQclear (result);

  static const char *const triggers[] = { "corrections_no_update", "corrections_no_delete",
                                          "corrections_no_truncate", "case_events_no_update",
                                          "case_events_no_delete", "case_events_no_truncate",
                                          /* schema 8 */
                                          "images_signed_case", "cells_signed_case",
                                          "truth_cells_signed_case", "corrections_signed_case" };
  for (guint i = 0; i < G_N_ELEMENTS (triggers); i++)
    {
      gint64 present = 0;
      /* the names are ours, not the user's: no parameter needed */
      g_autofree char *sql = g_strdup_printf (
        "SELECT count (*) FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c "
        "ON c.oid = t.tgrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema () AND t.tgname = '%s' AND t.tgenabled <> 'D'",
        triggers[i]);
      if (!pg_query_int (self, sql, &present, "checking the schema", error))
        return FALSE;
      if (!present)
        return ss_store_check_failed (error, "the trigger %s that keeps %s is missing or "
                                      "disabled (the schema was changed outside Smearscope)",
                                      triggers[i], i < 3 ? "corrections append-only"
                                                   : i < 6 ? "case events append-only"
                                                   : "a signed case as it was signed");
    }
  return TRUE;
}

/* Backup ----------------------------------------------------------------------------- */

static gboolean
pg_backup (SsStoreConn *conn, const char *path, GError **error)
{
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
               "backing up the case store: %s is on a PostgreSQL server, whose backups are "
               "the server's (pg_dump, or the lab's backup of the server); db backup copies "
               "SQLite stores", conn->location);
  return FALSE;
}

/* Copy ------------------------------------------------------------------------------- */

/* Rows copied in with their ids leave the identity sequences behind them. */
static gboolean
pg_after_copy (SsStoreConn *conn, GError **error)
{
  static const char *const tables[] = { "models", "cases", "images", "cells", "corrections",
                                        "case_events", "truth_cells", "lab_models", "model_uses" };
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      /* the table names are ours, not the user's */
      g_autofree char *sql = g_strdup_printf (
        "SELECT setval (pg_get_serial_sequence ('%s', 'id'), "
        "coalesce ((SELECT max (id) FROM %s), 0) + 1, false)", tables[i], tables[i]);
      if (!pg_exec (conn, sql, "copying the case store", error))
        return FALSE;
    }
  return TRUE;
}

/* Watching ---------------------------------------------------------------------------- */

/* smearscope_append_correction and the sign-off trigger notify smearscope_case_ID when
 * they commit; this source listens on a connection of its own (the store's is busy
 * with statements, and a notification only arrives between them). When the server goes
 * away it calls back (the watcher's reload then finds the server away) and connects
 * again without ever blocking the main loop: PQconnectStartParams, then PQconnectPoll
 * each time the socket is ready, at most PG_WATCH_CONNECT_USEC per attempt, one attempt
 * a second; once back it calls back again, since it may have missed changes. */
typedef struct {
  GSource  source;
  char    *location;
  gint64   case_id;
  PGconn  *pg;
  gboolean listening;        /* connected, LISTEN sent */
  gboolean told_down;        /* called back for the server being away, not listening
                              * since: the next failed attempts say nothing more */
  gint64   connect_deadline; /* of the attempt under way */
  gpointer fd_tag;
} PgWatch;

#define PG_WATCH_RETRY_USEC (G_USEC_PER_SEC)
#define PG_WATCH_CONNECT_USEC (5 * G_USEC_PER_SEC)

static void
pg_watch_set_fd (PgWatch *watch, GIOCondition condition)
{
  if (watch->fd_tag != NULL)
    g_source_remove_unix_fd (&watch->source, g_steal_pointer (&watch->fd_tag));
  /* the socket may change from one poll to the next (libpq tries each address) */
  if (watch->pg != NULL && PQsocket (watch->pg) >= 0)
    watch->fd_tag = g_source_add_unix_fd (&watch->source, PQsocket (watch->pg), condition);
}

static gboolean
pg_watch_listen (PgWatch *watch, GError **error)
{
  /* the channel's name is made of an integer, not of anything a user typed */
  g_autofree char *listen = g_strdup_printf ("LISTEN smearscope_case_%" G_GINT64_FORMAT,
                                             watch->case_id);
  PGresult *result = PQexec (watch->pg, listen);
  gboolean ok = PQresultStatus (result) == PGRES_COMMAND_OK;
  PQclear (result);
  if (!ok)
    {
      g_autofree char *message = pg_message (watch->pg);
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_IO,
                   "watching the case: cannot listen to the case server: %s", message);
      return FALSE;
    }
  watch->listening = TRUE;
  watch->told_down = FALSE;
  g_source_set_ready_time (&watch->source, -1);
  pg_watch_set_fd (watch, G_IO_IN);
  return TRUE;
}

/* Connection lost, or an attempt failed: try again in a second. */
static void
pg_watch_lose (PgWatch *watch)
{
  if (watch->fd_tag != NULL)
    g_source_remove_unix_fd (&watch->source, g_steal_pointer (&watch->fd_tag));
  g_clear_pointer (&watch->pg, PQfinish);
  watch->listening = FALSE;
  g_source_set_ready_time (&watch->source, g_get_monotonic_time () + PG_WATCH_RETRY_USEC);
}

/* An attempt failed or the connection was lost: try again in a second. TRUE when the
 * watcher is to be told (once, until the watch listens again): its reload then finds
 * the server away and says so, also when the server went before the watch's first
 * connection was made. */
static gboolean
pg_watch_failed (PgWatch *watch)
{
  pg_watch_lose (watch);
  gboolean tell = !watch->told_down;
  watch->told_down = TRUE;
  return tell;
}

/* Begin an attempt without waiting for it; TRUE when it failed at once and the watcher
 * is to be told (pg_watch_failed). */
static gboolean
pg_watch_start (PgWatch *watch)
{
  watch->pg = pg_connect (watch->location, "smearscope-watch", TRUE);
  if (watch->pg == NULL || PQstatus (watch->pg) == CONNECTION_BAD)
    return pg_watch_failed (watch);
  watch->connect_deadline = g_get_monotonic_time () + PG_WATCH_CONNECT_USEC;
  /* libpq's first poll comes once the socket is writable */
  g_source_set_ready_time (&watch->source, watch->connect_deadline);
  pg_watch_set_fd (watch, G_IO_OUT);
  return FALSE;
}

/* One step of an attempt under way; TRUE once the watch listens again, or when the
 * attempt failed and the watcher is to be told (pg_watch_failed). */
static gboolean
pg_watch_poll (PgWatch *watch)
{
  if (g_get_monotonic_time () >= watch->connect_deadline)
    return pg_watch_failed (watch);
  switch (PQconnectPoll (watch->pg))
    {
    case PGRES_POLLING_OK:
      if (pg_watch_listen (watch, NULL))
        return TRUE;
      return pg_watch_failed (watch);
    case PGRES_POLLING_READING:
      pg_watch_set_fd (watch, G_IO_IN);
      return FALSE;
    case PGRES_POLLING_WRITING:
      pg_watch_set_fd (watch, G_IO_OUT);
      return FALSE;
    default:
      return pg_watch_failed (watch);
    }
}

static gboolean
pg_watch_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  PgWatch *watch = (PgWatch *) source;
  gboolean changed = FALSE;
  if (watch->pg == NULL)
    changed = pg_watch_start (watch);
  else if (!watch->listening)
    {
      /* the server is back: what happened meanwhile was not heard, so call back */
      changed = pg_watch_poll (watch);
    }
  else if (!PQconsumeInput (watch->pg))
    changed = pg_watch_failed (watch);
  for (PGnotify *notify; watch->listening && (notify = PQnotifies (watch->pg)) != NULL;)
    {
      changed = TRUE;
      PQfreemem (notify);
    }
  if (changed && callback != NULL)
    return callback (user_data);
  return G_SOURCE_CONTINUE;
}

static void
pg_watch_finalize (GSource *source)
{
  PgWatch *watch = (PgWatch *) source;
  g_clear_pointer (&watch->pg, PQfinish);
  g_free (watch->location);
}

static GSourceFuncs pg_watch_funcs = {
  .dispatch = pg_watch_dispatch,
  .finalize = pg_watch_finalize,
};

static GSource *
pg_watch (SsStoreConn *conn, gint64 case_id, GError **error)
{
  GSource *source = g_source_new (&pg_watch_funcs, sizeof (PgWatch));
  g_source_set_static_name (source, "smearscope case watch (PostgreSQL)");
  PgWatch *watch = (PgWatch *) source;
  watch->location = g_strdup (conn->location);
  watch->case_id = case_id;
  /* the first connection is begun in the main loop, as every later one, never waited
   * for here: the window opening the case does not stop for a server slow to answer
   * (up to connect_timeout). Once it listens, the watch calls back, and its caller
   * reads what changed since it read the case: nothing made meanwhile is missed. */
  g_source_set_ready_time (source, 0);
  return source;
}

const SsStoreBackend ss_store_backend_pg = {
  .name = "PostgreSQL",
  .migrations = ss_store_pg_migrations,
  .append_correction = "SELECT smearscope_append_correction (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
  .roles_on_server = TRUE,
  .init_roles = "SELECT smearscope_init_roles (), smearscope_init_model_roles ()",
  .add_user = "SELECT smearscope_add_user (?1, ?2)",
  .open = pg_open,
  .close = pg_close,
  .discard = NULL,
  .set_busy_timeout = pg_set_busy_timeout,
  .read_schema = pg_read_schema,
  .before_migrate = NULL,
  .write_schema = pg_write_schema,
  .exec = pg_exec,
  .begin_read = pg_begin_read,
  .begin_write = pg_begin_write,
  .commit = pg_commit,
  .rollback = pg_rollback,
  .prepare = pg_prepare,
  .finalize = pg_finalize,
  .reset = pg_reset,
  .bind_int64 = pg_bind_int64,
  .bind_double = pg_bind_double,
  .bind_text = pg_bind_text,
  .bind_blob = pg_bind_blob,
  .step = pg_step,
  .column_is_null = pg_column_is_null,
  .column_int64 = pg_column_int64,
  .column_double = pg_column_double,
  .column_text = pg_column_text,
  .column_blob = pg_column_blob,
  .check_engine = pg_check_engine,
  .backup = pg_backup,
  .after_copy = pg_after_copy,
  .watch = pg_watch,
  /* the watch (LISTEN) hears the other notifications from the schema's functions */
  .notify_image = "SELECT pg_notify ('smearscope_case_' || ?1::text, 'image')",
  .connected = pg_connected,
  .server = pg_server,
  .login = pg_login,
  .set_reconnect_wait = pg_set_reconnect_wait,
  .connect_session = pg_connect_session,
  .adopt_session = pg_adopt_session,
  .drop_session = pg_drop_session,
};
