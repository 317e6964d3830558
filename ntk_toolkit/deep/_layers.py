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

The interpolation, its adjoint and the ReLU followed by the normalisation
(forward and backward) run as fused Numba kernels parallel over channels
(:mod:`ntk_toolkit._kernels.deep`); :func:`matmul` splits the large 1×1
convolution products over the same threads.
"""

from __future__ import annotations

import functools

import numpy as np

from .. import _blas

#: ``eps`` of the channel normalisation (``torch.nn.BatchNorm*d``'s default).
NORM_EPS = 1e-5

#: Multiply-adds of a product below which :func:`matmul` leaves it to one BLAS call.
SPLIT_WORK = 1 << 22
#: Rows of a block of :func:`matmul` (fixed, so that results do not depend on the thread count).
ROW_BLOCK = 32


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``a @ b`` (2-D float64), split into blocks of :data:`ROW_BLOCK` rows computed in parallel.

    When OpenBLAS runs on one thread (as :func:`ntk_toolkit.deep.fit` and
    :func:`ntk_toolkit.deep.jacobian_spectrum` set it, so that OpenBLAS'
    spinning threads do not take the cores from the parallel stage kernels),
    a large product is one single-threaded BLAS call per block of rows, the
    blocks parallel over Numba's threads
    (:func:`ntk_toolkit._kernels.deep.matmul_rows`); the entries agree with
    ``a @ b`` up to rounding (BLAS may order a dot product differently at a
    block's edge) and do not depend on the thread count. Below :data:`SPLIT_WORK` multiply-adds, with
    fewer than two blocks, or with OpenBLAS on several threads: ``a @ b``.
    Cost O(rows(a) · cols(a) · cols(b)).
    """
    m, n = a.shape[0], b.shape[1]
    if m < 2 * ROW_BLOCK or m * a.shape[1] * n < SPLIT_WORK or max(_blas.get_threads(), default=1) > 1:
        return a @ b
    from .._kernels import deep as kernels

    if not (b.flags.c_contiguous or b.flags.f_contiguous):
        b = np.ascontiguousarray(b)
    out = np.empty((m, n))
    kernels.matmul_rows(np.ascontiguousarray(a), b, out, ROW_BLOCK)
    return out


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


def _tables(m: int, factor: int) -> tuple:
    """``axis_weights(m, factor)``, or placeholders the kernels never read for an axis that is not resampled."""
    return axis_weights(m, factor) if factor > 1 else axis_weights(1, 1)


def _as_images(x: np.ndarray) -> np.ndarray:
    """``(k, n)`` → ``(k, 1, n)`` (a signal is an image of one row); ``(k, H, W)`` unchanged (views)."""
    return x[:, None, :] if x.ndim == 2 else x


def upsample_array(x: np.ndarray, factor: int) -> np.ndarray:
    """Upsample every spatial axis (all axes but the first) of ``(k, *spatial)``, one or two spatial axes.

    Linear interpolation along the last axis, then along the first spatial
    axis (:func:`ntk_toolkit._kernels.deep.upsample`, parallel over
    channels). Cost O(k · output positions).
    """
    from .._kernels import deep as kernels

    xi = np.ascontiguousarray(_as_images(x), dtype=np.float64)
    k, H, W = xi.shape
    fh = factor if x.ndim == 3 else 1
    out = np.empty((k, H * fh, W * factor))
    kernels.upsample(xi, out, *_tables(H, fh), *_tables(W, factor))
    return out.reshape((k,) + tuple(factor * s for s in x.shape[1:]))


def upsample_array_adjoint(y: np.ndarray, factor: int) -> np.ndarray:
    """Adjoint of :func:`upsample_array` (:func:`ntk_toolkit._kernels.deep.upsample_adjoint`)."""
    from .._kernels import deep as kernels

    yi = np.ascontiguousarray(_as_images(y), dtype=np.float64)
    k, Ho, Wo = yi.shape
    fh = factor if y.ndim == 3 else 1
    out = np.empty((k, Ho // fh, Wo // factor))
    kernels.upsample_adjoint(yi, out, *_tables(Ho // fh, fh), *_tables(Wo // factor, factor))
    return out.reshape((k,) + tuple(s // factor for s in y.shape[1:]))


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


def relu_norm_forward(y: np.ndarray, scale: np.ndarray, shift: np.ndarray):
    """``(out, xhat, inv, mask)`` of ``norm_forward(relu(y), scale, shift)`` and ``mask = 1{y > 0}``, fused.

    ``y`` (C-contiguous float64, shape ``(k, P)``) is overwritten and returned
    as ``xhat``; ``inv`` has shape ``(k, 1)`` as in :func:`norm_forward`.
    One kernel (:func:`ntk_toolkit._kernels.deep.relu_norm`): three passes
    over each channel instead of eight array-wide passes with temporaries.
    """
    from .._kernels import deep as kernels

    y = np.require(y, np.float64, ["C", "W"])
    out = np.empty_like(y)
    mask = np.empty(y.shape, dtype=np.bool_)
    inv = np.empty((y.shape[0], 1))
    kernels.relu_norm(y, scale, shift, NORM_EPS, out, mask, inv[:, 0])
    return out, y, inv, mask


def upsample_relu_norm_forward(z: np.ndarray, shape: tuple, factor: int, scale: np.ndarray, shift: np.ndarray):
    """:func:`relu_norm_forward` of :func:`upsample_array` of ``z``, fused channel by channel.

    ``z`` has shape ``(k, P)`` with the positions of the spatial ``shape``
    (one or two axes); ``out``, ``xhat`` and ``mask`` have ``(k, P · factor^ndim)``.
    Each channel is interpolated and normalised while it is in the cache
    (:func:`ntk_toolkit._kernels.deep.upsample_relu_norm`). Same results as the
    two stages one after the other.
    """
    from .._kernels import deep as kernels

    zi = np.ascontiguousarray(_as_images(z.reshape((z.shape[0],) + tuple(shape))), dtype=np.float64)
    k, H, W = zi.shape
    fh = factor if len(shape) == 2 else 1
    y = np.empty((k, H * fh * W * factor))
    out = np.empty_like(y)
    mask = np.empty(y.shape, dtype=np.bool_)
    inv = np.empty((k, 1))
    kernels.upsample_relu_norm(zi, y, y.reshape(k, H * fh, W * factor), *_tables(H, fh), *_tables(W, factor),
                               scale, shift, NORM_EPS, out, mask, inv[:, 0])
    return out, y, inv, mask


def relu_norm_backward(g: np.ndarray, xhat: np.ndarray, mask: np.ndarray, inv: np.ndarray, scale: np.ndarray,
                       overwrite: bool = False):
    """``(gy, gscale, gshift)``: the adjoint of :func:`relu_norm_forward` at ``g = ∂/∂out``, shape ``(k, P)``.

    ``gy = mask · norm_tangent(scale · g, xhat, inv)``, ``gscale = Σ_p g · xhat``,
    ``gshift = Σ_p g`` (:func:`ntk_toolkit._kernels.deep.relu_norm_backward`:
    two passes over each channel). ``overwrite=True`` writes ``gy`` into ``g``
    (a C-contiguous float64 temporary of the caller): no new array.
    """
    from .._kernels import deep as kernels

    g = np.ascontiguousarray(g)
    gy = g if overwrite else np.empty_like(g)
    gscale, gshift = np.empty(g.shape[0]), np.empty(g.shape[0])
    kernels.relu_norm_backward(g, xhat, mask, inv[:, 0], scale, gy, gscale, gshift)
    return gy, gscale, gshift


def relu_norm_backward_upsample_adjoint(g: np.ndarray, xhat: np.ndarray, mask: np.ndarray, inv: np.ndarray,
                                        scale: np.ndarray, shape: tuple, factor: int):
    """``(gz, gscale, gshift)``: :func:`relu_norm_backward` (in place in ``g``) then :func:`upsample_array_adjoint`.

    ``g`` (a C-contiguous float64 temporary of the caller, overwritten) has
    shape ``(k, P · factor^ndim)``; ``gz`` has ``(k, P)``, the positions of the
    spatial ``shape`` of the upsampling's input. Fused channel by channel
    (:func:`ntk_toolkit._kernels.deep.relu_norm_backward_adjoint`); same
    results as the two stages one after the other.
    """
    from .._kernels import deep as kernels

    k = g.shape[0]
    H, W = (1,) + tuple(shape) if len(shape) == 1 else tuple(shape)
    fh = factor if len(shape) == 2 else 1
    gz = np.empty((k, H, W))
    gscale, gshift = np.empty(k), np.empty(k)
    kernels.relu_norm_backward_adjoint(g, g.reshape(k, H * fh, W * factor), xhat, mask, inv[:, 0], scale,
                                       *_tables(H, fh), *_tables(W, factor), gz, gscale, gshift)
    return gz.reshape(k, H * W), gscale, gshift


def relu_norm_backward_rank1(v: np.ndarray, r: np.ndarray, xhat: np.ndarray, mask: np.ndarray, inv: np.ndarray,
                             scale: np.ndarray):
    """:func:`relu_norm_backward` at the rank-one ``g = v rᵀ`` (``v`` of shape ``(k,)``, ``r`` ``(P,)``).

    The gradient reaching the last hidden layer from one output channel: the
    ``k × P`` outer product is never formed (one pass fewer, no temporary).
    """
    from .._kernels import deep as kernels

    gy = np.empty_like(xhat)
    gscale, gshift = np.empty(xhat.shape[0]), np.empty(xhat.shape[0])
    kernels.relu_norm_backward_rank1(np.ascontiguousarray(v), np.ascontiguousarray(r), xhat, mask, inv[:, 0], scale,
                                     gy, gscale, gshift)
    return gy, gscale, gshift


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
