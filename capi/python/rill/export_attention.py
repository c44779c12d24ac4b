"""Exporter rules for the layers of rill.nn.linear_attention and rill.nn.recurrent_layers (fla's
layer classes, mamba's Mamba2, xlstm's mLSTMLayer): each layer becomes per-frame projections
(`linear`), short causal depthwise convolutions (`conv1d` groups=C, padding [k-1, 0], then
`silu`), activations, `rotary` (retention), one `linear_attention` (or `hgrn`) node that applies
the layer's gate transforms itself (logsigmoid / normalizer, softplus with A_log and dt_bias,
sigmoid beta, L2-normalised q and k), a gated per-head `rms_norm` and the output projection.
Key/value heads shared by several query heads (num_kv_heads) are exported with the projection
rows (and short-convolution channels) repeated per query head, which is exact. Called by
exporter._module_node with x channels-last ([B, T, D])."""

import dataclasses

import torch
import torch.nn as nn

from .nn import linear_attention as la
from .nn import recurrent_layers as rl


class LayerExportError(ValueError):
    """A layer option that has no Rill counterpart (exporter.py reports it as an ExportError)."""


def _weights(b, name, m, **roles):
    return {role: b.tensor(f"{name}.{src}", getattr(m, src)) for role, src in roles.items()
            if getattr(m, src, None) is not None}


def _rows(t, repeat, block):
    """Each block of `block` rows (axis 0) repeated `repeat` times in place: a key/value head's
    weights copied for each query head that shares it."""
    if t is None or repeat == 1:
        return t
    return t.reshape(-1, block, *t.shape[1:]).repeat_interleave(repeat, 0).reshape(-1, *t.shape[1:])


def _linear(b, name, lin, x, repeat=1, block=1):
    w = {"weight": b.tensor(f"{name}.weight", _rows(lin.weight, repeat, block))}
    if lin.bias is not None:
        w["bias"] = b.tensor(f"{name}.bias", _rows(lin.bias, repeat, block))
    return b.add(name, "linear", [x], lin.out_features * repeat, weights=w, layout=x.layout)


def _unary(b, name, op, x, attrs=None):
    return b.add(name, op, [x], x.channels, attrs or {}, layout=x.layout)


def _activation(b, name, spec, x):
    """A rill.nn.la_common activation table entry's Rill ops on x."""
    for i, (op, attrs) in enumerate(spec):
        node = f"{name}_{op}" if i == 0 else f"{name}_{op}{i}"
        x = b.add(node, "mul", [x, x], x.channels, layout=x.layout) if op == "square" else \
            _unary(b, node, op, x, attrs)
    return x


def _short_conv(b, name, c, x, repeat=1, block=1):
    """fla ShortConvolution (or a causal depthwise nn.Conv1d): conv1d groups=C, padding [k-1, 0],
    then SiLU when the module has that activation."""
    k = c.kernel_size[0]
    w = {"weight": b.tensor(f"{name}.weight", _rows(c.weight, repeat, block))}
    if c.bias is not None:
        w["bias"] = b.tensor(f"{name}.bias", _rows(c.bias, repeat, block))
    y = b.add(name, "conv1d", [x], x.channels, {"groups": x.channels, "padding": [k - 1, 0]}, w,
              x.layout)
    if getattr(c, "activation", None) is not None:
        y = _unary(b, f"{name}_silu", "silu", y)
    return y


def _projection(b, name, m, proj, conv, x, repeat=1, block=1):
    """proj(x), then the layer's short convolution when it has one; repeat > 1 copies each
    head's `block` channels for `repeat` query heads."""
    y = _linear(b, f"{name}.{proj}", getattr(m, proj), x, repeat, block)
    if getattr(m, "use_short_conv", False):
        y = _short_conv(b, f"{name}.{conv}", getattr(m, conv), y, repeat, block)
    return y


def _low_rank(b, name, seq, x, repeat=1, block=1):
    """nn.Sequential(Linear, Linear) (fla's low-rank gate projections)."""
    low = _linear(b, f"{name}.0", seq[0], x)
    return _linear(b, f"{name}.1", seq[1], low, repeat, block)


def _output(b, name, m, o, x):
    """The layer's output stage (la_common.OutputMixin): per-head RMSNorm, gated by act(g_proj(x))
    in the norm (fused) or after it (gate_fn), then o_proj."""
    norm = getattr(m, m.norm_name)
    inputs, g = [o], None
    if m.output_gate:
        g = _low_rank(b, f"{name}.g_proj", m.g_proj, x) if isinstance(m.g_proj, nn.Sequential) \
            else _linear(b, f"{name}.g_proj", m.g_proj, x)
        if norm.gate:
            inputs.append(g)
    attrs = {"groups": o.channels // norm.hidden_size, "eps": norm.eps}
    if norm.gate:
        attrs["activation"] = "sigmoid" if norm.activation == "sigmoid" else "swish"
    y = b.add(f"{name}.{m.norm_name}", "rms_norm", inputs, o.channels, attrs,
              _weights(b, f"{name}.{m.norm_name}", norm, weight="weight"), x.layout)
    if g is not None and not norm.gate:
        gate = _activation(b, f"{name}.gate_fn", m.act_table[m.gate_fn][1], g)
        y = b.add(f"{name}.gated", "mul", [y, gate], y.channels, layout=x.layout)
    return _linear(b, f"{name}.o_proj", m.o_proj, y)


def _feature_map(b, name, m, v):
    if m.feature_map is None:
        return v
    return _activation(b, name, m.act_table[m.feature_map][1], v)


def _gla_family(b, name, m, x):
    """GatedLinearAttention (gla) and MultiScaleRetention (rotary q, k; retention)."""
    G = m.num_kv_groups
    q = _projection(b, name, m, "q_proj", "q_conv1d", x)
    k = _projection(b, name, m, "k_proj", "k_conv1d", x, G, m.head_k_dim)
    v = _projection(b, name, m, "v_proj", "v_conv1d", x, G, m.head_v_dim)
    q = _feature_map(b, f"{name}.q_feature_map", m, q)
    k = _feature_map(b, f"{name}.k_feature_map", m, k)
    attrs = {"heads": m.num_heads}
    if isinstance(m, la.MultiScaleRetention):
        r = m.rotary
        rot = {"heads": m.num_heads, "base": r.base, "interleaved": int(r.interleaved)}
        inv = {"inv_freq": b.tensor(f"{name}.rotary.inv_freq", r.inv_freq)}
        q = b.add(f"{name}.q_rotary", "rotary", [q], q.channels, rot, inv, x.layout)
        k = b.add(f"{name}.k_rotary", "rotary", [k], k.channels, rot, inv, x.layout)
        inputs = [q, k, v]
        attrs.update(variant="retention")
    else:
        gk = _low_rank(b, f"{name}.gk_proj", m.gk_proj, x, G, m.head_k_dim)
        inputs = [q, k, v, gk]
        attrs.update(variant="gla", decay="logsigmoid",
                     gate_normalizer=float(m.gate_logit_normalizer))
        if m.clamp_min is not None:
            attrs["gate_clamp_min"] = float(m.clamp_min)
    o = b.add(f"{name}.attn", "linear_attention", inputs, m.value_dim, attrs, layout=x.layout)
    return _output(b, name, m, o, x)


def _delta_family(b, name, m, x):
    """DeltaNet (delta), GatedDeltaNet (gated_delta), KimiDeltaAttention (kda)."""
    if m.qk_norm != "l2":
        raise LayerExportError(f"DeltaNet qk_norm={m.qk_norm!r} has no Rill counterpart "
                               f"(linear_attention normalises q and k with L2 only)")
    q = _projection(b, name, m, "q_proj", "q_conv1d", x)
    k = _projection(b, name, m, "k_proj", "k_conv1d", x)
    v = _projection(b, name, m, "v_proj", "v_conv1d", x)
    if not m.use_short_conv:  # fla applies SiLU to q, k (qk_activation silu) and v instead
        if m.qk_activation == "silu":
            q, k = _unary(b, f"{name}.q_silu", "silu", q), _unary(b, f"{name}.k_silu", "silu", k)
        v = _unary(b, f"{name}.v_silu", "silu", v)
    attrs = {"heads": m.num_qk_heads, "value_heads": m.num_v_heads, "qk_norm": "l2",
             "allow_neg_eigval": int(m.allow_neg_eigval)}
    if m.qk_activation in ("relu", "elu"):  # the op's feature maps (elu: elu + 1), before L2
        attrs["feature_map"] = m.qk_activation
    if m.use_beta:
        beta = _linear(b, f"{name}.b_proj", m.b_proj, x)
        attrs["beta"] = "sigmoid"
    else:  # beta = 1: a constant from a zero projection with bias 1
        ones = nn.Linear(x.channels, m.num_v_heads)
        with torch.no_grad():
            ones.weight.zero_()
            ones.bias.fill_(1.0)
        beta = _linear(b, f"{name}.beta_one", ones, x)
    weights = {}
    if isinstance(m, la.KimiDeltaAttention):
        f = _low_rank(b, f"{name}.f_proj", m.f_proj, x)
        if m.lower_bound is None:
            attrs.update(variant="kda", decay="softplus")
            weights = {"A_log": b.tensor(f"{name}.A_log", m.A_log),
                       "dt_bias": b.tensor(f"{name}.dt_bias", m.dt_bias)}
        else:  # g = lower_bound * sigmoid(exp(A_log) (f + dt_bias)), given to the op as log decay
            A = m.A_log.exp().repeat_interleave(m.head_k_dim)
            f = b.add(f"{name}.gate_affine", "affine", [f], f.channels, {},
                      {"weight": b.tensor(f"{name}.gate_scale", A),
                       "bias": b.tensor(f"{name}.gate_bias", A * m.dt_bias)}, x.layout)
            f = _unary(b, f"{name}.gate_sigmoid", "sigmoid", f)
            f = _unary(b, f"{name}.gate_bound", "affine", f, {"scale": float(m.lower_bound)})
            attrs.update(variant="kda", decay="log")
        inputs = [q, k, v, f, beta]
    elif isinstance(m, la.GatedDeltaNet):
        a = _linear(b, f"{name}.a_proj", m.a_proj, x)
        inputs = [q, k, v, a, beta]
        attrs.update(variant="gated_delta", decay="softplus")
        weights = {"A_log": b.tensor(f"{name}.A_log", m.A_log),
                   "dt_bias": b.tensor(f"{name}.dt_bias", m.dt_bias)}
    else:
        inputs = [q, k, v, beta]
        attrs.update(variant="delta")
    o = b.add(f"{name}.attn", "linear_attention", inputs, m.value_dim, attrs, weights, x.layout)
    return _output(b, name, m, o, x)


def _hgrn(b, name, m, x):
    """h = f h + silu(i) (1 - f); f = sigmoid(f_proj x), or lb + (1 - lb) sigmoid(f_proj x) with
    a lower bound (the hgrn op's `lower_bound`); 1 - f = (1 - lb) sigmoid(-f_proj x)."""
    i = _linear(b, f"{name}.i_proj", m.i_proj, x)
    f = _linear(b, f"{name}.f_proj", m.f_proj, x)
    if m.use_short_conv:
        i = _short_conv(b, f"{name}.i_conv1d", m.i_conv1d, i)
        f = _short_conv(b, f"{name}.f_conv1d", m.f_conv1d, f)
    lb = m.effective_lower_bound()
    keep = _unary(b, f"{name}.input_gate", "sigmoid",
                  _unary(b, f"{name}.neg_f", "affine", f, {"scale": -1.0}))
    if lb is not None:
        keep = b.add(f"{name}.input_gate_bound", "affine", [keep], keep.channels, {},
                     {"weight": b.tensor(f"{name}.one_minus_lower_bound", 1 - lb)}, x.layout)
    i = b.add(f"{name}.input", "mul", [_unary(b, f"{name}.i_silu", "silu", i), keep], i.channels,
              layout=x.layout)
    w = {} if lb is None else {"lower_bound": b.tensor(f"{name}.lower_bound", lb)}
    h = b.add(f"{name}.hgrn", "hgrn", [i, f], i.channels, {"gate": "logsigmoid"}, w, x.layout)
    g = _linear(b, f"{name}.g_proj", m.g_proj, x)
    y = b.add(f"{name}.g_norm", "rms_norm", [h, g], h.channels,
              {"groups": 1, "eps": m.g_norm.eps, "activation": "swish"},
              _weights(b, f"{name}.g_norm", m.g_norm, weight="weight"), x.layout)
    return _linear(b, f"{name}.o_proj", m.o_proj, y)


def _outputs(v, sizes):
    """The outputs of a split node v as values."""
    return [dataclasses.replace(v, ref=v.ref if i == 0 else f"{v.ref}:{i}", channels=c)
            for i, c in enumerate(sizes)]


def _mamba2(b, name, m, x):
    """in_proj -> split z, xBC, dt; conv1d (depthwise, causal) + silu; split x, B, C; the mamba2
    variant of linear_attention (+ D x per channel with D_has_hdim); rms_norm per B/C group,
    gate first unless norm_before_gate (or y silu(z) without rmsnorm); out_proj."""
    zxbcdt = _linear(b, f"{name}.in_proj", m.in_proj, x)
    sizes = [m.d_inner, m.conv_dim, m.nheads]
    z, xbc, dt = _outputs(b.add(f"{name}.split", "split", [zxbcdt], m.d_inner,
                                {"sizes": sizes}, layout=x.layout), sizes)
    xbc = _unary(b, f"{name}.conv1d_silu", "silu", _short_conv(b, f"{name}.conv1d", m.conv1d, xbc))
    gs = m.ngroups * m.d_state
    xs, bs, cs = _outputs(b.add(f"{name}.split_xbc", "split", [xbc], m.d_inner,
                                {"sizes": [m.d_inner, gs, gs]}, layout=x.layout),
                          [m.d_inner, gs, gs])
    w = {"A_log": b.tensor(f"{name}.A_log", m.A_log),
         "dt_bias": b.tensor(f"{name}.dt_bias", m.dt_bias)}
    if not m.D_has_hdim:
        w["D"] = b.tensor(f"{name}.D", m.D)
    y = b.add(f"{name}.ssd", "linear_attention", [cs, bs, xs, dt], m.d_inner,
              {"variant": "mamba2", "heads": m.ngroups, "value_heads": m.nheads}, w, x.layout)
    if m.D_has_hdim:
        skip = b.add(f"{name}.D_skip", "affine", [xs], m.d_inner, {},
                     {"weight": b.tensor(f"{name}.D", m.D)}, x.layout)
        y = b.add(f"{name}.D_add", "add", [y, skip], m.d_inner, layout=x.layout)
    if m.rmsnorm:
        y = b.add(f"{name}.norm", "rms_norm", [y, z], m.d_inner,
                  {"groups": m.ngroups, "eps": m.norm.eps,
                   "gate_first": 0 if m.norm_before_gate else 1},
                  _weights(b, f"{name}.norm", m.norm, weight="weight"), x.layout)
    else:
        y = b.add(f"{name}.gated", "mul", [y, _unary(b, f"{name}.z_silu", "silu", z)], m.d_inner,
                  layout=x.layout)
    return _linear(b, f"{name}.out_proj", m.out_proj, y)


def _headwise(b, name, proj, x):
    """xlstm LinearHeadwiseExpand as one linear with its block-diagonal weight."""
    w = {"weight": b.tensor(f"{name}.weight", proj.dense_weight())}
    if proj.bias is not None:
        w["bias"] = b.tensor(f"{name}.bias", proj.bias)
    return b.add(name, "linear", [x], x.channels, weights=w, layout=x.layout)


def _mlstm(b, name, m, x):
    Di, NH = m.inner_dim, m.num_heads
    up = _linear(b, f"{name}.proj_up", m.proj_up, x)
    xm, z = _outputs(b.add(f"{name}.split", "split", [up], Di, {"sizes": [Di, Di]},
                           layout=x.layout), [Di, Di])
    xc = _unary(b, f"{name}.conv_act", "silu", _short_conv(b, f"{name}.conv1d", m.conv1d.conv, xm))
    q = _headwise(b, f"{name}.q_proj", m.q_proj, xc)
    kk = _headwise(b, f"{name}.k_proj", m.k_proj, xc)
    v = _headwise(b, f"{name}.v_proj", m.v_proj, xm)
    cell = m.mlstm_cell
    qkv = b.add(f"{name}.qkv", "concat", [q, kk, v], 3 * Di, layout=x.layout)
    i = _linear(b, f"{name}.igate", cell.igate, qkv)
    f = _linear(b, f"{name}.fgate", cell.fgate, qkv)
    h = b.add(f"{name}.mlstm", "linear_attention", [q, kk, v, i, f], Di,
              {"variant": "mlstm", "heads": NH}, layout=x.layout)
    h = b.add(f"{name}.outnorm", "group_norm", [h], Di, {"groups": NH, "eps": cell.eps},
              {"weight": b.tensor(f"{name}.outnorm.weight", 1 + cell.outnorm.weight)}, x.layout)
    skip = b.add(f"{name}.skip", "affine", [xc], Di, {},
                 {"weight": b.tensor(f"{name}.learnable_skip", m.learnable_skip)}, x.layout)
    h = b.add(f"{name}.skip_add", "add", [h, skip], Di, layout=x.layout)
    h = b.add(f"{name}.gated", "mul", [h, _unary(b, f"{name}.ogate", "silu", z)], Di,
              layout=x.layout)
    return _linear(b, f"{name}.proj_down", m.proj_down, h)


def emit(b, name, m, x):
    if isinstance(m, rl.mLSTMLayer):
        return _mlstm(b, name, m, x)
    if isinstance(m, rl.HGRNAttention):
        return _hgrn(b, name, m, x)
    if isinstance(m, rl.Mamba2):
        return _mamba2(b, name, m, x)
    if isinstance(m, la.DeltaNet):
        return _delta_family(b, name, m, x)
    if isinstance(m, (la.GatedLinearAttention, la.MultiScaleRetention)):
        return _gla_family(b, name, m, x)
    raise TypeError(type(m).__name__)


LAYERS = (la.GatedLinearAttention, la.MultiScaleRetention, la.DeltaNet, rl.HGRNAttention,
          rl.Mamba2, rl.mLSTMLayer)
