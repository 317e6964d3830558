"""The two-layer convolutional generator ``G(C) = φ(U C) v`` (``φ = relu`` by default).

``docs/theory.md`` §1 (model), §1.3 (gradient) and §2.1 (Jacobian); other
activations in :mod:`ntk_toolkit.activations`, the trained output layer in
:mod:`ntk_toolkit.output_layer`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import numpy as np

from . import output_layer as _output_layer
from ._jit import threads_for
from ._memory import check_memory
from ._validation import as_float_array, as_rng, check_bool, check_int, check_positive
from .activations import ACTIVATIONS, Activation, as_activation
from .measurements import as_measurement, as_measurements
from .operators import as_operator
from .output_layer import default_output_weights

__all__ = ["Generator", "TwoLayerGenerator", "FusedStep", "ACTIVATIONS", "default_output_weights", "is_generator"]


@runtime_checkable
class Generator(Protocol):
    """What gradient descent, the kernels and the linearized prediction need of a generator.

    A generator maps weights ``C`` (an array with ``num_params`` entries) to
    a signal ``G(C)`` of length ``n``. Required:

    * ``n``, ``num_params``;
    * ``init(seed=None, omega=1.0)`` → initial weights;
    * ``forward(C)`` → ``G(C)``, shape ``(n,)``;
    * ``jvp(C, D)`` → ``J(C) vec(D)``, shape ``(n,)``;
    * ``vjp(C, r)`` → ``J(C)ᵀ r`` shaped like ``C``.

    Optional fast paths, used when present (:class:`TwoLayerGenerator` has them all):

    * ``check_weights(C, name)`` → validated weights (default: a finite
      float array);
    * ``forward_pattern(C)`` → ``(G(C), pattern)`` and ``backward(pattern, r)``
      → ``J(C)ᵀ r``: a forward pass that keeps what the backward pass needs
      (the activation pattern), so that a step of gradient descent costs one
      forward and one backward pass (default: ``forward`` and ``vjp``), and
      ``jvp_pattern(pattern, D)`` → ``J(C) vec(D)`` from the same pattern (the
      matrix-free kernel ``J Jᵀ`` uses the pair);
    * ``fused_step(eta, dtype)`` → a :class:`FusedStep` or ``None``;
    * ``kernel_norm_bound()`` → a bound ``β`` with ``J(C) J(C)ᵀ ⪯ β I`` for
      every ``C``, from which :func:`ntk_toolkit.max_step_size` gives a step
      size that is stable whatever the weights;
    * ``operator``, ``output_weights``, ``activation``, ``k``: the two-layer
      model, whose expected kernel ``Σ`` has a closed form
      (:func:`ntk_toolkit.expected_kernel`).

    Examples
    --------
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> isinstance(TwoLayerGenerator(CircularConv(triangle(2), 8), k=4), Generator)
    True
    """

    n: int

    @property
    def num_params(self) -> int: ...

    def init(self, seed=None, omega: float = 1.0) -> np.ndarray: ...

    def forward(self, C) -> np.ndarray: ...

    def jvp(self, C, D) -> np.ndarray: ...

    def vjp(self, C, r) -> np.ndarray: ...


class FusedStep:
    """One fused gradient-descent step of a two-layer generator, in place (``docs/theory.md`` §1.3).

    ``step(mask, r, C)`` updates ``C ← C − η Uᵀ(M ∘ r vᵀ)`` with the
    activation pattern ``M = mask`` of ``C`` and the residual ``r``,
    overwrites ``mask`` with the pattern of the new ``C`` and returns ``G``
    of the new ``C``; each entry of ``C`` is read and written once (one
    Numba sweep, O(n k L)). Built by :meth:`TwoLayerGenerator.fused_step`.

    Attributes
    ----------
    dtype : numpy.dtype
        float64 or float32, the dtype of ``C``.
    work : int
        Multiply-adds per step, about ``n k L`` (chooses the number of threads).

    Examples
    --------
    Built by :meth:`TwoLayerGenerator.fused_step` for a convolution applied by
    direct taps (``triangle(2)`` has three taps, padded to seven to take rows
    in pairs); a dense ``U`` has no fused step. One call is one gradient step:

    >>> import numpy as np
    >>> from ntk_toolkit import CircularConv, DenseOperator, TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=4)
    >>> step = gen.fused_step(0.1)
    >>> step.dtype, step.work, gen.fused_step(0.1, np.float32).dtype
    (dtype('float64'), 448, dtype('float32'))
    >>> TwoLayerGenerator(DenseOperator(gen.operator.todense()), k=4).fused_step(0.1) is None
    True
    >>> y = np.cos(2 * np.pi * np.arange(16) / 16)
    >>> C = gen.init(seed=0)
    >>> loss0 = gen.loss(C, y)
    >>> g, mask = gen.forward_pattern(C)
    >>> g_new = step(mask, g - y, C)  # updates C and mask in place
    >>> bool(np.allclose(g_new, gen.forward(C))), bool(gen.loss(C, y) < loss0)
    (True, True)
    """

    def __init__(self, kernel: Callable, stencil: tuple, v: np.ndarray, eta: float, n: int, k: int, work: int,
                 bw: int):
        self._kernel, self._stencil, self._v = kernel, stencil, v
        self.dtype = v.dtype
        self._eta = self.dtype.type(eta)
        self._bw = bw
        self._gpart = np.empty((-(-k // self._bw), n))
        self.work = work

    def __call__(self, mask: np.ndarray, r: np.ndarray, C: np.ndarray) -> np.ndarray:
        self._kernel(*self._stencil, mask, np.ascontiguousarray(r, dtype=self.dtype), self._v,
                     self._eta, C, self._gpart, self._bw)
        return self._gpart.sum(axis=0)


class TwoLayerGenerator:
    """Two-layer convolutional generator ``G(C) = φ(U C) v``, ``φ = relu`` by default.

    By default only ``C`` (shape ``(n, k)``) is trained; the convolution ``U``
    and the output weights ``v`` are fixed (``docs/theory.md`` §1.1, eq. (1.4)).
    With ``train_output=True`` the output layer is trained too, in the NTK
    parameterisation ``v = a/√k``: the weights are then an ``(n + 1, k)``
    array whose last row is ``a`` (initialised at ``√k v``, i.e. ``±1``).

    Parameters
    ----------
    operator : Operator or OperatorLike
        The fixed ``n x n`` operator ``U``: a :class:`~ntk_toolkit.operators.CircularConv`,
        a :class:`~ntk_toolkit.operators.DenseOperator`, or any object with
        ``n``, ``apply`` and ``apply_T`` (wrapped by :func:`~ntk_toolkit.operators.as_operator`).
    k : int
        Number of channels; even and ``>= 2``.
    output_weights : array_like, shape (k,), optional
        Fixed output weights ``v``; default ``±1/√k`` (first half ``+``).
    activation : str or Activation, default "relu"
        A name or :class:`~ntk_toolkit.activations.Activation`
        (:func:`~ntk_toolkit.activations.as_activation`). ReLU runs the fused
        Numba kernels; the others NumPy ``φ``, ``φ'`` in float64.
    train_output : bool, default False
        Train the output layer too (``v = a/√k``, ``a`` trained): the kernel
        gains the term ``Σ_a[i, j] = E[φ(u_iᵀc) φ(u_jᵀc)]``
        (:func:`ntk_toolkit.expected_kernel`).

    Notes
    -----
    Vectorisation: ``vec(C)`` stacks the columns, so entry ``C[j, l]`` has index
    ``l*n + j``; the Jacobian is ``J = [v_1 D_1 U, …, v_k D_k U]`` with
    ``D_l = diag(φ'(U c_l))`` (``docs/theory.md`` §2.1). With
    ``train_output=True`` the Jacobian has ``k`` more columns, ``φ(U c_l)/√k``
    (the derivatives by ``a_l``), after those of ``C``.

    Examples
    --------
    >>> from ntk_toolkit import TwoLayerGenerator
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = TwoLayerGenerator(CircularConv(triangle(3), 16), k=8)
    >>> C = gen.init(seed=0, omega=0.1)
    >>> gen.forward(C).shape
    (16,)
    >>> trained = TwoLayerGenerator(CircularConv(triangle(3), 16), k=8, activation="tanh", train_output=True)
    >>> trained.init(seed=0).shape, trained.num_params
    ((17, 8), 136)
    """

    def __init__(self, operator, k: int, output_weights=None, activation: str | Activation = "relu",
                 train_output: bool = False):
        operator = as_operator(operator)
        if operator.shape[0] != operator.n:
            raise ValueError(f"operator must be square (n, n), got shape {operator.shape}")
        self.operator = operator
        self.n = int(operator.n)
        self.k = check_int("k", k, minimum=2, even=True)
        if output_weights is None:
            v = default_output_weights(self.k)
        else:
            v = as_float_array("output_weights", output_weights, shape=(self.k,))
        v.setflags(write=False)
        self.output_weights = v
        self.activation = as_activation(activation)
        train_output = check_bool("train_output", train_output)
        self.train_output = bool(train_output)
        self._phi, self._dphi = self.activation.fn, self.activation.derivative

    # ------------------------------------------------------------------ helpers
    @property
    def v(self) -> np.ndarray:
        """Alias of :attr:`output_weights`."""
        return self.output_weights

    @property
    def num_params(self) -> int:
        return self.n * self.k + (self.k if self.train_output else 0)

    def split_weights(self, C) -> tuple[np.ndarray, np.ndarray]:
        """``(C, v)``: first-layer weights ``(n, k)`` and output weights ``(k,)`` (``a/√k`` with ``train_output``).

        Examples
        --------
        >>> from ntk_toolkit.filters import delta
        >>> from ntk_toolkit.operators import CircularConv
        >>> gen = TwoLayerGenerator(CircularConv(delta(), 3), k=4, train_output=True)
        >>> C, v = gen.split_weights(gen.init(seed=0))
        >>> C.shape, v.tolist()
        ((3, 4), [0.5, 0.5, -0.5, -0.5])
        """
        if not self.train_output:
            return C, self.output_weights
        return C[:self.n], C[self.n] / np.sqrt(self.k)

    def _direct_taps(self):
        """The operator's direct taps when the fused ReLU kernels apply, else ``None``."""
        return self.operator.direct_taps() if self.activation.is_relu and not self.train_output else None

    def _fused_kernels(self, dtype):
        """``(kernels, stencil, v, taps_per_entry)`` of the fused ReLU kernels for weights of ``dtype``, or ``None``.

        ``kernels`` is the module of fused kernels for the operator's grid
        (1-D: :mod:`~ntk_toolkit._kernels.gd`, 2-D: :mod:`~ntk_toolkit._kernels.gd2d`),
        ``stencil`` the arguments that describe the convolution to them
        (``(taps, h)``, or ``(A, B, h1, h2, H, W)`` with ``u = Σ_r A[r] ⊗ B[r]``),
        cached per dtype.
        """
        direct = self._direct_taps()
        if direct is None:
            return None
        dtype = np.dtype(dtype)
        cache = self.__dict__.setdefault("_kernel_cache", {})
        if dtype not in cache:
            taps, center = direct
            v = np.ascontiguousarray(self.output_weights, dtype=dtype)
            if np.ndim(taps) == 1:
                from ._kernels import gd

                cache[dtype] = (gd, (np.ascontiguousarray(taps, dtype=dtype), center), v, taps.size)
            else:
                from ._kernels import gd2d

                factors = self.operator.separable_taps() if hasattr(self.operator, "separable_taps") else None
                if factors is not None:  # u = a ⊗ b: one vertical and one horizontal pass
                    A, B = factors[0][None, :], factors[1][None, :]
                else:  # u = Σ_r u[:, r] ⊗ e_r
                    A, B = np.asarray(taps).T, np.eye(taps.shape[1])
                H, W = self.operator.grid_shape
                stencil = (np.ascontiguousarray(A, dtype=dtype), np.ascontiguousarray(B, dtype=dtype),
                           int(center[0]), int(center[1]), int(H), int(W))
                cache[dtype] = (gd2d, stencil, v, A.shape[0] * (A.shape[1] + np.count_nonzero(B) // A.shape[0]))
        return cache[dtype]

    def check_weights(self, C, name: str = "C") -> np.ndarray:
        """``C`` as a finite float64 array of shape ``(n, k)`` (``(n + 1, k)`` with ``train_output``) or an error."""
        return as_float_array(name, C, shape=(self.n + (1 if self.train_output else 0), self.k))

    def check_target(self, y, A=None, name: str = "y") -> np.ndarray:
        """``y`` as a finite float64 array of shape ``(m,)`` (``(n,)`` without ``A``)."""
        return as_measurements(y, A, self.n, name)

    def kernel_norm_bound(self) -> float:
        """``β = ‖v‖² ‖U‖² sup|φ'|²``, with ``J(C) J(C)ᵀ ⪯ β I`` for every ``C`` (``docs/theory.md`` eq. (1.11)).

        ``math.inf`` when no bound holds for every ``C`` (a trained output
        layer, or ``φ'`` unbounded: ``quadratic``, custom without ``lipschitz``).

        Examples
        --------
        >>> from ntk_toolkit.filters import delta
        >>> from ntk_toolkit.operators import CircularConv
        >>> TwoLayerGenerator(CircularConv(delta(), 8), k=4).kernel_norm_bound()
        1.0
        >>> TwoLayerGenerator(CircularConv(delta(), 8), k=4, activation="leaky_relu:-2").kernel_norm_bound()
        4.0
        """
        lip = self.activation.lipschitz
        if self.train_output or lip is None:
            return math.inf
        vv = float(self.output_weights @ self.output_weights)
        bound = vv * self.operator.norm() ** 2
        return bound if lip == 1.0 else bound * lip * lip

    def __repr__(self) -> str:
        extra = ", train_output=True" if self.train_output else ""
        return f"TwoLayerGenerator({self.operator!r}, k={self.k}, activation={self.activation.name!r}{extra})"

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
            With ``train_output=True``, shape ``(n + 1, k)``: the last row is
            ``a_0 = √k v`` (``±1`` for the default ``v``).
        """
        omega = check_positive("omega", omega)
        check_memory(8 * self.n * self.k, f"the weights C of shape ({self.n}, {self.k})", "use a smaller n or k")
        symmetric = check_bool("symmetric", symmetric)
        rng = as_rng(seed)
        if not symmetric:
            C = omega * rng.standard_normal((self.n, self.k))
        else:
            half = omega * rng.standard_normal((self.n, self.k // 2))
            C = np.ascontiguousarray(np.concatenate([half, half], axis=1))
        if self.train_output:
            C = np.ascontiguousarray(np.vstack([C, np.sqrt(self.k) * self.output_weights[None, :]]))
        return C

    def preactivation(self, C) -> np.ndarray:
        """``Z = U C``, shape ``(n, k)``."""
        C = self.split_weights(self.check_weights(C))[0]
        return self.operator.apply_unchecked(np.ascontiguousarray(C), adjoint=False)

    def activation_pattern(self, C) -> np.ndarray:
        """``S = 1{U C > 0}`` as a boolean array of shape ``(n, k)``."""
        return self.preactivation(C) > 0

    def forward(self, C) -> np.ndarray:
        """``G(C) = φ(U C) v`` (eq. (1.4)), shape ``(n,)``. Cost O(n k L) (direct) or O(n k log n)."""
        C = self.check_weights(C)
        return self.forward_pattern(C)[0]

    def _fused_args(self, dtype) -> tuple[np.ndarray, np.ndarray]:
        """Taps and output weights in ``dtype`` for the fused 1-D kernels (cached)."""
        _, stencil, v, _ = self._fused_kernels(dtype)
        return stencil[0], v

    def forward_pattern(self, C: np.ndarray):
        """``(G(C), pattern)``: the forward pass and the activation pattern the backward pass needs.

        For weights that are already clean (as returned by
        :meth:`check_weights`, or float32 of shape ``(n, k)``): not validated,
        since gradient descent calls it once per step.

        Parameters
        ----------
        C : ndarray, shape (n, k), float64 or float32, C-contiguous

        Returns
        -------
        g : ndarray, shape (n,)
            ``G(C)`` in float64.
        pattern : ndarray, shape (n, k)
            ``1{U C > 0}`` as uint8 with direct taps (fused Numba kernel that
            keeps ``C``'s dtype, O(n k L)), otherwise ``φ'(U C)`` as floats.

        Examples
        --------
        >>> from ntk_toolkit.filters import triangle
        >>> from ntk_toolkit.operators import CircularConv
        >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 8), k=4)
        >>> C = gen.init(seed=0)
        >>> g, mask = gen.forward_pattern(C)
        >>> bool(np.allclose(g, gen.forward(C))), mask.shape
        (True, (8, 4))
        """
        fused = self._fused_kernels(C.dtype)
        if fused is not None:
            kernels, stencil, v, taps = fused
            bw = kernels.block_width_for(self.k, stencil)
            gpart = np.empty((-(-self.k // bw), self.n))
            mask = np.empty(C.shape, dtype=np.uint8)
            with threads_for(C.size * taps):
                kernels.forward_mask(*stencil, C, v, mask, gpart, bw)
            return gpart.sum(axis=0), mask
        if self.train_output:
            return _output_layer.forward_pattern(self, C)
        Z = self.operator.apply_unchecked(C, adjoint=False)
        return self._phi(Z) @ self.output_weights, self._dphi(Z)

    def backward(self, pattern: np.ndarray, r: np.ndarray) -> np.ndarray:
        """``J(C)ᵀ r = Uᵀ (φ'(U C) ∘ r vᵀ)`` from the pattern of :meth:`forward_pattern`, shape ``(n, k)``.

        ``r`` is a clean float64 residual of shape ``(n,)``: not validated.
        Cost O(n k L) with direct taps, one ``apply_T`` of an ``(n, k)`` array otherwise.

        Examples
        --------
        >>> from ntk_toolkit.filters import triangle
        >>> from ntk_toolkit.operators import CircularConv
        >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 8), k=4)
        >>> C, r = gen.init(seed=0), np.linspace(-1.0, 1.0, 8)
        >>> bool(np.allclose(gen.backward(gen.forward_pattern(C)[1], r), gen.vjp(C, r)))
        True
        """
        if self.train_output:
            return _output_layer.backward(self, pattern, r)
        fused = self._fused_kernels(np.float64)
        if fused is not None:
            kernels, stencil, v, taps = fused
            out = np.empty((self.n, self.k))
            with threads_for(pattern.size * taps):
                kernels.backward(*stencil, pattern, np.ascontiguousarray(r, dtype=np.float64), v, 1.0, out,
                                 kernels.block_width_for(self.k, stencil))
            return out
        W = pattern * r[:, None]
        W *= self.output_weights[None, :]
        return self.operator.apply_unchecked(np.ascontiguousarray(W), adjoint=True)

    def jvp_pattern(self, pattern: np.ndarray, D: np.ndarray) -> np.ndarray:
        """``J(C) vec(D) = (φ'(U C) ∘ U D) v`` from the pattern of :meth:`forward_pattern`, shape ``(n,)``.

        ``D`` is a clean float64 array of shape ``(n, k)``: not validated. With
        a 2-D convolution by direct taps one fused sweep (the mask is read, not
        recomputed); otherwise one ``apply`` of an ``(n, k)`` array.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.filters import triangle2d
        >>> from ntk_toolkit.operators import CircularConv2D
        >>> gen = TwoLayerGenerator(CircularConv2D(triangle2d(2), (4, 5)), k=4)
        >>> C, D = gen.init(seed=0), gen.init(seed=1)
        >>> bool(np.allclose(gen.jvp_pattern(gen.forward_pattern(C)[1], D), gen.jvp(C, D)))
        True
        """
        if self.train_output:
            return _output_layer.jvp_pattern(self, pattern, D)
        fused = self._fused_kernels(np.float64)
        if fused is not None and hasattr(fused[0], "masked_forward"):
            kernels, stencil, v, taps = fused
            bw = kernels.block_width_for(self.k, stencil)
            gpart = np.empty((-(-self.k // bw), self.n))
            with threads_for(pattern.size * taps):
                kernels.masked_forward(*stencil, D, v, pattern, gpart, bw)
            return gpart.sum(axis=0)
        UD = self.operator.apply_unchecked(D, adjoint=False)
        return (pattern * UD) @ self.output_weights

    def fused_step(self, eta: float, dtype=np.float64) -> FusedStep | None:
        """The fused gradient-descent step for weights of ``dtype``, or ``None`` when there is no fused kernel.

        The fused kernels exist for ReLU with an operator applied by direct
        taps (:meth:`~ntk_toolkit.operators.Operator.direct_taps`); odd
        symmetric filters of at most seven taps take rows two at a time.

        Parameters
        ----------
        eta : float
            Step size.
        dtype : {numpy.float64, numpy.float32}
            Dtype of the weights the step will update.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.filters import triangle
        >>> from ntk_toolkit.operators import CircularConv
        >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 16), k=4)
        >>> C, y = gen.init(seed=0), np.zeros(16)
        >>> g, mask = gen.forward_pattern(C)
        >>> expected = C - 0.1 * gen.gradient(C, y)
        >>> g_new = gen.fused_step(0.1)(mask, g - y, C)
        >>> bool(np.allclose(C, expected)), bool(np.allclose(g_new, gen.forward(C)))
        (True, True)
        """
        fused = self._fused_kernels(dtype)
        if fused is None:
            return None
        kernels, stencil, v, taps = fused
        kernel = kernels.step
        if np.ndim(stencil[0]) == 1:  # 1-D: odd symmetric filters up to 7 taps take rows two at a time
            from ._kernels.rows import pair_taps

            paired = pair_taps(*stencil)
            if paired is not None:
                stencil, kernel = paired, kernels.step_pairs
            taps = stencil[0].size
        return FusedStep(kernel, stencil, v, eta, self.n, self.k, self.n * self.k * taps,
                         kernels.block_width_for(self.k, stencil))

    def jvp(self, C, D) -> np.ndarray:
        """Jacobian-vector product ``J(C) vec(D) = (φ'(U C) ∘ U D) v`` (eq. (2.2)).

        Parameters
        ----------
        C, D : array_like, shape (n, k)

        Returns
        -------
        ndarray, shape (n,)
        """
        C = self.check_weights(C)
        D = self.check_weights(D, "D")
        if self.train_output:
            return _output_layer.jvp_pattern(self, _output_layer.forward_pattern(self, C)[1], D)
        Z = self.operator.apply_unchecked(C, adjoint=False)
        UD = self.operator.apply_unchecked(D, adjoint=False)
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
        C = self.check_weights(C)
        r = as_float_array("r", r, shape=(self.n,))
        _, mask = self.forward_pattern(C)
        return self.backward(mask, r)

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
        C = self.check_weights(C)
        nbytes = 8 * self.n * self.num_params
        check_memory(nbytes, f"the dense Jacobian of shape ({self.n}, {self.num_params})",
                     "use the matrix-free gen.jvp / gen.vjp, or "
                     "ntk_toolkit.empirical_kernel(gen, C, method='structured') for J Jᵀ")
        C, v = self.split_weights(C)
        Z = self.operator.apply_unchecked(np.ascontiguousarray(C), adjoint=False)
        Dphi = self._dphi(Z)
        U = self.operator.todense()
        J = np.empty((self.n, self.num_params))
        for ell in range(self.k):
            J[:, ell * self.n:(ell + 1) * self.n] = (v[ell] * Dphi[:, ell])[:, None] * U
        if self.train_output:  # ∂G/∂a_l = φ(U c_l)/√k
            J[:, self.n * self.k:] = self._phi(Z) / np.sqrt(self.k)
        return J

    # ------------------------------------------------------------------ training
    def residual(self, C, y, A=None) -> np.ndarray:
        """``A G(C) − y`` (or ``G(C) − y`` without ``A``)."""
        A = as_measurement(A, self.n)
        C = self.check_weights(C)
        y = self.check_target(y, A)
        g = self.forward_pattern(C)[0]
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
        C = self.check_weights(C)
        y = self.check_target(y, A)
        g, mask = self.forward_pattern(C)
        r = g - y if A is None else A.apply_T(A.apply(g) - y)
        return self.backward(mask, np.ascontiguousarray(r, dtype=np.float64))


def is_generator(obj) -> bool:
    """Whether ``obj`` is a generator: a :class:`TwoLayerGenerator` or an object with the members of :class:`Generator`.

    The same answer as ``isinstance(obj, Generator)``, cheaply for the
    two-layer model (a protocol check tests every member, about 12 µs).

    Examples
    --------
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> is_generator(TwoLayerGenerator(CircularConv(triangle(2), 8), k=2)), is_generator(np.eye(2))
    (True, False)
    """
    return isinstance(obj, TwoLayerGenerator) or isinstance(obj, Generator)
