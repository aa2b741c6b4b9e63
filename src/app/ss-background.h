/* Background work of the window (decoding fields, thumbnails, scaled copies, outlines)
 * runs on a few worker threads in the order of its urgency, so that on a 2-core machine
 * a burst of it does not starve the main thread. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  SS_BACKGROUND_NOW,     /* what the user is looking at: the field on screen */
  SS_BACKGROUND_SOON,    /* what is on screen but not in focus: outlines, scaled copies */
  SS_BACKGROUND_LATER,   /* what may be wanted next: thumbnails, prefetched fields */
} SsBackgroundUrgency;

/* Like g_task_run_in_thread(): runs func on a worker thread and the task's callback on
 * the task's main context. A task cancelled before it starts returns G_IO_ERROR_CANCELLED
 * without running. Tasks of the same urgency start in the order they were given. */
void ss_background_run (GTask               *task,
                        SsBackgroundUrgency  urgency,
                        GTaskThreadFunc      func);

G_END_DECLS
