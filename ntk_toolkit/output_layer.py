"""The output layer of the two-layer generator: fixed weights ``v = ±1/√k``, or trained ``v = a/√k``.

With ``TwoLayerGenerator(..., train_output=True)`` the weights are an
``(n + 1, k)`` array ``W``: ``W[:n] = C`` and ``W[n] = a``, the output weights
in the NTK parameterisation ``v = a/√k`` (``a`` initialised at ``±1``), so that
both terms of the kernel are of order one:

``J Jᵀ = (U Uᵀ) ∘ (φ'(UC) diag(v²) φ'(UC)ᵀ) + φ(UC) φ(UC)ᵀ / k``,

whose expectation is ``Σ = Σ_C + Σ_a`` with ``Σ_a[i, j] = E[φ(u_iᵀc) φ(u_jᵀc)]``
(``docs/theory.md`` §2.2). The functions below are the forward and backward
passes of that model; :class:`~ntk_toolkit.TwoLayerGenerator` calls them.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._memory import check_memory
from ._validation import check_int

__all__ = ["default_output_weights", "TrainedPattern", "forward_pattern", "backward", "jvp_pattern"]


def default_output_weights(k: int) -> np.ndarray:
    """Fixed output weights: first ``k/2`` entries ``+1/√k``, last ``k/2`` entries ``−1/√k``.

    ``‖v‖ = 1`` and ``Σ v = 0`` (``docs/theory.md`` §1.1).

    Parameters
    ----------
    k : int
        Number of channels, even and ``>= 2``.

    Returns
    -------
    ndarray, shape (k,)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.generator import default_output_weights
    >>> v = default_output_weights(4)
    >>> v.tolist()
    [0.5, 0.5, -0.5, -0.5]
    >>> round(float(np.linalg.norm(v)), 12), float(v.sum())
    (1.0, 0.0)
    """
    k = check_int("k", k, minimum=2, even=True)
    check_memory(8 * k, f"the output weights of k={k} channels", "use a smaller k")
    v = np.full(k, 1.0 / np.sqrt(k))
    v[k // 2:] *= -1.0
    return v


class TrainedPattern(NamedTuple):
    """What the backward pass of a trained output layer keeps from the forward pass.

    Attributes
    ----------
    dphi : ndarray, shape (n, k)
        ``φ'(U C)``.
    phi : ndarray, shape (n, k)
        ``φ(U C)``.
    v : ndarray, shape (k,)
        ``a/√k``.

    Examples
    --------
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import delta
    >>> gen = TwoLayerGenerator(CircularConv(delta(), 4), k=2, train_output=True)
    >>> pattern = gen.forward_pattern(gen.init(seed=0))[1]
    >>> pattern.phi.shape, pattern.v.tolist() == gen.output_weights.tolist()
    ((4, 2), True)
    """

    dphi: np.ndarray
    phi: np.ndarray
    v: np.ndarray


def forward_pattern(gen, W: np.ndarray) -> tuple[np.ndarray, TrainedPattern]:
    """``(G(W), pattern)`` for clean weights ``W`` of shape ``(n + 1, k)``: ``G = φ(U C) a/√k``.

    Cost: one ``apply`` of an ``(n, k)`` array and ``2 n k`` activations.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 8), k=4, activation="tanh", train_output=True)
    >>> W = gen.init(seed=0)
    >>> g, _ = forward_pattern(gen, W)
    >>> bool(np.allclose(g, np.tanh(gen.operator.apply(W[:8])) @ (W[8] / 2)))
    True
    """
    C, v = gen.split_weights(W)
    Z = gen.operator.apply_unchecked(np.ascontiguousarray(C), adjoint=False)
    phi = gen.activation.fn(Z)
    return phi @ v, TrainedPattern(gen.activation.derivative(Z), phi, v)


def backward(gen, pattern: TrainedPattern, r: np.ndarray) -> np.ndarray:
    """``J(W)ᵀ r``, shape ``(n + 1, k)``: ``Uᵀ(φ'(UC) ∘ r vᵀ)`` on top, ``φ(UC)ᵀ r / √k`` in the last row.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 8), k=4, activation="erf", train_output=True)
    >>> W, D, r = gen.init(seed=0), gen.init(seed=1), np.linspace(-1.0, 1.0, 8)
    >>> g = backward(gen, gen.forward_pattern(W)[1], r)  # adjoint of the jvp: ⟨J D, r⟩ = ⟨D, Jᵀ r⟩
    >>> g.shape, bool(np.isclose(gen.jvp(W, D) @ r, np.sum(D * g)))
    ((9, 4), True)
    """
    M = pattern.dphi * r[:, None]
    M *= pattern.v[None, :]
    out = np.empty((gen.n + 1, gen.k), dtype=np.result_type(M.dtype, np.float64))
    out[:gen.n] = gen.operator.apply_unchecked(np.ascontiguousarray(M), adjoint=True)
    out[gen.n] = (r @ pattern.phi) / np.sqrt(gen.k)
    return out


def jvp_pattern(gen, pattern: TrainedPattern, D: np.ndarray) -> np.ndarray:
    """``J(W) vec(D) = (φ'(UC) ∘ U D_C) v + φ(UC) D_a / √k`` for ``D`` of shape ``(n + 1, k)``, shape ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 8), k=4, activation="tanh", train_output=True)
    >>> W, D = gen.init(seed=0), gen.init(seed=1)
    >>> bool(np.allclose(jvp_pattern(gen, gen.forward_pattern(W)[1], D), gen.jvp(W, D)))
    True
    """
    UD = gen.operator.apply_unchecked(np.ascontiguousarray(D[:gen.n]), adjoint=False)
    return (pattern.dphi * UD) @ pattern.v + pattern.phi @ (D[gen.n] / np.sqrt(gen.k))
