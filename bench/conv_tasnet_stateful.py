"""Conv-TasNet streamed exactly in PyTorch, the way an expert would run it block by block: the
convolution caches and the cumulative-norm sums are explicit state passed in and returned by
every call, so the same module exports to ONNX (fixed block, states as graph inputs/outputs) for
onnxruntime.

    step = StatefulConvTasNet(model, block)          # model: causal rill.nn.ConvTasNet (cLN/cgLN)
    state = step.initial_state()
    for x in blocks:                                 # x [1, 1, block]
        y, *state = step(x, *state)                  # y [1, n_src, block]

State: the encoder's last L - S input samples, each depthwise conv's last (P - 1) d frames, the
frames seen so far and each cgLN's (sum x, sum x^2) in float64 (as the reference CumLN sums),
and the decoder's overlap-add tail of L - S samples. The encoder cache starts as zeros, so the
stream equals the offline model on the input delayed by L - S samples (checked by the benchmark)."""

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
        return st

    def _norm(self, norm, x, seen, state, new):
        if isinstance(norm, ChanLN):
            return norm(x)
        s = state.pop(0)
        xd = x.double()
        s1 = xd.sum(1).cumsum(-1) + s[:, :1]
        s2 = (xd * xd).sum(1).cumsum(-1) + s[:, 1:]
        count = (seen + torch.arange(1, self.frames + 1, dtype=torch.float64)) * x.shape[1]
        mean = s1 / count
        var = (s2 / count - mean * mean).clamp_min(0)
        z = ((xd - mean.unsqueeze(1)) / torch.sqrt(var.unsqueeze(1) + EPS)).to(x.dtype)
        new.append(torch.cat([s1[:, -1:], s2[:, -1:]], 1))
        return norm._affine(z)

    def forward(self, x, *state):
        m, mk = self.m, self.m.masker
        state = list(state)
        enc_cache = state.pop(0)
        conv_caches = [state.pop(0) for _ in mk.TCN]
        seen = state.pop(0)
        tail = state.pop(-1)
        norm_new, cache_new = [], []
        xx = torch.cat([enc_cache, x], -1)
        w = m.enc_activation(F.conv1d(xx, m.encoder.filterbank.filters(), stride=self.S))
        out = mk.bottleneck[1](self._norm(mk.bottleneck[0], w, seen, state, norm_new))
        skip = 0.0
        for b, cache in zip(mk.TCN, conv_caches):
            sb = b.shared_block
            h = self._norm(sb[2], sb[1](sb[0](out)), seen, state, norm_new)
            conv = b.depth_conv
            hh = torch.cat([cache, h], -1)
            cache_new.append(hh[..., hh.shape[-1] - cache.shape[-1]:])
            h = F.conv1d(hh, conv.weight, conv.bias, dilation=conv.dilation, groups=conv.groups)
            h = self._norm(sb[5], sb[4](h), seen, state, norm_new)
            if b.skip_out_chan:
                skip = skip + b.skip_conv(h)
            out = out + b.res_conv(h)
        score = mk.mask_net(skip if mk.skip_chan else out)
        masks = mk.output_act(score.view(1, mk.n_src, mk.out_chan, self.frames))
        spec = (masks * w.unsqueeze(1)).reshape(mk.n_src, mk.out_chan, self.frames)
        y = F.conv_transpose1d(spec, m.decoder.filterbank.filters(), stride=self.S)
        y = y.reshape(1, mk.n_src, -1)
        overlap = self.L - self.S
        y = torch.cat([y[..., :overlap] + tail, y[..., overlap:]], -1)
        return (y[..., :self.block], xx[..., -overlap:], *cache_new, seen + self.frames,
                *norm_new, y[..., self.block:])
