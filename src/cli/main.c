/* smearscope-cli: dispatch to a subcommand. */
#include "cli.h"

#include "ss-config.h"
#include "ss-engine.h"
#include "ss-models.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const SsCliCommand commands[] = {
  { "analyze", "Find, outline, classify and count the white cells of fields", ss_cli_analyze },
  { "train", "Train a classifier on a folder of class folders", ss_cli_train },
  { "classify", "Classify cell or field images with a model", ss_cli_classify },
  { "explain", "Grad-CAM: which pixels drove a model's call", ss_cli_explain },
  { "ensemble", "Combine trained models (and test-time views) into one model file", ss_cli_ensemble },
  { "evaluate", "Measure a model or the analysis on a labelled data set", ss_cli_evaluate },
  { "adapt", "Bring a classifier's batch norms to a camera's images (AdaBN)", ss_cli_adapt },
  { "learn", "Teach a cell-type model a lab's own labelled cells (a new head)", ss_cli_learn },
  { "model", "The lab's own cell-type models in the store (list, use, rollback, export)", ss_cli_model },
  { "distance", "How far each image lies from what a classifier learned", ss_cli_distance },
  { "scale", "Estimate each field's scale from its red cells", ss_cli_scale },
  { "cells", "Crop the white cells of labelled fields into a labelled cell set", ss_cli_cells },
  { "bench", "Time the engine (and compare with the PyTorch peer)", ss_cli_bench },
  { "case", "Create, list and show cases (new, list, show, edit, delete, history)", ss_cli_case },
  { "relabel", "Correct a cell's class (or delete, restore, undo); every change is kept", ss_cli_relabel },
  { "counts", "The differential count and blast % of a case, with its 95% interval", ss_cli_counts },
  { "signoff", "Sign a case; its cells can no longer change", ss_cli_signoff },
  { "report", "Write a case's report as PDF (counts, fields, gallery, corrections, sign-off)", ss_cli_report },
  { "db", "Check the case store (integrity, audit chain) or back it up", ss_cli_db },
  { "export", "Write a case as CSV, JSON, COCO or HL7 for other programs", ss_cli_export },
  { "import", "Read VOC or COCO annotations as the ground truth of a case's images", ss_cli_import },
  { "version", "Print the version", NULL },
};

static void
usage (FILE *out)
{
  fprintf (out, "Usage: smearscope-cli COMMAND [OPTION...]\n\n"
                "Smearscope %s: white-cell review for blood smears. For research use. Verify "
                "before clinical decisions.\n\nCommands:\n", SS_VERSION);
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (out, "\nRun 'smearscope-cli COMMAND --help' for a command's options.\n");
}

int
main (int argc, char **argv)
{
  ss_engine_select_blas (argv);
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");  /* JSON and CSV figures always use a decimal point */
  ss_init_i18n ();              /* the PDF report speaks the user's language */
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("smearscope-cli %s\n", SS_VERSION);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      {
        if (commands[i].run == NULL)
          {
            printf ("smearscope-cli %s\n", SS_VERSION);
            return 0;
          }
        return commands[i].run (argc - 1, argv + 1);
      }
  fprintf (stderr, "smearscope-cli: unknown command '%s'\n\n", argv[1]);
  usage (stderr);
  return 2;
}
