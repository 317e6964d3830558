"""Benchmarks of ntk_toolkit against naive references and other libraries.

Run from the command line with ``ntk-toolkit bench`` (``--quick`` for small
sizes, ``--peers`` to include PyTorch and JAX, ``--json`` for machine-readable
output), or from Python::

    from ntk_toolkit.bench import run_suite
    report = run_suite(quick=True)
    print(report.to_markdown())

Every measurement compares ntk_toolkit with a reference measured in the same
run: in-repo naive code (the explicit ``J Jᵀ``, a dense-``U`` NumPy
gradient-descent loop, a full FFT; for images a sparse-``U`` loop and a full
2-D FFT), a memory-bandwidth bound, or, with ``peers=True``, independent
implementations in PyTorch (``torch.func.jacrev``, autograd loops with circular
``conv1d`` / ``conv2d``) and JAX (``jax.jacrev``, jitted loops). Peers are
checked to agree with ntk_toolkit to 1e-10 (float64) before they are timed,
and run in their own processes with the same thread count.

The peers are optional: ``pip install "ntk_toolkit[peers]"`` installs torch
and jax. Use the CPU build of PyTorch (e.g. ``pip install torch --index-url
https://download.pytorch.org/whl/cpu`` first); the default wheel on Linux
pulls several GB of CUDA libraries that the benchmark does not use.
"""

from __future__ import annotations

from .config import FULL, PEERS, QUICK, SECTIONS, Config
from .report import BenchReport, Row, format_table
from .suite import run_suite

__all__ = ["BenchReport", "Config", "FULL", "PEERS", "QUICK", "Row", "SECTIONS", "format_table", "run_suite"]
