/* The workstation benchmark (issue 26): drives the real window as a reviewer does (opens
 * the case, pans and zooms the field, presses class keys) and times each action up to
 * the end of the frame that shows its result, read from the window's frame clock. The
 * driver is straight-line code that runs the main loop while it waits. */
#define G_LOG_DOMAIN "smearscope-bench"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ss-bench.h"
#include "ss-window-private.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif

/* The goals of issue 26. */
#define GOAL_OPEN_MS         500.0
#define GOAL_FRAME_MS        16.0
#define GOAL_FRAME_SHARE     0.95
#define GOAL_KEY_MS          50.0

#define N_OPEN_ROUNDS        10
#define N_PAN_FRAMES         150
#define N_ZOOM_FRAMES        150
#define N_KEYS               50
/* The zoom phase changes the scale by one mouse-wheel click (ss-slide-view.c) every
 * frame, a fast wheel spin, between the fitted field and this scale. */
#define WHEEL_STEP           1.15
#define MAX_ZOOM_SCALE       4.0
/* The window counts as idle after this long without a frame: the gallery's crops and
 * the field's decoding are done by then, as they are while a reviewer looks at a cell. */
#define QUIET_MS             250
/* What a key's frame may take at most before the bench calls the key lost. */
#define KEY_TIMEOUT_MS       5000

typedef struct {
  guint  n;
  double median, p95, max;
  double share_under;   /* of the values under GOAL_FRAME_MS */
} Stats;

typedef enum {
  MOTION_PAN,
  MOTION_ZOOM,
} MotionKind;

/* One way of pressing keys and what it measured. */
typedef struct {
  const char *method;
  GArray     *to_paint_ms;   /* the key reaching the window to the end of the frame
                              * showing the new count */
  GArray     *frame_ms;      /* that frame alone */
  GArray     *frame_cpu_ms;  /* the main thread's CPU time in it */
} KeyRun;

typedef struct {
  SsWindow      *window;
  GdkFrameClock *clock;
  GtkWidget     *grid;              /* the gallery's grid view */
  gint64         before_paint_time;
  double         before_paint_cpu;  /* the main thread's CPU time then, ms */
  gint64         last_after_paint;

  /* opening: watched at the end of every frame while set */
  gboolean       opening;
  gint64         open_first_frame;
  gint64         open_filled;
  guint          open_visible_tiles;
  GArray        *open_sync_ms;      /* ss_window_open_case itself */
  GArray        *open_first_ms;     /* to the end of the first frame with tiles bound */
  GArray        *open_filled_ms;    /* to the end of the frame with every visible picture */

  /* panning and zooming, one step per frame from a tick */
  guint          motion_tick;
  guint          motion_frame;
  gboolean       motion_measure;    /* this frame's end is measured */
  MotionKind     motion_kind;
  double         fit_scale;
  double         zoom_factor;
  GArray        *pan_ms;
  GArray        *zoom_ms;
  GArray        *motion_cpu_ms;     /* the main thread's CPU time in each of them */
  GArray        *interval_ms;       /* between the ends of consecutive measured frames */
  gint64         last_measured_end;

  /* keys */
  gboolean       key_awaited;
  GtkWidget     *count_label;       /* the count panel's label whose new text is awaited */
  const char    *count_expected;
  gint64         key_time;          /* the key reached the window, 0 until then */
  gint64         key_frame_start;
  double         key_frame_cpu;
  gint64         key_done;
  GSubprocess   *key_sender;        /* one `xdotool -` reading "key N" lines, or NULL */
  GOutputStream *key_sender_in;
} Bench;

/* Main loop */

static gboolean
bench_timed_out (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Run the main loop until done (self) holds; FALSE if timeout_ms passed first. */
static gboolean
bench_run_until (Bench    *self,
                 gboolean (*done) (Bench *self),
                 guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timer = g_timeout_add (timeout_ms, bench_timed_out, &timed_out);

  while (!(done != NULL && done (self)) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timer);
  return !timed_out;
}

static void
bench_sleep (Bench *self,
             guint  ms)
{
  bench_run_until (self, NULL, ms);
}

/* Wait until no frame has ended for QUIET_MS (at most max_ms). */
static void
bench_wait_quiet (Bench *self,
                  guint  max_ms)
{
  gint64 start = g_get_monotonic_time ();

  for (;;)
    {
      gint64 now;

      bench_sleep (self, 25);
      now = g_get_monotonic_time ();
      if (now - MAX (start, self->last_after_paint) >= QUIET_MS * 1000
          || now - start >= (gint64) max_ms * 1000)
        return;
    }
}

/* For slicing a profile: perf record -k CLOCK_MONOTONIC, then perf report --time. */
static void
bench_mark (const char *phase)
{
  g_debug ("%s at %.3f s (CLOCK_MONOTONIC)", phase, g_get_monotonic_time () / 1e6);
}

static G_GNUC_NORETURN void
bench_fail (const char *message)
{
  g_printerr ("smearscope --bench: %s\n", message);
  exit (EXIT_FAILURE);
}

/* Widgets found by walking the tree */

static GtkWidget *
bench_find_descendant (GtkWidget *widget,
                       GType      type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        return child;
      if ((found = bench_find_descendant (child, type)) != NULL)
        return found;
    }
  return NULL;
}

/* The count panel's number for a class: the label after the one with the class's name
 * (ss-count-panel.c: key, dot, name, count, percentage). */
static GtkWidget *
bench_find_count_label (GtkWidget  *widget,
                        const char *class_name)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (GTK_IS_LABEL (child) && g_strcmp0 (gtk_label_get_label (GTK_LABEL (child)), class_name) == 0)
        {
          GtkWidget *count = gtk_widget_get_next_sibling (child);
          if (count != NULL && GTK_IS_LABEL (count))
            return count;
        }
      if ((found = bench_find_count_label (child, class_name)) != NULL)
        return found;
    }
  return NULL;
}

/* The gallery's tiles inside the grid's visible area: how many, how many are bound to a
 * cell (their class name is set), how many show their picture. The tile's widgets are
 * ss-cell-gallery.c's: a box tagged "ss-tile" holding the picture, then a row of the
 * class's dot and name. */
static void
bench_count_tiles (Bench *self,
                   guint *n_visible,
                   guint *n_bound,
                   guint *n_filled)
{
  int width = gtk_widget_get_width (self->grid);
  int height = gtk_widget_get_height (self->grid);

  *n_visible = *n_bound = *n_filled = 0;
  for (GtkWidget *child = gtk_widget_get_first_child (self->grid);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *box = gtk_widget_get_first_child (child);
      GtkWidget *picture = box != NULL ? gtk_widget_get_first_child (box) : NULL;
      GtkWidget *name_row = picture != NULL ? gtk_widget_get_next_sibling (picture) : NULL;
      GtkWidget *dot = name_row != NULL ? gtk_widget_get_first_child (name_row) : NULL;
      GtkWidget *name = dot != NULL ? gtk_widget_get_next_sibling (dot) : NULL;
      graphene_rect_t bounds;

      if (picture == NULL || !GTK_IS_PICTURE (picture)
          || g_object_get_data (G_OBJECT (box), "ss-tile") == NULL
          || !gtk_widget_get_child_visible (child) || !gtk_widget_get_visible (child)
          || !gtk_widget_compute_bounds (child, self->grid, &bounds))
        continue;
      if (bounds.origin.x >= width || bounds.origin.y >= height
          || bounds.origin.x + bounds.size.width <= 0 || bounds.origin.y + bounds.size.height <= 0)
        continue;
      (*n_visible)++;
      if (name != NULL && GTK_IS_LABEL (name) && gtk_label_get_label (GTK_LABEL (name))[0] != '\0')
        (*n_bound)++;
      if (gtk_picture_get_paintable (GTK_PICTURE (picture)) != NULL)
        (*n_filled)++;
    }
}

/* The frame clock */

/* The main thread's CPU time: on a shared machine a frame's wall time also holds the
 * time another process had the CPU, and the time spent waiting for the X server. */
static double
bench_thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void
bench_before_paint (GdkFrameClock *clock,
                    Bench         *self)
{
  self->before_paint_time = g_get_monotonic_time ();
  self->before_paint_cpu = bench_thread_cpu_ms ();
}

static void
bench_after_paint (GdkFrameClock *clock,
                   Bench         *self)
{
  gint64 now = g_get_monotonic_time ();

  self->last_after_paint = now;

  if (self->opening)
    {
      guint visible, bound, filled;

      bench_count_tiles (self, &visible, &bound, &filled);
      if (self->open_first_frame == 0 && bound > 0)
        self->open_first_frame = now;
      if (self->open_first_frame != 0 && visible > 0 && filled == visible)
        {
          self->open_filled = now;
          self->open_visible_tiles = visible;
          self->opening = FALSE;
        }
    }

  if (self->motion_measure)
    {
      double ms = (now - self->before_paint_time) / 1000.0;
      double cpu = bench_thread_cpu_ms () - self->before_paint_cpu;

      g_array_append_val (self->motion_kind == MOTION_PAN ? self->pan_ms : self->zoom_ms, ms);
      g_array_append_val (self->motion_cpu_ms, cpu);
      if (self->last_measured_end != 0)
        {
          double interval = (now - self->last_measured_end) / 1000.0;
          g_array_append_val (self->interval_ms, interval);
        }
      self->last_measured_end = now;
      self->motion_measure = FALSE;
    }

  if (self->key_awaited && self->key_time != 0
      && g_strcmp0 (gtk_label_get_label (GTK_LABEL (self->count_label)), self->count_expected) == 0)
    {
      self->key_done = now;
      self->key_frame_cpu = bench_thread_cpu_ms () - self->before_paint_cpu;
      self->key_frame_start = self->before_paint_time;
      self->key_awaited = FALSE;
    }
}

/* Statistics */

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Median, nearest-rank 95th percentile, maximum, and the share under GOAL_FRAME_MS. */
static Stats
bench_stats (GArray *values)
{
  g_autoptr (GArray) sorted = g_array_copy (values);
  Stats stats = { sorted->len, 0, 0, 0, 0 };
  guint under = 0;

  if (sorted->len == 0)
    return stats;
  g_array_sort (sorted, compare_doubles);
  if (sorted->len % 2 == 1)
    stats.median = g_array_index (sorted, double, sorted->len / 2);
  else
    stats.median = (g_array_index (sorted, double, sorted->len / 2 - 1)
                    + g_array_index (sorted, double, sorted->len / 2)) / 2;
  stats.p95 = g_array_index (sorted, double, (guint) ceil (0.95 * sorted->len) - 1);
  stats.max = g_array_index (sorted, double, sorted->len - 1);
  for (guint i = 0; i < sorted->len; i++)
    under += g_array_index (sorted, double, i) < GOAL_FRAME_MS;
  stats.share_under = (double) under / sorted->len;
  return stats;
}

static void
json_append_string (GString    *json,
                    const char *text)
{
  if (text == NULL)
    {
      g_string_append (json, "null");
      return;
    }
  g_string_append_c (json, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_printf (json, "\\%c", *p);
      else if ((guchar) *p < 0x20)
        g_string_append_printf (json, "\\u%04x", (guchar) *p);
      else
        g_string_append_c (json, *p);
    }
  g_string_append_c (json, '"');
}

static void
json_append_stats (GString     *json,
                   const char  *name,
                   const Stats *stats,
                   gboolean     with_share)
{
  g_string_append_printf (json, "\"%s\":{\"n\":%u,\"median_ms\":%.2f,\"p95_ms\":%.2f,\"max_ms\":%.2f",
                          name, stats->n, stats->median, stats->p95, stats->max);
  if (with_share)
    g_string_append_printf (json, ",\"share_under_16ms\":%.3f", stats->share_under);
  g_string_append_c (json, '}');
}

static void
json_append_array (GString *json,
                   GArray  *values)
{
  g_string_append_c (json, '[');
  for (guint i = 0; i < values->len; i++)
    g_string_append_printf (json, "%s%.1f", i > 0 ? "," : "", g_array_index (values, double, i));
  g_string_append_c (json, ']');
}

static char *
bench_cpu_model (void)
{
  g_autofree char *cpuinfo = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return g_strdup ("unknown");
  lines = g_strsplit (cpuinfo, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "model name"))
      {
        const char *colon = strchr (lines[i], ':');
        if (colon != NULL)
          return g_strstrip (g_strdup (colon + 1));
      }
  return g_strdup ("unknown");
}

/* Opening the case */

static gboolean
bench_open_finished (Bench *self)
{
  return !self->opening;
}

static void
bench_measure_open (Bench *self)
{
  g_autofree char *accession = g_strdup (ss_case_document_get_accession (self->window->document));

  for (guint round = 0; round < N_OPEN_ROUNDS; round++)
    {
      gint64 start, returned;
      double ms;

      bench_wait_quiet (self, 30000);
      self->open_first_frame = self->open_filled = 0;
      self->opening = TRUE;
      start = g_get_monotonic_time ();
      if (!ss_window_open_case (self->window, accession))
        bench_fail ("the case could not be opened again (the window says why)");
      returned = g_get_monotonic_time ();
      if (!bench_run_until (self, bench_open_finished, 60000))
        bench_fail ("the gallery's visible tiles had no pictures 60 s after opening the case");

      ms = (returned - start) / 1000.0;
      g_array_append_val (self->open_sync_ms, ms);
      ms = (self->open_first_frame - start) / 1000.0;
      g_array_append_val (self->open_first_ms, ms);
      ms = (self->open_filled - start) / 1000.0;
      g_array_append_val (self->open_filled_ms, ms);
    }
}

/* Panning and zooming */

static gboolean
bench_motion_tick (GtkWidget     *widget,
                   GdkFrameClock *clock,
                   gpointer       user_data)
{
  Bench *self = user_data;
  SsViewerState *state = self->window->state;
  guint frame = self->motion_frame;

  if (frame >= N_PAN_FRAMES + N_ZOOM_FRAMES)
    {
      self->motion_tick = 0;
      return G_SOURCE_REMOVE;
    }

  if (frame < N_PAN_FRAMES)
    {
      /* across and back, down and up once: a drag over the whole field */
      GtkAdjustment *h = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (widget));
      GtkAdjustment *v = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (widget));
      double u = (double) frame / (N_PAN_FRAMES - 1);
      double across = u < 0.5 ? 2 * u : 2 - 2 * u;
      double down = 0.5 - 0.5 * cos (2 * G_PI * u);

      gtk_adjustment_set_value (h, across * (gtk_adjustment_get_upper (h) - gtk_adjustment_get_page_size (h)));
      gtk_adjustment_set_value (v, down * (gtk_adjustment_get_upper (v) - gtk_adjustment_get_page_size (v)));
      self->motion_kind = MOTION_PAN;
    }
  else
    {
      double scale = ss_viewer_state_get_scale (state) * self->zoom_factor;

      if (scale >= MAX_ZOOM_SCALE || scale <= self->fit_scale)
        {
          scale = CLAMP (scale, self->fit_scale, MAX_ZOOM_SCALE);
          self->zoom_factor = 1 / self->zoom_factor;
        }
      ss_viewer_state_set_scale (state, scale);
      self->motion_kind = MOTION_ZOOM;
    }

  self->motion_measure = TRUE;
  self->motion_frame++;
  return G_SOURCE_CONTINUE;
}

static gboolean
bench_motion_finished (Bench *self)
{
  return self->motion_tick == 0;
}

static void
bench_measure_motion (Bench *self)
{
  SsViewerState *state = self->window->state;
  GtkWidget *view = GTK_WIDGET (self->window->slide_view);
  const SsImageRecord *field;

  bench_wait_quiet (self, 30000);
  field = ss_case_document_get_image (self->window->document, ss_viewer_state_get_image_index (state));
  self->fit_scale = ss_slide_geometry_fit_scale (field->width, field->height,
                                                 gtk_widget_get_width (view), gtk_widget_get_height (view));
  /* panning at 100 %, where the field is three views wide */
  ss_viewer_state_set_fit (state, FALSE);
  ss_viewer_state_set_scale (state, 1.0);
  bench_wait_quiet (self, 30000);

  self->motion_frame = 0;
  self->zoom_factor = WHEEL_STEP;
  self->last_measured_end = 0;
  self->motion_tick = gtk_widget_add_tick_callback (view, bench_motion_tick, self, NULL);
  if (!bench_run_until (self, bench_motion_finished, 120000))
    bench_fail ("panning and zooming did not finish in 120 s");
  ss_viewer_state_set_fit (state, TRUE);
}

/* Keys */

static gboolean
bench_key_pressed (GtkEventControllerKey *controller,
                   guint                  keyval,
                   guint                  keycode,
                   GdkModifierType        modifiers,
                   Bench                 *self)
{
  if (self->key_awaited && self->key_time == 0)
    self->key_time = g_get_monotonic_time ();
  return FALSE;
}

static gboolean
bench_key_finished (Bench *self)
{
  return !self->key_awaited;
}

#ifdef GDK_WINDOWING_X11
static Window
bench_xid (Bench *self)
{
  GdkSurface *surface = gtk_native_get_surface (GTK_NATIVE (self->window));

  return GDK_IS_X11_SURFACE (surface) ? gdk_x11_surface_get_xid (surface) : 0;
}
#endif

/* Run xdotool with args; TRUE if it ran and succeeded. */
static gboolean
bench_xdotool (const char *const *args,
               gboolean           wait)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) "xdotool");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char *const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                               &error);
  if (process == NULL)
    return FALSE;
  return !wait || (g_subprocess_wait (process, NULL, NULL) && g_subprocess_get_successful (process));
}

/* Start one long-running `xdotool -`, which runs each line of its stdin as it arrives,
 * so that a key costs a pipe write rather than a fork of this big process. */
static gboolean
bench_key_sender_start (Bench *self)
{
  g_autoptr (GError) error = NULL;

  self->key_sender = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE
                                       | G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                       | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                       &error, "xdotool", "-", NULL);
  if (self->key_sender == NULL)
    {
      g_debug ("cannot start `xdotool -`: %s", error->message);
      return FALSE;
    }
  self->key_sender_in = g_subprocess_get_stdin_pipe (self->key_sender);
  return TRUE;
}

static void
bench_key_sender_stop (Bench *self)
{
  if (self->key_sender == NULL)
    return;
  g_output_stream_close (self->key_sender_in, NULL, NULL);
  g_subprocess_wait (self->key_sender, NULL, NULL);
  g_clear_object (&self->key_sender);
  self->key_sender_in = NULL;
}

/* Send one key through the long-running xdotool; on failure, stop using it. */
static gboolean
bench_key_sender_key (Bench      *self,
                      const char *key)
{
  g_autofree char *line = g_strdup_printf ("key %s\n", key);
  g_autoptr (GError) error = NULL;

  if (self->key_sender == NULL)
    return FALSE;
  if (g_output_stream_write_all (self->key_sender_in, line, strlen (line), NULL, NULL, &error)
      && g_output_stream_flush (self->key_sender_in, NULL, &error))
    return TRUE;
  g_debug ("writing to `xdotool -` failed: %s", error->message);
  bench_key_sender_stop (self);
  return FALSE;
}

/* Keys come through the X server (XTEST, as a keyboard's do) when xdotool and an X11
 * display are there: give the window the X focus and move the pointer off the view, so
 * zooming keeps the view's middle in place. */
static gboolean
bench_prepare_x (Bench *self)
{
#ifdef GDK_WINDOWING_X11
  Window xid = bench_xid (self);
  g_autofree char *window = xid != 0 ? g_strdup_printf ("%lu", (unsigned long) xid) : NULL;

  if (xid == 0 || g_find_program_in_path ("xdotool") == NULL)
    return FALSE;
  if (!bench_xdotool ((const char *[]) { "mousemove", "--sync", "0", "0", NULL }, TRUE)
      || !bench_xdotool ((const char *[]) { "windowfocus", "--sync", window, NULL }, TRUE))
    return FALSE;
  bench_sleep (self, 200);
  return gtk_window_is_active (GTK_WINDOW (self->window));
#else
  return FALSE;
#endif
}

static gboolean
bench_focus_in_review (Bench *self)
{
  GtkWidget *focus = gtk_root_get_focus (GTK_ROOT (self->window));

  return focus != NULL && gtk_widget_is_ancestor (focus, self->window->review_pane);
}

/* N_KEYS class keys on cells `first`, first + 1... of the review queue, each undone
 * after its frame; FALSE if a key never arrived. */
static gboolean
bench_measure_keys (Bench    *self,
                    gboolean  through_x,
                    guint     first,
                    KeyRun   *run)
{
  SsCaseDocument *document = self->window->document;
  g_autoptr (GPtrArray) queue = ss_case_document_review_queue (document);

  for (guint i = 0; i < N_KEYS; i++)
    {
      SsCellItem *item = queue->pdata[(first + i) % queue->len];
      int new_class = (ss_cell_item_get_cell_class (item) + 1) % SS_N_CLASSES;
      g_autofree char *expected = NULL;
      SsCounts counts;
      double ms;

      /* as a click on the tile would: the cell becomes the current one */
      ss_viewer_state_set_current (self->window->state, item, FALSE);
      if (!bench_focus_in_review (self))
        ss_window_focus_review (self->window);
      bench_wait_quiet (self, 10000);

      ss_case_document_get_counts (document, &counts);
      expected = g_strdup_printf ("%d", counts.counts[new_class] + 1);
      self->count_label = bench_find_count_label (GTK_WIDGET (self->window->count_panel),
                                                  ss_cell_class_display_name (new_class));
      if (self->count_label == NULL)
        bench_fail ("the count panel has no count label for a class");
      self->count_expected = expected;
      self->key_time = self->key_done = 0;
      self->key_awaited = TRUE;

      if (through_x)
        {
          char key[2] = { ss_class_key (new_class), '\0' };
          if (!bench_key_sender_key (self, key))
            bench_xdotool ((const char *[]) { "key", key, NULL }, FALSE);
        }
      else
        {
          /* what the review pane's shortcut does once it has matched the key */
          self->key_time = g_get_monotonic_time ();
          gtk_widget_activate_action_variant (self->window->review_pane, "win.relabel",
                                              g_variant_new_int32 (new_class));
        }

      if (!bench_run_until (self, bench_key_finished, KEY_TIMEOUT_MS))
        {
          self->key_awaited = FALSE;
          if (self->key_time == 0)
            return FALSE;
          bench_fail ("the count panel did not show a relabelled cell's count within 5 s");
        }
      ms = (self->key_done - self->key_time) / 1000.0;
      g_debug ("key %u (%s): %.1f ms to the painted count, its frame %.1f ms (cpu %.1f), field %u -> %u",
               i, through_x ? "X" : "action", ms, (self->key_done - self->key_frame_start) / 1000.0, self->key_frame_cpu,
               ss_cell_item_get_image_index (item),
               ss_viewer_state_get_image_index (self->window->state));
      g_array_append_val (run->to_paint_ms, ms);
      ms = (self->key_done - self->key_frame_start) / 1000.0;
      g_array_append_val (run->frame_ms, ms);
      g_array_append_val (run->frame_cpu_ms, self->key_frame_cpu);

      gtk_widget_activate_action (GTK_WIDGET (self->window), "win.undo", NULL);
    }
  bench_wait_quiet (self, 10000);
  return TRUE;
}

/* The report */

static const char *
goal_word (gboolean met)
{
  return met ? "met" : "MISSED";
}

static void
bench_print_keys (const KeyRun *run,
                  gboolean      judged)
{
  Stats to_paint = bench_stats (run->to_paint_ms);
  Stats frame = bench_stats (run->frame_ms);
  Stats frame_cpu = bench_stats (run->frame_cpu_ms);

  g_print ("key (%s, %u keys): key to the painted count, median %.1f ms, p95 %.1f, max %.1f; "
           "its frame alone median %.1f ms (main thread CPU %.1f)",
           run->method, to_paint.n, to_paint.median, to_paint.p95, to_paint.max,
           frame.median, frame_cpu.median);
  if (judged)
    g_print ("; goal p95 < %.0f ms %s", GOAL_KEY_MS, goal_word (to_paint.p95 < GOAL_KEY_MS));
  g_print ("\n");
}

static void
json_append_keys (GString      *json,
                  const char   *name,
                  const KeyRun *run)
{
  Stats to_paint = bench_stats (run->to_paint_ms);
  Stats frame = bench_stats (run->frame_ms);
  Stats frame_cpu = bench_stats (run->frame_cpu_ms);

  g_string_append_printf (json, ",\"%s\":{\"method\":", name);
  json_append_string (json, run->method);
  g_string_append_c (json, ',');
  json_append_stats (json, "to_paint", &to_paint, FALSE);
  g_string_append_c (json, ',');
  json_append_stats (json, "frame", &frame, FALSE);
  g_string_append_c (json, ',');
  json_append_stats (json, "frame_cpu", &frame_cpu, FALSE);
  g_string_append_c (json, '}');
}

static void
bench_report (Bench        *self,
              const KeyRun *x_keys,
              const KeyRun *action_keys)
{
  g_autofree char *cpu = bench_cpu_model ();
  GskRenderer *renderer = gtk_native_get_renderer (GTK_NATIVE (self->window));
  const char *renderer_name = renderer != NULL ? G_OBJECT_TYPE_NAME (renderer) : "none";
  const char *renderer_env = g_getenv ("GSK_RENDERER");
  const char *coretype = g_getenv ("OPENBLAS_CORETYPE");
  const char *l2_size = g_getenv ("OPENBLAS_L2_SIZE");
  g_autoptr (GArray) all_frames = g_array_copy (self->pan_ms);
  g_autoptr (GString) json = g_string_new (NULL);
  Stats open_first = bench_stats (self->open_first_ms);
  Stats open_filled = bench_stats (self->open_filled_ms);
  Stats open_sync = bench_stats (self->open_sync_ms);
  Stats pan, zoom, frames, frames_cpu, intervals;
  gboolean x_keys_ran = x_keys->to_paint_ms->len > 0;
  guint n_cells = ss_case_document_get_n_cells (self->window->document);
  guint n_fields = ss_case_document_get_n_images (self->window->document);
  g_autofree char *gtk_version = g_strdup_printf ("%u.%u.%u", gtk_get_major_version (),
                                                  gtk_get_minor_version (), gtk_get_micro_version ());
  g_autofree char *adw_version = g_strdup_printf ("%u.%u.%u", adw_get_major_version (),
                                                  adw_get_minor_version (), adw_get_micro_version ());
  double load[3] = { -1, -1, -1 };

  g_array_append_vals (all_frames, self->zoom_ms->data, self->zoom_ms->len);
  pan = bench_stats (self->pan_ms);
  zoom = bench_stats (self->zoom_ms);
  frames = bench_stats (all_frames);
  frames_cpu = bench_stats (self->motion_cpu_ms);
  intervals = bench_stats (self->interval_ms);
  getloadavg (load, 3);

  g_print ("bench: CPU %s, %u cores (load average %.2f during the run's last minute); "
           "GTK %s, libadwaita %s\n", cpu, g_get_num_processors (), load[0], gtk_version, adw_version);
  g_print ("bench: GSK renderer %s (GSK_RENDERER=%s)%s%s%s%s\n", renderer_name,
           renderer_env != NULL ? renderer_env : "unset, GTK's default",
           coretype != NULL ? "; OPENBLAS_CORETYPE=" : "", coretype != NULL ? coretype : "",
           l2_size != NULL ? "; OPENBLAS_L2_SIZE=" : "", l2_size != NULL ? l2_size : "");
  g_print ("bench: case %s, %u cells in %u fields; window %d x %d\n",
           ss_case_document_get_accession (self->window->document), n_cells, n_fields,
           gtk_widget_get_width (GTK_WIDGET (self->window)),
           gtk_widget_get_height (GTK_WIDGET (self->window)));
  g_print ("open: to the first frame with the gallery's tiles bound, median %.0f ms of %u "
           "(ss_window_open_case itself %.0f ms); goal < %.0f ms %s\n",
           open_first.median, open_first.n, open_sync.median, GOAL_OPEN_MS,
           goal_word (open_first.median < GOAL_OPEN_MS));
  g_print ("open: to all %u visible tiles showing their pictures, median %.0f ms (max %.0f)\n",
           self->open_visible_tiles, open_filled.median, open_filled.max);
  g_print ("frames: pan at 100%% (%u): median %.1f ms, p95 %.1f, max %.1f, %.0f%% under 16 ms\n",
           pan.n, pan.median, pan.p95, pan.max, 100 * pan.share_under);
  g_print ("frames: zoom, a wheel step every frame (%u): median %.1f ms, p95 %.1f, max %.1f, "
           "%.0f%% under 16 ms\n", zoom.n, zoom.median, zoom.p95, zoom.max, 100 * zoom.share_under);
  g_print ("frames: all %u, before-paint to after-paint: median %.1f ms, p95 %.1f, max %.1f, "
           "%.0f%% under 16 ms; goal 95%% %s\n", frames.n, frames.median, frames.p95, frames.max,
           100 * frames.share_under, goal_word (frames.share_under >= GOAL_FRAME_SHARE));
  g_print ("frames: main thread CPU per frame median %.1f ms, p95 %.1f; interval between frames "
           "median %.1f ms, p95 %.1f\n", frames_cpu.median, frames_cpu.p95, intervals.median,
           intervals.p95);
  if (x_keys_ran)
    bench_print_keys (x_keys, TRUE);
  bench_print_keys (action_keys, !x_keys_ran);

  g_string_append (json, "{\"bench\":\"smearscope-window\",\"cpu\":");
  json_append_string (json, cpu);
  g_string_append_printf (json, ",\"cores\":%u,\"load_average\":%.2f,\"gtk\":\"%s\","
                          "\"libadwaita\":\"%s\",\"renderer\":",
                          g_get_num_processors (), load[0], gtk_version, adw_version);
  json_append_string (json, renderer_name);
  g_string_append (json, ",\"gsk_renderer_env\":");
  json_append_string (json, renderer_env);
  g_string_append (json, ",\"openblas_coretype\":");
  json_append_string (json, coretype);
  g_string_append (json, ",\"openblas_l2_size\":");
  json_append_string (json, l2_size);
  g_string_append_printf (json, ",\"cells\":%u,\"fields\":%u,\"open\":{\"sync_ms\":", n_cells, n_fields);
  json_append_array (json, self->open_sync_ms);
  g_string_append (json, ",\"first_frame_ms\":");
  json_append_array (json, self->open_first_ms);
  g_string_append (json, ",\"filled_ms\":");
  json_append_array (json, self->open_filled_ms);
  g_string_append_printf (json, ",\"visible_tiles\":%u,\"goal_ms\":%.0f},\"frames\":{",
                          self->open_visible_tiles, GOAL_OPEN_MS);
  json_append_stats (json, "pan", &pan, TRUE);
  g_string_append_c (json, ',');
  json_append_stats (json, "zoom", &zoom, TRUE);
  g_string_append_c (json, ',');
  json_append_stats (json, "all", &frames, TRUE);
  g_string_append_c (json, ',');
  json_append_stats (json, "cpu", &frames_cpu, FALSE);
  g_string_append_c (json, ',');
  json_append_stats (json, "interval", &intervals, FALSE);
  g_string_append_c (json, '}');
  if (x_keys_ran)
    json_append_keys (json, "key", x_keys);
  json_append_keys (json, "key_action", action_keys);
  g_string_append_printf (json, ",\"goals_met\":{\"open\":%s,\"frames\":%s,\"key\":%s}}",
                          open_first.median < GOAL_OPEN_MS ? "true" : "false",
                          frames.share_under >= GOAL_FRAME_SHARE ? "true" : "false",
                          bench_stats ((x_keys_ran ? x_keys : action_keys)->to_paint_ms).p95 < GOAL_KEY_MS
                            ? "true" : "false");
  g_print ("%s\n", json->str);
}

static gboolean
bench_window_shown (Bench *self)
{
  return gtk_widget_get_mapped (GTK_WIDGET (self->window));
}

static void
key_run_init (KeyRun     *run,
              const char *method)
{
  run->method = method;
  run->to_paint_ms = g_array_new (FALSE, FALSE, sizeof (double));
  run->frame_ms = g_array_new (FALSE, FALSE, sizeof (double));
  run->frame_cpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
key_run_clear (KeyRun *run)
{
  g_clear_pointer (&run->to_paint_ms, g_array_unref);
  g_clear_pointer (&run->frame_ms, g_array_unref);
  g_clear_pointer (&run->frame_cpu_ms, g_array_unref);
}

static gboolean
bench_main (gpointer user_data)
{
  Bench *self = user_data;
  SsWindow *window = self->window;
  KeyRun x_keys, action_keys;
  GtkEventController *keys;
  gboolean through_x;

  if (!bench_run_until (self, bench_window_shown, 30000))
    bench_fail ("the window was not shown within 30 s (is there a display?)");
  if (window->document == NULL || ss_case_document_get_n_cells (window->document) == 0)
    bench_fail ("open a case with cells: smearscope --bench --db STORE --case ACCESSION");

  self->grid = bench_find_descendant (GTK_WIDGET (window->cell_gallery), GTK_TYPE_GRID_VIEW);
  if (self->grid == NULL)
    bench_fail ("the gallery has no grid view");
  self->clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_signal_connect (self->clock, "before-paint", G_CALLBACK (bench_before_paint), self);
  g_signal_connect (self->clock, "after-paint", G_CALLBACK (bench_after_paint), self);

  /* seen before any other controller of the window's: the moment a key arrives */
  keys = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect (keys, "key-pressed", G_CALLBACK (bench_key_pressed), self);
  gtk_widget_add_controller (GTK_WIDGET (window), keys);

  through_x = bench_prepare_x (self);
  bench_wait_quiet (self, 30000);

  bench_mark ("opening");
  bench_measure_open (self);
  bench_mark ("panning and zooming");
  bench_measure_motion (self);

  bench_mark ("keys");
  if (through_x && bench_key_sender_start (self))
    key_run_init (&x_keys, "XTEST key through the X server (one long-running `xdotool -` fed key lines by a pipe)");
  else
    key_run_init (&x_keys, "XTEST key through the X server (a new `xdotool key` process per key)");
  key_run_init (&action_keys, "win.relabel activated as the review pane's shortcut does");
  ss_window_focus_review (window);
  if (through_x && !bench_measure_keys (self, TRUE, 0, &x_keys))
    {
      g_printerr ("smearscope --bench: keys sent through the X server did not arrive; "
                  "timing win.relabel activations only\n");
      g_array_set_size (x_keys.to_paint_ms, 0);
    }
  if (through_x && self->key_sender == NULL && strstr (x_keys.method, "long-running") != NULL)
    g_printerr ("smearscope --bench: the `xdotool -` pipe failed during the run; "
                "later keys used a new `xdotool key` process each\n");
  bench_key_sender_stop (self);
  bench_mark ("action keys");
  if (!bench_measure_keys (self, FALSE, N_KEYS, &action_keys))
    bench_fail ("win.relabel did not change the count panel");
  bench_mark ("done");

  bench_report (self, &x_keys, &action_keys);
  key_run_clear (&x_keys);
  key_run_clear (&action_keys);

  g_signal_handlers_disconnect_by_data (self->clock, self);
  g_application_release (G_APPLICATION (window->app));
  g_application_quit (G_APPLICATION (window->app));
  return G_SOURCE_REMOVE;
}

static void
bench_free (Bench *self)
{
  g_array_unref (self->open_sync_ms);
  g_array_unref (self->open_first_ms);
  g_array_unref (self->open_filled_ms);
  g_array_unref (self->pan_ms);
  g_array_unref (self->zoom_ms);
  g_array_unref (self->motion_cpu_ms);
  g_array_unref (self->interval_ms);
  g_free (self);
}

void
ss_bench_run (SsWindow *window)
{
  Bench *self;

  g_return_if_fail (SS_IS_WINDOW (window));

  self = g_new0 (Bench, 1);
  self->window = window;
  self->open_sync_ms = g_array_new (FALSE, FALSE, sizeof (double));
  self->open_first_ms = g_array_new (FALSE, FALSE, sizeof (double));
  self->open_filled_ms = g_array_new (FALSE, FALSE, sizeof (double));
  self->pan_ms = g_array_new (FALSE, FALSE, sizeof (double));
  self->zoom_ms = g_array_new (FALSE, FALSE, sizeof (double));
  self->motion_cpu_ms = g_array_new (FALSE, FALSE, sizeof (double));
  self->interval_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_application_hold (G_APPLICATION (window->app));
  g_idle_add_full (G_PRIORITY_DEFAULT, bench_main, self, (GDestroyNotify) bench_free);
}
