"""ntk_toolkit: kernels, spectra and gradient-descent dynamics of two-layer
convolutional generators with fixed interpolating filters.

``G(C) = relu(U C) v`` with a fixed circular convolution ``U``, trainable
``C`` of shape ``(n, k)`` and fixed output weights ``v = ±1/√k``
(``docs/theory.md``).
"""

from __future__ import annotations

from . import bases, filters, measurements, operators, signals
from ._memory import memory_budget, set_memory_budget
from .activations import Activation
from .convolution2d import CircularConv2D
from .dynamics import (
    Convergence,
    DivergenceError,
    Trajectory,
    gradient_descent,
    max_step_size,
    run_to_convergence,
)
from .experiments import RecoveryCurve, recovery_curve
from .filters import Filter
from .generator import Generator, TwoLayerGenerator
from .kernels import empirical_kernel, expected_kernel, expected_kernel_first_row
from .matfree import TopEigenpairs, kernel_operator, top_eigenpairs
from .operators import CircularConv, DenseOperator, Operator
from .prediction import LinearizedPrediction, gradient_flow, linearized
from .recovery import (
    RecoveryLaw,
    effective_ridge,
    l1_recovery,
    min_l2_interpolant,
    oracle_projection,
    predicted_recovery_error,
    recovery_law,
    smoothest_interpolant,
)
from .regime import RegimeVerdict, WidthEstimate, linear_regime, width_needed
from .spectrum import Spectrum, as_spectrum, circulant_spectrum, frequency_energy, spectrum, trig_basis
from .stability import StepLimit, StepSizeWarning, step_limit

__version__ = "0.1.0"

__all__ = [
    "Activation",
    "Generator",
    "Operator",
    "as_spectrum",
    "bases",
    "CircularConv",
    "CircularConv2D",
    "Convergence",
    "RecoveryCurve",
    "RecoveryLaw",
    "effective_ridge",
    "l1_recovery",
    "min_l2_interpolant",
    "oracle_projection",
    "predicted_recovery_error",
    "recovery_curve",
    "recovery_law",
    "run_to_convergence",
    "smoothest_interpolant",
    "DenseOperator",
    "DivergenceError",
    "Filter",
    "LinearizedPrediction",
    "Spectrum",
    "Trajectory",
    "TwoLayerGenerator",
    "__version__",
    "circulant_spectrum",
    "empirical_kernel",
    "expected_kernel",
    "expected_kernel_first_row",
    "kernel_operator",
    "TopEigenpairs",
    "top_eigenpairs",
    "filters",
    "frequency_energy",
    "deep",
    "images",
    "image_experiments",
    "gradient_descent",
    "gradient_flow",
    "linearized",
    "linear_regime",
    "width_needed",
    "RegimeVerdict",
    "WidthEstimate",
    "StepLimit",
    "StepSizeWarning",
    "step_limit",
    "max_step_size",
    "memory_budget",
    "measurements",
    "operators",
    "signals",
    "symbolic",
    "set_memory_budget",
    "spectrum",
    "trig_basis",
]


#: Submodules imported on first access (``ntk_toolkit.images``, ``ntk_toolkit.deep``), so that importing the
#: toolkit does not load the image workflows, the deep generators, the sweeps, nor sympy (``ntk_toolkit.symbolic``).
_LAZY_SUBMODULES = ("deep", "images", "image_experiments", "symbolic", "sweep")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
