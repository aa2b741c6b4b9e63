/* The workstation's main window: the case list, the slide view, the gallery and the
 * count panel of the open case. */
#pragma once

#include <adwaita.h>

#include "ss-application.h"

G_BEGIN_DECLS

#define SS_TYPE_WINDOW (ss_window_get_type ())
G_DECLARE_FINAL_TYPE (SsWindow, ss_window, SS, WINDOW, AdwApplicationWindow)

SsWindow *ss_window_new                    (SsApplication *app);
/* Open a case by accession; FALSE (with the reason shown in the window) if it cannot. */
gboolean  ss_window_open_case              (SsWindow      *self,
                                            const char    *accession);
/* Analyse images into the open case in the background. */
void      ss_window_add_images             (SsWindow      *self,
                                            GFile        **files,
                                            guint          n_files);
/* What `smearscope [--case A] [IMAGE...]` asks: open (or create) the case, and analyse
 * the images not yet in it; images without --case go into a new case. */
void      ss_window_open_from_command_line (SsWindow      *self,
                                            const char    *accession,
                                            GFile        **files,
                                            guint          n_files);
/* A message in the window (a toast); the window keeps working. */
void      ss_window_show_message           (SsWindow      *self,
                                            const char    *message);

G_END_DECLS
