// Shared helpers of the ONNX operator translators (onnx_ops_*.cpp).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "lowering.hpp"
#include "rill/core/error.hpp"

namespace rill::onnx_import {

using Translator = void (*)(Lowering&, const OnnxNode&);
using TranslatorTable = std::map<std::string, Translator>;

void add_tensor_translators(TranslatorTable& t); // onnx_ops_tensor.cpp
void add_nn_translators(TranslatorTable& t);     // onnx_ops_nn.cpp
void lower_einsum(Lowering& l, const OnnxNode& n); // onnx_einsum.cpp

inline const Attr* find_attr(const OnnxNode& n, const char* name) {
    const auto it = n.attrs.find(name);
    return it == n.attrs.end() ? nullptr : &it->second;
}
inline int64_t attr_i(const OnnxNode& n, const char* name, int64_t fallback) {
    const Attr* a = find_attr(n, name);
    return a ? a->i : fallback;
}
inline double attr_f(const OnnxNode& n, const char* name, double fallback) {
    const Attr* a = find_attr(n, name);
    return a ? a->f : fallback;
}
inline std::string attr_s(const OnnxNode& n, const char* name, const std::string& fallback) {
    const Attr* a = find_attr(n, name);
    return a ? a->s : fallback;
}
inline std::vector<int64_t> attr_is(const OnnxNode& n, const char* name, std::vector<int64_t> fallback) {
    const Attr* a = find_attr(n, name);
    return a ? a->ints : fallback;
}

[[noreturn]] inline void unsupported(const OnnxNode& n, const std::string& what) {
    fail_unsupported("node '" + n.name + "' (" + n.op_type + "): " + what);
}

// Input i, or "" when absent.
inline std::string input(const OnnxNode& n, size_t i) {
    return i < n.inputs.size() ? n.inputs[i] : std::string();
}
inline std::string output(const OnnxNode& n, size_t i) {
    return i < n.outputs.size() ? n.outputs[i] : std::string();
}

// A folded integer (held in a double) as int64; INT64_MAX/MIN markers ("to the end") saturate.
inline int64_t to_int(double v) {
    constexpr double kLimit = 4.0e18;
    return v >= kLimit ? int64_t(4000000000000000000) : v <= -kLimit ? -int64_t(4000000000000000000)
                                                                     : static_cast<int64_t>(v);
}

// Integer values of a constant input (e.g. Reshape's shape), or `fallback` when absent.
inline std::vector<int64_t> const_ints(const Lowering& l, const OnnxNode& n, size_t i,
                                       std::vector<int64_t> fallback = {}) {
    const std::string name = input(n, i);
    if (name.empty())
        return fallback;
    std::vector<int64_t> r;
    for (double v : l.constant(name, n).values)
        r.push_back(to_int(v));
    return r;
}

inline Const scalar_const(double v, bool is_int = false) {
    Const c;
    c.is_int = is_int;
    c.values = {v};
    return c;
}

} // namespace rill::onnx_import
