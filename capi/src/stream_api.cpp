// Stream entry points. process / set_param / reset / state get+set are real-time safe: argument
// checks and plain code only, no detail message, no allocation.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "guard.hpp"
#include "handles.hpp"
#include "rill/core/error.hpp"

using rill::capi::fail;
using rill::capi::guarded;

namespace {
constexpr uint32_t kDefaultMaxBlock = 4096;

// Offsets of the fields a caller's (possibly older) config struct may have.
template <typename T> bool has_field(uint32_t struct_size, size_t offset) {
    return struct_size >= offset + sizeof(T);
}

bool has_image_ports(const rill::Model& m) {
    const auto image = [](const rill::PortDef& p) { return p.kind == "image"; };
    const auto& g = m.graph();
    return std::any_of(g.inputs.begin(), g.inputs.end(), image) || std::any_of(g.outputs.begin(), g.outputs.end(), image);
}

ImageFrames image_frames(const rill::Model& m) {
    ImageFrames f;
    f.in.assign(m.input_channels(), 0.0f);
    f.out.assign(m.output_channels(), 0.0f);
    for (float& v : f.in)
        f.in_channels.push_back(&v);
    for (float& v : f.out)
        f.out_channels.push_back(&v);
    return f;
}
} // namespace

extern "C" {

void rill_stream_config_init(rill_stream_config* config) {
    if (!config)
        return;
    std::memset(config, 0, sizeof *config);
    config->struct_size = sizeof *config;
    config->max_block_frames = kDefaultMaxBlock;
    config->nonfinite_policy = RILL_NONFINITE_ZERO;
}

rill_status rill_stream_create(rill_model* model, const rill_stream_config* config,
                               rill_stream** out) {
    return guarded([&]() -> rill_status {
        if (out)
            *out = nullptr;
        if (!model || !out)
            return fail(RILL_ERR_INVALID_ARGUMENT, "rill_stream_create: model and out must not be NULL");
        rill_stream_config cfg;
        rill_stream_config_init(&cfg);
        if (config) {
            if (config->struct_size < sizeof(uint32_t) + sizeof(double) ||
                config->struct_size > 4096)
                return fail(RILL_ERR_INVALID_ARGUMENT,
                            "rill_stream_config.struct_size is " + std::to_string(config->struct_size) +
                                "; initialise the struct with rill_stream_config_init");
            std::memcpy(&cfg, config, std::min<size_t>(config->struct_size, sizeof cfg));
            cfg.struct_size = sizeof cfg;
            if (!has_field<uint32_t>(config->struct_size, offsetof(rill_stream_config, max_block_frames)))
                cfg.max_block_frames = kDefaultMaxBlock;
            if (!has_field<uint32_t>(config->struct_size, offsetof(rill_stream_config, nonfinite_policy)))
                cfg.nonfinite_policy = RILL_NONFINITE_ZERO;
        }
        const rill::Model& m = *model->model;
        if (!(cfg.sample_rate >= 0) || !std::isfinite(cfg.sample_rate))
            return fail(RILL_ERR_INVALID_ARGUMENT, "sample_rate must be finite and >= 0");
        if (cfg.sample_rate != 0 && cfg.sample_rate != m.sample_rate())
            return fail(RILL_ERR_UNSUPPORTED,
                        "the model runs at " + std::to_string(m.sample_rate()) +
                            " Hz; the stream asked for " + std::to_string(cfg.sample_rate) +
                            " Hz (resample outside, or pass 0 for the model's rate)");
        if (cfg.max_block_frames == 0)
            cfg.max_block_frames = kDefaultMaxBlock;
        if (cfg.max_block_frames > (1u << 24))
            return fail(RILL_ERR_INVALID_ARGUMENT, "max_block_frames must be at most 16777216");
        if (cfg.nonfinite_policy > RILL_NONFINITE_PASS)
            return fail(RILL_ERR_INVALID_ARGUMENT, "unknown nonfinite_policy " +
                                                       std::to_string(cfg.nonfinite_policy));
        if (cfg.flags != 0)
            return fail(RILL_ERR_INVALID_ARGUMENT, "rill_stream_config.flags must be 0");
        rill::StreamSpec spec;
        // Image streams run one video frame per call (their frames are whole images).
        const bool image = has_image_ports(m);
        spec.max_block_frames = image ? 1 : cfg.max_block_frames;
        spec.nonfinite = static_cast<rill::NonFinitePolicy>(cfg.nonfinite_policy);
        spec.piece_frames = cfg.piece_frames;
        auto handle = std::make_unique<rill_stream>();
        handle->stream = std::make_unique<rill::Stream>(model->model, spec);
        if (image)
            handle->image = image_frames(m);
        rill_model_retain(model);
        handle->model = model;
        *out = handle.release();
        return RILL_OK;
    });
}

void rill_stream_destroy(rill_stream* stream) {
    if (!stream)
        return;
    rill_model* model = stream->model;
    delete stream;
    rill_model_release(model);
}

rill_status rill_stream_process(rill_stream* stream, const float* const* in, float* const* out,
                                uint32_t frames) {
    if (!stream || !in || !out)
        return RILL_ERR_INVALID_ARGUMENT;
    rill::Stream& s = *stream->stream;
    const uint32_t n_in = s.model().input_channels(), n_out = s.model().output_channels();
    for (uint32_t c = 0; c < n_out; ++c)
        if (!out[c])
            return RILL_ERR_INVALID_ARGUMENT;
    auto silence = [&] {
        for (uint32_t c = 0; c < n_out; ++c)
            std::memset(out[c], 0, sizeof(float) * std::min(frames, s.spec().max_block_frames));
    };
    for (uint32_t c = 0; c < n_in; ++c)
        if (!in[c]) {
            silence();
            return RILL_ERR_INVALID_ARGUMENT;
        }
    if (frames == 0)
        return RILL_OK;
    if (frames > s.spec().max_block_frames) {
        silence();
        return RILL_ERR_BLOCK_TOO_LARGE;
    }
    switch (s.process(in, out, frames)) {
    case rill::ProcessResult::Ok: return RILL_OK;
    case rill::ProcessResult::NonFiniteReplaced: return RILL_NONFINITE_REPLACED;
    case rill::ProcessResult::NonFiniteRejected: return RILL_ERR_NONFINITE_INPUT;
    }
    return RILL_ERR_INTERNAL;
}

rill_status rill_stream_set_param(rill_stream* stream, uint32_t index, float value) {
    if (!stream || index >= stream->stream->model().graph().params.size() || !std::isfinite(value))
        return RILL_ERR_INVALID_ARGUMENT;
    stream->stream->set_param(index, value);
    return RILL_OK;
}

rill_status rill_stream_get_param(const rill_stream* stream, uint32_t index, float* value) {
    if (!stream || !value || index >= stream->stream->model().graph().params.size())
        return RILL_ERR_INVALID_ARGUMENT;
    *value = stream->stream->param(index);
    return RILL_OK;
}

rill_status rill_stream_reset(rill_stream* stream) {
    if (!stream)
        return RILL_ERR_INVALID_ARGUMENT;
    stream->stream->reset();
    return RILL_OK;
}

uint32_t rill_stream_latency_frames(const rill_stream* stream) {
    return stream ? static_cast<uint32_t>(stream->stream->latency()) : 0;
}

size_t rill_stream_memory_bytes(const rill_stream* stream) {
    return stream ? stream->stream->memory_bytes() : 0;
}

size_t rill_stream_state_size(const rill_stream* stream) {
    return stream ? stream->stream->state_blob_size() : 0;
}

rill_status rill_stream_state_get(const rill_stream* stream, void* buffer, size_t size) {
    if (!stream || !buffer || size < stream->stream->state_blob_size())
        return RILL_ERR_INVALID_ARGUMENT;
    stream->stream->state_get(buffer);
    return RILL_OK;
}

rill_status rill_stream_state_set(rill_stream* stream, const void* buffer, size_t size) {
    if (!stream || !buffer)
        return RILL_ERR_INVALID_ARGUMENT;
    return stream->stream->state_set(buffer, size) ? RILL_OK : RILL_ERR_STATE_MISMATCH;
}

} // extern "C"
