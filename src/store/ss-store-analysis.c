/* Storing an analysis result: what the store records of an image and its model, taken
 * from the files themselves. */
#include "ss-store-analysis.h"

gint64
ss_store_add_analysis (SsStore *store, const char *accession, const SsAnalysisResult *result,
                       const SsModelIdentity *model, GError **error)
{
  g_return_val_if_fail (SS_IS_STORE (store), 0);
  g_return_val_if_fail (result != NULL && result->path != NULL && result->cells != NULL, 0);
  g_return_val_if_fail (model != NULL, 0);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *sha256 = ss_file_sha256 (result->path, &local_error);
  /* the store is read later from anywhere (the window, learn, another folder): a path
   * given relative to where the command ran is kept whole */
  g_autofree char *path = g_canonicalize_filename (result->path, NULL);
  gint64 image_id = 0;
  if (sha256 != NULL)
    {
      SsImageInfo info = {
        .path = path, .sha256 = sha256, .width = result->width,
        .height = result->height, .model_name = model->name, .model_version = model->format,
        .model_checksum = model->sha256, .cell_diameter = result->cell_diameter,
        .scale_source = ss_scale_source_to_string (result->scale_source),
        .once_per_case = TRUE,
      };
      image_id = ss_store_add_image (store, accession, &info, result->cells, &local_error);
    }
  if (image_id == 0)
    g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s: not stored: ",
                                result->path);
  return image_id;
}
