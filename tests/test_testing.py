"""ntk_toolkit.testing: the strategies draw what they promise, the assertions catch what they claim, and the
package needs hypothesis only when it is imported itself."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ntk_toolkit as nt
from ntk_toolkit import testing
from ntk_toolkit.filters import triangle
from ntk_toolkit.testing import (
    assert_circulant,
    assert_linearized_close,
    assert_monotone_residual,
    assert_psd,
    filters,
    generators,
    operators,
    problems,
    signals,
    step_sizes,
)


# --------------------------------------------------------------------------- imports
def test_importing_the_toolkit_does_not_import_hypothesis():
    code = "import json, sys, ntk_toolkit; print(json.dumps('hypothesis' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False


def test_testing_without_hypothesis_names_the_extra():
    code = ("import sys; sys.modules['hypothesis'] = None\n"
            "import ntk_toolkit\n"
            "try:\n    import ntk_toolkit.testing\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "ntk_toolkit[test]" in out.stdout and "hypothesis" in out.stdout


# --------------------------------------------------------------------------- strategies
@given(filters(max_taps=5))
def test_filters_are_bounded_and_unit_norm(f):
    assert 1 <= f.taps.size <= 5
    assert np.linalg.norm(f.taps) == pytest.approx(1.0)


@given(operators(max_n=20))
def test_operators_are_circulant_of_bounded_size(U):
    assert 4 <= U.n <= 20
    assert_circulant(U.todense())


@given(generators(max_n=24, max_k=8))
def test_empirical_kernel_is_psd_on_drawn_generators(gen):
    assert gen.k % 2 == 0 and gen.k <= 8 and gen.n <= 24
    assert_psd(nt.empirical_kernel(gen, gen.init(seed=0)))


@given(generators(max_n=24, methods=("direct", "fft")))
def test_expected_kernel_is_circulant_on_drawn_generators(gen):
    S = nt.expected_kernel(gen)
    assert_circulant(S)
    assert_psd(S)


@given(st.sampled_from(testing.strategies.SIGNAL_KINDS), st.integers(4, 30), st.data())
def test_signals_have_the_length_and_are_finite(kind, n, data):
    x = data.draw(signals(n, kind=kind))
    assert x.shape == (n,) and np.all(np.isfinite(x)) and np.all(np.abs(x) <= 1e3)


@settings(max_examples=25)
@given(problems(max_n=24, max_k=8))
def test_stable_steps_give_a_monotone_linearized_residual(p):
    """Linearized residual contraction for steps below the network bound (docs/theory.md eq. (1.11))."""
    assert 0 < p.eta <= nt.max_step_size(p.gen)
    lin = nt.linearized(nt.empirical_kernel(p.gen, p.C0), p.y, p.eta, f0=p.gen.forward(p.C0))
    assert_monotone_residual(lin.loss(np.arange(40)))


def test_the_network_loss_need_not_be_monotone_below_the_bound():
    """Hypothesis finds a ReLU network whose loss rises at a step below the bound; the assertion says where."""
    @settings(max_examples=200, database=None, derandomize=True)
    @given(problems(max_n=8, max_k=2))
    def network_monotone(p):
        assert_monotone_residual(nt.gradient_descent(p.gen, p.y, p.C0, p.eta, 30))

    with pytest.raises(AssertionError, match=r"the loss increased at iteration \d+"):
        network_monotone()


@settings(max_examples=10)
@given(problems(max_n=16, max_k=8, measurements=True))
def test_problems_with_measurements_are_consistent(p):
    assert p.y.shape == (p.A.shape[0],) and p.eta <= nt.max_step_size(p.gen, p.A)
    nt.gradient_descent(p.gen, p.y, p.C0, p.eta, 3, A=p.A)


def test_step_sizes_rejects_unstable_factor():
    gen = nt.TwoLayerGenerator(nt.CircularConv(triangle(2), 8), k=4)
    with pytest.raises(ValueError, match=r"max_factor must be in \(0, 2\].*3"):
        step_sizes(gen, max_factor=3)
    with pytest.raises(ValueError, match=r"kind must be 'any' or one of"):
        signals(8, kind="pink")


# --------------------------------------------------------------------------- assertions
def test_assert_linearized_close_passes_wide_and_names_the_iteration_when_narrow():
    n = 16
    y = np.cos(2 * np.pi * np.arange(n) / n)
    wide = nt.TwoLayerGenerator(nt.CircularConv(triangle(2), n), k=4096)
    C0 = wide.init(seed=0)
    traj = nt.gradient_descent(wide, y, C0, 0.5, 100, record=10)
    assert_linearized_close(traj, nt.linearized(nt.empirical_kernel(wide, C0), y, 0.5, f0=wide.forward(C0)), 0.02)
    narrow = nt.TwoLayerGenerator(nt.CircularConv(triangle(2), n), k=4)
    C0 = narrow.init(seed=0)
    traj = nt.gradient_descent(narrow, y, C0, 0.5, 300, record=[0, 1, 300])
    lin = nt.linearized(nt.empirical_kernel(narrow, C0), y, 0.5, f0=narrow.forward(C0))
    with pytest.raises(AssertionError, match=r"differ by .* at iteration 300 .*tol 0.001.*at index \d+"):
        assert_linearized_close(traj, lin, 1e-3)


def test_assertions_report_the_place():
    with pytest.raises(AssertionError, match=r"increased at iteration 3: 1 -> 1.5"):
        assert_monotone_residual([3.0, 2.0, 1.0, 1.5])
    with pytest.raises(AssertionError, match=r"not finite at iteration 1"):
        assert_monotone_residual([3.0, np.nan])
    M = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 2.0], [2.0, 0.0, 1.5]])
    with pytest.raises(AssertionError, match=r"M\[2, 2\] = 1.5 but M\[0, 0\] = 1"):
        assert_circulant(M)
    with pytest.raises(AssertionError, match=r"not symmetric: M\[0, 1\]"):
        assert_psd(np.array([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(AssertionError, match=r"smallest eigenvalue -1"):
        assert_psd(np.diag([2.0, -1.0]))
    assert_psd(np.zeros((0, 0)))
