"""What the image experiments share: input checks, PSNR of a batch, the kernel of the prediction."""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_positive
from ..dynamics import max_step_size
from ..generator import is_generator
from ..spectrum import as_spectrum

#: Default ``ω`` of the initial weights (the lazy regime for images in [0, 1]; see the package notes).
DEFAULT_OMEGA = 16.0

#: Geometrically spaced iterations at which ``diagnostics=True`` takes the regime diagnostics
#: (independently of the recorded outputs: ``gradient_descent(..., diagnostics_at=DIAGNOSTICS_AT)``).
DIAGNOSTICS_AT = 20


def check_diagnostics(diagnostics, tol):
    """Validated ``(diagnostics, tol)`` of an image experiment: ``False`` or a method, and ``tol > 0``."""
    if isinstance(diagnostics, (bool, np.bool_)):
        diagnostics = bool(diagnostics)
    elif not (isinstance(diagnostics, str) and diagnostics in ("auto", "dense", "matrix-free")):
        raise ValueError(f"diagnostics must be True, False, 'auto', 'dense' or 'matrix-free', got {diagnostics!r}")
    return diagnostics, check_positive("tol", tol)


def regime_of(trajectory, tol: float):
    """:func:`ntk_toolkit.linear_regime` of a run with diagnostics, ``None`` for a run without."""
    if trajectory.linearization_gap is None:
        return None
    from ..regime import linear_regime

    return linear_regime(trajectory, tol=tol)


def regime_dict(verdict) -> dict:
    """The ``regime`` and ``diagnostics`` entries of a result's ``to_dict()`` (empty without diagnostics)."""
    return {} if verdict is None else {"regime": verdict.to_dict(), "diagnostics": verdict.diagnostics_dict()}


def check_setup(gen, image, omega, eta, A=None):
    """Validated ``(x, shape, omega, eta)``: the image flat, its grid matching the generator's."""
    if not is_generator(gen):
        raise TypeError(f"gen must be a generator (e.g. TwoLayerGenerator(CircularConv2D(filter, (H, W)), k)), "
                        f"got {type(gen).__name__}")
    img = as_float_array("image", image)
    if img.ndim != 2:
        raise ValueError(f"image must be a gray image of shape (H, W), got shape {img.shape}")
    grid = getattr(getattr(gen, "operator", None), "grid_shape", None)
    if grid is not None and tuple(grid) != img.shape:
        raise ValueError(f"image has shape {img.shape} but the generator's operator acts on signals of shape "
                         f"{tuple(grid)}; build it with CircularConv2D(filter, {img.shape})")
    if grid is None and gen.n != img.size:
        raise ValueError(f"image has {img.size} pixels (shape {img.shape}) but the generator has n={gen.n}")
    omega = check_positive("omega", omega)
    eta = max_step_size(gen, A) if eta is None else check_positive("eta", eta)
    return img.reshape(-1), img.shape, omega, eta


def psnr_from_mse(mse):
    """``10 log10(1/MSE)`` (peak 1), ``inf`` where the MSE is 0: :func:`ntk_toolkit.images.psnr` of a batch."""
    mse = np.asarray(mse, dtype=float)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(1.0 / mse)


def psnr_rows(outputs, x) -> np.ndarray:
    """PSNR of each row of ``outputs`` (or of one vector) against ``x``, shape ``(R,)``."""
    return psnr_from_mse(np.mean((np.atleast_2d(outputs) - x[None, :]) ** 2, axis=1))


def channels(gen):
    """``gen.k``, or ``None`` for a generator without channels."""
    return int(gen.k) if hasattr(gen, "k") else None


def prediction_spectrum(gen, kernel, n: int):
    """Spectrum of the prediction's kernel (``Σ`` of ``gen`` by default), checked against ``n`` pixels."""
    spec = as_spectrum(gen if kernel is None else kernel)
    if spec.n != n:
        raise ValueError(f"kernel has size n={spec.n}, the image has {n} pixels")
    return spec
