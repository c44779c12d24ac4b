// rill.hpp - header-only C++17 RAII wrapper over rill.h. Not part of the ABI: it compiles into
// the caller and only calls the C functions. Errors become rill::Error exceptions (never thrown
// by process(), which returns the status so it can run on an audio thread).
#ifndef RILL_HPP
#define RILL_HPP

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rill/rill.h"

namespace rill {

class Error : public std::runtime_error {
public:
    Error(rill_status status, const std::string& what)
        : std::runtime_error(what), status_(status) {}
    rill_status status() const noexcept { return status_; }

private:
    rill_status status_;
};

namespace detail {
inline void check(rill_status s, const char* call) {
    if (s < 0) {
        std::string detail = rill_last_error_detail();
        throw Error(s, std::string(call) + ": " + rill_status_string(s) +
                           (detail.empty() ? "" : ": " + detail));
    }
}
} // namespace detail

struct Port {
    std::string name;
    uint32_t kind = RILL_KIND_AUDIO;
    uint32_t channels = 0;
    double sample_rate = 0;
};

struct Param {
    std::string name, unit;
    float min_value = 0, max_value = 1, default_value = 0;
};

struct Node {
    std::string name, op;
    uint32_t channels = 0, rate_num = 1, rate_den = 1, latency = 0;
};

// Shared, immutable model (copies share one reference-counted handle).
class Model {
public:
    Model() = default;
    static Model load(const std::string& path) {
        rill_model* m = nullptr;
        detail::check(rill_model_load(path.c_str(), nullptr, &m), "rill_model_load");
        return Model(m);
    }
    static Model load_memory(const void* data, size_t size) {
        rill_model* m = nullptr;
        detail::check(rill_model_load_memory(data, size, nullptr, &m), "rill_model_load_memory");
        return Model(m);
    }
    Model(const Model& o) : m_(o.m_) { rill_model_retain(m_); }
    Model(Model&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Model& operator=(Model o) noexcept {
        std::swap(m_, o.m_);
        return *this;
    }
    ~Model() { rill_model_release(m_); }

    explicit operator bool() const { return m_ != nullptr; }
    rill_model* get() const { return m_; }

    rill_model_info info() const {
        rill_model_info i;
        rill_model_info_init(&i);
        detail::check(rill_model_info_get(m_, &i), "rill_model_info_get");
        return i;
    }
    std::vector<Port> inputs() const { return ports(info().num_inputs, rill_model_input); }
    std::vector<Port> outputs() const { return ports(info().num_outputs, rill_model_output); }
    std::vector<Param> params() const {
        std::vector<Param> out;
        for (uint32_t i = 0; i < info().num_params; ++i) {
            rill_param_info p;
            detail::check(rill_model_param(m_, i, &p), "rill_model_param");
            out.push_back(Param{p.name, p.unit, p.min_value, p.max_value, p.default_value});
        }
        return out;
    }
    std::vector<Node> nodes() const {
        std::vector<Node> out;
        for (uint32_t i = 0; i < rill_model_node_count(m_); ++i) {
            rill_node_info n;
            rill_node_info_init(&n);
            detail::check(rill_model_node(m_, i, &n), "rill_model_node");
            out.push_back(Node{n.name, n.op, n.channels, n.rate_num, n.rate_den, n.latency});
        }
        return out;
    }
    int32_t find_param(const std::string& name) const {
        return rill_model_find_param(m_, name.c_str());
    }

private:
    explicit Model(rill_model* m) : m_(m) {}
    template <typename F> std::vector<Port> ports(uint32_t n, F get) const {
        std::vector<Port> out;
        for (uint32_t i = 0; i < n; ++i) {
            rill_port_info p;
            detail::check(get(m_, i, &p), "rill_model_port");
            out.push_back(Port{p.name, p.kind, p.channels, p.sample_rate});
        }
        return out;
    }
    rill_model* m_ = nullptr;
};

// One live signal. Movable, not copyable.
class Stream {
public:
    Stream() = default;
    explicit Stream(const Model& model, uint32_t max_block_frames = 0,
                    uint32_t nonfinite_policy = RILL_NONFINITE_ZERO) {
        rill_stream_config cfg;
        rill_stream_config_init(&cfg);
        if (max_block_frames)
            cfg.max_block_frames = max_block_frames;
        cfg.nonfinite_policy = nonfinite_policy;
        detail::check(rill_stream_create(model.get(), &cfg, &s_), "rill_stream_create");
    }
    Stream(Stream&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Stream& operator=(Stream&& o) noexcept {
        std::swap(s_, o.s_);
        return *this;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() { rill_stream_destroy(s_); }

    rill_stream* get() const { return s_; }

    // Real-time safe; returns the status (never throws).
    rill_status process(const float* const* in, float* const* out, uint32_t frames) noexcept {
        return rill_stream_process(s_, in, out, frames);
    }
    rill_status set_param(uint32_t index, float value) noexcept {
        return rill_stream_set_param(s_, index, value);
    }
    rill_status reset() noexcept { return rill_stream_reset(s_); }
    uint32_t latency_frames() const noexcept { return rill_stream_latency_frames(s_); }
    size_t memory_bytes() const noexcept { return rill_stream_memory_bytes(s_); }

    std::vector<unsigned char> state() const {
        std::vector<unsigned char> blob(rill_stream_state_size(s_));
        detail::check(rill_stream_state_get(s_, blob.data(), blob.size()), "rill_stream_state_get");
        return blob;
    }
    void set_state(const std::vector<unsigned char>& blob) {
        detail::check(rill_stream_state_set(s_, blob.data(), blob.size()), "rill_stream_state_set");
    }

private:
    rill_stream* s_ = nullptr;
};

} // namespace rill

#endif // RILL_HPP
