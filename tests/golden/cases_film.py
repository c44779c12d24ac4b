"""Golden cases for FiLM by model parameters (docs/ops.md "Conditioning"): gamma, beta = W p + b,
y = gamma * x + beta, with parameters set before processing or left at their defaults."""

import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import node, op_case  # noqa: E402

T = 1200
PARAMS = [{"name": "drive", "min": 0.0, "max": 1.0, "default": 0.5},
          {"name": "tone", "min": -1.0, "max": 1.0, "default": 0.25},
          {"name": "mix", "min": 0.0, "max": 2.0, "default": 1.0}]


def _film(x, w, b, p):
    c = x.shape[0]
    gb = w @ p + b
    return gb[:c, None] * x + gb[c:, None]


def film_all_params_set():
    torch.manual_seed(60)
    C = 3
    x = torch.randn(C, T)
    w, b = torch.randn(2 * C, 3), torch.randn(2 * C)
    values = {"drive": 0.8, "tone": -0.6, "mix": 1.5}
    p = torch.tensor([values["drive"], values["tone"], values["mix"]])
    return op_case("film_all_params", x, _film(x, w, b, p),
                   [node("f", "film", ["x"], weights={"weight": "w", "bias": "b"})],
                   {"w": w, "b": b}, params=PARAMS, param_values=values)


def film_named_subset_defaults():
    torch.manual_seed(61)
    C = 2
    x = torch.randn(C, T)
    w = torch.randn(2 * C, 2)
    p = torch.tensor([1.0, 0.25])  # defaults of "mix", "tone", in the attribute's order
    return op_case("film_named_defaults", x, _film(x, w, torch.zeros(2 * C), p),
                   [node("f", "film", ["x"], {"params": ["mix", "tone"]}, {"weight": "w"})],
                   {"w": w}, params=PARAMS)


CASES = [film_all_params_set, film_named_subset_defaults]
