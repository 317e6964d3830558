"""The fixed and the normalising stages of a deep decoder, with their derivatives.

Arrays hold one row per channel: ``(k, *spatial)`` for the resampling
stages, ``(k, P)`` (positions flattened row-major) for the channel
normalisation. Nothing here validates; :mod:`ntk_toolkit.deep.model` does.

* Linear interpolation along one axis with the index and weight rules of
  ``torch.nn.Upsample(scale_factor=f, mode="linear" | "bilinear",
  align_corners=False)``: output sample ``o`` reads the source coordinate
  ``s = (o + ½)/f − ½`` (clamped at 0), ``i0 = ⌊s⌋``, ``i1 = min(i0 + 1, m − 1)``,
  weights ``1 − (s − i0)`` and ``s − i0`` (``docs/theory.md`` §6).
* Channel normalisation: per channel, zero mean and unit (biased) variance
  over the positions with ``eps``, then a trainable scale and shift.
"""

from __future__ import annotations

import functools

import numpy as np

#: ``eps`` of the channel normalisation (``torch.nn.BatchNorm*d``'s default).
NORM_EPS = 1e-5


@functools.lru_cache(maxsize=64)
def axis_weights(m: int, factor: int):
    """``(i0, i1, w0, w1)`` of linear upsampling of ``m`` samples by ``factor`` (read-only arrays)."""
    out = m * factor
    scale = 1.0 / factor
    src = scale * (np.arange(out, dtype=np.float64) + 0.5) - 0.5
    src = np.maximum(src, 0.0)
    i0 = src.astype(np.int64)
    i1 = np.where(i0 < m - 1, i0 + 1, i0)
    w1 = src - i0
    w0 = 1.0 - w1
    for a in (i0, i1, w0, w1):
        a.setflags(write=False)
    return i0, i1, w0, w1


def _shape_for(w: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    shape = [1] * ndim
    shape[axis] = w.size
    return w.reshape(shape)


def interp_axis(x: np.ndarray, axis: int, factor: int) -> np.ndarray:
    """Linear upsampling of ``x`` along ``axis`` by ``factor`` (PyTorch's rule)."""
    i0, i1, w0, w1 = axis_weights(x.shape[axis], factor)
    a = np.take(x, i0, axis=axis)
    a *= _shape_for(w0, x.ndim, axis)
    b = np.take(x, i1, axis=axis)
    b *= _shape_for(w1, x.ndim, axis)
    a += b
    return a


def _segment_sum(y: np.ndarray, idx: np.ndarray, axis: int, m: int) -> np.ndarray:
    """``out[..., i, ...] = Σ_{o : idx[o] = i} y[..., o, ...]`` for a non-decreasing ``idx``."""
    uniq, starts = np.unique(idx, return_index=True)
    sums = np.add.reduceat(y, starts, axis=axis)
    if uniq.size == m:
        return sums
    shape = list(y.shape)
    shape[axis] = m
    out = np.zeros(shape)
    index = [slice(None)] * y.ndim
    index[axis] = uniq
    out[tuple(index)] = sums
    return out


def interp_axis_adjoint(y: np.ndarray, axis: int, factor: int) -> np.ndarray:
    """Adjoint of :func:`interp_axis`: ``y`` has ``m · factor`` samples along ``axis``, the result ``m``."""
    m = y.shape[axis] // factor
    i0, i1, w0, w1 = axis_weights(m, factor)
    out = _segment_sum(y * _shape_for(w0, y.ndim, axis), i0, axis, m)
    out += _segment_sum(y * _shape_for(w1, y.ndim, axis), i1, axis, m)
    return out


def upsample_array(x: np.ndarray, factor: int) -> np.ndarray:
    """Upsample every spatial axis (all axes but the first) of ``(k, *spatial)``."""
    for axis in range(x.ndim - 1, 0, -1):
        x = interp_axis(x, axis, factor)
    return x


def upsample_array_adjoint(y: np.ndarray, factor: int) -> np.ndarray:
    """Adjoint of :func:`upsample_array`."""
    for axis in range(1, y.ndim):
        y = interp_axis_adjoint(y, axis, factor)
    return y


# --------------------------------------------------------------------------- channel normalisation
def norm_forward(x: np.ndarray, scale: np.ndarray, shift: np.ndarray):
    """``(out, xhat, inv)``: ``out = scale · xhat + shift`` with ``xhat = (x − μ) · inv``, ``inv = 1/√(σ² + eps)``.

    ``x`` has shape ``(k, P)``; mean and biased variance over the ``P`` positions.
    """
    mu = x.mean(axis=1, keepdims=True)
    xc = x - mu
    var = np.mean(xc * xc, axis=1, keepdims=True)
    inv = 1.0 / np.sqrt(var + NORM_EPS)
    xhat = xc * inv
    return xhat * scale[:, None] + shift[:, None], xhat, inv


def norm_tangent(dx: np.ndarray, xhat: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Derivative of ``xhat`` along ``dx``: ``inv · (dx − mean(dx) − xhat · mean(xhat · dx))``.

    The map is ``inv · (I − 11ᵀ/P − xhat xhatᵀ/P)`` per channel: symmetric,
    so it is its own adjoint.
    """
    out = dx - dx.mean(axis=1, keepdims=True)
    out -= xhat * np.mean(xhat * dx, axis=1, keepdims=True)
    out *= inv
    return out


# --------------------------------------------------------------------------- trainable transposed convolution
def zero_insert(x: np.ndarray, factor: int) -> np.ndarray:
    """``(k, *s)`` → ``(k, *(factor·s))`` with ``x`` on the multiples of ``factor`` and zeros elsewhere."""
    out = np.zeros((x.shape[0],) + tuple(factor * s for s in x.shape[1:]))
    out[(slice(None),) + (slice(None, None, factor),) * (x.ndim - 1)] = x
    return out


def zero_insert_adjoint(y: np.ndarray, factor: int) -> np.ndarray:
    """Adjoint of :func:`zero_insert`: the samples on the multiples of ``factor``."""
    return np.ascontiguousarray(y[(slice(None),) + (slice(None, None, factor),) * (y.ndim - 1)])


def tap_shifts(shape: tuple):
    """``[(tap index, shift)]`` of a centred filter of ``shape``: tap ``t`` reads sample ``o − t + (L − 1)//2``."""
    out = []
    for t in np.ndindex(*shape):
        out.append((t, tuple(int(tj) - (L - 1) // 2 for tj, L in zip(t, shape))))
    return out


def circular_filter(h: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``Σ_t h[t] · roll(x, t − c)`` over the spatial axes of ``(k, *spatial)``: every channel convolved with ``h``."""
    axes = tuple(range(1, x.ndim))
    out = np.zeros_like(x)
    for t, shift in tap_shifts(h.shape):
        out += h[t] * np.roll(x, shift, axis=axes)
    return out


def circular_filter_adjoint(h: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Adjoint of :func:`circular_filter` in ``x``."""
    axes = tuple(range(1, y.ndim))
    out = np.zeros_like(y)
    for t, shift in tap_shifts(h.shape):
        out += h[t] * np.roll(y, tuple(-s for s in shift), axis=axes)
    return out


def circular_filter_taps_grad(x: np.ndarray, g: np.ndarray, shape: tuple) -> np.ndarray:
    """``∂⟨g, circular_filter(h, x)⟩/∂h``, shape ``shape``."""
    axes = tuple(range(1, x.ndim))
    out = np.empty(shape)
    for t, shift in tap_shifts(shape):
        out[t] = float(np.sum(np.roll(x, shift, axis=axes) * g))
    return out
