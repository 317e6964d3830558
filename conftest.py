"""Repository-wide pytest configuration: the test suite and the doctests of the package.

``pytest`` from the repository root runs ``tests/`` and, through
``--doctest-modules`` (``pyproject.toml``), the ``Examples`` sections of every
module of ``ntk_toolkit/``.

One copy of the package
    pytest imports this file with the repository root at the front of
    ``sys.path`` (the default ``prepend`` import mode; it is also put there below
    for the other modes), so ``import ntk_toolkit`` in a test and the modules the
    doctests are collected from resolve to the same files: the source tree, also
    when the package is installed non-editable in site-packages. Without this,
    the tests would import the installed copy and the doctests the source tree,
    and pytest would stop with ``ImportPathMismatchError``.

Optional dependencies
    Modules that need a dependency outside the ``test`` extra (the PyTorch and
    JAX peers of the benchmark suite) are collected only when it is installed.

Figures
    Doctests that draw use matplotlib's non-interactive Agg backend unless
    ``MPLBACKEND`` says otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("MPLBACKEND", "Agg")

#: Module (relative to this directory) -> the optional dependency it needs.
_OPTIONAL = {
    "ntk_toolkit/bench/peers_torch.py": "torch",
    "ntk_toolkit/bench/peers_jax.py": "jax",
}

collect_ignore = [path for path, dep in _OPTIONAL.items() if importlib.util.find_spec(dep) is None]
