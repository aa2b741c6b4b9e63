/* The HL7 writer's escaping (src/report/ss-report-hl7.c), read back by hl7-parse.c.
 *
 * Input: 8 bytes of class counts, a byte of flags (bit 0: signed), then NUL-separated
 * texts: the patient reference, the accession, the signer and the message control id.
 * Each text escapes to a value with no delimiter or control character that reads back
 * as itself; in the whole message, each stays in its field, and the segments and
 * results are the ones the counts ask for. */
#include "fuzz-util.h"

#include "hl7-parse.h"
#include "ss-report-hl7.h"

#include <string.h>

static void
check_escape (const char *text)
{
  g_autofree char *escaped = ss_report_hl7_escape (text);
  for (const char *at = escaped; *at != '\0'; at++)
    FUZZ_CHECK (strchr ("|^&~", *at) == NULL && (guchar) *at >= 0x20 && *at != 0x7f,
                "byte %d stands unescaped", (guchar) *at);
  g_autofree char *back = hl7_unescape (escaped);
  FUZZ_CHECK (back != NULL && strcmp (back, text) == 0, "'%s' escaped as '%s' reads back as "
              "'%s'", text, escaped, back != NULL ? back : "(malformed)");
}

/* The unescaped component of field in segment equals text. */
static void
check_field (GStrv segment, guint field, guint component, const char *text)
{
  g_autofree char *value = hl7_component (hl7_field (segment, field), component);
  g_autofree char *back = hl7_unescape (value);
  FUZZ_CHECK (back != NULL && strcmp (back, text) == 0, "%s-%u.%u is '%s', not '%s'", segment[0],
              field, component, back != NULL ? back : value, text);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 9)
    return 0;
  int class_counts[SS_N_CLASSES];
  for (int c = 0; c < SS_N_CLASSES; c++)
    class_counts[c] = data[c];
  const gboolean signed_case = data[8] & 1;
  /* the texts, each ended by a NUL of the input or by its end */
  const char *texts[4];
  g_autofree char *copy = g_malloc (size - 9 + 1);
  memcpy (copy, data + 9, size - 9);
  copy[size - 9] = '\0';
  const char *at = copy, *end = copy + (size - 9);
  for (int i = 0; i < 4; i++)
    {
      texts[i] = at < end ? at : "";
      at += at < end ? strlen (at) + 1 : 0;
    }
  for (int i = 0; i < 4; i++)
    check_escape (texts[i]);

  SsCase info = {
    .accession = (char *) texts[1],
    .patient_ref = (char *) texts[0],
    .status = signed_case ? SS_CASE_SIGNED : SS_CASE_OPEN,
    .signed_by = signed_case ? (char *) texts[2] : NULL,
    .signed_at = signed_case ? "2026-12-06T10:00:00.000000Z" : NULL,
    .updated_at = "2026-12-06T09:00:00.000000Z",
  };
  g_autoptr (GPtrArray) images = g_ptr_array_new ();
  SsReportCase report = { .case_info = &info, .images = images };
  ss_counts_compute (class_counts, SS_BLAST_THRESHOLD_DEFAULT, &report.counts);
  g_autoptr (GDateTime) now = g_date_time_new_utc (2026, 12, 6, 12, 0, 0);
  SsReportHl7Options options = { .message_control_id = texts[3][0] != '\0' ? texts[3] : NULL,
                                 .now = now };
  g_autoptr (GError) error = NULL;
  g_autofree char *message = ss_report_case_hl7 (&report, &options, &error);
  if (message == NULL)
    {
      FUZZ_CHECK (error != NULL && (texts[0][0] == '\0' || report.counts.total_counted == 0),
                  "a message refused without reason");
      return 0;
    }
  FUZZ_CHECK (texts[0][0] != '\0' && report.counts.total_counted > 0,
              "a message without a patient or a count");

  g_autoptr (GPtrArray) segments = hl7_parse (message);
  int n_results = 0;
  for (int c = 0; c < SS_N_CLASSES; c++)
    n_results += ss_class_is_counted (c);
  FUZZ_CHECK (segments->len == 5 + (guint) n_results, "%u segments, not %d", segments->len,
              5 + n_results);
  const char *names[] = { "MSH", "PID", "OBR", "NTE", "NTE" };
  for (guint i = 0; i < segments->len; i++)
    FUZZ_CHECK (strcmp (((GStrv) segments->pdata[i])[0], i < 5 ? names[i] : "OBX") == 0,
                "segment %u is %s", i + 1, ((GStrv) segments->pdata[i])[0]);
  GStrv msh = segments->pdata[0], pid = segments->pdata[1], obr = segments->pdata[2];
  FUZZ_CHECK (strcmp (hl7_field (msh, 2), "^~\\&") == 0, "MSH-2 is '%s'", hl7_field (msh, 2));
  if (options.message_control_id != NULL)
    {
      g_autofree char *id = g_strndup (texts[3], 20);
      check_field (msh, 10, 1, id);
    }
  check_field (pid, 3, 1, texts[0]);
  check_field (obr, 3, 1, texts[1]);
  check_field (obr, 25, 1, signed_case ? "F" : "P");
  check_field (obr, 32, 1, signed_case ? texts[2] : "");
  for (guint i = 5; i < segments->len; i++)
    {
      GStrv obx = segments->pdata[i];
      check_field (obx, 11, 1, signed_case ? "F" : "P");
      check_field (obx, 16, 1, signed_case ? texts[2] : "");
      double pct = g_ascii_strtod (hl7_field (obx, 5), NULL);
      FUZZ_CHECK (pct >= 0.0 && pct <= 100.0, "OBX-5 is %s", hl7_field (obx, 5));
    }
  return 0;
}
