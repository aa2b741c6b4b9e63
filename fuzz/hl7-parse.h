/* A small HL7 v2 reader for the harnesses: segments split at CR, fields at '|',
 * components at '^', and the escapes of ss_report_hl7_escape undone. Only what reading
 * back Smearscope's own messages needs; written here, apart from the writer, so that
 * the two can disagree. */
#pragma once

#include <glib.h>

/* The segments of message (GPtrArray of GStrv: field 0 is the segment's name; for MSH,
 * as HL7 counts, field 1 is the separator itself, so fields[i] is MSH-i). */
GPtrArray *hl7_parse (const char *message);
/* Field `field` of segment, or "" past its end. */
const char *hl7_field (GStrv segment, guint field);
/* Component `component` (1 for the first) of a field, or "". Allocated. */
char *hl7_component (const char *field, guint component);
/* The text an escaped value stands for, or NULL when an escape is malformed or a
 * delimiter stands unescaped. */
char *hl7_unescape (const char *value);
