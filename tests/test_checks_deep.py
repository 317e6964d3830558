"""The deep checks at profile ``tiny``: they pass, their numbers make sense, every injected fault makes
them fail, and they draw figures."""

from __future__ import annotations

import pytest

from ntk_toolkit.checks import get_check

NAMES = ("deep.geometric-decay", "deep.trig-subspace", "deep.subspace-stability", "deep.architecture-ablation",
         "deep.depth")


@pytest.fixture(scope="module")
def results():
    return {name: get_check(name).run(profile="tiny", seed=0) for name in NAMES}


def test_registered_in_family():
    for name in NAMES:
        check = get_check(name)
        assert check.family == "deep" and check.faults and check.plot is not None
        assert "Pass" in check.doc


@pytest.mark.parametrize("name", NAMES)
def test_passes_and_every_fault_fails(results, name):
    res = results[name]
    assert res.passed, res.to_dict()
    check = get_check(name)
    for fault in check.faults:
        assert not check.run(profile="tiny", seed=0, fault=fault).passed, fault


def test_key_numbers(results):
    m = results["deep.geometric-decay"].measured
    assert 0 < m["1-D_rate"] < 1 and 0 < m["2-D_rate"] < 1
    m = results["deep.trig-subspace"].measured
    assert all(o > 2 * m["r"] / m["n"] for o in m["overlap_at_r"])
    m = results["deep.architecture-ablation"].measured
    assert m["ratio_fixed"] > m["ratio_trainable"]
    m = results["deep.depth"].measured
    assert m["ratio"][-1] > m["ratio"][0]


def test_figures(results):
    import matplotlib

    matplotlib.use("Agg")
    for name in NAMES:
        figs = get_check(name).plot(results[name])
        assert figs and all(hasattr(fig, "savefig") for _, fig in figs)
        from matplotlib import pyplot as plt

        for _, fig in figs:
            plt.close(fig)
