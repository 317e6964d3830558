"""Activations of the two-layer generator and the Gaussian expectations behind its kernels.

An :class:`Activation` carries ``φ`` and ``φ'`` for the numerical core
(:class:`~ntk_toolkit.TwoLayerGenerator` takes one, or a name). The expected
kernel of a generator needs the two Gaussian expectations (``docs/theory.md``
§2.2; :func:`expected_product`)

* ``E[φ(a) φ(b)]`` (the NNGP or "dual activation" term) and
* ``E[φ'(a) φ'(b)]`` (the term of the trained first layer),

for ``(a, b)`` jointly Gaussian with variances ``q1``, ``q2`` and correlation
``ρ``. Built-in activations with a closed form evaluate it here with NumPy;
:mod:`ntk_toolkit.symbolic` derives the same formulas with sympy and the test
suite proves the two equal. The others (``tanh``, ``softplus``, custom
activations) use two-dimensional Gauss–Hermite quadrature.

Names: ``"relu"``, ``"leaky_relu:SLOPE"`` (``max(z, SLOPE·z)``), ``"abs"``,
``"step"`` (``1{z > 0}``, whose derivative is zero almost everywhere),
``"erf"``, ``"tanh"``, ``"softplus"`` (``log(1 + eᶻ)``), ``"quadratic"``
(``z²``) and ``"linear"``.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Callable

import numpy as np

from ._validation import as_float_array, check_int, check_positive

__all__ = ["Activation", "ACTIVATIONS", "ACTIVATION_NAMES", "as_activation", "expected_product", "gauss_hermite",
           "correlation_row", "MAX_QUADRATURE_NODES",
           "QUADRATURE_NODES"]

#: Gauss–Hermite nodes per dimension of the quadrature of :func:`expected_product`
#: for variances ``q <= 1``; larger variances take ``ceil(QUADRATURE_NODES · q)``
#: nodes, at most :data:`MAX_QUADRATURE_NODES` (``φ(√q x)`` varies on the scale
#: ``1/√q``). Measured error of ``E[tanh'(a) tanh'(b)]`` (the hardest built-in)
#: against nested adaptive quadrature, every ``ρ ∈ [−1, 1]``, ``q1 = q2 = q``:
#: 2e-13 for ``q <= 2``, 2e-12 at ``q = 4``; ``softplus`` 4e-14 at ``q = 4``
#: (``tests/test_activations.py``).
QUADRATURE_NODES = 160
#: The most nodes per dimension the automatic rule takes (``q >= 3.2``); beyond
#: that the error grows with ``q``.
MAX_QUADRATURE_NODES = 512
#: Entries of ``(ρ, q1, q2)`` per block of the quadrature (``block · nodes²`` floats).
_QUAD_BLOCK = 16
#: Sample points at which a custom derivative is compared with central differences
#: of its function (away from 0, where kinks usually sit).
_SAMPLES = np.array([-2.71, -1.37, -0.53, -0.11, 0.29, 0.83, 1.61, 2.47])


def _relu(z):
    return np.maximum(z, 0.0)


def _relu_prime(z):
    return (z > 0).astype(z.dtype)


def _acos(r):
    return np.arccos(np.clip(r, -1.0, 1.0))


def _sqrt_one_minus_sq(r):
    r = np.clip(r, -1.0, 1.0)
    return np.sqrt((1.0 - r) * (1.0 + r))


def _arc0(r):
    """``(π − arccos ρ) / (2π)``: ``P(a > 0, b > 0)`` (``docs/theory.md`` §2.2)."""
    return (np.pi - _acos(r)) / (2.0 * np.pi)


def _arc1(r):
    """``(√(1 − ρ²) + (π − arccos ρ) ρ) / (2π)``: ``E[relu(a) relu(b)]`` at unit variances."""
    return (_sqrt_one_minus_sq(r) + (np.pi - _acos(r)) * np.clip(r, -1.0, 1.0)) / (2.0 * np.pi)


def _piecewise_linear_forms(p: float, q: float):
    """Closed forms for ``φ(z) = p z + q relu(z)``, ``φ'(z) = p + q 1{z > 0}``.

    ``E[φ(a)φ(b)] = √(q1 q2) ((p² + pq) ρ + q² arc1(ρ))`` (``E[a relu(b)] = ρ√(q1 q2)/2``) and
    ``E[φ'(a)φ'(b)] = p² + pq + q² arc0(ρ)``.
    """
    def dual(rho, q1, q2):
        return np.sqrt(q1 * q2) * ((p * p + p * q) * np.clip(rho, -1.0, 1.0) + q * q * _arc1(rho))

    def dual_prime(rho, q1, q2):
        return (p * p + p * q) + q * q * _arc0(rho) + 0.0 * (q1 + q2)

    return dual, dual_prime


def _erf_forms():
    def dual(rho, q1, q2):
        r = np.clip(rho, -1.0, 1.0)
        return (2.0 / np.pi) * np.arcsin(np.clip(2.0 * r * np.sqrt(q1 * q2) / np.sqrt((1 + 2 * q1) * (1 + 2 * q2)),
                                                 -1.0, 1.0))

    def dual_prime(rho, q1, q2):
        r = np.clip(rho, -1.0, 1.0)
        return (4.0 / np.pi) / np.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4.0 * r * r * q1 * q2)

    return dual, dual_prime


def _step_forms():
    def dual(rho, q1, q2):
        return _arc0(rho) + 0.0 * (q1 + q2)

    def dual_prime(rho, q1, q2):
        return 0.0 * (rho + q1 + q2)

    return dual, dual_prime


def _quadratic_forms():
    def dual(rho, q1, q2):
        r = np.clip(rho, -1.0, 1.0)
        return q1 * q2 * (1.0 + 2.0 * r * r)

    def dual_prime(rho, q1, q2):
        return 4.0 * np.clip(rho, -1.0, 1.0) * np.sqrt(q1 * q2)

    return dual, dual_prime


def _erf(z):
    from scipy.special import erf

    return erf(z)


def _erf_prime(z):
    return (2.0 / math.sqrt(math.pi)) * np.exp(-np.square(z))


def _tanh_prime(z):
    return 1.0 / np.square(np.cosh(z))


def _softplus(z):
    return np.logaddexp(0.0, z)


def _softplus_prime(z):
    from scipy.special import expit

    return expit(z)


def _square(z):
    return np.square(z)


def _twice(z):
    return 2.0 * z


def _identity(z):
    return np.asarray(z) + 0.0


def _one(z):
    return np.ones_like(z)


def _sign(z):
    """``φ'`` of ``abs`` as ``−1 + 2·1{z > 0}`` (``−1`` at 0, like the bit-packed pattern)."""
    return np.where(z > 0, 1.0, -1.0).astype(np.result_type(z, np.float64))


def _step(z):
    return (z > 0).astype(np.result_type(z, np.float64))


def _zero(z):
    return np.zeros_like(z, dtype=np.result_type(z, np.float64))


class Activation:
    """An activation ``φ`` with its derivative ``φ'``, for :class:`~ntk_toolkit.TwoLayerGenerator`.

    Parameters
    ----------
    fn : callable
        ``φ``, applied elementwise to float arrays (a NumPy ufunc or any
        vectorised function returning an array of the same shape).
    derivative : callable
        ``φ'``, elementwise. It is checked against central differences of
        ``fn`` at a few points away from 0 (a kink at 0 is allowed); a
        mismatch raises ``ValueError``.
    name : str
        Name used in reports; must not be a built-in name (``"relu"``, …).
    lipschitz : float, optional
        ``sup |φ'|``. With it :meth:`TwoLayerGenerator.kernel_norm_bound
        <ntk_toolkit.TwoLayerGenerator.kernel_norm_bound>` (hence
        :func:`ntk_toolkit.max_step_size`) is defined; without it gradient
        descent needs ``check_step=False``.

    Attributes
    ----------
    closed_form : bool
        Whether the Gaussian expectations have a closed form (built-in
        activations except ``tanh`` and ``softplus``); otherwise the expected
        kernel uses Gauss–Hermite quadrature.
    pattern_levels : tuple (p, q) or None
        For piecewise-linear derivatives, ``φ'(z) = p + q·1{z > 0}``
        (ReLU ``(0, 1)``, leaky ReLU ``(s, 1 − s)``, abs ``(−1, 2)``,
        linear ``(1, 0)``, step ``(0, 0)``): the empirical kernel then counts
        co-active channels on bit-packed patterns.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.activations import Activation, as_activation
    >>> sine = Activation(np.sin, np.cos, "sine", lipschitz=1.0)
    >>> sine, sine.closed_form
    (Activation('sine'), False)
    >>> as_activation("leaky_relu:0.1").pattern_levels
    (0.1, 0.9)
    >>> as_activation("relu") == "relu"
    True
    >>> Activation(np.sin, np.sin, "wrong")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: the derivative of activation 'wrong' does not match its function: at x = -2.71 ...
    """

    __slots__ = ("fn", "derivative", "name", "lipschitz", "pattern_levels", "_forms")

    def __init__(self, fn: Callable, derivative: Callable, name: str, *, lipschitz: float | None = None):
        if not callable(fn):
            raise TypeError(f"fn must be callable (φ, elementwise on arrays), got {type(fn).__name__}")
        if not callable(derivative):
            raise TypeError(f"derivative must be callable (φ', elementwise on arrays), got {type(derivative).__name__}")
        if not isinstance(name, str) or not name:
            raise TypeError(f"name must be a non-empty string, got {name!r}")
        if name in ACTIVATION_NAMES or name.startswith("leaky_relu"):
            raise ValueError(f"name {name!r} is the name of a built-in activation; pass the string {name!r} to use "
                             "it, or give the custom activation another name")
        if lipschitz is not None:
            if isinstance(lipschitz, bool) or not isinstance(lipschitz, numbers.Real) or not (
                    math.isfinite(lipschitz) and lipschitz >= 0):
                raise ValueError(f"lipschitz must be a finite number >= 0 (sup |φ'|) or None, got {lipschitz!r}")
            lipschitz = float(lipschitz)
        _check_derivative(fn, derivative, name)
        self._set(fn, derivative, name, lipschitz, None, None)

    def _set(self, fn, derivative, name, lipschitz, levels, forms):
        object.__setattr__(self, "fn", fn)
        object.__setattr__(self, "derivative", derivative)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "lipschitz", lipschitz)
        object.__setattr__(self, "pattern_levels", levels)
        object.__setattr__(self, "_forms", forms)

    @classmethod
    def _builtin(cls, fn, derivative, name, lipschitz, levels, forms) -> Activation:
        self = cls.__new__(cls)
        self._set(fn, derivative, name, lipschitz, levels, forms)
        return self

    def __setattr__(self, key, value):
        raise AttributeError("Activation is immutable")

    @property
    def closed_form(self) -> bool:
        return self._forms is not None

    @property
    def is_relu(self) -> bool:
        """True for the built-in ReLU, the model of the theory with the fused kernels."""
        return self.name == "relu" and self._forms is not None

    def __repr__(self) -> str:
        return f"Activation({self.name!r})"

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other) -> bool:
        if isinstance(other, str):
            return self.name == other
        if isinstance(other, Activation):
            return self.name == other.name and self.fn is other.fn and self.derivative is other.derivative
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)

    def __reduce__(self):
        if self._forms is not None or self.name in ACTIVATION_NAMES:
            return (as_activation, (self.name,))
        return (_custom, (self.fn, self.derivative, self.name, self.lipschitz))


def _custom(fn, derivative, name, lipschitz):
    return Activation(fn, derivative, name, lipschitz=lipschitz)


def _check_derivative(fn, derivative, name: str) -> None:
    x = _SAMPLES
    try:
        f = np.asarray(fn(x), dtype=np.float64)
        d = np.asarray(derivative(x), dtype=np.float64)
    except Exception as exc:
        raise TypeError(f"activation {name!r}: fn and derivative must accept a float64 array, "
                        f"calling them on {x.tolist()} raised {type(exc).__name__}: {exc}") from exc
    if f.shape != x.shape or d.shape != x.shape:
        raise ValueError(f"activation {name!r}: fn and derivative must be elementwise (same shape as their input "
                         f"{x.shape}), got shapes {f.shape} and {d.shape}")
    if not (np.all(np.isfinite(f)) and np.all(np.isfinite(d))):
        raise ValueError(f"activation {name!r}: fn or derivative is not finite at the sample points {x.tolist()}")
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    fd = (np.asarray(fn(x + h), dtype=np.float64) - np.asarray(fn(x - h), dtype=np.float64)) / (2 * h)
    bad = np.abs(fd - d) > 1e-5 * (1.0 + np.abs(d) + np.abs(f))
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(f"the derivative of activation {name!r} does not match its function: at x = {x[i]:g} "
                         f"derivative gives {d[i]:.4g}, a central difference of fn gives {fd[i]:.4g}; "
                         "pass fn's derivative")


_PL = {"relu": (0.0, 1.0), "abs": (-1.0, 2.0), "linear": (1.0, 0.0)}

#: The built-in activations by name (``leaky_relu:SLOPE`` is built by :func:`as_activation`).
ACTIVATIONS = {
    "relu": Activation._builtin(_relu, _relu_prime, "relu", 1.0, (0.0, 1.0), _piecewise_linear_forms(0.0, 1.0)),
    "abs": Activation._builtin(np.abs, _sign, "abs", 1.0, (-1.0, 2.0), _piecewise_linear_forms(-1.0, 2.0)),
    "step": Activation._builtin(_step, _zero, "step", 0.0, (0.0, 0.0), _step_forms()),
    "erf": Activation._builtin(_erf, _erf_prime, "erf", 2.0 / math.sqrt(math.pi), None, _erf_forms()),
    "tanh": Activation._builtin(np.tanh, _tanh_prime, "tanh", 1.0, None, None),
    "softplus": Activation._builtin(_softplus, _softplus_prime, "softplus", 1.0, None, None),
    "quadratic": Activation._builtin(_square, _twice, "quadratic", None, None, _quadratic_forms()),
    "linear": Activation._builtin(_identity, _one, "linear", 1.0, (1.0, 0.0), _piecewise_linear_forms(1.0, 0.0)),
}
#: Every valid activation name, ``leaky_relu:SLOPE`` standing for the family.
ACTIVATION_NAMES = ("relu", "leaky_relu:SLOPE", "abs", "step", "erf", "tanh", "softplus", "quadratic", "linear")


@functools.lru_cache(maxsize=64)
def _leaky(slope: float) -> Activation:
    def fn(z):
        return np.where(z > 0, z, slope * z)

    def derivative(z):
        return np.where(z > 0, 1.0, slope).astype(np.result_type(z, np.float64))

    return Activation._builtin(fn, derivative, f"leaky_relu:{slope!r}", max(1.0, abs(slope)),
                               (slope, 1.0 - slope), _piecewise_linear_forms(slope, 1.0 - slope))


def as_activation(activation) -> Activation:
    """The :class:`Activation` for a name or an :class:`Activation`.

    Parameters
    ----------
    activation : str or Activation
        One of ``"relu"``, ``"leaky_relu:SLOPE"`` (a finite number, e.g.
        ``"leaky_relu:0.1"``), ``"abs"``, ``"step"``, ``"erf"``, ``"tanh"``,
        ``"softplus"``, ``"quadratic"``, ``"linear"``, or a custom
        ``Activation(fn, derivative, name)``.

    Returns
    -------
    Activation

    Examples
    --------
    >>> as_activation("tanh").name, as_activation("leaky_relu:0.2").name
    ('tanh', 'leaky_relu:0.2')
    >>> as_activation("gelu")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: activation must be one of 'relu', 'leaky_relu:SLOPE', 'abs', 'step', 'erf', 'tanh', ..., got 'gelu'
    """
    if isinstance(activation, Activation):
        return activation
    valid = (f"one of {', '.join(map(repr, ACTIVATION_NAMES))} (SLOPE a finite number, e.g. 'leaky_relu:0.1') "
             "or an Activation(fn, derivative, name)")
    if not isinstance(activation, str):
        raise TypeError(f"activation must be {valid}, got {type(activation).__name__}")
    if activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    if activation.startswith("leaky_relu:"):
        text = activation.split(":", 1)[1]
        try:
            slope = float(text)
        except ValueError:
            slope = math.nan
        if not math.isfinite(slope):
            raise ValueError(f"the slope of activation {activation!r} must be a finite number "
                             f"(e.g. 'leaky_relu:0.1'), got {text!r}")
        return _leaky(slope)
    raise ValueError(f"activation must be {valid}, got {activation!r}")


def expected_product(activation, rho, q1=1.0, q2=1.0, derivative: bool = False, method: str = "auto",
                     nodes: int | None = None) -> np.ndarray:
    """``E[φ(a) φ(b)]`` (or ``E[φ'(a) φ'(b)]``), ``(a, b)`` Gaussian, variances ``q1``, ``q2``, correlation ``ρ``.

    Parameters
    ----------
    activation : str or Activation
    rho, q1, q2 : array_like
        Broadcast together; ``ρ`` is clipped into ``[−1, 1]``, ``q1, q2 >= 0``.
    derivative : bool, default False
        ``E[φ'(a) φ'(b)]`` instead of ``E[φ(a) φ(b)]``.
    method : {"auto", "closed-form", "quadrature"}
        ``auto`` uses the closed form when the activation has one
        (:attr:`Activation.closed_form`), otherwise quadrature.
    nodes : int, optional
        Gauss–Hermite nodes per dimension; default ``QUADRATURE_NODES · max(1, q)``
        up to ``MAX_QUADRATURE_NODES``.

    Returns
    -------
    ndarray
        The broadcast shape of ``rho, q1, q2``.

    Notes
    -----
    Quadrature: ``a = √q1 x``, ``b = √q2 (ρ x + √(1 − ρ²) z)`` with ``x, z``
    independent standard normal, and the tensor Gauss–Hermite rule of
    ``nodes²`` points; cost ``nodes²`` evaluations of ``φ`` per distinct
    ``(ρ, q1, q2)`` (160² for ``q <= 1``). Exact for polynomials of degree
    ``< 2·nodes``; for the smooth built-ins the error is below 2e-13 for
    ``q <= 2`` and 2e-12 at ``q = 4`` (:data:`QUADRATURE_NODES`). Kinks (ReLU)
    converge slowly — those activations have closed forms.
    The closed forms are those of :func:`ntk_toolkit.symbolic.dual`
    (``docs/theory.md`` §2.2 for ReLU).

    Examples
    --------
    >>> import numpy as np
    >>> r = np.array([-1.0, 0.0, 0.5, 1.0])
    >>> expected_product("relu", r, derivative=True).round(6).tolist()  # (π − arccos ρ)/(2π)
    [0.0, 0.25, 0.333333, 0.5]
    >>> bool(np.allclose(expected_product("erf", r, 1.0, 0.5, method="quadrature"),
    ...                  expected_product("erf", r, 1.0, 0.5), rtol=0, atol=1e-12))
    True
    """
    act = as_activation(activation)
    if method not in ("auto", "closed-form", "quadrature"):
        raise ValueError(f"method must be one of 'auto', 'closed-form', 'quadrature', got {method!r}")
    rho, q1, q2 = _triples(rho, q1, q2)
    if method == "closed-form" and act._forms is None:
        raise ValueError(f"activation {act.name!r} has no closed form; use method='quadrature' or 'auto'")
    if act._forms is not None and method != "quadrature":
        return np.asarray(act._forms[1 if derivative else 0](rho, q1, q2), dtype=np.float64)
    return gauss_hermite(act.derivative if derivative else act.fn, rho, q1, q2, nodes)


#: The most Gauss–Hermite nodes per dimension accepted when given explicitly
#: (a block of the quadrature holds ``_QUAD_BLOCK · nodes²`` floats: 128 MiB here).
_MAX_EXPLICIT_NODES = 1024


#: Largest variance ``q1``, ``q2`` (and ``q``) accepted: the closed forms multiply two of them.
MAX_VARIANCE = 1e150


def _triples(rho, q1, q2):
    """``(ρ, q1, q2)`` as broadcast float arrays: ρ finite, q1, q2 finite, in ``[0, MAX_VARIANCE]``; errors name
    the argument."""
    arrays = []
    for name, value in (("rho", rho), ("q1", q1), ("q2", q2)):
        if isinstance(value, (str, bytes)):
            raise TypeError(f"{name} must be a real number or an array of them, got {value!r}")
        arrays.append(as_float_array(name, value).reshape(np.shape(value)))
    for name, arr in (("q1", arrays[1]), ("q2", arrays[2])):
        if np.any(arr < 0):
            raise ValueError(f"{name} must be a variance >= 0, got minimum {float(np.min(arr))!r}")
        if np.any(arr > MAX_VARIANCE):
            raise ValueError(f"{name} must be a variance in [0, {MAX_VARIANCE:g}] (the closed forms multiply two), "
                             f"got maximum {float(np.max(arr))!r}")
    try:
        return np.broadcast_arrays(*arrays)
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"rho, q1 and q2 must broadcast together, got shapes {shapes}") from None


@functools.lru_cache(maxsize=8)
def _rule(nodes: int):
    from scipy.special import roots_hermitenorm

    x, w = roots_hermitenorm(nodes)  # weight e^{−x²/2}; stable for hundreds of nodes
    return x, w / np.sqrt(2.0 * np.pi)


def gauss_hermite(fn, rho, q1, q2, nodes: int | None = None) -> np.ndarray:
    """``E[fn(a) fn(b)]`` by tensor Gauss–Hermite quadrature (see :func:`expected_product`), over distinct triples.

    Examples
    --------
    >>> import numpy as np
    >>> float(gauss_hermite(np.square, 0.5, 1.0, 1.0))  # E[a² b²] = 1 + 2ρ²
    1.5
    """
    if not callable(fn):
        raise TypeError(f"fn must be a callable acting elementwise on arrays, got {fn!r}")
    rho, q1, q2 = _triples(rho, q1, q2)
    if nodes is not None:
        nodes = check_int("nodes", nodes, minimum=1)
        if nodes > _MAX_EXPLICIT_NODES:
            raise ValueError(f"nodes must be an integer in [1, {_MAX_EXPLICIT_NODES}], got {nodes}")
    shape = rho.shape
    triples = np.stack([np.clip(rho, -1.0, 1.0).ravel(), q1.ravel(), q2.ravel()], axis=1)
    if triples.shape[0] == 0:
        return np.zeros(shape)
    uniq, inverse = np.unique(triples, axis=0, return_inverse=True)
    if nodes is None:
        qmax = float(max(np.max(uniq[:, 1]), np.max(uniq[:, 2]), 1.0))
        nodes = min(MAX_QUADRATURE_NODES, math.ceil(QUADRATURE_NODES * qmax))
    x, w = _rule(int(nodes))
    out = np.empty(uniq.shape[0])
    ww = np.outer(w, w)
    for start in range(0, uniq.shape[0], _QUAD_BLOCK):
        r, a, b = (uniq[start:start + _QUAD_BLOCK, i][:, None, None] for i in range(3))
        fa = np.asarray(fn(np.sqrt(a) * x[None, :, None]), dtype=np.float64)
        arg = np.sqrt(b) * (r * x[None, :, None] + np.sqrt(np.maximum((1.0 - r) * (1.0 + r), 0.0)) * x[None, None, :])
        fb = np.asarray(fn(arg), dtype=np.float64)
        out[start:start + r.shape[0]] = np.einsum("bij,ij->b", fa * fb, ww)
    return out[inverse.reshape(-1)].reshape(shape)


def correlation_row(activation, rho, q: float, derivative: bool = False) -> np.ndarray:
    """:func:`expected_product` at many correlations ``ρ`` and one variance ``q`` (the first row of a circulant ``Σ``).

    With a closed form, evaluated at the nonzero ``ρ`` plus once at ``ρ = 0``
    (at every entry when most are nonzero). Otherwise by quadrature at the
    distinct nonzero ``ρ`` only, plus one value for all ``ρ = 0`` (a filter
    of ``L`` taps gives at most ``2L − 1`` nonzero correlations), cached per
    activation, ``q`` and correlations, so that a second spectrum of the
    same generator and ``ω`` costs O(n).

    Examples
    --------
    >>> import numpy as np
    >>> row = correlation_row("tanh", np.array([1.0, 0.5, 0.0, 0.0, 0.5]), 1.0)
    >>> bool(row[2] == row[3]), bool(np.isclose(row[2], 0.0))  # tanh is odd: E[tanh x] E[tanh y] = 0
    (True, True)
    """
    act = as_activation(activation)
    rho = _triples(rho, 0.0, 0.0)[0]
    if rho.ndim > 1:
        raise ValueError(f"rho must be a 1-D array of correlations (a first row), got shape {rho.shape}")
    if rho.ndim == 0:
        return correlation_row(act, rho.reshape(1), q, derivative).reshape(())
    q = check_positive("q", q, allow_zero=True)
    if q > MAX_VARIANCE:
        raise ValueError(f"q must be a variance in [0, {MAX_VARIANCE:g}] (the closed forms multiply two), got {q!r}")
    nz = np.flatnonzero(rho)
    if act.closed_form:
        if 2 * nz.size >= rho.size:
            return expected_product(act, rho, q, q, derivative=derivative)
        out = np.full(rho.shape, float(expected_product(act, 0.0, q, q, derivative=derivative)))
        out[nz] = expected_product(act, rho[nz], q, q, derivative=derivative)
        return out
    out = np.full(rho.shape, _cached_quadrature(act, float(q), bool(derivative), np.zeros(1).tobytes())[0])
    out[nz] = _cached_quadrature(act, float(q), bool(derivative), np.ascontiguousarray(rho[nz]).tobytes())
    return out


@functools.lru_cache(maxsize=32)
def _cached_quadrature(act: Activation, q: float, derivative: bool, rho: bytes) -> np.ndarray:
    values = expected_product(act, np.frombuffer(rho, dtype=np.float64), q, q, derivative=derivative,
                              method="quadrature")
    values.flags.writeable = False
    return values
