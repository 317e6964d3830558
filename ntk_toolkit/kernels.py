"""Empirical kernel ``K(C) = J Jᵀ`` and its infinite-width expectation ``Σ``.

``docs/theory.md`` §2.1 (empirical kernel), §2.2 (closed form of ``Σ``) and
§2.3 (circulant structure).
"""

from __future__ import annotations

import numpy as np

from . import _lazy
from ._memory import check_memory
from ._validation import as_float_array
from .generator import TwoLayerGenerator
from .operators import circulant_from_first_row

__all__ = ["empirical_kernel", "expected_kernel", "expected_kernel_first_row", "gram_matrix"]

#: Channels per block when streaming the activation Gram (bounds the temporaries).
_BLOCK_BYTES = 32 * 1024**2


def _check_gen(gen) -> TwoLayerGenerator:
    if not isinstance(gen, TwoLayerGenerator):
        raise TypeError(f"gen must be a TwoLayerGenerator, got {type(gen).__name__}")
    return gen


def gram_matrix(gen: TwoLayerGenerator) -> np.ndarray:
    """``U Uᵀ`` as a dense ``(n, n)`` matrix (from its first row when circulant)."""
    op = _check_gen(gen).operator
    if getattr(op, "is_circulant", False):
        return circulant_from_first_row(op.gram_first_row())
    return op.gram()


def empirical_kernel(gen: TwoLayerGenerator, C, method: str = "auto") -> np.ndarray:
    """Empirical (finite-width) kernel ``K(C) = J(C) J(C)ᵀ``.

    ``K = (U Uᵀ) ∘ (S diag(v²) Sᵀ)`` with ``S = 1{U C > 0}``: ``K_ij`` is
    ``⟨u_i, u_j⟩`` times the ``v²``-weighted fraction of channels in which
    outputs ``i`` and ``j`` are both active (``docs/theory.md`` §2.1).

    Parameters
    ----------
    gen : TwoLayerGenerator
    C : array_like, shape (n, k)
    method : {"auto", "structured", "jacobian"}
        ``structured`` streams over blocks of channels, forms the activation
        pattern of each block and accumulates its Gram with a symmetric rank-k
        update (BLAS ``syrk``, one triangle); O(n² k) time, O(n² + n k_block)
        extra memory, never forms ``J``. With ``|v_l|`` all equal (the default
        ``v``) the pattern Gram is a matrix of channel counts computed exactly
        in float32. ``jacobian`` forms the dense ``J`` (O(n² k) memory) and
        returns ``J Jᵀ``; for tests. ``auto`` is ``structured``.

    Returns
    -------
    ndarray, shape (n, n)
        Symmetric positive semi-definite.
    """
    gen = _check_gen(gen)
    C = gen._check_C(C)
    if method not in ("auto", "structured", "jacobian"):
        raise ValueError(f"method must be 'auto', 'structured' or 'jacobian', got {method!r}")
    if method == "jacobian":
        J = gen.jacobian(C)
        return J @ J.T
    n, k = gen.n, gen.k
    check_memory(3 * 8 * n * n + 12 * n * min(k, 4096),
                 f"the empirical kernel of size ({n}, {n})",
                 "use the expected kernel's spectrum (ntk_toolkit.spectrum(gen)) or a smaller n")
    v2 = gen.output_weights ** 2
    equal = bool(np.all(v2 == v2[0])) and k < 2**24
    block = max(1, min(k, _BLOCK_BYTES // (8 * n)))
    G = np.zeros((n, n), dtype=np.float32 if equal else np.float64, order="F")
    syrk = _lazy.blas().ssyrk if equal else _lazy.blas().dsyrk
    dphi = gen._dphi
    relu = gen.activation == "relu"
    for start in range(0, k, block):
        stop = min(k, start + block)
        Cb = np.ascontiguousarray(C[:, start:stop])
        Zb = gen.operator._apply(Cb, adjoint=False)
        if equal:
            Sb = np.greater(Zb, 0.0).astype(np.float32) if relu else dphi(Zb).astype(np.float32)
        else:
            Sb = dphi(Zb) * np.sqrt(v2[start:stop])[None, :]
        del Zb
        # Sb is C-contiguous (n, b): its transpose is Fortran (b, n); trans=1 gives Sbᵀᵀ Sbᵀ = Sb Sbᵀ
        G = syrk(1.0, Sb.T, beta=1.0, c=G, trans=1, lower=0, overwrite_c=1)
    scale = float(v2[0]) if equal else 1.0
    if getattr(gen.operator, "is_circulant", False):
        from ._jit import threads_for
        from ._kernels import gram

        K = np.empty((n, n))
        a = np.ascontiguousarray(gen.operator.gram_first_row())
        with threads_for(n * n):
            gram.finish_circulant(G, a, scale, K)
        return K
    K = np.triu(G).astype(np.float64)
    K += np.triu(K, 1).T
    K *= scale
    K *= gram_matrix(gen)
    return K


def expected_kernel_first_row(gen: TwoLayerGenerator) -> np.ndarray:
    """First row of ``Σ`` for a circulant operator, without any ``n x n`` array.

    ``s_d = ‖v‖² · ½ a_d (1 − arccos(a_d / a_0) / π)`` with ``a`` the circular
    autocorrelation of the filter (``docs/theory.md`` §2.2–2.3). Cost
    O(min(L², n log n)) plus O(n).

    Returns
    -------
    ndarray, shape (n,)
        ``Σ[i, j] = s[(j − i) mod n]``; ``s_d = s_{n−d}``.
    """
    gen = _check_gen(gen)
    _check_relu(gen)
    op = gen.operator
    if not getattr(op, "is_circulant", False):
        raise ValueError(
            f"expected_kernel_first_row needs a circulant operator (CircularConv), got "
            f"{type(op).__name__}; use expected_kernel(gen) for a dense operator"
        )
    a = op.gram_first_row()
    a0 = a[0]
    if not a0 > 0:
        raise ValueError("the filter has zero norm: every row of U is zero")
    cos = np.clip(a / a0, -1.0, 1.0)
    vv = float(gen.output_weights @ gen.output_weights)
    return vv * 0.5 * a * (1.0 - np.arccos(cos) / np.pi)


def _check_relu(gen):
    if gen.activation != "relu":
        raise ValueError(
            f"the closed-form expected kernel holds for activation='relu', got {gen.activation!r}"
        )


def expected_kernel(gen: TwoLayerGenerator) -> np.ndarray:
    """Expected kernel ``Σ = E_{C_0}[J(C_0) J(C_0)ᵀ]`` as a dense ``(n, n)`` matrix.

    ``Σ_ij = ‖v‖² ⟨u_i, u_j⟩ (π − θ_ij) / (2π)``,
    ``θ_ij = arccos(⟨u_i, u_j⟩ / (‖u_i‖ ‖u_j‖))`` with ``u_i`` the rows of ``U``
    (``docs/theory.md`` §2.2). Independent of the initialisation scale ``ω``.

    Notes
    -----
    For a circulant operator ``Σ`` is circulant and built from
    :func:`expected_kernel_first_row`; its spectrum is available in O(n log n)
    from :func:`ntk_toolkit.spectrum` without this matrix. Cost O(n²) memory.
    """
    gen = _check_gen(gen)
    _check_relu(gen)
    n = gen.n
    check_memory(3 * 8 * n * n, f"the expected kernel of size ({n}, {n})",
                 "use expected_kernel_first_row(gen) or ntk_toolkit.spectrum(gen)")
    if getattr(gen.operator, "is_circulant", False):
        return circulant_from_first_row(expected_kernel_first_row(gen))
    P = gen.operator.gram()
    d = np.sqrt(np.diag(P))
    if np.any(d == 0):
        rows = np.flatnonzero(d == 0)[:5].tolist()
        raise ValueError(f"U has rows of zero norm (rows {rows}); the angle θ_ij is undefined there")
    cos = np.clip(P / np.outer(d, d), -1.0, 1.0)
    np.fill_diagonal(cos, 1.0)  # θ_ii = 0 exactly: arccos is ill-conditioned at 1 (error ~ √eps)
    vv = float(gen.output_weights @ gen.output_weights)
    S = vv * P * (np.pi - np.arccos(cos)) / (2.0 * np.pi)
    return 0.5 * (S + S.T)


def _as_kernel_matrix(name: str, K) -> np.ndarray:
    K = as_float_array(name, K, ndim=2)
    if K.shape[0] != K.shape[1]:
        raise ValueError(f"{name} must be a square (n, n) matrix, got shape {K.shape}")
    scale = max(float(np.max(np.abs(K))), np.finfo(float).tiny)
    if float(np.max(np.abs(K - K.T))) > 1e-10 * scale:
        raise ValueError(f"{name} must be symmetric; max |K - Kᵀ| = {np.max(np.abs(K - K.T)):.3g}")
    return K
