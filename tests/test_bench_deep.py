"""The ``deep`` benchmark section: its PyTorch peer agrees with ntk_toolkit before it is timed."""

from __future__ import annotations

import pytest

from ntk_toolkit.bench import _child
from ntk_toolkit.bench.config import QUICK, SECTIONS, TARGETS


def test_section_is_registered_with_targets():
    assert "deep" in SECTIONS and len(QUICK.deep_spectrum) == 5
    assert TARGETS[("deep", "spectrum", (64, 64, 64, 5))] == {"max_s": 30.0, "min_ratio": 20.0}
    assert TARGETS[("deep", "adam", (128, 128, 128, 5))] == {"min_ratio": 1.0}


@pytest.mark.parametrize("op, extra", [("spectrum", {"r": 3}), ("adam", {"steps": 2})])
def test_torch_peer_agrees_and_is_timed(op, extra):
    pytest.importorskip("torch")
    task = {"task": "peer_deep", "op": op, "shape": [8, 8], "channels": [3, 4, 4], "repeats": 1, **extra}
    res = _child.run_child(task, threads=1, time_limit=120)
    assert res.status == "ok", res.message
    assert res.result["rel_diff"] <= (1e-8 if op == "spectrum" else 1e-10)
    assert len(res.result["times"]) >= 1


def test_a_disagreeing_peer_is_reported_not_timed():
    pytest.importorskip("torch")
    task = {"task": "peer_deep", "op": "spectrum", "shape": [8, 8], "channels": [3, 4, 4], "r": 3, "rtol": 0.0,
            "repeats": 1}
    res = _child.run_child(task, threads=1, time_limit=120)
    assert res.status in ("disagrees", "ok")  # exact agreement would be a (harmless) coincidence
    if res.status == "disagrees":
        assert "> 0" in res.message
