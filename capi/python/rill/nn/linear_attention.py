"""Linear-attention layers with flash-linear-attention's parameter names and shapes, so an fla
state_dict loads here with load_state_dict(strict=True) and exports to Rill (rill.export maps each
layer to projections, short convolutions, the linear_attention op and a gated RMSNorm). Input and
output are [B, T, D] (fla's convention); the recurrences are the naive ones of la_kernels.py.

    GatedLinearAttention   fla.layers.GatedLinearAttention (gk low-rank, logsigmoid / 16,
                           FusedRMSNormGated output gate; num_kv_heads = num_heads)
    MultiScaleRetention    fla.layers.MultiScaleRetention (fixed decays 1 - 2^(-5-h),
                           swish output gate with FusedRMSNormGated)
    DeltaNet               fla.layers.DeltaNet (short convs + SiLU, L2 q/k, sigmoid beta)
    GatedDeltaNet          fla.layers.GatedDeltaNet (short convs, L2 q/k, softplus decay with A_log
                           and dt_bias, sigmoid beta, FusedRMSNormGated output gate)
    HGRNAttention          fla.layers.HGRNAttention (first-layer form: no lower bound, no short
                           convolutions): h = f h + silu(i)(1 - f), f = sigmoid(f_proj x)
    Mamba2                 mamba_ssm Mamba2 (in_proj -> z, xBC, dt; causal depthwise conv1d + SiLU on
                           xBC; SSD with A_log, dt_bias, D; RMSNormGated(norm_before_gate=False)
                           with group_size d_inner / ngroups; out_proj)
    mLSTMLayer             NX-AI/xlstm mLSTMLayer (proj_up, causal conv + SiLU, block-diagonal
                           q/k/v projections, i/f gates from [q, k, v], stabilised mLSTM cell,
                           per-head layer norm, learnable skip, SiLU output gate, proj_down)
    KimiDeltaAttention     fla.layers.KimiDeltaAttention (per-key-channel decay from a low-rank
                           f_proj, value heads >= q/k heads, sigmoid-gated RMSNorm)

Parameter names checked against fla-org/flash-linear-attention (fla/layers/gla.py,
multiscale_retention.py, delta_net.py, gated_deltanet.py; fla/modules/convolution.py,
fused_norm_gate.py, layernorm.py): q_proj, k_proj, v_proj, g_proj, gk_proj.0, gk_proj.1, b_proj,
a_proj, A_log, dt_bias, q_conv1d.weight, k_conv1d.weight, v_conv1d.weight, g_norm_swish_gate.weight,
o_norm.weight, o_proj."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import la_kernels as ref


class ShortConvolution(nn.Conv1d):
    """fla ShortConvolution: a causal depthwise conv over time (weight [C, 1, k]) then SiLU.
    forward takes and returns [B, T, C] (fla also returns a cache; streaming here is Rill's)."""

    def __init__(self, hidden_size, kernel_size, bias=False, activation="silu"):
        super().__init__(hidden_size, hidden_size, kernel_size, groups=hidden_size, bias=bias,
                         padding=kernel_size - 1)
        if activation not in ("silu", None):
            raise ValueError("activation must be 'silu' or None")
        self.activation = activation

    def forward(self, x):
        y = super().forward(x.transpose(1, 2))[..., :x.shape[1]].transpose(1, 2)
        return F.silu(y) if self.activation == "silu" else y


class RMSNormGated(nn.Module):
    """fla FusedRMSNormGated: x / sqrt(mean(x^2) + eps) * weight * act(g) over the last axis (one
    head's D values), act = silu ("swish") or sigmoid; weight [D] shared by the heads.
    gate=False: fla RMSNorm."""

    def __init__(self, hidden_size, eps=1e-5, gate=True, activation="swish"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden_size))
        self.eps, self.gate, self.activation = eps, gate, activation

    def forward(self, x, g=None):
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight
        if not self.gate:
            return y
        return y * (F.silu(g) if self.activation == "swish" else torch.sigmoid(g))


def _heads(x, d):
    """[B, T, H*d] -> [B, H, T, d]"""
    B, T, _ = x.shape
    return x.reshape(B, T, -1, d).transpose(1, 2)


def _per_sequence(fn, *xs):
    """Runs a head-first kernel (la_kernels) per batch element: xs are [B, H, T, ...]."""
    return torch.stack([fn(*(x[b] for x in xs)) for b in range(xs[0].shape[0])], 0)


class _Layer(nn.Module):
    def _output(self, o, hidden_states):
        """o [B, H, T, Dv] -> gated norm per head -> o_proj, [B, T, D]."""
        B, H, T, Dv = o.shape
        o = o.transpose(1, 2)                                    # [B, T, H, Dv]
        norm = self.o_norm if hasattr(self, "o_norm") else self.g_norm_swish_gate
        if getattr(self, "use_gate", True):
            g = self.g_proj(hidden_states).reshape(B, T, H, Dv)
            o = norm(o, g)
        else:
            o = norm(o)
        return self.o_proj(o.reshape(B, T, H * Dv))


class GatedLinearAttention(_Layer):
    def __init__(self, hidden_size=1024, expand_k=0.5, expand_v=1.0, num_heads=4,
                 use_short_conv=False, conv_size=4, conv_bias=False, norm_eps=1e-5,
                 gate_logit_normalizer=16, gate_low_rank_dim=16, clamp_min=None):
        super().__init__()
        self.num_heads = num_heads
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        self.use_short_conv, self.conv_size = use_short_conv, conv_size
        self.gate_logit_normalizer, self.clamp_min = gate_logit_normalizer, clamp_min
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        if use_short_conv:
            self.q_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.k_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.v_conv1d = ShortConvolution(self.value_dim, conv_size, conv_bias)
        self.gk_proj = nn.Sequential(nn.Linear(hidden_size, gate_low_rank_dim, bias=False),
                                     nn.Linear(gate_low_rank_dim, self.key_dim, bias=True))
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)
        self.g_norm_swish_gate = RMSNormGated(self.head_v_dim, eps=norm_eps)

    def forward(self, hidden_states):
        x = hidden_states
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.use_short_conv:
            q, k, v = self.q_conv1d(q), self.k_conv1d(k), self.v_conv1d(v)
        gk = F.logsigmoid(self.gk_proj(x)) / self.gate_logit_normalizer
        if self.clamp_min is not None:
            gk = gk.clamp_min(self.clamp_min)
        o = _per_sequence(lambda q, k, v, g: ref.gated_recurrence(q, k, v, g)[0],
                          _heads(q, self.head_k_dim), _heads(k, self.head_k_dim),
                          _heads(v, self.head_v_dim), _heads(gk, self.head_k_dim))
        return self._output(o, x)


class MultiScaleRetention(_Layer):
    def __init__(self, hidden_size=1024, expand_k=1.0, expand_v=2.0, num_heads=8, norm_eps=1e-5):
        super().__init__()
        self.num_heads = num_heads
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.g_norm_swish_gate = RMSNormGated(self.head_v_dim, eps=norm_eps)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states):
        x = hidden_states
        H, T = self.num_heads, x.shape[1]
        g = torch.log(1 - 2.0 ** (-5.0 - torch.arange(H, dtype=x.dtype)))[:, None].expand(H, T)
        o = _per_sequence(lambda q, k, v: ref.gated_recurrence(q, k, v, g)[0],
                          _heads(self.q_proj(x), self.head_k_dim),
                          _heads(self.k_proj(x), self.head_k_dim),
                          _heads(self.v_proj(x), self.head_v_dim))
        return self._output(o, x)


class DeltaNet(_Layer):
    def __init__(self, hidden_size=1024, expand_k=1.0, expand_v=1.0, num_heads=4, use_gate=False,
                 use_short_conv=True, conv_size=4, conv_bias=False, allow_neg_eigval=False,
                 norm_eps=1e-5):
        super().__init__()
        self.num_heads, self.use_gate, self.allow_neg_eigval = num_heads, use_gate, allow_neg_eigval
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        self.use_short_conv = use_short_conv
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.b_proj = nn.Linear(hidden_size, num_heads, bias=False)
        if use_short_conv:
            self.q_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.k_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.v_conv1d = ShortConvolution(self.value_dim, conv_size, conv_bias)
        if use_gate:
            self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.o_norm = RMSNormGated(self.head_v_dim, eps=norm_eps, gate=use_gate)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def _beta(self, x):
        beta = torch.sigmoid(self.b_proj(x)).transpose(1, 2)    # [B, H, T]
        return beta * 2 if self.allow_neg_eigval else beta

    def _qkv(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.use_short_conv:
            q, k, v = self.q_conv1d(q), self.k_conv1d(k), self.v_conv1d(v)
        l2 = lambda t: t / (t.pow(2).sum(-1, keepdim=True) + 1e-6).sqrt()  # noqa: E731
        return (l2(_heads(q, self.head_k_dim)), l2(_heads(k, self.head_k_dim)),
                _heads(v, self.head_v_dim))

    def forward(self, hidden_states):
        q, k, v = self._qkv(hidden_states)
        o = _per_sequence(lambda q, k, v, b: ref.gated_delta(q, k, v, b)[0], q, k, v,
                          self._beta(hidden_states))
        return self._output(o, hidden_states)


class GatedDeltaNet(DeltaNet):
    def __init__(self, hidden_size=2048, expand_v=2, head_dim=256, num_heads=6, use_gate=True,
                 use_short_conv=True, conv_size=4, conv_bias=False, allow_neg_eigval=False,
                 norm_eps=1e-5):
        nn.Module.__init__(self)
        self.num_heads, self.use_gate, self.allow_neg_eigval = num_heads, use_gate, allow_neg_eigval
        self.head_k_dim, self.head_v_dim = head_dim, int(head_dim * expand_v)
        self.key_dim, self.value_dim = num_heads * head_dim, num_heads * self.head_v_dim
        self.use_short_conv = use_short_conv
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.a_proj = nn.Linear(hidden_size, num_heads, bias=False)
        self.b_proj = nn.Linear(hidden_size, num_heads, bias=False)
        self.A_log = nn.Parameter(torch.log(torch.empty(num_heads).uniform_(1, 16)))
        dt = torch.exp(torch.rand(num_heads) * (math.log(0.1) - math.log(0.001)) +
                       math.log(0.001)).clamp(min=1e-4)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        if use_short_conv:
            self.q_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.k_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.v_conv1d = ShortConvolution(self.value_dim, conv_size, conv_bias)
        if use_gate:
            self.g_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        self.o_norm = RMSNormGated(self.head_v_dim, eps=norm_eps, gate=use_gate)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states):
        x = hidden_states
        q, k, v = self._qkv(x)
        g = (-self.A_log.exp() * F.softplus(self.a_proj(x) + self.dt_bias)).transpose(1, 2)
        o = _per_sequence(lambda q, k, v, b, g: ref.gated_delta(q, k, v, b, g)[0], q, k, v,
                          self._beta(x), g)
        return self._output(o, x)


class KimiDeltaAttention(DeltaNet):
    def __init__(self, hidden_size=2048, expand_v=1, head_dim=128, num_heads=16, num_v_heads=None,
                 use_short_conv=True, conv_size=4, conv_bias=False, allow_neg_eigval=False,
                 norm_eps=1e-5):
        nn.Module.__init__(self)
        H = num_heads
        HV = num_v_heads if num_v_heads is not None else num_heads
        if HV % H:
            raise ValueError("num_v_heads must be a multiple of num_heads")
        self.num_heads, self.num_v_heads, self.use_gate = HV, HV, True
        self.num_qk_heads, self.allow_neg_eigval = H, allow_neg_eigval
        self.head_k_dim, self.head_v_dim = head_dim, int(head_dim * expand_v)
        self.key_dim, self.value_dim = H * head_dim, HV * self.head_v_dim
        self.use_short_conv = use_short_conv
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        if use_short_conv:
            self.q_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.k_conv1d = ShortConvolution(self.key_dim, conv_size, conv_bias)
            self.v_conv1d = ShortConvolution(self.value_dim, conv_size, conv_bias)
        gate_dim = HV * head_dim
        self.f_proj = nn.Sequential(nn.Linear(hidden_size, self.head_v_dim, bias=False),
                                    nn.Linear(self.head_v_dim, gate_dim, bias=False))
        self.b_proj = nn.Linear(hidden_size, HV, bias=False)
        self.A_log = nn.Parameter(torch.log(torch.empty(HV).uniform_(1, 16)))
        dt = torch.exp(torch.rand(gate_dim) * (math.log(0.1) - math.log(0.001)) +
                       math.log(0.001)).clamp(min=1e-4)
        self.dt_bias = nn.Parameter(dt + torch.log(-torch.expm1(-dt)))
        self.g_proj = nn.Sequential(nn.Linear(hidden_size, self.head_v_dim, bias=False),
                                    nn.Linear(self.head_v_dim, self.value_dim, bias=True))
        self.o_norm = RMSNormGated(self.head_v_dim, eps=norm_eps, activation="sigmoid")
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states):
        x = hidden_states
        HV, K = self.num_v_heads, self.head_k_dim
        q, k, v = self._qkv(x)
        group = HV // self.num_qk_heads
        q, k = q.repeat_interleave(group, 1), k.repeat_interleave(group, 1)
        f = _heads(self.f_proj(x) + self.dt_bias, K)                     # [B, HV, T, K]
        g = -self.A_log.exp()[None, :, None, None] * F.softplus(f)
        o = _per_sequence(lambda q, k, v, b, g: ref.gated_delta(q, k, v, b, g)[0], q, k, v,
                          self._beta(x), g)
        return self._output(o, x)


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
