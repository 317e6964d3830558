# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 04 — Compressive sensing: gradient descent finds the smoothest interpolant
#
# We observe $m<n$ linear measurements $y=Ax$ (later $y=Ax+e$) of a smooth signal
# $x\in\mathbb R^n$ and fit the un-trained generator $G(C)=\mathrm{ReLU}(UC)\,v$ to them by
# gradient descent on $\mathcal L(C)=\tfrac12\|A\,G(C)-y\|^2$
# ([theory §1.2](../docs/theory.md)). Infinitely many signals explain the measurements; which
# one does gradient descent return? In the linearised regime it converges to
# ([theory §5.1](../docs/theory.md))
#
# $$\hat x=\Sigma A^\top(A\Sigma A^\top)^{-1}y=\arg\min_{x:\,Ax=y}\ x^\top\Sigma^{-1}x,\qquad
# x^\top\Sigma^{-1}x=\sum_i\frac{\langle w_i,x\rangle^2}{\lambda_i},$$
#
# the interpolant with the smallest $\Sigma^{-1}$-norm. The norm charges every eigen-component by
# the inverse of its eigenvalue, and for an interpolating filter the eigenvalues decay with
# frequency ([theory §2.5](../docs/theory.md)): $\hat x$ is the **smoothest** signal consistent
# with the data. This notebook
#
# 1. trains the network to convergence on one set of Gaussian measurements and compares it
#    with $\hat x$ and with the minimum-$\ell_2$ interpolant $A^+y$;
# 2. measures the recovery error against the number of measurements $m$ and compares it with
#    the recovery law of [theory §5.2](../docs/theory.md), with $A^+y$ and with $\ell_1$
#    recovery, and checks that the trained network lands on $\hat x$ at several $m$;
# 3. repeats the comparison for a random sampling mask (inpainting) and for randomly
#    subsampled DCT coefficients;
# 4. adds measurement noise: the converged estimate amplifies it, and early stopping by the
#    discrepancy principle ([theory §7.1](../docs/theory.md)) is compared with the oracle
#    stopping time.
#
# **Run modes.** With `NTK_TOOLKIT_QUICK=1` in the environment the notebook uses small sizes
# and few repetitions and runs in about a minute; by default it uses the sizes of the papers'
# 1-D experiments and takes several minutes.

# %%
# %matplotlib inline
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import ntk_toolkit as nt
from ntk_toolkit.filters import delta, triangle
from ntk_toolkit.measurements import GaussianMeasurement, RandomMask, SubsampledDCT
from ntk_toolkit.operators import CircularConv

QUICK = os.environ.get("NTK_TOOLKIT_QUICK", "0") == "1"

N = 128 if QUICK else 256  # signal length n
FILTER = triangle(6) if QUICK else triangle(8)
P = 9  # x is a combination of the p = 9 lowest-frequency trigonometric functions, ‖x‖ = 1
K = 1024 if QUICK else 4096  # channels of the trained networks
MS = [9, 18, 27, 36, 54, 72] if QUICK else [9, 18, 27, 36, 54, 72, 108, 144]  # numbers of measurements
TRIALS = 20 if QUICK else 100  # random draws of A per m (smoothest interpolant, A⁺y)
L1_TRIALS = 2 if QUICK else 4  # draws for ℓ1 recovery (an iterative solver: slower)
NET_MS = [18, 36] if QUICK else [18, 36, 54]  # m at which the network is trained to convergence
M_MASK = 36 if QUICK else 72  # samples kept in the inpainting example
RTOL = 1e-6  # run until the training loss is 1e-6 of its initial value
M_NOISY = 15 * N // 16  # measurements in the noisy experiment (close to n: noise is amplified)
NOISE_STD = 0.02  # e ~ N(0, σ_e² I_m)
TAU_DP = 1.2  # discrepancy principle: stop at the first τ with ‖y − A G(C_τ)‖ ≤ τ_DP ‖e‖
SEED = 0

plt.rcParams.update({"figure.dpi": 90, "axes.grid": True, "grid.alpha": 0.3, "legend.fontsize": "small"})
t_start = time.perf_counter()
print(f"QUICK = {QUICK}: n = {N}, filter {FILTER.name}, p = {P}, k = {K}; m ∈ {MS}, {TRIALS} draws of A per m; "
      f"network at m ∈ {NET_MS}; noisy: m = {M_NOISY}, σ_e = {NOISE_STD}")


def generator(filt, n, k):
    """The two-layer generator with a circulant convolution U."""
    return nt.TwoLayerGenerator(CircularConv(filt, n), k)


def rng(*tags):
    """An independent random stream for each part of the notebook."""
    return np.random.default_rng([SEED, *tags])


def err(estimate):
    """Relative recovery error ‖x̃ − x‖ / ‖x‖ (here ‖x‖ = 1)."""
    return float(np.linalg.norm(estimate - x) / np.linalg.norm(x))


# %% [markdown]
# ## 1. One recovery problem, solved four ways
#
# The signal $x$ is a random combination of the $p=9$ lowest-frequency trigonometric functions
# (`nt.signals.smooth`), which for this filter is the top-$p$ eigenspace of $\Sigma$. The
# measurement matrix $A$ has i.i.d. $\mathcal N(0,1/m)$ entries (`GaussianMeasurement`). We
# compare
#
# * the **smoothest interpolant** $\hat x$ (`nt.smoothest_interpolant(gen, A, y)`, computed
#   from the $m\times m$ matrix $A\Sigma A^\top$ and the circulant spectrum of $\Sigma$);
# * the **minimum-$\ell_2$ interpolant** $A^+y$ (`nt.min_l2_interpolant`): the smoothest
#   interpolant of the δ filter, $\Sigma=I/2$, which has no preference for smooth signals;
# * **$\ell_1$ recovery** in the DCT basis (`nt.l1_recovery`, basis pursuit by FISTA), the
#   classical compressive-sensing estimator for signals that are sparse in a known basis;
# * the **network** trained to convergence by `nt.run_to_convergence` from the mirrored
#   initialisation ($G(C_0)=0$, so the limit is exactly $\hat x$ in the linear theory),
#   $\omega=1$, step $\eta=1/(\|U\|^2\|A\|^2)$ (`nt.max_step_size(gen, A)`).

# %%
gen = generator(FILTER, N, K)
spec = nt.spectrum(gen)
x = nt.signals.smooth(N, p=P, seed=rng(1))
m_demo = NET_MS[-1]
A_demo = GaussianMeasurement(m_demo, N, seed=rng(10, MS.index(m_demo)))  # also the first draw of section 2
y_demo = A_demo.apply(x)

demo = {
    "smoothest interpolant $\\hat x$": nt.smoothest_interpolant(spec, A_demo, y_demo),
    "min-$\\ell_2$ interpolant $A^+y$": nt.min_l2_interpolant(A_demo, y_demo),
    "$\\ell_1$ recovery (DCT)": nt.l1_recovery(A_demo, y_demo),
}
t0 = time.perf_counter()
conv_demo = nt.run_to_convergence(gen, y_demo, gen.init(seed=rng(11, len(NET_MS) - 1), omega=1.0, symmetric=True),
                                  A=A_demo,
                                  rtol=RTOL, max_steps=50_000, x_true=x, record=200)
t_demo = time.perf_counter() - t0
demo["network at convergence"] = conv_demo.output
xhat_demo = demo["smoothest interpolant $\\hat x$"]

print(f"energy of x in the top-{P} eigenspace of Σ: {spec.energy_in_top(x, P, relative=True):.6f}")
print(f"m = {m_demo} Gaussian measurements of n = {N}:")
for name, est in demo.items():
    print(f"  {name:36s} relative error {err(est):.4f}")
print(f"network: {conv_demo.reason} ({t_demo:.1f} s); "
      f"‖G(C_∞) − x̂‖ = {np.linalg.norm(conv_demo.output - xhat_demo):.4f}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(15, 4.6), gridspec_kw={"width_ratios": [1.6, 1]})
ax1.plot(x, "k-", lw=3, label="truth $x$")
for (name, est), style in zip(demo.items(), ["-", "-", "-", "--"]):
    ax1.plot(est, style, lw=1.6 if style == "-" else 2.2, label=f"{name}: error {err(est):.3f}")
ax1.set_xlabel("sample index")
ax1.set_ylabel("value")
ax1.set_title(f"Recovery from m = {m_demo} Gaussian measurements (n = {N}, {FILTER.name})")
ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3)
it = conv_demo.iterations + 1.0
ax2.loglog(it, conv_demo.errors, "-", lw=2, label="network $\\|G(C_\\tau)-x\\|$")
ax2.loglog(np.arange(conv_demo.losses.size) + 1.0, np.sqrt(2 * conv_demo.losses), "-", lw=1.5, color="0.5",
           label="training residual $\\|y-AG(C_\\tau)\\|$")
ax2.axhline(err(xhat_demo), color="C0", ls="--", label="$\\|\\hat x-x\\|$")
ax2.axhline(err(demo["min-$\\ell_2$ interpolant $A^+y$"]), color="C1", ls=":", label="$\\|A^+y-x\\|$")
ax2.set_xlabel("iteration $\\tau+1$")
ax2.set_ylabel("norm")
ax2.set_title("Training the network to convergence")
ax2.legend()
fig.tight_layout()
plt.show()

# %% [markdown]
# $A^+y$ lies in the row space of $A$, a random $m$-dimensional subspace: it keeps only the part
# of $x$ that $A$ sees directly and is far from $x$. The smoothest interpolant fills the rest
# with the smoothest completion, and the trained network ends up on it: the training residual
# goes to zero while the recovery error settles at $\|\hat x-x\|$, not at zero.
#
# ## 2. Error against the number of measurements
#
# **The recovery law** ([theory §5.2](../docs/theory.md)). For Gaussian $A$, $\hat x$ behaves like
# ridge regression in the eigenbasis of $\Sigma$ with an effective ridge $\kappa$ that the
# number of measurements sets,
#
# $$\sum_i\frac{\lambda_i}{\lambda_i+\kappa}=m,\qquad
# \mathbb E\|\hat x-x\|^2\approx\frac{\kappa^2\sum_i a_i^2/(\lambda_i+\kappa)^2}{1-\mathrm{df}_2/m},\qquad
# \mathrm{df}_2=\sum_i\frac{\lambda_i^2}{(\lambda_i+\kappa)^2},\quad a=W^\top x .$$
#
# Component $i$ survives with the factor $\lambda_i/(\lambda_i+\kappa)$: as $m$ grows, $\kappa$
# falls below the eigenvalues that carry $x$ and the error vanishes. For $A^+y$ (flat spectrum)
# the same law gives $\mathbb E\|A^+y-x\|^2=(1-m/n)\|x\|^2$. `nt.recovery_law(spec, x, m)`
# returns $\kappa$, $\mathrm{df}_2$ and the terms; `nt.predicted_recovery_error` its total.
#
# For each $m$ we draw `TRIALS` matrices $A$ and report the root-mean-square error of each
# estimator (ℓ1 on fewer draws). The network is trained to convergence at a few $m$ on the first
# draw (at the largest of them this is the run of section 1), and compared with $\hat x$ for the same draw.

# %%
spec_flat = nt.spectrum(generator(delta(), N, 2))  # Σ = I/2: its smoothest interpolant is A⁺y
sq = {key: np.zeros((len(MS), TRIALS)) for key in ("smooth", "pinv")}
sq_l1 = np.zeros((len(MS), L1_TRIALS))
first_draw = {}
t0 = time.perf_counter()
for j, m in enumerate(MS):
    r = rng(10, j)
    for t in range(TRIALS):
        A = GaussianMeasurement(m, N, seed=r)
        y = A.apply(x)
        xh = nt.smoothest_interpolant(spec, A, y)
        sq["smooth"][j, t] = err(xh) ** 2
        sq["pinv"][j, t] = err(nt.min_l2_interpolant(A, y)) ** 2
        if t < L1_TRIALS:
            sq_l1[j, t] = err(nt.l1_recovery(A, y)) ** 2
        if t == 0:
            first_draw[m] = (A, y, xh)
t_sweep = time.perf_counter() - t0
rms = {key: np.sqrt(v.mean(axis=1)) for key, v in sq.items()}
rms["l1"] = np.sqrt(sq_l1.mean(axis=1))

m_dense = np.arange(2, MS[-1] + 1)
law = np.array([np.sqrt(nt.predicted_recovery_error(spec, x, int(m))) for m in m_dense])
law_flat = np.array([np.sqrt(nt.predicted_recovery_error(spec_flat, x, int(m))) for m in m_dense])
law_at = np.array([np.sqrt(nt.predicted_recovery_error(spec, x, m)) for m in MS])

# The network, trained to convergence on the first draw of A at a few m.
net = {}
t0 = time.perf_counter()
for i, m in enumerate(NET_MS):
    A, y, xh = first_draw[m]
    if m == m_demo:  # the same A and C_0 as in section 1: reuse that run
        assert np.array_equal(A.todense(), A_demo.todense())
        c = conv_demo
    else:
        c = nt.run_to_convergence(gen, y, gen.init(seed=rng(11, i), omega=1.0, symmetric=True), A=A, rtol=RTOL,
                                  max_steps=50_000, record=[0])
    net[m] = {"err": err(c.output), "xhat": err(xh), "dist": float(np.linalg.norm(c.output - xh)),
              "steps": c.steps, "converged": c.converged}
t_net = time.perf_counter() - t0

fig, ax = plt.subplots(figsize=(10, 5.5))
ax.semilogy(m_dense, law, "-", color="C0", lw=2, label="recovery law $\\sqrt{\\mathbb{E}\\|\\hat x-x\\|^2}$ (§5.2)")
ax.semilogy(MS, rms["smooth"], "o", color="C0", ms=8, label=f"smoothest interpolant $\\hat x$, RMS over {TRIALS} draws")
ax.semilogy(m_dense, law_flat, "-", color="C1", lw=1.5, label="law for $A^+y$: $\\sqrt{1-m/n}$")
ax.semilogy(MS, rms["pinv"], "s", color="C1", ms=7, label=f"min-$\\ell_2$ $A^+y$, RMS over {TRIALS} draws")
ax.semilogy(MS, rms["l1"], "^-", color="C2", ms=8, lw=1, label=f"$\\ell_1$ recovery (DCT), RMS over {L1_TRIALS} draws")
ax.semilogy(NET_MS, [net[m]["xhat"] for m in NET_MS], "P", color="k", ms=12, mfc="none", mew=1.5,
            label="$\\hat x$ for the draw the network was trained on")
ax.semilogy(NET_MS, [net[m]["err"] for m in NET_MS], "x", color="C3", ms=11, mew=2.5,
            label=f"network trained to convergence (k = {K})")
ax.axvline(P, color="0.5", ls=":", label=f"m = p = {P}")
ax.set_xlabel("number of Gaussian measurements $m$")
ax.set_ylabel("relative recovery error $\\|\\tilde x-x\\|/\\|x\\|$")
ax.set_title(f"Recovery error against m (n = {N}, {FILTER.name}, x in the top-{P} eigenspace)")
ax.legend(loc="lower left")
plt.show()

print(f"sweep over m: {time.perf_counter() - t0 + t_sweep:.1f} s (networks {t_net:.1f} s)")
print(f"{'m':>4} {'law':>8} {'x̂ (RMS)':>9} {'A⁺y':>8} {'ℓ1':>8}")
for j, m in enumerate(MS):
    print(f"{m:4d} {law_at[j]:8.4f} {rms['smooth'][j]:9.4f} {rms['pinv'][j]:8.4f} {rms['l1'][j]:8.4f}")
for m in NET_MS:
    d = net[m]
    print(f"network at m = {m}: {d['steps']} steps (converged: {d['converged']}), error {d['err']:.4f}; "
          f"x̂ {d['xhat']:.4f}; ‖G(C_∞) − x̂‖ = {d['dist']:.4f}")

# %% [markdown]
# The smoothest interpolant follows the recovery law (the law is an $m,n\to\infty$ statement and
# can be off by several percent at small $m$, where the error is also heavy-tailed over draws
# of $A$). Its error falls steeply once $m$ exceeds $p$, while $A^+y$ only improves like
# $\sqrt{1-m/n}$. $\ell_1$ recovery uses a different prior, approximate sparsity in the DCT
# basis ($x$ is smooth, but its periodic trigonometric components do not match the DCT's
# boundary conditions, so it is not exactly sparse there): it is poor for the smallest $m$ and
# improves quickly once $m$ is a few times the number of significant DCT coefficients. The
# trained networks sit on top of $\hat x$ for
# their draw of $A$: gradient descent to convergence finds the smoothest interpolant, up to a
# finite-width deviation of order $k^{-1/2}$ ([theory §5.1](../docs/theory.md), §8 claim 14).
#
# ## 3. Other measurement operators
#
# The interpolants only need $A$ through `apply`, `apply_T` and `todense`, so every operator of
# `ntk_toolkit.measurements` works:
#
# * `RandomMask(n, m=m)` keeps $m$ random samples (inpainting). $A^+y$ fills the missing samples
#   with zeros; $\hat x$ interpolates them with the kernel.
# * `SubsampledDCT(m, n)` keeps $m$ random coefficients of the orthonormal DCT. For a smooth $x$
#   this is a *coherent* design: $x$ has its energy in a few low DCT coefficients, a random
#   subset of frequencies mostly misses them, and no estimator can recover what was not
#   measured. Since $\Sigma$ is diagonal in the Fourier basis, the smoothest interpolant cannot
#   infer an unmeasured frequency from the measured ones either.
#
# The recovery law assumes Gaussian $A$; it is shown for reference. The network is trained to
# convergence on one random mask.

# %%
operators = {
    "random mask (inpainting)": lambda m, r: RandomMask(N, m=m, seed=r),
    "subsampled DCT": lambda m, r: SubsampledDCT(m, N, seed=r),
}
op_trials = max(TRIALS // 4, 5)
op_rms = {}
t0 = time.perf_counter()
for name, make in operators.items():
    e2 = np.zeros((3, len(MS), op_trials))
    for j, m in enumerate(MS):
        r = rng(20, j)
        for t in range(op_trials):
            A = make(m, r)
            y = A.apply(x)
            e2[0, j, t] = err(nt.smoothest_interpolant(spec, A, y)) ** 2
            e2[1, j, t] = err(nt.min_l2_interpolant(A, y)) ** 2
            e2[2, j, t] = err(nt.l1_recovery(A, y)) ** 2 if t < L1_TRIALS else np.nan
    op_rms[name] = np.sqrt(np.nanmean(e2, axis=2))

m_mask = M_MASK
A_mask = RandomMask(N, m=m_mask, seed=rng(21))
y_mask = A_mask.apply(x)
xhat_mask = nt.smoothest_interpolant(spec, A_mask, y_mask)
conv_mask = nt.run_to_convergence(gen, y_mask, gen.init(seed=rng(22), omega=1.0, symmetric=True), A=A_mask,
                                  rtol=RTOL, max_steps=50_000, record=[0])
t_ops = time.perf_counter() - t0

fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
for ax, (name, v) in zip(axes[:2], op_rms.items()):
    ax.semilogy(m_dense, law, "-", color="0.6", lw=1.5, label="Gaussian recovery law (reference)")
    ax.semilogy(MS, v[0], "o-", color="C0", label="smoothest interpolant $\\hat x$")
    ax.semilogy(MS, v[1], "s-", color="C1", label="min-$\\ell_2$ $A^+y$")
    ax.semilogy(MS, v[2], "^-", color="C2", label="$\\ell_1$ recovery (DCT)")
    ax.set_ylim(1e-3, 2)
    ax.set_xlabel("number of measurements $m$")
    ax.set_ylabel("relative recovery error (RMS)")
    ax.set_title(f"{name}, n = {N}")
    ax.legend(loc="lower left")
ax = axes[2]
ax.plot(x, "k-", lw=3, label="truth $x$")
ax.plot(A_mask.indices, y_mask, "o", color="C3", ms=6, label=f"the m = {m_mask} observed samples")
ax.plot(nt.min_l2_interpolant(A_mask, y_mask), "-", color="C1", lw=1, label="$A^+y$ (zero fill)")
ax.plot(xhat_mask, "-", color="C0", lw=2, label=f"$\\hat x$: error {err(xhat_mask):.3f}")
ax.plot(conv_mask.output, "--", color="C4", lw=2, label=f"network at convergence: error {err(conv_mask.output):.3f}")
ax.set_xlabel("sample index")
ax.set_ylabel("value")
ax.set_title(f"Inpainting from {m_mask} of {N} samples")
ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2)
fig.tight_layout()
plt.show()

print(f"operators: {t_ops:.1f} s; RMS over {op_trials} draws (ℓ1: {L1_TRIALS})")
for name, v in op_rms.items():
    print(f"{name}: " + ", ".join(f"m={m}: x̂ {v[0, j]:.3f} / A⁺y {v[1, j]:.3f} / ℓ1 {v[2, j]:.3f}"
                                  for j, m in enumerate(MS) if j % 2 == 1))
print(f"inpainting network at m = {m_mask}: {conv_mask.reason}; error {err(conv_mask.output):.4f}, "
      f"x̂ {err(xhat_mask):.4f}, ‖G(C_∞) − x̂‖ = {np.linalg.norm(conv_mask.output - xhat_mask):.4f}")

# %% [markdown]
# ## 4. Noisy measurements and early stopping
#
# With $y=Ax+e$, $e\sim\mathcal N(0,\sigma_e^2I_m)$, the converged estimate interpolates the
# noise too. The recovery law adds a variance term ([theory §5.2](../docs/theory.md))
#
# $$\mathbb E\|\hat x-x\|^2\approx\text{bias}+m\sigma_e^2\,\frac{\mathrm{df}_2}{m-\mathrm{df}_2},$$
#
# which blows up when $\mathrm{df}_2$ approaches $m$, i.e. as $m$ approaches $n$ (there
# $\kappa\to0$ and almost every factor $\lambda_i/(\lambda_i+\kappa)$ is close to 1). More
# measurements then make the converged estimate *worse*.
#
# The remedy is to stop early. In the linearised regime the measurement residual follows
# $\rho_\tau=(I-\eta A\Sigma A^\top)^\tau\rho_0$ ([theory §5.1](../docs/theory.md)): the
# directions of large eigenvalues (smooth signal) are fitted first. The **discrepancy
# principle** ([theory §7.1](../docs/theory.md)) uses only the data and the noise level
# $\delta=\|e\|$: stop at the first $\tau$ with
#
# $$\|y-A\,G(C_\tau)\|\le\tau_{\rm DP}\,\delta,\qquad\tau_{\rm DP}=1.2 .$$
#
# It is read off `Trajectory.losses` ($\tfrac12\|AG(C_\tau)-y\|^2$). We compare it with the
# oracle stopping time $\tau^\star$ (which needs $x$) and with running to convergence: the limit
# of the linear model, `LinearizedPrediction.limit()`, which the network reaches (section 2)
# after a number of steps of order $1/(\eta\lambda_{\min}(A\Sigma A^\top))$, printed below:
# far too many to run at this $m$.

# %%
ms_noise = np.unique(np.round(np.geomspace(P, N - 2, 10)).astype(int))
noise_trials = max(TRIALS // 2, 10)
sim_noisy = np.zeros(ms_noise.size)
m_law_noisy = np.arange(2, N - 1)
law_noisy = np.array([np.sqrt(nt.predicted_recovery_error(spec, x, int(m), noise_std=NOISE_STD)) for m in m_law_noisy])
law_clean = np.array([np.sqrt(nt.predicted_recovery_error(spec, x, int(m))) for m in m_law_noisy])
for j, m in enumerate(ms_noise):
    r = rng(30, j)
    e2 = []
    for _ in range(noise_trials):
        A = GaussianMeasurement(int(m), N, seed=r)
        y = A.apply(x) + NOISE_STD * r.standard_normal(int(m))
        e2.append(err(nt.smoothest_interpolant(spec, A, y, pinv=True)) ** 2)
    sim_noisy[j] = np.sqrt(np.mean(e2))

# One noisy problem close to m = n: the network, the linear model, and the stopping rules.
r = rng(31)
A_n = GaussianMeasurement(M_NOISY, N, seed=r)
e_n = NOISE_STD * r.standard_normal(M_NOISY)
y_n = A_n.apply(x) + e_n
delta_n = float(np.linalg.norm(e_n))
eta_n = nt.max_step_size(gen, A_n)
lin_n = nt.linearized(spec, y_n, eta_n, A=A_n)  # mirrored start: G(C_0) = 0
long = np.arange(20_001)
pred_err = np.linalg.norm(lin_n.output(long) - x, axis=1)
T = int(np.clip(4 * np.argmin(pred_err), 100, 1000))  # horizon for the network: a few oracle times
taus = np.arange(T + 1)
t0 = time.perf_counter()
traj_n = nt.gradient_descent(gen, y_n, gen.init(seed=rng(32), omega=1.0, symmetric=True), eta_n, T, A=A_n,
                             record=taus)
t_noisy = time.perf_counter() - t0
err_n = np.linalg.norm(traj_n.outputs - x, axis=1)
res_n = np.sqrt(2.0 * traj_n.losses)  # ‖y − A G(C_τ)‖
err_lin_n = pred_err[: T + 1]
res_lin_n = np.sqrt(2.0 * lin_n.loss(taus))

tau_star = int(np.argmin(err_n))
hit = np.flatnonzero(res_n <= TAU_DP * delta_n)
tau_dp = int(hit[0]) if hit.size else T
err_conv = err(lin_n.limit())
dp_other = {}
for tdp in (1.05, 1.5, 2.0):
    h = np.flatnonzero(res_n <= tdp * delta_n)
    dp_other[tdp] = (int(h[0]), float(err_n[h[0]])) if h.size else (T, float(err_n[-1]))

fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
ax = axes[0]
ax.semilogy(m_law_noisy, law_noisy, "-", color="C3", lw=2, label=f"recovery law, σ_e = {NOISE_STD}")
ax.semilogy(ms_noise, sim_noisy, "o", color="C3", ms=7,
            label=f"$\\hat x$ from noisy $y$, RMS over {noise_trials} draws")
ax.semilogy(m_law_noisy, law_clean, "--", color="C0", lw=1.5, label="recovery law, noiseless")
ax.axvline(N, color="k", ls=":", lw=1, label="m = n")
ax.axvline(M_NOISY, color="C3", ls="--", lw=1, label=f"m = {M_NOISY} (right panels)")
ax.set_xlabel("number of Gaussian measurements $m$")
ax.set_ylabel("relative error of the converged estimate")
ax.set_title(f"Noise amplification at convergence (n = {N})")
ax.legend(loc="upper center")
ax = axes[1]
t1 = taus + 1.0
ax.semilogx(t1, err_n, "-", lw=2.5, color="C0", label="network $\\|G(C_\\tau)-x\\|$")
ax.semilogx(t1, err_lin_n, "--", lw=1.5, color="C1", label="linear model (same $A$, $e$)")
ax.axhline(err_conv, color="k", ls="-.", lw=1, label=f"at convergence: {err_conv:.3f}")
ax.plot(tau_dp + 1, err_n[tau_dp], "o", ms=10, mfc="none", mew=2, color="C3",
        label=f"discrepancy principle $\\tau_{{DP}}$ = {tau_dp}: {err_n[tau_dp]:.3f}")
ax.plot(tau_star + 1, err_n[tau_star], "*", ms=14, color="C2",
        label=f"oracle $\\tau^\\star$ = {tau_star}: {err_n[tau_star]:.3f}")
ax.set_xlabel("iteration $\\tau+1$")
ax.set_ylabel("recovery error ($\\|x\\|=1$)")
ax.set_title(f"Early stopping, m = {M_NOISY}, ‖e‖ = {delta_n:.3f}")
ax.legend(loc="center right")
ax = axes[2]
ax.loglog(t1, res_n / delta_n, "-", lw=2.5, color="C0", label="network $\\|y-AG(C_\\tau)\\|/\\|e\\|$")
ax.loglog(t1, res_lin_n / delta_n, "--", lw=1.5, color="C1", label="linear model")
ax.axhline(TAU_DP, color="C3", ls=":", lw=1.5, label=f"stopping level $\\tau_{{DP}}$ = {TAU_DP}")
ax.axhline(1.0, color="0.5", lw=1, label="noise level $\\|e\\|$")
ax.axvline(tau_dp + 1, color="C3", ls="--", lw=1)
ax.axvline(tau_star + 1, color="C2", ls="--", lw=1)
ax.set_xlabel("iteration $\\tau+1$")
ax.set_yticks([0.5, 1, TAU_DP, 2, 3, 5], ["0.5", "1", f"{TAU_DP:g}", "2", "3", "5"])
ax.minorticks_off()
ax.set_ylabel("training residual / $\\|e\\|$")
ax.set_title("Discrepancy principle: first crossing of the level")
ax.legend(loc="lower left")
fig.tight_layout()
plt.show()

print(f"noisy run: {T} steps in {t_noisy:.1f} s; ‖e‖ = {delta_n:.4f}, ‖Ax‖ = {np.linalg.norm(A_n.apply(x)):.4f}")
print(f"oracle stopping      τ* = {tau_star:4d}: error {err_n[tau_star]:.4f} (linear model: τ* = "
      f"{int(np.argmin(pred_err))}, {pred_err.min():.4f})")
print(f"discrepancy (1.2)  τ_DP = {tau_dp:4d}: error {err_n[tau_dp]:.4f} "
      f"({err_n[tau_dp] / err_n[tau_star]:.2f}× oracle)")
for tdp, (tt, ee) in dp_other.items():
    print(f"discrepancy ({tdp:4g})      τ = {tt:4d}: error {ee:.4f}")
print(f"after {T} steps            : error {err_n[-1]:.4f}; at convergence (linear limit): {err_conv:.4f}, "
      f"time scale 1/(η λ_min(AΣAᵀ)) = {1.0 / (eta_n * lin_n.eigenvalues[-1]):.1e} steps")
print(f"smoothest interpolant of the noiseless data: {err(nt.smoothest_interpolant(spec, A_n, A_n.apply(x))):.4f}")

# %% [markdown]
# The network follows the linear model through the whole run. Its error first falls (the smooth
# signal is fitted) and then rises towards the converged value as the noise is interpolated.
# The discrepancy principle stops as soon as the residual reaches the noise level. That is
# earlier than the oracle: with $m<n$ part of the noise lies in directions that the network
# fits together with the signal, so at $\tau^\star$ the residual is already below $\|e\|$. The
# stopped error is therefore within a modest factor of the oracle's, and far below the
# converged error. Classical theory for Landweber iteration, which the linearised dynamics are
# in the variable $\Sigma^{-1/2}f$, says this factor is bounded for any $\tau_{\rm DP}>1$
# ([theory §7.1](../docs/theory.md)).

# %% [markdown]
# ## Summary
#
# The numbers below are computed above in this run.

# %%
j36 = MS.index(36)
print(f"Mode: {'quick' if QUICK else 'full'}; total run time {time.perf_counter() - t_start:.1f} s")
print(f"* n = {N}, {FILTER.name}, x in the top-{P} eigenspace. From m = {MS[j36]} Gaussian measurements the smoothest "
      f"interpolant has RMS error {rms['smooth'][j36]:.3f} (recovery law {law_at[j36]:.3f}), "
      f"A⁺y {rms['pinv'][j36]:.3f}, "
      f"ℓ1 {rms['l1'][j36]:.3f}; at m = {MS[-1]}: x̂ {rms['smooth'][-1]:.2e} (law {law_at[-1]:.2e}), "
      f"A⁺y {rms['pinv'][-1]:.3f}, ℓ1 {rms['l1'][-1]:.2e}.")
print("* Networks trained to convergence (k = " + f"{K}" + "): "
      + "; ".join(f"m = {m}: error {net[m]['err']:.3f} vs x̂ {net[m]['xhat']:.3f} (‖G(C_∞) − x̂‖ = {net[m]['dist']:.3f}, "
                  f"{net[m]['steps']} steps)" for m in NET_MS) + ".")
mask_v, dct_v = op_rms["random mask (inpainting)"], op_rms["subsampled DCT"]
print(f"* Random mask at m = {MS[j36]}: x̂ {mask_v[0, j36]:.3f}, A⁺y {mask_v[1, j36]:.3f}, ℓ1 {mask_v[2, j36]:.3f}; "
      f"the inpainting network lands {np.linalg.norm(conv_mask.output - xhat_mask):.3f} from x̂. Subsampled DCT at "
      f"m = {MS[-1]}: x̂ {dct_v[0, -1]:.3f}, A⁺y {dct_v[1, -1]:.3f}, ℓ1 {dct_v[2, -1]:.3f} (coherent design: "
      "unmeasured frequencies are lost).")
print(f"* Noisy measurements (m = {M_NOISY}, ‖e‖ = {delta_n:.3f}): converged error {err_conv:.3f}; oracle early "
      f"stopping {err_n[tau_star]:.3f} at τ* = {tau_star}; discrepancy principle {err_n[tau_dp]:.3f} at "
      f"τ_DP = {tau_dp} ({err_n[tau_dp] / err_n[tau_star]:.2f}× the oracle, "
      f"{err_conv / err_n[tau_dp]:.1f}× better than convergence).")
