/* The cell gallery: a grid of cell pictures over a list the gallery owns, so that the
 * order stays put while a reviewer works through it (relabelling a cell only changes
 * its tile), and its selection mirrored to and from the viewer state. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <adwaita.h>
#include <math.h>

#include "ss-cell-gallery.h"

/* The crop side the document is asked for; the tile shows it at this size. */
#define TILE_CROP_SIZE 96
/* Wide enough for the class line under the crop ("Lymphoblast ?"). */
#define TILE_WIDTH 120
/* Time spent making crops per main-loop turn, so that scrolling keeps its frames. */
#define CROP_BUDGET_USEC 6000
/* Up to this many selected cells are looked up one by one, more with one pass. */
#define SELECTION_LOOKUP_MAX 8

typedef enum {
  GALLERY_MODE_QUEUE,
  GALLERY_MODE_CLASS,
  GALLERY_MODE_ALL,
  N_GALLERY_MODES
} GalleryMode;

static const char *mode_names[N_GALLERY_MODES] = { "queue", "class", "all" };

/* The widgets of one tile, made once per list item and kept on its child. */
typedef struct
{
  SsCellGallery *gallery;       /* unowned: the gallery outlives its grid's tiles */
  GtkListItem   *list_item;     /* unowned: it owns the tile's widgets */
  SsCellItem    *item;          /* the bound cell, NULL while unbound */
  gulong         notify_handler;
  GtkWidget     *box;
  GtkWidget     *picture;
  GtkWidget     *dot;
  GtkWidget     *name_label;
  GtkWidget     *reviewed_icon;
  GtkWidget     *unsure_label;
  GtkWidget     *detail_label;
  GtkWidget     *reason_label;  /* why an unsure cell is unsure, when the analysis said */
} Tile;

struct _SsCellGallery
{
  GtkWidget          parent_instance;

  SsCaseDocument    *document;
  SsViewerState     *state;
  GListStore        *cells;          /* what the grid shows, in the mode's order */
  GtkMultiSelection *selection;
  GHashTable        *bound_tiles;    /* SsCellItem * -> Tile *: the tiles on screen */
  GHashTable        *pending_crops;  /* Tile *: bound tiles still waiting for a picture */
  guint              crop_source;
  guint              focus_tick;     /* moves the keyboard focus to the current tile */
  GtkWidget         *menu;
  GtkWidget         *class_buttons[SS_N_CLASSES];
  GtkWidget         *class_labels[SS_N_CLASSES];

  GalleryMode        mode;
  int                visible_class;
  gboolean           sort_descending;
  gboolean           syncing;        /* copying the selection between grid and state */

  /* template */
  GtkWidget         *class_box;
  GtkWidget         *sort_button;
  GtkWidget         *stack;
  GtkWidget         *grid;
  GtkWidget         *empty_page;
};

G_DEFINE_FINAL_TYPE (SsCellGallery, ss_cell_gallery, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_STATE,
  PROP_MODE,
  PROP_VISIBLE_CLASS,
  PROP_SORT_DESCENDING,
  N_PROPS
};

enum {
  SIGNAL_ERROR,
  SIGNAL_SHOW_IN_FIELD,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void ss_cell_gallery_rebuild (SsCellGallery *self);

/* The model's confidence in the class the cell has now: its own confidence while it
 * keeps the predicted class, else the probability the model gave the new class. */
static double
ss_cell_gallery_class_confidence (SsCellItem *item)
{
  const SsCell *cell = ss_cell_item_get_cell (item);
  int cell_class = ss_cell_item_get_cell_class (item);

  if (cell == NULL || cell_class == cell->predicted_class ||
      cell_class < 0 || cell_class >= SS_N_CLASSES)
    return ss_cell_item_get_confidence (item);

  return cell->probabilities[cell_class];
}

static void
ss_cell_gallery_draw_dot (GtkDrawingArea *area,
                          cairo_t        *cr,
                          int             width,
                          int             height,
                          gpointer        user_data)
{
  int cell_class = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (area), "ss-cell-class"));
  double radius = MIN (width, height) / 2.0 - 0.5;
  GdkRGBA color;

  if (cell_class < 0 || cell_class >= SS_N_CLASSES)
    return;

  ss_cell_class_color (cell_class, &color);
  cairo_arc (cr, width / 2.0, height / 2.0, radius, 0, 2 * G_PI);
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.25);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);
}

static GtkWidget *
ss_cell_gallery_new_dot (int cell_class)
{
  GtkWidget *dot;

  /* presentation: the class name beside it says the same to a screen reader */
  dot = g_object_new (GTK_TYPE_DRAWING_AREA,
                      "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                      "content-width", 10,
                      "content-height", 10,
                      "valign", GTK_ALIGN_CENTER,
                      NULL);
  g_object_set_data (G_OBJECT (dot), "ss-cell-class", GINT_TO_POINTER (cell_class));
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (dot), ss_cell_gallery_draw_dot, NULL, NULL);

  return dot;
}

static void
ss_cell_gallery_set_dot_class (GtkWidget *dot,
                               int        cell_class)
{
  if (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (dot), "ss-cell-class")) == cell_class)
    return;

  g_object_set_data (G_OBJECT (dot), "ss-cell-class", GINT_TO_POINTER (cell_class));
  gtk_widget_queue_draw (dot);
}

/* The selected cells of the grid, in the grid's order (transfer full). */
static GPtrArray *
ss_cell_gallery_dup_selected (SsCellGallery *self)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GtkBitset) selected = NULL;
  GtkBitsetIter iter;
  guint position;

  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  for (gboolean valid = gtk_bitset_iter_init_first (&iter, selected, &position);
       valid;
       valid = gtk_bitset_iter_next (&iter, &position))
    g_ptr_array_add (items, g_list_model_get_item (G_LIST_MODEL (self->cells), position));

  return items;
}

static gboolean
ss_cell_gallery_item_selected (SsCellGallery *self,
                               SsCellItem    *item)
{
  guint position;

  return g_list_store_find (self->cells, item, &position) &&
         gtk_selection_model_is_selected (GTK_SELECTION_MODEL (self->selection), position);
}

static void
ss_cell_gallery_update_actions (SsCellGallery *self)
{
  g_autoptr(GtkBitset) selected = NULL;
  gboolean has_selection;
  gboolean writable;

  selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  has_selection = !gtk_bitset_is_empty (selected);
  writable = self->document != NULL && !ss_case_document_get_read_only (self->document);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.relabel", writable && has_selection);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.confirm", writable && has_selection);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.delete", writable && has_selection);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.show-in-field", has_selection);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "gallery.refresh", self->document != NULL);
}

/* Tiles */

static void
ss_cell_gallery_tile_update (Tile *tile)
{
  SsCellItem *item = tile->item;
  g_autofree char *detail = NULL;
  g_autofree char *accessible = NULL;
  const char *name;
  const char *state_text;
  const char *state_class;
  int cell_class;
  int percent;
  gboolean reviewed;
  gboolean unsure;
  const char *doubt;

  if (item == NULL)
    return;

  cell_class = ss_cell_item_get_cell_class (item);
  reviewed = ss_cell_item_get_reviewed (item);
  unsure = !reviewed && ss_cell_item_get_unsure (item);
  doubt = reviewed ? NULL : ss_cell_item_doubt_phrase (item);
  percent = (int) round (100.0 * ss_cell_gallery_class_confidence (item));
  name = ss_cell_class_display_name (cell_class);

  if (reviewed)
    {
      state_text = _("reviewed");
      state_class = "success";
    }
  else if (unsure)
    {
      state_text = _("unsure");
      state_class = "warning";
    }
  else
    {
      state_text = _("not reviewed");
      state_class = "dim-label";
    }

  ss_cell_gallery_set_dot_class (tile->dot, cell_class);
  gtk_label_set_label (GTK_LABEL (tile->name_label), name);
  gtk_widget_set_visible (tile->reviewed_icon, reviewed);
  gtk_widget_set_visible (tile->unsure_label, unsure);
  /* a 100% call set aside must say why on the tile itself, not only on hover */
  gtk_widget_set_visible (tile->reason_label, doubt != NULL);
  if (doubt != NULL)
    gtk_label_set_label (GTK_LABEL (tile->reason_label), doubt);

  /* a person's class has no model confidence: say where it came from instead */
  const SsCell *cell = ss_cell_item_get_cell (item);
  if (cell->user_drawn)
    /* TRANSLATORS: a gallery tile's second line for a cell a person drew */
    detail = g_strdup_printf (_("drawn · %s"), state_text);
  else if (cell_class != cell->predicted_class)
    /* TRANSLATORS: a gallery tile's second line for a relabelled cell: "was Lymphocyte · reviewed" */
    detail = g_strdup_printf (_("was %s · %s"), ss_cell_class_display_name (cell->predicted_class),
                              state_text);
  else if (!ss_cell_item_get_typed (item))
    /* TRANSLATORS: a gallery tile's second line for a cell no cell-type model classified */
    detail = g_strdup_printf (_("not typed · %s"), state_text);
  else if (ss_cell_item_get_by_size (item))
    /* TRANSLATORS: a gallery tile's second line for an object the analysis called "Not a
     * cell" by its size: the model's confidence says nothing of that call */
    detail = g_strdup_printf (_("by its size · %s"), state_text);
  else
    /* TRANSLATORS: a gallery tile's second line: confidence, then "reviewed" etc. */
    detail = g_strdup_printf (_("%d%% · %s"), percent, state_text);
  gtk_label_set_label (GTK_LABEL (tile->detail_label), detail);
  if (!gtk_widget_has_css_class (tile->detail_label, state_class))
    {
      gtk_widget_remove_css_class (tile->detail_label, "success");
      gtk_widget_remove_css_class (tile->detail_label, "warning");
      gtk_widget_remove_css_class (tile->detail_label, "dim-label");
      gtk_widget_add_css_class (tile->detail_label, state_class);
    }

  if (ss_cell_item_get_by_size (item))
    /* TRANSLATORS: a tile as a screen reader says it for an object called "Not a cell" by
     * its size: "Not a cell, by its size, unsure: too small for a white cell" */
    accessible = g_strdup_printf (_("%s, by its size, %s"), name,
                                  ss_cell_item_get_state_text (item));
  else if (ss_cell_item_get_typed (item) || cell->user_drawn)
    /* TRANSLATORS: a tile as a screen reader says it: "Neutrophil, 97 percent, reviewed" */
    accessible = g_strdup_printf (_("%s, %d percent, %s"), name, percent,
                                  doubt != NULL ? ss_cell_item_get_state_text (item)
                                                : state_text);
  else
    /* TRANSLATORS: a tile as a screen reader says it when no cell-type model classified
     * the cell: "Other, not typed, not reviewed" */
    accessible = g_strdup_printf (_("%s, not typed, %s"), name, state_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (tile->box),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

/* Made when asked: gtk_widget_set_tooltip_text() asks the display where the pointer is,
 * a round trip to the X server per bound tile. */
static gboolean
ss_cell_gallery_tile_query_tooltip (GtkWidget  *widget,
                                    int         x,
                                    int         y,
                                    gboolean    keyboard_mode,
                                    GtkTooltip *tooltip,
                                    Tile       *tile)
{
  g_autofree char *text = NULL;
  SsCellItem *item = tile->item;

  if (item == NULL)
    return FALSE;

  if (ss_cell_item_get_typed (item))
    text = g_strdup_printf (_("%s, %d%% (model)\nNucleus to cytoplasm %.2f · field %u"),
                            ss_cell_class_display_name (ss_cell_item_get_cell_class (item)),
                            (int) round (100.0 * ss_cell_gallery_class_confidence (item)),
                            ss_cell_item_get_nc_ratio (item),
                            ss_cell_item_get_image_index (item) + 1);
  else
    /* TRANSLATORS: a gallery tile's tooltip for a cell found with no cell-type model */
    text = g_strdup_printf (_("%s, not typed: no cell-type model was loaded when it was "
                              "found\nNucleus to cytoplasm %.2f · field %u"),
                            ss_cell_class_display_name (ss_cell_item_get_cell_class (item)),
                            ss_cell_item_get_nc_ratio (item),
                            ss_cell_item_get_image_index (item) + 1);
  /* a doubt the analysis raised says what to look at */
  g_autofree char *doubt = ss_cell_item_dup_doubt_sentence (item);
  if (doubt != NULL)
    {
      char *with_doubt = g_strconcat (text, "\n", doubt, NULL);
      g_free (text);
      text = with_doubt;
    }
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
ss_cell_gallery_tile_notify (Tile       *tile,
                             GParamSpec *pspec,
                             SsCellItem *item)
{
  const char *name = g_param_spec_get_name (pspec);

  if (g_str_equal (name, "cell-class") ||
      g_str_equal (name, "reviewed") ||
      g_str_equal (name, "unsure") ||
      g_str_equal (name, "confidence"))
    ss_cell_gallery_tile_update (tile);
}

static Tile *
ss_cell_gallery_tile_from_widget (GtkWidget *widget)
{
  /* the grid's row widget holds focus; its child is our tile */
  for (guint depth = 0; widget != NULL && depth < 2; depth++)
    {
      Tile *tile = g_object_get_data (G_OBJECT (widget), "ss-tile");

      if (tile != NULL)
        return tile;

      widget = gtk_widget_get_first_child (widget);
    }

  return NULL;
}

/* Crops are made after the frame, a few milliseconds at a time and field by field, so a
 * fast scroll through 10,000 cells never waits for pictures of tiles already gone. */
static int
ss_cell_gallery_compare_tile_fields (gconstpointer a,
                                     gconstpointer b)
{
  const Tile *tile_a = *(Tile * const *) a;
  const Tile *tile_b = *(Tile * const *) b;
  guint field_a = ss_cell_item_get_image_index (tile_a->item);
  guint field_b = ss_cell_item_get_image_index (tile_b->item);

  return (field_a > field_b) - (field_a < field_b);
}

static gboolean
ss_cell_gallery_make_crops (gpointer user_data)
{
  SsCellGallery *self = user_data;
  g_autoptr(GPtrArray) tiles = NULL;
  gint64 deadline = g_get_monotonic_time () + CROP_BUDGET_USEC;
  GHashTableIter iter;
  gpointer key;

  if (self->document == NULL)
    {
      g_hash_table_remove_all (self->pending_crops);
      self->crop_source = 0;
      return G_SOURCE_REMOVE;
    }

  tiles = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, self->pending_crops);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (tiles, key);
  g_ptr_array_sort (tiles, ss_cell_gallery_compare_tile_fields);

  guint waiting = 0;
  for (guint i = 0; i < tiles->len && g_get_monotonic_time () < deadline; i++)
    {
      Tile *tile = g_ptr_array_index (tiles, i);
      gboolean loading = FALSE;
      GdkTexture *crop;

      /* a field not decoded yet is decoded in a worker; its tiles wait for
       * "field-loaded" instead of holding up the frame */
      crop = ss_case_document_try_crop (self->document, tile->item, TILE_CROP_SIZE, &loading);
      if (loading)
        {
          waiting++;
          continue;
        }
      gtk_image_set_from_paintable (GTK_IMAGE (tile->picture), GDK_PAINTABLE (crop));
      g_hash_table_remove (self->pending_crops, tile);
    }

  if (g_hash_table_size (self->pending_crops) > waiting)
    return G_SOURCE_CONTINUE;

  self->crop_source = 0;
  return G_SOURCE_REMOVE;
}

/* Make the pending crops in idle time; also when a field decoded in the background
 * lets the tiles waiting for it have theirs. */
static void
ss_cell_gallery_schedule_crops (SsCellGallery *self)
{
  if (self->crop_source == 0 && g_hash_table_size (self->pending_crops) > 0)
    {
      self->crop_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE,
                                           ss_cell_gallery_make_crops, self, NULL);
      g_source_set_name_by_id (self->crop_source, "[smearscope] gallery crops");
    }
}

static void
ss_cell_gallery_queue_crop (SsCellGallery *self,
                            Tile          *tile)
{
  g_hash_table_add (self->pending_crops, tile);
  /* below redrawing's priority: the frame comes first */
  ss_cell_gallery_schedule_crops (self);
}

static void
ss_cell_gallery_popup_menu_at (SsCellGallery *self,
                               Tile          *tile,
                               double         x,
                               double         y)
{
  GdkRectangle rect;

  if (tile != NULL && x >= 0 && y >= 0)
    {
      graphene_point_t point;

      if (!gtk_widget_compute_point (tile->box, GTK_WIDGET (self),
                                     &GRAPHENE_POINT_INIT (x, y), &point))
        return;
      rect = (GdkRectangle) { point.x, point.y, 1, 1 };
    }
  else if (tile != NULL)
    {
      graphene_rect_t bounds;

      if (!gtk_widget_compute_bounds (tile->box, GTK_WIDGET (self), &bounds))
        return;
      rect = (GdkRectangle) { bounds.origin.x + bounds.size.width / 2,
                              bounds.origin.y + bounds.size.height / 2, 1, 1 };
    }
  else
    {
      graphene_rect_t bounds;

      if (!gtk_widget_compute_bounds (self->grid, GTK_WIDGET (self), &bounds))
        return;
      rect = (GdkRectangle) { bounds.origin.x + 24, bounds.origin.y + 24, 1, 1 };
    }

  gtk_popover_set_pointing_to (GTK_POPOVER (self->menu), &rect);
  gtk_popover_popup (GTK_POPOVER (self->menu));
}

static void
ss_cell_gallery_tile_context_pressed (GtkGestureClick *gesture,
                                      int              n_press,
                                      double           x,
                                      double           y,
                                      Tile            *tile)
{
  SsCellGallery *self = tile->gallery;
  guint position;

  if (tile->item == NULL)
    return;

  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);

  /* The menu acts on the selection: a tile outside it becomes the selection, a tile
   * inside it becomes the current cell. */
  position = gtk_list_item_get_position (tile->list_item);
  if (!gtk_selection_model_is_selected (GTK_SELECTION_MODEL (self->selection), position))
    {
      gtk_selection_model_select_item (GTK_SELECTION_MODEL (self->selection), position, TRUE);
      if (self->state != NULL && ss_viewer_state_get_current (self->state) != tile->item)
        {
          self->syncing = TRUE;
          ss_viewer_state_set_current (self->state, tile->item, FALSE);
          self->syncing = FALSE;
        }
    }
  else if (self->state != NULL && ss_viewer_state_get_current (self->state) != tile->item)
    {
      self->syncing = TRUE;
      ss_viewer_state_set_current (self->state, tile->item, TRUE);
      self->syncing = FALSE;
    }

  ss_cell_gallery_popup_menu_at (self, tile, x, y);
}

static GdkContentProvider *
ss_cell_gallery_tile_drag_prepare (GtkDragSource *source,
                                   double         x,
                                   double         y,
                                   Tile          *tile)
{
  SsCellGallery *self = tile->gallery;

  if (tile->item == NULL || self->document == NULL ||
      ss_case_document_get_read_only (self->document))
    return NULL;

  return gdk_content_provider_new_typed (G_TYPE_INT64, ss_cell_item_get_id (tile->item));
}

static void
ss_cell_gallery_tile_drag_begin (GtkDragSource *source,
                                 GdkDrag       *drag,
                                 Tile          *tile)
{
  g_autoptr(GListModel) controllers = NULL;
  GdkTexture *crop;

  /* The press is a drag of this tile: cancel it for the grid's rubber band, or the grid
   * starts one on the same motion, which the drag then never lets end. */
  controllers = gtk_widget_observe_controllers (tile->gallery->grid);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (GTK_IS_GESTURE_DRAG (controller))
        gtk_event_controller_reset (controller);
    }

  if (tile->item == NULL)
    return;

  crop = ss_cell_item_get_crop (tile->item);
  if (crop != NULL)
    gtk_drag_source_set_icon (source, GDK_PAINTABLE (crop),
                              gdk_texture_get_width (crop) / 2,
                              gdk_texture_get_height (crop) / 2);
}

static void
ss_cell_gallery_tile_setup (GtkSignalListItemFactory *factory,
                            GtkListItem              *list_item,
                            SsCellGallery            *self)
{
  Tile *tile = g_new0 (Tile, 1);
  GtkGesture *context_click;
  GtkDragSource *drag_source;
  GtkWidget *name_row;

  tile->gallery = self;
  tile->list_item = list_item;

  tile->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_margin_start (tile->box, 3);
  gtk_widget_set_margin_end (tile->box, 3);
  gtk_widget_set_margin_top (tile->box, 3);
  gtk_widget_set_margin_bottom (tile->box, 3);
  gtk_widget_set_size_request (tile->box, TILE_WIDTH, -1);
  /* the grid widens its columns to fill the row: keep the lines under the picture */
  gtk_widget_set_halign (tile->box, GTK_ALIGN_CENTER);

  /* an image of a fixed size: a picture takes the height its width allows, and a tile
   * widened by its text showed a larger crop than the others */
  tile->picture = gtk_image_new ();
  gtk_image_set_pixel_size (GTK_IMAGE (tile->picture), TILE_CROP_SIZE);
  gtk_widget_set_size_request (tile->picture, TILE_CROP_SIZE, TILE_CROP_SIZE);
  gtk_widget_set_halign (tile->picture, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (tile->box), tile->picture);

  name_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 4);
  tile->dot = ss_cell_gallery_new_dot (SS_CLASS_NONE);
  gtk_box_append (GTK_BOX (name_row), tile->dot);

  tile->name_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (tile->name_label), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (tile->name_label), PANGO_ELLIPSIZE_END);
  gtk_label_set_max_width_chars (GTK_LABEL (tile->name_label), 11);
  gtk_widget_set_hexpand (tile->name_label, TRUE);
  gtk_box_append (GTK_BOX (name_row), tile->name_label);

  tile->reviewed_icon = gtk_image_new_from_icon_name ("emblem-ok-symbolic");
  gtk_widget_add_css_class (tile->reviewed_icon, "success");
  gtk_widget_set_visible (tile->reviewed_icon, FALSE);
  gtk_box_append (GTK_BOX (name_row), tile->reviewed_icon);

  /* TRANSLATORS: the mark of a cell the model was unsure of */
  tile->unsure_label = gtk_label_new (_("?"));
  gtk_widget_add_css_class (tile->unsure_label, "warning");
  gtk_widget_add_css_class (tile->unsure_label, "heading");
  gtk_widget_set_visible (tile->unsure_label, FALSE);
  gtk_box_append (GTK_BOX (name_row), tile->unsure_label);
  gtk_box_append (GTK_BOX (tile->box), name_row);

  tile->detail_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (tile->detail_label), 0.0);
  /* never cut: "not reviewed" must stay readable, so this line sets the tile's least width */
  gtk_widget_add_css_class (tile->detail_label, "caption");
  gtk_widget_add_css_class (tile->detail_label, "numeric");
  gtk_box_append (GTK_BOX (tile->box), tile->detail_label);

  /* TRANSLATORS: a gallery tile's third line: why a confident lymphocyte call is unsure
   * (its nucleus is lobed); keep it short, the tile is 120 pixels wide */
  tile->reason_label = gtk_label_new (_("nucleus not round"));
  gtk_label_set_xalign (GTK_LABEL (tile->reason_label), 0.0);
  gtk_label_set_wrap (GTK_LABEL (tile->reason_label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (tile->reason_label), 16);
  gtk_widget_add_css_class (tile->reason_label, "caption");
  gtk_widget_add_css_class (tile->reason_label, "warning");
  gtk_widget_set_visible (tile->reason_label, FALSE);
  gtk_box_append (GTK_BOX (tile->box), tile->reason_label);

  gtk_widget_set_has_tooltip (tile->box, TRUE);
  g_signal_connect (tile->box, "query-tooltip",
                    G_CALLBACK (ss_cell_gallery_tile_query_tooltip), tile);

  context_click = gtk_gesture_click_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (context_click), GDK_BUTTON_SECONDARY);
  g_signal_connect (context_click, "pressed",
                    G_CALLBACK (ss_cell_gallery_tile_context_pressed), tile);
  gtk_widget_add_controller (tile->box, GTK_EVENT_CONTROLLER (context_click));

  drag_source = gtk_drag_source_new ();
  gtk_drag_source_set_actions (drag_source, GDK_ACTION_MOVE | GDK_ACTION_COPY);
  g_signal_connect (drag_source, "prepare",
                    G_CALLBACK (ss_cell_gallery_tile_drag_prepare), tile);
  g_signal_connect (drag_source, "drag-begin",
                    G_CALLBACK (ss_cell_gallery_tile_drag_begin), tile);
  gtk_widget_add_controller (tile->box, GTK_EVENT_CONTROLLER (drag_source));

  g_object_set_data_full (G_OBJECT (tile->box), "ss-tile", tile, g_free);
  gtk_list_item_set_child (list_item, tile->box);
}

static void
ss_cell_gallery_tile_bind (GtkSignalListItemFactory *factory,
                           GtkListItem              *list_item,
                           SsCellGallery            *self)
{
  Tile *tile = g_object_get_data (G_OBJECT (gtk_list_item_get_child (list_item)), "ss-tile");
  SsCellItem *item = gtk_list_item_get_item (list_item);
  GdkTexture *crop;

  g_assert (tile != NULL);
  g_assert (SS_IS_CELL_ITEM (item));

  tile->item = g_object_ref (item);
  tile->notify_handler = g_signal_connect_swapped (item, "notify",
                                                   G_CALLBACK (ss_cell_gallery_tile_notify),
                                                   tile);
  ss_cell_gallery_tile_update (tile);

  crop = ss_cell_item_get_crop (item);
  gtk_image_set_from_paintable (GTK_IMAGE (tile->picture), GDK_PAINTABLE (crop));
  if (crop == NULL)
    ss_cell_gallery_queue_crop (self, tile);

  g_hash_table_insert (self->bound_tiles, item, tile);
}

static void
ss_cell_gallery_tile_unbind (GtkSignalListItemFactory *factory,
                             GtkListItem              *list_item,
                             SsCellGallery            *self)
{
  Tile *tile = g_object_get_data (G_OBJECT (gtk_list_item_get_child (list_item)), "ss-tile");

  if (tile == NULL || tile->item == NULL)
    return;

  g_hash_table_remove (self->pending_crops, tile);
  if (g_hash_table_lookup (self->bound_tiles, tile->item) == tile)
    g_hash_table_remove (self->bound_tiles, tile->item);
  g_clear_signal_handler (&tile->notify_handler, tile->item);
  gtk_image_clear (GTK_IMAGE (tile->picture));
  g_clear_object (&tile->item);
}

/* Selection: grid to state, state to grid */

/* Which selected cell becomes the current one: the tile with the keyboard focus (a
 * click focuses its tile before the selection follows), else the current one if it
 * stayed selected, else the first. */
static SsCellItem *
ss_cell_gallery_pick_current (SsCellGallery *self,
                              GPtrArray     *items)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  SsCellItem *current;

  if (root != NULL)
    {
      GtkWidget *focus = gtk_root_get_focus (root);
      Tile *tile = NULL;

      if (focus != NULL && gtk_widget_is_ancestor (focus, self->grid))
        tile = ss_cell_gallery_tile_from_widget (focus);
      if (tile != NULL && tile->item != NULL && g_ptr_array_find (items, tile->item, NULL))
        return tile->item;
    }

  current = ss_viewer_state_get_current (self->state);
  if (current != NULL && g_ptr_array_find (items, current, NULL))
    return current;

  return g_ptr_array_index (items, 0);
}

static void
ss_cell_gallery_selection_changed (SsCellGallery     *self,
                                   guint              position,
                                   guint              n_items,
                                   GtkSelectionModel *model)
{
  g_autoptr(GPtrArray) items = NULL;
  SsCellItem *current;
  guint index;

  ss_cell_gallery_update_actions (self);

  if (self->syncing || self->state == NULL)
    return;

  items = ss_cell_gallery_dup_selected (self);

  self->syncing = TRUE;
  if (items->len == 0)
    {
      ss_viewer_state_clear_selection (self->state);
    }
  else if (items->len == 1)
    {
      ss_viewer_state_set_current (self->state, g_ptr_array_index (items, 0), FALSE);
    }
  else
    {
      current = ss_cell_gallery_pick_current (self, items);
      /* the state wants the current cell first */
      if (g_ptr_array_find (items, current, &index) && index > 0)
        {
          items->pdata[index] = items->pdata[0];
          items->pdata[0] = current;
        }
      ss_viewer_state_select_only (self->state, (SsCellItem **) items->pdata, items->len);
      ss_viewer_state_set_current (self->state, current, TRUE);
    }
  self->syncing = FALSE;
}

static void
ss_cell_gallery_select_from_state (SsCellGallery *self)
{
  g_autoptr(GPtrArray) selected = NULL;
  g_autoptr(GtkBitset) positions = gtk_bitset_new_empty ();
  g_autoptr(GtkBitset) mask = NULL;
  g_autoptr(GtkBitset) now = NULL;
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->cells));
  guint position;

  if (self->state != NULL)
    selected = ss_viewer_state_get_selection (self->state);

  if (selected != NULL && selected->len <= SELECTION_LOOKUP_MAX)
    {
      for (guint i = 0; i < selected->len; i++)
        if (g_list_store_find (self->cells, g_ptr_array_index (selected, i), &position))
          gtk_bitset_add (positions, position);
    }
  else if (selected != NULL)
    {
      g_autoptr(GHashTable) wanted = g_hash_table_new (NULL, NULL);

      for (guint i = 0; i < selected->len; i++)
        g_hash_table_add (wanted, g_ptr_array_index (selected, i));
      for (position = 0; position < n_items; position++)
        {
          g_autoptr(SsCellItem) item = g_list_model_get_item (G_LIST_MODEL (self->cells), position);

          if (g_hash_table_contains (wanted, item))
            gtk_bitset_add (positions, position);
        }
    }

  now = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  if (gtk_bitset_equals (now, positions))
    return;

  mask = gtk_bitset_new_range (0, n_items);
  self->syncing = TRUE;
  gtk_selection_model_set_selection (GTK_SELECTION_MODEL (self->selection), positions, mask);
  self->syncing = FALSE;
}

static gboolean
ss_cell_gallery_grid_has_focus (SsCellGallery *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *focus = root != NULL ? gtk_root_get_focus (root) : NULL;

  GtkWidget *scroller = gtk_widget_get_parent (self->grid);

  /* the scrolled window around the grid counts: a closing popover leaves the focus there */
  return focus != NULL && (focus == scroller || gtk_widget_is_ancestor (focus, scroller));
}

/* Give the keyboard focus to the current cell's tile (the grid's row widget around it),
 * so arrow keys go on from there. FALSE if it has no tile on screen yet. */
static gboolean
ss_cell_gallery_focus_current (SsCellGallery *self)
{
  SsCellItem *current = self->state != NULL ? ss_viewer_state_get_current (self->state) : NULL;
  Tile *tile = current != NULL ? g_hash_table_lookup (self->bound_tiles, current) : NULL;
  GtkWidget *row;

  if (tile == NULL)
    return FALSE;

  row = gtk_widget_get_parent (tile->box);
  return row != NULL && gtk_widget_grab_focus (row);
}

static gboolean
ss_cell_gallery_focus_tick (GtkWidget     *widget,
                            GdkFrameClock *frame_clock,
                            gpointer       user_data)
{
  SsCellGallery *self = SS_CELL_GALLERY (widget);

  /* after the scroll's layout the current tile exists; only move a focus we already hold */
  if (ss_cell_gallery_grid_has_focus (self))
    ss_cell_gallery_focus_current (self);

  self->focus_tick = 0;
  return G_SOURCE_REMOVE;
}

/* Bring the gallery to the state's selection; with scroll, show the current cell
 * (switching "By class" to its class if need be). The keyboard focus stays where it is. */
static void
ss_cell_gallery_follow_state (SsCellGallery *self,
                              gboolean       scroll)
{
  SsCellItem *current;
  guint position;

  current = self->state != NULL ? ss_viewer_state_get_current (self->state) : NULL;

  if (scroll && current != NULL && self->mode == GALLERY_MODE_CLASS &&
      ss_cell_item_get_cell_class (current) != self->visible_class &&
      !g_list_store_find (self->cells, current, NULL))
    {
      /* rebuilding follows the state again */
      ss_cell_gallery_set_visible_class (self, ss_cell_item_get_cell_class (current));
      return;
    }

  ss_cell_gallery_select_from_state (self);

  if (scroll && current != NULL && g_list_store_find (self->cells, current, &position))
    {
      gtk_widget_activate_action (self->grid, "list.scroll-to-item", "u", position);
      /* the focus follows only if it is in the grid already: never taken from elsewhere */
      if (self->focus_tick == 0 && ss_cell_gallery_grid_has_focus (self))
        self->focus_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self),
                                                         ss_cell_gallery_focus_tick,
                                                         NULL, NULL);
    }
}

static void
ss_cell_gallery_state_current_changed (SsCellGallery *self,
                                       GParamSpec    *pspec,
                                       SsViewerState *state)
{
  if (!self->syncing)
    ss_cell_gallery_follow_state (self, TRUE);
}

static void
ss_cell_gallery_state_selection_changed (SsCellGallery *self,
                                         SsViewerState *state)
{
  if (!self->syncing)
    ss_cell_gallery_follow_state (self, FALSE);
}

/* The shown cells */

static int
ss_cell_gallery_compare_confidence (gconstpointer a,
                                    gconstpointer b,
                                    gpointer      user_data)
{
  SsCellItem *item_a = *(SsCellItem * const *) a;
  SsCellItem *item_b = *(SsCellItem * const *) b;
  gboolean descending = GPOINTER_TO_INT (user_data);
  double confidence_a = ss_cell_gallery_class_confidence (item_a);
  double confidence_b = ss_cell_gallery_class_confidence (item_b);
  gint64 id_a, id_b;
  int order;

  order = (confidence_a > confidence_b) - (confidence_a < confidence_b);
  if (descending)
    order = -order;
  if (order != 0)
    return order;

  /* ties in the order of the store, so a refresh does not shuffle them */
  id_a = ss_cell_item_get_id (item_a);
  id_b = ss_cell_item_get_id (item_b);
  return (id_a > id_b) - (id_a < id_b);
}

static gboolean
ss_cell_gallery_mode_shows (SsCellGallery *self,
                            SsCellItem    *item)
{
  return self->mode != GALLERY_MODE_CLASS ||
         ss_cell_item_get_cell_class (item) == self->visible_class;
}

/* The cells of the mode, in its order (transfer container; items owned by the
 * document and referenced by the store once spliced in). */
static GPtrArray *
ss_cell_gallery_collect (SsCellGallery *self)
{
  GListModel *all;
  GPtrArray *items;
  guint n_items;

  if (self->document == NULL)
    return g_ptr_array_new ();

  if (self->mode == GALLERY_MODE_QUEUE)
    return ss_case_document_review_queue (self->document);

  all = ss_case_document_get_cells (self->document);
  n_items = g_list_model_get_n_items (all);
  items = g_ptr_array_sized_new (n_items);
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(SsCellItem) item = g_list_model_get_item (all, i);

      if (ss_cell_gallery_mode_shows (self, item))
        g_ptr_array_add (items, item);
    }

  if (self->mode == GALLERY_MODE_CLASS)
    g_ptr_array_sort_with_data (items, ss_cell_gallery_compare_confidence,
                                GINT_TO_POINTER (self->sort_descending));

  return items;
}

static void
ss_cell_gallery_update_empty (SsCellGallery *self)
{
  AdwStatusPage *page = ADW_STATUS_PAGE (self->empty_page);

  if (g_list_model_get_n_items (G_LIST_MODEL (self->cells)) > 0)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "cells");
      return;
    }

  if (self->document == NULL)
    {
      adw_status_page_set_title (page, _("No Case Open"));
      adw_status_page_set_description (page, _("Open a case to review its cells."));
    }
  else if (self->mode == GALLERY_MODE_CLASS)
    {
      g_autofree char *title = g_strdup_printf (_("No cells called %s"),
                                                ss_cell_class_display_name (self->visible_class));

      adw_status_page_set_title (page, title);
      adw_status_page_set_description (page, _("Drop cells on a class to relabel them."));
    }
  else
    {
      adw_status_page_set_title (page, _("No Cells"));
      adw_status_page_set_description (page, _("No cells were found in this case."));
    }

  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
}

static void
ss_cell_gallery_rebuild (SsCellGallery *self)
{
  g_autoptr(GPtrArray) items = ss_cell_gallery_collect (self);
  guint n_old = g_list_model_get_n_items (G_LIST_MODEL (self->cells));
  SsCellItem *current;

  self->syncing = TRUE;
  g_list_store_splice (self->cells, 0, n_old, items->pdata, items->len);
  self->syncing = FALSE;

  ss_cell_gallery_update_empty (self);
  ss_cell_gallery_update_actions (self);

  current = self->state != NULL ? ss_viewer_state_get_current (self->state) : NULL;
  if (current != NULL && g_list_store_find (self->cells, current, NULL))
    ss_cell_gallery_follow_state (self, TRUE);
  else
    {
      ss_cell_gallery_select_from_state (self);
      if (items->len > 0)
        gtk_widget_activate_action (self->grid, "list.scroll-to-item", "u", 0);
    }
}

/* Cells joined or left the case (added, deleted, restored): only those tiles change,
 * so the rest keep their place and the view its scroll position. */
static void
ss_cell_gallery_document_cells_changed (SsCellGallery *self,
                                        guint          position,
                                        guint          removed,
                                        guint          added,
                                        GListModel    *all)
{
  if (removed > 0)
    {
      g_autoptr(GHashTable) living = g_hash_table_new (NULL, NULL);
      guint n_all = g_list_model_get_n_items (all);
      guint n_shown = g_list_model_get_n_items (G_LIST_MODEL (self->cells));

      for (guint i = 0; i < n_all; i++)
        {
          g_autoptr(SsCellItem) item = g_list_model_get_item (all, i);
          g_hash_table_add (living, item);
        }

      for (guint i = n_shown; i > 0; i--)
        {
          g_autoptr(SsCellItem) item = g_list_model_get_item (G_LIST_MODEL (self->cells), i - 1);

          if (!g_hash_table_contains (living, item))
            g_list_store_remove (self->cells, i - 1);
        }
    }

  for (guint i = 0; i < added; i++)
    {
      g_autoptr(SsCellItem) item = g_list_model_get_item (all, position + i);

      if (ss_cell_gallery_mode_shows (self, item) && !g_list_store_find (self->cells, item, NULL))
        g_list_store_append (self->cells, item);
    }

  ss_cell_gallery_update_empty (self);
  ss_cell_gallery_update_actions (self);
}

static void
ss_cell_gallery_update_class_buttons (SsCellGallery *self)
{
  SsCounts counts = { 0 };

  if (self->document != NULL)
    ss_case_document_get_counts (self->document, &counts);

  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      const char *name = ss_cell_class_display_name (c);
      g_autofree char *text = NULL;
      g_autofree char *accessible = NULL;

      /* TRANSLATORS: a class button: "Lymphoblast (12)" */
      text = g_strdup_printf (_("%s (%d)"), name, counts.counts[c]);
      if (g_strcmp0 (text, gtk_label_get_label (GTK_LABEL (self->class_labels[c]))) == 0)
        continue;

      gtk_label_set_label (GTK_LABEL (self->class_labels[c]), text);
      accessible = g_strdup_printf (ngettext ("%s, %d cell", "%s, %d cells", counts.counts[c]),
                                    name, counts.counts[c]);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->class_buttons[c]),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                      -1);
    }
}

/* Corrections */

static gboolean
ss_cell_gallery_apply (SsCellGallery *self,
                       GPtrArray     *items,
                       const char    *what,
                       int            new_class)
{
  g_autoptr(GError) error = NULL;
  SsCellItem **cells = (SsCellItem **) items->pdata;
  gboolean ok;

  if (self->document == NULL || items->len == 0)
    return FALSE;

  if (g_str_equal (what, "relabel"))
    ok = ss_case_document_relabel (self->document, cells, items->len, new_class, &error);
  else if (g_str_equal (what, "confirm"))
    ok = ss_case_document_confirm (self->document, cells, items->len, &error);
  else
    ok = ss_case_document_delete (self->document, cells, items->len, &error);

  if (!ok)
    g_signal_emit (self, signals[SIGNAL_ERROR], 0,
                   error != NULL ? error->message : _("The change could not be saved."));

  return ok;
}

static void
ss_cell_gallery_relabel_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  SsCellGallery *self = SS_CELL_GALLERY (widget);
  g_autoptr(GPtrArray) items = ss_cell_gallery_dup_selected (self);
  int new_class = g_variant_get_int32 (param);

  if (new_class < 0 || new_class >= SS_N_CLASSES)
    return;

  ss_cell_gallery_apply (self, items, "relabel", new_class);
}

static void
ss_cell_gallery_confirm_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  SsCellGallery *self = SS_CELL_GALLERY (widget);
  g_autoptr(GPtrArray) items = ss_cell_gallery_dup_selected (self);

  ss_cell_gallery_apply (self, items, "confirm", SS_CLASS_NONE);
}

static void
ss_cell_gallery_delete_action (GtkWidget  *widget,
                               const char *action_name,
                               GVariant   *param)
{
  SsCellGallery *self = SS_CELL_GALLERY (widget);
  g_autoptr(GPtrArray) items = ss_cell_gallery_dup_selected (self);

  ss_cell_gallery_apply (self, items, "delete", SS_CLASS_NONE);
}

static void
ss_cell_gallery_show_in_field (SsCellGallery *self,
                               SsCellItem    *item)
{
  if (self->state != NULL)
    {
      gboolean extend = ss_viewer_state_is_selected (self->state, item) &&
                        ss_viewer_state_get_n_selected (self->state) > 1;

      self->syncing = TRUE;
      ss_viewer_state_set_current (self->state, item, extend);
      self->syncing = FALSE;
      ss_cell_gallery_select_from_state (self);
    }

  g_signal_emit (self, signals[SIGNAL_SHOW_IN_FIELD], 0, item);
}

static void
ss_cell_gallery_show_in_field_action (GtkWidget  *widget,
                                      const char *action_name,
                                      GVariant   *param)
{
  SsCellGallery *self = SS_CELL_GALLERY (widget);
  g_autoptr(GPtrArray) items = ss_cell_gallery_dup_selected (self);
  SsCellItem *item;

  if (items->len == 0)
    return;

  item = g_ptr_array_index (items, 0);
  if (self->state != NULL)
    {
      SsCellItem *current = ss_viewer_state_get_current (self->state);

      if (current != NULL && g_ptr_array_find (items, current, NULL))
        item = current;
    }

  ss_cell_gallery_show_in_field (self, item);
}

static void
ss_cell_gallery_refresh_action (GtkWidget  *widget,
                                const char *action_name,
                                GVariant   *param)
{
  ss_cell_gallery_refresh (SS_CELL_GALLERY (widget));
}

static void
ss_cell_gallery_grid_activate (SsCellGallery *self,
                               guint          position,
                               GtkGridView   *grid)
{
  g_autoptr(SsCellItem) item = g_list_model_get_item (G_LIST_MODEL (self->cells), position);

  if (item != NULL)
    ss_cell_gallery_show_in_field (self, item);
}

static gboolean
ss_cell_gallery_popup_menu_key (GtkWidget *widget,
                                GVariant  *args,
                                gpointer   user_data)
{
  SsCellGallery *self = SS_CELL_GALLERY (widget);
  g_autoptr(GPtrArray) items = ss_cell_gallery_dup_selected (self);
  SsCellItem *item = NULL;
  Tile *tile = NULL;

  if (items->len == 0)
    return FALSE;

  if (self->state != NULL)
    item = ss_viewer_state_get_current (self->state);
  if (item == NULL || !g_ptr_array_find (items, item, NULL))
    item = g_ptr_array_index (items, 0);

  tile = g_hash_table_lookup (self->bound_tiles, item);
  ss_cell_gallery_popup_menu_at (self, tile, -1, -1);

  return TRUE;
}

/* Drag and drop onto the class chooser */

static gboolean
ss_cell_gallery_class_drop (GtkDropTarget *target,
                            const GValue  *value,
                            double         x,
                            double         y,
                            SsCellGallery *self)
{
  GtkWidget *button = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (target));
  int new_class = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "ss-cell-class"));
  g_autoptr(GPtrArray) items = NULL;
  SsCellItem *dragged;

  if (self->document == NULL || !G_VALUE_HOLDS_INT64 (value))
    return FALSE;

  if (ss_case_document_get_read_only (self->document))
    {
      g_signal_emit (self, signals[SIGNAL_ERROR], 0,
                     _("This case is signed; reopen it to change a cell."));
      return FALSE;
    }

  dragged = ss_case_document_find_cell (self->document, g_value_get_int64 (value));
  if (dragged == NULL)
    return FALSE;

  /* a selected tile carries the whole selection with it */
  if (ss_cell_gallery_item_selected (self, dragged))
    items = ss_cell_gallery_dup_selected (self);
  else
    {
      items = g_ptr_array_new_with_free_func (g_object_unref);
      g_ptr_array_add (items, g_object_ref (dragged));
    }

  return ss_cell_gallery_apply (self, items, "relabel", new_class);
}

static void
ss_cell_gallery_build_class_chooser (SsCellGallery *self)
{
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      GtkWidget *button;
      GtkWidget *content;
      GtkDropTarget *drop;
      g_autofree char *tooltip = NULL;

      content = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      gtk_box_append (GTK_BOX (content), ss_cell_gallery_new_dot (c));
      self->class_labels[c] = gtk_label_new (ss_cell_class_display_name (c));
      gtk_widget_add_css_class (self->class_labels[c], "numeric");
      gtk_box_append (GTK_BOX (content), self->class_labels[c]);

      button = gtk_toggle_button_new ();
      gtk_button_set_child (GTK_BUTTON (button), content);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "gallery.visible-class");
      gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_int32 (c));
      tooltip = g_strdup_printf (_("Show the cells called %s; drop cells here to relabel them"),
                                 ss_cell_class_display_name (c));
      gtk_widget_set_tooltip_text (button, tooltip);
      g_object_set_data (G_OBJECT (button), "ss-cell-class", GINT_TO_POINTER (c));

      drop = gtk_drop_target_new (G_TYPE_INT64, GDK_ACTION_MOVE | GDK_ACTION_COPY);
      g_signal_connect (drop, "drop", G_CALLBACK (ss_cell_gallery_class_drop), self);
      gtk_widget_add_controller (button, GTK_EVENT_CONTROLLER (drop));

      gtk_flow_box_append (GTK_FLOW_BOX (self->class_box), button);
      /* the flow box's own child would be a second, empty focus stop */
      gtk_widget_set_focusable (gtk_widget_get_parent (button), FALSE);
      self->class_buttons[c] = button;
    }

  ss_cell_gallery_update_class_buttons (self);
}

static void
ss_cell_gallery_menu_closed (SsCellGallery *self,
                             GtkPopover    *menu)
{
  /* the menu was opened on a tile: give the keyboard back to it, so arrows and the
   * review keys go on from there */
  if (!ss_cell_gallery_focus_current (self))
    gtk_widget_grab_focus (self->grid);
}

static void
ss_cell_gallery_build_menu (SsCellGallery *self)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) classes = g_menu_new ();
  g_autoptr(GMenu) actions = g_menu_new ();

  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (ss_cell_class_display_name (c), NULL);
      char key[2] = { ss_class_key (c), '\0' };

      g_menu_item_set_action_and_target_value (item, "gallery.relabel", g_variant_new_int32 (c));
      /* shown beside the name, so the menu teaches the review pane's keys */
      g_menu_item_set_attribute (item, "accel", "s", key);
      g_menu_append_item (classes, item);
    }

  g_menu_append_submenu (menu, _("Set _Class"), G_MENU_MODEL (classes));
  g_menu_append (actions, _("C_onfirm"), "gallery.confirm");
  g_menu_append (actions, _("_Not a Cell"), "gallery.delete");
  g_menu_append (actions, _("Show in _Field"), "gallery.show-in-field");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (actions));

  self->menu = gtk_popover_menu_new_from_model (G_MENU_MODEL (menu));
  gtk_popover_set_has_arrow (GTK_POPOVER (self->menu), FALSE);
  gtk_widget_set_halign (self->menu, GTK_ALIGN_START);
  gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
  g_signal_connect_object (self->menu, "closed",
                           G_CALLBACK (ss_cell_gallery_menu_closed), self,
                           G_CONNECT_SWAPPED);
}

/* Document and state */

static void
ss_cell_gallery_document_read_only_changed (SsCellGallery  *self,
                                            GParamSpec     *pspec,
                                            SsCaseDocument *document)
{
  ss_cell_gallery_update_actions (self);
}

static void
ss_cell_gallery_update_mode_widgets (SsCellGallery *self)
{
  gboolean by_class = self->mode == GALLERY_MODE_CLASS;

  gtk_widget_set_visible (self->class_box, by_class);
  gtk_widget_set_visible (self->sort_button, by_class);
  gtk_button_set_icon_name (GTK_BUTTON (self->sort_button),
                            self->sort_descending ? "view-sort-descending-symbolic"
                                                  : "view-sort-ascending-symbolic");
}

static gboolean
ss_cell_gallery_grab_focus (GtkWidget *widget)
{
  SsCellGallery *self = SS_CELL_GALLERY (widget);

  if (ss_cell_gallery_focus_current (self))
    return TRUE;

  return gtk_widget_grab_focus (self->grid);
}

static void
ss_cell_gallery_dispose (GObject *object)
{
  SsCellGallery *self = SS_CELL_GALLERY (object);
  GtkWidget *child;

  g_clear_handle_id (&self->crop_source, g_source_remove);
  if (self->focus_tick != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->focus_tick);
      self->focus_tick = 0;
    }
  if (self->state != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->state, self);
      g_clear_object (&self->state);
    }
  if (self->document != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->document, self);
      g_signal_handlers_disconnect_by_data (ss_case_document_get_cells (self->document), self);
      g_clear_object (&self->document);
    }

  g_clear_pointer (&self->menu, gtk_widget_unparent);
  if (self->selection != NULL)
    g_signal_handlers_disconnect_by_data (self->selection, self);
  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_CELL_GALLERY);
  /* the template's unnamed children too: this widget is their only container */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_object (&self->selection);
  g_clear_object (&self->cells);
  g_clear_pointer (&self->bound_tiles, g_hash_table_unref);
  g_clear_pointer (&self->pending_crops, g_hash_table_unref);

  G_OBJECT_CLASS (ss_cell_gallery_parent_class)->dispose (object);
}

static void
ss_cell_gallery_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SsCellGallery *self = SS_CELL_GALLERY (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;

    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;

    case PROP_MODE:
      g_value_set_string (value, ss_cell_gallery_get_mode (self));
      break;

    case PROP_VISIBLE_CLASS:
      g_value_set_int (value, self->visible_class);
      break;

    case PROP_SORT_DESCENDING:
      g_value_set_boolean (value, self->sort_descending);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_cell_gallery_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  SsCellGallery *self = SS_CELL_GALLERY (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      ss_cell_gallery_set_document (self, g_value_get_object (value));
      break;

    case PROP_STATE:
      ss_cell_gallery_set_state (self, g_value_get_object (value));
      break;

    case PROP_MODE:
      ss_cell_gallery_set_mode (self, g_value_get_string (value));
      break;

    case PROP_VISIBLE_CLASS:
      ss_cell_gallery_set_visible_class (self, g_value_get_int (value));
      break;

    case PROP_SORT_DESCENDING:
      ss_cell_gallery_set_sort_descending (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_cell_gallery_class_init (SsCellGalleryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ss_cell_gallery_dispose;
  object_class->get_property = ss_cell_gallery_get_property;
  object_class->set_property = ss_cell_gallery_set_property;

  widget_class->grab_focus = ss_cell_gallery_grab_focus;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL,
                         SS_TYPE_CASE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL,
                         SS_TYPE_VIEWER_STATE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODE] =
    g_param_spec_string ("mode", NULL, NULL,
                         "queue",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_VISIBLE_CLASS] =
    g_param_spec_int ("visible-class", NULL, NULL,
                      0, SS_N_CLASSES - 1, SS_CLASS_LYMPHOBLAST,
                      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SORT_DESCENDING] =
    g_param_spec_boolean ("sort-descending", NULL, NULL,
                          FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_ERROR] =
    g_signal_new ("error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[SIGNAL_SHOW_IN_FIELD] =
    g_signal_new ("show-in-field",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, SS_TYPE_CELL_ITEM);

  gtk_widget_class_install_action (widget_class, "gallery.relabel", "i", ss_cell_gallery_relabel_action);
  gtk_widget_class_install_action (widget_class, "gallery.confirm", NULL, ss_cell_gallery_confirm_action);
  gtk_widget_class_install_action (widget_class, "gallery.delete", NULL, ss_cell_gallery_delete_action);
  gtk_widget_class_install_action (widget_class, "gallery.show-in-field", NULL, ss_cell_gallery_show_in_field_action);
  gtk_widget_class_install_action (widget_class, "gallery.refresh", NULL, ss_cell_gallery_refresh_action);
  gtk_widget_class_install_property_action (widget_class, "gallery.mode", "mode");
  gtk_widget_class_install_property_action (widget_class, "gallery.visible-class", "visible-class");
  gtk_widget_class_install_property_action (widget_class, "gallery.sort-descending", "sort-descending");

  /* the context menu from the keyboard; digits stay with the window's review pane */
  gtk_widget_class_add_binding (widget_class, GDK_KEY_Menu, 0, ss_cell_gallery_popup_menu_key, NULL);
  gtk_widget_class_add_binding (widget_class, GDK_KEY_F10, GDK_SHIFT_MASK, ss_cell_gallery_popup_menu_key, NULL);

  g_type_ensure (ADW_TYPE_STATUS_PAGE);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/smearscope/Smearscope/ss-cell-gallery.ui");
  gtk_widget_class_bind_template_child (widget_class, SsCellGallery, class_box);
  gtk_widget_class_bind_template_child (widget_class, SsCellGallery, sort_button);
  gtk_widget_class_bind_template_child (widget_class, SsCellGallery, stack);
  gtk_widget_class_bind_template_child (widget_class, SsCellGallery, grid);
  gtk_widget_class_bind_template_child (widget_class, SsCellGallery, empty_page);
  gtk_widget_class_bind_template_callback (widget_class, ss_cell_gallery_tile_setup);
  gtk_widget_class_bind_template_callback (widget_class, ss_cell_gallery_tile_bind);
  gtk_widget_class_bind_template_callback (widget_class, ss_cell_gallery_tile_unbind);
  gtk_widget_class_bind_template_callback (widget_class, ss_cell_gallery_grid_activate);

  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
ss_cell_gallery_init (SsCellGallery *self)
{
  self->mode = GALLERY_MODE_QUEUE;
  self->visible_class = SS_CLASS_LYMPHOBLAST;
  self->bound_tiles = g_hash_table_new (NULL, NULL);
  self->pending_crops = g_hash_table_new (NULL, NULL);

  gtk_widget_init_template (GTK_WIDGET (self));

  self->cells = g_list_store_new (SS_TYPE_CELL_ITEM);
  self->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->cells)));
  g_signal_connect_swapped (self->selection, "selection-changed",
                            G_CALLBACK (ss_cell_gallery_selection_changed), self);
  gtk_grid_view_set_model (GTK_GRID_VIEW (self->grid), GTK_SELECTION_MODEL (self->selection));

  ss_cell_gallery_build_class_chooser (self);
  ss_cell_gallery_build_menu (self);
  ss_cell_gallery_update_mode_widgets (self);
  ss_cell_gallery_update_empty (self);
  ss_cell_gallery_update_actions (self);
}

GtkWidget *
ss_cell_gallery_new (void)
{
  return g_object_new (SS_TYPE_CELL_GALLERY, NULL);
}

SsCaseDocument *
ss_cell_gallery_get_document (SsCellGallery *self)
{
  g_return_val_if_fail (SS_IS_CELL_GALLERY (self), NULL);

  return self->document;
}

void
ss_cell_gallery_set_document (SsCellGallery  *self,
                              SsCaseDocument *document)
{
  g_return_if_fail (SS_IS_CELL_GALLERY (self));
  g_return_if_fail (document == NULL || SS_IS_CASE_DOCUMENT (document));

  if (self->document == document)
    return;

  if (self->document != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->document, self);
      g_signal_handlers_disconnect_by_data (ss_case_document_get_cells (self->document), self);
    }

  g_set_object (&self->document, document);
  g_hash_table_remove_all (self->pending_crops);

  if (document != NULL)
    {
      g_signal_connect_swapped (document, "counts-changed",
                                G_CALLBACK (ss_cell_gallery_update_class_buttons), self);
      g_signal_connect_swapped (document, "notify::read-only",
                                G_CALLBACK (ss_cell_gallery_document_read_only_changed), self);
      g_signal_connect_swapped (ss_case_document_get_cells (document), "items-changed",
                                G_CALLBACK (ss_cell_gallery_document_cells_changed), self);
      g_signal_connect_swapped (document, "field-loaded",
                                G_CALLBACK (ss_cell_gallery_schedule_crops), self);
    }

  /* a case opens: the one time besides an explicit refresh that the queue is sorted */
  ss_cell_gallery_update_class_buttons (self);
  ss_cell_gallery_rebuild (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

SsViewerState *
ss_cell_gallery_get_state (SsCellGallery *self)
{
  g_return_val_if_fail (SS_IS_CELL_GALLERY (self), NULL);

  return self->state;
}

void
ss_cell_gallery_set_state (SsCellGallery *self,
                           SsViewerState *state)
{
  g_return_if_fail (SS_IS_CELL_GALLERY (self));
  g_return_if_fail (state == NULL || SS_IS_VIEWER_STATE (state));

  if (self->state == state)
    return;

  if (self->state != NULL)
    g_signal_handlers_disconnect_by_data (self->state, self);

  g_set_object (&self->state, state);

  if (state != NULL)
    {
      g_signal_connect_swapped (state, "notify::current",
                                G_CALLBACK (ss_cell_gallery_state_current_changed), self);
      g_signal_connect_swapped (state, "selection-changed",
                                G_CALLBACK (ss_cell_gallery_state_selection_changed), self);
      ss_cell_gallery_follow_state (self, TRUE);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

const char *
ss_cell_gallery_get_mode (SsCellGallery *self)
{
  g_return_val_if_fail (SS_IS_CELL_GALLERY (self), NULL);

  return mode_names[self->mode];
}

void
ss_cell_gallery_set_mode (SsCellGallery *self,
                          const char    *mode)
{
  GalleryMode new_mode = N_GALLERY_MODES;

  g_return_if_fail (SS_IS_CELL_GALLERY (self));
  g_return_if_fail (mode != NULL);

  for (guint i = 0; i < N_GALLERY_MODES; i++)
    if (g_str_equal (mode, mode_names[i]))
      new_mode = i;

  if (new_mode == N_GALLERY_MODES)
    {
      g_warning ("Unknown gallery mode “%s”", mode);
      return;
    }

  if (self->mode == new_mode)
    return;

  self->mode = new_mode;

  /* "By class" opens on the class of the cell being looked at, else on one with cells */
  if (new_mode == GALLERY_MODE_CLASS)
    {
      SsCellItem *current = self->state != NULL ? ss_viewer_state_get_current (self->state) : NULL;
      int cell_class = self->visible_class;

      if (current != NULL)
        cell_class = ss_cell_item_get_cell_class (current);
      else if (self->document != NULL)
        {
          SsCounts counts;

          ss_case_document_get_counts (self->document, &counts);
          for (int c = 0; c < SS_N_CLASSES && counts.counts[cell_class] == 0; c++)
            if (counts.counts[c] > 0)
              cell_class = c;
        }

      if (cell_class != self->visible_class && cell_class >= 0 && cell_class < SS_N_CLASSES)
        {
          self->visible_class = cell_class;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISIBLE_CLASS]);
        }
    }

  ss_cell_gallery_update_mode_widgets (self);
  ss_cell_gallery_rebuild (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODE]);
}

int
ss_cell_gallery_get_visible_class (SsCellGallery *self)
{
  g_return_val_if_fail (SS_IS_CELL_GALLERY (self), SS_CLASS_NONE);

  return self->visible_class;
}

void
ss_cell_gallery_set_visible_class (SsCellGallery *self,
                                   int            cell_class)
{
  g_return_if_fail (SS_IS_CELL_GALLERY (self));
  g_return_if_fail (cell_class >= 0 && cell_class < SS_N_CLASSES);

  if (self->visible_class == cell_class)
    return;

  self->visible_class = cell_class;
  if (self->mode == GALLERY_MODE_CLASS)
    ss_cell_gallery_rebuild (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VISIBLE_CLASS]);
}

gboolean
ss_cell_gallery_get_sort_descending (SsCellGallery *self)
{
  g_return_val_if_fail (SS_IS_CELL_GALLERY (self), FALSE);

  return self->sort_descending;
}

void
ss_cell_gallery_set_sort_descending (SsCellGallery *self,
                                     gboolean       sort_descending)
{
  g_return_if_fail (SS_IS_CELL_GALLERY (self));

  sort_descending = !!sort_descending;
  if (self->sort_descending == sort_descending)
    return;

  self->sort_descending = sort_descending;
  ss_cell_gallery_update_mode_widgets (self);
  if (self->mode == GALLERY_MODE_CLASS)
    ss_cell_gallery_rebuild (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SORT_DESCENDING]);
}

void
ss_cell_gallery_refresh (SsCellGallery *self)
{
  g_return_if_fail (SS_IS_CELL_GALLERY (self));

  ss_cell_gallery_rebuild (self);
}
