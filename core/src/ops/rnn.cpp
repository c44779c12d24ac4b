#include "rill/core/op.hpp"

#include "families.hpp"

namespace rill {

void register_rnn_ops(OpRegistry& r) {}

} // namespace rill
