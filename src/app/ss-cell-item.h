/* One cell of an open case as the window shows it: the stored SsCell, the field it
 * lies in, and whether a person has reviewed it. Changed only by SsCaseDocument, which
 * writes every change to the store first; widgets watch its properties. */
#pragma once

#include <gtk/gtk.h>

#include "ss-cell.h"

G_BEGIN_DECLS

#define SS_TYPE_CELL_ITEM (ss_cell_item_get_type ())
G_DECLARE_FINAL_TYPE (SsCellItem, ss_cell_item, SS, CELL_ITEM, GObject)

/* Takes ownership of cell. image_index: the field's place in the case (0-based). */
SsCellItem   *ss_cell_item_new            (SsCell      *cell,
                                           guint        image_index,
                                           gint64       image_id);
const SsCell *ss_cell_item_get_cell       (SsCellItem  *self);
gint64        ss_cell_item_get_id         (SsCellItem  *self);
gint64        ss_cell_item_get_image_id   (SsCellItem  *self);
guint         ss_cell_item_get_image_index (SsCellItem *self);
const SsBox  *ss_cell_item_get_box        (SsCellItem  *self);
/* Properties: "cell-class" (int, SsCellClass), "confidence" (double, the model's),
 * "reviewed" (boolean), "deleted" (boolean), "unsure" (boolean: not reviewed and the
 * model's confidence under the document's unsure-below), "label" (string, e.g.
 * "Neutrophil 97%"), "state-text" ("reviewed" / "unsure" / "as called"). */
int           ss_cell_item_get_cell_class (SsCellItem  *self);
gboolean      ss_cell_item_get_typed      (SsCellItem  *self);
/* Whether the analysis, not the model, made the call: too small for a white cell at its
 * field's scale (SS_DOUBT_TOO_SMALL), so the model's confidence says nothing of it */
gboolean      ss_cell_item_get_by_size    (SsCellItem  *self);
double        ss_cell_item_get_confidence (SsCellItem  *self);
gboolean      ss_cell_item_get_reviewed   (SsCellItem  *self);
gboolean      ss_cell_item_get_deleted    (SsCellItem  *self);
gboolean      ss_cell_item_get_unsure     (SsCellItem  *self);
/* The review state in words: "reviewed", "unsure: nucleus not round", "as called"... */
const char   *ss_cell_item_get_state_text (SsCellItem  *self);
/* Why an unsure, unreviewed cell is unsure beyond its confidence (the analysis's doubt):
 * a short phrase for a gallery tile (the cell's own doubt before its camera's), sentences
 * for a tooltip (newly allocated; the camera's after the cell's own); NULL when there is
 * none. */
const char   *ss_cell_item_doubt_phrase   (SsCellItem  *self);
char         *ss_cell_item_dup_doubt_sentence (SsCellItem *self);
char         *ss_cell_item_dup_label      (SsCellItem  *self);
/* The label drawn on the field: the same, with a "?" after the class while the cell is
 * unsure and not reviewed ("Lymphocyte? 100%") */
char        *ss_cell_item_dup_field_label (SsCellItem *self);
/* The cell's nucleus-to-cytoplasm ratio, for tooltips. */
double        ss_cell_item_get_nc_ratio   (SsCellItem  *self);
/* A small picture of the cell (its box framed as the classifier frames it, at most
 * size x size pixels), made once from the field and kept; NULL until set. */
GdkTexture   *ss_cell_item_get_crop       (SsCellItem  *self);
void          ss_cell_item_set_crop       (SsCellItem  *self,
                                           GdkTexture  *crop);

/* For SsCaseDocument only: the store has accepted the change. */
void          ss_cell_item_set_cell_class (SsCellItem  *self,
                                           int          cell_class);
void          ss_cell_item_set_reviewed   (SsCellItem  *self,
                                           gboolean     reviewed);
void          ss_cell_item_set_deleted    (SsCellItem  *self,
                                           gboolean     deleted);
/* The store's version of the cell as last read: corrections are based on it. */
gint64        ss_cell_item_get_version    (SsCellItem  *self);
void          ss_cell_item_set_version    (SsCellItem  *self,
                                           gint64       version);
void          ss_cell_item_set_unsure_below (SsCellItem *self,
                                           double       unsure_below);

/* The translated, capitalised name of a class ("Neutrophil"). */
const char   *ss_cell_class_display_name  (int          cell_class);
/* The colour a class is drawn in, the same in every view. */
void          ss_cell_class_color         (int          cell_class,
                                           GdkRGBA     *color);

G_END_DECLS
