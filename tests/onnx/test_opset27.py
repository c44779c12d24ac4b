"""The opset-27 LinearAttention and CausalConvWithState operators against a NumPy transcription
of their ONNX specification (docs/Operators.md of onnx/onnx), written here independently of the
C++ code: every update rule, per-head and per-channel decay, shared beta, grouped-query heads,
with and without past state; the causal convolution with and without state, bias and SiLU.
Writes ONNX test cases (model.onnx + test_data_set_0/*.pb) and runs rill_onnx_check on them with
every data input at run time.
Usage: test_opset27.py RILL_ONNX_CHECK WORK_DIR"""
import pathlib
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def linear_attention_ref(q, k, v, past, decay, beta, hq, hkv, rule, scale=0.0):
    b, t, _ = q.shape
    dk, dv = q.shape[2] // hq, v.shape[2] // hkv
    group = hq // hkv
    s = np.zeros((b, hkv, dk, dv)) if past is None else past.astype(np.float64).copy()
    out = np.zeros((b, t, hq * dv))
    sc = 1 / np.sqrt(dk) if scale == 0 else scale
    for i in range(t):
        for bb in range(b):
            for h in range(hkv):
                kt = k[bb, i, h * dk:(h + 1) * dk].astype(np.float64)
                vt = v[bb, i, h * dv:(h + 1) * dv].astype(np.float64)
                S = s[bb, h]
                if rule in ("gated", "gated_delta"):
                    g = decay[bb, i]
                    g = g[h * dk:(h + 1) * dk] if g.shape[0] == hkv * dk else np.full(dk, g[h])
                    S = np.exp(g)[:, None] * S
                if rule in ("delta", "gated_delta"):
                    be = beta[bb, i, 0 if beta.shape[2] == 1 else h]
                    vt = be * (vt - S.T @ kt)
                S = S + np.outer(kt, vt)
                s[bb, h] = S
                for j in range(group):
                    hh = h * group + j
                    out[bb, i, hh * dv:(hh + 1) * dv] = sc * (S.T @ q[bb, i, hh * dk:(hh + 1) * dk])
    return out.astype(np.float32), s.astype(np.float32)


def causal_conv_ref(x, w, bias, past, activation):
    b, c, length = x.shape
    k = w.shape[2]
    pad = np.zeros((b, c, k - 1), x.dtype) if past is None else past
    seq = np.concatenate([pad, x], axis=2).astype(np.float64)
    y = np.zeros((b, c, length))
    for i in range(length):
        y[:, :, i] = np.sum(seq[:, :, i:i + k] * w[None, :, 0, :], axis=2)
    if bias is not None:
        y += bias[None, :, None]
    if activation in ("silu", "swish"):
        y = y / (1 + np.exp(-y))
    return y.astype(np.float32), seq[:, :, -(k - 1):].astype(np.float32)


def write_case(root, name, op, attrs, inputs, outputs, runtime):
    d = root / name
    (d / "test_data_set_0").mkdir(parents=True, exist_ok=True)
    node = helper.make_node(op, [n if a is not None else "" for n, a in inputs], [n for n, _ in outputs], **attrs)
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in inputs if a is not None]
    vo = [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in outputs]
    model = helper.make_model(helper.make_graph([node], name, vi, vo),
                              opset_imports=[helper.make_opsetid("", 27)])
    model.ir_version = 8
    onnx.save(model, d / "model.onnx")
    present = [(n, a) for n, a in inputs if a is not None]
    for i, (n, a) in enumerate(present):
        (d / "test_data_set_0" / f"input_{i}.pb").write_bytes(numpy_helper.from_array(a, n).SerializeToString())
    for i, (n, a) in enumerate(outputs):
        (d / "test_data_set_0" / f"output_{i}.pb").write_bytes(numpy_helper.from_array(a, n).SerializeToString())
    (d / "runtime_inputs").write_text("\n".join(n for n, _ in present if n in runtime) + "\n")
    return d


def main():
    checker, work = sys.argv[1], pathlib.Path(sys.argv[2])
    rng = np.random.default_rng(5)
    cases = []
    for rule in ("linear", "gated", "delta", "gated_delta"):
        for hq, hkv, per_channel, past, t, beta_shared in [(4, 4, True, True, 5, False), (4, 2, False, False, 3, True),
                                                           (2, 1, True, True, 1, False)]:
            b, dk, dv = 2, 8, 6
            q = rng.standard_normal((b, t, hq * dk)).astype(np.float32)
            k = rng.standard_normal((b, t, hkv * dk)).astype(np.float32)
            k /= np.linalg.norm(k.reshape(b, t, hkv, dk), axis=3).repeat(dk, axis=2)  # l2 per head
            v = rng.standard_normal((b, t, hkv * dv)).astype(np.float32)
            st = (rng.standard_normal((b, hkv, dk, dv)) * 0.3).astype(np.float32) if past else None
            gated, delta = rule in ("gated", "gated_delta"), rule in ("delta", "gated_delta")
            decay = (-np.abs(rng.standard_normal((b, t, hkv * dk if per_channel else hkv))) * 0.2).astype(
                np.float32) if gated else None
            beta = rng.random((b, t, 1 if beta_shared else hkv)).astype(np.float32) if delta else None
            o, s = linear_attention_ref(q, k, v, st, decay, beta, hq, hkv, rule)
            name = f"la_{rule}_h{hq}x{hkv}_t{t}_{'ch' if per_channel else 'head'}{'_past' if past else ''}"
            ins = [("query", q), ("key", k), ("value", v), ("past_state", st), ("decay", decay), ("beta", beta)]
            while ins[-1][1] is None:
                ins.pop()
            cases.append(write_case(work, name, "LinearAttention",
                                    {"q_num_heads": hq, "kv_num_heads": hkv, "update_rule": rule}, ins,
                                    [("output", o), ("present_state", s)],
                                    {"query", "key", "value", "past_state", "decay", "beta"}))
    for k_size, past, bias, act in [(4, True, True, "silu"), (3, False, False, "none"), (2, True, False, "swish")]:
        b, c, length = 2, 5, 7
        x = rng.standard_normal((b, c, length)).astype(np.float32)
        w = rng.standard_normal((c, 1, k_size)).astype(np.float32)
        bi = rng.standard_normal(c).astype(np.float32) if bias else None
        st = rng.standard_normal((b, c, k_size - 1)).astype(np.float32) if past else None
        y, s = causal_conv_ref(x, w, bi, st, act)
        cases.append(write_case(work, f"ccws_k{k_size}_{act}{'_past' if past else ''}{'_bias' if bias else ''}",
                                "CausalConvWithState", {"activation": act},
                                [("input", x), ("weight", w), ("bias", bi), ("past_state", st)],
                                [("output", y), ("present_state", s)], {"input", "past_state"}))
    r = subprocess.run([checker, *map(str, cases)], capture_output=True, text=True)
    print(r.stdout, r.stderr)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
