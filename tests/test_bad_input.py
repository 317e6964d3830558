# ruff: noqa: E501  (one bad-input case per line reads better than wrapped tuples)
"""Bad input: every public entry point rejects it with a message naming the argument and the value.

design.md §6: ``ValueError``/``TypeError`` naming the argument, the value received
and what would be valid; divergence stops with an error naming the stable step;
the dense Jacobian refuses above the memory budget.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ntk_toolkit as nt
from ntk_toolkit import filters as F
from ntk_toolkit.activations import Activation
from ntk_toolkit.operators import CircularConv, DenseOperator

N, K = 8, 4


@pytest.fixture(scope="module")
def gen():
    return nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), K)


@pytest.fixture(scope="module")
def C(gen):
    return gen.init(seed=0, omega=0.5)


@pytest.fixture(scope="module")
def y():
    return np.linspace(-1.0, 1.0, N)


@pytest.fixture
def tiny_budget():
    nt.set_memory_budget(1024)
    try:
        yield
    finally:
        nt.set_memory_budget(None)


def _nan(shape):
    a = np.zeros(shape)
    a.flat[1] = np.nan
    return a


def _inf(shape):
    a = np.zeros(shape)
    a.flat[0] = -np.inf
    return a


def _gen():
    return nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), K)


def _C():
    return _gen().init(seed=0, omega=0.5)


def _y():
    return np.linspace(-1.0, 1.0, N)


def _lin(**kw):
    args = dict(kernel=_gen(), y=_y(), eta=0.5)
    args.update(kw)
    return nt.linearized(args.pop("kernel"), **args)


# (id, callable, exception, regex the message must match: argument name AND value)
CASES = [
    # ---- k: odd, < 2, not an int
    ("k-odd", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 3), ValueError, r"k must be even.*got 3"),
    ("k-one", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 1), ValueError, r"k must be .*>= 2.*got 1"),
    ("k-zero", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 0), ValueError, r"k must be .*got 0"),
    ("k-negative", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), -2), ValueError, r"k must .*got -2"),
    ("k-float", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4.0), TypeError, r"k must be an integer.*4\.0"),
    ("k-bool", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), True), TypeError, r"k must be an integer.*True"),
    ("output_weights-shape", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4, output_weights=np.ones(3)),
     ValueError, r"output_weights must have shape \(4,?\), got \(3,\)"),
    ("output_weights-nan", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4, output_weights=_nan(4)),
     ValueError, r"output_weights must be finite.*NaN"),
    ("activation", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4, activation="gelu"),
     ValueError, r"activation must be one of 'relu', 'leaky_relu:SLOPE', 'abs', 'step', 'erf', 'tanh', 'softplus', "
                 r"'quadratic', 'linear'.*got 'gelu'"),
    ("activation-slope", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4, activation="leaky_relu:x"),
     ValueError, r"slope of activation 'leaky_relu:x' must be a finite number.*got 'x'"),
    ("activation-slope-nan", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4,
                                                          activation="leaky_relu:nan"),
     ValueError, r"slope .* must be a finite number"),
    ("activation-type", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4, activation=np.tanh),
     TypeError, r"activation must be one of .*got ufunc"),
    ("activation-derivative", lambda: nt.TwoLayerGenerator(
        CircularConv(F.triangle(2), N), 4, activation=Activation(np.tanh, np.cos, "mine")),
     ValueError, r"derivative of activation 'mine' does not match its function: at x = "),
    ("activation-builtin-name", lambda: Activation(np.tanh, lambda z: 1 / np.cosh(z) ** 2, "tanh"),
     ValueError, r"name 'tanh' is the name of a built-in activation"),
    ("train_output-type", lambda: nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4, train_output=1),
     TypeError, r"train_output must be True or False, got 1"),
    ("omega-expected", lambda: nt.expected_kernel(nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), 4,
                                                                       activation="erf"), omega=-1.0),
     ValueError, r"omega must be a finite number > 0, got -1.0"),
    ("omega-matrix", lambda: nt.spectrum(np.eye(3), omega=2.0), ValueError, r"omega applies to a generator"),
    ("operator-type", lambda: nt.TwoLayerGenerator(np.eye(N), 4), TypeError, r"operator must be .*ndarray"),
    # ---- filter longer than n
    ("filter-longer-than-n", lambda: CircularConv(F.triangle(5), 8), ValueError, r"9 taps.*longer.*n=8"),
    ("filter-longer-than-n-gaussian", lambda: CircularConv(F.gaussian(2.0), 8), ValueError, r"17 taps.*n=8"),
    ("conv-n-zero", lambda: CircularConv(F.delta(), 0), ValueError, r"n must be .*>= 1.*got 0"),
    ("conv-method", lambda: CircularConv(F.delta(), 8, method="dft"), ValueError, r"method must be .*'dft'"),
    ("conv-filter-type", lambda: CircularConv(np.ones(3), 8), TypeError, r"filter must be .*Filter.*ndarray"),
    ("dense-not-square", lambda: DenseOperator(np.ones((3, 4))), ValueError, r"U must be square.*\(3, 4\)"),
    ("dense-nan", lambda: DenseOperator(_nan((3, 3))), ValueError, r"U must be finite.*NaN"),
    ("apply-shape", lambda: CircularConv(F.delta(), 8).apply(np.ones(7)), ValueError, r"x must have 8 rows.*\(7,\)"),
    ("apply_T-shape", lambda: CircularConv(F.delta(), 8).apply_T(np.ones((7, 2))), ValueError, r"x must have 8 rows.*\(7, 2\)"),
    ("dense-apply-shape", lambda: DenseOperator(np.eye(3)).apply(np.ones(4)), ValueError, r"x must have 3 rows.*\(4,\)"),
    # ---- filters
    ("taps-all-zero", lambda: F.Filter([0.0, 0.0]), ValueError, r"taps must not be all zero"),
    ("taps-empty", lambda: F.Filter([]), ValueError, r"taps must contain at least one value"),
    ("taps-nan", lambda: F.Filter([1.0, np.nan]), ValueError, r"taps must be finite.*NaN"),
    ("taps-2d", lambda: F.Filter(np.ones((2, 2))), ValueError, r"taps must have 1 dimension.*\(2, 2\)"),
    ("triangle-p0", lambda: F.triangle(0), ValueError, r"p must be .*>= 1.*got 0"),
    ("gaussian-std0", lambda: F.gaussian(0.0), ValueError, r"std must be .*> 0.*got 0\.0"),
    ("gaussian-std-nan", lambda: F.gaussian(float("nan")), ValueError, r"std must be .*nan"),
    ("gaussian-truncate-neg", lambda: F.gaussian(1.0, truncate=-1.0), ValueError, r"truncate must be .*-1\.0"),
    ("box-0", lambda: F.box(0), ValueError, r"width must be .*got 0"),
    ("from_spec-unknown", lambda: F.from_spec("sinc:3"), ValueError, r"'sinc:3'.*not recognised.*triangle:P"),
    ("from_spec-bad-number", lambda: F.from_spec("triangle:x"), ValueError, r"'triangle:x'.*invalid.*triangle:P"),
    ("from_spec-type", lambda: F.from_spec(3), TypeError, r"filter spec must be a string.*3"),
    ("taps_for-too-short", lambda: F.triangle(3).taps_for(4), ValueError, r"5 taps.*n=4"),
    # ---- C: shape and finiteness, every generator method
    ("forward-C-shape", lambda: _gen().forward(np.ones((N, K + 1))), ValueError, r"C must have shape \(8, 4\), got \(8, 5\)"),
    ("forward-C-1d", lambda: _gen().forward(np.ones(N * K)), ValueError, r"C must have shape \(8, 4\), got \(32,\)"),
    ("forward-C-nan", lambda: _gen().forward(_nan((N, K))), ValueError, r"C must be finite.*NaN"),
    ("forward-C-inf", lambda: _gen().forward(_inf((N, K))), ValueError, r"C must be finite.*infinite"),
    ("forward-C-complex", lambda: _gen().forward(np.ones((N, K)) * 1j), TypeError, r"C must be real"),
    ("forward-C-str", lambda: _gen().forward("abc"), TypeError, r"C must be a numeric array"),
    ("jvp-D-shape", lambda: _gen().jvp(_C(), np.ones((N, 2))), ValueError, r"D must have shape \(8, 4\), got \(8, 2\)"),
    ("jvp-C-nan", lambda: _gen().jvp(_nan((N, K)), _C()), ValueError, r"C must be finite"),
    ("jvp-D-nan", lambda: _gen().jvp(_C(), _nan((N, K))), ValueError, r"D must be finite"),
    ("vjp-r-shape", lambda: _gen().vjp(_C(), np.ones(N + 1)), ValueError, r"r must have shape \(8,?\), got \(9,\)"),
    ("vjp-r-nan", lambda: _gen().vjp(_C(), _nan(N)), ValueError, r"r must be finite.*NaN"),
    ("vjp-C-shape", lambda: _gen().vjp(np.ones((K, N)), _y()), ValueError, r"C must have shape \(8, 4\), got \(4, 8\)"),
    ("jacobian-C-shape", lambda: _gen().jacobian(np.ones((N, 2))), ValueError, r"C must have shape \(8, 4\), got \(8, 2\)"),
    ("jacobian-C-nan", lambda: _gen().jacobian(_nan((N, K))), ValueError, r"C must be finite"),
    ("loss-y-shape", lambda: _gen().loss(_C(), np.ones(N - 1)), ValueError, r"y must have shape \(8,?\), got \(7,\)"),
    ("loss-y-nan", lambda: _gen().loss(_C(), _nan(N)), ValueError, r"y must be finite.*NaN"),
    ("loss-y-inf", lambda: _gen().loss(_C(), _inf(N)), ValueError, r"y must be finite.*infinite"),
    ("loss-C-nan", lambda: _gen().loss(_nan((N, K)), _y()), ValueError, r"C must be finite"),
    ("gradient-y-nan", lambda: _gen().gradient(_C(), _nan(N)), ValueError, r"y must be finite"),
    ("gradient-C-inf", lambda: _gen().gradient(_inf((N, K)), _y()), ValueError, r"C must be finite"),
    ("gradient-A-shape", lambda: _gen().gradient(_C(), np.ones(3), A=np.ones((3, N + 1))), ValueError,
     r"A has shape \(3, 9\).*n=8"),
    ("gradient-y-vs-A", lambda: _gen().gradient(_C(), np.ones(4), A=np.ones((3, N))), ValueError,
     r"y must have shape \(3,?\), got \(4,\)"),
    ("loss-A-type", lambda: _gen().loss(_C(), _y(), A="identity"), TypeError, r"A must be None.*str"),
    ("init-omega-zero", lambda: _gen().init(seed=0, omega=0.0), ValueError, r"omega must be .*> 0.*got 0\.0"),
    ("init-omega-negative", lambda: _gen().init(seed=0, omega=-1.0), ValueError, r"omega must be .*got -1\.0"),
    ("init-omega-inf", lambda: _gen().init(seed=0, omega=math.inf), ValueError, r"omega must be .*inf"),
    ("init-seed", lambda: _gen().init(seed=-1), TypeError, r"seed must be .*-1"),
    ("init-seed-float", lambda: _gen().init(seed=1.5), TypeError, r"seed must be .*1\.5"),
    # ---- kernels
    ("empirical_kernel-C-shape", lambda: nt.empirical_kernel(_gen(), np.ones((N, 6))), ValueError,
     r"C must have shape \(8, 4\), got \(8, 6\)"),
    ("empirical_kernel-C-nan", lambda: nt.empirical_kernel(_gen(), _nan((N, K))), ValueError, r"C must be finite"),
    ("empirical_kernel-method", lambda: nt.empirical_kernel(_gen(), _C(), method="svd"), ValueError,
     r"method must be .*'svd'"),
    ("empirical_kernel-gen", lambda: nt.empirical_kernel(np.eye(N), _C()), TypeError, r"gen must be a generator.*TwoLayerGenerator.*ndarray"),
    ("expected_kernel-gen", lambda: nt.expected_kernel("gen"), TypeError, r"gen must be a generator.*TwoLayerGenerator.*str"),
    ("expected_kernel_first_row-dense", lambda: nt.expected_kernel_first_row(
        nt.TwoLayerGenerator(DenseOperator(np.eye(N)), K)), ValueError, r"circulant.*DenseOperator"),
    ("expected_kernel-zero-row", lambda: nt.expected_kernel(nt.TwoLayerGenerator(DenseOperator(np.diag([1.0, 0.0, 1.0])), 2)),
     ValueError, r"rows of zero norm.*\[1\]"),
    # ---- spectra and the trig basis
    ("spectrum-type", lambda: nt.spectrum("sigma"), TypeError, r"kernel must be .*str"),
    ("spectrum-not-square", lambda: nt.spectrum(np.ones((3, 4))), ValueError, r"must be a square.*\(3, 4\)"),
    ("spectrum-not-symmetric", lambda: nt.spectrum(np.array([[1.0, 2.0], [0.0, 1.0]])), ValueError, r"must be symmetric"),
    ("spectrum-nan", lambda: nt.spectrum(_nan((3, 3))), ValueError, r"must be finite.*NaN"),
    ("circulant_spectrum-asym", lambda: nt.circulant_spectrum([1.0, 2.0, 3.0]), ValueError, r"first_row must be symmetric"),
    ("circulant_spectrum-nan", lambda: nt.circulant_spectrum([1.0, np.nan, np.nan]), ValueError, r"first_row must be finite"),
    ("trig_basis-n0", lambda: nt.trig_basis(0), ValueError, r"n must be .*>= 1.*got 0"),
    ("trig_basis-float", lambda: nt.trig_basis(4.0), TypeError, r"n must be an integer.*4\.0"),
    ("frequency_energy-3d", lambda: nt.frequency_energy(np.ones((2, 2, 2))), ValueError, r"x must have 1 or 2 dimension.*\(2, 2, 2\)"),
    ("frequency_energy-nan", lambda: nt.frequency_energy(_nan(8)), ValueError, r"x must be finite.*NaN"),
    ("project-shape", lambda: nt.spectrum(_gen()).project(np.ones(N + 1)), ValueError, r"x must have 8 rows.*\(9,\)"),
    ("project-nan", lambda: nt.spectrum(_gen()).project(_nan(N)), ValueError, r"x must be finite"),
    ("synthesize-shape", lambda: nt.spectrum(_gen()).synthesize(np.ones(N - 1)), ValueError,
     r"coefficients must have 8 rows.*\(7,\)"),
    ("eigenvector-index", lambda: nt.spectrum(_gen()).eigenvector(N), ValueError, r"i must be < n=8, got 8"),
    ("energy_in_top-p", lambda: nt.spectrum(_gen()).energy_in_top(_y(), N + 1), ValueError, r"p must be <= n=8, got 9"),
    # ---- gradient descent
    ("gd-eta-zero", lambda: nt.gradient_descent(_gen(), _y(), _C(), 0.0, 5), ValueError, r"eta must be .*> 0.*got 0\.0"),
    ("gd-eta-negative", lambda: nt.gradient_descent(_gen(), _y(), _C(), -0.1, 5), ValueError, r"eta must be .*-0\.1"),
    ("gd-eta-nan", lambda: nt.gradient_descent(_gen(), _y(), _C(), float("nan"), 5), ValueError, r"eta must be .*nan"),
    ("gd-steps-negative", lambda: nt.gradient_descent(_gen(), _y(), _C(), 0.1, -1), ValueError, r"steps must be .*>= 0.*got -1"),
    ("gd-steps-float", lambda: nt.gradient_descent(_gen(), _y(), _C(), 0.1, 2.5), TypeError, r"steps must be an integer.*2\.5"),
    ("gd-y-nan", lambda: nt.gradient_descent(_gen(), _nan(N), _C(), 0.1, 5), ValueError, r"y must be finite.*NaN"),
    ("gd-y-shape", lambda: nt.gradient_descent(_gen(), np.ones(N + 2), _C(), 0.1, 5), ValueError,
     r"y must have shape \(8,?\), got \(10,\)"),
    ("gd-C0-nan", lambda: nt.gradient_descent(_gen(), _y(), _nan((N, K)), 0.1, 5), ValueError, r"C0 must be finite.*NaN"),
    ("gd-C0-shape", lambda: nt.gradient_descent(_gen(), _y(), np.ones((N, 3)), 0.1, 5), ValueError,
     r"C0 must have shape \(8, 4\), got \(8, 3\)"),
    ("gd-A-shape", lambda: nt.gradient_descent(_gen(), np.ones(3), _C(), 0.01, 5, A=np.ones((3, 5))), ValueError,
     r"A has shape \(3, 5\).*n=8"),
    ("gd-record-range", lambda: nt.gradient_descent(_gen(), _y(), _C(), 0.1, 5, record=[0, 9]), ValueError,
     r"record must contain iterations in \[0, steps=5\].*9"),
    ("gd-record-type", lambda: nt.gradient_descent(_gen(), _y(), _C(), 0.1, 5, record=[0.5]), TypeError, r"record must be"),
    ("gd-gen", lambda: nt.gradient_descent(None, _y(), _C(), 0.1, 5), TypeError, r"gen must be a generator.*TwoLayerGenerator.*NoneType"),
    ("gd-divergence_factor", lambda: nt.gradient_descent(_gen(), _y(), _C(), 0.1, 5, divergence_factor=0.0), ValueError,
     r"divergence_factor must be .*0\.0"),
    ("gd-eta-above-bound", lambda: nt.gradient_descent(_gen(), _y(), _C(), 100 * nt.max_step_size(_gen()), 5), ValueError, r"eta=.* exceeds 2 × the stability limit .*use eta <="),
    # ---- step sizes
    ("max_step_size-A-shape", lambda: nt.max_step_size(_gen(), np.ones((3, 7))), ValueError, r"A has shape \(3, 7\).*n=8"),
    ("max_step_size-type", lambda: nt.max_step_size("K"), TypeError, r"kernel must be a symmetric.*str"),
    ("max_step_size-zero-kernel", lambda: nt.max_step_size(np.zeros((3, 3))), ValueError, r"no positive eigenvalue"),
    # ---- linearized / gradient flow
    ("lin-eta-zero", lambda: _lin(eta=0.0), ValueError, r"eta must be .*> 0.*got 0\.0"),
    ("lin-eta-negative", lambda: _lin(eta=-1.0), ValueError, r"eta must be .*-1\.0"),
    ("lin-eta-above-2/lmax", lambda: _lin(eta=2.05 / nt.spectrum(_gen()).eigenvalues[0]), ValueError,
     r"eta=.*exceeds the stable step 2/λ_max"),
    ("lin-y-nan", lambda: _lin(y=_nan(N)), ValueError, r"y must be finite.*NaN"),
    ("lin-y-shape", lambda: _lin(y=np.ones(N + 1)), ValueError, r"y must have shape \(8,?\), got \(9,\)"),
    ("lin-f0-shape", lambda: _lin(f0=np.ones(3)), ValueError, r"f0 must have shape \(8,?\), got \(3,\)"),
    ("lin-f0-nan", lambda: _lin(f0=_nan(N)), ValueError, r"f0 must be finite"),
    ("lin-A-shape", lambda: _lin(y=np.ones(3), A=np.ones((3, 9))), ValueError, r"A has shape \(3, 9\).*n=8"),
    ("lin-kernel-type", lambda: nt.linearized("K", _y(), 0.5), TypeError, r"kernel must be .*str"),
    ("lin-kernel-shape", lambda: nt.linearized(np.eye(N + 1), _y(), 0.5), ValueError, r"y must have shape \(9,?\), got \(8,\)"),
    ("lin-tau-noninteger", lambda: _lin().residual(1.5), ValueError, r"tau .*must be integer, got 1\.5"),
    ("lin-tau-noninteger-array", lambda: _lin().output([0, 2.5]), ValueError, r"tau .*integer.*2\.5"),
    ("lin-tau-negative", lambda: _lin().loss(-1), ValueError, r"tau must be finite and >= 0, got -1"),
    ("lin-tau-nan", lambda: _lin().component_factors(float("nan")), ValueError, r"tau must be finite.*nan"),
    ("lin-tau-2d", lambda: _lin().residual(np.ones((2, 2), dtype=int)), ValueError, r"tau must be a scalar or a 1-D array.*\(2, 2\)"),
    ("lin-fit_time-delta0", lambda: _lin().fit_time(0.0), ValueError, r"delta must be .*0\.0"),
    ("lin-fit_time-delta>1", lambda: _lin().fit_time(1.5), ValueError, r"delta must be in \(0, 1\], got 1\.5"),
    ("lin-fit_time-target-shape", lambda: _lin().fit_time(0.5, target=np.ones(3)), ValueError, r"target must have shape \(8,?\), got \(3,\)"),
    ("flow-eta-zero", lambda: nt.gradient_flow(_gen(), _y(), eta=0.0), ValueError, r"eta must be .*0\.0"),
    ("flow-tau-negative", lambda: nt.gradient_flow(_gen(), _y()).residual(-0.5), ValueError, r"tau must be finite and >= 0.*-0\.5"),
    # ---- memory budget itself
    ("set_memory_budget-negative", lambda: nt.set_memory_budget(-5), ValueError, r"nbytes must be a positive integer.*-5"),
]


@pytest.mark.parametrize("call, exc, match", [pytest.param(c, e, m, id=i) for i, c, e, m in CASES])
def test_bad_input_is_rejected_with_a_helpful_message(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_bad_input_case_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids))


# --------------------------------------------------------------------------- divergence
def test_diverging_run_raises_divergence_error_naming_the_stable_step(gen, C, y):
    eta = 1e6 * nt.max_step_size(gen)
    with pytest.raises(nt.DivergenceError, match=r"max_step_size") as info:
        nt.gradient_descent(gen, y, C, eta, 50, check_step=False)
    msg = str(info.value)
    assert "iteration" in msg and "loss" in msg
    assert f"{nt.max_step_size(gen):.6g}" in msg  # the value of the stable step
    assert isinstance(info.value, RuntimeError)


def test_divergence_detected_with_measurements(gen, C):
    A = np.random.default_rng(0).standard_normal((5, N))
    eta = 1e6 * nt.max_step_size(gen, A)
    with pytest.raises(nt.DivergenceError, match=r"max_step_size"):
        nt.gradient_descent(gen, np.ones(5), C, eta, 50, A=A, check_step=False)


def test_step_up_to_twice_the_bound_accepted_far_above_refused_opt_out_works(gen, C, y):
    bound = nt.max_step_size(gen)
    traj = nt.gradient_descent(gen, y, C, 2.0 * bound, 3)  # 2/β: stable for every weight
    assert np.all(np.isfinite(traj.losses))
    with pytest.raises(ValueError, match=r"eta=.*exceeds.*stability limit.*use eta <="):
        nt.gradient_descent(gen, y, C, 100 * bound, 3)
    traj = nt.gradient_descent(gen, y, C, 100 * bound, 3, check_step=False)  # opt-out works
    assert traj.losses.shape == (4,)


def test_inputs_not_modified(gen, C, y):
    C0, y0 = C.copy(), y.copy()
    nt.gradient_descent(gen, y, C, nt.max_step_size(gen), 5)
    gen.gradient(C, y)
    np.testing.assert_array_equal(C, C0)
    np.testing.assert_array_equal(y, y0)


# --------------------------------------------------------------------------- memory budget
def test_jacobian_above_budget_raises_memory_error_naming_bytes_and_alternative(gen, C, tiny_budget):
    nbytes = 8 * N * N * K
    with pytest.raises(MemoryError, match=rf"{nbytes} bytes") as info:
        gen.jacobian(C)
    msg = str(info.value)
    assert "jvp" in msg and "vjp" in msg  # the matrix-free alternative
    assert "set_memory_budget" in msg
    with pytest.raises(MemoryError, match=r"bytes"):
        nt.empirical_kernel(gen, C, method="jacobian")


def test_memory_budget_restored(gen, C):
    nt.set_memory_budget(1024)
    try:
        assert nt.memory_budget() == 1024
    finally:
        nt.set_memory_budget(None)
    assert nt.memory_budget() > 1024
    assert gen.jacobian(C).shape == (N, N * K)


def test_expected_kernel_and_trig_basis_above_budget(gen, tiny_budget):
    with pytest.raises(MemoryError, match=r"bytes.*expected_kernel_first_row|spectrum"):
        nt.expected_kernel(nt.TwoLayerGenerator(CircularConv(F.triangle(2), 64), 2))
    with pytest.raises(MemoryError, match=r"bytes"):
        nt.trig_basis(64)
    # the O(n log n) paths do not allocate n x n and still work
    s = nt.spectrum(nt.TwoLayerGenerator(CircularConv(F.triangle(2), 64), 2))
    assert s.eigenvalues.shape == (64,)
    assert nt.frequency_energy(np.ones(64)).shape == (33,)


# --------------------------------------------------------------------------- regressions
def test_gradient_descent_record_count_error_names_record(gen, C, y):
    """Regression: record=1 used to fail with 'num must be ...' (an internal argument name)."""
    with pytest.raises(ValueError, match=r"record"):
        nt.gradient_descent(gen, y, C, 0.1, 5, record=1)


def test_max_step_size_zero_operator_clear_error():
    """Regression: ‖U‖ = 0 used to raise a bare ZeroDivisionError (design.md §4: guard divisions)."""
    zero = nt.TwoLayerGenerator(DenseOperator(np.zeros((4, 4))), 2)
    with pytest.raises(ValueError, match=r"U"):
        nt.max_step_size(zero)
    with pytest.raises(ValueError, match=r"U"):
        nt.gradient_descent(zero, np.ones(4), np.ones((4, 2)), 0.1, 3)


def test_frequency_energy_empty_names_x():
    """Regression: an empty x used to reach scipy.fft, whose message does not name x."""
    with pytest.raises(ValueError, match=r"\bx\b"):
        nt.frequency_energy(np.ones(0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_finiteness_check_is_exact_when_the_sum_overflows(dtype):
    """The fast check (a finite sum) falls back to testing entries, never rejects finite input."""
    from ntk_toolkit._validation import as_float_array

    big = np.full((5, 7), np.finfo(dtype).max / 2, dtype=dtype)  # finite, the sum overflows
    with np.errstate(over="ignore"):
        assert not np.isfinite(big.sum(dtype=dtype))
    assert as_float_array("C", big, dtype=dtype) is not None
    for bad in (np.nan, np.inf, -np.inf):
        x = big.copy()
        x[4, 6] = bad
        with pytest.raises(ValueError, match=r"C must be finite, got 1 NaN or infinite"):
            as_float_array("C", x, dtype=dtype)
        y = np.zeros((5, 7), dtype=dtype)
        y[0, 0] = bad
        with pytest.raises(ValueError, match=r"C must be finite, got 1 NaN or infinite"):
            as_float_array("C", y, dtype=dtype)


# --------------------------------------------------------------------------- found by the long fuzz profile
def test_variances_whose_product_would_overflow_are_refused():
    from ntk_toolkit.activations import correlation_row, expected_product

    with pytest.raises(ValueError, match=r"q must be a variance in \[0, 1e\+150\].*got 1.34e\+154"):
        correlation_row("relu", np.array([1.0, 0.5]), 1.34e154)
    with pytest.raises(ValueError, match=r"q2 must be a variance in \[0, 1e\+150\]"):
        expected_product("relu", 0.5, 1.0, 1e200)
    assert np.isfinite(correlation_row("relu", np.array([1.0, 0.5]), 1e150)).all()


def test_an_empty_measurement_matrix_names_A():
    with pytest.raises(ValueError, match=r"A must have at least one row.*got shape \(0, 0\)"):
        nt.min_l2_interpolant(np.zeros((0, 0)), np.zeros(6))


def test_recovery_curve_names_the_bad_kernel_labels_trials_and_noise(gen):
    x = np.linspace(-1.0, 1.0, N)
    with pytest.raises(ValueError, match=r"kernels\[0\]: kernel must be a square \(n, n\) matrix, got shape \(8, 5\)"):
        nt.recovery_curve(np.ones((8, 5)), x, [2])
    with pytest.raises(TypeError, match=r"labels must be a sequence of strings.*array\(0\.\)"):
        nt.recovery_curve(gen, x, [2], labels=np.array(0.0))
    with pytest.raises(MemoryError, match=r"squared errors of trials=1000000000000.*bytes"):
        nt.recovery_curve(gen, x, [2], trials=10**12)
    with pytest.raises(ValueError, match=r"noise_std must be in \[0, 1e\+100\].*got 1e\+154"):
        nt.recovery_curve(gen, x, [2], noise_std=1e154)


def test_residual_system_names_kernel_and_A_when_they_disagree():
    from ntk_toolkit.prediction import residual_system

    with pytest.raises(ValueError, match=r"A has shape \(6, 12\) but kernel has size n=1; A must have shape \(m, 1\)"):
        residual_system(np.eye(1), np.ones((6, 12)))


def test_a_y_of_the_wrong_length_names_A_too(gen):
    K = nt.expected_kernel(gen)
    for func in (lambda A, y: nt.smoothest_interpolant(K, A, y), nt.min_l2_interpolant, nt.l1_recovery):
        with pytest.raises(ValueError, match=r"y must have shape \(1,\), got \(6,\): one entry per row of A "
                                             r"\(1 measurement\)"):
            func(np.ones((1, N)), np.ones(6))
