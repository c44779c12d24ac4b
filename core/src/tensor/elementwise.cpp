#include "elementwise.hpp"

#include <map>

namespace rill::tensor {

UnaryFn unary_fn(const std::string& name) {
    static const std::map<std::string, UnaryFn> k = {
        {"relu", UnaryFn::Relu}, {"leaky_relu", UnaryFn::LeakyRelu}, {"elu", UnaryFn::Elu},
        {"sigmoid", UnaryFn::Sigmoid}, {"hard_sigmoid", UnaryFn::HardSigmoid},
        {"hard_swish", UnaryFn::HardSwish}, {"tanh", UnaryFn::Tanh},
        {"softplus", UnaryFn::Softplus}, {"exp", UnaryFn::Exp}, {"log", UnaryFn::Log},
        {"sqrt", UnaryFn::Sqrt}, {"abs", UnaryFn::Abs}, {"neg", UnaryFn::Neg},
        {"reciprocal", UnaryFn::Reciprocal}, {"erf", UnaryFn::Erf}, {"gelu", UnaryFn::Gelu},
        {"floor", UnaryFn::Floor}, {"ceil", UnaryFn::Ceil}, {"round", UnaryFn::Round},
        {"sin", UnaryFn::Sin}, {"cos", UnaryFn::Cos}, {"clip", UnaryFn::Clip},
        {"identity", UnaryFn::Identity}, {"not", UnaryFn::Not}};
    const auto it = k.find(name);
    if (it == k.end())
        fail_format("unknown unary function \"" + name + "\"");
    return it->second;
}

BinaryFn binary_fn(const std::string& name) {
    static const std::map<std::string, BinaryFn> k = {
        {"add", BinaryFn::Add}, {"sub", BinaryFn::Sub}, {"mul", BinaryFn::Mul},
        {"div", BinaryFn::Div}, {"pow", BinaryFn::Pow}, {"max", BinaryFn::Max},
        {"min", BinaryFn::Min}, {"prelu", BinaryFn::Prelu}, {"equal", BinaryFn::Equal},
        {"less", BinaryFn::Less}, {"greater", BinaryFn::Greater}, {"and", BinaryFn::And},
        {"or", BinaryFn::Or}, {"mod", BinaryFn::Mod},
        {"floor_mod", BinaryFn::FloorMod}};
    const auto it = k.find(name);
    if (it == k.end())
        fail_format("unknown binary function \"" + name + "\"");
    return it->second;
}

} // namespace rill::tensor
