"""The two-layer convolutional generator ``G(C) = relu(U C) v``.

``docs/theory.md`` §1 (model), §1.3 (gradient) and §2.1 (Jacobian).
"""

from __future__ import annotations

import numpy as np

from ._jit import threads_for
from ._memory import check_memory
from ._validation import as_float_array, as_rng, check_int, check_positive
from .operators import CircularConv, DenseOperator, as_measurement

__all__ = ["TwoLayerGenerator", "ACTIVATIONS", "default_output_weights"]


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_prime(z):
    return (z > 0).astype(z.dtype)


#: Activations by name: ``(phi, phi')``. ReLU is the model of the theory; the
#: closed-form expected kernel and the fused kernels exist for ReLU only.
ACTIVATIONS = {"relu": (_relu, _relu_prime)}


def default_output_weights(k: int) -> np.ndarray:
    """Fixed output weights: first ``k/2`` entries ``+1/√k``, last ``k/2`` entries ``−1/√k``.

    ``‖v‖ = 1`` and ``Σ v = 0`` (``docs/theory.md`` §1.1).
    """
    k = check_int("k", k, minimum=2, even=True)
    v = np.full(k, 1.0 / np.sqrt(k))
    v[k // 2:] *= -1.0
    return v


class TwoLayerGenerator:
    """Two-layer convolutional generator ``G(C) = relu(U C) v``.

    Only ``C`` (shape ``(n, k)``) is trained; the convolution ``U`` and the
    output weights ``v`` are fixed (``docs/theory.md`` §1.1, eq. (1.4)).

    Parameters
    ----------
    operator : CircularConv or DenseOperator
        The fixed ``n x n`` operator ``U``.
    k : int
        Number of channels; even and ``>= 2``.
    output_weights : array_like, shape (k,), optional
        Fixed output weights ``v``; default ``±1/√k`` (first half ``+``).
    activation : str, default "relu"
        Name of the activation (a key of :data:`ACTIVATIONS`).

    Notes
    -----
    Vectorisation: ``vec(C)`` stacks the columns, so entry ``C[j, l]`` has index
    ``l*n + j``; the Jacobian is ``J = [v_1 D_1 U, …, v_k D_k U]`` with
    ``D_l = diag(1{U c_l > 0})`` (``docs/theory.md`` §2.1).

    Examples
    --------
    >>> from ntk_toolkit import TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = TwoLayerGenerator(CircularConv(triangle(3), 16), k=8)
    >>> C = gen.init(seed=0, omega=0.1)
    >>> gen.forward(C).shape
    (16,)
    """

    def __init__(self, operator, k: int, output_weights=None, activation: str = "relu"):
        if not isinstance(operator, (CircularConv, DenseOperator)) and not (
            hasattr(operator, "apply") and hasattr(operator, "apply_T") and hasattr(operator, "n")
        ):
            raise TypeError(
                "operator must be a CircularConv, a DenseOperator or an operator with "
                f"apply, apply_T and n; got {type(operator).__name__}"
            )
        self.operator = operator
        self.n = int(operator.n)
        self.k = check_int("k", k, minimum=2, even=True)
        if output_weights is None:
            v = default_output_weights(self.k)
        else:
            v = as_float_array("output_weights", output_weights, shape=(self.k,))
        v.setflags(write=False)
        self.output_weights = v
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        self.activation = activation
        self._phi, self._dphi = ACTIVATIONS[activation]

    # ------------------------------------------------------------------ helpers
    @property
    def v(self) -> np.ndarray:
        """Alias of :attr:`output_weights`."""
        return self.output_weights

    @property
    def num_params(self) -> int:
        return self.n * self.k

    @property
    def _fused(self) -> bool:
        op = self.operator
        return self.activation == "relu" and isinstance(op, CircularConv) and op.method == "direct"

    def _check_C(self, C, name: str = "C") -> np.ndarray:
        return as_float_array(name, C, shape=(self.n, self.k))

    def _check_y(self, y, A, name: str = "y") -> np.ndarray:
        m = self.n if A is None else A.shape[0]
        return as_float_array(name, y, shape=(m,))

    def __repr__(self) -> str:
        return f"TwoLayerGenerator({self.operator!r}, k={self.k}, activation={self.activation!r})"

    # ------------------------------------------------------------------ model
    def init(self, seed=None, omega: float = 1.0, symmetric: bool = False) -> np.ndarray:
        """Draw ``C_0`` with i.i.d. ``N(0, omega²)`` entries.

        Parameters
        ----------
        seed : int, numpy.random.Generator or None
        omega : float, default 1.0
            Standard deviation; ``> 0``. The initial output has
            ``E‖G(C_0)‖² = n ω² ‖u‖² (½ − 1/(2π))`` (``docs/theory.md`` eq. (1.5)).
        symmetric : bool, default False
            Mirrored initialisation: draw the first ``k/2`` columns and copy
            them into the last ``k/2``. With the default output weights
            (``+`` then ``−``) this gives ``G(C_0) = 0`` (up to rounding), removing the
            initial-output term of the error (``docs/theory.md`` §4.2). Each
            column is still ``N(0, omega² I)``, so ``E[J Jᵀ] = Σ``; the
            empirical kernel then averages ``k/2`` independent channels.

        Returns
        -------
        ndarray, shape (n, k)
        """
        omega = check_positive("omega", omega)
        if not isinstance(symmetric, (bool, np.bool_)):
            raise TypeError(f"symmetric must be True or False, got {symmetric!r}")
        rng = as_rng(seed)
        if not symmetric:
            return omega * rng.standard_normal((self.n, self.k))
        half = omega * rng.standard_normal((self.n, self.k // 2))
        return np.ascontiguousarray(np.concatenate([half, half], axis=1))

    def preactivation(self, C) -> np.ndarray:
        """``Z = U C``, shape ``(n, k)``."""
        C = self._check_C(C)
        return self.operator._apply(C, adjoint=False)

    def activation_pattern(self, C) -> np.ndarray:
        """``S = 1{U C > 0}`` as a boolean array of shape ``(n, k)``."""
        return self.preactivation(C) > 0

    def forward(self, C) -> np.ndarray:
        """``G(C) = φ(U C) v`` (eq. (1.4)), shape ``(n,)``. Cost O(n k L) (direct) or O(n k log n)."""
        C = self._check_C(C)
        return self._forward(C)[0]

    def _fused_args(self, dtype) -> tuple[np.ndarray, np.ndarray]:
        """Taps and output weights in ``dtype`` for the fused kernels (cached)."""
        dtype = np.dtype(dtype)
        cache = self.__dict__.setdefault("_fused_cache", {})
        if dtype not in cache:
            cache[dtype] = (np.ascontiguousarray(self.operator.taps, dtype=dtype),
                            np.ascontiguousarray(self.output_weights, dtype=dtype))
        return cache[dtype]

    def _forward(self, C: np.ndarray):
        """Return ``(G(C), mask)`` for clean ``C``; ``mask`` is uint8 (fused) or φ'(Z).

        The fused path keeps ``C``'s dtype (float32 or float64); ``G(C)`` is float64.
        """
        if self._fused:
            from ._kernels import gd

            op = self.operator
            bw = gd.block_width(self.k)
            gpart = np.empty((-(-self.k // bw), self.n))
            mask = np.empty(C.shape, dtype=np.uint8)
            taps, v = self._fused_args(C.dtype)
            with threads_for(C.size * op.taps.size):
                gd.forward_mask(taps, op.center, C, v, mask, gpart, bw)
            return gpart.sum(axis=0), mask
        Z = self.operator._apply(C, adjoint=False)
        return self._phi(Z) @ self.output_weights, self._dphi(Z)

    def _backward(self, mask: np.ndarray, r: np.ndarray) -> np.ndarray:
        """``Uᵀ (φ'(Z) ∘ r vᵀ)`` for a clean residual ``r`` of shape (n,)."""
        if self._fused:
            from ._kernels import gd

            op = self.operator
            out = np.empty((self.n, self.k))
            taps, v = self._fused_args(np.float64)
            with threads_for(mask.size * op.taps.size):
                gd.backward(taps, op.center, mask, np.ascontiguousarray(r, dtype=np.float64), v, 1.0, out,
                            gd.block_width(self.k))
            return out
        W = mask * r[:, None]
        W *= self.output_weights[None, :]
        return self.operator._apply(np.ascontiguousarray(W), adjoint=True)

    def jvp(self, C, D) -> np.ndarray:
        """Jacobian-vector product ``J(C) vec(D) = (φ'(U C) ∘ U D) v`` (eq. (2.2)).

        Parameters
        ----------
        C, D : array_like, shape (n, k)

        Returns
        -------
        ndarray, shape (n,)
        """
        C = self._check_C(C)
        D = self._check_C(D, "D")
        Z = self.operator._apply(C, adjoint=False)
        UD = self.operator._apply(D, adjoint=False)
        return (self._dphi(Z) * UD) @ self.output_weights

    def vjp(self, C, r) -> np.ndarray:
        """Vector-Jacobian product ``J(C)ᵀ r`` reshaped to ``(n, k)``.

        ``(Jᵀ r)[:, l] = v_l Uᵀ (φ'(U c_l) ∘ r)`` (``docs/theory.md`` §1.3, eq. (2.2)).

        Parameters
        ----------
        C : array_like, shape (n, k)
        r : array_like, shape (n,)

        Returns
        -------
        ndarray, shape (n, k)
        """
        C = self._check_C(C)
        r = as_float_array("r", r, shape=(self.n,))
        _, mask = self._forward(C)
        return self._backward(mask, r)

    def jacobian(self, C) -> np.ndarray:
        """Dense Jacobian ``J(C) = ∂G/∂vec(C)``, shape ``(n, n*k)``.

        Column ``l*n + j`` is the derivative with respect to ``C[j, l]``:
        ``J = [v_1 D_1 U, …, v_k D_k U]`` (``docs/theory.md`` §2.1, eq. (2.1)).

        Notes
        -----
        ``J`` has ``n² k`` entries (8 n² k bytes): it is for small cases and
        tests. Above the memory budget this raises ``MemoryError``; use the
        matrix-free :meth:`jvp`, :meth:`vjp` and
        :func:`ntk_toolkit.empirical_kernel` instead.
        """
        C = self._check_C(C)
        nbytes = 8 * self.n * self.n * self.k
        check_memory(nbytes, f"the dense Jacobian of shape ({self.n}, {self.n * self.k})",
                     "use the matrix-free gen.jvp / gen.vjp, or "
                     "ntk_toolkit.empirical_kernel(gen, C, method='structured') for J Jᵀ")
        Z = self.operator._apply(C, adjoint=False)
        Dphi = self._dphi(Z)
        U = self.operator.todense()
        J = np.empty((self.n, self.n * self.k))
        for ell in range(self.k):
            J[:, ell * self.n:(ell + 1) * self.n] = (self.output_weights[ell] * Dphi[:, ell])[:, None] * U
        return J

    # ------------------------------------------------------------------ training
    def residual(self, C, y, A=None) -> np.ndarray:
        """``A G(C) − y`` (or ``G(C) − y`` without ``A``)."""
        A = as_measurement(A, self.n)
        C = self._check_C(C)
        y = self._check_y(y, A)
        g = self._forward(C)[0]
        return (g if A is None else A.apply(g)) - y

    def loss(self, C, y, A=None) -> float:
        """``½‖A G(C) − y‖²`` (``A = I`` when omitted). ``docs/theory.md`` §1.2, eqs. (1.6)–(1.7)."""
        r = self.residual(C, y, A)
        return 0.5 * float(r @ r)

    def gradient(self, C, y, A=None) -> np.ndarray:
        """Gradient of ``½‖A G(C) − y‖²`` with respect to ``C``, shape ``(n, k)``.

        ``∇_C L = Uᵀ (M ∘ (r vᵀ))``, ``M = 1{U C > 0}``, ``r = Aᵀ(A G(C) − y)``
        (``docs/theory.md`` §1.3, eq. (1.8)). Cost: two convolutions of ``(n, k)`` arrays.
        """
        A = as_measurement(A, self.n)
        C = self._check_C(C)
        y = self._check_y(y, A)
        g, mask = self._forward(C)
        r = g - y if A is None else A.apply_T(A.apply(g) - y)
        return self._backward(mask, np.ascontiguousarray(r, dtype=np.float64))
