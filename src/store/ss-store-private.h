/* What only the store itself uses: the store's insides shared by its files, the
 * schema, the blob formats and the hash chain. */
#pragma once

#include "ss-store-backend.h"
#include "ss-store.h"

G_BEGIN_DECLS

/* The schema's application id: "SSCS" big-endian. SQLite keeps it in PRAGMA
 * application_id (so `file` and other tools can tell a case store from any other SQLite
 * file), PostgreSQL in the smearscope_store table. */
#define SS_STORE_APPLICATION_ID 0x53534353

/* The SQL that brings a store from schema version i to i + 1, for i = 0 .. version-1,
 * one list per dialect (ss-store-schema.c). */
extern const char *const ss_store_migrations[SS_STORE_SCHEMA_VERSION];
extern const char *const ss_store_pg_migrations[SS_STORE_SCHEMA_VERSION];

/* The statements of the store's logic, in the SQL both engines read (ss-store.c). */
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
  STMT_IMAGE_SAME_PICTURE,
  STMT_CELL_INSERT,
  STMT_CELL_LIST,
  STMT_CELL_GET,
  STMT_CELL_STATE,
  STMT_CELL_SET_STATE,
  STMT_CELL_LAST_CHANGE,
  STMT_USER_ROLE,
  STMT_USER_ANY,
  STMT_USER_PUT,
  STMT_USER_LIST,
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
  STMT_TAUGHT_PER_CASE,
  N_STMTS
} StmtId;

struct _SsStore
{
  GObject      parent_instance;

  SsStoreConn *conn;
  SsStoreStmt *stmts[N_STMTS];
  GByteArray  *mask_blob;     /* scratch for encoding masks, reused cell after cell */
  GByteArray  *nucleus_blob;
};

/* The statement id, reset, or prepared on first use. */
SsStoreStmt *ss_store_stmt (SsStore *self, StmtId id, const char *operation, GError **error);
/* A statement used once (db check's walks), finalized by the caller. */
SsStoreStmt *ss_store_prepare_once (SsStore *self, const char *sql, const char *operation,
                                    GError **error);
/* Step a statement that returns no rows (or whose row is not read) and reset it. */
gboolean     ss_store_run (SsStore *self, SsStoreStmt *stmt, const char *operation,
                           GError **error);
gboolean     ss_store_begin_read (SsStore *self, const char *operation, GError **error);
gboolean     ss_store_begin_write (SsStore *self, const char *operation, GError **error);
gboolean     ss_store_commit (SsStore *self, const char *operation, GError **error);
void         ss_store_rollback (SsStore *self);
char        *ss_store_now (void);

/* Shared by the cases and the corrections (ss-store.c). */
gboolean     ss_store_validate_user (const char *user, GError **error);
gboolean     ss_store_validate_cell (const SsCell *cell, guint index, const SsImageInfo *info,
                                     GError **error);
/* On a file on which users are recorded: user must be one, of a role at least needed.
 * Always TRUE on a server, which enforces the roles itself. Inside a transaction. */
gboolean     ss_store_check_role (SsStore *self, const char *user, SsRole needed,
                                  const char *operation, GError **error);
gint64       ss_store_case_id (SsStore *self, const char *accession, const char *operation,
                               GError **error);
gint64       ss_store_case_for_change (SsStore *self, const char *accession,
                                       const char *operation, GError **error);
gboolean     ss_store_touch_case (SsStore *self, gint64 case_id, const char *now,
                                  const char *operation, GError **error);
gint64       ss_store_insert_cell (SsStore *self, SsStoreStmt *stmt, gint64 image_id,
                                   const SsCell *cell, gboolean user_drawn,
                                   const char *operation, GError **error);
gboolean     ss_store_check_failed (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* The schema (ss-store-schema.c): refuse what is not a case store of a known version,
 * and migrate an older one unless the connection is read-only. */
gboolean     ss_store_schema_open (SsStoreConn *conn, GError **error);

/* The audit trail (ss-store-audit.c): the chain of corrections and the sign-off
 * history, each verified as db check does. */
gboolean     ss_store_check_chain (SsStore *self, char **head_hash, gint64 *n_corrections,
                                   GError **error);
gboolean     ss_store_check_replay (SsStore *self, GError **error);
gboolean     ss_store_check_case_events (SsStore *self, GError **error);

/* Masks as blobs: LEB128 varints width, height, n_runs, then the runs. Most runs are
 * shorter than 128 pixels, so a mask costs about a byte a run instead of four. */
/* Encodes into out (emptied first); FALSE, and out empty, when there is no mask. */
gboolean  ss_store_rle_to_blob (const SsRle *rle, GByteArray *out);
gboolean  ss_store_rle_from_blob (SsRle *rle, const guint8 *data, gsize size);

/* Class probabilities as SS_N_CLASSES little-endian float32. */
void      ss_store_probabilities_to_blob (const float probabilities[SS_N_CLASSES],
                                          guint8 blob[SS_N_CLASSES * 4]);
gboolean  ss_store_probabilities_from_blob (float probabilities[SS_N_CLASSES],
                                            const guint8 *data, gsize size);

/* The hex SHA-256 of one corrections row, chained to the hash of the row before it
 * (64 zeros for the first row). docs/case-store.md spells out the bytes hashed. */
char     *ss_store_correction_hash (const char *prev_hash, gint64 id, gint64 cell_id,
                                    const char *kind, int old_class, int new_class,
                                    const char *user, const char *at, gint64 undoes);

/* One field of a hashed row, as "<byte length>:<bytes>;" (an integer as its decimal
 * text): the encoding of the corrections' chain, and of the model uses' chain. */
void      ss_store_hash_field (GChecksum *checksum, const char *value);
void      ss_store_hash_integer (GChecksum *checksum, gint64 value);

/* The lab models (ss-store-models.c): every model's bytes against its SHA-256, the
 * chain of model uses, and each rollback against the history before it. */
gboolean  ss_store_check_lab_models (SsStore *self, GError **error);

/* ss_store_check_role, saying "only ACTION" when it refuses. */
gboolean  ss_store_check_role_to (SsStore *self, const char *user, SsRole needed,
                                  const char *action, const char *operation, GError **error);

#define SS_STORE_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

G_END_DECLS
