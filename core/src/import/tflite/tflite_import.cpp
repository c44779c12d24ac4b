// .tflite file -> streaming image model (rill/core/import_tflite.hpp).
#include "rill/core/import_tflite.hpp"

#include "../image_model.hpp"
#include "tflite_lowering.hpp"
#include "tflite_model.hpp"

namespace rill {

bool is_tflite_model(const void* data, size_t size) { return tflite_import::looks_like_tflite(data, size); }

RillFile import_tflite_memory(const void* data, size_t size, const nlohmann::json& options) {
    const ImageModelOptions o = ImageModelOptions::from_json(options, {});
    const tflite_import::TfModel m = tflite_import::read_tflite(data, size);
    tflite_import::TfliteProgram p = tflite_import::lower_tflite(m);
    ImageProgram image;
    image.desc = std::move(p.desc);
    image.constants = std::move(p.constants);
    image.output_shapes = p.output_shapes;
    for (size_t j = 0; j < p.output_shapes.size(); ++j)
        image.output_names.push_back(p.output_shapes.size() == 1 ? "mask" : "output" + std::to_string(j));
    image.description = "Imported from TFLite (schema version " + std::to_string(m.version) + ")" +
                        (m.description.empty() ? "" : ": " + m.description);
    image.source = "tflite";
    return image_model_file(std::move(image), o);
}

} // namespace rill
