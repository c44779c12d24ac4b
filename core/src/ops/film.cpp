#include "rill/core/op.hpp"

#include "families.hpp"

namespace rill {

void register_film_ops(OpRegistry& r) {}

} // namespace rill
