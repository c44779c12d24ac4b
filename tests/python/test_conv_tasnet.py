"""rill.nn.ConvTasNet (asteroid's Conv-TasNet) exported with rill.export and run by the C library
equals PyTorch, and streams exactly:

- asteroid's state_dict (key names and shapes written out below from asteroid's
  models/conv_tasnet.py, masknn/convolutional.py TDConvNet / Conv1DBlock, masknn/norms.py and
  asteroid_filterbanks' free filterbank) loads with strict=True, and forward equals a functional
  restatement of asteroid's forward that reads that state_dict (gLN, cLN, cgLN; causal or not);
- random weights, C++ vs PyTorch at a small size and at the released size (N=512, B=128, H=512,
  P=3, X=8, R=3, Sc=128): max |error| <= 1e-4 of the output scale, for causal cgLN, causal cLN
  and non-causal cLN;
- the stream in blocks of 1, 7, 64, 333, 4096 and random splits equals offline shifted by the
  reported latency (causal: the L - 1 = 15 samples of one encoder frame; non-causal: plus the
  depthwise convolutions' right padding);
- round trip: the file loads through the C API and its info shows the ports and latency; gLN is
  refused with a message that says why and what streams;
- causal with look-ahead (lookahead_dilation, Rill's extension): grow_causal_kernel turns a causal
  kernel-3 model into the kernel-4 look-ahead one with the same output; it streams exactly at
  15 + 8 R (sum of the look-ahead dilations) samples and its output does depend on that much of
  the future, no more;
- the benchmark's PyTorch peer (bench/conv_tasnet_stateful.py: caches, norm sums and delay lines
  as explicit state) streams exactly, causal and with look-ahead, cgLN and cLN, with and
  without skip connections."""

import math
import pathlib
import sys
import unittest
import warnings

import numpy as np
import torch
import torch.nn.functional as F

import rill
from rill.exporter import ExportError
from rill.nn.conv_tasnet import ConvTasNet, grow_causal_kernel, streaming_counterpart
from stream_check import StreamTestCase, stream_blocks

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "bench"))
from conv_tasnet_stateful import StatefulConvTasNet  # noqa: E402

SR = 8000
SMALL = dict(n_filters=32, bn_chan=16, hid_chan=32, skip_chan=16, n_blocks=4, n_repeats=2)
RELEASED = dict(n_filters=512, bn_chan=128, hid_chan=512, skip_chan=128, conv_kernel_size=3,
                n_blocks=8, n_repeats=3)
CONFIGS = {"causal_cgLN": dict(causal=True, norm_type="cgLN"),
           "causal_cLN": dict(causal=True, norm_type="cLN"),
           "noncausal_cLN": dict(causal=False, norm_type="cLN")}


def asteroid_shapes(n_src, N=512, L=16, B=128, H=512, Sc=128, P=3, X=8, R=3, causal=False):
    """The state_dict of asteroid's ConvTasNet(n_src, ..., fb_name="free"): name -> shape."""
    s = {"encoder.filterbank._filters": (N, 1, L), "masker.bottleneck.0.gamma": (N,),
         "masker.bottleneck.0.beta": (N,), "masker.bottleneck.1.weight": (B, N, 1),
         "masker.bottleneck.1.bias": (B,)}
    for i in range(R * X):
        q = f"masker.TCN.{i}."
        dw = q + ("shared_block.3.0." if causal else "shared_block.3.")
        s.update({q + "shared_block.0.weight": (H, B, 1), q + "shared_block.0.bias": (H,),
                  q + "shared_block.1.weight": (1,), q + "shared_block.2.gamma": (H,),
                  q + "shared_block.2.beta": (H,), dw + "weight": (H, 1, P), dw + "bias": (H,),
                  q + "shared_block.4.weight": (1,), q + "shared_block.5.gamma": (H,),
                  q + "shared_block.5.beta": (H,), q + "res_conv.weight": (B, H, 1),
                  q + "res_conv.bias": (B,)})
        if Sc:
            s.update({q + "skip_conv.weight": (Sc, H, 1), q + "skip_conv.bias": (Sc,)})
    s.update({"masker.mask_net.0.weight": (1,),
              "masker.mask_net.1.weight": (n_src * N, Sc or B, 1),
              "masker.mask_net.1.bias": (n_src * N,), "decoder.filterbank._filters": (N, 1, L)})
    return s


def random_state_dict(shapes, seed):
    """Weights an asteroid checkpoint could hold: norms and PReLU slopes away from their inits."""
    g = torch.Generator().manual_seed(seed)
    sd = {}
    for k, shape in shapes.items():
        t = torch.randn(shape, generator=g)
        if k.endswith("gamma"):
            t = 1 + 0.2 * t
        elif k.endswith("beta") or k.endswith("bias"):
            t = 0.1 * t
        elif t.dim() == 1:            # PReLU slope
            t = 0.25 + 0.05 * t
        else:                          # conv weights: fan-in scaling keeps activations O(1)
            t = t / math.sqrt(shape[1] * shape[2])
        sd[k] = t
    return sd


def asteroid_forward(sd, wav, n_src, N, L, stride, P, X, R, Sc, norm, causal, mask_act):
    """asteroid's ConvTasNet forward restated with torch functions on its state_dict."""
    def norm_fn(x, p):
        g, b = sd[p + ".gamma"][None, :, None], sd[p + ".beta"][None, :, None]
        if norm == "gLN":
            m, v = x.mean((1, 2), keepdim=True), x.var((1, 2), keepdim=True, unbiased=False)
        elif norm == "cLN":
            m, v = x.mean(1, keepdim=True), x.var(1, keepdim=True, unbiased=False)
        else:
            xd = x.double()
            n = torch.arange(1, x.shape[-1] + 1, dtype=torch.float64) * x.shape[1]
            m = xd.sum(1, keepdim=True).cumsum(-1) / n
            v = (xd.pow(2).sum(1, keepdim=True).cumsum(-1) / n - m.pow(2))
            m, v = m.float(), v.float()
        return (x - m) / torch.sqrt(v + 1e-8) * g + b

    def conv(x, p, **kw):
        return F.conv1d(x, sd[p + ".weight"], sd[p + ".bias"], **kw)

    w = F.conv1d(wav, sd["encoder.filterbank._filters"], stride=stride)
    out = conv(norm_fn(w, "masker.bottleneck.0"), "masker.bottleneck.1")
    skip = 0
    for i in range(R * X):
        q, d = f"masker.TCN.{i}.shared_block.", 2 ** (i % X)
        h = F.prelu(conv(out, q + "0"), sd[q + "1.weight"])
        h = norm_fn(h, q + "2")
        if causal:
            h = conv(h, q + "3.0", padding=(P - 1) * d, dilation=d, groups=h.shape[1])
            h = h[..., :-(P - 1) * d]
        else:
            h = conv(h, q + "3", padding=(P - 1) * d // 2, dilation=d, groups=h.shape[1])
        h = norm_fn(F.prelu(h, sd[q + "4.weight"]), q + "5")
        out = out + conv(h, f"masker.TCN.{i}.res_conv")
        if Sc:
            skip = skip + conv(h, f"masker.TCN.{i}.skip_conv")
    score = conv(F.prelu(skip if Sc else out, sd["masker.mask_net.0.weight"]), "masker.mask_net.1")
    score = score.view(wav.shape[0], n_src, N, -1)
    mask = {"sigmoid": torch.sigmoid, "relu": torch.relu,
            "softmax": lambda s: torch.softmax(s, 1)}[mask_act](score)
    y = F.conv_transpose1d((mask * w[:, None]).reshape(-1, N, w.shape[-1]),
                           sd["decoder.filterbank._filters"], stride=stride)
    y = y.view(wav.shape[0], n_src, -1)
    return F.pad(y, (0, wav.shape[-1] - y.shape[-1]))


def make(n_src=2, seed=0, **kw):
    """ConvTasNet with random (asteroid-checkpoint-like) weights loaded through its state_dict."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = ConvTasNet(n_src, **kw)
    shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
    m.load_state_dict(random_state_dict(shapes, seed), strict=True)
    return m.eval()


def torch_offline(m, x, tail):
    """m on x followed by `tail` zeros (what a stream sees), cut to len(x): [n_src, T]."""
    xp = np.concatenate([x, np.zeros((1, tail), np.float32)], axis=1)
    with torch.no_grad():
        return m(torch.from_numpy(xp)[None])[0, :, :x.shape[1]].numpy()


def signal(T, seed):
    """A speech-like test mixture: two AM tones plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(T) / SR
    x = (0.5 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t))
         + 0.3 * np.sin(2 * np.pi * 1330 * t + 1) + 0.2 * rng.standard_normal(T))
    return x[None].astype(np.float32)


class ConvTasNetTest(StreamTestCase):
    def export(self, m, name, x):
        path = self.dir / name
        report = rill.export(m, path, x, SR, verbose=False)
        return path, report

    def test_asteroid_state_dict_loads_strictly(self):
        for causal in (False, True):
            with self.subTest(causal=causal):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    m = ConvTasNet(2, causal=causal)
                shapes = {k: tuple(v.shape) for k, v in m.state_dict().items()}
                self.assertEqual(shapes, asteroid_shapes(2, causal=causal))
                sd = random_state_dict(asteroid_shapes(2, causal=causal), 1)
                m.load_state_dict(sd, strict=True)
                self.assertTrue(torch.equal(m.encoder.filterbank._filters,
                                            sd["encoder.filterbank._filters"]))
        # asteroid's parameter count of the released configuration (n_src=2)
        self.assertEqual(sum(p.numel() for p in ConvTasNet(2).parameters()), 5050545)
        small = asteroid_shapes(3, N=32, B=16, H=32, Sc=0, P=3, X=3, R=2, causal=True)
        m = ConvTasNet(3, n_filters=32, bn_chan=16, hid_chan=32, skip_chan=0, n_blocks=3,
                       n_repeats=2, causal=True, norm_type="cgLN")
        m.load_state_dict(random_state_dict(small, 2), strict=True)

    def test_forward_equals_asteroid_forward(self):
        x = torch.from_numpy(signal(1203, 0))[None]
        cases = [("gLN", False, "sigmoid", 16, 2), ("cLN", False, "relu", 16, 2),
                 ("cgLN", False, "softmax", 16, 3), ("cLN", True, "sigmoid", 16, 2),
                 ("cgLN", True, "softmax", 0, 3)]
        for norm, causal, act, Sc, n_src in cases:
            with self.subTest(norm=norm, causal=causal, act=act, skip=Sc):
                kw = dict(SMALL, skip_chan=Sc, norm_type=norm, causal=causal, mask_act=act)
                m = make(n_src, 3, **kw)
                sd = {k: v.detach() for k, v in m.state_dict().items()}
                with torch.no_grad():
                    ref = asteroid_forward(sd, x, n_src, 32, 16, 8, 3, 4, 2, Sc, norm, causal, act)
                    got = m(x)
                self.assertEqual(got.shape, (1, n_src, x.shape[-1]))
                torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-4)

    def check_equal(self, m, x, blocks_list, name):
        """Exports m and streams x in each block pattern; returns (max error / scale, latency)."""
        path, report = self.export(m, name, x)
        model = rill.load(str(path))
        ref = torch_offline(m, x, model.latency_frames + model.hop_frames)
        worst, _ = self.assert_streams_like(model, x, ref, blocks_list, name)
        return worst, report

    def test_small_streams_exactly_in_any_blocks(self):
        x = signal(5000, 1)
        rng = np.random.default_rng(7)
        random_splits = [list(rng.integers(1, 700, 64)), list(rng.integers(1, 9, 200))]
        blocks_list = [[1], [7], [64], [333], [4096]] + random_splits
        for i, (name, cfg) in enumerate(CONFIGS.items()):
            with self.subTest(name):
                m = make(2, 10 + i, **SMALL, **cfg)
                rel, report = self.check_equal(m, x, blocks_list, f"{name}.rill")
                lookahead = 0 if cfg["causal"] else sum(2 ** b for b in range(4)) * 2
                self.assertEqual(report.latency_frames, 15 + 8 * lookahead)
                self.assertEqual(report.replaced, [])
                self.assertIn("streams exactly", report.notes[0])
                print(f"conv-tasnet small {name:14s} latency {report.latency_frames:5d} samples, "
                      f"max |rill - torch| / scale {rel:.2e}")

    def test_mask_and_encoder_variants(self):
        x = signal(3000, 2)
        variants = [dict(mask_act="softmax", n_src=3), dict(mask_act="relu", n_src=1),
                    dict(skip_chan=0, encoder_activation="relu", n_src=2),
                    dict(conv_kernel_size=5, n_src=2, mask_act="tanh")]
        for i, spec in enumerate(variants):
            for causal in (True, False):
                with self.subTest(**spec, causal=causal):
                    kw = dict(SMALL, causal=causal, norm_type="cgLN")
                    kw.update(spec)
                    n_src = kw.pop("n_src")
                    m = make(n_src, 20 + i, **kw)
                    rel, report = self.check_equal(m, x, [[64], [5, 77, 1, 300]], f"v{i}.rill")
                    model = rill.load(str(self.dir / f"v{i}.rill"))
                    self.assertEqual(model.output_channels, n_src)

    def test_released_size(self):
        x = signal(8000, 3)  # one second at 8 kHz
        for i, (name, cfg) in enumerate(CONFIGS.items()):
            with self.subTest(name):
                m = make(2, 30 + i, **RELEASED, **cfg)
                rel, report = self.check_equal(m, x, [[333], [1000, 17, 4096, 1]],
                                               f"released_{name}.rill")
                self.assertEqual(report.weights, 5050545)
                self.assertEqual(report.latency_frames,
                                 15 + (0 if cfg["causal"] else 8 * 3 * 255))
                print(f"conv-tasnet released {name:14s} latency {report.latency_frames:5d} "
                      f"samples, max |rill - torch| / scale {rel:.2e}")

    def test_round_trip_and_info(self):
        x = signal(2000, 4)
        m = make(2, 40, **SMALL, causal=True, norm_type="cgLN")
        path, report = self.export(m, "rt.rill", x)
        model = rill.load(str(path))
        info = model.info
        self.assertEqual(info["sample_rate"], SR)
        self.assertEqual(info["inputs"][0]["channels"], 1)
        self.assertEqual([o["channels"] for o in info["outputs"]], [2])
        self.assertEqual(info["latency_frames"], 15)
        self.assertEqual(info["hop_frames"], 8)
        self.assertEqual(info["num_weights"], sum(p.numel() for p in m.parameters()))
        names = rill.read_rill(path)[1]
        self.assertEqual(sum("decoder.filterbank._filters" in k for k in names), 1)
        self.assertTrue(any(k.endswith("masker.TCN.7.shared_block.3.0.weight") for k in names))
        # bytes from the file and a stream of them give the same output as the file
        again = rill.load(pathlib.Path(path).read_bytes())
        np.testing.assert_array_equal(stream_blocks(again, x, [100]),
                                      stream_blocks(model, x, [100]))
        # reset clears the cumulative norms' sums and the conv caches
        s = model.stream(max_block_frames=512)
        first = s.process(x[:, :512])
        s.process(x[:, 512:1024])
        s.reset()
        np.testing.assert_array_equal(s.process(x[:, :512]), first)

    def test_causal_with_lookahead(self):
        x = signal(4000, 6)
        lookahead = dict(SMALL, causal=True, norm_type="cgLN", conv_kernel_size=4,
                         lookahead_dilation=2)  # blocks d = 1, 2 of each repeat look ahead
        causal = make(2, 60, **dict(lookahead, conv_kernel_size=3, lookahead_dilation=0))
        grown = ConvTasNet(2, **lookahead).eval()
        grown.load_state_dict(grow_causal_kernel(causal.state_dict(), grown), strict=True)
        xt = torch.from_numpy(x)[None]
        with torch.no_grad():
            self.assertTrue(torch.equal(grown(xt), causal(xt)))
        with self.assertRaisesRegex(ValueError, "kernel 4, the model's is 4"):
            grow_causal_kernel(grown.state_dict(), grown)

        m = make(2, 61, **lookahead)
        self.assertEqual(m.streaming_mode()[0], "exact_latency")
        self.assertEqual(ConvTasNet(**m.get_model_args()).get_model_args(), m.get_model_args())
        rel, report = self.check_equal(m, x, [[1], [64], [333], [3, 90, 1, 500]], "la.rill")
        latency = 15 + 8 * 2 * (1 + 2)
        self.assertEqual(report.latency_frames, latency)
        self.assertIn("causal with look-ahead", report.notes[0])
        # a step in the input at sample c changes the output from c - latency on, not before
        c = 2000
        stepped = xt.clone()
        stepped[..., c:] += 1.0
        with torch.no_grad():
            changed = (m(stepped) - m(xt)).abs().sum(1)[0] > 0
        first = int(changed.nonzero()[0])
        self.assertGreaterEqual(first, c - latency)
        self.assertLess(first, c - latency + 8)  # within the encoder frame that first sees it
        with self.assertRaisesRegex(ValueError, "applies to causal models"):
            ConvTasNet(2, **dict(lookahead, causal=False, norm_type="cLN"))
        print(f"conv-tasnet small causal+look-ahead latency {latency} samples, "
              f"max |rill - torch| / scale {rel:.2e}")

    def test_lookahead_grows_into_a_larger_lookahead(self):
        x = signal(4000, 8)
        small = dict(SMALL, causal=True, norm_type="cgLN", conv_kernel_size=4,
                     lookahead_dilation=2)
        wide = dict(small, conv_kernel_size=5, lookahead_dilation=8)  # every block (d <= 8)
        source = make(2, 62, **small)
        grown = ConvTasNet(2, **wide).eval()
        grown.load_state_dict(grow_causal_kernel(source.state_dict(), grown, 2), strict=True)
        xt = torch.from_numpy(x)[None]
        with torch.no_grad():
            self.assertTrue(torch.equal(grown(xt), source(xt)))
        # blocks d = 1, 2 got an oldest zero tap, d = 4, 8 a future one
        taps = grown.masker.TCN[0].depth_conv.weight, grown.masker.TCN[3].depth_conv.weight
        self.assertTrue(torch.equal(taps[0][..., 0], torch.zeros_like(taps[0][..., 0])))
        self.assertTrue(torch.equal(taps[1][..., -1], torch.zeros_like(taps[1][..., -1])))
        narrower = ConvTasNet(2, **dict(wide, lookahead_dilation=1))
        with self.assertRaisesRegex(ValueError, "cannot shrink"):
            grow_causal_kernel(source.state_dict(), narrower, 2)
        # trained on, the grown model streams exactly at its larger latency
        m = make(2, 63, **wide)
        rel, report = self.check_equal(m, x, [[1], [77], [3, 90, 1, 500]], "la_wide.rill")
        self.assertEqual(report.latency_frames, 15 + 8 * 2 * (1 + 2 + 4 + 8))

    def test_stateful_pytorch_peer_streams_exactly(self):
        x = torch.from_numpy(signal(4096, 7))[None]
        cases = [dict(), dict(conv_kernel_size=4, lookahead_dilation=2),
                 dict(conv_kernel_size=4, lookahead_dilation=2, norm_type="cLN"),
                 dict(conv_kernel_size=4, lookahead_dilation=4, skip_chan=0)]
        for i, extra in enumerate(cases):
            m = make(2, 70 + i, **{**SMALL, "causal": True, "norm_type": "cgLN", **extra})
            for block in (64, 256):
                with self.subTest(**extra, block=block):
                    step = StatefulConvTasNet(m, block)
                    self.assertEqual(step.latency_samples, 8 + 8 * m.lookahead_frames())
                    state, ys = step.initial_state(), []
                    with torch.no_grad():
                        for pos in range(0, x.shape[-1], block):
                            y, *state = step(x[..., pos:pos + block], *state)
                            ys.append(y)
                        ref = F.pad(m(F.pad(x, (8, 0))), (8 * m.lookahead_frames(), 0))
                    torch.testing.assert_close(torch.cat(ys, -1), ref[..., :x.shape[-1]],
                                               atol=1e-5, rtol=1e-4)

    def test_gln_is_refused_with_the_reason(self):
        x = signal(1000, 5)
        m = make(2, 50, **SMALL, norm_type="gLN")
        mode, why = m.streaming_mode()
        self.assertEqual(mode, "offline")
        with self.assertRaisesRegex(ExportError, "gLN.*whole utterance.*export_windows.*cgLN"):
            self.export(m, "gln.rill", x)
        s = streaming_counterpart(m)
        self.assertEqual(s.streaming_mode()[0], "exact_latency")
        self.assertEqual(set(s.state_dict()), set(m.state_dict()))
        _, report = self.export(s, "gln_as_cgln.rill", x)
        self.assertLessEqual(report.max_abs_diff, 1e-4 * max(1.0, float(np.abs(x).max())))
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            c = ConvTasNet(2, **SMALL, causal=True)  # asteroid: causal gLN -> cLN, with a warning
        self.assertEqual(c.norm_type, "cLN")
        self.assertTrue(w)


if __name__ == "__main__":
    unittest.main()
