/* The byte formats the store writes inside its rows: masks and probabilities.
 * docs/case-store.md documents each for outside readers. */
#include "ss-store-private.h"

#include <string.h>

static void
put_varint (GByteArray *out, guint64 value)
{
  guint8 bytes[10];
  guint n = 0;
  do
    {
      bytes[n] = value & 0x7f;
      value >>= 7;
      if (value != 0)
        bytes[n] |= 0x80;
      n++;
    }
  while (value != 0);
  g_byte_array_append (out, bytes, n);
}

static gboolean
get_varint (const guint8 **at, const guint8 *end, guint64 *value)
{
  guint64 result = 0;
  for (int shift = 0; shift < 64 && *at < end; shift += 7)
    {
      guint8 byte = *(*at)++;
      result |= (guint64) (byte & 0x7f) << shift;
      if ((byte & 0x80) == 0)
        {
          *value = result;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
ss_store_rle_to_blob (const SsRle *rle, GByteArray *out)
{
  g_byte_array_set_size (out, 0);
  if (rle->n_runs <= 0 || rle->runs == NULL)
    return FALSE;
  put_varint (out, (guint64) rle->width);
  put_varint (out, (guint64) rle->height);
  put_varint (out, (guint64) rle->n_runs);
  for (int i = 0; i < rle->n_runs; i++)
    put_varint (out, rle->runs[i]);
  return TRUE;
}

/* Bounds keep a damaged blob from asking for gigabytes. */
#define MAX_MASK_SIDE 65536

gboolean
ss_store_rle_from_blob (SsRle *rle, const guint8 *data, gsize size)
{
  guint64 width, height, n_runs;
  memset (rle, 0, sizeof *rle);
  if (data == NULL || size == 0)
    return TRUE;  /* no mask (and no pointer arithmetic on NULL) */
  const guint8 *at = data, *end = data + size;
  if (!get_varint (&at, end, &width) || !get_varint (&at, end, &height)
      || !get_varint (&at, end, &n_runs)
      || width > MAX_MASK_SIDE || height > MAX_MASK_SIDE || n_runs > (guint64) (end - at)
      || n_runs > width * height + 1)
    return FALSE;
  guint32 *runs = g_new (guint32, MAX (n_runs, 1));
  for (guint64 i = 0; i < n_runs; i++)
    {
      guint64 run;
      if (!get_varint (&at, end, &run) || run > width * height)
        {
          g_free (runs);
          return FALSE;
        }
      runs[i] = (guint32) run;
    }
  rle->width = (int) width;
  rle->height = (int) height;
  rle->n_runs = (int) n_runs;
  rle->runs = runs;
  return at == end;
}

void
ss_store_probabilities_to_blob (const float probabilities[SS_N_CLASSES],
                                guint8 blob[SS_N_CLASSES * 4])
{
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      guint32 bits;
      memcpy (&bits, &probabilities[c], 4);
      bits = GUINT32_TO_LE (bits);
      memcpy (blob + 4 * c, &bits, 4);
    }
}

gboolean
ss_store_probabilities_from_blob (float probabilities[SS_N_CLASSES], const guint8 *data,
                                  gsize size)
{
  if (data == NULL || size != SS_N_CLASSES * 4)
    {
      memset (probabilities, 0, sizeof (float) * SS_N_CLASSES);
      return data == NULL;
    }
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      guint32 bits;
      memcpy (&bits, data + 4 * c, 4);
      bits = GUINT32_FROM_LE (bits);
      memcpy (&probabilities[c], &bits, 4);
    }
  return TRUE;
}
