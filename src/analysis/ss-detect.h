/* White-cell proposals from the stain: nuclei are found on a reduced copy of the field
 * with a stain colour model and Otsu's threshold, lobes are grouped by morphology,
 * touching cells are split with distance transform + watershed, and each proposal's
 * cell and nucleus masks are then refined at full resolution inside its box only. */
#pragma once

#include "ss-cell.h"
#include "ss-image.h"

G_BEGIN_DECLS

typedef struct {
  double   scale;            /* proposals are made at this fraction of full size */
  double   cell_diameter;    /* typical white cell across, full-resolution pixels */
  double   min_nucleus_area; /* smaller stained objects (platelets, debris) are dropped */
  double   min_stain;        /* the least nucleus stain (blue minus green, 8-bit) */
  gboolean split_touching;   /* watershed touching cells apart */
} SsDetectSettings;

typedef struct {
  double preprocess_ms;  /* scale, bilateral, equalise, green mask */
  double propose_ms;     /* stain threshold, morphology, watershed */
  double refine_ms;      /* full-resolution cell and nucleus masks */
} SsDetectTimings;

void       ss_detect_settings_init (SsDetectSettings *settings);
/* Rescale the defaults to another magnification: areas follow the square of the typical
 * white-cell diameter, and the working scale keeps a cell the same size in pixels. */
void       ss_detect_settings_for_diameter (SsDetectSettings *settings, double diameter);

/* The nucleus stain of one pixel: blue minus green. Nuclei (haematoxylin/azure) are
 * blue-violet and absorb green; red cells and plasma are pink, grey or yellow. */
static inline float
ss_stain_score (const guint8 *rgb)
{
  return (float) rgb[2] - (float) rgb[1];
}

/* Full-resolution nucleus score: the stain plus darkness in green (the channel nuclei
 * absorb most), in [0, 510]; it separates nucleus from cytoplasm better than either. */
static inline float
ss_nucleus_score (const guint8 *rgb)
{
  return (float) rgb[2] - 2.0f * rgb[1] + 255.0f;
}

/* Every white cell proposal of a field, as SsCell (box, mask, nucleus_mask; class
 * "other"; confidence = proposal score from the stain). timings may be NULL. */
GPtrArray *ss_detect_cells (const SsImage *image, const SsDetectSettings *settings,
                            SsDetectTimings *timings);
/* A single-cell crop (as in wbc-seg): the cell containing or nearest the centre, with
 * its masks over the whole crop (box = the crop). NULL if no nucleus is found. */
SsCell    *ss_detect_centre_cell (const SsImage *crop, const SsDetectSettings *settings);

G_END_DECLS
