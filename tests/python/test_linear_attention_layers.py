"""The fla-compatible linear-attention layers (rill.nn.linear_attention) exported with rill.export
and run by the C library equal PyTorch: random (perturbed) weights, 300 frames, streamed in blocks
of 1 (recurrent form), 64 and 300 (chunkwise form); fla parameter names load with strict=True."""

import pathlib
import tempfile
import unittest

import numpy as np
import torch
import torch.nn as nn

import rill
from rill.nn import linear_attention as la
from rill.nn import recurrent_layers as rl

T = 300


class ChannelsFirst(nn.Module):
    """Rill signals are [B, C, T]; fla layers take [B, T, D]."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x.transpose(1, 2)).transpose(1, 2)


def perturbed(layer, seed):
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return layer.eval()


LAYERS = {
    "gla": lambda: la.GatedLinearAttention(32, num_heads=2, use_short_conv=True),
    "gla_no_conv": lambda: la.GatedLinearAttention(32, expand_k=1.0, num_heads=4,
                                                   clamp_min=-0.05),
    "retention": lambda: la.MultiScaleRetention(32, num_heads=2),
    "delta": lambda: la.DeltaNet(32, num_heads=2, use_gate=True, allow_neg_eigval=True),
    "gated_delta": lambda: la.GatedDeltaNet(32, head_dim=8, num_heads=2),
    "hgrn": lambda: rl.HGRNAttention(32),
    "mlstm": lambda: rl.mLSTMLayer(32, num_heads=4),
    "mamba2": lambda: rl.Mamba2(32, d_state=8, headdim=16, ngroups=2),
    "kda": lambda: la.KimiDeltaAttention(32, head_dim=8, num_heads=2, num_v_heads=4),
}


class LinearAttentionLayers(unittest.TestCase):
    def setUp(self):
        self.dir = pathlib.Path(tempfile.mkdtemp())

    def test_exported_layers_equal_pytorch(self):
        x = np.random.default_rng(3).standard_normal((32, T)).astype(np.float32)
        for i, (name, make) in enumerate(LAYERS.items()):
            with self.subTest(name):
                module = ChannelsFirst(perturbed(make(), 100 + i))
                path = self.dir / f"{name}.rill"
                report = rill.export(module, path, x, 16000, verbose=False)
                self.assertEqual(report.latency_frames, 0)
                self.assertIn("hgrn" if name == "hgrn" else "linear_attention", report.ops)
                with torch.no_grad():
                    scale = float(module(torch.from_numpy(x)[None]).abs().max())
                for block in (1, 64, T):
                    diff = rill.compare(module, str(path), x, block=block)
                    print(f"{name} block {block}: max |rill - torch| {diff:.2e} (scale {scale:.2f})")
                    self.assertLessEqual(diff, 1e-4 * max(1.0, scale), f"{name} block {block}")

    def test_fla_parameter_names_load_strictly(self):
        for name, make in LAYERS.items():
            with self.subTest(name):
                a, b = perturbed(make(), 1), make()
                b.load_state_dict(a.state_dict(), strict=True)
                x = torch.randn(1, 20, 32)
                torch.testing.assert_close(a(x), b(x))
        names = set(la.GatedDeltaNet(32, head_dim=8, num_heads=2).state_dict())
        self.assertTrue({"q_proj.weight", "a_proj.weight", "b_proj.weight", "A_log", "dt_bias",
                         "q_conv1d.weight", "o_norm.weight", "g_proj.weight",
                         "o_proj.weight"} <= names)
        names = set(la.GatedLinearAttention(32, num_heads=2).state_dict())
        self.assertTrue({"gk_proj.0.weight", "gk_proj.1.weight", "gk_proj.1.bias",
                         "g_norm_swish_gate.weight"} <= names)


if __name__ == "__main__":
    unittest.main()
