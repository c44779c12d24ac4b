#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

namespace rill {

std::string OpBuildContext::where() const {
    return "node '" + node.name + "' (" + node.op + ")";
}

void OpBuildContext::fail(const std::string& what) const { fail_format(where() + ": " + what); }

bool OpBuildContext::has_attr(const char* key) const {
    return node.attrs.is_object() && node.attrs.contains(key);
}

int64_t OpBuildContext::attr_int(const char* key, int64_t fallback) const {
    if (!has_attr(key))
        return fallback;
    const auto& v = node.attrs.at(key);
    if (v.is_boolean())
        return v.get<bool>() ? 1 : 0;
    if (!v.is_number_integer())
        fail(std::string("attribute '") + key + "' must be an integer, got " + v.dump());
    return v.get<int64_t>();
}

int64_t OpBuildContext::attr_int_required(const char* key) const {
    if (!has_attr(key))
        fail(std::string("missing required attribute '") + key + "'");
    return attr_int(key, 0);
}

double OpBuildContext::attr_float(const char* key, double fallback) const {
    if (!has_attr(key))
        return fallback;
    const auto& v = node.attrs.at(key);
    if (!v.is_number())
        fail(std::string("attribute '") + key + "' must be a number, got " + v.dump());
    return v.get<double>();
}

std::string OpBuildContext::attr_string(const char* key, const std::string& fallback) const {
    if (!has_attr(key))
        return fallback;
    const auto& v = node.attrs.at(key);
    if (!v.is_string())
        fail(std::string("attribute '") + key + "' must be a string, got " + v.dump());
    return v.get<std::string>();
}

std::vector<int64_t> OpBuildContext::attr_ints(const char* key,
                                               const std::vector<int64_t>& fallback) const {
    if (!has_attr(key))
        return fallback;
    const auto& v = node.attrs.at(key);
    if (v.is_number_integer())
        return {v.get<int64_t>()};
    if (!v.is_array())
        fail(std::string("attribute '") + key + "' must be a list of integers, got " + v.dump());
    std::vector<int64_t> out;
    for (const auto& e : v) {
        if (!e.is_number_integer())
            fail(std::string("attribute '") + key + "' must be a list of integers, got " +
                 v.dump());
        out.push_back(e.get<int64_t>());
    }
    return out;
}

std::vector<double> OpBuildContext::attr_floats(const char* key, const std::vector<double>& fallback) const {
    if (!has_attr(key))
        return fallback;
    const auto& v = node.attrs.at(key);
    std::vector<double> out;
    for (const auto& e : v.is_array() ? v : nlohmann::json::array({v})) {
        if (!e.is_number() || !std::isfinite(e.get<double>()))
            fail(std::string("attribute '") + key + "' must be a list of finite numbers, got " + v.dump());
        out.push_back(e.get<double>());
    }
    return out;
}

uint32_t OpBuildContext::param_index(const std::string& name, const char* key) const {
    const auto& params = graph.params;
    for (size_t i = 0; i < params.size(); ++i)
        if (params[i].name == name)
            return static_cast<uint32_t>(i);
    fail(std::string("attribute '") + key + "' names '" + name + "', which is not a model parameter");
}

const Tensor* OpBuildContext::optional_weight(const char* role,
                                              const std::vector<int64_t>& shape) const {
    auto it = node.weights.find(role);
    if (it == node.weights.end())
        return nullptr;
    auto t = tensors.find(it->second);
    if (t == tensors.end())
        fail(std::string("weight '") + role + "' refers to tensor '" + it->second +
             "', which is not in the file");
    if (!shape.empty()) {
        bool ok = t->second.shape.size() == shape.size();
        for (size_t i = 0; ok && i < shape.size(); ++i)
            ok = shape[i] < 0 || shape[i] == t->second.shape[i];
        if (!ok) {
            Tensor expected;
            expected.shape = shape;
            fail(std::string("weight '") + role + "' (tensor '" + it->second + "') has shape " +
                 t->second.shape_string() + ", expected " + expected.shape_string() +
                 " (-1 = any)");
        }
    }
    return &t->second;
}

const Tensor& OpBuildContext::weight(const char* role, const std::vector<int64_t>& shape) const {
    const Tensor* t = optional_weight(role, shape);
    if (!t)
        fail(std::string("missing weight '") + role + "'");
    return *t;
}

void OpBuildContext::expect_inputs(size_t lo, size_t hi) const {
    const size_t n = node.inputs.size();
    if (n < lo || n > hi)
        fail("takes " + (lo == hi ? std::to_string(lo)
                                  : std::to_string(lo) + ".." + std::to_string(hi)) +
             " inputs, got " + std::to_string(n));
}

} // namespace rill
