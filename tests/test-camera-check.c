/* The camera check (issue 27): the distance to the K-th nearest known cell, each
 * statistic in units of its spread over the known cells, worked out by hand on points
 * that differ in one statistic; a statistic every known cell shares counts a difference
 * in it as large; too few known cells give no check. */
#include "ss-camera-check.h"

#include <math.h>
#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                                   \
  do                                                                                       \
    {                                                                                      \
      if (!(cond))                                                                         \
        {                                                                                  \
          fprintf (stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                            \
          fprintf (stderr, __VA_ARGS__);                                                   \
          fprintf (stderr, "\n");                                                          \
          failures++;                                                                      \
        }                                                                                  \
    }                                                                                      \
  while (0)

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
  CHECK (ss_camera_check_new (known, SS_CAMERA_CHECK_K - 1) == NULL,
         "fewer known cells than K give no check");
  SsCameraCheck *check = ss_camera_check_new (known, N);
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
  ss_camera_check_free (check);
  if (failures == 0)
    printf ("test-camera-check: all checks passed\n");
  return failures == 0 ? 0 : 1;
}
