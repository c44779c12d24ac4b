#!/usr/bin/env python3
"""Per-frame cost of the vision models in Rill and in onnxruntime (onnxruntime-node from npm,
1 thread), in one run: the MediaPipe selfie segmentation models (general 256x256, landscape
144x256; TFLite, npm) and SINet (320x320; ONNX, ../shared/models) in Rill's tensor programs
(tests' rill_tflite_run / rill_onnx_check --repeat: the model's frame program, 1 thread), and
SINet in onnxruntime (session.run per frame, bench/ort_stream_bench.js).

  bench_vision.py BUILD_DIR [--frames N] [--quick]
Prints p50/p99 per frame and frames per second. Exit 77 when ../shared/models is absent."""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
MODELS = pathlib.Path(os.environ.get("RILL_SHARED_MODELS", ROOT.parent / "shared" / "models"))


def rill_times(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    m = re.search(r"p50 ([0-9.]+) ms, p99 ([0-9.]+) ms", out)
    return float(m.group(1)), float(m.group(2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--quick", action="store_true", help="a short smoke run (figures not meaningful)")
    a = ap.parse_args()
    if not MODELS.is_dir():
        print(f"SKIP: {MODELS} not found")
        return 77
    frames = 5 if a.quick else a.frames
    build = pathlib.Path(a.build)
    work = build / "bench-vision"
    work.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT / "tests" / "tflite"))
    from test_selfie import fetch  # the npm package, as the tests fetch it
    selfie = fetch(work)
    refs = work / "references"
    subprocess.run([ROOT / "tests" / "onnx" / "ort_setup.sh", refs], check=True)
    rng = np.random.default_rng(0)
    rows = []
    for name, file, (h, w) in [("selfie general", "selfie_segmentation.tflite", (256, 256)),
                               ("selfie landscape", "selfie_segmentation_landscape.tflite", (144, 256))]:
        x = work / f"frame_{h}x{w}.f32"
        rng.random((1, 3, h, w), dtype=np.float32).tofile(x)
        p50, p99 = rill_times([build / "tests" / "tflite" / "rill_tflite_run", selfie / file, x, "-o",
                               work / "out", "--repeat", str(frames)])
        rows.append((name, f"{h}x{w}", p50, p99, None, None))
    import onnx
    from onnx import numpy_helper
    case = work / "sinet"
    (case / "test_data_set_0").mkdir(parents=True, exist_ok=True)
    (case / "model.onnx").write_bytes((MODELS / "sinet" / "SINet.onnx").read_bytes())
    img = (rng.random((1, 3, 320, 320), dtype=np.float32) - 0.5)
    (case / "test_data_set_0" / "input_0.pb").write_bytes(numpy_helper.from_array(img, "data").SerializeToString())
    p50, p99 = rill_times([build / "tests" / "onnx" / "rill_onnx_check", case, "--report", "--repeat", str(frames)])
    env = dict(os.environ, NODE_PATH=str(refs / "node_modules"))
    o = json.loads(subprocess.run(["node", HERE / "ort_stream_bench.js", MODELS / "sinet" / "SINet.onnx",
                                   json.dumps({"data": [1, 3, 320, 320]}), str(max(frames, 12))],
                                  check=True, capture_output=True, text=True, env=env).stdout)
    rows.append(("SINet (ONNX)", "320x320", p50, p99, o["p50_us"] / 1000, o["p99_us"] / 1000))
    print(f"per-frame cost, 1 thread, {frames} frames (Rill: the model's frame program; "
          "onnxruntime-node 1.20.1: session.run)")
    print(f"{'model':18} {'input':>8} | {'Rill p50 ms':>11} {'p99 ms':>7} {'fps':>6} | {'ORT p50 ms':>10} {'p99 ms':>7} {'fps':>6} | {'speed-up':>8}")
    for n, size, r50, r99, o50, o99 in rows:
        ort = f"{o50:10.2f} {o99:7.2f} {1000 / o50:6.1f} | {o50 / r50:7.2f}x" if o50 else f"{'-':>10} {'-':>7} {'-':>6} | {'-':>8}"
        print(f"{n:18} {size:>8} | {r50:11.2f} {r99:7.2f} {1000 / r50:6.1f} | {ort}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
