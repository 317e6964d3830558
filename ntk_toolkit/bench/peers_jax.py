"""The generator written independently in JAX (peer benchmark).

``G(C) = relu(U C) v`` with ``(U X)[i, :] = Σ_a u[a] X[(i − a + h) mod n, :]``
(``h = (L − 1)//2``, as in :class:`ntk_toolkit.operators.CircularConv`).
``relu`` is ``where(z > 0, z, 0)`` so that its derivative at 0 is 0, as in the
rest of the toolkit. Two ways to write the circular convolution (``form``):

``"roll"``
    ``C`` of shape ``(n, k)``, ``U C = Σ_a u[a] · roll(C, a − h)``: a sum of
    ``L`` shifted copies, which XLA fuses into one loop.
``"conv"``
    The ``k`` channels as a batch of signals (``Cᵀ``, shape ``(k, n)``),
    wrapped around by ``L − 1`` samples and convolved with
    ``lax.conv_general_dilated`` (flipped taps; XLA convolutions are
    cross-correlations). With jax 0.10 on CPU, the gradient of the ``roll``
    form is several times slower than this one (XLA's fusion recomputes the
    shifted copies), so the benchmark times both.

* :func:`kernel_fn` — ``J Jᵀ`` with ``J = jax.jacrev(G)``, jitted.
* :func:`make_gradient_descent` — a jitted ``lax.fori_loop`` of
  ``C ← C − η ∇L(C)`` with ``∇`` from ``jax.grad``.

Images (``H x W``, flattened row-major, as in :class:`ntk_toolkit.CircularConv2D`):
the ``k`` channels are a batch of one-channel images (``(k, 1, H, W)``),
wrapped around with ``jnp.pad(mode="wrap")`` and convolved with
``lax.conv_general_dilated`` and the taps flipped in both axes
(:func:`generator_2d`, :func:`make_gradient_descent_2d`).

Float64 (``jax_enable_x64``). Thread count: set ``XLA_FLAGS`` before the first
``import jax`` (the benchmark runs each peer in its own process).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["FORMS", "generator", "generator_2d", "kernel", "kernel_fn", "make_gradient_descent",
           "make_gradient_descent_2d", "version"]

FORMS = ("roll", "conv")


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    return jax, jnp


def version() -> str:
    """The installed jax version."""
    return _jax()[0].__version__


def _check_form(form: str) -> str:
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    return form


def generator(taps: np.ndarray, center: int, v: np.ndarray, form: str = "roll") -> Callable:
    """``G`` as a function of the weights, returning shape ``(n,)``.

    The weights are ``C`` of shape ``(n, k)`` for ``form="roll"`` and ``Cᵀ``
    of shape ``(k, n)`` for ``form="conv"``.
    """
    jax, jnp = _jax()
    form = _check_form(form)
    taps = np.asarray(taps, dtype=np.float64)
    u = [float(t) for t in taps]
    L, h = len(u), int(center)
    vj = jnp.asarray(np.asarray(v, dtype=np.float64))

    if form == "roll":
        def G(C):
            Z = u[0] * jnp.roll(C, -h, axis=0)
            for a in range(1, L):
                Z = Z + u[a] * jnp.roll(C, a - h, axis=0)
            return jnp.where(Z > 0, Z, 0.0) @ vj

        return G

    w = jnp.asarray(np.ascontiguousarray(taps[::-1])).reshape(1, 1, L)
    left = L - 1 - h

    def G(Ct):
        n = Ct.shape[1]
        X = jnp.concatenate([Ct[:, n - left:], Ct, Ct[:, :h]], axis=1)[:, None, :]  # (k, 1, n + L - 1)
        Z = jax.lax.conv_general_dilated(X, w, (1,), "VALID")[:, 0, :]  # (k, n)
        return vj @ jnp.where(Z > 0, Z, 0.0)

    return G


def _layout(C: np.ndarray, form: str) -> np.ndarray:
    return np.ascontiguousarray(C.T if form == "conv" else C, dtype=np.float64)


def kernel_fn(taps: np.ndarray, center: int, v: np.ndarray, form: str = "roll") -> Callable:
    """The jitted map ``C ↦ J(C) J(C)ᵀ`` for ``C`` of shape ``(n, k)`` (compiled on its first call)."""
    jax, jnp = _jax()
    G = generator(taps, center, v, form)

    @jax.jit
    def K(W):
        J = jax.jacrev(G)(W)  # (n, *W.shape)
        J = J.reshape(J.shape[0], -1)
        return J @ J.T

    def run(C):
        return K(jnp.asarray(_layout(np.asarray(C), form)))

    return run


def kernel(taps: np.ndarray, center: int, v: np.ndarray, C: np.ndarray, form: str = "roll") -> np.ndarray:
    """``J Jᵀ`` from the dense Jacobian ``jax.jacrev(G)``; shape ``(n, n)``."""
    return np.asarray(kernel_fn(taps, center, v, form)(C))


def generator_2d(taps: np.ndarray, center, shape, v: np.ndarray) -> Callable:
    """``G`` on images as a function of the weights (shape ``(k, H, W)``), returning shape ``(H·W,)``.

    ``jnp.pad(mode="wrap")`` wraps ``L_j − 1 − h_j`` pixels before and ``h_j``
    after each axis; ``lax.conv_general_dilated`` (a cross-correlation) with
    the taps flipped in both axes then gives the circular convolution.
    """
    jax, jnp = _jax()
    taps = np.asarray(taps, dtype=np.float64)
    L1, L2 = taps.shape
    h1, h2 = (int(h) for h in center)
    H, W = (int(x) for x in shape)
    w = jnp.asarray(np.ascontiguousarray(taps[::-1, ::-1])).reshape(1, 1, L1, L2)
    vj = jnp.asarray(np.asarray(v, dtype=np.float64))
    pads = ((0, 0), (L1 - 1 - h1, h1), (L2 - 1 - h2, h2))

    def G(Wk):
        X = jnp.pad(Wk, pads, mode="wrap")[:, None]  # (k, 1, H + L1 - 1, W + L2 - 1)
        Z = jax.lax.conv_general_dilated(X, w, (1, 1), "VALID").reshape(Wk.shape[0], H * W)  # (k, n)
        return vj @ jnp.where(Z > 0, Z, 0.0)

    return G


def _jitted_loop(G, W0, y: np.ndarray, eta: float, to_C: Callable) -> Callable[[int], np.ndarray]:
    """``run(steps)``: a jitted ``fori_loop`` of ``steps`` steps from ``W0``; ``to_C`` maps the weights to ``C``."""
    jax, jnp = _jax()
    yj = jnp.asarray(np.asarray(y, dtype=np.float64))
    eta = float(eta)

    def loss(W):
        r = G(W) - yj
        return 0.5 * jnp.dot(r, r)

    grad = jax.grad(loss)

    @jax.jit
    def loop(W, steps):
        return jax.lax.fori_loop(0, steps, lambda _, W: W - eta * grad(W), W)

    def run(steps: int) -> np.ndarray:
        return to_C(np.asarray(loop(W0, steps).block_until_ready()))

    return run


def make_gradient_descent(taps: np.ndarray, center: int, v: np.ndarray, y: np.ndarray, C0: np.ndarray,
                          eta: float, form: str = "roll") -> Callable[[int], np.ndarray]:
    """A jitted gradient-descent loop; ``run(steps)`` starts from ``C0`` and returns ``C`` (shape ``(n, k)``)."""
    jax, jnp = _jax()
    G = generator(taps, center, v, form)
    W0 = jnp.asarray(_layout(np.asarray(C0), form))
    return _jitted_loop(G, W0, y, eta, lambda W: np.ascontiguousarray(W.T) if form == "conv" else W)


def make_gradient_descent_2d(taps: np.ndarray, center, shape, v: np.ndarray, y: np.ndarray, C0: np.ndarray,
                             eta: float) -> Callable[[int], np.ndarray]:
    """The jitted loop on ``H x W`` images; ``run(steps)`` starts from ``C0`` (shape ``(H·W, k)``) and returns ``C``."""
    jax, jnp = _jax()
    H, W = (int(x) for x in shape)
    k = C0.shape[1]
    W0 = jnp.asarray(np.ascontiguousarray(np.asarray(C0, dtype=np.float64).T).reshape(k, H, W))
    return _jitted_loop(generator_2d(taps, center, (H, W), v), W0, y, eta,
                        lambda Wk: np.ascontiguousarray(Wk.reshape(k, H * W).T))
