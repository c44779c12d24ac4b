// rwkv.cpp files -> Rill token graphs (import_rwkv.hpp). Per layer, with a = ln1(x), the token
// shift a_prev = delay(a, 1 frame):
//   v5.2: x_m = a_prev + (a - a_prev) * mix_m (m = k, v, r, g); r, k, v, g = W_m x_m;
//         att = rwkv5(r, k, v; w = time_decay, u = time_faaaa) per head;
//         x += W_o (group_norm_H(att, eps 1e-5) * silu(g))
//         ffn on b = ln2(x): x += sigmoid(W_r b_r) * W_v relu(W_k b_k)^2
//   v7:   x_m = a + (a_prev - a) * x_m (m = r, w, k, v, a, g); w = -0.606531 sigmoid(w0 +
//         W_w2 tanh(W_w1 x_w)); v mixed towards layer 0's v by sigmoid(v0 + W_v2 W_v1 x_v);
//         a = sigmoid(a0 + W_a2 W_a1 x_a); g = W_g2 sigmoid(W_g1 x_g); kk = l2norm_H(k * k_k);
//         k = k (1 + (a - 1) k_a); att = rwkv7(r, k, v, w, kk, a);
//         x += W_o ((group_norm_H(att, eps 64e-5) + (sum_head r k r_k) v) * g)
//         ffn: x += W_v relu(W_k (b + (b_prev - b) x_k))^2
// (rwkv.cpp stores the v5 decay as exp(-exp(time_decay)); the op takes time_decay itself.)
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "rill/core/error.hpp"
#include "rill/core/import_rwkv.hpp"

#include "rwkv_file.hpp"

namespace rill {
namespace {

using nlohmann::json;

class Builder {
public:
    explicit Builder(const rwkv::File& f) : f_(f) {}

    // A file tensor reshaped (same element count) to `shape`; returns its name.
    std::string weight(const std::string& name, std::vector<int64_t> shape) {
        const rwkv::FileTensor& t = f_.get(name);
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        if (n != int64_t(t.values.size()))
            fail_format("rwkv.cpp tensor '" + name + "' has " + std::to_string(t.values.size()) +
                        " values, expected " + std::to_string(n));
        if (!file_.tensors.count(name))
            file_.tensors[name] = make_tensor(std::move(shape), t.values);
        return name;
    }
    // A tensor made by the importer.
    std::string made(const std::string& name, std::vector<int64_t> shape,
                     std::vector<float> values) {
        file_.tensors[name] = make_tensor(std::move(shape), std::move(values));
        return name;
    }
    // Row r of a [rows, C] file tensor (x_rwkvag) as a [C] tensor.
    std::string row(const std::string& name, int64_t r, int64_t C) {
        const rwkv::FileTensor& t = f_.get(name);
        if (int64_t(t.values.size()) < (r + 1) * C)
            fail_format("rwkv.cpp tensor '" + name + "' is too small");
        const std::string out = name + "." + std::to_string(r);
        return made(out, {C},
                    std::vector<float>(t.values.begin() + r * C, t.values.begin() + (r + 1) * C));
    }

    std::string node(const std::string& name, const std::string& op,
                     std::vector<std::string> inputs, json attrs = json::object(),
                     std::map<std::string, std::string> weights = {}) {
        NodeDef n;
        n.name = name;
        n.op = op;
        n.inputs = std::move(inputs);
        n.attrs = std::move(attrs);
        n.weights = std::move(weights);
        file_.graph.nodes.push_back(std::move(n));
        return name;
    }
    std::string linear(const std::string& name, const std::string& x, const std::string& w,
                       int64_t out, int64_t in, const std::string& bias = "") {
        std::map<std::string, std::string> ws{{"weight", weight(w, {out, in})}};
        if (!bias.empty())
            ws["bias"] = weight(bias, {out});
        return node(name, "linear", {x}, json::object(), ws);
    }
    std::string layer_norm(const std::string& name, const std::string& x, const std::string& prefix,
                           int64_t C) {
        return node(
            name, "layer_norm", {x}, {{"eps", 1e-5}},
            {{"weight", weight(prefix + ".weight", {C})}, {"bias", weight(prefix + ".bias", {C})}});
    }
    std::string affine(const std::string& name, const std::string& x, const std::string& w,
                       const std::string& b = "", double scale = 1.0) {
        std::map<std::string, std::string> ws;
        if (!w.empty())
            ws["weight"] = w;
        if (!b.empty())
            ws["bias"] = b;
        return node(name, "affine", {x}, {{"scale", scale}}, ws);
    }
    std::string unary(const std::string& name, const std::string& op, const std::string& x) {
        return node(name, op, {x});
    }
    std::string binary(const std::string& name, const std::string& op, const std::string& a,
                       const std::string& b) {
        return node(name, op, {a, b});
    }

    // The shape of a file tensor (outermost first).
    const std::vector<int64_t>& shape(const std::string& name) const { return f_.get(name).shape; }
    const std::vector<float>& values(const std::string& name) const { return f_.get(name).values; }

    RillFile& file() { return file_; }

private:
    const rwkv::File& f_;
    RillFile file_;
};

struct Dims {
    int64_t C, H;
};

// Token blocks of 2 or more tokens (a prompt) run the attention in its chunkwise form; single
// tokens (generation) in its recurrent form.
constexpr int kChunkMinTokens = 2;

// x_m = base + (other - base) * mix, as affine + add.
std::string mix(Builder& b, const std::string& name, const std::string& base,
                const std::string& diff, const std::string& mix_weight) {
    return b.binary(name, "add", base, b.affine(name + ".d", diff, mix_weight));
}

void time_mix_v5(Builder& b, const Dims& d, const std::string& p, const std::string& n,
                 std::string& x) {
    const int64_t C = d.C;
    const std::string a = b.layer_norm(n + "ln1", x, p + "ln1", C);
    const std::string prev = b.node(n + "att_shift", "delay", {a}, {{"frames", 1}});
    const std::string diff = b.binary(n + "att_diff", "sub", a, prev);
    auto mixed = [&](const std::string& m) {
        return mix(b, n + "att_mix_" + m, prev, diff, b.weight(p + "att.time_mix_" + m, {C}));
    };
    const std::string r = b.linear(n + "att_r", mixed("r"), p + "att.receptance.weight", C, C);
    const std::string k = b.linear(n + "att_k", mixed("k"), p + "att.key.weight", C, C);
    const std::string v = b.linear(n + "att_v", mixed("v"), p + "att.value.weight", C, C);
    const std::string g = b.unary(
        n + "att_g", "silu", b.linear(n + "att_g.lin", mixed("g"), p + "att.gate.weight", C, C));
    // rwkv.cpp stores w = exp(-exp(time_decay)); the op takes time_decay = log(-log(w)).
    const std::vector<float>& w = b.values(p + "att.time_decay");
    if (int64_t(w.size()) != C)
        fail_format("rwkv.cpp tensor '" + p + "att.time_decay' has " + std::to_string(w.size()) +
                    " values, expected " + std::to_string(C));
    std::vector<float> raw(w.size());
    for (size_t e = 0; e < w.size(); ++e) {
        if (!(w[e] > 0.0f && w[e] < 1.0f))
            fail_format("rwkv.cpp tensor '" + p + "att.time_decay' holds a decay outside (0, 1)");
        raw[e] = float(std::log(-std::log(double(w[e]))));
    }
    const std::string att =
        b.node(n + "att", "linear_attention", {r, k, v},
               {{"variant", "rwkv5"}, {"heads", d.H}, {"chunk_min_frames", kChunkMinTokens}},
               {{"time_decay", b.made(n + "time_decay", {C}, raw)},
                {"time_first", b.weight(p + "att.time_faaaa", {C})}});
    const std::string gn =
        b.node(n + "att_ln_x", "group_norm", {att}, {{"groups", d.H}, {"eps", 1e-5}},
               {{"weight", b.weight(p + "att.ln_x.weight", {C})},
                {"bias", b.weight(p + "att.ln_x.bias", {C})}});
    const std::string o = b.linear(n + "att_out", b.binary(n + "att_gated", "mul", gn, g),
                                   p + "att.output.weight", C, C);
    x = b.binary(n + "att_res", "add", x, o);
}

void time_mix_v7(Builder& b, const Dims& d, const std::string& p, const std::string& n,
                 std::string& x, std::string& v_first) {
    const int64_t C = d.C;
    const std::string a = b.layer_norm(n + "ln1", x, p + "ln1", C);
    const std::string prev = b.node(n + "att_shift", "delay", {a}, {{"frames", 1}});
    const std::string diff = b.binary(n + "att_diff", "sub", prev, a);
    const char* names[6] = {"r", "w", "k", "v", "a", "g"};
    std::map<std::string, std::string> xm;
    for (int m = 0; m < 6; ++m)
        xm[names[m]] = mix(b, n + "att_mix_" + names[m], a, diff, b.row(p + "att.x_rwkvag", m, C));
    const int64_t Dw = b.shape(p + "att.w1")[0], Da = b.shape(p + "att.a1")[0],
                  Dg = b.shape(p + "att.g1")[0];
    const std::string r = b.linear(n + "att_r", xm["r"], p + "att.receptance.weight", C, C);
    const std::string w =
        b.affine(n + "att_w",
                 b.unary(n + "att_w.sig", "sigmoid",
                         b.linear(n + "att_w.2",
                                  b.unary(n + "att_w.tanh", "tanh",
                                          b.linear(n + "att_w.1", xm["w"], p + "att.w1", Dw, C)),
                                  p + "att.w2", C, Dw, p + "att.w0")),
                 "", "", -0.606531);
    const std::string k0 = b.linear(n + "att_k", xm["k"], p + "att.key.weight", C, C);
    std::string v = b.linear(n + "att_v", xm["v"], p + "att.value.weight", C, C);
    if (v_first.empty()) {
        v_first = v;
    } else {
        const int64_t Dv = b.shape(p + "att.v1")[0];
        const std::string gate = b.unary(
            n + "att_vmix", "sigmoid",
            b.linear(n + "att_vmix.2", b.linear(n + "att_vmix.1", xm["v"], p + "att.v1", Dv, C),
                     p + "att.v2", C, Dv, p + "att.v0"));
        v = b.binary(n + "att_v.mixed", "add", v,
                     b.binary(n + "att_v.pull", "mul",
                              b.binary(n + "att_v.towards", "sub", v_first, v), gate));
    }
    const std::string av =
        b.unary(n + "att_a", "sigmoid",
                b.linear(n + "att_a.2", b.linear(n + "att_a.1", xm["a"], p + "att.a1", Da, C),
                         p + "att.a2", C, Da, p + "att.a0"));
    const std::string g = b.linear(
        n + "att_g",
        b.unary(n + "att_g.sig", "sigmoid", b.linear(n + "att_g.1", xm["g"], p + "att.g1", Dg, C)),
        p + "att.g2", C, Dg);
    const std::string kk = b.node(n + "att_kk", "l2_norm",
                                  {b.affine(n + "att_kk.scaled", k0, b.weight(p + "att.k_k", {C}))},
                                  {{"groups", d.H}, {"eps", 1e-12}});
    // k (1 + (a - 1) k_a) = k + k (a k_a - k_a)
    std::vector<float> neg_ka = b.values(p + "att.k_a");
    for (float& e : neg_ka)
        e = -e;
    const std::string k =
        b.binary(n + "att_k.adj", "add", k0,
                 b.binary(n + "att_k.delta", "mul", k0,
                          b.affine(n + "att_k.scale", av, b.weight(p + "att.k_a", {C}),
                                   b.made(n + "neg_k_a", {C}, neg_ka))));
    const std::string att =
        b.node(n + "att", "linear_attention", {r, k, v, w, kk, av},
               {{"variant", "rwkv7"}, {"heads", d.H}, {"chunk_min_frames", kChunkMinTokens}});
    const std::string gn =
        b.node(n + "att_ln_x", "group_norm", {att}, {{"groups", d.H}, {"eps", 64e-5}},
               {{"weight", b.weight(p + "att.ln_x.weight", {C})},
                {"bias", b.weight(p + "att.ln_x.bias", {C})}});
    // Bonus (sum over each head of r k r_k) v, added after ln_x (so not the op's own r_k bonus,
    // which comes before any norm): per-head sums as a [H, C] linear holding r_k, spread back
    // over each head's channels by a [C, H] linear of ones.
    const int64_t K = C / d.H;
    const std::vector<float>& r_k = b.values(p + "att.r_k");
    if (int64_t(r_k.size()) != C)
        fail_format("rwkv.cpp tensor '" + p + "att.r_k' has " + std::to_string(r_k.size()) +
                    " values, expected " + std::to_string(C));
    std::vector<float> sum_w(size_t(d.H * C), 0.0f), spread_w(size_t(C * d.H), 0.0f);
    for (int64_t c = 0; c < C; ++c) {
        sum_w[size_t((c / K) * C + c)] = r_k[size_t(c)];
        spread_w[size_t(c * d.H + c / K)] = 1.0f;
    }
    const std::string head_sum =
        b.node(n + "att_rk.sum", "linear", {b.binary(n + "att_rk.prod", "mul", r, k)},
               json::object(), {{"weight", b.made(n + "r_k_sum", {d.H, C}, sum_w)}});
    const std::string spread = b.node(n + "att_rk.spread", "linear", {head_sum}, json::object(),
                                      {{"weight", b.made(n + "head_spread", {C, d.H}, spread_w)}});
    const std::string out =
        b.binary(n + "att_bonus", "add", gn, b.binary(n + "att_bonus.v", "mul", spread, v));
    const std::string o = b.linear(n + "att_out", b.binary(n + "att_gated", "mul", out, g),
                                   p + "att.output.weight", C, C);
    x = b.binary(n + "att_res", "add", x, o);
}

void channel_mix(Builder& b, const Dims& d, const std::string& p, const std::string& n,
                 std::string& x, bool v7) {
    const int64_t C = d.C, F = b.shape(p + "ffn.key.weight")[0];
    const std::string c = b.layer_norm(n + "ln2", x, p + "ln2", C);
    const std::string prev = b.node(n + "ffn_shift", "delay", {c}, {{"frames", 1}});
    std::string xk, out;
    if (v7) {
        xk = mix(b, n + "ffn_mix_k", c, b.binary(n + "ffn_diff", "sub", prev, c),
                 b.weight(p + "ffn.x_k", {C}));
    } else {
        const std::string diff = b.binary(n + "ffn_diff", "sub", c, prev);
        xk = mix(b, n + "ffn_mix_k", prev, diff, b.weight(p + "ffn.time_mix_k", {C}));
    }
    const std::string k =
        b.unary(n + "ffn_k", "relu", b.linear(n + "ffn_k.lin", xk, p + "ffn.key.weight", F, C));
    out = b.linear(n + "ffn_v", b.binary(n + "ffn_k2", "mul", k, k), p + "ffn.value.weight", C, F);
    if (!v7) {
        const std::string xr =
            mix(b, n + "ffn_mix_r", prev, n + "ffn_diff", b.weight(p + "ffn.time_mix_r", {C}));
        const std::string r =
            b.unary(n + "ffn_r", "sigmoid",
                    b.linear(n + "ffn_r.lin", xr, p + "ffn.receptance.weight", C, C));
        out = b.binary(n + "ffn_gated", "mul", r, out);
    }
    x = b.binary(n + "ffn_res", "add", x, out);
}

RillFile build(const rwkv::File& f) {
    Builder b(f);
    const bool v7 = f.has("blocks.0.att.r_k");
    if (!v7 && !f.has("blocks.0.att.time_faaaa"))
        fail_unsupported("this rwkv.cpp model is not RWKV v5.2 or v7 (v4, v5.1 and v6 files are "
                         "not supported)");
    Dims d;
    d.C = f.n_embed;
    d.H = v7 ? b.shape("blocks.0.att.r_k")[0] : b.shape("blocks.0.att.time_decay")[0];
    if (d.H < 1 || d.C % d.H != 0)
        fail_format("rwkv.cpp head count " + std::to_string(d.H) + " does not divide n_embed " +
                    std::to_string(d.C));
    RillFile& out = b.file();
    PortDef in;
    in.name = "tokens";
    in.kind = "frames";
    in.channels = 1;
    in.sample_rate = 1.0;
    out.graph.inputs.push_back(in);
    const int64_t V = f.n_vocab, C = d.C;
    std::string x = b.node("emb", "embedding", {"tokens"}, json::object(),
                           {{"weight", b.weight("emb.weight", {V, C})}});
    x = b.layer_norm("ln0", x, "blocks.0.ln0", C);
    std::string v_first;
    for (int64_t i = 0; i < int64_t(f.n_layer); ++i) {
        const std::string p = "blocks." + std::to_string(i) + ".",
                          n = "l" + std::to_string(i) + ".";
        if (v7)
            time_mix_v7(b, d, p, n, x, v_first);
        else
            time_mix_v5(b, d, p, n, x);
        channel_mix(b, d, p, n, x, v7);
    }
    x = b.layer_norm("ln_out", x, "ln_out", C);
    x = b.linear("head", x, "head.weight", V, C);
    PortDef o;
    o.name = "logits";
    o.kind = "frames";
    o.channels = uint32_t(V);
    o.source = x;
    out.graph.outputs.push_back(o);
    uint64_t parameters = 0; // as in the rwkv.cpp file (the graph adds a few derived tensors)
    for (const auto& t : f.tensors)
        parameters += t.second.values.size();
    out.graph.meta = {
        {"kind", "token_model"},
        {"architecture", v7 ? "rwkv7" : "rwkv5"},
        {"vocab", V},
        {"n_embed", C},
        {"n_layer", f.n_layer},
        {"heads", d.H},
        {"parameters", parameters},
        {"source", "rwkv.cpp model file"},
        {"description", std::string(v7 ? "RWKV-7" : "RWKV-5.2") +
                            " language model imported from rwkv.cpp: " + std::to_string(f.n_layer) +
                            " layers, d_model " + std::to_string(C) + ", " + std::to_string(d.H) +
                            " heads, vocabulary " + std::to_string(V)}};
    return std::move(out);
}

} // namespace

bool is_rwkv_cpp(const void* data, size_t size) {
    uint32_t magic = 0;
    if (size < 4)
        return false;
    std::memcpy(&magic, data, 4);
    return magic == rwkv::kMagic;
}

RillFile import_rwkv_cpp_memory(const void* data, size_t size) {
    return build(rwkv::read_file(data, size));
}

RillFile import_rwkv_cpp_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw CoreError(ErrorKind::Io, "cannot open '" + path + "'");
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
    return import_rwkv_cpp_memory(bytes.data(), bytes.size());
}

} // namespace rill
