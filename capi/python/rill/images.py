"""Numpy counterparts of what rill_stream_process_image does to pixels (for tests and for users
preparing reference inputs): half-pixel-centre bilinear resampling of a whole frame."""

import numpy as np


def resize_bilinear(img, height, width):
    """[Hs, Ws, C] -> [height, width, C] (float64): source coordinate of destination pixel x is
    (x + 0.5) * Ws / width - 0.5, clamped to [0, Ws - 1]; rows likewise."""
    img = np.asarray(img, np.float64)
    hs, ws = img.shape[:2]
    ys = np.clip((np.arange(height) + 0.5) * hs / height - 0.5, 0, hs - 1)
    xs = np.clip((np.arange(width) + 0.5) * ws / width - 0.5, 0, ws - 1)
    y0, x0 = ys.astype(int), xs.astype(int)
    y1, x1 = np.minimum(y0 + 1, hs - 1), np.minimum(x0 + 1, ws - 1)
    wy, wx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = img[y0][:, x0] * (1 - wx) + img[y0][:, x1] * wx
    bottom = img[y1][:, x0] * (1 - wx) + img[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy
