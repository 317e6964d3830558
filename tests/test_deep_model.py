"""The deep decoder and the multi-layer generator against plain-loop oracles, finite differences and each other."""

from __future__ import annotations

import naive
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import FD_TOL, RTOL, assert_close
from ntk_toolkit.deep import DeepDecoder, MultiLayerConvGenerator, upsample
from ntk_toolkit.deep.upsampling import upsample_adjoint
from ntk_toolkit.filters import bilinear, triangle, triangle2d

#: ⟨J d, r⟩ = ⟨d, Jᵀ r⟩ (issue 15): both sides are sums of O(P) products of rounded terms.
ADJOINT_TOL = 1e-12

VARIANTS = [
    dict(out_shape=(16,), channels=[3, 4, 4, 4], upsample="linear"),
    dict(out_shape=(16,), channels=[3, 4, 4], upsample="linear", norm=None, output="linear"),
    dict(out_shape=(16,), channels=[3, 4, 6], upsample="linear", norm_before_act=True, out_channels=2),
    dict(out_shape=(16,), channels=[2, 4, 4], last_layer="fixed", upsample="linear"),
    dict(out_shape=(8, 8), channels=[3, 4, 4, 2], upsample="bilinear"),
    dict(out_shape=(8, 4), channels=[2, 3, 3], upsample="bilinear", norm=None, out_channels=3),
    dict(out_shape=(12,), channels=[2, 4, 4], upsample="none"),
    dict(out_shape=(12,), channels=[2, 4, 4], interpolation_filter=triangle(2)),
    dict(out_shape=(6, 6), channels=[2, 3, 3], interpolation_filter=bilinear(), output="linear"),
    dict(out_shape=(27,), channels=[2, 3, 3, 3], factor=3),
    dict(out_shape=(16,), channels=[2, 3, 3, 3], upsample="transposed"),
    dict(out_shape=(8, 8), channels=[2, 3, 3, 2], upsample="transposed", output="linear"),
]
IDS = [f"v{j}" for j in range(len(VARIANTS))]


def _net(j):
    return DeepDecoder(**VARIANTS[j], input_seed=7)


@pytest.mark.parametrize("j", range(len(VARIANTS)), ids=IDS)
def test_forward_matches_the_loop_oracle(j):
    net = _net(j)
    for seed in (0, 1):
        theta = net.init(seed=seed)
        assert_close(net.forward(theta), naive.deep_decoder_forward(net, theta), RTOL, "forward")


@pytest.mark.parametrize("j", range(len(VARIANTS)), ids=IDS)
def test_jacobian_matches_central_differences(j):
    net = _net(j)
    theta = net.init(seed=3)
    J = net.jacobian(theta)
    J_fd = naive.jacobian_fd_params(net.forward, theta, h=1e-5)
    assert_close(J, J_fd, FD_TOL, "J vs finite differences")


@pytest.mark.parametrize("j", range(len(VARIANTS)), ids=IDS)
def test_jvp_vjp_adjoint_and_consistent_with_the_dense_jacobian(j):
    net = _net(j)
    rng = np.random.default_rng(j)
    theta = net.init(seed=5)
    d, r = rng.standard_normal(net.num_params), rng.standard_normal(net.n)
    Jd, Jtr = net.jvp(theta, d), net.vjp(theta, r)
    lhs, rhs = float(Jd @ r), float(d @ Jtr)
    assert abs(lhs - rhs) <= ADJOINT_TOL * max(1.0, abs(lhs))
    J = net.jacobian(theta)
    assert_close(Jd, J @ d, RTOL, "jvp")
    assert_close(Jtr, J.T @ r, RTOL, "vjp")


def test_upsample_matches_the_loop_oracle_and_its_adjoint():
    rng = np.random.default_rng(0)
    for factor in (2, 3):
        x1 = rng.standard_normal((2, 5))
        ref = np.array([naive.upsample_linear_1d(list(row), factor) for row in x1])
        assert_close(upsample(x1, factor, "linear"), ref, RTOL, "linear")
        x2 = rng.standard_normal((2, 3, 4))
        ref2 = np.array([naive.upsample_channel(c, factor) for c in x2])
        assert_close(upsample(x2, factor, "bilinear"), ref2, RTOL, "bilinear")
        y2 = rng.standard_normal(ref2.shape)
        lhs = float((upsample(x2, factor, "bilinear") * y2).sum())
        assert abs(lhs - float((x2 * upsample_adjoint(y2, factor, "bilinear")).sum())) <= ADJOINT_TOL * abs(lhs)
    # zero insertion and the filter [1, 3, 3, 1]/4 (the "transposed" stage with these taps) is
    # linear upsampling away from the borders
    from ntk_toolkit.deep._layers import circular_filter, zero_insert

    x = rng.standard_normal((2, 6))
    up = circular_filter(np.array([1.0, 3.0, 3.0, 1.0]) / 4, zero_insert(x, 2))
    assert_close(up[:, 1:-1], upsample(x, 2, "linear")[:, 1:-1], RTOL, "transposed = linear inside")
    # factor 2 away from the borders: weights 3/4, 1/4
    assert upsample(np.array([[0.0, 4.0, 8.0, 12.0]]), 2, "linear").tolist() == [[0, 1, 3, 5, 7, 9, 11, 12]]


def test_params_round_trip_and_layout():
    net = DeepDecoder((8, 8), [3, 5, 4], upsample="bilinear", out_channels=2)
    theta = net.init(seed=0)
    arrays = net.params_to_arrays(theta)
    assert list(arrays) == ["C0", "scale0", "shift0", "C1", "scale1", "shift1", "C2"]
    assert arrays["C0"].shape == (3, 5) and arrays["C2"].shape == (4, 2)
    assert net.num_params == 15 + 10 + 20 + 8 + 8
    assert np.array_equal(net.arrays_to_params(arrays), theta)
    xav = net.params_to_arrays(net.init(seed=0, scheme="xavier"))
    assert not np.allclose(xav["C0"], arrays["C0"])


def test_generic_machinery_runs_on_the_deep_decoder():
    """gradient_descent, the empirical kernel, the matrix-free top eigenpairs and linearized accept it unchanged."""
    net = DeepDecoder((16,), [4, 8, 8], output="linear")
    theta = net.init(seed=0)
    J = net.jacobian(theta)
    K = nt.empirical_kernel(net, theta)
    assert_close(K, J @ J.T, RTOL, "empirical kernel")
    top = nt.top_eigenpairs(net, theta, 3, method="lanczos", seed=0)
    assert_close(top.eigenvalues, np.linalg.eigvalsh(J @ J.T)[::-1][:3], 1e-9, "top eigenvalues")
    y = np.cos(2 * np.pi * np.arange(16) / 16)
    traj = nt.gradient_descent(net, y, theta, eta=1e-3, steps=30, record=[0, 30])
    assert traj.losses[-1] < traj.losses[0]
    pred = nt.linearized(K, y, eta=1e-3, f0=net.forward(theta))
    assert_close(pred.output(1), traj.outputs[0] - 1e-3 * K @ (traj.outputs[0] - y), 1e-10, "one linear step")


# --------------------------------------------------------------------------- multi-layer generator
def test_depth_one_equals_the_two_layer_generator():
    U = nt.CircularConv(triangle(3), 24)
    two = nt.TwoLayerGenerator(U, k=6)
    one = MultiLayerConvGenerator([U], [6])
    C = two.init(seed=4)
    theta = one.init(seed=4)
    assert np.array_equal(theta, C.T.ravel())
    assert_close(one.forward(theta), two.forward(C), 1e-14, "forward")
    assert_close(one.jacobian(theta), two.jacobian(C), 1e-14, "Jacobian")
    assert_close(nt.empirical_kernel(one, theta), nt.empirical_kernel(two, C), 1e-14, "kernel")


@pytest.mark.parametrize("grid", [(20,), (4, 5)])
def test_multilayer_matches_matrices_and_differences(grid):
    if len(grid) == 1:
        ops = [nt.CircularConv(triangle(2), grid[0]), nt.CircularConv(triangle(1), grid[0])] * 2
    else:
        ops = [nt.CircularConv2D(triangle2d(1), grid)] * 3
    gen = MultiLayerConvGenerator(ops, [4, 3, 4, 2][:len(ops)])
    theta = gen.init(seed=1)
    dense = [op.todense() for op in ops]
    assert_close(gen.forward(theta), naive.multilayer_forward(dense, gen.channels, theta, gen.output_weights),
                 RTOL, "forward")
    assert_close(gen.jacobian(theta), naive.jacobian_fd_params(gen.forward, theta), FD_TOL, "Jacobian")
    rng = np.random.default_rng(0)
    d, r = rng.standard_normal(gen.num_params), rng.standard_normal(gen.n)
    lhs = float(gen.jvp(theta, d) @ r)
    assert abs(lhs - float(d @ gen.vjp(theta, r))) <= ADJOINT_TOL * max(1.0, abs(lhs))


# --------------------------------------------------------------------------- properties
@given(shift=st.integers(0, 11), seed=st.integers(0, 2**16))
def test_fixed_filter_network_is_shift_equivariant(shift, seed):
    """Every stage of the fixed-filter variant commutes with circular shifts: shifting B_0 shifts the output."""
    net = DeepDecoder((12,), [2, 3, 3], interpolation_filter=triangle(2), input_seed=seed)
    shifted = DeepDecoder((12,), [2, 3, 3], interpolation_filter=triangle(2), input=np.roll(net.input, shift, axis=1))
    theta = net.init(seed=seed)
    assert_close(shifted.forward(theta), np.roll(net.forward(theta), shift), 1e-12, "shift")


@given(c=st.floats(0.25, 4.0), seed=st.integers(0, 2**16), layer=st.integers(1, 2))
def test_normalised_network_ignores_the_scale_of_a_hidden_convolution(c, seed, layer):
    """cn(relu(c Y)) = cn(relu(Y)) for c > 0 but for eps: scaling C_i (0 < i < d) barely moves the output.

    ``x̂ = (x − μ)/√(σ² + eps)`` changes by about ``|1 − c⁻²| eps / (2 σ²)`` relative
    when ``x`` is scaled by ``c``; the bound below allows a factor 100 of growth
    through the later layers, with ``σ²`` the smallest non-zero variance normalised at that layer.
    """
    from ntk_toolkit.deep._layers import NORM_EPS
    from ntk_toolkit.deep.derivatives import forward_cache

    net = DeepDecoder((64,), [4, 8, 8, 8], input_seed=seed)
    a = net.params_to_arrays(net.init(seed=seed))
    b = dict(a)
    b[f"C{layer}"] = c * a[f"C{layer}"]
    ta, tb = net.arrays_to_params(a), net.arrays_to_params(b)
    var = np.concatenate([1.0 / forward_cache(net, t).invs[layer].ravel() ** 2 - NORM_EPS for t in (ta, tb)])
    var_min = var[var > 1e-12].min()
    bound = 100 * abs(1 - c ** -2) * NORM_EPS / (2 * var_min) + 1e-13
    assert_close(net.forward(tb), net.forward(ta), bound, "scale invariance")


@given(seed=st.integers(0, 2**16))
def test_channel_permutation_of_a_hidden_layer_leaves_the_output_unchanged(seed):
    net = DeepDecoder((8, 8), [2, 4, 4], upsample="bilinear", input_seed=seed)
    a = net.params_to_arrays(net.init(seed=seed))
    perm = np.random.default_rng(seed).permutation(4)
    b = dict(a, C0=a["C0"][:, perm], scale0=a["scale0"][perm], shift0=a["shift0"][perm], C1=a["C1"][perm])
    assert_close(net.forward(net.arrays_to_params(b)), net.forward(net.arrays_to_params(a)), 1e-13, "perm")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, match", [
    (dict(out_shape=(30,), channels=[4, 4, 4, 4]), "divisible"),
    (dict(out_shape=(16,), channels=[4, 0, 4]), r"channels\[1\]"),
    (dict(out_shape=(16,), channels=[4]), "at least 2"),
    (dict(out_shape=(16,), channels=[4, 4], upsample="bilinear"), "does not fit"),
    (dict(out_shape=(16,), channels=[4, 4], upsample="cubic"), "upsample must be one of"),
    (dict(out_shape=(16, 16, 2), channels=[4, 4]), "out_shape"),
    (dict(out_shape=(16,), channels=[4, 3], last_layer="fixed"), "even"),
    (dict(out_shape=(16,), channels=[4, 4], factor=1), "factor"),
    (dict(out_shape=(16,), channels=[4, 4], interpolation_filter=bilinear()), "interpolation_filter"),
])
def test_bad_constructions_are_rejected(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DeepDecoder(**kwargs)


def test_bad_parameters_are_rejected():
    net = DeepDecoder((16,), [4, 4, 4])
    theta = net.init(seed=0)
    with pytest.raises(ValueError, match="num_params = 52"):
        net.forward(theta[:-1])
    bad = theta.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="theta must be finite"):
        net.forward(bad)
    with pytest.raises(ValueError, match="r must have shape"):
        net.vjp(theta, np.ones(15))
    with pytest.raises(ValueError, match="omega"):
        net.init(seed=0, omega=0.0)
    with pytest.raises(ValueError, match="input must have shape"):
        DeepDecoder((16,), [4, 4, 4], input=np.zeros((4, 16)))
    U = nt.CircularConv(triangle(1), 8)
    with pytest.raises(ValueError, match="one width per operator"):
        MultiLayerConvGenerator([U, U], [4])
    with pytest.raises(ValueError, match="square"):
        MultiLayerConvGenerator([U, nt.DenseOperator(np.ones((6, 6)))], [4, 4])
    with pytest.raises(ValueError, match="even"):
        MultiLayerConvGenerator([U], [3])


def test_deep_is_lazy_and_never_imports_torch():
    import json
    import subprocess
    import sys

    code = ("import json, sys, ntk_toolkit as nt\n"
            "before = 'ntk_toolkit.deep' in sys.modules\n"
            "net = nt.deep.DeepDecoder((8,), [2, 2, 2]); net.forward(net.init(seed=0))\n"
            "print(json.dumps([before, 'ntk_toolkit.deep' in sys.modules, 'torch' in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [False, True, False]


def test_dense_jacobian_is_memory_guarded_and_upsample_checks_its_mode():
    net = DeepDecoder((16,), [4, 4, 4])
    theta = net.init(seed=0)
    nt.set_memory_budget(1024)
    try:
        with pytest.raises(MemoryError, match="jacobian_spectrum"):
            net.jacobian(theta)
    finally:
        nt.set_memory_budget(None)
    with pytest.raises(ValueError, match="mode must be"):
        upsample(np.ones((2, 4)), 2, "cubic")
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        upsample(np.ones((2, 4, 4)), 2, "linear")


def test_expected_kernel_has_no_closed_form_and_names_monte_carlo():
    net = DeepDecoder((8,), [2, 4, 4])
    with pytest.raises(TypeError, match="no closed form.*Monte Carlo"):
        nt.expected_kernel(net)
