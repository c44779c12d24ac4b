#include "rill/core/tensor.hpp"

#include <sstream>

namespace rill {

int64_t Tensor::numel() const {
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

std::string Tensor::shape_string() const {
    std::ostringstream s;
    s << "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s << (i ? ", " : "") << shape[i];
    s << "]";
    return s.str();
}

Tensor make_tensor(std::vector<int64_t> shape, std::vector<float> values) {
    Tensor t;
    t.shape = std::move(shape);
    auto storage = std::make_shared<const std::vector<float>>(std::move(values));
    t.data = storage->data();
    t.storage = std::move(storage);
    return t;
}

} // namespace rill
