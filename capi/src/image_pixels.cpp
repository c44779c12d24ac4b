// Pixel conversion and bilinear resampling for rill_stream_process_image (see image_pixels.hpp).
// The loops are instantiated per component type (8-bit or float); source rows are resolved once
// per destination row, source columns once per chunk of destination columns.
#include "image_pixels.hpp"

#include <algorithm>
#include <cstring>

namespace rill::capi {
namespace {

constexpr uint32_t kMaxSide = 16384;

size_t row_bytes(const rill_image& image, const PixelLayout& l) {
    return static_cast<size_t>(image.width) * l.components * l.bytes;
}

size_t stride_of(const rill_image& image, const PixelLayout& l) {
    return image.stride ? image.stride : row_bytes(image, l);
}

// The two source indices and the weight of the second for destination index i.
struct Tap {
    uint32_t i0, i1;
    float w;
};

// Source coordinates of destination indices: s = (i + 0.5) * scale - 0.5, clamped.
struct Taps {
    double scale, last;
    uint32_t src;
    Taps(uint32_t src_size, uint32_t dst_size)
        : scale(static_cast<double>(src_size) / dst_size), last(src_size - 1.0), src(src_size) {}
    Tap operator()(uint32_t i) const {
        const double s = std::clamp((i + 0.5) * scale - 0.5, 0.0, last);
        const auto i0 = static_cast<uint32_t>(s);
        return Tap{i0, std::min(i0 + 1, src - 1), static_cast<float>(s - i0)};
    }
};

float value(unsigned char c) { return c * (1.0f / 255.0f); }
float value(float c) { return c; }

void store(unsigned char& c, float v) { // clamped to [0, 1], NaN to 0, rounded to nearest
    c = static_cast<unsigned char>((v > 0 ? (v < 1 ? v : 1.0f) : 0.0f) * 255.0f + 0.5f);
}
void store(float& c, float v) { c = v; }

template <typename T>
const T* row(const rill_image& image, size_t stride, uint32_t y) {
    return reinterpret_cast<const T*>(static_cast<const unsigned char*>(image.data) + y * stride);
}

// Column taps are computed once per chunk of columns (on the stack), then used for every row:
// row_fn(y, row tap, first column, column taps, count) for each destination row and chunk.
constexpr uint32_t kChunk = 256;

template <typename RowFn>
void for_each_row_chunk(uint32_t src_width, uint32_t src_height, uint32_t width, uint32_t height, RowFn row_fn) {
    const Taps rows(src_height, height), columns(src_width, width);
    Tap tx[kChunk];
    for (uint32_t x0 = 0; x0 < width; x0 += kChunk) {
        const uint32_t count = std::min(kChunk, width - x0);
        for (uint32_t i = 0; i < count; ++i)
            tx[i] = columns(x0 + i);
        for (uint32_t y = 0; y < height; ++y)
            row_fn(y, rows(y), x0, tx, count);
    }
}

template <typename T>
void to_planes(const rill_image& image, const PixelLayout& l, float* dst, uint32_t planes, uint32_t width,
               uint32_t height) {
    const size_t stride = stride_of(image, l), plane = static_cast<size_t>(width) * height;
    const uint32_t n = l.components;
    const bool gray = l.r == l.g;
    for_each_row_chunk(image.width, image.height, width, height,
                       [&](uint32_t y, Tap ty, uint32_t x0, const Tap* tx, uint32_t count) {
            const T* r0 = row<T>(image, stride, ty.i0);
            const T* r1 = row<T>(image, stride, ty.i1);
            float* out = dst + static_cast<size_t>(y) * width + x0;
            for (uint32_t i = 0; i < count; ++i) {
                const Tap t = tx[i];
                const auto lerp = [&](int c) {
                    const float top = value(r0[t.i0 * n + c]) * (1 - t.w) + value(r0[t.i1 * n + c]) * t.w;
                    const float bottom = value(r1[t.i0 * n + c]) * (1 - t.w) + value(r1[t.i1 * n + c]) * t.w;
                    return top * (1 - ty.w) + bottom * ty.w;
                };
                if (gray) {
                    const float v = lerp(l.r);
                    for (uint32_t p = 0; p < planes; ++p)
                        out[i + p * plane] = v;
                    continue;
                }
                const float r = lerp(l.r), g = lerp(l.g), b = lerp(l.b);
                if (planes == 1) {
                    out[i] = 0.299f * r + 0.587f * g + 0.114f * b;
                } else {
                    out[i] = r;
                    out[i + plane] = g;
                    out[i + 2 * plane] = b;
                }
            }
        });
}

// One plane into a 1-component layout (a mask into GRAY8 or GRAY_F32): the common output.
template <typename T>
void plane_to_gray(const float* src, uint32_t width, uint32_t height, const rill_image& image, size_t stride) {
    for_each_row_chunk(width, height, image.width, image.height,
                       [&](uint32_t y, Tap ty, uint32_t x0, const Tap* tx, uint32_t count) {
            const float* a = src + static_cast<size_t>(ty.i0) * width;
            const float* b = src + static_cast<size_t>(ty.i1) * width;
            T* out = reinterpret_cast<T*>(static_cast<unsigned char*>(image.data) + y * stride) + x0;
            for (uint32_t i = 0; i < count; ++i) {
                const Tap t = tx[i];
                const float top = a[t.i0] + (a[t.i1] - a[t.i0]) * t.w;
                const float bottom = b[t.i0] + (b[t.i1] - b[t.i0]) * t.w;
                store(out[i], top + (bottom - top) * ty.w);
            }
        });
}

template <typename T>
void from_planes(const float* src, uint32_t planes, uint32_t width, uint32_t height, const rill_image& image,
                 const PixelLayout& l) {
    const size_t stride = stride_of(image, l), plane = static_cast<size_t>(width) * height;
    const uint32_t n = l.components;
    const bool gray = l.r == l.g;
    if (gray && planes == 1)
        return plane_to_gray<T>(src, width, height, image, stride);
    for_each_row_chunk(width, height, image.width, image.height,
                       [&](uint32_t y, Tap ty, uint32_t x0, const Tap* tx, uint32_t count) {
            T* out = reinterpret_cast<T*>(static_cast<unsigned char*>(image.data) + y * stride) + x0 * n;
            for (uint32_t i = 0; i < count; ++i, out += n) {
                const Tap t = tx[i];
                const auto sample = [&](uint32_t p) {
                    const float* a = src + p * plane + static_cast<size_t>(ty.i0) * width;
                    const float* b = src + p * plane + static_cast<size_t>(ty.i1) * width;
                    const float top = a[t.i0] * (1 - t.w) + a[t.i1] * t.w;
                    const float bottom = b[t.i0] * (1 - t.w) + b[t.i1] * t.w;
                    return top * (1 - ty.w) + bottom * ty.w;
                };
                const float r = sample(0);
                const float g = planes == 1 ? r : sample(1), b = planes == 1 ? r : sample(2);
                if (gray) {
                    store(out[0], 0.299f * r + 0.587f * g + 0.114f * b);
                    continue;
                }
                store(out[l.r], r);
                store(out[l.g], g);
                store(out[l.b], b);
                if (l.alpha >= 0)
                    store(out[l.alpha], 1.0f);
            }
        });
}

} // namespace

PixelLayout pixel_layout(uint32_t pixel_format) {
    switch (pixel_format) {
    case RILL_PIXEL_RGB8: return {3, 1, 0, 1, 2, -1};
    case RILL_PIXEL_BGR8: return {3, 1, 2, 1, 0, -1};
    case RILL_PIXEL_RGBA8: return {4, 1, 0, 1, 2, 3};
    case RILL_PIXEL_BGRA8: return {4, 1, 2, 1, 0, 3};
    case RILL_PIXEL_GRAY8: return {1, 1, 0, 0, 0, -1};
    case RILL_PIXEL_GRAY_F32: return {1, 4, 0, 0, 0, -1};
    case RILL_PIXEL_RGB_F32: return {3, 4, 0, 1, 2, -1};
    default: return {};
    }
}

bool image_usable(const rill_image* image) {
    if (!image || image->struct_size < sizeof(rill_image) || !image->data)
        return false;
    const PixelLayout l = pixel_layout(image->pixel_format);
    if (!l.valid() || image->width < 1 || image->height < 1 || image->width > kMaxSide || image->height > kMaxSide)
        return false;
    if (l.bytes == 4 && (image->stride % 4 != 0 || reinterpret_cast<uintptr_t>(image->data) % 4 != 0))
        return false; // float pixels must be float-aligned
    return image->stride == 0 || image->stride >= row_bytes(*image, l);
}

void image_to_planes(const rill_image& image, float* dst, uint32_t planes, uint32_t width, uint32_t height) {
    const PixelLayout l = pixel_layout(image.pixel_format);
    if (l.bytes == 1)
        to_planes<unsigned char>(image, l, dst, planes, width, height);
    else
        to_planes<float>(image, l, dst, planes, width, height);
}

void planes_to_image(const float* src, uint32_t planes, uint32_t width, uint32_t height, const rill_image& image) {
    const PixelLayout l = pixel_layout(image.pixel_format);
    if (l.bytes == 1)
        from_planes<unsigned char>(src, planes, width, height, image, l);
    else
        from_planes<float>(src, planes, width, height, image, l);
}

} // namespace rill::capi
