"""Building blocks shared by the fla-compatible layers (linear_attention.py, recurrent_layers.py):
fla's ShortConvolution, RMSNorm / FusedRMSNormGated and RotaryEmbedding with their parameter
names, the activations of fla's and transformers' ACT2FN that the layers take by name, and the
output stage (gated per-head
norm, o_proj). Tensors are fla's [B, T, ...]; the kernels (la_kernels.py) are head-first."""

import torch
import torch.nn as nn
import torch.nn.functional as F

def _gelu_tanh(x):
    return F.gelu(x, approximate="tanh")


def _sqrelu(x):
    return F.relu(x) ** 2


_TANH_GELU = [("gelu", {"approximate": "tanh"})]
# Activation tables by name -> (torch function, Rill ops applied in order; "square" multiplies
# the value by itself). fla's GatedLinearAttention takes feature_map / gate_fn from fla's own
# ACT2FN (fla/modules/activations.py: its gelu is the tanh approximation), MultiScaleRetention
# from transformers' ACT2FN. Names outside these tables are refused.
FLA_ACT2FN = {
    "relu": (F.relu, [("relu", {})]),
    "sigmoid": (torch.sigmoid, [("sigmoid", {})]),
    "silu": (F.silu, [("silu", {})]),
    "swish": (F.silu, [("silu", {})]),
    "gelu": (_gelu_tanh, _TANH_GELU),
    "sqrelu": (_sqrelu, [("relu", {}), ("square", {})]),
}
HF_ACT2FN = {
    "relu": (F.relu, [("relu", {})]),
    "sigmoid": (torch.sigmoid, [("sigmoid", {})]),
    "silu": (F.silu, [("silu", {})]),
    "swish": (F.silu, [("silu", {})]),
    "tanh": (torch.tanh, [("tanh", {})]),
    "gelu": (F.gelu, [("gelu", {})]),
    "gelu_new": (_gelu_tanh, _TANH_GELU),
    "gelu_fast": (_gelu_tanh, _TANH_GELU),
    "gelu_pytorch_tanh": (_gelu_tanh, _TANH_GELU),
    "leaky_relu": (F.leaky_relu, [("leaky_relu", {"negative_slope": 0.01})]),
    "relu2": (_sqrelu, [("relu", {}), ("square", {})]),
    "linear": (lambda x: x, []),
}


def activation(name, table=FLA_ACT2FN):
    """The torch function of an activation name (None: none)."""
    if name is None:
        return None
    if name not in table:
        raise ValueError(f"activation {name!r} is not supported (one of {sorted(table)})")
    return table[name][0]


class ShortConvolution(nn.Conv1d):
    """fla ShortConvolution: a causal depthwise conv over time (weight [C, 1, k], optional bias)
    then SiLU ('silu' / 'swish') or nothing. forward takes and returns [B, T, C] (fla also returns
    a cache; streaming here is Rill's)."""

    def __init__(self, hidden_size, kernel_size, bias=False, activation="silu"):
        super().__init__(hidden_size, hidden_size, kernel_size, groups=hidden_size, bias=bias,
                         padding=kernel_size - 1)
        if activation not in ("silu", "swish", None):
            raise ValueError("activation must be 'silu', 'swish' or None")
        self.hidden_size = hidden_size
        self.activation = activation

    def forward(self, x):
        y = super().forward(x.transpose(1, 2))[..., :x.shape[1]].transpose(1, 2)
        return F.silu(y) if self.activation is not None else y


class RMSNormGated(nn.Module):
    """fla FusedRMSNormGated (gate=True): x / sqrt(mean(x^2) + eps) * weight * act(g) over the last
    axis, act = silu ('swish' / 'silu') or sigmoid; weight [hidden_size] (one head's values,
    shared by the heads) or none (elementwise_affine=False). gate=False: fla RMSNorm."""

    def __init__(self, hidden_size, eps=1e-5, gate=True, activation="swish",
                 elementwise_affine=True):
        super().__init__()
        if activation not in ("swish", "silu", "sigmoid"):
            raise ValueError(f"unsupported activation {activation!r}")
        self.hidden_size = hidden_size
        self.weight = nn.Parameter(torch.ones(hidden_size)) if elementwise_affine else None
        self.eps, self.gate, self.activation = eps, gate, activation

    def forward(self, x, g=None):
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if not self.gate:
            return y
        return y * (torch.sigmoid(g) if self.activation == "sigmoid" else F.silu(g))


class RotaryEmbedding(nn.Module):
    """fla RotaryEmbedding (RoFormer; GPT-NeoX halves by default, base 10000, float32 positions,
    no XPos scale): channels (i, i + D/2) of each head rotate by angle t * inv_freq[i],
    inv_freq = 1 / base^(2i / D). inv_freq is a non-persistent buffer, as in fla."""

    def __init__(self, dim, base=10000.0, interleaved=False):
        super().__init__()
        if dim % 2:
            raise ValueError("the rotary dimension must be even")
        self.dim, self.base, self.interleaved = dim, float(base), interleaved
        self.register_buffer(
            "inv_freq", 1.0 / (self.base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim)),
            persistent=False)

    def rotate(self, x, offset=0):
        """x [B, T, H, D] -> rotated by positions offset .. offset + T - 1."""
        t = torch.arange(offset, offset + x.shape[1], dtype=torch.float32)
        freqs = torch.outer(t, self.inv_freq)
        cos, sin = freqs.cos()[None, :, None].to(x), freqs.sin()[None, :, None].to(x)
        if self.interleaved:
            a, b = x[..., 0::2], x[..., 1::2]
            return torch.stack([a * cos - b * sin, b * cos + a * sin], -1).flatten(-2)
        a, b = x[..., :self.dim // 2], x[..., self.dim // 2:]
        return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)

    def forward(self, q, k, seqlen_offset=0):
        return self.rotate(q, seqlen_offset), self.rotate(k, seqlen_offset)


def heads(x, d):
    """[B, T, H*d] -> [B, H, T, d]"""
    B, T, _ = x.shape
    return x.reshape(B, T, -1, d).transpose(1, 2)


def per_sequence(fn, *xs):
    """Runs a head-first kernel (la_kernels) per batch element: xs are [B, H, T, ...]."""
    return torch.stack([fn(*(x[b] for x in xs)) for b in range(xs[0].shape[0])], 0)


def l2norm(x):
    """fla l2norm (and the kernels' use_qk_l2norm_in_kernel): x / sqrt(sum x^2 + 1e-6)."""
    return x * torch.rsqrt(x.pow(2).sum(-1, keepdim=True) + 1e-6)


class OutputMixin:
    """The layers' output stage. The layer sets norm_name ('g_norm_swish_gate', 'g_norm' or
    'o_norm'), output_gate (the gate projection g_proj exists) and gate_fn (ACT2FN name of a
    gate applied after an ungated norm, fla's fuse_norm=False path; None when the norm is fused
    with the gate or there is no gate)."""

    norm_name = "o_norm"
    output_gate = True
    gate_fn = None
    act_table = FLA_ACT2FN

    def _output(self, o, hidden_states):
        """o [B, H, T, Dv] -> per-head norm (gated) -> o_proj, [B, T, D]."""
        B, H, T, Dv = o.shape
        o = o.transpose(1, 2)                                    # [B, T, H, Dv]
        norm = getattr(self, self.norm_name)
        if not self.output_gate:
            return self.o_proj(norm(o).reshape(B, T, H * Dv))
        g = self.g_proj(hidden_states)
        if self.gate_fn is None:
            o = norm(o, g.reshape(B, T, H, Dv)).reshape(B, T, H * Dv)
        else:
            o = norm(o).reshape(B, T, H * Dv) * activation(self.gate_fn, self.act_table)(g)
        return self.o_proj(o)

    def _make_output(self, hidden_size, value_dim, head_v_dim, use_gate, norm_name,
                     norm_eps=1e-5, gate_fn="swish", fuse_norm=True, elementwise_affine=True,
                     activation_name="swish", gate_proj=None):
        """Creates g_proj (or the given gate projection), the norm and o_proj as fla does."""
        self.output_gate = use_gate
        if use_gate:
            self.g_proj = gate_proj if gate_proj is not None else \
                nn.Linear(hidden_size, value_dim, bias=False)
        fused = use_gate and (norm_name == "o_norm" or (gate_fn == "swish" and fuse_norm))
        self.norm_name = norm_name if norm_name == "o_norm" or fused else "g_norm"
        self.gate_fn = None if fused or not use_gate else gate_fn
        if use_gate and self.gate_fn is not None:
            activation(gate_fn, self.act_table)  # validates the name
        setattr(self, self.norm_name,
                RMSNormGated(head_v_dim, eps=norm_eps, gate=fused, activation=activation_name,
                             elementwise_affine=elementwise_affine))
