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
  ss_init_i18n ();
  ss_application_find_schemas ();

  /* GSettings aborts on a schema it cannot find: say what to do instead */
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema =
    source != NULL ? g_settings_schema_source_lookup (source, SS_APP_ID, TRUE) : NULL;
  if (schema == NULL)
    {
      g_printerr (_("smearscope: the settings schema %s is not installed. Install Smearscope "
                    "(meson install), or run it from its build folder after building it whole "
                    "(the schema is compiled into BUILD/data), or set GSETTINGS_SCHEMA_DIR.\n"),
                  SS_APP_ID);
      return 1;
    }

  /* The store's calls run on the main loop: a case server that is away is waited for
   * 5 s, not the CLI's 30, before the action fails with a toast saying so (the case's
   * live view reconnects by itself meanwhile). */
  g_setenv ("SMEARSCOPE_RECONNECT_WAIT", "5", FALSE);

  g_autoptr (SsApplication) app = ss_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
