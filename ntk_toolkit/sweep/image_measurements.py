"""Image sweep measurements built on :mod:`ntk_toolkit.image_experiments`: image vs noise fit time,
denoising by early stopping and inpainting, each returning the experiment's numbers as a flat dict.

``image`` is a name of :func:`ntk_toolkit.images.available` (scikit-image's data), ``size`` the
side ``S`` of the ``S x S`` center crop, ``filter`` a 2-D filter specification
(``"triangle2d:2"``, ``"bilinear"``, …). ``ω`` defaults to the image experiments' lazy-regime
value :data:`ntk_toolkit.image_experiments.DEFAULT_OMEGA`.
"""

from __future__ import annotations

from ..image_experiments import DEFAULT_OMEGA
from .registry import Param, register_measurement

__all__ = ["image_fit_time", "image_denoising", "image_inpainting"]

_IMAGE = Param("str", "camera", doc="image name (ntk_toolkit.images.available())")
_SIZE = Param("int", 32, doc="side S of the S x S image")
_FILTER2D = Param("str", "triangle2d:2", doc="2-D filter specification")
_K = Param("int", 256, doc="number of channels (even)")
_OMEGA = Param("float", DEFAULT_OMEGA, doc="initialisation scale ω")


def _setup(image: str, size: int, filter: str, k: int):
    from ..convolution2d import CircularConv2D
    from ..filters import from_spec
    from ..generator import TwoLayerGenerator
    from ..images import load

    return TwoLayerGenerator(CircularConv2D(from_spec(filter), (size, size)), k), load(image, size=(size, size))


@register_measurement("image_fit_time", {
    "image": _IMAGE, "size": _SIZE, "filter": _FILTER2D, "k": _K, "omega": _OMEGA,
    "noise": Param("str", "gaussian", ("gaussian", "uniform"), doc="kind of the noise image"),
    "delta": Param("float", 0.1, doc="fit when ‖r_τ‖ <= delta ‖y‖"),
    "steps": Param("int", 2000, doc="cap on the iterations of each run"),
})
def image_fit_time(*, image: str = "camera", size: int = 32, filter: str = "triangle2d:2", k: int = 256,
                   omega: float = DEFAULT_OMEGA, noise: str = "gaussian", delta: float = 0.1, steps: int = 2000,
                   seed: int) -> dict:
    """Iterations to fit an image and noise of the same norm
    (:func:`~ntk_toolkit.image_experiments.fit_image_vs_noise`).

    ``docs/theory.md`` §4.1, claim [8]; P1 Fig. 4/10 for the two-layer model. Returns
    ``fit_time_image``, ``fit_time_noise``, ``predicted_fit_time_image``,
    ``predicted_fit_time_noise``, ``ratio``, ``predicted_ratio`` (``inf`` when not reached).

    Examples
    --------
    >>> r = image_fit_time(size=8, k=16, steps=300, filter="bilinear", seed=0)
    >>> r["fit_time_noise"] > r["fit_time_image"]
    True
    """
    from ..image_experiments import fit_image_vs_noise

    gen, x = _setup(image, size, filter, k)
    res = fit_image_vs_noise(gen, x, steps, seed=seed, delta=delta, noise=noise, omega=omega)
    return {"fit_time_image": res.fit_time_image, "fit_time_noise": res.fit_time_noise,
            "predicted_fit_time_image": res.predicted_fit_time_image,
            "predicted_fit_time_noise": res.predicted_fit_time_noise,
            "ratio": res.ratio, "predicted_ratio": res.predicted_ratio, "eta": res.eta}


@register_measurement("image_denoising", {
    "image": _IMAGE, "size": _SIZE, "filter": _FILTER2D, "k": _K, "omega": _OMEGA,
    "sigma": Param("float", 25 / 255, doc="noise standard deviation on the [0, 1] scale"),
    "clip": Param("bool", False, doc="clip the noisy image to [0, 1]"),
    "steps": Param("int", 1000, doc="iterations of gradient descent"),
})
def image_denoising(*, image: str = "camera", size: int = 32, filter: str = "triangle2d:2", k: int = 256,
                    omega: float = DEFAULT_OMEGA, sigma: float = 25 / 255, clip: bool = False, steps: int = 1000,
                    seed: int) -> dict:
    """Denoising by early-stopped gradient descent (:func:`~ntk_toolkit.image_experiments.denoise_image`).

    ``docs/theory.md`` §4.1–§4.2; P1 Fig. 1–2 and Table 1 for the two-layer model. Returns
    ``noisy_psnr``, ``best_psnr``, ``best_iteration``, ``predicted_best_psnr``,
    ``predicted_best_iteration``, ``psnr_at_predicted_best``, ``final_psnr`` (dB).

    Examples
    --------
    >>> r = image_denoising(size=8, k=16, steps=20, filter="bilinear", sigma=0.2, seed=0)
    >>> r["best_psnr"] >= r["final_psnr"]
    True
    """
    from ..image_experiments import denoise_image

    gen, x = _setup(image, size, filter, k)
    res = denoise_image(gen, x, sigma, steps, seed=seed, omega=omega, clip=clip)
    return {"noisy_psnr": res.noisy_psnr, "best_psnr": res.best_psnr, "best_iteration": res.best_iteration,
            "predicted_best_psnr": res.predicted_best_psnr, "predicted_best_iteration": res.predicted_best_iteration,
            "psnr_at_predicted_best": res.psnr_at_predicted_best, "final_psnr": res.final_psnr, "eta": res.eta}


@register_measurement("image_inpainting", {
    "image": _IMAGE, "size": _SIZE, "filter": _FILTER2D, "k": _K, "omega": _OMEGA,
    "keep": Param("float", 1 / 3, doc="probability that a pixel is observed"),
    "max_steps": Param("int", 5000, doc="cap on the iterations"),
})
def image_inpainting(*, image: str = "camera", size: int = 32, filter: str = "triangle2d:2", k: int = 256,
                     omega: float = DEFAULT_OMEGA, keep: float = 1 / 3, max_steps: int = 5000, seed: int) -> dict:
    """Inpainting from a random pixel mask (:func:`~ntk_toolkit.image_experiments.inpaint_image`).

    ``docs/theory.md`` §5; P2 Fig. 1 for the two-layer model. Returns the result's scalar numbers
    (PSNR and relative errors of the network, the smoothest interpolant and the references).

    Examples
    --------
    >>> r = image_inpainting(size=8, k=16, max_steps=200, filter="bilinear", seed=0)
    >>> "steps" in r
    True
    """
    from ..image_experiments import inpaint_image

    gen, x = _setup(image, size, filter, k)
    res = inpaint_image(gen, x, keep, seed=seed, omega=omega, max_steps=max_steps, gaussian_reference=False)
    out = {key: float(getattr(res, key)) for key in _INPAINT_KEYS}
    out.update(m=int(res.m), steps=int(res.steps), converged=bool(res.converged), eta=float(res.eta))
    return out


_INPAINT_KEYS = ("psnr_network", "psnr_predicted", "psnr_interpolant", "psnr_min_l2", "error_network",
                 "error_predicted", "error_interpolant", "error_min_l2", "distance_to_interpolant",
                 "distance_to_prediction", "law_error")
