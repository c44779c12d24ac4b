// The planner. For each node in topological order: resolve its inputs to buffers, align the
// latencies of inputs that share a rate by inserting delay lines on the faster ones (residual
// skips, parallel branches, gates, concatenations: DESIGN.md section 4), then let the op plan its
// outputs (channels, rate, latency). Graph outputs are aligned the same way so the model has ONE
// latency. The hop is the smallest input chunk that gives whole frames at every port.
#include "rill/core/model.hpp"

#include <algorithm>
#include <map>
#include <numeric>
#include <queue>
#include <set>

#include "rill/core/error.hpp"

namespace rill {
namespace {

uint64_t fnv1a(const std::string& s, uint64_t h = 1469598103934665603ull) {
    for (unsigned char c : s)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

std::vector<size_t> topological_order(const GraphDef& g) {
    std::map<std::string, size_t> index;
    for (size_t i = 0; i < g.nodes.size(); ++i)
        index[g.nodes[i].name] = i;
    std::set<std::string> input_names;
    for (const auto& p : g.inputs)
        input_names.insert(p.name);
    std::vector<size_t> indegree(g.nodes.size(), 0);
    std::vector<std::vector<size_t>> consumers(g.nodes.size());
    for (size_t i = 0; i < g.nodes.size(); ++i) {
        for (const auto& ref : g.nodes[i].inputs) {
            const auto [src, out] = split_output_ref(ref);
            if (input_names.count(ref))
                continue;
            auto it = index.find(src);
            if (it == index.end())
                fail_format("graph: node '" + g.nodes[i].name + "' reads '" + ref +
                            "', which is neither a graph input nor a node");
            ++indegree[i];
            consumers[it->second].push_back(i);
        }
    }
    std::queue<size_t> ready;
    for (size_t i = 0; i < g.nodes.size(); ++i)
        if (indegree[i] == 0)
            ready.push(i);
    std::vector<size_t> order;
    while (!ready.empty()) {
        const size_t i = ready.front();
        ready.pop();
        order.push_back(i);
        for (size_t c : consumers[i])
            if (--indegree[c] == 0)
                ready.push(c);
    }
    if (order.size() != g.nodes.size()) {
        std::string stuck;
        for (size_t i = 0; i < g.nodes.size(); ++i)
            if (indegree[i] > 0)
                stuck += (stuck.empty() ? "'" : ", '") + g.nodes[i].name + "'";
        fail_format("graph: cycle through nodes " + stuck);
    }
    return order;
}

std::unique_ptr<Op> build(const NodeDef& node, const TensorMap& tensors, const GraphDef& graph) {
    const OpFactory* factory = OpRegistry::instance().find(node.op);
    if (!factory) {
        std::string known;
        for (const auto& n : OpRegistry::instance().names())
            known += (known.empty() ? "" : ", ") + n;
        fail_format("node '" + node.name + "': unknown op '" + node.op + "' (known: " + known + ")");
    }
    OpBuildContext ctx{node, tensors, graph};
    return (*factory)(ctx);
}

std::string rate_string(const Rate& r) {
    return std::to_string(r.num) + "/" + std::to_string(r.den);
}

} // namespace

Model::Model(RillFile file, bool fold) : graph_(std::move(file.graph)), tensors_(std::move(file.tensors)) {
    for (const auto& [name, t] : tensors_)
        num_weights_ += static_cast<uint64_t>(t.numel());
    for (const auto& p : graph_.inputs) {
        if (p.sample_rate != graph_.inputs[0].sample_rate)
            fail_unsupported("graph: all inputs must share one sample rate");
        input_channels_ += p.channels;
    }
    plan();
    if (fold)
        fold_epilogues();
    std::string identity = graph_to_json(graph_).dump();
    for (const auto& [name, t] : tensors_)
        identity += name + t.shape_string();
    fingerprint_ = fnv1a(identity);
}

uint32_t Model::add_buffer(const PortInfo& p) {
    buffers_.push_back(BufferInfo{p.channels, p.rate, p.latency});
    return static_cast<uint32_t>(buffers_.size() - 1);
}

// Returns a buffer carrying `buffer`'s signal with latency raised to `latency` (a delay line).
uint32_t Model::aligned(uint32_t buffer, int64_t latency, const std::string& why) {
    const BufferInfo b = buffers_[buffer];
    if (b.latency == latency)
        return buffer;
    NodeDef node;
    node.name = "align(" + why + ")";
    node.op = "delay";
    node.inputs = {"_"};
    node.attrs = {{"frames", latency - b.latency}, {"align", true}};
    PlanStep step;
    step.name = node.name;
    step.op = node.op;
    step.proto = build(node, tensors_, graph_);
    step.ports.inputs = {PortInfo{b.channels, b.rate, b.latency}};
    step.ports.outputs = step.proto->plan(step.ports.inputs);
    step.in_buffers = {buffer};
    step.out_buffers = {add_buffer(step.ports.outputs.at(0))};
    steps_.push_back(std::move(step));
    return steps_.back().out_buffers[0];
}

void Model::plan() {
    std::map<std::string, uint32_t> named; // "node", "node:i", input names -> buffer
    for (const auto& p : graph_.inputs)
        named[p.name] = add_buffer(PortInfo{p.channels, Rate{}, 0});

    for (size_t index : topological_order(graph_)) {
        const NodeDef& node = graph_.nodes[index];
        PlanStep step;
        step.name = node.name;
        step.op = node.op;
        step.proto = build(node, tensors_, graph_);
        for (const auto& ref : node.inputs) {
            auto it = named.find(ref);
            if (it == named.end())
                fail_format("graph: node '" + node.name + "' reads '" + ref +
                            "', which that node does not produce");
            step.in_buffers.push_back(it->second);
        }
        // Align inputs that share a rate.
        for (size_t i = 0; i < step.in_buffers.size(); ++i) {
            const Rate r = buffers_[step.in_buffers[i]].rate;
            int64_t target = 0;
            for (uint32_t b : step.in_buffers) {
                if (buffers_[b].rate != r)
                    fail_format("graph: node '" + node.name + "' (" + node.op +
                                ") mixes inputs at rates " + rate_string(r) + " and " +
                                rate_string(buffers_[b].rate) +
                                " of the model rate; resample one branch first");
                target = std::max(target, buffers_[b].latency);
            }
            step.in_buffers[i] =
                aligned(step.in_buffers[i], target, node.name + "." + std::to_string(i));
        }
        for (uint32_t b : step.in_buffers)
            step.ports.inputs.push_back(
                PortInfo{buffers_[b].channels, buffers_[b].rate, buffers_[b].latency});
        try {
            step.ports.outputs = step.proto->plan(step.ports.inputs);
        } catch (const CoreError& e) {
            const std::string msg = e.what();
            if (msg.rfind("node '", 0) == 0)
                throw;
            throw CoreError(e.kind(), "node '" + node.name + "' (" + node.op + "): " + msg);
        }
        if (step.ports.outputs.size() != step.proto->num_outputs())
            throw CoreError(ErrorKind::Internal, "node '" + node.name + "': plan() returned " +
                                                 std::to_string(step.ports.outputs.size()) +
                                                 " outputs");
        for (size_t o = 0; o < step.ports.outputs.size(); ++o) {
            const PortInfo& p = step.ports.outputs[o];
            if (p.latency < 0 || p.rate.num <= 0 || p.rate.den <= 0 || p.channels == 0)
                throw CoreError(ErrorKind::Internal, "node '" + node.name + "': invalid planned port");
            const uint32_t b = add_buffer(p);
            step.out_buffers.push_back(b);
            named[o == 0 ? node.name : node.name + ":" + std::to_string(o)] = b;
        }
        steps_.push_back(std::move(step));
    }

    // Outputs: all at the model rate (for now), aligned to one latency.
    std::vector<uint32_t> out_buffers;
    int64_t latency = 0;
    for (auto& port : graph_.outputs) {
        auto it = named.find(port.source);
        if (it == named.end())
            fail_format("graph: output '" + port.name + "' reads '" + port.source +
                        "', which no node or input produces");
        const BufferInfo& b = buffers_[it->second];
        if (b.rate != Rate{})
            fail_unsupported("graph: output '" + port.name + "' runs at " + rate_string(b.rate) +
                             " of the input rate; outputs at other rates are not supported yet");
        if (b.channels != port.channels)
            fail_format("graph: output '" + port.name + "' declares " +
                        std::to_string(port.channels) + " channels but '" + port.source +
                        "' produces " + std::to_string(b.channels));
        port.sample_rate = sample_rate();
        out_buffers.push_back(it->second);
        latency = std::max(latency, b.latency);
    }
    for (size_t i = 0; i < out_buffers.size(); ++i) {
        const uint32_t b = aligned(out_buffers[i], latency, "output " + graph_.outputs[i].name);
        outputs_.push_back(OutputBinding{b, buffers_[b].channels});
        output_channels_ += buffers_[b].channels;
    }
    graph_latency_ = latency;

    hop_ = 1;
    for (const auto& b : buffers_) {
        hop_ = std::lcm(hop_, b.rate.den);
        if (hop_ > (1 << 20))
            fail_unsupported("graph: the rates of the graph need a hop above 2^20 frames");
    }
}

std::string Model::meta_string(const char* key) const {
    if (graph_.meta.contains(key) && graph_.meta[key].is_string())
        return graph_.meta[key].get<std::string>();
    return "";
}

} // namespace rill
