"""rill.nn.mossformer2 (MossFormer2, ClearerVoice-Studio `mossformer2_ss`) exported with rill.export
and run by the C library equals PyTorch, and its streaming variant streams exactly:

- upstream's state_dict (names and shapes written out below from mossformer2.py,
  mossformer2_block.py, conv_module.py, fsmn.py and rotary-embedding-torch 0.8.3; 787,482
  parameters at N 64 / 2 blocks, 55,735,410 released) loads with strict=True;
- the offline attention (and upstream's causal flag) equals a frame-by-frame evaluation, the
  streaming attention (chunked) the naive decayed recurrence (la_kernels.gated_recurrence);
- a ClearerVoice checkpoint (`model` entry, `module.model.` prefixes) loads through
  upstream_state_dict();
- random weights, the streaming variant: C++ vs PyTorch at N 64 / 2 blocks and at the released
  size (N 512, 24 blocks): max |error| <= 1e-4 of the output scale, streamed in blocks of 1, 7,
  333, 4096 and random splits, at the latency of the encoder framing (kernel - 1 samples);
- the released configuration is refused with the reason; its streaming counterpart exports, and
  its measured difference from the offline released model is reported by the exporter
  (report.original_diff) and printed."""

import math

import numpy as np
import torch

import rill
from rill.exporter import ExportError
from rill.nn import la_kernels
from rill.nn import mossformer2 as mf
from rill.nn import mossformer2_blocks as mb
from stream_check import StreamTestCase, stream_blocks

RELEASED = dict(in_channels=512, out_channels=512, num_blocks=24, kernel_size=16, num_spks=2)
SMALL = dict(in_channels=64, out_channels=64, num_blocks=2, kernel_size=16, num_spks=2)
SR = 16000


def upstream_shapes(in_channels=512, out_channels=512, num_blocks=24, kernel_size=16,
                    num_spks=2, **_):
    """The state_dict of upstream's MossFormer (norm 'ln', global positions): name -> shape.
    Gated_FSMN_Block_Dilated's inner width (256), group 256, query_key_dim 128 and expansion 4
    are fixed upstream."""
    N, K, c, qk = out_channels, kernel_size, 256, 128
    s = {"enc.conv1d.weight": (in_channels, 1, K), "mask_net.norm.weight": (in_channels,),
         "mask_net.norm.bias": (in_channels,),
         "mask_net.conv1d_encoder.weight": (N, in_channels, 1), "mask_net.pos_enc.scale": (1,),
         "mask_net.pos_enc.inv_freq": (N // 2,)}
    blocks = "mask_net.mdl.intra_mdl.mossformerM."

    def ffconvm(prefix, d_in, d_out, scalenorm):
        norm = {prefix + "mdl.0.g": (1,)} if scalenorm else {prefix + "mdl.0.weight": (d_in,),
                                                             prefix + "mdl.0.bias": (d_in,)}
        return dict(norm, **{prefix + "mdl.1.weight": (d_out, d_in),
                             prefix + "mdl.1.bias": (d_out,),
                             prefix + "mdl.3.sequential.1.conv.weight": (d_out, 1, 17)})

    for i in range(num_blocks):
        q = f"{blocks}fsmn.{i}."
        g = q + "gated_fsmn."
        s.update({q + "conv1.0.weight": (c, N, 1), q + "conv1.0.bias": (c,),
                  q + "conv1.1.weight": (1,), q + "norm1.weight": (c,), q + "norm1.bias": (c,)})
        s.update(ffconvm(g + "to_u.", c, c, False))
        s.update(ffconvm(g + "to_v.", c, c, False))
        s.update({g + "fsmn.linear.weight": (c, c), g + "fsmn.linear.bias": (c,),
                  g + "fsmn.project.weight": (c, c)})
        for j in (1, 2):
            d = g + "fsmn.conv."
            s.update({d + f"conv{j}.weight": (c, j, 39, 1), d + f"norm{j}.weight": (c,),
                      d + f"norm{j}.bias": (c,), d + f"prelu{j}.weight": (c,)})
        s.update({q + "norm2.weight": (c,), q + "norm2.bias": (c,), q + "conv2.weight": (N, c, 1),
                  q + "conv2.bias": (N,)})
    for i in range(num_blocks):
        q = f"{blocks}layers.{i}."
        s[q + "rotary_pos_emb.freqs"] = (16,)
        s.update(ffconvm(q + "to_hidden.", N, 4 * N, True))
        s.update(ffconvm(q + "to_qk.", N, qk, True))
        s.update({q + "qk_offset_scale.gamma": (4, qk), q + "qk_offset_scale.beta": (4, qk)})
        s.update(ffconvm(q + "to_out.", 2 * N, N, True))
    s.update({"mask_net.mdl.intra_mdl.norm.weight": (N,), "mask_net.mdl.intra_mdl.norm.bias": (N,),
              "mask_net.mdl.intra_norm.weight": (N,), "mask_net.mdl.intra_norm.bias": (N,),
              "mask_net.conv1d_out.weight": (N * num_spks, N, 1),
              "mask_net.conv1d_out.bias": (N * num_spks,),
              "mask_net.conv1_decoder.weight": (in_channels, N, 1), "mask_net.prelu.weight": (1,),
              "mask_net.output.0.weight": (N, N, 1), "mask_net.output.0.bias": (N,),
              "mask_net.output_gate.0.weight": (N, N, 1), "mask_net.output_gate.0.bias": (N,),
              "dec.weight": (N, 1, K)})
    return s


def make(cfg, seed, streaming=False):
    """A model with random weights a trained checkpoint could hold (gains near 1, small biases,
    fan-in scaled weights, OffsetScale gains large enough for the attention to matter)."""
    m = mf.MossFormer(**cfg)
    g = torch.Generator().manual_seed(seed)
    sd = m.state_dict()
    for k, t in sd.items():
        if k.endswith("freqs") or k.endswith("inv_freq"):
            continue
        r = torch.randn(t.shape, generator=g)
        if k.endswith(".g") or k.endswith("norm.weight") or (".norm" in k and
                                                              k.endswith(".weight")):
            r = 1 + 0.2 * r
        elif "prelu" in k or k.endswith("conv1.1.weight"):
            r = 0.25 + 0.1 * r
        elif k.endswith("qk_offset_scale.gamma"):
            r = 0.5 * r
        elif t.dim() < 2:   # biases, OffsetScale offsets, the position scale
            r = 0.1 * r
        else:
            r = r / math.sqrt(t[0].numel())
        sd[k] = r
    m.load_state_dict(sd, strict=True)
    m = m.eval()
    return mf.streaming_counterpart(m) if streaming else m


def mixture(T, seed):
    """Two chirps with different envelopes and a little noise: [1, 1, T]."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(T) / SR
    a = torch.sin(2 * math.pi * (180 + 900 * t) * t) * (0.5 + 0.5 * torch.sin(2 * math.pi * 3 * t))
    b = 0.6 * torch.sign(torch.sin(2 * math.pi * 310 * t)) * torch.exp(-((t - t.mean()) * 20) ** 2)
    return (0.4 * (a + b) + 0.02 * torch.randn(T, generator=g)).reshape(1, 1, T)


def torch_offline(m, x, tail):
    """The module on x followed by `tail` zero samples, cut to len(x): [num_spks, T]."""
    padded = torch.cat([x, torch.zeros(1, 1, tail)], dim=-1)
    with torch.no_grad():
        return m(padded)[0, :, :x.shape[-1]].numpy()


class MossFormer2Test(StreamTestCase):
    def test_upstream_state_dict_loads_strictly(self):
        for cfg, count in ((SMALL, 787482), (RELEASED, 55735410)):
            m = mf.MossFormer(**cfg)
            shapes = upstream_shapes(**cfg)
            self.assertEqual({k: tuple(v.shape) for k, v in m.state_dict().items()}, shapes)
            self.assertEqual(sum(p.numel() for p in m.parameters()), count)
        sd = {k: torch.randn(s) for k, s in upstream_shapes(**SMALL).items()}
        mf.MossFormer(**SMALL).load_state_dict(sd, strict=True)
        checkpoint = {"model": {"module.model." + k: v for k, v in sd.items()}, "step": 1}
        mf.MossFormer(**SMALL).load_state_dict(mf.upstream_state_dict(checkpoint), strict=True)
        s = mf.streaming_counterpart(mf.MossFormer(**SMALL))
        s.load_state_dict({k: v for k, v in sd.items() if "pos_enc" not in k}, strict=True)

    def test_attention_forms(self):
        g = torch.Generator().manual_seed(1)
        flash = mb.FLASH_ShareA_FFConvM(dim=8, group_size=4, query_key_dim=6, expansion_factor=4,
                                        dropout=0.0).eval()
        S = 10
        qq, lq, qk, lk = (torch.randn(1, S, 6, generator=g) for _ in range(4))
        v, u = torch.randn(1, S, 16, generator=g), torch.randn(1, S, 16, generator=g)
        for causal in (False, True):  # causal: upstream's flag (MossFormer leaves it off)
            flash.causal = causal
            att_v, att_u = flash.cal_attention(qq, lq, qk, lk, v, u)
            for w, got in ((v, att_v), (u, att_u)):
                ref = torch.zeros_like(w)
                for start in range(0, S, 4):
                    for t in range(start, min(S, start + 4)):
                        group = range(start, t + 1 if causal else min(S, start + 4))
                        earlier = range(0, start if causal else S)
                        for s in group:
                            ref[0, t] += torch.relu(qq[0, t] @ qk[0, s] / 4) ** 2 * w[0, s]
                        for s in earlier:
                            ref[0, t] += (lq[0, t] @ lk[0, s]) * w[0, s] / (4 if causal else S)
                torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
        flash.causal, flash.streaming = False, True
        wq, wl = flash.windows()
        att_v, att_u = flash.cal_attention(qq, lq, qk, lk, v, u)
        vu = torch.cat((v, u), -1)
        ref = 0
        for q, k, w in ((qq, qk, wq), (lq, lk, wl)):
            decay = torch.full((1, S), math.log1p(-1.0 / w))
            part = la_kernels.gated_recurrence(q, k, vu, decay, scale=1.0 / w)[0]
            chunked = mb._decayed_causal_attention(q, k, vu, 3.0, chunk=3)
            expect = la_kernels.gated_recurrence(q, k, vu, torch.full((1, S), math.log(2 / 3)),
                                                 scale=1 / 3.0)[0]
            torch.testing.assert_close(chunked, expect, atol=1e-5, rtol=1e-5)
            ref = ref + part
        torch.testing.assert_close(torch.cat((att_v, att_u), -1), ref, atol=1e-5, rtol=1e-5)

    def check_streams(self, cfg, m, T, blocks_list, name, seed, compare=True):
        x = mixture(T, seed)
        path = self.dir / name
        report = rill.export(m, path, x if compare else None, SR, in_channels=1, verbose=False)
        model = rill.load(str(path))
        self.assertEqual(report.latency_frames, cfg["kernel_size"] - 1)
        self.assertEqual(report.replaced, [])
        self.assertIn("exactly", report.notes[0])
        ref = torch_offline(m, x, model.latency_frames + model.hop_frames)
        worst, _ = self.assert_streams_like(model, x[0].numpy(), ref, blocks_list, name)
        return worst, report

    def test_small_streams_exactly_in_any_blocks(self):
        rng = np.random.default_rng(3)
        blocks = [[1], [7], [333], [4096], list(rng.integers(1, 700, 40)),
                  list(rng.integers(1, 9, 300))]
        rel, report = self.check_streams(SMALL, make(SMALL, 1, streaming=True), 4000, blocks,
                                         "small.rill", 2)
        self.assertLessEqual(report.max_abs_diff, 1e-5)
        print(f"mossformer2 small streaming variant: latency {report.latency_frames} samples, "
              f"max |rill - torch| / scale {rel:.2e}")

    def test_released_size(self):
        rng = np.random.default_rng(4)
        blocks = [[333], list(rng.integers(1, 90, 30))]
        m = make(RELEASED, 5, streaming=True)
        rel, report = self.check_streams(RELEASED, m, 1200, blocks, "released_size.rill", 6,
                                         compare=False)
        # the streaming variant has no position scale; two constant gates of 513 weights
        self.assertEqual(report.weights, 55735410 - 1 + 2 * 513)
        print(f"mossformer2 streaming variant at the released size (N 512, 24 blocks): latency "
              f"{report.latency_frames} samples, max |rill - torch| / scale {rel:.2e}")

    def test_released_config_refused_and_counterpart_measured(self):
        m = make(SMALL, 7)
        mode, why = m.streaming_mode()
        self.assertEqual(mode, "offline")
        x = mixture(4000, 8)
        with self.assertRaisesRegex(ExportError, "whole utterance.*streaming_counterpart"):
            rill.export(m, self.dir / "released.rill", x, SR, verbose=False)
        s = mf.streaming_counterpart(m)
        self.assertEqual(s.streaming_mode()[0], "exact")
        self.assertEqual(m.streaming_mode()[0], "offline")  # the copy left the original alone
        with self.assertRaisesRegex(ValueError, "use_global_pos_enc"):
            mf.MossFormer(**SMALL, streaming=True)
        self.assertNotIn("offline_original", dict(s.named_modules()))
        path = self.dir / "counterpart.rill"
        report = rill.export(s, path, x, SR, verbose=False)
        self.assertLessEqual(report.max_abs_diff, 1e-5)
        # what streaming costs with these (untrained) weights: the counterpart streamed against
        # the released model offline on the same mixture (the exporter measures it too)
        model = rill.load(str(path))
        # the zeros after the mixture as rill.exporter.compare adds them (they change the
        # released model's utterance statistics)
        ref = torch_offline(m, x, model.latency_frames + model.hop_frames + 64)
        got = stream_blocks(model, x[0].numpy(), [512])
        diff = float(np.abs(got - ref).max())
        self.assertAlmostEqual(report.original_diff, diff, delta=1e-4 * diff)
        self.assertIn("original offline model", str(report))
        rel = diff / float(np.abs(ref).max())
        snr = 10 * math.log10(float((ref ** 2).sum() / ((got - ref) ** 2).sum()))
        print(f"mossformer2 released (offline) vs streaming counterpart, same weights: max diff "
              f"/ scale {rel:.3f}, SNR {snr:.1f} dB")
        self.assertGreater(rel, 1e-3)  # a different model, as streaming_mode says

    def test_reset_and_state(self):
        m = make(SMALL, 9, streaming=True)
        x = mixture(2000, 10)[0].numpy()
        path = self.dir / "rt.rill"
        rill.export(m, path, sample_rate=SR, in_channels=1, verbose=False)
        model = rill.load(str(path))
        self.assertEqual([o["channels"] for o in model.info["outputs"]], [2])
        s = model.stream(max_block_frames=512)
        first = s.process(x[:, :512])
        s.process(x[:, 512:1024])
        s.reset()
        np.testing.assert_array_equal(s.process(x[:, :512]), first)


if __name__ == "__main__":
    import unittest
    unittest.main()
