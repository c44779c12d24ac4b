"""Golden cases for the recurrent ops (docs/ops.md "Recurrent"): nn.LSTM and nn.GRU (one layer
per node; a 2-layer nn.LSTM as a chain of two nodes), the ONNX GRU form (linear_before_reset 0)
written out in torch, and a GRU behind a non-causal conv whose look-ahead frames are pre-roll."""

import pathlib
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 2000
ROLES = ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]


def _layer_tensors(module, prefix, layer=0):
    """Weights of one layer of an nn.LSTM/nn.GRU as {prefix.role: tensor} and the node's map."""
    tensors = {f"{prefix}.{r}": getattr(module, f"{r}_l{layer}") for r in ROLES}
    return tensors, {r: f"{prefix}.{r}" for r in ROLES}


def lstm():
    torch.manual_seed(50)
    cin, h = 4, 16
    m = nn.LSTM(cin, h)
    x = torch.randn(cin, T)
    with torch.no_grad():
        y = m(x.T[:, None, :])[0][:, 0, :].T
    tensors, weights = _layer_tensors(m, "lstm")
    return op_case("rnn_lstm", x, y, [node("r", "lstm", ["x"], {"hidden_size": h}, weights)],
                   tensors)


def lstm_two_layers():
    torch.manual_seed(51)
    cin, h = 2, 8
    m = nn.LSTM(cin, h, num_layers=2)
    x = torch.randn(cin, T)
    with torch.no_grad():
        y = m(x.T[:, None, :])[0][:, 0, :].T
    t0, w0 = _layer_tensors(m, "l0", 0)
    t1, w1 = _layer_tensors(m, "l1", 1)
    return op_case("rnn_lstm_two_layers", x, y, [
        node("r0", "lstm", ["x"], {"hidden_size": h}, w0),
        node("r1", "lstm", ["r0"], {"hidden_size": h}, w1),
    ], {**t0, **t1})


def gru():
    torch.manual_seed(52)
    cin, h = 3, 12
    m = nn.GRU(cin, h)
    x = torch.randn(cin, T)
    with torch.no_grad():
        y = m(x.T[:, None, :])[0][:, 0, :].T
    tensors, weights = _layer_tensors(m, "gru")
    return op_case("rnn_gru", x, y,
                   [node("r", "gru", ["x"], {"hidden_size": h, "linear_before_reset": 1}, weights)],
                   tensors)


def gru_reset_after():
    """linear_before_reset = 0: n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)."""
    torch.manual_seed(53)
    cin, h = 3, 6
    w_ih, w_hh = torch.randn(3 * h, cin) * 0.4, torch.randn(3 * h, h) * 0.4
    b_ih, b_hh = torch.randn(3 * h) * 0.2, torch.randn(3 * h) * 0.2
    x = torch.randn(cin, T)
    state = torch.zeros(h)
    out = []
    for t in range(T):
        gi = w_ih @ x[:, t] + b_ih
        r = torch.sigmoid(gi[:h] + w_hh[:h] @ state + b_hh[:h])
        z = torch.sigmoid(gi[h:2 * h] + w_hh[h:2 * h] @ state + b_hh[h:2 * h])
        n = torch.tanh(gi[2 * h:] + w_hh[2 * h:] @ (r * state) + b_hh[2 * h:])
        state = (1 - z) * n + z * state
        out.append(state)
    y = torch.stack(out, dim=1)
    tensors = {"w_ih": w_ih, "w_hh": w_hh, "b_ih": b_ih, "b_hh": b_hh}
    weights = {"weight_ih": "w_ih", "weight_hh": "w_hh", "bias_ih": "b_ih", "bias_hh": "b_hh"}
    return op_case("rnn_gru_reset_after", x, y,
                   [node("r", "gru", ["x"], {"hidden_size": h, "linear_before_reset": 0}, weights)],
                   tensors)


def gru_after_noncausal_conv():
    """conv1d (k 3, padding [0, 2], bias) -> gru: the conv's 2 look-ahead frames are pre-roll;
    the GRU must start its recurrence at offline frame 0, not on the conv's negative-time bias."""
    torch.manual_seed(54)
    cin, h = 2, 5
    x = torch.randn(1, T)
    wc, bc = torch.randn(cin, 1, 3) * 0.5, torch.randn(cin) + 1.0
    hc = F.conv1d(F.pad(x[None], (0, 2)), wc, bc)[0]
    m = nn.GRU(cin, h)
    with torch.no_grad():
        y = m(hc.T[:, None, :])[0][:, 0, :].T
    tensors, weights = _layer_tensors(m, "gru")
    tensors.update(wc=wc, bc=bc)
    return op_case("rnn_gru_preroll", x, y, [
        node("c", "conv1d", ["x"], {"padding": [0, 2]}, {"weight": "wc", "bias": "bc"}),
        node("r", "gru", ["c"], {"hidden_size": h}, weights),
    ], tensors)


CASES = [lstm, lstm_two_layers, gru, gru_reset_after, gru_after_noncausal_conv]
