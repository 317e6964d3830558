#!/usr/bin/env python
"""Measure where circular convolution by FFT beats direct taps.

For each ``n`` and filter length ``L`` this times (wall clock, median of
repeats, default threads for both the Numba kernels and ``scipy.fft``; run it
on an otherwise idle machine):

* ``conv``: ``CircularConv.apply`` on an ``(n, k)`` array, direct vs FFT;
* ``gd``: one gradient-descent step (fused direct-taps sweep vs the FFT path),

and prints the ratio ``time(direct) / time(fft)`` and, per ``n``, the crossover
length ``L*`` and ``L* / log2(n)`` — the constant ``FFT_COST`` of
``ntk_toolkit.operators`` (direct taps are used when ``L <= FFT_COST log2 n``).

Usage::

    python benchmarks/conv_cost_rule.py            # n = 256, 1024, 4096; n k = 2**20
    python benchmarks/conv_cost_rule.py --quick
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

import ntk_toolkit as nt
from ntk_toolkit._jit import num_threads
from ntk_toolkit.filters import Filter
from ntk_toolkit.operators import CircularConv


def cpu_time(fn, repeats: int) -> float:
    fn()
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def measure(n: int, k: int, L: int, repeats: int, steps: int) -> dict:
    rng = np.random.default_rng(L)
    filt = Filter(rng.random(L) + 0.1, name=f"random{L}")
    out = {}
    for method in ("direct", "fft"):
        gen = nt.TwoLayerGenerator(CircularConv(filt, n=n, method=method), k=k)
        C = gen.init(0)
        y = rng.standard_normal(n)
        eta = nt.max_step_size(gen)
        out[f"conv_{method}"] = cpu_time(lambda gen=gen, C=C: gen.operator.apply(C), repeats)
        out[f"gd_{method}"] = cpu_time(
            lambda gen=gen, C=C, y=y, eta=eta: nt.gradient_descent(gen, y, C, eta, steps, record=[0]), repeats
        ) / steps
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=None, help="Numba threads (default: all)")
    args = ap.parse_args(argv)
    ns = [256, 1024] if args.quick else [256, 1024, 4096]
    Ls = [3, 7, 15, 31, 63, 127, 255]
    total = 2**16 if args.quick else 2**20
    with num_threads(args.threads):
        for n in ns:
            k = total // n
            print(f"n={n} k={k} log2 n={math.log2(n):.0f}")
            print(f"{'L':>5} {'conv direct/fft':>16} {'gd direct/fft':>14}")
            cross = {"conv": None, "gd": None}
            for L in Ls:
                if L > n:
                    break
                r = measure(n, k, L, repeats=3 if args.quick else 5, steps=5 if args.quick else 10)
                rc = r["conv_direct"] / r["conv_fft"]
                rg = r["gd_direct"] / r["gd_fft"]
                print(f"{L:>5} {rc:>16.2f} {rg:>14.2f}")
                for key, ratio in (("conv", rc), ("gd", rg)):
                    if cross[key] is None and ratio > 1.0:
                        cross[key] = L
            for key, L in cross.items():
                if L is not None:
                    print(f"  {key}: FFT faster from L = {L} (L / log2 n = {L / math.log2(n):.1f})")
                else:
                    print(f"  {key}: direct taps faster for every L tried")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
