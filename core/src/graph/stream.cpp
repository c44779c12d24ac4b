#include "rill/core/stream.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "denormal_guard.hpp"
#include "rill/core/error.hpp"

namespace rill {
namespace {

constexpr uint32_t kStateMagic = 0x534c4952; // "RILS"
constexpr uint32_t kStateVersion = 2; // 2: the piece size joined the header

struct StateHeader {
    uint32_t magic;
    uint32_t version;
    uint64_t fingerprint;
    uint64_t state_bytes;
    uint64_t max_chunk;
    uint64_t piece; // with max_chunk, what the ops' state layout was prepared for
};

enum Counter { InFill = 0, OutFill = 1, OutSeen = 2, NumCounters = 3 };

} // namespace

Stream::Stream(std::shared_ptr<const Model> model, const StreamSpec& spec)
    : model_(std::move(model)), spec_(spec) {
    if (spec_.max_block_frames == 0 || spec_.max_block_frames > (1u << 24))
        fail_argument("max_block_frames must be in 1..16777216");
    const Model& m = *model_;
    const size_t hop = static_cast<size_t>(m.hop());
    max_chunk_ = (spec_.max_block_frames + hop - 1 + hop - 1) / hop * hop;
    piece_ = spec_.piece_frames ? std::min(max_chunk_, (spec_.piece_frames + hop - 1) / hop * hop)
                                : choose_piece(hop);

    for (const auto& p : m.graph().params)
        params_.push_back(p.default_value);
    for (const auto& step : m.steps())
        ops_.push_back(step.proto->clone());

    // Two passes over the same layout: sizing, then real.
    auto layout = [&](Arena& arena) {
        counters_ = arena.state<int64_t>(NumCounters);
        in_fifo_ = arena.state<float>(m.input_channels() * hop);
        out_fifo_ = arena.state<float>(m.output_channels() * hop);
        assign_buffers(arena);
        for (size_t s = 0; s < ops_.size(); ++s) {
            const PlanStep& step = m.steps()[s];
            PrepareInfo info = step.ports;
            info.max_input_frames =
                step.in_buffers.empty() ? piece_ : frames_at(step.in_buffers[0], piece_);
            info.max_output_frames = frames_at(step.out_buffers[0], piece_);
            info.model_sample_rate = m.sample_rate();
            const size_t mark = arena.mark();
            ops_[s]->prepare(arena, info);
            arena.rewind(mark);
        }
    };
    Arena sizing;
    layout(sizing);
    state_bytes_ = (sizing.state_bytes() + Arena::kAlign - 1) / Arena::kAlign * Arena::kAlign;
    scratch_bytes_ = (sizing.scratch_bytes() + Arena::kAlign - 1) / Arena::kAlign * Arena::kAlign;
    memory_ = static_cast<std::byte*>(
        std::aligned_alloc(Arena::kAlign, std::max<size_t>(Arena::kAlign, state_bytes_ + scratch_bytes_)));
    if (!memory_)
        throw std::bad_alloc();
    std::memset(memory_, 0, state_bytes_ + scratch_bytes_);
    Arena arena(memory_, state_bytes_, memory_ + state_bytes_, scratch_bytes_);
    layout(arena);

    step_inputs_.resize(ops_.size());
    step_outputs_.resize(ops_.size());
    for (size_t s = 0; s < ops_.size(); ++s) {
        const auto& step = m.steps()[s];
        for (uint32_t i = 0; i < step.in_buffers.size(); ++i) {
            step_inputs_[s].push_back(buffers_[step.in_buffers[i]]);
            if (whole_chunk(step.in_buffers[i]))
                boundaries_.push_back(Boundary{static_cast<uint32_t>(s), i, step.in_buffers[i], false});
        }
        for (uint32_t i = 0; i < step.out_buffers.size(); ++i) {
            step_outputs_[s].push_back(buffers_[step.out_buffers[i]]);
            if (whole_chunk(step.out_buffers[i]))
                boundaries_.push_back(Boundary{static_cast<uint32_t>(s), i, step.out_buffers[i], true});
        }
    }
    plan_handoffs();
    reset();
}

// A buffer read by one step only (not a whole-chunk buffer) is a hand-off: its consumer may
// name where its producer writes it (Op::input_destination), e.g. straight into a convolution's
// cache, which saves the consumer a copy per block.
void Stream::plan_handoffs() {
    const Model& m = *model_;
    std::vector<int> readers(m.buffers().size(), 0);
    for (const auto& step : m.steps())
        for (uint32_t b : step.in_buffers)
            ++readers[b];
    handoff_of_.assign(ops_.size(), -1);
    for (size_t s = 0; s < ops_.size(); ++s) {
        const auto& out = m.steps()[s].out_buffers;
        if (out.size() != 1 || readers[out[0]] != 1 || whole_chunk(out[0]))
            continue;
        for (size_t c = s + 1; c < ops_.size(); ++c) {
            const auto& in = m.steps()[c].in_buffers;
            const auto it = std::find(in.begin(), in.end(), out[0]);
            if (it == in.end())
                continue;
            handoff_of_[s] = static_cast<int32_t>(handoffs_.size());
            handoffs_.push_back(Handoff{static_cast<uint32_t>(c),
                                        static_cast<uint32_t>(it - in.begin()), out[0]});
            break;
        }
    }
}

Stream::~Stream() {
    ops_.clear(); // ops may own resources (FFT plans) that refer to the arena
    std::free(memory_);
}

size_t Stream::frames_at(uint32_t buffer, size_t input_frames) const {
    return static_cast<size_t>(model_->buffers()[buffer].rate.frames_for(static_cast<int64_t>(input_frames)));
}

bool Stream::whole_chunk(uint32_t buffer) const {
    const Model& m = *model_;
    if (buffer < m.graph().inputs.size())
        return true;
    for (const auto& o : m.outputs())
        if (o.buffer == buffer)
            return true;
    return false;
}

// The largest multiple of the hop (halving from the whole chunk) whose widest intermediate
// buffer fits kPieceBytes; at least one hop.
size_t Stream::choose_piece(size_t hop) const {
    const Model& m = *model_;
    auto widest = [&](size_t frames) {
        size_t bytes = 0;
        for (uint32_t b = 0; b < m.buffers().size(); ++b)
            bytes = std::max(bytes, m.buffers()[b].channels * frames_at(b, frames) * sizeof(float));
        return bytes;
    };
    size_t piece = max_chunk_;
    while (piece > hop && widest(piece) > kPieceBytes)
        piece = std::max(hop, (piece / 2 + hop - 1) / hop * hop);
    return piece;
}

// Buffers share scratch slots once their last reader has run (liveness over the fixed
// schedule), so memory grows with the graph's width, not its depth. The graph's inputs and
// outputs hold a whole chunk across all its pieces: each has a slot of its own.
void Stream::assign_buffers(Arena& arena) {
    const Model& m = *model_;
    const size_t n_buf = m.buffers().size(), n_steps = m.steps().size();
    std::vector<size_t> last_use(n_buf, 0);
    for (size_t s = 0; s < n_steps; ++s)
        for (uint32_t b : m.steps()[s].in_buffers)
            last_use[b] = std::max(last_use[b], s);
    for (uint32_t b = 0; b < n_buf; ++b)
        if (whole_chunk(b))
            last_use[b] = n_steps;
    struct Slot {
        float* data;
        size_t capacity;
        bool free;
    };
    std::vector<Slot> slots;
    std::vector<size_t> slot_of(n_buf, 0);
    auto place = [&](uint32_t b) {
        const size_t frames = std::max<size_t>(1, frames_at(b, whole_chunk(b) ? max_chunk_ : piece_));
        const size_t need = m.buffers()[b].channels * frames;
        size_t best = slots.size();
        for (size_t i = 0; i < slots.size() && !whole_chunk(b); ++i)
            if (slots[i].free && slots[i].capacity >= need &&
                (best == slots.size() || slots[i].capacity < slots[best].capacity))
                best = i;
        if (best == slots.size())
            slots.push_back(Slot{arena.scratch<float>(need), need, false});
        slots[best].free = false;
        slot_of[b] = best;
        buffers_[b] = View{slots[best].data, m.buffers()[b].channels, frames};
    };
    buffers_.assign(n_buf, View{});
    for (uint32_t b = 0; b < m.graph().inputs.size(); ++b)
        place(b);
    for (size_t s = 0; s < n_steps; ++s) {
        for (uint32_t b : m.steps()[s].out_buffers)
            place(b);
        for (uint32_t b : m.steps()[s].in_buffers)
            if (last_use[b] == s)
                slots[slot_of[b]].free = true;
        for (uint32_t b : m.steps()[s].out_buffers) // an output nobody reads
            if (last_use[b] == 0 && b >= m.graph().inputs.size())
                slots[slot_of[b]].free = true;
    }
}

void Stream::reset() noexcept {
    std::memset(memory_, 0, state_bytes_);
    counters_[OutFill] = model_->hop() - 1; // the output FIFO starts with hop-1 frames of silence
    for (auto& op : ops_)
        op->reset();
}

void Stream::set_param(uint32_t index, float value) noexcept {
    const ParamDef& p = model_->graph().params[index];
    params_[index] = std::clamp(value, p.min_value, p.max_value);
}

void Stream::run_graph(size_t frames) noexcept {
    for (size_t offset = 0; offset < frames; offset += piece_)
        run_piece(offset, std::min(piece_, frames - offset));
}

void Stream::run_piece(size_t offset, size_t frames) noexcept {
    for (const Boundary& b : boundaries_) {
        const View& whole = buffers_[b.buffer];
        float* at = whole.data + frames_at(b.buffer, offset);
        if (b.output)
            step_outputs_[b.step][b.slot].data = at;
        else
            step_inputs_[b.step][b.slot].data = at;
    }
    ProcessContext ctx;
    ctx.params = params_.data();
    const Model& m = *model_;
    for (size_t s = 0; s < ops_.size(); ++s) {
        const PlanStep& step = m.steps()[s];
        const size_t in_frames =
            step.in_buffers.empty() ? frames : frames_at(step.in_buffers[0], frames);
        const size_t out_frames = frames_at(step.out_buffers[0], frames);
        if (handoff_of_[s] >= 0) {
            const Handoff& h = handoffs_[static_cast<size_t>(handoff_of_[s])];
            View to = ops_[h.consumer]->input_destination(h.slot, out_frames);
            if (!to.data)
                to = buffers_[h.buffer];
            step_outputs_[s][0] = to;
            step_inputs_[h.consumer][h.slot] = to;
        }
        ops_[s]->process(step_inputs_[s].data(), step_outputs_[s].data(), in_frames, out_frames, ctx);
    }
    // Frames before the graph latency are "negative time": make them silent.
    const int64_t latency = m.graph_latency();
    if (counters_[OutSeen] < latency) {
        const size_t mute =
            static_cast<size_t>(std::min<int64_t>(latency - counters_[OutSeen], static_cast<int64_t>(frames)));
        for (const auto& o : m.outputs())
            for (uint32_t c = 0; c < o.channels; ++c)
                std::fill_n(buffers_[o.buffer].channel(c) + frames_at(o.buffer, offset), mute, 0.0f);
    }
    counters_[OutSeen] += static_cast<int64_t>(frames);
}

ProcessResult Stream::process(const float* const* in, float* const* out, size_t frames) noexcept {
    DenormalGuard denormals;
    const Model& m = *model_;
    const size_t hop = static_cast<size_t>(m.hop());
    const uint32_t n_in = m.input_channels(), n_out = m.output_channels();

    bool nonfinite = false;
    if (spec_.nonfinite != NonFinitePolicy::Pass)
        for (uint32_t c = 0; c < n_in && !nonfinite; ++c)
            for (size_t t = 0; t < frames; ++t)
                if (!std::isfinite(in[c][t])) {
                    nonfinite = true;
                    break;
                }
    if (nonfinite && spec_.nonfinite == NonFinitePolicy::Reject) {
        for (uint32_t c = 0; c < n_out; ++c)
            std::fill_n(out[c], frames, 0.0f);
        return ProcessResult::NonFiniteRejected;
    }

    // Gather FIFO + new input into the graph's input buffers (inputs are buffers 0..k-1).
    const size_t in_fill = static_cast<size_t>(counters_[InFill]);
    const size_t total = in_fill + frames;
    const size_t chunk = total / hop * hop;
    const size_t from_new = chunk > in_fill ? chunk - in_fill : 0;
    {
        uint32_t c_global = 0;
        for (size_t i = 0; i < m.graph().inputs.size(); ++i) {
            const View& dst = buffers_[i];
            for (uint32_t c = 0; c < dst.channels; ++c, ++c_global) {
                float* fifo = in_fifo_ + c_global * hop;
                float* d = dst.channel(c);
                const float* src = in[c_global];
                if (chunk > 0) {
                    std::copy_n(fifo, in_fill, d);
                    std::copy_n(src, from_new, d + in_fill);
                    std::copy_n(src + from_new, frames - from_new, fifo);
                } else {
                    std::copy_n(src, frames, fifo + in_fill);
                }
                if (nonfinite) { // policy Zero
                    float* s = chunk > 0 ? d : fifo + in_fill;
                    const size_t n = chunk > 0 ? chunk : frames;
                    for (size_t t = 0; t < n; ++t)
                        if (!std::isfinite(s[t]))
                            s[t] = 0.0f;
                    if (chunk > 0)
                        for (size_t t = 0; t < frames - from_new; ++t)
                            if (!std::isfinite(fifo[t]))
                                fifo[t] = 0.0f;
                }
            }
        }
    }
    counters_[InFill] = static_cast<int64_t>(total - chunk);
    if (chunk > 0)
        run_graph(chunk);

    // Output: FIFO contents, then the new graph output; what is left over goes to the FIFO.
    const size_t out_fill = static_cast<size_t>(counters_[OutFill]);
    const size_t available = out_fill + chunk; // >= frames by construction
    uint32_t c_global = 0;
    for (const auto& o : m.outputs()) {
        const View& src = buffers_[o.buffer];
        for (uint32_t c = 0; c < o.channels; ++c, ++c_global) {
            float* fifo = out_fifo_ + c_global * hop;
            const float* g = src.channel(c);
            float* dst = out[c_global];
            const size_t from_fifo = std::min(out_fill, frames);
            // Copy before writing dst: in and out may alias, and the FIFO may shift.
            std::copy_n(fifo, from_fifo, dst);
            std::copy_n(g, frames - from_fifo, dst + from_fifo);
            const size_t left = available - frames;
            if (out_fill > frames) {
                std::memmove(fifo, fifo + frames, (out_fill - frames) * sizeof(float));
                std::copy_n(g, chunk, fifo + out_fill - frames);
            } else {
                std::copy_n(g + (chunk - left), left, fifo);
            }
            for (size_t t = 0; t < frames; ++t)
                if (!std::isfinite(dst[t]))
                    dst[t] = 0.0f;
        }
    }
    counters_[OutFill] = static_cast<int64_t>(available - frames);
    return nonfinite ? ProcessResult::NonFiniteReplaced : ProcessResult::Ok;
}

size_t Stream::state_blob_size() const { return sizeof(StateHeader) + state_bytes_; }

void Stream::state_get(void* buffer) const noexcept {
    StateHeader h{kStateMagic, kStateVersion, model_->fingerprint(), state_bytes_, max_chunk_, piece_};
    std::memcpy(buffer, &h, sizeof h);
    std::memcpy(static_cast<std::byte*>(buffer) + sizeof h, memory_, state_bytes_);
}

bool Stream::state_set(const void* buffer, size_t size) noexcept {
    if (size != state_blob_size())
        return false;
    StateHeader h;
    std::memcpy(&h, buffer, sizeof h);
    if (h.magic != kStateMagic || h.version != kStateVersion ||
        h.fingerprint != model_->fingerprint() || h.state_bytes != state_bytes_ ||
        h.max_chunk != max_chunk_ || h.piece != piece_)
        return false;
    std::memcpy(memory_, static_cast<const std::byte*>(buffer) + sizeof h, state_bytes_);
    return true;
}

} // namespace rill
