"""The registry of sweep measurements: named functions of typed parameters and a seed that return a
flat dict of numbers.

A measurement is a plain function ``f(*, <parameters>, seed) -> dict[str, number]``. The built-in
ones (:mod:`ntk_toolkit.sweep.measurements`, :mod:`ntk_toolkit.sweep.image_measurements`) are
registered with :func:`register_measurement`, which records each parameter's type, default and
allowed values, and a code version that is bumped whenever the function's numbers change. Any
importable function can be used by its path ``"package.module:function"``: its parameters are
read from its signature (type from the annotation, default from the default) and its code
version is a hash of its source.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import math
import numbers
from dataclasses import dataclass, field

__all__ = ["Param", "Measurement", "MEASUREMENTS", "register_measurement", "get_measurement", "check_metrics"]

_REQUIRED = object()

#: Parameter kinds and the Python values each accepts (a float parameter accepts integers).
KINDS = ("int", "float", "str", "bool", "any")

#: The modules whose import registers the built-in measurements.
_BUILTIN_MODULES = ("ntk_toolkit.sweep.measurements", "ntk_toolkit.sweep.image_measurements")


@dataclass(frozen=True)
class Param:
    """A measurement parameter: its kind, default (none: required) and allowed values.

    Examples
    --------
    >>> Param("int", 64).check("n", 32)
    32
    >>> Param("float", 1.0).check("omega", 2)
    2.0
    >>> Param("str", "smooth", choices=("smooth", "noise")).check("signal", "step")
    Traceback (most recent call last):
    ...
    ValueError: signal must be one of 'smooth', 'noise', got 'step'
    """

    kind: str
    default: object = _REQUIRED
    choices: tuple | None = None
    doc: str = ""

    @property
    def required(self) -> bool:
        """True if the parameter has no default."""
        return self.default is _REQUIRED

    def check(self, name: str, value):
        """``value`` normalised to the kind (ints to float for a float parameter), or a ValueError/TypeError."""
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be true or false, got {value!r}")
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise TypeError(f"{name} must be an integer, got {value!r}")
            value = int(value)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a number, got {value!r}")
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{name} must be finite, got {value!r}")
        elif kind == "str":
            if not isinstance(value, str):
                raise TypeError(f"{name} must be a string, got {value!r}")
        elif not isinstance(value, (bool, int, float, str)):
            raise TypeError(f"{name} must be a number, a string or a boolean, got {value!r}")
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"{name} must be one of {', '.join(map(repr, self.choices))}, got {value!r}")
        return value


@dataclass(frozen=True)
class Measurement:
    """A named measurement: the function, its parameters and its code version.

    Examples
    --------
    >>> m = get_measurement("spectrum_summary")
    >>> list(m.params)[:2], m.code_version
    (['filter', 'n'], 'spectrum_summary/1')
    >>> m.with_defaults({"filter": "triangle:2", "n": 16})["keep"]
    0
    """

    name: str
    func: object = field(repr=False)
    params: dict = field(repr=False)
    code_version: str = ""
    doc: str = field(default="", repr=False)

    def check_value(self, name: str, value):
        """The value of parameter ``name`` normalised, or an error naming it."""
        return self.params[name].check(name, value)

    def with_defaults(self, given: dict) -> dict:
        """Every parameter (in declaration order), given values over defaults."""
        return {p: given[p] if p in given else par.default for p, par in self.params.items()
                if p in given or not par.required}

    def __call__(self, params: dict, seed: int) -> dict:
        """Run the measurement on one point and check its result (:func:`check_metrics`)."""
        return check_metrics(self.name, self.func(**params, seed=seed))


MEASUREMENTS: dict[str, Measurement] = {}
_loaded = False


def register_measurement(name: str, params: dict, version: int | str = 1):
    """Decorator registering ``f(*, <params>, seed) -> dict`` as measurement ``name``.

    Parameters
    ----------
    name : str
        The name specs use (``[sweep] measurement = name``).
    params : dict of str -> Param
        Every parameter but ``seed``, in the order they are listed.
    version : int or str, default 1
        Bumped whenever the function's numbers change; the code version is ``name/version``.

    Examples
    --------
    >>> @register_measurement("doc_square", {"x": Param("float", 1.0)})
    ... def doc_square(*, x, seed):
    ...     return {"square": x * x}
    >>> get_measurement("doc_square")({"x": 3.0}, seed=0)
    {'square': 9.0}
    >>> _ = MEASUREMENTS.pop("doc_square")
    """
    for p, par in params.items():
        if not isinstance(par, Param) or par.kind not in KINDS:
            raise TypeError(f"params[{p!r}] must be a Param of kind {', '.join(KINDS)}, got {par!r}")

    def deco(func):
        MEASUREMENTS[name] = Measurement(name, func, dict(params), f"{name}/{version}",
                                         inspect.getdoc(func) or "")
        return func

    return deco


def _load_builtins() -> None:
    global _loaded
    if not _loaded:
        for mod in _BUILTIN_MODULES:
            importlib.import_module(mod)
        _loaded = True


_ANNOTATIONS = {int: "int", float: "float", str: "str", bool: "bool", "int": "int", "float": "float",
                "str": "str", "bool": "bool"}


def _from_function(path: str) -> Measurement:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise ValueError(f"a custom measurement is 'package.module:function', got {path!r}")
    func = importlib.import_module(module)
    for part in attr.split("."):
        func = getattr(func, part)
    if not callable(func):
        raise TypeError(f"{path!r} is not a function")
    sig = inspect.signature(func)
    if "seed" not in sig.parameters:
        raise ValueError(f"custom measurement {path!r} must accept a 'seed' argument")
    params = {}
    for p in sig.parameters.values():
        if p.name == "seed":
            continue
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD, p.POSITIONAL_ONLY):
            raise ValueError(f"custom measurement {path!r}: parameter {p.name!r} must be a named parameter")
        kind = _ANNOTATIONS.get(p.annotation, "any")
        params[p.name] = Param(kind, _REQUIRED if p.default is p.empty else p.default)
    version = getattr(func, "__sweep_version__", None)
    if version is None:
        try:
            source = inspect.getsource(func)
        except (OSError, TypeError):
            source = path
        version = hashlib.sha256(source.encode()).hexdigest()[:12]
    return Measurement(path, func, params, f"{path}/{version}", inspect.getdoc(func) or "")


class UnknownMeasurementError(KeyError, ValueError):
    """An unknown measurement name: a ``KeyError`` (a lookup) that is also a ``ValueError`` (a bad argument)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def get_measurement(name: str) -> Measurement:
    """The measurement registered as ``name``, or imported from ``"package.module:function"``.

    Raises
    ------
    KeyError
        An unknown name (the message lists the registered ones); it is also a ``ValueError``.

    Examples
    --------
    >>> get_measurement("fit_time").name
    'fit_time'
    >>> get_measurement("os.path:join")
    Traceback (most recent call last):
    ...
    ValueError: custom measurement 'os.path:join' must accept a 'seed' argument
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a measurement name (a string), got {name!r}")
    _load_builtins()
    if name in MEASUREMENTS:
        return MEASUREMENTS[name]
    if ":" in name:
        return _from_function(name)
    raise UnknownMeasurementError(
        f"unknown measurement {name!r}: name must be one of the registered ({', '.join(sorted(MEASUREMENTS))}) "
        "or a custom one as 'package.module:function'")


def check_metrics(name: str, metrics) -> dict:
    """A measurement's result as a flat dict of str -> int/float, or a TypeError saying what is wrong.

    Numpy scalars become Python numbers; booleans become 0/1; NaN and ±inf are kept.

    Examples
    --------
    >>> import numpy as np
    >>> check_metrics("m", {"a": np.float64(1.5), "b": np.int64(2), "c": True})
    {'a': 1.5, 'b': 2, 'c': 1}
    """
    if not isinstance(metrics, dict):
        raise TypeError(f"measurement {name!r} must return a dict of numbers, got {type(metrics).__name__}")
    out = {}
    for key, value in metrics.items():
        if not isinstance(key, str):
            raise TypeError(f"measurement {name!r} returned a non-string key {key!r}")
        if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
            out[key] = int(bool(value))
        elif isinstance(value, numbers.Integral):
            out[key] = int(value)
        elif isinstance(value, numbers.Real):
            out[key] = float(value)
        else:
            raise TypeError(f"measurement {name!r} returned {key!r} = {value!r}; metrics must be numbers")
    return out
