/* Classification figures and their plots. */
#include "ss-classify-metrics.h"

#include <cairo.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  float score;
  int   positive;
} Ranked;

static int
by_score_desc (const void *a, const void *b)
{
  float x = ((const Ranked *) a)->score, y = ((const Ranked *) b)->score;
  return x > y ? -1 : x < y;
}

static Ranked *
rank_class (const float *probs, const int *labels, int n, int k, int c, int *n_pos,
            int *n_ranked)
{
  Ranked *r = g_new (Ranked, n);
  *n_pos = 0;
  int m = 0;
  for (int i = 0; i < n; i++)
    {
      if (labels[i] < 0)
        continue;  /* known only not to be some class: no place in a ROC curve */
      /* a diverged model's NaN ranks last, and must not stall the tie loops */
      r[m].score = isfinite (probs[(gsize) i * k + c]) ? probs[(gsize) i * k + c] : -INFINITY;
      r[m].positive = labels[i] == c;
      *n_pos += r[m].positive;
      m++;
    }
  *n_ranked = m;
  qsort (r, m, sizeof *r, by_score_desc);
  return r;
}

/* Mann-Whitney: the chance that a random positive outscores a random negative, ties
 * counting one half. */
static double
auc_of (const float *probs, const int *labels, int n, int k, int c)
{
  int n_pos;
  g_autofree Ranked *r = rank_class (probs, labels, n, k, c, &n_pos, &n);
  int n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0)
    return NAN;
  double wins = 0.0;
  int neg_below = n_neg;  /* negatives scored strictly lower than the current group */
  for (int i = 0; i < n;)
    {
      int j = i, pos = 0, neg = 0;
      while (j < n && r[j].score == r[i].score)
        {
          pos += r[j].positive;
          neg += !r[j].positive;
          j++;
        }
      neg_below -= neg;
      wins += pos * (neg_below + 0.5 * neg);
      i = j;
    }
  return wins / ((double) n_pos * n_neg);
}

static double
ratio (double num, double den)
{
  return den > 0 ? num / den : NAN;
}

void
ss_classify_score (const float *probs, const int *labels, int n, int k, SsClassifyScore *s)
{
  memset (s, 0, sizeof *s);
  s->k = k;
  int right = 0;
  for (int i = 0; i < n; i++)
    {
      if (labels[i] < 0)
        continue;  /* partial labels are for training only */
      s->n++;
      int best = ss_argmax (probs + (gsize) i * k, k);
      s->confusion[labels[i]][best]++;
      right += best == labels[i];
    }
  s->accuracy = ratio (right, s->n);
  const int n_all = n;  /* the arrays' length, for the AUC */
  n = s->n;
  /* Macro figures average the classes that have images. A class never called has no
   * PPV (0 / 0); it counts as 0 there, as it should: the model missed all of it. The
   * other figures can be undefined only when the set has no images outside the class
   * (specificity, AUC) or every image was called it (NPV); such classes are left out of
   * those averages, and a figure no class defines stays NaN ("n/a"). */
  double *macro[] = { &s->macro_sensitivity, &s->macro_specificity, &s->macro_ppv,
                      &s->macro_npv, &s->macro_f1, &s->macro_auc };
  int defined[G_N_ELEMENTS (macro)] = { 0 };
  for (int c = 0; c < k; c++)
    {
      double tp = s->confusion[c][c], fn = 0, fp = 0;
      for (int j = 0; j < k; j++)
        if (j != c)
          {
            fn += s->confusion[c][j];
            fp += s->confusion[j][c];
          }
      double tn = n - tp - fn - fp;
      s->sensitivity[c] = ratio (tp, tp + fn);
      s->specificity[c] = ratio (tn, tn + fp);
      s->ppv[c] = ratio (tp, tp + fp);
      s->npv[c] = ratio (tn, tn + fn);
      s->f1[c] = ratio (2 * tp, 2 * tp + fp + fn);
      s->auc[c] = auc_of (probs, labels, n_all, k, c);
      if (tp + fn == 0)
        continue;
      const double v[G_N_ELEMENTS (macro)] = {
        s->sensitivity[c], s->specificity[c], isnan (s->ppv[c]) ? 0.0 : s->ppv[c],
        s->npv[c], s->f1[c], s->auc[c],
      };
      for (guint f = 0; f < G_N_ELEMENTS (macro); f++)
        if (!isnan (v[f]))
          {
            *macro[f] += v[f];
            defined[f]++;
          }
    }
  for (guint f = 0; f < G_N_ELEMENTS (macro); f++)
    *macro[f] = defined[f] > 0 ? *macro[f] / defined[f] : NAN;
}

double *
ss_roc_curve (const float *probs, const int *labels, int n, int k, int c, int *n_points)
{
  int n_pos;
  g_autofree Ranked *r = rank_class (probs, labels, n, k, c, &n_pos, &n);
  int n_neg = n - n_pos;
  double *pts = g_new (double, 2 * (n + 2));
  int m = 0, tp = 0, fp = 0;
  pts[m * 2] = 0;
  pts[m * 2 + 1] = 0;
  m++;
  for (int i = 0; i < n;)
    {
      int j = i;
      while (j < n && r[j].score == r[i].score)
        {
          tp += r[j].positive;
          fp += !r[j].positive;
          j++;
        }
      pts[m * 2] = n_neg > 0 ? (double) fp / n_neg : 0;
      pts[m * 2 + 1] = n_pos > 0 ? (double) tp / n_pos : 0;
      m++;
      i = j;
    }
  *n_points = m;
  return pts;
}

static const double palette[][3] = {
  { 0.80, 0.15, 0.15 }, { 0.15, 0.40, 0.80 }, { 0.15, 0.60, 0.25 }, { 0.60, 0.30, 0.70 },
  { 0.90, 0.55, 0.10 }, { 0.35, 0.35, 0.35 }, { 0.10, 0.65, 0.70 }, { 0.70, 0.50, 0.30 },
};

static gboolean
write_png (cairo_surface_t *surface, const char *path, GError **error)
{
  cairo_status_t st = cairo_surface_write_to_png (surface, path);
  if (st != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s: %s", path,
                   cairo_status_to_string (st));
      return FALSE;
    }
  return TRUE;
}

gboolean
ss_plot_roc (const float *probs, const int *labels, int n, int k, const char *const *names,
             const char *title, const char *path, GError **error)
{
  const int W = 640, H = 640, L = 70, T = 50, S = 520;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size (cr, 15);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_move_to (cr, L, 30);
  cairo_show_text (cr, title);
  /* frame, grid and chance diagonal */
  cairo_set_line_width (cr, 1);
  for (int g = 0; g <= 10; g++)
    {
      double v = g / 10.0;
      cairo_set_source_rgb (cr, 0.9, 0.9, 0.9);
      cairo_move_to (cr, L + v * S, T);
      cairo_line_to (cr, L + v * S, T + S);
      cairo_move_to (cr, L, T + S - v * S);
      cairo_line_to (cr, L + S, T + S - v * S);
      cairo_stroke (cr);
      if (g % 2 == 0)
        {
          char label[8];
          g_snprintf (label, sizeof label, "%.1f", v);
          cairo_set_source_rgb (cr, 0, 0, 0);
          cairo_set_font_size (cr, 11);
          cairo_move_to (cr, L + v * S - 8, T + S + 16);
          cairo_show_text (cr, label);
          cairo_move_to (cr, L - 28, T + S - v * S + 4);
          cairo_show_text (cr, label);
        }
    }
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  double dash = 4;
  cairo_set_dash (cr, &dash, 1, 0);
  cairo_move_to (cr, L, T + S);
  cairo_line_to (cr, L + S, T);
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_rectangle (cr, L, T, S, S);
  cairo_stroke (cr);
  cairo_set_font_size (cr, 13);
  cairo_move_to (cr, L + S / 2 - 90, H - 20);
  cairo_show_text (cr, "false positive rate (1 - specificity)");
  cairo_save (cr);
  cairo_move_to (cr, 22, T + S / 2 + 80);
  cairo_rotate (cr, -G_PI / 2);
  cairo_show_text (cr, "true positive rate (sensitivity)");
  cairo_restore (cr);

  /* a binary task has one curve: the positive (first) class */
  int curves = k == 2 ? 1 : k;
  for (int c = 0; c < curves; c++)
    {
      int m;
      g_autofree double *pts = ss_roc_curve (probs, labels, n, k, c, &m);
      const double *rgb = palette[c % G_N_ELEMENTS (palette)];
      cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
      cairo_set_line_width (cr, 2);
      for (int i = 0; i < m; i++)
        {
          double x = L + pts[2 * i] * S, y = T + S - pts[2 * i + 1] * S;
          if (i == 0)
            cairo_move_to (cr, x, y);
          else
            cairo_line_to (cr, x, y);
        }
      cairo_stroke (cr);
      char legend[96];
      g_snprintf (legend, sizeof legend, "%s  AUC %.4f", names[c], auc_of (probs, labels, n, k, c));
      cairo_rectangle (cr, L + S - 200, T + S - 22 - 18 * (curves - 1 - c), 12, 12);
      cairo_fill (cr);
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_set_font_size (cr, 12);
      cairo_move_to (cr, L + S - 182, T + S - 12 - 18 * (curves - 1 - c));
      cairo_show_text (cr, legend);
    }
  cairo_destroy (cr);
  gboolean ok = write_png (surface, path, error);
  cairo_surface_destroy (surface);
  return ok;
}

gboolean
ss_plot_confusion (const SsClassifyScore *s, const char *const *names, const char *title,
                   const char *path, GError **error)
{
  const int cell = s->k <= 4 ? 110 : 70, L = 130, T = 80;
  const int W = L + cell * s->k + 30, H = T + cell * s->k + 70;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, W, H);
  cairo_t *cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_paint (cr);
  cairo_select_font_face (cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_source_rgb (cr, 0, 0, 0);
  cairo_set_font_size (cr, 14);
  cairo_move_to (cr, 10, 24);
  cairo_show_text (cr, title);
  cairo_set_font_size (cr, 12);
  cairo_move_to (cr, L, T - 40);
  cairo_show_text (cr, "predicted");
  cairo_move_to (cr, 10, T - 10);
  cairo_show_text (cr, "truth");
  for (int t = 0; t < s->k; t++)
    {
      int row_total = 0;
      for (int p = 0; p < s->k; p++)
        row_total += s->confusion[t][p];
      for (int p = 0; p < s->k; p++)
        {
          /* shade by the share of the true class's images */
          double share = row_total > 0 ? (double) s->confusion[t][p] / row_total : 0;
          double x = L + p * cell, y = T + t * cell;
          if (t == p)
            cairo_set_source_rgb (cr, 1 - 0.75 * share, 1 - 0.45 * share, 1 - 0.75 * share);
          else
            cairo_set_source_rgb (cr, 1 - 0.2 * share, 1 - 0.75 * share, 1 - 0.75 * share);
          cairo_rectangle (cr, x, y, cell, cell);
          cairo_fill (cr);
          cairo_set_source_rgb (cr, 0.5, 0.5, 0.5);
          cairo_rectangle (cr, x, y, cell, cell);
          cairo_stroke (cr);
          char text[16];
          g_snprintf (text, sizeof text, "%d", s->confusion[t][p]);
          cairo_set_source_rgb (cr, 0, 0, 0);
          cairo_set_font_size (cr, 14);
          cairo_text_extents_t ext;
          cairo_text_extents (cr, text, &ext);
          cairo_move_to (cr, x + cell / 2.0 - ext.width / 2, y + cell / 2.0 + 5);
          cairo_show_text (cr, text);
        }
      cairo_set_font_size (cr, 11);
      cairo_move_to (cr, 10, T + t * cell + cell / 2.0 + 4);
      cairo_show_text (cr, names[t]);
      cairo_save (cr);
      cairo_move_to (cr, L + t * cell + cell / 2.0 - 4, T - 4);
      cairo_rotate (cr, -G_PI / 6);
      cairo_show_text (cr, names[t]);
      cairo_restore (cr);
    }
  char footer[96];
  g_snprintf (footer, sizeof footer, "%d images, accuracy %.4f", s->n, s->accuracy);
  cairo_set_font_size (cr, 12);
  cairo_move_to (cr, L, H - 25);
  cairo_show_text (cr, footer);
  cairo_destroy (cr);
  gboolean ok = write_png (surface, path, error);
  cairo_surface_destroy (surface);
  return ok;
}
