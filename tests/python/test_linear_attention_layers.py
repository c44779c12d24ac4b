"""The fla-compatible linear-attention layers (rill.nn.linear_attention, rill.nn.recurrent_layers)
exported with rill.export and run by the C library equal PyTorch: random (perturbed) weights, 300
frames, streamed in blocks of 1 (recurrent form), 7, 64 and 300 (chunkwise form); upstream
parameter names load with strict=True.

The parameter names and shapes were verified against upstream by building the upstream layers
(flash-linear-attention at bc3b101, mamba_ssm, xlstm) in many configurations and comparing
state_dicts key by key; fla's and xlstm's forward code (fla's kernels replaced by its naive
recurrences) gave the same outputs as these layers, within float32 rounding (fla's naive
kernels compute in float32). The names:
  GatedLinearAttention  q_proj, k_proj, v_proj, g_proj, gk_proj.0, gk_proj.1 (weight, bias),
                        [q|k|v]_conv1d.weight (+ .bias), g_norm_swish_gate.weight or g_norm.weight,
                        o_proj.weight
  MultiScaleRetention   q_proj, k_proj, v_proj, g_proj, [q|k|v]_conv1d, g_norm_swish_gate.weight,
                        o_proj (rotary.inv_freq: non-persistent)
  DeltaNet              q_proj, k_proj, v_proj, b_proj, [q|k|v]_conv1d, g_proj, o_norm.weight,
                        o_proj
  GatedDeltaNet         + a_proj, A_log [HV], dt_bias [HV]
  KimiDeltaAttention    f_proj.0, f_proj.1, b_proj, A_log [HV], dt_bias [HV*K], g_proj.0,
                        g_proj.1 (weight, bias), o_norm.weight
  HGRNAttention         i_proj, f_proj, g_proj, [i|f]_conv1d, g_norm.weight, o_proj
  Mamba2 (mamba_ssm)    in_proj, conv1d (weight, bias), dt_bias, A_log, D, norm.weight, out_proj
  mLSTMLayer (xlstm)    proj_up, q_proj/k_proj/v_proj.weight [heads, 4, 4], conv1d.conv (weight,
                        bias), mlstm_cell.igate/fgate (weight, bias), mlstm_cell.outnorm.weight,
                        learnable_skip, proj_down"""

import pathlib
import tempfile
import unittest

import numpy as np
import torch
import torch.nn as nn

import rill
from rill.exporter import ExportError
from rill.nn import linear_attention as la
from rill.nn import recurrent_layers as rl

T = 300
D = 32


class ChannelsFirst(nn.Module):
    """Rill signals are [B, C, T]; fla layers take [B, T, D]."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x.transpose(1, 2)).transpose(1, 2)


def perturbed(layer, seed):
    """Default inits leave some gates trivial (zero convolution biases, unit norms); perturb all."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in layer.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    return layer.eval()


def hgrn_with_lower_bound():
    layer = rl.HGRNAttention(D, use_short_conv=True, layer_idx=1)
    layer.lower_bound = torch.linspace(0.05, 0.9, D)
    return layer


LAYERS = {
    "gla": lambda: la.GatedLinearAttention(D, num_heads=2, use_short_conv=True),
    "gla_kv_heads": lambda: la.GatedLinearAttention(D, expand_k=1.0, num_heads=4, num_kv_heads=2,
                                                    feature_map="relu", clamp_min=-0.05,
                                                    use_short_conv=True, conv_bias=True),
    "gla_gelu_gate": lambda: la.GatedLinearAttention(D, num_heads=2, gate_fn="gelu",
                                                     elementwise_affine=False),
    "gla_no_gate": lambda: la.GatedLinearAttention(D, num_heads=2, use_output_gate=False,
                                                   feature_map="sqrelu"),
    "retention": lambda: la.MultiScaleRetention(D, num_heads=2),
    "retention_kv_heads": lambda: la.MultiScaleRetention(D, num_heads=4, num_kv_heads=2,
                                                         use_short_conv=True, feature_map="gelu"),
    "delta": lambda: la.DeltaNet(D, num_heads=2, use_gate=True, allow_neg_eigval=True),
    "delta_elu": lambda: la.DeltaNet(D, num_heads=2, qk_activation="elu", use_beta=False,
                                     use_short_conv=False),
    "gated_delta": lambda: la.GatedDeltaNet(D, head_dim=8, num_heads=2),
    "gated_delta_gva": lambda: la.GatedDeltaNet(D, head_dim=8, num_heads=2, num_v_heads=4,
                                                use_short_conv=False, allow_neg_eigval=True),
    "kda": lambda: la.KimiDeltaAttention(D, head_dim=8, num_heads=2, num_v_heads=4),
    "kda_lower_bound": lambda: la.KimiDeltaAttention(D, head_dim=8, num_heads=2, lower_bound=-3.0,
                                                     safe_gate=True),
    "hgrn": lambda: rl.HGRNAttention(D),
    "hgrn_lower_bound": hgrn_with_lower_bound,
    "mlstm": lambda: rl.mLSTMLayer(D, num_heads=4),
    "mamba2": lambda: rl.Mamba2(D, d_state=8, headdim=16, ngroups=2),
    "mamba2_options": lambda: rl.Mamba2(D, d_state=8, headdim=16, ngroups=2, D_has_hdim=True,
                                        norm_before_gate=True),
    "mamba2_no_norm": lambda: rl.Mamba2(D, d_state=8, headdim=16, rmsnorm=False),
}
KERNEL_OP = {"hgrn": "hgrn", "hgrn_lower_bound": "hgrn"}


class LinearAttentionLayers(unittest.TestCase):
    def setUp(self):
        self.dir = pathlib.Path(tempfile.mkdtemp())

    def test_exported_layers_equal_pytorch(self):
        x = np.random.default_rng(3).standard_normal((D, T)).astype(np.float32)
        for i, (name, make) in enumerate(LAYERS.items()):
            with self.subTest(name):
                module = ChannelsFirst(perturbed(make(), 100 + i))
                path = self.dir / f"{name}.rill"
                report = rill.export(module, path, x, 16000, verbose=False)
                self.assertEqual(report.latency_frames, 0)
                self.assertIn(KERNEL_OP.get(name, "linear_attention"), report.ops)
                with torch.no_grad():
                    scale = float(module(torch.from_numpy(x)[None]).abs().max())
                diffs = {block: rill.compare(module, str(path), x, block=block)
                         for block in (1, 7, 64, T)}
                print(f"{name:20s} scale {scale:5.2f}  max |rill - torch| " +
                      "  ".join(f"block {k}: {v:.1e}" for k, v in diffs.items()))
                for block, diff in diffs.items():
                    self.assertLessEqual(diff, 1e-4 * max(1.0, scale), f"{name} block {block}")

    def test_upstream_parameter_names_load_strictly(self):
        for name, make in LAYERS.items():
            with self.subTest(name):
                a, b = perturbed(make(), 1), make()
                if name == "hgrn_lower_bound":
                    self.assertNotIn("lower_bound", a.state_dict())
                b.load_state_dict(a.state_dict(), strict=True)
                b.lower_bound = getattr(a, "lower_bound", None)
                x = torch.randn(1, 20, D)
                torch.testing.assert_close(a(x), b(x))
        shapes = {k: tuple(v.shape) for k, v in
                  la.GatedDeltaNet(D, head_dim=8, num_heads=2, num_v_heads=4).state_dict().items()}
        self.assertEqual(shapes, {
            "q_proj.weight": (16, D), "k_proj.weight": (16, D), "v_proj.weight": (64, D),
            "a_proj.weight": (4, D), "b_proj.weight": (4, D), "A_log": (4,), "dt_bias": (4,),
            "q_conv1d.weight": (16, 1, 4), "k_conv1d.weight": (16, 1, 4),
            "v_conv1d.weight": (64, 1, 4), "g_proj.weight": (64, D), "o_norm.weight": (16,),
            "o_proj.weight": (D, 64)})
        names = set(la.GatedLinearAttention(D, num_heads=2).state_dict())
        self.assertEqual(names, {"q_proj.weight", "k_proj.weight", "v_proj.weight",
                                 "g_proj.weight", "gk_proj.0.weight", "gk_proj.1.weight",
                                 "gk_proj.1.bias", "o_proj.weight", "g_norm_swish_gate.weight"})
        names = set(la.MultiScaleRetention(D, num_heads=2, fuse_norm=False).state_dict())
        self.assertEqual(names, {"q_proj.weight", "k_proj.weight", "v_proj.weight",
                                 "g_proj.weight", "o_proj.weight", "g_norm.weight"})
        shapes = {k: tuple(v.shape) for k, v in
                  rl.Mamba2(D, d_state=8, headdim=16, ngroups=2).state_dict().items()}
        self.assertEqual(shapes["norm.weight"], (64,))   # [d_inner], one RMS group per B/C group
        self.assertEqual(shapes["in_proj.weight"], (2 * 64 + 2 * 2 * 8 + 4, D))

    def test_options_without_rill_counterpart_are_refused(self):
        module = ChannelsFirst(la.DeltaNet(D, num_heads=2, qk_norm="sum"))
        with self.assertRaisesRegex(ExportError, "qk_norm"):
            rill.export(module, self.dir / "sum.rill", np.zeros((D, 8), np.float32), 16000,
                        verbose=False)


if __name__ == "__main__":
    unittest.main()
