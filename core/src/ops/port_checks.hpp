// Checks shared by the ops' plan(): what an op may assume about its input ports. They throw
// CoreError{Format}; the planner prefixes the node name.
#pragma once

#include <string>
#include <vector>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

namespace rill::ops {

// Inputs of a multi-input op must share a rate and (after the planner's alignment) a latency.
inline void require_aligned(const std::vector<PortInfo>& inputs) {
    if (inputs.empty())
        fail_format("expects at least one input port");
    for (size_t i = 1; i < inputs.size(); ++i) {
        if (inputs[i].rate != inputs[0].rate)
            fail_format("input " + std::to_string(i) + " runs at a different rate than input 0");
        if (inputs[i].latency != inputs[0].latency)
            fail_format("input " + std::to_string(i) + " has latency " +
                        std::to_string(inputs[i].latency) + ", input 0 has " +
                        std::to_string(inputs[0].latency) + " (inputs must be aligned)");
    }
}

// The port of a same-rate, same-latency output with `channels` channels.
inline PortInfo port_like(const PortInfo& in, uint32_t channels) {
    return PortInfo{channels, in.rate, in.latency};
}

// Per-channel vector weights ([C] or, where allowed, [1]) checked against the planned channels.
inline void require_per_channel(const char* role, int64_t numel, uint32_t channels,
                                bool allow_one = false) {
    if (numel == static_cast<int64_t>(channels) || (allow_one && numel == 1))
        return;
    fail_format(std::string("weight '") + role + "' has " + std::to_string(numel) +
                " values, expected " + std::to_string(channels) + (allow_one ? " or 1" : "") +
                " (one per input channel)");
}

} // namespace rill::ops
