"""Shared helpers: the `iclab` program built beside the module (ICLAB_BINARY, set by CTest) as the
independent path to the library's numbers, and its CSVs parsed as text."""
import csv
import io
import os
import subprocess
import sys

import pytest

SOURCE_DIR = os.environ.get("ICLAB_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))


def binary():
    path = os.environ.get("ICLAB_BINARY")
    if not path or not os.path.exists(path):
        pytest.fail("ICLAB_BINARY must name the built `iclab` program (CTest sets it)")
    return path


def cli(*args, cwd=None, expect=0):
    """Runs `iclab ARGS`; returns (stdout, stderr). Fails unless the exit code is `expect`."""
    proc = subprocess.run([binary(), *args], capture_output=True, text=True, cwd=cwd)
    assert proc.returncode == expect, f"iclab {' '.join(args)}: exit {proc.returncode}\n{proc.stderr}"
    return proc.stdout, proc.stderr


def cli_rows(*args):
    """The CSV `iclab ARGS` prints: (header, rows of text cells)."""
    out, _ = cli(*args)
    reader = csv.reader(io.StringIO(out))
    header = next(reader)
    return header, list(reader)


def cli_error(*args):
    """The one-line message of a refused command, without the program's "iclab: error: " prefix."""
    _, err = cli(*args, expect=2)
    line = err.strip().splitlines()[-1]
    prefix = "iclab: error: "
    assert line.startswith(prefix), err
    return line[len(prefix):]


def python_env():
    env = dict(os.environ)
    env["MPLBACKEND"] = "Agg"
    return env


PYTHON = sys.executable
