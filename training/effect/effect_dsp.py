"""The target effect the bundled model learns: a drive pedal with one knob, `drive` in [0, 1].

    e[t] = x[t] - 0.5 * drive * x[t-1]                 drive-dependent pre-emphasis
    s[t] = tanh(g * e[t] + b) - tanh(b)                 asymmetric soft clipper,
           g = 10^((3 + 27 * drive) / 20), b = 0.25 * drive
    l[t] = (1 - a) * s[t] + a * l[t-1]                  one-pole tone low-pass,
           a = exp(-2 pi fc / sr), fc = 12 kHz - 8 kHz * drive
    y[t] = 0.7 * l[t]                                   output level

Deterministic, computed in float64. The one-pole recursion runs as a convolution with its
impulse response (1 - a) a^n cut where a^n < 1e-17 (at most ~70 taps), which equals the recursion
to float64 rounding and is much faster than a Python loop (scipy is not a dependency)."""

import numpy as np

SAMPLE_RATE = 44100


def apply_effect(x, drive, sr=SAMPLE_RATE):
    """x: 1-D float array; drive: float in [0, 1]. Returns float32, same length."""
    x = np.asarray(x, dtype=np.float64)
    e = x.copy()
    e[1:] -= 0.5 * drive * x[:-1]
    g = 10.0 ** ((3.0 + 27.0 * drive) / 20.0)
    b = 0.25 * drive
    s = np.tanh(g * e + b) - np.tanh(b)
    a = np.exp(-2.0 * np.pi * (12000.0 - 8000.0 * drive) / sr)
    taps = int(np.ceil(np.log(1e-17) / np.log(a))) + 1
    h = (1.0 - a) * a ** np.arange(taps)
    out = np.convolve(s, h)[:len(s)]
    return (0.7 * out).astype(np.float32)


def apply_effect_recursive(x, drive, sr=SAMPLE_RATE):
    """The same effect with the one-pole as a literal recursion (the reference for the test)."""
    x = np.asarray(x, dtype=np.float64)
    e = x.copy()
    e[1:] -= 0.5 * drive * x[:-1]
    g = 10.0 ** ((3.0 + 27.0 * drive) / 20.0)
    s = np.tanh(g * e + 0.25 * drive) - np.tanh(0.25 * drive)
    a = np.exp(-2.0 * np.pi * (12000.0 - 8000.0 * drive) / sr)
    out, acc = np.empty_like(s), 0.0
    for t in range(len(s)):
        acc = (1.0 - a) * s[t] + a * acc
        out[t] = acc
    return (0.7 * out).astype(np.float32)
