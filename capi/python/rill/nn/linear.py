"""Per-frame channel mixing on [B, C, T], the reference of the linear op:
    y[:, :, t] = weight @ x[:, :, t] + bias     (nn.Linear on the channel axis; a 1x1 conv)
Parameter names are those of nn.Linear, so its state_dict loads directly."""

import torch.nn as nn
import torch.nn.functional as F

from .base import Stateless


class Linear(Stateless, nn.Linear):
    def forward(self, x):
        return F.linear(x.transpose(1, 2), self.weight, self.bias).transpose(1, 2)
