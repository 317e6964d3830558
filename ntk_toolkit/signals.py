"""Seeded test signals of length ``n``.

Every function that draws takes ``seed`` (int, ``numpy.random.Generator`` or
``None``); the same seed gives the same signal. Signals are float64 vectors;
``norm`` rescales to that l2 norm when given.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._memory import check_memory
from ._validation import as_rng, check_int, check_positive
from .bases import TrigBasis

__all__ = ["smooth", "trig", "step", "piecewise_constant", "piecewise_smooth", "white_noise", "from_name"]


def _scale(x: np.ndarray, norm: float | None) -> np.ndarray:
    if norm is None:
        return x
    norm = check_positive("norm", norm)
    nx = float(np.linalg.norm(x))
    if nx == 0:
        raise ValueError("the signal is zero and cannot be rescaled to a positive norm")
    return x * (norm / nx)


def smooth(n: int, p: int = 8, seed=None, norm: float | None = 1.0) -> np.ndarray:
    """Band-limited smooth signal: a random combination of the ``p`` lowest-frequency
    trigonometric functions (DC, cos 1, sin 1, cos 2, …; ``docs/theory.md`` §2.3).

    Coefficients are i.i.d. standard normal. The signal lies in the span of the
    first ``p`` columns of :func:`ntk_toolkit.trig_basis`.

    Parameters
    ----------
    n : int
        Signal length.
    p : int, default 8
        Number of trigonometric functions, ``1 <= p <= n``.
    seed : int, numpy.random.Generator or None
    norm : float or None, default 1.0
        l2 norm of the result; ``None`` keeps the raw combination, whose norm is
        that of the ``p`` coefficients (the basis is orthonormal).

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    ``p = 5`` is DC, cos 1, sin 1, cos 2 and sin 2: no energy above frequency 2.

    >>> import numpy as np
    >>> from ntk_toolkit.signals import smooth
    >>> x = smooth(32, p=5, seed=0)
    >>> np.flatnonzero(np.abs(np.fft.rfft(x)) > 1e-12).tolist()
    [0, 1, 2]
    >>> round(float(np.linalg.norm(x)), 12)
    1.0
    >>> bool(np.array_equal(x, smooth(32, p=5, seed=0)))  # same seed, same signal
    True
    """
    n = check_int("n", n, minimum=1)
    check_memory(8 * n, f"a signal of length n={n}", "use a smaller n")
    p = check_int("p", p, minimum=1)
    if p > n:
        raise ValueError(f"p must be <= n={n}, got {p}")
    c = np.zeros(n)
    c[:p] = as_rng(seed).standard_normal(p)
    return _scale(TrigBasis(n).synthesis(c), norm)


def trig(n: int, f: int, kind: str = "cos", norm: float | None = 1.0) -> np.ndarray:
    """``cos(2πfm/n)`` or ``sin(2πfm/n)`` for ``m = 0 … n−1`` (unit norm by default).

    Parameters
    ----------
    n : int
        Signal length.
    f : int
        Frequency, ``0 <= f <= n//2`` (``sin`` needs ``0 < f < n/2``).
    kind : {"cos", "sin"}, default "cos"
    norm : float or None, default 1.0
        l2 norm of the result; ``None`` keeps unit amplitude.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.signals import trig
    >>> trig(6, 1, norm=None).round(12).tolist()
    [1.0, 0.5, -0.5, -1.0, -0.5, 0.5]
    >>> c, s = trig(16, 3), trig(16, 3, kind="sin")
    >>> round(float(np.linalg.norm(c)), 12), bool(abs(c @ s) < 1e-12)  # unit norm, orthogonal
    (1.0, True)
    """
    n = check_int("n", n, minimum=1)
    check_memory(8 * n, f"a signal of length n={n}", "use a smaller n")
    f = check_int("f", f, minimum=0)
    if f > n // 2:
        raise ValueError(f"f must be in [0, n//2 = {n // 2}], got {f}")
    if not isinstance(kind, str) or kind not in ("cos", "sin"):
        raise ValueError(f"kind must be 'cos' or 'sin', got {kind!r}")
    if kind == "sin" and (f == 0 or 2 * f == n):
        raise ValueError(f"sin of frequency {f} is identically zero for n={n}")
    m = np.arange(n)
    x = (np.cos if kind == "cos" else np.sin)(2 * np.pi * f * m / n)
    return _scale(x, norm)


def step(n: int, position: float = 0.5, norm: float | None = 1.0) -> np.ndarray:
    """Step: 1 on the first ``round(position·n)`` samples, 0 after (as in the authors' 1-D example).

    Parameters
    ----------
    n : int
        Signal length, ``>= 2``.
    position : float, default 0.5
        Fraction of the samples before the step, in ``(0, 1)``.
    norm : float or None, default 1.0
        l2 norm of the result; ``None`` keeps the levels 1 and 0.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> from ntk_toolkit.signals import step
    >>> step(8, position=0.25, norm=None).tolist()
    [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    >>> step(8, norm=2.0).tolist()  # four ones scaled to norm 2
    [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    """
    n = check_int("n", n, minimum=2)
    check_memory(8 * n, f"a signal of length n={n}", "use a smaller n")
    if isinstance(position, bool) or not isinstance(position, numbers.Real):
        raise TypeError(f"position must be a real number in (0, 1), got {position!r}")
    if not 0 < position < 1:
        raise ValueError(f"position must be in (0, 1), got {position}")
    x = np.zeros(n)
    x[: max(1, int(round(position * n)))] = 1.0
    return _scale(x, norm)


def _pieces(n, pieces, seed):
    """Validate and draw ``pieces`` random intervals of ``0..n``: returns the Generator and the breakpoints."""
    n = check_int("n", n, minimum=2)
    check_memory(8 * n, f"a signal of length n={n}", "use a smaller n")
    pieces = check_int("pieces", pieces, minimum=1)
    if pieces > n:
        raise ValueError(f"pieces must be <= n={n}, got {pieces}")
    rng = as_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, n), size=pieces - 1, replace=False))
    return rng, np.concatenate([[0], cuts, [n]])


def piecewise_constant(n: int, pieces: int = 4, seed=None, norm: float | None = 1.0) -> np.ndarray:
    """Piecewise-constant signal with ``pieces`` random pieces and N(0, 1) levels.

    Parameters
    ----------
    n : int
        Signal length, ``>= 2``.
    pieces : int, default 4
        Number of pieces, ``1 <= pieces <= n``; the ``pieces − 1`` breakpoints are
        distinct and drawn uniformly.
    seed : int, numpy.random.Generator or None
    norm : float or None, default 1.0
        l2 norm of the result; ``None`` keeps the N(0, 1) levels.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.signals import piecewise_constant
    >>> x = piecewise_constant(32, pieces=4, seed=0)
    >>> int(np.count_nonzero(np.diff(x))), np.unique(x).size  # three jumps, four levels
    (3, 4)
    >>> round(float(np.linalg.norm(x)), 12)
    1.0
    """
    rng, b = _pieces(n, pieces, seed)
    levels = rng.standard_normal(pieces)
    return _scale(np.repeat(levels, np.diff(b)), norm)


def piecewise_smooth(n: int, pieces: int = 3, seed=None, norm: float | None = 1.0) -> np.ndarray:
    """Piecewise-smooth signal: on each of ``pieces`` random intervals, a random
    quadratic plus a low-frequency cosine, with jumps between intervals.

    Parameters
    ----------
    n : int
        Signal length, ``>= 2``.
    pieces : int, default 3
        Number of intervals, ``1 <= pieces <= n``.
    seed : int, numpy.random.Generator or None
    norm : float or None, default 1.0
        l2 norm of the result; ``None`` keeps the raw values.

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    One piece is smooth: its second differences are small next to the jumps of
    three pieces.

    >>> import numpy as np
    >>> from ntk_toolkit.signals import piecewise_smooth
    >>> x = piecewise_smooth(64, pieces=1, seed=0)
    >>> bool(np.abs(np.diff(x, 2)).max() < 1e-2)
    True
    >>> y = piecewise_smooth(64, pieces=3, seed=0)
    >>> round(float(np.linalg.norm(y)), 12), bool(np.abs(np.diff(y)).max() > 10 * np.abs(np.diff(x)).max())
    (1.0, True)
    """
    rng, b = _pieces(n, pieces, seed)
    x = np.empty(b[-1])
    for a, e in zip(b[:-1], b[1:]):
        t = np.linspace(-1.0, 1.0, e - a)
        c0, c1, c2, amp = rng.standard_normal(4)
        x[a:e] = c0 + c1 * t + 0.5 * c2 * t**2 + 0.5 * amp * np.cos(np.pi * t)
    return _scale(x, norm)


def white_noise(n: int, norm: float | None = 1.0, seed=None) -> np.ndarray:
    """Gaussian white noise, rescaled to the given l2 norm (``None``: N(0, 1) entries).

    Parameters
    ----------
    n : int
        Signal length.
    norm : float or None, default 1.0
        l2 norm of the result; ``None`` keeps the i.i.d. N(0, 1) entries.
    seed : int, numpy.random.Generator or None

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.signals import white_noise
    >>> e = white_noise(16, norm=None, seed=0)
    >>> bool(np.array_equal(e, np.random.default_rng(0).standard_normal(16)))
    True
    >>> round(float(np.linalg.norm(white_noise(16, norm=0.5, seed=0))), 12)
    0.5
    """
    n = check_int("n", n, minimum=1)
    check_memory(8 * n, f"a signal of length n={n}", "use a smaller n")
    return _scale(as_rng(seed).standard_normal(n), norm)


def from_name(name: str, n: int, seed=None, norm: float | None = 1.0) -> np.ndarray:
    """Signal by name: ``smooth``, ``step``, ``noise``, ``piecewise`` (constant) or ``piecewise-smooth``.

    The names of the command line's ``--signal`` option. ``smooth`` uses
    ``p = min(8, n)``; the other functions their defaults.

    Parameters
    ----------
    name : str
    n : int
        Signal length.
    seed : int, numpy.random.Generator or None
        For the random signals (ignored by ``step``).
    norm : float or None, default 1.0

    Returns
    -------
    ndarray, shape (n,)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.signals import from_name, smooth, white_noise
    >>> bool(np.array_equal(from_name("noise", 16, seed=3), white_noise(16, seed=3)))
    True
    >>> bool(np.array_equal(from_name("smooth", 16, seed=3), smooth(16, p=8, seed=3)))
    True
    """
    table = {
        "smooth": lambda: smooth(n, p=min(8, n), seed=seed, norm=norm),
        "step": lambda: step(n, norm=norm),
        "noise": lambda: white_noise(n, norm=norm, seed=seed),
        "piecewise": lambda: piecewise_constant(n, seed=seed, norm=norm),
        "piecewise-smooth": lambda: piecewise_smooth(n, seed=seed, norm=norm),
    }
    if not isinstance(name, str) or name not in table:
        raise ValueError(f"name: signal must be one of {sorted(table)}, got {name!r}")
    n = check_int("n", n, minimum=1)
    check_memory(8 * n, f"a signal of length n={n}", "use a smaller n")
    return table[name]()
