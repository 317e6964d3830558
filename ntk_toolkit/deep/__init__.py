"""Deep generators: the deep decoder and multi-layer convolutional generators (``docs/theory.md`` §2.7, §6).

* :class:`DeepDecoder` and :class:`MultiLayerConvGenerator` are generators of
  the :class:`~ntk_toolkit.generator.Generator` protocol, with hand-derived
  ``forward``, ``jvp``, ``vjp`` and ``jacobian`` on a flat parameter vector;
* :func:`upsample` is ``torch.nn.Upsample(scale_factor, mode, align_corners=False)``;
* :func:`jacobian_spectrum`, :func:`trig_overlap`, :func:`decay_rate` and
  :func:`subspace_drift` describe the Jacobian's leading singular subspace;
* :func:`fit` trains a network by gradient descent or Adam;
* :mod:`ntk_toolkit.deep.experiments` puts the spectrum before and after training in one result
  (``ntk-toolkit deep-spectrum``).

Imported on first access (``ntk_toolkit.deep``), never by ``import ntk_toolkit``.
"""

from __future__ import annotations

from .model import DeepDecoder
from .multilayer import MultiLayerConvGenerator
from .spectra import DecayFit, JacobianSpectrum, decay_rate, jacobian_spectrum, subspace_drift, trig_overlap
from .training import FitTrajectory, fit
from .upsampling import upsample

__all__ = [
    "DecayFit",
    "DeepDecoder",
    "FitTrajectory",
    "JacobianSpectrum",
    "MultiLayerConvGenerator",
    "decay_rate",
    "fit",
    "jacobian_spectrum",
    "subspace_drift",
    "trig_overlap",
    "upsample",
]
