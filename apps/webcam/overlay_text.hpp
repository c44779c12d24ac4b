// Text drawn into packed BGR8 frames with a built-in 5x7 bitmap font (digits, capital letters,
// a little punctuation; lower case is drawn as capitals): the demo's fps / timing read-out.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace webcam {

constexpr int glyph_width = 5;
constexpr int glyph_height = 7;

// Pixels of `text` at `scale` (one glyph cell is 6 x 8 font pixels, spacing included).
int text_width(const std::string& text, int scale);
int text_height(int scale);

// Draws `text` with its top-left corner at (x, y); clipped to the frame.
void draw_text(uint8_t* bgr, int width, int height, int x, int y, const std::string& text,
               int scale, const uint8_t color_bgr[3]);

// Lines of text on a darkened box at (x, y), the read-out panel.
void draw_panel(uint8_t* bgr, int width, int height, int x, int y,
                const std::vector<std::string>& lines, int scale);

} // namespace webcam
