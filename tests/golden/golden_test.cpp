// Golden tests: each fixture (written by generate.py from a PyTorch reference) is streamed through
// the C API. For block schedules {1, 7, 64, 480, 513, max} and random sequences, processing the
// input followed by L zeros must equal the offline reference shifted by the reported latency L.
// Also: reset reproduces the first run exactly; state get/set round-trips.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rill/rill.h"

namespace fs = std::filesystem;

namespace {

constexpr uint32_t kMaxBlock = 1024;

std::vector<float> read_f32(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
}

struct Case {
    fs::path dir;
    nlohmann::json meta;
    std::vector<float> input, expected; // planar
};

struct Streamer {
    rill_model* model = nullptr;
    rill_stream* stream = nullptr;
    uint32_t in_ch = 0, out_ch = 0, latency = 0;

    explicit Streamer(const Case& c, uint32_t piece_frames = 0) {
        const rill_status s = rill_model_load((c.dir / "model.rill").c_str(), nullptr, &model);
        EXPECT_EQ(s, RILL_OK) << rill_last_error_detail();
        if (!model)
            return;
        rill_stream_config cfg;
        rill_stream_config_init(&cfg);
        cfg.max_block_frames = kMaxBlock;
        cfg.piece_frames = piece_frames;
        EXPECT_EQ(rill_stream_create(model, &cfg, &stream), RILL_OK) << rill_last_error_detail();
        rill_model_info info;
        rill_model_info_init(&info);
        rill_model_info_get(model, &info);
        in_ch = info.input_channels;
        out_ch = info.output_channels;
        latency = rill_stream_latency_frames(stream);
        for (const auto& [name, value] : c.meta["params"].items()) {
            const int32_t idx = rill_model_find_param(model, name.c_str());
            EXPECT_GE(idx, 0) << name;
            rill_stream_set_param(stream, static_cast<uint32_t>(idx), value.get<float>());
        }
    }
    ~Streamer() {
        rill_stream_destroy(stream);
        rill_model_release(model);
    }

    // Streams x (planar, frames long) in the given block sizes (repeating), from frame `from`.
    void run(const std::vector<float>& x, size_t frames, std::vector<float>& y,
             const std::vector<uint32_t>& blocks, size_t from = 0, size_t to = SIZE_MAX) {
        to = std::min(to, frames);
        y.resize(static_cast<size_t>(out_ch) * frames);
        std::vector<const float*> in(in_ch);
        std::vector<float*> out(out_ch);
        size_t pos = from, k = 0;
        while (pos < to) {
            const size_t n = std::min<size_t>(blocks[k++ % blocks.size()], to - pos);
            for (uint32_t c = 0; c < in_ch; ++c)
                in[c] = x.data() + c * frames + pos;
            for (uint32_t c = 0; c < out_ch; ++c)
                out[c] = y.data() + c * frames + pos;
            ASSERT_GE(rill_stream_process(stream, in.data(), out.data(), static_cast<uint32_t>(n)), 0);
            pos += n;
        }
    }
};

void compare(const Case& c, const std::vector<float>& y, size_t frames, uint32_t latency,
             const std::string& what) {
    const size_t out_ch = c.meta["out_channels"], out_frames = c.meta["out_frames"];
    const double tol = c.meta["tol"];
    double worst = 0;
    size_t worst_c = 0, worst_t = 0;
    for (size_t ch = 0; ch < out_ch; ++ch)
        for (size_t t = 0; t < out_frames; ++t) {
            const double e = std::abs(double(y[ch * frames + latency + t]) -
                                      double(c.expected[ch * out_frames + t]));
            if (!(e <= worst)) {
                worst = std::isnan(e) ? INFINITY : e;
                worst_c = ch;
                worst_t = t;
            }
        }
    EXPECT_LE(worst, tol) << c.meta["name"].get<std::string>() << " " << what
                          << ": max abs error " << worst << " at channel " << worst_c << ", frame "
                          << worst_t << " (latency " << latency << ")";
}

void run_case(const Case& c) {
    Streamer s(c);
    ASSERT_TRUE(s.stream);
    ASSERT_EQ(s.in_ch, c.meta["in_channels"].get<uint32_t>());
    ASSERT_EQ(s.out_ch, c.meta["out_channels"].get<uint32_t>());
    const size_t in_frames = c.meta["in_frames"], out_frames = c.meta["out_frames"];
    ASSERT_LE(out_frames, in_frames) << "expected longer than input";
    // x followed by L zeros.
    const size_t frames = in_frames + s.latency;
    std::vector<float> x(static_cast<size_t>(s.in_ch) * frames, 0.0f);
    for (uint32_t ch = 0; ch < s.in_ch; ++ch)
        std::copy_n(c.input.data() + ch * in_frames, in_frames, x.data() + ch * frames);

    std::vector<float> first;
    const std::vector<std::vector<uint32_t>> schedules = {{1}, {7}, {64}, {480}, {513}, {kMaxBlock}};
    for (const auto& blocks : schedules) {
        std::vector<float> y;
        rill_stream_reset(s.stream);
        s.run(x, frames, y, blocks);
        compare(c, y, frames, s.latency, "blocks of " + std::to_string(blocks[0]));
        if (first.empty())
            first = y;
        else
            for (size_t i = 0; i < y.size(); ++i)
                ASSERT_NEAR(y[i], first[i], std::max(1e-5, c.meta["tol"].get<double>()))
                    << "block size changes the output";
    }
    {   // the graph run in pieces of one hop: the same output
        Streamer pieces(c, 1);
        ASSERT_TRUE(pieces.stream);
        std::vector<float> y;
        pieces.run(x, frames, y, {kMaxBlock});
        compare(c, y, frames, pieces.latency, "pieces of one hop");
        for (size_t i = 0; i < y.size(); ++i)
            ASSERT_NEAR(y[i], first[i], std::max(1e-5, c.meta["tol"].get<double>()))
                << "running the graph in pieces changes the output";
    }
    std::mt19937 rng(1234);
    for (int trial = 0; trial < 3; ++trial) {
        std::vector<uint32_t> blocks(97);
        for (auto& b : blocks)
            b = std::uniform_int_distribution<uint32_t>(1, kMaxBlock)(rng) >> (rng() % 8);
        for (auto& b : blocks)
            b = std::max(1u, b);
        std::vector<float> y;
        rill_stream_reset(s.stream);
        s.run(x, frames, y, blocks);
        compare(c, y, frames, s.latency, "random blocks");
    }
    // State round trip: snapshot halfway, finish, restore, finish again: identical.
    rill_stream_reset(s.stream);
    std::vector<float> a, b;
    const size_t half = frames / 2;
    s.run(x, frames, a, {64}, 0, half);
    std::vector<unsigned char> blob(rill_stream_state_size(s.stream));
    ASSERT_EQ(rill_stream_state_get(s.stream, blob.data(), blob.size()), RILL_OK);
    s.run(x, frames, a, {33}, half);
    ASSERT_EQ(rill_stream_state_set(s.stream, blob.data(), blob.size()), RILL_OK);
    b = a;
    s.run(x, frames, b, {33}, half);
    for (size_t i = 0; i < a.size(); ++i)
        ASSERT_EQ(a[i], b[i]) << "state round trip differs at " << i;
}

class GoldenCase : public ::testing::Test {
public:
    explicit GoldenCase(Case c) : case_(std::move(c)) {}
    void TestBody() override { run_case(case_); }

private:
    Case case_;
};

} // namespace

int main(int argc, char** argv) {
    ::testing::InitGoogleTest(&argc, argv);
    if (argc < 2) {
        fprintf(stderr, "usage: golden_test FIXTURE_DIR\n");
        return 2;
    }
    std::vector<fs::path> dirs;
    for (const auto& e : fs::directory_iterator(argv[1]))
        if (fs::exists(e.path() / "case.json"))
            dirs.push_back(e.path());
    std::sort(dirs.begin(), dirs.end());
    if (dirs.empty()) {
        fprintf(stderr, "no golden cases in %s\n", argv[1]);
        return 1;
    }
    for (const auto& d : dirs) {
        Case c;
        c.dir = d;
        std::ifstream in(d / "case.json");
        c.meta = nlohmann::json::parse(in);
        c.input = read_f32(d / "input.f32");
        c.expected = read_f32(d / "expected.f32");
        const std::string suite = c.meta["module"].get<std::string>();
        const std::string name = c.meta["name"].get<std::string>();
        ::testing::RegisterTest(suite.c_str(), name.c_str(), nullptr, nullptr, __FILE__, __LINE__,
                                [c]() -> ::testing::Test* { return new GoldenCase(c); });
    }
    return RUN_ALL_TESTS();
}
