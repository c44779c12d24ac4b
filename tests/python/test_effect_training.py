"""The bundled model's training pipeline in smoke mode: a few seconds of synthesised data, a
short training run whose loss must fall, an export that the C library loads and that equals the
torch model."""

import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training" / "effect"))


class EffectTraining(unittest.TestCase):
    def test_smoke_run_learns_and_exports(self):
        import rill
        from model import DriveTCN

        with tempfile.TemporaryDirectory() as t:
            r = subprocess.run([sys.executable, str(ROOT / "training/effect/train.py"), "--smoke",
                                "--runs", t, "--out", t], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            metrics = json.loads((pathlib.Path(t) / "smoke.metrics.json").read_text())
            self.assertLess(metrics["last_loss"], 0.5 * metrics["first_loss"])
            model = rill.load(str(pathlib.Path(t) / "smoke.rill"))
            self.assertEqual(model.latency_frames, DriveTCN().latency)
            self.assertEqual(model.params[0]["name"], "drive")

    def test_export_equals_torch(self):
        import rill
        from export_model import export
        from model import DriveTCN

        torch.manual_seed(3)
        m = DriveTCN().eval()
        for b in m.blocks:
            torch.nn.init.normal_(b.film.weight, std=0.5)
        x = (np.random.default_rng(1).standard_normal((1, 5000)) * 0.3).astype(np.float32)
        with tempfile.TemporaryDirectory() as t:
            path = pathlib.Path(t) / "m.rill"
            export(m, path, {"description": "test"})
            model = rill.load(str(path))
            tail = np.zeros((1, 512), np.float32)
            with torch.no_grad():
                ref = m(torch.from_numpy(np.concatenate([x, tail], 1))[None],
                        torch.tensor([0.8]))[0].numpy()[:, :5000]
            got = model.process_offline(np.concatenate([x, tail], 1), params={"drive": 0.8})
            self.assertLessEqual(float(np.max(np.abs(got[:, :5000] - ref))), 1e-4)


if __name__ == "__main__":
    unittest.main()
