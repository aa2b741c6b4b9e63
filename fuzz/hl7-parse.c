/* The HL7 reader of the harnesses (hl7-parse.h). */
#include "hl7-parse.h"

#include <string.h>

GPtrArray *
hl7_parse (const char *message)
{
  GPtrArray *segments = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  g_auto (GStrv) lines = g_strsplit (message, "\r", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (lines[i][0] == '\0')
        continue;
      GStrv fields = g_strsplit (lines[i], "|", -1);
      if (g_str_has_prefix (lines[i], "MSH|"))
        {
          /* MSH-1 is the '|' that split it: put it back in as a field of its own */
          GStrv msh = g_new0 (char *, g_strv_length (fields) + 2);
          msh[0] = g_strdup (fields[0]);
          msh[1] = g_strdup ("|");
          for (guint k = 1; fields[k] != NULL; k++)
            msh[k + 1] = g_strdup (fields[k]);
          g_strfreev (fields);
          fields = msh;
        }
      g_ptr_array_add (segments, fields);
    }
  return segments;
}

const char *
hl7_field (GStrv segment, guint field)
{
  return field < g_strv_length (segment) ? segment[field] : "";
}

char *
hl7_component (const char *field, guint component)
{
  g_auto (GStrv) parts = g_strsplit (field, "^", -1);
  return g_strdup (component >= 1 && component <= g_strv_length (parts) ? parts[component - 1]
                                                                          : "");
}

static int
hex_digit (char c)
{
  return g_ascii_isxdigit (c) ? g_ascii_xdigit_value (c) : -1;
}

char *
hl7_unescape (const char *value)
{
  g_autoptr (GString) text = g_string_new (NULL);
  for (const char *at = value; *at != '\0'; at++)
    {
      if (strchr ("|^&~\r", *at) != NULL)
        return NULL;
      if (*at != '\\')
        {
          g_string_append_c (text, *at);
          continue;
        }
      const char *end = strchr (at + 1, '\\');
      if (end == NULL || end == at + 1)
        return NULL;
      gsize length = (gsize) (end - at - 1);
      if (length == 1)
        {
          const char *codes = "FSTRE", *meant = "|^&~\\";
          const char *code = strchr (codes, at[1]);
          if (code == NULL)
            return NULL;
          g_string_append_c (text, meant[code - codes]);
        }
      else if (at[1] == 'X' && length % 2 == 1)
        for (gsize k = 2; k < length + 1; k += 2)
          {
            int high = hex_digit (at[k]), low = hex_digit (at[k + 1]);
            if (high < 0 || low < 0 || (high == 0 && low == 0))
              return NULL;
            g_string_append_c (text, (char) (high * 16 + low));
          }
      else
        return NULL;
      at = end;
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}
