// Lowering of an ONNX graph to a tensor program (tensor/program.hpp): every value is either a
// constant known at import (weights, folded shape arithmetic, resolved `If` branches) or a
// float activation with a static shape. Steps whose inputs are all constants are evaluated at
// import (constant folding) with the same code that runs them later.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../../tensor/shape.hpp"
#include "onnx_graph.hpp"

namespace rill::onnx_import {

using tensor::Shape;

class Lowering {
public:
    explicit Lowering(int64_t opset) : opset_(opset) {}

    int64_t opset() const { return opset_; }

    void set_const(const std::string& name, Const c) { consts_[name] = std::move(c); }
    void set_runtime(const std::string& name, Shape shape) { shapes_[name] = std::move(shape); }
    bool has(const std::string& name) const { return consts_.count(name) || shapes_.count(name); }
    bool is_const(const std::string& name) const { return consts_.count(name) > 0; }
    // The constant value of input `name` of node `node`; throws naming both when not constant.
    const Const& constant(const std::string& name, const OnnxNode& node) const;
    Shape shape(const std::string& name) const;

    // Appends a step (or folds it when all inputs are constant). Output names: `names` where
    // given (non-empty), fresh ones otherwise. Returns the output names.
    std::vector<std::string> emit(const std::string& op, const std::vector<std::string>& inputs,
                                  const nlohmann::json& attrs, size_t outputs = 1,
                                  const std::vector<std::string>& names = {});
    // `out` is `in` (no step: a reshape alias, or the same constant).
    void alias(const std::string& out, const std::string& in);
    // A new constant value, returned by name.
    std::string add_const(Const c, const std::string& hint = "c");

    // Lowers the nodes of `g` in order (initializers become constants first).
    void lower(const OnnxGraph& g);

    // y = x * scale + shift per output channel (axis 1), folded into the conv step that computes
    // x when x has no other use (its weights and bias are rescaled at import): true when done, the
    // conv then writes `y`. scale and shift hold one value per channel.
    bool fold_channel_affine(const std::string& x, const Const& scale, const Const& shift, const std::string& y);

    // y = act(x) fused into the conv step that computes x when x has no other use (attr
    // `activation` of the conv step; `slope` is the per-channel PReLU slope value, else empty).
    bool fuse_activation(const std::string& x, const nlohmann::json& activation, const std::string& slope,
                         const std::string& y);

    const nlohmann::json& steps() const { return steps_; }
    // Constants that steps read at run time (float32 weights), by value name.
    std::map<std::string, Const> used_weights() const;

private:
    std::string fresh(const std::string& hint);
    // The last step when it is a conv computing x, which nothing else uses; else nullptr.
    nlohmann::json* sole_conv_producer(const std::string& x);
    void fold(const std::string& op, const std::vector<std::string>& inputs,
              const nlohmann::json& attrs, const std::vector<std::string>& outs);

    int64_t opset_;
    std::map<std::string, int> uses_; // ONNX value -> number of node inputs and graph outputs using it
    std::map<std::string, Const> consts_;
    std::map<std::string, Shape> shapes_;
    nlohmann::json steps_ = nlohmann::json::array();
    int counter_ = 0;
};

// Lowers one node (onnx_ops.cpp). Throws CoreError{Unsupported} naming node and operator for
// operators (or attribute values) the importer does not support.
void lower_node(Lowering& l, const OnnxNode& node);

// The operator names lower_node supports (default domain), for documentation and tests.
std::vector<std::string> supported_onnx_operators();

} // namespace rill::onnx_import
