#!/usr/bin/env python3
"""Trains the bundled drive-pedal model (DriveTCN) on locally synthesised audio and exports it.

    /usr/bin/python3 training/effect/train.py --minutes 25 --threads 1  # the bundled model's run
    /usr/bin/python3 training/effect/train.py --smoke         # seconds-long check (tests)

Loss: ESR plus ESR of first-order pre-emphasised signals (1 - 0.85 z^-1), on random segments
with a random drive each. The learning rate follows a cosine over the wall-clock budget;
checkpoints go to training/runs/effect/ every two minutes and a rerun resumes from the last one
(a finished run only re-evaluates and re-exports). At the end: held-out ESR at drive 0, 0.5 and
1 (torch) and at 0, 0.25, .., 1 through the C library (evaluate.py), assets/effect/drive_tcn.rill
checked against the torch model streamed in irregular blocks, clip.wav (make_clip.py),
drive_tcn.metrics.json and PROVENANCE.md. --threads 1 because on a 2-core machine shared with
compilers two torch threads ran up to 6x slower per step than one (spinning on the busy cores)."""

import argparse
import json
import math
import os
import pathlib
import random
import subprocess
import sys
import textwrap
import time

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import make_corpus  # noqa: E402
from effect_dsp import SAMPLE_RATE, apply_effect  # noqa: E402
from export_model import export, verify  # noqa: E402
from make_clip import write_clip  # noqa: E402
from model import CHANNELS, DILATIONS, DriveTCN  # noqa: E402

ROOT = HERE.parents[1]
PRE_EMPHASIS = 0.85
META = {"description": "Drive pedal emulation (pre-emphasis, asymmetric tanh clipper, tone "
                       "low-pass): non-causal dilated TCN, FiLM-conditioned on the 'drive' knob "
                       "in every block, trained on synthesised speech and instruments",
        "license": "MIT",
        "source": "Rill project, training/effect/train.py (see assets/effect/PROVENANCE.md)"}


def esr(y, target):
    return float(np.sum((y - target) ** 2) / max(np.sum(target ** 2), 1e-12))


def loss_fn(pred, target):
    def ratio(a, b):
        return ((a - b) ** 2).sum() / (b ** 2).sum().clamp_min(1e-8)

    def emph(v):
        return v[..., 1:] - PRE_EMPHASIS * v[..., :-1]

    return ratio(pred, target) + ratio(emph(pred), emph(target))


def batch(corpus, rng, size, seg, ctx):
    xs, ys, ds = [], [], []
    for _ in range(size):
        start = rng.randint(0, len(corpus) - seg - 2 * ctx - 1)
        x = corpus[start:start + seg + 2 * ctx]
        d = rng.choice([0.0, 1.0]) if rng.random() < 0.2 else rng.random()
        xs.append(x)
        ys.append(apply_effect(x, d))
        ds.append([d])
    return (torch.from_numpy(np.stack(xs))[:, None], torch.from_numpy(np.stack(ys))[:, None],
            torch.tensor(ds, dtype=torch.float32))


@torch.no_grad()
def evaluate(model, corpus, drives=(0.0, 0.5, 1.0)):
    model.eval()
    out = {}
    for d in drives:
        y = model(torch.from_numpy(corpus)[None, None], torch.tensor([[float(d)]]))[0, 0].numpy()
        out[f"{d:g}"] = round(esr(y, apply_effect(corpus, d)), 5)
    model.train()
    return out


def package_version(name):
    try:
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                              text=True).stdout.strip() or "unknown"
    except OSError:
        return "unknown"


def wav_read(path):
    import wave
    with wave.open(str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def write_provenance(path, m, command):
    eng = m.get("rill_heldout_esr")
    if eng:
        drives = list(eng)
        quality = ("Held-out audio streamed through the Rill engine (C library, 512-frame blocks) "
                   "against the DSP target:\n\n"
                   f"| drive | {' | '.join(drives)} |\n|---|{'---|' * len(drives)}\n"
                   f"| error-to-signal ratio | {' | '.join(f'{eng[d]:.4f}' for d in drives)} |\n"
                   f"| in dB | {' | '.join(f'{10 * math.log10(eng[d]):.1f}' for d in drives)} |"
                   "\n\n")
    else:
        quality = "The C library was not available, so nothing was measured through it.\n\n"
    quality += ("The PyTorch model offline gives " +
                ", ".join(f"{v:.4f}" for v in m["heldout_esr"].values()) + " at drive " +
                ", ".join(m["heldout_esr"]) + "; on `clip.wav`: " +
                ", ".join(f"{v:.4f}" for v in m["clip_esr"].values()) + ".")
    check = m.get("rill_check")
    if check:
        diffs = ", ".join(f"{v:.1e} (drive {d})" for d, v in check["max_abs_diff"].items())
        quality += (f" Streamed in blocks of varying size (1, 7, 64, 1024, 513, 128, then random "
                    f"1..1024 frames) over {m['rill_check_seconds']:g} s of held-out audio, the "
                    f"library's output equals the torch model's to max |difference| {diffs}, "
                    f"outputs peaking near {max(check['max_abs_output'].values()):.2f}; the "
                    f"library reports {check['latency_frames']} frames of latency.")
    ms = 1000.0 * m["latency_frames"] / SAMPLE_RATE
    text = f"""# assets/effect: the bundled drive-pedal model

Made by this project; license MIT (the project's own). Nothing here was downloaded.

| file | what |
|---|---|
| `drive_tcn.rill` | non-causal dilated TCN, {CHANNELS} channels, {len(DILATIONS)} residual blocks \
(dilations {", ".join(map(str, DILATIONS))}; kernel 3, padding (d, d)), FiLM on the `drive` knob \
in every block, tanh; {m["parameters"]:,} weights, {m["rill_bytes"]:,} bytes, 44.1 kHz mono; \
latency {m["latency_frames"]} samples ({ms:.2f} ms), receptive field {m["receptive_field"]} \
samples |
| `clip.wav` | {m["clip_seconds"]:g} s, 44.1 kHz mono 16-bit: held-out espeak-ng voice \
(`en+f3`, not used in training) then sox-synthesised pluck / square / saw notes \
(`training/effect/make_clip.py`) |
| `drive_tcn.metrics.json` | the figures below, as measured |

## Target
`training/effect/effect_dsp.py`: pre-emphasis (0.5 * drive), asymmetric tanh clipper with gain
3 + 27 * drive dB and bias 0.25 * drive, one-pole tone low-pass at 12 kHz - 8 kHz * drive, output
x 0.7. Deterministic, float64.

## Model
`training/effect/model.py`, built from `rill.nn.Conv1d` (explicit (left, right) padding) and
`rill.nn.FiLM` (`weight [2C, 1]`, `bias [2C]`, driven by the model parameter `drive`), exported
by `training/effect/export_model.py` with rill.export's torch.fx graph builder: conv1d, film,
tanh and add nodes per docs/ops.md, parameter `drive` (0..1, default 0.5). The symmetric padding
is look-ahead: the engine streams it as {m["latency_frames"]} samples of output delay.

## Data
`training/effect/data.py`: espeak-ng {package_version("espeak-ng")} (Debian 12) sentences built \
from a word list in 11 training voices/variants (en, en+m3, en+f2, en+f4, de, fr, es+m2, it+f3, \
en-us+m7, nl, pl+f1) at random speeds and pitches, resampled to 44.1 kHz by SoX, and SoX \
{package_version("sox")} `synth` notes (pluck, square, sawtooth, sine, triangle; chords, tremolo, \
pink-noise bursts) at random levels: {m["train_seconds"]:g} s for training. Held out: \
{m["heldout_seconds"]:g} s from other voices (en+f3, pt+m1, sv+f5) and another seed. Targets are \
computed on the fly for each training segment with a random drive. espeak-ng is deterministic and \
SoX runs with -R (seeded noise), so a cache made by data.py (training/runs/effect/*.f32) \
regenerates bit for bit.

## Training
`{command}` on the 2-core development machine (Debian python3-torch {torch.__version__}, \
numpy {np.__version__}, {m["threads"]} torch thread(s), shared with compilers during the run): \
{m["steps"]:,} Adam steps of {m["batch"]} x {m["segment"]}-sample segments \
(+ {m["latency_frames"]} context samples each side, not scored), drive uniform in [0, 1] (20% \
exactly 0 or 1), loss = ESR + ESR of pre-emphasised signals (1-{PRE_EMPHASIS}z^-1), cosine \
learning rate 4e-3 -> 2e-4 over the wall-clock budget; checkpoints every two minutes, a rerun \
resumes (a finished run re-evaluates and re-exports). {m["train_minutes"]:g} minutes of \
training; the same script then measures, exports, checks and writes the clip and this file.

## Measured quality
ESR = sum((y - target)^2) / sum(target^2).

{quality}

Rerun `/usr/bin/python3 training/effect/evaluate.py` to measure the committed model again, and
`/usr/bin/python3 training/effect/train.py --smoke` for the seconds-long pipeline check
(tests/python/test_effect_training.py).
"""
    path.write_text(wrap_markdown(text))


def wrap_markdown(text, width=100):
    """Fills prose paragraphs to `width` columns; headings, tables and code stay as they are."""
    paras = []
    for para in text.strip("\n").split("\n\n"):
        lines = para.split("\n")
        head = [lines.pop(0)] if lines[0].startswith("#") else []
        if lines and not lines[0].startswith(("|", "```")):
            lines = textwrap.wrap(" ".join(lines), width, break_long_words=False,
                                  break_on_hyphens=False)
        paras.append("\n".join(head + lines))
    return "\n\n".join(paras) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=25.0, help="wall-clock training budget")
    ap.add_argument("--smoke", action="store_true", help="tiny run for tests")
    ap.add_argument("--runs", default=str(ROOT / "training" / "runs" / "effect"))
    ap.add_argument("--out", default=str(ROOT / "assets" / "effect"))
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default 2; 1 for --smoke, which runs beside builds)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads or (1 if args.smoke else 2))
    torch.manual_seed(0)
    runs, out = pathlib.Path(args.runs), pathlib.Path(args.out)
    runs.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    if args.smoke:
        corpus = make_corpus("smoke", 4, runs)
        train_corpus, held = corpus[:-SAMPLE_RATE], corpus[-SAMPLE_RATE:]
        budget, max_steps, batch_size, seg, lr0 = 20.0, 40, 4, 2048, 4e-3
        train_s, held_s = 3, 1
    else:
        train_s, held_s = 180, 20
        train_corpus = make_corpus("train", train_s, runs)
        held = make_corpus("heldout", held_s, runs)
        budget, max_steps, batch_size, seg, lr0 = args.minutes * 60, None, 16, 4096, 4e-3
    model = DriveTCN()
    ctx = model.latency
    opt = torch.optim.Adam(model.parameters(), lr=lr0)
    ckpt_path = runs / "checkpoint.pt"
    state = {"elapsed": 0.0, "step": 0, "losses": []}
    if ckpt_path.exists() and not args.smoke:
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        print(f"resumed at step {state['step']}, {state['elapsed'] / 60:.1f} min", flush=True)

    def save():
        state["elapsed"] = time.time() - t0
        tmp = ckpt_path.with_suffix(".tmp")
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, tmp)
        os.replace(tmp, ckpt_path)

    rng = random.Random(1000 + state["step"])
    t0 = time.time() - state["elapsed"]
    last_save = time.time()
    while time.time() - t0 < budget and (max_steps is None or state["step"] < max_steps):
        frac = (time.time() - t0) / budget
        if max_steps is not None:
            frac = max(frac, state["step"] / max_steps)
        for g in opt.param_groups:
            g["lr"] = lr0 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        x, y, d = batch(train_corpus, rng, batch_size, seg, ctx)
        loss = loss_fn(model(x, d)[..., ctx:-ctx], y[..., ctx:-ctx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        state["step"] += 1
        state["losses"].append(float(loss))
        if state["step"] % 50 == 0 or args.smoke and state["step"] % 10 == 0:
            recent = np.mean(state["losses"][-50:])
            print(f"step {state['step']} {(time.time() - t0) / 60:.1f} min "
                  f"loss {recent:.4f}", flush=True)
        if not args.smoke and time.time() - last_save > 120:
            save()
            last_save = time.time()
    if not args.smoke:
        save()
    state["elapsed"] = time.time() - t0
    model.eval()

    name = "smoke" if args.smoke else "drive_tcn"
    rill_path = out / f"{name}.rill"
    export(model, rill_path, META)
    check_s = 0.5 if args.smoke else 3.0
    m = {"heldout_esr": evaluate(model, held), "steps": state["step"],
         "train_minutes": round(state["elapsed"] / 60, 1), "budget_minutes": args.minutes,
         "threads": torch.get_num_threads(), "batch": batch_size, "segment": seg,
         "parameters": sum(p.numel() for p in model.parameters()),
         "latency_frames": model.latency, "receptive_field": model.receptive_field,
         "rill_bytes": rill_path.stat().st_size,
         "train_seconds": round(len(train_corpus) / SAMPLE_RATE, 1),
         "heldout_seconds": round(len(held) / SAMPLE_RATE, 1),
         "first_loss": float(np.mean(state["losses"][:10])),
         "last_loss": float(np.mean(state["losses"][-10:])),
         "rill_check": verify(rill_path, model, held[:int(check_s * SAMPLE_RATE)]),
         "rill_check_seconds": check_s}
    if not args.smoke:
        if m["rill_check"] is not None:
            from evaluate import engine_esr
            m["rill_heldout_esr"] = engine_esr(rill_path, held)
        clip = wav_read(write_clip(out / "clip.wav"))
        m["clip_seconds"] = round(len(clip) / SAMPLE_RATE, 2)
        m["clip_esr"] = evaluate(model, clip)
        write_provenance(out / "PROVENANCE.md", m,
                         " ".join(["/usr/bin/python3", "training/effect/train.py", *sys.argv[1:]]))
        torch.save(model.state_dict(), runs / "final_state_dict.pt")
    (out / f"{name}.metrics.json").write_text(json.dumps(m, indent=1) + "\n")
    print(json.dumps(m, indent=1), flush=True)
    return m


if __name__ == "__main__":
    main()
