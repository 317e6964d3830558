"""Bit-for-bit results for 1 and 2 Numba threads and across repeated runs with the same seed.

Runs in a child process started with ``NUMBA_NUM_THREADS=2`` (the suite
itself may run on one thread), switching with ``numba.set_num_threads``;
sizes are above the single-thread threshold of the kernels
(``ntk_toolkit._jit.SMALL_WORK``) so that both thread counts really run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import hashlib, json
    import numba, numpy as np
    import ntk_toolkit as nt
    from ntk_toolkit import filters as F
    from ntk_toolkit.operators import CircularConv
    from ntk_toolkit.stability import step_limit
    from ntk_toolkit.checks import select_checks
    from ntk_toolkit.checks.runner import run_one

    def digest(*arrays):
        h = hashlib.sha256()
        for a in arrays:
            h.update(np.ascontiguousarray(np.asarray(a, dtype=np.float64)).tobytes())
        return h.hexdigest()

    def results():
        out = {}
        gen = nt.TwoLayerGenerator(CircularConv(F.triangle(4), 512, method="direct"), 512)
        C0 = gen.init(seed=3, omega=0.5)
        y = np.random.default_rng(4).standard_normal(512)
        for diag in ("dense", "matrix-free"):
            t = nt.gradient_descent(gen, y, C0, 0.3, 30, record=5, diagnostics=diag)
            out["gd-" + diag] = digest(t.losses, t.C, t.outputs, t.weight_change, t.sign_flips, t.kernel_drift,
                                       t.linearization_gap)
        t = nt.gradient_descent(gen, y, C0, 0.3, 30, record=5, dtype=np.float32)
        out["gd-float32"] = digest(t.losses, t.C)
        out["kernel"] = digest(nt.empirical_kernel(gen, C0))
        X = np.random.default_rng(5).standard_normal((512, 3))
        out["kernel_operator"] = digest(nt.kernel_operator(gen, C0) @ X)
        out["step_limit"] = digest([step_limit(gen, C0).lam_max])
        gen2 = nt.TwoLayerGenerator(nt.CircularConv2D(F.triangle2d(2), (32, 32)), 256)
        C2 = gen2.init(seed=1)
        t2 = nt.gradient_descent(gen2, np.linspace(-1, 1, 1024), C2, nt.max_step_size(gen2), 10)
        out["gd-2d"] = digest(t2.losses, t2.C)
        for check in select_checks("kernel.*"):
            r = run_one(check, "tiny", 0)
            out["check-" + check.name] = json.dumps([r.passed, r.measured], sort_keys=True, default=str)
        return out

    runs = {}
    for threads in (1, 2, 2, 1):
        numba.set_num_threads(threads)
        runs.setdefault(threads, []).append(results())
    print(json.dumps({"threads": numba.config.NUMBA_NUM_THREADS, "runs": runs}))
""")


def test_bit_for_bit_for_one_and_two_threads_and_repeated_runs():
    env = dict(os.environ, NUMBA_NUM_THREADS="2", PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=900,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    payload = json.loads(out.stdout.strip().splitlines()[-1])
    assert payload["threads"] == 2
    one, two = payload["runs"]["1"], payload["runs"]["2"]
    reference = one[0]
    assert len(reference) >= 8
    for run in one + two:
        diff = sorted(key for key in reference if run[key] != reference[key])
        assert not diff, f"results differ between thread counts or repeated runs: {diff}"
