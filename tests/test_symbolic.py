"""ntk_toolkit.symbolic: derivations against sympy's own integrals, theory.md §2.2, the numerical
core, and the FFT spectrum."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

import naive
import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import ntk_toolkit as nt
from conftest import assert_close
from ntk_toolkit import filters as F
from ntk_toolkit import symbolic as sy
from ntk_toolkit.activations import expected_product
from ntk_toolkit.operators import CircularConv

CLOSED = ["relu", "leaky_relu:0.1", "leaky_relu:-2", "abs", "step", "erf", "quadratic", "linear"]
#: Hermite orders compared exactly (sympy integrals of φ He_m against the Taylor series of the closed form).
ORDER = 6
#: Lambdified closed forms against the NumPy closed forms of the core (same formula, different rounding).
LAMBDIFY_TOL = 1e-14


def _unit(expr):
    return expr.subs({sy.q1: 1, sy.q2: 1})


def test_relu_derivative_dual_is_the_arc_cosine_form():
    assert sp.simplify(_unit(sy.dual("relu", derivative=True)) - (sp.pi - sp.acos(sy.rho)) / (2 * sp.pi)) == 0
    assert sp.simplify(sy.dual("relu", derivative=True) - (sp.pi - sp.acos(sy.rho)) / (2 * sp.pi)) == 0


def test_relu_two_layer_kernel_equals_theory_section_2_2():
    """Σ_ij = ½⟨u_i,u_j⟩(1 − θ/π) and the trained-output term ω²‖u_i‖‖u_j‖(sin θ + (π − θ) cos θ)/(2π), exactly."""
    theta = sp.acos(sy.inner / (sy.norm_i * sy.norm_j))
    theory = sp.Rational(1, 2) * sy.inner * (1 - theta / sp.pi)
    assert sp.simplify(sy.two_layer_kernel("relu") - theory) == 0
    nngp = sy.omega**2 * sy.norm_i * sy.norm_j * (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)) / (2 * sp.pi)
    assert sp.simplify(sy.two_layer_kernel("relu", trainable_output=True) - theory - nngp) == 0


@pytest.mark.parametrize("derivative", [False, True])
@pytest.mark.parametrize("name", ["relu", "leaky_relu:0.1", "abs", "step", "quadratic", "erf"])
def test_closed_forms_equal_sympy_hermite_series(name, derivative):
    """Mehler: E[φ(a)φ(b)] = Σ c_m² ρ^m at unit variances, with c_m sympy's exact integrals of φ He_m."""
    order = 3 if name == "erf" else ORDER  # sympy integrates erf·He_m slowly (seconds per order beyond 3)
    c = sy.hermite_coefficients(name, order, derivative=derivative)
    series = sp.series(_unit(sy.dual(name, derivative)), sy.rho, 0, order + 1).removeO()
    for m in range(order + 1):
        assert sp.simplify(series.coeff(sy.rho, m) - c[m] ** 2) == 0, (name, m)


def test_closed_forms_equal_sympy_integral_at_rational_points():
    """Where sympy's double integral evaluates (zero correlation, polynomials), it equals the closed form."""
    x = sy.x
    gauss = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)
    half_relu = sp.integrate(x * gauss, (x, 0, sp.oo))  # E relu(x)
    assert sp.simplify(_unit(sy.dual("relu")).subs(sy.rho, 0) - half_relu**2) == 0
    assert sp.simplify(_unit(sy.dual("step")).subs(sy.rho, 0) - sp.Rational(1, 4)) == 0
    assert sp.simplify(_unit(sy.dual("relu")).subs(sy.rho, 1) - sp.integrate(x**2 * gauss, (x, 0, sp.oo))) == 0
    assert sp.simplify(_unit(sy.dual("erf", True)).subs(sy.rho, 1)
                       - sp.integrate(4 / sp.pi * sp.exp(-2 * x**2) * gauss, (x, -sp.oo, sp.oo))) == 0
    # polynomials are derived by sympy's integration itself; at ρ = 1/3, q = (2, 3): E[a²b²] = q1 q2 (1 + 2ρ²)
    assert sy.dual("quadratic").subs({sy.rho: sp.Rational(1, 3), sy.q1: 2, sy.q2: 3}) == sp.Rational(6 * 11, 9)
    assert sy.dual(x**3, derivative=True) == 9 * sy.q1 * sy.q2 * (2 * sy.rho**2 + 1)


@pytest.mark.parametrize("derivative", [False, True])
@pytest.mark.parametrize("name", CLOSED)
def test_symbolic_forms_match_direct_integration_and_the_core(name, derivative):
    """Lambdified forms against scipy's nested quadrature (1e-10) and the core's NumPy closed forms."""
    fn = sy.to_numpy(sy.dual(name, derivative), args=(sy.rho, sy.q1, sy.q2))
    rhos = np.array([-1.0, -0.6, 0.0, 0.3, 1.0])
    q1, q2 = 0.6, 1.7
    got = fn(rhos, q1, q2)
    want = np.array([naive.gaussian_product_mean(name, r, q1, q2, derivative) for r in rhos]) \
        if name in naive.SCALAR_ACTIVATIONS else expected_product(name, rhos, q1, q2, derivative=derivative)
    assert np.max(np.abs(got - want)) <= 1e-10
    assert_close(got, expected_product(name, rhos, q1, q2, derivative=derivative), rtol=LAMBDIFY_TOL, what=name)


def test_without_closed_form_the_dual_is_the_double_integral():
    expr = sy.dual("tanh", derivative=True)
    assert isinstance(expr, sp.Integral)
    integrand = sp.lambdify((sy.x, sp.Symbol("z", real=True)),
                            expr.function.subs({sy.rho: sp.Rational(1, 2), sy.q1: 1, sy.q2: 1}), "numpy")
    t, w = np.polynomial.hermite.hermgauss(120)  # the integrand carries e^{−(x² + z²)/2}: weight it out
    X, Z = np.meshgrid(np.sqrt(2) * t, np.sqrt(2) * t, indexing="ij")
    value = float(np.sum(np.outer(w, w) * 2 * integrand(X, Z) * np.exp((X**2 + Z**2) / 2)))
    assert value == pytest.approx(float(expected_product("tanh", 0.5, derivative=True)), abs=1e-8)
    with pytest.raises(ValueError, match="unevaluated integral.*expected_product"):
        sy.to_numpy(expr)


def test_to_numpy_safeguards_and_broadcasting():
    fn = sy.to_numpy(sy.dual("relu"))
    assert fn.args == ("q1", "q2", "rho")
    rho = np.array([1.0 + 2e-16, -1.0 - 2e-16, 0.5])
    out = fn(q1=1.0, q2=np.ones((2, 1)), rho=rho)
    assert out.shape == (2, 3) and np.all(np.isfinite(out))
    assert out[0, 0] == pytest.approx(0.5) and out[0, 1] == 0.0
    const = sy.to_numpy(sy.dual("linear", derivative=True), args=(sy.rho,))
    assert const(np.zeros(4)).tolist() == [1.0] * 4
    with pytest.raises(TypeError, match="expected 1 arguments"):
        const(1.0, 2.0)


def test_latex():
    text = sy.latex(sy.two_layer_kernel("relu"))
    assert r"\langle u_i, u_j \rangle" in text and r"\|u_i\|" in text and r"\operatorname{acos}" in text
    assert r"\rho" in sy.latex(sy.dual("erf")) and r"\sqrt{q_1}" in sy.latex(sy.dual("erf"))


def test_eigenvalue_formula_delta_and_short_filter():
    assert sy.eigenvalue_formula("relu", "delta") == sp.Rational(1, 2)
    assert sy.eigenvalue_formula("relu", F.delta()) == sp.Rational(1, 2)
    lam = sy.eigenvalue_formula("relu", [1, 1])  # a_1 = 1/2: s_1 = ½·(π − π/3)/(2π) = 1/6
    assert sp.simplify(lam - (sp.Rational(1, 2) + sp.cos(2 * sp.pi * sy.f / sy.n) / 3)) == 0
    erf = sy.eigenvalue_formula("erf", "delta")
    assert sp.simplify(erf - 4 / (sp.pi * sp.sqrt(1 + 4 * sy.omega**2))) == 0


def _fft_eigenvalues(name, taps, n, omega, trained):
    gen = nt.TwoLayerGenerator(CircularConv(F.Filter(taps), n), 2, activation=name, train_output=trained)
    return nt.spectrum(gen, omega=omega).eigenvalues_by_frequency


@settings(max_examples=15)
@given(name=st.sampled_from(["relu", "leaky_relu:0.5", "abs", "erf", "quadratic", "step"]),
       taps=st.lists(st.integers(-2, 3), min_size=1, max_size=3), extra=st.integers(0, 8),
       omega=st.sampled_from([0.5, 1.0, 2.0]), trained=st.booleans())
def test_eigenvalue_formula_matches_fft_spectrum(name, taps, extra, omega, trained):
    if not any(taps):
        taps = [1]
    n = 2 * len(taps) - 1 + extra
    lam = sy.eigenvalue_formula(name, taps, trainable_output=trained)
    fn = sy.to_numpy(lam, args=(sy.f, sy.n, sy.omega))
    freqs = np.arange(n // 2 + 1)
    want = _fft_eigenvalues(name, taps, n, omega, trained)
    assert_close(fn(freqs, n, omega), want, rtol=1e-12, what=f"{name} {taps} n={n}")


def test_hermite_coefficients_relu_and_numeric_fallback():
    c = sy.hermite_coefficients("relu", 4)
    # E[relu(x) He_m(x)] from the half-line moments ∫₀^∞ x^(2j+1) φ = 2^j j!/√(2π), divided by √(m!)
    want = [1 / sp.sqrt(2 * sp.pi), sp.Rational(1, 2), 1 / (2 * sp.sqrt(sp.pi)), 0, -1 / (4 * sp.sqrt(3 * sp.pi))]
    assert all(sp.simplify(ci - wi) == 0 for ci, wi in zip(c, want))
    t = sy.hermite_coefficients("tanh", 3)  # no closed form: 30-digit numbers; tanh is odd
    assert abs(float(t[0])) < 1e-25 and abs(float(t[2])) < 1e-25 and float(t[1]) > 0
    assert float(sum(ci**2 for ci in t)) <= float(expected_product("tanh", 1.0)) + 1e-12  # Parseval


def test_derivations_are_cached():
    sy.dual("erf")
    start = time.perf_counter()
    expr = sy.dual("erf")
    assert time.perf_counter() - start <= 1e-3
    assert expr is sy.dual("erf")
    sy.eigenvalue_formula("relu", [1, 2, 1])
    start = time.perf_counter()
    sy.eigenvalue_formula("relu", [1, 2, 1])
    assert time.perf_counter() - start <= 5e-3


def test_import_ntk_toolkit_does_not_import_sympy():
    code = "import json, sys, ntk_toolkit; print(json.dumps('sympy' in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False


@pytest.mark.parametrize("bad, exc, match", [
    ("gelu", ValueError, r"activation must be one of 'relu', 'leaky_relu:SLOPE', 'abs'.*got 'gelu'"),
    ("leaky_relu:abc", ValueError, r"slope of activation 'leaky_relu:abc' must be a finite number"),
    ("leaky_relu:inf", ValueError, r"must be a finite number"),
    (3.0, TypeError, r"activation must be a name or a sympy expression"),
    (sp.Symbol("y") ** 2, ValueError, r"expression in ntk_toolkit.symbolic.x only"),
])
def test_bad_input(bad, exc, match):
    with pytest.raises(exc, match=match):
        sy.dual(bad)


def test_bad_filter_and_order():
    with pytest.raises(ValueError, match="filter must be 'delta', a Filter or a sequence"):
        sy.eigenvalue_formula("relu", "box")
    with pytest.raises(ValueError, match=r"order must be an integer in \[0, 64\].*got -1"):
        sy.hermite_coefficients("relu", -1)
    with pytest.raises(ValueError, match=r"order must be an integer in \[0, 64\].*got 1000000000000"):
        sy.hermite_coefficients("relu", 10**12)  # would run for days, one integral per coefficient
    with pytest.raises(TypeError, match=r"derivative must be True or False, got array of shape \(0,\)"):
        sy.dual("relu", derivative=np.array([]))
    with pytest.raises(TypeError, match="trainable_output must be True or False, got 'yes'"):
        sy.two_layer_kernel("relu", trainable_output="yes")
    with pytest.raises(TypeError, match="numerical Activation"):
        sy.dual(nt.Activation(np.sin, np.cos, "sine"))


def test_guide_page_is_generated_from_the_derivations():
    page = pathlib.Path(__file__).resolve().parents[1] / "docs" / "guide" / "symbolic_kernels.md"
    assert page.read_text(encoding="utf-8") == sy.guide_markdown(), \
        "regenerate with: python docs/scripts/make_symbolic_guide.py"
