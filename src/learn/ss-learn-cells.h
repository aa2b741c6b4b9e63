/* The cells a lab has taught: every reviewed cell of a case store (relabelled,
 * confirmed, drawn, or deleted as no white cell), and every cell of a signed case (its
 * sign-off confirms it), cropped from its image as the analysis frames it, for the
 * cell-type model to learn from (issue 30). */
#pragma once

#include "ss-dataset.h"
#include "ss-store.h"

G_BEGIN_DECLS

typedef struct {
  SsDataset *cells;      /* crops at the model's input; labels: the class a person gave
                          * (not_a_cell for a deleted cell the model had found) */
  gint64    *image_ids;  /* cells->n: the store's image each crop comes from */
  int        n_cases, n_images;
  GPtrArray *skipped;    /* char *: one sentence per image not used, and why */
  GPtrArray *cases;      /* char *: the accessions of the cases whose cells are here */
} SsLearnCells;

/* Gather from store the cases named in accessions (NULL-terminated; NULL: every case),
 * for a model of spec (its classes, input size and resampling; classes the model lacks
 * are skipped). An image whose file is gone or whose bytes no longer match the SHA-256
 * stored at analysis is skipped and said so in skipped, never read as if it were the
 * same. progress (may be NULL) is told after each field read, of how many there are in
 * the cases gathered; once cancellable (may be NULL) is cancelled it gives up between
 * two fields with G_IO_ERROR_CANCELLED. NULL with error only then and when the store
 * cannot be read. */
typedef void (*SsLearnCellsProgress) (guint fields_read, guint n_fields, gpointer user_data);
SsLearnCells *ss_learn_cells_gather (SsStore *store, const char *const *accessions,
                                     const SsModelSpec *spec, gint64 max_pixels,
                                     GCancellable *cancellable, SsLearnCellsProgress progress,
                                     gpointer user_data, GError **error);
/* Labelled crops from elsewhere (a folder of class folders), taken over: each crop its
 * own picture. */
SsLearnCells *ss_learn_cells_from_dataset (SsDataset *cells);
void          ss_learn_cells_free (SsLearnCells *cells);

/* Split the cells by image (never one image on both sides): about `fraction` of the
 * images, chosen by seed, go to held_back (indices into cells->cells), the rest to
 * learn. At least one image goes to each side when there are two or more. */
void          ss_learn_cells_split (const SsLearnCells *cells, double fraction, guint64 seed,
                                    GArray *learn, GArray *held_back);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsLearnCells, ss_learn_cells_free)

G_END_DECLS
