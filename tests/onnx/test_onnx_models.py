"""Real pretrained ONNX models through Rill, against their upstream outputs and onnxruntime.

  GTCRN (../shared/models/gtcrn): `rill convert` + `rill run` (and the .onnx loaded directly) for
    several block sizes reproduce upstream's frame-by-frame output enh_stream.wav at >= 50 dB SNR.
  Silero VAD v6 (both graphs in ../shared/models/silero-vad) and the npm @ricky0123/vad-web@0.0.31
    v5/v6 files: `rill vad` probabilities equal onnxruntime-node's (driven as upstream drives it)
    within 1e-4, for the .onnx and for its .rill conversion; the C API (Python binding) loads the
    .onnx with import options.
  SINet (../shared/models/sinet) as an image model with upstream's preprocessing as import options
    (tests/CMakeLists.txt RILL_SINET_IMPORT_OPTIONS): the astronaut photo's pixels through
    rill_stream_process_image give the person (face and torso > 0.8, background corners < 0.05),
    and the mask equals onnxruntime's class-1 softmax on the same resampled, normalised input
    within 1e-4.
  Bad input: an unsupported operator is named with its node, a truncated file is rejected.
Usage: test_onnx_models.py RILL_CLI WORK_DIR. Exit 77 (skip) when ../shared/models is absent.
"""
import json
import os
import pathlib
import subprocess
import sys
import wave

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODELS = pathlib.Path(os.environ.get("RILL_SHARED_MODELS", ROOT.parent / "shared" / "models"))


def run(*args, check=True):
    r = subprocess.run([str(a) for a in args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, args))} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


def read_wav(path):
    with wave.open(str(path)) as w:
        assert w.getsampwidth() == 2, path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64) / 32768


def snr_db(ref, y):
    n = min(len(ref), len(y))
    return 10 * np.log10(np.sum(ref[:n] ** 2) / np.sum((y[:n] - ref[:n]) ** 2))


def check_gtcrn(cli, work):
    d = MODELS / "gtcrn"
    rill_model = work / "gtcrn.rill"
    out = run(cli, "convert", d / "gtcrn_simple.onnx", rill_model).stdout
    assert "latency 767 frames" in out, out
    ref = read_wav(d / "enh_stream.wav")
    outputs = []
    for model, block in [(rill_model, 1), (rill_model, 97), (rill_model, 256), (rill_model, 4096),
                         (d / "gtcrn_simple.onnx", 512), (d / "gtcrn.onnx", 333)]:
        y_path = work / f"gtcrn_{model.suffix[1:]}_{block}.wav"
        run(cli, "run", model, d / "mix.wav", y_path, "--block", block)
        y = read_wav(y_path)
        snr = snr_db(ref, y)
        print(f"gtcrn {model.name} block {block}: {snr:.2f} dB SNR against upstream enh_stream.wav")
        assert snr >= 50, f"{model.name} block {block}: {snr:.2f} dB"
        outputs.append(y)
    for y in outputs[1:]:  # any block size gives the same stream (16-bit files: one LSB)
        assert np.abs(y - outputs[0]).max() <= 1.5 / 32768


def silero_models(refs):
    return [MODELS / "silero-vad" / "silero_vad_op18_ifless.onnx",
            MODELS / "silero-vad" / "silero_vad_16k_op15.onnx",
            refs / "vad-web" / "dist" / "silero_vad_v5.onnx",
            refs / "vad-web" / "dist" / "silero_vad_v6.onnx"]


def check_silero(cli, work, refs):
    audio = read_wav(MODELS / "silero-vad" / "test.wav").astype(np.float32)
    audio_f32 = work / "test.f32"
    audio.tofile(audio_f32)
    env = dict(os.environ, NODE_PATH=str(refs / "node_modules"))
    for i, onnx_path in enumerate(silero_models(refs)):
        ref_path = work / f"silero_ref_{i}.f32"
        subprocess.run(["node", HERE / "ort_silero.js", onnx_path, audio_f32, ref_path], check=True, env=env)
        ref = np.fromfile(ref_path, dtype=np.float32)
        rill_path = work / f"silero_{i}.rill"
        run(cli, "convert", onnx_path, rill_path)
        for model, block in [(onnx_path, 512), (rill_path, 160)]:
            csv = work / f"silero_{i}_{block}.csv"
            run(cli, "vad", model, MODELS / "silero-vad" / "test.wav", "--csv", csv, "--block", block)
            p = np.loadtxt(csv, delimiter=",", skiprows=1)[:, 1]
            assert len(p) == len(ref), (len(p), len(ref))
            err = np.abs(p - ref).max()
            print(f"silero {onnx_path.name} ({model.suffix}, block {block}): {len(p)} windows, "
                  f"max |p - onnxruntime| = {err:.2e}")
            assert err <= 1e-4, err


def check_c_api(refs):
    sys.path.insert(0, str(ROOT / "capi" / "python"))
    import rill
    path = MODELS / "silero-vad" / "silero_vad_16k_op15.onnx"
    m = rill.load(path, import_options={"sample_rate": 16000})
    assert m.hop_frames == 512 and m.outputs[0]["kind"] == "frames", (m.hop_frames, m.outputs)
    m8 = rill.load(path.read_bytes(), import_options={"sample_rate": 8000})
    assert m8.hop_frames == 256 and m8.sample_rate == 8000, (m8.hop_frames, m8.sample_rate)
    try:
        rill.load(path, import_options={"no_such_option": 1})
        raise AssertionError("an unknown import option was accepted")
    except rill.RillError as e:
        assert "no_such_option" in str(e), e
    g = rill.load(MODELS / "gtcrn" / "gtcrn_simple.onnx")
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    s = rill.Stream(g, max_block_frames=256)
    y = np.concatenate([s.process(x[i:i + 256][None])[0] for i in range(0, 16000, 256)])
    assert np.isfinite(y).all() and np.abs(y).max() > 0


def check_sinet(work, refs):
    sys.path.insert(0, str(ROOT / "capi" / "python"))
    import rill
    from rill.images import resize_bilinear
    from skimage import data
    options = json.loads(os.environ["RILL_SINET_IMPORT_OPTIONS"])
    path = MODELS / "sinet" / "SINet.onnx"
    stream = rill.load(path, import_options=options).stream()
    stream.set_param("smoothing", 0.0)
    photo = data.astronaut()
    mask = stream.process_image(photo)[0][..., 0]
    full = stream.process_image(photo, out_size=(512, 512))[0][..., 0]
    regions = {"face": full[150:250, 180:300].mean(), "torso": full[350:500, 100:350].mean(),
               "top-left": full[:60, :60].mean(), "top-right": full[:60, -60:].mean()}
    print("sinet on the astronaut photo: " + ", ".join(f"{k} {v:.3f}" for k, v in regions.items()))
    assert regions["face"] > 0.8 and regions["torso"] > 0.8, regions
    assert regions["top-left"] < 0.05 and regions["top-right"] < 0.05, regions
    # onnxruntime on the input Rill's import options describe: BGR planes, (p - mean) / std.
    x = resize_bilinear(photo / 255.0, 320, 320)[..., ::-1]
    x = (x - np.array(options["mean"])) / np.array(options["std"])
    case = work / "sinet_ort"
    case.mkdir(parents=True, exist_ok=True)
    x.transpose(2, 0, 1)[None].astype(np.float32).tofile(case / "x.bin")
    (case / "spec.json").write_text(json.dumps({"inputs": [{"name": "data", "type": "float32",
                                                            "dims": [1, 3, 320, 320], "file": "x.bin"}]}))
    env = dict(os.environ, NODE_PATH=str(refs / "node_modules"))
    subprocess.run(["node", HERE / "ort_case.js", path, case / "spec.json", case / "out"], check=True, env=env)
    logits = np.fromfile(case / "out" / "out_0.bin", dtype=np.float32).reshape(2, 320, 320)
    ref = 1 / (1 + np.exp(logits[0] - logits[1]))
    err = np.abs(mask - ref).max()
    print(f"sinet: max |rill mask - onnxruntime softmax| = {err:.2e}")
    assert err <= 1e-4, err


def check_errors(cli, work):
    import onnx
    from onnx import helper, TensorProto
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["r"], name="first"),
                               helper.make_node("Hardmax", ["r"], ["y"], name="mystery")], "g", [x], [y])
    bad = work / "unsupported.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), bad)
    r = run(cli, "info", bad, check=False)
    assert r.returncode == 1 and "node 'mystery'" in r.stderr and "Hardmax" in r.stderr, r.stderr
    truncated = work / "truncated.onnx"
    truncated.write_bytes((MODELS / "gtcrn" / "gtcrn_simple.onnx").read_bytes()[:5000])
    r = run(cli, "info", truncated, check=False)
    assert r.returncode == 1 and "ONNX" in r.stderr, r.stderr
    r = run(cli, "convert", MODELS / "gtcrn" / "gtcrn_simple.onnx", work / "x.rill", "--frontend", "nonsense",
            check=False)
    assert r.returncode == 1 and "nonsense" in r.stderr, r.stderr
    print("errors: unsupported operator named with its node; truncated file and bad options rejected")


def main():
    if not MODELS.is_dir():
        print(f"SKIP: {MODELS} not found")
        return 77
    cli = pathlib.Path(sys.argv[1])
    work = pathlib.Path(sys.argv[2])
    work.mkdir(parents=True, exist_ok=True)
    refs = work / "references"
    subprocess.run([HERE / "ort_setup.sh", refs], check=True)
    check_errors(cli, work)
    check_gtcrn(cli, work)
    check_silero(cli, work, refs)
    check_c_api(refs)
    check_sinet(work, refs)
    print("onnx models: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
