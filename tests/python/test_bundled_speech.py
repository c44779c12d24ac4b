"""The trained speech models in assets/speech/ (training/separation/ and training/vocoder/, each
with train.py and bundle.py): each runs through the C library on its held-out clip and keeps the
quality recorded when it was bundled (separator and enhancer: SI-SDR improvement within 0.5 dB;
vocoder: log-mel spectral distance within 0.5 dB, and closer to its own reference than to other
speech), and `rill run` on the clip's input (the vocoder: the features features.py writes) writes
the same audio as the library's stream."""

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
sys.path.insert(0, str(ROOT / "training" / "vocoder"))

import rill  # noqa: E402
from rill import wavfile  # noqa: E402
import features as feat  # noqa: E402
import mel_distance  # noqa: E402
import quality  # noqa: E402
from stream_check import stream_blocks  # noqa: E402

ASSETS = ROOT / "assets" / "speech"
VOCODER = "vocoder_16k"
MODELS = sorted(p.stem for p in ASSETS.glob("*.rill") if p.stem != VOCODER)


class BundledSpeechModels(unittest.TestCase):
    def test_models_are_bundled(self):
        self.assertEqual(MODELS, ["enhancer_8k", "separator_8k", "separator_8k_lookahead",
                                  "separator_8k_lookahead128"])
        self.assertTrue((ASSETS / f"{VOCODER}.rill").exists())

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



class BundledVocoder(unittest.TestCase):
    def setUp(self):
        self.metrics = json.loads((ASSETS / f"{VOCODER}.metrics.json").read_text())
        clip, self.sr = quality.read_clip(ASSETS / self.metrics["clip"]["file"])
        self.clip = clip[0]
        self.model = rill.load(str(ASSETS / f"{VOCODER}.rill"))

    def test_quality_on_the_heldout_clip(self):
        self.assertEqual(self.sr, self.model.sample_rate)
        self.assertEqual(self.model.input_channels, feat.N_MELS + 1)
        c = self.metrics["clip"]
        lsd, l1 = mel_distance.measure(self.model, self.clip, c["examples"], c["block"])
        print(f"{VOCODER}: log-mel spectral distance {lsd:.2f} dB (recorded {c['lsd_db']:.2f}), "
              f"log-mel L1 {l1:.3f}")
        self.assertLess(abs(lsd - c["lsd_db"]), 0.5)
        # it reproduces the speech it was given: nearer its own reference than another window's
        (s0, n), (s1, _) = c["examples"][:2]
        y = mel_distance.stream_vocoder(self.model, self.clip[s0:s0 + n], c["block"])
        self.assertLess(mel_distance.log_mel_distance(y, self.clip[s0:s0 + n])[0],
                        0.5 * mel_distance.log_mel_distance(y, self.clip[s1:s1 + n])[0])

    @unittest.skipUnless(os.environ.get("RILL_CLI"), "RILL_CLI not set")
    def test_rill_run_on_the_features_writes_the_stream(self):
        start, length = self.metrics["clip"]["examples"][0]
        x = self.clip[start:start + length]
        with tempfile.TemporaryDirectory() as tmp:
            wav, fts, out = (pathlib.Path(tmp) / n for n in ("in.wav", "features.wav", "out.wav"))
            quality.write_clip(wav, x[None], self.sr)
            for cmd in ([sys.executable, str(ROOT / "training/vocoder/features.py"), wav, fts],
                        [os.environ["RILL_CLI"], "run", str(ASSETS / f"{VOCODER}.rill"), fts, out]):
                subprocess.run([str(c) for c in cmd], check=True, capture_output=True)
            got, out_sr = wavfile.read(out)
            inputs, _ = wavfile.read(fts)
        self.assertEqual(out_sr, self.sr)
        self.assertEqual(inputs.shape, (feat.N_MELS + 1, len(x)))
        ref = stream_blocks(self.model, inputs, [512])
        self.assertEqual(got.shape, ref.shape)
        # the features are a float WAV, so `rill run` writes float: the library's stream exactly
        self.assertLess(float(np.abs(got - ref).max()), 1e-6 * max(1.0, float(np.abs(ref).max())))


if __name__ == "__main__":
    unittest.main()
