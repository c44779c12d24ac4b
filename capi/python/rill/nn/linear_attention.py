"""Linear-attention layers with flash-linear-attention's parameter names and shapes, so an fla
state_dict loads here with load_state_dict(strict=True) and exports to Rill (rill.export maps each
layer to projections, short convolutions, the linear_attention op and a gated RMSNorm). Input and
output are [B, T, D] (fla's convention); the recurrences are the naive ones of la_kernels.py.
recurrent_layers.py has HGRN, Mamba2 and mLSTM layers in the same style.

    GatedLinearAttention   fla.layers.GatedLinearAttention (gk low-rank, logsigmoid / 16,
                           FusedRMSNormGated output gate; num_kv_heads = num_heads)
    MultiScaleRetention    fla.layers.MultiScaleRetention (fixed decays 1 - 2^(-5-h),
                           swish output gate with FusedRMSNormGated)
    DeltaNet               fla.layers.DeltaNet (short convs + SiLU, L2 q/k, sigmoid beta)
    GatedDeltaNet          fla.layers.GatedDeltaNet (short convs, L2 q/k, softplus decay with A_log
                           and dt_bias, sigmoid beta, FusedRMSNormGated output gate)
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

