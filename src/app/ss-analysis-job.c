/* Fields analysed in the background for one case. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>

#include "ss-analysis-job.h"
#include "ss-scale.h"

struct _SsAnalysisJob
{
  GObject             parent_instance;

  SsCaseDocument     *document;
  char              **paths;
  SsAnalysisSettings  settings;
  SsScalePool        *scale_pool;  /* the case's: its stored fields' scales, then the batch's */
  SsClassifier       *classifier;
  SsModelIdentity     model;
  GCancellable       *cancellable;
  double              fraction;
  char               *message;
  gboolean            running;
};

G_DEFINE_FINAL_TYPE (SsAnalysisJob, ss_analysis_job, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FRACTION,
  PROP_MESSAGE,
  PROP_RUNNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ss_analysis_job_set_progress (SsAnalysisJob *self,
                              double         fraction,
                              const char    *message)
{
  self->fraction = fraction;
  g_free (self->message);
  self->message = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

static void
ss_analysis_job_set_running (SsAnalysisJob *self,
                             gboolean       running)
{
  if (self->running == running)
    return;
  self->running = running;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

static void
ss_analysis_job_finalize (GObject *object)
{
  SsAnalysisJob *self = SS_ANALYSIS_JOB (object);

  g_clear_object (&self->document);
  g_clear_pointer (&self->paths, g_strfreev);
  g_clear_pointer (&self->scale_pool, ss_scale_pool_free);
  g_clear_pointer (&self->classifier, ss_classifier_unref);
  ss_model_identity_clear (&self->model);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->message, g_free);

  G_OBJECT_CLASS (ss_analysis_job_parent_class)->finalize (object);
}

static void
ss_analysis_job_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  SsAnalysisJob *self = SS_ANALYSIS_JOB (object);

  switch (prop_id)
    {
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ss_analysis_job_class_init (SsAnalysisJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ss_analysis_job_finalize;
  object_class->get_property = ss_analysis_job_get_property;

  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ss_analysis_job_init (SsAnalysisJob *self)
{
  self->cancellable = g_cancellable_new ();
}

SsCaseDocument *
ss_analysis_job_get_document (SsAnalysisJob *self)
{
  g_return_val_if_fail (SS_IS_ANALYSIS_JOB (self), NULL);
  return self->document;
}

SsAnalysisJob *
ss_analysis_job_new (SsCaseDocument           *document,
                     const char *const        *paths,
                     const SsAnalysisSettings *settings,
                     SsClassifier             *classifier,
                     const SsModelIdentity    *model)
{
  g_return_val_if_fail (SS_IS_CASE_DOCUMENT (document), NULL);
  g_return_val_if_fail (paths != NULL && paths[0] != NULL, NULL);
  g_return_val_if_fail (settings != NULL, NULL);

  SsAnalysisJob *self = g_object_new (SS_TYPE_ANALYSIS_JOB, NULL);
  self->document = g_object_ref (document);
  self->paths = g_strdupv ((char **) paths);
  self->settings = *settings;
  /* fields added to a case take its scale: that of its fields already analysed on their
   * red cells, then the batch's own first look (ss_scale_pool_prime) */
  self->scale_pool = ss_scale_pool_new ();
  for (guint i = 0; i < ss_case_document_get_n_images (document); i++)
    {
      const SsImageRecord *image = ss_case_document_get_image (document, i);
      ss_scale_pool_add_stored (self->scale_pool, image->cell_diameter, image->scale_source);
    }
  self->settings.scale_pool = self->scale_pool;
  self->classifier = classifier != NULL ? ss_classifier_ref (classifier) : NULL;
  if (model != NULL)
    {
      self->model.path = g_strdup (model->path);
      self->model.name = g_strdup (model->name);
      self->model.format = g_strdup (model->format);
      self->model.sha256 = g_strdup (model->sha256);
    }
  else
    ss_model_identity_init (&self->model, NULL, NULL);
  return self;
}

double
ss_analysis_job_get_fraction (SsAnalysisJob *self)
{
  g_return_val_if_fail (SS_IS_ANALYSIS_JOB (self), 0);
  return self->fraction;
}

const char *
ss_analysis_job_get_message (SsAnalysisJob *self)
{
  g_return_val_if_fail (SS_IS_ANALYSIS_JOB (self), NULL);
  return self->message;
}

gboolean
ss_analysis_job_get_running (SsAnalysisJob *self)
{
  g_return_val_if_fail (SS_IS_ANALYSIS_JOB (self), FALSE);
  return self->running;
}

void
ss_analysis_job_cancel (SsAnalysisJob *self)
{
  g_return_if_fail (SS_IS_ANALYSIS_JOB (self));
  g_cancellable_cancel (self->cancellable);
}

static void
ss_analysis_job_progress (guint       done,
                          guint       total,
                          const char *path,
                          gpointer    user_data)
{
  SsAnalysisJob *self = user_data;
  g_autofree char *base = g_path_get_basename (path);
  /* TRANSLATORS: progress of the analysis, e.g. "Analysed 3 of 10 fields (field.jpg)" */
  g_autofree char *message = g_strdup_printf (_("Analysed %u of %u fields (%s)"), done, total, base);
  ss_analysis_job_set_progress (self, total > 0 ? (double) done / total : 1.0, message);
}

static void
ss_analysis_job_batch_done (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr (GTask) task = user_data;
  SsAnalysisJob *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) results = ss_analysis_batch_finish (result, &error);

  ss_analysis_job_set_running (self, FALSE);
  if (results == NULL)
    {
      if (g_error_matches (error, SS_ANALYSIS_ERROR, SS_ANALYSIS_ERROR_CANCELLED)
          || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 _("The analysis was cancelled; no field was stored."));
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* every field is stored whole or not at all; the others go on */
  GPtrArray *problems = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < results->len; i++)
    {
      SsAnalysisResult *r = results->pdata[i];
      g_autoptr (GError) store_error = NULL;
      g_autofree char *base = g_path_get_basename (self->paths[i]);
      if (r->error != NULL)
        g_ptr_array_add (problems, g_strdup_printf (_("%s was not analysed: %s"), base, r->error->message));
      else if (!ss_case_document_add_result (self->document, r, &self->model,
                                             &store_error))
        {
          if (g_error_matches (store_error, SS_STORE_ERROR, SS_STORE_ERROR_EXISTS))
            /* (the store's message, for the command line, names paths a toast has no
             * room for) */
            g_ptr_array_add (problems,
                             g_strdup_printf (_("%s was not added: the same picture is already a "
                                                "field of this case, and its cells are counted "
                                                "once."), base));
          else
            g_ptr_array_add (problems, g_strdup_printf (_("%s was analysed but not stored: %s"),
                                                        base, store_error->message));
        }
    }
  /* a field whose red cells did not give its scale is analysed at the preferences' size:
   * say so, it may be a different microscope's */
  guint fallbacks = 0, unlike = 0;
  double diameter = 0;
  for (guint i = 0; i < results->len; i++)
    {
      SsAnalysisResult *r = results->pdata[i];
      if (r->error == NULL && r->scale_source == SS_SCALE_SOURCE_FALLBACK)
        {
          fallbacks++;
          diameter = r->cell_diameter;
        }
      /* a field whose calls were doubted: its cells look unlike every camera the
       * cell-type model learned */
      gboolean doubted = FALSE;
      for (guint c = 0; r->error == NULL && c < r->cells->len && !doubted; c++)
        doubted = (((SsCell *) r->cells->pdata[c])->doubt & SS_DOUBT_CAMERA_UNLIKE) != 0;
      unlike += doubted;
    }
  if (unlike > 0)
    g_ptr_array_add (problems,
                     /* TRANSLATORS: a toast: keep it short, it does not wrap */
                     g_strdup_printf (ngettext ("Calls of %u field marked unsure: its camera is "
                                                "new to the cell-type model (Improve the Model "
                                                "teaches it)",
                                                "Calls of %u fields marked unsure: their camera "
                                                "is new to the cell-type model (Improve the Model "
                                                "teaches it)",
                                                unlike),
                                      unlike));
  if (fallbacks > 0)
    g_ptr_array_add (problems,
                     g_strdup_printf (ngettext ("The scale of %u field could not be measured on "
                                                "its red cells; it was analysed for white cells "
                                                "%.0f pixels across (Preferences, Analysis).",
                                                "The scale of %u fields could not be measured on "
                                                "their red cells; they were analysed for white "
                                                "cells %.0f pixels across (Preferences, Analysis).",
                                                fallbacks),
                                      fallbacks, diameter));
  ss_analysis_job_set_progress (self, 1.0, _("Analysis finished"));
  g_task_return_pointer (task, problems, (GDestroyNotify) g_ptr_array_unref);
}

void
ss_analysis_job_run_async (SsAnalysisJob       *self,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (SS_IS_ANALYSIS_JOB (self));
  g_return_if_fail (!self->running);

  GTask *task = g_task_new (self, self->cancellable, callback, user_data);
  g_task_set_source_tag (task, ss_analysis_job_run_async);
  ss_analysis_job_set_running (self, TRUE);
  ss_analysis_job_set_progress (self, 0.0, _("Analysing…"));
  ss_analysis_batch_async ((const char *const *) self->paths, &self->settings, self->classifier,
                           self->cancellable, ss_analysis_job_progress, self,
                           ss_analysis_job_batch_done, task);
}

GPtrArray *
ss_analysis_job_run_finish (SsAnalysisJob *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
