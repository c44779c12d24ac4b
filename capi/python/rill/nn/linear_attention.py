"""Linear-attention layers with flash-linear-attention's parameter names and shapes, so an fla
state_dict loads here with load_state_dict(strict=True) and exports to Rill (rill.export maps each
layer to projections, short convolutions, the linear_attention op and a gated RMSNorm). Input and
output are [B, T, D] (fla's convention; fla's layers return (o, None, cache), these return o);
the recurrences are the naive ones of la_kernels.py. recurrent_layers.py has HGRN, Mamba2 and
mLSTM layers in the same style.

    GatedLinearAttention   fla.layers.GatedLinearAttention (gk low-rank, logsigmoid / 16,
                           FusedRMSNormGated output gate; num_kv_heads, feature_map)
    MultiScaleRetention    fla.layers.MultiScaleRetention (rotary q/k, fixed decays
                           1 - 2^(-5-h), swish output gate with FusedRMSNormGated)
    DeltaNet               fla.layers.DeltaNet (short convs + SiLU, L2 q/k, sigmoid beta)
    GatedDeltaNet          fla.layers.GatedDeltaNet (short convs, L2 q/k, softplus decay with A_log
                           and dt_bias, sigmoid beta, FusedRMSNormGated output gate; num_v_heads)
    KimiDeltaAttention     fla.layers.KimiDeltaAttention (per-key-channel decay from a low-rank
                           f_proj, value heads >= q/k heads, sigmoid-gated RMSNorm, lower_bound)

Keyword arguments are fla's (mode and layer_idx are accepted and ignored: Rill picks the
recurrent or chunkwise form by block size); the first positional argument is hidden_size.
Not supported: fla's attention masks / cu_seqlens / caches (a Rill stream carries the state),
DeltaNet's qk_norm='sum' in the exporter (the PyTorch forward has it).

Parameter names and shapes checked against fla-org/flash-linear-attention (fla/layers/gla.py,
multiscale_retention.py, delta_net.py, gated_deltanet.py, kda.py; fla/modules/conv/short_conv.py,
fused_norm_gate.py, layernorm.py, rotary.py) by building fla's layers and comparing state_dicts:
q_proj, k_proj, v_proj, g_proj, gk_proj.0, gk_proj.1 (weight, bias), f_proj.0, f_proj.1,
g_proj.0, g_proj.1 (KDA), b_proj, a_proj, A_log, dt_bias, q_conv1d.weight, k_conv1d.weight,
v_conv1d.weight (+ .bias with conv_bias), g_norm_swish_gate.weight, g_norm.weight,
o_norm.weight, o_proj.weight; rotary.inv_freq is a non-persistent buffer."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import la_kernels as ref
from .la_common import (HF_ACT2FN, OutputMixin, RMSNormGated, RotaryEmbedding, ShortConvolution,
                        activation, heads, l2norm, per_sequence)

__all__ = ["GatedLinearAttention", "MultiScaleRetention", "DeltaNet", "GatedDeltaNet",
           "KimiDeltaAttention", "RMSNormGated", "RotaryEmbedding", "ShortConvolution"]


def _dt_bias(n):
    """fla / mamba's dt_bias init: inverse softplus of dt log-uniform in [1e-3, 1e-1]."""
    dt = torch.exp(torch.rand(n) * (math.log(0.1) - math.log(0.001)) + math.log(0.001))
    dt = dt.clamp(min=1e-4)
    return nn.Parameter(dt + torch.log(-torch.expm1(-dt)))


class _Layer(OutputMixin, nn.Module):
    def _convs(self, key_dim, kv_key_dim, kv_value_dim, conv_size, conv_bias, qk_act="silu"):
        self.q_conv1d = ShortConvolution(key_dim, conv_size, conv_bias, activation=qk_act)
        self.k_conv1d = ShortConvolution(kv_key_dim, conv_size, conv_bias, activation=qk_act)
        self.v_conv1d = ShortConvolution(kv_value_dim, conv_size, conv_bias)

    def _qkv(self, x):
        """q, k, v projections, through the short convolutions when the layer has them."""
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.use_short_conv:
            return self.q_conv1d(q), self.k_conv1d(k), self.v_conv1d(v)
        return q, k, v

    def _kv_heads(self, x, d):
        """[B, T, Hkv*d] -> [B, H, T, d], each key/value head shared by num_kv_groups heads."""
        return heads(x, d).repeat_interleave(self.num_kv_groups, 1)


class GatedLinearAttention(_Layer):
    """fla.layers.gla.GatedLinearAttention, fla's defaults (hidden 1024, expand_k 0.5, 4 heads,
    no short conv, gate_logit_normalizer 16, low-rank 16): gk = logsigmoid(gk_proj x) / 16
    (clamp_min), S = diag(exp(gk)) S + k v^T, o = S^T q / sqrt(K); FusedRMSNormGated(swish) per
    head, o_proj. feature_map / gate_fn are names of fla's ACT2FN (la_common.FLA_ACT2FN)."""

    def __init__(self, hidden_size=1024, expand_k=0.5, expand_v=1.0, num_heads=4,
                 num_kv_heads=None, feature_map=None, use_short_conv=False, conv_size=4,
                 conv_bias=False, use_output_gate=True, gate_fn="swish", elementwise_affine=True,
                 norm_eps=1e-5, gate_logit_normalizer=16, gate_low_rank_dim=16, clamp_min=None,
                 fuse_norm=True, mode="chunk", layer_idx=None):
        super().__init__()
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads if num_kv_heads is not None else num_heads
        self.num_kv_groups = num_heads // self.num_kv_heads
        self.feature_map = feature_map
        activation(feature_map)
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        kv_k, kv_v = self.key_dim // self.num_kv_groups, self.value_dim // self.num_kv_groups
        self.use_short_conv, self.conv_size = use_short_conv, conv_size
        self.gate_logit_normalizer, self.clamp_min = gate_logit_normalizer, clamp_min
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, kv_k, bias=False)
        self.v_proj = nn.Linear(hidden_size, kv_v, bias=False)
        if use_short_conv:
            self._convs(self.key_dim, kv_k, kv_v, conv_size, conv_bias)
        self.gk_proj = nn.Sequential(nn.Linear(hidden_size, gate_low_rank_dim, bias=False),
                                     nn.Linear(gate_low_rank_dim, kv_k, bias=True))
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)
        self._make_output(hidden_size, self.value_dim, self.head_v_dim, use_output_gate,
                          "g_norm_swish_gate", norm_eps, gate_fn, fuse_norm, elementwise_affine)

    def forward(self, hidden_states):
        x = hidden_states
        q, k, v = self._qkv(x)
        q, k = heads(q, self.head_k_dim), self._kv_heads(k, self.head_k_dim)
        v, gk = self._kv_heads(v, self.head_v_dim), self._kv_heads(self.gk_proj(x), self.head_k_dim)
        gk = F.logsigmoid(gk) / self.gate_logit_normalizer
        if self.clamp_min is not None:
            gk = gk.clamp_min(self.clamp_min)
        if self.feature_map is not None:
            q, k = activation(self.feature_map)(q), activation(self.feature_map)(k)
        o = per_sequence(lambda q, k, v, g: ref.gated_recurrence(q, k, v, g)[0], q, k, v, gk)
        return self._output(o, x)


class MultiScaleRetention(_Layer):
    """fla.layers.multiscale_retention.MultiScaleRetention, fla's defaults (hidden 1024, expand_k
    1, expand_v 2, 8 heads): q, k rotated by RoPE (fla RotaryEmbedding(head_k_dim)), retention
    decay gamma_h = 1 - 2^(-5-h), o = S^T q / sqrt(K); FusedRMSNormGated(swish) per head, o_proj.
    feature_map / gate_fn are names of transformers' ACT2FN (la_common.HF_ACT2FN)."""

    act_table = HF_ACT2FN  # fla's retention layer takes transformers' ACT2FN

    def __init__(self, hidden_size=1024, expand_k=1.0, expand_v=2.0, num_heads=8,
                 num_kv_heads=None, feature_map=None, use_short_conv=False, conv_size=4,
                 conv_bias=False, use_output_gate=True, gate_fn="swish", elementwise_affine=True,
                 norm_eps=1e-5, fuse_norm=True, mode="chunk", layer_idx=None):
        super().__init__()
        self.num_heads = num_heads
        self.num_kv_heads = num_kv_heads if num_kv_heads is not None else num_heads
        self.num_kv_groups = num_heads // self.num_kv_heads
        self.feature_map = feature_map
        activation(feature_map, HF_ACT2FN)
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        kv_k, kv_v = self.key_dim // self.num_kv_groups, self.value_dim // self.num_kv_groups
        self.use_short_conv, self.conv_size = use_short_conv, conv_size
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, kv_k, bias=False)
        self.v_proj = nn.Linear(hidden_size, kv_v, bias=False)
        self._make_output(hidden_size, self.value_dim, self.head_v_dim, use_output_gate,
                          "g_norm_swish_gate", norm_eps, gate_fn, fuse_norm, elementwise_affine)
        if use_short_conv:
            self._convs(self.key_dim, kv_k, kv_v, conv_size, conv_bias)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)
        self.rotary = RotaryEmbedding(self.head_k_dim)

    def forward(self, hidden_states):
        x = hidden_states
        B, T, _ = x.shape
        q, k, v = self._qkv(x)
        q, k = q.reshape(B, T, -1, self.head_k_dim), k.reshape(B, T, -1, self.head_k_dim)
        if self.feature_map is not None:
            fm = activation(self.feature_map, HF_ACT2FN)
            q, k = fm(q), fm(k)
        q, k = self.rotary(q, k)
        q = q.transpose(1, 2)
        k = k.transpose(1, 2).repeat_interleave(self.num_kv_groups, 1)
        v = self._kv_heads(v, self.head_v_dim)
        H = self.num_heads
        g = torch.log(1 - 2.0 ** (-5.0 - torch.arange(H, dtype=x.dtype)))[:, None].expand(H, T)
        o = per_sequence(lambda q, k, v: ref.gated_recurrence(q, k, v, g)[0], q, k, v)
        return self._output(o, x)


class DeltaNet(_Layer):
    """fla.layers.delta_net.DeltaNet, fla's defaults (hidden 1024, 4 heads, short convs of 4 with
    SiLU, qk_activation silu, qk_norm l2, sigmoid beta, RMSNorm output without gate):
    u = beta (v - S^T k), S += k u^T, o = S^T q / sqrt(K); beta x2 with allow_neg_eigval."""

    def __init__(self, hidden_size=1024, expand_k=1.0, expand_v=1.0, num_heads=4, use_beta=True,
                 use_gate=False, use_short_conv=True, conv_size=4, conv_bias=False,
                 allow_neg_eigval=False, qk_activation="silu", qk_norm="l2", norm_eps=1e-5,
                 mode="chunk", d_model=None, layer_idx=None):
        super().__init__()
        if d_model is not None:
            hidden_size = d_model
        if qk_activation not in ("silu", "relu", "elu", "identity") or qk_norm not in ("l2", "sum"):
            raise ValueError("qk_activation: silu|relu|elu|identity, qk_norm: l2|sum")
        self.num_heads, self.allow_neg_eigval = num_heads, allow_neg_eigval
        self.num_v_heads, self.num_qk_heads = num_heads, num_heads
        self.use_beta, self.qk_activation, self.qk_norm = use_beta, qk_activation, qk_norm
        self.key_dim, self.value_dim = int(hidden_size * expand_k), int(hidden_size * expand_v)
        self.head_k_dim, self.head_v_dim = self.key_dim // num_heads, self.value_dim // num_heads
        self.use_short_conv = use_short_conv
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        if use_beta:
            self.b_proj = nn.Linear(hidden_size, num_heads, bias=False)
        if use_short_conv:
            self._convs(self.key_dim, self.key_dim, self.value_dim, conv_size, conv_bias,
                        "silu" if qk_activation == "silu" else None)
        self._make_output(hidden_size, self.value_dim, self.head_v_dim, use_gate, "o_norm",
                          norm_eps)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def _grouped_heads(self, hidden_size, num_heads, num_v_heads, head_dim, expand_v,
                       allow_neg_eigval, use_short_conv):
        """The head layout and q/k/v projections shared by GatedDeltaNet and KDA (value heads
        a multiple of the q/k heads); returns (H, HV)."""
        H, HV = num_heads, num_v_heads if num_v_heads is not None else num_heads
        if HV % H:
            raise ValueError("num_v_heads must be a multiple of num_heads")
        self.num_heads, self.num_v_heads, self.num_qk_heads = H, HV, H
        self.allow_neg_eigval = allow_neg_eigval
        self.use_beta, self.qk_activation, self.qk_norm = True, "silu", "l2"
        self.head_k_dim, self.head_v_dim = head_dim, int(head_dim * expand_v)
        self.key_dim, self.value_dim = H * head_dim, HV * self.head_v_dim
        self.use_short_conv = use_short_conv
        self.q_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.k_proj = nn.Linear(hidden_size, self.key_dim, bias=False)
        self.v_proj = nn.Linear(hidden_size, self.value_dim, bias=False)
        return H, HV

    def _beta(self, x):
        if self.use_beta:
            beta = torch.sigmoid(self.b_proj(x)).transpose(1, 2)        # [B, HV, T]
        else:
            beta = x.new_ones(x.shape[0], self.num_v_heads, x.shape[1])
        return beta * 2 if self.allow_neg_eigval else beta

    def _qk_transform(self, q, k):
        """DeltaNet's qk_activation (after the heads split), qk_norm; the others: L2 only."""
        act = self.qk_activation
        if act == "relu":
            q, k = q.relu(), k.relu()
        elif act == "elu":
            q, k = F.elu(q) + 1, F.elu(k) + 1
        if self.qk_norm == "sum":
            return q / q.sum(-1, keepdim=True), k / k.sum(-1, keepdim=True)
        return l2norm(q), l2norm(k)

    def _heads_qkv(self, x):
        q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        if self.use_short_conv:
            q, k, v = self.q_conv1d(q), self.k_conv1d(k), self.v_conv1d(v)
        else:  # fla: SiLU on q, k (qk_activation 'silu') and v without convolutions
            if self.qk_activation == "silu":
                q, k = F.silu(q), F.silu(k)
            v = F.silu(v)
        q, k = self._qk_transform(heads(q, self.head_k_dim), heads(k, self.head_k_dim))
        group = self.num_v_heads // self.num_qk_heads
        return (q.repeat_interleave(group, 1), k.repeat_interleave(group, 1),
                heads(v, self.head_v_dim))

    def forward(self, hidden_states):
        q, k, v = self._heads_qkv(hidden_states)
        o = per_sequence(lambda q, k, v, b: ref.gated_delta(q, k, v, b)[0], q, k, v,
                         self._beta(hidden_states))
        return self._output(o, hidden_states)


class GatedDeltaNet(DeltaNet):
    """fla.layers.gated_deltanet.GatedDeltaNet, fla's defaults (hidden 2048, head_dim 256, 6 heads,
    expand_v 2, short convs, output gate): g = -exp(A_log) softplus(a_proj x + dt_bias) per value
    head, S' = exp(g) S, delta rule with sigmoid beta, q and k L2-normalised; num_v_heads >
    num_heads shares each q/k head among num_v_heads / num_heads value heads."""

    def __init__(self, hidden_size=2048, expand_v=2, head_dim=256, num_heads=6, num_v_heads=None,
                 use_gate=True, use_short_conv=True, allow_neg_eigval=False, conv_size=4,
                 conv_bias=False, norm_eps=1e-5, mode="chunk", layer_idx=None):
        nn.Module.__init__(self)
        H, HV = self._grouped_heads(hidden_size, num_heads, num_v_heads, head_dim, expand_v,
                                    allow_neg_eigval, use_short_conv)
        self.a_proj = nn.Linear(hidden_size, HV, bias=False)
        self.b_proj = nn.Linear(hidden_size, HV, bias=False)
        self.A_log = nn.Parameter(torch.log(torch.empty(HV).uniform_(0, 16)))
        self.dt_bias = _dt_bias(HV)
        if use_short_conv:
            self._convs(self.key_dim, self.key_dim, self.value_dim, conv_size, conv_bias)
        self._make_output(hidden_size, self.value_dim, self.head_v_dim, use_gate, "o_norm",
                          norm_eps)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states):
        x = hidden_states
        q, k, v = self._heads_qkv(x)
        g = (-self.A_log.exp() * F.softplus(self.a_proj(x) + self.dt_bias)).transpose(1, 2)
        o = per_sequence(lambda q, k, v, b, g: ref.gated_delta(q, k, v, b, g)[0], q, k, v,
                         self._beta(x), g)
        return self._output(o, x)


class KimiDeltaAttention(DeltaNet):
    """fla.layers.kda.KimiDeltaAttention, fla's defaults (hidden 2048, head_dim 128, 16 heads):
    per-key-channel decay g = -exp(A_log[h]) softplus(f_proj x + dt_bias) (f_proj low rank), or
    lower_bound * sigmoid(exp(A_log) (f_proj x + dt_bias)) with lower_bound (safe_gate only
    changes fla's kernel and A_log's init); delta rule with sigmoid beta; sigmoid-gated RMSNorm
    with the low-rank g_proj."""

    def __init__(self, hidden_size=2048, expand_v=1, head_dim=128, num_heads=16, num_v_heads=None,
                 use_short_conv=True, allow_neg_eigval=False, safe_gate=False, lower_bound=None,
                 conv_size=4, conv_bias=False, norm_eps=1e-5, mode="chunk", layer_idx=None):
        nn.Module.__init__(self)
        if safe_gate and lower_bound is None:
            raise ValueError("safe_gate needs lower_bound")
        H, HV = self._grouped_heads(hidden_size, num_heads, num_v_heads, head_dim, expand_v,
                                    allow_neg_eigval, use_short_conv)
        self.lower_bound = lower_bound
        if use_short_conv:
            self._convs(self.key_dim, self.key_dim, self.value_dim, conv_size, conv_bias)
        gate_dim = HV * head_dim
        self.f_proj = nn.Sequential(nn.Linear(hidden_size, self.head_v_dim, bias=False),
                                    nn.Linear(self.head_v_dim, gate_dim, bias=False))
        self.b_proj = nn.Linear(hidden_size, HV, bias=False)
        self.A_log = nn.Parameter(torch.zeros(HV) if safe_gate else
                                  torch.log(torch.empty(HV).uniform_(1, 16)))
        self.dt_bias = _dt_bias(gate_dim)
        g_proj = nn.Sequential(nn.Linear(hidden_size, self.head_v_dim, bias=False),
                               nn.Linear(self.head_v_dim, self.value_dim, bias=True))
        self._make_output(hidden_size, self.value_dim, self.head_v_dim, True, "o_norm", norm_eps,
                          activation_name="sigmoid", gate_proj=g_proj)
        self.o_proj = nn.Linear(self.value_dim, hidden_size, bias=False)

    def forward(self, hidden_states):
        x = hidden_states
        q, k, v = self._heads_qkv(x)
        f = heads(self.f_proj(x) + self.dt_bias, self.head_k_dim)         # [B, HV, T, K]
        A = self.A_log.exp()[None, :, None, None]
        if self.lower_bound is None:
            g = -A * F.softplus(f)
        else:  # fla's lower-bounded gate: lower_bound * sigmoid(exp(A_log) (f + dt_bias))
            g = self.lower_bound * torch.sigmoid(A * f)
        o = per_sequence(lambda q, k, v, b, g: ref.gated_delta(q, k, v, b, g)[0], q, k, v,
                         self._beta(x), g)
        return self._output(o, x)
