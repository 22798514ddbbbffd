#!/usr/bin/env python3
# Side-by-side baseline for bench_baselines: the dMMSE + Bayes-ridge Monte-Carlo loop of spec
# solvable-model-isotropic §4.6 in NumPy, one sample at a time as in the authors' finitebayesrun.py
# (written from the spec). Usage: /usr/bin/python3 bench/reference_dmmse.py NSIM_SMALL_KAPPA NSIM_LARGE_KAPPA
# (times are scaled to 50 000 samples).
import numpy as np, time, sys
d, alpha, rho = 100, 1.0, 0.01
N = int(alpha * d); sn = np.sqrt(rho)
rng = np.random.default_rng(0)
for kappa in [0.1, 1, 10, 50]:
    K = int(kappa * d); nsim = int(sys.argv[1]) if kappa < 10 else int(sys.argv[2])
    B = rng.standard_normal((d, K))
    e = np.zeros((4, nsim))
    t0 = time.perf_counter()
    for i in range(nsim):
        X = rng.standard_normal((d, N)) / np.sqrt(d)
        bidg = B[:, rng.integers(K)][:, None]; bicl = rng.standard_normal((d, 1))
        XtB = X.T @ B
        xv = rng.standard_normal((d, 1)) / np.sqrt(d)
        G = X @ X.T + rho * np.eye(d)
        for j, beta in enumerate((bicl, bidg)):
            y = X.T @ beta + rng.standard_normal((N, 1)) * sn
            w_r = np.linalg.solve(G, X @ y)
            c = -np.linalg.norm(y - XtB, axis=0) ** 2 / (2 * rho); ec = np.exp(c - c.max())
            w_f = B @ ec[:, None] / ec.sum()
            yv = (xv.T @ beta).item() + rng.standard_normal() * sn
            e[2 * j, i] = ((xv.T @ w_r).item() - yv) ** 2; e[2 * j + 1, i] = ((xv.T @ w_f).item() - yv) ** 2
    t = time.perf_counter() - t0
    print(f"kappa {kappa}: K={K} {nsim} samples {t:.2f} s -> {t * 50000 / nsim:.1f} s per 50000; dmmse icl {e[1].mean():.3f} idg {e[3].mean():.3f}", flush=True)
