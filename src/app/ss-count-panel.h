/* The count panel: the differential of the open case with the class keys, the blast
 * percentage and its interval, the flag in words, and how far the review has come. */
#pragma once

#include <gtk/gtk.h>

#include "ss-case-document.h"

G_BEGIN_DECLS

#define SS_TYPE_COUNT_PANEL (ss_count_panel_get_type ())
G_DECLARE_FINAL_TYPE (SsCountPanel, ss_count_panel, SS, COUNT_PANEL, GtkWidget)

/* Property: "document" (SsCaseDocument, may be NULL). */
GtkWidget      *ss_count_panel_new          (void);
SsCaseDocument *ss_count_panel_get_document (SsCountPanel   *self);
void            ss_count_panel_set_document (SsCountPanel   *self,
                                             SsCaseDocument *document);

G_END_DECLS
