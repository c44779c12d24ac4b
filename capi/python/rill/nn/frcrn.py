"""FRCRN speech enhancement (Zhao et al. 2022, "FRCRN: Boosting feature representation using
frequency recurrence for monaural speech enhancement"; ClearerVoice-Studio
`clearvoice/models/frcrn_se/`, class DCCRN) restated with upstream's module and parameter names,
so its checkpoints load with strict=True. FRCRN_SE_16K is DCCRN(complex=True, model_complexity=45,
model_depth=14, log_amp=False, padding_mode="zeros", win_len=640, win_inc=320, fft_len=640,
win_type="hanning"): 13,963,604 parameters including the frozen STFT / iSTFT kernels.

    stft       ConvSTFT: X [B, 1, 321, F, 2] (no centre padding, F = (T - 640) / 320 + 1)
    unet       UNet (frcrn_layers.py): 7 encoders (i > 0: fsmn_enc{i} along frequency; complex
               conv (5, 2) / last (2, 2), stride (2, 1), padding (0, 1); complex BN; LeakyReLU),
               each output through se_layer_enc{i} into the skips; bottleneck fsmn (2 FSMN layers
               along time); 7 decoders (complex transposed conv, BN, LeakyReLU; i < 6: fsmn_dec{i};
               i < 5: se_layer_dec{i}; i < 6: concatenate the skip); linear (complex 1x1 -> 1)
    unet2      the same structure, fed with unet's raw output
    masks      m1 = tanh(unet(X)), M = tanh(unet2(unet(X))) + m1; estimate = X * M (complex)
    istft      ConviSTFT: (F - 1) * 320 + 640 samples

Upstream registers every layer twice (encoder0 and encoders.0, ...): its state_dict holds both
names for the same tensors, and so does this module's. fsmn_enc0 and fsmn_dec6 exist but are
unused, as upstream. `channels` (128 upstream, fixed) sizes a smaller network for tests; the
frequency sizes require fft_len 640 (321 bins: 159, 78, 37, 17, 7, 2, 1 through the encoders).

Streaming (docs/frcrn.md). In time, each encoder is causal (kernel 2, one padding frame each
side: output frame t sees input frames t-1, t) and each decoder looks one frame ahead, so the
cascade of two UNets needs 14 frames of look-ahead; batch norm (eval), the frequency FSMNs and
the causal time FSMN stream. The SE layers average over the whole utterance, so the released
model is offline only. streaming_counterpart(model) returns the same weights with cumulative SE
(the mean over frames 0..t), which streams exactly at 14 frames plus the STFT framing; it is a
different model (fine-tune it), and rill.export reports its measured difference."""

import copy

import torch
import torch.nn as nn

from .frcrn_layers import (ComplexBatchNorm2d, ComplexConv2d, ComplexConvTranspose2d,
                           ComplexUniDeepFsmn, ComplexUniDeepFsmn_L1, ConvSTFT, ConviSTFT,
                           SELayer)

DEPTH14 = {
    "enc_kernel_sizes": [(5, 2)] * 6 + [(2, 2)],
    "dec_kernel_sizes": [(2, 2), (5, 2), (5, 2), (5, 2), (6, 2), (5, 2), (5, 2)],
    "strides": [(2, 1)] * 7,
    "paddings": [(0, 1)] * 7,
}


class Encoder(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=None,
                 complex=False, padding_mode="zeros"):  # noqa: A002  upstream's argument name
        super().__init__()
        if not complex:
            raise ValueError("only complex=True (FRCRN's) is implemented")
        if padding is None:
            padding = [(k - 1) // 2 for k in kernel_size]
        self.conv = ComplexConv2d(in_channels, out_channels, kernel_size=kernel_size,
                                  stride=stride, padding=padding, padding_mode=padding_mode)
        self.bn = ComplexBatchNorm2d(out_channels)
        self.relu = nn.LeakyReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.conv(x)))


class Decoder(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=(0, 0),
                 complex=False):  # noqa: A002
        super().__init__()
        if not complex:
            raise ValueError("only complex=True (FRCRN's) is implemented")
        self.transconv = ComplexConvTranspose2d(in_channels, out_channels,
                                                kernel_size=kernel_size, stride=stride,
                                                padding=padding)
        self.bn = ComplexBatchNorm2d(out_channels)
        self.relu = nn.LeakyReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.bn(self.transconv(x)))


class UNet(nn.Module):
    """FRCRN's complex UNet of depth 14 on [B, 1, 321, T, 2] -> [B, 1, 321, T, 2]."""

    def __init__(self, input_channels=1, complex=False, model_complexity=45, model_depth=20,
                 padding_mode="zeros", channels=128, cumulative_se=False):  # noqa: A002
        super().__init__()
        if model_depth != 14:
            raise ValueError("only model_depth 14 (FRCRN_SE_16K's) is implemented")
        c = channels
        self.model_length = model_depth // 2
        self.enc_channels = [input_channels] + [c] * 7
        self.dec_channels = [c // 2] + [c] * 6 + [1]
        self.fsmn = ComplexUniDeepFsmn(c, c, c)
        for i in range(self.model_length):
            self.add_module(f"fsmn_enc{i}", ComplexUniDeepFsmn_L1(c, c, c))
            self.add_module(f"encoder{i}", Encoder(
                self.enc_channels[i], self.enc_channels[i + 1], DEPTH14["enc_kernel_sizes"][i],
                DEPTH14["strides"][i], DEPTH14["paddings"][i], complex, padding_mode))
            self.add_module(f"se_layer_enc{i}", SELayer(self.enc_channels[i + 1], 8,
                                                        cumulative_se))
        for i in range(self.model_length):
            self.add_module(f"fsmn_dec{i}", ComplexUniDeepFsmn_L1(c, c, c))
            self.add_module(f"decoder{i}", Decoder(
                self.dec_channels[i] * 2, self.dec_channels[i + 1],
                DEPTH14["dec_kernel_sizes"][i], DEPTH14["strides"][i], DEPTH14["paddings"][i],
                complex))
            if i < self.model_length - 1:
                self.add_module(f"se_layer_dec{i}", SELayer(self.dec_channels[i + 1], 8,
                                                            cumulative_se))
        self.add_module("linear", ComplexConv2d(self.dec_channels[-1], 1, 1))
        self.complex, self.padding_mode = complex, padding_mode
        n = self.model_length
        named = lambda fmt, k: nn.ModuleList(getattr(self, fmt.format(i)) for i in range(k))  # noqa: E731
        self.decoders = named("decoder{}", n)
        self.encoders = named("encoder{}", n)
        self.se_layers_enc = named("se_layer_enc{}", n)
        self.se_layers_dec = named("se_layer_dec{}", n - 1)
        self.fsmn_enc = named("fsmn_enc{}", n)
        self.fsmn_dec = named("fsmn_dec{}", n)

    def forward(self, x):
        n = self.model_length
        skips = [x]
        for i in range(n):
            if i > 0:
                x = self.fsmn_enc[i](x)
            x = self.encoders[i](x)
            skips.append(self.se_layers_enc[i](x))
        p = self.fsmn(x)
        for i in range(n):
            p = self.decoders[i](p)
            if i == n - 1:
                break
            p = self.fsmn_dec[i](p)
            if i < n - 2:
                p = self.se_layers_dec[i](p)
            p = torch.cat([p, skips[n - 1 - i]], dim=1)
        return self.linear(p)


class DCCRN(nn.Module):
    """FRCRN (upstream's class name). forward(x [B, T]) -> [est_spec [B, 642, F],
    est_wav [B, (F - 1) * hop + win_len], est_mask [B, 642, F]] as upstream."""

    def __init__(self, complex, model_complexity, model_depth, log_amp, padding_mode, win_len=400,
                 win_inc=100, fft_len=512, win_type="hanning", channels=128,
                 cumulative_se=False):  # noqa: A002
        super().__init__()
        if log_amp:
            raise ValueError("log_amp=True is not implemented (FRCRN_SE_16K uses False)")
        if fft_len != 640:
            raise ValueError("model_depth 14 needs fft_len 640 (321 bins)")
        self.feat_dim = fft_len // 2 + 1
        self.win_len, self.win_inc, self.fft_len, self.win_type = win_len, win_inc, fft_len, \
            win_type
        self.channels, self.cumulative_se = channels, cumulative_se
        self.stft = ConvSTFT(win_len, win_inc, fft_len, win_type, feature_type="complex")
        self.istft = ConviSTFT(win_len, win_inc, fft_len, win_type, feature_type="complex")
        args = dict(complex=complex, model_complexity=model_complexity, model_depth=model_depth,
                    padding_mode=padding_mode, channels=channels, cumulative_se=cumulative_se)
        self.unet = UNet(1, **args)
        self.unet2 = UNet(1, **args)

    def spectrum(self, x):
        """x [B, T] -> X [B, 1, bins, F, 2]."""
        s = self.stft(x)
        return torch.stack((s[:, :self.feat_dim], s[:, self.feat_dim:]), dim=-1)[:, None]

    def forward(self, x):
        X = self.spectrum(x)
        u1 = self.unet(X)
        m1 = torch.tanh(u1)
        mask = torch.tanh(self.unet2(u1)) + m1
        return list(self.apply_mask(X, mask))

    @torch.no_grad()
    def inference(self, x):
        return self(x)[1][0]

    def apply_mask(self, X, mask):
        xr, xi, mr, mi = X[..., 0], X[..., 1], mask[..., 0], mask[..., 1]
        est = torch.cat([xr * mr - xi * mi, xr * mi + xi * mr], dim=1)   # [B, 2, bins, F]
        est_spec = torch.cat([est[:, 0], est[:, 1]], dim=1)
        m = mask[:, 0]
        est_mask = torch.cat([m[..., 0], m[..., 1]], dim=1)
        est_wav = self.istft(est_spec).squeeze(1)
        return est_spec, est_wav, est_mask

    def lookahead_frames(self):
        """STFT frames of look-ahead: one per decoder of each UNet."""
        return 2 * self.unet.model_length

    def streaming_mode(self):
        """(mode, explanation): "exact" (streams exactly at its look-ahead latency) or "offline"
        (utterance-average squeeze-excitation)."""
        la = self.lookahead_frames()
        if not self.cumulative_se:
            return ("offline", "the squeeze-excitation layers (se_layer_enc*, se_layer_dec*) scale "
                    "every channel by a function of its mean over the whole utterance, so every "
                    "output sample depends on every input sample: offline use only, on the "
                    "whole file or in Rill's offline windows mode (rill.export_windows("
                    "Enhancer(model), path, sample_rate, window, hop) with a window of "
                    f"{self.win_len} + k * {self.win_inc} samples (k STFT hops plus one frame, "
                    "so the output holds the window): the model on long overlapping windows, "
                    "latency window - 1 samples; docs/offline.md). "
                    "For streaming, export rill.nn.frcrn.streaming_counterpart(model) (same "
                    "weights, cumulative squeeze-excitation over frames 0..t: a different model "
                    "that needs fine-tuning; export reports its measured difference)")
        return ("exact", f"cumulative squeeze-excitation: streams exactly with {la} frames of "
                f"look-ahead ({la * self.win_inc} samples) plus one {self.win_len}-sample window")


class Enhancer(nn.Module):
    """The waveform of a DCCRN as a [B, 1, T] -> [B, 1, T'] module (the form rill.export takes;
    upstream's FRCRN_SE_16K wrapper returns est_wav of the first batch item)."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        self.train(model.training)  # an eval() model stays in eval mode when wrapped

    def forward(self, x):
        return self.model(x[:, 0])[1][:, None]


def streaming_counterpart(model):
    """A copy of `model` (DCCRN or Enhancer) with cumulative squeeze-excitation, same weights: a
    streaming model that is NOT equal to the released one (fine-tune it)."""
    m = copy.deepcopy(model)
    net = m.model if isinstance(m, Enhancer) else m
    net.cumulative_se = True
    for mod in net.modules():
        if isinstance(mod, SELayer):
            mod.cumulative = True
    return m
