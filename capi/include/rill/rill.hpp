// rill.hpp - header-only C++17 RAII wrapper over rill.h. Not part of the ABI: it compiles into
// the caller and only calls the C functions, so it works with any librill.so of the same major
// version.
//
// Errors of non-real-time calls (load, create, info, state blobs) are thrown as rill::Error,
// which carries the status code and the library's detail message. Real-time calls (process,
// set_param, reset, state into a caller buffer) are noexcept and return the status, so they can
// run on an audio thread.
//
//   rill::Model model = rill::Model::load("effect.rill");   // shared, immutable
//   rill::Stream stream(model, 512);                         // one live signal, max 512 frames
//   stream.set_param("drive", 0.7f);
//   stream.process(in_channels, out_channels, frames);       // any container of channel pointers
#ifndef RILL_HPP
#define RILL_HPP

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "rill/rill.h"

namespace rill {

// A failed Rill call: status() is the rill_status, detail() the library's explanation.
class Error : public std::runtime_error {
public:
    Error(rill_status status, const std::string& call, const std::string& detail)
        : std::runtime_error(call + ": " + rill_status_string(status) +
                             (detail.empty() ? "" : ": " + detail)),
          status_(status), detail_(detail) {}
    rill_status status() const noexcept { return status_; }
    const char* status_string() const noexcept { return rill_status_string(status_); }
    const std::string& detail() const noexcept { return detail_; }

private:
    rill_status status_;
    std::string detail_;
};

namespace detail {
// Throws for errors (negative codes); positive remarks are success.
inline void check(rill_status s, const char* call) {
    if (s < 0)
        throw Error(s, call, rill_last_error_detail());
}
} // namespace detail

inline uint32_t version_number() noexcept { return rill_version_number(); }
inline const char* version_string() noexcept { return rill_version_string(); }

struct Port {
    std::string name;
    uint32_t kind = RILL_KIND_AUDIO;
    uint32_t channels = 0;
    double sample_rate = 0;
    uint32_t width = 0, height = 0, planes = 0; // image ports (RILL_KIND_IMAGE) only
};

struct Param {
    std::string name, unit;
    float min_value = 0, max_value = 1, default_value = 0;
};

struct Node {
    std::string name, op;
    uint32_t channels = 0, rate_num = 1, rate_den = 1, latency = 0;
};

// Shared, immutable model. Copies share one reference-counted handle (rill_model_retain /
// rill_model_release); any thread may use a Model concurrently.
class Model {
public:
    Model() = default;
    static Model load(const std::string& path, const rill_load_options* opts = nullptr) {
        rill_model* m = nullptr;
        detail::check(rill_model_load(path.c_str(), opts, &m), "rill_model_load");
        return Model(m);
    }
    static Model load_memory(const void* data, size_t size,
                             const rill_load_options* opts = nullptr) {
        rill_model* m = nullptr;
        detail::check(rill_model_load_memory(data, size, opts, &m), "rill_model_load_memory");
        return Model(m);
    }
    // Adopts a reference the caller owns (e.g. from rill_model_load).
    static Model adopt(rill_model* m) noexcept { return Model(m); }

    Model(const Model& o) noexcept : m_(o.m_) { rill_model_retain(m_); }
    Model(Model&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    Model& operator=(Model o) noexcept {
        std::swap(m_, o.m_);
        return *this;
    }
    ~Model() { rill_model_release(m_); }

    explicit operator bool() const noexcept { return m_ != nullptr; }
    rill_model* get() const noexcept { return m_; }

    rill_model_info info() const {
        rill_model_info i;
        rill_model_info_init(&i);
        detail::check(rill_model_info_get(m_, &i), "rill_model_info_get");
        return i;
    }
    uint32_t input_channels() const { return info().input_channels; }
    uint32_t output_channels() const { return info().output_channels; }
    double sample_rate() const { return info().sample_rate; }
    uint32_t latency_frames() const { return info().latency_frames; }

    std::vector<Port> inputs() const { return ports(info().num_inputs, rill_model_input, rill_model_input_image); }
    std::vector<Port> outputs() const {
        return ports(info().num_outputs, rill_model_output, rill_model_output_image);
    }
    std::vector<Param> params() const {
        std::vector<Param> out;
        const uint32_t n = info().num_params;
        for (uint32_t i = 0; i < n; ++i) {
            rill_param_info p{};
            detail::check(rill_model_param(m_, i, &p), "rill_model_param");
            out.push_back(Param{p.name, p.unit, p.min_value, p.max_value, p.default_value});
        }
        return out;
    }
    // The planned graph in execution order (model nodes plus inserted alignment delays).
    std::vector<Node> nodes() const {
        std::vector<Node> out;
        const uint32_t n = rill_model_node_count(m_);
        for (uint32_t i = 0; i < n; ++i) {
            rill_node_info x;
            rill_node_info_init(&x);
            detail::check(rill_model_node(m_, i, &x), "rill_model_node");
            out.push_back(Node{x.name, x.op, x.channels, x.rate_num, x.rate_den, x.latency});
        }
        return out;
    }
    // Index of a parameter, or -1.
    int32_t find_param(const std::string& name) const noexcept {
        return rill_model_find_param(m_, name.c_str());
    }

private:
    explicit Model(rill_model* m) noexcept : m_(m) {}
    template <typename F, typename G> std::vector<Port> ports(uint32_t n, F get, G get_image) const {
        std::vector<Port> out;
        for (uint32_t i = 0; i < n; ++i) {
            rill_port_info p{};
            detail::check(get(m_, i, &p), "rill_model_input/output");
            out.push_back(Port{p.name, p.kind, p.channels, p.sample_rate});
            if (p.kind == RILL_KIND_IMAGE) {
                rill_image_info image;
                rill_image_info_init(&image);
                detail::check(get_image(m_, i, &image), "rill_model_input/output_image");
                out.back().width = image.width;
                out.back().height = image.height;
                out.back().planes = image.planes;
            }
        }
        return out;
    }
    rill_model* m_ = nullptr;
};

// One live signal: movable, not copyable, used by one thread at a time. Construction and
// destruction allocate/free (not on the audio thread); process, set_param, reset and
// get_state(buffer) are real-time safe.
class Stream {
public:
    Stream() = default;
    // max_block_frames 0 = the library default (4096).
    explicit Stream(const Model& model, uint32_t max_block_frames = 0,
                    uint32_t nonfinite_policy = RILL_NONFINITE_ZERO) {
        rill_stream_config cfg;
        rill_stream_config_init(&cfg);
        cfg.max_block_frames = max_block_frames;
        cfg.nonfinite_policy = nonfinite_policy;
        create(model, cfg);
    }
    Stream(const Model& model, const rill_stream_config& config) { create(model, config); }

    Stream(Stream&& o) noexcept
        : s_(std::exchange(o.s_, nullptr)), model_(std::move(o.model_)),
          in_channels_(o.in_channels_), out_channels_(o.out_channels_),
          in_ptrs_(std::move(o.in_ptrs_)), out_ptrs_(std::move(o.out_ptrs_)) {}
    Stream& operator=(Stream&& o) noexcept {
        Stream tmp(std::move(o));
        swap(tmp);
        return *this;
    }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream() { rill_stream_destroy(s_); }

    void swap(Stream& o) noexcept {
        std::swap(s_, o.s_);
        std::swap(model_, o.model_);
        std::swap(in_channels_, o.in_channels_);
        std::swap(out_channels_, o.out_channels_);
        in_ptrs_.swap(o.in_ptrs_);
        out_ptrs_.swap(o.out_ptrs_);
    }

    explicit operator bool() const noexcept { return s_ != nullptr; }
    rill_stream* get() const noexcept { return s_; }
    const Model& model() const noexcept { return model_; }
    uint32_t input_channels() const noexcept { return in_channels_; }
    uint32_t output_channels() const noexcept { return out_channels_; }

    // Real-time safe; returns the status (never throws). in[c] for c < input_channels(),
    // out[c] for c < output_channels(), each `frames` long.
    rill_status process(const float* const* in, float* const* out, uint32_t frames) noexcept {
        return rill_stream_process(s_, in, out, frames);
    }
    // Any contiguous containers of channel pointers (std::vector, std::array, a span type):
    // RILL_ERR_INVALID_ARGUMENT when they hold fewer pointers than the model has channels.
    template <typename InPtrs, typename OutPtrs>
    auto process(const InPtrs& in, const OutPtrs& out, uint32_t frames) noexcept
        -> decltype(static_cast<const float* const*>(std::data(in)),
                    static_cast<float* const*>(std::data(out)), rill_status()) {
        if (std::size(in) < in_channels_ || std::size(out) < out_channels_)
            return RILL_ERR_INVALID_ARGUMENT;
        return rill_stream_process(s_, std::data(in), std::data(out), frames);
    }
    // One video frame through a stream whose ports are image ports (rill_stream_process_image).
    rill_status process_image(const rill_image* const* in, const rill_image* const* out) noexcept {
        return rill_stream_process_image(s_, in, out);
    }
    // Channel buffers ([channel][frame]); frames = the shortest buffer, which must not exceed
    // max_block_frames. No allocation (pointer arrays are kept by the stream).
    rill_status process(const std::vector<std::vector<float>>& in,
                        std::vector<std::vector<float>>& out) noexcept {
        if (in.size() < in_channels_ || out.size() < out_channels_ || !s_)
            return RILL_ERR_INVALID_ARGUMENT;
        size_t frames = SIZE_MAX;
        for (uint32_t c = 0; c < in_channels_; ++c) {
            frames = std::min(frames, in[c].size());
            in_ptrs_[c] = in[c].data();
        }
        for (uint32_t c = 0; c < out_channels_; ++c) {
            frames = std::min(frames, out[c].size());
            out_ptrs_[c] = out[c].data();
        }
        if (frames == SIZE_MAX || frames > UINT32_MAX)
            return RILL_ERR_INVALID_ARGUMENT;
        return rill_stream_process(s_, in_ptrs_.data(), out_ptrs_.data(),
                                   static_cast<uint32_t>(frames));
    }

    rill_status set_param(uint32_t index, float value) noexcept {
        return rill_stream_set_param(s_, index, value);
    }
    // By name: not real-time safe (looks the name up; throws Error for an unknown name).
    void set_param(const std::string& name, float value) {
        const int32_t index = rill_model_find_param(model_.get(), name.c_str());
        if (index < 0)
            throw Error(RILL_ERR_INVALID_ARGUMENT, "rill_stream_set_param",
                        "the model has no parameter '" + name + "'");
        detail::check(set_param(static_cast<uint32_t>(index), value), "rill_stream_set_param");
    }
    float get_param(uint32_t index) const {
        float v = 0;
        detail::check(rill_stream_get_param(s_, index, &v), "rill_stream_get_param");
        return v;
    }
    rill_status reset() noexcept { return rill_stream_reset(s_); }
    uint32_t latency_frames() const noexcept { return rill_stream_latency_frames(s_); }
    size_t memory_bytes() const noexcept { return rill_stream_memory_bytes(s_); }

    // State snapshots. The buffer forms are real-time safe (memcpy only).
    size_t state_size() const noexcept { return rill_stream_state_size(s_); }
    rill_status get_state(void* buffer, size_t size) const noexcept {
        return rill_stream_state_get(s_, buffer, size);
    }
    rill_status set_state(const void* buffer, size_t size) noexcept {
        return rill_stream_state_set(s_, buffer, size);
    }
    std::vector<unsigned char> state() const {
        std::vector<unsigned char> blob(state_size());
        detail::check(rill_stream_state_get(s_, blob.data(), blob.size()), "rill_stream_state_get");
        return blob;
    }
    void set_state(const std::vector<unsigned char>& blob) {
        detail::check(rill_stream_state_set(s_, blob.data(), blob.size()), "rill_stream_state_set");
    }

private:
    void create(const Model& model, const rill_stream_config& cfg) {
        const rill_model_info info = model.info(); // throws for an empty Model
        detail::check(rill_stream_create(model.get(), &cfg, &s_), "rill_stream_create");
        model_ = model;
        in_channels_ = info.input_channels;
        out_channels_ = info.output_channels;
        in_ptrs_.assign(in_channels_, nullptr);
        out_ptrs_.assign(out_channels_, nullptr);
    }

    rill_stream* s_ = nullptr;
    Model model_;
    uint32_t in_channels_ = 0, out_channels_ = 0;
    std::vector<const float*> in_ptrs_;
    std::vector<float*> out_ptrs_;
};

inline void swap(Stream& a, Stream& b) noexcept { a.swap(b); }

} // namespace rill

#endif // RILL_HPP
