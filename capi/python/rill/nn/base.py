"""Streaming protocol of the reference modules (the engine's semantics, docs/streaming.md).

Every module computes offline with forward(x) on [B, C, T]. In streaming mode:
    m.start_stream(input_latency)  -> output latency (frames at the output rate)
    m.stream(chunk)                -> the next frames of output (as many as the chunk gives)
Stream frame i at a module's input equals offline frame i - input_latency; the first
input_latency frames are "negative time" (pre-roll): stateful modules treat them as the
offline model does (zero padding, no state update). So for any chunking, the concatenated stream
output equals offline output delayed by the returned latency."""

import torch.nn as nn


class Stateless:
    """Mixin for modules whose streaming mode is their offline forward (per-frame ops)."""

    def start_stream(self, input_latency=0):
        return input_latency

    def stream(self, *chunks):
        return self.forward(*chunks)


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
            latency = m.start_stream(latency)
        return latency

    def stream(self, x):
        for m in self:
            x = m.stream(x)
        return x
