/* An open case: its fields, every cell as an SsCellItem, the counts, the review queue
 * and undo/redo. Every change goes to the store first (one correction by the current
 * user, durable) and only then to the items, so what the window shows as done is done.
 * Widgets only read it and call its actions; it has no widgets. */
#pragma once

#include <gtk/gtk.h>

#include "ss-analysis.h"
#include "ss-classifier.h"
#include "ss-models.h"
#include "ss-store.h"
#include "ss-cell-item.h"

G_BEGIN_DECLS

#define SS_TYPE_CASE_DOCUMENT (ss_case_document_get_type ())
G_DECLARE_FINAL_TYPE (SsCaseDocument, ss_case_document, SS, CASE_DOCUMENT, GObject)

/* Read the case with its stored results (nothing is re-analysed). user: who makes the
 * corrections. */
SsCaseDocument *ss_case_document_open            (SsStore         *store,
                                                  const char      *accession,
                                                  const char      *user,
                                                  GError         **error);
/* Take in what other stations changed since the last look: the case's status, cells
 * corrected, drawn or deleted (the watch does it by itself; after a reconnection the
 * window asks, since changes may have gone unheard). Signal "store-failed" (a GError):
 * the watch's reload failed. */
gboolean        ss_case_document_reload          (SsCaseDocument  *self,
                                                  GError         **error);
SsStore        *ss_case_document_get_store       (SsCaseDocument  *self);
const SsCase   *ss_case_document_get_case        (SsCaseDocument  *self);
const char     *ss_case_document_get_accession   (SsCaseDocument  *self);
const char     *ss_case_document_get_user        (SsCaseDocument  *self);
/* Properties (all notify): "read-only" (signed), "n-cells" (living cells),
 * "n-unreviewed", "n-unsure" (unsure and not reviewed), "can-undo", "can-redo",
 * "undo-label", "redo-label", "n-images", "blast-threshold", "unsure-below". */
gboolean        ss_case_document_get_read_only   (SsCaseDocument  *self);
guint           ss_case_document_get_n_cells     (SsCaseDocument  *self);
guint           ss_case_document_get_n_unreviewed (SsCaseDocument *self);
guint           ss_case_document_get_n_unsure    (SsCaseDocument  *self);
gboolean        ss_case_document_get_can_undo    (SsCaseDocument  *self);
gboolean        ss_case_document_get_can_redo    (SsCaseDocument  *self);
void            ss_case_document_set_blast_threshold (SsCaseDocument *self,
                                                  double           percent);
void            ss_case_document_set_unsure_below (SsCaseDocument *self,
                                                  double           confidence);
/* The classifier that classifies cells a person draws (may be NULL: they keep the class
 * they were drawn as). The document takes a reference. */
void            ss_case_document_set_classifier  (SsCaseDocument  *self,
                                                  SsClassifier    *classifier);

/* Fields. */
guint                ss_case_document_get_n_images (SsCaseDocument *self);
const SsImageRecord *ss_case_document_get_image  (SsCaseDocument  *self,
                                                  guint            index);
/* The field's pixels, decoded once and kept for the few fields last used; NULL with an
 * error if the file is gone or unreadable. */
GdkPixbuf      *ss_case_document_get_field_pixbuf (SsCaseDocument *self,
                                                  guint            index,
                                                  GError         **error);
/* The field's pixels without waiting: when the field is not decoded yet it is decoded in
 * a worker thread, NULL is returned with *loading TRUE and "field-loaded" follows; NULL
 * with *loading FALSE when its file cannot be read (get_field_pixbuf says why). */
GdkPixbuf      *ss_case_document_try_field_pixbuf (SsCaseDocument *self,
                                                  guint            index,
                                                  gboolean        *loading);
/* Decode a field in the background ahead of need (the next cell's field). */
void            ss_case_document_prefetch_field  (SsCaseDocument  *self,
                                                  guint            index);
/* The same field as the analysis sees it (for Grad-CAM and drawn cells). */
const SsImage  *ss_case_document_get_field_image (SsCaseDocument *self,
                                                  guint            index,
                                                  GError         **error);

/* Cells. Both models hold SsCellItem and leave deleted cells out; they change as cells
 * are deleted, restored and added. */
GListModel     *ss_case_document_get_cells       (SsCaseDocument  *self);
GListModel     *ss_case_document_get_image_cells (SsCaseDocument  *self,
                                                  guint            index);
/* Ground truth imported for the fields (smearscope-cli import): a layer beside the
 * cells, never counted, corrected or reviewed. The field's SsTruthCell, in the order
 * they were stored (transfer none), and how many the whole case has. */
GPtrArray      *ss_case_document_get_image_truth (SsCaseDocument  *self,
                                                  guint            index);
guint           ss_case_document_get_n_truth_cells (SsCaseDocument *self);
/* How many of the field's truth cells its living cells match one to one at IoU >=
 * iou_threshold, as evaluate --task detect matches them. */
guint           ss_case_document_count_truth_matched (SsCaseDocument *self,
                                                  guint            index,
                                                  double           iou_threshold);
SsCellItem     *ss_case_document_find_cell       (SsCaseDocument  *self,
                                                  gint64           cell_id);
/* Make (and keep) the cell's gallery picture, size pixels on a side; decodes its field
 * if need be (NULL if it cannot be read). */
GdkTexture     *ss_case_document_ensure_crop     (SsCaseDocument  *self,
                                                  SsCellItem      *item,
                                                  int              size);
/* The same without waiting: when the field is not decoded yet, it is decoded in a
 * worker thread, NULL is returned with *loading TRUE, and "field-loaded" (uint index)
 * follows; NULL with *loading FALSE when the field's file cannot be read. */
GdkTexture     *ss_case_document_try_crop        (SsCaseDocument  *self,
                                                  SsCellItem      *item,
                                                  int              size,
                                                  gboolean        *loading);

/* The review queue: unreviewed cells, unsure ones first, then the least certain; the
 * reviewed ones last. A new array (transfer container) of the living cells. */
GPtrArray      *ss_case_document_review_queue    (SsCaseDocument  *self);
/* The first unreviewed cell of the queue other than `after` (may be NULL); NULL when
 * every cell is reviewed. */
SsCellItem     *ss_case_document_next_unreviewed (SsCaseDocument  *self,
                                                  SsCellItem      *after);

/* Counts of the case's living cells by current class, and the blast statistics. */
void            ss_case_document_get_counts      (SsCaseDocument  *self,
                                                  SsCounts        *counts);

/* Corrections: one undo step for the whole set of items; each cell's change is one
 * correction in the store. FALSE with an error (and nothing shown as changed that the
 * store did not keep) on failure. Relabelling a cell to its own class confirms it. */
gboolean        ss_case_document_relabel         (SsCaseDocument  *self,
                                                  SsCellItem     **items,
                                                  guint            n_items,
                                                  int              new_class,
                                                  GError         **error);
gboolean        ss_case_document_confirm         (SsCaseDocument  *self,
                                                  SsCellItem     **items,
                                                  guint            n_items,
                                                  GError         **error);
gboolean        ss_case_document_delete          (SsCaseDocument  *self,
                                                  SsCellItem     **items,
                                                  guint            n_items,
                                                  GError         **error);
/* A cell a person drew on field `index`: classified by the document's classifier if it
 * has one, else stored as `cell_class`. Returns the new item (owned by the document). */
SsCellItem     *ss_case_document_add_cell        (SsCaseDocument  *self,
                                                  guint            index,
                                                  const SsBox     *box,
                                                  int              cell_class,
                                                  GError         **error);
gboolean        ss_case_document_undo            (SsCaseDocument  *self,
                                                  GError         **error);
gboolean        ss_case_document_redo            (SsCaseDocument  *self,
                                                  GError         **error);

/* A field analysed in the background: stored, then its cells join the models. */
gboolean        ss_case_document_add_result      (SsCaseDocument  *self,
                                                  SsAnalysisResult *result,
                                                  const SsModelIdentity *model,
                                                  GError         **error);

/* Sign-off and reopening, both recorded in the store. */
gboolean        ss_case_document_sign            (SsCaseDocument  *self,
                                                  GError         **error);
gboolean        ss_case_document_reopen          (SsCaseDocument  *self,
                                                  const char      *reason,
                                                  GError         **error);
/* Change the case's descriptive fields in the store (NULL leaves a field as it is, ""
 * empties it) and read the case back; "read-only" is notified as after a signature.
 * The store refuses a signed case (SS_STORE_ERROR_SIGNED) and says why. */
gboolean        ss_case_document_update_details  (SsCaseDocument  *self,
                                                  const char      *patient_ref,
                                                  const char      *specimen,
                                                  const char      *stain,
                                                  const char      *notes,
                                                  GError         **error);

/* Signals: "counts-changed" () after any change of class, deletion or addition;
 * "cell-changed" (SsCellItem *) after one cell changed; "images-changed" () after a
 * field was added; "field-loaded" (uint index) when a field decoded for
 * ss_case_document_try_crop is ready (or could not be read). */

G_END_DECLS
