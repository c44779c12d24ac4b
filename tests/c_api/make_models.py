#!/usr/bin/env python3
"""Writes the small models the C API tests use: OUTDIR/gain.rill (1 channel, 16 kHz, a
non-causal conv with look-ahead 2 and a FiLM 'gain' parameter) and OUTDIR/stereo.rill (2 in,
2 out, a channel-mixing linear layer and a cumulative layer norm)."""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
from rill.format import write_rill  # noqa: E402


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    w = np.zeros((1, 1, 5), np.float32)
    w[0, 0, 2] = 1.0
    write_rill(out / "gain.rill", {
        "inputs": [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": 16000}],
        "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "f"}],
        "params": [{"name": "gain", "min": 0, "max": 2, "default": 1, "unit": "x"}],
        "meta": {"description": "identity with look-ahead 2 and a gain knob", "license": "MIT"},
        "nodes": [{"name": "c", "op": "conv1d", "inputs": ["x"], "attrs": {"padding": [2, 2]},
                   "weights": {"weight": "w"}},
                  {"name": "f", "op": "film", "inputs": ["c"], "attrs": {"params": ["gain"]},
                   "weights": {"weight": "fw", "bias": "fb"}}]},
        {"w": w, "fw": np.array([[1.0], [0.0]], np.float32), "fb": np.zeros(2, np.float32)})
    write_rill(out / "stereo.rill", {
        "inputs": [{"name": "x", "kind": "audio", "channels": 2, "sample_rate": 48000}],
        "outputs": [{"name": "y", "kind": "audio", "channels": 2, "source": "n"}],
        "params": [], "meta": {},
        "nodes": [{"name": "m", "op": "linear", "inputs": ["x"], "weights": {"weight": "mw"}},
                  {"name": "n", "op": "cumulative_layer_norm", "inputs": ["m"]}]},
        {"mw": np.array([[0.5, 0.5], [0.5, -0.5]], np.float32)})


if __name__ == "__main__":
    main(sys.argv[1])
