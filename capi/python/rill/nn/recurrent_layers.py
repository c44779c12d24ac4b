"""Recurrent layers in the style of linear_attention.py (same conventions: [B, T, D] in and out,
upstream parameter names, the naive recurrences of la_kernels.py), exported by rill.export:

    HGRNAttention   fla.layers.HGRNAttention: h = f h + silu(i)(1 - f), f = sigmoid(f_proj x)
                    (optionally lower-bounded, short convolutions on i and f); gated RMSNorm
    Mamba2          state-spaces/mamba Mamba2Simple / Mamba2 (in_proj -> z, xBC, dt; causal
                    depthwise conv1d + SiLU on xBC; SSD with A_log, dt_bias, D; RMSNormGated
                    with group_size d_inner / ngroups; out_proj)
    mLSTMLayer      NX-AI/xlstm mLSTMLayer (proj_up, causal conv + SiLU, block-diagonal q/k/v
                    projections, i/f gates from [q, k, v], stabilised mLSTM cell, per-head layer
                    norm, learnable skip, SiLU output gate, proj_down)"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import la_kernels as ref
from .la_common import RMSNormGated, ShortConvolution, heads, per_sequence


class HGRNAttention(nn.Module):
    """fla.layers.HGRNAttention: i, f = i_proj x, f_proj x (through i_conv1d / f_conv1d, no
    activation, with use_short_conv); log f = logsigmoid(f), with a lower bound lb for layers
    after the first: log f = log(lb + (1 - lb) sigmoid(f)); h = f h + silu(i) (1 - f);
    o_proj(g_norm(h, g_proj x)). forward's lower_bound is fla's (HGRNModel passes lower_bounds[i]);
    for export set the `lower_bound` attribute instead (a [input_dim] tensor, not saved in the
    state_dict), since rill.export takes no tensor constants in forward."""

    def __init__(self, hidden_size=1024, expand_ratio=1, use_short_conv=False, conv_size=4,
                 conv_bias=False, elementwise_affine=True, norm_eps=1e-5, mode="chunk",
                 layer_idx=None):
        super().__init__()
        self.input_dim = int(hidden_size * expand_ratio)
        self.use_short_conv, self.layer_idx = use_short_conv, layer_idx
        self.lower_bound = None
        self.i_proj = nn.Linear(hidden_size, self.input_dim, bias=False)
        self.f_proj = nn.Linear(hidden_size, self.input_dim, bias=False)
        self.g_proj = nn.Linear(hidden_size, self.input_dim, bias=False)
        if use_short_conv:
            self.f_conv1d = ShortConvolution(self.input_dim, conv_size, conv_bias, activation=None)
            self.i_conv1d = ShortConvolution(self.input_dim, conv_size, conv_bias, activation=None)
        self.g_norm = RMSNormGated(self.input_dim, eps=norm_eps,
                                   elementwise_affine=elementwise_affine)
        self.o_proj = nn.Linear(self.input_dim, hidden_size, bias=False)

    def effective_lower_bound(self, lower_bound=None):
        """The bound fla applies: none for layer 0 (or without layer_idx)."""
        lb = lower_bound if lower_bound is not None else self.lower_bound
        return lb if lb is not None and (self.layer_idx or 0) > 0 else None

    def forward(self, hidden_states, lower_bound=None):
        x = hidden_states
        i, f = self.i_proj(x), self.f_proj(x)
        if self.use_short_conv:
            i, f = self.i_conv1d(i), self.f_conv1d(f)
        f = F.logsigmoid(f)
        lb = self.effective_lower_bound(lower_bound)
        if lb is not None:
            f = torch.logaddexp(lb.log(), torch.log1p(-lb) + f)
        i = F.silu(i) * (1 - f.exp())
        o = torch.stack([ref.hgrn(i[b], f[b])[0] for b in range(x.shape[0])], 0)
        return self.o_proj(self.g_norm(o, self.g_proj(x)))


class Mamba2(nn.Module):
    """state-spaces/mamba Mamba2Simple (mamba_ssm/modules/mamba2_simple.py; its default fused
    path), and Mamba2 (modules/mamba2.py) with its options D_has_hdim, rmsnorm, norm_before_gate;
    parameter names in_proj, conv1d, dt_bias, A_log, D, norm.weight, out_proj:
    in_proj -> z, xBC, dt; xBC = silu(causal depthwise conv1d(xBC)) -> x, B, C;
    dt = softplus(dt + dt_bias); SSD with A = -exp(A_log) (B, C shared by nheads / ngroups heads)
    + D x; y = RMSNormGated(y, z) with one group per B/C group (weight [d_inner]), or
    y silu(z) without rmsnorm; out_proj. Not supported: d_ssm < d_inner (Mamba2's extra gated
    MLP), learnable_init_states, a dt_limit other than (0, inf)."""

    def __init__(self, d_model, d_state=64, d_conv=4, conv_init=None, expand=2, headdim=128,
                 ngroups=1, A_init_range=(1, 16), dt_min=0.001, dt_max=0.1, dt_init_floor=1e-4,
                 dt_limit=(0.0, float("inf")), learnable_init_states=False, activation="swish",
                 bias=False, conv_bias=True, D_has_hdim=False, rmsnorm=True,
                 norm_before_gate=False, chunk_size=256, use_mem_eff_path=True, layer_idx=None,
                 d_ssm=None):
        super().__init__()
        if learnable_init_states or tuple(dt_limit) != (0.0, float("inf")):
            raise ValueError("learnable_init_states and dt_limit are not supported")
        if d_ssm is not None and d_ssm != expand * d_model:
            raise ValueError("d_ssm < d_inner (the gated MLP part) is not supported")
        if activation not in ("silu", "swish"):
            raise ValueError("activation must be silu / swish")
        self.d_model, self.d_inner = d_model, expand * d_model
        self.d_state, self.headdim, self.ngroups = d_state, headdim, ngroups
        self.nheads = self.d_inner // headdim
        self.D_has_hdim, self.rmsnorm, self.norm_before_gate = D_has_hdim, rmsnorm, norm_before_gate
        self.conv_dim = self.d_inner + 2 * ngroups * d_state
        self.in_proj = nn.Linear(d_model, 2 * self.d_inner + 2 * ngroups * d_state + self.nheads,
                                 bias=bias)
        self.conv1d = nn.Conv1d(self.conv_dim, self.conv_dim, d_conv, groups=self.conv_dim,
                                padding=d_conv - 1, bias=conv_bias)
        if conv_init is not None:
            nn.init.uniform_(self.conv1d.weight, -conv_init, conv_init)
        dt = torch.exp(torch.rand(self.nheads) * (math.log(dt_max) - math.log(dt_min)) +
                       math.log(dt_min)).clamp(min=dt_init_floor)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.A_log = nn.Parameter(torch.log(torch.empty(self.nheads).uniform_(*A_init_range)))
        self.D = nn.Parameter(torch.ones(self.d_inner if D_has_hdim else self.nheads))
        if rmsnorm:
            self.norm = RMSNormGated(self.d_inner, eps=1e-5)
        self.out_proj = nn.Linear(self.d_inner, d_model, bias=bias)

    def forward(self, u):
        B, T, _ = u.shape
        z, xbc, dt = torch.split(self.in_proj(u), [self.d_inner, self.conv_dim, self.nheads], -1)
        xbc = F.silu(self.conv1d(xbc.transpose(1, 2))[..., :T].transpose(1, 2))
        x, Bm, Cm = torch.split(xbc, [self.d_inner, self.ngroups * self.d_state,
                                      self.ngroups * self.d_state], -1)
        dt = F.softplus(dt + self.dt_bias).transpose(1, 2)       # [B, H, T]
        group = self.nheads // self.ngroups
        Bh = heads(Bm, self.d_state).repeat_interleave(group, 1)
        Ch = heads(Cm, self.d_state).repeat_interleave(group, 1)
        D = None if self.D_has_hdim else self.D
        y = per_sequence(lambda x, dt, b, c: ref.ssd(x, dt, -self.A_log.exp(), b, c, D)[0],
                         heads(x, self.headdim), dt, Bh, Ch)
        y = y.transpose(1, 2).reshape(B, T, self.d_inner)
        if self.D_has_hdim:
            y = y + x * self.D
        if not self.rmsnorm:
            return self.out_proj(y * F.silu(z))
        # mamba's RMSNormGated, group_size d_inner / ngroups: norm_before_gate=False (the
        # default) normalises y silu(z); True gates the normalised y.
        g = (y if self.norm_before_gate else y * F.silu(z)).reshape(B, T, self.ngroups, -1)
        y = (g * torch.rsqrt(g.pow(2).mean(-1, keepdim=True) + self.norm.eps)).reshape(B, T, -1)
        y = y * self.norm.weight
        if self.norm_before_gate:
            y = y * F.silu(z)
        return self.out_proj(y)


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
        h = torch.stack([ref.mlstm(heads(q, D // NH)[b], heads(k, D // NH)[b],
                                   heads(v, D // NH)[b], i[b], f[b])[0] for b in range(B)], 0)
        h = F.group_norm(h.transpose(1, 2).reshape(B * T, D), NH, 1 + self.outnorm.weight,
                         None, self.eps)
        return h.reshape(B, T, D)


class mLSTMLayer(nn.Module):
    """NX-AI/xlstm mLSTMLayer (xlstm/blocks/mlstm/layer.py) with its mLSTMLayerConfig fields as
    keyword arguments (dropout and context_length are accepted; eval has no dropout). The cell
    runs the stabilised recurrence (xlstm's recurrent_step_stabilized_simple, the form Rill
    streams); xlstm's forward uses the parallel form, whose stabiliser m leaves out the zero
    initial state: the outputs differ only through the 1e-6 of the denominator, below 1e-6
    relative (checked against xlstm's layer: 4.5e-8 relative in float64)."""

    def __init__(self, embedding_dim, num_heads=4, proj_factor=2.0, conv1d_kernel_size=4,
                 qkv_proj_blocksize=4, bias=False, round_proj_up_to_multiple_of=64,
                 round_proj_up_dim_up=True, dropout=0.0, context_length=-1):
        super().__init__()
        m = round_proj_up_to_multiple_of
        rounding = math.ceil if round_proj_up_dim_up else math.floor
        inner = int(rounding(proj_factor * embedding_dim / m) * m)
        self.inner_dim, self.num_heads = inner, num_heads
        self.proj_up = nn.Linear(embedding_dim, 2 * inner, bias=bias)
        proj_heads = round(inner // qkv_proj_blocksize)
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
