"""The benchmark problems and the in-repo naive references.

The 1-D benchmarks use one problem (:func:`benchmark_problem`): a
``triangle(4)`` :class:`~ntk_toolkit.operators.CircularConv`, the default
output weights ``v = ±1/√k``, ``C_0 = gen.init(0)``, a fixed target ``y`` and
the stable step ``η = max_step_size(gen)``. The ``images`` section uses its
2-D counterpart (:func:`image_problem`): a ``triangle2d(2)``
:class:`~ntk_toolkit.CircularConv2D` of ``H x W`` images (``triangle2d(3)``
for the spectrum, :func:`image_generator`). The references below are written
for clarity (dense or sparse ``U``, plain NumPy); they run in the same process
as the measurement they are compared with.
"""

from __future__ import annotations

import numpy as np

from ..convolution2d import CircularConv2D
from ..filters import triangle
from ..filters2d import triangle2d
from ..generator import TwoLayerGenerator
from ..kernels import empirical_kernel, expected_kernel_first_row
from ..operators import CircularConv

__all__ = [
    "benchmark_generator",
    "benchmark_problem",
    "image_generator",
    "image_problem",
    "init_weights",
    "jacobian_kernel",
    "naive_gradient_descent",
    "naive_spectrum",
    "rel_diff",
    "sparse_conv2d_matrix",
]

#: Width parameter of the benchmark filter ``triangle(4)``.
FILTER_WIDTH = 4
#: Width parameters of the image benchmark filters: ``triangle2d(2)`` (3 x 3 taps) for gradient
#: descent and the empirical kernel, ``triangle2d(3)`` (5 x 5) for the spectrum of ``Σ``.
IMAGE_FILTER_WIDTH = 2
IMAGE_SPECTRUM_FILTER_WIDTH = 3


def benchmark_generator(n: int, k: int) -> TwoLayerGenerator:
    """The benchmark generator: ``triangle(4)`` circular convolution of length ``n``, ``k`` channels.

    Examples
    --------
    >>> from ntk_toolkit.bench.reference import benchmark_generator
    >>> gen = benchmark_generator(64, 8)
    >>> gen.n, gen.k, gen.operator.filter.name
    (64, 8, 'triangle(4)')
    """
    return TwoLayerGenerator(CircularConv(triangle(FILTER_WIDTH), n), k=k)


def init_weights(gen: TwoLayerGenerator, seed: int = 0) -> np.ndarray:
    """``gen.init(seed)`` (``ω = 1``) drawn in place, without a temporary copy.

    ``gen.init`` computes ``omega * rng.standard_normal((n, k))``, which briefly
    holds two ``(n, k)`` arrays; at the largest benchmark sizes that doubles the
    memory needed before the measured call. This draws the identical numbers
    straight into the result.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.bench.reference import benchmark_generator, init_weights
    >>> gen = benchmark_generator(16, 4)
    >>> bool(np.array_equal(init_weights(gen, seed=3), gen.init(seed=3)))
    True
    """
    C = np.empty((gen.n, gen.k))
    np.random.default_rng(seed).standard_normal(out=C)
    return C


def benchmark_problem(n: int, k: int, seed: int = 0):
    """The gradient-descent benchmark problem.

    Returns
    -------
    gen : TwoLayerGenerator
    C0 : ndarray, shape (n, k)
        ``gen.init(seed)``.
    y : ndarray, shape (n,)
        ``sin(2π·3 m/n) + 0.1 ξ_m`` with ``ξ ~ N(0, 1)`` from seed 1.
    eta : float
        ``max_step_size(gen)``.

    Examples
    --------
    >>> from ntk_toolkit import max_step_size
    >>> from ntk_toolkit.bench.reference import benchmark_problem
    >>> gen, C0, y, eta = benchmark_problem(16, 4)
    >>> C0.shape, y.shape, eta == max_step_size(gen)
    ((16, 4), (16,), True)
    """
    from ..dynamics import max_step_size

    gen = benchmark_generator(n, k)
    C0 = init_weights(gen, seed)
    m = np.arange(n)
    y = np.sin(2 * np.pi * 3 * m / n) + 0.1 * np.random.default_rng(1).standard_normal(n)
    return gen, C0, y, max_step_size(gen)


def image_generator(shape, k: int, p: int = IMAGE_FILTER_WIDTH) -> TwoLayerGenerator:
    """The image benchmark generator: ``triangle2d(p)`` circular convolution of ``H x W`` images, ``k`` channels.

    Examples
    --------
    >>> from ntk_toolkit.bench.reference import image_generator
    >>> gen = image_generator((8, 16), 4)
    >>> gen.n, gen.k, gen.operator.grid_shape, gen.operator.filter.name
    (128, 4, (8, 16), 'triangle2d(2)')
    """
    H, W = (int(x) for x in shape)
    return TwoLayerGenerator(CircularConv2D(triangle2d(p), (H, W)), k=k)


def image_problem(H: int, W: int, k: int, seed: int = 0):
    """The gradient-descent benchmark problem on ``H x W`` images (:func:`image_generator`).

    Returns
    -------
    gen : TwoLayerGenerator
    C0 : ndarray, shape (H·W, k)
        ``gen.init(seed)``.
    y : ndarray, shape (H·W,)
        The image ``sin(2π(3 i₁/H + 2 i₂/W)) + 0.1 ξ`` flattened row-major,
        ``ξ ~ N(0, 1)`` from seed 1.
    eta : float
        ``max_step_size(gen)``.

    Examples
    --------
    >>> from ntk_toolkit import max_step_size
    >>> from ntk_toolkit.bench.reference import image_problem
    >>> gen, C0, y, eta = image_problem(4, 8, 6)
    >>> C0.shape, y.shape, eta == max_step_size(gen)
    ((32, 6), (32,), True)
    """
    from ..dynamics import max_step_size

    gen = image_generator((H, W), k)
    C0 = init_weights(gen, seed)
    i1, i2 = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    y = np.sin(2 * np.pi * (3 * i1 / H + 2 * i2 / W)).ravel()
    y = y + 0.1 * np.random.default_rng(1).standard_normal(H * W)
    return gen, C0, y, max_step_size(gen)


def sparse_conv2d_matrix(taps, center, shape):
    """``U`` of the 2-D circular convolution as a sparse CSR matrix, built from the convolution sum.

    ``(U c)[i₁, i₂] = Σ_{t₁, t₂} u[h₁ + t₁, h₂ + t₂] c[(i₁ − t₁) mod H, (i₂ − t₂) mod W]``
    with ``(h₁, h₂) = center``, pixels flattened row-major: one entry per
    pixel and tap (taps that wrap onto the same pixel are summed), ``n·L₁L₂``
    stored entries instead of the ``n²`` of the dense matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.bench.reference import image_generator, sparse_conv2d_matrix
    >>> op = image_generator((5, 6), 2).operator
    >>> U = sparse_conv2d_matrix(op.taps, op.center, (5, 6))
    >>> U.shape, U.nnz, bool(np.allclose(U.toarray(), op.todense()))
    ((30, 30), 270, True)
    """
    from scipy import sparse

    taps = np.asarray(taps, dtype=np.float64)
    H, W = (int(x) for x in shape)
    h1, h2 = (int(x) for x in center)
    i1, i2 = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    rows, cols, vals = [], [], []
    for a1 in range(taps.shape[0]):
        for a2 in range(taps.shape[1]):
            t1, t2 = a1 - h1, a2 - h2
            rows.append((i1 * W + i2).ravel())
            cols.append((((i1 - t1) % H) * W + (i2 - t2) % W).ravel())
            vals.append(np.full(H * W, taps[a1, a2]))
    n = H * W
    U = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
    return U.tocsr()  # duplicates (wrapped taps) are summed


def naive_gradient_descent(U, v: np.ndarray, y: np.ndarray, C0: np.ndarray, eta: float,
                           steps: int, dtype=np.float64) -> np.ndarray:
    """Gradient descent on ``½‖relu(U C) v − y‖²`` with an explicit ``U`` in plain NumPy.

    ``C ← C − η Uᵀ(1{U C > 0} ∘ r vᵀ)``, ``r = relu(U C) v − y``, computed
    in ``dtype``. ``U`` is a dense ``(n, n)`` array (cost per step: two dense
    ``(n, n) @ (n, k)`` products) or a SciPy sparse matrix such as
    :func:`sparse_conv2d_matrix` (two sparse products, ``O(nnz · k)``).

    Returns
    -------
    ndarray, shape (n, k)
        The weights after ``steps`` steps.

    Examples
    --------
    The same iteration as :func:`ntk_toolkit.gradient_descent`:

    >>> from ntk_toolkit import gradient_descent
    >>> from ntk_toolkit.bench.reference import benchmark_problem, naive_gradient_descent, rel_diff
    >>> gen, C0, y, eta = benchmark_problem(16, 4)
    >>> C = naive_gradient_descent(gen.operator.todense(), gen.output_weights, y, C0, eta, steps=3)
    >>> rel_diff(C, gradient_descent(gen, y, C0, eta, steps=3, record=[3]).C) < 1e-12
    True
    """
    from scipy import sparse

    U = U.astype(dtype) if sparse.issparse(U) else np.asarray(U, dtype=dtype)
    v = np.asarray(v, dtype=dtype)
    y = np.asarray(y, dtype=dtype)
    C = np.array(C0, dtype=dtype)
    eta = dtype(eta)
    for _ in range(steps):
        Z = U @ C
        r = np.maximum(Z, 0) @ v - y
        C -= eta * (U.T @ ((Z > 0) * r[:, None] * v))
    return C


def jacobian_kernel(gen: TwoLayerGenerator, C) -> np.ndarray:
    """The explicit ``J Jᵀ`` (dense Jacobian, O(n² k) memory).

    Examples
    --------
    >>> from ntk_toolkit import empirical_kernel
    >>> from ntk_toolkit.bench.reference import benchmark_problem, jacobian_kernel, rel_diff
    >>> gen, C0, _, _ = benchmark_problem(16, 4)
    >>> K = jacobian_kernel(gen, C0)
    >>> K.shape, rel_diff(empirical_kernel(gen, C0), K) < 1e-12
    ((16, 16), True)
    """
    return empirical_kernel(gen, C, method="jacobian")


def naive_spectrum(gen: TwoLayerGenerator) -> np.ndarray:
    """Eigenvalues of ``Σ`` (decreasing): full complex FFT of its first row, then a sort.

    For images (an operator with ``grid_shape`` ``(H, W)``) the first row is
    reshaped to ``(H, W)`` and transformed with the full 2-D FFT (``Σ`` is
    block-circulant with circulant blocks).

    Examples
    --------
    >>> from ntk_toolkit import spectrum
    >>> from ntk_toolkit.bench.reference import benchmark_generator, naive_spectrum, rel_diff
    >>> gen = benchmark_generator(16, 2)
    >>> rel_diff(spectrum(gen).eigenvalues, naive_spectrum(gen)) < 1e-12
    True
    >>> from ntk_toolkit.bench.reference import image_generator
    >>> gen = image_generator((8, 6), 2, p=3)  # 2-D FFT
    >>> rel_diff(spectrum(gen).eigenvalues, naive_spectrum(gen)) < 1e-12
    True
    """
    row = expected_kernel_first_row(gen)
    shape = getattr(gen.operator, "grid_shape", None) or row.shape
    return np.sort(np.fft.fftn(row.reshape(shape)).real.ravel())[::-1]


def rel_diff(actual, expected) -> float:
    """``max|actual − expected| / max|expected|``.

    Examples
    --------
    >>> from ntk_toolkit.bench.reference import rel_diff
    >>> round(rel_diff([1.0, 2.1], [1.0, 2.0]), 12)
    0.05
    """
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        raise ValueError(f"shapes differ: {actual.shape} vs {expected.shape}")
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    err = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    return err / scale if scale > 0 else err
