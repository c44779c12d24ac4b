"""Golden cases for overlap_add (docs/ops.md), the offline windows mode's back end: frame (W, hop)
-> a per-window linear map to S signals (linear over the window's samples: a stand-in for a model
run on each window) -> overlap_add, against rill.offline_windows.windowed_reference (the model on
each window, crossfade, source alignment, in PyTorch/NumPy)."""

import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402
from rill.offline_windows import windowed_reference  # noqa: E402

T = 1500


class _WindowLinear(torch.nn.Module):
    """[M, 1, W] -> [M, S, W]: y = A x + b per window (the linear op on the frame channels)."""

    def __init__(self, a, b, sources):
        super().__init__()
        self.a, self.b, self.sources = a, b, sources

    def forward(self, x):
        y = x[:, 0, :] @ self.a.T + self.b
        return y.reshape(x.shape[0], self.sources, -1)


def _case(name, window, hop, sources, crossfade, align, seed):
    torch.manual_seed(seed)
    x = torch.randn(1, T)
    a = torch.randn(sources * window, window) / window ** 0.5
    b = 0.1 * torch.randn(sources * window)
    ref = windowed_reference(_WindowLinear(a, b, sources), x[0].numpy(), window, hop, crossfade, align)
    nodes = [node("win", "frame", ["x"], {"size": window, "hop": hop}),
             node("model", "linear", ["win"], weights={"weight": "a", "bias": "b"}),
             node("ola", "overlap_add", ["model"],
                  {"size": window, "hop": hop, "window": crossfade, "align": align})]
    return op_case(name, x, ref, nodes, tensors={"a": a, "b": b}, tol=1e-4)


def overlap_add_tukey_permutation():
    return _case("overlap_add_tukey_permutation", 32, 20, 2, "tukey", "permutation", 300)


def overlap_add_hann_quarter_hop():
    return _case("overlap_add_hann_quarter_hop", 24, 6, 1, "hann", "none", 301)


CASES = [overlap_add_tukey_permutation, overlap_add_hann_quarter_hop]
