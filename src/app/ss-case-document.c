/* An open case: fields, cells, counts, the review queue and undo/redo. The store is
 * written first; the items follow only what the store kept. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "ss-case-document.h"
#include "ss-background.h"
#include "ss-metrics.h"
#include "ss-store-analysis.h"

/* How many decoded fields are kept: enough to move back and forth between neighbours
 * without holding a whole case of 2592 x 1944 fields in memory. */
#define SS_FIELD_CACHE 6

typedef enum {
  STEP_RELABEL,
  STEP_CONFIRM,
  STEP_DELETE,
  STEP_ADD,
} StepKind;

/* One undoable action: the same change to several cells, each its own correction. */
typedef struct {
  StepKind   kind;
  int        new_class;
  GPtrArray *items;        /* SsCellItem, owned */
  GArray    *corrections;  /* gint64 per item applied, in order */
} Step;

typedef struct {
  guint       index;
  SsImage    *image;
  GdkPixbuf  *pixbuf;
} Field;

struct _SsCaseDocument
{
  GObject      parent_instance;

  SsStore     *store;
  SsCase      *info;
  char        *user;
  GPtrArray   *images;        /* SsImageRecord, without their cells */
  GListStore  *cells;         /* SsCellItem, living */
  GPtrArray   *image_cells;   /* GListStore per field */
  GPtrArray   *image_truth;   /* per field, a GPtrArray of its SsTruthCell (imported) */
  guint        n_truth_cells;
  GHashTable  *by_id;         /* cell id -> SsCellItem, deleted ones too */
  GQueue       undo_stack;    /* Step, newest at the head */
  GQueue       redo_stack;
  GQueue       fields;        /* Field, most recently used first */
  GHashTable  *fields_loading; /* field index: decoding in a worker thread */
  GHashTable  *fields_failed;  /* field index: its file could not be read */
  SsClassifier *classifier;

  int          counts[SS_N_CLASSES];
  guint        n_unreviewed;
  guint        n_unsure;
  double       blast_threshold;
  double       unsure_below;
  GSource     *watch;         /* the other stations' changes of this case */
  gint64       heard_up_to;   /* the last correction of the case taken in */
};

G_DEFINE_FINAL_TYPE (SsCaseDocument, ss_case_document, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_READ_ONLY,
  PROP_N_CELLS,
  PROP_N_UNREVIEWED,
  PROP_N_UNSURE,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  PROP_N_IMAGES,
  PROP_BLAST_THRESHOLD,
  PROP_UNSURE_BELOW,
  N_PROPS
};

enum {
  COUNTS_CHANGED,
  CELL_CHANGED,
  FIELD_LOADED,
  IMAGES_CHANGED,
  STORE_FAILED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
step_free (Step *step)
{
  g_ptr_array_unref (step->items);
  g_array_unref (step->corrections);
  g_free (step);
}

static Step *
step_new (StepKind     kind,
          int          new_class,
          SsCellItem **items,
          guint        n_items)
{
  Step *step = g_new0 (Step, 1);
  step->kind = kind;
  step->new_class = new_class;
  step->items = g_ptr_array_new_full (n_items, g_object_unref);
  for (guint i = 0; i < n_items; i++)
    g_ptr_array_add (step->items, g_object_ref (items[i]));
  step->corrections = g_array_new (FALSE, FALSE, sizeof (gint64));
  return step;
}

static void
field_free (Field *field)
{
  g_clear_pointer (&field->image, ss_image_free);
  g_clear_object (&field->pixbuf);
  g_free (field);
}

/* What one cell contributes to the tallies, added (sign 1) or taken away (sign -1). */
static void
ss_case_document_tally (SsCaseDocument *self,
                        SsCellItem     *item,
                        int             sign)
{
  if (ss_cell_item_get_deleted (item))
    return;
  self->counts[ss_cell_item_get_cell_class (item)] += sign;
  if (!ss_cell_item_get_reviewed (item))
    self->n_unreviewed += sign;
  if (ss_cell_item_get_unsure (item))
    self->n_unsure += sign;
}

static void
ss_case_document_notify_tallies (SsCaseDocument *self,
                                 guint           old_cells,
                                 guint           old_unreviewed,
                                 guint           old_unsure)
{
  if (old_cells != ss_case_document_get_n_cells (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CELLS]);
  if (old_unreviewed != self->n_unreviewed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNREVIEWED]);
  if (old_unsure != self->n_unsure)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNSURE]);
  g_signal_emit (self, signals[COUNTS_CHANGED], 0);
}

static gboolean
list_store_remove_item (GListStore *store,
                        gpointer    item)
{
  guint pos;
  if (!g_list_store_find (store, item, &pos))
    return FALSE;
  g_list_store_remove (store, pos);
  return TRUE;
}

/* Put the item back into the models where its id orders it (cells are stored in
 * order, so ids sort them as the case was opened). */
static void
list_store_insert_by_id (GListStore *store,
                         SsCellItem *item)
{
  guint lo = 0, hi = g_list_model_get_n_items (G_LIST_MODEL (store));
  gint64 id = ss_cell_item_get_id (item);
  while (lo < hi)
    {
      guint mid = (lo + hi) / 2;
      g_autoptr (SsCellItem) other = g_list_model_get_item (G_LIST_MODEL (store), mid);
      if (ss_cell_item_get_id (other) < id)
        lo = mid + 1;
      else
        hi = mid;
    }
  g_list_store_insert (store, lo, item);
}

/* Make the item and the models say what the store says of its cell. */
static void
ss_case_document_take_stored (SsCaseDocument *self,
                              SsCellItem     *item,
                              const SsCell   *stored)
{
  ss_cell_item_set_version (item, stored->version);
  gboolean was_deleted = ss_cell_item_get_deleted (item);
  ss_case_document_tally (self, item, -1);
  ss_cell_item_set_deleted (item, stored->deleted);
  ss_cell_item_set_cell_class (item, stored->current_class);
  ss_cell_item_set_reviewed (item, stored->reviewed);
  ss_case_document_tally (self, item, +1);

  if (was_deleted != stored->deleted)
    {
      GListStore *field = g_ptr_array_index (self->image_cells, ss_cell_item_get_image_index (item));
      if (stored->deleted)
        {
          list_store_remove_item (self->cells, item);
          list_store_remove_item (field, item);
        }
      else
        {
          list_store_insert_by_id (self->cells, item);
          list_store_insert_by_id (field, item);
        }
    }
  g_signal_emit (self, signals[CELL_CHANGED], 0, item);
}

/* A cell new to the document (drawn here, or at another station) as an item of field
 * index, in the models where its id orders it; the cell moves into the item. */
static SsCellItem *
ss_case_document_adopt_cell (SsCaseDocument *self,
                             SsCell         *cell,
                             guint           index,
                             gint64          image_id)
{
  SsCellItem *item = ss_cell_item_new (cell, index, image_id);
  ss_cell_item_set_unsure_below (item, self->unsure_below);
  g_hash_table_insert (self->by_id, &((SsCell *) ss_cell_item_get_cell (item))->id, item);
  ss_case_document_tally (self, item, +1);
  if (!cell->deleted)
    {
      list_store_insert_by_id (self->cells, item);
      list_store_insert_by_id (self->image_cells->pdata[index], item);
    }
  g_signal_emit (self, signals[CELL_CHANGED], 0, item);
  return item;
}

/* The field showing image_id, or -1 when the document does not have it (an image
 * another station added since the case was opened). */
static int
ss_case_document_field_of_image (SsCaseDocument *self,
                                 gint64          image_id)
{
  for (guint i = 0; i < self->images->len; i++)
    if (((SsImageRecord *) self->images->pdata[i])->id == image_id)
      return (int) i;
  return -1;
}

/* The store has changed this cell: read it back. */
static gboolean
ss_case_document_refresh_cell (SsCaseDocument *self,
                               SsCellItem     *item,
                               GError        **error)
{
  g_autoptr (SsCell) stored = ss_store_get_cell (self->store, ss_cell_item_get_id (item), error);
  if (stored == NULL)
    return FALSE;
  ss_case_document_take_stored (self, item, stored);
  return TRUE;
}

static gboolean ss_case_document_take_image (SsCaseDocument *self,
                                             SsImageRecord  *record,
                                             GError        **error);

/* Take in the images the store has of the case and the document not yet */
static gboolean
ss_case_document_take_new_images (SsCaseDocument *self,
                                  GError        **error)
{
  g_autoptr (GPtrArray) images = ss_store_list_images (self->store, self->info->accession,
                                                       FALSE, error);
  if (images == NULL)
    return FALSE;
  guint before = self->images->len;
  for (guint i = 0; i < images->len; i++)
    {
      SsImageRecord *record = images->pdata[i];
      if (ss_case_document_field_of_image (self, record->id) >= 0)
        continue;
      record->cells = ss_store_list_image_cells (self->store, record->id, error);
      if (record->cells == NULL)
        return FALSE;
      /* taken by the document, freed by it even when it fails */
      images->pdata[i] = NULL;
      if (!ss_case_document_take_image (self, record, error))
        return FALSE;
    }
  if (self->images->len != before)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_IMAGES]);
      g_signal_emit (self, signals[IMAGES_CHANGED], 0);
    }
  return TRUE;
}

/* Read the case's status and the cells corrected since the last look again, and show
 * what another station changed: only the cells whose version moved are touched, so a
 * case of 100,000 cells costs a few rows, not a reread. */
static gboolean
ss_case_document_reload_cells (SsCaseDocument *self,
                               GError        **error)
{
  guint old_cells = ss_case_document_get_n_cells (self);
  guint old_unreviewed = self->n_unreviewed, old_unsure = self->n_unsure;
  gboolean read_only = ss_case_document_get_read_only (self);
  g_autoptr (SsCase) info = ss_store_get_case (self->store, self->info->accession, error);
  if (info == NULL)
    return FALSE;
  ss_case_free (self->info);
  self->info = g_steal_pointer (&info);
  if (read_only != ss_case_document_get_read_only (self))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READ_ONLY]);
  /* fields another station analysed into the case, with their cells as they are now */
  if ((guint) self->info->n_images > self->images->len
      && !ss_case_document_take_new_images (self, error))
    {
      ss_case_document_notify_tallies (self, old_cells, old_unreviewed, old_unsure);
      return FALSE;
    }
  g_autoptr (GPtrArray) corrections = ss_store_list_corrections_since (self->store,
                                                                      self->info->accession,
                                                                      self->heard_up_to, error);
  if (corrections == NULL)
    return FALSE;
  for (guint i = 0; i < corrections->len; i++)
    {
      const SsCorrection *correction = corrections->pdata[i];
      SsCellItem *item = g_hash_table_lookup (self->by_id, &correction->cell_id);
      int field = ss_case_document_field_of_image (self, correction->image_id);
      if (item == NULL && field < 0)
        {
          self->heard_up_to = MAX (self->heard_up_to, correction->id);
          continue;
        }
      g_autoptr (SsCell) stored = ss_store_get_cell (self->store, correction->cell_id, error);
      if (stored == NULL)
        {
          /* the changes taken in before this one are counted and shown all the same */
          ss_case_document_notify_tallies (self, old_cells, old_unreviewed, old_unsure);
          return FALSE;
        }
      self->heard_up_to = MAX (self->heard_up_to, correction->id);
      if (item == NULL)
        /* a cell drawn at another station: its "add" is its first correction */
        ss_case_document_adopt_cell (self, g_steal_pointer (&stored), field,
                                     correction->image_id);
      else if (ss_cell_item_get_version (item) != stored->version)
        ss_case_document_take_stored (self, item, stored);
    }
  ss_case_document_notify_tallies (self, old_cells, old_unreviewed, old_unsure);
  return TRUE;
}

static gboolean
ss_case_document_heard (gpointer data)
{
  SsCaseDocument *self = data;
  g_autoptr (GError) error = NULL;
  if (!ss_case_document_reload_cells (self, &error))
    {
      g_message ("reloading case %s after another station's change: %s",
                 self->info->accession, error->message);
      g_signal_emit (self, signals[STORE_FAILED], 0, error);
    }
  return G_SOURCE_CONTINUE;
}

static void
ss_case_document_finalize (GObject *object)
{
  SsCaseDocument *self = SS_CASE_DOCUMENT (object);

  if (self->watch != NULL)
    g_source_destroy (self->watch);
  g_clear_pointer (&self->watch, g_source_unref);
  g_queue_clear_full (&self->undo_stack, (GDestroyNotify) step_free);
  g_queue_clear_full (&self->redo_stack, (GDestroyNotify) step_free);
  g_queue_clear_full (&self->fields, (GDestroyNotify) field_free);
  g_clear_pointer (&self->fields_loading, g_hash_table_unref);
  g_clear_pointer (&self->fields_failed, g_hash_table_unref);
  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_clear_pointer (&self->image_cells, g_ptr_array_unref);
  g_clear_pointer (&self->image_truth, g_ptr_array_unref);
  g_clear_object (&self->cells);
  g_clear_pointer (&self->images, g_ptr_array_unref);
  g_clear_pointer (&self->info, ss_case_free);
  g_clear_pointer (&self->user, g_free);
  g_clear_pointer (&self->classifier, ss_classifier_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (ss_case_document_parent_class)->finalize (object);
}

static void
ss_case_document_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  SsCaseDocument *self = SS_CASE_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_READ_ONLY:
      g_value_set_boolean (value, ss_case_document_get_read_only (self));
      break;
    case PROP_N_CELLS:
      g_value_set_uint (value, ss_case_document_get_n_cells (self));
      break;
    case PROP_N_UNREVIEWED:
      g_value_set_uint (value, self->n_unreviewed);
      break;
    case PROP_N_UNSURE:
      g_value_set_uint (value, self->n_unsure);
      break;
    case PROP_CAN_UNDO:
      g_value_set_boolean (value, ss_case_document_get_can_undo (self));
      break;
    case PROP_CAN_REDO:
      g_value_set_boolean (value, ss_case_document_get_can_redo (self));
      break;
    case PROP_N_IMAGES:
      g_value_set_uint (value, self->images->len);
      break;
    case PROP_BLAST_THRESHOLD:
      g_value_set_double (value, self->blast_threshold);
      break;
    case PROP_UNSURE_BELOW:
      g_value_set_double (value, self->unsure_below);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_case_document_class_init (SsCaseDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ss_case_document_finalize;
  object_class->get_property = ss_case_document_get_property;

  properties[PROP_READ_ONLY] =
    g_param_spec_boolean ("read-only", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_CELLS] =
    g_param_spec_uint ("n-cells", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_UNREVIEWED] =
    g_param_spec_uint ("n-unreviewed", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_UNSURE] =
    g_param_spec_uint ("n-unsure", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_N_IMAGES] =
    g_param_spec_uint ("n-images", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_BLAST_THRESHOLD] =
    g_param_spec_double ("blast-threshold", NULL, NULL, 0, 100, SS_BLAST_THRESHOLD_DEFAULT,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_UNSURE_BELOW] =
    g_param_spec_double ("unsure-below", NULL, NULL, 0, 1, 0.9,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[COUNTS_CHANGED] =
    g_signal_new ("counts-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CELL_CHANGED] =
    g_signal_new ("cell-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, SS_TYPE_CELL_ITEM);
  signals[FIELD_LOADED] =
    g_signal_new ("field-loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[IMAGES_CHANGED] =
    g_signal_new ("images-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  /* reading another station's change failed (the server away, say): the error */
  signals[STORE_FAILED] =
    g_signal_new ("store-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

static void
ss_case_document_init (SsCaseDocument *self)
{
  self->cells = g_list_store_new (SS_TYPE_CELL_ITEM);
  self->image_cells = g_ptr_array_new_with_free_func (g_object_unref);
  self->image_truth = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_object_unref);
  self->images = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_image_record_free);
  self->fields_loading = g_hash_table_new (NULL, NULL);
  self->fields_failed = g_hash_table_new (NULL, NULL);
  self->blast_threshold = SS_BLAST_THRESHOLD_DEFAULT;
  self->unsure_below = 0.9;
}

static int
compare_items_by_id (gconstpointer a,
                     gconstpointer b)
{
  gint64 ia = ss_cell_item_get_id (*(SsCellItem **) a);
  gint64 ib = ss_cell_item_get_id (*(SsCellItem **) b);
  return ia < ib ? -1 : ia > ib;
}

/* Take a stored image with its cells into the models; the record's cells move into the
 * items. The image's truth cells are read with it: one indexed query, which finds
 * nothing at once for an image without truth. */
static gboolean
ss_case_document_take_image (SsCaseDocument *self,
                             SsImageRecord  *record,
                             GError        **error)
{
  GPtrArray *truth = ss_store_list_truth (self->store, record->id, error);
  if (truth == NULL)
    {
      ss_image_record_free (record);
      return FALSE;
    }
  g_ptr_array_add (self->image_truth, truth);
  self->n_truth_cells += truth->len;

  guint index = self->images->len;
  g_autoptr (GPtrArray) living = g_ptr_array_new_with_free_func (g_object_unref);
  GListStore *field = g_list_store_new (SS_TYPE_CELL_ITEM);

  if (record->cells != NULL)
    {
      while (record->cells->len > 0)
        {
          SsCell *cell = g_ptr_array_steal_index_fast (record->cells, record->cells->len - 1);
          SsCellItem *item = ss_cell_item_new (cell, index, record->id);
          ss_cell_item_set_unsure_below (item, self->unsure_below);
          g_hash_table_insert (self->by_id, &((SsCell *) ss_cell_item_get_cell (item))->id, item);
          ss_case_document_tally (self, item, +1);
          if (!cell->deleted)
            g_ptr_array_add (living, g_object_ref (item));
        }
      g_clear_pointer (&record->cells, g_ptr_array_unref);
    }
  /* ids order the cells as they were stored; taking them from the end reversed them */
  g_ptr_array_sort (living, compare_items_by_id);
  g_list_store_splice (field, 0, 0, living->pdata, living->len);
  g_list_store_splice (self->cells, g_list_model_get_n_items (G_LIST_MODEL (self->cells)), 0,
                       living->pdata, living->len);
  g_ptr_array_add (self->image_cells, field);
  g_ptr_array_add (self->images, record);
  return TRUE;
}

SsCaseDocument *
ss_case_document_open (SsStore    *store,
                       const char *accession,
                       const char *user,
                       GError    **error)
{
  g_return_val_if_fail (SS_IS_STORE (store), NULL);
  g_return_val_if_fail (accession != NULL, NULL);
  g_return_val_if_fail (user != NULL && *user != '\0', NULL);

  g_autoptr (SsCase) info = ss_store_get_case (store, accession, error);
  if (info == NULL)
    return NULL;
  /* before the cells: a correction made while they are read is then heard again */
  g_autoptr (GPtrArray) corrections = ss_store_list_corrections (store, accession, error);
  if (corrections == NULL)
    return NULL;
  gint64 heard_up_to = corrections->len > 0
                       ? ((SsCorrection *) corrections->pdata[corrections->len - 1])->id : 0;
  g_autoptr (GPtrArray) images = ss_store_list_images (store, accession, TRUE, error);
  if (images == NULL)
    return NULL;

  g_autoptr (SsCaseDocument) self = g_object_new (SS_TYPE_CASE_DOCUMENT, NULL);
  self->store = g_object_ref (store);
  self->info = g_steal_pointer (&info);
  self->user = g_strdup (user);
  /* oldest first, as the store lists them */
  while (images->len > 0)
    if (!ss_case_document_take_image (self, g_ptr_array_steal_index (images, 0), error))
      return NULL;
  /* the other stations' corrections show as they are made; a station that cannot
   * watch still works, and sees them when it opens the case again */
  self->heard_up_to = heard_up_to;
  g_autoptr (GError) watch_error = NULL;
  self->watch = ss_store_watch_case (store, accession, &watch_error);
  if (self->watch != NULL)
    {
      g_source_set_callback (self->watch, ss_case_document_heard, self, NULL);
      g_source_attach (self->watch, NULL);
    }
  else
    g_warning ("case %s will not show other stations' changes live: %s", accession,
               watch_error->message);
  return g_steal_pointer (&self);
}

gboolean
ss_case_document_reload (SsCaseDocument *self,
                         GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);
  return ss_case_document_reload_cells (self, error);
}

SsStore *
ss_case_document_get_store (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  return self->store;
}

const SsCase *
ss_case_document_get_case (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  return self->info;
}

const char *
ss_case_document_get_accession (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  return self->info->accession;
}

const char *
ss_case_document_get_user (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  return self->user;
}

gboolean
ss_case_document_get_read_only (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), TRUE);
  return self->info->status == SS_CASE_SIGNED;
}

guint
ss_case_document_get_n_cells (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->cells));
}

guint
ss_case_document_get_n_unreviewed (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), 0);
  return self->n_unreviewed;
}

guint
ss_case_document_get_n_unsure (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), 0);
  return self->n_unsure;
}

gboolean
ss_case_document_get_can_undo (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);
  return !ss_case_document_get_read_only (self) && self->undo_stack.length > 0;
}

gboolean
ss_case_document_get_can_redo (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);
  return !ss_case_document_get_read_only (self) && self->redo_stack.length > 0;
}

void
ss_case_document_set_blast_threshold (SsCaseDocument *self,
                                      double          percent)
{
  g_return_if_fail (SS_IS_CASE_DOCUMENT (self));

  if (self->blast_threshold == percent)
    return;
  self->blast_threshold = percent;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BLAST_THRESHOLD]);
  g_signal_emit (self, signals[COUNTS_CHANGED], 0);
}

void
ss_case_document_set_unsure_below (SsCaseDocument *self,
                                   double          confidence)
{
  g_return_if_fail (SS_IS_CASE_DOCUMENT (self));

  if (self->unsure_below == confidence)
    return;
  guint old_unsure = self->n_unsure;
  GHashTableIter iter;
  gpointer value;
  self->unsure_below = confidence;
  self->n_unsure = 0;
  g_hash_table_iter_init (&iter, self->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ss_cell_item_set_unsure_below (value, confidence);
      if (!ss_cell_item_get_deleted (value) && ss_cell_item_get_unsure (value))
        self->n_unsure++;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNSURE_BELOW]);
  if (old_unsure != self->n_unsure)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_UNSURE]);
}

void
ss_case_document_set_classifier (SsCaseDocument *self,
                                 SsClassifier   *classifier)
{
  g_return_if_fail (SS_IS_CASE_DOCUMENT (self));

  if (classifier != NULL)
    ss_classifier_ref (classifier);
  g_clear_pointer (&self->classifier, ss_classifier_unref);
  self->classifier = classifier;
}

guint
ss_case_document_get_n_images (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), 0);
  return self->images->len;
}

const SsImageRecord *
ss_case_document_get_image (SsCaseDocument *self,
                            guint           index)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < self->images->len, NULL);
  return self->images->pdata[index];
}

static Field *
ss_case_document_find_field (SsCaseDocument *self,
                             guint           index)
{
  for (GList *l = self->fields.head; l != NULL; l = l->next)
    {
      Field *field = l->data;
      if (field->index == index)
        {
          g_queue_unlink (&self->fields, l);
          g_queue_push_head_link (&self->fields, l);
          return field;
        }
    }
  return NULL;
}

static Field *
ss_case_document_keep_field (SsCaseDocument *self,
                             guint           index,
                             SsImage        *image)
{
  const SsImageRecord *record = self->images->pdata[index];
  if (image->width != record->width || image->height != record->height)
    g_warning ("%s is %d x %d now, %d x %d when analysed", record->path, image->width,
               image->height, record->width, record->height);

  Field *field = g_new0 (Field, 1);
  field->index = index;
  field->image = image;
  g_queue_push_head (&self->fields, field);
  while (self->fields.length > SS_FIELD_CACHE)
    field_free (g_queue_pop_tail (&self->fields));
  g_hash_table_remove (self->fields_failed, GUINT_TO_POINTER (index));
  return field;
}

/* The decoded field, from the cache or the file. */
static Field *
ss_case_document_get_field (SsCaseDocument *self,
                            guint           index,
                            GError        **error)
{
  Field *field = ss_case_document_find_field (self, index);
  if (field != NULL)
    return field;

  const SsImageRecord *record = ss_case_document_get_image (self, index);
  g_autoptr (GError) local_error = NULL;
  SsImage *image = ss_image_load (record->path, SS_DEFAULT_MAX_PIXELS, &local_error);
  if (image == NULL)
    {
      g_hash_table_add (self->fields_failed, GUINT_TO_POINTER (index));
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The picture of field %u cannot be shown: %s. Its stored cells and "
                     "counts are unchanged; put the file back at %s to see it again."),
                   index + 1, local_error->message, record->path);
      return NULL;
    }
  return ss_case_document_keep_field (self, index, image);
}

static void
load_field_thread (GTask        *task,
                   gpointer      source,
                   gpointer      task_data,
                   GCancellable *cancellable)
{
  GError *error = NULL;
  SsImage *image = ss_image_load (task_data, SS_DEFAULT_MAX_PIXELS, &error);
  if (image != NULL)
    g_task_return_pointer (task, image, (GDestroyNotify) ss_image_free);
  else
    g_task_return_error (task, error);
}

static void
load_field_done (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SsCaseDocument *self = SS_CASE_DOCUMENT (source);
  guint index = GPOINTER_TO_UINT (user_data);
  SsImage *image = g_task_propagate_pointer (G_TASK (result), NULL);

  g_hash_table_remove (self->fields_loading, GUINT_TO_POINTER (index));
  if (image == NULL)
    g_hash_table_add (self->fields_failed, GUINT_TO_POINTER (index));
  else if (ss_case_document_find_field (self, index) == NULL)
    ss_case_document_keep_field (self, index, image);
  else
    ss_image_free (image);
  g_signal_emit (self, signals[FIELD_LOADED], 0, index);
}

/* Decode a field in a worker thread; "field-loaded" follows, also when it failed. A field
 * already on its way is asked for again only if it is now wanted sooner. */
static void
ss_case_document_load_field_async (SsCaseDocument      *self,
                                   guint                index,
                                   SsBackgroundUrgency  urgency)
{
  gpointer queued = g_hash_table_lookup (self->fields_loading, GUINT_TO_POINTER (index));
  if (queued != NULL && GPOINTER_TO_UINT (queued) - 1 <= urgency)
    return;
  const SsImageRecord *record = self->images->pdata[index];
  g_autoptr (GTask) task = g_task_new (self, NULL, load_field_done, GUINT_TO_POINTER (index));
  g_task_set_source_tag (task, ss_case_document_load_field_async);
  g_task_set_task_data (task, g_strdup (record->path), g_free);
  g_hash_table_insert (self->fields_loading, GUINT_TO_POINTER (index),
                       GUINT_TO_POINTER (urgency + 1));
  ss_background_run (task, urgency, load_field_thread);
}

GdkPixbuf *
ss_case_document_get_field_pixbuf (SsCaseDocument *self,
                                   guint           index,
                                   GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < self->images->len, NULL);

  Field *field = ss_case_document_get_field (self, index, error);
  if (field == NULL)
    return NULL;
  if (field->pixbuf == NULL)
    {
      SsImage *image = field->image;
      g_autoptr (GBytes) bytes = g_bytes_new (image->rgb, (gsize) image->width * image->height * 3);
      field->pixbuf = gdk_pixbuf_new_from_bytes (bytes, GDK_COLORSPACE_RGB, FALSE, 8,
                                                 image->width, image->height, image->width * 3);
    }
  return field->pixbuf;
}

const SsImage *
ss_case_document_get_field_image (SsCaseDocument *self,
                                  guint           index,
                                  GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < self->images->len, NULL);

  Field *field = ss_case_document_get_field (self, index, error);
  return field != NULL ? field->image : NULL;
}

GdkPixbuf *
ss_case_document_try_field_pixbuf (SsCaseDocument *self,
                                   guint           index,
                                   gboolean       *loading)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < self->images->len, NULL);
  g_return_val_if_fail (loading != NULL, NULL);

  *loading = FALSE;
  if (ss_case_document_find_field (self, index) != NULL)
    return ss_case_document_get_field_pixbuf (self, index, NULL);
  if (g_hash_table_contains (self->fields_failed, GUINT_TO_POINTER (index)))
    return NULL;
  ss_case_document_load_field_async (self, index, SS_BACKGROUND_NOW);
  *loading = TRUE;
  return NULL;
}

void
ss_case_document_prefetch_field (SsCaseDocument *self,
                                 guint           index)
{
  g_return_if_fail (SS_IS_CASE_DOCUMENT (self));
  g_return_if_fail (index < self->images->len);

  if (ss_case_document_find_field (self, index) == NULL
      && !g_hash_table_contains (self->fields_failed, GUINT_TO_POINTER (index)))
    ss_case_document_load_field_async (self, index, SS_BACKGROUND_LATER);
}

GListModel *
ss_case_document_get_cells (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  return G_LIST_MODEL (self->cells);
}

GListModel *
ss_case_document_get_image_cells (SsCaseDocument *self,
                                  guint           index)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < self->image_cells->len, NULL);
  return self->image_cells->pdata[index];
}

GPtrArray *
ss_case_document_get_image_truth (SsCaseDocument *self,
                                  guint           index)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < self->image_truth->len, NULL);
  return self->image_truth->pdata[index];
}

guint
ss_case_document_get_n_truth_cells (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), 0);
  return self->n_truth_cells;
}

guint
ss_case_document_count_truth_matched (SsCaseDocument *self,
                                      guint           index,
                                      double          iou_threshold)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), 0);
  g_return_val_if_fail (index < self->image_truth->len, 0);

  GPtrArray *truth = self->image_truth->pdata[index];
  GListModel *cells = self->image_cells->pdata[index];
  guint n_cells = g_list_model_get_n_items (cells);
  if (truth->len == 0 || n_cells == 0)
    return 0;

  g_autofree SsBox *truth_boxes = g_new (SsBox, truth->len);
  g_autofree SsBox *cell_boxes = g_new (SsBox, n_cells);
  g_autofree float *confidence = g_new (float, n_cells);
  for (guint i = 0; i < truth->len; i++)
    truth_boxes[i] = ((const SsTruthCell *) truth->pdata[i])->box;
  for (guint i = 0; i < n_cells; i++)
    {
      g_autoptr (SsCellItem) item = g_list_model_get_item (cells, i);
      cell_boxes[i] = *ss_cell_item_get_box (item);
      confidence[i] = ss_cell_item_get_confidence (item);
    }
  /* the matching evaluate --task detect does: greedy, most confident cell first */
  SsDetectionEval *eval = ss_detection_eval_new (iou_threshold);
  SsDetectionScore score;
  ss_detection_eval_add (eval, truth_boxes, truth->len, cell_boxes, confidence, n_cells, 0.0);
  ss_detection_eval_score (eval, &score);
  ss_detection_eval_free (eval);
  return score.true_positives;
}

SsCellItem *
ss_case_document_find_cell (SsCaseDocument *self,
                            gint64          cell_id)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  return g_hash_table_lookup (self->by_id, &cell_id);
}

/* The cell's crop from its decoded field. */
static GdkTexture *
ss_case_document_make_crop (SsCaseDocument *self,
                            SsCellItem     *item,
                            Field          *field,
                            int             size)
{
  g_autofree guint8 *rgb = g_malloc ((gsize) size * size * 3);
  ss_cell_view_crop (field->image, ss_cell_item_get_box (item), size, rgb);
  g_autoptr (GBytes) bytes = g_bytes_new_take (g_steal_pointer (&rgb), (gsize) size * size * 3);
  g_autoptr (GdkTexture) texture = gdk_memory_texture_new (size, size, GDK_MEMORY_R8G8B8,
                                                           bytes, size * 3);
  ss_cell_item_set_crop (item, texture);
  return ss_cell_item_get_crop (item);
}

GdkTexture *
ss_case_document_ensure_crop (SsCaseDocument *self,
                              SsCellItem     *item,
                              int             size)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (SS_IS_CELL_ITEM (item), NULL);
  g_return_val_if_fail (size > 0, NULL);

  GdkTexture *crop = ss_cell_item_get_crop (item);
  if (crop != NULL && gdk_texture_get_width (crop) == size)
    return crop;
  Field *field = ss_case_document_get_field (self, ss_cell_item_get_image_index (item), NULL);
  return field != NULL ? ss_case_document_make_crop (self, item, field, size) : NULL;
}

GdkTexture *
ss_case_document_try_crop (SsCaseDocument *self,
                           SsCellItem     *item,
                           int             size,
                           gboolean       *loading)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (SS_IS_CELL_ITEM (item), NULL);
  g_return_val_if_fail (size > 0 && loading != NULL, NULL);

  *loading = FALSE;
  GdkTexture *crop = ss_cell_item_get_crop (item);
  if (crop != NULL && gdk_texture_get_width (crop) == size)
    return crop;
  guint index = ss_cell_item_get_image_index (item);
  Field *field = ss_case_document_find_field (self, index);
  if (field != NULL)
    return ss_case_document_make_crop (self, item, field, size);
  if (g_hash_table_contains (self->fields_failed, GUINT_TO_POINTER (index)))
    return NULL;
  ss_case_document_load_field_async (self, index, SS_BACKGROUND_SOON);
  *loading = TRUE;
  return NULL;
}

/* Queue order: unreviewed before reviewed; among the unreviewed, unsure ones first,
 * then the least certain; ties by id, so the order is stable. */
static int
queue_compare (gconstpointer a,
               gconstpointer b)
{
  SsCellItem *x = *(SsCellItem **) a, *y = *(SsCellItem **) b;
  gboolean rx = ss_cell_item_get_reviewed (x), ry = ss_cell_item_get_reviewed (y);
  if (rx != ry)
    return rx ? 1 : -1;
  gboolean ux = ss_cell_item_get_unsure (x), uy = ss_cell_item_get_unsure (y);
  if (ux != uy)
    return ux ? -1 : 1;
  double cx = ss_cell_item_get_confidence (x), cy = ss_cell_item_get_confidence (y);
  if (cx != cy)
    return cx < cy ? -1 : 1;
  gint64 ix = ss_cell_item_get_id (x), iy = ss_cell_item_get_id (y);
  return ix < iy ? -1 : ix > iy;
}

GPtrArray *
ss_case_document_review_queue (SsCaseDocument *self)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);

  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->cells));
  GPtrArray *queue = g_ptr_array_new_full (n, g_object_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (queue, g_list_model_get_item (G_LIST_MODEL (self->cells), i));
  g_ptr_array_sort (queue, queue_compare);
  return queue;
}

SsCellItem *
ss_case_document_next_unreviewed (SsCaseDocument *self,
                                  SsCellItem     *after)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);

  /* one pass for the queue's first unreviewed cell: no sort per key press */
  SsCellItem *best = NULL;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->cells));
  for (guint i = 0; i < n; i++)
    {
      SsCellItem *item = g_list_model_get_item (G_LIST_MODEL (self->cells), i);
      g_object_unref (item);  /* the store keeps it */
      if (item == after || ss_cell_item_get_reviewed (item))
        continue;
      if (best == NULL || queue_compare (&item, &best) < 0)
        best = item;
    }
  return best;
}

void
ss_case_document_get_counts (SsCaseDocument *self,
                             SsCounts       *counts)
{
  g_return_if_fail (SS_IS_CASE_DOCUMENT (self));
  ss_counts_compute (self->counts, self->blast_threshold, counts);
}

static gboolean
ss_case_document_check_writable (SsCaseDocument *self,
                                 GError        **error)
{
  if (!ss_case_document_get_read_only (self))
    return TRUE;
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_SIGNED,
               _("Case %s is signed and can no longer change. Reopen it to correct cells; "
                 "the reopening is recorded."), self->info->accession);
  return FALSE;
}

/* Apply one cell's part of a step to the store; the correction id (0 when there was
 * nothing to change), or -1 with an error. */
static gint64
ss_case_document_apply_one (SsCaseDocument *self,
                            Step           *step,
                            SsCellItem     *item,
                            GError        **error)
{
  const char *accession = self->info->accession;
  gint64 id = ss_cell_item_get_id (item);

  /* based on the cell as shown: refused when another station changed it meanwhile */
  gint64 version = ss_cell_item_get_version (item);
  switch (step->kind)
    {
    case STEP_RELABEL:
      if (ss_cell_item_get_cell_class (item) == step->new_class)
        return ss_store_correct_cell (self->store, accession, id, SS_CORRECTION_CONFIRM, 0,
                                      version, self->user, error);
      return ss_store_correct_cell (self->store, accession, id, SS_CORRECTION_RELABEL,
                                    step->new_class, version, self->user, error);
    case STEP_CONFIRM:
      return ss_store_correct_cell (self->store, accession, id, SS_CORRECTION_CONFIRM, 0,
                                    version, self->user, error);
    case STEP_DELETE:
      return ss_store_correct_cell (self->store, accession, id, SS_CORRECTION_DELETE, 0,
                                    version, self->user, error);
    case STEP_ADD:
      /* redoing an added cell: it comes back */
      return ss_store_correct_cell (self->store, accession, id, SS_CORRECTION_RESTORE, 0,
                                    version, self->user, error);
    default:
      g_assert_not_reached ();
    }
}

/* Apply a step cell by cell; every change the store keeps is shown, even when a later
 * cell fails. */
static gboolean
ss_case_document_apply (SsCaseDocument *self,
                        Step           *step,
                        GError        **error)
{
  guint old_cells = ss_case_document_get_n_cells (self);
  guint old_unreviewed = self->n_unreviewed, old_unsure = self->n_unsure;
  gboolean ok = TRUE;

  g_array_set_size (step->corrections, 0);
  for (guint i = 0; i < step->items->len && ok; i++)
    {
      SsCellItem *item = step->items->pdata[i];
      g_autoptr (GError) local_error = NULL;
      gint64 correction = ss_case_document_apply_one (self, step, item, &local_error);
      if (g_error_matches (local_error, SS_STORE_ERROR, SS_STORE_ERROR_STALE))
        {
          /* show the other station's change, and say why this one did not happen */
          g_autoptr (GError) reload_error = NULL;
          if (!ss_case_document_reload_cells (self, &reload_error))
            g_warning ("reloading case %s: %s", self->info->accession, reload_error->message);
          g_autofree char *cell = g_strdup_printf ("%" G_GINT64_FORMAT, ss_cell_item_get_id (item));
          g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_STALE,
                       /* TRANSLATORS: %s is the cell's number */
                       _("Another station changed cell %s meanwhile; the case was reloaded to "
                         "show it. Your change to it was not stored: make it again if it still "
                         "applies."), cell);
          ok = FALSE;
          break;
        }
      if (correction < 0)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          ok = FALSE;
          break;
        }
      g_array_append_val (step->corrections, correction);
      if (correction > 0 && !ss_case_document_refresh_cell (self, item, error))
        ok = FALSE;
    }
  ss_case_document_notify_tallies (self, old_cells, old_unreviewed, old_unsure);
  return ok;
}

static void
ss_case_document_notify_history (SsCaseDocument *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

/* Apply a new step and make it the one Ctrl+Z undoes. */
static gboolean
ss_case_document_do (SsCaseDocument *self,
                     Step           *step,
                     GError        **error)
{
  gboolean ok = ss_case_document_apply (self, step, error);
  gboolean any = FALSE;
  for (guint i = 0; i < step->corrections->len; i++)
    any |= g_array_index (step->corrections, gint64, i) > 0;
  if (any)
    {
      g_queue_push_head (&self->undo_stack, step);
      g_queue_clear_full (&self->redo_stack, (GDestroyNotify) step_free);
      ss_case_document_notify_history (self);
    }
  else
    step_free (step);
  return ok;
}

/* A new change to the cells, as one undo step. */
static gboolean
ss_case_document_change (SsCaseDocument *self,
                         StepKind        kind,
                         int             new_class,
                         SsCellItem    **items,
                         guint           n_items,
                         GError        **error)
{
  if (!ss_case_document_check_writable (self, error))
    return FALSE;
  if (n_items == 0)
    return TRUE;
  return ss_case_document_do (self, step_new (kind, new_class, items, n_items), error);
}

gboolean
ss_case_document_relabel (SsCaseDocument *self,
                          SsCellItem    **items,
                          guint           n_items,
                          int             new_class,
                          GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);
  g_return_val_if_fail (new_class >= 0 && new_class < SS_N_CLASSES, FALSE);

  return ss_case_document_change (self, STEP_RELABEL, new_class, items, n_items, error);
}

gboolean
ss_case_document_confirm (SsCaseDocument *self,
                          SsCellItem    **items,
                          guint           n_items,
                          GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);

  return ss_case_document_change (self, STEP_CONFIRM, -1, items, n_items, error);
}

gboolean
ss_case_document_delete (SsCaseDocument *self,
                         SsCellItem    **items,
                         guint           n_items,
                         GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);

  return ss_case_document_change (self, STEP_DELETE, -1, items, n_items, error);
}

/* An ellipse inscribed in the box: a drawn cell's outline until someone segments it. */
static void
drawn_cell_masks (SsCell *cell)
{
  int w = cell->box.width, h = cell->box.height;
  g_autofree guint8 *mask = g_malloc0 ((gsize) w * h);
  double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, rx = w / 2.0, ry = h / 2.0;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double dx = (x - cx) / rx, dy = (y - cy) / ry;
        mask[(gsize) y * w + x] = dx * dx + dy * dy <= 1.0;
      }
  ss_rle_encode (&cell->mask, mask, w, h);
  memset (mask, 0, (gsize) w * h);
  ss_rle_encode (&cell->nucleus_mask, mask, w, h);
  cell->morphometrics.area = (double) ss_rle_area (&cell->mask);
}

SsCellItem *
ss_case_document_add_cell (SsCaseDocument *self,
                           guint           index,
                           const SsBox    *box,
                           int             cell_class,
                           GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), NULL);
  g_return_val_if_fail (index < self->images->len, NULL);
  g_return_val_if_fail (box != NULL, NULL);
  g_return_val_if_fail (cell_class >= 0 && cell_class < SS_N_CLASSES, NULL);

  if (!ss_case_document_check_writable (self, error))
    return NULL;

  const SsImageRecord *record = self->images->pdata[index];
  SsBox clipped = *box;
  int x1 = MIN (box->x + box->width, record->width), y1 = MIN (box->y + box->height, record->height);
  clipped.x = MAX (box->x, 0);
  clipped.y = MAX (box->y, 0);
  clipped.width = x1 - clipped.x;
  clipped.height = y1 - clipped.y;
  if (clipped.width < 4 || clipped.height < 4)
    {
      g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_INVALID,
                   _("Draw a box around the whole cell: this one is too small or outside the field."));
      return NULL;
    }

  g_autoptr (SsCell) cell = ss_cell_new ();
  cell->box = clipped;
  cell->predicted_class = cell_class;
  cell->current_class = cell_class;
  cell->confidence = 1.0f;
  cell->user_drawn = TRUE;
  drawn_cell_masks (cell);

  if (self->classifier != NULL)
    {
      Field *field = ss_case_document_get_field (self, index, NULL);
      /* the field's own cells go first, so that a camera new to the model is judged, and
       * its colours brought to the model's, as the analysis judges a run (SsColourPool),
       * here on this field's cells alone; only the drawn cell's call is kept */
      SsAnalysisSettings settings;
      ss_analysis_settings_init (&settings);
      g_autoptr (SsColourPool) colours = ss_analysis_colour_pool_new (&settings, self->classifier);
      g_autoptr (GPtrArray) cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_cell_free);
      GListStore *on_field = g_ptr_array_index (self->image_cells, index);
      /* (without a pool the drawn cell is classified alone) */
      for (guint i = 0; colours != NULL && i < g_list_model_get_n_items (G_LIST_MODEL (on_field));
           i++)
        {
          g_autoptr (SsCellItem) item = g_list_model_get_item (G_LIST_MODEL (on_field), i);
          SsCell *other = ss_cell_new ();
          other->box = ss_cell_item_get_cell (item)->box;
          g_ptr_array_add (cells, other);
        }
      g_ptr_array_add (cells, cell);
      /* the classifier's call is a suggestion; the person's drawing is the fact: a drawn
       * cell is a white cell, so "not a cell" gives way to the likeliest counted class */
      gboolean classified = field != NULL
                            && ss_analysis_classify (self->classifier, field->image, cells,
                                                     SS_CLASSIFIER_MARGIN, colours, NULL);
      g_ptr_array_steal_index (cells, cells->len - 1);  /* the drawn cell stays ours */
      if (classified)
        {
          if (cell->predicted_class == SS_CLASS_NOT_A_CELL)
            {
              int best = SS_CLASS_OTHER;
              for (int c = 0; c < SS_N_CLASSES; c++)
                if (ss_class_is_counted (c) && cell->probabilities[c] > cell->probabilities[best])
                  best = c;
              cell->predicted_class = best;
              cell->confidence = cell->probabilities[best];
            }
          cell->current_class = cell->predicted_class;
        }
    }

  gint64 correction = ss_store_add_cell (self->store, self->info->accession, record->id, cell,
                                         self->user, error);
  if (correction <= 0)
    return NULL;

  guint old_cells = ss_case_document_get_n_cells (self);
  guint old_unreviewed = self->n_unreviewed, old_unsure = self->n_unsure;
  cell->reviewed = TRUE;
  SsCellItem *item = ss_case_document_adopt_cell (self, g_steal_pointer (&cell), index, record->id);
  ss_case_document_notify_tallies (self, old_cells, old_unreviewed, old_unsure);

  /* Undoing an add deletes the cell; its redo restores it. */
  Step *step = step_new (STEP_ADD, -1, &item, 1);
  g_array_append_val (step->corrections, correction);
  g_queue_push_head (&self->undo_stack, step);
  g_queue_clear_full (&self->redo_stack, (GDestroyNotify) step_free);
  ss_case_document_notify_history (self);
  return item;
}

gboolean
ss_case_document_undo (SsCaseDocument *self,
                       GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);

  if (!ss_case_document_check_writable (self, error))
    return FALSE;
  Step *step = g_queue_peek_head (&self->undo_stack);
  if (step == NULL)
    return TRUE;

  guint old_cells = ss_case_document_get_n_cells (self);
  guint old_unreviewed = self->n_unreviewed, old_unsure = self->n_unsure;
  gboolean ok = TRUE;
  /* newest first; a failure leaves the step with what is still to undo */
  while (step->corrections->len > 0 && ok)
    {
      guint last = step->corrections->len - 1;
      gint64 correction = g_array_index (step->corrections, gint64, last);
      SsCellItem *item = step->items->pdata[last];
      if (correction > 0
          && (ss_store_undo (self->store, self->info->accession, correction, self->user, error) < 0
              || !ss_case_document_refresh_cell (self, item, error)))
        ok = FALSE;
      else
        g_array_set_size (step->corrections, last);
    }
  ss_case_document_notify_tallies (self, old_cells, old_unreviewed, old_unsure);
  if (ok)
    {
      g_queue_pop_head (&self->undo_stack);
      g_queue_push_head (&self->redo_stack, step);
    }
  ss_case_document_notify_history (self);
  return ok;
}

gboolean
ss_case_document_redo (SsCaseDocument *self,
                       GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);

  if (!ss_case_document_check_writable (self, error))
    return FALSE;
  Step *step = g_queue_pop_head (&self->redo_stack);
  if (step == NULL)
    return TRUE;
  gboolean ok = ss_case_document_apply (self, step, error);
  g_queue_push_head (&self->undo_stack, step);
  ss_case_document_notify_history (self);
  return ok;
}

gboolean
ss_case_document_add_result (SsCaseDocument        *self,
                             SsAnalysisResult      *result,
                             const SsModelIdentity *model,
                             GError               **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);
  g_return_val_if_fail (result != NULL && result->path != NULL, FALSE);

  if (!ss_case_document_check_writable (self, error))
    return FALSE;
  gint64 image_id = ss_store_add_analysis (self->store, self->info->accession, result, model, error);
  if (image_id <= 0)
    return FALSE;

  /* read back what the store kept, as opening the case would: the image's row, and
   * the cells of this image only */
  g_autoptr (GPtrArray) images = ss_store_list_images (self->store, self->info->accession, FALSE, error);
  if (images == NULL)
    return FALSE;
  for (guint i = 0; i < images->len; i++)
    {
      SsImageRecord *record = images->pdata[i];
      if (record->id != image_id)
        continue;
      record->cells = ss_store_list_image_cells (self->store, image_id, error);
      if (record->cells == NULL)
        return FALSE;
      guint old_cells = ss_case_document_get_n_cells (self);
      guint old_unreviewed = self->n_unreviewed, old_unsure = self->n_unsure;
      if (!ss_case_document_take_image (self, g_ptr_array_steal_index (images, i), error))
        return FALSE;
      self->info->n_images = self->images->len;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_IMAGES]);
      g_signal_emit (self, signals[IMAGES_CHANGED], 0);
      ss_case_document_notify_tallies (self, old_cells, old_unreviewed, old_unsure);
      return TRUE;
    }
  g_set_error (error, SS_STORE_ERROR, SS_STORE_ERROR_NOT_FOUND,
               _("The analysis of %s was stored but cannot be read back"), result->path);
  return FALSE;
}

static gboolean
ss_case_document_reload_case (SsCaseDocument *self,
                              GError        **error)
{
  g_autoptr (SsCase) info = ss_store_get_case (self->store, self->info->accession, error);
  if (info == NULL)
    return FALSE;
  ss_case_free (self->info);
  self->info = g_steal_pointer (&info);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_READ_ONLY]);
  ss_case_document_notify_history (self);
  return TRUE;
}

gboolean
ss_case_document_sign (SsCaseDocument *self,
                       GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);

  if (!ss_case_document_check_writable (self, error))
    return FALSE;
  if (!ss_store_sign_case (self->store, self->info->accession, self->user, error))
    return FALSE;
  /* what was done before the signature stays done */
  g_queue_clear_full (&self->undo_stack, (GDestroyNotify) step_free);
  g_queue_clear_full (&self->redo_stack, (GDestroyNotify) step_free);
  return ss_case_document_reload_case (self, error);
}

gboolean
ss_case_document_reopen (SsCaseDocument *self,
                         const char     *reason,
                         GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);

  if (!ss_store_reopen_case (self->store, self->info->accession, self->user, reason, error))
    return FALSE;
  return ss_case_document_reload_case (self, error);
}

gboolean
ss_case_document_update_details (SsCaseDocument *self,
                                 const char     *patient_ref,
                                 const char     *specimen,
                                 const char     *stain,
                                 const char     *notes,
                                 GError        **error)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (self), FALSE);

  if (!ss_store_update_case (self->store, self->info->accession, patient_ref, specimen, stain,
                             notes, error))
    return FALSE;
  return ss_case_document_reload_case (self, error);
}
