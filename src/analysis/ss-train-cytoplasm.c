/* Trains the crop path's cytoplasm model on wbc-seg ids and writes its weights as the C
 * table the library compiles in (see docs/analysis.md for the command). */
#include "ss-cytoplasm-model.h"

#include <stdio.h>
#include <stdlib.h>

int
main (int argc, char **argv)
{
  if (argc != 3 && argc != 6)
    {
      fprintf (stderr, "usage: %s WBC_SEG_DIR OUT.c [SEED MODULUS REMAINDER]\n"
                       "trains on the ids = REMAINDER mod MODULUS (default 5 2 0: seed 5, even ids)\n"
                       "of every datasetN/ folder\n", argv[0]);
      return 2;
    }
  guint32 seed = 5;
  guint modulus = 2, remainder = 0;
  if (argc == 6)
    {
      seed = (guint32) strtoul (argv[3], NULL, 10);
      modulus = (guint) strtoul (argv[4], NULL, 10);
      remainder = (guint) strtoul (argv[5], NULL, 10);
    }
  if (modulus == 0 || remainder >= modulus)
    {
      fprintf (stderr, "%s: REMAINDER must be below MODULUS, and MODULUS above 0\n", argv[0]);
      return 2;
    }
  g_autoptr (GError) error = NULL;
  SsCytoplasmModel model;
  g_autofree char *command = g_strdup_printf ("build/src/analysis/ss-train-cytoplasm WBC_SEG_DIR "
                                              "src/analysis/ss-cytoplasm-weights.c %u %u %u",
                                              seed, modulus, remainder);
  if (!ss_cytoplasm_model_train (argv[1], modulus, remainder, seed, &model, &error)
      || !ss_cytoplasm_model_write_c (&model, argv[2], command, &error))
    {
      fprintf (stderr, "%s: %s\n", argv[0], error->message);
      return 1;
    }
  return 0;
}
