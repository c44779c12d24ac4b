// Real-time safety, proven: zero heap allocations (or frees) inside rill_stream_process,
// rill_stream_reset, rill_stream_set_param and state get/set, for every golden model and every
// extra model file given on the command line (real imported models: GTCRN, Silero VAD), over
// varying block sizes including 1 and the maximum; and zero inside rill_stream_process_image for
// the image models given with --image PATH [--options JSON] (SINet with its normalisation, mask
// plane and temporal smoothing), over inputs of several sizes and pixel formats.
#include <atomic>
#include <filesystem>
#include <thread>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "alloc_counter.hpp" // apps/cli: the one allocation counter
#include "rill/rill.h"

namespace fs = std::filesystem;
using CountAllocations = rill::alloc::Scope;

static const char* g_fixtures = nullptr;
static std::vector<fs::path> g_extra_models;
struct ImageModel {
    fs::path path;
    std::string options;
};
static std::vector<ImageModel> g_image_models;

TEST(RealTime, NoAllocationInProcessResetSetParamState) {
    ASSERT_TRUE(g_fixtures);
    std::vector<fs::path> paths = g_extra_models;
    for (const auto& entry : fs::directory_iterator(g_fixtures))
        if (fs::exists(entry.path() / "model.rill"))
            paths.push_back(entry.path() / "model.rill");
    int models = 0;
    for (const fs::path& model_path : paths) {
        SCOPED_TRACE(model_path.string());
        rill_model* model = nullptr;
        ASSERT_EQ(rill_model_load(model_path.c_str(), nullptr, &model), RILL_OK);
        rill_stream_config cfg;
        rill_stream_config_init(&cfg);
        cfg.max_block_frames = 1024;
        rill_stream* stream = nullptr;
        ASSERT_EQ(rill_stream_create(model, &cfg, &stream), RILL_OK);
        rill_model_info info;
        rill_model_info_init(&info);
        rill_model_info_get(model, &info);
        std::vector<std::vector<float>> in(info.input_channels, std::vector<float>(1024));
        std::vector<std::vector<float>> out(info.output_channels, std::vector<float>(1024));
        std::vector<const float*> in_ptr;
        std::vector<float*> out_ptr;
        std::mt19937 rng(7);
        std::normal_distribution<float> noise;
        for (auto& c : in) {
            for (auto& v : c)
                v = noise(rng);
            in_ptr.push_back(c.data());
        }
        for (auto& c : out)
            out_ptr.push_back(c.data());
        in[0][3] = NAN; // the non-finite path must not allocate either
        std::vector<unsigned char> blob(rill_stream_state_size(stream));
        const uint32_t blocks[] = {1, 7, 64, 480, 513, 1024, 3, 1000};
        size_t allocations = 0;
        {
            CountAllocations counter;
            for (int round = 0; round < 4; ++round)
                for (uint32_t b : blocks)
                    rill_stream_process(stream, in_ptr.data(), out_ptr.data(), b);
            for (uint32_t p = 0; p < info.num_params; ++p)
                rill_stream_set_param(stream, p, 0.25f);
            rill_stream_state_get(stream, blob.data(), blob.size());
            rill_stream_reset(stream);
            rill_stream_state_set(stream, blob.data(), blob.size());
            rill_stream_process(stream, in_ptr.data(), out_ptr.data(), 1024);
            allocations = counter.count();
        }
        EXPECT_EQ(allocations, 0u) << model_path << ": heap allocations on the real-time path";
        rill_stream_destroy(stream);
        rill_model_release(model);
        ++models;
    }
    EXPECT_GT(models, 0);
}

TEST(RealTime, NoAllocationInProcessImage) {
    if (g_image_models.empty())
        GTEST_SKIP() << "no image model given (--image)";
    for (const ImageModel& m : g_image_models) {
        SCOPED_TRACE(m.path.string());
        rill_load_options opts;
        rill_load_options_init(&opts);
        opts.import_options = m.options.empty() ? nullptr : m.options.c_str();
        rill_model* model = nullptr;
        ASSERT_EQ(rill_model_load(m.path.c_str(), &opts, &model), RILL_OK) << rill_last_error_detail();
        rill_stream* stream = nullptr;
        ASSERT_EQ(rill_stream_create(model, nullptr, &stream), RILL_OK);
        // Camera-like frames of two sizes and layouts, a mask out at the camera size.
        std::vector<unsigned char> rgba(640 * 480 * 4), bgr(333 * 250 * 3);
        std::mt19937 rng(3);
        for (auto& v : rgba)
            v = static_cast<unsigned char>(rng());
        for (auto& v : bgr)
            v = static_cast<unsigned char>(rng());
        std::vector<float> mask(640 * 480);
        rill_image in_a, in_b, out;
        for (rill_image* d : {&in_a, &in_b, &out})
            rill_image_init(d);
        in_a.width = 640, in_a.height = 480, in_a.pixel_format = RILL_PIXEL_RGBA8, in_a.data = rgba.data();
        in_b.width = 333, in_b.height = 250, in_b.pixel_format = RILL_PIXEL_BGR8, in_b.data = bgr.data();
        out.width = 640, out.height = 480, out.pixel_format = RILL_PIXEL_GRAY_F32, out.data = mask.data();
        const rill_image* ins_a[] = {&in_a};
        const rill_image* ins_b[] = {&in_b};
        const rill_image* outs[] = {&out};
        rill_model_info info;
        rill_model_info_init(&info);
        rill_model_info_get(model, &info);
        std::vector<unsigned char> blob(rill_stream_state_size(stream));
        size_t allocations = 0;
        {
            CountAllocations counter;
            for (int frame = 0; frame < 3; ++frame) {
                EXPECT_EQ(rill_stream_process_image(stream, frame % 2 ? ins_b : ins_a, outs), RILL_OK);
                for (uint32_t p = 0; p < info.num_params; ++p)
                    rill_stream_set_param(stream, p, 0.3f);
            }
            rill_stream_state_get(stream, blob.data(), blob.size());
            rill_stream_reset(stream);
            rill_stream_state_set(stream, blob.data(), blob.size());
            EXPECT_EQ(rill_stream_process_image(stream, ins_a, outs), RILL_OK);
            allocations = counter.count();
        }
        EXPECT_EQ(allocations, 0u) << m.path << ": heap allocations in rill_stream_process_image";
        rill_stream_destroy(stream);
        rill_model_release(model);
    }
}

TEST(RealTime, CounterSeesAllocations) {
    // The test would be worthless if the interposition did not work.
    size_t n = 0;
    {
        CountAllocations counter;
        rill_model* model = nullptr;
        rill_model_load("/nonexistent.rill", nullptr, &model); // allocates the detail string
        std::vector<int> v(100);
        n = counter.count();
    }
    EXPECT_GT(n, 0u);
}

static int* volatile g_escape = nullptr;

TEST(RealTime, ThreadCounterSeesOnlyItsThread) {
    // ThreadScope (the plugin tests' audio-thread counter) counts its own thread's allocations
    // and frees, and none of another thread's.
    std::atomic<int> phase{0};
    std::thread other([&] {
        while (phase.load() < 1) {
        }
        for (int i = 0; i < 100; ++i) {
            g_escape = new int(i); // through a volatile: the compiler may not elide the pair
            delete g_escape;
        }
        phase = 2;
    });
    size_t others = 0, own = 0;
    {
        rill::alloc::ThreadScope scope;
        phase = 1;
        while (phase.load() < 2) {
        }
        others = scope.count();
        g_escape = new int(1);
        delete g_escape;
        own = scope.count();
    }
    other.join();
    EXPECT_EQ(others, 0u);
    EXPECT_EQ(own, 2u);
}

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    g_fixtures = argc > 1 ? argv[1] : nullptr;
    for (int i = 2; i < argc; ++i)
        if (std::string(argv[i]) == "--image" && i + 1 < argc)
            g_image_models.push_back({argv[++i], ""});
        else if (std::string(argv[i]) == "--options" && i + 1 < argc && !g_image_models.empty())
            g_image_models.back().options = argv[++i];
        else
            g_extra_models.push_back(argv[i]);
    return RUN_ALL_TESTS();
}
