"""What the Python CLI tests share (test-export.py, test-import.py): failed checks
collected and printed, and smearscope-cli run on one test store."""
import json
import subprocess
import sys

failures = []


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
