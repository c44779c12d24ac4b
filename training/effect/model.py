"""The bundled effect model: a non-causal dilated-convolution TCN with FiLM conditioning on the
`drive` knob in every block (Perez et al. 2018, FiLM; the TCN follows the non-causal dilated
stacks of RAVE-style decoders, streamed by Rill as cached convolutions).

    h = W_in x                                    (1x1, 1 -> C)
    for d in DILATIONS:                           (residual blocks)
        u = conv_k3_dilation_d(h), padding (d, d) (looks d frames ahead: latency d)
        u = gamma(drive) * u + beta(drive)        (FiLM)
        h = h + W_mix tanh(u)                     (1x1 mix, residual)
    y = W_out h                                   (1x1, C -> 1)

Parameter names match the Rill ops (conv1d weight/bias, film weight [2C, P]/bias [2C], linear
weight/bias), so export_model.py maps the state_dict directly. Latency = sum(DILATIONS)."""

import torch
import torch.nn as nn
import torch.nn.functional as F

CHANNELS = 16
DILATIONS = (1, 2, 4, 8, 16, 32, 64, 1, 2, 4)


class FiLM(nn.Module):
    """gamma, beta = split(W p + b); y = gamma * x + beta (p: the model parameters)."""

    def __init__(self, channels, num_params=1):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(2 * channels, num_params))
        self.bias = nn.Parameter(torch.cat([torch.ones(channels), torch.zeros(channels)]))

    def forward(self, x, p):  # x [B, C, T], p [B, P]
        gb = p @ self.weight.t() + self.bias
        gamma, beta = gb.chunk(2, dim=1)
        return gamma[:, :, None] * x + beta[:, :, None]


class Block(nn.Module):
    def __init__(self, channels, dilation):
        super().__init__()
        self.dilation = dilation
        self.conv = nn.Conv1d(channels, channels, 3, dilation=dilation)
        self.film = FiLM(channels)
        self.mix = nn.Conv1d(channels, channels, 1)

    def forward(self, h, p):
        u = self.conv(F.pad(h, (self.dilation, self.dilation)))
        return h + self.mix(torch.tanh(self.film(u, p)))


class DriveTCN(nn.Module):
    def __init__(self, channels=CHANNELS, dilations=DILATIONS):
        super().__init__()
        self.inp = nn.Conv1d(1, channels, 1)
        self.blocks = nn.ModuleList(Block(channels, d) for d in dilations)
        self.out = nn.Conv1d(channels, 1, 1)

    def forward(self, x, drive):  # x [B, 1, T], drive [B]
        p = drive.reshape(-1, 1)
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
