/* Fields analysed in the background for one case, as Sysprof's document loader: the
 * window binds to "fraction" and "message" and calls cancel; the results are stored
 * into the case when the batch ends. */
#pragma once

#include <gio/gio.h>

#include "ss-analysis.h"
#include "ss-case-document.h"

G_BEGIN_DECLS

#define SS_TYPE_ANALYSIS_JOB (ss_analysis_job_get_type ())
G_DECLARE_FINAL_TYPE (SsAnalysisJob, ss_analysis_job, SS, ANALYSIS_JOB, GObject)

/* classifier may be NULL (cells found and outlined, all "other"); model describes it. */
SsAnalysisJob *ss_analysis_job_new        (SsCaseDocument           *document,
                                           const char *const        *paths,
                                           const SsAnalysisSettings *settings,
                                           SsClassifier             *classifier,
                                           const SsModelIdentity    *model);
/* Properties: "fraction" (double 0..1), "message" (string), "running" (boolean). */
double         ss_analysis_job_get_fraction (SsAnalysisJob *self);
const char    *ss_analysis_job_get_message  (SsAnalysisJob *self);
gboolean       ss_analysis_job_get_running  (SsAnalysisJob *self);
/* The case whose fields it analyses */
SsCaseDocument *ss_analysis_job_get_document (SsAnalysisJob *self);
void           ss_analysis_job_cancel     (SsAnalysisJob            *self);
/* Runs the batch; the result is a GPtrArray of error messages (transfer full; empty
 * when every field was analysed and stored), or FALSE with G_IO_ERROR_CANCELLED. */
void           ss_analysis_job_run_async  (SsAnalysisJob            *self,
                                           GAsyncReadyCallback       callback,
                                           gpointer                  user_data);
GPtrArray     *ss_analysis_job_run_finish (SsAnalysisJob            *self,
                                           GAsyncResult             *result,
                                           GError                  **error);

G_END_DECLS
