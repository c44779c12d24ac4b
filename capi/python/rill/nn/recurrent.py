"""Recurrent layers on [B, C, T], references of the lstm and gru ops (one direction; a
multi-layer stack is a chain of one-layer nodes in Rill). LSTM and GRU are nn.LSTM / nn.GRU
(parameter names weight_ih_l0, weight_hh_l0, bias_ih_l0, ...; batch_first) whose forward takes
and returns [B, C, T]; Recurrent wraps an existing batch_first nn.LSTM / nn.GRU the same way.
In streaming mode the state carries across chunks and does not advance during the pre-roll
(output 0 there)."""

import torch.nn as nn

from .base import PreRoll


class _StreamingRNN:
    def _rnn_call(self, x, state):
        raise NotImplementedError

    def _hidden(self):
        raise NotImplementedError

    def start_stream(self, input_latency=0):
        self._preroll = PreRoll(input_latency)
        self._state = None
        return input_latency

    def stream(self, x):
        skip = self._preroll.consume(x.shape[-1])
        y = x.new_zeros(x.shape[0], self._hidden(), x.shape[-1])
        if skip < x.shape[-1]:
            out, self._state = self._rnn_call(x[..., skip:].transpose(1, 2), self._state)
            y[..., skip:] = out.transpose(1, 2)
        return y


def _check(rnn):
    if rnn.bidirectional:
        raise ValueError("a bidirectional rnn reads the whole signal's future and cannot stream")
    if not rnn.batch_first:
        raise ValueError("the rnn must be batch_first=True")
    if getattr(rnn, "proj_size", 0):
        raise ValueError("LSTM proj_size is not supported")


class Recurrent(_StreamingRNN, nn.Module):
    """rnn: an nn.LSTM or nn.GRU with batch_first=True and bidirectional=False."""

    def __init__(self, rnn):
        super().__init__()
        _check(rnn)
        self.rnn = rnn

    def forward(self, x):
        return self.rnn(x.transpose(1, 2))[0].transpose(1, 2)

    def _rnn_call(self, x, state):
        return self.rnn(x, state)

    def _hidden(self):
        return self.rnn.hidden_size


class LSTM(_StreamingRNN, nn.LSTM):
    """nn.LSTM(input_size, hidden_size, num_layers, bias) on [B, C, T]."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True):
        super().__init__(input_size, hidden_size, num_layers, bias=bias, batch_first=True)

    def forward(self, x):
        return nn.LSTM.forward(self, x.transpose(1, 2))[0].transpose(1, 2)

    def _rnn_call(self, x, state):
        return nn.LSTM.forward(self, x, state)

    def _hidden(self):
        return self.hidden_size


class GRU(_StreamingRNN, nn.GRU):
    """nn.GRU(input_size, hidden_size, num_layers, bias) on [B, C, T] (PyTorch's gate formula:
    the op's linear_before_reset = 1)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True):
        super().__init__(input_size, hidden_size, num_layers, bias=bias, batch_first=True)

    def forward(self, x):
        return nn.GRU.forward(self, x.transpose(1, 2))[0].transpose(1, 2)

    def _rnn_call(self, x, state):
        return nn.GRU.forward(self, x, state)

    def _hidden(self):
        return self.hidden_size
