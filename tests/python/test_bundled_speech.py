"""The trained speech models in assets/speech/ (training/separation/train.py, bundle.py): each
runs through the C library on its held-out clip and keeps the quality recorded when it was
bundled (SI-SDR improvement within 0.5 dB), and `rill run` on the clip's input writes the same
audio as the library's stream."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training" / "separation"))

import rill  # noqa: E402
import quality  # noqa: E402
from stream_check import stream_blocks  # noqa: E402

ASSETS = ROOT / "assets" / "speech"
MODELS = sorted(p.stem for p in ASSETS.glob("*.rill"))


class BundledSpeechModels(unittest.TestCase):
    def test_models_are_bundled(self):
        self.assertEqual(MODELS, ["enhancer_8k", "separator_8k"])

    def test_quality_on_the_heldout_clip(self):
        for name in MODELS:
            with self.subTest(model=name):
                metrics = json.loads((ASSETS / f"{name}.metrics.json").read_text())
                clip, sr = quality.read_clip(ASSETS / metrics["clip"]["file"])
                model = rill.load(str(ASSETS / f"{name}.rill"))
                self.assertEqual(sr, model.sample_rate)
                self.assertEqual(clip.shape[0] - 1, model.output_channels)
                sdri, _ = quality.measure(model, clip, metrics["clip"]["examples"],
                                          metrics["clip"]["block"])
                recorded = metrics["clip"]["si_sdr_improvement_db"]
                print(f"{name}: SI-SDR improvement {sdri:.2f} dB (recorded {recorded:.2f})")
                self.assertLess(abs(sdri - recorded), 0.5)
                self.assertGreater(sdri, 1.0)  # it does separate / enhance

    @unittest.skipUnless(os.environ.get("RILL_CLI"), "RILL_CLI not set")
    def test_rill_run_writes_the_stream(self):
        for name in MODELS:
            with self.subTest(model=name), tempfile.TemporaryDirectory() as tmp:
                metrics = json.loads((ASSETS / f"{name}.metrics.json").read_text())
                clip, sr = quality.read_clip(ASSETS / metrics["clip"]["file"])
                start, length = metrics["clip"]["examples"][0]
                x = clip[:1, start:start + length]
                quality.write_clip(pathlib.Path(tmp) / "in.wav", x, sr)
                out = pathlib.Path(tmp) / "out.wav"
                subprocess.run([os.environ["RILL_CLI"], "run", str(ASSETS / f"{name}.rill"),
                                str(pathlib.Path(tmp) / "in.wav"), str(out)], check=True,
                               capture_output=True)
                got, out_sr = quality.read_clip(out)
                self.assertEqual(out_sr, sr)
                model = rill.load(str(ASSETS / f"{name}.rill"))
                x16, _ = quality.read_clip(pathlib.Path(tmp) / "in.wav")
                ref = stream_blocks(model, x16, [512])
                self.assertEqual(got.shape, ref.shape)
                # the CLI writes 16-bit PCM: one quantisation step
                self.assertLess(float(np.abs(got - ref).max()), 2.0 / 32767 + 1e-6)


if __name__ == "__main__":
    unittest.main()
