/* smearscope-cli scale: the scale each field shows by its red cells (ss-scale.c), one
 * line per image, for checking the estimate against a data set's known cell sizes. */
#include "cli.h"

#include "ss-scale.h"

#include <stdio.h>

int
ss_cli_scale (int argc, char **argv)
{
  gint64 max_pixels = SS_DEFAULT_MAX_PIXELS;
  const GOptionEntry entries[] = {
    { "max-pixels", 0, 0, G_OPTION_ARG_INT64, &max_pixels,
      "Refuse images larger than this (100000000)", "N" },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
    g_option_context_new ("IMAGE... - estimate each field's scale from its red cells");
  int status = 0;

  ss_cli_add_entries (context, entries);
  g_option_context_set_description (context,
    "Prints, per image: the red-cell diameter found (pixels), the typical white-cell\n"
    "diameter it implies, the number of red-cell circles confirmed, the mean share of\n"
    "their outlines the edges confirm, and whether the estimate is sure enough to be\n"
    "used (else the analysis falls back to the --cell-diameter setting).");
  if (!ss_cli_parse (context, &argc, &argv))
    return 2;
  if (argc < 2)
    {
      g_printerr ("smearscope-cli scale: give one or more images\n");
      return 2;
    }
  g_print ("image\tred_cell_diameter\tcell_diameter\tcircles\tsupport\tsure\n");
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SsImage) image = ss_image_load (argv[i], max_pixels, &error);
      SsScaleEstimate estimate;

      if (image == NULL)
        {
          g_printerr ("smearscope-cli scale: %s\n", error->message);
          status = 1;
          continue;
        }
      ss_scale_estimate (image, &estimate);
      g_print ("%s\t%.1f\t%.1f\t%d\t%.2f\t%s\n", argv[i], estimate.red_cell_diameter,
               estimate.cell_diameter, estimate.n_circles, estimate.support,
               estimate.sure ? "yes" : "no");
    }
  return status;
}
