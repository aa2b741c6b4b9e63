/* The field strip: a horizontal list of the case's fields. Thumbnails are decoded in a
 * worker thread straight from each field's file at thumbnail size, not through
 * ss_case_document_get_field_pixbuf: the document keeps only the few full-size fields
 * last shown, and a strip of thumbnails would push the field on screen out of it. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "ss-field-strip.h"
#include "ss-background.h"
#include "ss-image.h"

/* Thumbnails fit in this box (BCCD's 640 x 480 fields become 128 x 96). */
#define THUMB_MAX_WIDTH  160
#define THUMB_HEIGHT     96

/* One field of the strip's model: what its tile shows, kept as long as the document
 * is, so a thumbnail is decoded once however often its tile is recycled. */
#define SS_TYPE_FIELD_THUMB (ss_field_thumb_get_type ())
G_DECLARE_FINAL_TYPE (SsFieldThumb, ss_field_thumb, SS, FIELD_THUMB, GObject)

struct _SsFieldThumb
{
  GObject     parent_instance;

  guint       index;
  guint       n_cells;
  guint       n_truth;   /* imported truth cells: the tile then compares in a tooltip */
  GdkTexture *texture;   /* NULL until decoded, or when the file cannot be read */
  char       *error;     /* why the file cannot be shown; NULL while it can */
  guint       loading : 1;
};

G_DEFINE_FINAL_TYPE (SsFieldThumb, ss_field_thumb, G_TYPE_OBJECT)

enum {
  THUMB_PROP_0,
  THUMB_PROP_N_CELLS,
  THUMB_PROP_TEXTURE,
  THUMB_PROP_ERROR,
  THUMB_N_PROPS
};

static GParamSpec *thumb_properties[THUMB_N_PROPS];

static void
ss_field_thumb_finalize (GObject *object)
{
  SsFieldThumb *self = SS_FIELD_THUMB (object);

  g_clear_object (&self->texture);
  g_clear_pointer (&self->error, g_free);

  G_OBJECT_CLASS (ss_field_thumb_parent_class)->finalize (object);
}

static void
ss_field_thumb_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SsFieldThumb *self = SS_FIELD_THUMB (object);

  switch (prop_id)
    {
    case THUMB_PROP_N_CELLS:
      g_value_set_uint (value, self->n_cells);
      break;
    case THUMB_PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case THUMB_PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_field_thumb_class_init (SsFieldThumbClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ss_field_thumb_finalize;
  object_class->get_property = ss_field_thumb_get_property;

  thumb_properties[THUMB_PROP_N_CELLS] =
    g_param_spec_uint ("n-cells", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  thumb_properties[THUMB_PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  thumb_properties[THUMB_PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, THUMB_N_PROPS, thumb_properties);
}

static void
ss_field_thumb_init (SsFieldThumb *self)
{
}

static SsFieldThumb *
ss_field_thumb_new (guint index,
                    guint n_truth)
{
  SsFieldThumb *self = g_object_new (SS_TYPE_FIELD_THUMB, NULL);

  self->index = index;
  self->n_truth = n_truth;
  return self;
}

static void
ss_field_thumb_set_n_cells (SsFieldThumb *self,
                            guint         n_cells)
{
  if (self->n_cells == n_cells)
    return;
  self->n_cells = n_cells;
  g_object_notify_by_pspec (G_OBJECT (self), thumb_properties[THUMB_PROP_N_CELLS]);
}

/* What a worker thread needs to make one thumbnail: nothing of the document crosses. */
typedef struct
{
  char *path;        /* the field's file */
  char *cache_path;  /* its thumbnail in the user's cache, or NULL */
} ThumbJob;

static void
thumb_job_free (ThumbJob *job)
{
  g_free (job->path);
  g_free (job->cache_path);
  g_free (job);
}

/* A thumbnail is kept in $XDG_CACHE_HOME/smearscope/thumbnails, named by the SHA-256 the
 * store holds of the field's file, so that opening a case again does not decode every
 * full-size field once more. It records the file's size and modification time as the
 * freedesktop thumbnail convention does, and is remade when either changed. */
static char *
thumb_cache_path (const char *sha256)
{
  if (sha256 == NULL || strlen (sha256) != 64 || strspn (sha256, "0123456789abcdef") != 64)
    return NULL;
  g_autofree char *name = g_strconcat (sha256, ".png", NULL);
  return g_build_filename (g_get_user_cache_dir (), "smearscope", "thumbnails", name, NULL);
}

static GdkPixbuf *
thumb_cache_read (const ThumbJob *job,
                  const char     *size,
                  const char     *mtime)
{
  g_autoptr (GdkPixbuf) cached = NULL;

  if (job->cache_path == NULL)
    return NULL;
  cached = gdk_pixbuf_new_from_file (job->cache_path, NULL);
  if (cached == NULL
      || g_strcmp0 (gdk_pixbuf_get_option (cached, "tEXt::Thumb::Size"), size) != 0
      || g_strcmp0 (gdk_pixbuf_get_option (cached, "tEXt::Thumb::MTime"), mtime) != 0
      || gdk_pixbuf_get_width (cached) > THUMB_MAX_WIDTH
      || gdk_pixbuf_get_height (cached) > THUMB_HEIGHT)
    return NULL;
  return g_steal_pointer (&cached);
}

/* Best effort: a cache that cannot be written only costs the next open some time. */
static void
thumb_cache_write (const ThumbJob *job,
                   GdkPixbuf      *thumb,
                   const char     *size,
                   const char     *mtime)
{
  g_autofree char *dir = NULL;
  g_autofree char *buffer = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;

  if (job->cache_path == NULL)
    return;
  dir = g_path_get_dirname (job->cache_path);
  if (g_mkdir_with_parents (dir, 0700) != 0
      || !gdk_pixbuf_save_to_buffer (thumb, &buffer, &length, "png", &error,
                                     "tEXt::Thumb::Size", size,
                                     "tEXt::Thumb::MTime", mtime, NULL)
      || !g_file_set_contents_full (job->cache_path, buffer, (gssize) length,
                                    G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_debug ("thumbnail of %s not cached: %s", job->path,
             error != NULL ? error->message : g_strerror (errno));
}

/* Runs in a worker thread. */
static void
ss_field_thumb_decode (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  const ThumbJob *job = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) loaded = NULL;
  g_autoptr (GdkPixbuf) oriented = NULL;
  GdkPixbuf *thumb;
  GStatBuf st;
  g_autofree char *size = NULL;
  g_autofree char *mtime = NULL;
  int width, height;
  double scale;

  if (g_stat (job->path, &st) == 0)
    {
      size = g_strdup_printf ("%" G_GUINT64_FORMAT, (guint64) st.st_size);
      mtime = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) st.st_mtime);
      thumb = thumb_cache_read (job, size, mtime);
      if (thumb != NULL)
        {
          g_task_return_pointer (task, thumb, g_object_unref);
          return;
        }
    }

  /* A field replaced on disk since its analysis may be anything: it passes the
   * analysis's own checks before any decoder sees it (a decompression bomb, a damaged
   * PNG or BMP asking for gigabytes, a format that is no field) */
  if (!ss_image_check_file (job->path, SS_DEFAULT_MAX_PIXELS, NULL, NULL, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Decoded at a reduced size first (a JPEG decoder does most of the scaling), then
   * turned as the camera recorded it, as the analysis turns it, and fitted exactly. */
  loaded = gdk_pixbuf_new_from_file_at_size (job->path, 2 * THUMB_MAX_WIDTH, 2 * THUMB_MAX_WIDTH,
                                             &error);
  if (loaded == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  oriented = gdk_pixbuf_apply_embedded_orientation (loaded);
  width = gdk_pixbuf_get_width (oriented);
  height = gdk_pixbuf_get_height (oriented);
  scale = MIN ((double) THUMB_MAX_WIDTH / width, (double) THUMB_HEIGHT / height);
  thumb = gdk_pixbuf_scale_simple (oriented,
                                   MAX (1, (int) (width * scale + 0.5)),
                                   MAX (1, (int) (height * scale + 0.5)),
                                   GDK_INTERP_BILINEAR);
  if (size != NULL)
    thumb_cache_write (job, thumb, size, mtime);
  g_task_return_pointer (task, thumb, g_object_unref);
}

static void
ss_field_thumb_decoded (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  SsFieldThumb *self = SS_FIELD_THUMB (object);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = g_task_propagate_pointer (G_TASK (result), &error);

  self->loading = FALSE;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (pixbuf == NULL)
    {
      g_free (self->error);
      self->error = g_strdup (error->message);
      g_object_notify_by_pspec (G_OBJECT (self), thumb_properties[THUMB_PROP_ERROR]);
      return;
    }
  g_clear_object (&self->texture);
  self->texture = gdk_texture_new_for_pixbuf (pixbuf);
  g_object_notify_by_pspec (G_OBJECT (self), thumb_properties[THUMB_PROP_TEXTURE]);
}

static void
ss_field_thumb_ensure_texture (SsFieldThumb   *self,
                               SsCaseDocument *document,
                               GCancellable   *cancellable)
{
  g_autoptr (GTask) task = NULL;
  const SsImageRecord *record;
  ThumbJob *job;

  if (self->texture != NULL || self->error != NULL || self->loading)
    return;

  record = ss_case_document_get_image (document, self->index);
  self->loading = TRUE;
  task = g_task_new (self, cancellable, ss_field_thumb_decoded, NULL);
  g_task_set_source_tag (task, ss_field_thumb_ensure_texture);
  job = g_new0 (ThumbJob, 1);
  job->path = g_strdup (record->path);
  job->cache_path = thumb_cache_path (record->sha256);
  g_task_set_task_data (task, job, (GDestroyNotify) thumb_job_free);
  ss_background_run (task, SS_BACKGROUND_LATER, ss_field_thumb_decode);
}

struct _SsFieldStrip
{
  GtkWidget           parent_instance;

  SsCaseDocument     *document;
  SsViewerState      *state;
  GListStore         *fields;        /* SsFieldThumb, one per field of the document */
  GtkSingleSelection *selection;
  GCancellable       *cancellable;   /* the thumbnails being decoded for this document */

  GtkWidget          *scroller;
  GtkListView        *list_view;

  guint               scroll_tick;   /* waits for the first allocation to scroll */
  guint               following_state : 1;
};

G_DEFINE_FINAL_TYPE (SsFieldStrip, ss_field_strip, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_DOCUMENT,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The widgets of one tile, found again on bind through the list item's child. */
typedef struct
{
  GtkWidget *stack;
  GtkWidget *picture;
  GtkWidget *missing;
  GtkLabel  *title;
  GtkLabel  *count;
} Tile;

static void
ss_field_strip_update_tile (GtkListItem *list_item)
{
  SsFieldThumb *thumb = gtk_list_item_get_item (list_item);
  GtkWidget *child = gtk_list_item_get_child (list_item);
  Tile *tile = g_object_get_data (G_OBJECT (child), "ss-tile");
  g_autofree char *title = NULL;
  g_autofree char *count = NULL;
  g_autofree char *accessible = NULL;

  if (thumb == NULL)
    return;

  /* Translators: a field is one microscope image of the smear; %u counts from 1 */
  title = g_strdup_printf (_("Field %u"), thumb->index + 1);
  count = g_strdup_printf (ngettext ("%u cell", "%u cells", thumb->n_cells),
                           thumb->n_cells);
  gtk_label_set_text (tile->title, title);
  gtk_label_set_text (tile->count, count);

  if (thumb->error != NULL)
    {
      gtk_stack_set_visible_child (GTK_STACK (tile->stack), tile->missing);
      gtk_widget_set_tooltip_text (tile->stack, thumb->error);
      /* Translators: the accessible name of a field whose picture file is gone; the
       * first %s is "Field 3", the second "12 cells" */
      accessible = g_strdup_printf (_("%s, %s, picture missing"), title, count);
    }
  else
    {
      gtk_picture_set_paintable (GTK_PICTURE (tile->picture), GDK_PAINTABLE (thumb->texture));
      gtk_stack_set_visible_child (GTK_STACK (tile->stack), tile->picture);
      /* asking for no tooltip where there is none still asks the X server where the
         pointer is */
      if (gtk_widget_get_has_tooltip (tile->stack))
        gtk_widget_set_tooltip_text (tile->stack, NULL);
      /* a field with truth says how the cells compare (query-tooltip) */
      if (thumb->n_truth > 0)
        gtk_widget_set_has_tooltip (tile->stack, TRUE);
      /* Translators: the accessible name of a field: "Field 3, 12 cells" */
      accessible = g_strdup_printf (_("%s, %s"), title, count);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

/* "3 model cells, 2 truth cells; 2 matched at IoU ≥ 0.5": the matching is done when
 * the tooltip is asked for, never as cells change. */
static gboolean
ss_field_strip_query_truth_tooltip (GtkWidget   *stack,
                                    int          x,
                                    int          y,
                                    gboolean     keyboard_mode,
                                    GtkTooltip  *tooltip,
                                    GtkListItem *list_item)
{
  SsFieldThumb *thumb = gtk_list_item_get_item (list_item);
  GtkWidget *strip = gtk_widget_get_ancestor (stack, SS_TYPE_FIELD_STRIP);
  SsCaseDocument *document = strip != NULL ? SS_FIELD_STRIP (strip)->document : NULL;
  g_autofree char *cells = NULL;
  g_autofree char *truth = NULL;
  g_autofree char *matched = NULL;
  g_autofree char *text = NULL;
  guint n_matched;

  if (thumb == NULL || thumb->n_truth == 0 || thumb->error != NULL || document == NULL)
    return FALSE;
  n_matched = ss_case_document_count_truth_matched (document, thumb->index, 0.5);
  cells = g_strdup_printf (ngettext ("%u model cell", "%u model cells", thumb->n_cells),
                           thumb->n_cells);
  truth = g_strdup_printf (ngettext ("%u truth cell", "%u truth cells", thumb->n_truth),
                           thumb->n_truth);
  matched = g_strdup_printf (ngettext ("%u matched at IoU ≥ 0.5", "%u matched at IoU ≥ 0.5",
                                       n_matched), n_matched);
  /* Translators: a field's tooltip: "3 model cells", "2 truth cells" and
   * "2 matched at IoU ≥ 0.5" */
  text = g_strdup_printf (_("%s, %s; %s"), cells, truth, matched);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

static void
ss_field_strip_setup_tile (GtkSignalListItemFactory *factory,
                           GtkListItem              *list_item,
                           SsFieldStrip             *self)
{
  Tile *tile = g_new0 (Tile, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *labels = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *missing_icon = gtk_image_new_from_icon_name ("image-missing-symbolic");

  tile->stack = gtk_stack_new ();
  gtk_widget_set_size_request (tile->stack, THUMB_HEIGHT * 4 / 3, THUMB_HEIGHT);
  gtk_widget_set_overflow (tile->stack, GTK_OVERFLOW_HIDDEN);
  gtk_widget_add_css_class (tile->stack, "field-thumb");

  tile->picture = gtk_picture_new ();
  gtk_picture_set_can_shrink (GTK_PICTURE (tile->picture), TRUE);
  gtk_picture_set_content_fit (GTK_PICTURE (tile->picture), GTK_CONTENT_FIT_CONTAIN);
  gtk_accessible_update_property (GTK_ACCESSIBLE (tile->picture),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Thumbnail of the field"),
                                  -1);
  gtk_stack_add_child (GTK_STACK (tile->stack), tile->picture);

  gtk_image_set_pixel_size (GTK_IMAGE (missing_icon), 32);
  gtk_widget_add_css_class (missing_icon, "dim-label");
  gtk_accessible_update_property (GTK_ACCESSIBLE (missing_icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("The field's picture file is missing"),
                                  -1);
  tile->missing = missing_icon;
  gtk_stack_add_child (GTK_STACK (tile->stack), tile->missing);
  g_signal_connect (tile->stack, "query-tooltip",
                    G_CALLBACK (ss_field_strip_query_truth_tooltip), list_item);

  tile->title = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (tile->title, 0.0f);
  gtk_widget_add_css_class (GTK_WIDGET (tile->title), "caption-heading");
  tile->count = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (tile->count, 1.0f);
  gtk_widget_set_hexpand (GTK_WIDGET (tile->count), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (tile->count), "caption");
  gtk_widget_add_css_class (GTK_WIDGET (tile->count), "dim-label");
  gtk_box_append (GTK_BOX (labels), GTK_WIDGET (tile->title));
  gtk_box_append (GTK_BOX (labels), GTK_WIDGET (tile->count));

  gtk_box_append (GTK_BOX (box), tile->stack);
  gtk_box_append (GTK_BOX (box), labels);
  g_object_set_data_full (G_OBJECT (box), "ss-tile", tile, g_free);
  gtk_list_item_set_child (list_item, box);
}

static void
ss_field_strip_bind_tile (GtkSignalListItemFactory *factory,
                          GtkListItem              *list_item,
                          SsFieldStrip             *self)
{
  SsFieldThumb *thumb = gtk_list_item_get_item (list_item);

  g_signal_connect_object (thumb, "notify", G_CALLBACK (ss_field_strip_update_tile),
                           list_item, G_CONNECT_SWAPPED);
  ss_field_strip_update_tile (list_item);
  if (self->document != NULL)
    ss_field_thumb_ensure_texture (thumb, self->document, self->cancellable);
}

static void
ss_field_strip_unbind_tile (GtkSignalListItemFactory *factory,
                            GtkListItem              *list_item,
                            SsFieldStrip             *self)
{
  SsFieldThumb *thumb = gtk_list_item_get_item (list_item);
  Tile *tile = g_object_get_data (G_OBJECT (gtk_list_item_get_child (list_item)), "ss-tile");

  g_signal_handlers_disconnect_by_func (thumb, ss_field_strip_update_tile, list_item);
  gtk_picture_set_paintable (GTK_PICTURE (tile->picture), NULL);
}

static void
ss_field_strip_update_counts (SsFieldStrip *self)
{
  guint n_fields = g_list_model_get_n_items (G_LIST_MODEL (self->fields));

  for (guint i = 0; i < n_fields; i++)
    {
      g_autoptr (SsFieldThumb) thumb = g_list_model_get_item (G_LIST_MODEL (self->fields), i);
      GListModel *cells = ss_case_document_get_image_cells (self->document, thumb->index);

      ss_field_thumb_set_n_cells (thumb, g_list_model_get_n_items (cells));
    }
}

static void
ss_field_strip_scroll_to_selected (SsFieldStrip *self)
{
  guint selected = gtk_single_selection_get_selected (self->selection);

  if (selected != GTK_INVALID_LIST_POSITION)
    gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", selected);
}

static gboolean
ss_field_strip_scroll_when_allocated (GtkWidget     *widget,
                                      GdkFrameClock *frame_clock,
                                      gpointer       user_data)
{
  SsFieldStrip *self = SS_FIELD_STRIP (widget);

  if (gtk_widget_get_width (GTK_WIDGET (self->list_view)) == 0)
    return G_SOURCE_CONTINUE;

  self->scroll_tick = 0;
  ss_field_strip_scroll_to_selected (self);
  return G_SOURCE_REMOVE;
}

/* Select and show the field the state shows, without telling the state back. A list
 * that has no size yet cannot scroll: that waits for its first frame. */
static void
ss_field_strip_follow_state (SsFieldStrip *self)
{
  guint index;

  if (self->state == NULL)
    return;

  index = ss_viewer_state_get_image_index (self->state);
  if (index >= g_list_model_get_n_items (G_LIST_MODEL (self->fields)))
    return;

  self->following_state = TRUE;
  gtk_single_selection_set_selected (self->selection, index);
  self->following_state = FALSE;

  if (gtk_widget_get_width (GTK_WIDGET (self->list_view)) > 0)
    ss_field_strip_scroll_to_selected (self);
  else if (self->scroll_tick == 0)
    self->scroll_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self),
                                                      ss_field_strip_scroll_when_allocated,
                                                      NULL, NULL);
}

/* Fields are only ever appended to a case, so the thumbnails made so far stay; a
 * document with fewer fields than the strip (which should not happen) starts over. */
static void
ss_field_strip_sync_fields (SsFieldStrip *self)
{
  guint n_shown = g_list_model_get_n_items (G_LIST_MODEL (self->fields));
  guint n_fields = self->document != NULL ? ss_case_document_get_n_images (self->document) : 0;
  g_autoptr (GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  guint first_new = n_fields < n_shown ? 0 : n_shown;

  for (guint i = first_new; i < n_fields; i++)
    {
      GPtrArray *truth = ss_case_document_get_image_truth (self->document, i);

      g_ptr_array_add (added, ss_field_thumb_new (i, truth->len));
    }
  g_list_store_splice (self->fields, first_new, n_shown - first_new,
                       added->pdata, added->len);

  if (self->document != NULL)
    ss_field_strip_update_counts (self);
  ss_field_strip_follow_state (self);
}

static void
ss_field_strip_selection_changed (SsFieldStrip *self)
{
  guint selected = gtk_single_selection_get_selected (self->selection);

  if (self->following_state || self->state == NULL || selected == GTK_INVALID_LIST_POSITION)
    return;
  ss_viewer_state_set_image_index (self->state, selected);
}

static void
ss_field_strip_dispose (GObject *object)
{
  SsFieldStrip *self = SS_FIELD_STRIP (object);

  g_cancellable_cancel (self->cancellable);
  if (self->scroll_tick != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->scroll_tick);
  self->scroll_tick = 0;
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  g_clear_object (&self->document);
  g_clear_object (&self->state);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->selection);
  g_clear_object (&self->fields);

  G_OBJECT_CLASS (ss_field_strip_parent_class)->dispose (object);
}

static void
ss_field_strip_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SsFieldStrip *self = SS_FIELD_STRIP (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;
    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_field_strip_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  SsFieldStrip *self = SS_FIELD_STRIP (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      ss_field_strip_set_document (self, g_value_get_object (value));
      break;
    case PROP_STATE:
      ss_field_strip_set_state (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_field_strip_class_init (SsFieldStripClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ss_field_strip_dispose;
  object_class->get_property = ss_field_strip_get_property;
  object_class->set_property = ss_field_strip_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL, SS_TYPE_CASE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL, SS_TYPE_VIEWER_STATE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "fieldstrip");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
ss_field_strip_init (SsFieldStrip *self)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();

  self->fields = g_list_store_new (SS_TYPE_FIELD_THUMB);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->fields)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, FALSE);
  g_signal_connect_object (self->selection, "notify::selected",
                           G_CALLBACK (ss_field_strip_selection_changed), self,
                           G_CONNECT_SWAPPED);
  self->cancellable = g_cancellable_new ();

  g_signal_connect (factory, "setup", G_CALLBACK (ss_field_strip_setup_tile), self);
  g_signal_connect (factory, "bind", G_CALLBACK (ss_field_strip_bind_tile), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (ss_field_strip_unbind_tile), self);

  self->list_view = GTK_LIST_VIEW (gtk_list_view_new (g_object_ref (GTK_SELECTION_MODEL (self->selection)),
                                                      factory));
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self->list_view), GTK_ORIENTATION_HORIZONTAL);
  gtk_widget_add_css_class (GTK_WIDGET (self->list_view), "navigation-sidebar");
  gtk_widget_add_css_class (GTK_WIDGET (self->list_view), "field-strip");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Fields of the case"),
                                  -1);

  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller),
                                  GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (self->scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), GTK_WIDGET (self->list_view));
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Fields"),
                                  -1);
}

GtkWidget *
ss_field_strip_new (void)
{
  return g_object_new (SS_TYPE_FIELD_STRIP, NULL);
}

SsCaseDocument *
ss_field_strip_get_document (SsFieldStrip *self)
{
  g_return_val_if_fail (SS_IS_FIELD_STRIP (self), NULL);
  return self->document;
}

void
ss_field_strip_set_document (SsFieldStrip   *self,
                             SsCaseDocument *document)
{
  g_return_if_fail (SS_IS_FIELD_STRIP (self));
  g_return_if_fail (document == NULL || SS_IS_CASE_DOCUMENT (document));

  if (self->document == document)
    return;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_list_store_remove_all (self->fields);

  g_set_object (&self->document, document);
  if (document != NULL)
    {
      g_signal_connect_object (document, "images-changed",
                               G_CALLBACK (ss_field_strip_sync_fields), self,
                               G_CONNECT_SWAPPED);
      g_signal_connect_object (document, "counts-changed",
                               G_CALLBACK (ss_field_strip_update_counts), self,
                               G_CONNECT_SWAPPED);
    }
  ss_field_strip_sync_fields (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

SsViewerState *
ss_field_strip_get_state (SsFieldStrip *self)
{
  g_return_val_if_fail (SS_IS_FIELD_STRIP (self), NULL);
  return self->state;
}

void
ss_field_strip_set_state (SsFieldStrip  *self,
                          SsViewerState *state)
{
  g_return_if_fail (SS_IS_FIELD_STRIP (self));
  g_return_if_fail (state == NULL || SS_IS_VIEWER_STATE (state));

  if (self->state == state)
    return;

  if (self->state != NULL)
    g_signal_handlers_disconnect_by_data (self->state, self);
  g_set_object (&self->state, state);
  if (state != NULL)
    g_signal_connect_object (state, "notify::image-index",
                             G_CALLBACK (ss_field_strip_follow_state), self,
                             G_CONNECT_SWAPPED);
  ss_field_strip_follow_state (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}
