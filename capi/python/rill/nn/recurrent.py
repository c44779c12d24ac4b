"""Streaming wrappers: Delay (y[t] = x[t - frames]) and Recurrent (a unidirectional nn.LSTM or
nn.GRU on [B, C, T], references of the delay, lstm and gru ops). In streaming mode the recurrent
state carries across chunks and does not advance during the pre-roll (output 0 there)."""

import torch
import torch.nn as nn

from .base import PreRoll


class Delay(nn.Module):
    def __init__(self, frames):
        super().__init__()
        self.frames = frames

    def forward(self, x):
        return torch.nn.functional.pad(x, (self.frames, 0))[..., :x.shape[-1]]

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


class Recurrent(nn.Module):
    """rnn: an nn.LSTM or nn.GRU with batch_first=True and bidirectional=False."""

    def __init__(self, rnn):
        super().__init__()
        if rnn.bidirectional or not rnn.batch_first:
            raise ValueError("Recurrent needs a unidirectional rnn with batch_first=True")
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x.transpose(1, 2))[0].transpose(1, 2)

    def start_stream(self, input_latency=0):
        self._preroll = PreRoll(input_latency)
        self._state = None
        return input_latency

    def stream(self, x):
        skip = self._preroll.consume(x.shape[-1])
        y = x.new_zeros(x.shape[0], self.rnn.hidden_size, x.shape[-1])
        if skip < x.shape[-1]:
            out, self._state = self.rnn(x[..., skip:].transpose(1, 2), self._state)
            y[..., skip:] = out.transpose(1, 2)
        return y
