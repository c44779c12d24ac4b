#include "program.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "../graph/denormal_guard.hpp"

namespace rill::tensor {
namespace {

std::map<std::string, const Tensor*> views(const TensorMap& constants) {
    std::map<std::string, const Tensor*> out;
    for (const auto& [name, t] : constants)
        out[name] = &t;
    return out;
}

Shape shape_of(const nlohmann::json& j, const std::string& where) {
    if (!j.contains("shape") || !j.at("shape").is_array())
        fail_format(where + ": needs a 'shape' list");
    Shape s;
    for (const auto& d : j.at("shape")) {
        if (!d.is_number_integer() || d.get<int64_t>() < 0)
            fail_format(where + ": shape entries must be integers >= 0");
        s.push_back(d.get<int64_t>());
    }
    return s;
}

std::string name_of(const nlohmann::json& j, const char* key, const std::string& where) {
    if (!j.is_object() || !j.contains(key) || !j.at(key).is_string())
        fail_format(where + ": needs a string '" + key + "'");
    return j.at(key).get<std::string>();
}

const nlohmann::json& list_of(const nlohmann::json& j, const char* key) {
    static const nlohmann::json empty = nlohmann::json::array();
    if (!j.contains(key))
        return empty;
    if (!j.at(key).is_array())
        fail_format(std::string("tensor program: '") + key + "' must be a list");
    return j.at(key);
}

// The attributes that tell steps of one op apart in a profile.
std::string label_of(const StepSpec& s, const Shape& out) {
    std::string r = s.op + " " + to_string(s.in_shapes.empty() ? Shape{} : s.in_shapes[0]);
    if (s.in_shapes.size() > 1 && s.constants.size() > 1 && s.constants[1])
        r += " w" + to_string(s.in_shapes[1]);
    for (const char* key : {"fn", "group", "strides", "dilations", "mode"})
        if (s.attrs.contains(key) && !(std::string(key) == "group" && s.attrs.at(key) == 1))
            r += std::string(" ") + key + "=" + s.attrs.at(key).dump();
    if (s.attrs.contains("activation"))
        r += " +" + attr_string(s.attrs.at("activation"), "fn", "");
    return r + " -> " + to_string(out);
}

} // namespace

int Program::define(const std::string& name, Shape shape, Kind kind) {
    if (name.empty())
        fail_format("tensor program: empty value name");
    if (by_name_.count(name))
        fail_format("tensor program: value '" + name + "' is defined twice");
    Value v;
    v.name = name;
    v.size = checked_numel(shape);
    v.shape = std::move(shape);
    v.kind = kind;
    values_.push_back(std::move(v));
    const int id = static_cast<int>(values_.size() - 1);
    by_name_[name] = id;
    return id;
}

int Program::find(const std::string& name, const std::string& where) const {
    const auto it = by_name_.find(name);
    if (it == by_name_.end())
        fail_format(where + ": value '" + name + "' is not defined before it is used");
    return it->second;
}

Program::Program(const nlohmann::json& desc, const TensorMap& constants) : Program(desc, views(constants)) {}

Program::Program(const nlohmann::json& desc, const std::map<std::string, const Tensor*>& constants) {
    if (!desc.is_object())
        fail_format("tensor program: attrs must be an object");
    for (const auto& [name, t] : constants) {
        const int id = define(name, t->shape, Kind::Constant);
        values_[id].constant = t->data;
    }
    for (const auto& j : list_of(desc, "inputs")) {
        const std::string name = name_of(j, "value", "tensor program input");
        inputs_.push_back(define(name, shape_of(j, "input '" + name + "'"), Kind::Input));
    }
    for (const auto& j : list_of(desc, "state")) {
        const std::string name = name_of(j, "value", "tensor program state");
        define(name, shape_of(j, "state '" + name + "'"), Kind::State);
    }
    size_t index = 0;
    for (const auto& j : list_of(desc, "steps")) {
        const std::string op = name_of(j, "op", "tensor program step " + std::to_string(index));
        const std::string where = "step " + std::to_string(index++) + " (" + op + ")";
        static const nlohmann::json no_attrs = nlohmann::json::object();
        const nlohmann::json& attrs = j.contains("attrs") ? j.at("attrs") : no_attrs;
        StepSpec spec{op, attrs, {}, {}, {}};
        Step step;
        for (const auto& in : list_of(j, "inputs")) {
            if (!in.is_string())
                fail_format(where + ": inputs must be value names");
            const std::string name = in.get<std::string>();
            if (name.empty()) {
                step.in.push_back(-1);
                spec.in_shapes.push_back({});
                spec.present.push_back(false);
                spec.constants.push_back(nullptr);
                continue;
            }
            const int v = find(name, where);
            step.in.push_back(v);
            spec.in_shapes.push_back(values_[v].shape);
            spec.present.push_back(true);
            spec.constants.push_back(values_[v].constant);
        }
        if (step.in.size() > kMaxPorts * 8 || (step.in.size() > kMaxPorts && op != "concat"))
            fail_format(where + ": too many inputs");
        BuiltStep built;
        try {
            built = build_step(spec);
        } catch (const CoreError& e) {
            throw CoreError(e.kind(), where + ": " + e.what());
        }
        const auto& outs = list_of(j, "outputs");
        if (outs.empty() || outs.size() > built.out_shapes.size())
            fail_format(where + ": names " + std::to_string(outs.size()) + " outputs, the op has " +
                        std::to_string(built.out_shapes.size()));
        for (size_t o = 0; o < built.out_shapes.size(); ++o) {
            const std::string name = o < outs.size() && outs[o].is_string() ? outs[o].get<std::string>() : "";
            if (name.empty()) {
                step.out.push_back(-1);
                continue;
            }
            const int v = define(name, built.out_shapes[o], Kind::Activation);
            if (!built.kernel)
                values_[v].alias = step.in[0];
            step.out.push_back(v);
        }
        if (step.out[0] < 0)
            fail_format(where + ": output 0 must be named");
        const size_t scratch = built.kernel ? built.kernel->scratch_floats() : 0;
        if (scratch > static_cast<size_t>(kMaxElements))
            fail_unsupported(where + ": needs more than 2^26 floats of scratch");
        scratch_floats_ = std::max(scratch_floats_, scratch);
        step.kernel = built.kernel;
        step.label = label_of(spec, built.out_shapes[0]);
        if (step.kernel)
            steps_.push_back(std::move(step));
    }
    for (const auto& j : list_of(desc, "outputs"))
        outputs_.push_back(find(name_of(j, "value", "tensor program output"), "tensor program output"));
    for (const auto& j : list_of(desc, "state")) {
        const int v = find(name_of(j, "value", "state"), "state");
        const int next = find(name_of(j, "next", "state '" + values_[v].name + "'"), "state");
        if (values_[next].size != values_[v].size)
            fail_format("state '" + values_[v].name + "' has " + std::to_string(values_[v].size) +
                        " elements, its next value '" + values_[next].name + "' " +
                        std::to_string(values_[next].size));
        if (values_[root(next)].kind == Kind::State || values_[root(next)].kind == Kind::Input ||
            values_[root(next)].kind == Kind::Constant)
            state_via_temp_ = true;
        state_.push_back({v, next});
        state_floats_ += static_cast<size_t>(values_[v].size);
    }
    if (inputs_.empty() || outputs_.empty())
        fail_format("tensor program: needs at least one input and one output");
    plan_activations();
}

void Program::plan_activations() {
    const size_t n = values_.size(), end = steps_.size();
    std::vector<size_t> first(n, end), last(n, 0);
    for (size_t i = 0; i < steps_.size(); ++i) {
        for (int v : steps_[i].out)
            if (v >= 0)
                first[static_cast<size_t>(root(v))] = std::min(first[static_cast<size_t>(root(v))], i);
        for (int v : steps_[i].in)
            if (v >= 0)
                last[static_cast<size_t>(root(v))] = std::max(last[static_cast<size_t>(root(v))], i);
    }
    for (int v : outputs_)
        last[static_cast<size_t>(root(v))] = end;
    for (const StateLink& l : state_)
        last[static_cast<size_t>(root(l.next))] = end;
    // Largest first, each at the lowest offset clear of the placed values it overlaps in time.
    std::vector<size_t> order;
    for (size_t v = 0; v < n; ++v)
        if (values_[v].kind == Kind::Activation && values_[v].alias < 0)
            order.push_back(v);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return values_[a].size > values_[b].size; });
    auto floats = [&](size_t v) {
        constexpr size_t kLine = Arena::kAlign / sizeof(float);
        return (static_cast<size_t>(std::max<int64_t>(values_[v].size, 1)) + kLine - 1) / kLine * kLine;
    };
    offset_.assign(n, 0);
    std::vector<size_t> placed;
    for (size_t v : order) {
        last[v] = std::max(last[v], first[v]);
        std::vector<std::pair<size_t, size_t>> taken; // [begin, end) of overlapping placed values
        for (size_t u : placed)
            if (first[u] <= last[v] && first[v] <= last[u])
                taken.push_back({offset_[u], offset_[u] + floats(u)});
        std::sort(taken.begin(), taken.end());
        size_t at = 0;
        for (const auto& [b, e] : taken) {
            if (at + floats(v) <= b)
                break;
            at = std::max(at, e);
        }
        offset_[v] = at;
        pool_floats_ = std::max(pool_floats_, at + floats(v));
        placed.push_back(v);
    }
}

void Program::take(Arena& arena, Buffers& b) const {
    b.value.assign(values_.size(), nullptr);
    float* pool = arena.scratch<float>(std::max<size_t>(pool_floats_, 1));
    for (size_t v = 0; v < values_.size(); ++v) {
        const Value& val = values_[v];
        const auto n = static_cast<size_t>(std::max<int64_t>(val.size, 1));
        if (val.kind == Kind::Constant)
            b.value[v] = const_cast<float*>(val.constant);
        else if (val.kind == Kind::State)
            b.value[v] = arena.state<float>(n);
        else if (val.alias >= 0)
            continue;
        else if (val.kind == Kind::Activation)
            b.value[v] = pool ? pool + offset_[v] : nullptr;
        else
            b.value[v] = arena.scratch<float>(n);
    }
    for (size_t v = 0; v < values_.size(); ++v)
        if (values_[v].alias >= 0)
            b.value[v] = b.value[static_cast<size_t>(root(static_cast<int>(v)))];
    b.scratch = arena.scratch<float>(std::max<size_t>(scratch_floats_, 1));
    b.state_temp = state_via_temp_ ? arena.scratch<float>(std::max<size_t>(state_floats_, 1)) : nullptr;
}

void Program::run_step(const Buffers& b, size_t index) const noexcept {
    const Step& s = steps_[index];
    const float* in[kMaxPorts * 8];
    float* out[kMaxPorts];
    const size_t n_in = std::max(s.in.size(), kMaxPorts);
    for (size_t i = 0; i < n_in && i < sizeof in / sizeof in[0]; ++i)
        in[i] = i < s.in.size() && s.in[i] >= 0 ? b.value[static_cast<size_t>(s.in[i])] : nullptr;
    for (size_t o = 0; o < kMaxPorts; ++o)
        out[o] = o < s.out.size() && s.out[o] >= 0 ? b.value[static_cast<size_t>(s.out[o])] : nullptr;
    s.kernel->run(in, out, b.scratch);
}

void Program::run(const Buffers& b) const noexcept {
    for (size_t i = 0; i < steps_.size(); ++i)
        run_step(b, i);
    if (state_via_temp_) {
        size_t off = 0;
        for (const StateLink& l : state_) {
            const auto n = static_cast<size_t>(values_[static_cast<size_t>(l.value)].size);
            std::memcpy(b.state_temp + off, b.value[static_cast<size_t>(l.next)], n * sizeof(float));
            off += n;
        }
        off = 0;
        for (const StateLink& l : state_) {
            const auto n = static_cast<size_t>(values_[static_cast<size_t>(l.value)].size);
            std::memcpy(b.value[static_cast<size_t>(l.value)], b.state_temp + off, n * sizeof(float));
            off += n;
        }
        return;
    }
    for (const StateLink& l : state_)
        std::memcpy(b.value[static_cast<size_t>(l.value)], b.value[static_cast<size_t>(l.next)],
                    static_cast<size_t>(values_[static_cast<size_t>(l.value)].size) * sizeof(float));
}

ProgramInstance::ProgramInstance(const Program& program) : program_(program) {
    Arena sizing;
    program.take(sizing, buffers_);
    state_.resize(sizing.state_bytes() + Arena::kAlign);
    scratch_.resize(sizing.scratch_bytes() + Arena::kAlign);
    auto aligned = [](std::vector<std::byte>& v) {
        const auto p = reinterpret_cast<uintptr_t>(v.data());
        return reinterpret_cast<std::byte*>((p + Arena::kAlign - 1) & ~uintptr_t(Arena::kAlign - 1));
    };
    Arena arena(aligned(state_), sizing.state_bytes(), aligned(scratch_), sizing.scratch_bytes());
    program.take(arena, buffers_);
}

void ProgramInstance::run() const noexcept {
    const DenormalGuard denormals;
    program_.run(buffers_);
}

std::string ProgramInstance::profile(int repeat) const {
    const DenormalGuard denormals;
    repeat = std::max(repeat, 1);
    std::vector<std::vector<double>> ms(program_.step_count());
    for (int r = 0; r < repeat; ++r)
        for (size_t i = 0; i < ms.size(); ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            program_.run_step(buffers_, i);
            ms[i].push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        }
    struct Row {
        double ms = 0;
        int count = 0;
    };
    std::map<std::string, Row> by_label;
    double total = 0;
    for (size_t i = 0; i < ms.size(); ++i) {
        std::nth_element(ms[i].begin(), ms[i].begin() + repeat / 2, ms[i].end());
        const double m = ms[i][static_cast<size_t>(repeat / 2)];
        by_label[program_.step_label(i)].ms += m;
        by_label[program_.step_label(i)].count += 1;
        total += m;
    }
    std::vector<std::pair<std::string, Row>> rows(by_label.begin(), by_label.end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
    char line[64];
    std::snprintf(line, sizeof line, "%8.3f ms  all %zu steps (sum of step medians)\n", total, ms.size());
    std::string r = line;
    for (const auto& [label, row] : rows) {
        std::snprintf(line, sizeof line, "%8.3f ms %5.1f%% %3dx  ", row.ms, 100 * row.ms / std::max(total, 1e-9), row.count);
        r += line + label + "\n";
    }
    return r;
}

ProgramInstance::Times ProgramInstance::time_runs(int repeat) const {
    const DenormalGuard denormals;
    std::vector<double> ms;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        program_.run(buffers_);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    if (ms.empty())
        return {};
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

} // namespace rill::tensor
