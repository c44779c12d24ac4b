#!/usr/bin/env python3
"""Measures the bundled model THROUGH THE RILL ENGINE (C library, streamed in 512-frame blocks)
against the DSP target on the held-out corpus (voices and material not used in training):
error-to-signal ratio ESR = sum((y - target)^2) / sum(target^2) per drive value. Writes the
figures into assets/effect/drive_tcn.metrics.json (key rill_heldout_esr). train.py calls
engine_esr() itself after training; this script re-measures an existing model."""

import json
import pathlib
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "capi" / "python"))
import rill  # noqa: E402
from data import make_corpus  # noqa: E402
from effect_dsp import apply_effect  # noqa: E402


def engine_esr(rill_path, held, drives=(0.0, 0.25, 0.5, 0.75, 1.0), block=512):
    """ESR per drive of the .rill model streamed by the C library (block frames per call)."""
    model = rill.load(str(rill_path))
    result = {}
    for drive in drives:
        target = apply_effect(held, drive)
        y = model.process_offline(held[None], params={"drive": drive}, block=block)[0]
        result[f"{drive:g}"] = float(np.sum((y - target) ** 2) / np.sum(target ** 2))
        print(f"drive {drive:.2f}: held-out ESR {result[f'{drive:g}']:.4f} "
              f"({10 * np.log10(result[f'{drive:g}']):.1f} dB)", flush=True)
    return result


def main():
    held = make_corpus("heldout", 20, ROOT / "training" / "runs" / "effect")
    result = engine_esr(ROOT / "assets/effect/drive_tcn.rill", held)
    path = ROOT / "assets/effect/drive_tcn.metrics.json"
    metrics = json.loads(path.read_text())
    metrics["rill_heldout_esr"] = result
    metrics["heldout_seconds"] = round(len(held) / 44100, 1)
    path.write_text(json.dumps(metrics, indent=1) + "\n")


if __name__ == "__main__":
    main()
