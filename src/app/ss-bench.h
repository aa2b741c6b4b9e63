/* The workstation benchmark (issue 26): smearscope --bench times the real window on its
 * open case and prints the figures. */
#pragma once

#include "ss-window.h"

G_BEGIN_DECLS

/* Once the window shows its case: time opening it again and filling the gallery, the
 * frames of panning and zooming the field, and a digit key's way to the repainted count
 * panel; print the figures (plain lines and one JSON line) and quit the application. */
void ss_bench_run (SsWindow *window);

G_END_DECLS
