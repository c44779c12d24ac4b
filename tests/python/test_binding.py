"""The ctypes binding: info, processing in any block sizes, params, reset, state, errors."""

import unittest

import numpy as np

import rill
from rill.format import to_bytes


def gain_model(sr=16000):
    """y = drive-scaled FiLM over a non-causal conv: latency 2, one parameter."""
    w = np.zeros((1, 1, 5), np.float32)
    w[0, 0, 2] = 1.0
    graph = {"inputs": [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": sr}],
             "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "f"}],
             "params": [{"name": "gain", "min": 0, "max": 2, "default": 1, "unit": "x"}],
             "meta": {"description": "test gain", "license": "MIT"},
             "nodes": [{"name": "c", "op": "conv1d", "inputs": ["x"], "attrs": {"padding": [2, 2]},
                        "weights": {"weight": "w"}},
                       {"name": "f", "op": "film", "inputs": ["c"], "attrs": {"params": ["gain"]},
                        "weights": {"weight": "fw", "bias": "fb"}}]}
    return to_bytes(graph, {"w": w, "fw": np.array([[1.0], [0.0]], np.float32),
                            "fb": np.array([0.0, 0.0], np.float32)})


class Binding(unittest.TestCase):
    def setUp(self):
        self.model = rill.load(gain_model())

    def test_info(self):
        m = self.model
        self.assertEqual(m.sample_rate, 16000)
        self.assertEqual(m.latency_frames, 2)
        self.assertEqual(m.inputs[0]["channels"], 1)
        self.assertEqual(m.params[0]["name"], "gain")
        self.assertEqual(m.description, "test gain")
        self.assertEqual([n["op"] for n in m.nodes], ["conv1d", "film"])
        self.assertTrue(rill.version())

    def test_blocks_params_reset_state(self):
        x = np.random.default_rng(0).standard_normal((1, 1000)).astype(np.float32)
        s = self.model.stream(max_block_frames=512)
        s.set_param("gain", 0.5)
        self.assertAlmostEqual(s.get_param("gain"), 0.5)
        outs, pos = [], 0
        for n in [1, 7, 64, 480, 448]:
            outs.append(s.process(x[:, pos:pos + n]))
            pos += n
        y = np.concatenate(outs, axis=1)
        np.testing.assert_allclose(y[:, 2:], 0.5 * x[:, :-2], atol=1e-7)
        s.reset()
        a = s.process(x[:, :300])
        blob = s.get_state()
        b1 = s.process(x[:, 300:600])
        s.set_state(blob)
        b2 = s.process(x[:, 300:600])
        np.testing.assert_array_equal(b1, b2)
        s.reset()
        np.testing.assert_array_equal(s.process(x[:, :300]), a)
        s.set_param("gain", 5.0)  # clamped to max
        self.assertEqual(s.get_param("gain"), 2.0)

    def test_errors(self):
        s = self.model.stream(max_block_frames=64)
        with self.assertRaises(rill.RillError) as e:
            s.process(np.zeros((1, 65), np.float32))
        self.assertIn("max_block_frames", str(e.exception))
        with self.assertRaises(rill.RillError):
            s.process(np.zeros((2, 10), np.float32))
        with self.assertRaises(rill.RillError):
            s.set_param("nope", 1.0)
        with self.assertRaises(rill.RillError):
            s.set_param("gain", float("nan"))
        with self.assertRaises(rill.RillError):
            s.set_state(b"garbage")
        with self.assertRaises(rill.RillError) as e:
            rill.load(b"\x00" * 7)
        self.assertIn("too short", str(e.exception))
        with self.assertRaises(rill.RillError) as e:
            rill.load("/nonexistent/model.rill")
        self.assertIn("/nonexistent/model.rill", str(e.exception))

    def test_nonfinite_policies(self):
        x = np.ones((1, 16), np.float32)
        x[0, 3] = np.nan
        s = self.model.stream(nonfinite=rill.NONFINITE_ZERO)
        y = s.process(x)
        self.assertEqual(s.last_status, 1)
        self.assertTrue(np.all(np.isfinite(y)))
        y = s.process(np.ones((1, 16), np.float32))
        self.assertEqual(y[0, 3 + 2 - 16], 1.0)  # state not poisoned
        r = self.model.stream(nonfinite=rill.NONFINITE_REJECT)
        r.process(np.ones((1, 8), np.float32))
        before = r.get_state()
        with self.assertRaises(rill.RillError):
            r.process(x)
        self.assertEqual(r.get_state(), before)


if __name__ == "__main__":
    unittest.main()
