"""The deep decoder written independently in PyTorch (peer benchmark and parity tests).

The same network as :class:`ntk_toolkit.deep.DeepDecoder` from ``torch.nn``
layers: ``Conv1d``/``Conv2d`` (1×1, no bias; weight ``C_iᵀ``),
``Upsample(scale_factor, mode, align_corners=False)``, ``ReLU``,
``BatchNorm1d``/``BatchNorm2d`` in training mode (one sample: per-channel
statistics over positions), the output 1×1 convolution and ``Sigmoid``. The
fixed-filter variant pads circularly and convolves every channel with the
flipped taps (``groups = channels``).

* :func:`module` — an ``nn.Sequential`` holding given flat parameters;
* :func:`functional` — ``θ ↦ G(θ)`` on one flat tensor (``torch.func.functional_call``
  of that module), for ``torch.func.jacrev``/``jvp``/``vjp``;
* :func:`jacobian_svd` — ``torch.func.jacrev`` and ``torch.linalg.svdvals``;
* :func:`make_adam_step` — one Adam step (forward + backward + update) as the authors run it.

Float64 throughout.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["module", "functional", "jacobian_svd", "make_adam_step", "version"]


def _torch():
    import torch

    return torch


def version() -> str:
    """The installed torch version."""
    return _torch().__version__


class _FixedFilter:
    """Build a circular per-channel convolution as an ``nn.Module`` (lazily, torch is optional)."""

    @staticmethod
    def make(taps: np.ndarray, center, channels: int):
        torch = _torch()
        nn = torch.nn
        F = torch.nn.functional
        taps = np.asarray(taps, dtype=np.float64)
        ndim = taps.ndim
        center = (center,) if ndim == 1 else tuple(center)
        flipped = np.ascontiguousarray(taps[(slice(None, None, -1),) * ndim])
        weight = torch.tensor(flipped).expand(channels, 1, *taps.shape).clone()
        pad = []
        for axis in reversed(range(ndim)):  # F.pad lists the last axis first
            L = taps.shape[axis]
            pad += [L - 1 - int(center[axis]), int(center[axis])]
        conv = F.conv1d if ndim == 1 else F.conv2d

        class Circular(nn.Module):
            def forward(self, x):
                return conv(F.pad(x, pad, mode="circular"), weight, groups=channels)

        return Circular()


def module(net, theta):
    """``(nn.Sequential, input tensor)`` computing ``net`` at the flat parameters ``theta`` (float64, train mode).

    Parameters
    ----------
    net : ntk_toolkit.deep.DeepDecoder
    theta : ndarray, shape (net.num_params,)
    """
    torch = _torch()
    nn = torch.nn
    arrays = net.params_to_arrays(theta)
    ndim = len(net.out_shape)
    Conv = nn.Conv1d if ndim == 1 else nn.Conv2d
    Norm = nn.BatchNorm1d if ndim == 1 else nn.BatchNorm2d
    layers = []
    for i in range(net.depth):
        k_in, k_out = net.channels[i], net.channels[i + 1]
        conv = Conv(k_in, k_out, 1, bias=False, dtype=torch.float64)
        conv.weight.data = torch.tensor(arrays[f"C{i}"].T.copy()).reshape(conv.weight.shape)
        layers.append(conv)
        if i < net.depth - 1 and net.upsample != "none":
            layers.append(nn.Upsample(scale_factor=net.factor, mode=net.upsample, align_corners=False))
        if i < net.depth - 1 and net.interpolation_filter is not None:
            f = net.interpolation_filter
            layers.append(_FixedFilter.make(f.taps, f.center, k_out))
        norm = None
        if net.norm is not None:
            norm = Norm(k_out, dtype=torch.float64, track_running_stats=False)
            norm.weight.data = torch.tensor(arrays[f"scale{i}"])
            norm.bias.data = torch.tensor(arrays[f"shift{i}"])
        if norm is not None and net.norm_before_act:
            layers.append(norm)
        layers.append(nn.ReLU())
        if norm is not None and not net.norm_before_act:
            layers.append(norm)
    out = Conv(net.channels[-1], net.out_channels, 1, bias=False, dtype=torch.float64)
    out.weight.data = torch.tensor(np.ascontiguousarray(net.output_matrix(arrays).T)).reshape(out.weight.shape)
    if net.last_layer == "fixed":
        out.weight.requires_grad_(False)
    layers.append(out)
    if net.output == "sigmoid":
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers).train()
    return model, torch.tensor(np.asarray(net.input))[None]


def _named_slices(net, model):
    """``[(parameter name in model, slice of θ, transpose?)]`` in the order of ``net``'s flat layout."""
    names = {}
    convs = [name for name, p in model.named_parameters() if p.dim() >= 3 and p.requires_grad]
    norms = [name for name, p in model.named_parameters() if p.dim() == 1]
    start, out = 0, []
    for name, shape in net.param_shapes.items():
        size = int(np.prod(shape))
        if name.startswith("C"):
            target = convs.pop(0)
        elif name.startswith("scale"):
            target = norms.pop(0)
        else:
            target = norms.pop(0)
        names[name] = target
        out.append((target, slice(start, start + size), shape))
        start += size
    return out


def functional(net, theta) -> Callable:
    """``f(θ)`` → flat output tensor, from :func:`module` through ``torch.func.functional_call``.

    Parameters
    ----------
    net : ntk_toolkit.deep.DeepDecoder
    theta : ndarray
        Any parameters of ``net`` (builds the module; ``f`` then takes its own ``θ``).
    """
    torch = _torch()
    model, x0 = module(net, theta)
    layout = _named_slices(net, model)
    fixed = {name: p.detach() for name, p in model.named_parameters() if not p.requires_grad}

    def f(t):
        params = dict(fixed)
        for target, sl, shape in layout:
            piece = t[sl].reshape(shape)
            if len(shape) == 2:  # C_i (k_in, k_out) -> conv weight (k_out, k_in, 1[, 1])
                piece = piece.T.reshape(model.get_parameter(target).shape)
            params[target] = piece
        return torch.func.functional_call(model, params, (x0,)).reshape(-1)

    return f


def jacobian_svd(net, theta, r: int):
    """The ``r`` largest singular values of ``J(θ)`` from ``torch.func.jacrev`` and ``torch.linalg.svdvals``."""
    torch = _torch()
    f = functional(net, theta)
    J = torch.func.jacrev(f)(torch.tensor(np.asarray(theta, dtype=np.float64)))
    return torch.linalg.svdvals(J)[:r].numpy()


def make_adam_step(net, theta, y, lr: float) -> Callable:
    """A closure running one Adam step on ``½‖G(θ) − y‖²`` (``torch.optim.Adam``, forward + backward + update)."""
    torch = _torch()
    model, x0 = module(net, theta)
    target = torch.tensor(np.asarray(y, dtype=np.float64)).reshape(model(x0).shape)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)

    def step():
        opt.zero_grad()
        loss = 0.5 * ((model(x0) - target) ** 2).sum()
        loss.backward()
        opt.step()
        return float(loss.detach())

    return step
