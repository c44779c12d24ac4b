// The .rill loader rejects malformed files with a clear error naming what is wrong.
#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "rill/core/error.hpp"
#include "rill/core/model.hpp"
#include "rill/core/rill_file.hpp"

namespace rill {
namespace {

using nlohmann::json;

std::string header_of(const std::vector<unsigned char>& bytes) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | bytes[i];
    return std::string(bytes.begin() + 8, bytes.begin() + 8 + static_cast<long>(n));
}

// Rebuilds a file with the given header JSON and data section.
std::vector<unsigned char> with_header(const json& header, const std::vector<unsigned char>& data) {
    const std::string h = header.dump();
    std::vector<unsigned char> out(8 + h.size());
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<unsigned char>(static_cast<uint64_t>(h.size()) >> (8 * i));
    std::memcpy(out.data() + 8, h.data(), h.size());
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

RillFile small_model() {
    RillFile f;
    f.graph = graph_from_json(json::parse(R"({
      "inputs": [{"name": "x", "channels": 2, "sample_rate": 16000}],
      "outputs": [{"name": "y", "channels": 3, "source": "lin"}],
      "params": [{"name": "gain", "min": 0, "max": 2, "default": 1}],
      "nodes": [{"name": "lin", "op": "linear", "inputs": ["x"],
                 "weights": {"weight": "lin.weight", "bias": "lin.bias"}}],
      "meta": {"description": "test"}})"));
    f.tensors["lin.weight"] = make_tensor({3, 2}, {1, 2, 3, 4, 5, 6});
    f.tensors["lin.bias"] = make_tensor({3}, {0.5f, 0.25f, 0});
    return f;
}

std::string load_error(const std::vector<unsigned char>& bytes) {
    try {
        Model m(read_rill_memory(bytes.data(), bytes.size()));
    } catch (const CoreError& e) {
        return e.what();
    }
    return "";
}

void expect_error(const std::vector<unsigned char>& bytes, const std::string& fragment) {
    const std::string err = load_error(bytes);
    EXPECT_NE(err, "") << "expected a failure mentioning '" << fragment << "'";
    EXPECT_NE(err.find(fragment), std::string::npos) << "error was: " << err;
}

struct Parts {
    json header;
    std::vector<unsigned char> data;
};

Parts parts_of(const std::vector<unsigned char>& bytes) {
    Parts p;
    const std::string h = header_of(bytes);
    p.header = json::parse(h);
    p.data.assign(bytes.begin() + 8 + static_cast<long>(h.size()), bytes.end());
    return p;
}

TEST(Format, RoundTripLoads) {
    const auto bytes = write_rill_memory(small_model());
    const RillFile f = read_rill_memory(bytes.data(), bytes.size());
    EXPECT_EQ(f.tensors.at("lin.weight").shape, (std::vector<int64_t>{3, 2}));
    EXPECT_EQ(f.tensors.at("lin.bias").data[1], 0.25f);
    EXPECT_EQ(f.graph.params.at(0).name, "gain");
    EXPECT_EQ(load_error(bytes), "");
    // 64-byte aligned data section.
    EXPECT_EQ((8 + header_of(bytes).size()) % 64, 0u);
}

TEST(Format, RejectsTruncatedAtEveryLength) {
    const auto bytes = write_rill_memory(small_model());
    for (size_t n = 0; n < bytes.size(); n += (n < 64 ? 1 : 7)) {
        std::vector<unsigned char> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
        EXPECT_NE(load_error(cut), "") << "accepted a file truncated to " << n << " bytes";
    }
}

TEST(Format, RejectsOffsetsOutOfRange) {
    Parts p = parts_of(write_rill_memory(small_model()));
    p.header["lin.bias"]["data_offsets"] = {0, 100000};
    expect_error(with_header(p.header, p.data), "outside the data section");
}

TEST(Format, RejectsOverlappingTensors) {
    Parts p = parts_of(write_rill_memory(small_model()));
    auto w = p.header["lin.weight"]["data_offsets"];
    p.header["lin.bias"]["data_offsets"] = {w[0].get<uint64_t>(), w[0].get<uint64_t>() + 12};
    expect_error(with_header(p.header, p.data), "overlap");
}

TEST(Format, RejectsWrongDtype) {
    Parts p = parts_of(write_rill_memory(small_model()));
    p.header["lin.bias"]["dtype"] = "I64";
    expect_error(with_header(p.header, p.data), "dtype I64 is not supported");
}

TEST(Format, RejectsByteCountNotMatchingShape) {
    Parts p = parts_of(write_rill_memory(small_model()));
    p.header["lin.bias"]["shape"] = {4};
    expect_error(with_header(p.header, p.data), "do not match shape");
}

TEST(Format, RejectsWrongWeightShapeForOp) {
    RillFile f = small_model();
    f.tensors["lin.weight"] = make_tensor({2, 3}, {1, 2, 3, 4, 5, 6});
    expect_error(write_rill_memory(f), "lin");
}

TEST(Format, RejectsNonFiniteWeights) {
    RillFile f = small_model();
    f.tensors["lin.bias"] = make_tensor({3}, {0, NAN, 0});
    expect_error(write_rill_memory(f), "not finite");
}

TEST(Format, RejectsUnknownOp) {
    RillFile f = small_model();
    f.graph.nodes[0].op = "frobnicate";
    expect_error(write_rill_memory(f), "unknown op 'frobnicate'");
}

TEST(Format, RejectsCycle) {
    RillFile f = small_model();
    NodeDef a;
    a.name = "a";
    a.op = "relu";
    a.inputs = {"b"};
    NodeDef b = a;
    b.name = "b";
    b.inputs = {"a"};
    f.graph.nodes.push_back(a);
    f.graph.nodes.push_back(b);
    expect_error(write_rill_memory(f), "cycle");
}

TEST(Format, RejectsUnresolvedNames) {
    RillFile f = small_model();
    f.graph.nodes[0].inputs = {"nowhere"};
    expect_error(write_rill_memory(f), "'nowhere'");
    f = small_model();
    f.graph.nodes[0].weights["weight"] = "missing.tensor";
    expect_error(write_rill_memory(f), "missing.tensor");
    f = small_model();
    f.graph.outputs[0].source = "ghost";
    expect_error(write_rill_memory(f), "ghost");
}

TEST(Format, RejectsBadMetadata) {
    Parts p = parts_of(write_rill_memory(small_model()));
    json h = p.header;
    h["__metadata__"]["rill.format"] = "7";
    expect_error(with_header(h, p.data), "newer than this library supports");
    h = p.header;
    h["__metadata__"].erase("rill.graph");
    expect_error(with_header(h, p.data), "rill.graph");
    h = p.header;
    h["__metadata__"]["rill.graph"] = "{not json";
    expect_error(with_header(h, p.data), "not valid JSON");
    h = p.header;
    h.erase("__metadata__");
    expect_error(with_header(h, p.data), "__metadata__");
}

TEST(Format, RejectsBadGraphFields) {
    RillFile f = small_model();
    f.graph.params[0].default_value = 5;
    expect_error(write_rill_memory(f), "min <= default <= max");
    Parts p = parts_of(write_rill_memory(small_model()));
    json g = json::parse(p.header["__metadata__"]["rill.graph"].get<std::string>());
    g["inputs"][0]["channels"] = 0;
    p.header["__metadata__"]["rill.graph"] = g.dump();
    expect_error(with_header(p.header, p.data), "channels");
}

} // namespace
} // namespace rill
