"""Golden cases for the linear_attention op (docs/linear_attention.md): every variant against the
straightforward recurrences of rill.nn.la_kernels (fla / xlstm / mamba conventions), computed in
float64, on sequences up to 4096 frames. The single graph input x is split into the op's inputs
(q, k, v, gates). Tolerance: 1e-5 relative to the largest output. The golden harness streams
each case in blocks of 1 and 7 (recurrent form) and 64 ... 1024 (chunkwise form) and random
splits, so both forms are checked against the reference and against each other."""

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


def heads(x, h):
    """[h*d, T] -> [h, T, d]"""
    return x.reshape(h, -1, x.shape[-1]).permute(0, 2, 1)


def unheads(o):
    """[h, T, d] -> [h*d, T]"""
    return o.permute(0, 2, 1).reshape(-1, o.shape[1])


def repeat_groups(x, hv):
    """q/k heads [H, T, K] shared by hv/H value heads each."""
    return x.repeat_interleave(hv // x.shape[0], dim=0)


def l2(x):
    return x / (x.pow(2).sum(-1, keepdim=True) + 1e-6).sqrt()


def la_case(name, parts, expected, attrs, tensors=None, weights=None):
    """parts: list of (input name, [C, T] tensor) in the op's input order."""
    x = torch.cat([p for _, p in parts], 0)
    sizes = [int(p.shape[0]) for _, p in parts]
    inputs = ["s"] + [f"s:{i}" for i in range(1, len(parts))]
    nodes = [node("s", "split", ["x"], {"sizes": sizes}),
             node("la", "linear_attention", inputs, attrs, weights)]
    tol = 1e-5 * float(expected.abs().max())
    return op_case(name, x, expected, nodes, tensors, tol=tol)


def rand(*shape, scale=1.0):
    return torch.randn(*shape, dtype=D) * scale


def linear(normalize=False, feature="identity", seed=70, T=1024):
    torch.manual_seed(seed)
    H, K, V = 2, 8, 8
    q, k, v = rand(H * K, T), rand(H * K, T), rand(H * V, T)
    fq, fk = heads(q, H), heads(k, H)
    if feature == "elu":
        fq, fk = F.elu(fq) + 1, F.elu(fk) + 1
    if feature == "relu":
        fq, fk = F.relu(fq), F.relu(fk)
    if feature == "hedgehog":  # fla HedgehogFeatureMap after its linear layer
        fq, fk = (torch.cat([2 * t, -2 * t], -1).softmax(-1) for t in (fq, fk))
    o, _ = ref.linear_attn(fq, fk, heads(v, H), normalize=normalize)
    attrs = {"variant": "linear", "heads": H, "normalize": int(normalize), "feature_map": feature}
    suffix = ("_normalized" if normalize else "") + ("_" + feature if feature != "identity" else "")
    return la_case("la_linear" + suffix, [("q", q), ("k", k), ("v", v)], unheads(o), attrs)


def retention():
    torch.manual_seed(71)
    H, K, V, T = 3, 8, 6, 4096
    q, k, v = rand(H * K, T, scale=0.5), rand(H * K, T, scale=0.5), rand(H * V, T)
    g = torch.log(1 - 2.0 ** (-5.0 - torch.arange(H, dtype=D)))[:, None].expand(H, T)
    o, _ = ref.gated_recurrence(heads(q, H), heads(k, H), heads(v, H), g)
    n = 300  # the quadratic form of fla's naive_retention agrees on a prefix
    par = ref.retention_parallel(heads(q, H)[:, :n], heads(k, H)[:, :n], heads(v, H)[:, :n])
    assert torch.allclose(par, o[:, :n], atol=1e-10), "retention: recurrence != parallel form"
    return la_case("la_retention", [("q", q), ("k", k), ("v", v)], unheads(o),
                   {"variant": "retention", "heads": H})


def simple_gla():
    torch.manual_seed(72)
    H, HV, K, V, T = 2, 4, 8, 4, 1024
    q, k, v = rand(H * K, T), rand(H * K, T), rand(HV * V, T)
    graw = rand(HV, T, scale=2.0) + 2.0
    g = F.logsigmoid(graw) / 16
    o, _ = ref.gated_recurrence(repeat_groups(heads(q, H), HV), repeat_groups(heads(k, H), HV),
                                heads(v, HV), g)
    attrs = {"variant": "simple_gla", "heads": H, "value_heads": HV, "decay": "logsigmoid",
             "gate_normalizer": 16}
    return la_case("la_simple_gla_grouped", [("q", q), ("k", k), ("v", v), ("g", graw)],
                   unheads(o), attrs)


def gla():
    torch.manual_seed(73)
    H, K, V, T = 2, 16, 8, 4096
    q, k, v = rand(H * K, T), rand(H * K, T), rand(H * V, T)
    graw = rand(H * K, T, scale=3.0)
    g = F.logsigmoid(heads(graw, H)) / 16
    o, _ = ref.gated_recurrence(heads(q, H), heads(k, H), heads(v, H), g)
    attrs = {"variant": "gla", "heads": H, "decay": "logsigmoid", "gate_normalizer": 16}
    return la_case("la_gla", [("q", q), ("k", k), ("v", v), ("g", graw)], unheads(o), attrs)


def gla_strong_decay():
    """Log decays down to -40 per step: the chunkwise form must split chunks to stay finite."""
    torch.manual_seed(74)
    H, K, V, T = 1, 8, 8, 1024
    q, k, v = rand(H * K, T), rand(H * K, T), rand(H * V, T)
    g = -torch.rand(H * K, T, dtype=D) * 40 * (torch.rand(1, T, dtype=D) < 0.05) \
        - torch.rand(H * K, T, dtype=D) * 0.2
    o, _ = ref.gated_recurrence(heads(q, H), heads(k, H), heads(v, H), heads(g, H))
    return la_case("la_gla_strong_decay", [("q", q), ("k", k), ("v", v), ("g", g)], unheads(o),
                   {"variant": "gla", "heads": H})


def delta(neg=False):
    torch.manual_seed(75 + neg)
    H, K, V, T = 2, 8, 8, 1024
    q, k, v = rand(H * K, T), rand(H * K, T), rand(H * V, T)
    braw = rand(H, T)
    beta = torch.sigmoid(braw) * (2 if neg else 1)
    o, _ = ref.gated_delta(l2(heads(q, H)), l2(heads(k, H)), heads(v, H), beta)
    attrs = {"variant": "delta", "heads": H, "qk_norm": "l2", "beta": "sigmoid",
             "allow_neg_eigval": int(neg)}
    return la_case("la_delta" + ("_neg_eigval" if neg else ""),
                   [("q", q), ("k", k), ("v", v), ("beta", braw)], unheads(o), attrs)


def gated_delta():
    torch.manual_seed(77)
    H, K, V, T = 2, 16, 8, 4096
    q, k, v = rand(H * K, T), rand(H * K, T), rand(H * V, T)
    a, braw = rand(H, T), rand(H, T)
    A_log, dt_bias = rand(H, scale=0.5), rand(H, scale=0.5)
    g = -A_log.exp()[:, None] * F.softplus(a + dt_bias[:, None])
    o, _ = ref.gated_delta(l2(heads(q, H)), l2(heads(k, H)), heads(v, H), torch.sigmoid(braw), g)
    attrs = {"variant": "gated_delta", "heads": H, "qk_norm": "l2", "beta": "sigmoid",
             "decay": "softplus"}
    return la_case("la_gated_delta", [("q", q), ("k", k), ("v", v), ("g", a), ("beta", braw)],
                   unheads(o), attrs, {"A_log": A_log, "dt_bias": dt_bias},
                   {"A_log": "A_log", "dt_bias": "dt_bias"})


def kda():
    torch.manual_seed(78)
    H, HV, K, V, T = 2, 4, 8, 8, 1024
    q, k, v = rand(H * K, T), rand(H * K, T), rand(HV * V, T)
    f, braw = rand(HV * K, T), rand(HV, T)
    A_log, dt_bias = rand(HV, scale=0.5), rand(HV * K, scale=0.5)
    g = -A_log.exp()[:, None, None] * F.softplus(heads(f, HV) + dt_bias.reshape(HV, 1, K))
    o, _ = ref.gated_delta(repeat_groups(l2(heads(q, H)), HV), repeat_groups(l2(heads(k, H)), HV),
                           heads(v, HV), torch.sigmoid(braw), g)
    attrs = {"variant": "kda", "heads": H, "value_heads": HV, "qk_norm": "l2", "beta": "sigmoid",
             "decay": "softplus"}
    return la_case("la_kda", [("q", q), ("k", k), ("v", v), ("g", f), ("beta", braw)], unheads(o),
                   attrs, {"A_log": A_log, "dt_bias": dt_bias},
                   {"A_log": "A_log", "dt_bias": "dt_bias"})


def delta_product():
    torch.manual_seed(79)
    H, K, V, T, n = 2, 8, 8, 512, 3
    q, k, v = rand(H * K, T), rand(n * H * K, T), rand(n * H * V, T)
    graw, braw = rand(H, T), rand(n * H, T)
    g = F.logsigmoid(graw + 3)
    kk = l2(k.reshape(n, H, K, T).permute(1, 3, 0, 2))      # [H, T, n, K]
    vv = v.reshape(n, H, V, T).permute(1, 3, 0, 2)
    beta = torch.sigmoid(braw).reshape(n, H, T).permute(1, 2, 0) * 2
    o, _ = ref.delta_product(l2(heads(q, H)), kk, vv, beta, g)
    attrs = {"variant": "delta_product", "heads": H, "householder_steps": n, "gated": 1,
             "qk_norm": "l2", "beta": "sigmoid", "allow_neg_eigval": 1, "decay": "log"}
    return la_case("la_delta_product", [("q", q), ("k", k), ("v", v), ("g", g), ("beta", braw)],
                   unheads(o), attrs)


def mamba2():
    torch.manual_seed(80)
    G, HV, N, P, T = 1, 4, 8, 4, 1024
    C, B, x = rand(G * N, T), rand(G * N, T), rand(HV * P, T)
    dt_raw = rand(HV, T)
    A_log, dt_bias, Dskip = rand(HV, scale=0.5), rand(HV, scale=0.5), rand(HV)
    dt = F.softplus(dt_raw + dt_bias[:, None])
    y, _ = ref.ssd(heads(x, HV), dt, -A_log.exp(), repeat_groups(heads(B, G), HV),
                   repeat_groups(heads(C, G), HV), Dskip)
    attrs = {"variant": "mamba2", "heads": G, "value_heads": HV}
    return la_case("la_mamba2", [("C", C), ("B", B), ("x", x), ("dt", dt_raw)], unheads(y), attrs,
                   {"A_log": A_log, "dt_bias": dt_bias, "D": Dskip},
                   {"A_log": "A_log", "dt_bias": "dt_bias", "D": "D"})


def mlstm():
    torch.manual_seed(81)
    H, K, V, T = 2, 8, 8, 4096
    q, k, v = rand(H * K, T), rand(H * K, T), rand(H * V, T)
    i, f = rand(H, T), rand(H, T) + 3
    o, _ = ref.mlstm(heads(q, H), heads(k, H), heads(v, H), i, f)
    n = 256
    par = ref.mlstm_parallel(heads(q, H)[:, :n], heads(k, H)[:, :n], heads(v, H)[:, :n],
                             i[:, :n], f[:, :n])
    assert torch.allclose(par, o[:, :n], atol=1e-8), "mlstm: recurrence != parallel form"
    return la_case("la_mlstm", [("q", q), ("k", k), ("v", v), ("i", i), ("f", f)], unheads(o),
                   {"variant": "mlstm", "heads": H})


def rwkv5():
    torch.manual_seed(82)
    H, K, T = 2, 8, 1024
    r, k, v = rand(H * K, T), rand(H * K, T), rand(H * K, T)
    time_decay, time_first = rand(H * K, scale=0.7), rand(H * K)
    w = (-time_decay.exp()).exp().reshape(H, K)
    o, _ = ref.rwkv5(heads(r, H), heads(k, H), heads(v, H), w, time_first.reshape(H, K))
    return la_case("la_rwkv5", [("r", r), ("k", k), ("v", v)], unheads(o),
                   {"variant": "rwkv5", "heads": H}, {"td": time_decay, "tf": time_first},
                   {"time_decay": "td", "time_first": "tf"})


def rwkv7():
    torch.manual_seed(83)
    H, K, T = 2, 8, 1024
    r, k, v = rand(H * K, T), rand(H * K, T, scale=0.5), rand(H * K, T)
    w = -0.606531 * torch.sigmoid(rand(H * K, T))
    kk = unheads(F.normalize(heads(rand(H * K, T), H), dim=-1))
    a = torch.sigmoid(rand(H * K, T))
    r_k = rand(H * K, scale=0.3)
    o, _ = ref.rwkv7(heads(r, H), heads(w, H), heads(k, H), heads(v, H), heads(kk, H),
                     heads(a, H), r_k.reshape(H, K))
    return la_case("la_rwkv7", [("r", r), ("k", k), ("v", v), ("w", w), ("kk", kk), ("a", a)],
                   unheads(o), {"variant": "rwkv7", "heads": H}, {"r_k": r_k}, {"r_k": "r_k"})


def gla_after_noncausal_conv():
    """A conv with 2 frames of look-ahead feeds q, k, v: its latency is pre-roll for the state."""
    torch.manual_seed(84)
    H, K, T = 2, 4, 1024
    x = rand(1, T)
    wc, bc = rand(3 * H * K, 1, 3, scale=0.5), rand(3 * H * K) + 0.5
    h = F.conv1d(F.pad(x[None], (0, 2)), wc, bc)[0]
    q, k, v = h[:H * K], h[H * K:2 * H * K], h[2 * H * K:]
    o, _ = ref.gated_recurrence(heads(q, H), heads(k, H), heads(v, H),
                                torch.full((H, T), -0.05, dtype=D))
    # The decay gate comes from a second branch without look-ahead (a constant conv); the
    # planner delays it to align with q, k, v.
    gw, gb = torch.zeros(H, 1, 1, dtype=D), torch.full((H,), -0.05, dtype=D)
    nodes = [node("c", "conv1d", ["x"], {"padding": [0, 2]}, {"weight": "wc", "bias": "bc"}),
             node("s", "split", ["c"], {"sizes": [H * K] * 3}),
             node("g", "conv1d", ["x"], {}, {"weight": "gw", "bias": "gb"}),
             node("la", "linear_attention", ["s", "s:1", "s:2", "g"],
                  {"variant": "simple_gla", "heads": H})]
    tol = 1e-5 * float(o.abs().max())
    return op_case("la_preroll", x, unheads(o), nodes,
                   {"wc": wc, "bc": bc, "gw": gw, "gb": gb}, tol=tol)


def global_attention(feature="elu", normalize=True):
    """Image tokens: each frame holds N = 8 x 8 tokens per head, plane-major
    (channel = (h * D + d) * N + n); every frame is attended over independently."""
    torch.manual_seed(87 + normalize)
    H, N, K, V, T = 2, 64, 8, 6, 40
    q, k, v = rand(H * K * N, T), rand(H * K * N, T), rand(H * V * N, T)
    per_frame = lambda x, d: x.reshape(H, d, N, T).permute(3, 0, 2, 1)  # noqa: E731 [T,H,N,d]
    outs = [ref.global_linear_attn(per_frame(q, K)[t], per_frame(k, K)[t], per_frame(v, V)[t],
                                   feature, normalize, scale=1.0 / N) for t in range(T)]
    o = torch.stack(outs, 0).permute(1, 3, 2, 0).reshape(H * V * N, T)
    x = torch.cat([q, k, v], 0)
    nodes = [node("s", "split", ["x"], {"sizes": [H * K * N, H * K * N, H * V * N]}),
             node("la", "global_linear_attention", ["s", "s:1", "s:2"],
                  {"heads": H, "tokens": N, "feature_map": feature, "normalize": int(normalize),
                   "scale": 1.0 / N})]
    return op_case(f"la_global_{feature}" + ("" if normalize else "_unnormalized"), x, o, nodes,
                   tol=1e-5 * float(o.abs().max()))


def rms_norm_gated():
    """The layers' output norm: per-head RMSNorm with a weight shared by the heads, times
    silu(gate) (fla FusedRMSNormGated)."""
    torch.manual_seed(89)
    H, Dh = 3, 5
    x, g, w = rand(H * Dh, T_NORM), rand(H * Dh, T_NORM), rand(Dh)
    xh = x.reshape(H, Dh, T_NORM)
    y = xh / (xh.pow(2).mean(1, keepdim=True) + 1e-5).sqrt() * w[None, :, None]
    y = (y.reshape(H * Dh, T_NORM) * F.silu(g))
    nodes = [node("s", "split", ["x"], {"sizes": [H * Dh, H * Dh]}),
             node("n", "rms_norm", ["s", "s:1"], {"groups": H, "eps": 1e-5}, {"weight": "w"})]
    return op_case("la_rms_norm_gated", torch.cat([x, g], 0), y, nodes, {"w": w},
                   tol=1e-5 * float(y.abs().max()))


T_NORM = 500


def hgrn():
    """HGRN: h = exp(g) h + x per channel, 4096 frames, from the raw forget logit."""
    torch.manual_seed(88)
    D, T = 6, 4096
    x, graw = rand(D, T), rand(D, T) + 2
    h, _ = ref.hgrn(x.T, F.logsigmoid(graw).T)
    nodes = [node("s", "split", ["x"], {"sizes": [D, D]}),
             node("h", "hgrn", ["s", "s:1"], {"gate": "logsigmoid"})]
    return op_case("la_hgrn", torch.cat([x, graw], 0), h.T, nodes,
                   tol=1e-5 * float(h.abs().max()))

CASES = [linear, lambda: linear(True, "elu", 85), lambda: linear(False, "relu", 86),
         lambda: linear(True, "hedgehog", 90), retention,
         simple_gla, gla, gla_strong_decay, delta, lambda: delta(True), gated_delta, kda,
         delta_product, mamba2, mlstm, rwkv5, rwkv7, gla_after_noncausal_conv,
         global_attention, lambda: global_attention("relu", False), rms_norm_gated, hgrn]
