"""The bundled effect model: a non-causal dilated-convolution TCN with FiLM conditioning on the
`drive` knob in every block (FiLM: Perez et al. 2018). Built from rill.nn reference modules, so
it streams in Rill as cached convolutions (DESIGN.md section 4) and exports with rill.export.

    h = W_in x                                    (1x1 conv, 1 -> C)
    for d in DILATIONS:                           (residual blocks)
        u = conv_k3_dilation_d(h), padding (d, d) (symmetric: looks d frames ahead, latency d)
        u = gamma(drive) * u + beta(drive)        (FiLM, weight [2C, 1], bias [2C])
        h = h + W_mix tanh(u)                     (1x1 mix, residual)
    y = W_out h                                   (1x1 conv, C -> 1)

Latency = sum(DILATIONS) frames, receptive field = 1 + 2 * sum(DILATIONS). Parameter names are
those of the Rill ops' weight roles (conv1d weight/bias, film weight/bias)."""

import pathlib
import sys

import torch
import torch.nn as nn

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
import rill.nn as rnn  # noqa: E402

CHANNELS = 16
DILATIONS = (1, 2, 4, 8, 16, 32, 64, 1, 2, 4)
PARAMS = ["drive"]


class Block(nn.Module):
    def __init__(self, channels, dilation):
        super().__init__()
        self.dilation = dilation
        self.conv = rnn.Conv1d(channels, channels, 3, dilation=dilation,
                               padding=(dilation, dilation))
        self.film = rnn.FiLM(channels, PARAMS)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, h, p):
        return h + self.mix(torch.tanh(self.film(self.conv(h), p)))


class DriveTCN(nn.Module):
    def __init__(self, channels=CHANNELS, dilations=DILATIONS):
        super().__init__()
        self.inp = nn.Conv1d(1, channels, 1)
        self.blocks = nn.ModuleList(Block(channels, d) for d in dilations)
        self.out = nn.Conv1d(channels, 1, 1)

    def forward(self, x, p):
        """x [B, 1, T] audio, p [B, 1] the drive knob per example. Returns [B, 1, T]."""
        h = self.inp(x)
        for b in self.blocks:
            h = b(h, p)
        return self.out(h)

    @property
    def latency(self):
        return sum(b.dilation for b in self.blocks)

    @property
    def receptive_field(self):
        return 1 + 2 * sum(b.dilation for b in self.blocks)
