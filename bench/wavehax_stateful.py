"""The streaming Wavehax vocoder (rill.nn.wavehax, per-frame norms, zero time padding,
deterministic prior) run exactly frame block by frame block in PyTorch, the way an expert would:
every look-ahead convolution keeps its last 2a input frames, every residual and parallel path a
delay line, the prior its running phase, the STFT its last input samples and the inverse STFT its
overlap-add tails (signal and window envelope), all as explicit state passed in and returned by
each call, so the same module exports to ONNX (fixed frame count, states as graph inputs and
outputs) for onnxruntime. The FFTs are DFT matrix products (torch 1.13 cannot export
torch.fft to ONNX).

    step = StatefulWavehax(generator, frames)   # frames per call (hop samples each)
    state = step.initial_state()
    for cond, f0 in blocks:                     # cond [1, in_channels, frames], f0 [1, 1, frames]
        y, *state = step(cond, f0, *state)      # y [1, 1, frames * hop]

Frame-level delays: the prior STFT lags the cond frames by d = ceil((n_fft - pad - hop) / hop)
frames (its frame m needs samples past m's hop), prior_proj adds its 3-frame look-ahead, cond_proj
is delayed to match, each ConvNeXt block adds kt // 2; tensors are zeroed at frame indices below
0 (offline zero padding), so the output is the offline output delayed by
pad + (d + 3 + sum kt // 2) * hop samples (OUTPUT_DELAY), exactly (checked by the benchmark)."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class StatefulWavehax(nn.Module):
    def __init__(self, generator, frames, f0_floor=50.0):
        super().__init__()
        g = generator.eval()
        if not g.framewise_norm or g.time_padding != "zeros" or g.prior_noise_amplitude or \
                g.prior_random_phase:
            raise ValueError("the streaming form only (rill.nn.wavehax.streaming_counterpart)")
        self.g, self.K = g, frames
        self.hop, self.n_fft, self.pad = g.hop_length, g.n_fft, g.stft.pad
        if self.n_fft % self.hop:
            raise ValueError("n_fft must be a multiple of hop")
        self.d_stft = math.ceil((self.n_fft - self.pad - self.hop) / self.hop)
        self.a_proj = g.prior_proj.padding[0]
        self.a_blocks = [b.dwconv.kernel_size[1] // 2 for b in g.blocks]
        self.delay_frames = self.d_stft + self.a_proj + sum(self.a_blocks)
        self.output_delay = self.pad + self.delay_frames * self.hop
        half = g.sample_rate / 2.0
        self.register_buffer("harmonics", torch.arange(1, int(half / f0_floor) + 1,
                                                       dtype=torch.float64).view(1, -1, 1))
        n, k = torch.arange(self.n_fft, dtype=torch.float64), torch.arange(g.n_bins,
                                                                          dtype=torch.float64)
        ang = 2 * math.pi * k[:, None] * n[None, :] / self.n_fft          # [bins, n_fft]
        w = g.stft.window.reshape(-1).double()
        self.register_buffer("dft_re", (torch.cos(ang) * w).float())      # windowed analysis
        self.register_buffer("dft_im", (-torch.sin(ang) * w).float())
        scale = torch.full((g.n_bins, 1), 2.0, dtype=torch.float64)
        scale[0] = 1.0
        if self.n_fft % 2 == 0:
            scale[-1] = 1.0
        inv_im = -torch.sin(ang) * scale / self.n_fft
        inv_im[0] = 0.0
        if self.n_fft % 2 == 0:
            inv_im[-1] = 0.0                                              # irfft drops them
        self.register_buffer("idft_re", (torch.cos(ang) * scale / self.n_fft * w).float())
        self.register_buffer("idft_im", (inv_im * w).float())
        self.register_buffer("window_sq", g.stft.window_envelope.reshape(1, -1, 1))

    def initial_state(self):
        g, K = self.g, self.K
        bins, c = g.n_bins, g.input_proj.out_channels
        z = torch.zeros
        st = [z(1, dtype=torch.float64),                                  # frames seen
              z(1, 1, 1, dtype=torch.float64),                            # prior phase (cycles)
              z(1, 1, self.pad + self.d_stft * self.hop),                 # prior samples
              z(1, 2 * bins, 2 * self.a_proj),                            # prior_proj inputs
              z(1, 2 * bins, self.a_proj),                                # spec delay line
              z(1, g.in_channels, 2 * self.a_proj),                       # cond_proj inputs
              z(1, bins, self.d_stft)]                                    # cond_proj delay line
        for a in self.a_blocks:
            st += [z(1, c, bins, 2 * a), z(1, c, bins, a)]                # dwconv in, residual
        st += [z(1, 1, self.n_fft - self.hop), z(1, 1, self.n_fft - self.hop)]  # OLA tails
        assert K > 0
        return st

    def _mask(self, seen, delay):
        idx = seen + torch.arange(self.K, dtype=torch.float64) - delay
        return (idx >= 0).float()

    def _prior(self, f0, phase):
        g = self.g
        f = f0.double().unsqueeze(3).expand(1, 1, self.K, self.hop).reshape(1, 1, -1)
        cycles = phase + torch.cumsum(f / g.sample_rate, dim=2)
        half = g.sample_rate / 2.0
        voiced = f > 0
        n_harm = torch.where(voiced, half / torch.where(voiced, f, torch.ones_like(f)),
                             torch.ones_like(f))
        amp = voiced.double() * 0.1 * torch.sqrt(2.0 / n_harm)
        waves = torch.sin(2.0 * math.pi * cycles * self.harmonics)
        keep = (f * self.harmonics <= half).double()
        return (amp * (keep * waves).sum(1, keepdim=True)).float(), cycles[..., -1:]

    def _frames(self, buf):
        """[1, 1, L] -> [1, n_fft, K] frames every hop."""
        idx = torch.arange(self.K).view(-1, 1) * self.hop + torch.arange(self.n_fft).view(1, -1)
        return buf[0, 0][idx].t().unsqueeze(0)

    def _overlap_add(self, frames):
        """[1, n_fft, K] frames every hop -> [1, 1, (K - 1) hop + n_fft] (n_fft = r hop)."""
        r = self.n_fft // self.hop
        chunks = frames.reshape(1, r, self.hop, self.K)
        out = sum(F.pad(chunks[:, c], (c, r - 1 - c)) for c in range(r))   # [1, hop, K + r - 1]
        return out.transpose(1, 2).reshape(1, 1, -1)

    def forward(self, cond, f0, *state):
        g, K = self.g, self.K
        bins = g.n_bins
        state = list(state)
        seen, phase, prior_cache, proj_cache, spec_line, cond_cache, cond_line = state[:7]
        blocks = state[7:-2]
        ola, env = state[-2:]
        new = []
        # prior -> STFT frames (delay d_stft)
        prior, phase = self._prior(f0, phase)
        buf = torch.cat([prior_cache, prior], 2)
        frames = self._frames(buf)                                          # [1, n_fft, K]
        spec = torch.cat([torch.matmul(self.dft_re, frames), torch.matmul(self.dft_im, frames)], 1)
        spec = spec * self._mask(seen, self.d_stft)
        new += [buf[..., -prior_cache.shape[2]:]]
        # prior_proj on real and imaginary parts (look-ahead a, delay d + a)
        pbuf = torch.cat([proj_cache, spec], 2)
        w, b = g.prior_proj.weight, g.prior_proj.bias
        pr = torch.cat([F.conv1d(pbuf[:, :bins], w, b), F.conv1d(pbuf[:, bins:], w, b)], 1)
        sbuf = torch.cat([spec_line, spec], 2)
        spec_d = sbuf[..., :K]
        # cond_proj (look-ahead a, delayed d more)
        cond = cond * self._mask(seen, 0)
        cbuf = torch.cat([cond_cache, cond], 2)
        cp = F.conv1d(cbuf, g.cond_proj.weight, g.cond_proj.bias)
        lbuf = torch.cat([cond_line, cp], 2)
        cp_d = lbuf[..., :K]
        new += [pbuf[..., -proj_cache.shape[2]:], sbuf[..., K:], cbuf[..., -cond_cache.shape[2]:],
                lbuf[..., K:]]
        delay = self.d_stft + self.a_proj
        x = torch.stack([spec_d[:, :bins], spec_d[:, bins:], pr[:, :bins], pr[:, bins:], cp_d], 1)
        x = g.input_norm(g.input_proj(x)) * self._mask(seen, delay)
        for i, blk in enumerate(g.blocks):
            cache, line = blocks[2 * i], blocks[2 * i + 1]
            a = self.a_blocks[i]
            xb = torch.cat([cache, x], 3)
            pf = blk.dwconv.padding[0]
            h = F.conv2d(F.pad(xb, (0, 0, pf, pf), mode="reflect"), blk.dwconv.weight, None,
                         groups=blk.dwconv.groups)
            h = blk.pwconv2(blk.nonlinear(blk.pwconv1(blk.norm(h))))
            if blk.gamma is not None:
                h = blk.gamma * h
            rbuf = torch.cat([line, x], 3)
            delay += a
            x = (rbuf[..., :K] + h) * self._mask(seen, delay)
            new += [xb[..., -cache.shape[3]:], rbuf[..., K:]]
        x = g.output_proj(g.output_norm(x))                                 # [1, 2, bins, K]
        mask = self._mask(seen, delay)
        frames = (torch.matmul(self.idft_re.t(), x[:, 0]) +
                  torch.matmul(self.idft_im.t(), x[:, 1])) * mask           # [1, n_fft, K]
        y_num = self._overlap_add(frames)
        y_env = self._overlap_add(self.window_sq * mask)
        tail = self.n_fft - self.hop
        y_num = torch.cat([y_num[..., :tail] + ola, y_num[..., tail:]], 2)
        y_env = torch.cat([y_env[..., :tail] + env, y_env[..., tail:]], 2)
        n = K * self.hop
        out = y_num[..., :n] / torch.clamp(y_env[..., :n], min=1e-12)
        new += [y_num[..., n:], y_env[..., n:]]
        return (out, seen + K, phase, *new)
