"""The symbolic family of the verification suite at profile ``tiny``: each check passes with its
key numbers in range, fails for each injected fault, and draws its figures."""

from __future__ import annotations

import numpy as np
import pytest

from ntk_toolkit.checks import get_check

NAMES = ("symbolic.dual-vs-monte-carlo", "symbolic.activation-spectra")


@pytest.fixture(scope="module")
def tiny():
    return {name: get_check(name).run(profile="tiny", seed=0) for name in NAMES}


def test_dual_vs_monte_carlo(tiny):
    r = tiny["symbolic.dual-vs-monte-carlo"]
    assert r.passed, r.measured
    m = r.measured
    assert m["symbolic_vs_core_rel"] <= 1e-14
    for name, slope, err in zip(m["activations"], m["k_slopes"], m["error_at_k_max"]):
        if name == "linear":  # J Jᵀ = U Uᵀ whatever C: no Monte-Carlo error
            assert err <= 1e-14
        else:
            assert -0.7 <= slope <= -0.35 and err <= 0.05, (name, slope, err)


def test_activation_spectra(tiny):
    r = tiny["symbolic.activation-spectra"]
    assert r.passed, r.measured
    m = r.measured
    assert m["activations"] == ["relu", "tanh", "erf"]
    assert m["max_rel_dev"] <= 0.15
    assert all(ratio > 4 for ratio in m["noise_over_smooth"])
    smooth = np.asarray(m["fit_times"])[:, 0]
    assert smooth[1] > smooth[0] and smooth[2] > smooth[0]  # saturating activations at ω = 2 fit more slowly


FAULT_REASONS = {
    ("symbolic.dual-vs-monte-carlo", "relu-for-all"): lambda m: max(m["error_at_k_max"][1:]) > 0.4,
    ("symbolic.activation-spectra", "relu-spectrum"): lambda m: m["max_rel_dev"] > 0.5,
}


def test_every_fault_is_covered():
    assert set(FAULT_REASONS) == {(name, f) for name in NAMES for f in get_check(name).faults}


@pytest.mark.parametrize(("name", "fault"), sorted(FAULT_REASONS))
def test_fault_fails(name, fault):
    res = get_check(name).run(profile="tiny", seed=0, fault=fault)
    assert not res.passed, res.measured
    assert FAULT_REASONS[name, fault](res.measured), res.measured


def test_plots(tiny):
    from ntk_toolkit.plotting import pyplot

    plt = pyplot()
    for name in NAMES:
        figs = get_check(name).plot(tiny[name])
        assert figs, name
        for stem, fig in figs:
            assert isinstance(stem, str)
            assert all(ax.get_xlabel() and ax.get_ylabel() and ax.get_title() for ax in fig.axes)
            plt.close(fig)
