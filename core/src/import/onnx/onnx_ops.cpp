// The table of ONNX operator translators (onnx_ops_tensor.cpp, onnx_ops_nn.cpp).
#include "onnx_ops.hpp"

namespace rill::onnx_import {
namespace {

const TranslatorTable& table() {
    static const TranslatorTable t = [] {
        TranslatorTable r;
        add_tensor_translators(r);
        add_nn_translators(r);
        return r;
    }();
    return t;
}

} // namespace

void lower_node(Lowering& l, const OnnxNode& node) {
    const auto it = table().find(node.op_type);
    if (it == table().end())
        fail_unsupported("node '" + node.name + "': operator " + node.op_type + " is not supported");
    it->second(l, node);
}

std::vector<std::string> supported_onnx_operators() {
    std::vector<std::string> r;
    for (const auto& [name, fn] : table())
        r.push_back(name);
    return r;
}

} // namespace rill::onnx_import
