#include "kernel.hpp"

namespace rill::tensor {

std::vector<int64_t> attr_ints(const nlohmann::json& a, const char* key, std::vector<int64_t> fallback) {
    if (!a.contains(key))
        return fallback;
    const auto& v = a.at(key);
    if (!v.is_array())
        fail_format(std::string("attribute '") + key + "' must be a list of integers");
    std::vector<int64_t> r;
    for (const auto& e : v) {
        if (!e.is_number_integer())
            fail_format(std::string("attribute '") + key + "' must be a list of integers");
        r.push_back(e.get<int64_t>());
    }
    return r;
}

int64_t attr_int(const nlohmann::json& a, const char* key, int64_t fallback) {
    if (!a.contains(key))
        return fallback;
    if (!a.at(key).is_number_integer())
        fail_format(std::string("attribute '") + key + "' must be an integer");
    return a.at(key).get<int64_t>();
}

double attr_float(const nlohmann::json& a, const char* key, double fallback) {
    if (!a.contains(key))
        return fallback;
    if (!a.at(key).is_number())
        fail_format(std::string("attribute '") + key + "' must be a number");
    return a.at(key).get<double>();
}

std::string attr_string(const nlohmann::json& a, const char* key, const std::string& fallback) {
    if (!a.contains(key))
        return fallback;
    if (!a.at(key).is_string())
        fail_format(std::string("attribute '") + key + "' must be a string");
    return a.at(key).get<std::string>();
}

void expect_step_inputs(const StepSpec& s, size_t lo, size_t hi) {
    if (s.in_shapes.size() < lo || s.in_shapes.size() > hi)
        fail_format(s.op + " takes " + std::to_string(lo) + ".." + std::to_string(hi) +
                    " inputs, got " + std::to_string(s.in_shapes.size()));
    for (size_t i = 0; i < lo; ++i)
        if (!s.present[i])
            fail_format(s.op + ": input " + std::to_string(i) + " is required");
}

BuiltStep build_step(const StepSpec& s) {
    if (s.op == "unary" || s.op == "binary")
        return build_elementwise(s);
    if (s.op == "reshape") {
        expect_step_inputs(s, 1, 1);
        const Shape shape = attr_ints(s.attrs, "shape", {});
        if (numel(shape) != numel(s.in_shapes[0]))
            fail_format("reshape of " + to_string(s.in_shapes[0]) + " to " + to_string(shape));
        return {nullptr, {shape}};
    }
    if (s.op == "transpose" || s.op == "slice" || s.op == "gather" || s.op == "concat" ||
        s.op == "pad" || s.op == "expand" || s.op == "tile" || s.op == "scatter_nd" ||
        s.op == "resize_nearest")
        return build_move(s);
    if (s.op == "conv")
        return build_conv(s);
    if (s.op == "conv_transpose")
        return build_conv_transpose(s);
    if (s.op == "matmul")
        return build_matmul(s);
    if (s.op == "gru" || s.op == "lstm")
        return build_rnn(s);
    if (s.op == "reduce")
        return build_reduce(s);
    if (s.op == "softmax")
        return build_softmax(s);
    if (s.op == "layer_norm")
        return build_layer_norm(s);
    if (s.op == "pool")
        return build_pool(s);
    if (s.op == "resize_linear")
        return build_resize_linear(s);
    if (s.op == "linear_attention")
        return build_linear_attention(s);
    fail_unsupported("unknown tensor step op \"" + s.op + "\"");
}

} // namespace rill::tensor
