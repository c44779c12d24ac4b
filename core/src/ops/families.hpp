// Registration functions of the op families, called once by OpRegistry::instance().
#pragma once

namespace rill {
class OpRegistry;
void register_conv_ops(OpRegistry& r);        // conv1d, conv_transpose1d, conv2d_ft,
                                              // conv_transpose2d_ft (ops/conv*.cpp)
void register_linear_ops(OpRegistry& r);      // linear (ops/linear.cpp)
void register_stft_ops(OpRegistry& r);        // stft, istft (ops/stft.cpp)
void register_norm_ops(OpRegistry& r);        // group/layer/channel/cumulative/batch norm
void register_activation_ops(OpRegistry& r);  // relu ... snake (ops/activation.cpp)
void register_softmax_ops(OpRegistry& r);     // softmax (ops/softmax.cpp)
void register_elementwise_ops(OpRegistry& r); // add, sub, mul, gate (ops/elementwise.cpp)
void register_routing_ops(OpRegistry& r);     // concat, split, slice, delay, identity
void register_rnn_ops(OpRegistry& r);         // lstm, gru (ops/rnn.cpp)
void register_film_ops(OpRegistry& r);        // film (ops/film.cpp)
void register_linear_attention_ops(OpRegistry& r); // linear_attention (ops/linear_attention.cpp)
void register_global_linear_attention_ops(OpRegistry& r); // global_linear_attention
void register_rms_norm_ops(OpRegistry& r);    // rms_norm (ops/rms_norm.cpp)
void register_hgrn_ops(OpRegistry& r);        // hgrn (ops/hgrn.cpp)
void register_rotary_ops(OpRegistry& r);      // rotary (ops/rotary.cpp)
void register_token_ops(OpRegistry& r);       // embedding, affine, l2_norm (ops/token_ops.cpp)
void register_tensor_program_ops(OpRegistry& r); // tensor_program (ops/tensor_program.cpp)
void register_frame_ops(OpRegistry& r);       // frame, hold (ops/frame.cpp)
void register_overlap_add_ops(OpRegistry& r); // overlap_add (ops/overlap_add.cpp)
void register_image_normalize_ops(OpRegistry& r); // image_normalize (ops/image_normalize.cpp)
void register_mask_smooth_ops(OpRegistry& r);     // mask_smooth (ops/mask_smooth.cpp)
void register_harmonic_prior_ops(OpRegistry& r);  // harmonic_prior (ops/harmonic_prior.cpp)
void register_group_mean_ops(OpRegistry& r);      // group_mean (ops/group_mean.cpp)
} // namespace rill
