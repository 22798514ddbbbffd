#!/usr/bin/env python3
"""Lu et al. (2025) Fig 1 with iclab and matplotlib: the double descent of the ICL error in the pretraining
ratio tau. Theory curves (d -> inf) with simulation points (Gamma* fitted on sampled data, exact test error,
mean +- std over repetitions), and panel C's ridge curves at kappa = inf.

    PYTHONPATH=build/python python3 examples/python/lu2024_fig1.py [--quick] [--out DIR]

Full: d = 40, 10 repetitions (about a minute on 2 cores); --quick: d = 20, 2 repetitions (seconds).
"""
import argparse
import os

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

import iclab

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--quick", action="store_true", help="d = 20, 2 repetitions, a coarser tau grid")
parser.add_argument("--out", default=".", help="directory for lu2024_fig1.png")
args = parser.parse_args()

alphas, kappa, rho = [1, 10, 100], 0.5, 0.01
d, repeats = (20, 2) if args.quick else (40, 10)
tau_theory = np.geomspace(0.1, 10, 400)
tau_theory = tau_theory[np.abs(tau_theory - 1) > 1e-3]  # the ridgeless error diverges at tau = 1
tau_sim = [0.2, 0.5, 2, 5] if args.quick else [0.2, 0.4, 0.6, 0.8, 1.25, 1.5, 2, 3, 5, 8]

# One call each: the product grid over alpha and tau, returned as a DataFrame (or a dict of arrays).
theory = iclab.theory(alpha=alphas, tau=tau_theory, kappa=kappa, rho=rho)
# A tiny ridge keeps the fit well posed near tau = 1, as the authors' code.
sim = iclab.simulate(d=d, alpha=alphas, tau=tau_sim, kappa=kappa, rho=rho, lam=1e-8, repeats=repeats, seed=1)
lams = [1e-4, 1e-2, 1e-1, 1.0]
ridge = iclab.theory(alpha=10, tau=tau_theory, kappa=np.inf, rho=rho, lam=lams)

def rows(table, **where):
    mask = np.ones(len(table["tau"]), dtype=bool)
    for key, value in where.items():
        mask &= np.asarray(table[key]) == value
    return {k: np.asarray(v)[mask] for k, v in table.items()}

fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
colors = matplotlib.colormaps["viridis"](np.linspace(0, 0.85, len(alphas)))
for alpha, color in zip(alphas, colors):
    t, s = rows(theory, alpha=alpha), rows(sim, alpha=alpha)
    for ax, theory_col, mean, std in ((axes[0], "e_icl", "icl_mean", "icl_std"),
                                      (axes[1], "e_idg", "idg_mean", "idg_std")):
        ax.plot(t["tau"], t[theory_col], color=color, label=f"alpha = {alpha}")
        ax.errorbar(s["tau"], s[mean], yerr=s[std], fmt="o", color=color, ms=4, capsize=2)
for lam, color in zip(lams, matplotlib.colormaps["plasma"](np.linspace(0, 0.85, len(lams)))):
    r = rows(ridge, **{"lambda": lam})
    axes[2].plot(r["tau"], r["e_icl"], color=color, label=f"lambda = {lam:g}")
r0 = iclab.theory(alpha=10, tau=tau_theory, kappa=np.inf, rho=rho)
axes[2].plot(r0["tau"], r0["e_icl"], "k--", label="ridgeless")
titles = [f"A: ICL error, kappa = {kappa}", f"B: IDG error, kappa = {kappa}", "C: ridge ICL error, alpha = 10, kappa = inf"]
for ax, title in zip(axes, titles):
    ax.set(xscale="log", yscale="log", xlabel="tau = n / d^2", title=title)
    ax.legend(fontsize=7)
axes[0].set_ylabel("error (theory: lines; simulation d = %d: points)" % d)
fig.tight_layout()
path = os.path.join(args.out, "lu2024_fig1.png")
fig.savefig(path, dpi=120)
print(f"wrote {path} (iclab {iclab.__version__}, seed {sim.attrs['meta']['seed']})")
