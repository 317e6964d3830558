"""The registry of checks: families are discovered as modules of ``ntk_toolkit.checks``, a check's
name prefix is its module's family, and the report order is stable."""

from __future__ import annotations

import sys
import textwrap

import pytest

import ntk_toolkit.checks as checks_pkg
from ntk_toolkit.checks import _base, all_checks, get_check, register, select_checks
from ntk_toolkit.checks._base import discover, family_of

#: The report order of the suite (the report and external tools list the checks in this order).
EXPECTED_ORDER = (
    "kernel.closed-form", "kernel.trig-basis", "kernel.spectrum-vs-width", "kernel.finite-width-rate",
    "dynamics.linearization-gap", "dynamics.per-component-decay", "dynamics.structure-vs-noise",
    "dynamics.omega-tradeoff", "dynamics.alignment-at-init", "dynamics.least-squares-warmup",
    "denoising.early-stopping-curve", "denoising.oracle", "denoising.three-term-bound",
    "cs.gd-limit", "cs.smoothest-beats-min-l2", "cs.recovery-law", "cs.rank-p-exact", "cs.noise-amplification",
    "cs.discrepancy-principle",
    "image.trig-basis-2d", "image.structure-vs-noise", "image.early-stopping", "image.inpainting",
    "symbolic.dual-vs-monte-carlo", "symbolic.activation-spectra",
    "deep.geometric-decay", "deep.trig-subspace", "deep.subspace-stability", "deep.architecture-ablation",
    "deep.depth",
)

TOY_FAMILY = '''
    """A family of checks that exists only in this test."""

    from ntk_toolkit.checks._base import register, result

    REPORT_ORDER = 5


    def _plot(res):
        return []


    @register("answer", claim="The answer is 42.", reference="docs/theory.md §0", faults=("off-by-one",),
              plot=_plot)
    def answer(profile, seed, fault=None):
        """Pass iff the answer is 42."""
        value = 43 if fault == "off-by-one" else 42
        return result(predicted={"answer": 42}, measured={"answer": value}, criterion={"text": "equal"},
                      passed=value == 42)
'''


def test_report_order():
    assert tuple(c.name for c in all_checks()) == EXPECTED_ORDER


def test_name_prefix_is_the_family_of_the_defining_module():
    for c in all_checks():
        family = family_of(c.func.__module__)
        assert c.family == family, (c.name, c.func.__module__)
        assert c.name.split(".")[0] == family, (c.name, c.func.__module__)
        assert c.name.count(".") == 1


def test_discover_lists_families_in_report_order():
    assert discover() == ["kernel", "dynamics", "denoising", "cs", "image", "symbolic", "deep"]
    assert family_of("ntk_toolkit.checks.cs.limit") == "cs"
    assert family_of("ntk_toolkit.checks.runner") is None
    assert family_of("ntk_toolkit.checks._common") is None
    assert family_of("tests.test_checks_registry") is None


@pytest.fixture
def toy_family(tmp_path, monkeypatch):
    """A family module ``toy`` dropped into the checks package (through an extra package path)."""
    (tmp_path / "toy.py").write_text(textwrap.dedent(TOY_FAMILY), encoding="utf-8")
    (tmp_path / "_private.py").write_text("raise RuntimeError('private modules are not families')\n")
    all_checks()  # the real families first
    monkeypatch.setattr(checks_pkg, "__path__", [*checks_pkg.__path__, str(tmp_path)])
    monkeypatch.setattr(_base, "_REGISTRY", dict(_base._REGISTRY))
    monkeypatch.setattr(_base, "_FAMILY_RANK", dict(_base._FAMILY_RANK))
    monkeypatch.setattr(_base, "_FAMILY_ALIASES", dict(_base._FAMILY_ALIASES))
    yield
    sys.modules.pop("ntk_toolkit.checks.toy", None)


def test_a_module_dropped_into_the_package_is_discovered(toy_family):
    names = [c.name for c in all_checks()]
    assert names == ["toy.answer", *EXPECTED_ORDER]  # REPORT_ORDER = 5 puts it first
    check = get_check("toy.answer")
    assert check.family == "toy"
    assert check.run("tiny", 0).passed and not check.run("tiny", 0, fault="off-by-one").passed
    assert [c.name for c in select_checks("toy")] == ["toy.answer"]


def test_discover_on_a_separate_package(tmp_path, monkeypatch):
    pkg = tmp_path / "fakechecks"
    (pkg / "beta").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "alpha.py").write_text("REPORT_ORDER = 2\n")
    (pkg / "runner.py").write_text("")
    (pkg / "_helpers.py").write_text("")
    (pkg / "beta" / "__init__.py").write_text("REPORT_ORDER = 1\n")
    (pkg / "beta" / "claims.py").write_text("LOADED = True\n")
    (pkg / "gamma.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        assert discover("fakechecks") == ["beta", "alpha", "gamma"]
        assert sys.modules["fakechecks.beta.claims"].LOADED  # a family subpackage's modules are imported
        assert "fakechecks.runner" not in sys.modules and "fakechecks._helpers" not in sys.modules
    finally:
        for name in [m for m in sys.modules if m == "fakechecks" or m.startswith("fakechecks.")]:
            del sys.modules[name]


def test_family_alias_selects_the_family():
    cs = [c.name for c in all_checks() if c.family == "cs"]
    assert [c.name for c in select_checks("compressive-sensing")] == cs
    assert [c.name for c in select_checks("cs.*")] == cs


def test_register_rejects_a_family_that_is_not_the_module_s(monkeypatch):
    monkeypatch.setattr(_base, "_REGISTRY", dict(_base._REGISTRY))

    def func(profile, seed, fault=None):
        """Never run."""

    func.__module__ = "ntk_toolkit.checks.kernel"
    with pytest.raises(ValueError, match="family is 'kernel'"):
        register("x", family="dynamics", claim="c", reference="r")(func)
    with pytest.raises(ValueError, match="registered twice"):
        register("closed-form", claim="c", reference="r")(func)
    with pytest.raises(ValueError, match="without a dot"):
        register("kernel.x", claim="c", reference="r")
    func.__module__ = "somewhere.else"
    with pytest.raises(ValueError, match="pass family="):
        register("x", claim="c", reference="r")(func)
    register("x", claim="c", reference="r")
    register("x", family="outside", claim="c", reference="r")(func)
    assert get_check("outside.x").family == "outside"
