"""The memory guard refuses oversize requests before allocating, naming a cheaper path."""

import tracemalloc

import numpy as np
import pytest

import ntk_toolkit as nt
from ntk_toolkit.filters import triangle
from ntk_toolkit.measurements import GaussianMeasurement, Identity, RandomMask, SubsampledDCT
from ntk_toolkit.operators import CircularConv, circulant_from_first_row

BIG = 1 << 17  # n: any n x n float64 array is 128 GiB


@pytest.fixture
def small_budget():
    nt.set_memory_budget(64 * 1024**2)
    try:
        yield
    finally:
        nt.set_memory_budget(None)


def _refuses(fn, match):
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match=match) as info:
            fn()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "memory budget" in str(info.value)
    assert "set_memory_budget" in str(info.value)
    assert peak < 32 * 1024**2, f"allocated {peak} bytes before refusing"
    return str(info.value)


def test_dense_paths_refuse(small_budget):
    gen = nt.TwoLayerGenerator(CircularConv(triangle(2), n=BIG), k=2)
    msg = _refuses(lambda: nt.expected_kernel(gen), "expected kernel")
    assert "expected_kernel_first_row" in msg
    _refuses(lambda: gen.operator.todense(), "dense")
    _refuses(lambda: circulant_from_first_row(np.ones(BIG)), "circulant")
    _refuses(lambda: nt.trig_basis(BIG), "trigonometric basis")
    spec = nt.spectrum(gen)
    _refuses(lambda: spec.eigenvectors(), "eigenvector matrix")
    _refuses(lambda: gen.jacobian(np.zeros((BIG, 2))), "Jacobian")


def test_measurement_paths_refuse(small_budget):
    msg = _refuses(lambda: GaussianMeasurement(BIG // 2, BIG, seed=0), "Gaussian")
    assert "SubsampledDCT" in msg
    _refuses(lambda: RandomMask(BIG, m=BIG // 2, seed=0).todense(), "measurement matrix")
    _refuses(lambda: SubsampledDCT(BIG // 2, BIG, seed=0).todense(), "measurement matrix")
    _refuses(lambda: Identity(BIG).todense(), "measurement matrix")


def test_recovery_paths_refuse(small_budget):
    n, m = 8192, 4096
    gen = nt.TwoLayerGenerator(CircularConv(triangle(2), n=n), k=2)
    A = SubsampledDCT(m, n, seed=0)
    y = np.zeros(m)
    _refuses(lambda: nt.smoothest_interpolant(gen, A, y), "smoothest interpolant")
    _refuses(lambda: nt.min_l2_interpolant(A, y), "A⁺y")
    _refuses(lambda: nt.linearized(gen, y, 0.1, A=A), "A K Aᵀ")
    _refuses(lambda: nt.oracle_projection(gen, np.zeros(n), p=n), "eigenvectors")


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv("NTK_TOOLKIT_MEMORY_BUDGET", "1M")
    nt.set_memory_budget(None)
    try:
        assert nt.memory_budget() == 1024**2
        gen = nt.TwoLayerGenerator(CircularConv(triangle(2), n=1024), k=2)
        with pytest.raises(MemoryError, match="above the memory budget of 1.0 MiB"):
            nt.expected_kernel(gen)
    finally:
        monkeypatch.delenv("NTK_TOOLKIT_MEMORY_BUDGET")
        nt.set_memory_budget(None)


def test_default_budget_allows_ordinary_sizes():
    gen = nt.TwoLayerGenerator(CircularConv(triangle(2), n=64), k=8)
    assert nt.expected_kernel(gen).shape == (64, 64)
    assert 0 < nt.memory_budget()


def test_many_tau_predictions_at_once():
    """An array of τ gives the same rows as one τ at a time; a huge batch is refused."""
    n = 64
    gen = nt.TwoLayerGenerator(CircularConv(triangle(3), n=n), k=8)
    y = np.random.default_rng(0).standard_normal(n)
    lin = nt.linearized(gen, y, nt.max_step_size(nt.spectrum(gen).eigenvalues.max() * np.eye(1)))
    taus = np.array([0, 1, 5, 17, 100, 1000])
    R, F, L = lin.residual(taus), lin.output(taus), lin.loss(taus)
    assert R.shape == F.shape == (taus.size, n) and L.shape == (taus.size,)
    for i, tau in enumerate(taus):
        np.testing.assert_allclose(R[i], lin.residual(int(tau)), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(F[i], lin.output(int(tau)), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(L[i], 0.5 * R[i] @ R[i], rtol=1e-10)
    nt.set_memory_budget(1024**2)
    try:
        with pytest.raises(MemoryError, match="predicted residuals at 10000 values of τ"):
            lin.residual(np.arange(10_000))
        assert lin.loss(np.arange(10_000)).shape == (10_000,)  # O(n) per τ, no (T, n) array
    finally:
        nt.set_memory_budget(None)
