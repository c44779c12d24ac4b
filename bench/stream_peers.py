"""Shared by the side-by-side streaming benchmarks (bench_conv_tasnet.py, bench_wavehax.py):
`rill bench` figures, per-call percentiles, ONNX export of a stateful module and its timing in
onnxruntime-node (bench/ort_stream_bench.js, 1 thread)."""

import json
import os
import pathlib
import subprocess
import time
import warnings

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent


def percentiles(times_s, skip=5):
    """(p50, p99, mean) in microseconds, the first `skip` calls (warm-up) left out."""
    t = np.sort(np.asarray(times_s[skip:] if len(times_s) > skip + 5 else times_s)) * 1e6
    return float(np.median(t)), float(t[min(len(t) - 1, int(0.99 * len(t)))]), float(t.mean())


def rill_bench(cli, path, block, seconds):
    """(p50 us, p99 us, real-time factor) of `rill bench MODEL --block B`."""
    r = json.loads(subprocess.run([cli, "bench", str(path), "--block", str(block), "--seconds",
                                   str(seconds), "--json"], check=True, capture_output=True,
                                  text=True).stdout)
    return r["block_us"]["p50"], r["block_us"]["p99"], r["real_time_factor"]


# Offline figures (the whole signal) of every runner are the median of this many runs: one run
# of a few long calls moves with the machine's other load by 20 % and more.
OFFLINE_RUNS = 3


def median_seconds(call, runs=OFFLINE_RUNS):
    """The median wall time of `runs` calls of call(), in seconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def rill_offline_rtf(cli, path, block, seconds, runs=OFFLINE_RUNS):
    """The median real-time factor of `runs` runs of `rill bench MODEL --block B`."""
    return float(np.median([rill_bench(cli, path, block, seconds)[2] for _ in range(runs)]))


def export_onnx(module, args, names_in, names_out, path):
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch 1.13's shape-inference chatter
        torch.onnx.export(module, tuple(args), str(path), input_names=names_in,
                          output_names=names_out, opset_version=17)


def state_shapes(names, state):
    """ort_stream_bench.js's shape entries of the state inputs (float64 ones marked)."""
    return {s: {"shape": list(t.shape), "type": str(t.dtype)[6:]} for s, t in zip(names, state)}


def ort_run(refs, path, shapes, calls):
    """(p50, p99, mean) us per call of the ONNX model in onnxruntime-node, states fed back."""
    env = dict(os.environ, NODE_PATH=str(pathlib.Path(refs) / "node_modules"))
    out = subprocess.run(["node", str(HERE / "ort_stream_bench.js"), str(path), json.dumps(shapes),
                          str(calls)], check=True, capture_output=True, text=True, env=env).stdout
    o = json.loads(out)
    return o["p50_us"], o["p99_us"], o["mean_us"]


def print_stream_table(rows):
    """One line per block: (block, budget us, Rill p50, p99, RTF, PyTorch p50, p99, RTF, max
    |err| against offline, ORT p50, p99, RTF); the last column is the better peer's p50 over
    Rill's."""
    print(f"{'block':>6} {'budget us':>9} | {'Rill p50':>9} {'p99':>9} {'RTF':>6} | "
          f"{'PyTorch p50':>11} {'p99':>9} {'RTF':>6} {'max|err|':>8} | {'ORT p50':>9} {'p99':>9} "
          f"{'RTF':>6} | {'Rill vs best p50':>16}")
    for (b, budget, rp50, rp99, rrtf, tp50, tp99, trtf, err, op50, op99, ortf) in rows:
        print(f"{b:6d} {budget:9.0f} | {rp50:9.0f} {rp99:9.0f} {rrtf:6.3f} | {tp50:11.0f} "
              f"{tp99:9.0f} {trtf:6.3f} {err:8.1e} | {op50:9.0f} {op99:9.0f} {ortf:6.3f} | "
              f"{min(tp50, op50) / rp50:15.2f}x")
