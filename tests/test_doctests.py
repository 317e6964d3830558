"""Every public function and class shows a runnable example.

The examples themselves run as doctests with the rest of the suite
(``--doctest-modules`` in ``pyproject.toml``). This module checks that they
exist: a numpydoc ``Examples`` section with at least one ``>>>`` line, for each
function and class named in the ``__all__`` of a public module of the package.
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import sys
from pathlib import Path

import pytest

import ntk_toolkit

#: Not walked: the PyTorch and JAX peers of the benchmark suite (optional
#: dependencies) and the command line (documented by ``--help``).
NOT_WALKED = ("ntk_toolkit.bench.peers_", "ntk_toolkit.cli")


def _reraise(name: str) -> None:
    raise  # a subpackage that fails to import is an error, not a module to skip


def _public_modules():
    """``ntk_toolkit`` and its submodules, except private (``_``) ones and ``NOT_WALKED``."""
    yield ntk_toolkit
    for info in pkgutil.walk_packages(ntk_toolkit.__path__, "ntk_toolkit.", onerror=_reraise):
        if any(part.startswith("_") for part in info.name.split(".")) or info.name.startswith(NOT_WALKED):
            continue
        yield importlib.import_module(info.name)


def _public_objects():
    """``{"module.qualname": obj}`` for the functions and classes in the walked ``__all__`` lists."""
    found = {}
    for module in _public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isfunction(obj) or inspect.isclass(obj):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return found


def _sections(doc: str) -> dict[str, str]:
    """numpydoc sections of a docstring: heading -> body (the summary is under ``""``)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    sections, name, body = {}, "", []
    i = 0
    while i < len(lines):
        if (i + 1 < len(lines) and lines[i].strip() and set(lines[i + 1].strip()) == {"-"}
                and len(lines[i + 1].strip()) >= 3):
            sections[name] = "\n".join(body)
            name, body = lines[i].strip(), []
            i += 2
            continue
        body.append(lines[i])
        i += 1
    sections[name] = "\n".join(body)
    return sections


def _n_examples(obj) -> int:
    """Number of doctest examples (``>>>`` lines) in the ``Examples`` section of ``obj``'s own docstring."""
    text = _sections(obj.__doc__).get("Examples", "")
    return len(doctest.DocTestParser().get_examples(text))


def test_section_parser():
    """The checker itself: an Examples section is found, and only with a ``>>>`` line in it."""

    def with_example():
        """Summary.

        Parameters
        ----------
        x : int

        Examples
        --------
        >>> 1 + 1
        2
        """

    def example_elsewhere():
        """Summary.

        Notes
        -----
        >>> 1 + 1
        2

        Examples
        --------
        Prose only.
        """

    assert _n_examples(with_example) == 1
    assert _n_examples(example_elsewhere) == 0
    assert _n_examples(lambda: None) == 0


def test_walk_reaches_the_public_api():
    """The walk reaches modules across the package: the top level, the checks and the benchmarks.

    Guards against a walk that silently finds nothing (and so checks nothing),
    e.g. after a rename of ``NOT_WALKED`` entries or of the package layout.
    """
    modules = {obj.__module__ for obj in _public_objects().values()}
    expected = {"ntk_toolkit.recovery", "ntk_toolkit.dynamics", "ntk_toolkit.spectrum", "ntk_toolkit.kernels",
                "ntk_toolkit.checks._base", "ntk_toolkit.checks.runner", "ntk_toolkit.bench.report"}
    missing = sorted(expected - modules)
    assert not missing, f"the walk finds no public function or class defined in {missing}"


@pytest.mark.parametrize("name,obj", [
    pytest.param(name, obj, id=name) for name, obj in sorted(_public_objects().items())
])
def test_public_object_has_an_example(name, obj):
    assert _n_examples(obj) >= 1, (
        f"{name} has no 'Examples' section with a '>>>' line in its docstring; add a small, "
        "fast, seeded example that shows what it computes (it runs as a doctest)"
    )


def test_tests_and_doctests_share_one_copy_of_the_package():
    """Every loaded ``ntk_toolkit`` module comes from the directory of ``ntk_toolkit`` itself.

    With the package also installed in site-packages, a test importing one copy
    and a doctest the other would test different code (the repository-root
    ``conftest.py`` puts the source tree first).
    """
    pkg = Path(ntk_toolkit.__file__).resolve().parent
    stray = {
        name: mod.__file__
        for name, mod in list(sys.modules.items())
        if (name == "ntk_toolkit" or name.startswith("ntk_toolkit.")) and getattr(mod, "__file__", None)
        and pkg not in Path(mod.__file__).resolve().parents
    }
    assert not stray, f"ntk_toolkit modules loaded from outside {pkg}: {stray}"
