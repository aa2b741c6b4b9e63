/* ss-slide-view.c: the field under review with its cells drawn over it.
 *
 * A frame is a few dozen tiles and one small cairo node. The field's picture is cut
 * into tiles of 256 pixels and only those in view are drawn; below 100% the tiles are
 * those of a copy scaled to the zoom with gdk-pixbuf's filter (GTK 4.8 can only sample
 * a texture linearly, which aliases when shrinking). Under GSK's cairo renderer, which
 * converts every texture it draws anew each frame, the tiles are drawn from cairo images
 * kept instead. Nothing slow happens in a frame: a field not decoded yet is decoded in a
 * worker thread (its cells are drawn on a plain background meanwhile), scaled copies are
 * made in a worker thread and kept by field and scale, and the outlines of a field's
 * cells are traced in a worker thread when it is first shown. The cells' boxes,
 * outlines and labels are drawn with cairo into tiles of 256 device pixels, each drawn
 * once per zoom and kept while near the view: panning draws only the tiles that come
 * into view, and a changed cell redraws only the tiles it touches. The current cell,
 * the selection, the hovered cell, the rubber band and the box being drawn change
 * often and touch few cells: they are drawn over the tiles every frame. While a zoom is
 * going on (pinch, wheel) the last tiles and field image are stretched, and drawn anew
 * once it pauses. Each cell's outlines are traced from its masks once and kept, with
 * simplified copies for small zooms; the last few fields shown keep theirs and their
 * overlay, so going back to one draws nothing again. */
#define G_LOG_DOMAIN "smearscope-slide-view"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "ss-slide-view.h"
#include "ss-background.h"

/* Zoom steps: keys and wheel clicks. A touchpad scrolls in pixels: 200 of them zoom e
 * times. */
#define ZOOM_STEP_KEY           1.25
#define ZOOM_STEP_WHEEL         1.15
#define ZOOM_SURFACE_PIXELS     200.0
/* The overlay is drawn in square tiles of this many device pixels, each drawn once per
 * zoom and kept while it is in or near the view; a changed cell draws again the few
 * its drawing reaches into. Each is drawn with a margin of TILE_MARGIN device pixels
 * that is not shown: cairo's rasterizer antialiases the pixels at an image's edge a
 * little differently, which would show where tiles meet. */
#define TILE_PIXELS             256
#define TILE_MARGIN             4
/* How far a cell's drawing reaches beyond its box (content pixels): halos and marker,
 * and the label tag above the box, which may be wider than the box. */
#define CELL_REACH              12.0
#define LABEL_REACH_UP          30.0
#define LABEL_REACH_RIGHT       200.0
/* A truth cell's tag hangs below its box, where the model's label never is. */
#define TRUTH_REACH_DOWN        30.0
/* A zoom is over when the scale has not changed for this long (ms): then the field and
 * the overlay are drawn again at the new scale. */
#define ZOOM_SETTLE_MS          120
/* Outlines drawn below EXACT_OUTLINE_SCALE are simplified to within about half a screen
 * pixel (the staircase of the mask's pixels is then finer than that anyway), which
 * cuts the points cairo strokes several times: level l is for scales down to
 * EXACT_OUTLINE_SCALE / 2^(l+1), within OUTLINE_TOLERANCE * 2^l image pixels. */
#define EXACT_OUTLINE_SCALE     1.5
#define OUTLINE_TOLERANCE       0.6
#define N_OUTLINE_LEVELS        3
/* Below these on-screen sizes (the box's shorter side, widget pixels) a cell is too
 * small for its outlines to be told apart, or for a label not to cover its neighbours. */
#define MIN_OUTLINE_PIXELS      14.0
#define MIN_LABEL_PIXELS        36.0
/* Boxes smaller than this (image pixels) are taken for a slipped click, not a cell. */
#define MIN_DRAWN_BOX           4
/* Cells less certain than dim-below are drawn at this alpha. */
#define DIMMED_ALPHA            0.3
/* The pointer finds a cell this many widget pixels outside its box. */
#define HIT_SLOP_PIXELS         3.0

typedef enum {
  DRAG_NONE,
  DRAG_PAN,
  DRAG_PENDING_CLICK,  /* left button down, not moved past the threshold yet */
  DRAG_RUBBER_BAND,
  DRAG_DRAW_BOX,
} DragMode;

/* The field's picture in square tiles of this many pixels (its own, or its scaled
 * copy's): GTK 4.8's cairo renderer converts a texture node's whole texture every time
 * it draws it, so a frame holds only the tiles in view. Each tile's texture reaches
 * IMAGE_TILE_GUTTER pixels into its neighbours and is clipped to its own part, so
 * filtering at its edges sees the pixels one big texture would. */
#define IMAGE_TILE_PIXELS       256
#define IMAGE_TILE_GUTTER       2
/* Scaled copies of fields kept (a 2592 x 1944 field fitted in 1000 x 700 is 3 MB, and
 * as much again converted for the cairo renderer). */
#define MAX_SCALED_COPIES       4
/* Copies waiting to be made for fields not shown (decoded ahead of need). */
#define MAX_SCALE_REQUESTS      3

typedef struct {
  int               width, height;  /* pixels */
  int               n_columns, n_rows;
  gboolean          opaque;
  GdkTexture      **textures;       /* n_columns * n_rows, row by row */
  cairo_surface_t **surfaces;       /* the same for the cairo renderer, made lazily */
} TiledImage;

/* The tiles share the pixbuf's pixels: no copy is made. */
static TiledImage *
tiled_image_new (GdkPixbuf *pixbuf)
{
  g_autoptr(GBytes) bytes = NULL;
  TiledImage *image;
  GdkMemoryFormat format;
  int stride, n_channels;

  g_return_val_if_fail (gdk_pixbuf_get_colorspace (pixbuf) == GDK_COLORSPACE_RGB
                        && gdk_pixbuf_get_bits_per_sample (pixbuf) == 8, NULL);

  bytes = gdk_pixbuf_read_pixel_bytes (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  format = gdk_pixbuf_get_has_alpha (pixbuf) ? GDK_MEMORY_R8G8B8A8 : GDK_MEMORY_R8G8B8;

  image = g_new0 (TiledImage, 1);
  image->width = gdk_pixbuf_get_width (pixbuf);
  image->height = gdk_pixbuf_get_height (pixbuf);
  image->n_columns = (image->width + IMAGE_TILE_PIXELS - 1) / IMAGE_TILE_PIXELS;
  image->n_rows = (image->height + IMAGE_TILE_PIXELS - 1) / IMAGE_TILE_PIXELS;
  image->opaque = !gdk_pixbuf_get_has_alpha (pixbuf);
  image->textures = g_new0 (GdkTexture *, (gsize) image->n_columns * image->n_rows);
  image->surfaces = g_new0 (cairo_surface_t *, (gsize) image->n_columns * image->n_rows);

  for (int row = 0; row < image->n_rows; row++)
    for (int column = 0; column < image->n_columns; column++)
      {
        int x0 = MAX (0, column * IMAGE_TILE_PIXELS - IMAGE_TILE_GUTTER);
        int y0 = MAX (0, row * IMAGE_TILE_PIXELS - IMAGE_TILE_GUTTER);
        int x1 = MIN (image->width, (column + 1) * IMAGE_TILE_PIXELS + IMAGE_TILE_GUTTER);
        int y1 = MIN (image->height, (row + 1) * IMAGE_TILE_PIXELS + IMAGE_TILE_GUTTER);
        g_autoptr(GBytes) part =
          g_bytes_new_from_bytes (bytes, (gsize) y0 * stride + (gsize) x0 * n_channels,
                                  (gsize) (y1 - y0 - 1) * stride
                                  + (gsize) (x1 - x0) * n_channels);

        image->textures[row * image->n_columns + column] =
          gdk_memory_texture_new (x1 - x0, y1 - y0, format, part, stride);
      }
  return image;
}

static void
tiled_image_free (TiledImage *image)
{
  if (image == NULL)
    return;
  for (int i = 0; i < image->n_columns * image->n_rows; i++)
    {
      g_clear_object (&image->textures[i]);
      g_clear_pointer (&image->surfaces[i], cairo_surface_destroy);
    }
  g_free (image->textures);
  g_free (image->surfaces);
  g_free (image);
}

/* A tile as a cairo image, converted once: GTK 4.8's cairo renderer would convert the
 * texture anew for every frame. */
static cairo_surface_t *
tiled_image_get_surface (const TiledImage *image,
                         int               i)
{
  if (image->surfaces[i] == NULL)
    {
      GdkTexture *texture = image->textures[i];
      cairo_surface_t *surface;

      surface = cairo_image_surface_create (image->opaque ? CAIRO_FORMAT_RGB24
                                                          : CAIRO_FORMAT_ARGB32,
                                            gdk_texture_get_width (texture),
                                            gdk_texture_get_height (texture));
      gdk_texture_download (texture, cairo_image_surface_get_data (surface),
                            cairo_image_surface_get_stride (surface));
      cairo_surface_mark_dirty (surface);
      image->surfaces[i] = surface;
    }
  return image->surfaces[i];
}

/* A field scaled with gdk-pixbuf's filter, for a device scale below 1. */
typedef struct {
  guint       index;
  double      device_scale;
  TiledImage *image;
} ScaledCopy;

static void
scaled_copy_free (ScaledCopy *copy)
{
  tiled_image_free (copy->image);
  g_free (copy);
}

/* A scaled copy to make in a worker thread. */
typedef struct {
  guint      generation;   /* the view's, when asked: a new document drops it */
  guint      index;
  double     device_scale;
  GdkPixbuf *pixbuf;       /* the field's, read only */
} ScaleRequest;

static void
scale_request_free (ScaleRequest *request)
{
  g_clear_object (&request->pixbuf);
  g_free (request);
}

/* One tile of the overlay: content pixels [tx * size, (tx + 1) * size) across. */
typedef struct {
  gint64           key;
  int              tx, ty;
  gboolean         provisional;  /* drawn without outlines still being traced */
  cairo_surface_t *surface;   /* the drawing, at the display's scale factor */
  GdkTexture      *texture;   /* the same, for renderers other than cairo; made lazily */
} Tile;

static gint64
tile_key (int tx,
          int ty)
{
  /* shifted as unsigned: a tile left of the field has a negative column (a left shift of
   * a negative number is undefined) */
  return (gint64) (((guint64) (guint32) tx << 32) | (guint32) ty);
}

static void
tile_free (Tile *tile)
{
  g_clear_object (&tile->texture);
  g_clear_pointer (&tile->surface, cairo_surface_destroy);
  g_free (tile);
}

static GHashTable *
tiles_new (void)
{
  return g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, (GDestroyNotify) tile_free);
}

static void
tiles_remove_provisional (GHashTable *tiles)
{
  GHashTableIter iter;
  Tile *tile;

  g_hash_table_iter_init (&iter, tiles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &tile))
    if (tile->provisional)
      g_hash_table_iter_remove (&iter);
}

typedef enum {
  EMPHASIS_NONE,
  EMPHASIS_SELECTED,
  EMPHASIS_CURRENT,
} Emphasis;

/* What the view keeps of one cell of the shown field (or of a field shown lately). */
typedef struct {
  SsCellItem     *item;
  SsBox           box;
  gboolean        outlines_built;
  gboolean        tracing;          /* in a trace job: drawn without outlines till then */
  SsSlideOutline *cell_outline;     /* NULL until built, or when the mask is empty */
  SsSlideOutline *nucleus_outline;
  SsSlideOutline *simple[N_OUTLINE_LEVELS][2];  /* the same, simplified, by level */
  PangoLayout    *label_layout;     /* NULL until drawn, and after the cell changed */
  int             label_width, label_height;
} CellEntry;

/* A field shown lately, kept as it was: going back to it neither traces its cells'
 * outlines nor draws its overlay again. */
#define MAX_PARKED_FIELDS       3

typedef struct {
  guint        index;
  GListModel  *cells;           /* the document's; a change drops the whole state */
  GPtrArray   *entries;
  GHashTable  *entry_by_item;   /* owns the entries */
  GHashTable  *tiles;
  double       tiles_scale;
  int          tile_size;
} ParkedField;

struct _SsSlideView
{
  GtkWidget        parent_instance;

  SsCaseDocument  *document;
  SsViewerState   *state;

  /* the field shown: its index, pixels and cells */
  gboolean         field_loaded;
  gboolean         field_loading;    /* its picture is being decoded in a worker thread */
  guint            image_index;
  int              image_width, image_height;
  GdkPixbuf       *pixbuf;
  TiledImage      *image;            /* the pixbuf in tiles */
  char            *missing_message;

  /* fields below 100% on screen, scaled in a worker thread, one request at a time */
  GQueue           scaled_copies;    /* ScaledCopy *, the last used first */
  GQueue           scale_requests;   /* ScaleRequest *, waiting; the most urgent first */
  ScaleRequest    *scaling;          /* the one being made (owned by its task) */
  guint            scale_generation; /* a new document drops what was asked before */
  guint            n_trace_jobs;
  GCancellable    *cancellable;
  GListModel      *cells;
  GPtrArray       *entries;         /* CellEntry *, in the model's order */
  GHashTable      *entry_by_item;   /* SsCellItem * -> CellEntry * (owns them) */

  GtkAdjustment   *hadjustment;
  GtkAdjustment   *vadjustment;
  guint            hscroll_policy : 1;
  guint            vscroll_policy : 1;

  /* the scale drawn at: the state's, or the one that fits in fit mode */
  double           scale;
  guint            sync_scale_source;
  /* the point a zoom keeps in place, when the zoom comes from the pointer or a pinch */
  gboolean         have_zoom_anchor;
  double           zoom_anchor_x, zoom_anchor_y;
  double           pinch_start_scale;
  guint            zoom_settle_source;

  GHashTable      *tiles;            /* gint64 * (Tile.key) -> Tile *, at tiles_scale */
  double           tiles_scale;
  int              tile_size;        /* content pixels on a side */
  GQueue           parked;           /* ParkedField *, the last shown first */
  PangoAttrList   *label_attrs;
  /* the truth tags' text, by class (SS_N_CLASSES: untyped), made when first drawn */
  PangoLayout     *truth_layouts[SS_N_CLASSES + 1];

  gboolean         pointer_inside;
  double           pointer_x, pointer_y;
  SsCellItem      *hover_set;        /* the hover this view set (not owned) */

  GtkGesture      *drag_gesture;
  DragMode         drag_mode;
  double           drag_start_x, drag_start_y;
  double           drag_x, drag_y;
  double           drag_start_scroll_x, drag_start_scroll_y;
  GdkModifierType  drag_modifiers;
  gboolean         space_down;
  gboolean         draw_mode;
  const char      *cursor_name;      /* static string, NULL for the default */

  SsCellItem      *pending_center;   /* owned */
};

static void ss_slide_view_scrollable_init (GtkScrollableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (SsSlideView, ss_slide_view, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE,
                                                      ss_slide_view_scrollable_init))

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_STATE,
  PROP_DRAW_MODE,
  N_PROPS,
  /* GtkScrollable's */
  PROP_HADJUSTMENT = N_PROPS,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
};

enum {
  ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ------------------------------------------------------------------------------------
 * Geometry
 * ------------------------------------------------------------------------------------ */

static double
axis_origin (int    image_size,
             int    view_size,
             double scale,
             double scroll)
{
  double content = image_size * scale;

  if (content <= view_size)
    return floor ((view_size - content) / 2.0 + 0.5);
  return floor (-scroll + 0.5);
}

static double
axis_max_scroll (int    image_size,
                 int    view_size,
                 double scale)
{
  return MAX (0.0, image_size * scale - view_size);
}

void
ss_slide_geometry_get_origin (const SsSlideGeometry *geometry,
                              double                *x,
                              double                *y)
{
  *x = axis_origin (geometry->image_width, geometry->view_width, geometry->scale,
                    geometry->scroll_x);
  *y = axis_origin (geometry->image_height, geometry->view_height, geometry->scale,
                    geometry->scroll_y);
}

void
ss_slide_geometry_widget_to_image (const SsSlideGeometry *geometry,
                                   double                 widget_x,
                                   double                 widget_y,
                                   double                *image_x,
                                   double                *image_y)
{
  double ox, oy;

  ss_slide_geometry_get_origin (geometry, &ox, &oy);
  *image_x = (widget_x - ox) / geometry->scale;
  *image_y = (widget_y - oy) / geometry->scale;
}

void
ss_slide_geometry_image_to_widget (const SsSlideGeometry *geometry,
                                   double                 image_x,
                                   double                 image_y,
                                   double                *widget_x,
                                   double                *widget_y)
{
  double ox, oy;

  ss_slide_geometry_get_origin (geometry, &ox, &oy);
  *widget_x = ox + image_x * geometry->scale;
  *widget_y = oy + image_y * geometry->scale;
}

void
ss_slide_geometry_get_max_scroll (const SsSlideGeometry *geometry,
                                  double                *max_x,
                                  double                *max_y)
{
  *max_x = axis_max_scroll (geometry->image_width, geometry->view_width, geometry->scale);
  *max_y = axis_max_scroll (geometry->image_height, geometry->view_height, geometry->scale);
}

void
ss_slide_geometry_zoom_about (const SsSlideGeometry *geometry,
                              double                 new_scale,
                              double                 widget_x,
                              double                 widget_y,
                              double                *scroll_x,
                              double                *scroll_y)
{
  double image_x, image_y;

  ss_slide_geometry_widget_to_image (geometry, widget_x, widget_y, &image_x, &image_y);
  *scroll_x = CLAMP (image_x * new_scale - widget_x, 0.0,
                     axis_max_scroll (geometry->image_width, geometry->view_width, new_scale));
  *scroll_y = CLAMP (image_y * new_scale - widget_y, 0.0,
                     axis_max_scroll (geometry->image_height, geometry->view_height, new_scale));
}

void
ss_slide_geometry_center_on (const SsSlideGeometry *geometry,
                             double                 image_x,
                             double                 image_y,
                             double                *scroll_x,
                             double                *scroll_y)
{
  double max_x, max_y;

  ss_slide_geometry_get_max_scroll (geometry, &max_x, &max_y);
  *scroll_x = CLAMP (image_x * geometry->scale - geometry->view_width / 2.0, 0.0, max_x);
  *scroll_y = CLAMP (image_y * geometry->scale - geometry->view_height / 2.0, 0.0, max_y);
}

double
ss_slide_geometry_tile_edge (double origin,
                             double k,
                             int    position,
                             int    size,
                             int    scale_factor)
{
  double edge = origin + position * k;

  if (position <= 0 || position >= size)
    return edge;
  scale_factor = MAX (scale_factor, 1);
  return round (edge * scale_factor) / scale_factor;
}

double
ss_slide_geometry_fit_scale (int image_width,
                             int image_height,
                             int view_width,
                             int view_height)
{
  double scale;

  if (image_width <= 0 || image_height <= 0 || view_width <= 0 || view_height <= 0)
    return 1.0;
  scale = MIN ((double) view_width / image_width, (double) view_height / image_height);
  return CLAMP (scale, SS_VIEWER_MIN_SCALE, SS_VIEWER_MAX_SCALE);
}

/* ------------------------------------------------------------------------------------
 * Mask outlines
 *
 * Every edge between a foreground pixel and the background (or the box's border) is
 * directed so the foreground lies on its right (y down): top edges run east, right
 * edges south, bottom edges west, left edges north. Every vertex then has as many edges
 * in as out, and following them closes loops. Where two pixels touch only at a corner
 * the trace turns right, keeping each pixel with its own side.
 * ------------------------------------------------------------------------------------ */

enum { DIR_EAST, DIR_SOUTH, DIR_WEST, DIR_NORTH };

static const int dir_dx[4] = { 1, 0, -1, 0 };
static const int dir_dy[4] = { 0, 1, 0, -1 };

static void
outline_append_point (GArray *points,
                      int     x,
                      int     y)
{
  float xy[2] = { x, y };

  g_array_append_vals (points, xy, 2);
}

SsSlideOutline *
ss_slide_outline_new_from_rle (const SsRle *rle,
                               int          x,
                               int          y)
{
  g_autoptr(GArray) points = NULL;
  g_autoptr(GArray) loop_ends = NULL;
  g_autofree guint8 *mask = NULL;
  g_autofree guint8 *out_edges = NULL;
  SsSlideOutline *outline;
  int width, height, stride;

  g_return_val_if_fail (rle != NULL, NULL);

  outline = g_new0 (SsSlideOutline, 1);
  width = rle->width;
  height = rle->height;
  if (width <= 0 || height <= 0 || rle->n_runs < 2)
    return outline;

  mask = g_malloc ((gsize) width * height);
  ss_rle_decode (rle, mask);

#define FG(px, py) ((px) >= 0 && (py) >= 0 && (px) < width && (py) < height \
                    && mask[(gsize) (py) * width + (px)])
  /* out_edges: one byte per pixel corner, bit d set for an edge leaving it in d */
  stride = width + 1;
  out_edges = g_malloc0 ((gsize) stride * (height + 1));
  for (int py = 0; py < height; py++)
    for (int px = 0; px < width; px++)
      {
        if (!FG (px, py))
          continue;
        if (!FG (px, py - 1))
          out_edges[py * stride + px] |= 1 << DIR_EAST;
        if (!FG (px + 1, py))
          out_edges[py * stride + px + 1] |= 1 << DIR_SOUTH;
        if (!FG (px, py + 1))
          out_edges[(py + 1) * stride + px + 1] |= 1 << DIR_WEST;
        if (!FG (px - 1, py))
          out_edges[(py + 1) * stride + px] |= 1 << DIR_NORTH;
      }
#undef FG

  points = g_array_new (FALSE, FALSE, sizeof (float));
  loop_ends = g_array_new (FALSE, FALSE, sizeof (guint));

  /* Scanning in row-major order, a loop starts at its top-left corner: the first
   * vertex with an edge left belongs to a loop none of whose vertices came before, so it
   * is the loop's topmost-leftmost vertex, always a corner, and never a vertex where two
   * untraced loops touch (the loop above-left of such a vertex was traced already). */
  for (int vy = 0; vy <= height; vy++)
    for (int vx = 0; vx <= width; vx++)
      {
        while (out_edges[vy * stride + vx] != 0)
          {
            guint8 bits = out_edges[vy * stride + vx];
            int first_dir = 0, dir, cx, cy;

            while (!(bits & (1 << first_dir)))
              first_dir++;
            dir = first_dir;
            outline_append_point (points, x + vx, y + vy);
            out_edges[vy * stride + vx] &= ~(1 << dir);
            cx = vx + dir_dx[dir];
            cy = vy + dir_dy[dir];

            for (;;)
              {
                guint8 here = out_edges[cy * stride + cx];
                static const int turns[3] = { 1, 0, 3 };  /* right, straight, left */
                int next = -1;

                if (here == 0)
                  {
                    g_assert (cx == vx && cy == vy && dir != first_dir);
                    break;
                  }
                for (int t = 0; t < 3 && next < 0; t++)
                  if (here & (1 << ((dir + turns[t]) % 4)))
                    next = (dir + turns[t]) % 4;
                g_assert (next >= 0);
                if (next != dir)
                  outline_append_point (points, x + cx, y + cy);
                out_edges[cy * stride + cx] &= ~(1 << next);
                dir = next;
                cx += dir_dx[dir];
                cy += dir_dy[dir];
              }

            {
              guint end = points->len / 2;
              g_array_append_val (loop_ends, end);
            }
          }
      }

  outline->n_loops = loop_ends->len;
  outline->n_points = points->len / 2;
  outline->loop_ends = (guint *) (void *) g_array_free (g_steal_pointer (&loop_ends), FALSE);
  outline->points = (float *) (void *) g_array_free (g_steal_pointer (&points), FALSE);
  return outline;
}

/* Douglas-Peucker over points [i, j] of a loop of n points (j may be n: point 0). */
static void
simplify_range (const float *loop,
                guint        n,
                guint        i,
                guint        j,
                double       tolerance,
                gboolean    *keep)
{
  double ax = loop[2 * i], ay = loop[2 * i + 1];
  double bx = loop[2 * (j % n)], by = loop[2 * (j % n) + 1];
  double dx = bx - ax, dy = by - ay, length = hypot (dx, dy);
  double worst = -1.0;
  guint worst_at = 0;

  if (j <= i + 1)
    return;
  for (guint k = i + 1; k < j; k++)
    {
      double px = loop[2 * k] - ax, py = loop[2 * k + 1] - ay;
      double distance = length > 0 ? fabs (px * dy - py * dx) / length : hypot (px, py);

      if (distance > worst)
        {
          worst = distance;
          worst_at = k;
        }
    }
  if (worst <= tolerance)
    return;
  keep[worst_at] = TRUE;
  simplify_range (loop, n, i, worst_at, tolerance, keep);
  simplify_range (loop, n, worst_at, j, tolerance, keep);
}

SsSlideOutline *
ss_slide_outline_simplify (const SsSlideOutline *outline,
                           double                tolerance)
{
  g_autoptr(GArray) points = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr(GArray) loop_ends = g_array_new (FALSE, FALSE, sizeof (guint));
  SsSlideOutline *simple;
  guint start = 0;

  g_return_val_if_fail (outline != NULL, NULL);

  for (guint l = 0; l < outline->n_loops; l++)
    {
      guint end = outline->loop_ends[l], n = end - start, far = 0, n_kept = 0;
      const float *loop = outline->points + 2 * start;
      g_autofree gboolean *keep = g_new0 (gboolean, n);
      double farthest = -1.0;

      /* split the loop at its first point and the point farthest from it */
      for (guint k = 1; k < n; k++)
        {
          double d = hypot (loop[2 * k] - loop[0], loop[2 * k + 1] - loop[1]);

          if (d > farthest)
            {
              farthest = d;
              far = k;
            }
        }
      keep[0] = keep[far] = TRUE;
      simplify_range (loop, n, 0, far, tolerance, keep);
      simplify_range (loop, n, far, n, tolerance, keep);
      for (guint k = 0; k < n; k++)
        n_kept += keep[k];
      /* a loop thinner than the tolerance keeps its shape rather than collapse */
      for (guint k = 0; k < n; k++)
        if (keep[k] || n_kept < 3)
          g_array_append_vals (points, loop + 2 * k, 2);
      {
        guint loop_end = points->len / 2;

        g_array_append_val (loop_ends, loop_end);
      }
      start = end;
    }

  simple = g_new0 (SsSlideOutline, 1);
  simple->n_loops = loop_ends->len;
  simple->n_points = points->len / 2;
  simple->loop_ends = (guint *) (void *) g_array_free (g_steal_pointer (&loop_ends), FALSE);
  simple->points = (float *) (void *) g_array_free (g_steal_pointer (&points), FALSE);
  return simple;
}

void
ss_slide_outline_free (SsSlideOutline *outline)
{
  if (outline == NULL)
    return;
  g_free (outline->loop_ends);
  g_free (outline->points);
  g_free (outline);
}

/* ------------------------------------------------------------------------------------
 * Cells of the shown field
 * ------------------------------------------------------------------------------------ */

static CellEntry *
cell_entry_new (SsCellItem *item)
{
  CellEntry *entry = g_new0 (CellEntry, 1);

  entry->item = g_object_ref (item);
  entry->box = *ss_cell_item_get_box (item);
  return entry;
}

static void
cell_entry_free (CellEntry *entry)
{
  g_clear_object (&entry->item);
  g_clear_pointer (&entry->cell_outline, ss_slide_outline_free);
  g_clear_pointer (&entry->nucleus_outline, ss_slide_outline_free);
  for (int level = 0; level < N_OUTLINE_LEVELS; level++)
    for (int nucleus = 0; nucleus < 2; nucleus++)
      g_clear_pointer (&entry->simple[level][nucleus], ss_slide_outline_free);
  g_clear_object (&entry->label_layout);
  g_free (entry);
}

static void
cell_entry_ensure_outlines (CellEntry *entry)
{
  const SsCell *cell;

  if (entry->outlines_built)
    return;
  entry->outlines_built = TRUE;
  cell = ss_cell_item_get_cell (entry->item);
  if (cell->mask.n_runs > 1)
    entry->cell_outline = ss_slide_outline_new_from_rle (&cell->mask, cell->box.x, cell->box.y);
  if (cell->nucleus_mask.n_runs > 1)
    entry->nucleus_outline = ss_slide_outline_new_from_rle (&cell->nucleus_mask,
                                                            cell->box.x, cell->box.y);
}

/* The cell's (or its nucleus's) outline to draw at scale; NULL if the mask is empty. */
static const SsSlideOutline *
cell_entry_get_outline (CellEntry *entry,
                        gboolean   nucleus,
                        double     scale)
{
  const SsSlideOutline *exact;
  int level = 0;

  cell_entry_ensure_outlines (entry);
  exact = nucleus ? entry->nucleus_outline : entry->cell_outline;
  if (exact == NULL || scale >= EXACT_OUTLINE_SCALE)
    return exact;
  while (level + 1 < N_OUTLINE_LEVELS && scale < EXACT_OUTLINE_SCALE / (2 << level))
    level++;
  if (entry->simple[level][nucleus] == NULL)
    entry->simple[level][nucleus] = ss_slide_outline_simplify (exact,
                                                               OUTLINE_TOLERANCE * (1 << level));
  return entry->simple[level][nucleus];
}

static void
tiles_drop (GHashTable *tiles,
            gboolean    provisional_only)
{
  if (provisional_only)
    tiles_remove_provisional (tiles);
  else
    g_hash_table_remove_all (tiles);
}

/* Drop the overlay tiles of the field shown and of the parked ones, to be drawn again:
 * all of them, or only those drawn before their outlines came (provisional). */
static void
ss_slide_view_drop_tiles (SsSlideView *self,
                          gboolean     provisional_only)
{
  tiles_drop (self->tiles, provisional_only);
  for (GList *l = self->parked.head; l != NULL; l = l->next)
    tiles_drop (((ParkedField *) l->data)->tiles, provisional_only);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
ss_slide_view_invalidate_overlay (SsSlideView *self)
{
  ss_slide_view_drop_tiles (self, FALSE);
}

/* Tiles are drawn at the display's scale factor, and sized by it. */
static void
ss_slide_view_on_scale_factor (SsSlideView *self)
{
  self->tiles_scale = 0;
  for (GList *l = self->parked.head; l != NULL; l = l->next)
    ((ParkedField *) l->data)->tiles_scale = 0;
  ss_slide_view_invalidate_overlay (self);
}

/* Where a cell's drawing may reach at scale, in content pixels. */
static void
cell_content_extent (const SsBox     *box,
                     double           scale,
                     graphene_rect_t *extent)
{
  graphene_rect_init (extent,
                      box->x * scale - CELL_REACH,
                      box->y * scale - CELL_REACH - LABEL_REACH_UP,
                      box->width * scale + 2 * CELL_REACH + LABEL_REACH_RIGHT,
                      box->height * scale + 2 * CELL_REACH + LABEL_REACH_UP);
}

/* Drop the tiles (drawn at tiles_scale, size content pixels on a side) a cell's drawing
 * reaches into. */
static void
tiles_invalidate_box (GHashTable  *tiles,
                      double       tiles_scale,
                      int          size,
                      const SsBox *box)
{
  graphene_rect_t extent;

  if (g_hash_table_size (tiles) == 0 || size <= 0)
    return;
  cell_content_extent (box, tiles_scale, &extent);
  for (int ty = floor (extent.origin.y / size);
       ty <= floor ((extent.origin.y + extent.size.height) / size); ty++)
    for (int tx = floor (extent.origin.x / size);
         tx <= floor ((extent.origin.x + extent.size.width) / size); tx++)
      {
        gint64 key = tile_key (tx, ty);

        g_hash_table_remove (tiles, &key);
      }
}

/* Drop the tiles a cell's drawing reaches into (it changed, came or went). */
static void
ss_slide_view_invalidate_box (SsSlideView *self,
                              const SsBox *box)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  tiles_invalidate_box (self->tiles, self->tiles_scale, self->tile_size, box);
}

static void
ss_slide_view_get_geometry (SsSlideView     *self,
                            SsSlideGeometry *geometry)
{
  geometry->image_width = self->image_width;
  geometry->image_height = self->image_height;
  geometry->view_width = gtk_widget_get_width (GTK_WIDGET (self));
  geometry->view_height = gtk_widget_get_height (GTK_WIDGET (self));
  geometry->scale = self->scale;
  geometry->scroll_x = self->hadjustment ? gtk_adjustment_get_value (self->hadjustment) : 0.0;
  geometry->scroll_y = self->vadjustment ? gtk_adjustment_get_value (self->vadjustment) : 0.0;
}

static void
ss_slide_view_update_accessible (SsSlideView *self)
{
  g_autofree char *label = NULL;

  if (self->field_loaded)
    {
      guint n_cells = self->entries->len;
      guint n_truth = ss_case_document_get_image_truth (self->document, self->image_index)->len;

      label = g_strdup_printf (ngettext ("Field %u of %u, %u cell",
                                         "Field %u of %u, %u cells", n_cells),
                               self->image_index + 1,
                               ss_case_document_get_n_images (self->document), n_cells);
      /* the truth layer is said to be there or hidden, as it is drawn */
      if (n_truth > 0)
        {
          g_autofree char *field = g_steal_pointer (&label);
          g_autofree char *truth = NULL;

          if (ss_viewer_state_get_show_truth (self->state))
            truth = g_strdup_printf (ngettext ("%u truth cell shown", "%u truth cells shown",
                                               n_truth), n_truth);
          else
            truth = g_strdup_printf (ngettext ("%u truth cell hidden", "%u truth cells hidden",
                                               n_truth), n_truth);
          /* Translators: the field view's accessible name: "Field 1 of 3, 5 cells" and
           * "2 truth cells shown" */
          label = g_strdup_printf (_("%s; %s"), field, truth);
        }
    }
  else
    label = g_strdup (_("No field"));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

/* Take the model's cells again, keeping what was traced for the cells still there. */
static void
ss_slide_view_rebuild_entries (SsSlideView *self)
{
  g_autoptr(GHashTable) previous = g_steal_pointer (&self->entry_by_item);
  guint n_items = self->cells ? g_list_model_get_n_items (self->cells) : 0;

  self->entry_by_item = g_hash_table_new_full (NULL, NULL, NULL,
                                               (GDestroyNotify) cell_entry_free);
  g_ptr_array_set_size (self->entries, 0);

  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(SsCellItem) item = g_list_model_get_item (self->cells, i);
      CellEntry *entry = NULL;

      if (previous != NULL && g_hash_table_steal_extended (previous, item, NULL,
                                                           (gpointer *) &entry))
        entry->box = *ss_cell_item_get_box (item);
      else
        entry = cell_entry_new (item);
      g_hash_table_insert (self->entry_by_item, entry->item, entry);
      g_ptr_array_add (self->entries, entry);
    }
}

/* ------------------------------------------------------------------------------------
 * Fields shown lately
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_free_parked (SsSlideView *self,
                           ParkedField *parked)
{
  g_signal_handlers_disconnect_by_data (parked->cells, self);
  g_clear_object (&parked->cells);
  g_clear_pointer (&parked->entries, g_ptr_array_unref);
  g_clear_pointer (&parked->entry_by_item, g_hash_table_unref);
  g_clear_pointer (&parked->tiles, g_hash_table_unref);
  g_free (parked);
}

static ParkedField *
ss_slide_view_find_parked (SsSlideView *self,
                           guint        index)
{
  for (GList *l = self->parked.head; l != NULL; l = l->next)
    if (((ParkedField *) l->data)->index == index)
      return l->data;
  return NULL;
}

/* A parked field's cells came or went: it is built again if shown again. */
static void
ss_slide_view_on_parked_cells_changed (SsSlideView *self,
                                       guint        position,
                                       guint        removed,
                                       guint        added,
                                       GListModel  *model)
{
  for (GList *l = self->parked.head; l != NULL; l = l->next)
    {
      ParkedField *parked = l->data;

      if (parked->cells == model)
        {
          g_queue_delete_link (&self->parked, l);
          ss_slide_view_free_parked (self, parked);
          return;
        }
    }
}

static void
ss_slide_view_clear_parked (SsSlideView *self)
{
  ParkedField *parked;

  while ((parked = g_queue_pop_head (&self->parked)) != NULL)
    ss_slide_view_free_parked (self, parked);
}

static void ss_slide_view_on_cells_changed (SsSlideView *self,
                                            guint        position,
                                            guint        removed,
                                            guint        added,
                                            GListModel  *model);

/* Keep the shown field's cells, outlines and overlay for when it is shown again. */
static void
ss_slide_view_park_field (SsSlideView *self)
{
  ParkedField *parked;

  if (!self->field_loaded || self->cells == NULL || self->entry_by_item == NULL)
    return;

  parked = g_new0 (ParkedField, 1);
  parked->index = self->image_index;
  parked->cells = g_steal_pointer (&self->cells);
  g_signal_handlers_disconnect_by_data (parked->cells, self);
  g_signal_connect_object (parked->cells, "items-changed",
                           G_CALLBACK (ss_slide_view_on_parked_cells_changed), self,
                           G_CONNECT_SWAPPED);
  parked->entries = g_steal_pointer (&self->entries);
  self->entries = g_ptr_array_new ();
  parked->entry_by_item = g_steal_pointer (&self->entry_by_item);
  parked->tiles = g_steal_pointer (&self->tiles);
  self->tiles = tiles_new ();
  parked->tiles_scale = self->tiles_scale;
  parked->tile_size = self->tile_size;

  g_queue_push_head (&self->parked, parked);
  while (self->parked.length > MAX_PARKED_FIELDS)
    ss_slide_view_free_parked (self, g_queue_pop_tail (&self->parked));
}

/* Show a parked field's cells, outlines and overlay again; FALSE if there is none. */
static gboolean
ss_slide_view_unpark_field (SsSlideView *self,
                            guint        index)
{
  ParkedField *parked = ss_slide_view_find_parked (self, index);

  if (parked == NULL)
    return FALSE;
  g_queue_remove (&self->parked, parked);

  g_signal_handlers_disconnect_by_data (parked->cells, self);
  self->cells = g_steal_pointer (&parked->cells);
  g_signal_connect_object (self->cells, "items-changed",
                           G_CALLBACK (ss_slide_view_on_cells_changed), self,
                           G_CONNECT_SWAPPED);
  g_ptr_array_unref (self->entries);
  self->entries = g_steal_pointer (&parked->entries);
  g_clear_pointer (&self->entry_by_item, g_hash_table_unref);
  self->entry_by_item = g_steal_pointer (&parked->entry_by_item);
  g_hash_table_unref (self->tiles);
  self->tiles = g_steal_pointer (&parked->tiles);
  self->tiles_scale = parked->tiles_scale;
  self->tile_size = parked->tile_size;
  g_free (parked);
  return TRUE;
}

/* The entry of a cell of the shown field or of a parked one. */
static CellEntry *
ss_slide_view_find_entry (SsSlideView *self,
                          SsCellItem  *item,
                          GHashTable **tiles,
                          double      *tiles_scale,
                          int         *tile_size)
{
  ParkedField *parked;
  CellEntry *entry;

  if (self->entry_by_item != NULL
      && (entry = g_hash_table_lookup (self->entry_by_item, item)) != NULL)
    {
      *tiles = self->tiles;
      *tiles_scale = self->tiles_scale;
      *tile_size = self->tile_size;
      return entry;
    }
  parked = ss_slide_view_find_parked (self, ss_cell_item_get_image_index (item));
  if (parked == NULL || (entry = g_hash_table_lookup (parked->entry_by_item, item)) == NULL)
    return NULL;
  *tiles = parked->tiles;
  *tiles_scale = parked->tiles_scale;
  *tile_size = parked->tile_size;
  return entry;
}

/* ------------------------------------------------------------------------------------
 * Tracing outlines in a worker thread
 *
 * A field has a thousand cells: the outlines of the cells of a field newly shown are
 * traced in a worker thread rather than in its first frame, which draws their boxes
 * without the outlines; the tiles drawn so are drawn again once they are traced.
 * ------------------------------------------------------------------------------------ */

/* Fewer cells than this are traced as they are drawn. */
#define MIN_TRACE_JOB           16

typedef struct {
  SsCellItem     *item;
  SsSlideOutline *outline[2];   /* cell, nucleus */
  SsSlideOutline *simple[2];    /* at level, if any */
} TraceResult;

typedef struct {
  guint      generation;
  int        level;             /* the simplified outlines wanted too; -1: none */
  guint      n_results;
  TraceResult *results;
} TraceJob;

static void
trace_job_free (TraceJob *job)
{
  for (guint i = 0; i < job->n_results; i++)
    {
      TraceResult *result = &job->results[i];

      g_clear_object (&result->item);
      for (int nucleus = 0; nucleus < 2; nucleus++)
        {
          g_clear_pointer (&result->outline[nucleus], ss_slide_outline_free);
          g_clear_pointer (&result->simple[nucleus], ss_slide_outline_free);
        }
    }
  g_free (job->results);
  g_free (job);
}

/* The simplification level for outlines drawn at scale; -1 for the exact ones. */
static int
outline_level (double scale)
{
  int level = 0;

  if (scale >= EXACT_OUTLINE_SCALE)
    return -1;
  while (level + 1 < N_OUTLINE_LEVELS && scale < EXACT_OUTLINE_SCALE / (2 << level))
    level++;
  return level;
}

static void
trace_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  TraceJob *job = task_data;

  for (guint i = 0; i < job->n_results; i++)
    {
      TraceResult *result = &job->results[i];
      /* a cell's masks do not change while it lives (the job holds it) */
      const SsCell *cell = ss_cell_item_get_cell (result->item);

      if (g_cancellable_is_cancelled (cancellable))
        break;
      if (cell->mask.n_runs > 1)
        result->outline[0] = ss_slide_outline_new_from_rle (&cell->mask, cell->box.x,
                                                            cell->box.y);
      if (cell->nucleus_mask.n_runs > 1)
        result->outline[1] = ss_slide_outline_new_from_rle (&cell->nucleus_mask,
                                                            cell->box.x, cell->box.y);
      if (job->level >= 0)
        for (int nucleus = 0; nucleus < 2; nucleus++)
          if (result->outline[nucleus] != NULL)
            result->simple[nucleus] =
              ss_slide_outline_simplify (result->outline[nucleus],
                                         OUTLINE_TOLERANCE * (1 << job->level));
    }
  g_task_return_boolean (task, TRUE);
}

static void
trace_done (GObject      *source,
            GAsyncResult *res,
            gpointer      user_data)
{
  SsSlideView *self = SS_SLIDE_VIEW (source);
  TraceJob *job = g_task_get_task_data (G_TASK (res));
  gboolean finished = g_task_propagate_boolean (G_TASK (res), NULL);

  self->n_trace_jobs--;
  if (!finished)   /* the view is gone */
    return;
  for (guint i = 0; i < job->n_results; i++)
    {
      TraceResult *result = &job->results[i];
      GHashTable *tiles;
      double tiles_scale;
      int tile_size;
      CellEntry *entry = ss_slide_view_find_entry (self, result->item, &tiles, &tiles_scale,
                                                   &tile_size);

      if (entry == NULL)
        continue;
      entry->tracing = FALSE;
      if (job->generation != self->scale_generation || entry->outlines_built)
        continue;
      entry->outlines_built = TRUE;
      entry->cell_outline = g_steal_pointer (&result->outline[0]);
      entry->nucleus_outline = g_steal_pointer (&result->outline[1]);
      if (job->level >= 0)
        for (int nucleus = 0; nucleus < 2; nucleus++)
          if (entry->simple[job->level][nucleus] == NULL)
            entry->simple[job->level][nucleus] = g_steal_pointer (&result->simple[nucleus]);
    }

  /* the tiles drawn without them */
  ss_slide_view_drop_tiles (self, TRUE);
}

/* Trace the outlines of the shown field's cells in a worker thread (those not traced
 * yet), with the simplified ones for the scale. */
static void
ss_slide_view_trace_shown (SsSlideView *self)
{
  g_autoptr(GTask) task = NULL;
  TraceJob *job;
  guint n = 0;

  if (self->state == NULL || !ss_viewer_state_get_show_outlines (self->state)
      || self->cancellable == NULL)
    return;
  for (guint i = 0; i < self->entries->len; i++)
    {
      CellEntry *entry = g_ptr_array_index (self->entries, i);

      n += !entry->outlines_built && !entry->tracing;
    }
  if (n < MIN_TRACE_JOB)
    return;

  job = g_new0 (TraceJob, 1);
  job->generation = self->scale_generation;
  job->level = outline_level (self->scale);
  job->results = g_new0 (TraceResult, n);
  for (guint i = 0; i < self->entries->len; i++)
    {
      CellEntry *entry = g_ptr_array_index (self->entries, i);

      if (entry->outlines_built || entry->tracing)
        continue;
      entry->tracing = TRUE;
      job->results[job->n_results++].item = g_object_ref (entry->item);
    }

  task = g_task_new (self, self->cancellable, trace_done, NULL);
  g_task_set_source_tag (task, ss_slide_view_trace_shown);
  g_task_set_task_data (task, job, (GDestroyNotify) trace_job_free);
  self->n_trace_jobs++;
  ss_background_run (task, SS_BACKGROUND_SOON, trace_thread);
}

static void
ss_slide_view_on_cells_changed (SsSlideView *self,
                                guint        position,
                                guint        removed,
                                guint        added,
                                GListModel  *model)
{
  /* the entries follow the model's order: what went and what came are at position */
  for (guint i = 0; i < removed && position + i < self->entries->len; i++)
    ss_slide_view_invalidate_box (self,
                                  &((CellEntry *) g_ptr_array_index (self->entries,
                                                                     position + i))->box);
  ss_slide_view_rebuild_entries (self);
  for (guint i = 0; i < added && position + i < self->entries->len; i++)
    ss_slide_view_invalidate_box (self,
                                  &((CellEntry *) g_ptr_array_index (self->entries,
                                                                     position + i))->box);
  ss_slide_view_update_accessible (self);
}

static CellEntry *
ss_slide_view_lookup_entry (SsSlideView *self,
                            SsCellItem  *item)
{
  if (item == NULL || self->entry_by_item == NULL)
    return NULL;
  return g_hash_table_lookup (self->entry_by_item, item);
}

/* The cell under a widget point: the smallest box around it, so a cell lying inside
 * another's box can still be picked. */
static CellEntry *
ss_slide_view_cell_at (SsSlideView *self,
                       double       widget_x,
                       double       widget_y)
{
  SsSlideGeometry geometry;
  CellEntry *best = NULL;
  double image_x, image_y, slop;
  gint64 best_area = G_MAXINT64;

  if (!self->field_loaded || self->entries->len == 0)
    return NULL;

  ss_slide_view_get_geometry (self, &geometry);
  ss_slide_geometry_widget_to_image (&geometry, widget_x, widget_y, &image_x, &image_y);
  slop = HIT_SLOP_PIXELS / self->scale;

  for (guint i = 0; i < self->entries->len; i++)
    {
      CellEntry *entry = g_ptr_array_index (self->entries, i);
      const SsBox *box = &entry->box;
      gint64 area = (gint64) box->width * box->height;

      if (image_x >= box->x - slop && image_x < box->x + box->width + slop
          && image_y >= box->y - slop && image_y < box->y + box->height + slop
          && area < best_area)
        {
          best = entry;
          best_area = area;
        }
    }
  return best;
}

/* ------------------------------------------------------------------------------------
 * Scrolling and zooming
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_configure_adjustments (SsSlideView *self,
                                     double       scroll_x,
                                     double       scroll_y)
{
  int view_width = gtk_widget_get_width (GTK_WIDGET (self));
  int view_height = gtk_widget_get_height (GTK_WIDGET (self));
  double content_width = self->field_loaded ? self->image_width * self->scale : 0.0;
  double content_height = self->field_loaded ? self->image_height * self->scale : 0.0;
  double upper_x = MAX (content_width, view_width);
  double upper_y = MAX (content_height, view_height);

  if (self->hadjustment)
    gtk_adjustment_configure (self->hadjustment,
                              CLAMP (scroll_x, 0.0, upper_x - view_width), 0.0, upper_x,
                              view_width * 0.1, view_width * 0.9, view_width);
  if (self->vadjustment)
    gtk_adjustment_configure (self->vadjustment,
                              CLAMP (scroll_y, 0.0, upper_y - view_height), 0.0, upper_y,
                              view_height * 0.1, view_height * 0.9, view_height);
}

/* The scale the view should draw at now. */
static double
ss_slide_view_wanted_scale (SsSlideView *self)
{
  int view_width = gtk_widget_get_width (GTK_WIDGET (self));
  int view_height = gtk_widget_get_height (GTK_WIDGET (self));

  if (self->state == NULL)
    return self->scale;
  if (ss_viewer_state_get_fit (self->state))
    {
      if (!self->field_loaded || view_width <= 0 || view_height <= 0)
        return self->scale;
      return ss_slide_geometry_fit_scale (self->image_width, self->image_height,
                                          view_width, view_height);
    }
  return CLAMP (ss_viewer_state_get_scale (self->state),
                SS_VIEWER_MIN_SCALE, SS_VIEWER_MAX_SCALE);
}

static gboolean
ss_slide_view_sync_scale_cb (gpointer data)
{
  SsSlideView *self = data;

  self->sync_scale_source = 0;
  if (self->state != NULL && ss_viewer_state_get_fit (self->state)
      && fabs (ss_viewer_state_get_scale (self->state) - self->scale) > 1e-9)
    {
      ss_viewer_state_set_scale (self->state, self->scale);
      if (!ss_viewer_state_get_fit (self->state))
        ss_viewer_state_set_fit (self->state, TRUE);
    }
  return G_SOURCE_REMOVE;
}

/* In fit mode the state's scale follows the view's, for whatever shows the zoom level;
 * set from an idle as it changes during size allocation. */
static void
ss_slide_view_queue_sync_scale (SsSlideView *self)
{
  if (self->sync_scale_source == 0 && self->state != NULL
      && ss_viewer_state_get_fit (self->state))
    self->sync_scale_source = g_idle_add (ss_slide_view_sync_scale_cb, self);
}

static gboolean
ss_slide_view_zoom_settled_cb (gpointer data)
{
  SsSlideView *self = data;

  self->zoom_settle_source = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return G_SOURCE_REMOVE;
}

/* The scale changed: until it stops changing, the last overlay and field images are
 * stretched rather than drawn again for every step. */
static void
ss_slide_view_note_zoom (SsSlideView *self)
{
  g_clear_handle_id (&self->zoom_settle_source, g_source_remove);
  self->zoom_settle_source = g_timeout_add (ZOOM_SETTLE_MS, ss_slide_view_zoom_settled_cb, self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Draw at the wanted scale, keeping the zoom anchor (or the pointer, or the view's
 * middle) where it is. */
static void
ss_slide_view_update_scale (SsSlideView *self)
{
  SsSlideGeometry geometry;
  double new_scale = ss_slide_view_wanted_scale (self);
  double anchor_x, anchor_y, scroll_x, scroll_y;

  if (new_scale == self->scale)
    return;

  ss_slide_view_get_geometry (self, &geometry);
  if (self->have_zoom_anchor)
    {
      anchor_x = self->zoom_anchor_x;
      anchor_y = self->zoom_anchor_y;
    }
  else if (self->pointer_inside)
    {
      anchor_x = self->pointer_x;
      anchor_y = self->pointer_y;
    }
  else
    {
      anchor_x = geometry.view_width / 2.0;
      anchor_y = geometry.view_height / 2.0;
    }
  ss_slide_geometry_zoom_about (&geometry, new_scale, anchor_x, anchor_y,
                                &scroll_x, &scroll_y);
  self->scale = new_scale;
  ss_slide_view_configure_adjustments (self, scroll_x, scroll_y);
  ss_slide_view_note_zoom (self);
  ss_slide_view_queue_sync_scale (self);
}

/* Zoom by factor keeping the widget point (x, y) in place. */
static void
ss_slide_view_zoom_at (SsSlideView *self,
                       double       factor,
                       double       x,
                       double       y)
{
  if (self->state == NULL || !self->field_loaded)
    return;

  /* in fit mode the state may not have heard of the fitted scale yet */
  if (ss_viewer_state_get_scale (self->state) != self->scale)
    {
      g_clear_handle_id (&self->sync_scale_source, g_source_remove);
      ss_viewer_state_set_scale (self->state, self->scale);
    }
  self->have_zoom_anchor = TRUE;
  self->zoom_anchor_x = x;
  self->zoom_anchor_y = y;
  ss_viewer_state_zoom (self->state, factor);
  self->have_zoom_anchor = FALSE;
}

static void
ss_slide_view_zoom_by_key (SsSlideView *self,
                           double       factor)
{
  if (self->pointer_inside)
    ss_slide_view_zoom_at (self, factor, self->pointer_x, self->pointer_y);
  else
    ss_slide_view_zoom_at (self, factor,
                           gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
                           gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

static gboolean
ss_slide_view_box_is_visible (SsSlideView *self,
                              const SsBox *box)
{
  SsSlideGeometry geometry;
  double x0, y0, x1, y1;

  ss_slide_view_get_geometry (self, &geometry);
  ss_slide_geometry_image_to_widget (&geometry, box->x, box->y, &x0, &y0);
  ss_slide_geometry_image_to_widget (&geometry, box->x + box->width, box->y + box->height,
                                     &x1, &y1);
  return x0 >= 0 && y0 >= 0 && x1 <= geometry.view_width && y1 <= geometry.view_height;
}

/* Centre the pending cell if its field is the one shown and the view has a size. */
static void
ss_slide_view_apply_pending_center (SsSlideView *self)
{
  SsSlideGeometry geometry;
  const SsBox *box;
  double scroll_x, scroll_y;

  if (self->pending_center == NULL || !self->field_loaded
      || ss_cell_item_get_image_index (self->pending_center) != self->image_index
      || gtk_widget_get_width (GTK_WIDGET (self)) <= 0)
    return;

  box = ss_cell_item_get_box (self->pending_center);
  ss_slide_view_get_geometry (self, &geometry);
  ss_slide_geometry_center_on (&geometry, box->x + box->width / 2.0,
                               box->y + box->height / 2.0, &scroll_x, &scroll_y);
  ss_slide_view_configure_adjustments (self, scroll_x, scroll_y);
  g_clear_object (&self->pending_center);
}

/* ------------------------------------------------------------------------------------
 * The shown field
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_unload_field (SsSlideView *self)
{
  ss_slide_view_park_field (self);
  if (self->cells != NULL)
    g_signal_handlers_disconnect_by_data (self->cells, self);
  g_clear_object (&self->cells);
  g_clear_object (&self->pixbuf);
  g_clear_pointer (&self->image, tiled_image_free);
  g_clear_pointer (&self->missing_message, g_free);
  g_ptr_array_set_size (self->entries, 0);
  g_clear_pointer (&self->entry_by_item, g_hash_table_unref);
  self->field_loaded = FALSE;
  self->field_loading = FALSE;
  self->image_width = 0;
  self->image_height = 0;
  self->hover_set = NULL;
  g_hash_table_remove_all (self->tiles);
}

/* The size of a field whose picture is gone: the stored size, else the cells' extent. */
static void
ss_slide_view_guess_field_size (SsSlideView         *self,
                                const SsImageRecord *record)
{
  self->image_width = record ? record->width : 0;
  self->image_height = record ? record->height : 0;
  if (self->image_width > 0 && self->image_height > 0)
    return;
  self->image_width = self->image_height = 1;
  for (guint i = 0; i < self->entries->len; i++)
    {
      CellEntry *entry = g_ptr_array_index (self->entries, i);

      self->image_width = MAX (self->image_width, entry->box.x + entry->box.width);
      self->image_height = MAX (self->image_height, entry->box.y + entry->box.height);
    }
}

/* The scale a field is drawn at on the display (device pixels per image pixel) when it
 * is shown: fitted to the view, or the state's. */
static double
ss_slide_view_device_scale_for (SsSlideView *self,
                                int          image_width,
                                int          image_height)
{
  int scale_factor = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int view_width = gtk_widget_get_width (GTK_WIDGET (self));
  int view_height = gtk_widget_get_height (GTK_WIDGET (self));

  if (self->state == NULL)
    return self->scale * scale_factor;
  if (ss_viewer_state_get_fit (self->state))
    return ss_slide_geometry_fit_scale (image_width, image_height, view_width, view_height)
           * scale_factor;
  return CLAMP (ss_viewer_state_get_scale (self->state),
                SS_VIEWER_MIN_SCALE, SS_VIEWER_MAX_SCALE) * scale_factor;
}

/* ------------------------------------------------------------------------------------
 * Scaled copies of fields
 *
 * Below 100% on screen the field is drawn from a copy scaled with gdk-pixbuf's filter
 * (GTK 4.8 samples a texture linearly without mipmaps, which aliases on a shrunken
 * field, and its cairo renderer filters the whole field every frame). A copy takes tens
 * of milliseconds: it is made in a worker thread, never in a frame, and kept by field
 * and scale, so going back to a field or a zoom costs nothing. The copy of a field
 * decoded ahead of need is made ahead of need too.
 * ------------------------------------------------------------------------------------ */

static gboolean
same_scale (double a,
            double b)
{
  return fabs (a - b) <= 1e-9 * MAX (a, b);
}

/* The copy of the field at exactly device_scale, or else (nearest) the one closest to
 * it; moved to the front as the last used. */
static ScaledCopy *
ss_slide_view_find_scaled_copy (SsSlideView *self,
                                guint        index,
                                double       device_scale,
                                gboolean     nearest)
{
  GList *best = NULL;
  double best_distance = G_MAXDOUBLE;

  for (GList *l = self->scaled_copies.head; l != NULL; l = l->next)
    {
      ScaledCopy *copy = l->data;
      double distance;

      if (copy->index != index)
        continue;
      distance = fabs (log (copy->device_scale / device_scale));
      if (same_scale (copy->device_scale, device_scale))
        distance = 0.0;
      else if (!nearest)
        continue;
      if (distance < best_distance)
        {
          best = l;
          best_distance = distance;
        }
    }
  if (best == NULL)
    return NULL;
  g_queue_unlink (&self->scaled_copies, best);
  g_queue_push_head_link (&self->scaled_copies, best);
  return best->data;
}

static gboolean
ss_slide_view_scale_wanted (SsSlideView *self,
                            guint        index,
                            double       device_scale)
{
  if (ss_slide_view_find_scaled_copy (self, index, device_scale, FALSE) != NULL)
    return FALSE;
  if (self->scaling != NULL && self->scaling->index == index
      && same_scale (self->scaling->device_scale, device_scale))
    return FALSE;
  for (GList *l = self->scale_requests.head; l != NULL; l = l->next)
    {
      ScaleRequest *request = l->data;

      if (request->index == index && same_scale (request->device_scale, device_scale))
        return FALSE;
    }
  return TRUE;
}

static void ss_slide_view_next_scale_request (SsSlideView *self);

static void
scale_thread (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ScaleRequest *request = task_data;
  int width = gdk_pixbuf_get_width (request->pixbuf);
  int height = gdk_pixbuf_get_height (request->pixbuf);
  GdkPixbuf *scaled;

  if (g_task_return_error_if_cancelled (task))
    return;
  scaled = gdk_pixbuf_scale_simple (request->pixbuf,
                                    MAX (1, (int) round (width * request->device_scale)),
                                    MAX (1, (int) round (height * request->device_scale)),
                                    GDK_INTERP_BILINEAR);
  if (scaled == NULL)
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "out of memory");
  else
    g_task_return_pointer (task, scaled, g_object_unref);
}

static void
scale_done (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  SsSlideView *self = SS_SLIDE_VIEW (source);
  ScaleRequest *request = g_task_get_task_data (G_TASK (result));
  g_autoptr(GdkPixbuf) scaled = g_task_propagate_pointer (G_TASK (result), NULL);
  ScaledCopy *copy;

  if (self->scaling == request)
    self->scaling = NULL;
  if (scaled == NULL || request->generation != self->scale_generation)
    {
      ss_slide_view_next_scale_request (self);
      return;
    }

  copy = g_new0 (ScaledCopy, 1);
  copy->index = request->index;
  copy->device_scale = request->device_scale;
  copy->image = tiled_image_new (scaled);
  g_queue_push_head (&self->scaled_copies, copy);
  while (self->scaled_copies.length > MAX_SCALED_COPIES)
    scaled_copy_free (g_queue_pop_tail (&self->scaled_copies));

  if (self->field_loaded && request->index == self->image_index)
    gtk_widget_queue_draw (GTK_WIDGET (self));
  ss_slide_view_next_scale_request (self);
}

static void
ss_slide_view_next_scale_request (SsSlideView *self)
{
  g_autoptr(GTask) task = NULL;

  if (self->scaling != NULL || self->scale_requests.length == 0 || self->cancellable == NULL)
    return;
  self->scaling = g_queue_pop_head (&self->scale_requests);
  task = g_task_new (self, self->cancellable, scale_done, NULL);
  g_task_set_source_tag (task, ss_slide_view_next_scale_request);
  g_task_set_task_data (task, self->scaling, (GDestroyNotify) scale_request_free);
  ss_background_run (task,
                     self->scaling->index == self->image_index ? SS_BACKGROUND_NOW
                                                               : SS_BACKGROUND_LATER,
                     scale_thread);
}

/* Have the field scaled to device_scale: first of all if urgent (it is the one shown),
 * else after the others, dropping the oldest beyond MAX_SCALE_REQUESTS. */
static void
ss_slide_view_request_scaled_copy (SsSlideView *self,
                                   guint        index,
                                   GdkPixbuf   *pixbuf,
                                   double       device_scale,
                                   gboolean     urgent)
{
  ScaleRequest *request;

  if (device_scale >= 1.0 || !ss_slide_view_scale_wanted (self, index, device_scale))
    return;

  /* a waiting request for the shown field at another scale is out of date */
  if (urgent)
    for (GList *l = self->scale_requests.head, *next; l != NULL; l = next)
      {
        ScaleRequest *waiting = l->data;

        next = l->next;
        if (waiting->index == index)
          {
            scale_request_free (waiting);
            g_queue_delete_link (&self->scale_requests, l);
          }
      }

  request = g_new0 (ScaleRequest, 1);
  request->generation = self->scale_generation;
  request->index = index;
  request->device_scale = device_scale;
  request->pixbuf = g_object_ref (pixbuf);
  if (urgent)
    g_queue_push_head (&self->scale_requests, request);
  else
    {
      g_queue_push_tail (&self->scale_requests, request);
      while (self->scale_requests.length > MAX_SCALE_REQUESTS)
        scale_request_free (g_queue_pop_head (&self->scale_requests));
    }
  ss_slide_view_next_scale_request (self);
}

/* Forget every copy (another document). */
static void
ss_slide_view_clear_scaled_copies (SsSlideView *self)
{
  self->scale_generation++;
  g_queue_clear_full (&self->scaled_copies, (GDestroyNotify) scaled_copy_free);
  g_queue_clear_full (&self->scale_requests, (GDestroyNotify) scale_request_free);
}

/* The shown field's copy at the scale it is shown at, unless a zoom is going on. */
static void
ss_slide_view_request_shown_copy (SsSlideView *self)
{
  if (self->pixbuf != NULL && self->zoom_settle_source == 0)
    ss_slide_view_request_scaled_copy (self, self->image_index, self->pixbuf,
                                       self->scale * gtk_widget_get_scale_factor (GTK_WIDGET (self)),
                                       TRUE);
}

/* ------------------------------------------------------------------------------------
 * Loading the shown field
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_set_missing (SsSlideView *self)
{
  g_autoptr(GError) error = NULL;
  const SsImageRecord *record = ss_case_document_get_image (self->document, self->image_index);
  const char *path = record && record->path ? record->path : "";
  GdkPixbuf *pixbuf;

  /* the document says why */
  pixbuf = ss_case_document_get_field_pixbuf (self->document, self->image_index, &error);
  if (pixbuf != NULL)
    return;
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    self->missing_message =
      g_strdup_printf (_("This field's image cannot be read: %s (%s). "
                         "The stored cells are still listed."),
                       path, error ? error->message : _("unknown error"));
  else
    self->missing_message =
      g_strdup_printf (_("This field's image is missing: %s. "
                         "The stored cells are still listed."), path);
  g_debug ("field %u: %s", self->image_index, error ? error->message : "no pixbuf");
}

/* Show the decoded field's pixels. */
static void
ss_slide_view_set_pixbuf (SsSlideView *self,
                          GdkPixbuf   *pixbuf)
{
  self->pixbuf = g_object_ref (pixbuf);
  self->image = tiled_image_new (pixbuf);
  self->image_width = gdk_pixbuf_get_width (pixbuf);
  self->image_height = gdk_pixbuf_get_height (pixbuf);
}

/* Centre the field, unless a cell of it is waiting to be centred. */
static void
ss_slide_view_center_field (SsSlideView *self)
{
  SsSlideGeometry geometry;

  ss_slide_view_get_geometry (self, &geometry);
  ss_slide_view_configure_adjustments (self,
                                       (self->image_width * self->scale
                                        - geometry.view_width) / 2.0,
                                       (self->image_height * self->scale
                                        - geometry.view_height) / 2.0);
  ss_slide_view_apply_pending_center (self);
}

static void
ss_slide_view_load_field (SsSlideView *self)
{
  GdkPixbuf *pixbuf;   /* the document's */
  const SsImageRecord *record;
  guint index, n_images;
  gboolean loading = FALSE;

  ss_slide_view_unload_field (self);

  if (self->document == NULL || self->state == NULL)
    goto done;
  n_images = ss_case_document_get_n_images (self->document);
  index = ss_viewer_state_get_image_index (self->state);
  if (index >= n_images)
    goto done;

  self->field_loaded = TRUE;
  self->image_index = index;
  record = ss_case_document_get_image (self->document, index);

  /* a field shown lately comes back as it was */
  if (!ss_slide_view_unpark_field (self, index))
    {
      self->cells = g_object_ref (ss_case_document_get_image_cells (self->document, index));
      g_signal_connect_object (self->cells, "items-changed",
                               G_CALLBACK (ss_slide_view_on_cells_changed), self,
                               G_CONNECT_SWAPPED);
      ss_slide_view_rebuild_entries (self);
    }

  /* a field not decoded yet is decoded in a worker thread: until "field-loaded" the
   * view shows the cells on a plain background at the stored size */
  pixbuf = ss_case_document_try_field_pixbuf (self->document, index, &loading);
  if (pixbuf != NULL)
    ss_slide_view_set_pixbuf (self, pixbuf);
  else
    {
      ss_slide_view_guess_field_size (self, record);
      self->field_loading = loading;
      if (!loading)
        ss_slide_view_set_missing (self);
    }

  self->scale = ss_slide_view_wanted_scale (self);
  ss_slide_view_queue_sync_scale (self);
  /* a new field starts centred, unless a cell of it is waiting to be centred */
  ss_slide_view_center_field (self);
  ss_slide_view_request_shown_copy (self);
  ss_slide_view_trace_shown (self);

done:
  if (!self->field_loaded)
    ss_slide_view_configure_adjustments (self, 0.0, 0.0);
  ss_slide_view_update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* A field was decoded in a worker thread, or could not be. */
static void
ss_slide_view_on_field_loaded (SsSlideView    *self,
                               guint           index,
                               SsCaseDocument *document)
{
  GdkPixbuf *pixbuf;
  gboolean loading = FALSE;

  if (index >= ss_case_document_get_n_images (document))
    return;

  if (self->field_loaded && index == self->image_index)
    {
      int old_width = self->image_width, old_height = self->image_height;

      if (!self->field_loading)
        return;
      pixbuf = ss_case_document_try_field_pixbuf (document, index, &loading);
      if (pixbuf == NULL)
        {
          /* dropped from the document's cache before it was shown: decoded again */
          if (loading)
            return;
          self->field_loading = FALSE;
          ss_slide_view_set_missing (self);
          gtk_widget_queue_draw (GTK_WIDGET (self));
          return;
        }
      self->field_loading = FALSE;
      ss_slide_view_set_pixbuf (self, pixbuf);
      if (self->image_width != old_width || self->image_height != old_height)
        {
          /* the file is not the size stored with the case */
          double new_scale = ss_slide_view_wanted_scale (self);

          if (new_scale != self->scale)
            {
              self->scale = new_scale;
              g_hash_table_remove_all (self->tiles);
              ss_slide_view_queue_sync_scale (self);
            }
          ss_slide_view_center_field (self);
        }
      ss_slide_view_request_shown_copy (self);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }

  /* the field of the cell that review moves to next, decoded ahead of need: scale it
   * ahead of need as well (not every field the gallery has decoded for its pictures) */
  if (self->state != NULL && ss_viewer_state_get_current (self->state) != NULL
      && gtk_widget_get_width (GTK_WIDGET (self)) > 0)
    {
      const SsImageRecord *record = ss_case_document_get_image (document, index);
      double device_scale = ss_slide_view_device_scale_for (self, record->width, record->height);
      SsCellItem *next;

      if (device_scale >= 1.0 || !ss_slide_view_scale_wanted (self, index, device_scale))
        return;
      next = ss_case_document_next_unreviewed (document, ss_viewer_state_get_current (self->state));
      if (next == NULL || ss_cell_item_get_image_index (next) != index)
        return;
      pixbuf = ss_case_document_try_field_pixbuf (document, index, &loading);
      if (pixbuf != NULL)
        ss_slide_view_request_scaled_copy (self, index, pixbuf, device_scale, FALSE);
    }
}

/* ------------------------------------------------------------------------------------
 * Drawing
 * ------------------------------------------------------------------------------------ */

static const GdkRGBA halo_current = { 1.0, 1.0, 1.0, 0.9 };
static const GdkRGBA halo_selected = { 1.0, 1.0, 1.0, 0.6 };
static const GdkRGBA halo_hover = { 1.0, 1.0, 1.0, 0.45 };
static const GdkRGBA unsure_amber = { 0.96, 0.66, 0.05, 1.0 };  /* GNOME yellow 4-5 */
static const GdkRGBA band_color = { 0.21, 0.52, 0.89, 1.0 };    /* GNOME blue 3 */

static void
set_source_rgba_alpha (cairo_t       *cr,
                       const GdkRGBA *color,
                       double         alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha * alpha);
}

static void
append_outline_path (cairo_t              *cr,
                     const SsSlideOutline *outline,
                     double                scale)
{
  guint start = 0;

  for (guint l = 0; l < outline->n_loops; l++)
    {
      guint end = outline->loop_ends[l];

      cairo_move_to (cr, outline->points[2 * start] * scale,
                     outline->points[2 * start + 1] * scale);
      for (guint i = start + 1; i < end; i++)
        cairo_line_to (cr, outline->points[2 * i] * scale, outline->points[2 * i + 1] * scale);
      cairo_close_path (cr);
      start = end;
    }
}

/* A halo around a box: a wide light stroke under the box's own, in content or widget
 * coordinates (x, y, width, height already scaled). */
static void
draw_halo (cairo_t       *cr,
           double         x,
           double         y,
           double         width,
           double         height,
           const GdkRGBA *color,
           double         line_width)
{
  cairo_set_dash (cr, NULL, 0, 0);
  gdk_cairo_set_source_rgba (cr, color);
  cairo_set_line_width (cr, line_width);
  cairo_rectangle (cr, x - 1.5, y - 1.5, width + 3.0, height + 3.0);
  cairo_stroke (cr);
}

/* How a run of cells is drawn: the same class, alpha and emphasis. */
typedef struct {
  GdkRGBA  color;
  double   alpha;
  Emphasis emphasis;
  gboolean show_boxes;
  gboolean show_outlines;
} CellStyle;

/* Cells' outlines, boxes and markers, in content coordinates (image pixels * scale).
 * One stroke per line: cairo's cost follows the area a stroke spans more than the
 * number of strokes, so grouping far-apart cells into one path saves nothing.
 * Visual language: the class colour; the cell's outline thin, the nucleus's thinner and
 * lighter, never filled; reviewed cells' boxes solid, unreviewed ones dashed; unsure
 * ones with an amber dot at the box's top-right corner; the current cell and the
 * selection thicker with a light halo. */
static void
ss_slide_view_draw_cells (SsSlideView     *self,
                          cairo_t         *cr,
                          CellEntry      **entries,
                          guint            n_entries,
                          const CellStyle *style,
                          gboolean        *deferred)
{
  static const double dash[] = { 5.0, 3.0 };
  double scale = self->scale;
  GdkRGBA light = { (1.0 + style->color.red) / 2, (1.0 + style->color.green) / 2,
                    (1.0 + style->color.blue) / 2, 1.0 };
  double box_width = style->emphasis == EMPHASIS_CURRENT ? 3.0
                     : style->emphasis == EMPHASIS_SELECTED ? 2.5 : 1.5;

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_MITER);

  for (guint i = 0; i < n_entries; i++)
    {
      CellEntry *entry = entries[i];
      double x = entry->box.x * scale, y = entry->box.y * scale;
      double width = entry->box.width * scale, height = entry->box.height * scale;
      double shorter = MIN (width, height);
      gboolean reviewed = ss_cell_item_get_reviewed (entry->item);

      cairo_set_dash (cr, NULL, 0, 0);
      /* outlines being traced in a worker thread are drawn once they are there */
      if (style->show_outlines && shorter >= MIN_OUTLINE_PIXELS
          && entry->tracing && !entry->outlines_built && self->n_trace_jobs > 0)
        {
          if (deferred != NULL)
            *deferred = TRUE;
        }
      else if (style->show_outlines && shorter >= MIN_OUTLINE_PIXELS)
        for (int nucleus = 0; nucleus < 2; nucleus++)
          {
            const SsSlideOutline *outline = cell_entry_get_outline (entry, nucleus, scale);

            if (outline == NULL)
              continue;
            append_outline_path (cr, outline, scale);
            set_source_rgba_alpha (cr, nucleus ? &light : &style->color, 0.9 * style->alpha);
            cairo_set_line_width (cr, nucleus ? 1.0 : 1.25);
            cairo_stroke (cr);
          }

      if (!style->show_boxes && style->emphasis == EMPHASIS_NONE)
        continue;

      if (style->emphasis != EMPHASIS_NONE)
        draw_halo (cr, x, y, width, height,
                   style->emphasis == EMPHASIS_CURRENT ? &halo_current : &halo_selected,
                   style->emphasis == EMPHASIS_CURRENT ? 5.0 : 4.0);
      /* dashes need room to read as dashes */
      if (!reviewed && shorter >= 12.0)
        cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
      else
        cairo_set_dash (cr, NULL, 0, 0);
      set_source_rgba_alpha (cr, &style->color, style->alpha);
      cairo_set_line_width (cr, box_width);
      cairo_rectangle (cr, x, y, width, height);
      cairo_stroke (cr);

      if (!reviewed && shorter >= 6.0 && ss_cell_item_get_unsure (entry->item))
        {
          cairo_set_dash (cr, NULL, 0, 0);
          cairo_arc (cr, x + width, y, CLAMP (shorter / 10.0, 2.5, 5.0), 0, 2 * G_PI);
          set_source_rgba_alpha (cr, &unsure_amber, style->alpha);
          cairo_fill_preserve (cr);
          cairo_set_source_rgba (cr, 0, 0, 0, 0.6 * style->alpha);
          cairo_set_line_width (cr, 1.0);
          cairo_stroke (cr);
        }
    }
}

/* Whether a cell is drawn faint: unreviewed and less certain than dim-below (a
 * reviewed cell keeps full strength: a person has vouched for it). */
static gboolean
cell_entry_is_dimmed (CellEntry *entry,
                      double     dim_below)
{
  return !ss_cell_item_get_reviewed (entry->item)
         && ss_cell_item_get_confidence (entry->item) < dim_below;
}

/* "Neutrophil 97%" ("Lymphocyte? 100%" while unsure) on a small dark tag above the box
 * (inside it at the top edge). */
static void
ss_slide_view_draw_label (SsSlideView *self,
                          cairo_t     *cr,
                          CellEntry   *entry,
                          double       dim_below)
{
  SsCellItem *item = entry->item;
  double x = entry->box.x * self->scale, y = entry->box.y * self->scale;
  double alpha = 1.0, tag_width, tag_height, tag_y;
  GdkRGBA color;

  if (entry->label_layout == NULL)
    {
      g_autofree char *label = ss_cell_item_dup_field_label (item);

      entry->label_layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), label);
      pango_layout_set_attributes (entry->label_layout, self->label_attrs);
      pango_layout_get_pixel_size (entry->label_layout, &entry->label_width,
                                   &entry->label_height);
    }

  if (cell_entry_is_dimmed (entry, dim_below))
    alpha = DIMMED_ALPHA;

  ss_cell_class_color (ss_cell_item_get_cell_class (item), &color);
  tag_width = entry->label_width + 9.0;
  tag_height = entry->label_height + 2.0;
  tag_y = y - tag_height - 2.0;
  if (tag_y < 0)
    tag_y = y + 2.0;

  cairo_set_source_rgba (cr, 0.1, 0.1, 0.1, 0.65 * alpha);
  cairo_rectangle (cr, x, tag_y, tag_width, tag_height);
  cairo_fill (cr);
  set_source_rgba_alpha (cr, &color, alpha);
  cairo_rectangle (cr, x, tag_y, 3.0, tag_height);
  cairo_fill (cr);
  cairo_set_source_rgba (cr, 1, 1, 1, alpha);
  cairo_move_to (cr, x + 6.0, tag_y + 1.0);
  pango_cairo_show_layout (cr, entry->label_layout);
}

/* The tag of a truth cell of class cell_class (SS_CLASS_NONE: the annotation has no
 * type), made once. */
static PangoLayout *
ss_slide_view_get_truth_layout (SsSlideView *self,
                                int          cell_class)
{
  guint slot = cell_class >= 0 && cell_class < SS_N_CLASSES ? (guint) cell_class : SS_N_CLASSES;

  if (self->truth_layouts[slot] == NULL)
    {
      g_autofree char *text = NULL;

      if (slot == SS_N_CLASSES)
        /* Translators: the tag of a ground-truth cell imported without a class */
        text = g_strdup (_("truth"));
      else
        /* Translators: the tag of a ground-truth cell; %s is its class ("Neutrophil") */
        text = g_strdup_printf (_("truth: %s"), ss_cell_class_display_name (cell_class));
      self->truth_layouts[slot] = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
      pango_layout_set_attributes (self->truth_layouts[slot], self->label_attrs);
    }
  return self->truth_layouts[slot];
}

/* The ground truth imported for the field, over the model's cells: each box dashed white
 * on black, which reads on any stain and unlike the model's boxes has no colour, with
 * a light "truth: CLASS" tag below it (the model's dark tags sit above their boxes).
 * Never filled: the cell stays visible through both. */
static void
ss_slide_view_draw_truth (SsSlideView           *self,
                          cairo_t               *cr,
                          const graphene_rect_t *rect,
                          gboolean               show_labels)
{
  static const double dash[] = { 4.0, 4.0 };
  GPtrArray *truth = ss_case_document_get_image_truth (self->document, self->image_index);
  double scale = self->scale;
  double field_bottom = self->image_height * scale;

  for (guint i = 0; i < truth->len; i++)
    {
      const SsTruthCell *cell = g_ptr_array_index (truth, i);
      double x = cell->box.x * scale, y = cell->box.y * scale;
      double width = cell->box.width * scale, height = cell->box.height * scale;
      graphene_rect_t extent;

      graphene_rect_init (&extent, x - CELL_REACH, y - CELL_REACH,
                          width + 2 * CELL_REACH + LABEL_REACH_RIGHT,
                          height + 2 * CELL_REACH + TRUTH_REACH_DOWN);
      if (!graphene_rect_intersection (&extent, rect, NULL))
        continue;

      cairo_set_line_join (cr, CAIRO_LINE_JOIN_MITER);
      cairo_rectangle (cr, x, y, width, height);
      cairo_set_dash (cr, NULL, 0, 0);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.85);
      cairo_set_line_width (cr, 2.5);
      cairo_stroke_preserve (cr);
      cairo_set_dash (cr, dash, G_N_ELEMENTS (dash), 0);
      cairo_set_source_rgb (cr, 1, 1, 1);
      cairo_set_line_width (cr, 1.5);
      cairo_stroke (cr);
      cairo_set_dash (cr, NULL, 0, 0);

      if (show_labels && MIN (width, height) >= MIN_LABEL_PIXELS)
        {
          PangoLayout *layout = ss_slide_view_get_truth_layout (self, cell->cls);
          int text_width, text_height;
          double tag_width, tag_height, tag_y;

          pango_layout_get_pixel_size (layout, &text_width, &text_height);
          tag_width = text_width + 8.0;
          tag_height = text_height + 2.0;
          tag_y = y + height + 2.0;
          if (tag_y + tag_height > field_bottom)
            tag_y = y + height - tag_height - 2.0;
          cairo_rectangle (cr, x, tag_y, tag_width, tag_height);
          cairo_set_source_rgba (cr, 1, 1, 1, 0.85);
          cairo_fill_preserve (cr);
          cairo_set_source_rgb (cr, 0, 0, 0);
          cairo_set_line_width (cr, 1.0);
          cairo_stroke (cr);
          cairo_move_to (cr, x + 4.0, tag_y + 1.0);
          pango_cairo_show_layout (cr, layout);
        }
    }
}

/* Whether the window is drawn by GSK's cairo renderer, which converts every texture
 * it draws anew each frame: then the view draws images it keeps with cairo instead. */
static gboolean
ss_slide_view_uses_cairo (SsSlideView *self)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  GskRenderer *renderer = native != NULL ? gtk_native_get_renderer (native) : NULL;

  return renderer != NULL && GSK_IS_CAIRO_RENDERER (renderer);
}

/* The overlay of every cell meeting rect (content coordinates, whole pixels), drawn
 * into an image at the display's scale factor with a margin of TILE_MARGIN device pixels
 * all round. Every cell is drawn plain: the current
 * cell, the selection and the hovered cell are drawn over it frame by frame, so
 * moving through the review queue does not draw the thousand others again. */
static cairo_surface_t *
ss_slide_view_build_overlay (SsSlideView           *self,
                             const graphene_rect_t *rect,
                             gboolean              *provisional)
{
  int scale_factor = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  int width = MAX (1, (int) rect->size.width * scale_factor) + 2 * TILE_MARGIN;
  int height = MAX (1, (int) rect->size.height * scale_factor) + 2 * TILE_MARGIN;
  cairo_surface_t *surface;
  cairo_t *cr;
  gboolean show_labels = ss_viewer_state_get_show_labels (self->state);
  double dim_below = ss_viewer_state_get_dim_below (self->state);
  double scale = self->scale;
  GPtrArray *groups[2 * SS_N_CLASSES] = { NULL };
  CellStyle style = {
    .emphasis = EMPHASIS_NONE,
    .show_boxes = ss_viewer_state_get_show_boxes (self->state),
    .show_outlines = ss_viewer_state_get_show_outlines (self->state),
  };

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  cairo_translate (cr, TILE_MARGIN, TILE_MARGIN);
  cairo_scale (cr, scale_factor, scale_factor);
  cairo_translate (cr, -rect->origin.x, -rect->origin.y);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);
  /* cairo's 4x4 sampling: half the time of its default on a field of small cells, and
   * as good to the eye for lines thinner than two pixels */
  if (scale < EXACT_OUTLINE_SCALE)
    cairo_set_antialias (cr, CAIRO_ANTIALIAS_FAST);

  /* the cells by class and strength, each run with one colour */
  for (guint i = 0; i < self->entries->len; i++)
    {
      CellEntry *entry = g_ptr_array_index (self->entries, i);
      int cell_class = ss_cell_item_get_cell_class (entry->item);
      graphene_rect_t extent;
      guint group;

      cell_content_extent (&entry->box, scale, &extent);
      if (!graphene_rect_intersection (&extent, rect, NULL))
        continue;
      group = 2 * CLAMP (cell_class, 0, SS_N_CLASSES - 1) + cell_entry_is_dimmed (entry, dim_below);
      if (groups[group] == NULL)
        groups[group] = g_ptr_array_new ();
      g_ptr_array_add (groups[group], entry);
    }
  for (guint group = 0; group < G_N_ELEMENTS (groups); group++)
    if (groups[group] != NULL)
      {
        ss_cell_class_color (group / 2, &style.color);
        style.alpha = group % 2 ? DIMMED_ALPHA : 1.0;
        ss_slide_view_draw_cells (self, cr, (CellEntry **) groups[group]->pdata,
                                  groups[group]->len, &style, provisional);
        g_ptr_array_unref (groups[group]);
      }

  if (ss_viewer_state_get_show_truth (self->state))
    ss_slide_view_draw_truth (self, cr, rect, show_labels);

  if (show_labels)
    for (guint i = 0; i < self->entries->len; i++)
      {
        CellEntry *entry = g_ptr_array_index (self->entries, i);
        graphene_rect_t extent;

        cell_content_extent (&entry->box, scale, &extent);
        if (MIN (entry->box.width, entry->box.height) * scale >= MIN_LABEL_PIXELS
            && graphene_rect_intersection (&extent, rect, NULL))
          ss_slide_view_draw_label (self, cr, entry, dim_below);
      }

  cairo_destroy (cr);
  cairo_surface_flush (surface);
  return surface;
}

/* The tile without its margin. */
static GdkTexture *
tile_get_texture (Tile *tile)
{
  if (tile->texture == NULL)
    {
      cairo_surface_t *surface = tile->surface;
      int width = cairo_image_surface_get_width (surface) - 2 * TILE_MARGIN;
      int height = cairo_image_surface_get_height (surface) - 2 * TILE_MARGIN;
      int stride = cairo_image_surface_get_stride (surface);
      g_autoptr(GBytes) bytes = NULL;

      /* cairo's ARGB32 is GDK_MEMORY_DEFAULT: the pixels are handed over as they are */
      bytes = g_bytes_new_with_free_func (cairo_image_surface_get_data (surface)
                                          + (gsize) TILE_MARGIN * stride + TILE_MARGIN * 4,
                                          (gsize) (height - 1) * stride + (gsize) width * 4,
                                          (GDestroyNotify) cairo_surface_destroy,
                                          cairo_surface_reference (surface));
      tile->texture = gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, stride);
    }
  return tile->texture;
}

/* A tile of the overlay at rect (widget coordinates), stretched to it during a zoom. */
static void
snapshot_tile (GtkSnapshot           *snapshot,
               Tile                  *tile,
               const graphene_rect_t *rect,
               gboolean               use_cairo,
               gboolean               stretched)
{
  cairo_t *cr;

  if (!use_cairo)
    {
      gtk_snapshot_append_texture (snapshot, tile_get_texture (tile), rect);
      return;
    }
  cr = gtk_snapshot_append_cairo (snapshot, rect);
  cairo_rectangle (cr, rect->origin.x, rect->origin.y, rect->size.width, rect->size.height);
  cairo_clip (cr);
  cairo_translate (cr, rect->origin.x, rect->origin.y);
  cairo_scale (cr,
               rect->size.width / (cairo_image_surface_get_width (tile->surface) - 2 * TILE_MARGIN),
               rect->size.height / (cairo_image_surface_get_height (tile->surface) - 2 * TILE_MARGIN));
  cairo_set_source_surface (cr, tile->surface, -TILE_MARGIN, -TILE_MARGIN);
  /* for the few frames of a zoom: cairo's good filter shrinks with a convolution */
  if (stretched)
    cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
  cairo_paint (cr);
  cairo_destroy (cr);
}

/* Draw the overlay's tiles over the visible part (content coordinates) at the field's
 * origin, drawing the ones missing; during a zoom, the last zoom's tiles stretched. */
static void
ss_slide_view_snapshot_overlay (SsSlideView           *self,
                                GtkSnapshot           *snapshot,
                                const graphene_rect_t *visible,
                                double                 origin_x,
                                double                 origin_y)
{
  GHashTableIter iter;
  Tile *tile;
  int tx0, ty0, tx1, ty1, size;
  gboolean use_cairo = ss_slide_view_uses_cairo (self);

  if (self->tiles_scale != self->scale)
    {
      if (self->zoom_settle_source != 0 && g_hash_table_size (self->tiles) > 0)
        {
          double ratio = self->scale / self->tiles_scale;
          double stretched = self->tile_size * ratio;
          graphene_rect_t rect, shown;

          graphene_rect_init (&shown, origin_x + visible->origin.x,
                              origin_y + visible->origin.y,
                              visible->size.width, visible->size.height);
          g_hash_table_iter_init (&iter, self->tiles);
          while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &tile))
            {
              graphene_rect_init (&rect, origin_x + tile->tx * stretched,
                                  origin_y + tile->ty * stretched, stretched, stretched);
              if (graphene_rect_intersection (&rect, &shown, NULL))
                snapshot_tile (snapshot, tile, &rect, use_cairo, TRUE);
            }
          return;
        }
      g_hash_table_remove_all (self->tiles);
      self->tiles_scale = self->scale;
      self->tile_size = MAX (1, TILE_PIXELS / gtk_widget_get_scale_factor (GTK_WIDGET (self)));
    }

  size = self->tile_size;
  tx0 = floor (visible->origin.x / size);
  ty0 = floor (visible->origin.y / size);
  tx1 = floor ((visible->origin.x + visible->size.width - 1) / size);
  ty1 = floor ((visible->origin.y + visible->size.height - 1) / size);

  /* keep the tiles in view and one row or column around it; drop the rest */
  if (g_hash_table_size (self->tiles) > (guint) ((tx1 - tx0 + 3) * (ty1 - ty0 + 3)))
    {
      g_hash_table_iter_init (&iter, self->tiles);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &tile))
        if (tile->tx < tx0 - 1 || tile->tx > tx1 + 1 || tile->ty < ty0 - 1 || tile->ty > ty1 + 1)
          g_hash_table_iter_remove (&iter);
    }

  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);

        tile = g_hash_table_lookup (self->tiles, &key);
        if (tile == NULL)
          {
            tile = g_new0 (Tile, 1);
            tile->key = key;
            tile->tx = tx;
            tile->ty = ty;
            tile->surface = ss_slide_view_build_overlay (self,
                                                         &GRAPHENE_RECT_INIT (tx * size, ty * size,
                                                                              size, size),
                                                         &tile->provisional);
            g_hash_table_insert (self->tiles, &tile->key, tile);
          }
        snapshot_tile (snapshot, tile,
                       &GRAPHENE_RECT_INIT (origin_x + tx * size, origin_y + ty * size,
                                            size, size),
                       use_cairo, FALSE);
      }
}

/* Append the tiles of image that meet view (widget coordinates), its pixel (x, y) at
 * (origin_x + x * kx, origin_y + y * ky). */
static void
snapshot_tiled_image (GtkSnapshot           *snapshot,
                      const TiledImage      *image,
                      double                 origin_x,
                      double                 origin_y,
                      double                 kx,
                      double                 ky,
                      int                    scale_factor,
                      const graphene_rect_t *view,
                      gboolean               magnified,
                      gboolean               use_cairo,
                      gboolean               stretched)
{
  int column0, column1, row0, row1;

  /* the tiles in view, give or take the rounding of their edges */
  column0 = floor ((view->origin.x - origin_x) / kx / IMAGE_TILE_PIXELS) - 1;
  column1 = floor ((view->origin.x + view->size.width - origin_x) / kx / IMAGE_TILE_PIXELS) + 1;
  row0 = floor ((view->origin.y - origin_y) / ky / IMAGE_TILE_PIXELS) - 1;
  row1 = floor ((view->origin.y + view->size.height - origin_y) / ky / IMAGE_TILE_PIXELS) + 1;
  column0 = MAX (column0, 0);
  row0 = MAX (row0, 0);
  column1 = MIN (column1, image->n_columns - 1);
  row1 = MIN (row1, image->n_rows - 1);

  for (int row = row0; row <= row1; row++)
    for (int column = column0; column <= column1; column++)
      {
        int i = row * image->n_columns + column;
        GdkTexture *texture = image->textures[i];
        int x0 = column * IMAGE_TILE_PIXELS, y0 = row * IMAGE_TILE_PIXELS;
        int x1 = MIN (image->width, x0 + IMAGE_TILE_PIXELS);
        int y1 = MIN (image->height, y0 + IMAGE_TILE_PIXELS);
        int texture_x0 = MAX (0, x0 - IMAGE_TILE_GUTTER);
        int texture_y0 = MAX (0, y0 - IMAGE_TILE_GUTTER);
        double left = ss_slide_geometry_tile_edge (origin_x, kx, x0, image->width, scale_factor);
        double right = ss_slide_geometry_tile_edge (origin_x, kx, x1, image->width, scale_factor);
        double top = ss_slide_geometry_tile_edge (origin_y, ky, y0, image->height, scale_factor);
        double bottom = ss_slide_geometry_tile_edge (origin_y, ky, y1, image->height, scale_factor);
        graphene_rect_t part, bounds;

        graphene_rect_init (&part, left, top, right - left, bottom - top);
        if (part.size.width <= 0 || part.size.height <= 0
            || !graphene_rect_intersection (&part, view, NULL))
          continue;
        /* the whole texture where one big texture would put those pixels, cut to the
         * tile's own part */
        graphene_rect_init (&bounds, origin_x + texture_x0 * kx, origin_y + texture_y0 * ky,
                            gdk_texture_get_width (texture) * kx,
                            gdk_texture_get_height (texture) * ky);
        if (use_cairo)
          {
            /* what the cairo renderer does with a texture node, from an image kept */
            cairo_t *cr = gtk_snapshot_append_cairo (snapshot, &part);

            cairo_rectangle (cr, part.origin.x, part.origin.y, part.size.width, part.size.height);
            cairo_clip (cr);
            cairo_translate (cr, bounds.origin.x, bounds.origin.y);
            cairo_scale (cr, kx, ky);
            cairo_set_source_surface (cr, tiled_image_get_surface (image, i), 0, 0);
            cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
#if GTK_CHECK_VERSION (4, 10, 0)
            if (magnified)
              cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_NEAREST);
            else
#endif
            /* for the few frames of a zoom: cairo's good filter shrinks with a
             * convolution */
            if (stretched)
              cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_BILINEAR);
            cairo_paint (cr);
            cairo_destroy (cr);
            continue;
          }
        gtk_snapshot_push_clip (snapshot, &part);
#if GTK_CHECK_VERSION (4, 10, 0)
        /* pixels stay square when magnified: a reviewer looks at them */
        gtk_snapshot_append_scaled_texture (snapshot, texture,
                                            magnified ? GSK_SCALING_FILTER_NEAREST
                                                      : GSK_SCALING_FILTER_LINEAR,
                                            &bounds);
#else
        gtk_snapshot_append_texture (snapshot, texture, &bounds);
#endif
        gtk_snapshot_pop (snapshot);
      }
}

/* The field's picture, or a plain background while it is decoded or scaled. Below 100%
 * on screen it is drawn from a copy scaled to the zoom with gdk-pixbuf's filter: while
 * a zoom is going on, or the copy at the new scale is being made, the copy at another
 * scale is stretched meanwhile (or the field itself during a zoom, as there is no
 * other). */
static void
ss_slide_view_snapshot_field (SsSlideView           *self,
                              GtkSnapshot           *snapshot,
                              const graphene_rect_t *view_rect,
                              const graphene_rect_t *field_rect,
                              double                 origin_x,
                              double                 origin_y)
{
  int scale_factor = gtk_widget_get_scale_factor (GTK_WIDGET (self));
  double device_scale = self->scale * scale_factor;
  const TiledImage *image = NULL;
  gboolean stretched = self->zoom_settle_source != 0;
  graphene_rect_t shown;

  if (self->image != NULL && device_scale >= 1.0)
    image = self->image;
  else if (self->image != NULL)
    {
      ScaledCopy *copy = ss_slide_view_find_scaled_copy (self, self->image_index,
                                                         device_scale, FALSE);

      if (copy == NULL)
        {
          ss_slide_view_request_shown_copy (self);
          copy = ss_slide_view_find_scaled_copy (self, self->image_index, device_scale, TRUE);
          stretched = TRUE;
        }
      if (copy != NULL)
        image = copy->image;
      else if (self->zoom_settle_source != 0)
        image = self->image;
    }

  if (image == NULL)
    {
      if (graphene_rect_intersection (field_rect, view_rect, &shown))
        gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0.5, 0.5, 0.5, 0.35 }, &shown);
      return;
    }
  /* a scaled copy fills the field's place as the field would */
  snapshot_tiled_image (snapshot, image, origin_x, origin_y,
                        image == self->image ? self->scale : field_rect->size.width / image->width,
                        image == self->image ? self->scale : field_rect->size.height / image->height,
                        scale_factor, view_rect, self->scale >= 2.0,
                        ss_slide_view_uses_cairo (self), stretched);
}

/* The selection, the current cell and the hovered cell, over the plain overlay: their
 * boxes thicker with halos, their labels at full strength. Only those in view. */
static void
ss_slide_view_snapshot_emphasis (SsSlideView           *self,
                                 GtkSnapshot           *snapshot,
                                 const graphene_rect_t *view_rect,
                                 double                 origin_x,
                                 double                 origin_y)
{
  g_autoptr(GPtrArray) selection = ss_viewer_state_get_selection (self->state);
  g_autoptr(GPtrArray) shown = g_ptr_array_new ();
  CellEntry *current = ss_slide_view_lookup_entry (self, ss_viewer_state_get_current (self->state));
  CellEntry *hover = ss_slide_view_lookup_entry (self, ss_viewer_state_get_hover (self->state));
  gboolean show_labels = ss_viewer_state_get_show_labels (self->state);
  double scale = self->scale;
  graphene_rect_t bounds;
  gboolean any = FALSE;
  CellStyle style = { .alpha = 1.0, .show_boxes = TRUE, .show_outlines = FALSE };
  cairo_t *cr;

  /* what is in view, and the area it takes with halos and a label tag above */
  for (guint i = 0; i <= selection->len; i++)
    {
      CellEntry *entry = i < selection->len
                         ? ss_slide_view_lookup_entry (self, g_ptr_array_index (selection, i))
                         : hover;
      graphene_rect_t area;

      if (entry == NULL)
        continue;
      graphene_rect_init (&area, origin_x + entry->box.x * scale - 8,
                          origin_y + entry->box.y * scale - 8 - (show_labels ? 24 : 0),
                          entry->box.width * scale + 16,
                          entry->box.height * scale + 16 + (show_labels ? 24 : 0));
      if (!graphene_rect_intersection (&area, view_rect, &area))
        continue;
      if (any)
        graphene_rect_union (&bounds, &area, &bounds);
      else
        bounds = area;
      any = TRUE;
      if (i < selection->len)
        g_ptr_array_add (shown, entry);
    }
  if (!any)
    return;

  graphene_rect_round_extents (&bounds, &bounds);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_translate (cr, origin_x, origin_y);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_BUTT);

  /* the selection, the current cell last (on top) */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < shown->len; i++)
      {
        CellEntry *entry = g_ptr_array_index (shown, i);

        if ((entry == current) != pass)
          continue;
        ss_cell_class_color (ss_cell_item_get_cell_class (entry->item), &style.color);
        style.emphasis = entry == current ? EMPHASIS_CURRENT : EMPHASIS_SELECTED;
        ss_slide_view_draw_cells (self, cr, &entry, 1, &style, NULL);
        if (show_labels && MIN (entry->box.width, entry->box.height) * scale >= MIN_LABEL_PIXELS)
          ss_slide_view_draw_label (self, cr, entry, 0.0);
      }

  if (hover != NULL)
    {
      double x = hover->box.x * scale, y = hover->box.y * scale;
      double width = hover->box.width * scale, height = hover->box.height * scale;
      GdkRGBA color;

      ss_cell_class_color (ss_cell_item_get_cell_class (hover->item), &color);
      draw_halo (cr, x, y, width, height, &halo_hover, 4.0);
      gdk_cairo_set_source_rgba (cr, &color);
      cairo_set_line_width (cr, 2.5);
      cairo_rectangle (cr, x, y, width, height);
      cairo_stroke (cr);
    }
  cairo_destroy (cr);
}

static void
ss_slide_view_snapshot_drag (SsSlideView *self,
                             GtkSnapshot *snapshot)
{
  GskRoundedRect outline;
  graphene_rect_t rect;
  GdkRGBA fill = band_color;
  GdkRGBA border[4];

  if (self->drag_mode != DRAG_RUBBER_BAND && self->drag_mode != DRAG_DRAW_BOX)
    return;

  graphene_rect_init (&rect, MIN (self->drag_start_x, self->drag_x),
                      MIN (self->drag_start_y, self->drag_y),
                      fabs (self->drag_x - self->drag_start_x),
                      fabs (self->drag_y - self->drag_start_y));
  if (self->drag_mode == DRAG_DRAW_BOX)
    {
      ss_cell_class_color (SS_CLASS_OTHER, &fill);
      fill.alpha = 0.12;
    }
  else
    fill.alpha = 0.18;
  for (int i = 0; i < 4; i++)
    {
      border[i] = fill;
      border[i].alpha = 0.9;
    }
  gtk_snapshot_append_color (snapshot, &fill, &rect);
  gsk_rounded_rect_init_from_rect (&outline, &rect, 0);
  gtk_snapshot_append_border (snapshot, &outline,
                              (float[4]) { 1.5, 1.5, 1.5, 1.5 }, border);
}

static void
ss_slide_view_snapshot_message (SsSlideView *self,
                                GtkSnapshot *snapshot,
                                int          view_width,
                                int          view_height)
{
  g_autoptr(PangoLayout) layout = NULL;
  GskRoundedRect background;
  graphene_rect_t rect;
  int text_width, text_height, wrap_width;

  wrap_width = MAX (120, MIN (view_width - 64, 560));
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), self->missing_message);
  pango_layout_set_width (layout, wrap_width * PANGO_SCALE);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (layout, &text_width, &text_height);

  graphene_rect_init (&rect, floor ((view_width - wrap_width) / 2.0) - 16,
                      floor ((view_height - text_height) / 2.0) - 12,
                      wrap_width + 32, text_height + 24);
  gsk_rounded_rect_init_from_rect (&background, &rect, 8);
  gtk_snapshot_push_rounded_clip (snapshot, &background);
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0.1, 0.1, 0.1, 0.85 }, &rect);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (rect.origin.x + 16,
                                                          rect.origin.y + 12));
  gtk_snapshot_append_layout (snapshot, layout, &(GdkRGBA) { 1, 1, 1, 1 });
  gtk_snapshot_restore (snapshot);
}

/* "Loading field…" on a small tag at the top of the view, while the field's picture is
 * decoded. */
static void
ss_slide_view_snapshot_loading (SsSlideView *self,
                                GtkSnapshot *snapshot,
                                int          view_width)
{
  g_autoptr(PangoLayout) layout = NULL;
  GskRoundedRect background;
  graphene_rect_t rect;
  int text_width, text_height;

  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), _("Loading field…"));
  pango_layout_get_pixel_size (layout, &text_width, &text_height);

  graphene_rect_init (&rect, floor ((view_width - text_width) / 2.0) - 12, 12,
                      text_width + 24, text_height + 12);
  gsk_rounded_rect_init_from_rect (&background, &rect, (text_height + 12) / 2.0);
  gtk_snapshot_push_rounded_clip (snapshot, &background);
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 0.1, 0.1, 0.1, 0.85 }, &rect);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (rect.origin.x + 12,
                                                          rect.origin.y + 6));
  gtk_snapshot_append_layout (snapshot, layout, &(GdkRGBA) { 1, 1, 1, 1 });
  gtk_snapshot_restore (snapshot);
}

static void
ss_slide_view_snapshot (GtkWidget   *widget,
                        GtkSnapshot *snapshot)
{
  SsSlideView *self = SS_SLIDE_VIEW (widget);
  SsSlideGeometry geometry;
  graphene_rect_t view_rect, field_rect, visible, bounds;
  double origin_x, origin_y, content_width, content_height;

  if (!self->field_loaded || self->state == NULL)
    return;

  ss_slide_view_get_geometry (self, &geometry);
  ss_slide_geometry_get_origin (&geometry, &origin_x, &origin_y);
  content_width = self->image_width * self->scale;
  content_height = self->image_height * self->scale;
  graphene_rect_init (&view_rect, 0, 0, geometry.view_width, geometry.view_height);
  graphene_rect_init (&field_rect, origin_x, origin_y, content_width, content_height);

  gtk_snapshot_push_clip (snapshot, &view_rect);

  ss_slide_view_snapshot_field (self, snapshot, &view_rect, &field_rect, origin_x, origin_y);

  /* the overlay is built in content coordinates so it survives panning */
  graphene_rect_init (&visible, -origin_x, -origin_y, geometry.view_width,
                      geometry.view_height);
  graphene_rect_init (&bounds, -32, -32, content_width + 64, content_height + 64);
  if (self->entries->len > 0 && graphene_rect_intersection (&visible, &bounds, &visible))
    ss_slide_view_snapshot_overlay (self, snapshot, &visible, origin_x, origin_y);

  ss_slide_view_snapshot_emphasis (self, snapshot, &view_rect, origin_x, origin_y);
  ss_slide_view_snapshot_drag (self, snapshot);
  if (self->missing_message != NULL)
    ss_slide_view_snapshot_message (self, snapshot, geometry.view_width, geometry.view_height);
  else if (self->field_loading)
    ss_slide_view_snapshot_loading (self, snapshot, geometry.view_width);

  gtk_snapshot_pop (snapshot);
}

/* ------------------------------------------------------------------------------------
 * Input
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_update_cursor (SsSlideView *self,
                             gboolean     over_cell)
{
  const char *name = NULL;

  if (self->drag_mode == DRAG_PAN)
    name = "grabbing";
  else if (self->space_down)
    name = "grab";
  else if (self->draw_mode)
    name = "crosshair";
  else if (over_cell)
    name = "pointer";
  /* every motion comes here: make a cursor only when it changes */
  if (g_strcmp0 (name, self->cursor_name) == 0)
    return;
  self->cursor_name = name;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), name);
}

static void
ss_slide_view_update_hover (SsSlideView *self)
{
  CellEntry *entry = NULL;
  SsCellItem *item;

  if (self->pointer_inside && self->drag_mode == DRAG_NONE)
    entry = ss_slide_view_cell_at (self, self->pointer_x, self->pointer_y);
  item = entry ? entry->item : NULL;

  ss_slide_view_update_cursor (self, item != NULL);
  if (self->state == NULL || item == self->hover_set)
    return;
  self->hover_set = item;
  if (ss_viewer_state_get_hover (self->state) != item)
    ss_viewer_state_set_hover (self->state, item);
}

static void
ss_slide_view_on_motion (GtkEventControllerMotion *controller,
                         double                    x,
                         double                    y,
                         SsSlideView              *self)
{
  self->pointer_inside = TRUE;
  self->pointer_x = x;
  self->pointer_y = y;
  ss_slide_view_update_hover (self);
}

static void
ss_slide_view_on_leave (GtkEventControllerMotion *controller,
                        SsSlideView              *self)
{
  self->pointer_inside = FALSE;
  if (self->state != NULL && self->hover_set != NULL
      && ss_viewer_state_get_hover (self->state) == self->hover_set)
    ss_viewer_state_set_hover (self->state, NULL);
  self->hover_set = NULL;
}

static gboolean
ss_slide_view_on_scroll (GtkEventControllerScroll *controller,
                         double                    dx,
                         double                    dy,
                         SsSlideView              *self)
{
  GdkModifierType modifiers =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  double factor;

  /* plain scrolling goes on to the GtkScrolledWindow, which pans */
  if (!(modifiers & GDK_CONTROL_MASK) || dy == 0.0)
    return FALSE;

  if (gtk_event_controller_scroll_get_unit (controller) == GDK_SCROLL_UNIT_WHEEL)
    factor = pow (ZOOM_STEP_WHEEL, -dy);
  else
    factor = exp (-dy / ZOOM_SURFACE_PIXELS);
  ss_slide_view_zoom_at (self, factor, self->pointer_x, self->pointer_y);
  return TRUE;
}

static void
ss_slide_view_on_pinch_begin (GtkGesture       *gesture,
                              GdkEventSequence *sequence,
                              SsSlideView      *self)
{
  self->pinch_start_scale = self->scale;
}

static void
ss_slide_view_on_pinch_scale_changed (GtkGestureZoom *gesture,
                                      double          factor,
                                      SsSlideView    *self)
{
  double x, y;

  if (self->state == NULL || !self->field_loaded)
    return;
  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    {
      x = self->pointer_x;
      y = self->pointer_y;
    }
  self->have_zoom_anchor = TRUE;
  self->zoom_anchor_x = x;
  self->zoom_anchor_y = y;
  g_clear_handle_id (&self->sync_scale_source, g_source_remove);
  ss_viewer_state_set_fit (self->state, FALSE);
  ss_viewer_state_set_scale (self->state,
                             CLAMP (self->pinch_start_scale * factor,
                                    SS_VIEWER_MIN_SCALE, SS_VIEWER_MAX_SCALE));
  self->have_zoom_anchor = FALSE;
}

static void
ss_slide_view_click (SsSlideView     *self,
                     double           x,
                     double           y,
                     GdkModifierType  modifiers)
{
  CellEntry *entry = ss_slide_view_cell_at (self, x, y);

  if (entry != NULL)
    {
      if ((modifiers & GDK_CONTROL_MASK)
          && ss_viewer_state_is_selected (self->state, entry->item))
        ss_viewer_state_select (self->state, entry->item, FALSE);
      else
        ss_viewer_state_set_current (self->state, entry->item,
                                     (modifiers & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)) != 0);
    }
  else if (!(modifiers & (GDK_CONTROL_MASK | GDK_SHIFT_MASK)))
    ss_viewer_state_set_current (self->state, NULL, FALSE);   /* clears the selection */
}

static void
ss_slide_view_drag_image_rect (SsSlideView *self,
                               double      *x0,
                               double      *y0,
                               double      *x1,
                               double      *y1)
{
  SsSlideGeometry geometry;

  ss_slide_view_get_geometry (self, &geometry);
  ss_slide_geometry_widget_to_image (&geometry, MIN (self->drag_start_x, self->drag_x),
                                     MIN (self->drag_start_y, self->drag_y), x0, y0);
  ss_slide_geometry_widget_to_image (&geometry, MAX (self->drag_start_x, self->drag_x),
                                     MAX (self->drag_start_y, self->drag_y), x1, y1);
}

/* Select the cells whose box's centre lies in the band; Ctrl or Shift adds them. */
static void
ss_slide_view_select_band (SsSlideView *self)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new ();
  double x0, y0, x1, y1;

  ss_slide_view_drag_image_rect (self, &x0, &y0, &x1, &y1);
  for (guint i = 0; i < self->entries->len; i++)
    {
      CellEntry *entry = g_ptr_array_index (self->entries, i);
      double cx = entry->box.x + entry->box.width / 2.0;
      double cy = entry->box.y + entry->box.height / 2.0;

      if (cx >= x0 && cx <= x1 && cy >= y0 && cy <= y1)
        g_ptr_array_add (items, entry->item);
    }

  if (self->drag_modifiers & (GDK_CONTROL_MASK | GDK_SHIFT_MASK))
    for (guint i = 0; i < items->len; i++)
      ss_viewer_state_select (self->state, g_ptr_array_index (items, i), TRUE);
  else
    ss_viewer_state_select_only (self->state, (SsCellItem **) items->pdata, items->len);
}

static void
ss_slide_view_add_drawn_cell (SsSlideView *self)
{
  g_autoptr(GError) error = NULL;
  SsCellItem *item;
  SsBox box;
  double x0, y0, x1, y1;

  ss_slide_view_drag_image_rect (self, &x0, &y0, &x1, &y1);
  x0 = CLAMP (floor (x0), 0, self->image_width);
  y0 = CLAMP (floor (y0), 0, self->image_height);
  x1 = CLAMP (ceil (x1), 0, self->image_width);
  y1 = CLAMP (ceil (y1), 0, self->image_height);
  box.x = x0;
  box.y = y0;
  box.width = x1 - x0;
  box.height = y1 - y0;
  if (box.width < MIN_DRAWN_BOX || box.height < MIN_DRAWN_BOX)
    return;

  item = ss_case_document_add_cell (self->document, self->image_index, &box,
                                    SS_CLASS_OTHER, &error);
  if (item == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Could not add the cell: %s"),
                                                  error ? error->message
                                                        : _("unknown error"));
      g_signal_emit (self, signals[ERROR], 0, message);
      return;
    }
  /* one cell per press of D; the new cell is the one to label next */
  ss_slide_view_set_draw_mode (self, FALSE);
  ss_viewer_state_set_current (self->state, item, FALSE);
}

static void
ss_slide_view_on_drag_begin (GtkGestureDrag *gesture,
                             double          x,
                             double          y,
                             SsSlideView    *self)
{
  GtkGestureSingle *single = GTK_GESTURE_SINGLE (gesture);
  GdkEventSequence *sequence = gtk_gesture_single_get_current_sequence (single);
  GdkEvent *event = gtk_gesture_get_last_event (GTK_GESTURE (gesture), sequence);
  guint button = gtk_gesture_single_get_current_button (single);
  gboolean touch = event != NULL
                   && gdk_device_get_source (gdk_event_get_device (event)) == GDK_SOURCE_TOUCHSCREEN;

  if (!self->field_loaded || self->state == NULL)
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }

  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->drag_start_x = self->drag_x = x;
  self->drag_start_y = self->drag_y = y;
  self->drag_start_scroll_x = gtk_adjustment_get_value (self->hadjustment);
  self->drag_start_scroll_y = gtk_adjustment_get_value (self->vadjustment);
  self->drag_modifiers =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));

  if (touch || button == GDK_BUTTON_MIDDLE
      || (button == GDK_BUTTON_PRIMARY && self->space_down))
    {
      self->drag_mode = DRAG_PAN;
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
    }
  else if (button == GDK_BUTTON_PRIMARY)
    {
      self->drag_mode = self->draw_mode ? DRAG_DRAW_BOX : DRAG_PENDING_CLICK;
      if (self->draw_mode)
        gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
    }
  else
    {
      gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  ss_slide_view_update_hover (self);
}

static void
ss_slide_view_on_drag_update (GtkGestureDrag *gesture,
                              double          offset_x,
                              double          offset_y,
                              SsSlideView    *self)
{
  self->drag_x = self->drag_start_x + offset_x;
  self->drag_y = self->drag_start_y + offset_y;

  switch (self->drag_mode)
    {
    case DRAG_PAN:
      gtk_adjustment_set_value (self->hadjustment, self->drag_start_scroll_x - offset_x);
      gtk_adjustment_set_value (self->vadjustment, self->drag_start_scroll_y - offset_y);
      break;

    case DRAG_PENDING_CLICK:
      if (gtk_drag_check_threshold (GTK_WIDGET (self), self->drag_start_x, self->drag_start_y,
                                    self->drag_x, self->drag_y))
        {
          self->drag_mode = DRAG_RUBBER_BAND;
          gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      break;

    case DRAG_RUBBER_BAND:
    case DRAG_DRAW_BOX:
      gtk_widget_queue_draw (GTK_WIDGET (self));
      break;

    case DRAG_NONE:
    default:
      break;
    }
}

static void
ss_slide_view_on_drag_end (GtkGestureDrag *gesture,
                           double          offset_x,
                           double          offset_y,
                           SsSlideView    *self)
{
  DragMode mode = self->drag_mode;

  self->drag_x = self->drag_start_x + offset_x;
  self->drag_y = self->drag_start_y + offset_y;
  self->drag_mode = DRAG_NONE;

  if (self->state != NULL && self->field_loaded)
    switch (mode)
      {
      case DRAG_PENDING_CLICK:
        ss_slide_view_click (self, self->drag_start_x, self->drag_start_y,
                             self->drag_modifiers);
        break;

      case DRAG_RUBBER_BAND:
        ss_slide_view_select_band (self);
        break;

      case DRAG_DRAW_BOX:
        ss_slide_view_add_drawn_cell (self);
        break;

      case DRAG_PAN:
      case DRAG_NONE:
      default:
        break;
      }

  gtk_widget_queue_draw (GTK_WIDGET (self));
  ss_slide_view_update_hover (self);
}

static void
ss_slide_view_on_drag_cancel (GtkGesture       *gesture,
                              GdkEventSequence *sequence,
                              SsSlideView      *self)
{
  self->drag_mode = DRAG_NONE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
ss_slide_view_on_key_pressed (GtkEventControllerKey *controller,
                              guint                  keyval,
                              guint                  keycode,
                              GdkModifierType        modifiers,
                              SsSlideView           *self)
{
  if (keyval == GDK_KEY_space && !(modifiers & GDK_CONTROL_MASK))
    {
      self->space_down = TRUE;
      ss_slide_view_update_cursor (self, FALSE);
      return TRUE;
    }
  if (keyval == GDK_KEY_Escape && self->drag_mode != DRAG_NONE && self->drag_mode != DRAG_PAN)
    {
      /* resetting ends the gesture; with no mode its end does nothing */
      self->drag_mode = DRAG_NONE;
      gtk_event_controller_reset (GTK_EVENT_CONTROLLER (self->drag_gesture));
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return TRUE;
    }
  return FALSE;
}

static void
ss_slide_view_on_key_released (GtkEventControllerKey *controller,
                               guint                  keyval,
                               guint                  keycode,
                               GdkModifierType        modifiers,
                               SsSlideView           *self)
{
  if (keyval == GDK_KEY_space)
    {
      self->space_down = FALSE;
      ss_slide_view_update_hover (self);
    }
}

static void
ss_slide_view_on_focus_leave (GtkEventControllerFocus *controller,
                              SsSlideView             *self)
{
  self->space_down = FALSE;
  ss_slide_view_update_hover (self);
}

static gboolean
ss_slide_view_query_tooltip (GtkWidget  *widget,
                             int         x,
                             int         y,
                             gboolean    keyboard_mode,
                             GtkTooltip *tooltip)
{
  SsSlideView *self = SS_SLIDE_VIEW (widget);
  g_autofree char *state_text = NULL;
  g_autofree char *nc_text = NULL;
  g_autofree char *markup = NULL;
  SsSlideGeometry geometry;
  CellEntry *entry;
  SsCellItem *item;
  double x0, y0, x1, y1, nc_ratio;

  if (keyboard_mode || self->drag_mode != DRAG_NONE)
    return FALSE;
  entry = ss_slide_view_cell_at (self, x, y);
  if (entry == NULL)
    return FALSE;
  item = entry->item;

  g_object_get (item, "state-text", &state_text, NULL);
  nc_ratio = ss_cell_item_get_nc_ratio (item);
  nc_text = isfinite (nc_ratio) && nc_ratio > 0 ? g_strdup_printf ("%.2f", nc_ratio)
                                                 : g_strdup (_("not measured"));
  if (ss_cell_item_get_by_size (item))
    /* Translators: the tooltip of an object called "Not a cell" by its size: class, N:C
     * ratio and review state */
    markup = g_markup_printf_escaped (_("<b>%s</b>\nBy its size: too small for a white cell\n"
                                        "N:C ratio %s\n%s"),
                                      ss_cell_class_display_name (ss_cell_item_get_cell_class (item)),
                                      nc_text, state_text ? state_text : "");
  else if (ss_cell_item_get_typed (item))
    /* Translators: a cell's tooltip: class, then confidence, N:C ratio and review state */
    markup = g_markup_printf_escaped (_("<b>%s</b>\nConfidence %.0f%%\nN:C ratio %s\n%s"),
                                      ss_cell_class_display_name (ss_cell_item_get_cell_class (item)),
                                      100.0 * ss_cell_item_get_confidence (item),
                                      nc_text, state_text ? state_text : "");
  else
    /* Translators: the tooltip of a cell found with no cell-type model: class, N:C ratio
     * and review state */
    markup = g_markup_printf_escaped (_("<b>%s</b>\nNot typed: no cell-type model\nN:C ratio %s\n%s"),
                                      ss_cell_class_display_name (ss_cell_item_get_cell_class (item)),
                                      nc_text, state_text ? state_text : "");
  gtk_tooltip_set_markup (tooltip, markup);

  ss_slide_view_get_geometry (self, &geometry);
  ss_slide_geometry_image_to_widget (&geometry, entry->box.x, entry->box.y, &x0, &y0);
  ss_slide_geometry_image_to_widget (&geometry, entry->box.x + entry->box.width,
                                     entry->box.y + entry->box.height, &x1, &y1);
  gtk_tooltip_set_tip_area (tooltip, &(GdkRectangle) { floor (x0), floor (y0),
                                                       MAX (1, ceil (x1 - x0)),
                                                       MAX (1, ceil (y1 - y0)) });
  return TRUE;
}

static void
ss_slide_view_zoom_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *parameter)
{
  SsSlideView *self = SS_SLIDE_VIEW (widget);

  if (self->state == NULL || !self->field_loaded)
    return;

  if (g_str_equal (action_name, "slide-view.zoom-in"))
    ss_slide_view_zoom_by_key (self, ZOOM_STEP_KEY);
  else if (g_str_equal (action_name, "slide-view.zoom-out"))
    ss_slide_view_zoom_by_key (self, 1.0 / ZOOM_STEP_KEY);
  else if (g_str_equal (action_name, "slide-view.zoom-original"))
    ss_slide_view_zoom_by_key (self, 1.0 / self->scale);
  else if (g_str_equal (action_name, "slide-view.zoom-fit"))
    ss_viewer_state_set_fit (self->state, TRUE);
}

/* ------------------------------------------------------------------------------------
 * Document and state
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_on_cell_changed (SsSlideView    *self,
                               SsCellItem     *item,
                               SsCaseDocument *document)
{
  GHashTable *tiles;
  double tiles_scale;
  int tile_size;
  CellEntry *entry = ss_slide_view_find_entry (self, item, &tiles, &tiles_scale, &tile_size);

  if (entry == NULL)
    return;
  g_clear_object (&entry->label_layout);
  tiles_invalidate_box (tiles, tiles_scale, tile_size, &entry->box);
  if (tiles == self->tiles)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
ss_slide_view_on_show_truth (SsSlideView *self)
{
  ss_slide_view_invalidate_overlay (self);
  if (self->field_loaded)
    ss_slide_view_update_accessible (self);
}

static void
ss_slide_view_on_show_outlines (SsSlideView *self)
{
  ss_slide_view_trace_shown (self);
  ss_slide_view_invalidate_overlay (self);
}

static void
clear_labels (GPtrArray *entries)
{
  for (guint i = 0; entries != NULL && i < entries->len; i++)
    g_clear_object (&((CellEntry *) entries->pdata[i])->label_layout);
}

/* Which cells are unsure changed: every cell may look different. */
static void
ss_slide_view_on_unsure_below (SsSlideView *self)
{
  /* the labels say which are unsure, on the field shown and the parked ones */
  clear_labels (self->entries);
  for (GList *l = self->parked.head; l != NULL; l = l->next)
    clear_labels (((ParkedField *) l->data)->entries);
  ss_slide_view_invalidate_overlay (self);
}

static void
ss_slide_view_on_n_images (SsSlideView *self)
{
  if (!self->field_loaded)
    ss_slide_view_load_field (self);
  else
    ss_slide_view_update_accessible (self);
}

static void
ss_slide_view_on_image_index (SsSlideView *self)
{
  if (self->field_loaded
      && self->image_index == ss_viewer_state_get_image_index (self->state))
    return;
  if (self->pending_center != NULL
      && ss_cell_item_get_image_index (self->pending_center)
         != ss_viewer_state_get_image_index (self->state))
    g_clear_object (&self->pending_center);
  ss_slide_view_load_field (self);
}

static void
ss_slide_view_on_current (SsSlideView *self)
{
  SsCellItem *current = ss_viewer_state_get_current (self->state);

  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (current == NULL)
    return;
  if (!self->field_loaded || ss_cell_item_get_image_index (current) != self->image_index)
    g_set_object (&self->pending_center, current);
  else if (!ss_slide_view_box_is_visible (self, ss_cell_item_get_box (current)))
    ss_slide_view_center_on (self, current);
}

static void
ss_slide_view_disconnect_state (SsSlideView *self)
{
  if (self->state == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->state, self);
  if (self->hover_set != NULL && ss_viewer_state_get_hover (self->state) == self->hover_set)
    ss_viewer_state_set_hover (self->state, NULL);
  self->hover_set = NULL;
}

static void
ss_slide_view_connect_state (SsSlideView *self)
{
  static const char *const layer_signals[] = {
    "notify::show-boxes",
    "notify::show-labels",
    "notify::dim-below",
  };

  g_signal_connect_object (self->state, "notify::image-index",
                           G_CALLBACK (ss_slide_view_on_image_index), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state, "notify::scale",
                           G_CALLBACK (ss_slide_view_update_scale), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state, "notify::fit",
                           G_CALLBACK (ss_slide_view_update_scale), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state, "notify::current",
                           G_CALLBACK (ss_slide_view_on_current), self, G_CONNECT_SWAPPED);
  /* drawn over the overlay frame by frame */
  g_signal_connect_object (self->state, "notify::hover",
                           G_CALLBACK (gtk_widget_queue_draw), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state, "selection-changed",
                           G_CALLBACK (gtk_widget_queue_draw), self, G_CONNECT_SWAPPED);
  for (guint i = 0; i < G_N_ELEMENTS (layer_signals); i++)
    g_signal_connect_object (self->state, layer_signals[i],
                             G_CALLBACK (ss_slide_view_invalidate_overlay), self,
                             G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state, "notify::show-outlines",
                           G_CALLBACK (ss_slide_view_on_show_outlines), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->state, "notify::show-truth",
                           G_CALLBACK (ss_slide_view_on_show_truth), self, G_CONNECT_SWAPPED);
}

static void
ss_slide_view_connect_document (SsSlideView *self)
{
  /* each changed cell redraws the tiles it is in (cell-changed, and items-changed of
   * the field's cells); counts-changed follows those and needs only a frame */
  g_signal_connect_object (self->document, "cell-changed",
                           G_CALLBACK (ss_slide_view_on_cell_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "counts-changed",
                           G_CALLBACK (gtk_widget_queue_draw), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::unsure-below",
                           G_CALLBACK (ss_slide_view_on_unsure_below), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "notify::n-images",
                           G_CALLBACK (ss_slide_view_on_n_images), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->document, "field-loaded",
                           G_CALLBACK (ss_slide_view_on_field_loaded), self, G_CONNECT_SWAPPED);
}

/* ------------------------------------------------------------------------------------
 * GtkScrollable
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_on_adjustment_value (SsSlideView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (self->pointer_inside && self->drag_mode == DRAG_NONE)
    ss_slide_view_update_hover (self);
}

static void
ss_slide_view_set_adjustment (SsSlideView    *self,
                              GtkAdjustment **slot,
                              GtkAdjustment  *adjustment)
{
  if (adjustment != NULL && *slot == adjustment)
    return;
  if (*slot != NULL)
    g_signal_handlers_disconnect_by_data (*slot, self);
  if (adjustment == NULL)
    adjustment = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  g_set_object (slot, adjustment);
  g_signal_connect_object (adjustment, "value-changed",
                           G_CALLBACK (ss_slide_view_on_adjustment_value), self,
                           G_CONNECT_SWAPPED);
  ss_slide_view_configure_adjustments (self,
                                       self->hadjustment ? gtk_adjustment_get_value (self->hadjustment) : 0,
                                       self->vadjustment ? gtk_adjustment_get_value (self->vadjustment) : 0);
}

static gboolean
ss_slide_view_get_border (GtkScrollable *scrollable,
                          GtkBorder     *border)
{
  return FALSE;
}

static void
ss_slide_view_scrollable_init (GtkScrollableInterface *iface)
{
  iface->get_border = ss_slide_view_get_border;
}

/* ------------------------------------------------------------------------------------
 * GtkWidget and GObject
 * ------------------------------------------------------------------------------------ */

static void
ss_slide_view_measure (GtkWidget      *widget,
                       GtkOrientation  orientation,
                       int             for_size,
                       int            *minimum,
                       int            *natural,
                       int            *minimum_baseline,
                       int            *natural_baseline)
{
  /* any size will do: the view scrolls */
  *minimum = 0;
  *natural = 320;
}

static void
ss_slide_view_size_allocate (GtkWidget *widget,
                             int        width,
                             int        height,
                             int        baseline)
{
  SsSlideView *self = SS_SLIDE_VIEW (widget);
  double new_scale = ss_slide_view_wanted_scale (self);

  if (new_scale != self->scale)
    {
      self->scale = new_scale;
      ss_slide_view_note_zoom (self);
      ss_slide_view_queue_sync_scale (self);
    }
  ss_slide_view_configure_adjustments (self,
                                       self->hadjustment ? gtk_adjustment_get_value (self->hadjustment) : 0,
                                       self->vadjustment ? gtk_adjustment_get_value (self->vadjustment) : 0);
  ss_slide_view_apply_pending_center (self);
}

static void
ss_slide_view_dispose (GObject *object)
{
  SsSlideView *self = SS_SLIDE_VIEW (object);

  g_clear_handle_id (&self->sync_scale_source, g_source_remove);
  g_clear_handle_id (&self->zoom_settle_source, g_source_remove);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  ss_slide_view_clear_scaled_copies (self);
  ss_slide_view_unload_field (self);
  ss_slide_view_clear_parked (self);
  ss_slide_view_disconnect_state (self);
  g_clear_object (&self->state);
  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);
  g_clear_object (&self->pending_center);
  if (self->hadjustment != NULL)
    g_signal_handlers_disconnect_by_data (self->hadjustment, self);
  if (self->vadjustment != NULL)
    g_signal_handlers_disconnect_by_data (self->vadjustment, self);
  g_clear_object (&self->hadjustment);
  g_clear_object (&self->vadjustment);

  G_OBJECT_CLASS (ss_slide_view_parent_class)->dispose (object);
}

static void
ss_slide_view_finalize (GObject *object)
{
  SsSlideView *self = SS_SLIDE_VIEW (object);

  g_clear_pointer (&self->entries, g_ptr_array_unref);
  g_clear_pointer (&self->tiles, g_hash_table_unref);
  g_clear_pointer (&self->label_attrs, pango_attr_list_unref);
  for (guint i = 0; i < G_N_ELEMENTS (self->truth_layouts); i++)
    g_clear_object (&self->truth_layouts[i]);
  ss_slide_view_clear_scaled_copies (self);

  G_OBJECT_CLASS (ss_slide_view_parent_class)->finalize (object);
}

static void
ss_slide_view_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  SsSlideView *self = SS_SLIDE_VIEW (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;

    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;

    case PROP_DRAW_MODE:
      g_value_set_boolean (value, self->draw_mode);
      break;

    case PROP_HADJUSTMENT:
      g_value_set_object (value, self->hadjustment);
      break;

    case PROP_VADJUSTMENT:
      g_value_set_object (value, self->vadjustment);
      break;

    case PROP_HSCROLL_POLICY:
      g_value_set_enum (value, self->hscroll_policy);
      break;

    case PROP_VSCROLL_POLICY:
      g_value_set_enum (value, self->vscroll_policy);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_slide_view_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  SsSlideView *self = SS_SLIDE_VIEW (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      ss_slide_view_set_document (self, g_value_get_object (value));
      break;

    case PROP_STATE:
      ss_slide_view_set_state (self, g_value_get_object (value));
      break;

    case PROP_DRAW_MODE:
      ss_slide_view_set_draw_mode (self, g_value_get_boolean (value));
      break;

    case PROP_HADJUSTMENT:
      ss_slide_view_set_adjustment (self, &self->hadjustment, g_value_get_object (value));
      g_object_notify_by_pspec (object, pspec);
      break;

    case PROP_VADJUSTMENT:
      ss_slide_view_set_adjustment (self, &self->vadjustment, g_value_get_object (value));
      g_object_notify_by_pspec (object, pspec);
      break;

    case PROP_HSCROLL_POLICY:
      if (self->hscroll_policy != (guint) g_value_get_enum (value))
        {
          self->hscroll_policy = g_value_get_enum (value);
          gtk_widget_queue_resize (GTK_WIDGET (self));
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_VSCROLL_POLICY:
      if (self->vscroll_policy != (guint) g_value_get_enum (value))
        {
          self->vscroll_policy = g_value_get_enum (value);
          gtk_widget_queue_resize (GTK_WIDGET (self));
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_slide_view_class_init (SsSlideViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ss_slide_view_dispose;
  object_class->finalize = ss_slide_view_finalize;
  object_class->get_property = ss_slide_view_get_property;
  object_class->set_property = ss_slide_view_set_property;

  widget_class->measure = ss_slide_view_measure;
  widget_class->size_allocate = ss_slide_view_size_allocate;
  widget_class->snapshot = ss_slide_view_snapshot;
  widget_class->query_tooltip = ss_slide_view_query_tooltip;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL,
                         SS_TYPE_CASE_DOCUMENT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL,
                         SS_TYPE_VIEWER_STATE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  properties[PROP_DRAW_MODE] =
    g_param_spec_boolean ("draw-mode", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

  signals[ERROR] =
    g_signal_new ("error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "slide-view.zoom-in", NULL,
                                   ss_slide_view_zoom_action);
  gtk_widget_class_install_action (widget_class, "slide-view.zoom-out", NULL,
                                   ss_slide_view_zoom_action);
  gtk_widget_class_install_action (widget_class, "slide-view.zoom-original", NULL,
                                   ss_slide_view_zoom_action);
  gtk_widget_class_install_action (widget_class, "slide-view.zoom-fit", NULL,
                                   ss_slide_view_zoom_action);
  /* bare keys, only while the view has the focus; digits 1-8, Delete and the arrows
   * belong to the review pane */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "slide-view.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "slide-view.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "slide-view.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "slide-view.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "slide-view.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, 0, "slide-view.zoom-original", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_0, 0, "slide-view.zoom-original", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, 0, "slide-view.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F, GDK_SHIFT_MASK, "slide-view.zoom-fit", NULL);

  gtk_widget_class_set_css_name (widget_class, "slideview");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
ss_slide_view_init (SsSlideView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->scale = 1.0;
  self->cancellable = g_cancellable_new ();
  g_queue_init (&self->scaled_copies);
  g_queue_init (&self->scale_requests);
  self->entries = g_ptr_array_new ();
  self->tiles = tiles_new ();
  g_queue_init (&self->parked);
  self->label_attrs = pango_attr_list_new ();
  pango_attr_list_insert (self->label_attrs, pango_attr_scale_new (PANGO_SCALE_SMALL));

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);

  /* GtkScrollable: start with adjustments of our own until a GtkScrolledWindow's */
  ss_slide_view_set_adjustment (self, &self->hadjustment, NULL);
  ss_slide_view_set_adjustment (self, &self->vadjustment, NULL);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "enter", G_CALLBACK (ss_slide_view_on_motion), self);
  g_signal_connect (controller, "motion", G_CALLBACK (ss_slide_view_on_motion), self);
  g_signal_connect (controller, "leave", G_CALLBACK (ss_slide_view_on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (controller, "scroll", G_CALLBACK (ss_slide_view_on_scroll), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_zoom_new ();
  g_signal_connect (gesture, "begin", G_CALLBACK (ss_slide_view_on_pinch_begin), self);
  g_signal_connect (gesture, "scale-changed",
                    G_CALLBACK (ss_slide_view_on_pinch_scale_changed), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), 0);
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (ss_slide_view_on_drag_begin), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (ss_slide_view_on_drag_update), self);
  g_signal_connect (gesture, "drag-end", G_CALLBACK (ss_slide_view_on_drag_end), self);
  g_signal_connect (gesture, "cancel", G_CALLBACK (ss_slide_view_on_drag_cancel), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));
  self->drag_gesture = gesture;

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (ss_slide_view_on_key_pressed), self);
  g_signal_connect (controller, "key-released", G_CALLBACK (ss_slide_view_on_key_released), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_focus_new ();
  g_signal_connect (controller, "leave", G_CALLBACK (ss_slide_view_on_focus_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  g_signal_connect (self, "notify::scale-factor", G_CALLBACK (ss_slide_view_on_scale_factor),
                    NULL);

  ss_slide_view_update_accessible (self);
}

/* ------------------------------------------------------------------------------------
 * Public API
 * ------------------------------------------------------------------------------------ */

SsSlideView *
ss_slide_view_new (void)
{
  return g_object_new (SS_TYPE_SLIDE_VIEW, NULL);
}

SsCaseDocument *
ss_slide_view_get_document (SsSlideView *self)
{
  g_return_val_if_fail (SS_IS_SLIDE_VIEW (self), NULL);

  return self->document;
}

void
ss_slide_view_set_document (SsSlideView    *self,
                            SsCaseDocument *document)
{
  g_return_if_fail (SS_IS_SLIDE_VIEW (self));
  g_return_if_fail (document == NULL || SS_IS_CASE_DOCUMENT (document));

  if (self->document == document)
    return;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_set_object (&self->document, document);
  g_clear_object (&self->pending_center);
  ss_slide_view_clear_scaled_copies (self);
  /* the shown field belongs to the old document: not parked */
  ss_slide_view_unload_field (self);
  ss_slide_view_clear_parked (self);
  if (self->document != NULL)
    ss_slide_view_connect_document (self);
  ss_slide_view_load_field (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

SsViewerState *
ss_slide_view_get_state (SsSlideView *self)
{
  g_return_val_if_fail (SS_IS_SLIDE_VIEW (self), NULL);

  return self->state;
}

void
ss_slide_view_set_state (SsSlideView   *self,
                         SsViewerState *state)
{
  g_return_if_fail (SS_IS_SLIDE_VIEW (self));
  g_return_if_fail (state == NULL || SS_IS_VIEWER_STATE (state));

  if (self->state == state)
    return;

  ss_slide_view_disconnect_state (self);
  g_set_object (&self->state, state);
  if (self->state != NULL)
    ss_slide_view_connect_state (self);
  ss_slide_view_load_field (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

gboolean
ss_slide_view_get_draw_mode (SsSlideView *self)
{
  g_return_val_if_fail (SS_IS_SLIDE_VIEW (self), FALSE);

  return self->draw_mode;
}

void
ss_slide_view_set_draw_mode (SsSlideView *self,
                             gboolean     draw_mode)
{
  g_return_if_fail (SS_IS_SLIDE_VIEW (self));

  draw_mode = !!draw_mode;
  if (self->draw_mode == draw_mode)
    return;

  self->draw_mode = draw_mode;
  if (self->drag_mode == DRAG_DRAW_BOX || self->drag_mode == DRAG_PENDING_CLICK
      || self->drag_mode == DRAG_RUBBER_BAND)
    {
      self->drag_mode = DRAG_NONE;
      gtk_event_controller_reset (GTK_EVENT_CONTROLLER (self->drag_gesture));
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  ss_slide_view_update_hover (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DRAW_MODE]);
}

void
ss_slide_view_center_on (SsSlideView *self,
                         SsCellItem  *item)
{
  g_return_if_fail (SS_IS_SLIDE_VIEW (self));
  g_return_if_fail (SS_IS_CELL_ITEM (item));

  g_set_object (&self->pending_center, item);
  ss_slide_view_apply_pending_center (self);
}
