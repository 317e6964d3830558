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


def _scatter_shifted(grad: np.ndarray, t: np.ndarray, c: int) -> None:
    """``grad[clip(j + c, 0, m − 1)] += t[j]`` along the last axis, for ``c`` in ``{−1, 0, 1}``."""
    if c == 0:
        grad += t
    elif c < 0:
        grad[..., :-1] += t[..., 1:]
        grad[..., 0] += t[..., 0]
    else:
        grad[..., 1:] += t[..., :-1]
        grad[..., -1] += t[..., -1]


def interp_axis_adjoint(y: np.ndarray, axis: int, factor: int) -> np.ndarray:
    """Adjoint of :func:`interp_axis`: ``y`` has ``m · factor`` samples along ``axis``, the result ``m``.

    Phase by phase: the outputs ``o = factor·j + s`` read the sources ``j + c0`` and ``j + c1``
    (``c0, c1`` in ``{−1, 0, 1}``, clamped at the ends) with weights that do not depend on
    ``j`` except where the clamp gives them weight 0, so each phase is two shifted, weighted
    additions.
    """
    m = y.shape[axis] // factor
    _, _, w0, w1 = axis_weights(m, factor)
    ym = np.moveaxis(y, axis, -1)
    grad = np.zeros(ym.shape[:-1] + (m,))
    for s in range(factor):
        ys = ym[..., s::factor]
        c0 = 0 if (s + 0.5) / factor - 0.5 >= 0 else -1  # the sign of the phase's offset, as in axis_weights
        _scatter_shifted(grad, ys * w0[s::factor], c0)
        _scatter_shifted(grad, ys * w1[s::factor], c0 + 1)
    return np.moveaxis(grad, -1, axis)


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

    ``x`` has shape ``(k, P)``; mean and biased variance over the ``P`` positions
    (the variance as one ``einsum`` pass, the centring and scaling in place).
    """
    xhat = x - x.mean(axis=1, keepdims=True)
    var = np.einsum("ij,ij->i", xhat, xhat) / x.shape[1]
    inv = (1.0 / np.sqrt(var + NORM_EPS))[:, None]
    xhat *= inv
    out = xhat * scale[:, None]
    out += shift[:, None]
    return out, xhat, inv


def norm_tangent(dx: np.ndarray, xhat: np.ndarray, inv: np.ndarray) -> np.ndarray:
    """Derivative of ``xhat`` along ``dx``: ``inv · (dx − mean(dx) − xhat · mean(xhat · dx))``.

    The map is ``inv · (I − 11ᵀ/P − xhat xhatᵀ/P)`` per channel: symmetric,
    so it is its own adjoint.
    """
    proj = (np.einsum("ij,ij->i", xhat, dx) / dx.shape[1])[:, None]
    out = dx - dx.mean(axis=1, keepdims=True)
    out -= xhat * proj
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
