"""Writes the models the plugin tests need into the directory given as argv[1]:
  passthrough_44k.rill  mono, 44.1 kHz: y = x, through a conv1d with kernel [0, 1, 0] and
                        padding (1, 1), so the stream reports 1 frame of latency (a known delay
                        that the plugin must compensate; 50% dry/wet must not comb-filter).
  passthrough_stereo_44k.rill  the same on two channels (a grouped conv1d), to check routing.
  broken.rill           a file that is not a model (the plugin must show an error, not crash).
"""

import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[3] / "capi" / "python"))
from rill.format import write_rill  # noqa: E402


def passthrough(path, channels=1):
    graph = {
        "inputs": [{"name": "x", "kind": "audio", "channels": channels, "sample_rate": 44100}],
        "outputs": [{"name": "y", "kind": "audio", "channels": channels, "source": "look"}],
        "params": [{"name": "unused", "min": 0.0, "max": 1.0, "default": 0.25, "unit": ""}],
        "nodes": [{"name": "look", "op": "conv1d", "inputs": ["x"],
                   "attrs": {"stride": 1, "dilation": 1, "groups": channels, "padding": [1, 1]},
                   "weights": {"weight": "look.weight"}}],
        "meta": {"description": "identity with one frame of look-ahead (plugin tests)",
                 "license": "MIT", "source": "plugins/juce/tests/make_test_models.py"},
    }
    weight = np.tile(np.array([[[0.0, 1.0, 0.0]]], dtype=np.float32), (channels, 1, 1))
    write_rill(path, graph, {"look.weight": weight})


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    passthrough(out / "passthrough_44k.rill")
    passthrough(out / "passthrough_stereo_44k.rill", channels=2)
    (out / "broken.rill").write_bytes(b"this is not a rill model\n" * 4)


if __name__ == "__main__":
    main()
