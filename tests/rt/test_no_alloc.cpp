// Real-time safety, proven: zero heap allocations (or frees) inside rill_stream_process,
// rill_stream_reset, rill_stream_set_param and state get/set, for every golden model and every
// extra model file given on the command line (real imported models: GTCRN, Silero VAD), over
// varying block sizes including 1 and the maximum.
#include <atomic>
#include <filesystem>
#include <thread>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "alloc_counter.hpp" // apps/cli: the one allocation counter
#include "rill/rill.h"

namespace fs = std::filesystem;
using CountAllocations = rill::alloc::Scope;

static const char* g_fixtures = nullptr;
static std::vector<fs::path> g_extra_models;

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
        g_extra_models.push_back(argv[i]);
    return RUN_ALL_TESTS();
}
