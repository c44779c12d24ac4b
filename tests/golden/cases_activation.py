"""Golden cases for the activations (docs/ops.md "Activations"), each against torch.nn.functional
on a 4-channel signal spanning roughly [-9, 9], and softmax across channels (grouped)."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

C, T = 4, 1500


def _x(seed):
    torch.manual_seed(seed)
    return torch.randn(C, T) * 3.0


def _simple(op, fn, attrs=None, seed=0):
    def make():
        x = _x(seed)
        suffix = "_" + "_".join(f"{v}" for v in attrs.values()) if attrs else ""
        return op_case(f"act_{op}{suffix}".replace(".", "p"), x, fn(x),
                       [node("a", op, ["x"], attrs=attrs)])
    return make


def prelu_per_channel():
    x = _x(10)
    w = torch.rand(C) * 0.5
    y = F.prelu(x.T, w).T  # channels on axis 1 for F.prelu
    return op_case("act_prelu_per_channel", x, y, [node("a", "prelu", ["x"], weights={"weight": "w"})],
                   {"w": w})


def prelu_single():
    x = _x(11)
    w = torch.tensor([0.3])
    return op_case("act_prelu_single", x, F.prelu(x.T, w).T,
                   [node("a", "prelu", ["x"], weights={"weight": "w"})], {"w": w})


def snake():
    x = _x(12)
    alpha = torch.rand(C) + 0.5
    a = alpha[:, None]
    y = x + torch.sin(a * x) ** 2 / (a + 1e-9)
    return op_case("act_snake", x, y, [node("a", "snake", ["x"], weights={"alpha": "alpha"})],
                   {"alpha": alpha})


def softmax_across_groups():
    """asteroid Conv-TasNet's softmax over sources: channels [n_src=3, N=4], softmax over sources."""
    torch.manual_seed(13)
    x = torch.randn(12, T) * 4.0
    y = torch.softmax(x.view(3, 4, T), dim=0).reshape(12, T)
    return op_case("act_softmax_groups_axis0", x, y,
                   [node("a", "softmax", ["x"], attrs={"groups": 3, "axis": 0})])


def softmax_within_groups():
    torch.manual_seed(14)
    x = torch.randn(12, T) * 4.0
    y = torch.softmax(x.view(2, 6, T), dim=1).reshape(12, T)
    return op_case("act_softmax_groups_axis1", x, y,
                   [node("a", "softmax", ["x"], attrs={"groups": 2})])


def softmax_all_channels():
    torch.manual_seed(15)
    x = torch.randn(C, T) * 30.0  # large logits: the max subtraction keeps exp finite
    return op_case("act_softmax", x, torch.softmax(x, dim=0), [node("a", "softmax", ["x"])])


CASES = [
    _simple("relu", F.relu),
    _simple("leaky_relu", lambda x: F.leaky_relu(x, 0.2), {"negative_slope": 0.2}, seed=1),
    _simple("gelu", lambda x: F.gelu(x), seed=2),
    _simple("gelu", lambda x: F.gelu(x, approximate="tanh"), {"approximate": "tanh"}, seed=3),
    _simple("silu", F.silu, seed=4),
    _simple("tanh", torch.tanh, seed=5),
    _simple("sigmoid", torch.sigmoid, seed=6),
    _simple("elu", lambda x: F.elu(x, 0.7), {"alpha": 0.7}, seed=7),
    prelu_per_channel,
    prelu_single,
    snake,
    softmax_across_groups,
    softmax_within_groups,
    softmax_all_channels,
]
