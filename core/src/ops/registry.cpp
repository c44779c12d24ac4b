#include "rill/core/error.hpp"
#include "rill/core/op.hpp"

#include "families.hpp"

namespace rill {

const OpRegistry& OpRegistry::instance() {
    static const OpRegistry registry = [] {
        OpRegistry r;
        register_conv_ops(r);
        register_linear_ops(r);
        register_stft_ops(r);
        register_norm_ops(r);
        register_activation_ops(r);
        register_softmax_ops(r);
        register_elementwise_ops(r);
        register_routing_ops(r);
        register_rnn_ops(r);
        register_film_ops(r);
        register_linear_attention_ops(r);
        register_global_linear_attention_ops(r);
        register_token_ops(r);
        register_tensor_program_ops(r);
        register_frame_ops(r);
        register_overlap_add_ops(r);
        register_image_normalize_ops(r);
        register_mask_smooth_ops(r);
        register_rms_norm_ops(r);
        register_hgrn_ops(r);
        register_rotary_ops(r);
        register_harmonic_prior_ops(r);
        register_group_mean_ops(r);
        return r;
    }();
    return registry;
}

void OpRegistry::add(const std::string& name, OpFactory factory) {
    if (!factories_.emplace(name, std::move(factory)).second)
        throw CoreError(ErrorKind::Internal, "op registered twice: " + name);
}

const OpFactory* OpRegistry::find(const std::string& name) const {
    auto it = factories_.find(name);
    return it == factories_.end() ? nullptr : &it->second;
}

std::vector<std::string> OpRegistry::names() const {
    std::vector<std::string> out;
    for (const auto& [name, factory] : factories_)
        out.push_back(name);
    return out;
}

} // namespace rill
