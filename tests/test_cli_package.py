"""The ``ntk_toolkit.cli`` package (one module per command group, no command module importing
another) and the library experiment behind ``cs-curve``: :func:`ntk_toolkit.recovery_curve`."""

from __future__ import annotations

import ast
import json
import math
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

import ntk_toolkit as nt
from conftest import RTOL
from ntk_toolkit import signals
from ntk_toolkit.cli import COMMANDS, main
from ntk_toolkit.filters import from_spec
from ntk_toolkit.operators import CircularConv

CLI_DIR = Path(nt.__file__).resolve().parent / "cli"
COMMAND_MODULES = sorted({module for module, _ in COMMANDS.values()})

#: ``cs-curve --filters triangle:2,triangle:4 --n 32 --ms 4,8,16 --trials 3 --json`` before the experiment
#: moved into the library (seed 0, smooth signal with p = 9, no noise).
OLD_CURVE = {
    "triangle(2)": {"simulated_rms": [0.8904973526562903, 0.6144404869928005, 0.5701580127804221],
                    "predicted_rms": [0.8399364017334657, 0.6856498629345973, 0.4092580303550366],
                    "kappa": [3.278335115828176, 1.306122763187144, 0.3686990658460138]},
    "triangle(4)": {"simulated_rms": [0.8293792519740097, 0.36938490606955554, 0.3745334952685431],
                    "predicted_rms": [0.7333702282989774, 0.4855092178112868, 0.16980701746878565],
                    "kappa": [2.6506941225115708, 0.8281857666686007, 0.158736134005082]},
    "min_l2": {"simulated_rms": [0.9628384009166966, 0.8494445000287586, 0.7770221927368319],
               "predicted_rms": [0.9354143466934853, 0.8660254037844384, 0.7071067811865476]},
}
#: The same with ``--filters triangle:3,custom:1,2,1 --n 32 --trials 2 --noise 0.05 --signal piecewise-smooth
#: --seed 5`` (default ms 2, 4, 6, 8, 12, 16, 24): the noise stream and a second signal; a few entries.
OLD_NOISY = {
    "ms": [2, 4, 6, 8, 12, 16, 24],
    "simulated_rms_custom": [0.9427249955913066, 0.830068102888181, 0.745354310802673, 0.7464757992128035,
                             0.5164870865220669, 0.599512514850167, 0.6578004871175],
    "predicted_rms_triangle": [0.907691504343862, 0.8190170488155363, 0.736830166333374, 0.6640352442426244,
                               0.5549015462733606, 0.49699878023025107, 0.5431951515407916],
    "simulated_rms_min_l2": [0.977137018010734, 0.9126117656495348, 0.896313488271254, 0.8658388777980145,
                             0.7270107205993892, 0.7133333164733655, 0.6899122805860317],
}


def _spawn(seed: int, count: int):
    return [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(count)]


def _cli_setup(specs, n, seed, signal="smooth", p=9):
    """The signal, kernels and trial seed exactly as ``cs-curve`` draws them."""
    r_signal, r_trials = _spawn(seed, 2)
    x = signals.smooth(n, p=p, seed=r_signal) if signal == "smooth" else signals.piecewise_smooth(n, seed=r_signal)
    gens = [nt.TwoLayerGenerator(CircularConv(from_spec(s), n), 2) for s in specs]
    return x, gens, r_trials


# --------------------------------------------------------------------------- recovery_curve
@pytest.fixture(scope="module")
def tiny_curve():
    x, gens, r_trials = _cli_setup(["triangle:2", "triangle:4"], 32, 0)
    return nt.recovery_curve([nt.spectrum(g) for g in gens], x, [4, 8, 16], trials=3, seed=r_trials,
                             labels=[g.operator.filter.name for g in gens])


def test_recovery_curve_reproduces_the_old_command(tiny_curve):
    c = tiny_curve
    assert c.labels == ("triangle(2)", "triangle(4)") and c.ms.tolist() == [4, 8, 16]
    assert c.n == 32 and c.trials == 3 and c.noise_std == 0.0
    for i, label in enumerate(c.labels):
        np.testing.assert_allclose(c.simulated_rms[i], OLD_CURVE[label]["simulated_rms"], rtol=RTOL)
        np.testing.assert_allclose(c.predicted_rms[i], OLD_CURVE[label]["predicted_rms"], rtol=RTOL)
        np.testing.assert_allclose(c.kappa[i], OLD_CURVE[label]["kappa"], rtol=RTOL)
    np.testing.assert_allclose(c.simulated_rms_min_l2, OLD_CURVE["min_l2"]["simulated_rms"], rtol=RTOL)
    np.testing.assert_allclose(c.predicted_rms_min_l2, OLD_CURVE["min_l2"]["predicted_rms"], rtol=RTOL)


def test_recovery_curve_with_noise_reproduces_the_old_command():
    x, gens, r_trials = _cli_setup(["triangle:3", "custom:1,2,1"], 32, 5, signal="piecewise-smooth")
    c = nt.recovery_curve(gens, x, OLD_NOISY["ms"], trials=2, noise_std=0.05, seed=r_trials)
    assert c.labels == ("triangle(3)", "custom(L=3)")  # default labels: the filters' names
    np.testing.assert_allclose(c.simulated_rms[1], OLD_NOISY["simulated_rms_custom"], rtol=RTOL)
    np.testing.assert_allclose(c.predicted_rms[0], OLD_NOISY["predicted_rms_triangle"], rtol=RTOL)
    np.testing.assert_allclose(c.simulated_rms_min_l2, OLD_NOISY["simulated_rms_min_l2"], rtol=RTOL)


def test_recovery_curve_result_is_consistent(tiny_curve):
    c = tiny_curve
    assert c.squared_errors.shape == (2, 3, 3) and c.squared_errors_min_l2.shape == (3, 3)
    assert c.simulated_rms.shape == c.predicted_rms.shape == c.kappa.shape == (2, 3)
    x, _, _ = _cli_setup(["triangle:2"], 32, 0)
    np.testing.assert_allclose(c.simulated_rms, np.sqrt(c.squared_errors.mean(axis=-1) / (x @ x)), rtol=RTOL)
    # A⁺y: Σ = I/2, the law gives √(1 − m/n) without noise (docs/theory.md §5.2)
    np.testing.assert_allclose(c.predicted_rms_min_l2, np.sqrt(1 - c.ms / 32), rtol=1e-9)
    with pytest.raises(AttributeError):
        c.trials = 5  # frozen


def test_recovery_curve_to_dict_is_the_cli_json(tiny_curve):
    d = json.loads(json.dumps(tiny_curve.to_dict()))
    assert set(d) == {"n", "ms", "trials", "noise", "measurement", "filters", "min_l2"}
    res = CliRunner().invoke(main, ["cs-curve", "--filters", "triangle:2,triangle:4", "--n", "32", "--ms", "4,8,16",
                                    "--trials", "3", "--json"])
    assert res.exit_code == 0, res.output
    cli = json.loads(res.stdout)
    assert [{k: v for k, v in f.items() if k != "spec"} for f in cli["filters"]] == d["filters"]
    assert cli["min_l2"] == d["min_l2"]
    assert {key: cli[key] for key in ("n", "ms", "trials", "noise", "measurement")} == \
        {key: d[key] for key in ("n", "ms", "trials", "noise", "measurement")}


def test_recovery_curve_same_seed_same_numbers_and_kernel_forms():
    n = 16
    gen = nt.TwoLayerGenerator(CircularConv(from_spec("triangle:2"), n), 2)
    x = signals.smooth(n, p=3, seed=0)
    a = nt.recovery_curve(gen, x, [4, 8], trials=2, seed=7)  # a single kernel
    b = nt.recovery_curve([nt.expected_kernel(gen)], x, [4, 8], trials=2, seed=np.random.default_rng(7))
    assert a.labels == ("triangle(2)",) and b.labels == ("kernel 0",)
    np.testing.assert_allclose(a.squared_errors, b.squared_errors, rtol=1e-9)
    assert not np.array_equal(a.squared_errors, nt.recovery_curve(gen, x, [4, 8], trials=2, seed=8).squared_errors)


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"ms": [0, 4]}, ValueError, ["ms", "n=16", "[0]"]),
    ({"ms": [4, 17]}, ValueError, ["ms", "[17]"]),
    ({"ms": [4.5]}, TypeError, ["ms", "integers"]),
    ({"ms": []}, TypeError, ["ms"]),
    ({"trials": 0}, ValueError, ["trials", "0"]),
    ({"noise_std": -1.0}, ValueError, ["noise_std", "-1.0"]),
    ({"noise_std": math.nan}, ValueError, ["noise_std", "nan"]),
    ({"labels": ["a", "b"]}, ValueError, ["labels", "2"]),
    ({"x": np.zeros(16)}, ValueError, ["x", "zero"]),
    ({"x": np.ones(8)}, ValueError, ["x", "(16,)"]),
    ({"kernels": []}, TypeError, ["kernels", "empty"]),
    ({"seed": -1}, TypeError, ["seed", "-1"]),
])
def test_recovery_curve_bad_input(kwargs, exc, words):
    gen = nt.TwoLayerGenerator(CircularConv(from_spec("triangle:2"), 16), 2)
    args = {"kernels": [gen], "x": signals.smooth(16, p=3, seed=0), "ms": [4, 8], "trials": 1, **kwargs}
    with pytest.raises(exc) as info:
        nt.recovery_curve(**args)
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_plot_recovery_curve_into_given_axes(tiny_curve):
    from ntk_toolkit.plotting import plot_recovery_curve, pyplot

    fig, (ax0, ax1) = pyplot().subplots(1, 2)
    try:
        assert plot_recovery_curve(tiny_curve, ax=ax1, title="curve") is fig
        assert ax1.get_title() == "curve" and ax0.get_lines() == []
        labels = [line.get_label() for line in ax1.get_lines()]
        assert labels == ["triangle(2): recovery law", "triangle(2): simulated (3 A's)", "triangle(4): recovery law",
                          "triangle(4): simulated (3 A's)", "A⁺y: predicted", "A⁺y: simulated"]
        np.testing.assert_allclose(ax1.get_lines()[1].get_ydata(), tiny_curve.simulated_rms[0])
    finally:
        pyplot().close(fig)


# --------------------------------------------------------------------------- the package
def _cli_imports(path: Path) -> set[str]:
    """Modules of ``ntk_toolkit.cli`` (and the package itself) that ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:  # from . import x / from .x import y
                found |= {node.module} if node.module else {a.name for a in node.names}
            elif node.module and node.module.startswith("ntk_toolkit.cli"):
                found.add(node.module.removeprefix("ntk_toolkit.cli").lstrip(".") or "__init__")
        elif isinstance(node, ast.Import):
            found |= {a.name.removeprefix("ntk_toolkit.cli").lstrip(".") or "__init__"
                      for a in node.names if a.name.startswith("ntk_toolkit.cli")}
    return found


def test_command_modules_import_only_the_shared_options():
    assert sorted(p.stem for p in CLI_DIR.glob("*.py")) == sorted(["__init__", "_options", *COMMAND_MODULES])
    for module in COMMAND_MODULES:
        assert _cli_imports(CLI_DIR / f"{module}.py") <= {"_options"}, module
    assert _cli_imports(CLI_DIR / "_options.py") == set()
    assert _cli_imports(CLI_DIR / "__init__.py") == set()  # commands are looked up by name, see COMMANDS


@pytest.mark.parametrize("module", COMMAND_MODULES)
def test_command_module_imports_alone(module):
    code = (f"import json, sys, ntk_toolkit.cli.{module}\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith('ntk_toolkit.cli'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert loaded == sorted(["ntk_toolkit.cli", "ntk_toolkit.cli._options", f"ntk_toolkit.cli.{module}"])


def test_every_command_resolves_to_its_module():
    ctx = click.Context(main, info_name="ntk-toolkit")
    for name, (module, _attr) in COMMANDS.items():
        command = main.get_command(ctx, name)
        assert command is not None and command.name == name
        assert command.callback.__module__ == f"ntk_toolkit.cli.{module}"
        assert "Example" in command.help, name
    assert main.get_command(ctx, "no-such-command") is None


def test_python_dash_m_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "ntk_toolkit", "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listed = out.stdout.split("Commands:", 1)[1].split()
    assert set(COMMANDS) <= set(listed), set(COMMANDS) - set(listed)
    assert "Example" in out.stdout


def test_unknown_command_is_a_usage_error():
    res = CliRunner().invoke(main, ["no-such-command"])
    assert res.exit_code == 2 and "No such command" in res.output
