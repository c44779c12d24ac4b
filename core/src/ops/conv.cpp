#include "rill/core/op.hpp"

#include "families.hpp"

namespace rill {

std::unique_ptr<Op> make_conv1d(const OpBuildContext& ctx);              // conv1d.cpp
std::unique_ptr<Op> make_conv_transpose1d(const OpBuildContext& ctx);    // conv_transpose1d.cpp
std::unique_ptr<Op> make_conv2d_ft(const OpBuildContext& ctx);           // conv2d_ft.cpp
std::unique_ptr<Op> make_conv_transpose2d_ft(const OpBuildContext& ctx); // conv_transpose2d_ft.cpp

void register_conv_ops(OpRegistry& r) {
    r.add("conv1d", make_conv1d);
    r.add("conv_transpose1d", make_conv_transpose1d);
    r.add("conv2d_ft", make_conv2d_ft);
    r.add("conv_transpose2d_ft", make_conv_transpose2d_ft);
}

} // namespace rill
