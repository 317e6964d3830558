"""Custom measurements for the sweep tests, imported by path ("sweep_helpers:...") in the test
process and in worker processes (tests/ is put on their PYTHONPATH)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def subprocess_env() -> dict:
    """The environment of a child process: this checkout and tests/ on the path, one Numba thread."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(TESTS), env.get("PYTHONPATH", "")])
    env["NUMBA_NUM_THREADS"] = "1"
    return env


def noisy_square(*, x: float, fail_above: float = 1e9, pause: float = 0.0, seed: int) -> dict:
    """``x²`` plus a seeded draw; raises for ``x > fail_above``; sleeps ``pause`` seconds."""
    if pause:
        time.sleep(pause)
    if x > fail_above:
        raise RuntimeError(f"x = {x} is above {fail_above}")
    return {"square": x * x, "draw": float(np.random.default_rng(seed).standard_normal())}


def not_a_dict(*, x: float = 1.0, seed: int):
    return [x]


def thread_counts(*, x: float = 0.0, seed: int) -> dict:
    """The Numba and OpenBLAS thread counts the task runs with."""
    import numba

    from ntk_toolkit import _blas

    blas = _blas.get_threads()
    return {"numba": numba.get_num_threads(), "blas": max(blas) if blas else 0, "x": x}
