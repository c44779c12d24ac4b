#include "segmenter.hpp"

namespace webcam {
namespace {

std::string describe_status(rill_status s) {
    std::string text = rill_status_string(s);
    const char* detail = rill_last_error_detail();
    if (detail && *detail)
        text += std::string(": ") + detail;
    return text;
}

} // namespace

Segmenter::~Segmenter() {
    rill_stream_destroy(stream_);
    rill_model_release(model_);
}

bool Segmenter::load(const std::string& path, const std::string& import_options,
                     std::string& error) {
    rill_load_options opts;
    rill_load_options_init(&opts);
    opts.import_options = import_options.empty() ? nullptr : import_options.c_str();
    rill_status s = rill_model_load(path.c_str(), &opts, &model_);
    if (s < 0) {
        error = "cannot load model '" + path + "': " + describe_status(s);
        return false;
    }
    rill_model_info info;
    rill_model_info_init(&info);
    rill_model_info_get(model_, &info);
    if (info.num_inputs != 1 || info.num_outputs < 1) {
        error = "model '" + path + "': expected one image input and a mask output, got " +
                std::to_string(info.num_inputs) + " input(s) and " +
                std::to_string(info.num_outputs) + " output(s)";
        return false;
    }
    rill_image_info_init(&input_);
    rill_image_info_init(&output_);
    if (rill_model_input_image(model_, 0, &input_) != RILL_OK ||
        rill_model_output_image(model_, 0, &output_) != RILL_OK) {
        error = "model '" + path +
                "': its input and first output must be image ports (a "
                "segmentation model imported as an image model)";
        return false;
    }
    if (output_.planes != 1) {
        error =
            "model '" + path + "': its first output has " + std::to_string(output_.planes) +
            " planes, expected 1 (a person-probability mask; for a softmax over classes, import "
            "with \"mask_plane\": the person class, e.g. --import-options "
            "'{\"frontend\": \"image\", \"mask_plane\": 1}')";
        return false;
    }
    outputs_.assign(info.num_outputs, nullptr);
    rill_stream_config config;
    rill_stream_config_init(&config);
    config.max_block_frames = 1; // one video frame per call: the stream's buffers hold one frame
    s = rill_stream_create(model_, &config, &stream_);
    if (s < 0) {
        error = "cannot create a stream for '" + path + "': " + describe_status(s);
        return false;
    }
    return true;
}

bool Segmenter::set_param(const std::string& name, float value, std::string& error) {
    const int32_t index = rill_model_find_param(model_, name.c_str());
    if (index < 0) {
        error = "the model has no parameter '" + name + "'";
        return false;
    }
    const rill_status s = rill_stream_set_param(stream_, static_cast<uint32_t>(index), value);
    if (s < 0) {
        error = "cannot set '" + name + "': " + rill_status_string(s);
        return false;
    }
    return true;
}

bool Segmenter::process(const uint8_t* bgr, int width, int height, uint8_t* mask,
                        std::string& error) {
    rill_image in, out;
    rill_image_init(&in);
    rill_image_init(&out);
    in.width = out.width = static_cast<uint32_t>(width);
    in.height = out.height = static_cast<uint32_t>(height);
    in.pixel_format = RILL_PIXEL_BGR8;
    in.data = const_cast<uint8_t*>(bgr); // read only (an input)
    out.pixel_format = RILL_PIXEL_GRAY8;
    out.data = mask;
    const rill_image* ins[] = {&in};
    outputs_[0] = &out; // further outputs of the model (if any) stay NULL: skipped
    const rill_status s = rill_stream_process_image(stream_, ins, outputs_.data());
    if (s < 0) {
        error = std::string("rill_stream_process_image: ") + rill_status_string(s);
        return false;
    }
    return true;
}

std::string Segmenter::summary() const {
    return std::to_string(input_.width) + "x" + std::to_string(input_.height) + " -> " +
           std::to_string(output_.width) + "x" + std::to_string(output_.height) + " mask";
}

std::vector<std::string> Segmenter::param_names() const {
    std::vector<std::string> names;
    rill_model_info info;
    rill_model_info_init(&info);
    rill_model_info_get(model_, &info);
    for (uint32_t i = 0; i < info.num_params; ++i) {
        rill_param_info p;
        if (rill_model_param(model_, i, &p) == RILL_OK)
            names.push_back(p.name);
    }
    return names;
}

} // namespace webcam
