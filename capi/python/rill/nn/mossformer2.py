"""MossFormer2 speech separation (ClearerVoice-Studio `clearvoice/models/mossformer2_ss/`
mossformer2.py, class MossFormer; MossFormer2_SS_16K wraps it as `model.`) with upstream's
arguments, module and parameter names, so its checkpoints load with strict=True. The blocks are
in mossformer2_blocks.py.

    x [B, T] -> enc: Conv1d(1 -> N, kernel K, stride K/2, no bias) -> ReLU       w [B, N, S]
    mask_net:  norm: GroupNorm(1, N, eps 1e-8) (statistics over channels and frames of the
                     utterance) -> conv1d_encoder 1x1 (no bias)
               + pos_enc: ScaledSinuEmbedding (absolute frame positions)
               mdl (Computation_Block): h = intra_norm(intra_mdl(x)) + x
                     intra_mdl (MossFormerM): num_blocks x [FLASH_ShareA_FFConvM,
                                Gated_FSMN_Block_Dilated] -> LayerNorm(N, eps 1e-6)
                     intra_norm: GroupNorm(1, N, eps 1e-8)
               -> prelu -> conv1d_out 1x1 (N -> spks N); per speaker s (channels s N ..):
                  tanh(output.0 1x1) * sigmoid(output_gate.0 1x1) -> conv1_decoder 1x1
                  (no bias) -> ReLU = mask_s
    dec: ConvTranspose1d(N -> 1, kernel K, stride K/2, no bias)(mask_s * w), padded/cut to T

forward(x [B, T]) returns upstream's list of num_spks tensors [B, T]; forward(x [B, 1, T])
returns them stacked, [B, num_spks, T] (the form rill.export takes).

Released configuration (MossFormer2_SS_16K): N = 512, 24 blocks, K = 16, 2 speakers, norm
'ln', global positions: offline only (utterance statistics, non-causal attention and
convolutions, absolute positions; streaming_mode() says so and rill.export refuses it).
streaming=True (or streaming_counterpart(model), the same weights) is the variant that streams
exactly (mossformer2_blocks.py says what changes): per-frame statistics for the two GroupNorms,
no absolute positions, causal convolutions, cumulative InstanceNorms, causal decayed linear
attention. Its only look-ahead is the encoder framing (K - 1 samples). docs/mossformer2.md."""

import copy

import torch
import torch.nn as nn
import torch.nn.functional as F

from .mossformer2_blocks import MossformerBlock_GFSMN, ScaledSinuEmbedding

EPS = 1e-8


class FrameGroupNorm(nn.GroupNorm):
    """nn.GroupNorm(1, C) with 'ln's parameters; streaming: statistics of each frame over the
    channels (the group_norm op, mode frame) instead of over the utterance."""

    def __init__(self, num_channels, eps=EPS, streaming=False):
        super().__init__(1, num_channels, eps=eps)
        self.streaming = streaming

    def forward(self, x):
        if not self.streaming:
            return super().forward(x)
        y = F.layer_norm(x.transpose(1, 2), (x.shape[1],), eps=self.eps).transpose(1, 2)
        return y * self.weight[None, :, None] + self.bias[None, :, None]


class Encoder(nn.Module):
    def __init__(self, kernel_size=2, out_channels=64, in_channels=1):
        super().__init__()
        self.conv1d = nn.Conv1d(in_channels, out_channels, kernel_size, stride=kernel_size // 2,
                                groups=1, bias=False)
        self.in_channels = in_channels

    def forward(self, x):
        if self.in_channels == 1:
            x = x.unsqueeze(1)
        return F.relu(self.conv1d(x))


class Decoder(nn.ConvTranspose1d):
    """[B, N, S] -> [B, L] (upstream squeezes the channel)."""

    def forward(self, x):
        return super().forward(x)[:, 0]


class MossFormerM(nn.Module):
    def __init__(self, num_blocks, d_model=None, causal=False, group_size=256, query_key_dim=128,
                 expansion_factor=4.0, attn_dropout=0.1, streaming=False):
        super().__init__()
        self.mossformerM = MossformerBlock_GFSMN(
            dim=d_model, depth=num_blocks, group_size=group_size, query_key_dim=query_key_dim,
            expansion_factor=expansion_factor, causal=causal, attn_dropout=attn_dropout,
            streaming=streaming)
        self.norm = nn.LayerNorm(d_model, eps=1e-6)

    def forward(self, src):
        return self.norm(self.mossformerM(src))


class Computation_Block(nn.Module):
    def __init__(self, num_blocks, out_channels, norm="ln", skip_around_intra=True,
                 streaming=False):
        super().__init__()
        self.intra_mdl = MossFormerM(num_blocks=num_blocks, d_model=out_channels,
                                     streaming=streaming)
        self.skip_around_intra = skip_around_intra
        self.norm = norm
        if norm is not None:
            self.intra_norm = FrameGroupNorm(out_channels, streaming=streaming)

    def forward(self, x):
        intra = self.intra_mdl(x.permute(0, 2, 1)).permute(0, 2, 1)
        if self.norm is not None:
            intra = self.intra_norm(intra)
        return intra + x if self.skip_around_intra else intra


class MossFormer_MaskNet(nn.Module):
    def __init__(self, in_channels, out_channels, num_blocks=24, norm="ln", num_spks=2,
                 skip_around_intra=True, use_global_pos_enc=True, max_length=20000,
                 streaming=False):
        super().__init__()
        if norm != "ln":
            raise ValueError(f"norm {norm!r}: only upstream's 'ln' (GroupNorm(1, N)) is restated")
        self.num_spks, self.num_blocks = num_spks, num_blocks
        self.norm = FrameGroupNorm(in_channels, streaming=streaming)
        self.conv1d_encoder = nn.Conv1d(in_channels, out_channels, 1, bias=False)
        self.use_global_pos_enc = use_global_pos_enc
        if use_global_pos_enc:
            self.pos_enc = ScaledSinuEmbedding(out_channels)
        self.mdl = Computation_Block(num_blocks, out_channels, norm, skip_around_intra, streaming)
        self.conv1d_out = nn.Conv1d(out_channels, out_channels * num_spks, kernel_size=1)
        self.conv1_decoder = nn.Conv1d(out_channels, in_channels, 1, bias=False)
        self.prelu = nn.PReLU()
        self.activation = nn.ReLU()
        self.output = nn.Sequential(nn.Conv1d(out_channels, out_channels, 1), nn.Tanh())
        self.output_gate = nn.Sequential(nn.Conv1d(out_channels, out_channels, 1), nn.Sigmoid())

    def forward(self, x):
        """[B, N, S] -> masks [spks, B, N, S]."""
        x = self.conv1d_encoder(self.norm(x))
        if self.use_global_pos_enc:
            x = x + self.pos_enc(x.transpose(1, -1)).transpose(0, -1)
        x = self.conv1d_out(self.prelu(self.mdl(x)))
        B, _, S = x.shape
        x = x.view(B * self.num_spks, -1, S)
        x = self.conv1_decoder(self.output(x) * self.output_gate(x))
        x = self.activation(x.view(B, self.num_spks, -1, S))
        return x.transpose(0, 1)


class MossFormer(nn.Module):
    def __init__(self, in_channels=512, out_channels=512, num_blocks=24, kernel_size=16,
                 norm="ln", num_spks=2, skip_around_intra=True, use_global_pos_enc=True,
                 max_length=20000, streaming=False):
        super().__init__()
        if streaming and use_global_pos_enc:
            raise ValueError("streaming=True takes use_global_pos_enc=False: absolute positions "
                             "do not stream (streaming_counterpart() drops them)")
        if in_channels != out_channels:
            raise ValueError("in_channels must equal out_channels (the masks multiply the "
                             "encoder output and the decoder reads out_channels)")
        self.num_spks = num_spks
        self.kernel_size = kernel_size
        self.streaming = streaming
        self.enc = Encoder(kernel_size=kernel_size, out_channels=in_channels, in_channels=1)
        self.mask_net = MossFormer_MaskNet(in_channels, out_channels, num_blocks, norm, num_spks,
                                           skip_around_intra, use_global_pos_enc, max_length,
                                           streaming)
        self.dec = Decoder(in_channels=out_channels, out_channels=1, kernel_size=kernel_size,
                           stride=kernel_size // 2, bias=False)

    def forward(self, input):
        stacked = input.dim() == 3
        if stacked:
            if input.shape[1] != 1:
                raise ValueError(f"MossFormer takes one mixture channel, got {input.shape[1]}")
            input = input[:, 0]
        x = self.enc(input)
        mask = self.mask_net(x)
        T = input.shape[-1]
        out = []
        for s in range(self.num_spks):
            y = self.dec(x * mask[s])
            out.append(F.pad(y, (0, T - y.shape[-1])) if y.shape[-1] < T else y[:, :T])
        return torch.stack(out, dim=1) if stacked else out

    def streaming_mode(self):
        """(mode, explanation): "exact" (the streaming variant: causal, its only look-ahead the
        encoder framing) or "offline" (the released form: needs the whole utterance)."""
        hop = self.kernel_size // 2
        if self.streaming:
            return ("exact", f"streaming=True: causal throughout (per-frame GroupNorms, cumulative "
                    f"InstanceNorms, causal convolutions, decayed causal linear attention carried "
                    f"across blocks, rotary positions relative in q.k): streams exactly; the only "
                    f"look-ahead is the encoder framing (frames of {self.kernel_size} samples "
                    f"every {hop})")
        return ("offline", "the released MossFormer2 needs the whole utterance: GroupNorm 'ln' "
                "normalises over all frames (twice), the attention is bidirectional inside "
                "256-frame groups and its cross-group part averages over the whole utterance "
                "(/S), the FFConvM and FSMN convolutions are centred (8 and up to 38 frames of "
                "look-ahead), the InstanceNorms use utterance statistics and the sinusoidal and "
                "rotary positions are absolute: offline use only, on the whole file or in "
                "Rill's offline windows mode (rill.export_windows(model, path, sample_rate, "
                "window, hop, align='permutation'): the model on long overlapping windows, "
                "latency window - 1 samples; docs/offline.md). For streaming, "
                "export rill.nn.mossformer2.streaming_counterpart(model) (the same weights made "
                "causal: a different model that needs fine-tuning; its measured difference is "
                "reported)")


def upstream_state_dict(checkpoint):
    """MossFormer's state_dict from a ClearerVoice-Studio checkpoint (networks.py _load_model: the
    `model` entry if present; keys of the MossFormer2_SS_16K wrapper, `model.` and DataParallel's
    `module.` prefixes, are stripped)."""
    sd = checkpoint.get("model", checkpoint)
    out = {}
    for k, v in sd.items():
        for prefix in ("module.", "model."):
            if k.startswith(prefix):
                k = k[len(prefix):]
        out[k] = v
    return out


def streaming_counterpart(model):
    """A copy of `model` with the same weights and streaming=True (no absolute positions): the
    variant that streams exactly. Unless fine-tuned it is not the released model. It keeps
    `model` as `offline_original` (not a submodule), so rill.export with an example input reports
    the measured difference between the two (report.original_diff)."""
    m = copy.deepcopy(model)
    object.__setattr__(m, "offline_original", model)
    m.streaming = True
    mn = m.mask_net
    if mn.use_global_pos_enc:
        mn.use_global_pos_enc = False
        del mn.pos_enc
    for mod in m.modules():
        if hasattr(mod, "streaming"):
            mod.streaming = True
    return m
