"""The bundled model's training pipeline (training/effect/): the smoke run (a few seconds of
synthesised data, a few dozen training steps) must lower the loss and export a graph that is
valid and that the C library streams exactly like the torch model; the hand-written graph and
rill.export's traced graph must agree; the fast target effect must equal its recursion."""

import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "capi" / "python"))
sys.path.insert(0, str(ROOT / "training" / "effect"))

import rill  # noqa: E402
from rill.format import read_rill, to_bytes  # noqa: E402

KNOWN_OPS = {"conv1d", "film", "tanh", "add"}


def library_available():
    try:
        rill.version()
        return True
    except (OSError, RuntimeError):
        return False


def check_graph(test, graph, tensors, latency):
    """Structure of an exported DriveTCN: known ops, resolved inputs and weights, weight shapes
    as docs/ops.md requires, padding within the kernel span, the declared latency."""
    test.assertEqual(graph["params"][0]["name"], "drive")
    test.assertEqual(graph["inputs"][0]["sample_rate"], 44100)
    seen, total = {"x"}, 0
    for n in graph["nodes"]:
        test.assertIn(n["op"], KNOWN_OPS)
        for i in n["inputs"]:
            test.assertIn(i, seen, n["name"])
        for role, t in n.get("weights", {}).items():
            test.assertIn(t, tensors)
            test.assertTrue(np.all(np.isfinite(tensors[t])))
        if n["op"] == "conv1d":
            w = tensors[n["weights"]["weight"]]
            k, d = w.shape[2], n.get("attrs", {}).get("dilation", 1)
            l, r = n.get("attrs", {}).get("padding", [0, 0])
            test.assertLessEqual(l, (k - 1) * d)
            total += (k - 1) * d - l
        if n["op"] == "film":
            test.assertEqual(n["attrs"]["params"], ["drive"])
            C = tensors[n["weights"]["bias"]].shape[0] // 2
            test.assertEqual(tensors[n["weights"]["weight"]].shape, (2 * C, 1))
        seen.add(n["name"])
    test.assertIn(graph["outputs"][0]["source"], seen)
    test.assertEqual(total, latency)


class EffectTraining(unittest.TestCase):
    def test_smoke_run_learns_and_exports(self):
        from model import DriveTCN

        with tempfile.TemporaryDirectory() as t:
            r = subprocess.run([sys.executable, str(ROOT / "training/effect/train.py"), "--smoke",
                                "--runs", t, "--out", t], capture_output=True, text=True,
                               timeout=300)
            self.assertEqual(r.returncode, 0, r.stderr[-2000:])
            metrics = json.loads((pathlib.Path(t) / "smoke.metrics.json").read_text())
            self.assertLess(metrics["last_loss"], 0.5 * metrics["first_loss"])
            graph, tensors = read_rill(pathlib.Path(t) / "smoke.rill")
            check_graph(self, graph, tensors, DriveTCN().latency)
            if library_available():
                model = rill.load(str(pathlib.Path(t) / "smoke.rill"))
                self.assertEqual(model.latency_frames, DriveTCN().latency)
                check = metrics["rill_check"]
                self.assertEqual(check["latency_frames"], DriveTCN().latency)
                for d, diff in check["max_abs_diff"].items():
                    self.assertLessEqual(diff, 1e-4, f"drive {d}")

    @unittest.skipUnless(library_available(), "librill not built")
    def test_export_equals_torch_and_explicit_graph(self):
        from export_model import explicit_graph, export, verify
        from model import DriveTCN

        torch.manual_seed(3)
        m = DriveTCN().eval()
        for b in m.blocks:
            torch.nn.init.normal_(b.film.weight, std=0.5)
        x = (np.random.default_rng(1).standard_normal(5000) * 0.3).astype(np.float32)
        with tempfile.TemporaryDirectory() as t:
            path = pathlib.Path(t) / "m.rill"
            graph = export(m, path, {"description": "test"})
            check_graph(self, graph, read_rill(path)[1], m.latency)
            check = verify(path, m, x, drives=(0.0, 0.8, 1.0))
            self.assertEqual(check["latency_frames"], m.latency)
            for d, diff in check["max_abs_diff"].items():
                self.assertLessEqual(diff, 1e-4, f"drive {d}")
            # The hand-written graph streams to the same output as the traced one.
            g2, t2 = explicit_graph(m, {"description": "test"})
            check_graph(self, g2, t2, m.latency)
            a = rill.load(str(path)).process_offline(x[None], params={"drive": 0.3})
            b = rill.load(to_bytes(g2, t2)).process_offline(x[None], params={"drive": 0.3})
            self.assertLessEqual(float(np.max(np.abs(a - b))), 1e-6)

    def test_fast_effect_equals_recursion(self):
        from effect_dsp import apply_effect, apply_effect_recursive

        x = np.random.default_rng(2).standard_normal(3000) * 0.5
        for d in (0.0, 0.3, 1.0):
            np.testing.assert_allclose(apply_effect(x, d), apply_effect_recursive(x, d),
                                       rtol=0, atol=1e-6)


if __name__ == "__main__":
    unittest.main()
