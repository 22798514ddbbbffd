#!/usr/bin/env python3
"""Training-step time: iclab's libtorch Transformers vs the same models in idiomatic PyTorch, side by
side in one run (alternating, median of blocks; the machines are noisy, so read the ratios).

The PyTorch counterpart follows spec A1.2 exactly as iclab does: tokens [x; y] (B, l+1, d+1), no
positional encoding, flax-style LayerNorm eps 1e-6, single-head attention without biases or output
projection, causal mask, the one-Dense "MLP", last-token readout, MSE, AdamW(lr 1e-4, wd 1e-4), B
indices drawn without replacement from n = 10 B fixed contexts. Same sizes, same batch, same threads.

  /usr/bin/python3 bench/compare_nn_step.py [--build build] [--threads 1] [--steps 200]
"""
import argparse, json, math, os, statistics, subprocess, sys, time

# OpenBLAS (under torch's CPU GEMMs) keeps its own thread pool, which torch.set_num_threads does not
# limit: give both implementations the same count before torch loads.
_threads = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv else "1"
os.environ["OPENBLAS_NUM_THREADS"] = _threads
# The allocator settings iclab's front ends use (glibc: keep freed blocks in the heap), for both sides;
# they must be in the environment when the process starts.
_ALLOCATOR = {"MALLOC_MMAP_THRESHOLD_": str(32 << 20), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}
if any(os.environ.get(k) != v for k, v in _ALLOCATOR.items()):
    os.environ.update(_ALLOCATOR)
    os.execv(sys.executable, [sys.executable] + sys.argv)

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIGS = [
    # model, d, alpha, batch: the papers' settings (Lu et al. Fig 5 d = 20, B = 0.1 tau d^2; Letey et al. B = 16)
    ("linear-attention", 20, 1.0, 160),
    ("softmax", 20, 1.0, 160),
    ("softmax-mlp2", 20, 1.0, 160),
    ("softmax-mlp2", 20, 2.0, 16),
    ("softmax-mlp3", 20, 1.0, 160),
    ("softmax-mlp2", 40, 1.0, 640),
]


class Block(nn.Module):
    def __init__(self, h, mlp):
        super().__init__()
        self.q, self.k, self.v = (nn.Linear(h, h, bias=False) for _ in range(3))
        self.norm1, self.norm2 = nn.LayerNorm(h, eps=1e-6), nn.LayerNorm(h, eps=1e-6)
        self.mlp = nn.Linear(h, h) if mlp else None
        self.h = h

    def forward(self, u, mask):
        s = self.q(u) @ self.k(u).transpose(1, 2) / math.sqrt(self.h) + mask
        r = u + torch.softmax(s, -1) @ self.v(u)
        p = self.norm1(r)
        if self.mlp is None:
            return self.norm2(r + p)  # the authors' quirk for a block without MLP
        return self.norm2(self.mlp(p) + p)


class Softmax(nn.Module):
    def __init__(self, d, blocks, mlp):
        super().__init__()
        self.embedding = nn.Linear(d + 1, d)
        self.blocks = nn.ModuleList(Block(d, mlp) for _ in range(blocks))
        self.readout = nn.Linear(d, 1)

    def forward(self, x):
        t = x.shape[1]
        mask = torch.full((t, t), float("-inf")).triu(1)
        u = self.embedding(x)
        for b in self.blocks:
            u = b(u, mask)
        return self.readout(u[:, -1]).squeeze(-1)


class LinearAttention(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.q, self.k, self.v = (nn.Linear(d + 1, d) for _ in range(3))
        self.readout = nn.Linear(d, 1)
        self.d = d

    def forward(self, x):
        a = self.q(x) @ self.k(x).transpose(1, 2) / math.sqrt(self.d)
        return self.readout((a @ self.v(x))[:, -1]).squeeze(-1)


def make_model(name, d):
    if name == "linear-attention":
        return LinearAttention(d)
    return Softmax(d, {"softmax": 1, "softmax-mlp2": 2, "softmax-mlp3": 3}[name], name != "softmax")


def pytorch_step_time(name, d, alpha, batch, steps, repeats):
    torch.manual_seed(0)
    ell = int(alpha * d)
    n = 10 * batch
    data = torch.randn(n, ell + 1, d + 1) / math.sqrt(d)
    targets = torch.randn(n)
    model = make_model(name, d)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=1e-4, betas=(0.9, 0.999), eps=1e-8)

    def run(k):
        for _ in range(k):
            idx = torch.randperm(n)[:batch]
            opt.zero_grad()
            loss = ((model(data[idx]) - targets[idx]) ** 2).mean()
            loss.backward()
            opt.step()

    run(steps // 4)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run(steps)
        times.append((time.perf_counter() - t0) / steps * 1e6)
    return statistics.median(times)


def iclab_step_time(binary, name, d, alpha, batch, steps, repeats, threads):
    out = subprocess.run([binary, name, str(d), str(alpha), str(batch), str(steps), str(repeats), str(threads)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["us_per_step"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=2, help="alternate iclab and PyTorch this many times")
    ap.add_argument("--models", default="", help="comma-separated model names to run (default: all)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    binary = os.path.join(args.build, "bench", "nn_step")
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.steps} steps x {args.repeats} blocks")
    print(f"{'model':18s} {'d':>3s} {'alpha':>5s} {'B':>5s} {'iclab us':>10s} {'pytorch us':>11s} {'ratio':>6s}")
    ratios = []
    for name, d, alpha, batch in CONFIGS:
        if args.models and name not in args.models.split(","):
            continue
        ours, theirs = [], []
        for _ in range(args.rounds):
            ours.append(iclab_step_time(binary, name, d, alpha, batch, args.steps, args.repeats, args.threads))
            theirs.append(pytorch_step_time(name, d, alpha, batch, args.steps, args.repeats))
        a, b = min(ours), min(theirs)
        ratios.append(a / b)
        print(f"{name:18s} {d:3d} {alpha:5g} {batch:5d} {a:10.1f} {b:11.1f} {a / b:6.2f}", flush=True)
    print(f"geometric mean ratio (iclab / PyTorch): {math.exp(statistics.mean(map(math.log, ratios))):.2f}")


if __name__ == "__main__":
    main()
