"""Writes a trained DriveTCN as a .rill model and checks it against the torch model.

export() traces the model with rill.export's torch.fx graph builder (docs/ops.md ops: conv1d with
padding [d, d], film with params ["drive"], tanh, add; 1x1 convs as conv1d). explicit_graph()
writes the same network by hand, node by node, as an independent cross-check of the exporter
(tests/python/test_effect_training.py). Residual skips need no hand-placed delays: Rill's planner
aligns each `add` with the look-ahead of its block's conv."""

import pathlib
import sys

import numpy as np
import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
from rill.exporter import build_graph  # noqa: E402
from rill.format import write_rill  # noqa: E402

from effect_dsp import SAMPLE_RATE  # noqa: E402

PARAM_SPEC = [{"name": "drive", "min": 0.0, "max": 1.0, "default": 0.5, "unit": ""}]


def export(model, path, meta):
    """Writes `path`; returns the graph dict. Needs no C library (validation is verify())."""
    graph, tensors, replaced = build_graph(model.eval(), SAMPLE_RATE, in_channels=1,
                                           params=PARAM_SPEC, meta=meta)
    if replaced:
        raise RuntimeError(f"the exporter replaced ops of a model that should stream exactly: "
                           f"{replaced}")
    write_rill(path, graph, tensors)
    return graph


def explicit_graph(model, meta):
    """The same graph written by hand per docs/ops.md; returns (graph, tensors)."""
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    tensors = dict(sd)
    nodes = [{"name": "inp", "op": "conv1d", "inputs": ["x"],
              "weights": {"weight": "inp.weight", "bias": "inp.bias"}}]
    h = "inp"
    for i, block in enumerate(model.blocks):
        d, p = block.dilation, f"blocks.{i}"
        nodes += [
            {"name": f"{p}.conv", "op": "conv1d", "inputs": [h],
             "attrs": {"dilation": d, "padding": [d, d]},
             "weights": {"weight": f"{p}.conv.weight", "bias": f"{p}.conv.bias"}},
            {"name": f"{p}.film", "op": "film", "inputs": [f"{p}.conv"],
             "attrs": {"params": ["drive"]},
             "weights": {"weight": f"{p}.film.weight", "bias": f"{p}.film.bias"}},
            {"name": f"{p}.act", "op": "tanh", "inputs": [f"{p}.film"]},
            {"name": f"{p}.mix", "op": "conv1d", "inputs": [f"{p}.act"],
             "weights": {"weight": f"{p}.mix.weight", "bias": f"{p}.mix.bias"}},
            {"name": f"{p}.sum", "op": "add", "inputs": [h, f"{p}.mix"]},
        ]
        h = f"{p}.sum"
    nodes.append({"name": "out", "op": "conv1d", "inputs": [h],
                  "weights": {"weight": "out.weight", "bias": "out.bias"}})
    graph = {
        "inputs": [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": SAMPLE_RATE}],
        "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "out"}],
        "params": PARAM_SPEC, "nodes": nodes, "meta": meta}
    return graph, tensors


def stream_irregular(model, x, drive, seed=0):
    """Streams x [T] through a loaded rill.Model in blocks of varying size (1 .. 1024 frames)
    followed by latency zeros; returns the output aligned with x."""
    s = model.stream(max_block_frames=1024)
    s.set_param("drive", drive)
    L = s.latency_frames
    xp = np.concatenate([x, np.zeros(L, np.float32)]).astype(np.float32)[None]
    rng = np.random.default_rng(seed)
    sizes = [1, 7, 64, 1024, 513, 128]
    out, i = [], 0
    while i < xp.shape[1]:
        n = sizes[len(out)] if len(out) < len(sizes) else int(rng.integers(1, 1025))
        out.append(s.process(xp[:, i:i + n]))
        i += n
    return np.concatenate(out, axis=1)[0, L:L + len(x)]


def verify(path, model, x, drives=(0.0, 0.5, 1.0)):
    """Max |torch offline - Rill streamed (shifted by the latency)| per drive, and the latency the
    library reports; None when the C library is not available (not built yet)."""
    try:
        import rill
        m = rill.load(str(path))
    except (OSError, RuntimeError) as e:
        print(f"verify: C library unavailable ({e}); skipped", flush=True)
        return None
    x = np.asarray(x, np.float32)
    diffs, scale = {}, {}
    with torch.no_grad():
        for d in drives:
            xt = torch.from_numpy(np.concatenate([x, np.zeros(model.latency, np.float32)]))
            ref = model(xt[None, None], torch.tensor([[d]]))[0, 0, :len(x)].numpy()
            got = stream_irregular(m, x, d)
            diffs[f"{d:g}"] = float(np.max(np.abs(got - ref)))
            scale[f"{d:g}"] = float(np.max(np.abs(ref)))
    return {"max_abs_diff": diffs, "max_abs_output": scale, "latency_frames": m.latency_frames,
            "library": rill.version()}
