// The delay op (ops/delay.cpp), registered with the routing family.
#pragma once

#include <memory>

#include "rill/core/op.hpp"

namespace rill::ops {
std::unique_ptr<Op> make_delay(const OpBuildContext& ctx);
} // namespace rill::ops
