#!/usr/bin/env python3
"""The Python module against NumPy: the isotropic theory over a 10^6-point grid, through iclab and through a
NumPy transcription of the same closed forms (vectorised over the grid, ../shared/reference/icl_reference.py's
formulas: the authors' style of writing them), plus the reference's own per-point functions on a sample; and
the per-call overhead of a scalar call.

    PYTHONPATH=build/python /usr/bin/python3 bench/python_theory.py [--points 1000000] [--threads N]

Prints a table of times and ratios (best of --repeat runs). The two implementations must agree to 1e-9
relative (checked), so the comparison is of the same numbers.
"""
import argparse
import math
import os
import sys
import timeit

import numpy as np

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--points", type=int, default=1_000_000)
parser.add_argument("--repeat", type=int, default=3)
parser.add_argument("--reference", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared",
                                                        "reference", "icl_reference.py"))
args = parser.parse_args()

import iclab
from iclab import _core


# ----------------------------------------------------------------------------- NumPy transcription
def mp(x, kappa):
    b = x + 1.0 - 1.0 / kappa  # 1/inf = 0 gives M_inf = 1/(1+x) without a branch
    return 2.0 / (b + np.sqrt(b * b + 4.0 * x / kappa))


def mp_prime(x, kappa):
    b = x + 1.0 - 1.0 / kappa
    r = np.sqrt(b * b + 4.0 * x / kappa)
    m = 2.0 / (b + r)
    return -0.5 * m * m * (1.0 + (x + 1.0 + 1.0 / kappa) / r)


@np.errstate(divide="ignore", invalid="ignore", under="ignore")
def ridge_eps(x, tau, kappa, lam):
    """The reference's geometric bisection for the root of 1 - tau + tau lam/e - e M(e + x), vectorised."""
    f = lambda e: 1.0 - tau + tau * lam / e - e * mp(e + x, kappa)
    lo = np.full_like(x, 1e-300)
    hi = np.ones_like(x)
    while True:
        grow = f(hi) > 0.0
        if not grow.any():
            break
        hi = np.where(grow, hi * 2.0, hi)
    for _ in range(2000):
        mid = np.sqrt(lo * hi)
        up = f(mid) > 0.0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
        if np.all(hi / lo < 1.0 + 1e-15):
            break
    eps = 0.5 * (lo + hi)
    return np.where((lam == 0.0) & (tau > 1.0), 0.0, eps)


@np.errstate(divide="ignore", invalid="ignore")
def closed_form_eps(x, tau, kappa, lam):
    """iclab's root at lambda = 0, tau < 1 (isotropic.cpp): the positive root of
    -tau e^2 + c (x + 1 - tau/kappa) e + x c^2/kappa = 0, c = 1 - tau, without cancellation."""
    c = 1.0 - tau
    b = x + 1.0 - tau / kappa
    r = np.sqrt(b * b + 4.0 * (tau / kappa) * x)
    eps = np.where(b >= 0.0, c * (b + r) / (2.0 * tau), 2.0 * x * c / (kappa * (r - b)))
    return np.where(tau > 1.0, 0.0, eps)


@np.errstate(divide="ignore", invalid="ignore", over="ignore")  # lanes whose result np.where discards
def numpy_theory(alpha, tau, kappa, rho, lam, root=ridge_eps):
    x = (1.0 + rho) / alpha
    eps = root(x, tau, kappa, lam)
    nu = x + eps
    m, mp_ = mp(nu, kappa), mp_prime(nu, kappa)
    ce = (rho + nu - nu * nu * m - eps * (1 - 2 * nu * m - nu * nu * mp_)) / (1 - 2 * eps * m - eps * eps * mp_ - tau)
    icl = (x + 1) * (1 - 2 * nu * m - nu * nu * mp_ - ce * (m + eps * mp_)) - 2 * (1 - nu * m) + 1 + rho
    # Ridgeless IDG: tau > 1 closed form, tau < 1 through eps (the reference's idg_error_isotropic_ridgeless).
    above = tau * (rho + x * (1.0 - x * mp(x, kappa))) / (tau - 1.0)
    c = np.where(np.isinf(kappa), 1.0, 1.0 / (1.0 - kappa / (1.0 + kappa * eps / (1.0 - tau)) ** 2))
    below = tau * ((x + eps) ** 2 / eps + (rho + x - 2 * x * (1 - tau) * (x / eps + 1)) /
                   (1 - tau - c * (1 - tau) ** 2))
    idg = np.where(tau > 1.0, above, below)
    return icl, idg, icl - idg


def best(f, repeat):
    return min(timeit.repeat(f, number=1, repeat=repeat))


# ----------------------------------------------------------------------------- the grid
side = round(args.points ** 0.25)
alphas = np.geomspace(0.5, 100, side)
taus = np.geomspace(0.1, 10, side + 1)  # even count around 1: never exactly tau = 1
taus = taus[np.abs(taus - 1) > 1e-6]
kappas = np.concatenate([np.geomspace(0.1, 10, side - 1), [np.inf]])
rhos = np.geomspace(1e-3, 1, side)
grid = np.meshgrid(alphas, taus, kappas, rhos, indexing="ij")
a, t, k, r = (g.ravel() for g in grid)
n = a.size
lam0 = np.zeros(n)
print(f"grid: {n} points ({side} alpha x {len(taus)} tau x {side} kappa x {side} rho), OpenMP threads: "
      f"{os.environ.get('OMP_NUM_THREADS', 'default')}, cores: {os.cpu_count()}")

rows = []
for label, lam in (("ridgeless (lambda = 0)", lam0), ("ridge (lambda = 1e-3)", np.full(n, 1e-3))):
    mine = list(_core.isotropic(a, t, k, r, lam).values())  # e_icl, e_idg, g_task
    ref = numpy_theory(a, t, k, r, lam)
    # e_IDG for lambda > 0 is iclab's own formula (docs/ridge-idg.md), not in the reference: compare ICL
    # there; g_task is the difference of the two in both. 1e-9: far above rounding (the forms differ in
    # how they avoid cancellation), far below any formula difference.
    names = ("e_icl", "e_idg") if label.startswith("ridgeless") else ("e_icl",)
    rel = 0.0
    for x, y, name in zip(mine, ref, names):
        rel = max(rel, float(np.max(np.abs(x - y) / np.abs(y))))
        assert rel < 1e-9, (name, rel)
    t_core = best(lambda: _core.isotropic(a, t, k, r, lam), args.repeat)
    lam_value = float(lam[0])
    t_frame = best(lambda: iclab.theory(alpha=alphas, tau=taus, kappa=kappas, rho=rhos, lam=lam_value), args.repeat)
    t_numpy = best(lambda: numpy_theory(a, t, k, r, lam), max(1, args.repeat - 1))
    # The honest comparison at lambda = 0: NumPy with iclab's closed-form root instead of the bisection.
    t_closed = None
    if lam_value == 0.0:
        closed = numpy_theory(a, t, k, r, lam, root=closed_form_eps)
        for x, y in zip(mine[:2], closed[:2]):
            assert float(np.max(np.abs(x - y) / np.abs(y))) < 1e-9
        t_closed = best(lambda: numpy_theory(a, t, k, r, lam, root=closed_form_eps), args.repeat)
    rows.append((label, t_core, t_frame, t_numpy, t_closed, rel))

print(f"\n| 10^6-point grid | iclab arrays (_core) | iclab.theory (grid + DataFrame) | NumPy transcription | "
      f"ratio (arrays) | ratio (DataFrame) | NumPy with iclab's closed-form root | ratio (arrays) | "
      f"max rel. difference |")
print("|---|---|---|---|---|---|---|---|---|")
for label, t_core, t_frame, t_numpy, t_closed, rel in rows:
    closed = (f"{t_closed * 1e3:.0f} ms | {t_closed / t_core:.1f}x" if t_closed is not None else "- | -")
    print(f"| {label} | {t_core * 1e3:.0f} ms | {t_frame * 1e3:.0f} ms | {t_numpy * 1e3:.0f} ms | "
          f"{t_numpy / t_core:.1f}x | {t_numpy / t_frame:.1f}x | {closed} | {rel:.1e} |")

# The reference's own per-point functions (math module, one call per point), on a sample.
if os.path.exists(args.reference):
    sys.path.insert(0, os.path.dirname(os.path.abspath(args.reference)))
    import icl_reference as ref_mod
    sample = np.random.default_rng(0).choice(n, 20000, replace=False)
    def per_point():
        for i in sample:
            ref_mod.icl_error_isotropic(a[i], k[i], t[i], r[i], 0.0)
            ref_mod.idg_error_isotropic_ridgeless(a[i], k[i], t[i], r[i])
    t_loop = best(per_point, 1) * n / sample.size
    print(f"\nreference per-point functions (icl_reference.py, ridgeless ICL + IDG), extrapolated from "
          f"{sample.size} points: {t_loop:.1f} s for 10^6 points = {t_loop / rows[0][1]:.0f}x iclab's arrays")

# Per-call overhead of a scalar call.
calls = 200000
for label, stmt in (("iclab.e_icl(10, 2, 0.5, 0.01) (ridgeless)", lambda: iclab.e_icl(10.0, 2.0, 0.5, 0.01)),
                    ("iclab.e_icl(10, 2, 0.5, 0.01, 0.1) (ridge)", lambda: iclab.e_icl(10.0, 2.0, 0.5, 0.01, 0.1)),
                    ("an empty Python function call", lambda: None)):
    per = min(timeit.repeat(stmt, number=calls, repeat=5)) / calls
    print(f"{label}: {per * 1e6:.2f} us per call")
per_point_core = rows[0][1] / n
print(f"(one ridgeless point inside the C++ loop: {per_point_core * 1e6:.3f} us; "
      f"iclab.theory for one point, DataFrame included: "
      f"{min(timeit.repeat(lambda: iclab.theory(alpha=10, tau=2, kappa=0.5, rho=0.01), number=200, repeat=3)) / 200 * 1e6:.0f} us)")
