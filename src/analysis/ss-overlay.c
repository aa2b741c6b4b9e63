/* Overlays drawn with Cairo. Colours follow the class so a reviewer can tell classes
 * apart at a glance; a class's colour is the same in every overlay. */
#include "ss-overlay.h"

#include "ss-counts.h"

#include <cairo.h>
#include <string.h>

static const double class_colour[SS_N_CLASSES][3] = {
  { 0.90, 0.10, 0.10 },  /* lymphoblast: red, the one to notice */
  { 0.10, 0.45, 0.90 },  /* lymphocyte */
  { 0.10, 0.70, 0.20 },  /* neutrophil */
  { 0.95, 0.55, 0.05 },  /* monocyte */
  { 0.85, 0.20, 0.75 },  /* eosinophil */
  { 0.45, 0.25, 0.70 },  /* basophil */
  { 0.00, 0.65, 0.65 },  /* other */
  { 0.50, 0.50, 0.50 },  /* not_a_cell */
};

/* An A8 surface of an RLE mask's outline, for cairo_mask_surface: the mask's pixels
 * within `width` pixels of its edge (or of the box's), the rest clear, so that the cell
 * shows through. */
static cairo_surface_t *
outline_surface (const SsRle *rle, int width)
{
  const int w = rle->width, h = rle->height;
  g_autofree guint8 *bytes = g_new (guint8, MAX ((gsize) w * h, 1));
  ss_rle_decode (rle, bytes);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_A8, w, h);
  guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  cairo_surface_flush (surface);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gboolean edge = FALSE;
        if (bytes[(gsize) y * w + x])
          for (int dy = -width; dy <= width && !edge; dy++)
            for (int dx = -width; dx <= width && !edge; dx++)
              {
                int u = x + dx, v = y + dy;
                edge = u < 0 || v < 0 || u >= w || v >= h || !bytes[(gsize) v * w + u];
              }
        data[y * stride + x] = edge ? 255 : 0;
      }
  cairo_surface_mark_dirty (surface);
  return surface;
}

/* field_width: a label that would run past the field's right edge is moved left */
static void
draw_cell (cairo_t *cr, const SsCell *cell, gboolean set_aside, double scale_text,
           int field_width)
{
  int cls = CLAMP (cell->current_class, 0, SS_N_CLASSES - 1);
  const double *rgb = set_aside ? class_colour[SS_CLASS_NOT_A_CELL] : class_colour[cls];
  const SsBox *box = &cell->box;

  /* outlines, not fills, as the workstation draws them: the cell in its class's colour,
   * the nucleus thinner in white over a dark edge */
  const int line = MAX (1, (int) (scale_text + 0.5));
  if (!set_aside && cell->mask.n_runs > 0)
    {
      cairo_surface_t *m = outline_surface (&cell->mask, line);
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_mask_surface (cr, m, box->x, box->y);
      cairo_surface_destroy (m);
    }
  if (!set_aside && cell->nucleus_mask.n_runs > 0)
    {
      cairo_surface_t *m = outline_surface (&cell->nucleus_mask, line);
      cairo_set_source_rgba (cr, 1.0, 1.0, 1.0, 0.85);
      cairo_mask_surface (cr, m, box->x, box->y);
      cairo_surface_destroy (m);
    }
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_set_line_width (cr, 2.0 * scale_text);
  if (set_aside)
    {
      double dash = 6.0 * scale_text;
      cairo_set_dash (cr, &dash, 1, 0);
    }
  cairo_rectangle (cr, box->x + 0.5, box->y + 0.5, box->width - 1, box->height - 1);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);

  /* a cell a person reviewed shows their class, not the model's confidence in its own;
   * an unsure one (under the default SS_UNSURE_BELOW_DEFAULT, or doubted) says so, and
   * why when it is not the confidence: review it */
  char label[80];
  const gboolean unsure = !set_aside && ss_cell_is_unsure (cell, SS_UNSURE_BELOW_DEFAULT);
  const SsDoubt doubt = unsure ? ss_cell_first_doubt (cell) : SS_DOUBT_NONE;
  if (cell->reviewed || cell->user_drawn)
    g_snprintf (label, sizeof label, "%s, reviewed", ss_class_name (cls));
  else if (unsure && ss_cell_called_by_size (cell))
    /* the analysis's call, not the model's: its confidence says nothing of it */
    g_snprintf (label, sizeof label, "%s? by size: too small for a white cell",
                ss_class_name (cls));
  else
    g_snprintf (label, sizeof label, "%s%s %.2f%s", ss_class_name (cls), unsure ? "?" : "",
                cell->confidence,
                /* the first doubt, as the window gives it */
                !unsure ? ""
                : doubt == SS_DOUBT_NUCLEUS_NOT_ROUND ? " unsure: nucleus not round"
                : doubt == SS_DOUBT_LARGE_FOR_LYMPHOCYTE ? " unsure: large for a lymphocyte"
                : doubt == SS_DOUBT_CAMERA_UNLIKE ? " unsure: camera unlike training"
                : " unsure");
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size (cr, 13.0 * scale_text);
  cairo_text_extents_t ext;
  cairo_text_extents (cr, label, &ext);
  double tx = box->x, ty = box->y - 4 * scale_text;
  tx = MAX (0, MIN (tx, field_width - ext.x_advance - 4 * scale_text));
  if (ty - ext.height < 0)
    ty = box->y + ext.height + 4 * scale_text;
  cairo_rectangle (cr, tx, ty - ext.height - 2 * scale_text, ext.x_advance + 4 * scale_text,
                   ext.height + 4 * scale_text);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, tx + 2 * scale_text, ty);
  cairo_show_text (cr, label);
}

void
ss_overlay_class_colour (int cls, double rgb[3])
{
  const double *colour = class_colour[CLAMP (cls, 0, SS_N_CLASSES - 1)];
  memcpy (rgb, colour, 3 * sizeof (double));
}

cairo_surface_t *
ss_overlay_rgb_surface (const guint8 *rgb, int width, int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  cairo_surface_flush (surface);
  for (int y = 0; y < height; y++)
    {
      const guint8 *src = rgb + (gsize) y * width * 3;
      guint32 *dst = (guint32 *) (data + (gsize) y * stride);
      for (int x = 0; x < width; x++, src += 3)
        dst[x] = ((guint32) src[0] << 16) | ((guint32) src[1] << 8) | src[2];
    }
  cairo_surface_mark_dirty (surface);
  return surface;
}

/* scale_text: the lines' and labels' size in the field's pixels, 1 for 13 px labels */
static void
overlay_draw_at (cairo_t *cr, const SsImage *image, GPtrArray *cells, GPtrArray *set_aside,
                 double scale_text)
{
  cairo_surface_t *field = ss_overlay_rgb_surface (image->rgb, image->width, image->height);
  cairo_save (cr);
  cairo_set_source_surface (cr, field, 0, 0);
  /* a thumbnail shrinks the field: average the pixels rather than pick one */
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_rectangle (cr, 0, 0, image->width, image->height);
  cairo_fill (cr);
  cairo_surface_destroy (field);
  for (guint i = 0; set_aside != NULL && i < set_aside->len; i++)
    draw_cell (cr, set_aside->pdata[i], TRUE, scale_text, image->width);
  for (guint i = 0; i < cells->len; i++)
    draw_cell (cr, cells->pdata[i], FALSE, scale_text, image->width);
  cairo_restore (cr);
}

void
ss_overlay_draw (cairo_t *cr, const SsImage *image, GPtrArray *cells, GPtrArray *set_aside)
{
  overlay_draw_at (cr, image, cells, set_aside,
                   MAX (1.0, MAX (image->width, image->height) / 800.0));
}

int
ss_overlay_png_factor (const SsImage *image)
{
  int side = MAX (image->width, image->height);
  if (side <= 0 || side >= SS_OVERLAY_MIN_SIDE)
    return 1;
  return CLAMP ((SS_OVERLAY_MIN_SIDE + side - 1) / side, 1, SS_OVERLAY_MAX_FACTOR);
}

gboolean
ss_overlay_write_png (const SsImage *image, GPtrArray *cells, GPtrArray *set_aside,
                      const char *path, GError **error)
{
  /* a small field (aria-all's are 224 px) is enlarged, its labels kept at the size they
   * have on a camera's field, so that they no longer cover the cells they name */
  const int k = ss_overlay_png_factor (image);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, image->width * k,
                                                         image->height * k);
  cairo_t *cr = cairo_create (surface);
  if (k == 1)
    ss_overlay_draw (cr, image, cells, set_aside);
  else
    {
      cairo_scale (cr, k, k);
      overlay_draw_at (cr, image, cells, set_aside, 1.0 / k);
    }
  cairo_destroy (cr);
  cairo_status_t status = cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: cannot write the overlay: %s",
                   path, cairo_status_to_string (status));
      return FALSE;
    }
  return TRUE;
}
