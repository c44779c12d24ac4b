"""Exporter rule for rill.nn.conv_tasnet.ConvTasNet (asteroid's Conv-TasNet), called by
exporter._module_node with the [B, 1, T] mixture:

    conv1d (encoder, kernel L, stride S) [-> encoder activation]
    group_norm (gLN refused, cLN mode frame, cgLN mode cumulative; eps 1e-8) -> linear (bottleneck)
    per block: linear -> prelu -> group_norm -> conv1d depthwise (padding [p, p], causal
               [(P-1)d, 0] or causal with look-ahead [(P-2)d, d]) -> prelu -> group_norm ->
               linear (res) + add, linear (skip) + add
    prelu -> linear (n_src N masks) -> sigmoid | relu | tanh | softmax (groups n_src, axis 0)
    per source s: slice s -> mul (encoder output) -> conv_transpose1d (decoder, shared weight)
    concat: one output port, channel s = source s

The planner aligns the residual and skip branches and the encoder output with the masks; the
stream equals forward() delayed by the model latency (docs/streaming.md)."""

from .nn import conv_tasnet as ct


class ConvTasNetExportError(ValueError):
    """A configuration that cannot stream (exporter.py reports it as an ExportError)."""


def _w(b, key, t):
    return b.tensor(key, t)


def _pointwise(b, name, conv, x):
    """A 1x1 nn.Conv1d as a per-frame linear map."""
    w = {"weight": _w(b, f"{name}.weight", conv.weight[:, :, 0])}
    if conv.bias is not None:
        w["bias"] = _w(b, f"{name}.bias", conv.bias)
    return b.add(name, "linear", [x], conv.out_channels, weights=w)


def _prelu(b, name, m, x):
    return b.add(name, "prelu", [x], x.channels, weights={"weight": _w(b, f"{name}.weight",
                                                                       m.weight)})


def _norm(b, name, m, x):
    if isinstance(m, ct.GlobLN):  # streaming_mode() explains; checked before emitting
        raise ConvTasNetExportError(f"{name}: gLN cannot stream")
    mode = "cumulative" if isinstance(m, ct.CumLN) else "frame"
    return b.add(name, "group_norm", [x], x.channels, {"groups": 1, "eps": ct.EPS, "mode": mode},
                 {"weight": _w(b, f"{name}.gamma", m.gamma), "bias": _w(b, f"{name}.beta", m.beta)})


def _activation(b, name, m, x, n_src):
    if isinstance(m, ct.nn.Identity):
        return x
    if isinstance(m, ct.nn.Softmax):
        return b.add(name, "softmax", [x], x.channels, {"groups": n_src, "axis": 0})
    op = {ct.nn.ReLU: "relu", ct.nn.Sigmoid: "sigmoid", ct.nn.Tanh: "tanh"}[type(m)]
    return b.add(name, op, [x], x.channels)


def emit(b, name, m, x):
    """Adds the nodes of ConvTasNet `m` (prefix `name`) on input value x; returns the output."""
    mode, why = m.streaming_mode()
    if mode == "offline":
        raise ConvTasNetExportError(why)
    if x.channels != 1:
        raise ConvTasNetExportError(f"takes one mixture channel, got {x.channels}")
    p = f"{name}." if name else ""
    fb = m.encoder.filterbank
    enc = b.add(f"{p}encoder", "conv1d", [x], fb.n_filters,
                {"stride": fb.stride, "padding": [0, 0]},
                {"weight": _w(b, f"{p}encoder.filterbank._filters", fb.filters())})
    enc = _activation(b, f"{p}enc_activation", m.enc_activation, enc, 1)
    mk = m.masker
    h = _norm(b, f"{p}masker.bottleneck.0", mk.bottleneck[0], enc)
    h = _pointwise(b, f"{p}masker.bottleneck.1", mk.bottleneck[1], h)
    skip = None
    for i, blk in enumerate(mk.TCN):
        q = f"{p}masker.TCN.{i}"
        sb = blk.shared_block
        u = _pointwise(b, f"{q}.shared_block.0", sb[0], h)
        u = _prelu(b, f"{q}.shared_block.1", sb[1], u)
        u = _norm(b, f"{q}.shared_block.2", sb[2], u)
        dw = blk.depth_conv
        k, d = dw.kernel_size[0], dw.dilation[0]
        if not blk.causal and 2 * blk.padding != (k - 1) * d:
            raise ConvTasNetExportError(f"{q}: the non-causal depthwise conv (kernel {k}, "
                                        f"dilation {d}) changes the length; use an odd "
                                        f"conv_kernel_size")
        pad = list(blk.pad_left_right)
        key = f"{q}.shared_block.3.0" if blk.causal else f"{q}.shared_block.3"
        w = {"weight": _w(b, f"{key}.weight", dw.weight)}
        if dw.bias is not None:
            w["bias"] = _w(b, f"{key}.bias", dw.bias)
        u = b.add(key, "conv1d", [u], dw.out_channels,
                  {"dilation": d, "groups": dw.groups, "padding": pad}, w)
        u = _prelu(b, f"{q}.shared_block.4", sb[4], u)
        u = _norm(b, f"{q}.shared_block.5", sb[5], u)
        res = _pointwise(b, f"{q}.res_conv", blk.res_conv, u)
        if blk.skip_out_chan:
            s = _pointwise(b, f"{q}.skip_conv", blk.skip_conv, u)
            skip = s if skip is None else b.add(f"{q}.skip_sum", "add", [skip, s], s.channels)
        h = b.add(f"{q}.residual", "add", [h, res], h.channels)
    u = _prelu(b, f"{p}masker.mask_net.0", mk.mask_net[0], skip if mk.skip_chan else h)
    score = _pointwise(b, f"{p}masker.mask_net.1", mk.mask_net[1], u)
    masks = _activation(b, f"{p}masker.output_act", mk.output_act, score, mk.n_src)
    dec = m.decoder.filterbank
    n = fb.n_filters
    outs = []
    for s in range(mk.n_src):
        ms = masks if mk.n_src == 1 else b.add(f"{p}mask{s}", "slice", [masks], n,
                                               {"start": s * n, "end": (s + 1) * n})
        masked = b.add(f"{p}masked{s}", "mul", [ms, enc], n)
        outs.append(b.add(f"{p}decoder{s}", "conv_transpose1d", [masked], 1,
                          {"stride": dec.stride, "padding": 0},
                          {"weight": _w(b, f"{p}decoder.filterbank._filters", dec.filters())}))
    b.notes.append(f"{name or 'ConvTasNet'}: {why}")
    if len(outs) == 1:
        return outs[0]
    return b.add(f"{p}sources", "concat", outs, len(outs))
