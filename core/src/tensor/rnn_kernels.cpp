// ONNX GRU and LSTM (layout 0): X [T, B, I], W [D, G H, I], R [D, G H, H], B [D, 2 G H],
// initial_h (and initial_c) [D, B, H]; outputs Y [T, D, B, H], Y_h (and Y_c) [D, B, H];
// direction forward, reverse or bidirectional (D = 2). Default activations only.
//   GRU gates z, r, h:  z = s(W_z x + R_z h + Wb_z + Rb_z),  r likewise,
//     h~ = tanh(W_h x + R_h (r h) + Rb_h + Wb_h)      (linear_before_reset = 0)
//     h~ = tanh(W_h x + r (R_h h + Rb_h) + Wb_h)      (linear_before_reset = 1)
//     h' = (1 - z) h~ + z h
//   LSTM gates i, o, f, c: c' = f c + i tanh(.), h' = o tanh(c'), with optional peepholes P
//     [D, 3 H] (i, o, f) unsupported.
// The cells are kernels/rnn_cells.hpp (PyTorch gate order); the weights are reordered at load.
#include "../kernels/mac.hpp"
#include "../kernels/rnn_cells.hpp"
#include "kernel.hpp"

namespace rill::tensor {
namespace {

// PyTorch gate block b comes from ONNX block order[b].
constexpr int64_t kGruOrder[] = {1, 0, 2};     // r, z, n  <- z, r, h
constexpr int64_t kLstmOrder[] = {0, 2, 3, 1}; // i, f, g, o <- i, o, f, c

Tensor reorder_rows(const float* src, int64_t gates, int64_t hidden, int64_t cols,
                    const int64_t* order) {
    std::vector<float> v(static_cast<size_t>(gates * hidden * cols));
    for (int64_t g = 0; g < gates; ++g)
        std::copy_n(src + order[g] * hidden * cols, hidden * cols, v.begin() + g * hidden * cols);
    return make_tensor({gates * hidden, cols}, std::move(v));
}

template <typename Cell> class OnnxRnnKernel final : public TensorKernel {
public:
    OnnxRnnKernel(std::vector<rnn::RnnWeights> dirs, Cell cell, bool reverse_only, int64_t t,
                  int64_t batch)
        : dirs_(std::move(dirs)), cell_(cell), reverse_only_(reverse_only), t_(t), b_(batch) {}

    size_t scratch_floats() const override {
        const size_t h = dirs_[0].hidden;
        return Cell::kStateVectors * h + Cell::scratch_floats(h);
    }

    void run(const float* const* in, float* const* out, float* scratch) const noexcept override {
        const int64_t d_count = static_cast<int64_t>(dirs_.size());
        const int64_t h = static_cast<int64_t>(dirs_[0].hidden), i_size = static_cast<int64_t>(dirs_[0].input);
        const float* init_h = in[5];
        const float* init_c = Cell::kStateVectors > 1 ? in[6] : nullptr;
        float* state = scratch;
        float* cell_scratch = scratch + Cell::kStateVectors * h;
        for (int64_t d = 0; d < d_count; ++d) {
            const bool reverse = reverse_only_ || d == 1;
            for (int64_t b = 0; b < b_; ++b) {
                const int64_t sb = (d * b_ + b) * h;
                for (int64_t k = 0; k < h; ++k) {
                    state[k] = init_h ? init_h[sb + k] : 0.0f;
                    if (Cell::kStateVectors > 1)
                        state[h + k] = init_c ? init_c[sb + k] : 0.0f;
                }
                for (int64_t s = 0; s < t_; ++s) {
                    const int64_t t = reverse ? t_ - 1 - s : s;
                    cell_.step(dirs_[static_cast<size_t>(d)], in[0] + (t * b_ + b) * i_size, state, cell_scratch);
                    if (out[0])
                        std::copy_n(state, h, out[0] + ((t * d_count + d) * b_ + b) * h);
                }
                if (out[1])
                    std::copy_n(state, h, out[1] + sb);
                if (Cell::kStateVectors > 1 && out[2])
                    std::copy_n(state + h, h, out[2] + sb);
            }
        }
    }

private:
    std::vector<rnn::RnnWeights> dirs_;
    Cell cell_;
    bool reverse_only_;
    int64_t t_, b_;
};

} // namespace

BuiltStep build_rnn(const StepSpec& s) {
    const bool lstm = s.op == "lstm";
    expect_step_inputs(s, 3, lstm ? 8 : 6);
    const int64_t gates = lstm ? 4 : 3;
    const int64_t hidden = attr_int(s.attrs, "hidden_size", 0);
    const std::string direction = attr_string(s.attrs, "direction", "forward");
    if (direction != "forward" && direction != "reverse" && direction != "bidirectional")
        fail_format(s.op + ": direction \"" + direction + "\"");
    const int64_t d_count = direction == "bidirectional" ? 2 : 1;
    const Shape& x = s.in_shapes[0];
    if (x.size() != 3)
        fail_format(s.op + ": X must be [T, B, I], got " + to_string(x));
    const int64_t t = x[0], batch = x[1], input = x[2];
    auto present = [&](size_t i) { return i < s.present.size() && s.present[i]; };
    for (size_t i : {1u, 2u, 3u})
        if (present(i) && !s.constants[i])
            fail_unsupported(s.op + ": weights computed at run time");
    if (present(4))
        fail_unsupported(s.op + ": sequence_lens (all sequences must have the full length)");
    if (lstm && present(7))
        fail_unsupported("lstm with peepholes (input P)");
    if (s.in_shapes[1] != Shape{d_count, gates * hidden, input})
        fail_format(s.op + ": W " + to_string(s.in_shapes[1]) + " does not match hidden_size " +
                    std::to_string(hidden) + ", input " + to_string(x) + " and direction " + direction);
    if (s.in_shapes[2] != Shape{d_count, gates * hidden, hidden})
        fail_format(s.op + ": R " + to_string(s.in_shapes[2]) + " must be [D, G H, H]");
    if (present(3) && s.in_shapes[3] != Shape{d_count, 2 * gates * hidden})
        fail_format(s.op + ": B " + to_string(s.in_shapes[3]) + " must be [D, 2 G H]");
    for (size_t i : {5u, 6u})
        if (present(i) && s.in_shapes[i] != Shape{d_count, batch, hidden})
            fail_format(s.op + ": initial state " + to_string(s.in_shapes[i]) + " must be [D, B, H]");
    const int64_t* order = lstm ? kLstmOrder : kGruOrder;
    const std::vector<float> zeros(static_cast<size_t>(2 * gates * hidden), 0.0f);
    std::vector<rnn::RnnWeights> dirs;
    for (int64_t d = 0; d < d_count; ++d) {
        rnn::RnnWeights w;
        w.hidden = static_cast<size_t>(hidden);
        w.input = static_cast<size_t>(input);
        w.w_ih = reorder_rows(s.constants[1] + d * gates * hidden * input, gates, hidden, input, order);
        w.w_hh = reorder_rows(s.constants[2] + d * gates * hidden * hidden, gates, hidden, hidden, order);
        const float* bias = present(3) ? s.constants[3] + d * 2 * gates * hidden : zeros.data();
        w.b_ih = reorder_rows(bias, gates, hidden, 1, order);
        w.b_hh = reorder_rows(bias + gates * hidden, gates, hidden, 1, order);
        dirs.push_back(std::move(w));
    }
    std::vector<Shape> outs = {{t, d_count, batch, hidden}, {d_count, batch, hidden}};
    const bool reverse_only = direction == "reverse";
    if (lstm) {
        outs.push_back({d_count, batch, hidden});
        rnn::LstmCell cell;
        cell.matvec = mac_kernels().matvec;
        return {std::make_shared<OnnxRnnKernel<rnn::LstmCell>>(std::move(dirs), cell, reverse_only, t, batch),
                outs};
    }
    rnn::GruCell cell;
    cell.matvec = mac_kernels().matvec;
    cell.linear_before_reset = attr_int(s.attrs, "linear_before_reset", 0) != 0;
    return {std::make_shared<OnnxRnnKernel<rnn::GruCell>>(std::move(dirs), cell, reverse_only, t, batch), outs};
}

} // namespace rill::tensor
