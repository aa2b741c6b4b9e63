/* smearscope-cli: one file per subcommand, each a thin layer over analysis, store and
 * report. Everything the workstation can do, this can do too. */
#pragma once

#include <glib.h>

#include "ss-classifier.h"
#include "ss-dataset.h"
#include "ss-store.h"

G_BEGIN_DECLS

typedef int (*SsCliRun) (int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary;
  SsCliRun    run;
} SsCliCommand;

/* Options every subcommand accepts (--db, --threads, --models); add them to a context. */
void          ss_cli_add_common_options (GOptionContext *context);
/* The case store named by --db or the default location (user data dir). */
const char   *ss_cli_db_path (void);
/* The folder given by --models, or NULL: the override of ss_models_dir. */
const char   *ss_cli_models_override (void);
/* ss_models_find with --models: a path as given, or a name ("mscnn-blast") looked up in
 * the models dir with the .ssm extension. */
char         *ss_cli_find_model (const char *name_or_path);
/* The model of that name or path, as a classifier; NULL after saying why. */
SsClassifier *ss_cli_load_classifier (const char *name_or_path);
/* Class folders read for a model (ss_dataset_load_for_model); NULL with the error said. */
SsDataset    *ss_cli_load_dataset (const char *dir, GHashTable *map, const SsModelSpec *spec);
/* g_option_context_add_main_entries and g_option_group_add_entries, with the entries
 * remembered: ss_cli_parse refuses a number option given as nan or inf. */
void          ss_cli_add_entries (GOptionContext *context, const GOptionEntry *entries);
void          ss_cli_add_group_entries (GOptionGroup *group, const GOptionEntry *entries);
/* Parse argv with context; on failure print the message and the usage hint. */
gboolean      ss_cli_parse (GOptionContext *context, int *argc, char ***argv);
/* ss_cli_parse, then exactly n_operands words must follow the subcommand's name; if not,
 * print "wrong_count (try --help)" and return FALSE. */
gboolean      ss_cli_parse_operands (GOptionContext *context, int *argc, char ***argv,
                                     int n_operands, const char *wrong_count);
/* --pick's word (certain or centre) as SsFieldCells; prints the error and returns FALSE
 * on any other word. */
gboolean      ss_cli_parse_field_pick (const char *word, SsFieldCells *pick);
/* --views N and --views-below X over a model's own (views 0 and below
 * SS_CLI_VIEWS_BELOW_KEEP: keep the model's); prints the error and returns FALSE if the
 * model refuses them. */
/* the exit status of a command line the command cannot take (a usage error) */
#define EXIT_USAGE  2

#define SS_CLI_VIEWS_BELOW_KEEP (-1e300)
#define SS_CLI_VIEWS_HELP "Test-time views instead of the model's own: 1, 2, 4 or 8"
#define SS_CLI_VIEWS_BELOW_HELP \
  "The views after the first only for cells less sure than X (0: every cell; default: the model's own)"
gboolean      ss_cli_set_views (SsModel *model, int views, double below);
/* A command of actions ("case new", "model use"): each action's name, what it runs and
 * its one-line summary for the usage. */
typedef struct {
  const char *name;
  int       (*run) (int argc, char **argv);
  const char *summary;
} SsCliAction;

/* Run the action argv[1] names with argv shifted to it; else the usage of command (to
 * stdout and 0 for --help, to stderr and 2 otherwise, saying what was wrong). */
int           ss_cli_run_action (const char *command, const SsCliAction *actions,
                                 guint n_actions, int argc, char **argv);
/* Print "smearscope-cli: message" to stderr. */
void          ss_cli_error (const char *format, ...) G_GNUC_PRINTF (1, 2);
/* The median of v[0, n) (sorts v). */
double        ss_cli_median (double *v, int n);
/* --colour-target M,M,M,S,S,S: FALSE with a message if it is not six numbers in range */
gboolean      ss_cli_parse_colour_target (const char *text, double target[6]);
/* Print a store error and, for the errors a command fixes, the command that fixes it
 * (the store's messages say what to do in words, as the workstation shows them).
 * Returns 1, the exit code of a store that refused or failed. */
int           ss_cli_store_failed (const GError *error);
/* Who a change is recorded as. On a server, always the login the store is connected as
 * (docs/case-store.md "Roles"): --user may be left out, and one that differs from the
 * login is refused, whatever the login (the server holds every login but the store's
 * owner to it anyway). On a file, user as given; without it the system's user name,
 * unless required names the command that needs --user. NULL after saying why (exit 2). */
const char   *ss_cli_store_user (SsStore *store, const char *user, const char *required);
/* Write text to path ("-" is stdout) atomically (ss_report_write_text_atomic). */
gboolean      ss_cli_output_ok (const char *option, const char *path, GError **error);
gboolean      ss_cli_write_text (const char *path, const char *text, GError **error);

/* engine and classifiers (cli-train.c, cli-classify.c, cli-evaluate.c, cli-bench.c) */
int ss_cli_train (int argc, char **argv);
int ss_cli_classify (int argc, char **argv);
int ss_cli_explain (int argc, char **argv);
int ss_cli_ensemble (int argc, char **argv);  /* cli-classify.c */
int ss_cli_evaluate (int argc, char **argv);  /* --task classify here; detect, segment below */
int ss_cli_bench (int argc, char **argv);     /* --analyze and --store are passed on below */
int ss_cli_cells (int argc, char **argv);     /* cli-dataset.c */

/* field analysis (cli-analyze.c) */
int ss_cli_analyze (int argc, char **argv);
int ss_cli_scale (int argc, char **argv);
int ss_cli_distance (int argc, char **argv);  /* cli-distance.c */
int ss_cli_adapt (int argc, char **argv);     /* cli-adapt.c */
int ss_cli_learn (int argc, char **argv);     /* cli-learn.c */
int ss_cli_model (int argc, char **argv);     /* cli-model.c: the lab's models in the store */
int ss_cli_evaluate_detect (int argc, char **argv);
int ss_cli_evaluate_segment (int argc, char **argv);
int ss_cli_bench_analyze (int argc, char **argv);

/* case store (cli-store.c) */
int ss_cli_case (int argc, char **argv);
int ss_cli_relabel (int argc, char **argv);
int ss_cli_counts (int argc, char **argv);
int ss_cli_signoff (int argc, char **argv);
int ss_cli_db (int argc, char **argv);
int ss_cli_bench_store (int argc, char **argv);
/* Several writer processes on one case of the store at location (cli-store-load.c). */
int ss_cli_bench_store_load (const char *location, int n_writers, int n_corrections,
                             int restarts, const char *control);
/* bench --report IMAGE: a case of --cells cells over --fields copies of IMAGE, to PDF
 * and to COCO (cli-report-bench.c) */
int ss_cli_bench_report (int argc, char **argv);
/* n cells shaped like the analysis's: a disc of a cell with a disc of a nucleus in a
 * 36-60 pixel box, scattered over a width x height field (both above 60). Seeded by
 * rand, so runs compare. */
GPtrArray *ss_cli_bench_cells (int n, GRand *rand, int width, int height);

/* exports of a stored case (cli-export.c) */
int ss_cli_export (int argc, char **argv);
/* annotations of other tools as ground truth (cli-import.c) */
int ss_cli_import (int argc, char **argv);
/* the case report (cli-report.c) */
int ss_cli_report (int argc, char **argv);

G_END_DECLS
