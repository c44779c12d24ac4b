// Image ports: geometry queries and rill_stream_process_image (pixels <-> planar port frames,
// then one stream frame). Process is real-time safe: descriptor checks, conversion into buffers
// taken at stream creation, Stream::process.
#include <cstring>

#include "guard.hpp"
#include "handles.hpp"
#include "image_pixels.hpp"

namespace {

rill_status image_info(const rill::PortDef& p, rill_image_info* out) {
    if (p.kind != "image" || out->struct_size < sizeof(rill_image_info))
        return RILL_ERR_INVALID_ARGUMENT;
    out->width = p.width;
    out->height = p.height;
    out->planes = p.channels / (p.width * p.height);
    return RILL_OK;
}

uint32_t planes_of(const rill::PortDef& p) { return p.channels / (p.width * p.height); }

// Pixels convert to and from 1-plane (gray, a mask) and 3-plane (RGB) ports only.
bool convertible(const rill::PortDef& p) {
    return p.kind == "image" && (planes_of(p) == 1 || planes_of(p) == 3);
}

} // namespace

extern "C" {

void rill_image_info_init(rill_image_info* info) {
    if (!info)
        return;
    std::memset(info, 0, sizeof *info);
    info->struct_size = sizeof *info;
}

void rill_image_init(rill_image* image) {
    if (!image)
        return;
    std::memset(image, 0, sizeof *image);
    image->struct_size = sizeof *image;
}

rill_status rill_model_input_image(const rill_model* model, uint32_t index, rill_image_info* out) {
    if (!model || !out || index >= model->model->graph().inputs.size())
        return RILL_ERR_INVALID_ARGUMENT;
    return image_info(model->model->graph().inputs[index], out);
}

rill_status rill_model_output_image(const rill_model* model, uint32_t index, rill_image_info* out) {
    if (!model || !out || index >= model->model->graph().outputs.size())
        return RILL_ERR_INVALID_ARGUMENT;
    return image_info(model->model->graph().outputs[index], out);
}

rill_status rill_stream_process_image(rill_stream* stream, const rill_image* const* in,
                                      const rill_image* const* out) {
    using rill::capi::image_usable;
    if (!stream || !in || !out || stream->image.in_channels.empty())
        return RILL_ERR_INVALID_ARGUMENT;
    const rill::GraphDef& g = stream->stream->model().graph();
    for (size_t i = 0; i < g.inputs.size(); ++i)
        if (!convertible(g.inputs[i]) || !image_usable(in[i]))
            return RILL_ERR_INVALID_ARGUMENT;
    for (size_t j = 0; j < g.outputs.size(); ++j)
        if (out[j] && (!convertible(g.outputs[j]) || !image_usable(out[j])))
            return RILL_ERR_INVALID_ARGUMENT;

    float* planes = stream->image.in.data();
    for (size_t i = 0; i < g.inputs.size(); ++i) {
        const rill::PortDef& p = g.inputs[i];
        rill::capi::image_to_planes(*in[i], planes, planes_of(p), p.width, p.height);
        planes += p.channels;
    }
    const rill::ProcessResult r =
        stream->stream->process(stream->image.in_channels.data(), stream->image.out_channels.data(), 1);
    const float* results = stream->image.out.data();
    for (size_t j = 0; j < g.outputs.size(); ++j) {
        const rill::PortDef& p = g.outputs[j];
        if (out[j])
            rill::capi::planes_to_image(results, planes_of(p), p.width, p.height, *out[j]);
        results += p.channels;
    }
    switch (r) {
    case rill::ProcessResult::Ok: return RILL_OK;
    case rill::ProcessResult::NonFiniteReplaced: return RILL_NONFINITE_REPLACED;
    case rill::ProcessResult::NonFiniteRejected: return RILL_ERR_NONFINITE_INPUT;
    }
    return RILL_ERR_INTERNAL;
}

} // extern "C"
