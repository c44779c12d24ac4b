// Attributes and weights shared by conv1d and conv_transpose1d, read and validated once.
#pragma once

#include <string>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

namespace rill {

struct ConvAttrs {
    int64_t stride = 1, dilation = 1, groups = 1;
    int64_t kernel = 1;
    Tensor weight;
    Tensor bias; // optional: data == nullptr when absent

    // transposed: weight [Cin, Cout/groups, k]; else [Cout, Cin/groups, k].
    static ConvAttrs read(const OpBuildContext& ctx, bool transposed) {
        ctx.expect_inputs(1, 1);
        ConvAttrs a;
        a.stride = ctx.attr_int("stride", 1);
        a.dilation = ctx.attr_int("dilation", 1);
        a.groups = ctx.attr_int("groups", 1);
        if (a.stride < 1 || a.stride > 4096)
            ctx.fail("stride must be in 1..4096, got " + std::to_string(a.stride));
        if (a.dilation < 1 || a.dilation > 65536)
            ctx.fail("dilation must be in 1..65536, got " + std::to_string(a.dilation));
        if (a.groups < 1)
            ctx.fail("groups must be >= 1, got " + std::to_string(a.groups));
        a.weight = ctx.weight("weight");
        if (a.weight.shape.size() != 3 || a.weight.numel() == 0)
            ctx.fail(std::string("weight must be 3-D [") +
                     (transposed ? "Cin, Cout/groups" : "Cout, Cin/groups") + ", kernel], got " +
                     a.weight.shape_string());
        a.kernel = a.weight.shape[2];
        // Axis 0 is Cout (conv) or Cin (transposed conv): both are split into the groups.
        if (a.weight.shape[0] % a.groups != 0)
            ctx.fail("weight axis 0 (" + std::to_string(a.weight.shape[0]) +
                     ") is not divisible by groups " + std::to_string(a.groups));
        if (const Tensor* b = ctx.optional_weight("bias", {a.out_channels(transposed)}))
            a.bias = *b;
        return a;
    }

    int64_t in_channels(bool transposed) const {
        return transposed ? weight.shape[0] : weight.shape[1] * groups;
    }
    int64_t out_channels(bool transposed) const {
        return transposed ? weight.shape[1] * groups : weight.shape[0];
    }
    // Plan-time check of the input port against the weight.
    void check_input(const PortInfo& in, bool transposed, const std::string& where) const {
        if (in.channels != in_channels(transposed))
            throw CoreError(ErrorKind::Format, where + ": input has " + std::to_string(in.channels) +
                                               " channels, the weight expects " +
                                               std::to_string(in_channels(transposed)));
    }

    const float* bias_data() const { return bias.data; }
};

} // namespace rill
