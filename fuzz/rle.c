/* The RLE mask decoders: COCO's uncompressed RLE over an image, cut to a box
 * (ss_report_coco_rle_decode, src/report/ss-report-case.c), against a plain decoder
 * written here, and its inverse ss_report_coco_rle; and the store's mask blobs
 * (ss_store_rle_from_blob, src/store/ss-store-codec.c).
 *
 * Input: width and height of the image (1..64 each), the box (kept inside it), then
 * with byte 6's bit 0 clear the runs (one or two bytes each, bit 7 of the first: a
 * second byte follows; bit 6 of the second: negative), set the rest is a store blob. */
#include "fuzz-util.h"

#include "ss-report-case.h"
#include "ss-store-private.h"

#include <string.h>

static void
check_coco (int width, int height, const SsBox *box, const uint8_t *data, size_t size)
{
  g_autofree gint64 *runs = g_new (gint64, size + 1);
  guint n_runs = 0;
  for (size_t i = 0; i < size; i++)
    {
      gint64 run = data[i] & 0x7f;
      if ((data[i] & 0x80) && i + 1 < size)
        {
          i++;
          run = (run << 6) | (data[i] & 0x3f);
          if (data[i] & 0x40)
            run = -run;
        }
      runs[n_runs++] = run;
    }
  SsRle mask = { 0 };
  gint64 outside = -1;
  gboolean ok = ss_report_coco_rle_decode (runs, n_runs, width, height, box, &mask, &outside);

  /* the plain way: the whole image, column-major, background first */
  const gint64 n_pixels = (gint64) width * height;
  g_autofree guint8 *image = g_malloc0 (n_pixels);
  gint64 at = 0;
  gboolean valid = TRUE;
  for (guint i = 0; i < n_runs && valid; i++)
    {
      valid = runs[i] >= 0 && runs[i] <= n_pixels - at;
      if (valid && i % 2 == 1)
        memset (image + at, 1, runs[i]);
      at += valid ? runs[i] : 0;
    }
  valid = valid && at == n_pixels;
  FUZZ_CHECK (ok == valid, "the decoder says %s to runs that %s", ok ? "yes" : "no",
              valid ? "add up" : "do not add up");
  if (!ok)
    {
      FUZZ_CHECK (mask.n_runs == 0 && mask.runs == NULL, "a refused mask is not left empty");
      return;
    }
  FUZZ_CHECK (mask.width == box->width && mask.height == box->height, "a %d x %d mask for a "
              "%d x %d box", mask.width, mask.height, box->width, box->height);
  g_autofree guint8 *pixels = g_malloc ((gsize) box->width * box->height);
  ss_rle_decode (&mask, pixels);
  gint64 set = 0, inside = 0;
  for (int x = 0; x < width; x++)
    for (int y = 0; y < height; y++)
      {
        gboolean on = image[(gint64) x * height + y];
        set += on;
        if (x >= box->x && x < box->x + box->width && y >= box->y && y < box->y + box->height)
          {
            FUZZ_CHECK (pixels[(y - box->y) * box->width + (x - box->x)] == on,
                        "pixel (%d, %d) decodes as %d, should be %d", x, y,
                        pixels[(y - box->y) * box->width + (x - box->x)], on);
            inside += on;
          }
      }
  FUZZ_CHECK (outside == set - inside, "%" G_GINT64_FORMAT " pixels said outside the box, %"
              G_GINT64_FORMAT " are", outside, set - inside);

  /* and back: the mask over the image, decoded again, is the same mask */
  g_autoptr (GArray) again = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 area = ss_report_coco_rle (&mask, box->x, box->y, width, height, again);
  FUZZ_CHECK (area == inside, "the encoder sets %" G_GINT64_FORMAT " pixels of %" G_GINT64_FORMAT,
              area, inside);
  SsRle round = { 0 };
  FUZZ_CHECK (ss_report_coco_rle_decode ((const gint64 *) again->data, again->len, width, height,
                                         box, &round, &outside),
              "the encoder's runs do not decode");
  FUZZ_CHECK (outside == 0 && round.n_runs == mask.n_runs
                && memcmp (round.runs, mask.runs, sizeof (guint32) * mask.n_runs) == 0,
              "a mask encoded and decoded changes");
  ss_rle_clear (&round);
  ss_rle_clear (&mask);
}

static void
check_blob (const uint8_t *data, size_t size)
{
  SsRle rle;
  if (!ss_store_rle_from_blob (&rle, data, size))
    {
      ss_rle_clear (&rle);  /* as the store does with a mask that does not decode */
      return;
    }
  if (size == 0)
    {
      FUZZ_CHECK (rle.n_runs == 0, "no bytes give %d runs", rle.n_runs);
      return;
    }
  FUZZ_CHECK (rle.width >= 0 && rle.height >= 0 && rle.width <= 65536 && rle.height <= 65536
                && rle.n_runs >= 0 && (gint64) rle.n_runs <= (gint64) rle.width * rle.height + 1,
              "a %d x %d mask of %d runs", rle.width, rle.height, rle.n_runs);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  if (rle.n_runs > 0)
    {
      FUZZ_CHECK (ss_store_rle_to_blob (&rle, bytes), "a decoded mask does not encode");
      SsRle again;
      FUZZ_CHECK (ss_store_rle_from_blob (&again, bytes->data, bytes->len)
                    && again.width == rle.width && again.height == rle.height
                    && again.n_runs == rle.n_runs
                    && memcmp (again.runs, rle.runs, sizeof (guint32) * rle.n_runs) == 0,
                  "a mask blob encoded and decoded changes");
      ss_rle_clear (&again);
    }
  if ((gint64) rle.width * rle.height <= 1 << 16)
    {
      g_autofree guint8 *pixels = g_malloc (MAX ((gsize) rle.width * rle.height, 1));
      ss_rle_decode (&rle, pixels);
      for (gsize i = 0; i < (gsize) rle.width * rle.height; i++)
        FUZZ_CHECK (pixels[i] <= 1, "pixel %" G_GSIZE_FORMAT " decodes as %d", i, pixels[i]);
    }
  ss_rle_clear (&rle);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 7)
    return 0;
  const int width = 1 + data[0] % 64, height = 1 + data[1] % 64;
  SsBox box;
  box.x = data[2] % width;
  box.y = data[3] % height;
  box.width = 1 + data[4] % (width - box.x);
  box.height = 1 + data[5] % (height - box.y);
  if (data[6] & 1)
    check_blob (data + 7, size - 7);
  else
    check_coco (width, height, &box, data + 7, size - 7);
  return 0;
}
