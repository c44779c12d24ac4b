"""Shared by the side-by-side streaming benchmarks (bench_conv_tasnet.py, bench_wavehax.py):
`rill bench` figures, per-call percentiles, ONNX export of a stateful module and its timing in
onnxruntime-node (bench/ort_stream_bench.js, 1 thread)."""

import json
import os
import pathlib
import subprocess
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
