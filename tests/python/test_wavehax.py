"""rill.nn.wavehax (the Wavehax vocoder, chomeyama/wavehax) exported with rill.export and run by
the C library equals PyTorch, and streams exactly in its per-frame-norm form:

- upstream's state_dict (names and shapes written out below from wavehax/generators/wavehax.py,
  modules/resblock.py, norm.py and stft.py; v1: 622,951 parameters) loads with strict=True;
- generate_pcph's deterministic prior equals a direct per-sample sum; the STFT inverts;
- random weights, framewise_norm=True, zero time padding, deterministic prior: C++ vs PyTorch at
  a small size and at the v1 size (C 32, mult 2, k 7, 8 blocks, n_fft 480, hop 240, 24 kHz):
  max |error| <= 1e-4 of the output scale, streamed in blocks of 1 (small), 7, 240, 333, 4096 and
  random splits, at latency pad + (4 + 3 * blocks) hops + hop - 1;
- framewise_norm=False (the released configurations) is refused with the reason; its streaming
  counterpart exports, and its measured difference from the offline released model is reported;
- reflect vs zero time padding differ only within the look-ahead of the utterance edges."""

import math
import pathlib
import unittest

import numpy as np
import torch

import rill
from rill.exporter import ExportError
from rill.nn import wavehax as wh
from rill.offline_windows import windowed_reference
from stream_check import StreamTestCase, stream_blocks

V1 = dict(in_channels=100, channels=32, mult_channels=2, kernel_size=7, num_blocks=8, n_fft=480,
          hop_length=240, sample_rate=24000)
SMALL = dict(in_channels=6, channels=4, mult_channels=2, kernel_size=7, num_blocks=2, n_fft=64,
             hop_length=32, sample_rate=8000)
STREAMING = dict(framewise_norm=True, time_padding="zeros", prior_noise_amplitude=0.0,
                 prior_random_phase=False)


def upstream_shapes(in_channels=100, channels=32, mult_channels=2, kernel_size=7, num_blocks=8,
                    n_fft=480, **_):
    """The state_dict of upstream's WavehaxGenerator (prior pcph, layer norm): name -> shape."""
    bins, c, m = n_fft // 2 + 1, channels, channels * mult_channels
    s = {"stft.window": (1, n_fft, 1), "stft.window_envelope": (1, n_fft, 1),
         "stft.enframe_kernel": (n_fft, 1, n_fft), "prior_proj.weight": (bins, bins, 7),
         "prior_proj.bias": (bins,), "cond_proj.weight": (bins, in_channels, 7),
         "cond_proj.bias": (bins,), "input_proj.weight": (c, 5, 1, 1),
         "input_norm.gamma": (c,), "input_norm.beta": (c,)}
    for i in range(num_blocks):
        q = f"blocks.{i}."
        s.update({q + "dwconv.weight": (c, 1, kernel_size, kernel_size), q + "norm.gamma": (c,),
                  q + "norm.beta": (c,), q + "pwconv1.weight": (m, c, 1, 1),
                  q + "pwconv1.bias": (m,), q + "pwconv2.weight": (c, m, 1, 1),
                  q + "pwconv2.bias": (c,), q + "gamma": (1, c, 1, 1)})
    s.update({"output_norm.gamma": (c,), "output_norm.beta": (c,),
              "output_proj.weight": (2, c, 1, 1), "output_proj.bias": (2,)})
    return s


def make(cfg, seed, **kw):
    """A generator with random weights a trained checkpoint could hold (norms and layer scales
    away from their inits, fan-in scaled convolutions)."""
    m = wh.WavehaxGenerator(**cfg, **kw)
    g = torch.Generator().manual_seed(seed)
    sd = m.state_dict()
    for k, t in sd.items():
        if k.startswith("stft."):
            continue
        r = torch.randn(t.shape, generator=g)
        if k.endswith("norm.gamma"):
            r = 1 + 0.2 * r
        elif k.endswith("beta") or k.endswith("bias"):
            r = 0.1 * r
        elif k.endswith(".gamma"):          # layer scale [1, C, 1, 1]
            r = 0.3 + 0.1 * r
        else:
            r = r / math.sqrt(t[0].numel())
        sd[k] = r
    m.load_state_dict(sd, strict=True)
    return m.eval()


def features(cfg, frames, seed):
    """cond [1, in, F] and an f0 contour [1, 1, F] with unvoiced stretches and a glide."""
    g = torch.Generator().manual_seed(seed)
    cond = torch.randn(1, cfg["in_channels"], frames, generator=g)
    f0 = 120 + 60 * torch.sin(torch.arange(frames) / 7.0) + 40 * torch.rand(frames, generator=g)
    f0[frames // 5: frames // 5 + 6] = 0
    f0[-frames // 4:] = 0.0 if frames > 40 else f0[-frames // 4:]
    return cond, f0.reshape(1, 1, -1)


def held(cfg, cond, f0):
    hop = cfg["hop_length"]
    return [wh.hold(cond, hop)[0].numpy(), wh.hold(f0, hop)[0].numpy()]


def inputs(cfg):
    return [{"name": "cond", "channels": cfg["in_channels"]}, {"name": "f0", "channels": 1}]


def torch_offline(audio_rate_model, xs, tail):
    """The module on the inputs followed by `tail` zero samples, cut to their length."""
    T = xs[0].shape[1]
    padded = [torch.from_numpy(np.concatenate([e, np.zeros((e.shape[0], tail), np.float32)], 1))
              [None] for e in xs]
    with torch.no_grad():
        return audio_rate_model(*padded)[0, :, :T].numpy()


class WavehaxTest(StreamTestCase):
    def export(self, m, cfg, name, xs):
        path = self.dir / name
        report = rill.export(m, path, xs, cfg["sample_rate"], inputs=inputs(cfg), verbose=False)
        return path, report

    def test_upstream_state_dict_loads_strictly(self):
        m = wh.WavehaxGenerator(**V1)
        self.assertEqual({k: tuple(v.shape) for k, v in m.state_dict().items()},
                         upstream_shapes(**V1))
        self.assertEqual(sum(p.numel() for p in m.parameters()), 622951)
        sd = {k: torch.randn(s) for k, s in upstream_shapes(**V1).items()}
        m.load_state_dict(sd, strict=True)

    def test_prior_and_stft(self):
        sr, hop = 8000, 16
        f0 = torch.tensor([0.0, 110.0, 95.5, 0.0, 1300.0, 2100.0]).reshape(1, 1, -1)
        y = wh.generate_pcph(f0, hop, sr, 0.0, False)[0, 0].double().numpy()
        f = np.repeat(f0.reshape(-1).double().numpy(), hop)
        r = np.cumsum(f / sr)
        ref = np.zeros_like(r)
        for n in range(len(r)):
            if f[n] > 0:
                k = np.arange(1, int(sr / 2 / f[n]) + 1)
                ref[n] = 0.1 * math.sqrt(2 * f[n] / (sr / 2)) * np.sin(2 * np.pi * k * r[n]).sum()
        np.testing.assert_allclose(y, ref, atol=2e-6)
        stft = wh.STFT(64, 16)
        x = torch.randn(1, 1, 640)
        np.testing.assert_allclose(stft.inverse(*stft(x)).numpy(), x.numpy(), atol=2e-6)

    def check_equal(self, cfg, m, frames, blocks_list, name, seed):
        cond, f0 = features(cfg, frames, seed)
        xs = held(cfg, cond, f0)
        a = wh.AudioRate(m)
        path, report = self.export(a, cfg, name, xs)
        model = rill.load(str(path))
        ref = torch_offline(a, xs, model.latency_frames + model.hop_frames)
        worst, _ = self.assert_streams_like(model, np.concatenate(xs, axis=0), ref, blocks_list, name)
        hop = cfg["hop_length"]
        pad = (cfg["n_fft"] - hop) // 2
        self.assertEqual(report.latency_frames, pad + (4 + 3 * cfg["num_blocks"]) * hop + hop - 1)
        self.assertEqual(report.replaced, [])
        self.assertIn("exactly", report.notes[0])
        return worst, report, model

    def test_small_streams_exactly_in_any_blocks(self):
        rng = np.random.default_rng(3)
        blocks = [[1], [7], [32], [333], [4096], list(rng.integers(1, 700, 64)),
                  list(rng.integers(1, 9, 300))]
        rel, report, _ = self.check_equal(SMALL, make(SMALL, 1, **STREAMING), 50, blocks,
                                          "small.rill", 2)
        print(f"wavehax small: latency {report.latency_frames} samples, max |rill - torch| / "
              f"scale {rel:.2e}")

    def test_v1_size(self):
        rng = np.random.default_rng(4)
        blocks = [[240], [333], [4096], list(rng.integers(1, 3000, 40))]
        m = make(V1, 5, **STREAMING)
        rel, report, model = self.check_equal(V1, m, 60, blocks, "v1.rill", 6)
        # layer scales folded into pwconv2; the 10 norms' gamma and beta repeated over 241 bins
        self.assertEqual(report.weights, 622951 - 8 * 32 + 10 * 2 * 32 * (241 - 1))
        print(f"wavehax v1: latency {report.latency_frames} samples "
              f"({report.latency_frames / 24:.1f} ms at 24 kHz), max |rill - torch| / scale "
              f"{rel:.2e}")

    def test_released_config_refused_and_counterpart_measured(self):
        cfg = SMALL
        m = make(cfg, 7)  # framewise_norm False, reflect padding, random prior (upstream)
        cond, f0 = features(cfg, 50, 8)
        xs = held(cfg, cond, f0)
        mode, why = m.streaming_mode()
        self.assertEqual(mode, "offline")
        with self.assertRaisesRegex(ExportError, "whole utterance.*streaming_counterpart"):
            self.export(wh.AudioRate(m), cfg, "released.rill", xs)
        with self.assertRaisesRegex(ExportError, "AudioRate"):
            self.export(m, cfg, "generator.rill", xs)
        s = wh.streaming_counterpart(wh.AudioRate(m))
        self.assertEqual(s.generator.streaming_mode()[0], "exact_latency")
        self.assertEqual(set(s.state_dict()), {"generator." + k for k in m.state_dict()})
        path, report = self.export(s, cfg, "counterpart.rill", xs)
        self.assertLessEqual(report.max_abs_diff, 1e-5)
        # what streaming costs: the counterpart (streamed) against the released model offline,
        # both with the deterministic prior so the difference is the model's, not the noise's
        released = wh.AudioRate(m)
        m.prior_noise_amplitude, m.prior_random_phase = 0.0, False
        model = rill.load(str(path))
        ref = torch_offline(released, xs, model.latency_frames + model.hop_frames)
        got = stream_blocks(model, np.concatenate(xs, axis=0), [512])
        rel = float(np.abs(got - ref).max() / np.abs(ref).max())
        snr = 10 * math.log10(float((ref ** 2).sum() / ((got - ref) ** 2).sum()))
        print(f"wavehax released (utterance LayerNorm2d) vs streaming counterpart, same weights: "
              f"max diff / scale {rel:.3f}, SNR {snr:.1f} dB")
        self.assertGreater(rel, 1e-3)  # a different model, as streaming_mode says

    def check_windows(self, cfg, seed, frames, window_frames, blocks, name):
        """The released configuration (utterance LayerNorm2d, reflect padding) in the offline
        windows mode: the stream equals the same windowed computation in PyTorch (the prior with
        its phase running across windows); returns (max error / scale, SNR of the windowed
        output against the generator on the whole signal, dB)."""
        m = make(cfg, seed, prior_noise_amplitude=0.0, prior_random_phase=False)
        self.assertEqual(m.streaming_mode()[0], "offline")
        cond, f0 = features(cfg, frames, seed + 1)
        hop, window = cfg["hop_length"], window_frames * cfg["hop_length"]
        x = np.concatenate(held(cfg, cond, f0), axis=0)
        one = torch.cat([torch.from_numpy(x[None, :, :window]), m.prior(f0[..., :window_frames])], 1)
        with torch.no_grad():  # one window: the generator itself (DFT products for the FFTs)
            a = wh.WindowedGenerator(m)(one)
            b = m(cond[..., :window_frames], f0[..., :window_frames])[0]
        self.assertLess(float((a - b).abs().max() / b.abs().max()), 1e-5)
        report = rill.export_windows(wh.AudioRate(m), self.dir / name, cfg["sample_rate"],
                                     window, window // 2, verbose=False)
        self.assertEqual(report.latency_frames, window - 1)
        model = rill.load(str(self.dir / name))
        self.assertEqual([(p["name"], p["channels"]) for p in model.inputs],
                         [("cond", cfg["in_channels"]), ("f0", 1)])
        prior = m.prior(f0)[0].numpy()
        ref = windowed_reference(wh.WindowedGenerator(m), np.concatenate([x, prior]), window,
                                 window // 2)
        scale = float(np.abs(ref).max())
        worst = 0.0
        for bl in blocks:
            worst = max(worst, float(np.abs(stream_blocks(model, x, bl) - ref).max()) / scale)
        print(f"{name}: output scale {scale:.3g}, max |stream - windowed torch| {worst * scale:.2e}")
        self.assertLess(worst, 1e-4)
        with torch.no_grad():
            whole = m(cond, f0)[0][0].numpy()
        snr = 10 * math.log10(float((whole ** 2).sum() / ((whole - ref) ** 2).sum()))
        return worst, snr

    def test_released_config_runs_in_offline_windows(self):
        rng = np.random.default_rng(11)
        blocks = [[1], [7], [333], [4096], list(rng.integers(1, 900, 40))]
        rel, snr = self.check_windows(SMALL, 12, 200, 64, blocks, "windows_small.rill")
        print(f"wavehax released, offline windows of 64 frames: stream vs windowed PyTorch "
              f"{rel:.1e} of the scale; windowed vs whole signal SNR {snr:.1f} dB")
        rel, snr = self.check_windows(V1, 13, 150, 50, [[240], [333], [4096]], "windows_v1.rill")
        print(f"wavehax v1 size, offline windows of 50 frames (0.5 s): stream vs windowed "
              f"PyTorch {rel:.1e} of the scale; windowed vs whole signal SNR {snr:.1f} dB")
        m = make(SMALL, 14)
        with self.assertRaisesRegex(ExportError, "multiples of the generator's hop"):
            rill.export_windows(m, self.dir / "bad.rill", SMALL["sample_rate"], 1000, 500)

    def test_reflect_padding_differs_only_at_the_edges(self):
        cfg, frames = SMALL, 60
        m = make(cfg, 9, **STREAMING)
        cond, f0 = features(cfg, frames, 10)
        with torch.no_grad():
            zeros = m(cond, f0)[0][0, 0].numpy()
            m_reflect = wh.WavehaxGenerator(**cfg, **dict(STREAMING, time_padding="reflect"))
            m_reflect.load_state_dict(m.state_dict())
            reflect = m_reflect.eval()(cond, f0)[0][0, 0].numpy()
        hop, la = cfg["hop_length"], m.lookahead_frames()
        diff = np.abs(zeros - reflect)
        edge = (la + 1) * hop
        self.assertLess(float(diff[edge:-edge].max()), 1e-6)
        self.assertGreater(float(diff[:edge].max()), 1e-4)
        print(f"wavehax reflect vs zero time padding: max diff {diff.max():.3g} within "
              f"{la + 1} frames of the edges, {diff[edge:-edge].max():.1e} elsewhere")
        # exported as it is, the reflect model is reported as replaced, with the measured diff
        _, report = self.export(wh.AudioRate(m_reflect), cfg, "reflect.rill", held(cfg, cond, f0))
        self.assertTrue(any("reflect" in r for r in report.replaced))
        self.assertEqual(m_reflect.streaming_mode()[0], "edges")
        self.assertGreater(report.max_abs_diff, 1e-4)

    def test_round_trip_and_info(self):
        cfg = SMALL
        m = make(cfg, 11, **STREAMING)
        cond, f0 = features(cfg, 30, 12)
        xs = held(cfg, cond, f0)
        path, report = self.export(wh.AudioRate(m), cfg, "rt.rill", xs)
        model = rill.load(str(path))
        info = model.info
        self.assertEqual(info["sample_rate"], cfg["sample_rate"])
        self.assertEqual([p["channels"] for p in info["inputs"]], [cfg["in_channels"], 1])
        self.assertEqual([o["channels"] for o in info["outputs"]], [1])
        self.assertEqual(info["hop_frames"], cfg["hop_length"])
        names = rill.read_rill(path)[1]
        self.assertEqual(sum("prior_proj.weight" in k for k in names), 1)  # shared
        again = rill.load(pathlib.Path(path).read_bytes())
        x = np.concatenate(xs, axis=0)
        np.testing.assert_array_equal(stream_blocks(again, x, [100]), stream_blocks(model, x, [100]))
        s = model.stream(max_block_frames=512)
        x = np.concatenate(xs, axis=0)
        first = s.process(x[:, :512])
        s.process(x[:, 512:])
        s.reset()
        np.testing.assert_array_equal(s.process(x[:, :512]), first)


if __name__ == "__main__":
    unittest.main()
