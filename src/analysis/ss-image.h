/* Images as the analysis sees them: packed RGB8, decoded at the edge by GdkPixbuf with
 * a limit on pixels, and turned into the engine's float tensors. */
#pragma once

#include "ss-engine.h"

#include <glib.h>

G_BEGIN_DECLS

#define SS_ANALYSIS_ERROR (ss_analysis_error_quark ())
GQuark ss_analysis_error_quark (void);

typedef enum {
  SS_ANALYSIS_ERROR_UNREADABLE,   /* missing, empty, truncated or not an image */
  SS_ANALYSIS_ERROR_TOO_LARGE,    /* over the pixel limit */
  SS_ANALYSIS_ERROR_MODEL,        /* no usable model */
  SS_ANALYSIS_ERROR_DATA,         /* a data set folder is not as expected */
  SS_ANALYSIS_ERROR_CANCELLED,
} SsAnalysisError;

#define SS_DEFAULT_MAX_PIXELS ((gint64) 100 * 1000 * 1000)  /* 100 MP, a setting */

typedef struct {
  int     width, height;
  guint8 *rgb;  /* width * height * 3 bytes, rows packed */
} SsImage;

SsImage *ss_image_new (int width, int height);
void     ss_image_free (SsImage *image);
/* Everything looked at before a file goes to a decoder, for every reader of fields (the
 * analysis, the window's thumbnails): a regular, non-empty file in a format Smearscope
 * reads (by its first bytes; no other GdkPixbuf loader sees it), within max_pixels, its
 * PNG chunks and BMP tables within the file, its JPEG not cut short. FALSE with an
 * SS_ANALYSIS_ERROR saying which; else TRUE and the size its header gives. */
gboolean ss_image_check_file (const char *path, gint64 max_pixels, int *width, int *height,
                              GError **error);
SsImage *ss_image_load (const char *path, gint64 max_pixels, GError **error);
/* TRUE when the file begins as a JPEG, PNG, TIFF, GIF or BMP does (no decoding) */
gboolean ss_image_file_is_image (const char *path);
gboolean ss_image_save_png (const SsImage *image, const char *path, GError **error);

/* Resample the region (x, y, w, h) of image (pixels outside it read as the nearest edge
 * pixel) into out_w x out_h, as planar float CHW in [0,1]. SS_RESAMPLE_BILINEAR: each
 * output pixel is one bilinear tap at its centre. SS_RESAMPLE_AREA: where the region
 * shrinks by s > 1 along an axis, the mean of ceil(s) taps spread evenly over its
 * footprint along that axis (a box filter: fine texture such as granules no longer
 * aliases). Pass the model's SsModelSpec.resample, the way it was trained. */
void ss_image_crop_to_tensor (const SsImage *image, double x, double y, double w, double h,
                              int out_w, int out_h, SsResample resample, float *chw);
/* The same, into packed RGB8 (for training sets kept as bytes). */
void ss_image_crop_to_rgb (const SsImage *image, double x, double y, double w, double h,
                           int out_w, int out_h, SsResample resample, guint8 *rgb);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsImage, ss_image_free)

G_END_DECLS
