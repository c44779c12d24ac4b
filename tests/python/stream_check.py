"""Shared by the network tests: stream an exported model in given block patterns and compare it
with the offline PyTorch output shifted by the reported latency."""

import pathlib
import tempfile
import unittest

import numpy as np


def stream_blocks(model, x, blocks):
    """Streams x [C, T] followed by latency + hop zeros in blocks (sizes cycled) -> [Co, T], the
    output aligned with offline (the latency removed)."""
    s = model.stream(max_block_frames=int(max(blocks)))
    L = s.latency_frames
    padded = np.concatenate([x, np.zeros((x.shape[0], L + model.hop_frames), np.float32)], axis=1)
    out, i, k = [], 0, 0
    while i < padded.shape[1]:
        n = int(blocks[k % len(blocks)])
        out.append(s.process(padded[:, i:i + n]))
        i, k = i + n, k + 1
    return np.concatenate(out, axis=1)[:, L:L + x.shape[1]]


class StreamTestCase(unittest.TestCase):
    """A temporary directory for exported models, and the stream-vs-offline check."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = pathlib.Path(self.tmp.name)

    def tearDown(self):
        self.tmp.cleanup()

    def assert_streams_like(self, model, x, ref, blocks_list, name, tolerance=1e-4):
        """Each block pattern within tolerance * max|ref|; returns (worst error, error over the
        first latency + 1 aligned samples), both relative to max|ref|."""
        scale = float(np.abs(ref).max())
        self.assertGreater(scale, 1e-6, f"{name}: silent reference")
        worst = head = 0.0
        for blocks in blocks_list:
            got = stream_blocks(model, x, blocks)
            err = float(np.abs(got - ref).max())
            worst = max(worst, err)
            head = max(head, float(np.abs(got - ref)[:, :model.latency_frames + 1].max()))
            self.assertLessEqual(err, tolerance * scale, f"{name} blocks {list(blocks[:4])}: {err:.3g} "
                                 f"(scale {scale:.3g})")
        return worst / scale, head / scale
