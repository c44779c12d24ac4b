"""Exporter rule for rill.nn.wavehax.AudioRate(WavehaxGenerator), called by
exporter._module_node with the audio-rate cond [B, in_channels, T] and f0 [B, 1, T] values:

    frame (size 1, hop): cond at the frame rate (sample m * hop)
    harmonic_prior (f0 -> prior at the audio rate) -> stft (n_fft, hop, pad (n_fft-hop)/2)
    slice real / imag -> conv1d prior_proj each (shared weights, zero padding [3, 3])
    conv1d cond_proj (zero padding [3, 3]); concat -> 5 x bins channels (c*bins + f)
    conv2d_ft input_proj (1x1) -> layer_norm input_norm (gamma, beta repeated over the bins)
    per block: conv2d_ft dwconv (depthwise, reflect in frequency, [kt//2, kt//2] in time)
               -> layer_norm -> conv2d_ft pwconv1 -> gelu -> conv2d_ft pwconv2 (gamma folded
               into its weight and bias) -> add (the planner delays the residual)
    layer_norm output_norm -> conv2d_ft output_proj (2 x bins: real | imag) -> istft

Only framewise_norm=True streams (per-frame LayerNorm2d over channels and bins = layer_norm over
C * bins channels); the utterance-level one is refused with the reason. Reflect time padding and
the random prior have no streaming form: the stream pads with zeros and computes the
deterministic prior; the report lists both as replaced."""

import copy

from .format import read_rill, write_rill
from .nn import wavehax as wh


class WavehaxExportError(ValueError):
    """A configuration that cannot stream (exporter.py reports it as an ExportError)."""


def _conv2d(b, name, conv, x, weight=None, bias=None, **attrs):
    weight = conv.weight if weight is None else weight
    w = {"weight": b.tensor(f"{name}.weight", weight)}
    bias = conv.bias if bias is None else bias
    if bias is not None:
        w["bias"] = b.tensor(f"{name}.bias", bias)
    bins_out = x.channels // (conv.in_channels)
    return b.add(name, "conv2d_ft", [x], conv.out_channels * bins_out, attrs, w)


def _norm(b, name, m, x, bins):
    """Per-frame LayerNorm2d = layer_norm over the C * bins channels of a frame, with gamma and
    beta repeated over the bins (channel c*bins + f)."""
    return b.add(name, "layer_norm", [x], x.channels, {"eps": m.eps},
                 {"weight": b.tensor(f"{name}.gamma", m.gamma.repeat_interleave(bins)),
                  "bias": b.tensor(f"{name}.beta", m.beta.repeat_interleave(bins))})


def _conv1d(b, name, conv, x):
    w = {"weight": b.tensor(f"{name}.weight", conv.weight)}
    if conv.bias is not None:
        w["bias"] = b.tensor(f"{name}.bias", conv.bias)
    p = conv.padding[0]
    return b.add(name, "conv1d", [x], conv.out_channels, {"padding": [p, p]}, w)


def emit(b, name, m, cond, f0):
    """Adds the nodes of AudioRate `m` (prefix `name`) on the cond and f0 values; returns the
    waveform value."""
    g = m.generator
    mode, why = g.streaming_mode()
    if mode == "offline":
        raise WavehaxExportError(why)
    if cond.channels != g.in_channels or f0.channels != 1:
        raise WavehaxExportError(f"takes cond with {g.in_channels} channels and f0 with 1, got "
                                 f"{cond.channels} and {f0.channels}")
    p = f"{name}." if name else ""
    bins, hop, n_fft = g.n_bins, g.hop_length, g.n_fft
    if g.time_padding == "reflect":
        b.replaced.append(f"{p}*: reflect padding in time at the utterance edges needs frames "
                          f"a stream has not seen; replaced by zero padding (the first and last "
                          f"{g.lookahead_frames()} frames differ from offline)")
    if g.prior_noise_amplitude or g.prior_random_phase:
        b.replaced.append(f"{p}prior: generate_pcph's noise (amplitude "
                          f"{g.prior_noise_amplitude}) and random initial phase replaced by the "
                          f"deterministic prior (harmonic_prior)")
    c = b.add(f"{p}cond_frames", "frame", [cond], cond.channels,
              {"size": 1, "hop": hop, "left_pad": 0})
    prior = b.add(f"{p}prior", "harmonic_prior", [f0], 1,
                  {"sample_rate": float(g.sample_rate), "power_factor": 0.1})
    stft = {"n_fft": n_fft, "hop": hop, "pad": g.stft.pad, "window": "hann"}
    spec = b.add(f"{p}stft", "stft", [prior], 2 * bins, stft)
    real = b.add(f"{p}prior_real", "slice", [spec], bins, {"start": 0, "end": bins})
    imag = b.add(f"{p}prior_imag", "slice", [spec], bins, {"start": bins, "end": 2 * bins})
    real_p = _conv1d(b, f"{p}prior_proj", g.prior_proj, real)
    imag_p = _conv1d(b, f"{p}prior_proj", g.prior_proj, imag)  # the same tensors in the file
    cond_p = _conv1d(b, f"{p}cond_proj", g.cond_proj, c)
    x = b.add(f"{p}stack", "concat", [spec, real_p, imag_p, cond_p], 5 * bins)
    x = _conv2d(b, f"{p}input_proj", g.input_proj, x)
    x = _norm(b, f"{p}input_norm", g.input_norm, x, bins)
    for i, blk in enumerate(g.blocks):
        q = f"{p}blocks.{i}"
        kf, kt = blk.dwconv.kernel_size
        h = _conv2d(b, f"{q}.dwconv", blk.dwconv, x, groups=blk.dwconv.groups,
                    freq_padding=[kf // 2, kf // 2], freq_pad_mode="reflect",
                    time_padding=[kt // 2, kt // 2])
        h = _norm(b, f"{q}.norm", blk.norm, h, bins)
        h = _conv2d(b, f"{q}.pwconv1", blk.pwconv1, h)
        h = b.add(f"{q}.nonlinear", "gelu", [h], h.channels, {"approximate": "none"})
        w2, b2 = blk.pwconv2.weight, blk.pwconv2.bias
        if blk.gamma is not None:  # layer scale folded: gamma (W h + b) = (gamma W) h + gamma b
            gm = blk.gamma.reshape(-1)
            w2 = w2 * gm[:, None, None, None]
            b2 = b2 * gm if b2 is not None else None
        h = _conv2d(b, f"{q}.pwconv2", blk.pwconv2, h, weight=w2, bias=b2)
        x = b.add(f"{q}.residual", "add", [x, h], x.channels)
    x = _norm(b, f"{p}output_norm", g.output_norm, x, bins)
    x = _conv2d(b, f"{p}output_proj", g.output_proj, x)
    y = b.add(f"{p}istft", "istft", [x], 1, stft)
    b.notes.append(f"{name or 'Wavehax'}: {why}")
    return y


def refuse_generator():
    return WavehaxExportError("export rill.nn.wavehax.AudioRate(generator): a Rill model's "
                              "inputs and output share one rate, so cond and f0 enter at the "
                              "audio rate, each frame held for hop samples (wavehax.hold)")


def is_wavehax(module):
    return isinstance(module, (wh.WavehaxGenerator, wh.AudioRate))


def export_windows(module, path, sample_rate, window, hop, crossfade, meta, opset, verbose):
    """The offline windows mode of any Wavehax generator (the released, utterance-normalised
    ones included), called by rill.export_windows: inputs cond (in_channels) and f0 at the audio
    rate as for rill.export; harmonic_prior computes the deterministic prior from f0 before the
    windows (a running phase: continuous across windows); concat -> frame (windows of `window`
    samples every `hop`, both multiples of the generator's hop) -> WindowedGenerator as a
    tensor_program -> overlap_add. generate_pcph's noise and random initial phase are replaced
    by that deterministic prior."""
    from . import offline_windows  # noqa: PLC0415 (both import this module)
    from .exporter import ExportError  # noqa: PLC0415
    g = copy.deepcopy(module.generator if isinstance(module, wh.AudioRate) else module).eval()
    if sample_rate and float(sample_rate) != float(g.sample_rate):
        raise ExportError(f"export_windows: the generator runs at {g.sample_rate} Hz, "
                                 f"not {sample_rate}")
    hop = window // 2 if hop is None else hop
    if window % g.hop_length or hop % g.hop_length:
        raise ExportError(f"export_windows: window ({window}) and hop ({hop}) must be "
                                 f"multiples of the generator's hop ({g.hop_length}), so each "
                                 f"window holds whole frames")
    c = g.in_channels
    meta = dict(meta or {})
    meta.setdefault("description", "Wavehax generator")
    report = offline_windows.export_windows(wh.WindowedGenerator(g), path, g.sample_rate, window,
                                            hop, crossfade, "none", meta, opset, False, c + 2)
    graph, tensors = read_rill(path)
    (port,) = graph["inputs"]
    sr = port["sample_rate"]
    graph["inputs"] = [{"name": "cond", "kind": "audio", "channels": c, "sample_rate": sr},
                       {"name": "f0", "kind": "audio", "channels": 1, "sample_rate": sr}]
    for node in graph["nodes"]:
        node["inputs"] = ["wavehax_inputs" if i == port["name"] else i for i in node["inputs"]]
    graph["nodes"][:0] = [
        {"name": "wavehax_prior", "op": "harmonic_prior", "inputs": ["f0"],
         "attrs": {"sample_rate": float(g.sample_rate), "power_factor": 0.1}, "weights": {}},
        {"name": "wavehax_inputs", "op": "concat", "inputs": ["cond", "f0", "wavehax_prior"],
         "attrs": {}, "weights": {}}]
    write_rill(path, graph, tensors)
    check = offline_windows.Model(path)
    report.latency_frames = check.latency_frames
    if verbose:
        print(report)
    return report
