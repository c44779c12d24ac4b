// Linear-attention benchmark (figures, no assertions): for GLA, Gated DeltaNet and mLSTM at
// d_model 512 (4 heads, K = V = 128) it drives the linear_attention op as a stream does
// (built by the op registry, memory from an arena) and prints JSON lines: the per-frame time of the recurrent form (blocks of 1 frame: p50, p99) and
// the chunkwise throughput at 1024 and 16384 frames (GFLOP/s of the work the chunkwise form
// does), plus this core's measured peak FMA rate. bench/bench_linear_attention.py runs it next to
// PyTorch doing the same work.
//
//   rill_la_bench [--frames-step 2000] [--repeats 3] [--only gla|gated_delta|mlstm]
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "rill/core/arena.hpp"
#include "rill/core/op.hpp"

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

// The op of one variant, built as the model loader builds it, with its inputs' port sizes.
struct OpUnderTest {
    std::unique_ptr<rill::Op> op;
    std::vector<rill::PortInfo> in_ports;
    std::vector<std::byte*> buffers;
    ~OpUnderTest() {
        for (auto* b : buffers)
            std::free(b);
    }
    std::byte* alloc(size_t bytes) {
        auto* p = static_cast<std::byte*>(std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64));
        std::memset(p, 0, (bytes + 63) / 64 * 64 + 64);
        buffers.push_back(p);
        return p;
    }
};

void make_op(const Variant& v, size_t max_frames, OpUnderTest& t) {
    rill::NodeDef node{"la", "linear_attention", {}, v.attrs, {}};
    rill::TensorMap tensors;
    std::vector<uint32_t> sizes{kHeads * kK, kHeads * kK, kHeads * kV};
    for (uint32_t c : v.gate_channels)
        sizes.push_back(c);
    for (size_t i = 0; i < sizes.size(); ++i)
        node.inputs.push_back("in" + std::to_string(i));
    if (v.attrs.value("decay", "") == "softplus") {
        tensors["A_log"] = rill::make_tensor({kHeads}, std::vector<float>(kHeads, -1.0f));
        tensors["dt_bias"] = rill::make_tensor({kHeads}, std::vector<float>(kHeads, 0.5f));
        node.weights = {{"A_log", "A_log"}, {"dt_bias", "dt_bias"}};
    }
    rill::GraphDef graph;
    rill::OpBuildContext ctx{node, tensors, graph};
    t.op = (*rill::OpRegistry::instance().find("linear_attention"))(ctx);
    for (uint32_t c : sizes)
        t.in_ports.push_back(rill::PortInfo{c, rill::Rate{}, 0});
    rill::PrepareInfo info;
    info.inputs = t.in_ports;
    info.outputs = t.op->plan(t.in_ports);
    info.max_input_frames = info.max_output_frames = max_frames;
    info.model_sample_rate = 16000;
    rill::Arena sizing;
    t.op->prepare(sizing, info);
    rill::Arena arena(t.alloc(sizing.state_bytes()), sizing.state_bytes(),
                      t.alloc(sizing.scratch_bytes()), sizing.scratch_bytes());
    t.op->prepare(arena, info);
    t.op->reset();
}

// Planar random inputs for the op's ports, n frames each, and one output of HV*V channels.
struct Signal {
    std::vector<std::vector<float>> in;
    std::vector<rill::ConstView> in_views;
    std::vector<float> out;
    rill::View out_view;
    Signal(const std::vector<rill::PortInfo>& ports, size_t n) {
        std::mt19937 rng(7);
        std::normal_distribution<float> nd(0.0f, 1.0f);
        for (const auto& p : ports) {
            in.emplace_back(size_t(p.channels) * n);
            for (auto& x : in.back())
                x = nd(rng);
            in_views.push_back(rill::ConstView{in.back().data(), p.channels, n});
        }
        out.resize(size_t(kHeads) * kV * n);
        out_view = rill::View{out.data(), kHeads * kV, n};
    }
};

void bench_variant(const Variant& v, size_t step_frames, int repeats) {
    // Recurrent form: one frame per call, each frame copied first into the one-frame planar
    // buffers a stream with blocks of 1 frame hands the op (channel stride 1).
    {
        OpUnderTest t;
        make_op(v, 1, t);
        Signal sig(t.in_ports, step_frames);
        std::vector<std::vector<float>> frame_in;
        std::vector<rill::ConstView> in;
        for (const auto& p : t.in_ports) {
            frame_in.emplace_back(p.channels);
            in.push_back(rill::ConstView{frame_in.back().data(), p.channels, 1});
        }
        std::vector<float> frame_out(kHeads * kV);
        rill::View out{frame_out.data(), kHeads * kV, 1};
        std::vector<double> times;
        rill::ProcessContext ctx;
        for (size_t f = 0; f < step_frames; ++f) {
            for (size_t i = 0; i < in.size(); ++i)
                for (uint32_t c = 0; c < t.in_ports[i].channels; ++c)
                    frame_in[i][c] = sig.in_views[i].channel(c)[f];
            const auto t0 = Clock::now();
            t.op->process(in.data(), &out, 1, 1, ctx);
            times.push_back(seconds_since(t0) * 1e6);
        }
        std::sort(times.begin(), times.end());
        std::printf("{\"variant\": \"%s\", \"form\": \"recurrent\", \"step_us_p50\": %.3f, "
                    "\"step_us_p99\": %.3f}\n",
                    v.name, times[times.size() / 2], times[times.size() * 99 / 100]);
    }
    // Chunkwise form: one block of n frames per call.
    for (size_t n : {size_t(1024), size_t(16384)}) {
        OpUnderTest t;
        make_op(v, n, t);
        Signal sig(t.in_ports, n);
        rill::ProcessContext ctx;
        double best = 1e30;
        for (int r = 0; r < repeats; ++r) {
            const auto t0 = Clock::now();
            t.op->process(sig.in_views.data(), &sig.out_view, n, n, ctx);
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
    std::string only;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--frames-step"))
            step_frames = std::stoul(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--repeats"))
            repeats = std::stoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--only"))
            only = argv[i + 1];
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
        if (only.empty() || only == v.name)
            bench_variant(v, step_frames, repeats);
    return 0;
}
