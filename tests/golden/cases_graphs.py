"""Golden cases for whole graphs: the planner's rates, stride alignment and branch delays.

Each graph mixes non-causal convolutions, strides, transposed convolutions and residual or
parallel branches; the reference is the same computation in PyTorch on the whole signal.

A stream cannot know where a signal ends: after x it sees the zeros the runner feeds, while an
offline model zero-pads every intermediate layer at the end of x. So the reference runs offline
on x followed by TAIL zeros and keeps the first len(x) frames (at the start, offline and stream
agree exactly: the engine's pre-roll reproduces the offline zero padding)."""

import numpy as np
import torch
import torch.nn.functional as F

SR = 16000


def _t(a):
    return a.detach().numpy().astype(np.float32)


def _w(*shape, scale=0.5):
    return torch.randn(*shape) * scale


TAIL = 256


def _padded(x):
    return torch.cat([x, torch.zeros(*x.shape[:-1], TAIL)], dim=-1)


def _io(cin, cout, source):
    return ([{"name": "x", "kind": "audio", "channels": cin, "sample_rate": SR}],
            [{"name": "y", "kind": "audio", "channels": cout, "source": source}])


def residual_noncausal_stack():
    """conv(k5, pad 2/2) -> relu -> conv(k3, d2, pad 2/2) ; + skip from the first conv ->
    conv(k3 causal). The skip must be delayed by the second conv's look-ahead."""
    torch.manual_seed(1)
    C = 4
    w1, b1 = _w(C, 1, 5), _w(C)
    w2, b2 = _w(C, C, 3), _w(C)
    w3, b3 = _w(1, C, 3), _w(1)
    x = torch.randn(1, 1, 3000)
    xp = _padded(x)
    h1 = F.conv1d(F.pad(xp, (2, 2)), w1, b1)
    h2 = F.conv1d(F.pad(F.relu(h1), (2, 2)), w2, b2, dilation=2)
    y = F.conv1d(F.pad(h1 + h2, (2, 0)), w3, b3)[..., :x.shape[-1]]
    inputs, outputs = _io(1, 1, "c3")
    graph = {"inputs": inputs, "outputs": outputs, "params": [], "meta": {}, "nodes": [
        {"name": "c1", "op": "conv1d", "inputs": ["x"], "attrs": {"padding": [2, 2]},
         "weights": {"weight": "c1.w", "bias": "c1.b"}},
        {"name": "r1", "op": "relu", "inputs": ["c1"]},
        {"name": "c2", "op": "conv1d", "inputs": ["r1"], "attrs": {"padding": [2, 2], "dilation": 2},
         "weights": {"weight": "c2.w", "bias": "c2.b"}},
        {"name": "sum", "op": "add", "inputs": ["c1", "c2"]},
        {"name": "c3", "op": "conv1d", "inputs": ["sum"], "attrs": {"padding": [2, 0]},
         "weights": {"weight": "c3.w", "bias": "c3.b"}},
    ]}
    tensors = {"c1.w": _t(w1), "c1.b": _t(b1), "c2.w": _t(w2), "c2.b": _t(b2),
               "c3.w": _t(w3), "c3.b": _t(b3)}
    return {"name": "graph_residual_noncausal", "graph": graph, "tensors": tensors,
            "input": _t(x[0]), "expected": _t(y[0]), "tol": 2e-5}


def strided_unet():
    """Encoder stride 2 then stride 3 (non-causal, odd paddings), a dilated conv at rate 1/6,
    transposed convs back up, a skip at rate 1/2 concatenated, and a full-rate skip added."""
    torch.manual_seed(2)
    C = 3
    we1, be1 = _w(C, 1, 4), _w(C)      # stride 2, pad (1, 2)
    we2, be2 = _w(C, C, 5), _w(C)      # stride 3, pad (2, 2)
    wm, bm = _w(C, C, 3), _w(C)        # dilation 2, pad (2, 2)
    wd2, bd2 = _w(C, C, 6), _w(C)      # transpose stride 3, k 6, padding 1
    wd1, bd1 = _w(2 * C, 1, 4), _w(1)  # transpose stride 2 over concat, k 4, padding 1
    x = torch.randn(1, 1, 2400)
    xp = _padded(x)
    e1 = torch.tanh(F.conv1d(F.pad(xp, (1, 2)), we1, be1, stride=2))
    e2 = torch.tanh(F.conv1d(F.pad(e1, (2, 2)), we2, be2, stride=3))
    m = F.conv1d(F.pad(e2, (2, 2)), wm, bm, dilation=2)
    d2 = F.conv_transpose1d(m, wd2, bd2, stride=3, padding=1)
    d2 = d2[..., :e1.shape[-1]]
    cat = torch.cat([d2, e1], dim=1)
    d1 = F.conv_transpose1d(cat, wd1, bd1, stride=2, padding=1)
    y = d1[..., :x.shape[-1]] + x
    inputs, outputs = _io(1, 1, "out")
    graph = {"inputs": inputs, "outputs": outputs, "params": [], "meta": {}, "nodes": [
        {"name": "e1c", "op": "conv1d", "inputs": ["x"], "attrs": {"stride": 2, "padding": [1, 2]},
         "weights": {"weight": "we1", "bias": "be1"}},
        {"name": "e1", "op": "tanh", "inputs": ["e1c"]},
        {"name": "e2c", "op": "conv1d", "inputs": ["e1"], "attrs": {"stride": 3, "padding": [2, 2]},
         "weights": {"weight": "we2", "bias": "be2"}},
        {"name": "e2", "op": "tanh", "inputs": ["e2c"]},
        {"name": "m", "op": "conv1d", "inputs": ["e2"], "attrs": {"dilation": 2, "padding": [2, 2]},
         "weights": {"weight": "wm", "bias": "bm"}},
        {"name": "d2", "op": "conv_transpose1d", "inputs": ["m"], "attrs": {"stride": 3, "padding": 1},
         "weights": {"weight": "wd2", "bias": "bd2"}},
        {"name": "cat", "op": "concat", "inputs": ["d2", "e1"]},
        {"name": "d1", "op": "conv_transpose1d", "inputs": ["cat"], "attrs": {"stride": 2, "padding": 1},
         "weights": {"weight": "wd1", "bias": "bd1"}},
        {"name": "out", "op": "add", "inputs": ["d1", "x"]},
    ]}
    tensors = {k: _t(v) for k, v in dict(we1=we1, be1=be1, we2=we2, be2=be2, wm=wm, bm=bm,
                                         wd2=wd2, bd2=bd2, wd1=wd1, bd1=bd1).items()}
    return {"name": "graph_strided_unet", "graph": graph, "tensors": tensors,
            "input": _t(x[0]), "expected": _t(y[0]), "tol": 5e-5}


def stft_mask_istft():
    """STFT -> per-frame linear mask (sigmoid) on the spectrum -> iSTFT, plus a dry skip."""
    torch.manual_seed(3)
    n_fft, hop = 64, 16
    Fb = n_fft // 2 + 1
    wl, bl = _w(Fb, 2 * Fb, scale=0.1), _w(Fb)
    x = torch.randn(1, 4000)
    xp = _padded(x)
    win = torch.hann_window(n_fft)
    X = torch.stft(xp, n_fft, hop, window=win, center=True, pad_mode="constant",
                   return_complex=True)                 # [1, F, T]
    feats = torch.cat([X.real, X.imag], dim=1)          # [1, 2F, T]
    mask = torch.sigmoid(torch.einsum("of,bft->bot", wl, feats) + bl[None, :, None])
    Y = X * mask
    y = torch.istft(Y, n_fft, hop, window=win, center=True, length=xp.shape[-1])
    y = y + 0.5 * xp
    half = torch.full((1, 1), 0.5)
    inputs, outputs = _io(1, 1, "out")
    graph = {"inputs": inputs, "outputs": outputs, "params": [], "meta": {}, "nodes": [
        {"name": "spec", "op": "stft", "inputs": ["x"],
         "attrs": {"n_fft": n_fft, "hop": hop, "window": "hann", "center": True}},
        {"name": "lin", "op": "linear", "inputs": ["spec"], "weights": {"weight": "wl", "bias": "bl"}},
        {"name": "mask", "op": "sigmoid", "inputs": ["lin"]},
        {"name": "mask2", "op": "concat", "inputs": ["mask", "mask"]},
        {"name": "masked", "op": "mul", "inputs": ["spec", "mask2"]},
        {"name": "wave", "op": "istft", "inputs": ["masked"],
         "attrs": {"n_fft": n_fft, "hop": hop, "window": "hann", "center": True}},
        {"name": "dry", "op": "linear", "inputs": ["x"], "weights": {"weight": "half"}},
        {"name": "out", "op": "add", "inputs": ["wave", "dry"]},
    ]}
    tensors = {"wl": _t(wl), "bl": _t(bl), "half": _t(half)}
    return {"name": "graph_stft_mask_istft", "graph": graph, "tensors": tensors,
            "input": _t(x), "expected": _t(y[:, :x.shape[-1]]), "tol": 5e-5}


CASES = [residual_noncausal_stack, strided_unet, stft_mask_istft]
