"""Image streams through the C API (rill_stream_process_image via the binding): pixel formats and
bilinear resampling against numpy, the image_normalize op, and the mask_smooth op's temporal
state (the formula in core/src/ops/mask_smooth.cpp re-implemented in numpy: still regions
smooth, moving pixels follow at once, scene cuts and reset start afresh, state get/set round
trips, a NaN mask value holds the previous one), on hand-built graphs."""

import unittest

import numpy as np

import rill
from rill.format import to_bytes
from rill.images import resize_bilinear

W, H = 8, 6  # port size


def image_port(name, planes, w=W, h=H, source=None):
    p = {"name": name, "kind": "image", "channels": planes * w * h, "width": w, "height": h}
    if source:
        p["source"] = source
    else:
        p["sample_rate"] = 30
    return p


def smoothing_model(strength=0.6, cut=0.2, sigma=0.04):
    """Inputs: mask (1 plane) and frame (3 planes); output: the smoothed mask."""
    graph = {"inputs": [image_port("mask", 1), image_port("frame", 3)],
             "outputs": [image_port("smoothed", 1, source="s")],
             "params": [{"name": "smoothing", "min": 0, "max": 0.98, "default": strength},
                        {"name": "scene_cut", "min": 0, "max": 1, "default": cut}],
             "nodes": [{"name": "s", "op": "mask_smooth", "inputs": ["mask", "frame"],
                        "attrs": {"mask_width": W, "mask_height": H, "guide_width": W,
                                  "guide_height": H, "motion_sigma": sigma}}]}
    return rill.load(to_bytes(graph, {}))


def numpy_smooth(masks, frames, s, cut, sigma=0.04):
    """The documented recurrence, float64."""
    out, prev_m, prev_g = [], None, None
    for p, x in zip(masks, frames):
        g = 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
        if prev_m is None or np.abs(g - prev_g).mean() > cut:
            a = np.zeros_like(g)
        else:
            a = s * np.exp(-((g - prev_g) / sigma) ** 2)
        m = p if prev_m is None else a * prev_m + (1 - a) * p
        out.append(m)
        prev_m, prev_g = m, g
    return out


class MaskSmoothing(unittest.TestCase):
    def run_frames(self, stream, masks, frames):
        return [stream.process_image(m.astype(np.float32), f.astype(np.float32))[0][..., 0]
                for m, f in zip(masks, frames)]

    def sequence(self, n=12, seed=0):
        rng = np.random.default_rng(seed)
        masks = [rng.random((H, W)) for _ in range(n)]
        base = rng.random((H, W, 3)) * 0.5
        frames = []
        for t in range(n):
            f = base.copy()
            f[2, (t % W)] += 0.3          # one moving bright pixel
            if t == 7:                    # a scene cut
                base = rng.random((H, W, 3)) * 0.5 + 0.5
                f = base.copy()
            frames.append(f)
        return masks, frames

    def test_matches_the_documented_recurrence(self):
        masks, frames = self.sequence()
        model = smoothing_model(0.6, 0.2)
        got = self.run_frames(model.stream(), masks, frames)
        ref = numpy_smooth(masks, frames, 0.6, 0.2)
        for t, (a, b) in enumerate(zip(got, ref)):
            np.testing.assert_allclose(a, b, atol=2e-6, err_msg=f"frame {t}")
        # Still pixels were smoothed, the cut frame passes the new mask through unchanged.
        self.assertGreater(np.abs(got[3] - masks[3]).max(), 0.05)
        np.testing.assert_allclose(got[7], masks[7], atol=1e-6)

    def test_strength_zero_is_off_and_params_apply(self):
        masks, frames = self.sequence()
        s = smoothing_model().stream()
        s.set_param("smoothing", 0.0)
        for m, f, got in zip(masks, frames, self.run_frames(s, masks, frames)):
            np.testing.assert_allclose(got, m, atol=1e-6)
        s.set_param("scene_cut", 0.0)   # every change is a cut: still no smoothing
        self.assertEqual(s.get_param("scene_cut"), 0.0)

    def test_reset_and_state_round_trip(self):
        masks, frames = self.sequence()
        s = smoothing_model().stream()
        first = self.run_frames(s, masks[:4], frames[:4])
        s.reset()  # a fresh start: the first frame after reset passes through
        again = self.run_frames(s, masks[:4], frames[:4])
        for a, b in zip(first, again):
            np.testing.assert_array_equal(a, b)
        blob = s.get_state()
        tail = self.run_frames(s, masks[4:], frames[4:])
        s.set_state(blob)
        np.testing.assert_array_equal(tail[0], self.run_frames(s, masks[4:5], frames[4:5])[0])
        other = smoothing_model().stream()
        other.set_state(blob)
        np.testing.assert_array_equal(tail[0], self.run_frames(other, masks[4:5], frames[4:5])[0])

    def test_nan_mask_values_hold_the_previous_mask(self):
        masks, frames = self.sequence()
        s = smoothing_model().stream(nonfinite="pass")
        prev = self.run_frames(s, masks[:1], frames[:1])[0]
        bad = masks[0].copy()
        bad[1, 1] = np.nan
        got = self.run_frames(s, [bad], frames[:1])[0]
        self.assertTrue(np.isfinite(got).all())
        self.assertAlmostEqual(float(got[1, 1]), float(prev[1, 1]), places=6)


def normalize_model(order=(2, 1, 0), mean=(0.1, 0.2, 0.3), std=(0.5, 0.25, 2.0)):
    graph = {"inputs": [image_port("image", 3)],
             "outputs": [image_port("out", 3, source="n")],
             "nodes": [{"name": "n", "op": "image_normalize", "inputs": ["image"],
                        "attrs": {"planes": 3, "mean": list(mean), "std": list(std), "order": list(order)}}]}
    return rill.load(to_bytes(graph, {}))


class PixelsAndResampling(unittest.TestCase):
    def test_uint8_rgb_resampled_and_normalised(self):
        rng = np.random.default_rng(1)
        img = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
        (out,) = normalize_model().stream().process_image(img)
        x = resize_bilinear(img.astype(np.float64) / 255, H, W)
        ref = (x[..., [2, 1, 0]] - np.array([0.1, 0.2, 0.3])) / np.array([0.5, 0.25, 2.0])
        np.testing.assert_allclose(out, ref, atol=2e-6)

    def test_output_resampled_to_the_callers_size(self):
        rng = np.random.default_rng(2)
        img = rng.random((H, W, 3)).astype(np.float32)
        model = normalize_model(order=(0, 1, 2), mean=(0, 0, 0), std=(1, 1, 1))
        (out,) = model.stream().process_image(img, out_size=(29, 17))
        np.testing.assert_allclose(out, resize_bilinear(img.astype(np.float64), 17, 29), atol=2e-6)

    def test_gray_input_and_bad_descriptors(self):
        model = normalize_model(order=(0, 1, 2), mean=(0, 0, 0), std=(1, 1, 1))
        s = model.stream()
        gray = np.full((H, W), 51, np.uint8)
        (out,) = s.process_image(gray)
        np.testing.assert_allclose(out, 0.2, atol=1e-6)
        with self.assertRaises(rill.RillError):
            s.process_image(np.zeros((H, W, 4), np.uint8))
        with self.assertRaises(rill.RillError):  # an audio model has no image ports
            audio = rill.load(to_bytes({"inputs": [{"name": "x", "kind": "audio", "channels": 1,
                                                    "sample_rate": 8000}],
                                        "outputs": [{"name": "y", "kind": "audio", "channels": 1,
                                                     "source": "x"}], "nodes": []}, {}))
            audio.stream().process_image(gray)

    def test_ports_of_other_plane_counts_are_not_converted(self):
        # A 2-plane output (a 2-class map) can be skipped but not written as pixels; a 2-plane
        # input cannot be filled from pixels.
        two = {"inputs": [image_port("image", 3)],
               "outputs": [image_port("pair", 2, source="s"), image_port("mask", 1, source="m")],
               "nodes": [{"name": "s", "op": "slice", "inputs": ["image"],
                          "attrs": {"start": 0, "end": 2 * W * H}},
                         {"name": "m", "op": "slice", "inputs": ["image"],
                          "attrs": {"start": 0, "end": W * H}}]}
        s = rill.load(to_bytes(two, {})).stream()
        img = np.full((H, W, 3), 0.25, np.float32)
        with self.assertRaises(rill.RillError):
            s.process_image(img)
        two_in = {"inputs": [image_port("image", 2)], "outputs": [image_port("o", 2, source="image")],
                  "nodes": []}
        with self.assertRaises(rill.RillError):
            rill.load(to_bytes(two_in, {})).stream().process_image(img)

    def test_malformed_image_ports_are_refused(self):
        bad = {"inputs": [{"name": "image", "kind": "image", "channels": 3 * W * H + 1, "width": W,
                           "height": H, "sample_rate": 30}],
               "outputs": [{"name": "o", "kind": "image", "channels": 3 * W * H + 1, "width": W,
                            "height": H, "source": "image"}], "nodes": []}
        with self.assertRaisesRegex(rill.RillError, "width and height"):
            rill.load(to_bytes(bad, {}))


if __name__ == "__main__":
    unittest.main()
