// PNG files of the headless mode (stb_image_write): composited frames and masks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace webcam {

// Packed BGR8 frame -> RGB PNG (`scratch` holds the swapped copy). False on a write error.
bool write_png_bgr(const std::string& path, const uint8_t* bgr, int width, int height,
                   std::vector<uint8_t>& scratch);
bool write_png_gray(const std::string& path, const uint8_t* gray, int width, int height);

} // namespace webcam
