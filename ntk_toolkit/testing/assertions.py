"""Assertions for tests of the dynamics that say what differed and where.

Each raises ``AssertionError`` with the quantity, the place (iteration, row
and column, eigenvalue) and the tolerance; they need only NumPy.
"""

from __future__ import annotations

import numpy as np

__all__ = ["assert_linearized_close", "assert_monotone_residual", "assert_circulant", "assert_psd"]


def assert_linearized_close(trajectory, prediction, tol: float) -> None:
    """Assert that the network's outputs stay within ``tol`` of the linearized prediction.

    ``max_τ ‖G(C_τ) − f_τ‖ / max_τ ‖f_τ‖ <= tol`` over the recorded
    iterations of ``trajectory``, ``f_τ = prediction.output(τ)``.

    Parameters
    ----------
    trajectory : Trajectory
    prediction : LinearizedPrediction
        From :func:`ntk_toolkit.linearized` (same ``y``, ``eta``, ``A`` and ``f_0 = G(C_0)``).
    tol : float

    Examples
    --------
    >>> import numpy as np
    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.filters import triangle
    >>> gen = nt.TwoLayerGenerator(nt.CircularConv(triangle(2), 16), k=2048)
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> C0 = gen.init(seed=0)
    >>> traj = nt.gradient_descent(gen, y, C0, 0.5, 100, record=10)
    >>> lin = nt.linearized(nt.empirical_kernel(gen, C0), y, 0.5, f0=gen.forward(C0))
    >>> assert_linearized_close(traj, lin, tol=0.05)
    >>> assert_linearized_close(traj, nt.linearized(np.eye(16), y, 0.5, f0=gen.forward(C0)), tol=0.05)
    Traceback (most recent call last):
        ...
    AssertionError: network and linearized prediction differ by ... at iteration ... (relative to ..., tol 0.05); ...
    """
    taus = np.asarray(trajectory.iterations)
    f = np.atleast_2d(prediction.output(taus))
    g = np.asarray(trajectory.outputs, dtype=float)
    if f.shape != g.shape:
        raise AssertionError(f"the prediction has outputs of shape {f.shape}, the trajectory {g.shape}")
    scale = max(float(np.max(np.linalg.norm(f, axis=1))), np.finfo(float).tiny)
    err = np.linalg.norm(g - f, axis=1) / scale
    i = int(np.argmax(np.where(np.isfinite(err), err, np.inf)))
    if not err[i] <= tol:
        j = int(np.argmax(np.abs(g[i] - f[i])))
        raise AssertionError(
            f"network and linearized prediction differ by {err[i]:.3g} at iteration {int(taus[i])} "
            f"(relative to {scale:.3g}, tol {tol:g}); largest entry difference "
            f"{g[i, j] - f[i, j]:.3g} at index {j} (network {g[i, j]:.6g}, prediction {f[i, j]:.6g})"
        )


def assert_monotone_residual(losses, rtol: float = 1e-12) -> None:
    """Assert that the loss never increases: ``L_{τ+1} <= L_τ (1 + rtol)`` (rounding allowed).

    Parameters
    ----------
    losses : array_like or Trajectory
        Losses (a :class:`~ntk_toolkit.Trajectory` gives its ``losses``).
    rtol : float, default 1e-12

    Examples
    --------
    >>> assert_monotone_residual([3.0, 2.0, 2.0, 1.0])
    >>> assert_monotone_residual([3.0, 2.0, 2.5])
    Traceback (most recent call last):
        ...
    AssertionError: the loss increased at iteration 2: 2 -> 2.5 (+25 %); 1 increase(s) in 3 losses, rtol 1e-12
    """
    L = np.asarray(getattr(losses, "losses", losses), dtype=float)
    if not np.all(np.isfinite(L)):
        bad = int(np.flatnonzero(~np.isfinite(L))[0])
        raise AssertionError(f"the loss is not finite at iteration {bad}: {L[bad]}")
    up = np.flatnonzero(L[1:] > L[:-1] * (1 + rtol))
    if up.size:
        t = int(up[0]) + 1
        raise AssertionError(
            f"the loss increased at iteration {t}: {L[t - 1]:.6g} -> {L[t]:.6g} "
            f"(+{100 * (L[t] / L[t - 1] - 1):.3g} %); {up.size} increase(s) in {L.size} losses, rtol {rtol:g}"
        )


def assert_circulant(M, rtol: float = 1e-10) -> None:
    """Assert that ``M`` is circulant: ``M[i, j] = M[0, (j − i) mod n]`` up to ``rtol × max|M|``.

    Examples
    --------
    >>> import numpy as np
    >>> assert_circulant(np.array([[1.0, 2.0, 3.0], [3.0, 1.0, 2.0], [2.0, 3.0, 1.0]]))
    >>> assert_circulant(np.array([[1.0, 2.0], [0.0, 1.0]]))
    Traceback (most recent call last):
        ...
    AssertionError: not circulant: M[1, 0] = 0 but M[0, 1] = 2 (difference 2 > 2e-10 = rtol 1e-10 × max|M| 2)
    """
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise AssertionError(f"a circulant matrix is square, got shape {M.shape}")
    n = M.shape[0]
    idx = (np.arange(n)[None, :] - np.arange(n)[:, None]) % n
    ref = M[0][idx]
    scale = float(np.max(np.abs(M))) if M.size else 0.0
    diff = np.abs(M - ref)
    i, j = np.unravel_index(int(np.argmax(diff)), diff.shape) if M.size else (0, 0)
    if M.size and not diff[i, j] <= rtol * scale:
        raise AssertionError(
            f"not circulant: M[{i}, {j}] = {M[i, j]:.6g} but M[0, {idx[i, j]}] = {ref[i, j]:.6g} "
            f"(difference {diff[i, j]:.3g} > {rtol * scale:.3g} = rtol {rtol:g} × max|M| {scale:.6g})"
        )


def assert_psd(M, tol: float = 1e-12) -> None:
    """Assert that ``M`` is symmetric positive semi-definite, up to ``tol × max|λ|``.

    Checks symmetry (``|M − Mᵀ| <= tol × max|M|``) and the smallest
    eigenvalue (``λ_min >= −tol × max|λ|``, ``numpy.linalg.eigvalsh``).

    Examples
    --------
    >>> import numpy as np
    >>> assert_psd(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> assert_psd(np.array([[1.0, 2.0], [2.0, 1.0]]))
    Traceback (most recent call last):
        ...
    AssertionError: not positive semi-definite: smallest eigenvalue -1 < -3e-12 = -tol 1e-12 × max|λ| 3; eigenvector ...
    """
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise AssertionError(f"a PSD matrix is square, got shape {M.shape}")
    if M.size == 0:
        return
    if not np.all(np.isfinite(M)):
        i, j = np.argwhere(~np.isfinite(M))[0]
        raise AssertionError(f"M[{i}, {j}] = {M[i, j]} is not finite")
    scale = float(np.max(np.abs(M)))
    asym = np.abs(M - M.T)
    i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
    if not asym[i, j] <= tol * scale:
        raise AssertionError(f"not symmetric: M[{i}, {j}] = {M[i, j]:.6g} but M[{j}, {i}] = {M[j, i]:.6g} "
                             f"(difference {asym[i, j]:.3g} > tol {tol:g} × max|M| {scale:.6g})")
    lam, V = np.linalg.eigh(0.5 * (M + M.T))
    top = float(np.max(np.abs(lam)))
    if not lam[0] >= -tol * top:
        big = np.argsort(-np.abs(V[:, 0]))[:3].tolist()
        raise AssertionError(
            f"not positive semi-definite: smallest eigenvalue {lam[0]:.6g} < {-tol * top:.3g} = -tol {tol:g} × "
            f"max|λ| {top:.6g}; eigenvector largest at indices {big}"
        )
