"""Check results, the registry of checks and the discovery of check families.

A family of checks is a module (or subpackage) of :mod:`ntk_toolkit.checks`; its
checks register with :func:`register` and are named ``<family>.<claim>`` after it.
"""

from __future__ import annotations

import fnmatch
import importlib
import pkgutil
import re
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

    Examples
    --------
    Returned by :meth:`Check.run` (and by :func:`~ntk_toolkit.checks.run_one`);
    :meth:`to_dict` is its entry in ``report.json``:

    >>> from ntk_toolkit.checks import get_check
    >>> res = get_check("kernel.trig-basis").run(profile="tiny", seed=0)
    >>> res.name, res.passed, res.verdict, res.profile
    ('kernel.trig-basis', True, 'PASS', 'tiny')
    >>> res.criterion["tol_rel"], res.measured["max_off_diagonal_rel"] <= res.criterion["tol_rel"]
    (1e-12, True)
    >>> d = res.to_dict()
    >>> d["verdict"], "data" in d, "data" in res.to_dict(with_data=True)
    ('PASS', False, True)
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
    """A registered check: metadata plus the function that runs it.

    Examples
    --------
    Checks come from the registry (:func:`get_check`, :func:`select_checks`);
    each declares faults that must turn its verdict to FAIL:

    >>> from ntk_toolkit.checks import get_check
    >>> check = get_check("kernel.trig-basis")
    >>> check.family, check.faults
    ('kernel', ('shifted-frequency',))
    >>> check.run(profile="tiny").verdict, check.run(profile="tiny", fault="shifted-frequency").verdict
    ('PASS', 'FAIL')
    """

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
#: Report position of each discovered family: ``(REPORT_ORDER, family)``.
_FAMILY_RANK: dict[str, tuple] = {}
#: Other names under which ``--only`` selects a family (a family module's ``ALIASES``).
_FAMILY_ALIASES: dict[str, tuple] = {}

#: Modules of this package that hold no checks.
NOT_FAMILIES = ("runner",)
#: Report position of a family module that does not set ``REPORT_ORDER``.
DEFAULT_REPORT_ORDER = 1000


def family_of(module: str, package: str = __package__) -> str | None:
    """The family of the checks defined in ``module``: its first component below ``package``.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"ntk_toolkit.checks.cs.limit"``.
    package : str
        The checks package.

    Returns
    -------
    str or None
        ``"cs"`` in the example; ``None`` if ``module`` is not inside ``package``
        (or is a private helper module such as ``_common``).

    Examples
    --------
    >>> family_of("ntk_toolkit.checks.dynamics.initialization")
    'dynamics'
    """
    prefix = package + "."
    if not module.startswith(prefix):
        return None
    family = module[len(prefix):].split(".")[0]
    return None if family.startswith("_") or family in NOT_FAMILIES else family


def register(name: str, *, claim: str, reference: str, faults=(), plot=None, family: str | None = None):
    """Decorator registering ``func(profile, seed, fault) -> CheckResult`` as the check ``<family>.<name>``.

    Parameters
    ----------
    name : str
        The claim's short name (no dot), e.g. ``"closed-form"``.
    claim, reference : str
        The claim in one sentence and where it is stated (``docs/theory.md`` …).
    faults : tuple of str
        Deliberate errors the check can inject into its prediction (each must make it fail).
    plot : callable, optional
        ``plot(result) -> [(stem, figure), ...]``.
    family : str, optional
        Only for checks defined outside this package (e.g. in a test). Inside
        it, the family is the module's: ``checks/kernel.py`` registers
        ``kernel.*`` checks, ``checks/cs/limit.py`` registers ``cs.*`` checks.

    Raises
    ------
    ValueError
        If ``name`` contains a dot, if ``family`` disagrees with the defining
        module's family (or is missing outside the package), or if the check
        is already registered.

    Examples
    --------
    A check defined outside the package names its family; the example
    removes it from the registry again:

    >>> from ntk_toolkit.checks import get_check, register
    >>> from ntk_toolkit.checks._base import _REGISTRY, result
    >>> def answer(profile, seed, fault=None):  # pass iff the answer is 42
    ...     value = 43 if fault == "off-by-one" else 42
    ...     return result(predicted={"answer": 42}, measured={"answer": value},
    ...                   criterion={"text": "equal"}, passed=value == 42)
    >>> try:
    ...     _ = register("answer", family="example", claim="The answer is 42.",
    ...                  reference="docs/theory.md §0", faults=("off-by-one",))(answer)
    ...     check = get_check("example.answer")
    ...     print(check.name, check.run("tiny").verdict, check.run("tiny", fault="off-by-one").verdict)
    ... finally:
    ...     _ = _REGISTRY.pop("example.answer", None)
    example.answer PASS FAIL
    """
    if not isinstance(name, str) or not name or "." in name:
        raise ValueError(f"name must be the claim's short name without a dot (the family is added), got {name!r}")

    def deco(func):
        own = family_of(func.__module__)
        if own is not None and family not in (None, own):
            raise ValueError(f"check {name!r} is defined in {func.__module__}, whose family is {own!r}; "
                             f"got family={family!r} (leave it out)")
        fam = own or family
        if not fam:
            raise ValueError(f"check {name!r} is defined outside {__package__} ({func.__module__}): pass family=")
        full = f"{fam}.{name}"
        if full in _REGISTRY:
            raise ValueError(f"check {full!r} is registered twice")
        _REGISTRY[full] = Check(name=full, family=fam, claim=claim, reference=reference,
                                func=func, plot=plot, faults=tuple(faults))
        return func

    return deco


def discover(package: str = __package__) -> list[str]:
    """Import every family of checks in ``package`` and return the families in report order.

    A family is a module or subpackage of ``package`` whose name does not start
    with ``_`` (and is not in :data:`NOT_FAMILIES`); the public modules of a
    family subpackage are imported too (after its ``__init__``). Families are
    ordered by their module-level ``REPORT_ORDER`` (default
    :data:`DEFAULT_REPORT_ORDER`), then by name; a family's ``ALIASES`` are
    further names under which :func:`select_checks` selects it.

    Parameters
    ----------
    package : str
        Dotted name of the checks package.

    Returns
    -------
    list of str
    """
    pkg = importlib.import_module(package)
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name.startswith("_") or info.name in NOT_FAMILIES:
            continue
        mod = importlib.import_module(f"{package}.{info.name}")
        if info.ispkg:
            for sub in pkgutil.iter_modules(mod.__path__):
                if not sub.name.startswith("_"):
                    importlib.import_module(f"{mod.__name__}.{sub.name}")
        rank = (getattr(mod, "REPORT_ORDER", DEFAULT_REPORT_ORDER), info.name)
        found.append(rank)
        if package == __package__:
            _FAMILY_RANK[info.name] = rank
            _FAMILY_ALIASES[info.name] = tuple(getattr(mod, "ALIASES", ()))
    return [name for _, name in sorted(found)]


def _load_all() -> None:
    discover(__package__)


def _report_key(check: Check) -> tuple:
    return _FAMILY_RANK.get(check.family, (float("inf"), ""))


def all_checks() -> list[Check]:
    """Every registered check in report order: by family (kernel, dynamics, denoising, cs, …), then
    in registration order within the family.

    Returns
    -------
    list of Check

    Examples
    --------
    >>> from ntk_toolkit.checks import all_checks
    >>> checks = all_checks()
    >>> list(dict.fromkeys(c.family for c in checks))
    ['kernel', 'dynamics', 'denoising', 'cs', 'image', 'symbolic', 'deep']
    >>> checks[0].name
    'kernel.closed-form'
    """
    _load_all()
    return sorted(_REGISTRY.values(), key=_report_key)


def get_check(name: str) -> Check:
    """The check registered as ``name`` (e.g. ``"kernel.closed-form"``).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.

    Examples
    --------
    >>> from ntk_toolkit.checks import get_check
    >>> get_check("kernel.trig-basis").reference
    'docs/theory.md §2.3; claim [3]'
    >>> get_check("kernel.no-such-claim")
    Traceback (most recent call last):
        ...
    ValueError: no check named 'kernel.no-such-claim'; known: kernel.closed-form, kernel.trig-basis, ...
    """
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"no check named {name!r}; known: {', '.join(c.name for c in all_checks())}")
    return _REGISTRY[name]


def _word_start(pattern: str, name: str) -> bool:
    """Whether ``pattern`` occurs in ``name`` at its start or right after a ``.`` or ``-``."""
    return re.search(r"(?:^|[.\-])" + re.escape(pattern), name) is not None


def select_checks(pattern: str | None = None) -> list[Check]:
    """Checks whose name matches the glob ``pattern`` (or contains it at the start of a word: after
    the start, a ``.`` or a ``-``, so ``cs`` selects ``cs.*`` but not ``dynamics.*``), or whose
    family (or one of its aliases) matches it.

    ``pattern`` may list several patterns separated by commas.

    Returns
    -------
    list of Check
        In report order; all checks when ``pattern`` is empty.

    Raises
    ------
    ValueError
        If nothing matches.

    Examples
    --------
    >>> from ntk_toolkit.checks import select_checks
    >>> [c.name for c in select_checks("kernel.trig*,rank-p")]
    ['kernel.trig-basis', 'cs.rank-p-exact']
    >>> len(select_checks("cs")) == len(select_checks("cs.*"))
    True
    >>> [c.name for c in select_checks("denoising")]
    ['denoising.early-stopping-curve', 'denoising.oracle', 'denoising.three-term-bound']
    """
    checks = all_checks()
    if not pattern:
        return checks
    pats = [p.strip() for p in pattern.split(",") if p.strip()]

    def families(c):
        return (c.family, *_FAMILY_ALIASES.get(c.family, ()))

    chosen = [c for c in checks
              if any(fnmatch.fnmatch(c.name, p) or _word_start(p, c.name)
                     or any(fnmatch.fnmatch(f, p) for f in families(c))
                     for p in pats)]
    if not chosen:
        raise ValueError(f"--only {pattern!r} matches no check; known: {', '.join(c.name for c in checks)}")
    return chosen


def sizes(table: dict, profile: str) -> dict:
    """The parameters of a check for a profile (``tiny`` is used by the tests)."""
    if profile not in table:
        raise ValueError(f"profile must be one of {tuple(table)}, got {profile!r}")
    return dict(table[profile])


def result(predicted: dict, measured: dict, criterion: dict, passed: bool, data: dict | None = None) -> CheckResult:
    """Build a :class:`CheckResult`; the registry fills in name, claim and timing."""
    return CheckResult(name="", claim="", reference="", predicted=predicted, measured=measured,
                       criterion=criterion, passed=bool(passed), data=data or {})
