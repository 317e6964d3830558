"""The sections of the benchmark suite, one module each (``kernel``, ``gd``, ``spectrum``,
``images``, ``symbolic``, ``startup``).

Each section is a set of functions of the state of one run (``suite.Run``: the
configuration, the child-process launcher and the rows and notes collected so
far); :meth:`suite.Run.plan` lists them in the order they run.
"""

from __future__ import annotations

import inspect


def toolkit():
    """``ntk_toolkit``, imported when a section first runs."""
    import ntk_toolkit as nt

    return nt


def has_dtype_argument() -> bool:
    """Whether :func:`ntk_toolkit.gradient_descent` takes ``dtype=``."""
    return "dtype" in inspect.signature(toolkit().gradient_descent).parameters
