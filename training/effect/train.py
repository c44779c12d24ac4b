#!/usr/bin/env python3
"""Trains the bundled drive-pedal model (DriveTCN) on locally synthesised audio and exports it.

    /usr/bin/python3 training/effect/train.py --minutes 22          # full run (resumes)
    /usr/bin/python3 training/effect/train.py --smoke               # seconds-long check

Checkpoints go to training/runs/effect/ every minute; rerunning resumes from the last one. The
learning rate follows a cosine over the time budget, so a resumed run ends where a single one
would. At the end: held-out ESR at drive 0, 0.5 and 1, assets/effect/drive_tcn.rill, clip.wav and
the measured figures in assets/effect/metrics.json."""

import argparse
import json
import math
import pathlib
import random
import sys
import time

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from data import make_corpus  # noqa: E402
from effect_dsp import SAMPLE_RATE, apply_effect  # noqa: E402
from export_model import export  # noqa: E402
from model import DriveTCN  # noqa: E402

ROOT = HERE.parents[1]


def esr(y, target):
    return float(np.sum((y - target) ** 2) / max(np.sum(target ** 2), 1e-12))


def batch(corpus, rng, size, seg, ctx):
    xs, ys, ds = [], [], []
    for _ in range(size):
        start = rng.randint(0, len(corpus) - seg - 2 * ctx - 1)
        x = corpus[start:start + seg + 2 * ctx]
        d = rng.choice([0.0, 1.0]) if rng.random() < 0.2 else rng.random()
        xs.append(x)
        ys.append(apply_effect(x, d))
        ds.append(d)
    return (torch.from_numpy(np.stack(xs))[:, None], torch.from_numpy(np.stack(ys))[:, None],
            torch.tensor(ds, dtype=torch.float32))


@torch.no_grad()
def evaluate(model, corpus, drives=(0.0, 0.5, 1.0)):
    model.eval()
    out = {}
    for d in drives:
        target = apply_effect(corpus, d)
        y = model(torch.from_numpy(corpus)[None, None], torch.tensor([d]))[0, 0].numpy()
        out[f"{d:g}"] = esr(y, target)
    model.train()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=22.0)
    ap.add_argument("--smoke", action="store_true", help="tiny run for tests")
    ap.add_argument("--runs", default=str(ROOT / "training" / "runs" / "effect"))
    ap.add_argument("--out", default=str(ROOT / "assets" / "effect"))
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(0)
    runs = pathlib.Path(args.runs)
    runs.mkdir(parents=True, exist_ok=True)
    if args.smoke:
        train_corpus = make_corpus("smoke", 4, runs)
        held = train_corpus[-SAMPLE_RATE:]
        budget, batch_size, seg, lr0 = 20.0, 4, 2048, 4e-3
    else:
        train_corpus = make_corpus("train", 180, runs)
        held = make_corpus("heldout", 20, runs)
        budget, batch_size, seg, lr0 = args.minutes * 60, 16, 4096, 4e-3
    model = DriveTCN()
    ctx = model.latency
    opt = torch.optim.Adam(model.parameters(), lr=lr0)
    ckpt_path = runs / ("smoke.pt" if args.smoke else "checkpoint.pt")
    state = {"elapsed": 0.0, "step": 0, "losses": []}
    if ckpt_path.exists() and not args.smoke:
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        print(f"resumed at step {state['step']}, {state['elapsed'] / 60:.1f} min", flush=True)
    rng = random.Random(1000 + state["step"])
    last_save = time.time()
    t0 = time.time() - state["elapsed"]
    while time.time() - t0 < budget:
        frac = (time.time() - t0) / budget
        for g in opt.param_groups:
            g["lr"] = lr0 * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        x, y, d = batch(train_corpus, rng, batch_size, seg, ctx)
        pred = model(x, d)[..., ctx:-ctx]
        target = y[..., ctx:-ctx]
        loss = ((pred - target) ** 2).sum() / (target ** 2).sum().clamp_min(1e-8)
        opt.zero_grad()
        loss.backward()
        opt.step()
        state["step"] += 1
        state["losses"].append(float(loss))
        if state["step"] % 50 == 0:
            recent = np.mean(state["losses"][-50:])
            print(f"step {state['step']} {(time.time() - t0) / 60:.1f} min loss(ESR) {recent:.4f}",
                  flush=True)
        if time.time() - last_save > 60 and not args.smoke:
            state["elapsed"] = time.time() - t0
            torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state},
                       ckpt_path)
            last_save = time.time()
    state["elapsed"] = time.time() - t0
    if not args.smoke:
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "state": state}, ckpt_path)

    metrics = {"heldout_esr": evaluate(model, held), "steps": state["step"],
               "train_minutes": round(state["elapsed"] / 60, 1),
               "parameters": sum(p.numel() for p in model.parameters()),
               "latency_frames": model.latency, "receptive_field": model.receptive_field,
               "first_loss": float(np.mean(state["losses"][:10])),
               "last_loss": float(np.mean(state["losses"][-10:]))}
    print(json.dumps(metrics, indent=1), flush=True)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"description": "Drive pedal emulation: non-causal dilated TCN with a FiLM 'drive' "
                           "knob, trained by Rill on synthesised speech and instruments",
            "license": "MIT", "source": "training/effect/train.py (Rill)"}
    name = "smoke" if args.smoke else "drive_tcn"
    export(model, out / f"{name}.rill", meta)
    (out / f"{name}.metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    if not args.smoke:
        torch.save(model.state_dict(), runs / "final_state_dict.pt")
    return metrics


if __name__ == "__main__":
    main()
