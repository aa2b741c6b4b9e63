/* The class table and the label table that maps every shared data set's folder names
 * onto it. docs/label-table.md is the same table in words. */
#include "ss-config.h"

#include "ss-classes.h"

#include <glib/gi18n.h>
#include <string.h>

static const char *const class_names[SS_N_CLASSES] = {
  "lymphoblast", "lymphocyte", "neutrophil", "monocyte",
  "eosinophil", "basophil", "other", "not_a_cell",
};

const char *
ss_class_name (int cls)
{
  return cls >= 0 && cls < SS_N_CLASSES ? class_names[cls] : "unknown";
}

int
ss_class_from_name (const char *name)
{
  for (int i = 0; i < SS_N_CLASSES; i++)
    if (g_ascii_strcasecmp (name, class_names[i]) == 0)
      return i;
  return SS_CLASS_NONE;
}

char
ss_class_key (int cls)
{
  return cls >= 0 && cls < SS_N_CLASSES ? (char) ('1' + cls) : '?';
}

int
ss_class_from_key (char key)
{
  return key >= '1' && key < '1' + SS_N_CLASSES ? key - '1' : SS_CLASS_NONE;
}

gboolean
ss_class_is_counted (int cls)
{
  return cls >= 0 && cls < SS_CLASS_NOT_A_CELL;
}

/* source label -> the names it may stand for, most specific first. A model gets the
 * first of these that is among its classes. */
static const struct {
  const char *label;
  const char *maps_to[4];
} label_table[] = {
  /* aria-all: benign hematogones are normal B-lymphocyte precursors */
  { "benign", { "normal", "lymphocyte", NULL } },
  { "early", { "lymphoblast", "blast", NULL } },
  { "pre", { "lymphoblast", "blast", NULL } },
  { "pro", { "lymphoblast", "blast", NULL } },
  /* pbc */
  { "erythroblast", { "other", NULL } },
  { "ig", { "other", NULL } },
  { "platelet", { "not_a_cell", NULL } },
  { "lymphocyte", { "lymphocyte", "normal", NULL } },
  { "neutrophil", { "neutrophil", "normal", NULL } },
  { "monocyte", { "monocyte", "normal", NULL } },
  { "eosinophil", { "eosinophil", "normal", NULL } },
  { "basophil", { "basophil", "normal", NULL } },
  /* bccd crops */
  { "rbc", { "not_a_cell", NULL } },
  { "platelets", { "not_a_cell", NULL } },
  { "background", { "not_a_cell", NULL } },
  { "lymphoblast", { "lymphoblast", "blast", NULL } },
};

static int
find_target (const char *name, const char *const *targets, int n_targets)
{
  for (int i = 0; i < n_targets; i++)
    if (g_ascii_strcasecmp (name, targets[i]) == 0)
      return i;
  return -1;
}

int
ss_label_map (const char *label, const char *const *targets, int n_targets)
{
  int exact = find_target (label, targets, n_targets);
  if (exact >= 0)
    return exact;
  for (gsize i = 0; i < G_N_ELEMENTS (label_table); i++)
    if (g_ascii_strcasecmp (label, label_table[i].label) == 0)
      for (int j = 0; j < 4 && label_table[i].maps_to[j] != NULL; j++)
        {
          int t = find_target (label_table[i].maps_to[j], targets, n_targets);
          if (t >= 0)
            return t;
        }
  return -1;
}

const char *
ss_class_display_name (int cls)
{
  switch (cls)
    {
    case SS_CLASS_LYMPHOBLAST: return _("Lymphoblast");
    case SS_CLASS_LYMPHOCYTE:  return _("Lymphocyte");
    case SS_CLASS_NEUTROPHIL:  return _("Neutrophil");
    case SS_CLASS_MONOCYTE:    return _("Monocyte");
    case SS_CLASS_EOSINOPHIL:  return _("Eosinophil");
    case SS_CLASS_BASOPHIL:    return _("Basophil");
    case SS_CLASS_OTHER:       return _("Other");
    case SS_CLASS_NOT_A_CELL:  return _("Not a cell");
    default:                   return _("Unknown");
    }
}
