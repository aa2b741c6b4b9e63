/* What the reviewer is looking at: field, zoom, selection, overlay layers. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-viewer-state.h"

struct _SsViewerState
{
  GObject     parent_instance;

  guint       image_index;
  double      scale;
  double      dim_below;
  SsCellItem *current;
  SsCellItem *hover;
  GPtrArray  *selection;   /* SsCellItem, owned; the current cell first when set */
  guint       fit : 1;
  guint       show_boxes : 1;
  guint       show_outlines : 1;
  guint       show_labels : 1;
  guint       show_truth : 1;
};

G_DEFINE_FINAL_TYPE (SsViewerState, ss_viewer_state, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_IMAGE_INDEX,
  PROP_SCALE,
  PROP_FIT,
  PROP_CURRENT,
  PROP_HOVER,
  PROP_SHOW_BOXES,
  PROP_SHOW_OUTLINES,
  PROP_SHOW_LABELS,
  PROP_SHOW_TRUTH,
  PROP_DIM_BELOW,
  N_PROPS
};

enum {
  SELECTION_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
ss_viewer_state_set_flag (SsViewerState *self,
                          guint          prop_id,
                          gboolean       value)
{
  value = !!value;
  switch (prop_id)
    {
    case PROP_FIT:
      if (self->fit == value)
        return;
      self->fit = value;
      break;
    case PROP_SHOW_BOXES:
      if (self->show_boxes == value)
        return;
      self->show_boxes = value;
      break;
    case PROP_SHOW_OUTLINES:
      if (self->show_outlines == value)
        return;
      self->show_outlines = value;
      break;
    case PROP_SHOW_LABELS:
      if (self->show_labels == value)
        return;
      self->show_labels = value;
      break;
    case PROP_SHOW_TRUTH:
      if (self->show_truth == value)
        return;
      self->show_truth = value;
      break;
    default:
      g_assert_not_reached ();
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static void
ss_viewer_state_finalize (GObject *object)
{
  SsViewerState *self = SS_VIEWER_STATE (object);

  g_clear_object (&self->current);
  g_clear_object (&self->hover);
  g_clear_pointer (&self->selection, g_ptr_array_unref);

  G_OBJECT_CLASS (ss_viewer_state_parent_class)->finalize (object);
}

static void
ss_viewer_state_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SsViewerState *self = SS_VIEWER_STATE (object);

  switch (prop_id)
    {
    case PROP_IMAGE_INDEX:
      g_value_set_uint (value, self->image_index);
      break;
    case PROP_SCALE:
      g_value_set_double (value, self->scale);
      break;
    case PROP_FIT:
      g_value_set_boolean (value, self->fit);
      break;
    case PROP_CURRENT:
      g_value_set_object (value, self->current);
      break;
    case PROP_HOVER:
      g_value_set_object (value, self->hover);
      break;
    case PROP_SHOW_BOXES:
      g_value_set_boolean (value, self->show_boxes);
      break;
    case PROP_SHOW_OUTLINES:
      g_value_set_boolean (value, self->show_outlines);
      break;
    case PROP_SHOW_LABELS:
      g_value_set_boolean (value, self->show_labels);
      break;
    case PROP_SHOW_TRUTH:
      g_value_set_boolean (value, self->show_truth);
      break;
    case PROP_DIM_BELOW:
      g_value_set_double (value, self->dim_below);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_viewer_state_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  SsViewerState *self = SS_VIEWER_STATE (object);

  switch (prop_id)
    {
    case PROP_IMAGE_INDEX:
      ss_viewer_state_set_image_index (self, g_value_get_uint (value));
      break;
    case PROP_SCALE:
      ss_viewer_state_set_scale (self, g_value_get_double (value));
      break;
    case PROP_FIT:
    case PROP_SHOW_BOXES:
    case PROP_SHOW_OUTLINES:
    case PROP_SHOW_LABELS:
    case PROP_SHOW_TRUTH:
      ss_viewer_state_set_flag (self, prop_id, g_value_get_boolean (value));
      break;
    case PROP_CURRENT:
      ss_viewer_state_set_current (self, g_value_get_object (value), FALSE);
      break;
    case PROP_HOVER:
      ss_viewer_state_set_hover (self, g_value_get_object (value));
      break;
    case PROP_DIM_BELOW:
      if (self->dim_below != g_value_get_double (value))
        {
          self->dim_below = g_value_get_double (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_viewer_state_class_init (SsViewerStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ss_viewer_state_finalize;
  object_class->get_property = ss_viewer_state_get_property;
  object_class->set_property = ss_viewer_state_set_property;

  properties[PROP_IMAGE_INDEX] =
    g_param_spec_uint ("image-index", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SCALE] =
    g_param_spec_double ("scale", NULL, NULL, SS_VIEWER_MIN_SCALE, SS_VIEWER_MAX_SCALE, 1.0,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_FIT] =
    g_param_spec_boolean ("fit", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CURRENT] =
    g_param_spec_object ("current", NULL, NULL, SS_TYPE_CELL_ITEM,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_HOVER] =
    g_param_spec_object ("hover", NULL, NULL, SS_TYPE_CELL_ITEM,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHOW_BOXES] =
    g_param_spec_boolean ("show-boxes", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHOW_OUTLINES] =
    g_param_spec_boolean ("show-outlines", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHOW_LABELS] =
    g_param_spec_boolean ("show-labels", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHOW_TRUTH] =
    g_param_spec_boolean ("show-truth", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_DIM_BELOW] =
    g_param_spec_double ("dim-below", NULL, NULL, 0, 1, 0,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SELECTION_CHANGED] =
    g_signal_new ("selection-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ss_viewer_state_init (SsViewerState *self)
{
  self->scale = 1.0;
  self->fit = TRUE;
  self->show_boxes = TRUE;
  self->show_outlines = TRUE;
  self->show_labels = TRUE;
  self->show_truth = TRUE;
  self->selection = g_ptr_array_new_with_free_func (g_object_unref);
}

SsViewerState *
ss_viewer_state_new (void)
{
  return g_object_new (SS_TYPE_VIEWER_STATE, NULL);
}

guint
ss_viewer_state_get_image_index (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), 0);
  return self->image_index;
}

void
ss_viewer_state_set_image_index (SsViewerState *self,
                                 guint          index)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));

  if (self->image_index == index)
    return;
  self->image_index = index;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_INDEX]);
}

double
ss_viewer_state_get_scale (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), 1.0);
  return self->scale;
}

void
ss_viewer_state_set_scale (SsViewerState *self,
                           double         scale)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));

  scale = CLAMP (scale, SS_VIEWER_MIN_SCALE, SS_VIEWER_MAX_SCALE);
  if (self->scale == scale)
    return;
  self->scale = scale;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
}

gboolean
ss_viewer_state_get_fit (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), TRUE);
  return self->fit;
}

void
ss_viewer_state_set_fit (SsViewerState *self,
                         gboolean       fit)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));
  ss_viewer_state_set_flag (self, PROP_FIT, fit);
}

void
ss_viewer_state_zoom (SsViewerState *self,
                      double         factor)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));
  g_return_if_fail (factor > 0);

  ss_viewer_state_set_fit (self, FALSE);
  ss_viewer_state_set_scale (self, self->scale * factor);
}

SsCellItem *
ss_viewer_state_get_current (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), NULL);
  return self->current;
}

void
ss_viewer_state_set_current (SsViewerState *self,
                             SsCellItem    *item,
                             gboolean       extend)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));
  g_return_if_fail (item == NULL || SS_IS_CELL_ITEM (item));

  gboolean selection_changed = FALSE;

  if (!extend)
    {
      gboolean same = item != NULL ? (self->selection->len == 1 && self->selection->pdata[0] == item)
                                   : self->selection->len == 0;
      if (!same)
        {
          g_ptr_array_set_size (self->selection, 0);
          if (item != NULL)
            g_ptr_array_add (self->selection, g_object_ref (item));
          selection_changed = TRUE;
        }
    }
  else if (item != NULL)
    {
      guint pos;
      if (g_ptr_array_find (self->selection, item, &pos))
        g_ptr_array_remove_index (self->selection, pos);
      g_ptr_array_insert (self->selection, 0, g_object_ref (item));
      selection_changed = TRUE;
    }

  if (item != NULL)
    ss_viewer_state_set_image_index (self, ss_cell_item_get_image_index (item));

  if (g_set_object (&self->current, item))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT]);
  if (selection_changed)
    g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

gboolean
ss_viewer_state_get_show_boxes (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), TRUE);
  return self->show_boxes;
}

gboolean
ss_viewer_state_get_show_outlines (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), TRUE);
  return self->show_outlines;
}

gboolean
ss_viewer_state_get_show_labels (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), TRUE);
  return self->show_labels;
}

gboolean
ss_viewer_state_get_show_truth (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), TRUE);
  return self->show_truth;
}

double
ss_viewer_state_get_dim_below (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), 0);
  return self->dim_below;
}

SsCellItem *
ss_viewer_state_get_hover (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), NULL);
  return self->hover;
}

void
ss_viewer_state_set_hover (SsViewerState *self,
                           SsCellItem    *item)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));

  if (g_set_object (&self->hover, item))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOVER]);
}

gboolean
ss_viewer_state_is_selected (SsViewerState *self,
                             SsCellItem    *item)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), FALSE);
  return g_ptr_array_find (self->selection, item, NULL);
}

void
ss_viewer_state_select (SsViewerState *self,
                        SsCellItem    *item,
                        gboolean       selected)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));
  g_return_if_fail (SS_IS_CELL_ITEM (item));

  guint pos;
  gboolean found = g_ptr_array_find (self->selection, item, &pos);

  if (selected == found)
    return;
  if (selected)
    g_ptr_array_add (self->selection, g_object_ref (item));
  else
    {
      g_ptr_array_remove_index (self->selection, pos);
      if (self->current == item)
        {
          g_clear_object (&self->current);
          if (self->selection->len > 0)
            self->current = g_object_ref (self->selection->pdata[0]);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT]);
        }
    }
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

void
ss_viewer_state_select_only (SsViewerState *self,
                             SsCellItem   **items,
                             guint          n_items)
{
  g_return_if_fail (SS_IS_VIEWER_STATE (self));

  g_ptr_array_set_size (self->selection, 0);
  for (guint i = 0; i < n_items; i++)
    g_ptr_array_add (self->selection, g_object_ref (items[i]));

  SsCellItem *current = n_items > 0 ? items[0] : NULL;
  if (current != NULL)
    ss_viewer_state_set_image_index (self, ss_cell_item_get_image_index (current));
  if (g_set_object (&self->current, current))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT]);
  g_signal_emit (self, signals[SELECTION_CHANGED], 0);
}

void
ss_viewer_state_clear_selection (SsViewerState *self)
{
  ss_viewer_state_select_only (self, NULL, 0);
}

GPtrArray *
ss_viewer_state_get_selection (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), NULL);

  GPtrArray *out = g_ptr_array_new_full (self->selection->len, NULL);
  if (self->current != NULL)
    g_ptr_array_add (out, self->current);
  for (guint i = 0; i < self->selection->len; i++)
    if (self->selection->pdata[i] != self->current)
      g_ptr_array_add (out, self->selection->pdata[i]);
  return out;
}

guint
ss_viewer_state_get_n_selected (SsViewerState *self)
{
  g_return_val_if_fail (SS_IS_VIEWER_STATE (self), 0);
  return self->selection->len;
}
