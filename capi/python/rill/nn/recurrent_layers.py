"""Recurrent layers in the style of linear_attention.py (same conventions: [B, T, D] in and out,
upstream parameter names, the naive recurrences of la_kernels.py), exported by rill.export:

    HGRNAttention   fla.layers.HGRNAttention (first-layer form: no lower bound, no short
                    convolutions): h = f h + silu(i)(1 - f), f = sigmoid(f_proj x); gated RMSNorm
    Mamba2          state-spaces/mamba Mamba2 (in_proj -> z, xBC, dt; causal depthwise conv1d +
                    SiLU on xBC; SSD with A_log, dt_bias, D; RMSNormGated(norm_before_gate=False)
                    with group_size d_inner / ngroups; out_proj)
    mLSTMLayer      NX-AI/xlstm mLSTMLayer (proj_up, causal conv + SiLU, block-diagonal q/k/v
                    projections, i/f gates from [q, k, v], stabilised mLSTM cell, per-head layer
                    norm, learnable skip, SiLU output gate, proj_down)"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import la_kernels as ref
from .linear_attention import RMSNormGated, _heads, _per_sequence


class HGRNAttention(nn.Module):
    def __init__(self, hidden_size=1024, expand_ratio=1, norm_eps=1e-5):
        super().__init__()
        self.input_dim = int(hidden_size * expand_ratio)
        self.i_proj = nn.Linear(hidden_size, self.input_dim, bias=False)
        self.f_proj = nn.Linear(hidden_size, self.input_dim, bias=False)
        self.g_proj = nn.Linear(hidden_size, self.input_dim, bias=False)
        self.g_norm = RMSNormGated(self.input_dim, eps=norm_eps)
        self.o_proj = nn.Linear(self.input_dim, hidden_size, bias=False)

    def forward(self, hidden_states):
        x = hidden_states
        f = F.logsigmoid(self.f_proj(x))
        i = F.silu(self.i_proj(x)) * (1 - f.exp())
        o = torch.stack([ref.hgrn(i[b], f[b])[0] for b in range(x.shape[0])], 0)
        return self.o_proj(self.g_norm(o, self.g_proj(x)))


class Mamba2(nn.Module):
    """state-spaces/mamba Mamba2 (the sequential path, parameter names in_proj, conv1d, dt_bias,
    A_log, D, norm.weight, out_proj)."""

    def __init__(self, d_model, d_state=64, d_conv=4, expand=2, headdim=64, ngroups=1,
                 norm_eps=1e-5, conv_bias=True, bias=False):
        super().__init__()
        self.d_inner = expand * d_model
        self.d_state, self.headdim, self.ngroups = d_state, headdim, ngroups
        self.nheads = self.d_inner // headdim
        self.conv_dim = self.d_inner + 2 * ngroups * d_state
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner + 2 * ngroups * d_state + self.nheads,
                                 bias=bias)
        self.conv1d = nn.Conv1d(self.conv_dim, self.conv_dim, d_conv, groups=self.conv_dim,
                                padding=d_conv - 1, bias=conv_bias)
        dt = torch.exp(torch.rand(self.nheads) * (math.log(0.1) - math.log(0.001)) +
                       math.log(0.001)).clamp(min=1e-4)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(torch.log(torch.empty(self.nheads).uniform_(1, 16)))
        self.D = nn.Parameter(torch.ones(self.nheads))
        self.norm = RMSNormGated(self.d_inner // ngroups, eps=norm_eps)
        self.norm.gate_first = True
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)

    def forward(self, u):
        B, T, _ = u.shape
        z, xbc, dt = torch.split(self.in_proj(u), [self.d_inner, self.conv_dim, self.nheads], -1)
        xbc = F.silu(self.conv1d(xbc.transpose(1, 2))[..., :T].transpose(1, 2))
        x, Bm, Cm = torch.split(xbc, [self.d_inner, self.ngroups * self.d_state,
                                      self.ngroups * self.d_state], -1)
        dt = F.softplus(dt + self.dt_bias).transpose(1, 2)       # [B, H, T]
        group = self.nheads // self.ngroups
        Bh = _heads(Bm, self.d_state).repeat_interleave(group, 1)
        Ch = _heads(Cm, self.d_state).repeat_interleave(group, 1)
        y = _per_sequence(lambda x, dt, b, c: ref.ssd(x, dt, -self.A_log.exp(), b, c, self.D)[0],
                          _heads(x, self.headdim), dt, Bh, Ch)
        y = y.transpose(1, 2).reshape(B, T, self.d_inner)
        # RMSNormGated(norm_before_gate=False): rms(y silu(z)) * weight, per group.
        g = (y * F.silu(z)).reshape(B, T, self.ngroups, -1)
        y = g * torch.rsqrt(g.pow(2).mean(-1, keepdim=True) + self.norm.eps) * self.norm.weight
        return self.out_proj(y.reshape(B, T, self.d_inner))


class LinearHeadwiseExpand(nn.Module):
    """xlstm LinearHeadwiseExpand: a block-diagonal linear map, weight [heads, out/heads, in/heads]:
    y[..., h, o] = sum_d x[..., h, d] weight[h, o, d] (+ bias)."""

    def __init__(self, in_features, num_heads, bias=False):
        super().__init__()
        self.num_heads = num_heads
        d = in_features // num_heads
        self.weight = nn.Parameter(torch.randn(num_heads, d, d) * math.sqrt(2 / 5 / d))
        self.bias = nn.Parameter(torch.zeros(in_features)) if bias else None

    def forward(self, x):
        shape = x.shape
        y = torch.einsum("...hd,hod->...ho", x.reshape(*shape[:-1], self.num_heads, -1),
                         self.weight).reshape(shape)
        return y + self.bias if self.bias is not None else y

    def dense_weight(self):
        return torch.block_diag(*self.weight)


class _CausalConv1d(nn.Module):
    """xlstm CausalConv1d: a depthwise conv (module `conv`, with bias), causal."""

    def __init__(self, feature_dim, kernel_size):
        super().__init__()
        self.conv = nn.Conv1d(feature_dim, feature_dim, kernel_size, padding=kernel_size - 1,
                              groups=feature_dim, bias=True)

    def forward(self, x):                                   # [B, T, C]
        return self.conv(x.transpose(1, 2))[..., :x.shape[1]].transpose(1, 2)


class _mLSTMCell(nn.Module):
    def __init__(self, embedding_dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.igate = nn.Linear(3 * embedding_dim, num_heads)
        self.fgate = nn.Linear(3 * embedding_dim, num_heads)
        self.outnorm = nn.Module()
        self.outnorm.weight = nn.Parameter(torch.zeros(embedding_dim))  # used as 1 + weight
        self.eps = 1e-5

    def forward(self, q, k, v):
        B, T, D = q.shape
        NH = self.num_heads
        qkv = torch.cat([q, k, v], -1)
        i = self.igate(qkv).transpose(1, 2)                 # [B, NH, T]
        f = self.fgate(qkv).transpose(1, 2)
        h = torch.stack([ref.mlstm(_heads(q, D // NH)[b], _heads(k, D // NH)[b],
                                   _heads(v, D // NH)[b], i[b], f[b])[0] for b in range(B)], 0)
        h = F.group_norm(h.transpose(1, 2).reshape(B * T, D), NH, 1 + self.outnorm.weight,
                         None, self.eps)
        return h.reshape(B, T, D)


class mLSTMLayer(nn.Module):
    def __init__(self, embedding_dim, num_heads=4, proj_factor=2.0, conv1d_kernel_size=4,
                 qkv_proj_blocksize=4, bias=False, round_proj_up_to_multiple_of=64):
        super().__init__()
        m = round_proj_up_to_multiple_of
        inner = int(math.ceil(proj_factor * embedding_dim / m) * m)
        self.inner_dim, self.num_heads = inner, num_heads
        self.proj_up = nn.Linear(embedding_dim, 2 * inner, bias=bias)
        proj_heads = inner // qkv_proj_blocksize
        self.q_proj = LinearHeadwiseExpand(inner, proj_heads, bias)
        self.k_proj = LinearHeadwiseExpand(inner, proj_heads, bias)
        self.v_proj = LinearHeadwiseExpand(inner, proj_heads, bias)
        self.conv1d = _CausalConv1d(inner, conv1d_kernel_size)
        self.mlstm_cell = _mLSTMCell(inner, num_heads)
        self.learnable_skip = nn.Parameter(torch.ones(inner))
        self.proj_down = nn.Linear(inner, embedding_dim, bias=bias)

    def forward(self, x):
        x_mlstm, z = torch.split(self.proj_up(x), self.inner_dim, -1)
        xc = F.silu(self.conv1d(x_mlstm))
        h = self.mlstm_cell(self.q_proj(xc), self.k_proj(xc), self.v_proj(x_mlstm))
        return self.proj_down((h + self.learnable_skip * xc) * F.silu(z))
