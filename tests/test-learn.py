#!/usr/bin/python3
"""smearscope-cli learn (issue 30): a case of the sample fields, its cells reviewed with
relabel, taught to the shipped cell-type model behind the guard.

- nothing reviewed: refused with a clear message, nothing written;
- the cells confirmed: both guard figures printed, the candidate written only when the
  guard passes (exit 0), never when it does not (exit 3);
- a deliberately bad set (every neutrophil taught as basophil, learned hard): refused by
  the reference check, nothing written;
- an image whose file changed after analysis: said so, its cells left out.

The guard's reference cells are PBC val's (5 pictures of each of its folders, each
centre cell cut as the analysis cuts it), which the model knows: the test is skipped
(77) without ../shared/datasets.

    test-learn.py CLI SAMPLES_DIR DATASETS_DIR
"""
import os
import re
import shutil
import sys
import tempfile

CLI, SAMPLES, DATASETS = sys.argv[1], sys.argv[2], sys.argv[3]
PBC_VAL = os.path.abspath(os.path.join(DATASETS, "pbc", "val"))
if not os.path.isdir(PBC_VAL):
    print("skipped: no %s (the guard's reference cells)" % PBC_VAL)
    sys.exit(77)
TMP = tempfile.mkdtemp(prefix="ss-learn-")
DB = os.path.join(TMP, "cases.db")

from clitest import Cli, check, failures  # noqa: E402

cli = Cli(CLI, DB)

# four fields: each sample twice, so that images can be held back
fields = []
for name in sorted(os.listdir(SAMPLES)):
    if name.endswith(".jpg"):
        for copy in ("a", "b"):
            path = os.path.join(TMP, copy + "-" + name)
            shutil.copy(os.path.join(SAMPLES, name), path)
            fields.append(path)
cli("case", "new", "LAB")
cli("analyze", "--case", "LAB", *fields)
case = cli.json("case", "show", "LAB", "--json")
cells = [c for image in case["images"] for c in image["cells"] if not c["deleted"]]
check(len(cells) >= 4, "the sample fields give a cell each (%d)" % len(cells))

# the reference: PBC val's cells, 5 of each folder, cut as the analysis cuts them
ref_fields = os.path.join(TMP, "ref-fields")
for folder in sorted(os.listdir(PBC_VAL)):
    os.makedirs(os.path.join(ref_fields, folder))
    for name in sorted(os.listdir(os.path.join(PBC_VAL, folder)))[:5]:
        os.symlink(os.path.join(PBC_VAL, folder, name), os.path.join(ref_fields, folder, name))
reference = os.path.join(TMP, "reference")
cli("cells", "--data", ref_fields, "--out", reference, "--max-cells", "1", "--pick", "centre",
    "--size", "128")
out = os.path.join(TMP, "learned.ssm")
learn = ["learn", "--model", "celltype", "--case", "LAB", "--reference", reference, "--out", out]

run = cli(*learn, ok=False)
check(run.returncode == 1 and "review more cells" in run.stderr,
      "nothing reviewed: refused, saying what to do (%d: %s)" % (run.returncode, run.stderr))
check(not os.path.exists(out), "nothing reviewed: nothing written")

for c in cells:
    cli("relabel", "--case", "LAB", "--cell", str(c["id"]), "--class", "neutrophil",
        "--user", "tech")
run = cli(*learn, ok=False)
print("reviewed as neutrophils:", run.stdout.strip().replace("\n", " | "))
held = re.search(r"held-back cells: model (\S+), candidate (\S+) \((\d+) cells\)", run.stdout)
ref = re.search(r"reference cells .*: model (\S+), candidate (\S+) \((\d+) cells", run.stdout)
check(held is not None and ref is not None, "both guard figures printed: %s" % run.stdout)
check(run.returncode in (0, 3), "the guard decides (%d: %s)" % (run.returncode, run.stderr))
check(os.path.exists(out) == (run.returncode == 0),
      "the candidate written exactly when offered (exit %d)" % run.returncode)
if held and ref and run.returncode == 0:
    check(float(held.group(2)) > float(held.group(1)), "offered only when better on the lab's cells")
    check(float(ref.group(2)) >= float(ref.group(1)) - 0.01, "offered only within the margin")
if os.path.exists(out):
    os.remove(out)

# a deliberately bad set: every neutrophil taught as basophil, learned hard
for c in cells:
    cli("relabel", "--case", "LAB", "--cell", str(c["id"]), "--class", "basophil", "--user", "tech")
run = cli(*learn, "--lab-weight", "100", "--anchor", "0", "--steps", "500", ok=False)
ref = re.search(r"reference cells .*: model (\S+), candidate (\S+)", run.stdout)
print("a bad set:", run.stdout.strip().replace("\n", " | "))
check(run.returncode == 3 and "not offered" in run.stdout,
      "a bad set refused (%d: %s)" % (run.returncode, run.stdout))
check(ref is not None and float(ref.group(2)) < float(ref.group(1)),
      "the bad set's candidate is worse on the reference: %s" % run.stdout)
check(not os.path.exists(out), "a refused candidate is not written")

# a field changed after analysis: its cells are left out, and said so
with open(fields[0], "ab") as f:
    f.write(b"\0")
run = cli(*learn, ok=False)
check("changed since it was analysed" in run.stderr and os.path.basename(fields[0]) in run.stderr,
      "a changed field said so: %s" % run.stderr)
count = re.search(r"\((\d+) images of 1 cases", run.stdout)
check(count is not None and int(count.group(1)) == len(fields) - 1,
      "the changed field's cells left out: %s" % run.stdout)

shutil.rmtree(TMP)
if failures:
    sys.exit("%d check(s) failed" % len(failures))
print("all learn checks passed")
