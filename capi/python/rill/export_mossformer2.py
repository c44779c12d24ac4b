"""Exporter rule for rill.nn.mossformer2.MossFormer (ClearerVoice-Studio's MossFormer2), called by
exporter._module_node with the [B, 1, T] mixture. Only the streaming variant (streaming=True,
streaming_counterpart()) exports; the released form is refused with streaming_mode()'s reason.

    conv1d enc (kernel K, stride K/2) -> relu -> group_norm (frame, eps 1e-8) -> linear
    per block:
      FLASH: slice + delay 1 (token shift) + concat;
             FFConvM = l2_norm + affine (ScaleNorm: x sqrt(d) / max(||x||, eps sqrt(d)) g) or
             layer_norm -> linear -> silu -> conv1d depthwise (padding [16, 0]) + add;
             affine x4 (OffsetScale) -> rotary (interleaved, 32 of 128) x4;
             two linear_attention simple_gla nodes (one head, K 128, V 4N, scale 1/W, decay
             the log gate log(1 - 1/W): a constant from a zero linear, shared by the blocks)
             -> add -> slice, mul, sigmoid, mul -> FFConvM -> add
      FSMN:  linear -> prelu -> layer_norm -> FFConvM x2 -> linear, relu, linear (no bias) ->
             2 x [concat -> conv1d (groups 256, kernel 39, dilation 2^i, padding [38 2^i, 0]) ->
             group_norm (groups 256, cumulative) -> prelu] -> add, mul, add -> layer_norm ->
             linear -> add
    layer_norm (eps 1e-6) -> group_norm (frame) -> add -> prelu -> linear (spks N)
    per speaker: slice -> linear, tanh | linear, sigmoid -> mul -> linear -> relu -> mul (encoder
    output) -> conv_transpose1d dec;  concat: channel s = speaker s"""

import math

import torch

from .nn import mossformer2_blocks as mb


class MossFormerExportError(ValueError):
    """A configuration that cannot stream (exporter.py reports it as an ExportError)."""


def _w(b, key, t):
    return b.tensor(key, t)


def _linear(b, name, m, x, weight=None):
    """nn.Linear or a 1x1 nn.Conv1d as the per-frame linear op."""
    w = m.weight if weight is None else weight
    ws = {"weight": _w(b, f"{name}.weight", w if w.dim() == 2 else w.reshape(w.shape[0], -1))}
    if m.bias is not None:
        ws["bias"] = _w(b, f"{name}.bias", m.bias)
    return b.add(name, "linear", [x], w.shape[0], weights=ws)


def _unary(b, name, op, x):
    return b.add(name, op, [x], x.channels)


def _slice(b, name, x, start, end):
    return b.add(name, "slice", [x], end - start, {"start": start, "end": end})


def _prelu(b, name, m, x):
    return b.add(name, "prelu", [x], x.channels, weights={"weight": _w(b, f"{name}.weight",
                                                                       m.weight)})


def _layer_norm(b, name, m, x):
    return b.add(name, "layer_norm", [x], x.channels, {"eps": m.eps},
                 {"weight": _w(b, f"{name}.weight", m.weight), "bias": _w(b, f"{name}.bias",
                                                                           m.bias)})


def _frame_group_norm(b, name, m, x):
    if not m.streaming:  # checked by emit's streaming_mode() first
        raise MossFormerExportError(f"{name}: the utterance GroupNorm cannot stream")
    return b.add(name, "group_norm", [x], x.channels, {"groups": 1, "eps": m.eps, "mode": "frame"},
                 {"weight": _w(b, f"{name}.weight", m.weight), "bias": _w(b, f"{name}.bias",
                                                                           m.bias)})


def _norm(b, name, m, x):
    if isinstance(m, mb.ScaleNorm):
        d = math.sqrt(x.channels)
        y = b.add(f"{name}.l2", "l2_norm", [x], x.channels, {"eps": m.eps * d})
        return b.add(name, "affine", [y], x.channels, {"scale": d},
                     {"weight": _w(b, f"{name}.g", m.g)})
    return _layer_norm(b, name, m, x)


def _ffconvm(b, name, m, x):
    norm, lin, _, conv_module, _ = m.mdl
    h = _norm(b, f"{name}.mdl.0", norm, x)
    h = _unary(b, f"{name}.mdl.2", "silu", _linear(b, f"{name}.mdl.1", lin, h))
    conv = conv_module.conv
    key = f"{name}.mdl.3.sequential.1.conv"
    c = b.add(key, "conv1d", [h], h.channels,
              {"groups": conv.groups, "padding": list(conv_module.padding())},
              {"weight": _w(b, f"{key}.weight", conv.weight)})
    return b.add(f"{name}.mdl.3", "add", [h, c], h.channels)


def _constant(b, name, x, value):
    """A 1-channel signal holding `value` (a zero projection of x with that bias)."""
    return b.add(name, "linear", [x], 1, weights={
        "weight": _w(b, f"{name}.weight", torch.zeros(1, x.channels)),
        "bias": _w(b, f"{name}.bias", torch.tensor([float(value)]))})


def _flash(b, name, m, x, log_decay):
    """log_decay(window) -> the constant log gate signal of that decay window."""
    n = x.channels
    h = x
    if m.shift_tokens:
        first = _slice(b, f"{name}.shift_part", x, 0, (n + 1) // 2)
        shifted = b.add(f"{name}.token_shift", "delay", [first], first.channels, {"frames": 1})
        h = b.add(f"{name}.shifted", "concat", [shifted, _slice(b, f"{name}.pass_part", x,
                                                               (n + 1) // 2, n)], n)
    hid = _ffconvm(b, f"{name}.to_hidden", m.to_hidden, h)
    qk = _ffconvm(b, f"{name}.to_qk", m.to_qk, h)
    os = m.qk_offset_scale
    rot = m.rotary_pos_emb
    parts = []
    for i, role in enumerate(("quad_q", "lin_q", "quad_k", "lin_k")):
        t = b.add(f"{name}.{role}", "affine", [qk], qk.channels, {},
                  {"weight": _w(b, f"{name}.qk_offset_scale.gamma{i}", os.gamma[i]),
                   "bias": _w(b, f"{name}.qk_offset_scale.beta{i}", os.beta[i])})
        if rot is not None:
            t = b.add(f"{name}.{role}_rotary", "rotary", [t], t.channels,
                      {"heads": 1, "rotary_dim": 2 * rot.freqs.numel(), "interleaved": 1},
                      {"inv_freq": _w(b, f"{name}.rotary_pos_emb.freqs", rot.freqs)})
        parts.append(t)
    quad_q, lin_q, quad_k, lin_k = parts
    att = []
    for part, q, k, window in (("quad", quad_q, quad_k, m.windows()[0]),
                               ("lin", lin_q, lin_k, m.windows()[1])):
        att.append(b.add(f"{name}.{part}_attention", "linear_attention",
                         [q, k, hid, log_decay(window)],
                         hid.channels, {"variant": "simple_gla", "heads": 1, "decay": "log",
                                        "scale": 1.0 / window}))
    att = b.add(f"{name}.attention", "add", att, hid.channels)
    e = hid.channels // 2
    v, u = _slice(b, f"{name}.v", hid, 0, e), _slice(b, f"{name}.u", hid, e, 2 * e)
    att_v, att_u = _slice(b, f"{name}.att_v", att, 0, e), _slice(b, f"{name}.att_u", att, e, 2 * e)
    gate = _unary(b, f"{name}.gateActivate", "sigmoid",
                  b.add(f"{name}.att_v_u", "mul", [att_v, u], e))
    out = b.add(f"{name}.gated", "mul", [b.add(f"{name}.att_u_v", "mul", [att_u, v], e), gate], e)
    return b.add(f"{name}.residual", "add", [x, _ffconvm(b, f"{name}.to_out", m.to_out, out)], n)


def _dense(b, name, m, p):
    skip, out = [p], p
    for i in range(m.depth):
        inp = skip[0] if len(skip) == 1 else b.add(f"{name}.cat{i + 1}", "concat", list(skip),
                                                   sum(s.channels for s in skip))
        conv = getattr(m, f"conv{i + 1}")
        out = b.add(f"{name}.conv{i + 1}", "conv1d", [inp], conv.out_channels,
                    {"groups": conv.groups, "dilation": conv.dilation[0],
                     "padding": list(m.time_padding(i))},
                    {"weight": _w(b, f"{name}.conv{i + 1}.weight", conv.weight[..., 0])})
        norm = getattr(m, f"norm{i + 1}")
        out = b.add(f"{name}.norm{i + 1}", "group_norm", [out], out.channels,
                    {"groups": out.channels, "eps": norm.eps, "mode": "cumulative"},
                    {"weight": _w(b, f"{name}.norm{i + 1}.weight", norm.weight),
                     "bias": _w(b, f"{name}.norm{i + 1}.bias", norm.bias)})
        out = _prelu(b, f"{name}.prelu{i + 1}", getattr(m, f"prelu{i + 1}"), out)
        skip.insert(0, out)
    return out


def _fsmn_block(b, name, m, x):
    h = _linear(b, f"{name}.conv1.0", m.conv1[0], x)
    h = _layer_norm(b, f"{name}.norm1", m.norm1, _prelu(b, f"{name}.conv1.1", m.conv1[1], h))
    g = m.gated_fsmn
    q = f"{name}.gated_fsmn"
    xu = _ffconvm(b, f"{q}.to_u", g.to_u, h)
    xv = _ffconvm(b, f"{q}.to_v", g.to_v, h)
    f = g.fsmn
    p = _unary(b, f"{q}.fsmn.relu", "relu", _linear(b, f"{q}.fsmn.linear", f.linear, xu))
    p = _linear(b, f"{q}.fsmn.project", f.project, p)
    xu = b.add(f"{q}.fsmn.residual", "add", [xu, _dense(b, f"{q}.fsmn.conv", f.conv, p)],
               xu.channels)
    y = b.add(f"{q}.residual", "add", [b.add(f"{q}.gate", "mul", [xv, xu], xu.channels), h],
              h.channels)
    y = _linear(b, f"{name}.conv2", m.conv2, _layer_norm(b, f"{name}.norm2", m.norm2, y))
    return b.add(f"{name}.residual", "add", [y, x], x.channels)


def emit(b, name, m, x):
    """Adds the nodes of MossFormer `m` (prefix `name`) on input value x; returns the output."""
    mode, why = m.streaming_mode()
    if mode != "exact":
        raise MossFormerExportError(why)
    if x.channels != 1:
        raise MossFormerExportError(f"takes one mixture channel, got {x.channels}")
    p = f"{name}." if name else ""
    conv = m.enc.conv1d
    enc = b.add(f"{p}enc.conv1d", "conv1d", [x], conv.out_channels,
                {"stride": conv.stride[0], "padding": [0, 0]},
                {"weight": _w(b, f"{p}enc.conv1d.weight", conv.weight)})
    enc = _unary(b, f"{p}enc.relu", "relu", enc)
    mn = m.mask_net
    q = f"{p}mask_net"
    h = _linear(b, f"{q}.conv1d_encoder", mn.conv1d_encoder,
                _frame_group_norm(b, f"{q}.norm", mn.norm, enc))
    cb = mn.mdl
    blocks = cb.intra_mdl.mossformerM
    gates = {}

    def log_decay(window):  # one constant signal per window, shared by the blocks
        if window not in gates:
            gates[window] = _constant(b, f"{q}.log_decay_{window}", h, math.log1p(-1.0 / window))
        return gates[window]

    y = h
    for i, (flash, fsmn) in enumerate(zip(blocks.layers, blocks.fsmn)):
        y = _flash(b, f"{q}.mdl.intra_mdl.mossformerM.layers.{i}", flash, y, log_decay)
        y = _fsmn_block(b, f"{q}.mdl.intra_mdl.mossformerM.fsmn.{i}", fsmn, y)
    y = _layer_norm(b, f"{q}.mdl.intra_mdl.norm", cb.intra_mdl.norm, y)
    if cb.norm is not None:
        y = _frame_group_norm(b, f"{q}.mdl.intra_norm", cb.intra_norm, y)
    if cb.skip_around_intra:
        y = b.add(f"{q}.mdl.skip", "add", [y, h], h.channels)
    y = _linear(b, f"{q}.conv1d_out", mn.conv1d_out, _prelu(b, f"{q}.prelu", mn.prelu, y))
    n = h.channels
    shared = [l.weight[:, :, 0] for l in (mn.output[0], mn.output_gate[0], mn.conv1_decoder)]
    outs = []
    for s in range(mn.num_spks):  # the speakers share these layers' weights (stored once)
        ys = _slice(b, f"{q}.speaker{s}", y, s * n, (s + 1) * n)
        o = _unary(b, f"{q}.output{s}", "tanh",
                   _linear(b, f"{q}.output.0", mn.output[0], ys, shared[0]))
        g = _unary(b, f"{q}.output_gate{s}", "sigmoid",
                   _linear(b, f"{q}.output_gate.0", mn.output_gate[0], ys, shared[1]))
        mask = _linear(b, f"{q}.conv1_decoder", mn.conv1_decoder,
                       b.add(f"{q}.gated{s}", "mul", [o, g], n), shared[2])
        mask = _unary(b, f"{q}.mask{s}", "relu", mask)
        masked = b.add(f"{p}masked{s}", "mul", [mask, enc], enc.channels)
        dec = m.dec
        outs.append(b.add(f"{p}dec{s}", "conv_transpose1d", [masked], 1,
                          {"stride": dec.stride[0], "padding": 0},
                          {"weight": _w(b, f"{p}dec.weight", dec.weight)}))
    b.notes.append(f"{name or 'MossFormer'}: {why}")
    return outs[0] if len(outs) == 1 else b.add(f"{p}speakers", "concat", outs, len(outs))
