/* The window's worker threads: one pool of as many threads as cores, taking the most
 * urgent work first. GTask's own pool started a decoder for every field a newly opened
 * case asked for (the one on screen, the gallery's crops, ten thumbnails) at once: on two
 * cores they starved the main thread, and the frame that shows the case came 0.5 s late
 * (issue 26's open time). Lowering the workers' priority as well was tried and made key
 * frames slower: the scaled copy of a new field came later, and until it comes the view
 * scales the full field as it paints. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include "ss-background.h"

typedef struct
{
  GTask               *task;
  GTaskThreadFunc      func;
  SsBackgroundUrgency  urgency;
  guint64              serial;
} Job;

static GThreadPool *pool;
static guint64 next_serial;          /* touched on the main thread only */

static gint
job_compare (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  const Job *x = a;
  const Job *y = b;

  if (x->urgency != y->urgency)
    return x->urgency < y->urgency ? -1 : 1;
  return x->serial < y->serial ? -1 : (x->serial > y->serial);
}

static void
job_run (gpointer data,
         gpointer user_data)
{
  Job *job = data;
  GCancellable *cancellable = g_task_get_cancellable (job->task);

  if (!g_task_return_error_if_cancelled (job->task))
    job->func (job->task, g_task_get_source_object (job->task),
               g_task_get_task_data (job->task), cancellable);
  g_object_unref (job->task);
  g_free (job);
}

void
ss_background_run (GTask               *task,
                   SsBackgroundUrgency  urgency,
                   GTaskThreadFunc      func)
{
  Job *job;

  g_return_if_fail (G_IS_TASK (task));
  g_return_if_fail (func != NULL);

  if (pool == NULL)
    {
      /* as many workers as cores, at least two: one long decode must not hold up the
       * outlines of the field on screen */
      guint n = MAX (2, g_get_num_processors ());
      g_autoptr (GError) error = NULL;

      pool = g_thread_pool_new (job_run, NULL, (gint) n, TRUE, &error);
      if (pool == NULL)
        g_error ("no worker threads: %s", error->message);
      g_thread_pool_set_sort_function (pool, job_compare, NULL);
    }

  job = g_new0 (Job, 1);
  job->task = g_object_ref (task);
  job->func = func;
  job->urgency = urgency;
  job->serial = next_serial++;
  g_thread_pool_push (pool, job, NULL);
}
