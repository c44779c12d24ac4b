// Frame rates relative to the model's input rate, as reduced fractions: a port with rate 1/8
// carries one frame per 8 input frames (after a stride-8 conv); 2/1 after a stride-2 transposed
// conv.
#pragma once

#include <cstdint>
#include <numeric>

namespace rill {

struct Rate {
    int64_t num = 1;
    int64_t den = 1;

    static Rate make(int64_t num, int64_t den) {
        const int64_t g = std::gcd(num, den);
        return Rate{num / g, den / g};
    }
    Rate divided_by(int64_t s) const { return make(num, den * s); }
    Rate times(int64_t s) const { return make(num * s, den); }
    bool operator==(const Rate& o) const { return num == o.num && den == o.den; }
    bool operator!=(const Rate& o) const { return !(*this == o); }
    // Frames at this rate in `input_frames` frames of the model input (input_frames must be a
    // multiple of the graph hop, so this is exact).
    int64_t frames_for(int64_t input_frames) const { return input_frames * num / den; }
};

} // namespace rill
