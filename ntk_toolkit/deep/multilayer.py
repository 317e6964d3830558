"""Multi-layer convolutional generators: the two-layer model ``relu(U C) v`` made deeper (``docs/theory.md`` §2.7).

``H_1 = relu(U_1 C_1)``, ``H_l = relu(U_l H_{l−1} W_l)`` for ``l = 2 … d`` and
``G = H_d v``, with fixed circulant operators ``U_l`` (``n x n``), trainable
``C_1`` of shape ``(n, k_1)`` and 1×1 channel mixings ``W_l`` of shape
``(k_{l−1}, k_l)``, and fixed output weights ``v = ±1/√k_d``. With ``d = 1``
it is :class:`~ntk_toolkit.TwoLayerGenerator`; depth can be varied with the
operators, widths and output weights fixed.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, as_rng, check_bool, check_positive
from ..generator import default_output_weights
from ..operators import as_operator
from .model import FlatParamsGenerator, check_channels

__all__ = ["MultiLayerConvGenerator"]


class MultiLayerConvGenerator(FlatParamsGenerator):
    """Depth-``d`` convolutional generator with fixed circulant operators between its layers.

    Parameters
    ----------
    operator_list : sequence of Operator
        ``[U_1, …, U_d]``, square ``n x n`` operators on the same signal or
        image (:class:`~ntk_toolkit.CircularConv`,
        :class:`~ntk_toolkit.CircularConv2D`, :class:`~ntk_toolkit.DenseOperator`).
    channels : sequence of int
        ``[k_1, …, k_d]``, one per operator; ``k_d`` even.
    output_weights : array_like, shape (k_d,), optional
        Fixed ``v``; default ``±1/√k_d`` (first half ``+``).

    Attributes
    ----------
    n, depth, num_params : int
    operators : tuple of Operator
    channels : tuple of int
    output_weights : ndarray, shape (k_d,)

    Notes
    -----
    Parameters are one flat vector: ``vec(C_1)`` stacked by columns (entry
    ``C_1[j, l]`` at index ``l n + j``, as :class:`~ntk_toolkit.TwoLayerGenerator`),
    then ``W_2, …, W_d`` row-major. Derivatives (hand-derived):
    ``dH_l = 1{Z_l > 0} ⊙ U_l (dH_{l−1} W_l + H_{l−1} dW_l)``, and the
    transposes in reverse order for ``vjp``. Cost of ``forward``, ``jvp`` or
    ``vjp``: ``d`` applications of an operator to an ``(n, k)`` array plus
    O(n Σ_l k_{l−1} k_l) for the mixings. No closed-form expected kernel for
    ``d >= 2``: average :func:`ntk_toolkit.empirical_kernel` over ``init``
    draws (Monte Carlo).

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
    >>> from ntk_toolkit.deep import MultiLayerConvGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> U = CircularConv(triangle(2), 16)
    >>> deep = MultiLayerConvGenerator([U, U, U], [8, 8, 8])
    >>> deep.depth, deep.num_params
    (3, 256)
    >>> one = MultiLayerConvGenerator([U], [8])
    >>> two = TwoLayerGenerator(U, k=8)
    >>> C = two.init(seed=0)
    >>> bool(np.allclose(one.forward(C.T.ravel()), two.forward(C), rtol=0, atol=1e-14))
    True
    """

    def __init__(self, operator_list, channels, output_weights=None):
        if (isinstance(operator_list, (str, bytes, np.ndarray)) or not hasattr(operator_list, "__len__")
                or len(operator_list) == 0):
            raise TypeError(f"operator_list must be a non-empty list of n x n operators, got {operator_list!r}")
        ops = tuple(as_operator(op, f"operator_list[{j}]") for j, op in enumerate(operator_list))
        n = int(ops[0].n)
        for j, op in enumerate(ops):
            if tuple(op.shape) != (n, n):
                raise ValueError(f"operator_list[{j}] must be square of shape ({n}, {n}) like operator_list[0], "
                                 f"got shape {tuple(op.shape)}")
        self.operators = ops
        self.n = n
        self.channels = check_channels(channels, minimum_len=1)
        if len(self.channels) != len(ops):
            raise ValueError(f"channels must give one width per operator ({len(ops)}), got {list(self.channels)}")
        self.depth = len(ops)
        kd = self.channels[-1]
        if output_weights is None:
            v = default_output_weights(kd)
        else:
            v = as_float_array("output_weights", output_weights, shape=(kd,))
        v.setflags(write=False)
        self.output_weights = v
        sizes = [n * self.channels[0]] + [a * b for a, b in zip(self.channels[:-1], self.channels[1:])]
        self._offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)

    @property
    def num_params(self) -> int:
        """``n k_1 + Σ_l k_{l−1} k_l``."""
        return int(self._offsets[-1])

    def __repr__(self) -> str:
        return f"MultiLayerConvGenerator({list(self.operators)!r}, channels={list(self.channels)})"

    # ------------------------------------------------------------------ parameters
    def params_to_arrays(self, theta, copy: bool = True) -> dict:
        """``{"C1": (n, k_1), "W2": (k_1, k_2), …}`` from the flat parameters.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit import CircularConv
        >>> from ntk_toolkit.deep import MultiLayerConvGenerator
        >>> from ntk_toolkit.filters import triangle
        >>> gen = MultiLayerConvGenerator([CircularConv(triangle(1), 4)] * 2, [2, 2])
        >>> a = gen.params_to_arrays(np.arange(gen.num_params, dtype=float))
        >>> a["C1"].tolist(), a["W2"].tolist()
        ([[0.0, 4.0], [1.0, 5.0], [2.0, 6.0], [3.0, 7.0]], [[8.0, 9.0], [10.0, 11.0]])
        """
        theta = self.check_weights(theta, "theta") if copy else theta
        o, k = self._offsets, self.channels
        out = {"C1": theta[o[0]:o[1]].reshape(k[0], self.n).T}
        for j in range(1, self.depth):
            out[f"W{j + 1}"] = theta[o[j]:o[j + 1]].reshape(k[j - 1], k[j])
        return out

    def arrays_to_params(self, arrays: dict) -> np.ndarray:
        """Flat parameters from ``{"C1": …, "W2": …}`` (the inverse of :meth:`params_to_arrays`).

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit import CircularConv
        >>> from ntk_toolkit.deep import MultiLayerConvGenerator
        >>> from ntk_toolkit.filters import triangle
        >>> gen = MultiLayerConvGenerator([CircularConv(triangle(1), 4)] * 2, [2, 2])
        >>> theta = gen.init(seed=0)
        >>> bool(np.array_equal(gen.arrays_to_params(gen.params_to_arrays(theta)), theta))
        True
        """
        if not isinstance(arrays, dict):
            raise TypeError(f"arrays must be a dict of parameter arrays by name, got {type(arrays).__name__}")
        k = self.channels
        C1 = as_float_array("arrays['C1']", arrays["C1"], shape=(self.n, k[0]))
        parts = [C1.T.ravel()]
        for j in range(1, self.depth):
            parts.append(as_float_array(f"arrays['W{j + 1}']", arrays[f"W{j + 1}"], shape=(k[j - 1], k[j])).ravel())
        return np.concatenate(parts)

    def init(self, seed=None, omega: float = 1.0, symmetric: bool = False) -> np.ndarray:
        """``C_1`` i.i.d. ``N(0, ω²)`` (drawn first, as ``TwoLayerGenerator.init``), ``W_l`` i.i.d. ``N(0, 2/k_{l−1})``.

        The ``W_l`` scale (He's) keeps the size of the hidden activations
        roughly constant through the ReLUs. ``symmetric=True`` mirrors the
        last layer (its second half of channels copies the first: ``C_1``
        for ``d = 1``, else ``W_d``) so that ``G(θ_0) = 0`` with the default
        output weights, as ``TwoLayerGenerator.init(symmetric=True)``.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit import CircularConv, TwoLayerGenerator
        >>> from ntk_toolkit.deep import MultiLayerConvGenerator
        >>> from ntk_toolkit.filters import triangle
        >>> U = CircularConv(triangle(2), 8)
        >>> theta = MultiLayerConvGenerator([U], [4]).init(seed=3, omega=0.5)
        >>> bool(np.array_equal(theta, TwoLayerGenerator(U, k=4).init(seed=3, omega=0.5).T.ravel()))
        True
        """
        omega = check_positive("omega", omega)
        rng = as_rng(seed)
        k = self.channels
        arrays = {"C1": omega * rng.standard_normal((self.n, k[0]))}
        for j in range(1, self.depth):
            arrays[f"W{j + 1}"] = np.sqrt(2.0 / k[j - 1]) * rng.standard_normal((k[j - 1], k[j]))
        symmetric = check_bool("symmetric", symmetric)
        if symmetric:
            last = "C1" if self.depth == 1 else f"W{self.depth}"
            half = k[-1] // 2
            if k[-1] % 2:
                raise ValueError(f"symmetric=True needs an even channels[-1], got {k[-1]}")
            arrays[last][:, half:] = arrays[last][:, :half]
        return self.arrays_to_params(arrays)

    # ------------------------------------------------------------------ model
    def forward_pattern(self, theta: np.ndarray):
        """``(G(θ), cache)`` with the hidden activations and ReLU patterns; ``theta`` not validated.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit import CircularConv
        >>> from ntk_toolkit.deep import MultiLayerConvGenerator
        >>> from ntk_toolkit.filters import triangle
        >>> gen = MultiLayerConvGenerator([CircularConv(triangle(2), 8)] * 2, [4, 4])
        >>> theta = gen.init(seed=0)
        >>> g, cache = gen.forward_pattern(theta)
        >>> bool(np.allclose(gen.backward(cache, g), gen.vjp(theta, g)))
        True
        """
        a = self.params_to_arrays(np.asarray(theta, dtype=np.float64), copy=False)
        Z = self.operators[0].apply_unchecked(np.ascontiguousarray(a["C1"]), adjoint=False)
        masks, hidden = [Z > 0], []
        H = np.where(masks[0], Z, 0.0)
        for j in range(1, self.depth):
            hidden.append(H)
            Z = self.operators[j].apply_unchecked(np.ascontiguousarray(H @ a[f"W{j + 1}"]), adjoint=False)
            masks.append(Z > 0)
            H = np.where(masks[-1], Z, 0.0)
        return H @ self.output_weights, (a, masks, hidden)

    def jvp_pattern(self, cache, d: np.ndarray) -> np.ndarray:
        """``J(θ) d`` from the cache of :meth:`forward_pattern`; ``d`` not validated."""
        a, masks, hidden = cache
        da = self.params_to_arrays(np.asarray(d, dtype=np.float64), copy=False)
        dZ = self.operators[0].apply_unchecked(np.ascontiguousarray(da["C1"]), adjoint=False)
        dH = np.where(masks[0], dZ, 0.0)
        for j in range(1, self.depth):
            M = dH @ a[f"W{j + 1}"] + hidden[j - 1] @ da[f"W{j + 1}"]
            dH = np.where(masks[j], self.operators[j].apply_unchecked(M, adjoint=False), 0.0)
        return dH @ self.output_weights

    def backward(self, cache, r: np.ndarray) -> np.ndarray:
        """``J(θ)ᵀ r`` (flat) from the cache of :meth:`forward_pattern`; ``r`` not validated."""
        a, masks, hidden = cache
        grads = {}
        gZ = np.where(masks[-1], np.asarray(r, dtype=np.float64)[:, None] * self.output_weights[None, :], 0.0)
        for j in range(self.depth - 1, 0, -1):
            gM = self.operators[j].apply_unchecked(np.ascontiguousarray(gZ), adjoint=True)
            grads[f"W{j + 1}"] = hidden[j - 1].T @ gM
            gZ = np.where(masks[j - 1], gM @ a[f"W{j + 1}"].T, 0.0)
        grads["C1"] = self.operators[0].apply_unchecked(np.ascontiguousarray(gZ), adjoint=True)
        return self.arrays_to_params(grads)
