"""The deep decoder (Heckel & Hand, ICLR 2019): a generator of the :class:`~ntk_toolkit.generator.Generator` protocol.

``docs/theory.md`` §6: ``B_{i+1} = cn(relu(U_i B_i C_i))`` for ``i = 0 … d−1``
and ``x = sigmoid(B_d C_d)``, with a fixed random input ``B_0``, trainable
1×1 convolutions ``C_i``, fixed upsampling ``U_i`` and channel normalisation
``cn`` with a trainable scale and shift.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._memory import check_memory
from .._validation import as_float_array, as_rng, check_bool, check_int, check_positive
from ..convolution2d import CircularConv2D
from ..filters import Filter
from ..filters2d import Filter2D
from ..measurements import as_measurement, as_measurements
from ..operators import CircularConv
from ._layers import (
    circular_filter,
    circular_filter_adjoint,
    upsample_array,
    upsample_array_adjoint,
    zero_insert,
    zero_insert_adjoint,
)
from .derivatives import ForwardCache, forward_cache, jvp_from_cache, vjp_from_cache

__all__ = ["DeepDecoder", "FlatParamsGenerator"]

_UPSAMPLE = ("linear", "bilinear", "none", "transposed")


def _check_choice(name: str, value, valid: tuple):
    if not (value is None or isinstance(value, str)) or value not in valid:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, valid))}, got {value!r}")
    return value


def check_out_shape(out_shape) -> tuple:
    """``out_shape`` as ``(n,)`` or ``(H, W)`` of positive ints, or a clear error."""
    if isinstance(out_shape, numbers.Integral) and not isinstance(out_shape, bool):
        out_shape = (out_shape,)
    if (isinstance(out_shape, (str, bytes)) or not hasattr(out_shape, "__len__")
            or getattr(out_shape, "ndim", 1) == 0 or len(out_shape) not in (1, 2)):
        raise ValueError(f"out_shape must be (n,) for signals or (H, W) for images, got {out_shape!r}")
    return tuple(check_int(f"out_shape[{j}]", s, minimum=1) for j, s in enumerate(out_shape))


def check_flat_params(name: str, theta, num_params: int) -> np.ndarray:
    """``theta`` as a finite flat float64 vector of ``num_params`` entries, or an error naming ``name``."""
    arr = as_float_array(name, theta, ndim=1)
    if arr.size != num_params:
        raise ValueError(f"{name} must be a flat vector of num_params = {num_params} parameters, "
                         f"got length {arr.size}")
    return arr


def check_channels(channels, name: str = "channels", minimum_len: int = 2) -> tuple:
    """``channels`` as a tuple of positive ints of length ``>= minimum_len``, or a clear error."""
    if (isinstance(channels, (str, bytes)) or not hasattr(channels, "__len__")
            or getattr(channels, "ndim", 1) == 0):
        raise TypeError(f"{name} must be a list of channel counts such as [64, 64, 64], got {channels!r}")
    if len(channels) < minimum_len:
        raise ValueError(f"{name} must list at least {minimum_len} channel counts, got {list(channels)!r}")
    return tuple(check_int(f"{name}[{j}]", k, minimum=1) for j, k in enumerate(channels))


class FlatParamsGenerator:
    """What a generator on a flat parameter vector derives from its three passes.

    A subclass has ``n``, ``num_params`` and the passes ``forward_pattern(θ)``
    (the output and a cache), ``jvp_pattern(cache, d)`` and
    ``backward(cache, r)``; this class gives the checks and the
    :class:`~ntk_toolkit.generator.Generator` protocol on top of them
    (``forward``, ``jvp``, ``vjp``, the dense ``jacobian``, ``residual``, ``loss``).
    :class:`DeepDecoder` and :class:`~ntk_toolkit.deep.MultiLayerConvGenerator` are its subclasses.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> net = DeepDecoder((16,), [4, 4, 4])
    >>> isinstance(net, FlatParamsGenerator), net.loss(net.init(seed=0), np.zeros(16)) > 0
    (True, True)
    """

    def check_weights(self, theta, name: str = "theta") -> np.ndarray:
        """``theta`` as a finite float64 vector of length ``num_params``, or a clear error naming ``name``."""
        return check_flat_params(name, theta, self.num_params)

    def check_target(self, y, A=None, name: str = "y") -> np.ndarray:
        """``y`` as a finite float64 vector of length ``m`` (``n`` without ``A``)."""
        return as_measurements(y, A, self.n, name)

    def forward(self, theta) -> np.ndarray:
        """``G(θ)``, flat of shape ``(n,)`` (for a deep decoder: channel-major, then positions row-major).

        Cost: one forward pass (for a deep decoder O(Σ_i k_i k_{i+1} P_i) for the
        1×1 convolutions, ``P_i`` the positions of layer ``i``'s input).

        Examples
        --------
        >>> from ntk_toolkit.deep import DeepDecoder
        >>> net = DeepDecoder((8, 8), [4, 4, 4], upsample="bilinear", output="linear")
        >>> net.forward(net.init(seed=0)).shape
        (64,)
        """
        return self.forward_pattern(self.check_weights(theta))[0]

    def jvp(self, theta, d) -> np.ndarray:
        """Jacobian-vector product ``J(θ) d``, shape ``(n,)``; about the cost of two forward passes.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.deep import DeepDecoder
        >>> net = DeepDecoder((16,), [4, 4, 4])
        >>> theta, d = net.init(seed=0), net.init(seed=1)
        >>> h = 1e-6
        >>> fd = (net.forward(theta + h * d) - net.forward(theta - h * d)) / (2 * h)
        >>> bool(np.allclose(net.jvp(theta, d), fd, atol=1e-8))
        True
        """
        theta = self.check_weights(theta)
        d = self.check_weights(d, "d")
        return self.jvp_pattern(self.forward_pattern(theta)[1], d)

    def vjp(self, theta, r) -> np.ndarray:
        """Vector-Jacobian product ``J(θ)ᵀ r``, flat ``(num_params,)``; about the cost of two forward passes.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit import CircularConv
        >>> from ntk_toolkit.deep import DeepDecoder, MultiLayerConvGenerator
        >>> from ntk_toolkit.filters import triangle
        >>> net = DeepDecoder((16,), [4, 4, 4])
        >>> theta, d, r = net.init(seed=0), net.init(seed=1), np.linspace(-1.0, 1.0, 16)
        >>> bool(np.isclose(net.jvp(theta, d) @ r, d @ net.vjp(theta, r)))
        True
        >>> gen = MultiLayerConvGenerator([CircularConv(triangle(2), 8)] * 2, [4, 4])
        >>> gen.vjp(gen.init(seed=0), np.ones(8)).shape
        (48,)
        """
        theta = self.check_weights(theta)
        r = as_float_array("r", r, shape=(self.n,))
        return self.backward(self.forward_pattern(theta)[1], r)

    def jacobian(self, theta) -> np.ndarray:
        """Dense Jacobian ``∂G/∂θ``, shape ``(n, num_params)``, for small networks and tests.

        Formed from ``min(n, num_params)`` products (vector-Jacobian products
        row by row, or Jacobian-vector products column by column) after one
        forward pass. Refused (``MemoryError``) above the memory budget: use
        :meth:`jvp`/:meth:`vjp` or :func:`ntk_toolkit.deep.jacobian_spectrum`.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.deep import DeepDecoder
        >>> net = DeepDecoder((16,), [4, 4, 4])
        >>> theta, d = net.init(seed=0), net.init(seed=1)
        >>> J = net.jacobian(theta)
        >>> J.shape, bool(np.allclose(J @ d, net.jvp(theta, d)))
        ((16, 52), True)
        """
        theta = self.check_weights(theta)
        P = self.num_params
        check_memory(8 * self.n * P, f"the dense Jacobian of shape ({self.n}, {P})",
                     "use the matrix-free jvp / vjp or ntk_toolkit.deep.jacobian_spectrum")
        cache = self.forward_pattern(theta)[1]
        J = np.empty((self.n, P))
        if self.n <= P:
            e = np.zeros(self.n)
            for i in range(self.n):
                e[i] = 1.0
                J[i] = self.backward(cache, e)
                e[i] = 0.0
        else:
            e = np.zeros(P)
            for j in range(P):
                e[j] = 1.0
                J[:, j] = self.jvp_pattern(cache, e)
                e[j] = 0.0
        return J

    def residual(self, theta, y, A=None) -> np.ndarray:
        """``A G(θ) − y`` (``G(θ) − y`` without ``A``)."""
        A = as_measurement(A, self.n)
        y = self.check_target(y, A)
        g = self.forward(theta)
        return (g if A is None else A.apply(g)) - y

    def loss(self, theta, y, A=None) -> float:
        """``½‖A G(θ) − y‖²``."""
        r = self.residual(theta, y, A)
        return 0.5 * float(r @ r)


class DeepDecoder(FlatParamsGenerator):
    """Deep decoder for 1-D (``out_shape = (n,)``) and 2-D (``out_shape = (H, W)``) outputs.

    ``B_0`` (fixed, shape ``(channels[0], *in_shape)``) passes through
    ``d = len(channels) − 1`` hidden layers — layer ``i`` is a 1×1
    convolution ``channels[i] → channels[i+1]`` without bias, fixed
    upsampling (all layers but the last), ReLU and channel normalisation —
    then a 1×1 convolution to ``out_channels`` and the output nonlinearity
    (``docs/theory.md`` §6). ``channels`` is the full list of the authors'
    ``decodernw`` after it appends two entries: ``decodernw(num_channels_up=[k]*3)``
    is ``DeepDecoder(out_shape, [k]*5, upsample="bilinear")``.

    Parameters
    ----------
    out_shape : tuple (n,) or (H, W)
        Spatial shape of the output.
    channels : sequence of int
        ``[k_0, …, k_d]``, ``d >= 1``: input channels and the output channels of each hidden layer.
    out_channels : int, default 1
    upsample : {"linear", "bilinear", "none", "transposed"}, optional
        ``torch.nn.Upsample(scale_factor=factor, mode=…, align_corners=False)``:
        ``"linear"`` for 1-D, ``"bilinear"`` for 2-D (the default, by the
        dimension of ``out_shape``); ``"none"`` keeps the input at the output
        shape. ``"transposed"`` makes the interpolation trainable (the
        ablation of ``docs/theory.md`` §9, claim 21): zero insertion by
        ``factor`` followed by a circular convolution of every channel with a
        trainable filter of ``2·factor`` taps per axis (parameters
        ``filter{i}``) — a transposed convolution of stride ``factor``, shared
        by the channels; with the taps ``[1, 3, 3, 1]/4`` (per axis) it would
        be linear/bilinear upsampling up to the borders. Leave ``upsample``
        out (or ``"none"``) with ``interpolation_filter``.
    factor : int, default 2
        Upsampling factor per layer (``>= 2``). The input has shape
        ``out_shape / factor**(d − 1)``, which must be integral.
    norm : {"channel", None}, default "channel"
        Channel normalisation (per channel over positions, biased variance,
        ``eps = 1e-5``, trainable scale and shift: ``BatchNorm`` with one
        sample in training mode).
    norm_before_act : bool, default False
        Normalise before the ReLU instead of after it.
    output : {"sigmoid", "linear"}, default "sigmoid"
    last_layer : {"trainable", "fixed"}, default "trainable"
        ``"fixed"``: the output convolution is fixed to ``(1, …, 1, −1, …, −1)/√k_d``
        (the 1-D network of the authors' Jacobian experiment; needs
        ``out_channels = 1`` and an even ``k_d``).
    interpolation_filter : Filter or Filter2D, optional
        Replace each upsampling by a fixed stride-1 circular convolution of
        every channel with this filter (the authors' ``fixed_decodernw``, with
        circular instead of reflective boundaries); the input then has the
        output shape.
    input : array_like, shape ``(channels[0], *in_shape)``, optional
        The fixed input ``B_0``; default ``0.1 × uniform[0, 1)`` drawn with ``input_seed``.
    input_seed : int or numpy.random.Generator, default 0

    Attributes
    ----------
    n : int
        Output length ``out_channels · prod(out_shape)`` (channel-major, then row-major).
    num_params : int
    depth : int
        ``d``, the number of hidden layers.
    in_shape, shapes : tuple
        Spatial shape of ``B_0``; spatial shapes of ``B_0 … B_d``.

    Notes
    -----
    Parameters are one flat float64 vector; :meth:`params_to_arrays` names
    its pieces: ``C{i}`` of shape ``(k_i, k_{i+1})`` (the PyTorch weight is
    ``C{i}.T`` with trailing 1×1 axes), ``scale{i}``/``shift{i}`` of shape
    ``(k_{i+1},)`` with normalisation, and ``C{d}`` of shape
    ``(k_d, out_channels)`` when the last layer is trainable; in that order,
    layer by layer. The expected kernel ``E[J Jᵀ]`` has no closed form for
    this network: estimate it by Monte Carlo, averaging
    :func:`ntk_toolkit.empirical_kernel` over ``init(seed)`` draws.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> net = DeepDecoder((32,), [8, 8, 8, 8])
    >>> net.in_shape, net.depth, net.num_params
    ((8,), 3, 248)
    >>> theta = net.init(seed=0)
    >>> x = net.forward(theta)
    >>> x.shape, bool(np.all((x > 0) & (x < 1)))
    ((32,), True)
    """

    #: The fixed stages run parallel Numba kernels (``ntk_toolkit._kernels.deep``):
    #: :func:`ntk_toolkit.deep.fit` then keeps OpenBLAS on one thread.
    parallel_kernels = True

    def __init__(self, out_shape, channels, out_channels: int = 1, upsample: str | None = None, factor: int = 2,
                 norm: str | None = "channel", norm_before_act: bool = False, output: str = "sigmoid",
                 last_layer: str = "trainable", interpolation_filter=None, *, input=None, input_seed=0):
        self.out_shape = check_out_shape(out_shape)
        self.channels = check_channels(channels)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        ndim = len(self.out_shape)
        natural = "linear" if ndim == 1 else "bilinear"
        if upsample is None:
            upsample = "none" if interpolation_filter is not None else natural
        _check_choice("upsample", upsample, _UPSAMPLE)
        self.factor = check_int("factor", factor, minimum=2)
        _check_choice("norm", norm, ("channel", None))
        norm_before_act = check_bool("norm_before_act", norm_before_act)
        self.norm, self.norm_before_act = norm, bool(norm_before_act)
        self.output = _check_choice("output", output, ("sigmoid", "linear"))
        self.last_layer = _check_choice("last_layer", last_layer, ("trainable", "fixed"))
        self.depth = len(self.channels) - 1
        self.interpolation_filter = interpolation_filter
        if interpolation_filter is not None:
            if upsample != "none":
                raise ValueError(f"upsample={upsample!r} and interpolation_filter exclude each other: the filter "
                                 "replaces the upsampling; leave upsample out or pass 'none'")
            self._filter_op = self._filter_operator(interpolation_filter)
        elif upsample not in ("none", "transposed", natural):
            raise ValueError(f"upsample={upsample!r} does not fit a {ndim}-D output of shape {self.out_shape}: use "
                             f"{natural!r} (or 'none')")
        self.upsample = upsample
        ups = self.depth - 1 if upsample != "none" else 0
        total = self.factor ** ups
        bad = [s for s in self.out_shape if s % total]
        if bad:
            raise ValueError(
                f"channels={list(self.channels)} gives {ups} upsamplings by factor={self.factor} (one per hidden layer "
                f"but the last), so every side of out_shape={self.out_shape} must be divisible by "
                f"{self.factor}**{ups} = {total}; use fewer channel entries, a smaller factor or another out_shape")
        self.in_shape = tuple(s // total for s in self.out_shape)
        shapes = [self.in_shape]
        for i in range(self.depth):
            prev = shapes[-1]
            shapes.append(tuple(s * self.factor for s in prev) if (upsample != "none" and i < self.depth - 1) else prev)
        self.shapes = tuple(shapes)
        if self.last_layer == "fixed":
            if self.out_channels != 1 or self.channels[-1] % 2:
                raise ValueError(f"last_layer='fixed' uses the output weights (1, …, 1, −1, …, −1)/√k_d: it needs "
                                 f"out_channels=1 and an even channels[-1], got out_channels={self.out_channels}, "
                                 f"channels[-1]={self.channels[-1]}")
            v = np.full((self.channels[-1], 1), 1.0 / np.sqrt(self.channels[-1]))
            v[self.channels[-1] // 2:] *= -1.0
            v.setflags(write=False)
            self.output_weights = v
        acts = sum(k * math.prod(s) for k, s in zip(self.channels, self.shapes))
        check_memory(8 * acts, f"the activations of out_shape={self.out_shape} with channels={list(self.channels)}",
                     "use a smaller out_shape or fewer channels")
        if input is None:
            B0 = 0.1 * as_rng(input_seed, "input_seed").random((self.channels[0], *self.in_shape))
        else:
            B0 = as_float_array("input", input, shape=(self.channels[0], *self.in_shape))
        B0 = np.ascontiguousarray(B0)
        B0.setflags(write=False)
        self.input = B0
        self.n = self.out_channels * int(np.prod(self.out_shape))
        self._layout = self._make_layout()

    # ------------------------------------------------------------------ structure
    def _filter_operator(self, f):
        ndim = len(self.out_shape)
        if not (isinstance(f, Filter2D) if ndim == 2 else isinstance(f, Filter) and not isinstance(f, Filter2D)):
            kind = "ntk_toolkit.filters.Filter" if ndim == 1 else "ntk_toolkit.filters.Filter2D"
            raise TypeError(f"interpolation_filter must be a {kind} for a {ndim}-D output, got {f!r}")
        return CircularConv(f, self.out_shape[0]) if ndim == 1 else CircularConv2D(f, self.out_shape)

    def _make_layout(self):
        layout, start = [], 0
        k = self.channels
        for i in range(self.depth):
            pieces = [(f"C{i}", (k[i], k[i + 1]))]
            if self.upsample == "transposed" and i < self.depth - 1:
                pieces.append((f"filter{i}", (2 * self.factor,) * len(self.out_shape)))
            if self.norm is not None:
                pieces += [(f"scale{i}", (k[i + 1],)), (f"shift{i}", (k[i + 1],))]
            for name, shape in pieces:
                size = int(np.prod(shape))
                layout.append((name, slice(start, start + size), shape))
                start += size
        if self.last_layer == "trainable":
            shape = (k[-1], self.out_channels)
            layout.append((f"C{self.depth}", slice(start, start + shape[0] * shape[1]), shape))
            start += shape[0] * shape[1]
        self._num_params = start
        return tuple(layout)

    @property
    def num_params(self) -> int:
        """Number of trainable parameters (length of the flat vector ``θ``)."""
        return self._num_params

    @property
    def work(self) -> int:
        """Multiply-adds of one forward pass in the 1×1 convolutions, ``Σ_i k_i k_{i+1} P_i + k_d out P_d``."""
        k, P = self.channels, [int(np.prod(s)) for s in self.shapes]
        return sum(k[i] * k[i + 1] * P[i] for i in range(self.depth)) + k[-1] * self.out_channels * P[-1]

    @property
    def param_shapes(self) -> dict:
        """``{name: shape}`` of the pieces of ``θ``, in their order in the flat vector."""
        return {name: shape for name, _, shape in self._layout}

    def __repr__(self) -> str:
        extra = f", interpolation_filter={self.interpolation_filter!r}" if self.interpolation_filter is not None else ""
        return (f"DeepDecoder(out_shape={self.out_shape}, channels={list(self.channels)}, "
                f"out_channels={self.out_channels}, upsample={self.upsample!r}, factor={self.factor}, "
                f"norm={self.norm!r}, norm_before_act={self.norm_before_act}, output={self.output!r}, "
                f"last_layer={self.last_layer!r}{extra})")

    def resample(self, i: int, Z: np.ndarray, arrays: dict | None = None) -> np.ndarray:
        """The fixed stage of hidden layer ``i``: ``Z`` of shape ``(k_{i+1}, P_i)`` → ``(k_{i+1}, P_{i+1})``.

        With ``upsample="transposed"`` the stage is trainable and reads ``filter{i}`` from ``arrays``.
        """
        if i >= self.depth - 1 or (self.upsample == "none" and self.interpolation_filter is None):
            return Z
        if self.upsample == "transposed":
            k = Z.shape[0]
            X = zero_insert(Z.reshape(k, *self.shapes[i]), self.factor)
            return circular_filter(arrays[f"filter{i}"], X).reshape(k, -1)
        if self.interpolation_filter is not None:
            return np.ascontiguousarray(self._filter_op.apply_unchecked(np.ascontiguousarray(Z.T)).T)
        k = Z.shape[0]
        return upsample_array(Z.reshape(k, *self.shapes[i]), self.factor).reshape(k, -1)

    def resample_adjoint(self, i: int, Y: np.ndarray, arrays: dict | None = None) -> np.ndarray:
        """Adjoint of :meth:`resample` in ``Z``: ``(k_{i+1}, P_{i+1})`` → ``(k_{i+1}, P_i)``."""
        if i >= self.depth - 1 or (self.upsample == "none" and self.interpolation_filter is None):
            return Y
        if self.upsample == "transposed":
            k = Y.shape[0]
            X = circular_filter_adjoint(arrays[f"filter{i}"], Y.reshape(k, *self.shapes[i + 1]))
            return zero_insert_adjoint(X, self.factor).reshape(k, -1)
        if self.interpolation_filter is not None:
            return np.ascontiguousarray(self._filter_op.apply_unchecked(np.ascontiguousarray(Y.T),
                                                                            adjoint=True).T)
        k = Y.shape[0]
        return upsample_array_adjoint(Y.reshape(k, *self.shapes[i + 1]), self.factor).reshape(k, -1)

    def output_matrix(self, arrays: dict) -> np.ndarray:
        """The output 1×1 convolution ``C_d`` of shape ``(k_d, out_channels)``: trained or fixed."""
        return arrays[f"C{self.depth}"] if self.last_layer == "trainable" else self.output_weights

    # ------------------------------------------------------------------ parameters
    def params_to_arrays(self, theta, copy: bool = True) -> dict:
        """The flat parameters as ``{name: array}`` (shapes in :attr:`param_shapes`).

        Parameters
        ----------
        theta : array_like, shape (num_params,)
        copy : bool, default True
            ``False`` returns views into ``theta`` (which must then be a clean float64 array).

        Returns
        -------
        dict

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.deep import DeepDecoder
        >>> net = DeepDecoder((8,), [2, 2, 2], norm=None)
        >>> arrays = net.params_to_arrays(np.arange(net.num_params, dtype=float))
        >>> {k: v.shape for k, v in arrays.items()}
        {'C0': (2, 2), 'C1': (2, 2), 'C2': (2, 1)}
        >>> bool(np.array_equal(net.arrays_to_params(arrays), np.arange(net.num_params)))
        True
        """
        theta = self.check_weights(theta, "theta") if copy else theta
        return {name: theta[sl].reshape(shape) for name, sl, shape in self._layout}

    def arrays_to_params(self, arrays: dict) -> np.ndarray:
        """Flat float64 parameter vector from ``{name: array}``; a missing piece is zero.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.deep import DeepDecoder
        >>> net = DeepDecoder((8,), [2, 2, 2], norm=None)
        >>> net.arrays_to_params({"C2": np.ones((2, 1))}).tolist()
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
        """
        if not isinstance(arrays, dict):
            raise TypeError(f"arrays must be a dict of parameter arrays by name, got {type(arrays).__name__}")
        unknown = set(arrays) - {name for name, _, _ in self._layout}
        if unknown:
            raise ValueError(f"arrays has unknown parameter names {sorted(unknown)}; valid: "
                             f"{[name for name, _, _ in self._layout]}")
        theta = np.zeros(self._num_params)
        for name, sl, shape in self._layout:
            if name in arrays:
                theta[sl] = as_float_array(f"arrays[{name!r}]", arrays[name], shape=shape).reshape(-1)
        return theta

    def init(self, seed=None, omega: float = 1.0, scheme: str = "pytorch") -> np.ndarray:
        """Initial parameters with the authors' initialisation (``docs/theory.md`` §6).

        Parameters
        ----------
        seed : int, numpy.random.Generator or None
        omega : float, default 1.0
            Multiplies every convolution weight (``1`` is the authors' scale).
        scheme : {"pytorch", "xavier"}, default "pytorch"
            ``"pytorch"``: PyTorch's default for a 1×1 convolution (the 2-D
            deep decoder), ``C_i`` uniform on ``[−1/√k_i, 1/√k_i]``;
            ``"xavier"``: Xavier-normal, ``N(0, 2/(k_i + k_{i+1}))`` (the 1-D
            network of the Jacobian experiment). Scales start at 1, shifts at 0.
            Trainable interpolation filters (``upsample="transposed"``) start
            uniform on ``[−1/√L, 1/√L]`` (``L`` taps), PyTorch's rule for a
            transposed convolution with one input channel per group.

        Returns
        -------
        ndarray, shape (num_params,)

        Examples
        --------
        >>> from ntk_toolkit.deep import DeepDecoder
        >>> net = DeepDecoder((16,), [4, 4, 4])
        >>> a = net.params_to_arrays(net.init(seed=0))
        >>> a["scale0"].tolist(), a["shift1"].tolist()
        ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0])
        >>> bool(abs(a["C0"]).max() <= 0.5)
        True
        """
        omega = check_positive("omega", omega)
        _check_choice("scheme", scheme, ("pytorch", "xavier"))
        rng = as_rng(seed)
        arrays = {}
        for name, _, shape in self._layout:
            if name.startswith("C"):
                fan_in, fan_out = shape
                if scheme == "pytorch":
                    bound = 1.0 / np.sqrt(fan_in)
                    arrays[name] = omega * rng.uniform(-bound, bound, size=shape)
                else:
                    arrays[name] = omega * np.sqrt(2.0 / (fan_in + fan_out)) * rng.standard_normal(shape)
            elif name.startswith("scale"):
                arrays[name] = np.ones(shape)
            elif name.startswith("filter"):
                bound = 1.0 / np.sqrt(np.prod(shape))
                arrays[name] = omega * rng.uniform(-bound, bound, size=shape)
        return self.arrays_to_params(arrays)

    # ------------------------------------------------------------------ model
    def forward_pattern(self, theta: np.ndarray) -> tuple[np.ndarray, ForwardCache]:
        """``(G(θ), cache)``: the forward pass and what :meth:`backward` and :meth:`jvp_pattern` need.

        ``theta`` must be clean (as from :meth:`check_weights`); not validated.

        Examples
        --------
        >>> import numpy as np
        >>> from ntk_toolkit.deep import DeepDecoder
        >>> net = DeepDecoder((16,), [4, 4, 4])
        >>> theta = net.init(seed=0)
        >>> g, cache = net.forward_pattern(theta)
        >>> bool(np.allclose(net.backward(cache, g), net.vjp(theta, g)))
        True
        """
        cache = forward_cache(self, np.asarray(theta, dtype=np.float64))
        return cache.output.reshape(-1).copy(), cache

    def backward(self, cache: ForwardCache, r: np.ndarray) -> np.ndarray:
        """``J(θ)ᵀ r`` from the cache of :meth:`forward_pattern`, flat ``(num_params,)``; ``r`` not validated."""
        return vjp_from_cache(self, cache, np.asarray(r, dtype=np.float64))

    def jvp_pattern(self, cache: ForwardCache, d: np.ndarray) -> np.ndarray:
        """``J(θ) d`` from the cache of :meth:`forward_pattern`, shape ``(n,)``; ``d`` not validated."""
        return jvp_from_cache(self, cache, np.asarray(d, dtype=np.float64))
