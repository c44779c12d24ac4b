"""FRCRN's layers (ClearerVoice-Studio `clearvoice/models/frcrn_se/`: complex_nn.py, se_layer.py,
conv_stft.py) restated with upstream's module and parameter names. Complex tensors are
[B, C, F, T, 2] (last axis real, imaginary); every complex layer is a pair of real layers:

    ComplexConv2d           re = conv_re(xr) - conv_im(xi),  im = conv_re(xi) + conv_im(xr)
    ComplexConvTranspose2d  the same with tconv_re / tconv_im (nn.ConvTranspose2d)
    ComplexBatchNorm2d      bn_re on the real part, bn_im on the imaginary part
    UniDeepFsmn             p = project(relu(linear(x))); out = x + p + conv1(p), conv1 a depthwise
                            kernel of lorder taps over the sequence axis with lorder - 1 zeros
                            before (causal)
    ComplexUniDeepFsmn_L1   one complex FSMN layer (fsmn_re_L1, fsmn_im_L1) along frequency: the
                            sequence is the bins of one frame, the features the channels
    ComplexUniDeepFsmn      two complex FSMN layers along time (the UNet bottleneck, C x F features)
    SELayer                 squeeze-excitation: mean of the real and of the imaginary part over
                            (frequency, time) -> fc_r, fc_i (Linear-ReLU-Linear-Sigmoid);
                            scale_r = fc_r(avg_r) - fc_i(avg_i), scale_i = fc_r(avg_i) + fc_i(avg_r)
    ConvSTFT / ConviSTFT    frames of win_len every win_inc without padding, sqrt(periodic Hann)
                            window, real rfft rows then imaginary rows; the inverse is the
                            pseudo-inverse basis times the window, overlap-added and divided by the
                            overlap-added window^2 + 1e-8

SELayer(cumulative=True) is the streaming variant FRCRN's README suggests: at frame t the means run
over the bins and frames 0..t only (upstream has no such flag)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def _pair(fn, x):
    """Applies a real layer to the real and imaginary parts of x [..., 2] separately."""
    return fn(x[..., 0]), fn(x[..., 1])


def _complex(re, im, x):
    """The complex layer of the real layers re, im on x [..., 2]: (re(xr) - im(xi), re(xi) +
    im(xr)) stacked on the last axis."""
    rr, ri = _pair(re, x)
    ir, ii = _pair(im, x)
    return torch.stack((rr - ii, ri + ir), dim=-1)


class ComplexConv2d(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, **kwargs):
        super().__init__()
        args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias,
                    **kwargs)
        self.conv_re = nn.Conv2d(in_channel, out_channel, kernel_size, **args)
        self.conv_im = nn.Conv2d(in_channel, out_channel, kernel_size, **args)

    def forward(self, x):
        return _complex(self.conv_re, self.conv_im, x)


class ComplexConvTranspose2d(nn.Module):
    def __init__(self, in_channel, out_channel, kernel_size, stride=1, padding=0, output_padding=0,
                 dilation=1, groups=1, bias=True, **kwargs):
        super().__init__()
        args = dict(kernel_size=kernel_size, stride=stride, padding=padding,
                    output_padding=output_padding, groups=groups, bias=bias, dilation=dilation,
                    **kwargs)
        self.tconv_re = nn.ConvTranspose2d(in_channel, out_channel, **args)
        self.tconv_im = nn.ConvTranspose2d(in_channel, out_channel, **args)

    def forward(self, x):
        return _complex(self.tconv_re, self.tconv_im, x)


class ComplexBatchNorm2d(nn.Module):
    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, **kwargs):
        super().__init__()
        args = dict(eps=eps, momentum=momentum, affine=affine,
                    track_running_stats=track_running_stats, **kwargs)
        self.bn_re = nn.BatchNorm2d(num_features, **args)
        self.bn_im = nn.BatchNorm2d(num_features, **args)

    def forward(self, x):
        return torch.stack((self.bn_re(x[..., 0]), self.bn_im(x[..., 1])), dim=-1)


class UniDeepFsmn(nn.Module):
    """x [N, L, input_dim] -> [N, L, output_dim]; the memory runs over the L axis, causally."""

    def __init__(self, input_dim, output_dim, lorder=None, hidden_size=None):
        super().__init__()
        self.input_dim, self.output_dim = input_dim, output_dim
        if lorder is None:
            return
        self.lorder, self.hidden_size = lorder, hidden_size
        self.linear = nn.Linear(input_dim, hidden_size)
        self.project = nn.Linear(hidden_size, output_dim, bias=False)
        self.conv1 = nn.Conv2d(output_dim, output_dim, [lorder, 1], [1, 1], groups=output_dim,
                               bias=False)

    def forward(self, x):
        p = self.project(F.relu(self.linear(x)))            # [N, L, D]
        q = p.transpose(1, 2).unsqueeze(-1)                 # [N, D, L, 1]
        memory = self.conv1(F.pad(q, (0, 0, self.lorder - 1, 0)))
        return x + (q + memory).squeeze(-1).transpose(1, 2)


def _complex_fsmn(re, im, xr, xi):
    """One complex FSMN layer: (re(xr) - im(xi), re(xi) + im(xr))."""
    return re(xr) - im(xi), re(xi) + im(xr)


class ComplexUniDeepFsmn_L1(nn.Module):  # noqa: N801  upstream's name
    """One complex FSMN layer along frequency: for each frame, the bins are the sequence and the
    channels the features."""

    def __init__(self, nIn, nHidden=128, nOut=128):  # noqa: N803
        super().__init__()
        self.fsmn_re_L1 = UniDeepFsmn(nIn, nHidden, 20, nHidden)
        self.fsmn_im_L1 = UniDeepFsmn(nIn, nHidden, 20, nHidden)

    def forward(self, x):
        b, c, h, t, _ = x.shape
        seq = x.permute(0, 3, 2, 1, 4).reshape(b * t, h, c, 2)     # [bT, bins, channels, 2]
        re, im = _complex_fsmn(self.fsmn_re_L1, self.fsmn_im_L1, seq[..., 0], seq[..., 1])
        out = torch.stack((re, im), dim=-1).reshape(b, t, h, c, 2)
        return out.permute(0, 3, 2, 1, 4)


class ComplexUniDeepFsmn(nn.Module):
    """Two complex FSMN layers along time; the features are the C x F values of a frame."""

    def __init__(self, nIn, nHidden=128, nOut=128):  # noqa: N803
        super().__init__()
        self.fsmn_re_L1 = UniDeepFsmn(nIn, nHidden, 20, nHidden)
        self.fsmn_im_L1 = UniDeepFsmn(nIn, nHidden, 20, nHidden)
        self.fsmn_re_L2 = UniDeepFsmn(nHidden, nOut, 20, nHidden)
        self.fsmn_im_L2 = UniDeepFsmn(nHidden, nOut, 20, nHidden)

    def forward(self, x):
        b, c, h, t, _ = x.shape
        seq = x.reshape(b, c * h, t, 2).transpose(1, 2)            # [b, T, C*F, 2]
        re, im = _complex_fsmn(self.fsmn_re_L1, self.fsmn_im_L1, seq[..., 0], seq[..., 1])
        re, im = _complex_fsmn(self.fsmn_re_L2, self.fsmn_im_L2, re, im)
        out = torch.stack((re, im), dim=-1).transpose(1, 2)
        return out.reshape(b, c, h, t, 2)


class SELayer(nn.Module):
    """Complex squeeze-excitation on [B, C, F, T, 2]. cumulative=False (upstream): one mean over
    all bins and frames; True: at frame t the mean over all bins and frames 0..t."""

    def __init__(self, channel, reduction=16, cumulative=False):
        super().__init__()
        self.cumulative = cumulative
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc_r = self._excitation(channel, reduction)
        self.fc_i = self._excitation(channel, reduction)

    @staticmethod
    def _excitation(channel, reduction):
        return nn.Sequential(nn.Linear(channel, channel // reduction), nn.ReLU(inplace=True),
                             nn.Linear(channel // reduction, channel), nn.Sigmoid())

    def squeeze(self, part):
        """[B, C, F, T] -> [B, T', C] means (T' = 1, or T when cumulative)."""
        if not self.cumulative:
            return self.avg_pool(part).flatten(1)[:, None]
        per_frame = part.mean(dim=2)                               # [B, C, T]
        count = torch.arange(1, part.shape[-1] + 1, dtype=part.dtype)
        return (per_frame.cumsum(dim=-1) / count).transpose(1, 2)

    def forward(self, x):
        a_r, a_i = _pair(self.squeeze, x)
        s_r = self.fc_r(a_r) - self.fc_i(a_i)                      # [B, T', C]
        s_i = self.fc_r(a_i) + self.fc_i(a_r)
        scale = torch.stack((s_r, s_i), dim=-1).permute(0, 2, 1, 3)  # [B, C, T', 2]
        return x * scale[:, :, None]


def _sqrt_window(win_type, win_len):
    if win_type in (None, "None"):
        return np.ones(win_len)
    if win_type not in ("hann", "hanning"):
        raise ValueError(f"win_type {win_type!r}: only 'hanning' (FRCRN's) and None are supported")
    n = np.arange(win_len)
    return (0.5 - 0.5 * np.cos(2 * np.pi * n / win_len)) ** 0.5  # scipy's periodic hann ** 0.5


def stft_kernels(win_len, fft_len, win_type, inverse=False):
    """The [fft_len + 2, 1, win_len] basis of ConvSTFT (inverse: ConviSTFT) and the window."""
    basis = np.fft.rfft(np.eye(fft_len))[:win_len]
    kernel = np.concatenate([basis.real, basis.imag], axis=1).T   # [2 * bins, win_len]
    if inverse:
        kernel = np.linalg.pinv(kernel).T
    window = _sqrt_window(win_type, win_len)
    kernel = (kernel * window)[:, None, :]
    return (torch.from_numpy(kernel.astype(np.float32)),
            torch.from_numpy(window[None, :, None].astype(np.float32)))


class _ConvBasis(nn.Module):
    """What ConvSTFT and ConviSTFT share: the fft_len default, the frozen kernel, the settings
    (and, inverse, ConviSTFT's window and enframe buffers)."""

    def __init__(self, win_len, win_inc, fft_len, win_type, feature_type, fix, inverse):
        super().__init__()
        if feature_type != "complex":
            raise ValueError("only feature_type 'complex' (FRCRN's) is implemented")
        self.fft_len = fft_len or int(2 ** np.ceil(np.log2(win_len)))
        kernel, window = stft_kernels(win_len, self.fft_len, win_type, inverse)
        self.weight = nn.Parameter(kernel, requires_grad=not fix)
        self.feature_type, self.win_type = feature_type, win_type
        self.win_len, self.win_inc, self.stride, self.dim = win_len, win_inc, win_inc, self.fft_len
        if inverse:  # ConviSTFT's buffers
            self.register_buffer("window", window)
            self.register_buffer("enframe", torch.eye(win_len)[:, None, :])


class ConvSTFT(_ConvBasis):
    """[B, T] or [B, 1, T] -> [B, 2 * bins, frames] (feature_type "complex": real rows then
    imaginary rows), frames = (T - win_len) // win_inc + 1."""

    def __init__(self, win_len, win_inc, fft_len=None, win_type="hamming", feature_type="real",
                 fix=True):
        super().__init__(win_len, win_inc, fft_len, win_type, feature_type, fix, False)

    def forward(self, x):
        x = x.unsqueeze(1) if x.dim() == 2 else x
        return F.conv1d(x, self.weight, stride=self.stride)


class ConviSTFT(_ConvBasis):
    """[B, 2 * bins, frames] -> [B, 1, (frames - 1) * win_inc + win_len]."""

    def __init__(self, win_len, win_inc, fft_len=None, win_type="hamming", feature_type="real",
                 fix=True):
        super().__init__(win_len, win_inc, fft_len, win_type, feature_type, fix, True)

    def forward(self, x):
        y = F.conv_transpose1d(x, self.weight, stride=self.stride)
        w2 = self.window.repeat(1, 1, x.shape[-1]) ** 2
        envelope = F.conv_transpose1d(w2, self.enframe, stride=self.stride)
        return y / (envelope + 1e-8)
