#!/usr/bin/python3
"""The lab's models in the case store (issue 30): learn offers two candidates into the
store, an admin puts them in use and rolls back, and each analysis records the model
in use; a technician cannot adopt; damaged bytes are refused.

- learn --db records each offered candidate (figures, who offered it, its parent);
- model use / rollback: the analysis after each records that model's checksum (the
  SHA-256 of the file learn wrote, or of the shipped model), computed here;
- rollback restores the earlier model byte for byte (model export + compare);
- the cases analysed before keep their calls and their model;
- a technician's model use is refused and the store is unchanged;
- db check passes after all of it, and names a model whose bytes were changed, which
  export, use and the analysis then refuse.

On a file, or on PostgreSQL when SMEARSCOPE_TEST_DB names the throwaway cluster of
tests/pg-cluster.sh (then the roles are the server's: logins boss and tech).

    test-lab-models.py CLI SAMPLES_DIR MODELS_DIR
"""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

CLI, SAMPLES, MODELS = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="ss-lab-models-")
os.environ["XDG_CACHE_HOME"] = os.path.join(TMP, "cache")

from clitest import Cli, check, distinct_copy, failures  # noqa: E402

PG = os.environ.get("SMEARSCOPE_TEST_DB", "")
if PG.startswith("postgresql://"):
    database = "ss_lab_%d" % os.getpid()
    subprocess.run(["psql", "-q", PG, "-c", "CREATE DATABASE " + database], check=True)
    DB = PG.replace("/postgres?", "/%s?" % database, 1)
else:
    PG = ""
    DB = os.path.join(TMP, "cases.db")


def as_login(login):
    """The store as another login (on a server; a file has one)."""
    return DB.replace("user=smearscope", "user=" + login) if PG else DB


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def psql(sql):
    subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", DB, "-c", sql], check=True,
                   capture_output=True)


cli = Cli(CLI, DB)
boss = Cli(CLI, as_login("boss"))
tech = Cli(CLI, as_login("tech"))
SHIPPED = os.path.join(MODELS, "celltype.ssm")

n_fields = 0


def analyze(*extra):
    """One more field (a copy of a sample) analysed into the case; its image record."""
    global n_fields
    n_fields += 1
    name = sorted(n for n in os.listdir(SAMPLES) if n.endswith(".jpg"))[n_fields % 2]
    path = os.path.join(TMP, "f%d-%s" % (n_fields, name))
    # each field another picture (a case takes a picture once)
    distinct_copy(os.path.join(SAMPLES, name), path, n_fields)
    cli("analyze", "--case", "LAB", path, *extra)
    images = cli.json("case", "show", "LAB", "--json")["images"]
    return [i for i in images if i["path"].endswith(os.path.basename(path))][0]


def in_use():
    return cli.json("model", "list", "--json")["in_use"]


cli("case", "new", "LAB")
first = [analyze() for _ in range(4)]
check(all(i["model_checksum"] == sha256(SHIPPED) for i in first),
      "no lab model yet: the shipped model analyses")
if PG:
    cli("db", "roles", "--init")
cli("db", "user", "add", "boss", "--role", "admin")
cli("db", "user", "add", "tech", "--role", "technician")

cells = [c for i in first for c in i["cells"] if not c["deleted"]]
for c in cells:  # relabelled, or confirmed where already called a neutrophil
    if c["class"] == "neutrophil":
        tech("relabel", "--case", "LAB", "--cell", str(c["id"]), "--confirm", "--user", "tech")
    else:
        tech("relabel", "--case", "LAB", "--cell", str(c["id"]), "--class", "neutrophil",
             "--user", "tech")

# two candidates offered by the technician, from the shipped model
m1, m2 = os.path.join(TMP, "m1.ssm"), os.path.join(TMP, "m2.ssm")
# (on a server every change is recorded under its login: the technician's own)
run1 = tech("learn", "--model", "celltype", "--case", "LAB", "--out", m1, "--user", "tech")
# on a server the second without --user: the login is who offers it, whatever the
# account running the command is called
run2 = tech("learn", "--model", "celltype", "--case", "LAB", "--out", m2,
            *([] if PG else ["--user", "tech"]), "--lab-weight", "2")
if PG:
    run = tech("learn", "--model", "celltype", "--case", "LAB", "--out",
               os.path.join(TMP, "m-boss.ssm"), "--user", "boss", ok=False)
    check(run.returncode == 2 and "not your login tech" in run.stderr
          and not os.path.exists(os.path.join(TMP, "m-boss.ssm")),
          "on a server learn --user other than the login is refused before learning (%d: %s)"
          % (run.returncode, run.stderr))
print(run1.stdout.strip().replace("\n", " | "))
check("recorded in the case store as model 1" in run1.stdout
      and "recorded in the case store as model 2" in run2.stdout,
      "learn records each offered candidate: %s / %s" % (run1.stdout, run2.stdout))
check(sha256(m1) != sha256(m2), "the two candidates differ")
listed = cli.json("model", "list", "--json")
check(listed["in_use"] == "shipped", "offered is not adopted: the shipped model in use")
models = {m["id"]: m for m in listed["models"]}
check(sorted(models) == [1, 2], "two models listed: %s" % sorted(models))
for mid, path in ((1, m1), (2, m2)):
    m = models.get(mid, {})
    check(m.get("sha256") == sha256(path), "model %d: the bytes learn wrote" % mid)
    check(m.get("name") == "celltype-lab-%d" % mid,
          "model %d: named by the store's count (%s)" % (mid, m.get("name")))
    check(m.get("size") == os.path.getsize(path), "model %d: its size" % mid)
    check(m.get("parent_sha256") == sha256(SHIPPED) and m.get("parent_id") is None,
          "model %d: taught from the shipped model" % mid)
    check(m.get("offered_by") == "tech" and m.get("adopted_by") is None
          and m.get("in_use") is False, "model %d: offered by tech, not adopted" % mid)
    check(m.get("cells") == len(cells) and m.get("cases") == "LAB"
          and m.get("taught") == "neutrophil %d" % len(cells),
          "model %d: what was taught (%s)" % (mid, m))
    g = m.get("guard", {})
    check(g.get("held_back_after", 0) > g.get("held_back_before", 1)
          and g.get("reference_after", 0) >= g.get("reference_before", 1) - g.get("margin", 0)
          and g.get("reference_cells") == 160,
          "model %d: the guard's figures, as offered (%s)" % (mid, g))

# a technician cannot adopt; nothing changes
before = cli("model", "list", "--json").stdout
run = tech("model", "use", "1", "--user", "tech", ok=False)
check(run.returncode == 1 and "only an admin can adopt" in run.stderr,
      "a technician's model use refused, naming who may (%d: %s)" % (run.returncode, run.stderr))
run = tech("model", "rollback", "--user", "tech", ok=False)
check(run.returncode == 1, "a technician's rollback refused (%d: %s)" % (run.returncode, run.stderr))
check(cli("model", "list", "--json").stdout == before, "refused: the store unchanged")

# misuse: clear messages, non-zero exits
run = boss("model", "use", "7", "--user", "boss", ok=False)
check(run.returncode == 1 and "no model 7" in run.stderr, "unknown id: %s" % run.stderr)
run = boss("model", "use", "one", ok=False)
check(run.returncode == 2 and "not a model id" in run.stderr, "bad id: %s" % run.stderr)
run = boss("model", "rollback", "--user", "boss", ok=False)
check(run.returncode == 1 and "nothing to roll back" in run.stderr,
      "rollback with the shipped model in use: %s" % run.stderr)
run = cli("model", "export", "1", ok=False)
check(run.returncode == 2 and "--out" in run.stderr, "export without --out: %s" % run.stderr)

# use 1, use 2, roll back to 1 then to the shipped model; each analysis records it
boss("model", "use", "1", "--user", "boss")
check(in_use() == 1, "model 1 in use")
check(analyze()["model_checksum"] == sha256(m1), "with model 1 in use the cells record it")
# a lab's model is stored without a camera check: it checks against the shipped model's
with_m1 = os.path.join(TMP, "with-m1.json")
analyze("--json", with_m1)
check(all("camera" in im for im in json.load(open(with_m1))["images"]),
      "a lab's model in use keeps the shipped model's camera check")
boss("model", "use", "2", "--user", "boss")
check(analyze()["model_checksum"] == sha256(m2), "with model 2 in use the cells record it")
check(analyze("--model", SHIPPED)["model_checksum"] == sha256(SHIPPED),
      "--model overrides the store's model")
run = boss("model", "rollback", "--user", "boss")
check(in_use() == 1 and "model 1 is in use" in run.stdout, "rolled back to model 1: %s" % run.stdout)
exported = os.path.join(TMP, "exported.ssm")
cli("model", "export", "1", "--out", exported)
with open(exported, "rb") as a, open(m1, "rb") as b:
    check(a.read() == b.read(), "rollback restores model 1 byte for byte (export = learn's file)")
check(analyze()["model_checksum"] == sha256(m1), "after the rollback the cells record model 1")
boss("model", "rollback", "--user", "boss")
check(in_use() == "shipped", "rolled back again: the shipped model")
check(analyze()["model_checksum"] == sha256(SHIPPED), "then the cells record the shipped model")
listed = {m["id"]: m for m in cli.json("model", "list", "--json")["models"]}
check(listed[1]["adopted_by"] == "boss" and listed[2]["adopted_by"] == "boss",
      "who adopted each is listed")
images = cli.json("case", "show", "LAB", "--json")["images"]
check([i["model_checksum"] for i in images[:4]] == [sha256(SHIPPED)] * 4
      and [c["class"] for i in images[:4] for c in i["cells"] if not c["deleted"]]
      == ["neutrophil"] * len(cells), "the cases analysed before keep their model and calls")
run = cli("db", "check")
check("OK" in run.stdout, "db check passes after adoptions and rollbacks: %s" % run.stdout)

# damaged bytes: refused wherever they would be used, and named by db check
# (on a server without --user: adopted under the login; the account running the test
# is not called boss, and the server refuses an adoption under another name)
boss("model", "use", "2", *([] if PG else ["--user", "boss"]))
if PG:
    psql("ALTER TABLE lab_models DISABLE TRIGGER lab_models_no_update;"
         "UPDATE lab_models SET bytes = overlay (bytes PLACING '\\x00'::bytea FROM 100) WHERE id = 2")
else:
    db = sqlite3.connect(DB)
    db.execute("DROP TRIGGER lab_models_no_update")
    db.execute("UPDATE lab_models SET bytes = substr (bytes, 1, 99) || x'00' || substr (bytes, 101)"
               " WHERE id = 2")
    db.commit()
    db.close()
shutil.rmtree(os.environ["XDG_CACHE_HOME"], ignore_errors=True)
bad = os.path.join(TMP, "bad.ssm")
run = cli("model", "export", "2", "--out", bad, ok=False)
check(run.returncode == 1 and "damaged" in run.stderr and not os.path.exists(bad),
      "damaged bytes: export refused (%d: %s)" % (run.returncode, run.stderr))
field = os.path.join(TMP, "damaged.jpg")
shutil.copy(os.path.join(SAMPLES, sorted(n for n in os.listdir(SAMPLES) if n.endswith(".jpg"))[0]),
            field)
n_images = len(cli.json("case", "show", "LAB", "--json")["images"])
run = cli("analyze", "--case", "LAB", field, ok=False)
check(run.returncode == 1 and "damaged" in run.stderr
      and len(cli.json("case", "show", "LAB", "--json")["images"]) == n_images,
      "damaged model in use: the analysis refuses it, nothing stored (%d: %s)"
      % (run.returncode, run.stderr))
run = cli("db", "check", ok=False)
check(run.returncode != 0 and "lab_models row 2" in run.stdout + run.stderr,
      "db check names the damaged model: %s %s" % (run.stdout, run.stderr))
boss("model", "rollback", "--user", "boss")
check(analyze()["model_checksum"] == sha256(SHIPPED), "rolled back from it: the shipped model again")

shutil.rmtree(TMP)
if failures:
    sys.exit("%d check(s) failed" % len(failures))
print("all lab model checks passed")
