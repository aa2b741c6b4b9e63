#!/usr/bin/python3
"""Issue 29's comparison: one row per trained model on one task's validation images.

    compare-networks.py CLI VAL_DIR [--map FROM=TO,...] [--threads N] MODEL...

For each MODEL, `smearscope-cli evaluate --task classify --views 1 --json -` gives the
accuracy and the figures of the positive class (two classes) or their macro averages
(more), and `smearscope-cli bench --model MODEL --json` the parameters, the forward FLOP
per image and the time of one cell and of 100 cells on this machine (`--threads`, 1 by
default, as a laptop's second core is busy with the window). Prints a Markdown table and
the machine's CPU and OpenBLAS variables. Nothing here is trained or tuned.
"""
import json
import os
import subprocess
import sys


def run_json(args, env=None):
    done = subprocess.run(args, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit("%s failed (%d): %s" % (" ".join(args), done.returncode, done.stderr.strip()))
    text = done.stdout
    return json.loads(text[text.index("{"):])


def cpu_name():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "unknown CPU"


def main(argv):
    if len(argv) < 4:
        sys.exit(__doc__)
    cli, val = argv[1], argv[2]
    rest = argv[3:]
    mapping, threads, models = None, "1", []
    i = 0
    while i < len(rest):
        if rest[i] == "--map":
            mapping = rest[i + 1]
            i += 2
        elif rest[i] == "--threads":
            threads = rest[i + 1]
            i += 2
        else:
            models.append(rest[i])
            i += 1
    if not models:
        sys.exit("give at least one model")
    print("| model | network | parameters | forward FLOP | accuracy | sensitivity | specificity "
          "| PPV | NPV | F1 | AUC | one cell | 100 cells |")
    print("| --- | --- | ---: | ---: | --- | --- | --- | --- | --- | --- | --- | ---: | ---: |")
    averaging = None
    for model in models:
        args = [cli, "evaluate", "--task", "classify", "--model", model, "--data", val,
                "--views", "1", "--json", "-"]
        if mapping:
            args += ["--map", mapping]
        ev = run_json(args)
        averaging = ev["averaging"]
        bench = run_json([cli, "bench", "--model", model, "--json", "--threads", threads])
        figures = " | ".join("%.4f" % ev[k] for k in ("accuracy", "sensitivity", "specificity",
                                                       "ppv", "npv", "f1", "auc"))
        print("| %s | %s | %s | %s | %s | %.2f ms | %.1f ms |"
              % (os.path.basename(model), bench["arch"], format(bench["params"], ","),
                 format(int(bench["flop_every_view"]), ","), figures, bench["cell_ms"],
                 bench["batch100_ms"]))
    print()
    print("figures: %s; %s; %s thread(s); OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s"
          % (averaging, cpu_name(), threads, os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
             os.environ.get("OPENBLAS_L2_SIZE", "(unset)")))


if __name__ == "__main__":
    main(sys.argv)
