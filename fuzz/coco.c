/* COCO JSON import as ground truth (src/report/ss-report-import.c): boxes, categories,
 * polygons and uncompressed RLE masks. Either the file is refused with a message that
 * names it, or every truth cell has a box inside its image and a mask of its box's
 * size whose runs add up to it. */
#include "fuzz-util.h"

#include "ss-report-import.h"

#include <json-glib/json-glib.h>
#include <string.h>

static int
depth_of (JsonNode *node)
{
  int deepest = 0;
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        deepest = MAX (deepest, depth_of (json_array_get_element (array, i)));
      return deepest + 1;
    }
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      g_autoptr (GList) members = json_object_get_values (json_node_get_object (node));
      for (GList *l = members; l != NULL; l = l->next)
        deepest = MAX (deepest, depth_of (l->data));
      return deepest + 1;
    }
  return 0;
}

/* Unless the import refused it as beyond a limit, json-glib is never handed more
 * nesting than the limit: the import's measure of the bytes must agree with the parser
 * on where strings and comments are. */
static void
check_depth (const uint8_t *data, size_t size, const GError *error)
{
  if (error != NULL && g_error_matches (error, SS_REPORT_IMPORT_ERROR,
                                        SS_REPORT_IMPORT_ERROR_LIMIT))
    return;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, (const char *) data, (gssize) size, NULL)
      || json_parser_get_root (parser) == NULL)
    return;
  int depth = depth_of (json_parser_get_root (parser));
  FUZZ_CHECK (depth <= SS_REPORT_IMPORT_MAX_DEPTH, "JSON nested %d deep got past the limit "
              "of %d", depth, SS_REPORT_IMPORT_MAX_DEPTH);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = fuzz_write_file (".json", data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (SsTruthFile) truth = ss_report_truth_file_load (path, "coco", &error);
  check_depth (data, size, error);
  if (truth == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == SS_REPORT_IMPORT_ERROR
                    && strstr (error->message, path) != NULL,
                  "a refused COCO file does not name itself");
      return 0;
    }
  guint n_cells = 0;
  for (guint i = 0; i < truth->images->len; i++)
    {
      const SsTruthImage *image = &g_array_index (truth->images, SsTruthImage, i);
      FUZZ_CHECK (image->image != NULL && *image->image != '\0', "image %u has no name", i);
      FUZZ_CHECK (image->width > 0 && image->height > 0
                    && (gint64) image->width * image->height <= SS_REPORT_IMPORT_MAX_PIXELS,
                  "image %u is %d x %d", i, image->width, image->height);
      for (guint k = 0; k < image->cells->len; k++, n_cells++)
        {
          const SsTruthCell *cell = g_ptr_array_index (image->cells, k);
          const SsBox *box = &cell->box;
          FUZZ_CHECK (box->width > 0 && box->height > 0 && box->x >= 0 && box->y >= 0
                        && (gint64) box->x + box->width <= image->width
                        && (gint64) box->y + box->height <= image->height,
                      "cell %u of image %u: its box leaves the image", k, i);
          if (cell->mask.n_runs == 0)
            continue;
          FUZZ_CHECK (cell->mask.width == box->width && cell->mask.height == box->height,
                      "cell %u of image %u: a %d x %d mask over a %d x %d box", k, i,
                      cell->mask.width, cell->mask.height, box->width, box->height);
          guint64 sum = 0;
          for (int r = 0; r < cell->mask.n_runs; r++)
            sum += cell->mask.runs[r];
          FUZZ_CHECK (sum == (guint64) box->width * box->height,
                      "cell %u of image %u: runs add up to %" G_GUINT64_FORMAT, k, i, sum);
        }
    }
  FUZZ_CHECK (n_cells == truth->n_cells && truth->n_typed <= truth->n_cells,
              "%u cells counted as %u", n_cells, truth->n_cells);
  g_autofree char *summary = ss_report_truth_file_summary (truth);
  FUZZ_CHECK (summary != NULL && *summary != '\0', "no summary");
  return 0;
}
