"""Child-process task of the ``deep`` benchmark section: the PyTorch peer of the deep decoder.

``{"task": "peer_deep", "op": "spectrum" | "adam", "shape": [H, W], "channels": [...], ...}``:

* ``spectrum`` — ``torch.func.jacrev`` of the deep decoder (chunked) and
  ``torch.linalg.svdvals``; first checked against
  :func:`ntk_toolkit.deep.jacobian_spectrum` on the ``r`` leading singular values
  (relative difference ≤ ``rtol``, default 1e-8), then timed;
* ``adam`` — ``steps`` Adam steps (forward, backward, update) with ``torch.optim.Adam``;
  the losses of the first ``check_steps`` steps are checked against
  :func:`ntk_toolkit.deep.fit`, then the steps are timed.

The weights are the same in both (:func:`ntk_toolkit.bench.peers_torch_deep.module`).
"""

from __future__ import annotations

import os
import time

__all__ = ["peer_deep_task", "problem"]

#: Agreement required of the peer's leading singular values (issue 15: 1e-8).
SPECTRUM_RTOL = 1e-8
#: Agreement of the Adam losses over the first steps (both float64; rounding only).
ADAM_RTOL = 1e-10


def problem(shape, channels, seed: int = 0):
    """``(net, theta, y)``: the deep decoder of the benchmark, its initial parameters and a target image."""
    import numpy as np

    from ..deep import DeepDecoder

    net = DeepDecoder(tuple(shape), list(channels))
    theta = net.init(seed=seed)
    y = np.random.default_rng(seed).random(net.n)
    return net, theta, y


def _disagree(disagrees, err: float, tol: float) -> Exception:
    exc = disagrees(err)
    exc.args = (f"max relative difference {err:.3g} > {tol:g}",)
    return exc


def peer_deep_task(task: dict, emit, disagrees) -> dict:
    """Run the task in this (child) process; ``emit`` reports progress, ``disagrees(rel_diff)`` builds the error."""
    import numpy as np
    import torch

    from ..deep import fit, jacobian_spectrum
    from . import peers_torch_deep as peer

    torch.set_num_threads(int(os.environ.get("NTK_BENCH_THREADS", "1")))
    net, theta, y = problem(task["shape"], task["channels"], int(task.get("seed", 0)))
    emit(event="started", version=peer.version())
    repeats, budget = int(task.get("repeats", 3)), float(task.get("budget", float("inf")))
    if task["op"] == "spectrum":
        r = int(task["r"])
        chunk = int(task.get("chunk", 256))
        f = peer.functional(net, theta)
        t = torch.tensor(theta)

        def fn():
            J = torch.func.jacrev(f, chunk_size=chunk)(t)
            return torch.linalg.svdvals(J)[:r].numpy()

        t0 = time.perf_counter()
        ref = fn()
        first = time.perf_counter() - t0
        emit(event="first call", seconds=first)
        ours = jacobian_spectrum(net, theta, r, tol=1e-12, seed=0).singular_values
        err = float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))
        if not err <= float(task.get("rtol", SPECTRUM_RTOL)):
            raise _disagree(disagrees, err, float(task.get("rtol", SPECTRUM_RTOL)))
        emit(event="checked", rel_diff=err)
        times = [first]
    elif task["op"] == "adam":
        steps, check, lr = int(task["steps"]), int(task.get("check_steps", 3)), float(task.get("lr", 0.01))
        step = peer.make_adam_step(net, theta, y, lr)
        losses = [step() for _ in range(check)]
        ref = fit(net, y, theta, optimizer="adam", lr=lr, steps=check, record=[0]).losses[:check]
        err = float(np.max(np.abs(np.asarray(losses) - ref)) / np.max(np.abs(ref)))
        if not err <= ADAM_RTOL:
            raise _disagree(disagrees, err, ADAM_RTOL)
        emit(event="checked", rel_diff=err)

        def fn():
            for _ in range(steps):
                step()

        times, first = [], None
    else:
        raise ValueError(f"op must be 'spectrum' or 'adam', got {task['op']!r}")
    while len(times) < repeats and sum(times) < budget:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        emit(event="timed", seconds=times[-1])
    return {"times": times, "first_call": first, "rel_diff": err, "version": peer.version()}
