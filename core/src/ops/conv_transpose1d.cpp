// conv_transpose1d as overlap-add.
//
// Offline (torch F.conv_transpose1d): yf[o, t*s + j*d] += sum_{c in group(o)} x[c, t] w[c, o', j],
// y = yf[p : ...] + bias (output_padding only lengthens the offline tail).
// Stream: each input frame adds its k taps at t*s + j*d; after a block of n input frames the
// first n*s output frames are final, the last (k-1)d + 1 - s carry over. Stream output u equals
// yf[u - cd*s], so the latency is p + cd*s output frames. Pre-roll input frames add nothing.
// Ungrouped, the taps of a frame are one matrix product first (kernels/packed_linear.hpp):
// taps[o k + j, t] = sum_c w[c, o, j] x[c, t], then added frame by frame (t ascending, so an
// output sample sums its frames in the same order whatever the block split).
#include <algorithm>
#include <memory>
#include <vector>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "../kernels/mac.hpp"
#include "../kernels/packed_linear.hpp"
#include "conv_attrs.hpp"
#include "overlap_add.hpp"

namespace rill {
namespace {

class ConvTranspose1d final : public Op {
public:
    explicit ConvTranspose1d(const OpBuildContext& ctx) : a_(ConvAttrs::read(ctx, true)) {
        padding_ = ctx.attr_int("padding", 0);
        const int64_t output_padding = ctx.attr_int("output_padding", 0);
        if (padding_ < 0 || output_padding < 0)
            ctx.fail("padding and output_padding must be >= 0");
        if (output_padding >= std::max(a_.stride, a_.dilation))
            ctx.fail("output_padding (" + std::to_string(output_padding) +
                     ") must be smaller than stride or dilation, as in PyTorch");
        if (a_.groups == 1) {
            const size_t cin = static_cast<size_t>(a_.weight.shape[0]);
            const size_t taps = static_cast<size_t>(a_.weight.shape[1] * a_.kernel);
            std::vector<float> by_tap(taps * cin); // [o k + j][c]
            for (size_t c = 0; c < cin; ++c)
                for (size_t r = 0; r < taps; ++r)
                    by_tap[r * cin + c] = a_.weight.data[c * taps + r];
            packed_ = std::make_shared<const PackedMatrix>(
                pack_matrix(by_tap.data(), taps, cin, cin, nullptr));
        }
        where_ = ctx.where();
    }

    std::unique_ptr<Op> clone() const override { return std::make_unique<ConvTranspose1d>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& in) override {
        a_.check_input(in[0], true, where_);
        input_latency_ = in[0].latency;
        return {PortInfo{static_cast<uint32_t>(a_.out_channels(true)), in[0].rate.times(a_.stride),
                         padding_ + input_latency_ * a_.stride}};
    }

    void prepare(Arena& arena, const PrepareInfo& info) override {
        const int64_t span = (a_.kernel - 1) * a_.dilation + 1;
        tail_ = static_cast<size_t>(std::max<int64_t>(0, span - a_.stride));
        ola_.take(arena, static_cast<uint32_t>(a_.out_channels(true)), tail_,
                  info.max_output_frames);
        preroll_.latency = input_latency_;
        preroll_.seen = arena.state<int64_t>(1);
        mac_ = &mac_kernels();
        if (packed_) {
            packed_kernels_ = &packed_linear_kernels();
            taps_ = arena.scratch<float>(packed_->rows * info.max_input_frames);
            pack_ = arena.scratch<float>(
                PackedLinearKernels::pack_floats(packed_->cols, info.max_input_frames));
        }
    }

    void process(const ConstView* in, const View* out, size_t n, size_t n_out,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        ola_.begin(n_out);
        const int64_t cin = a_.in_channels(true), cout_g = a_.weight.shape[1];
        const int64_t cin_g = cin / a_.groups, k = a_.kernel;
        const size_t s = static_cast<size_t>(a_.stride), d = static_cast<size_t>(a_.dilation);
        if (packed_)
            add_tap_products(in[0], skip, n - skip, s, d);
        for (int64_t c = 0; c < cin && !packed_; ++c) {
            const float* x = in[0].channel(static_cast<uint32_t>(c));
            const int64_t g = c / cin_g;
            for (int64_t oi = 0; oi < cout_g; ++oi) {
                float* acc = ola_.channel(static_cast<uint32_t>(g * cout_g + oi));
                const float* w = a_.weight.data + (c * cout_g + oi) * k;
                for (int64_t j = 0; j < k; ++j)
                    mac_->axpy(acc + j * d + skip * s, s, x + skip, w[j], n - skip);
            }
        }
        const int64_t cout = a_.out_channels(true);
        for (int64_t o = 0; o < cout; ++o) {
            const float* acc = ola_.channel(static_cast<uint32_t>(o));
            float* y = out[0].channel(static_cast<uint32_t>(o));
            const float b = a_.bias_data() ? a_.bias_data()[o] : 0.0f;
            for (size_t u = 0; u < n_out; ++u)
                y[u] = acc[u] + b;
        }
        ola_.end();
    }

private:
    // Frames [skip, skip + m) of x through the tap matrix, each frame's taps added in order.
    void add_tap_products(const ConstView& x, size_t skip, size_t m, size_t s, size_t d) noexcept {
        if (m == 0)
            return;
        packed_kernels_->apply(*packed_, x.data + skip, x.stride, taps_, m, m, pack_, {});
        const size_t k = static_cast<size_t>(a_.kernel);
        for (uint32_t o = 0; o < static_cast<uint32_t>(a_.out_channels(true)); ++o) {
            float* acc = ola_.channel(o) + skip * s;
            const float* taps = taps_ + o * k * m;
            for (size_t t = 0; t < m; ++t)
                for (size_t j = 0; j < k; ++j)
                    acc[t * s + j * d] += taps[j * m + t];
        }
    }

    ConvAttrs a_;
    int64_t padding_ = 0;
    int64_t input_latency_ = 0;
    size_t tail_ = 0;
    std::string where_;
    OverlapAdd ola_;
    PreRoll preroll_;
    const MacKernels* mac_ = nullptr;
    std::shared_ptr<const PackedMatrix> packed_; // ungrouped: [o k + j][c]
    const PackedLinearKernels* packed_kernels_ = nullptr;
    float* taps_ = nullptr; // scratch [o k + j][frame]
    float* pack_ = nullptr; // scratch
};

} // namespace

std::unique_ptr<Op> make_conv_transpose1d(const OpBuildContext& ctx) {
    return std::make_unique<ConvTranspose1d>(ctx);
}

} // namespace rill
