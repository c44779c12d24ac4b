"""The target effect the bundled model learns: a drive pedal with one knob, `drive` in [0, 1].

    e[t] = x[t] - 0.5 * drive * x[t-1]                 drive-dependent pre-emphasis
    s[t] = tanh(g * e[t] + b) - tanh(b)                 asymmetric soft clipper,
           g = 10^((3 + 27 * drive) / 20), b = 0.25 * drive
    l[t] = (1 - a) * s[t] + a * l[t-1]                  one-pole tone low-pass,
           a = exp(-2 pi fc / sr), fc = 12 kHz - 8 kHz * drive
    y[t] = 0.7 * l[t]

Deterministic and computed in float64, so the data can be regenerated bit for bit."""

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
    out = np.empty_like(s)
    acc = 0.0
    # One-pole recursion (scipy is not a dependency): vectorised by blocks would be faster, but
    # the data is made once and cached.
    for t in range(len(s)):
        acc = (1.0 - a) * s[t] + a * acc
        out[t] = acc
    return (0.7 * out).astype(np.float32)
