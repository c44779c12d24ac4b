"""Reader for rwkv.cpp model files and a straightforward NumPy reference of RWKV v5.2 and v7
one-token inference (the test oracle for the importer). File layout (little-endian): magic
0x67676d66, version, n_vocab, n_embed, n_layer, data type (0 FP32, 1 FP16), then tensors: n_dims,
name length, data type, dims (innermost first), name, data."""

import struct

import numpy as np

MAGIC = 0x67676D66


def read_rwkv_cpp(path):
    with open(path, "rb") as f:
        b = f.read()
    magic, version, n_vocab, n_embed, n_layer, dtype = struct.unpack_from("<6I", b, 0)
    if magic != MAGIC:
        raise ValueError(f"{path}: not an rwkv.cpp file")
    off, tensors = 24, {}
    while off < len(b):
        nd, nlen, tdt = struct.unpack_from("<3i", b, off)
        off += 12
        dims = struct.unpack_from(f"<{nd}i", b, off)
        off += 4 * nd
        name = b[off:off + nlen].decode()
        off += nlen
        n = int(np.prod(dims))
        dt = {0: np.float32, 1: np.float16}[tdt]
        tensors[name] = np.frombuffer(b, dtype=dt, count=n, offset=off).astype(np.float64) \
            .reshape(dims[::-1])
        off += n * np.dtype(dt).itemsize
    header = dict(version=version, n_vocab=n_vocab, n_embed=n_embed, n_layer=n_layer)
    return header, tensors


def architecture(tensors):
    return "rwkv7" if "blocks.0.att.x_rwkvag" in tensors else "rwkv5"


def layer_norm(x, w, b, eps=1e-5):
    mu = x.mean()
    return (x - mu) / np.sqrt(((x - mu) ** 2).mean() + eps) * w + b


def group_norm(x, groups, w, b, eps):
    g = x.reshape(groups, -1)
    mu = g.mean(1, keepdims=True)
    var = ((g - mu) ** 2).mean(1, keepdims=True)
    return ((g - mu) / np.sqrt(var + eps)).reshape(-1) * w + b


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class Reference:
    """One token at a time from the zero state; returns the logits of each token."""

    def __init__(self, path):
        self.h, self.t = read_rwkv_cpp(path)
        self.arch = architecture(self.t)
        L, C = self.h["n_layer"], self.h["n_embed"]
        # v5.2: time_decay is [H, K, 1]; v7: r_k is [H, K] (the tiny v7 model has one head of 64)
        self.H = self.t["blocks.0.att.time_decay"].shape[0] if self.arch == "rwkv5" else \
            self.t["blocks.0.att.r_k"].shape[0]
        self.K = C // self.H
        self.att_x = np.zeros((L, C))
        self.ffn_x = np.zeros((L, C))
        self.S = np.zeros((L, self.H, self.K, self.K))  # K x V per head

    def forward(self, token):
        t = self.t
        x = t["emb.weight"][token]
        x = layer_norm(x, t["blocks.0.ln0.weight"], t["blocks.0.ln0.bias"])
        v_first = None
        for i in range(self.h["n_layer"]):
            p = f"blocks.{i}."
            xx = layer_norm(x, t[p + "ln1.weight"], t[p + "ln1.bias"])
            if self.arch == "rwkv5":
                x = x + self._att5(i, p, xx)
            else:
                out, v_first = self._att7(i, p, xx, v_first)
                x = x + out
            xx = layer_norm(x, t[p + "ln2.weight"], t[p + "ln2.bias"])
            x = x + self._ffn(i, p, xx)
        x = layer_norm(x, t["ln_out.weight"], t["ln_out.bias"])
        return t["head.weight"] @ x

    def _att5(self, i, p, x):
        t, H, K = self.t, self.H, self.K
        sx = self.att_x[i].copy()
        self.att_x[i] = x
        mix = lambda m: x * t[p + "att.time_mix_" + m] + sx * (1 - t[p + "att.time_mix_" + m])  # noqa: E731
        r = t[p + "att.receptance.weight"] @ mix("r")
        k = t[p + "att.key.weight"] @ mix("k")
        v = t[p + "att.value.weight"] @ mix("v")
        g = t[p + "att.gate.weight"] @ mix("g")
        g = g * sigmoid(g)
        w = t[p + "att.time_decay"].reshape(H, K)   # stored as exp(-exp(decay))
        u = t[p + "att.time_faaaa"].reshape(H, K)
        r, k, v = r.reshape(H, K), k.reshape(H, K), v.reshape(H, K)
        a = k[:, :, None] * v[:, None, :]
        out = np.einsum("hk,hkv->hv", r, u[:, :, None] * a + self.S[i])
        self.S[i] = a + w[:, :, None] * self.S[i]
        out = group_norm(out.reshape(-1), H, t[p + "att.ln_x.weight"], t[p + "att.ln_x.bias"],
                         1e-5)  # rwkv.cpp's v5 group norm eps (v7: 64e-5)
        return t[p + "att.output.weight"] @ (out * g)

    def _att7(self, i, p, x, v_first):
        t, H, K = self.t, self.H, self.K
        xx = self.att_x[i] - x
        self.att_x[i] = x
        xr, xw, xk, xv, xa, xg = (x + xx * m.reshape(-1) for m in t[p + "att.x_rwkvag"])
        r = t[p + "att.receptance.weight"] @ xr
        w = -0.606531 * sigmoid(t[p + "att.w0"].reshape(-1) +
                                t[p + "att.w2"] @ np.tanh(t[p + "att.w1"] @ xw))
        k = t[p + "att.key.weight"] @ xk
        v = t[p + "att.value.weight"] @ xv
        if i == 0:
            v_first = v
        else:
            v = v + (v_first - v) * sigmoid(t[p + "att.v0"].reshape(-1) +
                                            t[p + "att.v2"] @ (t[p + "att.v1"] @ xv))
        a = sigmoid(t[p + "att.a0"].reshape(-1) + t[p + "att.a2"] @ (t[p + "att.a1"] @ xa))
        g = t[p + "att.g2"] @ sigmoid(t[p + "att.g1"] @ xg)
        kk = (k * t[p + "att.k_k"].reshape(-1)).reshape(H, K)
        kk = (kk / np.maximum(np.linalg.norm(kk, axis=1, keepdims=True), 1e-12)).reshape(-1)
        k = k * (1 + (a - 1) * t[p + "att.k_a"].reshape(-1))
        S = self.S[i]
        R, W, Kh, V, KK, A = (z.reshape(H, K) for z in (r, w, k, v, kk, a))
        P = np.einsum("hk,hkv->hv", -KK, S)
        S = np.exp(W)[:, :, None] * S + (KK * A)[:, :, None] * P[:, None, :] + \
            Kh[:, :, None] * V[:, None, :]
        self.S[i] = S
        out = np.einsum("hk,hkv->hv", R, S).reshape(-1)
        out = group_norm(out, H, t[p + "att.ln_x.weight"], t[p + "att.ln_x.bias"], 64e-5)
        bonus = (R * Kh * t[p + "att.r_k"].reshape(H, K)).sum(1, keepdims=True) * V
        out = out + bonus.reshape(-1)
        return t[p + "att.output.weight"] @ (out * g), v_first

    def _ffn(self, i, p, x):
        t = self.t
        sx = self.ffn_x[i].copy()
        self.ffn_x[i] = x
        if self.arch == "rwkv7":
            k = x + (sx - x) * t[p + "ffn.x_k"].reshape(-1)
            k = np.maximum(t[p + "ffn.key.weight"] @ k, 0) ** 2
            return t[p + "ffn.value.weight"] @ k
        kx = x * t[p + "ffn.time_mix_k"] + sx * (1 - t[p + "ffn.time_mix_k"])
        rx = x * t[p + "ffn.time_mix_r"] + sx * (1 - t[p + "ffn.time_mix_r"])
        r = sigmoid(t[p + "ffn.receptance.weight"] @ rx)
        k = np.maximum(t[p + "ffn.key.weight"] @ kx, 0) ** 2
        return r * (t[p + "ffn.value.weight"] @ k)


if __name__ == "__main__":
    import sys
    ref = Reference(sys.argv[1])
    for tok in b'"in':
        logits = ref.forward(tok)
    expected = np.fromfile(sys.argv[2], dtype="<f4")
    print(ref.arch, "H", ref.H, "max abs diff", np.abs(logits - expected).max(),
          "sum abs diff", np.abs(logits - expected).sum())
