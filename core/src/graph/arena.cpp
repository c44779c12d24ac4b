#include "rill/core/arena.hpp"

#include <algorithm>

#include "rill/core/error.hpp"

namespace rill {

void* Arena::take(std::byte* base, size_t& used, size_t cap, size_t bytes) {
    const size_t offset = (used + kAlign - 1) / kAlign * kAlign;
    used = offset + bytes;
    if (&used == &scratch_used_)
        scratch_peak_ = std::max(scratch_peak_, used);
    if (sizing_)
        return nullptr;
    if (used > cap)
        throw CoreError(ErrorKind::Internal, "arena overflow: an op asked for more memory than in the "
                                         "sizing pass");
    return base + offset;
}

} // namespace rill
