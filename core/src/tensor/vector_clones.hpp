// Hot element loops of the tensor kernels are compiled twice, for AVX2 and for the baseline,
// and the loader picks the version for the CPU (GCC function multiversioning): the loops keep
// their exact per-element arithmetic (no contraction or reassociation), so both versions give the
// same results.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define RILL_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RILL_VECTOR_CLONES
#endif
