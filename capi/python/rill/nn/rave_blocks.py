"""RAVE's decoder blocks (acids-ircam/RAVE `rave/blocks.py`, Caillon & Esling 2021) as offline
PyTorch modules with RAVE's state_dict names, so the decoder layers of a RAVE checkpoint load
with strict=True and export to .rill through rill.export (docs/rave.md).

RAVE builds its layers from cached_conv (acids-ircam/cached_conv) with `use_cached_conv(False)`
for training: a conv with "centered" padding get_padding(k, dilation=d) = ((p-1)//2, p//2),
p = (k-1)d + 1, parallel branches in `AlignBranches` (a `branches` ModuleList; its cached form
adds `paddings` delay lines, which carry no weights). Here the same structure is written with
Rill's explicit-padding convs:

    Residual(m)                   aligned.branches = [m, Identity]          m(x) + x
    ResidualLayer(C, k, ds)       net = Residual(Sequential(LeakyReLU(.2), Conv1d(C, C, k, d)...))
    ResidualBlock(C, k, dss)      net = Sequential(ResidualLayer(C, k, ds) for ds in dss)
    ResidualStack(C, ks, dss)     net.branches = [ResidualBlock(C, k, dss) for k in ks], summed
    UpsampleLayer(Ci, Co, r)      net = Sequential(LeakyReLU(.2),
                                                   ConvTranspose1d(Ci, Co, 2r, stride r, pad r//2))
                                  (r = 1: Conv1d(Ci, Co, 3, centered))
    DilatedUnit(C, k, d)          net = Sequential(LeakyReLU, Conv1d(C, C, k, d),
                                                   LeakyReLU, Conv1d(C, C, 1))
    Generator                     RAVE v1's decoder body `net` (conv 7, then UpsampleLayer +
                                  ResidualStack per ratio) and waveform branch `synth.branches.0`,
                                  tanh. The loudness branch (mod_sigmoid = 2 sigmoid(x)^2.3: no
                                  Rill op for the power) and the noise branch (random) are left out.
    GeneratorV2                   RAVE v2's decoder (GeneratorV2 without noise_module, recurrent
                                  layer or AdaIN): conv, per ratio LeakyReLU + ConvTranspose1d +
                                  Residual(DilatedUnit) per dilation, LeakyReLU, waveform conv,
                                  optional amplitude modulation x * sigmoid(a), tanh.

Weight normalisation: RAVE's configs wrap every conv in torch.nn.utils.weight_norm (dim 0), so a
checkpoint holds `weight_g` / `weight_v` instead of `weight`. Every conv here loads either form:
a plain module folds weight_g / weight_v into weight = g v / |v| (torch's own formula), and a
module built with weight_norm=True splits a plain weight into g = |w|, v = w. rill.export folds
weight normalisation too. Runtime buffers of cached_conv's streaming classes (`cache.pad`,
`downsampling_delay.pad`, `paddings.i.pad`, the transposed conv's `cache`) are dropped on load.

`cumulative_delay` is cached_conv's figure for the same layer (output frames): the latency the
Rill engine reports for it once exported (the planner aligns residual skips and parallel blocks
itself; no delay is placed by hand)."""

import torch
import torch.nn as nn
import torch.nn.utils as nn_utils

from .conv import Conv1d as _RillConv1d
from .conv import ConvTranspose1d as _RillConvTranspose1d


def get_padding(kernel_size, stride=1, dilation=1, mode="centered"):
    """cached_conv's padding rule; `stride` is accepted and ignored, as upstream does."""
    if kernel_size == 1:
        return (0, 0)
    p = (kernel_size - 1) * dilation + 1
    if mode == "centered":
        return ((p - 1) // 2, p // 2)
    if mode == "causal":
        return (p - 1, 0)
    if mode == "anticausal":
        return (0, p - 1)
    raise ValueError(f"padding mode {mode!r} is not one of centered, causal, anticausal")


# cached_conv's streaming-only buffers (absent from a fresh training model, no weights)
_RUNTIME_BUFFERS = ("cache.pad", "downsampling_delay.pad", "cache")


class _LoadsWeightNorm:
    """state_dict loading that accepts plain and weight-normalised convs alike."""

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for key in _RUNTIME_BUFFERS:
            state_dict.pop(prefix + key, None)
        wn = hasattr(self, "weight_g")
        g, v, w = prefix + "weight_g", prefix + "weight_v", prefix + "weight"
        if not wn and g in state_dict and v in state_dict and w not in state_dict:
            state_dict[w] = fold_weight_norm(state_dict.pop(g), state_dict.pop(v))
        elif wn and w in state_dict and g not in state_dict:
            weight = state_dict.pop(w)
            state_dict[v] = weight
            state_dict[g] = torch.norm_except_dim(weight, 2, 0)
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def fold_weight_norm(g, v, dim=0):
    """weight = g * v / |v| (norm over all axes but `dim`), as torch.nn.utils.weight_norm."""
    return torch._weight_norm(v, g, dim)


class Conv1d(_LoadsWeightNorm, _RillConv1d):
    """rill.nn.Conv1d (explicit (left, right) padding) that loads weight-normalised weights."""


class ConvTranspose1d(_LoadsWeightNorm, _RillConvTranspose1d):
    """rill.nn.ConvTranspose1d that loads weight-normalised weights."""


def _norm(conv, weight_norm):
    return nn_utils.weight_norm(conv) if weight_norm else conv


def _conv(cin, cout, k, dilation=1, stride=1, padding=None, groups=1, weight_norm=False,
          bias=True):
    pad = get_padding(k, dilation=dilation) if padding is None else padding
    return _norm(Conv1d(cin, cout, k, stride=stride, padding=pad, dilation=dilation,
                        groups=groups, bias=bias), weight_norm)


def _leaky(dim):
    return nn.LeakyReLU(0.2)


class _Traced(nn.Module):
    """A container rill.export traces through (its layers are mapped one by one)."""
    rill_trace_through = True


class Branches(_Traced):
    """cached_conv's AlignBranches / Branches: the same input to every branch, the list of
    outputs. Alignment is the planner's job once exported, so nothing is delayed here."""

    def __init__(self, *branches, delays=None):
        super().__init__()
        self.branches = nn.ModuleList(branches)
        if delays is None:
            delays = [getattr(b, "cumulative_delay", 0) for b in branches]
        self.cumulative_delay = max(delays)

    def forward(self, x):
        return [b(x) for b in self.branches]

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        for key in [k for k in state_dict if k.startswith(prefix + "paddings.")]:
            del state_dict[key]
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _delay(layers):
    """cached_conv's delay of a stride-1 chain: the sum of the right paddings."""
    total = 0
    for m in layers:
        if isinstance(m, nn.Sequential):
            total += _delay(m)
        elif isinstance(m, _RillConv1d):
            total += m.pad[1]
        else:
            total += getattr(m, "cumulative_delay", 0)
    return total


class Residual(_Traced):
    """x + module(x); cached_conv delays the skip by the module's latency, Rill's planner does."""

    def __init__(self, module):
        super().__init__()
        delay = _delay([module])
        self.aligned = Branches(module, nn.Identity(), delays=[delay, 0])
        self.cumulative_delay = delay

    def forward(self, x):
        x_net, x_res = self.aligned(x)
        return x_net + x_res


class ResidualLayer(_Traced):
    def __init__(self, dim, kernel_size, dilations, activation=_leaky, weight_norm=False,
                 bias=True):
        super().__init__()
        net = []
        for d in dilations:
            net.append(activation(dim))
            net.append(_conv(dim, dim, kernel_size, dilation=d, weight_norm=weight_norm,
                             bias=bias))
        self.net = Residual(nn.Sequential(*net))
        self.cumulative_delay = self.net.cumulative_delay

    def forward(self, x):
        return self.net(x)


class DilatedUnit(_Traced):
    def __init__(self, dim, kernel_size, dilation, activation=_leaky, weight_norm=False,
                 bias=True):
        super().__init__()
        self.net = nn.Sequential(
            activation(dim),
            _conv(dim, dim, kernel_size, dilation=dilation, weight_norm=weight_norm, bias=bias),
            activation(dim),
            _conv(dim, dim, 1, weight_norm=weight_norm, bias=bias))
        self.cumulative_delay = _delay(self.net)

    def forward(self, x):
        return self.net(x)


class ResidualBlock(_Traced):
    def __init__(self, dim, kernel_size, dilations_list, weight_norm=False, bias=True):
        super().__init__()
        self.net = nn.Sequential(*[ResidualLayer(dim, kernel_size, ds, weight_norm=weight_norm,
                                                 bias=bias) for ds in dilations_list])
        self.cumulative_delay = _delay(self.net)

    def forward(self, x):
        return self.net(x)


class ResidualStack(_Traced):
    """One ResidualBlock per kernel size on the same input, summed. RAVE v1's configuration is
    kernel_sizes=[3], dilations_list=[[1, 1], [3, 1], [5, 1]]."""

    def __init__(self, dim, kernel_sizes=(3,), dilations_list=((1, 1), (3, 1), (5, 1)),
                 weight_norm=False, bias=True):
        super().__init__()
        self.net = Branches(*[ResidualBlock(dim, k, dilations_list, weight_norm=weight_norm,
                                            bias=bias) for k in kernel_sizes])
        self.cumulative_delay = self.net.cumulative_delay

    def forward(self, x):
        outs = self.net(x)
        y = outs[0]
        for o in outs[1:]:
            y = y + o
        return y


class UpsampleLayer(_Traced):
    """LeakyReLU(0.2) -> ConvTranspose1d(2r, stride r, padding r//2) (r = 1: a centered k=3 conv).
    cumulative_delay: in output frames, for an input without latency."""

    def __init__(self, in_dim, out_dim, ratio, activation=_leaky, weight_norm=False, bias=True):
        super().__init__()
        if ratio > 1:
            up = _norm(ConvTranspose1d(in_dim, out_dim, 2 * ratio, stride=ratio,
                                       padding=ratio // 2, bias=bias), weight_norm)
            delay = ratio // 2
        else:
            up = _conv(in_dim, out_dim, 3, weight_norm=weight_norm, bias=bias)
            delay = get_padding(3)[1]
        self.net = nn.Sequential(activation(in_dim), up)
        self.ratio = ratio
        self.cumulative_delay = delay

    def forward(self, x):
        return self.net(x)


class Generator(_Traced):
    """RAVE v1's decoder without its loudness and noise branches (see the module docstring):
    latent [B, latent_size, T] -> [B, data_size * n_channels, T * prod(ratios)]. Channels:
    2^len(ratios) * capacity after the first conv, halved by each UpsampleLayer.
    cumulative_delay: cached_conv's total latency in output frames."""

    def __init__(self, latent_size, capacity, data_size, ratios, kernel_sizes=(3,),
                 dilations_list=((1, 1), (3, 1), (5, 1)), n_channels=1, weight_norm=False,
                 bias=True):
        super().__init__()
        first = _conv(latent_size, 2 ** len(ratios) * capacity, 7, weight_norm=weight_norm,
                      bias=bias)
        net, delay = [first], get_padding(7)[1]
        for i, r in enumerate(ratios):
            in_dim = 2 ** (len(ratios) - i) * capacity
            out_dim = 2 ** (len(ratios) - i - 1) * capacity
            up = UpsampleLayer(in_dim, out_dim, r, weight_norm=weight_norm, bias=bias)
            stack = ResidualStack(out_dim, kernel_sizes, dilations_list, weight_norm=weight_norm,
                                  bias=bias)
            net += [up, stack]
            delay = delay * r + up.cumulative_delay + stack.cumulative_delay
        self.net = nn.Sequential(*net)
        wave_gen = _conv(out_dim, data_size * n_channels, 7, weight_norm=weight_norm, bias=bias)
        self.synth = Branches(wave_gen)
        self.cumulative_delay = delay + get_padding(7)[1]
        self.hop = int(torch.tensor(ratios).prod())

    def forward(self, x):
        x = self.net(x)
        waveform = self.synth(x)[0]
        return torch.tanh(waveform)


class GeneratorV2(_Traced):
    """RAVE v2's decoder (GeneratorV2; upstream's arguments; ratios and dilations are given in
    encoder order and reversed, as upstream does): latent [B, latent_size, T] ->
    [B, data_size * n_channels, T * prod(ratios)]."""

    def __init__(self, capacity, ratios, latent_size, kernel_size, dilations, keep_dim=False,
                 data_size=None, n_channels=1, amplitude_modulation=False, weight_norm=False,
                 bias=True):
        super().__init__()
        data_size = n_channels if data_size is None else data_size * n_channels
        if isinstance(dilations[0], int):
            dilations = [dilations for _ in ratios]
        dilations_list = list(dilations)[::-1]
        ratios = list(ratios)[::-1]
        num = (int(torch.tensor(ratios).prod()) if keep_dim else 2 ** len(ratios)) * capacity
        net = [_conv(latent_size, num, kernel_size, weight_norm=weight_norm, bias=bias)]
        delay = get_padding(kernel_size)[1]
        for r, ds in zip(ratios, dilations_list):
            out = num // r if keep_dim else num // 2
            net.append(_leaky(num))
            net.append(_norm(ConvTranspose1d(num, out, 2 * r, stride=r, padding=r // 2,
                                             bias=bias), weight_norm))
            delay = delay * r + r // 2
            num = out
            for d in ds:
                unit = Residual(DilatedUnit(num, kernel_size, d, weight_norm=weight_norm,
                                            bias=bias))
                net.append(unit)
                delay += unit.cumulative_delay
        net.append(_leaky(num))
        k = 2 * kernel_size + 1
        net.append(_conv(num, 2 * data_size if amplitude_modulation else data_size, k,
                         weight_norm=weight_norm, bias=bias))
        self.net = nn.Sequential(*net)
        self.amplitude_modulation = amplitude_modulation
        self.data_size = data_size
        self.cumulative_delay = delay + get_padding(k)[1]
        self.hop = int(torch.tensor(ratios).prod())

    def forward(self, x):
        x = self.net(x)
        if self.amplitude_modulation:
            x, amplitude = x.split(self.data_size, 1)
            x = x * torch.sigmoid(amplitude)
        return torch.tanh(x)


class AudioRate(_Traced):
    """Runs a decoder at the audio rate, the only rate a Rill model's output can have today:
    the input is the latent held for `hop` samples per frame ([B, latent, T * hop]); a stride-hop
    1x1 conv picks each frame's first sample (offline: x[..., ::hop]) and the decoder upsamples
    back. The engine streams it in blocks of any size (its FIFO adds hop - 1 frames of latency)."""

    def __init__(self, decoder, latent_size, hop=None):
        super().__init__()
        self.hop = int(hop or decoder.hop)
        self.pick = _RillConv1d(latent_size, latent_size, 1, stride=self.hop, bias=False)
        with torch.no_grad():
            self.pick.weight.copy_(torch.eye(latent_size)[:, :, None])
        self.pick.weight.requires_grad_(False)
        self.decoder = decoder

    def forward(self, x):
        return self.decoder(self.pick(x))
