"""Cached streaming convolutions (Caillon & Esling 2022), the references of the conv1d and
conv_transpose1d ops (docs/ops.md). Parameter names are those of nn.Conv1d / nn.ConvTranspose1d,
so their state_dicts load directly."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import PreRoll


class Conv1d(nn.Conv1d):
    """nn.Conv1d with explicit (left, right) zero padding; right padding becomes latency.
    padding: int (both sides), (left, right), "causal" ((k-1)d, 0), "same" (torch's split of
    (k-1)d: left = (k-1)d // 2) or "valid" (0, 0)."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=(0, 0),
                 dilation=1, groups=1, bias=True):
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, padding=0,
                         dilation=dilation, groups=groups, bias=bias)
        total = (kernel_size - 1) * dilation
        named = {"causal": (total, 0), "same": (total // 2, total - total // 2), "valid": (0, 0)}
        if isinstance(padding, str):
            if padding not in named:
                raise ValueError(f"padding must be one of {list(named)}, an int or (left, right)")
            self.pad = named[padding]
        else:
            self.pad = (padding, padding) if isinstance(padding, int) else tuple(padding)
        if self.pad[0] > (kernel_size - 1) * dilation:
            raise ValueError("left padding exceeds the receptive field")

    def forward(self, x):
        return super().forward(F.pad(x, self.pad))

    def start_stream(self, input_latency=0):
        k, d, s = self.kernel_size[0], self.dilation[0], self.stride[0]
        D = (k - 1) * d - self.pad[0] + input_latency
        self._phase = D % s
        self._preroll = PreRoll(input_latency)
        self._cache = None
        return D // s

    def stream(self, x):
        k, d, s = self.kernel_size[0], self.dilation[0], self.stride[0]
        x = x.clone()
        skip = self._preroll.consume(x.shape[-1])
        x[..., :skip] = 0
        if self._cache is None:
            self._cache = x.new_zeros(x.shape[0], x.shape[1], (k - 1) * d)
        work = torch.cat([self._cache, x], dim=-1)
        self._cache = work[..., work.shape[-1] - (k - 1) * d:]
        n_out = x.shape[-1] // s
        y = F.conv1d(work[..., self._phase:], self.weight, self.bias, s, 0, d, self.groups)
        return y[..., :n_out]


class ConvTranspose1d(nn.ConvTranspose1d):
    """nn.ConvTranspose1d streamed as overlap-add; latency padding + input_latency * stride."""

    def start_stream(self, input_latency=0):
        self._preroll = PreRoll(input_latency)
        self._tail = None
        return self.padding[0] + input_latency * self.stride[0]

    def stream(self, x):
        s = self.stride[0]
        x = x.clone()
        skip = self._preroll.consume(x.shape[-1])
        x[..., :skip] = 0
        full = F.conv_transpose1d(x, self.weight, None, s, 0, 0, self.groups, self.dilation[0])
        n_out = x.shape[-1] * s
        full = F.pad(full, (0, max(0, n_out - full.shape[-1])))
        if self._tail is not None:
            t = min(self._tail.shape[-1], full.shape[-1])
            full[..., :t] += self._tail[..., :t]
        self._tail = full[..., n_out:]
        y = full[..., :n_out]
        return y + self.bias[None, :, None] if self.bias is not None else y
