#include "png_out.hpp"

#include <stb_image_write.h>

namespace webcam {
namespace {

// Frames are written as the run goes: a cheap deflate and one row filter ("sub") instead of
// trying all five per row.
void use_fast_settings() {
    stbi_write_png_compression_level = 2;
    stbi_write_force_png_filter = 1;
}

} // namespace

bool write_png_bgr(const std::string& path, const uint8_t* bgr, int width, int height,
                   std::vector<uint8_t>& scratch) {
    const size_t n = static_cast<size_t>(width) * height;
    scratch.resize(n * 3);
    for (size_t i = 0; i < n; ++i) {
        scratch[i * 3 + 0] = bgr[i * 3 + 2];
        scratch[i * 3 + 1] = bgr[i * 3 + 1];
        scratch[i * 3 + 2] = bgr[i * 3 + 0];
    }
    use_fast_settings();
    return stbi_write_png(path.c_str(), width, height, 3, scratch.data(), width * 3) != 0;
}

bool write_png_gray(const std::string& path, const uint8_t* gray, int width, int height) {
    use_fast_settings();
    return stbi_write_png(path.c_str(), width, height, 1, gray, width) != 0;
}

} // namespace webcam
