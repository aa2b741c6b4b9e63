/* The image loading wrapper (src/analysis/ss-image.c): every byte string GdkPixbuf may
 * be handed as a field. An image is either refused with an SS_ANALYSIS_ERROR message, or
 * loaded within the pixel limit (the decoded size too, not only the header's), in one
 * of the formats Smearscope reads, as packed RGB of its own size. */
#include "fuzz-util.h"

#include "ss-image.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <string.h>

/* Small, so that the limit is met often and a bomb costs nothing. */
#define FUZZ_MAX_PIXELS (512 * 512)

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsImage) image = ss_image_load (path, FUZZ_MAX_PIXELS, &error);
  if (image == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == SS_ANALYSIS_ERROR
                    && error->message[0] != '\0',
                  "a refused image says nothing");
      return 0;
    }
  FUZZ_CHECK (error == NULL, "an image both loaded and refused: %s", error->message);
  FUZZ_CHECK (image->width > 0 && image->height > 0
                && (gint64) image->width * image->height <= FUZZ_MAX_PIXELS,
              "an image of %d x %d pixels passed the limit of %d", image->width, image->height,
              FUZZ_MAX_PIXELS);
  GdkPixbufFormat *format = gdk_pixbuf_get_file_info (path, NULL, NULL);
  g_autofree char *name = format != NULL ? gdk_pixbuf_format_get_name (format) : NULL;
  FUZZ_CHECK (ss_image_file_is_image (path), "a %s file loads, which is no format Smearscope "
              "reads (JPEG, PNG, TIFF, GIF, BMP)", name != NULL ? name : "unknown");
  /* every pixel written: the sum reads each byte (a sanitizer sees uninitialised ones) */
  guint64 sum = 0;
  for (gsize i = 0; i < (gsize) image->width * image->height * 3; i++)
    sum += image->rgb[i];
  FUZZ_CHECK (sum <= (guint64) 255 * image->width * image->height * 3, "impossible sum");
  return 0;
}
