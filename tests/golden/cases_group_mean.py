"""Golden cases for group_mean (docs/ops.md) and the squeeze-excitation pattern it serves: the
mean over each group of consecutive channels per frame, the running mean over frames 0..t (also
behind a non-causal conv, whose pre-roll frames must not enter the running sums), and the
cumulative SE of FRCRN's streaming form: group_mean -> linear -> relu -> linear -> sigmoid ->
mul with each scale broadcast over its group's channels (the F bins of one channel)."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 700
TAIL = 32


def _running(x, groups):
    """x [G*K, T] -> [G, T]: mean over the group and frames 0..t."""
    per_frame = x.reshape(groups, -1, x.shape[-1]).mean(dim=1)
    return per_frame.cumsum(-1) / torch.arange(1, x.shape[-1] + 1)


def group_mean_frame():
    torch.manual_seed(330)
    x = torch.randn(3 * 5, T)
    return op_case("group_mean_frame", x, x.reshape(3, 5, T).mean(dim=1),
                   [node("m", "group_mean", ["x"], {"groups": 3})])


def group_mean_cumulative_after_lookahead():
    """A conv with 2 frames of look-ahead and a bias, then the running mean."""
    torch.manual_seed(331)
    x = torch.randn(2, T)
    w, b = torch.randn(6, 2, 3) * 0.4, torch.randn(6)
    h = F.conv1d(F.pad(torch.cat([x, torch.zeros(2, TAIL)], -1), (0, 2)), w, b)[:, :T]
    return op_case("group_mean_cumulative_after_lookahead", x, _running(h, 2), [
        node("c", "conv1d", ["x"], {"padding": [0, 2]}, {"weight": "c.w", "bias": "c.b"}),
        node("m", "group_mean", ["c"], {"groups": 2, "mode": "cumulative"})],
        {"c.w": w, "c.b": b})


def squeeze_excitation_cumulative():
    torch.manual_seed(332)
    c, f = 4, 6
    x = torch.randn(c * f, T)
    w1, b1 = torch.randn(2, c) * 0.5, torch.randn(2) * 0.1
    w2, b2 = torch.randn(c, 2) * 0.5, torch.randn(c) * 0.1
    scale = torch.sigmoid(w2 @ torch.relu(w1 @ _running(x, c) + b1[:, None]) + b2[:, None])
    y = x * scale.repeat_interleave(f, dim=0)
    return op_case("squeeze_excitation_cumulative", x, y, [
        node("m", "group_mean", ["x"], {"groups": c, "mode": "cumulative"}),
        node("fc1", "linear", ["m"], None, {"weight": "fc1.w", "bias": "fc1.b"}),
        node("r", "relu", ["fc1"]),
        node("fc2", "linear", ["r"], None, {"weight": "fc2.w", "bias": "fc2.b"}),
        node("s", "sigmoid", ["fc2"]),
        node("y", "mul", ["x", "s"])],
        {"fc1.w": w1, "fc1.b": b1, "fc2.w": w2, "fc2.b": b2})


CASES = [group_mean_frame, group_mean_cumulative_after_lookahead, squeeze_excitation_cumulative]
