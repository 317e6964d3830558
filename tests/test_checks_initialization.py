"""Checks of the initialisation (``ntk_toolkit/checks/dynamics/initialization.py``) at profile ``tiny``:
each passes with the right key numbers, each injected fault makes it fail, and the figures draw."""

from __future__ import annotations

import pytest

from ntk_toolkit.checks import all_checks, get_check

NAMES = ("dynamics.omega-tradeoff", "dynamics.alignment-at-init", "dynamics.least-squares-warmup")
FAULTS = {
    "dynamics.omega-tradeoff": ("omega-ignored", "second-moment"),
    "dynamics.alignment-at-init": ("filter-swapped",),
    "dynamics.least-squares-warmup": ("eta-doubled",),
}


@pytest.fixture(scope="module")
def results():
    """Each check run once at ``tiny`` (seed 0), shared by the tests below."""
    return {name: get_check(name).run(profile="tiny", seed=0) for name in NAMES}


def test_registered_in_dynamics_family():
    checks = {c.name: c for c in all_checks()}
    for name in NAMES:
        assert checks[name].family == "dynamics"
        assert checks[name].faults == FAULTS[name]
        assert "Pass" in checks[name].doc and "Fault" in checks[name].doc


def test_omega_tradeoff_passes(results):
    r = results["dynamics.omega-tradeoff"]
    m = r.measured
    assert r.passed, r.measured
    assert max(m["init_output_rel_err"]) <= 0.10
    assert abs(m["init_output_slope"] - 1.0) < 0.05
    assert -1.1 <= m["motion_slope"] <= -0.9
    assert m["gap"][0] >= 1.5 * m["gap"][-1]
    assert m["gap_nonlinear_drop"] >= 5.0
    assert m["omegas"][0] < m["best_omega"] < m["omegas"][-1]
    # at the largest ω the initial output, not the linearization gap, dominates the total distance
    assert m["total_distance"][-1] > 2 * m["gap"][-1]


@pytest.mark.parametrize("fault", FAULTS["dynamics.omega-tradeoff"])
def test_omega_tradeoff_faults_fail(fault):
    r = get_check("dynamics.omega-tradeoff").run(profile="tiny", seed=0, fault=fault)
    assert not r.passed
    assert not r.measured["ok_init_output"]
    assert max(r.measured["init_output_rel_err"]) > 0.15


def test_alignment_at_init_passes(results):
    r = results["dynamics.alignment-at-init"]
    m, p = r.measured, r.predicted
    assert r.passed, r.measured
    assert m["smooth_rel_err"] <= 0.05 and m["noise_rel_err"] <= 0.05
    assert m["ratio"] == pytest.approx(p["ratio"], rel=0.10)
    assert m["ratio"] >= 2.0
    assert p["ratio"] == pytest.approx(p["smooth"] / p["noise"])
    assert p["ratio_top_eigenvector"] > 2.0
    assert 0 < m["smooth_spread"] < 0.2 and 0 < m["noise_spread"] < 0.2


def test_alignment_at_init_fault_fails():
    r = get_check("dynamics.alignment-at-init").run(profile="tiny", seed=0, fault="filter-swapped")
    assert not r.passed
    assert r.measured["smooth_rel_err"] > 0.05


def test_least_squares_warmup_passes(results):
    r = results["dynamics.least-squares-warmup"]
    m = r.measured
    assert r.passed, r.measured
    assert m["max_rel_diff_curves"] <= 1e-8 and m["max_component_err"] <= 1e-8
    assert 0 < m["target_argmin"][0] < 500
    assert m["target_min_over_final"][0] <= 0.6
    assert m["alpha_sigma_max_sq"] == pytest.approx(0.125)


def test_least_squares_warmup_fault_fails():
    r = get_check("dynamics.least-squares-warmup").run(profile="tiny", seed=0, fault="eta-doubled")
    assert not r.passed
    assert r.measured["max_rel_diff_curves"] > 1e-2


def test_plots_return_labelled_figures(results):
    from matplotlib.figure import Figure

    from ntk_toolkit.plotting import pyplot

    plt = pyplot()
    for name in NAMES:
        figs = get_check(name).plot(results[name])
        assert figs
        try:
            for stem, fig in figs:
                assert isinstance(stem, str) and isinstance(fig, Figure)
                for ax in fig.axes:
                    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
                    assert ax.get_legend() is not None
        finally:
            for _, fig in figs:
                plt.close(fig)
