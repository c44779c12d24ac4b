// Einsum with one or two operands, lowered to sums, transposes, reshapes and one batched matrix
// product (the patterns of grouped linear layers: "btgi,gio->btgo", "bij,bjk->bik", ...):
//   labels only in one operand and not in the output are summed first; the others are batch
//   labels (both operands and the output), contracted labels (both operands only) and free
//   labels (one operand and the output). A -> [batch, free_A, contracted], B -> [batch,
//   contracted, free_B], C = A B, then the output order. Repeated labels within one operand
//   (diagonals) and ellipses are not supported. Without "->" the output is the labels used once,
//   sorted (ONNX's implicit mode).
#include <algorithm>

#include "onnx_ops.hpp"

namespace rill::onnx_import {
namespace {

struct Operand {
    std::string name;
    std::string labels;
    Shape shape;
};

std::vector<int64_t> positions(const std::string& labels, const std::string& which) {
    std::vector<int64_t> p;
    for (char c : which)
        p.push_back(static_cast<int64_t>(labels.find(c)));
    return p;
}

// Sums the labels of `op` that `keep` does not contain.
void sum_unused(Lowering& l, Operand& op, const std::string& keep) {
    std::vector<int64_t> axes;
    std::string kept;
    Shape shape;
    for (size_t i = 0; i < op.labels.size(); ++i) {
        if (keep.find(op.labels[i]) == std::string::npos) {
            axes.push_back(static_cast<int64_t>(i));
        } else {
            kept += op.labels[i];
            shape.push_back(op.shape[i]);
        }
    }
    if (axes.empty())
        return;
    op.name = l.emit("reduce", {op.name}, {{"fn", "sum"}, {"axes", axes}, {"keepdims", 0}})[0];
    op.labels = kept;
    op.shape = shape;
}

std::string permute(Lowering& l, const Operand& op, const std::string& order) {
    if (order == op.labels)
        return op.name;
    return l.emit("transpose", {op.name}, {{"perm", positions(op.labels, order)}})[0];
}

int64_t extent(const Operand& a, const Operand* b, char c) {
    const auto i = a.labels.find(c);
    if (i != std::string::npos)
        return a.shape[i];
    return b->shape[b->labels.find(c)];
}

} // namespace

void lower_einsum(Lowering& l, const OnnxNode& n) {
    std::string eq = attr_s(n, "equation", "");
    eq.erase(std::remove(eq.begin(), eq.end(), ' '), eq.end());
    if (eq.find("...") != std::string::npos)
        unsupported(n, "equation \"" + eq + "\" (ellipses are not supported)");
    const auto arrow = eq.find("->");
    const std::string lhs = eq.substr(0, arrow);
    std::string out;
    if (arrow != std::string::npos) {
        out = eq.substr(arrow + 2);
    } else { // implicit output: the labels used once, in alphabetical order
        for (char c = 'A'; c <= 'z'; ++c)
            if (std::count(lhs.begin(), lhs.end(), c) == 1)
                out += c;
    }
    std::vector<Operand> ops;
    size_t start = 0;
    for (size_t i = 0; i <= lhs.size(); ++i)
        if (i == lhs.size() || lhs[i] == ',') {
            ops.push_back({input(n, ops.size()), lhs.substr(start, i - start), {}});
            start = i + 1;
        }
    if (ops.size() != n.inputs.size() || ops.empty() || ops.size() > 2)
        unsupported(n, "einsum of " + std::to_string(ops.size()) + " operands (1 or 2 are supported)");
    for (auto& op : ops) {
        op.shape = l.shape(op.name);
        if (op.shape.size() != op.labels.size())
            unsupported(n, "operand '" + op.name + "' has rank " + std::to_string(op.shape.size()) +
                           ", its labels \"" + op.labels + "\"");
        for (size_t i = 0; i < op.labels.size(); ++i)
            if (op.labels.find(op.labels[i]) != i)
                unsupported(n, "a repeated label (diagonal) in \"" + op.labels + "\"");
    }
    Operand& a = ops[0];
    if (ops.size() == 1) {
        sum_unused(l, a, out);
        l.emit("transpose", {a.name}, {{"perm", positions(a.labels, out)}}, 1, {output(n, 0)});
        return;
    }
    Operand& b = ops[1];
    sum_unused(l, a, b.labels + out);
    sum_unused(l, b, a.labels + out);
    std::string batch, contracted, free_a, free_b;
    for (char c : a.labels) {
        const bool in_b = b.labels.find(c) != std::string::npos, in_out = out.find(c) != std::string::npos;
        (in_b ? (in_out ? batch : contracted) : free_a) += c;
    }
    for (char c : b.labels)
        if (a.labels.find(c) == std::string::npos)
            free_b += c;
    auto size_of = [&](const std::string& labels) {
        int64_t s = 1;
        for (char c : labels)
            s *= extent(a, &b, c);
        return s;
    };
    for (char c : batch + contracted)
        if (extent(a, nullptr, c) != b.shape[b.labels.find(c)])
            unsupported(n, std::string("label '") + c + "' has different sizes in the two operands");
    const int64_t nb = size_of(batch), m = size_of(free_a), k = size_of(contracted), nn = size_of(free_b);
    const std::string at = l.emit("reshape", {permute(l, a, batch + free_a + contracted)}, {{"shape", {nb, m, k}}})[0];
    const std::string bt = l.emit("reshape", {permute(l, b, batch + contracted + free_b)}, {{"shape", {nb, k, nn}}})[0];
    const std::string c = l.emit("matmul", {at, bt}, nlohmann::json::object())[0];
    Operand result{"", batch + free_a + free_b, {}};
    for (char ch : result.labels)
        result.shape.push_back(extent(a, &b, ch));
    result.name = l.emit("reshape", {c}, {{"shape", result.shape}})[0];
    if (result.labels.size() != out.size())
        unsupported(n, "output labels \"" + out + "\" that are not in the operands");
    l.emit("transpose", {result.name}, {{"perm", positions(result.labels, out)}}, 1, {output(n, 0)});
}

} // namespace rill::onnx_import
