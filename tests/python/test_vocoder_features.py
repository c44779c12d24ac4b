"""training/vocoder/features.py (the bundled vocoder's input features) and mel_distance.py:
YIN finds the f0 of harmonic tones and calls noise and silence unvoiced; the numpy log-mel equals
the torch log-mel the training loss uses; the mel filters have unit area; rill.wavfile round-trips
the 81-channel float feature file and 16-bit clips; the distance is 0 for identical signals and
grows with a spectral change."""

import pathlib
import sys
import tempfile
import unittest

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training" / "separation"))
sys.path.insert(0, str(ROOT / "training" / "vocoder"))

from rill import wavfile  # noqa: E402
import features as feat  # noqa: E402
import mel_distance  # noqa: E402
import train  # noqa: E402  (training/vocoder/train.py: the loss)

SR = feat.SAMPLE_RATE


def harmonic(f0, seconds, harmonics=8):
    t = np.arange(int(seconds * SR)) / SR
    return sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, harmonics + 1)) * 0.3


class Features(unittest.TestCase):
    def test_yin_finds_the_f0_of_harmonic_tones(self):
        for f0 in (75.0, 110.0, 137.5, 220.0, 330.0, 480.0):
            with self.subTest(f0=f0):
                est = feat.f0_yin(harmonic(f0, 0.5))
                inner = est[3:-3]
                self.assertTrue((inner > 0).all())
                self.assertLess(float(np.max(np.abs(inner / f0 - 1))), 0.01)

    def test_noise_and_silence_are_unvoiced(self):
        rng = np.random.default_rng(0)
        x = np.concatenate([harmonic(150.0, 0.5), np.zeros(SR // 2),
                            0.3 * rng.standard_normal(SR // 2)])
        f0 = feat.f0_yin(x)
        self.assertEqual(len(f0), len(x) // feat.HOP)
        self.assertTrue((f0[5:45] > 0).all())
        self.assertTrue((f0[55:95] == 0).all())          # silence
        self.assertLess(float(np.mean(f0[105:145] > 0)), 0.1)   # white noise

    def test_numpy_log_mel_equals_the_training_loss_form(self):
        rng = np.random.default_rng(1)
        x = (0.2 * rng.standard_normal(SR) + harmonic(180.0, 1.0)).astype(np.float32)
        a = feat.log_mel(x)
        b = train.Loss().log_mel(torch.from_numpy(x)[None, None])[0].numpy()
        self.assertEqual(a.shape, (feat.N_MELS, len(x) // feat.HOP))
        self.assertEqual(a.shape, b.shape)
        self.assertLess(float(np.abs(a - b).max()), 1e-3)

    def test_mel_filters_have_unit_area(self):
        f = feat.mel_filters(n_fft=8192)  # fine bins: the sum approximates the integral
        area = f.sum(1) * SR / 8192
        self.assertLess(float(np.abs(area - 1).max()), 0.02)

    def test_wav_round_trips(self):
        x = np.random.default_rng(2).standard_normal((feat.N_MELS + 1, 1000)).astype(np.float32)
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / "f.wav"
            held = wavfile.write(path, x, SR)             # float32: exact, any channel count
            y, sr = wavfile.read(path)
            self.assertEqual(sr, SR)
            np.testing.assert_array_equal(x, y)
            np.testing.assert_array_equal(held, y)
            z = np.clip(0.25 * x[:2], -0.99, 0.99)
            held = wavfile.write(path, z, 8000, "pcm16")
            y, sr = wavfile.read(path)
            self.assertEqual((sr, y.shape), (8000, (2, 1000)))
            np.testing.assert_array_equal(held, y)       # what write() says the file holds
            self.assertLess(float(np.abs(y - z).max()), 2.0 / 32768)
            path.write_bytes(b"RIFX0000WAVE")
            with self.assertRaisesRegex(ValueError, "not a WAV file"):
                wavfile.read(path)

    def test_held_features_repeat_each_frame_hop_times(self):
        lm, f0 = feat.features(harmonic(200.0, 0.3))
        h = feat.held(lm, f0)
        self.assertEqual(h.shape, (feat.N_MELS + 1, lm.shape[1] * feat.HOP))
        np.testing.assert_array_equal(h[:-1, ::feat.HOP], lm)
        np.testing.assert_array_equal(h[-1, feat.HOP - 1::feat.HOP], f0)

    def test_log_mel_distance(self):
        x = (0.1 * np.random.default_rng(3).standard_normal(SR)).astype(np.float32)
        self.assertEqual(mel_distance.log_mel_distance(x, x), (0.0, 0.0))
        near = mel_distance.log_mel_distance(x * 1.1, x)[0]
        # a gain is a flat offset of 20 log10(1.1) dB in every bin above the floor
        self.assertAlmostEqual(near, 20 * np.log10(1.1), places=3)
        far = mel_distance.log_mel_distance(harmonic(300.0, 1.0), x)[0]
        self.assertGreater(far, 5 * near)


if __name__ == "__main__":
    unittest.main()
