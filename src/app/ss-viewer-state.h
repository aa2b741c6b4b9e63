/* What the reviewer is looking at, apart from the widgets that show it (as GNOME
 * Papers' document model): the field, the zoom, the selected cells, the overlay layers.
 * The slide view, the gallery and the field strip all read and set it. */
#pragma once

#include <gtk/gtk.h>

#include "ss-cell-item.h"

G_BEGIN_DECLS

#define SS_TYPE_VIEWER_STATE (ss_viewer_state_get_type ())
G_DECLARE_FINAL_TYPE (SsViewerState, ss_viewer_state, SS, VIEWER_STATE, GObject)

#define SS_VIEWER_MIN_SCALE 0.02
#define SS_VIEWER_MAX_SCALE 8.0

SsViewerState *ss_viewer_state_new (void);

/* Properties (all notify):
 * "image-index" (uint): the field shown;
 * "scale" (double, SS_VIEWER_MIN_SCALE..MAX): screen pixels per image pixel;
 * "fit" (boolean): the scale follows the view's size (set FALSE by any zoom);
 * "current" (SsCellItem *, may be NULL): the cell keys act on, the one in focus;
 * "show-boxes", "show-outlines", "show-labels" (boolean): the overlay layers;
 * "show-truth" (boolean): the ground truth imported for the field, a layer of its own;
 * "dim-below" (double 0..1): cells less certain than this are drawn dimmed;
 * "hover" (SsCellItem *, may be NULL): the cell under the pointer. */
guint        ss_viewer_state_get_image_index (SsViewerState *self);
void         ss_viewer_state_set_image_index (SsViewerState *self,
                                              guint          index);
double       ss_viewer_state_get_scale       (SsViewerState *self);
void         ss_viewer_state_set_scale       (SsViewerState *self,
                                              double         scale);
gboolean     ss_viewer_state_get_fit         (SsViewerState *self);
void         ss_viewer_state_set_fit         (SsViewerState *self,
                                              gboolean       fit);
SsCellItem  *ss_viewer_state_get_current     (SsViewerState *self);
/* Setting the current cell also moves to its field and makes it the only selected
 * cell, unless extend (then it is added to the selection). */
void         ss_viewer_state_set_current     (SsViewerState *self,
                                              SsCellItem    *item,
                                              gboolean       extend);
gboolean     ss_viewer_state_get_show_boxes    (SsViewerState *self);
gboolean     ss_viewer_state_get_show_outlines (SsViewerState *self);
gboolean     ss_viewer_state_get_show_labels   (SsViewerState *self);
gboolean     ss_viewer_state_get_show_truth    (SsViewerState *self);
double       ss_viewer_state_get_dim_below   (SsViewerState *self);
SsCellItem  *ss_viewer_state_get_hover       (SsViewerState *self);
void         ss_viewer_state_set_hover       (SsViewerState *self,
                                              SsCellItem    *item);

/* The selection: the cells a relabel acts on (the current cell is always one of them
 * when set). "selection-changed" is emitted after any change. */
gboolean     ss_viewer_state_is_selected     (SsViewerState *self,
                                              SsCellItem    *item);
void         ss_viewer_state_select          (SsViewerState *self,
                                              SsCellItem    *item,
                                              gboolean       selected);
void         ss_viewer_state_select_only     (SsViewerState *self,
                                              SsCellItem   **items,
                                              guint          n_items);
void         ss_viewer_state_clear_selection (SsViewerState *self);
/* The selected cells (transfer container), the current one first. */
GPtrArray   *ss_viewer_state_get_selection   (SsViewerState *self);
guint        ss_viewer_state_get_n_selected  (SsViewerState *self);

/* Multiply the scale by factor (clamped) and leave fit; the slide view keeps the point
 * under the pointer (or the view's centre) in place. */
void         ss_viewer_state_zoom            (SsViewerState *self,
                                              double         factor);

G_END_DECLS
