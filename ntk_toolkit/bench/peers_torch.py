"""The generator written independently in PyTorch (peer benchmark).

``G(C) = relu(U C) v`` with ``U`` the circular convolution
``(U X)[i, :] = Σ_a u[a] X[(i − a + h) mod n, :]`` (``h = (L − 1)//2``, as in
:class:`ntk_toolkit.operators.CircularConv`). PyTorch stores the ``k``
channels as a batch of ``k`` signals of length ``n`` (``Cᵀ``, shape
``(k, n)``) and applies ``U`` with ``F.pad(mode="circular")`` followed by
``conv1d`` with the flipped taps (``conv1d`` is a cross-correlation).

* :func:`kernel` — ``J Jᵀ`` with ``J = torch.func.jacrev(G)(Cᵀ)``.
* :func:`make_gradient_descent` — the usual autograd loop
  (``loss.backward()``, in-place update under ``torch.no_grad()``).

Both run in float64. Install the CPU build of PyTorch
(``pip install torch --index-url https://download.pytorch.org/whl/cpu``);
``pip install "ntk_toolkit[peers]"`` installs torch and jax.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["generator", "kernel", "make_gradient_descent", "version"]


def _torch():
    import torch
    import torch.nn.functional as F

    return torch, F


def version() -> str:
    """The installed torch version."""
    return _torch()[0].__version__


def generator(taps: np.ndarray, center: int, v: np.ndarray) -> Callable:
    """``G`` as a function of ``Cᵀ`` (torch tensor of shape ``(k, n)``), returning shape ``(n,)``."""
    torch, F = _torch()
    taps = np.asarray(taps, dtype=np.float64)
    L = taps.size
    weight = torch.tensor(np.ascontiguousarray(taps[::-1]), dtype=torch.float64).view(1, 1, L)
    vt = torch.tensor(np.asarray(v, dtype=np.float64))
    pad = (L - 1 - int(center), int(center))

    def G(Ct):
        X = F.pad(Ct.unsqueeze(1), pad, mode="circular")  # (k, 1, n + L - 1)
        Z = F.conv1d(X, weight).squeeze(1)  # (k, n)
        return vt @ torch.relu(Z)

    return G


def kernel(taps: np.ndarray, center: int, v: np.ndarray, C: np.ndarray) -> np.ndarray:
    """``J Jᵀ`` from the dense Jacobian ``torch.func.jacrev(G)``; shape ``(n, n)``.

    Memory: the Jacobian has ``n² k`` entries (``8 n² k`` bytes).
    """
    torch, _ = _torch()
    n = C.shape[0]
    G = generator(taps, center, v)
    Ct = torch.tensor(np.ascontiguousarray(C.T), dtype=torch.float64)
    with torch.no_grad():
        J = torch.func.jacrev(G)(Ct).reshape(n, -1)  # (n, k*n)
        K = J @ J.T
    return K.numpy()


def make_gradient_descent(taps: np.ndarray, center: int, v: np.ndarray, y: np.ndarray, C0: np.ndarray,
                          eta: float) -> Callable[[int], np.ndarray]:
    """An autograd gradient-descent loop; ``run(steps)`` starts from ``C0`` and returns ``C``."""
    torch, _ = _torch()
    G = generator(taps, center, v)
    C0t = torch.tensor(np.ascontiguousarray(C0.T), dtype=torch.float64)
    yt = torch.tensor(np.asarray(y, dtype=np.float64))
    eta = float(eta)

    def run(steps: int) -> np.ndarray:
        Ct = C0t.clone().requires_grad_(True)
        for _ in range(steps):
            r = G(Ct) - yt
            loss = 0.5 * (r @ r)
            loss.backward()
            with torch.no_grad():
                Ct -= eta * Ct.grad
            Ct.grad = None
        return Ct.detach().numpy().T.copy()

    return run
