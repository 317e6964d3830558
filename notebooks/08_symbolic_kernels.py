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
# # 08 — Symbolic kernels and other activations
#
# The expected kernel of the generator $G(C)=\varphi(UC)\,v$ is, entry by entry,
#
# $$\Sigma_{ij} = \|v\|^2\,\langle u_i,u_j\rangle\;\mathbb E[\varphi'(a)\varphi'(b)]
#   \;\bigl(+\ \mathbb E[\varphi(a)\varphi(b)]\ \text{if the output layer is trained}\bigr),$$
#
# with $(a,b)=(u_i^\top c,\,u_j^\top c)$, $c\sim N(0,\omega^2 I)$: a centred Gaussian pair with
# variances $q_1=\omega^2\|u_i\|^2$, $q_2=\omega^2\|u_j\|^2$ and correlation
# $\rho=\cos\theta_{ij}$ ([theory §2.2](../docs/theory.md)). For ReLU the two expectations are the
# arc-cosine kernels; for every other activation they are a new derivation.
# `ntk_toolkit.symbolic` derives them with sympy. This notebook
#
# 1. derives the dual activations of ReLU and erf, prints them in LaTeX and checks ReLU's against
#    the theory;
# 2. expands them in normalised Hermite coefficients — the power series in $\rho$ that governs
#    spectral decay;
# 3. lambdifies the derived kernel and compares it with the Monte-Carlo mean of the network's
#    $J J^\top$;
# 4. compares the spectra of $\Sigma$ across activations, with sympy's exact eigenvalue formula
#    for a short filter, and the fit times they predict against gradient descent.
#
# **Run modes.** `NTK_TOOLKIT_QUICK=1` selects $n=32$ and fewer Monte-Carlo draws (seconds);
# the default uses $n=64$ and more draws.

# %%
# %matplotlib inline
import os
import time

import matplotlib.pyplot as plt
import numpy as np
import sympy as sp
from IPython.display import Math, display

import ntk_toolkit as nt
from ntk_toolkit import symbolic as sy
from ntk_toolkit.filters import triangle
from ntk_toolkit.operators import CircularConv

QUICK = os.environ.get("NTK_TOOLKIT_QUICK", "0") == "1"

N = 32 if QUICK else 64  # signal length
KS = (16, 64, 256, 1024) if QUICK else (16, 64, 256, 1024, 4096)  # widths of the Monte-Carlo study
DRAWS = 8 if QUICK else 32  # initialisations per width
OMEGA = 2.0  # initialisation scale: tanh and erf saturate, so their Σ differs from ReLU's
FILTER = triangle(3)
ACTIVATIONS = ["relu", "leaky_relu:0.1", "abs", "erf", "tanh", "softplus"]
summary = {}
start = time.time()

# %% [markdown]
# ## 1. Deriving the dual activations
#
# `dual(φ)` is $\mathbb E[\varphi(a)\varphi(b)]$ and `dual(φ, derivative=True)` is
# $\mathbb E[\varphi'(a)\varphi'(b)]$, sympy expressions in `rho`, `q1`, `q2`. Polynomials are
# integrated by sympy; the ReLU family, step and erf have registered closed forms that the test
# suite proves equal to sympy's own integrals.

# %%
for name in ("relu", "erf"):
    display(Math(rf"\text{{{name}}}:\quad \mathbb E[\varphi\varphi] = " + sy.latex(sy.dual(name))))
    display(Math(rf"\text{{{name}}}:\quad \mathbb E[\varphi'\varphi'] = " + sy.latex(sy.dual(name, derivative=True))))

# %% [markdown]
# ReLU's entry of $\Sigma$ is $\tfrac12\langle u_i,u_j\rangle(1-\theta_{ij}/\pi)$
# ([theory §2.2](../docs/theory.md)); sympy confirms that the derived two-layer kernel is exactly that:

# %%
theta = sp.acos(sy.inner / (sy.norm_i * sy.norm_j))
relu_kernel = sy.two_layer_kernel("relu")
difference = sp.simplify(relu_kernel - sy.inner * (1 - theta / sp.pi) / 2)
display(Math(r"\Sigma_{ij} = " + sy.latex(relu_kernel)))
print("difference with theory §2.2 after simplify:", difference)
summary["relu_matches_theory"] = difference == 0

# %% [markdown]
# ## 2. Hermite coefficients: the dual as a power series in $\rho$
#
# At unit variances $\mathbb E[\varphi(a)\varphi(b)] = \sum_m c_m^2\rho^m$ with
# $c_m = \mathbb E[\varphi(x)\,\mathrm{He}_m(x)]/\sqrt{m!}$. Fast-decaying $c_m^2$ mean a kernel close
# to a low-degree polynomial of $\rho$ — smooth activations give smoother kernels.

# %%
ORDER = 8
fig, ax = plt.subplots(figsize=(6.4, 4))
for name in ("relu", "abs", "erf", "tanh"):
    c = sy.hermite_coefficients(name, ORDER, derivative=True)
    c2 = np.array([float(ci) ** 2 for ci in c])
    m = np.flatnonzero(c2 > 1e-30)
    ax.semilogy(m, c2[m], "o-", label=f"{name}'")
ax.set_xlabel("m")
ax.set_ylabel("c_m² of φ'")
ax.set_title("Hermite coefficients of the derivative (the C-term of Σ)")
ax.legend()
plt.show()
print("ReLU, exact:", sy.hermite_coefficients("relu", 4))

# %% [markdown]
# ## 3. From formula to numbers, against the network
#
# `to_numpy` turns the derived kernel into a vectorised NumPy function (it clips the arguments of
# $\arccos$/$\arcsin$ into $[-1,1]$). Evaluated on $U U^\top$ it gives $\Sigma$; the mean of the
# empirical kernel $J(C_0)J(C_0)^\top$ over initialisations approaches it like $k^{-1/2}$.

# %%
op = CircularConv(FILTER, N)
P = op.gram()
d = np.sqrt(np.diag(P))
fig, ax = plt.subplots(figsize=(6.4, 4))
rng = np.random.default_rng(0)
for name in ("relu", "erf", "abs"):
    fn = sy.to_numpy(sy.two_layer_kernel(name), args=(sy.inner, sy.norm_i, sy.norm_j, sy.omega))
    Sigma = fn(P, d[:, None], d[None, :], OMEGA)
    core = nt.expected_kernel(nt.TwoLayerGenerator(op, 2, activation=name), omega=OMEGA)
    summary[f"{name}: symbolic vs core"] = float(np.max(np.abs(Sigma - core)) / np.max(np.abs(core)))
    errors = []
    for k in KS:
        gen = nt.TwoLayerGenerator(op, k, activation=name)
        mean = sum(nt.empirical_kernel(gen, gen.init(rng, omega=OMEGA)) for _ in range(DRAWS)) / DRAWS
        errors.append(np.linalg.norm(mean - Sigma, 2) / np.linalg.norm(Sigma, 2))
    slope = np.polyfit(np.log(KS), np.log(errors), 1)[0]
    summary[f"{name}: Monte-Carlo slope in k"] = float(slope)
    ax.loglog(KS, errors, "o-", label=f"{name} (slope {slope:.2f})")
ax.loglog(KS, errors[0] * (np.array(KS) / KS[0]) ** -0.5, "k--", lw=1, label="∝ k^(−1/2)")
ax.set_xlabel("channels k")
ax.set_ylabel("‖mean J Jᵀ − Σ‖ / ‖Σ‖")
ax.set_title(f"Derived Σ vs the network ({DRAWS} draws, ω = {OMEGA:g})")
ax.legend()
plt.show()

# %% [markdown]
# ## 4. Spectra across activations, exact eigenvalues, and fit times
#
# The spectrum of $\Sigma$ comes from its first row in $O(n\log n)$ as before
# (`nt.spectrum(gen, omega=...)`): closed forms where they exist, Gauss–Hermite quadrature
# otherwise (tanh, softplus). For a short filter sympy also gives the eigenvalues exactly as a
# function of the frequency $f$ and the length $n$:

# %%
lam_relu = sy.eigenvalue_formula("relu", FILTER)
display(Math(r"\lambda_{\mathrm{ReLU}}(f) = " + sy.latex(lam_relu)))
lam_fn = sy.to_numpy(lam_relu, args=(sy.f, sy.n))
fft = nt.spectrum(nt.TwoLayerGenerator(op, 2)).eigenvalues_by_frequency
summary["exact eigenvalues vs FFT (ReLU)"] = float(np.max(np.abs(lam_fn(np.arange(N // 2 + 1), N) - fft)))

fig, ax = plt.subplots(figsize=(6.4, 4))
for name in ACTIVATIONS:
    gen = nt.TwoLayerGenerator(op, 2, activation=name)
    ax.semilogy(nt.spectrum(gen, omega=OMEGA).eigenvalues_by_frequency, label=name)
ax.set_xlabel("frequency f")
ax.set_ylabel("λ_f")
ax.set_title(f"Spectrum of Σ by activation ({FILTER.name}, ω = {OMEGA:g})")
ax.legend()
plt.show()

# %% [markdown]
# The linearized dynamics predict, from $\Sigma$, how many steps gradient descent needs to fit a
# smooth signal and noise of the same norm; the network follows (the check
# `symbolic.activation-spectra` runs the same comparison).

# %%
from ntk_toolkit.checks import get_check  # noqa: E402

res = get_check("symbolic.activation-spectra").run(profile="tiny" if QUICK else "quick", seed=0)
for name, pr, me in zip(res.data["activations"], res.data["predicted"], res.data["measured"]):
    print(f"{name:15s} smooth: predicted {pr[0]:5.0f}, network {me[0]:5.0f}   "
          f"noise: predicted {pr[1]:6.0f}, network {me[1]:6.0f}")
summary["fit times: max relative deviation"] = res.measured["max_rel_dev"]

# %%
for key, value in summary.items():
    print(f"{key}: {value}")
print(f"elapsed {time.time() - start:.1f} s")
