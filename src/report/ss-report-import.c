/* Pascal VOC (through ss-voc, the project's one VOC reader) and COCO (json-glib) read as
 * ground-truth cells. Every value from the file is checked before use: its type, its
 * range, that it is finite, that its box lies in its image; a fault names the file and
 * where in it. */
#include "ss-report-import.h"

#include "ss-report-case.h"
#include "ss-voc.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (ss-report-import-error-quark, ss_report_import_error)

/* COCO numbers beyond this are no pixel of any image (and still fit an int). */
#define MAX_ABS_NUMBER 1e7

void
ss_report_truth_file_free (SsTruthFile *file)
{
  if (file == NULL)
    return;
  for (guint i = 0; file->images != NULL && i < file->images->len; i++)
    g_ptr_array_unref (g_array_index (file->images, SsTruthImage, i).cells);
  g_clear_pointer (&file->images, g_array_unref);
  g_clear_pointer (&file->skipped, g_hash_table_unref);
  g_clear_pointer (&file->strings, g_ptr_array_unref);
  g_free (file->path);
  g_free (file->name);
  g_free (file->sha256);
  g_free (file);
}

static const char *
keep_string (SsTruthFile *file, const char *text)
{
  char *copy = g_strdup (text);
  g_ptr_array_add (file->strings, copy);
  return copy;
}

/* A new image of the file, its cells to be filled; the pointer lasts until the next. */
static SsTruthImage *
add_image (SsTruthFile *file, const char *image_name, int width, int height)
{
  SsTruthImage image = {
    .image = keep_string (file, image_name),
    .source_format = file->format,
    .source_file = file->name,
    .source_sha256 = file->sha256,
    .width = width,
    .height = height,
    .cells = g_ptr_array_new_with_free_func ((GDestroyNotify) ss_truth_cell_free),
  };
  g_array_append_val (file->images, image);
  return &g_array_index (file->images, SsTruthImage, file->images->len - 1);
}

static void
add_cell (SsTruthFile *file, SsTruthImage *image, SsTruthCell *cell)
{
  g_ptr_array_add (image->cells, cell);
  file->n_cells++;
  file->n_typed += cell->cls != SS_CLASS_NONE;
}

static void
count_skipped (SsTruthFile *file, const char *label)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (file->skipped, label));
  g_hash_table_insert (file->skipped, g_strdup (label), GUINT_TO_POINTER (n + 1));
}

static gboolean G_GNUC_PRINTF (4, 5)
import_error (GError **error, SsReportImportError code, const SsTruthFile *file,
              const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, SS_REPORT_IMPORT_ERROR, code, "%s: %s", file->path, message);
  return FALSE;
}

typedef enum {
  LABEL_TYPED,     /* a Smearscope class */
  LABEL_UNTYPED,   /* a white cell of no known type ("WBC") */
  LABEL_SKIPPED,   /* no white cell: RBC, platelets, background */
  LABEL_UNKNOWN,
} LabelKind;

/* What a VOC name or COCO category name stands for. The label table maps RBC,
 * platelets and background to not_a_cell for training; as truth they are no white
 * cell and are left out, while a cell called not_a_cell by name (a Smearscope export
 * of a corrected case) stays truth of that class. */
static LabelKind
map_label (const char *label, int *cls)
{
  const char *targets[SS_N_CLASSES];
  *cls = SS_CLASS_NONE;
  if (g_ascii_strcasecmp (label, "wbc") == 0)
    return LABEL_UNTYPED;
  for (int c = 0; c < SS_N_CLASSES; c++)
    targets[c] = ss_class_name (c);
  int c = ss_label_map (label, targets, SS_N_CLASSES);
  if (c < 0)
    return LABEL_UNKNOWN;
  if (c == SS_CLASS_NOT_A_CELL && g_ascii_strcasecmp (label, ss_class_name (c)) != 0)
    return LABEL_SKIPPED;
  *cls = c;
  return LABEL_TYPED;
}

#define UNKNOWN_LABEL_HINT \
  "it is no Smearscope class, not in the label table (docs/label-table.md), and not WBC " \
  "(a white cell of no type), RBC or platelets"

/* Whether the box lies inside a width x height image (sizes 0: not known). */
static gboolean
box_in_image (const SsBox *box, int width, int height)
{
  return box->x >= 0 && box->y >= 0
         && (width <= 0 || (gint64) box->x + box->width <= width)
         && (height <= 0 || (gint64) box->y + box->height <= height);
}

/* VOC ---------------------------------------------------------------------------------- */

static gboolean
load_voc (SsTruthFile *file, const char *text, gsize length, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (SsVocAnnotation) voc = ss_voc_parse (text, (gssize) length, &local);
  if (voc == NULL)
    return import_error (error, SS_REPORT_IMPORT_ERROR_INVALID, file,
                         "not a Pascal VOC annotation: %s", local->message);
  if (voc->filename == NULL || *voc->filename == '\0')
    return import_error (error, SS_REPORT_IMPORT_ERROR_INVALID, file,
                         "the annotation has no <filename>, so the image it describes is "
                         "not known");
  if (voc->width > SS_REPORT_IMPORT_MAX_SIDE || voc->height > SS_REPORT_IMPORT_MAX_SIDE)
    return import_error (error, SS_REPORT_IMPORT_ERROR_LIMIT, file,
                         "<size> %d x %d: more than %d pixels a side", voc->width, voc->height,
                         SS_REPORT_IMPORT_MAX_SIDE);
  SsTruthImage *image = add_image (file, voc->filename, voc->width, voc->height);
  for (guint i = 0; i < voc->objects->len; i++)
    {
      const SsVocObject *object = &g_array_index (voc->objects, SsVocObject, i);
      int cls;
      switch (map_label (object->name, &cls))
        {
        case LABEL_SKIPPED:
          count_skipped (file, object->name);
          continue;
        case LABEL_UNKNOWN:
          return import_error (error, SS_REPORT_IMPORT_ERROR_LABEL, file,
                               "line %d: <name>%s</name>: " UNKNOWN_LABEL_HINT, object->line,
                               object->name);
        case LABEL_TYPED:
        case LABEL_UNTYPED:
          break;
        }
      const SsBox *box = &object->box;
      if (box->width <= 0 || box->height <= 0)
        return import_error (error, SS_REPORT_IMPORT_ERROR_INVALID, file,
                             "line %d: the %s box (%d,%d)-(%d,%d) is empty", object->line,
                             object->name, box->x, box->y, box->x + box->width,
                             box->y + box->height);
      if (!box_in_image (box, voc->width, voc->height))
        return import_error (error, SS_REPORT_IMPORT_ERROR_INVALID, file,
                             "line %d: the %s box (%d,%d)-(%d,%d) leaves the %d x %d image",
                             object->line, object->name, box->x, box->y, box->x + box->width,
                             box->y + box->height, voc->width, voc->height);
      SsTruthCell *cell = ss_truth_cell_new ();
      cell->box = *box;
      cell->cls = cls;
      add_cell (file, image, cell);
    }
  return TRUE;
}

/* COCO --------------------------------------------------------------------------------- */

/* json-glib nests as deep as the text does, and keeps every value as a node of its
 * own (about 80 bytes for a 2-byte "0,"): measure depth and values on the bytes first.
 * Values are counted as commas and openings outside strings, a bound from above. The
 * text is split as json-glib 1.6's scanner splits it, which also takes '...' strings
 * (no escapes in them) and comments; a '"' in a comment must not hide brackets after
 * it (a COCO file nested 100,000 deep that way overflowed the stack). */
static gboolean
json_measure (SsTruthFile *file, const char *text, gsize length, GError **error)
{
  enum { CODE, DOUBLE_QUOTED, SINGLE_QUOTED, COMMENT } state = CODE;
  int depth = 0;
  gsize n_values = 1;
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (state == DOUBLE_QUOTED)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            state = CODE;
        }
      else if (state == SINGLE_QUOTED)
        state = c == '\'' ? CODE : state;
      else if (state == COMMENT)
        {
          if (c == '*' && i + 1 < length && text[i + 1] == '/')
            {
              state = CODE;
              i++;
            }
        }
      else if (c == '"')
        state = DOUBLE_QUOTED;
      else if (c == '\'')
        state = SINGLE_QUOTED;
      else if (c == '/' && i + 1 < length && text[i + 1] == '*')
        {
          state = COMMENT;
          i++;
        }
      else if (c == ',')
        n_values++;
      else if (c == '[' || c == '{')
        {
          n_values++;
          if (++depth > SS_REPORT_IMPORT_MAX_DEPTH)
            return import_error (error, SS_REPORT_IMPORT_ERROR_LIMIT, file,
                                 "byte %" G_GSIZE_FORMAT ": JSON nested more than %d deep; "
                                 "COCO needs 5", i, SS_REPORT_IMPORT_MAX_DEPTH);
        }
      else if (c == ']' || c == '}')
        depth--;
      if (n_values > SS_REPORT_IMPORT_MAX_JSON_VALUES)
        return import_error (error, SS_REPORT_IMPORT_ERROR_LIMIT, file,
                             "byte %" G_GSIZE_FORMAT ": more than %d JSON values; split the "
                             "file (by image) and import the parts together", i,
                             SS_REPORT_IMPORT_MAX_JSON_VALUES);
    }
  return TRUE;
}

static const char *
node_kind (JsonNode *node)
{
  if (node == NULL)
    return "missing";
  switch (json_node_get_node_type (node))
    {
    case JSON_NODE_OBJECT:
      return "an object";
    case JSON_NODE_ARRAY:
      return "an array";
    case JSON_NODE_NULL:
      return "null";
    case JSON_NODE_VALUE:
      break;
    }
  GType type = json_node_get_value_type (node);
  return type == G_TYPE_STRING ? "a string" : type == G_TYPE_BOOLEAN ? "true or false"
                                                                        : "a number";
}

/* The context of one COCO file being read: where the messages point. */
typedef struct {
  SsTruthFile *file;
  GError     **error;
  gint64       mask_work;  /* pixels and polygon edge visits spent on masks so far */
} Coco;

static gboolean G_GNUC_PRINTF (4, 5)
coco_error (Coco *coco, SsReportImportError code, const char *member, const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *message = g_strdup_vprintf (format, args);
  va_end (args);
  return import_error (coco->error, code, coco->file, "%s: %s", member, message);
}

/* Spend work on a mask of the file: FALSE, with the limit named, past the budget. */
static gboolean
coco_spend (Coco *coco, const char *member, gint64 work)
{
  coco->mask_work += work;
  if (coco->mask_work <= SS_REPORT_IMPORT_MAX_MASK_WORK)
    return TRUE;
  return coco_error (coco, SS_REPORT_IMPORT_ERROR_LIMIT, member,
                     "the file's masks need more than %.0e pixel and polygon edge visits; "
                     "split it (by image) and import the parts together",
                     (double) SS_REPORT_IMPORT_MAX_MASK_WORK);
}

/* A number of the file: an integer or a double, finite and within +-1e7. */
static gboolean
coco_number (Coco *coco, JsonNode *node, const char *member, double *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || (json_node_get_value_type (node) != G_TYPE_INT64
          && json_node_get_value_type (node) != G_TYPE_DOUBLE))
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member, "is %s, not a number",
                       node_kind (node));
  double value = json_node_get_value_type (node) == G_TYPE_INT64
                   ? (double) json_node_get_int (node) : json_node_get_double (node);
  if (!(fabs (value) <= MAX_ABS_NUMBER))
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member,
                       "%g is not a number within +-1e7", value);
  *out = value;
  return TRUE;
}

/* A whole number in [min, max]; a double is taken when it is whole ("640.0"). Ids may
 * be any 64-bit integer. */
static gboolean
coco_integer (Coco *coco, JsonNode *node, const char *member, gint64 min, gint64 max,
              gint64 *out)
{
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_INT64)
    *out = json_node_get_int (node);
  else if (node != NULL && JSON_NODE_HOLDS_VALUE (node)
           && json_node_get_value_type (node) == G_TYPE_DOUBLE
           && fabs (json_node_get_double (node)) <= MAX_ABS_NUMBER
           && json_node_get_double (node) == floor (json_node_get_double (node)))
    *out = (gint64) json_node_get_double (node);
  else
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member, "is %s, not a whole number",
                       node_kind (node));
  if (*out < min || *out > max)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member,
                       "%" G_GINT64_FORMAT " is not between %" G_GINT64_FORMAT " and %"
                       G_GINT64_FORMAT, *out, min, max);
  return TRUE;
}

static JsonArray *
coco_array (Coco *coco, JsonObject *object, const char *name, const char *member)
{
  JsonNode *node = json_object_get_member (object, name);
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member, "is %s, not an array",
                  node_kind (node));
      return NULL;
    }
  return json_node_get_array (node);
}

static JsonObject *
coco_object (Coco *coco, JsonNode *node, const char *member)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member, "is %s, not an object",
                  node_kind (node));
      return NULL;
    }
  return json_node_get_object (node);
}

static const char *
coco_string (Coco *coco, JsonNode *node, const char *member)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING
      || *json_node_get_string (node) == '\0')
    {
      coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member, "is %s, not a name",
                  node_kind (node));
      return NULL;
    }
  return json_node_get_string (node);
}

typedef struct {
  const char   *file_name;
  int           width, height;
  guint         truth_index;  /* index + 1 into file->images once it has a cell, else 0 */
} CocoImage;

typedef struct {
  const char *name;
  LabelKind   kind;
  int         cls;
} CocoCategory;

static gboolean
coco_images (Coco *coco, JsonArray *images, GHashTable *by_id, GArray *records)
{
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (images); i++)
    {
      g_autofree char *member = g_strdup_printf ("images[%u]", i);
      JsonObject *object = coco_object (coco, json_array_get_element (images, i), member);
      if (object == NULL)
        return FALSE;
      g_autofree char *id_member = g_strconcat (member, ".id", NULL);
      g_autofree char *name_member = g_strconcat (member, ".file_name", NULL);
      g_autofree char *width_member = g_strconcat (member, ".width", NULL);
      g_autofree char *height_member = g_strconcat (member, ".height", NULL);
      gint64 id, width, height;
      const char *file_name;
      if (!coco_integer (coco, json_object_get_member (object, "id"), id_member, G_MININT64,
                         G_MAXINT64, &id)
          || (file_name = coco_string (coco, json_object_get_member (object, "file_name"),
                                       name_member)) == NULL
          || !coco_integer (coco, json_object_get_member (object, "width"), width_member, 1,
                            SS_REPORT_IMPORT_MAX_SIDE, &width)
          || !coco_integer (coco, json_object_get_member (object, "height"), height_member, 1,
                            SS_REPORT_IMPORT_MAX_SIDE, &height))
        return FALSE;
      if (width * height > SS_REPORT_IMPORT_MAX_PIXELS)
        return coco_error (coco, SS_REPORT_IMPORT_ERROR_LIMIT, member,
                           "%" G_GINT64_FORMAT " x %" G_GINT64_FORMAT " is more than %d pixels",
                           width, height, SS_REPORT_IMPORT_MAX_PIXELS);
      if (g_hash_table_contains (by_id, &id))
        return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, id_member,
                           "the id %" G_GINT64_FORMAT " is another image's too", id);
      /* images are matched by file name: two of one name would be one image */
      char *base = g_path_get_basename (file_name);
      if (g_hash_table_contains (names, base))
        {
          coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, name_member,
                      "%s is images[%u]'s file name too", base,
                      GPOINTER_TO_UINT (g_hash_table_lookup (names, base)));
          g_free (base);
          return FALSE;
        }
      g_hash_table_insert (names, base, GUINT_TO_POINTER (i));
      CocoImage record = { file_name, (int) width, (int) height, 0 };
      g_array_append_val (records, record);
      g_hash_table_insert (by_id, g_memdup2 (&id, sizeof id), GUINT_TO_POINTER (records->len));
    }
  return TRUE;
}

static gboolean
coco_categories (Coco *coco, JsonArray *categories, GHashTable *by_id, GArray *records)
{
  for (guint i = 0; i < json_array_get_length (categories); i++)
    {
      g_autofree char *member = g_strdup_printf ("categories[%u]", i);
      JsonObject *object = coco_object (coco, json_array_get_element (categories, i), member);
      if (object == NULL)
        return FALSE;
      g_autofree char *id_member = g_strconcat (member, ".id", NULL);
      g_autofree char *name_member = g_strconcat (member, ".name", NULL);
      gint64 id;
      const char *name;
      if (!coco_integer (coco, json_object_get_member (object, "id"), id_member, G_MININT64,
                         G_MAXINT64, &id)
          || (name = coco_string (coco, json_object_get_member (object, "name"),
                                  name_member)) == NULL)
        return FALSE;
      if (g_hash_table_contains (by_id, &id))
        return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, id_member,
                           "the id %" G_GINT64_FORMAT " is another category's too", id);
      CocoCategory record = { name, LABEL_UNKNOWN, SS_CLASS_NONE };
      /* a category no annotation uses may be anything: its name is judged on use */
      record.kind = map_label (name, &record.cls);
      g_array_append_val (records, record);
      g_hash_table_insert (by_id, g_memdup2 (&id, sizeof id), GUINT_TO_POINTER (records->len));
    }
  return TRUE;
}

/* The record id names in by_id, or NULL after an error for member. */
static gpointer
coco_lookup (Coco *coco, JsonObject *object, const char *name, const char *member,
             GHashTable *by_id, GArray *records, const char *what)
{
  gint64 id;
  if (!coco_integer (coco, json_object_get_member (object, name), member, G_MININT64,
                     G_MAXINT64, &id))
    return NULL;
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (by_id, &id));
  if (index == 0)
    {
      coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member, "there is no %s with id %"
                  G_GINT64_FORMAT, what, id);
      return NULL;
    }
  return records->data + (gsize) (index - 1) * g_array_get_element_size (records);
}

/* Fill the box-sized pixels inside the polygon of n points (x, y, x, y...): a pixel is
 * inside when its centre is, by the even-odd rule along its row. */
static void
rasterise_polygon (const double *points, guint n, const SsBox *box, guint8 *pixels,
                   double *crossings)
{
  for (int row = 0; row < box->height; row++)
    {
      double yc = box->y + row + 0.5;
      guint n_crossings = 0;
      for (guint i = 0; i < n; i++)
        {
          guint j = (i + 1) % n;
          double xi = points[2 * i], yi = points[2 * i + 1];
          double xj = points[2 * j], yj = points[2 * j + 1];
          if ((yi <= yc) != (yj <= yc))
            crossings[n_crossings++] = xi + (yc - yi) * (xj - xi) / (yj - yi);
        }
      for (guint a = 1; a < n_crossings; a++)  /* insertion sort: a row crosses few edges */
        for (guint b = a; b > 0 && crossings[b - 1] > crossings[b]; b--)
          {
            double t = crossings[b];
            crossings[b] = crossings[b - 1];
            crossings[b - 1] = t;
          }
      for (guint k = 0; k + 1 < n_crossings; k += 2)
        {
          /* columns whose centre box->x + c + 0.5 lies in [left, right) */
          double first = ceil (crossings[k] - 0.5 - box->x);
          double end = ceil (crossings[k + 1] - 0.5 - box->x);
          for (int c = (int) MAX (first, 0); c < (int) MIN (end, box->width); c++)
            pixels[(gsize) row * box->width + c] = 1;
        }
    }
}

static gboolean
coco_polygons (Coco *coco, JsonArray *polygons, const char *member, SsTruthCell *cell)
{
  guint n_numbers = 0;
  for (guint p = 0; p < json_array_get_length (polygons); p++)
    {
      JsonNode *node = json_array_get_element (polygons, p);
      if (!JSON_NODE_HOLDS_ARRAY (node))
        return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member,
                           "polygon %u is %s, not an array of x, y numbers", p, node_kind (node));
      guint n = json_array_get_length (json_node_get_array (node));
      if (n < 6 || n % 2 != 0)
        return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, member,
                           "polygon %u has %u numbers; a polygon is 3 or more x, y pairs", p, n);
      n_numbers += n;
      if (n_numbers / 2 > SS_REPORT_IMPORT_MAX_POINTS)
        return coco_error (coco, SS_REPORT_IMPORT_ERROR_LIMIT, member,
                           "more than %d polygon points", SS_REPORT_IMPORT_MAX_POINTS);
    }
  if (n_numbers == 0)
    return TRUE;  /* no outline: the box alone */
  if (!coco_spend (coco, member, (gint64) cell->box.width * cell->box.height
                                 + (gint64) cell->box.height * (n_numbers / 2)))
    return FALSE;
  g_autofree guint8 *pixels = g_malloc0 ((gsize) cell->box.width * cell->box.height);
  g_autofree double *points = g_new (double, SS_REPORT_IMPORT_MAX_POINTS * 2);
  g_autofree double *crossings = g_new (double, SS_REPORT_IMPORT_MAX_POINTS);
  for (guint p = 0; p < json_array_get_length (polygons); p++)
    {
      JsonArray *polygon = json_array_get_array_element (polygons, p);
      guint n = json_array_get_length (polygon);
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *where = g_strdup_printf ("%s[%u][%u]", member, p, i);
          if (!coco_number (coco, json_array_get_element (polygon, i), where, &points[i]))
            return FALSE;
        }
      /* COCO's polygons of one object are one mask: their union */
      rasterise_polygon (points, n / 2, &cell->box, pixels, crossings);
    }
  ss_rle_encode (&cell->mask, pixels, cell->box.width, cell->box.height);
  return TRUE;
}

static gboolean
coco_rle (Coco *coco, JsonObject *rle, const char *member, const CocoImage *image,
          SsTruthCell *cell)
{
  g_autofree char *size_member = g_strconcat (member, ".size", NULL);
  g_autofree char *counts_member = g_strconcat (member, ".counts", NULL);
  JsonNode *size = json_object_get_member (rle, "size");
  JsonNode *counts = json_object_get_member (rle, "counts");
  if (size == NULL || !JSON_NODE_HOLDS_ARRAY (size)
      || json_array_get_length (json_node_get_array (size)) != 2)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, size_member,
                       "is %s, not [height, width]", node_kind (size));
  gint64 height, width;
  if (!coco_integer (coco, json_array_get_element (json_node_get_array (size), 0), size_member,
                     1, SS_REPORT_IMPORT_MAX_SIDE, &height)
      || !coco_integer (coco, json_array_get_element (json_node_get_array (size), 1),
                        size_member, 1, SS_REPORT_IMPORT_MAX_SIDE, &width))
    return FALSE;
  if (height != image->height || width != image->width)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, size_member,
                       "[%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "] is not the image's "
                       "[height, width] [%d, %d]", height, width, image->height, image->width);
  if (counts != NULL && JSON_NODE_HOLDS_VALUE (counts)
      && json_node_get_value_type (counts) == G_TYPE_STRING)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, counts_member,
                       "compressed RLE (a string) is not read; write the masks as "
                       "uncompressed RLE (an array of runs) or as polygons");
  if (counts == NULL || !JSON_NODE_HOLDS_ARRAY (counts))
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, counts_member,
                       "is %s, not an array of runs", node_kind (counts));
  JsonArray *array = json_node_get_array (counts);
  guint n = json_array_get_length (array);
  if ((gint64) n > width * height + 1)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, counts_member,
                       "%u runs for %" G_GINT64_FORMAT " pixels", n, width * height);
  g_autofree gint64 *runs = g_new (gint64, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      JsonNode *run = json_array_get_element (array, i);
      if (JSON_NODE_HOLDS_VALUE (run) && json_node_get_value_type (run) == G_TYPE_INT64
          && json_node_get_int (run) >= 0 && json_node_get_int (run) <= width * height)
        {
          runs[i] = json_node_get_int (run);  /* the common case, without naming it */
          continue;
        }
      g_autofree char *where = g_strdup_printf ("%s[%u]", counts_member, i);
      if (!coco_integer (coco, run, where, 0, width * height, &runs[i]))
        return FALSE;
    }
  if (!coco_spend (coco, member, (gint64) cell->box.width * cell->box.height + n))
    return FALSE;
  gint64 outside = 0;
  if (!ss_report_coco_rle_decode (runs, n, image->width, image->height, &cell->box,
                                  &cell->mask, &outside))
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, counts_member,
                       "the runs do not add up to the image's %d x %d pixels", image->width,
                       image->height);
  coco->file->n_pixels_outside += outside;
  return TRUE;
}

static gboolean
coco_annotation (Coco *coco, JsonNode *node, guint index, GHashTable *images_by_id,
                 GArray *images, GHashTable *categories_by_id, GArray *categories)
{
  g_autofree char *member = g_strdup_printf ("annotations[%u]", index);
  JsonObject *object = coco_object (coco, node, member);
  if (object == NULL)
    return FALSE;
  g_autofree char *image_member = g_strconcat (member, ".image_id", NULL);
  g_autofree char *category_member = g_strconcat (member, ".category_id", NULL);
  g_autofree char *crowd_member = g_strconcat (member, ".iscrowd", NULL);
  g_autofree char *bbox_member = g_strconcat (member, ".bbox", NULL);
  g_autofree char *segmentation_member = g_strconcat (member, ".segmentation", NULL);
  CocoImage *image = coco_lookup (coco, object, "image_id", image_member, images_by_id, images,
                                  "image");
  if (image == NULL)
    return FALSE;
  CocoCategory *category = coco_lookup (coco, object, "category_id", category_member,
                                        categories_by_id, categories, "category");
  if (category == NULL)
    return FALSE;
  gint64 crowd = 0;
  if (json_object_has_member (object, "iscrowd")
      && !coco_integer (coco, json_object_get_member (object, "iscrowd"), crowd_member, 0, 1,
                        &crowd))
    return FALSE;
  JsonNode *bbox = json_object_get_member (object, "bbox");
  if (bbox == NULL || !JSON_NODE_HOLDS_ARRAY (bbox)
      || json_array_get_length (json_node_get_array (bbox)) != 4)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, bbox_member,
                       "is %s, not [x, y, width, height]", node_kind (bbox));
  double v[4];
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *where = g_strdup_printf ("%s[%u]", bbox_member, i);
      if (!coco_number (coco, json_array_get_element (json_node_get_array (bbox), i), where,
                        &v[i]))
        return FALSE;
    }
  /* what is left out is left out whole, but only once its values are known to be sane */
  if (crowd)
    {
      coco->file->n_crowd++;
      return TRUE;
    }
  if (category->kind == LABEL_SKIPPED)
    {
      count_skipped (coco->file, category->name);
      return TRUE;
    }
  if (category->kind == LABEL_UNKNOWN)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_LABEL, category_member,
                       "category '%s': " UNKNOWN_LABEL_HINT, category->name);
  /* edges rounded to whole pixels: a box written in fractions of a pixel keeps its edges */
  long x0 = lround (v[0]), y0 = lround (v[1]), x1 = lround (v[0] + v[2]), y1 = lround (v[1] + v[3]);
  SsBox box = { (int) x0, (int) y0, (int) (x1 - x0), (int) (y1 - y0) };
  if (!(v[2] > 0 && v[3] > 0) || box.width <= 0 || box.height <= 0)
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, bbox_member,
                       "[%g, %g, %g, %g] is empty", v[0], v[1], v[2], v[3]);
  if (!box_in_image (&box, image->width, image->height))
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, bbox_member,
                       "[%g, %g, %g, %g] leaves the %d x %d image %s", v[0], v[1], v[2], v[3],
                       image->width, image->height, image->file_name);

  g_autoptr (SsTruthCell) cell = ss_truth_cell_new ();
  cell->box = box;
  cell->cls = category->kind == LABEL_TYPED ? category->cls : SS_CLASS_NONE;
  JsonNode *segmentation = json_object_get_member (object, "segmentation");
  if (segmentation != NULL && JSON_NODE_HOLDS_OBJECT (segmentation))
    {
      if (!coco_rle (coco, json_node_get_object (segmentation), segmentation_member, image, cell))
        return FALSE;
    }
  else if (segmentation != NULL && JSON_NODE_HOLDS_ARRAY (segmentation))
    {
      if (!coco_polygons (coco, json_node_get_array (segmentation), segmentation_member, cell))
        return FALSE;
    }
  else if (segmentation != NULL && !JSON_NODE_HOLDS_NULL (segmentation))
    return coco_error (coco, SS_REPORT_IMPORT_ERROR_INVALID, segmentation_member,
                       "is %s, not RLE or polygons", node_kind (segmentation));

  if (image->truth_index == 0)
    {
      add_image (coco->file, image->file_name, image->width, image->height);
      image->truth_index = coco->file->images->len;
    }
  add_cell (coco->file, &g_array_index (coco->file->images, SsTruthImage, image->truth_index - 1),
            g_steal_pointer (&cell));
  return TRUE;
}

static gboolean
load_coco (SsTruthFile *file, const char *text, gsize length, GError **error)
{
  Coco coco = { file, error, 0 };
  if (!json_measure (file, text, length, error))
    return FALSE;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local = NULL;
  if (!json_parser_load_from_data (parser, text, (gssize) length, &local))
    return import_error (error, SS_REPORT_IMPORT_ERROR_INVALID, file, "not JSON: %s",
                         local->message);
  JsonObject *root = coco_object (&coco, json_parser_get_root (parser), "the top level");
  if (root == NULL)
    return FALSE;
  JsonArray *images = coco_array (&coco, root, "images", "images");
  JsonArray *categories = images != NULL ? coco_array (&coco, root, "categories", "categories")
                                         : NULL;
  JsonArray *annotations = categories != NULL ? coco_array (&coco, root, "annotations",
                                                            "annotations")
                                              : NULL;
  if (annotations == NULL)
    return FALSE;
  if (json_array_get_length (annotations) > SS_REPORT_IMPORT_MAX_ANNOTATIONS
      || json_array_get_length (images) > SS_REPORT_IMPORT_MAX_ANNOTATIONS
      || json_array_get_length (categories) > SS_REPORT_IMPORT_MAX_ANNOTATIONS)
    return import_error (error, SS_REPORT_IMPORT_ERROR_LIMIT, file,
                         "%u annotations, %u images and %u categories: more than %d of one",
                         json_array_get_length (annotations), json_array_get_length (images),
                         json_array_get_length (categories), SS_REPORT_IMPORT_MAX_ANNOTATIONS);
  g_autoptr (GHashTable) images_by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                               g_free, NULL);
  g_autoptr (GHashTable) categories_by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal,
                                                                   g_free, NULL);
  g_autoptr (GArray) image_records = g_array_new (FALSE, TRUE, sizeof (CocoImage));
  g_autoptr (GArray) category_records = g_array_new (FALSE, TRUE, sizeof (CocoCategory));
  if (!coco_images (&coco, images, images_by_id, image_records)
      || !coco_categories (&coco, categories, categories_by_id, category_records))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (annotations); i++)
    if (!coco_annotation (&coco, json_array_get_element (annotations, i), i, images_by_id,
                          image_records, categories_by_id, category_records))
      return FALSE;
  return TRUE;
}

/* Reading ------------------------------------------------------------------------------ */

SsTruthFile *
ss_report_truth_file_load (const char *path, const char *format, GError **error)
{
  g_return_val_if_fail (path != NULL && format != NULL, NULL);
  g_autoptr (SsTruthFile) file = g_new0 (SsTruthFile, 1);
  file->path = g_strdup (path);
  file->name = g_path_get_basename (path);
  file->images = g_array_new (FALSE, TRUE, sizeof (SsTruthImage));
  file->skipped = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  file->strings = g_ptr_array_new_with_free_func (g_free);
  if (strcmp (format, "voc") == 0)
    file->format = "voc";
  else if (strcmp (format, "coco") == 0)
    file->format = "coco";
  else
    {
      import_error (error, SS_REPORT_IMPORT_ERROR_INVALID, file,
                    "unknown format '%s'; the formats are voc and coco", format);
      return NULL;
    }
  GStatBuf st;
  if (g_stat (path, &st) == 0 && st.st_size > SS_REPORT_IMPORT_MAX_BYTES)
    {
      import_error (error, SS_REPORT_IMPORT_ERROR_LIMIT, file, "%" G_GINT64_FORMAT " bytes: "
                    "more than the %d MiB an annotation file may have", (gint64) st.st_size,
                    SS_REPORT_IMPORT_MAX_BYTES / (1024 * 1024));
      return NULL;
    }
  g_autofree char *text = NULL;
  gsize length = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, &length, &local))
    {
      g_set_error (error, SS_REPORT_IMPORT_ERROR, SS_REPORT_IMPORT_ERROR_READ, "%s",
                   local->message);
      return NULL;
    }
  if (length > SS_REPORT_IMPORT_MAX_BYTES)  /* a pipe or a file that grew */
    {
      import_error (error, SS_REPORT_IMPORT_ERROR_LIMIT, file, "more than the %d MiB an "
                    "annotation file may have", SS_REPORT_IMPORT_MAX_BYTES / (1024 * 1024));
      return NULL;
    }
  file->sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) text, length);
  gboolean ok = file->format[0] == 'v' ? load_voc (file, text, length, error)
                                       : load_coco (file, text, length, error);
  if (!ok)
    return NULL;
  return g_steal_pointer (&file);
}

char *
ss_report_truth_file_summary (const SsTruthFile *file)
{
  g_return_val_if_fail (file != NULL, NULL);
  GString *summary = g_string_new (NULL);
  g_string_append_printf (summary, "%s: %u image%s, %u truth cell%s (%u with a class, %u "
                          "without)", file->name, file->images->len,
                          file->images->len == 1 ? "" : "s", file->n_cells,
                          file->n_cells == 1 ? "" : "s", file->n_typed,
                          file->n_cells - file->n_typed);
  g_autoptr (GList) labels = g_list_sort (g_hash_table_get_keys (file->skipped),
                                          (GCompareFunc) g_strcmp0);
  for (GList *l = labels; l != NULL; l = l->next)
    g_string_append_printf (summary, "%s%s %u", l == labels ? "; left out: " : ", ",
                            (const char *) l->data,
                            GPOINTER_TO_UINT (g_hash_table_lookup (file->skipped, l->data)));
  if (file->n_crowd > 0)
    g_string_append_printf (summary, "%s%u crowd annotation%s", labels == NULL ? "; left out: "
                                                                               : ", ",
                            file->n_crowd, file->n_crowd == 1 ? "" : "s");
  if (file->n_pixels_outside > 0)
    g_string_append_printf (summary, "; warning: %" G_GINT64_FORMAT " mask pixels outside "
                            "their boxes left out", file->n_pixels_outside);
  return g_string_free (summary, FALSE);
}
