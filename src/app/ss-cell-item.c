/* One cell of an open case, as the window shows it. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-cell-item.h"

struct _SsCellItem
{
  GObject     parent_instance;

  SsCell     *cell;
  gint64      image_id;
  guint       image_index;
  double      unsure_below;
  GdkTexture *crop;
};

G_DEFINE_FINAL_TYPE (SsCellItem, ss_cell_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CELL_CLASS,
  PROP_CONFIDENCE,
  PROP_REVIEWED,
  PROP_DELETED,
  PROP_UNSURE,
  PROP_LABEL,
  PROP_STATE_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* The doubt the window gives as the reason an unsure cell is unsure (ss_cell_first_doubt);
 * SS_DOUBT_NONE when it is not unsure or the analysis raised none. */
static SsDoubt
ss_cell_item_shown_doubt (SsCellItem *self)
{
  return ss_cell_item_get_unsure (self) ? ss_cell_first_doubt (self->cell) : SS_DOUBT_NONE;
}

/* A doubt of the cell's own shown first, and its camera's too */
static gboolean
ss_cell_item_camera_doubt_too (SsCellItem *self)
{
  return ss_cell_item_shown_doubt (self) != SS_DOUBT_CAMERA_UNLIKE
         && (self->cell->doubt & SS_DOUBT_CAMERA_UNLIKE) != 0;
}

const char *
ss_cell_item_get_state_text (SsCellItem *self)
{
  if (self->cell->reviewed)
    return _("reviewed");
  switch (ss_cell_item_shown_doubt (self))
    {
    case SS_DOUBT_CAMERA_UNLIKE:
      /* TRANSLATORS: the review state of a call whose field looks unlike every camera
       * the cell-type model learned */
      return _("unsure: its camera is new to the model");
    case SS_DOUBT_NUCLEUS_NOT_ROUND:
      if (ss_cell_item_camera_doubt_too (self))
        /* TRANSLATORS: the review state of a lymphocyte call whose nucleus is lobed, in a
         * field whose camera the cell-type model never learned */
        return _("unsure: its nucleus is not round, and its camera is new to the model");
      /* TRANSLATORS: the review state of a confident lymphocyte call whose nucleus is
       * lobed */
      return _("unsure: its nucleus is not round");
    case SS_DOUBT_LARGE_FOR_LYMPHOCYTE:
      if (ss_cell_item_camera_doubt_too (self))
        /* TRANSLATORS: the review state of a lymphocyte call larger than a lymphocyte
         * is, in a field whose camera the cell-type model never learned */
        return _("unsure: large for a lymphocyte, and its camera is new to the model");
      /* TRANSLATORS: the review state of a confident lymphocyte call that is larger than
       * a lymphocyte is, at its field's scale */
      return _("unsure: large for a lymphocyte");
    case SS_DOUBT_TOO_SMALL:
      /* TRANSLATORS: the review state of an object the analysis called "not a cell"
       * because it is far smaller than a white cell at its field's scale */
      return _("unsure: too small for a white cell");
    default:
      break;
    }
  if (ss_cell_item_get_unsure (self))
    return _("unsure");
  return _("as called");
}

static void
ss_cell_item_finalize (GObject *object)
{
  SsCellItem *self = SS_CELL_ITEM (object);

  g_clear_pointer (&self->cell, ss_cell_free);
  g_clear_object (&self->crop);

  G_OBJECT_CLASS (ss_cell_item_parent_class)->finalize (object);
}

static void
ss_cell_item_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  SsCellItem *self = SS_CELL_ITEM (object);

  switch (prop_id)
    {
    case PROP_CELL_CLASS:
      g_value_set_int (value, self->cell->current_class);
      break;
    case PROP_CONFIDENCE:
      g_value_set_double (value, self->cell->confidence);
      break;
    case PROP_REVIEWED:
      g_value_set_boolean (value, self->cell->reviewed);
      break;
    case PROP_DELETED:
      g_value_set_boolean (value, self->cell->deleted);
      break;
    case PROP_UNSURE:
      g_value_set_boolean (value, ss_cell_item_get_unsure (self));
      break;
    case PROP_LABEL:
      g_value_take_string (value, ss_cell_item_dup_label (self));
      break;
    case PROP_STATE_TEXT:
      g_value_set_string (value, ss_cell_item_get_state_text (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_cell_item_class_init (SsCellItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ss_cell_item_finalize;
  object_class->get_property = ss_cell_item_get_property;

  properties[PROP_CELL_CLASS] =
    g_param_spec_int ("cell-class", NULL, NULL, 0, SS_N_CLASSES - 1, SS_CLASS_OTHER,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CONFIDENCE] =
    g_param_spec_double ("confidence", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_REVIEWED] =
    g_param_spec_boolean ("reviewed", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_DELETED] =
    g_param_spec_boolean ("deleted", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_UNSURE] =
    g_param_spec_boolean ("unsure", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_STATE_TEXT] =
    g_param_spec_string ("state-text", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ss_cell_item_init (SsCellItem *self)
{
  self->unsure_below = 0.9;
}

SsCellItem *
ss_cell_item_new (SsCell *cell,
                  guint   image_index,
                  gint64  image_id)
{
  g_return_val_if_fail (cell != NULL, NULL);

  SsCellItem *self = g_object_new (SS_TYPE_CELL_ITEM, NULL);
  self->cell = cell;
  self->image_index = image_index;
  self->image_id = image_id;
  return self;
}

const SsCell *
ss_cell_item_get_cell (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), NULL);
  return self->cell;
}

gint64
ss_cell_item_get_id (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), 0);
  return self->cell->id;
}

gint64
ss_cell_item_get_image_id (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), 0);
  return self->image_id;
}

guint
ss_cell_item_get_image_index (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), 0);
  return self->image_index;
}

const SsBox *
ss_cell_item_get_box (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), NULL);
  return &self->cell->box;
}

int
ss_cell_item_get_cell_class (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), SS_CLASS_OTHER);
  return self->cell->current_class;
}

double
ss_cell_item_get_confidence (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), 0);
  return self->cell->confidence;
}

gboolean
ss_cell_item_get_reviewed (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), FALSE);
  return self->cell->reviewed;
}

gboolean
ss_cell_item_get_deleted (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), FALSE);
  return self->cell->deleted;
}

gboolean
ss_cell_item_get_unsure (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), FALSE);
  return ss_cell_is_unsure (self->cell, self->unsure_below);
}

const char *
ss_cell_item_doubt_phrase (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), NULL);
  switch (ss_cell_item_shown_doubt (self))
    {
    case SS_DOUBT_CAMERA_UNLIKE:
      /* TRANSLATORS: why a call is unsure, on a gallery tile: the field's cells look
       * unlike any camera the cell-type model learned */
      return _("camera new to the model");
    case SS_DOUBT_NUCLEUS_NOT_ROUND:
      return _("nucleus not round");
    case SS_DOUBT_LARGE_FOR_LYMPHOCYTE:
      /* TRANSLATORS: why a lymphocyte call is unsure, on a gallery tile */
      return _("large for a lymphocyte");
    case SS_DOUBT_TOO_SMALL:
      /* TRANSLATORS: why an object is called "not a cell", on a gallery tile */
      return _("too small for a white cell");
    default:
      return NULL;
    }
}

static const char *
camera_sentence (void)
{
  /* TRANSLATORS: why a call is unsure, in a gallery tile's tooltip */
  return _("Unsure: the cells of this field look unlike those of every camera the "
           "cell-type model learned, so its calls may be wrong whatever their "
           "confidence. Check the type; the lab can teach the model its camera "
           "(Improve the Model).");
}

static const char *
doubt_sentence (SsCellItem *self)
{
  switch (ss_cell_item_shown_doubt (self))
    {
    case SS_DOUBT_CAMERA_UNLIKE:
      return camera_sentence ();
    case SS_DOUBT_NUCLEUS_NOT_ROUND:
      /* TRANSLATORS: why a confident lymphocyte call is marked unsure, in a gallery
       * tile's tooltip */
      return _("Unsure: its nucleus is not round, as a lymphocyte's is. Check the type.");
    case SS_DOUBT_LARGE_FOR_LYMPHOCYTE:
      /* TRANSLATORS: why a confident lymphocyte call is marked unsure, in a gallery
       * tile's tooltip */
      return _("Unsure: larger than a lymphocyte is at this field's scale, as a monocyte "
               "is. Check the type.");
    case SS_DOUBT_TOO_SMALL:
      /* TRANSLATORS: why an object the model called a white cell is called "not a cell",
       * in a gallery tile's tooltip */
      return _("Not counted: far smaller than a white cell at this field's scale (a "
               "platelet clump or a fragment?). If it is a white cell, give it its type.");
    default:
      return NULL;
    }
}

char *
ss_cell_item_dup_doubt_sentence (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), NULL);
  const char *sentence = doubt_sentence (self);
  if (sentence == NULL)
    return NULL;
  if (ss_cell_item_camera_doubt_too (self))
    /* the cell's own doubt, then its camera's, each its own sentence */
    return g_strconcat (sentence, "\n", camera_sentence (), NULL);
  return g_strdup (sentence);
}

gboolean
ss_cell_item_get_typed (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), FALSE);
  return ss_cell_is_typed (self->cell);
}

gboolean
ss_cell_item_get_by_size (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), FALSE);
  /* and not relabelled since: a person's class is not the size's */
  return ss_cell_called_by_size (self->cell)
         && self->cell->current_class == self->cell->predicted_class;
}

/* The cell's label; mark_unsure: with a "?" after the class while the model's call is
 * unsure and not reviewed */
static char *
ss_cell_item_label (SsCellItem *self,
                    gboolean    mark_unsure)
{
  const char *name = ss_cell_class_display_name (self->cell->current_class);
  if (self->cell->user_drawn || self->cell->current_class != self->cell->predicted_class)
    return g_strdup (name);
  if (!ss_cell_item_get_typed (self))
    /* TRANSLATORS: the label of a cell no cell-type model classified, e.g. "Other, not typed" */
    return g_strdup_printf (_("%s, not typed"), name);
  if (ss_cell_item_get_by_size (self))
    /* TRANSLATORS: the label of an object the analysis called "Not a cell" by its size,
     * not by the model: "Not a cell, by its size" */
    return g_strdup_printf (_("%s, by its size"), name);
  int percent = (int) (100.0 * self->cell->confidence + 0.5);
  if (mark_unsure && !ss_cell_item_get_reviewed (self) && ss_cell_item_get_unsure (self))
    /* TRANSLATORS: the label on the field of a cell the model is unsure of, e.g.
     * "Lymphocyte? 100%" */
    return g_strdup_printf (_("%s? %d%%"), name, percent);
  /* TRANSLATORS: a cell's class and the model's confidence, e.g. "Neutrophil 97%" */
  return g_strdup_printf (_("%s %d%%"), name, percent);
}

char *
ss_cell_item_dup_label (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), NULL);
  return ss_cell_item_label (self, FALSE);
}

char *
ss_cell_item_dup_field_label (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), NULL);
  /* a bare "100%" on the field would read as sure (the gallery and the tooltip say why
   * the cell is unsure) */
  return ss_cell_item_label (self, TRUE);
}

double
ss_cell_item_get_nc_ratio (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), 0);
  return self->cell->morphometrics.nc_ratio;
}

GdkTexture *
ss_cell_item_get_crop (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), NULL);
  return self->crop;
}

void
ss_cell_item_set_crop (SsCellItem *self,
                       GdkTexture *crop)
{
  g_return_if_fail (SS_IS_CELL_ITEM (self));
  g_set_object (&self->crop, crop);
}

void
ss_cell_item_set_cell_class (SsCellItem *self,
                             int         cell_class)
{
  g_return_if_fail (SS_IS_CELL_ITEM (self));
  g_return_if_fail (cell_class >= 0 && cell_class < SS_N_CLASSES);

  if (self->cell->current_class == cell_class)
    return;
  self->cell->current_class = cell_class;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CELL_CLASS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LABEL]);
}

gint64
ss_cell_item_get_version (SsCellItem *self)
{
  g_return_val_if_fail (SS_IS_CELL_ITEM (self), 0);

  return self->cell->version;
}

void
ss_cell_item_set_version (SsCellItem *self,
                          gint64      version)
{
  g_return_if_fail (SS_IS_CELL_ITEM (self));

  self->cell->version = version;
}

void
ss_cell_item_set_reviewed (SsCellItem *self,
                           gboolean    reviewed)
{
  g_return_if_fail (SS_IS_CELL_ITEM (self));

  reviewed = !!reviewed;
  if (self->cell->reviewed == reviewed)
    return;
  gboolean was_unsure = ss_cell_item_get_unsure (self);
  self->cell->reviewed = reviewed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REVIEWED]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE_TEXT]);
  if (was_unsure != ss_cell_item_get_unsure (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNSURE]);
}

void
ss_cell_item_set_deleted (SsCellItem *self,
                          gboolean    deleted)
{
  g_return_if_fail (SS_IS_CELL_ITEM (self));

  deleted = !!deleted;
  if (self->cell->deleted == deleted)
    return;
  self->cell->deleted = deleted;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DELETED]);
}

void
ss_cell_item_set_unsure_below (SsCellItem *self,
                               double      unsure_below)
{
  g_return_if_fail (SS_IS_CELL_ITEM (self));

  gboolean was_unsure = ss_cell_item_get_unsure (self);
  self->unsure_below = unsure_below;
  if (was_unsure != ss_cell_item_get_unsure (self))
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNSURE]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE_TEXT]);
    }
}

const char *
ss_cell_class_display_name (int cell_class)
{
  return ss_class_display_name (cell_class);
}

void
ss_cell_class_color (int      cell_class,
                     GdkRGBA *color)
{
  /* Distinct at a glance on pink-and-purple stained fields, and for common colour
   * blindness: no red/green pair carries meaning alone (labels say the class). */
  static const char *const colors[SS_N_CLASSES] = {
    "#e01b24", /* lymphoblast: the one that raises the flag */
    "#1c71d8", /* lymphocyte */
    "#26a269", /* neutrophil */
    "#e66100", /* monocyte */
    "#c061cb", /* eosinophil */
    "#0e7c86", /* basophil */
    "#9a9996", /* other */
    "#5e5c64", /* not a cell */
  };
  if (cell_class < 0 || cell_class >= SS_N_CLASSES)
    cell_class = SS_CLASS_OTHER;
  gdk_rgba_parse (color, colors[cell_class]);
}
