"""Fuzzing the public functions and the CLI with bad input (hypothesis).

The only outcomes allowed: a result, or a ``ValueError``/``TypeError`` whose
message names the argument (or a ``MemoryError`` of the memory guard naming
the bytes needed) — never a Numba crash, an ``IndexError`` from inside a
kernel, a hang or a silent wrong answer. Bounded examples by default; the
``slow`` profile below runs many more.

"Huge" sizes are 10¹² or more: numpy refuses such an allocation at once, so
a missing guard shows as a failure here, never as a machine out of memory.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ntk_toolkit as nt
from ntk_toolkit import filters as F
from ntk_toolkit import signals as S
from ntk_toolkit.cli import main
from ntk_toolkit.operators import CircularConv
from ntk_toolkit.stability import step_limit

N, K = 12, 4
GEN = nt.TwoLayerGenerator(CircularConv(F.triangle(2), N), K)
C0 = GEN.init(seed=0)
Y = np.linspace(-1.0, 1.0, N)
TRAJ = nt.gradient_descent(GEN, Y, C0, 0.2, 5, record=[0, 5], diagnostics=True)

#: Bad values: wrong types, shapes, dtypes, non-finite numbers, signs, empties, huge sizes.
BAD = st.sampled_from([
    None, "3", "abc", "", 1 + 2j, float("nan"), float("inf"), -float("inf"), -1, 0, -0.5, 0.0, 10**12, 2**63, True,
    [], [1.0, 2.0], np.array([]), np.full(N, np.nan), np.full(N, np.inf), np.ones((2, 3, 4)), np.ones((N, K + 1)),
    np.array(["a"] * N), np.ones(N, dtype=complex), np.ones(N + 1), np.ones((N, K), dtype=object), {"a": 1},
])

#: The long profile adds generated values: arrays of any small shape and dtype (NaN and inf
#: included), numbers of any size and sign, short strings.
BAD_WIDE = st.one_of(
    BAD,
    hnp.arrays(st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128]),
               hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=14)),
    # numbers that are bad or huge (a valid but large step count would only make a slow test)
    st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not 0 < abs(x) < 1e12),
    st.integers(-(2**70), 0), st.integers(10**12, 2**70), st.text(max_size=4),
)

#: ``(name, function, good arguments)``: each argument in turn is replaced by a bad value.
ENTRIES = [
    ("Filter", F.Filter, {"taps": [1.0, 2.0, 1.0]}),
    ("triangle", F.triangle, {"p": 2}),
    ("box", F.box, {"width": 3}),
    ("gaussian", F.gaussian, {"std": 1.0}),
    ("CircularConv", CircularConv, {"filter": F.triangle(2), "n": N}),
    ("TwoLayerGenerator", nt.TwoLayerGenerator, {"operator": GEN.operator, "k": K}),
    ("init", GEN.init, {"seed": 0, "omega": 1.0}),
    ("forward", GEN.forward, {"C": C0}),
    ("jvp", GEN.jvp, {"C": C0, "D": C0}),
    ("vjp", GEN.vjp, {"C": C0, "r": Y}),
    ("loss", GEN.loss, {"C": C0, "y": Y}),
    ("empirical_kernel", nt.empirical_kernel, {"gen": GEN, "C": C0, "method": "auto"}),
    ("expected_kernel", nt.expected_kernel, {"gen": GEN}),
    ("spectrum", nt.spectrum, {"kernel": GEN}),
    ("kernel_operator", nt.kernel_operator, {"gen": GEN, "C": C0}),
    ("top_eigenpairs", nt.top_eigenpairs, {"gen": GEN, "C": C0, "r": 2}),
    ("gradient_descent", nt.gradient_descent, {"gen": GEN, "y": Y, "C0": C0, "eta": 0.2, "steps": 3}),
    ("gradient_descent-record", nt.gradient_descent,
     {"gen": GEN, "y": Y, "C0": C0, "eta": 0.2, "steps": 3, "record": [0, 3], "diagnostics": True,
      "diagnostics_at": [0, 1, 3]}),
    ("linearized", nt.linearized, {"kernel": nt.expected_kernel(GEN), "y": Y, "eta": 0.2}),
    ("gradient_flow", nt.gradient_flow, {"kernel": nt.expected_kernel(GEN), "y": Y, "eta": 0.2}),
    ("max_step_size", nt.max_step_size, {"kernel": GEN, "kind": "network"}),
    ("step_limit", step_limit, {"gen": GEN, "C0": C0, "rtol": 1e-3, "max_iterations": 10}),
    ("linear_regime", nt.linear_regime, {"trajectory": TRAJ, "tol": 0.1}),
    ("width_needed", nt.width_needed,
     {"gen": GEN, "y": Y, "eta": 0.2, "steps": 3, "tol": 0.1, "omega": 1.0, "widths": [4, 8, 16], "seeds": 1}),
    ("signals.from_name", S.from_name, {"name": "noise", "n": N}),
    ("signals.smooth", S.smooth, {"n": N, "p": 4}),
    ("GaussianMeasurement", nt.measurements.GaussianMeasurement, {"m": 4, "n": N}),
]

#: Arguments whose name does not appear in every message, with the word that does.
ALIASES = {"filter": ("filter", "taps"), "kernel": ("kernel", "gen"), "operator": ("operator", "U")}


def _allowed(exc: BaseException, arg: str) -> bool:
    msg = str(exc)
    if isinstance(exc, MemoryError):
        return "bytes" in msg and "budget" in msg
    if not isinstance(exc, (ValueError, TypeError)):
        return False
    return any(a in msg for a in ALIASES.get(arg, (arg,)))


def _check(entry, arg, bad):
    name, func, good = entry
    kwargs = dict(good, **{arg: bad})
    try:
        out = func(**kwargs)
    except Exception as exc:  # noqa: BLE001 - the type is what is checked
        assert _allowed(exc, arg), f"{name}({arg}={bad!r}) raised {type(exc).__name__}: {exc}"
        return
    # accepted: the result must be finite where it is an array of numbers
    arr = getattr(out, "outputs", out)
    if isinstance(arr, np.ndarray) and arr.dtype.kind == "f":
        assert np.all(np.isfinite(arr)), f"{name}({arg}={bad!r}) returned non-finite values silently"


CASES = [(e, a) for e in ENTRIES for a in e[2]]


@pytest.mark.parametrize("entry, arg", CASES, ids=[f"{e[0]}-{a}" for e, a in CASES])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=BAD)
def test_bad_argument_gives_a_named_error_or_a_result(entry, arg, bad):
    _check(entry, arg, bad)


@pytest.mark.slow
@pytest.mark.parametrize("entry, arg", CASES, ids=[f"{e[0]}-{a}" for e, a in CASES])
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=BAD_WIDE)
def test_bad_argument_long_profile(entry, arg, bad):
    _check(entry, arg, bad)


# --------------------------------------------------------------------------- CLI
#: CLI commands with the options that take numbers, and a good value for the others.
CLI = [
    ("spectrum", ["--n", "--filter"], ["spectrum", "--filter", "triangle:2", "--n", "16"]),
    ("fit", ["--n", "--k", "--steps", "--eta", "--omega", "--filter", "--signal", "--tol"],
     ["fit", "--signal", "smooth", "--filter", "triangle:2", "--n", "16", "--k", "8", "--steps", "5"]),
    ("cs", ["--n", "--m", "--k", "--filter", "--noise", "--measurement", "--tol"],
     ["cs", "--filter", "triangle:2", "--n", "16", "--m", "8", "--k", "8"]),
    ("verify", ["--seed", "--profile"], ["verify", "--only", "kernel.trig-basis", "--profile", "quick"]),
]
CLI_BAD = st.sampled_from(["-1", "0", "nan", "inf", "abc", "", "1e300", "10000000000000", "2.5", "triangle:-3",
                           "none:1"])
CLI_CASES = [(c, o) for c in CLI for o in c[1]]


def _replace(argv, opt, value):
    argv = list(argv)
    if opt in argv:
        argv[argv.index(opt) + 1] = value
    else:
        argv += [opt, value]
    return argv


@pytest.mark.parametrize("cmd, opt", CLI_CASES, ids=[f"{c[0]}{o}" for c, o in CLI_CASES])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=CLI_BAD)
def test_cli_bad_option_is_a_usage_error_not_a_traceback(cmd, opt, bad, tmp_path_factory):
    argv = _replace(cmd[2], opt, bad) + ["--quiet"]
    if cmd[0] == "verify":
        argv += ["--out", str(tmp_path_factory.mktemp("verify") / "rep")]
    res = CliRunner().invoke(main, argv)
    if res.exit_code == 0:
        return
    assert res.exit_code in (1, 2), (argv, res.exit_code, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"{argv}: {type(res.exception).__name__}: {res.exception}")
    assert "Traceback" not in res.output
    assert opt.lstrip("-") in res.output or "Error" in res.output, res.output


def test_fuzz_table_covers_the_new_entry_points():
    names = {e[0] for e in ENTRIES}
    assert {"linear_regime", "width_needed", "step_limit", "max_step_size", "gradient_descent"} <= names
    assert math.isfinite(float(np.max(TRAJ.linearization_gap)))
