"""rill.nn reference modules: the streaming mode equals the offline forward shifted by the
reported latency, for fixed and random chunkings, alone and chained; and each module's latency
is the one the C library reports for it once exported."""

import pathlib
import tempfile
import unittest

import numpy as np
import torch

import rill
import rill.nn as rn


def stream_all(m, x, chunks, tail=512, extra=()):
    L = rn.start_stream(m, 0)
    xp = torch.cat([x, torch.zeros(*x.shape[:-1], tail)], dim=-1)
    outs, pos, i = [], 0, 0
    while pos < xp.shape[-1]:
        n = chunks[i % len(chunks)]
        outs.append(rn.stream(m, xp[..., pos:pos + n], *extra))
        pos, i = pos + n, i + 1
    return torch.cat(outs, dim=-1), L, xp


class ReferenceModules(unittest.TestCase):
    def check(self, m, x, chunks, tol=1e-5, margin=256, extra=()):
        with torch.no_grad():
            s, L, xp = stream_all(m, x, chunks, extra=extra)
            y = m(xp, *extra)
            T = min(y.shape[-1], s.shape[-1] - L) - margin  # compare before the padded tail
            self.assertGreater(T, 50)
            err = float((s[..., L:L + T] - y[..., :T]).abs().max())
        self.assertLessEqual(err, tol, f"{type(m).__name__}: {err}")
        return L

    def random_chunks(self, seed, hi=70):
        return [int(n) for n in np.random.default_rng(seed).integers(1, hi, 50)]

    def test_each_module(self):
        torch.manual_seed(0)
        x = torch.randn(2, 3, 1200)
        cases = [
            (rn.Conv1d(3, 4, 5, stride=2, padding=(1, 3), dilation=2), [6, 2, 10], 7 // 2),
            (rn.Conv1d(3, 3, 3, padding=(2, 0), groups=3), [1, 7], 0),
            (rn.Conv1d(3, 2, 4, padding="same", dilation=3), [5], 5),
            (rn.Conv1d(3, 2, 4, padding="causal"), [3], 0),
            (rn.Conv1d(3, 2, 3, stride=3, padding="valid"), [9, 3], 0),
            (rn.ConvTranspose1d(3, 2, 6, stride=3, padding=2), [1, 5], 2),
            (rn.ConvTranspose1d(3, 2, 3, stride=2, dilation=2), [4], 0),
            (rn.Linear(3, 5), [11], 0),
            (rn.GroupNorm(3, 3, mode="cumulative"), [7, 64], 0),
            (rn.GroupNorm(1, 3, mode="frame"), [5], 0),
            (rn.LayerNorm(3), [13], 0),
            (rn.CumulativeLayerNorm(3), [1, 100], 0),
            (rn.Delay(9), [4], 0),
            (rn.Recurrent(torch.nn.LSTM(3, 5, batch_first=True)), [7, 1], 0),
            (rn.Recurrent(torch.nn.GRU(3, 4, batch_first=True)), [3], 0),
            (rn.LSTM(3, 4, num_layers=2), [17], 0),
            (rn.GRU(3, 4), [1, 2, 3], 0),
            (rn.Snake(3), [3], 0),
        ]
        for m, chunks, latency in cases:
            with self.subTest(module=repr(m)):
                self.assertEqual(self.check(m, x, chunks), latency)
                hop = m.stride[0] if isinstance(m, torch.nn.Conv1d) else 1  # whole hops only
                self.check(m, x, [hop * n for n in self.random_chunks(len(chunks), 70 // hop)])
        self.assertEqual(self.check(rn.STFT(64, 16), x[:, :1], [16, 48], margin=16), 1)

    def test_film_uses_the_parameter_values(self):
        torch.manual_seed(2)
        f = rn.FiLM(3, ["a", "b"])
        torch.nn.init.normal_(f.weight)
        x = torch.randn(1, 3, 800)
        p = torch.tensor([[0.3, -0.7]])
        self.check(f, x, [5, 9], extra=(p,))
        with torch.no_grad():
            gamma, beta = (f.weight @ p[0] + f.bias).chunk(2)
            torch.testing.assert_close(f(x, p), gamma[None, :, None] * x + beta[None, :, None])

    def test_stft_istft_round_trip(self):
        torch.manual_seed(3)
        x = torch.randn(1, 2, 2000)
        # (center=False with a window that is 0 at its ends is refused by torch.istft)
        for window, center in (("hann", True), ("sqrt_hann", True), ("hamming", False)):
            chain = rn.Sequential(rn.STFT(64, 16, window, center), rn.ISTFT(64, 16, window, center))
            L = self.check(chain, x, [16, 32, 160], margin=128)
            # stft: floor((n_fft - 1 - left) / hop) frames; istft: left + that * hop samples
            self.assertEqual(L, 48)
            with torch.no_grad():  # the pair is the identity in the frames both see fully
                y = chain(x)
                self.assertLess(float((y[..., 64:1900] - x[..., 64:1900]).abs().max()), 1e-4)

    def test_chain_with_stride_and_spectral(self):
        torch.manual_seed(1)
        x = torch.randn(1, 1, 3000)
        chain = rn.Sequential(rn.Conv1d(1, 4, 5, padding=(2, 2)), torch.nn.Tanh(),
                              rn.Conv1d(4, 4, 4, stride=2, padding=(1, 2)),
                              rn.GroupNorm(1, 4, mode="cumulative"),
                              rn.ConvTranspose1d(4, 1, 4, stride=2, padding=1),
                              rn.STFT(32, 8), rn.ISTFT(32, 8))
        self.check(chain, x, [8, 24, 64])
        self.check(chain, x, [8 * n for n in self.random_chunks(5, 12)])

    def test_unknown_layer_has_no_streaming_mode(self):
        with self.assertRaises(TypeError):
            rn.start_stream(torch.nn.Conv1d(1, 1, 3), 0)


class LatencyAgreesWithLibrary(unittest.TestCase):
    """The reference module's latency == the library's for the same op (rate-1 cases)."""

    def test_latencies(self):
        torch.manual_seed(4)
        with tempfile.TemporaryDirectory() as t:
            for m in (rn.Conv1d(2, 2, 5, padding=(1, 3), dilation=2),
                      rn.Conv1d(2, 2, 4, padding="same"),
                      rn.Sequential(rn.Conv1d(2, 4, 3, padding=(1, 1)), rn.Delay(3),
                                    rn.ConvTranspose1d(4, 2, 4, stride=1, padding=2)),
                      rn.Sequential(rn.Conv1d(2, 4, 8, stride=4, padding=(2, 5)),
                                    rn.ConvTranspose1d(4, 2, 8, stride=4, padding=2)),
                      rn.Sequential(rn.STFT(32, 8), rn.ISTFT(32, 8))):
                with self.subTest(module=repr(m)):
                    path = pathlib.Path(t) / "m.rill"
                    x = np.random.default_rng(0).standard_normal((2, 2000)).astype(np.float32)
                    r = rill.export(m, path, x, 16000, verbose=False)
                    # The library adds its input FIFO (< hop frames) for models with a hop; the
                    # reference modules take whole hops and need none.
                    hop = rill.load(str(path)).hop_frames
                    ref = rn.start_stream(m, 0)
                    self.assertIn(r.latency_frames - ref, range(hop), f"{r.latency_frames} {ref}")
                    self.assertLessEqual(r.max_abs_diff, 1e-4)


if __name__ == "__main__":
    unittest.main()
