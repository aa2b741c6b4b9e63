/* A lab's cells taught to a cell-type model behind the guard (issue 30): the cells split
 * by image, a new head learned from one part (with replayed cells the model was trained
 * on), and the verdict: offered only when the candidate calls the held-back part better
 * than the model does, the reference cells at most a margin worse, and the cells the lab
 * taught the model before (when it is a lab's model taught other cases) at most a margin
 * worse too. The one place the
 * command line (smearscope-cli learn) and the workstation take the decision. */
#pragma once

#include "ss-learn.h"
#include "ss-learn-cells.h"

G_BEGIN_DECLS

#define SS_LEARN_ERROR (ss_learn_error_quark ())
GQuark ss_learn_error_quark (void);

typedef enum {
  SS_LEARN_ERROR_TOO_FEW,     /* not enough taught cells to learn from some, hold back others */
  SS_LEARN_ERROR_MODEL,       /* a model of several networks: nothing to teach one head */
  SS_LEARN_ERROR_FAILED,      /* the engine could not predict or learn */
} SsLearnError;

typedef struct {
  double   hold_back;   /* fraction of the lab's images held back for the guard (0.25) */
  guint64  seed;        /* which images are held back (1) */
  double   margin;      /* how much worse on the reference the candidate may be (0.01) */
  int      halvings;    /* when the reference refuses the candidate at head.lab_weight, try
                         * again at half the weight, up to this many times (4): the lab's
                         * cells weigh as much as the reference allows. The choice looks at
                         * the reference alone, never at the held-back cells (0: one try) */
  gboolean camera_head; /* the learned head becomes a lab head beside the model's own,
                         * used for the cells that look like the lab's camera
                         * (ss_model_set_lab_head; TRUE). The gate is fitted to the lab's
                         * learning cells against the replay, so without a replay the
                         * model's own head is replaced, as with FALSE */
  SsLearnHeadConfig head;
} SsLearnGuardConfig;

typedef struct {
  int      n_learn, n_replay, n_back, n_reference;
  double   back_before, back_after;            /* the lab's held-back cells, right */
  double   reference_before, reference_after;  /* the reference cells, right */
  int      n_earlier;                          /* the cells taught before, right: */
  double   earlier_before, earlier_after;
  gboolean better_on_lab;                      /* back_after > back_before */
  gboolean within_margin;                      /* reference_after >= before - margin */
  gboolean keeps_earlier;                      /* earlier_after >= before - margin, or
                                                * no such cells */
  gboolean offered;                            /* all three */
  double   lab_weight;                         /* the weight the candidate was learned at */
  int      tries;                              /* head fits made (1 + halvings used) */
  gboolean camera_head;                        /* the candidate has a lab head */
  int      gate_back, gate_reference;          /* camera head: the held-back and the
                                                * reference cells the lab's head
                                                * weighs more than half in */
} SsLearnVerdict;

void     ss_learn_guard_config_init (SsLearnGuardConfig *config);

/* Teach model (its head is changed in place: the candidate) the cells of taught, with
 * replay (may be NULL), and judge the candidate against the held-back part, reference,
 * and earlier (may be NULL: the lab's cells the model was taught before and that are
 * not taught now; a new lab head replaces the model's, and must not forget them). FALSE with error when it cannot be done (too few cells, a model of several
 * networks, an engine failure); otherwise TRUE and the verdict, offered or not. */
gboolean ss_learn_guarded (SsModel *model, const SsLearnCells *taught,
                           const SsDataset *replay, const SsDataset *reference,
                           const SsDataset *earlier, const SsLearnGuardConfig *config, SsLearnVerdict *verdict,
                           GError **error);

G_END_DECLS
