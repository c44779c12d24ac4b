"""WAV files as the library's tools read and write them, without third-party modules:
16-bit PCM and 32-bit IEEE float (format 3, or WAVE_FORMAT_EXTENSIBLE with either), any number
of channels (a vocoder's 81 feature channels, a separator's sources).

    x, sr = rill.wavfile.read("in.wav")            # float32 [C, T]; PCM scaled by 1/32768
    rill.wavfile.write("out.wav", x, sr)           # float32 WAV
    rill.wavfile.write("out.wav", x, sr, "pcm16")  # rounded, clipped to 16 bits"""

import pathlib
import struct

import numpy as np

FORMATS = ("float32", "pcm16")


def write(path, channels, sample_rate, sample_format="float32"):
    """[C, T] (or [T]) -> a WAV file; returns what the file holds, float32 [C, T] (pcm16:
    quantised, as read() will give it back)."""
    x = np.asarray(channels, np.float32)
    x = x[None] if x.ndim == 1 else x
    if sample_format == "float32":
        tag, bits, data, held = 3, 32, x.T.astype("<f4").tobytes(), x
    elif sample_format == "pcm16":
        q = np.clip(np.round(x * 32767), -32768, 32767).astype("<i2")
        tag, bits, data, held = 1, 16, q.T.tobytes(), q.astype(np.float32) / 32768
    else:
        raise ValueError(f"sample_format must be one of {FORMATS}")
    c, width = x.shape[0], bits // 8
    fmt = struct.pack("<HHIIHH", tag, c, int(sample_rate), int(sample_rate) * width * c,
                      width * c, bits)
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data)) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"data" + struct.pack("<I", len(data)) + data)
    return held


def read(path):
    """-> (float32 [C, T], sample rate) of a 16-bit PCM or 32-bit float WAV."""
    raw = pathlib.Path(path).read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(raw):
        tag, size = raw[pos:pos + 4], struct.unpack("<I", raw[pos + 4:pos + 8])[0]
        body = raw[pos + 8:pos + 8 + size]
        if tag == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
            if fmt[0] == 0xFFFE and len(body) >= 26:  # extensible: the sub-format's first word
                fmt = (struct.unpack("<H", body[24:26])[0], *fmt[1:])
        elif tag == b"data":
            data = body
        pos += 8 + size + (size & 1)
    if fmt is None or data is None:
        raise ValueError(f"{path}: no fmt or data chunk")
    tag, c, sr, _, _, bits = fmt
    if (tag, bits) == (1, 16):
        x = np.frombuffer(data, "<i2").astype(np.float32) / 32768
    elif (tag, bits) == (3, 32):
        x = np.frombuffer(data, "<f4").astype(np.float32)
    else:
        raise ValueError(f"{path}: {bits}-bit format {tag} (16-bit PCM or 32-bit float expected)")
    return x[:len(x) // c * c].reshape(-1, c).T.copy(), sr
