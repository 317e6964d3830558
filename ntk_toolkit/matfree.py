"""Matrix-free empirical kernel: ``K(C) = J(C) J(C)ᵀ`` as an operator, and its leading eigenpairs.

For signals whose ``n x n`` kernel does not fit in memory (images: ``n = H*W``),
:func:`kernel_operator` applies ``K r = J (Jᵀ r)`` without forming ``K`` or ``J``
(``docs/theory.md`` §2.1, eqs. (2.2)–(2.3)), in O(n k) memory per vector, and
:func:`top_eigenpairs` computes the leading eigenpairs of ``K`` from it by
Lanczos iteration (``scipy.sparse.linalg.eigsh``).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from . import _blas
from ._memory import check_memory
from ._validation import as_float_array, as_rng, check_int
from .generator import Generator
from .kernels import empirical_kernel

__all__ = ["kernel_operator", "top_eigenpairs", "TopEigenpairs"]

#: Bytes of float temporaries per block of vectors in ``matmat`` (the generic
#: path holds three ``(n, k, p)`` arrays for ``p`` vectors; the fused path a
#: ``(blocks, p, n)`` array of partial sums).
_BLOCK_BYTES = 64 * 1024**2

#: ``method="auto"`` of :func:`top_eigenpairs` takes the dense path up to this
#: signal length: there ``empirical_kernel`` plus ``eigh`` takes milliseconds and
#: returns every digit, while Lanczos would only add iterations.
DENSE_MAX_N = 256

def _check_gen(gen) -> Generator:
    if not isinstance(gen, Generator):
        raise TypeError(
            "gen must be a generator (a TwoLayerGenerator, or an object with n, num_params, init, forward, "
            f"jvp and vjp), got {type(gen).__name__}"
        )
    return gen


def _check_weights(gen, C) -> np.ndarray:
    if hasattr(gen, "check_weights"):
        return gen.check_weights(C)
    C = as_float_array("C", C)
    if C.size != int(gen.num_params):
        raise ValueError(f"C must have gen.num_params = {int(gen.num_params)} entries, got shape {C.shape}")
    return C


def _two_layer(gen) -> bool:
    """True when ``gen`` has the two-layer fast paths (operator, output weights, forward_pattern, backward)."""
    return all(hasattr(gen, a) for a in ("operator", "output_weights", "activation", "forward_pattern", "backward")) \
        and not getattr(gen, "train_output", False)


class _Products:
    """``K R = J (Jᵀ R)`` for a block ``R`` of shape ``(n, p)``: the three paths of :func:`kernel_operator`."""

    def __init__(self, gen, C: np.ndarray):
        self.gen, self.C, self.n = gen, C, int(gen.n)
        self.path = "generic"
        if not _two_layer(gen):
            return
        self.pattern = gen.forward_pattern(C)[1]
        self.v = np.ascontiguousarray(gen.output_weights, dtype=np.float64)
        direct = gen.operator.direct_taps() if gen.activation == "relu" else None
        if direct is not None and np.ndim(direct[0]) == 2 and self.pattern.dtype == np.uint8:
            self.path = "fused-2d"
            factors = gen.operator.separable_taps() if hasattr(gen.operator, "separable_taps") else None
            if factors is not None:  # one fused sweep (ntk_toolkit._kernels.matfree2d)
                from ._kernels.gd import block_width

                self.sep = tuple(np.ascontiguousarray(f, dtype=np.float64) for f in factors)
                self.center = tuple(int(h) for h in direct[1])
                self.w = self.v * self.v
                self.bw = block_width(self.v.size)
                self.blocks = -(-self.v.size // self.bw)
        elif direct is not None and self.pattern.dtype == np.uint8:
            from ._kernels.gd import block_width

            self.path = "fused"
            self.taps = np.ascontiguousarray(direct[0], dtype=np.float64)
            self.w = self.v * self.v
            self.bw = block_width(self.v.size)
            self.blocks = -(-self.v.size // self.bw)
        else:
            self.path = "two-layer"

    def block(self) -> int:
        """Vectors per batch in :meth:`apply`."""
        k = self.v.size if self.path != "generic" else 1
        per_vector = 8 * self.n * (self.blocks if self.path == "fused" else 1 if self.path == "fused-2d" else 3 * k)
        return max(1, _BLOCK_BYTES // per_vector)

    def apply(self, R: np.ndarray) -> np.ndarray:
        """``K R`` for a clean float64 ``R`` of shape ``(n, p)``."""
        p = R.shape[1]
        out = np.empty((self.n, p))
        step = self.block()
        for start in range(0, p, step):
            Rb = np.ascontiguousarray(R[:, start:start + step])
            out[:, start:start + Rb.shape[1]] = getattr(self, "_" + self.path.replace("-", "_"))(Rb)
        return out

    def _fused(self, R):
        from ._jit import threads_for
        from ._kernels import matfree

        gpart = np.empty((self.blocks, R.shape[1], self.n))
        with threads_for(self.pattern.size * R.shape[1] * self.taps.size):
            matfree.kernel_apply(self.taps, self.pattern, self.w, R, gpart, self.bw)
        return gpart.sum(axis=0).T

    def _fused_2d(self, R):
        out = np.empty((self.n, R.shape[1]))
        if hasattr(self, "sep"):
            from ._jit import threads_for
            from ._kernels import matfree2d

            (a, b), (h1, h2) = self.sep, self.center
            H, W = self.gen.operator.grid_shape
            gpart = np.empty((self.blocks, self.n))
            with threads_for(self.pattern.size * (a.size + b.size)):
                for q in range(R.shape[1]):
                    matfree2d.kernel_apply(a, b, h1, h2, H, W, self.pattern, np.ascontiguousarray(R[:, q]), self.w,
                                           gpart, self.bw)
                    out[:, q] = gpart.sum(axis=0)
            return out
        for q in range(R.shape[1]):  # D = Jᵀ r = Uᵀ(M ∘ r vᵀ), then J D = (M ∘ U D) v: two fused 2-D sweeps
            D = self.gen.backward(self.pattern, np.ascontiguousarray(R[:, q]))
            out[:, q] = self.gen.jvp_pattern(self.pattern, D)
        return out

    def _two_layer(self, R):
        op, S, v = self.gen.operator, self.pattern, self.v
        if R.shape[1] == 1:
            D = self.gen.backward(S, R[:, 0])  # Jᵀ r = Uᵀ(S ∘ r vᵀ), shape (n, k)
            UD = op.apply_unchecked(np.ascontiguousarray(D), adjoint=False)
            UD *= S
            return (UD @ v)[:, None]
        n, k, p = self.n, v.size, R.shape[1]
        W = S[:, :, None] * (v[None, :, None] * R[:, None, :])  # (n, k, p): one column per (channel, vector)
        D = op.apply_unchecked(W.reshape(n, k * p), adjoint=True)
        del W
        UD = op.apply_unchecked(np.ascontiguousarray(D), adjoint=False).reshape(n, k, p)
        del D
        UD *= S[:, :, None]
        return np.einsum("ikp,k->ip", UD, v)

    def _generic(self, R):
        out = np.empty_like(R)
        for q in range(R.shape[1]):
            D = self.gen.vjp(self.C, np.ascontiguousarray(R[:, q]))
            out[:, q] = np.asarray(self.gen.jvp(self.C, D), dtype=np.float64).reshape(self.n)
        return out


def kernel_operator(gen, C):
    """The empirical kernel ``K(C) = J(C) J(C)ᵀ`` as a symmetric ``LinearOperator`` of shape ``(n, n)``.

    ``K r = J (Jᵀ r)`` with ``(Jᵀ r)`` as an ``n x k`` array
    ``D = Uᵀ(M ∘ r vᵀ)`` and ``J D = (M ∘ U D) v``, ``M = φ'(U C)``
    (``docs/theory.md`` §2.1, eqs. (2.2)–(2.3)). No ``n x n`` array and no
    Jacobian is formed.

    Parameters
    ----------
    gen : Generator
        A :class:`~ntk_toolkit.TwoLayerGenerator`, or any generator of the
        :class:`~ntk_toolkit.generator.Generator` protocol (then each product
        is ``gen.jvp(C, gen.vjp(C, r))``).
    C : array_like
        Weights at which the kernel is taken, shape ``(n, k)`` for the
        two-layer model; validated once (``gen.check_weights`` when present).

    Returns
    -------
    scipy.sparse.linalg.LinearOperator
        Shape ``(n, n)``, dtype float64, symmetric (``rmatvec`` is
        ``matvec``). ``matvec`` takes ``(n,)`` or ``(n, 1)``; ``matmat``
        (and ``@``) a block ``(n, p)``, computed in batches.

    See Also
    --------
    top_eigenpairs : The leading eigenpairs of ``K(C)`` from this operator.
    ntk_toolkit.empirical_kernel : The dense ``(n, n)`` matrix, for small ``n``.

    Notes
    -----
    The activation pattern ``M`` is computed once, here (one forward pass,
    ``gen.forward_pattern``). Then each product costs, for ``L`` taps:

    * a two-layer ReLU generator whose ``U`` is a 1-D circular convolution
      applied by direct taps: one fused Numba sweep per block of channels,
      ``(K r)_i = Σ_l v_l² M_il (U Uᵀ(M ∘ r 1ᵀ))_il`` row by row, ``2 n k L``
      multiply-adds; it reads the byte mask (``n k`` bytes, kept from the
      forward pass) and allocates no ``n x k`` array; a block of ``p``
      vectors runs its ``p`` sweeps in parallel. Measured (2 cores, shared):
      about 5 ms per vector at ``(n, k, L) = (16384, 256, 3)``;
    * another two-layer generator (FFT or dense operator, another
      activation): ``gen.backward`` (one ``apply_T`` of an ``(n, k)``
      array) then one ``apply``, O(n k log n) by FFT, O(n² k) dense; peak
      memory about ``3 · 8 n k`` bytes per vector plus the float pattern
      (``8 n k`` bytes); a block of vectors is batched into the operator's
      calls (up to 64 MiB of temporaries per batch);
    * any other generator: one ``vjp`` and one ``jvp`` per vector.

    Examples
    --------
    >>> import numpy as np
    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = nt.TwoLayerGenerator(CircularConv(triangle(2), 64), k=32)
    >>> C = gen.init(seed=0)
    >>> K = nt.kernel_operator(gen, C)
    >>> K.shape
    (64, 64)
    >>> x = np.random.default_rng(1).standard_normal((64, 3))
    >>> bool(np.allclose(K @ x, nt.empirical_kernel(gen, C) @ x))
    True
    """
    from scipy.sparse.linalg import LinearOperator

    gen = _check_gen(gen)
    C = _check_weights(gen, C)
    fused = _two_layer(gen) and gen.activation == "relu" and gen.operator.direct_taps() is not None
    per_entry = 1 if fused else 4 * 8  # the byte mask; or the float pattern and one product's (n, k) temporaries
    check_memory(per_entry * C.size, f"the kernel operator at weights of shape {C.shape} (activation pattern "
                 "and temporaries)", "use a smaller n or k")
    prod = _Products(gen, C)
    n = prod.n

    def matmat(X):
        X = as_float_array("x", X, ndim=2)
        if X.shape[0] != n:
            raise ValueError(f"x must have n = {n} rows, got shape {X.shape}")
        return prod.apply(X)

    def matvec(x):
        x = as_float_array("x", x, ndim=(1, 2))
        if x.shape[0] != n or x.size != n:
            raise ValueError(f"x must have shape ({n},) or ({n}, 1), got {x.shape}")
        return prod.apply(x.reshape(n, 1)).reshape(x.shape)

    return LinearOperator((n, n), matvec=matvec, rmatvec=matvec, matmat=matmat, rmatmat=matmat,
                          dtype=np.float64)


@dataclass(frozen=True, eq=False)
class TopEigenpairs:
    """The ``r`` leading eigenpairs of the empirical kernel ``K(C) = J Jᵀ``.

    Attributes
    ----------
    eigenvalues : ndarray, shape (r,)
        Decreasing.
    eigenvectors : ndarray, shape (n, r)
        Orthonormal columns; column ``i`` belongs to ``eigenvalues[i]``. Each
        is only defined up to sign (fixed here: its entry of largest
        magnitude is positive) and, inside a cluster of equal eigenvalues, up
        to a rotation: compare them as subspaces (projectors), never one by one.
    residual_norms : ndarray, shape (r,)
        ``‖K x_i − λ_i x_i‖``, computed after the fact with one block product.
    method : str
        ``"lanczos"`` (``scipy.sparse.linalg.eigsh`` on :func:`kernel_operator`)
        or ``"dense"`` (``empirical_kernel`` and ``scipy.linalg.eigh``).
    matvecs : int
        Products with ``K`` taken by the eigensolver (0 for ``"dense"``).

    Examples
    --------
    >>> import numpy as np
    >>> t = TopEigenpairs(np.array([2.0, 1.0]), np.eye(3)[:, :2], np.zeros(2), "dense", 0)
    >>> t.to_dict()["eigenvalues"]
    [2.0, 1.0]
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    residual_norms: np.ndarray
    method: str
    matvecs: int

    @property
    def r(self) -> int:
        """Number of eigenpairs."""
        return int(self.eigenvalues.size)

    def to_dict(self) -> dict:
        """JSON-ready summary: eigenvalues, residual norms, method and products (the eigenvectors are left out)."""
        return {"n": int(self.eigenvectors.shape[0]), "r": self.r, "eigenvalues": self.eigenvalues.tolist(),
                "residual_norms": self.residual_norms.tolist(), "method": self.method, "matvecs": self.matvecs}


def _check_r(r, n: int) -> int:
    r = check_int("r", r, minimum=1)
    if r >= n:
        raise ValueError(
            f"r must be an integer with 1 <= r < n = {n}, got r={r}; for every eigenpair take the dense kernel: "
            "ntk_toolkit.spectrum(ntk_toolkit.empirical_kernel(gen, C))"
        )
    return r


def _check_tol(tol) -> float:
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not (0 <= float(tol) < 1):
        raise ValueError(f"tol must be a number with 0 <= tol < 1 (0: machine precision), got {tol!r}")
    return float(tol)


def top_eigenpairs(gen, C, r: int, *, tol: float = 1e-10, seed=None, method: str = "auto",
                   ncv: int | None = None, maxiter: int | None = None) -> TopEigenpairs:
    """The ``r`` largest eigenvalues of ``K(C) = J(C) J(C)ᵀ`` and their eigenvectors, matrix-free.

    Lanczos iteration (implicitly restarted, ARPACK via
    ``scipy.sparse.linalg.eigsh(..., which="LA")``) on
    :func:`kernel_operator`: O(n k) memory for the products plus
    ``8 n ncv`` bytes for the Krylov basis; ``K`` is never formed
    (``docs/theory.md`` §2.1, eq. (2.3)).

    Parameters
    ----------
    gen : Generator
        See :func:`kernel_operator`.
    C : array_like
        Weights, shape ``(n, k)`` for the two-layer model.
    r : int
        Number of eigenpairs, ``1 <= r < n``.
    tol : float, default 1e-10
        Relative accuracy asked of ARPACK: each Ritz pair is accepted when its
        residual ``‖K x − λ x‖`` is at most about ``tol · |λ|``, which bounds
        the error of ``λ`` by the same amount (usually far less: the error is
        of the order of the squared residual over the gap). ``0`` asks for
        machine precision.
    seed : int, numpy.random.Generator or None
        Draws the starting vector of the iteration (a standard normal
        vector); the result is deterministic given ``seed``.
    method : {"auto", "lanczos", "dense"}, default "auto"
        ``dense`` forms ``K`` with :func:`~ntk_toolkit.empirical_kernel`
        (O(n²) memory, refused above the budget) and takes the top of
        ``scipy.linalg.eigh``. ``auto`` is ``dense`` for ``n <= DENSE_MAX_N``
        (256) or when ``2 r + 1 >= n`` (ARPACK's Krylov space would not fit
        below ``n``), else ``lanczos``.
    ncv : int, optional
        Lanczos vectors kept between restarts (``r < ncv <= n``); default
        ``min(n, max(2 r + 1, 20))``, as ``eigsh``. More vectors: fewer
        products, more memory and orthogonalisation.
    maxiter : int, optional
        Restarts allowed (default ``10 n``).

    Returns
    -------
    TopEigenpairs
        Eigenvalues decreasing, eigenvectors as columns ``(n, r)``, the
        residual norms, the path taken and the number of products.

    Raises
    ------
    RuntimeError
        If Lanczos does not converge within ``maxiter``; the message says how
        many pairs did and what to change.

    Notes
    -----
    Cost: (number of products) × (cost of one product, see
    :func:`kernel_operator`) plus O(n ncv²) per restart. The leading
    eigenvalues of an empirical kernel are clustered (for a short filter and
    large ``n`` the top of the spectrum of ``Σ`` is nearly flat, and ``K``
    splits it by finite-width fluctuations of order ``1/√k``), so Lanczos
    needs many products: measured 460–480 for ``r = 20`` at
    ``(n, k) = (16384, 256)``, ``triangle(2)``, 3–6 s on 2 shared cores
    (``benchmarks/matfree_top_eigenpairs.py``). OpenBLAS runs on one thread during the
    iteration (its small calls alternate with the parallel products).

    Eigenvectors inside a cluster of (nearly) equal eigenvalues are only
    determined as a subspace; the subspace of all ``r`` is well defined when
    ``λ_r > λ_{r+1}`` clearly.

    Examples
    --------
    >>> import numpy as np
    >>> import ntk_toolkit as nt
    >>> from ntk_toolkit.filters import triangle
    >>> from ntk_toolkit.operators import CircularConv
    >>> gen = nt.TwoLayerGenerator(CircularConv(triangle(2), 512), k=64)
    >>> C = gen.init(seed=0)
    >>> top = nt.top_eigenpairs(gen, C, 4, seed=0)
    >>> top.method, top.eigenvectors.shape
    ('lanczos', (512, 4))
    >>> bool(np.all(np.diff(top.eigenvalues) <= 0)), bool(top.residual_norms.max() < 1e-8)
    (True, True)
    """
    gen = _check_gen(gen)
    C = _check_weights(gen, C)
    n = int(gen.n)
    r = _check_r(r, n)
    tol = _check_tol(tol)
    rng = as_rng(seed)
    if method not in ("auto", "lanczos", "dense"):
        raise ValueError(f"method must be 'auto', 'lanczos' or 'dense', got {method!r}")
    if ncv is not None:
        ncv = check_int("ncv", ncv, minimum=r + 1)
        if ncv > n:
            raise ValueError(f"ncv must satisfy r < ncv <= n = {n}, got ncv={ncv}")
    if maxiter is not None:
        maxiter = check_int("maxiter", maxiter, minimum=1)
    if method == "auto":
        method = "dense" if n <= DENSE_MAX_N or 2 * r + 1 >= n else "lanczos"
    check_memory(8 * n * (r + (ncv or max(2 * r + 1, 20))), f"{r} eigenvectors of length {n} and the Krylov basis",
                 "ask for fewer eigenpairs (r)")
    op = kernel_operator(gen, C)
    if method == "dense":
        from . import _lazy

        K = empirical_kernel(gen, C)
        lam, V = _lazy.linalg().eigh(K, subset_by_index=(n - r, n - 1))
        matvecs = 0
    else:
        lam, V, matvecs = _lanczos(op, n, r, tol, rng, ncv, maxiter)
    order = np.argsort(lam)[::-1]
    lam, V = lam[order], np.ascontiguousarray(V[:, order])
    rows = np.argmax(np.abs(V), axis=0)
    V *= np.sign(V[rows, np.arange(r)])[None, :]
    with _blas.single_thread():
        res = np.linalg.norm(op.matmat(V) - V * lam[None, :], axis=0)
    return TopEigenpairs(lam, V, res, method, matvecs)


def _lanczos(op, n: int, r: int, tol: float, rng, ncv, maxiter):
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    count = [0]

    def matvec(x):
        count[0] += 1
        return op.matvec(x)

    counted = LinearOperator((n, n), matvec=matvec, rmatvec=matvec, dtype=np.float64)
    v0 = rng.standard_normal(n)
    try:
        with _blas.single_thread():
            lam, V = eigsh(counted, k=r, which="LA", v0=v0, tol=tol, ncv=ncv, maxiter=maxiter)
    except ArpackNoConvergence as exc:
        raise RuntimeError(
            f"Lanczos found {len(exc.eigenvalues)} of r={r} eigenpairs of K(C) within maxiter={maxiter} restarts "
            f"({count[0]} products, tol={tol}); raise maxiter, give more Lanczos vectors (ncv) or loosen tol"
        ) from exc
    return lam, V, count[0]
