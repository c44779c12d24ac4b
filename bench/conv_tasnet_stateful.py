"""Conv-TasNet streamed exactly in PyTorch, the way an expert would run it block by block: the
convolution caches and the cumulative-norm sums are explicit state passed in and returned by
every call, so the same module exports to ONNX (fixed block, states as graph inputs/outputs) for
onnxruntime.

    step = StatefulConvTasNet(model, block)          # model: causal rill.nn.ConvTasNet (cLN/cgLN),
                                                     # with or without look-ahead
    state = step.initial_state()
    for x in blocks:                                 # x [1, 1, block]
        y, *state = step(x, *state)                  # y [1, n_src, block]

State: the encoder's last L - S input samples, each depthwise conv's last (P - 1) d frames, the
frames seen so far and each cgLN's (sum x, sum x^2) in float64 (as the reference CumLN sums),
and the decoder's overlap-add tail of L - S samples. The encoder cache starts as zeros, so the
stream equals the offline model on the input delayed by L - S samples (checked by the benchmark).

With look-ahead (lookahead_dilation), a block whose depthwise conv reads a frames ahead runs it on
its cache alone (no right padding), so its output is a frames late: the block's residual input
waits a frames in a delay line, each block's skip output waits until the last block's delay A,
and the encoder output waits A frames for the masks. The frames before the model's frame 0 that
a delayed layer sees (the first A_i of the stream) are kept out of the cumulative norms' sums and
set to zero, as the offline model's left padding; the stream then equals the offline model's
output (on the input delayed by L - S samples) delayed by S A samples: `latency_samples` =
L - S + S A in all."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from rill.nn.conv_tasnet import EPS, ChanLN, CumLN


class StatefulConvTasNet(nn.Module):
    def __init__(self, model, block):
        super().__init__()
        if not model.causal or model.norm_type not in ("cLN", "cgLN"):
            raise ValueError("only causal cLN / cgLN models stream")
        self.m = model.eval()
        fb = model.encoder.filterbank
        self.L, self.S = fb.kernel_size, fb.stride
        if block % self.S:
            raise ValueError(f"block {block} must be a multiple of the stride {self.S}")
        self.block, self.frames = block, block // self.S
        # frames each block's output is late by, after it (cumulative look-ahead)
        self.ahead = [b.pad_left_right[1] for b in model.masker.TCN]
        self.late = [sum(self.ahead[:i + 1]) for i in range(len(self.ahead))]
        self.total_late = self.late[-1] if self.late else 0
        self.latency_samples = self.L - self.S + self.S * self.total_late

    def _norms(self):
        yield self.m.masker.bottleneck[0]
        for b in self.m.masker.TCN:
            yield b.shared_block[2]
            yield b.shared_block[5]

    def initial_state(self):
        m, st = self.m.masker, []
        st.append(torch.zeros(1, 1, self.L - self.S))
        for b in m.TCN:
            conv = b.depth_conv
            st.append(torch.zeros(1, m.hid_chan, (conv.kernel_size[0] - 1) * conv.dilation[0]))
        st.append(torch.zeros(1, dtype=torch.float64))          # frames seen
        for norm in self._norms():
            if isinstance(norm, CumLN):
                st.append(torch.zeros(1, 2, dtype=torch.float64))
        st.append(torch.zeros(1, m.n_src, self.L - self.S))
        for a in self.ahead:  # residual delay lines
            if a:
                st.append(torch.zeros(1, m.bn_chan, a))
        for late in self.late:  # skip delay lines
            if m.skip_chan and late < self.total_late:
                st.append(torch.zeros(1, m.skip_chan, self.total_late - late))
        if self.total_late:
            st.append(torch.zeros(1, m.in_chan, self.total_late))  # the encoder output's
        return st

    @staticmethod
    def _delay(x, line, new):
        """x late by the delay line's length (its frames come first); the line's next contents to
        `new`."""
        xx = torch.cat([line, x], -1)
        new.append(xx[..., x.shape[-1]:])
        return xx[..., :x.shape[-1]]

    def _norm(self, norm, x, seen, state, new, late=0):
        """norm on frames `late` frames behind the stream: those before frame 0 (the first `late`
        of the stream) stay out of the cumulative sums and come out as zeros."""
        index = seen + torch.arange(self.frames, dtype=torch.float64) - late  # model frame
        if isinstance(norm, ChanLN):
            y = norm(x)
        else:
            s = state.pop(0)
            xd = x.double()
            if late:
                xd = xd * (index >= 0).to(xd.dtype)
            s1 = xd.sum(1).cumsum(-1) + s[:, :1]
            s2 = (xd * xd).sum(1).cumsum(-1) + s[:, 1:]
            count = (index + 1).clamp_min(1) * x.shape[1]
            mean = s1 / count
            var = (s2 / count - mean * mean).clamp_min(0)
            z = ((xd - mean.unsqueeze(1)) / torch.sqrt(var.unsqueeze(1) + EPS)).to(x.dtype)
            new.append(torch.cat([s1[:, -1:], s2[:, -1:]], 1))
            y = norm._affine(z)
        return y * (index >= 0).to(y.dtype) if late else y

    def forward(self, x, *state):
        m, mk = self.m, self.m.masker
        state = list(state)
        enc_cache = state.pop(0)
        conv_caches = [state.pop(0) for _ in mk.TCN]
        seen = state.pop(0)
        n_norms = sum(isinstance(n, CumLN) for n in self._norms())
        norm_state, delays = state[:n_norms], state[n_norms + 1:]
        tail = state[n_norms]
        state = norm_state
        res_lines = [delays.pop(0) if a else None for a in self.ahead]
        skip_lines = [delays.pop(0) if mk.skip_chan and late < self.total_late else None
                      for late in self.late]
        norm_new, cache_new, res_new, skip_new, w_new = [], [], [], [], []
        xx = torch.cat([enc_cache, x], -1)
        w = m.enc_activation(F.conv1d(xx, m.encoder.filterbank.filters(), stride=self.S))
        out = mk.bottleneck[1](self._norm(mk.bottleneck[0], w, seen, state, norm_new))
        skip, late_in = 0.0, 0
        for i, (b, cache) in enumerate(zip(mk.TCN, conv_caches)):
            sb = b.shared_block
            h = self._norm(sb[2], sb[1](sb[0](out)), seen, state, norm_new, late_in)
            conv = b.depth_conv
            hh = torch.cat([cache, h], -1)
            cache_new.append(hh[..., hh.shape[-1] - cache.shape[-1]:])
            h = F.conv1d(hh, conv.weight, conv.bias, dilation=conv.dilation, groups=conv.groups)
            h = self._norm(sb[5], sb[4](h), seen, state, norm_new, self.late[i])
            if b.skip_out_chan:
                s = b.skip_conv(h)
                skip = skip + (s if skip_lines[i] is None
                               else self._delay(s, skip_lines[i], skip_new))
            if res_lines[i] is not None:
                out = self._delay(out, res_lines[i], res_new)
            out = out + b.res_conv(h)
            late_in = self.late[i]
        if self.total_late:
            w = self._delay(w, delays.pop(0), w_new)
        score = mk.mask_net(skip if mk.skip_chan else out)
        masks = mk.output_act(score.view(1, mk.n_src, mk.out_chan, self.frames))
        spec = (masks * w.unsqueeze(1)).reshape(mk.n_src, mk.out_chan, self.frames)
        y = F.conv_transpose1d(spec, m.decoder.filterbank.filters(), stride=self.S)
        y = y.reshape(1, mk.n_src, -1)
        overlap = self.L - self.S
        y = torch.cat([y[..., :overlap] + tail, y[..., overlap:]], -1)
        return (y[..., :self.block], xx[..., -overlap:], *cache_new, seen + self.frames,
                *norm_new, y[..., self.block:], *res_new, *skip_new, *w_new)
