"""The released (utterance-normalised) MossFormer2 and FRCRN configurations, which rill.export
refuses because they cannot stream, run in Rill's offline windows mode (docs/offline.md):

- rill.export_windows exports each (MossFormer2 N 64 / 2 blocks with two sources and
  align="permutation"; FRCRN's Enhancer with 8 channels, window = 640 + k * 320 samples); the
  stream in blocks of 1, 7, 333 and random splits equals windowed_reference() (the same windowed
  computation in PyTorch/NumPy) shifted by the reported latency W - 1, max |error| <= 1e-4 of
  the output scale;
- with windows of 3 s every 2 s, the windowed output (windowed_reference, which the stream
  equals) is compared with the model on the whole file (SI-SDR per source, printed and bounded:
  MossFormer2 > 8 dB on 6 s at 8 kHz, FRCRN > 25 dB on 8 s at 16 kHz without the file's first
  and last frame);
- rill.export's refusal of the released configurations names rill.export_windows."""

import time

import numpy as np
import torch

import rill
from rill.exporter import ExportError
from rill.nn import frcrn as fr
from rill.offline_windows import windowed_reference
from stream_check import StreamTestCase
from test_frcrn import make as make_frcrn
from test_frcrn import test_signal as speech_like
from test_mossformer2 import SMALL, SR, make as make_mossformer, mixture
from test_offline_windows import si_sdr

FRAME, HOP = 640, 320  # FRCRN's STFT (no centre padding): W = FRAME + k * HOP holds its output


class OfflineReleasedTest(StreamTestCase):

    def check_stream(self, module, name, x, W, hop, align):
        path = self.dir / f"{name}.rill"
        report = rill.export_windows(module, path, SR, window=W, hop=hop, align=align,
                                     verbose=False)
        self.assertEqual(report.latency_frames, W - 1)
        model = rill.load(path)
        ref = windowed_reference(module, x[0], W, hop, align=align)
        rng = np.random.default_rng(5)
        blocks = [[1], [7], [333], list(rng.integers(1, 1500, 40))]
        t0 = time.time()
        worst, _ = self.assert_streams_like(model, x, ref, blocks, f"{name} windows")
        print(f"\n{name} offline windows W={W} hop={hop}: stream vs windowed PyTorch max error "
              f"{worst:.2e} of the output scale ({time.time() - t0:.1f} s for 4 block patterns)")
        return model

    def whole_file_sdr(self, name, module, x, W, hop, align, whole, edge=0, rate=SR):
        """SI-SDR per source of the windowed output against the whole-file output `whole`,
        leaving out `edge` samples at both ends."""
        T = whole.shape[-1]
        got = windowed_reference(module, x[0], W, hop, align=align)[:, edge:T - edge]
        whole = whole[:, edge:T - edge]
        sdr = [si_sdr(got[s], whole[s]) for s in range(whole.shape[0])]
        err = float(np.abs(got - whole).max() / np.abs(whole).max())
        print(f"\n{name} offline windows W={W / rate:g} s hop={hop / rate:g} s on {T / rate:g} s at "
              f"{rate} Hz: SI-SDR "
              f"vs whole-file model {' / '.join(f'{v:.1f}' for v in sdr)} dB, max error "
              f"{err:.3g} of the output scale")
        return sdr

    def test_mossformer2_stream_equals_windowed_reference(self):
        m = make_mossformer(SMALL, 3)
        x = mixture(6000, 2)[0].numpy()
        model = self.check_stream(m, "mossformer2", x, 2048, 1280, "permutation")
        self.assertEqual((model.input_channels, model.output_channels), (1, 2))

    def test_frcrn_stream_equals_windowed_reference(self):
        m = fr.Enhancer(make_frcrn(4))
        x = speech_like(9000, 3)
        model = self.check_stream(m, "frcrn", x, FRAME + 12 * HOP, 2400, "none")
        self.assertEqual((model.input_channels, model.output_channels), (1, 1))

    def test_mossformer2_windowed_vs_whole_file(self):
        # At 8 kHz (MossFormer2_SS_8K's rate; the network is the same): 6 s, windows of 3 s
        # every 2 s (cost 1.5x).
        m = make_mossformer(SMALL, 6)
        rate = 8000
        T, W, hop = 6 * rate, 3 * rate, 2 * rate
        x = mixture(T, 7)
        with torch.no_grad():
            whole = m(x)[0].double().numpy()
        sdr = self.whole_file_sdr("MossFormer2", m, x[0].numpy(), W, hop, "permutation", whole,
                                  rate=rate)
        self.assertGreater(min(sdr), 8.0)  # sources swapped between windows score far lower

    def test_frcrn_windowed_vs_whole_file(self):
        m = fr.Enhancer(make_frcrn(8))
        T = FRAME + 8 * SR  # 8 s (400 hops) plus one frame: the model's output holds all of x
        W, hop = FRAME + 149 * HOP, 100 * HOP  # 3.02 s every 2 s
        x = speech_like(T, 9)
        with torch.no_grad():
            whole = m(torch.from_numpy(x)[None])[0].double().numpy()
        self.assertEqual(whole.shape, (1, T))
        # Without the file's first and last frame: there the whole-file model's iSTFT divides by
        # the sum of squared windows of one frame (+ 1e-8), which amplifies the edge samples
        # (its largest output is the last sample); the windows see no file edge there.
        sdr = self.whole_file_sdr("FRCRN", m, x, W, hop, "none", whole, edge=FRAME)
        self.assertGreater(min(sdr), 25.0)

    def test_export_refusals_name_the_windows_mode(self):
        x = mixture(800, 1)
        with self.assertRaisesRegex(ExportError, "export_windows"):
            rill.export(make_mossformer(SMALL, 1), self.dir / "m.rill", x, SR, verbose=False)
        with self.assertRaisesRegex(ExportError, r"export_windows.*640 \+ k \* 320"):
            rill.export(fr.Enhancer(make_frcrn(1)), self.dir / "f.rill", x[0].numpy(), SR,
                        verbose=False)
