"""What the Python CLI tests share (test-export.py, test-import.py): failed checks
collected and printed, and smearscope-cli run on one test store."""
import json
import subprocess
import sys

failures = []


def distinct_copy(src, dst, tag):
    """Copy the JPEG src to dst as another picture: the same pixels with a comment (a COM
    segment after the start marker) naming tag, so another SHA-256. A case takes a
    picture once (the same SHA-256 twice is refused); tests that want several fields from
    one sample make them this way."""
    with open(src, "rb") as f:
        data = f.read()
    assert data[:2] == b"\xff\xd8", src + " is not a JPEG"
    text = ("smearscope test field " + str(tag)).encode()
    segment = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
    with open(dst, "wb") as f:
        f.write(data[:2] + segment + data[2:])


def check(condition, what):
    """Note a failed check (the test goes on, and exits 1 at the end)."""
    if not condition:
        failures.append(what)
        print("FAIL:", what)


class Cli:
    """smearscope-cli with --db store on every command."""

    def __init__(self, program, db):
        self.program, self.db = program, db

    def __call__(self, *args, ok=True):
        run = subprocess.run([self.program, *args, "--db", self.db], capture_output=True,
                             text=True)
        if ok and run.returncode != 0:
            sys.exit("smearscope-cli %s failed (%d): %s" % (" ".join(args), run.returncode,
                                                             run.stderr))
        return run

    def json(self, *args):
        return json.loads(self(*args).stdout)
