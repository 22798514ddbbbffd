#!/usr/bin/env python3
"""iclab vs the reference implementation (the authors' pipeline), side by side in one run.

For each setting the reference draws the pretraining data with its own sampler (seeded), fits
Gamma* with its p x p Gram + LU solve, and evaluates the exact errors. The same arrays are handed
to iclab (build/bench/fit_from_npy), which fits them with its solver, so the errors must agree to
the solver tolerance (identical data). The end-to-end `iclab simulate` time (sampling + fit + errors,
one repetition) is reported beside the reference's total.

  /usr/bin/python3 bench/compare_reference.py [--settings lu-fig1,letey-fig1] [--solver auto]
"""
import argparse, json, math, os, subprocess, sys, tempfile, time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "..", "shared", "reference"))
import icl_reference as ref  # noqa: E402

SETTINGS = {
    # name: d, alpha, kappa, tau, rho, lambda
    "lu-fig1": (100, 10.0, 0.5, 2.0, 0.01, 1e-8),      # Lu et al. Fig 1
    "letey-fig1": (120, 2.0, 1.0, 4.0, 0.01, 1e-6),    # Letey et al. Fig 1
    "small": (40, 10.0, 0.5, 2.0, 0.01, 1e-8),         # a quick check
}


def reference_run(d, alpha, kappa, tau, rho, lam, seed, out_dir):
    """The reference's simulate(), step by step, saving its draw for iclab."""
    rng = np.random.default_rng(seed)
    ell, k = int(alpha * d), int(kappa * d)
    reps = int(round(tau * d * d / k))
    T = rng.standard_normal((k, d))
    T *= math.sqrt(d) / np.linalg.norm(T, axis=1, keepdims=True)
    W = np.tile(T, (reps, 1))
    t0 = time.perf_counter()
    xq, z, y = ref.sample_features(W, ell, rho, rng)
    t1 = time.perf_counter()
    gamma = ref.fit_gamma_gram(xq, z, y, lam, chunk=max(1, 2 * d * d))
    t2 = time.perf_counter()
    icl = ref.test_error(gamma, alpha, rho, np.zeros(d), np.eye(d))
    idg = ref.test_error(gamma, alpha, rho, T.mean(0), T.T @ T / k)
    t3 = time.perf_counter()
    for name, arr in (("xq", xq), ("z", z), ("y", y), ("tasks", T)):
        np.save(os.path.join(out_dir, name + ".npy"), np.ascontiguousarray(arr))
    return dict(ell=ell, n=len(y), sample_s=t1 - t0, fit_s=t2 - t1, total_s=t3 - t0, e_icl=icl, e_idg=idg)


def iclab_simulate_seconds(d, alpha, kappa, tau, rho, lam, solver):
    cmd = [os.path.join(ROOT, "build", "iclab"), "simulate", "--d", str(d), "--alpha", str(alpha), "--kappa",
           str(kappa), "--tau", str(tau), "--rho", str(rho), "--lambda", str(lam), "--repeats", "1", "--seed", "1",
           "--task-norm", "sphere", "--assignment", "balanced", "--solver", solver]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settings", default="lu-fig1,letey-fig1")
    ap.add_argument("--solver", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tool = os.path.join(ROOT, "build", "bench", "fit_from_npy")
    rows = []
    for name in args.settings.split(","):
        d, alpha, kappa, tau, rho, lam = SETTINGS[name]
        with tempfile.TemporaryDirectory() as tmp:
            print(f"[{name}] reference: d={d} alpha={alpha} kappa={kappa} tau={tau} lambda={lam} ...",
                  file=sys.stderr, flush=True)
            r = reference_run(d, alpha, kappa, tau, rho, lam, args.seed, tmp)
            print(f"[{name}] reference done in {r['total_s']:.1f} s; iclab ...", file=sys.stderr, flush=True)
            out = subprocess.run([tool, tmp, args.solver, repr(lam), str(r["ell"]), repr(rho)], check=True,
                                 capture_output=True, text=True).stdout
            c = json.loads(out)
        e2e = iclab_simulate_seconds(d, alpha, kappa, tau, rho, lam, args.solver)
        rows.append(dict(setting=name, d=d, n=r["n"], ref_fit_s=r["fit_s"], iclab_fit_s=c["fit_seconds"],
                         fit_speedup=r["fit_s"] / c["fit_seconds"], ref_total_s=r["total_s"], iclab_simulate_s=e2e,
                         total_speedup=r["total_s"] / e2e, solver=c["solver"], iterations=c["iterations"],
                         ref_e_icl=r["e_icl"], iclab_e_icl=c["e_icl"],
                         rel_diff_icl=abs(c["e_icl"] - r["e_icl"]) / r["e_icl"],
                         ref_e_idg=r["e_idg"], iclab_e_idg=c["e_idg"],
                         rel_diff_idg=abs(c["e_idg"] - r["e_idg"]) / r["e_idg"]))
    keys = ["setting", "d", "n", "ref_fit_s", "iclab_fit_s", "fit_speedup", "ref_total_s", "iclab_simulate_s",
            "total_speedup", "solver", "iterations", "ref_e_icl", "iclab_e_icl", "rel_diff_icl", "ref_e_idg",
            "iclab_e_idg", "rel_diff_idg"]
    print(",".join(keys))
    for row in rows:
        print(",".join(f"{row[k]:.6g}" if isinstance(row[k], float) else str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
