#!/usr/bin/python3
"""The camera check in the analysis (issue 27): a cell-type model with a camera check
beside it (MODEL-cameras.csv) judges each field's cells against the cameras it learned.

- no file beside the model: no "camera" in the JSON, nothing doubted for it;
- a file of a camera far from the sample fields' (dark, flat crops): every field is
  "unlike_training", every typed cell unsure with the doubt "camera-unlike-training",
  and no class or count changes (no colours to bring the camera to, none mapped);
- the same with target colours: every field's colours are mapped (the probabilities
  change), its cells stay unsure for their camera; `--colour-map off` keeps them as taken;
- a file made by `distance --camera --save --target` from the sample fields' own cells:
  it holds the target, no field is unlike and none is mapped (the calls are as without
  a check); with `--colour-map on` the fields are mapped but not doubted for their camera;
- a damaged file: the analysis refuses with a message naming it and what to do.

    test-camera-check.py CLI SAMPLES_DIR MODELS_DIR
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

from clitest import check, failures

CLI, SAMPLES, MODELS = sys.argv[1], sys.argv[2], sys.argv[3]
TMP = tempfile.mkdtemp(prefix="ss-camera-check-")
model = os.path.join(TMP, "m.ssm")
cameras = os.path.join(TMP, "m-cameras.csv")
shutil.copy(os.path.join(MODELS, "celltype.ssm"), model)
fields = sorted(glob.glob(os.path.join(SAMPLES, "*.jpg")))


def analyze():
    out = os.path.join(TMP, "out.json")
    run = subprocess.run([CLI, "analyze", "--model", model, "--json", out, *fields],
                         capture_output=True, text=True)
    return run, (json.load(open(out)) if run.returncode == 0 else None)


def typed(image):
    return [c for c in image["cells"] if c["class"] not in ("other", "not_a_cell")]


run, plain = analyze()
check(run.returncode == 0 and all("camera" not in im for im in plain["images"]),
      "no camera check beside the model: none in the JSON (%d)" % run.returncode)

# a camera far from the sample fields': dark, flat crops
header = ("# test\nthreshold,1\nred_mean,red_sd,red_p90,green_mean,green_sd,green_p90,"
          "blue_mean,blue_sd,blue_p90\n")
with open(cameras, "w") as f:
    f.write(header)
    for i in range(10):
        v = 0.10 + 0.01 * i
        f.write(",".join(["%.3f" % v, "0.02", "%.3f" % (v + 0.05)] * 3) + "\n")
run, far = analyze()
check(run.returncode == 0, "analysed with a far camera check: %s" % run.stderr)
for im, im0 in zip(far["images"], plain["images"]):
    cam = im.get("camera")
    check(cam is not None and cam["unlike_training"] and cam["distance"] > cam["threshold"] == 1,
          "%s: unlike a far camera: %s" % (im["path"], cam))
    for cell in typed(im):
        check(cell["unsure"] and "camera-unlike-training" in cell.get("doubt", ""),
              "%s: a typed cell of an unlike field is unsure for its camera: %s"
              % (im["path"], cell))
    check(im["counts"] == im0["counts"]
          and [c["class"] for c in im["cells"]] == [c["class"] for c in im0["cells"]],
          "%s: the camera check changes no class and no count" % im["path"])
check(sum(len(typed(im)) for im in far["images"]) > 0, "the sample fields have typed cells")
check(all(not im["camera"]["colours_mapped"] for im in far["images"]),
      "a far check without target colours maps nothing")


def probabilities(result):
    return [c["probabilities"] for im in result["images"] for c in im["cells"]]


# the far camera with colours to bring an unlike camera to (a pale, flat target)
with open(cameras, "w") as f:
    f.write(header.replace("threshold,1\n", "threshold,1\ntarget,0.8,0.7,0.8,0.1,0.1,0.05\n"))
    for i in range(10):
        v = 0.10 + 0.01 * i
        f.write(",".join(["%.3f" % v, "0.02", "%.3f" % (v + 0.05)] * 3) + "\n")
run, mapped = analyze()
check(run.returncode == 0, "analysed with a far check with a target: %s" % run.stderr)
check("%d of %d fields look unlike" % (len(fields), len(fields)) in run.stderr
      and "teach the model" in run.stderr, "the run says its camera is new: %s" % run.stderr)
for im in mapped["images"]:
    check(im["camera"]["colours_mapped"] and im["camera"]["unlike_training"],
          "%s: an unlike camera's colours mapped: %s" % (im["path"], im["camera"]))
    for cell in typed(im):
        check(cell["unsure"] and "camera-unlike-training" in cell.get("doubt", ""),
              "%s: a mapped camera's typed cells stay unsure: %s" % (im["path"], cell))
check(probabilities(mapped) != probabilities(far),
      "mapping the colours changes what the model answers")
out = os.path.join(TMP, "off.json")
run = subprocess.run([CLI, "analyze", "--model", model, "--colour-map", "off", "--json", out,
                      *fields], capture_output=True, text=True)
off = json.load(open(out)) if run.returncode == 0 else {"images": []}
check(run.returncode == 0 and probabilities(off) == probabilities(far)
      and all(not im["camera"]["colours_mapped"] for im in off["images"]),
      "--colour-map off: the colours as taken (%d)" % run.returncode)

# the sample fields' own cells as the known camera: nothing unlike (cut at a few sizes
# about the 193 px the analysis measures on them, so that the known cells spread)
known = os.path.join(TMP, "known", "neutrophil")
pictures = os.path.join(TMP, "pictures", "wbc")
os.makedirs(pictures)
os.makedirs(known)
for path in fields:
    os.symlink(path, os.path.join(pictures, os.path.basename(path)))
for diameter in (160, 175, 193, 210, 230):
    crops = os.path.join(TMP, "crops-%d" % diameter)
    subprocess.run([CLI, "cells", "--data", os.path.dirname(pictures), "--cell-diameter",
                    str(diameter), "--size", "128", "--out", crops], check=True,
                   capture_output=True)
    for path in glob.glob(os.path.join(crops, "*", "*.png")):
        shutil.copy(path, os.path.join(known, "%d-%s" % (diameter, os.path.basename(path))))
check(len(os.listdir(known)) >= 5, "cells cut from the sample fields: %d" % len(os.listdir(known)))
save = subprocess.run([CLI, "distance", "--camera", "--model", model, "--fit",
                       os.path.dirname(known), "--calibrate", os.path.dirname(known),
                       "--save", cameras, "--target", os.path.dirname(known)],
                      capture_output=True, text=True)
check(save.returncode == 0 and os.path.exists(cameras), "distance --save: %s" % save.stderr)
check(any(line.startswith("target,") for line in open(cameras)), "--target saved the colours")
run, own = analyze()
check(run.returncode == 0 and "look unlike" not in run.stderr,
      "analysed with its own camera check, nothing said of it: %s" % run.stderr)
check(probabilities(own) == probabilities(plain), "a known camera's calls are as without a check")
for im in own["images"]:
    cam = im.get("camera")
    check(cam is not None and not cam["unlike_training"] and not cam["colours_mapped"],
          "%s: like its own cells' camera, not mapped: %s" % (im["path"], cam))
    for cell in im["cells"]:
        check("camera-unlike-training" not in cell.get("doubt", ""),
              "%s: no camera doubt when the camera is known" % im["path"])
# a map asked for (--colour-map on) on that known camera: mapped, but not doubted for it
out = os.path.join(TMP, "on.json")
run = subprocess.run([CLI, "analyze", "--model", model, "--colour-map", "on", "--json", out,
                      *fields], capture_output=True, text=True)
on = json.load(open(out)) if run.returncode == 0 else {"images": []}
check(run.returncode == 0 and on["images"], "--colour-map on: %s" % run.stderr)
for im in on["images"]:
    cam = im.get("camera", {})
    check(cam.get("colours_mapped") and not cam.get("unlike_training")
          and all("camera-unlike-training" not in c.get("doubt", "") for c in im["cells"]),
          "%s: a map asked for on a known camera is no camera doubt: %s" % (im["path"], cam))

# a damaged file: refused, named, with what to do
with open(cameras, "w") as f:
    f.write(header.replace("threshold,1", "threshold,one"))
run, _ = analyze()
check(run.returncode != 0 and "m-cameras.csv" in run.stderr and "remove it" in run.stderr,
      "a damaged camera check refused (%d: %s)" % (run.returncode, run.stderr))

shutil.rmtree(TMP)
if failures:
    sys.exit("%d check(s) failed" % len(failures))
print("all camera check checks passed")
