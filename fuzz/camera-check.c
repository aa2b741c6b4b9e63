/* The camera check beside a cell-type model (MODEL-cameras.csv, src/analysis/
 * ss-camera-check.c): the load either fails with a message naming the file, or gives a
 * check with a positive threshold, a target (when there is one) of three means and three
 * positive deviations in [0, 1], and a finite, non-negative distance for any crop's
 * statistics. */
#include "fuzz-util.h"

#include "ss-camera-check.h"

#include <math.h>
#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file ("-cameras.csv", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsCameraCheck) check = ss_camera_check_load (path, &error);
  if (check == NULL)
    {
      FUZZ_CHECK (error != NULL && strstr (error->message, path) != NULL,
                  "a refused camera check does not name its file");
      return 0;
    }
  FUZZ_CHECK (ss_camera_check_threshold (check) > 0, "threshold %g",
              ss_camera_check_threshold (check));
  double target[6];
  if (ss_camera_check_target (check, target))
    for (int i = 0; i < 6; i++)
      FUZZ_CHECK (target[i] >= 0 && target[i] <= 1 && (i < 3 || target[i] > 0),
                  "target %d is %g", i, target[i]);
  /* the corners and the middle of what a crop's statistics can be */
  static const float corners[3] = { 0.0f, 0.5f, 1.0f };
  for (int c = 0; c < 3; c++)
    {
      float stats[SS_CAMERA_STATS];
      for (int j = 0; j < SS_CAMERA_STATS; j++)
        stats[j] = corners[c];
      double d = ss_camera_check_distance (check, stats);
      FUZZ_CHECK (isfinite (d) && d >= 0, "distance %g", d);
    }
  return 0;
}
