"""The matrix-free empirical kernel and its leading eigenpairs (ntk_toolkit.matfree).

``kernel_operator(gen, C)`` is tested against the dense kernel (``empirical_kernel`` and the
naive ``J Jᵀ``) on every path (fused direct taps, FFT and dense operators, a protocol-only
generator); ``top_eigenpairs`` against ``numpy.linalg.eigvalsh`` of the dense kernel, its
eigenvectors as subspaces (projectors per cluster of eigenvalues).
"""

from __future__ import annotations

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import EIG_CLUSTER_RTOL, PROJ_TOL, PSD_TOL, RTOL, assert_close
from ntk_toolkit import filters as F
from ntk_toolkit import testing
from ntk_toolkit.operators import CircularConv, DenseOperator

#: Leading eigenvalues from Lanczos against eigvalsh (issue spec: rtol ~1e-8; with the
#: default tol=1e-10 the residuals bound the error by ~1e-10 · λ_1).
EIGVAL_RTOL = 1e-8


class ProtocolOnly:
    """A generator with nothing but the protocol (n, num_params, init, forward, jvp, vjp)."""

    def __init__(self, gen):
        self._gen = gen
        self.n = gen.n

    @property
    def num_params(self):
        return self._gen.num_params

    def init(self, seed=None, omega=1.0):
        return self._gen.init(seed, omega)

    def forward(self, C):
        return self._gen.forward(C)

    def jvp(self, C, D):
        return self._gen.jvp(C, D)

    def vjp(self, C, r):
        return self._gen.vjp(C, r)


class LinearGenerator:
    """``G(C) = B C`` with ``K = B Bᵀ`` of prescribed eigenvalues (ties included)."""

    def __init__(self, eigenvalues, p=None, seed=0):
        lam = np.asarray(eigenvalues, dtype=float)
        n = lam.size
        p = p or 2 * n
        rng = np.random.default_rng(seed)
        Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
        W = np.linalg.qr(rng.standard_normal((p, n)))[0]
        self.B = Q @ np.diag(np.sqrt(lam)) @ W.T
        self.n, self.p = n, p

    @property
    def num_params(self):
        return self.p

    def init(self, seed=None, omega=1.0):
        return omega * np.random.default_rng(seed).standard_normal(self.p)

    def forward(self, C):
        return self.B @ C

    def jvp(self, C, D):
        return self.B @ D

    def vjp(self, C, r):
        return self.B.T @ r


# (label, filter, n, k, method): direct taps with symmetric and asymmetric filters, a filter as
# long as the signal, several channel blocks (k = 130: blocks of 72), FFT, dense operator.
CASES = [
    ("direct-triangle", F.triangle(2), 16, 4, "direct"),
    ("direct-asym", F.Filter([0.3, -1.0, 2.0, 0.5]), 33, 8, "direct"),
    ("direct-blocks", F.triangle(4), 40, 130, "direct"),
    ("direct-full", F.Filter([1.0, -2.0, 3.0, 0.5, 4.0]), 5, 2, "direct"),
    ("fft", F.triangle(3), 24, 6, "fft"),
    ("fft-asym", F.Filter([0.3, -1.0, 2.0, 0.5]), 17, 10, "fft"),
    ("dense", F.Filter([0.3, -1.0, 2.0, 0.5]), 20, 6, "dense"),
    ("dense-random", None, 15, 4, "dense"),
]


def _make(case, seed=0):
    _, filt, n, k, method = case
    if filt is None:
        U = np.random.default_rng(seed).standard_normal((n, n)) / np.sqrt(n) + np.eye(n)
    else:
        U = naive.conv_matrix(filt.taps_for(n), n)
    op = DenseOperator(U) if method == "dense" else CircularConv(filt, n, method=method)
    gen = nt.TwoLayerGenerator(op, k=k)
    return gen, U


def _dense_columns(K, n):
    """``K`` applied to the identity, as a dense matrix."""
    return K.matmat(np.eye(n))


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_kernel_operator_matches_dense_kernel(case):
    gen, U = _make(case)
    n = gen.n
    for seed in (0, 1):
        C = gen.init(seed=seed)
        K_ref = naive.empirical_kernel(U, C, gen.output_weights)
        K = nt.kernel_operator(gen, C)
        assert K.shape == (n, n) and K.dtype == np.float64
        assert_close(_dense_columns(K, n), K_ref, what="K(C) from products vs naive J Jᵀ")
        assert_close(_dense_columns(K, n), nt.empirical_kernel(gen, C), what="K(C) vs empirical_kernel")
        x = np.random.default_rng(seed + 10).standard_normal(n)
        assert_close(K.matvec(x), K_ref @ x, what="matvec")
        assert_close(K @ x, K_ref @ x, what="K @ x")
        assert_close(K.rmatvec(x), K_ref @ x, what="rmatvec")
        assert K.matvec(x[:, None]).shape == (n, 1)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matmat_equals_columnwise_matvec(case):
    gen, _ = _make(case)
    C = gen.init(seed=3)
    K = nt.kernel_operator(gen, C)
    X = np.random.default_rng(4).standard_normal((gen.n, 7))
    cols = np.stack([K.matvec(X[:, q]) for q in range(X.shape[1])], axis=1)
    assert_close(K.matmat(X), cols, what="matmat vs matvec per column")
    assert_close(K @ X, cols, what="K @ X")
    assert_close(K.T @ X, cols, what="Kᵀ @ X (symmetric)")


def test_protocol_only_generator_uses_vjp_then_jvp():
    gen, U = _make(CASES[1])
    user = ProtocolOnly(gen)
    C = gen.init(seed=5)
    K = nt.kernel_operator(user, C)
    assert_close(_dense_columns(K, gen.n), naive.empirical_kernel(U, C, gen.output_weights),
                 what="protocol-only generator")
    lin = LinearGenerator(np.linspace(3.0, 0.5, 12), seed=1)
    K = nt.kernel_operator(lin, lin.init(seed=0))
    assert_close(_dense_columns(K, lin.n), lin.B @ lin.B.T, what="linear generator")


def test_fused_products_do_not_depend_on_the_thread_count():
    from ntk_toolkit._jit import num_threads

    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(3), 4096), k=256)  # two blocks, above the 1-thread work
    C = gen.init(seed=0)
    X = np.random.default_rng(1).standard_normal((gen.n, 3))
    K = nt.kernel_operator(gen, C)
    with num_threads(1):
        one = K @ X
    assert np.array_equal(K @ X, one)


# --------------------------------------------------------------------------- properties
def setups():
    """``(gen, n, seed)`` from :func:`ntk_toolkit.testing.generators` (n in 4..40, even k in 2..16, any path)."""
    return st.tuples(testing.generators(max_n=40, max_k=16), st.integers(0, 2**32 - 1)).map(
        lambda t: (t[0], t[0].n, t[1]))


@given(setups())
def test_kernel_operator_is_symmetric_and_psd(s):
    gen, n, seed = s
    rng = np.random.default_rng(seed)
    C = gen.init(seed=rng)
    x, y = rng.standard_normal(n), rng.standard_normal(n)
    K = nt.kernel_operator(gen, C)
    Kx, Ky = K.matvec(x), K.matvec(y)
    scale = np.linalg.norm(Kx) * np.linalg.norm(y) + np.linalg.norm(x) * np.linalg.norm(Ky) + 1e-300
    assert abs(Kx @ y - x @ Ky) <= RTOL * scale
    assert Kx @ x >= -PSD_TOL * np.linalg.norm(Kx) * np.linalg.norm(x)


# --------------------------------------------------------------------------- eigenpairs
def _check_against_dense(top, K_dense, r):
    """Eigenvalues against eigvalsh; eigenvectors orthonormal and spanning the same subspaces.

    Projectors are compared on every cluster of (nearly) equal eigenvalues that lies
    entirely among the leading ``r``, and on the whole leading subspace when ``λ_r``
    is separated from ``λ_{r+1}``.
    """
    lam_ref, V_ref = np.linalg.eigh(K_dense)
    lam_ref, V_ref = lam_ref[::-1], V_ref[:, ::-1]
    np.testing.assert_allclose(top.eigenvalues, lam_ref[:r], rtol=EIGVAL_RTOL, atol=EIGVAL_RTOL * lam_ref[0])
    V = top.eigenvectors
    assert V.shape == (K_dense.shape[0], r)
    assert_close(V.T @ V, np.eye(r), rtol=1e-10, what="orthonormal eigenvectors")
    assert np.all(np.diff(top.eigenvalues) <= 0)
    assert top.residual_norms.shape == (r,) and top.residual_norms.max() <= 1e-8 * lam_ref[0]
    for idx in naive.eig_clusters(lam_ref, EIG_CLUSTER_RTOL):
        if idx[-1] >= r:
            break
        P = V[:, idx] @ V[:, idx].T
        P_ref = V_ref[:, idx] @ V_ref[:, idx].T
        assert float(np.max(np.abs(P - P_ref))) <= PROJ_TOL, f"projector of eigenvalues {idx}"


@pytest.mark.parametrize("method", ["lanczos", "dense"])
@pytest.mark.parametrize("case", [CASES[1], CASES[2], CASES[5], CASES[7]], ids=lambda c: c[0])
def test_top_eigenpairs_matches_eigh(case, method):
    gen, U = _make(case)
    C = gen.init(seed=2)
    K_dense = naive.empirical_kernel(U, C, gen.output_weights)
    r = min(5, gen.n // 3)
    top = nt.top_eigenpairs(gen, C, r, seed=0, tol=0.0, method=method)
    assert top.method == method and (top.matvecs > 0) == (method == "lanczos")
    _check_against_dense(top, K_dense, r)


def test_top_eigenpairs_at_a_size_where_auto_is_lanczos():
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(3), 300), k=16)
    C = gen.init(seed=0)
    top = nt.top_eigenpairs(gen, C, 6, seed=0)
    assert top.method == "lanczos" and top.matvecs > 0
    _check_against_dense(top, nt.empirical_kernel(gen, C), 6)
    d = top.to_dict()
    assert d["eigenvalues"] == top.eigenvalues.tolist() and d["method"] == "lanczos" and d["r"] == 6
    assert d["n"] == 300


def test_top_eigenpairs_with_ties_compares_subspaces():
    # clusters {5, 5}, {4}, {3, 3, 3}: r = 2, 3 and 6 end on a cluster boundary
    lam = np.array([5.0, 5.0, 4.0, 3.0, 3.0, 3.0] + list(np.linspace(2.0, 0.1, 34)))
    gen = LinearGenerator(lam, seed=3)
    C = gen.init(seed=0)
    K_dense = gen.B @ gen.B.T
    for r in (2, 3, 6, 5):  # r = 5 splits a tie: eigenvalues still agree, only whole clusters are compared
        for method in ("lanczos", "dense"):
            top = nt.top_eigenpairs(gen, C, r, seed=1, tol=0.0, method=method)
            _check_against_dense(top, K_dense, r)


def test_top_eigenpairs_is_deterministic_given_the_seed():
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(2), 300), k=8)
    C = gen.init(seed=0)
    a = nt.top_eigenpairs(gen, C, 4, seed=7)
    b = nt.top_eigenpairs(gen, C, 4, seed=np.random.default_rng(7))
    assert np.array_equal(a.eigenvalues, b.eigenvalues) and np.array_equal(a.eigenvectors, b.eigenvectors)
    c = nt.top_eigenpairs(gen, C, 4, seed=8)
    np.testing.assert_allclose(c.eigenvalues, a.eigenvalues, rtol=EIGVAL_RTOL)


# --------------------------------------------------------------------------- bad input
def test_bad_input_is_rejected_with_clear_errors():
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(2), 16), k=4)
    C = gen.init(seed=0)
    for r, exc, match in [(0, ValueError, r"r must be an integer >= 1, got 0"),
                          (-3, ValueError, r"r must be an integer >= 1, got -3"),
                          (2.5, TypeError, r"r must be an integer, got 2.5"),
                          (True, TypeError, r"r must be an integer, got True"),
                          ("3", TypeError, r"r must be an integer"),
                          (16, ValueError, r"1 <= r < n = 16, got r=16.*empirical_kernel"),
                          (40, ValueError, r"1 <= r < n = 16, got r=40")]:
        with pytest.raises(exc, match=match):
            nt.top_eigenpairs(gen, C, r)
    with pytest.raises(ValueError, match=r"C must have shape \(16, 4\), got \(16, 5\)"):
        nt.kernel_operator(gen, np.zeros((16, 5)))
    with pytest.raises(ValueError, match=r"C must have shape \(16, 4\), got \(4, 16\)"):
        nt.top_eigenpairs(gen, np.zeros((4, 16)), 2)
    with pytest.raises(ValueError, match="C must be finite"):
        nt.kernel_operator(gen, np.full((16, 4), np.nan))
    with pytest.raises(TypeError, match="gen must be a generator"):
        nt.kernel_operator(np.eye(16), C)
    with pytest.raises(ValueError, match="method must be 'auto', 'lanczos' or 'dense', got 'arpack'"):
        nt.top_eigenpairs(gen, C, 2, method="arpack")
    with pytest.raises(ValueError, match="tol must be"):
        nt.top_eigenpairs(gen, C, 2, tol=-1.0)
    with pytest.raises(ValueError, match=r"ncv must satisfy r < ncv <= n = 16, got ncv=17"):
        nt.top_eigenpairs(gen, C, 2, ncv=17)
    with pytest.raises(TypeError, match="seed must be"):
        nt.top_eigenpairs(gen, C, 2, seed=-1)
    lin = LinearGenerator(np.ones(6))
    with pytest.raises(ValueError, match=r"C must have gen.num_params = 12 entries, got shape \(5,\)"):
        nt.kernel_operator(lin, np.zeros(5))
    K = nt.kernel_operator(gen, C)
    with pytest.raises(ValueError):
        K.matvec(np.ones(15))
    with pytest.raises(ValueError, match="x must be finite"):
        K.matvec(np.full(16, np.inf))


def test_empirical_kernel_above_the_budget_points_to_the_matrix_free_path():
    n = 8192  # K alone is 512 MiB
    gen = nt.TwoLayerGenerator(CircularConv(F.triangle(2), n), k=2)
    C = gen.init(seed=0)
    nt.set_memory_budget(64 * 1024**2)
    try:
        with pytest.raises(MemoryError, match="empirical kernel") as info:
            nt.empirical_kernel(gen, C)
        assert "ntk_toolkit.kernel_operator(gen, C)" in str(info.value)
        assert "ntk_toolkit.top_eigenpairs(gen, C, r)" in str(info.value)
        x = np.random.default_rng(0).standard_normal(n)
        Kx = nt.kernel_operator(gen, C) @ x  # the matrix-free path runs within the same budget
        assert Kx.shape == (n,) and np.isfinite(Kx).all()
    finally:
        nt.set_memory_budget(None)
