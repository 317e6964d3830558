"""Custom measurements for the sweep tests, imported by path ("sweep_helpers:...") in the test
process and in worker processes (tests/ is put on their PYTHONPATH)."""

from __future__ import annotations

import time

import numpy as np


def noisy_square(*, x: float, fail_above: float = 1e9, pause: float = 0.0, seed: int) -> dict:
    """``x²`` plus a seeded draw; raises for ``x > fail_above``; sleeps ``pause`` seconds."""
    if pause:
        time.sleep(pause)
    if x > fail_above:
        raise RuntimeError(f"x = {x} is above {fail_above}")
    return {"square": x * x, "draw": float(np.random.default_rng(seed).standard_normal())}


def not_a_dict(*, x: float = 1.0, seed: int):
    return [x]
