// Channel routing: every output channel is a copy of one input channel.
//   concat    y = [x0; x1; ...]                 (channels in input order)
//   split     y_k = x[s_0 + ... + s_{k-1} : + s_k] for attr sizes [s_0, s_1, ...] (sum = C);
//             outputs "node", "node:1", ...
//   slice     y = x[start : end]                (channels; negative counts from the end)
//   identity  y = x
// The delay op (a time shift, with state) lives in delay.cpp.
#include <algorithm>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "delay.hpp"
#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

struct Source {
    uint32_t input = 0;
    uint32_t channel = 0;
};

// Maps input ports to, per output, the input channel each output channel copies.
using RouteFn = std::function<std::vector<std::vector<Source>>(const std::vector<PortInfo>&)>;

class RouteOp final : public Op {
public:
    RouteOp(uint32_t num_outputs, RouteFn route)
        : num_outputs_(num_outputs), route_(std::move(route)) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<RouteOp>(*this); }
    uint32_t num_outputs() const override { return num_outputs_; }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        routes_ = route_(inputs);
        std::vector<PortInfo> out;
        for (const auto& r : routes_)
            out.push_back(ops::port_like(inputs[0], static_cast<uint32_t>(r.size())));
        return out;
    }

    void prepare(Arena&, const PrepareInfo&) override {}

    void process(const ConstView* in, const View* out, size_t in_frames, size_t,
                 const ProcessContext&) noexcept override {
        for (size_t o = 0; o < routes_.size(); ++o)
            for (uint32_t c = 0; c < routes_[o].size(); ++c) {
                const Source& s = routes_[o][c];
                std::copy_n(in[s.input].channel(s.channel), in_frames, out[o].channel(c));
            }
    }

private:
    uint32_t num_outputs_;
    RouteFn route_;
    std::vector<std::vector<Source>> routes_; // fixed at plan
};

std::vector<Source> channel_range(uint32_t input, uint32_t begin, uint32_t end) {
    std::vector<Source> r;
    for (uint32_t c = begin; c < end; ++c)
        r.push_back(Source{input, c});
    return r;
}

std::unique_ptr<Op> make_concat(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1024);
    return std::make_unique<RouteOp>(1, [](const std::vector<PortInfo>& inputs) {
        std::vector<Source> all;
        for (uint32_t i = 0; i < inputs.size(); ++i)
            for (const Source& s : channel_range(i, 0, inputs[i].channels))
                all.push_back(s);
        return std::vector<std::vector<Source>>{all};
    });
}

std::unique_ptr<Op> make_identity(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    return std::make_unique<RouteOp>(1, [](const std::vector<PortInfo>& inputs) {
        return std::vector<std::vector<Source>>{channel_range(0, 0, inputs[0].channels)};
    });
}

std::unique_ptr<Op> make_split(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const std::vector<int64_t> sizes = ctx.attr_ints("sizes", {});
    if (sizes.empty())
        ctx.fail("attribute 'sizes' (channels of each output) is required and must be non-empty");
    int64_t total = 0;
    for (int64_t s : sizes) {
        if (s <= 0 || s > (1 << 20))
            ctx.fail("attribute 'sizes' must hold positive channel counts, got " +
                     ctx.node.attrs.at("sizes").dump());
        total += s;
    }
    const std::string where = ctx.where();
    return std::make_unique<RouteOp>(
        static_cast<uint32_t>(sizes.size()), [sizes, total, where](const std::vector<PortInfo>& in) {
            if (total != in[0].channels)
                fail_format(where + ": attribute 'sizes' sums to " + std::to_string(total) +
                            " but the input has " + std::to_string(in[0].channels) + " channels");
            std::vector<std::vector<Source>> routes;
            uint32_t begin = 0;
            for (int64_t s : sizes) {
                routes.push_back(channel_range(0, begin, begin + static_cast<uint32_t>(s)));
                begin += static_cast<uint32_t>(s);
            }
            return routes;
        });
}

std::unique_ptr<Op> make_slice(const OpBuildContext& ctx) {
    ctx.expect_inputs(1, 1);
    const int64_t start = ctx.attr_int("start", 0);
    const bool has_end = ctx.has_attr("end");
    const int64_t end = ctx.attr_int("end", 0);
    const std::string where = ctx.where();
    return std::make_unique<RouteOp>(1, [=](const std::vector<PortInfo>& in) {
        const int64_t c = in[0].channels;
        const int64_t b = start < 0 ? start + c : start;
        const int64_t e = !has_end ? c : end < 0 ? end + c : end;
        if (b < 0 || e > c || b >= e)
            fail_format(where + ": channel range [" + std::to_string(start) + ", " +
                        (has_end ? std::to_string(end) : std::string("end")) +
                        ") is empty or outside the input's " + std::to_string(c) + " channels");
        return std::vector<std::vector<Source>>{
            channel_range(0, static_cast<uint32_t>(b), static_cast<uint32_t>(e))};
    });
}

} // namespace

void register_routing_ops(OpRegistry& r) {
    r.add("concat", make_concat);
    r.add("split", make_split);
    r.add("slice", make_slice);
    r.add("identity", make_identity);
    r.add("delay", ops::make_delay);
}

} // namespace rill
