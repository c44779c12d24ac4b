// Views of planar signals: channel c of a view starts at data + c * stride, frames are contiguous.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rill {

struct ConstView {
    const float* data = nullptr;
    uint32_t channels = 0;
    size_t stride = 0; // floats between the starts of two channels
    const float* channel(uint32_t c) const { return data + c * stride; }
};

struct View {
    float* data = nullptr;
    uint32_t channels = 0;
    size_t stride = 0;
    float* channel(uint32_t c) const { return data + c * stride; }
    operator ConstView() const { return ConstView{data, channels, stride}; }
};

} // namespace rill
