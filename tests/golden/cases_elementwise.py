"""Golden cases for the elementwise and routing ops (docs/ops.md "Elementwise and routing"):
add / sub / mul with 1-channel and per-group broadcast, gate in both forms (F.glu and
x * sigmoid(g)), split, slice, concat, identity, and the delay line (also behind a non-causal
conv, where the conv's look-ahead frames must enter the line as zeros). Multi-input ops are fed
from the single input through slice nodes."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 1800


def _x(seed, c=4):
    torch.manual_seed(seed)
    return torch.randn(c, T)


# a = x[0:2], b = x[2:4], s = x[3:4]
SLICES = [node("a", "slice", ["x"], {"start": 0, "end": 2}),
          node("b", "slice", ["x"], {"start": 2, "end": 4}),
          node("s", "slice", ["x"], {"start": -1})]


def add_broadcast():
    x = _x(40)
    return op_case("ew_add_broadcast", x, x[0:2] + x[2:4] + x[3:4],
                   SLICES + [node("y", "add", ["a", "b", "s"])])


def sub_broadcast():
    x = _x(41)
    return op_case("ew_sub_broadcast", x, x[3:4] - x[0:2], SLICES + [node("y", "sub", ["s", "a"])])


def mul():
    x = _x(42)
    return op_case("ew_mul", x, x[0:2] * x[2:4], SLICES + [node("y", "mul", ["a", "b"])])


def mul_group_broadcast():
    """4 channels times 2: channel c reads operand channel c // 2 (a scale per group of bins)."""
    x = _x(43)
    return op_case("ew_mul_group_broadcast", x, x * x[0:2].repeat_interleave(2, dim=0),
                   SLICES + [node("y", "mul", ["x", "a"])])


def gate_glu():
    x = _x(43)
    return op_case("ew_gate_glu", x, F.glu(x, dim=0), [node("y", "gate", ["x"])])


def gate_two_inputs():
    x = _x(44)
    return op_case("ew_gate_two_inputs", x, x[0:2] * torch.sigmoid(x[3:4]),
                   SLICES + [node("y", "gate", ["a", "s"])])


def split_concat():
    x = _x(45)
    return op_case("route_split_concat", x, torch.cat([x[1:4], x[0:1]]), [
        node("sp", "split", ["x"], {"sizes": [1, 3]}),
        node("cat", "concat", ["sp:1", "sp"]),
        node("y", "identity", ["cat"]),
    ])


def _shift(h, d):
    return F.pad(h, (d, 0))[:, :h.shape[-1]]


def delay_sum():
    x = _x(46)
    return op_case("route_delay_sum", x, _shift(x[0:2], 37) + x[2:4],
                   SLICES + [node("d", "delay", ["a"], {"frames": 37}),
                             node("y", "add", ["d", "b"])])


def delay_after_noncausal_conv():
    """conv1d (k 4, padding [0, 3], bias) -> delay 5: the conv's 3 look-ahead frames are negative
    time for the delay and must not come out of it (offline: zeros before the shifted signal)."""
    torch.manual_seed(47)
    x = torch.randn(1, T)
    w, b = torch.randn(2, 1, 4) * 0.5, torch.randn(2) + 1.0
    h = F.conv1d(F.pad(x[None], (0, 3)), w, b)[0]
    return op_case("route_delay_preroll", x, _shift(h, 5), [
        node("c", "conv1d", ["x"], {"padding": [0, 3]}, {"weight": "w", "bias": "b"}),
        node("y", "delay", ["c"], {"frames": 5}),
    ], {"w": w, "b": b})


CASES = [add_broadcast, sub_broadcast, mul, mul_group_broadcast, gate_glu, gate_two_inputs, split_concat, delay_sum,
         delay_after_noncausal_conv]
