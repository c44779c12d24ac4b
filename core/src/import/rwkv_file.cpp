#include "rwkv_file.hpp"

#include <cmath>
#include <cstring>

#include "rill/core/error.hpp"

namespace rill::rwkv {
namespace {

class Cursor {
public:
    Cursor(const unsigned char* p, size_t n) : p_(p), n_(n) {}
    bool done() const { return at_ == n_; }
    size_t at() const { return at_; }
    uint32_t u32(const char* what) {
        need(4, what);
        uint32_t v;
        std::memcpy(&v, p_ + at_, 4);
        at_ += 4;
        return v;
    }
    const unsigned char* bytes(size_t count, const char* what) {
        need(count, what);
        const unsigned char* r = p_ + at_;
        at_ += count;
        return r;
    }

private:
    void need(size_t count, const char* what) const {
        if (count > n_ - at_)
            fail_format(std::string("rwkv.cpp file truncated while reading ") + what + " at byte " +
                        std::to_string(at_));
    }
    const unsigned char* p_;
    size_t n_, at_ = 0;
};

float half_to_float(uint16_t h) {
    const uint32_t sign = (h >> 15) & 1, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float v;
    if (exp == 0)
        v = std::ldexp(float(man), -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = std::ldexp(float(man | 0x400), int(exp) - 25);
    return sign ? -v : v;
}

// rwkv.cpp's data type numbers (rwkv_file_format.inc).
std::string type_name(uint32_t t) {
    static const char* names[] = {"FP32", "FP16", "Q4_0", "Q4_1", "Q4_1_O", "Q4_2",
                                  "Q4_3", "Q5_0", "Q5_1", "Q8_0", "Q8_1",   "Q2_K",
                                  "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q8_K"};
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown (" + std::to_string(t) + ")";
}

} // namespace

const FileTensor& File::get(const std::string& name) const {
    const auto it = tensors.find(name);
    if (it == tensors.end())
        fail_format("rwkv.cpp file has no tensor '" + name + "'");
    return it->second;
}

File read_file(const void* data, size_t size) {
    Cursor c(static_cast<const unsigned char*>(data), size);
    if (c.u32("the magic") != kMagic)
        fail_format("not an rwkv.cpp model file (bad magic)");
    File f;
    f.version = c.u32("the version");
    f.n_vocab = c.u32("n_vocab");
    f.n_embed = c.u32("n_embed");
    f.n_layer = c.u32("n_layer");
    const uint32_t type = c.u32("the data type");
    if (f.version < 100 || f.version > 101)
        fail_unsupported("rwkv.cpp file version " + std::to_string(f.version) +
                         " (supported: 100, 101)");
    if (type > 1)
        fail_unsupported("rwkv.cpp data type " + type_name(type) +
                         ": only FP32 and FP16 files can be imported (quantized weights are not)");
    if (f.n_vocab == 0 || f.n_vocab > (1u << 20) || f.n_embed == 0 || f.n_embed > 65536 ||
        f.n_layer == 0 || f.n_layer > 1024)
        fail_format("rwkv.cpp header out of range: n_vocab " + std::to_string(f.n_vocab) +
                    ", n_embed " + std::to_string(f.n_embed) + ", n_layer " +
                    std::to_string(f.n_layer));
    while (!c.done()) {
        const uint32_t dims = c.u32("a tensor header"), name_len = c.u32("a tensor header"),
                       ttype = c.u32("a tensor header");
        if (dims < 1 || dims > 3 || name_len == 0 || name_len > 1024)
            fail_format("rwkv.cpp tensor header at byte " + std::to_string(c.at()) +
                        " is malformed (" + std::to_string(dims) + " dims, name length " +
                        std::to_string(name_len) + ")");
        std::vector<int64_t> shape(dims);
        uint64_t count = 1;
        for (uint32_t d = 0; d < dims; ++d) {
            shape[dims - 1 - d] = c.u32("tensor sizes");
            count *= uint64_t(shape[dims - 1 - d]);
            if (shape[dims - 1 - d] == 0 || count > (uint64_t(1) << 34))
                fail_format("rwkv.cpp tensor has an empty or huge shape");
        }
        const auto* name_bytes = c.bytes(name_len, "a tensor name");
        const std::string name(reinterpret_cast<const char*>(name_bytes), name_len);
        if (ttype > 1)
            fail_unsupported("rwkv.cpp tensor '" + name + "' is " + type_name(ttype) +
                             ": only FP32 and FP16 tensors can be imported");
        const size_t elem = ttype == 0 ? 4 : 2;
        const unsigned char* raw = c.bytes(size_t(count) * elem, ("the data of " + name).c_str());
        FileTensor t;
        t.shape = shape;
        t.values.resize(size_t(count));
        for (size_t i = 0; i < count; ++i) {
            if (ttype == 0) {
                std::memcpy(&t.values[i], raw + 4 * i, 4);
            } else {
                uint16_t h;
                std::memcpy(&h, raw + 2 * i, 2);
                t.values[i] = half_to_float(h);
            }
            if (!std::isfinite(t.values[i]))
                fail_format("rwkv.cpp tensor '" + name + "' holds a non-finite value");
        }
        if (!f.tensors.emplace(name, std::move(t)).second)
            fail_format("rwkv.cpp file repeats tensor '" + name + "'");
    }
    return f;
}

} // namespace rill::rwkv
