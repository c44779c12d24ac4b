"""Golden cases for the normalisations (docs/ops.md "Normalisation"): nn.LayerNorm / nn.GroupNorm
applied per frame, asteroid-style cumulative layer norm (CumLN) and its grouped form, BatchNorm1d
in eval mode, and a cumulative norm behind a non-causal convolution (pre-roll)."""

import pathlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 2000


def _affine(c):
    return torch.randn(c) * 0.5 + 1.0, torch.randn(c) * 0.3


def cum_group_norm(x, groups, eps, weight=None, bias=None):
    """CumLN as in asteroid (cumulative sums over channels and time, var = E[x^2] - E[x]^2),
    generalised to channel groups. x: [C, T]. Computed in float64: the engine accumulates in
    double, and float32 cumulative sums over thousands of frames would dominate the error."""
    c, t = x.shape
    xg = x.double().reshape(groups, c // groups, t)
    cum_sum = torch.cumsum(xg.sum(1, keepdim=True), dim=-1)
    cum_pow = torch.cumsum(xg.pow(2).sum(1, keepdim=True), dim=-1)
    cnt = torch.arange(1, t + 1, dtype=torch.float64) * (c // groups)
    mean = cum_sum / cnt
    var = cum_pow / cnt - mean.pow(2)
    y = ((xg - mean) / (var + eps).sqrt()).reshape(c, t)
    if weight is not None:
        y = y * weight.double()[:, None] + bias.double()[:, None]
    return y.float()


def layer_norm_frame():
    torch.manual_seed(20)
    C = 8
    x = torch.randn(C, T) * 2 + 0.5
    ln = nn.LayerNorm(C)
    w, b = _affine(C)
    with torch.no_grad():
        ln.weight.copy_(w), ln.bias.copy_(b)
        y = ln(x.T).T
    return op_case("norm_layer_norm", x, y,
                   [node("n", "layer_norm", ["x"], {"eps": 1e-5}, {"weight": "w", "bias": "b"})],
                   {"w": w, "b": b})


def channel_norm_alias():
    torch.manual_seed(21)
    C = 3
    x = torch.randn(C, T)
    y = F.layer_norm(x.T, (C,), eps=1e-5).T  # no affine weights
    return op_case("norm_channel_norm", x, y, [node("n", "channel_norm", ["x"])])


def group_norm_frame():
    torch.manual_seed(22)
    C, G = 8, 4
    x = torch.randn(C, T) * 1.5 - 0.3
    # float64: with 2 channels per group the variance can be tiny, and float32 statistics would
    # put the reference's own rounding (amplified by 1/std) above the tolerance.
    gn = nn.GroupNorm(G, C, eps=1e-5).double()
    w, b = _affine(C)
    with torch.no_grad():
        gn.weight.copy_(w), gn.bias.copy_(b)
        y = gn(x.double().T.unsqueeze(-1)).squeeze(-1).T  # per frame: batch T, C, length 1
    return op_case("norm_group_norm_frame", x, y,
                   [node("n", "group_norm", ["x"], {"groups": G}, {"weight": "w", "bias": "b"})],
                   {"w": w, "b": b})


def cumulative_layer_norm():
    torch.manual_seed(23)
    C = 6
    x = torch.randn(C, T) * 0.7 + 2.0
    w, b = _affine(C)
    y = cum_group_norm(x, 1, 1e-8, w, b)
    return op_case("norm_cumulative_layer_norm", x, y,
                   [node("n", "cumulative_layer_norm", ["x"], {"eps": 1e-8},
                         {"weight": "w", "bias": "b"})], {"w": w, "b": b})


def group_norm_cumulative():
    torch.manual_seed(24)
    C, G = 6, 3
    x = torch.randn(C, T)
    y = cum_group_norm(x, G, 1e-5)
    return op_case("norm_group_norm_cumulative", x, y,
                   [node("n", "group_norm", ["x"], {"groups": G, "mode": "cumulative"})])


def batch_norm():
    torch.manual_seed(25)
    C = 5
    x = torch.randn(C, T)
    bn = nn.BatchNorm1d(C, eps=1e-3).eval()
    w, b = _affine(C)
    rm, rv = torch.randn(C) * 0.5, torch.rand(C) + 0.5
    with torch.no_grad():
        bn.weight.copy_(w), bn.bias.copy_(b), bn.running_mean.copy_(rm), bn.running_var.copy_(rv)
        y = bn(x[None])[0]
    return op_case("norm_batch_norm", x, y,
                   [node("n", "batch_norm", ["x"], {"eps": 1e-3},
                         {"weight": "w", "bias": "b", "running_mean": "rm", "running_var": "rv"})],
                   {"w": w, "b": b, "rm": rm, "rv": rv})


def cumulative_after_noncausal_conv():
    """conv1d (k 5, padding [1, 3], bias) -> cumulative_layer_norm. The conv's 3 frames of
    look-ahead are pre-roll for the norm: its statistics must start at offline frame 0."""
    torch.manual_seed(26)
    C = 4
    x = torch.randn(1, T)
    wc, bc = torch.randn(C, 1, 5) * 0.5, torch.randn(C) + 1.0  # bias: non-zero negative time
    h = F.conv1d(F.pad(x[None], (1, 3)), wc, bc)[0]
    w, b = _affine(C)
    y = cum_group_norm(h, 1, 1e-5, w, b)
    return op_case("norm_cumulative_preroll", x, y, [
        node("c", "conv1d", ["x"], {"padding": [1, 3]}, {"weight": "wc", "bias": "bc"}),
        node("n", "cumulative_layer_norm", ["c"], None, {"weight": "w", "bias": "b"}),
    ], {"wc": wc, "bc": bc, "w": w, "b": b})


CASES = [layer_norm_frame, channel_norm_alias, group_norm_frame, cumulative_layer_norm,
         group_norm_cumulative, batch_norm, cumulative_after_noncausal_conv]
