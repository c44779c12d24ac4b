"""The real tiny RWKV models of rwkv.cpp (../shared/models/rwkv-tiny, see its MANIFEST.md) through
`rill convert` and the C API: from the initial state, the bytes '"', 'i', 'n' give upstream's
expected 256 logits (max abs difference <= 1e-3 per logit), fed one token per call (recurrent
form) and as one 3-token block (chunkwise form); the .bin loads directly too; `rill generate`
writes text; malformed files give clear errors. Also checks the NumPy reference
(rwkv_reference.py) against the same logits. Exit code 77 (skipped) when the shared models are
absent. Run: test_rwkv.py RILL_EXECUTABLE with PYTHONPATH=capi/python and RILL_LIBRARY set."""

import os
import pathlib
import struct
import subprocess
import sys
import tempfile
import unittest

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
MODELS = pathlib.Path(os.environ.get("RILL_SHARED_MODELS", ROOT.parent / "shared" / "models"))
TINY = MODELS / "rwkv-tiny"
CASES = [("5v2-730K", "rwkv5"), ("7v0-834K", "rwkv7")]
PROMPT = b'"in'
RILL = None

sys.path.insert(0, str(HERE))
import rwkv_reference  # noqa: E402
import rill  # noqa: E402


def model_path(version):
    return TINY / f"tiny-rwkv-{version}-FP32.bin"


def expected(version):
    return np.fromfile(TINY / f"expected-logits-{version}.bin", dtype="<f4")


def write_rwkv_cpp(dst, header, tensors, half=lambda name, t: False, data_type=0):
    """Writes tensors (name -> float array, PyTorch shape) in rwkv.cpp's file layout."""
    with open(dst, "wb") as f:
        f.write(struct.pack("<6I", rwkv_reference.MAGIC, header["version"], header["n_vocab"],
                            header["n_embed"], header["n_layer"], data_type))
        for name, t in tensors.items():
            h = half(name, t)
            key = name.encode()
            f.write(struct.pack("<3i", t.ndim, len(key), 1 if h else 0))
            f.write(struct.pack(f"<{t.ndim}i", *reversed(t.shape)))
            f.write(key)
            f.write(t.astype("<f2" if h else "<f4").tobytes())


def to_fp16(src, dst):
    """Rewrites an FP32 rwkv.cpp file as rwkv.cpp's converter writes FP16 ones: matrices in FP16,
    vectors and the small v7 mixing tensors kept in FP32."""
    header, tensors = rwkv_reference.read_rwkv_cpp(src)
    keep = (".time_", ".k_k", ".k_a", ".r_k", ".x_rwkvag", ".x_k", ".w0", ".a0", ".v0")
    write_rwkv_cpp(dst, header, tensors, data_type=1,
                   half=lambda name, t: t.ndim > 1 and not any(k in name for k in keep))


def run(*args):
    return subprocess.run([RILL, *map(str, args)], capture_output=True, text=True,
                          errors="replace")


class RwkvTiny(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.converted = {}
        for version, _ in CASES:
            out = pathlib.Path(cls.tmp.name) / f"{version}.rill"
            r = run("convert", model_path(version), out)
            assert r.returncode == 0, r.stderr
            cls.converted[version] = out

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def check_logits(self, logits, version, what):
        err = float(np.abs(logits - expected(version)).max())
        print(f"{version} {what}: max abs logit difference {err:.2e}")
        self.assertLessEqual(err, 1e-3, f"{version} {what}")

    def test_convert_reports_the_model(self):
        r = run("convert", model_path("5v2-730K"), pathlib.Path(self.tmp.name) / "again.rill")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("RWKV-5.2", r.stdout)
        self.assertIn("architecture rwkv5, 12 layers, d_model 64, 8 heads", r.stdout)
        self.assertRegex(r.stdout, r"\d+ parameters;")
        self.assertRegex(r.stdout, r"file \d+ bytes")

    def test_one_token_per_call(self):
        for version, arch in CASES:
            model = rill.Model(str(self.converted[version]))
            stream = model.stream(max_block_frames=8)
            for tok in PROMPT:
                y = stream.process(np.array([[float(tok)]], np.float32))
            self.check_logits(y[:, 0], version, "one token per call")

    def test_three_token_block(self):
        for version, arch in CASES:
            model = rill.Model(str(self.converted[version]))
            stream = model.stream(max_block_frames=8)
            stream.process(np.array([[1.0, 2.0]], np.float32))  # something, then reset
            stream.reset()
            y = stream.process(np.array([[float(t) for t in PROMPT]], np.float32))
            self.check_logits(y[:, 2], version, "3-token block")

    def test_state_round_trip_and_direct_load(self):
        version = "7v0-834K"
        model = rill.Model(str(model_path(version)))  # the .bin, imported on load
        stream = model.stream(max_block_frames=8)
        stream.process(np.array([[float(PROMPT[0])]], np.float32))
        blob = stream.get_state()
        a = stream.process(np.array([[float(t) for t in PROMPT[1:]]], np.float32))
        stream.set_state(blob)
        b = stream.process(np.array([[float(t) for t in PROMPT[1:]]], np.float32))
        np.testing.assert_array_equal(a, b)
        self.check_logits(b[:, 1], version, "direct load, state restored")

    def test_generate_writes_text(self):
        r = run("generate", self.converted["5v2-730K"], "--prompt", "The ", "--tokens", "40")
        self.assertEqual(r.returncode, 0, r.stderr)
        text = r.stdout.strip()
        self.assertTrue(text.startswith("The "))
        self.assertGreaterEqual(len(text), 4 + 30)
        self.assertIn("tokens/s", r.stderr)
        sampled = run("generate", model_path("7v0-834K"), "--prompt", "In ", "--tokens", "20",
                      "--temperature", "0.7", "--seed", "5")
        self.assertEqual(sampled.returncode, 0, sampled.stderr)

    def test_fp16_files(self):
        """FP16 files (matrices in half precision) against the NumPy reference on the same
        weights, one token per call and as one block."""
        for version, arch in CASES:
            path = pathlib.Path(self.tmp.name) / f"{version}-FP16.bin"
            to_fp16(model_path(version), path)
            ref = rwkv_reference.Reference(str(path))
            for tok in PROMPT:
                want = ref.forward(tok)
            model = rill.Model(str(path))
            stream = model.stream(max_block_frames=8)
            y = stream.process(np.array([[float(t) for t in PROMPT]], np.float32))
            err = float(np.abs(y[:, 2] - want).max())
            print(f"{version} FP16: max abs logit difference to the reference {err:.2e} "
                  f"(FP16 vs FP32 logits: {np.abs(want - expected(version)).max():.2e})")
            self.assertLessEqual(err, 1e-3, version)

    def test_generate_long_prompt(self):
        prompt = "The quick brown fox jumps over the lazy dog. " * 7  # > one 256-token block
        r = run("generate", self.converted["7v0-834K"], "--prompt", prompt, "--tokens", "8")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(prompt))
        self.assertIn(f"prompt: {len(prompt)} tokens", r.stderr)

    def test_generate_rejects_audio_models(self):
        r = run("generate", ROOT / "assets" / "effect" / "drive_tcn.rill", "--prompt", "x")
        self.assertEqual(r.returncode, 1)
        self.assertIn("not a token model", r.stderr)

    def test_malformed_files(self):
        raw = model_path("5v2-730K").read_bytes()
        d = pathlib.Path(self.tmp.name)
        cases = {"truncated.bin": (raw[:len(raw) // 2], "truncated"),
                 "header.bin": (raw[:10], "truncated"),
                 "magic.bin": (b"XXXX" + raw[4:], "unsupported input format"),
                 "quantized.bin": (raw[:20] + (9).to_bytes(4, "little") + raw[24:], "Q8_0")}
        header, tensors = rwkv_reference.read_rwkv_cpp(model_path("7v0-834K"))
        del tensors["blocks.3.att.k_a"]
        write_rwkv_cpp(d / "missing.bin", header, tensors)
        cases["missing.bin"] = ((d / "missing.bin").read_bytes(), "no tensor 'blocks.3.att.k_a'")
        cases["version.bin"] = (raw[:4] + (7).to_bytes(4, "little") + raw[8:], "version 7")
        cases["q8_k.bin"] = (raw[:20] + (16).to_bytes(4, "little") + raw[24:], "Q8_K")
        for name, (data, message) in cases.items():
            (d / name).write_bytes(data)
            r = run("convert", d / name, d / "out.rill")
            self.assertEqual(r.returncode, 1, f"{name}: {r.stderr}")  # an error, not a crash
            self.assertIn(message, r.stderr, name)
            if name != "magic.bin":
                with self.assertRaises(rill.RillError):
                    rill.Model(str(d / name))

    def test_mutated_files_never_crash(self):
        """Random byte changes in the header and the first tensor headers: the loader either
        imports the file or raises a clear error (a crash would end this process)."""
        raw = bytearray(model_path("7v0-834K").read_bytes())
        rng = np.random.default_rng(7)
        loaded = failed = 0
        for trial in range(150):
            data = bytearray(raw)
            for _ in range(int(rng.integers(1, 4))):
                pos = int(rng.integers(4, 600))
                data[pos] = int(rng.integers(0, 256))
            try:
                rill.Model(bytes(data))
                loaded += 1
            except rill.RillError as e:
                self.assertTrue(str(e))
                failed += 1
        print(f"mutated rwkv.cpp files: {loaded} loaded, {failed} rejected with an error")
        self.assertGreater(failed, 0)

    def test_numpy_reference(self):
        for version, arch in CASES:
            ref = rwkv_reference.Reference(str(model_path(version)))
            self.assertEqual(ref.arch, arch)
            for tok in PROMPT:
                logits = ref.forward(tok)
            self.check_logits(logits, version, "NumPy reference")


if __name__ == "__main__":
    if not TINY.is_dir():
        print(f"SKIP: {TINY} not found (the shared models are read from ../shared/models)")
        sys.exit(77)
    RILL = sys.argv.pop(1)
    unittest.main(verbosity=2)
