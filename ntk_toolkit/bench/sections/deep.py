"""The ``deep`` section: the deep decoder (:mod:`ntk_toolkit.deep`) against PyTorch.

Sizes are ``(H, W, k, layers)``: an ``H x W`` output and the channel list ``[k] * layers``.

* ``jacobian_spectrum(net, θ, r)`` (matrix-free Lanczos on ``J Jᵀ``) against the PyTorch
  peer: ``torch.func.jacrev`` (chunked) and ``torch.linalg.svdvals``, after checking that
  the ``r`` leading singular values agree to 1e-8;
* one Adam step (forward, backward, update) of :func:`ntk_toolkit.deep.fit` against
  ``torch.optim.Adam`` on the same weights, with the same threads, after checking the
  losses of the first steps agree to 1e-10.

Without ``--peers`` only ntk_toolkit's times are reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._child_deep import problem
from .._timing import time_call
from ..report import Row

if TYPE_CHECKING:
    from ..suite import Run

SECTION = "deep"


def _channels(k: int, layers: int) -> list:
    return [k] * layers


def deep_spectrum(state: Run) -> None:
    """:func:`ntk_toolkit.deep.jacobian_spectrum` at ``cfg.deep_spectrum``, and the PyTorch peer with ``--peers``."""
    from ...deep import jacobian_spectrum

    cfg = state.cfg
    H, W, k, layers, r = cfg.deep_spectrum
    net, theta, _ = problem((H, W), _channels(k, layers))
    spec = jacobian_spectrum(net, theta, r, seed=0)  # also the warm-up
    ours = time_call(lambda: jacobian_spectrum(net, theta, r, seed=0), cfg.deep_repeats, warmup=0,
                     budget=cfg.budget)
    size = (H, W, k, layers)
    row = Row(SECTION, f"jacobian_spectrum r={r} (Lanczos on J Jᵀ)", size, ours=ours,
              reference="torch.func.jacrev + torch.linalg.svdvals",
              details={"products": spec.products, "num_params": net.num_params, "n": net.n, "r": r})
    if state.peers:  # without peers the row has no reference time (n/a)
        res = None
        if state.peer_usable("torch"):
            res = state.child({"task": "peer_deep", "op": "spectrum", "shape": [H, W],
                               "channels": _channels(k, layers), "r": r, "repeats": cfg.deep_peer_repeats,
                               "budget": cfg.budget})
        state.peer_row(row, res)
    state.add(row, (SECTION, "spectrum", size))
    state.notes.append(f"deep decoder {H}x{W}, channels [{k}]*{layers}: {net.num_params} parameters; "
                       f"jacobian_spectrum r={r} took {spec.products} products J Jᵀ x; the dense J has "
                       f"{net.n * net.num_params:.3g} entries")


def deep_adam(state: Run) -> None:
    """One Adam step of :func:`ntk_toolkit.deep.fit` at ``cfg.deep_adam``, and ``torch.optim.Adam`` with ``--peers``."""
    from ...deep import fit

    cfg = state.cfg
    H, W, k, layers = cfg.deep_adam
    steps = cfg.deep_adam_steps
    net, theta, y = problem((H, W), _channels(k, layers))
    fit(net, y, theta, optimizer="adam", lr=0.01, steps=2, record=[0])  # warm-up
    ours = time_call(lambda: fit(net, y, theta, optimizer="adam", lr=0.01, steps=steps, record=[0]),
                     cfg.deep_repeats, warmup=0, per=steps, budget=cfg.budget)
    size = (H, W, k, layers)
    row = Row(SECTION, "Adam step (forward + backward + update)", size, ours=ours,
              reference="torch.optim.Adam on torch.nn layers", details={"steps": steps, "num_params": net.num_params})
    if state.peers:
        res = None
        if state.peer_usable("torch"):
            res = state.child({"task": "peer_deep", "op": "adam", "shape": [H, W], "channels": _channels(k, layers),
                               "steps": steps, "repeats": cfg.deep_repeats, "budget": cfg.budget})
        state.peer_row(row, res, per=steps)
    state.add(row, (SECTION, "adam", size))
