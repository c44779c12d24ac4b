// Background effects for the webcam demo, on packed BGR8 frames:
//   out = m * frame + (1 - m) * background,  m = mask / 255 (the person probability)
// where the background is the frame blurred (at half resolution; three passes of a separable box
// blur approximate a Gaussian, at a cost independent of the radius) or a replacement image scaled
// to cover the frame.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace webcam {

// Box blur of radius r (window 2r + 1, edges clamped) along rows then columns, `passes` times,
// in place. `scratch` is resized as needed (no allocation once it has the frame's size).
void box_blur_bgr(uint8_t* bgr, int width, int height, int radius, int passes,
                  std::vector<uint8_t>& scratch, std::vector<uint32_t>& sums);

// Half size ((w + 1) / 2 x (h + 1) / 2) by 2x2 averages, and back to full size bilinearly.
void half_bgr(const uint8_t* src, int width, int height, std::vector<uint8_t>& out);
void double_bgr(const uint8_t* src, int half_width, int half_height, uint8_t* out, int width,
                int height);

// out[i] = (frame[i] * m + background[i] * (255 - m) + 127) / 255, m = mask[pixel].
void blend_bgr(const uint8_t* frame, const uint8_t* background, const uint8_t* mask, uint8_t* out,
               int width, int height);

// Scales a packed BGR image to cover width x height (aspect kept, centred, excess cropped),
// bilinear.
std::vector<uint8_t> cover_resize_bgr(const uint8_t* src, int src_width, int src_height, int width,
                                      int height);

class Compositor {
public:
    enum class Mode { blur, image, none };

    // Blur of radius `radius` (pixels of the frame).
    void set_blur(int radius);
    // Replacement background from an image file (PNG, JPEG, ... through stb_image); false with
    // `error` set when it cannot be read.
    bool set_background(const std::string& path, std::string& error);
    Mode mode() const { return mode_; }

    // Composites frame (BGR8) with mask (GRAY8, same size) into out (BGR8, same size).
    void compose(const uint8_t* frame, const uint8_t* mask, uint8_t* out, int width, int height);

private:
    Mode mode_ = Mode::none;
    int radius_ = 0;
    std::vector<uint8_t> image_; // the loaded background, BGR
    int image_width_ = 0, image_height_ = 0;
    std::vector<uint8_t> background_; // the background at frame size
    int background_width_ = 0, background_height_ = 0;
    std::vector<uint8_t> half_;
    std::vector<uint8_t> scratch_;
    std::vector<uint32_t> sums_;
};

} // namespace webcam
