"""Golden cases for stft / istft (docs/ops.md): torch.stft (pad_mode "constant", onesided) and
torch.istft with the named windows and a window given as a weight, centered or not. The graph
output must run at the input rate, so every case composes stft with istft, with spectral
processing in between: a per-frame linear (also mixing the channels of a stereo spectrum), a
non-causal conv over frames, and an stft behind a stride-2 conv (nonzero input latency and
phase) brought back up by a transposed conv.

Spectrum layout (docs/ops.md): channel c*2F + f = Re X_c[f], c*2F + F + f = Im X_c[f].
Like cases_conv.py, the references run offline on x followed by TAIL zeros and keep len(x) frames
(a stream keeps producing frames of the zeros after x; offline they exist only with the padding)."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 2000
TAIL = 256


def _padded(x):
    return torch.cat([x, torch.zeros(x.shape[0], TAIL)], dim=-1)


WINDOWS = {
    "hann": lambda n: torch.hann_window(n),
    "sqrt_hann": lambda n: torch.hann_window(n).sqrt(),
    "hamming": lambda n: torch.hamming_window(n),
    "rect": lambda n: torch.ones(n),
}


def _spec(x, n_fft, hop, win, center):
    """x [C, T] -> features [C*2F, N] in the engine's layout."""
    X = torch.stft(x, n_fft, hop, window=win, center=center, pad_mode="constant", onesided=True,
                   return_complex=True)  # [C, F, N]
    return torch.cat([X.real, X.imag], dim=1).reshape(-1, X.shape[-1])


def _wave(feats, n_fft, hop, win, center, length):
    """features [C*2F, N] -> signal [C, length] (torch.istft)."""
    f = n_fft // 2 + 1
    z = feats.reshape(-1, 2, f, feats.shape[-1])
    X = torch.complex(z[:, 0], z[:, 1])
    return torch.istft(X, n_fft, hop, window=win, center=center, length=length)


def _attrs(n_fft, hop, window, center):
    a = {"n_fft": n_fft, "hop": hop, "center": center}
    if window is not None:
        a["window"] = window
    return a


def _roundtrip(name, channels, n_fft, hop, window, center, seed):
    torch.manual_seed(seed)
    x = torch.randn(channels, T)
    xp = _padded(x)
    win = WINDOWS[window](n_fft)
    y = _wave(_spec(xp, n_fft, hop, win, center), n_fft, hop, win, center, xp.shape[-1])
    attrs = _attrs(n_fft, hop, window, center)
    return op_case(name, x, y[:, :T],
                   [node("spec", "stft", ["x"], attrs), node("wave", "istft", ["spec"], attrs)])


def stft_istft_hann():
    return _roundtrip("stft_istft_hann", 1, 64, 16, "hann", True, 200)


def stft_istft_sqrt_hann_stereo():
    return _roundtrip("stft_istft_sqrt_hann_stereo", 2, 32, 16, "sqrt_hann", True, 201)


def stft_istft_hamming_not_centered():
    return _roundtrip("stft_istft_hamming_not_centered", 1, 32, 8, "hamming", False, 202)


def stft_istft_rect_odd_hop():
    return _roundtrip("stft_istft_rect_odd_hop", 1, 16, 5, "rect", True, 203)


def stft_linear_istft():
    """A per-frame linear on the spectrum (not a consistent STFT any more: the envelope division
    and the frame alignment of the stream must match torch.istft exactly)."""
    torch.manual_seed(204)
    n_fft, hop = 32, 8
    f = n_fft // 2 + 1
    wl, bl = torch.randn(2 * f, 2 * f) / (2 * f) ** 0.5, torch.randn(2 * f) * 0.1
    x = torch.randn(1, T)
    xp = _padded(x)
    win = WINDOWS["hann"](n_fft)
    h = F.linear(_spec(xp, n_fft, hop, win, True).T, wl, bl).T
    y = _wave(h, n_fft, hop, win, True, xp.shape[-1])
    attrs = _attrs(n_fft, hop, "hann", True)
    return op_case("stft_linear_istft", x, y[:, :T], [
        node("spec", "stft", ["x"], attrs),
        node("lin", "linear", ["spec"], None, {"weight": "wl", "bias": "bl"}),
        node("wave", "istft", ["lin"], attrs),
    ], {"wl": wl, "bl": bl})


def stft_stereo_mix_istft():
    """Stereo spectrum (4F channels) mixed by a linear across both channels: checks the
    channel-major layout of stft output and istft input."""
    torch.manual_seed(205)
    n_fft, hop = 16, 4
    f = n_fft // 2 + 1
    wl = torch.randn(4 * f, 4 * f) / (4 * f) ** 0.5
    x = torch.randn(2, T)
    xp = _padded(x)
    win = WINDOWS["hann"](n_fft)
    h = F.linear(_spec(xp, n_fft, hop, win, True).T, wl).T
    y = _wave(h, n_fft, hop, win, True, xp.shape[-1])
    attrs = _attrs(n_fft, hop, None, True)  # "hann" by default
    return op_case("stft_stereo_mix_istft", x, y[:, :T], [
        node("spec", "stft", ["x"], attrs),
        node("mix", "linear", ["spec"], None, {"weight": "wl"}),
        node("wave", "istft", ["mix"], attrs),
    ], {"wl": wl})


def stft_conv_istft():
    """A non-causal conv over frames with a bias between stft and istft: the conv and the istft
    start with nonzero input latency, their pre-roll frames must not count."""
    torch.manual_seed(206)
    n_fft, hop = 16, 4
    f = n_fft // 2 + 1
    wc, bc = torch.randn(2 * f, 2 * f, 3) / (6 * f) ** 0.5, torch.randn(2 * f) * 0.1
    x = torch.randn(1, T)
    xp = _padded(x)
    win = WINDOWS["hann"](n_fft)
    h = F.conv1d(F.pad(_spec(xp, n_fft, hop, win, True)[None], (1, 1)), wc, bc)[0]
    y = _wave(h, n_fft, hop, win, True, xp.shape[-1])
    attrs = _attrs(n_fft, hop, "hann", True)
    return op_case("stft_conv_istft", x, y[:, :T], [
        node("spec", "stft", ["x"], attrs),
        node("conv", "conv1d", ["spec"], {"padding": [1, 1]}, {"weight": "wc", "bias": "bc"}),
        node("wave", "istft", ["conv"], attrs),
    ], {"wc": wc, "bc": bc})


def stft_window_weight():
    """A Kaiser window given as the `window` weight of both ops."""
    torch.manual_seed(207)
    n_fft, hop = 24, 6
    win = torch.kaiser_window(n_fft, periodic=True, beta=8.0)
    x = torch.randn(1, T)
    xp = _padded(x)
    h = _spec(xp, n_fft, hop, win, True) * 0.5
    y = _wave(h, n_fft, hop, win, True, xp.shape[-1])
    attrs = _attrs(n_fft, hop, None, True)
    return op_case("stft_window_weight", x, y[:, :T], [
        node("spec", "stft", ["x"], attrs, {"window": "win"}),
        node("half", "linear", ["spec"], None, {"weight": "half"}),
        node("wave", "istft", ["half"], attrs, {"window": "win"}),
    ], {"win": win, "half": torch.eye(2 * (n_fft // 2 + 1)) * 0.5})


def stft_behind_strided_conv():
    """conv1d stride 2 (phase 1, latency at rate 1/2) -> stft hop 4 (rate 1/8) -> linear ->
    istft (rate 1/2) -> conv_transpose1d stride 2 back to the input rate."""
    torch.manual_seed(208)
    n_fft, hop = 16, 4
    f = n_fft // 2 + 1
    wd, bd = torch.randn(1, 1, 4) * 0.5, torch.randn(1) * 0.1
    wl = torch.randn(2 * f, 2 * f) / (2 * f) ** 0.5
    wu, bu = torch.randn(1, 1, 4) * 0.5, torch.randn(1) * 0.1
    x = torch.randn(1, T)
    xp = _padded(x)
    win = WINDOWS["hann"](n_fft)
    d = F.conv1d(F.pad(xp[None], (2, 1)), wd, bd, stride=2)[0]
    h = F.linear(_spec(d, n_fft, hop, win, True).T, wl).T
    s = _wave(h, n_fft, hop, win, True, d.shape[-1])
    y = F.conv_transpose1d(s[None], wu, bu, stride=2, padding=1)[0]
    attrs = _attrs(n_fft, hop, "hann", True)
    return op_case("stft_behind_strided_conv", x, y[:, :T], [
        node("down", "conv1d", ["x"], {"stride": 2, "padding": [2, 1]},
             {"weight": "wd", "bias": "bd"}),
        node("spec", "stft", ["down"], attrs),
        node("lin", "linear", ["spec"], None, {"weight": "wl"}),
        node("wave", "istft", ["lin"], attrs),
        node("up", "conv_transpose1d", ["wave"], {"stride": 2, "padding": 1},
             {"weight": "wu", "bias": "bu"}),
    ], {"wd": wd, "bd": bd, "wl": wl, "wu": wu, "bu": bu})



def stft_istft_eps_not_centered():
    """istft attribute eps added to the overlap-added window^2 (FRCRN's ConviSTFT: + 1e-8; 1e-2
    here so it shows) with sqrt Hann and no padding: y = OLA(w irfft X) / (OLA(w^2) + eps)."""
    torch.manual_seed(204)
    n_fft, hop, eps = 32, 16, 1e-2
    x = torch.randn(1, T)
    win = WINDOWS["sqrt_hann"](n_fft)
    spec = _spec(_padded(x), n_fft, hop, win, False)
    f, n = n_fft // 2 + 1, spec.shape[-1]
    frames = torch.fft.irfft(torch.complex(spec[:f], spec[f:]), n=n_fft, dim=0) * win[:, None]
    fold = lambda v: F.fold(v[None], (1, (n - 1) * hop + n_fft), (1, n_fft),  # noqa: E731
                            stride=(1, hop)).reshape(-1)
    y = fold(frames) / (fold((win ** 2)[:, None].repeat(1, n)) + eps)
    attrs = dict(_attrs(n_fft, hop, "sqrt_hann", False))
    return op_case("stft_istft_eps_not_centered", x, y[None, :T],
                   [node("spec", "stft", ["x"], attrs),
                    node("wave", "istft", ["spec"], dict(attrs, eps=eps))])

CASES = [stft_istft_hann, stft_istft_sqrt_hann_stereo, stft_istft_hamming_not_centered,
         stft_istft_rect_odd_hop, stft_linear_istft, stft_stereo_mix_istft, stft_conv_istft,
         stft_window_weight, stft_behind_strided_conv]


def stft_pad_wavehax_conv_istft():
    """Wavehax's STFT: (n_fft - hop)/2 zeros on each side (attribute pad), periodic Hann, no
    normalisation; its iSTFT drops the first pad samples. Reference: torch.stft / torch.istft
    with center=False on the padded signal, then the first pad samples dropped. A non-causal conv
    over frames in between (the istft starts with nonzero input latency)."""
    torch.manual_seed(209)
    n_fft, hop = 24, 12
    pad = (n_fft - hop) // 2
    f = n_fft // 2 + 1
    wc, bc = torch.randn(2 * f, 2 * f, 3) / (6 * f) ** 0.5, torch.randn(2 * f) * 0.1
    x = torch.randn(1, T)
    xp = F.pad(_padded(x), (pad, pad))
    win = WINDOWS["hann"](n_fft)
    h = F.conv1d(F.pad(_spec(xp, n_fft, hop, win, False)[None], (1, 1)), wc, bc)[0]
    z = h.reshape(2, f, -1)
    frames = torch.fft.irfft(torch.complex(z[0], z[1]), n_fft, dim=0) * win[:, None]
    eye = torch.eye(n_fft)[:, None]  # overlap-add as a transposed conv, as Wavehax writes it
    y = F.conv_transpose1d(frames[None], eye, stride=hop)[0]
    env = F.conv_transpose1d((win ** 2)[None, :, None].repeat(1, 1, frames.shape[1]), eye,
                             stride=hop)[0]
    y = (y / env)[:, pad:]
    attrs = {"n_fft": n_fft, "hop": hop, "pad": pad, "window": "hann"}
    return op_case("stft_pad_wavehax_conv_istft", x, y[:, :T], [
        node("spec", "stft", ["x"], attrs),
        node("conv", "conv1d", ["spec"], {"padding": [1, 1]}, {"weight": "wc", "bias": "bc"}),
        node("wave", "istft", ["conv"], attrs),
    ], {"wc": wc, "bc": bc})


CASES.append(stft_pad_wavehax_conv_istft)
CASES.append(stft_istft_eps_not_centered)
