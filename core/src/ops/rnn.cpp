// Recurrent layers, one layer, one direction, initial state 0, output h[t] (H channels).
// PyTorch's conventions (nn.LSTM, nn.GRU); s = sigmoid; W_i* / W_h* are the row blocks of
// weight_ih / weight_hh in the gate order given, b_i* / b_h* likewise (missing biases are 0).
//   lstm (Hochreiter & Schmidhuber 1997), gates i, f, g, o:
//     i = s(W_ii x + b_ii + W_hi h + b_hi)    f = s(W_if x + b_if + W_hf h + b_hf)
//     g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = s(W_io x + b_io + W_ho h + b_ho)
//     c' = f c + i g,  h' = o tanh(c')
//   gru (Cho et al. 2014), gates r, z, n:
//     r = s(W_ir x + b_ir + W_hr h + b_hr)    z = s(W_iz x + b_iz + W_hz h + b_hz)
//     linear_before_reset = 1 (PyTorch, default): n = tanh(W_in x + b_in + r (W_hn h + b_hn))
//     linear_before_reset = 0 (ONNX default):     n = tanh(W_in x + b_in + W_hn (r h) + b_hn)
//     h' = (1 - z) n + z h
// Pre-roll: the input's first `latency` frames are negative time (preroll.hpp): the state is not
// updated there and the output is 0, so the stream equals offline shifted by the latency.
#include <algorithm>
#include <cmath>

#include "rill/core/error.hpp"
#include "rill/core/op.hpp"
#include "rill/core/preroll.hpp"

#include "../kernels/mac.hpp"
#include "../kernels/rnn_cells.hpp"
#include "families.hpp"
#include "port_checks.hpp"

namespace rill {
namespace {

using rnn::GruCell;
using rnn::LstmCell;
using rnn::RnnWeights;

template <typename Cell> class RecurrentOp final : public Op {
public:
    RecurrentOp(RnnWeights weights, Cell cell) : w_(std::move(weights)), cell_(cell) {}

    std::unique_ptr<Op> clone() const override { return std::make_unique<RecurrentOp>(*this); }

    std::vector<PortInfo> plan(const std::vector<PortInfo>& inputs) override {
        ops::require_aligned(inputs);
        if (inputs[0].channels != w_.input)
            fail_format("input has " + std::to_string(inputs[0].channels) +
                        " channels but weight 'weight_ih' " + w_.w_ih.shape_string() +
                        " expects " + std::to_string(w_.input));
        preroll_.latency = inputs[0].latency;
        return {ops::port_like(inputs[0], static_cast<uint32_t>(w_.hidden))};
    }

    void prepare(Arena& arena, const PrepareInfo&) override {
        cell_.matvec = mac_kernels().matvec;
        preroll_.seen = arena.state<int64_t>(1);
        state_ = arena.state<float>(Cell::kStateVectors * w_.hidden);
        x_ = arena.scratch<float>(w_.input);
        scratch_ = arena.scratch<float>(Cell::scratch_floats(w_.hidden));
    }

    void process(const ConstView* in, const View* out, size_t n, size_t,
                 const ProcessContext&) noexcept override {
        const size_t skip = preroll_.consume(n);
        for (size_t c = 0; c < w_.hidden; ++c)
            std::fill_n(out[0].channel(static_cast<uint32_t>(c)), skip, 0.0f);
        for (size_t t = skip; t < n; ++t) {
            for (size_t c = 0; c < w_.input; ++c)
                x_[c] = in[0].channel(static_cast<uint32_t>(c))[t];
            cell_.step(w_, x_, state_, scratch_);
            for (size_t c = 0; c < w_.hidden; ++c)
                out[0].channel(static_cast<uint32_t>(c))[t] = state_[c];
        }
    }

private:
    RnnWeights w_;
    Cell cell_;
    PreRoll preroll_;
    float* state_ = nullptr;   // h (then c) (state)
    float* x_ = nullptr;       // input frame (scratch)
    float* scratch_ = nullptr; // gate pre-activations (scratch)
};

RnnWeights read_weights(const OpBuildContext& ctx, size_t gates) {
    ctx.expect_inputs(1, 1);
    const int64_t h = ctx.attr_int_required("hidden_size");
    if (h < 1 || h > (1 << 16))
        ctx.fail("attribute 'hidden_size' must be in 1..65536, got " + std::to_string(h));
    const int64_t rows = static_cast<int64_t>(gates) * h;
    RnnWeights w;
    w.hidden = static_cast<size_t>(h);
    w.w_ih = ctx.weight("weight_ih", {rows, -1});
    w.input = static_cast<size_t>(w.w_ih.shape[1]);
    if (w.input == 0)
        ctx.fail("weight 'weight_ih' has no input columns");
    w.w_hh = ctx.weight("weight_hh", {rows, h});
    const Tensor zeros = make_tensor({rows}, std::vector<float>(static_cast<size_t>(rows), 0.0f));
    const Tensor* b_ih = ctx.optional_weight("bias_ih", {rows});
    const Tensor* b_hh = ctx.optional_weight("bias_hh", {rows});
    w.b_ih = b_ih ? *b_ih : zeros;
    w.b_hh = b_hh ? *b_hh : zeros;
    return w;
}

std::unique_ptr<Op> make_lstm(const OpBuildContext& ctx) {
    return std::make_unique<RecurrentOp<LstmCell>>(read_weights(ctx, LstmCell::kGates), LstmCell{});
}

std::unique_ptr<Op> make_gru(const OpBuildContext& ctx) {
    const int64_t lbr = ctx.attr_int("linear_before_reset", 1);
    if (lbr != 0 && lbr != 1)
        ctx.fail("attribute 'linear_before_reset' must be 0 or 1, got " + std::to_string(lbr));
    GruCell cell;
    cell.linear_before_reset = lbr == 1;
    return std::make_unique<RecurrentOp<GruCell>>(read_weights(ctx, GruCell::kGates), cell);
}

} // namespace

void register_rnn_ops(OpRegistry& r) {
    r.add("lstm", make_lstm);
    r.add("gru", make_gru);
}

} // namespace rill
