/* Pascal VOC annotation files (as BCCD ships them): object names and integer boxes. */
#pragma once

#include "ss-cell.h"

G_BEGIN_DECLS

typedef struct {
  char    *name;       /* as written in <name>, e.g. "WBC" */
  SsBox    box;        /* x = xmin, y = ymin, width = xmax - xmin, height = ymax - ymin */
  gboolean difficult;
} SsVocObject;

typedef struct {
  char   *filename;    /* <filename> */
  int     width, height;
  GArray *objects;     /* SsVocObject */
} SsVocAnnotation;

SsVocAnnotation *ss_voc_load (const char *path, GError **error);
SsVocAnnotation *ss_voc_parse (const char *text, gssize length, GError **error);
void             ss_voc_free (SsVocAnnotation *annotation);
/* The boxes of objects named `name` (case-insensitive) with a positive area; returns
 * how many were written to boxes (allocated, free with g_free). */
int              ss_voc_boxes (const SsVocAnnotation *annotation, const char *name, SsBox **boxes);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsVocAnnotation, ss_voc_free)

G_END_DECLS
