"""Exporter rules for the layers of rill.nn.linear_attention and rill.nn.recurrent_layers (fla's
layer classes, mamba's Mamba2, xlstm's mLSTMLayer): each layer becomes per-frame projections (`linear`), short causal depthwise
convolutions (`conv1d` groups=C, padding [k-1, 0], then `silu`), one `linear_attention` node that
applies the layer's gate transforms itself (logsigmoid / normalizer, softplus with A_log and
dt_bias, sigmoid beta, L2-normalised q and k), a gated per-head `rms_norm` and the output
projection. Called by exporter._module_node with x channels-last ([B, T, D])."""

import dataclasses

import torch.nn as nn

from .nn import linear_attention as la
from .nn import recurrent_layers as rl


def _weights(b, name, m, **roles):
    return {role: b.tensor(f"{name}.{src}", getattr(m, src)) for role, src in roles.items()
            if getattr(m, src, None) is not None}


def _linear(b, name, lin, x):
    return b.add(name, "linear", [x], lin.out_features,
                 weights=_weights(b, name, lin, weight="weight", bias="bias"), layout=x.layout)


def _projection(b, name, m, proj, conv, x):
    """proj(x), then the layer's short convolution when it has one."""
    y = _linear(b, f"{name}.{proj}", getattr(m, proj), x)
    if getattr(m, "use_short_conv", False):
        c = getattr(m, conv)
        k = c.kernel_size[0]
        y = b.add(f"{name}.{conv}", "conv1d", [y], y.channels,
                  {"groups": y.channels, "padding": [k - 1, 0]},
                  _weights(b, f"{name}.{conv}", c, weight="weight", bias="bias"), x.layout)
        if c.activation == "silu":
            y = b.add(f"{name}.{conv}_silu", "silu", [y], y.channels, layout=x.layout)
    return y


def _output(b, name, m, o, x):
    """Per-head RMSNorm (gated by silu(g_proj(x)) when the layer has an output gate), o_proj."""
    norm_name = "o_norm" if hasattr(m, "o_norm") else "g_norm_swish_gate"
    norm = getattr(m, norm_name)
    inputs = [o]
    if norm.gate:
        if isinstance(m.g_proj, nn.Sequential):  # low-rank (KDA)
            low = _linear(b, f"{name}.g_proj.0", m.g_proj[0], x)
            inputs.append(_linear(b, f"{name}.g_proj.1", m.g_proj[1], low))
        else:
            inputs.append(_linear(b, f"{name}.g_proj", m.g_proj, x))
    y = b.add(f"{name}.{norm_name}", "rms_norm", inputs, o.channels,
              {"groups": m.num_heads, "eps": norm.eps, "activation": norm.activation},
              _weights(b, f"{name}.{norm_name}", norm, weight="weight"), x.layout)
    return _linear(b, f"{name}.o_proj", m.o_proj, y)


def _hgrn(b, name, m, x):
    """h = exp(log f) h + silu(i) (1 - f), f = sigmoid(f_proj x); 1 - f = sigmoid(-f_proj x)."""
    i = _linear(b, f"{name}.i_proj", m.i_proj, x)
    f = _linear(b, f"{name}.f_proj", m.f_proj, x)
    keep = b.add(f"{name}.input_gate", "sigmoid",
                 [b.add(f"{name}.neg_f", "affine", [f], f.channels, {"scale": -1.0},
                        layout=x.layout)], f.channels, layout=x.layout)
    i = b.add(f"{name}.input", "mul",
              [b.add(f"{name}.i_silu", "silu", [i], i.channels, layout=x.layout), keep],
              i.channels, layout=x.layout)
    h = b.add(f"{name}.hgrn", "hgrn", [i, f], i.channels, {"gate": "logsigmoid"},
              layout=x.layout)
    g = _linear(b, f"{name}.g_proj", m.g_proj, x)
    y = b.add(f"{name}.g_norm", "rms_norm", [h, g], h.channels,
              {"groups": 1, "eps": m.g_norm.eps, "activation": m.g_norm.activation},
              _weights(b, f"{name}.g_norm", m.g_norm, weight="weight"), x.layout)
    return _linear(b, f"{name}.o_proj", m.o_proj, y)


def _outputs(v, sizes):
    """The outputs of a split node v as values."""
    return [dataclasses.replace(v, ref=v.ref if i == 0 else f"{v.ref}:{i}", channels=c)
            for i, c in enumerate(sizes)]


def _mamba2(b, name, m, x):
    """in_proj -> split z, xBC, dt; conv1d (depthwise, causal) + silu; split x, B, C; the mamba2
    variant of linear_attention; rms_norm with the gate first (norm_before_gate=False); out_proj."""
    zxbcdt = _linear(b, f"{name}.in_proj", m.in_proj, x)
    sizes = [m.d_inner, m.conv_dim, m.nheads]
    z, xbc, dt = _outputs(b.add(f"{name}.split", "split", [zxbcdt], m.d_inner,
                                {"sizes": sizes}, layout=x.layout), sizes)
    k = m.conv1d.kernel_size[0]
    xbc = b.add(f"{name}.conv1d", "conv1d", [xbc], m.conv_dim,
                {"groups": m.conv_dim, "padding": [k - 1, 0]},
                _weights(b, f"{name}.conv1d", m.conv1d, weight="weight", bias="bias"), x.layout)
    xbc = b.add(f"{name}.conv1d_silu", "silu", [xbc], m.conv_dim, layout=x.layout)
    gs = m.ngroups * m.d_state
    xs, bs, cs = _outputs(b.add(f"{name}.split_xbc", "split", [xbc], m.d_inner,
                                {"sizes": [m.d_inner, gs, gs]}, layout=x.layout),
                          [m.d_inner, gs, gs])
    y = b.add(f"{name}.ssd", "linear_attention", [cs, bs, xs, dt], m.d_inner,
              {"variant": "mamba2", "heads": m.ngroups, "value_heads": m.nheads},
              {"A_log": b.tensor(f"{name}.A_log", m.A_log),
               "dt_bias": b.tensor(f"{name}.dt_bias", m.dt_bias),
               "D": b.tensor(f"{name}.D", m.D)}, x.layout)
    y = b.add(f"{name}.norm", "rms_norm", [y, z], m.d_inner,
              {"groups": m.ngroups, "eps": m.norm.eps, "gate_first": 1},
              _weights(b, f"{name}.norm", m.norm, weight="weight"), x.layout)
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
    conv = m.conv1d.conv
    k = conv.kernel_size[0]
    xc = b.add(f"{name}.conv1d", "conv1d", [xm], Di, {"groups": Di, "padding": [k - 1, 0]},
               _weights(b, f"{name}.conv1d", conv, weight="weight", bias="bias"), x.layout)
    xc = b.add(f"{name}.conv_act", "silu", [xc], Di, layout=x.layout)
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
    gate = b.add(f"{name}.ogate", "silu", [z], Di, layout=x.layout)
    h = b.add(f"{name}.gated", "mul", [h, gate], Di, layout=x.layout)
    return _linear(b, f"{name}.proj_down", m.proj_down, h)


def emit(b, name, m, x):
    if isinstance(m, rl.mLSTMLayer):
        return _mlstm(b, name, m, x)
    if isinstance(m, rl.HGRNAttention):
        return _hgrn(b, name, m, x)
    if isinstance(m, rl.Mamba2):
        return _mamba2(b, name, m, x)
    q = _projection(b, name, m, "q_proj", "q_conv1d", x)
    k = _projection(b, name, m, "k_proj", "k_conv1d", x)
    v = _projection(b, name, m, "v_proj", "v_conv1d", x)
    attrs = {"heads": m.num_heads}
    weights = {}
    if isinstance(m, la.GatedLinearAttention):
        low = _linear(b, f"{name}.gk_proj.0", m.gk_proj[0], x)
        gk = _linear(b, f"{name}.gk_proj.1", m.gk_proj[1], low)
        inputs = [q, k, v, gk]
        attrs.update(variant="gla", decay="logsigmoid",
                     gate_normalizer=float(m.gate_logit_normalizer))
        if m.clamp_min is not None:
            attrs["gate_clamp_min"] = float(m.clamp_min)
    elif isinstance(m, la.MultiScaleRetention):
        inputs = [q, k, v]
        attrs.update(variant="retention")
    elif isinstance(m, la.KimiDeltaAttention):
        low = _linear(b, f"{name}.f_proj.0", m.f_proj[0], x)
        f = _linear(b, f"{name}.f_proj.1", m.f_proj[1], low)
        beta = _linear(b, f"{name}.b_proj", m.b_proj, x)
        inputs = [q, k, v, f, beta]
        attrs.update(variant="kda", heads=m.num_qk_heads, value_heads=m.num_v_heads,
                     decay="softplus", qk_norm="l2", beta="sigmoid",
                     allow_neg_eigval=int(m.allow_neg_eigval))
        weights = {"A_log": b.tensor(f"{name}.A_log", m.A_log),
                   "dt_bias": b.tensor(f"{name}.dt_bias", m.dt_bias)}
    elif isinstance(m, (la.GatedDeltaNet, la.DeltaNet)):
        beta = _linear(b, f"{name}.b_proj", m.b_proj, x)
        attrs.update(qk_norm="l2", beta="sigmoid", allow_neg_eigval=int(m.allow_neg_eigval))
        if isinstance(m, la.GatedDeltaNet):
            a = _linear(b, f"{name}.a_proj", m.a_proj, x)
            inputs = [q, k, v, a, beta]
            attrs.update(variant="gated_delta", decay="softplus")
            weights = {"A_log": b.tensor(f"{name}.A_log", m.A_log),
                       "dt_bias": b.tensor(f"{name}.dt_bias", m.dt_bias)}
        else:
            inputs = [q, k, v, beta]
            attrs.update(variant="delta")
    else:
        raise TypeError(type(m).__name__)
    o = b.add(f"{name}.attn", "linear_attention", inputs, m.value_dim, attrs, weights, x.layout)
    return _output(b, name, m, o, x)


LAYERS = (la.GatedLinearAttention, la.MultiScaleRetention, la.DeltaNet, rl.HGRNAttention,
          rl.Mamba2, rl.mLSTMLayer)
