/* A trained model put to work on images: crops are resampled to the model's input,
 * classified in batches, and the model's classes mapped onto the cell classes. */
#pragma once

#include <glib.h>

#include "ss-cell.h"
#include "ss-detect.h"
#include "ss-scale.h"
#include "ss-engine.h"
#include "ss-image.h"

G_BEGIN_DECLS

/* Reference-counted, so the workstation's background tasks can share one with the
 * window. The run functions below and ss_gradcam_picture may be called from several
 * threads at once: each takes the classifier's lock while it fills the batch buffer and
 * runs the model (one engine model cannot run twice at a time), so calls on one
 * classifier take turns, chunk by chunk. */
typedef struct _SsClassifier SsClassifier;

SsClassifier *ss_classifier_load (const char *path, GError **error);
SsClassifier *ss_classifier_ref (SsClassifier *classifier);
void          ss_classifier_unref (SsClassifier *classifier);
/* The same as ss_classifier_unref. */
void          ss_classifier_free (SsClassifier *classifier);
/* The engine model, unguarded: change its settings (views) before the classifier is
 * shared, and run it directly only where no other thread uses the classifier. */
SsModel      *ss_classifier_model (SsClassifier *classifier);
int           ss_classifier_n_classes (SsClassifier *classifier);
const char   *ss_classifier_class_name (SsClassifier *classifier, int i);
/* For each model class, the SsCellClass it stands for through the label table
 * (SS_CLASS_OTHER for a name the table does not know). */
int           ss_classifier_cell_class (SsClassifier *classifier, int i);
/* One row of the model's probabilities (probs) summed into the SS_N_CLASSES cell classes
 * (cell_probs): a model may split a cell class (PBC's ig and erythroblast are both
 * "other"), each class counted where ss_classifier_cell_class puts it. */
void          ss_classifier_cell_probs (SsClassifier *classifier, const float *probs,
                                        float *cell_probs);

/* How a cell is framed for the cell-type model, everywhere: its box squared, widened by
 * this fraction of its side on every side. The analysis, `cells` (which cuts the
 * training sets), `evaluate --field-cells` and the model tests all use it: a model sees
 * cells framed as it learned them (docs/models.md, "Framing"). */
#define SS_CLASSIFIER_MARGIN 0.15

/* A cell as a person is shown it (the window's gallery, the PDF report): its box framed
 * as the model sees it (SS_CLASSIFIER_MARGIN), brought to size x size RGB (3 bytes a
 * pixel, into rgb), and the part past the field's edge plain grey rather than the edge
 * pixels repeated in stripes, which could be taken for the cell. */
void     ss_cell_view_crop (const SsImage *field, const SsBox *box, int size, guint8 *rgb);

/* The model's input for one cell of image: its box framed by ss_box_frame (squared,
 * widened by `margin`), resampled as the model was trained; x holds 3 x in_h x in_w
 * floats. */
void     ss_classifier_frame_box (SsClassifier *classifier, const SsImage *image,
                                  const SsBox *box, double margin, float *x);
/* Classify n cells of image (their boxes, each framed by ss_box_frame): probs gets n
 * rows of the model's classes. */
/* The colours of one camera: the pooled per-channel mean and spread of every cell crop a
 * case's fields have shown the classifier so far. A microscope's lamp, stain and camera
 * shift and squeeze the colours of all its cells alike; the model learned others'. With a
 * pool, each crop's channels are mapped linearly so that the pool's mean and spread
 * become those the model was trained on (its own normalisation statistics), before the
 * model sees it (docs/models.md, "It is the camera's colour"). */
typedef struct _SsColourPool SsColourPool;

/* target: the mean of R, G, B then their standard deviations, in [0, 1], that the pooled
 * colours are mapped onto; NULL: the colours the model's training cameras were brought
 * to (SsModelSpec.camera_colour), or for a model trained without, its own normalisation
 * statistics (those of its whole training set, background crops included). */
SsColourPool *ss_colour_pool_new (const double *target);
/* A pool that maps only while the camera check beside the model says the pooled crops'
 * camera is unlike every camera it learned (the median of their distances, as taken,
 * beyond its threshold): a new camera's colours are brought to target, those of a camera
 * the model knows are left as they are (docs/models.md, "A new camera's colours"). */
SsColourPool *ss_colour_pool_new_for_camera (const double *target);
void          ss_colour_pool_free (SsColourPool *pool);
gboolean      ss_colour_pool_by_camera (const SsColourPool *pool);
/* Whether the crops of the pool's last run were mapped (FALSE for a NULL pool). */
gboolean      ss_colour_pool_mapped (const SsColourPool *pool);
/* The R, G, B means then deviations pool maps onto for a model of spec: its own target,
 * else the model's camera colour, else the model's normalisation (pool may be NULL:
 * the model's). */
void          ss_colour_pool_target (const SsColourPool *pool, const SsModelSpec *spec,
                                     double target[6]);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsColourPool, ss_colour_pool_free)

/* ss_classifier_run_boxes with the colours mapped through pool, which first takes in
 * these crops' pixels (pool NULL: as ss_classifier_run_boxes). A crop the model's lab
 * head answers for (a camera the lab taught it) is never mapped. camera (may be NULL)
 * gets each crop's camera check distance (ss_classifier_camera_check) as the camera took
 * it, before any map: -1 without a check, 0 for a crop of the lab's camera. */
gboolean ss_classifier_run_boxes_pooled (SsClassifier *classifier, const SsImage *image,
                                         const SsBox *boxes, int n, double margin,
                                         SsColourPool *pool, float *probs, float *camera,
                                         GError **error);
/* How unlike the cameras the model learned a crop looks: the check in the file beside
 * the model (MODEL-cameras.csv), or NULL when there is none. */
const struct _SsCameraCheck *ss_classifier_camera_check (SsClassifier *classifier);
/* Take the camera check beside another model file (a lab's model, stored without one,
 * checks against the cameras of the model it was taught from; its own head's camera is
 * known by its gate). TRUE when there is none there; FALSE with error when it is
 * damaged. */
gboolean ss_classifier_use_camera_check_of (SsClassifier *classifier, const char *model_path,
                                            GError **error);

gboolean ss_classifier_run_boxes (SsClassifier *classifier, const SsImage *image,
                                  const SsBox *boxes, int n, double margin, float *probs,
                                  GError **error);
/* Classify whole images. */
gboolean ss_classifier_run_images (SsClassifier *classifier, SsImage *const *images, int n,
                                   float *probs, GError **error);

/* Which of a field's cells carry its label. */
typedef enum {
  SS_FIELD_CELLS_CERTAIN, /* the ones the detector is surest of (aria-all's fields) */
  SS_FIELD_CELLS_CENTRE   /* the ones nearest the picture's centre (PBC's cell pictures) */
} SsFieldCells;

/* Every white cell the stain detector finds in image (detect: its settings), ordered as
 * `pick` says: most certain first, or nearest the centre first. */
GPtrArray *ss_classifier_field_cells (const SsImage *image, const SsDetectSettings *detect,
                                      SsFieldCells pick);

/* A field labelled as a whole, classified through its cells: the stain detector finds
 * the white cells (detect: its settings, or NULL for the defaults), the first max_cells
 * in `pick`'s order are framed (ss_box_frame) and classified, and probs
 * gets the mean of their probabilities (the whole field is classified if no cell is
 * found). *n_cells (may be NULL) gets how many cells were used. */
gboolean ss_classifier_run_field (SsClassifier *classifier, const SsImage *image,
                                  const SsDetectSettings *detect, int max_cells,
                                  SsFieldCells pick, double margin, float *probs,
                                  int *n_cells, GError **error);

/* ss_classifier_run_field over every image of a list (a data set's paths): n rows of
 * probabilities (g_free them), or NULL with the first unreadable image named. With a
 * scale pool, each image is analysed at the pooled scale of its red cells and those of
 * the images before it (ss-scale.h); without, at detect's diameter. With a colour pool,
 * the cells' colours are mapped through it (ss_classifier_run_boxes_pooled). */
float *ss_classifier_run_fields (SsClassifier *classifier, char *const *paths, int n,
                                 const SsDetectSettings *detect, int max_cells,
                                 SsFieldCells pick, double margin, SsScalePool *scale_pool,
                                 SsColourPool *colour_pool, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsClassifier, ss_classifier_unref)

G_END_DECLS
