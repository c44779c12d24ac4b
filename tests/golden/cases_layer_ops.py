"""Golden cases for the ops around the linear-attention kernels that the fla-style layers use
(rill.nn.linear_attention, export_attention.py): rotary (MultiScaleRetention's RoPE), hgrn with
fla's lower bound, rms_norm with a sigmoid gate and a per-channel weight. References in float64
from float32 tables where torch builds them in float32 (RoPE's angles), tolerance 1e-5 relative
to the output scale. The harness streams each case in many block splits."""

import pathlib
import sys

import torch
import torch.nn.functional as F

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "capi" / "python"))
from op_case import node, op_case  # noqa: E402
from rill.nn import la_kernels as ref  # noqa: E402

D = torch.float64


def rand(*shape, scale=1.0):
    return torch.randn(*shape, dtype=D) * scale


def rope(x, heads, rotary_dim, inv_freq, interleaved=False):
    """x [heads * Dh, T] rotated per head as fla's RotaryEmbedding: float32 angles t * inv_freq,
    float32 cos / sin, pairs (i, i + R/2) or (2i, 2i + 1); channels past rotary_dim unchanged."""
    C, T = x.shape
    xh = x.reshape(heads, C // heads, T).clone()
    freqs = torch.outer(torch.arange(T, dtype=torch.float32), inv_freq)      # [T, R/2]
    cos, sin = freqs.cos().to(D).T, freqs.sin().to(D).T                      # [R/2, T]
    half = rotary_dim // 2
    a = torch.arange(half) * 2 if interleaved else torch.arange(half)
    b = a + 1 if interleaved else a + half
    xa, xb = xh[:, a], xh[:, b]
    xh[:, a], xh[:, b] = xa * cos - xb * sin, xb * cos + xa * sin
    return xh.reshape(C, T)


def rotary():
    """RoPE over 4096 frames with the inv_freq table given as a weight (as the exporter does)."""
    torch.manual_seed(91)
    H, Dh, T = 3, 8, 4096
    x = rand(H * Dh, T)
    inv_freq = 1.0 / (10000.0 ** (torch.arange(0, Dh, 2, dtype=torch.float32) / Dh))
    y = rope(x, H, Dh, inv_freq)
    nodes = [node("r", "rotary", ["x"], {"heads": H}, {"inv_freq": "f"})]
    return op_case("rotary", x, y, nodes, {"f": inv_freq}, tol=1e-5 * float(y.abs().max()))


def rotary_partial_after_lookahead():
    """Interleaved pairs on the first 4 of 6 channels per head, the table computed from `base`,
    after a conv with 2 frames of look-ahead: the latency frames are pre-roll (no position)."""
    torch.manual_seed(92)
    H, Dh, R, T, base = 2, 6, 4, 1024, 500.0
    x = rand(1, T)
    wc, bc = rand(H * Dh, 1, 3), rand(H * Dh)
    h = F.conv1d(F.pad(x[None], (0, 2)), wc, bc)[0]
    inv_freq = 1.0 / (base ** (torch.arange(0, R, 2, dtype=torch.float32) / R))
    y = rope(h, H, R, inv_freq, interleaved=True)
    nodes = [node("c", "conv1d", ["x"], {"padding": [0, 2]}, {"weight": "wc", "bias": "bc"}),
             node("r", "rotary", ["c"], {"heads": H, "rotary_dim": R, "interleaved": 1,
                                         "base": base})]
    return op_case("rotary_partial_preroll", x, y, nodes, {"wc": wc, "bc": bc},
                   tol=1e-5 * float(y.abs().max()))


def hgrn_lower_bound():
    """fla HGRN after the first layer: log f = log(lb + (1 - lb) sigmoid(g)), lb per channel."""
    torch.manual_seed(93)
    C, T = 6, 2048
    x, g = rand(C, T), rand(C, T) + 1
    lb = torch.linspace(0.1, 0.95, C, dtype=D)
    logf = torch.logaddexp(lb.log()[:, None], torch.log1p(-lb)[:, None] + F.logsigmoid(g))
    h, _ = ref.hgrn(x.T, logf.T)
    nodes = [node("s", "split", ["x"], {"sizes": [C, C]}),
             node("h", "hgrn", ["s", "s:1"], {"gate": "logsigmoid"}, {"lower_bound": "lb"})]
    return op_case("hgrn_lower_bound", torch.cat([x, g], 0), h.T, nodes, {"lb": lb},
                   tol=1e-5 * float(h.abs().max()))


def rms_norm_sigmoid_gate():
    """KDA's output norm: per-head RMS, weight per channel [C], times sigmoid(gate)."""
    torch.manual_seed(94)
    H, Dh, T = 4, 3, 300
    x, g, w = rand(H * Dh, T), rand(H * Dh, T), rand(H * Dh)
    xh = x.reshape(H, Dh, T)
    y = (xh / (xh.pow(2).mean(1, keepdim=True) + 1e-6).sqrt()).reshape(H * Dh, T)
    y = y * w[:, None] * torch.sigmoid(g)
    nodes = [node("s", "split", ["x"], {"sizes": [H * Dh, H * Dh]}),
             node("n", "rms_norm", ["s", "s:1"],
                  {"groups": H, "eps": 1e-6, "activation": "sigmoid"}, {"weight": "w"})]
    return op_case("rms_norm_sigmoid_gate", torch.cat([x, g], 0), y, nodes, {"w": w},
                   tol=1e-5 * float(y.abs().max()))


CASES = [rotary, rotary_partial_after_lookahead, hgrn_lower_bound, rms_norm_sigmoid_gate]
