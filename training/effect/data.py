"""Training data, synthesised locally from Debian packages (nothing is downloaded):
speech from espeak-ng (many voices, variants, speeds and pitches, sentences from word lists) and
instrument-like audio from sox's synth (plucked strings, square/saw/sine notes, chords, tremolo,
noise bursts). All mono at 44.1 kHz, normalised to a random level, cached under training/runs/.
Train and held-out material differ in voices and random seeds. sox runs with -R (repeatable: its
noise generators are seeded), so a rerun makes the same audio."""

import pathlib
import random
import subprocess
import tempfile

import numpy as np

from effect_dsp import SAMPLE_RATE

WORDS = ("signal river stream bright quiet model buffer sound voice guitar tape warm noise "
         "seven music random winter orange little engine station moment garden silver pocket "
         "window paper dancing morning evening yellow thunder gentle rapid hollow crystal "
         "distant velvet copper marble shadow lantern harbor meadow canyon").split()
TRAIN_VOICES = ["en", "en+m3", "en+f2", "en+f4", "de", "fr", "es+m2", "it+f3", "en-us+m7",
                "nl", "pl+f1"]
HELDOUT_VOICES = ["en+f3", "pt+m1", "sv+f5"]


def _run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _read_raw(path):
    return np.fromfile(path, dtype="<f4")


def _sox_to_raw(src_args, out, extra=()):
    _run(["sox", "-R", *src_args, "-r", str(SAMPLE_RATE), "-c", "1", "-e", "floating-point",
          "-b", "32", "-t", "raw", str(out), *extra])


def speech(rng, voice, tmp):
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
    wav = tmp / "s.wav"
    _run(["espeak-ng", "-v", voice, "-s", str(rng.randint(120, 220)), "-p",
          str(rng.randint(20, 80)), "-w", str(wav), words])
    raw = tmp / "s.raw"
    _sox_to_raw([str(wav)], raw)
    return _read_raw(raw)


def instrument(rng, tmp):
    raw = tmp / "i.raw"
    kind = rng.choice(["pluck", "square", "sawtooth", "sine", "triangle"])
    notes = []
    for _ in range(rng.randint(3, 8)):
        dur = rng.uniform(0.15, 0.8)
        f = 55.0 * 2 ** (rng.randint(0, 42) / 12.0)
        chord = [f] + ([f * 2 ** (4 / 12), f * 2 ** (7 / 12)] if rng.random() < 0.3 else [])
        args = ["-n", "-r", str(SAMPLE_RATE), "-c", "1", "-t", "raw", "-e", "floating-point",
                "-b", "32", str(raw), "synth", f"{dur:.3f}"]
        for fc in chord:
            args += [kind, f"{fc:.2f}"]
        extra = ["fade", "0.005", f"{dur:.3f}", f"{dur * 0.6:.3f}"]
        if rng.random() < 0.3:
            extra += ["tremolo", f"{rng.uniform(3, 8):.1f}", "40"]
        _run(["sox", "-R", *args, "remix", "-", *extra])
        notes.append(_read_raw(raw))
    if rng.random() < 0.2:
        _run(["sox", "-R", "-n", "-r", str(SAMPLE_RATE), "-c", "1", "-t", "raw", "-e",
              "floating-point", "-b", "32", str(raw), "synth", "0.3", "pinknoise",
              "fade", "0.01", "0.3", "0.2"])
        notes.append(_read_raw(raw))
    return np.concatenate(notes)


def make_corpus(split, seconds, cache_dir):
    """Returns one long float32 signal of about `seconds` seconds (cached)."""
    cache = pathlib.Path(cache_dir) / f"{split}_{seconds}.f32"
    if cache.exists():
        return np.fromfile(cache, dtype=np.float32)
    rng = random.Random({"train": 1, "heldout": 2, "smoke": 3}[split])
    voices = HELDOUT_VOICES if split == "heldout" else TRAIN_VOICES
    parts, total = [], 0
    with tempfile.TemporaryDirectory() as t:
        tmp = pathlib.Path(t)
        while total < seconds * SAMPLE_RATE:
            if rng.random() < 0.55:
                x = speech(rng, rng.choice(voices), tmp)
            else:
                x = instrument(rng, tmp)
            x = x - float(np.mean(x))
            peak = float(np.max(np.abs(x))) or 1.0
            x = x / peak * rng.uniform(0.1, 0.9)  # random level: the effect is level dependent
            parts.append(x.astype(np.float32))
            parts.append(np.zeros(rng.randint(100, 2000), np.float32))
            total += len(x)
    corpus = np.concatenate(parts)
    cache.parent.mkdir(parents=True, exist_ok=True)
    corpus.tofile(cache)
    return corpus
