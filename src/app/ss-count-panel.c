/* The count panel: one row per class with its relabel key (the always-visible key map),
 * the blast percentage with its Wilson interval and what it means, and the review
 * progress. It only reads the document; every update sets just the labels that changed,
 * so a relabel repaints it in well under a frame whatever the size of the case.
 *
 * It is compact, so that the cell gallery below it keeps the height: the classes stand
 * in two columns of rows (keys 1-4 | 5-8), each column a list box so that keyboard and
 * screen-reader users step through the rows as before, then one line each for the
 * counted total, the blasts, the flag and the review. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <adwaita.h>

#include "ss-count-panel.h"

typedef struct
{
  GtkWidget *row;
  GtkWidget *count_label;
  GtkWidget *percent_label;
  char      *accessible_text;   /* what the row last told a screen reader */
} CountRow;

struct _SsCountPanel
{
  GtkWidget       parent_instance;

  SsCaseDocument *document;
  CountRow        rows[SS_N_CLASSES];
  CountRow        total_row;
  char           *not_counted_text;   /* what stands for the percentage of "not a cell" */
  char           *interval_sentence;  /* the interval in words: tooltip and screen reader */
  GtkSizeGroup   *key_group;       /* keycaps: the names line up */
  GtkSizeGroup   *percent_groups[2];   /* a column's percentages: its counts line up */
  GtkSizeGroup   *line_groups[SS_N_CLASSES / 2];   /* side by side rows: one height */

  /* template */
  GtkWidget      *first_column;
  GtkWidget      *second_column;
  GtkWidget      *total_list;
  GtkWidget      *blast_label;
  GtkWidget      *interval_label;
  GtkWidget      *flag_label;
  GtkWidget      *review_label;
  GtkWidget      *review_bar;
};

/* two columns of rows, side by side */
G_STATIC_ASSERT (SS_N_CLASSES % 2 == 0);

G_DEFINE_FINAL_TYPE (SsCountPanel, ss_count_panel, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_DOCUMENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ss_count_panel_set_text (GtkWidget  *label,
                         const char *text)
{
  /* an unchanged label costs no relayout */
  if (g_strcmp0 (gtk_label_get_label (GTK_LABEL (label)), text) != 0)
    gtk_label_set_label (GTK_LABEL (label), text);
}

static void
ss_count_panel_set_row_accessible (CountRow   *row,
                                   const char *text)
{
  if (g_strcmp0 (row->accessible_text, text) == 0)
    return;

  g_free (row->accessible_text);
  row->accessible_text = g_strdup (text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, text,
                                  -1);
}

static void
ss_count_panel_draw_dot (GtkDrawingArea *area,
                         cairo_t        *cr,
                         int             width,
                         int             height,
                         gpointer        user_data)
{
  int cell_class = GPOINTER_TO_INT (user_data);
  double radius = MIN (width, height) / 2.0 - 0.5;
  GdkRGBA color;

  ss_cell_class_color (cell_class, &color);
  cairo_arc (cr, width / 2.0, height / 2.0, radius, 0, 2 * G_PI);
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_fill_preserve (cr);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.25);
  cairo_set_line_width (cr, 1.0);
  cairo_stroke (cr);
}

/* A row: keycap, colour dot, name, count, percentage. cell_class -1 is the total.
 * At 400 px the names fit whole (English and Indonesian); a name is ellipsized only when
 * the column is narrower still. */
static void
ss_count_panel_add_row (SsCountPanel *self,
                        GtkWidget    *list,
                        CountRow     *row,
                        int           cell_class)
{
  GtkWidget *box;
  GtkWidget *key;
  GtkWidget *dot;
  GtkWidget *name;

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

  if (cell_class >= 0)
    {
      char accelerator[2] = { ss_class_key (cell_class), '\0' };
      g_autofree char *tooltip = NULL;

      /* a keycap as the review pane shows one, smaller than a GtkShortcutLabel */
      key = gtk_label_new (accelerator);
      gtk_widget_add_css_class (key, "keycap");
      gtk_widget_set_valign (key, GTK_ALIGN_CENTER);
      tooltip = g_strdup_printf (_("Press %s in the review pane to call the selected cells %s"),
                                 accelerator, ss_cell_class_display_name (cell_class));
      gtk_widget_set_tooltip_text (box, tooltip);

      dot = g_object_new (GTK_TYPE_DRAWING_AREA,
                          "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                          "content-width", 8,
                          "content-height", 8,
                          "valign", GTK_ALIGN_CENTER,
                          NULL);
      gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (dot), ss_count_panel_draw_dot,
                                      GINT_TO_POINTER (cell_class), NULL);
      name = gtk_label_new (ss_cell_class_display_name (cell_class));
    }
  else
    {
      key = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
      dot = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
      gtk_widget_set_size_request (dot, 8, -1);
      name = gtk_label_new (_("Counted white cells"));
      gtk_widget_add_css_class (name, "heading");
    }

  gtk_size_group_add_widget (self->key_group, key);
  gtk_box_append (GTK_BOX (box), key);
  gtk_widget_set_margin_start (dot, 3);
  gtk_widget_set_margin_end (dot, 4);
  gtk_box_append (GTK_BOX (box), dot);

  gtk_label_set_xalign (GTK_LABEL (name), 0.0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_box_append (GTK_BOX (box), name);

  /* three digits wide and right-aligned; a bigger count widens its row */
  row->count_label = gtk_label_new ("0");
  gtk_label_set_xalign (GTK_LABEL (row->count_label), 1.0);
  gtk_label_set_width_chars (GTK_LABEL (row->count_label), 3);
  gtk_widget_set_margin_start (row->count_label, 4);
  gtk_widget_add_css_class (row->count_label, "numeric");
  gtk_box_append (GTK_BOX (box), row->count_label);

  /* "55.0%" wide or wider, as wide as the others in the column (the counts line up) */
  row->percent_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (row->percent_label), 1.0);
  gtk_label_set_width_chars (GTK_LABEL (row->percent_label), 5);
  gtk_label_set_justify (GTK_LABEL (row->percent_label), GTK_JUSTIFY_RIGHT);
  gtk_widget_set_margin_start (row->percent_label, 4);
  gtk_widget_add_css_class (row->percent_label, "numeric");
  gtk_widget_add_css_class (row->percent_label, "caption");
  gtk_widget_add_css_class (row->percent_label, "dim-label");
  /* the total lines up with the second column, whose right edge it shares */
  gtk_size_group_add_widget (self->percent_groups[list == self->first_column ? 0 : 1],
                             row->percent_label);
  gtk_box_append (GTK_BOX (box), row->percent_label);

  /* focusable, not activatable: keyboard and screen-reader users step through the rows */
  row->row = gtk_list_box_row_new ();
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row->row), FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row->row), box);
  gtk_list_box_append (GTK_LIST_BOX (list), row->row);
}

static void
ss_count_panel_update_counts (SsCountPanel *self)
{
  SsCounts counts = { 0 };
  g_autofree char *total_text = NULL;
  g_autofree char *total_accessible = NULL;
  g_autofree char *blast_text = NULL;
  g_autofree char *interval_text = NULL;
  g_autofree char *interval_sentence = NULL;
  g_autofree char *flag_text = NULL;
  g_autofree char *threshold_text = NULL;
  const char *flag_class = NULL;
  int total;

  if (self->document != NULL)
    ss_case_document_get_counts (self->document, &counts);
  total = counts.total_counted;

  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      CountRow *row = &self->rows[c];
      const char *name = ss_cell_class_display_name (c);
      char key = ss_class_key (c);
      g_autofree char *count_text = g_strdup_printf ("%d", counts.counts[c]);
      g_autofree char *percent_text = NULL;
      g_autofree char *accessible = NULL;

      if (!ss_class_is_counted (c))
        {
          percent_text = g_strdup (self->not_counted_text);
          /* TRANSLATORS: a count row read aloud: "Key 8, Not a cell: 14, not in the differential" */
          accessible = g_strdup_printf (_("Key %c, %s: %d, not in the differential"),
                                        key, name, counts.counts[c]);
        }
      else if (total > 0)
        {
          double percent = 100.0 * counts.counts[c] / total;

          percent_text = g_strdup_printf (_("%.1f%%"), percent);
          /* TRANSLATORS: a count row read aloud: "Key 3, Neutrophil: 40 cells, 55.0 percent" */
          accessible = g_strdup_printf (ngettext ("Key %c, %s: %d cell, %.1f percent",
                                                  "Key %c, %s: %d cells, %.1f percent",
                                                  counts.counts[c]),
                                        key, name, counts.counts[c], percent);
        }
      else
        {
          percent_text = g_strdup ("–");
          accessible = g_strdup_printf (_("Key %c, %s: no cells"), key, name);
        }

      ss_count_panel_set_text (row->count_label, count_text);
      ss_count_panel_set_text (row->percent_label, percent_text);
      ss_count_panel_set_row_accessible (row, accessible);
    }

  total_text = g_strdup_printf ("%d", total);
  ss_count_panel_set_text (self->total_row.count_label, total_text);
  ss_count_panel_set_text (self->total_row.percent_label, total > 0 ? "100%" : "–");
  total_accessible = g_strdup_printf (ngettext ("Counted white cells: %d", "Counted white cells: %d",
                                                total),
                                      total);
  ss_count_panel_set_row_accessible (&self->total_row, total_accessible);

  threshold_text = g_strdup_printf ("%g", counts.threshold > 0 ? counts.threshold : SS_BLAST_THRESHOLD_DEFAULT);

  if (self->document == NULL)
    {
      blast_text = g_strdup (_("Blasts –"));
      interval_text = g_strdup ("");
      flag_text = g_strdup (_("No case open"));
    }
  else if (total == 0)
    {
      blast_text = g_strdup (_("Blasts –"));
      interval_text = g_strdup ("");
      flag_text = g_strdup (_("No cells counted yet"));
    }
  else
    {
      const guint n_unsure = ss_case_document_get_n_unsure (self->document);
      blast_text = g_strdup_printf (_("Blasts %.1f%%"), counts.blast_pct);
      /* TRANSLATORS: the Wilson 95% confidence interval of the blast percentage, short,
       * on the line of "Blasts 12.5%": "(95% CI 10.3–15.1%, 340 cells)" */
      interval_text = g_strdup_printf (ngettext ("(95%% CI %.1f–%.1f%%, %d cell)",
                                                 "(95%% CI %.1f–%.1f%%, %d cells)",
                                                 total),
                                       counts.ci95_low, counts.ci95_high, total);
      /* TRANSLATORS: the Wilson 95% interval of the blast percentage */
      interval_sentence = g_strdup_printf (_("95%% interval %.1f–%.1f%% of %d counted cells"),
                                           counts.ci95_low, counts.ci95_high, total);

      if (counts.decided && counts.flag)
        {
          flag_text = g_strdup_printf (_("Blasts above %s%%: consistent with acute leukaemia — verify by microscopy"),
                                       threshold_text);
          flag_class = "error";
        }
      else if (counts.decided && n_unsure > 0)
        {
          /* no reassurance resting on calls the analysis itself doubts: a camera new to
           * the model leaves every call unsure, and the interval says nothing of that */
          flag_text = g_strdup_printf (ngettext ("Blasts at or below %s%% if the %u unsure call is right: review it",
                                                 "Blasts at or below %s%% if the %u unsure calls are right: review them",
                                                 n_unsure),
                                       threshold_text, n_unsure);
          flag_class = "warning";
        }
      else if (counts.decided)
        {
          flag_text = g_strdup_printf (_("Blasts at or below %s%%"), threshold_text);
          flag_class = "success";
        }
      else if (counts.cells_needed > 0)
        {
          flag_text = g_strdup_printf (ngettext ("Undecided: count about %d more cell",
                                                 "Undecided: count about %d more cells",
                                                 counts.cells_needed),
                                       counts.cells_needed);
          flag_class = "warning";
        }
      else
        {
          /* the proportion sits on the threshold: no count settles it */
          flag_text = g_strdup_printf (_("Undecided: blasts at the %s%% threshold — verify by microscopy"),
                                       threshold_text);
          flag_class = "warning";
        }
    }

  ss_count_panel_set_text (self->blast_label, blast_text);
  ss_count_panel_set_text (self->interval_label, interval_text);
  gtk_widget_set_visible (self->interval_label, interval_text[0] != '\0');
  if (interval_sentence != NULL && g_strcmp0 (interval_sentence, self->interval_sentence) != 0)
    {
      /* the short form on screen, the sentence for a tooltip and a screen reader */
      gtk_widget_set_tooltip_text (self->interval_label, interval_sentence);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->interval_label),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, interval_sentence,
                                      -1);
      g_free (self->interval_sentence);
      self->interval_sentence = g_steal_pointer (&interval_sentence);
    }
  ss_count_panel_set_text (self->flag_label, flag_text);

  if (flag_class == NULL || !gtk_widget_has_css_class (self->flag_label, flag_class))
    {
      gtk_widget_remove_css_class (self->flag_label, "error");
      gtk_widget_remove_css_class (self->flag_label, "warning");
      gtk_widget_remove_css_class (self->flag_label, "success");
      if (flag_class != NULL)
        gtk_widget_add_css_class (self->flag_label, flag_class);
    }
}

static void
ss_count_panel_update_review (SsCountPanel *self)
{
  g_autofree char *reviewed_text = NULL;
  g_autofree char *text = NULL;
  guint n_cells = 0;
  guint n_unreviewed = 0;
  guint n_unsure = 0;
  guint n_reviewed;

  if (self->document != NULL)
    {
      n_cells = ss_case_document_get_n_cells (self->document);
      n_unreviewed = ss_case_document_get_n_unreviewed (self->document);
      n_unsure = ss_case_document_get_n_unsure (self->document);
    }
  n_reviewed = n_cells > n_unreviewed ? n_cells - n_unreviewed : 0;

  if (self->document == NULL)
    text = g_strdup ("");
  else if (n_cells == 0)
    text = g_strdup (_("No cells to review"));
  else
    {
      /* TRANSLATORS: "312 of 340 cells reviewed" */
      reviewed_text = g_strdup_printf (ngettext ("%u of %u cell reviewed",
                                                 "%u of %u cells reviewed",
                                                 n_cells),
                                       n_reviewed, n_cells);
      if (n_unsure > 0)
        /* TRANSLATORS: "312 of 340 cells reviewed, 5 unsure" */
        text = g_strdup_printf (_("%s, %u unsure"), reviewed_text, n_unsure);
      else
        text = g_steal_pointer (&reviewed_text);
    }

  ss_count_panel_set_text (self->review_label, text);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->review_bar),
                                 n_cells > 0 ? (double) n_reviewed / n_cells : 0.0);
}

static void
ss_count_panel_review_changed (SsCountPanel   *self,
                               GParamSpec     *pspec,
                               SsCaseDocument *document)
{
  ss_count_panel_update_review (self);
  /* the flag's words depend on the cells still unsure */
  if (g_strcmp0 (g_param_spec_get_name (pspec), "n-unsure") == 0)
    ss_count_panel_update_counts (self);
}

static void
ss_count_panel_dispose (GObject *object)
{
  SsCountPanel *self = SS_COUNT_PANEL (object);
  GtkWidget *child;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);
  g_clear_object (&self->document);

  gtk_widget_dispose_template (GTK_WIDGET (self), SS_TYPE_COUNT_PANEL);
  /* the template's unnamed children too: this widget is their only container */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  for (int c = 0; c < SS_N_CLASSES; c++)
    g_clear_pointer (&self->rows[c].accessible_text, g_free);
  g_clear_pointer (&self->total_row.accessible_text, g_free);
  g_clear_pointer (&self->not_counted_text, g_free);
  g_clear_pointer (&self->interval_sentence, g_free);
  g_clear_object (&self->key_group);
  g_clear_object (&self->percent_groups[0]);
  g_clear_object (&self->percent_groups[1]);
  for (guint i = 0; i < G_N_ELEMENTS (self->line_groups); i++)
    g_clear_object (&self->line_groups[i]);

  G_OBJECT_CLASS (ss_count_panel_parent_class)->dispose (object);
}

static void
ss_count_panel_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  SsCountPanel *self = SS_COUNT_PANEL (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      g_value_set_object (value, self->document);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_count_panel_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  SsCountPanel *self = SS_COUNT_PANEL (object);

  switch (prop_id)
    {
    case PROP_DOCUMENT:
      ss_count_panel_set_document (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_count_panel_class_init (SsCountPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ss_count_panel_dispose;
  object_class->get_property = ss_count_panel_get_property;
  object_class->set_property = ss_count_panel_set_property;

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL,
                         SS_TYPE_CASE_DOCUMENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/smearscope/Smearscope/ss-count-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, first_column);
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, second_column);
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, total_list);
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, blast_label);
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, interval_label);
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, flag_label);
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, review_label);
  gtk_widget_class_bind_template_child (widget_class, SsCountPanel, review_bar);

  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
ss_count_panel_init (SsCountPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  /* a dash where the others have a percentage: the row's tooltip and accessible label
   * say "not in the differential" in words */
  self->not_counted_text = g_strdup ("—");
  self->key_group = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
  self->percent_groups[0] = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);
  self->percent_groups[1] = gtk_size_group_new (GTK_SIZE_GROUP_HORIZONTAL);

  /* classes in key order, down the first column then down the second: 1|5, 2|6, 3|7, 4|8
   * on screen, 1 to 8 for the keyboard and a screen reader */
  for (int c = 0; c < SS_N_CLASSES; c++)
    {
      int line = c % G_N_ELEMENTS (self->line_groups);

      ss_count_panel_add_row (self,
                              c < (int) G_N_ELEMENTS (self->line_groups) ? self->first_column
                                                                         : self->second_column,
                              &self->rows[c], c);
      if (self->line_groups[line] == NULL)
        self->line_groups[line] = gtk_size_group_new (GTK_SIZE_GROUP_VERTICAL);
      gtk_size_group_add_widget (self->line_groups[line], self->rows[c].row);
    }
  ss_count_panel_add_row (self, self->total_list, &self->total_row, -1);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Cell counts"),
                                  -1);

  ss_count_panel_update_counts (self);
  ss_count_panel_update_review (self);
}

GtkWidget *
ss_count_panel_new (void)
{
  return g_object_new (SS_TYPE_COUNT_PANEL, NULL);
}

SsCaseDocument *
ss_count_panel_get_document (SsCountPanel *self)
{
  g_return_val_if_fail (SS_IS_COUNT_PANEL (self), NULL);

  return self->document;
}

void
ss_count_panel_set_document (SsCountPanel   *self,
                             SsCaseDocument *document)
{
  g_return_if_fail (SS_IS_COUNT_PANEL (self));
  g_return_if_fail (document == NULL || SS_IS_CASE_DOCUMENT (document));

  if (self->document == document)
    return;

  if (self->document != NULL)
    g_signal_handlers_disconnect_by_data (self->document, self);

  g_set_object (&self->document, document);

  if (document != NULL)
    {
      g_signal_connect_swapped (document, "counts-changed",
                                G_CALLBACK (ss_count_panel_update_counts), self);
      g_signal_connect_swapped (document, "notify::n-unreviewed",
                                G_CALLBACK (ss_count_panel_review_changed), self);
      g_signal_connect_swapped (document, "notify::n-unsure",
                                G_CALLBACK (ss_count_panel_review_changed), self);
      g_signal_connect_swapped (document, "notify::n-cells",
                                G_CALLBACK (ss_count_panel_review_changed), self);
      /* the flag follows the blast threshold the user sets */
      g_signal_connect_swapped (document, "notify::blast-threshold",
                                G_CALLBACK (ss_count_panel_update_counts), self);
    }

  ss_count_panel_update_counts (self);
  ss_count_panel_update_review (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}
