// Model entry points: load, reference counting, info.
#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "guard.hpp"
#include "handles.hpp"
#include "rill/core/error.hpp"
#include "rill/core/model_file.hpp"
#include "rill/core/rill_file.hpp"

using rill::capi::fail;
using rill::capi::guarded;

namespace {

rill_status check_options(const rill_load_options* opts) {
    if (opts && opts->struct_size < sizeof(uint32_t) * 2)
        return fail(RILL_ERR_INVALID_ARGUMENT, "rill_load_options.struct_size is too small; "
                                               "initialise it with rill_load_options_init");
    return RILL_OK;
}

// The import options string of a caller's struct (appended field: older, smaller structs have none).
std::string import_options(const rill_load_options* opts) {
    if (!opts || opts->struct_size < offsetof(rill_load_options, import_options) + sizeof(const char*) ||
        !opts->import_options)
        return "";
    return opts->import_options;
}

rill_status finish_load(rill::RillFile file, rill_model** out) {
    auto handle = std::make_unique<rill_model>();
    handle->model = std::make_shared<const rill::Model>(std::move(file));
    handle->description = handle->model->meta_string("description");
    handle->license = handle->model->meta_string("license");
    handle->source = handle->model->meta_string("source");
    *out = handle.release();
    return RILL_OK;
}

} // namespace

extern "C" {

void rill_load_options_init(rill_load_options* opts) {
    if (!opts)
        return;
    std::memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
}

rill_status rill_model_load(const char* path, const rill_load_options* opts, rill_model** out) {
    return guarded([&]() -> rill_status {
        if (out)
            *out = nullptr;
        if (!path || !out)
            return fail(RILL_ERR_INVALID_ARGUMENT, "rill_model_load: path and out must not be NULL");
        if (rill_status s = check_options(opts); s != RILL_OK)
            return s;
        return finish_load(rill::read_model_file(path, import_options(opts)), out);
    });
}

rill_status rill_model_load_memory(const void* data, size_t size, const rill_load_options* opts,
                                   rill_model** out) {
    return guarded([&]() -> rill_status {
        if (out)
            *out = nullptr;
        if (!data || !out)
            return fail(RILL_ERR_INVALID_ARGUMENT,
                        "rill_model_load_memory: data and out must not be NULL");
        if (rill_status s = check_options(opts); s != RILL_OK)
            return s;
        return finish_load(rill::read_model_memory(data, size, import_options(opts)), out);
    });
}

rill_status rill_model_save(const rill_model* model, const char* path) {
    return guarded([&]() -> rill_status {
        if (!model || !path)
            return fail(RILL_ERR_INVALID_ARGUMENT, "rill_model_save: model and path must not be NULL");
        rill::write_rill_file(rill::RillFile{model->model->graph(), model->model->tensors()}, path);
        return RILL_OK;
    });
}

void rill_model_retain(rill_model* model) {
    if (model)
        model->refs.fetch_add(1, std::memory_order_relaxed);
}

void rill_model_release(rill_model* model) {
    if (model && model->refs.fetch_sub(1, std::memory_order_acq_rel) == 1)
        delete model;
}

void rill_model_info_init(rill_model_info* info) {
    if (!info)
        return;
    std::memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
}

rill_status rill_model_info_get(const rill_model* model, rill_model_info* info) {
    if (!model || !info)
        return RILL_ERR_INVALID_ARGUMENT;
    if (info->struct_size < sizeof(uint32_t))
        return RILL_ERR_INVALID_ARGUMENT;
    const rill::Model& m = *model->model;
    rill_model_info full;
    full.struct_size = info->struct_size;
    full.num_inputs = static_cast<uint32_t>(m.graph().inputs.size());
    full.num_outputs = static_cast<uint32_t>(m.graph().outputs.size());
    full.num_params = static_cast<uint32_t>(m.graph().params.size());
    full.input_channels = m.input_channels();
    full.output_channels = m.output_channels();
    full.sample_rate = m.sample_rate();
    full.latency_frames = static_cast<uint32_t>(m.latency());
    full.hop_frames = static_cast<uint32_t>(m.hop());
    full.num_weights = m.num_weights();
    full.description = model->description.c_str();
    full.license = model->license.c_str();
    full.source = model->source.c_str();
    // Copy only what the caller's (possibly older, smaller) struct has room for.
    std::memcpy(info, &full, std::min<size_t>(info->struct_size, sizeof full));
    return RILL_OK;
}

static rill_status port_info(const rill::PortDef& p, rill_port_info* out) {
    out->name = p.name.c_str();
    out->kind = p.kind == "frames" ? RILL_KIND_FRAMES : p.kind == "image" ? RILL_KIND_IMAGE : RILL_KIND_AUDIO;
    out->channels = p.channels;
    out->sample_rate = p.sample_rate;
    return RILL_OK;
}

rill_status rill_model_input(const rill_model* model, uint32_t index, rill_port_info* out) {
    if (!model || !out || index >= model->model->graph().inputs.size())
        return RILL_ERR_INVALID_ARGUMENT;
    return port_info(model->model->graph().inputs[index], out);
}

rill_status rill_model_output(const rill_model* model, uint32_t index, rill_port_info* out) {
    if (!model || !out || index >= model->model->graph().outputs.size())
        return RILL_ERR_INVALID_ARGUMENT;
    return port_info(model->model->graph().outputs[index], out);
}

rill_status rill_model_param(const rill_model* model, uint32_t index, rill_param_info* out) {
    if (!model || !out || index >= model->model->graph().params.size())
        return RILL_ERR_INVALID_ARGUMENT;
    const rill::ParamDef& p = model->model->graph().params[index];
    out->name = p.name.c_str();
    out->unit = p.unit.c_str();
    out->min_value = p.min_value;
    out->max_value = p.max_value;
    out->default_value = p.default_value;
    return RILL_OK;
}

int32_t rill_model_find_param(const rill_model* model, const char* name) {
    if (!model || !name)
        return -1;
    const auto& params = model->model->graph().params;
    for (size_t i = 0; i < params.size(); ++i)
        if (params[i].name == name)
            return static_cast<int32_t>(i);
    return -1;
}

} // extern "C"

extern "C" {

void rill_node_info_init(rill_node_info* info) {
    if (!info)
        return;
    std::memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
}

uint32_t rill_model_node_count(const rill_model* model) {
    return model ? static_cast<uint32_t>(model->model->steps().size()) : 0;
}

rill_status rill_model_node(const rill_model* model, uint32_t index, rill_node_info* out) {
    if (!model || !out || out->struct_size < sizeof(uint32_t) ||
        index >= model->model->steps().size())
        return RILL_ERR_INVALID_ARGUMENT;
    const rill::PlanStep& step = model->model->steps()[index];
    const rill::BufferInfo& b = model->model->buffers()[step.out_buffers.at(0)];
    rill_node_info full;
    full.struct_size = out->struct_size;
    full.name = step.name.c_str();
    full.op = step.op.c_str();
    full.channels = b.channels;
    full.rate_num = static_cast<uint32_t>(b.rate.num);
    full.rate_den = static_cast<uint32_t>(b.rate.den);
    full.latency = static_cast<uint32_t>(b.latency);
    std::memcpy(out, &full, std::min<size_t>(out->struct_size, sizeof full));
    return RILL_OK;
}

} // extern "C"
