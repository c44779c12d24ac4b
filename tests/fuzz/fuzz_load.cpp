// Fuzz target for the model loader: any bytes must give a status code, never a crash, and a model
// that loads must also create a stream and process a block. Builds as a libFuzzer target
// (clang -fsanitize=fuzzer, RILL_LIBFUZZER) or, by default, as a mutation smoke driver that
// mutates seed models with a fixed seed (run in CI; long runs behind an iteration count).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "rill/rill.h"

static void exercise(const uint8_t* data, size_t size) {
    rill_model* model = nullptr;
    if (rill_model_load_memory(data, size, nullptr, &model) != RILL_OK)
        return;
    rill_stream_config cfg;
    rill_stream_config_init(&cfg);
    cfg.max_block_frames = 64;
    rill_stream* stream = nullptr;
    rill_image_info image;
    rill_image_info_init(&image);
    if (rill_model_input_image(model, 0, &image) == RILL_OK &&
        rill_stream_create(model, &cfg, &stream) == RILL_OK) { // an image model: one frame
        std::vector<unsigned char> rgb(40 * 30 * 3, 128);
        rill_image in, out;
        rill_image_init(&in);
        in.width = 40, in.height = 30, in.pixel_format = RILL_PIXEL_RGB8, in.data = rgb.data();
        out = in;
        const rill_image* ins[] = {&in};
        const rill_image* outs[] = {&out, nullptr, nullptr, nullptr};
        rill_model_info info;
        rill_model_info_init(&info);
        rill_model_info_get(model, &info);
        if (info.num_inputs == 1 && info.num_outputs <= 4)
            rill_stream_process_image(stream, ins, outs);
        rill_stream_destroy(stream);
    } else if (rill_stream_create(model, &cfg, &stream) == RILL_OK) {
        rill_model_info info;
        rill_model_info_init(&info);
        rill_model_info_get(model, &info);
        std::vector<std::vector<float>> in(info.input_channels, std::vector<float>(64, 0.5f));
        std::vector<std::vector<float>> out(info.output_channels, std::vector<float>(64));
        std::vector<const float*> ip;
        std::vector<float*> op;
        for (auto& c : in)
            ip.push_back(c.data());
        for (auto& c : out)
            op.push_back(c.data());
        rill_stream_process(stream, ip.data(), op.data(), 64);
        rill_stream_destroy(stream);
    }
    rill_model_release(model);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    exercise(data, size);
    return 0;
}

#ifndef RILL_LIBFUZZER
static std::vector<uint8_t> read_file(const char* path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Mutations aimed at the structure: byte flips, truncation, header edits, digit changes.
static void mutate(std::vector<uint8_t>& b, std::mt19937& rng) {
    if (b.empty())
        return;
    auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
    switch (rng() % 6) {
    case 0: b[pick(b.size())] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
    case 1: b.resize(pick(b.size())); break;
    case 2: { // change a digit inside the JSON header
        const size_t end = std::min<size_t>(b.size(), 4096);
        for (int tries = 0; tries < 64; ++tries) {
            const size_t i = pick(end);
            if (b[i] >= '0' && b[i] <= '9') {
                b[i] = static_cast<uint8_t>('0' + rng() % 10);
                break;
            }
        }
        break;
    }
    case 3: b[pick(std::min<size_t>(b.size(), 8))] = static_cast<uint8_t>(rng()); break;
    case 4: b.insert(b.begin() + static_cast<long>(pick(b.size())), static_cast<uint8_t>(rng())); break;
    default: { // swap two bytes in the header
        const size_t end = std::min<size_t>(b.size(), 4096);
        std::swap(b[pick(end)], b[pick(end)]);
    }
    }
}

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: fuzz_load ITERATIONS SEED_MODEL...\n");
        return 2;
    }
    const long iterations = std::stol(argv[1]);
    std::mt19937 rng(12345);
    long loaded = 0;
    for (int s = 2; s < argc; ++s) {
        const std::vector<uint8_t> seed = read_file(argv[s]);
        if (seed.empty()) {
            std::fprintf(stderr, "cannot read seed %s\n", argv[s]);
            return 2;
        }
        for (long i = 0; i < iterations; ++i) {
            std::vector<uint8_t> b = seed;
            const int n = 1 + static_cast<int>(rng() % 3);
            for (int k = 0; k < n; ++k)
                mutate(b, rng);
            rill_model* probe = nullptr;
            if (rill_model_load_memory(b.data(), b.size(), nullptr, &probe) == RILL_OK) {
                ++loaded;
                rill_model_release(probe);
            }
            exercise(b.data(), b.size());
        }
    }
    std::printf("fuzz_load: %ld mutated models per seed, %d seeds, %ld still loaded, no crash\n",
                iterations, argc - 2, loaded);
    return 0;
}
#endif
