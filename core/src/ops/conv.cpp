#include "rill/core/op.hpp"

#include "families.hpp"

namespace rill {

std::unique_ptr<Op> make_conv1d(const OpBuildContext& ctx);           // conv1d.cpp
std::unique_ptr<Op> make_conv_transpose1d(const OpBuildContext& ctx); // conv_transpose1d.cpp

void register_conv_ops(OpRegistry& r) {
    r.add("conv1d", make_conv1d);
    r.add("conv_transpose1d", make_conv_transpose1d);
}

} // namespace rill
