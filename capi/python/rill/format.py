"""Reading and writing .rill files (docs/format.md): a safetensors container whose metadata holds
the format version and the graph JSON. Tensors are float32, little-endian, 64-byte aligned."""

import json
import struct

import numpy as np

FORMAT_VERSION = "1"
ALIGN = 64


def write_rill(path, graph, tensors):
    """graph: dict with inputs/outputs/params/nodes/meta; tensors: name -> array-like (float32)."""
    with open(path, "wb") as f:
        f.write(to_bytes(graph, tensors))


def to_bytes(graph, tensors):
    header = {}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(np.asarray(tensors[name], dtype="<f4"))
        offset = (offset + ALIGN - 1) // ALIGN * ALIGN
        data = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append((offset, data))
        offset += len(data)
    header["__metadata__"] = {"rill.format": FORMAT_VERSION,
                              "rill.graph": json.dumps(graph, separators=(",", ":"))}
    head = json.dumps(header, separators=(",", ":")).encode()
    # Pad the header with spaces so the data section starts 64-byte aligned.
    head += b" " * ((ALIGN - (8 + len(head)) % ALIGN) % ALIGN)
    body = bytearray(offset)
    for off, data in blobs:
        body[off:off + len(data)] = data
    return struct.pack("<Q", len(head)) + head + bytes(body)


def read_rill(path):
    """Returns (graph dict, {name: np.ndarray})."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, e in header.items():
        if e["dtype"] != "F32":
            raise ValueError(f"{path}: tensor {name}: dtype {e['dtype']} not supported")
        b, en = e["data_offsets"]
        tensors[name] = np.frombuffer(data[b:en], dtype="<f4").reshape(e["shape"]).copy()
    return json.loads(meta["rill.graph"]), tensors
