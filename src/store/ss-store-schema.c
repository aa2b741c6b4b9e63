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
};
