"""Shared by the per-op golden case modules (cases_norm.py, cases_activation.py, ...): builds the
case dict of generate.py's contract for a graph with one audio input "x" and one output "y"."""

import numpy as np
import torch

SR = 16000


def f32(a):
    """torch tensor or array -> contiguous float32 numpy array."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    return np.ascontiguousarray(np.asarray(a, dtype=np.float32))


def op_case(name, x, expected, nodes, tensors=None, params=None, param_values=None, tol=1e-5):
    """x: [C, T] input, expected: [Co, T'] offline output of the last node in `nodes`."""
    x, expected = f32(x), f32(expected)
    graph = {
        "inputs": [{"name": "x", "kind": "audio", "channels": int(x.shape[0]), "sample_rate": SR}],
        "outputs": [{"name": "y", "kind": "audio", "channels": int(expected.shape[0]),
                     "source": nodes[-1]["name"]}],
        "params": params or [],
        "nodes": nodes,
        "meta": {},
    }
    case = {"name": name, "graph": graph, "tensors": {k: f32(v) for k, v in (tensors or {}).items()},
            "input": x, "expected": expected, "tol": tol}
    if param_values:
        case["params"] = dict(param_values)
    return case


def node(name, op, inputs, attrs=None, weights=None):
    n = {"name": name, "op": op, "inputs": list(inputs)}
    if attrs:
        n["attrs"] = attrs
    if weights:
        n["weights"] = weights
    return n
