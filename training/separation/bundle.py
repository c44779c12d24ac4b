#!/usr/bin/env python3
"""Copies a trained speech model into assets/speech/ with a held-out clip and its measured
quality (the figure tests/python/test_bundled_speech.py checks):

    /usr/bin/python3 training/separation/bundle.py --task separate   # or --task enhance
    /usr/bin/python3 training/separation/bundle.py --task separate \
        --run training/runs/separation_lookahead --name separator_8k_lookahead
    /usr/bin/python3 training/separation/bundle.py --task separate \
        --run training/runs/separation_la32 --name separator_8k_lookahead128

Reads <run>/<model>.rill (default run: training/runs/<separation|enhancement>) and its metrics
JSON (written by train.py), makes `--examples` held-out examples of `--seconds` each (voices and
noise clips not used in training, a fixed seed), writes them as one 16-bit WAV (channel 0 the
input, then the reference sources; one clip per task, shared by the task's models), streams the
.rill through the C library on that clip (quality.measure) and writes
assets/speech/<name>.metrics.json: the training run's figures plus the clip's."""

import argparse
import json
import pathlib
import random
import shutil
import sys

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "capi" / "python"))
sys.path.insert(0, str(HERE))

import rill  # noqa: E402

import data  # noqa: E402
import quality  # noqa: E402
import train  # noqa: E402

NAMES = {"separate": "separator_8k", "enhance": "enhancer_8k"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=sorted(train.TASKS), required=True)
    ap.add_argument("--examples", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=2.5)
    ap.add_argument("--out", default=str(ROOT / "assets" / "speech"))
    ap.add_argument("--run", help="the training run's folder (default training/runs/<task's>)")
    ap.add_argument("--name", help="the bundled model's name (default: the task's, "
                                   f"{sorted(NAMES.values())})")
    args = ap.parse_args()
    _, folder, model_file, _ = train.TASKS[args.task]
    run = pathlib.Path(args.run) if args.run else ROOT / "training" / "runs" / folder
    out, name, clip_name = pathlib.Path(args.out), args.name or NAMES[args.task], NAMES[args.task]
    out.mkdir(parents=True, exist_ok=True)
    cache = ROOT / "training" / "runs" / folder / "cache"
    held = data.make_utterances("heldout", 10, cache)
    noises = data.make_noises("heldout", 40, cache) if args.task == "enhance" else None
    segment = int(args.seconds * data.SAMPLE_RATE)
    mix, src = train.Batches(args.task, held, noises)(random.Random(2024), segment, args.examples)
    clip = np.concatenate([np.concatenate([m, s]) for m, s in zip(mix, src)], axis=1)
    clip = quality.write_clip(out / f"{clip_name}_heldout.wav", clip, data.SAMPLE_RATE)
    examples = [[i * segment, segment] for i in range(args.examples)]
    shutil.copyfile(run / model_file, out / f"{name}.rill")
    sdri, sdr = quality.measure(rill.load(str(out / f"{name}.rill")), clip, examples)
    metrics = json.loads((run / model_file).with_suffix(".metrics.json").read_text())
    metrics["clip"] = {"file": f"{clip_name}_heldout.wav", "examples": examples, "block": 256,
                       "si_sdr_improvement_db": sdri, "si_sdr_db": sdr}
    (out / f"{name}.metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    print(f"{name}: held-out clip ({args.examples} x {args.seconds:g} s) SI-SDR {sdr:.2f} dB, "
          f"improvement {sdri:.2f} dB")


if __name__ == "__main__":
    main()
