"""Delay line, the reference of the delay op: y[t] = x[t - frames] (zeros before the start)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from .base import PreRoll


class Delay(nn.Module):
    def __init__(self, frames):
        super().__init__()
        if frames < 0:
            raise ValueError("a delay cannot be negative")
        self.frames = int(frames)

    def forward(self, x):
        return F.pad(x, (self.frames, 0))[..., :x.shape[-1]]

    def start_stream(self, input_latency=0):
        self._preroll = PreRoll(input_latency)
        self._line = None
        return input_latency

    def stream(self, x):
        x = x.clone()
        x[..., :self._preroll.consume(x.shape[-1])] = 0
        if self._line is None:
            self._line = x.new_zeros(x.shape[0], x.shape[1], self.frames)
        work = torch.cat([self._line, x], dim=-1)
        self._line = work[..., work.shape[-1] - self.frames:]
        return work[..., :x.shape[-1]]
