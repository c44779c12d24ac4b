#include "alloc_counter.hpp"

#include <cstdlib>
#include <new>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
}

namespace {
// Initial-exec TLS of a trivial type: reading it never allocates.
thread_local bool t_counting = false;
} // namespace

namespace rill::alloc {
std::atomic<bool> g_enabled{false};
std::atomic<size_t> g_count{0};

ThreadScope::ThreadScope() {
    g_count = 0;
    t_counting = true;
}
ThreadScope::~ThreadScope() { t_counting = false; }
} // namespace rill::alloc

namespace {
inline void note() {
    if (t_counting || rill::alloc::g_enabled.load(std::memory_order_relaxed))
        rill::alloc::g_count.fetch_add(1, std::memory_order_relaxed);
}
} // namespace

extern "C" {
void* malloc(size_t n) {
    note();
    return __libc_malloc(n);
}
void* calloc(size_t n, size_t s) {
    note();
    return __libc_calloc(n, s);
}
void* realloc(void* p, size_t n) {
    note();
    return __libc_realloc(p, n);
}
void free(void* p) {
    if (p)
        note();
    __libc_free(p);
}
void* aligned_alloc(size_t a, size_t n) {
    note();
    return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
    note();
    *out = __libc_memalign(a, n);
    return *out ? 0 : 12;
}
}

void* operator new(size_t n) {
    void* p = malloc(n);
    if (!p)
        throw std::bad_alloc();
    return p;
}
void* operator new[](size_t n) { return operator new(n); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
