#!/usr/bin/env python3
"""Rill vs PyTorch on the bundled drive model, in one run on one machine (figures, no asserts).

    /usr/bin/python3 bench/bench_vs_torch.py [--rill build/apps/cli/rill] [--seconds 10]

For each block size: Rill's streaming real-time factor and per-block p50/p99 (from `rill bench`),
and PyTorch (1 thread, like Rill) streaming the same model the usual way without cached
convolutions: each block is run through the whole network together with the receptive field
of past input it needs, keeping only the block's outputs. Also PyTorch offline on the whole
signal at once (not streamable; the lower bound of its per-sample cost)."""

import argparse
import json
import pathlib
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "capi" / "python"))
sys.path.insert(0, str(ROOT / "training" / "effect"))
from model import DriveTCN  # noqa: E402
from rill.format import read_rill  # noqa: E402


def torch_model_from_rill(path):
    """Rebuilds the DriveTCN from the weights stored in the .rill file."""
    graph, tensors = read_rill(path)
    m = DriveTCN().eval()
    sd = m.state_dict()
    for k in sd:
        sd[k] = torch.from_numpy(tensors[k]).reshape(sd[k].shape)
    m.load_state_dict(sd)
    return m


def torch_streaming(m, x, block, drive):
    """Per block: the network on [receptive-field context | block | look-ahead already there]."""
    rf, la = m.receptive_field, m.latency
    d = torch.tensor([[drive]])  # the model parameters, [B, P]
    history = torch.zeros(1, 1, rf + la)
    times, outs = [], []
    with torch.no_grad():
        for pos in range(0, x.shape[-1] - block + 1, block):
            t0 = time.perf_counter()
            history = torch.cat([history, x[..., pos:pos + block]], -1)[..., -(rf + la + block):]
            y = m(history, d)[..., -(block + la):-la]  # outputs whose look-ahead has arrived
            outs.append(y)
            times.append(time.perf_counter() - t0)
    return np.array(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "assets/effect/drive_tcn.rill"))
    ap.add_argument("--rill", default=str(ROOT / "build/apps/cli/rill"))
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--blocks", default="64,512,4096")
    args = ap.parse_args()
    torch.set_num_threads(1)
    m = torch_model_from_rill(args.model)
    sr = 44100
    x = torch.randn(1, 1, sr * args.seconds) * 0.1
    rows = []
    for block in [int(b) for b in args.blocks.split(",")]:
        r = json.loads(subprocess.run([args.rill, "bench", args.model, "--block", str(block),
                                       "--seconds", str(args.seconds), "--json"],
                                      check=True, capture_output=True, text=True).stdout)
        t = torch_streaming(m, x[..., :sr * min(args.seconds, 4)], block, 0.5)
        budget = block / sr
        rows.append((block, r["real_time_factor"], r["block_us"]["p50"], r["block_us"]["p99"],
                     t.sum() / (len(t) * budget), np.percentile(t, 50) * 1e6,
                     np.percentile(t, 99) * 1e6, r["allocations_during_process"]))
    with torch.no_grad():
        t0 = time.perf_counter()
        m(x, torch.tensor([[0.5]]))
        offline_rtf = (time.perf_counter() - t0) / args.seconds
    print(f"model {args.model}: latency {m.latency} frames, {sr} Hz, "
          f"{sum(p.numel() for p in m.parameters())} weights; torch {torch.__version__}, 1 thread")
    print(f"{'block':>6} | {'rill RTF':>9} {'p50 us':>8} {'p99 us':>8} {'allocs':>6} | "
          f"{'torch RTF':>9} {'p50 us':>8} {'p99 us':>8} | speed-up")
    for b, rr, rp50, rp99, tr, tp50, tp99, allocs in rows:
        print(f"{b:>6} | {rr:>9.4f} {rp50:>8.1f} {rp99:>8.1f} {allocs:>6} | {tr:>9.4f} "
              f"{tp50:>8.1f} {tp99:>8.1f} | {tr / rr:6.1f}x")
    print(f"torch offline (whole {args.seconds} s signal at once, not streamable): RTF {offline_rtf:.4f}")


if __name__ == "__main__":
    main()
