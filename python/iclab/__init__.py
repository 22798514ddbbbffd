"""iclab: the exactly solvable theory of in-context learning, from Python.

The same library as the ``iclab`` program, with its vocabulary and column names:

    theory        isotropic theory (Lu et al.), or with ctrain/ctest the task-alignment theory (Letey et al.)
    alpha_min     the context length alpha at which e_ICL (or e_IDG) is minimal
    align         the four alignment measures of test covariances against C_train
    heatmap       optimal pretraining (Letey et al. Fig 4)
    kspectrum     eigenvalues of the alignment matrix K against C_train's (Fig 5)
    simulate      Gamma* fits on sampled pretraining data, exact ICL/IDG errors
    sample_contexts, fit, test_error   the building blocks of simulate, for your own experiments
    run           an experiment file (crash-safe, resumable); reproduce: a figure of the papers
    e_icl, e_idg  one isotropic theory value per point, NumPy-broadcast (scalars in, a float out)

Conventions (recorded in every result's metadata, ``result.attrs["meta"]``): x ~ N(0, I_d/d);
y = <x, w> + eps with eps ~ N(0, rho) (rho is the noise VARIANCE); l = int(alpha d), k = int(kappa d),
n = int(tau d^2); kappa = inf is a fresh task for every context; lam is the ridge with the fit's
(n/d) lam ||Gamma||_F^2 normalisation. Errors are mean squared errors of the next label.

Every numeric argument takes a scalar, a sequence or NumPy array, or the CLI's text forms ("0.5,1,2",
"lin:START:STOP:COUNT", "log:START:STOP:COUNT"). Several lists make a product grid (the first argument
varying slowest, one row per point, as the CLI); ``zip=True`` pairs them instead (equal lengths; scalars
repeat). Results are pandas DataFrames when pandas is importable, else ``Table``s (dicts of NumPy arrays),
both with the metadata in ``.attrs["meta"]``. Bad input raises ValueError with the CLI's one-line message.
"""

import csv as _csv
import json as _json
import numbers as _numbers
import os as _os

import numpy as _np

from . import _core
from ._core import Covariance, e_icl, e_idg

try:
    import pandas as _pd
except ImportError:  # pandas is optional: results are then Tables (dicts of NumPy arrays)
    _pd = None

__version__ = _core.version()
__all__ = [
    "Covariance", "Table", "align", "alpha_min", "conventions", "covariance", "e_icl", "e_idg", "fit", "heatmap",
    "kspectrum", "presets", "reproduce", "run", "sample_contexts", "simulate", "test_error", "theory",
]


class Table(dict):
    """Columns (name -> NumPy array, in column order) and the run's metadata in ``.attrs["meta"]``:
    what iclab returns when pandas is not installed."""

    def __init__(self, columns, meta):
        super().__init__(columns)
        self.attrs = {"meta": meta}

    @property
    def meta(self):
        return self.attrs["meta"]


def conventions():
    """The conventions iclab states in every output (a dict)."""
    return _json.loads(_core.conventions())


def _result(raw):
    meta = raw["meta"]
    meta = _json.loads(meta) if isinstance(meta, str) else meta
    return _frame(raw["columns"], meta)


def _frame(columns, meta):
    if _pd is not None:
        df = _pd.DataFrame(columns, copy=False)
        df.attrs["meta"] = meta
        return df
    return Table(columns, meta)


# ----------------------------------------------------------------------------------- argument handling

def _values(value, name, allow_infinity=False):
    """A 1-D float64 array from a scalar, a sequence, an array or the CLI's list text."""
    option = "--" + name.replace("_", "-")
    if isinstance(value, str):
        return _np.asarray(_core.parse_values(value, option, allow_infinity), dtype=float)
    if value is None:
        raise ValueError(f"{option}: required (a value or a list)")
    try:
        array = _np.asarray(value, dtype=float).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"{option}: expected numbers, got {value!r}") from None
    if array.size == 0:
        raise ValueError(f"{option}: give at least one value")
    return array


def _integers(value, name):
    option = "--" + name
    if isinstance(value, str):
        return [int(v) for v in _core.parse_integers(value, option)]
    out = []
    for v in _np.asarray(value).ravel().tolist():
        if isinstance(v, bool) or not isinstance(v, _numbers.Real):
            raise ValueError(f"{option}: expected integers, got {v!r}")
        if isinstance(v, float):
            # The CLI's own check and message for a non-integer value.
            _core.parse_integers(repr(v) if _np.isfinite(v) else str(v), option)
        out.append(int(v))
    if not out:
        raise ValueError(f"{option}: give at least one value")
    return out


def _grid(columns, zip_):
    """Product grid (first column slowest) or zip of the given 1-D arrays; returns flat arrays."""
    if zip_:
        lengths = {len(a) for a in columns.values() if len(a) != 1}
        if len(lengths) > 1:
            described = ", ".join(f"{k} {len(a)}" for k, a in columns.items() if len(a) != 1)
            raise ValueError(f"zip: the lists must have one length (or one value), got {described}")
        n = lengths.pop() if lengths else 1
        return {k: _np.ascontiguousarray(_np.broadcast_to(a, (n,))) for k, a in columns.items()}
    mesh = _np.meshgrid(*columns.values(), indexing="ij")
    return {k: m.ravel() for k, m in zip(columns.keys(), mesh)}


def _is_array(x):
    return isinstance(x, _np.ndarray)


def _covariances(arg, d, option, keep_text=False):
    """A list of Covariance (or spec texts with keep_text) from a spec text ("a;b"), an array (matrix or
    diagonal), a (label, array) pair, a Covariance, or a list of these."""
    if arg is None:
        return []
    if isinstance(arg, str):
        return [arg] if keep_text else list(_core.parse_covariances(arg, d, option))
    if isinstance(arg, Covariance):
        return [arg]
    if _is_array(arg):
        return [_core.covariance_from_array(arg, "array", option)]
    if isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[0], str) and not isinstance(arg[1], str):
        return [_core.covariance_from_array(_np.asarray(arg[1], dtype=float), arg[0], option)]
    if isinstance(arg, (list, tuple)):
        out = []
        for i, item in enumerate(arg):
            if _is_array(item):
                out.append(_core.covariance_from_array(item, f"array:{i}", option))
            else:
                out.extend(_covariances(item, d, option, keep_text))
        return out
    raise ValueError(f"{option}: expected a spec text, a NumPy matrix or diagonal, or a list of them, got {arg!r}")


def _infer_d(d, *args):
    """d as given, else the size of the first covariance given as an array or Covariance."""
    if d is not None:
        return int(_integers(d, "d")[0]) if not isinstance(d, _numbers.Integral) else int(d)
    for arg in args:
        items = arg if isinstance(arg, list) else [arg]
        for item in items:
            if isinstance(item, tuple) and len(item) == 2:
                item = item[1]
            if isinstance(item, Covariance):
                return item.d
            if _is_array(item) or isinstance(item, (list, tuple)) and item and not isinstance(item[0], str):
                return int(_np.asarray(item, dtype=float).shape[0])
    return None


def _single_d(d, *covariance_args):
    d = _infer_d(d, *covariance_args)
    if d is None:
        raise ValueError("--d: required with --ctrain/--ctest")
    if d < 2:
        raise ValueError("--d: must be an integer >= 2")
    return d


def covariance(spec, d=None, label=None):
    """A task covariance C (t ~ N(0, C)) from a spec text (``"power:0.9"``, ``"rot:7:spike:0"``, ...;
    normalised to trace d unless ``raw:``) for dimension d, or from a NumPy d x d matrix or length-d
    diagonal (used as given). Refused when not square, not finite, not symmetric or not PSD."""
    if isinstance(spec, str):
        if d is None:
            raise ValueError("--d: required with --ctrain/--ctest")
        items = _core.parse_covariances(spec, int(d), "--ctrain")
        if len(items) != 1:
            raise ValueError("--ctrain: expected one covariance, got a list")
        return items[0]
    return _core.covariance_from_array(_np.asarray(spec, dtype=float), label or "array", "--ctrain")


# ----------------------------------------------------------------------------------- theory

def theory(alpha=None, tau=None, kappa=None, rho=None, lam=0.0, *, d=None, ctrain=None, ctest=None,
           alpha_test=None, zip=False):
    """Asymptotic (d -> inf) ICL and IDG errors on a grid, as ``iclab theory``.

    Isotropic tasks (Lu et al.), columns alpha, tau, kappa, rho, lambda, e_icl, e_idg, g_task:
      alpha = l/d (context length ratio), tau = n/d^2 (pretraining contexts ratio), kappa = k/d (task
      diversity; inf = a fresh task per context), rho = label-noise variance, lam = ridge lambda
      (0: the ridgeless closed forms; > 0: the self-consistent root, and iclab's ridge IDG formula).
      g_task = e_icl - e_idg. The grid is the product over alpha, tau, kappa, rho, lam (or zip=True).

    Task covariances (Letey et al.; ridgeless, lam must be 0) when ctrain or ctest is given: each a spec
    text ("linear;spike:0", ';'-separated lists), a NumPy d x d matrix or length-d diagonal, a
    (label, array) pair, or a list of these; d is required for specs (inferred from arrays). alpha_test
    is the test context length ratio (default alpha). Columns d, ctrain, ctest, alpha, alpha_test, tau,
    kappa, rho, e_icl, e_idg, e_scalar, e_misalign, q, lambda_tilde, sigma; one row per
    (ctrain, grid point, ctest), the grid over alpha, alpha_test, tau, kappa, rho.
    """
    if ctrain is not None or ctest is not None:
        lams = _values(lam, "lambda")
        if _np.any(lams != 0.0):
            raise ValueError("--lambda: the task-alignment theory is ridgeless (lambda -> 0+); only 0 is allowed")
        if alpha is None:
            raise ValueError("--alpha: required (a value or a list)")
        dim = _single_d(d, ctrain, ctest)
        trains = _covariances("iso" if ctrain is None else ctrain, dim, "--ctrain")
        tests = _covariances("iso" if ctest is None else ctest, dim, "--ctest")
        columns = {"alpha": _values(alpha, "alpha"),
                   "alpha_test": _np.array([_np.nan]) if alpha_test is None else _values(alpha_test, "alpha_test"),
                   "tau": _values(tau, "tau"), "kappa": _values(kappa, "kappa", True), "rho": _values(rho, "rho")}
        g = _grid(columns, zip)
        return _result(_core.alignment_theory(dim, trains, tests, g["alpha"], g["alpha_test"], g["tau"], g["kappa"],
                                              g["rho"]))
    if alpha_test is not None:
        raise ValueError("--alpha-test: needs the task-alignment theory (--ctrain/--ctest)")
    if alpha is None:
        raise ValueError("--alpha: required (a value or a list)")
    columns = {"alpha": _values(alpha, "alpha"), "tau": _values(tau, "tau"), "kappa": _values(kappa, "kappa", True),
               "rho": _values(rho, "rho"), "lambda": _values(lam, "lambda")}
    g = _grid(columns, zip)
    g.update(_core.isotropic(g["alpha"], g["tau"], g["kappa"], g["rho"], g["lambda"]))  # e_icl, e_idg, g_task
    meta = _json.loads(_core.conventions())
    meta = {"program": "iclab (Python)", "version": _core.version(), "git": _core.git_describe(), "call": "theory",
            "conventions": meta, "kind": "isotropic asymptotic theory (d -> infinity)",
            "formulas": "lambda = 0: ridgeless closed forms (Lu et al.); lambda > 0: ridge e_ICL via the "
                        "self-consistent root, ridge e_IDG = tau q (iclab, docs/ridge-idg.md)"}
    return _frame(g, meta)


def alpha_min(what="icl", tau=None, kappa=None, rho=None, lam=0.0, *, zip=False):
    """The context length ratio alpha at the interior minimum of e_ICL (what="icl") or e_IDG ("idg") of the
    isotropic theory, as ``iclab theory --alpha-min``: a 361-point log grid over alpha in [1e-3, 1e6],
    refined by Brent. NaN where the error is monotone in alpha. Columns tau, kappa, rho, lambda and
    alpha_min_icl or alpha_min_idg (formerly alpha_min; docs/columns.md)."""
    columns = {"tau": _values(tau, "tau"), "kappa": _values(kappa, "kappa", True), "rho": _values(rho, "rho"),
               "lambda": _values(lam, "lambda")}
    g = _grid(columns, zip)
    g.update(_core.alpha_min(what, g["tau"], g["kappa"], g["rho"], g["lambda"]))  # checks `what` first
    meta = {"program": "iclab (Python)", "version": _core.version(), "git": _core.git_describe(),
            "call": "alpha_min", "conventions": conventions(),
            "alpha_min": {"observable": what,
                          "search": "log grid alpha in [1e-3, 1e6], 40 points per decade, then Brent",
                          "empty_means": "monotone in alpha over the search range (NaN here)"}}
    return _frame(g, meta)


def _one(value, name, message):
    v = _values(value, name)
    if len(v) != 1:
        raise ValueError(message)
    return float(v[0])


def align(d=None, ctrain=None, ctest=None, alpha=None, tau=None, kappa=None, rho=None, *, alpha_test=None):
    """The alignment measures of each C_test against C_train (Letey et al. §4), as ``iclab align``: columns
    ctest, kappa, e_icl, e_misalign (<C_test K>), resolvent (<C_test F_kappa(sigma)>), trace
    (<C_train^-1 C_test>, inf when C_train is singular), inv_cka (1/CKA). One value each of alpha, tau and
    rho; kappa may be a list."""
    dim = _single_d(d, ctrain, ctest)
    if ctrain is None:
        raise ValueError("--ctrain: required")
    if ctest is None:
        raise ValueError("--ctest: required")
    trains = _covariances(ctrain, dim, "--ctrain")
    if len(trains) != 1:
        raise ValueError("--ctrain: expected one covariance, got a list")
    tests = _covariances(ctest, dim, "--ctest")
    msg = "--alpha/--tau/--rho: one value each for align (kappa may be a list)"
    a, t, r = _one(alpha, "alpha", msg), _one(tau, "tau", msg), _one(rho, "rho", msg)
    kappas = _values(kappa, "kappa", True)
    at = _np.nan if alpha_test is None else _one(alpha_test, "alpha_test", "--alpha-test: expected one value")
    return _result(_core.align(trains[0], tests, a, at, t, list(kappas), r))


def heatmap(ptest=None, alpha=None, tau=None, rho=None, dp=None, kappa=None, *, d=100):
    """Optimal pretraining (Letey et al. Fig 4), as ``iclab heatmap``: C_test = power:ptest, C_train =
    power:(ptest + dp), both trace d; columns dp, kappa, e_icl, e_matched (C_train = C_test) and
    improvement_pct = -100 (e_icl - e_matched)/e_matched, dp-major."""
    def one(v, name):
        return _one(v, name, f"--{name}: expected one value")
    return _result(_core.heatmap(_single_d(d), one(ptest, "ptest"), one(alpha, "alpha"), one(tau, "tau"),
                                 one(rho, "rho"), list(_values(dp, "dp")), list(_values(kappa, "kappa", True))))


def kspectrum(d=None, ctrain=None, alpha=None, tau=None, kappa=None, rho=None, *, zip=False):
    """The eigenvalues k_i of the alignment matrix K = q F + (q lambda~ - sigma^2) F' against C_train's
    eigenvalues (Letey et al. Fig 5), as ``iclab kspectrum``: columns alpha, tau, kappa, rho, index,
    train_eigenvalue, k_eigenvalue; one row per eigen-direction and grid point."""
    dim = _single_d(d, ctrain)
    if ctrain is None:
        raise ValueError("--ctrain: required")
    trains = _covariances(ctrain, dim, "--ctrain")
    if len(trains) != 1:
        raise ValueError("--ctrain: expected one covariance, got a list")
    columns = {"alpha": _values(alpha, "alpha"), "tau": _values(tau, "tau"), "kappa": _values(kappa, "kappa", True),
               "rho": _values(rho, "rho")}
    g = _grid(columns, zip)
    return _result(_core.kspectrum(trains[0], g["alpha"], g["tau"], g["kappa"], g["rho"]))


# ----------------------------------------------------------------------------------- simulation

def _seed_text(seed):
    if isinstance(seed, bool):
        raise ValueError(f"--seed: expected an integer, got {seed!r}")
    if isinstance(seed, _numbers.Integral):
        return str(int(seed))
    return str(seed)


def simulate(d=None, alpha=None, tau=None, kappa=None, rho=None, lam=0.0, *, repeats=10, seed=0,
             task_norm="gaussian", assignment="random", solver="auto", ctrain=None, ctest=None,
             error_form="exact", with_theory=False, zip=False, progress=False, out=None):
    """Fit Gamma* on sampled pretraining data and evaluate its exact ICL/IDG errors, as ``iclab simulate``.

    d: token dimension (integer >= 2); alpha, tau, kappa, rho as in theory(); the grid is the product
    over d, alpha, kappa, tau, rho (the CLI's order; zip=True pairs them). lam: ridge lambda, a list
    reuses each draw. repeats: independent draws per point (mean and population std, ddof = 0). seed:
    an integer in [0, 2^63); results depend only on (seed, point, repetition), never on threads or the
    grid. task_norm: "gaussian" (w ~ N(0, I)) | "sphere" (||w|| = sqrt(d), the authors' code).
    assignment: "random" | "balanced". solver: "auto" | "direct" | "cg" | "dual". ctrain / ctest: task
    covariances as in theory() (spec texts are parsed for each d). error_form: "exact" | "asymptotic".
    with_theory adds the theory columns. progress: a progress bar on stderr. out: also write the CSV and
    OUT.meta.json, atomically, once everything is computed.

    Columns: d, [ctrain, ctest,] alpha, kappa, tau, rho, lambda, repeats, icl_mean, icl_std, idg_mean,
    idg_std, [e_icl, e_idg,] ell, k, n, task_norm, assignment, seed (docs/columns.md; with ctrain/ctest
    e_icl, e_idg are the ridgeless task-alignment theory, formerly e_icl_ridgeless, e_idg_ridgeless).
    The metadata holds the seed and every fit's solver, iterations and residual (``attrs["meta"]["points"]``).
    Ctrl-C stops it after the running repetitions (KeyboardInterrupt); nothing is written then.
    """
    if out is not None and not isinstance(out, (str, _os.PathLike)):
        raise ValueError(f"--out: expected a path, got {out!r}")
    out = "" if out is None else _os.fspath(out)
    if isinstance(repeats, bool) or not isinstance(repeats, _numbers.Integral):
        raise ValueError("--repeats: must be an integer in [1, 10000000]")
    columns = {"d": _np.asarray(_integers(d, "d"), dtype=float), "alpha": _values(alpha, "alpha"),
               "kappa": _values(kappa, "kappa", True), "tau": _values(tau, "tau"), "rho": _values(rho, "rho")}
    lams = _values(lam, "lambda")
    g = _grid(columns, zip)
    ds = [int(v) for v in g["d"]]
    train = None
    if ctrain is not None:
        trains = _covariances(ctrain, None, "--ctrain", keep_text=True)
        if len(trains) != 1:
            raise ValueError("--ctrain: expected one covariance, got a list")
        train = trains[0]
    tests = _covariances(ctest, None, "--ctest", keep_text=True)
    return _result(_core.simulate(ds, list(g["alpha"]), list(g["kappa"]), list(g["tau"]), list(g["rho"]),
                                  list(lams), int(repeats), _seed_text(seed), task_norm, assignment, solver, train,
                                  tests, error_form, bool(with_theory), bool(progress), out))


def sample_contexts(d, alpha, tau, kappa, rho, *, seed=0, repetition=0, task_norm="gaussian",
                    assignment="random", ctrain=None):
    """The pretraining data of one repetition of simulate() at one point, exactly as simulate draws it:
    a dict with x_query (n x d), z (n x (d+1), z = [(d/l) sum y_i x_i ; (1/l) sum y_i^2]), y_query (n),
    tasks (k x d, the pool), task_of (n, each context's task), and ell, k, n, seed, repetition.
    fit(x_query, z, y_query, lam) then test_error() reproduce simulate's numbers bit for bit."""
    train = None
    if ctrain is not None:
        items = _covariances(ctrain, None, "--ctrain", keep_text=True)
        if len(items) != 1:
            raise ValueError("--ctrain: expected one covariance, got a list")
        train = items[0]
    return _core.sample_contexts(int(_integers(d, "d")[0]), _one(alpha, "alpha", "--alpha: expected one value"),
                                 _one(tau, "tau", "--tau: expected one value"),
                                 float(_values(kappa, "kappa", True)[0]), _one(rho, "rho", "--rho: expected one value"),
                                 _seed_text(seed), int(repetition), task_norm, assignment, train)


def fit(x_query, z, y_query, lam=0.0, *, solver="auto"):
    """Gamma* = argmin sum_mu (y_mu - <Gamma, x_mu z_mu^T>)^2 + (n/d) lam ||Gamma||_F^2 on the given arrays
    (x_query n x d, z n x (d+1), y_query n). lam a scalar: a dict {"lambda", "gamma" (d x (d+1)),
    "report" (solver, iterations, residual, seconds)}; lam a list or array: a list of them, one per
    value, sharing the expensive part of the solve (a lambda path). The arrays are copied once, into the
    solver's own storage (no conversion first for Fortran-ordered float64, which sample_contexts returns);
    the returned gamma is the solver's result handed to NumPy without a copy."""
    scalar = isinstance(lam, _numbers.Real) and not isinstance(lam, bool)
    lams = _values(lam, "lambda")
    fits = _core.fit(x_query, z, y_query, list(lams), solver)
    for f in fits:
        f["report"] = _json.loads(f["report"])
    return fits[0] if scalar else fits


def test_error(gamma, ell, rho, *, test="icl", tasks=None, ctest=None, task_norm="gaussian", error_form="exact"):
    """The exact test error rho + (1/d) E||w - Gamma z||^2 of a given Gamma (d x (d+1)) with integer test
    context length ell (no Monte Carlo). test="icl": fresh tasks, isotropic (task_norm) or t ~ N(0, ctest);
    test="idg": tasks uniform over the given pool ``tasks`` (k x d). error_form: "exact" | "asymptotic"."""
    cov = None
    if ctest is not None:
        d = _np.asarray(gamma).shape[0]
        items = _covariances(ctest, d, "--ctest")
        if len(items) != 1:
            raise ValueError("--ctest: expected one covariance, got a list")
        cov = items[0]
    return _core.test_error(gamma, int(ell), float(rho), test, tasks, cov, task_norm, error_form)


# ----------------------------------------------------------------------------------- experiment files, figures

def _read_csv(path):
    """A results CSV as columns: int64 where every cell is an integer, float64 where every cell is a number
    (empty: NaN), else an object array of str."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = _csv.reader(f)
        header = next(reader)
        rows = list(reader)
    columns = {}
    for c, name in enumerate(header):
        cells = [row[c] for row in rows]
        try:
            columns[name] = _np.array([int(v) for v in cells], dtype=_np.int64) if cells else _np.zeros(0)
            continue
        except ValueError:
            pass
        try:
            columns[name] = _np.array([float(v) if v != "" else _np.nan for v in cells], dtype=float)
        except ValueError:
            columns[name] = _np.array(cells, dtype=object)
    return columns


def _load_results(path):
    meta_path = path + ".meta.json"
    meta = {}
    if _os.path.exists(meta_path):
        with open(meta_path, encoding="utf-8") as f:
            meta = _json.load(f)
    return _frame(_read_csv(path), meta)


def run(path, out=None, *, shard="0/1", progress=False):
    """Run (or resume) an experiment file, as ``iclab run PATH --out OUT``: results go to OUT (default: the
    file's ``output``, else its ``name``) crash-safely; returns the results (of this shard) with the run's
    metadata plus ``attrs["meta"]["summary"]``. Ctrl-C raises KeyboardInterrupt; the finished points stay
    journaled and the same call resumes (results.csv appears only when the run is complete). The linear
    model's quantities and Yang et al.'s torch-free repr_gap run here; Transformer and repr_training files
    need the `iclab-nn` program (ValueError)."""
    path = _os.fspath(path)
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        raise ValueError(f"EXPERIMENT: cannot read '{path}'") from None
    summary = _core.run(text, path, "" if out is None else _os.fspath(out), shard, bool(progress))
    result = _load_results(summary["results_path"])
    result.attrs["meta"]["summary"] = dict(summary)
    return result


def presets():
    """The figures reproduce() knows: a list of (name, description)."""
    return [tuple(p) for p in _core.presets()]


def reproduce(name, quick=False, *, out=None, plot_only=False, reference_data=None, progress=False):
    """Reproduce a figure of the linear-model papers, as ``iclab reproduce NAME [--quick]``: runs its
    experiment files (resumable) and draws NAME.png/.svg/.gp under OUT (default reproduce/NAME, or
    reproduce/NAME-quick). Returns {"dir", "figure" (the .png path), "results": {experiment: results}}.
    The Transformer figures need the libtorch program (``iclab reproduce``); this module is torch-free."""
    raw = _core.reproduce(name, bool(quick), "" if out is None else _os.fspath(out), bool(plot_only),
                          "" if reference_data is None else _os.fspath(reference_data), bool(progress))
    results = {k: _load_results(v) for k, v in raw["results"].items() if _os.path.exists(v)}
    return {"dir": raw["dir"], "figure": raw["figure"], "results": results}
