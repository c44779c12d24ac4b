"""Golden cases for the convolution family (docs/ops.md "Convolution family"): F.conv1d with
causal and non-causal padding, dilation, groups and stacks (pre-roll of a conv behind a non-causal
conv), F.conv_transpose1d, nn.Linear per frame, and strided convs composed back to the input rate
(conv1d stride s then conv_transpose1d stride s), as the graph output must be at the input rate.

A stream cannot know where the signal ends: after x it sees the zeros the runner feeds. So every
reference runs offline on x followed by TAIL zeros and keeps the first len(x) frames; a single
stride-1 conv gives the same frames as F.conv1d(F.pad(x, (l, r))) on x alone."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 1500
TAIL = 128


def _padded(x):
    return torch.cat([x, torch.zeros(x.shape[0], TAIL)], dim=-1)


def _w(*shape, scale=0.5):
    return torch.randn(*shape) * scale


def _conv(name, x, w, b, pad, **kw):
    """One conv1d node and its offline output on x ([C, T'] unbatched)."""
    y = F.conv1d(F.pad(x[None], tuple(pad)), w, b, **kw)[0]
    attrs = {"padding": list(pad), **kw}
    weights = {"weight": name + ".w"}
    tensors = {name + ".w": w}
    if b is not None:
        weights["bias"] = name + ".b"
        tensors[name + ".b"] = b
    return y, node(name, "conv1d", [], attrs, weights), tensors


def _conv_t(name, x, w, b, **kw):
    y = F.conv_transpose1d(x[None], w, b, **kw)[0]
    weights = {"weight": name + ".w"}
    tensors = {name + ".w": w}
    if b is not None:
        weights["bias"] = name + ".b"
        tensors[name + ".b"] = b
    return y, node(name, "conv_transpose1d", [], dict(kw), weights), tensors


def _chain(name, x, layers):
    """layers: functions (h, index) -> (h_next, node, tensors); nodes are chained from input x."""
    h = _padded(x)
    nodes, tensors, prev = [], {}, "x"
    for i, layer in enumerate(layers):
        h, n, t = layer(h, i)
        n["inputs"] = [prev]
        prev = n["name"]
        nodes.append(n)
        tensors.update(t)
    return op_case(name, x, h[:, :x.shape[-1]], nodes, tensors)


def conv_causal():
    torch.manual_seed(100)
    w, b = _w(4, 1, 3), _w(4)
    return _chain("conv_causal", torch.randn(1, T),
                  [lambda h, i: _conv("c", h, w, b, [2, 0])])


def conv_noncausal_same():
    torch.manual_seed(101)
    w, b = _w(3, 2, 5), _w(3)
    return _chain("conv_noncausal_same", torch.randn(2, T),
                  [lambda h, i: _conv("c", h, w, b, [2, 2])])


def conv_asymmetric_no_bias():
    """More look-ahead than history, no bias, Cout < Cin."""
    torch.manual_seed(102)
    w = _w(2, 3, 6)
    return _chain("conv_asymmetric_no_bias", torch.randn(3, T),
                  [lambda h, i: _conv("c", h, w, None, [1, 4])])


def conv_dilated():
    torch.manual_seed(103)
    w, b = _w(3, 3, 3), _w(3)
    return _chain("conv_dilated", torch.randn(3, T),
                  [lambda h, i: _conv("c", h, w, b, [4, 4], dilation=4)])


def conv_groups():
    torch.manual_seed(104)
    w, b = _w(6, 2, 3), _w(6)
    return _chain("conv_groups", torch.randn(4, T),
                  [lambda h, i: _conv("c", h, w, b, [1, 1], groups=2)])


def conv_depthwise_dilated():
    torch.manual_seed(105)
    w, b = _w(3, 1, 7), _w(3)
    return _chain("conv_depthwise_dilated", torch.randn(3, T),
                  [lambda h, i: _conv("c", h, w, b, [3, 9], dilation=2, groups=3)])


def conv_noncausal_stack():
    """Three non-causal convs with biases: the later ones start with nonzero input latency, and
    their pre-roll must reproduce the offline zero padding of the intermediate signals."""
    torch.manual_seed(106)
    w1, b1 = _w(4, 1, 5), _w(4)
    w2, b2 = _w(4, 4, 3), _w(4)
    w3, b3 = _w(2, 4, 4), _w(2)
    return _chain("conv_noncausal_stack", torch.randn(1, T), [
        lambda h, i: _conv("c1", h, w1, b1, [2, 2]),
        lambda h, i: _conv("c2", h, w2, b2, [3, 1], dilation=2),
        lambda h, i: _conv("c3", h, w3, b3, [1, 2]),
    ])


def conv_transpose_stride1():
    torch.manual_seed(107)
    w, b = _w(2, 3, 3), _w(3)
    return _chain("conv_transpose_stride1", torch.randn(2, T),
                  [lambda h, i: _conv_t("t", h, w, b, padding=1, dilation=2)])


def conv_stride2_up():
    """conv1d stride 2 (k 4, pad [1, 2]) -> conv_transpose1d stride 2 (k 4, padding 1)."""
    torch.manual_seed(108)
    wd, bd = _w(3, 1, 4), _w(3)
    wu, bu = _w(3, 1, 4), _w(1)
    return _chain("conv_stride2_up", torch.randn(1, T), [
        lambda h, i: _conv("down", h, wd, bd, [1, 2], stride=2),
        lambda h, i: _conv_t("up", h, wu, bu, stride=2, padding=1),
    ])


def conv_stride3_dilated_groups_up():
    """Grouped, dilated stride-3 conv down, grouped stride-3 transposed conv (k 6, output_padding
    1) back up; the phase of the down conv is (k-1)d - l = 6 - 2 = 4 mod 3 = 1."""
    torch.manual_seed(109)
    wd, bd = _w(4, 1, 4), _w(4)
    wu, bu = _w(4, 1, 6), _w(2)
    return _chain("conv_stride3_dilated_groups_up", torch.randn(2, T), [
        lambda h, i: _conv("down", h, wd, bd, [2, 3], stride=3, dilation=2, groups=2),
        lambda h, i: _conv_t("up", h, wu, bu, stride=3, groups=2, output_padding=1),
    ])


def conv_stride4_linear_up():
    """Stride-4 conv, a per-frame linear at rate 1/4, stride-4 transposed conv with padding."""
    torch.manual_seed(110)
    wd, bd = _w(6, 1, 8, scale=0.3), _w(6)
    wl, bl = _w(5, 6, scale=0.4), _w(5)
    wu, bu = _w(5, 1, 8, scale=0.4), _w(1)

    def lin(h, i):
        n = node("lin", "linear", [], None, {"weight": "wl", "bias": "bl"})
        return F.linear(h.T, wl, bl).T, n, {"wl": wl, "bl": bl}

    return _chain("conv_stride4_linear_up", torch.randn(1, T), [
        lambda h, i: _conv("down", h, wd, bd, [4, 3], stride=4),
        lin,
        lambda h, i: _conv_t("up", h, wu, bu, stride=4, padding=2),
    ])


def conv_chain_two_strides():
    """Stride 2 then stride 3 down (rate 1/6), then up by 3 and by 2; the second conv sees a
    nonzero input latency at rate 1/2."""
    torch.manual_seed(111)
    w1, b1 = _w(3, 1, 5), _w(3)
    w2, b2 = _w(3, 3, 3), _w(3)
    w3, b3 = _w(3, 3, 3), _w(3)
    w4, b4 = _w(3, 1, 4), _w(1)
    return _chain("conv_chain_two_strides", torch.randn(1, T), [
        lambda h, i: _conv("d1", h, w1, b1, [2, 2], stride=2),
        lambda h, i: _conv("d2", h, w2, b2, [1, 1], stride=3),
        lambda h, i: _conv_t("u2", h, w3, b3, stride=3),
        lambda h, i: _conv_t("u1", h, w4, b4, stride=2, padding=1),
    ])


def linear_per_frame():
    torch.manual_seed(112)
    w, b = _w(2, 3), _w(2)

    def lin(h, i):
        n = node("lin", "linear", [], None, {"weight": "w", "bias": "b"})
        return F.linear(h.T, w, b).T, n, {"w": w, "b": b}

    return _chain("linear_per_frame", torch.randn(3, T), [lin])


CASES = [conv_causal, conv_noncausal_same, conv_asymmetric_no_bias, conv_dilated, conv_groups,
         conv_depthwise_dilated, conv_noncausal_stack, conv_transpose_stride1, conv_stride2_up,
         conv_stride3_dilated_groups_up, conv_stride4_linear_up, conv_chain_two_strides,
         linear_per_frame]
