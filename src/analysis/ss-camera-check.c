/* The camera check (issue 27); see ss-camera-check.h. */
#include "ss-camera-check.h"

#include "ss-metrics.h"

#include <gio/gio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct _SsCameraCheck {
  int     n;
  double  threshold;
  float  *stats;                  /* n x SS_CAMERA_STATS, standardised */
  double  mean[SS_CAMERA_STATS], sd[SS_CAMERA_STATS];
  gboolean has_target;
  double  target[6];
};

void
ss_camera_stats_spread (const float *stats, int n, double *mean, double *sd)
{
  enum { S = SS_CAMERA_STATS };
  for (int j = 0; j < S; j++)
    mean[j] = sd[j] = 0;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < S; j++)
      mean[j] += stats[(gsize) i * S + j] / n;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < S; j++)
      {
        double t = stats[(gsize) i * S + j] - mean[j];
        sd[j] += t * t / n;
      }
  for (int j = 0; j < S; j++)
    sd[j] = sqrt (sd[j]) + 1e-3;
}

SsCameraCheck *
ss_camera_check_new (const float *stats, int n, double threshold)
{
  enum { S = SS_CAMERA_STATS };
  if (n < SS_CAMERA_CHECK_K)
    return NULL;
  SsCameraCheck *check = g_new0 (SsCameraCheck, 1);
  check->n = n;
  check->threshold = threshold;
  check->stats = g_new (float, (gsize) n * S);
  ss_camera_stats_spread (stats, n, check->mean, check->sd);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < S; j++)
      check->stats[(gsize) i * S + j]
        = (float) ((stats[(gsize) i * S + j] - check->mean[j]) / check->sd[j]);
  return check;
}

void
ss_camera_check_free (SsCameraCheck *check)
{
  if (check == NULL)
    return;
  g_free (check->stats);
  g_free (check);
}

double
ss_camera_check_distance (const SsCameraCheck *check, const float *stats)
{
  enum { S = SS_CAMERA_STATS, K = SS_CAMERA_CHECK_K };
  double t[S], nearest[K];
  for (int j = 0; j < S; j++)
    t[j] = (stats[j] - check->mean[j]) / check->sd[j];
  for (int k = 0; k < K; k++)
    nearest[k] = INFINITY;
  for (int i = 0; i < check->n; i++)
    {
      double d = 0;
      for (int j = 0; j < S; j++)
        {
          double e = t[j] - check->stats[(gsize) i * S + j];
          d += e * e;
        }
      /* keep the K least, in order */
      for (int k = 0; k < K; k++)
        if (d < nearest[k])
          {
            memmove (nearest + k + 1, nearest + k, sizeof (double) * (K - 1 - k));
            nearest[k] = d;
            break;
          }
    }
  return nearest[K - 1];
}

double
ss_camera_check_threshold (const SsCameraCheck *check)
{
  return check->threshold;
}

gboolean
ss_camera_check_judge (const SsCameraCheck *check, double *distances, gsize n, double *median)
{
  g_return_val_if_fail (n > 0, FALSE);
  ss_sort_doubles (distances, n);
  double m = ss_median_sorted (distances, n);
  if (median != NULL)
    *median = m;
  return m > check->threshold;
}

void
ss_camera_check_set_target (SsCameraCheck *check, const double *target)
{
  check->has_target = target != NULL;
  for (int i = 0; i < 6; i++)
    check->target[i] = target != NULL ? target[i] : 0;
}

gboolean
ss_camera_check_target (const SsCameraCheck *check, double target[6])
{
  if (check->has_target && target != NULL)
    memcpy (target, check->target, sizeof check->target);
  return check->has_target;
}

void
ss_camera_stats_colour (const float *stats, int n, double target[6])
{
  /* every crop has as many pixels: the pooled mean is the mean of the crops' means, the
   * pooled mean square the mean of their variances plus their squared means */
  for (int ch = 0; ch < 3; ch++)
    {
      double m = 0, m2 = 0;
      for (int i = 0; i < n; i++)
        {
          const float *s = stats + (gsize) i * SS_CAMERA_STATS + 3 * ch;
          m += s[0] / n;
          m2 += ((double) s[1] * s[1] + (double) s[0] * s[0]) / n;
        }
      target[ch] = m;
      target[3 + ch] = sqrt (MAX (m2 - m * m, 0));
    }
}

static const char *const stat_names[SS_CAMERA_STATS] = {
  "red_mean", "red_sd", "red_p90", "green_mean", "green_sd", "green_p90",
  "blue_mean", "blue_sd", "blue_p90",
};

/* three means in [0, 1], three deviations in (0, 1] */
static gboolean
target_ok (const double *target)
{
  for (int i = 0; i < 6; i++)
    if (!(target[i] >= 0 && target[i] <= 1 && (i < 3 || target[i] > 0)))
      return FALSE;
  return TRUE;
}

gboolean
ss_camera_check_save (const float *stats, int n, double threshold, const double *target,
                      const char *path, GError **error)
{
  if (target != NULL && !target_ok (target))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "the target colours are not 3 means and 3 positive deviations in [0, 1] "
                   "(the target images are one flat colour?); %s not written", path);
      return FALSE;
    }
  g_autoptr (GString) text = g_string_new (
    "# Smearscope camera check: the camera statistics of cells the cell-type model was "
    "trained on, cut as the analysis cuts them (docs/models.md)\n");
  g_string_append_printf (text, "threshold,%.6g\n", threshold);
  if (target != NULL)
    g_string_append_printf (text, "target,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g\n", target[0],
                            target[1], target[2], target[3], target[4], target[5]);
  for (int j = 0; j < SS_CAMERA_STATS; j++)
    g_string_append_printf (text, "%s%s", j ? "," : "", stat_names[j]);
  g_string_append_c (text, '\n');
  for (int i = 0; i < n; i++)
    for (int j = 0; j < SS_CAMERA_STATS; j++)
      g_string_append_printf (text, "%.6g%c", stats[(gsize) i * SS_CAMERA_STATS + j],
                              j + 1 < SS_CAMERA_STATS ? ',' : '\n');
  return g_file_set_contents (path, text->str, (gssize) text->len, error);
}

static gboolean
parse_number (const char *text, double *value)
{
  char *end = NULL;
  *value = g_ascii_strtod (text, &end);
  return end != text && *end == '\0' && isfinite (*value);
}

SsCameraCheck *
ss_camera_check_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &text, &len, error))
    return NULL;
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  const guint n_lines = g_strv_length (lines);
  double threshold = -1, target[6];
  gboolean has_target = FALSE;
  g_autoptr (GArray) stats = g_array_new (FALSE, FALSE, sizeof (float));
  gboolean header = FALSE;
  for (guint l = 0; l < n_lines; l++)
    {
      g_strchomp (lines[l]);
      if (lines[l][0] == '\0' || lines[l][0] == '#')
        continue;
      if (g_str_has_prefix (lines[l], "threshold,"))
        {
          if (!parse_number (lines[l] + strlen ("threshold,"), &threshold) || threshold <= 0)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s, line %u: the threshold is not a positive number", path, l + 1);
              return NULL;
            }
          continue;
        }
      if (g_str_has_prefix (lines[l], "target,") && has_target)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "%s, line %u: a second target line", path, l + 1);
          return NULL;
        }
      if (g_str_has_prefix (lines[l], "target,"))
        {
          g_auto (GStrv) fields = g_strsplit (lines[l] + strlen ("target,"), ",", -1);
          gboolean ok = g_strv_length (fields) == 6;
          for (int i = 0; ok && i < 6; i++)
            ok = parse_number (fields[i], &target[i]);
          if (!ok || !target_ok (target))
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s, line %u: the target is not 3 means and 3 positive deviations "
                           "in [0, 1]", path, l + 1);
              return NULL;
            }
          has_target = TRUE;
          continue;
        }
      if (!header)
        {
          header = TRUE;  /* the statistics' names */
          continue;
        }
      g_auto (GStrv) fields = g_strsplit (lines[l], ",", -1);
      const char *wrong = stats->len / SS_CAMERA_STATS >= SS_CAMERA_CHECK_MAX_CELLS
                            ? "more cells than a camera check holds"
                          : g_strv_length (fields) != SS_CAMERA_STATS
                            ? "not the 9 statistics of a cell"
                            : NULL;
      if (wrong != NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s, line %u: %s", path,
                       l + 1, wrong);
          return NULL;
        }
      for (int j = 0; j < SS_CAMERA_STATS; j++)
        {
          double v;
          if (!parse_number (fields[j], &v) || v < 0 || v > 1)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "%s, line %u: \"%s\" is not a number in [0, 1], as a cell's "
                           "camera statistics are", path, l + 1, fields[j]);
              return NULL;
            }
          float f = (float) v;
          g_array_append_val (stats, f);
        }
    }
  const int n = (int) (stats->len / SS_CAMERA_STATS);
  if (threshold <= 0 || n < SS_CAMERA_CHECK_K)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s: %s", path,
                   threshold <= 0 ? "no threshold line" : "fewer than 5 known cells");
      return NULL;
    }
  SsCameraCheck *check = ss_camera_check_new ((const float *) stats->data, n, threshold);
  ss_camera_check_set_target (check, has_target ? target : NULL);
  return check;
}
