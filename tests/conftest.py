"""Shared test configuration: tolerances (one place), hypothesis profiles, Numba warm-up.

Test modules import the tolerances with ``from conftest import ...``; pytest puts
this directory on ``sys.path`` (rootdir-relative ``tests/`` without ``__init__``).
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings


# --------------------------------------------------------------------------- BLAS threads
def _single_threaded_blas() -> None:
    """Run OpenBLAS on one thread unless OPENBLAS_NUM_THREADS says otherwise.

    The naive references are small dense linear algebra (n <= 255). With two
    OpenBLAS threads on 2 shared cores an SVD/eigh of a banded 255 x 255 matrix
    was measured at 0.5–1.4 s instead of 0.02 s (thread hand-off for tiny
    blocks under load). The environment variable cannot be used here: pytest
    imports numba (hence numpy and its OpenBLAS) while resolving the
    ``filterwarnings`` categories, before this file runs; so call OpenBLAS'
    own ``set_num_threads`` in the libraries bundled with numpy and scipy.
    Results do not depend on this (design.md §4); only the speed does.
    """
    if os.environ.get("OPENBLAS_NUM_THREADS"):
        return
    import scipy

    libs = []
    for pkg in (np, scipy):
        libs += glob.glob(os.path.join(os.path.dirname(pkg.__path__[0]), pkg.__name__ + ".libs", "*openblas*.so*"))
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:  # pragma: no cover - unusual builds
            continue
        for sym in ("scipy_openblas_set_num_threads64_", "scipy_openblas_set_num_threads",
                    "openblas_set_num_threads64_", "openblas_set_num_threads"):
            if hasattr(lib, sym):
                getattr(lib, sym)(1)
                break


_single_threaded_blas()

# --------------------------------------------------------------------------- tolerances
#: Relative tolerance per dtype for "fast routine vs naive reference": errors are
#: measured relative to the max-abs (or norm) of the reference.
TOL = {"float64": 1e-12, "float32": 1e-4}
RTOL = TOL["float64"]

#: Central finite differences of a piecewise-linear map are exact up to rounding,
#: which is amplified by 1/step (step ~ 1e-4 .. 1e-2 of the kink margin): ~1e-16/1e-5.
FD_TOL = 1e-8

#: Eigenvector subspaces: a projector computed by eigh has error ~ eps·‖Σ‖/gap
#: (Davis–Kahan); clusters are split only at gaps > EIG_CLUSTER_RTOL·‖Σ‖.
EIG_CLUSTER_RTOL = 1e-6
PROJ_TOL = 1e-8

#: Hypothesis property tests on FFT vs eigvalsh spectra (issue spec: 1e-10 relative).
SPECTRUM_TOL = 1e-10

#: PSD check: eigenvalues >= -PSD_TOL·scale (rounding in the eigensolver).
PSD_TOL = 1e-12

#: Gradient descent accumulates rounding over its steps through a nonlinear map
#: (FFT vs direct convolution round differently). The oracle grid (25 steps)
#: meets RTOL with a 1000x margin; this looser bound is for long runs (hundreds
#: of steps) where rounding grows with the step count.
GD_TOL = 1e-10

#: float32 gradient descent against float64 (``gradient_descent(dtype=np.float32)``):
#: weights round at ~6e-8 per step and the error of the outputs grows with the
#: steps to ~1e-5 after a few hundred (measured at n = 64 … 512); 10x margin.
F32_GD_TOL = TOL["float32"]

#: Repeated matrix-vector products (naive) vs eigen-decomposition (library) for
#: hundreds of steps: rounding grows linearly in the step count. (The oracle
#: grid, 40 steps, is checked at RTOL.)
LINEARIZED_TOL = 1e-10

#: τ → ∞ limits go through 1/μ (or a pseudo-inverse): rounding is amplified by the
#: condition number of K (or A K Aᵀ), up to ~1e3 on the grid.
LIMIT_TOL = 1e-9

#: scipy.linalg.expm (scaling and squaring, Padé) is accurate to ~1e-13 in norm,
#: not entrywise; gradient-flow predictions are compared to it at this bound.
FLOW_TOL = 1e-10

#: Analysis ∘ synthesis round trips through FFTs (n <= 40) plus (1 − ηλ)^τ with λ
#: from the FFT instead of eigvalsh: a few hundred eps, relative to the largest entry.
ROUNDTRIP_TOL = 1e-10

#: Shift equivariance of a whole trajectory, FFT path: the rolled and unrolled
#: runs round differently at every step.
SHIFT_TOL = 1e-9


def max_rel_err(actual, expected):
    """``max|actual − expected| / max|expected|`` (shapes must agree)."""
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    scale = float(np.max(np.abs(expected))) if expected.size else 0.0
    err = float(np.max(np.abs(actual - expected))) if expected.size else 0.0
    return err / scale if scale > 0 else err


def assert_close(actual, expected, rtol=RTOL, what=""):
    """Assert ``max|actual − expected| <= rtol · max|expected|``."""
    err = max_rel_err(actual, expected)
    assert err <= rtol, f"{what}: relative error {err:.3g} > {rtol:.1g}"


# --------------------------------------------------------------------------- hypothesis
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    max_examples=50,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "dev",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --------------------------------------------------------------------------- numba warm-up
@pytest.fixture(scope="session", autouse=True)
def _warm_up_numba_kernels():
    """Compile (or load from cache) every Numba kernel once, outside any test's timing."""
    import ntk_toolkit as nt
    from ntk_toolkit.filters import triangle
    from ntk_toolkit.operators import CircularConv

    op = CircularConv(triangle(2), 8, method="direct")
    gen = nt.TwoLayerGenerator(op, k=4)
    C = gen.init(seed=0, omega=0.1)
    y = np.linspace(-1.0, 1.0, 8)
    op.apply(C)
    op.apply_T(C)
    op.apply(y)
    op.apply_T(y)
    gen.forward(C)
    gen.jvp(C, C)
    gen.vjp(C, y)
    gen.gradient(C, y)
    nt.empirical_kernel(gen, C)
    nt.kernel_operator(gen, C) @ y  # the fused matrix-free kernel product
    nt.gradient_descent(gen, y, C, nt.max_step_size(gen), 2)
    nt.gradient_descent(gen, y, C, nt.max_step_size(gen), 2, dtype=np.float32)
    # the sign-packing kernel of FFT and dense operators
    nt.empirical_kernel(nt.TwoLayerGenerator(CircularConv(triangle(2), 8, method="fft"), k=4), C)
    # the 2-D stencil and the fused 2-D kernels (separable and not), float64 and float32
    from ntk_toolkit.filters import Filter2D, triangle2d

    for filt in (triangle2d(2), Filter2D([[1.0, 2.0], [0.5, 1.0], [0.0, 1.0]])):
        gen2 = nt.TwoLayerGenerator(nt.CircularConv2D(filt, (3, 3)), k=4)
        C2 = gen2.init(seed=0, omega=0.1)
        y2 = np.linspace(-1.0, 1.0, 9)
        gen2.operator.apply(C2)
        gen2.operator.apply_T(C2)
        gen2.vjp(C2, y2)
        nt.gradient_descent(gen2, y2, C2, nt.max_step_size(gen2), 2)
        nt.gradient_descent(gen2, y2, C2, nt.max_step_size(gen2), 2, dtype=np.float32)
        nt.empirical_kernel(gen2, C2)
    yield
