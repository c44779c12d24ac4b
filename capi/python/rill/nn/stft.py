"""Streaming STFT / iSTFT, references of the stft and istft ops (torch.stft / torch.istft
conventions: onesided, window `hann` periodic by default, `center` zero padding).
STFT output [B, C*2F, T]: per input channel, F real parts then F imaginary parts."""

import torch
import torch.nn as nn

from .base import PreRoll

_WINDOWS = {
    "hann": lambda n: torch.hann_window(n),
    "sqrt_hann": lambda n: torch.hann_window(n).sqrt(),
    "hamming": lambda n: torch.hamming_window(n),
    "rect": lambda n: torch.ones(n),
}


class _Spectral(nn.Module):
    def __init__(self, n_fft, hop, window="hann", center=True):
        super().__init__()
        self.n_fft, self.hop, self.window_name, self.center = n_fft, hop, window, center
        self.register_buffer("window", _WINDOWS[window](n_fft))
        self.bins = n_fft // 2 + 1


class STFT(_Spectral):
    def forward(self, x):
        B, C, T = x.shape
        X = torch.stft(x.reshape(B * C, T), self.n_fft, self.hop, window=self.window,
                       center=self.center, pad_mode="constant", return_complex=True)
        return torch.cat([X.real, X.imag], dim=1).reshape(B, C * 2 * self.bins, -1)

    def start_stream(self, input_latency=0):
        left = self.n_fft // 2 if self.center else 0
        D = self.n_fft - 1 - left + input_latency
        self._phase, self._preroll, self._cache = D % self.hop, PreRoll(input_latency), None
        return D // self.hop

    def stream(self, x):
        B, C, n = x.shape
        x = x.clone()
        x[..., :self._preroll.consume(n)] = 0
        if self._cache is None:
            self._cache = x.new_zeros(B, C, self.n_fft - 1)
        work = torch.cat([self._cache, x], dim=-1)
        self._cache = work[..., work.shape[-1] - (self.n_fft - 1):]
        frames = work[..., self._phase:].unfold(-1, self.n_fft, self.hop)[..., :n // self.hop, :]
        X = torch.fft.rfft(frames * self.window, dim=-1)  # [B, C, T, F]
        out = torch.cat([X.real, X.imag], dim=-1).permute(0, 1, 3, 2)
        return out.reshape(B, C * 2 * self.bins, -1)


class ISTFT(_Spectral):
    def forward(self, X, length=None):
        B, CF, T = X.shape
        C = CF // (2 * self.bins)
        Z = X.reshape(B * C, 2, self.bins, T)
        y = torch.istft(torch.complex(Z[:, 0], Z[:, 1]), self.n_fft, self.hop, window=self.window,
                        center=self.center, length=length)
        return y.reshape(B, C, -1)

    def start_stream(self, input_latency=0):
        self._preroll, self._acc, self._env = PreRoll(input_latency), None, None
        return (self.n_fft // 2 if self.center else 0) + input_latency * self.hop

    def stream(self, X):
        B, CF, n = X.shape
        C = CF // (2 * self.bins)
        skip = self._preroll.consume(n)
        Z = X.reshape(B, C, 2, self.bins, n)
        frames = torch.fft.irfft(torch.complex(Z[:, :, 0], Z[:, :, 1]), n=self.n_fft, dim=2)
        frames = frames * self.window[None, None, :, None]  # [B, C, n_fft, n]
        frames[..., :skip] = 0
        w2 = (self.window ** 2)[:, None].repeat(1, n)
        w2[:, :skip] = 0
        span = (n - 1) * self.hop + self.n_fft
        fold = lambda f: torch.nn.functional.fold(  # noqa: E731  overlap-add of the frames
            f.reshape(-1, self.n_fft, n), (1, span), (1, self.n_fft), stride=(1, self.hop))
        acc = fold(frames).reshape(B, C, span)
        env = fold(w2[None]).reshape(span)
        tail = self.n_fft - self.hop
        if self._acc is not None:
            acc[..., :tail] += self._acc
            env[:tail] += self._env
        n_out = n * self.hop
        self._acc, self._env = acc[..., n_out:], env[n_out:]
        e = env[:n_out]
        return torch.where(e > 1e-11, acc[..., :n_out] / e.clamp_min(1e-11), torch.zeros(()))
