#!/usr/bin/env python3
"""Writes the small models the C API tests use (run with Debian's /usr/bin/python3):

OUTDIR/gain.rill    1 channel, 16 kHz: a non-causal one-hot conv (look-ahead 2, so the model is
                    the identity delayed by 2 frames) and a FiLM 'gain' parameter.
OUTDIR/tiny.rill    1 channel, 16 kHz: conv1d (1 -> 2, k 3, padding [1, 1], latency 1) + relu +
                    linear (2 -> 1) + FiLM 'gain'. Its weights are repeated in test_c_api.c, which
                    computes the offline output itself and compares the streamed one.
OUTDIR/stereo.rill  2 in, 2 out, 48 kHz: a channel-mixing linear layer and a cumulative layer norm.
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
from rill.format import write_rill  # noqa: E402

# Keep in sync with test_c_api.c (TINY_*).
TINY_CONV_W = [[0.5, -0.25, 1.0], [-0.75, 0.5, 0.25]]
TINY_CONV_B = [0.1, -0.05]
TINY_LIN_W = [1.5, -0.5]
TINY_LIN_B = 0.02


def mono_input(rate=16000):
    return [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": rate}]


def main(out):
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gain_param = {"name": "gain", "min": 0, "max": 2, "default": 1, "unit": "x"}
    # FiLM with gamma = gain, beta = 0.
    film_w = np.array([[1.0], [0.0]], np.float32)
    film_b = np.zeros(2, np.float32)

    w = np.zeros((1, 1, 5), np.float32)
    w[0, 0, 2] = 1.0
    write_rill(out / "gain.rill", {
        "inputs": mono_input(),
        "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "f"}],
        "params": [gain_param],
        "meta": {"description": "identity with look-ahead 2 and a gain knob", "license": "MIT"},
        "nodes": [{"name": "c", "op": "conv1d", "inputs": ["x"], "attrs": {"padding": [2, 2]},
                   "weights": {"weight": "w"}},
                  {"name": "f", "op": "film", "inputs": ["c"], "attrs": {"params": ["gain"]},
                   "weights": {"weight": "fw", "bias": "fb"}}]},
        {"w": w, "fw": film_w, "fb": film_b})

    write_rill(out / "tiny.rill", {
        "inputs": mono_input(),
        "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "f"}],
        "params": [dict(gain_param, max=4)],
        "meta": {"description": "conv1d + relu + linear + gain", "license": "MIT",
                 "source": "tests/c_api/make_models.py"},
        "nodes": [{"name": "conv", "op": "conv1d", "inputs": ["x"], "attrs": {"padding": [1, 1]},
                   "weights": {"weight": "conv.weight", "bias": "conv.bias"}},
                  {"name": "act", "op": "relu", "inputs": ["conv"]},
                  {"name": "proj", "op": "linear", "inputs": ["act"],
                   "weights": {"weight": "proj.weight", "bias": "proj.bias"}},
                  {"name": "f", "op": "film", "inputs": ["proj"], "attrs": {"params": ["gain"]},
                   "weights": {"weight": "fw", "bias": "fb"}}]},
        {"conv.weight": np.array(TINY_CONV_W, np.float32).reshape(2, 1, 3),
         "conv.bias": np.array(TINY_CONV_B, np.float32),
         "proj.weight": np.array([TINY_LIN_W], np.float32),
         "proj.bias": np.array([TINY_LIN_B], np.float32),
         "fw": film_w, "fb": film_b})

    write_rill(out / "stereo.rill", {
        "inputs": [{"name": "x", "kind": "audio", "channels": 2, "sample_rate": 48000}],
        "outputs": [{"name": "y", "kind": "audio", "channels": 2, "source": "n"}],
        "params": [], "meta": {},
        "nodes": [{"name": "m", "op": "linear", "inputs": ["x"], "weights": {"weight": "mw"}},
                  {"name": "n", "op": "cumulative_layer_norm", "inputs": ["m"]}]},
        {"mw": np.array([[0.5, 0.5], [0.5, -0.5]], np.float32)})


if __name__ == "__main__":
    main(sys.argv[1])
