"""The speech models' training scripts run as a user runs them: training/separation/train.py
(--task separate and --task enhance) and training/vocoder/train.py in their --smoke form (tiny
espeak-ng data, a tiny model, a few seconds of steps) each write a .rill that the C library loads
with the model's input and output ports, and a metrics JSON with the held-out figure."""

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import unittest

import rill

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = shutil.which("espeak-ng") and shutil.which("sox")


@unittest.skipUnless(TOOLS, "espeak-ng and sox are needed (scripts/install-deps.sh)")
class SpeechTrainingSmoke(unittest.TestCase):
    def run_smoke(self, script, *args):
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        r = subprocess.run([sys.executable, str(ROOT / script), "--smoke", "--out", tmp, *args],
                           capture_output=True, text=True, env=dict(os.environ), timeout=600)
        self.assertEqual(r.returncode, 0, r.stdout[-2000:] + r.stderr[-2000:])
        return pathlib.Path(tmp), r.stdout

    def test_separator_and_enhancer(self):
        for task, model_file, outputs in (("separate", "conv_tasnet_causal", 2),
                                          ("enhance", "conv_tasnet_enhancer", 1)):
            with self.subTest(task=task):
                out, log = self.run_smoke("training/separation/train.py", "--task", task)
                self.assertIn("held-out SI-SDR", log)
                m = rill.load(str(out / f"{model_file}.rill"))
                self.assertEqual((m.sample_rate, m.input_channels, m.output_channels),
                                 (8000, 1, outputs))
                metrics = json.loads((out / f"{model_file}.metrics.json").read_text())
                self.assertEqual(metrics["latency_samples"], 15)
                self.assertLess(metrics["max_abs_diff_block_37"], 1e-4)

    def test_vocoder(self):
        out, log = self.run_smoke("training/vocoder/train.py")
        self.assertIn("held-out log-mel spectral distance", log)
        m = rill.load(str(out / "vocoder_16k.rill"))
        self.assertEqual((m.sample_rate, m.input_channels, m.output_channels), (16000, 81, 1))
        metrics = json.loads((out / "vocoder_16k.metrics.json").read_text())
        self.assertGreater(metrics["heldout_lsd_db"], 0.0)
        self.assertLess(metrics["max_abs_diff_block_1024"], 1e-4)


if __name__ == "__main__":
    unittest.main()
