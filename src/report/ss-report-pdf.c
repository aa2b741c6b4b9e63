/* The case report as PDF. Each page is laid out into a Cairo recording surface, clipped
 * to the page's content box so nothing is ever drawn past the margins; once the number
 * of pages is known, every page is replayed onto the PDF with its running header, its
 * footer ("Page N of M" and the research-use line) and, for an unsigned case, DRAFT.
 * All text goes through Pango, so any script in a patient reference renders. */
#define G_LOG_DOMAIN "smearscope-report"

#include "ss-config.h"

#include <glib/gi18n-lib.h>

#include "ss-report-pdf.h"

#include "ss-classifier.h"
#include "ss-counts.h"
#include "ss-image.h"
#include "ss-overlay.h"

#include <cairo-pdf.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

/* Points (1/72 in). */
#define MARGIN_SIDE     42.0   /* 15 mm */
#define MARGIN_TOP      58.0   /* room for the running header above the content */
#define MARGIN_BOTTOM   54.0   /* room for the footer below it */
#define RUNNING_Y       26.0   /* top of the running header's line */
#define FOOTER_FROM_BOTTOM 34.0
#define THUMB_GAP       12.0
#define THUMB_MAX_HEIGHT 260.0
#define THUMB_PIXELS_PER_POINT 2.0  /* 144 dpi: cells stay recognisable when zoomed */
#define CROP_SIZE       50.0
#define CROP_GAP        6.0
#define CROP_PIXELS     96     /* 140 dpi at CROP_SIZE */
#define JPEG_QUALITY    "85"

#define FONT_BODY     "Sans 9"
#define FONT_BOLD     "Sans Bold 9"
#define FONT_SMALL    "Sans 7"
#define FONT_TINY     "Sans 6"
#define FONT_TITLE    "Sans Bold 16"
#define FONT_LAB      "Sans Bold 12"
#define FONT_HEADING  "Sans Bold 11"
#define FONT_RUNNING  "Sans 7.5"

static const char research_line[] = N_("For research use. Verify before clinical decisions.");

/* What the report shows of one image, read before any page is laid out. */
typedef struct {
  SsImageRecord   *record;
  int              counts[SS_N_CLASSES];
  GPtrArray       *kept;       /* SsCell* (borrowed): the cells not deleted */
  cairo_surface_t *thumbnail;  /* NULL when the image could not be drawn */
  char            *problem;    /* why not: "image not found: PATH", ... */
} ReportImage;

/* The cells the gallery shows, per class, and their crops once their field is read. */
typedef struct {
  GPtrArray  *shown[SS_N_CLASSES];   /* SsCell* (borrowed), the least certain first */
  int         totals[SS_N_CLASSES];  /* cells of the class, shown or not */
  GHashTable *crops;                 /* SsCell* shown -> cairo_surface_t*, NULL if unread */
} Gallery;

typedef struct {
  double         page_width, page_height;
  double         left, right, top, bottom;  /* the content box */
  PangoContext  *pango;
  GPtrArray     *pages;   /* cairo_surface_t* recording surfaces, one per page */
  cairo_t       *cr;      /* the page being laid out */
  double         y;       /* where the next block goes on it */
} Writer;

typedef struct {
  const char          *title;    /* repeated as "title (continued)" on a new page */
  int                  n_columns;
  const char *const   *headers;
  const double        *widths;   /* fractions of the content width */
  const PangoAlignment *align;
  gboolean             swatch;   /* rows start with a class's colour */
} Table;

static void
report_image_free (ReportImage *image)
{
  g_clear_pointer (&image->record, ss_image_record_free);
  g_clear_pointer (&image->kept, g_ptr_array_unref);
  g_clear_pointer (&image->thumbnail, cairo_surface_destroy);
  g_free (image->problem);
  g_free (image);
}

/* Text -------------------------------------------------------------------------------- */

static PangoLayout *
writer_layout (Writer *w, const char *font, const char *text, double width, PangoAlignment align)
{
  PangoLayout *layout = pango_layout_new (w->pango);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  /* paths, checksums and references have no spaces to break at; broken without a
   * hyphen, which would read as part of them */
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  PangoAttrList *attributes = pango_attr_list_new ();
  pango_attr_list_insert (attributes, pango_attr_insert_hyphens_new (FALSE));
  pango_layout_set_attributes (layout, attributes);
  pango_attr_list_unref (attributes);
  pango_layout_set_alignment (layout, align);
  pango_layout_set_text (layout, text != NULL ? text : "", -1);
  return layout;
}

static double
layout_height (PangoLayout *layout)
{
  int width, height;
  pango_layout_get_size (layout, &width, &height);
  return (double) height / PANGO_SCALE;
}

static void
show_layout (cairo_t *cr, PangoLayout *layout, double x, double y)
{
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

/* Pages ------------------------------------------------------------------------------- */

static void
writer_new_page (Writer *w)
{
  g_clear_pointer (&w->cr, cairo_destroy);
  cairo_rectangle_t extents = { 0, 0, w->page_width, w->page_height };
  cairo_surface_t *page = cairo_recording_surface_create (CAIRO_CONTENT_COLOR_ALPHA, &extents);
  g_ptr_array_add (w->pages, page);
  w->cr = cairo_create (page);
  cairo_rectangle (w->cr, w->left, w->top, w->right - w->left, w->bottom - w->top);
  cairo_clip (w->cr);
  w->y = w->top;
}

/* Start a new page unless height fits under y or the page is still empty (a block
 * taller than a page is clipped at the margin rather than pushed on forever). */
static gboolean
writer_ensure (Writer *w, double height)
{
  if (w->y + height <= w->bottom || w->y <= w->top)
    return FALSE;
  writer_new_page (w);
  return TRUE;
}

/* A paragraph of any length at x, broken between lines across pages. */
static void
writer_paragraph (Writer *w, const char *font, const char *text, double x, double width,
                  const double *rgb)
{
  g_autoptr (PangoLayout) layout = writer_layout (w, font, text, width, PANGO_ALIGN_LEFT);
  PangoLayoutIter *iter = pango_layout_get_iter (layout);
  do
    {
      PangoRectangle logical;
      pango_layout_iter_get_line_extents (iter, NULL, &logical);
      double top = (double) logical.y / PANGO_SCALE;
      double height = (double) logical.height / PANGO_SCALE;
      double baseline = (double) pango_layout_iter_get_baseline (iter) / PANGO_SCALE;
      writer_ensure (w, height);
      cairo_save (w->cr);
      if (rgb != NULL)
        cairo_set_source_rgb (w->cr, rgb[0], rgb[1], rgb[2]);
      cairo_move_to (w->cr, x + (double) logical.x / PANGO_SCALE, w->y + baseline - top);
      pango_cairo_show_layout_line (w->cr, pango_layout_iter_get_line_readonly (iter));
      cairo_restore (w->cr);
      w->y += height;
    }
  while (pango_layout_iter_next_line (iter));
  pango_layout_iter_free (iter);
}

static void
writer_space (Writer *w, double points)
{
  w->y = MIN (w->y + points, w->bottom);
}

/* A section heading, kept on one page with the first keep_with points that follow it. */
static void
writer_heading (Writer *w, const char *text, double keep_with)
{
  g_autoptr (PangoLayout) layout = writer_layout (w, FONT_HEADING, text, w->right - w->left,
                                                  PANGO_ALIGN_LEFT);
  double height = layout_height (layout);
  if (w->y > w->top)
    writer_space (w, 10);
  writer_ensure (w, height + 4 + keep_with);
  show_layout (w->cr, layout, w->left, w->y);
  w->y += height + 1;
  cairo_set_source_rgb (w->cr, 0.55, 0.55, 0.55);
  cairo_set_line_width (w->cr, 0.6);
  cairo_move_to (w->cr, w->left, w->y + 0.5);
  cairo_line_to (w->cr, w->right, w->y + 0.5);
  cairo_stroke (w->cr);
  cairo_set_source_rgb (w->cr, 0, 0, 0);
  w->y += 4;
}

/* "Label   value" lines: the label in a column of its own, the value wrapping beside it. */
static void
writer_field (Writer *w, const char *label, const char *value)
{
  const double label_width = 110;
  if (value == NULL || value[0] == '\0')
    return;
  g_autoptr (PangoLayout) label_layout = writer_layout (w, FONT_BOLD, label, label_width - 6,
                                                        PANGO_ALIGN_LEFT);
  writer_ensure (w, layout_height (label_layout));
  show_layout (w->cr, label_layout, w->left, w->y);
  writer_paragraph (w, FONT_BODY, value, w->left + label_width, w->right - w->left - label_width,
                    NULL);
  w->y += 2;
}

/* Tables -------------------------------------------------------------------------------- */

#define CELL_PAD 2.5

static double
table_column_x (Writer *w, const Table *t, int column)
{
  double x = w->left;
  for (int i = 0; i < column; i++)
    x += t->widths[i] * (w->right - w->left);
  return x;
}

static void
table_header (Writer *w, const Table *t, gboolean continued)
{
  double content_width = w->right - w->left;
  if (continued)
    {
      g_autofree char *title = g_strdup_printf (_("%s (continued)"), t->title);
      g_autoptr (PangoLayout) layout = writer_layout (w, FONT_BOLD, title, content_width,
                                                      PANGO_ALIGN_LEFT);
      show_layout (w->cr, layout, w->left, w->y);
      w->y += layout_height (layout) + 3;
    }
  PangoLayout *layouts[16];
  double height = 0;
  g_assert (t->n_columns <= (int) G_N_ELEMENTS (layouts));
  for (int i = 0; i < t->n_columns; i++)
    {
      layouts[i] = writer_layout (w, FONT_BOLD, t->headers[i],
                                  t->widths[i] * content_width - 2 * CELL_PAD, t->align[i]);
      height = MAX (height, layout_height (layouts[i]));
    }
  height += 2 * CELL_PAD;
  cairo_set_source_rgb (w->cr, 0.90, 0.91, 0.93);
  cairo_rectangle (w->cr, w->left, w->y, content_width, height);
  cairo_fill (w->cr);
  cairo_set_source_rgb (w->cr, 0, 0, 0);
  for (int i = 0; i < t->n_columns; i++)
    {
      show_layout (w->cr, layouts[i], table_column_x (w, t, i) + CELL_PAD, w->y + CELL_PAD);
      g_object_unref (layouts[i]);
    }
  w->y += height;
}

/* The header's height, to keep a table's title with its header and first row. */
static double
table_header_height (Writer *w, const Table *t)
{
  double height = 0;
  for (int i = 0; i < t->n_columns; i++)
    {
      g_autoptr (PangoLayout) layout = writer_layout (w, FONT_BOLD, t->headers[i],
                                                      t->widths[i] * (w->right - w->left)
                                                        - 2 * CELL_PAD, t->align[i]);
      height = MAX (height, layout_height (layout));
    }
  return height + 2 * CELL_PAD;
}

/* One row; on a page break the header is repeated first. bold draws the row as a total.
 * swatch (may be NULL) is the row's class colour when the table has a swatch column. */
static void
table_row (Writer *w, const Table *t, const char *const *cells, gboolean bold,
           const double *swatch)
{
  double content_width = w->right - w->left;
  const double swatch_width = t->swatch ? 10 : 0;
  PangoLayout *layouts[16];
  double height = 0;
  for (int i = 0; i < t->n_columns; i++)
    {
      double width = t->widths[i] * content_width - 2 * CELL_PAD - (i == 0 ? swatch_width : 0);
      layouts[i] = writer_layout (w, bold ? FONT_BOLD : FONT_BODY, cells[i], width, t->align[i]);
      height = MAX (height, layout_height (layouts[i]));
    }
  height += 2 * CELL_PAD;
  if (writer_ensure (w, height))
    table_header (w, t, TRUE);
  if (swatch != NULL)
    {
      cairo_set_source_rgb (w->cr, swatch[0], swatch[1], swatch[2]);
      cairo_rectangle (w->cr, w->left + CELL_PAD, w->y + CELL_PAD + 1.5, 7, 7);
      cairo_fill (w->cr);
      cairo_set_source_rgb (w->cr, 0, 0, 0);
    }
  for (int i = 0; i < t->n_columns; i++)
    {
      show_layout (w->cr, layouts[i],
                   table_column_x (w, t, i) + CELL_PAD + (i == 0 ? swatch_width : 0),
                   w->y + CELL_PAD);
      g_object_unref (layouts[i]);
    }
  w->y += height;
  cairo_set_source_rgb (w->cr, 0.82, 0.82, 0.82);
  cairo_set_line_width (w->cr, 0.4);
  cairo_move_to (w->cr, w->left, w->y);
  cairo_line_to (w->cr, w->right, w->y);
  cairo_stroke (w->cr);
  cairo_set_source_rgb (w->cr, 0, 0, 0);
}

/* A heading, then the table's header, kept with its first row. */
static void
table_begin (Writer *w, const Table *t)
{
  double header = table_header_height (w, t);
  writer_heading (w, t->title, 2 * header);
  table_header (w, t, FALSE);
}

/* Formatting ---------------------------------------------------------------------------- */

/* "2026-12-06 05:10 UTC" from the store's ISO 8601; the text itself if it is not one. */
static char *
format_time (const char *iso)
{
  if (iso == NULL)
    return NULL;
  g_autoptr (GDateTime) time = g_date_time_new_from_iso8601 (iso, NULL);
  if (time == NULL)
    return g_strdup (iso);
  g_autoptr (GDateTime) utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y-%m-%d %H:%M UTC");
}

static char *
format_percent (int part, int total)
{
  if (total <= 0)
    return g_strdup ("");
  return g_strdup_printf ("%.1f%%", 100.0 * part / total);
}

/* What one correction did, in words: "lymphocyte → lymphoblast". */
static char *
describe_correction (const SsCorrection *correction)
{
  const char *old_name = ss_class_display_name (correction->old_class);
  const char *new_name = ss_class_display_name (correction->new_class);
  g_autofree char *change = NULL;
  switch (correction->kind)
    {
    case SS_CORRECTION_RELABEL:
      change = g_strdup_printf ("%s → %s", old_name, new_name);
      break;
    case SS_CORRECTION_ADD:
      change = g_strdup_printf (_("added as %s"), new_name);
      break;
    case SS_CORRECTION_DELETE:
      change = g_strdup_printf (_("%s → deleted"), old_name);
      break;
    case SS_CORRECTION_RESTORE:
      change = g_strdup_printf (_("deleted → %s (restored)"), new_name);
      break;
    case SS_CORRECTION_CONFIRM:
      change = g_strdup_printf (_("%s confirmed"), new_name);
      break;
    default:
      change = g_strdup (ss_correction_kind_name (correction->kind));
      break;
    }
  if (correction->undoes > 0)
    /* %lld, not G_GINT64_FORMAT: gettext cannot look up a string pasted from a macro */
    return g_strdup_printf (_("%s (undoes #%lld)"), change, (long long) correction->undoes);
  return g_steal_pointer (&change);
}

/* Pictures ------------------------------------------------------------------------------ */

/* Attach the surface's pixels as JPEG, which the PDF embeds as it is: a photograph of a
 * field as deflated RGB would make a case's report tens of megabytes. Left without
 * (and embedded losslessly) if the JPEG writer is missing. */
static void
attach_jpeg (cairo_surface_t *surface)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  int stride = cairo_image_surface_get_stride (surface);
  cairo_surface_flush (surface);
  const guint8 *data = cairo_image_surface_get_data (surface);
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int rowstride = gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < height; y++)
    {
      const guint32 *src = (const guint32 *) (data + (gsize) y * stride);
      guint8 *dst = pixels + (gsize) y * rowstride;
      for (int x = 0; x < width; x++)
        {
          dst[3 * x] = (src[x] >> 16) & 0xff;
          dst[3 * x + 1] = (src[x] >> 8) & 0xff;
          dst[3 * x + 2] = src[x] & 0xff;
        }
    }
  char *jpeg = NULL;
  gsize length = 0;
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &jpeg, &length, "jpeg", NULL, "quality", JPEG_QUALITY,
                                  NULL))
    return;
  cairo_surface_set_mime_data (surface, CAIRO_MIME_TYPE_JPEG, (const guint8 *) jpeg, length,
                               g_free, jpeg);
}

/* The field shrunk to width x height pixels with the overlay of its cells. */
static cairo_surface_t *
make_thumbnail (const SsImage *field, GPtrArray *cells, int width, int height)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (surface);
  cairo_scale (cr, (double) width / field->width, (double) height / field->height);
  ss_overlay_draw (cr, field, cells, NULL);
  cairo_destroy (cr);
  attach_jpeg (surface);
  return surface;
}

/* A cell cut as the workstation's gallery cuts it, CROP_PIXELS square. */
static cairo_surface_t *
make_crop (const SsImage *field, const SsCell *cell)
{
  g_autofree guint8 *rgb = g_new (guint8, CROP_PIXELS * CROP_PIXELS * 3);
  ss_cell_view_crop (field, &cell->box, CROP_PIXELS, rgb);
  cairo_surface_t *surface = ss_overlay_rgb_surface (rgb, CROP_PIXELS, CROP_PIXELS);
  attach_jpeg (surface);
  return surface;
}

/* Draw surface scaled into the box (x, y, width, height). */
static void
paint_surface (cairo_t *cr, cairo_surface_t *surface, double x, double y, double width,
               double height)
{
  cairo_save (cr);
  cairo_translate (cr, x, y);
  cairo_scale (cr, width / cairo_image_surface_get_width (surface),
               height / cairo_image_surface_get_height (surface));
  cairo_set_source_surface (cr, surface, 0, 0);
  cairo_paint (cr);
  cairo_restore (cr);
}

/* A grey box with a message where a picture could not be drawn. */
static void
paint_missing (Writer *w, const char *message, double x, double y, double width, double height,
               const char *font)
{
  cairo_set_source_rgb (w->cr, 0.93, 0.93, 0.93);
  cairo_rectangle (w->cr, x, y, width, height);
  cairo_fill (w->cr);
  cairo_set_source_rgb (w->cr, 0.35, 0.35, 0.35);
  g_autoptr (PangoLayout) layout = writer_layout (w, font, message, width - 8, PANGO_ALIGN_CENTER);
  cairo_save (w->cr);
  cairo_rectangle (w->cr, x, y, width, height);
  cairo_clip (w->cr);
  show_layout (w->cr, layout, x + 4, y + MAX (4, (height - layout_height (layout)) / 2));
  cairo_restore (w->cr);
  cairo_set_source_rgb (w->cr, 0, 0, 0);
}

/* The printed size of an image's thumbnail. */
static void
thumbnail_box (Writer *w, const SsImageRecord *record, double *width, double *height)
{
  *width = (w->right - w->left - THUMB_GAP) / 2;
  double aspect = record->width > 0 && record->height > 0
                    ? (double) record->height / record->width : 0.75;
  *height = *width * aspect;
  if (*height > THUMB_MAX_HEIGHT)
    {
      *width *= THUMB_MAX_HEIGHT / *height;
      *height = THUMB_MAX_HEIGHT;
    }
}

/* Order gallery cells as the review stations do: least certain first, then as found. */
static int
compare_gallery_cells (gconstpointer a, gconstpointer b)
{
  const SsCell *x = *(const SsCell *const *) a, *y = *(const SsCell *const *) b;
  if (x->confidence != y->confidence)
    return x->confidence < y->confidence ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Choose the gallery's cells among the kept cells of images: per class, at most
 * per_class, the least certain first. */
static void
gallery_init (Gallery *gallery, GPtrArray *images, int per_class)
{
  memset (gallery, 0, sizeof *gallery);
  gallery->crops = g_hash_table_new_full (NULL, NULL, NULL,
                                          (GDestroyNotify) cairo_surface_destroy);
  for (int k = 0; k < SS_N_CLASSES; k++)
    gallery->shown[k] = g_ptr_array_new ();
  for (guint i = 0; i < images->len; i++)
    {
      ReportImage *image = g_ptr_array_index (images, i);
      for (guint j = 0; j < image->kept->len; j++)
        {
          SsCell *cell = g_ptr_array_index (image->kept, j);
          int cls = CLAMP (cell->current_class, 0, SS_N_CLASSES - 1);
          g_ptr_array_add (gallery->shown[cls], cell);
          gallery->totals[cls]++;
        }
    }
  for (int k = 0; k < SS_N_CLASSES; k++)
    {
      g_ptr_array_sort (gallery->shown[k], compare_gallery_cells);
      if (gallery->shown[k]->len > (guint) per_class)
        g_ptr_array_set_size (gallery->shown[k], per_class);
      for (guint j = 0; j < gallery->shown[k]->len; j++)
        g_hash_table_insert (gallery->crops, gallery->shown[k]->pdata[j], NULL);
    }
}

static void
gallery_clear (Gallery *gallery)
{
  for (int k = 0; k < SS_N_CLASSES; k++)
    g_clear_pointer (&gallery->shown[k], g_ptr_array_unref);
  g_clear_pointer (&gallery->crops, g_hash_table_unref);
}

/* Sections ---------------------------------------------------------------------------- */

static void
section_header (Writer *w, const SsCase *c, const SsReportPdfOptions *options)
{
  double width = w->right - w->left;
  if (options->lab_name != NULL && options->lab_name[0] != '\0')
    writer_paragraph (w, FONT_LAB, options->lab_name, w->left, width, NULL);
  writer_paragraph (w, FONT_TITLE, _("White-cell differential: case report"), w->left, width,
                    NULL);
  writer_space (w, 8);

  g_autofree char *created = format_time (c->created_at);
  g_autofree char *updated = format_time (c->updated_at);
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *made = g_date_time_format (now, "%Y-%m-%d %H:%M UTC");
  g_autofree char *status = NULL;
  if (c->status == SS_CASE_SIGNED)
    {
      g_autofree char *signed_at = format_time (c->signed_at);
      status = g_strdup_printf (_("signed by %s, %s"), c->signed_by, signed_at);
    }
  else
    status = g_strdup_printf (_("%s, not signed (draft)"), ss_case_status_name (c->status));

  writer_field (w, _("Accession"), c->accession);
  writer_field (w, _("Patient reference"), c->patient_ref);
  writer_field (w, _("Specimen"), c->specimen);
  writer_field (w, _("Stain"), c->stain);
  writer_field (w, _("Status"), status);
  writer_field (w, _("Case created"), created);
  writer_field (w, _("Last changed"), updated);
  writer_field (w, _("Report made"), made);
  writer_field (w, _("Notes"), c->notes);
}

/* What the workstation warns of at sign-off: cells no person has looked at that the
 * analysis set aside as unsure (ss_cell_is_unsure). */
static int
count_unsure (GPtrArray *images, double unsure_below)
{
  int unsure = 0;
  for (guint i = 0; i < images->len; i++)
    {
      ReportImage *image = g_ptr_array_index (images, i);
      for (guint j = 0; j < image->kept->len; j++)
        unsure += ss_cell_is_unsure (g_ptr_array_index (image->kept, j), unsure_below);
    }
  return unsure;
}

static void
section_counts (Writer *w, const SsCounts *counts, int n_unsure)
{
  static const double widths[] = { 0.40, 0.12, 0.22, 0.26 };
  static const PangoAlignment align[] = { PANGO_ALIGN_LEFT, PANGO_ALIGN_CENTER,
                                          PANGO_ALIGN_RIGHT, PANGO_ALIGN_RIGHT };
  const char *headers[] = { _("Class"), _("Key"), _("Cells"),
                            /* xgettext:no-c-format */
                            _("% of counted") };
  Table table = { _("Differential count"), 4, headers, widths, align, TRUE };
  table_begin (w, &table);
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      if (!ss_class_is_counted (c))
        continue;
      char key[2] = { ss_class_key (c), '\0' };
      g_autofree char *n = g_strdup_printf ("%d", counts->counts[c]);
      g_autofree char *pct = format_percent (counts->counts[c], counts->total_counted);
      const char *row[] = { ss_class_display_name (c), key, n, pct };
      double rgb[3];
      ss_overlay_class_colour (c, rgb);
      table_row (w, &table, row, FALSE, rgb);
    }
  {
    g_autofree char *n = g_strdup_printf ("%d", counts->total_counted);
    g_autofree char *pct = format_percent (counts->total_counted, counts->total_counted);
    const char *row[] = { _("counted white cells"), "", n, pct };
    table_row (w, &table, row, TRUE, NULL);
  }
  {
    char key[2] = { ss_class_key (SS_CLASS_NOT_A_CELL), '\0' };
    g_autofree char *n = g_strdup_printf ("%d", counts->counts[SS_CLASS_NOT_A_CELL]);
    g_autofree char *name = g_strdup_printf (_("%s (not counted)"),
                                             ss_class_display_name (SS_CLASS_NOT_A_CELL));
    const char *row[] = { name, key, n, "" };
    double rgb[3];
    ss_overlay_class_colour (SS_CLASS_NOT_A_CELL, rgb);
    table_row (w, &table, row, FALSE, rgb);
  }

  writer_space (w, 8);
  double width = w->right - w->left;
  if (counts->total_counted == 0)
    {
      writer_paragraph (w, FONT_BOLD, _("No white cells counted: there is no blast percentage."),
                        w->left, width, NULL);
      return;
    }
  g_autofree char *blast = g_strdup_printf (_("Blasts: %.1f%% of %d counted white cells "
                                              "(95%% interval %.1f–%.1f%%)."),
                                            counts->blast_pct, counts->total_counted,
                                            counts->ci95_low, counts->ci95_high);
  writer_paragraph (w, FONT_HEADING, blast, w->left, width, NULL);
  g_autofree char *flag = NULL;
  static const double red[3] = { 0.75, 0.05, 0.05 };
  static const double amber[3] = { 0.60, 0.38, 0.0 };
  const double *colour = NULL;
  if (counts->decided && counts->flag)
    {
      flag = g_strdup_printf (_("Blast flag raised: above the %g%% threshold, consistent with "
                                "acute lymphoblastic leukaemia. Verify by microscopy."),
                              counts->threshold);
      colour = red;
    }
  else if (counts->decided && n_unsure > 0)
    {
      /* as the window says it: no reassurance resting on calls the analysis doubts */
      flag = g_strdup_printf (ngettext ("No blast flag as the cells are called: at or below the "
                                        "%g%% threshold, but %d cell the analysis marked unsure "
                                        "was not reviewed.",
                                        "No blast flag as the cells are called: at or below the "
                                        "%g%% threshold, but %d cells the analysis marked unsure "
                                        "were not reviewed.", n_unsure),
                              counts->threshold, n_unsure);
      colour = amber;
    }
  else if (counts->decided)
    flag = g_strdup_printf (_("No blast flag: at or below the %g%% threshold."),
                            counts->threshold);
  else if (counts->cells_needed > 0)
    {
      flag = g_strdup_printf (counts->flag
                                ? _("Blast flag raised, but not decided: the 95%% interval "
                                    "includes the %g%% threshold. Count about %d more cells.")
                                : _("No blast flag, but not decided: the 95%% interval "
                                    "includes the %g%% threshold. Count about %d more cells."),
                              counts->threshold, counts->cells_needed);
      colour = counts->flag ? red : amber;
    }
  else
    {
      flag = g_strdup_printf (_("Not decided: the blast percentage sits on the %g%% threshold. "
                                "Verify by microscopy."), counts->threshold);
      colour = amber;
    }
  writer_paragraph (w, FONT_BOLD, flag, w->left, width, colour);
}


/* A sign-off event as the reader says it, in their language. */
static const char *
event_display_name (SsCaseEventKind kind)
{
  switch (kind)
    {
    case SS_CASE_EVENT_SIGNED:   return C_("case event", "signed");
    case SS_CASE_EVENT_REOPENED: return C_("case event", "reopened");
    default:                     return ss_case_event_kind_name (kind);
    }
}

static void
section_signoff (Writer *w, const SsCase *c, GPtrArray *events, GPtrArray *corrections,
                 int unsure, double unsure_below)
{
  double width = w->right - w->left;
  writer_heading (w, _("Review and sign-off"), 30);
  g_autoptr (GPtrArray) reviewers = g_ptr_array_new ();
  for (guint i = 0; i < corrections->len; i++)
    {
      SsCorrection *correction = g_ptr_array_index (corrections, i);
      gboolean seen = FALSE;
      for (guint j = 0; j < reviewers->len && !seen; j++)
        seen = g_strcmp0 (reviewers->pdata[j], correction->user) == 0;
      if (!seen)
        g_ptr_array_add (reviewers, correction->user);
    }
  g_ptr_array_add (reviewers, NULL);
  g_autofree char *names = g_strjoinv (", ", (char **) reviewers->pdata);
  writer_field (w, _("Reviewed by"), names[0] != '\0' ? names : _("no corrections or confirmations"));
  g_autofree char *unsure_text = unsure == 0
    ? g_strdup (_("none"))
    : g_strdup_printf (ngettext ("%d cell the analysis marked unsure (confidence under %.2f, "
                                 "or a doubt it names: a camera new to the model, a nucleus "
                                 "or a size unlike the class called) that no person reviewed",
                                 "%d cells the analysis marked unsure (confidence under %.2f, "
                                 "or a doubt it names: a camera new to the model, a nucleus "
                                 "or a size unlike the class called) that no person reviewed",
                                 unsure),
                       unsure, unsure_below);
  writer_field (w, _("Unsure cells"), unsure_text);
  if (c->status == SS_CASE_SIGNED)
    {
      g_autofree char *signed_at = format_time (c->signed_at);
      writer_field (w, _("Signed by"), c->signed_by);
      writer_field (w, _("Signed at"), signed_at);
    }
  else
    writer_paragraph (w, FONT_BOLD, _("Not signed: this report is a draft. Its counts can "
                                      "still change."), w->left, width, NULL);
  if (events->len == 0)
    return;
  static const double widths[] = { 0.26, 0.13, 0.21, 0.40 };
  static const PangoAlignment align[] = { PANGO_ALIGN_LEFT, PANGO_ALIGN_LEFT, PANGO_ALIGN_LEFT,
                                          PANGO_ALIGN_LEFT };
  const char *headers[] = { _("When"), _("Event"), _("Who"), _("Reason") };
  Table table = { _("Sign-off history"), 4, headers, widths, align, FALSE };
  table_begin (w, &table);
  for (guint i = 0; i < events->len; i++)
    {
      SsCaseEvent *event = g_ptr_array_index (events, i);
      g_autofree char *at = format_time (event->at);
      const char *row[] = { at, event_display_name (event->kind), event->user,
                            event->reason != NULL ? event->reason : "" };
      table_row (w, &table, row, FALSE, NULL);
    }
}

static void
section_morphometrics (Writer *w, GPtrArray *images)
{
  double area[SS_N_CLASSES] = { 0 }, nucleus[SS_N_CLASSES] = { 0 };
  double nc[SS_N_CLASSES] = { 0 }, circularity[SS_N_CLASSES] = { 0 };
  int n[SS_N_CLASSES] = { 0 }, n_nc[SS_N_CLASSES] = { 0 };
  for (guint i = 0; i < images->len; i++)
    {
      ReportImage *image = g_ptr_array_index (images, i);
      for (guint j = 0; j < image->kept->len; j++)
        {
          const SsCell *cell = g_ptr_array_index (image->kept, j);
          const SsMorphometrics *m = &cell->morphometrics;
          int cls = CLAMP (cell->current_class, 0, SS_N_CLASSES - 1);
          if (!(m->area > 0))
            continue;
          n[cls]++;
          area[cls] += m->area;
          nucleus[cls] += m->nucleus_area;
          circularity[cls] += m->circularity;
          /* a nucleus filling the whole cell has no finite ratio: left out of the mean */
          if (isfinite (m->nc_ratio) && m->nc_ratio >= 0)
            {
              n_nc[cls]++;
              nc[cls] += m->nc_ratio;
            }
        }
    }
  static const double widths[] = { 0.28, 0.12, 0.18, 0.18, 0.12, 0.12 };
  static const PangoAlignment align[] = { PANGO_ALIGN_LEFT, PANGO_ALIGN_RIGHT, PANGO_ALIGN_RIGHT,
                                          PANGO_ALIGN_RIGHT, PANGO_ALIGN_RIGHT,
                                          PANGO_ALIGN_RIGHT };
  const char *headers[] = { _("Class"), _("Cells"), _("Mean cell area (px²)"),
                            _("Mean nucleus area (px²)"), _("Mean N:C"), _("Mean circularity") };
  Table table = { _("Morphometrics (cells not deleted, areas in image pixels)"), 6, headers,
                  widths, align, TRUE };
  table_begin (w, &table);
  gboolean any = FALSE;
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      if (n[c] == 0)
        continue;
      any = TRUE;
      g_autofree char *count = g_strdup_printf ("%d", n[c]);
      g_autofree char *mean_area = g_strdup_printf ("%.0f", area[c] / n[c]);
      g_autofree char *mean_nucleus = g_strdup_printf ("%.0f", nucleus[c] / n[c]);
      g_autofree char *mean_nc = n_nc[c] > 0 ? g_strdup_printf ("%.2f", nc[c] / n_nc[c])
                                             : g_strdup ("–");
      g_autofree char *mean_circularity = g_strdup_printf ("%.2f", circularity[c] / n[c]);
      const char *row[] = { ss_class_display_name (c), count, mean_area, mean_nucleus, mean_nc,
                            mean_circularity };
      double rgb[3];
      ss_overlay_class_colour (c, rgb);
      table_row (w, &table, row, FALSE, rgb);
    }
  if (!any)
    {
      const char *row[] = { _("no measured cells"), "", "", "", "", "" };
      table_row (w, &table, row, FALSE, NULL);
    }
}

static void
section_images (Writer *w, GPtrArray *images)
{
  static const double widths[] = { 0.05, 0.36, 0.15, 0.09, 0.08, 0.27 };
  static const PangoAlignment align[] = { PANGO_ALIGN_RIGHT, PANGO_ALIGN_LEFT, PANGO_ALIGN_RIGHT,
                                          PANGO_ALIGN_RIGHT, PANGO_ALIGN_RIGHT,
                                          PANGO_ALIGN_LEFT };
  const char *headers[] = { "#", _("File"), _("Size (px)"), _("Counted"), _("Blasts"),
                            _("Analysed") };
  Table table = { _("Fields"), 6, headers, widths, align, FALSE };
  table_begin (w, &table);
  for (guint i = 0; i < images->len; i++)
    {
      ReportImage *image = g_ptr_array_index (images, i);
      int counted = 0;
      for (int c = 0; c < SS_N_CLASSES; c++)
        counted += ss_class_is_counted (c) ? image->counts[c] : 0;
      g_autofree char *number = g_strdup_printf ("%u", i + 1);
      g_autofree char *size = g_strdup_printf ("%d × %d", image->record->width,
                                               image->record->height);
      g_autofree char *n = g_strdup_printf ("%d", counted);
      g_autofree char *blasts = g_strdup_printf ("%d", image->counts[SS_CLASS_LYMPHOBLAST]);
      g_autofree char *at = format_time (image->record->analysed_at);
      const char *row[] = { number, image->record->path, size, n, blasts, at };
      table_row (w, &table, row, FALSE, NULL);
    }

  /* the thumbnails, two a row, each with its number and file name under it */
  if (images->len == 0)
    return;
  writer_space (w, 8);
  double column_width = (w->right - w->left - THUMB_GAP) / 2;
  for (guint i = 0; i < images->len; i += 2)
    {
      PangoLayout *captions[2] = { NULL, NULL };
      double heights[2] = { 0, 0 }, widths_pt[2] = { 0, 0 }, row_height = 0;
      for (guint k = 0; k < 2 && i + k < images->len; k++)
        {
          ReportImage *image = g_ptr_array_index (images, i + k);
          g_autofree char *base = g_path_get_basename (image->record->path);
          g_autofree char *caption = g_strdup_printf ("%u. %s", i + k + 1, base);
          captions[k] = writer_layout (w, FONT_SMALL, caption, column_width, PANGO_ALIGN_LEFT);
          thumbnail_box (w, image->record, &widths_pt[k], &heights[k]);
          if (image->thumbnail == NULL)
            heights[k] = MIN (heights[k], 90);
          row_height = MAX (row_height, heights[k] + 2 + layout_height (captions[k]));
        }
      writer_ensure (w, row_height);
      for (guint k = 0; k < 2 && i + k < images->len; k++)
        {
          ReportImage *image = g_ptr_array_index (images, i + k);
          double x = w->left + k * (column_width + THUMB_GAP);
          if (image->thumbnail != NULL)
            paint_surface (w->cr, image->thumbnail, x, w->y, widths_pt[k], heights[k]);
          else
            paint_missing (w, image->problem, x, w->y, column_width, heights[k], FONT_SMALL);
          show_layout (w->cr, captions[k], x, w->y + heights[k] + 2);
          g_object_unref (captions[k]);
        }
      w->y += row_height + THUMB_GAP;
    }
}

static void
section_gallery (Writer *w, const Gallery *gallery)
{
  double content_width = w->right - w->left;
  int per_row = MAX (1, (int) ((content_width + CROP_GAP) / (CROP_SIZE + CROP_GAP)));
  double label_height;
  {
    g_autoptr (PangoLayout) probe = writer_layout (w, FONT_TINY, "0.00\nwas lymphoblast",
                                                   CROP_SIZE + CROP_GAP - 1, PANGO_ALIGN_LEFT);
    label_height = layout_height (probe);
  }
  double row_height = CROP_SIZE + 1 + label_height + 3;
  writer_heading (w, _("Cell gallery"), row_height + 20);
  gboolean any = FALSE;
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      GPtrArray *cells = gallery->shown[c];
      int total = gallery->totals[c];
      if (cells->len == 0)
        continue;
      any = TRUE;
      g_autofree char *title = cells->len < (guint) total
        ? g_strdup_printf (_("%s: the %u least certain of %d cells"), ss_class_display_name (c),
                           cells->len, total)
        : g_strdup_printf (ngettext ("%s: %d cell", "%s: %d cells", total),
                           ss_class_display_name (c), total);
      g_autoptr (PangoLayout) title_layout = writer_layout (w, FONT_BOLD, title, content_width - 12,
                                                            PANGO_ALIGN_LEFT);
      double title_height = layout_height (title_layout) + 3;
      writer_space (w, 4);
      writer_ensure (w, title_height + row_height);
      double rgb[3];
      ss_overlay_class_colour (c, rgb);
      cairo_set_source_rgb (w->cr, rgb[0], rgb[1], rgb[2]);
      cairo_rectangle (w->cr, w->left, w->y + 2, 8, 8);
      cairo_fill (w->cr);
      cairo_set_source_rgb (w->cr, 0, 0, 0);
      show_layout (w->cr, title_layout, w->left + 12, w->y);
      w->y += title_height;
      for (guint i = 0; i < cells->len; i++)
        {
          int column = i % per_row;
          if (column == 0 && i > 0)
            w->y += row_height;
          if (column == 0 && writer_ensure (w, row_height))
            {
              /* a class that goes on over a page says which it is */
              g_autofree char *more = g_strdup_printf (_("%s (continued)"), ss_class_display_name (c));
              g_autoptr (PangoLayout) more_layout = writer_layout (w, FONT_BOLD, more,
                                                                   content_width - 12,
                                                                   PANGO_ALIGN_LEFT);
              show_layout (w->cr, more_layout, w->left + 12, w->y);
              w->y += layout_height (more_layout) + 3;
            }
          const SsCell *cell = g_ptr_array_index (cells, i);
          double x = w->left + column * (CROP_SIZE + CROP_GAP);
          cairo_surface_t *crop = g_hash_table_lookup (gallery->crops, cell);
          if (crop != NULL)
            paint_surface (w->cr, crop, x, w->y, CROP_SIZE, CROP_SIZE);
          else
            paint_missing (w, _("no image"), x, w->y, CROP_SIZE, CROP_SIZE, FONT_TINY);
          cairo_set_source_rgb (w->cr, rgb[0], rgb[1], rgb[2]);
          cairo_set_line_width (w->cr, 1.2);
          cairo_rectangle (w->cr, x + 0.6, w->y + 0.6, CROP_SIZE - 1.2, CROP_SIZE - 1.2);
          cairo_stroke (w->cr);
          cairo_set_source_rgb (w->cr, 0, 0, 0);
          g_autofree char *label = NULL;
          /* a call the analysis made by the cell's size has no model confidence */
          /* Translators: under a crop in the report: called "not a cell" by its size */
          g_autofree char *figure = ss_cell_called_by_size (cell) ? g_strdup (_("by size"))
                                    : g_strdup_printf ("%.2f", cell->confidence);
          if (cell->user_drawn)
            label = g_strdup (_("drawn"));
          else if (cell->predicted_class != cell->current_class)
            /* Translators: under a crop: the confidence (or "by size"), then the class the
             * analysis gave it */
            label = g_strdup_printf (_("%s\nwas %s"), figure,
                                     ss_class_display_name (cell->predicted_class));
          else
            label = g_strdup_printf ("%s%s", figure, cell->reviewed ? _(" ✓") : "");
          g_autoptr (PangoLayout) label_layout = writer_layout (w, FONT_TINY, label,
                                                                CROP_SIZE + CROP_GAP - 1,
                                                                PANGO_ALIGN_LEFT);
          show_layout (w->cr, label_layout, x, w->y + CROP_SIZE + 1);
        }
      w->y += row_height;
    }
  if (!any)
    writer_paragraph (w, FONT_BODY, _("No cells."), w->left, content_width, NULL);
  else
    writer_paragraph (w, FONT_SMALL, _("Under each cell: the model's confidence (“by size”: "
                                       "called not a cell for being far smaller than a white "
                                       "cell); “was” names the analysis's class of a corrected "
                                       "cell; ✓ a person confirmed it."),
                      w->left, content_width, NULL);
}

static void
section_corrections (Writer *w, GPtrArray *corrections)
{
  static const double widths[] = { 0.07, 0.25, 0.17, 0.09, 0.42 };
  static const PangoAlignment align[] = { PANGO_ALIGN_RIGHT, PANGO_ALIGN_LEFT, PANGO_ALIGN_LEFT,
                                          PANGO_ALIGN_RIGHT, PANGO_ALIGN_LEFT };
  const char *headers[] = { "#", _("When"), _("Who"), _("Cell"), _("From → to") };
  Table table = { _("Corrections (audit trail)"), 5, headers, widths, align, FALSE };
  table_begin (w, &table);
  if (corrections->len == 0)
    {
      const char *row[] = { "", "", "", "", _("none: every cell is as the model called it") };
      table_row (w, &table, row, FALSE, NULL);
      return;
    }
  for (guint i = 0; i < corrections->len; i++)
    {
      SsCorrection *correction = g_ptr_array_index (corrections, i);
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, correction->id);
      g_autofree char *at = format_time (correction->at);
      g_autofree char *cell = g_strdup_printf ("%" G_GINT64_FORMAT, correction->cell_id);
      g_autofree char *change = describe_correction (correction);
      const char *row[] = { id, at, correction->user, cell, change };
      table_row (w, &table, row, FALSE, NULL);
    }
  SsCorrection *last = g_ptr_array_index (corrections, corrections->len - 1);
  g_autofree char *chain = g_strdup_printf (_("Audit chain head: %s"), last->hash);
  writer_space (w, 3);
  writer_paragraph (w, FONT_SMALL, chain, w->left, w->right - w->left, NULL);
}

static void
section_models (Writer *w, GPtrArray *images)
{
  static const double widths[] = { 0.24, 0.14, 0.52, 0.10 };
  static const PangoAlignment align[] = { PANGO_ALIGN_LEFT, PANGO_ALIGN_LEFT, PANGO_ALIGN_LEFT,
                                          PANGO_ALIGN_RIGHT };
  const char *headers[] = { _("Model"), _("Version"), _("Checksum"), _("Fields") };
  Table table = { _("Models used"), 4, headers, widths, align, FALSE };
  table_begin (w, &table);
  /* one row per distinct model, in the order the fields first used it */
  g_autoptr (GPtrArray) seen = g_ptr_array_new ();
  for (guint i = 0; i < images->len; i++)
    {
      ReportImage *image = g_ptr_array_index (images, i);
      gboolean known = FALSE;
      for (guint j = 0; j < seen->len && !known; j++)
        {
          const SsImageRecord *other = seen->pdata[j];
          known = g_strcmp0 (other->model_name, image->record->model_name) == 0
                  && g_strcmp0 (other->model_version, image->record->model_version) == 0
                  && g_strcmp0 (other->model_checksum, image->record->model_checksum) == 0;
        }
      if (!known)
        g_ptr_array_add (seen, image->record);
    }
  for (guint j = 0; j < seen->len; j++)
    {
      const SsImageRecord *model = seen->pdata[j];
      int n_fields = 0;
      for (guint i = 0; i < images->len; i++)
        {
          ReportImage *image = g_ptr_array_index (images, i);
          n_fields += g_strcmp0 (model->model_name, image->record->model_name) == 0
                      && g_strcmp0 (model->model_version, image->record->model_version) == 0
                      && g_strcmp0 (model->model_checksum, image->record->model_checksum) == 0;
        }
      g_autofree char *count = g_strdup_printf ("%d", n_fields);
      const char *row[] = { model->model_name != NULL ? model->model_name : _("not recorded"),
                            model->model_version != NULL ? model->model_version : "",
                            model->model_checksum != NULL ? model->model_checksum : "",
                            count };
      table_row (w, &table, row, FALSE, NULL);
    }
  if (seen->len == 0)
    {
      const char *row[] = { _("no fields analysed"), "", "", "" };
      table_row (w, &table, row, FALSE, NULL);
    }
}

/* Page furniture, drawn over each laid-out page once the count is known. */
static void
draw_furniture (Writer *w, cairo_t *cr, const SsCase *c, const SsReportPdfOptions *options,
                guint page, guint n_pages)
{
  double width = w->right - w->left;
  gboolean draft = c->status != SS_CASE_SIGNED;

  if (draft)
    {
      /* a watermark that does not hide what lies under it; drawn as outlines, not
       * text, so that copied or extracted text keeps its lines (the running header
       * says DRAFT in words) */
      g_autoptr (PangoLayout) mark = writer_layout (w, "Sans Bold 120", _("DRAFT"),
                                                    w->page_height, PANGO_ALIGN_CENTER);
      cairo_save (cr);
      cairo_translate (cr, w->page_width / 2, w->page_height / 2);
      cairo_rotate (cr, -atan2 (w->page_height, w->page_width));
      cairo_set_source_rgba (cr, 0.85, 0.1, 0.1, 0.10);
      cairo_move_to (cr, -w->page_height / 2, -layout_height (mark) / 2);
      pango_cairo_layout_path (cr, mark);
      cairo_fill (cr);
      cairo_restore (cr);
    }

  g_autofree char *running = NULL;
  if (options->lab_name != NULL && options->lab_name[0] != '\0')
    /* the accession first: a long lab name is what gets shortened */
    running = g_strdup_printf (_("Case %s · %s"), c->accession, options->lab_name);
  else
    running = g_strdup_printf (_("Case %s"), c->accession);
  g_autoptr (PangoLayout) left = writer_layout (w, FONT_RUNNING, running, width * 0.62,
                                                PANGO_ALIGN_LEFT);
  pango_layout_set_ellipsize (left, PANGO_ELLIPSIZE_END);
  pango_layout_set_height (left, 0);  /* one line */
  g_autoptr (PangoLayout) right = writer_layout (w, draft ? "Sans Bold 8" : FONT_RUNNING,
                                                 draft ? _("DRAFT: not signed")
                                                       : _("Signed case report"),
                                                 width * 0.36, PANGO_ALIGN_RIGHT);
  cairo_set_source_rgb (cr, 0.3, 0.3, 0.3);
  show_layout (cr, left, w->left, RUNNING_Y);
  if (draft)
    cairo_set_source_rgb (cr, 0.75, 0.05, 0.05);
  show_layout (cr, right, w->left + width * 0.64, RUNNING_Y);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 0.5);
  double rule = RUNNING_Y + MAX (layout_height (left), layout_height (right)) + 3;
  cairo_move_to (cr, w->left, rule);
  cairo_line_to (cr, w->right, rule);
  double footer = w->page_height - FOOTER_FROM_BOTTOM;
  cairo_move_to (cr, w->left, footer - 4);
  cairo_line_to (cr, w->right, footer - 4);
  cairo_stroke (cr);

  g_autofree char *page_text = g_strdup_printf (_("Page %u of %u"), page, n_pages);
  g_autoptr (PangoLayout) notice = writer_layout (w, "Sans Bold 8", _(research_line),
                                                  width * 0.75, PANGO_ALIGN_LEFT);
  g_autoptr (PangoLayout) number = writer_layout (w, "Sans 8", page_text, width * 0.25,
                                                  PANGO_ALIGN_RIGHT);
  cairo_set_source_rgb (cr, 0, 0, 0);
  show_layout (cr, notice, w->left, footer);
  show_layout (cr, number, w->left + width * 0.75, footer);
}

/* Render ------------------------------------------------------------------------------ */

void
ss_report_pdf_options_init (SsReportPdfOptions *options)
{
  g_return_if_fail (options != NULL);
  memset (options, 0, sizeof *options);
  options->paper = SS_REPORT_PAPER_A4;
  options->threshold = SS_BLAST_THRESHOLD_DEFAULT;
  options->unsure_below = SS_UNSURE_BELOW_DEFAULT;
  options->gallery_per_class = SS_REPORT_PDF_GALLERY_PER_CLASS;
}

gboolean
ss_report_paper_from_name (const char *name, SsReportPaper *paper)
{
  g_return_val_if_fail (paper != NULL, FALSE);
  if (name != NULL && g_ascii_strcasecmp (name, "a4") == 0)
    *paper = SS_REPORT_PAPER_A4;
  else if (name != NULL && g_ascii_strcasecmp (name, "letter") == 0)
    *paper = SS_REPORT_PAPER_LETTER;
  else
    return FALSE;
  return TRUE;
}

static cairo_status_t
append_to_bytes (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* Read each field once: its thumbnail with the overlay, and the crops of its cells that
 * the gallery shows. A field that cannot be read gets its problem instead. */
static void
load_pictures (Writer *w, GPtrArray *images, Gallery *gallery)
{
  for (guint i = 0; i < images->len; i++)
    {
      ReportImage *image = g_ptr_array_index (images, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (SsImage) field = ss_image_load (image->record->path, SS_DEFAULT_MAX_PIXELS,
                                                 &error);
      if (field == NULL)
        {
          if (!g_file_test (image->record->path, G_FILE_TEST_EXISTS))
            image->problem = g_strdup_printf (_("image not found: %s"), image->record->path);
          else
            image->problem = g_strdup_printf (_("image cannot be read: %s"), error->message);
          continue;
        }
      if (field->width != image->record->width || field->height != image->record->height)
        {
          image->problem = g_strdup_printf (_("image changed since the analysis (%d × %d, "
                                              "was %d × %d): %s"), field->width, field->height,
                                            image->record->width, image->record->height,
                                            image->record->path);
          continue;
        }
      double width, height;
      thumbnail_box (w, image->record, &width, &height);
      image->thumbnail = make_thumbnail (field, image->kept,
                                         MAX (1, (int) round (width * THUMB_PIXELS_PER_POINT)),
                                         MAX (1, (int) round (height * THUMB_PIXELS_PER_POINT)));
      for (guint j = 0; j < image->kept->len; j++)
        {
          SsCell *cell = g_ptr_array_index (image->kept, j);
          if (g_hash_table_contains (gallery->crops, cell))
            g_hash_table_replace (gallery->crops, cell, make_crop (field, cell));
        }
    }
}

/* The case's images with their counts and kept cells; takes the records of records. */
static GPtrArray *
report_images_new (SsStore *store, GPtrArray *records, GError **error)
{
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) report_image_free);
  g_ptr_array_set_free_func (records, NULL);
  for (guint i = 0; i < records->len; i++)
    {
      ReportImage *image = g_new0 (ReportImage, 1);
      image->record = g_ptr_array_index (records, i);
      image->kept = g_ptr_array_new ();
      g_ptr_array_add (images, image);
    }
  g_ptr_array_set_size (records, 0);
  for (guint i = 0; i < images->len; i++)
    {
      ReportImage *image = g_ptr_array_index (images, i);
      if (!ss_store_image_counts (store, image->record->id, image->counts, error))
        return NULL;
      for (guint j = 0; j < image->record->cells->len; j++)
        {
          SsCell *cell = g_ptr_array_index (image->record->cells, j);
          if (!cell->deleted)
            g_ptr_array_add (image->kept, cell);
        }
    }
  return g_steal_pointer (&images);
}

static void
writer_init (Writer *w, SsReportPaper paper)
{
  memset (w, 0, sizeof *w);
  if (paper == SS_REPORT_PAPER_LETTER)
    {
      w->page_width = 612;
      w->page_height = 792;
    }
  else
    {
      w->page_width = 595.276;  /* 210 mm */
      w->page_height = 841.89;  /* 297 mm */
    }
  w->left = MARGIN_SIDE;
  w->right = w->page_width - MARGIN_SIDE;
  w->top = MARGIN_TOP;
  w->bottom = w->page_height - MARGIN_BOTTOM;
  w->pages = g_ptr_array_new_with_free_func ((GDestroyNotify) cairo_surface_destroy);
  w->pango = pango_font_map_create_context (pango_cairo_font_map_get_default ());
  pango_cairo_context_set_resolution (w->pango, 72);  /* font sizes in points are page units */
  /* glyph positions as designed, not snapped to a screen's pixels */
  cairo_font_options_t *font_options = cairo_font_options_create ();
  cairo_font_options_set_hint_metrics (font_options, CAIRO_HINT_METRICS_OFF);
  cairo_font_options_set_hint_style (font_options, CAIRO_HINT_STYLE_NONE);
  pango_cairo_context_set_font_options (w->pango, font_options);
  cairo_font_options_destroy (font_options);
}

static void
writer_clear (Writer *w)
{
  g_clear_pointer (&w->cr, cairo_destroy);
  g_clear_pointer (&w->pages, g_ptr_array_unref);
  g_clear_object (&w->pango);
}

/* The laid-out pages as PDF, each with its furniture. */
static GBytes *
writer_to_pdf (Writer *w, const SsCase *c, const SsReportPdfOptions *options, GError **error)
{
  g_clear_pointer (&w->cr, cairo_destroy);
  GByteArray *bytes = g_byte_array_new ();
  cairo_surface_t *pdf = cairo_pdf_surface_create_for_stream (append_to_bytes, bytes,
                                                              w->page_width, w->page_height);
  g_autofree char *title = g_strdup_printf (_("Case %s: white-cell differential"), c->accession);
  cairo_pdf_surface_set_metadata (pdf, CAIRO_PDF_METADATA_TITLE, title);
  cairo_pdf_surface_set_metadata (pdf, CAIRO_PDF_METADATA_CREATOR, "Smearscope " SS_VERSION);
  cairo_t *cr = cairo_create (pdf);
  for (guint i = 0; i < w->pages->len; i++)
    {
      cairo_set_source_surface (cr, g_ptr_array_index (w->pages, i), 0, 0);
      cairo_paint (cr);
      draw_furniture (w, cr, c, options, i + 1, w->pages->len);
      cairo_show_page (cr);
    }
  cairo_destroy (cr);
  cairo_surface_finish (pdf);
  cairo_status_t status = cairo_surface_status (pdf);
  cairo_surface_destroy (pdf);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_byte_array_unref (bytes);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "case %s: cannot make the PDF: %s",
                   c->accession, cairo_status_to_string (status));
      return NULL;
    }
  return g_byte_array_free_to_bytes (bytes);
}

GBytes *
ss_report_pdf_render (SsStore *store, const char *accession, const SsReportPdfOptions *options,
                      GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (store), NULL);
  g_return_val_if_fail (accession != NULL, NULL);
  SsReportPdfOptions defaults;
  if (options == NULL)
    {
      ss_report_pdf_options_init (&defaults);
      options = &defaults;
    }

  g_autoptr (SsCase) c = ss_store_get_case (store, accession, error);
  if (c == NULL)
    return NULL;
  g_autoptr (GPtrArray) records = ss_store_list_images (store, accession, TRUE, error);
  if (records == NULL)
    return NULL;
  g_autoptr (GPtrArray) corrections = ss_store_list_corrections (store, accession, error);
  if (corrections == NULL)
    return NULL;
  g_autoptr (GPtrArray) events = ss_store_list_case_events (store, accession, error);
  if (events == NULL)
    return NULL;
  int case_counts[SS_N_CLASSES];
  if (!ss_store_case_counts (store, accession, case_counts, error))
    return NULL;
  SsCounts counts;
  ss_counts_compute (case_counts, options->threshold, &counts);
  g_autoptr (GPtrArray) images = report_images_new (store, records, error);
  if (images == NULL)
    return NULL;

  Gallery gallery;
  gallery_init (&gallery, images, options->gallery_per_class > 0
                                    ? options->gallery_per_class
                                    : SS_REPORT_PDF_GALLERY_PER_CLASS);
  Writer w;
  writer_init (&w, options->paper);
  load_pictures (&w, images, &gallery);

  writer_new_page (&w);
  section_header (&w, c, options);
  const int n_unsure = count_unsure (images, options->unsure_below);
  section_counts (&w, &counts, n_unsure);
  section_signoff (&w, c, events, corrections, n_unsure, options->unsure_below);
  section_images (&w, images);
  section_gallery (&w, &gallery);
  section_morphometrics (&w, images);
  section_corrections (&w, corrections);
  section_models (&w, images);
  GBytes *pdf = writer_to_pdf (&w, c, options, error);

  writer_clear (&w);
  gallery_clear (&gallery);
  return pdf;
}

gboolean
ss_report_pdf_write (SsStore *store, const char *accession, const SsReportPdfOptions *options,
                     const char *path, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);
  g_autoptr (GBytes) pdf = ss_report_pdf_render (store, accession, options, error);
  if (pdf == NULL)
    return FALSE;
  gsize length = 0;
  const char *data = g_bytes_get_data (pdf, &length);
  return g_file_set_contents (path, data, length, error);
}
