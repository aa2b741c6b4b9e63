/* The strip of a case's fields under the slide view: a thumbnail, "Field N" and the
 * number of cells of each. Choosing one shows that field; it follows the field shown. */
#pragma once

#include <gtk/gtk.h>

#include "ss-case-document.h"
#include "ss-viewer-state.h"

G_BEGIN_DECLS

#define SS_TYPE_FIELD_STRIP (ss_field_strip_get_type ())
G_DECLARE_FINAL_TYPE (SsFieldStrip, ss_field_strip, SS, FIELD_STRIP, GtkWidget)

/* Properties: "document" (SsCaseDocument, may be NULL), "state" (SsViewerState, may be
 * NULL). */
GtkWidget      *ss_field_strip_new          (void);
SsCaseDocument *ss_field_strip_get_document (SsFieldStrip   *self);
void            ss_field_strip_set_document (SsFieldStrip   *self,
                                             SsCaseDocument *document);
SsViewerState  *ss_field_strip_get_state    (SsFieldStrip   *self);
void            ss_field_strip_set_state    (SsFieldStrip   *self,
                                             SsViewerState  *state);

G_END_DECLS
