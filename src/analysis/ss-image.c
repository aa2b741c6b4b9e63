/* Image decoding and resampling. Decoding happens only here, through GdkPixbuf, after
 * the header's size has been checked against the pixel limit. */
#include "ss-image.h"

#include <errno.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

G_DEFINE_QUARK (ss-analysis-error-quark, ss_analysis_error)

SsImage *
ss_image_new (int width, int height)
{
  SsImage *image = g_new0 (SsImage, 1);
  image->width = width;
  image->height = height;
  image->rgb = g_malloc0 ((gsize) width * height * 3);
  return image;
}

void
ss_image_free (SsImage *image)
{
  if (image == NULL)
    return;
  g_free (image->rgb);
  g_free (image);
}

/* GdkPixbuf decodes a cut-off JPEG without an error, greying the missing part: a JPEG
 * must end with its end-of-image marker (FF D9), allowing some trailing padding. */
static gboolean
jpeg_truncated (const char *path)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return FALSE;
  guint8 head[2] = { 0 }, tail[4096];
  gboolean truncated = FALSE;
  if (fread (head, 1, 2, f) == 2 && head[0] == 0xff && head[1] == 0xd8)
    {
      long back = 0;
      if (fseek (f, 0, SEEK_END) == 0)
        back = MIN (ftell (f), (long) sizeof tail);
      size_t got = 0;
      if (back > 0 && fseek (f, -back, SEEK_END) == 0)
        got = fread (tail, 1, (size_t) back, f);
      truncated = TRUE;
      for (size_t i = got; i >= 2 && truncated; i--)
        truncated = !(tail[i - 2] == 0xff && tail[i - 1] == 0xd9);
    }
  fclose (f);
  return truncated;
}

/* libpng allocates each chunk's declared length before reading it: a 265-byte PNG whose
 * text chunk says 620 MB took that much memory and 15 s. Every chunk of a PNG must fit
 * in the file; FALSE (with the chunk's place in *bad_at) when one does not. */
static gboolean
png_chunks_fit (const char *path, gint64 size, gint64 *bad_at)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    return TRUE;  /* the decoder says why it cannot read it */
  guint8 head[8];
  gboolean fit = TRUE;
  gint64 at = 8;
  if (fread (head, 1, 8, f) == 8 && memcmp (head, "\x89PNG", 4) == 0)
    while (fit && at + 12 <= size && fseek (f, (long) at, SEEK_SET) == 0
           && fread (head, 1, 8, f) == 8)
      {
        const guint32 length = (guint32) head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3];
        fit = (gint64) length <= size - at - 12;
        *bad_at = at;
        if (memcmp (head + 4, "IEND", 4) == 0)
          break;
        at += 12 + (gint64) length;
      }
  fclose (f);
  return fit;
}

static guint32
le32 (const guint8 *p)
{
  return p[0] | p[1] << 8 | p[2] << 16 | (guint32) p[3] << 24;
}

/* A BMP's info header is one of the sizes its versions define, and its pixels start
 * inside the file: GdkPixbuf allocates whatever the file says (fuzzed ones asked for
 * 1.7 and 2 GB). So does its colour table: a 55-byte file that said 16.7 million
 * colours made the loader ask for 4 GB. The table (4 bytes a colour after an info
 * header of 40 bytes or more) must fit in the file, with no more colours than the
 * pixels' bits can name. */
static gboolean
bmp_header_sane (const guint8 *head, size_t got, long size)
{
  if (got < 18 || head[0] != 'B' || head[1] != 'M' || head[6] != 0 || head[7] != 0)
    return FALSE;
  const guint32 info = le32 (head + 14);
  const guint32 pixels = le32 (head + 10);
  if ((long) pixels >= size
      || !(info == 12 || info == 16 || info == 40 || info == 52 || info == 56 || info == 64
           || info == 108 || info == 124))
    return FALSE;
  if (info < 40)
    return TRUE;  /* an OS/2 header: no colour count, the table is what the bits name */
  if (got < 50)
    return FALSE; /* shorter than its own header */
  const guint bits = head[28] | head[29] << 8;
  const guint64 colours = le32 (head + 46);
  if (bits <= 8 && colours > (1u << bits))
    return FALSE;
  return 14 + (guint64) info + 4 * colours <= (guint64) size;
}

/* TRUE when the file's first bytes are those of a format Smearscope reads; *bmp (may
 * be NULL) says whether it starts as a BMP does, sane or not */
static gboolean
sniff (const char *path, gboolean *bmp)
{
  guint8 head[54] = { 0 };
  FILE *f = fopen (path, "rb");
  if (bmp != NULL)
    *bmp = FALSE;
  if (f == NULL)
    return FALSE;
  size_t got = fread (head, 1, sizeof head, f);
  long size = fseek (f, 0, SEEK_END) == 0 ? ftell (f) : -1;
  fclose (f);
  if (got < 4)
    return FALSE;
  if (bmp != NULL)
    *bmp = head[0] == 'B' && head[1] == 'M';
  return (head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)              /* JPEG */
         || memcmp (head, "\x89PNG", 4) == 0                                   /* PNG */
         || memcmp (head, "II*\0", 4) == 0 || memcmp (head, "MM\0*", 4) == 0   /* TIFF */
         || memcmp (head, "GIF8", 4) == 0
         || bmp_header_sane (head, got, size);                                /* BMP */
}

gboolean
ss_image_file_is_image (const char *path)
{
  return sniff (path, NULL);
}

gboolean
ss_image_check_file (const char *path, gint64 max_pixels, int *width_out, int *height_out,
                     GError **error)
{
  GStatBuf st;
  int width = 0, height = 0;

  if (g_stat (path, &st) != 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: cannot open: %s", path, g_strerror (errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: not a regular file", path);
      return FALSE;
    }
  if (st.st_size == 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: the file is empty", path);
      return FALSE;
    }
  /* GdkPixbuf's loaders also take SVG, XPM, ICO, TGA, PNM and more: none of them is a
   * microscope field, and each is one more decoder open to a hostile file. The bytes
   * are looked at first, so that no other loader even sees the file. */
  static const char *const formats[] = { "jpeg", "png", "tiff", "gif", "bmp", NULL };
  gboolean bmp = FALSE;
  GdkPixbufFormat *format = sniff (path, &bmp)
                              ? gdk_pixbuf_get_file_info (path, &width, &height) : NULL;
  if (format == NULL && bmp)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: the BMP file is damaged: its header asks for more than the file holds",
                   path);
      return FALSE;
    }
  g_autofree char *format_name = format != NULL ? gdk_pixbuf_format_get_name (format) : NULL;
  if (format_name == NULL || !g_strv_contains (formats, format_name))
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: not an image Smearscope can read (JPEG, PNG, TIFF, GIF or BMP)%s%s",
                   path, format_name != NULL ? "; it is " : "",
                   format_name != NULL ? format_name : "");
      return FALSE;
    }
  if (width <= 0 || height <= 0)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: the image says it is %d x %d pixels", path, width, height);
      return FALSE;
    }
  if ((gint64) width * height > max_pixels)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_TOO_LARGE,
                   "%s: %d x %d pixels is over the limit of %" G_GINT64_FORMAT " pixels",
                   path, width, height, max_pixels);
      return FALSE;
    }
  gint64 bad_at = 0;
  if (!png_chunks_fit (path, st.st_size, &bad_at))
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: the PNG file is damaged: its chunk at byte %" G_GINT64_FORMAT " is "
                   "longer than the file", path, bad_at);
      return FALSE;
    }
  if (jpeg_truncated (path))
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: the JPEG file is truncated (no end-of-image marker)", path);
      return FALSE;
    }
  if (width_out != NULL)
    *width_out = width;
  if (height_out != NULL)
    *height_out = height;
  return TRUE;
}

SsImage *
ss_image_load (const char *path, gint64 max_pixels, GError **error)
{
  g_autoptr (GError) local = NULL;
  int width, height;

  if (!ss_image_check_file (path, max_pixels, NULL, NULL, error))
    return NULL;
  g_autoptr (GdkPixbuf) raw = gdk_pixbuf_new_from_file (path, &local);
  if (raw == NULL)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: cannot decode: %s", path, local->message);
      return NULL;
    }
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_apply_embedded_orientation (raw);
  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8
      || gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_UNREADABLE,
                   "%s: unsupported pixel format", path);
      return NULL;
    }
  const int channels = gdk_pixbuf_get_n_channels (pixbuf);
  const gboolean alpha = gdk_pixbuf_get_has_alpha (pixbuf);
  const int rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  SsImage *image = ss_image_new (width, height);
  for (int y = 0; y < height; y++)
    {
      const guint8 *src = pixels + (gsize) y * rowstride;
      guint8 *dst = image->rgb + (gsize) y * width * 3;
      for (int x = 0; x < width; x++, src += channels, dst += 3)
        {
          if (alpha)
            {
              /* transparent parts read as a white (empty) slide */
              int a = src[3];
              for (int c = 0; c < 3; c++)
                dst[c] = (guint8) ((src[c] * a + 255 * (255 - a) + 127) / 255);
            }
          else if (channels >= 3)
            memcpy (dst, src, 3);
          else
            dst[0] = dst[1] = dst[2] = src[0];
        }
    }
  return image;
}

gboolean
ss_image_save_png (const SsImage *image, const char *path, GError **error)
{
  if (image->width < 1 || image->height < 1)
    {
      g_set_error (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_DATA,
                   "%s: cannot write an empty image", path);
      return FALSE;
    }
  g_autoptr (GdkPixbuf) pixbuf =
    gdk_pixbuf_new_from_data (image->rgb, GDK_COLORSPACE_RGB, FALSE, 8, image->width,
                              image->height, image->width * 3, NULL, NULL);
  return gdk_pixbuf_save (pixbuf, path, "png", error, NULL);
}

/* One bilinear tap along an axis: the two source indices (clamped to the image, so that
 * outside it the nearest edge pixel is read) and the weight of the second. */
typedef struct {
  int   a, b;
  float f;
} Tap;

/* The taps of every output position along an axis: n per position, at the centres of an
 * even grid over its footprint (n = 1: the footprint's centre), in pixel-centre
 * coordinates of a source axis of `size` pixels. */
static Tap *
axis_taps (double origin, double step, int out, int n, int size)
{
  Tap *taps = g_new (Tap, (gsize) out * n);
  for (int o = 0; o < out; o++)
    for (int i = 0; i < n; i++)
      {
        double at = origin + (o + (i + 0.5) / n) * step - 0.5;
        int lo = (int) floor (at);
        Tap *t = &taps[o * n + i];
        t->f = (float) (at - lo);
        t->a = CLAMP (lo, 0, size - 1);
        t->b = CLAMP (lo + 1, 0, size - 1);
      }
  return taps;
}

/* Taps along an axis that shrinks by s: one when not shrinking or not averaging. */
static int
taps_for (double s, SsResample how)
{
  return how == SS_RESAMPLE_AREA && s > 1.0 ? (int) ceil (s - 1e-9) : 1;
}

/* The region (x, y, w, h) at out_w x out_h: each output pixel the mean of its nx x ny
 * bilinear taps, as floats in 8-bit units, handed to `put` with its position. */
typedef void (*PutPixel) (void *dest, int out_w, int out_h, int ox, int oy, const float v[3]);

static void
resample (const SsImage *image, double x, double y, double w, double h, int out_w, int out_h,
          SsResample how, PutPixel put, void *dest)
{
  const double sx = w / out_w, sy = h / out_h;
  const int nx = taps_for (sx, how), ny = taps_for (sy, how);
  g_autofree Tap *xt = axis_taps (x, sx, out_w, nx, image->width);
  g_autofree Tap *yt = axis_taps (y, sy, out_h, ny, image->height);
  const gsize stride = (gsize) image->width * 3;
  const float scale = 1.0f / (float) (nx * ny);
  for (int oy = 0; oy < out_h; oy++)
    for (int ox = 0; ox < out_w; ox++)
      {
        float acc[3] = { 0, 0, 0 };
        for (int j = 0; j < ny; j++)
          {
            const Tap *ty = &yt[oy * ny + j];
            const float fy = ty->f;
            const guint8 *row0 = image->rgb + ty->a * stride, *row1 = image->rgb + ty->b * stride;
            for (int i = 0; i < nx; i++)
              {
                const Tap *tx = &xt[ox * nx + i];
                const float fx = tx->f;
                const guint8 *p00 = row0 + tx->a * 3, *p10 = row0 + tx->b * 3;
                const guint8 *p01 = row1 + tx->a * 3, *p11 = row1 + tx->b * 3;
                const float w00 = (1 - fx) * (1 - fy), w10 = fx * (1 - fy);
                const float w01 = (1 - fx) * fy, w11 = fx * fy;
                for (int c = 0; c < 3; c++)
                  acc[c] += w00 * p00[c] + w10 * p10[c] + w01 * p01[c] + w11 * p11[c];
              }
          }
        for (int c = 0; c < 3; c++)
          acc[c] *= scale;
        put (dest, out_w, out_h, ox, oy, acc);
      }
}

static void
put_tensor (void *dest, int out_w, int out_h, int ox, int oy, const float v[3])
{
  float *chw = dest;
  const gsize plane = (gsize) out_w * out_h;
  for (int c = 0; c < 3; c++)
    chw[c * plane + (gsize) oy * out_w + ox] = v[c] * (1.0f / 255.0f);
}

static void
put_rgb (void *dest, int out_w, int out_h, int ox, int oy, const float v[3])
{
  guint8 *rgb = dest;
  for (int c = 0; c < 3; c++)
    rgb[((gsize) oy * out_w + ox) * 3 + c] = (guint8) CLAMP ((int) lrintf (v[c]), 0, 255);
}

void
ss_image_crop_to_tensor (const SsImage *image, double x, double y, double w, double h,
                         int out_w, int out_h, SsResample how, float *chw)
{
  resample (image, x, y, w, h, out_w, out_h, how, put_tensor, chw);
}

void
ss_image_crop_to_rgb (const SsImage *image, double x, double y, double w, double h, int out_w,
                      int out_h, SsResample how, guint8 *rgb)
{
  resample (image, x, y, w, h, out_w, out_h, how, put_rgb, rgb);
}
