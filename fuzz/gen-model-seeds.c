/* Writes the generated part of the modelfile corpus: tiny networks of every architecture
 * and file version (4: with a lab's head), float16 and float32, ensembles and views,
 * each prefixed with the harness's mode byte (1: fix the envelope after mutating).
 *   gen-model-seeds fuzz/corpus/modelfile */
#include "engine-private.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static SsModel *
tiny (SsArch arch, int side, int width, int stem_k, int version3)
{
  SsModelSpec spec = { 0 };
  spec.arch = arch;
  spec.in_c = 3;
  spec.in_h = spec.in_w = side;
  spec.width = width;
  spec.n_classes = 3;
  strcpy (spec.class_names[0], "lymphocyte");
  strcpy (spec.class_names[1], "neutrophil");
  strcpy (spec.class_names[2], "not_a_cell");
  for (int c = 0; c < 3; c++)
    {
      spec.mean[c] = 0.5f;
      spec.std[c] = 0.25f;
    }
  spec.stem_k = stem_k;
  spec.resample = stem_k != 0 ? SS_RESAMPLE_AREA : SS_RESAMPLE_BILINEAR;
  if (version3)
    {
      for (int j = 0; j < 3; j++)
        {
          spec.camera_colour[j] = 0.6f;
          spec.camera_colour[3 + j] = 0.2f;
        }
      spec.crop_stretch = 0.05f;
    }
  SsError error;
  SsModel *m = ss_model_new (&spec, 7, &error);
  if (m == NULL)
    {
      fprintf (stderr, "%s\n", error.message);
      exit (1);
    }
  ss_model_set_training_info (m, "data: generated for the fuzz corpus; seed 7");
  return m;
}

static void
write_seed (const char *dir, const char *name, const SsModel *m, SsStorage storage, int mode)
{
  uint8_t *bytes = NULL;
  size_t n = 0;
  SsError error;
  SsStatus st = ss_model_n_members (m) > 0 || ss_model_views (m) > 1
                  ? ss_ensemble_to_bytes (m, storage, &bytes, &n, &error)
                  : ss_net_to_bytes (m, storage, &bytes, &n, &error);
  if (st != SS_OK)
    {
      fprintf (stderr, "%s: %s\n", name, error.message);
      exit (1);
    }
  char path[4096];
  snprintf (path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen (path, "wb");
  uint8_t mode_byte = (uint8_t) mode;
  if (f == NULL || fwrite (&mode_byte, 1, 1, f) != 1 || fwrite (bytes, 1, n, f) != n
      || fclose (f) != 0)
    {
      fprintf (stderr, "cannot write %s\n", path);
      exit (1);
    }
  printf ("%s: %zu bytes\n", path, n + 1);
  free (bytes);
}

int
main (int argc, char **argv)
{
  if (argc != 2)
    {
      fprintf (stderr, "usage: %s FOLDER\n", argv[0]);
      return 2;
    }
  const char *dir = argv[1];
  SsModel *m = tiny (SS_ARCH_MSCNN, 16, 1, 0, 0);
  write_seed (dir, "mscnn-v1-f32", m, SS_STORE_F32, 1);
  write_seed (dir, "mscnn-v1-f16", m, SS_STORE_F16, 1);
  write_seed (dir, "mscnn-v1-raw", m, SS_STORE_F16, 0);
  ss_model_free (m);
  /* name, architecture, input side, stem kernel, version 3 fields */
  static const struct {
    const char *name;
    SsArch      arch;
    int         side, stem_k, version3;
  } nets[] = {
    { "resnet18-v2-stem3-f16", SS_ARCH_RESNET18, 32, 3, 0 },
    { "resnet18-v3-camera-f16", SS_ARCH_RESNET18, 32, 0, 1 },
    { "efficientnet-v1-f16", SS_ARCH_EFFICIENTNET_B0, 32, 0, 0 },
    { "vgg16bn-v1-f16", SS_ARCH_VGG16_BN, 32, 0, 0 },
  };
  for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++)
    {
      m = tiny (nets[i].arch, nets[i].side, 1, nets[i].stem_k, nets[i].version3);
      write_seed (dir, nets[i].name, m, SS_STORE_F16, 1);
      ss_model_free (m);
    }

  SsError error;
  /* version 4: a lab's head and its gate after the buffers (issue 30) */
  m = tiny (SS_ARCH_RESNET18, 32, 1, 0, 0);
  float *lab = calloc (ss_model_lab_head_len (m), sizeof (float));
  for (size_t i = 0; lab != NULL && i < ss_model_lab_head_len (m); i++)
    lab[i] = 0.01f * (float) (i % 17) - 0.05f;
  if (lab == NULL || ss_model_set_lab_head (m, lab, &error) != SS_OK)
    return 1;
  free (lab);
  write_seed (dir, "resnet18-v4-lab-head-f16", m, SS_STORE_F16, 1);
  ss_model_free (m);

  m = tiny (SS_ARCH_MSCNN, 16, 1, 0, 0);
  if (ss_model_set_views (m, 8, &error) != SS_OK
      || ss_model_set_views_below (m, 0.75f, &error) != SS_OK)
    return 1;
  write_seed (dir, "mscnn-views8-below", m, SS_STORE_F16, 1);
  ss_model_free (m);

  SsModel *members[2] = { tiny (SS_ARCH_MSCNN, 16, 1, 0, 0), tiny (SS_ARCH_MSCNN, 16, 2, 0, 0) };
  SsModel *e = ss_ensemble_new (members, 2, &error);
  if (e == NULL || ss_model_set_views (e, 2, &error) != SS_OK)
    return 1;
  ss_model_set_training_info (e, "ensemble of two");
  write_seed (dir, "ensemble2-views2", e, SS_STORE_F16, 1);
  ss_model_free (e);
  return 0;
}
