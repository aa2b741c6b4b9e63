/* The cell gallery: every living cell of the open case as a small picture, in the
 * review queue's order, by class, or all, with its selection kept in step with the
 * viewer state's. */
#pragma once

#include <gtk/gtk.h>

#include "ss-case-document.h"
#include "ss-viewer-state.h"

G_BEGIN_DECLS

#define SS_TYPE_CELL_GALLERY (ss_cell_gallery_get_type ())
G_DECLARE_FINAL_TYPE (SsCellGallery, ss_cell_gallery, SS, CELL_GALLERY, GtkWidget)

/* Properties: "document" (SsCaseDocument), "state" (SsViewerState), "mode" (string:
 * "queue", "class" or "all"), "visible-class" (int: the class "class" mode shows),
 * "sort-descending" (boolean: "class" mode shows the most certain first).
 *
 * Signals: "error" (const char *message) when a correction made here failed;
 * "show-in-field" (SsCellItem *) after a tile was activated or "Show in field" chosen
 * (the state's current cell is already set to it).
 *
 * Actions: gallery.relabel (i), gallery.confirm, gallery.delete, gallery.show-in-field
 * act on the gallery's selection; gallery.refresh re-sorts the shown cells; gallery.mode,
 * gallery.visible-class and gallery.sort-descending set the properties of those names. */
GtkWidget      *ss_cell_gallery_new                 (void);
SsCaseDocument *ss_cell_gallery_get_document        (SsCellGallery  *self);
void            ss_cell_gallery_set_document        (SsCellGallery  *self,
                                                     SsCaseDocument *document);
SsViewerState  *ss_cell_gallery_get_state           (SsCellGallery  *self);
void            ss_cell_gallery_set_state           (SsCellGallery  *self,
                                                     SsViewerState  *state);
const char     *ss_cell_gallery_get_mode            (SsCellGallery  *self);
void            ss_cell_gallery_set_mode            (SsCellGallery  *self,
                                                     const char     *mode);
int             ss_cell_gallery_get_visible_class   (SsCellGallery  *self);
void            ss_cell_gallery_set_visible_class   (SsCellGallery  *self,
                                                     int             cell_class);
gboolean        ss_cell_gallery_get_sort_descending (SsCellGallery  *self);
void            ss_cell_gallery_set_sort_descending (SsCellGallery  *self,
                                                     gboolean        sort_descending);
/* Recompute the order of the shown cells (the review queue, or the class's cells).
 * Nothing else reorders them: a cell relabelled or confirmed keeps its place. */
void            ss_cell_gallery_refresh             (SsCellGallery  *self);

G_END_DECLS
