/* The model file. Little-endian throughout:
 *
 *   0  "SSM1"                       magic
 *   4  u32 format version           (1; 2 when the header has the fields at 88; 3 when it
 *                                    also has the camera colour at 96; 4 when a lab's
 *                                    head follows the buffers)
 *   8  u64 total size in bytes      (the whole file, checksum included)
 *  16  u32 arch, in_c, in_h, in_w, width, n_classes
 *  40  f32 mean[3], std[3]          normalisation of [0,1] input
 *  64  u32 weight storage           (0 float32, 1 float16)
 *  68  u32 training info length
 *  72  u64 n_params, n_buffers
 *  88  version 2 and 3: u32 resampling (SsResample), u32 ResNet stem kernel (0: 7 x 7)
 *  96  version 3 and 4: f32 camera colour[6] (SsModelSpec.camera_colour), f32 crop
 *      stretch (SsModelSpec.crop_stretch), 4 bytes of 0
 *  88, 96 or 128: n_classes x 48-byte class names (NUL-padded)
 *      training info (UTF-8 text: data, command, seed, metrics)
 *      parameters (float32 or float16), buffers (float32: batch-norm running stats)
 *      version 4 only: the lab's head and its gate, ss_model_lab_head_len float32
 *  end u32 CRC-32 (IEEE) of every byte before it
 *
 * A model with the default (bilinear) resampling and stem and no camera colour or crop
 * stretch is written as version 1, byte for byte as before version 2 existed; one with a
 * camera colour or a crop stretch as version 3, one with a lab's head as version 4;
 * others as version 2.
 *
 * Loading checks the magic, the version, the size, the checksum, then every field, and
 * says which of them is wrong. */
#include "engine-private.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SS_MODEL_MAGIC     "SSM1"
#define SS_MODEL_VERSION   4u   /* the newest read and written */
#define SS_MODEL_HEADER_V1 88u
#define SS_MODEL_HEADER_V2 96u
#define SS_MODEL_HEADER_V3 128u

int
ss_model_has_camera_colour (const SsModelSpec *spec)
{
  return spec->camera_colour[3] > 0.0f;
}

static size_t
header_size (uint32_t version)
{
  /* version 4 has version 3's header */
  return version == 1u ? SS_MODEL_HEADER_V1
                       : version == 2u ? SS_MODEL_HEADER_V2 : SS_MODEL_HEADER_V3;
}
#define SS_MODEL_MAX_BYTES (1ull << 30)  /* refuse to read more than 1 GiB */
#define SS_MODEL_MAX_INFO  (1u << 20)

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void
crc_table_init (void)
{
  for (uint32_t i = 0; i < 256; i++)
    {
      uint32_t c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      crc_table[i] = c;
    }
}

uint32_t
ss_crc32 (uint32_t crc, const void *data, size_t n)
{
  const uint32_t *table = crc_table;
  pthread_once (&crc_once, crc_table_init);
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < n; i++)
    crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint16_t
ss_f32_to_f16 (float f)
{
  uint32_t x;
  memcpy (&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int32_t exp = (int32_t) ((x >> 23) & 0xff) - 127 + 15;
  uint32_t mant = x & 0x7fffffu;
  if (((x >> 23) & 0xff) == 0xff)  /* inf or nan */
    return (uint16_t) (sign | 0x7c00u | (mant ? 0x200u : 0));
  if (exp >= 31)
    return (uint16_t) (sign | 0x7c00u);
  if (exp <= 0)
    {
      if (exp < -10)
        return (uint16_t) sign;
      mant |= 0x800000u;
      uint32_t shift = (uint32_t) (14 - exp);
      uint32_t half = mant >> shift;
      uint32_t rest = mant & ((1u << shift) - 1);
      uint32_t halfway = 1u << (shift - 1);
      if (rest > halfway || (rest == halfway && (half & 1)))
        half++;
      return (uint16_t) (sign | half);
    }
  uint32_t half = sign | ((uint32_t) exp << 10) | (mant >> 13);
  uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1)))
    half++;  /* may carry into the exponent, which is the right rounding */
  return (uint16_t) half;
}

float
ss_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ffu;
  uint32_t x;
  if (exp == 0)
    {
      if (mant == 0)
        x = sign;
      else
        {
          exp = 127 - 15 + 1;
          while (!(mant & 0x400u))
            {
              mant <<= 1;
              exp--;
            }
          mant &= 0x3ffu;
          x = sign | (exp << 23) | (mant << 13);
        }
    }
  else if (exp == 31)
    x = sign | 0x7f800000u | (mant << 13);
  else
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  float f;
  memcpy (&f, &x, 4);
  return f;
}

/* ---- little-endian writing into a growing buffer ------------------------------------ */

typedef struct {
  uint8_t *data;
  size_t   len;
} Buf;

void ss_put_u32 (uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t) (v >> (8 * i)); }
void ss_put_u64 (uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t) (v >> (8 * i)); }
uint32_t ss_get_u32 (const uint8_t *p) { uint32_t v = 0; for (int i = 0; i < 4; i++) v |= (uint32_t) p[i] << (8 * i); return v; }
uint64_t ss_get_u64 (const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v |= (uint64_t) p[i] << (8 * i); return v; }
#define put_u32 ss_put_u32
#define put_u64 ss_put_u64
#define get_u32 ss_get_u32
#define get_u64 ss_get_u64
static void put_f32 (uint8_t *p, float f) { uint32_t v; memcpy (&v, &f, 4); put_u32 (p, v); }
static float get_f32 (const uint8_t *p) { uint32_t v = get_u32 (p); float f; memcpy (&f, &v, 4); return f; }

SsStatus
ss_check_envelope (const uint8_t *buf, size_t n, size_t header, uint32_t version,
                   const char *what, SsError *error)
{
  if (n < header + 4)
    return ss_error_set (error, SS_ERR_FORMAT, "%s file truncated: %zu bytes, too short for "
                         "its %zu-byte header", what, n, header);
  uint32_t found = get_u32 (buf + 4);
  if (found < 1 || found > version)
    return ss_error_set (error, SS_ERR_VERSION, "%s format version %u; this Smearscope reads "
                         "version%s %u%s", what, found, version > 1 ? "s 1 to" : "", version,
                         found > version ? " (update Smearscope)" : "");
  uint64_t total = get_u64 (buf + 8);
  if (total != n)
    return ss_error_set (error, SS_ERR_FORMAT, total > n ? "%s file truncated: %zu of %llu bytes"
                                                         : "%s file has %zu bytes, its header "
                                                           "says %llu: trailing garbage",
                         what, n, (unsigned long long) total);
  uint32_t stored = get_u32 (buf + n - 4), computed = ss_crc32 (0, buf, n - 4);
  if (stored != computed)
    return ss_error_set (error, SS_ERR_CHECKSUM, "%s file damaged: CRC-32 is %08x, the file "
                         "records %08x", what, computed, stored);
  return SS_OK;
}

SsStatus
ss_model_read_info (SsModel *m, const uint8_t *bytes, size_t len, SsError *error)
{
  char *text = malloc (len + 1);
  if (text == NULL)
    return ss_error_set (error, SS_ERR_NOMEM, "out of memory");
  memcpy (text, bytes, len);
  text[len] = '\0';
  free (m->training_info);
  m->training_info = text;
  return SS_OK;
}

SsStatus
ss_net_to_bytes (const SsModel *model, SsStorage storage, uint8_t **bytes, size_t *n_bytes,
                 SsError *error)
{
  const SsModelSpec *sp = &model->spec;
  const char *info = ss_model_training_info (model);
  const size_t info_len = strlen (info);
  const size_t wbytes = storage == SS_STORE_F16 ? 2 : 4;
  const size_t lab_len = model->lab_head != NULL ? ss_model_lab_head_len (model) : 0;
  const uint32_t version = lab_len > 0 ? 4u
                           : ss_model_has_camera_colour (sp) || sp->crop_stretch > 0.0f ? 3u
                           : sp->resample == SS_RESAMPLE_BILINEAR && sp->stem_k == 0 ? 1u : 2u;
  const size_t header = header_size (version);
  const size_t total = header + (size_t) sp->n_classes * SS_NAME_LEN + info_len
                       + model->n_params * wbytes + model->n_buffers * 4 + lab_len * 4 + 4;
  if (info_len > SS_MODEL_MAX_INFO)
    return ss_error_set (error, SS_ERR_ARG, "training description too long (%zu bytes)", info_len);
  uint8_t *buf = calloc (1, total);
  if (buf == NULL)
    return ss_error_set (error, SS_ERR_NOMEM, "out of memory");

  memcpy (buf, SS_MODEL_MAGIC, 4);
  put_u32 (buf + 4, version);
  put_u64 (buf + 8, total);
  uint32_t fields[6] = { (uint32_t) sp->arch, (uint32_t) sp->in_c, (uint32_t) sp->in_h,
                         (uint32_t) sp->in_w, (uint32_t) sp->width, (uint32_t) sp->n_classes };
  for (int i = 0; i < 6; i++)
    put_u32 (buf + 16 + 4 * i, fields[i]);
  for (int c = 0; c < 3; c++)
    {
      put_f32 (buf + 40 + 4 * c, sp->mean[c]);
      put_f32 (buf + 52 + 4 * c, sp->std[c]);
    }
  put_u32 (buf + 64, (uint32_t) storage);
  put_u32 (buf + 68, (uint32_t) info_len);
  put_u64 (buf + 72, model->n_params);
  put_u64 (buf + 80, model->n_buffers);
  if (version >= 2u)
    {
      put_u32 (buf + 88, (uint32_t) sp->resample);
      put_u32 (buf + 92, (uint32_t) sp->stem_k);
    }
  if (version >= 3u)
    {
      for (int j = 0; j < 6; j++)
        put_f32 (buf + 96 + 4 * j, sp->camera_colour[j]);
      put_f32 (buf + 120, sp->crop_stretch);
    }
  uint8_t *p = buf + header;
  for (int c = 0; c < sp->n_classes; c++, p += SS_NAME_LEN)
    strncpy ((char *) p, sp->class_names[c], SS_NAME_LEN - 1);
  memcpy (p, info, info_len);
  p += info_len;
  for (size_t i = 0; i < model->n_params; i++)
    if (storage == SS_STORE_F16)
      {
        uint16_t h = ss_f32_to_f16 (model->params[i]);
        p[0] = (uint8_t) h;
        p[1] = (uint8_t) (h >> 8);
        p += 2;
      }
    else
      {
        put_f32 (p, model->params[i]);
        p += 4;
      }
  for (size_t i = 0; i < model->n_buffers; i++, p += 4)
    put_f32 (p, model->buffers[i]);
  for (size_t i = 0; i < lab_len; i++, p += 4)
    put_f32 (p, model->lab_head[i]);
  put_u32 (p, ss_crc32 (0, buf, total - 4));
  *bytes = buf;
  *n_bytes = total;
  return SS_OK;
}

SsStatus
ss_model_save (const SsModel *model, const char *path, SsStorage storage, SsError *error)
{
  uint8_t *buf = NULL;
  size_t total = 0;
  SsStatus st = model->n_members > 0 || ss_model_views (model) > 1
                  ? ss_ensemble_to_bytes (model, storage, &buf, &total, error)
                  : ss_net_to_bytes (model, storage, &buf, &total, error);
  if (st != SS_OK)
    return st;
  char *tmp = malloc (strlen (path) + 8);
  if (tmp == NULL)
    {
      free (buf);
      return ss_error_set (error, SS_ERR_NOMEM, "out of memory writing %s", path);
    }
  sprintf (tmp, "%s.tmp", path);
  errno = 0;
  FILE *f = fopen (tmp, "wb");
  /* on disk before the rename, so a crash never leaves an empty model in its place */
  int ok = f != NULL && fwrite (buf, 1, total, f) == total && fflush (f) == 0
           && fsync (fileno (f)) == 0;
  int saved_errno = errno;
  if (f != NULL && fclose (f) != 0)
    ok = 0;
  free (buf);
  if (!ok || rename (tmp, path) != 0)
    {
      if (saved_errno == 0)
        saved_errno = errno;
      remove (tmp);
      free (tmp);
      return ss_error_set (error, SS_ERR_IO, "cannot write model %s: %s", path,
                           strerror (saved_errno));
    }
  free (tmp);
  return SS_OK;
}

SsModel *
ss_model_load_from_memory (const void *bytes, size_t n, SsError *error)
{
  const uint8_t *buf = bytes;
  if (n >= 4 && memcmp (buf, "SSE1", 4) == 0)
    return ss_ensemble_from_bytes (buf, n, error);
  return ss_net_from_bytes (buf, n, error);
}

SsModel *
ss_net_from_bytes (const uint8_t *buf, size_t n, SsError *error)
{
  if (n < 4 || memcmp (buf, SS_MODEL_MAGIC, 4) != 0)
    {
      if (n >= 4 && (memcmp (buf, "SSM", 3) == 0 || memcmp (buf, "SSE", 3) == 0))
        ss_error_set (error, SS_ERR_VERSION, "model file magic '%.4s' is from another format "
                      "generation; this Smearscope reads 'SSM1' and 'SSE1'", (const char *) buf);
      else
        ss_error_set (error, SS_ERR_FORMAT, "not a Smearscope model (it does not start with "
                      "'SSM1' or 'SSE1')");
      return NULL;
    }
  const uint32_t version = n >= 8 ? get_u32 (buf + 4) : 1u;
  const size_t header = header_size (version);
  if (ss_check_envelope (buf, n, header, SS_MODEL_VERSION, "model", error) != SS_OK)
    return NULL;

  SsModelSpec spec;
  memset (&spec, 0, sizeof spec);
  spec.arch = (SsArch) get_u32 (buf + 16);
  spec.in_c = (int) get_u32 (buf + 20);
  spec.in_h = (int) get_u32 (buf + 24);
  spec.in_w = (int) get_u32 (buf + 28);
  spec.width = (int) get_u32 (buf + 32);
  spec.n_classes = (int) get_u32 (buf + 36);
  for (int c = 0; c < 3; c++)
    {
      spec.mean[c] = get_f32 (buf + 40 + 4 * c);
      spec.std[c] = get_f32 (buf + 52 + 4 * c);
    }
  if (version >= 3u)
    {
      /* all 0 (none), or means in [0, 1] and deviations above 0 and at most 1 */
      const int none = get_f32 (buf + 96 + 12) == 0.0f;
      for (int j = 0; j < 6; j++)
        {
          float v = get_f32 (buf + 96 + 4 * j);
          if (!(v >= 0.0f && v <= 1.0f) || (j >= 3 && v <= 0.0f && !none)
              || (none && v != 0.0f))
            {
              ss_error_set (error, SS_ERR_FORMAT, "camera colour %d is %g, not in (0, 1]", j, v);
              return NULL;
            }
          spec.camera_colour[j] = v;
        }
      float stretch = get_f32 (buf + 120);
      if (!(stretch >= 0.0f && stretch <= 0.2f))
        {
          ss_error_set (error, SS_ERR_FORMAT, "crop stretch %g is not in [0, 0.2]", stretch);
          return NULL;
        }
      spec.crop_stretch = stretch;
    }
  if (version >= 2u)
    {
      uint32_t resample = get_u32 (buf + 88), stem_k = get_u32 (buf + 92);
      if (resample > SS_RESAMPLE_AREA)
        {
          ss_error_set (error, SS_ERR_FORMAT, "unknown resampling %u", resample);
          return NULL;
        }
      if (stem_k != 0 && stem_k != 3 && stem_k != 5)
        {
          ss_error_set (error, SS_ERR_FORMAT, "unknown stem kernel %u (0 for 7 x 7, 3, 5)", stem_k);
          return NULL;
        }
      spec.resample = (SsResample) resample;
      spec.stem_k = (int) stem_k;
    }
  uint32_t storage = get_u32 (buf + 64);
  uint32_t info_len = get_u32 (buf + 68);
  uint64_t n_params = get_u64 (buf + 72), n_buffers = get_u64 (buf + 80);
  if (storage > SS_STORE_F16)
    {
      ss_error_set (error, SS_ERR_FORMAT, "unknown weight storage %u", storage);
      return NULL;
    }
  if (spec.n_classes < 2 || spec.n_classes > SS_MAX_CLASSES || info_len > SS_MODEL_MAX_INFO)
    {
      ss_error_set (error, SS_ERR_FORMAT, "model header is inconsistent (%d classes, %u bytes of "
                    "description)", spec.n_classes, info_len);
      return NULL;
    }
  size_t wbytes = storage == SS_STORE_F16 ? 2 : 4;
  size_t expect = header + (size_t) spec.n_classes * SS_NAME_LEN + info_len
                  + n_params * wbytes + n_buffers * 4 + 4;
  /* version 4: the lab's head fills the rest, counted once the graph is known */
  if (n_params > SS_MODEL_MAX_BYTES || n_buffers > SS_MODEL_MAX_BYTES
      || (version == 4u ? expect >= n : expect != n))
    {
      ss_error_set (error, SS_ERR_FORMAT, "model sections do not add up to the file size");
      return NULL;
    }
  const uint8_t *p = buf + header;
  for (int c = 0; c < spec.n_classes; c++, p += SS_NAME_LEN)
    {
      if (memchr (p, '\0', SS_NAME_LEN) == NULL)
        {
          ss_error_set (error, SS_ERR_FORMAT, "class name %d is not terminated", c);
          return NULL;
        }
      memcpy (spec.class_names[c], p, SS_NAME_LEN);
    }
  /* the architecture's own count first: a crafted header must not make us allocate
   * gigabytes before it is found out */
  size_t want_params, want_buffers;
  if (ss_model_count_params (&spec, &want_params, &want_buffers, error) != SS_OK)
    return NULL;  /* the message names the bad field */
  if (want_params != n_params || want_buffers != n_buffers)
    {
      ss_error_set (error, SS_ERR_FORMAT, "model holds %llu parameters, its architecture (%s "
                    "width %d) has %zu", (unsigned long long) n_params, ss_arch_name (spec.arch),
                    spec.width, want_params);
      return NULL;
    }
  SsModel *m = ss_model_new (&spec, 0, error);
  if (m == NULL)
    return NULL;
  const size_t lab_len = version == 4u ? ss_model_lab_head_len (m) : 0;
  if (lab_len * 4 != n - expect)
    {
      ss_error_set (error, SS_ERR_FORMAT, "the lab's head holds %zu bytes; this network's "
                    "takes %zu", n - expect, lab_len * 4);
      ss_model_free (m);
      return NULL;
    }
  if (ss_model_read_info (m, p, info_len, error) != SS_OK)
    {
      ss_model_free (m);
      return NULL;
    }
  p += info_len;
  for (size_t i = 0; i < n_params; i++)
    if (storage == SS_STORE_F16)
      {
        m->params[i] = ss_f16_to_f32 ((uint16_t) (p[0] | (p[1] << 8)));
        p += 2;
      }
    else
      {
        m->params[i] = get_f32 (p);
        p += 4;
      }
  for (size_t i = 0; i < n_buffers; i++, p += 4)
    m->buffers[i] = get_f32 (p);
  if (lab_len > 0)
    {
      float *lab = malloc (sizeof (float) * lab_len);
      if (lab == NULL)
        {
          ss_error_set (error, SS_ERR_NOMEM, "out of memory");
          ss_model_free (m);
          return NULL;
        }
      for (size_t i = 0; i < lab_len; i++, p += 4)
        lab[i] = get_f32 (p);
      SsStatus st = ss_model_set_lab_head (m, lab, error);
      free (lab);
      if (st != SS_OK)
        {
          ss_model_free (m);
          return NULL;
        }
    }
  /* NaN or infinity in a weight makes every answer NaN, which reads as class 0 */
  for (size_t i = 0; i < n_params + n_buffers; i++)
    if (!isfinite (i < n_params ? m->params[i] : m->buffers[i - n_params]))
      {
        ss_error_set (error, SS_ERR_FORMAT, "model %s %zu is not a finite number: the file is "
                      "damaged", i < n_params ? "parameter" : "buffer",
                      i < n_params ? i : i - n_params);
        ss_model_free (m);
        return NULL;
      }
  return m;
}

SsModel *
ss_model_load (const char *path, SsError *error)
{
  FILE *f = fopen (path, "rb");
  if (f == NULL)
    {
      ss_error_set (error, SS_ERR_IO, "cannot open model %s: %s", path, strerror (errno));
      return NULL;
    }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;)
    {
      if (len == cap)
        {
          if (cap >= SS_MODEL_MAX_BYTES)
            {
              fclose (f);
              free (buf);
              ss_error_set (error, SS_ERR_FORMAT, "%s is larger than 1 GiB: not a model", path);
              return NULL;
            }
          cap = cap ? cap * 2 : 1 << 20;
          uint8_t *grown = realloc (buf, cap);
          if (grown == NULL)
            {
              fclose (f);
              free (buf);
              ss_error_set (error, SS_ERR_NOMEM, "out of memory reading %s", path);
              return NULL;
            }
          buf = grown;
        }
      size_t got = fread (buf + len, 1, cap - len, f);
      len += got;
      if (got == 0)
        break;
    }
  int read_error = ferror (f);
  fclose (f);
  if (read_error)
    {
      free (buf);
      ss_error_set (error, SS_ERR_IO, "cannot read model %s", path);
      return NULL;
    }
  SsModel *m = ss_model_load_from_memory (buf, len, error);
  free (buf);
  if (m == NULL && error != NULL)
    {
      char msg[sizeof error->message];
      memcpy (msg, error->message, sizeof msg);
      snprintf (error->message, sizeof error->message, "%.200s: %.300s", path, msg);
    }
  return m;
}
