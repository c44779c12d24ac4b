"""Offline windows mode: a PyTorch audio -> audio module that cannot stream (statistics or
attention over the whole utterance: gLN Conv-TasNet, the released MossFormer2 / FRCRN
configurations) runs in Rill on long overlapping windows (docs/offline.md).

    report = rill.export_windows(module, "model.rill", 8000, window=32000, hop=16000)

The module (input [1, 1, W] -> output [1, S, W], or [1, W]) is exported with torch.onnx.export at
the fixed length W and imported with the `window` front end and the `overlap_add` back end: the
stream cuts windows of W samples every `hop` samples (W - hop zeros before the first), runs the
module on each window and crossfades the outputs (docs/ops.md, overlap_add). Any input length and
block size works; the latency is W - 1 samples (W - hop in the graph, hop - 1 in the block FIFO:
a window is complete only when its last sample has arrived), and the cost is that of the module
on W samples every hop samples (W / hop times the whole-file cost per sample)."""

import dataclasses
import io
import itertools
import warnings

import numpy as np
import torch

from . import export_wavehax
from ._capi import Model
from .exporter import ExportError
from .format import read_rill, write_rill

CROSSFADES = ("tukey", "hann", "rect")
ALIGNS = ("none", "permutation")


@dataclasses.dataclass
class WindowsReport:
    path: str
    window: int
    hop: int
    sources: int
    latency_frames: int
    mode: str

    @property
    def cost_factor(self):
        """Model evaluations per input sample relative to one pass over the whole file."""
        return self.window / self.hop

    def __str__(self):
        return (f"exported {self.path}: {self.mode}, {self.sources} output channel(s), latency "
                f"{self.latency_frames} frames, cost {self.cost_factor:.2f}x the whole-file model")


def mode_text(window, hop):
    """The mode stored in the file's meta."""
    return f"offline windows ({window} samples, hop {hop})"


def import_options(sample_rate, window, hop, crossfade="tukey", align="none"):
    """The ONNX import options of the windows mode (docs/onnx.md)."""
    return {"sample_rate": sample_rate, "frontend": "window", "window_size": window, "hop": hop,
            "backend": "overlap_add", "crossfade": crossfade, "align": align}


def _onnx_bytes(module, window, opset, channels=1):
    buf = io.BytesIO()
    with torch.no_grad(), warnings.catch_warnings():
        # Expected for a trace at one fixed length: shapes become constants. GroupNorm exports
        # as InstanceNormalization "in training mode" (instance statistics, which it needs).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", message="(Constant folding|The shape inference|ONNX "
                                "export mode is set to TrainingMode.EVAL, but operator "
                                "'instance_norm')")
        torch.onnx.export(module, torch.zeros(1, channels, window), buf, input_names=["x"],
                          output_names=["y"], opset_version=opset)
    return buf.getvalue()


def export_windows(module, path, sample_rate, window, hop=None, crossfade="tukey", align="none",
                   meta=None, opset=13, verbose=True, channels=1):
    """Exports `module` (audio [1, channels, W] -> [1, S, W]) to `path` (.rill) in the offline
    windows mode: windows of `window` samples every `hop` (default window // 2), outputs
    crossfaded (`crossfade` tukey | hann | rect; `align` "permutation" reorders each window's
    sources to follow the previous window, for separators trained with PIT). Returns a
    WindowsReport. A Wavehax generator (rill.nn.wavehax) goes through
    export_wavehax.export_windows (inputs cond and f0, the prior computed before the windows)."""
    if export_wavehax.is_wavehax(module):
        return export_wavehax.export_windows(module, path, sample_rate, window, hop, crossfade,
                                             meta, opset, verbose)
    if not sample_rate or sample_rate <= 0:
        raise ExportError("export_windows: sample_rate (Hz) is required")
    window = int(window)
    hop = window // 2 if hop is None else int(hop)
    if window < 1 or not 1 <= hop <= window:
        raise ExportError(f"export_windows: needs window >= 1 and 1 <= hop <= window, got "
                          f"window {window}, hop {hop}")
    if crossfade not in CROSSFADES or align not in ALIGNS:
        raise ExportError(f"export_windows: crossfade must be one of {CROSSFADES} and align one "
                          f"of {ALIGNS}")
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            y = module(torch.zeros(1, channels, window))
        shape = tuple(y.shape)
        if len(shape) not in (2, 3) or shape[0] != 1 or shape[-1] != window:
            raise ExportError(f"export_windows: the module's output for a window "
                              f"[1, {channels}, {window}] "
                              f"is {list(shape)}; the windows mode needs [1, S, {window}] or "
                              f"[1, {window}] (audio of the window's length per source)")
        data = _onnx_bytes(module, window, opset, channels)
    finally:
        module.train(was_training)
    model = Model(data, import_options(sample_rate, window, hop, crossfade, align))
    model.save(path)
    graph, tensors = read_rill(path)
    mode = mode_text(window, hop)
    extra = dict(meta or {})
    what = extra.pop("description", type(module).__name__)
    graph["meta"] = dict(graph.get("meta", {}), **extra, mode=mode,
                         description=f"{what}; {mode} mode")  # `rill info` shows the mode
    write_rill(path, graph, tensors)
    check = Model(path)
    report = WindowsReport(str(path), window, hop, check.output_channels, check.latency_frames,
                           mode)
    if verbose:
        print(report)
    return report


def windowed_reference(module, x, window, hop, crossfade="tukey", align="none"):
    """The same computation in PyTorch/NumPy (float64 overlap-add): x [T] or [C, T] -> [S, T]
    aligned with x (output n belongs to input n), over every window that holds a sample of x."""
    x = np.asarray(x, np.float64)
    x = x.reshape(1, -1) if x.ndim == 1 else x
    T, pad = x.shape[1], window - hop
    M = max(1, -(-(T + pad) // hop))  # windows m with m*hop < pad + T
    xp = np.zeros((x.shape[0], (M - 1) * hop + window))
    xp[:, pad:pad + T] = x
    frames = np.stack([xp[:, m * hop:m * hop + window] for m in range(M)])
    with torch.no_grad():
        out = module(torch.tensor(frames, dtype=torch.float32)).double().numpy()
    out = out.reshape(M, -1, window)
    a = crossfade_window(crossfade, window, hop)
    S = out.shape[1]
    z = np.zeros((S, xp.shape[1]))
    e = np.zeros(xp.shape[1])
    for m in range(M):
        at = m * hop
        frame = out[m]
        if align == "permutation" and S > 1:
            corr = z[:, at:at + pad] @ frame[:, :pad].T  # [output s, frame source k]
            best, perm = None, None
            for p in itertools.permutations(range(S)):
                score = sum(corr[s, p[s]] for s in range(S))
                if best is None or score > best:
                    best, perm = score, p
            frame = frame[list(perm)]
        z[:, at:at + window] += a * frame
        e[at:at + window] += a
    return (z / e)[:, pad:pad + T]


def crossfade_window(kind, window, hop):
    """The overlap_add op's crossfade a[j] (docs/ops.md)."""
    j = np.arange(window, dtype=np.float64)
    if kind == "hann":
        return np.sin(np.pi * (j + 0.5) / window) ** 2
    a = np.ones(window)
    fade = min(window - hop, window // 2)
    if kind == "tukey" and fade > 0:
        k = np.minimum(j, window - 1 - j)
        a = np.where(k < fade, np.sin(np.pi * (k + 0.5) / (2 * fade)) ** 2, 1.0)
    return a
