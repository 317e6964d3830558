"""The deep decoder against the same weights in ``torch.nn`` layers (skipped without PyTorch).

Output, gradient (``Jᵀ r`` by autograd) and Jacobian-vector products
(``torch.func.jvp``) agree to 1e-12, for 1-D and 2-D, with and without
normalisation, sigmoid and linear output.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import RTOL, assert_close
from ntk_toolkit.deep import DeepDecoder, upsample
from ntk_toolkit.filters import bilinear, triangle

torch = pytest.importorskip("torch")
from ntk_toolkit.bench import peers_torch_deep  # noqa: E402

#: Issue 15: output, gradient and jvp agree with PyTorch to 1e-12 (relative to the largest entry).
TORCH_TOL = RTOL

CASES = [
    (shape, ch, dict(norm=norm, output=out, norm_before_act=nba))
    for shape, ch in [((32,), [3, 6, 6, 4]), ((16, 16), [3, 6, 6, 4])]
    for norm in ("channel", None)
    for out in ("sigmoid", "linear")
    for nba in ((False, True) if norm else (False,))
]
CASES += [
    ((32,), [2, 4, 4], dict(last_layer="fixed")),
    ((12,), [2, 4, 4], dict(interpolation_filter=triangle(2))),
    ((8, 8), [2, 4, 4], dict(interpolation_filter=bilinear(), out_channels=3)),
    ((27,), [2, 3, 3, 3], dict(factor=3)),
]


def _ids(case):
    shape, ch, kw = case
    return "x".join(map(str, shape)) + "-" + "-".join(f"{k}={getattr(v, 'name', v)}" for k, v in kw.items())


# torch.func.jvp loads its forward-mode decompositions through torch.jit.script, which
# torch itself has deprecated: that warning is torch's, not ours
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("case", CASES, ids=[_ids(c) for c in CASES])
def test_output_gradient_and_jvp_match_pytorch(case):
    shape, ch, kw = case
    net = DeepDecoder(shape, ch, input_seed=1, **kw)
    theta = net.init(seed=2)
    rng = np.random.default_rng(3)
    d, r = rng.standard_normal(net.num_params), rng.standard_normal(net.n)
    model, x0 = peers_torch_deep.module(net, theta)
    out = model(x0)
    assert_close(net.forward(theta), out.detach().numpy().ravel(), TORCH_TOL, "output (nn.Sequential)")
    f = peers_torch_deep.functional(net, theta)
    t = torch.tensor(theta, requires_grad=True)
    (f(t) * torch.tensor(r)).sum().backward()
    assert_close(net.vjp(theta, r), t.grad.numpy(), TORCH_TOL, "gradient Jᵀ r")
    _, jvp = torch.func.jvp(f, (torch.tensor(theta),), (torch.tensor(d),))
    assert_close(net.jvp(theta, d), jvp.numpy(), TORCH_TOL, "J d")


@pytest.mark.parametrize("mode, shape", [("linear", (3, 7)), ("bilinear", (2, 5, 6))])
@pytest.mark.parametrize("factor", [2, 3, 4])
def test_upsample_equals_torch_upsample(mode, shape, factor):
    x = np.random.default_rng(factor).standard_normal(shape)
    ref = torch.nn.Upsample(scale_factor=factor, mode=mode, align_corners=False)(torch.tensor(x)[None])[0]
    assert_close(upsample(x, factor, mode), ref.numpy(), 1e-15, "upsample")


def test_jacobian_singular_values_match_jacrev():
    from ntk_toolkit.deep import jacobian_spectrum

    net = DeepDecoder((16, 16), [4, 8, 8, 8])
    theta = net.init(seed=0)
    ref = peers_torch_deep.jacobian_svd(net, theta, 10)
    spec = jacobian_spectrum(net, theta, 10, seed=0)
    assert_close(spec.singular_values, ref, 1e-10, "singular values")


def test_adam_fit_follows_torch_adam():
    from ntk_toolkit.deep import fit

    net = DeepDecoder((8, 8), [3, 6, 6, 4], input_seed=0)
    theta = net.init(seed=1)
    y = np.random.default_rng(0).random(net.n)
    step = peers_torch_deep.make_adam_step(net, theta, y, lr=0.01)
    losses = [step() for _ in range(10)]
    ours = fit(net, y, theta, optimizer="adam", lr=0.01, steps=10)
    assert_close(ours.losses[:10], losses, 1e-10, "Adam losses")
