"""Lazy access to SciPy submodules, so that ``import ntk_toolkit`` stays fast."""


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
