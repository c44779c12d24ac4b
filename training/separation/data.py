"""Two-speaker mixtures synthesised locally (nothing is downloaded): utterances from espeak-ng
(one voice per "speaker": language, variant, speed and pitch), resampled to 8 kHz by sox, cached
under training/runs/separation/. Train and held-out speakers differ (languages, variants and
random seeds).

A mixture is two utterances of different speakers, each cut to a random `segment` window,
scaled to a random relative level in [-5, 5] dB and summed; the targets are the scaled sources
(the wsj0-2mix recipe's shape, with synthetic speech)."""

import contextlib
import pathlib
import random
import re
import shutil
import subprocess
import tempfile

import numpy as np

SAMPLE_RATE = 8000
WORDS = ("signal river stream bright quiet model buffer sound voice guitar tape warm noise "
         "seven music random winter orange little engine station moment garden silver pocket "
         "window paper dancing morning evening yellow thunder gentle rapid hollow crystal "
         "distant velvet copper marble shadow lantern harbor meadow canyon forty apple seventy "
         "twelve number below above travel careful simple people water letter").split()
# Speakers are espeak-ng language x voice-variant pairs at a random speed and pitch. Held-out
# speakers use languages AND variants that no training speaker uses.
TRAIN_LANGUAGES = ["en", "en-us", "de", "fr-fr", "es", "it", "nl", "pl", "cs", "ru", "fi", "hu",
                   "el", "tr", "id", "ro"]
TRAIN_VARIANTS = ["m1", "m2", "m3", "m4", "m7", "m8", "f1", "f2", "f4", "adam", "Alex", "Andy",
                  "Annie", "aunty", "belinda", "benjamin", "boris", "caleb", "david", "edward",
                  "gustave", "iven", "john", "linda", "max", "michel", "miguel", "paul", "pedro",
                  "quincy", "rob", "robert", "steph", "victor", "zac", "norbert"]
# The wide training split adds languages that are neither held out nor close kin of a held-out
# one (no Norwegian, Serbian, Bosnian, Slovenian or Galician): more phonetic variety per variant.
EXTRA_LANGUAGES = ["af", "ca", "cy", "et", "eu", "ga", "is", "lv", "lt", "mt", "ms", "sq", "sw",
                   "tn", "vi", "eo", "la", "ia", "haw", "mi", "en-029", "en-gb-x-rp", "es-419",
                   "fr-be"]
HELDOUT_LANGUAGES = ["pt", "sv", "da", "sk", "hr", "en-gb-scotland"]
HELDOUT_VARIANTS = ["m5", "m6", "f3", "f5", "Andrea", "antonio", "ed", "Henrique", "Hugo", "Jacky",
                    "Lee", "Marco", "Mario", "Mike"]
# The random-voice training split: the wide split's languages, each speaker with a voice variant
# of its own drawn at random (random_variant: pitch, vocal-tract length, formants, voice quality),
# written as an espeak-ng variant file into a copy of espeak-ng's data (random_voice_data). No
# held-out variant is used.
RANDOM_VARIANT = "rill_random"
# Default speaker counts. The first separator trained on 96 speakers and scored 5.4 dB on them
# but 3.0 dB on held-out speakers: more training speakers narrow that gap.
SPEAKERS = {"train": 96, "train-wide": 1152, "train-random": 2304, "heldout": 12, "smoke": 4}
SEEDS = {"train": 1, "train-wide": 4, "train-random": 5, "heldout": 2, "smoke": 3}  # per split


def _run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def utterance(rng, speaker, tmp, rate=SAMPLE_RATE, espeak_path=None):
    """One sentence by `speaker` = (voice, speed, pitch): float32 at `rate`, peak 1; espeak_path:
    the folder holding the espeak-ng-data to use (default: the system's)."""
    voice, speed, pitch = speaker
    words = " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12)))
    wav, raw = tmp / "u.wav", tmp / "u.raw"
    path = [f"--path={espeak_path}"] if espeak_path else []
    _run(["espeak-ng", *path, "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(wav),
          words])
    _run(["sox", "-R", str(wav), "-r", str(rate), "-c", "1", "-e", "floating-point",
          "-b", "32", "-t", "raw", str(raw)])
    x = np.fromfile(raw, dtype="<f4")
    x = x - float(np.mean(x))
    return (x / (float(np.max(np.abs(x))) or 1.0)).astype(np.float32)


def random_variant(rng, name):
    """The text of an espeak-ng voice variant file (espeak-ng docs/voices.md) for a random
    speaker: a base pitch and range in a human speaking range (75-150 Hz lower voices, 150-250 Hz
    higher ones), formant frequencies scaled together by a vocal-tract length factor (shorter
    tracts: higher formants) with a small independent jitter each, random formant heights and
    widths, and at random some roughness, breath, flutter, voicing level and echo."""
    higher = rng.random() < 0.5
    base = rng.uniform(150, 250) if higher else rng.uniform(75, 150)
    tract = rng.uniform(1.0, 1.2) if higher else rng.uniform(0.85, 1.05)
    top = base * rng.uniform(1.25, 1.8)
    lines = ["language variant", f"name {name}", f"pitch {base:.0f} {top:.0f}"]
    for k in range(9):
        freq = 100 * (tract if 1 <= k <= 5 else 1.0) * rng.uniform(0.94, 1.06)
        height, width = rng.uniform(70, 130), rng.uniform(70, 160)
        lines.append(f"formant {k} {freq:.0f} {height:.0f} {width:.0f}")
    lines.append(f"consonants {rng.randint(80, 150)}")
    if rng.random() < 0.4:
        lines.append(f"roughness {rng.randint(0, 5)}")
    if rng.random() < 0.25:
        lines.append("breath " + " ".join(str(rng.randint(0, 6)) for _ in range(8)))
    if rng.random() < 0.3:
        lines.append(f"flutter {rng.randint(0, 20)}")
    if rng.random() < 0.3:
        lines.append(f"voicing {rng.randint(60, 160)}")
    if rng.random() < 0.2:
        lines.append(f"echo {rng.randint(50, 200)} {rng.randint(5, 20)}")
    return "\n".join(lines) + "\n"


def espeak_data():
    """The folder of espeak-ng's installed data, as `espeak-ng --version` names it ("Data at:")."""
    out = subprocess.run(["espeak-ng", "--version"], check=True, capture_output=True, text=True)
    found = re.search(r"Data at:\s*(\S+)", out.stdout)
    if not found:
        raise RuntimeError(f"espeak-ng --version does not say where its data is: {out.stdout!r}")
    return pathlib.Path(found.group(1))


def random_voice_data(cache_dir):
    """A copy of espeak-ng's data under cache_dir to hold the random variants; returns the folder
    to pass as espeak-ng --path. espeak-ng lists at most 350 voices and variants, so a variant
    file is only there while its speaker speaks (random_voice)."""
    root = pathlib.Path(cache_dir) / "espeak_random"
    if not (root / "espeak-ng-data" / "phontab").exists():
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(espeak_data(), root / "espeak-ng-data")
    return root


@contextlib.contextmanager
def random_voice(root, seed, index):
    """Writes random variant `index` of `seed` (RANDOM_VARIANT + index, random_variant) into the
    espeak-ng data at `root` for the duration of the block."""
    name = f"{RANDOM_VARIANT}{index}"
    path = root / "espeak-ng-data" / "voices" / "!v" / name
    path.write_text(random_variant(random.Random(seed * 1_000_003 + index), name))
    try:
        yield
    finally:
        path.unlink()


def speakers(split, count=None):
    """(voice, speed, pitch) per speaker: `count` (default SPEAKERS[split]) distinct
    language+variant pairs of the split; train-random: speaker i speaks a random language of the
    wide split with random variant i (random_voice)."""
    rng = random.Random(SEEDS[split] + 10)
    if split == "train-random":
        languages = TRAIN_LANGUAGES + EXTRA_LANGUAGES
        return [(f"{rng.choice(languages)}+{RANDOM_VARIANT}{i}", rng.randint(120, 210),
                 rng.randint(25, 75)) for i in range(count or SPEAKERS[split])]
    langs, variants = {"heldout": (HELDOUT_LANGUAGES, HELDOUT_VARIANTS),
                       "train-wide": (TRAIN_LANGUAGES + EXTRA_LANGUAGES, TRAIN_VARIANTS)}.get(
                           split, (TRAIN_LANGUAGES, TRAIN_VARIANTS))
    pairs = rng.sample([f"{l}+{v}" for l in langs for v in variants],
                       count or SPEAKERS[split])
    return [(v, rng.randint(120, 210), rng.randint(25, 75)) for v in pairs]


def make_utterances(split, per_speaker, cache_dir, count=None, rate=SAMPLE_RATE):
    """{speaker index: [utterances]} of `count` speakers (default SPEAKERS[split]) at `rate`,
    cached as one .npz per split, size and rate."""
    spk = speakers(split, count)
    name = f"{split}_{per_speaker}" if count in (None, SPEAKERS[split]) else \
        f"{split}_{len(spk)}x{per_speaker}"
    name += "" if rate == SAMPLE_RATE else f"_{rate}hz"
    cache = pathlib.Path(cache_dir) / f"{name}.npz"
    if cache.exists():
        z = np.load(cache)
        return {i: [z[f"{i}_{j}"] for j in range(per_speaker)] for i in range(len(spk))}
    rng = random.Random(SEEDS[split])
    voices = random_voice_data(cache_dir) if split == "train-random" else None
    out = {}
    with tempfile.TemporaryDirectory() as t:
        for i, s in enumerate(spk):
            with random_voice(voices, SEEDS[split], i) if voices else contextlib.nullcontext():
                out[i] = [utterance(rng, s, pathlib.Path(t), rate, voices)
                          for _ in range(per_speaker)]
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.savez(cache, **{f"{i}_{j}": u for i, us in out.items() for j, u in enumerate(us)})
    return out


def _resample(x, n):
    """x resampled to n samples through its spectrum: bins above the shorter length's Nyquist
    dropped, or zeros above the longer one's added."""
    spectrum = np.fft.rfft(x)
    keep = min(len(spectrum), n // 2 + 1)
    out = np.zeros(n // 2 + 1, np.complex128)
    out[:keep] = spectrum[:keep]
    return (np.fft.irfft(out, n) * (n / len(x))).astype(np.float32)


def _window(rng, x, n, speed=1.0):
    """A random n-sample window of x (zero-padded at a random offset when x is shorter); with
    speed != 1 the window spans n * speed samples of x, resampled to n (band-limited, by FFT):
    pitch, formants and tempo all scale by `speed`, a new voice from the same speaker."""
    if speed != 1.0:
        return _resample(_window(rng, x, round(n * speed)), n)
    if len(x) >= n:
        o = rng.randint(0, len(x) - n)
        return x[o:o + n]
    y = np.zeros(n, np.float32)
    o = rng.randint(0, n - len(x))
    y[o:o + len(x)] = x
    return y


def _speed(rng, perturb):
    return rng.uniform(1 - perturb, 1 + perturb) if perturb else 1.0


def mixture(rng, utts, segment, perturb=0.0):
    """(mix [T], sources [2, T]) from two different speakers at a random relative level; each
    source's speed (pitch, formants and tempo) scaled by a factor uniform in 1 +- perturb."""
    a, b = rng.sample(sorted(utts), 2)
    s1 = _window(rng, rng.choice(utts[a]), segment, _speed(rng, perturb))
    s2 = _window(rng, rng.choice(utts[b]), segment, _speed(rng, perturb))
    rel_db = rng.uniform(-5, 5)
    p1, p2 = float(np.mean(s1 ** 2)) + 1e-8, float(np.mean(s2 ** 2)) + 1e-8
    s2 = s2 * np.sqrt(p1 / p2 * 10 ** (rel_db / 10))
    src = np.stack([s1, s2])
    gain = rng.uniform(0.2, 0.9) / (float(np.max(np.abs(src.sum(0)))) or 1.0)
    src = (src * gain).astype(np.float32)
    return src.sum(0), src


def batch(rng, utts, segment, size, perturb=0.0):
    mixes, srcs = zip(*(mixture(rng, utts, segment, perturb) for _ in range(size)))
    return np.stack(mixes)[:, None], np.stack(srcs)   # [B, 1, T], [B, 2, T]


# Noise for the enhancement task: sox-synthesised clips (nothing is downloaded). A clip is one
# or two sources summed: coloured noise, hum with harmonics, plucked notes or a tone through a
# random band-pass, tremolo or echo. Train and held-out clips are different random draws.
NOISE_SECONDS = 4


def _noise_source(rng):
    kind = rng.choice(["whitenoise", "pinknoise", "brownnoise", "hum", "pluck", "tone"])
    if kind.endswith("noise"):
        return ["synth", str(NOISE_SECONDS), kind]
    if kind == "hum":
        f = rng.choice([50, 60]) * rng.choice([1, 2, 3])
        return ["synth", str(NOISE_SECONDS), "sine", str(f), "sine", str(2 * f), "sine", str(3 * f)]
    if kind == "pluck":
        notes = [str(rng.choice([110, 147, 196, 220, 262, 330, 392, 440, 523])) for _ in range(3)]
        return ["synth", str(NOISE_SECONDS), "pluck", notes[0], "pluck", notes[1], "pluck", notes[2]]
    shape = rng.choice(["square", "sawtooth", "triangle"])
    f0, f1 = rng.randint(80, 600), rng.randint(200, 3000)
    return ["synth", str(NOISE_SECONDS), shape, f"{f0}:{f1}"]


def _noise_effects(rng):
    fx = rng.choice([[], ["bandpass", str(rng.randint(200, 3000)), str(rng.uniform(0.3, 2.0))],
                     ["tremolo", str(rng.uniform(1, 8)), str(rng.randint(30, 90))],
                     ["echo", "0.8", "0.7", str(rng.randint(40, 300)), "0.4"],
                     ["lowpass", str(rng.randint(300, 2500))]])
    return fx


def noise_clip(rng, tmp):
    raw = tmp / "n.raw"
    _run(["sox", "-R", "-n", "-r", str(SAMPLE_RATE), "-c", "1", "-e", "floating-point", "-b", "32",
          "-t", "raw", str(raw), *_noise_source(rng), *_noise_effects(rng), "trim", "0",
          str(NOISE_SECONDS)])
    x = np.fromfile(raw, dtype="<f4")
    x = x - float(np.mean(x))
    return (x / (float(np.max(np.abs(x))) or 1.0)).astype(np.float32)


def make_noises(split, count, cache_dir):
    """[clips] of NOISE_SECONDS each, cached as one .npy per split and count."""
    cache = pathlib.Path(cache_dir) / f"noise_{split}_{count}.npy"
    if cache.exists():
        return list(np.load(cache))
    rng = random.Random({"train": 21, "heldout": 22, "smoke": 23}[split])
    with tempfile.TemporaryDirectory() as t:
        clips = [noise_clip(rng, pathlib.Path(t)) for _ in range(count)]
    n = min(len(c) for c in clips)
    clips = np.stack([c[:n] for c in clips])
    cache.parent.mkdir(parents=True, exist_ok=True)
    np.save(cache, clips)
    return list(clips)


def noisy(rng, utts, noises, segment):
    """(noisy [T], clean [1, T]): one utterance and one noise clip at an SNR in [-5, 10] dB."""
    s = _window(rng, rng.choice(utts[rng.choice(sorted(utts))]), segment)
    n = _window(rng, rng.choice(noises), segment)
    snr = rng.uniform(-5, 10)
    ps, pn = float(np.mean(s ** 2)) + 1e-8, float(np.mean(n ** 2)) + 1e-8
    n = n * np.sqrt(ps / pn / 10 ** (snr / 10))
    gain = rng.uniform(0.2, 0.9) / (float(np.max(np.abs(s + n))) or 1.0)
    return ((s + n) * gain).astype(np.float32), (s * gain).astype(np.float32)[None]


def noisy_batch(rng, utts, noises, segment, size):
    mixes, clean = zip(*(noisy(rng, utts, noises, segment) for _ in range(size)))
    return np.stack(mixes)[:, None], np.stack(clean)   # [B, 1, T], [B, 1, T]
