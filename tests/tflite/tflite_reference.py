"""An independent reference for Rill's TFLite import: reads a .tflite file with the flatbuffers
Python runtime (accessors written here from the schema's field order, not Rill's C++ reader) and
runs its operators in PyTorch (float64) in TFLite's own NHWC layout, with the reference kernels'
semantics written out here: SAME padding floor(total/2) before, average pooling over the valid
taps, bilinear resizing by its coordinate rules, float16 weights through numpy."""
import struct

import numpy as np
import torch
import torch.nn.functional as F
from flatbuffers.table import Table
from flatbuffers import number_types as N
from flatbuffers.util import GetBufferIdentifier  # noqa: F401  (the runtime is the dependency)


def _slot(i):
    return 4 + 2 * i


class _T:
    def __init__(self, buf, pos):
        self.t = Table(buf, pos)

    def scalar(self, i, flags, default):
        o = self.t.Offset(_slot(i))
        return self.t.Get(flags, o + self.t.Pos) if o else default

    def vector(self, i, dtype):
        o = self.t.Offset(_slot(i))
        return self.t.GetVectorAsNumpy(dtype, o) if o else np.zeros(0, np.int64)

    def tables(self, i):
        o = self.t.Offset(_slot(i))
        if not o:
            return []
        start, n = self.t.Vector(o), self.t.VectorLen(o)
        return [_T(self.t.Bytes, self.t.Indirect(start + 4 * k)) for k in range(n)]

    def table(self, i):
        o = self.t.Offset(_slot(i))
        return _T(self.t.Bytes, self.t.Indirect(o + self.t.Pos)) if o else None

    def string(self, i):
        o = self.t.Offset(_slot(i))
        return self.t.String(o + self.t.Pos).decode() if o else ""


def read_model(path):
    buf = bytearray(open(path, "rb").read())
    root = _T(buf, struct.unpack_from("<I", buf, 0)[0])
    codes = []
    for c in root.tables(1):
        codes.append((max(c.scalar(0, N.Int8Flags, 0), c.scalar(3, N.Int32Flags, 0)), c.string(1)))
    buffers = [b.vector(0, N.Uint8Flags) for b in root.tables(4)]
    g = root.tables(2)[0]
    tensors = []
    for t in g.tables(0):
        tensors.append({"shape": [int(v) for v in t.vector(0, N.Int32Flags)], "type": t.scalar(1, N.Int8Flags, 0),
                        "buffer": t.scalar(2, N.Uint32Flags, 0), "name": t.string(3)})
    ops = []
    for o in g.tables(3):
        code, custom = codes[o.scalar(0, N.Uint32Flags, 0)]
        ops.append({"code": code, "custom": custom, "inputs": [int(v) for v in o.vector(1, N.Int32Flags)],
                    "outputs": [int(v) for v in o.vector(2, N.Int32Flags)], "opt": o.table(4),
                    "custom_options": bytes(o.vector(5, N.Uint8Flags))})
    return {"tensors": tensors, "buffers": buffers, "inputs": [int(v) for v in g.vector(1, N.Int32Flags)],
            "outputs": [int(v) for v in g.vector(2, N.Int32Flags)], "ops": ops}


def _const(m, i):
    t = m["tensors"][i]
    raw = m["buffers"][t["buffer"]].tobytes()
    dtype = {0: np.float32, 1: np.float16, 2: np.int32, 4: np.int64}[t["type"]]
    return np.frombuffer(raw, dtype=dtype).astype(np.float64).reshape(t["shape"])


def _same(size, k, s, d):
    out = -(-size // s)
    total = max(0, (out - 1) * s + (k - 1) * d + 1 - size)
    return total // 2, total - total // 2


def _act(x, a):
    return {0: x, 1: torch.relu(x), 2: x.clamp(-1, 1), 3: x.clamp(0, 6), 4: torch.tanh(x)}[a]


def _resize_bilinear(x, h, w, align_corners, half_pixel):
    """x NHWC -> [N, h, w, C], TF ResizeBilinear."""
    def coords(out, inn):
        o = torch.arange(out, dtype=torch.float64)
        if align_corners and out > 1:
            c = o * (inn - 1) / (out - 1)
        elif half_pixel:
            c = (o + 0.5) * inn / out - 0.5
        else:
            c = o * inn / out
        c = c.clamp(0, inn - 1)
        i0 = c.floor().long()
        return i0, (i0 + 1).clamp(max=inn - 1), c - i0
    y0, y1, wy = coords(h, x.shape[1])
    x0, x1, wx = coords(w, x.shape[2])
    top = x[:, y0] + (x[:, y1] - x[:, y0]) * wy[None, :, None, None]
    return top[:, :, x0] + (top[:, :, x1] - top[:, :, x0]) * wx[None, None, :, None]


def run(m, inputs):
    """inputs: NHWC float arrays for the model inputs. Returns the outputs (NHWC, float64)."""
    vals = {}
    for i, x in zip(m["inputs"], inputs):
        vals[i] = torch.tensor(x, dtype=torch.float64)

    def get(i):
        if i not in vals:
            vals[i] = torch.tensor(_const(m, i))
        return vals[i]

    for op in m["ops"]:
        code, o, ins, out = op["code"], op["opt"], op["inputs"], op["outputs"][0]
        if code == 32 and op["custom"] == "Convolution2DTransposeBias":
            code = "tconv_bias"
        if code in (3, 4):  # CONV_2D, DEPTHWISE_CONV_2D
            x, w = get(ins[0]), get(ins[1])
            dw = code == 4
            sw, sh = o.scalar(1, N.Int32Flags, 1), o.scalar(2, N.Int32Flags, 1)
            dil_w = o.scalar(5 if dw else 4, N.Int32Flags, 1)
            dil_h = o.scalar(6 if dw else 5, N.Int32Flags, 1)
            act = o.scalar(4 if dw else 3, N.Int8Flags, 0)
            kh, kw = w.shape[1], w.shape[2]
            xn = x.permute(0, 3, 1, 2)
            if o.scalar(0, N.Int8Flags, 0) == 0:
                ph, pw = _same(x.shape[1], kh, sh, dil_h), _same(x.shape[2], kw, sw, dil_w)
                xn = F.pad(xn, (pw[0], pw[1], ph[0], ph[1]))
            wn = w.permute(3, 0, 1, 2) if dw else w.permute(0, 3, 1, 2)
            b = get(ins[2]) if len(ins) > 2 and ins[2] >= 0 else None
            y = F.conv2d(xn, wn, b, stride=(sh, sw), dilation=(dil_h, dil_w), groups=x.shape[3] if dw else 1)
            vals[out] = _act(y.permute(0, 2, 3, 1), act)
        elif code in (67, "tconv_bias"):
            if code == 67:
                x, w, b = get(ins[2]), get(ins[1]), (get(ins[3]) if len(ins) > 3 and ins[3] >= 0 else None)
                sw, sh, same = o.scalar(1, N.Int32Flags, 1), o.scalar(2, N.Int32Flags, 1), o.scalar(0, N.Int8Flags, 0) == 0
            else:
                x, w, b = get(ins[0]), get(ins[1]), get(ins[2])
                pad, sw, sh = struct.unpack_from("<iii", op["custom_options"], 0)
                same = pad != 2
            oh, ow = m["tensors"][out]["shape"][1:3]
            y = F.conv_transpose2d(x.permute(0, 3, 1, 2), w.permute(3, 0, 1, 2), b, stride=(sh, sw))
            th, tw = y.shape[2] - oh, y.shape[3] - ow
            top, left = (th // 2, tw // 2) if same else (0, 0)
            vals[out] = y[:, :, top:top + oh, left:left + ow].permute(0, 2, 3, 1)
        elif code in (0, 18, 41, 42):
            a, b = get(ins[0]), get(ins[1])
            y = {0: a + b, 18: a * b, 41: a - b, 42: a / b}[code]
            vals[out] = _act(y, o.scalar(0, N.Int8Flags, 0) if o else 0)
        elif code == 117:
            x = get(ins[0])
            vals[out] = x * (x + 3).clamp(0, 6) / 6
        elif code == 14:
            vals[out] = torch.sigmoid(get(ins[0]))
        elif code == 28:
            vals[out] = torch.tanh(get(ins[0]))
        elif code == 19:
            vals[out] = torch.relu(get(ins[0]))
        elif code == 21:
            vals[out] = get(ins[0]).clamp(0, 6)
        elif code in (1, 17):  # AVERAGE_POOL_2D, MAX_POOL_2D
            x = get(ins[0]).permute(0, 3, 1, 2)
            sw, sh = o.scalar(1, N.Int32Flags, 1), o.scalar(2, N.Int32Flags, 1)
            fw, fh = o.scalar(3, N.Int32Flags, 1), o.scalar(4, N.Int32Flags, 1)
            ph, pw = (0, 0), (0, 0)
            if o.scalar(0, N.Int8Flags, 0) == 0:
                ph, pw = _same(x.shape[2], fh, sh, 1), _same(x.shape[3], fw, sw, 1)
            if code == 1:
                xs = F.pad(x, (pw[0], pw[1], ph[0], ph[1]))
                ones = F.pad(torch.ones_like(x[:, :1]), (pw[0], pw[1], ph[0], ph[1]))
                y = F.avg_pool2d(xs, (fh, fw), (sh, sw)) / F.avg_pool2d(ones, (fh, fw), (sh, sw))
            else:
                y = F.max_pool2d(F.pad(x, (pw[0], pw[1], ph[0], ph[1]), value=-np.inf), (fh, fw), (sh, sw))
            vals[out] = _act(y.permute(0, 2, 3, 1), o.scalar(5, N.Int8Flags, 0))
        elif code == 40:  # MEAN
            axes = [int(a) for a in _const(m, ins[1]).reshape(-1)]
            vals[out] = get(ins[0]).mean(dim=axes, keepdim=bool(o.scalar(0, N.BoolFlags, False)))
        elif code == 23:  # RESIZE_BILINEAR
            h, w = m["tensors"][out]["shape"][1:3]
            vals[out] = _resize_bilinear(get(ins[0]), h, w, bool(o.scalar(2, N.BoolFlags, False)),
                                         bool(o.scalar(3, N.BoolFlags, False)))
        elif code == 2:
            vals[out] = _act(torch.cat([get(i) for i in ins], dim=o.scalar(0, N.Int32Flags, 0)),
                             o.scalar(1, N.Int8Flags, 0))
        elif code == 22:
            vals[out] = get(ins[0]).reshape(m["tensors"][out]["shape"])
        elif code == 6:
            vals[out] = get(ins[0])
        elif code == 9:
            x, w = get(ins[0]), get(ins[1])
            y = x.reshape(-1, w.shape[1]) @ w.T
            if len(ins) > 2 and ins[2] >= 0:
                y = y + get(ins[2])
            vals[out] = _act(y.reshape(m["tensors"][out]["shape"]), o.scalar(0, N.Int8Flags, 0))
        elif code == 25:
            vals[out] = torch.softmax(get(ins[0]) * o.scalar(0, N.Float32Flags, 1.0), dim=-1)
        else:
            raise NotImplementedError(f"TFLite operator {code} {op['custom']}")
    return [vals[i].numpy() for i in m["outputs"]]
