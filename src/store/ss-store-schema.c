/* The schema of the case store, one migration per version. A migration is never
 * edited once released: a change of schema is a new entry at the end. docs/case-store.md
 * describes the tables for tools that read the file. */
#include "ss-store-private.h"

const char *const ss_store_migrations[SS_STORE_SCHEMA_VERSION] = {
  /* 0 -> 1: the first schema. */
  "CREATE TABLE models ("
  "  id       INTEGER PRIMARY KEY,"
  "  name     TEXT NOT NULL,"
  "  version  TEXT NOT NULL,"
  "  checksum TEXT NOT NULL,"
  "  UNIQUE (name, version, checksum));"

  "CREATE TABLE cases ("
  "  id          INTEGER PRIMARY KEY,"
  "  accession   TEXT NOT NULL UNIQUE CHECK (length (accession) BETWEEN 1 AND 64),"
  "  patient_ref TEXT,"
  "  specimen    TEXT,"
  "  stain       TEXT,"
  "  notes       TEXT,"
  "  status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'reviewed', 'signed')),"
  "  signed_by   TEXT,"
  "  signed_at   TEXT,"
  "  created_at  TEXT NOT NULL,"
  "  updated_at  TEXT NOT NULL,"
  "  CHECK ((status = 'signed') = (signed_by IS NOT NULL AND signed_at IS NOT NULL)));"

  "CREATE TABLE images ("
  "  id          INTEGER PRIMARY KEY,"
  "  case_id     INTEGER NOT NULL REFERENCES cases (id),"
  "  path        TEXT NOT NULL,"
  "  sha256      TEXT NOT NULL CHECK (length (sha256) = 64),"
  "  width       INTEGER NOT NULL CHECK (width > 0),"
  "  height      INTEGER NOT NULL CHECK (height > 0),"
  "  analysed_at TEXT NOT NULL,"
  "  model_id    INTEGER REFERENCES models (id));"
  "CREATE INDEX images_by_case ON images (case_id);"

  /* stored_class is the class the cell was stored with (the model's, or the one a
   * person drew it as); the corrections replayed from it must give current_class. */
  "CREATE TABLE cells ("
  "  id              INTEGER PRIMARY KEY,"
  "  image_id        INTEGER NOT NULL REFERENCES images (id),"
  "  x               INTEGER NOT NULL,"
  "  y               INTEGER NOT NULL,"
  "  width           INTEGER NOT NULL CHECK (width > 0),"
  "  height          INTEGER NOT NULL CHECK (height > 0),"
  "  mask            BLOB,"
  "  nucleus_mask    BLOB,"
  "  predicted_class INTEGER NOT NULL CHECK (predicted_class BETWEEN -1 AND 7),"
  "  confidence      REAL NOT NULL CHECK (confidence BETWEEN 0 AND 1),"
  "  probabilities   BLOB,"
  "  area            REAL,"
  "  perimeter       REAL,"
  "  circularity     REAL,"
  "  nucleus_area    REAL,"
  "  nc_ratio        REAL,"
  "  stored_class    INTEGER NOT NULL CHECK (stored_class BETWEEN 0 AND 7),"
  "  current_class   INTEGER NOT NULL CHECK (current_class BETWEEN 0 AND 7),"
  "  origin          TEXT NOT NULL CHECK (origin IN ('model', 'user')),"
  "  deleted         INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)));"
  /* Covering index: counts read it alone, never the rows with their masks. */
  "CREATE INDEX cells_by_image ON cells (image_id, deleted, current_class);"

  "CREATE TABLE corrections ("
  "  id        INTEGER PRIMARY KEY,"
  "  cell_id   INTEGER NOT NULL REFERENCES cells (id),"
  "  kind      TEXT NOT NULL CHECK (kind IN ('relabel', 'add', 'delete', 'restore')),"
  "  old_class INTEGER NOT NULL CHECK (old_class BETWEEN -1 AND 7),"
  "  new_class INTEGER NOT NULL CHECK (new_class BETWEEN 0 AND 7),"
  "  user      TEXT NOT NULL CHECK (length (user) > 0),"
  "  at        TEXT NOT NULL,"
  "  undoes    INTEGER REFERENCES corrections (id),"
  "  prev_hash TEXT NOT NULL,"
  "  hash      TEXT NOT NULL UNIQUE);"
  "CREATE INDEX corrections_by_cell ON corrections (cell_id, id);"
  "CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections"
  "  BEGIN SELECT RAISE (ABORT, 'corrections are append-only: rows cannot be changed'); END;"
  "CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections"
  "  BEGIN SELECT RAISE (ABORT, 'corrections are append-only: rows cannot be deleted'); END;"

  /* Counts are derived, never stored: this view is the one definition other tools can
   * read. Deleted cells are left out; not_a_cell is counted here but is no WBC. */
  "CREATE VIEW case_counts AS"
  "  SELECT images.case_id AS case_id, cells.current_class AS class, count (*) AS n"
  "  FROM cells JOIN images ON images.id = cells.image_id"
  "  WHERE cells.deleted = 0"
  "  GROUP BY images.case_id, cells.current_class;",

  /* 1 -> 2: the "confirm" correction (a person agrees with a cell's class), and the
   * case events that record every sign-off and reopening.
   *
   * SQLite cannot change a CHECK in place, so corrections is rebuilt: a new table
   * copied row for row (ids, hashes and all), the old one dropped, the new one renamed,
   * then its index and triggers made again. The new table's undoes refers to itself by
   * its temporary name, which the rename rewrites: were it to name "corrections", the
   * drop would find the copied rows pointing at the table being dropped and fail their
   * foreign keys. The drop's implicit delete fires no trigger. */
  "CREATE TABLE corrections_v2 ("
  "  id        INTEGER PRIMARY KEY,"
  "  cell_id   INTEGER NOT NULL REFERENCES cells (id),"
  "  kind      TEXT NOT NULL"
  "            CHECK (kind IN ('relabel', 'add', 'delete', 'restore', 'confirm')),"
  "  old_class INTEGER NOT NULL CHECK (old_class BETWEEN -1 AND 7),"
  "  new_class INTEGER NOT NULL CHECK (new_class BETWEEN 0 AND 7),"
  "  user      TEXT NOT NULL CHECK (length (user) > 0),"
  "  at        TEXT NOT NULL,"
  "  undoes    INTEGER REFERENCES corrections_v2 (id),"
  "  prev_hash TEXT NOT NULL,"
  "  hash      TEXT NOT NULL UNIQUE,"
  "  CHECK (kind <> 'confirm' OR old_class = new_class));"
  "INSERT INTO corrections_v2 (id, cell_id, kind, old_class, new_class, user, at, undoes,"
  "                            prev_hash, hash)"
  "  SELECT id, cell_id, kind, old_class, new_class, user, at, undoes, prev_hash, hash"
  "  FROM corrections ORDER BY id;"
  "DROP TABLE corrections;"
  "ALTER TABLE corrections_v2 RENAME TO corrections;"
  "CREATE INDEX corrections_by_cell ON corrections (cell_id, id);"
  "CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections"
  "  BEGIN SELECT RAISE (ABORT, 'corrections are append-only: rows cannot be changed'); END;"
  "CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections"
  "  BEGIN SELECT RAISE (ABORT, 'corrections are append-only: rows cannot be deleted'); END;"

  /* Who signed a case, and who reopened it, when and why: the cases row keeps only
   * the present signature, this table every one. */
  "CREATE TABLE case_events ("
  "  id      INTEGER PRIMARY KEY,"
  "  case_id INTEGER NOT NULL REFERENCES cases (id),"
  "  kind    TEXT NOT NULL CHECK (kind IN ('signed', 'reopened')),"
  "  user    TEXT NOT NULL CHECK (length (user) > 0),"
  "  at      TEXT NOT NULL,"
  "  reason  TEXT,"
  "  CHECK (kind <> 'reopened' OR length (reason) > 0));"
  "CREATE INDEX case_events_by_case ON case_events (case_id, id);"
  "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events"
  "  BEGIN SELECT RAISE (ABORT, 'case events are append-only: rows cannot be changed'); END;"
  "CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events"
  "  BEGIN SELECT RAISE (ABORT, 'case events are append-only: rows cannot be deleted'); END;"
  /* The cases signed before this version get the event their signature stands for. */
  "INSERT INTO case_events (case_id, kind, user, at)"
  "  SELECT id, 'signed', signed_by, signed_at FROM cases WHERE status = 'signed'"
  "  ORDER BY signed_at, id;",

  /* 2 -> 3: the white-cell diameter each image was analysed at, and where it came from
   * (measured on its red cells, the setting, or the setting because the red cells did
   * not tell). NULL for the images stored before. */
  "ALTER TABLE images ADD COLUMN cell_diameter REAL"
  "  CHECK (cell_diameter IS NULL OR cell_diameter > 0);"
  "ALTER TABLE images ADD COLUMN scale_source TEXT"
  "  CHECK (scale_source IS NULL OR scale_source IN ('setting', 'red-cells', 'fallback'));",

  /* 3 -> 4: ground truth, cells another tool or person annotated (smearscope-cli
   * import), a layer of its own beside the model's cells: never counted, never
   * corrected. class is NULL for an annotation without a type (BCCD's "WBC"); the
   * source is the annotation file (format, name and SHA-256 of its bytes). */
  "CREATE TABLE truth_cells ("
  "  id            INTEGER PRIMARY KEY,"
  "  image_id      INTEGER NOT NULL REFERENCES images (id),"
  "  x             INTEGER NOT NULL CHECK (x >= 0),"
  "  y             INTEGER NOT NULL CHECK (y >= 0),"
  "  width         INTEGER NOT NULL CHECK (width > 0),"
  "  height        INTEGER NOT NULL CHECK (height > 0),"
  "  class         INTEGER CHECK (class IS NULL OR class BETWEEN 0 AND 7),"
  "  mask          BLOB,"
  "  source_format TEXT NOT NULL CHECK (source_format IN ('voc', 'coco')),"
  "  source_file   TEXT NOT NULL CHECK (length (source_file) > 0),"
  "  source_sha256 TEXT NOT NULL CHECK (length (source_sha256) = 64),"
  "  imported_at   TEXT NOT NULL,"
  "  user          TEXT NOT NULL CHECK (length (user) > 0));"
  "CREATE INDEX truth_cells_by_image ON truth_cells (image_id, source_sha256);",

  /* 4 -> 5: the nucleus's solidity (area over its convex hull's), and the analysis's
   * doubts about a call (SsDoubt flags: 1, a lymphocyte whose nucleus is not round).
   * Cells stored before have 0 for both: not measured, no doubt raised. */
  "ALTER TABLE cells ADD COLUMN nucleus_solidity REAL NOT NULL DEFAULT 0"
  "  CHECK (nucleus_solidity BETWEEN 0 AND 1);"
  "ALTER TABLE cells ADD COLUMN doubt INTEGER NOT NULL DEFAULT 0 CHECK (doubt >= 0);",
};

/* The same schema in PostgreSQL's SQL, version for version: ids are identity columns
 * (BIGINT), REAL is DOUBLE PRECISION (SQLite's REAL is 8 bytes), BLOB is BYTEA, "user"
 * is quoted (a reserved word), and the append-only triggers call one function that
 * refuses the change, TRUNCATE included (it fires no row trigger). PostgreSQL alters a
 * CHECK in place, so version 2 needs no rebuild of corrections. The application id and
 * the version live in the table smearscope_store (ss-store-pg.c). */
const char *const ss_store_pg_migrations[SS_STORE_SCHEMA_VERSION] = {
  /* 0 -> 1 */
  "CREATE TABLE models ("
  "  id       BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  name     TEXT NOT NULL,"
  "  version  TEXT NOT NULL,"
  "  checksum TEXT NOT NULL,"
  "  UNIQUE (name, version, checksum));"

  "CREATE TABLE cases ("
  "  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  accession   TEXT NOT NULL UNIQUE CHECK (length (accession) BETWEEN 1 AND 64),"
  "  patient_ref TEXT,"
  "  specimen    TEXT,"
  "  stain       TEXT,"
  "  notes       TEXT,"
  "  status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'reviewed', 'signed')),"
  "  signed_by   TEXT,"
  "  signed_at   TEXT,"
  "  created_at  TEXT NOT NULL,"
  "  updated_at  TEXT NOT NULL,"
  "  CHECK ((status = 'signed') = (signed_by IS NOT NULL AND signed_at IS NOT NULL)));"

  "CREATE TABLE images ("
  "  id          BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  case_id     BIGINT NOT NULL REFERENCES cases (id),"
  "  path        TEXT NOT NULL,"
  "  sha256      TEXT NOT NULL CHECK (length (sha256) = 64),"
  "  width       INTEGER NOT NULL CHECK (width > 0),"
  "  height      INTEGER NOT NULL CHECK (height > 0),"
  "  analysed_at TEXT NOT NULL,"
  "  model_id    BIGINT REFERENCES models (id));"
  "CREATE INDEX images_by_case ON images (case_id);"

  "CREATE TABLE cells ("
  "  id              BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  image_id        BIGINT NOT NULL REFERENCES images (id),"
  "  x               INTEGER NOT NULL,"
  "  y               INTEGER NOT NULL,"
  "  width           INTEGER NOT NULL CHECK (width > 0),"
  "  height          INTEGER NOT NULL CHECK (height > 0),"
  "  mask            BYTEA,"
  "  nucleus_mask    BYTEA,"
  "  predicted_class INTEGER NOT NULL CHECK (predicted_class BETWEEN -1 AND 7),"
  "  confidence      DOUBLE PRECISION NOT NULL CHECK (confidence BETWEEN 0 AND 1),"
  "  probabilities   BYTEA,"
  "  area            DOUBLE PRECISION,"
  "  perimeter       DOUBLE PRECISION,"
  "  circularity     DOUBLE PRECISION,"
  "  nucleus_area    DOUBLE PRECISION,"
  "  nc_ratio        DOUBLE PRECISION,"
  "  stored_class    INTEGER NOT NULL CHECK (stored_class BETWEEN 0 AND 7),"
  "  current_class   INTEGER NOT NULL CHECK (current_class BETWEEN 0 AND 7),"
  "  origin          TEXT NOT NULL CHECK (origin IN ('model', 'user')),"
  "  deleted         INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)));"
  "CREATE INDEX cells_by_image ON cells (image_id, deleted, current_class);"

  "CREATE TABLE corrections ("
  "  id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  cell_id   BIGINT NOT NULL REFERENCES cells (id),"
  "  kind      TEXT NOT NULL CONSTRAINT corrections_kind"
  "            CHECK (kind IN ('relabel', 'add', 'delete', 'restore')),"
  "  old_class INTEGER NOT NULL CHECK (old_class BETWEEN -1 AND 7),"
  "  new_class INTEGER NOT NULL CHECK (new_class BETWEEN 0 AND 7),"
  "  \"user\"    TEXT NOT NULL CHECK (length (\"user\") > 0),"
  "  at        TEXT NOT NULL,"
  "  undoes    BIGINT REFERENCES corrections (id),"
  "  prev_hash TEXT NOT NULL,"
  "  hash      TEXT NOT NULL UNIQUE);"
  "CREATE INDEX corrections_by_cell ON corrections (cell_id, id);"
  "CREATE FUNCTION smearscope_append_only () RETURNS trigger LANGUAGE plpgsql AS $$"
  "  BEGIN RAISE EXCEPTION '% are append-only: rows cannot be %', TG_ARGV[0], TG_ARGV[1]; END $$;"
  "CREATE TRIGGER corrections_no_update BEFORE UPDATE ON corrections"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('corrections', 'changed');"
  "CREATE TRIGGER corrections_no_delete BEFORE DELETE ON corrections"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('corrections', 'deleted');"
  "CREATE TRIGGER corrections_no_truncate BEFORE TRUNCATE ON corrections"
  "  FOR EACH STATEMENT EXECUTE FUNCTION smearscope_append_only ('corrections', 'deleted');"

  "CREATE VIEW case_counts AS"
  "  SELECT images.case_id AS case_id, cells.current_class AS class, count (*) AS n"
  "  FROM cells JOIN images ON images.id = cells.image_id"
  "  WHERE cells.deleted = 0"
  "  GROUP BY images.case_id, cells.current_class;",

  /* 1 -> 2 */
  "ALTER TABLE corrections DROP CONSTRAINT corrections_kind;"
  "ALTER TABLE corrections ADD CONSTRAINT corrections_kind"
  "  CHECK (kind IN ('relabel', 'add', 'delete', 'restore', 'confirm'));"
  "ALTER TABLE corrections ADD CONSTRAINT corrections_confirm_keeps_class"
  "  CHECK (kind <> 'confirm' OR old_class = new_class);"
  "CREATE TABLE case_events ("
  "  id      BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  case_id BIGINT NOT NULL REFERENCES cases (id),"
  "  kind    TEXT NOT NULL CHECK (kind IN ('signed', 'reopened')),"
  "  \"user\"  TEXT NOT NULL CHECK (length (\"user\") > 0),"
  "  at      TEXT NOT NULL,"
  "  reason  TEXT,"
  "  CHECK (kind <> 'reopened' OR length (reason) > 0));"
  "CREATE INDEX case_events_by_case ON case_events (case_id, id);"
  "CREATE TRIGGER case_events_no_update BEFORE UPDATE ON case_events"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('case events', 'changed');"
  "CREATE TRIGGER case_events_no_delete BEFORE DELETE ON case_events"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('case events', 'deleted');"
  "CREATE TRIGGER case_events_no_truncate BEFORE TRUNCATE ON case_events"
  "  FOR EACH STATEMENT EXECUTE FUNCTION smearscope_append_only ('case events', 'deleted');"
  "INSERT INTO case_events (case_id, kind, \"user\", at)"
  "  SELECT id, 'signed', signed_by, signed_at FROM cases WHERE status = 'signed'"
  "  ORDER BY signed_at, id;",

  /* 2 -> 3 */
  "ALTER TABLE images ADD COLUMN cell_diameter DOUBLE PRECISION"
  "  CHECK (cell_diameter IS NULL OR cell_diameter > 0);"
  "ALTER TABLE images ADD COLUMN scale_source TEXT"
  "  CHECK (scale_source IS NULL OR scale_source IN ('setting', 'red-cells', 'fallback'));",

  /* 3 -> 4 */
  "CREATE TABLE truth_cells ("
  "  id            BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  image_id      BIGINT NOT NULL REFERENCES images (id),"
  "  x             INTEGER NOT NULL CHECK (x >= 0),"
  "  y             INTEGER NOT NULL CHECK (y >= 0),"
  "  width         INTEGER NOT NULL CHECK (width > 0),"
  "  height        INTEGER NOT NULL CHECK (height > 0),"
  "  class         INTEGER CHECK (class IS NULL OR class BETWEEN 0 AND 7),"
  "  mask          BYTEA,"
  "  source_format TEXT NOT NULL CHECK (source_format IN ('voc', 'coco')),"
  "  source_file   TEXT NOT NULL CHECK (length (source_file) > 0),"
  "  source_sha256 TEXT NOT NULL CHECK (length (source_sha256) = 64),"
  "  imported_at   TEXT NOT NULL,"
  "  \"user\"        TEXT NOT NULL CHECK (length (\"user\") > 0));"
  "CREATE INDEX truth_cells_by_image ON truth_cells (image_id, source_sha256);",

  /* 4 -> 5 */
  "ALTER TABLE cells ADD COLUMN nucleus_solidity DOUBLE PRECISION NOT NULL DEFAULT 0"
  "  CHECK (nucleus_solidity BETWEEN 0 AND 1);"
  "ALTER TABLE cells ADD COLUMN doubt INTEGER NOT NULL DEFAULT 0 CHECK (doubt >= 0);",
};

/* Opening: refuse, migrate or accept ------------------------------------------------- */

static gboolean
ss_store_schema_migrate (SsStoreConn *conn, GError **error)
{
  const SsStoreBackend *backend = conn->backend;
  const char *operation = "upgrading the case store's schema";
  gint64 application_id = 0, version = 0, n_objects = 0;
  if (backend->before_migrate != NULL && !backend->before_migrate (conn, error))
    return FALSE;
  if (!backend->begin_write (conn, operation, error))
    return FALSE;
  /* Read again under the write lock: another program may have migrated meanwhile. */
  if (!backend->read_schema (conn, &application_id, &version, &n_objects, error))
    goto fail;
  for (gint64 v = version; v < SS_STORE_SCHEMA_VERSION; v++)
    if (!backend->exec (conn, backend->migrations[v], operation, error))
      goto fail;
  if (version < SS_STORE_SCHEMA_VERSION && !backend->write_schema (conn, error))
    goto fail;
  return backend->commit (conn, operation, error);
fail:
  backend->rollback (conn);
  return FALSE;
}

gboolean
ss_store_schema_open (SsStoreConn *conn, GError **error)
{
  const SsStoreBackend *backend = conn->backend;
  gint64 application_id = 0, version = 0, n_objects = 0;
  if (!backend->read_schema (conn, &application_id, &version, &n_objects, error))
    return FALSE;
  if (application_id != 0 && application_id != SS_STORE_APPLICATION_ID)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is another program's %s database (application id 0x%08" G_GINT64_MODIFIER
                   "x), not a case store", conn->location, backend->name, application_id);
      return FALSE;
    }
  if (application_id == 0 && (version != 0 || n_objects != 0))
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_A_STORE,
                   "%s is a %s database but not a Smearscope case store", conn->location,
                   backend->name);
      return FALSE;
    }
  if (version > SS_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NEWER_SCHEMA,
                   "the case store %s was written by a newer Smearscope (schema version %"
                   G_GINT64_FORMAT "; this one knows up to %d); update Smearscope to open it",
                   conn->location, version, SS_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (version == SS_STORE_SCHEMA_VERSION)
    return TRUE;
  if (conn->read_only)
    {
      g_set_error (error, SS_STORE_ERROR,
                   version == 0 ? SS_STORE_ERROR_NOT_A_STORE : SS_STORE_ERROR_READ_ONLY,
                   version == 0 ? "%s is empty: not a case store yet"
                                : "the case store %s has an older schema and was opened read-only; "
                                  "open it once for writing to upgrade it",
                   conn->location);
      return FALSE;
    }
  return ss_store_schema_migrate (conn, error);
}
