"""Writes the models the live test needs into the directory given as argv[1] (plain Python: the
.rill container of docs/format.md written with struct, no numpy):
  half_gain_44k.rill  mono, 44.1 kHz: y = -0.5 x through a conv1d with kernel [0, -0.5, 0] and
                      padding (1, 1): one frame of latency, an exactly known output.
  half_gain_48k.rill  the same at 48 kHz: on a 44.1 kHz server it runs resampled.
  broken.rill         a file that is not a model (rill-live must say so and keep playing).
"""

import json
import pathlib
import struct
import sys

ALIGN = 64


def write_rill(path, graph, tensors):
    header, body = {}, b""
    for name in sorted(tensors):
        shape, values = tensors[name]
        body += b"\0" * ((ALIGN - len(body) % ALIGN) % ALIGN)
        data = struct.pack("<%df" % len(values), *values)
        header[name] = {"dtype": "F32", "shape": shape,
                        "data_offsets": [len(body), len(body) + len(data)]}
        body += data
    header["__metadata__"] = {"rill.format": "1",
                              "rill.graph": json.dumps(graph, separators=(",", ":"))}
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * ((ALIGN - (8 + len(head)) % ALIGN) % ALIGN)
    path.write_bytes(struct.pack("<Q", len(head)) + head + body)


def half_gain(path, rate):
    graph = {
        "inputs": [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": rate}],
        "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "gain"}],
        "params": [],
        "nodes": [{"name": "gain", "op": "conv1d", "inputs": ["x"],
                   "attrs": {"stride": 1, "dilation": 1, "groups": 1, "padding": [1, 1]},
                   "weights": {"weight": "gain.weight"}}],
        "meta": {"description": "y = -0.5 x with one frame of look-ahead (live test)",
                 "license": "MIT", "source": "apps/live/tests/make_live_models.py"},
    }
    write_rill(path, graph, {"gain.weight": ([1, 1, 3], [0.0, -0.5, 0.0])})


def main():
    out = pathlib.Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    half_gain(out / "half_gain_44k.rill", 44100)
    half_gain(out / "half_gain_48k.rill", 48000)
    (out / "broken.rill").write_bytes(b"this is not a rill model\n" * 4)


if __name__ == "__main__":
    main()
