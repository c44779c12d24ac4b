"""FiLM conditioning driven by model parameters (Perez et al. 2018), reference of the film op:
    gamma, beta = split(W p + b),  y = gamma * x + beta
p [B, P] holds the values of the model parameters named in `params` (the knobs a user turns)."""

import torch
import torch.nn as nn

from .base import Stateless


class FiLM(Stateless, nn.Module):
    def __init__(self, channels, params):
        super().__init__()
        self.params = list(params)
        self.weight = nn.Parameter(torch.zeros(2 * channels, len(self.params)))
        self.bias = nn.Parameter(torch.cat([torch.ones(channels), torch.zeros(channels)]))

    def forward(self, x, p):
        gamma, beta = (p @ self.weight.t() + self.bias).chunk(2, dim=1)
        return gamma[:, :, None] * x + beta[:, :, None]
