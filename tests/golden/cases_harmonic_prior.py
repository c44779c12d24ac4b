"""Golden cases for harmonic_prior (docs/ops.md): Wavehax's deterministic pcph prior
(rill.nn.wavehax.generate_pcph with no noise and no random phase, a restatement of upstream's
generate_pcph) from an f0 held at the audio rate, voiced and unvoiced frames, and f0 changes that
change the harmonic count; streamed in any blocks, its running phase must equal the cumulative
sum offline."""

import pathlib
import sys

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from op_case import SR, node, op_case  # noqa: E402
from rill.nn.wavehax import generate_pcph  # noqa: E402

HOP = 40
FRAMES = 60


def _case(name, f0_frames, power_factor=0.1):
    f0 = f0_frames.reshape(1, 1, -1)
    y = generate_pcph(f0, HOP, SR, 0.0, False, power_factor)[0]
    x = f0.repeat_interleave(HOP, dim=2)[0]
    return op_case(name, x, y, [node("prior", "harmonic_prior", ["x"],
                                     {"sample_rate": float(SR), "power_factor": power_factor})],
                   tol=2e-5)


def harmonic_prior_voiced_unvoiced():
    torch.manual_seed(400)
    f0 = 80 + 300 * torch.rand(FRAMES)
    f0[10:17] = 0
    f0[40:44] = 0
    return _case("harmonic_prior_voiced_unvoiced", f0)


def harmonic_prior_sweep():
    """A glide 60 -> 1000 Hz (harmonic count 133 -> 8), power factor 0.3."""
    f0 = torch.linspace(60, 1000, FRAMES)
    return _case("harmonic_prior_sweep", f0, 0.3)


CASES = [harmonic_prior_voiced_unvoiced, harmonic_prior_sweep]
