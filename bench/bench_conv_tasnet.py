#!/usr/bin/env python3
"""Conv-TasNet in Rill, PyTorch and onnxruntime, side by side in one run (figures, no asserts).

    bench_conv_tasnet.py RILL_CLI [--seconds 10] [--blocks 64,256,1024] [--quick]
                         [--model paper | --rill MODEL.rill --config CONFIG.json] [--refs DIR]

The model (default): the paper's causal configuration (N=512, L=16, B=128, H=512, Sc=128, P=3, X=8, R=3,
cgLN, 8 kHz, 5.05 M weights, random weights, seed 0), or a trained .rill with its constructor
arguments (the `model` object of its metrics/provenance JSON). Every runner is one thread and gets
the same signal. Per block size:
- Rill: `rill bench MODEL --block B` (the .rill exported by rill.export; stream FIFO, graph,
  everything a user runs): real-time factor, per-block p50 / p99;
- PyTorch streamed exactly: bench/conv_tasnet_stateful.py (convolution caches, norm sums and,
  for a model with look-ahead, the delay lines carried as explicit state), timed per call; its
  output is checked against the offline model;
- onnxruntime streamed exactly: the same stateful module exported to ONNX at that block size,
  run by onnxruntime-node (npm, 1 thread) through bench/ort_stream_bench.js.
Offline (the whole signal in one call): PyTorch, onnxruntime (exported at that length), and Rill
in blocks of 16384 samples, each the median of 3 runs. The machine's other load shows in p99;
run it on a quiet machine."""

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
from rill.nn.conv_tasnet import ConvTasNet  # noqa: E402
from conv_tasnet_stateful import StatefulConvTasNet  # noqa: E402
from stream_peers import (OFFLINE_RUNS, export_onnx, median_seconds, ort_run,  # noqa: E402
                          percentiles, print_stream_table, rill_bench, rill_offline_rtf,
                          state_shapes)

PAPER = dict(n_filters=512, kernel_size=16, stride=8, bn_chan=128, hid_chan=512, skip_chan=128,
             conv_kernel_size=3, n_blocks=8, n_repeats=3, norm_type="cgLN", causal=True,
             mask_act="sigmoid", sample_rate=8000)
SMOKE = dict(PAPER, n_filters=64, bn_chan=32, hid_chan=64, skip_chan=32, n_blocks=3, n_repeats=1)
OFFLINE_BLOCK = 16384


def model_and_file(a, work):
    """(torch model, path of its .rill)."""
    if a.rill:
        cfg = json.loads(pathlib.Path(a.config).read_text())
        cfg = cfg.get("model", cfg)
        n_src = cfg.pop("n_src", 2)
        m = ConvTasNet(n_src, **cfg).eval()
        _, tensors = read_rill(a.rill)
        sd = {k: torch.from_numpy(tensors["m." + k]).reshape(v.shape)
              for k, v in m.state_dict().items()}
        m.load_state_dict(sd, strict=True)
        return m, pathlib.Path(a.rill)
    torch.manual_seed(0)
    cfg = SMOKE if a.quick else PAPER
    m = ConvTasNet(2, **cfg).eval()
    path = work / ("conv_tasnet_smoke.rill" if a.quick else "conv_tasnet_paper.rill")
    x = np.random.RandomState(1).randn(8000).astype(np.float32) * 0.1
    rill.export(m, path, x, cfg["sample_rate"])
    return m, path


def torch_stream(m, x, block):
    step = StatefulConvTasNet(m, block)
    state = step.initial_state()
    times, ys = [], []
    with torch.no_grad():
        for pos in range(0, x.shape[-1] - block + 1, block):
            t0 = time.perf_counter()
            y, *state = step(x[..., pos:pos + block], *state)
            times.append(time.perf_counter() - t0)
            ys.append(y)
    return times, torch.cat(ys, -1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rill_cli")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--blocks", default="64,256,1024")
    ap.add_argument("--rill", help="a trained Conv-TasNet .rill (default: the paper's size)")
    ap.add_argument("--config", help="its constructor arguments (JSON, or a JSON with 'model')")
    ap.add_argument("--refs", default=str(ROOT / "build" / "onnx-references"),
                    help="where onnxruntime-node is (installed from npm when missing)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: a small model, 1 s, figures not meaningful")
    a = ap.parse_args()
    torch.set_num_threads(1)
    seconds = 1.0 if a.quick else a.seconds
    blocks = [int(b) for b in a.blocks.split(",")]
    refs = pathlib.Path(a.refs)
    subprocess.run([str(ROOT / "tests" / "onnx" / "ort_setup.sh"), str(refs)], check=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        m, path = model_and_file(a, work)
        sr = m.encoder.filterbank.sample_rate
        n = int(seconds * sr) // 1024 * 1024
        x = torch.from_numpy(np.random.RandomState(2).randn(1, 1, n).astype(np.float32) * 0.1)
        weights = sum(p.numel() for p in m.parameters())
        print(f"Conv-TasNet {path.name}: {weights:,} weights, {sr:g} Hz, {n / sr:g} s of audio, "
              f"1 thread each")
        fb = m.encoder.filterbank
        with torch.no_grad():  # what the stream gives: the input L - S late, the output S A
            delayed = torch.nn.functional.pad(
                m(torch.nn.functional.pad(x, (fb.kernel_size - fb.stride, 0))),
                (fb.stride * m.lookahead_frames(), 0))
        rows = []
        for block in blocks:
            budget = 1e6 * block / sr
            rp50, rp99, rrtf = rill_bench(a.rill_cli, path, block, seconds)
            times, y = torch_stream(m, x, block)
            err = float((y - delayed[..., :y.shape[-1]]).abs().max())
            tp50, tp99, tmean = percentiles(times)
            step = StatefulConvTasNet(m, block)
            state = step.initial_state()
            names = [f"s{i}" for i in range(len(state))]
            onnx_path = work / f"stateful_{block}.onnx"
            export_onnx(step, [x[..., :block], *state], ["x", *names], ["y", *[f"{s}_out" for s in names]],
                        onnx_path)
            shapes = {"x": [1, 1, block], **state_shapes(names, state)}
            op50, op99, omean = ort_run(refs, onnx_path, shapes, max(20, n // block))
            rows.append((block, budget, rp50, rp99, rrtf, tp50, tp99, tmean / budget, err, op50,
                         op99, omean / budget))
        # Offline: the whole signal in one call.
        with torch.no_grad():
            torch_off = median_seconds(lambda: m(x))
        whole = work / "offline.onnx"
        export_onnx(m, [x], ["x"], ["y"], whole)
        ort_off_us, _, _ = ort_run(refs, whole, {"x": list(x.shape)}, OFFLINE_RUNS)
        rill_off = rill_offline_rtf(a.rill_cli, path, OFFLINE_BLOCK,
                                    max(seconds, 2 * OFFLINE_BLOCK / sr))

    print(f"\nstreamed exactly, per block ({'p50 / p99 us, RTF'}):")
    print_stream_table(rows)
    rill_cost = {b: rrtf for (b, _, _, _, rrtf, *_rest) in rows}
    if 64 in rill_cost and 1024 in rill_cost:
        print(f"Rill cost per sample, block 64 / block 1024: {rill_cost[64] / rill_cost[1024]:.2f}")
    for (b, _, rp50, rp99, *_rest) in rows:
        print(f"Rill p99 / p50 at block {b}: {rp99 / rp50:.2f}")
    dur = n / sr
    print(f"\noffline (whole signal): Rill RTF {rill_off:.3f} (blocks of {OFFLINE_BLOCK}), "
          f"PyTorch RTF {torch_off / dur:.3f}, onnxruntime RTF {ort_off_us * 1e-6 / dur:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
