/* VOC XML (src/analysis/ss-voc.c) and its import as ground truth
 * (src/report/ss-report-import.c): the parse either fails with a message naming the
 * line, or gives objects with names and boxes within the limits; the import agrees. */
#include "fuzz-util.h"

#include "ss-report-import.h"
#include "ss-voc.h"

#include <string.h>

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SsVocAnnotation) voc = ss_voc_parse ((const char *) data, (gssize) size, &error);
  if (voc == NULL)
    FUZZ_CHECK (error != NULL && error->message[0] != '\0', "a refused VOC file says nothing");
  else
    {
      FUZZ_CHECK (voc->objects->len <= SS_VOC_MAX_OBJECTS, "%u objects", voc->objects->len);
      for (guint i = 0; i < voc->objects->len; i++)
        {
          const SsVocObject *o = &g_array_index (voc->objects, SsVocObject, i);
          FUZZ_CHECK (o->name != NULL, "object %u has no name", i);
          FUZZ_CHECK (ABS (o->box.x) <= 10000000 && ABS (o->box.y) <= 10000000
                        && ABS (o->box.width) <= 20000000 && ABS (o->box.height) <= 20000000,
                      "object %u's box is beyond the limits", i);
        }
      SsBox *boxes = NULL;
      int n = ss_voc_boxes (voc, "WBC", &boxes);
      FUZZ_CHECK (n >= 0 && (guint) n <= voc->objects->len, "%d boxes", n);
      g_free (boxes);
    }

  const char *path = fuzz_write_file (".xml", data, size);
  g_autoptr (GError) import_error = NULL;
  g_autoptr (SsTruthFile) truth = ss_report_truth_file_load (path, "voc", &import_error);
  if (truth == NULL)
    {
      FUZZ_CHECK (import_error != NULL && import_error->domain == SS_REPORT_IMPORT_ERROR
                    && strstr (import_error->message, path) != NULL,
                  "a refused VOC import does not name its file");
      return 0;
    }
  FUZZ_CHECK (voc != NULL, "the import reads a file the VOC parser refuses");
  FUZZ_CHECK (truth->images->len == 1, "a VOC file gives %u images", truth->images->len);
  const SsTruthImage *image = &g_array_index (truth->images, SsTruthImage, 0);
  for (guint i = 0; i < image->cells->len; i++)
    {
      const SsTruthCell *cell = g_ptr_array_index (image->cells, i);
      FUZZ_CHECK (cell->box.width > 0 && cell->box.height > 0 && cell->box.x >= 0
                    && cell->box.y >= 0
                    && (image->width <= 0 || cell->box.x + cell->box.width <= image->width)
                    && (image->height <= 0 || cell->box.y + cell->box.height <= image->height),
                  "truth cell %u's box leaves its image", i);
    }
  g_autofree char *summary = ss_report_truth_file_summary (truth);
  FUZZ_CHECK (summary != NULL && *summary != '\0', "no summary");
  return 0;
}
