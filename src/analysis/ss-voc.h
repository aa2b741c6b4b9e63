/* Pascal VOC annotation files (as BCCD ships them): object names and integer boxes. */
#pragma once

#include "ss-cell.h"

G_BEGIN_DECLS

typedef struct {
  char    *name;       /* as written in <name>, e.g. "WBC" */
  SsBox    box;        /* x = xmin, y = ymin, width = xmax - xmin, height = ymax - ymin */
  gboolean difficult;
  int      line;       /* where its <object> starts in the file, for messages */
} SsVocObject;

typedef struct {
  char   *filename;    /* <filename> */
  int     width, height;
  GArray *objects;     /* SsVocObject */
} SsVocAnnotation;

/* Objects a file may hold; more is refused as no annotation of a field. */
#define SS_VOC_MAX_OBJECTS 100000

/* Read an annotation file, or NULL with an SS_ANALYSIS_ERROR_DATA error naming the file
 * and the line. Numbers must be finite and within +-1e7 (a box edge may be written
 * "12.0"); GMarkup knows only XML's five entities and character references, so no
 * entity is ever expanded from a DTD. */
SsVocAnnotation *ss_voc_load (const char *path, GError **error);
/* As ss_voc_load, from text; errors are G_MARKUP_ERROR and name the line. */
SsVocAnnotation *ss_voc_parse (const char *text, gssize length, GError **error);
void             ss_voc_free (SsVocAnnotation *annotation);
/* The boxes of objects named `name` (case-insensitive) with a positive area; returns
 * how many were written to boxes (allocated, free with g_free). */
int              ss_voc_boxes (const SsVocAnnotation *annotation, const char *name, SsBox **boxes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsVocAnnotation, ss_voc_free)

G_END_DECLS
