"""The vocoder's quality figure: log-mel spectral distance (LSD) between a synthesised waveform
and the reference it was analysed from, on features.py's 80-bin mel spectrogram:

    LSD = mean over frames of sqrt(mean over bins of (10 log10 M_ref - 10 log10 M_est)^2)  [dB]
    log-mel L1 = mean over frames and bins of |ln M_ref - ln M_est|

(M floored at features.LOG_FLOOR, as the features are.) Used by train.py, bundle.py and
tests/python/test_bundled_speech.py, which streams the bundled .rill through the C library."""

import numpy as np

import features as feat

DB_PER_NEPER = 10.0 / np.log(10.0)


def log_mel_distance(est, ref):
    """(LSD in dB, log-mel L1) of waveform est against ref (same length, SAMPLE_RATE)."""
    a, b = feat.log_mel(np.asarray(est, np.float32)), feat.log_mel(np.asarray(ref, np.float32))
    diff = (a.astype(np.float64) - b) * DB_PER_NEPER
    lsd = float(np.mean(np.sqrt(np.mean(diff ** 2, axis=0))))
    return lsd, float(np.mean(np.abs(a.astype(np.float64) - b)))


def stream_vocoder(model, x, block=256):
    """The .rill vocoder (rill.load) on waveform x's features, streamed by the C library in
    blocks from a fresh state, the latency removed: [len(x) // hop * hop]."""
    lm, f0 = feat.features(x)
    inputs = feat.held(lm, f0)
    s = model.stream(max_block_frames=block)
    L = s.latency_frames
    padded = np.concatenate([inputs, np.zeros((inputs.shape[0], L), np.float32)], axis=1)
    out = np.concatenate([s.process(padded[:, i:i + block])
                          for i in range(0, padded.shape[1], block)], axis=1)
    return out[0, L:L + inputs.shape[1]]


def measure(model, clip, examples, block=256):
    """Mean (LSD dB, log-mel L1) of the streamed vocoder over the [start, length] spans of the
    reference waveform `clip` [T]."""
    scores = [log_mel_distance(stream_vocoder(model, clip[s:s + n], block), clip[s:s + n])
              for s, n in examples]
    return float(np.mean([a for a, _ in scores])), float(np.mean([b for _, b in scores]))
