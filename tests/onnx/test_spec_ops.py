"""ONNX operators without cases in Debian's libonnx-testdata, against NumPy written here
independently of the C++ code: Einsum patterns of grouped linear layers (numpy.einsum), Mod with
fmod 0 and 1 (numpy.mod, numpy.fmod), and the
opset-27 LinearAttention and CausalConvWithState operators (a transcription of their
specification in docs/Operators.md of onnx/onnx): every update rule, per-head and per-channel decay, shared beta, grouped-query heads,
with and without past state; the causal convolution with and without state, bias and SiLU.
Writes ONNX test cases (model.onnx + test_data_set_0/*.pb) and runs rill_onnx_check on them with
every data input at run time.
Then a streaming model built from both operators, with their states as graph inputs/outputs,
runs through the C API (Python binding) on audio in odd block sizes and equals the reference
run window by window with the states carried.
Usage: test_spec_ops.py RILL_ONNX_CHECK WORK_DIR [--no-binding]
(--no-binding skips the streamed model, which loads librill into Python: for sanitizer builds.)"""
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


def streaming_model(path, rng):
    """x [1, 1, 16] -> CausalConvWithState over the 16 channels (state conv_state) -> gated
    delta LinearAttention, 2 heads of 8 (state past_state), q = k = v = the conv output."""
    w = rng.standard_normal((16, 1, 4)).astype(np.float32) * 0.5
    bias = rng.standard_normal(16).astype(np.float32) * 0.1
    decay = np.full((1, 1, 2), -0.1, np.float32)
    beta = np.full((1, 1, 2), 0.5, np.float32)
    nodes = [
        helper.make_node("Transpose", ["x"], ["xc"], perm=[0, 2, 1]),
        helper.make_node("CausalConvWithState", ["xc", "w", "b", "conv_state"], ["c", "conv_state_out"],
                         activation="silu"),
        helper.make_node("Transpose", ["c"], ["h"], perm=[0, 2, 1]),
        helper.make_node("LinearAttention", ["h", "h", "h", "past_state", "decay", "beta"],
                         ["y", "past_state_out"], q_num_heads=2, kv_num_heads=2),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in [("w", w), ("b", bias), ("decay", decay), ("beta", beta)]]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "stream", [helper.make_tensor_value_info("x", f, [1, 1, 16]),
                          helper.make_tensor_value_info("conv_state", f, [1, 16, 3]),
                          helper.make_tensor_value_info("past_state", f, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("y", f, [1, 1, 16]),
         helper.make_tensor_value_info("conv_state_out", f, [1, 16, 3]),
         helper.make_tensor_value_info("past_state_out", f, [1, 2, 8, 8])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 27)])
    model.ir_version = 8
    onnx.save(model, path)
    return w, bias, decay, beta


def check_streaming(work, rng):
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
    import rill
    path = work / "stream27.onnx"
    w, bias, decay, beta = streaming_model(path, rng)
    audio = rng.standard_normal(16 * 40).astype(np.float32)
    m = rill.load(path, import_options={"frontend": "window", "window_size": 16, "hop": 16})
    s = rill.Stream(m, max_block_frames=64)
    lat = m.latency_frames
    x = np.concatenate([audio, np.zeros(lat, np.float32)])
    out, pos = [], 0
    for n in [7, 64, 1, 33, 16] * 100:
        if pos >= len(x):
            break
        out.append(s.process(x[pos:pos + n][None]))
        pos += n
    y = np.concatenate(out, axis=1)[:, lat:]
    conv_state, state = None, None
    worst = 0.0
    for i in range(len(audio) // 16):
        win = audio[16 * i:16 * i + 16].reshape(1, 16, 1)
        c, conv_state = causal_conv_ref(win, w, bias, conv_state, "silu")
        h = c.transpose(0, 2, 1)
        o, state = linear_attention_ref(h, h, h, state, decay, beta, 2, 2, "gated_delta")
        worst = max(worst, float(np.abs(y[:, 16 * i] - o[0, 0]).max()))
    print(f"streamed opset-27 model: {len(audio) // 16} windows, latency {lat}, max |rill - reference| = {worst:.2e}")
    return worst < 1e-4


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
    for eq, shapes, runtime in [("btgi,gio->btgo", [(1, 3, 4, 5), (4, 5, 6)], {"a"}),
                                ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], {"a", "b"}),
                                ("ij,kj->ik", [(3, 4), (5, 4)], {"a"}),
                                ("bhtd,bhsd->bhts", [(1, 2, 3, 4), (1, 2, 5, 4)], {"a", "b"}),
                                ("ijk->kj", [(2, 3, 4)], {"a"}),
                                ("ij,jk", [(3, 4), (4, 2)], {"a"})]:
        arrays = [rng.standard_normal(sh).astype(np.float32) for sh in shapes]
        y = np.einsum(eq, *[x.astype(np.float64) for x in arrays]).astype(np.float32)
        names = ["a", "b"][:len(arrays)]
        case = "einsum_" + eq.replace(",", "_").replace("->", "_to_")
        cases.append(write_case(work, case, "Einsum", {"equation": eq}, list(zip(names, arrays)),
                                [("y", y)], runtime))
    # Mod's two forms (ONNX Mod: fmod 1 is C's fmod, the sign of a; the default fmod 0 is
    # Python's %, the sign of b), mixed signs, against numpy.fmod and numpy.mod.
    a = np.array([-7, -5.5, -3, 0, 2.5, 3, 7, 9], np.float32)
    b = np.array([3, -2, 256, 4, -3, -4, -2.5, 3], np.float32)
    for fmod, ref in ((1, np.fmod), (0, np.mod)):
        cases.append(write_case(work, f"mod_fmod{fmod}_mixed_sign", "Mod", {"fmod": fmod},
                                [("a", a), ("b", b)], [("y", ref(a, b).astype(np.float32))],
                                {"a", "b"}))
    r = subprocess.run([checker, *map(str, cases)], capture_output=True, text=True)
    print(r.stdout, r.stderr)
    streamed = "--no-binding" in sys.argv or check_streaming(work, rng)
    return r.returncode if streamed else 1


if __name__ == "__main__":
    sys.exit(main())
