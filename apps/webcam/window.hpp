// The demo's window (SDL2): shows packed BGR8 frames scaled to the window, aspect kept.
#pragma once

#include <cstdint>
#include <string>

struct SDL_Window;
struct SDL_Renderer;
struct SDL_Texture;

namespace webcam {

class Window {
public:
    Window() = default;
    Window(const Window&) = delete;
    Window& operator=(const Window&) = delete;
    ~Window();

    // Opens the window (not yet shown until the first frame); false with `error` set when there
    // is no display or SDL fails.
    bool open(const std::string& title, int width, int height, std::string& error);
    // Uploads and presents one frame (any size; the texture follows it).
    bool show(const uint8_t* bgr, int width, int height, std::string& error);

    struct Events {
        bool quit = false;          // window closed, Escape or Q
        bool toggle_mask = false;   // M: show the mask instead of the composite
        bool toggle_effect = false; // Space: effect on / off
    };
    Events poll();

private:
    SDL_Window* window_ = nullptr;
    SDL_Renderer* renderer_ = nullptr;
    SDL_Texture* texture_ = nullptr;
    int texture_width_ = 0, texture_height_ = 0;
    bool sdl_initialised_ = false;
};

} // namespace webcam
