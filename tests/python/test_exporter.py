"""rill.export: PyTorch module trees -> .rill, run by the C library, equal to torch (offline,
shifted by the latency) within 1e-4, with replaced ops reported and clear errors (naming the
layer or function and the source line) for what cannot stream."""

import pathlib
import tempfile
import unittest

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import rill
import rill.nn as rn
from rill.exporter import ExportError

TOL = 1e-4


class FilmBlock(nn.Module):
    def __init__(self, C, d):
        super().__init__()
        self.d = d
        self.conv = nn.Conv1d(C, C, 3, dilation=d)
        self.film = rn.FiLM(C, ["drive", "tone"])
        self.mix = nn.Conv1d(C, C, 1)
        nn.init.normal_(self.film.weight, std=0.5)

    def forward(self, h, p):
        return h + self.mix(torch.tanh(self.film(self.conv(F.pad(h, (self.d, self.d))), p)))


class NonCausalTcn(nn.Module):
    """Non-causal dilated TCN with residuals and FiLM (the shape of the bundled model), plus a
    padding='same' block inside an nn.Sequential."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Conv1d(1, 8, 1)
        self.blocks = nn.ModuleList(FilmBlock(8, d) for d in (1, 2, 4, 8))
        self.post = nn.Sequential(nn.Conv1d(8, 8, 4, padding="same", dilation=2), nn.GELU(),
                                  nn.LeakyReLU(0.2))
        self.out = nn.Conv1d(8, 1, 1)

    def forward(self, x, p):
        h = self.inp(x)
        for b in self.blocks:
            h = b(h, p)
        return self.out(h + self.post(h))


class TcnBlock(nn.Module):
    """Conv-TasNet's 1-D conv block: 1x1 -> PReLU -> cLN -> dilated depthwise -> PReLU -> cLN ->
    residual and skip 1x1 convs."""

    def __init__(self, B, H, d, causal):
        super().__init__()
        pad = (2 * d, 0) if causal else (d, d)
        self.inp = nn.Conv1d(B, H, 1)
        self.act1, self.act2 = nn.PReLU(), nn.PReLU()
        self.norm1, self.norm2 = rn.CumulativeLayerNorm(H), rn.CumulativeLayerNorm(H)
        self.dw = rn.Conv1d(H, H, 3, dilation=d, groups=H, padding=pad)
        self.res = nn.Conv1d(H, B, 1)
        self.skip = nn.Conv1d(H, B, 1)

    def forward(self, x):
        h = self.norm2(self.act2(self.dw(self.norm1(self.act1(self.inp(x))))))
        return x + self.res(h), self.skip(h)


class ConvTasNetMini(nn.Module):
    """Conv-TasNet's shape (Luo & Mesgarani 2019): encoder L=16 stride 8, cLN, bottleneck, TCN
    with residual + skip paths, PReLU, sigmoid masks for 2 sources, transposed-conv decoder
    shared by both sources (outputs concatenated on the channel axis)."""

    def __init__(self, causal=False, N=16, B=8, H=16):
        super().__init__()
        self.encoder = nn.Conv1d(1, N, 16, stride=8, bias=False)
        self.norm = rn.CumulativeLayerNorm(N)
        self.bottleneck = nn.Conv1d(N, B, 1)
        self.blocks = nn.ModuleList(TcnBlock(B, H, d, causal) for d in (1, 2, 4, 1, 2, 4))
        self.prelu = nn.PReLU()
        self.mask = nn.Conv1d(B, 2 * N, 1)
        self.decoder = nn.ConvTranspose1d(N, 1, 16, stride=8, bias=False)

    def forward(self, x):
        w = F.relu(self.encoder(x))
        h = self.bottleneck(self.norm(w))
        skip = 0
        for blk in self.blocks:
            h, s = blk(h)
            skip = skip + s
        m1, m2 = torch.sigmoid(self.mask(self.prelu(skip))).chunk(2, dim=1)
        return torch.cat([self.decoder(w * m1), self.decoder(w * m2)], dim=1)


class GluMasker(nn.Module):
    """Strided encoder, GLU, a concat skip, and a transposed-conv decoder with padding."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Conv1d(1, 16, 16, stride=8, padding=8, bias=False)
        self.norm = rn.CumulativeLayerNorm(16)
        self.conv = rn.Conv1d(16, 32, 3, padding=(2, 0))
        self.prelu = nn.PReLU(32)
        self.mask = nn.Conv1d(48, 16, 1)
        self.dec = nn.ConvTranspose1d(16, 1, 16, stride=8, padding=4, bias=False)

    def forward(self, x):
        w = self.enc(x)
        h = F.glu(self.prelu(self.conv(self.norm(w))), dim=1)
        m = torch.sigmoid(self.mask(torch.cat([h, w, h], dim=1)))
        return self.dec(w * m)


class RecurrentModel(nn.Module):
    """nn.GRU (batch_first, 2 layers), nn.LSTM (time-major, 2 layers), rill.nn.LSTM, LayerNorm
    and Linear on transposed views."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Conv1d(1, 6, 4, stride=2, padding=1)
        self.gru = nn.GRU(6, 8, num_layers=2, batch_first=True)
        self.norm = nn.LayerNorm(8)
        self.lstm = nn.LSTM(8, 5, num_layers=2)
        self.lin = nn.Linear(5, 6)
        self.rlstm = rn.LSTM(6, 6)
        self.dec = nn.ConvTranspose1d(6, 1, 4, stride=2, padding=1)

    def forward(self, x):
        h = self.enc(x)
        z, _ = self.gru(h.transpose(1, 2))                     # [B, T, C]
        z = self.lstm(self.norm(z).permute(1, 0, 2))[0]        # [T, B, C]
        z = self.lin(z).permute(1, 2, 0)                       # [B, C, T]
        z = self.rlstm(z)
        return self.dec(F.silu(z) * h + 0.5 * h)


class UtteranceNorm(nn.Module):
    def __init__(self, norm=None):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, padding=1)
        self.norm = norm if norm is not None else nn.GroupNorm(2, 4)
        self.out = nn.Conv1d(4, 1, 1)

    def forward(self, x):
        return self.out(self.norm(self.conv(x)))


class Routing(nn.Module):
    """Functions and methods: split, slicing, neg, rsub, division by a constant, method calls,
    BatchNorm1d, Snake, a delay, a causal F.pad and a pad longer than the receptive field."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv1d(2, 6, 3)
        self.bn = nn.BatchNorm1d(6)
        self.snake = rn.Snake(2)
        self.delay = rn.Delay(5)
        self.c = nn.Conv1d(2, 2, 2)
        self.lin = rn.Linear(5, 2)
        with torch.no_grad():
            self.bn.running_mean.uniform_(-1, 1)
            self.bn.running_var.uniform_(0.5, 2)
            self.snake.alpha.uniform_(0.5, 2)

    def forward(self, x):
        h = self.bn(self.a(F.pad(x, (2, 0))))                  # causal
        p, q, r = h.split([2, 3, 1], dim=1)
        u = (1 - p.sigmoid()) * self.snake(-p) + q[:, 1:3] / 4 - r
        w = self.lin(torch.cat([self.delay(u), q], dim=1)).tanh()
        v = self.c(F.pad(u, (4, 1)))                           # left pad beyond the kernel
        return torch.cat([w[:, :1], x[:, 1:]], dim=1), v


class TwoInOut(nn.Module):
    """Two inputs (audio + a control signal) and two outputs."""

    def __init__(self):
        super().__init__()
        self.c = nn.Conv1d(2, 3, 5, padding=2)
        self.g = nn.Conv1d(1, 3, 3, padding=(1))

    def forward(self, audio, ctrl):
        y = self.c(audio) * torch.sigmoid(self.g(ctrl))
        return y, audio + ctrl


class Spectral(nn.Module):
    """STFT -> per-bin mask -> iSTFT."""

    def __init__(self):
        super().__init__()
        self.stft = rn.STFT(64, 16)
        self.mask = nn.Conv1d(66, 66, 1)
        self.istft = rn.ISTFT(64, 16)

    def forward(self, x):
        X = self.stft(x)
        return self.istft(X * torch.sigmoid(self.mask(X)))


class Exporter(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)
        self.x = np.random.default_rng(0).standard_normal((1, 4000)).astype(np.float32)

    def tearDown(self):
        self.tmp.cleanup()

    def export(self, m, name, x=None, **kw):
        kw.setdefault("verbose", False)
        x = self.x if x is None else x
        return rill.export(m, self.dir / name, x, kw.pop("sr", 16000), **kw)

    def test_noncausal_tcn_with_film(self):
        params = [{"name": "drive", "min": 0, "max": 1, "default": 0.3, "unit": ""},
                  {"name": "tone", "min": -1, "max": 1, "default": 0.0, "unit": "dB"}]
        m = NonCausalTcn()
        r = self.export(m, "tcn.rill", params=params, meta={"description": "tcn test"})
        self.assertEqual(r.latency_frames, 1 + 2 + 4 + 8 + 3)  # 'same' k=4 d=2: right pad 3
        self.assertLessEqual(r.max_abs_diff, TOL)
        self.assertEqual(r.replaced, [])
        self.assertEqual(r.params, ["drive", "tone"])
        path = str(self.dir / "tcn.rill")
        diff = rill.compare(m, path, self.x, params={"drive": 0.9, "tone": -0.5})
        self.assertLessEqual(diff, TOL)
        model = rill.load(path)
        self.assertEqual(model.description, "tcn test")
        self.assertEqual(model.params[1]["unit"], "dB")
        self.assertEqual(model.num_weights, r.weights)

    def test_conv_tasnet_like(self):
        for causal in (False, True):
            with self.subTest(causal=causal):
                m = ConvTasNetMini(causal=causal)
                r = self.export(m, "tasnet.rill", sr=8000)
                self.assertLessEqual(r.max_abs_diff, TOL)
                model = rill.load(str(self.dir / "tasnet.rill"))
                self.assertEqual(model.hop_frames, 8)
                self.assertEqual(model.output_channels, 2)
                # the decoder is called twice and stored once
                self.assertEqual(sum(n.startswith("decoder") for n in rill.read_rill(
                    self.dir / "tasnet.rill")[1]), 1)
                if causal:  # only the encoder/decoder framing and the hop FIFO remain
                    self.assertLessEqual(r.latency_frames, 16 + 7)

    def test_glu_masker_strided(self):
        r = self.export(GluMasker(), "glu.rill", sr=8000)
        self.assertLessEqual(r.max_abs_diff, TOL)

    def test_recurrent_with_layouts(self):
        r = self.export(RecurrentModel(), "rnn.rill")
        self.assertLessEqual(r.max_abs_diff, TOL)
        self.assertEqual(r.ops.get("gru"), 2)
        self.assertEqual(r.ops.get("lstm"), 3)

    def test_groupnorm_is_replaced_and_reported(self):
        for norm, words in ((nn.GroupNorm(2, 4), "GroupNorm"),
                            (nn.InstanceNorm1d(4, affine=True), "InstanceNorm1d")):
            with self.subTest(norm=words):
                torch.manual_seed(1)
                m = UtteranceNorm(norm)
                r = self.export(m, "gn.rill")
                self.assertEqual(len(r.replaced), 1)
                self.assertIn(words, r.replaced[0])
                self.assertIn("cumulative", r.replaced[0])
                self.assertIsNotNone(r.max_abs_diff)
                self.assertIn("replaced", str(r))
                # the replacement is exactly the streaming counterpart of rill.nn
                groups = norm.num_groups if isinstance(norm, nn.GroupNorm) else 4
                ref = UtteranceNorm(rn.GroupNorm(groups, 4, eps=norm.eps, mode="cumulative"))
                ref.load_state_dict(m.state_dict())
                self.assertLessEqual(rill.compare(ref, str(self.dir / "gn.rill"), self.x), TOL)

    def test_functions_and_routing(self):
        x = np.random.default_rng(1).standard_normal((2, 3000)).astype(np.float32)
        r = self.export(Routing(), "routing.rill", x)
        self.assertLessEqual(r.max_abs_diff, TOL)
        for op in ("split", "slice", "batch_norm", "snake", "delay", "concat", "sub"):
            self.assertIn(op, r.ops)

    def test_two_inputs_two_outputs(self):
        rng = np.random.default_rng(2)
        xs = [rng.standard_normal((2, 2000)).astype(np.float32),
              rng.standard_normal((1, 2000)).astype(np.float32)]
        r = self.export(TwoInOut(), "io.rill", xs, inputs=[{"name": "audio", "channels": 2},
                                                            {"name": "ctrl", "channels": 1}])
        self.assertLessEqual(r.max_abs_diff, TOL)
        model = rill.load(str(self.dir / "io.rill"))
        self.assertEqual([p["name"] for p in model.inputs], ["audio", "ctrl"])
        self.assertEqual([p["channels"] for p in model.outputs], [3, 2])

    def test_spectral_mask(self):
        r = self.export(Spectral(), "spec.rill")
        self.assertLessEqual(r.max_abs_diff, TOL)

    def test_torch_example_input_and_old_argument_order(self):
        m = nn.Sequential(nn.Conv1d(1, 2, 3, padding=1), nn.Tanh(), nn.Conv1d(2, 1, 1))
        r = rill.export(m, self.dir / "t.rill", example_input=torch.from_numpy(self.x)[None],
                        sample_rate=16000, verbose=False)
        self.assertLessEqual(r.max_abs_diff, TOL)
        self.assertTrue(m.training)  # restored after export
        r2 = rill.export(m, self.dir / "t.rill", 16000, verbose=False)  # no example input
        self.assertIsNone(r2.max_abs_diff)
        self.assertEqual(r2.latency_frames, 1)
        with self.assertRaises(ExportError):
            rill.export(m, self.dir / "t.rill", self.x, verbose=False)  # no sample rate

    def test_clear_errors(self):
        class Bidirectional(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(1, 2, batch_first=True, bidirectional=True)

            def forward(self, x):
                return self.rnn(x.transpose(1, 2))[0].transpose(1, 2)

        class Reflect(nn.Module):
            def __init__(self):
                super().__init__()
                self.c = nn.Conv1d(1, 1, 3, padding=1, padding_mode="reflect")

            def forward(self, x):
                return self.c(x)

        class WrongLayout(nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = nn.Linear(1, 1)

            def forward(self, x):
                return self.lin(x)

        class Unknown(nn.Module):
            def __init__(self):
                super().__init__()
                self.pool = nn.AvgPool1d(2)

            def forward(self, x):
                return self.pool(x)

        class UnknownFunction(nn.Module):
            def forward(self, x):
                return torch.erf(x)

        class TimeSlice(nn.Module):
            def forward(self, x):
                return x[:, :, 1:]

        class HiddenState(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.GRU(1, 1, batch_first=True)

            def forward(self, x):
                return self.rnn(x.transpose(1, 2))[1].transpose(1, 2)

        class LonePad(nn.Module):
            def forward(self, x):
                return torch.tanh(F.pad(x, (3, 0)))

        cases = ((Bidirectional(), ["bidirectional", "'rnn'", "test_exporter.py"]),
                 (Reflect(), ["reflect", "'c'"]), (WrongLayout(), ["transpose", "Linear"]),
                 (Unknown(), ["AvgPool1d", "'pool'", "test_exporter.py:"]),
                 (UnknownFunction(), ["erf", "torch.erf(x)"]), (TimeSlice(), ["channel axis"]),
                 (HiddenState(), ["final state"]), (LonePad(), ["F.pad"]))
        for module, words in cases:
            with self.subTest(module=type(module).__name__):
                with self.assertRaises(ExportError) as e:
                    rill.export(module, self.dir / "bad.rill", sample_rate=16000, verbose=False)
                for w in words:
                    self.assertIn(w, str(e.exception))
        with self.assertRaises(ExportError) as e:  # FiLM names a parameter the model lacks
            self.export(NonCausalTcn(), "bad.rill", params=["drive"])
        self.assertIn("tone", str(e.exception))


if __name__ == "__main__":
    unittest.main()
