"""Each TFLite operator the importer supports, built as a one-operator model (tflite_builder.py)
on random inputs and weights, run by Rill (rill_tflite_run) and by the independent PyTorch
reference (tflite_reference.py): CONV_2D (SAME/VALID, strides, dilation, fused activations),
DEPTHWISE_CONV_2D (multiplier 1 and 2), TRANSPOSE_CONV, MediaPipe's Convolution2DTransposeBias,
ADD/SUB/MUL/DIV (broadcast per channel), HARD_SWISH, RELU, RELU6, LOGISTIC, TANH, AVERAGE_POOL_2D,
MAX_POOL_2D, MEAN, RESIZE_BILINEAR (three coordinate rules), CONCATENATION, RESHAPE,
FULLY_CONNECTED, SOFTMAX and DEQUANTIZE (float16 weights). Also: an unsupported operator is named,
a corrupted file is rejected without a crash.
Usage: test_tflite_ops.py RILL_TFLITE_RUN WORK_DIR"""
import pathlib
import struct
import subprocess
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import tflite_builder  # noqa: E402
import tflite_reference  # noqa: E402

rng = np.random.default_rng(3)
F32 = np.float32


def t(shape, data=None, dtype=F32):
    return {"shape": list(shape), "dtype": dtype, "data": data}


def rnd(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).astype(F32)


def cases():
    x = (1, 9, 11, 4)
    for pad, stride, dil, act in [(0, 1, 1, 0), (1, 2, 1, 1), (0, 2, 1, 3), (0, 1, 2, 4)]:
        yield (f"conv2d_pad{pad}_s{stride}_d{dil}_a{act}", [t(x), t((6, 3, 3, 4), rnd(6, 3, 3, 4)), t((6,), rnd(6)), t((0,))],
               [0], [3], {"builtin": 3, "inputs": [0, 1, 2], "outputs": [3], "options_type": 1,
                          "options": [(0, "i8", pad), (1, "i32", stride), (2, "i32", stride), (3, "i8", act),
                                      (4, "i32", dil), (5, "i32", dil)]})
    for mult, stride in [(1, 1), (2, 2)]:
        yield (f"depthwise_m{mult}_s{stride}", [t(x), t((1, 3, 3, 4 * mult), rnd(1, 3, 3, 4 * mult)),
                                                t((4 * mult,), rnd(4 * mult)), t((0,))],
               [0], [3], {"builtin": 4, "inputs": [0, 1, 2], "outputs": [3], "options_type": 2,
                          "options": [(0, "i8", 0), (1, "i32", stride), (2, "i32", stride), (3, "i32", mult),
                                      (5, "i32", 1), (6, "i32", 1)]})
    yield ("transpose_conv", [t((4,), np.array([1, 10, 12, 5], np.int32), np.int32), t((5, 3, 3, 4), rnd(5, 3, 3, 4)),
                              t((1, 5, 6, 4)), t((1, 10, 12, 5))],
           [2], [3], {"builtin": 67, "inputs": [0, 1, 2], "outputs": [3], "options_type": 49,
                      "options": [(0, "i8", 0), (1, "i32", 2), (2, "i32", 2)]})
    yield ("conv2d_transpose_bias", [t((1, 5, 6, 4)), t((3, 2, 2, 4), rnd(3, 2, 2, 4)), t((3,), rnd(3)),
                                     t((1, 10, 12, 3))],
           [0], [3], {"builtin": 32, "custom": "Convolution2DTransposeBias", "inputs": [0, 1, 2], "outputs": [3],
                      "custom_options": struct.pack("<iii", 1, 2, 2)})
    for code, name, ot in [(0, "add", 11), (41, "sub", 28), (18, "mul", 21), (42, "div", 29)]:
        yield (f"{name}_per_channel", [t(x), t((4,), rnd(4) + 3.0), t(x)], [0], [2],
               {"builtin": code, "inputs": [0, 1], "outputs": [2], "options_type": ot, "options": [(0, "i8", 0)]})
    yield ("add_two_inputs_relu6", [t(x), t(x), t(x)], [0, 1], [2],
           {"builtin": 0, "inputs": [0, 1], "outputs": [2], "options_type": 11, "options": [(0, "i8", 3)]})
    for code, name in [(117, "hard_swish"), (19, "relu"), (21, "relu6"), (14, "logistic"), (28, "tanh")]:
        yield (name, [t(x), t(x)], [0], [1], {"builtin": code, "inputs": [0], "outputs": [1]})
    for code, name, pad in [(1, "average_pool_same", 0), (17, "max_pool_valid", 1), (1, "average_pool_valid", 1)]:
        yield (name, [t(x), t((1, 5, 6, 4))], [0], [1],
               {"builtin": code, "inputs": [0], "outputs": [1], "options_type": 5,
                "options": [(0, "i8", pad), (1, "i32", 2), (2, "i32", 2), (3, "i32", 3), (4, "i32", 3)]})
    for keep in (1, 0):
        yield (f"mean_hw_keep{keep}", [t(x), t((2,), np.array([1, 2], np.int32), np.int32),
                                       t((1, 1, 1, 4) if keep else (1, 4))], [0], [2],
               {"builtin": 40, "inputs": [0, 1], "outputs": [2], "options_type": 27, "options": [(0, "bool", keep)]})
    for align, half in [(0, 0), (1, 0), (0, 1)]:
        yield (f"resize_bilinear_a{align}_h{half}", [t(x), t((2,), np.array([17, 23], np.int32), np.int32),
                                                     t((1, 17, 23, 4))], [0], [2],
               {"builtin": 23, "inputs": [0, 1], "outputs": [2], "options_type": 15,
                "options": [(2, "bool", align), (3, "bool", half)]})
    yield ("concatenation_channels", [t(x), t((1, 9, 11, 3)), t((1, 9, 11, 7))], [0, 1], [2],
           {"builtin": 2, "inputs": [0, 1], "outputs": [2], "options_type": 10, "options": [(0, "i32", 3)]})
    yield ("reshape", [t(x), t((1, 99, 4))], [0], [1], {"builtin": 22, "inputs": [0], "outputs": [1]})
    yield ("fully_connected", [t((1, 3, 2, 4)), t((5, 24), rnd(5, 24)), t((5,), rnd(5)), t((1, 5))], [0], [3],
           {"builtin": 9, "inputs": [0, 1, 2], "outputs": [3], "options_type": 8, "options": [(0, "i8", 1)]})
    yield ("softmax", [t((2, 7)), t((2, 7))], [0], [1],
           {"builtin": 25, "inputs": [0], "outputs": [1], "options_type": 9, "options": [(0, "f32", 0.7)]})
    w16 = rnd(6, 3, 3, 4).astype(np.float16)
    # DEQUANTIZE of float16 weights feeding CONV_2D: the pattern of the MediaPipe models.
    yield ("dequantize_fp16_conv", [t(x), t((6, 3, 3, 4), w16, np.float16), t((6, 3, 3, 4)), t((1, 9, 11, 6))],
           [0], [3], [{"builtin": 6, "inputs": [1], "outputs": [2]},
                      {"builtin": 3, "inputs": [0, 2, -1], "outputs": [3], "options_type": 1,
                       "options": [(0, "i8", 0), (1, "i32", 1), (2, "i32", 1)]}])


def main():
    runner, work = sys.argv[1], pathlib.Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    failed = []
    for name, tensors, inputs, outputs, op in cases():
        model_path = work / f"{name}.tflite"
        model_path.write_bytes(tflite_builder.build(tensors, inputs, outputs, op))
        xs = [rnd(*tensors[i]["shape"]) for i in inputs]
        in_paths = []
        for k, xin in enumerate(xs):
            p = work / f"{name}_in{k}.f32"
            (xin.transpose(0, 3, 1, 2) if xin.ndim == 4 else xin).copy().tofile(p)
            in_paths.append(p)
        r = subprocess.run([runner, model_path, *in_paths, "-o", work / f"{name}_out"], capture_output=True, text=True)
        if r.returncode != 0:
            failed.append(f"{name}: {r.stderr.strip()}")
            continue
        (ref,) = tflite_reference.run(tflite_reference.read_model(model_path), xs)
        y = np.fromfile(work / f"{name}_out0.f32", dtype=F32)
        ref = ref.transpose(0, 3, 1, 2) if ref.ndim == 4 else ref
        err = np.abs(y - ref.reshape(-1)).max() / max(1.0, np.abs(ref).max())
        print(f"{name:32s} max error {err:.2e}")
        if err > 1e-5:
            failed.append(f"{name}: error {err:.2e}")
    # Errors: an unsupported operator is named; a corrupted file is rejected.
    bad = work / "unsupported.tflite"
    bad.write_bytes(tflite_builder.build([t((2, 3)), t((2, 3))], [0], [1], {"builtin": 48, "inputs": [0], "outputs": [1]}))
    r = subprocess.run([runner, bad, work / "softmax_in0.f32"], capture_output=True, text=True)
    if r.returncode == 0 or "BUILTIN_48" not in r.stderr or "operator 0" not in r.stderr:
        failed.append(f"unsupported operator not named: {r.stderr}")
    data = bytearray((work / "conv2d_pad0_s1_d1_a0.tflite").read_bytes())
    crashes = 0
    for k in range(300):
        d = bytearray(data)
        for _ in range(3):
            d[int(rng.integers(len(d)))] = int(rng.integers(256))
        (work / "mutated.tflite").write_bytes(d)
        r = subprocess.run([runner, work / "mutated.tflite", work / "conv2d_pad0_s1_d1_a0_in0.f32", "-o",
                            work / "mutated_out"], capture_output=True, text=True)
        crashes += r.returncode < 0
    if crashes:
        failed.append(f"{crashes} of 300 corrupted files crashed the importer")
    print("tflite operators: " + ("all checks passed" if not failed else "FAILED\n  " + "\n  ".join(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
