"""Conv-TasNet (Luo & Mesgarani 2019, "Conv-TasNet: Surpassing ideal time-frequency magnitude
masking for speech separation") with the structure, arguments and state_dict names of asteroid's
`asteroid.models.ConvTasNet` (free filterbank), so asteroid checkpoints load with strict=True.

    x [B, 1, T] -> encoder: conv1d(1 -> N, kernel L, stride S, no bias)       w [B, N, F]
                -> encoder activation (None = identity, or relu)
    masker:     norm(N) -> 1x1 conv N -> B                                    (bottleneck)
                R x X blocks, block x of a repeat with dilation d = 2^x:
                  h = norm(PReLU(depthwise conv_P,d(norm(PReLU(1x1 conv B -> H)(in)))))
                  in <- in + res_conv(h);  skip += skip_conv(h)  (H -> Sc)
                  depthwise padding: non-causal (P-1)d/2 both sides, causal (P-1)d on the left;
                  causal with look-ahead (Rill's extension, lookahead_dilation D > 0): a block
                  with d <= D takes its last tap from the future, (P-2)d left and d right
                mask = act(1x1 conv(PReLU(skip)))  -> [B, n_src, N, F]  (no skip: from `in`)
    decoder:    conv_transpose1d(mask * w, N -> 1, kernel L, stride S, no bias) per source,
                zero-padded / cut to T                                        y [B, n_src, T]

Norms (eps 1e-8 inside the square root, biased variance, per-channel gamma and beta):
    gLN   mean, var over all channels and frames of the utterance (asteroid GlobLN)
    cLN   mean, var over the channels of each frame (asteroid ChanLN; NOT cumulative)
    cgLN  mean, var over the channels of frames 0..t, var = E[x^2] - E[x]^2 (asteroid CumLN,
          the paper's causal "cLN")
As in asteroid, causal=True with norm_type gLN switches to cLN (with a warning).
lookahead_dilation (not in asteroid; 0 = asteroid's causal model) gives a causal model a fixed
look-ahead of R * (sum of the dilations <= D) encoder frames: e.g. X=6, R=2, D=8 looks 30 frames
ahead. The state_dict names stay those of the causal model; a causal checkpoint with kernel P-1
becomes this model exactly when each look-ahead block's kernel gets a zero future tap appended
and every other block's a zero oldest tap prepended (grow_causal_kernel); the same way a model
with look-ahead D and kernel P-1 grows into one with a larger D' and kernel P.

state_dict (asteroid's names; `.3.0.` is the causal depthwise conv inside nn.Sequential with the
chop):
    encoder.filterbank._filters [N, 1, L]           decoder.filterbank._filters [N, 1, L]
    masker.bottleneck.0.{gamma,beta} [N]            masker.bottleneck.1.{weight [B, N, 1], bias}
    masker.TCN.i.shared_block.0.{weight, bias}      1x1 B -> H
    masker.TCN.i.shared_block.1.weight [1]          PReLU
    masker.TCN.i.shared_block.2.{gamma, beta} [H]
    masker.TCN.i.shared_block.3.{weight [H, 1, P], bias}   (causal: .3.0.*)
    masker.TCN.i.shared_block.4.weight [1]          masker.TCN.i.shared_block.5.{gamma, beta}
    masker.TCN.i.res_conv.{weight, bias}            masker.TCN.i.skip_conv.{weight, bias}
    masker.mask_net.0.weight [1]                   masker.mask_net.1.{weight [n_src N, Sc, 1], bias}

Streaming (rill.export): the whole network is convolutions, per-frame ops and norms. With cLN or
cgLN it streams exactly: causal at the encoder framing only (look-ahead L - 1 samples), non-causal
or causal with look-ahead at the latency of the depthwise convolutions' right padding. gLN needs
the whole utterance and cannot stream: the exporter refuses it (streaming_counterpart() gives the
same weights with cgLN, a different model that should be fine-tuned); rill.export_windows runs
it on long overlapping windows instead (offline windows mode, docs/offline.md).
ConvTasNet.streaming_mode() says which applies."""

import copy
import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

EPS = 1e-8
NORM_TYPES = ("gLN", "cLN", "cgLN")
MASK_ACTS = ("sigmoid", "relu", "softmax", "tanh", "linear")
ENCODER_ACTS = (None, "linear", "relu", "sigmoid", "tanh")


class _LayerNorm(nn.Module):
    """asteroid's norm base: per-channel gain `gamma` and bias `beta` on [B, C, T]."""

    def __init__(self, channel_size):
        super().__init__()
        self.channel_size = channel_size
        self.gamma = nn.Parameter(torch.ones(channel_size))
        self.beta = nn.Parameter(torch.zeros(channel_size))

    def _affine(self, z):
        return z * self.gamma[None, :, None] + self.beta[None, :, None]


class GlobLN(_LayerNorm):
    """gLN: statistics over all channels and frames of the utterance (cannot stream)."""

    def forward(self, x):
        mean = x.mean(dim=(1, 2), keepdim=True)
        var = x.var(dim=(1, 2), keepdim=True, unbiased=False)
        return self._affine((x - mean) / torch.sqrt(var + EPS))


class ChanLN(_LayerNorm):
    """cLN in asteroid: statistics over the channels of each frame."""

    def forward(self, x):
        mean = x.mean(dim=1, keepdim=True)
        var = x.var(dim=1, keepdim=True, unbiased=False)
        return self._affine((x - mean) / torch.sqrt(var + EPS))


class CumLN(_LayerNorm):
    """cgLN in asteroid (the paper's cumulative LN): statistics over the channels of frames 0..t.
    Sums are accumulated in float64 (as the engine does); asteroid accumulates in the input's
    dtype, which differs by float32 rounding only. While training with gradients (train mode),
    they are accumulated in the input's dtype like asteroid: float64 doubles the step time on a
    CPU and the rounding does not matter to training."""

    def forward(self, x):
        C, T = x.shape[1], x.shape[2]
        exact = not (self.training and torch.is_grad_enabled())
        xd = x.double() if exact else x
        s1 = xd.sum(1, keepdim=True).cumsum(-1)
        s2 = (xd * xd).sum(1, keepdim=True).cumsum(-1)
        count = torch.arange(1, T + 1, dtype=xd.dtype, device=x.device).view(1, 1, -1) * C
        mean = s1 / count
        var = (s2 / count - mean * mean).clamp_min(0)
        z = ((xd - mean) / torch.sqrt(var + EPS)).to(x.dtype)
        return self._affine(z)


_NORMS = {"gLN": GlobLN, "cLN": ChanLN, "cgLN": CumLN}


def _activation(name, where):
    table = {None: nn.Identity, "linear": nn.Identity, "relu": nn.ReLU, "sigmoid": nn.Sigmoid,
             "tanh": nn.Tanh}
    if name == "softmax":
        return nn.Softmax(dim=1)  # over the sources of [B, n_src, N, F]
    if name not in table:
        raise ValueError(f"{where} {name!r} is not supported (one of {list(table)[1:]} "
                         f"{'or softmax' if where == 'mask_act' else ''})")
    return table[name]()


class _Chop1d(nn.Module):
    """Drops the last `chop_size` frames (asteroid's causal padding: pad both sides, chop right)."""

    def __init__(self, chop_size):
        super().__init__()
        self.chop_size = chop_size

    def forward(self, x):
        return x[..., :x.shape[-1] - self.chop_size]


class FreeFB(nn.Module):
    """asteroid_filterbanks FreeFB: unconstrained filters `_filters` [N, 1, L]."""

    def __init__(self, n_filters, kernel_size, stride=None, sample_rate=8000.0):
        super().__init__()
        self.n_filters, self.kernel_size = n_filters, kernel_size
        self.stride = stride if stride else kernel_size // 2
        self.n_feats_out = n_filters
        self.sample_rate = sample_rate
        self._filters = nn.Parameter(torch.ones(n_filters, 1, kernel_size))
        nn.init.xavier_normal_(self._filters)

    def filters(self):
        return self._filters


class Encoder(nn.Module):
    """conv1d of the waveform with the filterbank (asteroid_filterbanks Encoder, padding 0)."""

    def __init__(self, filterbank):
        super().__init__()
        self.filterbank = filterbank
        self.stride = filterbank.stride

    def forward(self, wav):
        return F.conv1d(wav, self.filterbank.filters(), stride=self.stride)


class Decoder(nn.Module):
    """conv_transpose1d (overlap-add) with the filterbank; [B, S, N, F] -> [B, S, (F-1)stride+L]."""

    def __init__(self, filterbank):
        super().__init__()
        self.filterbank = filterbank
        self.stride = filterbank.stride

    def forward(self, spec):
        lead = spec.shape[:-2]
        y = F.conv_transpose1d(spec.reshape(-1, *spec.shape[-2:]), self.filterbank.filters(),
                               stride=self.stride)
        return y.view(*lead, y.shape[-1])


class Conv1DBlock(nn.Module):
    """One TCN block (asteroid Conv1DBlock): returns (residual, skip), or residual alone when
    skip_out_chan is 0."""

    def __init__(self, in_chan, hid_chan, skip_out_chan, kernel_size, padding, dilation,
                 norm_type="gLN", causal=False, future_taps=0):
        """causal: `padding` frames both sides, then all but the look-ahead chopped on the
        right; future_taps (causal only) of the kernel's taps read future frames, and `padding`
        is then (kernel_size - 1 - future_taps) * dilation."""
        super().__init__()
        if future_taps and (not causal or 2 * future_taps > kernel_size - 1):
            raise ValueError(f"future_taps {future_taps} needs causal=True and at most half of "
                             f"the kernel's {kernel_size - 1} tap spans")
        self.skip_out_chan = skip_out_chan
        self.kernel_size, self.padding, self.dilation = kernel_size, padding, dilation
        self.causal, self.future_taps = causal, future_taps
        norm = _NORMS[norm_type]
        depth = nn.Conv1d(hid_chan, hid_chan, kernel_size, padding=padding, dilation=dilation,
                          groups=hid_chan)
        if causal:
            depth = nn.Sequential(depth, _Chop1d(padding - future_taps * dilation))
        self.shared_block = nn.Sequential(nn.Conv1d(in_chan, hid_chan, 1), nn.PReLU(),
                                          norm(hid_chan), depth, nn.PReLU(), norm(hid_chan))
        self.res_conv = nn.Conv1d(hid_chan, in_chan, 1)
        if skip_out_chan:
            self.skip_conv = nn.Conv1d(hid_chan, skip_out_chan, 1)

    @property
    def pad_left_right(self):
        """The depthwise convolution's (left, right) zero padding in frames."""
        return self.padding, self.future_taps * self.dilation if self.causal else self.padding

    @property
    def depth_conv(self):
        d = self.shared_block[3]
        return d[0] if isinstance(d, nn.Sequential) else d

    def forward(self, x):
        h = self.shared_block(x)
        if not self.skip_out_chan:
            return self.res_conv(h)
        return self.res_conv(h), self.skip_conv(h)


class TDConvNet(nn.Module):
    """The masker (asteroid TDConvNet): [B, N, F] -> masks [B, n_src, N, F]."""

    def __init__(self, in_chan, n_src, out_chan=None, n_blocks=8, n_repeats=3, bn_chan=128,
                 hid_chan=512, skip_chan=128, conv_kernel_size=3, norm_type="gLN",
                 mask_act="relu", causal=False, lookahead_dilation=0):
        super().__init__()
        if norm_type not in NORM_TYPES:
            raise ValueError(f"norm_type {norm_type!r} is not supported (one of {NORM_TYPES})")
        if lookahead_dilation and not causal:
            raise ValueError("lookahead_dilation applies to causal models (a non-causal one "
                             "already looks (P-1)d/2 ahead in every block)")
        self.in_chan, self.n_src = in_chan, n_src
        self.out_chan = out_chan if out_chan else in_chan
        self.n_blocks, self.n_repeats = n_blocks, n_repeats
        self.bn_chan, self.hid_chan, self.skip_chan = bn_chan, hid_chan, skip_chan
        self.conv_kernel_size, self.norm_type = conv_kernel_size, norm_type
        self.mask_act, self.causal = mask_act, causal
        self.lookahead_dilation = lookahead_dilation
        self.bottleneck = nn.Sequential(_NORMS[norm_type](in_chan), nn.Conv1d(in_chan, bn_chan, 1))
        self.TCN = nn.ModuleList()
        for _ in range(n_repeats):
            for x in range(n_blocks):
                d = 2 ** x
                ahead = int(d <= lookahead_dilation)  # future taps
                padding = ((conv_kernel_size - 1 - ahead) * d if causal
                           else (conv_kernel_size - 1) * d // 2)
                self.TCN.append(Conv1DBlock(bn_chan, hid_chan, skip_chan, conv_kernel_size,
                                            padding, d, norm_type, causal, ahead))
        self.mask_net = nn.Sequential(nn.PReLU(),
                                      nn.Conv1d(skip_chan if skip_chan else bn_chan,
                                                n_src * self.out_chan, 1))
        self.output_act = _activation(mask_act, "mask_act")

    def forward(self, w):
        batch, _, frames = w.shape
        out = self.bottleneck(w)
        skip = 0.0
        for block in self.TCN:
            r = block(out)
            if self.skip_chan:
                r, s = r
                skip = skip + s
            out = out + r
        score = self.mask_net(skip if self.skip_chan else out)
        return self.output_act(score.view(batch, self.n_src, self.out_chan, frames))

    def get_config(self):
        return {"in_chan": self.in_chan, "out_chan": self.out_chan, "bn_chan": self.bn_chan,
                "hid_chan": self.hid_chan, "skip_chan": self.skip_chan,
                "conv_kernel_size": self.conv_kernel_size, "n_blocks": self.n_blocks,
                "n_repeats": self.n_repeats, "n_src": self.n_src, "norm_type": self.norm_type,
                "mask_act": self.mask_act, "causal": self.causal,
                **({"lookahead_dilation": self.lookahead_dilation}
                   if self.lookahead_dilation else {})}  # asteroid's keys when 0


class ConvTasNet(nn.Module):
    """asteroid.models.ConvTasNet with the free filterbank: same arguments (and defaults: the
    released configuration N=512, L=16, B=128, H=512, Sc=128, P=3, X=8, R=3), same state_dict.
    forward(wav [B, 1, T] or [B, T] or [T]) -> [B, n_src, T] (asteroid's shapes)."""

    def __init__(self, n_src, out_chan=None, n_blocks=8, n_repeats=3, bn_chan=128, hid_chan=512,
                 skip_chan=128, conv_kernel_size=3, norm_type="gLN", mask_act="sigmoid",
                 in_chan=None, causal=False, fb_name="free", kernel_size=16, n_filters=512,
                 stride=8, encoder_activation=None, sample_rate=8000, lookahead_dilation=0):
        super().__init__()
        if fb_name != "free":
            raise ValueError(f"fb_name {fb_name!r}: only the 'free' filterbank is supported")
        if in_chan is not None and in_chan != n_filters:
            raise ValueError(f"in_chan ({in_chan}) must equal n_filters ({n_filters})")
        if out_chan not in (None, n_filters):
            raise ValueError(f"out_chan ({out_chan}) must equal n_filters ({n_filters}): the "
                             f"masks multiply the encoder output")
        if encoder_activation not in ENCODER_ACTS:
            raise ValueError(f"encoder_activation {encoder_activation!r} is not supported (one "
                             f"of {ENCODER_ACTS})")
        if mask_act not in MASK_ACTS:
            raise ValueError(f"mask_act {mask_act!r} is not supported (one of {MASK_ACTS})")
        if causal and norm_type not in ("cLN", "cgLN"):
            warnings.warn(f"ConvTasNet: causal=True needs cLN or cgLN; changing {norm_type} to "
                          f"cLN (as asteroid does)")
            norm_type = "cLN"
        self.sample_rate = sample_rate
        self.encoder_activation = encoder_activation
        self.encoder = Encoder(FreeFB(n_filters, kernel_size, stride, sample_rate))
        self.masker = TDConvNet(n_filters, n_src, out_chan, n_blocks, n_repeats, bn_chan,
                                hid_chan, skip_chan, conv_kernel_size, norm_type, mask_act, causal,
                                lookahead_dilation)
        self.decoder = Decoder(FreeFB(n_filters, kernel_size, stride, sample_rate))
        self.enc_activation = _activation(encoder_activation, "encoder_activation")

    @property
    def n_src(self):
        return self.masker.n_src

    @property
    def causal(self):
        return self.masker.causal

    @property
    def norm_type(self):
        return self.masker.norm_type

    def forward(self, wav):
        x = wav.reshape(-1, 1, wav.shape[-1]) if wav.dim() != 3 else wav
        if x.shape[1] != 1:
            raise ValueError(f"ConvTasNet takes one mixture channel, got {x.shape[1]}")
        T = x.shape[-1]
        w = self.enc_activation(self.encoder(x))
        masks = self.masker(w)
        y = self.decoder(masks * w.unsqueeze(1))
        y = F.pad(y, (0, T - y.shape[-1]))  # asteroid's pad_x_to_y
        return y[0] if wav.dim() == 1 else y

    def get_model_args(self):
        fb = self.encoder.filterbank
        return dict(self.masker.get_config(), fb_name="free", kernel_size=fb.kernel_size,
                    n_filters=fb.n_filters, stride=fb.stride, sample_rate=self.sample_rate,
                    encoder_activation=self.encoder_activation)

    def lookahead_frames(self):
        """Encoder frames of look-ahead of the TCN (the depthwise convolutions' right padding)."""
        return sum(b.pad_left_right[1] for b in self.masker.TCN)

    def streaming_mode(self):
        """(mode, explanation): mode "exact" (streams exactly, causal), "exact_latency" (streams
        exactly at a look-ahead latency) or "offline" (gLN: needs the whole utterance)."""
        fb = self.encoder.filterbank
        frame = f"encoder frames of {fb.kernel_size} samples every {fb.stride}"
        if self.norm_type == "gLN":
            return ("offline", "norm_type gLN normalises with statistics of the whole utterance, "
                    "which a stream does not have: offline use only, on the whole file or in "
                    "Rill's offline windows mode (rill.export_windows(model, path, sample_rate, "
                    "window, hop, align='permutation'): long overlapping windows, latency "
                    "window - hop; docs/offline.md). For streaming, "
                    "train with cgLN (cumulative) or cLN (per frame), or export "
                    "rill.nn.conv_tasnet.streaming_counterpart(model), the same weights with "
                    "cgLN, a different model that needs fine-tuning")
        la = self.lookahead_frames()
        if self.causal and not la:
            return ("exact", f"causal {self.norm_type}: streams exactly; the only look-ahead is "
                    f"the {frame} (up to {fb.kernel_size - 1} samples)")
        kind = "causal with look-ahead" if self.causal else "non-causal"
        return ("exact_latency", f"{kind} {self.norm_type}: streams exactly at the look-ahead "
                f"of the depthwise convolutions, {la} encoder frames ({la * fb.stride} samples) "
                f"plus the {frame}")


def grow_causal_kernel(state_dict, model, source_lookahead_dilation=0):
    """The state_dict of a causal ConvTasNet with depthwise kernel P - 1 and look-ahead dilation
    `source_lookahead_dilation` (0: none), made exactly equal to the causal `model` with kernel P
    and a look-ahead dilation at least as large: every block's kernel gets one zero tap, appended
    (the future tap) where the block starts looking ahead, prepended (a frame further back)
    elsewhere. Everything else is copied; the caller loads the result with strict=True."""
    grown = dict(state_dict)
    for i, blk in enumerate(model.masker.TCN):
        if not blk.causal:
            raise ValueError("grow_causal_kernel: the model must be causal")
        key = f"masker.TCN.{i}.shared_block.3.0.weight"
        w = state_dict[key]
        if w.shape[-1] + 1 != blk.kernel_size:
            raise ValueError(f"{key}: kernel {w.shape[-1]}, the model's is {blk.kernel_size}")
        source_ahead = int(blk.dilation <= source_lookahead_dilation)
        if blk.future_taps < source_ahead:
            raise ValueError(f"{key}: the source looks ahead at dilation {blk.dilation}, the "
                             f"model does not (lookahead_dilation cannot shrink)")
        zero = torch.zeros_like(w[..., :1])
        grown[key] = torch.cat([w, zero] if blk.future_taps > source_ahead else [zero, w], -1)
    return grown


def streaming_counterpart(model, norm_type="cgLN"):
    """A copy of `model` with every gLN replaced by `norm_type` (cgLN or cLN), same gamma/beta
    and all other weights: a streaming model that is NOT equal to the gLN one (fine-tune it)."""
    if norm_type not in ("cgLN", "cLN"):
        raise ValueError("norm_type must be cgLN or cLN")
    m = copy.deepcopy(model)
    for parent in m.modules():
        for key, child in list(parent.named_children()):
            if isinstance(child, GlobLN):
                new = _NORMS[norm_type](child.channel_size)
                new.load_state_dict(child.state_dict())
                setattr(parent, key, new)
    m.masker.norm_type = norm_type
    return m
