#include "compositor.hpp"

#include <algorithm>
#include <cstring>

#include <stb_image.h>

namespace webcam {
namespace {

// sum / window, rounded, without a division: sum * (2^32 / window) >> 32 (exact for the sums a
// box of up to 2 * 500 + 1 bytes can reach).
struct Divider {
    explicit Divider(uint32_t window)
        : half(window / 2), factor((uint64_t{1} << 32) / window + 1) {}
    uint8_t operator()(uint32_t sum) const {
        return static_cast<uint8_t>(((sum + half) * factor) >> 32);
    }
    uint32_t half;
    uint64_t factor;
};

// One box pass along rows: a running sum per channel, samples beyond the edges clamped.
void blur_rows(const uint8_t* src, uint8_t* dst, int width, int height, int r) {
    const Divider divide(2 * r + 1);
    for (int y = 0; y < height; ++y) {
        const uint8_t* s = src + static_cast<size_t>(y) * width * 3;
        uint8_t* d = dst + static_cast<size_t>(y) * width * 3;
        for (int c = 0; c < 3; ++c) {
            uint32_t sum = s[c] * static_cast<uint32_t>(r + 1);
            for (int i = 1; i <= r; ++i)
                sum += s[std::min(i, width - 1) * 3 + c];
            for (int x = 0; x < width; ++x) {
                d[x * 3 + c] = divide(sum);
                sum += s[std::min(x + r + 1, width - 1) * 3 + c];
                sum -= s[std::max(x - r, 0) * 3 + c];
            }
        }
    }
}

// One box pass along columns: a running sum per column and channel, rows read in order.
void blur_columns(const uint8_t* src, uint8_t* dst, int width, int height, int r,
                  std::vector<uint32_t>& sums) {
    const size_t row = static_cast<size_t>(width) * 3;
    const Divider divide(2 * r + 1);
    sums.assign(row, 0);
    for (size_t i = 0; i < row; ++i)
        sums[i] = src[i] * static_cast<uint32_t>(r + 1);
    for (int k = 1; k <= r; ++k) {
        const uint8_t* s = src + std::min(k, height - 1) * row;
        for (size_t i = 0; i < row; ++i)
            sums[i] += s[i];
    }
    for (int y = 0; y < height; ++y) {
        uint8_t* d = dst + y * row;
        const uint8_t* add = src + std::min(y + r + 1, height - 1) * row;
        const uint8_t* sub = src + std::max(y - r, 0) * row;
        for (size_t i = 0; i < row; ++i) {
            d[i] = divide(sums[i]);
            sums[i] += add[i];
            sums[i] -= sub[i];
        }
    }
}

} // namespace

void half_bgr(const uint8_t* src, int width, int height, std::vector<uint8_t>& out) {
    const int w2 = (width + 1) / 2, h2 = (height + 1) / 2;
    out.resize(static_cast<size_t>(w2) * h2 * 3);
    for (int y = 0; y < h2; ++y) {
        const uint8_t* r0 = src + static_cast<size_t>(2 * y) * width * 3;
        const uint8_t* r1 = src + static_cast<size_t>(std::min(2 * y + 1, height - 1)) * width * 3;
        uint8_t* d = out.data() + static_cast<size_t>(y) * w2 * 3;
        for (int x = 0; x < w2; ++x) {
            const int a = 2 * x * 3, b = std::min(2 * x + 1, width - 1) * 3;
            for (int c = 0; c < 3; ++c)
                d[x * 3 + c] =
                    static_cast<uint8_t>((r0[a + c] + r0[b + c] + r1[a + c] + r1[b + c] + 2) / 4);
        }
    }
}

void double_bgr(const uint8_t* src, int half_width, int half_height, uint8_t* out, int width,
                int height) {
    // Output pixel x sits at source position x / 2 - 1/4: weights 1/4 and 3/4 of its two
    // nearest source pixels (clamped at the edges), the same along y.
    auto taps = [](int x, int n, int& i0, int& i1, int& w0) {
        if (x % 2 == 0) {
            i0 = std::max(x / 2 - 1, 0), i1 = std::min(x / 2, n - 1), w0 = 1;
        } else {
            i0 = std::min(x / 2, n - 1), i1 = std::min(x / 2 + 1, n - 1), w0 = 3;
        }
    };
    std::vector<int> xi0(width), xi1(width), xw0(width);
    for (int x = 0; x < width; ++x)
        taps(x, half_width, xi0[x], xi1[x], xw0[x]);
    for (int y = 0; y < height; ++y) {
        int y0, y1, wy0;
        taps(y, half_height, y0, y1, wy0);
        const uint8_t* r0 = src + static_cast<size_t>(y0) * half_width * 3;
        const uint8_t* r1 = src + static_cast<size_t>(y1) * half_width * 3;
        uint8_t* d = out + static_cast<size_t>(y) * width * 3;
        for (int x = 0; x < width; ++x) {
            const int a = xi0[x] * 3, b = xi1[x] * 3, wx0 = xw0[x];
            for (int c = 0; c < 3; ++c) {
                const int top = r0[a + c] * wx0 + r0[b + c] * (4 - wx0);
                const int bottom = r1[a + c] * wx0 + r1[b + c] * (4 - wx0);
                d[x * 3 + c] = static_cast<uint8_t>((top * wy0 + bottom * (4 - wy0) + 8) / 16);
            }
        }
    }
}

void box_blur_bgr(uint8_t* bgr, int width, int height, int radius, int passes,
                  std::vector<uint8_t>& scratch, std::vector<uint32_t>& sums) {
    if (radius <= 0 || width <= 0 || height <= 0)
        return;
    scratch.resize(static_cast<size_t>(width) * height * 3);
    for (int p = 0; p < passes; ++p) {
        blur_rows(bgr, scratch.data(), width, height, radius);
        blur_columns(scratch.data(), bgr, width, height, radius, sums);
    }
}

void blend_bgr(const uint8_t* frame, const uint8_t* background, const uint8_t* mask, uint8_t* out,
               int width, int height) {
    const size_t n = static_cast<size_t>(width) * height;
    for (size_t i = 0; i < n; ++i) {
        const uint32_t m = mask[i], k = 255 - m;
        for (int c = 0; c < 3; ++c)
            out[i * 3 + c] = static_cast<uint8_t>(
                (frame[i * 3 + c] * m + background[i * 3 + c] * k + 127) / 255);
    }
}

std::vector<uint8_t> cover_resize_bgr(const uint8_t* src, int src_width, int src_height, int width,
                                      int height) {
    std::vector<uint8_t> out(static_cast<size_t>(width) * height * 3);
    // One scale for both axes, the larger of the two ratios, so the image covers the frame.
    const double scale =
        std::max(static_cast<double>(width) / src_width, static_cast<double>(height) / src_height);
    const double x0 = (src_width - width / scale) / 2, y0 = (src_height - height / scale) / 2;
    for (int y = 0; y < height; ++y) {
        const double sy = std::clamp(y0 + (y + 0.5) / scale - 0.5, 0.0, src_height - 1.0);
        const int iy = std::min(static_cast<int>(sy), src_height - 2 < 0 ? 0 : src_height - 2);
        const double fy = src_height > 1 ? sy - iy : 0;
        const int iy1 = std::min(iy + 1, src_height - 1);
        for (int x = 0; x < width; ++x) {
            const double sx = std::clamp(x0 + (x + 0.5) / scale - 0.5, 0.0, src_width - 1.0);
            const int ix = std::min(static_cast<int>(sx), src_width - 2 < 0 ? 0 : src_width - 2);
            const double fx = src_width > 1 ? sx - ix : 0;
            const int ix1 = std::min(ix + 1, src_width - 1);
            for (int c = 0; c < 3; ++c) {
                auto at = [&](int yy, int xx) {
                    return static_cast<double>(
                        src[(static_cast<size_t>(yy) * src_width + xx) * 3 + c]);
                };
                const double v = (at(iy, ix) * (1 - fx) + at(iy, ix1) * fx) * (1 - fy) +
                                 (at(iy1, ix) * (1 - fx) + at(iy1, ix1) * fx) * fy;
                out[(static_cast<size_t>(y) * width + x) * 3 + c] = static_cast<uint8_t>(v + 0.5);
            }
        }
    }
    return out;
}

void Compositor::set_blur(int radius) {
    mode_ = radius > 0 ? Mode::blur : Mode::none;
    radius_ = radius;
}

bool Compositor::set_background(const std::string& path, std::string& error) {
    int w = 0, h = 0, channels = 0;
    unsigned char* rgb = stbi_load(path.c_str(), &w, &h, &channels, 3);
    if (!rgb) {
        error = "cannot read background image '" + path + "': " + stbi_failure_reason();
        return false;
    }
    image_.resize(static_cast<size_t>(w) * h * 3);
    for (size_t i = 0; i < static_cast<size_t>(w) * h; ++i) {
        image_[i * 3 + 0] = rgb[i * 3 + 2];
        image_[i * 3 + 1] = rgb[i * 3 + 1];
        image_[i * 3 + 2] = rgb[i * 3 + 0];
    }
    stbi_image_free(rgb);
    image_width_ = w;
    image_height_ = h;
    background_width_ = background_height_ = 0; // rescaled at the next frame
    mode_ = Mode::image;
    return true;
}

void Compositor::compose(const uint8_t* frame, const uint8_t* mask, uint8_t* out, int width,
                         int height) {
    const size_t bytes = static_cast<size_t>(width) * height * 3;
    switch (mode_) {
    case Mode::none:
        std::memcpy(out, frame, bytes);
        return;
    case Mode::blur: {
        // Blurred at half resolution (a quarter of the work; the blur hides the difference).
        half_bgr(frame, width, height, half_);
        const int hw = (width + 1) / 2, hh = (height + 1) / 2;
        box_blur_bgr(half_.data(), hw, hh, std::max(radius_ / 2, 1), 3, scratch_, sums_);
        background_.resize(bytes);
        double_bgr(half_.data(), hw, hh, background_.data(), width, height);
        break;
    }
    case Mode::image:
        if (background_width_ != width || background_height_ != height) {
            background_ =
                cover_resize_bgr(image_.data(), image_width_, image_height_, width, height);
            background_width_ = width;
            background_height_ = height;
        }
        break;
    }
    blend_bgr(frame, background_.data(), mask, out, width, height);
}

} // namespace webcam
