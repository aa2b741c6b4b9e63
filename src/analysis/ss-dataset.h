/* Labelled image sets for training and evaluation: a folder of class folders (or a sheet:
 * DIR/sheet.png holding many cells, DIR/sheet.csv giving each x,y,width,height,class,source; or a
 * wbc-seg style folder with labels.csv), each folder name mapped to a target class
 * through --map and the label table, the images kept in memory at the model's input
 * size as RGB8. */
#pragma once

#include <glib.h>

#include "ss-engine.h"

G_BEGIN_DECLS

/* Sort an array of C strings in byte order (file lists, for repeatable runs). */
void ss_sort_strings (GPtrArray *strings);

typedef struct {
  int      n;            /* images */
  int      width, height;
  guint8  *pixels;       /* n * height * width * 3 */
  int     *labels;       /* index into class_names; -1 - c: "not class c" (--map X=!c) */
  char   **paths;        /* n file paths */
  char   **source_labels; /* n folder names as found */
  int      n_classes;
  char    *class_names[SS_MAX_CLASSES];
  char    *description;  /* "DIR (N images: class a: n, ...)" */
} SsDataset;

/* Parse "from=to,from=to" into a hash table (NULL on a malformed spec). */
GHashTable *ss_label_map_parse (const char *spec, GError **error);

/* Load DIR. If classes is NULL, the classes are the mapped folder names, sorted; every
 * folder must map to one. If classes is given (a model's), folders are mapped through
 * `map`, then the label table, and those that map to none are skipped with a note on
 * stderr. Images are resampled whole to width x height the model's way (see
 * ss_image_crop_to_rgb). */
SsDataset *ss_dataset_load (const char *dir, GHashTable *map, const char *const *classes,
                            int n_classes, int width, int height, SsResample resample,
                            GError **error);
/* ss_dataset_load for a model: its classes, input size and resampling. */
SsDataset *ss_dataset_load_for_model (const char *dir, GHashTable *map, const SsModelSpec *spec,
                                      GError **error);
void       ss_dataset_free (SsDataset *dataset);

/* Per-channel mean and standard deviation of all pixels, in [0,1] units, each image
 * first stretched as a model with that crop stretch takes it (ss_input_stretch; 0:
 * as it is). */
void ss_dataset_channel_stats (const SsDataset *dataset, float stretch, float mean[3],
                               float std[3]);

/* The colours of each camera a data set mixes, brought to one: every image belongs to
 * the camera named by the longest of `cameras` (file-name prefixes such as "pbc-",
 * "wbcseg-dataset1-") that starts its file name; the pooled per-channel mean and standard
 * deviation of that camera's white cells (its images of any class but not_a_cell, or all
 * of its images if it has none) are computed, and each of its images is mapped linearly,
 * channel by channel, so that they become target's (R, G, B means then deviations, in
 * [0, 1]). With target NULL, target gets the mean over the cameras of their statistics
 * (each camera counts once, whatever its size), and that is used. This is what the
 * analysis does with a colour pool (SsColourPool) to a new camera's cells, so the model
 * learns cells whose camera no longer shows in their colours. An image no prefix names
 * is an error. stats_out (may be NULL) gets 6 values per camera in the order given (all
 * 0 for a camera with no images). */
gboolean ss_dataset_normalise_cameras (SsDataset *dataset, const char *const *cameras,
                                       double target[6], double *stats_out, GError **error);

/* What ss_dataset_get adds to the flips, quarter turns and small colour jitter it always
 * draws. Every field 0 / FALSE draws nothing more from the random stream than before the
 * field existed, so models trained without it keep their bytes. */
typedef struct {
  float    shift_zoom; /* shift by up to this fraction of the side in x and y, zoom by a
                        * factor in [1 - shift_zoom, 1 + shift_zoom] about the centre */
  float    stain;      /* stain and light jitter of strength s (e.g. 0.2): each channel's
                        * optical density scaled by (1 +- s)(1 +- s/2), the light's colour
                        * by 1 +- s per channel (Beer-Lambert: v -> g * v^a) */
  gboolean rotate;     /* turn by any angle, not only quarter turns (square images) */
  float    camera;     /* what another microscope and camera change, of strength c in
                        * (0, 1]: each with probability 1/2, the resolution (down by a
                        * factor up to 1 + 3c and back up: a small cell enlarged to the
                        * model's input), defocus (a blur of sigma up to 1.5c px) and
                        * sensor noise (sd up to 0.03c) */
} SsAugment;

/* Image i as planar float CHW in [0,1]; with rng, augmented: random horizontal and
 * vertical flips, 90-degree rotations (square inputs) and small colour jitter, and what
 * augment asks for (NULL: nothing more). Shifted, zoomed or turned images are sampled
 * bilinearly; outside the image its edge repeats (shift and zoom) or it is mirrored
 * (any turn). */
void ss_dataset_get (const SsDataset *dataset, int i, SsRng *rng, const SsAugment *augment,
                     float *chw);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SsDataset, ss_dataset_free)

G_END_DECLS
