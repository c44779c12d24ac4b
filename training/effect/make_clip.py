#!/usr/bin/env python3
"""Writes assets/effect/clip.wav: 5 s of held-out material (a voice not used in training, then
plucked and square-wave notes), 44.1 kHz mono 16-bit, made with espeak-ng and sox (-R: repeatable
dither, so a rerun writes the same bytes). train.py calls write_clip() after training."""

import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import HELDOUT_VOICES, SAMPLE_RATE  # noqa: E402

OUT = HERE.parents[1] / "assets" / "effect" / "clip.wav"


def write_clip(path=OUT):
    with tempfile.TemporaryDirectory() as t:
        t = pathlib.Path(t)
        subprocess.run(["espeak-ng", "-v", HELDOUT_VOICES[0], "-s", "150", "-w", str(t / "v.wav"),
                        "Streaming neural audio, one buffer at a time."], check=True)
        subprocess.run(["sox", "-R", str(t / "v.wav"), "-r", str(SAMPLE_RATE), "-c", "1",
                        str(t / "voice.wav"), "norm", "-3"], check=True)
        notes = []
        for i, (kind, f) in enumerate([("pluck", 110), ("pluck", 164.8), ("square", 220),
                                       ("pluck", 146.8), ("sawtooth", 98)]):
            n = t / f"n{i}.wav"
            subprocess.run(["sox", "-R", "-n", "-r", str(SAMPLE_RATE), "-c", "1", str(n), "synth",
                            "0.45", kind, str(f), "fade", "0.005", "0.45", "0.3", "gain", "-8"],
                           check=True)
            notes.append(str(n))
        subprocess.run(["sox", "-R", str(t / "voice.wav"), *notes, "-b", "16", str(t / "clip.wav"),
                        "trim", "0", "5"], check=True)
        path = pathlib.Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((t / "clip.wav").read_bytes())
    print(f"wrote {path}")
    return path


def main():
    write_clip(OUT)


if __name__ == "__main__":
    main()
