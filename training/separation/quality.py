"""Quality of a bundled speech model on its held-out clip, as the library runs it: the .rill
streamed by the C library (rill binding) in fixed blocks, each example from a fresh state, the
latency removed, then the SI-SDR improvement over the input (permutation-invariant for two or
more sources). Used by bundle.py (which records the figure) and by
tests/python/test_bundled_speech.py (which checks it).

Clip layout: a WAV file whose channel 0 is the model input and channels 1..S the reference
sources; the examples are consecutive spans listed in the metrics JSON as [start, length]."""

import itertools

import numpy as np

from rill import wavfile


def si_sdr(est, ref, eps=1e-8):
    """Scale-invariant SDR in dB (zero-mean signals), float64."""
    est = np.asarray(est, np.float64) - np.mean(est)
    ref = np.asarray(ref, np.float64) - np.mean(ref)
    proj = np.dot(est, ref) / (np.dot(ref, ref) + eps) * ref
    return 10 * np.log10(np.dot(proj, proj) / (np.dot(est - proj, est - proj) + eps) + eps)


def pit_si_sdr(est, refs):
    """Best mean SI-SDR over the orders of the estimates [S, T] against refs [S, T]."""
    n = len(refs)
    return max(np.mean([si_sdr(est[p[i]], refs[i]) for i in range(n)])
               for p in itertools.permutations(range(n)))


def write_clip(path, channels, sample_rate):
    """channels [C, T] in [-1, 1) -> 16-bit PCM WAV; returns what was written (quantised)."""
    return wavfile.write(path, channels, sample_rate, "pcm16")


def read_clip(path):
    """-> (channels [C, T] float32, sample rate)."""
    return wavfile.read(path)


def measure(model, clip, examples, block=256):
    """Mean SI-SDR improvement (dB) and mean output SI-SDR over the examples; `model` is a
    loaded rill model (rill.load), `clip` [1 + S, T]."""
    sdr, base = [], []
    for start, length in examples:
        x, refs = clip[:1, start:start + length], clip[1:, start:start + length]
        s = model.stream(max_block_frames=block)
        L = s.latency_frames
        padded = np.concatenate([x, np.zeros((1, L), np.float32)], axis=1)
        out = np.concatenate([s.process(padded[:, i:i + block])
                              for i in range(0, padded.shape[1], block)], axis=1)[:, L:L + length]
        sdr.append(pit_si_sdr(out, refs))
        base.append(pit_si_sdr(np.repeat(x, len(refs), axis=0), refs))
    return float(np.mean(sdr) - np.mean(base)), float(np.mean(sdr))
