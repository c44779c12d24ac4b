// Weight tensors of a loaded model (float32, row-major, immutable, shared by all streams).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace rill {

struct Tensor {
    std::vector<int64_t> shape;
    std::shared_ptr<const std::vector<float>> storage; // keeps `data` alive
    const float* data = nullptr;

    int64_t numel() const;
    std::string shape_string() const; // "[16, 1, 3]"
};

// Makes a tensor that owns its values.
Tensor make_tensor(std::vector<int64_t> shape, std::vector<float> values);

using TensorMap = std::map<std::string, Tensor>;

} // namespace rill
