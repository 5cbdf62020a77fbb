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
extern thread_local std::size_t allocation_count;
inline constexpr bool counting_allocations = COSTRIX_COUNT_ALLOCATIONS;
}
