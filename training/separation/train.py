#!/usr/bin/env python3
"""Trains a small causal Conv-TasNet (rill.nn.ConvTasNet, asteroid's structure and names) at
8 kHz on synthetic speech (espeak-ng) and exports it to a streaming .rill, for one of two tasks:
  --task separate  two speakers -> two sources (PIT), training/runs/separation/
  --task enhance   speech + sox-synthesised noise -> the speech, training/runs/enhancement/

    /usr/bin/python3 training/separation/train.py --minutes 60 --threads 1   # a real run
    /usr/bin/python3 training/separation/train.py --smoke                    # seconds-long check

The configuration, loss and schedule follow asteroid's ConvTasNet recipe scaled down for a shared
2-core CPU; the bundled models' runs are in assets/speech/PROVENANCE.md.
- model: causal, cgLN (cumulative; streams exactly at 15 samples), N=128, L=16, B=64, H=128,
  Sc=64, P=3, X=6, R=2, sigmoid masks (0.34 M weights; the released size is 5 M);
  --lookahead-dilation D: causal with look-ahead (P=4, blocks of dilation <= D look one tap
  ahead; D=8: 32 ms), started from a causal checkpoint by --grow-from (the same function);
  --grow-from also takes a bundled .rill, and a model with look-ahead grows into one with a
  larger D and kernel P + 1 (--conv-kernel).
- loss: negative SI-SDR, for separation with utterance-level permutation invariance (PIT over
  the 2 orders); the enhancer is the same network with one source.
- Adam lr 1e-3 (--lr), gradient norm clipped at 5, learning rate on a cosine over the wall-clock
  budget (--new-schedule starts another cosine from a checkpoint);
  segments of 2 s (--segment), batch 16; checkpoints in training/runs/separation/ every two
  minutes, a rerun resumes from the last one.
- data (data.py): espeak-ng speakers of the train split, or of the wide one (--wide: 40
  languages); --random-voices N adds N speakers with random voice variants (pitch, vocal-tract
  length, formants, voice quality) written for espeak-ng; --speed-perturb P scales each
  source's speed (pitch, formants, tempo) by a random factor in 1 +- P, a new voice per draw.
- at the end: held-out SI-SDR improvement over the mixture (other voices), export with
  rill.export (its report gives max |torch - rill streamed| and the mode note), the stream
  checked in irregular blocks, metrics JSON beside the model.
--threads 1 because two torch threads on the 2 shared cores ran slower than one (see
training/effect/train.py)."""

import argparse
import itertools
import json
import pathlib
import random
import sys

import torch

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "capi" / "python"))
sys.path.insert(0, str(ROOT / "training"))
sys.path.insert(0, str(HERE))

import rill  # noqa: E402
from rill.nn.conv_tasnet import ConvTasNet, grow_causal_kernel  # noqa: E402

import data  # noqa: E402
from timed_run import TimedRun  # noqa: E402

MODEL = dict(n_filters=128, kernel_size=16, stride=8, bn_chan=64, hid_chan=128, skip_chan=64,
             conv_kernel_size=3, n_blocks=6, n_repeats=2, norm_type="cgLN", causal=True,
             mask_act="sigmoid", sample_rate=data.SAMPLE_RATE)  # 339,545 weights
SMOKE_MODEL = dict(MODEL, n_filters=32, bn_chan=16, hid_chan=32, skip_chan=16, n_blocks=3,
                   n_repeats=1)


def si_sdr(est, ref, eps=1e-8):
    """Scale-invariant SDR in dB over the last axis (zero-mean signals)."""
    est = est - est.mean(-1, keepdim=True)
    ref = ref - ref.mean(-1, keepdim=True)
    proj = (est * ref).sum(-1, keepdim=True) / (ref.pow(2).sum(-1, keepdim=True) + eps) * ref
    noise = est - proj
    return 10 * torch.log10(proj.pow(2).sum(-1) / (noise.pow(2).sum(-1) + eps) + eps)


def pit_si_sdr(est, ref):
    """Best SI-SDR (mean over sources) over the source orders, per item: [B]."""
    n = ref.shape[1]
    scores = [si_sdr(est[:, list(p)], ref).mean(1) for p in itertools.permutations(range(n))]
    return torch.stack(scores, 1).max(1).values


TASKS = {
    # name: (sources, output folder, model file, description)
    "separate": (2, "separation", "conv_tasnet_causal.rill",
                 "causal Conv-TasNet (asteroid structure), 2 synthetic speakers, 8 kHz"),
    "enhance": (1, "enhancement", "conv_tasnet_enhancer.rill",
                "causal Conv-TasNet (asteroid structure) speech enhancer, synthetic noise, 8 kHz"),
}
# The enhancer normalises per frame (asteroid cLN): removing noise needs no utterance statistics,
# and a training step costs half of the cumulative norm's.
MODEL_CHANGES = {"separate": {}, "enhance": {"norm_type": "cLN"}}


class Batches:
    """Training / evaluation examples of a task: (mixture [B, 1, T], targets [B, S, T])."""

    def __init__(self, task, utts, noises, perturb=0.0):
        self.task, self.utts, self.noises, self.perturb = task, utts, noises, perturb

    def __call__(self, rng, segment, size):
        if self.task == "enhance":
            return data.noisy_batch(rng, self.utts, self.noises, segment, size)
        return data.batch(rng, self.utts, segment, size, self.perturb)


def bundled_checkpoint(path):
    """A bundled separator (a .rill written by this script, its .metrics.json beside it) as a
    checkpoint to grow from: its weights, no optimiser moments, its step count and its model
    configuration (the source's look-ahead dilation)."""
    path = pathlib.Path(path)
    metrics = json.loads(path.with_suffix(".metrics.json").read_text())
    config = dict(metrics["model"])
    source = ConvTasNet(config.pop("n_src"), **config)
    tensors = rill.read_rill(path)[1]
    state = {k: torch.from_numpy(tensors.pop(f"m.{k}")).reshape(v.shape)
             for k, v in source.state_dict().items()}
    if tensors:
        raise ValueError(f"{path}: tensors the model does not have: {sorted(tensors)[:3]}")
    lookahead = config.get("lookahead_dilation", 0)
    return {"model": state, "opt": None, "step": metrics["steps"]}, lookahead


def grow_checkpoint(source, source_lookahead, model, opt, target):
    """Writes `target`: the checkpoint `source` (depthwise kernel P - 1, look-ahead dilation
    `source_lookahead`; or a bundled .rill, bundled_checkpoint) grown to `model` (kernel P, the
    same or a larger look-ahead) by rill.nn.conv_tasnet.grow_causal_kernel, computing the same
    function; Adam's moments are grown the same way (zero for the new taps; a .rill has none, so
    Adam starts afresh), the step count is kept and the wall-clock budget starts again. A source
    of the model's own configuration (kernel P, the same look-ahead) is taken as it is."""
    if str(source).endswith(".rill"):
        state, source_lookahead = bundled_checkpoint(source)
    else:
        state = torch.load(source)
    shapes = {k: v.shape for k, v in model.state_dict().items()}
    if all(state["model"][k].shape == shape for k, shape in shapes.items()):
        if source_lookahead != model.masker.lookahead_dilation:
            raise ValueError(f"{source}: look-ahead dilation {source_lookahead}, the model's is "
                             f"{model.masker.lookahead_dilation}; only a larger kernel can grow it")
        grow = lambda tensors: tensors  # noqa: E731
    else:
        grow = lambda tensors: grow_causal_kernel(tensors, model, source_lookahead)  # noqa: E731
    model.load_state_dict(grow(state["model"]), strict=True)
    if state["opt"] is not None:
        opt_state = state["opt"]
        moments = opt_state["state"]  # by parameter index; none for a parameter without gradients
        names = {i: name for i, (name, _) in enumerate(model.named_parameters()) if i in moments}
        for moment in ("exp_avg", "exp_avg_sq"):
            grown = grow({n: moments[i][moment] for i, n in names.items()})
            for i, n in names.items():
                moments[i][moment] = grown[n]
        opt.load_state_dict(opt_state)
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": state["step"],
                "seconds": 0.0}, target)


def evaluate(model, batches, segment, items, seed):
    rng = random.Random(seed)
    mix, src = batches(rng, segment, items)
    mix, src = torch.from_numpy(mix), torch.from_numpy(src)
    with torch.no_grad():
        est = model(mix)
        base = pit_si_sdr(mix.expand(-1, src.shape[1], -1), src)
        return float(pit_si_sdr(est, src).mean()), float((pit_si_sdr(est, src) - base).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--task", choices=sorted(TASKS), default="separate")
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--segment", type=float, default=2.0, help="seconds per training example")
    ap.add_argument("--batch", type=int, default=16,
                    help="examples per step (PyTorch 1.13 on one thread runs 1x1 convolutions "
                         "through its slow path below 16: 8 x 1 s took 4.2 s a step, 16 x 1 s 1.6 s)")
    ap.add_argument("--per-speaker", type=int, default=20, help="utterances per train speaker")
    ap.add_argument("--speakers", type=int, help=f"train speakers (default {data.SPEAKERS['train']})")
    ap.add_argument("--wide", action="store_true",
                    help="train speakers from the wide split (40 languages instead of 16)")
    ap.add_argument("--random-voices", type=int, default=0,
                    help="add this many train speakers with random voice variants of their own "
                         "(data.random_variant; the train-random split)")
    ap.add_argument("--speed-perturb", type=float, default=0.0,
                    help="separation: scale each source's speed (pitch, formants, tempo) by a "
                         "random factor in 1 +- this")
    ap.add_argument("--lr", type=float, default=1e-3, help="peak learning rate of the cosine")
    ap.add_argument("--new-schedule", action="store_true",
                    help="keep the checkpoint's weights and optimiser moments but start a new "
                         "cosine of --minutes (otherwise a resume continues the old one)")
    ap.add_argument("--lookahead-dilation", type=int, default=0,
                    help="separation: blocks with dilation <= this look one tap ahead (latency "
                         "R x their dilations' sum encoder frames); 0: causal")
    ap.add_argument("--conv-kernel", type=int,
                    help="depthwise kernel P (default 3; 4 with --lookahead-dilation)")
    ap.add_argument("--grow-from", help="start from this checkpoint or bundled .rill: kernel "
                                        "P - 1, grown to the model with the same function, or "
                                        "the model's own configuration, taken as it is")
    ap.add_argument("--grow-from-lookahead", type=int, default=0,
                    help="the --grow-from checkpoint's look-ahead dilation (a .rill says its own)")
    ap.add_argument("--smoke", action="store_true", help="tiny data and model, a few steps")
    ap.add_argument("--out", help="default: training/runs/<separation|enhancement>")
    args = ap.parse_args()
    n_src, folder, model_file, description = TASKS[args.task]
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = pathlib.Path(args.out or ROOT / "training" / "runs" / folder)
    out.mkdir(parents=True, exist_ok=True)
    split = "smoke" if args.smoke else "train-wide" if args.wide else "train"
    utts = data.make_utterances(split, 3 if args.smoke else args.per_speaker, out / "cache",
                                None if args.smoke else args.speakers)
    if args.random_voices:
        extra = data.make_utterances("train-random", args.per_speaker, out / "cache",
                                     args.random_voices)
        utts = dict(enumerate(list(utts.values()) + list(extra.values())))
    held = utts if args.smoke else data.make_utterances("heldout", 10, out / "cache")
    noises = held_noises = None
    if args.task == "enhance":
        noises = data.make_noises(split, 6 if args.smoke else 300, out / "cache")
        held_noises = noises if args.smoke else data.make_noises("heldout", 40, out / "cache")
    train_batches = Batches(args.task, utts, noises, args.speed_perturb)
    held_batches = Batches(args.task, held, held_noises)
    segment = int((0.5 if args.smoke else args.segment) * data.SAMPLE_RATE)
    config = dict(SMOKE_MODEL if args.smoke else MODEL, **MODEL_CHANGES[args.task])
    if args.lookahead_dilation:
        config.update(conv_kernel_size=4, lookahead_dilation=args.lookahead_dilation)
        description = description.replace("causal", "causal with look-ahead")
    if args.conv_kernel:
        config.update(conv_kernel_size=args.conv_kernel)
    model = ConvTasNet(n_src, **config)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    if args.grow_from and not (out / "checkpoint.pt").exists():
        grow_checkpoint(args.grow_from, args.grow_from_lookahead, model, opt, out / "checkpoint.pt")
    run = TimedRun(out, model, opt, args.minutes, args.lr, args.smoke,
                   f"lr {args.lr:.1e} on a cosine over {args.minutes:g} minutes, {len(utts)} "
                   f"train speakers" if args.new_schedule else None)
    rng = random.Random(1000 + run.step)
    model.train()
    while run.going():
        mix, src = (torch.from_numpy(a) for a in train_batches(rng, segment, args.batch))
        loss = -pit_si_sdr(model(mix), src).mean()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        run.stepped(f"loss {loss.item():.2f} dB")
    run.save()
    step = run.step
    model.eval()
    sdr, sdri = evaluate(model, held_batches, segment, 4 if args.smoke else 64, seed=7)
    print(f"held-out SI-SDR {sdr:.2f} dB, improvement {sdri:.2f} dB")
    mix, _ = held_batches(random.Random(8), segment, 1)
    report = rill.export(model, out / model_file, mix[0], data.SAMPLE_RATE,
                         meta={"description": description, "license": "CC0-1.0",
                               "source": f"training/separation/train.py --task {args.task}"})
    s = rill.load(str(out / model_file))
    streamed = rill.compare(model, s, mix[0], block=37)
    metrics = {"steps": step, "heldout_si_sdr_db": sdr, "heldout_si_sdr_improvement_db": sdri,
               "latency_samples": report.latency_frames, "weights": report.weights,
               "max_abs_diff_block_1024": report.max_abs_diff, "max_abs_diff_block_37": streamed,
               "mode": report.notes, "task": args.task, "segment_seconds": segment / data.SAMPLE_RATE,
               "model": dict(config, n_src=n_src)}
    (out / model_file).with_suffix(".metrics.json").write_text(json.dumps(metrics, indent=1))
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
