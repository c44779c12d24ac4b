// Pixels of a caller's rill_image <-> planar float planes of an image port, with bilinear
// resampling between the two sizes (pixel centres aligned, the whole frame stretched):
//   source coordinate of destination pixel x:  s = (x + 0.5) * W_src / W_dst - 0.5, clamped to
//   [0, W_src - 1]; v = lerp of the two nearest source pixels (rows likewise).
// 8-bit components map to [0, 1] (c / 255) on input and are written round(clamp(v, 0, 1) * 255);
// float components are taken and written as they are. A 1-plane port reads the luma
// 0.299 R + 0.587 G + 0.114 B of colour pixels; a 3-plane port reads gray pixels as R = G = B.
// No allocation: everything works pixel by pixel on caller and stream memory.
#pragma once

#include <cstddef>
#include <cstdint>

#include "rill/rill.h"

namespace rill::capi {

struct PixelLayout {
    uint32_t components = 0; // per pixel in memory
    uint32_t bytes = 0;      // per component
    int r = 0, g = 0, b = 0; // component index of each colour (all equal for gray)
    int alpha = -1;          // component index of alpha, -1 if none
    bool valid() const { return components != 0; }
};

PixelLayout pixel_layout(uint32_t pixel_format);

// True when the descriptor can be read or written: known format, size 1..16384 each way,
// non-NULL data, stride 0 or at least one row.
bool image_usable(const rill_image* image);

// Writes `planes` (1 or 3) planes of width x height floats at `dst` from the image.
void image_to_planes(const rill_image& image, float* dst, uint32_t planes, uint32_t width, uint32_t height);

// Writes the image from `planes` (1 or 3) planes of width x height floats at `src`.
void planes_to_image(const float* src, uint32_t planes, uint32_t width, uint32_t height, const rill_image& image);

} // namespace rill::capi
