"""OpenBLAS thread control (``ntk_toolkit._blas``) and its use by gradient descent."""

import threading

import numpy as np
import pytest

import ntk_toolkit as nt
from ntk_toolkit import _blas
from ntk_toolkit.filters import triangle
from ntk_toolkit.operators import CircularConv

needs_openblas = pytest.mark.skipif(not _blas.get_threads(), reason="NumPy is not linked to a bundled OpenBLAS")


@needs_openblas
def test_single_thread_sets_one_and_restores_nested():
    before = _blas.get_threads()
    _blas.set_threads(2)
    try:
        with _blas.single_thread():
            assert _blas.get_threads() == [1] * len(before)
            with _blas.single_thread():
                assert _blas.get_threads() == [1] * len(before)
            assert _blas.get_threads() == [1] * len(before)  # the outer block still holds
        assert _blas.get_threads() == [2] * len(before)
    finally:
        _blas.set_threads(before)


@needs_openblas
def test_single_thread_restores_after_an_exception():
    before = _blas.get_threads()
    _blas.set_threads(2)
    try:
        with pytest.raises(RuntimeError), _blas.single_thread():
            raise RuntimeError("boom")
        assert _blas.get_threads() == [2] * len(before)
    finally:
        _blas.set_threads(before)


@needs_openblas
def test_single_thread_from_two_python_threads_restores_once_both_left():
    before = _blas.get_threads()
    _blas.set_threads(2)
    inside = threading.Barrier(2)
    leave = threading.Event()
    seen = []

    def worker(first):
        with _blas.single_thread():
            inside.wait()
            seen.append(_blas.get_threads())
            if first:
                leave.wait(5)
        seen.append(("left", first, _blas.get_threads()))

    try:
        a = threading.Thread(target=worker, args=(True,))
        b = threading.Thread(target=worker, args=(False,))
        a.start(), b.start()
        b.join(5)
        assert _blas.get_threads() == [1] * len(before)  # a is still inside
        leave.set()
        a.join(5)
        assert _blas.get_threads() == [2] * len(before)
    finally:
        leave.set()
        _blas.set_threads(before)


def test_set_threads_rejects_bad_counts():
    n = len(_blas.get_threads())
    with pytest.raises(ValueError, match=r"n must"):
        _blas.set_threads([1] * (n + 1))
    if n:
        with pytest.raises(ValueError, match=r">= 1"):
            _blas.set_threads(0)


@needs_openblas
def test_gradient_descent_runs_blas_on_one_thread_and_restores(monkeypatch):
    """Compressive sensing: A x and Aᵀ r inside the loop run with OpenBLAS on one thread."""
    from ntk_toolkit import measurements

    before = _blas.get_threads()
    _blas.set_threads(2)
    counts = []
    apply = measurements.MatrixMeasurement.apply

    def spy(self, x):
        counts.append(_blas.get_threads())
        return apply(self, x)

    monkeypatch.setattr(measurements.MatrixMeasurement, "apply", spy)
    try:
        gen = nt.TwoLayerGenerator(CircularConv(triangle(5), n=32), k=16)
        rng = np.random.default_rng(1)
        A = rng.standard_normal((12, 32)) / np.sqrt(12)
        y = A @ np.sin(np.arange(32) / 3)
        nt.gradient_descent(gen, y, rng.standard_normal((32, 16)), nt.max_step_size(gen, A), 5, A=A)
        assert counts and all(c == [1] * len(before) for c in counts)
        assert _blas.get_threads() == [2] * len(before)
    finally:
        _blas.set_threads(before)
