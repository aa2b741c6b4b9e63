/* The HL7 v2.5.1 ORU^R01 message of a case. Every text from the store goes through
 * ss_report_hl7_escape; numbers are written with a decimal point whatever the locale. */
#include "ss-report-hl7.h"

#include <string.h>

G_DEFINE_QUARK (ss-report-hl7-error-quark, ss_report_hl7_error)

/* LOINC "/100 leukocytes in Blood" codes, method unspecified: the members of LOINC's
 * panel 69738-3 (Differential panel, method unspecified - Blood) for the classes of
 * DESIGN.md. Sources and check digits: docs/exchange.md, "LOINC codes". */
static const struct {
  const char *code;
  const char *name;
} loinc[SS_N_CLASSES] = {
  [SS_CLASS_LYMPHOBLAST] = { "34922-5", "Lymphoblasts/100 leukocytes in Blood" },
  [SS_CLASS_LYMPHOCYTE] = { "26478-8", "Lymphocytes/100 leukocytes in Blood" },
  [SS_CLASS_NEUTROPHIL] = { "26511-6", "Neutrophils/100 leukocytes in Blood" },
  [SS_CLASS_MONOCYTE] = { "26485-3", "Monocytes/100 leukocytes in Blood" },
  [SS_CLASS_EOSINOPHIL] = { "26450-7", "Eosinophils/100 leukocytes in Blood" },
  [SS_CLASS_BASOPHIL] = { "30180-4", "Basophils/100 leukocytes in Blood" },
  [SS_CLASS_OTHER] = { "26471-3", "Leukocytes other/100 leukocytes in Blood" },
  [SS_CLASS_NOT_A_CELL] = { NULL, NULL },
};

#define PANEL_CODE "69738-3"
#define PANEL_NAME "Differential panel, method unspecified - Blood"
#define NOTICE     "For research use. Verify before clinical decisions."

char *
ss_report_hl7_escape (const char *text)
{
  g_return_val_if_fail (text != NULL, NULL);
  GString *escaped = g_string_sized_new (strlen (text));
  for (const char *at = text; *at != '\0'; at++)
    {
      guchar c = (guchar) *at;
      switch (c)
        {
        case '|': g_string_append (escaped, "\\F\\"); break;
        case '^': g_string_append (escaped, "\\S\\"); break;
        case '&': g_string_append (escaped, "\\T\\"); break;
        case '~': g_string_append (escaped, "\\R\\"); break;
        case '\\': g_string_append (escaped, "\\E\\"); break;
        default:
          /* CR would end the segment; every control character goes as hex */
          if (c < 0x20 || c == 0x7f)
            g_string_append_printf (escaped, "\\X%02X\\", c);
          else
            g_string_append_c (escaped, (char) c);
        }
    }
  return g_string_free (escaped, FALSE);
}

static char *
hl7_time (GDateTime *time)
{
  g_autoptr (GDateTime) utc = g_date_time_to_utc (time);
  return g_date_time_format (utc, "%Y%m%d%H%M%S+0000");
}

/* An ISO 8601 time of the store as HL7's DTM in UTC (YYYYMMDDHHMMSS+0000); "" if it
 * does not parse. */
static char *
hl7_time_from_iso (const char *iso)
{
  g_autoptr (GDateTime) time = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  return time != NULL ? hl7_time (time) : g_strdup ("");
}

/* Append the field separator and then text escaped (NULL: an empty field). */
static void
add_text (GString *message, const char *text)
{
  g_string_append_c (message, '|');
  if (text != NULL)
    {
      g_autofree char *escaped = ss_report_hl7_escape (text);
      g_string_append (message, escaped);
    }
}

/* Append the field separator and then raw, which holds HL7 structure (components) whose
 * texts the caller escaped. */
static void
add_raw (GString *message, const char *raw)
{
  g_string_append_c (message, '|');
  g_string_append (message, raw != NULL ? raw : "");
}

/* End the segment, leaving out the separators of empty fields at its end. */
static void
end_segment (GString *message)
{
  while (message->len > 0 && message->str[message->len - 1] == '|')
    g_string_truncate (message, message->len - 1);
  g_string_append_c (message, '\r');
}

/* The earliest analysis of the case's images: when the smear was observed. */
static const char *
observed_at (const SsReportCase *report)
{
  const char *earliest = NULL;
  for (guint i = 0; i < report->images->len; i++)
    {
      const SsImageRecord *image = g_ptr_array_index (report->images, i);
      if (image->analysed_at != NULL
          && (earliest == NULL || strcmp (image->analysed_at, earliest) < 0))
        earliest = image->analysed_at;
    }
  return earliest;
}

static char *
format_number (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  return g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%.1f", value));
}

char *
ss_report_case_hl7 (const SsReportCase *report, const SsReportHl7Options *options,
                    GError **error)
{
  g_return_val_if_fail (report != NULL, NULL);
  const SsCase *c = report->case_info;
  const SsCounts *counts = &report->counts;
  if (c->patient_ref == NULL || c->patient_ref[0] == '\0')
    {
      g_set_error (error, SS_REPORT_HL7_ERROR, SS_REPORT_HL7_ERROR_NO_PATIENT,
                   "case %s has no patient reference for the laboratory system to file the "
                   "result under; give the case one first", c->accession);
      return NULL;
    }
  if (counts->total_counted == 0)
    {
      g_set_error (error, SS_REPORT_HL7_ERROR, SS_REPORT_HL7_ERROR_NOTHING_COUNTED,
                   "case %s has no counted white cells, so there is no differential to send",
                   c->accession);
      return NULL;
    }

  gboolean signed_case = c->status == SS_CASE_SIGNED;
  const char *status = signed_case ? "F" : "P";
  g_autoptr (GDateTime) now = options != NULL && options->now != NULL
                                ? g_date_time_ref (options->now) : g_date_time_new_now_utc ();
  g_autofree char *message_time = hl7_time (now);
  g_autofree char *control_id = NULL;
  if (options != NULL && options->message_control_id != NULL)
    control_id = g_strndup (options->message_control_id, 20);
  else
    {
      g_autoptr (GDateTime) utc = g_date_time_to_utc (now);
      g_autofree char *digits = g_date_time_format (utc, "%Y%m%d%H%M%S");
      control_id = g_strdup_printf ("%s%06d", digits, g_random_int_range (0, 1000000));
    }
  g_autofree char *observed = hl7_time_from_iso (observed_at (report));
  g_autofree char *reported = hl7_time_from_iso (signed_case ? c->signed_at : c->updated_at);
  const char *signer = signed_case ? c->signed_by : NULL;

  GString *message = g_string_new (NULL);
  /* MSH: MSH-1 is the field separator itself, MSH-2 the other four delimiters */
  g_string_append (message, "MSH|^~\\&");
  add_text (message, "Smearscope");              /* 3 sending application */
  add_raw (message, NULL);                       /* 4 sending facility */
  add_raw (message, NULL);                       /* 5 receiving application */
  add_raw (message, NULL);                       /* 6 receiving facility */
  add_raw (message, message_time);               /* 7 date/time of message */
  add_raw (message, NULL);                       /* 8 security */
  add_raw (message, "ORU^R01^ORU_R01");          /* 9 message type */
  add_text (message, control_id);                /* 10 message control id */
  add_raw (message, "P");                        /* 11 processing id: production */
  add_raw (message, "2.5.1");                    /* 12 version */
  for (int field = 13; field <= 17; field++)
    add_raw (message, NULL);
  add_raw (message, "UNICODE UTF-8");            /* 18 character set (table 0211) */
  end_segment (message);

  /* PID: the lab's patient reference as a patient internal identifier (table 0203: PI);
   * Smearscope keeps no names, so PID-5 says only that the name is unspecified (U) */
  g_autofree char *patient = ss_report_hl7_escape (c->patient_ref);
  g_autofree char *patient_id = g_strdup_printf ("%s^^^^PI", patient);
  g_string_append (message, "PID|1");
  add_raw (message, NULL);                       /* 2 */
  add_raw (message, patient_id);                 /* 3 patient identifier list */
  add_raw (message, NULL);                       /* 4 */
  add_raw (message, "^^^^^^U");                  /* 5 patient name: unspecified */
  end_segment (message);

  /* OBR: the differential, its filler order number the accession */
  g_autofree char *accession = ss_report_hl7_escape (c->accession);
  g_autofree char *filler = g_strdup_printf ("%s^Smearscope", accession);
  g_string_append (message, "OBR|1");
  add_raw (message, NULL);                       /* 2 placer order number */
  add_raw (message, filler);                     /* 3 filler order number */
  add_raw (message, PANEL_CODE "^" PANEL_NAME "^LN"); /* 4 universal service id */
  add_raw (message, NULL);                       /* 5 */
  add_raw (message, NULL);                       /* 6 */
  add_raw (message, observed);                   /* 7 observation date/time */
  for (int field = 8; field <= 21; field++)
    add_raw (message, NULL);
  add_raw (message, reported);                   /* 22 results reported/status change */
  add_raw (message, NULL);                       /* 23 */
  add_raw (message, "HM");                       /* 24 diagnostic service section: hematology */
  add_raw (message, status);                     /* 25 result status */
  for (int field = 26; field <= 31; field++)
    add_raw (message, NULL);
  add_text (message, signer);                    /* 32 principal result interpreter */
  end_segment (message);

  /* NTE: the notice, then the count in words */
  g_string_append (message, "NTE|1|L");
  add_text (message, NOTICE);
  end_segment (message);
  g_autofree char *summary = NULL;
  {
    char low[G_ASCII_DTOSTR_BUF_SIZE], high[G_ASCII_DTOSTR_BUF_SIZE];
    char pct[G_ASCII_DTOSTR_BUF_SIZE], threshold[G_ASCII_DTOSTR_BUF_SIZE];
    summary = g_strdup_printf ("%d white cells counted. Lymphoblasts %s%% (95%% CI %s-%s%%); "
                               "blast flag threshold %s%%: %s.", counts->total_counted,
                               g_ascii_formatd (pct, sizeof pct, "%.1f", counts->blast_pct),
                               g_ascii_formatd (low, sizeof low, "%.1f", counts->ci95_low),
                               g_ascii_formatd (high, sizeof high, "%.1f", counts->ci95_high),
                               g_ascii_formatd (threshold, sizeof threshold, "%.0f",
                                                counts->threshold),
                               counts->flag ? "above, flag raised" : "not above");
  }
  g_string_append (message, "NTE|2|L");
  add_text (message, summary);
  end_segment (message);

  /* OBX: one per counted class, its share of the counted white cells */
  int set_id = 0;
  for (int cls = 0; cls < SS_N_CLASSES; cls++)
    {
      if (!ss_class_is_counted (cls) || loinc[cls].code == NULL)
        continue;
      g_autofree char *identifier = g_strdup_printf ("%s^%s^LN", loinc[cls].code, loinc[cls].name);
      g_autofree char *value = format_number (100.0 * counts->counts[cls] / counts->total_counted);
      gboolean high = cls == SS_CLASS_LYMPHOBLAST && counts->flag;
      g_string_append_printf (message, "OBX|%d", ++set_id);
      add_raw (message, "NM");                   /* 2 value type */
      add_raw (message, identifier);             /* 3 observation identifier */
      add_raw (message, NULL);                   /* 4 sub-id */
      add_raw (message, value);                  /* 5 value */
      add_raw (message, "%^percent^UCUM");       /* 6 units */
      add_raw (message, NULL);                   /* 7 reference range */
      add_raw (message, high ? "H" : NULL);      /* 8 abnormal flag */
      add_raw (message, NULL);                   /* 9 */
      add_raw (message, NULL);                   /* 10 */
      add_raw (message, status);                 /* 11 result status */
      add_raw (message, NULL);                   /* 12 */
      add_raw (message, NULL);                   /* 13 */
      add_raw (message, observed);               /* 14 date/time of the observation */
      add_raw (message, NULL);                   /* 15 */
      add_text (message, signer);                /* 16 responsible observer */
      end_segment (message);
    }
  return g_string_free (message, FALSE);
}
