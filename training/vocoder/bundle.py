#!/usr/bin/env python3
"""Copies the trained vocoder into assets/speech/ with a held-out clip and its measured quality
(the figure tests/python/test_bundled_speech.py checks):

    /usr/bin/python3 training/vocoder/bundle.py

Reads training/runs/vocoder/vocoder_16k.rill and its metrics JSON (written by train.py), writes
`--examples` held-out windows of `--seconds` (speakers not used in training, a fixed seed) as one
16-bit mono WAV, streams the .rill through the C library on each window's features
(mel_distance.measure: features.py, then the library in 256-sample blocks) and writes
assets/speech/vocoder_16k.metrics.json: the training run's figures plus the clip's."""

import argparse
import json
import pathlib
import shutil
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "capi" / "python"))
sys.path.insert(0, str(ROOT / "training" / "separation"))
sys.path.insert(0, str(HERE))

import rill  # noqa: E402

import data  # noqa: E402
import mel_distance  # noqa: E402
import quality  # noqa: E402  (training/separation/quality.py: the 16-bit clip writer)
import train  # noqa: E402

NAME = "vocoder_16k"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--examples", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.5)
    ap.add_argument("--out", default=str(ROOT / "assets" / "speech"))
    args = ap.parse_args()
    run = ROOT / "training" / "runs" / "vocoder"
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    held = data.make_utterances("heldout", 10, run / "cache", rate=train.SR)
    windows = train.heldout_examples(held, args.seconds, args.examples, seed=2024)
    clip = quality.write_clip(out / f"{NAME}_heldout.wav", np.concatenate(windows)[None],
                              train.SR)[0]
    n = len(windows[0])
    examples = [[i * n, n] for i in range(args.examples)]
    shutil.copyfile(run / f"{NAME}.rill", out / f"{NAME}.rill")
    lsd, l1 = mel_distance.measure(rill.load(str(out / f"{NAME}.rill")), clip, examples)
    metrics = json.loads((run / f"{NAME}.metrics.json").read_text())
    metrics["clip"] = {"file": f"{NAME}_heldout.wav", "examples": examples, "block": 256,
                       "lsd_db": lsd, "log_mel_l1": l1}
    (out / f"{NAME}.metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    print(f"{NAME}: held-out clip ({args.examples} x {args.seconds:g} s) log-mel spectral "
          f"distance {lsd:.2f} dB, log-mel L1 {l1:.3f}")


if __name__ == "__main__":
    main()
