#!/usr/bin/env python3
"""The vocoder's input features, computed from a waveform the same way for training, the bundled
clip and users: log-mel spectrogram + f0, one frame per hop, frame m centred on the middle of
samples [m * hop, (m + 1) * hop) (Wavehax's STFT framing), so F = len(x) // hop frames.

    log-mel  |rfft(hann(n_fft) * x[m*hop + hop/2 - n_fft/2 : ... + n_fft])|^2 (zero padded at
             the ends) -> N_MELS triangular filters on the HTK mel scale from FMIN to sr/2, each
             of unit area (Slaney normalisation) -> log(max(., 1e-5))
    f0       YIN (de Cheveigne & Kawahara 2002) on WINDOW samples around the same centre: the
             cumulative-mean-normalised difference d'(tau), the first tau in [sr/F0_MAX,
             sr/F0_MIN] where d' < YIN_THRESHOLD at a local minimum (else the global minimum),
             refined by a parabola; unvoiced (0 Hz) when that d' > VOICED_MAX or the frame is
             quieter than SILENCE_DB below the utterance peak.

Command line: features.py IN.wav OUT.wav writes the features held at the audio rate (each frame
repeated hop times) as a float WAV of N_MELS + 1 channels (log-mel, then f0 in Hz): the input
`rill run` takes for the bundled vocoder."""

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "capi" / "python"))
from rill import wavfile  # noqa: E402

SAMPLE_RATE = 16000
HOP = 160            # 10 ms
N_FFT = 512          # 32 ms analysis window for the mel spectrogram
N_MELS = 80
FMIN = 40.0
WINDOW = 640         # 40 ms YIN window
F0_MIN, F0_MAX = 60.0, 500.0
YIN_THRESHOLD, VOICED_MAX = 0.15, 0.35
SILENCE_DB = 50.0
LOG_FLOOR = 1e-5


def _frames(x, size, hop, count):
    """[count, size] windows of x centred on m*hop + hop/2, zero padded past the ends."""
    left = size // 2 - hop // 2
    pad = np.concatenate([np.zeros(left, np.float64), np.asarray(x, np.float64),
                          np.zeros(size + hop, np.float64)])
    idx = np.arange(count)[:, None] * hop + np.arange(size)[None, :]
    return pad[idx]


def _hz_to_mel(f):
    return 2595.0 * np.log10(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_to_hz(m):
    return 700.0 * (10.0 ** (np.asarray(m, np.float64) / 2595.0) - 1.0)


def mel_filters(sr=SAMPLE_RATE, n_fft=N_FFT, n_mels=N_MELS, fmin=FMIN, fmax=None):
    """[n_mels, n_fft // 2 + 1] triangular filters of unit area."""
    fmax = fmax or sr / 2
    edges = _mel_to_hz(np.linspace(_hz_to_mel(fmin), _hz_to_mel(fmax), n_mels + 2))
    freqs = np.arange(n_fft // 2 + 1) * sr / n_fft
    lo, mid, hi = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    tri = np.maximum(0.0, np.minimum((freqs - lo) / (mid - lo), (hi - freqs) / (hi - mid)))
    return tri * (2.0 / (hi - lo))


_FILTERS = mel_filters()


def log_mel(x, hop=HOP):
    """[N_MELS, len(x) // hop] natural-log mel power spectrogram of waveform x."""
    count = len(x) // hop
    spec = np.abs(np.fft.rfft(_frames(x, N_FFT, hop, count) * np.hanning(N_FFT + 1)[:-1],
                              axis=1)) ** 2
    return np.log(np.maximum(spec @ _FILTERS.T, LOG_FLOOR)).T.astype(np.float32)


def f0_yin(x, sr=SAMPLE_RATE, hop=HOP):
    """[len(x) // hop] f0 in Hz per frame, 0 where unvoiced."""
    count = len(x) // hop
    lo, hi = int(sr / F0_MAX), int(np.ceil(sr / F0_MIN))
    frames = _frames(x, WINDOW + hi, hop, count)
    a = frames[:, :WINDOW]
    # d(tau) = sum_j (a_j - x_{j+tau})^2 = E(a) + E(window at tau) - 2 r(tau), r via FFT
    n = 1 << int(np.ceil(np.log2(WINDOW + hi + WINDOW)))
    r = np.fft.irfft(np.conj(np.fft.rfft(a, n, axis=1)) * np.fft.rfft(frames, n, axis=1), n,
                     axis=1)[:, :hi + 1]
    sq = np.concatenate([np.zeros((count, 1)), np.cumsum(frames ** 2, axis=1)], axis=1)
    energy = sq[:, WINDOW:WINDOW + hi + 1] - sq[:, :hi + 1]
    d = np.maximum(energy[:, :1] + energy - 2 * r, 0.0)
    cum = np.cumsum(d[:, 1:], axis=1) / np.arange(1, hi + 1)
    dn = np.ones_like(d)
    dn[:, 1:] = d[:, 1:] / np.maximum(cum, 1e-12)
    f0 = np.zeros(count, np.float32)
    loud = 10 * np.log10(np.mean(a ** 2, axis=1) + 1e-12)
    loud_enough = loud > loud.max() - SILENCE_DB if count else loud
    for m in range(count):
        row = dn[m]
        cand = np.nonzero(row[lo:hi] < YIN_THRESHOLD)[0]
        if len(cand):
            t = lo + cand[0]
            while t + 1 < hi and row[t + 1] < row[t]:
                t += 1
        else:
            t = lo + int(np.argmin(row[lo:hi]))
        if row[t] > VOICED_MAX or not loud_enough[m]:
            continue
        shift = 0.0
        if lo < t < hi:
            den = row[t - 1] - 2 * row[t] + row[t + 1]
            shift = 0.5 * (row[t - 1] - row[t + 1]) / den if den > 0 else 0.0
        f0[m] = sr / (t + shift)
    return f0


def features(x):
    """(log-mel [N_MELS, F], f0 [F]) of a waveform at SAMPLE_RATE."""
    return log_mel(x), f0_yin(x)


def held(logmel, f0, hop=HOP):
    """[N_MELS + 1, F * hop]: the features held at the audio rate (the .rill's input)."""
    return np.repeat(np.concatenate([logmel, f0[None]]), hop, axis=1).astype(np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("output")
    args = ap.parse_args()
    x, sr = wavfile.read(args.input)
    if sr != SAMPLE_RATE:
        sys.exit(f"{args.input}: {sr} Hz; the vocoder's features are computed at {SAMPLE_RATE} Hz")
    out = held(*features(x[0]))
    wavfile.write(args.output, out, SAMPLE_RATE)
    print(f"{pathlib.Path(args.output)}: {out.shape[0]} channels x {out.shape[1]} samples")


if __name__ == "__main__":
    main()
