"""rill.nn reference modules: the streaming mode equals the offline forward shifted by the
reported latency, for random chunkings, alone and chained."""

import unittest

import torch

import rill.nn as rn


def stream_all(m, x, chunks, tail=512):
    L = m.start_stream(0)
    xp = torch.cat([x, torch.zeros(*x.shape[:-1], tail)], dim=-1)
    outs, pos, i = [], 0, 0
    while pos < xp.shape[-1]:
        n = chunks[i % len(chunks)]
        outs.append(m.stream(xp[..., pos:pos + n]))
        pos, i = pos + n, i + 1
    return torch.cat(outs, dim=-1), L, xp


class ReferenceModules(unittest.TestCase):
    def check(self, m, x, chunks, tol=1e-5, margin=256):
        with torch.no_grad():
            s, L, xp = stream_all(m, x, chunks)
            y = m(xp)
            T = min(y.shape[-1], s.shape[-1] - L) - margin  # compare before the padded tail
            err = float((s[..., L:L + T] - y[..., :T]).abs().max())
        self.assertLessEqual(err, tol, f"{type(m).__name__}: {err}")
        return L

    def test_each_module(self):
        torch.manual_seed(0)
        x = torch.randn(2, 3, 1200)
        self.check(rn.Conv1d(3, 4, 5, stride=2, padding=(1, 3), dilation=2), x, [6, 2, 10])
        self.check(rn.Conv1d(3, 3, 3, padding=(2, 0), groups=3), x, [1, 7])
        self.check(rn.ConvTranspose1d(3, 2, 6, stride=3, padding=2), x, [1, 5])
        self.check(rn.GroupNorm(3, 3, mode="cumulative"), x, [7, 64])
        self.check(rn.GroupNorm(1, 3, mode="frame"), x, [5])
        self.check(rn.Delay(9), x, [4])
        self.check(rn.Recurrent(torch.nn.LSTM(3, 5, batch_first=True)), x, [7, 1])
        self.check(rn.Snake(3), x, [3])
        self.check(rn.STFT(64, 16), x[:, :1], [16, 48], margin=16)

    def test_chain_with_stride_and_spectral(self):
        torch.manual_seed(1)
        x = torch.randn(1, 1, 3000)
        chain = rn.Sequential(rn.Conv1d(1, 4, 5, padding=(2, 2)), torch.nn.Tanh(),
                              rn.Conv1d(4, 4, 4, stride=2, padding=(1, 2)),
                              rn.GroupNorm(1, 4, mode="cumulative"),
                              rn.ConvTranspose1d(4, 1, 4, stride=2, padding=1),
                              rn.STFT(32, 8), rn.ISTFT(32, 8))
        for m in chain:  # plain torch layers join the chain as stateless ops
            if not hasattr(m, "start_stream"):
                m.start_stream = lambda lat: lat
                m.stream = m.forward
        self.check(chain, x, [8, 24, 64])


if __name__ == "__main__":
    unittest.main()
