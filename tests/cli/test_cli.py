"""End-to-end tests of the `rill` command as a user runs it: info --json, run with several block
sizes (identical output), an impulse through a model of known latency, the bundled model, and
clear errors for bad input. Run: test_cli.py RILL_EXECUTABLE (Debian's /usr/bin/python3)."""

import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "capi" / "python"))
from rill.format import write_rill  # noqa: E402
from rill.wavfile import read as read_wav, write as write_wav_f32  # noqa: E402

RILL = None
BUNDLED = ROOT / "assets" / "effect" / "drive_tcn.rill"
CLIP = ROOT / "assets" / "effect" / "clip.wav"


def rill(*args, check=True):
    r = subprocess.run([RILL, *map(str, args)], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"rill {' '.join(map(str, args))} failed ({r.returncode}):\n"
                             f"{r.stdout}\n{r.stderr}")
    return r


def delay_model(path, sr=16000):
    """y = x exactly, through a non-causal conv (pad 2/4, one-hot tap): latency 4."""
    w = np.zeros((1, 1, 7), np.float32)
    w[0, 0, 2] = 1
    graph = {"inputs": [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": sr}],
             "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "c"}],
             "params": [], "meta": {"description": "identity with look-ahead"},
             "nodes": [{"name": "c", "op": "conv1d", "inputs": ["x"],
                        "attrs": {"padding": [2, 4]}, "weights": {"weight": "w"}}]}
    write_rill(path, graph, {"w": w})
    return 4


class Cli(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def test_impulse_comes_out_exactly_at_latency(self):
        model = self.dir / "delay.rill"
        expected_latency = delay_model(model)
        info = json.loads(rill("info", model, "--json").stdout)
        self.assertEqual(info["latency_frames"], expected_latency)
        x = np.zeros((1, 1000), np.float32)
        x[0, 100] = 1.0
        write_wav_f32(self.dir / "imp.wav", x, 16000)
        rill("run", model, self.dir / "imp.wav", self.dir / "raw.wav", "--keep-latency")
        y, _ = read_wav(self.dir / "raw.wav")
        self.assertEqual(int(np.argmax(np.abs(y[0]))), 100 + expected_latency)
        self.assertAlmostEqual(float(y[0, 100 + expected_latency]), 1.0, places=6)
        rill("run", model, self.dir / "imp.wav", self.dir / "aligned.wav")
        y, _ = read_wav(self.dir / "aligned.wav")
        np.testing.assert_allclose(y, x, atol=1e-7)

    @unittest.skipUnless(BUNDLED.exists(), "bundled model not built")
    def test_bundled_model_info_and_block_sizes(self):
        info = json.loads(rill("info", BUNDLED, "--json").stdout)
        for key in ("inputs", "outputs", "params", "latency_frames"):
            self.assertIn(key, info)
        self.assertIn("sample_rate", info["inputs"][0])
        self.assertIn("channels", info["inputs"][0])
        self.assertIn("drive", [p["name"] for p in info["params"]])
        # rill run --block 1, 64 and 513 give the same output within 1e-5 (float WAV in and out).
        raw = {}
        clip_f32 = self.dir / "clip_f32.wav"
        x, sr = read_wav(CLIP)
        write_wav_f32(clip_f32, x, sr)
        for block in (1, 64, 513):
            out = self.dir / f"f{block}.wav"
            rill("run", BUNDLED, clip_f32, out, "--block", block, "--param", "drive=0.8")
            raw[block], _ = read_wav(out)
        self.assertLessEqual(np.max(np.abs(raw[1] - raw[64])), 1e-5)
        self.assertLessEqual(np.max(np.abs(raw[1] - raw[513])), 1e-5)
        self.assertGreater(np.max(np.abs(raw[1])), 1e-3)

        # An impulse appears exactly at the reported latency (first non-zero output sample).
        latency = info["latency_frames"]
        imp = np.zeros((1, 4000), np.float32)
        imp[0, 0] = 0.5
        write_wav_f32(self.dir / "imp.wav", imp, info["inputs"][0]["sample_rate"])
        rill("run", BUNDLED, self.dir / "imp.wav", self.dir / "imp_out.wav", "--keep-latency")
        y, _ = read_wav(self.dir / "imp_out.wav")
        nz = np.flatnonzero(np.abs(y[0]) > 0)
        self.assertEqual(int(nz[0]), latency)

    def test_clear_errors(self):
        model = self.dir / "delay.rill"
        delay_model(model)
        r = rill("run", model, self.dir / "missing.wav", self.dir / "o.wav", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("missing.wav", r.stderr)
        write_wav_f32(self.dir / "stereo.wav", np.zeros((2, 100), np.float32), 16000)
        r = rill("run", model, self.dir / "stereo.wav", self.dir / "o.wav", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("channel", r.stderr)
        write_wav_f32(self.dir / "sr.wav", np.zeros((1, 100), np.float32), 22050)
        r = rill("run", model, self.dir / "sr.wav", self.dir / "o.wav", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("22050", r.stderr)
        r = rill("info", self.dir / "nope.rill", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("nope.rill", r.stderr)
        (self.dir / "bad.rill").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......")
        r = rill("info", self.dir / "bad.rill", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("JSON", r.stderr)
        r = rill("run", model, self.dir / "sr.wav", self.dir / "o.wav", "--param", "nope=1",
                 check=False)
        self.assertNotEqual(r.returncode, 0)


if __name__ == "__main__":
    RILL = sys.argv.pop(1)
    unittest.main(verbosity=2)
