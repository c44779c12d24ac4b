"""Offline windows mode (docs/offline.md): a non-causal gLN Conv-TasNet, which cannot stream,
exported with rill.export_windows and run by the C library:

- the stream in blocks of 1, 7, 333 and random splits equals the same windowed computation done
  in PyTorch/NumPy (the model on each window, the overlap_add crossfade, source alignment) shifted
  by the reported latency W - hop, max |error| <= 1e-4 of the output scale;
- the file's meta names the mode, the graph is frame -> tensor_program -> overlap_add;
- with a window of a few seconds the windowed output is compared with the model on the whole
  file (SI-SDR per source, printed and bounded);
- an output that does not hold the window's samples is an error of the C importer (forced
  overlap_add back end) and of export_windows; rill.export still refuses gLN and points here."""

import io
import time

import numpy as np
import torch

import rill
from rill.exporter import ExportError
from rill.format import read_rill
from rill.offline_windows import import_options, windowed_reference
from stream_check import StreamTestCase, stream_blocks
from test_conv_tasnet import SR, make, signal

TINY = dict(n_filters=16, bn_chan=16, hid_chan=24, skip_chan=16, n_blocks=3, n_repeats=1)


def si_sdr(est, ref):
    ref = ref - ref.mean()
    est = est - est.mean()
    target = (est @ ref) / (ref @ ref) * ref
    return 10 * np.log10((target @ target) / ((est - target) @ (est - target)))


class OfflineWindowsTest(StreamTestCase):

    def test_stream_equals_windowed_reference(self):
        m = make(2, 3, **TINY, norm_type="gLN")
        W, hop = 1024, 640
        path = self.dir / "gln_windows.rill"
        report = rill.export_windows(m, path, SR, window=W, hop=hop, align="permutation",
                                     verbose=False)
        self.assertEqual(report.latency_frames, W - 1)  # graph W - hop, FIFO hop - 1
        graph, _ = read_rill(path)
        self.assertEqual(graph["meta"]["mode"], f"offline windows ({W} samples, hop {hop})")
        self.assertEqual(rill.load(path).description,
                         f"ConvTasNet; offline windows ({W} samples, hop {hop}) mode")
        self.assertEqual([n["op"] for n in graph["nodes"]], ["frame", "tensor_program", "overlap_add"])
        model = rill.load(path)
        self.assertEqual((model.input_channels, model.output_channels), (1, 2))
        x = signal(5000, 7)
        ref = windowed_reference(m, x[0], W, hop, align="permutation")
        rng = np.random.default_rng(4)
        blocks = [[1], [7], [333], list(rng.integers(1, 900, 40))]
        t0 = time.time()
        worst, _ = self.assert_streams_like(model, x, ref, blocks, "gLN Conv-TasNet windows")
        print(f"\noffline windows W={W} hop={hop}: stream vs windowed PyTorch max error "
              f"{worst:.2e} of the output scale ({time.time() - t0:.1f} s for 4 block patterns)")

    def test_windowed_vs_whole_file(self):
        # A window of 3 s at 8 kHz, hop 2 s (cost 1.5x), on 10 s: how far the windowed model is
        # from the model on the whole file (gLN statistics of 3 s windows vs the utterance).
        m = make(2, 5, **TINY, norm_type="gLN")
        W, hop, T = 3 * SR, 2 * SR, 10 * SR
        path = self.dir / "gln_long.rill"
        rill.export_windows(m, path, SR, window=W, hop=hop, align="permutation", verbose=False)
        x = signal(T, 11)
        got = rill.load(path).process_offline(x, block=4096)
        ref = windowed_reference(m, x[0], W, hop, align="permutation")
        scale = float(np.abs(ref).max())
        self.assertLessEqual(float(np.abs(got - ref).max()), 1e-4 * scale)
        with torch.no_grad():
            whole = m(torch.from_numpy(x)[None])[0].numpy()
        sdr = [si_sdr(got[s].astype(np.float64), whole[s].astype(np.float64)) for s in range(2)]
        err = float(np.abs(got - whole).max() / np.abs(whole).max())
        print(f"\noffline windows W={W} hop={hop} on {T / SR:g} s: SI-SDR vs whole-file model "
              f"{sdr[0]:.1f} / {sdr[1]:.1f} dB, max error {err:.3g} of the output scale")
        self.assertGreater(min(sdr), 20.0)

    def test_output_that_does_not_hold_the_window_is_an_error(self):
        class Short(torch.nn.Module):  # drops the last sample: [1, 2, W - 1]
            def forward(self, x):
                return torch.cat([x, -x], dim=1)[..., :-1]

        W, hop = 64, 32
        buf = io.BytesIO()
        torch.onnx.export(Short(), torch.zeros(1, 1, W), buf, input_names=["x"],
                          output_names=["y"], opset_version=13)
        with self.assertRaisesRegex(rill.RillError, r"overlap_add back end: output 'y' \[1, 2, 63\] "
                                    r"does not hold window_size = 64 samples per source"):
            rill.load(buf.getvalue(), import_options(SR, W, hop))
        with self.assertRaisesRegex(ExportError, r"\[1, 2, 63\].*\[1, S, 64\]"):
            rill.export_windows(Short(), self.dir / "short.rill", SR, window=W, hop=hop,
                                verbose=False)
        # Without the forced back end such an output is a per-window result held on a frames
        # port, and a window-shaped output of a model without state is recognised as audio.
        opts = dict(import_options(SR, W, hop))
        del opts["backend"]
        held = rill.load(buf.getvalue(), opts)
        self.assertEqual((held.outputs[0]["kind"], held.outputs[0]["channels"]), ("frames", 126))

        class Both(torch.nn.Module):  # [1, 2, W]
            def forward(self, x):
                return torch.cat([x, -x], dim=1)

        buf = io.BytesIO()
        torch.onnx.export(Both(), torch.zeros(1, 1, W), buf, input_names=["x"],
                          output_names=["y"], opset_version=13)
        auto = rill.load(buf.getvalue(), opts)
        self.assertEqual((auto.outputs[0]["kind"], auto.outputs[0]["channels"]), ("audio", 2))

    def test_identity_windows_reproduce_the_input(self):
        class Identity(torch.nn.Module):
            def forward(self, x):
                return x * 1.0

        W, hop = 256, 96
        path = self.dir / "identity.rill"
        report = rill.export_windows(Identity(), path, SR, window=W, hop=hop, crossfade="hann",
                                     verbose=False)
        x = signal(3000, 2)
        got = stream_blocks(rill.load(path), x, [37])
        self.assertEqual(report.latency_frames, W - 1)  # graph W - hop, FIFO hop - 1
        self.assertLessEqual(float(np.abs(got - x).max()), 1e-6)

    def test_gln_export_points_at_the_windows_mode(self):
        m = make(2, 1, **TINY, norm_type="gLN")
        with self.assertRaisesRegex(ExportError, "export_windows"):
            rill.export(m, self.dir / "gln.rill", signal(800, 1), SR, verbose=False)
