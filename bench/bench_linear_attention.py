#!/usr/bin/env python3
"""Linear attention: Rill vs PyTorch (1 thread each), in one run on one machine (figures only).

    /usr/bin/python3 bench/bench_linear_attention.py [--rill-bench build/bench/rill_la_bench]

d_model 512 as 4 heads with K = V = 128, for GLA, Gated DeltaNet and mLSTM:
  - recurrent: time of one per-frame state step (Rill: the linear_attention op on a one-frame
    block, gates included; PyTorch: the same step written with torch ops, as a streaming
    PyTorch model would run it);
  - chunkwise: throughput on 1024 and 16384 frames in one call, both running the same chunked
    algorithm (chunks of 64: intra-chunk masked products, inter-chunk state update; the delta
    rule's in-chunk dependence as a triangular solve), in GFLOP/s of that algorithm's work;
  - the peak single-core FMA rate measured by rill_la_bench.
Targets (issue 3): recurrent step >= 10x faster than PyTorch's; chunkwise >= 50% of peak."""

import argparse
import json
import pathlib
import subprocess
import time

import torch
import torch.nn.functional as F

ROOT = pathlib.Path(__file__).resolve().parents[1]
H, K, V, C = 4, 128, 128, 64


def flops_per_token(delta):
    f = 2 * (K * V + C * K + C * V + K * V)
    if delta:
        f += 2 * (3 * C * K + 2 * K * V + 2 * C * V) + C * V
    return f


def inputs(variant, T, seed=0):
    """Raw per-frame inputs, as the linear_attention op receives them (the gate transforms the
    op applies are part of the work both sides do)."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    x = {"q": r(H, T, K), "k": r(H, T, K), "v": r(H, T, V)}
    if variant == "gla":
        x["g"] = r(H, T, K)
    elif variant == "gated_delta":
        x["a"], x["b"] = r(H, T), r(H, T)
    else:
        x["i"], x["f"] = r(H, T), r(H, T) + 3
    return x


A_LOG, DT_BIAS = -1.0, 0.5  # the bench's gated_delta weights (as in rill_la_bench)


def transformed(variant, x, sl=slice(None)):
    """The op's input transforms: GLA logsigmoid(g)/16; Gated DeltaNet L2-normalised q, k,
    g = -exp(A_log) softplus(a + dt_bias), beta = sigmoid(b)."""
    y = {key: val[:, sl] for key, val in x.items()}
    if variant == "gla":
        y["g"] = F.logsigmoid(y["g"]) / 16
    elif variant == "gated_delta":
        y["q"] = y["q"] / (y["q"].pow(2).sum(-1, keepdim=True) + 1e-6).sqrt()
        y["k"] = y["k"] / (y["k"].pow(2).sum(-1, keepdim=True) + 1e-6).sqrt()
        y["g"] = -torch.exp(torch.tensor(A_LOG)) * F.softplus(y.pop("a") + DT_BIAS)
        y["beta"] = torch.sigmoid(y.pop("b"))
    return y


# ---- PyTorch recurrent steps (one token) -----------------------------------------------------

def torch_step(variant, state, x, t):
    x = transformed(variant, x, slice(t, t + 1))
    x = {key: val[:, 0] for key, val in x.items()}
    q, k, v = x["q"], x["k"], x["v"]
    if variant == "gla":
        S = state * x["g"].exp()[..., None] + k[..., None] * v[:, None]
        return S, torch.einsum("hk,hkv->hv", q * K ** -0.5, S)
    if variant == "gated_delta":
        S = state * x["g"].exp()[:, None, None]
        u = x["beta"][:, None] * (v - torch.einsum("hk,hkv->hv", k, S))
        S = S + k[..., None] * u[:, None]
        return S, torch.einsum("hk,hkv->hv", q * K ** -0.5, S)
    S, n, m = state
    lf = F.logsigmoid(x["f"])
    m_new = torch.maximum(lf + m, x["i"])
    fp, ip = (lf + m - m_new).exp(), (x["i"] - m_new).exp()
    kp = k / K ** 0.5
    S = fp[:, None, None] * S + ip[:, None, None] * kp[..., None] * v[:, None]
    n = fp[:, None] * n + ip[:, None] * kp
    h = torch.einsum("hk,hkv->hv", q, S) / (
        torch.maximum((n * q).sum(-1).abs(), (-m_new).exp()) + 1e-6)[:, None]
    return (S, n, m_new), h


def torch_recurrent_us(variant, steps=1000):
    x = inputs(variant, steps)
    state = torch.zeros(H, K, V) if variant != "mlstm" else (
        torch.zeros(H, K, V), torch.zeros(H, K), torch.zeros(H))
    times = []
    for t in range(steps):
        t0 = time.perf_counter()
        state, _ = torch_step(variant, state, x, t)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e6


# ---- PyTorch chunkwise (the same algorithm as core/src/kernels/linear_attention.hpp) ---------

def torch_chunkwise(variant, x):
    x = transformed(variant, x)
    T = x["q"].shape[1]
    Vx = V + (variant == "mlstm")            # mlstm: a column of ones carries the normaliser n
    S = torch.zeros(H, K, Vx)
    out = torch.empty(H, T, V)
    tri = torch.ones(C, C).tril()
    strict = tri - torch.eye(C)
    m = torch.zeros(H)
    scale = 1.0 if variant == "mlstm" else K ** -0.5
    for t0 in range(0, T, C):
        sl = slice(t0, t0 + C)
        q, k, v = x["q"][:, sl] * scale, x["k"][:, sl], x["v"][:, sl]
        if variant == "gla":
            c = x["g"][:, sl].cumsum(1)                      # [H, L, K]
        elif variant == "gated_delta":
            c = x["g"][:, sl].cumsum(1)[..., None]           # [H, L, 1]
        else:  # g = logsigmoid(f) + m_{t-1} - m_t, keys weighted by exp(i - m_t) / sqrt(K)
            b = F.logsigmoid(x["f"][:, sl]).cumsum(1)
            mt = b + torch.maximum(m[:, None], (x["i"][:, sl] - b).cummax(1).values)
            c = (b + m[:, None] - mt)[..., None]
            k = k * ((x["i"][:, sl] - mt).exp() / K ** 0.5)[..., None]
            m = mt[:, -1]
            v = torch.cat([v, torch.ones(H, v.shape[1], 1)], -1)
        E, e0 = (c - c[:, :1]).exp(), c[:, :1].exp()
        tail = E[:, -1:]
        qd = q * E
        if variant == "gated_delta":
            beta = x["beta"][:, sl, None]
            yk = k * x["g"][:, sl].exp()[..., None]           # y = exp(g) k (scalar decay)
            kd, xd = beta * k / E, -beta * k / E
            prev = torch.cat([torch.zeros_like(E[:, :1]), E[:, :-1]], 1)   # E_{t-1}, 0 at t = 0
            yd = yk * prev
            ys = yk * (prev * e0 + (prev == 0))                           # y_t exp(c_{t-1})
            P = torch.linalg.solve_triangular(
                torch.eye(C) - (yd @ xd.transpose(1, 2)) * strict,
                ys @ S + ((yd @ kd.transpose(1, 2)) * strict) @ v, upper=False)
            o = (qd * e0) @ S + ((qd @ kd.transpose(1, 2)) * tri) @ v + \
                ((qd @ xd.transpose(1, 2)) * tri) @ P
            S = S * (tail * e0).transpose(1, 2) + (kd * tail).transpose(1, 2) @ v + \
                (xd * tail).transpose(1, 2) @ P
        else:
            kd = k / E
            o = (qd * e0) @ S + ((qd @ kd.transpose(1, 2)) * tri) @ v
            S = S * (tail * e0).transpose(1, 2) + (kd * tail).transpose(1, 2) @ v
        if variant == "mlstm":
            o = o[..., :V] / (torch.maximum(o[..., V:].abs(), (-mt[..., None]).exp()) + 1e-6)
        out[:, sl] = o
    return out


def check_against_reference():
    """The PyTorch chunkwise code above computes the same as the naive recurrences."""
    import sys
    sys.path.insert(0, str(ROOT / "capi" / "python"))
    from rill.nn import la_kernels as ref
    for variant in ("gla", "gated_delta", "mlstm"):
        x = inputs(variant, 256, seed=1)
        y = transformed(variant, x)
        if variant == "gla":
            want, _ = ref.gated_recurrence(y["q"], y["k"], y["v"], y["g"])
        elif variant == "gated_delta":
            want, _ = ref.gated_delta(y["q"], y["k"], y["v"], y["beta"], y["g"])
        else:
            want, _ = ref.mlstm(x["q"], x["k"], x["v"], x["i"], x["f"])
        got = torch_chunkwise(variant, x)
        err = float((got - want).abs().max() / want.abs().max())
        assert err < 1e-4, f"{variant}: PyTorch chunkwise differs from the recurrence by {err}"


def torch_chunkwise_seconds(variant, T, repeats=2):
    x = inputs(variant, T)
    best = 1e30
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch_chunkwise(variant, x)
        best = min(best, time.perf_counter() - t0)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rill-bench", default=str(ROOT / "build" / "bench" / "rill_la_bench"))
    ap.add_argument("--quick", action="store_true",
                    help="a short smoke run (CI): fewer steps, 1024 frames only")
    args = ap.parse_args()
    torch.set_num_threads(1)
    cmd = [args.rill_bench] + (["--frames-step", "50", "--repeats", "1"] if args.quick else [])
    lines = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.splitlines()
    rows = [json.loads(line) for line in lines]
    if args.quick:
        rows = [r for r in rows if r.get("frames", 0) != 16384]
    with torch.no_grad():
        check_against_reference()
    peak = rows[0]["peak_fma_gflops"]
    print(f"single-core peak FMA rate (measured): {peak:.1f} GFLOP/s; "
          f"d_model 512 = {H} heads x K = V = {K}; chunk {C}; PyTorch {torch.__version__}, 1 thread")
    print(f"\n{'variant':12s} {'recurrent step':>16s} {'PyTorch step':>14s} {'speed-up':>9s}")
    with torch.no_grad():
        for r in rows[1:]:
            if r["form"] != "recurrent":
                continue
            pt = torch_recurrent_us(r["variant"], 50 if args.quick else 1000)
            print(f"{r['variant']:12s} {r['step_us_p50']:13.2f} us {pt:11.2f} us "
                  f"{pt / r['step_us_p50']:8.1f}x")
        print(f"\n{'variant':12s} {'frames':>6s} {'Rill GFLOP/s':>12s} {'% peak':>7s} "
              f"{'us/frame':>9s} {'PyTorch GFLOP/s':>15s} {'us/frame':>9s}")
        for r in rows[1:]:
            if r["form"] != "chunkwise":
                continue
            T = r["frames"]
            pt = torch_chunkwise_seconds(r["variant"], T, 1 if args.quick else 2)
            work = flops_per_token(r["variant"] == "gated_delta") * H * T
            print(f"{r['variant']:12s} {T:6d} {r['gflops']:12.1f} {100 * r['gflops'] / peak:6.0f}% "
                  f"{r['us_per_frame']:9.2f} {work / pt * 1e-9:15.1f} {pt / T * 1e6:9.2f}")


if __name__ == "__main__":
    main()
