/* smearscope: the workstation. */
#define G_LOG_DOMAIN "smearscope"

#include "ss-config.h"

#include <glib/gi18n.h>
#include <locale.h>

#include "ss-application.h"

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  ss_application_init_i18n ();
  ss_application_find_schemas ();

  g_autoptr (SsApplication) app = ss_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
