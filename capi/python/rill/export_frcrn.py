"""Exporter rule for rill.nn.frcrn.Enhancer(DCCRN) (FRCRN), called by exporter._module_node with
the [B, 1, T] noisy signal.

A complex tensor [C, F, 2] travels as 2*C*F channels, real block then imaginary block, each
channel-major: channel (part*C + c)*F + f. The STFT's output is that layout for C = 1. A complex
conv is the ops' `complex` form: the file holds (W_re, W_im) once, the engine expands the real
weight [[W_re, -W_im], [W_im, W_re]] over (part, channel) at load.

    stft (640, hop 320, sqrt Hann, no padding) -> X
    per UNet:
      encoder i: [i > 0: FSMN along frequency] -> conv2d_ft (complex, batch norm folded into
                 out_scale and bias, stride [2, 1], time padding [1, 1]: causal) -> leaky_relu
                 -> SE -> skip i
      bottleneck: 2 FSMN layers along time (bins = 1)
      decoder i: conv_transpose2d_ft (complex, batch norm folded, stride [2, 1], time padding
                 1: one frame of look-ahead) -> leaky_relu -> [i < 6: FSMN along frequency]
                 -> [i < 5: SE] -> [i < 6: split p and the skip, concat (p_re, skip_re, p_im,
                 skip_im)]; linear: conv2d_ft 1x1 (complex)
    FSMN (one complex layer of fsmn_re, fsmn_im): conv2d_ft 1x1 groups 2 (the linear of both
      FSMNs on xr and on xi) -> relu -> conv2d_ft 1x1 groups 4 (project) -> conv2d_ft depthwise,
      20 taps causal along frequency ([19, 0] bins) or time ([19, 0] frames), the "+ p" folded
      into its last tap -> split -> re = xr - xi + re(xr) - im(xi), im = xi + xr + re(xi) + im(xr)
    SE (cumulative): group_mean (2C groups of F bins, cumulative) -> linear (fc_r.0 / fc_i.0 on
      both means) -> relu -> linear (fc_r.2 / fc_i.2) -> sigmoid -> split -> scale_r = fc_r(a_r)
      - fc_i(a_i), scale_i = fc_r(a_i) + fc_i(a_r) -> concat -> mul (broadcast over the F bins)
    m1 = tanh(u1), M = tanh(u2) + m1; X * M as complex product (split, mul, sub, add, concat)
    istft (eps 1e-8: ConviSTFT divides by the overlap-added window^2 + 1e-8)

The planner delays X and m1 to meet the masks (7 and 14 frames). The utterance-average SE of the
released model is refused with the reason (DCCRN.streaming_mode)."""

import torch

from .nn import frcrn as fr


class FrcrnExportError(ValueError):
    """A configuration that cannot stream (exporter.py reports it as an ExportError)."""


def _complex_layer(pair_re, pair_im, bn):
    """The weights of a complex (transposed) conv (conv_re/conv_im or tconv_re/tconv_im) for the
    op's `complex` form: weight [2, ...] (W_re, W_im), bias [2 Cout] = (b_re - b_im, b_re + b_im),
    and the following ComplexBatchNorm2d (eval: running statistics) folded into out_scale and the
    bias."""
    weight = torch.stack([pair_re.weight, pair_im.weight])
    zero = torch.zeros(pair_re.out_channels)
    br = pair_re.bias if pair_re.bias is not None else zero
    bi = pair_im.bias if pair_im.bias is not None else zero
    bias, scale = torch.cat([br - bi, br + bi]), None
    if bn is not None:
        scale, shift = [], []
        for m in (bn.bn_re, bn.bn_im):
            s = (m.weight if m.affine else 1) / torch.sqrt(m.running_var + m.eps)
            scale.append(s)
            shift.append((m.bias if m.affine else 0) - m.running_mean * s)
        scale = torch.cat(scale)
        bias = bias * scale + torch.cat(shift)
    return {"weight": weight, "bias": bias, "out_scale": scale}


class _Emitter:
    def __init__(self, b, prefix):
        self.b, self.p = b, prefix

    def add(self, name, op, inputs, channels, attrs=None, weights=None):
        return self.b.add(self.p + name, op, inputs, channels, attrs, weights)

    def tensors(self, name, **roles):
        return {role: self.b.tensor(f"{self.p}{name}.{role}", t) for role, t in roles.items()
                if t is not None}

    def conv(self, name, x, weight, bias, cin, **attrs):
        bins = x.channels // cin
        kf, cout = weight.shape[2], weight.shape[0]
        fo = (bins + sum(attrs.get("freq_padding", [0, 0])) - kf) // attrs.get("stride",
                                                                              [1, 1])[0] + 1
        return self.add(name, "conv2d_ft", [x], cout * fo, attrs,
                        self.tensors(name, weight=weight, bias=bias))

    def complex_conv(self, name, x, w, cin, **attrs):
        """A complex conv2d_ft (cin complex input channels); w from _complex_layer."""
        bins = x.channels // (2 * cin)
        kf, cout = w["weight"].shape[3], 2 * w["weight"].shape[1]
        fo = (bins + sum(attrs.get("freq_padding", [0, 0])) - kf) // attrs.get("stride",
                                                                              [1, 1])[0] + 1
        return self.add(name, "conv2d_ft", [x], cout * fo, dict(attrs, complex=True),
                        self.tensors(name, **w))

    def encoder(self, name, enc, x, cin):
        conv = enc.conv.conv_re
        if conv.padding_mode != "zeros":
            raise FrcrnExportError(f"{name}: padding_mode {conv.padding_mode!r} is not supported")
        pf, pt = conv.padding
        x = self.complex_conv(f"{name}.conv", x,
                              _complex_layer(enc.conv.conv_re, enc.conv.conv_im, enc.bn), cin,
                              stride=[conv.stride[0], 1], freq_padding=[pf, pf],
                              time_padding=[pt, pt])
        return self.add(f"{name}.relu", "leaky_relu", [x], x.channels,
                        {"negative_slope": enc.relu.negative_slope})

    def decoder(self, name, dec, x, cin):
        t = dec.transconv.tconv_re
        if t.output_padding != (0, 0) or t.dilation != (1, 1) or t.groups != 1:
            raise FrcrnExportError(f"{name}: output_padding, dilation and groups are not supported")
        w = _complex_layer(dec.transconv.tconv_re, dec.transconv.tconv_im, dec.bn)
        kf, cout = t.kernel_size[0], 2 * t.out_channels
        bins = x.channels // (2 * cin)
        fo = (bins - 1) * t.stride[0] + kf - 2 * t.padding[0]
        x = self.add(f"{name}.transconv", "conv_transpose2d_ft", [x], cout * fo,
                     {"stride": [t.stride[0], 1], "freq_padding": t.padding[0],
                      "time_padding": t.padding[1], "complex": True},
                     self.tensors(f"{name}.transconv", **w))
        return self.add(f"{name}.relu", "leaky_relu", [x], x.channels,
                        {"negative_slope": dec.relu.negative_slope})

    def fsmn(self, name, re, im, x, c, axis):
        """One complex FSMN layer (UniDeepFsmn re, im) on x (2C*F channels) along `axis`."""
        bins = x.channels // (2 * c)
        h = re.hidden_size
        lin = torch.cat([re.linear.weight, im.linear.weight] * 2)[:, :, None, None]
        lin_b = torch.cat([re.linear.bias, im.linear.bias] * 2)
        u = self.conv(f"{name}.linear", x, lin, lin_b, 2 * c, groups=2)
        u = self.add(f"{name}.relu", "relu", [u], u.channels)
        proj = torch.cat([re.project.weight, im.project.weight] * 2)[:, :, None, None]
        p = self.conv(f"{name}.project", u, proj, None, 4 * h, groups=4)
        taps = torch.cat([re.conv1.weight, im.conv1.weight] * 2).clone()  # [4C, 1, lorder, 1]
        taps[:, 0, -1, 0] += 1.0   # p + conv1(p): the identity on the newest tap
        order = re.lorder - 1
        if axis == "time":
            y = self.conv(f"{name}.memory", p, taps.transpose(2, 3), None, 4 * c, groups=4 * c,
                          time_padding=[order, 0])
        else:
            y = self.conv(f"{name}.memory", p, taps, None, 4 * c, groups=4 * c,
                          freq_padding=[order, 0])
        n = c * bins
        ys = self.add(f"{name}.parts", "split", [y], n, {"sizes": [n] * 4})
        xs = self.add(f"{name}.inputs", "split", [x], n, {"sizes": [n] * 2})
        y_rr, y_ir, y_ri, y_ii = [ys] + [_part(ys, k, n) for k in (1, 2, 3)]
        xr, xi = xs, _part(xs, 1, n)
        real = self.add(f"{name}.real", "sub", [self.add(f"{name}.real_a", "add", [xr, y_rr], n),
                                                self.add(f"{name}.real_b", "add", [xi, y_ii], n)],
                        n)
        imag = self.add(f"{name}.imag", "add", [xi, xr, y_ri, y_ir], n)
        return self.add(f"{name}.out", "concat", [real, imag], 2 * n)

    def se(self, name, se, x, c):
        """Cumulative squeeze-excitation on x (2C*F channels)."""
        r1, i1, r2, i2 = se.fc_r[0], se.fc_i[0], se.fc_r[2], se.fc_i[2]
        h = r1.out_features
        z = torch.zeros(h, c)
        w1 = torch.cat([torch.cat([r1.weight, z], 1), torch.cat([z, i1.weight], 1),
                        torch.cat([z, r1.weight], 1), torch.cat([i1.weight, z], 1)])
        b1 = torch.cat([r1.bias, i1.bias, r1.bias, i1.bias])
        w2 = torch.block_diag(r2.weight, i2.weight, r2.weight, i2.weight)
        b2 = torch.cat([r2.bias, i2.bias, r2.bias, i2.bias])
        a = self.add(f"{name}.squeeze", "group_mean", [x], 2 * c,
                     {"groups": 2 * c, "mode": "cumulative"})
        a = self.add(f"{name}.fc1", "linear", [a], 4 * h, None,
                     self.tensors(f"{name}.fc1", weight=w1, bias=b1))
        a = self.add(f"{name}.relu", "relu", [a], 4 * h)
        a = self.add(f"{name}.fc2", "linear", [a], 4 * c, None,
                     self.tensors(f"{name}.fc2", weight=w2, bias=b2))
        s = self.add(f"{name}.sigmoid", "sigmoid", [a], 4 * c)
        s = self.add(f"{name}.parts", "split", [s], c, {"sizes": [c] * 4})
        scale_r = self.add(f"{name}.scale_r", "sub", [s, _part(s, 1, c)], c)
        scale_i = self.add(f"{name}.scale_i", "add", [_part(s, 2, c), _part(s, 3, c)], c)
        scale = self.add(f"{name}.scale", "concat", [scale_r, scale_i], 2 * c)
        return self.add(f"{name}.excite", "mul", [x, scale], x.channels)

    def unet(self, name, u, x):
        n, c = u.model_length, u.enc_channels[1]
        skips = [x]
        for i in range(n):
            if i > 0:
                x = self.fsmn(f"{name}.fsmn_enc{i}", u.fsmn_enc[i].fsmn_re_L1,
                              u.fsmn_enc[i].fsmn_im_L1, x, c, "freq")
            x = self.encoder(f"{name}.encoder{i}", u.encoders[i], x, u.enc_channels[i])
            skips.append(self.se(f"{name}.se_layer_enc{i}", u.se_layers_enc[i], x, c))
        if x.channels != 2 * c:
            raise FrcrnExportError(f"{name}: the bottleneck has {x.channels // (2 * c)} bins; the "
                                   f"time FSMN is exported for 1")
        f = u.fsmn
        p = self.fsmn(f"{name}.fsmn.L1", f.fsmn_re_L1, f.fsmn_im_L1, x, c, "time")
        p = self.fsmn(f"{name}.fsmn.L2", f.fsmn_re_L2, f.fsmn_im_L2, p, c, "time")
        for i in range(n):
            p = self.decoder(f"{name}.decoder{i}", u.decoders[i], p, 2 * u.dec_channels[i])
            if i == n - 1:
                break
            p = self.fsmn(f"{name}.fsmn_dec{i}", u.fsmn_dec[i].fsmn_re_L1,
                          u.fsmn_dec[i].fsmn_im_L1, p, c, "freq")
            if i < n - 2:
                p = self.se(f"{name}.se_layer_dec{i}", u.se_layers_dec[i], p, c)
            p = self.complex_concat(f"{name}.skip{i}", p, skips[n - 1 - i])
        return self.complex_conv(f"{name}.linear", p,
                                 _complex_layer(u.linear.conv_re, u.linear.conv_im, None),
                                 u.dec_channels[-1])

    def complex_concat(self, name, a, c):
        """torch.cat([a, c], dim=1) of complex tensors: [a_re, c_re, a_im, c_im]."""
        sa = self.add(f"{name}.a", "split", [a], a.channels // 2, {"sizes": [a.channels // 2] * 2})
        sc = self.add(f"{name}.c", "split", [c], c.channels // 2, {"sizes": [c.channels // 2] * 2})
        return self.add(name, "concat", [sa, sc, _part(sa, 1, sa.channels),
                                         _part(sc, 1, sc.channels)], a.channels + c.channels)


def _part(v, k, channels):
    """Output k of a split node value."""
    return type(v)(f"{v.ref}:{k}", channels, v.layout)


def emit(b, name, m, x):
    """Adds the nodes of Enhancer `m` (prefix `name`) on the noisy signal x; returns the
    enhanced signal."""
    net = m.model
    mode, why = net.streaming_mode()
    if mode == "offline":
        raise FrcrnExportError(why)
    if x.channels != 1:
        raise FrcrnExportError(f"takes one channel, got {x.channels}")
    if net.win_len != net.fft_len:
        raise FrcrnExportError("win_len must equal fft_len")
    e = _Emitter(b, f"{name}." if name else "")
    bins = net.feat_dim
    stft = {"n_fft": net.fft_len, "hop": net.win_inc,
            "window": "sqrt_hann" if net.win_type in ("hann", "hanning") else "rect",
            "center": False, "pad": 0}
    X = e.add("stft", "stft", [x], 2 * bins, stft)
    u1 = e.unet("unet", net.unet, X)
    m1 = e.add("mask1", "tanh", [u1], 2 * bins)
    u2 = e.unet("unet2", net.unet2, u1)
    mask = e.add("mask", "add", [e.add("mask2", "tanh", [u2], 2 * bins), m1], 2 * bins)
    xs = e.add("spec", "split", [X], bins, {"sizes": [bins, bins]})
    ms = e.add("masks", "split", [mask], bins, {"sizes": [bins, bins]})
    xr, xi, mr, mi = xs, _part(xs, 1, bins), ms, _part(ms, 1, bins)
    mul = lambda tag, a, c: e.add(f"est.{tag}", "mul", [a, c], bins)  # noqa: E731
    est_r = e.add("est.real", "sub", [mul("rr", xr, mr), mul("ii", xi, mi)], bins)
    est_i = e.add("est.imag", "add", [mul("ri", xr, mi), mul("ir", xi, mr)], bins)
    est = e.add("est", "concat", [est_r, est_i], 2 * bins)
    y = e.add("istft", "istft", [est], 1, dict(stft, eps=1e-8))
    b.notes.append(f"{name or 'FRCRN'}: {why}")
    return y


def refuse_dccrn():
    return FrcrnExportError("export rill.nn.frcrn.Enhancer(model): DCCRN.forward returns "
                            "[spectrum, waveform, mask]; Enhancer gives the [B, 1, T] waveform")
