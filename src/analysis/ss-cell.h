/* One white cell found in a field, as every layer above the engine speaks of it. */
#pragma once

#include <glib.h>

#include "ss-classes.h"

G_BEGIN_DECLS

typedef struct {
  int x, y, width, height;  /* pixels of the full-resolution image */
} SsBox;

/* A binary mask over a box, run-length encoded: runs alternate background, foreground,
 * background... over the box's pixels in row-major order, starting with background
 * (possibly a run of 0). COCO's uncompressed RLE, but row-major. */
typedef struct {
  int      width, height;
  guint32 *runs;
  int      n_runs;
} SsRle;

typedef struct {
  double area;               /* cell, pixels */
  double perimeter;          /* cell outline, pixels */
  double circularity;        /* 4 pi area / perimeter^2, 1 for a disc */
  double nucleus_area;       /* pixels */
  double nc_ratio;           /* nucleus area / cytoplasm area */
  double nucleus_solidity;   /* nucleus area / the area of its convex hull (ss_mask_solidity):
                              * about 0.95 for a round nucleus, lower for a lobed, bilobed or
                              * kidney-shaped one; 0 when there is no nucleus (or a cell
                              * stored before it was measured) */
} SsMorphometrics;

/* Why the analysis doubts a call even at high confidence: reasons the model's own
 * confidence cannot give (docs/models.md, "A lymphocyte's nucleus is round"). Flags. */
typedef enum {
  SS_DOUBT_NONE = 0,
  SS_DOUBT_NUCLEUS_NOT_ROUND = 1 << 0,  /* called lymphocyte, but its nucleus is lobed or
                                         * indented (solidity under
                                         * SS_LYMPHOCYTE_MIN_SOLIDITY), as a granulocyte's or
                                         * a monocyte's is */
  SS_DOUBT_CAMERA_UNLIKE = 1 << 1,      /* its field's cells look unlike the cameras the
                                         * model learned (SsCameraCheck): whatever its
                                         * confidence, the model has not seen such cells */
  SS_DOUBT_TOO_SMALL = 1 << 2,          /* far smaller than a white cell at its field's
                                         * measured scale (SS_WHITE_CELL_LEAST_SIZE): the
                                         * analysis calls it not_a_cell, whatever the
                                         * model's call */
  SS_DOUBT_LARGE_FOR_LYMPHOCYTE = 1 << 3,  /* called lymphocyte, but larger than a
                                            * lymphocyte at its field's measured scale
                                            * (SS_LYMPHOCYTE_MAX_SIZE), as a monocyte is */
} SsDoubt;

/* A lymphocyte's nucleus is round: the least solidity (SsMorphometrics) that passes.
 * Chosen so that at most 5% of the right lymphocyte calls on PBC's training pictures fall
 * under it (4.7%; docs/models.md). */
#define SS_LYMPHOCYTE_MIN_SOLIDITY 0.85

/* A lymphocyte is small: the largest size (ss_cell_size) that passes. Chosen as the shape's threshold was, on PBC's training pictures alone: the
 * smallest value of two decimals above which at most 5% of the right lymphocyte calls
 * lie (7 of 194, 3.6%; 0.73 would take 7.7%); the monocytes it calls lymphocyte there
 * measure 0.82-1.11 (docs/models.md, "A lymphocyte is small"). */
#define SS_LYMPHOCYTE_MAX_SIZE 0.74

typedef struct {
  gint64          id;           /* store row id, 0 before it is stored */
  SsBox           box;
  SsRle           mask;         /* cell, over box */
  SsRle           nucleus_mask; /* nucleus, over box */
  int             predicted_class;  /* SsCellClass from the classifier */
  int             current_class;    /* after corrections */
  float           confidence;       /* probability of predicted_class */
  float           probabilities[SS_N_CLASSES];
  SsMorphometrics morphometrics;
  gboolean        user_drawn;   /* origin: TRUE if a person added it */
  gboolean        deleted;
  gboolean        reviewed;     /* a person's correction stands: relabelled, confirmed,
                                 * drawn, deleted or restored; FALSE as the model called it */
  guint           doubt;        /* SsDoubt flags the analysis raised (ss_cell_check_doubt) */
  float           camera_distance; /* the analysis's camera check of its crop (-1: none;
                                    * not stored) */
  gint64          version;      /* the store's count of this cell's changes, as loaded: a
                                 * correction based on it is refused once another made it
                                 * stale (ss_store_correct_cell) */
} SsCell;

void     ss_rle_clear (SsRle *rle);
void     ss_rle_copy (SsRle *dst, const SsRle *src);
/* Encode width*height bytes (nonzero = foreground). */
void     ss_rle_encode (SsRle *rle, const guint8 *mask, int width, int height);
/* Decode into width*height bytes (0 or 1). */
void     ss_rle_decode (const SsRle *rle, guint8 *mask);
gsize    ss_rle_area (const SsRle *rle);

/* How sure the analysis is that this is a white cell at all: 1 - P(not_a_cell) once a
 * classifier has scored it, else the stain detector's own score. The class confidence
 * (how sure of the type) is cell->confidence. */
float    ss_cell_detection_score (const SsCell *cell);
/* Whether a cell-type model gave the cell its class: a cell found with no such model has
 * only the detector's two probabilities, "a cell" (kept under other) and not_a_cell, and
 * its confidence says nothing of its type. */
gboolean ss_cell_is_typed (const SsCell *cell);
/* A cell's size against its field's typical white-cell diameter (SsDetectSettings
 * .cell_diameter, > 0): the diameter of a disc of its outline's area over it. Needs the
 * morphometrics. */
double   ss_cell_size (const SsCell *cell, double cell_diameter);
/* Whether the analysis, not the model, made the cell's call: too small to be a white cell
 * (SS_DOUBT_TOO_SMALL), so the model's confidence says nothing of it. */
gboolean ss_cell_called_by_size (const SsCell *cell);
/* Whether a reviewer should look at the cell before it counts: the model's confidence in
 * its class is under unsure_below, or the analysis doubts the call (cell->doubt), and no
 * person has reviewed or drawn it. A cell a person has looked at is never unsure. */
gboolean ss_cell_is_unsure (const SsCell *cell, double unsure_below);
/* Raise cell->doubt where the call and the cell's measured shape disagree: a model's
 * lymphocyte whose nucleus solidity is under SS_LYMPHOCYTE_MIN_SOLIDITY, or which is
 * larger than SS_LYMPHOCYTE_MAX_SIZE of cell_diameter, the field's typical white cell
 * (0: the field's scale was not measured, and size says nothing). Needs the
 * morphometrics; clears the flags it owns first. */
void     ss_cell_check_doubt (SsCell *cell, double cell_diameter);
/* The doubt to give first as the reason for a cell's doubt (the window's tile and the
 * overlay): its size (it made the call), its nucleus, its size for a lymphocyte, then its
 * camera; SS_DOUBT_NONE for none. */
SsDoubt  ss_cell_first_doubt (const SsCell *cell);
/* The words the JSON and CSV use for a cell's doubts, ";" between two: "nucleus-not-round",
 * "camera-unlike-training;nucleus-not-round", or NULL for none. */
const char *ss_doubt_to_string (guint doubt);
/* The square around a box's centre with the box's longer side: crops keep a cell's
 * shape, as the classifiers were trained on them. */
SsBox    ss_box_square (const SsBox *box);
/* Where a cell is cut for a classifier: the square of ss_box_square, widened by `margin`
 * of its side on every side; (*x, *y) its top-left corner and *side its side, in image
 * pixels. The analysis, the cell sets (cli "cells") and the evaluations all cut so. */
void     ss_box_frame (const SsBox *box, double margin, double *x, double *y, double *side);
/* Order cells (SsCell *) by how far their box's centre lies from the centre of a
 * width x height image, nearest first; equal distances keep their order. For pictures
 * taken with the labelled cell in the middle (PBC), whose label belongs to that cell. */
void     ss_cells_sort_by_centre (GPtrArray *cells, int width, int height);

SsCell  *ss_cell_new (void);
SsCell  *ss_cell_copy (const SsCell *cell);
void     ss_cell_free (SsCell *cell);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsCell, ss_cell_free)

G_END_DECLS
