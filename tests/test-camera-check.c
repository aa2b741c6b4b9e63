/* The camera check (issue 27): the distance to the K-th nearest known cell, each
 * statistic in units of its spread over the known cells, worked out by hand on points
 * that differ in one statistic; a statistic every known cell shares counts a difference
 * in it as large; too few known cells give no check; the file beside a model read back as
 * written (with and without the colours an unlike camera is brought to), the pooled
 * colours of crops worked out from their statistics, a missing file told apart from a
 * damaged one, and damaged ones refused with what is wrong. */
#include "ss-camera-check.h"

#include "engine-test-util.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

int
main (void)
{
  enum { S = SS_CAMERA_STATS, N = 10 };
  /* ten known cells: statistic 0 is 0, 1, ..., 9 (mean 4.5, spread sqrt(8.25)); every
   * other statistic is 0.5 for all */
  float known[N * S];
  for (int i = 0; i < N; i++)
    for (int j = 0; j < S; j++)
      known[i * S + j] = j == 0 ? (float) i : 0.5f;
  CHECK (ss_camera_check_new (known, SS_CAMERA_CHECK_K - 1, 1.0) == NULL,
         "fewer known cells than K give no check");
  SsCameraCheck *check = ss_camera_check_new (known, N, 1.0);
  CHECK (check != NULL, "ten known cells give a check");
  const double sd = sqrt (8.25) + 1e-3;
  float cell[S];
  for (int j = 0; j < S; j++)
    cell[j] = 0.5f;
  /* at 4.5, the 5th nearest of 0..9 is 2.5 away (4 and 5 at 0.5, 3 and 6 at 1.5, then 2
   * and 7 at 2.5) */
  cell[0] = 4.5f;
  double d = ss_camera_check_distance (check, cell);
  CHECK (fabs (d - pow (2.5 / sd, 2)) < 1e-5, "at 4.5: %g, not %g", d, pow (2.5 / sd, 2));
  /* at 20, the 5th nearest is 5, 15 away */
  cell[0] = 20.0f;
  d = ss_camera_check_distance (check, cell);
  CHECK (fabs (d - pow (15 / sd, 2)) < 1e-4, "at 20: %g, not %g", d, pow (15 / sd, 2));
  /* a statistic all known cells share (spread 0, counted as 0.001): 0.01 off in it is 10
   * spreads, on top of the 2.5 in statistic 0 */
  cell[0] = 4.5f;
  cell[3] = 0.51f;
  d = ss_camera_check_distance (check, cell);
  CHECK (fabs (d - (pow (2.5 / sd, 2) + 100.0)) < 0.05, "off in a shared statistic: %g", d);
  /* saved and loaded: the same distances and threshold */
  char dir[] = "/tmp/ss-camera-check-XXXXXX";
  CHECK (g_mkdtemp (dir) != NULL, "temporary folder");
  g_autofree char *path = g_build_filename (dir, "m-cameras.csv", NULL);
  GError *error = NULL;
  /* a file holds statistics as a crop has them, in [0, 1]: the known cells a tenth */
  float tenth[N * S];
  for (int i = 0; i < N * S; i++)
    tenth[i] = known[i] / 10;
  SsCameraCheck *small = ss_camera_check_new (tenth, N, 2.5);
  float cell_tenth[S];
  for (int j = 0; j < S; j++)
    cell_tenth[j] = cell[j] / 10;
  CHECK (ss_camera_check_save (known, N, 2.5, NULL, path, &error), "save: %s",
         error ? error->message : "");
  g_clear_error (&error);
  CHECK (ss_camera_check_load (path, &error) == NULL && error != NULL
           && strstr (error->message, "in [0, 1]") != NULL,
         "statistics beyond [0, 1] refused: %s", error ? error->message : "loaded");
  g_clear_error (&error);
  CHECK (ss_camera_check_save (tenth, N, 2.5, NULL, path, &error), "save: %s",
         error ? error->message : "");
  SsCameraCheck *back = ss_camera_check_load (path, &error);
  CHECK (back != NULL, "load: %s", error ? error->message : "");
  if (back != NULL)
    {
      CHECK (ss_camera_check_threshold (back) == 2.5, "threshold read back %g",
             ss_camera_check_threshold (back));
      CHECK (fabs (ss_camera_check_distance (back, cell_tenth)
                   - ss_camera_check_distance (small, cell_tenth)) < 1e-6,
             "the check read back measures as before");
      CHECK (!ss_camera_check_target (back, NULL), "saved without a target, read without");
      ss_camera_check_free (back);
    }
  g_clear_error (&error);
  /* with the target colours: read back as written */
  const double target[6] = { 0.74, 0.6, 0.68, 0.26, 0.29, 0.11 };
  double got[6] = { 0 };
  CHECK (ss_camera_check_save (tenth, N, 2.5, target, path, &error), "save with a target");
  back = ss_camera_check_load (path, &error);
  CHECK (back != NULL && ss_camera_check_target (back, got), "target read back: %s",
         error ? error->message : "none");
  for (int i = 0; i < 6; i++)
    CHECK (fabs (got[i] - target[i]) < 1e-6, "target %d: %g, not %g", i, got[i], target[i]);
  ss_camera_check_free (back);
  g_clear_error (&error);
  /* a target loading would refuse is not saved */
  const double flat[6] = { 0.5, 0.5, 0.5, 0.2, 0.0, 0.2 };
  CHECK (!ss_camera_check_save (tenth, N, 2.5, flat, path, &error) && error != NULL,
         "a target with a zero deviation is not saved");
  g_clear_error (&error);
  /* pooled colours from two crops' statistics: red means 0.2 and 0.6, deviations 0 and
   * 0.2; pooled mean 0.4, mean square (0.04 + 0.36 + 0.04) / 2 = 0.22, deviation
   * sqrt(0.22 - 0.16) */
  float two[2 * S] = { 0 };
  two[0] = 0.2f, two[1] = 0.0f, two[S] = 0.6f, two[S + 1] = 0.2f;
  double pooled[6];
  ss_camera_stats_colour (two, 2, pooled);
  CHECK (fabs (pooled[0] - 0.4) < 1e-6 && fabs (pooled[3] - sqrt (0.06)) < 1e-6,
         "pooled red: %g, %g", pooled[0], pooled[3]);
  /* missing: G_FILE_ERROR_NOENT (the analysis goes on without); damaged: refused */
  g_autofree char *missing = g_build_filename (dir, "none.csv", NULL);
  CHECK (ss_camera_check_load (missing, &error) == NULL
           && g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT),
         "a missing file is told apart");
  g_clear_error (&error);
  static const struct { const char *text, *says; } bad[] = {
    { "threshold,-1\nh\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9\n", "threshold" },
    { "h\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9\n", "no threshold" },
    { "threshold,1\nh\n1,2,3\n", "not the 9 statistics" },
    { "threshold,1\nh\n1,2,3,4,5,6,7,8,nan\n", "not a number" },
    { "threshold,1\nh\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,1e300\n", "not a number in [0, 1]" },
    { "threshold,1\nh\n0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9\n", "fewer than 5" },
    { "threshold,1\ntarget,0.5,0.5,0.5,0.2,0.2\nh\n", "the target" },
    { "threshold,1\ntarget,0.5,0.5,0.5,0.2,0.2,0\nh\n", "the target" },
    { "threshold,1\ntarget,0.5,0.5,1.5,0.2,0.2,0.2\nh\n", "the target" },
    { "threshold,1\ntarget,0.5,0.5,0.5,0.2,0.2,0.2\ntarget,0.5,0.5,0.5,0.2,0.2,0.2\nh\n",
      "a second target" },
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    {
      g_file_set_contents (path, bad[i].text, -1, NULL);
      SsCameraCheck *c = ss_camera_check_load (path, &error);
      CHECK (c == NULL && error != NULL && strstr (error->message, bad[i].says) != NULL
               && strstr (error->message, "m-cameras.csv") != NULL,
             "damaged file %zu: %s", i, error ? error->message : "loaded");
      ss_camera_check_free (c);
      g_clear_error (&error);
    }
  g_remove (path);
  g_rmdir (dir);

  ss_camera_check_free (check);
  ss_camera_check_free (small);
  return test_summary ("test-camera-check");
}
