"""Property-based testing of the dynamics, for users' own tests.

Hypothesis strategies (:mod:`ntk_toolkit.testing.strategies`) that draw the
objects of the toolkit with bounded sizes and good shrinking, and assertion
helpers (:mod:`ntk_toolkit.testing.assertions`) that say what differed and
where. See the guide page "Writing property-based tests of the dynamics".

Hypothesis is part of the ``test`` extra (``pip install "ntk_toolkit[test]"``);
importing this package without it raises ``ImportError`` saying so. Importing
:mod:`ntk_toolkit` itself never imports hypothesis.

Examples
--------
>>> from hypothesis import given, settings
>>> from ntk_toolkit.testing import assert_psd, generators
>>> import ntk_toolkit as nt
>>> @settings(max_examples=5, deadline=None)
... @given(generators(max_n=16))
... def test_kernel_is_psd(gen):
...     assert_psd(nt.empirical_kernel(gen, gen.init(seed=0)))
>>> test_kernel_is_psd()
"""

from __future__ import annotations

try:
    import hypothesis  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without hypothesis
    raise ImportError(
        "ntk_toolkit.testing needs hypothesis, which is part of the 'test' extra: "
        "pip install 'ntk_toolkit[test]' (or pip install hypothesis)"
    ) from exc

from .assertions import assert_circulant, assert_linearized_close, assert_monotone_residual, assert_psd
from .strategies import Problem, filters, generators, operators, problems, signals, step_sizes

__all__ = [
    "Problem",
    "filters",
    "operators",
    "generators",
    "signals",
    "step_sizes",
    "problems",
    "assert_linearized_close",
    "assert_monotone_residual",
    "assert_circulant",
    "assert_psd",
]
