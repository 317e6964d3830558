"""The papers' image experiments as library functions: denoising by early stopping, fitting an
image vs noise, and inpainting — each run on the network next to its prediction from ``Σ``.

* :func:`denoise_image` — gradient descent on a noisy image ``y = x + z``: the PSNR curve
  against the clean image, its linearized prediction ``f_τ = y − (I − ηΣ)^τ (y − G(C_0))``,
  and the best early-stopping time (``docs/theory.md`` §4.1–§4.2; P1 Fig. 1–2).
* :func:`fit_image_vs_noise` — the image and white noise of the same norm fitted
  separately: iterations to a relative residual ``δ``, predicted and actual
  (``docs/theory.md`` §4.1, claim [8]; P1 Fig. 1, 4, 10).
* :func:`inpaint_image` — recovery from a random pixel mask (or any measurement operator):
  gradient descent run to convergence against the smoothest interpolant
  ``x̂ = Σ Aᵀ(AΣAᵀ)⁻¹ y`` and the recovery law (``docs/theory.md`` §5; P2 Fig. 1).

Each returns a frozen result with numpy arrays and ``to_dict()``; with ``diagnostics=True`` it
also says whether the run stayed in the linear regime (``regime``: :func:`ntk_toolkit.linear_regime`
of the regime diagnostics taken at :data:`DIAGNOSTICS_AT` geometrically spaced iterations); the figures are
:func:`ntk_toolkit.plotting.plot_denoising`, :func:`~ntk_toolkit.plotting.plot_fit_image_vs_noise`
and :func:`~ntk_toolkit.plotting.plot_inpainting`.

Common set-up. The image is an ``(H, W)`` array (values in ``[0, 1]``; PSNR uses the peak 1,
as :func:`ntk_toolkit.images.psnr`), flattened row-major to the signal of the generator, whose
operator must be a 2-D convolution on the same grid (:class:`~ntk_toolkit.CircularConv2D`).
The network starts from the **mirrored** initialisation ``gen.init(symmetric=True)``, so
``G(C_0) = 0`` (up to rounding) and the initial-output term of §4.2 vanishes whatever ``ω``.
``G`` is positively homogeneous of degree 1 in ``C``, so training from ``ω C'_0`` on ``y`` is
training from ``C'_0`` on ``y/ω`` with the same ``η``: a larger ``ω`` makes the target small
against the weights and keeps the activation pattern nearly fixed (the lazy regime the linear
model describes). The default ``ω = 16`` puts an image in ``[0, 1]`` (rms ≈ 0.5) at
rms ≈ 1/32 on that scale, where the 1-D check ``dynamics.structure-vs-noise`` measured the
network to follow the linear model; what remains is the finite-width error ``O(1/√k)``
(``J(C_0) J(C_0)ᵀ`` vs ``Σ``), which no choice of ``ω`` removes.
"""

from __future__ import annotations

from ._setup import DEFAULT_OMEGA, DIAGNOSTICS_AT
from .denoising import ImageDenoising, ImageVsNoiseFit, denoise_image, fit_image_vs_noise
from .inpainting import ImageInpainting, inpaint_image

__all__ = ["ImageDenoising", "denoise_image", "ImageVsNoiseFit", "fit_image_vs_noise", "ImageInpainting",
           "inpaint_image", "DEFAULT_OMEGA", "DIAGNOSTICS_AT"]
