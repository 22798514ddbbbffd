#!/usr/bin/env python3
"""Runs every command of the README's tour and fails naming any that exits non-zero.

Usage: readme_commands.py ICLAB_BINARY README.md

The tour is the first ```sh block after the heading "## A 20-line tour"; every line in it that
starts with "iclab " is a command. They run in order with the given binary in one fresh temporary
directory, so --out files land there and a later command can read an earlier one's. A command with
--out must leave that file and FILE.meta.json behind, any other must print something. Two outputs
are also checked against their comments: `iclab repr train` must end below 1e-3 of its starting
distance to ridge, and a linear-attention ensemble over a tau list must be 12 models whose seeds'
mean ICL error peaks at tau = 1.
"""
import csv
import io
import os
import shlex
import subprocess
import sys
import tempfile
import time

HEADING = "## A 20-line tour"
# Fewer would mean the extraction broke, not that the tour got shorter.
MIN_COMMANDS = 10


def tour_commands(readme_path):
    lines = open(readme_path, encoding="utf-8").read().splitlines()
    try:
        start = lines.index(HEADING)
    except ValueError:
        sys.exit(f"{readme_path}: no line '{HEADING}'")
    in_block = False
    commands = []
    for line in lines[start + 1:]:
        if not in_block:
            if line.startswith("## "):
                break
            in_block = line.strip() == "```sh"
            continue
        if line.strip() == "```":
            return commands
        if line.startswith("iclab "):
            commands.append(line)
    sys.exit(f"{readme_path}: no closed ```sh block after '{HEADING}'")


def rows(stdout):
    return list(csv.DictReader(io.StringIO(stdout)))


def check_claim(argv, stdout):
    """What the comment above the command says, where a number can show it; None when it holds."""
    if argv[1:3] == ["repr", "train"]:
        table = rows(stdout)
        first, last = (float(table[i]["pred_to_ridge_in"]) for i in (0, -1))
        if not last < 1e-3 * first:
            return f"pred_to_ridge_in {first:.3g} -> {last:.3g}: did not converge to ridge"
    if argv[1] == "train" and "linear-attention" in argv and "--tau" in argv \
            and "," in argv[argv.index("--tau") + 1]:
        by_tau = {}
        for row in rows(stdout):
            by_tau.setdefault(float(row["tau"]), []).append(float(row["icl_error"]))
        if sum(len(errors) for errors in by_tau.values()) != 12:
            return f"expected 12 models, got {sum(len(e) for e in by_tau.values())}"
        means = {tau: sum(errors) / len(errors) for tau, errors in by_tau.items()}
        if max(means, key=means.get) != 1.0:
            return f"mean ICL error by tau {means}: no peak at tau = 1"
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    binary = os.path.abspath(sys.argv[1])
    commands = tour_commands(sys.argv[2])
    if len(commands) < MIN_COMMANDS:
        sys.exit(f"found {len(commands)} tour commands, expected at least {MIN_COMMANDS}")
    failures = []
    total = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="iclab-readme-") as work:
        for command in commands:
            argv = shlex.split(command)
            argv[0] = binary
            began = time.monotonic()
            result = subprocess.run(argv, cwd=work, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
            seconds = time.monotonic() - began
            print(f"{seconds:6.1f} s  exit {result.returncode}  {command}", flush=True)
            problem = None
            if result.returncode != 0:
                problem = f"exit {result.returncode}"
            elif not result.stdout.strip() and "--out" not in argv:
                problem = "no output on stdout"
            elif "--out" in argv:
                out = argv[argv.index("--out") + 1]
                for written in (out, out + ".meta.json"):
                    if not os.path.isfile(os.path.join(work, written)):
                        problem = f"--out file {written} not written"
            if problem is None:
                try:
                    problem = check_claim(argv, result.stdout)
                except (KeyError, ValueError, IndexError) as error:
                    problem = f"unexpected output ({error!r})"
            if problem:
                failures.append(command)
                print(f"FAILED ({problem}): {command}\n--- stderr:\n{result.stderr}"
                      f"--- stdout (first 2000 characters):\n{result.stdout[:2000]}", flush=True)
    print(f"{len(commands)} tour commands in {time.monotonic() - total:.1f} s")
    if failures:
        print("README tour commands that failed:\n" + "\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
