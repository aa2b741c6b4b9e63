/* The case store: cases, analysed images, cells, the audit trail of corrections, and
 * the counts derived from them, in one SQLite file or on a PostgreSQL server. The API
 * speaks in cells and cases; no caller sees SQL, so either backend stands behind the
 * same functions. */
#pragma once

#include <gio/gio.h>

#include "ss-cell.h"
#include "ss-counts.h"

G_BEGIN_DECLS

/* The schema this build writes; files with a higher user_version are refused. */
#define SS_STORE_SCHEMA_VERSION 9

#define SS_STORE_ERROR (ss_store_error_quark ())
GQuark ss_store_error_quark (void);

typedef enum {
  SS_STORE_ERROR_FAILED,        /* anything SQLite reports that has no better name */
  SS_STORE_ERROR_NO_STORE,      /* the file does not exist */
  SS_STORE_ERROR_BUSY,          /* another program held the write lock too long */
  SS_STORE_ERROR_READ_ONLY,     /* the file or its folder cannot be written */
  SS_STORE_ERROR_CORRUPT,       /* damaged or truncated file */
  SS_STORE_ERROR_NOT_A_STORE,   /* not SQLite, or another program's SQLite file */
  SS_STORE_ERROR_NEWER_SCHEMA,  /* written by a newer Smearscope */
  SS_STORE_ERROR_FULL,          /* the disk is full */
  SS_STORE_ERROR_IO,            /* the operating system failed a read or write */
  SS_STORE_ERROR_NOT_FOUND,     /* no such case, image, cell or correction */
  SS_STORE_ERROR_EXISTS,        /* the accession number is taken */
  SS_STORE_ERROR_INVALID,       /* a bad argument: class, empty name, foreign cell */
  SS_STORE_ERROR_SIGNED,        /* the case is signed and can no longer change */
  SS_STORE_ERROR_CHECK_FAILED,  /* ss_store_check found a problem; the message names it */
  SS_STORE_ERROR_STALE,         /* the cell changed since the caller loaded it: reload */
  SS_STORE_ERROR_FORBIDDEN,     /* the user's (or the login's) role does not allow it */
} SsStoreError;

/* Who may do what: a technician analyses and corrects; a hematologist also signs off and
 * reopens; an admin also adds users. On a PostgreSQL server the server enforces them
 * (database roles and grants); on a SQLite file the program checks them once any user
 * is recorded, and the file's owner can do anything (docs/case-store.md, "Roles"). */
typedef enum {
  SS_ROLE_TECHNICIAN,
  SS_ROLE_HEMATOLOGIST,
  SS_ROLE_ADMIN,
} SsRole;

const char *ss_role_name (SsRole role);  /* "technician", "hematologist", "admin" */
gboolean    ss_role_from_name (const char *name, SsRole *role);

typedef enum {
  SS_STORE_OPEN_DEFAULT   = 0,       /* read-write; the file must exist */
  SS_STORE_OPEN_CREATE    = 1 << 0,  /* create the file (mode 0600) and its folder */
  SS_STORE_OPEN_READ_ONLY = 1 << 1,  /* never write, not even a migration */
  SS_STORE_OPEN_NO_WAIT   = 1 << 2,  /* a case server that is away fails the open at once
                                      * (SS_STORE_ERROR_IO) instead of being waited for */
} SsStoreOpenFlags;

typedef enum {
  SS_CASE_OPEN,
  SS_CASE_REVIEWED,
  SS_CASE_SIGNED,
} SsCaseStatus;

const char *ss_case_status_name (SsCaseStatus status);  /* "open", "reviewed", "signed" */

typedef struct {
  gint64        id;
  char         *accession;
  char         *patient_ref;   /* may be NULL, like the three below */
  char         *specimen;
  char         *stain;
  char         *notes;
  SsCaseStatus  status;
  char         *signed_by;     /* NULL until signed */
  char         *signed_at;     /* ISO 8601 UTC, NULL until signed */
  char         *created_at;
  char         *updated_at;
  int           n_images;
  gint64        n_cells;       /* not deleted */
} SsCase;

void ss_case_free (SsCase *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsCase, ss_case_free)

/* What the analysis knows of one image when it hands it to the store. */
typedef struct {
  const char *path;
  const char *sha256;          /* hex, of the file's bytes (ss_file_sha256, ss-models.h) */
  int         width, height;
  const char *model_name;      /* the model that found and classified the cells */
  const char *model_version;
  const char *model_checksum;
  double      cell_diameter;   /* the white cell the analysis assumed, px; 0: not known */
  const char *scale_source;    /* "setting", "red-cells" or "fallback"; NULL: not known */
  gboolean    once_per_case;   /* refuse it (SS_STORE_ERROR_EXISTS, nothing stored) when the
                                * case has a field of the same SHA-256 already: an analysis
                                * adds a picture once, its cells counted once */
} SsImageInfo;

typedef struct {
  gint64     id;
  gint64     case_id;
  char      *path;
  char      *sha256;
  int        width, height;
  char      *analysed_at;
  char      *model_name;       /* NULL if no model was recorded */
  char      *model_version;
  char      *model_checksum;
  double     cell_diameter;    /* 0 for images stored before schema 3 */
  char      *scale_source;     /* NULL for images stored before schema 3 */
  GPtrArray *cells;            /* SsCell*, NULL unless asked for */
} SsImageRecord;

void ss_image_record_free (SsImageRecord *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsImageRecord, ss_image_record_free)

typedef enum {
  SS_CORRECTION_RELABEL,
  SS_CORRECTION_ADD,
  SS_CORRECTION_DELETE,
  SS_CORRECTION_RESTORE,
  SS_CORRECTION_CONFIRM,   /* a person agrees with the cell's class; nothing changes */
} SsCorrectionKind;

const char *ss_correction_kind_name (SsCorrectionKind kind);

typedef struct {
  gint64            id;
  gint64            cell_id;
  gint64            image_id;
  SsCorrectionKind  kind;
  int               old_class;  /* SS_CLASS_NONE for an added cell */
  int               new_class;
  char             *user;
  char             *at;         /* ISO 8601 UTC with microseconds */
  gint64            undoes;     /* the correction this one reverses, 0 if none */
  char             *hash;       /* hex SHA-256 chaining this row to the one before */
} SsCorrection;

void ss_correction_free (SsCorrection *correction);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsCorrection, ss_correction_free)

typedef enum {
  SS_CASE_EVENT_SIGNED,
  SS_CASE_EVENT_REOPENED,
} SsCaseEventKind;

const char *ss_case_event_kind_name (SsCaseEventKind kind);  /* "signed", "reopened" */

/* One row of a case's append-only sign-off history. */
typedef struct {
  gint64           id;
  gint64           case_id;
  SsCaseEventKind  kind;
  char            *user;
  char            *at;      /* ISO 8601 UTC with microseconds */
  char            *reason;  /* why it was reopened; NULL for "signed" */
} SsCaseEvent;

void ss_case_event_free (SsCaseEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsCaseEvent, ss_case_event_free)

#define SS_TYPE_STORE (ss_store_get_type ())
G_DECLARE_FINAL_TYPE (SsStore, ss_store, SS, STORE, GObject)

/* An SsStore is used by one thread at a time; a worker thread opens its own (several
 * connections to one file are safe, in one process or several).
 *
 * Open (and create or migrate) the store at path: a file, or a postgresql:// URI (which
 * may not hold a password: ~/.pgpass or PGPASSWORD). A file that is not a case store, is
 * damaged, read-only (unless READ_ONLY is asked) or from a newer version is refused
 * with an error that says so. */
SsStore    *ss_store_open (const char *path, SsStoreOpenFlags flags, GError **error);
/* Whether location is a server's (a postgresql:// or postgres:// URI), not a file. */
gboolean    ss_store_is_server_location (const char *location);
const char *ss_store_get_path (SsStore *self);
/* How long a writer waits for another program's write to finish before giving up with
 * SS_STORE_ERROR_BUSY (default 30 s). */
void        ss_store_set_busy_timeout (SsStore *self, int milliseconds);

/* A server that goes away (docs/case-store.md, "Reconnecting"). By default an action
 * that finds it away waits for it up to $SMEARSCOPE_RECONNECT_WAIT seconds (30), trying
 * again every half second. milliseconds 0: it fails at once with SS_STORE_ERROR_IO and
 * makes no attempt to reach the server on the caller's thread, which therefore never
 * blocks on it (the workstation's window); ss_store_reconnect_async brings it back.
 * -1: the default again. Nothing to do on a file. */
void        ss_store_set_reconnect_wait (SsStore *self, int milliseconds);
/* FALSE once the store's connection to its server is known to be lost (a file: TRUE). */
gboolean    ss_store_get_connected (SsStore *self);
/* "HOST:PORT" (or the socket folder) of the store's server; NULL for a file. */
const char *ss_store_get_server (SsStore *self);
/* Try once to reach the server again, on a worker thread (up to its connect_timeout,
 * 10 s by default, there); _finish, on the store's thread between two actions, takes
 * the new session in (statements are prepared again on their next use), or fails with
 * SS_STORE_ERROR_IO when the server is still away. Succeeds at once on a file. */
void        ss_store_reconnect_async (SsStore *self, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
gboolean    ss_store_reconnect_finish (SsStore *self, GAsyncResult *result, GError **error);

/* Cases. Optional fields may be NULL. */
SsCase     *ss_store_create_case (SsStore *self, const char *accession,
                                  const char *patient_ref, const char *specimen,
                                  const char *stain, const char *notes, GError **error);
SsCase     *ss_store_get_case (SsStore *self, const char *accession, GError **error);
GPtrArray  *ss_store_list_cases (SsStore *self, GError **error);  /* SsCase*, newest first */
/* How many cells each case teaches a lab's learning (issue 30): its reviewed cells
 * (docs/case-store.md, "Reviewed cells"), every kept cell of a signed case (the sign-off
 * confirms it), and a deleted cell only when a person deleted what the model found (it
 * teaches "no white cell"; one drawn and deleted teaches nothing). accession ->
 * GINT_TO_POINTER (count), for the cases that teach anything. */
GHashTable *ss_store_taught_per_case (SsStore *self, GError **error);
/* Change the descriptive fields of an open case; NULL leaves a field as it is. */
gboolean    ss_store_update_case (SsStore *self, const char *accession,
                                  const char *patient_ref, const char *specimen,
                                  const char *stain, const char *notes, GError **error);
/* Only a case without images can be deleted: once cells exist, their history stays. */
gboolean    ss_store_delete_case (SsStore *self, const char *accession, GError **error);
/* Mark an open case as reviewed by user (a correction does not do it by itself). */
gboolean    ss_store_mark_reviewed (SsStore *self, const char *accession, GError **error);
/* Sign the case: after this its cells can no longer change. Records a "signed" event. */
gboolean    ss_store_sign_case (SsStore *self, const char *accession, const char *user,
                                GError **error);
/* Reopen a signed case: its status goes back to open, its signature is cleared, and who
 * reopened it, when and why is kept as a "reopened" event. Refused unless the case is
 * signed; reason must not be empty. */
gboolean    ss_store_reopen_case (SsStore *self, const char *accession, const char *user,
                                  const char *reason, GError **error);
/* The sign-off history of a case (SsCaseEvent*), oldest first. */
GPtrArray  *ss_store_list_case_events (SsStore *self, const char *accession, GError **error);

/* Store one analysed image and all its cells in one transaction: either all of it is
 * stored or none. Sets each cell's id; returns the image id, or 0 on error. */
gint64      ss_store_add_image (SsStore *self, const char *accession, const SsImageInfo *info,
                                GPtrArray *cells, GError **error);
/* The images of a case, oldest first, with their cells (deleted ones too, flagged)
 * when with_cells. Cells come with their reviewed flag (docs/case-store.md, "Reviewed
 * cells"), as from ss_store_get_cell. */
GPtrArray  *ss_store_list_images (SsStore *self, const char *accession, gboolean with_cells,
                                  GError **error);
/* The cells of one image (deleted ones too, flagged), as ss_store_list_images gives them. */
GPtrArray  *ss_store_list_image_cells (SsStore *self, gint64 image_id, GError **error);
SsCell     *ss_store_get_cell (SsStore *self, gint64 cell_id, GError **error);

/* Corrections: each changes one cell of the named case and appends one row to the
 * audit trail in the same durable transaction. They return the correction id, 0 when
 * there was nothing to change (relabel to the class the cell has), or -1 on error. */
gint64      ss_store_relabel_cell (SsStore *self, const char *accession, gint64 cell_id,
                                   int new_class, const char *user, GError **error);
gint64      ss_store_delete_cell (SsStore *self, const char *accession, gint64 cell_id,
                                  const char *user, GError **error);
gint64      ss_store_restore_cell (SsStore *self, const char *accession, gint64 cell_id,
                                   const char *user, GError **error);
/* A cell a person drew: stored with origin "user" and its "add" correction; sets
 * cell->id. cell->current_class is its class. */
gint64      ss_store_add_cell (SsStore *self, const char *accession, gint64 image_id,
                               SsCell *cell, const char *user, GError **error);
/* A person looked at the cell and agrees with its class: appends a "confirm" row whose
 * old and new class are the cell's class, which stays as it is; the cell counts as
 * reviewed from then on. Refused for a deleted cell. Each call appends a row, also on
 * a cell already confirmed: a second person's agreement is part of the record. */
gint64      ss_store_confirm_cell (SsStore *self, const char *accession, gint64 cell_id,
                                   const char *user, GError **error);
/* Undo never erases: it appends the correction that reverses correction_id (relabel
 * back, restore a deleted cell, delete a restored or added one, and for a confirm a
 * confirm row with undoes set, which takes the confirmation back). Refused when the
 * cell has changed since, so that an undo cannot silently revert someone else's work. */
gint64      ss_store_undo (SsStore *self, const char *accession, gint64 correction_id,
                           const char *user, GError **error);
/* A relabel, delete, restore or confirm based on the cell as the caller loaded it:
 * refused with SS_STORE_ERROR_STALE, nothing stored, when another correction changed
 * the cell since (cell->version differs from expected_version). */
gint64      ss_store_correct_cell (SsStore *self, const char *accession, gint64 cell_id,
                                   SsCorrectionKind kind, int new_class,
                                   gint64 expected_version, const char *user, GError **error);
/* The audit trail of a case, oldest first; _since: only the corrections after after_id
 * (what a station watching the case has not seen yet). */
GPtrArray  *ss_store_list_corrections (SsStore *self, const char *accession, GError **error);
GPtrArray  *ss_store_list_corrections_since (SsStore *self, const char *accession,
                                             gint64 after_id, GError **error);

/* Ground truth: cells another tool or a person annotated, imported from an annotation
 * file (smearscope-cli import, docs/exchange.md "In"). A layer of its own beside the
 * model's cells: truth cells are never counted and never corrected. */
typedef struct {
  gint64  id;             /* store row id, 0 before it is stored */
  gint64  image_id;
  SsBox   box;            /* inside the image */
  int     cls;            /* SsCellClass, or SS_CLASS_NONE when the annotation has no
                           * type (BCCD's "WBC" boxes) */
  SsRle   mask;           /* over box; n_runs 0 when the annotation has no outline */
  char   *source_format;  /* "voc" or "coco"; the five strings are NULL before storing */
  char   *source_file;    /* the annotation file's name, without its folder */
  char   *source_sha256;  /* hex, of the annotation file's bytes */
  char   *imported_at;    /* ISO 8601 UTC with microseconds */
  char   *user;           /* who imported it */
} SsTruthCell;

SsTruthCell *ss_truth_cell_new (void);
void         ss_truth_cell_free (SsTruthCell *cell);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsTruthCell, ss_truth_cell_free)

/* The truth cells one annotation file gives one image. */
typedef struct {
  const char *image;          /* a file name, matched by its basename to the case's
                               * images, or an image's hex SHA-256 */
  const char *source_format;  /* "voc" or "coco" */
  const char *source_file;    /* the annotation file's name (its folder is dropped) */
  const char *source_sha256;  /* hex SHA-256 of the annotation file's bytes */
  int         width, height;  /* the image's size as the file gives it; 0: not given */
  GPtrArray  *cells;          /* SsTruthCell*; their id, image_id and strings are not read */
  const SsImageInfo *add_image;  /* NULL: the case must have the image. Else, when it has
                                  * none of that name, this image (of that file name) is
                                  * stored first, without analysis: no cells, no model */
} SsTruthImage;

/* Store the truth cells of n_images images of the case in one transaction: all of them
 * (and the images added for them, see add_image) or, on any error, none. Refused for a
 * signed case; for an image the case does not have, has twice under that name, or whose
 * size differs from the file's; for a cell whose box leaves its image or whose mask is
 * not the size of its box; and for an annotation file already imported for that image
 * (same SHA-256). Sets each cell's id. */
gboolean    ss_store_add_truth (SsStore *self, const char *accession, const SsTruthImage *images,
                                guint n_images, const char *user, GError **error);
/* The truth cells of one image (SsTruthCell*), in the order they were stored. */
GPtrArray  *ss_store_list_truth (SsStore *self, gint64 image_id, GError **error);

/* Cells per current class, deleted cells left out. */
gboolean    ss_store_case_counts (SsStore *self, const char *accession,
                                  int counts[SS_N_CLASSES], GError **error);
gboolean    ss_store_image_counts (SsStore *self, gint64 image_id, int counts[SS_N_CLASSES],
                                   GError **error);

/* The full check: SQLite integrity_check and foreign_key_check, the schema's triggers,
 * the hash chain of corrections, every cell's class and deleted flag against the
 * replay of its corrections, and every case's status against its sign-off events. FALSE with SS_STORE_ERROR_CHECK_FAILED naming the first
 * bad row. head_hash (may be NULL) receives the last hash of the chain. */
gboolean    ss_store_check (SsStore *self, char **head_hash, gint64 *n_corrections,
                            GError **error);
/* Watching a case for the other stations' changes: the source's callback (a
 * GSourceFunc, set with g_source_set_callback) runs in the context it is attached to
 * within about a second of any correction, sign-off or reopening of the case committed
 * by any connection, this one's too; the watcher reloads what it shows. On a server
 * through LISTEN/NOTIFY on a connection of the source's own, which it makes again by
 * itself when the server comes back (and then calls back, since it may have missed
 * changes); on a file by reading the file's data version twice a second (any commit to
 * the store calls back). Destroy the source to stop watching. */
GSource    *ss_store_watch_case (SsStore *self, const char *accession, GError **error);

/* A user recorded in the store with a role (on a server, the record of a login: the
 * login and its group role are the server's). */
typedef struct {
  char   *name;
  SsRole  role;
  char   *added_at;  /* ISO 8601 UTC */
} SsStoreUser;

void ss_store_user_free (SsStoreUser *user);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsStoreUser, ss_store_user_free)

/* The users recorded (SsStoreUser*), by name; empty while no roles are recorded. */
GPtrArray  *ss_store_list_users (SsStore *self, GError **error);
/* On a server, the login the store is connected as: the name every correction and
 * sign-off of this connection records (the server holds a login other than the store's
 * owner to it). NULL on a file. */
const char *ss_store_get_login (SsStore *self);

/* Roles. On a server, run by its owner (a login that may create roles): make this
 * database's group roles (DATABASE_technician, _hematologist, _admin) and their grants,
 * and close the database to every other login. Nothing to do on a file. */
gboolean    ss_store_init_roles (SsStore *self, GError **error);
/* Record name in role (and only that one). On a server, by the owner or an admin login:
 * the login name is made when missing (without a password) and put in the role's group. */
gboolean    ss_store_add_user (SsStore *self, const char *name, SsRole role, GError **error);

/* The lab's own cell-type models (issue 30, docs/case-store.md "Lab models"): model
 * files taught from the lab's corrections behind the guard (smearscope-cli learn),
 * stored with their bytes, and which one the lab uses. A model is offered by anyone who
 * may change the store; only an admin adopts one or rolls back. The shipped model is in
 * use while none is adopted. */
typedef struct {
  gint64    id;                  /* 0 before it is stored */
  char     *name;                /* a name for people, e.g. "celltype-lab-3" */
  char     *sha256;              /* hex, of the bytes */
  gint64    size;                /* bytes */
  gint64    parent_id;           /* the stored model it was taught from, 0: none stored */
  char     *parent_sha256;       /* the model file it was taught from; may be NULL */
  int       n_cells;             /* the lab's cells it learned from */
  char     *taught;              /* how many of each class: "neutrophil 12, basophil 2" */
  char     *cases;               /* the cases they came from: "A1, A2" */
  int       n_back;              /* the guard: the lab's held-back cells, right before/after */
  double    back_before, back_after;
  int       n_reference;         /* the guard: the reference cells, right before/after */
  double    reference_before, reference_after;
  double    margin;              /* how much worse on the reference it was allowed to be */
  int       n_earlier;           /* the guard's third figure: the cells taught before, in */
  double    earlier_before, earlier_after;  /* cases not taught now, right before/after */
  char     *earlier_cases;       /* those cases: "A1, A2"; "" (n_earlier 0): no such check;
                                  * n_earlier -1: not recorded (stored before schema 9) */
  char     *offered_by, *offered_at;
  char     *adopted_by, *adopted_at;  /* the last time it was put in use; NULL: never */
  gboolean  in_use;
} SsLabModel;

void ss_lab_model_free (SsLabModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsLabModel, ss_lab_model_free)

/* One row of the history of the model in use. */
typedef struct {
  gint64  id;
  char   *kind;       /* "use" or "rollback" */
  gint64  model_id;   /* the model in use after it; 0: the shipped model */
  char   *user;
  char   *at;         /* ISO 8601 UTC with microseconds */
  char   *hash;       /* hex SHA-256 chaining this row to the one before */
} SsModelUse;

void ss_model_use_free (SsModelUse *use);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsModelUse, ss_model_use_free)

/* Record a model offered by user: info's strings and figures (id, sha256, size,
 * parent_id, offered_*, adopted_* and in_use are not read; a name ending in "-lab-" is
 * given the number of lab models the store then holds plus one, counted inside the
 * write so that two stations offering at once get two numbers) and the model file's bytes
 * (at most SS_STORE_MAX_MODEL_BYTES). parent_id is set from parent_sha256 when the
 * store holds that model. Returns the new model's id; when the store holds these very
 * bytes already, their id, with *existed TRUE (may be NULL); 0 on error. */
#define SS_STORE_MAX_MODEL_BYTES (32 * 1024 * 1024)
gint64      ss_store_add_lab_model (SsStore *self, const SsLabModel *info, GBytes *bytes,
                                    const char *user, gboolean *existed, GError **error);
/* Every lab model (SsLabModel*), oldest first, with who adopted it and whether it is in
 * use; *in_use (may be NULL) gets the id of the one in use, 0 for the shipped model. */
GPtrArray  *ss_store_list_lab_models (SsStore *self, gint64 *in_use, GError **error);
/* One model with its bytes, their SHA-256 verified: bytes that no longer match are
 * refused with SS_STORE_ERROR_CORRUPT. */
SsLabModel *ss_store_get_lab_model (SsStore *self, gint64 id, GBytes **bytes, GError **error);
/* The id of the model in use (0: the shipped model), or -1 on error. */
gint64      ss_store_lab_model_in_use (SsStore *self, GError **error);
/* Put model id in use (an admin only; the history keeps the one it replaces). Refused
 * for a model not in the store, and for the one already in use. */
gboolean    ss_store_use_lab_model (SsStore *self, gint64 id, const char *user, GError **error);
/* Back to the model in use before the present one was put in use (the shipped model
 * when it was the first): an admin only; refused when the shipped model is in use.
 * Returns the id now in use (0: the shipped model), -1 on error. */
gint64      ss_store_rollback_lab_model (SsStore *self, const char *user, GError **error);
/* The history of the model in use (SsModelUse*), oldest first. */
GPtrArray  *ss_store_list_model_uses (SsStore *self, GError **error);

/* Copy the live store to path with SQLite's online backup (writers keep working);
 * the copy appears under its name only once complete. */
gboolean    ss_store_backup (SsStore *self, const char *path, GError **error);
/* Copy every row of source, ids and all, into target, which must hold no case (a new
 * store, on either backend): in one transaction of target, from one snapshot of source.
 * The audit chain and db check's chain head are the same in both afterwards. n_cases
 * (may be NULL) receives how many cases were copied. */
gboolean    ss_store_copy (SsStore *source, SsStore *target, gint64 *n_cases, GError **error);


G_END_DECLS
