"""Exporter: a PyTorch module tree -> a .rill model.

    report = rill.export(module, "model.rill", example_input=x, sample_rate=16000,
                         params=[{"name": "drive", "min": 0, "max": 1, "default": 0.5}])
    report.latency_frames, report.replaced, report.nodes, report.weights, report.max_abs_diff

The module is traced with torch.fx (torch.nn layers and rill.nn modules are leaves; containers,
rill.nn modules built of layers (`rill_trace_through`, e.g. rill.nn.rave_blocks) and the
user's own modules are traced through; weight-normalised layers are folded) and every node is
mapped to a Rill op (docs/ops.md). Signals are [batch, channels, time]; the exporter tracks the
axis order of each value through transpose/permute, so nn.Linear, nn.LayerNorm and
nn.LSTM/nn.GRU (batch_first or not) on [B, T, C] / [T, B, C] views map to per-frame ops. F.pad
feeding a convolution becomes the convolution's (left, right) padding. Layers that cannot stream
exactly are replaced by their streaming counterparts (utterance-level nn.GroupNorm /
nn.InstanceNorm1d -> cumulative group_norm) and reported; anything else that has no Rill op is
an ExportError naming the layer or function and the source line that uses it.

Whole networks with their own rules: rill.nn.ConvTasNet (export_conv_tasnet.py),
rill.nn.wavehax.AudioRate (export_wavehax.py; inputs cond and f0 at the audio rate),
rill.nn.MossFormer (export_mossformer2.py; its streaming variant only),
rill.nn.frcrn.Enhancer (export_frcrn.py; FRCRN with cumulative squeeze-excitation).

forward's arguments: one [B, C, T] tensor per entry of `inputs` (default: one input), then, when
`params` is given, one [B, P] tensor holding the model parameters' values in order (the knobs a
user turns; rill.nn.FiLM reads it)."""

import dataclasses
import dis
import inspect
import operator
import os

import numpy as np
import torch
import torch.fx as fx
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.weight_norm import WeightNorm

from . import (export_attention, export_conv_tasnet, export_frcrn, export_mossformer2,
               export_wavehax)
from . import nn as rnn
from ._capi import Model
from .format import to_bytes, write_rill

BCT = "BCT"
_PARAMS = "params"  # the value standing for forward's parameter argument


class ExportError(ValueError):
    """The module uses something Rill cannot run as a stream; the message says what and where."""


@dataclasses.dataclass
class Report:
    path: str
    latency_frames: int
    nodes: int
    weights: int                 # number of scalar weights (the model's parameter count)
    replaced: list               # "node: what was replaced by what, and why"
    ops: dict                    # op -> count
    params: list = dataclasses.field(default_factory=list)   # model parameter (knob) names
    max_abs_diff: float = None   # torch offline vs Rill streamed, when example_input was given
    notes: list = dataclasses.field(default_factory=list)  # e.g. which streaming mode a network
                                                           # supports and why
    original_diff: float = None  # a streaming counterpart: max |its original (the offline model
                                 # it was made from) - Rill streamed| on the example input

    @property
    def parameter_count(self):
        return self.weights

    def __str__(self):
        ops = ", ".join(f"{k} x{v}" for k, v in sorted(self.ops.items()))
        lines = [f"exported {self.path}: {self.nodes} nodes ({ops}), {self.weights} weights, "
                 f"latency {self.latency_frames} frames"]
        if self.params:
            lines.append(f"  params: {', '.join(self.params)}")
        lines += [f"  replaced: {r}" for r in self.replaced]
        lines += [f"  note: {n}" for n in self.notes]
        if self.max_abs_diff is not None:
            what = " (includes the replaced ops' change)" if self.replaced else ""
            lines.append(f"  max |torch offline - rill streamed|{what} on the example input: "
                         f"{self.max_abs_diff:.3g}")
        if self.original_diff is not None:
            lines.append(f"  max |original offline model - rill streamed counterpart| on the "
                         f"example input: {self.original_diff:.3g}")
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------
# Tracing

_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)


class _Proxy(fx.Proxy):
    """fx.Proxy whose tuple unpacking (`a, b = x.chunk(2, 1)`, `y, _ = rnn(x)`) also works on
    Python 3.11: torch 1.13 finds the UNPACK_SEQUENCE by instruction index, which 3.11's inline
    caches shift; matching the byte offset works on every version."""

    def __iter__(self):
        frame = inspect.currentframe().f_back
        for inst in dis.get_instructions(frame.f_code):
            if inst.offset == frame.f_lasti:
                if inst.opname == "UNPACK_SEQUENCE":
                    return (self[i] for i in range(inst.argval))
                break
        return self.tracer.iter(self)


class _Tracer(fx.Tracer):
    def __init__(self):
        super().__init__()
        self.record_stack_traces = True

    def proxy(self, node):
        return _Proxy(node, self)

    def is_leaf_module(self, m, qualname):
        if isinstance(m, _CONTAINERS) or getattr(m, "rill_trace_through", False):
            return False  # containers, and rill.nn modules built of layers (rill.nn.rave_blocks)
        module = type(m).__module__
        return module.startswith("torch.nn") or module.startswith("rill.nn")


def _location(node):
    """The user's source line for an fx node ("file.py:12 in forward"), or ""."""
    trace = node.stack_trace or ""
    torch_dir = os.path.dirname(torch.__file__)
    lines = trace.splitlines()
    for i, line in enumerate(lines):
        s = line.strip()
        if not s.startswith("File "):
            continue
        try:
            path = s.split('"')[1]
            lineno = s.split(", line ")[1].split(",")[0]
            func = s.split(", in ")[1] if ", in " in s else "?"
        except IndexError:
            continue
        if path.startswith(torch_dir) or path.startswith(os.path.dirname(__file__)):
            continue
        code = lines[i + 1].strip() if i + 1 < len(lines) and not lines[i + 1].strip().startswith(
            "File ") else ""
        return f"{path}:{lineno} in {func}" + (f": {code}" if code else "")
    return ""


def _where(node, modules):
    if node.op == "call_module":
        m = modules.get(node.target)
        what = f"module {node.target!r} ({type(m).__name__})"
    elif node.op == "call_method":
        what = f"method .{node.target}()"
    elif node.op == "call_function":
        mod = (getattr(node.target, "__module__", None) or "").replace("_operator", "operator")
        what = f"function {mod + '.' if mod else ''}{getattr(node.target, '__name__', node.target)}"
    else:
        what = f"{node.op} {node.target}"
    loc = _location(node)
    return what + (f" at {loc}" if loc else "")


# ------------------------------------------------------------------------------------------------
# Values and the graph being built


@dataclasses.dataclass
class _Value:
    ref: str            # Rill output reference ("x", "node", "node:1")
    channels: int
    layout: str = BCT   # axis order of the torch tensor: a permutation of "BCT"
    pad: tuple = None   # pending F.pad (left, right), applied by the consuming conv

    @property
    def cdim(self):
        return self.layout.index("C")


class _Unsupported:
    """A traced value with no Rill counterpart (e.g. an RNN's final state); using it is an error."""

    def __init__(self, what):
        self.what = what


class _Builder:
    def __init__(self, param_names):
        self.param_names = param_names
        self.nodes, self.tensors, self.replaced, self.notes = [], {}, [], []
        self.names, self.seen = set(), {}

    def name(self, base):
        base = base.replace(".", "_") or "node"
        n, i = base, 1
        while n in self.names:
            n, i = f"{base}_{i}", i + 1
        self.names.add(n)
        return n

    def tensor(self, key, value):
        if torch.is_tensor(value) and id(value) in self.seen:  # a layer called twice shares
            return self.seen[id(value)][1]                      # its weights in the file
        while key in self.tensors:
            key += "_"
        if torch.is_tensor(value):
            self.seen[id(value)] = (value, key)  # holding value keeps its id unique
            value = value.detach().cpu().numpy()
        self.tensors[key] = np.asarray(value, dtype=np.float32)
        return key

    def add(self, base, op, inputs, channels, attrs=None, weights=None, layout=BCT):
        n = self.name(base)
        self.nodes.append({"name": n, "op": op, "inputs": [v.ref for v in inputs],
                           "attrs": attrs or {}, "weights": weights or {}})
        return _Value(n, channels, layout)


def _materialise(v, where):
    """A value used by anything but a convolution: a pending F.pad cannot be honoured there."""
    if isinstance(v, _Unsupported):
        raise ExportError(f"{where}: uses {v.what}, which has no Rill counterpart")
    if isinstance(v, _Value) and v.pad is not None and v.pad != (0, 0):
        raise ExportError(f"{where}: F.pad of the time axis is only supported directly before a "
                          f"convolution (it becomes the convolution's padding)")
    return v


def _shape(layout):
    return "[" + ", ".join(layout) + "]"


def _expect_layout(v, layout, where, what=None):
    if not isinstance(v, _Value):
        raise ExportError(f"{where}: expects a signal tensor, got {v!r}")
    ok = v.layout == layout if what is None else what(v.layout)
    if not ok:
        want = _shape(layout) if what is None else layout
        raise ExportError(f"{where}: expects a {want} input, got {_shape(v.layout)} (add or remove "
                          f"a transpose(1, 2) / permute)")


def _channels_last(v, where):
    _expect_layout(v, "[B, T, C] or [T, B, C]", where, lambda lay: lay[-1] == "C")


# ------------------------------------------------------------------------------------------------
# Modules


def _conv_padding(b, name, m, x, where):
    """(node input, [l, r]): nn.Conv1d padding, padding='same', pending F.pad; left padding beyond
    the receptive field becomes a delay node (the op requires l <= (k-1)d)."""
    k, d = m.kernel_size[0], m.dilation[0]
    if m.padding_mode != "zeros":
        raise ExportError(f"{where}: padding_mode {m.padding_mode!r} needs samples that have not "
                          f"arrived yet and cannot stream (use zero padding)")
    if isinstance(m, rnn.Conv1d):
        l, r = m.pad
    elif m.padding == "same":
        total = (k - 1) * d
        l, r = total // 2, total - total // 2
    elif m.padding == "valid":
        l, r = 0, 0
    else:
        l = r = m.padding[0]
    if x.pad:
        l, r = l + x.pad[0], r + x.pad[1]
    x = _Value(x.ref, x.channels, x.layout)
    if l > (k - 1) * d:
        extra = l - (k - 1) * d
        x = b.add(f"{name}_delay", "delay", [x], x.channels,
                  {"frames": int(extra)})
        l = (k - 1) * d
    return x, [int(l), int(r)]


def _param(m, src):
    """m.<src>; a weight-normalised one (torch.nn.utils.weight_norm) is folded from its g and v
    now, since the attribute holds whatever the last forward computed."""
    for hook in m._forward_pre_hooks.values():
        if isinstance(hook, WeightNorm) and hook.name == src:
            return hook.compute_weight(m)
    return getattr(m, src, None)


def _affine(name, m, b, **roles):
    return {role: b.tensor(f"{name}.{src}", _param(m, src)) for role, src in roles.items()
            if _param(m, src) is not None}


def _cumulative_norm(b, name, m, x, groups, label):
    """An utterance-level norm cannot stream: replaced by group_norm mode=cumulative (statistics
    of frames 0..t) and reported."""
    b.replaced.append(f"{name}: {label} uses statistics of the whole utterance, which cannot "
                      f"stream; replaced by group_norm groups={groups} mode=cumulative "
                      f"(statistics of frames 0..t)")
    return b.add(name, "group_norm", [x], x.channels,
                 {"groups": groups, "eps": m.eps, "mode": "cumulative"},
                 _affine(name, m, b, weight="weight", bias="bias"))


# Whole networks with their own rule on one [B, C, T] signal: (class, emit, its error).
_NETWORKS = ((rnn.ConvTasNet, export_conv_tasnet.emit, export_conv_tasnet.ConvTasNetExportError),
             (rnn.MossFormer, export_mossformer2.emit, export_mossformer2.MossFormerExportError),
             (rnn.FrcrnEnhancer, export_frcrn.emit, export_frcrn.FrcrnExportError))


def _module_node(b, name, m, args, kwargs, where):
    """Maps one leaf module call; returns the output _Value (or a tuple for recurrent layers)."""
    if not args:
        raise ExportError(f"{where}: called without a signal argument")
    x = args[0]
    with torch.no_grad():
        if isinstance(m, export_attention.LAYERS):
            _materialise(x, where)
            _channels_last(x, where)
            extra = [a for a in list(args[1:]) + list(kwargs.values()) if a is not None]
            if extra:
                raise ExportError(f"{where}: {type(m).__name__} takes only the signal when "
                                  f"exported (an HGRN lower bound goes in its `lower_bound` "
                                  f"attribute)")
            try:
                return export_attention.emit(b, name, m, x)
            except export_attention.LayerExportError as e:
                raise ExportError(f"{where}: {e}") from e
        if isinstance(m, rnn.DCCRN):
            raise ExportError(f"{where}: {export_frcrn.refuse_dccrn()}")
        for network, emit, error in _NETWORKS:
            if isinstance(m, network):
                _materialise(x, where)
                _expect_layout(x, BCT, where)
                try:
                    return emit(b, name, m, x)
                except error as e:
                    raise ExportError(f"{where}: {e}") from e
        if isinstance(m, (rnn.WavehaxAudioRate, rnn.WavehaxGenerator)):
            if isinstance(m, rnn.WavehaxGenerator):
                raise ExportError(f"{where}: {export_wavehax.refuse_generator()}")
            if len(args) != 2 or kwargs:
                raise ExportError(f"{where}: takes (cond, f0) at the audio rate")
            for a in args:
                _materialise(a, where)
                _expect_layout(a, BCT, where)
            try:
                return export_wavehax.emit(b, name, m, args[0], args[1])
            except export_wavehax.WavehaxExportError as e:
                raise ExportError(f"{where}: {e}") from e
        if isinstance(m, nn.Conv1d):
            _expect_layout(x, BCT, where)
            x, padding = _conv_padding(b, name, m, x, where)
            return b.add(name, "conv1d", [x], m.out_channels,
                         {"stride": m.stride[0], "dilation": m.dilation[0], "groups": m.groups,
                          "padding": padding}, _affine(name, m, b, weight="weight", bias="bias"))
        for a in list(args) + list(kwargs.values()):
            if a is not _PARAMS:
                _materialise(a, where)
        if isinstance(m, nn.ConvTranspose1d):
            _expect_layout(x, BCT, where)
            if m.padding_mode != "zeros":
                raise ExportError(f"{where}: padding_mode {m.padding_mode!r} is not supported")
            return b.add(name, "conv_transpose1d", [x], m.out_channels,
                         {"stride": m.stride[0], "dilation": m.dilation[0], "groups": m.groups,
                          "padding": m.padding[0], "output_padding": m.output_padding[0]},
                         _affine(name, m, b, weight="weight", bias="bias"))
        if isinstance(m, rnn.Linear):
            _expect_layout(x, BCT, where)
            return b.add(name, "linear", [x], m.out_features,
                         weights=_affine(name, m, b, weight="weight", bias="bias"))
        if isinstance(m, nn.Linear):
            _channels_last(x, where)
            return b.add(name, "linear", [x], m.out_features,
                         weights=_affine(name, m, b, weight="weight", bias="bias"), layout=x.layout)
        if isinstance(m, nn.LayerNorm):
            _channels_last(x, where)
            if tuple(m.normalized_shape) != (x.channels,):
                raise ExportError(f"{where}: LayerNorm{tuple(m.normalized_shape)} must normalise "
                                  f"the channel axis alone ({x.channels} channels)")
            return b.add(name, "layer_norm", [x], x.channels, {"eps": m.eps},
                         _affine(name, m, b, weight="weight", bias="bias"), x.layout)
        if isinstance(m, rnn.GroupNorm):
            _expect_layout(x, BCT, where)
            return b.add(name, "group_norm", [x], x.channels,
                         {"groups": m.num_groups, "eps": m.eps, "mode": m.mode},
                         _affine(name, m, b, weight="weight", bias="bias"))
        if isinstance(m, nn.GroupNorm):
            _expect_layout(x, BCT, where)
            return _cumulative_norm(b, name, m, x, m.num_groups,
                                    f"nn.GroupNorm({m.num_groups}, {m.num_channels})")
        if isinstance(m, nn.InstanceNorm1d):
            _expect_layout(x, BCT, where)
            if m.track_running_stats:  # eval: running statistics, a per-channel affine map
                return _batch_norm(b, name, m, x)
            return _cumulative_norm(b, name, m, x, x.channels, "nn.InstanceNorm1d")
        if isinstance(m, nn.BatchNorm1d):
            _expect_layout(x, BCT, where)
            if not m.track_running_stats or m.running_mean is None:
                raise ExportError(f"{where}: BatchNorm1d without running statistics normalises "
                                  f"over the batch and cannot stream")
            return _batch_norm(b, name, m, x)
        if isinstance(m, (rnn.LSTM, rnn.GRU)):
            _expect_layout(x, BCT, where)
            return _recurrent(b, name, m, x, BCT, where)
        if isinstance(m, rnn.Recurrent):
            _expect_layout(x, BCT, where)
            return _recurrent(b, name + ".rnn", m.rnn, x, BCT, where)
        if isinstance(m, (nn.LSTM, nn.GRU)):
            if len(args) > 1 and args[1] is not None or kwargs.get("hx") is not None:
                raise ExportError(f"{where}: an initial state cannot be given (Rill starts from "
                                  f"zeros, as nn.LSTM / nn.GRU do without one)")
            want = "BTC" if m.batch_first else "TBC"
            _expect_layout(x, want, where)
            out = _recurrent(b, name, m, x, want, where)
            return (out, _Unsupported(f"the final state of {type(m).__name__} {name!r}"))
        if isinstance(m, rnn.FiLM):
            p = args[1] if len(args) > 1 else kwargs.get("p")
            if p is not _PARAMS:
                raise ExportError(f"{where}: FiLM's second argument must be forward's parameter "
                                  f"argument (the [B, P] model parameters), unchanged")
            unknown = [q for q in m.params if q not in b.param_names]
            if unknown:
                raise ExportError(f"{where}: FiLM uses parameters {unknown} that are not in "
                                  f"params={b.param_names}")
            if m.params != b.param_names:
                raise ExportError(f"{where}: FiLM reads forward's parameter tensor, so its params "
                                  f"must be all model params in order: {b.param_names}")
            return b.add(name, "film", [x], x.channels, {"params": m.params},
                         _affine(name, m, b, weight="weight", bias="bias"), x.layout)
        if isinstance(m, rnn.Snake):
            _expect_layout(x, BCT, where)
            return b.add(name, "snake", [x], x.channels, weights=_affine(name, m, b, alpha="alpha"))
        if isinstance(m, rnn.Delay):
            _expect_layout(x, BCT, where)
            return b.add(name, "delay", [x], x.channels, {"frames": m.frames})
        if isinstance(m, (rnn.STFT, rnn.ISTFT)):
            _expect_layout(x, BCT, where)
            if len(args) > 1 or kwargs:
                raise ExportError(f"{where}: extra arguments (length=...) are not supported")
            op = "stft" if isinstance(m, rnn.STFT) else "istft"
            ch = x.channels * 2 * m.bins if op == "stft" else x.channels // (2 * m.bins)
            return b.add(name, op, [x], ch, {"n_fft": m.n_fft, "hop": m.hop,
                                             "window": m.window_name, "center": bool(m.center)})
        if isinstance(m, nn.PReLU):
            _expect_layout(x, BCT, where, lambda lay: m.num_parameters == 1 or lay == BCT)
            return b.add(name, "prelu", [x], x.channels,
                         weights=_affine(name, m, b, weight="weight"), layout=x.layout)
        simple = {nn.ReLU: ("relu", {}), nn.SiLU: ("silu", {}), nn.Tanh: ("tanh", {}),
                  nn.Sigmoid: ("sigmoid", {}),
                  nn.GELU: ("gelu", {"approximate": getattr(m, "approximate", "none")}),
                  nn.LeakyReLU: ("leaky_relu",
                                 {"negative_slope": float(getattr(m, "negative_slope", 0.01))}),
                  nn.ELU: ("elu", {"alpha": float(getattr(m, "alpha", 1.0))})}
        for cls, (op, attrs) in simple.items():
            if type(m) is cls:
                _expect_layout(x, BCT, where, lambda lay: True)
                return b.add(name, op, [x], x.channels, attrs, layout=x.layout)
        if isinstance(m, nn.GLU):
            return _glu(b, name, x, m.dim, where)
        if isinstance(m, (nn.Identity, nn.Dropout)):
            return x
    raise ExportError(f"{where}: {type(m).__name__} has no Rill op (docs/ops.md lists the ops; "
                      f"rill.nn has streaming counterparts of the layers that need one)")


def _batch_norm(b, name, m, x):
    w = {"running_mean": b.tensor(f"{name}.running_mean", m.running_mean),
         "running_var": b.tensor(f"{name}.running_var", m.running_var)}
    if m.affine:
        w.update(_affine(name, m, b, weight="weight", bias="bias"))
    return b.add(name, "batch_norm", [x], x.channels, {"eps": m.eps}, w)


def _recurrent(b, name, m, x, layout, where):
    if m.bidirectional:
        raise ExportError(f"{where}: a bidirectional {type(m).__name__} reads the future of the "
                          f"whole signal and cannot stream")
    if getattr(m, "proj_size", 0):
        raise ExportError(f"{where}: LSTM proj_size is not supported")
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
        base = name if m.num_layers == 1 else f"{name}.l{layer}"
        v = b.add(base, op, [v], m.hidden_size, attrs, w, layout)
    return v


# ------------------------------------------------------------------------------------------------
# Functions and methods

_UNARY = {torch.sigmoid: "sigmoid", torch.tanh: "tanh", torch.relu: "relu", F.relu: "relu",
          F.silu: "silu", F.gelu: "gelu", F.elu: "elu", F.leaky_relu: "leaky_relu",
          torch.sigmoid: "sigmoid", F.sigmoid: "sigmoid", F.tanh: "tanh",
          "sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu"}
_BINARY = {operator.add: "add", torch.add: "add", operator.sub: "sub", torch.sub: "sub",
           operator.mul: "mul", torch.mul: "mul", operator.truediv: "div", torch.div: "div",
           "add": "add", "sub": "sub", "mul": "mul", "div": "div"}
_NOOP_METHODS = ("contiguous", "clone", "detach", "float")


def _arg(node, args, i, key, default):
    if key in node.kwargs:
        return node.kwargs[key]
    return args[i] if len(args) > i else default


def _channel_dim(v, dim, where):
    if not isinstance(dim, int) or dim % 3 != v.cdim:
        raise ExportError(f"{where}: only operations along the channel axis (dim {v.cdim} of "
                          f"{_shape(v.layout)}) can stream; got dim={dim}")


def _affine_frame(b, base, x, scale, shift, where):
    """y = scale * x + shift as a per-frame linear map."""
    C = x.channels
    w = {"weight": b.tensor(f"{base}.weight", np.eye(C) * scale)}
    if shift:
        w["bias"] = b.tensor(f"{base}.bias", np.full(C, shift))
    return b.add(base, "linear", [x], C, weights=w, layout=x.layout)


def _glu(b, name, x, dim, where):
    _channel_dim(x, dim, where)
    if x.channels % 2:
        raise ExportError(f"{where}: glu needs an even channel count, got {x.channels}")
    return b.add(name, "gate", [x], x.channels // 2, layout=x.layout)


def _binary(b, node, op, a, c, where):
    num = (int, float)
    if node.kwargs.get("alpha", 1) != 1:
        raise ExportError(f"{where}: alpha= is not supported")
    if isinstance(a, _Value) and isinstance(c, num):
        s = float(c)
        table = {"add": (1, s), "sub": (1, -s), "mul": (s, 0), "div": (1 / s if s else None, 0)}
        scale, shift = table[op]
        if scale is None:
            raise ExportError(f"{where}: division by zero")
        return _affine_frame(b, node.name, a, scale, shift, where)
    if isinstance(a, num) and isinstance(c, _Value):
        s = float(a)
        if op == "div":
            raise ExportError(f"{where}: a constant divided by a signal is not supported")
        scale, shift = {"add": (1, s), "sub": (-1, s), "mul": (s, 0)}[op]
        return _affine_frame(b, node.name, c, scale, shift, where)
    if not (isinstance(a, _Value) and isinstance(c, _Value)):
        raise ExportError(f"{where}: operands must be signals or Python numbers (tensor constants "
                          f"are not supported)")
    if op == "div":
        raise ExportError(f"{where}: division of two signals has no Rill op")
    if a.layout != c.layout:
        raise ExportError(f"{where}: operands have different axis orders ({_shape(a.layout)} and "
                          f"{_shape(c.layout)})")
    if a.channels != c.channels and 1 not in (a.channels, c.channels):
        raise ExportError(f"{where}: channel counts {a.channels} and {c.channels} do not "
                          f"broadcast (equal, or one of them 1)")
    return b.add(node.name, op, [a, c], max(a.channels, c.channels), layout=a.layout)


def _function_node(b, node, args, where):
    target = node.target
    if target is F.pad:
        x = args[0]
        pad = tuple(_arg(node, args, 1, "pad", ()))
        mode = _arg(node, args, 2, "mode", "constant")
        value = _arg(node, args, 3, "value", None)
        if len(pad) != 2 or mode != "constant" or value not in (0, 0.0, None) or x.layout != BCT:
            raise ExportError(f"{where}: only zero padding of the time axis of [B, C, T] is "
                              f"supported (pad=(left, right), mode='constant')")
        if min(pad) < 0:
            raise ExportError(f"{where}: negative padding (cropping) is not supported")
        prev = x.pad or (0, 0)
        return _Value(x.ref, x.channels, x.layout, (prev[0] + pad[0], prev[1] + pad[1]))
    if target is operator.getitem and isinstance(args[0], (tuple, list)):
        return args[0][args[1]]
    for a in list(args) + list(node.kwargs.values()):
        if isinstance(a, (list, tuple)):
            for e in a:
                _materialise(e, where)
        elif a is not _PARAMS:
            _materialise(a, where)
    if target is operator.getitem:
        x, idx = args[0], args[1]
        if x is _PARAMS:
            raise ExportError(f"{where}: pass the parameter tensor to rill.nn.FiLM unchanged")
        return _index(b, node, x, idx, where)
    if target in _BINARY:
        return _binary(b, node, _BINARY[target], args[0], args[1], where)
    if target in (operator.neg, torch.neg, "neg"):
        return _affine_frame(b, node.name, args[0], -1.0, 0.0, where)
    if target in _UNARY:
        op, x = _UNARY[target], args[0]
        if not isinstance(x, _Value):
            raise ExportError(f"{where}: expects a signal")
        attrs = {}
        if op == "leaky_relu":
            attrs["negative_slope"] = float(_arg(node, args, 1, "negative_slope", 0.01))
        if op == "gelu":
            attrs["approximate"] = _arg(node, args, 1, "approximate", "none")
        if op == "elu":
            attrs["alpha"] = float(_arg(node, args, 1, "alpha", 1.0))
        return b.add(node.name, op, [x], x.channels, attrs, layout=x.layout)
    if target in (torch.cat, torch.concat):
        xs = list(_arg(node, args, 0, "tensors", ()))
        dim = _arg(node, args, 1, "dim", 0)
        for v in xs:
            _channel_dim(v, dim, where)
        if len({v.layout for v in xs}) != 1:
            raise ExportError(f"{where}: concatenated tensors have different axis orders")
        return b.add(node.name, "concat", xs, sum(v.channels for v in xs), layout=xs[0].layout)
    if target in (F.glu, "glu"):
        return _glu(b, node.name, args[0], _arg(node, args, 1, "dim", -1), where)
    if target in (torch.transpose, "transpose", torch.swapaxes, "swapaxes"):
        x = args[0]
        d0 = _arg(node, args, 1, "dim0", None)
        d1 = _arg(node, args, 2, "dim1", None)
        lay = list(x.layout)
        d0, d1 = d0 % 3, d1 % 3
        lay[d0], lay[d1] = lay[d1], lay[d0]
        if lay[0] != "B" and "".join(lay) != "TBC":
            raise ExportError(f"{where}: gives {_shape(lay)}; only [B, C, T], [B, T, C] and "
                              f"[T, B, C] are supported")
        return _Value(x.ref, x.channels, "".join(lay))
    if target in (torch.permute, "permute"):
        x = args[0]
        rest = args[1:]
        dims = tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else \
            tuple(rest)
        if not dims:
            dims = tuple(node.kwargs.get("dims", ()))
        if sorted(d % 3 for d in dims) != [0, 1, 2]:
            raise ExportError(f"{where}: permute{dims} is not a permutation of 3 axes")
        lay = "".join(x.layout[d % 3] for d in dims)
        if lay not in ("BCT", "BTC", "TBC"):
            raise ExportError(f"{where}: gives {_shape(lay)}; only [B, C, T], [B, T, C] and "
                              f"[T, B, C] are supported")
        return _Value(x.ref, x.channels, lay)
    if target in ("chunk", torch.chunk, "split", torch.split):
        x, n = args[0], _arg(node, args, 1, "chunks" if "chunk" in str(target) else
                             "split_size_or_sections", None)
        if n is None and "split_size" in node.kwargs:
            n = node.kwargs["split_size"]
        dim = _arg(node, args, 2, "dim", 0)
        _channel_dim(x, dim, where)
        if target in ("chunk", torch.chunk):
            size = -(-x.channels // n)
            sizes = [min(size, x.channels - i) for i in range(0, x.channels, size)]
        elif isinstance(n, int):
            sizes = [min(n, x.channels - i) for i in range(0, x.channels, n)]
        else:
            sizes = list(n)
        if sum(sizes) != x.channels:
            raise ExportError(f"{where}: split sizes {sizes} do not add up to {x.channels}")
        v = b.add(node.name, "split", [x], sizes[0], {"sizes": sizes}, layout=x.layout)
        return tuple(_Value(v.ref if i == 0 else f"{v.ref}:{i}", s, x.layout)
                     for i, s in enumerate(sizes))
    if target in _NOOP_METHODS:
        return args[0]
    name = getattr(target, "__name__", target)
    raise ExportError(f"{where}: {name} has no Rill op (docs/ops.md lists the ops)")


def _index(b, node, x, idx, where):
    if not isinstance(idx, tuple):
        idx = (idx,)
    if any(i is Ellipsis for i in idx):
        k = idx.index(Ellipsis)
        idx = idx[:k] + (slice(None),) * (3 - len(idx) + 1) + idx[k + 1:]
    idx = idx + (slice(None),) * (3 - len(idx))
    if len(idx) != 3:
        raise ExportError(f"{where}: unsupported indexing")
    ch = idx[x.cdim]
    if any(i != slice(None) for j, i in enumerate(idx) if j != x.cdim):
        raise ExportError(f"{where}: only slicing the channel axis is supported (the batch and "
                          f"time axes must stay whole)")
    if not isinstance(ch, slice) or ch.step not in (None, 1):
        raise ExportError(f"{where}: only contiguous channel slices a:b are supported")
    start, end, _ = ch.indices(x.channels)
    if end <= start:
        raise ExportError(f"{where}: empty channel slice")
    if (start, end) == (0, x.channels):
        return x
    return b.add(node.name, "slice", [x], end - start, {"start": start, "end": end},
                 layout=x.layout)


# ------------------------------------------------------------------------------------------------
# Graph


def _map_args(a, env):
    if isinstance(a, fx.Node):
        return env[a.name]
    if isinstance(a, (list, tuple)):
        return type(a)(_map_args(x, env) for x in a)
    if isinstance(a, dict):
        return {k: _map_args(v, env) for k, v in a.items()}
    return a


def _norm_inputs(inputs, in_channels, sample_rate):
    if inputs is None:
        inputs = [{"name": "x", "channels": in_channels or 1}]
    out = []
    for i, p in enumerate(inputs):
        p = {"name": p} if isinstance(p, str) else dict(p)
        p.setdefault("name", f"x{i}")
        p.setdefault("channels", 1)
        p.setdefault("kind", "audio")
        p.setdefault("sample_rate", sample_rate)
        out.append(p)
    return out


def _norm_params(params):
    out = []
    for p in params or ():
        p = dict(p) if isinstance(p, dict) else {"name": p}
        p.setdefault("min", 0.0)
        p.setdefault("max", 1.0)
        p.setdefault("default", p["min"])
        p.setdefault("unit", "")
        out.append(p)
    return out


class _Root1(nn.Module):
    """Wraps a leaf module exported on its own, so that fx records it as one call_module."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return self.m(x)


class _Root2(_Root1):
    def forward(self, x, p):
        return self.m(x, p)


class _RootPair(_Root1):
    """A leaf module of two signal inputs (rill.nn.wavehax.AudioRate: cond, f0)."""

    def forward(self, x, y):
        return self.m(x, y)


def build_graph(module, sample_rate, in_channels=None, params=(), meta=None, inputs=None):
    """Traces `module` (in its current train/eval mode) and returns (graph dict, tensors,
    replaced ops) without the C library. in_channels: of the single input when `inputs` is not
    given (default 1)."""
    g, b = _trace(module, sample_rate, in_channels, params, meta, inputs)
    return g, b.tensors, b.replaced


def _trace(module, sample_rate, in_channels, params, meta, inputs):
    """build_graph's work: (graph dict, the _Builder with tensors, replaced ops and notes)."""
    inputs = _norm_inputs(inputs, in_channels, sample_rate)
    params = _norm_params(params)
    b = _Builder([p["name"] for p in params])
    if _Tracer().is_leaf_module(module, ""):
        if len(inputs) == 2 and not params:
            module = _RootPair(module)
        else:
            module = (_Root2 if params else _Root1)(module)
    try:
        graph = _Tracer().trace(module)
    except Exception as e:  # noqa: BLE001  torch.fx's own message says what could not be traced
        raise ExportError(f"torch.fx cannot trace {type(module).__name__}: {e} (data-dependent "
                          f"control flow or shape arithmetic cannot be exported)") from e
    modules = dict(module.named_modules())
    env, placeholders, outputs = {}, 0, None
    for node in graph.nodes:
        if node.op == "placeholder":
            if placeholders < len(inputs):
                p = inputs[placeholders]
                env[node.name] = _Value(p["name"], p["channels"])
            elif placeholders == len(inputs) and params:
                env[node.name] = _PARAMS
            elif node.args:  # an optional argument left at its default
                env[node.name] = node.args[0]
            else:
                raise ExportError(f"forward argument {node.target!r} is neither a signal input "
                                  f"(inputs={[p['name'] for p in inputs]}) nor the parameter "
                                  f"tensor (params=[...])")
            placeholders += 1
            continue
        if node.op == "output":
            outputs = _map_args(node.args[0], env)
            continue
        where = _where(node, modules)
        if node.op == "get_attr":
            raise ExportError(f"{where}: tensors used as constants in forward are not supported "
                              f"(wrap them in a layer: nn.Linear, nn.Conv1d, ...)")
        args = _map_args(node.args, env)
        kwargs = _map_args(node.kwargs, env)
        if node.op == "call_module":
            env[node.name] = _module_node(b, node.target, modules[node.target], args, kwargs,
                                          where)
        else:
            env[node.name] = _function_node(b, node, args, where)
    outs = list(outputs) if isinstance(outputs, (tuple, list)) else [outputs]
    g_outputs = []
    for i, v in enumerate(outs):
        where = f"output {i}"
        if not isinstance(v, _Value):
            raise ExportError(f"{where}: the module must return [B, C, T] signal tensors (one or "
                              f"a tuple), got {type(v).__name__}")
        _materialise(v, where)
        _expect_layout(v, BCT, where)
        name = "y" if len(outs) == 1 else f"y{i}"
        if v.ref in {p["name"] for p in inputs}:
            v = b.add(f"{name}_identity", "identity", [v], v.channels)
        g_outputs.append({"name": name, "kind": "audio", "channels": v.channels, "source": v.ref})
    g = {"inputs": [{k: p[k] for k in ("name", "kind", "channels", "sample_rate")} for p in inputs],
         "outputs": g_outputs, "params": params, "nodes": b.nodes,
         "meta": dict({k: str(v) for k, v in (meta or {}).items()},
                      exporter="rill.export (torch.fx)")}
    return g, b


# ------------------------------------------------------------------------------------------------
# Export and comparison


def _planar_inputs(x, channels):
    """example input (numpy or torch; [T], [C, T], [1, C, T] or a list, one per input) -> list of
    float32 [C_i, T] arrays."""
    if isinstance(x, (list, tuple)):
        xs = [_planar(e) for e in x]
    else:
        full = _planar(x)
        if full.shape[0] != sum(channels):
            raise ExportError(f"example input has {full.shape[0]} channels, the inputs {channels}")
        xs = np.split(full, np.cumsum(channels)[:-1], axis=0)
    for e, c in zip(xs, channels):
        if e.shape[0] != c:
            raise ExportError(f"example input has {e.shape[0]} channels where {c} are declared")
    return xs


def _planar(x):
    if torch.is_tensor(x):
        x = x.detach().cpu().numpy()
    x = np.asarray(x, np.float32)
    if x.ndim == 3:
        if x.shape[0] != 1:
            raise ExportError(f"example input must have batch size 1, got shape {x.shape}")
        x = x[0]
    if x.ndim == 1:
        x = x[None]
    if x.ndim != 2:
        raise ExportError(f"example input must be [T], [C, T] or [1, C, T], got {x.shape}")
    return x


def _torch_output(module, xs, param_values):
    args = [torch.from_numpy(np.ascontiguousarray(e))[None] for e in xs]
    if param_values is not None:
        args.append(param_values)
    with torch.no_grad():
        y = module(*args)
    ys = list(y) if isinstance(y, (tuple, list)) else [y]
    T = min(t.shape[-1] for t in ys)  # offline outputs may differ in length at the end
    return np.concatenate([t[0, :, :T].cpu().numpy() for t in ys], axis=0)


def compare(module, model, x, params=None, block=1024):
    """Max |torch offline - Rill streamed, shifted by the latency| over x.

    module: the torch module; model: a rill.Model, a path or .rill bytes; x: the input as numpy
    or torch, [T], [C, T] or [1, C, T] (or a list, one per model input); params: {name: value}
    (the rest at their defaults). A stream cannot know where a signal ends, so both sides see x
    followed by zeros: the reference is the module offline on that padded signal, cut to len(x)."""
    if not isinstance(model, Model):
        model = Model(model)
    was_training = module.training
    module.eval()
    try:
        names = [p["name"] for p in model.params]
        values = {p["name"]: p["default"] for p in model.params}
        unknown = set(params or {}) - set(values)
        if unknown:
            raise ExportError(f"compare: the model has no parameters {sorted(unknown)}")
        values.update(params or {})
        xs = _planar_inputs(x, [p["channels"] for p in model.inputs])
        T = xs[0].shape[1]
        tail = model.latency_frames + model.hop_frames + 64
        padded = [np.concatenate([e, np.zeros((e.shape[0], tail), np.float32)], axis=1)
                  for e in xs]
        pv = torch.tensor([[values[n] for n in names]], dtype=torch.float32) if names else None
        ref = _torch_output(module, padded, pv)[:, :T]
        got = model.process_offline(np.concatenate(padded, axis=0), params=values, block=block)
        n = min(ref.shape[1], got.shape[1])
        return float(np.max(np.abs(got[:, :n] - ref[:, :n]))) if n else 0.0
    finally:
        module.train(was_training)


def export(module, path, *positional, example_input=None, sample_rate=None, inputs=None, params=(),
           meta=None, in_channels=None, verbose=True):
    """export(module, path, example_input, sample_rate, inputs=, params=, meta=)

    Exports `module` to `path` (.rill), loads it back through the C library (which validates
    and plans it) and returns a Report; prints it unless verbose=False.

    example_input: numpy or torch [T], [C, T] or [1, C, T] (or a list, one per input): sets the
        input channel count and is used to measure max |torch offline - Rill streamed|.
    sample_rate: Hz of the input(s) (required).
    inputs: [{"name", "channels", "kind", "sample_rate"}] or names, one per signal argument of
        forward (default: one input "x" with the example input's channels).
    params: [{"name", "min", "max", "default", "unit"}]: the model parameters; forward then takes
        their values as its last argument, a [B, P] tensor.
    meta: {"description", "license", "source", ...} stored in the file.

    A module made by a streaming_counterpart() that keeps its source in `offline_original` (not a
    submodule) also gets report.original_diff: what streaming costs against that offline model."""
    for value in positional:  # export(m, path, x, 16000) and export(m, path, 16000) both work
        if isinstance(value, (int, float)) and sample_rate is None:
            sample_rate = value
        elif example_input is None and not isinstance(value, (int, float)):
            example_input = value
        else:
            raise ExportError("export(module, path, example_input, sample_rate, ...): too many or "
                              "repeated positional arguments")
    if sample_rate is None or not sample_rate > 0:
        raise ExportError("export: sample_rate (Hz of the input) is required")
    if example_input is not None:
        if inputs is None:
            xs = example_input if isinstance(example_input, (list, tuple)) else [example_input]
            shapes = [_planar(e).shape[0] for e in xs]
            inputs = [{"name": "x" if len(xs) == 1 else f"x{i}", "channels": c}
                      for i, c in enumerate(shapes)]
    was_training = module.training
    module.eval()
    try:
        g, b = _trace(module, sample_rate, in_channels, params, meta, inputs)
        tensors = b.tensors
        model = Model(to_bytes(g, tensors))  # validates and plans with the engine before writing
        write_rill(path, g, tensors)
        ops = {}
        for n in g["nodes"]:
            ops[n["op"]] = ops.get(n["op"], 0) + 1
        report = Report(str(path), model.latency_frames, len(g["nodes"]),
                        int(sum(t.size for t in tensors.values())), b.replaced, ops,
                        [p["name"] for p in g["params"]], notes=list(b.notes))
        if example_input is not None:
            report.max_abs_diff = compare(module, model, example_input)
            original = getattr(module, "offline_original", None)
            if original is not None:  # set by a network's streaming_counterpart()
                report.original_diff = compare(original, model, example_input)
    finally:
        module.train(was_training)
    if verbose:
        print(report)
    return report
