#include "window.hpp"

#include <cstring>

#include <SDL.h>

namespace webcam {

Window::~Window() {
    if (texture_)
        SDL_DestroyTexture(texture_);
    if (renderer_)
        SDL_DestroyRenderer(renderer_);
    if (window_)
        SDL_DestroyWindow(window_);
    if (sdl_initialised_)
        SDL_QuitSubSystem(SDL_INIT_VIDEO);
}

bool Window::open(const std::string& title, int width, int height, std::string& error) {
    // The program handles SIGINT / SIGTERM itself (the same clean exit with or without a window).
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_InitSubSystem(SDL_INIT_VIDEO) != 0) {
        error = std::string("cannot open a window: ") + SDL_GetError();
        return false;
    }
    sdl_initialised_ = true;
    // Without a display SDL falls back to drivers that draw nowhere; say so unless asked for.
    const char* driver = SDL_GetCurrentVideoDriver();
    const char* wanted = SDL_getenv("SDL_VIDEODRIVER");
    if (driver && (!std::strcmp(driver, "offscreen") || !std::strcmp(driver, "dummy")) &&
        !(wanted && !std::strcmp(wanted, driver))) {
        error = "no display (SDL chose its '" + std::string(driver) + "' video driver)";
        return false;
    }
    window_ = SDL_CreateWindow(title.c_str(), SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, width,
                               height, SDL_WINDOW_RESIZABLE);
    if (!window_) {
        error = std::string("cannot create the window: ") + SDL_GetError();
        return false;
    }
    // Vsync off: a frame is shown as soon as it is ready (the latency read-out measures that).
    renderer_ = SDL_CreateRenderer(window_, -1, 0);
    if (!renderer_) {
        error = std::string("cannot create a renderer: ") + SDL_GetError();
        return false;
    }
    SDL_SetHint(SDL_HINT_RENDER_SCALE_QUALITY, "linear");
    return true;
}

bool Window::show(const uint8_t* bgr, int width, int height, std::string& error) {
    if (!texture_ || texture_width_ != width || texture_height_ != height) {
        if (texture_) {
            SDL_DestroyTexture(texture_);
        } else {
            // The first frame sets the window's size (the source's own size is known only now).
            SDL_SetWindowSize(window_, width, height);
            SDL_SetWindowPosition(window_, SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED);
        }
        texture_ = SDL_CreateTexture(renderer_, SDL_PIXELFORMAT_BGR24, SDL_TEXTUREACCESS_STREAMING,
                                     width, height);
        if (!texture_) {
            error = std::string("cannot create a texture: ") + SDL_GetError();
            return false;
        }
        texture_width_ = width;
        texture_height_ = height;
        SDL_RenderSetLogicalSize(renderer_, width, height); // letterboxed, aspect kept
    }
    if (SDL_UpdateTexture(texture_, nullptr, bgr, width * 3) != 0) {
        error = std::string("cannot upload the frame: ") + SDL_GetError();
        return false;
    }
    SDL_SetRenderDrawColor(renderer_, 0, 0, 0, 255);
    SDL_RenderClear(renderer_);
    SDL_RenderCopy(renderer_, texture_, nullptr, nullptr);
    SDL_RenderPresent(renderer_);
    return true;
}

Window::Events Window::poll() {
    Events events;
    SDL_Event e;
    while (SDL_PollEvent(&e)) {
        if (e.type == SDL_QUIT)
            events.quit = true;
        else if (e.type == SDL_KEYDOWN && !e.key.repeat) {
            switch (e.key.keysym.sym) {
            case SDLK_ESCAPE:
            case SDLK_q:
                events.quit = true;
                break;
            case SDLK_m:
                events.toggle_mask = !events.toggle_mask;
                break;
            case SDLK_SPACE:
                events.toggle_effect = !events.toggle_effect;
                break;
            default:
                break;
            }
        }
    }
    return events;
}

} // namespace webcam
