/* The field under review at the viewer state's zoom, with the cells drawn over it;
 * selects cells, draws new ones, zooms and pans. A GtkScrollable: put it straight into
 * a GtkScrolledWindow, which then pans it on plain scrolling and shows the scrollbars. */
#pragma once

#include <gtk/gtk.h>

#include "ss-case-document.h"
#include "ss-viewer-state.h"

G_BEGIN_DECLS

#define SS_TYPE_SLIDE_VIEW (ss_slide_view_get_type ())
G_DECLARE_FINAL_TYPE (SsSlideView, ss_slide_view, SS, SLIDE_VIEW, GtkWidget)

/* Properties: "document" (SsCaseDocument), "state" (SsViewerState), "draw-mode"
 * (boolean: a left drag draws a new cell instead of selecting).
 * Signals: "error" (const char *message): drawing a cell failed; the message says why
 * and is meant for a toast. */
SsSlideView    *ss_slide_view_new           (void);
SsCaseDocument *ss_slide_view_get_document  (SsSlideView    *self);
void            ss_slide_view_set_document  (SsSlideView    *self,
                                             SsCaseDocument *document);
SsViewerState  *ss_slide_view_get_state     (SsSlideView    *self);
void            ss_slide_view_set_state     (SsSlideView    *self,
                                             SsViewerState  *state);
gboolean        ss_slide_view_get_draw_mode (SsSlideView    *self);
void            ss_slide_view_set_draw_mode (SsSlideView    *self,
                                             gboolean        draw_mode);
/* Scroll so the cell's box is in the middle of the view. A cell of another field is
 * centred once the state shows that field. */
void            ss_slide_view_center_on     (SsSlideView    *self,
                                             SsCellItem     *item);

/* The view's geometry, pure arithmetic (tested without a display).
 * "Content" is the field scaled: content pixel = image pixel * scale. The scroll values
 * are the adjustments' values: the content pixel at the view's left and top edges. A
 * field smaller than the view is centred and its scroll value is 0. */
typedef struct {
  int    image_width, image_height;   /* pixels of the field */
  int    view_width, view_height;     /* the widget's allocation */
  double scale;                       /* widget pixels per image pixel */
  double scroll_x, scroll_y;
} SsSlideGeometry;

/* Where the image's top-left corner lies in widget coordinates (whole pixels, so the
 * texture and the overlays land on the same pixel grid). */
void   ss_slide_geometry_get_origin      (const SsSlideGeometry *geometry,
                                          double                *x,
                                          double                *y);
void   ss_slide_geometry_widget_to_image (const SsSlideGeometry *geometry,
                                          double                 widget_x,
                                          double                 widget_y,
                                          double                *image_x,
                                          double                *image_y);
void   ss_slide_geometry_image_to_widget (const SsSlideGeometry *geometry,
                                          double                 image_x,
                                          double                 image_y,
                                          double                *widget_x,
                                          double                *widget_y);
/* The largest scroll value along each axis (0 when the field fits). */
void   ss_slide_geometry_get_max_scroll  (const SsSlideGeometry *geometry,
                                          double                *max_x,
                                          double                *max_y);
/* The scroll values that keep the image point under (widget_x, widget_y) there at
 * new_scale, clamped to the content. */
void   ss_slide_geometry_zoom_about      (const SsSlideGeometry *geometry,
                                          double                 new_scale,
                                          double                 widget_x,
                                          double                 widget_y,
                                          double                *scroll_x,
                                          double                *scroll_y);
/* The scroll values that put the image point (image_x, image_y) in the view's middle,
 * clamped to the content. */
void   ss_slide_geometry_center_on       (const SsSlideGeometry *geometry,
                                          double                 image_x,
                                          double                 image_y,
                                          double                *scroll_x,
                                          double                *scroll_y);
/* Where the edge before pixel `position` of an image axis `size` pixels long falls in
 * widget coordinates when pixel p is drawn at origin + p * k: the image's own edges
 * exactly, the edges between its tiles rounded to the device pixel grid (scale_factor
 * device pixels per widget pixel), so tiles drawn side by side meet without a seam. */
double ss_slide_geometry_tile_edge       (double                 origin,
                                          double                 k,
                                          int                    position,
                                          int                    size,
                                          int                    scale_factor);
/* The scale at which the whole field fits the view, within the viewer's limits. */
double ss_slide_geometry_fit_scale       (int                    image_width,
                                          int                    image_height,
                                          int                    view_width,
                                          int                    view_height);

/* A mask's boundary as closed polygons along the pixels' edges, in image pixels:
 * outer boundaries run clockwise on screen (y down), holes counter-clockwise. Corners
 * only: a straight run of pixel edges is one segment, so a filled rectangle is one
 * loop of 4 points. Pixels that touch only at a corner belong to separate loops. */
typedef struct {
  guint   n_loops;
  guint  *loop_ends;   /* n_loops: loop i is points [loop_ends[i - 1], loop_ends[i]) */
  guint   n_points;    /* = the number of segments, every loop being closed */
  float  *points;      /* n_points (x, y) pairs */
} SsSlideOutline;

/* The outline of rle, whose box's top-left corner is (x, y) in the image. */
SsSlideOutline *ss_slide_outline_new_from_rle (const SsRle          *rle,
                                               int                   x,
                                               int                   y);
/* A copy whose loops keep only the points needed to stay within tolerance (image
 * pixels) of the original (Douglas-Peucker); for drawing at small zooms. */
SsSlideOutline *ss_slide_outline_simplify     (const SsSlideOutline *outline,
                                               double                tolerance);
void            ss_slide_outline_free         (SsSlideOutline       *outline);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsSlideOutline, ss_slide_outline_free)

G_END_DECLS
