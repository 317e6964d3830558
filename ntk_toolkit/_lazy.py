"""Lazy access to SciPy submodules, so that ``import ntk_toolkit`` stays fast.

Transforms of vectors and of small batches (filter responses, spectra,
eigenbasis projections) use ``numpy.fft`` instead, so that the first call of
``gradient_descent``, ``spectrum`` or ``linearized`` does not import SciPy;
the wide ``(n, k)`` transforms of the FFT convolution use ``scipy.fft`` with
its ``workers``.
"""


def fft():
    import scipy.fft

    return scipy.fft


def linalg():
    import scipy.linalg

    return scipy.linalg


def optimize():
    import scipy.optimize

    return scipy.optimize


def blas():
    from scipy.linalg import blas as _blas

    return _blas
