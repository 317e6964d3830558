"""The leading singular subspace of a deep generator's Jacobian (``docs/theory.md`` §2.7, §5.3; claims 20–21 of §9).

* :func:`jacobian_spectrum` — the ``r`` largest singular values of ``J(θ)`` and
  its left singular vectors, matrix-free (Lanczos on ``J Jᵀ``);
* :func:`trig_overlap` — how much of the top-``j`` left singular subspace lies
  in the span of the ``j`` lowest-frequency trigonometric functions;
* :func:`decay_rate` — the geometric rate of the singular values;
* :func:`subspace_drift` — principal angles between two subspaces.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _blas
from .._memory import check_memory
from .._validation import as_float_array, as_rng, check_int, check_positive
from ..bases import TrigBasis
from ..bases2d import TrigBasis2D

__all__ = ["JacobianSpectrum", "DecayFit", "jacobian_spectrum", "trig_functions", "trig_overlap", "decay_rate",
           "subspace_drift"]

#: ``method="auto"`` of :func:`jacobian_spectrum` forms the dense Jacobian when it has at most this many entries.
DENSE_MAX_ENTRIES = 2_000_000


@dataclass(frozen=True, eq=False)
class JacobianSpectrum:
    """Result of :func:`jacobian_spectrum`.

    Attributes
    ----------
    singular_values : ndarray, shape (r,)
        Decreasing.
    vectors : ndarray, shape (n, r)
        Left singular vectors (orthonormal columns), sign fixed so that the
        largest-magnitude entry of each is positive.
    method : str
        ``"lanczos"`` or ``"dense"``.
    products : int
        Products ``J Jᵀ x`` (each one ``jvp`` and one ``vjp``) the Lanczos iteration used (0 for dense).

    Examples
    --------
    >>> from ntk_toolkit.deep import DeepDecoder, jacobian_spectrum
    >>> net = DeepDecoder((16,), [4, 4, 4])
    >>> spec = jacobian_spectrum(net, net.init(seed=0), 3)
    >>> spec.singular_values.shape, spec.vectors.shape, spec.method
    ((3,), (16, 3), 'dense')
    """

    singular_values: np.ndarray
    vectors: np.ndarray
    method: str
    products: int

    @property
    def r(self) -> int:
        return int(self.singular_values.size)

    def to_dict(self) -> dict:
        return {"singular_values": self.singular_values.tolist(), "method": self.method, "products": self.products}


def _check_net(net):
    for attr in ("n", "num_params", "forward", "jvp", "vjp"):
        if not hasattr(net, attr):
            raise TypeError(f"net must be a generator (n, num_params, forward, jvp, vjp), got {type(net).__name__}")
    return net


def _passes(net, theta):
    """``(J x, Jᵀ y)`` closures at ``theta`` sharing one forward pass when the generator allows it."""
    if all(hasattr(net, a) for a in ("forward_pattern", "backward", "jvp_pattern")):
        cache = net.forward_pattern(theta)[1]
        return (lambda x: net.jvp_pattern(cache, x)), (lambda y: net.backward(cache, y))
    return (lambda x: net.jvp(theta, x)), (lambda y: net.vjp(theta, y))


def _sign_fix(V: np.ndarray) -> np.ndarray:
    rows = np.argmax(np.abs(V), axis=0)
    return V * np.sign(V[rows, np.arange(V.shape[1])])[None, :]


def jacobian_spectrum(net, theta, r: int, *, method: str = "auto", tol: float = 1e-10, seed=None,
                      ncv: int | None = None) -> JacobianSpectrum:
    """The ``r`` leading singular values and left singular vectors of ``J(θ)``, matrix-free.

    Lanczos (ARPACK, ``scipy.sparse.linalg.eigsh``) on ``J Jᵀ`` (``n x n``),
    or on ``Jᵀ J`` when there are fewer parameters than outputs (then
    ``u_i = J v_i / s_i``), with products through ``jvp`` and ``vjp`` after one
    forward pass; ``s_i = √λ_i``.

    Parameters
    ----------
    net : generator
        :class:`~ntk_toolkit.deep.DeepDecoder`, :class:`~ntk_toolkit.deep.MultiLayerConvGenerator`
        or any generator with ``n``, ``num_params``, ``forward``, ``jvp`` and ``vjp``
        on a flat parameter vector.
    theta : array_like, shape (num_params,)
    r : int
        ``1 <= r < min(n, num_params)``.
    method : {"auto", "lanczos", "dense"}, default "auto"
        ``dense`` forms ``J`` (``net.jacobian``) and takes its SVD; ``auto``
        does so when ``J`` has at most ``DENSE_MAX_ENTRIES`` (2·10⁶) entries.
    tol : float, default 1e-10
        Relative accuracy of the eigenvalues of ``J Jᵀ`` asked of ARPACK.
    seed : int, numpy.random.Generator or None
        Starting vector of the iteration.
    ncv : int, optional
        Lanczos vectors (default ``min(m, max(2 r + 1, 20))``, ``m`` the size of the Gram matrix).

    Returns
    -------
    JacobianSpectrum

    Notes
    -----
    Cost: one forward pass, then per Lanczos product one ``jvp`` and one
    ``vjp`` (each about two forward passes: O(Σ_i k_i k_{i+1} P_i) for a
    deep decoder); a few times ``r`` products when the singular values decay
    geometrically. Memory: O(n ncv) plus the forward pass's activations;
    ``J`` is never formed. The dense path costs O(n P min(n, P)) time and
    ``8 n P`` bytes.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder, jacobian_spectrum
    >>> net = DeepDecoder((32, 32), [8, 8, 8, 8])
    >>> theta = net.init(seed=0)
    >>> spec = jacobian_spectrum(net, theta, 5, method="lanczos", seed=0)
    >>> dense = np.linalg.svd(net.jacobian(theta), compute_uv=False)[:5]
    >>> bool(np.allclose(spec.singular_values, dense, rtol=1e-8))
    True
    """
    net = _check_net(net)
    theta = net.check_weights(theta) if hasattr(net, "check_weights") else as_float_array("theta", theta, ndim=1)
    n, P = int(net.n), int(net.num_params)
    r = check_int("r", r, minimum=1)
    if r >= min(n, P):
        raise ValueError(f"r must be below min(n, num_params) = {min(n, P)}, got {r}; use method='dense' with "
                         "net.jacobian for the full spectrum")
    tol = check_positive("tol", tol, allow_zero=True)
    if not isinstance(method, str) or method not in ("auto", "lanczos", "dense"):
        raise ValueError(f"method must be 'auto', 'lanczos' or 'dense', got {method!r}")
    if method == "auto":
        method = "dense" if n * P <= DENSE_MAX_ENTRIES else "lanczos"
    if method == "dense":
        J = net.jacobian(theta)
        U, s, _ = np.linalg.svd(J, full_matrices=False)
        return JacobianSpectrum(s[:r].copy(), _sign_fix(np.ascontiguousarray(U[:, :r])), "dense", 0)
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

    m = min(n, P)
    if ncv is not None:
        ncv = check_int("ncv", ncv, minimum=r + 1)
    check_memory(8 * (n + P) * (r + (ncv or max(2 * r + 1, 20))), f"the Krylov basis of {r} singular vectors",
                 "ask for fewer singular values (r)")
    jvp, vjp = _passes(net, theta)
    count = [0]
    if n <= P:
        def matvec(x):
            count[0] += 1
            return jvp(vjp(np.ascontiguousarray(x.ravel())))
    else:
        def matvec(x):
            count[0] += 1
            return vjp(jvp(np.ascontiguousarray(x.ravel())))
    op = LinearOperator((m, m), matvec=matvec, rmatvec=matvec, dtype=np.float64)
    v0 = as_rng(seed).standard_normal(m)
    try:
        with _blas.single_thread():
            lam, V = eigsh(op, k=r, which="LA", v0=v0, tol=tol, ncv=ncv)
    except ArpackNoConvergence as exc:
        raise RuntimeError(f"Lanczos found {len(exc.eigenvalues)} of r={r} singular values within its restarts "
                           f"({count[0]} products, tol={tol}); give more Lanczos vectors (ncv) or loosen tol") from exc
    order = np.argsort(lam)[::-1]
    lam, V = np.maximum(lam[order], 0.0), V[:, order]
    s = np.sqrt(lam)
    if n > P:  # right singular vectors: u_i = J v_i / s_i
        V = np.stack([jvp(np.ascontiguousarray(V[:, i])) for i in range(r)], axis=1)
        V /= np.where(s > 0, s, 1.0)[None, :]
    return JacobianSpectrum(s, _sign_fix(np.ascontiguousarray(V)), "lanczos", count[0])


def _check_shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)) and not isinstance(shape, bool):
        shape = (int(shape),)
    if (isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__")
            or getattr(shape, "ndim", 1) == 0 or len(shape) not in (1, 2)):
        raise ValueError(f"shape must be (n,) or (H, W), got {shape!r}")
    return tuple(check_int(f"shape[{j}]", s, minimum=1) for j, s in enumerate(shape))


def trig_functions(shape, j: int) -> np.ndarray:
    """The ``j`` lowest-frequency real trigonometric functions on a signal or image, as orthonormal columns.

    1-D (``shape = (n,)``): the first ``j`` columns of :func:`ntk_toolkit.trig_basis`
    (constant, then ``cos``/``sin`` of frequency 1, 2, …). 2-D (``shape = (H, W)``):
    the plane waves of :class:`~ntk_toolkit.bases.TrigBasis2D` ordered by radial
    frequency ``min(H, W) √((f1/H)² + (f2/W)²)``, ties by ``(f1, f2)``, cosine
    before sine (``docs/theory.md`` §2.3–2.4).

    Parameters
    ----------
    shape : tuple (n,) or (H, W)
    j : int
        ``1 <= j <= prod(shape)``.

    Returns
    -------
    ndarray, shape (prod(shape), j)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep.spectra import trig_functions
    >>> W = trig_functions((8, 8), 5)
    >>> bool(np.allclose(W.T @ W, np.eye(5))), bool(np.allclose(W[:, 0], 1 / 8))
    (True, True)
    """
    shape = _check_shape(shape)
    n = int(np.prod(shape))
    j = check_int("j", j, minimum=1)
    if j > n:
        raise ValueError(f"j must be at most prod(shape) = {n}, got {j}")
    if len(shape) == 1:
        basis = TrigBasis(n)
        order = np.arange(j)
    else:
        basis = TrigBasis2D(shape)
        H, W = shape
        f = basis.frequencies()
        radius = min(H, W) * np.hypot(f[:, 0] / H, f[:, 1] / W)
        order = np.lexsort((basis.kinds(), f[:, 1], f[:, 0], np.round(radius, 12)))[:j]
    coef = np.zeros((n, j))
    coef[order, np.arange(j)] = 1.0
    return basis.synthesis(coef)


def trig_overlap(vectors, shape) -> np.ndarray:
    """Overlap of the top-``j`` singular subspace with the ``j`` lowest-frequency trig functions, for each ``j``.

    ``overlap[j−1] = ‖W_jᵀ Q_j‖²_F / j``: the sum of the squared cosines of the
    principal angles between ``span(vectors[:, :j])`` (orthonormalised:
    ``Q_j``) and the span ``W_j`` of :func:`trig_functions` ``(shape, j)``,
    divided by ``j`` — 1 when the subspaces coincide, 0 when they are
    orthogonal, ``j/n`` on average for a random subspace (``docs/theory.md``
    §2.7, claim 20(b) of §9).

    Parameters
    ----------
    vectors : array_like, shape (n, r)
        Columns in decreasing order of importance (e.g.
        :attr:`JacobianSpectrum.vectors`); need not be orthonormal.
    shape : tuple (n,) or (H, W)
        The signal or image the vectors live on (``prod(shape) = n``).

    Returns
    -------
    ndarray, shape (r,)
        Values in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit import trig_basis
    >>> from ntk_toolkit.deep import trig_overlap
    >>> W = trig_basis(16)
    >>> trig_overlap(W[:, :3], (16,)).round(12).tolist()
    [1.0, 1.0, 1.0]
    >>> trig_overlap(W[:, [0, 2, 1]], (16,)).round(12).tolist()  # cos 1 and sin 1 swapped: j = 2 sees half
    [1.0, 0.5, 1.0]
    """
    shape = _check_shape(shape)
    n = int(np.prod(shape))
    V = as_float_array("vectors", vectors, ndim=(1, 2))
    if V.ndim == 1:
        V = V[:, None]
    if V.shape[0] != n:
        raise ValueError(f"vectors must have prod(shape) = {n} rows for shape={shape}, got {V.shape[0]}")
    r = V.shape[1]
    if r > n:
        raise ValueError(f"vectors must have at most n = {n} columns, got {r}")
    W = trig_functions(shape, r)
    out = np.empty(r)
    for j in range(1, r + 1):
        Q, R = np.linalg.qr(V[:, :j])
        if np.min(np.abs(np.diag(R))) <= 1e-12 * max(1.0, np.abs(R).max()):
            raise ValueError(f"vectors' first {j} columns are linearly dependent: no {j}-dimensional subspace")
        out[j - 1] = float(np.sum((W[:, :j].T @ Q) ** 2)) / j
    return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True, eq=False)
class DecayFit:
    """Result of :func:`decay_rate`: ``s_i ≈ s_0 · rate^i``.

    Attributes
    ----------
    rate : float
        Geometric rate ``γ = exp(slope)``; below 1 for decaying values.
    r2 : float
        Coefficient of determination of the straight-line fit of ``log s_i`` against ``i``.
    intercept : float
        ``log s_0`` of the fit.
    count : int
        Values used in the fit.

    Examples
    --------
    >>> from ntk_toolkit.deep import decay_rate
    >>> fit = decay_rate([8.0, 4.0, 2.0, 1.0])
    >>> round(fit.rate, 12), round(fit.r2, 12)
    (0.5, 1.0)
    """

    rate: float
    r2: float
    intercept: float
    count: int

    def to_dict(self) -> dict:
        return {"rate": self.rate, "r2": self.r2, "intercept": self.intercept, "count": self.count}


def decay_rate(singular_values, skip: int = 0) -> DecayFit:
    """Fit ``log s_i = a + i log γ`` by least squares: the geometric decay rate ``γ`` and the fit's ``R²``.

    Parameters
    ----------
    singular_values : array_like, shape (r,)
        Positive, in decreasing order.
    skip : int, default 0
        Leave out the first ``skip`` values (e.g. the outlying largest one).

    Returns
    -------
    DecayFit

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import decay_rate
    >>> s = 3.0 * 0.8 ** np.arange(10) * np.exp(0.01 * np.sin(np.arange(10)))
    >>> fit = decay_rate(s)
    >>> round(fit.rate, 2), fit.r2 > 0.99
    (0.8, True)
    """
    s = as_float_array("singular_values", singular_values, ndim=1)
    skip = check_int("skip", skip, minimum=0)
    if np.any(s <= 0):
        raise ValueError(f"singular_values must be positive (a log-linear fit), got {int(np.sum(s <= 0))} "
                         "entries <= 0; drop the zero ones first")
    s = s[skip:]
    if s.size < 2:
        raise ValueError(f"singular_values must have at least 2 values after skip={skip}, got {s.size}")
    i = np.arange(s.size, dtype=float)
    y = np.log(s)
    slope, intercept = np.polyfit(i, y, 1)
    resid = y - (intercept + slope * i)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 1.0
    return DecayFit(float(np.exp(slope)), r2, float(intercept), int(s.size))


def subspace_drift(V0, V1) -> np.ndarray:
    """Principal angles (radians, increasing) between ``span(V0)`` and ``span(V1)``.

    ``cos φ_i`` are the singular values of ``Q0ᵀ Q1`` with ``Q`` orthonormal
    bases (QR); clipped into ``[0, 1]`` before ``arccos``. Used to measure how
    much the Jacobian's leading singular subspace moves during training
    (claim 20(c) of ``docs/theory.md`` §9).

    Parameters
    ----------
    V0, V1 : array_like, shape (n, r0) and (n, r1)

    Returns
    -------
    ndarray, shape (min(r0, r1),)

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import subspace_drift
    >>> e = np.eye(3)
    >>> np.degrees(subspace_drift(e[:, :2], e[:, [0, 2]])).round(9).tolist()
    [0.0, 90.0]
    """
    A = as_float_array("V0", V0, ndim=(1, 2))
    B = as_float_array("V1", V1, ndim=(1, 2))
    A = A[:, None] if A.ndim == 1 else A
    B = B[:, None] if B.ndim == 1 else B
    if A.shape[0] != B.shape[0]:
        raise ValueError(f"V0 and V1 must have the same number of rows, got {A.shape[0]} and {B.shape[0]}")
    Qa, _ = np.linalg.qr(A)
    Qb, _ = np.linalg.qr(B)
    cos = np.linalg.svd(Qa.T @ Qb, compute_uv=False)
    return np.sort(np.arccos(np.clip(cos, 0.0, 1.0)))
