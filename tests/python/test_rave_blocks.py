"""rill.nn.rave_blocks (RAVE's decoder blocks) exported with rill.export and run by the C library
equal PyTorch offline, and stream exactly at the reported latency:

- the state_dict names and shapes are RAVE's (written out below from acids-ircam/RAVE
  rave/blocks.py and cached_conv's AlignBranches: nested `net` Sequentials, `aligned.branches.0`
  for a residual's module, `net.branches.i` for the blocks of a ResidualStack), plain and with
  weight normalisation (`weight_g` [out, 1, 1] / `weight_v`; [in, 1, 1] for transposed convs);
  either form loads strictly into either kind of module, and weight norm is folded exactly;
- latencies: ResidualStack(C, [3, 5], [[1, 1], [3, 1], [5, 1]]) 24 samples and UpsampleLayer r=4
  2 samples, cached_conv's cumulative_delay, reported by the engine with no delay placed by hand;
- the stream in blocks of 1, 7, 64, 333 and random splits equals offline shifted by the reported
  latency within 1e-4 of the output scale (max |offline|), from the first aligned sample on
  (cached_conv's stream differs there for ~22 samples of a ResidualStack; Rill's pre-roll
  makes it exact), at a small size and at a RAVE v2 decoder's size (capacity 64, ratios
  [4, 4, 4, 2], dilations [1, 3, 9], 16 bands, amplitude modulation, weight norm, no bias).

Decoders (latent rate in, audio rate out) run through rave_blocks.AudioRate: the latent held for
`hop` samples at the audio rate, since a Rill model's output shares its input's rate."""

import unittest

import numpy as np
import torch

import rill
from rill.nn import rave_blocks as rb
from stream_check import StreamTestCase

SR = 44100
V1_DILATIONS = [[1, 1], [3, 1], [5, 1]]


# ------------------------------------------------------------------------------------------------
# RAVE's state_dict, restated from rave/blocks.py: name -> shape


def _conv(prefix, cout, cin, k, bias, wn, transposed=False):
    s = {}
    if wn:
        s[prefix + "weight_g"] = ((cin if transposed else cout), 1, 1)
        s[prefix + "weight_v"] = (cin, cout, k) if transposed else (cout, cin, k)
    else:
        s[prefix + "weight"] = (cin, cout, k) if transposed else (cout, cin, k)
    if bias:
        s[prefix + "bias"] = (cout,)
    return s


def rave_residual_stack(prefix, dim, kernel_sizes, dilations_list, bias=True, wn=False):
    s = {}
    for b, k in enumerate(kernel_sizes):
        for l, dilations in enumerate(dilations_list):
            for j in range(len(dilations)):
                q = f"{prefix}net.branches.{b}.net.{l}.net.aligned.branches.0.{2 * j + 1}."
                s.update(_conv(q, dim, dim, k, bias, wn))
    return s


def rave_upsample(prefix, cin, cout, r, bias=True, wn=False):
    if r > 1:
        return _conv(prefix + "net.1.", cout, cin, 2 * r, bias, wn, transposed=True)
    return _conv(prefix + "net.1.", cout, cin, 3, bias, wn)


def rave_generator_v1(latent, capacity, data_size, ratios, kernel_sizes, dilations_list, bias,
                      wn):
    """blocks.Generator without synth.branches.1 (loudness) / .2 (noise) and `warmed_up`."""
    n = len(ratios)
    s = _conv("net.0.", 2 ** n * capacity, latent, 7, bias, wn)
    for i, r in enumerate(ratios):
        cin, cout = 2 ** (n - i) * capacity, 2 ** (n - i - 1) * capacity
        s.update(rave_upsample(f"net.{1 + 2 * i}.", cin, cout, r, bias, wn))
        s.update(rave_residual_stack(f"net.{2 + 2 * i}.", cout, kernel_sizes, dilations_list,
                                     bias, wn))
    s.update(_conv("synth.branches.0.", data_size, capacity, 7, bias, wn))
    return s


def rave_generator_v2(capacity, ratios, latent, k, dilations, data_size, am, bias, wn):
    """blocks.GeneratorV2 (keep_dim False, no noise module, recurrent layer or AdaIN)."""
    ratios, dilations = ratios[::-1], dilations[::-1]
    num = 2 ** len(ratios) * capacity
    s, i = _conv("net.0.", num, latent, k, bias, wn), 1
    for r, ds in zip(ratios, dilations):
        s.update(_conv(f"net.{i + 1}.", num // 2, num, 2 * r, bias, wn, transposed=True))
        num, i = num // 2, i + 2
        for _ in ds:
            q = f"net.{i}.aligned.branches.0.net."
            s.update(_conv(q + "1.", num, num, k, bias, wn))
            s.update(_conv(q + "3.", num, num, 1, bias, wn))
            i += 1
    s.update(_conv(f"net.{i + 1}.", data_size * (2 if am else 1), num, 2 * k + 1, bias, wn))
    return s


def shapes(m):
    return {k: tuple(v.shape) for k, v in m.state_dict().items()}


def randomize(m, seed):
    """Weights away from their initial values: random biases, weight-norm gains off |v|."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("bias"):
                p.copy_(0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith("weight_g"):
                p.mul_(1 + 0.3 * torch.rand(p.shape, generator=g))
    return m.eval()


# ------------------------------------------------------------------------------------------------
# Streaming helpers


def torch_offline(m, x, tail):
    """m on x followed by `tail` zeros (what a stream sees), cut to len(x)."""
    xp = np.concatenate([x, np.zeros((x.shape[0], tail), np.float32)], axis=1)
    with torch.no_grad():
        return m(torch.from_numpy(xp)[None])[0, :, :x.shape[1]].numpy()


def held_latent(channels, frames, hop, seed):
    z = np.random.default_rng(seed).standard_normal((channels, frames)).astype(np.float32)
    return np.repeat(z, hop, axis=1)


BLOCKS = [[1], [7], [64], [333]]


def random_splits(seed):
    rng = np.random.default_rng(seed)
    return [list(rng.integers(1, 500, 64)), list(rng.integers(1, 9, 300))]


class RaveBlocksTest(StreamTestCase):
    def export(self, m, name, x):
        report = rill.export(m, self.dir / name, x, SR, verbose=False)
        self.assertEqual(report.replaced, [])
        return rill.load(str(self.dir / name)), report

    def check_stream(self, m, x, name, blocks_list):
        """Exports m, streams x in each block pattern; returns (model, max error / scale, error
        over the first `latency` aligned samples / scale)."""
        model, _ = self.export(m, name, x)
        ref = torch_offline(m, x, model.latency_frames + model.hop_frames)
        self.assertGreater(float(np.abs(ref).max()), 1e-3)
        worst, head = self.assert_streams_like(model, x, ref, blocks_list, name)
        return model, worst, head

    # --------------------------------------------------------------------------------------------

    def test_state_dict_names_are_raves(self):
        for wn in (False, True):
            with self.subTest(weight_norm=wn):
                m = rb.ResidualStack(8, [3, 5], V1_DILATIONS, weight_norm=wn)
                self.assertEqual(shapes(m), rave_residual_stack("", 8, [3, 5], V1_DILATIONS,
                                                                wn=wn))
                for r in (1, 2, 4):
                    self.assertEqual(shapes(rb.UpsampleLayer(8, 4, r, weight_norm=wn)),
                                     rave_upsample("", 8, 4, r, wn=wn))
                g = rb.Generator(16, 4, 2, [4, 2], [3], V1_DILATIONS, weight_norm=wn, bias=False)
                self.assertEqual(shapes(g), rave_generator_v1(16, 4, 2, [4, 2], [3], V1_DILATIONS,
                                                              False, wn))
                dil = [[1, 3, 9], [1, 3, 9], [1, 3]]
                g = rb.GeneratorV2(4, [4, 4, 2], 16, 3, dil, data_size=2,
                                   amplitude_modulation=True, weight_norm=wn)
                self.assertEqual(shapes(g), rave_generator_v2(4, [4, 4, 2], 16, 3, dil, 2, True,
                                                              True, wn))

    def test_weight_norm_loads_both_ways_and_folds_exactly(self):
        torch.manual_seed(0)
        wn = randomize(rb.GeneratorV2(4, [4, 2], 6, 3, [1, 3], data_size=2,
                                      amplitude_modulation=True, weight_norm=True), 1)
        sd_wn = wn.state_dict()
        self.assertTrue(any(k.endswith("weight_g") for k in sd_wn))
        x = torch.randn(1, 6, 40)
        with torch.no_grad():
            ref = wn(x)
            # a plain module folds weight_g / weight_v as torch.nn.utils.weight_norm does
            plain = rb.GeneratorV2(4, [4, 2], 6, 3, [1, 3], data_size=2,
                                   amplitude_modulation=True).eval()
            plain.load_state_dict(sd_wn, strict=True)
            self.assertTrue(torch.equal(plain(x), ref))
            conv = plain.net[0]
            g, v = sd_wn["net.0.weight_g"], sd_wn["net.0.weight_v"]
            norm = v.flatten(1).norm(dim=1)[:, None, None]
            torch.testing.assert_close(conv.weight, g * v / norm, rtol=1e-6, atol=1e-7)
            # and a weight-norm module takes a plain state_dict (g = |w|, v = w)
            again = rb.GeneratorV2(4, [4, 2], 6, 3, [1, 3], data_size=2,
                                   amplitude_modulation=True, weight_norm=True).eval()
            again.load_state_dict(plain.state_dict(), strict=True)
            torch.testing.assert_close(again(x), ref, rtol=1e-5, atol=1e-6)
            # cached_conv's runtime buffers and AlignBranches delay lines carry no weights
            sd = dict(sd_wn)
            sd["net.0.cache.pad"] = torch.zeros(64, 6, 2)
            sd["net.2.cache"] = torch.zeros(64, 32, 4)
            sd["net.3.aligned.paddings.1.pad"] = torch.zeros(64, 16, 1)
            wn.load_state_dict(sd, strict=True)
        # the exporter folds too, also when .weight is stale (loaded after the last forward)
        fresh = rb.GeneratorV2(4, [4, 2], 6, 3, [1, 3], data_size=2, amplitude_modulation=True,
                               weight_norm=True).eval()
        fresh.load_state_dict(sd_wn, strict=True)
        xs = held_latent(6, 40, fresh.hop, 2)
        _, rel, _ = self.check_stream(rb.AudioRate(fresh, 6).eval(), xs, "wn.rill", [[64]])
        self.assertLess(rel, 1e-5)

    def test_residual_stack_latency_24_exact_from_the_first_sample(self):
        torch.manual_seed(3)
        m = randomize(rb.ResidualStack(8, [3, 5], V1_DILATIONS), 3)
        self.assertEqual(m.cumulative_delay, 24)
        x = np.random.default_rng(4).standard_normal((8, 3000)).astype(np.float32)
        model, rel, head = self.check_stream(m, x, "stack.rill", BLOCKS + random_splits(5))
        self.assertEqual(model.latency_frames, 24)
        self.assertEqual(model.hop_frames, 1)
        # delays: the planner's; "conv1d+leaky_relu": a folded epilogue (docs/streaming.md)
        ops = {op for n in model.nodes for op in n["op"].split("+")}
        self.assertEqual(ops, {"conv1d", "leaky_relu", "add", "delay"})
        self.assertLess(head, 1e-6)  # no start-up transient (cached_conv: ~22 samples differ)
        for k, lat in ((3, 12), (5, 24)):
            layer = rb.ResidualBlock(4, k, V1_DILATIONS)
            self.assertEqual(layer.cumulative_delay, lat)
            model, _ = self.export(layer.eval(), f"block{k}.rill", np.ones((4, 64), np.float32))
            self.assertEqual(model.latency_frames, lat)

    def test_upsample_layer_latency_2(self):
        torch.manual_seed(4)
        for r, lat in ((4, 2), (2, 1), (8, 4), (1, 1)):
            with self.subTest(ratio=r):
                up = randomize(rb.UpsampleLayer(8, 4, r), r)
                self.assertEqual(up.cumulative_delay, lat)
                m = rb.AudioRate(up, 8, hop=r).eval()
                x = held_latent(8, 300 // r + 1, r, r)
                model, rel, _ = self.check_stream(m, x, f"up{r}.rill", BLOCKS)
                node = [n for n in model.nodes if n["name"].endswith("net_1")][0]
                self.assertEqual(node["latency"], lat)
                self.assertEqual(model.latency_frames, lat + r - 1)  # + the block FIFO

    def test_small_decoders_stream_exactly(self):
        cases = {
            "v1": (rb.Generator(6, 4, 2, [4, 2], [3, 5], V1_DILATIONS, weight_norm=True), 104),
            "v2": (rb.GeneratorV2(4, [4, 2], 6, 3, [[1, 3, 9], [1, 3]], data_size=2,
                                  amplitude_modulation=True, weight_norm=True), None),
        }
        for i, (name, (g, lat)) in enumerate(cases.items()):
            with self.subTest(name):
                torch.manual_seed(10 + i)
                g = randomize(g, 10 + i)
                if lat is not None:
                    self.assertEqual(g.cumulative_delay, lat)
                x = held_latent(6, 300, g.hop, i)
                model, rel, head = self.check_stream(rb.AudioRate(g, 6).eval(), x,
                                                     f"{name}.rill", BLOCKS + random_splits(i))
                self.assertEqual(model.latency_frames, g.cumulative_delay + g.hop - 1)
                self.assertLess(head, 1e-5)

    def test_rave_decoder_sizes(self):
        """RAVE's decoder configurations with random weights, weight norm and no bias (v1.gin:
        cc.Conv1d.bias = False): v2 (configs/v2.gin: capacity 64, ratios [4, 4, 4, 2], latent
        128, kernel 3, dilations [1, 3, 9] per ratio, 16 PQMF bands, amplitude modulation) and
        v1's Generator body (capacity 64, ratios [4, 4, 4, 2], latent 128, ResidualStack
        kernel_sizes [3], dilations [[1, 1], [3, 1], [5, 1]], 16 bands)."""
        blocks = [[1], [64], [333], list(np.random.default_rng(21).integers(1, 500, 40))]
        cases = {
            "v2": lambda: rb.GeneratorV2(64, [4, 4, 4, 2], 128, 3, [1, 3, 9], data_size=16,
                                         amplitude_modulation=True, weight_norm=True, bias=False),
            "v1": lambda: rb.Generator(128, 64, 16, [4, 4, 4, 2], [3], V1_DILATIONS,
                                       weight_norm=True, bias=False),
        }
        for i, (name, make) in enumerate(cases.items()):
            with self.subTest(name):
                torch.manual_seed(20 + i)
                g = randomize(make(), 20 + i)
                self.assertEqual(g.hop, 128)
                x = held_latent(128, 20, g.hop, 20 + i)
                model, rel, head = self.check_stream(rb.AudioRate(g, 128).eval(), x,
                                                     f"{name}.rill", blocks)
                self.assertEqual(model.latency_frames, g.cumulative_delay + 127)
                self.assertLess(head, 1e-5)
                print(f"\n  RAVE {name} size: {sum(p.numel() for p in g.parameters())} weights, "
                      f"latency {model.latency_frames} (decoder {g.cumulative_delay} + FIFO 127), "
                      f"max error / scale {rel:.2g}, first aligned samples {head:.2g}")

if __name__ == "__main__":
    unittest.main()
