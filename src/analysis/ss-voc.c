/* A Pascal VOC reader on GMarkup: only the elements a detection benchmark needs. */
#include "ss-voc.h"

#include "ss-image.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  SsVocAnnotation *annotation;
  GString         *text;
  SsVocObject      object;
  gboolean         in_object, in_size;
  int              xmin, ymin, xmax, ymax;
  int              seen;  /* bit per box edge read */
} Parser;

static void
on_start (GMarkupParseContext *context, const char *element, const char **names,
          const char **values, gpointer data, GError **error)
{
  Parser *p = data;
  g_string_truncate (p->text, 0);
  if (strcmp (element, "object") == 0)
    {
      if (p->annotation->objects->len >= SS_VOC_MAX_OBJECTS)
        {
          int line = 0;
          g_markup_parse_context_get_position (context, &line, NULL);
          g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                       "line %d: more than %d <object>s", line, SS_VOC_MAX_OBJECTS);
          return;
        }
      g_free (p->object.name);
      memset (&p->object, 0, sizeof p->object);
      g_markup_parse_context_get_position (context, &p->object.line, NULL);
      p->in_object = TRUE;
      p->seen = 0;
    }
  else if (strcmp (element, "size") == 0)
    p->in_size = TRUE;
}

/* Far beyond any microscope field, and still an int after rounding. */
#define MAX_ABS_NUMBER 1e7

static gboolean
parse_int (const char *text, int *out)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);  /* some tools write "12.0" */
  while (end != NULL && g_ascii_isspace (*end))
    end++;
  /* strtod reads "nan" and "inf" too; a number out of range is no pixel */
  if (end == text || end == NULL || *end != '\0' || !(fabs (v) <= MAX_ABS_NUMBER))
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static void
on_end (GMarkupParseContext *context, const char *element, gpointer data, GError **error)
{
  Parser *p = data;
  g_autofree char *text = g_strstrip (g_strdup (p->text->str));
  int value = 0, line = 0;
  g_markup_parse_context_get_position (context, &line, NULL);
  if (strcmp (element, "filename") == 0 && !p->in_object)
    {
      g_free (p->annotation->filename);
      p->annotation->filename = g_strdup (text);
    }
  else if (p->in_size && (strcmp (element, "width") == 0 || strcmp (element, "height") == 0))
    {
      if (!parse_int (text, &value) || value < 0)
        {
          g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                       "line %d: <size><%s> is not a size in pixels: '%s'", line, element, text);
          return;
        }
      *(element[0] == 'w' ? &p->annotation->width : &p->annotation->height) = value;
    }
  else if (strcmp (element, "size") == 0)
    p->in_size = FALSE;
  else if (p->in_object && strcmp (element, "name") == 0 && p->object.name == NULL)
    p->object.name = g_strdup (text);
  else if (p->in_object && strcmp (element, "difficult") == 0)
    p->object.difficult = parse_int (text, &value) && value != 0;
  else if (p->in_object && (strcmp (element, "xmin") == 0 || strcmp (element, "ymin") == 0
                            || strcmp (element, "xmax") == 0 || strcmp (element, "ymax") == 0))
    {
      if (!parse_int (text, &value))
        {
          g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                       "line %d: <%s> is not a number within +-1e7: '%s'", line, element, text);
          return;
        }
      int which = (element[0] == 'y') + 2 * (element[1] == 'm' && element[2] == 'a');
      int *slot[4] = { &p->xmin, &p->ymin, &p->xmax, &p->ymax };
      *slot[which] = value;
      p->seen |= 1 << which;
    }
  else if (strcmp (element, "object") == 0)
    {
      if (p->seen != 15 || p->object.name == NULL)
        {
          g_set_error (error, G_MARKUP_ERROR, G_MARKUP_ERROR_INVALID_CONTENT,
                       "line %d: the <object> of line %d lacks its <name> or one of its box "
                       "edges", line, p->object.line);
          return;
        }
      p->object.box = (SsBox) { p->xmin, p->ymin, p->xmax - p->xmin, p->ymax - p->ymin };
      g_array_append_val (p->annotation->objects, p->object);
      memset (&p->object, 0, sizeof p->object);
      p->in_object = FALSE;
    }
  g_string_truncate (p->text, 0);
}

static void
on_text (GMarkupParseContext *context, const char *text, gsize length, gpointer data,
         GError **error)
{
  Parser *p = data;
  g_string_append_len (p->text, text, length);
}

static void
clear_object (gpointer data)
{
  g_free (((SsVocObject *) data)->name);
}

SsVocAnnotation *
ss_voc_parse (const char *text, gssize length, GError **error)
{
  static const GMarkupParser callbacks = { on_start, on_end, on_text, NULL, NULL };
  SsVocAnnotation *annotation = g_new0 (SsVocAnnotation, 1);
  annotation->objects = g_array_new (FALSE, TRUE, sizeof (SsVocObject));
  g_array_set_clear_func (annotation->objects, clear_object);
  Parser p = { .annotation = annotation, .text = g_string_new (NULL) };
  GMarkupParseContext *context = g_markup_parse_context_new (&callbacks, 0, &p, NULL);
  gboolean ok = g_markup_parse_context_parse (context, text, length, error)
                && g_markup_parse_context_end_parse (context, error);
  g_markup_parse_context_free (context);
  g_string_free (p.text, TRUE);
  g_free (p.object.name);
  if (!ok)
    {
      ss_voc_free (annotation);
      return NULL;
    }
  return annotation;
}

SsVocAnnotation *
ss_voc_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize length = 0;
  g_autoptr (GError) local = NULL;
  if (!g_file_get_contents (path, &text, &length, &local))
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA, "%s", local->message);
      return NULL;
    }
  SsVocAnnotation *annotation = ss_voc_parse (text, (gssize) length, &local);
  if (annotation == NULL)
    g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                 "%s: not a Pascal VOC annotation: %s", path, local->message);
  return annotation;
}

void
ss_voc_free (SsVocAnnotation *annotation)
{
  if (annotation == NULL)
    return;
  g_free (annotation->filename);
  g_array_unref (annotation->objects);
  g_free (annotation);
}

int
ss_voc_boxes (const SsVocAnnotation *annotation, const char *name, SsBox **boxes)
{
  *boxes = g_new (SsBox, MAX (annotation->objects->len, 1));
  int n = 0;
  for (guint i = 0; i < annotation->objects->len; i++)
    {
      const SsVocObject *o = &g_array_index (annotation->objects, SsVocObject, i);
      if (g_ascii_strcasecmp (o->name, name) == 0 && o->box.width > 0 && o->box.height > 0)
        (*boxes)[n++] = o->box;
    }
  return n;
}
