/* Annotation files of other tools, Pascal VOC and COCO, read as ground truth for a
 * stored case (smearscope-cli import; docs/exchange.md, "In"). Reading stores nothing:
 * the caller hands the images read to ss_store_add_truth, all files in one go. */
#pragma once

#include "ss-store.h"

G_BEGIN_DECLS

#define SS_REPORT_IMPORT_ERROR (ss_report_import_error_quark ())
GQuark ss_report_import_error_quark (void);

typedef enum {
  SS_REPORT_IMPORT_ERROR_READ,     /* the file cannot be read */
  SS_REPORT_IMPORT_ERROR_INVALID,  /* not VOC or COCO, or a value that makes no sense */
  SS_REPORT_IMPORT_ERROR_LIMIT,    /* beyond one of the limits below */
  SS_REPORT_IMPORT_ERROR_LABEL,    /* a label that is no class, WBC, RBC or platelet */
} SsReportImportError;

/* Limits on one file, far beyond any real annotation of microscope fields; a file
 * beyond them is refused whole (docs/exchange.md). */
#define SS_REPORT_IMPORT_MAX_BYTES       (64 * 1024 * 1024)
#define SS_REPORT_IMPORT_MAX_ANNOTATIONS 100000   /* VOC objects or COCO annotations */
#define SS_REPORT_IMPORT_MAX_DEPTH       32       /* JSON nesting; COCO needs 5 */
/* JSON values of one file: json-glib holds each as a node, 8 million take about 660 MB;
 * a white cell's RLE mask is some 400 values, so this is 20,000 cells with masks */
#define SS_REPORT_IMPORT_MAX_JSON_VALUES 8000000
#define SS_REPORT_IMPORT_MAX_SIDE        30000    /* an image's width or height, pixels */
#define SS_REPORT_IMPORT_MAX_PIXELS      (100 * 1000 * 1000)  /* an image's width x height */
#define SS_REPORT_IMPORT_MAX_POINTS      10000    /* polygon points of one annotation */
/* The work on one file's masks: each mask's box pixels, plus its rows times its polygon
 * points; 1e8 take about a second on the 2-core test machine. 5,000 cells of 200 x 200
 * pixels spend 2e8. */
#define SS_REPORT_IMPORT_MAX_MASK_WORK   ((gint64) 500000000)

/* One annotation file read. */
typedef struct {
  char       *path;         /* as given */
  char       *name;         /* its basename, the source named in the store */
  const char *format;       /* "voc" or "coco" */
  char       *sha256;       /* of its bytes */
  GArray     *images;       /* SsTruthImage, ready for ss_store_add_truth; their strings
                             * and cells belong to this struct */
  guint       n_cells;      /* truth cells in all images */
  guint       n_typed;      /* of which with a class */
  guint       n_crowd;      /* COCO annotations with iscrowd 1, skipped */
  GHashTable *skipped;      /* label -> count of the objects of no white cell (RBC,
                             * platelets) left out */
  gint64      n_pixels_outside;  /* mask pixels outside their box, left out */
  GPtrArray  *strings;      /* owns the strings the images point to */
} SsTruthFile;

/* Read the annotation file at path as format "voc" or "coco". VOC objects named WBC
 * (any case) become truth cells without a class; names of Smearscope classes, or that
 * the label table (docs/label-table.md) maps to one, cells of that class; RBC,
 * platelets and background are counted and left out; any other name is an error. COCO
 * categories are mapped by name alike. NULL with an SS_REPORT_IMPORT_ERROR whose
 * message names the file and the place in it (the XML line, the JSON member). */
SsTruthFile *ss_report_truth_file_load (const char *path, const char *format, GError **error);
void         ss_report_truth_file_free (SsTruthFile *file);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsTruthFile, ss_report_truth_file_free)

/* One line on what the file gave: images, truth cells typed and untyped, and what was
 * left out. */
char        *ss_report_truth_file_summary (const SsTruthFile *file);

G_END_DECLS
