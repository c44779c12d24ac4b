// A fixed-capacity lock-free ring for one producer thread and one consumer thread: the audio
// callback pushes (never blocks, never allocates; a full ring drops the item and says so), the
// display thread pops. Memory is taken at construction.
#pragma once

#include <atomic>
#include <cstddef>
#include <vector>

namespace rill::live {

template <typename T> class SpscRing {
public:
    explicit SpscRing(size_t capacity) : items_(capacity + 1) {}

    // Producer only. Returns false (item dropped) when the ring is full.
    bool push(const T& item) noexcept {
        const size_t tail = tail_.load(std::memory_order_relaxed);
        const size_t next = tail + 1 == items_.size() ? 0 : tail + 1;
        if (next == head_.load(std::memory_order_acquire))
            return false;
        items_[tail] = item;
        tail_.store(next, std::memory_order_release);
        return true;
    }

    // Consumer only. Returns false when the ring is empty.
    bool pop(T& item) noexcept {
        const size_t head = head_.load(std::memory_order_relaxed);
        if (head == tail_.load(std::memory_order_acquire))
            return false;
        item = items_[head];
        head_.store(head + 1 == items_.size() ? 0 : head + 1, std::memory_order_release);
        return true;
    }

private:
    std::vector<T> items_;
    std::atomic<size_t> head_{0}, tail_{0};
};

} // namespace rill::live
