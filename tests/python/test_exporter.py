"""rill.export: PyTorch module trees -> .rill, run by the C library, equal to torch (offline,
shifted by the latency), with replaced ops reported and clear errors for what cannot stream."""

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
    """Non-causal dilated TCN with residuals and FiLM (the shape of the bundled model)."""

    def __init__(self):
        super().__init__()
        self.inp = nn.Conv1d(1, 8, 1)
        self.blocks = nn.ModuleList(FilmBlock(8, d) for d in (1, 2, 4, 8))
        self.act = nn.LeakyReLU(0.2)
        self.out = nn.Conv1d(8, 1, 1)

    def forward(self, x, p):
        h = self.inp(x)
        for b in self.blocks:
            h = b(h, p)
        return self.out(self.act(h))


class TasNetLike(nn.Module):
    """Free encoder (stride 8), a masker with cumulative norm, PReLU, GLU and a skip concat, and
    a transposed-conv decoder: Conv-TasNet's shape."""

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
    def __init__(self):
        super().__init__()
        self.enc = nn.Conv1d(1, 6, 4, stride=2, padding=1)
        self.gru = nn.GRU(6, 8, num_layers=2, batch_first=True)
        self.norm = nn.LayerNorm(8)
        self.lin = nn.Linear(8, 6)
        self.dec = nn.ConvTranspose1d(6, 1, 4, stride=2, padding=1)

    def forward(self, x):
        h = self.enc(x)
        z = self.lin(self.norm(self.gru(h.transpose(1, 2))[0])).transpose(1, 2)
        return self.dec(F.silu(z) * h + 0.5 * h)


class UtteranceNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(1, 4, 3, padding=1)
        self.norm = nn.GroupNorm(2, 4)
        self.out = nn.Conv1d(4, 1, 1)

    def forward(self, x):
        return self.out(self.norm(self.conv(x)))


class Exporter(unittest.TestCase):
    def setUp(self):
        torch.manual_seed(0)
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)
        self.x = np.random.default_rng(0).standard_normal((1, 4000)).astype(np.float32)

    def tearDown(self):
        self.tmp.cleanup()

    def test_noncausal_tcn_with_film(self):
        params = [{"name": "drive", "min": 0, "max": 1, "default": 0.3},
                  {"name": "tone", "min": -1, "max": 1, "default": 0.0}]
        m = NonCausalTcn()
        r = rill.export(m, self.dir / "tcn.rill", 16000, params=params, example_input=self.x,
                        verbose=False)
        self.assertEqual(r.latency_frames, 1 + 2 + 4 + 8)
        self.assertLessEqual(r.max_abs_diff, 1e-4)
        self.assertEqual(r.replaced, [])
        diff = rill.compare(m, str(self.dir / "tcn.rill"), self.x, params={"drive": 0.9, "tone": -0.5})
        self.assertLessEqual(diff, 1e-4)

    def test_tasnet_like_strided(self):
        r = rill.export(TasNetLike(), self.dir / "tas.rill", 8000, example_input=self.x,
                        verbose=False)
        self.assertLessEqual(r.max_abs_diff, 1e-4)
        self.assertEqual(rill.load(str(self.dir / "tas.rill")).hop_frames, 8)

    def test_recurrent_with_layouts(self):
        r = rill.export(RecurrentModel(), self.dir / "rnn.rill", 16000, example_input=self.x,
                        verbose=False)
        self.assertLessEqual(r.max_abs_diff, 1e-4)
        self.assertEqual(r.ops.get("gru"), 2)

    def test_groupnorm_is_replaced_and_reported(self):
        r = rill.export(UtteranceNorm(), self.dir / "gn.rill", 16000, example_input=self.x,
                        verbose=False)
        self.assertEqual(len(r.replaced), 1)
        self.assertIn("GroupNorm", r.replaced[0])
        self.assertIsNotNone(r.max_abs_diff)
        self.assertIn("replaced", str(r))

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

        for module, words in ((Bidirectional(), "bidirectional"), (Reflect(), "reflect"),
                              (WrongLayout(), "transpose")):
            with self.assertRaises(ExportError) as e:
                rill.export(module, self.dir / "bad.rill", 16000, verbose=False)
            self.assertIn(words, str(e.exception))


if __name__ == "__main__":
    unittest.main()
