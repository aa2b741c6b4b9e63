/* The model file: a round trip keeps every weight and field (float32 exactly, float16
 * within its precision); a truncated, bit-flipped, foreign or newer file is refused with
 * a message naming the fault, at every cut point and many flipped bytes. A model with
 * the default resampling and stem is written as version 1 (as before version 2 existed),
 * one with area resampling or a 3x3 / 5x5 stem as version 2, which records them, one
 * with a camera colour target as version 3. The networks added later (VGG16, VGG16_BN,
 * EfficientNet-B0) need nothing new: their arch id says it all. */
#include "engine-test-util.h"

#include <unistd.h>

/* A copy of the file with the u32 at `at` set to value and the checksum made right again,
 * as a buggy or hostile writer would leave it. */
static unsigned char *
patched (const unsigned char *file, size_t n, size_t at, uint32_t value)
{
  unsigned char *p = malloc (n);
  memcpy (p, file, n);
  for (int byte = 0; byte < 4; byte++)
    p[at + byte] = (unsigned char) (value >> (8 * byte));
  uint32_t crc = ss_crc32 (0, p, n - 4);
  for (int byte = 0; byte < 4; byte++)
    p[n - 4 + byte] = (unsigned char) (crc >> (8 * byte));
  return p;
}

/* VGG16, VGG16_BN and EfficientNet-B0: a round trip keeps every weight, statistic and
 * field, and the loaded model's predictions are the saved one's to the bit; the file is
 * version 1 (nothing new in the header: the arch id says it all), 4 bytes of parameter
 * per parameter; the id patched to another network's is refused by the parameter count. */
static void
check_new_archs (const char *dir)
{
  static const struct { SsArch arch; int width; } nets[] = {
    { SS_ARCH_VGG16, 4 }, { SS_ARCH_VGG16_BN, 4 }, { SS_ARCH_EFFICIENTNET_B0, 8 },
  };
  for (size_t a = 0; a < sizeof nets / sizeof nets[0]; a++)
    {
      SsError error;
      SsModelSpec spec = tiny_spec (nets[a].arch, 64, nets[a].width, 3);
      SsModel *m = ss_model_new (&spec, 7, &error);
      CHECK (m != NULL, "%s: %s", ss_arch_name (nets[a].arch), error.message);
      if (m == NULL)
        continue;
      for (size_t i = 0; i < m->n_buffers; i++)
        m->buffers[i] = i % 2 ? 0.5f + 0.001f * (float) i : 0.01f * (float) (i % 7);
      ss_model_set_training_info (m, "{\"arch\": \"new\"}");
      char path[256];
      snprintf (path, sizeof path, "%s/%s.ssm", dir, ss_arch_name (nets[a].arch));
      CHECK (ss_model_save (m, path, SS_STORE_F32, &error) == SS_OK, "save %s: %s",
             ss_arch_name (nets[a].arch), error.message);
      size_t n;
      unsigned char *file = read_all (path, &n);
      CHECK (file[4] == 1 && ss_get_u32 (file + 16) == (uint32_t) nets[a].arch
               && n == 88 + 3 * SS_NAME_LEN + strlen (ss_model_training_info (m))
                         + 4 * (m->n_params + m->n_buffers) + 4,
             "%s: version %d, arch %u, %zu bytes", ss_arch_name (nets[a].arch), file[4],
             ss_get_u32 (file + 16), n);
      SsModel *back = ss_model_load (path, &error);
      CHECK (back != NULL, "load %s: %s", ss_arch_name (nets[a].arch), error.message);
      if (back != NULL)
        {
          CHECK (back->spec.arch == nets[a].arch && back->spec.width == nets[a].width
                   && back->n_params == m->n_params
                   && memcmp (back->params, m->params, sizeof (float) * m->n_params) == 0
                   && memcmp (back->buffers, m->buffers, sizeof (float) * m->n_buffers) == 0,
                 "%s: the round trip changed the model", ss_arch_name (nets[a].arch));
          enum { N = 3 };
          float x[N * 3 * 64 * 64], p_saved[N * 3], p_loaded[N * 3];
          SsRng rng;
          ss_rng_seed (&rng, 11);
          fill_random (x, sizeof x / sizeof x[0], &rng, 0.5f);
          for (size_t i = 0; i < sizeof x / sizeof x[0]; i++)
            x[i] += 0.5f;
          ss_model_predict (m, x, N, p_saved, &error);
          ss_model_predict (back, x, N, p_loaded, &error);
          CHECK (memcmp (p_saved, p_loaded, sizeof p_saved) == 0,
                 "%s: the loaded model predicts otherwise (%g against %g)",
                 ss_arch_name (nets[a].arch), p_loaded[0], p_saved[0]);
          ss_model_free (back);
        }
      /* another network's id: the count of parameters gives it away */
      unsigned char *other = patched (file, n, 16, nets[a].arch == SS_ARCH_VGG16 ? SS_ARCH_RESNET18
                                                                                : SS_ARCH_VGG16);
      error.message[0] = '\0';
      SsModel *t = ss_model_load_from_memory (other, n, &error);
      CHECK (t == NULL && strstr (error.message, "parameters") != NULL,
             "%s relabelled: %s", ss_arch_name (nets[a].arch), error.message);
      ss_model_free (t);
      free (other);
      free (file);
      unlink (path);
      ss_model_free (m);
    }
}

/* Every shipped model file (data/models, given as the argument; skipped when absent)
 * loads and saves back byte for byte: the reader and writer still agree with what older
 * Smearscopes wrote. */
static void
check_shipped (const char *models_dir, const char *dir)
{
  static const char *const names[] = { "celltype.ssm", "blast.ssm", "mscnn-blast.ssm",
                                       "all-subtype.ssm" };
  int found = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    {
      char path[512], again[512];
      snprintf (path, sizeof path, "%s/%s", models_dir, names[i]);
      if (access (path, R_OK) != 0)
        continue;
      found++;
      size_t n, n2;
      unsigned char *file = read_all (path, &n);
      SsError error;
      SsModel *m = ss_model_load_from_memory (file, n, &error);
      CHECK (m != NULL, "%s: %s", names[i], error.message);
      if (m == NULL)
        {
          free (file);
          continue;
        }
      /* the storage of the first network inside: an SSE1 file holds SSM1 files after its
       * header, one size per member and its description */
      size_t net = 0;
      if (memcmp (file, "SSE1", 4) == 0)
        net = 32 + 8 * (size_t) ss_get_u32 (file + 16) + ss_get_u32 (file + 24);
      const SsStorage storage = (SsStorage) ss_get_u32 (file + net + 64);
      snprintf (again, sizeof again, "%s/again.ssm", dir);
      CHECK (ss_model_save (m, again, storage, &error) == SS_OK, "save %s: %s", names[i],
             error.message);
      unsigned char *copy = read_all (again, &n2);
      CHECK (n2 == n && memcmp (copy, file, n) == 0,
             "%s does not save back byte for byte (%zu bytes against %zu)", names[i], n2, n);
      free (copy);
      free (file);
      unlink (again);
      ss_model_free (m);
    }
  printf ("# %d shipped model files saved back byte for byte\n", found);
}

int
main (int argc, char **argv)
{
  char dir[] = "/tmp/ss-modelfile-XXXXXX";
  if (mkdtemp (dir) == NULL)
    return 1;
  char path[256], path16[256];
  snprintf (path, sizeof path, "%s/m.ssm", dir);
  snprintf (path16, sizeof path16, "%s/m16.ssm", dir);

  SsError error;
  SsModelSpec spec = tiny_spec (SS_ARCH_RESNET18, 32, 2, 3);
  snprintf (spec.class_names[0], SS_NAME_LEN, "lymphoblast");
  SsModel *m = ss_model_new (&spec, 42, &error);
  ss_model_set_training_info (m, "{\"data\": \"test\", \"seed\": 42}");
  /* give the running statistics distinct values so that they are checked too */
  for (size_t i = 0; i < m->n_buffers; i++)
    m->buffers[i] = 0.25f + (float) i;
  CHECK (ss_model_save (m, path, SS_STORE_F32, &error) == SS_OK, "save: %s", error.message);
  CHECK (ss_model_save (m, path16, SS_STORE_F16, &error) == SS_OK, "save f16: %s", error.message);

  SsModel *back = ss_model_load (path, &error);
  CHECK (back != NULL, "load: %s", error.message);
  if (back != NULL)
    {
      CHECK (memcmp (back->params, m->params, sizeof (float) * m->n_params) == 0,
             "float32 weights changed in the round trip");
      CHECK (memcmp (back->buffers, m->buffers, sizeof (float) * m->n_buffers) == 0,
             "running statistics changed in the round trip");
      CHECK (strcmp (back->spec.class_names[0], "lymphoblast") == 0, "class name lost");
      CHECK (strcmp (ss_model_training_info (back), ss_model_training_info (m)) == 0,
             "training description lost");
      CHECK (back->spec.width == 2 && back->spec.in_h == 32 && back->spec.arch == SS_ARCH_RESNET18,
             "spec changed");
      ss_model_free (back);
    }
  SsModel *half = ss_model_load (path16, &error);
  CHECK (half != NULL, "load f16: %s", error.message);
  if (half != NULL)
    {
      double worst = 0.0;
      for (size_t i = 0; i < m->n_params; i++)
        {
          double e = fabs ((double) half->params[i] - m->params[i]) / (fabs (m->params[i]) + 1e-4);
          if (e > worst)
            worst = e;
        }
      CHECK (worst < 1e-3, "float16 round trip relative error %g", worst);
      ss_model_free (half);
    }

  size_t n;
  unsigned char *good = read_all (path, &n);
  /* every cut point in the header, then a stride through the weights */
  int refused = 0, tried = 0;
  for (size_t cut = 0; cut < n; cut += cut < 512 ? 1 : 97)
    {
      error.message[0] = '\0';
      SsModel *t = ss_model_load_from_memory (good, cut, &error);
      tried++;
      if (t == NULL && error.message[0] != '\0')
        refused++;
      else
        ss_model_free (t);
    }
  CHECK (refused == tried, "truncations: %d of %d refused", refused, tried);
  CHECK (ss_model_load_from_memory (good, n - 1, &error) == NULL
           && strstr (error.message, "truncated") != NULL,
         "a file one byte short should say 'truncated', said: %s", error.message);

  /* flip one bit at many places: the checksum (or the header checks) must catch each */
  SsRng rng;
  ss_rng_seed (&rng, 1);
  refused = tried = 0;
  unsigned char *bad = malloc (n);
  for (int i = 0; i < 400; i++)
    {
      memcpy (bad, good, n);
      size_t at = i < 100 ? (size_t) i : ss_rng_below (&rng, (uint32_t) n);
      bad[at] ^= (unsigned char) (1u << ss_rng_below (&rng, 8));
      SsModel *t = ss_model_load_from_memory (bad, n, &error);
      tried++;
      if (t == NULL)
        refused++;
      else
        ss_model_free (t);
    }
  CHECK (refused == tried, "bit flips: %d of %d refused", refused, tried);
  memcpy (bad, good, n);
  bad[n / 2] ^= 0x10;
  CHECK (ss_model_load_from_memory (bad, n, &error) == NULL && error.status == SS_ERR_CHECKSUM
           && strstr (error.message, "damaged") != NULL,
         "a flipped weight should be reported as damage, said: %s", error.message);

  /* foreign files and a newer version */
  const char *png = "\x89PNG\r\n\x1a\n rest of a picture";
  CHECK (ss_model_load_from_memory (png, strlen (png), &error) == NULL
           && strstr (error.message, "not a Smearscope model") != NULL,
         "a PNG should be 'not a Smearscope model', said: %s", error.message);
  CHECK (ss_model_load_from_memory ("", 0, &error) == NULL, "an empty file was accepted");
  memcpy (bad, good, n);
  bad[4] = 5;
  CHECK (ss_model_load_from_memory (bad, n, &error) == NULL && error.status == SS_ERR_VERSION
           && strstr (error.message, "version 5") != NULL,
         "a newer version should be named, said: %s", error.message);
  CHECK (good[4] == 1 && good[5] == 0, "a bilinear model should be written as version 1, not %d",
         good[4]);
  CHECK (ss_model_load ("/nonexistent/model.ssm", &error) == NULL
           && strstr (error.message, "/nonexistent/model.ssm") != NULL,
         "a missing file should be named, said: %s", error.message);

  /* a field patched and the checksum recomputed, as a buggy or hostile writer would:
   * the checks behind the checksum must catch each */
  struct { size_t at; uint32_t value; const char *expect; } patches[] = {
    { 16, 99, "unknown architecture" },          /* arch */
    { 20, 4, "3 channels" },                     /* in_c */
    { 32, 512, "parameters" },                   /* width: another parameter count */
    { 36, 40, "inconsistent" },                  /* n_classes */
    { 64, 7, "unknown weight storage" },         /* storage */
    { 72, 12345, "add up" },                     /* n_params */
  };
  for (size_t i = 0; i < sizeof patches / sizeof patches[0]; i++)
    {
      unsigned char *p = patched (good, n, patches[i].at, patches[i].value);
      error.message[0] = '\0';
      SsModel *t = ss_model_load_from_memory (p, n, &error);
      free (p);
      CHECK (t == NULL && strstr (error.message, patches[i].expect) != NULL,
             "patched field at %zu should be refused with '%s', said: %s", patches[i].at,
             patches[i].expect, error.message);
      ss_model_free (t);
    }

  /* area resampling: version 2, the field kept; a patched field or a cut is refused */
  {
    char path2[256];
    snprintf (path2, sizeof path2, "%s/m2.ssm", dir);
    m->spec.resample = SS_RESAMPLE_AREA;
    CHECK (ss_model_save (m, path2, SS_STORE_F32, &error) == SS_OK, "save v2: %s", error.message);
    m->spec.resample = SS_RESAMPLE_BILINEAR;
    size_t n2;
    unsigned char *v2 = read_all (path2, &n2);
    CHECK (v2 != NULL && n2 == n + 8 && v2[4] == 2, "an area model should be version 2, 8 bytes "
           "longer (%zu against %zu)", n2, n);
    SsModel *b2 = ss_model_load (path2, &error);
    CHECK (b2 != NULL, "load v2: %s", error.message);
    if (b2 != NULL)
      {
        CHECK (b2->spec.resample == SS_RESAMPLE_AREA, "resampling lost in the round trip");
        CHECK (memcmp (b2->params, m->params, sizeof (float) * m->n_params) == 0
                 && strcmp (b2->spec.class_names[0], "lymphoblast") == 0
                 && strcmp (ss_model_training_info (b2), ss_model_training_info (m)) == 0,
               "version 2 round trip changed the model");
        ss_model_free (b2);
      }
    int cut_refused = 0, cut_tried = 0;
    for (size_t cut = 0; v2 != NULL && cut < 200; cut++, cut_tried++)
      {
        SsModel *t = ss_model_load_from_memory (v2, cut, &error);
        if (t == NULL)
          cut_refused++;
        ss_model_free (t);
      }
    CHECK (cut_refused == cut_tried, "version 2 cuts: %d of %d refused", cut_refused, cut_tried);
    struct { size_t at; uint32_t value; const char *expect; } fields[] = {
      { 88, 2, "unknown resampling" }, { 92, 1, "unknown stem kernel" },
      { 92, 7, "unknown stem kernel" },  /* 7 x 7 is written 0: one spelling per model */
    };
    for (size_t i = 0; v2 != NULL && i < sizeof fields / sizeof fields[0]; i++)
      {
        unsigned char *p = patched (v2, n2, fields[i].at, fields[i].value);
        error.message[0] = '\0';
        SsModel *t = ss_model_load_from_memory (p, n2, &error);
        CHECK (t == NULL && strstr (error.message, fields[i].expect) != NULL,
               "field at %zu = %u should be refused with '%s', said: %s", fields[i].at,
               fields[i].value, fields[i].expect, error.message);
        ss_model_free (t);
        free (p);
      }
    free (v2);
  }

  /* a 3x3 stem: version 2 with the kernel at 92, its own (smaller) graph, kept in the
   * round trip; a stem a ResNet does not have, or any on the msCNN, is refused */
  {
    SsModelSpec s3 = spec;
    s3.stem_k = 3;
    SsModel *m3 = ss_model_new (&s3, 42, &error);
    CHECK (m3 != NULL && m3->n_params + (size_t) 2 * (49 - 9) * 3 == m->n_params,
           "a 3x3 stem should have %d fewer weights (%zu against %zu)", 2 * 40 * 3,
           m3 != NULL ? m3->n_params : 0, m->n_params);
    char path3[256];
    snprintf (path3, sizeof path3, "%s/m3.ssm", dir);
    CHECK (m3 != NULL && ss_model_save (m3, path3, SS_STORE_F32, &error) == SS_OK, "save stem 3: %s",
           error.message);
    size_t n3;
    unsigned char *v3 = read_all (path3, &n3);
    CHECK (v3 != NULL && v3[4] == 2 && v3[92] == 3 && v3[88] == 0,
           "a 3x3-stem model should be version 2 with 3 at byte 92");
    SsModel *b3 = ss_model_load (path3, &error);
    CHECK (b3 != NULL && b3->spec.stem_k == 3 && ss_model_stem_kernel (&b3->spec) == 3
             && memcmp (b3->params, m3->params, sizeof (float) * m3->n_params) == 0,
           "stem lost in the round trip: %s", b3 == NULL ? error.message : "");
    ss_model_free (b3);
    ss_model_free (m3);
    free (v3);
    CHECK (ss_model_stem_kernel (&spec) == 7, "the default stem should be 7 x 7");
    s3.stem_k = 4;
    SsModel *wrong = ss_model_new (&s3, 42, &error);
    CHECK (wrong == NULL && strstr (error.message, "stem kernel 4") != NULL,
           "a 4x4 stem should be refused, said: %s", error.message);
    ss_model_free (wrong);
    SsModelSpec ms = tiny_spec (SS_ARCH_MSCNN, 32, 2, 3);
    ms.stem_k = 3;
    wrong = ss_model_new (&ms, 42, &error);
    CHECK (wrong == NULL && strstr (error.message, "stem kernel 3") != NULL,
           "a stem on the msCNN should be refused, said: %s", error.message);
    ss_model_free (wrong);
  }

  /* a camera colour and a crop stretch: version 3, 40 bytes longer than version 1 (the
   * stem and resampling fields too, then 7 floats and 4 bytes of 0), kept in the round
   * trip; a value out of range is refused, and neither keeps version 1 */
  {
    const float colour[6] = { 0.75f, 0.65f, 0.7f, 0.2f, 0.25f, 0.12f };
    CHECK (!ss_model_has_camera_colour (&m->spec), "a new model should have no camera colour");
    memcpy (m->spec.camera_colour, colour, sizeof colour);
    m->spec.crop_stretch = 0.01f;
    char pathc[256];
    snprintf (pathc, sizeof pathc, "%s/mc.ssm", dir);
    CHECK (ss_model_save (m, pathc, SS_STORE_F32, &error) == SS_OK, "save v3: %s", error.message);
    memset (m->spec.camera_colour, 0, sizeof colour);
    m->spec.crop_stretch = 0.0f;
    size_t nc;
    unsigned char *vc = read_all (pathc, &nc);
    CHECK (vc != NULL && nc == n + 40 && vc[4] == 3, "a model with a camera colour should be "
           "version 3, 40 bytes longer (%zu against %zu)", nc, n);
    SsModel *bc = ss_model_load (pathc, &error);
    CHECK (bc != NULL && ss_model_has_camera_colour (&bc->spec)
             && memcmp (bc->spec.camera_colour, colour, sizeof colour) == 0
             && bc->spec.crop_stretch == 0.01f
             && memcmp (bc->params, m->params, sizeof (float) * m->n_params) == 0,
           "camera colour lost in the round trip: %s", bc == NULL ? error.message : "");
    ss_model_free (bc);
    const uint32_t zero = 0, above_one = 0x40000000u; /* 2.0f */
    struct { size_t at; uint32_t value; const char *expect; } fields[] = {
      { 96 + 12, zero, "camera colour" }, { 96, above_one, "camera colour" },
      { 120, above_one, "crop stretch" },
    };
    for (size_t i = 0; vc != NULL && i < sizeof fields / sizeof fields[0]; i++)
      {
        unsigned char *p = patched (vc, nc, fields[i].at, fields[i].value);
        error.message[0] = '\0';
        SsModel *t = ss_model_load_from_memory (p, nc, &error);
        CHECK (t == NULL && strstr (error.message, fields[i].expect) != NULL,
               "%s at %zu = %08x should be refused, said: %s", fields[i].expect, fields[i].at,
               fields[i].value, error.message);
        ss_model_free (t);
        free (p);
      }
    free (vc);
    unlink (pathc);
  }

  check_new_archs (dir);
  if (argc > 1)
    check_shipped (argv[1], dir);

  /* fp16 conversion corner cases */
  CHECK (ss_f16_to_f32 (ss_f32_to_f16 (1.0f)) == 1.0f, "fp16 1.0");
  CHECK (ss_f16_to_f32 (ss_f32_to_f16 (-2.5f)) == -2.5f, "fp16 -2.5");
  CHECK (ss_f16_to_f32 (ss_f32_to_f16 (1e-7f)) > 0.0f, "fp16 subnormal");
  CHECK (isinf (ss_f16_to_f32 (ss_f32_to_f16 (1e6f))), "fp16 overflow to inf");
  CHECK (ss_f16_to_f32 (ss_f32_to_f16 (65504.0f)) == 65504.0f, "fp16 max");

  free (bad);
  free (good);
  ss_model_free (m);
  unlink (path);
  unlink (path16);
  rmdir (dir);
  return test_summary ("test-modelfile");
}
