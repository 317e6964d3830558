"""Check results, the registry and small numerical helpers shared by the checks."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

PROFILES = ("tiny", "quick", "full")


@dataclass
class CheckResult:
    """Outcome of one check.

    Attributes
    ----------
    name, claim, reference : str
        Identifier, the claim in one sentence, and the section of
        ``docs/theory.md`` / the paper it comes from.
    predicted, measured : dict[str, float | list]
        Named numbers: what the theory predicts and what the network did.
    criterion : dict
        ``{"text": <the pass rule in words>, <named thresholds>...}``.
    passed : bool
    figures : list of str
        File names of the figures written for this check (empty until plotted).
    data : dict[str, ndarray]
        Arrays from which the figures are drawn.
    elapsed : float
        Seconds.
    profile, seed, fault
        How it was run (``fault`` is ``None`` except in self-tests).
    """

    name: str
    claim: str
    reference: str
    predicted: dict
    measured: dict
    criterion: dict
    passed: bool
    data: dict = field(default_factory=dict)
    figures: list = field(default_factory=list)
    elapsed: float = 0.0
    profile: str = "quick"
    seed: int = 0
    fault: str | None = None

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"

    def to_dict(self, with_data: bool = False) -> dict:
        d = {
            "name": self.name, "claim": self.claim, "reference": self.reference,
            "predicted": _jsonable(self.predicted), "measured": _jsonable(self.measured),
            "criterion": _jsonable(self.criterion), "passed": bool(self.passed), "verdict": self.verdict,
            "figures": list(self.figures), "elapsed": float(self.elapsed), "profile": self.profile,
            "seed": int(self.seed), "fault": self.fault,
        }
        if with_data:
            d["data"] = _jsonable(self.data)
        return d


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        x = float(obj)
        return x if np.isfinite(x) else str(x)
    return obj


@dataclass(frozen=True)
class Check:
    """A registered check: metadata plus the function that runs it."""

    name: str
    family: str
    claim: str
    reference: str
    func: Callable
    plot: Callable | None = None
    faults: tuple = ()

    def run(self, profile: str = "quick", seed: int = 0, fault: str | None = None) -> CheckResult:
        """Run the check; ``fault`` injects a deliberate error into the prediction."""
        if profile not in PROFILES:
            raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
        if fault is not None and fault not in self.faults:
            raise ValueError(f"fault must be None or one of {self.faults} for check {self.name}, got {fault!r}")
        t0 = time.perf_counter()
        res = self.func(profile=profile, seed=int(seed), fault=fault)
        res.name, res.claim, res.reference = self.name, self.claim, self.reference
        res.elapsed = time.perf_counter() - t0
        res.profile, res.seed, res.fault = profile, int(seed), fault
        return res

    @property
    def doc(self) -> str:
        return (self.func.__doc__ or "").strip()


_REGISTRY: dict[str, Check] = {}


def register(name: str, family: str, claim: str, reference: str, faults=(), plot=None):
    """Decorator registering ``func(profile, seed, fault) -> CheckResult`` as a check."""

    def deco(func):
        if name in _REGISTRY:
            raise ValueError(f"check {name!r} is registered twice")
        _REGISTRY[name] = Check(name=name, family=family, claim=claim, reference=reference,
                                func=func, plot=plot, faults=tuple(faults))
        return func

    return deco


#: Check modules in report order (one module per family of claims).
CHECK_MODULES = ("kernel", "dynamics", "initialization", "denoising", "compressive")


def _load_all() -> None:
    import importlib
    import importlib.util

    for mod in CHECK_MODULES:
        if importlib.util.find_spec(f"{__package__}.{mod}") is not None:
            importlib.import_module(f"{__package__}.{mod}")


def all_checks() -> list[Check]:
    """Every registered check, in registration order (kernel, dynamics, denoising, …)."""
    _load_all()
    return list(_REGISTRY.values())


def get_check(name: str) -> Check:
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"no check named {name!r}; known: {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def select_checks(pattern: str | None = None) -> list[Check]:
    """Checks whose name matches the glob ``pattern`` (or contains it), or whose family matches it.

    ``pattern`` may list several patterns separated by commas.
    """
    checks = all_checks()
    if not pattern:
        return checks
    pats = [p.strip() for p in pattern.split(",") if p.strip()]
    chosen = [c for c in checks
              if any(fnmatch.fnmatch(c.name, p) or p in c.name or fnmatch.fnmatch(c.family, p) for p in pats)]
    if not chosen:
        raise ValueError(f"--only {pattern!r} matches no check; known: {', '.join(c.name for c in checks)}")
    return chosen


def sizes(table: dict, profile: str) -> dict:
    """The parameters of a check for a profile (``tiny`` is used by the tests)."""
    if profile not in table:
        raise ValueError(f"profile must be one of {tuple(table)}, got {profile!r}")
    return dict(table[profile])


# ------------------------------------------------------------------ numerical helpers
def loglog_slope(x, y) -> float:
    """Least-squares slope of ``log y`` against ``log x``."""
    lx, ly = np.log(np.asarray(x, float)), np.log(np.asarray(y, float))
    return float(np.polyfit(lx, ly, 1)[0])


def rel_err(a, b) -> float:
    """``‖a − b‖ / ‖b‖`` (Frobenius / l2)."""
    b = np.asarray(b, float)
    return float(np.linalg.norm(np.asarray(a, float) - b) / np.linalg.norm(b))


def sym_norm(A) -> float:
    """Spectral norm of a symmetric matrix (largest |eigenvalue|, via ``eigvalsh``)."""
    w = np.linalg.eigvalsh(A)
    return float(max(abs(w[0]), abs(w[-1])))


def spectral_rel_err(A, B) -> float:
    """``‖A − B‖₂ / ‖B‖₂`` for symmetric matrices (``eigvalsh``, cheaper than an SVD)."""
    return sym_norm(A - B) / sym_norm(B)


def result(predicted: dict, measured: dict, criterion: dict, passed: bool, data: dict | None = None) -> CheckResult:
    """Build a :class:`CheckResult`; the registry fills in name, claim and timing."""
    return CheckResult(name="", claim="", reference="", predicted=predicted, measured=measured,
                       criterion=criterion, passed=bool(passed), data=data or {})
