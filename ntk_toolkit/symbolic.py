"""Symbolic kernels with sympy: dual activations, the two-layer kernel, exact eigenvalues.

For ``(a, b)`` jointly Gaussian with variances ``q1``, ``q2`` and correlation
``ρ`` (symbols :data:`q1`, :data:`q2`, :data:`rho`), :func:`dual` gives
``E[φ(a) φ(b)]`` and ``E[φ'(a) φ'(b)]`` as sympy expressions: derived by
integration where sympy can (polynomial activations), otherwise the registered
closed form (ReLU family, step, erf), which the test suite proves equal to
sympy's own integrals (the Hermite series of :func:`hermite_coefficients`,
exact, and the double integral at rational points) and to numerical
integration. Activations without a closed form (``tanh``, ``softplus``) give
the unevaluated double integral.

:func:`two_layer_kernel` turns them into the entry ``Σ_ij`` of the two-layer
generator ``G(C) = φ(U C) v`` (``docs/theory.md`` §2.2), :func:`eigenvalue_formula`
into the eigenvalues of ``Σ`` for short filters (``docs/theory.md`` §2.3),
:func:`to_numpy` into vectorised NumPy functions and :func:`latex` into LaTeX.
Derivations are cached: a second call costs microseconds.

This module imports sympy; ``import ntk_toolkit`` does not import it
(``ntk_toolkit.symbolic`` is loaded on first access).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np
import sympy as sp

from ._validation import check_bool
from .activations import ACTIVATION_NAMES, Activation

__all__ = ["dual", "hermite_coefficients", "two_layer_kernel", "eigenvalue_formula", "to_numpy", "latex",
           "guide_markdown", "rho", "q1", "q2", "omega", "inner", "norm_i", "norm_j", "f", "n", "x"]

#: Correlation of the two Gaussian pre-activations, in ``[−1, 1]``.
rho = sp.Symbol("rho", real=True)
#: Variances of the two pre-activations.
q1, q2 = sp.symbols("q1 q2", positive=True)
#: Standard deviation of the entries of ``C`` at initialisation.
omega = sp.Symbol("omega", positive=True)
#: ``⟨u_i, u_j⟩`` and the norms ``‖u_i‖``, ``‖u_j‖`` of two rows of ``U``.
inner = sp.Symbol("inner", real=True)
norm_i, norm_j = sp.symbols("norm_i norm_j", positive=True)
#: Frequency and signal length of :func:`eigenvalue_formula`.
f = sp.Symbol("f", integer=True, nonnegative=True)
n = sp.Symbol("n", integer=True, positive=True)
#: The activation's argument, for custom activations given as sympy expressions.
x = sp.Symbol("x", real=True)
_z = sp.Symbol("z", real=True)

_NAMES = {rho: r"\rho", q1: "q_1", q2: "q_2", omega: r"\omega", inner: r"\langle u_i, u_j \rangle",
          norm_i: r"\|u_i\|", norm_j: r"\|u_j\|"}
_GAUSS = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


def _pieces(name: str):
    """``(φ, φ')`` as lists of ``(expression in x, lower, upper)`` pieces, for the built-in names."""
    oo = sp.oo
    if name == "relu":
        return [(x, 0, oo)], [(sp.Integer(1), 0, oo)]
    if name.startswith("leaky_relu:"):
        s = _slope(name)
        return [(s * x, -oo, 0), (x, 0, oo)], [(s, -oo, 0), (sp.Integer(1), 0, oo)]
    table = {
        "abs": ([(-x, -oo, 0), (x, 0, oo)], [(sp.Integer(-1), -oo, 0), (sp.Integer(1), 0, oo)]),
        "step": ([(sp.Integer(1), 0, oo)], []),
        "erf": ([(sp.erf(x), -oo, oo)], [(2 / sp.sqrt(sp.pi) * sp.exp(-x**2), -oo, oo)]),
        "tanh": ([(sp.tanh(x), -oo, oo)], [(1 - sp.tanh(x)**2, -oo, oo)]),
        "softplus": ([(sp.log(1 + sp.exp(x)), -oo, oo)], [(1 / (1 + sp.exp(-x)), -oo, oo)]),
        "quadratic": ([(x**2, -oo, oo)], [(2 * x, -oo, oo)]),
        "linear": ([(x, -oo, oo)], [(sp.Integer(1), -oo, oo)]),
    }
    return table[name]


def _slope(name: str):
    """The exact slope of ``leaky_relu:SLOPE`` (a decimal or a fraction), or a clear error."""
    text = name.split(":", 1)[1]
    try:
        value = sp.Rational(text.strip())
    except (TypeError, ValueError, sp.SympifyError):
        value = None
    if value is None or not value.is_Rational:
        raise ValueError(f"the slope of activation {name!r} must be a finite number (e.g. 'leaky_relu:0.1'), "
                         f"got {text!r}")
    return value


def _key(activation):
    """A hashable key: the canonical name, or the sympy expression of a custom activation."""
    if isinstance(activation, Activation):
        if activation.closed_form or activation.name in ACTIVATION_NAMES:
            return activation.name
        raise TypeError(f"activation {activation.name!r} is a numerical Activation; pass its formula as a sympy "
                        "expression in ntk_toolkit.symbolic.x (e.g. sympy.sin(x))")
    if isinstance(activation, str):
        if activation in ACTIVATION_NAMES and activation != "leaky_relu:SLOPE":
            return activation
        if activation.startswith("leaky_relu:"):
            slope = _slope(activation)
            return f"leaky_relu:{slope}"
        valid = ", ".join(map(repr, ACTIVATION_NAMES))
        raise ValueError(f"activation must be one of {valid} (SLOPE a finite number) or a sympy expression in "
                         f"ntk_toolkit.symbolic.x, got {activation!r}")
    if isinstance(activation, sp.Expr):
        extra = activation.free_symbols - {x}
        if extra:
            raise ValueError(f"a symbolic activation must be an expression in ntk_toolkit.symbolic.x only, "
                             f"got free symbols {sorted(map(str, activation.free_symbols))}")
        return activation
    raise TypeError(f"activation must be a name or a sympy expression in ntk_toolkit.symbolic.x, "
                    f"got {type(activation).__name__}")


def _activation_pieces(key, derivative: bool):
    if isinstance(key, str):
        return _pieces(key)[1 if derivative else 0]
    expr = sp.diff(key, x) if derivative else key
    return [(expr, -sp.oo, sp.oo)]


def _arc0(r):
    return (sp.pi - sp.acos(r)) / (2 * sp.pi)


def _arc1(r):
    return (sp.sqrt(1 - r**2) + (sp.pi - sp.acos(r)) * r) / (2 * sp.pi)


def _closed_form(key: str, derivative: bool):
    """The registered closed forms (``docs/theory.md`` §2.2 for ReLU), or ``None``."""
    levels = {"relu": (0, 1), "abs": (-1, 2)}
    if key.startswith("leaky_relu:"):
        s = _slope(key)
        levels[key] = (s, 1 - s)
    if key in levels:  # φ(z) = p z + q relu(z)
        p, q = levels[key]
        if derivative:
            return p**2 + p * q + q**2 * _arc0(rho)
        return sp.sqrt(q1 * q2) * ((p**2 + p * q) * rho + q**2 * _arc1(rho))
    if key == "step":
        return sp.Integer(0) if derivative else _arc0(rho)
    if key == "erf":
        if derivative:
            return 4 / (sp.pi * sp.sqrt((1 + 2 * q1) * (1 + 2 * q2) - 4 * rho**2 * q1 * q2))
        return 2 / sp.pi * sp.asin(2 * rho * sp.sqrt(q1 * q2) / sp.sqrt((1 + 2 * q1) * (1 + 2 * q2)))
    return None


def _double_integral(pieces, evaluate: bool):
    """``E[φ(a) φ(b)]`` with ``a = √q1 x``, ``b = √q2 (ρ x + √(1 − ρ²) z)`` as a sympy double integral."""
    phi = sp.Add(*[e * sp.Piecewise((1, sp.And(x > lo, x < hi)), (0, True)) if (lo, hi) != (-sp.oo, sp.oo) else e
                   for e, lo, hi in pieces]) if pieces else sp.Integer(0)
    a = phi.subs(x, sp.sqrt(q1) * x)
    b = phi.subs(x, sp.sqrt(q2) * (rho * x + sp.sqrt(1 - rho**2) * _z))
    weight = sp.exp(-(x**2 + _z**2) / 2) / (2 * sp.pi)
    if evaluate:
        return sp.simplify(sp.integrate(sp.expand(a * b) * weight, (x, -sp.oo, sp.oo), (_z, -sp.oo, sp.oo)))
    return sp.Integral(a * b * weight, (x, -sp.oo, sp.oo), (_z, -sp.oo, sp.oo))


@functools.lru_cache(maxsize=256)
def _dual_cached(key, derivative: bool):
    if isinstance(key, str):
        closed = _closed_form(key, derivative)
        if closed is not None:
            return closed
    pieces = _activation_pieces(key, derivative)
    polynomial = all(e.is_polynomial(x) and (lo, hi) == (-sp.oo, sp.oo) for e, lo, hi in pieces)
    return _double_integral(pieces, evaluate=polynomial)


def dual(activation, derivative: bool = False) -> sp.Expr:
    """``E[φ(a) φ(b)]`` (or ``E[φ'(a) φ'(b)]``) for ``(a, b)`` Gaussian, variances ``q1``, ``q2``, correlation ``ρ``.

    Parameters
    ----------
    activation : str or sympy.Expr
        A built-in name (``"relu"``, ``"leaky_relu:SLOPE"``, ``"abs"``,
        ``"step"``, ``"erf"``, ``"tanh"``, ``"softplus"``, ``"quadratic"``,
        ``"linear"``) or an expression in :data:`x`.
    derivative : bool, default False
        The dual of ``φ'`` instead of ``φ``.

    Returns
    -------
    sympy.Expr
        In :data:`rho`, :data:`q1`, :data:`q2`. Polynomial activations are
        integrated by sympy; the ReLU family (``φ(z) = p z + q relu(z)``),
        step and erf use registered closed forms (proved equal to sympy's
        integrals in ``tests/test_symbolic.py``); others return the
        unevaluated double integral. Cached: a second call returns at once.

    Notes
    -----
    ReLU (``docs/theory.md`` §2.2): ``E[φ'φ'] = (π − arccos ρ)/(2π)`` and
    ``E[φφ] = √(q1 q2) (√(1 − ρ²) + (π − arccos ρ) ρ)/(2π)``. erf:
    ``E[φφ] = (2/π) arcsin(2ρ√(q1 q2)/√((1 + 2q1)(1 + 2q2)))``.

    Examples
    --------
    >>> import sympy
    >>> from ntk_toolkit.symbolic import dual, rho, q1, q2, x
    >>> dual("relu", derivative=True)
    (pi - acos(rho))/(2*pi)
    >>> dual("quadratic")
    q1*q2*(2*rho**2 + 1)
    >>> dual(x**3, derivative=True)
    9*q1*q2*(2*rho**2 + 1)
    >>> isinstance(dual("tanh"), sympy.Integral)
    True
    """
    return _dual_cached(_key(activation), check_bool("derivative", derivative))


@functools.lru_cache(maxsize=256)
def _hermite_cached(key, order: int, derivative: bool):
    pieces = _activation_pieces(key, derivative)
    out = []
    for k in range(order + 1):
        he = sp.hermite_prob(k, x)
        total = sp.Integer(0)
        for e, lo, hi in pieces:
            integrand = e * he * _GAUSS
            if _integrable(e):
                value = sp.integrate(integrand, (x, lo, hi))
            else:
                value = sp.Integral(integrand, (x, lo, hi))
            if value.has(sp.Integral):
                value = _numeric_integral(integrand, lo, hi)
            total += value
        out.append(sp.nsimplify(sp.simplify(total / sp.sqrt(sp.factorial(k)))) if not total.is_Float
                   else total / sp.sqrt(sp.factorial(k)).evalf(30))
    return tuple(out)


def _integrable(e) -> bool:
    """Whether sympy integrates ``e · He_m · φ`` exactly: polynomials, ``erf(x)``, polynomials times ``e^{−x²}``."""
    if e.is_polynomial(x) or e == sp.erf(x):
        return True
    return bool(e.has(sp.exp) and sp.simplify(e * sp.exp(x**2)).is_polynomial(x))


def _numeric_integral(integrand, lo, hi) -> sp.Float:
    """``∫ integrand dx`` over ``(lo, hi)`` by mpmath's tanh-sinh quadrature at 30 digits, split at 0."""
    import mpmath

    fn = sp.lambdify(x, integrand, "mpmath")
    with mpmath.workdps(30):
        points = [mpmath.mpf(lo) if lo != -sp.oo else -mpmath.inf, 0, mpmath.mpf(hi) if hi != sp.oo else mpmath.inf]
        points = [p for i, p in enumerate(points) if i != 1 or (lo < 0 < hi)]
        return sp.Float(mpmath.quad(fn, points), 30)


#: Largest ``order`` of :func:`hermite_coefficients`.
MAX_HERMITE_ORDER = 64


def hermite_coefficients(activation, order: int, derivative: bool = False) -> list:
    """Normalised Hermite coefficients ``c_m = E[φ(x) He_m(x)] / √(m!)``, ``x ~ N(0, 1)``, ``m = 0 … order``.

    The dual activation at unit variances is the power series
    ``E[φ(a) φ(b)] = Σ_m c_m² ρ^m`` (Mehler), the usual tool for spectral
    decay: the kernel's ``ρ^m`` component has weight ``c_m²``.

    Parameters
    ----------
    activation : str or sympy.Expr
        As in :func:`dual`.
    order : int
        Highest index ``m``, at most :data:`MAX_HERMITE_ORDER` (each
        coefficient is one symbolic integral: about 0.15 s apiece near
        ``m = 30`` for ReLU).
    derivative : bool, default False
        Coefficients of ``φ'`` instead.

    Returns
    -------
    list of sympy.Expr
        Exact where sympy integrates (piecewise polynomials, erf); 30-digit
        floats otherwise (tanh, softplus).

    Examples
    --------
    >>> from ntk_toolkit.symbolic import hermite_coefficients
    >>> hermite_coefficients("relu", 3)
    [sqrt(2)/(2*sqrt(pi)), 1/2, 1/(2*sqrt(pi)), 0]
    """
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or not 0 <= order <= MAX_HERMITE_ORDER:
        raise ValueError(f"order must be an integer in [0, {MAX_HERMITE_ORDER}] (one symbolic integral per "
                         f"coefficient), got {order!r}")
    return list(_hermite_cached(_key(activation), int(order), check_bool("derivative", derivative)))


def two_layer_kernel(activation, trainable_output: bool = False) -> sp.Expr:
    """The expected kernel entry ``Σ_ij`` of ``G(C) = φ(U C) v`` in ``⟨u_i, u_j⟩``, ``‖u_i‖``, ``‖u_j‖`` and ``ω``.

    ``Σ_ij = ‖v‖² ⟨u_i, u_j⟩ E[φ'(x_i) φ'(x_j)] (+ E[φ(x_i) φ(x_j)])`` with
    ``x_i = u_iᵀ c``, ``c ~ N(0, ω² I)``: variances ``ω² ‖u_i‖²`` and correlation
    ``⟨u_i, u_j⟩ / (‖u_i‖ ‖u_j‖)`` (``docs/theory.md`` §2.2). ``‖v‖² = 1`` (the
    default output weights, or ``a = ±1`` in the NTK parameterisation
    ``v = a/√k`` of a trained output layer, whose term is the second one).

    Parameters
    ----------
    activation : str or sympy.Expr
    trainable_output : bool, default False
        Add the term of the trained output layer ``Σ_a``.

    Returns
    -------
    sympy.Expr
        In :data:`inner`, :data:`norm_i`, :data:`norm_j` and :data:`omega`.

    Examples
    --------
    >>> from ntk_toolkit.symbolic import two_layer_kernel
    >>> two_layer_kernel("relu")
    inner*(pi - acos(inner/(norm_i*norm_j)))/(2*pi)
    """
    return _kernel_cached(_key(activation), check_bool("trainable_output", trainable_output))


@functools.lru_cache(maxsize=128)
def _kernel_cached(key, trainable_output: bool):
    subs = {rho: inner / (norm_i * norm_j), q1: omega**2 * norm_i**2, q2: omega**2 * norm_j**2}
    expr = inner * _dual_cached(key, True).subs(subs)
    if trainable_output:
        expr += _dual_cached(key, False).subs(subs)
    return expr


def _exact_taps(filter):
    """Exact taps: sympy numbers from a sequence, a :class:`~ntk_toolkit.filters.Filter` or ``"delta"``."""
    from .filters import Filter

    if isinstance(filter, str):
        if filter != "delta":
            raise ValueError(f"filter must be 'delta', a Filter or a sequence of taps, got {filter!r}")
        return [sp.Integer(1)]
    if isinstance(filter, Filter):
        taps = np.asarray(filter.taps, dtype=np.float64)
        scale = float(np.max(np.abs(taps)))
        exact = [sp.nsimplify(t / scale, rational=True, tolerance=1e-13) for t in taps]
        if filter.normalize:
            return exact
        return [e * sp.nsimplify(scale, rational=True, tolerance=1e-13) for e in exact]
    try:
        exact = [sp.nsimplify(t) for t in filter]
    except TypeError as exc:
        raise TypeError(f"filter must be 'delta', a Filter or a sequence of taps, got {type(filter).__name__}") from exc
    if not exact or all(e == 0 for e in exact):
        raise ValueError("filter taps must not be empty or all zero")
    return exact


def _real_taps(filter) -> tuple:
    """The taps of a sequence as sympy numbers, each real and finite; errors name ``filter``."""
    bad = TypeError(f"filter must be 'delta', a Filter or a 1-D sequence of real taps, got {_short(filter)}")
    if isinstance(filter, (dict, set, bytes)) or not hasattr(filter, "__iter__"):
        raise bad
    if isinstance(filter, np.ndarray) and filter.ndim != 1:
        raise bad
    try:
        taps = tuple(sp.sympify(t) for t in filter)
    except (TypeError, sp.SympifyError) as exc:
        raise bad from exc
    for t in taps:
        if not (isinstance(t, sp.Expr) and t.is_number and t.is_real is True and t.is_finite is True):
            raise ValueError(f"filter taps must be real finite numbers, got {t!r} in {_short(filter)}")
    return taps


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _as_expr(expr) -> sp.Expr:
    """``expr`` as a sympy expression; errors name ``expr``."""
    if not isinstance(expr, (sp.Basic, numbers.Number, str)) or isinstance(expr, bool):
        raise TypeError(f"expr must be a sympy expression (or a number or a string sympy parses), "
                        f"got {_short(expr)}")
    try:
        out = sp.sympify(expr)
    except (sp.SympifyError, TypeError, SyntaxError) as exc:
        raise ValueError(f"expr must be a sympy expression, got {_short(expr)} which sympy cannot parse") from exc
    if not isinstance(out, sp.Expr):
        raise TypeError(f"expr must be a sympy expression, got {_short(expr)} ({type(out).__name__})")
    return out


def eigenvalue_formula(activation, filter, trainable_output: bool = False, normalize: bool | None = None) -> sp.Expr:
    """Exact eigenvalues ``λ(f)`` of ``Σ`` for a short filter, in the frequency :data:`f` and the length :data:`n`.

    With ``a_d = Σ_t u_t u_{t+d}`` (``d < L``) and ``s_d`` the first row of
    ``Σ`` (:func:`two_layer_kernel` at ``⟨u_i, u_j⟩ = a_d``, ``‖u‖² = a_0``),
    ``λ(f) = (s_0 − c) + 2 Σ_{d=1}^{L−1} (s_d − c) cos(2π f d / n) + n c δ_{f,0}``
    with ``c = E[φ]²`` the value at zero correlation (only the trained output
    layer has it; ``c = 0`` otherwise). Holds for ``n >= 2L − 1`` and
    ``f = 0 … n − 1`` (``docs/theory.md`` §2.3).

    Parameters
    ----------
    activation : str or sympy.Expr
    filter : "delta", Filter or sequence of taps
        Taps are made exact (a Filter's ratios by ``nsimplify``, tolerance 1e-13);
        the filter is scaled to unit norm when ``normalize`` (default: the
        Filter's own setting, True for a sequence).
    trainable_output : bool, default False
    normalize : bool, optional

    Returns
    -------
    sympy.Expr
        Simplified by sympy; in :data:`f`, :data:`n` (and :data:`omega`
        when ``Σ`` depends on the initialisation scale).

    Examples
    --------
    >>> from ntk_toolkit.symbolic import eigenvalue_formula
    >>> eigenvalue_formula("relu", "delta")
    1/2
    >>> eigenvalue_formula("relu", [1, 1])
    cos(2*pi*f/n)/3 + 1/2
    """
    from .filters import Filter

    if normalize is None:
        normalize = filter.normalize if isinstance(filter, Filter) else True
    normalize = check_bool("normalize", normalize)
    trainable_output = check_bool("trainable_output", trainable_output)
    if isinstance(filter, Filter):
        fkey = ("filter", tuple(float(t) for t in filter.taps), bool(filter.normalize))
    elif isinstance(filter, str):
        fkey = filter
    else:
        fkey = _real_taps(filter)
    return _eigenvalue_cached(_key(activation), fkey, filter, trainable_output, normalize)


def _eigenvalue_cached(key, fkey, filter, trainable_output: bool, normalize: bool):
    cache_key = (key, fkey, trainable_output, normalize)
    if cache_key not in _EIGEN_CACHE:
        taps = _exact_taps(filter)
        if normalize:
            norm = sp.sqrt(sum(t**2 for t in taps))
            taps = [sp.nsimplify(t / norm) for t in taps]
        _EIGEN_CACHE[cache_key] = _eigen_cached(key, tuple(taps), trainable_output)
    return _EIGEN_CACHE[cache_key]


_EIGEN_CACHE: dict = {}


@functools.lru_cache(maxsize=128)
def _eigen_cached(key, taps: tuple, trainable_output: bool):
    L = len(taps)
    a = [sp.nsimplify(sum(taps[t] * taps[t + d] for t in range(L - d))) for d in range(L)]
    kernel = _kernel_cached(key, trainable_output)
    norm = sp.sqrt(a[0])

    def entry(ad):
        return sp.simplify(kernel.subs({inner: ad, norm_i: norm, norm_j: norm}))

    c = sp.simplify(_dual_cached(key, False).subs({rho: 0, q1: omega**2 * a[0], q2: omega**2 * a[0]})) \
        if trainable_output else sp.Integer(0)
    s = [entry(ad) for ad in a]
    lam = (s[0] - c) + 2 * sum((s[d] - c) * sp.cos(2 * sp.pi * f * d / n) for d in range(1, L))
    if c != 0:
        lam += n * c * sp.KroneckerDelta(f, 0)
    return sp.simplify(lam)


def _clip1(v):
    return np.clip(v, -1.0, 1.0)


def _sqrt0(v):
    v = np.asarray(v, dtype=np.float64)
    return np.sqrt(np.where((v < 0) & (v > -1e-12), 0.0, v))


def _kronecker(a, b):
    return np.where(np.asarray(a) == np.asarray(b), 1.0, 0.0)


_CLIP = sp.Function("clip1")
_SQRT = sp.Function("sqrt0")
_DELTA = sp.Function("kdelta")


def _safeguard(expr):
    """``acos``/``asin`` of clipped arguments, ``√`` of arguments rounded below 0 set to 0 (to within 1e-12)."""
    expr = expr.replace(sp.KroneckerDelta, lambda a, b: _DELTA(a, b))
    expr = expr.replace(sp.acos, lambda arg: sp.acos(_CLIP(arg)))
    expr = expr.replace(sp.asin, lambda arg: sp.asin(_CLIP(arg)))
    return expr.replace(lambda e: e.is_Pow and e.exp in (sp.S.Half, -sp.S.Half),
                        lambda e: _SQRT(e.base) ** (1 if e.exp > 0 else -1))


def to_numpy(expr, args=None):
    """A vectorised NumPy function of a sympy expression (``sympy.lambdify``) with numerical safeguards.

    Arguments of ``arccos``/``arcsin`` are clipped into ``[−1, 1]`` (a
    correlation computed as ``⟨u_i, u_j⟩/(‖u_i‖‖u_j‖)`` can exceed 1 by
    rounding) and square roots of arguments in ``[−1e-12, 0)`` return 0
    (``√(1 − ρ²)`` at ``ρ = ±1``).

    Parameters
    ----------
    expr : sympy.Expr
    args : sequence of sympy.Symbol, optional
        Positional order of the arguments; default the free symbols sorted by name.

    Returns
    -------
    callable
        ``fn(*values)`` or ``fn(**{name: value})``, broadcasting its arguments
        and returning a float64 array of their broadcast shape; ``fn.args``
        holds the argument names.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.symbolic import dual, to_numpy
    >>> k0 = to_numpy(dual("relu", derivative=True))
    >>> k0.args
    ('rho',)
    >>> k0(np.array([-1.0, 0.0, 1.0 + 1e-15])).tolist()
    [0.0, 0.25, 0.5]
    """
    expr = _as_expr(expr)
    if expr.has(sp.Integral):
        raise ValueError("the expression contains an unevaluated integral (no closed form); evaluate it with "
                         "ntk_toolkit.activations.expected_product (Gauss–Hermite quadrature)")
    symbols = sorted(expr.free_symbols, key=lambda s: s.name) if args is None else list(args)
    names = tuple(s.name for s in symbols)
    modules = [{"clip1": _clip1, "sqrt0": _sqrt0, "kdelta": _kronecker}, "numpy", "scipy"]
    raw = sp.lambdify(symbols, _safeguard(expr), modules=modules)

    def fn(*values, **named):
        if named:
            unknown = set(named) - set(names)
            if unknown or values:
                raise TypeError(f"pass the arguments {names} by position or by name, got {sorted(named)}")
            values = tuple(named[k] for k in names)
        if len(values) != len(names):
            raise TypeError(f"expected {len(names)} arguments {names}, got {len(values)}")
        arrays = [np.asarray(v, dtype=np.float64) for v in values]
        shape = np.broadcast_shapes(*(a.shape for a in arrays)) if arrays else ()
        return np.array(np.broadcast_to(np.asarray(raw(*arrays), dtype=np.float64), shape))

    fn.args = names
    fn.expr = expr
    return fn


def latex(expr) -> str:
    """LaTeX of an expression, with ``ρ``, ``q_1``, ``q_2``, ``ω``, ``⟨u_i, u_j⟩``, ``‖u_i‖`` written out.

    Examples
    --------
    >>> from ntk_toolkit.symbolic import dual, latex
    >>> latex(dual("relu", derivative=True))
    '\\\\frac{\\\\pi - \\\\operatorname{acos}{\\\\left(\\\\rho \\\\right)}}{2 \\\\pi}'
    """
    return sp.latex(_as_expr(expr), symbol_names=_NAMES)


#: Activations of the generated guide, with a remark on where each formula holds.
_GUIDE = (
    ("relu", "Registered closed form: the arc-cosine kernels of docs/theory.md §2.2, proved equal to the "
             "Hermite series that sympy integrates"),
    ("leaky_relu:0.1", "Registered closed form of the family $\\varphi(z) = p z + q\\,\\mathrm{relu}(z)$ "
                        "(here $p = 1/10$, $q = 9/10$); any finite slope"),
    ("abs", "Registered closed form of the same family ($p = -1$, $q = 2$)"),
    ("step", "Registered closed form; $\\varphi' = 0$ almost everywhere, so only a trained output layer sees "
             "this activation"),
    ("erf", "Registered closed form, for all $q_1, q_2 \\ge 0$"),
    ("quadratic", "Derived by sympy's integration (a polynomial)"),
    ("linear", "Derived by sympy's integration (a polynomial)"),
    ("tanh", "No closed form: the double integral, evaluated by Gauss–Hermite quadrature in the numerical "
             "core (error below 2e-13 for $q \\le 2$)"),
    ("softplus", "No closed form: the double integral, evaluated by Gauss–Hermite quadrature in the numerical "
                 "core"),
)


def guide_markdown() -> str:
    """The guide page of the symbolic kernels, generated from the derivations (Markdown with LaTeX).

    ``docs/guide/symbolic_kernels.md`` is this text (``docs/scripts/make_symbolic_guide.py``
    writes it; a test checks the file is current).

    Examples
    --------
    >>> from ntk_toolkit.symbolic import guide_markdown
    >>> text = guide_markdown()
    >>> text.startswith("# Symbolic kernels"), "\\\\operatorname{acos}" in text
    (True, True)
    """
    out = ["# Symbolic kernels", "",
           "<!-- generated by docs/scripts/make_symbolic_guide.py from ntk_toolkit.symbolic; do not edit -->", "",
           "`ntk_toolkit.symbolic` derives the Gaussian expectations behind the expected kernel of the two-layer "
           "generator $G(C) = \\varphi(UC)v$ (docs/theory.md §2.2) with sympy, prints them in LaTeX and turns "
           "them into vectorised NumPy functions (`to_numpy`). The numerical core "
           "(`ntk_toolkit.expected_kernel(gen, omega)`) evaluates the same closed forms, and Gauss–Hermite "
           "quadrature where there is none.", "",
           "**Conditions.** $(a, b)$ is a centred Gaussian pair with variances $q_1, q_2 > 0$ and correlation "
           "$\\rho \\in [-1, 1]$; every formula holds on the closed interval, endpoints included. In the "
           "generator $a = u_i^\\top c$, $b = u_j^\\top c$ with $c \\sim N(0, \\omega^2 I)$, so "
           "$q_1 = \\omega^2\\|u_i\\|^2$, $q_2 = \\omega^2\\|u_j\\|^2$, "
           "$\\rho = \\langle u_i, u_j\\rangle / (\\|u_i\\|\\|u_j\\|)$; rows of $U$ must be nonzero.", "",
           "## Dual activations", ""]
    for name, remark in _GUIDE:
        out += [f"### `{name}`", "", remark + ".", "",
                "$$\\mathbb E[\\varphi(a)\\varphi(b)] = " + latex(dual(name)) + "$$", "",
                "$$\\mathbb E[\\varphi'(a)\\varphi'(b)] = " + latex(dual(name, derivative=True)) + "$$", ""]
    out += ["## The two-layer kernel", "",
            "With the default output weights ($\\|v\\|^2 = 1$) the expected kernel entry is "
            "$\\Sigma_{ij} = \\langle u_i, u_j\\rangle\\, \\mathbb E[\\varphi'(a)\\varphi'(b)]$; training the "
            "output layer too, in the NTK parameterisation $v = a/\\sqrt k$, adds "
            "$\\Sigma_a[i, j] = \\mathbb E[\\varphi(a)\\varphi(b)]$. For ReLU:", "",
            "$$\\Sigma_{ij} = " + latex(two_layer_kernel("relu")) + "$$", "",
            "$$\\Sigma_{ij} + \\Sigma_a[i,j] = " + latex(two_layer_kernel("relu", trainable_output=True)) + "$$", "",
            "Positively homogeneous activations (ReLU, leaky ReLU, abs, step, linear) give a $\\Sigma$ that does "
            "not depend on $\\omega$ when only $C$ is trained; for the others pass `omega` to "
            "`expected_kernel`, `expected_kernel_first_row` and `spectrum`.", "",
            "## Exact eigenvalues", "",
            "For a filter of $L$ taps and $n \\ge 2L - 1$ the eigenvalue of $\\Sigma$ at frequency "
            "$f = 0, \\dots, n - 1$ is a short cosine sum (docs/theory.md §2.3), e.g.", ""]
    for name, filt, label in (("relu", "delta", "δ filter, ReLU"), ("relu", [1, 1], "taps (1, 1), ReLU"),
                              ("erf", "delta", "δ filter, erf")):
        out += [f"* {label}: $\\lambda(f) = " + latex(eigenvalue_formula(name, filt)) + "$"]
    out += ["", "## From formula to numbers", "",
            "```python", "from ntk_toolkit import symbolic as sy", "expr = sy.dual('erf', derivative=True)",
            "print(sy.latex(expr))", "k = sy.to_numpy(expr)          # vectorised; arccos/arcsin arguments clipped",
            "k(rho=0.5, q1=1.0, q2=1.0)", "```", ""]
    return "\n".join(out)
