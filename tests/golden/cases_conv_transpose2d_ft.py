"""Golden cases for conv_transpose2d_ft (docs/ops.md): F.conv_transpose2d over (frequency, time)
of signals whose frames carry Cin x F values (channel c*F + f), time the streaming axis: an
FRCRN-style decoder (kernel (5, 2), stride (2, 1), padding (0, 1): one frame of look-ahead), a
cropped one (frequency padding 1, kernel (6, 3), time padding 2), a causal one (time padding 0),
a stack behind a strided conv2d_ft whose later layers start with nonzero input latency, and the
`complex` form of both ops (complex_weight.hpp) with a folded batch norm (out_scale).

Like cases_conv2d_ft.py, references run offline on x followed by TAIL zero frames, cut to len(x)."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from cases_conv2d_ft import _chain, _layer, _w  # noqa: E402
from op_case import node  # noqa: E402

T = 400


def _tlayer(name, cin, w, b=None, stride=2, fpad=0, tpad=1):
    """w [Cin, Cout, kf, kt]: h [Cin*F, T'] -> [Cout*F', T' + kt - 1 - 2 tpad]."""
    attrs = {"stride": [stride, 1], "freq_padding": fpad, "time_padding": tpad}
    weights, tensors = {"weight": name + ".w"}, {name + ".w": w}
    if b is not None:
        weights["bias"], tensors[name + ".b"] = name + ".b", b

    def run(h):
        x = h.reshape(1, cin, -1, h.shape[-1])
        y = F.conv_transpose2d(x, w, b, stride=(stride, 1), padding=(fpad, tpad))
        return y.reshape(-1, y.shape[-1])
    return run, node(name, "conv_transpose2d_ft", [], attrs, weights), tensors


def conv_transpose2d_ft_decoder():
    torch.manual_seed(320)
    return _chain("conv_transpose2d_ft_decoder", torch.randn(3 * 7, T),
                  [_tlayer("d", 3, _w(3, 4, 5, 2, scale=0.2), _w(4))])


def conv_transpose2d_ft_cropped():
    torch.manual_seed(321)
    return _chain("conv_transpose2d_ft_cropped", torch.randn(2 * 9, T),
                  [_tlayer("d", 2, _w(2, 3, 6, 3, scale=0.2), _w(3), stride=2, fpad=1, tpad=2)])


def conv_transpose2d_ft_causal_stride3():
    torch.manual_seed(322)
    return _chain("conv_transpose2d_ft_causal_stride3", torch.randn(4 * 5, T),
                  [_tlayer("d", 4, _w(4, 2, 4, 3, scale=0.2), None, stride=3, tpad=0)])


def conv_transpose2d_ft_unet_stack():
    """Strided conv2d_ft (causal, extra frame) -> decoder -> decoder: the decoders start at input
    latency 0 and 1; their pre-roll must reproduce offline's absence of earlier frames."""
    torch.manual_seed(323)
    return _chain("conv_transpose2d_ft_unet_stack", torch.randn(2 * 17, T), [
        _layer("e", 2, _w(5, 2, 5, 2, scale=0.2), _w(5), (0, 0), (1, 1), stride=2),
        _tlayer("d1", 5, _w(5, 3, 5, 2, scale=0.2), _w(3)),
        _tlayer("d2", 3, _w(3, 2, 3, 2, scale=0.2), _w(2), stride=1, fpad=1),
    ], tol=5e-5)


def _complex(name, op, cin, w, b, scale, **attrs):
    """The `complex` form: w [2, ...] = (W_re, W_im) of a conv (op conv2d_ft, w [2, Cout, Cin,
    kf, kt]) or transposed conv (w [2, Cin, Cout, kf, kt]) on h = [real | imaginary] channels;
    output row o times scale[o], plus the bias b [2 Cout]."""
    torch_op = F.conv2d if op == "conv2d_ft" else F.conv_transpose2d
    pad = (attrs.get("freq_padding", 0), attrs.get("time_padding", 0))
    stride = tuple(attrs.get("stride", [1, 1]))

    def run(h):
        x = h.reshape(2, cin, -1, h.shape[-1])
        tp = attrs.get("time_padding", 0)
        if op == "conv2d_ft":  # conv2d_ft takes [l, r] paddings
            x = F.pad(x, tuple(tp) + tuple(attrs.get("freq_padding", [0, 0])))
            f = lambda v, k: torch_op(v[None], w[k], stride=stride)[0]  # noqa: E731
        else:
            f = lambda v, k: torch_op(v[None], w[k], stride=stride, padding=pad)[0]  # noqa: E731
        re = f(x[0], 0) - f(x[1], 1)
        im = f(x[1], 0) + f(x[0], 1)
        y = torch.cat([re, im]) * scale[:, None, None] + b[:, None, None]
        return y.reshape(-1, y.shape[-1])
    weights = {"weight": name + ".w", "bias": name + ".b", "out_scale": name + ".s"}
    return run, node(name, op, [], dict(attrs, complex=True), weights), \
        {name + ".w": w, name + ".b": b, name + ".s": scale}


def complex_conv_and_transposed_conv():
    """FRCRN's complex encoder and decoder with batch norm folded into out_scale and bias."""
    torch.manual_seed(324)
    return _chain("complex_conv_and_transposed_conv", torch.randn(2 * 2 * 13, T), [
        _complex("e", "conv2d_ft", 2, _w(2, 3, 2, 5, 2, scale=0.2), _w(6), 1 + _w(6),
                 stride=[2, 1], time_padding=[1, 1]),
        _complex("d", "conv_transpose2d_ft", 3, _w(2, 3, 2, 5, 2, scale=0.2), _w(4), 1 + _w(4),
                 stride=[2, 1], time_padding=1),
    ], tol=5e-5)


CASES = [complex_conv_and_transposed_conv, conv_transpose2d_ft_decoder, conv_transpose2d_ft_cropped,
         conv_transpose2d_ft_causal_stride3, conv_transpose2d_ft_unet_stack]
