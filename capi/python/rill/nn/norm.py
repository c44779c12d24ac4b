"""Normalisations that stream (references of group_norm and its aliases, docs/ops.md).

GroupNorm(groups, C, mode): "frame" normalises each frame over the channels of each group;
"cumulative" over those channels and all frames so far (asteroid's CumLN when groups = 1):
    mean_t = sum_{c in g, tau <= t} x / n_t,  var_t = sum x^2 / n_t - mean_t^2
    y = (x - mean_t) / sqrt(var_t + eps) * weight + bias
Parameter names follow nn.GroupNorm (weight, bias)."""

import torch
import torch.nn as nn

from .base import PreRoll


class GroupNorm(nn.Module):
    def __init__(self, num_groups, num_channels, eps=1e-5, mode="cumulative", affine=True):
        super().__init__()
        if mode not in ("frame", "cumulative"):
            raise ValueError("mode must be 'frame' or 'cumulative'")
        self.num_groups, self.num_channels = num_groups, num_channels
        self.eps, self.mode = eps, mode
        self.weight = nn.Parameter(torch.ones(num_channels)) if affine else None
        self.bias = nn.Parameter(torch.zeros(num_channels)) if affine else None

    def _normalise(self, x, s1, s2, count):
        B, C, T = x.shape
        g = x.reshape(B, self.num_groups, C // self.num_groups, T)
        mean = s1 / count
        var = (s2 / count - mean ** 2).clamp_min(0)
        y = ((g - mean[:, :, None]) / torch.sqrt(var[:, :, None] + self.eps)).reshape(B, C, T)
        if self.weight is not None:
            y = y * self.weight[None, :, None] + self.bias[None, :, None]
        return y

    def _stats(self, x):
        B, C, T = x.shape
        g = x.double().reshape(B, self.num_groups, C // self.num_groups, T)
        return g.sum(2), (g ** 2).sum(2)  # [B, G, T]

    def forward(self, x):
        s1, s2 = self._stats(x)
        n = torch.full_like(s1, self.num_channels // self.num_groups)
        if self.mode == "cumulative":
            s1, s2, n = s1.cumsum(-1), s2.cumsum(-1), n.cumsum(-1)
        return self._normalise(x.double(), s1, s2, n).to(x.dtype)

    def start_stream(self, input_latency=0):
        self._preroll = PreRoll(input_latency)
        self._acc = None
        return input_latency

    def stream(self, x):
        if self.mode == "frame":
            return self.forward(x)
        skip = self._preroll.consume(x.shape[-1])
        s1, s2 = self._stats(x)
        n = torch.full_like(s1, self.num_channels // self.num_groups)
        s1[..., :skip], s2[..., :skip], n[..., :skip] = 0, 0, 0
        s1, s2, n = s1.cumsum(-1), s2.cumsum(-1), n.cumsum(-1)
        if self._acc is not None:
            a1, a2, an = (a[..., None] for a in self._acc)
            s1, s2, n = s1 + a1, s2 + a2, n + an
        self._acc = (s1[..., -1], s2[..., -1], n[..., -1])
        y = self._normalise(x.double(), s1, s2, n.clamp_min(1)).to(x.dtype)
        y[..., :skip] = 0
        return y


class CumulativeLayerNorm(GroupNorm):
    """asteroid's CumLN / the paper's cLN: GroupNorm(1, C, mode="cumulative")."""

    def __init__(self, num_channels, eps=1e-8):
        super().__init__(1, num_channels, eps=eps, mode="cumulative")


class LayerNorm(GroupNorm):
    """nn.LayerNorm(C) applied to each frame of [B, C, T] (the layer_norm / channel_norm op,
    asteroid's ChanLN): GroupNorm(1, C, mode="frame")."""

    def __init__(self, num_channels, eps=1e-5):
        super().__init__(1, num_channels, eps=eps, mode="frame")
