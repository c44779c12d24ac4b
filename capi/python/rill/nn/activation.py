"""Activations without a torch.nn class of their own: Snake (Ziyin et al. 2020, as in BigVGAN/RAVE)
    y = x + sin(alpha x)^2 / (alpha + 1e-9), alpha per channel."""

import torch
import torch.nn as nn

from .base import Stateless


class Snake(Stateless, nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.alpha = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        a = self.alpha[None, :, None]
        return x + torch.sin(a * x) ** 2 / (a + 1e-9)
