#!/usr/bin/env python
"""Time the matrix-free empirical kernel and its leading eigenpairs at image sizes.

For ``G(C) = relu(U C) v`` with ``U = CircularConv(triangle(2), n)`` (direct
taps) and ``k`` channels this times (wall clock, median with min and max over
repeats, default threads):

* one product ``K r`` of :func:`ntk_toolkit.kernel_operator` (``matvec``), and
  the per-vector time of a block product (``matmat``) of 8 vectors;
* :func:`ntk_toolkit.top_eigenpairs` with ``r`` eigenpairs (Lanczos), with its
  number of products and largest residual.

The first call of each (Numba compilation or cache load) is left out.

Usage::

    python benchmarks/matfree_top_eigenpairs.py                 # n = 16384 (128 x 128), k = 256, r = 20
    python benchmarks/matfree_top_eigenpairs.py --n 4096 --k 128 --r 10 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import ntk_toolkit as nt
from ntk_toolkit.filters import triangle
from ntk_toolkit.operators import CircularConv


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def summary(ts: list[float], scale: float = 1.0, unit: str = "s") -> str:
    ts = [t * scale for t in ts]
    return f"median {statistics.median(ts):.3g} {unit} (min {min(ts):.3g}, max {max(ts):.3g}, {len(ts)} runs)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16384)
    parser.add_argument("--k", type=int, default=256)
    parser.add_argument("--r", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    gen = nt.TwoLayerGenerator(CircularConv(triangle(2), args.n), k=args.k)
    C = gen.init(seed=0)
    K = nt.kernel_operator(gen, C)
    x = np.random.default_rng(1).standard_normal(args.n)
    X = np.random.default_rng(2).standard_normal((args.n, 8))
    K.matvec(x)
    K.matmat(X)
    print(f"n = {args.n}, k = {args.k}, U = {gen.operator!r}")
    print("kernel_operator matvec:", summary(timed(lambda: K.matvec(x), 5 * args.repeats), 1e3, "ms"))
    print("kernel_operator matmat (per vector, 8 vectors):",
          summary([t / 8 for t in timed(lambda: K.matmat(X), args.repeats)], 1e3, "ms"))

    nt.top_eigenpairs(gen, C, 2, seed=0, method="lanczos")  # warm-up of the first call
    results = []

    def run():
        results.append(nt.top_eigenpairs(gen, C, args.r, seed=len(results), method="lanczos"))

    ts = timed(run, args.repeats)
    print(f"top_eigenpairs(r={args.r}):", summary(ts))
    print("  products per run:", [t.matvecs for t in results])
    print("  max residual / λ_1:", max(float(t.residual_norms.max() / t.eigenvalues[0]) for t in results))
    print("  λ_1, λ_r:", float(results[0].eigenvalues[0]), float(results[0].eigenvalues[-1]))


if __name__ == "__main__":
    main()
