"""PyTorch reference modules of Rill's ops, each with an offline forward and a streaming mode
(start_stream / stream, see base.py). Parameter names follow the PyTorch layers they mirror."""

from .activation import Snake
from .base import Sequential, Stateless
from .conv import Conv1d, ConvTranspose1d
from .film import FiLM
from .norm import CumulativeLayerNorm, GroupNorm
from .recurrent import Delay, Recurrent
from .stft import ISTFT, STFT

__all__ = ["Conv1d", "ConvTranspose1d", "CumulativeLayerNorm", "Delay", "FiLM", "GroupNorm",
           "ISTFT", "Recurrent", "STFT", "Sequential", "Snake", "Stateless"]
