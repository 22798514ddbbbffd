"""What Python users expect: the CLI's one-line messages as ValueError, broadcasting, Ctrl-C, the pandas-free
fallback, and the examples and README tour running headless."""
import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import iclab
from conftest import PYTHON, SOURCE_DIR, cli_error, python_env


# (Python call, the same request to the CLI): the ValueError must be the CLI's line, word for word.
ERROR_CASES = [
    (lambda: iclab.theory(alpha=10, tau=-1, kappa=1, rho=0.1),
     ["theory", "--alpha", "10", "--tau", "-1", "--kappa", "1", "--rho", "0.1"]),
    (lambda: iclab.theory(alpha=0, tau=2, kappa=1, rho=0.1),
     ["theory", "--alpha", "0", "--tau", "2", "--kappa", "1", "--rho", "0.1"]),
    (lambda: iclab.theory(alpha=10, tau=2, kappa=0, rho=0.1),
     ["theory", "--alpha", "10", "--tau", "2", "--kappa", "0", "--rho", "0.1"]),
    (lambda: iclab.theory(alpha=10, tau=2, kappa=1, rho=-0.1),
     ["theory", "--alpha", "10", "--tau", "2", "--kappa", "1", "--rho", "-0.1"]),
    (lambda: iclab.theory(alpha=10, tau=2, kappa=1, rho=0.1, lam=-1),
     ["theory", "--alpha", "10", "--tau", "2", "--kappa", "1", "--rho", "0.1", "--lambda", "-1"]),
    (lambda: iclab.theory(alpha=10, tau=1, kappa=1, rho=0.1),
     ["theory", "--alpha", "10", "--tau", "1", "--kappa", "1", "--rho", "0.1"]),
    (lambda: iclab.theory(alpha=np.inf, tau=2, kappa=1, rho=0.1),
     ["theory", "--alpha", "inf", "--tau", "2", "--kappa", "1", "--rho", "0.1"]),
    # The CLI parses every list before it checks any point: the tau list's inf wins over alpha = -1.
    (lambda: iclab.theory(alpha=[-1, 1], tau=[2, np.inf], kappa=1, rho=0.1),
     ["theory", "--alpha", "-1,1", "--tau", "2,inf", "--kappa", "1", "--rho", "0.1"]),
    (lambda: iclab.theory(alpha="lin:1:2", tau=2, kappa=1, rho=0.1),
     ["theory", "--alpha", "lin:1:2", "--tau", "2", "--kappa", "1", "--rho", "0.1"]),
    (lambda: iclab.e_icl(10, 1, 1, 0.1),
     ["theory", "--alpha", "10", "--tau", "1", "--kappa", "1", "--rho", "0.1"]),
    (lambda: iclab.theory(alpha=2, tau=2, kappa=1, rho=0.1, alpha_test=3),
     ["theory", "--alpha", "2", "--tau", "2", "--kappa", "1", "--rho", "0.1", "--alpha-test", "3"]),
    (lambda: iclab.alpha_min("foo", tau=2, kappa=1, rho=0.1),
     ["theory", "--alpha-min", "foo", "--tau", "2", "--kappa", "1", "--rho", "0.1"]),
    (lambda: iclab.theory(d=20, ctrain="power:x", alpha=2, tau=4, kappa=1, rho=0.01),
     ["theory", "--d", "20", "--ctrain", "power:x", "--alpha", "2", "--tau", "4", "--kappa", "1", "--rho", "0.01"]),
    (lambda: iclab.theory(d=20, ctest="spike:20", alpha=2, tau=4, kappa=1, rho=0.01),
     ["theory", "--d", "20", "--ctest", "spike:20", "--alpha", "2", "--tau", "4", "--kappa", "1", "--rho", "0.01"]),
    (lambda: iclab.theory(d=20, ctrain="iso", alpha=2, tau=4, kappa=1, rho=0.01, lam=0.1),
     ["theory", "--d", "20", "--ctrain", "iso", "--alpha", "2", "--tau", "4", "--kappa", "1", "--rho", "0.01",
      "--lambda", "0.1"]),
    (lambda: iclab.theory(ctrain="iso", alpha=2, tau=4, kappa=1, rho=0.01),
     ["theory", "--ctrain", "iso", "--alpha", "2", "--tau", "4", "--kappa", "1", "--rho", "0.01"]),
    (lambda: iclab.theory(d=20, ctrain="iso", alpha=2, tau=1, kappa=1, rho=0.01),
     ["theory", "--d", "20", "--ctrain", "iso", "--alpha", "2", "--tau", "1", "--kappa", "1", "--rho", "0.01"]),
    (lambda: iclab.align(20, "power:0.9", "iso", alpha=[2, 3], tau=4, kappa=1, rho=0.01),
     ["align", "--d", "20", "--ctrain", "power:0.9", "--ctest", "iso", "--alpha", "2,3", "--tau", "4", "--kappa", "1",
      "--rho", "0.01"]),
    (lambda: iclab.heatmap(ptest=0.9, alpha=1, tau=4, rho=0.01, dp=0.1, kappa=-1, d=20),
     ["heatmap", "--d", "20", "--ptest", "0.9", "--alpha", "1", "--tau", "4", "--rho", "0.01", "--dp", "0.1",
      "--kappa", "-1"]),
    (lambda: iclab.kspectrum(1, "iso", alpha=2, tau=4, kappa=1, rho=0.01),
     ["kspectrum", "--d", "1", "--ctrain", "iso", "--alpha", "2", "--tau", "4", "--kappa", "1", "--rho", "0.01"]),
]
SIM = ["simulate", "--alpha", "2", "--tau", "2", "--kappa", "1", "--rho", "0.01"]
ERROR_CASES += [
    (lambda: iclab.simulate(1, 2, 2, 1, 0.01), SIM + ["--d", "1"]),
    (lambda: iclab.simulate(2.5, 2, 2, 1, 0.01), SIM + ["--d", "2.5"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, repeats=0), SIM + ["--d", "8", "--repeats", "0"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, seed=-1), SIM + ["--d", "8", "--seed", "-1"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, seed=2**63), SIM + ["--d", "8", "--seed", str(2**63)]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, seed="1.5"), SIM + ["--d", "8", "--seed", "1.5"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, task_norm="cube"), SIM + ["--d", "8", "--task-norm", "cube"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, assignment="x"), SIM + ["--d", "8", "--assignment", "x"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, solver="lu"), SIM + ["--d", "8", "--solver", "lu"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, error_form="x"), SIM + ["--d", "8", "--error-form", "x"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, lam=-1), SIM + ["--d", "8", "--lambda", "-1"]),
    (lambda: iclab.simulate(8, 2, 1, 1, 0.01), ["simulate", "--d", "8", "--alpha", "2", "--tau", "1", "--kappa", "1",
                                                "--rho", "0.01"]),
    (lambda: iclab.simulate(8, 0.01, 2, 1, 0.01), SIM[:2] + ["0.01"] + SIM[3:] + ["--d", "8"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, ctrain="wishart:x"), SIM + ["--d", "8", "--ctrain", "wishart:x"]),
    (lambda: iclab.simulate(8, 2, 2, 1, 0.01, out="/nonexistent/x.csv"),
     SIM + ["--d", "8", "--out", "/nonexistent/x.csv"]),
    (lambda: iclab.run("/nonexistent.toml"), ["run", "/nonexistent.toml"]),
]


@pytest.mark.parametrize("call,args", ERROR_CASES, ids=[" ".join(a)[:60] for _, a in ERROR_CASES])
def test_bad_input_raises_the_cli_message(call, args):
    expected = cli_error(*args)
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == expected


def test_errors_of_the_module_itself():
    # The CLI's list of figures also has the Transformer ones when built with libtorch; this module's has
    # the linear-model figures it can run.
    with pytest.raises(ValueError, match=r"nofig.*lu2024-fig1"):
        iclab.reproduce("nofig")
    with pytest.raises(ValueError, match=r"^zip: the lists must have one length \(or one value\), got alpha 2, tau 3$"):
        iclab.theory(alpha=[1, 2], tau=[2, 3, 4], kappa=1, rho=0.1, zip=True)
    with pytest.raises(ValueError, match=r"^--ctrain: 'array' is 3 x 3, expected d = 4$"):
        iclab.theory(d=4, ctrain=np.eye(3), alpha=2, tau=4, kappa=1, rho=0.1)
    with pytest.raises(ValueError, match=r"--ctest: .*symmetric"):
        iclab.theory(d=2, ctest=np.array([[1.0, 0.5], [0.0, 1.0]]), alpha=2, tau=4, kappa=1, rho=0.1)
    with pytest.raises(ValueError, match=r"^z: expected 5 x 4 \(n x \(d\+1\)\), got 5 x 3$"):
        iclab.fit(np.zeros((5, 3)), np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match=r"^test: expected 'icl' or 'idg', got 'x'$"):
        iclab.test_error(np.zeros((3, 4)), 5, 0.1, test="x")
    with pytest.raises(ValueError, match=r"^tasks: the IDG test needs"):
        iclab.test_error(np.zeros((3, 4)), 5, 0.1, test="idg")
    with pytest.raises(ValueError, match=r"^--alpha: expected numbers, got \['x'\]$"):
        iclab.theory(alpha=["x"], tau=2, kappa=1, rho=0.1)


def test_product_grid_and_zip():
    grid = iclab.theory(alpha=[1, 10], tau=[0.5, 2, 4], kappa=np.inf, rho=0.01)
    assert len(grid["alpha"]) == 6
    # First argument slowest, as the CLI's rows.
    assert list(grid["alpha"]) == [1, 1, 1, 10, 10, 10] and list(grid["tau"]) == [0.5, 2, 4] * 2
    zipped = iclab.theory(alpha=[1, 10, 100], tau=[0.5, 2, 4], kappa=np.inf, rho=0.01, zip=True)
    assert list(zipped["alpha"]) == [1, 10, 100] and list(zipped["tau"]) == [0.5, 2, 4]
    for row in range(3):
        single = iclab.theory(alpha=zipped["alpha"][row], tau=zipped["tau"][row], kappa=np.inf, rho=0.01)
        assert single["e_icl"][0] == zipped["e_icl"][row]
    # A 2-D array is one list of values (flattened in C order).
    assert len(iclab.theory(alpha=np.array([[1, 2], [3, 4]]), tau=2, kappa=1, rho=0.1)["alpha"]) == 4
    # simulate zips its grid axes the same way.
    sim = iclab.simulate(d=[6, 8], alpha=2, tau=[2, 3], kappa=1, rho=0.01, repeats=1, zip=True)
    assert list(sim["d"]) == [6, 8] and list(sim["tau"]) == [2, 3]


def test_results_without_pandas_are_dicts_of_arrays():
    code = textwrap.dedent("""
        import sys
        sys.modules["pandas"] = None  # as if pandas were not installed
        import iclab, numpy as np
        t = iclab.theory(alpha=[1, 10], tau=2, kappa=0.5, rho=0.01)
        assert type(t) is iclab.Table and isinstance(t, dict), type(t)
        assert list(t) == ["alpha", "tau", "kappa", "rho", "lambda", "e_icl", "e_idg", "g_task"], list(t)
        assert isinstance(t["e_icl"], np.ndarray) and t["e_icl"].dtype == np.float64
        assert t.attrs["meta"]["conventions"] == t.meta["conventions"]
        s = iclab.simulate(6, 2, 2, 1, 0.01, repeats=1)
        assert s["ell"].dtype == np.int64 and s["task_norm"][0] == "gaussian" and s.meta["seed"] == 0
        print("ok")
    """)
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=python_env())
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


# Ctrl-C: a child process starts a long call, the test sends SIGINT once the call has begun, and the child
# must end with KeyboardInterrupt, well before the call could have finished, leaving no output file.
# The child: `kind` (simulate, or run of the experiment file OUT.toml), d, tau and the repetitions come on its
# command line (alpha = 2, kappa = 1, rho = 0.01).
INTERRUPT = textwrap.dedent("""
    import sys, time, iclab
    kind, out, d, tau, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
    print("started", flush=True)
    t0 = time.monotonic()
    try:
        if kind == "simulate":
            iclab.simulate(d, 2, tau, 1, 0.01, repeats=repeats, out=out)
        else:
            iclab.run(out + ".toml", out=out)
    except KeyboardInterrupt:
        print(f"interrupted after {time.monotonic() - t0:.2f} s", flush=True)
        sys.exit(42)
    print("finished", flush=True)
""")


def start_long_call(tmp_path, kind, d, tau, repeats):
    """Starts INTERRUPT in a child process (for `run`, with a one-point experiment file of the same sizes);
    returns (child, out) once the child has imported iclab and begun the call."""
    out = str(tmp_path / ("sim.csv" if kind == "simulate" else "run"))
    if kind == "run":
        with open(out + ".toml", "w") as f:
            f.write(f'name = "long"\ncompute = ["simulation"]\nrepeats = {repeats}\n'
                    f'[parameters]\nd = {d}\nalpha = 2\ntau = {tau}\nkappa = 1\nrho = 0.01\n')
    child = subprocess.Popen([PYTHON, "-c", INTERRUPT, kind, out, str(d), str(tau), str(repeats)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env())
    assert child.stdout.readline().strip() == "started"
    return child, out


def finish(child, timeout):
    """The child's remaining (stdout, stderr); fails, killing it, if it runs on past `timeout` seconds."""
    try:
        return child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        child.kill()
        pytest.fail("the call did not stop on SIGINT")


def assert_no_results(tmp_path, kind, out):
    if kind == "simulate":
        assert sorted(os.listdir(tmp_path)) == []  # neither the CSV nor its meta.json nor a temporary
    else:
        # The runner's crash-safe state: journaled points to resume from, never a results.csv.
        assert not os.path.exists(os.path.join(out, "results.csv"))


@pytest.mark.parametrize("kind", ["simulate", "run"])
def test_ctrl_c_raises_keyboard_interrupt_and_leaves_no_file(tmp_path, kind):
    # About 10^4 repetitions of ~0.1 s: hours unless interrupted.
    child, out = start_long_call(tmp_path, kind, d=40, tau=2, repeats=100000)
    time.sleep(1.5)  # let the call get going (imports are done: "started" comes after them)
    child.send_signal(signal.SIGINT)
    stdout, stderr = finish(child, timeout=120)
    assert child.returncode == 42, (stdout, stderr)
    assert stdout.startswith("interrupted after"), stdout
    assert_no_results(tmp_path, kind, out)


# Ctrl-C inside one long repetition: at d = 120, tau = 4 one repetition (n = 57 600 contexts, a CG fit of
# 14 520 unknowns) takes 4-8 s here; before the library polled inside a repetition, SIGINT took 3.7 s to
# stop it. The token is now polled per block of contexts and per CG iteration (~0.1 s at this size) and
# the handler every 50 ms: measured 0.09-0.16 s. The bound of 1.5 s leaves a margin of ~10x for a loaded
# machine, and is still well below the repetition, so it fails if the polls inside it go away.
@pytest.mark.parametrize("kind", ["simulate", "run"])
def test_ctrl_c_stops_inside_a_long_repetition_within_a_second(tmp_path, kind):
    child, out = start_long_call(tmp_path, kind, d=120, tau=4, repeats=1000)  # for run: one long point
    time.sleep(2.0)  # inside the first repetition (drawn in ~0.1 s, then fitted for seconds)
    sent = time.monotonic()
    child.send_signal(signal.SIGINT)
    line = child.stdout.readline().strip()
    delay = time.monotonic() - sent
    _, stderr = finish(child, timeout=60)
    assert line.startswith("interrupted after") and child.returncode == 42, (line, stderr)
    assert delay < 1.5, f"KeyboardInterrupt {delay:.2f} s after SIGINT"
    assert_no_results(tmp_path, kind, out)
    if kind == "run":
        assert os.path.exists(os.path.join(out, "results.journal"))  # resumable, as after a kill


EXAMPLES = os.path.join(SOURCE_DIR, "examples", "python")


@pytest.mark.parametrize("script", sorted(f for f in os.listdir(EXAMPLES) if f.endswith(".py")))
def test_examples_draw_their_figures_headless(tmp_path, script):
    proc = subprocess.run([PYTHON, os.path.join(EXAMPLES, script), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=python_env(), cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    pngs = [f for f in os.listdir(tmp_path) if f.endswith(".png")]
    assert pngs, os.listdir(tmp_path)
    assert all(os.path.getsize(tmp_path / f) > 10000 for f in pngs)


def test_readme_python_tour_runs(tmp_path):
    """The README's Python tour, run as written (in a scratch directory)."""
    text = open(os.path.join(SOURCE_DIR, "README.md"), encoding="utf-8").read()
    match = re.search(r"^## A Python tour\n.*?^```python\n(.*?)^```", text, re.S | re.M)
    assert match, "README.md: no ```python block under '## A Python tour'"
    code = match.group(1)
    assert 8 <= len([l for l in code.splitlines() if l.strip() and not l.startswith("#")]) <= 14
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, env=python_env(), cwd=tmp_path,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr


def test_long_calls_release_the_gil():
    """Another thread runs Python while simulate computes. With the forced hand-over of the GIL switched
    off, this thread can run during the call only if the call released the GIL; otherwise it runs again
    once the worker has finished, and finds it dead."""
    import threading
    started = threading.Event()

    def work():
        started.set()
        iclab.simulate(30, 2, 2, 1, 0.01, repeats=32, solver="direct")

    old = sys.getswitchinterval()
    sys.setswitchinterval(100.0)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        running = worker.is_alive()
        worker.join()
    finally:
        sys.setswitchinterval(old)
    assert running


def test_cmake_install_puts_the_module_into_site_packages(tmp_path):
    """`cmake --install build --prefix ~/.local` (the README's line) gives an importable module with no
    PYTHONPATH: Python reads ~/.local/lib/python3.X/site-packages by itself."""
    build = os.environ.get("ICLAB_BUILD_DIR")
    if not build:
        pytest.fail("ICLAB_BUILD_DIR must name the build directory (CTest sets it)")
    env = python_env()
    env.pop("PYTHONPATH", None)
    env["HOME"] = str(tmp_path)
    subprocess.run(["cmake", "--install", build, "--prefix", str(tmp_path / ".local")], check=True, env=env,
                   capture_output=True)
    proc = subprocess.run([PYTHON, "-c", "import iclab; print(iclab.__file__); print(iclab.e_icl(10, 2, 0.5, 0.01))"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    path, value = proc.stdout.split()
    assert path.startswith(str(tmp_path / ".local" / "lib")) and "site-packages" in path
    assert float(value) == iclab.e_icl(10, 2, 0.5, 0.01)
