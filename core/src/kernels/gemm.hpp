// Small dense matrix products for the chunkwise linear-attention forms (and any op whose work is
// a product of matrices that fit in cache). Row-major, single thread, allocation-free:
//   C[m, n] (+)= sum_p A[m, p] * B[p, n],  m < M, n < N, p < P
// with leading dimensions lda, ldb, ldc (floats between rows). Two sets as for MacKernels: the
// scalar reference and an AVX2+FMA register-blocked kernel (4 x 16 tiles), chosen by
// mac_kernels().isa (RILL_FORCE_ISA=scalar forces the reference).
#pragma once

#include <cstddef>

#include "mac.hpp"

namespace rill {

struct GemmKernels {
    Isa isa;
    void (*gemm)(size_t M, size_t N, size_t P, const float* a, size_t lda, const float* b,
                 size_t ldb, float* c, size_t ldc, bool accumulate);
};

const GemmKernels& gemm_kernels();         // the set matching mac_kernels()
const GemmKernels& gemm_kernels(Isa isa);  // a given set

} // namespace rill
