/* The cell classes of DESIGN.md: one table, used by every layer. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SS_CLASS_LYMPHOBLAST = 0,
  SS_CLASS_LYMPHOCYTE,
  SS_CLASS_NEUTROPHIL,
  SS_CLASS_MONOCYTE,
  SS_CLASS_EOSINOPHIL,
  SS_CLASS_BASOPHIL,
  SS_CLASS_OTHER,
  SS_CLASS_NOT_A_CELL,
  SS_N_CLASSES
} SsCellClass;

#define SS_CLASS_NONE (-1)

const char *ss_class_name (int cls);        /* "lymphoblast" ... "not_a_cell" */
/* The class as people read it, in their language: "Lymphoblast" ... "Not a cell"
 * (translated; the window, the PDF report). */
const char *ss_class_display_name (int cls);
int         ss_class_from_name (const char *name);  /* SS_CLASS_NONE if unknown */
char        ss_class_key (int cls);         /* '1' ... '8': the relabel key */
int         ss_class_from_key (char key);
gboolean    ss_class_is_counted (int cls);  /* WBCs: classes 0-6 */

/* The documented label table (docs/label-table.md): maps a folder or label name of a
 * shared data set to a class among `targets` (a model's class names). Returns the
 * index in targets, or -1 if the name maps to none of them. Exact names first, then the
 * table's synonyms. */
int ss_label_map (const char *label, const char *const *targets, int n_targets);

G_END_DECLS
