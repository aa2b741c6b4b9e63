/* The scale of a field, from the field itself: red cells are the ruler. They are the most
 * numerous objects of a smear and nearly the same size in every healthy adult (7-8 um),
 * so the radius at which the field's edges agree on the most circle centres is a red
 * cell's, and a white cell's typical size follows from it. */
#pragma once

#include "ss-image.h"

G_BEGIN_DECLS

/* How many of the estimate's red-cell diameters the detector's white-cell diameter
 * (SsDetectSettings.cell_diameter) is: calibrated on BCCD's train fields, whose pooled
 * red-cell estimate is 101.5 px, so that they get the 200 px the detector was tuned at
 * on them. (BCCD's train annotations themselves put a white cell at 1.90 red cells:
 * 197.1 / 103.9 px, the medians of the boxes not cut by the picture's edge.) */
#define SS_WHITE_TO_RED_DIAMETER 1.97

/* The fewest red-cell circles a field must show before its scale is believed. */
#define SS_SCALE_MIN_CIRCLES 6

typedef struct {
  double red_cell_diameter;   /* full-resolution pixels; 0 when none was found */
  double cell_diameter;       /* the typical white cell it implies (x SS_WHITE_TO_RED_DIAMETER) */
  int    n_circles;           /* red-cell circles found at that size */
  double support;             /* the mean share of their outlines the edges confirm, 0-1 */
  gboolean sure;              /* enough circles, well enough supported, to be used */
} SsScaleEstimate;

/* Estimate the scale of a field. Works on a copy of at most 256 px on its long side; a
 * red cell must span at least 7 px there (a field whose red cells are smaller than
 * about a 36th of its long side is outside its range, and comes back unsure). */
void ss_scale_estimate (const SsImage *image, SsScaleEstimate *estimate);

/* The fields of one case (one slide, one microscope) share a scale: a pool of their sure
 * estimates gives each field the median of those seen so far, its own included, which
 * steadies the single fields' spread (about a fifth of them are more than 15% off) and
 * gives a field with too few red cells of its own its case's scale. */
typedef struct _SsScalePool SsScalePool;

SsScalePool *ss_scale_pool_new (void);
void         ss_scale_pool_free (SsScalePool *pool);
/* Adds the estimate if it is sure; returns the median white-cell diameter of the pool's
 * estimates, or 0 if it has none, or if fewer than one in SS_SCALE_POOL_SURE_SHARE of
 * the fields offered so far were sure (pictures of single cells, with no red cells to
 * measure: the few that seem sure measured the cell's own texture; wbc-seg's dataset1). */
#define SS_SCALE_POOL_SURE_SHARE 5
double       ss_scale_pool_add (SsScalePool *pool, const SsScaleEstimate *estimate);
/* Adds the white-cell diameter a case's earlier field was analysed at, as if it were a
 * sure estimate, when its scale came from its red cells (scale_source "red-cells", as
 * the store keeps it); a fallback counts as a field that was not sure (for
 * SS_SCALE_POOL_SURE_SHARE); a setting says nothing of the camera and is passed over. */
void         ss_scale_pool_add_stored (SsScalePool *pool, double cell_diameter,
                                       const char *scale_source);
/* The scale of a batch before any of its fields is analysed, so that the first field too
 * gets the case's scale rather than its own alone (about a fifth of single fields are
 * more than 15% off): up to SS_SCALE_PRIME_FIELDS of the n paths, spread evenly, are
 * decoded (refusing images above max_pixels) and their estimates added. A field that
 * cannot be read is passed over here; its analysis reports it. When every one of the n
 * fields was primed, the pool takes no more (ss_scale_pool_add only answers); else each
 * primed field is added again when it is analysed, which moves a median of more than
 * SS_SCALE_PRIME_FIELDS fields little. */
#define SS_SCALE_PRIME_FIELDS 8
void         ss_scale_pool_prime (SsScalePool *pool, const char *const *paths, int n,
                                  gint64 max_pixels);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsScalePool, ss_scale_pool_free)

G_END_DECLS
