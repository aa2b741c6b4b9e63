/* The camera check (issue 27); see ss-camera-check.h. */
#include "ss-camera-check.h"

#include <math.h>
#include <string.h>

struct _SsCameraCheck {
  int     n;
  float  *stats;                  /* n x SS_CAMERA_STATS, standardised */
  double  mean[SS_CAMERA_STATS], sd[SS_CAMERA_STATS];
};

SsCameraCheck *
ss_camera_check_new (const float *stats, int n)
{
  enum { S = SS_CAMERA_STATS };
  if (n < SS_CAMERA_CHECK_K)
    return NULL;
  SsCameraCheck *check = g_new0 (SsCameraCheck, 1);
  check->n = n;
  check->stats = g_new (float, (gsize) n * S);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < S; j++)
      check->mean[j] += stats[(gsize) i * S + j] / n;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < S; j++)
      {
        double t = stats[(gsize) i * S + j] - check->mean[j];
        check->sd[j] += t * t / n;
      }
  for (int j = 0; j < S; j++)
    check->sd[j] = sqrt (check->sd[j]) + 1e-3;  /* a statistic all share tells nothing */
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
