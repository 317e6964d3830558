"""Fuzzing the rest of the public API and the CLI with bad input (hypothesis).

Same rules as ``tests/test_fuzz.py`` (whose ``BAD``, ``_allowed`` and ``_check``
are reused): a result, or a ``ValueError``/``TypeError`` naming the argument.
Covers 2-D filters and operators, images and image experiments, the symbolic
module, activations, the deep decoder, sweeps, measurements and recovery, and
the CLI commands not fuzzed there. A last test lists every public callable and
fails when one is neither fuzzed nor excluded here with a reason.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz import ALIASES, BAD, BAD_WIDE, ENTRIES, GEN, N, Y, _check, _replace

import ntk_toolkit as nt
from ntk_toolkit import activations as Act
from ntk_toolkit import deep as D
from ntk_toolkit import filters as F
from ntk_toolkit import image_experiments as IE
from ntk_toolkit import images as IM
from ntk_toolkit import measurements as M
from ntk_toolkit import recovery as R
from ntk_toolkit import signals as S
from ntk_toolkit import sweep as SW
from ntk_toolkit import symbolic as SY
from ntk_toolkit.cli import main
from ntk_toolkit.dynamics import geometric_iterations, record_iterations
from ntk_toolkit.operators import CircularConv, CircularConv2D
from ntk_toolkit.prediction import residual_system

SP = importlib.import_module("ntk_toolkit.spectrum")
#: ``load_spec(source)``: the source is the spec, and its errors speak of the "spec" (file or table).
ALIASES.setdefault("source", ("source", "spec"))
SHAPE = (4, 4)
F2 = F.triangle2d(1)
GEN2 = nt.TwoLayerGenerator(CircularConv2D(F2, SHAPE), 4)
IMG = np.linspace(0.0, 1.0, 16).reshape(SHAPE)
IMG8 = np.linspace(0.0, 1.0, 64).reshape(8, 8)  # SSIM needs 7×7
A = M.GaussianMeasurement(6, N, seed=0)
KER = nt.expected_kernel(GEN)
ROW = nt.expected_kernel_first_row(GEN)
NET = D.DeepDecoder((8,), [2, 2, 2])
THETA = NET.init(seed=0)
U8 = CircularConv(F.triangle(1), 8)
DEEPGEN = D.MultiLayerConvGenerator([U8, U8], [2, 2])
SVALS = np.array([4.0, 2.0, 1.0, 0.5, 0.25])
V0 = np.linalg.qr(np.random.default_rng(0).standard_normal((8, 2)))[0]
SPEC = {"sweep": {"measurement": "spectrum_summary", "seeds": 1}, "grid": {"filter": ["delta"], "n": [8]}}

def _set_budget_and_restore(nbytes):
    """``set_memory_budget(nbytes)``, then the budget as it was: a fuzzed budget must not leak into other cases."""
    old = nt.memory_budget()
    try:
        nt.set_memory_budget(nbytes)
    finally:
        nt.set_memory_budget(old)


#: ``(name, function, good arguments)``, as ``ENTRIES`` of ``tests/test_fuzz.py``.
ENTRIES_MORE = [
    # 2-D filters and operators
    ("Filter2D", F.Filter2D, {"taps": np.ones((3, 3))}),
    ("triangle2d", F.triangle2d, {"p": 1}),
    ("gaussian2d", F.gaussian2d, {"std": 1.0, "truncate": 2.0}),
    ("box2d", F.box2d, {"width": 3}),
    ("separable", F.separable, {"f1": F.triangle(1), "f2": F.box(3)}),
    ("from_spec", F.from_spec, {"spec": "triangle:2"}),
    ("parse_shape", F.parse_shape, {"text": "4x4"}),
    ("delta", F.delta, {"normalize": True}),
    ("bilinear", F.bilinear, {"normalize": True}),
    ("CircularConv2D", CircularConv2D, {"filter": F2, "shape": SHAPE}),
    ("TwoLayerGenerator-2d", nt.TwoLayerGenerator, {"operator": GEN2.operator, "k": 4}),
    ("TwoLayerGenerator-activation", nt.TwoLayerGenerator, {"operator": GEN.operator, "k": 4, "activation": "tanh"}),
    # images
    ("images.load", IM.load, {"name": "camera", "size": 8, "gray": True, "upsample": False}),
    ("images.add_noise", IM.add_noise, {"x": IMG, "sigma": 0.1, "seed": 0, "clip": True}),
    ("images.psnr", IM.psnr, {"x": IMG, "reference": IMG[::-1], "data_range": 1.0}),
    ("images.ssim", IM.ssim, {"x": IMG8, "reference": IMG8[::-1], "data_range": 1.0}),
    ("images.ssim-flat", IM.ssim, {"x": IMG8.ravel(), "reference": IMG8.ravel()[::-1], "shape": (8, 8)}),
    ("denoise_image", IE.denoise_image, {"gen": GEN2, "image": IMG, "sigma": 0.1, "steps": 3, "eta": 0.5,
                                         "omega": 16.0, "record": None, "clip": False, "diagnostics": True,
                                         "tol": 0.1}),
    ("fit_image_vs_noise", IE.fit_image_vs_noise, {"gen": GEN2, "image": IMG, "steps": 3, "delta": 0.1,
                                                   "diagnostics": True, "tol": 0.1}),
    ("inpaint_image", IE.inpaint_image, {"gen": GEN2, "image": IMG, "keep": 0.5, "max_steps": 5, "rtol": 1e-3,
                                         "omega": 16.0, "diagnostics": True, "tol": 0.1}),
    # kernels, spectra, bases
    ("expected_kernel_first_row", nt.expected_kernel_first_row, {"gen": GEN, "omega": 1.0}),
    ("as_spectrum", nt.as_spectrum, {"kernel": KER, "omega": 1.0}),
    ("circulant_spectrum", nt.circulant_spectrum, {"first_row": ROW}),
    ("basis_spectrum", SP.basis_spectrum, {"basis": nt.bases.TrigBasis(N), "first_row": ROW}),
    ("frequency_energy", nt.frequency_energy, {"x": Y}),
    ("frequency_energy-2d", nt.frequency_energy, {"x": IMG.ravel(), "shape": SHAPE}),
    ("trig_basis", nt.trig_basis, {"n": N}),
    ("TrigBasis", nt.bases.TrigBasis, {"n": N}),
    ("TrigBasis2D", nt.bases.TrigBasis2D, {"shape": SHAPE}),
    ("gram_matrix", nt.kernels.gram_matrix, {"gen": GEN}),
    ("DenseOperator", nt.DenseOperator, {"U": np.eye(N)}),
    ("as_operator", nt.operators.as_operator, {"op": np.eye(N)}),
    ("set_memory_budget", _set_budget_and_restore, {"nbytes": nt.memory_budget()}),
    # symbolic
    ("symbolic.dual", SY.dual, {"activation": "relu", "derivative": False}),
    ("symbolic.hermite_coefficients", SY.hermite_coefficients, {"activation": "relu", "order": 2}),
    ("symbolic.two_layer_kernel", SY.two_layer_kernel, {"activation": "relu"}),
    ("symbolic.eigenvalue_formula", SY.eigenvalue_formula, {"activation": "relu", "filter": "delta"}),
    ("symbolic.to_numpy", SY.to_numpy, {"expr": SY.two_layer_kernel("relu")}),
    ("symbolic.latex", SY.latex, {"expr": SY.two_layer_kernel("relu")}),
    # activations
    ("Activation", Act.Activation, {"fn": np.tanh, "derivative": lambda z: 1 - np.tanh(z) ** 2, "name": "t"}),
    ("as_activation", Act.as_activation, {"activation": "relu"}),
    ("expected_product", Act.expected_product, {"activation": "relu", "rho": 0.5, "q1": 1.0, "q2": 1.0}),
    ("gauss_hermite", Act.gauss_hermite, {"fn": np.tanh, "rho": 0.5, "q1": 1.0, "q2": 1.0, "nodes": 20}),
    ("correlation_row", Act.correlation_row, {"activation": "relu", "rho": ROW / ROW[0], "q": 1.0}),
    # deep
    ("DeepDecoder", D.DeepDecoder, {"out_shape": (8,), "channels": [2, 2, 2], "factor": 2, "out_channels": 1,
                                    "upsample": "linear", "norm": "channel", "output": "sigmoid",
                                    "last_layer": "trainable", "input_seed": 0}),
    ("DeepDecoder.jvp", NET.jvp, {"theta": THETA, "d": THETA}),
    ("DeepDecoder.vjp", NET.vjp, {"theta": THETA, "r": np.ones(8)}),
    ("DeepDecoder.init", NET.init, {"seed": 0}),
    ("DeepDecoder.forward", NET.forward, {"theta": THETA}),
    ("upsample", D.upsample, {"x": np.ones((2, 4)), "factor": 2, "mode": "linear"}),
    ("jacobian_spectrum", D.jacobian_spectrum, {"net": NET, "theta": THETA, "r": 2, "method": "auto", "tol": 1e-8}),
    ("trig_overlap", D.trig_overlap, {"vectors": V0, "shape": (8,)}),
    ("decay_rate", D.decay_rate, {"singular_values": SVALS, "skip": 0}),
    ("subspace_drift", D.subspace_drift, {"V0": V0, "V1": V0}),
    ("deep.fit", D.fit, {"net": NET, "y": np.full(8, 0.5), "theta0": THETA, "optimizer": "adam", "lr": 0.01,
                         "steps": 3, "record": [0, 3], "jacobian_every": None, "rank": 2, "eps": 1e-8,
                         "stop_at": None, "divergence_factor": 1e6}),
    ("MultiLayerConvGenerator", D.MultiLayerConvGenerator, {"operator_list": [U8, U8], "channels": [2, 2]}),
    ("MultiLayerConvGenerator.forward", DEEPGEN.forward, {"theta": DEEPGEN.init(seed=0)}),
    # measurements
    ("RandomMask", M.RandomMask, {"n": N, "keep": 0.5, "seed": 0}),
    ("SubsampledDCT", M.SubsampledDCT, {"m": 4, "n": N, "seed": 0}),
    ("SubsampledDCT2D", M.SubsampledDCT2D, {"m": 4, "shape": SHAPE, "seed": 0}),
    ("MatrixMeasurement", M.MatrixMeasurement, {"A": np.eye(4, N)}),
    ("Identity", M.Identity, {"n": N}),
    ("as_measurement", M.as_measurement, {"A": np.eye(4, N), "n": N}),
    ("as_measurements", M.as_measurements, {"y": np.ones(4), "A": np.eye(4, N), "n": N}),
    # recovery
    ("smoothest_interpolant", R.smoothest_interpolant, {"kernel": KER, "A": A, "y": A.apply(Y)}),
    ("min_l2_interpolant", R.min_l2_interpolant, {"A": A, "y": A.apply(Y)}),
    ("oracle_projection", R.oracle_projection, {"kernel": KER, "y": Y, "p": 3}),
    ("l1_recovery", R.l1_recovery, {"A": A, "y": A.apply(Y), "lam": 0.01, "steps": 20}),
    ("effective_ridge", R.effective_ridge, {"eigenvalues": np.linalg.eigvalsh(KER), "m": 6}),
    ("recovery_law", R.recovery_law, {"kernel": KER, "x": Y, "m": 6, "noise_std": 0.0}),
    ("predicted_recovery_error", R.predicted_recovery_error, {"kernel": KER, "x": Y, "m": 6}),
    ("recovery_curve", nt.recovery_curve, {"kernels": [KER], "x": Y, "ms": [4, 8], "trials": 2, "noise_std": 0.0,
                                           "seed": 0, "labels": ["a"]}),
    ("run_to_convergence", nt.run_to_convergence,
     {"gen": GEN, "y": Y, "C0": GEN.init(seed=0), "eta": 0.2, "A": None, "max_steps": 20, "rtol": 1e-3, "record": 5,
      "x_true": None}),
    # signals and schedules
    ("signals.trig", S.trig, {"n": N, "f": 2, "kind": "cos"}),
    ("signals.step", S.step, {"n": N, "position": 0.5}),
    ("signals.piecewise_constant", S.piecewise_constant, {"n": N, "pieces": 3, "seed": 0}),
    ("signals.piecewise_smooth", S.piecewise_smooth, {"n": N, "pieces": 3, "seed": 0}),
    ("signals.white_noise", S.white_noise, {"n": N, "norm": 1.0, "seed": 0}),
    ("geometric_iterations", geometric_iterations, {"steps": 100, "num": 5}),
    ("record_iterations", record_iterations, {"record": [0, 5], "steps": 100}),
    ("residual_system", residual_system, {"kernel": KER, "A": A}),
    # sweeps (paths made bad; spec values made bad)
    ("sweep.load_spec", SW.load_spec, {"source": SPEC}),
    ("sweep.run_point", SW.run_point, {"measurement": "spectrum_summary",
                                       "params": {"filter": "delta", "n": 8, "keep": 0}, "seed": 0}),
    ("sweep.get_measurement", SW.get_measurement, {"name": "spectrum_summary"}),
    ("sweep.aggregate", SW.aggregate, {"rows": [{"n": 8, "e": 1.0}], "x": "n", "y": "e"}),
]

CASES = [(e, a) for e in ENTRIES_MORE for a in e[2]]


@pytest.mark.parametrize("entry, arg", CASES, ids=[f"{e[0]}-{a}" for e, a in CASES])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=BAD)
def test_bad_argument_gives_a_named_error_or_a_result(entry, arg, bad):
    _check(entry, arg, bad)


@pytest.mark.slow
@pytest.mark.parametrize("entry, arg", CASES, ids=[f"{e[0]}-{a}" for e, a in CASES])
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=BAD_WIDE)
def test_bad_argument_long_profile(entry, arg, bad):
    _check(entry, arg, bad)


#: Sweep entry points whose argument is a store path: bad paths and bad values.
BAD_PATH = st.sampled_from([None, 3, "", "/nonexistent-dir/x/s.db", "{tmp}", "{tmp}/not-a-db.db", 1.5, ["a"]])


def _with_tmp(bad, tmp):
    return bad.format(tmp=tmp) if isinstance(bad, str) else bad


@pytest.mark.parametrize("which", ["Store", "load", "status", "records", "export", "run"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(bad=BAD_PATH)
def test_sweep_bad_store_path_is_a_named_error(which, bad, tmp_path):
    (tmp_path / "not-a-db.db").write_text("not sqlite")
    path = _with_tmp(bad, str(tmp_path))
    calls = {
        "Store": lambda: SW.Store(path),
        "load": lambda: SW.load(path),
        "status": lambda: SW.status(path),
        "records": lambda: SW.records(path),
        "export": lambda: SW.export(path, str(tmp_path / "out.csv")),
        "run": lambda: SW.run(SPEC, path, scheduler="serial"),
    }
    arg = "store" if which != "Store" else "path"
    entry = (which, lambda **kw: calls[which](), {arg: path})
    try:
        entry[1]()
    except (SW.StoreError, SW.SpecError) as exc:
        assert isinstance(exc, (ValueError, TypeError)) and str(exc), exc
    except FileNotFoundError as exc:  # a missing store: the path is the value, named with the argument
        assert "store" in str(exc) and which != "Store", exc
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, (ValueError, TypeError)) and ("store" in str(exc) or "path" in str(exc)), (
            f"sweep.{which}({path!r}) raised {type(exc).__name__}: {exc}")


#: Bad sweep specs: a valid spec with one field replaced by a bad value.
SPEC_FIELDS = [("sweep", "measurement"), ("sweep", "seeds"), ("grid", "filter"), ("grid", "n")]


@pytest.mark.parametrize("section, field", SPEC_FIELDS, ids=[f"{s}.{f}" for s, f in SPEC_FIELDS])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                HealthCheck.function_scoped_fixture])
@given(bad=BAD)
def test_sweep_run_bad_spec_is_a_named_error(section, field, bad, tmp_path):
    spec = {"sweep": dict(SPEC["sweep"]), "grid": dict(SPEC["grid"])}
    spec[section][field] = bad
    try:
        res = SW.run(spec, str(tmp_path / "s.db"), scheduler="serial")
    except Exception as exc:  # noqa: BLE001
        assert isinstance(exc, (ValueError, TypeError)) and field in str(exc), (
            f"run with {section}.{field}={bad!r} raised {type(exc).__name__}: {exc}")
        return
    # accepted: a bad grid value may only give failed points, recorded as such
    assert res.done + res.failed == res.total


# --------------------------------------------------------------------------- CLI
#: ``(command, options to fuzz, good argv)``; the good runs are tiny.
CLI_MORE = [
    ("denoise", ["--size", "--sigma", "--filter", "--k", "--steps", "--omega", "--eta", "--image", "--seed",
                 "--tol"],
     ["denoise", "--image", "camera", "--size", "8", "--filter", "triangle2d:1", "--k", "4", "--steps", "3"]),
    ("deep-spectrum", ["--shape", "--channels", "--r", "--steps", "--lr", "--seed"],
     ["deep-spectrum", "--shape", "8", "--channels", "2,2,2", "--r", "2", "--steps", "0"]),
    ("cs-curve", ["--filters", "--n", "--ms", "--trials", "--p", "--noise"],
     ["cs-curve", "--filters", "triangle:2", "--n", "16", "--ms", "4,8", "--trials", "2"]),
    ("sweep-status", ["--store"], ["sweep", "status", "--store", "{tmp}/s.db"]),
    ("sweep-export", ["--store", "--csv"], ["sweep", "export", "--store", "{tmp}/s.db", "--csv", "{tmp}/o.csv"]),
    ("sweep-run", ["--store", "--workers"], ["sweep", "run", "{tmp}/spec.toml", "--store", "{tmp}/s.db"]),
    ("reproduce", ["--profile", "--workers", "--scheduler"], ["reproduce", "no-such-figure", "--out", "{tmp}/r"]),
    # only option validation: every good argv here fails fast before measuring
    ("bench", ["--threads", "--time-limit", "--wait-idle", "--only"],
     ["bench", "--quick", "--only", "no-such-section", "--out", "{tmp}/b.txt"]),
    ("checks", ["--json"], ["checks"]),
]
CLI_BAD = st.sampled_from(["-1", "0", "nan", "inf", "abc", "", "1e300", "10000000000000", "2.5", "triangle:-3",
                           "none:1", "0x0", "2,,2", "/nonexistent-dir/x"])
CLI_CASES = [(c, o) for c in CLI_MORE for o in c[1]]
SPEC_TOML = '[sweep]\nmeasurement = "spectrum_summary"\nseeds = 1\n[grid]\nfilter = ["delta"]\nn = [8]\n'


@pytest.mark.parametrize("cmd, opt", CLI_CASES, ids=[f"{c[0]}{o}" for c, o in CLI_CASES])
@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bad=CLI_BAD)
def test_cli_bad_option_is_a_usage_error_not_a_traceback(cmd, opt, bad, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    (tmp / "spec.toml").write_text(SPEC_TOML)
    argv = [a.replace("{tmp}", str(tmp)) for a in _replace(cmd[2], opt, bad)]
    if cmd[0] in ("denoise", "deep-spectrum", "cs-curve", "sweep-run", "reproduce", "bench"):
        argv.append("--quiet")
    with contextlib.chdir(tmp):  # a bad value taken as a file name lands there
        res = CliRunner().invoke(main, argv)
    if res.exit_code == 0:
        return
    assert res.exit_code in (1, 2), (argv, res.exit_code, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"{argv}: {type(res.exception).__name__}: {res.exception}")
    assert "Traceback" not in res.output
    assert opt.lstrip("-") in res.output or "Error" in res.output, res.output


# --------------------------------------------------------------------------- coverage
#: Public names not fuzzed, with the reason.
EXCLUDED = {
    # result and record types: built by the library from validated values, never from user input
    "Convergence", "RecoveryCurve", "RecoveryLaw", "Spectrum", "Trajectory", "RegimeVerdict", "WidthEstimate",
    "StepLimit", "TopEigenpairs", "LinearizedPrediction", "DecayFit", "FitTrajectory", "JacobianSpectrum",
    "ImageDenoising", "ImageVsNoiseFit", "ImageInpainting", "SweepResult", "Point", "SweepSpec", "FusedStep",
    "Problem",
    # exception and warning classes
    "DivergenceError", "StepSizeWarning", "SpecError", "StoreError",
    # protocols and abstract bases: nothing to call with arguments
    "Generator", "Operator", "OperatorLike",
    # functions without arguments
    "memory_budget", "available", "guide_markdown",
    # registration of user code (decorators taking the user's function): a bad function is the user's
    "register_measurement", "Measurement", "Param",
    # plotting (figures only; their data come from fuzzed functions)
    "plot",
    # the sweep store readers take paths: fuzzed by test_sweep_bad_store_path_is_a_named_error
    "Store", "load", "status", "records", "export", "run",
    # the hypothesis strategies and assertions of ntk_toolkit.testing are test tools (tests/test_testing.py)
    "filters", "operators", "generators", "signals", "step_sizes", "problems", "assert_linearized_close",
    "assert_monotone_residual", "assert_circulant", "assert_psd",
    # predicates and helpers used inside the library with its own validated values
    "is_generator", "default_output_weights", "circulant_from_first_row",
}
MODULES = ["", "filters", "images", "image_experiments", "symbolic", "activations", "deep", "sweep",
           "measurements", "recovery", "spectrum", "signals", "bases", "experiments", "kernels", "operators",
           "stability", "matfree", "dynamics", "prediction", "generator", "testing"]


def _public_callables():
    names = set()
    for m in MODULES:
        mod = importlib.import_module("ntk_toolkit" + ("." + m if m else ""))
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            if callable(obj) and not inspect.ismodule(obj) and not name.isupper():
                names.add(name)
    return names


def _fuzzed():
    names = set()
    for entry in ENTRIES + ENTRIES_MORE:
        func = entry[1]
        names.add(getattr(func, "__name__", entry[0]).strip("_").replace("_and_restore", ""))
        names.add(entry[0].split("-")[0].split(".")[-1])
    return names


def test_every_public_callable_is_fuzzed_or_excluded():
    missing = _public_callables() - _fuzzed() - EXCLUDED
    assert not missing, f"public callables neither fuzzed nor excluded: {sorted(missing)}"
