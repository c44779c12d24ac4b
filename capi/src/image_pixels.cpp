// Pixel conversion and bilinear resampling for rill_stream_process_image (see image_pixels.hpp).
#include "image_pixels.hpp"

#include <algorithm>
#include <cmath>
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

Tap tap(uint32_t i, uint32_t src, uint32_t dst) {
    const double s = std::clamp((i + 0.5) * src / dst - 0.5, 0.0, static_cast<double>(src - 1));
    const auto i0 = static_cast<uint32_t>(s);
    return Tap{i0, std::min(i0 + 1, src - 1), static_cast<float>(s - i0)};
}

float component(const unsigned char* pixel, const PixelLayout& l, int index) {
    if (l.bytes == 1)
        return pixel[index] * (1.0f / 255.0f);
    float v;
    std::memcpy(&v, pixel + static_cast<size_t>(index) * 4, sizeof v);
    return v;
}

// Colour c (0 R, 1 G, 2 B, 3 luma) of the pixel at (x, y).
float read(const rill_image& image, const PixelLayout& l, size_t stride, uint32_t x, uint32_t y, int c) {
    const auto* pixel = static_cast<const unsigned char*>(image.data) + y * stride +
                        static_cast<size_t>(x) * l.components * l.bytes;
    if (c == 0)
        return component(pixel, l, l.r);
    if (c == 1)
        return component(pixel, l, l.g);
    if (c == 2)
        return component(pixel, l, l.b);
    if (l.r == l.g)
        return component(pixel, l, l.r);
    return 0.299f * component(pixel, l, l.r) + 0.587f * component(pixel, l, l.g) + 0.114f * component(pixel, l, l.b);
}

void write(const rill_image& image, const PixelLayout& l, size_t stride, uint32_t x, uint32_t y, int index, float v) {
    auto* pixel = static_cast<unsigned char*>(image.data) + y * stride + static_cast<size_t>(x) * l.components * l.bytes;
    if (l.bytes == 1) {
        pixel[index] = static_cast<unsigned char>(std::lround(std::clamp(std::isnan(v) ? 0.0f : v, 0.0f, 1.0f) * 255.0f));
        return;
    }
    std::memcpy(pixel + static_cast<size_t>(index) * 4, &v, sizeof v);
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
    return image->stride == 0 || image->stride >= row_bytes(*image, l);
}

void image_to_planes(const rill_image& image, float* dst, uint32_t planes, uint32_t width, uint32_t height) {
    const PixelLayout l = pixel_layout(image.pixel_format);
    const size_t stride = stride_of(image, l);
    for (uint32_t y = 0; y < height; ++y) {
        const Tap ty = tap(y, image.height, height);
        for (uint32_t x = 0; x < width; ++x) {
            const Tap tx = tap(x, image.width, width);
            for (uint32_t p = 0; p < planes; ++p) {
                const int c = planes == 1 ? 3 : static_cast<int>(p);
                const float top = read(image, l, stride, tx.i0, ty.i0, c) * (1 - tx.w) +
                                  read(image, l, stride, tx.i1, ty.i0, c) * tx.w;
                const float bottom = read(image, l, stride, tx.i0, ty.i1, c) * (1 - tx.w) +
                                     read(image, l, stride, tx.i1, ty.i1, c) * tx.w;
                dst[(static_cast<size_t>(p) * height + y) * width + x] = top * (1 - ty.w) + bottom * ty.w;
            }
        }
    }
}

void planes_to_image(const float* src, uint32_t planes, uint32_t width, uint32_t height, const rill_image& image) {
    const PixelLayout l = pixel_layout(image.pixel_format);
    const size_t stride = stride_of(image, l);
    const auto sample = [&](uint32_t p, const Tap& tx, const Tap& ty) {
        const float* plane = src + static_cast<size_t>(p) * width * height;
        const float top = plane[ty.i0 * width + tx.i0] * (1 - tx.w) + plane[ty.i0 * width + tx.i1] * tx.w;
        const float bottom = plane[ty.i1 * width + tx.i0] * (1 - tx.w) + plane[ty.i1 * width + tx.i1] * tx.w;
        return top * (1 - ty.w) + bottom * ty.w;
    };
    const bool gray = l.r == l.g;
    for (uint32_t y = 0; y < image.height; ++y) {
        const Tap ty = tap(y, height, image.height);
        for (uint32_t x = 0; x < image.width; ++x) {
            const Tap tx = tap(x, width, image.width);
            float rgb[3] = {0, 0, 0};
            for (uint32_t p = 0; p < 3; ++p)
                rgb[p] = p < planes ? sample(p, tx, ty) : rgb[0];
            if (gray) {
                write(image, l, stride, x, y, 0, planes == 1 ? rgb[0] : 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2]);
                continue;
            }
            write(image, l, stride, x, y, l.r, rgb[0]);
            write(image, l, stride, x, y, l.g, rgb[1]);
            write(image, l, stride, x, y, l.b, rgb[2]);
            if (l.alpha >= 0)
                write(image, l, stride, x, y, l.alpha, 1.0f);
        }
    }
}

} // namespace rill::capi
