"""Forward pass, Jacobian-vector and vector-Jacobian products of the deep decoder, derived by hand.

For hidden layer ``i`` (``docs/theory.md`` §6) with input ``B_i`` of shape
``(k_i, P_i)`` (channels × positions):

* ``Z = C_iᵀ B_i`` (1×1 convolution), ``Y = R_i Z`` (fixed resampling: upsampling,
  a fixed filter, or nothing), then either ``B_{i+1} = cn(relu(Y))`` (default) or
  ``B_{i+1} = relu(cn(Y))`` (``norm_before_act``), or ``relu(Y)`` without normalisation;
* ``cn(x) = γ ⊙ x̂ + β`` with ``x̂ = (x − μ)/√(σ² + ε)`` per channel;
* output ``x = s(C_dᵀ B_d)`` with ``s`` the sigmoid or the identity.

Tangents: ``dZ = dC_iᵀ B_i + C_iᵀ dB_i``, ``dY = R_i dZ``, ``d relu = 1{·>0} ⊙ d·``,
``d cn = γ ⊙ inv ⊙ (dx − mean(dx) − x̂ mean(x̂ dx)) + dγ ⊙ x̂ + dβ``,
``d sigmoid = s(1 − s) ⊙ d·``. The vector-Jacobian product runs the
transposes in reverse order; the normalisation's derivative is symmetric.
With the normalisation after the ReLU (the default) the ReLU, the
normalisation and their derivatives are fused kernels
(``_layers.relu_norm_forward``/``relu_norm_backward``), and the rank-one
gradient ``C_d g_O`` of a single output channel is never formed.
Cost of each pass: O(Σ_i k_i k_{i+1} P_i) for the channel mixing plus
O(Σ_i k_{i+1} P_{i+1}) for the fixed stages — about twice the forward pass
for ``jvp`` and for ``vjp``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._layers import (
    circular_filter,
    circular_filter_taps_grad,
    matmul,
    norm_forward,
    norm_tangent,
    relu_norm_backward,
    relu_norm_backward_rank1,
    relu_norm_backward_upsample_adjoint,
    relu_norm_forward,
    upsample_relu_norm_forward,
    zero_insert,
)

__all__ = ["ForwardCache", "forward_cache", "jvp_from_cache", "vjp_from_cache"]


@dataclass(eq=False)
class ForwardCache:
    """What the derivative passes of a :class:`~ntk_toolkit.deep.DeepDecoder` need from its forward pass.

    Attributes
    ----------
    arrays : dict
        The parameters by name (:meth:`~ntk_toolkit.deep.DeepDecoder.params_to_arrays`).
    inputs : list of ndarray
        ``B_i``, shape ``(k_i, P_i)``, for ``i = 0 … d``.
    masks : list of ndarray
        ``1{· > 0}`` of each ReLU, shape ``(k_{i+1}, P_{i+1})``.
    xhats, invs : list of ndarray
        Normalised values ``x̂`` and ``1/√(σ² + ε)`` of each normalisation (empty lists without it).
    output : ndarray, shape (out_channels, P_d)
        The network's output ``x``.
    mixed : dict
        ``{i: Z_i}``, the 1×1-convolution outputs entering a trainable upsampling (``upsample="transposed"``).

    Examples
    --------
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> net = DeepDecoder((16,), [4, 4, 4])
    >>> cache = forward_cache(net, net.init(seed=0))
    >>> len(cache.inputs), cache.output.shape
    (3, (1, 16))
    """

    arrays: dict
    inputs: list
    masks: list
    xhats: list
    invs: list
    output: np.ndarray
    mixed: dict


def _sigmoid(z: np.ndarray) -> np.ndarray:
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def forward_cache(net, theta: np.ndarray) -> ForwardCache:
    """Forward pass of ``net`` at the (clean, flat float64) parameters ``theta``, keeping what the derivatives need.

    Parameters
    ----------
    net : DeepDecoder
    theta : ndarray, shape (num_params,)

    Returns
    -------
    ForwardCache

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> net = DeepDecoder((16,), [4, 4, 4])
    >>> theta = net.init(seed=0)
    >>> bool(np.allclose(forward_cache(net, theta).output.ravel(), net.forward(theta)))
    True
    """
    arrays = net.params_to_arrays(theta, copy=False)
    B = net.input.reshape(net.channels[0], -1)
    inputs, masks, xhats, invs, mixed = [B], [], [], [], {}
    fused = net.norm is not None and not net.norm_before_act
    for i in range(net.depth):
        Z = matmul(arrays[f"C{i}"].T, B)
        if f"filter{i}" in arrays:
            mixed[i] = Z
        if fused and i < net.depth - 1 and net.upsample in ("linear", "bilinear"):  # interpolation, ReLU, norm
            B, xhat, inv, mask = upsample_relu_norm_forward(Z, net.shapes[i], net.factor, arrays[f"scale{i}"],
                                                            arrays[f"shift{i}"])
            xhats.append(xhat)
            invs.append(inv)
            masks.append(mask)
            inputs.append(B)
            continue
        Y = net.resample(i, Z, arrays)
        if net.norm is None:
            mask = Y > 0
            B = np.where(mask, Y, 0.0)
        elif net.norm_before_act:
            N, xhat, inv = norm_forward(Y, arrays[f"scale{i}"], arrays[f"shift{i}"])
            mask = N > 0
            B = np.where(mask, N, 0.0)
        else:  # Y is a fresh array (the 1×1 convolution's or the resampling's output): it becomes xhat
            B, xhat, inv, mask = relu_norm_forward(Y, arrays[f"scale{i}"], arrays[f"shift{i}"])
        if net.norm is not None:
            xhats.append(xhat)
            invs.append(inv)
        masks.append(mask)
        inputs.append(B)
    O = net.output_matrix(arrays).T @ B
    out = _sigmoid(O) if net.output == "sigmoid" else O
    return ForwardCache(arrays, inputs, masks, xhats, invs, out, mixed)


def _norm_jvp(dx, cache: ForwardCache, i: int, darrays: dict) -> np.ndarray:
    scale = cache.arrays[f"scale{i}"][:, None]
    xhat = cache.xhats[i]
    out = norm_tangent(dx, xhat, cache.invs[i]) * scale if dx is not None else np.zeros_like(xhat)
    out += xhat * darrays[f"scale{i}"][:, None]
    out += darrays[f"shift{i}"][:, None]
    return out


def jvp_from_cache(net, cache: ForwardCache, dtheta: np.ndarray) -> np.ndarray:
    """``J(θ) dθ`` from the forward pass at ``θ``, flat of shape ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> net = DeepDecoder((16,), [4, 4, 4])
    >>> theta, d = net.init(seed=0), net.init(seed=1)
    >>> bool(np.allclose(jvp_from_cache(net, forward_cache(net, theta), d), net.jvp(theta, d)))
    True
    """
    d = net.params_to_arrays(dtheta, copy=False)
    dB = None  # the input B_0 is fixed
    for i in range(net.depth):
        B = cache.inputs[i]
        dZ = matmul(d[f"C{i}"].T, B)
        if dB is not None:
            dZ += matmul(cache.arrays[f"C{i}"].T, dB)
        dY = net.resample(i, dZ, cache.arrays)
        if i in cache.mixed:  # the trainable interpolation filter's own tangent
            Z = cache.mixed[i]
            X = zero_insert(Z.reshape(Z.shape[0], *net.shapes[i]), net.factor)
            dY += circular_filter(d[f"filter{i}"], X).reshape(dY.shape)
        mask = cache.masks[i]
        if net.norm is None:
            dB = np.where(mask, dY, 0.0)
        elif net.norm_before_act:
            dB = np.where(mask, _norm_jvp(dY, cache, i, d), 0.0)
        else:
            dB = _norm_jvp(np.where(mask, dY, 0.0), cache, i, d)
    B = cache.inputs[-1]
    dO = net.output_matrix(cache.arrays).T @ dB
    if net.last_layer == "trainable":
        dO += d[f"C{net.depth}"].T @ B
    if net.output == "sigmoid":
        dO *= cache.output * (1.0 - cache.output)
    return dO.reshape(-1)


def vjp_from_cache(net, cache: ForwardCache, r: np.ndarray) -> np.ndarray:
    """``J(θ)ᵀ r`` from the forward pass at ``θ``, flat of shape ``(num_params,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ntk_toolkit.deep import DeepDecoder
    >>> net = DeepDecoder((16,), [4, 4, 4])
    >>> theta, r = net.init(seed=0), np.linspace(-1, 1, 16)
    >>> bool(np.allclose(vjp_from_cache(net, forward_cache(net, theta), r), net.vjp(theta, r)))
    True
    """
    grads = {}
    gO = r.reshape(cache.output.shape)
    if net.output == "sigmoid":
        gO = gO * cache.output * (1.0 - cache.output)
    B = cache.inputs[-1]
    if net.last_layer == "trainable":
        grads[f"C{net.depth}"] = B @ gO.T
    Cd = net.output_matrix(cache.arrays)
    fused = net.norm is not None and not net.norm_before_act
    gB = None if fused and Cd.shape[1] == 1 else Cd @ gO  # None: the rank-one Cd gO is never formed
    for i in range(net.depth - 1, -1, -1):
        mask = cache.masks[i]
        if net.norm is None:
            gY = np.where(mask, gB, 0.0)
        elif gB is None:
            gY, grads[f"scale{i}"], grads[f"shift{i}"] = relu_norm_backward_rank1(
                Cd[:, 0], gO[0], cache.xhats[i], mask, cache.invs[i], cache.arrays[f"scale{i}"])
        elif fused and i < net.depth - 1 and net.upsample in ("linear", "bilinear"):  # norm, ReLU, interpolation
            gZ, grads[f"scale{i}"], grads[f"shift{i}"] = relu_norm_backward_upsample_adjoint(
                gB, cache.xhats[i], mask, cache.invs[i], cache.arrays[f"scale{i}"], net.shapes[i], net.factor)
            grads[f"C{i}"] = matmul(cache.inputs[i], gZ.T)
            if i > 0:
                gB = matmul(cache.arrays[f"C{i}"], gZ)
            continue
        elif fused:
            gY, grads[f"scale{i}"], grads[f"shift{i}"] = relu_norm_backward(  # gB: a fresh product, overwritten
                gB, cache.xhats[i], mask, cache.invs[i], cache.arrays[f"scale{i}"], overwrite=True)
        else:  # normalisation before the ReLU
            g = np.where(mask, gB, 0.0)
            xhat = cache.xhats[i]
            grads[f"scale{i}"] = np.sum(g * xhat, axis=1)
            grads[f"shift{i}"] = np.sum(g, axis=1)
            gY = norm_tangent(g * cache.arrays[f"scale{i}"][:, None], xhat, cache.invs[i])
        if i in cache.mixed:
            Z = cache.mixed[i]
            X = zero_insert(Z.reshape(Z.shape[0], *net.shapes[i]), net.factor)
            grads[f"filter{i}"] = circular_filter_taps_grad(X, gY.reshape(X.shape), cache.arrays[f"filter{i}"].shape)
        gZ = net.resample_adjoint(i, gY, cache.arrays)
        grads[f"C{i}"] = matmul(cache.inputs[i], gZ.T)
        if i > 0:
            gB = matmul(cache.arrays[f"C{i}"], gZ)
    return net.arrays_to_params(grads)
