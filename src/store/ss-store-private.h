/* What only the store itself uses: the schema, the blob formats and the hash chain. */
#pragma once

#include <sqlite3.h>

#include "ss-store.h"

G_BEGIN_DECLS

/* PRAGMA application_id of a case store: "SSCS" big-endian, so `file` and other tools
 * can tell a case store from any other SQLite file. */
#define SS_STORE_APPLICATION_ID 0x53534353

/* The SQL that brings a store from schema version i to i + 1, for i = 0 .. version-1. */
extern const char *const ss_store_migrations[SS_STORE_SCHEMA_VERSION];

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

#define SS_STORE_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

G_END_DECLS
