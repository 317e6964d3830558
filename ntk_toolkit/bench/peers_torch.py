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

Images (``H x W``, flattened row-major, as in :class:`ntk_toolkit.CircularConv2D`:
``(U c)[i₁, i₂] = Σ_{a₁, a₂} u[a₁, a₂] c[(i₁ − a₁ + h₁) mod H, (i₂ − a₂ + h₂) mod W]``):
the ``k`` channels are a batch of ``k`` one-channel images (``C`` of shape
``(n, k)`` becomes ``(k, 1, H, W)``), padded circularly and convolved with
``conv2d`` and the taps flipped in both axes (:func:`generator_2d`,
:func:`make_gradient_descent_2d`).

Both run in float64. Install the CPU build of PyTorch
(``pip install torch --index-url https://download.pytorch.org/whl/cpu``);
``pip install "ntk_toolkit[peers]"`` installs torch and jax.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["generator", "generator_2d", "kernel", "make_gradient_descent", "make_gradient_descent_2d", "version"]


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


def generator_2d(taps: np.ndarray, center, shape, v: np.ndarray) -> Callable:
    """``G`` on images as a function of the weights (tensor of shape ``(k, H, W)``), returning shape ``(H·W,)``.

    ``F.pad(mode="circular")`` wraps ``L_j − 1 − h_j`` pixels before and
    ``h_j`` after each axis; ``conv2d`` (a cross-correlation) with the taps
    flipped in both axes then gives the circular convolution.
    """
    torch, F = _torch()
    taps = np.asarray(taps, dtype=np.float64)
    L1, L2 = taps.shape
    h1, h2 = (int(h) for h in center)
    weight = torch.tensor(np.ascontiguousarray(taps[::-1, ::-1]), dtype=torch.float64).view(1, 1, L1, L2)
    vt = torch.tensor(np.asarray(v, dtype=np.float64))
    pad = (L2 - 1 - h2, h2, L1 - 1 - h1, h1)  # (left, right, top, bottom)
    H, W = (int(x) for x in shape)

    def G(Ct):
        X = F.pad(Ct.unsqueeze(1), pad, mode="circular")  # (k, 1, H + L1 - 1, W + L2 - 1)
        Z = F.conv2d(X, weight).reshape(Ct.shape[0], H * W)  # (k, n)
        return vt @ torch.relu(Z)

    return G


def _autograd_loop(G, W0, y: np.ndarray, eta: float, to_C: Callable) -> Callable[[int], np.ndarray]:
    """``run(steps)``: ``steps`` autograd steps from ``W0``; ``to_C`` maps the final weights to ``C``."""
    torch, _ = _torch()
    yt = torch.tensor(np.asarray(y, dtype=np.float64))
    eta = float(eta)

    def run(steps: int) -> np.ndarray:
        Wt = W0.clone().requires_grad_(True)
        for _ in range(steps):
            r = G(Wt) - yt
            loss = 0.5 * (r @ r)
            loss.backward()
            with torch.no_grad():
                Wt -= eta * Wt.grad
            Wt.grad = None
        return to_C(Wt.detach().numpy())

    return run


def make_gradient_descent(taps: np.ndarray, center: int, v: np.ndarray, y: np.ndarray, C0: np.ndarray,
                          eta: float) -> Callable[[int], np.ndarray]:
    """An autograd gradient-descent loop; ``run(steps)`` starts from ``C0`` and returns ``C``."""
    torch, _ = _torch()
    C0t = torch.tensor(np.ascontiguousarray(C0.T), dtype=torch.float64)
    return _autograd_loop(generator(taps, center, v), C0t, y, eta, lambda Wt: Wt.T.copy())


def make_gradient_descent_2d(taps: np.ndarray, center, shape, v: np.ndarray, y: np.ndarray, C0: np.ndarray,
                             eta: float) -> Callable[[int], np.ndarray]:
    """The autograd loop on ``H x W`` images; ``run(steps)`` starts from ``C0`` (shape ``(H·W, k)``), returns ``C``."""
    torch, _ = _torch()
    H, W = (int(x) for x in shape)
    k = C0.shape[1]
    W0 = torch.tensor(np.ascontiguousarray(C0.T).reshape(k, H, W), dtype=torch.float64)
    return _autograd_loop(generator_2d(taps, center, (H, W), v), W0, y, eta,
                          lambda Wt: Wt.reshape(k, H * W).T.copy())
