"""Straightforward PyTorch references of the linear-attention state rules (docs/linear_attention.md),
in the conventions of the flash-linear-attention naive functions (and xlstm / mamba for mLSTM and
SSD), one token at a time, for one sequence: tensors are head-first [H, T, D]; states [H, K, V].
Each returns (o [H, T, V], final state). Inputs are already transformed (feature maps, L2 norms,
log decays, betas); the layers in rill.nn.linear_attention apply those transforms. These are the
oracles of the golden tests and of the layer exporters; they favour clarity over speed."""

import math

import torch
import torch.nn.functional as F


def _state(h, k, v, like, initial):
    return like.new_zeros(h, k, v) if initial is None else initial.clone()


def linear_attn(q, k, v, scale=None, normalize=False, initial=None):
    """S += k v^T; o = S^T q * scale, normalised: / (scale q.z + 1e-10) with z = sum k."""
    H, T, K = q.shape
    scale = K ** -0.5 if scale is None else scale
    S = _state(H, K, v.shape[-1], q, initial)
    z = q.new_zeros(H, K)
    out = []
    for t in range(T):
        S = S + k[:, t, :, None] * v[:, t, None, :]
        z = z + k[:, t]
        o = torch.einsum("hk,hkv->hv", q[:, t] * scale, S)
        if normalize:
            o = o / ((q[:, t] * scale * z).sum(-1, keepdim=True) + 1e-10)
        out.append(o)
    return torch.stack(out, 1), S


def gated_recurrence(q, k, v, g, scale=None, initial=None):
    """GLA / simple GLA / retention: S = diag(exp(g)) S + k v^T; o = S^T q * scale.
    g: [H, T, K] (per key channel) or [H, T] (per head)."""
    H, T, K = q.shape
    scale = K ** -0.5 if scale is None else scale
    S = _state(H, K, v.shape[-1], q, initial)
    out = []
    for t in range(T):
        decay = g[:, t].exp()
        decay = decay[:, :, None] if decay.dim() == 2 else decay[:, None, None]
        S = decay * S + k[:, t, :, None] * v[:, t, None, :]
        out.append(torch.einsum("hk,hkv->hv", q[:, t] * scale, S))
    return torch.stack(out, 1), S


def retention_parallel(q, k, v):
    """fla naive_retention: o_t = sum_{s<=t} gamma_h^(t-s) (q_t . k_s / sqrt(K)) v_s,
    gamma_h = 1 - 2^(-5-h); the quadratic form, a cross-check of the recurrence."""
    H, T, K = q.shape
    gamma = 1 - 2.0 ** (-5.0 - torch.arange(H, dtype=q.dtype))
    n = torch.arange(T, dtype=q.dtype)
    decay = (gamma.log()[:, None, None] * (n[:, None] - n[None, :])).exp()
    decay = decay * (n[:, None] >= n[None, :])
    return ((q @ k.transpose(1, 2)) * K ** -0.5 * decay) @ v


def gated_delta(q, k, v, beta, g=None, scale=None, initial=None):
    """DeltaNet (g None), Gated DeltaNet (g [H, T]), KDA (g [H, T, K]):
    S' = diag(exp(g)) S; u = beta (v - S'^T k); S = S' + k u^T; o = S^T q * scale."""
    H, T, K = q.shape
    scale = K ** -0.5 if scale is None else scale
    S = _state(H, K, v.shape[-1], q, initial)
    out = []
    for t in range(T):
        if g is not None:
            decay = g[:, t].exp()
            S = (decay[:, :, None] if decay.dim() == 2 else decay[:, None, None]) * S
        u = beta[:, t, None] * (v[:, t] - torch.einsum("hk,hkv->hv", k[:, t], S))
        S = S + k[:, t, :, None] * u[:, None, :]
        out.append(torch.einsum("hk,hkv->hv", q[:, t] * scale, S))
    return torch.stack(out, 1), S


def delta_product(q, k, v, beta, g=None, scale=None, initial=None):
    """DeltaProduct: per token, n Householder steps (k, v, beta: [H, T, n, ...]); the decay
    g [H, T] acts once, before the first step; o = S^T q * scale after the last."""
    H, T, n, K = k.shape
    scale = K ** -0.5 if scale is None else scale
    S = _state(H, K, v.shape[-1], q, initial)
    out = []
    for t in range(T):
        if g is not None:
            S = g[:, t].exp()[:, None, None] * S
        for j in range(n):
            kj, vj = k[:, t, j], v[:, t, j]
            u = beta[:, t, j, None] * (vj - torch.einsum("hk,hkv->hv", kj, S))
            S = S + kj[:, :, None] * u[:, None, :]
        out.append(torch.einsum("hk,hkv->hv", q[:, t] * scale, S))
    return torch.stack(out, 1), S


def ssd(x, dt, A, B, C, D=None, initial=None):
    """Mamba2 / SSD (state h [H, P, N]): h = exp(A dt) h + (x dt) B^T, y = h C (+ D x).
    x [H, T, P], dt [H, T] (after softplus), A [H] (negative), B, C [H, T, N]."""
    H, T, P = x.shape
    N = B.shape[-1]
    h = x.new_zeros(H, P, N) if initial is None else initial.clone()
    out = []
    for t in range(T):
        h = (A * dt[:, t]).exp()[:, None, None] * h + \
            (x[:, t] * dt[:, t, None])[:, :, None] * B[:, t, None, :]
        y = torch.einsum("hpn,hn->hp", h, C[:, t])
        if D is not None:
            y = y + D[:, None] * x[:, t]
        out.append(y)
    return torch.stack(out, 1), h


def mlstm(q, k, v, i, f, initial=None):
    """xlstm recurrent_step_stabilized_simple, head-first; i, f: [H, T] pre-activations."""
    H, T, K = q.shape
    C = q.new_zeros(H, K, v.shape[-1])
    n = q.new_zeros(H, K)
    m = q.new_zeros(H)
    out = []
    for t in range(T):
        lf = F.logsigmoid(f[:, t])
        m_new = torch.maximum(lf + m, i[:, t])
        fp = (lf + m - m_new).exp()
        ip = (i[:, t] - m_new).exp()
        kp = k[:, t] / math.sqrt(K)
        C = fp[:, None, None] * C + ip[:, None, None] * kp[:, :, None] * v[:, t, None, :]
        n = fp[:, None] * n + ip[:, None] * kp
        num = torch.einsum("hk,hkv->hv", q[:, t], C)
        den = torch.maximum((n * q[:, t]).sum(-1).abs(), (-m_new).exp()) + 1e-6
        out.append(num / den[:, None])
        m = m_new
    return torch.stack(out, 1), (C, n, m)


def mlstm_parallel(q, k, v, i, f):
    """xlstm parallel_stabilized_simple (row-wise max stabilised quadratic form), a cross-check."""
    H, T, K = q.shape
    lf = F.logsigmoid(f)
    cum = torch.cat([lf.new_zeros(H, 1), lf.cumsum(-1)], -1)  # [H, T+1]
    logd = cum[:, 1:, None] - cum[:, None, 1:] + i[:, None, :]
    mask = torch.ones(T, T, dtype=torch.bool).tril()
    logd = logd.masked_fill(~mask, float("-inf"))
    m = logd.max(-1, keepdim=True).values
    # the recurrence's initial m = 0 acts like a zero-weight term at s = 0 with weight exp(cum_t)
    m = torch.maximum(m, cum[:, 1:, None])
    d = (logd - m).exp()
    c = (q @ k.transpose(1, 2)) / math.sqrt(K) * d
    norm = torch.maximum(c.sum(-1, keepdim=True).abs(), (-m).exp())
    return (c / (norm + 1e-6)) @ v


def rwkv5(r, k, v, w, u, initial=None):
    """RWKV-5 time mixing per head: o_t = S^T r_t + (r_t . (u k_t)) v_t, then
    S = diag(w) S + k_t v_t^T, with w = exp(-exp(time_decay)) [H, K] and bonus u [H, K]."""
    H, T, K = r.shape
    S = _state(H, K, v.shape[-1], r, initial)
    out = []
    for t in range(T):
        kv = k[:, t, :, None] * v[:, t, None, :]
        out.append(torch.einsum("hk,hkv->hv", r[:, t], S + u[:, :, None] * kv))
        S = w[:, :, None] * S + kv
    return torch.stack(out, 1), S


def rwkv7(r, w, k, v, kk, a, r_k=None, initial=None):
    """RWKV-7 time mixing per head (K x V orientation of the v7 reference's V x K state):
    S = diag(exp(w)) S + (kk a) ((-kk)^T S) + k v^T; o = S^T r (+ (r . (k r_k)) v).
    w is the log decay [H, T, K]."""
    H, T, K = r.shape
    S = _state(H, K, v.shape[-1], r, initial)
    out = []
    for t in range(T):
        p = torch.einsum("hk,hkv->hv", -kk[:, t], S)
        S = w[:, t].exp()[:, :, None] * S + (kk[:, t] * a[:, t])[:, :, None] * p[:, None, :] + \
            k[:, t, :, None] * v[:, t, None, :]
        o = torch.einsum("hk,hkv->hv", r[:, t], S)
        if r_k is not None:
            o = o + (r[:, t] * k[:, t] * r_k).sum(-1, keepdim=True) * v[:, t]
        out.append(o)
    return torch.stack(out, 1), S


def hgrn(x, g, initial=None):
    """HGRN: h = exp(g) h + x; o = h. x, g: [T, D]."""
    h = x.new_zeros(x.shape[-1]) if initial is None else initial.clone()
    out = []
    for t in range(x.shape[0]):
        h = g[t].exp() * h + x[t]
        out.append(h)
    return torch.stack(out, 0), h


def global_linear_attn(q, k, v, feature="elu", normalize=True, eps=1e-6, scale=1.0):
    """Non-causal (global) linear attention over the N tokens of one image (LinFusion-style):
    q, k [H, N, K], v [H, N, V]; phi = elu+1 | relu | identity;
    o_n = S^T phi(q_n) / (phi(q_n) . z + eps), S = sum_n phi(k_n) v_n^T, z = sum_n phi(k_n)."""
    phi = {"elu": lambda x: F.elu(x) + 1, "relu": F.relu, "identity": lambda x: x}[feature]
    fq, fk = phi(q), phi(k)
    S = fk.transpose(1, 2) @ v                      # [H, K, V]
    o = fq @ S                                      # [H, N, V]
    if normalize:
        return o / (fq @ fk.sum(1)[..., None] + eps)
    return o * scale
