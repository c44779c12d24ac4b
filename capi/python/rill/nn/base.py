"""Streaming protocol of the reference modules (the engine's semantics, docs/streaming.md).

Every module computes offline with forward(x) on [B, C, T]. In streaming mode:
    m.start_stream(input_latency)  -> output latency (frames at the output rate)
    m.stream(chunk)                -> the next frames of output (as many as the chunk gives)
Stream frame i at a module's input equals offline frame i - input_latency; the first
input_latency frames are "negative time" (pre-roll): stateful modules treat them as the
offline model does (zero padding, no state update). So for any chunking, the concatenated stream
output equals offline output delayed by the returned latency.

Plain torch layers that act on each frame alone (activations, Identity, Dropout in eval) join a
stream as they are: start_stream / stream below handle them."""

import torch.nn as nn

# torch layers whose output at frame t depends only on input frame t, channel by channel or
# across the channel axis of a [B, C, T] tensor.
_PER_FRAME = (nn.ReLU, nn.LeakyReLU, nn.PReLU, nn.GELU, nn.SiLU, nn.Tanh, nn.Sigmoid, nn.ELU,
              nn.Identity, nn.Dropout)


class Stateless:
    """Mixin for modules whose streaming mode is their offline forward (per-frame ops)."""

    def start_stream(self, input_latency=0):
        return input_latency

    def stream(self, *chunks):
        return self.forward(*chunks)


def start_stream(m, input_latency=0):
    """m.start_stream for rill.nn modules and per-frame torch layers; returns the output latency."""
    if hasattr(m, "start_stream"):
        return m.start_stream(input_latency)
    if isinstance(m, _PER_FRAME):
        return input_latency
    raise TypeError(f"{type(m).__name__} has no streaming mode (use the rill.nn module or a "
                    f"per-frame layer)")


def stream(m, *chunks):
    return m.stream(*chunks) if hasattr(m, "stream") else m(*chunks)


class PreRoll:
    """Counts frames since the stream started; says how many leading frames are negative time."""

    def __init__(self, latency):
        self.latency, self.seen = latency, 0

    def consume(self, n):
        skip = max(0, min(n, self.latency - self.seen))
        self.seen += n
        return skip


class Sequential(nn.Sequential):
    """nn.Sequential with the streaming protocol (latencies add up through the chain)."""

    def start_stream(self, input_latency=0):
        latency = input_latency
        for m in self:
            latency = start_stream(m, latency)
        return latency

    def stream(self, x):
        for m in self:
            x = stream(m, x)
        return x
