"""Exporter: a PyTorch module tree -> a .rill model.

The module is traced with torch.fx (torch.nn layers and rill.nn modules are leaves) and every
node is mapped to a Rill op (docs/ops.md). Signals are [batch, channels, time]; the exporter
tracks the layout of each value through transpose/permute, so nn.Linear, nn.LayerNorm and
batch_first nn.LSTM/nn.GRU on [B, T, C] views map to per-frame ops. F.pad feeding a convolution
becomes the convolution's (left, right) padding. Layers that cannot stream exactly are replaced
by their streaming counterparts (utterance-level nn.GroupNorm -> cumulative group_norm) and
reported. Forward arguments after the first are the model parameters (one per entry of `params`,
or one [B, P] tensor), which drive rill.nn.FiLM.

    report = rill.export(module, "model.rill", sample_rate=16000, params=[...])
    report.latency_frames, report.replaced, report.max_abs_diff (when example_input is given)
"""

import dataclasses
import operator

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F

from . import nn as rnn
from ._capi import Model
from .format import to_bytes, write_rill

BCT, BTC = "BCT", "BTC"


class ExportError(ValueError):
    pass


@dataclasses.dataclass
class Report:
    path: str
    latency_frames: int
    nodes: int
    weights: int
    replaced: list
    ops: dict
    max_abs_diff: float = None

    def __str__(self):
        lines = [f"exported {self.path}: {self.nodes} nodes, {self.weights} weights, "
                 f"latency {self.latency_frames} frames"]
        lines += [f"  replaced: {r}" for r in self.replaced]
        if self.max_abs_diff is not None:
            what = " (the replaced ops' change)" if self.replaced else ""
            lines.append(f"  max |torch offline - rill streamed|{what} on the example input: "
                         f"{self.max_abs_diff:.3g}")
        return "\n".join(lines)


class _Tracer(fx.Tracer):
    def is_leaf_module(self, m, name):
        return (type(m).__module__.startswith("torch.nn") or
                type(m).__module__.startswith("rill.nn") or super().is_leaf_module(m, name))


@dataclasses.dataclass
class _Value:
    ref: str            # Rill output reference
    channels: int
    layout: str = BCT
    pad: tuple = None   # pending F.pad (left, right), applied by the consuming conv


class _Builder:
    def __init__(self, module, param_names):
        self.module = module
        self.param_names = param_names
        self.nodes, self.tensors, self.replaced = [], {}, []
        self.names = set()

    def name(self, base):
        base = base.replace(".", "_") or "node"
        n, i = base, 1
        while n in self.names:
            n, i = f"{base}_{i}", i + 1
        self.names.add(n)
        return n

    def tensor(self, key, value):
        self.tensors[key] = np.asarray(value.detach().cpu().numpy() if torch.is_tensor(value)
                                       else value, dtype=np.float32)
        return key

    def add(self, base, op, inputs, channels, attrs=None, weights=None, layout=BCT):
        n = self.name(base)
        self.nodes.append({"name": n, "op": op, "inputs": [v.ref for v in inputs],
                           "attrs": attrs or {}, "weights": weights or {}})
        return _Value(n, channels, layout)

    def materialise(self, v, where):
        """A pending pad that no conv consumed is a plain delay-free zero pad: not streamable."""
        if v.pad is not None and v.pad != (0, 0):
            raise ExportError(f"{where}: F.pad is only supported directly before a convolution")
        return v


def _expect_layout(v, layout, where):
    if v.layout != layout:
        raise ExportError(f"{where}: expects a [B, {'C, T' if layout == BCT else 'T, C'}] input, "
                          f"got [B, {'C, T' if v.layout == BCT else 'T, C'}] (add or remove a "
                          f"transpose(1, 2))")


def _conv_padding(m, pending, where):
    k, d = m.kernel_size[0], m.dilation[0]
    if m.padding_mode != "zeros":
        raise ExportError(f"{where}: padding_mode {m.padding_mode!r} cannot stream (use zeros)")
    if isinstance(m, rnn.Conv1d):
        l, r = m.pad
    elif m.padding == "same":
        total = (k - 1) * d
        l, r = total // 2, total - total // 2
    elif m.padding == "valid":
        l, r = 0, 0
    else:
        l = r = m.padding[0]
    if pending:
        l, r = l + pending[0], r + pending[1]
    return [int(l), int(r)]


def _module_node(b, name, m, args, where):
    """Maps one leaf module call; returns the output _Value (or tuple for recurrent layers)."""
    x = args[0]
    weights = lambda **kw: {role: b.tensor(f"{name}.{src}", t) for role, (src, t) in kw.items()}  # noqa: E731
    with torch.no_grad():
        if isinstance(m, (nn.Conv1d,)):
            _expect_layout(x, BCT, where)
            w = {"weight": ("weight", m.weight)}
            if m.bias is not None:
                w["bias"] = ("bias", m.bias)
            return b.add(name, "conv1d", [x], m.out_channels,
                         {"stride": m.stride[0], "dilation": m.dilation[0], "groups": m.groups,
                          "padding": _conv_padding(m, x.pad, where)}, weights(**w))
        x = b.materialise(x, where)
        if isinstance(m, nn.ConvTranspose1d):
            _expect_layout(x, BCT, where)
            w = {"weight": ("weight", m.weight)}
            if m.bias is not None:
                w["bias"] = ("bias", m.bias)
            return b.add(name, "conv_transpose1d", [x], m.out_channels,
                         {"stride": m.stride[0], "dilation": m.dilation[0], "groups": m.groups,
                          "padding": m.padding[0], "output_padding": m.output_padding[0]},
                         weights(**w))
        if isinstance(m, nn.Linear):
            _expect_layout(x, BTC, where)
            w = {"weight": ("weight", m.weight)}
            if m.bias is not None:
                w["bias"] = ("bias", m.bias)
            return b.add(name, "linear", [x], m.out_features, weights=weights(**w), layout=BTC)
        if isinstance(m, nn.LayerNorm):
            _expect_layout(x, BTC, where)
            if len(m.normalized_shape) != 1:
                raise ExportError(f"{where}: LayerNorm over more than the channel axis")
            w = {"weight": ("weight", m.weight), "bias": ("bias", m.bias)} if m.elementwise_affine else {}
            return b.add(name, "layer_norm", [x], x.channels, {"eps": m.eps}, weights(**w), BTC)
        if isinstance(m, rnn.GroupNorm) or isinstance(m, nn.GroupNorm):
            _expect_layout(x, BCT, where)
            mode = getattr(m, "mode", None)
            if mode is None:
                mode = "cumulative"
                b.replaced.append(f"{name}: nn.GroupNorm uses statistics of the whole utterance, "
                                  f"which cannot stream; replaced by its cumulative form "
                                  f"(group_norm mode=cumulative)")
            w = {"weight": ("weight", m.weight), "bias": ("bias", m.bias)} if m.weight is not None else {}
            return b.add(name, "group_norm", [x], x.channels,
                         {"groups": m.num_groups, "eps": m.eps, "mode": mode}, weights(**w))
        if isinstance(m, nn.BatchNorm1d):
            _expect_layout(x, BCT, where)
            w = {"running_mean": ("running_mean", m.running_mean),
                 "running_var": ("running_var", m.running_var)}
            if m.affine:
                w.update(weight=("weight", m.weight), bias=("bias", m.bias))
            return b.add(name, "batch_norm", [x], x.channels, {"eps": m.eps}, weights(**w))
        if isinstance(m, (nn.LSTM, nn.GRU)):
            return _recurrent(b, name, m, x, where)
        if isinstance(m, rnn.Recurrent):
            _expect_layout(x, BCT, where)
            out = _recurrent(b, name + ".rnn", m.rnn, _Value(x.ref, x.channels, BTC), where)[0]
            return _Value(out.ref, out.channels, BCT)
        if isinstance(m, rnn.FiLM):
            if len(args) < 2 or args[1] != "params":
                raise ExportError(f"{where}: FiLM's second argument must be the model parameters")
            unknown = [p for p in m.params if p not in b.param_names]
            if unknown:
                raise ExportError(f"{where}: FiLM uses parameters {unknown} that are not in params")
            return b.add(name, "film", [x], x.channels, {"params": m.params},
                         weights(weight=("weight", m.weight), bias=("bias", m.bias)), x.layout)
        if isinstance(m, rnn.Snake):
            _expect_layout(x, BCT, where)
            return b.add(name, "snake", [x], x.channels, weights=weights(alpha=("alpha", m.alpha)))
        if isinstance(m, rnn.Delay):
            return b.add(name, "delay", [x], x.channels, {"frames": m.frames}, layout=x.layout)
        if isinstance(m, rnn.STFT):
            _expect_layout(x, BCT, where)
            return b.add(name, "stft", [x], x.channels * 2 * m.bins,
                         {"n_fft": m.n_fft, "hop": m.hop, "window": m.window_name, "center": m.center})
        if isinstance(m, rnn.ISTFT):
            _expect_layout(x, BCT, where)
            return b.add(name, "istft", [x], x.channels // (2 * m.bins),
                         {"n_fft": m.n_fft, "hop": m.hop, "window": m.window_name, "center": m.center})
        if isinstance(m, nn.PReLU):
            _expect_layout(x, BCT, where)
            return b.add(name, "prelu", [x], x.channels, weights=weights(weight=("weight", m.weight)))
        simple = {nn.ReLU: ("relu", {}), nn.SiLU: ("silu", {}), nn.Tanh: ("tanh", {}),
                  nn.Sigmoid: ("sigmoid", {}),
                  nn.GELU: ("gelu", {"approximate": getattr(m, "approximate", "none")}),
                  nn.LeakyReLU: ("leaky_relu", {"negative_slope": getattr(m, "negative_slope", 0.01)}),
                  nn.ELU: ("elu", {"alpha": getattr(m, "alpha", 1.0)})}
        for cls, (op, attrs) in simple.items():
            if type(m) is cls:
                return b.add(name, op, [x], x.channels, attrs, layout=x.layout)
        if isinstance(m, (nn.Identity, nn.Dropout)):
            return x
    raise ExportError(f"{where}: module {type(m).__name__} has no Rill op (docs/ops.md lists them)")


def _recurrent(b, name, m, x, where):
    _expect_layout(x, BTC, where)
    if m.bidirectional:
        raise ExportError(f"{where}: a bidirectional {type(m).__name__} reads the future of the "
                          f"whole signal and cannot stream")
    if not m.batch_first:
        raise ExportError(f"{where}: use batch_first=True")
    op = "lstm" if isinstance(m, nn.LSTM) else "gru"
    v = x
    for layer in range(m.num_layers):
        w = {}
        for role in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            t = getattr(m, f"{role}_l{layer}", None)
            if t is not None:
                w[role] = b.tensor(f"{name}.{role}_l{layer}", t)
        attrs = {"hidden_size": m.hidden_size}
        if op == "gru":
            attrs["linear_before_reset"] = 1
        v = b.add(f"{name}.l{layer}", op, [v], m.hidden_size, attrs, w, BTC)
    return (v, None)


_FUNCTIONS = {torch.sigmoid: "sigmoid", torch.tanh: "tanh", torch.relu: "relu", F.relu: "relu",
              F.silu: "silu", F.gelu: "gelu", F.elu: "elu", F.leaky_relu: "leaky_relu",
              torch.sigmoid.__name__: "sigmoid", "sigmoid": "sigmoid", "tanh": "tanh",
              "relu": "relu"}
_BINARY = {operator.add: "add", torch.add: "add", operator.sub: "sub", torch.sub: "sub",
           operator.mul: "mul", torch.mul: "mul", "add": "add", "sub": "sub", "mul": "mul"}


def _channel_dim(v, dim, where):
    d = dim if dim >= 0 else dim + 3
    if (v.layout == BCT and d != 1) or (v.layout == BTC and d != 2):
        raise ExportError(f"{where}: only operations along the channel axis can stream")


def _scalar(b, base, x, s, op, where):
    """x * s or x + s as a per-frame linear map (weight s*I or I with bias s)."""
    C = x.channels
    if op == "mul":
        w = {"weight": b.tensor(f"{base}.weight", np.eye(C) * s)}
    elif op in ("add", "sub"):
        w = {"weight": b.tensor(f"{base}.weight", np.eye(C)),
             "bias": b.tensor(f"{base}.bias", np.full(C, s if op == "add" else -s))}
    else:
        raise ExportError(f"{where}: {op} with a constant is not supported")
    return b.add(base, "linear", [x], C, weights=w, layout=x.layout)


def _function_node(b, node, args, where):
    target = node.target
    if target in _BINARY:
        op = _BINARY[target]
        a, c = args[0], args[1]
        if isinstance(c, (int, float)) and isinstance(a, _Value):
            return _scalar(b, node.name, a, c, op, where)
        if isinstance(a, (int, float)) and isinstance(c, _Value) and op in ("add", "mul"):
            return _scalar(b, node.name, c, a, op, where)
        if a.layout != c.layout:
            raise ExportError(f"{where}: operands have different layouts")
        return b.add(node.name, op, [a, c], max(a.channels, c.channels), layout=a.layout)
    if target in _FUNCTIONS or (isinstance(target, str) and target in _FUNCTIONS):
        op = _FUNCTIONS[target]
        x = args[0]
        attrs = {}
        if op == "leaky_relu":
            attrs["negative_slope"] = float(node.kwargs.get("negative_slope", args[1] if len(args) > 1 else 0.01))
        if op == "gelu":
            attrs["approximate"] = node.kwargs.get("approximate", "none")
        return b.add(node.name, op, [x], x.channels, attrs, layout=x.layout)
    if target is F.pad:
        x, pad = args[0], tuple(args[1])
        mode = node.kwargs.get("mode", args[2] if len(args) > 2 else "constant")
        value = node.kwargs.get("value", args[3] if len(args) > 3 else 0)
        if len(pad) != 2 or mode != "constant" or value not in (0, None) or x.layout != BCT:
            raise ExportError(f"{where}: only zero padding of the time axis is supported")
        prev = x.pad or (0, 0)
        return _Value(x.ref, x.channels, x.layout, (prev[0] + pad[0], prev[1] + pad[1]))
    if target is torch.cat:
        xs = args[0]
        dim = node.kwargs.get("dim", args[1] if len(args) > 1 else 0)
        _channel_dim(xs[0], dim, where)
        return b.add(node.name, "concat", list(xs), sum(v.channels for v in xs), layout=xs[0].layout)
    if target is F.glu:
        x = args[0]
        _channel_dim(x, node.kwargs.get("dim", args[1] if len(args) > 1 else -1), where)
        return b.add(node.name, "gate", [x], x.channels // 2, layout=x.layout)
    if target in (torch.transpose, "transpose"):
        d0, d1 = sorted(d % 3 for d in args[1:3])
        if (d0, d1) != (1, 2):
            raise ExportError(f"{where}: only transpose(1, 2) is supported")
        x = args[0]
        return _Value(x.ref, x.channels, BTC if x.layout == BCT else BCT, x.pad)
    if target in (torch.permute, "permute"):
        dims = tuple(args[1]) if isinstance(args[1], (tuple, list)) else tuple(args[1:])
        if dims != (0, 2, 1):
            raise ExportError(f"{where}: only permute(0, 2, 1) is supported")
        x = args[0]
        return _Value(x.ref, x.channels, BTC if x.layout == BCT else BCT, x.pad)
    if target in ("chunk", torch.chunk, "split", torch.split):
        x, n = args[0], args[1]
        dim = node.kwargs.get("dim", args[2] if len(args) > 2 else 0)
        _channel_dim(x, dim, where)
        if target in ("chunk", torch.chunk):
            sizes = [x.channels // n] * n
        else:
            sizes = [n] * (x.channels // n) if isinstance(n, int) else list(n)
        v = b.add(node.name, "split", [x], x.channels, {"sizes": sizes}, layout=x.layout)
        return tuple(_Value(v.ref if i == 0 else f"{v.ref}:{i}", s, x.layout)
                     for i, s in enumerate(sizes))
    if target is operator.getitem:
        x, idx = args[0], args[1]
        if isinstance(x, tuple):
            return x[idx]
        if isinstance(idx, tuple) and len(idx) >= 2 and all(i == slice(None) for i in idx[:1]):
            ch = idx[1] if x.layout == BCT else (idx[2] if len(idx) > 2 else slice(None))
            rest = [i for j, i in enumerate(idx) if j not in (0, 1 if x.layout == BCT else 2)]
            if any(i != slice(None) for i in rest) or not isinstance(ch, slice) or ch.step not in (None, 1):
                raise ExportError(f"{where}: only contiguous channel slices are supported")
            start, end, _ = ch.indices(x.channels)
            return b.add(node.name, "slice", [x], end - start, {"start": start, "end": end},
                         layout=x.layout)
        raise ExportError(f"{where}: unsupported indexing {idx!r}")
    if target in ("contiguous",):
        return args[0]
    raise ExportError(f"{where}: {getattr(target, '__name__', target)} has no Rill op")


def _map_args(a, env):
    if isinstance(a, fx.Node):
        return env[a.name]
    if isinstance(a, (list, tuple)):
        return type(a)(_map_args(x, env) for x in a)
    return a


def build_graph(module, sample_rate, in_channels=1, params=(), meta=None):
    """Traces `module` and returns (graph dict, tensors, replaced ops)."""
    params = [dict(p) if isinstance(p, dict) else {"name": p} for p in params]
    for p in params:
        p.setdefault("min", 0.0), p.setdefault("max", 1.0), p.setdefault("default", p["min"])
    b = _Builder(module, [p["name"] for p in params])
    graph = _Tracer().trace(module)
    modules = dict(module.named_modules())
    env, placeholders, out_value = {}, 0, None
    for node in graph.nodes:
        where = f"{node.op} {node.name} ({node.target})"
        if node.op == "placeholder":
            env[node.name] = _Value("x", in_channels) if placeholders == 0 else "params"
            placeholders += 1
        elif node.op == "get_attr":
            raise ExportError(f"{where}: tensors used as constants are not supported")
        elif node.op == "call_module":
            args = _map_args(node.args, env)
            env[node.name] = _module_node(b, node.target, modules[node.target], args, where)
        elif node.op in ("call_function", "call_method"):
            env[node.name] = _function_node(b, node, _map_args(node.args, env), where)
        elif node.op == "output":
            out_value = _map_args(node.args[0], env)
    if not isinstance(out_value, _Value):
        raise ExportError("the module must return one [B, C, T] tensor")
    out_value = b.materialise(out_value, "output")
    _expect_layout(out_value, BCT, "output")
    if out_value.ref == "x":
        out_value = b.add("identity", "identity", [out_value], out_value.channels)
    g = {"inputs": [{"name": "x", "kind": "audio", "channels": in_channels,
                     "sample_rate": sample_rate}],
         "outputs": [{"name": "y", "kind": "audio", "channels": out_value.channels,
                      "source": out_value.ref}],
         "params": params, "nodes": b.nodes,
         "meta": dict(meta or {}, exporter="rill.export (torch.fx)")}
    return g, b.tensors, b.replaced


def _torch_forward(module, x, param_values):
    if param_values is None:
        return module(x)
    return module(x, param_values)


def compare(module, model, x, params=None):
    """Max |torch offline - Rill streamed, shifted by the latency| over x [C, T] (numpy).

    A stream cannot know where a signal ends, so both sides see x followed by zeros: the
    reference is the module offline on that padded signal, cut to len(x)."""
    if isinstance(model, (str, bytes)):
        model = Model(model)
    names = [p["name"] for p in model.params]
    values = {p["name"]: p["default"] for p in model.params}
    values.update(params or {})
    x = np.asarray(x, np.float32)
    T = x.shape[1]
    tail = model.latency_frames + model.hop_frames + 64
    padded = np.concatenate([x, np.zeros((x.shape[0], tail), np.float32)], axis=1)
    with torch.no_grad():
        pv = torch.tensor([[values[n] for n in names]], dtype=torch.float32) if names else None
        ref = _torch_forward(module, torch.as_tensor(padded)[None], pv)[0].numpy()[:, :T]
    got = model.process_offline(padded, params=values)[:, :ref.shape[1]]
    return float(np.max(np.abs(got - ref)))


def export(module, path, sample_rate, in_channels=1, params=(), meta=None, example_input=None,
           verbose=True):
    """Exports `module` to `path`, loads it back through the C library, and returns a Report."""
    module = module.eval()
    g, tensors, replaced = build_graph(module, sample_rate, in_channels, params, meta)
    model = Model(to_bytes(g, tensors))  # validates with the engine before writing
    write_rill(path, g, tensors)
    ops = {}
    for n in g["nodes"]:
        ops[n["op"]] = ops.get(n["op"], 0) + 1
    report = Report(str(path), model.latency_frames, len(g["nodes"]),
                    int(sum(t.size for t in tensors.values())), replaced, ops)
    if example_input is not None:  # with replaced ops: their measured effect on the output
        report.max_abs_diff = compare(module, model, example_input)
    if verbose:
        print(report)
    return report
