"""The blocks of MossFormer2 (Zhao et al. 2024, "MossFormer2: Combining transformer and RNN-free
recurrent network for enhanced time-domain monaural speech separation"), restated from
ClearerVoice-Studio `clearvoice/models/mossformer2_ss/` (mossformer2_block.py, conv_module.py,
fsmn.py, layer_norm.py) with upstream's module and parameter names, so checkpoints load with
strict=True. All blocks take [B, S, N] (frames, channels last), as upstream's do.

    ScaleNorm(d)        x / max(||x|| / sqrt(d), eps) * g                 (eps 1e-5, g [1])
    OffsetScale(d, h)   x * gamma[i] + beta[i] for i < h                  (gamma, beta [h, d])
    RotaryEmbedding(32) rotary-embedding-torch 0.8.3 `freqs` [16] (1 / 10000^(2i/32)); pairs
                        (2i, 2i+1) of the first 32 channels rotated by angle p * freqs[i] at
                        frame p (0, 1, ... from the start of the sequence)
    ConvModule(c)       x + depthwise conv1d(x) (kernel 17, no bias; padding 8 each side, or 16 on
                        the left when streaming)
    FFConvM(i, o, norm) norm -> Linear(i, o) -> SiLU -> ConvModule(o) -> Dropout
    FLASH_ShareA_FFConvM(N)
        x' = x with its first N/2 channels one frame later (token shift, x[t-1], zero at t=0)
        v, u = split(to_hidden(x'))  (FFConvM N -> 4N, ScaleNorm; 2N each)
        qk = to_qk(x') (FFConvM N -> 128); quad_q, lin_q, quad_k, lin_k = qk_offset_scale(qk)
        rotary positions on all four
        offline (upstream, non-causal): pad the frames to a multiple of the group size g (256);
            in each group  quad(w) = relu(quad_q quad_k^T / g)^2 w
            over all frames lin(w) = lin_q (lin_k^T w) / S   (S the true number of frames)
            (causal=True, upstream's flag, unused by MossFormer: quad masked to s <= t inside
            the group, lin(w) = lin_q (sum over the earlier groups of lin_k^T w) / g)
        streaming (the causal variant, see below):
            quad(w)_t = sum_{s<=t} gamma_q^(t-s) (quad_q_t . quad_k_s) w_s / W_q
            lin(w)_t  = sum_{s<=t} gamma_l^(t-s) (lin_q_t . lin_k_s) w_s / W_l
            gamma = 1 - 1/W, windows W_q = g (one group), W_l = 16 g
        att_v = quad(v) + lin(v), att_u = quad(u) + lin(u)
        y = x + to_out((att_u * v) * sigmoid(att_v * u))      (to_out: FFConvM 2N -> N)
    Gated_FSMN_Block_Dilated(N), inner channels 256:
        h = CLayerNorm(PReLU(Conv1x1 N -> 256)) ;  u = to_u(h), v = to_v(h) (FFConvM, LayerNorm)
        p = project(relu(linear(u)))             (UniDeepFsmn_dilated, project without bias)
        DilatedDenseNet: layer i (dilation 2^i, i = 0, 1) takes [out_{i-1}, ..., out_0, p]
            (256 (i+1) channels, newest first), a grouped conv over time (groups 256: output
            channel c sees input channels c(i+1) .. c(i+1)+i; kernel 39, no bias; padding
            19 * 2^i each side, or 38 * 2^i on the left when streaming), InstanceNorm (statistics
            of each channel over the utterance; streaming: over frames 0..t), PReLU(256)
        y = x + Conv1x1 256 -> N(CLayerNorm(v * (u + out_last) + h))

The streaming variant (streaming=True) changes only what cannot stream and keeps every weight:
causal depthwise and dilated convolutions (the same kernels, all taps in the past), cumulative
statistics instead of the InstanceNorm's utterance statistics, and the attention above: both
parts become causal linear attention with a fixed exponential decay (Rill's linear_attention op,
variant simple_gla, carried across blocks as a 128 x 4N state per part). The quadratic in-group
part has no exact streaming form on Rill's ops (relu^2 of q.k does not factor, and its groups are
anchored at absolute frame 0), so it is replaced by the decayed causal linear attention over about
one group; the cross-group part's mean over the utterance (/S) becomes an exponentially weighted
mean over about 16 groups. Rotary positions enter only through q.k, which depends on t - s alone
(relative positions). The token shift already is causal."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from .norm import GroupNorm as _StreamingGroupNorm

LIN_WINDOW_GROUPS = 16  # streaming: the cross-group part's decay window, in groups


class ScaleNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.scale = dim ** -0.5
        self.eps = eps
        self.g = nn.Parameter(torch.ones(1))

    def forward(self, x):
        norm = torch.norm(x, dim=-1, keepdim=True) * self.scale
        return x / norm.clamp(min=self.eps) * self.g


class ScaledSinuEmbedding(nn.Module):
    """Absolute sinusoidal positions [S, N]: [sin(t f), cos(t f)] * scale, f = 10000^(-2i/N)."""

    def __init__(self, dim):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("inv_freq", 1.0 / (10000 ** (torch.arange(0, dim, 2).float() / dim)))

    def forward(self, x):
        t = torch.arange(x.shape[1], device=x.device).type_as(self.inv_freq)
        sinu = t[:, None] * self.inv_freq[None, :]
        return torch.cat((sinu.sin(), sinu.cos()), dim=-1) * self.scale


class OffsetScale(nn.Module):
    def __init__(self, dim, heads=1):
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(heads, dim))
        self.beta = nn.Parameter(torch.zeros(heads, dim))
        nn.init.normal_(self.gamma, std=0.02)

    def forward(self, x):
        out = x[..., None, :] * self.gamma + self.beta
        return out.unbind(dim=-2)


class RotaryEmbedding(nn.Module):
    """rotary-embedding-torch's RotaryEmbedding(dim) as MossFormer2 uses it (theta 10000,
    interleaved pairs, positions 0..S-1 along dim -2); `freqs` is a (frozen) parameter."""

    def __init__(self, dim, theta=10000):
        super().__init__()
        self.dim = dim
        freqs = 1.0 / (theta ** (torch.arange(0, dim, 2)[:dim // 2].float() / dim))
        self.freqs = nn.Parameter(freqs, requires_grad=False)

    def rotate_queries_or_keys(self, t):
        pos = torch.arange(t.shape[-2], device=t.device, dtype=t.dtype)
        angle = pos[:, None] * self.freqs[None, :]
        # each angle twice (repeat_interleave(2, dim=-1); written as a stack because
        # torch.onnx 1.13's repeat_interleave corrupts the -1 of the reshape below)
        angle = torch.stack((angle, angle), dim=-1).reshape(angle.shape[0], -1)
        rot = t[..., :2 * self.freqs.numel()]
        pairs = rot.reshape(*rot.shape[:-1], -1, 2)
        half = torch.stack((-pairs[..., 1], pairs[..., 0]), dim=-1).reshape(rot.shape)
        out = rot * angle.cos() + half * angle.sin()
        return torch.cat((out, t[..., 2 * self.freqs.numel():]), dim=-1)


class Transpose(nn.Module):
    def __init__(self, shape):
        super().__init__()
        self.shape = shape

    def forward(self, x):
        return x.transpose(*self.shape)


class DepthwiseConv1d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=False):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, groups=in_channels,
                              stride=stride, padding=padding, bias=bias)

    def forward(self, x):
        return self.conv(x)


class ConvModule(nn.Module):
    def __init__(self, in_channels, kernel_size=17, streaming=False):
        super().__init__()
        self.streaming = streaming
        # upstream's layout (for the state_dict name sequential.1.conv); forward pads explicitly
        self.sequential = nn.Sequential(
            Transpose(shape=(1, 2)),
            DepthwiseConv1d(in_channels, in_channels, kernel_size, padding=(kernel_size - 1) // 2))

    @property
    def conv(self):
        return self.sequential[1].conv

    def padding(self):
        """(left, right) zero frames of the depthwise conv."""
        k = self.conv.kernel_size[0]
        return (k - 1, 0) if self.streaming else ((k - 1) // 2, (k - 1) // 2)

    def forward(self, x):
        h = F.conv1d(F.pad(x.transpose(1, 2), self.padding()), self.conv.weight,
                     groups=self.conv.groups)
        return x + h.transpose(1, 2)


class FFConvM(nn.Module):
    def __init__(self, dim_in, dim_out, norm_klass=nn.LayerNorm, dropout=0.1, streaming=False):
        super().__init__()
        self.mdl = nn.Sequential(norm_klass(dim_in), nn.Linear(dim_in, dim_out), nn.SiLU(),
                                 ConvModule(dim_out, streaming=streaming), nn.Dropout(dropout))

    def forward(self, x):
        return self.mdl(x)


def _decayed_causal_attention(q, k, w, window, chunk=256):
    """sum_{s<=t} gamma^(t-s) (q_t . k_s) w_s / window, gamma = 1 - 1/window ([B, S, *]), in
    chunks: the quadratic form inside a chunk, plus the decayed state of the chunks before
    (state = sum_{s<start} gamma^(start-1-s) k_s w_s^T)."""
    log_gamma = math.log1p(-1.0 / window)
    state = q.new_zeros(q.shape[0], q.shape[-1], w.shape[-1])
    out = []
    for start in range(0, q.shape[-2], chunk):
        qc, kc, wc = (t[:, start:start + chunk] for t in (q, k, w))
        n = qc.shape[-2]
        i = torch.arange(n, dtype=torch.float64, device=q.device)
        lag = i[:, None] - i[None, :]
        decay = torch.where(lag >= 0, (log_gamma * lag.clamp_min(0)).exp(), lag.new_zeros(()))
        into = (log_gamma * (i + 1)).exp().to(q.dtype)[:, None]   # gamma^(t - start + 1)
        out.append(((qc @ kc.transpose(-1, -2)) * decay.to(q.dtype)) @ wc + (qc * into) @ state)
        age = (log_gamma * (n - 1 - i)).exp().to(q.dtype)[:, None]  # gamma^(start + n - 1 - s)
        state = math.exp(log_gamma * n) * state + (kc * age).transpose(-1, -2) @ wc
    return torch.cat(out, dim=-2) / window


class FLASH_ShareA_FFConvM(nn.Module):
    def __init__(self, *, dim, group_size=256, query_key_dim=128, expansion_factor=1.0,
                 causal=False, dropout=0.1, rotary_pos_emb=None, norm_klass=nn.LayerNorm,
                 shift_tokens=True, streaming=False):
        super().__init__()
        hidden_dim = int(dim * expansion_factor)
        self.group_size = group_size
        self.causal = causal
        self.shift_tokens = shift_tokens
        self.streaming = streaming
        self.rotary_pos_emb = rotary_pos_emb
        self.dropout = nn.Dropout(dropout)
        self.to_hidden = FFConvM(dim, hidden_dim, norm_klass, dropout, streaming)
        self.to_qk = FFConvM(dim, query_key_dim, norm_klass, dropout, streaming)
        self.qk_offset_scale = OffsetScale(query_key_dim, heads=4)
        self.to_out = FFConvM(dim * 2, dim, norm_klass, dropout, streaming)
        self.gateActivate = nn.Sigmoid()

    def windows(self):
        """Streaming: the decay windows (frames) of the in-group and cross-group parts."""
        return self.group_size, LIN_WINDOW_GROUPS * self.group_size

    def forward(self, x):
        residual = x
        if self.shift_tokens:
            x_shift, x_pass = x.chunk(2, dim=-1)
            x = torch.cat((F.pad(x_shift, (0, 0, 1, -1)), x_pass), dim=-1)
        v, u = self.to_hidden(x).chunk(2, dim=-1)
        quad_q, lin_q, quad_k, lin_k = self.qk_offset_scale(self.to_qk(x))
        att_v, att_u = self.cal_attention(quad_q, lin_q, quad_k, lin_k, v, u)
        out = (att_u * v) * self.gateActivate(att_v * u)
        return residual + self.to_out(out)

    def cal_attention(self, quad_q, lin_q, quad_k, lin_k, v, u):
        if self.rotary_pos_emb is not None:
            quad_q, lin_q, quad_k, lin_k = map(self.rotary_pos_emb.rotate_queries_or_keys,
                                               (quad_q, lin_q, quad_k, lin_k))
        if self.streaming:
            wq, wl = self.windows()
            vu = torch.cat((v, u), dim=-1)
            att = (_decayed_causal_attention(quad_q, quad_k, vu, wq) +
                   _decayed_causal_attention(lin_q, lin_k, vu, wl))
            return att.chunk(2, dim=-1)
        B, n, g = quad_q.shape[0], quad_q.shape[-2], self.group_size
        pad = -n % g
        quad_q, quad_k, lin_q, lin_k, v, u = (
            F.pad(t, (0, 0, 0, pad)).reshape(B, -1, g, t.shape[-1])
            for t in (quad_q, quad_k, lin_q, lin_k, v, u))
        attn = F.relu(quad_q @ quad_k.transpose(-1, -2) / g) ** 2
        attn = self.dropout(attn)
        outs = []
        for w in (v, u):
            if self.causal:  # upstream's causal flag: in-group causal mask, the linear part
                # reads the groups before (exclusive cumulative sum, / g)
                quad = attn.tril() @ w
                kv = (lin_k.transpose(-1, -2) @ w / g).cumsum(dim=1)
                lin = lin_q @ F.pad(kv, (0, 0, 0, 0, 1, -1))
            else:
                quad = attn @ w
                lin = lin_q @ (torch.einsum("bgnd,bgne->bde", lin_k, w) / n)[:, None]
            outs.append((quad + lin).reshape(B, -1, w.shape[-1])[:, :n])
        return outs


class CLayerNorm(nn.LayerNorm):
    """nn.LayerNorm over the channels of [B, C, S] (per frame)."""

    def forward(self, sample):
        return super().forward(sample.transpose(1, 2)).transpose(1, 2)


def instance_norm(x, norm, streaming):
    """nn.InstanceNorm2d(affine) on [B, C, S, 1]: statistics of each channel over the utterance;
    streaming: over frames 0..t (the group_norm op, groups C, mode cumulative)."""
    if not streaming:
        return norm(x)
    C = x.shape[1]
    stats = _StreamingGroupNorm(C, C, eps=norm.eps, mode="cumulative", affine=False)
    y = stats(x[..., 0])
    return (y * norm.weight[None, :, None] + norm.bias[None, :, None])[..., None]


class DilatedDenseNet(nn.Module):
    def __init__(self, depth=4, lorder=20, in_channels=64, streaming=False):
        super().__init__()
        self.depth, self.in_channels, self.streaming = depth, in_channels, streaming
        self.twidth = lorder * 2 - 1
        self.kernel_size = (self.twidth, 1)
        for i in range(depth):
            dil = 2 ** i
            pad_length = lorder + (dil - 1) * (lorder - 1) - 1
            setattr(self, f"pad{i + 1}", nn.ConstantPad2d((0, 0, pad_length, pad_length), 0.0))
            setattr(self, f"conv{i + 1}",
                    nn.Conv2d(in_channels * (i + 1), in_channels, kernel_size=self.kernel_size,
                              dilation=(dil, 1), groups=in_channels, bias=False))
            setattr(self, f"norm{i + 1}", nn.InstanceNorm2d(in_channels, affine=True))
            setattr(self, f"prelu{i + 1}", nn.PReLU(in_channels))

    def time_padding(self, i):
        """(left, right) zero frames of layer i's conv."""
        p = getattr(self, f"pad{i + 1}").padding[2]
        return (2 * p, 0) if self.streaming else (p, p)

    def forward(self, x):
        skip = x
        for i in range(self.depth):
            out = F.pad(skip, (0, 0) + self.time_padding(i))
            out = getattr(self, f"conv{i + 1}")(out)
            out = instance_norm(out, getattr(self, f"norm{i + 1}"), self.streaming)
            out = getattr(self, f"prelu{i + 1}")(out)
            skip = torch.cat([out, skip], dim=1)
        return out


class UniDeepFsmn_dilated(nn.Module):
    def __init__(self, input_dim, output_dim, lorder=None, hidden_size=None, depth=2,
                 streaming=False):
        super().__init__()
        self.input_dim, self.output_dim, self.depth = input_dim, output_dim, depth
        self.lorder, self.hidden_size = lorder, hidden_size
        self.linear = nn.Linear(input_dim, hidden_size)
        self.project = nn.Linear(hidden_size, output_dim, bias=False)
        self.conv = DilatedDenseNet(depth, lorder, output_dim, streaming)

    def forward(self, input):
        p1 = self.project(F.relu(self.linear(input)))
        out = self.conv(p1.transpose(1, 2)[..., None])      # [B, C, S, 1]
        return input + out[..., 0].transpose(1, 2)


class Gated_FSMN_dilated(nn.Module):
    def __init__(self, in_channels, out_channels, lorder, hidden_size, streaming=False):
        super().__init__()
        self.to_u = FFConvM(in_channels, hidden_size, nn.LayerNorm, 0.1, streaming)
        self.to_v = FFConvM(in_channels, hidden_size, nn.LayerNorm, 0.1, streaming)
        self.fsmn = UniDeepFsmn_dilated(in_channels, out_channels, lorder, hidden_size,
                                        streaming=streaming)

    def forward(self, x):
        return self.to_v(x) * self.fsmn(self.to_u(x)) + x


class Gated_FSMN_Block_Dilated(nn.Module):
    def __init__(self, dim, inner_channels=256, group_size=256, streaming=False):
        super().__init__()
        self.group_size = group_size
        self.conv1 = nn.Sequential(nn.Conv1d(dim, inner_channels, kernel_size=1), nn.PReLU())
        self.norm1 = CLayerNorm(inner_channels)
        self.gated_fsmn = Gated_FSMN_dilated(inner_channels, inner_channels, lorder=20,
                                             hidden_size=inner_channels, streaming=streaming)
        self.norm2 = CLayerNorm(inner_channels)
        self.conv2 = nn.Conv1d(inner_channels, dim, kernel_size=1)

    def forward(self, input):
        norm1 = self.norm1(self.conv1(input.transpose(2, 1)))
        seq_out = self.gated_fsmn(norm1.transpose(2, 1))
        return self.conv2(self.norm2(seq_out.transpose(2, 1))).transpose(2, 1) + input


class MossformerBlock_GFSMN(nn.Module):
    """depth x [FLASH_ShareA_FFConvM, Gated_FSMN_Block_Dilated]; one RotaryEmbedding(32) shared
    by the FLASH layers (in the state_dict under each layer's name)."""

    def __init__(self, *, dim, depth, group_size=256, query_key_dim=128, expansion_factor=4.0,
                 causal=False, attn_dropout=0.1, shift_tokens=True, streaming=False):
        super().__init__()
        self.group_size = group_size
        rotary_pos_emb = RotaryEmbedding(dim=min(32, query_key_dim))
        self.fsmn = nn.ModuleList([Gated_FSMN_Block_Dilated(dim, streaming=streaming)
                                   for _ in range(depth)])
        self.layers = nn.ModuleList([
            FLASH_ShareA_FFConvM(dim=dim, group_size=group_size, query_key_dim=query_key_dim,
                                 expansion_factor=expansion_factor, causal=causal,
                                 dropout=attn_dropout, rotary_pos_emb=rotary_pos_emb,
                                 norm_klass=ScaleNorm, shift_tokens=shift_tokens,
                                 streaming=streaming)
            for _ in range(depth)])

    def forward(self, x):
        for flash, fsmn in zip(self.layers, self.fsmn):
            x = fsmn(flash(x))
        return x
