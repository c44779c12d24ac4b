"""Writes a trained DriveTCN as a .rill model (graph per docs/ops.md). The residual skips need no
hand-placed delays: Rill's planner aligns each `add` with the look-ahead of its block's conv."""

import sys
import pathlib

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
from rill.format import write_rill  # noqa: E402

from effect_dsp import SAMPLE_RATE  # noqa: E402


def export(model, path, meta):
    sd = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    C = sd["inp.weight"].shape[0]
    tensors = {"inp.weight": sd["inp.weight"].reshape(C, 1), "inp.bias": sd["inp.bias"],
               "out.weight": sd["out.weight"].reshape(1, C), "out.bias": sd["out.bias"]}
    nodes = [{"name": "inp", "op": "linear", "inputs": ["x"],
              "weights": {"weight": "inp.weight", "bias": "inp.bias"}}]
    h = "inp"
    for i, block in enumerate(model.blocks):
        d = block.dilation
        p = f"blocks.{i}"
        tensors[f"{p}.conv.weight"] = sd[f"{p}.conv.weight"]
        tensors[f"{p}.conv.bias"] = sd[f"{p}.conv.bias"]
        tensors[f"{p}.film.weight"] = sd[f"{p}.film.weight"]
        tensors[f"{p}.film.bias"] = sd[f"{p}.film.bias"]
        tensors[f"{p}.mix.weight"] = sd[f"{p}.mix.weight"].reshape(C, C)
        tensors[f"{p}.mix.bias"] = sd[f"{p}.mix.bias"]
        nodes += [
            {"name": f"{p}.conv", "op": "conv1d", "inputs": [h],
             "attrs": {"dilation": d, "padding": [d, d]},
             "weights": {"weight": f"{p}.conv.weight", "bias": f"{p}.conv.bias"}},
            {"name": f"{p}.film", "op": "film", "inputs": [f"{p}.conv"],
             "attrs": {"params": ["drive"]},
             "weights": {"weight": f"{p}.film.weight", "bias": f"{p}.film.bias"}},
            {"name": f"{p}.act", "op": "tanh", "inputs": [f"{p}.film"]},
            {"name": f"{p}.mix", "op": "linear", "inputs": [f"{p}.act"],
             "weights": {"weight": f"{p}.mix.weight", "bias": f"{p}.mix.bias"}},
            {"name": f"{p}.sum", "op": "add", "inputs": [h, f"{p}.mix"]},
        ]
        h = f"{p}.sum"
    nodes.append({"name": "out", "op": "linear", "inputs": [h],
                  "weights": {"weight": "out.weight", "bias": "out.bias"}})
    graph = {
        "inputs": [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": SAMPLE_RATE}],
        "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "out"}],
        "params": [{"name": "drive", "min": 0.0, "max": 1.0, "default": 0.5, "unit": ""}],
        "nodes": nodes, "meta": meta}
    write_rill(path, graph, tensors)
    return graph
