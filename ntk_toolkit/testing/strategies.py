"""Hypothesis strategies for the objects of the toolkit, with bounded sizes.

Sizes are small by default (``n <= 40``, ``k <= 16``, at most 9 taps) so
that a property runs in milliseconds and dense references (``J``, ``K``,
``eigvalsh``) stay cheap; values are bounded (taps in ``[-1, 1]``, signals
of norm ``1`` or ``√n``) so that no property fails by overflow. Each
strategy shrinks towards the simplest case (the ``delta`` filter, the
smallest ``n`` and ``k``, the direct convolution, seed 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from .. import filters as F
from .. import signals as S
from ..generator import TwoLayerGenerator
from ..measurements import GaussianMeasurement
from ..operators import CircularConv, DenseOperator
from ..stability import max_step_size

__all__ = ["Problem", "filters", "operators", "generators", "signals", "step_sizes", "problems", "SIGNAL_KINDS"]

#: Kinds of :func:`signals`: the named signals of :func:`ntk_toolkit.signals.from_name`,
#: ``"trig"`` (a cosine or sine of a random frequency) and ``"array"`` (arbitrary bounded entries).
SIGNAL_KINDS = ("noise", "smooth", "step", "piecewise", "piecewise-smooth", "trig", "array")

_METHODS = ("direct", "fft", "dense")


@st.composite
def _custom_filter(draw, max_taps: int):
    L = draw(st.integers(1, max_taps))
    taps = draw(st.lists(st.floats(-1.0, 1.0, allow_nan=False, allow_subnormal=False), min_size=L, max_size=L))
    assume(max(abs(t) for t in taps) > 1e-3)
    return F.Filter(np.array(taps))


def filters(max_taps: int = 9, custom: bool = True) -> st.SearchStrategy:
    """Filters of at most ``max_taps`` taps: delta, triangle, box, gaussian, and (``custom``) taps in ``[-1, 1]``.

    Parameters
    ----------
    max_taps : int, default 9
    custom : bool, default True
        Include filters with arbitrary taps (not all below 1e-3 in magnitude), unit norm.

    Returns
    -------
    hypothesis strategy of :class:`~ntk_toolkit.Filter`

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(filters(max_taps=5))
    ... def check(f):
    ...     assert 1 <= f.taps.size <= 5
    >>> check()
    """
    if max_taps < 1:
        raise ValueError(f"max_taps must be >= 1, got {max_taps}")
    named = [st.just(F.delta())]
    if max_taps >= 3:
        named.append(st.integers(2, (max_taps + 1) // 2).map(F.triangle))
    if max_taps >= 2:
        named.append(st.integers(2, max_taps).map(F.box))
    if max_taps >= 5:  # length 2⌈4 std⌉ + 1 <= max_taps
        named.append(st.floats(0.25, (max_taps - 1) / 8).map(F.gaussian))
    if custom:
        named.append(_custom_filter(max_taps))
    return st.one_of(*named)


@st.composite
def operators(draw, n: int | None = None, max_n: int = 40, methods=_METHODS, filter=None):
    """Circular convolutions ``U`` of length ``n``: by direct taps, by FFT, or as a dense matrix.

    Parameters
    ----------
    n : int, optional
        Fixed signal length; default drawn from ``4 … max_n``.
    max_n : int, default 40
    methods : sequence of {"direct", "fft", "dense"}
        ``"dense"`` is the same circulant as a :class:`~ntk_toolkit.DenseOperator`
        (the generic code paths).
    filter : Filter or strategy, optional
        Default :func:`filters` with at most ``min(9, n)`` taps.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(operators(n=12))
    ... def check(U):
    ...     assert U.shape == (12, 12)
    >>> check()
    """
    n = draw(st.integers(4, max_n)) if n is None else int(n)
    if filter is None:
        filt = draw(filters(max_taps=min(9, n)))
    elif isinstance(filter, st.SearchStrategy):
        filt = draw(filter)
    else:
        filt = filter
    assume(filt.taps.size <= n)
    method = draw(st.sampled_from(list(methods)))
    if method == "dense":
        return DenseOperator(CircularConv(filt, n, method="fft").todense())
    return CircularConv(filt, n, method=method)


@st.composite
def generators(draw, n: int | None = None, k: int | None = None, max_n: int = 40, max_k: int = 16,
               methods=_METHODS):
    """Two-layer generators ``G(C) = relu(U C) v`` with an operator from :func:`operators` and even ``k``.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(generators(k=4, max_n=12))
    ... def check(gen):
    ...     assert gen.k == 4 and gen.forward(gen.init(seed=0)).shape == (gen.n,)
    >>> check()
    """
    op = draw(operators(n=n, max_n=max_n, methods=methods))
    k = draw(st.integers(1, max(1, max_k // 2)).map(lambda h: 2 * h)) if k is None else int(k)
    return TwoLayerGenerator(op, k)


def signals(n: int, kind: str = "any") -> st.SearchStrategy:
    """Signals of length ``n``: named kinds of :data:`SIGNAL_KINDS` (or ``"any"``), norm ``1`` or ``√n``.

    Examples
    --------
    >>> import numpy as np
    >>> from hypothesis import given, settings
    >>> @settings(max_examples=10, deadline=None)
    ... @given(signals(16, kind="smooth"))
    ... def check(x):
    ...     assert x.shape == (16,) and np.all(np.isfinite(x))
    >>> check()
    """
    if kind != "any" and kind not in SIGNAL_KINDS:
        raise ValueError(f"kind must be 'any' or one of {SIGNAL_KINDS}, got {kind!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return _signals(int(n), kind)


@st.composite
def _signals(draw, n: int, kind: str):
    kind = draw(st.sampled_from(SIGNAL_KINDS)) if kind == "any" else kind
    norm = draw(st.sampled_from([1.0, math.sqrt(n)]))
    seed = draw(st.integers(0, 2**32 - 1))
    if kind == "trig":
        f = draw(st.integers(0, n // 2))
        return S.trig(n, f, kind=draw(st.sampled_from(["cos", "sin"])) if 0 < 2 * f < n else "cos", norm=norm)
    if kind == "array":
        vals = draw(st.lists(st.floats(-1e3, 1e3, allow_nan=False, allow_subnormal=False), min_size=n, max_size=n))
        return np.array(vals, dtype=np.float64)
    return S.from_name(kind, n, seed=seed, norm=norm)


def step_sizes(gen, A=None, max_factor: float = 1.0) -> st.SearchStrategy:
    """Step sizes in ``[10⁻³, max_factor] × max_step_size(gen, A)``.

    With ``max_factor = 1`` (default) every direction of the linearized
    iteration at any weights contracts monotonically (eq. (1.11)), so the
    linearized loss never increases; up to ``2`` the linearization at every
    weight is still stable. The ReLU network's own loss is usually, but not
    always, monotone there: a step that changes activation patterns can raise
    it (the network is not smooth).

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> from ntk_toolkit import CircularConv, TwoLayerGenerator, max_step_size
    >>> from ntk_toolkit.filters import triangle
    >>> gen = TwoLayerGenerator(CircularConv(triangle(2), 8), k=4)
    >>> @settings(max_examples=10, deadline=None)
    ... @given(step_sizes(gen))
    ... def check(eta):
    ...     assert 0 < eta <= max_step_size(gen)
    >>> check()
    """
    if not 0 < max_factor <= 2:
        raise ValueError(f"max_factor must be in (0, 2] (beyond 2 the step is not stable for every weight), "
                         f"got {max_factor}")
    bound = max_step_size(gen, A)
    return st.floats(1e-3, max_factor).map(lambda f: f * bound)


@dataclass(frozen=True)
class Problem:
    """A gradient-descent problem drawn by :func:`problems`: ``gradient_descent(gen, y, C0, eta, steps, A=A)``.

    Examples
    --------
    >>> from hypothesis import given, settings
    >>> import ntk_toolkit as nt
    >>> @settings(max_examples=5, deadline=None)
    ... @given(problems(max_n=12))
    ... def check(p):
    ...     traj = nt.gradient_descent(p.gen, p.y, p.C0, p.eta, 5, A=p.A)
    ...     assert traj.losses[-1] <= traj.losses[0]
    >>> check()
    """

    gen: TwoLayerGenerator
    y: np.ndarray
    C0: np.ndarray
    eta: float
    A: object = None


@st.composite
def problems(draw, max_n: int = 32, max_k: int = 16, measurements: bool = False, methods=_METHODS):
    """A generator, a target, an initialisation and a stable step (:class:`Problem`).

    The target is a signal of :func:`signals` (measured by a Gaussian ``A``
    with ``m`` in ``1 … n`` rows when ``measurements``), ``C_0`` is
    ``N(0, ω²)`` with ``ω`` in ``{0.1, 1}``, and ``η`` comes from
    :func:`step_sizes` (below the network bound).

    Examples
    --------
    See :class:`Problem`.

    >>> from hypothesis import given, settings
    >>> @settings(max_examples=3, deadline=None)
    ... @given(problems(max_n=10, measurements=True))
    ... def check(p):
    ...     assert p.y.shape == (p.A.shape[0],)
    >>> check()
    """
    gen = draw(generators(max_n=max_n, max_k=max_k, methods=methods))
    x = draw(signals(gen.n, kind=draw(st.sampled_from([k for k in SIGNAL_KINDS if k != "array"]))))
    A = None
    if measurements:
        m = draw(st.integers(1, gen.n))
        A = GaussianMeasurement(m, gen.n, seed=draw(st.integers(0, 2**32 - 1)))
        x = A.apply(x)
    omega = draw(st.sampled_from([1.0, 0.1]))
    C0 = gen.init(seed=draw(st.integers(0, 2**32 - 1)), omega=omega)
    eta = draw(step_sizes(gen, A))
    return Problem(gen=gen, y=np.asarray(x, dtype=np.float64), C0=C0, eta=float(eta), A=A)
