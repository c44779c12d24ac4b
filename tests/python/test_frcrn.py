"""rill.nn.frcrn (FRCRN, ClearerVoice-Studio frcrn_se, class DCCRN) exported with rill.export and
run by the C library equals PyTorch, and streams exactly in its cumulative-SE form:

- upstream's state_dict (names and shapes written out below from frcrn.py, unet.py,
  complex_nn.py, se_layer.py and conv_stft.py; FRCRN_SE_16K: 13,963,604 parameters, 13,141,844
  trainable, the rest the frozen STFT / iSTFT kernels) loads with strict=True;
- ConvSTFT / ConviSTFT invert each other (no centre padding, sqrt Hann, pseudo-inverse basis);
- random weights, cumulative squeeze-excitation: C++ vs PyTorch with 8 channels and at the
  released size (128 channels): max |error| <= 1e-4 of the output scale, streamed in blocks of 1,
  7, 333 and random splits, at latency 14 hops + one window - 1 = 5119 samples;
- the released model (utterance-average SE) is refused with the reason; the streaming
  counterpart's measured difference from it on a test signal is reported."""

import math
import unittest

import numpy as np
import torch

import rill
from rill.exporter import ExportError
from rill.nn import frcrn as fr
from stream_check import StreamTestCase, stream_blocks

RELEASED = dict(complex=True, model_complexity=45, model_depth=14, log_amp=False,
                padding_mode="zeros", win_len=640, win_inc=320, fft_len=640, win_type="hanning")
ENC_KERNELS = [(5, 2)] * 6 + [(2, 2)]
DEC_KERNELS = [(2, 2), (5, 2), (5, 2), (5, 2), (6, 2), (5, 2), (5, 2)]


def upstream_shapes(c=128):
    """The state_dict of upstream's DCCRN (FRCRN_SE_16K, model_depth 14): name -> shape. Every
    UNet layer is registered twice upstream (add_module("encoder0") and the ModuleList
    "encoders"), so both names are in the state_dict."""
    s = {"stft.weight": (642, 1, 640), "istft.weight": (642, 1, 640),
         "istft.window": (1, 640, 1), "istft.enframe": (640, 1, 640)}

    def fsmn(q, layers):
        for part in ("re", "im"):
            for layer in layers:
                p = f"{q}.fsmn_{part}_{layer}"
                s.update({p + ".linear.weight": (c, c), p + ".linear.bias": (c,),
                          p + ".project.weight": (c, c), p + ".conv1.weight": (c, 1, 20, 1)})

    def conv(q, pair, shape, out):
        for part in ("re", "im"):
            s.update({f"{q}.{pair}_{part}.weight": shape, f"{q}.{pair}_{part}.bias": (out,)})

    def bn(q, n):
        for part in ("re", "im"):
            p = f"{q}.bn_{part}."
            s.update({p + "weight": (n,), p + "bias": (n,), p + "running_mean": (n,),
                      p + "running_var": (n,), p + "num_batches_tracked": ()})

    def se(q):
        for fc in ("fc_r", "fc_i"):
            s.update({f"{q}.{fc}.0.weight": (c // 8, c), f"{q}.{fc}.0.bias": (c // 8,),
                      f"{q}.{fc}.2.weight": (c, c // 8), f"{q}.{fc}.2.bias": (c,)})

    enc_in = [1] + [c] * 6
    dec_in, dec_out = [c] + [2 * c] * 6, [c] * 6 + [1]
    for u in ("unet", "unet2"):
        fsmn(f"{u}.fsmn", ("L1", "L2"))
        for i in range(7):
            for enc, fs, sel in ((f"encoder{i}", f"fsmn_enc{i}", f"se_layer_enc{i}"),
                                 (f"encoders.{i}", f"fsmn_enc.{i}", f"se_layers_enc.{i}")):
                fsmn(f"{u}.{fs}", ("L1",))
                conv(f"{u}.{enc}.conv", "conv", (c, enc_in[i]) + ENC_KERNELS[i], c)
                bn(f"{u}.{enc}.bn", c)
                se(f"{u}.{sel}")
            for dec, fs, sel in ((f"decoder{i}", f"fsmn_dec{i}", f"se_layer_dec{i}"),
                                 (f"decoders.{i}", f"fsmn_dec.{i}", f"se_layers_dec.{i}")):
                fsmn(f"{u}.{fs}", ("L1",))
                conv(f"{u}.{dec}.transconv", "tconv", (dec_in[i], dec_out[i]) + DEC_KERNELS[i],
                     dec_out[i])
                bn(f"{u}.{dec}.bn", dec_out[i])
                if i < 6:
                    se(f"{u}.{sel}")
        conv(f"{u}.linear", "conv", (1, 1, 1, 1), 1)
    return s


def make(seed, channels=8, **kw):
    """A DCCRN with random weights a trained checkpoint could hold: batch-norm statistics and
    affines away from their inits, fan-in scaled layers (default init elsewhere)."""
    torch.manual_seed(seed)
    m = fr.DCCRN(**RELEASED, channels=channels, **kw)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                n = mod.num_features
                mod.running_mean.copy_(0.1 * torch.randn(n, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(n, generator=g))
                mod.weight.copy_(0.5 + torch.rand(n, generator=g))
                mod.bias.copy_(0.1 * torch.randn(n, generator=g))
    return m.eval()


def test_signal(samples, seed):
    """A voiced-like test signal: a gliding harmonic tone with noise and a gap."""
    g = np.random.default_rng(seed)
    t = np.arange(samples) / 16000.0
    f0 = 140 + 30 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / 16000.0
    x = sum(np.sin(k * phase) / k for k in range(1, 12)) * 0.2
    x = x + 0.05 * g.standard_normal(samples)
    x[samples // 3: samples // 3 + 800] *= 0.05
    return x.astype(np.float32)[None]


def torch_offline(module, x, tail):
    """module on x [1, T] followed by `tail` zeros, cut to T (what a stream of x computes)."""
    padded = torch.from_numpy(np.concatenate([x, np.zeros((1, tail), np.float32)], 1))[None]
    with torch.no_grad():
        return module(padded)[0, :, :x.shape[1]].numpy()


class FrcrnTest(StreamTestCase):
    def export(self, m, name, x):
        path = self.dir / name
        return path, rill.export(m, path, x, 16000, verbose=False)

    def test_upstream_state_dict_loads_strictly(self):
        m = fr.DCCRN(**RELEASED)
        self.assertEqual({k: tuple(v.shape) for k, v in m.state_dict().items()},
                         upstream_shapes())
        self.assertEqual(sum(p.numel() for p in m.parameters()), 13963604)
        self.assertEqual(sum(p.numel() for p in m.parameters() if p.requires_grad), 13141844)
        sd = {k: torch.randn(s) if s else torch.tensor(3) for k, s in upstream_shapes().items()}
        m.load_state_dict(sd, strict=True)
        self.assertTrue(torch.equal(m.unet.encoder3.conv.conv_re.weight,
                                    sd["unet.encoders.3.conv.conv_re.weight"]))

    def test_stft_inverts(self):
        m = fr.DCCRN(**RELEASED, channels=8)
        x = torch.randn(1, 16000)
        spec = m.stft(x)
        self.assertEqual(tuple(spec.shape), (1, 642, (16000 - 640) // 320 + 1))
        y = m.istft(spec)[0, 0]
        np.testing.assert_allclose(y[320:-320].numpy(), x[0, 320:16000 - 320].numpy(), atol=1e-4)

    def check_equal(self, m, x, blocks_list, name):
        e = fr.streaming_counterpart(fr.Enhancer(m))
        path, report = self.export(e, name, x)
        model = rill.load(str(path))
        self.assertEqual(report.latency_frames, 14 * 320 + 640 - 1)
        self.assertEqual(report.replaced, [])
        self.assertIn("exactly", report.notes[0])
        ref = torch_offline(e, x, model.latency_frames + model.hop_frames)
        worst, _ = self.assert_streams_like(model, x, ref, blocks_list, name)
        # ConviSTFT divides sample 1 by window(1)^2 + 1e-8 ~ 2.4e-5, which can make it the
        # largest of all: the rest must meet the tolerance against its own scale too
        got, hop = stream_blocks(model, x, blocks_list[0]), m.win_inc
        rest = float(np.abs(ref[:, hop:]).max())
        self.assertLessEqual(float(np.abs(got - ref)[:, hop:].max()), 1e-4 * rest)
        return worst, report

    def test_small_streams_exactly_in_any_blocks(self):
        rng = np.random.default_rng(3)
        blocks = [[1], [7], [333], list(rng.integers(1, 900, 40)), list(rng.integers(1, 9, 400))]
        x = test_signal(2400, 1)
        rel, report = self.check_equal(make(1), x, blocks, "small.rill")
        print(f"frcrn 8 channels: {report.nodes} nodes, latency {report.latency_frames} samples, "
              f"max |rill - torch| / scale {rel:.2e}")

    def test_released_size(self):
        x = test_signal(960, 2)
        rel, report = self.check_equal(make(2, channels=128), x, [[333]], "released.rill")
        print(f"frcrn 128 channels: {report.nodes} nodes, {report.weights} weights, latency "
              f"{report.latency_frames} samples ({report.latency_frames / 16:.1f} ms), "
              f"max |rill - torch| / scale {rel:.2e}")

    def test_released_model_refused_and_counterpart_measured(self):
        m = make(4)
        x = test_signal(8000, 5)
        self.assertEqual(m.streaming_mode()[0], "offline")
        with self.assertRaisesRegex(ExportError, "whole utterance.*streaming_counterpart"):
            self.export(fr.Enhancer(m), "released.rill", x)
        with self.assertRaisesRegex(ExportError, "Enhancer"):
            self.export(m, "dccrn.rill", x)
        s = fr.streaming_counterpart(fr.Enhancer(m))
        self.assertEqual(s.model.streaming_mode()[0], "exact")
        self.assertEqual(set(s.state_dict()), {"model." + k for k in m.state_dict()})
        path, report = self.export(s, "counterpart.rill", x)
        model = rill.load(str(path))
        ref = torch_offline(fr.Enhancer(m), x, model.latency_frames + model.hop_frames)
        got = stream_blocks(model, x, [512])
        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
        snr = 10 * math.log10(float((ref ** 2).sum() / ((got - ref) ** 2).sum()))
        print(f"frcrn released (utterance SE) vs streaming counterpart (cumulative SE), same "
              f"weights, 8 channels: max diff / scale {rel:.3f}, SNR {snr:.1f} dB; the "
              f"counterpart's own max |rill - torch| {report.max_abs_diff:.2g}")
        self.assertGreater(rel, 1e-3)  # a different model, as streaming_mode says


if __name__ == "__main__":
    unittest.main()
