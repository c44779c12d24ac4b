#!/usr/bin/env python3
"""Trains a small streaming Wavehax vocoder (rill.nn.wavehax, chomeyama/wavehax's generator and
names) at 16 kHz on synthetic speech (espeak-ng) and exports it to a streaming .rill:

    /usr/bin/python3 training/vocoder/train.py --minutes 60    # a real run (resumes)
    /usr/bin/python3 training/vocoder/train.py --smoke         # seconds-long check

- input features (features.py): 80-bin log-mel (32 ms windows) + YIN f0, every 10 ms;
- model: WavehaxGenerator in its streaming form from the start (per-frame LayerNorm2d, zero time
  padding, deterministic harmonic prior), so the trained model is the one that streams exactly:
  n_fft 320, hop 160, C=16, mult 2, kernel 7, 6 ConvNeXt blocks (MODEL below);
- loss: multi-resolution STFT loss (spectral convergence + L1 of log magnitudes at FFT sizes 256,
  512, 1024) + L1 of the 80-bin log-mel, no adversarial term (the CPU budget of this machine);
- Adam lr 2e-3 (--lr) on a cosine over the wall-clock budget, gradient norm clipped at 1, batches
  of 16 one-second examples at a random gain in [0.1, 0.95], features computed once per
  utterance and shifted in the log domain for the gain; checkpoints in training/runs/vocoder/
  every two minutes, a rerun resumes from the last one;
- at the end: the held-out log-mel spectral distance (LSD, mel_distance.py) on speakers of languages
  and voice variants not used in training, export with rill.export (its report gives the
  streamed difference from PyTorch), metrics JSON beside the model."""

import argparse
import json
import math
import pathlib
import random
import sys

import numpy as np
import torch

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "capi" / "python"))
sys.path.insert(0, str(ROOT / "training"))
sys.path.insert(0, str(ROOT / "training" / "separation"))
sys.path.insert(0, str(HERE))

import rill  # noqa: E402
from rill.nn import wavehax as wh  # noqa: E402

import data  # noqa: E402  (training/separation/data.py: espeak-ng speakers)
import features as feat  # noqa: E402
import mel_distance  # noqa: E402
from timed_run import TimedRun  # noqa: E402

SR, HOP = feat.SAMPLE_RATE, feat.HOP
MODEL = dict(in_channels=feat.N_MELS, channels=16, mult_channels=2, kernel_size=7, num_blocks=6,
             n_fft=2 * HOP, hop_length=HOP, sample_rate=SR, framewise_norm=True,
             time_padding="zeros", prior_noise_amplitude=0.0, prior_random_phase=False)
SMOKE_MODEL = dict(MODEL, channels=4, num_blocks=2)
RESOLUTIONS = ((256, 64), (512, 128), (1024, 256))


class Corpus:
    """Utterances with their features, cut into frame-aligned training examples."""

    def __init__(self, utts):
        self.items = []
        for us in utts.values():
            for x in us:
                x = x[:len(x) // HOP * HOP]
                self.items.append((x, *feat.features(x)))

    def batch(self, rng, frames, size):
        """(log-mel [B, 80, F], f0 [B, 1, F], waveform [B, 1, F * hop])."""
        mels, f0s, waves = [], [], []
        for _ in range(size):
            x, lm, f0 = rng.choice(self.items)
            n = len(f0)
            m0 = rng.randint(0, max(0, n - frames))
            x, lm, f0 = x[m0 * HOP:(m0 + frames) * HOP], lm[:, m0:m0 + frames], f0[m0:m0 + frames]
            if len(f0) < frames:  # short utterance: zeros (silence) after it
                pad = frames - len(f0)
                x = np.pad(x, (0, pad * HOP))
                lm = np.pad(lm, ((0, 0), (0, pad)), constant_values=math.log(feat.LOG_FLOOR))
                f0 = np.pad(f0, (0, pad))
            g = rng.uniform(0.1, 0.95)
            mels.append(np.maximum(lm + 2 * math.log(g), math.log(feat.LOG_FLOOR)))
            f0s.append(f0[None])
            waves.append((g * x)[None])
        return (torch.from_numpy(np.stack(mels).astype(np.float32)),
                torch.from_numpy(np.stack(f0s).astype(np.float32)),
                torch.from_numpy(np.stack(waves).astype(np.float32)))


def _mag(x, n_fft, hop):
    w = torch.hann_window(n_fft)
    return torch.stft(x.squeeze(1), n_fft, hop, window=w, return_complex=True).abs() + 1e-7


class Loss:
    """Multi-resolution STFT loss + L1 of the log-mel (features.py's filters, torch form)."""

    def __init__(self):
        self.filters = torch.from_numpy(feat.mel_filters().astype(np.float32))
        self.window = torch.hann_window(feat.N_FFT)

    def log_mel(self, x):
        """[B, 1, T] -> [B, N_MELS, T // hop], as features.log_mel."""
        frames, left = x.shape[-1] // HOP, feat.N_FFT // 2 - HOP // 2
        x = torch.nn.functional.pad(x.squeeze(1), (left, feat.N_FFT + HOP))
        spec = torch.stft(x, feat.N_FFT, HOP, window=self.window, center=False,
                          return_complex=True).abs().pow(2)[..., :frames]
        return torch.log(torch.clamp(torch.matmul(self.filters, spec), min=feat.LOG_FLOOR))

    def __call__(self, y, ref):
        stft = 0.0
        for n_fft, hop in RESOLUTIONS:
            a, b = _mag(y, n_fft, hop), _mag(ref, n_fft, hop)
            stft = stft + torch.linalg.norm(b - a) / torch.linalg.norm(b) + \
                (torch.log(a) - torch.log(b)).abs().mean()
        mel = (self.log_mel(y) - self.log_mel(ref)).abs().mean()
        return stft / len(RESOLUTIONS) + mel, mel


def heldout_examples(held, seconds, count, seed):
    """`count` held-out waveforms of `seconds` (each a window of one utterance, gain 0.5)."""
    rng, n = random.Random(seed), int(seconds * SR) // HOP * HOP
    keys, out = sorted(held), []
    for i in range(count):
        us = held[keys[i % len(keys)]]
        x = rng.choice(us)
        o = rng.randint(0, max(0, len(x) - n))
        x = np.pad(x[o:o + n], (0, max(0, n - len(x[o:o + n]))))
        out.append((0.5 * x).astype(np.float32))
    return out


def synthesize(model, x):
    """PyTorch: the vocoder's output for waveform x's features."""
    lm, f0 = feat.features(x)
    with torch.no_grad():
        y = model(torch.from_numpy(lm)[None], torch.from_numpy(f0)[None, None])[0]
    return y[0, 0].numpy()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--segment", type=float, default=1.0, help="seconds per training example")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--speakers", type=int, default=192, help="training speakers")
    ap.add_argument("--per-speaker", type=int, default=10)
    ap.add_argument("--smoke", action="store_true", help="tiny data and model, a few steps")
    ap.add_argument("--out", default=str(ROOT / "training" / "runs" / "vocoder"))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache = out / "cache"
    if args.smoke:
        train_utts = held_utts = data.make_utterances("smoke", 2, cache, rate=SR)
    else:
        train_utts = data.make_utterances("train", args.per_speaker, cache, args.speakers, SR)
        held_utts = data.make_utterances("heldout", 10, cache, rate=SR)
    corpus = Corpus(train_utts)
    config = SMOKE_MODEL if args.smoke else MODEL
    model = wh.WavehaxGenerator(**config)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.8, 0.99))
    loss_fn = Loss()
    run = TimedRun(out, model, opt, args.minutes, args.lr, args.smoke)
    frames = int(args.segment * SR) // HOP
    rng = random.Random(1000 + run.step)
    model.train()
    while run.going():
        lm, f0, wave = corpus.batch(rng, frames, 2 if args.smoke else args.batch)
        y, _ = model(lm, f0)
        loss, mel = loss_fn(y, wave)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        run.stepped(f"loss {loss.item():.3f} mel L1 {mel.item():.3f}")
    run.save()
    step = run.step
    model.eval()
    examples = heldout_examples(held_utts, 1.0 if args.smoke else 2.0, 2 if args.smoke else 24,
                                seed=7)
    lsd = [mel_distance.log_mel_distance(synthesize(model, x), x) for x in examples]
    lsd_db, mel_l1 = float(np.mean([a for a, _ in lsd])), float(np.mean([b for _, b in lsd]))
    print(f"held-out log-mel spectral distance {lsd_db:.2f} dB, log-mel L1 {mel_l1:.3f}")
    x = examples[0]
    audio = wh.AudioRate(model)
    inputs = torch.from_numpy(feat.held(*feat.features(x)))
    report = rill.export(audio, out / "vocoder_16k.rill", [inputs[:-1], inputs[-1:]], SR,
                         inputs=[{"name": "cond", "channels": feat.N_MELS},
                                 {"name": "f0", "channels": 1}],
                         meta={"description": "Wavehax vocoder (chomeyama/wavehax structure), "
                                              "80 log-mel + f0 -> 16 kHz speech",
                               "license": "CC0-1.0", "source": "training/vocoder/train.py"})
    metrics = {"steps": step, "heldout_lsd_db": lsd_db, "heldout_log_mel_l1": mel_l1,
               "heldout_examples": f"{len(examples)} x {len(x) / SR:g} s",
               "latency_samples": report.latency_frames, "weights": report.weights,
               "max_abs_diff_block_1024": report.max_abs_diff, "mode": report.notes,
               "segment_seconds": args.segment, "model": config}
    (out / "vocoder_16k.metrics.json").write_text(json.dumps(metrics, indent=1))
    print(json.dumps(metrics, indent=1))


if __name__ == "__main__":
    main()
