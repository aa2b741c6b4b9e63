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

  /* A case server that is away when the workstation starts (or opens a store for an
   * export, on a worker thread) is waited for 5 s, not the CLI's 30. Once the store is
   * open the window never waits for it: its actions fail at once and it reconnects in the
   * background (ss-window-server.c). */
  g_setenv ("SMEARSCOPE_RECONNECT_WAIT", "5", FALSE);

  g_autoptr (SsApplication) app = ss_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
