"""Fixed linear / bilinear upsampling with PyTorch's semantics (``docs/theory.md`` §6)."""

from __future__ import annotations

import numpy as np

from .._memory import check_memory
from .._validation import as_float_array, check_int
from ._layers import upsample_array, upsample_array_adjoint

__all__ = ["upsample", "upsample_adjoint"]

_MODES = {"linear": 1, "bilinear": 2}


def _check(x, factor, mode, name):
    if not isinstance(mode, str) or mode not in _MODES:
        raise ValueError(f"mode must be 'linear' (arrays (channels, n)) or 'bilinear' (arrays (channels, H, W)), "
                         f"got {mode!r}")
    x = as_float_array(name, x, ndim=_MODES[mode] + 1)
    factor = check_int("factor", factor, minimum=1)
    check_memory(8 * x.size * factor ** _MODES[mode], f"the upsampled array of factor={factor}",
                 "use a smaller factor")
    return x, factor


def upsample(x, factor: int, mode: str) -> np.ndarray:
    """Upsample every channel of ``x`` by an integer ``factor``, as ``torch.nn.Upsample(…, align_corners=False)``.

    Output sample ``o`` of an axis of length ``m`` reads the source coordinate
    ``s = max((o + ½)/factor − ½, 0)`` and interpolates linearly between
    ``x[⌊s⌋]`` and ``x[min(⌊s⌋ + 1, m − 1)]``; ``"bilinear"`` does this along
    both axes. For ``factor = 2`` the weights are ``¾, ¼``: zero insertion
    followed by the filter ``[1, 3, 3, 1]/4`` in the interior
    (``docs/theory.md`` §1.1, §6). Cost O(size of the output).

    Parameters
    ----------
    x : array_like, shape (channels, n) for "linear" or (channels, H, W) for "bilinear"
    factor : int
        ``>= 1``.
    mode : {"linear", "bilinear"}

    Returns
    -------
    ndarray, shape (channels, factor·n) or (channels, factor·H, factor·W)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import upsample
    >>> upsample(np.array([[0.0, 4.0, 8.0]]), 2, "linear").tolist()
    [[0.0, 1.0, 3.0, 5.0, 7.0, 8.0]]
    >>> upsample(np.ones((2, 3, 4)), 2, "bilinear").shape
    (2, 6, 8)
    """
    x, factor = _check(x, factor, mode, "x")
    return upsample_array(x, factor) if factor > 1 else x.copy()


def upsample_adjoint(y, factor: int, mode: str) -> np.ndarray:
    """Adjoint of :func:`upsample`: ``⟨upsample(x), y⟩ = ⟨x, upsample_adjoint(y)⟩``.

    Parameters
    ----------
    y : array_like, shape (channels, factor·n) or (channels, factor·H, factor·W)
    factor : int
    mode : {"linear", "bilinear"}

    Returns
    -------
    ndarray, shape (channels, n) or (channels, H, W)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import upsample
    >>> from ntk_toolkit.deep.upsampling import upsample_adjoint
    >>> x, y = np.arange(3.0)[None], np.arange(6.0)[None]
    >>> bool(np.isclose((upsample(x, 2, "linear") * y).sum(), (x * upsample_adjoint(y, 2, "linear")).sum()))
    True
    """
    y, factor = _check(y, factor, mode, "y")
    bad = [s for s in y.shape[1:] if s % factor]
    if bad:
        raise ValueError(f"y's spatial shape {y.shape[1:]} must be divisible by factor={factor}")
    return upsample_array_adjoint(y, factor) if factor > 1 else y.copy()
