"""Golden cases for conv2d_ft (docs/ops.md): F.conv2d over (frequency, time) of signals whose
frames carry Cin x F values (channel c*F + f), time the streaming axis: depthwise 7x7 with reflect
padding in frequency (Wavehax's ConvNeXt blocks), 1x1 dense (its pointwise convs), groups with
dilation in both axes, a channel multiplier, a frequency stride (the reference loop), a causal
kernel, and a stack whose later convs start with nonzero input latency (pre-roll) and biases.

Like cases_conv.py, references run offline on x followed by TAIL zero frames, cut to len(x)."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 600
TAIL = 64


def _conv2d_ft(h, cin, w, b, fpad=(0, 0), tpad=(0, 0), mode="zeros", stride=1, dilation=(1, 1),
               groups=1):
    """h [Cin*F, T'] -> [Cout*F', T']: the engine layout of F.conv2d on [1, Cin, F, T']."""
    x = h.reshape(1, cin, -1, h.shape[-1])
    if fpad != (0, 0):
        x = F.pad(x, (0, 0) + tuple(fpad), mode="reflect" if mode == "reflect" else "constant")
    x = F.pad(x, tuple(tpad) + (0, 0))
    y = F.conv2d(x, w, b, stride=(stride, 1), dilation=dilation, groups=groups)
    return y.reshape(-1, y.shape[-1])


def _layer(name, cin, w, b=None, fpad=(0, 0), tpad=(0, 0), mode="zeros", stride=1,
           dilation=(1, 1), groups=1):
    attrs = {"groups": groups, "dilation": list(dilation), "stride": [stride, 1],
             "freq_padding": list(fpad), "time_padding": list(tpad), "freq_pad_mode": mode}
    weights, tensors = {"weight": name + ".w"}, {name + ".w": w}
    if b is not None:
        weights["bias"], tensors[name + ".b"] = name + ".b", b

    def run(h):
        return _conv2d_ft(h, cin, w, b, fpad, tpad, mode, stride, dilation, groups)
    return run, node(name, "conv2d_ft", [], attrs, weights), tensors


def _chain(name, x, layers, tol=2e-5):
    h = torch.cat([x, torch.zeros(x.shape[0], TAIL)], dim=-1)
    nodes, tensors, prev = [], {}, "x"
    for run, n, t in layers:
        h = run(h)
        n["inputs"] = [prev]
        prev = n["name"]
        nodes.append(n)
        tensors.update(t)
    return op_case(name, x, h[:, :x.shape[-1]], nodes, tensors, tol=tol)


def _w(*shape, scale=0.3):
    return torch.randn(*shape) * scale


def conv2d_ft_depthwise_7x7_reflect():
    torch.manual_seed(300)
    c, f = 4, 17
    return _chain("conv2d_ft_depthwise_7x7_reflect", torch.randn(c * f, T),
                  [_layer("dw", c, _w(c, 1, 7, 7, scale=0.15), None, (3, 3), (3, 3), "reflect",
                          groups=c)])


def conv2d_ft_pointwise_dense():
    torch.manual_seed(301)
    f = 13
    return _chain("conv2d_ft_pointwise_dense", torch.randn(5 * f, T),
                  [_layer("pw", 5, _w(6, 5, 1, 1), _w(6))])


def conv2d_ft_groups_dilated():
    """groups 2, kernel (3, 5), dilation (2, 2), zero frequency padding, non-causal in time."""
    torch.manual_seed(302)
    f = 11
    return _chain("conv2d_ft_groups_dilated", torch.randn(4 * f, T),
                  [_layer("g", 4, _w(6, 2, 3, 5, scale=0.2), _w(6), (2, 2), (3, 5),
                          dilation=(2, 2), groups=2)])


def conv2d_ft_channel_multiplier():
    """Depthwise with two outputs per input channel (Cin/G = 1, Cout/G = 2), asymmetric
    reflect padding that changes the bin count."""
    torch.manual_seed(303)
    c, f = 3, 9
    return _chain("conv2d_ft_channel_multiplier", torch.randn(c * f, T),
                  [_layer("dm", c, _w(2 * c, 1, 5, 3), _w(2 * c), (1, 3), (1, 1), "reflect",
                          groups=c)])


def conv2d_ft_freq_stride_causal():
    """Frequency stride 2 (FRCRN-style encoder), causal in time (padding [2, 0])."""
    torch.manual_seed(304)
    f = 16
    return _chain("conv2d_ft_freq_stride_causal", torch.randn(3 * f, T),
                  [_layer("s", 3, _w(4, 3, 4, 3, scale=0.2), _w(4), (1, 2), (2, 0), stride=2)])


def conv2d_ft_stack():
    """Depthwise (reflect) -> 1x1 dense -> dense 3x3: the later convs start with nonzero input
    latency; their pre-roll must reproduce the offline zero time padding of the biased signals."""
    torch.manual_seed(305)
    c, f = 4, 10
    return _chain("conv2d_ft_stack", torch.randn(c * f, T), [
        _layer("dw", c, _w(c, 1, 7, 7, scale=0.15), _w(c), (3, 3), (3, 3), "reflect", groups=c),
        _layer("pw", c, _w(8, c, 1, 1), _w(8)),
        _layer("mix", 8, _w(2, 8, 3, 3, scale=0.15), _w(2), (1, 1), (1, 1)),
    ])


CASES = [conv2d_ft_depthwise_7x7_reflect, conv2d_ft_pointwise_dense, conv2d_ft_groups_dilated,
         conv2d_ft_channel_multiplier, conv2d_ft_freq_stride_causal, conv2d_ft_stack]
