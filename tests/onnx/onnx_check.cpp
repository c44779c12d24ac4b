// Runs an ONNX model through Rill's importer and tensor program on the inputs of ONNX test data
// sets (input_<i>.pb / output_<i>.pb TensorProtos, the layout of ONNX's conformance cases and of
// Debian's libonnx-testdata) and compares every output.
//   rill_onnx_check CASE_DIR...   [--rtol R] [--atol A] [--report] [--repeat N] [--profile N]
// CASE_DIR holds model.onnx and test_data_set_*/. Input 0 is the run-time input; the others are
// bound as constants, which is what weights, shapes and indices are in real models (the
// importer folds them at import), except those listed (one name per line) in CASE_DIR/
// runtime_inputs. Prints one line per case; exit status 1 if any case fails.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "../../core/src/import/onnx/onnx_graph.hpp"
#include "../../core/src/tensor/program.hpp"
#include "rill/core/error.hpp"
#include "rill/core/import_onnx.hpp"

namespace fs = std::filesystem;

namespace {

std::vector<char> read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct CaseResult {
    bool ok = false;
    std::string detail;
};

bool g_report = false; // --report: print every output's error instead of stopping at the first
int g_repeat = 0;      // --repeat N: time N more runs of each case (p50, p99 per run, 1 thread)
int g_profile = 0;     // --profile N: time each step alone over N runs, print the table

CaseResult run_case(const fs::path& dir, double rtol, double atol) {
    const auto model = read_bytes(dir / "model.onnx");
    const auto graph = rill::onnx_import::read_onnx(model.data(), model.size());
    std::vector<fs::path> sets;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory() && e.path().filename().string().rfind("test_data_set_", 0) == 0)
            sets.push_back(e.path());
    if (sets.empty())
        return {false, "no test_data_set_*"};
    std::set<std::string> runtime;
    if (std::ifstream list(dir / "runtime_inputs"); list)
        for (std::string name; std::getline(list, name);)
            if (!name.empty())
                runtime.insert(name);
    double worst = 0;
    size_t steps = 0;
    for (const auto& set : sets) {
        rill::OnnxImportOptions options;
        std::vector<rill::onnx_import::Const> inputs;
        std::vector<std::string> names;
        for (size_t i = 0;; ++i) {
            const fs::path p = set / ("input_" + std::to_string(i) + ".pb");
            if (!fs::exists(p))
                break;
            const auto bytes = read_bytes(p);
            std::string name;
            inputs.push_back(rill::onnx_import::read_tensor_proto(bytes.data(), bytes.size(), &name));
            if (name.empty() && i < graph.graph.inputs.size())
                name = graph.graph.inputs[i].name;
            names.push_back(name);
            options.shapes[name] = inputs.back().shape;
            if (i > 0 && !runtime.count(name))
                options.bind[name] = inputs.back().values;
        }
        const rill::OnnxProgram prog = rill::import_onnx_program(model.data(), model.size(), options);
        const rill::tensor::Program program(prog.desc, prog.constants);
        const rill::tensor::ProgramInstance instance(program);
        const rill::tensor::Program::Buffers& b = instance.buffers();
        steps = program.step_count();
        for (size_t i = 0; i < prog.inputs.size(); ++i) {
            const auto it = std::find(names.begin(), names.end(), prog.inputs[i]);
            if (it == names.end())
                return {false, "no data for input " + prog.inputs[i]};
            const auto& c = inputs[static_cast<size_t>(it - names.begin())];
            float* dst = program.input(b, i);
            for (size_t k = 0; k < c.values.size(); ++k)
                dst[k] = static_cast<float>(c.values[k]);
        }
        instance.run();
        if (g_repeat > 0) {
            const auto t = instance.time_runs(g_repeat);
            std::printf("  per run: p50 %.3f ms, p99 %.3f ms\n", t.p50_ms, t.p99_ms);
        }
        if (g_profile > 0)
            std::printf("%s", instance.profile(g_profile).c_str());
        for (size_t j = 0; j < prog.outputs.size(); ++j) {
            const fs::path p = set / ("output_" + std::to_string(j) + ".pb");
            if (!fs::exists(p))
                continue;
            const auto bytes = read_bytes(p);
            const auto expect = rill::onnx_import::read_tensor_proto(bytes.data(), bytes.size());
            if (static_cast<int64_t>(expect.values.size()) != program.output_size(j))
                return {false, "output " + std::to_string(j) + " has " + std::to_string(program.output_size(j)) +
                                   " elements, expected " + std::to_string(expect.values.size())};
            const float* y = program.output(b, j);
            if (g_report) {
                double err = 0, mag = 0;
                for (size_t k = 0; k < expect.values.size(); ++k) {
                    err = std::max(err, std::fabs(y[k] - expect.values[k]));
                    mag = std::max(mag, std::fabs(expect.values[k]));
                }
                std::printf("  output %zu (%s): max abs error %.3g, max |expected| %.3g\n", j,
                            prog.outputs[j].c_str(), err, mag);
                continue;
            }
            for (size_t k = 0; k < expect.values.size(); ++k) {
                const double e = expect.values[k], d = std::fabs(y[k] - e);
                if (std::isnan(e) != std::isnan(static_cast<double>(y[k])) || d > atol + rtol * std::fabs(e))
                    return {false, "output " + std::to_string(j) + "[" + std::to_string(k) + "] = " +
                                       std::to_string(y[k]) + ", expected " + std::to_string(e)};
                worst = std::max(worst, d);
            }
        }
    }
    char buf[64];
    std::snprintf(buf, sizeof buf, "max abs error %.3g (%zu steps)", worst, steps);
    return {true, buf};
}

} // namespace

int main(int argc, char** argv) {
    double rtol = 1e-4, atol = 1e-5;
    std::vector<std::string> dirs;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--rtol" && i + 1 < argc)
            rtol = std::atof(argv[++i]);
        else if (a == "--atol" && i + 1 < argc)
            atol = std::atof(argv[++i]);
        else if (a == "--report")
            g_report = true;
        else if (a == "--repeat" && i + 1 < argc)
            g_repeat = std::atoi(argv[++i]);
        else if (a == "--profile" && i + 1 < argc)
            g_profile = std::atoi(argv[++i]);
        else
            dirs.push_back(a);
    }
    int failed = 0;
    for (const auto& d : dirs) {
        CaseResult r;
        try {
            r = run_case(d, rtol, atol);
        } catch (const std::exception& e) {
            r = {false, e.what()};
        }
        std::printf("%s %s: %s\n", r.ok ? "PASS" : "FAIL", fs::path(d).filename().c_str(), r.detail.c_str());
        failed += r.ok ? 0 : 1;
    }
    std::printf("%zu cases, %d failed\n", dirs.size(), failed);
    return failed ? 1 : 0;
}
