// Linear-attention benchmark (figures, no assertions): for GLA, Gated DeltaNet and mLSTM at
// d_model 512 (4 heads, K = V = 128) it streams the linear_attention op through the engine and
// prints JSON lines: the per-frame time of the recurrent form (blocks of 1 frame: p50, p99) and
// the chunkwise throughput at 1024 and 16384 frames (GFLOP/s of the work the chunkwise form
// does), plus this core's measured peak FMA rate. bench/bench_linear_attention.py runs it next to
// PyTorch doing the same work.
//
//   rill_la_bench [--frames-step 2000] [--repeats 3]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rill/core/model.hpp"
#include "rill/core/rill_file.hpp"
#include "rill/core/stream.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Peak single-core FMA rate: 12 independent 8-wide FMA chains (enough to cover the latency of
// two FMA ports), flop = 2 per lane.
__attribute__((target("avx2,fma"))) double peak_gflops() {
    __m256 acc[12];
    for (int i = 0; i < 12; ++i)
        acc[i] = _mm256_set1_ps(static_cast<float>(i) * 1e-3f);
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    const long iters = 50'000'000;
    const auto t0 = Clock::now();
    for (long n = 0; n < iters; ++n)
        for (int i = 0; i < 12; ++i)
            acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    const double s = seconds_since(t0);
    float sink = 0;
    for (int i = 0; i < 12; ++i) {
        float v[8];
        _mm256_storeu_ps(v, acc[i]);
        sink += v[0];
    }
    if (sink == 12345.0f)
        std::puts("");
    return double(iters) * 12 * 8 * 2 / s * 1e-9;
}

struct Variant {
    const char* name;
    nlohmann::json attrs;
    std::vector<uint32_t> gate_channels; // after q, k, v
    bool delta;
};

constexpr uint32_t kHeads = 4, kK = 128, kV = 128, kChunk = 64;

// Work of the chunkwise form per token and head (flops, as executed; see
// core/src/kernels/linear_attention.hpp): the score matrices are computed in full.
double chunk_flops_per_token(bool delta) {
    const double C = kChunk, K = kK, V = kV;
    double f = 2 * (K * V + C * K + C * V + K * V); // Q S0, Q K^T, A V, K^T V
    if (delta)
        f += 2 * (3 * C * K + 2 * K * V + 2 * C * V) + C * V; // A_qx A_yk A_yx, Y S0, X^T P, A_yk V, A_qx P, solve
    return f;
}

std::shared_ptr<const rill::Model> make_model(const Variant& v, uint32_t* in_channels) {
    rill::RillFile f;
    std::vector<int64_t> sizes{kHeads * kK, kHeads * kK, kHeads * kV};
    for (uint32_t c : v.gate_channels)
        sizes.push_back(c);
    uint32_t total = 0;
    for (auto s : sizes)
        total += static_cast<uint32_t>(s);
    *in_channels = total;
    f.graph.inputs.push_back({"x", "audio", total, 16000.0, ""});
    f.graph.outputs.push_back({"y", "audio", kHeads * kV, 0, "la"});
    rill::NodeDef split{"s", "split", {"x"}, {{"sizes", sizes}}, {}};
    std::vector<std::string> ins{"s"};
    for (size_t i = 1; i < sizes.size(); ++i)
        ins.push_back("s:" + std::to_string(i));
    rill::NodeDef la{"la", "linear_attention", ins, v.attrs, {}};
    if (v.attrs.value("decay", "") == "softplus") {
        f.tensors["A_log"] = rill::make_tensor({kHeads}, std::vector<float>(kHeads, -1.0f));
        f.tensors["dt_bias"] = rill::make_tensor({kHeads}, std::vector<float>(kHeads, 0.5f));
        la.weights = {{"A_log", "A_log"}, {"dt_bias", "dt_bias"}};
    }
    f.graph.nodes = {split, la};
    return std::make_shared<const rill::Model>(std::move(f));
}

struct Signal {
    uint32_t channels;
    size_t frames;
    std::vector<float> data;
    std::vector<const float*> in;
    std::vector<float> out_data;
    std::vector<float*> out;
    Signal(uint32_t ch, uint32_t out_ch, size_t n) : channels(ch), frames(n) {
        std::mt19937 rng(7);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        data.resize(size_t(ch) * n);
        for (auto& x : data)
            x = nd(rng);
        out_data.resize(size_t(out_ch) * n);
        for (uint32_t c = 0; c < ch; ++c)
            in.push_back(data.data() + c * n);
        for (uint32_t c = 0; c < out_ch; ++c)
            out.push_back(out_data.data() + c * n);
    }
};

void bench_variant(const Variant& v, size_t step_frames, int repeats) {
    uint32_t in_ch = 0;
    const auto model = make_model(v, &in_ch);
    // Recurrent form: one frame per call.
    {
        rill::Stream s(model, rill::StreamSpec{1, rill::NonFinitePolicy::Pass});
        Signal sig(in_ch, kHeads * kV, step_frames);
        std::vector<double> times;
        std::vector<const float*> in(in_ch);
        std::vector<float*> out(kHeads * kV);
        for (size_t t = 0; t < step_frames; ++t) {
            for (uint32_t c = 0; c < in_ch; ++c)
                in[c] = sig.in[c] + t;
            for (uint32_t c = 0; c < kHeads * kV; ++c)
                out[c] = sig.out[c] + t;
            const auto t0 = Clock::now();
            s.process(in.data(), out.data(), 1);
            times.push_back(seconds_since(t0) * 1e6);
        }
        std::sort(times.begin(), times.end());
        std::printf("{\"variant\": \"%s\", \"form\": \"recurrent\", \"step_us_p50\": %.3f, "
                    "\"step_us_p99\": %.3f, \"state_bytes\": %zu}\n",
                    v.name, times[times.size() / 2], times[times.size() * 99 / 100],
                    size_t(kHeads) * kK * (kV + 1) * sizeof(float));
    }
    // Chunkwise form: one block of n frames per call.
    for (size_t n : {size_t(1024), size_t(16384)}) {
        rill::Stream s(model, rill::StreamSpec{uint32_t(n), rill::NonFinitePolicy::Pass});
        Signal sig(in_ch, kHeads * kV, n);
        double best = 1e30;
        for (int r = 0; r < repeats; ++r) {
            const auto t0 = Clock::now();
            s.process(sig.in.data(), sig.out.data(), n);
            best = std::min(best, seconds_since(t0));
        }
        const double flops = chunk_flops_per_token(v.delta) * kHeads * double(n);
        std::printf("{\"variant\": \"%s\", \"form\": \"chunkwise\", \"frames\": %zu, "
                    "\"seconds\": %.6f, \"gflops\": %.2f, \"us_per_frame\": %.3f}\n",
                    v.name, n, best, flops / best * 1e-9, best / double(n) * 1e6);
    }
}

} // namespace

int main(int argc, char** argv) {
    size_t step_frames = 2000;
    int repeats = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--frames-step"))
            step_frames = std::stoul(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--repeats"))
            repeats = std::stoi(argv[i + 1]);
    }
    std::printf("{\"peak_fma_gflops\": %.2f}\n", peak_gflops());
    const Variant variants[] = {
        {"gla",
         {{"variant", "gla"}, {"heads", kHeads}, {"decay", "logsigmoid"}, {"gate_normalizer", 16},
          {"chunk_size", kChunk}},
         {kHeads * kK},
         false},
        {"gated_delta",
         {{"variant", "gated_delta"}, {"heads", kHeads}, {"decay", "softplus"},
          {"beta", "sigmoid"}, {"qk_norm", "l2"}, {"chunk_size", kChunk}},
         {kHeads, kHeads},
         true},
        {"mlstm", {{"variant", "mlstm"}, {"heads", kHeads}, {"chunk_size", kChunk}}, {kHeads, kHeads},
         false},
    };
    for (const auto& v : variants)
        bench_variant(v, step_frames, repeats);
    return 0;
}
