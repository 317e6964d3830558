"""ntk_toolkit.signals: seeded reproducibility, norms, smoothness, bad input."""

from __future__ import annotations

import math

import naive
import numpy as np
import pytest

from conftest import RTOL, assert_close
from ntk_toolkit import signals

SEEDED = {
    "smooth": lambda n, seed, norm=1.0: signals.smooth(n, p=5, seed=seed, norm=norm),
    "piecewise_constant": lambda n, seed, norm=1.0: signals.piecewise_constant(n, pieces=4, seed=seed, norm=norm),
    "piecewise_smooth": lambda n, seed, norm=1.0: signals.piecewise_smooth(n, pieces=3, seed=seed, norm=norm),
    "white_noise": lambda n, seed, norm=1.0: signals.white_noise(n, norm=norm, seed=seed),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
def test_seeded_reproducibility(name):
    f = SEEDED[name]
    a, b = f(64, 7), f(64, 7)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, f(64, 8))
    # a Generator in the same state gives the same signal as its seed
    np.testing.assert_array_equal(f(64, np.random.default_rng(7)), a)
    assert a.dtype == np.float64 and a.shape == (64,)


@pytest.mark.parametrize("name", sorted(SEEDED))
@pytest.mark.parametrize("norm", [1.0, 0.25, 3.0])
def test_norms(name, norm):
    x = SEEDED[name](50, 3, norm)
    assert abs(np.linalg.norm(x) - norm) <= RTOL * norm


def test_unnormalised_draws_are_the_raw_gaussians():
    n, seed = 40, 11
    np.testing.assert_allclose(signals.white_noise(n, norm=None, seed=seed),
                               np.random.default_rng(seed).standard_normal(n), rtol=0, atol=0)
    # smooth with norm=None: an orthonormal combination, so ‖x‖ = ‖coefficients‖
    c = np.random.default_rng(seed).standard_normal(6)
    x = signals.smooth(n, p=6, seed=seed, norm=None)
    assert abs(np.linalg.norm(x) - np.linalg.norm(c)) <= RTOL * np.linalg.norm(c)


@pytest.mark.parametrize("n", [7, 8, 33, 64])
@pytest.mark.parametrize("p", [1, 2, 3, 6])
def test_smooth_signal_in_span_of_first_p_trig_functions(n, p):
    W, _, _ = naive.trig_basis(n)
    x = signals.smooth(n, p=p, seed=n + p, norm=None)
    coef = W.T @ x
    assert float(np.max(np.abs(coef[p:]))) <= RTOL * float(np.max(np.abs(coef)))
    # exactly the seeded standard-normal coefficients on the first p functions
    assert_close(coef[:p], np.random.default_rng(n + p).standard_normal(p), what="coefficients")
    # and not in the span of fewer (the last coefficient is a generic Gaussian draw)
    assert abs(coef[p - 1]) > 1e-6


@pytest.mark.parametrize("n, f, kind", [(16, 0, "cos"), (16, 3, "cos"), (16, 3, "sin"), (16, 8, "cos"), (15, 7, "sin")])
def test_trig_signal(n, f, kind):
    x = signals.trig(n, f, kind)
    m = np.arange(n)
    raw = np.cos(2 * np.pi * f * m / n) if kind == "cos" else np.sin(2 * np.pi * f * m / n)
    assert_close(x, raw / np.linalg.norm(raw))
    assert_close(signals.trig(n, f, kind, norm=None), raw)


def test_step_signal():
    x = signals.step(10, position=0.3, norm=None)
    np.testing.assert_array_equal(x, [1, 1, 1, 0, 0, 0, 0, 0, 0, 0])
    assert abs(np.linalg.norm(signals.step(10, 0.3)) - 1) <= RTOL


@pytest.mark.parametrize("pieces", [1, 2, 5])
def test_piecewise_constant_has_pieces(pieces):
    x = signals.piecewise_constant(60, pieces=pieces, seed=pieces, norm=None)
    jumps = int(np.count_nonzero(np.diff(x)))
    assert jumps == pieces - 1


def test_from_name():
    np.testing.assert_array_equal(signals.from_name("noise", 32, seed=4), signals.white_noise(32, seed=4))
    np.testing.assert_array_equal(signals.from_name("smooth", 32, seed=4), signals.smooth(32, p=8, seed=4))
    np.testing.assert_array_equal(signals.from_name("step", 32), signals.step(32))
    assert abs(np.linalg.norm(signals.from_name("piecewise-smooth", 32, seed=1)) - 1) <= RTOL


BAD = [
    ("smooth-p>n", lambda: signals.smooth(8, p=9), ValueError, r"p must be <= n=8, got 9"),
    ("smooth-p0", lambda: signals.smooth(8, p=0), ValueError, r"p must be .*>= 1, got 0"),
    ("smooth-n0", lambda: signals.smooth(0), ValueError, r"n must be .*>= 1, got 0"),
    ("smooth-n-float", lambda: signals.smooth(8.0), TypeError, r"n must be an integer.*8\.0"),
    ("smooth-norm0", lambda: signals.smooth(8, norm=0.0), ValueError, r"norm must be .*> 0, got 0\.0"),
    ("smooth-norm-neg", lambda: signals.smooth(8, norm=-1.0), ValueError, r"norm must be .*-1\.0"),
    ("smooth-seed", lambda: signals.smooth(8, seed=-3), TypeError, r"seed must be .*-3"),
    ("trig-f", lambda: signals.trig(8, 5), ValueError, r"f must be in \[0, n//2 = 4\], got 5"),
    ("trig-kind", lambda: signals.trig(8, 1, kind="tan"), ValueError, r"kind must be 'cos' or 'sin', got 'tan'"),
    ("trig-sin0", lambda: signals.trig(8, 0, kind="sin"), ValueError, r"sin of frequency 0 is identically zero"),
    ("trig-sin-nyquist", lambda: signals.trig(8, 4, kind="sin"), ValueError, r"frequency 4 .*n=8"),
    ("step-position0", lambda: signals.step(8, position=0.0), ValueError, r"position must be in \(0, 1\), got 0\.0"),
    ("step-position1", lambda: signals.step(8, position=1.0), ValueError, r"position must be in \(0, 1\), got 1\.0"),
    ("step-n1", lambda: signals.step(1), ValueError, r"n must be .*>= 2, got 1"),
    ("pc-pieces>n", lambda: signals.piecewise_constant(4, pieces=5), ValueError, r"pieces must be <= n=4, got 5"),
    ("pc-pieces0", lambda: signals.piecewise_constant(4, pieces=0), ValueError, r"pieces must be .*got 0"),
    ("ps-pieces>n", lambda: signals.piecewise_smooth(4, pieces=6), ValueError, r"pieces must be <= n=4, got 6"),
    ("noise-norm-nan", lambda: signals.white_noise(4, norm=math.nan), ValueError, r"norm must be .*nan"),
    ("from_name", lambda: signals.from_name("chirp", 8), ValueError, r"signal must be one of .*'chirp'"),
]


@pytest.mark.parametrize("call, exc, match", [pytest.param(c, e, m, id=i) for i, c, e, m in BAD])
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
