#!/usr/bin/env python3
"""The streaming Wavehax vocoder in Rill, PyTorch and onnxruntime, side by side in one run
(figures, no asserts).

    bench_wavehax.py RILL_CLI [--rill MODEL.rill --config METRICS.json] [--seconds 10]
                     [--frames 1,2,8] [--blocks 64,256,1024] [--quick] [--refs DIR]

The model (default): the bundled trained vocoder, assets/speech/vocoder_16k.rill, with its
constructor arguments (the `model` object of its metrics JSON); its weights are read back from
the .rill (layer scales are folded into pwconv2 there, so the PyTorch copy has gamma = 1 and the
folded weights: the same function). Inputs: random log-mel frames and an f0 contour with
unvoiced stretches, 1 thread each.
- Streamed exactly, in calls of F frames (F hops of samples): Rill `rill bench --block F*hop`;
  PyTorch bench/wavehax_stateful.py (look-ahead caches, delay lines, prior phase, STFT and
  overlap-add tails as explicit state; its output is checked against the offline model);
  onnxruntime-node the same module exported to ONNX at F frames.
- Rill alone at host block sizes that are not whole hops (--blocks): its FIFO runs a frame when
  one is complete, so p99 is a frame's cost and p50 may be a copy.
- Offline (the whole signal in one call): PyTorch (the generator itself), onnxruntime (the
  stateful module exported at the whole length), Rill in blocks of 16384 samples; each the
  median of 3 runs."""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "capi" / "python"))
sys.path.insert(0, str(HERE))
import rill  # noqa: E402
from rill.format import read_rill  # noqa: E402
from rill.nn import wavehax as wh  # noqa: E402
from stream_peers import (OFFLINE_RUNS, export_onnx, median_seconds, ort_run,  # noqa: E402
                          percentiles, print_stream_table, rill_bench, rill_offline_rtf,
                          state_shapes)
from wavehax_stateful import StatefulWavehax  # noqa: E402

BUNDLED = ROOT / "assets" / "speech" / "vocoder_16k"
SMOKE = dict(in_channels=8, channels=4, mult_channels=2, kernel_size=7, num_blocks=2, n_fft=64,
             hop_length=32, sample_rate=8000, framewise_norm=True, time_padding="zeros",
             prior_noise_amplitude=0.0, prior_random_phase=False)
OFFLINE_BLOCK = 16384


def generator_from_rill(path, config):
    """The WavehaxGenerator a .rill holds: norms' gamma/beta were repeated over the bins and the
    layer scale folded into pwconv2 (so gamma = 1 here)."""
    g = wh.WavehaxGenerator(**config).eval()
    _, tensors = read_rill(str(path))
    sd = g.state_dict()
    for k, v in sd.items():
        if k.startswith("stft."):
            continue
        if k.endswith(".gamma") and v.dim() == 4:       # layer scale, folded in the file
            sd[k] = torch.ones_like(v)
            continue
        t = torch.from_numpy(tensors["m." + k])
        if t.numel() != v.numel():                       # norm gamma / beta repeated over bins
            t = t[::g.n_bins]
        sd[k] = t.reshape(v.shape)
    g.load_state_dict(sd, strict=True)
    return g


def model_and_file(a, work):
    if a.quick:
        torch.manual_seed(0)
        g = wh.WavehaxGenerator(**SMOKE).eval()
        path = work / "wavehax_smoke.rill"
        cond, f0 = inputs(g, 64)
        held = [wh.hold(cond, g.hop_length)[0], wh.hold(f0, g.hop_length)[0]]
        rill.export(wh.AudioRate(g), path, held, g.sample_rate, verbose=False,
                    inputs=[{"name": "cond", "channels": g.in_channels},
                            {"name": "f0", "channels": 1}])
        return g, path
    cfg = json.loads(pathlib.Path(a.config).read_text())
    return generator_from_rill(a.rill, cfg.get("model", cfg)), pathlib.Path(a.rill)


def inputs(g, frames, seed=2):
    """Random log-mel-like cond [1, in, F] and an f0 contour (80-250 Hz, unvoiced stretches)."""
    r = np.random.RandomState(seed)
    cond = (r.randn(1, g.in_channels, frames) - 4.0).astype(np.float32)
    f0 = 150 + 70 * np.sin(np.arange(frames) / 23.0)
    f0[(np.arange(frames) // 40) % 4 == 3] = 0.0
    return torch.from_numpy(cond), torch.from_numpy(f0.astype(np.float32).reshape(1, 1, -1))


def torch_stream(g, cond, f0, frames):
    step = StatefulWavehax(g, frames)
    state = step.initial_state()
    times, ys = [], []
    with torch.no_grad():
        for pos in range(0, cond.shape[-1] - frames + 1, frames):
            t0 = time.perf_counter()
            y, *state = step(cond[..., pos:pos + frames], f0[..., pos:pos + frames], *state)
            times.append(time.perf_counter() - t0)
            ys.append(y)
    return times, torch.cat(ys, -1), step


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rill_cli")
    ap.add_argument("--rill", default=str(BUNDLED.with_suffix(".rill")))
    ap.add_argument("--config", default=str(BUNDLED.with_suffix(".metrics.json")))
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--frames", default="1,2,8", help="frames per call of the exact streams")
    ap.add_argument("--blocks", default="64,256,1024", help="Rill alone at these block sizes")
    ap.add_argument("--refs", default=str(ROOT / "build" / "onnx-references"))
    ap.add_argument("--quick", action="store_true", help="smoke run: a small random model, 1 s")
    a = ap.parse_args()
    torch.set_num_threads(1)
    seconds = 1.0 if a.quick else a.seconds
    refs = pathlib.Path(a.refs)
    subprocess.run([str(ROOT / "tests" / "onnx" / "ort_setup.sh"), str(refs)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        g, path = model_and_file(a, work)
        sr, hop = g.sample_rate, g.hop_length
        n_frames = int(seconds * sr) // hop // 8 * 8
        cond, f0 = inputs(g, n_frames)
        weights = sum(p.numel() for p in g.parameters())
        print(f"Wavehax {path.name}: {weights:,} weights, {sr:g} Hz, hop {hop}, "
              f"{n_frames * hop / sr:g} s of audio, 1 thread each")
        with torch.no_grad():
            offline = g(cond, f0)[0]
        rows = []
        for k in [int(f) for f in a.frames.split(",")]:
            block = k * hop
            rp50, rp99, rrtf = rill_bench(a.rill_cli, path, block, seconds)
            times, y, step = torch_stream(g, cond, f0, k)
            d = step.output_delay
            inner = y.shape[-1] - d - (step.delay_frames + 2) * hop   # the offline end is padded
            err = float((y[..., d:d + inner] - offline[..., :inner]).abs().max())
            tp50, tp99, tmean = percentiles(times)
            state = step.initial_state()
            names = [f"s{i}" for i in range(len(state))]
            onnx_path = work / f"stateful_{k}.onnx"
            export_onnx(step, [cond[..., :k], f0[..., :k], *state], ["cond", "f0", *names],
                        ["y", *[f"{s}_out" for s in names]], onnx_path)
            shapes = {"cond": [1, g.in_channels, k], "f0": [1, 1, k], **state_shapes(names, state)}
            op50, op99, omean = ort_run(refs, onnx_path, shapes, max(20, n_frames // k))
            budget = 1e6 * block / sr
            rows.append((block, budget, rp50, rp99, rrtf, tp50, tp99, tmean / budget, err, op50,
                         op99, omean / budget))
        host = [(b, *rill_bench(a.rill_cli, path, b, seconds))
                for b in [int(b) for b in a.blocks.split(",")]]
        with torch.no_grad():
            torch_off = median_seconds(lambda: g(cond, f0))
        whole = StatefulWavehax(g, n_frames)
        state = whole.initial_state()
        names = [f"s{i}" for i in range(len(state))]
        export_onnx(whole, [cond, f0, *state], ["cond", "f0", *names],
                    ["y", *[f"{s}_out" for s in names]], work / "offline.onnx")
        ort_off_us, _, _ = ort_run(refs, work / "offline.onnx",
                                   {"cond": list(cond.shape), "f0": list(f0.shape),
                                    **state_shapes(names, state)}, OFFLINE_RUNS)
        rill_off = rill_offline_rtf(a.rill_cli, path, OFFLINE_BLOCK,
                                    max(seconds, 2 * OFFLINE_BLOCK / sr))

    print("\nstreamed exactly, calls of whole hops (p50 / p99 us, RTF):")
    print_stream_table(rows)
    print(f"(PyTorch max|err|: stream vs offline, of an output scale {float(offline.abs().max()):.3g})")
    print("\nRill at host block sizes (a frame runs when a hop is complete):")
    for b, p50, p99, rtf in host:
        print(f"{b:6d} samples: p50 {p50:8.0f} us  p99 {p99:8.0f} us  RTF {rtf:.3f}")
    dur = n_frames * hop / sr
    print(f"\noffline (whole signal): Rill RTF {rill_off:.3f} (blocks of {OFFLINE_BLOCK}), "
          f"PyTorch RTF {torch_off / dur:.3f}, onnxruntime RTF {ort_off_us * 1e-6 / dur:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
