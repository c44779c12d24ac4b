"""The ctypes binding: info, processing in any block sizes, params, reset, state, errors."""

import pathlib
import tempfile
import unittest

import numpy as np

import rill
from rill.format import to_bytes


def gain_model(sr=16000, kernel=5):
    """y = gain-scaled FiLM over a non-causal conv: latency (kernel - 1) / 2, one parameter."""
    w = np.zeros((1, 1, kernel), np.float32)
    w[0, 0, kernel // 2] = 1.0
    pad = kernel // 2
    graph = {"inputs": [{"name": "x", "kind": "audio", "channels": 1, "sample_rate": sr}],
             "outputs": [{"name": "y", "kind": "audio", "channels": 1, "source": "f"}],
             "params": [{"name": "gain", "min": 0, "max": 2, "default": 1, "unit": "x"}],
             "meta": {"description": "test gain", "license": "MIT"},
             "nodes": [{"name": "c", "op": "conv1d", "inputs": ["x"],
                        "attrs": {"padding": [pad, pad]},
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


class BindingMore(unittest.TestCase):
    def setUp(self):
        self.raw = gain_model()
        self.model = rill.load(self.raw)
        self.x = np.random.default_rng(1).standard_normal((1, 3000)).astype(np.float32)

    def test_load_from_path_info_and_repr(self):
        with tempfile.TemporaryDirectory() as t:
            path = pathlib.Path(t) / "gain.rill"
            path.write_bytes(self.raw)
            m = rill.load(path)
            self.assertEqual(m.path, str(path))
            info = m.info
            self.assertEqual(info["latency_frames"], 2)
            self.assertEqual(info["outputs"][0]["channels"], 1)
            self.assertEqual(info["params"][0], {"name": "gain", "unit": "x", "min": 0.0,
                                                 "max": 2.0, "default": 1.0})
            self.assertEqual(info["license"], "MIT")
            self.assertIn("gain", repr(m))
        self.assertEqual(rill.version_number() // 10000, int(rill.version().split(".")[0]))

    def test_any_block_sequence_equals_one_pass(self):
        ref = self.model.process_offline(self.x, block=3000)
        np.testing.assert_allclose(ref, self.x, atol=1e-7)  # centred tap: identity once aligned
        for seed in range(3):
            s = self.model.stream(max_block_frames=513)
            sizes = np.random.default_rng(seed).integers(1, 514, 100)
            outs, pos = [], 0
            for n in sizes:
                if pos >= 3000:
                    break
                outs.append(s.process(self.x[:, pos:pos + n]))
                pos += n
            y = np.concatenate(outs, axis=1)
            np.testing.assert_array_equal(y[:, 2:3000], self.x[:, :2998])
        s = self.model.stream()
        self.assertEqual(s.process(self.x[0, :10]).shape, (1, 10))  # 1-D mono input
        self.assertEqual(s.process(np.zeros((1, 0), np.float32)).shape, (1, 0))

    def test_params_by_index_and_name(self):
        s = self.model.stream()
        self.assertEqual(s.get_param(0), 1.0)  # default
        s.set_param(0, 0.25)
        self.assertEqual(s.get_param("gain"), 0.25)
        y = s.process(self.x[:, :100])
        np.testing.assert_allclose(y[:, 2:], 0.25 * self.x[:, :98], atol=1e-7)
        s.reset()  # parameters keep their values
        self.assertEqual(s.get_param("gain"), 0.25)
        with self.assertRaises(rill.RillError) as e:
            s.set_param(1, 0.0)
        self.assertEqual(e.exception.status_name, "RILL_ERR_INVALID_ARGUMENT")
        np.testing.assert_allclose(self.model.process_offline(self.x, params={"gain": 2.0}),
                                   2 * self.x, atol=1e-6)

    def test_state_moves_between_streams(self):
        a, b = self.model.stream(max_block_frames=256), self.model.stream(max_block_frames=256)
        a.process(self.x[:, :200])
        b.set_state(a.get_state())
        np.testing.assert_array_equal(a.process(self.x[:, 200:400]), b.process(self.x[:, 200:400]))
        self.assertEqual(len(a.get_state()), a.state_size)
        other = rill.load(gain_model(sr=48000, kernel=9)).stream(max_block_frames=256)
        with self.assertRaises(rill.RillError) as e:
            other.set_state(a.get_state())
        self.assertEqual(e.exception.status, -8)
        self.assertEqual(e.exception.status_name, "RILL_ERR_STATE_MISMATCH")

    def test_streams_are_independent(self):
        a, b = self.model.stream(), self.model.stream()
        ya = [a.process(self.x[:, i:i + 100]) for i in range(0, 1000, 100)]
        yb = [b.process(self.x[:, i:i + 50]) for i in range(0, 1000, 50)]
        np.testing.assert_array_equal(np.concatenate(ya, 1), np.concatenate(yb, 1))

    def test_error_details(self):
        bad = bytearray(self.raw)
        bad[20:30] = b"#" * 10  # corrupt the header JSON
        with self.assertRaises(rill.RillError) as e:
            rill.load(bytes(bad))
        self.assertEqual(e.exception.status_name, "RILL_ERR_FORMAT")
        self.assertTrue(e.exception.detail)
        self.assertIn(e.exception.detail, str(e.exception))
        with self.assertRaises(rill.RillError) as e:
            self.model.stream(sample_rate=44100)
        self.assertEqual(e.exception.status_name, "RILL_ERR_UNSUPPORTED")
        with self.assertRaises(rill.RillError):
            self.model.stream(nonfinite="sometimes")
        s = self.model.stream()
        s.close()
        with self.assertRaises(rill.RillError):
            s.process(self.x[:, :10])

    def test_nonfinite_pass_never_returns_nan(self):
        x = np.ones((1, 32), np.float32)
        x[0, 5] = np.inf
        s = self.model.stream(nonfinite="pass")
        for _ in range(3):
            self.assertTrue(np.all(np.isfinite(s.process(x))))

    def test_model_outlives_release(self):
        m = rill.load(self.raw)
        s = m.stream()
        m.close()  # the stream holds its own reference
        self.assertEqual(s.process(self.x[:, :8]).shape, (1, 8))

    def test_library_lookup_skips_sanitizer_builds(self):
        import os
        from rill import _capi
        saved = os.environ.pop("RILL_LIBRARY", None)
        try:
            found = _capi._find_library()
        except rill.RillError:
            found = None
        finally:
            if saved is not None:
                os.environ["RILL_LIBRARY"] = saved
        if found and "/" in found:
            build = pathlib.Path(found).parents[1]
            self.assertFalse(_capi._sanitized(build), found)


if __name__ == "__main__":
    unittest.main()
