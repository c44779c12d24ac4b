#include "rill/core/rill_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "rill/core/error.hpp"

namespace rill {
namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;
constexpr size_t kAlign = 64;

float half_to_float(uint16_t h) {
    const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    float v;
    if (exp == 0)
        v = std::ldexp(static_cast<float>(mant), -24);
    else if (exp == 31)
        v = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
    else
        v = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
    return sign ? -v : v;
}

uint64_t read_u64_le(const unsigned char* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | p[i];
    return v;
}

struct Entry {
    std::string name;
    uint64_t begin = 0, end = 0;
};

Tensor decode_tensor(const std::string& name, const json& e, const unsigned char* data,
                     uint64_t data_size, Entry& entry) {
    const std::string where = "tensor '" + name + "'";
    if (!e.is_object() || !e.contains("dtype") || !e.contains("shape") ||
        !e.contains("data_offsets"))
        fail_format(where + ": needs dtype, shape and data_offsets");
    if (!e["dtype"].is_string())
        fail_format(where + ": dtype must be a string");
    const std::string dtype = e["dtype"].get<std::string>();
    size_t elem = 0;
    if (dtype == "F32")
        elem = 4;
    else if (dtype == "F16")
        elem = 2;
    else
        fail_format(where + ": dtype " + dtype + " is not supported (expected F32 or F16)");
    if (!e["shape"].is_array())
        fail_format(where + ": shape must be an array");
    Tensor t;
    uint64_t numel = 1;
    for (const json& d : e["shape"]) {
        if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0))
            fail_format(where + ": shape entries must be non-negative integers");
        const uint64_t dim = d.get<uint64_t>();
        if (dim > (1ull << 40) || (dim && numel > (1ull << 40) / dim))
            fail_format(where + ": shape is too large");
        numel *= dim;
        t.shape.push_back(static_cast<int64_t>(dim));
    }
    const json& off = e["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
        fail_format(where + ": data_offsets must be [begin, end]");
    entry.name = name;
    entry.begin = off[0].get<uint64_t>();
    entry.end = off[1].get<uint64_t>();
    if (entry.begin > entry.end || entry.end > data_size)
        fail_format(where + ": data_offsets [" + std::to_string(entry.begin) + ", " +
                    std::to_string(entry.end) + "] are outside the data section of " +
                    std::to_string(data_size) + " bytes");
    if (entry.end - entry.begin != numel * elem)
        fail_format(where + ": " + std::to_string(entry.end - entry.begin) +
                    " bytes do not match shape " + t.shape_string() + " of " + dtype);
    std::vector<float> values(numel);
    const unsigned char* src = data + entry.begin;
    for (uint64_t i = 0; i < numel; ++i) {
        float v;
        if (elem == 4) {
            uint32_t bits = 0;
            for (int b = 3; b >= 0; --b)
                bits = (bits << 8) | src[i * 4 + b];
            std::memcpy(&v, &bits, 4);
        } else {
            v = half_to_float(static_cast<uint16_t>(src[i * 2] | (src[i * 2 + 1] << 8)));
        }
        if (!std::isfinite(v))
            fail_format(where + ": value " + std::to_string(i) + " is not finite");
        values[i] = v;
    }
    return make_tensor(t.shape, std::move(values));
}

} // namespace

RillFile read_rill_memory(const void* data_ptr, size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data_ptr);
    if (!bytes || size < 8)
        fail_format("file is too short to be a .rill model (" + std::to_string(size) + " bytes)");
    const uint64_t header_len = read_u64_le(bytes);
    if (header_len > kMaxHeaderBytes || header_len > size - 8)
        fail_format("header length " + std::to_string(header_len) + " exceeds the file size " +
                    std::to_string(size) + " (truncated or not a .rill file)");
    json header;
    try {
        header = json::parse(bytes + 8, bytes + 8 + header_len);
    } catch (const json::exception& e) {
        fail_format(std::string("header is not valid JSON: ") + e.what());
    }
    if (!header.is_object())
        fail_format("header must be a JSON object");
    if (!header.contains("__metadata__") || !header["__metadata__"].is_object())
        fail_format("header has no __metadata__ (not a .rill model; plain safetensors files "
                    "need a graph)");
    const json& meta = header["__metadata__"];
    if (!meta.contains("rill.format") || !meta["rill.format"].is_string())
        fail_format("__metadata__ has no \"rill.format\" version string");
    const std::string version = meta["rill.format"].get<std::string>();
    if (version != std::to_string(kRillFormatVersion)) {
        if (version.find_first_not_of("0123456789") == std::string::npos && version.size() < 6 &&
            std::stoi(version) > kRillFormatVersion)
            fail_unsupported("model format version " + version +
                             " is newer than this library supports (" +
                             std::to_string(kRillFormatVersion) + ")");
        fail_format("unknown model format version \"" + version + "\"");
    }
    if (!meta.contains("rill.graph") || !meta["rill.graph"].is_string())
        fail_format("__metadata__ has no \"rill.graph\" string");

    RillFile file;
    json graph_json;
    try {
        graph_json = json::parse(meta["rill.graph"].get<std::string>());
    } catch (const json::exception& e) {
        fail_format(std::string("rill.graph is not valid JSON: ") + e.what());
    }
    file.graph = graph_from_json(graph_json);

    const unsigned char* data = bytes + 8 + header_len;
    const uint64_t data_size = size - 8 - header_len;
    std::vector<Entry> entries;
    for (const auto& [name, e] : header.items()) {
        if (name == "__metadata__")
            continue;
        Entry entry;
        file.tensors[name] = decode_tensor(name, e, data, data_size, entry);
        if (entry.end > entry.begin)
            entries.push_back(entry);
    }
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < entries.size(); ++i)
        if (entries[i].begin < entries[i - 1].end)
            fail_format("tensors '" + entries[i - 1].name + "' and '" + entries[i].name +
                        "' overlap in the data section");
    return file;
}

RillFile read_rill_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw CoreError(ErrorKind::Io, "cannot open model file '" + path + "'");
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)),
                                     std::istreambuf_iterator<char>());
    if (in.bad())
        throw CoreError(ErrorKind::Io, "cannot read model file '" + path + "'");
    try {
        return read_rill_memory(bytes.data(), bytes.size());
    } catch (const CoreError& e) {
        throw CoreError(e.kind(), path + ": " + e.what());
    }
}

std::vector<unsigned char> write_rill_memory(const RillFile& file) {
    json header = json::object();
    uint64_t offset = 0;
    std::vector<std::pair<uint64_t, const Tensor*>> placed;
    for (const auto& [name, t] : file.tensors) {
        offset = (offset + kAlign - 1) / kAlign * kAlign;
        const uint64_t bytes = static_cast<uint64_t>(t.numel()) * 4;
        header[name] = {{"dtype", "F32"}, {"shape", t.shape}, {"data_offsets", {offset, offset + bytes}}};
        placed.emplace_back(offset, &t);
        offset += bytes;
    }
    header["__metadata__"] = {{"rill.format", std::to_string(kRillFormatVersion)},
                              {"rill.graph", graph_to_json(file.graph).dump()}};
    std::string head = header.dump();
    head.append((kAlign - (8 + head.size()) % kAlign) % kAlign, ' ');
    std::vector<unsigned char> out(8 + head.size() + offset, 0);
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<unsigned char>(static_cast<uint64_t>(head.size()) >> (8 * i));
    std::memcpy(out.data() + 8, head.data(), head.size());
    unsigned char* data = out.data() + 8 + head.size();
    for (const auto& [off, t] : placed)
        for (int64_t i = 0; i < t->numel(); ++i) {
            uint32_t bits;
            std::memcpy(&bits, &t->data[i], 4);
            for (int b = 0; b < 4; ++b)
                data[off + i * 4 + b] = static_cast<unsigned char>(bits >> (8 * b));
        }
    return out;
}

void write_rill_file(const RillFile& file, const std::string& path) {
    const auto bytes = write_rill_memory(file);
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        throw CoreError(ErrorKind::Io, "cannot write model file '" + path + "'");
}

} // namespace rill
