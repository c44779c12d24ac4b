#!/usr/bin/env python3
"""Per-frame cost of real ONNX models in Rill and in onnxruntime (onnxruntime-node from npm,
1 thread), side by side in one run. Both are driven frame by frame as upstream drives them: one
call per hop (GTCRN: one STFT frame of 256 new samples; Silero VAD: 512 new samples + 64 of
context), state carried between calls. Rill runs `rill bench MODEL --block HOP` (the .onnx
loaded directly: import, stream FIFO, framing and the tensor program, everything a user runs);
onnxruntime runs bench/ort_stream_bench.js on the same file.

  bench_onnx.py RILL_CLI [--seconds S] [--quick] [--refs DIR]
Models come from ../shared/models (RILL_SHARED_MODELS); exit 77 when they are absent."""
import argparse
import json
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
MODELS = pathlib.Path(os.environ.get("RILL_SHARED_MODELS", ROOT.parent / "shared" / "models"))

CASES = [
    # name, file, hop (samples at 16 kHz), onnxruntime input shapes
    ("GTCRN", "gtcrn/gtcrn_simple.onnx", 256,
     {"mix": [1, 257, 1, 2], "conv_cache": [2, 1, 16, 16, 33], "tra_cache": [2, 3, 1, 1, 16],
      "inter_cache": [2, 1, 33, 16]}),
    ("Silero VAD v6", "silero-vad/silero_vad_16k_op15.onnx", 512,
     {"input": [1, 576], "state": [2, 1, 128]}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("rill")
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--quick", action="store_true", help="a short smoke run (figures not meaningful)")
    ap.add_argument("--refs", default=str(ROOT / "build" / "onnx-references"))
    a = ap.parse_args()
    if not MODELS.is_dir():
        print(f"SKIP: {MODELS} not found")
        return 77
    seconds = 1.0 if a.quick else a.seconds
    refs = pathlib.Path(a.refs)
    subprocess.run([ROOT / "tests" / "onnx" / "ort_setup.sh", refs], check=True)
    env = dict(os.environ, NODE_PATH=str(refs / "node_modules"))
    rows = []
    for name, rel, hop, shapes in CASES:
        model = MODELS / rel
        r = json.loads(subprocess.run([a.rill, "bench", model, "--block", str(hop), "--seconds",
                                       str(seconds), "--json"], check=True, capture_output=True,
                                      text=True).stdout)
        calls = max(20, int(seconds * 16000 / hop))
        o = json.loads(subprocess.run(["node", HERE / "ort_stream_bench.js", model, json.dumps(shapes),
                                       str(calls)], check=True, capture_output=True, text=True,
                                      env=env).stdout)
        frame_us = 1e6 * hop / 16000
        rill_mean = r["real_time_factor"] * frame_us
        rows.append((name, hop, r["block_us"]["p50"], r["block_us"]["p99"], r["real_time_factor"],
                     r["allocations_during_process"], o["p50_us"], o["p99_us"], o["mean_us"] / frame_us,
                     o["p50_us"] / r["block_us"]["p50"], o["mean_us"] / rill_mean))
    print(f"per-frame cost, 1 thread, {seconds:g} s of audio per model "
          "(Rill: rill bench, whole stream; onnxruntime-node 1.20.1: session.run per frame)")
    print(f"{'model':14} {'hop':>4} | {'Rill p50 us':>11} {'p99 us':>8} {'RTF':>7} {'allocs':>6} | "
          f"{'ORT p50 us':>10} {'p99 us':>8} {'RTF':>7} | {'speed-up p50':>12} {'mean':>6}")
    for n, hop, rp50, rp99, rrtf, alloc, op50, op99, ortf, s50, smean in rows:
        print(f"{n:14} {hop:4d} | {rp50:11.1f} {rp99:8.1f} {rrtf:7.4f} {alloc:6d} | "
              f"{op50:10.1f} {op99:8.1f} {ortf:7.4f} | {s50:11.2f}x {smean:5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
