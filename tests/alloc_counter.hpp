// Counts heap allocations made by the calling thread (tests/main.cpp replaces operator new).
#pragma once

#include <cstddef>

// Sanitizers bring their own operator new; counting is off under them.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define COSTRIX_COUNT_ALLOCATIONS 0
#else
#define COSTRIX_COUNT_ALLOCATIONS 1
#endif

namespace costrix::test {
/// Heap allocations the calling thread has made so far. A function, not the
/// thread_local itself: UBSan misreads an extern thread_local of another unit.
std::size_t allocations() noexcept;
inline constexpr bool counting_allocations = COSTRIX_COUNT_ALLOCATIONS;
}
