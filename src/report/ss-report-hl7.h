/* A case's differential as an HL7 v2.5.1 ORU^R01 result message, for a laboratory
 * information system. docs/exchange.md shows the segments and an example. */
#pragma once

#include "ss-report-case.h"

G_BEGIN_DECLS

#define SS_REPORT_HL7_ERROR (ss_report_hl7_error_quark ())
GQuark ss_report_hl7_error_quark (void);

typedef enum {
  SS_REPORT_HL7_ERROR_NO_PATIENT,      /* the case has no patient reference to file it under */
  SS_REPORT_HL7_ERROR_NOTHING_COUNTED, /* no white cell is counted: there are no percentages */
} SsReportHl7Error;

typedef struct {
  /* MSH-10, at most 20 characters; NULL: the time and a random number, unique enough
   * for one station */
  const char *message_control_id;
  /* MSH-7; NULL: now */
  GDateTime  *now;
} SsReportHl7Options;

/* The message: MSH, PID, OBR, two NTE (the research-use notice, then the count and the
 * blast interval in words) and one OBX per counted class with its percentage of the
 * counted white cells, segments ended by CR. Signed cases are final (F), others
 * preliminary (P). options may be NULL. NULL with an SS_REPORT_HL7_ERROR when the case
 * has no patient reference or no counted cell. */
char *ss_report_case_hl7 (const SsReportCase *report, const SsReportHl7Options *options,
                          GError **error);

/* text with HL7's delimiters escaped (\F\ \S\ \T\ \R\ \E\) and every other control
 * character as a hex escape (\X0D\), so that it stays one value of one field. */
char *ss_report_hl7_escape (const char *text);

G_END_DECLS
