// Runs a TFLite model's tensor program once on raw float32 inputs (NCHW for 4-D tensors) and
// writes its outputs the same way; prints the shapes and the program size. --repeat N runs it N
// more times and prints the per-frame time (p50, p99) and frames per second (1 thread); --profile N
// times each step alone over N runs and prints the table of ProgramInstance::profile.
//   rill_tflite_run MODEL.tflite IN0.f32 [IN1.f32 ...] -o OUT_PREFIX [--repeat N] [--profile N]
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "../../core/src/import/tflite/tflite_lowering.hpp"
#include "../../core/src/tensor/program.hpp"
#include "rill/core/error.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> inputs;
    std::string model_path, prefix = "out";
    int repeat = 0, profile = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-o" && i + 1 < argc)
            prefix = argv[++i];
        else if (a == "--repeat" && i + 1 < argc)
            repeat = std::atoi(argv[++i]);
        else if (a == "--profile" && i + 1 < argc)
            profile = std::atoi(argv[++i]);
        else if (model_path.empty())
            model_path = a;
        else
            inputs.push_back(a);
    }
    try {
        std::ifstream f(model_path, std::ios::binary);
        const std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        const auto model = rill::tflite_import::read_tflite(bytes.data(), bytes.size());
        const auto prog = rill::tflite_import::lower_tflite(model);
        const rill::tensor::Program program(prog.desc, prog.constants);
        const rill::tensor::ProgramInstance instance(program);
        const rill::tensor::Program::Buffers& b = instance.buffers();
        if (inputs.size() != program.input_count())
            throw std::runtime_error("the model has " + std::to_string(program.input_count()) + " inputs");
        for (size_t i = 0; i < inputs.size(); ++i) {
            std::ifstream in(inputs[i], std::ios::binary);
            in.read(reinterpret_cast<char*>(program.input(b, i)),
                    static_cast<std::streamsize>(program.input_size(i) * 4));
            if (!in)
                throw std::runtime_error("'" + inputs[i] + "' holds fewer than " +
                                         std::to_string(program.input_size(i)) + " floats");
        }
        instance.run();
        std::printf("%zu steps, %zu constants\n", program.step_count(), prog.constants.size());
        if (repeat > 0) {
            const auto t = instance.time_runs(repeat);
            std::printf("per frame: p50 %.3f ms, p99 %.3f ms, %.1f frames/s (1 thread)\n", t.p50_ms, t.p99_ms,
                        1000.0 / t.p50_ms);
        }
        if (profile > 0)
            std::printf("%s", instance.profile(profile).c_str());
        for (size_t j = 0; j < program.output_count(); ++j) {
            const std::string path = prefix + std::to_string(j) + ".f32";
            std::ofstream o(path, std::ios::binary);
            o.write(reinterpret_cast<const char*>(program.output(b, j)),
                    static_cast<std::streamsize>(program.output_size(j) * 4));
            std::printf("output %zu %s -> %s\n", j, rill::tensor::to_string(program.output_shape(j)).c_str(), path.c_str());
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "rill_tflite_run: %s\n", e.what());
        return 1;
    }
    return 0;
}
