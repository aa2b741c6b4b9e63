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
   * doubts about a call (SsDoubt flags: 1, a lymphocyte whose nucleus is not round; 2,
   * since issue 27's camera check, a field unlike the model's cameras; since 2026-12-07,
   * no new version needed, 4, called not a cell by its size, and 8, a lymphocyte larger
   * than one). Cells stored before have 0 for both: not measured, no doubt raised. */
  "ALTER TABLE cells ADD COLUMN nucleus_solidity REAL NOT NULL DEFAULT 0"
  "  CHECK (nucleus_solidity BETWEEN 0 AND 1);"
  "ALTER TABLE cells ADD COLUMN doubt INTEGER NOT NULL DEFAULT 0 CHECK (doubt >= 0);",

  /* 5 -> 6: a version per cell, bumped by each correction, so that a correction based
   * on a stale view is refused (0 for a cell not corrected since); and the roles of the
   * store's users (technician, hematologist, admin), which on a SQLite file the program
   * checks (docs/case-store.md, "Roles"). */
  "ALTER TABLE cells ADD COLUMN version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0);"
  "CREATE TABLE users ("
  "  name     TEXT PRIMARY KEY CHECK (length (name) BETWEEN 1 AND 63),"
  "  role     TEXT NOT NULL CHECK (role IN ('technician', 'hematologist', 'admin')),"
  "  added_at TEXT NOT NULL);",
  /* 6 -> 7: the lab's own cell-type models (issue 30): each model file's bytes (so that
   * every station uses the same model and a rollback is exact), its SHA-256, the model
   * it was taught from, what it was taught and the guard's figures, who offered it and
   * when; and model_uses, the history of which one is in use, each adoption and
   * rollback a row chained by its hash like the corrections. model_id NULL: the shipped
   * model. Both tables are append-only; only an admin adds to model_uses. */
  "CREATE TABLE lab_models ("
  "  id               INTEGER PRIMARY KEY,"
  "  name             TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 128),"
  "  bytes            BLOB NOT NULL,"
  "  sha256           TEXT NOT NULL UNIQUE CHECK (length (sha256) = 64),"
  "  parent_id        INTEGER REFERENCES lab_models (id),"
  "  parent_sha256    TEXT CHECK (parent_sha256 IS NULL OR length (parent_sha256) = 64),"
  "  n_cells          INTEGER NOT NULL CHECK (n_cells >= 0),"
  "  taught           TEXT NOT NULL,"
  "  cases            TEXT NOT NULL,"
  "  n_back           INTEGER NOT NULL CHECK (n_back >= 0),"
  "  back_before      REAL NOT NULL CHECK (back_before BETWEEN 0 AND 1),"
  "  back_after       REAL NOT NULL CHECK (back_after BETWEEN 0 AND 1),"
  "  n_reference      INTEGER NOT NULL CHECK (n_reference >= 0),"
  "  reference_before REAL NOT NULL CHECK (reference_before BETWEEN 0 AND 1),"
  "  reference_after  REAL NOT NULL CHECK (reference_after BETWEEN 0 AND 1),"
  "  margin           REAL NOT NULL CHECK (margin >= 0),"
  "  offered_by       TEXT NOT NULL CHECK (length (offered_by) > 0),"
  "  offered_at       TEXT NOT NULL);"
  "CREATE TRIGGER lab_models_no_update BEFORE UPDATE ON lab_models"
  "  BEGIN SELECT RAISE (ABORT, 'lab models are append-only: rows cannot be changed'); END;"
  "CREATE TRIGGER lab_models_no_delete BEFORE DELETE ON lab_models"
  "  BEGIN SELECT RAISE (ABORT, 'lab models are append-only: rows cannot be deleted'); END;"
  "CREATE TABLE model_uses ("
  "  id        INTEGER PRIMARY KEY,"
  "  kind      TEXT NOT NULL CHECK (kind IN ('use', 'rollback')),"
  "  model_id  INTEGER REFERENCES lab_models (id),"
  "  user      TEXT NOT NULL CHECK (length (user) > 0),"
  "  at        TEXT NOT NULL,"
  "  prev_hash TEXT NOT NULL,"
  "  hash      TEXT NOT NULL UNIQUE,"
  "  CHECK (kind <> 'use' OR model_id IS NOT NULL));"
  "CREATE TRIGGER model_uses_no_update BEFORE UPDATE ON model_uses"
  "  BEGIN SELECT RAISE (ABORT, 'model uses are append-only: rows cannot be changed'); END;"
  "CREATE TRIGGER model_uses_no_delete BEFORE DELETE ON model_uses"
  "  BEGIN SELECT RAISE (ABORT, 'model uses are append-only: rows cannot be deleted'); END;",

  /* 7 -> 8: a signed case's images, cells, truth cells and corrections cannot change,
   * whatever SQL writes them: the program checks first and says so in its own words
   * (SIGNED); these triggers refuse what comes in by another way (the sqlite3 shell).
   * ss_store_copy signs the copied cases only after their rows are in. */
#define SIGNED_GUARD(name, event, table, when) \
  "CREATE TRIGGER " name " BEFORE " event " ON " table " WHEN " when \
  " BEGIN SELECT RAISE (ABORT, 'the case is signed and cannot change; reopen it first if it" \
  " must'); END;"
#define CASE_SIGNED(case_id) "(SELECT status FROM cases WHERE id = " case_id ") = 'signed'"
#define IMAGE_SIGNED(image_id) CASE_SIGNED ("(SELECT case_id FROM images WHERE id = " image_id ")")
  SIGNED_GUARD ("images_signed_insert", "INSERT", "images", CASE_SIGNED ("NEW.case_id"))
  SIGNED_GUARD ("images_signed_update", "UPDATE", "images",
                CASE_SIGNED ("OLD.case_id") " OR " CASE_SIGNED ("NEW.case_id"))
  SIGNED_GUARD ("images_signed_delete", "DELETE", "images", CASE_SIGNED ("OLD.case_id"))
  SIGNED_GUARD ("cells_signed_insert", "INSERT", "cells", IMAGE_SIGNED ("NEW.image_id"))
  SIGNED_GUARD ("cells_signed_update", "UPDATE", "cells",
                IMAGE_SIGNED ("OLD.image_id") " OR " IMAGE_SIGNED ("NEW.image_id"))
  SIGNED_GUARD ("cells_signed_delete", "DELETE", "cells", IMAGE_SIGNED ("OLD.image_id"))
  SIGNED_GUARD ("truth_cells_signed_insert", "INSERT", "truth_cells", IMAGE_SIGNED ("NEW.image_id"))
  SIGNED_GUARD ("truth_cells_signed_update", "UPDATE", "truth_cells",
                IMAGE_SIGNED ("OLD.image_id") " OR " IMAGE_SIGNED ("NEW.image_id"))
  SIGNED_GUARD ("truth_cells_signed_delete", "DELETE", "truth_cells", IMAGE_SIGNED ("OLD.image_id"))
  SIGNED_GUARD ("corrections_signed_insert", "INSERT", "corrections",
                IMAGE_SIGNED ("(SELECT image_id FROM cells WHERE id = NEW.cell_id)")),
#undef IMAGE_SIGNED
#undef CASE_SIGNED
#undef SIGNED_GUARD

  /* 8 -> 9: the guard's third figure (issue 30): the cells the lab taught the model it
   * was taught from, in cases not taught now, right before and after (n_earlier 0: no
   * such cells, no such check), and those cases. n_earlier NULL: not recorded (the rows
   * of version 8, whose guard may have made the check). */
  "ALTER TABLE lab_models ADD COLUMN n_earlier INTEGER"
  "  CHECK (n_earlier IS NULL OR n_earlier >= 0);"
  "ALTER TABLE lab_models ADD COLUMN earlier_before REAL NOT NULL DEFAULT 0"
  "  CHECK (earlier_before BETWEEN 0 AND 1);"
  "ALTER TABLE lab_models ADD COLUMN earlier_after REAL NOT NULL DEFAULT 0"
  "  CHECK (earlier_after BETWEEN 0 AND 1);"
  "ALTER TABLE lab_models ADD COLUMN earlier_cases TEXT NOT NULL DEFAULT '';",
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

  /* 5 -> 6: the version per cell and the users table as on SQLite, and the server's
   * side of the roles (docs/case-store.md, "Roles"). The login that made the store owns
   * its tables and may do anything, as a file's owner; other logins act through the
   * group roles DATABASE_technician, _hematologist and _admin (smearscope_init_roles).
   * Corrections are written only by smearscope_append_correction, which runs with the
   * owner's rights and checks the row as the program writes it: the chain head, the
   * hash, the cell's state, the login's own name; a technician holds no privilege on
   * corrections nor UPDATE on cells. Signing and reopening are the hematologists'. */
  "ALTER TABLE cells ADD COLUMN version BIGINT NOT NULL DEFAULT 0 CHECK (version >= 0);"
  "CREATE TABLE users ("
  "  name     TEXT PRIMARY KEY CHECK (length (name) BETWEEN 1 AND 63),"
  "  role     TEXT NOT NULL CHECK (role IN ('technician', 'hematologist', 'admin')),"
  "  added_at TEXT NOT NULL);"

  /* owner, admin, hematologist, technician, or NULL for a login of none of them */
  "CREATE FUNCTION smearscope_login_role () RETURNS TEXT LANGUAGE plpgsql STABLE AS $$"
  "  DECLARE group_role TEXT;"
  "  BEGIN"
  "    IF pg_has_role (session_user, (SELECT relowner FROM pg_class"
  "                                   WHERE oid = 'cases'::regclass), 'MEMBER') THEN"
  "      RETURN 'owner';"
  "    END IF;"
  "    FOREACH group_role IN ARRAY ARRAY['admin', 'hematologist', 'technician'] LOOP"
  "      IF EXISTS (SELECT 1 FROM pg_roles"
  "                 WHERE rolname = current_database () || '_' || group_role) THEN"
  "        IF pg_has_role (session_user, current_database () || '_' || group_role, 'MEMBER') THEN"
  "          RETURN group_role;"
  "        END IF;"
  "      END IF;"
  "    END LOOP;"
  "    RETURN NULL;"
  "  END $$;"

  "CREATE FUNCTION smearscope_login_says () RETURNS TEXT LANGUAGE sql STABLE AS $$"
  "  SELECT 'your login ' || session_user || ' is '"
  "         || coalesce ('a ' || smearscope_login_role (), 'not a user of this case store') $$;"

  "CREATE FUNCTION smearscope_guard_case () RETURNS trigger LANGUAGE plpgsql AS $$"
  "  BEGIN"
  "    IF (NEW.status = 'signed') IS DISTINCT FROM (OLD.status = 'signed')"
  "       AND coalesce (smearscope_login_role (), 'none')"
  "           NOT IN ('owner', 'admin', 'hematologist') THEN"
  "      RAISE EXCEPTION '%; only a hematologist can %', smearscope_login_says (),"
  "        CASE WHEN NEW.status = 'signed' THEN 'sign off' ELSE 'reopen a signed case' END"
  "        USING ERRCODE = '42501';"
  "    END IF;"
  "    RETURN NEW;"
  "  END $$;"
  "CREATE TRIGGER cases_sign_off BEFORE UPDATE OF status ON cases"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_guard_case ();"

  "CREATE FUNCTION smearscope_guard_event () RETURNS trigger LANGUAGE plpgsql AS $$"
  "  DECLARE login_role TEXT := smearscope_login_role ();"
  "  BEGIN"
  "    IF coalesce (login_role, 'none') NOT IN ('owner', 'admin', 'hematologist') THEN"
  "      RAISE EXCEPTION '%; only a hematologist can sign off or reopen',"
  "        smearscope_login_says () USING ERRCODE = '42501';"
  "    END IF;"
  "    IF login_role <> 'owner' AND NEW.\"user\" IS DISTINCT FROM session_user THEN"
  "      RAISE EXCEPTION 'your login % signs under its own name, not %', session_user,"
  "        NEW.\"user\" USING ERRCODE = '42501';"
  "    END IF;"
  "    PERFORM pg_notify ('smearscope_case_' || NEW.case_id, NEW.kind);"
  "    RETURN NEW;"
  "  END $$;"
  "CREATE TRIGGER case_events_signer BEFORE INSERT ON case_events"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_guard_event ();"

  /* A cell comes in as the analysis (or a person) made it; only the owner copies in
   * cells already corrected (db migrate). */
  "CREATE FUNCTION smearscope_guard_cell () RETURNS trigger LANGUAGE plpgsql AS $$"
  "  BEGIN"
  "    IF (NEW.current_class <> NEW.stored_class OR NEW.deleted <> 0 OR NEW.version <> 0)"
  "       AND smearscope_login_role () IS DISTINCT FROM 'owner' THEN"
  "      RAISE EXCEPTION '%; a new cell starts as it was stored, corrections come after',"
  "        smearscope_login_says () USING ERRCODE = '42501';"
  "    END IF;"
  "    RETURN NEW;"
  "  END $$;"
  "CREATE TRIGGER cells_start_clean BEFORE INSERT ON cells"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_guard_cell ();"

  "CREATE FUNCTION smearscope_hash_field (value TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE AS $$"
  "  SELECT octet_length (value) || ':' || value || ';' $$;"

  "CREATE FUNCTION smearscope_append_correction (p_id BIGINT, p_cell BIGINT, p_kind TEXT,"
  "    p_old INTEGER, p_new INTEGER, p_user TEXT, p_at TEXT, p_undoes BIGINT, p_prev TEXT,"
  "    p_hash TEXT) RETURNS BIGINT LANGUAGE plpgsql SECURITY DEFINER AS $$"
  "  DECLARE"
  "    login_role TEXT := smearscope_login_role ();"
  "    head_id BIGINT; head_hash TEXT; cell RECORD; last_id BIGINT; deleted_after INTEGER;"
  "    fits BOOLEAN;"
  "  BEGIN"
  "    IF login_role IS NULL THEN"
  "      RAISE EXCEPTION '%', smearscope_login_says () USING ERRCODE = '42501';"
  "    END IF;"
  "    IF login_role <> 'owner' AND p_user IS DISTINCT FROM session_user THEN"
  "      RAISE EXCEPTION 'your login % records corrections under its own name, not %',"
  "        session_user, p_user USING ERRCODE = '42501';"
  "    END IF;"
  "    PERFORM pg_advisory_xact_lock (1397965651);"
  "    SELECT id, hash INTO head_id, head_hash FROM corrections ORDER BY id DESC LIMIT 1;"
  "    IF p_id IS DISTINCT FROM coalesce (head_id, 0) + 1"
  "       OR p_prev IS DISTINCT FROM coalesce (head_hash, repeat ('0', 64)) THEN"
  "      RAISE EXCEPTION 'correction % does not follow the head of the audit chain (row %)',"
  "        p_id, head_id USING ERRCODE = '22023';"
  "    END IF;"
  "    IF p_hash IS DISTINCT FROM encode (sha256 (convert_to (smearscope_hash_field (p_prev)"
  "         || smearscope_hash_field (p_id::text) || smearscope_hash_field (p_cell::text)"
  "         || smearscope_hash_field (p_kind) || smearscope_hash_field (p_old::text)"
  "         || smearscope_hash_field (p_new::text) || smearscope_hash_field (p_user)"
  "         || smearscope_hash_field (p_at)"
  "         || smearscope_hash_field (coalesce (p_undoes, 0)::text), 'UTF8')), 'hex') THEN"
  "      RAISE EXCEPTION 'correction % does not match its hash', p_id USING ERRCODE = '22023';"
  "    END IF;"
  "    IF abs (extract (epoch FROM now () - p_at::timestamptz)) > 300 THEN"
  "      RAISE EXCEPTION 'correction % is dated %, more than 5 minutes from the server''s"
  " clock; check the station''s clock', p_id, p_at USING ERRCODE = '22023';"
  "    END IF;"
  "    SELECT c.current_class, c.deleted, c.origin, k.id AS case_id, k.status INTO cell"
  "      FROM cells c JOIN images i ON i.id = c.image_id JOIN cases k ON k.id = i.case_id"
  "      WHERE c.id = p_cell FOR UPDATE OF c;"
  "    IF NOT FOUND THEN"
  "      RAISE EXCEPTION 'there is no cell %', p_cell USING ERRCODE = '22023';"
  "    END IF;"
  "    IF cell.status = 'signed' THEN"
  "      RAISE EXCEPTION 'the case of cell % is signed', p_cell USING ERRCODE = '22023';"
  "    END IF;"
  "    SELECT max (id) INTO last_id FROM corrections WHERE cell_id = p_cell;"
  "    deleted_after := CASE p_kind WHEN 'delete' THEN 1 ELSE 0 END;"
  "    fits := CASE p_kind"
  "      WHEN 'add' THEN cell.origin = 'user' AND last_id IS NULL AND p_old = -1"
  "                      AND p_new = cell.current_class"
  "      WHEN 'relabel' THEN cell.deleted = 0 AND p_old = cell.current_class AND p_new <> p_old"
  "      WHEN 'restore' THEN cell.deleted = 1 AND p_old = cell.current_class AND p_new = p_old"
  "      ELSE cell.deleted = 0 AND p_old = cell.current_class AND p_new = p_old END"
  "      AND (p_undoes IS NULL OR p_undoes = last_id);"
  "    IF NOT coalesce (fits, false) THEN"
  "      RAISE EXCEPTION 'correction % (%) does not fit the state of cell %', p_id, p_kind,"
  "        p_cell USING ERRCODE = '22023';"
  "    END IF;"
  "    INSERT INTO corrections (id, cell_id, kind, old_class, new_class, \"user\", at, undoes,"
  "                             prev_hash, hash)"
  "      VALUES (p_id, p_cell, p_kind, p_old, p_new, p_user, p_at, p_undoes, p_prev, p_hash);"
  "    UPDATE cells SET current_class = p_new, deleted = deleted_after, version = version + 1"
  "      WHERE id = p_cell;"
  "    PERFORM pg_notify ('smearscope_case_' || cell.case_id, p_id::text);"
  "    RETURN p_id;"
  "  END $$;"
  /* pinned, so that no object a caller makes can stand in for the store's */
  "DO $$ BEGIN"
  "  EXECUTE format ('ALTER FUNCTION smearscope_append_correction (BIGINT, BIGINT, TEXT,"
  "    INTEGER, INTEGER, TEXT, TEXT, BIGINT, TEXT, TEXT)"
  "    SET search_path = %I, pg_catalog, pg_temp', current_schema ());"
  "END $$;"
  "REVOKE ALL ON FUNCTION smearscope_append_correction (BIGINT, BIGINT, TEXT, INTEGER, INTEGER,"
  "  TEXT, TEXT, BIGINT, TEXT, TEXT) FROM PUBLIC;"

  /* Run by the owner or an admin: a login (made when missing, without a password) in
   * one of the three roles, and only that one. */
  "CREATE FUNCTION smearscope_add_user (p_name TEXT, p_role TEXT) RETURNS VOID"
  "  LANGUAGE plpgsql SET client_min_messages = error AS $$"
  "  DECLARE group_role TEXT;"
  "  BEGIN"
  "    IF p_role NOT IN ('technician', 'hematologist', 'admin') THEN"
  "      RAISE EXCEPTION '% is not a role: technician, hematologist or admin', p_role"
  "        USING ERRCODE = '22023';"
  "    END IF;"
  "    IF NOT EXISTS (SELECT 1 FROM pg_roles"
  "                   WHERE rolname = current_database () || '_technician') THEN"
  "      RAISE EXCEPTION 'the roles of this case store are not set up yet; its owner runs"
  " db roles --init first' USING ERRCODE = '55000';"
  "    END IF;"
  "    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = p_name) THEN"
  "      EXECUTE format (CASE WHEN p_role = 'admin' THEN 'CREATE ROLE %I LOGIN CREATEROLE'"
  "                      ELSE 'CREATE ROLE %I LOGIN' END, p_name);"
  "    END IF;"
  "    FOREACH group_role IN ARRAY ARRAY['technician', 'hematologist', 'admin'] LOOP"
  "      IF group_role = p_role THEN"
  "        EXECUTE format ('GRANT %I TO %I', current_database () || '_' || group_role, p_name);"
  "      ELSE"
  "        EXECUTE format ('REVOKE %I FROM %I', current_database () || '_' || group_role, p_name);"
  "      END IF;"
  "    END LOOP;"
  "    INSERT INTO users (name, role, added_at) VALUES (p_name, p_role,"
  "      to_char (now () AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'))"
  "      ON CONFLICT (name) DO UPDATE SET role = excluded.role;"
  "  END $$;"

  /* Run by the owner (a login allowed to make roles): the three group roles of this
   * database and what each may do. */
  "CREATE FUNCTION smearscope_init_roles () RETURNS VOID LANGUAGE plpgsql"
  "  SET client_min_messages = error AS $$"
  "  DECLARE"
  "    db TEXT := current_database (); schema_name TEXT := current_schema ();"
  "    technician TEXT := current_database () || '_technician';"
  "    hematologist TEXT := current_database () || '_hematologist';"
  "    admin TEXT := current_database () || '_admin';"
  "    group_role TEXT;"
  "  BEGIN"
  "    FOREACH group_role IN ARRAY ARRAY[technician, hematologist, admin] LOOP"
  "      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = group_role) THEN"
  "        EXECUTE format ('CREATE ROLE %I NOLOGIN', group_role);"
  "      END IF;"
  "    END LOOP;"
  "    EXECUTE format ('GRANT %I TO %I', technician, hematologist);"
  "    EXECUTE format ('GRANT %I TO %I', hematologist, admin);"
  "    EXECUTE format ('REVOKE ALL ON DATABASE %I FROM PUBLIC', db);"
  "    EXECUTE format ('GRANT CONNECT ON DATABASE %I TO %I', db, technician);"
  "    EXECUTE format ('REVOKE ALL ON ALL TABLES IN SCHEMA %I FROM PUBLIC', schema_name);"
  "    EXECUTE format ('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA %I FROM PUBLIC', schema_name);"
  "    EXECUTE format ('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', schema_name);"
  "    EXECUTE format ('GRANT USAGE ON SCHEMA %I TO %I', schema_name, technician);"
  "    EXECUTE format ('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO %I', schema_name, technician);"
  "    EXECUTE format ('GRANT INSERT ON models, cases, images, cells, truth_cells TO %I',"
  "      technician);"
  "    EXECUTE format ('GRANT UPDATE (patient_ref, specimen, stain, notes, status, signed_by,"
  " signed_at, updated_at) ON cases TO %I', technician);"
  "    EXECUTE format ('GRANT DELETE ON cases TO %I', technician);"
  "    EXECUTE format ('GRANT EXECUTE ON FUNCTION smearscope_login_role (),"
  " smearscope_login_says (), smearscope_hash_field (TEXT), smearscope_append_correction"
  " (BIGINT, BIGINT, TEXT, INTEGER, INTEGER, TEXT, TEXT, BIGINT, TEXT, TEXT) TO %I', technician);"
  "    EXECUTE format ('GRANT INSERT ON case_events TO %I', hematologist);"
  "    EXECUTE format ('GRANT INSERT, UPDATE ON users TO %I', admin);"
  "    EXECUTE format ('GRANT EXECUTE ON FUNCTION smearscope_add_user (TEXT, TEXT) TO %I', admin);"
  "  END $$;",
  /* 6 -> 7: lab_models and model_uses as on SQLite. A technician may offer a model
   * (INSERT on lab_models); only an admin may adopt or roll back (INSERT on
   * model_uses), under the admin's own login name. smearscope_init_model_roles grants
   * this; the backend's roles set-up calls it after smearscope_init_roles, and this
   * migration calls it itself on a store whose roles are already set up. */
  "CREATE TABLE lab_models ("
  "  id               BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  name             TEXT NOT NULL CHECK (length (name) BETWEEN 1 AND 128),"
  "  bytes            BYTEA NOT NULL,"
  "  sha256           TEXT NOT NULL UNIQUE CHECK (length (sha256) = 64),"
  "  parent_id        BIGINT REFERENCES lab_models (id),"
  "  parent_sha256    TEXT CHECK (parent_sha256 IS NULL OR length (parent_sha256) = 64),"
  "  n_cells          INTEGER NOT NULL CHECK (n_cells >= 0),"
  "  taught           TEXT NOT NULL,"
  "  cases            TEXT NOT NULL,"
  "  n_back           INTEGER NOT NULL CHECK (n_back >= 0),"
  "  back_before      DOUBLE PRECISION NOT NULL CHECK (back_before BETWEEN 0 AND 1),"
  "  back_after       DOUBLE PRECISION NOT NULL CHECK (back_after BETWEEN 0 AND 1),"
  "  n_reference      INTEGER NOT NULL CHECK (n_reference >= 0),"
  "  reference_before DOUBLE PRECISION NOT NULL CHECK (reference_before BETWEEN 0 AND 1),"
  "  reference_after  DOUBLE PRECISION NOT NULL CHECK (reference_after BETWEEN 0 AND 1),"
  "  margin           DOUBLE PRECISION NOT NULL CHECK (margin >= 0),"
  "  offered_by       TEXT NOT NULL CHECK (length (offered_by) > 0),"
  "  offered_at       TEXT NOT NULL);"
  "CREATE TRIGGER lab_models_no_update BEFORE UPDATE ON lab_models"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('lab models', 'changed');"
  "CREATE TRIGGER lab_models_no_delete BEFORE DELETE ON lab_models"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('lab models', 'deleted');"
  "CREATE TRIGGER lab_models_no_truncate BEFORE TRUNCATE ON lab_models"
  "  FOR EACH STATEMENT EXECUTE FUNCTION smearscope_append_only ('lab models', 'deleted');"
  "CREATE TABLE model_uses ("
  "  id        BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
  "  kind      TEXT NOT NULL CHECK (kind IN ('use', 'rollback')),"
  "  model_id  BIGINT REFERENCES lab_models (id),"
  "  \"user\"    TEXT NOT NULL CHECK (length (\"user\") > 0),"
  "  at        TEXT NOT NULL,"
  "  prev_hash TEXT NOT NULL,"
  "  hash      TEXT NOT NULL UNIQUE,"
  "  CHECK (kind <> 'use' OR model_id IS NOT NULL));"
  "CREATE TRIGGER model_uses_no_update BEFORE UPDATE ON model_uses"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('model uses', 'changed');"
  "CREATE TRIGGER model_uses_no_delete BEFORE DELETE ON model_uses"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_append_only ('model uses', 'deleted');"
  "CREATE TRIGGER model_uses_no_truncate BEFORE TRUNCATE ON model_uses"
  "  FOR EACH STATEMENT EXECUTE FUNCTION smearscope_append_only ('model uses', 'deleted');"

  /* an admin adopts under the login's own name (the owner copies rows in: db migrate) */
  "CREATE FUNCTION smearscope_guard_model_use () RETURNS trigger LANGUAGE plpgsql AS $$"
  "  DECLARE login_role TEXT := smearscope_login_role ();"
  "  BEGIN"
  "    IF coalesce (login_role, 'none') NOT IN ('owner', 'admin') THEN"
  "      RAISE EXCEPTION '%; only an admin can adopt or roll back a model',"
  "        smearscope_login_says () USING ERRCODE = '42501';"
  "    END IF;"
  "    IF login_role <> 'owner' AND NEW.\"user\" IS DISTINCT FROM session_user THEN"
  "      RAISE EXCEPTION 'your login % adopts models under its own name, not %', session_user,"
  "        NEW.\"user\" USING ERRCODE = '42501';"
  "    END IF;"
  "    RETURN NEW;"
  "  END $$;"
  "CREATE TRIGGER model_uses_by_admin BEFORE INSERT ON model_uses"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_guard_model_use ();"

  "CREATE FUNCTION smearscope_init_model_roles () RETURNS VOID LANGUAGE plpgsql"
  "  SET client_min_messages = error AS $$"
  "  BEGIN"
  "    EXECUTE format ('GRANT SELECT ON lab_models, model_uses TO %I',"
  "      current_database () || '_technician');"
  "    EXECUTE format ('GRANT INSERT ON lab_models TO %I', current_database () || '_technician');"
  "    EXECUTE format ('GRANT INSERT ON model_uses TO %I', current_database () || '_admin');"
  "  END $$;"
  "DO $$ BEGIN"
  "  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = current_database () || '_admin') THEN"
  "    PERFORM smearscope_init_model_roles ();"
  "  END IF;"
  "END $$;",

  /* 7 -> 8: a signed case's images, cells, truth cells and corrections cannot change,
   * by anyone, the owner's login and hand-written SQL included (SQLSTATE SS001, told as
   * SIGNED). One trigger function per way a row finds its case, each a static query
   * (its plan is kept: a cell inserted costs one index probe of images and one of
   * cases), checking the old and the new row of an UPDATE. ss_store_copy signs the
   * copied cases only after their rows are in. */
#define PG_REFUSE_SIGNED(case_id) \
  "    SELECT accession, signed_by INTO signed_case FROM cases" \
  "      WHERE id = " case_id " AND status = 'signed';" \
  "    IF FOUND THEN" \
  "      RAISE EXCEPTION 'case ''%'' is signed by % and cannot change (% on % refused);" \
  " reopen it first if it must', signed_case.accession, signed_case.signed_by, TG_OP," \
  "        TG_TABLE_NAME USING ERRCODE = 'SS001';" \
  "    END IF;"
#define PG_SIGNED_GUARD(function, case_of_old, case_of_new) \
  "CREATE FUNCTION " function " () RETURNS trigger LANGUAGE plpgsql AS $$" \
  "  DECLARE signed_case RECORD;" \
  "  BEGIN" \
  "    IF TG_OP <> 'INSERT' THEN" PG_REFUSE_SIGNED (case_of_old) "    END IF;" \
  "    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;" \
  PG_REFUSE_SIGNED (case_of_new) \
  "    RETURN NEW;" \
  "  END $$;"
  PG_SIGNED_GUARD ("smearscope_signed_image", "OLD.case_id", "NEW.case_id")
  PG_SIGNED_GUARD ("smearscope_signed_cell",
                   "(SELECT case_id FROM images WHERE id = OLD.image_id)",
                   "(SELECT case_id FROM images WHERE id = NEW.image_id)")
  PG_SIGNED_GUARD ("smearscope_signed_correction",
                   "(SELECT i.case_id FROM cells c JOIN images i ON i.id = c.image_id"
                   " WHERE c.id = OLD.cell_id)",
                   "(SELECT i.case_id FROM cells c JOIN images i ON i.id = c.image_id"
                   " WHERE c.id = NEW.cell_id)")
  "CREATE TRIGGER images_signed_case BEFORE INSERT OR UPDATE OR DELETE ON images"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_signed_image ();"
  "CREATE TRIGGER cells_signed_case BEFORE INSERT OR UPDATE OR DELETE ON cells"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_signed_cell ();"
  "CREATE TRIGGER truth_cells_signed_case BEFORE INSERT OR UPDATE OR DELETE ON truth_cells"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_signed_cell ();"
  "CREATE TRIGGER corrections_signed_case BEFORE INSERT ON corrections"
  "  FOR EACH ROW EXECUTE FUNCTION smearscope_signed_correction ();",
#undef PG_SIGNED_GUARD
#undef PG_REFUSE_SIGNED

  /* 8 -> 9: the guard's third figure, as on SQLite. */
  "ALTER TABLE lab_models"
  "  ADD COLUMN n_earlier INTEGER CHECK (n_earlier IS NULL OR n_earlier >= 0),"
  "  ADD COLUMN earlier_before DOUBLE PRECISION NOT NULL DEFAULT 0"
  "    CHECK (earlier_before BETWEEN 0 AND 1),"
  "  ADD COLUMN earlier_after DOUBLE PRECISION NOT NULL DEFAULT 0"
  "    CHECK (earlier_after BETWEEN 0 AND 1),"
  "  ADD COLUMN earlier_cases TEXT NOT NULL DEFAULT '';",
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
