"""ONNX Conv (optionally followed by PRelu, which the importer fuses into the conv as its
activation) against a NumPy correlation written here, on the shapes that pick each path of
core/src/tensor/conv_kernels.cpp: the direct path (depthwise 3x3 and 5x5, dilated, strided,
asymmetric pads, odd widths around the 8- and 16-column blocks of kernels/conv_rows.hpp, channel
multipliers, dense convs of 2..4 input channels per group with output-channel blocks of 1..4, 1-D),
im2col + gemm, the pointwise gemm and the few-positions matrix-vector path. Runs rill_onnx_check on
the cases twice: with the CPU's kernels and with RILL_FORCE_ISA=scalar.
Usage: test_conv_paths.py RILL_ONNX_CHECK WORK_DIR"""
import os
import pathlib
import subprocess
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def conv_ref(x, w, b, strides, pads, dilations, group):
    """y[n, m, o] = b[m] + sum_{c in group(m), k} w[m, c, k] x[n, c, o s - p + k d], in float64."""
    sp = x.ndim - 2
    x = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + [(pads[i], pads[i + sp]) for i in range(sp)])
    n, c = x.shape[:2]
    m, cg = w.shape[:2]
    k = w.shape[2:]
    out = [(x.shape[2 + i] - dilations[i] * (k[i] - 1) - 1) // strides[i] + 1 for i in range(sp)]
    y = np.zeros((n, m, *out))
    mg = m // group
    for o in range(m):
        g = o // mg
        for ci in range(cg):
            for tap in np.ndindex(*k):
                sl = tuple(slice(tap[i] * dilations[i], tap[i] * dilations[i] + strides[i] * (out[i] - 1) + 1,
                                 strides[i]) for i in range(sp))
                y[:, o] += w[o, ci][tap] * x[(slice(None), g * cg + ci) + sl]
        if b is not None:
            y[:, o] += b[o]
    return y


def write_case(root, name, x, w, b, slope, attrs):
    d = root / name
    (d / "test_data_set_0").mkdir(parents=True, exist_ok=True)
    sp = x.ndim - 2
    y = conv_ref(x, w, b, attrs.get("strides", [1] * sp), attrs.get("pads", [0] * 2 * sp),
                 attrs.get("dilations", [1] * sp), attrs.get("group", 1))
    inits = [numpy_helper.from_array(w, "w")] + ([numpy_helper.from_array(b, "b")] if b is not None else [])
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if b is not None else []),
                              ["c" if slope is not None else "y"], **attrs)]
    if slope is not None:
        inits.append(numpy_helper.from_array(slope, "slope"))
        nodes.append(helper.make_node("PRelu", ["c", "slope"], ["y"]))
        s = slope.astype(np.float64).reshape(1, -1, *([1] * sp))
        y = np.where(y < 0, y * s, y)
    f = TensorProto.FLOAT
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("x", f, x.shape)],
                              [helper.make_tensor_value_info("y", f, y.shape)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, d / "model.onnx")
    (d / "test_data_set_0" / "input_0.pb").write_bytes(numpy_helper.from_array(x, "x").SerializeToString())
    (d / "test_data_set_0" / "output_0.pb").write_bytes(
        numpy_helper.from_array(y.astype(np.float32), "y").SerializeToString())
    return d


def main():
    checker, work = sys.argv[1], pathlib.Path(sys.argv[2])
    rng = np.random.default_rng(11)
    f32 = np.float32
    # name, x shape, (M, kernel), attrs, bias, prelu
    specs = [
        ("dw3_pad1_w13", (1, 5, 9, 13), (5, (3, 3)), {"group": 5, "pads": [1, 1, 1, 1]}, True, True),
        ("dw3_pad1_w40", (2, 3, 6, 40), (3, (3, 3)), {"group": 3, "pads": [1, 1, 1, 1]}, False, True),
        ("dw5_pad2_d2_w19", (1, 4, 11, 19), (4, (5, 5)), {"group": 4, "pads": [4, 4, 4, 4], "dilations": [2, 2]},
         True, False),
        ("dw3_s2_asym_w17", (1, 6, 10, 17), (6, (3, 3)), {"group": 6, "pads": [1, 1, 0, 1], "strides": [2, 2]},
         True, True),
        ("dw3_s2_nopad_w33", (1, 2, 9, 33), (2, (3, 3)), {"group": 2, "strides": [2, 2]}, False, False),
        ("dw_mult2_s12_d21", (1, 3, 12, 21), (6, (3, 2)),
         {"group": 3, "pads": [2, 0, 1, 1], "strides": [1, 2], "dilations": [2, 1]}, True, True),
        ("dw1x1", (1, 4, 5, 7), (4, (1, 1)), {"group": 4}, True, False),
        ("dense3_to12_s2_w35", (1, 3, 14, 35), (12, (3, 3)), {"pads": [1, 1, 1, 1], "strides": [2, 2]}, True, True),
        ("dense2_to2_w23", (1, 2, 8, 23), (2, (3, 3)), {"pads": [1, 1, 1, 1]}, True, False),
        ("grouped4_to10_k2x3", (1, 8, 7, 16), (10, (2, 3)), {"group": 2, "pads": [0, 2, 1, 0]}, True, True),
        ("dense4_1x1_s2", (1, 4, 9, 9), (3, (1, 1)), {"strides": [2, 2]}, False, False),
        ("dw_1d_k4_d3", (2, 5, 29), (5, (4,)), {"group": 5, "pads": [3, 2], "dilations": [3]}, True, True),
        ("dense1d_3_to5_s3", (1, 3, 31), (5, (5,)), {"pads": [2, 2], "strides": [3]}, True, False),
        ("im2col_gemm_8_to6", (1, 8, 10, 12), (6, (3, 3)), {"pads": [1, 1, 1, 1]}, True, True),
        ("pointwise_16_to8", (1, 16, 6, 10), (8, (1, 1)), {}, True, True),
        ("few_positions_8_to4", (1, 8, 5, 5), (4, (3, 3)), {"strides": [2, 2]}, True, False),
    ]
    cases = []
    for name, xs, (m, k), attrs, bias, prelu in specs:
        group = attrs.get("group", 1)
        x = rng.standard_normal(xs).astype(f32)
        w = rng.standard_normal((m, xs[1] // group, *k)).astype(f32)
        b = rng.standard_normal(m).astype(f32) if bias else None
        slope = (rng.random((m,) + (1,) * len(k)) * 0.5).astype(f32) if prelu else None
        cases.append(write_case(work, name, x, w, b, slope, {**attrs, "kernel_shape": list(k)}))
    failed = 0
    for isa in ("", "scalar"):
        env = dict(os.environ, RILL_FORCE_ISA=isa) if isa else dict(os.environ)
        r = subprocess.run([checker, *map(str, cases)], capture_output=True, text=True, env=env)
        print(f"kernels: {isa or 'default'}\n{r.stdout}{r.stderr}")
        failed += r.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
