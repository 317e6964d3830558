"""Slow, obviously correct reference implementations.

Everything here is written for clarity, not speed: explicit index loops, dense
matrices, finite differences, repeated matrix-vector products, ``expm`` and
``eigvalsh``. Nothing here calls into ``ntk_toolkit`` except to read filter
taps (which are themselves checked against explicit formulas in the tests).

Conventions (``design.md`` §2, ``theory.md`` §1–2):

* ``(U c)[i] = Σ_t u[h + t] · c[(i − t) mod n]`` with ``h = (L − 1)//2``;
* ``G(C) = relu(U C) v``;
* ``vec(C)`` stacks columns: ``C[j, l]`` is entry ``l*n + j``;
* ``J[:, l*n + j] = v_l · 1{(U C)[:, l] > 0} · U[:, j]``;
* ``Σ_ij = ‖v‖² ⟨u_i, u_j⟩ (π − θ_ij) / (2π)`` with ``u_i`` the rows of ``U``.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.linalg

# --------------------------------------------------------------------------- operators


def conv_matrix(taps, n):
    """Dense ``U`` entry by entry.

    ``(U c)[i] = Σ_a u[a] c[(i − (a − h)) mod n]``: tap ``a`` sends sample
    ``j = (i − a + h) mod n`` to output ``i``. Taps that wrap around onto the
    same ``j`` are summed.
    """
    taps = np.asarray(taps, dtype=float)
    L = taps.shape[0]
    h = (L - 1) // 2
    U = np.zeros((n, n))
    for i in range(n):
        for a in range(L):
            j = (i - a + h) % n
            U[i, j] += taps[a]
    return U


def apply_conv(taps, c):
    """``U c`` straight from the convolution sum, without a matrix."""
    taps = np.asarray(taps, dtype=float)
    c = np.asarray(c, dtype=float)
    n = c.shape[0]
    L = taps.shape[0]
    h = (L - 1) // 2
    out = np.zeros(c.shape)
    for i in range(n):
        for t in range(-h, L - h):
            out[i] += taps[h + t] * c[(i - t) % n]
    return out


def default_v(k):
    """``+1/√k`` for the first ``k/2`` channels, ``−1/√k`` for the rest."""
    v = np.empty(k)
    for ell in range(k):
        v[ell] = (1.0 if ell < k // 2 else -1.0) / math.sqrt(k)
    return v


def circulant_row_to_matrix(row):
    """``M[i, j] = row[(j − i) mod n]``."""
    n = len(row)
    M = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            M[i, j] = row[(j - i) % n]
    return M


# --------------------------------------------------------------------------- network


def relu(z):
    return np.where(z > 0, z, 0.0)


def forward(U, C, v):
    """``G(C) = relu(U C) v`` with the dense ``U``."""
    return relu(U @ C) @ v


def forward_loops(U, C, v):
    """``G(C)[i] = Σ_l v_l relu(Σ_j U[i, j] C[j, l])``, entry by entry."""
    n, k = C.shape
    g = np.zeros(n)
    for i in range(n):
        for ell in range(k):
            z = 0.0
            for j in range(n):
                z += U[i, j] * C[j, ell]
            if z > 0:
                g[i] += v[ell] * z
    return g


def vec(C):
    """Column stacking: ``vec(C)[l*n + j] = C[j, l]``."""
    n, k = C.shape
    out = np.empty(n * k)
    for ell in range(k):
        for j in range(n):
            out[ell * n + j] = C[j, ell]
    return out


def unvec(x, n, k):
    C = np.empty((n, k))
    for ell in range(k):
        for j in range(n):
            C[j, ell] = x[ell * n + j]
    return C


def jacobian(U, C, v):
    """``J[:, l*n + j] = v_l · 1{(U C)[:, l] > 0} · U[:, j]``, column by column."""
    n, k = C.shape
    Z = U @ C
    J = np.zeros((n, n * k))
    for ell in range(k):
        active = (Z[:, ell] > 0).astype(float)
        for j in range(n):
            J[:, ell * n + j] = v[ell] * active * U[:, j]
    return J


def kink_margin(U, C):
    """Smallest ``|(U C)_il|``: how far ``C`` is from a ReLU kink."""
    return float(np.min(np.abs(U @ C)))


def draw_C_away_from_kinks(U, n, k, seed, margin=1e-3, omega=1.0):
    """Gaussian ``C`` whose pre-activations are all at least ``margin·ω`` away from zero."""
    rng = np.random.default_rng(seed)
    for _ in range(1000):
        C = omega * rng.standard_normal((n, k))
        if kink_margin(U, C) > margin * omega * max(1.0, float(np.abs(U).max())):
            return C
    raise RuntimeError("could not draw C away from the ReLU kinks")


def jacobian_fd(U, C, v):
    """Central finite differences of ``G`` in every entry of ``C``.

    ``G`` is piecewise linear; as long as no pre-activation changes sign the
    central difference is exact up to rounding. The step is chosen so that no
    sign changes (checked), so the only error is rounding ``~ eps·|G| / step``.

    Returns ``(J, step)``.
    """
    n, k = C.shape
    margin = kink_margin(U, C)
    umax = float(np.abs(U).max())
    step = 0.25 * margin / umax
    if not step > 0:
        raise ValueError("C sits on a ReLU kink; finite differences are meaningless there")
    sign0 = (U @ C) > 0
    J = np.zeros((n, n * k))
    for ell in range(k):
        for j in range(n):
            Cp = C.copy()
            Cm = C.copy()
            Cp[j, ell] += step
            Cm[j, ell] -= step
            assert np.array_equal((U @ Cp) > 0, sign0) and np.array_equal((U @ Cm) > 0, sign0)
            J[:, ell * n + j] = (forward(U, Cp, v) - forward(U, Cm, v)) / (2 * step)
    return J, step


def jvp(U, C, v, D):
    """``J vec(D) = Σ_{l,j} J[:, l*n + j] D[j, l]``, summing the columns of ``J`` one channel at a time."""
    n, k = C.shape
    Z = U @ C
    out = np.zeros(n)
    for ell in range(k):
        active = (Z[:, ell] > 0).astype(float)
        # Σ_j U[:, j] D[j, l] = U @ D[:, l]
        out += v[ell] * active * (U @ D[:, ell])
    return out


def vjp(U, C, v, r):
    """``(Jᵀ r)[l*n + j] = ⟨J[:, l*n + j], r⟩`` reshaped to ``(n, k)``, entry by entry."""
    n, k = C.shape
    Z = U @ C
    out = np.zeros((n, k))
    for ell in range(k):
        active_r = (Z[:, ell] > 0).astype(float) * r
        # all j at once: out[j, l] = v_l ⟨U[:, j], 1{z_l > 0} ∘ r⟩
        out[:, ell] = v[ell] * (U.T @ active_r)
    return out


def loss(U, C, v, y, A=None):
    g = forward(U, C, v)
    r = (g if A is None else A @ g) - y
    return 0.5 * float(np.sum(r * r))


def gradient(U, C, v, y, A=None):
    """``Jᵀ Aᵀ (A G(C) − y)`` reshaped to ``(n, k)``."""
    n, k = C.shape
    g = forward(U, C, v)
    if A is None:
        r = g - y
    else:
        r = A.T @ (A @ g - y)
    return vjp(U, C, v, r)


def gradient_loops(U, C, v, y):
    """Gradient of ``½‖G(C) − y‖²`` by the chain rule, entry by entry (no ``J``)."""
    n, k = C.shape
    Z = U @ C
    r = forward(U, C, v) - y
    grad = np.zeros((n, k))
    for ell in range(k):
        for j in range(n):
            s = 0.0
            for i in range(n):
                if Z[i, ell] > 0:
                    s += r[i] * v[ell] * U[i, j]
            grad[j, ell] = s
    return grad


# --------------------------------------------------------------------------- kernels


def empirical_kernel(U, C, v):
    J = jacobian(U, C, v)
    return J @ J.T


def empirical_kernel_sum(U, C, v):
    """``K = Σ_l v_l² D_l U Uᵀ D_l`` (``theory.md`` §2.1), no Jacobian."""
    n, k = C.shape
    Z = U @ C
    K = np.zeros((n, n))
    UUt = U @ U.T
    for ell in range(k):
        d = (Z[:, ell] > 0).astype(float)
        K += v[ell] ** 2 * (d[:, None] * UUt * d[None, :])
    return K


def expected_kernel(U, v):
    """``Σ_ij = ‖v‖² ⟨u_i, u_j⟩ (π − θ_ij) / (2π)`` by a double loop over ``(i, j)``."""
    n = U.shape[0]
    vv = float(np.dot(v, v))
    norms = [math.sqrt(float(np.dot(U[i], U[i]))) for i in range(n)]
    S = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):  # Σ is symmetric: fill both triangles at once
            ip = float(np.dot(U[i], U[j]))
            if i == j:
                theta = 0.0  # the angle of a vector with itself
            else:
                cos = ip / (norms[i] * norms[j])
                theta = math.acos(min(1.0, max(-1.0, cos)))
            S[i, j] = S[j, i] = vv * ip * (math.pi - theta) / (2 * math.pi)
    return S


def autocorrelation(taps, n):
    """``a_d = Σ_m c[m] c[m + d]`` for the first column ``c`` of ``U`` (circular)."""
    U = conv_matrix(taps, n)
    col = U[:, 0]
    return np.array([sum(col[m] * col[(m + d) % n] for m in range(n)) for d in range(n)])


# --------------------------------------------------------------------------- trig basis


def trig_basis(n):
    """Frequency-ordered real trigonometric basis, ``theory.md`` §2.3.

    Columns ``w_0 = 1/√n``; then for ``1 <= f < n/2`` the pair
    ``√(2/n) cos(2πfm/n)``, ``√(2/n) sin(2πfm/n)``; for even ``n``
    ``(−1)^m/√n`` last. Returns ``(W, frequencies, kinds)`` with kinds
    ``"cos"``/``"sin"`` (DC and Nyquist count as ``"cos"``).
    """
    cols, freqs, kinds = [], [], []
    m = np.arange(n)
    cols.append(np.full(n, 1.0 / math.sqrt(n)))
    freqs.append(0)
    kinds.append("cos")
    f = 1
    while 2 * f < n:
        cols.append(math.sqrt(2.0 / n) * np.cos(2 * math.pi * f * m / n))
        freqs.append(f)
        kinds.append("cos")
        cols.append(math.sqrt(2.0 / n) * np.sin(2 * math.pi * f * m / n))
        freqs.append(f)
        kinds.append("sin")
        f += 1
    if n % 2 == 0:
        cols.append(np.array([(-1.0) ** mm for mm in range(n)]) / math.sqrt(n))
        freqs.append(n // 2)
        kinds.append("cos")
    return np.column_stack(cols), np.array(freqs), np.array(kinds)


def trig_function(n, f, kind):
    """The unit-norm basis function of frequency ``f`` and kind ``"cos"``/``"sin"``."""
    m = np.arange(n)
    if f == 0 or 2 * f == n:
        assert kind == "cos"
        return np.cos(2 * math.pi * f * m / n) / math.sqrt(n)
    fun = np.cos if kind == "cos" else np.sin
    return math.sqrt(2.0 / n) * fun(2 * math.pi * f * m / n)


def frequency_energy(x):
    """``E_f = ⟨w_f^c, x⟩² + ⟨w_f^s, x⟩²`` by explicit projections, ``f = 0 … n//2``."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    E = np.zeros(n // 2 + 1)
    for f in range(n // 2 + 1):
        E[f] = float(trig_function(n, f, "cos") @ x) ** 2
        if 0 < f and 2 * f != n:
            E[f] += float(trig_function(n, f, "sin") @ x) ** 2
    return E


def eigvals_desc(M):
    return np.linalg.eigvalsh(0.5 * (M + M.T))[::-1]


def eig_clusters(lam, rtol):
    """Split decreasing eigenvalues into clusters whose neighbours are closer than ``rtol·scale``."""
    scale = max(float(np.max(np.abs(lam))), 1e-300)
    groups, cur = [], [0]
    for i in range(1, len(lam)):
        if abs(lam[i - 1] - lam[i]) <= rtol * scale:
            cur.append(i)
        else:
            groups.append(cur)
            cur = [i]
    groups.append(cur)
    return groups


# --------------------------------------------------------------------------- dynamics


def gradient_descent(U, v, y, C0, eta, steps, A=None):
    """Plain gradient descent with dense ``U``.

    Returns ``(losses, outputs, C)`` with ``losses[τ]`` and ``outputs[τ] = G(C_τ)``
    for ``τ = 0 … steps`` and the final weights.
    """
    C = np.array(C0, dtype=float, copy=True)
    losses, outputs = [], []
    for tau in range(steps + 1):
        Z = U @ C
        g = relu(Z) @ v
        if A is None:
            rm = g - y
            r = rm
        else:
            rm = A @ g - y
            r = A.T @ rm
        losses.append(0.5 * float(rm @ rm))
        outputs.append(g)
        if tau == steps:
            break
        M = (Z > 0).astype(float)
        grad = U.T @ (M * np.outer(r, v))
        C = C - eta * grad
    return np.array(losses), np.array(outputs), C


def linearized_run(K, y, eta, steps, f0=None, A=None):
    """Linearized gradient descent by repeated matrix-vector products.

    Denoising: ``r ← r − η K r``, ``f ← f + η K r``.
    With ``A``: ``f ← f + η K Aᵀ ρ``, ``ρ ← ρ − η A K Aᵀ ρ``.

    Returns ``(residuals, outputs)`` for ``τ = 0 … steps``.
    """
    n = K.shape[0]
    f = np.zeros(n) if f0 is None else np.array(f0, dtype=float)
    if A is None:
        r = y - f
        res, outs = [r.copy()], [f.copy()]
        for _ in range(steps):
            Kr = K @ r
            f = f + eta * Kr
            r = r - eta * Kr
            res.append(r.copy())
            outs.append(f.copy())
        return np.array(res), np.array(outs)
    rho = y - A @ f
    M = A @ K @ A.T
    res, outs = [rho.copy()], [f.copy()]
    for _ in range(steps):
        f = f + eta * (K @ (A.T @ rho))
        rho = rho - eta * (M @ rho)
        res.append(rho.copy())
        outs.append(f.copy())
    return np.array(res), np.array(outs)


def linearized_limit(K, y, f0=None, A=None, rcond=1e-10):
    """``τ → ∞`` of the linearized iteration via pseudo-inverses.

    Denoising: ``f0 + K K⁺ (y − f0)``; with ``A``: ``f0 + K Aᵀ (A K Aᵀ)⁺ (y − A f0)``.
    """
    n = K.shape[0]
    f0 = np.zeros(n) if f0 is None else np.asarray(f0, dtype=float)
    if A is None:
        return f0 + K @ np.linalg.pinv(K, rcond=rcond, hermitian=True) @ (y - f0)
    M = A @ K @ A.T
    return f0 + K @ A.T @ np.linalg.pinv(M, rcond=rcond, hermitian=True) @ (y - A @ f0)


def gradient_flow(K, y, eta, t, f0=None, A=None):
    """Gradient flow of the linear model with ``scipy.linalg.expm``.

    Residual ``expm(−η M t) ρ0`` (``M = K`` or ``A K Aᵀ``); output
    ``f0 + η K Aᵀ ∫_0^t expm(−η M s) ds ρ0``, the integral from the block matrix
    ``expm([[−ηM, I], [0, 0]] t)`` (Van Loan), so no inverse of ``M`` is needed.
    """
    n = K.shape[0]
    f0 = np.zeros(n) if f0 is None else np.asarray(f0, dtype=float)
    At = np.eye(n) if A is None else A.T
    M = At.T @ K @ At
    rho0 = y - At.T @ f0
    d = M.shape[0]
    residual = scipy.linalg.expm(-eta * M * t) @ rho0
    B = np.zeros((2 * d, 2 * d))
    B[:d, :d] = -eta * M
    B[:d, d:] = np.eye(d)
    integral = scipy.linalg.expm(B * t)[:d, d:]
    output = f0 + eta * K @ At @ integral @ rho0
    return residual, output


def fit_time_bruteforce(K, target, eta, delta, max_steps=100000, A=None):
    """Smallest ``τ`` with ``‖(I − η M)^τ target‖ <= δ ‖target‖`` by stepping one at a time.

    Returns ``(tau, ratios)`` with the ratios ``‖r_τ‖/‖r_0‖`` seen.
    """
    M = K if A is None else A @ K @ A.T
    r = np.array(target, dtype=float)
    norm0 = float(np.linalg.norm(r))
    ratios = [1.0]
    for tau in range(max_steps + 1):
        if float(np.linalg.norm(r)) <= delta * norm0:
            return tau, np.array(ratios)
        r = r - eta * (M @ r)
        ratios.append(float(np.linalg.norm(r)) / norm0)
    return math.inf, np.array(ratios)


# --------------------------------------------------------------------------- bit-packed patterns


def packed_pattern(S, rows=None):
    """Pack a boolean ``(n, k)`` pattern 64 channels to a word, bit by bit.

    Bit ``b`` of word ``w`` in row ``i`` is ``S[i, 64 w + b]``; channels past
    ``k`` and rows past ``n`` (up to ``rows``) are zero. Returns uint64
    ``(rows, ⌈k/64⌉)``.
    """
    S = np.asarray(S, dtype=bool)
    n, k = S.shape
    rows = n if rows is None else rows
    words = (k + 63) // 64
    P = np.zeros((rows, words), dtype=np.uint64)
    for i in range(n):
        for w in range(words):
            value = 0
            for b in range(64):
                c = 64 * w + b
                if c < k and S[i, c]:
                    value += 2**b
            P[i, w] = value
    return P


def coactive_counts(S):
    """``N[i, j] = #{l : S[i, l] and S[j, l]}``: channels in which outputs ``i`` and ``j`` are both active."""
    S = np.asarray(S, dtype=bool)
    n = S.shape[0]
    N = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        for j in range(n):
            N[i, j] = int(np.count_nonzero(S[i] & S[j]))
    return N


# --------------------------------------------------------------------------- images (2-D)


def conv2d_matrix(taps, H, W):
    """Dense ``U`` of the 2-D circular convolution of ``H x W`` images, entry by entry.

    ``(U c)[i1, i2] = Σ_{a1, a2} u[a1, a2] c[(i1 − a1 + h1) mod H, (i2 − a2 + h2) mod W]``
    with ``h_j = (L_j − 1)//2``; pixel ``(i1, i2)`` is entry ``i1·W + i2``.
    Taps that wrap around onto the same pixel are summed.
    """
    taps = np.asarray(taps, dtype=float)
    L1, L2 = taps.shape
    h1, h2 = (L1 - 1) // 2, (L2 - 1) // 2
    n = H * W
    U = np.zeros((n, n))
    for i1 in range(H):
        for i2 in range(W):
            for a1 in range(L1):
                for a2 in range(L2):
                    j1 = (i1 - a1 + h1) % H
                    j2 = (i2 - a2 + h2) % W
                    U[i1 * W + i2, j1 * W + j2] += taps[a1, a2]
    return U


def apply_conv2d(taps, image):
    """``U c`` for one ``(H, W)`` image straight from the convolution sum, without a matrix."""
    taps = np.asarray(taps, dtype=float)
    c = np.asarray(image, dtype=float)
    H, W = c.shape
    L1, L2 = taps.shape
    h1, h2 = (L1 - 1) // 2, (L2 - 1) // 2
    out = np.zeros((H, W))
    for i1 in range(H):
        for i2 in range(W):
            for t1 in range(-h1, L1 - h1):
                for t2 in range(-h2, L2 - h2):
                    out[i1, i2] += taps[h1 + t1, h2 + t2] * c[(i1 - t1) % H, (i2 - t2) % W]
    return out


def block_circulant_from_first_row(row, H, W):
    """``M[i, j] = row[(j1 − i1) mod H, (j2 − i2) mod W]`` (row flattened row-major), entry by entry."""
    row = np.asarray(row, dtype=float).reshape(H, W)
    n = H * W
    M = np.empty((n, n))
    for i in range(n):
        i1, i2 = divmod(i, W)
        for j in range(n):
            j1, j2 = divmod(j, W)
            M[i, j] = row[(j1 - i1) % H, (j2 - i2) % W]
    return M


def plane_wave(H, W, f, kind):
    """``√(2/n) cos θ_f`` or ``√(2/n) sin θ_f`` (``1/√n cos θ_f`` when ``f ≡ −f``) on the flat grid.

    ``θ_f(m) = 2π (f1 m1 / H + f2 m2 / W)``, pixel ``(m1, m2)`` at ``m1·W + m2``.
    """
    n = H * W
    real_only = (2 * f[0]) % H == 0 and (2 * f[1]) % W == 0
    w = np.empty(n)
    for m in range(n):
        m1, m2 = divmod(m, W)
        theta = 2 * math.pi * (f[0] * m1 / H + f[1] * m2 / W)
        w[m] = math.sin(theta) if kind == "sin" else math.cos(theta)
    return w * (1.0 / math.sqrt(n) if real_only else math.sqrt(2.0 / n))


# --------------------------------------------------------------------------- other activations
#: Scalar activations and derivatives written out with ``math`` (the references of ntk_toolkit.activations).
SCALAR_ACTIVATIONS = {
    "relu": (lambda t: max(t, 0.0), lambda t: 1.0 if t > 0 else 0.0),
    "leaky_relu:0.1": (lambda t: t if t > 0 else 0.1 * t, lambda t: 1.0 if t > 0 else 0.1),
    "leaky_relu:-0.5": (lambda t: t if t > 0 else -0.5 * t, lambda t: 1.0 if t > 0 else -0.5),
    "abs": (abs, lambda t: 1.0 if t > 0 else -1.0),
    "step": (lambda t: 1.0 if t > 0 else 0.0, lambda t: 0.0),
    "erf": (math.erf, lambda t: 2.0 / math.sqrt(math.pi) * math.exp(-t * t)),
    "tanh": (math.tanh, lambda t: 1.0 / math.cosh(t) ** 2 if abs(t) < 300 else 0.0),
    "softplus": (lambda t: max(t, 0.0) + math.log1p(math.exp(-abs(t))),
                 lambda t: 1.0 / (1.0 + math.exp(-t)) if t > -700 else 0.0),
    "quadratic": (lambda t: t * t, lambda t: 2.0 * t),
    "linear": (lambda t: t, lambda t: 1.0),
}
#: Activations with a kink at 0 (the integrals are split there).
KINKED = {"relu", "leaky_relu:0.1", "leaky_relu:-0.5", "abs", "step"}


def gaussian_product_mean(name, rho, q1, q2, derivative=False):
    """``E[φ(a) φ(b)]`` by nested adaptive quadrature (``scipy.integrate.quad``), split at the kinks.

    ``a = √q1 x``, ``b = √q2 (ρ x + √(1 − ρ²) z)``; the inner integral over ``z``
    is split where ``b = 0``, the outer over ``x`` at ``x = 0``.
    """
    from scipy.integrate import quad

    fn = SCALAR_ACTIVATIONS[name][1 if derivative else 0]
    s = math.sqrt(max(0.0, (1.0 - rho) * (1.0 + rho)))
    sq1, sq2 = math.sqrt(q1), math.sqrt(q2)
    gauss = 1.0 / math.sqrt(2.0 * math.pi)
    opts = {"epsabs": 1e-14, "epsrel": 1e-13, "limit": 200}

    def inner(x):
        if s == 0.0:
            return fn(sq2 * rho * x)
        g = lambda z: fn(sq2 * (rho * x + s * z)) * gauss * math.exp(-z * z / 2)  # noqa: E731
        if name not in KINKED:
            return quad(g, -math.inf, math.inf, **opts)[0]
        cut = -rho * x / s
        return quad(g, -math.inf, cut, **opts)[0] + quad(g, cut, math.inf, **opts)[0]

    h = lambda x: fn(sq1 * x) * inner(x) * gauss * math.exp(-x * x / 2)  # noqa: E731
    return quad(h, -math.inf, 0.0, **opts)[0] + quad(h, 0.0, math.inf, **opts)[0]


def jacobian_activation(U, C, v, name, a=None):
    """Dense ``J`` of ``φ(U C) v`` column by column with the scalar ``φ'`` (and ``φ``, for a trained output).

    Columns ``l*n + j``: ``v_l φ'((UC)_il) U[i, j]``; with ``a`` (trained output,
    ``v = a/√k``) ``k`` more columns ``φ((UC)_il)/√k``.
    """
    phi, dphi = SCALAR_ACTIVATIONS[name]
    n, k = C.shape
    Z = U @ C
    if a is not None:
        v = np.asarray(a, dtype=float) / math.sqrt(k)
    J = np.zeros((n, n * k + (k if a is not None else 0)))
    for ell in range(k):
        d = np.array([dphi(float(t)) for t in Z[:, ell]])
        for j in range(n):
            J[:, ell * n + j] = v[ell] * d * U[:, j]
        if a is not None:
            J[:, n * k + ell] = np.array([phi(float(t)) for t in Z[:, ell]]) / math.sqrt(k)
    return J


def forward_activation(U, C, v, name):
    """``G = Σ_l v_l φ(U c_l)`` with the scalar ``φ``."""
    phi = SCALAR_ACTIVATIONS[name][0]
    Z = U @ C
    return np.array([sum(v[ell] * phi(float(Z[i, ell])) for ell in range(C.shape[1])) for i in range(U.shape[0])])


def expected_kernel_activation(U, v, name, omega=1.0, trained=False):
    """``Σ_ij = ‖v‖² ⟨u_i, u_j⟩ E[φ'φ'] (+ E[φφ])`` by a double loop of nested quadratures (small n)."""
    n = U.shape[0]
    vv = float(np.dot(v, v))
    S = np.empty((n, n))
    cache = {}
    for i in range(n):
        for j in range(i, n):
            ip = float(np.dot(U[i], U[j]))
            ni, nj = math.sqrt(float(U[i] @ U[i])), math.sqrt(float(U[j] @ U[j]))
            rho = 1.0 if i == j else min(1.0, max(-1.0, ip / (ni * nj)))
            key = (round(rho, 14), round(omega * ni, 14), round(omega * nj, 14))
            if key not in cache:
                q1, q2 = (omega * ni) ** 2, (omega * nj) ** 2
                cache[key] = (gaussian_product_mean(name, rho, q1, q2, True),
                              gaussian_product_mean(name, rho, q1, q2) if trained else 0.0)
            dd, pp = cache[key]
            S[i, j] = S[j, i] = vv * ip * dd + pp
    return S


# --------------------------------------------------------------------------- regime diagnostics
def regime_diagnostics(U, v, C0, y, eta, taus, A=None):
    """Regime diagnostics (docs/theory.md eq. (9.1)) computed directly.

    Gradient descent with dense ``U`` to each ``τ``, the kernel as ``J Jᵀ`` from
    the explicit Jacobian, the signs of ``U C`` compared entry by entry, the
    linearized outputs by repeated matrix-vector products. Returns
    ``(weight_change, sign_flips, kernel_drift, linearization_gap)``, each of shape ``(len(taus),)``.
    """
    def kernel(C):
        J = jacobian(U, C, v)
        return J @ J.T

    K0 = kernel(C0)
    g0 = forward(U, C0, v)
    _, lin_outs = linearized_run(K0, y, eta, max(taus), f0=g0, A=A)
    scale = max(np.linalg.norm(y) / (1.0 if A is None else np.linalg.norm(A, 2)), np.linalg.norm(g0))
    rows = []
    for tau in taus:
        _, outs, C = gradient_descent(U, v, y, C0, eta, tau, A=A)
        flips = np.mean((U @ C > 0) != (U @ C0 > 0))
        drift = np.linalg.norm(kernel(C) - K0) / np.linalg.norm(K0)
        rows.append((np.linalg.norm(C - C0) / np.linalg.norm(C0), flips, drift,
                     np.linalg.norm(outs[-1] - lin_outs[tau]) / scale))
    return tuple(np.array(col) for col in zip(*rows))


# --------------------------------------------------------------------------- deep decoder (plain loops)
def upsample_linear_1d(x, factor):
    """``torch.nn.Upsample(mode="linear", align_corners=False)`` of one row ``x``, sample by sample."""
    m = len(x)
    out = []
    for o in range(m * factor):
        src = (o + 0.5) / factor - 0.5
        if src < 0:
            src = 0.0
        i0 = int(math.floor(src))
        i1 = i0 + 1 if i0 < m - 1 else i0
        lam = src - i0
        out.append((1.0 - lam) * x[i0] + lam * x[i1])
    return out


def upsample_channel(x, factor):
    """Upsample one channel (a list for 1-D, a list of rows for 2-D): rows first, then columns."""
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        return np.array(upsample_linear_1d(list(x), factor))
    rows = [upsample_linear_1d(list(row), factor) for row in x]
    cols = [upsample_linear_1d([rows[i][j] for i in range(len(rows))], factor) for j in range(len(rows[0]))]
    return np.array([[cols[j][i] for j in range(len(cols))] for i in range(len(cols[0]))])


def channel_norm_loops(x, scale, shift, eps=1e-5):
    """Per channel: subtract the mean over positions, divide by sqrt(biased variance + eps), scale, shift."""
    out = np.empty_like(x)
    for c in range(x.shape[0]):
        vals = list(x[c].ravel())
        mu = sum(vals) / len(vals)
        var = sum((v - mu) ** 2 for v in vals) / len(vals)
        out[c] = (x[c] - mu) / math.sqrt(var + eps) * scale[c] + shift[c]
    return out


def deep_decoder_forward(net, theta):
    """The deep decoder of ``docs/theory.md`` §6 written as loops over layers, channels and positions.

    Uses only ``net``'s description (channels, shapes, options, input, parameter
    names) — none of its arithmetic.
    """
    a = net.params_to_arrays(theta)
    B = np.array(net.input, dtype=float)
    for i in range(net.depth):
        C = a[f"C{i}"]
        k_in, k_out = C.shape
        Z = np.zeros((k_out,) + B.shape[1:])
        for co in range(k_out):
            for ci in range(k_in):
                for pos in np.ndindex(*B.shape[1:]):
                    Z[(co,) + pos] += C[ci, co] * B[(ci,) + pos]
        if net.upsample == "transposed" and i < net.depth - 1:
            f, h = net.factor, a[f"filter{i}"]
            X = np.zeros((k_out,) + tuple(f * s for s in Z.shape[1:]))
            for c in range(k_out):
                for pos in np.ndindex(*Z.shape[1:]):
                    X[(c,) + tuple(f * p for p in pos)] = Z[(c,) + pos]
            if X.ndim == 2:
                Z = np.array([apply_conv(h, X[c]) for c in range(k_out)])
            else:
                Z = np.array([apply_conv2d(h, X[c]) for c in range(k_out)])
        elif net.upsample != "none" and i < net.depth - 1:
            Z = np.array([upsample_channel(Z[c], net.factor) for c in range(k_out)])
        elif net.interpolation_filter is not None and i < net.depth - 1:
            taps = np.asarray(net.interpolation_filter.taps)
            if Z.ndim == 2:
                Z = np.array([apply_conv(taps, Z[c]) for c in range(k_out)])
            else:
                Z = np.array([apply_conv2d(taps, Z[c]) for c in range(k_out)])
        if net.norm is not None and net.norm_before_act:
            Z = channel_norm_loops(Z, a[f"scale{i}"], a[f"shift{i}"])
        Z = np.array([[max(v, 0.0) for v in Z[c].ravel()] for c in range(k_out)]).reshape(Z.shape)
        if net.norm is not None and not net.norm_before_act:
            Z = channel_norm_loops(Z, a[f"scale{i}"], a[f"shift{i}"])
        B = Z
    Cd = a[f"C{net.depth}"] if net.last_layer == "trainable" else np.asarray(net.output_weights)
    O = np.zeros((Cd.shape[1],) + B.shape[1:])
    for co in range(Cd.shape[1]):
        for ci in range(Cd.shape[0]):
            O[co] += Cd[ci, co] * B[ci]
    if net.output == "sigmoid":
        O = 1.0 / (1.0 + np.exp(-O))
    return O.ravel()


def jacobian_fd_params(f, theta, h=1e-5):
    """Central finite-difference Jacobian of ``f`` at the flat ``theta``, column by column.

    Richardson-extrapolated, ``(4 D(h/2) − D(h))/3``: the ``h²`` term of the
    central difference cancels (the normalisation and the sigmoid are curved).
    """
    cols = []
    for j in range(theta.size):
        e = np.zeros_like(theta)
        e[j] = 1.0
        d1 = (f(theta + h * e) - f(theta - h * e)) / (2 * h)
        d2 = (f(theta + 0.5 * h * e) - f(theta - 0.5 * h * e)) / h
        cols.append((4.0 * d2 - d1) / 3.0)
    return np.stack(cols, axis=1)


def multilayer_forward(operators, channels, theta, v):
    """``relu(U_d relu(… relu(U_1 C_1) …) W_d) v`` with explicit matrices."""
    n = operators[0].shape[0]
    C1 = np.asarray(theta[: n * channels[0]]).reshape(channels[0], n).T
    H = relu(operators[0] @ C1)
    start = n * channels[0]
    for j in range(1, len(operators)):
        W = np.asarray(theta[start:start + channels[j - 1] * channels[j]]).reshape(channels[j - 1], channels[j])
        start += W.size
        H = relu(operators[j] @ (H @ W))
    return H @ v


def adam_run(grad, theta, lr, steps, b1=0.9, b2=0.999, eps=1e-8):
    """Adam written from its definition: bias-corrected moment estimates, one coordinate at a time."""
    theta = [float(t) for t in theta]
    m = [0.0] * len(theta)
    v = [0.0] * len(theta)
    for t in range(1, steps + 1):
        g = grad(np.array(theta))
        for i in range(len(theta)):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            mhat = m[i] / (1 - b1 ** t)
            vhat = v[i] / (1 - b2 ** t)
            theta[i] -= lr * mhat / (math.sqrt(vhat) + eps)
    return np.array(theta)


def band_counts(mask, H, W, d1, d2):
    """``N[i, j_q]``: channels in which pixel ``i`` and its neighbour at offset ``(d1[q], d2[q])`` are both active."""
    mask = np.asarray(mask) > 0
    out = np.zeros((H * W, len(d1)), dtype=np.int64)
    for i in range(H * W):
        i1, i2 = divmod(i, W)
        for q in range(len(d1)):
            j = ((i1 + d1[q]) % H) * W + (i2 + d2[q]) % W
            out[i, q] = int(np.sum(mask[i] & mask[j]))
    return out
