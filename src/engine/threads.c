/* A fixed pool of worker threads for the engine's parallel loops. Work is split in
 * equal contiguous ranges, so which thread computes what depends only on the thread
 * count: with per-thread accumulators reduced in thread order, results are repeatable.
 * OpenBLAS runs single-threaded inside our workers. */
#include "engine-private.h"

#include <cblas.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#define SS_MAX_THREADS 64

typedef struct {
  pthread_mutex_t lock;
  pthread_cond_t  work_ready;
  pthread_cond_t  work_done;
  pthread_t       workers[SS_MAX_THREADS];
  int             n_threads;    /* including the calling thread */
  int             n_started;    /* workers running (n_threads - 1 once started) */
  unsigned long   generation;   /* bumped for every job */
  int             pending;      /* workers still busy with the current job */
  bool            each_thread;  /* job runs once per thread rather than over items */
  SsParallelFn    fn;
  void           *ctx;
  int             n_items;
  bool            quit;
} SsPool;

/* One job at a time: a second caller (a worker thread of the application analysing
 * while another classifies) waits for the first job to finish. */
static pthread_mutex_t dispatch_lock = PTHREAD_MUTEX_INITIALIZER;

static SsPool pool = {
  .lock = PTHREAD_MUTEX_INITIALIZER,
  .work_ready = PTHREAD_COND_INITIALIZER,
  .work_done = PTHREAD_COND_INITIALIZER,
};
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void
run_share (int thread, int n_threads, bool each_thread, SsParallelFn fn, void *ctx,
           int n_items)
{
  if (each_thread)
    {
      fn (ctx, thread, thread + 1, thread);
      return;
    }
  int begin = (int) ((long long) n_items * thread / n_threads);
  int end = (int) ((long long) n_items * (thread + 1) / n_threads);
  if (begin < end)
    fn (ctx, begin, end, thread);
}

static void *
worker_main (void *arg)
{
  int thread = (int) (intptr_t) arg;
  unsigned long seen = 0;

  pthread_mutex_lock (&pool.lock);
  for (;;)
    {
      while (pool.generation == seen && !pool.quit)
        pthread_cond_wait (&pool.work_ready, &pool.lock);
      if (pool.quit)
        break;
      seen = pool.generation;
      if (thread >= pool.n_threads)
        continue;  /* the pool was shrunk: this worker sits jobs out */
      SsParallelFn fn = pool.fn;
      void *ctx = pool.ctx;
      int n_items = pool.n_items, n_threads = pool.n_threads;
      bool each = pool.each_thread;
      pthread_mutex_unlock (&pool.lock);

      run_share (thread, n_threads, each, fn, ctx, n_items);

      pthread_mutex_lock (&pool.lock);
      if (--pool.pending == 0)
        pthread_cond_signal (&pool.work_done);
    }
  pthread_mutex_unlock (&pool.lock);
  return NULL;
}

static int
default_threads (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);
  const char *env = getenv ("SMEARSCOPE_THREADS");
  if (env != NULL && atoi (env) > 0)
    n = atoi (env);
  if (n < 1)
    n = 1;
  if (n > SS_MAX_THREADS)
    n = SS_MAX_THREADS;
  return (int) n;
}

static void
pool_init (void)
{
  pool.n_threads = default_threads ();
  ss_blas_single_threaded ();
}

static void
pool_start_workers (int upto)
{
  while (pool.n_started < upto - 1)
    {
      int t = pool.n_started + 1;
      if (pthread_create (&pool.workers[t], NULL, worker_main, (void *) (intptr_t) t) != 0)
        break;
      pool.n_started++;
    }
}

void
ss_engine_set_threads (int n_threads)
{
  pthread_once (&pool_once, pool_init);
  if (n_threads < 1)
    n_threads = default_threads ();
  if (n_threads > SS_MAX_THREADS)
    n_threads = SS_MAX_THREADS;
  pthread_mutex_lock (&dispatch_lock);
  pthread_mutex_lock (&pool.lock);
  pool.n_threads = n_threads;
  pthread_mutex_unlock (&pool.lock);
  pthread_mutex_unlock (&dispatch_lock);
}

int
ss_engine_get_threads (void)
{
  pthread_once (&pool_once, pool_init);
  pthread_mutex_lock (&pool.lock);
  int n = pool.n_threads;
  pthread_mutex_unlock (&pool.lock);
  return n;
}

static void
dispatch_locked (int n_items, SsParallelFn fn, void *ctx, bool each_thread);

static void
dispatch (int n_items, SsParallelFn fn, void *ctx, bool each_thread)
{
  pthread_once (&pool_once, pool_init);
  pthread_mutex_lock (&dispatch_lock);
  dispatch_locked (n_items, fn, ctx, each_thread);
  pthread_mutex_unlock (&dispatch_lock);
}

static void
dispatch_locked (int n_items, SsParallelFn fn, void *ctx, bool each_thread)
{
  pthread_mutex_lock (&pool.lock);
  int n_threads = pool.n_threads;
  if (n_threads > 1)
    pool_start_workers (n_threads);
  if (pool.n_started < n_threads - 1)
    n_threads = pool.n_started + 1;  /* thread creation failed: run with fewer */
  if (n_threads == 1 || (!each_thread && n_items <= 1))
    {
      pthread_mutex_unlock (&pool.lock);
      if (each_thread)
        fn (ctx, 0, 1, 0);
      else if (n_items > 0)
        fn (ctx, 0, n_items, 0);
      return;
    }
  pool.fn = fn;
  pool.ctx = ctx;
  pool.n_items = n_items;
  pool.each_thread = each_thread;
  pool.n_threads = n_threads;
  pool.pending = n_threads - 1;
  pool.generation++;
  pthread_cond_broadcast (&pool.work_ready);
  pthread_mutex_unlock (&pool.lock);

  run_share (0, n_threads, each_thread, fn, ctx, n_items);

  pthread_mutex_lock (&pool.lock);
  while (pool.pending > 0)
    pthread_cond_wait (&pool.work_done, &pool.lock);
  pthread_mutex_unlock (&pool.lock);
}

void
ss_parallel_for (int n_items, SsParallelFn fn, void *ctx)
{
  dispatch (n_items, fn, ctx, false);
}

void
ss_parallel_each_thread (SsParallelFn fn, void *ctx)
{
  dispatch (0, fn, ctx, true);
}

void
ss_blas_single_threaded (void)
{
  openblas_set_num_threads (1);
}

void
ss_blas_all_threads (void)
{
  openblas_set_num_threads (ss_engine_get_threads ());
}
