"""The Wavehax vocoder (Yoneyama, Miyashita, Yamamoto, Toda 2024, "Wavehax: Aliasing-free neural
waveform synthesis based on 2D convolution and harmonic prior for reliable complex spectrogram
estimation"; chomeyama/wavehax, `wavehax/generators/wavehax.py`) restated with upstream's module
and parameter names, so its checkpoints load with strict=True:

    prior_proj   Conv1d(bins, bins, 7, padding 3, reflect), applied to the prior's real and
                 imaginary STFT parts (shared weights)
    cond_proj    Conv1d(in_channels, bins, 7, padding 3, reflect)
    input_proj   Conv2d(5, C, 1, bias=False) over stack(real, imag, proj(real), proj(imag), cond)
    input_norm   LayerNorm2d(C)
    blocks.N     ConvNeXtBlock2d: dwconv (depthwise k x k, reflect) -> norm (LayerNorm2d) ->
                 pwconv1 (C -> mult C) -> GELU -> pwconv2 (-> C) -> * gamma -> + input
    output_norm  LayerNorm2d(C);  output_proj Conv2d(C, 2, 1) -> real, imag -> iSTFT
    stft         Wavehax's STFT: (n_fft - hop)/2 zeros each side, periodic Hann, unnormalised rfft;
                 inverse: irfft * window, overlap-add, / overlap-added window^2, drop the padding
                 (its buffers window, window_envelope, enframe_kernel are in the state_dict)

Inputs cond [B, in_channels, F] (e.g. 100 mel bins), f0 [B, 1, F] in Hz (0: unvoiced); output
[B, 1, F * hop]. The prior is generate_pcph (harmonics of f0 with a flat spectral envelope).

Streaming (docs/wavehax.md): LayerNorm2d of the released configurations (framewise_norm False)
normalises over the whole utterance, so every output sample depends on every input frame:
offline only. With framewise_norm True (per-frame statistics over channels and bins) the network
has a finite look-ahead and streams exactly at its latency, given zero time padding instead of
upstream's reflection at the utterance edges (time_padding="zeros"; a stream cannot reflect
frames it has not seen) and the deterministic prior (no noise, no random initial phase, which the
engine's harmonic_prior op computes with a running phase). streaming_counterpart() makes that
model from any other, with the same weights.

rill.export takes AudioRate(generator): a Rill model's inputs and output share one rate, so cond
and f0 come in at the audio rate, each frame held for hop samples."""

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def generate_pcph(f0, hop_length, sample_rate, noise_amplitude=0.01, random_init_phase=True,
                  power_factor=0.1, generator=None):
    """Wavehax's pseudo-constant-power harmonic prior from frame f0 [B, 1, F] (Hz): [B, 1, F*hop].
    noise_amplitude=0, random_init_phase=False give the deterministic prior the engine streams."""
    batch, _, frames = f0.shape
    noise = noise_amplitude * torch.randn(batch, 1, frames * hop_length, generator=generator)
    if bool((f0 == 0).all()):
        return noise
    voiced = f0 > 0
    half = sample_rate / 2.0
    count = int(half / f0[voiced].min().item())
    k = torch.arange(1, count + 1, dtype=f0.dtype).reshape(1, -1, 1)
    mask = (f0 * k <= half).repeat_interleave(hop_length, dim=2)
    n_harm = torch.ones_like(f0)
    n_harm[voiced] = half / f0[voiced]
    amp = (voiced * power_factor * torch.sqrt(2.0 / n_harm)).repeat_interleave(hop_length, dim=2)
    cycles = f0.repeat_interleave(hop_length, dim=2).double() / sample_rate
    if random_init_phase:
        cycles[..., 0] += torch.rand(batch, 1, generator=generator, dtype=torch.float64)
    cycles = torch.cumsum(cycles, dim=2)
    harmonics = torch.sin(2.0 * math.pi * cycles * k).float()
    return amp * (mask * harmonics).sum(dim=1, keepdim=True) + noise


class STFT(nn.Module):
    """Wavehax's STFT (its `wavehax/modules/stft.py`): frames of n_fft every hop over the signal
    padded by (n_fft - hop)/2 zeros (rest on the right), periodic Hann window, rfft unnormalised."""

    def __init__(self, n_fft, hop_length, window="hann_window"):
        super().__init__()
        self.n_fft, self.hop_length = n_fft, hop_length
        self.n_bins = n_fft // 2 + 1
        w = getattr(torch, window)(n_fft)
        self.register_buffer("window", w.reshape(1, n_fft, 1))
        self.register_buffer("window_envelope", w.square().reshape(1, n_fft, 1))
        self.register_buffer("enframe_kernel", torch.eye(n_fft).unsqueeze(1))

    @property
    def pad(self):
        return (self.n_fft - self.hop_length) // 2

    def forward(self, x):
        total = self.n_fft - self.hop_length
        x = F.pad(x, (total // 2, total - total // 2))
        x = x.unsqueeze(1) if x.dim() == 2 else x
        frames = F.conv1d(x, self.enframe_kernel, stride=self.hop_length) * self.window
        spec = torch.fft.rfft(frames, dim=1)
        return spec.real, spec.imag

    def inverse(self, real, imag):
        frames = real.shape[2]
        x = torch.fft.irfft(torch.complex(real, imag), n=self.n_fft, dim=1) * self.window
        x = F.conv_transpose1d(x, self.enframe_kernel, stride=self.hop_length)
        env = F.conv_transpose1d(self.window_envelope.repeat(1, 1, frames), self.enframe_kernel,
                                 stride=self.hop_length)
        p, n = self.pad, frames * self.hop_length
        return x[..., p:p + n] / env[..., p:p + n]


class LayerNorm2d(nn.Module):
    """Wavehax's LayerNorm2d on [B, C, F, T]: mean and (population) variance over (C, F, T), or
    over (C, F) per frame when framewise; per-channel gamma, beta; eps 1e-6."""

    def __init__(self, channels, framewise=False, eps=1e-6, affine=True):
        super().__init__()
        self.channels, self.framewise, self.eps, self.affine = channels, framewise, eps, affine
        if affine:
            self.gamma = nn.Parameter(torch.ones(channels))
            self.beta = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        dims = (1, 2) if self.framewise else (1, 2, 3)
        x = x - x.mean(dims, keepdim=True)
        x = x / torch.sqrt(x.pow(2).mean(dims, keepdim=True) + self.eps)
        if self.affine:
            x = self.gamma.view(1, -1, 1, 1) * x + self.beta.view(1, -1, 1, 1)
        return x


def _kernel2(k):
    return (k, k) if isinstance(k, int) else tuple(k)


class ConvNeXtBlock2d(nn.Module):
    """Wavehax's ConvNeXtBlock2d (layer norm variant): kernel (frequency, time), both odd."""

    def __init__(self, channels, mult_channels, kernel_size, drop_prob=0.0, use_layer_norm=True,
                 framewise_norm=True, layer_scale_init_value=None, time_padding="reflect"):
        super().__init__()
        kf, kt = _kernel2(kernel_size)
        if kf % 2 == 0 or kt % 2 == 0:
            raise ValueError("kernel sizes must be odd")
        if not use_layer_norm:
            raise ValueError("the batch-norm variant (use_layer_norm=False) is not implemented")
        self.time_padding = time_padding
        self.dwconv = nn.Conv2d(channels, channels, (kf, kt), padding=(kf // 2, kt // 2),
                                groups=channels, bias=False, padding_mode="reflect")
        self.norm = LayerNorm2d(channels, framewise=framewise_norm)
        self.pwconv1 = nn.Conv2d(channels, channels * mult_channels, 1)
        self.nonlinear = nn.GELU()
        self.pwconv2 = nn.Conv2d(channels * mult_channels, channels, 1)
        self.gamma = (nn.Parameter(layer_scale_init_value * torch.ones(1, channels, 1, 1))
                      if layer_scale_init_value is not None else None)

    def depthwise(self, x):
        """dwconv with reflection in frequency and, in time, reflection (upstream) or zeros."""
        if self.time_padding == "reflect":
            return self.dwconv(x)
        pf, pt = self.dwconv.padding
        x = F.pad(x, (0, 0, pf, pf), mode="reflect")
        return F.conv2d(F.pad(x, (pt, pt, 0, 0)), self.dwconv.weight, None,
                        groups=self.dwconv.groups)

    def forward(self, x):
        h = self.pwconv2(self.nonlinear(self.pwconv1(self.norm(self.depthwise(x)))))
        if self.gamma is not None:
            h = self.gamma * h
        return x + h  # drop path is the identity at inference


class WavehaxGenerator(nn.Module):
    """Upstream's WavehaxGenerator (prior_type "pcph", use_logmag_phase False), plus:
    time_padding "reflect" (upstream) or "zeros" (what a stream computes at the utterance edges),
    prior_noise_amplitude / prior_random_phase (upstream: 0.01 / True; 0 / False for the
    deterministic prior)."""

    def __init__(self, in_channels=100, channels=32, mult_channels=2, kernel_size=7, num_blocks=8,
                 n_fft=480, hop_length=240, sample_rate=24000, prior_type="pcph", drop_prob=0.0,
                 use_layer_norm=True, framewise_norm=False, use_logmag_phase=False,
                 time_padding="reflect", prior_noise_amplitude=0.01, prior_random_phase=True):
        super().__init__()
        if prior_type != "pcph":
            raise ValueError("only prior_type 'pcph' is implemented")
        if use_logmag_phase:
            raise ValueError("use_logmag_phase=True is not implemented")
        if time_padding not in ("reflect", "zeros"):
            raise ValueError("time_padding must be 'reflect' or 'zeros'")
        self.in_channels, self.n_fft, self.hop_length = in_channels, n_fft, hop_length
        self.n_bins = n_fft // 2 + 1
        self.sample_rate, self.framewise_norm = sample_rate, framewise_norm
        self.time_padding = time_padding
        self.prior_noise_amplitude, self.prior_random_phase = prior_noise_amplitude, \
            prior_random_phase
        self.stft = STFT(n_fft, hop_length)
        bins = self.n_bins
        self.prior_proj = nn.Conv1d(bins, bins, 7, padding=3, padding_mode="reflect")
        self.cond_proj = nn.Conv1d(in_channels, bins, 7, padding=3, padding_mode="reflect")
        self.input_proj = nn.Conv2d(5, channels, 1, bias=False)
        self.input_norm = LayerNorm2d(channels, framewise=framewise_norm)
        self.blocks = nn.ModuleList([
            ConvNeXtBlock2d(channels, mult_channels, kernel_size, drop_prob,
                            framewise_norm=framewise_norm,
                            layer_scale_init_value=1 / num_blocks, time_padding=time_padding)
            for _ in range(num_blocks)])
        self.output_norm = LayerNorm2d(channels, framewise=framewise_norm)
        self.output_proj = nn.Conv2d(channels, 2, 1)
        for m in self.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d)):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0.0)

    def _proj(self, conv, x):
        if self.time_padding == "reflect":
            return conv(x)
        return F.conv1d(x, conv.weight, conv.bias, padding=conv.padding[0])

    def prior(self, f0):
        return generate_pcph(f0, self.hop_length, self.sample_rate, self.prior_noise_amplitude,
                             self.prior_random_phase)

    def forward(self, cond, f0):
        """cond [B, in_channels, F], f0 [B, 1, F] -> (waveform, prior), each [B, 1, F * hop]."""
        with torch.no_grad():
            prior = self.prior(f0)
            real, imag = self.stft(prior)
        real, imag = self.spectrum(real, imag, cond)
        return self.stft.inverse(real, imag), prior

    def spectrum(self, real, imag, cond):
        """The network between the STFTs: the prior's spectrum (real, imag [B, bins, F]) and cond
        [B, in_channels, F] -> the output's (real, imag)."""
        x = torch.stack([real, imag, self._proj(self.prior_proj, real),
                         self._proj(self.prior_proj, imag), self._proj(self.cond_proj, cond)], 1)
        x = self.input_norm(self.input_proj(x))
        for block in self.blocks:
            x = block(x)
        x = self.output_proj(self.output_norm(x))
        return x[:, 0], x[:, 1]

    @torch.no_grad()
    def inference(self, cond, f0):
        return self(cond, f0)[0]

    def lookahead_frames(self):
        """Frames of look-ahead of the streaming form: cond_proj's 3 + each block's kt // 2."""
        return 3 + sum(b.dwconv.kernel_size[1] // 2 for b in self.blocks)

    def streaming_mode(self):
        """(mode, explanation): "exact_latency" (streams exactly at its look-ahead), "edges"
        (streams at that latency, but the reflect time padding or the random prior at the
        utterance start differ from offline) or "offline" (utterance-level LayerNorm2d)."""
        la = self.lookahead_frames()
        if not self.framewise_norm:
            return ("offline", "framewise_norm=False: LayerNorm2d normalises over the whole "
                    "utterance (channels, bins and all frames), so every output sample depends on "
                    "every input frame: offline use only (rill.export_windows runs it on long "
                    "overlapping windows). For streaming, export "
                    "rill.nn.wavehax.streaming_counterpart(model) (same weights, per-frame "
                    "statistics, zero time padding, deterministic prior: a different model that "
                    "needs fine-tuning; export reports its measured difference)")
        edges = []
        if self.time_padding == "reflect":
            edges.append("reflect time padding (a stream pads the utterance start with zeros)")
        if self.prior_noise_amplitude or self.prior_random_phase:
            edges.append("a random prior (noise, random initial phase; the engine's prior is "
                         "deterministic)")
        why = (f"framewise_norm=True: streams at a look-ahead of {la} frames "
               f"({la * self.hop_length} samples) plus the STFT framing")
        if edges:
            return ("edges", why + "; differs from offline through " + " and ".join(edges))
        return ("exact_latency", why + ", exactly")


class AudioRate(nn.Module):
    """A generator with its inputs at the audio rate (the form rill.export takes): cond
    [B, in_channels, T] and f0 [B, 1, T], each frame held for hop samples; offline, frame m is
    sample m * hop. Returns the waveform [B, 1, ceil(T / hop) * hop]."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator

    def forward(self, cond, f0):
        hop = self.generator.hop_length
        return self.generator(cond[..., ::hop], f0[..., ::hop])[0]


class WindowedGenerator(nn.Module):
    """The generator on one window of the offline windows mode (rill.export_windows): x
    [B, in_channels + 2, W] = cond and f0 held at the audio rate and the deterministic harmonic
    prior, computed before the windows with a running phase (the engine's harmonic_prior op) so
    that it stays continuous across them -> waveform [B, 1, W]. W must be a multiple of hop; each
    window is a whole utterance to the generator (its LayerNorm2d statistics, reflect padding).
    The STFT pair runs as DFT products and overlap-add convolutions, which export to ONNX."""

    def __init__(self, generator):
        super().__init__()
        self.generator = generator
        g = generator
        n, k = torch.arange(g.n_fft, dtype=torch.float64), torch.arange(g.n_bins,
                                                                        dtype=torch.float64)
        ang = 2 * math.pi * k[:, None] * n[None, :] / g.n_fft                # [bins, n_fft]
        w = g.stft.window.reshape(-1).double()
        analysis = torch.cat([torch.cos(ang) * w, -torch.sin(ang) * w])        # [2 bins, n_fft]
        self.register_buffer("analysis", analysis.float().unsqueeze(1))
        scale = torch.full((g.n_bins, 1), 2.0 / g.n_fft, dtype=torch.float64)
        scale[0] = 1.0 / g.n_fft
        if g.n_fft % 2 == 0:
            scale[-1] = 1.0 / g.n_fft
        inv_im = -torch.sin(ang) * scale                                       # irfft ignores
        inv_im[0] = 0.0                                                        # the imaginary
        if g.n_fft % 2 == 0:                                                   # DC and Nyquist
            inv_im[-1] = 0.0
        self.register_buffer("synth_re", (torch.cos(ang) * scale * w).t().float().contiguous())
        self.register_buffer("synth_im", (inv_im * w).t().float().contiguous())

    def forward(self, x):
        g = self.generator
        hop, c = g.hop_length, g.in_channels
        cond, prior = x[:, :c, ::hop], x[:, c + 1:c + 2]
        total = g.n_fft - hop
        spec = F.conv1d(F.pad(prior, (total // 2, total - total // 2)), self.analysis,
                        stride=hop)
        real, imag = g.spectrum(spec[:, :g.n_bins], spec[:, g.n_bins:], cond)
        frames = torch.matmul(self.synth_re, real) + torch.matmul(self.synth_im, imag)
        count = frames.shape[2]
        y = F.conv_transpose1d(frames, g.stft.enframe_kernel, stride=hop)
        env = F.conv_transpose1d(g.stft.window_envelope.expand(1, -1, count),
                                 g.stft.enframe_kernel, stride=hop)
        p = g.stft.pad
        return y[..., p:p + count * hop] / env[..., p:p + count * hop]


def hold(frames, hop):
    """[B, C, F] frame-rate features -> [B, C, F * hop] at the audio rate (AudioRate's input)."""
    return frames.repeat_interleave(hop, dim=-1)


def streaming_counterpart(model):
    """A copy of `model` (WavehaxGenerator or AudioRate) that streams exactly: same weights,
    framewise_norm=True, time_padding="zeros", deterministic prior. Unless the model already is
    that, it is a different model (fine-tune it); rill.export reports its measured difference."""
    m = copy.deepcopy(model)
    g = m.generator if isinstance(m, AudioRate) else m
    g.framewise_norm, g.time_padding = True, "zeros"
    g.prior_noise_amplitude, g.prior_random_phase = 0.0, False
    for mod in g.modules():
        if isinstance(mod, LayerNorm2d):
            mod.framewise = True
        if isinstance(mod, ConvNeXtBlock2d):
            mod.time_padding = "zeros"
    return m
