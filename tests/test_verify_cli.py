"""The `verify` and `checks` commands and the report writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ntk_toolkit.checks import _base, all_checks, get_check, verify
from ntk_toolkit.checks._base import Check, register, result
from ntk_toolkit.cli import main


@pytest.fixture
def fake_checks(monkeypatch):
    """Two tiny registered checks, one passing and one failing, in an isolated registry."""
    all_checks()  # load the real ones first so that _load_all does not add them later
    registry = {}
    monkeypatch.setattr(_base, "_REGISTRY", registry)
    monkeypatch.setattr(_base, "_load_all", lambda: None)

    def make(name, ok):
        def func(profile, seed, fault=None):
            """Pass iff the check is the passing one."""
            return result(predicted={"x": 1.0}, measured={"x": 1.0 if ok else 2.0},
                          criterion={"text": "x equals 1", "tol": 0.0}, passed=ok, data={"y": [1, 2]})

        def plot(res):
            from ntk_toolkit.plotting import pyplot

            fig, ax = pyplot().subplots()
            ax.plot(res.data["y"])
            return [("", fig)]

        register(name.split(".")[1], family="test", claim=f"claim of {name}", reference="docs/theory.md §0",
                 faults=("wrong",), plot=plot)(func)

    make("test.good", True)
    make("test.bad", False)
    return registry


def test_checks_lists_every_registered_check():
    res = CliRunner().invoke(main, ["checks", "--json"])
    assert res.exit_code == 0, res.output
    names = [c["name"] for c in json.loads(res.output)["checks"]]
    assert names == [c.name for c in all_checks()]
    assert "kernel.closed-form" in names


def test_verify_exit_zero_when_all_pass(fake_checks, tmp_path):
    out = tmp_path / "rep"
    res = CliRunner().invoke(main, ["verify", "--only", "test.good", "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "1/1 checks passed" in res.output
    assert (out / "report.md").is_file() and (out / "report.json").is_file()
    assert (out / "test.good.png").is_file()
    md = (out / "report.md").read_text()
    for text in ("claim of test.good", "predicted", "measured", "criterion", "PASS", "test.good.png"):
        assert text in md


def test_verify_exit_nonzero_when_a_check_fails(fake_checks, tmp_path):
    res = CliRunner().invoke(main, ["verify", "--out", str(tmp_path / "rep"), "--quiet"])
    assert res.exit_code == 1, res.output
    assert "1/2 checks passed" in res.output


def test_verify_json_schema(fake_checks, tmp_path):
    res = CliRunner().invoke(main, ["verify", "--json", "--out", str(tmp_path / "rep"), "--seed", "3"])
    assert res.exit_code == 1
    payload = json.loads(res.output)
    assert payload["profile"] == "quick" and payload["seed"] == 3
    assert payload["passed"] == 1 and payload["failed"] == 1 and payload["all_passed"] is False
    assert {"python", "numpy", "numba", "cpu_count"} <= set(payload["environment"])
    keys = {"name", "claim", "reference", "predicted", "measured", "criterion", "passed", "verdict",
            "figures", "elapsed", "profile", "seed", "fault"}
    for c in payload["checks"]:
        assert keys <= set(c)
        assert c["verdict"] == ("PASS" if c["passed"] else "FAIL")
    on_disk = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert [c["name"] for c in on_disk["checks"]] == ["test.good", "test.bad"]


def test_only_matching_nothing_is_an_error(fake_checks, tmp_path):
    res = CliRunner().invoke(main, ["verify", "--only", "nope.*", "--out", str(tmp_path / "rep")])
    assert res.exit_code == 2
    assert "matches no check" in res.output


def test_interrupted_run_leaves_no_report(fake_checks, tmp_path, monkeypatch):
    from ntk_toolkit.checks import runner

    out = tmp_path / "rep"

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_write_report", boom)
    with pytest.raises(KeyboardInterrupt):
        verify(_base.select_checks(None), out=out, progress=False)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_rerun_replaces_previous_report_completely(fake_checks, tmp_path):
    out = tmp_path / "rep"
    verify(_base.select_checks("test.bad"), out=out, progress=False)
    assert (out / "test.bad.png").exists()
    verify(_base.select_checks("test.good"), out=out, progress=False)
    assert not (out / "test.bad.png").exists() and (out / "test.good.png").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_broken_check_is_reported_as_fail(fake_checks, tmp_path):
    def broken(profile, seed, fault=None):
        raise RuntimeError("kaput")

    register("broken", family="test", claim="c", reference="r")(broken)
    results = verify(_base.select_checks("test.broken"), out=tmp_path / "rep", progress=False)
    assert not results[0].passed and "kaput" in results[0].measured["error"]
    assert "kaput" in (tmp_path / "rep" / "report.md").read_text()


def test_unknown_fault_and_profile_are_rejected():
    check = get_check("kernel.closed-form")
    with pytest.raises(ValueError, match="fault"):
        check.run("tiny", 0, fault="no-such-fault")
    with pytest.raises(ValueError, match="profile"):
        check.run("huge", 0)


def test_every_check_is_documented_and_can_fail():
    for c in all_checks():
        assert isinstance(c, Check)
        assert c.claim and c.reference.startswith("docs/theory.md")
        assert "Pass" in c.doc or "pass" in c.doc, f"{c.name} must state its pass criterion"
        assert c.faults, f"{c.name} has no fault to show it can fail"
        assert c.plot is not None, f"{c.name} draws no figure"


def test_verify_real_check_quick(tmp_path):
    res = CliRunner().invoke(main, ["verify", "--only", "kernel.closed-form", "--out", str(tmp_path / "r"), "--quiet"])
    assert res.exit_code == 0, res.output
    rep = json.loads((tmp_path / "r" / "report.json").read_text())
    assert rep["all_passed"] and rep["checks"][0]["figures"] == ["kernel.closed-form.png"]
    assert Path(tmp_path / "r" / "kernel.closed-form.png").stat().st_size > 10_000
