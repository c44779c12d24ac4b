"""Golden cases for the token-model ops (docs/ops.md "Token models"): embedding (with ids that
are out of range or not integers: zeros), affine (per-channel, scalar weight, bias, scale) and
l2_norm per group (torch F.normalize)."""

import pathlib
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 500


def embedding():
    torch.manual_seed(90)
    vocab, dim = 20, 6
    w = torch.randn(vocab, dim)
    ids = torch.randint(0, vocab, (T,)).float()
    ids[::17] = -1.0
    ids[::23] = 20.0
    ids[::29] = 3.5
    valid = (ids >= 0) & (ids < vocab) & (ids == ids.floor())
    y = torch.where(valid[:, None], w[ids.clamp(0, vocab - 1).long()], torch.zeros(dim)).T
    return op_case("tok_embedding", ids[None], y,
                   [node("e", "embedding", ["x"], None, {"weight": "w"})], {"w": w})


def affine():
    torch.manual_seed(91)
    C = 5
    x, w, b = torch.randn(C, T), torch.randn(C), torch.randn(C)
    return op_case("tok_affine", x, x * w[:, None] * -0.5 + b[:, None],
                   [node("a", "affine", ["x"], {"scale": -0.5}, {"weight": "w", "bias": "b"})],
                   {"w": w, "b": b})


def affine_scalar_weight():
    torch.manual_seed(92)
    x, w = torch.randn(3, T), torch.tensor([1.7])
    return op_case("tok_affine_scalar", x, x * 1.7,
                   [node("a", "affine", ["x"], None, {"weight": "w"})], {"w": w})


def l2_norm():
    torch.manual_seed(93)
    x = torch.randn(12, T)
    x[:4, 7] = 0.0  # a zero group stays zero (eps)
    y = F.normalize(x.reshape(3, 4, T), dim=1).reshape(12, T)
    return op_case("tok_l2_norm", x, y, [node("n", "l2_norm", ["x"], {"groups": 3})])


CASES = [embedding, affine, affine_scalar_weight, l2_norm]
