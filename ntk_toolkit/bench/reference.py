"""The benchmark problem and the in-repo naive references.

Every benchmark uses the same problem (:func:`benchmark_problem`): a
``triangle(4)`` :class:`~ntk_toolkit.operators.CircularConv`, the default
output weights ``v = ±1/√k``, ``C_0 = gen.init(0)``, a fixed target ``y`` and
the stable step ``η = max_step_size(gen)``. The references below are written
for clarity (dense ``U``, plain NumPy); they run in the same process as the
measurement they are compared with.
"""

from __future__ import annotations

import numpy as np

from ..filters import triangle
from ..generator import TwoLayerGenerator
from ..kernels import empirical_kernel, expected_kernel_first_row
from ..operators import CircularConv

__all__ = [
    "benchmark_generator",
    "benchmark_problem",
    "init_weights",
    "jacobian_kernel",
    "naive_gradient_descent",
    "naive_spectrum",
    "rel_diff",
]

#: Width parameter of the benchmark filter ``triangle(4)``.
FILTER_WIDTH = 4


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


def naive_gradient_descent(U: np.ndarray, v: np.ndarray, y: np.ndarray, C0: np.ndarray, eta: float,
                           steps: int, dtype=np.float64) -> np.ndarray:
    """Gradient descent on ``½‖relu(U C) v − y‖²`` with a dense ``U`` in plain NumPy.

    ``C ← C − η Uᵀ(1{U C > 0} ∘ r vᵀ)``, ``r = relu(U C) v − y``, computed
    in ``dtype``. Cost per step: two dense ``(n, n) @ (n, k)`` products.

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
    U = np.asarray(U, dtype=dtype)
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

    Examples
    --------
    >>> from ntk_toolkit import spectrum
    >>> from ntk_toolkit.bench.reference import benchmark_generator, naive_spectrum, rel_diff
    >>> gen = benchmark_generator(16, 2)
    >>> rel_diff(spectrum(gen).eigenvalues, naive_spectrum(gen)) < 1e-12
    True
    """
    row = expected_kernel_first_row(gen)
    return np.sort(np.fft.fft(row).real)[::-1]


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
