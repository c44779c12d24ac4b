"""PyTorch reference modules of Rill's ops, each with an offline forward on [B, C, T] and a
streaming mode (start_stream / stream, see base.py) whose output equals the offline output
delayed by the reported latency. Parameter names follow the PyTorch layers they mirror.

    conv.py        Conv1d (explicit (left, right) padding), ConvTranspose1d -> conv1d,
                   conv_transpose1d
    linear.py      Linear (per frame on the channel axis)                   -> linear
    stft.py        STFT, ISTFT                                              -> stft, istft
    norm.py        GroupNorm (frame | cumulative), LayerNorm, CumulativeLayerNorm
                                                                            -> group_norm
    activation.py  Snake (the other activations are torch.nn's)             -> snake
    film.py        FiLM driven by named model parameters                    -> film
    recurrent.py   LSTM, GRU, Recurrent (wraps nn.LSTM / nn.GRU)            -> lstm, gru
    delay.py       Delay                                                    -> delay
    conv_tasnet.py ConvTasNet (asteroid's Conv-TasNet, its state_dict names; exported whole by
                   export_conv_tasnet.py)   -> conv1d, group_norm, prelu, linear, add, mul,
                                               softmax, conv_transpose1d, concat
    rave_blocks.py RAVE's decoder blocks (acids-ircam/RAVE rave/blocks.py, its state_dict names,
                   weight norm folded on load): Residual, ResidualLayer, ResidualBlock,
                   ResidualStack, UpsampleLayer, DilatedUnit, Generator, GeneratorV2, AudioRate
                   (traced through by rill.export)   -> conv1d, conv_transpose1d, leaky_relu,
                                                        add, split, sigmoid, mul, tanh
    la_kernels.py  naive recurrences of every linear-attention variant (test oracles)
    linear_attention.py  fla layers: GatedLinearAttention, MultiScaleRetention, DeltaNet,
                   GatedDeltaNet, KimiDeltaAttention         -> linear_attention (+ rotary)
    recurrent_layers.py  HGRNAttention, Mamba2, mLSTMLayer           -> hgrn, linear_attention
    wavehax.py     Wavehax vocoder (chomeyama/wavehax, its state_dict names): WavehaxGenerator,
                   AudioRate (the exported form; rill.export_wavehax) -> frame, harmonic_prior,
                   stft, slice, conv1d, concat, conv2d_ft, layer_norm, gelu, add, istft
    mossformer2.py MossFormer (ClearerVoice-Studio's MossFormer2 separator, its state_dict names;
                   blocks in mossformer2_blocks.py; the streaming variant is exported whole by
                   export_mossformer2.py) -> conv1d, group_norm, layer_norm, l2_norm, affine,
                   rotary, linear_attention, delay, linear, prelu, silu, conv_transpose1d, ...
    frcrn.py       FRCRN (ClearerVoice-Studio frcrn_se, class DCCRN, its state_dict names; layers
                   in frcrn_layers.py), Enhancer (the exported form; rill.export_frcrn)
                                    -> stft, conv2d_ft, conv_transpose2d_ft, leaky_relu, relu,
                                       group_mean, linear, sigmoid, split, add, sub, mul, concat,
                                       tanh, istft
    la_common.py   fla's ShortConvolution, RMSNorm(Gated), RotaryEmbedding, ACT2FN subsets
                                                                     -> conv1d, rms_norm, rotary
"""

from .activation import Snake
from .base import Sequential, Stateless, start_stream, stream
from .conv import Conv1d, ConvTranspose1d
from .conv_tasnet import ConvTasNet
from .delay import Delay
from .film import FiLM
from .frcrn import DCCRN
from .frcrn import Enhancer as FrcrnEnhancer
from .linear_attention import (DeltaNet, GatedDeltaNet, GatedLinearAttention,
                               KimiDeltaAttention, MultiScaleRetention)
from .linear import Linear
from .mossformer2 import MossFormer
from .norm import CumulativeLayerNorm, GroupNorm, LayerNorm
from .recurrent import GRU, LSTM, Recurrent
from .rave_blocks import (DilatedUnit, Generator, GeneratorV2, Residual, ResidualBlock,
                          ResidualLayer, ResidualStack, UpsampleLayer)
from .recurrent_layers import HGRNAttention, Mamba2, mLSTMLayer
from .stft import ISTFT, STFT
from .wavehax import AudioRate as WavehaxAudioRate
from .wavehax import WavehaxGenerator

__all__ = ["Conv1d", "ConvTranspose1d", "ConvTasNet", "CumulativeLayerNorm", "DCCRN", "Delay", "DeltaNet", "FiLM", "FrcrnEnhancer", "GRU",
           "GatedDeltaNet", "GatedLinearAttention", "HGRNAttention", "KimiDeltaAttention",
           "Mamba2", "MossFormer", "MultiScaleRetention", "mLSTMLayer", "DilatedUnit",
           "Generator", "GeneratorV2",
           "Residual", "ResidualBlock", "ResidualLayer", "ResidualStack", "UpsampleLayer",
           "GroupNorm", "ISTFT", "LSTM", "LayerNorm", "Linear", "Recurrent", "STFT",
           "Sequential", "Snake", "Stateless", "WavehaxAudioRate", "WavehaxGenerator",
           "start_stream", "stream"]
