// One step of a tensor program: a kernel built once at load from the step's op name, attributes
// and input shapes (constant inputs are known then and may be repacked), run per frame.
//
// Step ops (attributes in brackets; the math of each is stated in the file that implements it):
//   unary {fn, alpha, beta}, binary {fn}                               elementwise.hpp
//   reshape {shape} (no kernel: the output aliases the input)
//   transpose {perm}, slice {starts, ends, axes, steps}, gather {axis, indices, indices_shape},
//   concat {axis}, pad {pads, mode, value}, expand {shape}, tile {repeats},
//   scatter_nd {indices, indices_shape}, resize_nearest {sizes, scales, coordinate_mode,
//   nearest_mode}                                                      move_kernels.cpp
//   resize_linear {sizes, scales, coordinate_mode}                     resize_kernel.cpp
//   conv, conv_transpose {strides, pads, dilations, group, output_padding}   conv_kernels.cpp
//   matmul                                                             matmul_kernel.cpp
//   gru {hidden_size, direction, linear_before_reset}, lstm {hidden_size, direction}  rnn_kernels.cpp
//   reduce {fn, axes, keepdims}, softmax {axis, log}, layer_norm {axis, epsilon},
//   pool {mode, kernel, strides, pads, dilations, ceil_mode, count_include_pad}  reduce_kernels.cpp
//   linear_attention {q_num_heads, kv_num_heads, scale, update_rule}  linear_attention_kernel.cpp
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "shape.hpp"

namespace rill::tensor {

class TensorKernel {
public:
    virtual ~TensorKernel() = default;
    // Floats of per-call scratch the kernel needs.
    virtual size_t scratch_floats() const { return 0; }
    // in[i] is nullptr for an absent optional input. Allocation-free, noexcept.
    virtual void run(const float* const* in, float* const* out, float* scratch) const noexcept = 0;
};

struct StepSpec {
    std::string op;
    const nlohmann::json& attrs;
    std::vector<Shape> in_shapes;         // {} for an absent optional input
    std::vector<bool> present;            // false for an absent optional input
    std::vector<const float*> constants;  // values of constant inputs, nullptr for activations
};

struct BuiltStep {
    std::shared_ptr<const TensorKernel> kernel; // nullptr: output 0 aliases input 0 (reshape)
    std::vector<Shape> out_shapes;
};

// Throws CoreError{Format} (bad shapes or attributes) or {Unsupported} (unknown op).
BuiltStep build_step(const StepSpec& spec);

// Attribute helpers with errors naming the key.
std::vector<int64_t> attr_ints(const nlohmann::json& a, const char* key, std::vector<int64_t> fallback);
int64_t attr_int(const nlohmann::json& a, const char* key, int64_t fallback);
double attr_float(const nlohmann::json& a, const char* key, double fallback);
std::string attr_string(const nlohmann::json& a, const char* key, const std::string& fallback);

// Builders of each family (used by build_step).
BuiltStep build_elementwise(const StepSpec& s);
BuiltStep build_move(const StepSpec& s);
BuiltStep build_conv(const StepSpec& s);
BuiltStep build_conv_transpose(const StepSpec& s);
BuiltStep build_matmul(const StepSpec& s);
BuiltStep build_rnn(const StepSpec& s);
BuiltStep build_reduce(const StepSpec& s);
BuiltStep build_softmax(const StepSpec& s);
BuiltStep build_layer_norm(const StepSpec& s);
BuiltStep build_pool(const StepSpec& s);
BuiltStep build_linear_attention(const StepSpec& s);
BuiltStep build_resize_linear(const StepSpec& s);

// Number of inputs in [lo, hi] (counting absent optional ones).
void expect_step_inputs(const StepSpec& s, size_t lo, size_t hi);

} // namespace rill::tensor
